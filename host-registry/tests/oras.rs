//! Client interop with the real ORAS CLI (v1.3.3, installed by `.ci/install-peers.sh`): push, attach, discover
//! (JSON), recursive copy between repositories, and login through the token service.
//!
//! oras is looked up at `$NV2_PEERS_DIR/bin/oras`, else `$HOME/.cache/nv2/peers/bin/oras`. Missing: fail when
//! `CI=true`, skip with a message otherwise.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn oras() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("NV2_PEERS_DIR").map(|d| PathBuf::from(d).join("bin/oras")),
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nv2/peers/bin/oras")),
    ];
    let found = candidates.into_iter().flatten().find(|p| p.is_file());
    if found.is_none() {
        let msg = "oras not installed: run .ci/install-peers.sh";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg}");
        }
        eprintln!("skipping: {msg}");
    }
    found
}

fn run(bin: &Path, dir: &Path, args: &[&str]) -> String {
    let out = Command::new(bin)
        .current_dir(dir)
        .env("HOME", dir)
        .env("DOCKER_CONFIG", dir.join("docker"))
        .args(args)
        .output()
        .expect("run oras");
    assert!(
        out.status.success(),
        "oras {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn referrers_of(bin: &Path, dir: &Path, reference: &str) -> Value {
    let json = run(bin, dir, &["discover", "--plain-http", "--format", "json", reference]);
    serde_json::from_str(&json).expect("discover json")
}

#[test]
fn oras_push_attach_discover_and_recursive_copy() {
    let Some(bin) = oras() else { return };
    let server = support::Server::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.txt"), "hello").unwrap();
    std::fs::write(d.join("sig.txt"), "signature").unwrap();
    let image = format!("{}/demo/app:v1", server.addr);
    run(&bin, d, &["push", "--plain-http", &image, "a.txt"]);
    run(&bin, d, &["attach", "--plain-http", "--artifact-type", "application/vnd.example.sig", &image, "sig.txt"]);
    run(&bin, d, &["attach", "--plain-http", "--artifact-type", "application/vnd.example.sbom", &image, "a.txt"]);

    let tree = referrers_of(&bin, d, &image);
    let referrers = tree["referrers"].as_array().expect("referrers");
    assert_eq!(referrers.len(), 2);
    let sig = referrers.iter().find(|r| r["artifactType"] == "application/vnd.example.sig").expect("sig");
    let sig_ref = format!("{}/demo/app@{}", server.addr, sig["digest"].as_str().unwrap());
    run(&bin, d, &["attach", "--plain-http", "--artifact-type", "application/vnd.example.counter", &sig_ref, "a.txt"]);

    let copy = format!("{}/copy/app:v1", server.addr);
    run(&bin, d, &["cp", "-r", "--from-plain-http", "--to-plain-http", &image, &copy]);
    let copied = referrers_of(&bin, d, &copy);
    let copied = copied["referrers"].as_array().expect("referrers");
    assert_eq!(copied.len(), 2);
    let nested: usize = copied.iter().map(|r| r["referrers"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(nested, 1, "the counter-signature is copied with its subject");
    assert_eq!(run(&bin, d, &["repo", "tags", "--plain-http", &copy]).trim(), "v1");
}

#[test]
fn oras_logs_in_through_the_token_service() {
    let Some(bin) = oras() else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let htpasswd = d.join("htpasswd");
    std::fs::write(&htpasswd, format!("alice:{}\n", bcrypt::hash("s3cret", 4).unwrap())).unwrap();
    let server = support::Server::start(&[
        "--access",
        "public",
        "--auth-scheme",
        "token",
        "--htpasswd",
        htpasswd.to_str().unwrap(),
    ]);
    std::fs::write(d.join("a.txt"), "hello").unwrap();
    let image = format!("{}/pub/app:v1", server.addr);
    let denied = Command::new(&bin)
        .current_dir(d)
        .env("HOME", d)
        .args(["push", "--plain-http", "--registry-config", "cfg.json", &image, "a.txt"])
        .output()
        .unwrap();
    assert!(!denied.status.success(), "anonymous push must be refused");
    run(
        &bin,
        d,
        &["login", "--plain-http", "--registry-config", "cfg.json", "-u", "alice", "-p", "s3cret", &server.addr],
    );
    run(&bin, d, &["push", "--plain-http", "--registry-config", "cfg.json", &image, "a.txt"]);
    // Anonymous pull is allowed in public mode.
    let out = d.join("out");
    run(&bin, d, &["pull", "--plain-http", "-o", out.to_str().unwrap(), &image]);
    assert_eq!(std::fs::read_to_string(out.join("a.txt")).unwrap(), "hello");
}
