//! Blobs and upload sessions: pull (with ranges), delete, mount, and the push modes of the spec (monolithic PUT,
//! single POST, chunked PATCH with the 416 rules, streamed PATCH). Digests are computed while bytes arrive.

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::{blob_link_key, BodyStream, Registry, RegistryError};
use crate::content::{self, Algorithm, Digest, Hasher};
use crate::storage::{BlobReader, StorageError};

/// An upload session as tracked in memory: `None` while a request is writing to it.
pub(super) type UploadSlot = Option<UploadState>;

/// Running state of one upload session.
pub(super) struct UploadState {
    repo: String,
    hasher: Hasher,
    size: u64,
}

/// What is persisted about a session so it survives a restart.
#[derive(Serialize, Deserialize)]
struct UploadInfo {
    repo: String,
    algorithm: String,
}

/// A chunk position as sent in `Content-Range: <start>-<end>` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    /// First byte offset.
    pub start: u64,
    /// Last byte offset (inclusive).
    pub end: u64,
}

/// Errors after which the session stays usable (the client may check status and resume).
fn keeps_session(e: &RegistryError) -> bool {
    matches!(e, RegistryError::RangeInvalid { .. } | RegistryError::Body(_))
}

impl Registry {
    /// Size of a blob linked into `repo`.
    pub async fn blob_size(&self, repo: &str, digest: &Digest) -> Result<u64, RegistryError> {
        if !self.repo_exists(repo) {
            return Err(RegistryError::BlobUnknown);
        }
        if self.storage.meta_get(&blob_link_key(repo, digest)).await?.is_none() {
            return Err(RegistryError::BlobUnknown);
        }
        self.storage.blob_size(digest).await?.ok_or(RegistryError::BlobUnknown)
    }

    /// Opens a blob linked into `repo`, optionally a byte range already checked against its size.
    pub async fn blob_open(
        &self,
        repo: &str,
        digest: &Digest,
        range: Option<(u64, u64)>,
    ) -> Result<BlobReader, RegistryError> {
        self.blob_size(repo, digest).await?;
        self.storage.blob_open(digest, range).await?.ok_or(RegistryError::BlobUnknown)
    }

    /// Unlinks a blob from `repo` (the bytes go when garbage collection finds no other link).
    pub async fn blob_delete(&self, repo: &str, digest: &Digest) -> Result<(), RegistryError> {
        if !self.settings.allow_delete {
            return Err(RegistryError::Unsupported("deletes are disabled"));
        }
        if !self.repo_exists(repo) || !self.storage.meta_delete(&blob_link_key(repo, digest)).await? {
            return Err(RegistryError::BlobUnknown);
        }
        Ok(())
    }

    async fn link_blob(&self, repo: &str, digest: &Digest) -> Result<(), RegistryError> {
        // The link holds its creation time so garbage collection can spare blobs whose manifest is still coming.
        self.storage.meta_put(&blob_link_key(repo, digest), super::now_secs().to_string().as_bytes()).await?;
        self.mark_repo(repo);
        Ok(())
    }

    /// Mounts `digest` into `repo` from `from`, or — when `search_all` and automatic mount is configured — from any
    /// repository; `false` when not found.
    pub async fn mount(
        &self,
        repo: &str,
        digest: &Digest,
        from: Option<&str>,
        search_all: bool,
    ) -> Result<bool, RegistryError> {
        let _gc = self.gc_lock.read().await;
        if self.storage.blob_size(digest).await?.is_none() {
            return Ok(false);
        }
        let found = match from {
            Some(from) if content::validate_repository_name(from).is_ok() => {
                self.storage.meta_get(&blob_link_key(from, digest)).await?.is_some()
            }
            _ => false,
        };
        if !found && (!search_all || !self.settings.automatic_mount) {
            return Ok(false);
        }
        self.link_blob(repo, digest).await?;
        Ok(true)
    }

