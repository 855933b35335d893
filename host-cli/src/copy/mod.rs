//! The one graph copier: everything `copy`, `copy -r`, `pull`, `push`, `export`, `import`, backup and sync do is
//! "move this manifest and everything it reaches from one [`ContentStore`] to another".
//!
//! The graph is oras-go's: successors of a manifest are the descriptors it points down at
//! (`ParsedManifest::references`: config and layers, or an index's manifests); predecessors are the manifests whose
//! `subject` names it ([`ContentStore::referrers`]). [`copy_graph`] walks successors always and, with
//! [`CopyOptions::referrers`], predecessors too (signatures, SBoMs, signatures of those, signatures of each
//! platform manifest of an index).
//!
//! Order is what keeps a target consistent at every moment: blobs before the manifests that name them, child
//! manifests before their index, a subject before its referrers (so the target's `OCI-Subject` processing sees
//! the subject), and [`copy`] sets tags only after all of that, the prototype-2 order. Every byte is checked
//! against its digest on the way, and nothing the target already has is moved again.

mod graph;
mod verified_stream;

use std::fmt;
use std::sync::Arc;

use nv2_core::oci::{validate_tag, Descriptor, Digest, OciError};

use crate::content::{ContentError, ContentStore, NoProgress, Progress};

pub use graph::copy_graph;

/// Transfers run at once unless told otherwise.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// How many referrer links (`signature of an SBoM of an image` is 2) are followed unless told otherwise.
pub const DEFAULT_MAX_REFERRER_DEPTH: usize = 16;
/// Largest graph copied unless told otherwise; a bound on what a hostile source can make the copier walk.
pub const DEFAULT_MAX_NODES: usize = 100_000;

/// How a copy runs.
#[derive(Clone)]
pub struct CopyOptions {
    /// Also copy the referrers of every manifest copied, recursively (`copy -r`).
    pub referrers: bool,
    /// Only referrers of this artifact type at the first level (their own referrers are all copied, so the
    /// signatures of the chosen SBoMs come along).
    pub artifact_type: Option<String>,
    /// How many referrer links are followed from the root's graph.
    pub max_referrer_depth: usize,
    /// Transfers running at once (0 is read as 1).
    pub concurrency: usize,
    /// Most nodes (manifests and blobs) the copy may involve.
    pub max_nodes: usize,
    /// Told about every transfer.
    pub progress: Arc<dyn Progress>,
}

impl Default for CopyOptions {
    fn default() -> Self {
        CopyOptions {
            referrers: false,
            artifact_type: None,
            max_referrer_depth: DEFAULT_MAX_REFERRER_DEPTH,
            concurrency: DEFAULT_CONCURRENCY,
            max_nodes: DEFAULT_MAX_NODES,
            progress: Arc::new(NoProgress),
        }
    }
}

impl fmt::Debug for CopyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CopyOptions")
            .field("referrers", &self.referrers)
            .field("artifact_type", &self.artifact_type)
            .field("max_referrer_depth", &self.max_referrer_depth)
            .field("concurrency", &self.concurrency)
            .field("max_nodes", &self.max_nodes)
            .finish_non_exhaustive()
    }
}

/// What a copy did, for the CLI's summary and `--output json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyReport {
    /// The root copied (as resolved in the source).
    pub root: Descriptor,
    /// Manifests and blobs moved.
    pub copied: usize,
    /// Bytes moved.
    pub copied_bytes: u64,
    /// Manifests and blobs the target already had.
    pub skipped: usize,
    /// Bytes not moved because the target had them.
    pub skipped_bytes: u64,
    /// Every referrer in the copied graph (moved or already there), in discovery order.
    pub referrers: Vec<Descriptor>,
    /// How many of [`CopyReport::referrers`] were moved.
    pub referrers_copied: usize,
    /// Tags set at the target, in order.
    pub tags: Vec<String>,
}

