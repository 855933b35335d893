//! Prometheus text metrics: requests by route and status, bytes in and out, storage size, referrer count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// Counters kept while serving.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

impl Metrics {
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
