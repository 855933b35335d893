//! Manifests of every kind nv2 reads, parsed from the exact bytes received.
//!
//! [`ParsedManifest::parse`] is the single entry point: strict JSON (duplicate keys refused, size and depth
//! bounded), the media type decided from the content type and the body's `mediaType` (which must agree), the shape
//! checked for that type, embedded descriptor data checked, and the original bytes kept so the digest is always
//! over what was received.
//!
//! Media type decision, in order:
//! 1. A content type is reduced to its type (parameters after `;` and surrounding blanks dropped). Generic types
//!    that say nothing about the manifest (`application/json`, `application/octet-stream`, `text/plain`, `*/*`)
//!    and empty strings count as no content type.
//! 2. Both a content type and a `mediaType` field: they must be equal ([`OciError::MediaTypeMismatch`]).
//! 3. Only one of them: that one.
//! 4. Neither: an object with `schemaVersion` 2 and a `config` is an OCI image manifest, one with `schemaVersion`
//!    2 and `manifests` an OCI image index (the image spec only says SHOULD for `mediaType`); anything else is
//!    [`OciError::MissingMediaType`].
//!
//! An image manifest that also has `manifests`, or an index that also has `config` or `layers`, is refused: such a
//! document could be read as either, the type-confusion the image spec's `mediaType` field exists to prevent.

mod artifact;
mod docker;
mod image;

pub use artifact::{ArtifactManifest, OrasArtifactManifest};
pub use docker::{DockerManifest, DockerManifestList};
pub use image::{ImageIndex, ImageManifest};

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::descriptor::Descriptor;
use super::digest::{Digest, DigestAlgorithm};
use super::error::{excerpt, OciError};
use super::media_types;
use crate::json::{self, JsonError};
use crate::limits::{MAX_JSON_DEPTH, MAX_MANIFEST_BYTES};

/// One manifest of any kind nv2 reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Manifest {
    /// OCI image manifest (images, and artifacts such as signatures since image-spec 1.1).
    ImageManifest(ImageManifest),
    /// OCI image index (multi-platform images, referrers lists).
    ImageIndex(ImageIndex),
    /// Docker schema 2 image manifest.
    DockerManifest(DockerManifest),
    /// Docker schema 2 manifest list.
    DockerManifestList(DockerManifestList),
    /// Withdrawn OCI artifact manifest (prototype-2, image-spec 1.1 rc1/rc2).
    ArtifactManifest(ArtifactManifest),
    /// ORAS 2021 artifact manifest.
    OrasArtifactManifest(OrasArtifactManifest),
}

/// What a child descriptor of a manifest is, so a graph walker knows whether to descend and a registry knows which
/// store to check for MANIFEST_BLOB_UNKNOWN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildKind {
    /// An image or Docker config blob.
    Config,
    /// An image or Docker layer blob.
    Layer,
    /// An artifact manifest blob.
    Blob,
    /// A manifest listed by an index or manifest list.
    Manifest,
}

/// A descriptor a manifest points down at (never its `subject`, which is a weak upward link that may legitimately
/// not exist yet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child<'a> {
    /// The descriptor.
    pub descriptor: &'a Descriptor,
    /// Its role.
    pub kind: ChildKind,
}

impl Child<'_> {
    /// Whether the child is a manifest (stored and walked as a manifest) rather than a blob.
    pub fn is_manifest(&self) -> bool {
        self.kind == ChildKind::Manifest
    }
}

/// A manifest together with the exact bytes it was parsed from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedManifest {
    bytes: Vec<u8>,
    digest: Digest,
    media_type: &'static str,
    manifest: Manifest,
}

/// Annotations of manifests that cannot carry any.
static NO_ANNOTATIONS: BTreeMap<String, String> = BTreeMap::new();

