//! Signature interop with the real Notation CLI (v1.3.2, installed by `.ci/install-peers.sh`): an image pushed with
//! oras is signed (JWS and COSE) and verified through nv2-registry's referrers API — no fallback tag is written.
//!
//! The tools are looked up under `$NV2_PEERS_DIR/bin`, else `$HOME/.cache/nv2/peers/bin`. Missing: fail when
//! `CI=true`, skip with a message otherwise.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn peer(name: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("NV2_PEERS_DIR").map(|d| PathBuf::from(d).join("bin").join(name)),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nv2/peers/bin").join(name)),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        let msg = format!("{name} not installed: run .ci/install-peers.sh");
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("skipping: {msg}");
    }
    found
}

fn run(bin: &Path, home: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("NOTATION_CONFIG", home.join("config/notation"))
        .args(args)
        .output()
        .expect("run peer");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{} {args:?} failed: {text}", bin.display());
    text
}

#[test]
fn notation_signs_and_verifies_through_the_referrers_api() {
    let (Some(notation), Some(oras)) = (peer("notation"), peer("oras")) else { return };
    let server = support::Server::start(&[]);
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::write(h.join("a.txt"), "image content").unwrap();
    // notation treats localhost:* as plain HTTP only with --insecure-registry; use the localhost name.
    let port = server.addr.rsplit(':').next().unwrap();
    let repo = format!("localhost:{port}/net/app");
    let pushed = run(&oras, h, &["push", "--plain-http", &format!("{repo}:v1"), "a.txt"]);
    let digest = pushed.lines().find_map(|l| l.strip_prefix("Digest: ")).expect("digest").trim().to_owned();
    let image = format!("{repo}@{digest}");

    run(&notation, h, &["cert", "generate-test", "--default", "wabbit"]);
    // notation 1.x defaults to the tag schema; ask for the referrers API explicitly.
    run(&notation, h, &["sign", "--insecure-registry", "--force-referrers-tag=false", &image]);
    let cose = ["sign", "--insecure-registry", "--force-referrers-tag=false", "--signature-format", "cose", &image];
    run(&notation, h, &cose);
    let listed = run(&notation, h, &["ls", "--insecure-registry", &image]);
    assert_eq!(listed.matches("sha256:").count(), 3, "image plus two signatures: {listed}");

    let policy = r#"{"version":"1.0","trustPolicies":[{"name":"all","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:wabbit"],"trustedIdentities":["*"]}]}"#;
    std::fs::write(h.join("config/notation/trustpolicy.json"), policy).unwrap();
    let verified = run(&notation, h, &["verify", "--insecure-registry", &image]);
    assert!(verified.contains("Successfully verified"), "{verified}");

    // The referrers API was used: no `sha256-…` fallback tag exists.
    let tags = run(&oras, h, &["repo", "tags", "--plain-http", &repo]);
    assert_eq!(tags.trim(), "v1", "{tags}");
}
