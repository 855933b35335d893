//! The registry's failure vocabulary: one variant per distribution-spec error the handlers can answer with.

use crate::content::Digest;
use crate::storage::StorageError;

/// Everything a registry operation can refuse or fail with; the HTTP layer maps each to a status and spec code.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The repository name does not follow the grammar (also path traversal attempts).
    #[error("invalid repository name")]
    NameInvalid,
    /// The repository does not exist.
    #[error("repository name not known to registry")]
    NameUnknown,
    /// The blob is not in the repository.
    #[error("blob unknown to registry")]
    BlobUnknown,
    /// The upload session does not exist (or belongs to another repository).
    #[error("blob upload unknown to registry")]
    BlobUploadUnknown,
    /// The upload request is malformed.
    #[error("blob upload invalid: {0}")]
    BlobUploadInvalid(String),
    /// A chunk was out of order or a Range is unsatisfiable; `size` is what the server has.
    #[error("requested range not satisfiable")]
    RangeInvalid {
        /// Bytes the server holds (upload received so far, or blob size).
        size: u64,
    },
    /// The content does not match its digest, or the digest is malformed.
    #[error("provided digest did not match uploaded content: {0}")]
    DigestInvalid(String),
    /// The declared length did not match the content.
    #[error("provided length did not match content length")]
    SizeInvalid,
    /// The manifest is not in the repository.
    #[error("manifest unknown to registry")]
    ManifestUnknown,
    /// The manifest is malformed.
    #[error("manifest invalid: {0}")]
    ManifestInvalid(String),
    /// The manifest names blobs the repository does not hold.
    #[error("manifest references unknown blobs")]
    ManifestBlobUnknown(Vec<Digest>),
    /// The tag does not follow the grammar.
    #[error("invalid tag")]
    TagInvalid,
    /// The body is larger than allowed.
    #[error("payload too large (limit {limit} bytes)")]
    TooLarge {
        /// The limit that was exceeded.
        limit: u64,
    },
    /// A query parameter is malformed (`n`, `last`, cursor).
    #[error("invalid pagination parameter")]
    PaginationInvalid,
    /// The operation is switched off by configuration (deletes, pushes on a read-only registry).
    #[error("operation unsupported: {0}")]
    Unsupported(&'static str),
    /// The request lacks credentials.
    #[error("authentication required")]
    Unauthorized,
    /// The credentials do not grant the operation.
    #[error("requested access to the resource is denied")]
    Denied,
    /// A storage backend failure.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The client went away or was too slow while sending a body.
    #[error("request body failed: {0}")]
    Body(String),
}
