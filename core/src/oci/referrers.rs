//! Referrers lists: the image index the distribution-spec v1.1 referrers API returns, and the one clients keep
//! under the `<alg>-<hex>` fallback tag on registries without that API. Registry, client and the legacy
//! prototype-2 / ORAS endpoints all build their answers from these same descriptors.

use alloc::string::String;
use alloc::vec::Vec;

use super::descriptor::Descriptor;
use super::digest::Digest;
use super::error::OciError;
use super::manifest::{ImageIndex, Manifest, ParsedManifest};

/// Longest algorithm part of a fallback tag (distribution-spec "Referrers Tag Schema").
const FALLBACK_ALG_MAX: usize = 32;
/// Longest encoded part of a fallback tag.
const FALLBACK_HEX_MAX: usize = 64;

/// The descriptor a referrers list holds for `parsed`: its media type, digest and size, the derived artifact type
/// (`artifactType`, else an image manifest's `config.mediaType`, omitted for an index without one), and all of its
/// annotations.
pub fn referrer_descriptor(parsed: &ParsedManifest) -> Descriptor {
    let mut descriptor = parsed.descriptor();
    descriptor.artifact_type = parsed.artifact_type().map(String::from);
    descriptor.annotations = parsed.annotations().clone();
    descriptor
}

/// Serialises a referrers list: an image index (with `mediaType`, and `"manifests":[]` when empty, which clients
/// such as oras-go require).
pub fn referrers_index(descriptors: Vec<Descriptor>) -> Result<Vec<u8>, OciError> {
    ImageIndex::new(descriptors).to_json_bytes()
}

/// Reads the entries of a referrers list (a fallback-tag index or an API response); anything but an image index
/// is refused, since the distribution spec tells clients to report such a tag as a failure.
pub fn referrers_from_index(parsed: &ParsedManifest) -> Result<&[Descriptor], OciError> {
    match parsed.manifest() {
        Manifest::ImageIndex(index) => Ok(&index.manifests),
        _ => Err(OciError::NotAnIndex { media_type: String::from(parsed.media_type()) }),
    }
}

/// The fallback tag for `subject`: `<alg>-<hex>`, algorithm cut to 32 and hex to 64 characters, any character a
/// tag cannot hold replaced by `-` (so sha512 subjects get a valid 71-character tag).
pub fn fallback_tag(subject: &Digest) -> String {
    let clean = |c: char| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '-' };
    let alg = subject.algorithm().name().chars().take(FALLBACK_ALG_MAX).map(clean);
    let hex = subject.hex().chars().take(FALLBACK_HEX_MAX).map(clean);
    alg.chain(core::iter::once('-')).chain(hex).collect()
}

/// Keeps the descriptors whose `artifactType` equals `artifact_type` (clients must filter themselves when a
/// registry does not answer `OCI-Filters-Applied`).
pub fn filter_by_artifact_type(descriptors: Vec<Descriptor>, artifact_type: &str) -> Vec<Descriptor> {
    descriptors.into_iter().filter(|d| d.artifact_type.as_deref() == Some(artifact_type)).collect()
}

/// Adds `descriptor` to a fallback-tag list unless an entry with the same digest is there (the spec forbids
/// duplicates); returns whether it was added.
pub fn insert_referrer(list: &mut Vec<Descriptor>, descriptor: Descriptor) -> bool {
    if list.iter().any(|d| d.digest == descriptor.digest) {
        return false;
    }
    list.push(descriptor);
    true
}

/// Removes the entries for `digest` from a fallback-tag list (deleting a referrer); returns whether any was there.
pub fn remove_referrer(list: &mut Vec<Descriptor>, digest: &Digest) -> bool {
    let before = list.len();
    list.retain(|d| d.digest != *digest);
    list.len() != before
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::digest::DigestAlgorithm;
    use crate::oci::manifest::ImageManifest;
    use crate::oci::media_types;
    use crate::oci::reference::validate_tag;
    use alloc::vec;

    fn signature_on(subject: &ParsedManifest) -> ParsedManifest {
        let envelope = Descriptor::for_content(media_types::JWS_ENVELOPE, b"{\"payload\":\"\"}");
        let bytes = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, vec![envelope])
            .with_subject(subject.descriptor())
            .with_annotation("io.cncf.notary.x509chain.thumbprint#S256", "[\"ab\"]")
            .to_json_bytes()
            .unwrap();
        ParsedManifest::parse(Some(media_types::OCI_IMAGE_MANIFEST), &bytes).unwrap()
    }

    fn image() -> ParsedManifest {
        let layer = Descriptor::for_content(media_types::OCI_LAYER_TAR, b"hello");
        let config = Descriptor::for_content("application/vnd.example.config", b"{}");
        let bytes = ImageManifest::new(config, vec![layer]).to_json_bytes().unwrap();
        ParsedManifest::parse(None, &bytes).unwrap()
    }

    #[test]
    fn descriptor_derives_artifact_type_and_copies_annotations() {
        let img = image();
        let sig = signature_on(&img);
        let d = referrer_descriptor(&sig);
        assert_eq!(d.media_type, media_types::OCI_IMAGE_MANIFEST);
        assert_eq!(&d.digest, sig.digest());
        assert_eq!(d.size, sig.bytes().len() as u64);
        assert_eq!(d.artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE));
        assert_eq!(d.annotations.len(), 1);
        // No artifactType: the config media type stands in.
        assert_eq!(referrer_descriptor(&img).artifact_type.as_deref(), Some("application/vnd.example.config"));
        // An index without artifactType gets none.
        let index = ParsedManifest::parse(None, &ImageIndex::new(vec![]).to_json_bytes().unwrap()).unwrap();
        assert_eq!(referrer_descriptor(&index).artifact_type, None);
    }

    #[test]
    fn index_round_trip_filter_and_dedupe() {
        let empty = referrers_index(vec![]).unwrap();
        assert_eq!(
            core::str::from_utf8(&empty).unwrap(),
            r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#
        );
        let img = image();
        let sig = referrer_descriptor(&signature_on(&img));
        let mut list = vec![];
        assert!(insert_referrer(&mut list, sig.clone()));
        assert!(!insert_referrer(&mut list, sig.clone()));
        assert!(insert_referrer(&mut list, referrer_descriptor(&img)));
        let bytes = referrers_index(list.clone()).unwrap();
        let parsed = ParsedManifest::parse(Some(media_types::OCI_IMAGE_INDEX), &bytes).unwrap();
        assert_eq!(referrers_from_index(&parsed).unwrap(), &list[..]);
        assert_eq!(filter_by_artifact_type(list.clone(), media_types::NOTARY_SIGNATURE), vec![sig.clone()]);
        assert!(filter_by_artifact_type(list.clone(), "other").is_empty());
        assert!(remove_referrer(&mut list, &sig.digest));
        assert!(!remove_referrer(&mut list, &sig.digest));
        assert_eq!(list.len(), 1);
        assert!(matches!(referrers_from_index(&img), Err(OciError::NotAnIndex { .. })));
    }

    #[test]
    fn fallback_tags_follow_the_tag_schema() {
        let d: Digest = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9".parse().unwrap();
        assert_eq!(fallback_tag(&d), "sha256-b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9");
        let long = Digest::compute(DigestAlgorithm::Sha512, b"x");
        let tag = fallback_tag(&long);
        assert_eq!(tag.len(), "sha512-".len() + 64);
        assert!(tag.starts_with("sha512-") && long.hex().starts_with(&tag[7..]));
        assert!(validate_tag(&tag).is_ok() && validate_tag(&fallback_tag(&d)).is_ok());
    }
}
