//! Scanning an image that lives in any content store: its manifest (one platform of an index) is read, each layer
//! fetched to a temporary file and checked against its digest, then the layers are applied in order.

use std::io::{Seek, SeekFrom};

use futures_util::StreamExt;
use nv2_core::limits::MAX_MANIFEST_BYTES;
use nv2_core::oci::{media_types, Descriptor, Digester, ParsedManifest, Platform};
use tokio::io::AsyncWriteExt;

use super::contents::ImageContents;
use super::document::ImageSubject;
use super::error::SbomError;
use crate::build::platform_name;
use crate::content::{fetch_all, ContentError, ContentStore};

/// Largest image config read (for the platform).
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// Layer media types whose content is a (possibly gzip) tar.
const TAR_LAYERS: [&str; 5] = [
    media_types::OCI_LAYER_TAR,
    media_types::OCI_LAYER_TAR_GZIP,
    media_types::DOCKER_LAYER_GZIP,
    media_types::OCI_LAYER_NONDISTRIBUTABLE_TAR,
    media_types::OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
];

/// An image's contents together with which manifest and platform they are of.
#[derive(Clone, Debug)]
pub struct ScannedImage {
    /// The image manifest scanned (one platform's, when an index was given).
    pub manifest: Descriptor,
    /// The platform, from the index entry or the config.
    pub platform: Option<Platform>,
    /// The files and packages.
    pub contents: ImageContents,
}

impl ScannedImage {
    /// The subject to generate an SBoM for, named `name`.
    pub fn subject(&self, name: &str) -> ImageSubject {
        ImageSubject { name: name.to_string(), digest: self.manifest.digest.clone(), platform: self.platform.clone() }
    }
}

/// Scans the image `descriptor` names in `store`. For an index, `platform` picks the manifest (`None` is fine when
/// the index has one image, attestation entries for `unknown/unknown` aside).
pub async fn scan_image(
    store: &dyn ContentStore,
    descriptor: &Descriptor,
    platform: Option<&Platform>,
) -> Result<ScannedImage, SbomError> {
    let parsed = fetch_manifest(store, descriptor).await?;
    let (manifest, parsed, index_platform) =
        if parsed.as_image_index().is_some() || parsed.media_type() == media_types::DOCKER_MANIFEST_LIST {
            let child = select_platform(descriptor, &parsed, platform)?;
            let child_parsed = fetch_manifest(store, &child).await?;
            (Descriptor::new(&child.media_type, child.digest.clone(), child.size), child_parsed, child.platform.clone())
        } else {
            (Descriptor::new(&descriptor.media_type, descriptor.digest.clone(), descriptor.size), parsed, None)
        };
    let what = manifest.digest.to_string();
    let not_image = |reason: String| SbomError::NotAnImage { what: what.clone(), reason };
    let children = parsed.references();
    let config = children
        .iter()
        .find(|c| c.kind == nv2_core::oci::ChildKind::Config)
        .map(|c| c.descriptor.clone())
        .ok_or_else(|| not_image(format!("a {} has no image config", parsed.media_type())))?;
    if config.media_type != media_types::OCI_IMAGE_CONFIG && config.media_type != media_types::DOCKER_CONFIG {
        return Err(not_image(format!("its config is {}, not an image config (an artifact?)", config.media_type)));
    }
    let layers: Vec<Descriptor> =
        children.iter().filter(|c| c.kind == nv2_core::oci::ChildKind::Layer).map(|c| c.descriptor.clone()).collect();
    if let Some(layer) = layers.iter().find(|l| !TAR_LAYERS.contains(&l.media_type.as_str())) {
        return Err(not_image(format!(
            "layer {} is {}, which nv2 cannot read as a tar",
            layer.digest, layer.media_type
        )));
    }
    let platform = match index_platform {
        Some(platform) => Some(platform),
        None => config_platform(&fetch_all(store, &config, MAX_CONFIG_BYTES).await?),
    };
    let mut files = Vec::new();
    for layer in &layers {
        files.push((layer.digest.to_string(), spool_layer(store, layer).await?));
    }
    let contents = tokio::task::spawn_blocking(move || ImageContents::scan(files))
        .await
        .map_err(|e| SbomError::io("layer scan", std::io::Error::other(e.to_string())))??;
    Ok(ScannedImage { manifest, platform, contents })
}

