//! The few facts the registry needs from a pushed manifest: what it links to and how it is described as a referrer.
//!
//! TEMPORARY stand-in for `nv2_core::oci::ParsedManifest` (branch `oci`); the registry never rewrites manifest bytes,
//! it only reads these fields.

use serde_json::{Map, Value};

use super::{ContentError, Digest};

/// Image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Image index media type (also the referrers response type).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Withdrawn image-spec rc artifact manifest; prototype-2 used the same media type.
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// ORAS 2021 artifact manifest.
pub const ORAS_ARTIFACT_MANIFEST: &str = "application/vnd.cncf.oras.artifact.manifest.v1+json";
/// Docker schema 2 manifest.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Why a manifest body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not strict JSON (syntax, duplicate keys, depth) or not an object.
    #[error("manifest is not a valid JSON object: {0}")]
    Json(String),
    /// The media type is neither given by Content-Type nor by the body, or they disagree.
    #[error("manifest media type is missing or disagrees with Content-Type: {0}")]
    MediaType(String),
    /// A field has the wrong shape (descriptor without digest, bad schemaVersion, ...).
    #[error("manifest field {0} is malformed")]
    Field(&'static str),
    /// A descriptor carries a digest that is not valid.
    #[error("manifest descriptor has a bad digest: {0}")]
    Digest(#[from] ContentError),
}

/// A descriptor as the registry needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Media type of the target.
    pub media_type: String,
    /// Digest of the target.
    pub digest: Digest,
}

/// Facts read from a manifest.
#[derive(Debug, Clone)]
pub struct ManifestFacts {
    /// Effective media type (Content-Type, else the body's `mediaType`).
    pub media_type: String,
    /// Subjects this manifest refers to (OCI `subject`, rc1 `refers`, prototype-2 `manifests[]` of artifacts).
    pub subjects: Vec<Digest>,
    /// Blobs it needs (config, layers, blobs).
    pub blobs: Vec<Digest>,
    /// Child manifests of an index.
    pub children: Vec<Digest>,
    /// `artifactType`, else the config media type for image manifests.
    pub artifact_type: Option<String>,
    /// Manifest annotations, copied into referrer descriptors.
    pub annotations: Option<Map<String, Value>>,
}

/// Parses `bytes` as received with `content_type`.
pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<ManifestFacts, ManifestError> {
    let object = nv2_core::json::parse_strict_object(bytes, nv2_core::limits::MAX_MANIFEST_BYTES, 64)
        .map_err(|e| ManifestError::Json(e.to_string()))?;
    let body_type = match object.get("mediaType") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(ManifestError::Field("mediaType")),
    };
    let content_type = content_type.map(|c| c.split(';').next().unwrap_or(c).trim()).filter(|c| !c.is_empty());
    let media_type = match (content_type, body_type) {
        (Some(c), Some(b)) if c != b => return Err(ManifestError::MediaType(format!("{c} vs {b}"))),
        (Some(c), _) => c.to_owned(),
        (None, Some(b)) => b.to_owned(),
        (None, None) => return Err(ManifestError::MediaType("none given".into())),
    };
    if let Some(v) = object.get("schemaVersion") {
        if !v.is_u64() {
            return Err(ManifestError::Field("schemaVersion"));
        }
    }
    let annotations = match object.get("annotations") {
        None | Some(Value::Null) => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(_) => return Err(ManifestError::Field("annotations")),
    };
    let artifact_type = match object.get("artifactType") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::String(_)) => None,
        Some(_) => return Err(ManifestError::Field("artifactType")),
    };
    let mut facts = ManifestFacts {
        media_type,
        subjects: Vec::new(),
        blobs: Vec::new(),
        children: Vec::new(),
        artifact_type,
        annotations,
    };
    for key in ["subject", "refers", "subjectManifest"] {
        if let Some(v) = object.get(key) {
            facts.subjects.push(descriptor(v, key)?.digest);
        }
    }
    match facts.media_type.as_str() {
        OCI_INDEX | DOCKER_MANIFEST_LIST => {
            for d in descriptors(&object, "manifests")? {
                facts.children.push(d.digest);
            }
        }
        OCI_ARTIFACT_MANIFEST | ORAS_ARTIFACT_MANIFEST => {
            // prototype-2 linked its targets through a plural `manifests` list.
            for d in descriptors(&object, "manifests")? {
                facts.subjects.push(d.digest);
            }
            facts.blobs.extend(descriptors(&object, "blobs")?.into_iter().filter(distributable).map(|d| d.digest));
            if let Some(c) = object.get("config") {
                facts.blobs.push(descriptor(c, "config")?.digest);
            }
        }
        _ => {
            if let Some(c) = object.get("config") {
                let config = descriptor(c, "config")?;
                if facts.artifact_type.is_none() && facts.media_type == OCI_MANIFEST {
                    facts.artifact_type = Some(config.media_type.clone());
                }
                facts.blobs.push(config.digest);
            }
            facts.blobs.extend(descriptors(&object, "layers")?.into_iter().filter(distributable).map(|d| d.digest));
        }
    }
    facts.subjects.dedup();
    Ok(facts)
}

