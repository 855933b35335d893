//! Content identifiers as the registry uses them, all from `nv2_core::oci`: digests, repository names, tags, and the
//! `<reference>` path segment (a tag or a digest). Only the registry-specific pieces live here: the path-segment
//! reference, a streaming hasher that remembers its algorithm, and manifest facts the registry stores.

use std::collections::BTreeMap;

use nv2_core::oci::{self, Descriptor, Digester, OciError, ParsedManifest};

pub use nv2_core::oci::media_types;
pub use nv2_core::oci::{Digest, DigestAlgorithm as Algorithm};

/// Why a digest, name or tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    /// The digest is not `<algorithm>:<lowercase hex>` of a supported algorithm and the right length.
    #[error("malformed or unsupported digest")]
    BadDigest,
    /// The repository name does not match the distribution-spec name grammar.
    #[error("invalid repository name")]
    BadName,
    /// The tag does not match `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    #[error("invalid tag")]
    BadTag,
}

/// Parses a digest string.
pub fn parse_digest(text: &str) -> Result<Digest, ContentError> {
    Digest::parse(text).map_err(|_| ContentError::BadDigest)
}

/// Checks a repository name (the grammar admits no `..`, empty component or encoded character, which is what keeps
/// names safe as storage path components).
pub fn validate_repository_name(name: &str) -> Result<(), ContentError> {
    oci::validate_repository_name(name).map_err(|_| ContentError::BadName)
}

/// Checks a tag.
pub fn validate_tag(tag: &str) -> Result<(), ContentError> {
    oci::validate_tag(tag).map_err(|_| ContentError::BadTag)
}

/// Streaming digest computation that remembers its algorithm (uploads may be closed with another one).
#[derive(Clone, Debug)]
pub struct Hasher {
    algorithm: Algorithm,
    inner: Digester,
}

impl Hasher {
    /// A fresh state for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        Hasher { algorithm, inner: Digester::new(algorithm) }
    }

    /// The algorithm this state computes.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        self.inner.finalize()
    }
}

/// What a manifest path names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A mutable tag.
    Tag(String),
    /// An immutable digest.
    Digest(Digest),
}

impl Reference {
    /// Parses a `<reference>` path segment: a digest when it contains `:`, otherwise a tag.
    pub fn parse(text: &str) -> Result<Self, ContentError> {
        if text.contains(':') {
            parse_digest(text).map(Reference::Digest)
        } else {
            validate_tag(text).map(|()| Reference::Tag(text.to_owned()))
        }
    }
}

/// Why a pushed manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Larger than the parser accepts.
    #[error("manifest too large: {0}")]
    TooLarge(String),
    /// Anything else the parser refused.
    #[error("{0}")]
    Invalid(String),
}

/// The facts the registry needs from a manifest, computed once at push time (and by garbage collection).
#[derive(Debug, Clone)]
pub struct ManifestFacts {
    /// The decided media type (stored and served as Content-Type).
    pub media_type: String,
    /// Digest under the algorithm requested by the push.
    pub digest: Digest,
    /// Subjects (OCI `subject`, rc1 `refers`, prototype-2 `manifests[]`).
    pub subjects: Vec<Digest>,
    /// Blobs that must exist in the repository (non-distributable layers excluded: they are never pushed).
    pub blobs: Vec<Digest>,
    /// Child manifests of an index.
    pub children: Vec<Digest>,
    /// The referrers-list descriptor of this manifest.
    pub referrer: Descriptor,
}

/// Parses `bytes` pushed with `content_type`, digesting with `algorithm`.
pub fn manifest_facts(
    content_type: Option<&str>,
    bytes: &[u8],
    algorithm: Algorithm,
) -> Result<ManifestFacts, ManifestError> {
    let parsed = ParsedManifest::parse(content_type, bytes).map_err(|e| match e {
        OciError::ManifestTooLarge { .. } => ManifestError::TooLarge(e.to_string()),
        other => ManifestError::Invalid(other.to_string()),
    })?;
    let digest = if algorithm == Algorithm::Sha256 { parsed.digest().clone() } else { parsed.digest_with(algorithm) };
    let mut blobs = Vec::new();
    let mut children = Vec::new();
    for child in parsed.references() {
        if child.is_manifest() {
            children.push(child.descriptor.digest.clone());
        } else if distributable(&child.descriptor.media_type) {
            blobs.push(child.descriptor.digest.clone());
        }
    }
    let mut subjects: Vec<Digest> = parsed.subjects().into_iter().map(|d| d.digest.clone()).collect();
    subjects.dedup();
    let mut referrer = oci::referrer_descriptor(&parsed);
    referrer.digest = digest.clone();
    Ok(ManifestFacts { media_type: parsed.media_type().to_owned(), digest, subjects, blobs, children, referrer })
}

/// Non-distributable (foreign) layers are never pushed to a registry, so they are not required to exist.
fn distributable(media_type: &str) -> bool {
    !(media_type.contains(".nondistributable.") || media_type.contains(".foreign."))
}

/// Annotations as JSON (the referrers index serves descriptors as JSON values).
pub fn annotations_json(annotations: &BTreeMap<String, String>) -> serde_json::Map<String, serde_json::Value> {
    annotations.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn names_tags_references() {
        for ok in ["a", "a/b", "library/ubuntu", "a-b", "a__b", "a.b/c_d"] {
            assert_eq!(validate_repository_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "A", "a/", "/a", "a//b", "..", "a/../b", "a/%2e%2e", "-a", "a b"] {
            assert_eq!(validate_repository_name(bad), Err(ContentError::BadName), "{bad}");
        }
        assert!(validate_tag("v1.0_rc-1").is_ok());
        assert!(validate_tag(".x").is_err());
        assert!(matches!(Reference::parse("latest"), Ok(Reference::Tag(_))));
        assert_eq!(Reference::parse("sha256:totallywrong"), Err(ContentError::BadDigest));
    }

    #[test]
    fn hasher_matches_one_shot_digest() {
        let mut h = Hasher::new(Algorithm::Sha512);
        h.update(b"{");
        h.update(b"}");
        assert_eq!(h.algorithm(), Algorithm::Sha512);
        assert_eq!(h.finish(), Digest::compute(Algorithm::Sha512, b"{}"));
        assert_eq!(Digest::compute(Algorithm::Sha256, b"{}").to_string(), D);
    }

    #[test]
    fn facts_of_a_referrer_and_of_hostile_bodies() {
        let body = format!(
            r#"{{"schemaVersion":2,"mediaType":"{m}","config":{{"mediaType":"application/x","digest":"{D}","size":2}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"{D}","size":2}}],"subject":{{"mediaType":"{m}","digest":"{D}","size":1}},"annotations":{{"a":"b"}}}}"#,
            m = media_types::OCI_IMAGE_MANIFEST
        );
        let f = manifest_facts(Some(media_types::OCI_IMAGE_MANIFEST), body.as_bytes(), Algorithm::Sha512).unwrap();
        assert_eq!(f.subjects.len(), 1);
        assert_eq!(f.blobs.len(), 1, "the non-distributable layer is not required");
        assert_eq!(f.referrer.artifact_type.as_deref(), Some("application/x"));
        assert_eq!(f.referrer.digest, f.digest);
        assert_eq!(f.digest.algorithm(), Algorithm::Sha512);
        assert!(matches!(manifest_facts(None, b"not json", Algorithm::Sha256), Err(ManifestError::Invalid(_))));
        assert!(manifest_facts(None, b"{\"a\":1,\"a\":2}", Algorithm::Sha256).is_err());
    }
}
