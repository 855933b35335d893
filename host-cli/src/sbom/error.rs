//! Why generating, reading or attaching an SBoM failed; every variant names the layer, entry or document at fault.

use crate::content::ContentError;

/// Why an SBoM operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    /// Reading a layer or writing a temporary file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or layer involved.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A layer is not a readable (gzip) tar stream.
    #[error("layer {layer}: {reason}")]
    MalformedLayer {
        /// The layer.
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// A layer entry's name has a `..` component, so it would land outside the image root.
    #[error("layer {layer}: entry {entry} escapes the image root")]
    UnsafePath {
        /// The layer.
        layer: String,
        /// The entry name.
        entry: String,
    },
    /// A package database or SBoM is larger than nv2 reads.
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The file or document.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The creation time given is not an RFC 3339 date-time.
    #[error("creation time {text:?}: {reason}")]
    InvalidCreated {
        /// The text given.
        text: String,
        /// What is wrong.
        reason: String,
    },
    /// Bytes given as an SBoM are neither SPDX 2.x JSON nor CycloneDX JSON, or are malformed.
    #[error("not a readable SBoM: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The content to scan is not an image nv2 can read layers of.
    #[error("{what}: {reason}")]
    NotAnImage {
        /// The manifest or layer.
        what: String,
        /// Why.
        reason: String,
    },
    /// An index was given and the platform to scan is ambiguous or missing.
    #[error("{index}: {reason}")]
    PlatformSelection {
        /// The index digest.
        index: String,
        /// Which platforms there are and what was asked for.
        reason: String,
    },
    /// A manifest or descriptor broke an OCI rule.
    #[error("{what}: {source}")]
    Oci {
        /// The document involved.
        what: String,
        /// The rule broken.
        #[source]
        source: nv2_core::oci::OciError,
    },
    /// Fetching from or pushing to a store failed.
    #[error(transparent)]
    Content(#[from] ContentError),
}

impl SbomError {
    /// An [`SbomError::Io`] naming `path`.
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        SbomError::Io { path: path.to_string(), source }
    }
}
