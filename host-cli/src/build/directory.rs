//! `nv2 build <dir>`: one reproducible gzip layer from the directory, and one config and manifest per platform
//! (an index over them when there are several; the layer is shared, it does not depend on the platform).

use std::path::Path;

use nv2_core::oci::{media_types, Descriptor, ImageIndex, ImageManifest};

use super::error::BuildError;
use super::image::{BlobSource, BuiltBlob, BuiltImage};
use super::image_config::directory_config;
use super::layer::directory_layer;
use super::options::BuildOptions;
use super::platform::{default_platform, platform_name};

/// The manifest annotation holding the build time; written only when `SOURCE_DATE_EPOCH` fixes it.
const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// Builds an image of the tree under `dir` (blocking: it reads the tree and compresses the layer, so async callers
/// run it on a blocking thread).
pub fn build_from_directory(dir: &Path, options: &BuildOptions) -> Result<BuiltImage, BuildError> {
    options.validate()?;
    let platforms = match options.platforms.as_slice() {
        [] => vec![default_platform()],
        list => list.to_vec(),
    };
    let layer = directory_layer(dir, options)?;
    let mut blobs = vec![BuiltBlob { descriptor: layer.descriptor.clone(), source: layer.source.clone() }];
    let mut manifests = Vec::new();
    for platform in &platforms {
        let config = directory_config(options, platform, std::slice::from_ref(&layer.diff_id))?;
        let config_descriptor = Descriptor::for_content(media_types::OCI_IMAGE_CONFIG, &config);
        blobs.push(BuiltBlob { descriptor: config_descriptor.clone(), source: BlobSource::Memory(config.into()) });
        let mut manifest = ImageManifest::new(config_descriptor, vec![layer.descriptor.clone()]);
        manifest.annotations = annotations(options);
        let bytes = manifest
            .to_json_bytes()
            .map_err(|source| BuildError::Oci { what: format!("manifest for {}", platform_name(platform)), source })?;
        let mut descriptor = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &bytes);
        if platforms.len() > 1 {
            descriptor.platform = Some(platform.clone());
        }
        manifests.push((descriptor, bytes));
    }
    let root = match manifests.as_slice() {
        [(single, _)] => single.clone(),
        _ => index_over(&mut manifests, options)?,
    };
    Ok(BuiltImage { root, blobs, manifests, source_tags: Vec::new() })
}

/// Appends the index listing `manifests` (with their platforms) and returns its descriptor.
fn index_over(manifests: &mut Vec<(Descriptor, Vec<u8>)>, options: &BuildOptions) -> Result<Descriptor, BuildError> {
    let mut index = ImageIndex::new(manifests.iter().map(|(descriptor, _)| descriptor.clone()).collect());
    index.annotations = annotations(options);
    let bytes =
        index.to_json_bytes().map_err(|source| BuildError::Oci { what: String::from("image index"), source })?;
    let descriptor = Descriptor::for_content(media_types::OCI_IMAGE_INDEX, &bytes);
    manifests.push((descriptor.clone(), bytes));
    Ok(descriptor)
}

/// The user's annotations, plus the creation time when it is deterministic.
fn annotations(options: &BuildOptions) -> std::collections::BTreeMap<String, String> {
    let mut annotations = options.annotations.clone();
    if options.source_date_epoch.is_some() {
        annotations.entry(CREATED_ANNOTATION.to_string()).or_insert_with(|| options.created());
    }
    annotations
}