    /// Starts an upload session in `repo` hashing with `algorithm`; returns its id.
    pub async fn upload_start(&self, repo: &str, algorithm: Algorithm) -> Result<String, RegistryError> {
        let id = uuid::Uuid::new_v4().to_string();
        self.storage.upload_create(&id).await?;
        let info = UploadInfo { repo: repo.to_owned(), algorithm: algorithm.name().to_owned() };
        let json = serde_json::to_vec(&info).map_err(|e| RegistryError::BlobUploadInvalid(e.to_string()))?;
        self.storage.meta_put(&format!("uploads/{id}"), &json).await?;
        let state = UploadState { repo: repo.to_owned(), hasher: Hasher::new(algorithm), size: 0 };
        self.slots().insert(id.clone(), Some(state));
        Ok(id)
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, UploadSlot>> {
        self.uploads.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes exclusive hold of a session, reloading it from storage after a restart.
    async fn take(&self, repo: &str, id: &str) -> Result<UploadState, RegistryError> {
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(RegistryError::BlobUploadUnknown);
        }
        {
            let mut slots = self.slots();
            match slots.get_mut(id) {
                Some(slot) => {
                    return match slot.take() {
                        Some(state) if state.repo == repo => Ok(state),
                        Some(state) => {
                            *slot = Some(state);
                            Err(RegistryError::BlobUploadUnknown)
                        }
                        None => Err(RegistryError::BlobUploadInvalid("another request is writing this upload".into())),
                    };
                }
                None => {
                    slots.insert(id.to_owned(), None);
                }
            }
        }
        let loaded = self.reload(repo, id).await;
        match loaded {
            Ok(state) => Ok(state),
            Err(e) => {
                self.slots().remove(id);
                Err(e)
            }
        }
    }

    async fn reload(&self, repo: &str, id: &str) -> Result<UploadState, RegistryError> {
        let raw = self.storage.meta_get(&format!("uploads/{id}")).await?.ok_or(RegistryError::BlobUploadUnknown)?;
        let info: UploadInfo = serde_json::from_slice(&raw).map_err(|_| RegistryError::BlobUploadUnknown)?;
        if info.repo != repo {
            return Err(RegistryError::BlobUploadUnknown);
        }
        let algorithm = Algorithm::from_name(&info.algorithm).unwrap_or(Algorithm::Sha256);
        let (hasher, size) = self.rehash(id, algorithm).await?;
        Ok(UploadState { repo: info.repo, hasher, size })
    }

    async fn rehash(&self, id: &str, algorithm: Algorithm) -> Result<(Hasher, u64), RegistryError> {
        let mut stream = match self.storage.upload_read(id).await {
            Ok(s) => s,
            Err(StorageError::UploadUnknown) => return Err(RegistryError::BlobUploadUnknown),
            Err(e) => return Err(e.into()),
        };
        let mut hasher = Hasher::new(algorithm);
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(StorageError::from)?;
            hasher.update(&chunk);
            size = size.saturating_add(chunk.len() as u64);
        }
        Ok((hasher, size))
    }

    fn give_back(&self, id: &str, state: UploadState) {
        self.slots().insert(id.to_owned(), Some(state));
    }

    async fn discard(&self, id: &str) {
        self.slots().remove(id);
        let _ = self.storage.upload_delete(id).await;
        let _ = self.storage.meta_delete(&format!("uploads/{id}")).await;
    }

    /// Bytes received so far by a session.
    pub async fn upload_status(&self, repo: &str, id: &str) -> Result<u64, RegistryError> {
        let state = self.take(repo, id).await?;
        let size = state.size;
        self.give_back(id, state);
        Ok(size)
    }

    /// Cancels a session.
    pub async fn upload_cancel(&self, repo: &str, id: &str) -> Result<(), RegistryError> {
        let state = self.take(repo, id).await?;
        drop(state);
        self.discard(id).await;
        Ok(())
    }

    /// Appends a chunk (`PATCH`); returns the new total size. With a range, its start must equal the current size.
    pub async fn upload_patch(
        &self,
        repo: &str,
        id: &str,
        range: Option<ChunkRange>,
        length: Option<u64>,
        body: BodyStream,
    ) -> Result<u64, RegistryError> {
        let mut state = self.take(repo, id).await?;
        let result = self.append(id, &mut state, range, length, body).await;
        match result {
            Ok(()) => {
                let size = state.size;
                self.give_back(id, state);
                Ok(size)
            }
            Err(e) if keeps_session(&e) => {
                self.give_back(id, state);
                Err(e)
            }
            Err(e) => {
                self.discard(id).await;
                Err(e)
            }
        }
    }

