//! The registry proper: repositories, blobs, upload sessions, manifests, tags and the referrers index, over any
//! [`Storage`]. HTTP is somebody else's job ([`crate::http`]); everything here takes validated values and answers
//! with [`RegistryError`]s.
//!
//! Metadata keys (all under the storage's metadata space):
//! `repositories/<name>/_manifests/<alg>/<hex>` manifest record (JSON, carries the referrer descriptor),
//! `repositories/<name>/_tags/<tag>` digest text, `repositories/<name>/_blobs/<alg>/<hex>` blob link (empty),
//! `uploads/<id>` upload session info. Names never contain a component starting with `_`, so markers cannot collide.

mod blobs;
mod cache;
mod error;
mod gc;
mod manifests;
pub mod referrers;

use std::collections::{BTreeSet, HashMap};
use std::pin::Pin;
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use futures_util::Stream;

pub use blobs::ChunkRange;
pub use error::RegistryError;
pub use gc::{GcOptions, GcReport};
pub use manifests::{ManifestContent, PutOutcome};

use crate::config::Settings;
use crate::content::{self, Digest};
use crate::storage::Storage;
use blobs::UploadSlot;
use referrers::ReferrersIndex;

/// A request body as the registry consumes it: chunks, or the reason the client stopped sending.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, RegistryError>> + Send>>;

/// Most levels a recursive referrer delete follows (cycles are impossible by hashing, but depth is still bounded).
const MAX_DELETE_DEPTH: usize = 32;

/// A running registry's state.
pub struct Registry {
    storage: Arc<dyn Storage>,
    settings: Settings,
    referrers: ReferrersIndex,
    repos: RwLock<BTreeSet<String>>,
    uploads: Mutex<HashMap<String, UploadSlot>>,
    /// Serialises manifest and tag mutations so that records, tags and the referrers index move together.
    write_lock: tokio::sync::Mutex<()>,
    /// Hot-path cache of tags and manifest bytes.
    cache: cache::ReadCache,
    /// Blob commits and mounts hold it shared; garbage collection holds it exclusively while it sweeps.
    gc_lock: tokio::sync::RwLock<()>,
}

/// One page of a sorted name listing (tags, catalog).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamePage {
    /// The names.
    pub names: Vec<String>,
    /// Whether more names follow the last one.
    pub more: bool,
}

impl Registry {
    /// Opens a registry over `storage`, rebuilding the repository set and the referrers index from stored records.
    pub async fn open(storage: Arc<dyn Storage>, settings: Settings) -> Result<Self, RegistryError> {
        let registry = Registry {
            storage,
            settings,
            referrers: ReferrersIndex::default(),
            repos: RwLock::new(BTreeSet::new()),
            uploads: Mutex::new(HashMap::new()),
            write_lock: tokio::sync::Mutex::new(()),
            gc_lock: tokio::sync::RwLock::new(()),
            cache: cache::ReadCache::default(),
        };
        registry.rebuild().await?;
        Ok(registry)
    }

    /// The settings in force.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The storage backend (for GC and metrics).
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Number of referrer entries indexed (metrics).
    pub fn referrer_count(&self) -> usize {
        self.referrers.count()
    }

    async fn rebuild(&self) -> Result<(), RegistryError> {
        let mut pending = vec![String::new()];
        let mut found = Vec::new();
        while let Some(prefix) = pending.pop() {
            let key = if prefix.is_empty() { "repositories".to_owned() } else { format!("repositories/{prefix}") };
            let mut is_repo = false;
            for child in self.storage.meta_list(&key).await? {
                if child.starts_with('_') {
                    is_repo = true;
                } else if !prefix.is_empty() || content::validate_repository_name(&child).is_ok() {
                    let name = if prefix.is_empty() { child } else { format!("{prefix}/{child}") };
                    // Deeper than any valid name can be: stop descending.
                    if name.len() <= 255 {
                        pending.push(name);
                    }
                }
            }
            if is_repo && content::validate_repository_name(&prefix).is_ok() {
                found.push(prefix);
            }
        }
        for repo in found {
            self.load_referrers(&repo).await?;
            self.repos.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(repo);
        }
        Ok(())
    }

    fn mark_repo(&self, repo: &str) {
        let known = self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner).contains(repo);
        if !known {
            self.repos.write().unwrap_or_else(std::sync::PoisonError::into_inner).insert(repo.to_owned());
        }
    }

    /// Whether anything was ever pushed to `repo`.
    pub fn repo_exists(&self, repo: &str) -> bool {
        self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner).contains(repo)
    }

    /// Lists repositories in lexical order, `n` at most, strictly after `last`.
    pub fn catalog(&self, n: Option<usize>, last: Option<&str>) -> NamePage {
        let repos = self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let iter = repos.iter().filter(|r| last.is_none_or(|l| r.as_str() > l)).cloned();
        page_of(iter, n.map(|n| n.min(self.settings.max_list_page)))
    }

    /// Lists the tags of `repo` in lexical order, `n` at most, strictly after `last`.
    pub async fn tags(&self, repo: &str, n: Option<usize>, last: Option<&str>) -> Result<NamePage, RegistryError> {
        if !self.repo_exists(repo) {
            return Err(RegistryError::NameUnknown);
        }
        let tags = self.storage.meta_list(&format!("repositories/{repo}/_tags")).await?;
        let iter = tags.into_iter().filter(|t| last.is_none_or(|l| t.as_str() > l));
        Ok(page_of(iter, n.map(|n| n.min(self.settings.max_list_page))))
    }
}

fn page_of(mut iter: impl Iterator<Item = String>, n: Option<usize>) -> NamePage {
    match n {
        None => NamePage { names: iter.collect(), more: false },
        Some(n) => {
            let names: Vec<String> = iter.by_ref().take(n).collect();
            let more = n > 0 && iter.next().is_some();
            NamePage { names, more }
        }
    }
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Every repository known (garbage collection walks them).
impl Registry {
    fn repo_list(&self) -> Vec<String> {
        self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner).iter().cloned().collect()
    }
}

fn manifest_key(repo: &str, digest: &Digest) -> String {
    format!("repositories/{repo}/_manifests/{}/{}", digest.algorithm().name(), digest.hex())
}

fn tag_key(repo: &str, tag: &str) -> String {
    format!("repositories/{repo}/_tags/{tag}")
}

fn blob_link_key(repo: &str, digest: &Digest) -> String {
    format!("repositories/{repo}/_blobs/{}/{}", digest.algorithm().name(), digest.hex())
}
