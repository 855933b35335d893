//! Manifests and tags: exact-byte storage, the blob-existence check, the referrers index kept at write time, and
//! deletes with the configured orphan policy.

use bytes::Bytes;
use nv2_core::oci::Descriptor;
use serde::{Deserialize, Serialize};

use super::cache::Cached;
use super::referrers::{Page, Referrer};
use super::{blob_link_key, manifest_key, tag_key, Registry, RegistryError, MAX_DELETE_DEPTH};
use crate::config::OrphanPolicy;
use crate::content::{self, Algorithm, Digest, ManifestError, Reference};

/// What is stored per manifest revision; the referrers index is rebuilt from these alone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ManifestRecord {
    pub(super) media_type: String,
    size: u64,
    /// Unix seconds of the push (garbage collection spares young untagged manifests).
    #[serde(default)]
    pub(super) created: u64,
    #[serde(default)]
    pub(super) subjects: Vec<String>,
    /// The referrers-list descriptor (kept only for manifests with a subject; other records stay small).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    referrer: Option<Descriptor>,
}

impl ManifestRecord {
    fn referrer(&self) -> Option<Referrer> {
        let descriptor = self.referrer.as_ref()?;
        let value = serde_json::to_value(descriptor).ok()?;
        Some(Referrer { descriptor: value, artifact_type: descriptor.artifact_type.clone() })
    }
}

/// A manifest as served: exact bytes plus the media type it was pushed with.
#[derive(Debug, Clone)]
pub struct ManifestContent {
    /// Digest of the bytes.
    pub digest: Digest,
    /// The pushed media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// The bytes (absent for HEAD).
    pub bytes: Option<Bytes>,
}

/// What a manifest PUT did.
#[derive(Debug, Clone)]
pub struct PutOutcome {
    /// Digest of the stored bytes.
    pub digest: Digest,
    /// The subject, when the manifest has one (answered as `OCI-Subject`).
    pub subject: Option<Digest>,
}

