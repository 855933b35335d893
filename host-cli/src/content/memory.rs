//! A content store in memory: the staging area for content built before it is pushed (a signature and its
//! envelope), the target of `copy` when only verification is wanted, and the reference store the tests compare
//! other stores against. It behaves like a registry repository with the referrers API: pushes are verified,
//! manifests are parsed and their subjects indexed, tags point at manifests.

use std::collections::{BTreeMap, HashMap};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use bytes::Bytes;
use nv2_core::oci::{validate_tag, Descriptor, Digest, TagOrDigest};

use super::referrers_index::{parse_pushed_manifest, ReferrersIndex};
use super::{collect_verified, stream_of, ByteStream, ContentError, ContentStore, BLOB_MEDIA_TYPE};

/// A thread-safe, HashMap-backed [`ContentStore`].
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    /// Every manifest and blob, by digest, with the descriptor it was pushed under.
    content: HashMap<Digest, (Descriptor, Bytes)>,
    /// Tag to manifest.
    tags: BTreeMap<String, Descriptor>,
    /// Subject to referrers.
    referrers: ReferrersIndex,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The plain descriptors (`mediaType`, `digest`, `size`) of everything stored, sorted by digest: what tests and
    /// `--dry-run` displays compare.
    pub fn descriptors(&self) -> Vec<Descriptor> {
        let state = self.read();
        let mut all: Vec<Descriptor> =
            state.content.values().map(|(d, _)| Descriptor::new(&d.media_type, d.digest.clone(), d.size)).collect();
        all.sort_by(|a, b| a.digest.cmp(&b.digest));
        all
    }

    /// Every tag and the manifest it points at.
    pub fn tags(&self) -> BTreeMap<String, Descriptor> {
        self.read().tags.clone()
    }

    // A panic while holding the lock cannot leave the maps half-updated (every update is a single insert or
    // remove), so a poisoned lock is still safe to use.
    fn read(&self) -> RwLockReadGuard<'_, MemoryState> {
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, MemoryState> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    fn not_found(&self, what: impl Into<String>) -> ContentError {
        ContentError::NotFound { what: what.into(), store: self.name() }
    }
}

