//! Why a certificate, a chain, a trust-store entry, a key pair or a CRL was refused.

use crate::crypto::CryptoError;
use crate::time::Timestamp;
use alloc::string::String;

/// Everything that can go wrong in [`crate::x509`]. Chain failures carry the position and subject of the offending
/// certificate and the [`ChainRule`] it broke, so callers can map them onto verdicts (expiry versus integrity).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum X509Error {
    /// The input exceeds a size bound from [`crate::limits`].
    #[error("{what} is {size} bytes, more than the {max} allowed")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The bound.
        max: usize,
    },
    /// The bytes are not a well-formed DER certificate (or CRL) as RFC 5280 describes it.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The decoder's complaint.
        reason: String,
    },
    /// A PEM block has a label other than `CERTIFICATE`.
    #[error("PEM block labelled {0:?} where a CERTIFICATE was expected")]
    UnexpectedPemLabel(String),
    /// The input holds no certificate at all (empty, or only text outside PEM blocks).
    #[error("no certificate found")]
    NoCertificate,
    /// More certificates than [`crate::limits::MAX_CHAIN_LENGTH`].
    #[error("more than {max} certificates")]
    TooManyCertificates {
        /// The bound.
        max: usize,
    },
    /// A certificate carries the same extension twice (Go's parser, and so notation, refuses these).
    #[error("extension {0} appears more than once")]
    DuplicateExtension(String),
    /// The signature algorithm inside the signed part differs from the outer one.
    #[error("inner and outer signature algorithm identifiers differ")]
    SignatureAlgorithmMismatch,
    /// The object is signed with a SHA-1 based algorithm, which the Notary Project forbids.
    #[error("SHA-1 based signature algorithm {0} is not allowed")]
    Sha1Signature(String),
    /// A signature algorithm nv2 does not verify (MD5, DSA, unknown OIDs, PSS with odd parameters).
    #[error("unsupported signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),
    /// The public key could not be used (malformed, unsupported type or size, or not fitting the algorithm).
    #[error("public key: {0}")]
    Key(CryptoError),
    /// The signature does not verify under the issuer's key.
    #[error("signature does not verify")]
    BadSignature,
    /// A chain with no certificate.
    #[error("certificate chain is empty")]
    EmptyChain,
    /// A certificate broke a Notary Project chain rule.
    #[error("certificate {index} ({subject}): {rule}")]
    Chain {
        /// Position in the chain, 0 = leaf.
        index: usize,
        /// RFC 4514 subject of that certificate.
        subject: String,
        /// The rule broken.
        rule: ChainRule,
    },
    /// A trust store certificate is neither a CA certificate nor self-signed (`ca`, `signingAuthority` stores).
    #[error("certificate {subject} is not a CA certificate or self-signed signing certificate")]
    NotCaOrSelfSigned {
        /// RFC 4514 subject.
        subject: String,
    },
    /// A certificate that must be a root CA certificate (`tsa` stores, `--timestamp-root-cert`) is not one.
    #[error("certificate {subject} is not a root CA certificate: {reason}")]
    NotRootCertificate {
        /// RFC 4514 subject.
        subject: String,
        /// Why not.
        reason: String,
    },
    /// A file that must hold exactly one certificate holds several.
    #[error("found {count} certificates where exactly one root certificate is expected")]
    MoreThanOneCertificate {
        /// How many were found.
        count: usize,
    },
    /// An unknown trust store type name.
    #[error("unknown trust store type {0:?} (expected ca, signingAuthority or tsa)")]
    UnknownTrustStoreKind(String),
    /// The private key could not be decoded or is of a kind nv2 does not know.
    #[error("private key: {0}")]
    PrivateKey(String),
    /// A certificate may not sign CRLs (not a CA, or keyUsage without cRLSign), so its CRL is not trusted.
    #[error("{subject} may not sign CRLs: {reason}")]
    CrlIssuerNotAllowed {
        /// RFC 4514 subject of the would-be CRL issuer.
        subject: String,
        /// Which constraint is missing.
        reason: &'static str,
    },
    /// The private key does not belong to the certificate.
    #[error("the private key does not match the certificate's public key")]
    KeyMismatch,
    /// A certificate or CRL could not be issued from its spec ([`crate::x509::issue`]).
    #[error("cannot issue: {what}: {reason}")]
    Issue {
        /// Which part of the spec is unusable (serial number, distinguished name, time, ...).
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// The Notary Project certificate rule a chain member broke.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ChainRule {
    /// The time of interest is before notBefore.
    #[error("not valid before {not_before} (checked at {at})")]
    NotYetValid {
        /// Start of validity.
        not_before: Timestamp,
        /// Time checked.
        at: Timestamp,
    },
    /// The time of interest is after notAfter.
    #[error("expired at {not_after} (checked at {at})")]
    Expired {
        /// End of validity.
        not_after: Timestamp,
        /// Time checked.
        at: Timestamp,
    },
    /// The last certificate of the chain is not self-signed (a root is missing or the chain is truncated).
    #[error("the chain must end with a self-signed root certificate")]
    RootNotSelfSigned,
    /// A lone certificate is not self-issued (issuer differs from subject).
    #[error("a single-certificate chain must be self-issued and self-signed")]
    NotSelfIssued,
    /// A leaf in a chain of two or more is self-signed.
    #[error("the leaf certificate is self-signed")]
    SelfSignedLeaf,
    /// An intermediate certificate is self-signed (extra roots, reordered chains).
    #[error("an intermediate certificate is self-signed")]
    SelfSignedIntermediate,
    /// The issuer name differs from the next certificate's subject (out of order or foreign chain).
    #[error("issuer {issuer} differs from the next certificate's subject {next_subject}")]
    IssuerMismatch {
        /// This certificate's issuer.
        issuer: String,
        /// The next certificate's subject.
        next_subject: String,
    },
    /// The signature does not verify under the issuer's (or, for roots, its own) key.
    #[error("signature: {0}")]
    Signature(X509ErrorBox),
    /// A CA certificate lacks basicConstraints with cA=true.
    #[error("CA certificate must have basicConstraints with cA=true")]
    NotCa,
    /// A CA certificate's pathLenConstraint is smaller than the number of CAs below it.
    #[error("path length constraint {max} but {needed} intermediate CA certificates follow")]
    PathLenExceeded {
        /// The constraint.
        max: u8,
        /// CAs below this one.
        needed: usize,
    },
    /// A leaf has basicConstraints cA=true.
    #[error("a leaf certificate must not be a CA (basicConstraints cA=true)")]
    LeafIsCa,
    /// keyUsage is missing.
    #[error("keyUsage extension must be present")]
    KeyUsageMissing,
    /// keyUsage is not marked critical (code-signing chains).
    #[error("keyUsage extension must be critical")]
    KeyUsageNotCritical,
    /// A CA certificate lacks keyCertSign.
    #[error("CA keyUsage must include keyCertSign")]
    KeyCertSignMissing,
    /// A leaf lacks digitalSignature.
    #[error("leaf keyUsage must include digitalSignature")]
    DigitalSignatureMissing,
    /// A leaf has a key usage the Notary spec forbids (keyEncipherment, keyCertSign, cRLSign, ...).
    #[error("leaf keyUsage must be digitalSignature only, found {0}")]
    ForbiddenKeyUsage(String),
    /// A code-signing leaf has an EKU the Notary spec forbids.
    #[error("extended key usage must not contain {0}")]
    ForbiddenExtendedKeyUsage(&'static str),
    /// A timestamping leaf's EKU is absent or not exactly id-kp-timeStamping.
    #[error("timestamping certificate must have id-kp-timeStamping as its only extended key usage")]
    TimestampingUsageMissing,
    /// A timestamping leaf's EKU extension is not critical.
    #[error("timestamping certificate's extended key usage must be critical")]
    ExtendedKeyUsageNotCritical,
    /// The leaf key type or size is not allowed (RSA 2048/3072/4096, EC P-256/384/521; Ed25519 as nv2 extension).
    #[error("unsupported leaf key: {0}")]
    UnsupportedKey(String),
}

/// An [`X509Error`] nested inside a [`ChainRule`] (boxed because the two types refer to each other).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct X509ErrorBox(pub alloc::boxed::Box<X509Error>);

impl core::fmt::Display for X509ErrorBox {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

impl From<CryptoError> for X509Error {
    fn from(e: CryptoError) -> Self {
        match e {
            CryptoError::BadSignature => X509Error::BadSignature,
            other => X509Error::Key(other),
        }
    }
}
