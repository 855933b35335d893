//! The signature algorithms nv2 speaks, as small closed enums, plus the public and private keys that use them.
//!
//! Every signature check in the core (envelopes, certificates, CRLs, timestamp tokens) goes through
//! [`PublicKey::verify`], so there is exactly one place where algorithm and key are matched.

mod public_key;
mod signing_key;

pub use public_key::PublicKey;
pub use signing_key::{KeyKind, SigningKey};

use alloc::string::String;
use alloc::vec::Vec;
use sha2::Digest as _;

/// Why a cryptographic operation failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The key material could not be decoded.
    #[error("malformed key: {0}")]
    MalformedKey(String),
    /// The key type or size is not one the Notary Project allows (for example RSA-1024 or secp256k1).
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),
    /// The scheme cannot be used with this key (an ECDSA scheme on an RSA key, a P-384 key with ES256, ...).
    #[error("algorithm {scheme} does not match the {key} key")]
    AlgorithmMismatch {
        /// The scheme requested.
        scheme: String,
        /// The key it was applied to.
        key: String,
    },
    /// The signature bytes are malformed or do not verify.
    #[error("signature does not verify")]
    BadSignature,
}

/// Digest algorithms used by the schemes below.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// Hashes `data` in one go.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// Output length in bytes (also the RSA-PSS salt length the Notary spec requires).
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// Name as used in OCI digests and in messages (`sha256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha256 => "sha256",
            HashAlgorithm::Sha384 => "sha384",
            HashAlgorithm::Sha512 => "sha512",
        }
    }
}

/// A verification scheme: how signature bytes relate to a message and a key. Envelope algorithms and X.509
/// signature algorithm identifiers both map onto this one enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// RSASSA-PKCS1-v1_5 (certificates and CRLs only; the Notary spec forbids it in envelopes).
    RsaPkcs1v15(HashAlgorithm),
    /// RSASSA-PSS with MGF1 over the same hash and the given salt length.
    RsaPss {
        /// Message and MGF1 hash.
        hash: HashAlgorithm,
        /// Salt length in bytes.
        salt_len: usize,
    },
    /// ECDSA with a fixed-size `r || s` signature (JWS, COSE).
    EcdsaFixed(HashAlgorithm),
    /// ECDSA with a DER `SEQUENCE { r, s }` signature (X.509, CMS).
    EcdsaDer(HashAlgorithm),
    /// Pure Ed25519.
    Ed25519,
}

impl core::fmt::Display for Scheme {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Scheme::RsaPkcs1v15(h) => write!(f, "RSA-PKCS1v1.5-{}", h.name()),
            Scheme::RsaPss { hash, .. } => write!(f, "RSA-PSS-{}", hash.name()),
            Scheme::EcdsaFixed(h) | Scheme::EcdsaDer(h) => write!(f, "ECDSA-{}", h.name()),
            Scheme::Ed25519 => f.write_str("Ed25519"),
        }
    }
}

/// An envelope signature algorithm (JWS `alg` / COSE `alg`). The Notary Project allows the PS* and ES* family;
/// [`SignatureAlgorithm::EdDsa`] is an nv2 extension that notation does not accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384.
    Es384,
    /// ECDSA P-521 with SHA-512.
    Es512,
    /// RSASSA-PSS with SHA-256 (RSA 2048).
    Ps256,
    /// RSASSA-PSS with SHA-384 (RSA 3072).
    Ps384,
    /// RSASSA-PSS with SHA-512 (RSA 4096).
    Ps512,
    /// Ed25519 (nv2 extension, outside the Notary Project specification: notation rejects it).
    EdDsa,
}

impl SignatureAlgorithm {
    /// Every algorithm, for tables and tests.
    pub const ALL: [SignatureAlgorithm; 7] = [
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
        SignatureAlgorithm::Ps256,
        SignatureAlgorithm::Ps384,
        SignatureAlgorithm::Ps512,
        SignatureAlgorithm::EdDsa,
    ];

    /// The JWS `alg` name.
    pub fn jws_name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Es256 => "ES256",
            SignatureAlgorithm::Es384 => "ES384",
            SignatureAlgorithm::Es512 => "ES512",
            SignatureAlgorithm::Ps256 => "PS256",
            SignatureAlgorithm::Ps384 => "PS384",
            SignatureAlgorithm::Ps512 => "PS512",
            SignatureAlgorithm::EdDsa => "EdDSA",
        }
    }

    /// Looks up a JWS `alg` name; `none`, HS256 and every other name give `None`.
    pub fn from_jws_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.jws_name() == name)
    }

    /// The COSE algorithm identifier (RFC 9053 / IANA).
    pub fn cose_id(self) -> i64 {
        match self {
            SignatureAlgorithm::Es256 => -7,
            SignatureAlgorithm::Es384 => -35,
            SignatureAlgorithm::Es512 => -36,
            SignatureAlgorithm::Ps256 => -37,
            SignatureAlgorithm::Ps384 => -38,
            SignatureAlgorithm::Ps512 => -39,
            SignatureAlgorithm::EdDsa => -8,
        }
    }

    /// Looks up a COSE algorithm identifier.
    pub fn from_cose_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.cose_id() == id)
    }

    /// The hash the algorithm signs with; also the hash notation uses for blob payload digests and timestamp
    /// requests. Ed25519 uses SHA-512 internally and SHA-256 for blob digests in nv2.
    pub fn hash(self) -> HashAlgorithm {
        match self {
            SignatureAlgorithm::Es256 | SignatureAlgorithm::Ps256 | SignatureAlgorithm::EdDsa => HashAlgorithm::Sha256,
            SignatureAlgorithm::Es384 | SignatureAlgorithm::Ps384 => HashAlgorithm::Sha384,
            SignatureAlgorithm::Es512 | SignatureAlgorithm::Ps512 => HashAlgorithm::Sha512,
        }
    }

    /// The verification scheme this envelope algorithm denotes.
    pub fn scheme(self) -> Scheme {
        match self {
            SignatureAlgorithm::Es256 | SignatureAlgorithm::Es384 | SignatureAlgorithm::Es512 => {
                Scheme::EcdsaFixed(self.hash())
            }
            SignatureAlgorithm::Ps256 | SignatureAlgorithm::Ps384 | SignatureAlgorithm::Ps512 => {
                Scheme::RsaPss { hash: self.hash(), salt_len: self.hash().output_len() }
            }
            SignatureAlgorithm::EdDsa => Scheme::Ed25519,
        }
    }

    /// Whether notation (and the Notary Project specification) accepts this algorithm.
    pub fn is_notary_standard(self) -> bool {
        self != SignatureAlgorithm::EdDsa
    }
}

impl core::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.jws_name())
    }
}
