//! The wire format: verification requests and verdicts as versioned JSON, so a host that cannot link Rust (a wasm
//! runtime, a browser, another process) runs the very same pipeline and gets the very same answer.
//!
//! [`verify_json`] is the whole contract: request bytes in, response bytes out, never a panic. The wasm policy
//! module exports it through a pointer/length ABI, the browser package through wasm-bindgen, and native hosts may
//! call it directly; the differential test holds all of them to byte-identical responses.
//!
//! - [`request`]: [`VerifyRequest`], what a host sends (target, signatures, policy, trust stores, now, ...).
//! - [`response`]: [`VerifyResponse`], the [`Verdict`](super::Verdict) rendered with stable names, or an error.
//! - [`inspect`]: [`inspect_json`], a decoded envelope for display (attributes, chain, payload), nothing judged.
//!
//! Binary values (envelopes, manifests, certificates, CRLs) travel as standard padded base64. Every response
//! names the wire version it speaks; a request naming another version is refused with `unsupported-version`.

pub mod inspect;
pub mod request;
pub mod response;

pub use inspect::{
    inspect_json, CertificateView, EnvelopeView, ExtendedAttributeView, InspectResponse, PayloadView,
    SignedAttributesView, TimestampView, UnsignedAttributesView,
};
pub use request::{BlobDigestsSpec, PolicySpec, SignatureSpec, TargetSpec, TimeSpec, TrustStoreSpec, VerifyRequest};
pub use response::{
    DecisionView, ErrorView, FailureView, SignatureView, SignerView, ValidationView, VerdictView, VerifyResponse,
    WarningView,
};

use crate::envelope::EnvelopeError;
use crate::trust::{PolicyError, TrustError};
use alloc::string::String;
use alloc::vec::Vec;

/// The wire format version this build reads and writes. It changes only when a request or response changes shape
/// incompatibly; the policy module's ABI version ([`ABI_VERSION`]) is separate.
pub const WIRE_VERSION: u32 = 1;

/// The version of the policy module's pointer/length ABI (`nv2_abi_version`, `nv2_alloc`, `nv2_free`,
/// `nv2_verify`), documented in `wasm/README.md`.
pub const ABI_VERSION: u32 = 1;

/// Largest request accepted: room for an envelope at the core's bound ([`crate::limits::MAX_ENVELOPE_BYTES`]) in
/// base64 plus its manifest, policy and stores, and no more.
pub const MAX_REQUEST_BYTES: usize = 64 * 1024 * 1024;

/// Why a request could not be turned into a verdict (a verdict itself never "fails": rejections are verdicts).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The request is larger than [`MAX_REQUEST_BYTES`].
    #[error("request of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// The request names a wire version this build does not speak.
    #[error("wire format version {0} is not supported; this build speaks version {WIRE_VERSION}")]
    UnsupportedVersion(String),
    /// The request is not JSON, or a member is missing, unknown or of the wrong type; the text names it.
    #[error("invalid request: {0}")]
    Invalid(String),
    /// The trust policy (statement or document) breaks one of notation's rules.
    #[error("invalid trust policy: {0}")]
    Policy(PolicyError),
    /// No statement of a valid document applies to the scope, reference or name given.
    #[error("{0}")]
    NoApplicablePolicy(TrustError),
    /// A trust store's type, name or certificates were refused ([`crate::trust::StoreError`] and notation's store rules).
    #[error("invalid trust store trustStores[{index}]: {reason}")]
    TrustStore {
        /// Position in `trustStores`.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// An envelope handed to [`inspect_json`] cannot be read.
    #[error("invalid envelope: {0}")]
    Envelope(EnvelopeError),
}

impl WireError {
    /// A stable kebab-case name for the `error.kind` member.
    pub fn kind(&self) -> &'static str {
        match self {
            WireError::TooLarge { .. } => "request-too-large",
            WireError::UnsupportedVersion(_) => "unsupported-version",
            WireError::Invalid(_) => "request-invalid",
            WireError::Policy(_) => "policy-invalid",
            WireError::NoApplicablePolicy(_) => "no-applicable-policy",
            WireError::TrustStore { .. } => "trust-store-invalid",
            WireError::Envelope(_) => "envelope-invalid",
        }
    }

    /// Sorts a statement-selection error: a broken document, a malformed scope or name in the request, or no match.
    pub(crate) fn from_selection(error: TrustError) -> Self {
        match error {
            TrustError::Policy(policy) => WireError::Policy(policy),
            TrustError::InvalidScope(_) | TrustError::InvalidReference(_) | TrustError::EmptyPolicyName => {
                WireError::Invalid(alloc::format!("policy: {error}"))
            }
            TrustError::NoApplicablePolicy(_) | TrustError::NoPolicyNamed(_) | TrustError::NoGlobalPolicy => {
                WireError::NoApplicablePolicy(error)
            }
        }
    }
}

/// Runs one wire-format request through the verification pipeline and returns the response JSON: a verdict, or an
/// error naming what was wrong with the request. Never panics; the same bytes in give the same bytes out on every
/// host (natively, in wasmtime, in a browser).
pub fn verify_json(request: &[u8]) -> Vec<u8> {
    let response = match VerifyRequest::from_json(request).and_then(|r| r.verify()) {
        Ok(verdict) => VerifyResponse::from_verdict(&verdict),
        Err(error) => VerifyResponse::from_error(&error),
    };
    response.to_json()
}

/// What a caller gets should serialisation ever fail (it cannot for these types: strings, numbers, booleans and
/// string-keyed maps only), so the answer is still well-formed JSON in the current version.
const SERIALISATION_FAILED: &[u8] =
    br#"{"version":1,"error":{"kind":"internal","message":"the response could not be serialised"}}"#;

/// Serialises a wire value.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| SERIALISATION_FAILED.to_vec())
}

/// Standard padded base64, as every binary member of the wire format is written.
pub(crate) fn decode_base64(text: &str, member: &str) -> Result<Vec<u8>, WireError> {
    use base64ct::{Base64, Encoding};
    Base64::decode_vec(text).map_err(|_| WireError::Invalid(alloc::format!("{member}: not standard padded base64")))
}

/// The counterpart of [`decode_base64`], for hosts building requests and for the inspect view.
pub fn encode_base64(bytes: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    Base64::encode_string(bytes)
}

/// At most 64 characters of `text`, so an error never echoes a hostile megabyte back.
pub(crate) fn excerpt(text: &str) -> String {
    text.chars().take(64).collect()
}

#[cfg(test)]
mod tests;
