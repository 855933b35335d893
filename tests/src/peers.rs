//! Peer tools the end-to-end tests run (opa, gator, ...): where they are installed, and the house rule for a missing
//! one: fail when `CI=true` (CI must have installed it), otherwise skip the test with a printed reason.
//!
//! Search order: `$NV2_PEERS_DIR/bin` and `$HOME/.cache/nv2/peers/bin` (where `.ci/install-peers.sh` installs),
//! `/tmp/gatorprobe/bin` (the lead's first opa/gator install), then every directory of `PATH`.

use std::env;
use std::path::PathBuf;

/// The directories searched for a peer tool, in order.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(peers) = env::var_os("NV2_PEERS_DIR").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(peers).join("bin"));
    }
    if let Some(home) = env::var_os("HOME").filter(|v| !v.is_empty()) {
        dirs.push(PathBuf::from(home).join(".cache/nv2/peers/bin"));
    }
    dirs.push(PathBuf::from("/tmp/gatorprobe/bin"));
    if let Some(path) = env::var_os("PATH") {
        dirs.extend(env::split_paths(&path));
    }
    dirs
}

/// The first executable file called `name` in [`search_dirs`].
pub fn find(name: &str) -> Option<PathBuf> {
    search_dirs().into_iter().map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

/// Whether this run is CI's (`CI=true`), where a missing peer is a failure, not a skip.
pub fn in_ci() -> bool {
    env::var("CI").is_ok_and(|v| v == "true")
}

/// The peer tool `name`, or `None` after printing why the calling test skips. Panics when `CI=true`, so CI cannot
/// pass without running the test.
pub fn require(name: &str) -> Option<PathBuf> {
    if let Some(found) = find(name) {
        return Some(found);
    }
    let reason = format!(
        "{name} is not installed (looked in {}): .ci/install-peers.sh installs it",
        search_dirs().iter().take(3).map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ") + " and PATH"
    );
    if in_ci() {
        panic!("{reason}");
    }
    eprintln!("skipping: {reason}");
    None
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}
