//! Content descriptors: the `{mediaType, digest, size, ...}` objects by which every OCI document points at other
//! content. Field names and omission rules are exactly the image spec's, so a descriptor serialises the way other
//! tools expect and a signature payload's `targetArtifact` can be compared field by field.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use base64ct::{Base64, Encoding};
use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::error::OciError;
use super::media_types;

/// Base64 of `{}`, the empty descriptor's embedded data.
const EMPTY_JSON_DATA: &str = "e30=";

/// A content descriptor (image-spec "Descriptors").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// Digest of the referenced content.
    pub digest: Digest,
    /// Size in bytes of the referenced content.
    pub size: u64,
    /// Alternative download locations.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    /// Arbitrary metadata.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    /// The content itself, base64 (standard alphabet, padded), for small blobs. Kept as text so re-serialising a
    /// descriptor never changes it; see [`Descriptor::embedded_data`] for the checked bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// Platform of an image an index entry points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    /// Type of the artifact the descriptor points at (set in referrers lists).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

/// Platform requirements of an image (image-spec "Image Index").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture (`amd64`, `arm64`, ...).
    pub architecture: String,
    /// Operating system (`linux`, `windows`, ...).
    pub os: String,
    /// Operating system version (Windows build, for example).
    #[serde(rename = "os.version", default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    /// Required OS features.
    #[serde(
        rename = "os.features",
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub os_features: Vec<String>,
    /// CPU variant (`v7`, `v8`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// Reserved by the image spec; carried through unchanged.
    #[serde(
        default,
        deserialize_with = "crate::oci::descriptor::null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub features: Vec<String>,
}

