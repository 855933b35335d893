//! `nv2 sbom attach`: an SBoM linked to its image as an OCI 1.1 referrer, in the shape ORAS and notation use:
//! an image manifest with `artifactType` = the SBoM media type, the empty config, one layer holding the document,
//! and `subject` = the image. The referrer can then be signed like any artifact.

use std::collections::BTreeMap;

use nv2_core::oci::{media_types, Descriptor, ImageManifest};

use super::document::Sbom;
use super::error::SbomError;
use crate::content::{stream_of, ContentStore};

/// Layer annotation naming the file (what `oras pull` writes it as).
const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";

/// The referrer manifest of an SBoM and its descriptors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomReferrer {
    /// The referrer manifest's descriptor, with `artifactType` set (what a referrers list shows).
    pub descriptor: Descriptor,
    /// The exact manifest bytes.
    pub manifest: Vec<u8>,
    /// The layer holding the SBoM document.
    pub layer: Descriptor,
}

/// Builds the referrer manifest linking `sbom` to `subject` (the image manifest or index), with `annotations` on
/// the manifest (for example `org.opencontainers.image.created`, which the caller supplies: no clock here).
pub fn sbom_referrer(
    subject: &Descriptor,
    sbom: &Sbom,
    annotations: &BTreeMap<String, String>,
) -> Result<SbomReferrer, SbomError> {
    let mut layer = Descriptor::for_content(sbom.media_type(), sbom.bytes());
    layer.annotations.insert(TITLE_ANNOTATION.to_string(), sbom.format().file_name().to_string());
    let subject = Descriptor::new(&subject.media_type, subject.digest.clone(), subject.size);
    let mut manifest = ImageManifest::artifact(sbom.media_type(), vec![layer.clone()]).with_subject(subject);
    manifest.annotations = annotations.clone();
    let bytes = manifest
        .to_json_bytes()
        .map_err(|source| SbomError::Oci { what: String::from("SBoM referrer manifest"), source })?;
    let mut descriptor = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &bytes);
    descriptor.artifact_type = Some(sbom.media_type().to_string());
    descriptor.annotations = annotations.clone();
    Ok(SbomReferrer { descriptor, manifest: bytes, layer })
}

/// Pushes `sbom` into `store` as a referrer of `subject`: empty config and document first, the manifest last (so
/// a registry never sees a manifest whose blobs are missing). Returns what was pushed.
pub async fn attach(
    store: &dyn ContentStore,
    subject: &Descriptor,
    sbom: &Sbom,
    annotations: &BTreeMap<String, String>,
) -> Result<SbomReferrer, SbomError> {
    let referrer = sbom_referrer(subject, sbom, annotations)?;
    let config = Descriptor::empty();
    if !store.exists(&config).await? {
        store.push(&config, stream_of(&b"{}"[..])).await?;
    }
    if !store.exists(&referrer.layer).await? {
        store.push(&referrer.layer, stream_of(sbom.bytes().to_vec())).await?;
    }
    store.push(&referrer.descriptor, stream_of(referrer.manifest.clone())).await?;
    Ok(referrer)
}
