//! Private keys nv2 signs with. Signing is deterministic (RFC 6979 for ECDSA, Ed25519 by construction), so the
//! core needs no randomness source; key generation takes its seed from the host.

use super::{CryptoError, PublicKey, SignatureAlgorithm};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use der::asn1::ObjectIdentifier;
use p256::ecdsa::signature::Signer as _;
use pkcs8::{DecodePrivateKey, EncodePrivateKey};

/// The key types nv2 can generate and sign with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// ECDSA P-256 (ES256), the default, accepted by notation.
    P256,
    /// ECDSA P-384 (ES384), accepted by notation.
    P384,
    /// Ed25519 (EdDSA): an nv2 extension that notation does not accept.
    Ed25519,
}

impl KeyKind {
    /// Number of random bytes [`SigningKey::from_seed`] needs.
    pub fn seed_len(self) -> usize {
        match self {
            KeyKind::P256 | KeyKind::Ed25519 => 32,
            KeyKind::P384 => 48,
        }
    }

    /// The name used on the command line and in messages.
    pub fn name(self) -> &'static str {
        match self {
            KeyKind::P256 => "p256",
            KeyKind::P384 => "p384",
            KeyKind::Ed25519 => "ed25519",
        }
    }
}

/// A private signing key.
#[derive(Clone)]
pub enum SigningKey {
    /// ECDSA P-256.
    P256(p256::ecdsa::SigningKey),
    /// ECDSA P-384.
    P384(p384::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl core::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SigningKey({})", self.kind().name())
    }
}

const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");

