//! The two withdrawn artifact manifests nv2 still reads, because registries and signatures from 2021–2023 hold
//! them: the OCI artifact manifest of prototype-2 and image-spec v1.1.0-rc1/rc2, and the ORAS 2021 artifact
//! manifest.
//!
//! How the historical spellings of "the artifact this one is about" map onto today's single `subject`:
//! - rc2 `subject` is the subject;
//! - rc1 `refers` is read as `subject` (serde alias; a document with both is refused as a duplicate field);
//! - prototype-2's plural `manifests[]` is kept as is (so nothing is lost), [`ArtifactManifest::subjects`] returns
//!   all of them (a registry indexes the artifact under each), and [`ArtifactManifest::subject`] returns the first.
//!   A document with both `subject`/`refers` and a non-empty `manifests[]` is refused as ambiguous.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::to_json;
use crate::oci::descriptor::Descriptor;
use crate::oci::error::OciError;
use crate::oci::media_types;

/// The OCI artifact manifest (`application/vnd.oci.artifact.manifest.v1+json`), prototype-2 and rc1/rc2 shapes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactManifest {
    /// prototype-2 tools wrote 2 (the draft said 1); rc1/rc2 have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    /// `application/vnd.oci.artifact.manifest.v1+json`.
    pub media_type: String,
    /// Type of artifact (prototype-2 signatures: `application/vnd.cncf.notary.v2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Optional config blob (only in prototype-2's Go type; counted as a blob).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Descriptor>,
    /// The artifact's content blobs.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub blobs: Vec<Descriptor>,
    /// The manifest this artifact is about (rc2 `subject`, rc1 `refers`).
    #[serde(default, alias = "refers", skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// prototype-2's list of manifests this artifact is about.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub manifests: Vec<Descriptor>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl ArtifactManifest {
    /// An rc2-shaped artifact manifest of `artifact_type` holding `blobs`.
    pub fn new(artifact_type: &str, blobs: Vec<Descriptor>) -> Self {
        ArtifactManifest {
            schema_version: None,
            media_type: String::from(media_types::OCI_ARTIFACT_MANIFEST),
            artifact_type: Some(String::from(artifact_type)),
            config: None,
            blobs,
            subject: None,
            manifests: Vec::new(),
            annotations: BTreeMap::new(),
        }
    }

    /// The artifact's subject: `subject` (or rc1 `refers`), else the first of prototype-2's `manifests[]`.
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subject.as_ref().or_else(|| self.manifests.first())
    }

    /// Every manifest the artifact is about (one for rc1/rc2, any number for prototype-2).
    pub fn subjects(&self) -> Vec<&Descriptor> {
        self.subject.iter().chain(self.manifests.iter()).collect()
    }

    /// Refuses the combination the module doc calls ambiguous.
    pub(super) fn check(&self) -> Result<(), &'static str> {
        if self.subject.is_some() && !self.manifests.is_empty() {
            return Err("has both subject/refers and a manifests list");
        }
        Ok(())
    }

    /// Compact JSON bytes (rc1 `refers` is written back as `subject`).
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        to_json(self)
    }
}

/// The ORAS 2021 artifact manifest (`application/vnd.cncf.oras.artifact.manifest.v1+json`, artifacts-spec draft.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrasArtifactManifest {
    /// `application/vnd.cncf.oras.artifact.manifest.v1+json`.
    pub media_type: String,
    /// Type of artifact (required by that spec).
    pub artifact_type: String,
    /// The artifact's content blobs.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub blobs: Vec<Descriptor>,
    /// The manifest this artifact is about. draft.1 tools always wrote the field; an all-empty descriptor there
    /// is read as "no subject" by [`super::ParsedManifest::parse`].
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

impl OrasArtifactManifest {
    /// An ORAS artifact manifest of `artifact_type` holding `blobs`, about `subject`.
    pub fn new(artifact_type: &str, blobs: Vec<Descriptor>, subject: Option<Descriptor>) -> Self {
        OrasArtifactManifest {
            media_type: String::from(media_types::ORAS_ARTIFACT_MANIFEST),
            artifact_type: String::from(artifact_type),
            blobs,
            subject,
            annotations: BTreeMap::new(),
        }
    }

    /// Compact JSON bytes.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        to_json(self)
    }
}
