//! A content store directly over an nv2-registry's storage, without HTTP: how content reaches a read-only
//! (air-gapped) registry. `nv2 import <file.tar> <repo> --registry-data <dir>` copies an exported layout into the
//! data directory of a stopped registry with the one graph copier; the registry then serves it read-only. The same
//! registry code path (`nv2_registry::registry::Registry`) checks every digest and keeps the referrers index, so
//! imported content is exactly what a push would have stored.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::StreamExt;
use nv2_core::oci::{Descriptor, Digest};
use nv2_registry::config::Settings;
use nv2_registry::content::Reference as RegistryReference;
use nv2_registry::registry::{Registry, RegistryError};
use nv2_registry::storage::FilesystemStorage;

use super::{collect_verified, ByteStream, ContentError, ContentStore, BLOB_MEDIA_TYPE};

/// One repository of a registry's storage, opened in-process.
pub struct RegistryStorage {
    registry: Arc<Registry>,
    repository: String,
    name: String,
}

impl RegistryStorage {
    /// Opens the storage under `data_dir` (the registry must not be running on it: its in-memory indexes would not
    /// see what is written here) and addresses `repository` in it.
    pub async fn open(data_dir: &Path, repository: &str) -> Result<Self, ContentError> {
        nv2_core::oci::validate_repository_name(repository)?;
        let unreachable = |reason: String| ContentError::Unreachable { store: data_dir.display().to_string(), reason };
        let storage = FilesystemStorage::open(data_dir).await.map_err(|e| unreachable(e.to_string()))?;
        let settings = Settings { data_dir: data_dir.to_path_buf(), ..Settings::default() };
        let registry = Registry::open(Arc::new(storage), settings).await.map_err(|e| unreachable(e.to_string()))?;
        Ok(Self::from_registry(Arc::new(registry), repository, &data_dir.display().to_string()))
    }

    /// Addresses `repository` of an already open registry (the demo's embedded registries).
    pub fn from_registry(registry: Arc<Registry>, repository: &str, location: &str) -> Self {
        RegistryStorage {
            registry,
            repository: repository.to_string(),
            name: format!("registry-data:{location}/{repository}"),
        }
    }

    fn error(&self, what: &str, error: RegistryError) -> ContentError {
        match error {
            RegistryError::NameUnknown | RegistryError::ManifestUnknown | RegistryError::BlobUnknown => {
                ContentError::NotFound { what: what.to_string(), store: self.name() }
            }
            RegistryError::DigestInvalid(reason) => ContentError::Mismatch { expected: what.to_string(), reason },
            RegistryError::SizeInvalid => {
                ContentError::Mismatch { expected: what.to_string(), reason: "size differs".to_string() }
            }
            RegistryError::Unsupported(reason) => {
                ContentError::Refused { store: self.name(), operation: what.to_string(), reason: reason.to_string() }
            }
            other => {
                ContentError::Refused { store: self.name(), operation: what.to_string(), reason: other.to_string() }
            }
        }
    }
}

#[async_trait]
impl ContentStore for RegistryStorage {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        let parsed = RegistryReference::parse(reference).map_err(|e| ContentError::Refused {
            store: self.name(),
            operation: format!("resolve {reference}"),
            reason: e.to_string(),
        })?;
        let found =
            self.registry.manifest_get(&self.repository, &parsed, false).await.map_err(|e| self.error(reference, e))?;
        Ok(Descriptor::new(&found.media_type, found.digest, found.size))
    }

    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        let size = self.registry.blob_size(&self.repository, digest).await.map_err(|e| match e {
            RegistryError::NameUnknown | RegistryError::BlobUnknown => {
                ContentError::NotFound { what: format!("blob {digest}"), store: self.name() }
            }
            e => self.error(&digest.to_string(), e),
        })?;
        Ok(Descriptor::new(BLOB_MEDIA_TYPE, digest.clone(), size))
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        let result = if descriptor.is_manifest() {
            let reference = RegistryReference::Digest(descriptor.digest.clone());
            self.registry.manifest_get(&self.repository, &reference, false).await.map(|_| ())
        } else {
            self.registry.blob_size(&self.repository, &descriptor.digest).await.map(|_| ())
        };
        match result {
            Ok(()) => Ok(true),
            Err(RegistryError::NameUnknown | RegistryError::ManifestUnknown | RegistryError::BlobUnknown) => Ok(false),
            Err(e) => Err(self.error(&descriptor.digest.to_string(), e)),
        }
    }

    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        let what = descriptor.digest.to_string();
        if descriptor.is_manifest() {
            let reference = RegistryReference::Digest(descriptor.digest.clone());
            let found = self
                .registry
                .manifest_get(&self.repository, &reference, true)
                .await
                .map_err(|e| self.error(&what, e))?;
            return Ok(super::stream_of(found.bytes.unwrap_or_default()));
        }
        let reader = self
            .registry
            .blob_open(&self.repository, &descriptor.digest, None)
            .await
            .map_err(|e| self.error(&what, e))?;
        let store = self.name();
        Ok(Box::pin(reader.stream.map(move |chunk| {
            chunk.map_err(|e| ContentError::Unreachable { store: store.clone(), reason: e.to_string() })
        })))
    }

    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        let what = descriptor.digest.to_string();
        if descriptor.is_manifest() {
            let bytes = collect_verified(content, descriptor).await?;
            let reference = RegistryReference::Digest(descriptor.digest.clone());
            self.registry
                .manifest_put(&self.repository, &reference, &[], Some(&descriptor.media_type), bytes.into())
                .await
                .map_err(|e| self.error(&what, e))?;
            return Ok(());
        }
        let body = Box::pin(content.map(|chunk| chunk.map_err(|e| RegistryError::BlobUploadInvalid(e.to_string()))));
        self.registry
            .blob_put_whole(&self.repository, &descriptor.digest, Some(descriptor.size), body)
            .await
            .map_err(|e| self.error(&what, e))
    }

    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        nv2_core::oci::validate_tag(tag)?;
        let bytes = super::fetch_all(self, descriptor, nv2_core::limits::MAX_MANIFEST_BYTES as u64).await?;
        let reference = RegistryReference::Tag(tag.to_string());
        self.registry
            .manifest_put(&self.repository, &reference, &[], Some(&descriptor.media_type), bytes.into())
            .await
            .map_err(|e| self.error(&format!("tag {tag}"), e))?;
        Ok(())
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        let mut all = Vec::new();
        let mut after: Option<Digest> = None;
        loop {
            let page = self.registry.referrers(&self.repository, &subject.digest, artifact_type, after.as_ref());
            for item in page.items {
                let descriptor: Descriptor = serde_json::from_value(item.descriptor).map_err(|e| {
                    ContentError::Malformed { store: self.name(), reason: format!("referrer descriptor: {e}") }
                })?;
                all.push(descriptor);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        let what = descriptor.digest.to_string();
        if descriptor.is_manifest() {
            let reference = RegistryReference::Digest(descriptor.digest.clone());
            return self.registry.manifest_delete(&self.repository, &reference).await.map_err(|e| self.error(&what, e));
        }
        self.registry.blob_delete(&self.repository, &descriptor.digest).await.map_err(|e| self.error(&what, e))
    }
}
