//! Public keys decoded from SubjectPublicKeyInfo DER, and the one signature-verification routine of the core.

use super::{CryptoError, HashAlgorithm, Scheme, SignatureAlgorithm};
use alloc::format;
use alloc::string::String;
use der::{asn1::ObjectIdentifier, Decode};
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use rsa::traits::PublicKeyParts;

const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Smallest and largest RSA moduli accepted anywhere (chains from public CAs reach 4096; 8192 bounds the work).
const RSA_MIN_BITS: usize = 2048;
const RSA_MAX_BITS: usize = 8192;

/// A public key of one of the types nv2 can verify with.
#[derive(Clone)]
pub enum PublicKey {
    /// NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
    /// NIST P-384.
    P384(p384::ecdsa::VerifyingKey),
    /// NIST P-521 (verification only).
    P521(p521::ecdsa::VerifyingKey),
    /// RSA, 2048 to 8192 bits (verification only).
    Rsa(rsa::RsaPublicKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey({})", self.describe())
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (PublicKey::P256(a), PublicKey::P256(b)) => a == b,
            (PublicKey::P384(a), PublicKey::P384(b)) => a == b,
            (PublicKey::P521(a), PublicKey::P521(b)) => a.to_encoded_point(false) == b.to_encoded_point(false),
            (PublicKey::Rsa(a), PublicKey::Rsa(b)) => a == b,
            (PublicKey::Ed25519(a), PublicKey::Ed25519(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for PublicKey {}

impl PublicKey {
    /// Decodes a DER `SubjectPublicKeyInfo`, refusing key types and sizes nv2 does not support.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, CryptoError> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| CryptoError::MalformedKey(format!("SubjectPublicKeyInfo: {e}")))?;
        let bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| CryptoError::MalformedKey(String::from("public key BIT STRING has unused bits")))?;
        let oid = spki.algorithm.oid;
        if oid == OID_RSA || oid == OID_RSA_PSS {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let key = rsa::RsaPublicKey::from_pkcs1_der(bits)
                .map_err(|e| CryptoError::MalformedKey(format!("RSA public key: {e}")))?;
            let size = key.n().bits();
            if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&size) {
                return Err(CryptoError::UnsupportedKey(format!("RSA-{size}")));
            }
            return Ok(PublicKey::Rsa(key));
        }
        if oid == OID_EC {
            let curve: ObjectIdentifier = spki
                .algorithm
                .parameters
                .as_ref()
                .ok_or_else(|| CryptoError::MalformedKey(String::from("EC key without a named curve")))?
                .decode_as()
                .map_err(|e| CryptoError::MalformedKey(format!("EC curve parameter: {e}")))?;
            let bad = |e: p256::ecdsa::Error| CryptoError::MalformedKey(format!("EC point: {e}"));
            return if curve == OID_P256 {
                p256::ecdsa::VerifyingKey::from_sec1_bytes(bits).map(PublicKey::P256).map_err(bad)
            } else if curve == OID_P384 {
                p384::ecdsa::VerifyingKey::from_sec1_bytes(bits).map(PublicKey::P384).map_err(bad)
            } else if curve == OID_P521 {
                p521::ecdsa::VerifyingKey::from_sec1_bytes(bits).map(PublicKey::P521).map_err(bad)
            } else {
                Err(CryptoError::UnsupportedKey(format!("EC curve {curve}")))
            };
        }
        if oid == OID_ED25519 {
            let bytes: [u8; 32] =
                bits.try_into().map_err(|_| CryptoError::MalformedKey(String::from("Ed25519 key is not 32 bytes")))?;
            return ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                .map(PublicKey::Ed25519)
                .map_err(|e| CryptoError::MalformedKey(format!("Ed25519 point: {e}")));
        }
        Err(CryptoError::UnsupportedKey(format!("key algorithm {oid}")))
    }

    /// A short human name of the key type and size (`RSA-2048`, `P-256`, `Ed25519`).
    pub fn describe(&self) -> String {
        match self {
            PublicKey::P256(_) => String::from("P-256"),
            PublicKey::P384(_) => String::from("P-384"),
            PublicKey::P521(_) => String::from("P-521"),
            PublicKey::Rsa(k) => format!("RSA-{}", k.n().bits()),
            PublicKey::Ed25519(_) => String::from("Ed25519"),
        }
    }

    /// The one envelope algorithm the Notary spec derives from this key (RSA 2048/3072/4096 → PS256/384/512,
    /// P-256/384/521 → ES256/384/512; Ed25519 → EdDSA as an nv2 extension). Envelopes whose `alg` differs are
    /// refused, which closes algorithm-substitution attacks.
    pub fn notary_algorithm(&self) -> Result<SignatureAlgorithm, CryptoError> {
        Ok(match self {
            PublicKey::P256(_) => SignatureAlgorithm::Es256,
            PublicKey::P384(_) => SignatureAlgorithm::Es384,
            PublicKey::P521(_) => SignatureAlgorithm::Es512,
            PublicKey::Ed25519(_) => SignatureAlgorithm::EdDsa,
            PublicKey::Rsa(k) => match k.n().bits() {
                2048 => SignatureAlgorithm::Ps256,
                3072 => SignatureAlgorithm::Ps384,
                4096 => SignatureAlgorithm::Ps512,
                other => return Err(CryptoError::UnsupportedKey(format!("RSA-{other} for a signing key"))),
            },
        })
    }

    /// Verifies `signature` over `message` with `scheme`. The scheme must fit the key type.
    pub fn verify(&self, scheme: Scheme, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let mismatch = || CryptoError::AlgorithmMismatch { scheme: format!("{scheme}"), key: self.describe() };
        match (self, scheme) {
            (PublicKey::Rsa(key), Scheme::RsaPkcs1v15(hash)) => {
                let hashed = hash.digest(message);
                let padding = match hash {
                    HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<sha2::Sha384>(),
                    HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                key.verify(padding, &hashed, signature).map_err(|_| CryptoError::BadSignature)
            }
            (PublicKey::Rsa(key), Scheme::RsaPss { hash, salt_len }) => {
                let hashed = hash.digest(message);
                let padding = match hash {
                    HashAlgorithm::Sha256 => rsa::Pss::new_with_salt::<sha2::Sha256>(salt_len),
                    HashAlgorithm::Sha384 => rsa::Pss::new_with_salt::<sha2::Sha384>(salt_len),
                    HashAlgorithm::Sha512 => rsa::Pss::new_with_salt::<sha2::Sha512>(salt_len),
                };
                key.verify(padding, &hashed, signature).map_err(|_| CryptoError::BadSignature)
            }
            (PublicKey::P256(key), Scheme::EcdsaFixed(hash) | Scheme::EcdsaDer(hash)) => {
                let sig = match scheme {
                    Scheme::EcdsaFixed(_) => p256::ecdsa::Signature::from_slice(signature),
                    _ => p256::ecdsa::Signature::from_der(signature),
                }
                .map_err(|_| CryptoError::BadSignature)?;
                key.verify_prehash(&hash.digest(message), &sig).map_err(|_| CryptoError::BadSignature)
            }
            (PublicKey::P384(key), Scheme::EcdsaFixed(hash) | Scheme::EcdsaDer(hash)) => {
                let sig = match scheme {
                    Scheme::EcdsaFixed(_) => p384::ecdsa::Signature::from_slice(signature),
                    _ => p384::ecdsa::Signature::from_der(signature),
                }
                .map_err(|_| CryptoError::BadSignature)?;
                key.verify_prehash(&hash.digest(message), &sig).map_err(|_| CryptoError::BadSignature)
            }
            (PublicKey::P521(key), Scheme::EcdsaFixed(hash) | Scheme::EcdsaDer(hash)) => {
                let sig = match scheme {
                    Scheme::EcdsaFixed(_) => p521::ecdsa::Signature::from_slice(signature),
                    _ => p521::ecdsa::Signature::from_der(signature),
                }
                .map_err(|_| CryptoError::BadSignature)?;
                key.verify_prehash(&hash.digest(message), &sig).map_err(|_| CryptoError::BadSignature)
            }
            (PublicKey::Ed25519(key), Scheme::Ed25519) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| CryptoError::BadSignature)?;
                key.verify_strict(message, &sig).map_err(|_| CryptoError::BadSignature)
            }
            _ => Err(mismatch()),
        }
    }
}
