//! TLS via rustls from PEM certificate-chain and private-key files (loopback may stay plain HTTP).

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// Largest PEM file read.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// Why TLS could not be configured.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {0}: {1}")]
    Read(String, std::io::Error),
    /// The certificate file has no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(String),
    /// The key file has no private key.
    #[error("{0} holds no PEM private key")]
    NoKey(String),
    /// rustls refused the pair.
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    let name = path.display().to_string();
    let len = std::fs::metadata(path).map_err(|e| TlsError::Read(name.clone(), e))?.len();
    if len > MAX_PEM_BYTES {
        return Err(TlsError::Read(name, std::io::Error::other("file too large")));
    }
    std::fs::read(path).map_err(|e| TlsError::Read(name, e))
}

/// Builds an acceptor offering HTTP/2 and HTTP/1.1 by ALPN.
pub fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    let cert_pem = read(cert)?;
    let certs: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut cert_pem.as_slice()).filter_map(Result::ok).collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(cert.display().to_string()));
    }
    let key_pem = read(key)?;
    let key: PrivateKeyDer<'static> = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .ok()
        .flatten()
        .ok_or_else(|| TlsError::NoKey(key.display().to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
