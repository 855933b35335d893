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

#[test]
fn oci_conformance_suite_passes_completely() {
    let Some(bin) = suite() else {
        let msg = "OCI conformance suite not installed: run .ci/install-peers.sh";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("skipping: {msg}");
        return;
    };
    let server = support::Server::start(&[]);
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
        .env("OCI_API_BLOBS_MOUNT_ANONYMOUS", "true")
        .output()
        .expect("run conformance suite");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let count = |label: &str| -> Option<u64> {
        let summary = stdout.split("OCI Conformance Result").nth(1)?;
        let line = summary.lines().find(|l| l.trim_start().starts_with(label))?;
        line.rsplit(':').next()?.trim().parse().ok()
    };
    let (pass, fail, error, skip) = (count("Pass"), count("FAIL"), count("Error"), count("Skip"));
    println!("conformance: pass={pass:?} fail={fail:?} error={error:?} skip={skip:?}");
    let failures: Vec<&str> = stdout.lines().filter(|l| l.trim_end().ends_with(": FAIL")).take(40).collect();
    assert!(output.status.success(), "conformance exited with {}; failing: {failures:#?}", output.status);
    assert_eq!(fail, Some(0), "failing: {failures:#?}");
    assert_eq!(error, Some(0));
    assert_eq!(skip, Some(0), "skipped checks count as not passing");
    assert!(pass.is_some_and(|p| p > 900), "suspiciously few checks ran: {pass:?}");
}
