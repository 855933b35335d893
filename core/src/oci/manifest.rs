//! Manifests of every shape nv2 meets: OCI image manifest and index, Docker schema2 manifest and list, and the
//! artifact manifests of prototype-2, image-spec 1.1 rc1/rc2 and ORAS 2021. [`ParsedManifest`] keeps the exact
//! bytes it was given, because digests are over received bytes.

use super::{media_types as mt, Descriptor, Digest, OciError};
use crate::json;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An OCI image manifest (also the shape of Docker schema2 manifests and of Notary signatures).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest media type (optional in OCI, required by Docker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type (OCI 1.1), required when the config is the empty descriptor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The config blob.
    pub config: Descriptor,
    /// The layers (for a Notary signature: exactly one, the envelope).
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (OCI 1.1 referrers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// An OCI 1.1 artifact: empty config, `artifactType`, the given layers, optional subject.
    pub fn artifact(
        artifact_type: &str,
        layers: Vec<Descriptor>,
        subject: Option<Descriptor>,
        annotations: BTreeMap<String, String>,
    ) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: Some(mt::OCI_IMAGE_MANIFEST.to_string()),
            artifact_type: Some(artifact_type.to_string()),
            config: Descriptor::empty(),
            layers,
            subject,
            annotations,
        }
    }

    /// A container image: config plus layers.
    pub fn image(config: Descriptor, layers: Vec<Descriptor>, annotations: BTreeMap<String, String>) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: Some(mt::OCI_IMAGE_MANIFEST.to_string()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations,
        }
    }

    /// Canonical compact JSON (field order as declared; map keys sorted).
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        serde_json::to_vec(self).map_err(|e| OciError::MalformedManifest(e.to_string()))
    }
}

/// An OCI image index (also the shape of a Docker manifest list and of a referrers response).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type (OCI 1.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests it lists.
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl ImageIndex {
    /// An OCI index of `manifests`.
    pub fn new(manifests: Vec<Descriptor>) -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: Some(mt::OCI_IMAGE_INDEX.to_string()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: BTreeMap::new(),
        }
    }

    /// Canonical compact JSON.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        serde_json::to_vec(self).map_err(|e| OciError::MalformedManifest(e.to_string()))
    }
}

/// The artifact manifests that preceded OCI 1.1, read into one shape:
/// - prototype-2 (`application/vnd.oci.artifact.manifest.v1+json`, Apr 2021): `blobs`, plural `manifests[]` targets;
/// - image-spec 1.1 rc1/rc2 (same media type): `blobs` and `refers` (rc1) or `subject` (rc2);
/// - ORAS prototype-3 (`…v1-rc1+json`): `subjectManifest`;
/// - ORAS 2021 (`application/vnd.cncf.oras.artifact.manifest.v1+json`): `blobs`, `subject`.
///
/// Every target the manifest links to is in [`ArtifactManifest::targets`]; the first is its subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArtifactManifest {
    /// The artifact type.
    pub artifact_type: Option<String>,
    /// The blobs (a prototype-2 `config`, when present, is counted as a blob, as the prototype registry did).
    pub blobs: Vec<Descriptor>,
    /// The manifests this artifact links to (subject, refers, subjectManifest, or prototype-2 manifests[]).
    pub targets: Vec<Descriptor>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

/// Which kind of manifest a [`ParsedManifest`] holds. (Variants differ in size; a manifest is parsed once and
/// held by one owner, so boxing would only add an allocation.)
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Manifest {
    /// OCI image manifest or Docker schema2 manifest.
    Image(ImageManifest),
    /// OCI image index or Docker manifest list.
    Index(ImageIndex),
    /// A pre-1.1 artifact manifest.
    Artifact(ArtifactManifest),
}

/// Whether a child of a manifest is a blob or another manifest (graph walking and registry checks need to know).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// A blob (config, layer, artifact blob).
    Blob,
    /// A manifest (an index entry).
    Manifest,
}

