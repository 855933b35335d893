//! The server's TLS: TLS 1.3 only (what Gatekeeper speaks), ALPN h2 and http/1.1, and with `--client-ca` client
//! certificates that are *asked for* in the handshake but not required there: the kubelet's probes of `/healthz`
//! bring none, so the admission paths require one per request instead ([`super::server`]). A certificate that is
//! presented must chain to the client CA, or the handshake fails.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use super::AdmissionError;

/// Largest PEM file read (a certificate chain or a CA bundle).
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// The rustls configuration for `cert` (PEM chain, leaf first) and `key` (PEM private key), with client
/// certificates checked against `client_ca` when given.
pub fn server_config(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<Arc<ServerConfig>, AdmissionError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let chain = certificates(cert)?;
    let key_der = private_key(key)?;
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| tls_error(cert, e))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = RootCertStore::empty();
            for certificate in certificates(ca)? {
                roots.add(certificate).map_err(|e| tls_error(ca, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| tls_error(ca, e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(chain, key_der).map_err(|e| tls_error(key, e))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn read_pem(path: &Path) -> Result<Vec<u8>, AdmissionError> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| tls_error(path, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1).read_to_end(&mut bytes).map_err(|e| tls_error(path, e))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(tls_error(path, format!("larger than {MAX_PEM_BYTES} bytes")));
    }
    Ok(bytes)
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, AdmissionError> {
    let bytes = read_pem(path)?;
    let certificates =
        rustls_pemfile::certs(&mut bytes.as_slice()).collect::<Result<Vec<_>, _>>().map_err(|e| tls_error(path, e))?;
    if certificates.is_empty() {
        return Err(tls_error(path, "no PEM CERTIFICATE in the file"));
    }
    Ok(certificates)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, AdmissionError> {
    let bytes = read_pem(path)?;
    rustls_pemfile::private_key(&mut bytes.as_slice())
        .map_err(|e| tls_error(path, e))?
        .ok_or_else(|| tls_error(path, "no PEM private key in the file"))
}

fn tls_error(path: &Path, reason: impl std::fmt::Display) -> AdmissionError {
    AdmissionError::Tls { path: path.to_path_buf(), reason: reason.to_string() }
}
