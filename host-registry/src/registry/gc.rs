//! Garbage collection: mark what tags (and, per policy, referrers and young content) keep alive, sweep the rest.
//!
//! Live manifests are the tagged ones, everything reachable from them through index children, every referrer of a
//! live manifest (recursively: a signature on a live image is never collected), untagged manifests younger than the
//! grace period or when untagged collection is off, and — under the `keep` orphan policy — referrers whose subject
//! is absent. Blob links older than the grace period that no live manifest needs are removed; blob bytes that no
//! link and no live manifest needs are deleted. A dry run reports the same without changing anything.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use serde::Serialize;

use super::manifests::ManifestRecord;
use super::{now_secs, Registry, RegistryError};
use crate::config::OrphanPolicy;
use crate::content::{self, Algorithm, Digest};

/// How a collection runs.
#[derive(Debug, Clone, Copy)]
pub struct GcOptions {
    /// Report only.
    pub dry_run: bool,
    /// Collect untagged manifests that nothing live refers to.
    pub delete_untagged: bool,
    /// Content younger than this is never collected (pushes in progress).
    pub grace: Duration,
}

/// What a collection removed (or would remove).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct GcReport {
    /// Whether nothing was changed.
    pub dry_run: bool,
    /// `repo@digest` of manifests removed.
    pub manifests: Vec<String>,
    /// Blob links removed from repositories.
    pub links: usize,
    /// Blobs whose bytes were deleted.
    pub blobs: usize,
    /// Bytes freed.
    pub bytes: u64,
}

impl Registry {
    /// Runs one collection. Holds the manifest lock and the commit lock for its duration.
    pub async fn gc(&self, options: GcOptions) -> Result<GcReport, RegistryError> {
        let _writes = self.write_lock.lock().await;
        let _commits = self.gc_lock.write().await;
        let now = now_secs();
        let grace = options.grace.as_secs();
        let mut report = GcReport { dry_run: options.dry_run, ..GcReport::default() };
        let mut keep: HashSet<Digest> = HashSet::new();

        for repo in self.repo_list() {
            let records = self.records(&repo).await?;
            let mut stack: Vec<Digest> = Vec::new();
            for tag in self.storage.meta_list(&format!("repositories/{repo}/_tags")).await? {
                if let Some(raw) = self.storage.meta_get(&super::tag_key(&repo, &tag)).await? {
                    if let Ok(d) = Digest::parse(String::from_utf8_lossy(&raw).trim()) {
                        stack.push(d);
                    }
                }
            }
            for (digest, record) in &records {
                let young = now.saturating_sub(record.created) < grace;
                let orphan = !record.subjects.is_empty()
                    && record.subjects.iter().all(|s| Digest::parse(s).map_or(true, |s| !records.contains_key(&s)));
                if !options.delete_untagged || young || (orphan && self.settings.orphan_policy == OrphanPolicy::Keep) {
                    stack.push(digest.clone());
                }
            }
            let mut live: HashSet<Digest> = HashSet::new();
            let mut needed: HashSet<Digest> = HashSet::new();
            while let Some(digest) = stack.pop() {
                let Some(record) = records.get(&digest) else { continue };
                if !live.insert(digest.clone()) {
                    continue;
                }
                if let Some(bytes) = self.storage.blob_read(&digest, self.settings.max_manifest_bytes).await? {
                    if let Ok(facts) = content::manifest_facts(Some(&record.media_type), &bytes, digest.algorithm()) {
                        needed.extend(facts.blobs);
                        stack.extend(facts.children);
                    }
                }
                stack.extend(self.referrers.referrer_digests(&repo, &digest));
            }
            for digest in records.keys().filter(|d| !live.contains(*d)) {
                report.manifests.push(format!("{repo}@{digest}"));
                if !options.dry_run {
                    self.delete_revision(&repo, digest).await?;
                }
            }
            keep.extend(live);
            for alg in [Algorithm::Sha256, Algorithm::Sha512] {
                for hex in self.storage.meta_list(&format!("repositories/{repo}/_blobs/{}", alg.name())).await? {
                    let Ok(digest) = Digest::parse(&format!("{}:{hex}", alg.name())) else { continue };
                    let key = super::blob_link_key(&repo, &digest);
                    let created = match self.storage.meta_get(&key).await? {
                        Some(raw) => String::from_utf8_lossy(&raw).trim().parse::<u64>().unwrap_or(0),
                        None => continue,
                    };
                    if needed.contains(&digest) || now.saturating_sub(created) < grace {
                        keep.insert(digest);
                    } else {
                        report.links += 1;
                        if !options.dry_run {
                            self.storage.meta_delete(&key).await?;
                        }
                    }
                }
            }
        }
        for digest in self.storage.blob_list().await? {
            if keep.contains(&digest) {
                continue;
            }
            report.blobs += 1;
            report.bytes = report.bytes.saturating_add(self.storage.blob_size(&digest).await?.unwrap_or(0));
            if !options.dry_run {
                self.storage.blob_delete(&digest).await?;
            }
        }
        Ok(report)
    }

    async fn records(&self, repo: &str) -> Result<HashMap<Digest, ManifestRecord>, RegistryError> {
        let mut out = HashMap::new();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            for hex in self.storage.meta_list(&format!("repositories/{repo}/_manifests/{}", alg.name())).await? {
                let Ok(digest) = Digest::parse(&format!("{}:{hex}", alg.name())) else { continue };
                if let Some(record) = self.record(repo, &digest).await? {
                    out.insert(digest, record);
                }
            }
        }
        Ok(out)
    }
}
