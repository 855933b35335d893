//! The referrers index: subject digest → the manifests in the same repository that point at it.
//!
//! It is derived from manifest records only, so it is exactly as durable as they are: a manifest PUT writes one
//! record (temp + fsync + rename) that carries the referrer descriptor, and the in-memory index is updated under the
//! same lock. A restart rebuilds the index from the records. Lookups never scan: each subject maps to an ordered
//! map, so a page costs `O(log n + page)` whatever the total.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::RwLock;

use serde_json::Value;

use crate::content::Digest;

/// One referrer as listed for its subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Referrer {
    /// The referrer descriptor served by the OCI referrers API (mediaType, size, digest, artifactType, annotations).
    pub descriptor: Value,
    /// The artifact type used for filtering.
    pub artifact_type: Option<String>,
}

type Subjects = HashMap<Digest, BTreeMap<Digest, Referrer>>;

/// The in-memory referrers index of every repository.
#[derive(Debug, Default)]
pub struct ReferrersIndex {
    repos: RwLock<HashMap<String, Subjects>>,
}

/// One page of referrers.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// The entries, in digest order.
    pub items: Vec<Referrer>,
    /// Cursor for the next page, when more remain.
    pub next: Option<Digest>,
}

impl ReferrersIndex {
    /// Records that `referrer` (in `repo`) points at `subject`.
    pub fn insert(&self, repo: &str, subject: Digest, referrer: Digest, entry: Referrer) {
        let mut repos = self.repos.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        repos.entry(repo.to_owned()).or_default().entry(subject).or_default().insert(referrer, entry);
    }

    /// Forgets `referrer` under `subject`.
    pub fn remove(&self, repo: &str, subject: &Digest, referrer: &Digest) {
        let mut repos = self.repos.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(subjects) = repos.get_mut(repo) {
            if let Some(list) = subjects.get_mut(subject) {
                list.remove(referrer);
                if list.is_empty() {
                    subjects.remove(subject);
                }
            }
        }
    }

    /// Every referrer digest of `subject` (for recursive deletes and GC).
    pub fn referrer_digests(&self, repo: &str, subject: &Digest) -> Vec<Digest> {
        let repos = self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        repos.get(repo).and_then(|s| s.get(subject)).map(|l| l.keys().cloned().collect()).unwrap_or_default()
    }

    /// Subjects that have referrers in `repo` (GC keeps their referrers alive while the subject lives).
    pub fn subjects(&self, repo: &str) -> Vec<Digest> {
        let repos = self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        repos.get(repo).map(|s| s.keys().cloned().collect()).unwrap_or_default()
    }

    /// Total referrer entries (metrics).
    pub fn count(&self) -> usize {
        let repos = self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        repos.values().flat_map(|s| s.values()).map(BTreeMap::len).sum()
    }

    /// Forgets a whole repository.
    pub fn drop_repo(&self, repo: &str) {
        let mut repos = self.repos.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        repos.remove(repo);
    }

    /// A page of at most `limit` referrers of `subject` after `after`, keeping only `artifact_type` when given.
    pub fn page(
        &self,
        repo: &str,
        subject: &Digest,
        artifact_type: Option<&str>,
        after: Option<&Digest>,
        limit: usize,
    ) -> Page {
        let repos = self.repos.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let Some(list) = repos.get(repo).and_then(|s| s.get(subject)) else {
            return Page { items: Vec::new(), next: None };
        };
        let lower = match after {
            Some(d) => Bound::Excluded(d),
            None => Bound::Unbounded,
        };
        let mut items = Vec::new();
        let mut last: Option<&Digest> = None;
        let mut more = false;
        for (digest, entry) in list.range::<Digest, _>((lower, Bound::Unbounded)) {
            if artifact_type.is_some_and(|t| entry.artifact_type.as_deref() != Some(t)) {
                continue;
            }
            if items.len() == limit {
                more = true;
                break;
            }
            items.push(entry.clone());
            last = Some(digest);
        }
        Page { items, next: if more { last.cloned() } else { None } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Algorithm;

    fn d(n: u32) -> Digest {
        Digest::compute(Algorithm::Sha256, &n.to_be_bytes())
    }

    fn entry(t: &str) -> Referrer {
        Referrer { descriptor: Value::String(t.to_owned()), artifact_type: Some(t.to_owned()) }
    }

    #[test]
    fn pages_filter_and_removal() {
        let idx = ReferrersIndex::default();
        let subject = d(0);
        for i in 1..=5 {
            idx.insert("r", subject.clone(), d(i), entry(if i % 2 == 0 { "even" } else { "odd" }));
        }
        let first = idx.page("r", &subject, None, None, 2);
        assert_eq!(first.items.len(), 2);
        let second = idx.page("r", &subject, None, first.next.as_ref(), 2);
        assert_eq!(second.items.len(), 2);
        let third = idx.page("r", &subject, None, second.next.as_ref(), 2);
        assert_eq!(third.items.len(), 1);
        assert_eq!(third.next, None);
        assert_eq!(idx.page("r", &subject, Some("even"), None, 10).items.len(), 2);
        assert_eq!(idx.page("other", &subject, None, None, 10).items.len(), 0);
        idx.remove("r", &subject, &d(1));
        assert_eq!(idx.count(), 4);
        assert_eq!(idx.referrer_digests("r", &subject).len(), 4);
    }
}
