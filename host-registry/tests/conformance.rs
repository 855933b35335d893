//! Runs the OCI distribution-spec conformance suite (built by `.ci/install-peers.sh`) against the real binary with
//! every workflow enabled (pull, push incl. chunked/streamed/mount/anonymous mount/cancel, discovery incl. referrers,
//! management incl. deletes, `?tag=` pushes, digest headers, sha512) and requires 100 %.
//!
//! The suite binary is looked up at `$NV2_CONFORMANCE_BIN`, else `$NV2_PEERS_DIR/bin/conformance`, else
//! `$HOME/.cache/nv2/peers/bin/conformance`. Missing: fail when `CI=true`, skip with a message otherwise.

mod support;

use std::path::PathBuf;
use std::process::Command;

fn suite() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("NV2_CONFORMANCE_BIN").map(PathBuf::from),
        std::env::var_os("NV2_PEERS_DIR").map(|d| PathBuf::from(d).join("bin/conformance")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nv2/peers/bin/conformance")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

/// Counts from the suite's closing summary.
#[derive(Debug)]
struct Outcome {
    pass: Option<u64>,
    fail: Option<u64>,
    error: Option<u64>,
    skip: Option<u64>,
    failures: Vec<String>,
    success: bool,
}

/// Runs the suite against a fresh server started with `flags`; `None` when the suite is missing outside CI.
fn run_suite(flags: &[&str], env: &[(&str, &str)]) -> Option<Outcome> {
    let Some(bin) = suite() else {
        let msg = "OCI conformance suite not installed: run .ci/install-peers.sh";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("skipping: {msg}");
        return None;
    };
    let server = support::Server::start(flags);
    let results = tempfile::tempdir().expect("results dir");
    let output = Command::new(&bin)
        .current_dir(results.path())
        .env("OCI_REGISTRY", &server.addr)
        .env("OCI_TLS", "disabled")
        .env("OCI_REPO1", "conformance/repo1")
        .env("OCI_REPO2", "conformance/repo2")
        .env("OCI_RESULTS_DIR", results.path())
        .env("OCI_API_BLOBS_UPLOAD_CANCEL", "true")
        .env("OCI_API_MANIFESTS_TAG_PARAM", "true")
        .env("OCI_API_BLOBS_DIGEST_HEADER", "true")
        .env("OCI_API_MANIFESTS_DIGEST_HEADER", "true")
        .envs(env.iter().copied())
        .output()
        .expect("run conformance suite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let count = |label: &str| -> Option<u64> {
        let summary = stdout.split("OCI Conformance Result").nth(1)?;
        let line = summary.lines().find(|l| l.trim_start().starts_with(label))?;
        line.rsplit(':').next()?.trim().parse().ok()
    };
    let failures = stdout.lines().filter(|l| l.trim_end().ends_with(": FAIL")).take(40).map(str::to_owned).collect();
    let outcome = Outcome {
        pass: count("Pass"),
        fail: count("FAIL"),
        error: count("Error"),
        skip: count("Skip"),
        failures,
        success: output.status.success(),
    };
    println!("conformance {flags:?}: {outcome:?}");
    Some(outcome)
}

#[test]
fn oci_conformance_suite_passes_completely() {
    let Some(o) = run_suite(&[], &[("OCI_API_BLOBS_MOUNT_ANONYMOUS", "true")]) else { return };
    assert!(o.success, "conformance failed: {:#?}", o.failures);
    assert_eq!(o.fail, Some(0), "failing: {:#?}", o.failures);
    assert_eq!(o.error, Some(0));
    assert_eq!(o.skip, Some(0), "skipped checks count as not passing");
    assert!(o.pass.is_some_and(|p| p > 900), "suspiciously few checks ran: {:?}", o.pass);
}

/// The private deployment: every request authenticated through the built-in token service.
#[test]
fn oci_conformance_suite_passes_with_token_auth() {
    let dir = tempfile::tempdir().expect("temp dir");
    let htpasswd = dir.path().join("htpasswd");
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    std::fs::write(&htpasswd, format!("alice:{hash}\n")).expect("write htpasswd");
    let path = htpasswd.to_str().expect("utf-8 path");
    let flags = ["--access", "private", "--auth-scheme", "token", "--htpasswd", path];
    let Some(o) = run_suite(&flags, &[("OCI_USERNAME", "alice"), ("OCI_PASSWORD", "s3cret")]) else { return };
    assert!(o.success, "conformance failed: {:#?}", o.failures);
    assert_eq!(o.fail, Some(0), "failing: {:#?}", o.failures);
    assert_eq!(o.error, Some(0));
    // Only the anonymous-mount checks may be skipped: with access control, mounting without `from` would search
    // repositories the caller cannot read, so it answers 202.
    assert!(o.skip.is_some_and(|s| s <= 4), "skipped: {:?}", o.skip);
    assert!(o.pass.is_some_and(|p| p > 900), "suspiciously few checks ran: {:?}", o.pass);
}
