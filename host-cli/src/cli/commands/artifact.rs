//! `nv2 push`, `nv2 pull` and `nv2 attach`: files as OCI artifacts, the way ORAS stores them (an image manifest
//! whose layers are the files, each named by `org.opencontainers.image.title`, with `artifactType` and an empty
//! config unless one is given). `attach` adds a `subject`, which links the artifact to the image as a referrer.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use futures_util::{stream, StreamExt, TryStreamExt};
use nv2_core::oci::{media_types, Descriptor, ImageManifest, ParsedManifest};
use serde_json::json;

use crate::cli::args::{AttachArgs, PullArgs, PushArgs};
use crate::cli::context::{Context, Opened};
use crate::cli::error::CliError;
use crate::cli::flag_values::{file_with_media_type, key_values};
use crate::cli::output::Report;
use crate::content::{fetch_all, local_file, stream_of, TransferOutcome};

/// The annotation naming a file inside an artifact.
pub const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";
/// ORAS's default artifact type when neither a type nor a config is given.
pub const UNKNOWN_ARTIFACT_TYPE: &str = "application/vnd.unknown.artifact.v1";

/// `nv2 push <ref> <files...>`.
pub async fn run_push(ctx: &Context, args: PushArgs) -> Result<Report, CliError> {
    let target = ctx
        .open_location(crate::cli::context::parse_location(&args.target.reference, args.target.oci_layout)?, true)
        .await?;
    if target.is_digest() {
        return Err(CliError::Usage("push to a repository or a tag; the digest is computed from the files".into()));
    }
    let annotations = key_values("--annotation", &args.annotations).map_err(CliError::Usage)?;
    let (descriptor, _) = push_files(
        ctx,
        &target,
        &args.files,
        args.artifact_type.as_deref(),
        args.config_file.as_deref(),
        &annotations,
        None,
        args.concurrency,
    )
    .await?;
    let mut lines = vec![format!("pushed {}", target.pinned(&descriptor))];
    if let Some(tag) = target.tag() {
        target.store.tag(&descriptor, tag).await?;
        lines.push(format!("tagged {}:{tag}", target.display));
    }
    lines.push(format!("digest: {}", descriptor.digest));
    Ok(Report::new(
        lines,
        json!({"reference": target.pinned(&descriptor), "descriptor": descriptor, "tag": target.tag()}),
    ))
}

/// `nv2 attach --artifact-type T <subject> <files...>`.
pub async fn run_attach(ctx: &Context, args: AttachArgs) -> Result<Report, CliError> {
    let subject_store = ctx.open(&args.subject).await?;
    let subject = subject_store.resolve().await?;
    let mut report = Report::default();
    if subject_store.tag().is_some() {
        report = report.warn(format!(
            "{} resolved to {}: attach by digest to be sure which artifact you link to",
            args.subject.reference, subject.digest
        ));
    }
    let annotations = key_values("--annotation", &args.annotations).map_err(CliError::Usage)?;
    let link = Descriptor::new(&subject.media_type, subject.digest.clone(), subject.size);
    let (descriptor, _) =
        push_files(ctx, &subject_store, &args.files, Some(&args.artifact_type), None, &annotations, Some(link), 4)
            .await?;
    report.lines = vec![
        format!("attached {} to {}", descriptor.digest, subject_store.pinned(&subject)),
        format!("digest: {}", descriptor.digest),
    ];
    report.json = json!({"subject": subject, "descriptor": descriptor, "artifactType": args.artifact_type});
    Ok(report)
}

