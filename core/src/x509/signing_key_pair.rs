//! Pairing a private key with its signing certificate (what `notation key add` / `sign --key` rely on).
//!
//! RSA and P-521 private keys are recognised here even though nv2 itself signs only with P-256, P-384 and Ed25519:
//! a user's notation key must still be matched and reported precisely.

use super::chain::{check_leaf, ChainPurpose};
use super::{Certificate, ChainRule, X509Error};
use crate::crypto::{PublicKey, SigningKey};
use crate::time::Timestamp;
use alloc::format;
use alloc::vec::Vec;
use der::asn1::ObjectIdentifier as Oid;
use pkcs8::DecodePrivateKey;

const OID_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const OID_EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const OID_P521: Oid = Oid::new_unwrap("1.3.132.0.35");

/// Largest private key file accepted (an RSA-8192 PEM is about 6.5 KiB).
const MAX_KEY_BYTES: usize = 64 * 1024;

/// Checks that the private key (PEM `PRIVATE KEY` / `RSA PRIVATE KEY` / `EC PRIVATE KEY`, or the same as DER)
/// belongs to `cert`, and that `cert` is a valid Notary code-signing leaf at `at`.
pub fn check_signing_key_pair(key_pem_or_der: &[u8], cert: &Certificate, at: Timestamp) -> Result<(), X509Error> {
    let private_public = public_key_of_private_key(key_pem_or_der)?;
    let cert_public = cert.public_key()?;
    if private_public != cert_public {
        return Err(X509Error::KeyMismatch);
    }
    let fail = |rule: ChainRule| X509Error::Chain { index: 0, subject: cert.subject_string(), rule };
    check_leaf(cert, ChainPurpose::CodeSigning).map_err(fail)?;
    if at < cert.not_before() {
        return Err(fail(ChainRule::NotYetValid { not_before: cert.not_before(), at }));
    }
    if at > cert.not_after() {
        return Err(fail(ChainRule::Expired { not_after: cert.not_after(), at }));
    }
    Ok(())
}

fn key_error(what: &str, e: impl core::fmt::Display) -> X509Error {
    X509Error::PrivateKey(format!("{what}: {e}"))
}

/// The public half of a private key in any of the encodings above.
fn public_key_of_private_key(bytes: &[u8]) -> Result<PublicKey, X509Error> {
    if bytes.len() > MAX_KEY_BYTES {
        return Err(X509Error::TooLarge { what: "private key", size: bytes.len(), max: MAX_KEY_BYTES });
    }
    let text_start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    let trimmed = bytes.get(text_start..).unwrap_or(&[]);
    if trimmed.starts_with(b"-----BEGIN ") {
        let end = trimmed.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(0, |i| i + 1);
        let pem = trimmed.get(..end).unwrap_or(&[]);
        let (label, der) = der::pem::decode_vec(pem).map_err(|e| key_error("PEM", e))?;
        return match label {
            "PRIVATE KEY" => from_pkcs8(&der),
            "RSA PRIVATE KEY" => from_pkcs1(&der),
            "EC PRIVATE KEY" => from_sec1(&der),
            other => {
                Err(X509Error::PrivateKey(format!("unsupported PEM label {other:?} (encrypted keys are not read)")))
            }
        };
    }
    from_pkcs8(bytes).or_else(|_| from_pkcs1(bytes)).or_else(|_| from_sec1(bytes))
}

fn from_pkcs8(der: &[u8]) -> Result<PublicKey, X509Error> {
    let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| key_error("PKCS#8", e))?;
    let oid = info.algorithm.oid;
    if oid == OID_RSA {
        let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|e| key_error("RSA PKCS#8", e))?;
        return rsa_public(key);
    }
    let curve = info.algorithm.parameters_oid().ok();
    if oid == OID_EC && curve == Some(OID_P521) {
        let key = p521::SecretKey::from_pkcs8_der(der).map_err(|e| key_error("P-521 PKCS#8", e))?;
        return p521_public(&key);
    }
    SigningKey::from_pkcs8_der(der).map(|k| k.public_key()).map_err(|e| X509Error::PrivateKey(format!("{e}")))
}

fn from_pkcs1(der: &[u8]) -> Result<PublicKey, X509Error> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    let key = rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| key_error("RSA PKCS#1", e))?;
    rsa_public(key)
}

fn from_sec1(der: &[u8]) -> Result<PublicKey, X509Error> {
    if let Ok(k) = p256::SecretKey::from_sec1_der(der) {
        return Ok(PublicKey::P256(p256::ecdsa::VerifyingKey::from(k.public_key())));
    }
    if let Ok(k) = p384::SecretKey::from_sec1_der(der) {
        return Ok(PublicKey::P384(p384::ecdsa::VerifyingKey::from(k.public_key())));
    }
    let k = p521::SecretKey::from_sec1_der(der).map_err(|e| key_error("EC private key (SEC1)", e))?;
    p521_public(&k)
}

fn rsa_public(key: rsa::RsaPrivateKey) -> Result<PublicKey, X509Error> {
    Ok(PublicKey::Rsa(key.to_public_key()))
}

fn p521_public(key: &p521::SecretKey) -> Result<PublicKey, X509Error> {
    use p521::elliptic_curve::sec1::ToEncodedPoint;
    let point: Vec<u8> = key.public_key().to_encoded_point(false).as_bytes().to_vec();
    p521::ecdsa::VerifyingKey::from_sec1_bytes(&point)
        .map(PublicKey::P521)
        .map_err(|e| key_error("P-521 public point", e))
}
