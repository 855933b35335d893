//! Multi-platform images: `nv2 build --platform` makes a two-platform index, `nv2 sign --recursive` signs the
//! index and each platform manifest, and verifying a platform digest (what a node pulling one platform checks)
//! finds that platform's own signature. Without --recursive a platform digest has no signature and is refused.

mod common;

use std::process::{Command, Output};

const NV2: &str = env!("CARGO_BIN_EXE_nv2");

fn nv2(config: &std::path::Path, args: &[&str]) -> Output {
    Command::new(NV2).arg("--config").arg(config).arg("--output").arg("json").args(args).output().unwrap()
}

fn ok(config: &std::path::Path, args: &[&str]) -> serde_json::Value {
    let out = nv2(config, args);
    assert!(out.status.success(), "nv2 {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn recursive_signing_covers_every_platform_of_an_index() {
    let registry = common::TestRegistry::start("");
    let work = tempfile::tempdir().unwrap();
    let config = work.path().join("config");
    let image_dir = work.path().join("image");
    std::fs::create_dir_all(image_dir.join("bin")).unwrap();
    std::fs::write(image_dir.join("bin/app"), "#!/bin/sh\necho app\n").unwrap();
    let repo = format!("{}/multi", registry.host_port);
    ok(&config, &["cert", "generate-test", "builder", "--default"]);
    ok(
        &config,
        &["policy", "init", "--name", "p", "--scope", &repo, "--trust-store", "ca:builder", "--trusted-identity", "*"],
    );

    let built =
        ok(&config, &["build", image_dir.to_str().unwrap(), "--platform", "linux/amd64,linux/arm64", "-t", &repo]);
    assert_eq!(built["descriptor"]["mediaType"], "application/vnd.oci.image.index.v1+json", "{built}");
    let index = built["descriptor"]["digest"].as_str().unwrap().to_string();
    let fetched = ok(&config, &["manifest", "fetch", &format!("{repo}@{index}")]);
    let platforms: Vec<(String, String)> = fetched["manifest"]["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["platform"]["architecture"].as_str().unwrap().to_string(), m["digest"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(platforms.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(), ["amd64", "arm64"]);

    // Signing only the index leaves the platform manifests unsigned.
    ok(&config, &["sign", &format!("{repo}@{index}")]);
    let unsigned = nv2(&config, &["verify", &format!("{repo}@{}", platforms[0].1)]);
    assert_eq!(unsigned.status.code(), Some(1), "a platform digest without its own signature is refused");

    let signed = ok(&config, &["sign", "--recursive", &format!("{repo}@{index}")]);
    let targets: Vec<&str> =
        signed["signatures"].as_array().unwrap().iter().map(|s| s["target"]["digest"].as_str().unwrap()).collect();
    assert_eq!(
        targets,
        [platforms[0].1.as_str(), platforms[1].1.as_str(), index.as_str()],
        "children first, index last"
    );
    for (arch, digest) in &platforms {
        let verified = ok(&config, &["verify", &format!("{repo}@{digest}")]);
        assert_eq!(verified["accepted"], true, "{arch}");
        let listed = ok(&config, &["list", &format!("{repo}@{digest}")]);
        assert_eq!(listed["signatures"].as_array().unwrap().len(), 1, "{arch} has exactly its own signature");
    }
    ok(&config, &["verify", &format!("{repo}@{index}")]);
}
