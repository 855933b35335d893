//! Key and certificate encodings at the edge of the configuration directory: private keys in every form a user
//! may bring (PKCS#8 PEM or DER, SEC1 `EC PRIVATE KEY` PEM or DER), PEM output for what nv2 writes (notation reads
//! keys and chains with Go's `tls.LoadX509KeyPair`, which wants PEM), and the randomness the pure core leaves to
//! hosts: fresh keys and serial numbers.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use der::pem::LineEnding;
use der::Encode;
use nv2_core::crypto::{CryptoError, KeyKind, SigningKey};
use nv2_core::time::Timestamp;
use nv2_core::x509::Certificate;

use super::ConfigError;

/// Largest private key file accepted (an RSA-8192 PEM is about 6.5 KiB).
pub(crate) const MAX_KEY_BYTES: usize = 64 * 1024;
/// Largest certificate file accepted (a full chain of the largest certificates, base64-expanded).
pub(crate) const MAX_CERTIFICATE_FILE_BYTES: usize = 4 * 1024 * 1024;

/// How many fresh seeds are tried before giving up (a seed is refused only when it is not a valid scalar, which
/// for P-256 and P-384 happens with probability below 2^-32 per draw).
const SEED_ATTEMPTS: usize = 8;

/// "Now" from the system clock, for certificate validity and chain checks.
pub(crate) fn now() -> Timestamp {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    Timestamp::from_unix(i64::try_from(seconds).unwrap_or(i64::MAX))
}

/// A new random key of `kind`, seeded from the operating system's generator.
pub(crate) fn random_key(kind: KeyKind) -> Result<SigningKey, ConfigError> {
    let mut seed = vec![0u8; kind.seed_len()];
    for _ in 0..SEED_ATTEMPTS {
        getrandom::getrandom(&mut seed).map_err(ConfigError::Randomness)?;
        if let Ok(key) = SigningKey::from_seed(kind, &seed) {
            return Ok(key);
        }
    }
    Err(ConfigError::Randomness(getrandom::Error::UNEXPECTED))
}

/// A random positive 16-octet certificate serial number (RFC 5280 allows up to 20).
pub(crate) fn random_serial() -> Result<Vec<u8>, ConfigError> {
    let mut serial = vec![0u8; 16];
    getrandom::getrandom(&mut serial).map_err(ConfigError::Randomness)?;
    if let Some(first) = serial.first_mut() {
        *first = (*first & 0x7f) | 0x01;
    }
    Ok(serial)
}

/// Decodes a private key nv2 can sign with from PKCS#8 (`PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`), PEM or DER.
/// `origin` names the file in errors. RSA, P-521 and encrypted keys are refused with the reason.
pub(crate) fn parse_private_key(bytes: &[u8], origin: &Path) -> Result<SigningKey, ConfigError> {
    let malformed = |reason: String| ConfigError::MalformedKey { path: origin.to_path_buf(), reason };
    let unsupported = |reason: &str| ConfigError::UnsupportedKey { path: origin.to_path_buf(), reason: reason.into() };
    let trimmed = bytes.trim_ascii();
    if trimmed.starts_with(b"-----BEGIN ") {
        let (label, der) = der::pem::decode_vec(trimmed).map_err(|e| malformed(format!("PEM: {e}")))?;
        return match label {
            "PRIVATE KEY" => from_pkcs8(&der, origin),
            "EC PRIVATE KEY" => {
                from_sec1(&der).ok_or_else(|| malformed("not a P-256 or P-384 SEC1 EC private key".into()))
            }
            "RSA PRIVATE KEY" => Err(unsupported(RSA_UNSUPPORTED)),
            "ENCRYPTED PRIVATE KEY" => Err(unsupported("encrypted private keys are not supported, decrypt it first")),
            other => Err(malformed(format!("PEM block {other:?} is not a private key"))),
        };
    }
    match from_pkcs8(bytes, origin) {
        Err(ConfigError::MalformedKey { .. }) => {
            from_sec1(bytes).ok_or_else(|| malformed("neither a PKCS#8 nor a SEC1 private key (PEM or DER)".into()))
        }
        other => other,
    }
}

const RSA_UNSUPPORTED: &str = "RSA keys cannot be used for signing by nv2, which signs with P-256, P-384 or Ed25519";

fn from_pkcs8(der: &[u8], origin: &Path) -> Result<SigningKey, ConfigError> {
    SigningKey::from_pkcs8_der(der).map_err(|e| match e {
        CryptoError::UnsupportedKey(reason) => ConfigError::UnsupportedKey {
            path: origin.to_path_buf(),
            reason: if reason.starts_with("RSA") { RSA_UNSUPPORTED.into() } else { reason },
        },
        other => ConfigError::MalformedKey { path: origin.to_path_buf(), reason: other.to_string() },
    })
}

/// SEC1 `ECPrivateKey` for the curves nv2 signs with; the key length tells the curves apart and a curve
/// parameter, when present, must agree.
fn from_sec1(der: &[u8]) -> Option<SigningKey> {
    if let Ok(secret) = p256::SecretKey::from_sec1_der(der) {
        return Some(SigningKey::P256(p256::ecdsa::SigningKey::from(secret)));
    }
    p384::SecretKey::from_sec1_der(der).ok().map(|secret| SigningKey::P384(p384::ecdsa::SigningKey::from(secret)))
}

