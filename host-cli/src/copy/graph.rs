//! [`copy_graph`] in two phases.
//!
//! 1. Discovery, breadth first, a frontier at a time with bounded concurrency: every manifest is fetched once
//!    (bounded, digest-checked) and parsed; its children are queued, and with referrers on, its referrers too.
//!    Each node reached by several paths is visited once. The target is asked whether it has each node; a
//!    manifest it has is assumed to come with its whole subgraph (as oras-go does) and is not copied, but with
//!    referrers on its child manifests are still read, because new signatures may hang off any of them.
//! 2. Transfer, in dependency levels: a node's level is one more than the highest level of what must be at the
//!    target before it (its children, and for a referrer its subject), so blobs go first, then child manifests,
//!    then their parents, then referrers. The nodes of one level move concurrently; the first failure stops the
//!    copy and drops the transfers in flight (stores never commit a partial push).

use std::collections::{HashMap, HashSet, VecDeque};

use bytes::Bytes;
use futures_util::{stream, StreamExt, TryStreamExt};
use nv2_core::limits::MAX_MANIFEST_BYTES;
use nv2_core::oci::{filter_by_artifact_type, Descriptor, Digest, ParsedManifest};

use super::verified_stream::VerifiedStream;
use super::{CopyError, CopyOptions, CopyReport};
use crate::content::{fetch_all, stream_of, ContentError, ContentStore, TransferOutcome};

/// Copies `root` and everything below it from `src` to `dst` (and, with [`CopyOptions::referrers`], every
/// referrer of every manifest in that graph, recursively), skipping what `dst` already has and checking every
/// byte against its digest. Sets no tags: see [`super::copy`].
pub async fn copy_graph(
    src: &dyn ContentStore,
    dst: &dyn ContentStore,
    root: &Descriptor,
    options: &CopyOptions,
) -> Result<CopyReport, CopyError> {
    let graph = discover(src, dst, root, options).await?;
    let levels = schedule(src, root, &graph)?;
    let concurrency = options.concurrency.max(1);
    for level in levels {
        stream::iter(level.into_iter().filter_map(|digest| graph.nodes.get(digest)))
            .map(|node| transfer(src, dst, node, options))
            .buffer_unordered(concurrency)
            .try_collect::<Vec<()>>()
            .await?;
    }
    Ok(graph.report(root))
}

/// One manifest or blob of the graph.
struct Node {
    descriptor: Descriptor,
    /// A manifest's bytes, read (and checked) during discovery and pushed from memory.
    manifest: Option<Bytes>,
    /// The target has it already.
    present: bool,
    /// What must be at the target before this node: its children, and the subjects it refers to.
    after: Vec<Digest>,
    /// Reached as a referrer of another node.
    referrer: bool,
}

/// A node waiting to be visited.
struct Visit {
    descriptor: Descriptor,
    /// Below a manifest the target has, so taken as present without asking.
    assumed_present: bool,
    /// Referrer links followed to get here.
    depth: usize,
    /// For a referrer: the subject whose referrers list named it.
    referrer_of: Option<Digest>,
}

/// The outcome of a visit.
enum Visited {
    /// The node, and what to visit next.
    Node(Box<Node>, Vec<Visit>),
    /// A referrer whose manifest does not name the subject it was listed for (the source lied): left out.
    Dropped(Digest),
}

/// The discovered graph, nodes in discovery order.
#[derive(Default)]
struct Graph {
    nodes: HashMap<Digest, Node>,
    order: Vec<Digest>,
}

impl Graph {
    fn nodes_in_order(&self) -> impl Iterator<Item = &Node> {
        self.order.iter().filter_map(|digest| self.nodes.get(digest))
    }

    fn report(&self, root: &Descriptor) -> CopyReport {
        let mut report = CopyReport {
            root: root.clone(),
            copied: 0,
            copied_bytes: 0,
            skipped: 0,
            skipped_bytes: 0,
            referrers: Vec::new(),
            referrers_copied: 0,
            tags: Vec::new(),
        };
        for node in self.nodes_in_order() {
            if node.present {
                report.skipped += 1;
                report.skipped_bytes += node.descriptor.size;
            } else {
                report.copied += 1;
                report.copied_bytes += node.descriptor.size;
            }
            if node.referrer {
                report.referrers.push(node.descriptor.clone());
                report.referrers_copied += usize::from(!node.present);
            }
        }
        report
    }
}

