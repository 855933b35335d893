//! The signed payload: `{"targetArtifact": <descriptor>}` with media type
//! `application/vnd.cncf.notary.payload.v1+json`. It binds the signature to one artifact (digest + size + type).
//!
//! Unknown members (of the payload and of the descriptor) are ignored, as notation ignores them: they are still
//! covered by the signature, and only `mediaType`, `digest`, `size` and `annotations` decide anything.

use super::json_text::parse_object;
use super::EnvelopeError;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Media type of the Notary payload, also the required `cty` of every envelope.
pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

/// Deepest JSON nesting accepted in a payload (the descriptor needs 3 levels).
const MAX_PAYLOAD_DEPTH: usize = 16;
/// Most JSON separators accepted in a payload: room for thousands of annotations, not for a hostile flat array.
const MAX_PAYLOAD_SEPARATORS: usize = 65_536;

/// The descriptor of the signed artifact.
///
/// The payload's view of a descriptor (same JSON names as [`crate::oci::Descriptor`]). It is not that type on
/// purpose: a blob signature's digest uses the signature algorithm's hash (`sha384:` for ES384/PS384), which is no
/// OCI content digest, and the verifier compares the digest text exactly as signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetArtifact {
    /// `mediaType` of the signed manifest or blob.
    pub media_type: String,
    /// `digest` (`<alg>:<hex>`) of the signed bytes.
    pub digest: String,
    /// `size` in bytes of the signed bytes.
    pub size: u64,
    /// `annotations`: user metadata the signer attached (`-m key=value`).
    pub annotations: BTreeMap<String, String>,
}

/// The Notary signature payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The artifact the signature is about.
    pub target_artifact: TargetArtifact,
}

impl Payload {
    /// Reads payload bytes strictly (duplicate keys refused, size and depth bounded).
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let invalid = |what: &str| EnvelopeError::InvalidPayload { what: String::from(what) };
        let top = parse_object(bytes, MAX_PAYLOAD_DEPTH, MAX_PAYLOAD_SEPARATORS, "payload")
            .map_err(|e| EnvelopeError::InvalidPayload { what: e.to_string() })?;
        let target = match top.get("targetArtifact") {
            Some(Value::Object(target)) => target,
            Some(_) => return Err(invalid("targetArtifact is not an object")),
            None => return Err(invalid("targetArtifact is missing")),
        };
        let text = |name: &str| match target.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(EnvelopeError::InvalidPayload { what: alloc::format!("targetArtifact.{name} is not a string") }),
        };
        let media_type = text("mediaType")?;
        let digest = text("digest")?;
        let size =
            target.get("size").and_then(Value::as_u64).ok_or_else(|| invalid("targetArtifact.size is not a size"))?;
        let annotations = match target.get("annotations") {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(invalid("targetArtifact.annotations values must be strings")),
                })
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(invalid("targetArtifact.annotations is not an object")),
        };
        Ok(Payload { target_artifact: TargetArtifact { media_type, digest, size, annotations } })
    }

    /// Serialises the payload as notation 1.3 does: compact JSON with keys in sorted order, `annotations` omitted
    /// when empty.
    pub fn to_json(&self) -> Vec<u8> {
        let t = &self.target_artifact;
        let mut target = Map::new();
        target.insert("mediaType".into(), Value::from(t.media_type.as_str()));
        target.insert("digest".into(), Value::from(t.digest.as_str()));
        target.insert("size".into(), Value::from(t.size));
        if !t.annotations.is_empty() {
            let annotations = t.annotations.iter().map(|(k, v)| (k.clone(), Value::from(v.as_str()))).collect();
            target.insert("annotations".into(), Value::Object(annotations));
        }
        let mut top = Map::new();
        top.insert("targetArtifact".into(), Value::Object(target));
        super::json_text::to_go_json(&Value::Object(top))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn round_trips_and_ignores_unknown_members() {
        let bytes = br#"{"targetArtifact":{"annotations":{"a":"1"},"artifactType":"x","digest":"sha256:ab","mediaType":"m","size":3,"urls":[]},"extra":1}"#;
        let payload = Payload::from_json(bytes).unwrap();
        assert_eq!(payload.target_artifact.size, 3);
        assert_eq!(payload.target_artifact.annotations.get("a").map(String::as_str), Some("1"));
        assert_eq!(
            payload.to_json(),
            br#"{"targetArtifact":{"annotations":{"a":"1"},"digest":"sha256:ab","mediaType":"m","size":3}}"#.to_vec()
        );
        assert_eq!(Payload::from_json(&payload.to_json()).unwrap(), payload);
    }

    #[test]
    fn refuses_bad_payloads() {
        for bad in [
            &br#"{"targetArtifact":{"digest":"sha256:ab","mediaType":"m","size":-1}}"#[..],
            br#"{"targetArtifact":{"digest":"sha256:ab","size":1}}"#,
            br#"{"targetArtifact":{"digest":"sha256:ab","mediaType":"m","size":1,"annotations":{"a":1}}}"#,
            br#"{"targetArtifact":{"digest":"sha256:ab","digest":"sha256:cd","mediaType":"m","size":1}}"#,
            br#"{"targetArtifact":[]}"#,
            br#"{}"#,
            b"not json",
            format!("{{\"targetArtifact\":{{\"x\":[{}0]}}}}", "0,".repeat(70_000)).as_bytes(),
        ] {
            assert!(matches!(Payload::from_json(bad), Err(EnvelopeError::InvalidPayload { .. })), "{bad:?}");
        }
    }
}