/// Non-distributable (foreign) layers are never pushed, so they are not required to exist.
fn distributable(link: &Link) -> bool {
    !(link.media_type.contains(".nondistributable.") || link.media_type.contains(".foreign."))
}

fn descriptors(object: &Map<String, Value>, key: &'static str) -> Result<Vec<Link>, ManifestError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|v| descriptor(v, key)).collect(),
        Some(_) => Err(ManifestError::Field(key)),
    }
}

fn descriptor(value: &Value, key: &'static str) -> Result<Link, ManifestError> {
    let obj = value.as_object().ok_or(ManifestError::Field(key))?;
    let digest = obj.get("digest").and_then(Value::as_str).ok_or(ManifestError::Field(key))?;
    let media_type = match obj.get("mediaType") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(ManifestError::Field(key)),
    };
    if let Some(size) = obj.get("size") {
        if !size.is_u64() {
            return Err(ManifestError::Field(key));
        }
    }
    Ok(Link { media_type, digest: Digest::parse(digest)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn image_manifest_with_subject() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/x","digest":"{D}","size":2}},"layers":[],"subject":{{"mediaType":"{OCI_MANIFEST}","digest":"{D}","size":1}},"annotations":{{"a":"b"}}}}"#
        );
        let f = parse(Some(OCI_MANIFEST), body.as_bytes()).unwrap();
        assert_eq!(f.artifact_type.as_deref(), Some("application/x"));
        assert_eq!(f.subjects.len(), 1);
        assert_eq!(f.blobs.len(), 1);
        assert!(f.annotations.is_some());
    }

    #[test]
    fn prototype2_artifact_links_manifests() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_ARTIFACT_MANIFEST}","artifactType":"t","blobs":[],"manifests":[{{"mediaType":"{OCI_MANIFEST}","digest":"{D}","size":1}}]}}"#
        );
        let f = parse(None, body.as_bytes()).unwrap();
        assert_eq!(f.subjects.len(), 1);
        assert_eq!(f.artifact_type.as_deref(), Some("t"));
    }

    #[test]
    fn hostile_bodies_are_refused() {
        assert!(matches!(parse(Some(OCI_MANIFEST), b"not json"), Err(ManifestError::Json(_))));
        assert!(matches!(parse(Some(OCI_MANIFEST), b"{\"a\":1,\"a\":2}"), Err(ManifestError::Json(_))));
        assert!(matches!(parse(None, b"{}"), Err(ManifestError::MediaType(_))));
        let mismatch = format!(r#"{{"mediaType":"{OCI_INDEX}"}}"#);
        assert!(matches!(parse(Some(OCI_MANIFEST), mismatch.as_bytes()), Err(ManifestError::MediaType(_))));
        let bad_digest = format!(r#"{{"mediaType":"{OCI_MANIFEST}","config":{{"digest":"sha256:../x"}}}}"#);
        assert!(matches!(parse(None, bad_digest.as_bytes()), Err(ManifestError::Digest(_))));
        let deep = "[".repeat(200) + &"]".repeat(200);
        assert!(parse(Some(OCI_MANIFEST), deep.as_bytes()).is_err());
    }
}