/// The key as the PKCS#8 PEM document nv2 writes (what notation's loader reads too).
pub(crate) fn private_key_pem(key: &SigningKey, destination: &Path) -> Result<String, ConfigError> {
    key.to_pkcs8_pem().map_err(|e| ConfigError::MalformedKey { path: destination.to_path_buf(), reason: e.to_string() })
}

/// Certificates as consecutive PEM `CERTIFICATE` blocks, in order (leaf first for a signing chain).
pub(crate) fn certificates_pem(certificates: &[Certificate], destination: &Path) -> Result<String, ConfigError> {
    let mut out = String::new();
    for certificate in certificates {
        let block = der::pem::encode_string("CERTIFICATE", LineEnding::LF, certificate.der()).map_err(|e| {
            ConfigError::Certificates {
                path: destination.to_path_buf(),
                source: nv2_core::x509::X509Error::Malformed { what: "PEM certificate", reason: e.to_string() }.into(),
            }
        })?;
        out.push_str(&block);
    }
    Ok(out)
}

/// A certificate's subject as RFC 4514 text that parses back to exactly the same DER name: every attribute is
/// written as `OID=#<DER hex>`, so string types (PrintableString, UTF8String, ...) survive. Issuing under a CA
/// needs this: the leaf's issuer must byte-equal the CA's subject, and a readable rendering loses string types.
pub(crate) fn exact_subject_text(certificate: &Certificate) -> Result<String, ConfigError> {
    let subject = &certificate.inner().tbs_certificate.subject;
    let mut rdns = Vec::with_capacity(subject.0.len());
    for rdn in subject.0.iter().rev() {
        let mut attributes = Vec::with_capacity(rdn.0.len());
        for attribute in rdn.0.iter() {
            let value = attribute.value.to_der().map_err(|e| ConfigError::Issue {
                subject: certificate.subject_string(),
                source: nv2_core::x509::X509Error::Malformed { what: "issuer name", reason: e.to_string() }.into(),
            })?;
            let hex: String = value.iter().map(|b| format!("{b:02x}")).collect();
            attributes.push(format!("{}=#{hex}", attribute.oid));
        }
        rdns.push(attributes.join("+"));
    }
    Ok(rdns.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nv2_core::x509::issue::{issue_self_signed, CertificateSpec};

    #[test]
    fn reads_pkcs8_and_sec1_keys_in_pem_and_der() {
        let origin = Path::new("/k.key");
        for kind in [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519] {
            let key = random_key(kind).unwrap();
            let pem = key.to_pkcs8_pem().unwrap();
            let der = key.to_pkcs8_der().unwrap();
            assert_eq!(parse_private_key(pem.as_bytes(), origin).unwrap().public_key(), key.public_key());
            assert_eq!(parse_private_key(&der, origin).unwrap().public_key(), key.public_key());
        }
        let secret = p256::SecretKey::from_slice(&[7u8; 32]).unwrap();
        let sec1_pem = secret.to_sec1_pem(LineEnding::LF).unwrap();
        let expected = SigningKey::from_seed(KeyKind::P256, &[7u8; 32]).unwrap().public_key();
        assert_eq!(parse_private_key(sec1_pem.as_bytes(), origin).unwrap().public_key(), expected);
        let sec1_der = secret.to_sec1_der().unwrap();
        assert_eq!(parse_private_key(&sec1_der, origin).unwrap().public_key(), expected);
        let secret = p384::SecretKey::from_slice(&[9u8; 48]).unwrap();
        let sec1_pem = secret.to_sec1_pem(LineEnding::LF).unwrap();
        assert_eq!(parse_private_key(sec1_pem.as_bytes(), origin).unwrap().kind(), KeyKind::P384);
    }

    #[test]
    fn refuses_garbage_rsa_and_encrypted_keys_naming_the_file() {
        let origin = Path::new("/keys/bad.key");
        for (input, unsupported) in [
            (&b"not a key"[..], false),
            (b"", false),
            (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", false),
            (b"-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", true),
            (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", true),
        ] {
            let err = parse_private_key(input, origin).unwrap_err();
            assert_eq!(matches!(err, ConfigError::UnsupportedKey { .. }), unsupported, "{err}");
            assert!(err.to_string().contains("/keys/bad.key"), "{err}");
        }
    }

    #[test]
    fn exact_subject_text_reproduces_the_name() {
        let key = random_key(KeyKind::P256).unwrap();
        let spec = CertificateSpec::ca("CN=Root,O=Ex\\, Inc.,ST=WA,C=US", now(), now().saturating_add(60), None);
        let cert = issue_self_signed(&spec, &key, &[1]).unwrap();
        let text = exact_subject_text(&cert).unwrap();
        let again = issue_self_signed(&CertificateSpec { subject: text, ..spec }, &key, &[1]).unwrap();
        assert_eq!(again.der(), cert.der());
    }

    #[test]
    fn writes_chains_as_pem_that_reads_back() {
        let key = random_key(KeyKind::P384).unwrap();
        let spec = CertificateSpec::ca("CN=R,O=O,ST=S,C=US", now(), now().saturating_add(60), None);
        let cert = issue_self_signed(&spec, &key, &random_serial().unwrap()).unwrap();
        let pem = certificates_pem(&[cert.clone(), cert.clone()], Path::new("/x.crt")).unwrap();
        assert_eq!(nv2_core::x509::parse_certificates(pem.as_bytes()).unwrap(), vec![cert.clone(), cert]);
        let reread = parse_private_key(private_key_pem(&key, Path::new("/x.key")).unwrap().as_bytes(), Path::new("/x"));
        assert_eq!(reread.unwrap().public_key(), key.public_key());
    }
}
