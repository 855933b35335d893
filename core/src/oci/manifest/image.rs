//! The OCI image manifest and image index (image-spec v1.1), with builders that write them the way notation and
//! ORAS do: `schemaVersion`, `mediaType`, `artifactType`, then the descriptors, `subject`, `annotations`.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::to_json;
use crate::oci::descriptor::Descriptor;
use crate::oci::error::OciError;
use crate::oci::media_types;

/// An OCI image manifest (`application/vnd.oci.image.manifest.v1+json`); also how signatures and other artifacts
/// are stored since image-spec 1.1.
///
/// Reading is lenient where the spec binds producers only (a missing `artifactType` next to an empty config is
/// read, with the config type as the artifact type); [`ImageManifest::artifact`] always writes the full shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// `application/vnd.oci.image.manifest.v1+json` (optional in the spec, always written by nv2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Type of artifact this manifest stores; required when the config is the empty descriptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob (the empty descriptor for artifacts without one).
    pub config: Descriptor,
    /// The layer blobs (for a signature: exactly one, the envelope).
    #[serde(default, deserialize_with = "crate::oci::descriptor::null_as_default")]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (a signature's signed image); what the referrers API indexes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata (copied into referrers lists).
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// An image manifest with `config` and `layers` and nothing else.
    pub fn new(config: Descriptor, layers: Vec<Descriptor>) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: Some(String::from(media_types::OCI_IMAGE_MANIFEST)),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// An artifact in the image-spec 1.1 shape: `artifactType` set, empty config, and `layers` (or, when there is
    /// nothing to store, the single empty descriptor the spec recommends).
    pub fn artifact(artifact_type: &str, layers: Vec<Descriptor>) -> Self {
        let layers = if layers.is_empty() { vec![Descriptor::empty()] } else { layers };
        ImageManifest { artifact_type: Some(String::from(artifact_type)), ..Self::new(Descriptor::empty(), layers) }
    }

    /// Sets `subject`, linking this manifest to the one it refers to.
    pub fn with_subject(mut self, subject: Descriptor) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Adds one annotation.
    pub fn with_annotation(mut self, key: &str, value: &str) -> Self {
        self.annotations.insert(String::from(key), String::from(value));
        self
    }

    /// Compact JSON bytes: what gets pushed and digested.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        to_json(self)
    }
}

/// An OCI image index (`application/vnd.oci.image.index.v1+json`): multi-platform images, and the body of every
/// referrers list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// `application/vnd.oci.image.index.v1+json` (optional in the spec, always written by nv2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Type of artifact this index stores, if it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests listed (always written, even empty: referrers clients expect `"manifests":[]`).
    #[serde(default, deserialize_with = "crate::oci::descriptor::null_as_default")]
    pub manifests: Vec<Descriptor>,
    /// The manifest this index refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// An index listing `manifests`.
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: Some(String::from(media_types::OCI_IMAGE_INDEX)),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// Compact JSON bytes: what gets pushed and digested.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        to_json(self)
    }
}
