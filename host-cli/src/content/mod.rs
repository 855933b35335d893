//! Content stores: anything that holds OCI content addressed by digest, names some of it with tags, and can say
//! which manifests refer to a given subject.
//!
//! A registry repository, an OCI image layout directory, an OCI layout tarball and plain memory all implement the
//! one [`ContentStore`] trait, so the one graph copier ([`crate::copy`]) serves `copy -r`, `pull`, `push`,
//! `export` and `import`, and signing and verification work on any of them. This is oras-go v2's content-graph idea:
//! successors come from parsing a manifest (`nv2_core::oci::ParsedManifest::references`), predecessors from
//! [`ContentStore::referrers`].

pub mod layout;
pub mod layout_tar;
pub mod local_file;
pub mod memory;
mod referrers_index;
pub mod registry_storage;

pub use layout::OciLayout;
pub use layout_tar::{OciLayoutTar, TarOptions};
pub use memory::MemoryStore;
pub use registry_storage::RegistryStorage;

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use nv2_core::oci::{Descriptor, Digest, Digester};

/// A stream of content bytes, as it arrives from a store or a file.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ContentError>> + Send>>;

/// Why a content store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The store does not have the content, tag or repository.
    #[error("{what} not found in {store}")]
    NotFound {
        /// What was asked for (`tag v1`, `sha256:…`).
        what: String,
        /// The store's name ([`ContentStore::name`]).
        store: String,
    },
    /// The bytes did not match the descriptor's digest or size.
    #[error("content of {expected} does not match its descriptor: {reason}")]
    Mismatch {
        /// The digest the descriptor named.
        expected: String,
        /// What differed.
        reason: String,
    },
    /// The content is larger than the limit for its kind (manifests 4 MiB, envelopes 32 MiB, ...).
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// What was read.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The store refused the operation (read-only registry, deletes disabled, missing permission).
    #[error("{store} refused {operation}: {reason}")]
    Refused {
        /// The store's name.
        store: String,
        /// What was attempted (`push`, `tag`, `delete`).
        operation: String,
        /// Why (the registry's error message, or the store's rule).
        reason: String,
    },
    /// Authentication failed or is missing (HTTP 401/403).
    #[error("{store}: {reason}")]
    Unauthorized {
        /// The store's name.
        store: String,
        /// The registry's answer.
        reason: String,
    },
    /// The store answered something that is not valid OCI content or protocol (garbage JSON, wrong headers).
    #[error("{store} answered malformed content: {reason}")]
    Malformed {
        /// The store's name.
        store: String,
        /// What was wrong.
        reason: String,
    },
    /// The store could not be reached or the transfer broke off.
    #[error("{store}: {reason}")]
    Unreachable {
        /// The store's name (a host, a path).
        store: String,
        /// The underlying error.
        reason: String,
    },
    /// A local file or directory operation failed.
    #[error("{path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// An OCI format rule was broken (invalid reference, digest, manifest).
    #[error(transparent)]
    Oci(#[from] nv2_core::oci::OciError),
}

/// The media type of a blob named only by digest (`blob fetch repo@sha256:…`): stores keep bytes, not types.
pub const BLOB_MEDIA_TYPE: &str = "application/octet-stream";

/// What a store can do. Every method takes `&self`: stores are shared between concurrent transfers.
#[async_trait]
pub trait ContentStore: Send + Sync {
    /// A short name for messages: `registry.example/net-monitor`, `oci-layout:/tmp/img`, `memory`.
    fn name(&self) -> String;

    /// Resolves a tag or a digest (`v1`, `sha256:…`) to the descriptor of a manifest in this store.
    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError>;

    /// The descriptor (`application/octet-stream`, with its size) of the blob `digest` names, for commands that name a
    /// blob by digest alone: a store that checks sizes on fetch needs the real one.
    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError>;

    /// Whether the store has the content `descriptor` names (manifest or blob, decided by its media type).
    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError>;

    /// Streams the content `descriptor` names. Implementations need not verify the digest: [`fetch_all`] and the
    /// copier do, so no unverified byte reaches a caller that asked for verified content.
    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError>;

    /// Stores `content` under `descriptor`, refusing it when its digest or size differ. Pushing a manifest with a
    /// `subject` also records it as a referrer of that subject (for registries without the referrers API: the
    /// `<alg>-<hex>` tag index is updated).
    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError>;

    /// Points `tag` at the manifest `descriptor` names (which the store must already have).
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError>;

    /// The manifests whose `subject` is `subject`, optionally only those of `artifact_type`, as referrers-index
    /// descriptors (with `artifactType` and annotations).
    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError>;

    /// Deletes the manifest or blob `descriptor` names. A manifest with a subject is also removed from its
    /// subject's referrers.
    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError>;
}

/// Reads all of `descriptor`'s content from `store` into memory, refusing more than `limit` bytes and bytes whose
/// digest or size differ from the descriptor. For manifests and envelopes, which are small and bounded.
pub async fn fetch_all(store: &dyn ContentStore, descriptor: &Descriptor, limit: u64) -> Result<Vec<u8>, ContentError> {
    if descriptor.size > limit {
        return Err(ContentError::TooLarge { what: descriptor.digest.to_string(), size: descriptor.size, limit });
    }
    let stream = store.fetch(descriptor).await?;
    collect_verified(stream, descriptor).await
}

/// Collects a stream into memory, checking size (never reading past it) and digest against `descriptor`.
pub async fn collect_verified(mut stream: ByteStream, descriptor: &Descriptor) -> Result<Vec<u8>, ContentError> {
    let mismatch = |reason: String| ContentError::Mismatch { expected: descriptor.digest.to_string(), reason };
    let capacity = usize::try_from(descriptor.size.min(64 << 20)).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    let mut digester = Digester::new(descriptor.digest.algorithm());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if bytes.len() as u64 + chunk.len() as u64 > descriptor.size {
            return Err(mismatch(format!("more than the {} bytes the descriptor names", descriptor.size)));
        }
        digester.update(&chunk);
        bytes.extend_from_slice(&chunk);
    }
    if bytes.len() as u64 != descriptor.size {
        return Err(mismatch(format!("{} bytes, the descriptor names {}", bytes.len(), descriptor.size)));
    }
    let actual = digester.finalize();
    if actual != descriptor.digest {
        return Err(mismatch(format!("the bytes digest to {actual}")));
    }
    Ok(bytes)
}

/// A [`ByteStream`] over bytes already in memory.
pub fn stream_of(bytes: impl Into<Bytes>) -> ByteStream {
    let bytes: Bytes = bytes.into();
    Box::pin(futures_util::stream::once(async move { Ok(bytes) }))
}

/// How one transfer ended, for progress displays and copy reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferOutcome {
    /// The bytes were moved.
    Copied,
    /// The target already had the content.
    Skipped,
    /// The registry mounted the blob from another repository without moving bytes.
    Mounted,
}

/// Observes transfers (the CLI draws indicatif bars; `--output json` and non-TTY runs use [`NoProgress`]).
pub trait Progress: Send + Sync {
    /// A transfer of `descriptor` starts.
    fn start(&self, descriptor: &Descriptor);
    /// `bytes` more bytes of `descriptor` were moved.
    fn advance(&self, descriptor: &Descriptor, bytes: u64);
    /// The transfer of `descriptor` ended.
    fn finish(&self, descriptor: &Descriptor, outcome: TransferOutcome);
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _descriptor: &Descriptor) {}
    fn advance(&self, _descriptor: &Descriptor, _bytes: u64) {}
    fn finish(&self, _descriptor: &Descriptor, _outcome: TransferOutcome) {}
}
