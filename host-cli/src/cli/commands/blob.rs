//! `nv2 blob fetch|push|delete` (registry blobs) and `nv2 blob sign|verify|inspect` (detached signatures of
//! local files: `<file>.jws.sig` / `<file>.cose.sig`, notation's naming, checked against `trustpolicy.blob.json`).

use std::io::Write;
use std::path::{Path, PathBuf};

use futures_util::StreamExt;
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::oci::{Descriptor, Digester};
use nv2_core::verify::{BlobDigester, NoPlugins, SignatureInput, Target, VerifyOptions};
use serde_json::json;
use tokio::io::AsyncReadExt;

use crate::cli::args::{BlobCommand, BlobSignArgs, BlobVerifyArgs, TargetArgs};
use crate::cli::context::{parse_location, read_file, Context};
use crate::cli::error::CliError;
use crate::cli::flag_values::key_values;
use crate::cli::output::Report;
use crate::cli::verdict_view;
use crate::content::{local_file, TransferOutcome};

/// Runs a `blob` subcommand.
pub async fn run(ctx: &Context, command: BlobCommand) -> Result<Report, CliError> {
    match command {
        BlobCommand::Fetch { target, output_file } => fetch(ctx, &target, output_file).await,
        BlobCommand::Push { target, file, media_type } => push(ctx, &target, &file, &media_type).await,
        BlobCommand::Delete { target, force } => {
            let (opened, descriptor) = blob_target(ctx, &target).await?;
            if !force {
                super::confirm(ctx, &format!("delete blob {}?", opened.pinned(&descriptor)))?;
            }
            opened.store.delete(&descriptor).await?;
            Ok(Report::new(vec![format!("deleted {}", opened.pinned(&descriptor))], json!({"deleted": descriptor})))
        }
        BlobCommand::Sign(args) => sign(ctx, args).await,
        BlobCommand::Verify(args) => verify(ctx, args).await,
        BlobCommand::Inspect { signature } => {
            let format = format_from_name(&signature)?;
            let bytes = read_file(&signature)?;
            let (mut lines, json) = super::signature::envelope_view(format, &bytes);
            lines.insert(0, signature.display().to_string());
            Ok(Report::new(lines, json!({"signature": signature, "envelope": json})))
        }
    }
}

async fn blob_target(
    ctx: &Context,
    target: &TargetArgs,
) -> Result<(crate::cli::context::Opened, Descriptor), CliError> {
    let opened = ctx.open(target).await?;
    let digest = match &opened.reference {
        Some(r) if opened.is_digest() => nv2_core::oci::Digest::parse(r)?,
        _ => return Err(CliError::Usage(format!("{}: name the blob by digest (repo@sha256:...)", target.reference))),
    };
    let descriptor = opened.store.resolve_blob(&digest).await?;
    Ok((opened, descriptor))
}

async fn fetch(ctx: &Context, target: &TargetArgs, output: Option<PathBuf>) -> Result<Report, CliError> {
    let (opened, descriptor) = blob_target(ctx, target).await?;
    let mut content = opened.store.fetch(&descriptor).await?;
    let mut digester = Digester::new(descriptor.digest.algorithm());
    let mut size = 0u64;
    let mismatch =
        |actual: String| CliError::Failed(format!("blob {} arrived with digest {actual}", descriptor.digest));
    match &output {
        Some(path) => {
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let mut temp =
                tempfile::Builder::new().prefix(".nv2-").tempfile_in(dir).map_err(|e| CliError::io(dir, e))?;
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                digester.update(&chunk);
                size += chunk.len() as u64;
                temp.write_all(&chunk).map_err(|e| CliError::io(path, e))?;
            }
            let actual = digester.finalize();
            if actual != descriptor.digest {
                return Err(mismatch(actual.to_string()));
            }
            temp.as_file().sync_all().map_err(|e| CliError::io(path, e))?;
            temp.persist(path).map_err(|e| CliError::io(path, e.error))?;
            Ok(Report::new(
                vec![format!("wrote {} ({size} bytes) to {}", descriptor.digest, path.display())],
                json!({"digest": descriptor.digest, "size": size, "path": path}),
            ))
        }
        None => {
            let mut bytes = Vec::new();
            while let Some(chunk) = content.next().await {
                let chunk = chunk?;
                digester.update(&chunk);
                bytes.extend_from_slice(&chunk);
                if bytes.len() > 1 << 30 {
                    return Err(CliError::Usage("blobs over 1 GiB go to a file: pass --output-file".into()));
                }
            }
            let actual = digester.finalize();
            if actual != descriptor.digest {
                return Err(mismatch(actual.to_string()));
            }
            let size = bytes.len();
            Ok(Report::raw(bytes, json!({"digest": descriptor.digest, "size": size})))
        }
    }
}

async fn push(ctx: &Context, target: &TargetArgs, file: &Path, media_type: &str) -> Result<Report, CliError> {
    let opened = ctx.open_location(parse_location(&target.reference, target.oci_layout)?, true).await?;
    let descriptor = local_file::describe(file, media_type).await?;
    let progress = ctx.progress();
    if opened.store.exists(&descriptor).await? {
        progress.finish(&descriptor, TransferOutcome::Skipped);
    } else {
        progress.start(&descriptor);
        opened.store.push(&descriptor, local_file::stream(file).await?).await?;
        progress.finish(&descriptor, TransferOutcome::Copied);
    }
    Ok(Report::new(
        vec![format!("pushed {}", opened.pinned(&descriptor)), format!("digest: {}", descriptor.digest)],
        json!({"descriptor": descriptor}),
    ))
}