/// Phase 1 (see the module doc).
async fn discover(
    src: &dyn ContentStore,
    dst: &dyn ContentStore,
    root: &Descriptor,
    options: &CopyOptions,
) -> Result<Graph, CopyError> {
    let mut graph = Graph::default();
    let mut queued = HashSet::from([root.digest.clone()]);
    let mut frontier = vec![Visit { descriptor: root.clone(), assumed_present: false, depth: 0, referrer_of: None }];
    while !frontier.is_empty() {
        let batch = std::mem::take(&mut frontier);
        let mut visits =
            stream::iter(batch).map(|next| visit(src, dst, next, options)).buffered(options.concurrency.max(1));
        while let Some(visited) = visits.next().await {
            let (node, next) = match visited? {
                Visited::Node(node, next) => (node, next),
                Visited::Dropped(digest) => {
                    queued.remove(&digest);
                    continue;
                }
            };
            for visit in next {
                if queued.insert(visit.descriptor.digest.clone()) {
                    if queued.len() > options.max_nodes {
                        return Err(CopyError::TooManyNodes { root: root.digest.clone(), limit: options.max_nodes });
                    }
                    frontier.push(visit);
                }
            }
            if node.present {
                options.progress.start(&node.descriptor);
                options.progress.finish(&node.descriptor, TransferOutcome::Skipped);
            }
            graph.order.push(node.descriptor.digest.clone());
            graph.nodes.insert(node.descriptor.digest.clone(), *node);
        }
    }
    Ok(graph)
}

/// Visits one node: asks the target about it and, for a manifest, reads it and lists what comes next.
async fn visit(
    src: &dyn ContentStore,
    dst: &dyn ContentStore,
    visit: Visit,
    options: &CopyOptions,
) -> Result<Visited, CopyError> {
    let Visit { descriptor, assumed_present, depth, referrer_of } = visit;
    let referrer = referrer_of.is_some();
    let present = assumed_present
        || dst.exists(&descriptor).await.map_err(|source| CopyError::Exists {
            digest: descriptor.digest.clone(),
            store: dst.name(),
            source: Box::new(source),
        })?;
    let leaf =
        |descriptor, present| Box::new(Node { descriptor, manifest: None, present, after: Vec::new(), referrer });
    if !descriptor.is_manifest() || (present && !options.referrers) {
        return Ok(Visited::Node(leaf(descriptor, present), Vec::new()));
    }
    let bytes = match fetch_all(src, &descriptor, MAX_MANIFEST_BYTES as u64).await {
        Ok(bytes) => bytes,
        // Below a manifest the target has, the source may be partial (a single-platform pull): nothing to find.
        Err(ContentError::NotFound { .. }) if present => return Ok(Visited::Node(leaf(descriptor, true), Vec::new())),
        Err(source) => return Err(fetch_error(src, &descriptor, source)),
    };
    let parsed =
        ParsedManifest::parse(Some(&descriptor.media_type), &bytes).map_err(|source| CopyError::InvalidManifest {
            digest: descriptor.digest.clone(),
            media_type: descriptor.media_type.clone(),
            store: src.name(),
            source: Box::new(source),
        })?;
    let subjects: Vec<Digest> = parsed.subjects().into_iter().map(|s| s.digest.clone()).collect();
    if let Some(expected) = &referrer_of {
        if !subjects.contains(expected) {
            tracing::warn!(
                referrer = %descriptor.digest,
                subject = %expected,
                "{} lists a referrer whose manifest does not name that subject; not copied",
                src.name()
            );
            return Ok(Visited::Dropped(descriptor.digest));
        }
    }
    let mut next = Vec::new();
    let mut after = Vec::new();
    for child in parsed.references() {
        after.push(child.descriptor.digest.clone());
        if present && !child.is_manifest() {
            continue;
        }
        next.push(Visit { descriptor: child.descriptor.clone(), assumed_present: present, depth, referrer_of: None });
    }
    after.extend(subjects);
    if options.referrers && depth < options.max_referrer_depth {
        let filter = if depth == 0 { options.artifact_type.as_deref() } else { None };
        let mut referrers = src.referrers(&descriptor, filter).await.map_err(|source| CopyError::Referrers {
            digest: descriptor.digest.clone(),
            store: src.name(),
            source: Box::new(source),
        })?;
        if let Some(wanted) = filter {
            referrers = filter_by_artifact_type(referrers, wanted);
        }
        for candidate in referrers {
            if !candidate.is_manifest() {
                tracing::warn!(
                    referrer = %candidate.digest,
                    "{} lists a referrer of media type {} that is not a manifest; not copied",
                    src.name(),
                    candidate.media_type
                );
                continue;
            }
            next.push(Visit {
                descriptor: candidate,
                assumed_present: false,
                depth: depth + 1,
                referrer_of: Some(descriptor.digest.clone()),
            });
        }
    }
    let node = Box::new(Node { descriptor, manifest: Some(Bytes::from(bytes)), present, after, referrer });
    Ok(Visited::Node(node, next))
}