/// A manifest parsed from received bytes, which it keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedManifest {
    bytes: Vec<u8>,
    digest: Digest,
    media_type: String,
    manifest: Manifest,
}

impl ParsedManifest {
    /// Parses `bytes`. `content_type` is the media type the bytes arrived with (HTTP `Content-Type`, a descriptor's
    /// `mediaType`); when both it and the document's `mediaType` are present they must agree. Without either, an
    /// OCI manifest or index is recognised by its fields.
    pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Self, OciError> {
        if bytes.len() > crate::limits::MAX_MANIFEST_BYTES {
            return Err(OciError::ManifestTooLarge { size: bytes.len(), limit: crate::limits::MAX_MANIFEST_BYTES });
        }
        let value = json::parse_strict(bytes, crate::limits::MAX_MANIFEST_BYTES, crate::limits::MAX_JSON_DEPTH)
            .map_err(|e| OciError::MalformedManifest(e.to_string()))?;
        let Value::Object(map) = &value else {
            return Err(OciError::MalformedManifest(String::from("a manifest is a JSON object")));
        };
        let declared = match map.get("mediaType") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => return Err(OciError::MalformedManifest(String::from("mediaType is not a string"))),
        };
        let content_type = content_type.map(|c| c.split(';').next().unwrap_or("").trim()).filter(|c| !c.is_empty());
        let media_type = match (content_type, declared) {
            (Some(c), Some(d)) if c != d => {
                return Err(OciError::MediaTypeMismatch { content_type: c.to_string(), declared: d.to_string() })
            }
            (_, Some(d)) => d.to_string(),
            (Some(c), None) => c.to_string(),
            (None, None) if map.contains_key("manifests") && !map.contains_key("blobs") => {
                mt::OCI_IMAGE_INDEX.to_string()
            }
            (None, None) if map.contains_key("config") && map.contains_key("layers") => {
                mt::OCI_IMAGE_MANIFEST.to_string()
            }
            (None, None) => return Err(OciError::UnknownMediaType(String::from("(none given)"))),
        };
        let schema = map.get("schemaVersion").and_then(Value::as_u64);
        let manifest = match media_type.as_str() {
            mt::OCI_IMAGE_MANIFEST | mt::DOCKER_MANIFEST => {
                if schema != Some(2) {
                    return Err(OciError::MalformedManifest(String::from("schemaVersion must be 2")));
                }
                let m: ImageManifest = from_value(value)?;
                if m.config.media_type == mt::OCI_EMPTY
                    && m.artifact_type.is_none()
                    && media_type == mt::OCI_IMAGE_MANIFEST
                {
                    // image-spec 1.1: artifactType MUST be set when the config is the empty descriptor. Registries
                    // in the wild accept it anyway (ORAS 1.0 pushed such manifests), so this is not refused.
                }
                Manifest::Image(m)
            }
            mt::OCI_IMAGE_INDEX | mt::DOCKER_MANIFEST_LIST => {
                if schema != Some(2) {
                    return Err(OciError::MalformedManifest(String::from("schemaVersion must be 2")));
                }
                Manifest::Index(from_value(value)?)
            }
            mt::OCI_ARTIFACT_MANIFEST | mt::OCI_ARTIFACT_MANIFEST_RC1 | mt::ORAS_ARTIFACT_MANIFEST => {
                Manifest::Artifact(artifact_manifest(&media_type, value)?)
            }
            other => return Err(OciError::UnknownMediaType(other.chars().take(200).collect())),
        };
        Ok(ParsedManifest { bytes: bytes.to_vec(), digest: Digest::sha256(bytes), media_type, manifest })
    }

    /// The exact bytes parsed.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// SHA-256 digest of the bytes.
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// The manifest's media type.
    pub fn media_type(&self) -> &str {
        &self.media_type
    }

    /// A descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(&self.media_type, self.digest.clone(), self.bytes.len() as u64)
    }

    /// The parsed content.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The image manifest, when it is one.
    pub fn as_image_manifest(&self) -> Option<&ImageManifest> {
        match &self.manifest {
            Manifest::Image(m) => Some(m),
            _ => None,
        }
    }

    /// The index, when it is one.
    pub fn as_image_index(&self) -> Option<&ImageIndex> {
        match &self.manifest {
            Manifest::Index(i) => Some(i),
            _ => None,
        }
    }

    /// The manifest this one refers to (the first link target of a prototype-2 artifact).
    pub fn subject(&self) -> Option<&Descriptor> {
        self.subjects().into_iter().next()
    }

    /// Every manifest this one links to: one subject, or each of a prototype-2 artifact's `manifests[]`.
    pub fn subjects(&self) -> Vec<&Descriptor> {
        match &self.manifest {
            Manifest::Image(m) => m.subject.iter().collect(),
            Manifest::Index(i) => i.subject.iter().collect(),
            Manifest::Artifact(a) => a.targets.iter().collect(),
        }
    }

    /// The artifact type the referrers API reports: image manifest `artifactType`, else its config media type;
    /// index and artifact manifests: their `artifactType`.
    pub fn artifact_type(&self) -> Option<&str> {
        match &self.manifest {
            Manifest::Image(m) => m.artifact_type.as_deref().or(Some(m.config.media_type.as_str())),
            Manifest::Index(i) => i.artifact_type.as_deref(),
            Manifest::Artifact(a) => a.artifact_type.as_deref(),
        }
    }

    /// The manifest's annotations.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        match &self.manifest {
            Manifest::Image(m) => &m.annotations,
            Manifest::Index(i) => &i.annotations,
            Manifest::Artifact(a) => &a.annotations,
        }
    }

    /// The content this manifest holds (config and layers, artifact blobs, or index entries), each with its kind.
    /// The subject is not a child: it is the manifest this one points back to.
    pub fn children(&self) -> Vec<(ChildKind, &Descriptor)> {
        match &self.manifest {
            Manifest::Image(m) => {
                core::iter::once(&m.config).chain(m.layers.iter()).map(|d| (ChildKind::Blob, d)).collect()
            }
            Manifest::Index(i) => i.manifests.iter().map(|d| (ChildKind::Manifest, d)).collect(),
            Manifest::Artifact(a) => a.blobs.iter().map(|d| (ChildKind::Blob, d)).collect(),
        }
    }
}

fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, OciError> {
    serde_json::from_value(value).map_err(|e| OciError::MalformedManifest(e.to_string()))
}

fn artifact_manifest(media_type: &str, value: Value) -> Result<ArtifactManifest, OciError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(default)]
        artifact_type: Option<String>,
        #[serde(default)]
        config: Option<Descriptor>,
        #[serde(default)]
        blobs: Vec<Descriptor>,
        #[serde(default)]
        subject: Option<Descriptor>,
        #[serde(default)]
        refers: Option<Descriptor>,
        #[serde(default)]
        subject_manifest: Option<Descriptor>,
        #[serde(default)]
        manifests: Vec<Descriptor>,
        #[serde(default)]
        annotations: BTreeMap<String, String>,
    }
    let raw: Raw = from_value(value)?;
    let mut targets: Vec<Descriptor> = raw.subject.into_iter().chain(raw.refers).chain(raw.subject_manifest).collect();
    if targets.len() > 1 {
        return Err(OciError::MalformedManifest(String::from("more than one of subject, refers, subjectManifest")));
    }
    targets.extend(raw.manifests);
    if media_type == mt::ORAS_ARTIFACT_MANIFEST && raw.artifact_type.as_deref().is_none_or(str::is_empty) {
        return Err(OciError::MalformedManifest(String::from("an ORAS artifact manifest requires artifactType")));
    }
    let blobs = raw.config.into_iter().chain(raw.blobs).collect();
    Ok(ArtifactManifest { artifact_type: raw.artifact_type, blobs, targets, annotations: raw.annotations })
}