/// Pushes `files` as layers and a manifest describing them; returns the manifest descriptor and bytes.
#[allow(clippy::too_many_arguments)]
pub async fn push_files(
    ctx: &Context,
    target: &Opened,
    files: &[String],
    artifact_type: Option<&str>,
    config_file: Option<&str>,
    annotations: &BTreeMap<String, String>,
    subject: Option<Descriptor>,
    concurrency: usize,
) -> Result<(Descriptor, Vec<u8>), CliError> {
    let progress = ctx.progress();
    let store = target.store.as_ref();
    let mut layers = Vec::new();
    let mut paths = Vec::new();
    for file in files {
        let (path, media_type) = file_with_media_type(file, media_types::OCI_LAYER_TAR);
        let title = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| CliError::Usage(format!("{file}: not a file name")))?
            .to_string();
        let mut descriptor = local_file::describe(&path, &media_type).await?;
        descriptor.annotations.insert(TITLE_ANNOTATION.to_string(), title);
        layers.push(descriptor);
        paths.push(path);
    }
    let (config, config_path) = match config_file {
        Some(value) => {
            let (path, media_type) = file_with_media_type(value, "application/vnd.oci.image.config.v1+json");
            (local_file::describe(&path, &media_type).await?, Some(path))
        }
        None => (Descriptor::empty(), None),
    };
    let mut uploads: Vec<(Descriptor, Option<PathBuf>)> =
        layers.iter().cloned().zip(paths.into_iter().map(Some)).collect();
    uploads.push((config.clone(), config_path));
    stream::iter(uploads.into_iter().map(|(descriptor, path)| {
        let progress = progress.clone();
        async move {
            if store.exists(&descriptor).await? {
                progress.finish(&descriptor, TransferOutcome::Skipped);
                return Ok::<(), CliError>(());
            }
            progress.start(&descriptor);
            let content = match &path {
                Some(path) => local_file::stream(path).await?,
                None => stream_of(&b"{}"[..]),
            };
            store.push(&descriptor, content).await?;
            progress.finish(&descriptor, TransferOutcome::Copied);
            Ok(())
        }
    }))
    .buffer_unordered(concurrency.max(1))
    .try_collect::<Vec<()>>()
    .await?;

    let artifact_type = match (artifact_type, config_file) {
        (Some(t), _) => Some(t.to_string()),
        (None, None) => Some(UNKNOWN_ARTIFACT_TYPE.to_string()),
        (None, Some(_)) => None,
    };
    let mut manifest = ImageManifest::new(config, if layers.is_empty() { vec![Descriptor::empty()] } else { layers });
    manifest.artifact_type = artifact_type;
    manifest.subject = subject;
    manifest.annotations.extend(annotations.clone());
    let bytes = manifest.to_json_bytes()?;
    let descriptor = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &bytes);
    store.push(&descriptor, stream_of(bytes.clone())).await?;
    Ok((descriptor, bytes))
}

/// `nv2 pull <ref> [-o dir]`.
pub async fn run_pull(ctx: &Context, args: PullArgs) -> Result<Report, CliError> {
    let source = ctx.open(&args.target).await?;
    let mut descriptor = source.resolve().await?;
    let mut report = Report::default();
    if args.verify {
        let verification =
            super::signature::verify_resolved(ctx, &source, &descriptor, &Default::default(), 100).await?;
        descriptor = verification.target.clone();
        report.lines.push(format!("verified {} ({})", source.pinned(&descriptor), verification.verdict.reason()));
    }
    let bytes = fetch_all(source.store.as_ref(), &descriptor, nv2_core::limits::MAX_MANIFEST_BYTES as u64).await?;
    let parsed = ParsedManifest::parse(Some(&descriptor.media_type), &bytes)?;
    let files: Vec<(Descriptor, PathBuf)> = parsed
        .references()
        .into_iter()
        .filter_map(|child| {
            let title = child.descriptor.annotations.get(TITLE_ANNOTATION)?;
            Some((child.descriptor.clone(), title.clone()))
        })
        .map(|(d, title)| safe_path(&args.output_dir, &title).map(|p| (d, p)))
        .collect::<Result<_, _>>()?;
    if files.is_empty() {
        report = report.warn(format!("{} has no files named by {TITLE_ANNOTATION}", source.pinned(&descriptor)));
    }
    let progress = ctx.progress();
    let store = source.store.as_ref();
    stream::iter(files.iter().map(|(d, path)| {
        let progress = progress.clone();
        async move {
            progress.start(d);
            let content = store.fetch(d).await?;
            local_file::write_verified(content, d, path).await?;
            progress.finish(d, TransferOutcome::Copied);
            Ok::<(), CliError>(())
        }
    }))
    .buffer_unordered(args.concurrency.max(1))
    .try_collect::<Vec<()>>()
    .await?;
    report.lines.push(format!("pulled {}", source.pinned(&descriptor)));
    report.lines.extend(files.iter().map(|(d, p)| format!("  {} ({} bytes)", p.display(), d.size)));
    report.json = json!({
        "reference": source.pinned(&descriptor),
        "files": files.iter().map(|(d, p)| json!({"path": p, "descriptor": d})).collect::<Vec<_>>(),
    });
    Ok(report)
}

/// `dir/title`, refusing titles that would escape `dir` (absolute paths, `..`).
fn safe_path(dir: &Path, title: &str) -> Result<PathBuf, CliError> {
    let relative = Path::new(title);
    let safe = !title.is_empty() && relative.components().all(|c| matches!(c, Component::Normal(_)));
    if !safe {
        return Err(CliError::Failed(format!(
            "refusing to write {title:?}: the file name escapes the output directory"
        )));
    }
    Ok(dir.join(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_cannot_escape_the_output_directory() {
        let dir = Path::new("/out");
        assert_eq!(safe_path(dir, "sbom.json").unwrap(), PathBuf::from("/out/sbom.json"));
        assert_eq!(safe_path(dir, "a/b.txt").unwrap(), PathBuf::from("/out/a/b.txt"));
        for bad in ["../x", "/etc/passwd", "a/../../x", "", "."] {
            assert!(safe_path(dir, bad).is_err(), "{bad}");
        }
    }
}
