//! The predecessor index the local stores keep: which manifests name a given subject. A registry keeps this on the
//! server; the in-memory store and the OCI layout store keep it here, built from the manifests they hold, so both
//! answer [`super::ContentStore::referrers`] the same way a registry's referrers API does.

use std::collections::HashMap;

use nv2_core::oci::{
    filter_by_artifact_type, insert_referrer, media_types, referrer_descriptor, remove_referrer, Descriptor, Digest,
    ParsedManifest,
};

use super::ContentError;

/// Subject digest to the referrers-list entries of the manifests that name it, in the order they became known.
#[derive(Debug, Default)]
pub(crate) struct ReferrersIndex {
    by_subject: HashMap<Digest, Vec<Descriptor>>,
}

impl ReferrersIndex {
    /// Records `parsed` (stored under `stored`, whose digest may use another algorithm than SHA-256) as a referrer
    /// of each of its subjects. Manifests that cannot be referrers (Docker schema 2) or have no subject are ignored.
    pub(crate) fn record(&mut self, parsed: &ParsedManifest, stored: &Descriptor) {
        if !media_types::can_be_referrer(parsed.media_type()) {
            return;
        }
        let subjects: Vec<Digest> = parsed.subjects().into_iter().map(|s| s.digest.clone()).collect();
        if subjects.is_empty() {
            return;
        }
        let entry = referrer_entry(parsed, stored);
        for subject in subjects {
            self.insert(subject, entry.clone());
        }
    }

    /// Adds one entry to `subject`'s list unless a manifest with that digest is already listed.
    pub(crate) fn insert(&mut self, subject: Digest, entry: Descriptor) {
        insert_referrer(self.by_subject.entry(subject).or_default(), entry);
    }

    /// Removes the manifest `digest` from every list (it was deleted); the lists of its own referrers stay, as the
    /// `subject` link is a weak one.
    pub(crate) fn remove(&mut self, digest: &Digest) {
        self.by_subject.retain(|_, list| {
            remove_referrer(list, digest);
            !list.is_empty()
        });
    }

    /// The referrers of `subject`, optionally only those of `artifact_type`.
    pub(crate) fn list(&self, subject: &Digest, artifact_type: Option<&str>) -> Vec<Descriptor> {
        let all = self.by_subject.get(subject).cloned().unwrap_or_default();
        match artifact_type {
            Some(wanted) => filter_by_artifact_type(all, wanted),
            None => all,
        }
    }
}

/// The referrers-list entry for a manifest stored under `stored`: the core's [`referrer_descriptor`], with the
/// digest the store actually holds it under.
fn referrer_entry(parsed: &ParsedManifest, stored: &Descriptor) -> Descriptor {
    let mut entry = referrer_descriptor(parsed);
    entry.digest = stored.digest.clone();
    entry
}

/// Parses manifest bytes being pushed under `descriptor`, refusing (with the digest named) anything that is not a
/// manifest of the type the descriptor announces, as a registry answers MANIFEST_INVALID.
pub(crate) fn parse_pushed_manifest(
    store: &str,
    descriptor: &Descriptor,
    bytes: &[u8],
) -> Result<ParsedManifest, ContentError> {
    ParsedManifest::parse(Some(&descriptor.media_type), bytes).map_err(|e| ContentError::Refused {
        store: store.to_string(),
        operation: format!("push of {}", descriptor.digest),
        reason: format!("not a valid {} manifest: {e}", descriptor.media_type),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nv2_core::oci::ImageManifest;

    fn manifest(bytes: &[u8]) -> (ParsedManifest, Descriptor) {
        let parsed = ParsedManifest::parse(None, bytes).unwrap();
        let descriptor = parsed.descriptor();
        (parsed, descriptor)
    }

    #[test]
    fn records_filters_and_removes_referrers() {
        let subject = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, b"subject");
        let signature = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, vec![])
            .with_subject(subject.clone())
            .to_json_bytes()
            .unwrap();
        let sbom = ImageManifest::artifact("application/spdx+json", vec![])
            .with_subject(subject.clone())
            .to_json_bytes()
            .unwrap();
        let plain = ImageManifest::new(Descriptor::empty(), vec![]).to_json_bytes().unwrap();
        let mut index = ReferrersIndex::default();
        for bytes in [&signature, &sbom, &plain, &signature] {
            let (parsed, stored) = manifest(bytes);
            index.record(&parsed, &stored);
        }
        let all = index.list(&subject.digest, None);
        assert_eq!(all.len(), 2, "duplicates and manifests without subject are not listed");
        assert_eq!(all[0].artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE));
        let signatures = index.list(&subject.digest, Some(media_types::NOTARY_SIGNATURE));
        assert_eq!(signatures, vec![all[0].clone()]);
        index.remove(&all[0].digest);
        assert_eq!(index.list(&subject.digest, None), vec![all[1].clone()]);
        index.remove(&all[1].digest);
        assert!(index.list(&subject.digest, None).is_empty());
    }

    #[test]
    fn refuses_pushed_bytes_that_are_not_the_announced_manifest() {
        let descriptor = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, b"not json");
        let err = parse_pushed_manifest("memory", &descriptor, b"not json").unwrap_err();
        assert!(err.to_string().contains(&descriptor.digest.to_string()), "{err}");
    }
}