impl SigningKey {
    /// Derives a key from host-supplied random bytes (`kind.seed_len()` of them). The seed must come from a
    /// cryptographically secure source; the core has none of its own.
    pub fn from_seed(kind: KeyKind, seed: &[u8]) -> Result<Self, CryptoError> {
        if seed.len() != kind.seed_len() {
            return Err(CryptoError::MalformedKey(format!("{} seed must be {} bytes", kind.name(), kind.seed_len())));
        }
        let bad =
            |e: p256::elliptic_curve::Error| CryptoError::MalformedKey(format!("seed is not a valid scalar: {e}"));
        Ok(match kind {
            KeyKind::P256 => SigningKey::P256(
                p256::ecdsa::SigningKey::from_slice(seed).map_err(|_| bad(p256::elliptic_curve::Error))?,
            ),
            KeyKind::P384 => SigningKey::P384(
                p384::ecdsa::SigningKey::from_slice(seed).map_err(|_| bad(p256::elliptic_curve::Error))?,
            ),
            KeyKind::Ed25519 => {
                let bytes: &[u8; 32] = seed.try_into().map_err(|_| bad(p256::elliptic_curve::Error))?;
                SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(bytes))
            }
        })
    }

    /// Decodes a PKCS#8 `PrivateKeyInfo` (DER). RSA keys are recognised and refused with a clear reason.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, CryptoError> {
        let info =
            pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| CryptoError::MalformedKey(format!("PKCS#8: {e}")))?;
        let oid = info.algorithm.oid;
        let bad = |e: pkcs8::Error| CryptoError::MalformedKey(format!("PKCS#8: {e}"));
        if oid == OID_EC {
            if let Ok(k) = p256::ecdsa::SigningKey::from_pkcs8_der(der) {
                return Ok(SigningKey::P256(k));
            }
            return p384::ecdsa::SigningKey::from_pkcs8_der(der).map(SigningKey::P384).map_err(|_| {
                CryptoError::UnsupportedKey(String::from("EC private key on a curve other than P-256 or P-384"))
            });
        }
        if oid == OID_ED25519 {
            return ed25519_dalek::SigningKey::from_pkcs8_der(der).map(SigningKey::Ed25519).map_err(bad);
        }
        if oid == OID_RSA {
            return Err(CryptoError::UnsupportedKey(String::from(
                "RSA private keys can be verified against but nv2 signs with P-256, P-384 or Ed25519",
            )));
        }
        Err(CryptoError::UnsupportedKey(format!("private key algorithm {oid}")))
    }

    /// Decodes a PEM `PRIVATE KEY` (PKCS#8) document.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, CryptoError> {
        let (label, doc) =
            pkcs8::SecretDocument::from_pem(pem).map_err(|e| CryptoError::MalformedKey(format!("PEM: {e}")))?;
        if label != "PRIVATE KEY" {
            return Err(CryptoError::MalformedKey(format!("expected a PEM PRIVATE KEY (PKCS#8), found {label}")));
        }
        Self::from_pkcs8_der(doc.as_bytes())
    }

    /// Encodes the key as PKCS#8 DER (for a host to store with mode 0600).
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, CryptoError> {
        let doc = match self {
            SigningKey::P256(k) => k.to_pkcs8_der(),
            SigningKey::P384(k) => k.to_pkcs8_der(),
            SigningKey::Ed25519(k) => k.to_pkcs8_der(),
        }
        .map_err(|e| CryptoError::MalformedKey(format!("PKCS#8 encoding: {e}")))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// Encodes the key as a PEM `PRIVATE KEY` document.
    pub fn to_pkcs8_pem(&self) -> Result<String, CryptoError> {
        let der = self.to_pkcs8_der()?;
        der::pem::encode_string("PRIVATE KEY", der::pem::LineEnding::LF, &der)
            .map_err(|e| CryptoError::MalformedKey(format!("PEM encoding: {e}")))
    }

    /// The kind of key.
    pub fn kind(&self) -> KeyKind {
        match self {
            SigningKey::P256(_) => KeyKind::P256,
            SigningKey::P384(_) => KeyKind::P384,
            SigningKey::Ed25519(_) => KeyKind::Ed25519,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            SigningKey::P256(k) => PublicKey::P256(*k.verifying_key()),
            SigningKey::P384(k) => PublicKey::P384(*k.verifying_key()),
            SigningKey::Ed25519(k) => PublicKey::Ed25519(k.verifying_key()),
        }
    }

    /// The public key as DER `SubjectPublicKeyInfo` (what certificates embed).
    pub fn public_key_spki_der(&self) -> Result<Vec<u8>, CryptoError> {
        use spki::EncodePublicKey;
        let doc = match self {
            SigningKey::P256(k) => k.verifying_key().to_public_key_der(),
            SigningKey::P384(k) => k.verifying_key().to_public_key_der(),
            SigningKey::Ed25519(k) => k.verifying_key().to_public_key_der(),
        }
        .map_err(|e| CryptoError::MalformedKey(format!("SPKI encoding: {e}")))?;
        Ok(doc.as_bytes().to_vec())
    }

    /// The envelope algorithm this key signs with.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match self {
            SigningKey::P256(_) => SignatureAlgorithm::Es256,
            SigningKey::P384(_) => SignatureAlgorithm::Es384,
            SigningKey::Ed25519(_) => SignatureAlgorithm::EdDsa,
        }
    }

    /// Signs `message` deterministically; ECDSA signatures are fixed-size `r || s` as JWS and COSE require.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
            SigningKey::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                sig.to_bytes().to_vec()
            }
            SigningKey::Ed25519(k) => ed25519_dalek::Signer::sign(k, message).to_bytes().to_vec(),
        }
    }

    /// Signs `message` with a DER-encoded ECDSA signature (X.509 and CMS use DER); Ed25519 is unchanged.
    pub fn sign_der(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SigningKey::P256(k) => {
                let sig: p256::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            SigningKey::P384(k) => {
                let sig: p384::ecdsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
            SigningKey::Ed25519(_) => self.sign(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies_every_kind_deterministically() {
        for kind in [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519] {
            let seed: Vec<u8> = (1..=kind.seed_len() as u8).collect();
            let key = SigningKey::from_seed(kind, &seed).unwrap();
            let sig = key.sign(b"hello");
            assert_eq!(sig, key.sign(b"hello"), "deterministic");
            let public = PublicKey::from_spki_der(&key.public_key_spki_der().unwrap()).unwrap();
            assert_eq!(public, key.public_key());
            let scheme = key.algorithm().scheme();
            public.verify(scheme, b"hello", &sig).unwrap();
            assert_eq!(public.verify(scheme, b"hellp", &sig), Err(CryptoError::BadSignature));
            let again = SigningKey::from_pkcs8_pem(&key.to_pkcs8_pem().unwrap()).unwrap();
            assert_eq!(again.sign(b"x"), key.sign(b"x"));
            assert_eq!(public.notary_algorithm().unwrap(), key.algorithm());
        }
    }

    #[test]
    fn scheme_must_fit_key() {
        let key = SigningKey::from_seed(KeyKind::P256, &[7u8; 32]).unwrap();
        let sig = key.sign(b"m");
        let err = key.public_key().verify(SignatureAlgorithm::Ps256.scheme(), b"m", &sig).unwrap_err();
        assert!(matches!(err, CryptoError::AlgorithmMismatch { .. }));
        assert!(key.public_key().verify(SignatureAlgorithm::Es384.scheme(), b"m", &sig).is_err());
    }
}
