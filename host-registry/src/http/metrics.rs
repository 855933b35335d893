//! Prometheus text metrics: requests by route and status, bytes in and out, storage size, referrer count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a measured storage size is reused (measuring walks every blob).
const STORAGE_SIZE_TTL: Duration = Duration::from_secs(60);

/// Counters kept while serving.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    storage_size: Mutex<Option<(Instant, u64)>>,
}

impl Metrics {
    /// A recent storage size, if one was measured within the last minute.
    pub fn cached_storage_size(&self) -> Option<u64> {
        let slot = self.storage_size.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.filter(|(at, _)| at.elapsed() < STORAGE_SIZE_TTL).map(|(_, n)| n)
    }

    /// Remembers a measured storage size.
    pub fn set_storage_size(&self, bytes: u64) {
        *self.storage_size.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some((Instant::now(), bytes));
    }

    /// Counts one answered request.
    pub fn request(&self, route: &'static str, status: u16) {
        let mut map = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *map.entry((route, status)).or_default() += 1;
    }

    /// Counts received body bytes.
    pub fn add_in(&self, n: u64) {
        self.bytes_in.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts sent body bytes.
    pub fn add_out(&self, n: u64) {
        self.bytes_out.fetch_add(n, Ordering::Relaxed);
    }

    /// Renders the exposition text.
    pub fn render(&self, storage_bytes: u64, referrers: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP nv2_registry_requests_total Requests answered, by route and status.\n");
        out.push_str("# TYPE nv2_registry_requests_total counter\n");
        let map = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((route, status), n) in map.iter() {
            let _ = writeln!(out, "nv2_registry_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}");
        }
        drop(map);
        let _ = writeln!(
            out,
            "# HELP nv2_registry_bytes_received_total Request body bytes received.\n# TYPE nv2_registry_bytes_received_total counter\nnv2_registry_bytes_received_total {}",
            self.bytes_in.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP nv2_registry_bytes_sent_total Response body bytes sent.\n# TYPE nv2_registry_bytes_sent_total counter\nnv2_registry_bytes_sent_total {}",
            self.bytes_out.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP nv2_registry_storage_bytes Bytes held in the blob store.\n# TYPE nv2_registry_storage_bytes gauge\nnv2_registry_storage_bytes {storage_bytes}"
        );
        let _ = writeln!(
            out,
            "# HELP nv2_registry_referrers Referrer entries in the index.\n# TYPE nv2_registry_referrers gauge\nnv2_registry_referrers {referrers}"
        );
        out
    }
}