/// The envelope format a signature file's name announces (`.jws.sig` / `.cose.sig`), as notation requires.
fn format_from_name(path: &Path) -> Result<EnvelopeFormat, CliError> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    [EnvelopeFormat::Jws, EnvelopeFormat::Cose]
        .into_iter()
        .find(|f| name.ends_with(&format!(".{}.sig", f.name())))
        .ok_or_else(|| {
            CliError::Usage(format!("{}: a blob signature file name ends in .jws.sig or .cose.sig", path.display()))
        })
}

/// Digests a file with every hash a signature algorithm may use, in one pass.
async fn digest_file(path: &Path) -> Result<(nv2_core::verify::BlobDigests, u64), CliError> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| CliError::io(path, e))?;
    let mut digester = BlobDigester::default();
    let mut buffer = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).await.map_err(|e| CliError::io(path, e))?;
        if n == 0 {
            return Ok((digester.finalize(), size));
        }
        digester.update(buffer.get(..n).unwrap_or_default());
        size += n as u64;
    }
}

async fn sign(ctx: &Context, args: BlobSignArgs) -> Result<Report, CliError> {
    let (key, chain) = ctx.config().load_signing_key(args.signer.key.as_deref())?;
    let options = super::signature::sign_options(ctx, &args.signer)?;
    let (digests, size) = digest_file(&args.file).await?;
    let envelope = nv2_core::sign::sign_blob(&digests, size, &args.media_type, &key, &chain, &options)?;
    let name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| CliError::Usage(format!("{}: not a file", args.file.display())))?;
    let dir = args
        .signature_directory
        .clone()
        .unwrap_or_else(|| args.file.parent().map(Path::to_path_buf).unwrap_or_default());
    let path = dir.join(format!("{name}.{}.sig", options.format.name()));
    if path.exists() && !args.force {
        return Err(CliError::Failed(format!("{} exists; pass --force to replace it", path.display())));
    }
    crate::atomic_file::write(&path, &envelope, crate::atomic_file::Mode::Public)
        .map_err(|e| CliError::io(&path, e))?;
    let mut report = Report::new(
        vec![
            format!("Successfully signed {}", args.file.display()),
            format!("Signature file written to {}", path.display()),
        ],
        json!({"file": args.file, "signature": path, "format": options.format.name(), "size": size}),
    );
    if !key.algorithm().is_notary_standard() {
        report = report.warn("signed with Ed25519 (EdDSA), an nv2 extension: notation cannot verify this signature");
    }
    Ok(report)
}

async fn verify(ctx: &Context, args: BlobVerifyArgs) -> Result<Report, CliError> {
    let format = format_from_name(&args.signature)?;
    let envelope = read_file(&args.signature)?;
    if envelope.len() > nv2_core::limits::MAX_ENVELOPE_BYTES {
        return Err(CliError::Failed(format!("{}: larger than the 32 MiB envelope limit", args.signature.display())));
    }
    let policy = ctx.config().blob_policy()?;
    let statement =
        policy.document.statement_for_blob(args.policy_name.as_deref()).map_err(crate::verify::VerifyError::from)?;
    let stores = ctx.config().load_trust_stores(Some(&statement.rules.trust_stores))?;
    let (digests, size) = digest_file(&args.file).await?;
    let target = Target::Blob { digests, size, media_type: args.media_type.clone() };
    let found = [crate::verify::FoundSignature {
        descriptor: Descriptor::for_content("application/octet-stream", &envelope),
        manifest: Vec::new(),
        envelope: envelope.clone(),
        format: Some(format),
    }];
    let urls = crate::revocation::crl_urls(&found);
    let crls = if urls.is_empty() {
        crate::revocation::Crls::default()
    } else {
        let fetcher =
            crate::revocation::CrlFetcher::new(crate::revocation::DEFAULT_FETCH_TIMEOUT).map_err(CliError::Failed)?;
        fetcher.fetch(&urls).await
    };
    let options = VerifyOptions {
        now: crate::clock::now(),
        user_metadata: key_values("--user-metadata", &args.user_metadata).map_err(CliError::Usage)?,
        max_signatures: 1,
        plugins: &NoPlugins,
        crls: &crls,
        check_tsa_revocation: false,
    };
    let input = SignatureInput { manifest: None, envelope: &envelope, format: Some(format) };
    let verdict = nv2_core::verify::verify(&target, &[input], &statement.rules, &stores, &options);
    if !verdict.is_accepted() {
        return Err(CliError::Refused {
            message: format!("verification of {} failed: {}", args.file.display(), verdict.reason()),
            details: verdict_view::to_json(&verdict),
        });
    }
    Ok(Report::new(
        vec![format!("Successfully verified signature {} for {}", args.signature.display(), args.file.display())],
        verdict_view::to_json(&verdict),
    ))
}