impl ParsedManifest {
    /// Parses `bytes` received with `content_type` (an HTTP `Content-Type`, a descriptor's `mediaType`, or `None`);
    /// see the module doc for how the media type is decided.
    pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Self, OciError> {
        let value = json::parse_strict(bytes, MAX_MANIFEST_BYTES, MAX_JSON_DEPTH).map_err(|e| match e {
            JsonError::TooLarge { size, limit } => OciError::ManifestTooLarge { size, limit },
            JsonError::Syntax(reason) => OciError::InvalidJson { reason: excerpt(&reason) },
        })?;
        let Value::Object(mut object) = value else {
            return Err(OciError::InvalidJson { reason: String::from("a manifest must be a JSON object") });
        };
        let media_type = decide_media_type(content_type, &object)?;
        let malformed = |reason: &str| OciError::MalformedManifest {
            media_type: String::from(media_type),
            reason: String::from(reason),
        };
        let manifest = match media_type {
            media_types::OCI_IMAGE_MANIFEST | media_types::DOCKER_MANIFEST => {
                check_schema_version(media_type, &object)?;
                if object.contains_key("manifests") {
                    return Err(malformed("has a manifests field, so it could be read as an index"));
                }
                if media_type == media_types::OCI_IMAGE_MANIFEST {
                    Manifest::ImageManifest(typed(media_type, object)?)
                } else {
                    Manifest::DockerManifest(typed(media_type, object)?)
                }
            }
            media_types::OCI_IMAGE_INDEX | media_types::DOCKER_MANIFEST_LIST => {
                check_schema_version(media_type, &object)?;
                if object.contains_key("config") || object.contains_key("layers") {
                    return Err(malformed("has a config or layers field, so it could be read as an image manifest"));
                }
                if media_type == media_types::OCI_IMAGE_INDEX {
                    Manifest::ImageIndex(typed(media_type, object)?)
                } else {
                    Manifest::DockerManifestList(typed(media_type, object)?)
                }
            }
            media_types::OCI_ARTIFACT_MANIFEST => {
                let artifact: ArtifactManifest = typed(media_type, object)?;
                artifact.check().map_err(malformed)?;
                Manifest::ArtifactManifest(artifact)
            }
            _ => {
                // ORAS draft.1 tools serialised an absent subject as a zero descriptor; read that as "no subject".
                if object
                    .get("subject")
                    .and_then(|s| s.get("digest"))
                    .is_some_and(|d| d.as_str().is_some_and(str::is_empty))
                {
                    object.remove("subject");
                }
                Manifest::OrasArtifactManifest(typed(media_type, object)?)
            }
        };
        let parsed = ParsedManifest { bytes: bytes.to_vec(), digest: Digest::sha256(bytes), media_type, manifest };
        for descriptor in parsed.all_descriptors() {
            descriptor.embedded_data()?;
        }
        Ok(parsed)
    }

    /// Parses and checks that the bytes hash to `expected` (with its algorithm): for content fetched or pushed by
    /// digest.
    pub fn parse_verified(content_type: Option<&str>, bytes: &[u8], expected: &Digest) -> Result<Self, OciError> {
        expected.verify(bytes)?;
        Self::parse(content_type, bytes)
    }

    /// The exact bytes parsed (what is stored, served and digested).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives the exact bytes back without copying.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// SHA-256 digest of [`Self::bytes`].
    pub fn digest(&self) -> &Digest {
        &self.digest
    }

    /// Digest of [`Self::bytes`] with another algorithm (content pushed with a sha512 digest).
    pub fn digest_with(&self, algorithm: DigestAlgorithm) -> Digest {
        Digest::compute(algorithm, &self.bytes)
    }