impl Registry {
    pub(super) async fn load_referrers(&self, repo: &str) -> Result<(), RegistryError> {
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let prefix = format!("repositories/{repo}/_manifests/{}", alg.name());
            for hex in self.storage.meta_list(&prefix).await? {
                let Ok(digest) = Digest::parse(&format!("{}:{hex}", alg.name())) else { continue };
                if let Some(record) = self.record(repo, &digest).await? {
                    self.index(repo, &digest, &record);
                }
            }
        }
        Ok(())
    }

    fn index(&self, repo: &str, digest: &Digest, record: &ManifestRecord) {
        let Some(entry) = record.referrer() else { return };
        for subject in &record.subjects {
            if let Ok(subject) = Digest::parse(subject) {
                self.referrers.insert(repo, subject, digest.clone(), entry.clone());
            }
        }
    }

    pub(super) async fn record(&self, repo: &str, digest: &Digest) -> Result<Option<ManifestRecord>, RegistryError> {
        match self.storage.meta_get(&manifest_key(repo, digest)).await? {
            None => Ok(None),
            Some(raw) => Ok(serde_json::from_slice(&raw).ok()),
        }
    }

    async fn resolve(&self, repo: &str, reference: &Reference) -> Result<Digest, RegistryError> {
        match reference {
            Reference::Digest(d) => Ok(d.clone()),
            Reference::Tag(tag) => {
                if let Some(d) = self.cache.tag(repo, tag) {
                    return Ok(d);
                }
                let generation = self.cache.generation();
                let raw = self.storage.meta_get(&tag_key(repo, tag)).await?.ok_or(RegistryError::ManifestUnknown)?;
                let text = std::str::from_utf8(&raw).map_err(|_| RegistryError::ManifestUnknown)?;
                let digest = Digest::parse(text.trim()).map_err(|_| RegistryError::ManifestUnknown)?;
                self.cache.put_tag(generation, repo, tag, digest.clone());
                Ok(digest)
            }
        }
    }

    /// Fetches a manifest by tag or digest; `with_bytes = false` for HEAD.
    pub async fn manifest_get(
        &self,
        repo: &str,
        reference: &Reference,
        with_bytes: bool,
    ) -> Result<ManifestContent, RegistryError> {
        if !self.repo_exists(repo) {
            return Err(RegistryError::NameUnknown);
        }
        let digest = self.resolve(repo, reference).await?;
        if let Some(hit) = self.cache.manifest(repo, &digest) {
            let bytes = with_bytes.then(|| hit.bytes.clone());
            let size = hit.bytes.len() as u64;
            return Ok(ManifestContent { digest, media_type: hit.media_type.clone(), size, bytes });
        }
        let generation = self.cache.generation();
        let record = self.record(repo, &digest).await?.ok_or(RegistryError::ManifestUnknown)?;
        let bytes = self
            .storage
            .blob_read(&digest, self.settings.max_manifest_bytes)
            .await?
            .ok_or(RegistryError::ManifestUnknown)?;
        let cached = Cached { media_type: record.media_type.clone(), bytes: bytes.clone() };
        self.cache.put_manifest(generation, repo, &digest, cached);
        let bytes = with_bytes.then_some(bytes);
        Ok(ManifestContent { digest, media_type: record.media_type, size: record.size, bytes })
    }

    /// Stores a manifest under a tag or digest.
    pub async fn manifest_put(
        &self,
        repo: &str,
        reference: &Reference,
        extra_tags: &[String],
        content_type: Option<&str>,
        bytes: Bytes,
    ) -> Result<PutOutcome, RegistryError> {
        if extra_tags.iter().any(|t| crate::content::validate_tag(t).is_err()) {
            return Err(RegistryError::TagInvalid);
        }
        let limit = self.settings.max_manifest_bytes;
        if bytes.len() as u64 > limit {
            return Err(RegistryError::TooLarge { limit });
        }
        let algorithm = match reference {
            Reference::Digest(d) => d.algorithm(),
            Reference::Tag(_) => Algorithm::Sha256,
        };
        let digest = Digest::compute(algorithm, &bytes);
        if let Reference::Digest(d) = reference {
            if d != &digest {
                return Err(RegistryError::DigestInvalid(format!("manifest has digest {digest}")));
            }
        }
        let facts = content::manifest_facts(content_type, &bytes, algorithm).map_err(|e| match e {
            ManifestError::TooLarge(_) => RegistryError::TooLarge { limit },
            ManifestError::Invalid(reason) => RegistryError::ManifestInvalid(reason),
        })?;
        let mut missing = Vec::new();
        for blob in &facts.blobs {
            if self.storage.meta_get(&blob_link_key(repo, blob)).await?.is_none()
                || self.storage.blob_size(blob).await?.is_none()
            {
                missing.push(blob.clone());
            }
        }
        if !missing.is_empty() {
            return Err(RegistryError::ManifestBlobUnknown(missing));
        }
        let is_referrer = !facts.subjects.is_empty();
        let record = ManifestRecord {
            media_type: facts.media_type,
            size: bytes.len() as u64,
            created: super::now_secs(),
            subjects: facts.subjects.iter().map(ToString::to_string).collect(),
            referrer: is_referrer.then_some(facts.referrer),
        };
        let json = serde_json::to_vec(&record).map_err(|e| RegistryError::ManifestInvalid(e.to_string()))?;

        let _guard = self.write_lock.lock().await;
        // Bytes first, then the record (the commit point, which also carries the referrer entry), then the tag.
        self.storage.blob_put(&digest, &bytes).await?;
        self.storage.meta_put(&manifest_key(repo, &digest), &json).await?;
        let tag = match reference {
            Reference::Tag(tag) => Some(tag),
            Reference::Digest(_) => None,
        };
        for tag in tag.into_iter().chain(extra_tags) {
            self.storage.meta_put(&tag_key(repo, tag), digest.to_string().as_bytes()).await?;
        }
        self.index(repo, &digest, &record);
        self.cache.invalidate();
        self.mark_repo(repo);
        Ok(PutOutcome { digest, subject: facts.subjects.into_iter().next() })
    }

    /// Deletes a tag, or a manifest by digest (with its tags, and per policy its referrers).
    pub async fn manifest_delete(&self, repo: &str, reference: &Reference) -> Result<(), RegistryError> {
        if !self.settings.allow_delete {
            return Err(RegistryError::Unsupported("deletes are disabled"));
        }
        if !self.repo_exists(repo) {
            return Err(RegistryError::NameUnknown);
        }
        let _guard = self.write_lock.lock().await;
        match reference {
            Reference::Tag(tag) => {
                let deleted = self.storage.meta_delete(&tag_key(repo, tag)).await?;
                self.cache.invalidate();
                if deleted {
                    Ok(())
                } else {
                    Err(RegistryError::ManifestUnknown)
                }
            }
            Reference::Digest(digest) => {
                if self.record(repo, digest).await?.is_none() {
                    return Err(RegistryError::ManifestUnknown);
                }
                let mut pending = vec![(digest.clone(), 0usize)];
                while let Some((d, depth)) = pending.pop() {
                    if self.settings.orphan_policy == OrphanPolicy::Delete && depth < MAX_DELETE_DEPTH {
                        for child in self.referrers.referrer_digests(repo, &d) {
                            pending.push((child, depth + 1));
                        }
                    }
                    self.delete_revision(repo, &d).await?;
                }
                Ok(())
            }
        }
    }

    pub(super) async fn delete_revision(&self, repo: &str, digest: &Digest) -> Result<(), RegistryError> {
        let Some(record) = self.record(repo, digest).await? else { return Ok(()) };
        let text = digest.to_string();
        for tag in self.storage.meta_list(&format!("repositories/{repo}/_tags")).await? {
            let key = tag_key(repo, &tag);
            if let Some(v) = self.storage.meta_get(&key).await? {
                if v.as_ref() == text.as_bytes() {
                    self.storage.meta_delete(&key).await?;
                }
            }
        }
        self.storage.meta_delete(&manifest_key(repo, digest)).await?;
        self.cache.invalidate();
        for subject in &record.subjects {
            if let Ok(subject) = Digest::parse(subject) {
                self.referrers.remove(repo, &subject, digest);
            }
        }
        Ok(())
    }

    /// A page of the referrers of `subject` in `repo` (never an error for an unknown repository or subject).
    pub fn referrers(&self, repo: &str, subject: &Digest, artifact_type: Option<&str>, after: Option<&Digest>) -> Page {
        self.referrers.page(repo, subject, artifact_type, after, self.settings.referrers_page_size)
    }

    /// Resolves a tag or digest to a digest for the prototype-2 references API.
    pub async fn resolve_reference(&self, repo: &str, reference: &Reference) -> Result<Digest, RegistryError> {
        if !self.repo_exists(repo) {
            return Err(RegistryError::NameUnknown);
        }
        self.resolve(repo, reference).await
    }
}
