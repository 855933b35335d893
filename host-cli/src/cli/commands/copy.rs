//! `nv2 copy`, `nv2 export` and `nv2 import`: the one graph copier between registries, OCI layouts, layout
//! tarballs and a registry's own storage. Referrers (signatures, SBoMs, their signatures) travel with their subject
//! and tags are set last, so a tag never points at an artifact whose signatures are not there yet.

use serde_json::json;

use crate::cli::args::{CopyArgs, ExportArgs, ImportArgs};
use crate::cli::context::{parse_location, Context, Location};
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::content::{ContentStore, OciLayoutTar, RegistryStorage};
use crate::copy::{copy, CopyOptions, CopyReport};
use crate::revocation::{attach_crls, attached_crls, crl_urls, CrlFetcher, DEFAULT_FETCH_TIMEOUT};
use crate::verify::fetch_signature;
use nv2_core::oci::media_types;

/// `nv2 copy <src> <dst> [-r]`.
pub async fn run_copy(ctx: &Context, args: CopyArgs) -> Result<Report, CliError> {
    let source = ctx.open_location(parse_location(&args.source, args.from_oci_layout)?, false).await?;
    let target = ctx.open_location(parse_location(&args.destination, args.to_oci_layout)?, true).await?;
    let options = CopyOptions {
        referrers: args.recursive,
        artifact_type: args.artifact_type,
        concurrency: args.concurrency.max(1),
        progress: ctx.progress(),
        ..CopyOptions::default()
    };
    let source_reference = source.reference.clone().unwrap_or_else(|| "latest".to_string());
    // The target keeps the source's tag when it names none (as oras cp does); a digest-only target sets no tag.
    let tags: Vec<String> = match (&target.reference, source.tag()) {
        (Some(r), _) if !target.is_digest() => vec![r.clone()],
        (None, Some(t)) => vec![t.to_string()],
        _ => Vec::new(),
    };
    let report = copy(source.store.as_ref(), &source_reference, target.store.as_ref(), &tags, &options).await?;
    Ok(copy_report("copied", &source.display, &target.display, &report))
}

/// `nv2 export <ref> <file.tar>`: an OCI layout tarball with every referrer, for air-gapped transfer.
pub async fn run_export(ctx: &Context, args: ExportArgs) -> Result<Report, CliError> {
    let source = ctx.open_location(parse_location(&args.reference, false)?, false).await?;
    let tarball = OciLayoutTar::create(&args.file).await?;
    let options = CopyOptions { referrers: !args.no_referrers, progress: ctx.progress(), ..CopyOptions::default() };
    let source_reference = source.reference.clone().unwrap_or_else(|| "latest".to_string());
    let tags: Vec<String> = source.tag().map(|t| vec![t.to_string()]).unwrap_or_default();
    let report = copy(source.store.as_ref(), &source_reference, &tarball, &tags, &options).await?;
    let carried = carry_crls(source.store.as_ref(), &tarball, &report).await?;
    tarball.finish().await?;
    let mut shown = copy_report("exported", &source.display, &args.file.display().to_string(), &report);
    if carried > 0 {
        shown.lines.push(format!("attached {carried} CRL(s) to the signatures for offline revocation checks"));
    }
    if let serde_json::Value::Object(map) = &mut shown.json {
        map.insert("crls".into(), json!(carried));
    }
    Ok(shown)
}

/// `nv2 import <file.tar> <target>`: loads an exported tarball, tags last.
pub async fn run_import(ctx: &Context, args: ImportArgs) -> Result<Report, CliError> {
    let tarball = OciLayoutTar::open(&args.file).await?;
    let tar_tags = tarball.layout().tags().await;
    let (target_store, target_display, target_reference): (Box<dyn ContentStore>, String, Option<String>) =
        match &args.registry_data {
            Some(dir) => {
                let (repository, tag) = match args.target.split_once(':') {
                    Some((repository, tag)) => (repository.to_string(), Some(tag.to_string())),
                    None => (args.target.clone(), None),
                };
                let store = RegistryStorage::open(dir, &repository).await?;
                let display = format!("{}/{repository}", dir.display());
                (Box::new(store), display, tag)
            }
            None => {
                let location = parse_location(&args.target, args.to_oci_layout)?;
                if let Location::Registry(r) = &location {
                    if r.digest.is_some() {
                        return Err(CliError::Usage("import into a tag or repository, not a digest".into()));
                    }
                }
                let opened = ctx.open_location(location, true).await?;
                (opened.store, opened.display, opened.reference)
            }
        };
    // The root is the tarball's tag named by the target, else its only tag.
    let (root_tag, tag) = match (&target_reference, tar_tags.len()) {
        (Some(t), _) if tar_tags.contains_key(t) => (t.clone(), t.clone()),
        (Some(t), 1) => (tar_tags.keys().next().cloned().unwrap_or_default(), t.clone()),
        (None, 1) => {
            let only = tar_tags.keys().next().cloned().unwrap_or_default();
            (only.clone(), only)
        }
        (_, 0) => return Err(CliError::Failed(format!("{}: the tarball has no tagged artifact", args.file.display()))),
        _ => {
            let names: Vec<&String> = tar_tags.keys().collect();
            return Err(CliError::Usage(format!(
                "{} holds several tagged artifacts ({names:?}); name one as the target's tag",
                args.file.display()
            )));
        }
    };
    let options = CopyOptions { referrers: true, progress: ctx.progress(), ..CopyOptions::default() };
    let report = copy(&tarball, &root_tag, target_store.as_ref(), &[tag], &options).await?;
    Ok(copy_report("imported", &args.file.display().to_string(), &target_display, &report))
}

/// Attaches to every exported signature the CRLs its chain names (already attached in the source, else downloaded),
/// so verification on the far side of an air gap can check revocation without reaching the distribution points.
async fn carry_crls(source: &dyn ContentStore, tarball: &OciLayoutTar, report: &CopyReport) -> Result<usize, CliError> {
    let fetcher = CrlFetcher::new(DEFAULT_FETCH_TIMEOUT).map_err(CliError::Failed)?;
    let mut carried = 0;
    let signatures =
        report.referrers.iter().filter(|d| d.artifact_type.as_deref() == Some(media_types::NOTARY_SIGNATURE));
    for descriptor in signatures {
        let found = [fetch_signature(tarball, descriptor.clone()).await?];
        let urls = crl_urls(&found);
        if urls.is_empty() {
            continue;
        }
        let mut crls = attached_crls(source, &found).await?;
        let missing: Vec<String> = urls.into_iter().filter(|u| !crls.contains(u)).collect();
        crls.extend_missing(fetcher.fetch(&missing).await);
        carried += crls.len();
        attach_crls(tarball, descriptor, &crls).await?;
    }
    Ok(carried)
}

fn copy_report(verb: &str, from: &str, to: &str, report: &CopyReport) -> Report {
    let mut lines = vec![format!(
        "{verb} {from}@{} to {to}: {} objects ({} bytes) moved, {} already there, {} referrers",
        report.root.digest,
        report.copied,
        report.copied_bytes,
        report.skipped,
        report.referrers.len()
    )];
    for tag in &report.tags {
        lines.push(format!("tagged {to}:{tag} -> {}", report.root.digest));
    }
    let json = json!({
        "source": from,
        "target": to,
        "root": report.root,
        "copied": report.copied,
        "copiedBytes": report.copied_bytes,
        "skipped": report.skipped,
        "skippedBytes": report.skipped_bytes,
        "referrers": report.referrers,
        "referrersCopied": report.referrers_copied,
        "tags": report.tags,
    });
    Report::new(lines, json)
}