/// Why a copy failed, naming the node and the store (underlying errors are boxed to keep results small).
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// The source reference could not be resolved.
    #[error("cannot resolve {reference} in {store}: {source}")]
    Resolve {
        /// The reference asked for.
        reference: String,
        /// The source store.
        store: String,
        /// Why.
        source: Box<ContentError>,
    },
    /// Content could not be read from the source.
    #[error("cannot read {digest} from {store}: {source}")]
    Fetch {
        /// The node.
        digest: Digest,
        /// The source store.
        store: String,
        /// Why.
        source: Box<ContentError>,
    },
    /// The source's bytes for a node do not match its descriptor (corrupt or substituted content).
    #[error("{store} holds corrupt content for {digest}: {reason}")]
    Corrupt {
        /// The node.
        digest: Digest,
        /// The source store.
        store: String,
        /// What differed.
        reason: String,
    },
    /// A manifest in the source does not parse.
    #[error("{digest} in {store} is not a valid {media_type} manifest: {source}")]
    InvalidManifest {
        /// The node.
        digest: Digest,
        /// The media type it was announced with.
        media_type: String,
        /// The source store.
        store: String,
        /// The parser's reason.
        source: Box<OciError>,
    },
    /// The target could not say whether it has a node.
    #[error("cannot check for {digest} in {store}: {source}")]
    Exists {
        /// The node.
        digest: Digest,
        /// The target store.
        store: String,
        /// Why.
        source: Box<ContentError>,
    },
    /// The source's referrers of a manifest could not be listed.
    #[error("cannot list the referrers of {digest} in {store}: {source}")]
    Referrers {
        /// The subject.
        digest: Digest,
        /// The source store.
        store: String,
        /// Why.
        source: Box<ContentError>,
    },
    /// The target refused a node.
    #[error("cannot copy {digest} to {store}: {source}")]
    Push {
        /// The node.
        digest: Digest,
        /// The target store.
        store: String,
        /// Why.
        source: Box<ContentError>,
    },
    /// A tag could not be set at the target.
    #[error("cannot tag {digest} as {tag} in {store}: {source}")]
    Tag {
        /// The tag.
        tag: String,
        /// The manifest.
        digest: Digest,
        /// The target store.
        store: String,
        /// Why.
        source: Box<ContentError>,
    },
    /// The graph is larger than [`CopyOptions::max_nodes`].
    #[error("the graph of {root} has more than {limit} nodes")]
    TooManyNodes {
        /// The root.
        root: Digest,
        /// The bound.
        limit: usize,
    },
    /// The source's graph has a cycle (only a lying store can produce one: digests make cycles impossible).
    #[error("the graph of {root} in {store} has a cycle through {digest}")]
    Cycle {
        /// The root.
        root: Digest,
        /// A node on the cycle.
        digest: Digest,
        /// The source store.
        store: String,
    },
}

/// Resolves `src_reference` in `src`, copies its graph to `dst` ([`copy_graph`]) and then, last, points each of
/// `dst_tags` at it. The tags are checked first, so a bad one fails before anything moves.
pub async fn copy(
    src: &dyn ContentStore,
    src_reference: &str,
    dst: &dyn ContentStore,
    dst_tags: &[String],
    options: &CopyOptions,
) -> Result<CopyReport, CopyError> {
    let root = src.resolve(src_reference).await.map_err(|source| CopyError::Resolve {
        reference: src_reference.to_string(),
        store: src.name(),
        source: Box::new(source),
    })?;
    for tag in dst_tags {
        validate_tag(tag).map_err(|e| CopyError::Tag {
            tag: tag.clone(),
            digest: root.digest.clone(),
            store: dst.name(),
            source: Box::new(ContentError::Oci(e)),
        })?;
    }
    let mut report = copy_graph(src, dst, &root, options).await?;
    for tag in dst_tags {
        dst.tag(&report.root, tag).await.map_err(|source| CopyError::Tag {
            tag: tag.clone(),
            digest: report.root.digest.clone(),
            store: dst.name(),
            source: Box::new(source),
        })?;
        report.tags.push(tag.clone());
    }
    Ok(report)
}