    /// Closes a session (`PUT ?digest=`), appending an optional last chunk, and stores the blob if it matches.
    pub async fn upload_finish(
        &self,
        repo: &str,
        id: &str,
        digest: &Digest,
        range: Option<ChunkRange>,
        length: Option<u64>,
        body: BodyStream,
    ) -> Result<(), RegistryError> {
        let mut state = self.take(repo, id).await?;
        let result = async {
            self.append(id, &mut state, range, length, body).await?;
            let actual = if state.hasher.algorithm() == digest.algorithm() {
                state.hasher.clone().finish()
            } else {
                self.rehash(id, digest.algorithm()).await?.0.finish()
            };
            if &actual != digest {
                return Err(RegistryError::DigestInvalid(format!("content has digest {actual}")));
            }
            let _gc = self.gc_lock.read().await;
            self.storage.upload_commit(id, digest).await?;
            self.link_blob(repo, digest).await
        }
        .await;
        match result {
            Ok(()) => {
                self.slots().remove(id);
                let _ = self.storage.meta_delete(&format!("uploads/{id}")).await;
                Ok(())
            }
            Err(e) if keeps_session(&e) => {
                self.give_back(id, state);
                Err(e)
            }
            Err(e) => {
                self.discard(id).await;
                Err(e)
            }
        }
    }

    /// One-request push (`POST ?digest=` with a body).
    pub async fn blob_put_whole(
        &self,
        repo: &str,
        digest: &Digest,
        length: Option<u64>,
        body: BodyStream,
    ) -> Result<(), RegistryError> {
        let id = self.upload_start(repo, digest.algorithm()).await?;
        let result = self.upload_finish(repo, &id, digest, None, length, body).await;
        if result.is_err() {
            self.discard(&id).await;
        }
        result
    }

    async fn append(
        &self,
        id: &str,
        state: &mut UploadState,
        range: Option<ChunkRange>,
        length: Option<u64>,
        mut body: BodyStream,
    ) -> Result<(), RegistryError> {
        let mut expected = length;
        if let Some(r) = range {
            if r.start != state.size || r.end < r.start {
                return Err(RegistryError::RangeInvalid { size: state.size });
            }
            let span = r.end - r.start + 1;
            if length.is_some_and(|l| l != span) {
                return Err(RegistryError::RangeInvalid { size: state.size });
            }
            expected = Some(span);
        }
        let max = self.settings.max_blob_bytes;
        if max > 0 && expected.is_some_and(|e| state.size.saturating_add(e) > max) {
            return Err(RegistryError::TooLarge { limit: max });
        }
        let mut writer = None;
        let mut written = 0u64;
        let mut outcome = Ok(());
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            };
            if chunk.is_empty() {
                continue;
            }
            let total = state.size.saturating_add(written).saturating_add(chunk.len() as u64);
            if (max > 0 && total > max) || expected.is_some_and(|e| written + chunk.len() as u64 > e) {
                outcome = Err(if max > 0 && total > max {
                    RegistryError::TooLarge { limit: max }
                } else {
                    RegistryError::SizeInvalid
                });
                break;
            }
            if writer.is_none() {
                writer = Some(self.storage.upload_writer(id).await?);
            }
            if let Some(w) = writer.as_mut() {
                w.write(&chunk).await?;
            }
            state.hasher.update(&chunk);
            written += chunk.len() as u64;
        }
        if let Some(w) = writer {
            w.finish().await?;
        }
        state.size = state.size.saturating_add(written);
        outcome?;
        if expected.is_some_and(|e| e != written) {
            return Err(RegistryError::SizeInvalid);
        }
        Ok(())
    }

    /// Removes sessions idle longer than the configured expiry; returns how many.
    pub async fn expire_uploads(&self) -> Result<usize, RegistryError> {
        let stale = self.storage.upload_list_older_than(self.settings.upload_expiry()).await?;
        let mut removed = 0;
        for id in stale {
            let busy = matches!(self.slots().get(&id), Some(None));
            if !busy {
                self.discard(&id).await;
                removed += 1;
            }
        }
        Ok(removed)
    }
}
