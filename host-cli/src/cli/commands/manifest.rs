//! `nv2 tag`, `nv2 resolve`, `nv2 manifest fetch|push|delete`: manifests by tag and digest, byte-exact.

use std::io::Read;

use nv2_core::oci::{Descriptor, ParsedManifest};
use serde_json::json;

use crate::cli::args::{ManifestCommand, TagArgs, TargetArgs};
use crate::cli::context::{parse_location, Context};
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::content::{fetch_all, stream_of};

/// `nv2 tag <ref> <tags...>`: points tags at a manifest (the prototype-2 flow moves the tag last).
pub async fn run_tag(ctx: &Context, args: TagArgs) -> Result<Report, CliError> {
    let target = ctx.open(&args.target).await?;
    let descriptor = target.resolve().await?;
    for tag in &args.tags {
        nv2_core::oci::validate_tag(tag)?;
    }
    for tag in &args.tags {
        target.store.tag(&descriptor, tag).await?;
    }
    let lines = args.tags.iter().map(|t| format!("tagged {}:{t} -> {}", target.display, descriptor.digest)).collect();
    Ok(Report::new(lines, json!({"descriptor": descriptor, "tags": args.tags})))
}

/// `nv2 resolve <ref>`.
pub async fn run_resolve(ctx: &Context, args: TargetArgs) -> Result<Report, CliError> {
    let target = ctx.open(&args).await?;
    let descriptor = target.resolve().await?;
    Ok(Report::new(
        vec![descriptor.digest.to_string()],
        json!({"reference": target.pinned(&descriptor), "descriptor": descriptor}),
    ))
}

/// `nv2 manifest ...`.
pub async fn run(ctx: &Context, command: ManifestCommand) -> Result<Report, CliError> {
    match command {
        ManifestCommand::Fetch { target, descriptor: only_descriptor } => {
            let opened = ctx.open(&target).await?;
            let descriptor = opened.resolve().await?;
            if only_descriptor {
                let text = serde_json::to_string(&descriptor).unwrap_or_default();
                return Ok(Report::new(vec![text], json!(descriptor)));
            }
            let bytes =
                fetch_all(opened.store.as_ref(), &descriptor, nv2_core::limits::MAX_MANIFEST_BYTES as u64).await?;
            let document: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            let mut raw = bytes;
            raw.push(b'\n');
            Ok(Report::raw(raw, json!({"descriptor": descriptor, "manifest": document})))
        }
        ManifestCommand::Push { target, file, media_type } => {
            let bytes = if file.as_os_str() == "-" {
                let mut b = Vec::new();
                std::io::stdin().read_to_end(&mut b).map_err(|e| CliError::Failed(format!("reading stdin: {e}")))?;
                b
            } else {
                crate::cli::context::read_file(&file)?
            };
            let parsed = ParsedManifest::parse(media_type.as_deref(), &bytes)?;
            let opened = ctx.open_location(parse_location(&target.reference, target.oci_layout)?, true).await?;
            let descriptor = Descriptor::new(parsed.media_type(), parsed.digest().clone(), parsed.size());
            if let Some(reference) = &opened.reference {
                if opened.is_digest() && *reference != descriptor.digest.to_string() {
                    return Err(CliError::Failed(format!(
                        "{}: the file's digest is {}, not {reference}",
                        file.display(),
                        descriptor.digest
                    )));
                }
            }
            opened.store.push(&descriptor, stream_of(bytes)).await?;
            if let Some(tag) = opened.tag() {
                opened.store.tag(&descriptor, tag).await?;
            }
            Ok(Report::new(
                vec![format!("pushed {}", opened.pinned(&descriptor))],
                json!({"descriptor": descriptor, "tag": opened.tag()}),
            ))
        }
        ManifestCommand::Delete { target, force } => {
            let opened = ctx.open(&target).await?;
            let descriptor = opened.resolve().await?;
            if !force {
                super::confirm(ctx, &format!("delete manifest {}?", opened.pinned(&descriptor)))?;
            }
            opened.store.delete(&descriptor).await?;
            Ok(Report::new(vec![format!("deleted {}", opened.pinned(&descriptor))], json!({"deleted": descriptor})))
        }
    }
}