async fn fetch_manifest(store: &dyn ContentStore, descriptor: &Descriptor) -> Result<ParsedManifest, SbomError> {
    let bytes = fetch_all(store, descriptor, MAX_MANIFEST_BYTES as u64).await?;
    ParsedManifest::parse(Some(&descriptor.media_type), &bytes)
        .map_err(|source| SbomError::Oci { what: descriptor.digest.to_string(), source })
}

/// The index entry for `wanted`, or the only image entry.
fn select_platform(
    index: &Descriptor,
    parsed: &ParsedManifest,
    wanted: Option<&Platform>,
) -> Result<Descriptor, SbomError> {
    let entries: Vec<&Descriptor> =
        parsed.references().into_iter().filter(|c| c.is_manifest()).map(|c| c.descriptor).collect();
    let is_attestation =
        |d: &&Descriptor| d.platform.as_ref().is_some_and(|p| p.os == "unknown" && p.architecture == "unknown");
    let matching: Vec<&Descriptor> = match wanted {
        Some(want) => entries
            .iter()
            .copied()
            .filter(|d| {
                d.platform.as_ref().is_some_and(|p| {
                    p.os == want.os
                        && p.architecture == want.architecture
                        && (want.variant.is_none() || p.variant == want.variant)
                })
            })
            .collect(),
        None => entries.iter().copied().filter(|d| !is_attestation(d)).collect(),
    };
    let listed = || {
        entries
            .iter()
            .map(|d| d.platform.as_ref().map_or_else(|| d.digest.to_string(), platform_name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let selection = |reason: String| SbomError::PlatformSelection { index: index.digest.to_string(), reason };
    match (matching.as_slice(), wanted) {
        ([one], _) => Ok((*one).clone()),
        ([], Some(want)) => Err(selection(format!("has no {} image; it has {}", platform_name(want), listed()))),
        ([], None) => Err(selection(String::from("lists no image"))),
        (_, _) => Err(selection(format!("has several images ({}); name a platform", listed()))),
    }
}

/// The platform an image config states, if it states one.
fn config_platform(config: &[u8]) -> Option<Platform> {
    let value: serde_json::Value = serde_json::from_slice(config).ok()?;
    let text = |field: &str| value.get(field).and_then(serde_json::Value::as_str).map(str::to_string);
    Some(Platform {
        architecture: text("architecture")?,
        os: text("os")?,
        os_version: text("os.version"),
        os_features: Vec::new(),
        variant: text("variant"),
        features: Vec::new(),
    })
}

/// Fetches a layer into an anonymous temporary file, checking size and digest as it arrives.
async fn spool_layer(store: &dyn ContentStore, layer: &Descriptor) -> Result<std::fs::File, SbomError> {
    let temp = || format!("temporary file for layer {}", layer.digest);
    let file = tempfile::tempfile().map_err(|e| SbomError::io(temp(), e))?;
    let mut out = tokio::fs::File::from_std(file);
    let mut stream = store.fetch(layer).await?;
    let mut digester = Digester::new(layer.digest.algorithm());
    let mut size = 0u64;
    let mismatch = |reason: String| ContentError::Mismatch { expected: layer.digest.to_string(), reason };
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        if size > layer.size {
            return Err(mismatch(format!("more than the {} bytes the descriptor names", layer.size)).into());
        }
        digester.update(&chunk);
        out.write_all(&chunk).await.map_err(|e| SbomError::io(temp(), e))?;
    }
    if size != layer.size {
        return Err(mismatch(format!("{size} bytes, the descriptor names {}", layer.size)).into());
    }
    let actual = digester.finalize();
    if actual != layer.digest {
        return Err(mismatch(format!("the bytes digest to {actual}")).into());
    }
    out.flush().await.map_err(|e| SbomError::io(temp(), e))?;
    let mut file = out.into_std().await;
    file.seek(SeekFrom::Start(0)).map_err(|e| SbomError::io(temp(), e))?;
    Ok(file)
}
