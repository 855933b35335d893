//! Why a timestamp token was refused. Each variant names one failed rule, so callers can tell a damaged token from
//! a token for another message, a forged one, or one from a TSA they do not trust.

use crate::crypto::{CryptoError, HashAlgorithm};
use crate::x509::X509Error;
use alloc::string::String;

/// Everything that can go wrong while parsing or verifying an RFC 3161 TimeStampToken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The token is larger than [`super::MAX_TOKEN_BYTES`].
    #[error("timestamp token is {size} bytes, more than the {max} allowed")]
    TooLarge {
        /// Size received.
        size: usize,
        /// The bound.
        max: usize,
    },
    /// The bytes are not DER of the expected ASN.1 structure.
    #[error("malformed timestamp token ({what}): {reason}")]
    Malformed {
        /// Which structure failed to decode.
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// A list inside the token (certificates, attributes, values, digest algorithms) is longer than its bound.
    #[error("timestamp token holds more than {max} {what}")]
    TooMany {
        /// What was counted.
        what: &'static str,
        /// The bound.
        max: usize,
    },
    /// The outer ContentInfo is not id-signedData.
    #[error("timestamp token is not CMS SignedData (content type {0})")]
    NotSignedData(String),
    /// The encapsulated content is not id-ct-TSTInfo (notation: "unexpected content type").
    #[error("unexpected content type: {0} (expected id-ct-TSTInfo)")]
    WrongContentType(String),
    /// The encapsulated content (the TSTInfo) is missing: a detached signature is not a timestamp token.
    #[error("timestamp token has no encapsulated TSTInfo")]
    MissingTstInfo,
    /// TSTInfo version other than v1.
    #[error("TSTInfo version must be 1, found {0}")]
    UnsupportedTstInfoVersion(u64),
    /// The token does not carry exactly one SignerInfo (RFC 3161 tokens have one signer, the TSA).
    #[error("timestamp token must have exactly one SignerInfo, found {0}")]
    SignerInfoCount(usize),
    /// The messageImprint uses a hash other than SHA-256/384/512.
    #[error("message imprint hash algorithm {0} is not SHA-256, SHA-384 or SHA-512")]
    UnsupportedImprintHash(String),
    /// The messageImprint uses a different hash than the caller requires (the signature algorithm's hash).
    #[error("message imprint uses {found:?} where {expected:?} is required")]
    UnexpectedImprintHash {
        /// The hash the caller requires.
        expected: HashAlgorithm,
        /// The hash in the token.
        found: HashAlgorithm,
    },
    /// The messageImprint is not the hash of the message: the token timestamps something else.
    #[error("invalid TSTInfo: mismatched message")]
    ImprintMismatch,
    /// The SignerInfo digest algorithm is not SHA-256/384/512.
    #[error("unsupported signer digest algorithm {0}")]
    UnsupportedDigestAlgorithm(String),
    /// The SignerInfo signature algorithm cannot be verified.
    #[error("unsupported signature algorithm: {0}")]
    UnsupportedSignatureAlgorithm(String),
    /// The SignerInfo has no signed attributes (RFC 3161 requires them: content-type, message-digest, ESS).
    #[error("SignerInfo has no signed attributes")]
    MissingSignedAttributes,
    /// A required signed attribute is absent.
    #[error("signed attribute {0} is missing")]
    MissingAttribute(&'static str),
    /// A signed attribute appears twice or has a number of values other than one.
    #[error("signed attribute {0} must appear once with exactly one value")]
    AmbiguousAttribute(&'static str),
    /// The content-type signed attribute does not say id-ct-TSTInfo.
    #[error("content-type signed attribute is {0}, not id-ct-TSTInfo")]
    AttributeContentTypeMismatch(String),
    /// The message-digest signed attribute is not the digest of the TSTInfo: the content was altered.
    #[error("message-digest signed attribute does not match the TSTInfo")]
    MessageDigestMismatch,
    /// No certificate in the token matches the SignerInfo's sid.
    #[error("signing certificate not found in the timestamp token")]
    NoSignerCertificate,
    /// The ESS signing-certificate(-v2) attribute does not identify the signer certificate.
    #[error("signing-certificate attribute does not match the signer certificate: {0}")]
    SigningCertificateMismatch(&'static str),
    /// Only the SHA-1 based ESS signing-certificate (v1) attribute is present; nv2 needs signing-certificate-v2.
    #[error("only the SHA-1 signing-certificate attribute is present; signing-certificate-v2 is required")]
    SigningCertificateV1Only,
    /// The signer certificate's public key cannot be used.
    #[error("TSA signer key: {0}")]
    SignerKey(X509Error),
    /// The CMS signature over the signed attributes does not verify.
    #[error("timestamp signature does not verify: {0}")]
    BadSignature(CryptoError),
    /// The TSA chain does not reach any of the trusted TSA roots.
    #[error("timestamp token's certificate chain does not lead to a trusted TSA root")]
    UntrustedTsaRoot,
    /// The TSA chain breaks a Notary Project timestamping certificate rule (at genTime).
    #[error("TSA certificate chain: {0}")]
    TsaChain(X509Error),
}