#[async_trait]
impl ContentStore for MemoryStore {
    fn name(&self) -> String {
        String::from("memory")
    }

    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        let state = self.read();
        match TagOrDigest::parse(reference)? {
            TagOrDigest::Digest(digest) => match state.content.get(&digest) {
                Some((d, _)) if d.is_manifest() => Ok(Descriptor::new(&d.media_type, d.digest.clone(), d.size)),
                _ => Err(self.not_found(format!("manifest {digest}"))),
            },
            TagOrDigest::Tag(tag) => state.tags.get(&tag).cloned().ok_or_else(|| self.not_found(format!("tag {tag}"))),
        }
    }

    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        match self.read().content.get(digest) {
            Some((_, bytes)) => Ok(Descriptor::new(BLOB_MEDIA_TYPE, digest.clone(), bytes.len() as u64)),
            None => Err(self.not_found(format!("blob {digest}"))),
        }
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        Ok(self.read().content.contains_key(&descriptor.digest))
    }

    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        let bytes = self.read().content.get(&descriptor.digest).map(|(_, bytes)| bytes.clone());
        bytes.map(stream_of).ok_or_else(|| self.not_found(descriptor.digest.to_string()))
    }

    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        let bytes = collect_verified(content, descriptor).await?;
        let parsed = if descriptor.is_manifest() {
            Some(parse_pushed_manifest(&self.name(), descriptor, &bytes)?)
        } else {
            None
        };
        let mut state = self.write();
        if let Some(parsed) = &parsed {
            state.referrers.record(parsed, descriptor);
        }
        state.content.insert(descriptor.digest.clone(), (descriptor.clone(), Bytes::from(bytes)));
        Ok(())
    }

    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        validate_tag(tag)?;
        let mut state = self.write();
        if !state.content.contains_key(&descriptor.digest) {
            return Err(self.not_found(format!("manifest {}", descriptor.digest)));
        }
        state.tags.insert(tag.to_string(), descriptor.clone());
        Ok(())
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        Ok(self.read().referrers.list(&subject.digest, artifact_type))
    }

    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        let mut state = self.write();
        if state.content.remove(&descriptor.digest).is_none() {
            return Err(self.not_found(descriptor.digest.to_string()));
        }
        state.tags.retain(|_, d| d.digest != descriptor.digest);
        state.referrers.remove(&descriptor.digest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nv2_core::oci::{media_types, ImageManifest};

    fn image_with_signature() -> (Vec<u8>, Descriptor, Vec<u8>, Descriptor, Vec<u8>, Descriptor) {
        let layer_bytes = b"layer".to_vec();
        let layer = Descriptor::for_content(media_types::OCI_LAYER_TAR, &layer_bytes);
        let image = ImageManifest::new(Descriptor::empty(), vec![layer.clone()]).to_json_bytes().unwrap();
        let image_desc = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &image);
        let signature = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, vec![])
            .with_subject(image_desc.clone())
            .to_json_bytes()
            .unwrap();
        let signature_desc = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &signature);
        (layer_bytes, layer, image, image_desc, signature, signature_desc)
    }

    #[tokio::test]
    async fn push_tag_resolve_referrers_delete() {
        let store = MemoryStore::new();
        let (layer_bytes, layer, image, image_desc, signature, signature_desc) = image_with_signature();
        store.push(&layer, stream_of(layer_bytes)).await.unwrap();
        store.push(&Descriptor::empty(), stream_of(&b"{}"[..])).await.unwrap();
        store.push(&image_desc, stream_of(image)).await.unwrap();
        store.push(&signature_desc, stream_of(signature.clone())).await.unwrap();
        store.tag(&image_desc, "v1").await.unwrap();

        assert_eq!(store.resolve("v1").await.unwrap(), image_desc);
        assert_eq!(store.resolve(&image_desc.digest.to_string()).await.unwrap(), image_desc);
        assert!(matches!(store.resolve(&layer.digest.to_string()).await, Err(ContentError::NotFound { .. })));
        assert!(matches!(store.resolve("sha256:abc").await, Err(ContentError::Oci(_))));
        assert!(matches!(store.resolve("v2").await, Err(ContentError::NotFound { .. })));
        assert!(matches!(store.tag(&image_desc, "bad tag").await, Err(ContentError::Oci(_))));

        let referrers = store.referrers(&image_desc, None).await.unwrap();
        assert_eq!(referrers.len(), 1);
        assert_eq!(referrers[0].digest, signature_desc.digest);
        assert_eq!(referrers[0].artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE));
        assert!(store.referrers(&image_desc, Some("application/other")).await.unwrap().is_empty());
        assert_eq!(super::super::fetch_all(&store, &signature_desc, 1 << 20).await.unwrap(), signature);

        store.delete(&signature_desc).await.unwrap();
        assert!(store.referrers(&image_desc, None).await.unwrap().is_empty());
        store.delete(&image_desc).await.unwrap();
        assert!(store.tags().is_empty(), "deleting a manifest removes its tags");
        assert!(matches!(store.delete(&image_desc).await, Err(ContentError::NotFound { .. })));
        assert_eq!(store.descriptors().len(), 2);
    }

    #[tokio::test]
    async fn refuses_mismatched_content_and_invalid_manifests() {
        let store = MemoryStore::new();
        let layer = Descriptor::for_content(media_types::OCI_LAYER_TAR, b"layer");
        let err = store.push(&layer, stream_of(&b"other"[..])).await.unwrap_err();
        assert!(matches!(err, ContentError::Mismatch { .. }), "{err}");
        let err = store.push(&layer, stream_of(&b"layer and more"[..])).await.unwrap_err();
        assert!(matches!(err, ContentError::Mismatch { .. }), "{err}");
        let not_a_manifest = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, b"[]");
        let err = store.push(&not_a_manifest, stream_of(&b"[]"[..])).await.unwrap_err();
        assert!(matches!(err, ContentError::Refused { .. }), "{err}");
        assert!(store.descriptors().is_empty());
        assert!(matches!(store.tag(&layer, "v1").await, Err(ContentError::NotFound { .. })));
    }
}
