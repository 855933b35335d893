//! Issue 5's prototype environment as three separate `nv2-registry` processes: public (anonymous pull,
//! authenticated push), private (authenticated pull and push with bearer tokens and per-user grants) and
//! air-gapped (read-only; content arrives by import into its storage while it is stopped). The whole flow runs
//! through the `nv2` binary against them, and every refusal (wrong password, missing scope, push to the read-only
//! registry) fails with the right error and changes nothing.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::TestRegistry;

const NV2: &str = env!("CARGO_BIN_EXE_nv2");

struct Persona {
    dir: tempfile::TempDir,
}

impl Persona {
    fn new() -> Self {
        Persona { dir: tempfile::tempdir().unwrap() }
    }

    fn cmd(&self, args: &[&str]) -> Output {
        Command::new(NV2)
            .arg("--config")
            .arg(self.dir.path().join("config"))
            .arg("--registry-config")
            .arg(self.dir.path().join("docker-config.json"))
            .args(args)
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--output", "json"];
        full.extend_from_slice(args);
        let out = self.cmd(&full);
        assert!(
            out.status.success(),
            "nv2 {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    fn fails(&self, args: &[&str], expected: &str) {
        let out = self.cmd(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "nv2 {args:?} must fail: {stderr}");
        assert!(stderr.contains(expected), "nv2 {args:?}: expected {expected:?} in {stderr:?}");
        assert_eq!(stderr.lines().filter(|l| l.starts_with("nv2:")).count(), 1, "one error line: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Files and tags of a registry's repository as the registry itself lists them.
fn tags(persona: &Persona, repository: &str) -> Vec<String> {
    let listed = persona.ok(&["repo", "tags", repository]);
    listed["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_prototype_flow_across_public_private_and_air_gapped_registries() {
    let public = TestRegistry::start_with_users("access = \"public\"", &[("wabbit", "wabbit-pass")]);
    let private = TestRegistry::start_with_users(
        "access = \"private\"\nauth_scheme = \"token\"\n[[grants]]\nuser = \"acme\"\nrepositories = [\"net-monitor\"]\nactions = [\"pull\", \"push\"]\n[[grants]]\nuser = \"viewer\"\nrepositories = [\"*\"]\nactions = [\"pull\"]",
        &[("acme", "acme-pass"), ("viewer", "viewer-pass")],
    );
    let wabbit = Persona::new();
    let acme = Persona::new();
    let public_repo = format!("{}/net-monitor", public.host_port);
    let private_repo = format!("{}/net-monitor", private.host_port);

    // Wabbit Networks publishes: push by digest, sign, attach and sign an SBoM, tag last.
    wabbit.ok(&["cert", "generate-test", "wabbit", "--default"]);
    wabbit.fails(&["login", &public.host_port, "-u", "wabbit", "-p", "wrong"], &public.host_port);
    wabbit.ok(&["login", &public.host_port, "-u", "wabbit", "-p", "wabbit-pass"]);
    let file = wabbit.dir.path().join("net-monitor.txt");
    write(&file, "net-monitor v1");
    let image = wabbit.ok(&["push", &public_repo, file.to_str().unwrap()])["descriptor"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let image_ref = format!("{public_repo}@{image}");
    wabbit.ok(&["sign", &image_ref]);
    let sbom = wabbit.dir.path().join("sbom.spdx.json");
    write(&sbom, r#"{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"net-monitor","packages":[]}"#);
    let attached =
        wabbit.ok(&["attach", "--artifact-type", "application/spdx+json", &image_ref, sbom.to_str().unwrap()]);
    let sbom_digest = attached["descriptor"]["digest"].as_str().unwrap().to_string();
    wabbit.ok(&["sign", &format!("{public_repo}@{sbom_digest}")]);
    assert!(!tags(&wabbit, &public_repo).contains(&"v1".to_string()), "no tag before signing is done");
    wabbit.ok(&["tag", &image_ref, "v1"]);

    // Anonymous pull works on the public registry; anonymous push does not, and stores nothing.
    let anonymous = Persona::new();
    let tree = anonymous.ok(&["discover", &format!("{public_repo}:v1")]);
    assert_eq!(tree["referrers"].as_array().unwrap().len(), 2, "signature and SBoM: {tree}");
    anonymous.fails(&["tag", &image_ref, "hijacked"], "401");
    assert!(!tags(&anonymous, &public_repo).contains(&"hijacked".to_string()));

    // ACME Rockets trusts Wabbit, verifies, copies everything into its private registry, adds its signature.
    let wabbit_root = wabbit.dir.path().join("config/truststore/x509/ca/wabbit/wabbit.crt");
    acme.ok(&["cert", "add", "--type", "ca", "--store", "wabbit", wabbit_root.to_str().unwrap()]);
    acme.ok(&["cert", "generate-test", "acme", "--default"]);
    acme.ok(&[
        "policy",
        "init",
        "--name",
        "all",
        "--scope",
        "*",
        "--trust-store",
        "ca:wabbit",
        "--trust-store",
        "ca:acme",
        "--trusted-identity",
        "*",
    ]);
    acme.ok(&["verify", &format!("{public_repo}:v1")]);
    acme.fails(&["copy", "-r", &format!("{public_repo}:v1"), &format!("{private_repo}:v1")], &private.host_port);
    acme.fails(&["login", &private.host_port, "-u", "acme", "-p", "wrong"], &private.host_port);
    acme.ok(&["login", &private.host_port, "-u", "acme", "-p", "acme-pass"]);
    let copied = acme.ok(&["copy", "-r", &format!("{public_repo}:v1"), &format!("{private_repo}:v1")]);
    assert_eq!(copied["referrers"].as_array().unwrap().len(), 3, "signature, SBoM and the SBoM's signature: {copied}");
    acme.ok(&["sign", &format!("{private_repo}@{image}")]);
    acme.ok(&["verify", &format!("{private_repo}@{sbom_digest}")]);
    // A grant for another repository is a missing scope: refused, nothing stored.
    acme.fails(&["copy", "-r", &format!("{public_repo}:v1"), &format!("{}/other:v1", private.host_port)], "other");
    let viewer = Persona::new();
    viewer.ok(&["login", &private.host_port, "-u", "viewer", "-p", "viewer-pass"]);
    viewer.ok(&["resolve", &format!("{private_repo}:v1")]);
    viewer.fails(&["tag", &format!("{private_repo}@{image}"), "viewer-tag"], &private.host_port);
    assert!(!tags(&viewer, &private_repo).contains(&"viewer-tag".to_string()), "a refused push changes nothing");

    // Air gap: export, import into the stopped read-only registry's storage, serve, verify with the others down.
    let tarball = acme.dir.path().join("net-monitor.tar");
    acme.ok(&["export", &format!("{private_repo}:v1"), tarball.to_str().unwrap()]);
    drop(public);
    drop(private);
    let airgap_data = tempfile::tempdir().unwrap();
    acme.ok(&[
        "import",
        tarball.to_str().unwrap(),
        "net-monitor:v1",
        "--registry-data",
        airgap_data.path().join("data").to_str().unwrap(),
    ]);
    let airgap = TestRegistry::start_on_data("access = \"read-only\"", &airgap_data.path().join("data"));
    let airgap_repo = format!("{}/net-monitor", airgap.host_port);
    let verified = acme.ok(&["verify", &format!("{airgap_repo}:v1")]);
    assert_eq!(verified["accepted"], true);
    // Only Wabbit trusted: the publisher's own signature made the trip.
    acme.ok(&[
        "policy",
        "init",
        "--force",
        "--name",
        "wabbit-only",
        "--scope",
        "*",
        "--trust-store",
        "ca:wabbit",
        "--trusted-identity",
        "*",
    ]);
    acme.ok(&["verify", &format!("{airgap_repo}@{image}")]);
    acme.ok(&["verify", &format!("{airgap_repo}@{sbom_digest}")]);
    // The read-only registry refuses pushes, and nothing changes.
    write(&file, "tampered");
    acme.fails(&["push", &format!("{airgap_repo}:v1"), file.to_str().unwrap()], "read-only");
    assert_eq!(acme.ok(&["resolve", &format!("{airgap_repo}:v1")])["descriptor"]["digest"], image.as_str());
}