/// Reads `null` as the empty value: Go tools serialise a nil slice or map as `null` (a manifest with
/// `"layers":null` is common), and it means the same as an absent or empty field.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl Descriptor {
    /// A plain descriptor for `bytes` of `media_type`, digested with SHA-256.
    pub fn for_content(media_type: &str, bytes: &[u8]) -> Self {
        Self::new(media_type, Digest::sha256(bytes), bytes.len() as u64)
    }

    /// A plain descriptor from its three required fields.
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Self {
        Descriptor {
            media_type: String::from(media_type),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            data: None,
            platform: None,
            artifact_type: None,
        }
    }

    /// The empty descriptor (`application/vnd.oci.empty.v1+json`, content `{}`), used as the config and the only
    /// layer of artifacts that have nothing else to put there.
    pub fn empty() -> Self {
        Self::for_content(media_types::OCI_EMPTY, b"{}")
    }

    /// The empty descriptor with its content embedded (`"data":"e30="`), as ORAS and notation 1.1+ write it.
    pub fn empty_with_data() -> Self {
        Descriptor { data: Some(String::from(EMPTY_JSON_DATA)), ..Self::empty() }
    }

    /// Checks that `bytes` are the content this descriptor announces: size first (cheap), then digest.
    pub fn verify_content(&self, bytes: &[u8]) -> Result<(), OciError> {
        let actual = bytes.len() as u64;
        if actual != self.size {
            return Err(OciError::SizeMismatch { expected: self.size, actual });
        }
        self.digest.verify(bytes)
    }

    /// The embedded `data`, decoded and checked against size and digest (the image spec requires them to agree),
    /// or `None` when the descriptor embeds nothing.
    pub fn embedded_data(&self) -> Result<Option<Vec<u8>>, OciError> {
        let Some(text) = &self.data else {
            return Ok(None);
        };
        let bad = |reason| OciError::InvalidDescriptorData { digest: self.digest.clone(), reason };
        // Base64 is 4 characters per 3 bytes: refuse text that cannot decode to `size` bytes before allocating.
        if (text.len() as u64) > self.size.saturating_add(2) / 3 * 4 + 4 {
            return Err(bad("data is longer than the descriptor size allows"));
        }
        let bytes = Base64::decode_vec(text).map_err(|_| bad("data is not padded standard base64"))?;
        self.verify_content(&bytes).map_err(|_| bad("data does not match the descriptor's size and digest"))?;
        Ok(Some(bytes))
    }

    /// Whether this descriptor points at a manifest (a graph node) rather than a blob.
    pub fn is_manifest(&self) -> bool {
        media_types::is_manifest(&self.media_type)
    }

    /// `mediaType`, `digest` and `size` are equal: how a signature's `targetArtifact` is matched against the
    /// resolved artifact (annotations and other optional fields deliberately not compared).
    pub fn same_content(&self, other: &Descriptor) -> bool {
        self.media_type == other.media_type && self.digest == other.digest && self.size == other.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    #[test]
    fn empty_descriptor_is_the_spec_constant() {
        let e = Descriptor::empty();
        assert_eq!(e.digest.to_string(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        assert_eq!(e.size, 2);
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#
        );
        assert_eq!(Descriptor::empty_with_data().embedded_data().unwrap().as_deref(), Some(&b"{}"[..]));
        assert_eq!(e.embedded_data().unwrap(), None);
    }

    #[test]
    fn serde_field_names_match_the_image_spec() {
        let json = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"urls":["https://x"],"annotations":{"a":"b"},"data":"e30=","platform":{"architecture":"arm64","os":"linux","os.version":"1","os.features":["f"],"variant":"v8","features":["g"]},"artifactType":"t","unknownField":1}"#;
        let d: Descriptor = serde_json::from_str(json).unwrap();
        assert_eq!(d.artifact_type.as_deref(), Some("t"));
        let p = d.platform.clone().unwrap();
        assert_eq!((p.os_version.as_deref(), p.os_features.len(), p.variant.as_deref()), (Some("1"), 1, Some("v8")));
        let back = serde_json::to_string(&d).unwrap();
        assert!(back.contains(r#""os.version":"1""#) && back.contains(r#""artifactType":"t""#));
        assert!(!back.contains("unknownField"));
        let nulls = json.replace(r#"["https://x"]"#, "null").replace(r#"{"a":"b"}"#, "null");
        let d2: Descriptor = serde_json::from_str(&nulls).unwrap();
        assert!(d2.urls.is_empty() && d2.annotations.is_empty());
        assert_eq!(serde_json::from_str::<Descriptor>(&back).unwrap(), d);
    }

    #[test]
    fn refuses_bad_descriptors_and_bad_data() {
        let d = r#""digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a""#;
        for bad in [
            alloc::format!(r#"{{"mediaType":"x",{d}}}"#),
            alloc::format!(r#"{{"mediaType":"x",{d},"size":-1}}"#),
            alloc::format!(r#"{{"mediaType":"x",{d},"size":1.5}}"#),
            alloc::format!(r#"{{{d},"size":2}}"#),
            String::from(r#"{"mediaType":"x","digest":"sha256:abc","size":2}"#),
        ] {
            assert!(serde_json::from_str::<Descriptor>(&bad).is_err(), "{bad}");
        }
        let mut e = Descriptor::empty_with_data();
        e.data = Some(String::from("e30"));
        assert!(matches!(e.embedded_data(), Err(OciError::InvalidDescriptorData { .. })));
        e.data = Some(String::from("e31="));
        assert!(matches!(e.embedded_data(), Err(OciError::InvalidDescriptorData { .. })));
        e.data = Some("QUFB".repeat(1000));
        assert!(matches!(e.embedded_data(), Err(OciError::InvalidDescriptorData { .. })));
        assert!(matches!(e.verify_content(b"{ }"), Err(OciError::SizeMismatch { .. })));
        assert!(matches!(e.verify_content(b"[]"), Err(OciError::DigestMismatch { .. })));
    }

    proptest! {
        #[test]
        fn serde_round_trip(
            media_type in "[a-z/.+-]{1,30}",
            content in proptest::collection::vec(any::<u8>(), 0..64),
            annotations in proptest::collection::btree_map("[a-z.]{1,10}", ".{0,10}", 0..4),
            urls in proptest::collection::vec("[a-z:/.]{1,20}", 0..3),
            artifact_type in proptest::option::of("[a-z/.+-]{1,20}"),
            embed in any::<bool>(),
        ) {
            let mut d = Descriptor::for_content(&media_type, &content);
            d.annotations = annotations;
            d.urls = urls;
            d.artifact_type = artifact_type;
            if embed {
                d.data = Some(Base64::encode_string(&content));
                prop_assert_eq!(d.embedded_data().unwrap(), Some(content.clone()));
            }
            let json = serde_json::to_vec(&d).unwrap();
            prop_assert_eq!(serde_json::from_slice::<Descriptor>(&json).unwrap(), d);
        }
    }
}
