//! OCI content as nv2 understands it: digests, references, descriptors, manifests of every shape, and the
//! referrers building blocks. Registries, clients, layout stores and the verifier all use these types, so there is
//! one reference parser and one manifest parser in nv2.

mod descriptor;
mod digest;
mod manifest;
pub mod media_types;
mod reference;
pub mod referrers;

pub use descriptor::{Descriptor, Platform};
pub use digest::{Digest, DigestAlgorithm, Digester};
pub use manifest::{ArtifactManifest, ChildKind, ImageIndex, ImageManifest, Manifest, ParsedManifest};
pub use reference::{validate_repository_name, validate_tag, Reference, DOCKER_HUB, MAX_NAME_LENGTH, MAX_TAG_LENGTH};

use alloc::string::String;

/// Why OCI content or a name was refused. Registries map these onto distribution-spec error codes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OciError {
    /// Not a well-formed digest.
    #[error("invalid digest {digest:?}: {reason}")]
    InvalidDigest {
        /// The text given (truncated).
        digest: String,
        /// What is wrong.
        reason: String,
    },
    /// A well-formed digest with an algorithm nv2 does not compute.
    #[error("unsupported digest algorithm {0:?} (sha256 and sha512 are supported)")]
    UnsupportedDigestAlgorithm(String),
    /// Content does not hash to the digest that names it.
    #[error("digest mismatch: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        /// The digest claimed.
        expected: String,
        /// The digest computed.
        actual: String,
    },
    /// Not a valid reference.
    #[error("invalid reference {reference:?}: {reason}")]
    InvalidReference {
        /// The text given (truncated).
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// Not a valid repository name.
    #[error("invalid repository name {name:?}: {reason}")]
    InvalidName {
        /// The name given (truncated).
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// Not a valid tag.
    #[error("invalid tag {0:?}: a tag is [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}")]
    InvalidTag(String),
    /// The manifest is not valid JSON of its kind.
    #[error("malformed manifest: {0}")]
    MalformedManifest(String),
    /// The manifest's media type is not one nv2 knows.
    #[error("unknown manifest media type {0:?}")]
    UnknownMediaType(String),
    /// The content type and the document's `mediaType` disagree.
    #[error("Content-Type {content_type:?} does not match the manifest's mediaType {declared:?}")]
    MediaTypeMismatch {
        /// Content type given.
        content_type: String,
        /// mediaType in the document.
        declared: String,
    },
    /// The manifest exceeds the size limit.
    #[error("manifest of {size} bytes exceeds the {limit}-byte limit")]
    ManifestTooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        limit: usize,
    },
}
