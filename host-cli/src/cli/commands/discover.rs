//! `nv2 discover <ref>`: the tree of artifacts linked to a subject (signatures, SBoMs, their signatures), from the
//! referrers API or the tag-schema fallback, shown as a tree or as the JSON `oras discover --format json` (1.3)
//! prints: the subject's descriptor with nested `referrers`.

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use nv2_core::oci::Descriptor;
use serde_json::{json, Value};

use crate::cli::args::DiscoverArgs;
use crate::cli::context::Context;
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::content::ContentStore;

/// Most referrers shown in one tree (a subject with more is summarised).
const MAX_NODES: usize = 10_000;

/// One artifact in the tree.
struct Node {
    descriptor: Descriptor,
    children: Vec<Node>,
}

/// `nv2 discover`.
pub async fn run(ctx: &Context, args: DiscoverArgs) -> Result<Report, CliError> {
    let subject = ctx.open(&args.subject).await?;
    let root = subject.resolve().await?;
    let mut budget = MAX_NODES;
    let children =
        referrers_tree(subject.store.as_ref(), &root, args.artifact_type.as_deref(), args.depth, &mut budget).await?;
    let mut lines = vec![subject.pinned(&root)];
    render(&children, "", &mut lines);
    let json = json!({
        "reference": subject.pinned(&root),
        "mediaType": root.media_type,
        "digest": root.digest,
        "size": root.size,
        "referrers": children.iter().map(|c| node_json(&subject.display, c)).collect::<Vec<_>>(),
    });
    let mut report = Report::new(lines, json);
    if budget == 0 {
        report = report.warn(format!("the tree was cut at {MAX_NODES} referrers"));
    }
    Ok(report)
}

fn referrers_tree<'a>(
    store: &'a dyn ContentStore,
    subject: &'a Descriptor,
    artifact_type: Option<&'a str>,
    depth: usize,
    budget: &'a mut usize,
) -> BoxFuture<'a, Result<Vec<Node>, CliError>> {
    async move {
        if depth == 0 || *budget == 0 {
            return Ok(Vec::new());
        }
        let referrers = store.referrers(subject, artifact_type).await?;
        let mut nodes = Vec::new();
        for descriptor in referrers {
            if *budget == 0 {
                break;
            }
            *budget -= 1;
            // Deeper levels are unfiltered: an SBoM's own signatures belong in the tree.
            let children = referrers_tree(store, &descriptor, None, depth - 1, budget).await?;
            nodes.push(Node { descriptor, children });
        }
        Ok(nodes)
    }
    .boxed()
}

fn render(nodes: &[Node], prefix: &str, lines: &mut Vec<String>) {
    // Grouped by artifact type, in first-seen order, as oras shows it.
    let mut groups: Vec<(&str, Vec<&Node>)> = Vec::new();
    for node in nodes {
        let kind = node.descriptor.artifact_type.as_deref().unwrap_or(&node.descriptor.media_type);
        match groups.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, members)) => members.push(node),
            None => groups.push((kind, vec![node])),
        }
    }
    for (g, (kind, members)) in groups.iter().enumerate() {
        let (branch, next) = if g + 1 == groups.len() { ("└── ", "    ") } else { ("├── ", "│   ") };
        lines.push(format!("{prefix}{branch}{kind}"));
        for (i, node) in members.iter().enumerate() {
            let (leaf, deeper) = if i + 1 == members.len() { ("└── ", "    ") } else { ("├── ", "│   ") };
            lines.push(format!("{prefix}{next}{leaf}{}", node.descriptor.digest));
            render(&node.children, &format!("{prefix}{next}{deeper}"), lines);
        }
    }
}

/// One referrer as oras prints it: `annotations` and `artifactType` only when present.
fn node_json(repository: &str, node: &Node) -> Value {
    let d = &node.descriptor;
    let mut json = json!({
        "reference": format!("{repository}@{}", d.digest),
        "mediaType": d.media_type,
        "digest": d.digest,
        "size": d.size,
        "referrers": node.children.iter().map(|c| node_json(repository, c)).collect::<Vec<_>>(),
    });
    if let Some(object) = json.as_object_mut() {
        if !d.annotations.is_empty() {
            object.insert("annotations".into(), json!(d.annotations));
        }
        if let Some(artifact_type) = &d.artifact_type {
            object.insert("artifactType".into(), json!(artifact_type));
        }
    }
    json
}