    /// Size of [`Self::bytes`].
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }

    /// The media type decided at parse time (one of [`media_types::MANIFEST_TYPES`]).
    pub fn media_type(&self) -> &'static str {
        self.media_type
    }

    /// A plain descriptor (`mediaType`, SHA-256 `digest`, `size`) of this manifest, e.g. a signature's target.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(self.media_type, self.digest.clone(), self.size())
    }

    /// The typed manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The manifest this one refers to, if any (see the artifact module for the historical spellings).
    pub fn subject(&self) -> Option<&Descriptor> {
        match &self.manifest {
            Manifest::ImageManifest(m) => m.subject.as_ref(),
            Manifest::ImageIndex(m) => m.subject.as_ref(),
            Manifest::ArtifactManifest(m) => m.subject(),
            Manifest::OrasArtifactManifest(m) => m.subject.as_ref(),
            Manifest::DockerManifest(_) | Manifest::DockerManifestList(_) => None,
        }
    }

    /// Every manifest this one refers to: [`Self::subject`], plus the rest of prototype-2's `manifests[]`.
    pub fn subjects(&self) -> Vec<&Descriptor> {
        match &self.manifest {
            Manifest::ArtifactManifest(m) => m.subjects(),
            _ => self.subject().into_iter().collect(),
        }
    }

    /// The artifact type as the referrers API derives it: `artifactType`, else (image manifest) `config.mediaType`;
    /// for an index only `artifactType`. Docker manifests give their config type, Docker lists nothing.
    pub fn artifact_type(&self) -> Option<&str> {
        match &self.manifest {
            Manifest::ImageManifest(m) => Some(m.artifact_type.as_deref().unwrap_or(&m.config.media_type)),
            Manifest::ImageIndex(m) => m.artifact_type.as_deref(),
            Manifest::ArtifactManifest(m) => m.artifact_type.as_deref(),
            Manifest::OrasArtifactManifest(m) => Some(&m.artifact_type),
            Manifest::DockerManifest(m) => Some(&m.config.media_type),
            Manifest::DockerManifestList(_) => None,
        }
    }

    /// The manifest's annotations (empty for Docker manifests, which have none).
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        match &self.manifest {
            Manifest::ImageManifest(m) => &m.annotations,
            Manifest::ImageIndex(m) => &m.annotations,
            Manifest::ArtifactManifest(m) => &m.annotations,
            Manifest::OrasArtifactManifest(m) => &m.annotations,
            Manifest::DockerManifest(_) | Manifest::DockerManifestList(_) => &NO_ANNOTATIONS,
        }
    }

    /// The descriptors this manifest points down at, in document order: config then layers, artifact config then
    /// blobs, or the manifests of an index. Never the subject.
    pub fn references(&self) -> Vec<Child<'_>> {
        let child = |kind| move |descriptor| Child { descriptor, kind };
        match &self.manifest {
            Manifest::ImageManifest(ImageManifest { config, layers, .. })
            | Manifest::DockerManifest(DockerManifest { config, layers, .. }) => core::iter::once(config)
                .map(child(ChildKind::Config))
                .chain(layers.iter().map(child(ChildKind::Layer)))
                .collect(),
            Manifest::ImageIndex(ImageIndex { manifests, .. })
            | Manifest::DockerManifestList(DockerManifestList { manifests, .. }) => {
                manifests.iter().map(child(ChildKind::Manifest)).collect()
            }
            Manifest::ArtifactManifest(m) => {
                m.config.iter().chain(m.blobs.iter()).map(child(ChildKind::Blob)).collect()
            }
            Manifest::OrasArtifactManifest(m) => m.blobs.iter().map(child(ChildKind::Blob)).collect(),
        }
    }

    /// Every descriptor in the document (children and subjects), for checks that apply to all of them.
    fn all_descriptors(&self) -> Vec<&Descriptor> {
        let mut all: Vec<&Descriptor> = self.references().into_iter().map(|c| c.descriptor).collect();
        all.extend(self.subjects());
        all
    }
}

/// Applies the module-level media type rules.
fn decide_media_type(content_type: Option<&str>, object: &Map<String, Value>) -> Result<&'static str, OciError> {
    let content_type = content_type
        .map(|ct| ct.split(';').next().unwrap_or_default().trim())
        .filter(|ct| !matches!(*ct, "" | "application/json" | "application/octet-stream" | "text/plain" | "*/*"));
    let body = match object.get("mediaType") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => {
            return Err(OciError::MalformedManifest {
                media_type: String::from("unknown"),
                reason: String::from("mediaType is not a string"),
            })
        }
    };
    let chosen = match (content_type, body) {
        (Some(ct), Some(body)) if ct != body => {
            return Err(OciError::MediaTypeMismatch { content_type: excerpt(ct), media_type: excerpt(body) })
        }
        (Some(known), _) | (None, Some(known)) => known,
        (None, None) => {
            let v2 = object.get("schemaVersion").and_then(Value::as_u64) == Some(2);
            return match (v2, object.contains_key("config"), object.contains_key("manifests")) {
                (true, true, false) => Ok(media_types::OCI_IMAGE_MANIFEST),
                (true, false, true) => Ok(media_types::OCI_IMAGE_INDEX),
                _ => Err(OciError::MissingMediaType),
            };
        }
    };
    media_types::MANIFEST_TYPES
        .into_iter()
        .find(|known| *known == chosen)
        .ok_or_else(|| OciError::UnknownMediaType { media_type: excerpt(chosen) })
}

/// `schemaVersion` must be present and exactly 2.
fn check_schema_version(media_type: &str, object: &Map<String, Value>) -> Result<(), OciError> {
    match object.get("schemaVersion") {
        Some(v) if v.as_u64() == Some(2) => Ok(()),
        found => Err(OciError::UnsupportedSchemaVersion {
            media_type: String::from(media_type),
            expected: 2,
            found: found.map_or_else(|| String::from("absent"), |v| excerpt(&v.to_string())),
        }),
    }
}

/// Deserialises the checked object into its typed form.
fn typed<T: DeserializeOwned>(media_type: &str, object: Map<String, Value>) -> Result<T, OciError> {
    serde_json::from_value(Value::Object(object)).map_err(|e| OciError::MalformedManifest {
        media_type: String::from(media_type),
        reason: excerpt(&e.to_string()),
    })
}

/// Compact JSON for the builders.
fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>, OciError> {
    serde_json::to_vec(value).map_err(|e| OciError::Serialize { reason: e.to_string() })
}

#[cfg(test)]
mod tests;
