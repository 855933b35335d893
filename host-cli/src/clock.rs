//! The host's clock. The core never reads one: every "now" it uses is handed in from here (or from a test).

use nv2_core::time::Timestamp;

/// The current time, truncated to whole seconds as notation does.
pub fn now() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp::from_unix(seconds)
}
