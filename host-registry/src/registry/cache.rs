//! A bounded read cache for tag resolution and manifest bytes, the hottest reads of a registry.
//!
//! Correctness under concurrent writes uses a generation number: a reader notes the generation before reading
//! storage and may only insert what it read if no write happened since; every manifest or tag write bumps the
//! generation and empties the cache after its storage write. So the cache never serves something storage no longer
//! says.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::content::Digest;

/// Most manifest bytes kept.
const MAX_BYTES: usize = 64 * 1024 * 1024;
/// Most tags kept.
const MAX_TAGS: usize = 100_000;

/// A cached manifest.
#[derive(Debug)]
pub(super) struct Cached {
    pub(super) media_type: String,
    pub(super) bytes: Bytes,
}

#[derive(Default)]
struct Inner {
    generation: u64,
    tags: HashMap<(String, String), Digest>,
    manifests: HashMap<(String, Digest), Arc<Cached>>,
    order: VecDeque<(String, Digest)>,
    bytes: usize,
}

/// The cache.
#[derive(Default)]
pub(super) struct ReadCache {
    inner: Mutex<Inner>,
}

impl ReadCache {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The generation a reader must present when inserting.
    pub(super) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Forgets everything; called after every manifest or tag write.
    pub(super) fn invalidate(&self) {
        let mut inner = self.lock();
        inner.generation = inner.generation.wrapping_add(1);
        inner.tags.clear();
        inner.manifests.clear();
        inner.order.clear();
        inner.bytes = 0;
    }

    pub(super) fn tag(&self, repo: &str, tag: &str) -> Option<Digest> {
        self.lock().tags.get(&(repo.to_owned(), tag.to_owned())).cloned()
    }

    pub(super) fn put_tag(&self, generation: u64, repo: &str, tag: &str, digest: Digest) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.tags.len() >= MAX_TAGS {
            inner.tags.clear();
        }
        inner.tags.insert((repo.to_owned(), tag.to_owned()), digest);
    }

    pub(super) fn manifest(&self, repo: &str, digest: &Digest) -> Option<Arc<Cached>> {
        self.lock().manifests.get(&(repo.to_owned(), digest.clone())).cloned()
    }

    pub(super) fn put_manifest(&self, generation: u64, repo: &str, digest: &Digest, cached: Cached) {
        let size = cached.bytes.len();
        if size > MAX_BYTES / 8 {
            return;
        }
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let key = (repo.to_owned(), digest.clone());
        if inner.manifests.contains_key(&key) {
            return;
        }
        while inner.bytes + size > MAX_BYTES {
            let Some(old) = inner.order.pop_front() else { break };
            if let Some(c) = inner.manifests.remove(&old) {
                inner.bytes -= c.bytes.len();
            }
        }
        inner.bytes += size;
        inner.order.push_back(key.clone());
        inner.manifests.insert(key, Arc::new(cached));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Algorithm;

    #[test]
    fn stale_inserts_are_dropped() {
        let c = ReadCache::default();
        let d = Digest::compute(Algorithm::Sha256, b"x");
        let g = c.generation();
        c.invalidate();
        c.put_tag(g, "r", "t", d.clone());
        assert_eq!(c.tag("r", "t"), None);
        let g = c.generation();
        c.put_tag(g, "r", "t", d.clone());
        assert_eq!(c.tag("r", "t"), Some(d.clone()));
        c.put_manifest(g, "r", &d, Cached { media_type: "m".into(), bytes: Bytes::from_static(b"{}") });
        assert!(c.manifest("r", &d).is_some());
        c.invalidate();
        assert!(c.manifest("r", &d).is_none());
    }
}