/// Phase 2's order: the nodes to copy grouped in dependency levels (Kahn's algorithm), each level in discovery
/// order. A node that never becomes ready is on a cycle.
fn schedule<'g>(
    src: &dyn ContentStore,
    root: &Descriptor,
    graph: &'g Graph,
) -> Result<Vec<Vec<&'g Digest>>, CopyError> {
    let to_copy: Vec<&Node> = graph.nodes_in_order().filter(|n| !n.present).collect();
    let mut waiting: HashMap<&Digest, usize> = HashMap::new();
    let mut dependents: HashMap<&Digest, Vec<&Digest>> = HashMap::new();
    for node in &to_copy {
        let before: HashSet<&Digest> =
            node.after.iter().filter(|d| graph.nodes.get(*d).is_some_and(|n| !n.present)).collect();
        waiting.insert(&node.descriptor.digest, before.len());
        for dependency in before {
            dependents.entry(dependency).or_default().push(&node.descriptor.digest);
        }
    }
    let mut level: HashMap<&Digest, usize> = HashMap::new();
    let mut ready: VecDeque<&Digest> =
        to_copy.iter().map(|n| &n.descriptor.digest).filter(|d| waiting.get(d) == Some(&0)).collect();
    let mut scheduled = 0;
    while let Some(digest) = ready.pop_front() {
        scheduled += 1;
        let next_level = level.get(digest).copied().unwrap_or(0) + 1;
        for dependent in dependents.get(digest).into_iter().flatten() {
            let entry = level.entry(dependent).or_insert(0);
            *entry = (*entry).max(next_level);
            if let Some(count) = waiting.get_mut(dependent) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    ready.push_back(dependent);
                }
            }
        }
    }
    if scheduled < to_copy.len() {
        let stuck = to_copy.iter().find(|n| waiting.get(&n.descriptor.digest).is_some_and(|c| *c > 0));
        let digest = stuck.map_or_else(|| root.digest.clone(), |n| n.descriptor.digest.clone());
        return Err(CopyError::Cycle { root: root.digest.clone(), digest, store: src.name() });
    }
    let mut levels: Vec<Vec<&Digest>> = Vec::new();
    for node in to_copy {
        let digest = &node.descriptor.digest;
        let at = level.get(digest).copied().unwrap_or(0);
        if levels.len() <= at {
            levels.resize_with(at + 1, Vec::new);
        }
        if let Some(slot) = levels.get_mut(at) {
            slot.push(digest);
        }
    }
    Ok(levels)
}

/// Moves one node: a manifest from the bytes read in discovery, a blob from its descriptor's embedded data or
/// streamed from the source through the digest check.
async fn transfer(
    src: &dyn ContentStore,
    dst: &dyn ContentStore,
    node: &Node,
    options: &CopyOptions,
) -> Result<(), CopyError> {
    let descriptor = &node.descriptor;
    let push_error =
        |source| CopyError::Push { digest: descriptor.digest.clone(), store: dst.name(), source: Box::new(source) };
    options.progress.start(descriptor);
    match &node.manifest {
        Some(bytes) => {
            dst.push(descriptor, stream_of(bytes.clone())).await.map_err(push_error)?;
            options.progress.advance(descriptor, descriptor.size);
        }
        // Small blobs embedded in the descriptor (`data`, checked against digest and size when the manifest was
        // parsed) need no round trip to the source.
        None if descriptor.data.is_some() => {
            let data = descriptor
                .embedded_data()
                .map_err(|e| CopyError::Corrupt {
                    digest: descriptor.digest.clone(),
                    store: src.name(),
                    reason: e.to_string(),
                })?
                .unwrap_or_default();
            dst.push(descriptor, stream_of(data)).await.map_err(push_error)?;
            options.progress.advance(descriptor, descriptor.size);
        }
        None => {
            let content = src.fetch(descriptor).await.map_err(|source| fetch_error(src, descriptor, source))?;
            let (verified, verdict) = VerifiedStream::wrap(content, descriptor, options.progress.clone());
            let pushed = dst.push(descriptor, verified).await;
            if let Some(reason) = verdict.mismatch() {
                return Err(CopyError::Corrupt { digest: descriptor.digest.clone(), store: src.name(), reason });
            }
            pushed.map_err(push_error)?;
        }
    }
    options.progress.finish(descriptor, TransferOutcome::Copied);
    Ok(())
}

/// A failed read from the source; content that does not match its descriptor is reported as corrupt.
fn fetch_error(src: &dyn ContentStore, descriptor: &Descriptor, source: ContentError) -> CopyError {
    match source {
        ContentError::Mismatch { reason, .. } => {
            CopyError::Corrupt { digest: descriptor.digest.clone(), store: src.name(), reason }
        }
        source => CopyError::Fetch { digest: descriptor.digest.clone(), store: src.name(), source: Box::new(source) },
    }
}
