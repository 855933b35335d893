//! `nv2 build` and `nv2 sbom generate|attach`: thin wiring around [`crate::build`] and [`crate::sbom`]. A build
//! pushes by digest; a tag on `-t` is set after the push (sign first, then `nv2 tag`, to move tags last).

use std::collections::BTreeMap;

use serde_json::json;

use crate::build::{
    build_from_directory, build_from_docker_save, build_from_oci_layout, parse_platform, parse_platforms,
    split_layout_argument, BuildOptions, BuiltImage,
};
use crate::cli::args::{BuildArgs, SbomCommand, SbomFormatArg};
use crate::cli::context::{parse_location, read_file, Context};
use crate::cli::error::CliError;
use crate::cli::flag_values::key_values;
use crate::cli::output::Report;
use crate::sbom::{attach, generate, scan_image, Sbom, SbomFormat};

/// `nv2 build`.
pub async fn run_build(ctx: &Context, args: BuildArgs) -> Result<Report, CliError> {
    let failed = |e: crate::build::BuildError| CliError::Failed(e.to_string());
    let target = ctx.open_location(parse_location(&args.target, args.oci_layout)?, true).await?;
    if target.is_digest() {
        return Err(CliError::Usage("-t names a repository or a tag; the digest comes from the build".into()));
    }
    let words = |text: &Option<String>| {
        text.as_deref().map(|t| t.split_whitespace().map(String::from).collect()).unwrap_or_default()
    };
    let options = BuildOptions {
        platforms: parse_platforms(&args.platform).map_err(failed)?,
        entrypoint: words(&args.entrypoint),
        cmd: words(&args.cmd),
        env: args.env.clone(),
        working_dir: args.workdir.clone(),
        labels: key_values("--label", &args.labels).map_err(CliError::Usage)?,
        annotations: BTreeMap::new(),
        source_date_epoch: crate::build::source_date_epoch_from_env().map_err(failed)?,
    };
    let (from_docker_save, image, from_layout, directory) =
        (args.from_docker_save.clone(), args.image.clone(), args.from_oci_layout.clone(), args.directory.clone());
    // Building reads and compresses files: blocking work, kept off the async runtime's threads.
    let built: BuiltImage = tokio::task::spawn_blocking(move || match (from_docker_save, from_layout, directory) {
        (Some(archive), _, _) => build_from_docker_save(&archive, image.as_deref()),
        (None, Some(layout), _) => {
            let (dir, reference) = split_layout_argument(&layout);
            build_from_oci_layout(&dir, reference.as_deref())
        }
        (None, None, Some(dir)) => build_from_directory(&dir, &options),
        (None, None, None) => Err(crate::build::BuildError::InvalidOption {
            option: "nv2 build".into(),
            reason: "give a directory, --from-docker-save FILE or --from-oci-layout DIR".into(),
        }),
    })
    .await
    .map_err(|e| CliError::Failed(format!("build task: {e}")))?
    .map_err(failed)?;
    let progress = ctx.progress();
    let descriptor = built.push_to_with_progress(target.store.as_ref(), progress.as_ref()).await.map_err(failed)?;
    let mut lines = vec![format!("built and pushed {}", target.pinned(&descriptor))];
    if let Some(tag) = target.tag() {
        target.store.tag(&descriptor, tag).await?;
        lines.push(format!("tagged {}:{tag}", target.display));
    }
    lines.push(format!("digest: {}", descriptor.digest));
    Ok(Report::new(
        lines,
        json!({"reference": target.pinned(&descriptor), "descriptor": descriptor, "tag": target.tag(),
               "manifests": built.manifests.iter().map(|(d, _)| d).collect::<Vec<_>>()}),
    ))
}

/// `nv2 sbom ...`.
pub async fn run_sbom(ctx: &Context, command: SbomCommand) -> Result<Report, CliError> {
    let failed = |e: crate::sbom::SbomError| CliError::Failed(e.to_string());
    match command {
        SbomCommand::Generate { target, output_file, format, platform } => {
            let opened = ctx.open(&target).await?;
            let descriptor = opened.resolve().await?;
            let platform =
                platform.as_deref().map(parse_platform).transpose().map_err(|e| CliError::Usage(e.to_string()))?;
            let scanned = scan_image(opened.store.as_ref(), &descriptor, platform.as_ref()).await.map_err(failed)?;
            let format = match format {
                SbomFormatArg::Spdx => SbomFormat::Spdx,
                SbomFormatArg::Cyclonedx => SbomFormat::CycloneDx,
            };
            let subject = scanned.subject(&opened.display);
            let created = crate::clock::now().to_rfc3339();
            let sbom = generate(&scanned.contents, &subject, format, &created).map_err(failed)?;
            let packages = scanned.contents.packages().len();
            let files = scanned.contents.files().count();
            let summary = json!({"subject": opened.pinned(&scanned.manifest), "format": format.media_type(),
                                 "packages": packages, "files": files});
            match output_file {
                Some(path) => {
                    crate::atomic_file::write(&path, sbom.bytes(), crate::atomic_file::Mode::Public)
                        .map_err(|e| CliError::io(&path, e))?;
                    Ok(Report::new(
                        vec![format!(
                            "wrote {} SBoM of {} ({packages} packages, {files} files) to {}",
                            format.media_type(),
                            opened.pinned(&scanned.manifest),
                            path.display()
                        )],
                        summary,
                    ))
                }
                None => Ok(Report::raw(sbom.into_bytes(), summary)),
            }
        }
        SbomCommand::Attach { subject, file } => {
            let opened = ctx.open(&subject).await?;
            let descriptor = opened.resolve().await?;
            let sbom = Sbom::from_bytes(read_file(&file)?).map_err(failed)?;
            let annotations =
                BTreeMap::from([(nv2_core::sign::CREATED_ANNOTATION.to_string(), crate::clock::now().to_rfc3339())]);
            let referrer = attach(opened.store.as_ref(), &descriptor, &sbom, &annotations).await.map_err(failed)?;
            Ok(Report::new(
                vec![
                    format!(
                        "attached {} SBoM {} to {}",
                        sbom.media_type(),
                        referrer.descriptor.digest,
                        opened.pinned(&descriptor)
                    ),
                    format!("digest: {}", referrer.descriptor.digest),
                ],
                json!({"subject": descriptor, "descriptor": referrer.descriptor, "artifactType": sbom.media_type()}),
            ))
        }
    }
}
