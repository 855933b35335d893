//! The referrers API's building blocks, shared by the registry (which answers it) and clients (which fall back to
//! the tag schema when a registry lacks it).

use super::{media_types as mt, Descriptor, Digest, ImageIndex, OciError, ParsedManifest};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The descriptor a manifest contributes to its subject's referrers index: media type, digest, size,
/// `artifactType` (derived as the spec says) and the manifest's annotations.
pub fn referrer_descriptor(manifest: &ParsedManifest) -> Descriptor {
    let mut d = manifest.descriptor();
    d.artifact_type = manifest.artifact_type().map(String::from);
    d.annotations = manifest.annotations().clone();
    d
}

/// A referrers response / tag-schema index body listing `descriptors`.
pub fn referrers_index(descriptors: Vec<Descriptor>) -> Result<Vec<u8>, OciError> {
    ImageIndex::new(descriptors).to_json_bytes()
}

/// Keeps the descriptors whose `artifactType` is `artifact_type` (the `artifactType` query filter).
pub fn filter_by_artifact_type(descriptors: Vec<Descriptor>, artifact_type: &str) -> Vec<Descriptor> {
    descriptors.into_iter().filter(|d| d.artifact_type.as_deref() == Some(artifact_type)).collect()
}

/// The referrers tag schema's tag for a subject: `<alg>-<ref>`, the algorithm truncated to 32 characters and the
/// encoded part to 64 (distribution-spec v1.1 "Referrers Tag Schema").
pub fn fallback_tag(subject: &Digest) -> String {
    let alg: String = subject.algorithm().name().chars().take(32).collect();
    let encoded: String = subject.hex().chars().take(64).collect();
    format!("{alg}-{encoded}")
}

/// Whether `media_type` is what a referrers index must be (clients treat anything else as "no referrers API").
pub fn is_referrers_index_media_type(media_type: &str) -> bool {
    media_type.split(';').next().is_some_and(|m| m.trim() == mt::OCI_IMAGE_INDEX)
}
