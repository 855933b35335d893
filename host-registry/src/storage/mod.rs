//! Where the registry keeps bytes: a narrow [`Storage`] trait and its filesystem implementation.
//!
//! The trait speaks in three nouns only — content-addressed blobs, small metadata objects under `/`-separated keys,
//! and upload sessions — so that an S3-compatible backend can be added without touching request handlers. Every
//! write is all-or-nothing: a reader never sees half an object.

mod filesystem;

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;

pub use filesystem::FilesystemStorage;

use crate::content::Digest;

/// Longest metadata object the registry reads whole (a manifest record holds at most a referrer descriptor, whose
/// annotations come from a manifest of at most 4 MiB).
pub const MAX_METADATA_BYTES: u64 = 8 * 1024 * 1024;

/// What went wrong in a storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An I/O failure of the backend.
    #[error("storage I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// A key was malformed (empty component, `..`, absolute); callers build keys from validated names only.
    #[error("storage key is malformed: {0}")]
    BadKey(String),
    /// The upload session does not exist.
    #[error("upload session not found")]
    UploadUnknown,
    /// An object is larger than the backend will read into memory.
    #[error("stored object is too large to read whole")]
    TooLarge,
}

/// A stream of blob bytes as handed to the HTTP layer.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// An open blob (or part of one) ready to stream.
pub struct BlobReader {
    /// Number of bytes the stream will yield.
    pub len: u64,
    /// The bytes.
    pub stream: ByteStream,
}

/// An open upload session being appended to.
#[async_trait]
pub trait UploadWriter: Send {
    /// Appends bytes at the end of the session.
    async fn write(&mut self, data: &[u8]) -> Result<(), StorageError>;
    /// Makes everything written durable and closes the writer.
    async fn finish(self: Box<Self>) -> Result<(), StorageError>;
}

/// The storage interface of the registry.
#[async_trait]
pub trait Storage: Send + Sync + 'static {
    /// Size of a stored blob, `None` when absent.
    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, StorageError>;
    /// Opens a blob, optionally only the inclusive byte range `[start, end]` (already checked against the size).
    async fn blob_open(&self, digest: &Digest, range: Option<(u64, u64)>) -> Result<Option<BlobReader>, StorageError>;
    /// Reads a whole (small) blob, refusing anything larger than `max`.
    async fn blob_read(&self, digest: &Digest, max: u64) -> Result<Option<Bytes>, StorageError>;
    /// Stores bytes whose digest the caller has verified, atomically.
    async fn blob_put(&self, digest: &Digest, data: &[u8]) -> Result<(), StorageError>;
    /// Removes a blob; `false` when it was absent.
    async fn blob_delete(&self, digest: &Digest) -> Result<bool, StorageError>;
    /// Every stored blob digest (garbage collection walks this).
    async fn blob_list(&self) -> Result<Vec<Digest>, StorageError>;

    /// Reads a metadata object.
    async fn meta_get(&self, key: &str) -> Result<Option<Bytes>, StorageError>;
    /// Writes a metadata object atomically (temp + fsync + rename).
    async fn meta_put(&self, key: &str, data: &[u8]) -> Result<(), StorageError>;
    /// Removes a metadata object; `false` when it was absent.
    async fn meta_delete(&self, key: &str) -> Result<bool, StorageError>;
    /// Names directly under a key prefix (objects and sub-prefixes), sorted.
    async fn meta_list(&self, prefix: &str) -> Result<Vec<String>, StorageError>;
    /// Removes a whole prefix (a repository).
    async fn meta_delete_prefix(&self, prefix: &str) -> Result<(), StorageError>;

    /// Creates an empty upload session.
    async fn upload_create(&self, id: &str) -> Result<(), StorageError>;
    /// Bytes received so far, `None` when the session does not exist.
    async fn upload_size(&self, id: &str) -> Result<Option<u64>, StorageError>;
    /// Opens the session for appending.
    async fn upload_writer(&self, id: &str) -> Result<Box<dyn UploadWriter>, StorageError>;
    /// Streams what was received so far (used to re-hash after a restart or for a second algorithm).
    async fn upload_read(&self, id: &str) -> Result<ByteStream, StorageError>;
    /// Moves the session's bytes into the blob store under `digest` (already verified by the caller).
    async fn upload_commit(&self, id: &str, digest: &Digest) -> Result<(), StorageError>;
    /// Drops a session; `false` when it did not exist.
    async fn upload_delete(&self, id: &str) -> Result<bool, StorageError>;
    /// Sessions whose last write is older than `age` (expired uploads).
    async fn upload_list_older_than(&self, age: std::time::Duration) -> Result<Vec<String>, StorageError>;
    /// Total bytes held in blobs (for metrics).
    async fn blob_bytes(&self) -> Result<u64, StorageError>;
}
