//! The docker CLI plugin face, invoked exactly as the docker CLI invokes plugins (no engine needed): the binary is
//! linked as `docker-nv2` in a plugin directory by `nv2 docker install-plugin`, asked for its metadata with
//! `docker-nv2 docker-cli-plugin-metadata`, and run as `docker-nv2 nv2 <command> ...`. A fake `docker` on PATH
//! records what is handed through to it.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NV2: &str = env!("CARGO_BIN_EXE_nv2");

struct Plugin {
    dir: tempfile::TempDir,
    binary: PathBuf,
}

fn install() -> Plugin {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("cli-plugins");
    let out = Command::new(NV2).args(["docker", "install-plugin", "--dir"]).arg(&plugins).output().unwrap();
    assert!(out.status.success(), "install-plugin: {}", String::from_utf8_lossy(&out.stderr));
    let binary = plugins.join("docker-nv2");
    assert!(binary.exists(), "the plugin link exists");
    // A fake docker that records its arguments.
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.path().join("docker-args.log");
    let script = format!("#!/bin/sh\necho \"$@\" >> {}\nexit 0\n", log.display());
    std::fs::write(bin.join("docker"), script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(bin.join("docker"), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    Plugin { dir, binary }
}

impl Plugin {
    fn run(&self, config: &Path, args: &[&str]) -> Output {
        let path = format!("{}:{}", self.dir.path().join("bin").display(), std::env::var("PATH").unwrap_or_default());
        Command::new(&self.binary)
            .args(args)
            .env("PATH", path)
            .env("NV2_CONFIG", config)
            .env("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND", "docker")
            .output()
            .unwrap()
    }

    fn docker_calls(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("docker-args.log")).unwrap_or_default()
    }
}

fn nv2(config: &Path, args: &[&str]) -> Output {
    let out = Command::new(NV2).arg("--config").arg(config).args(args).output().unwrap();
    assert!(out.status.success(), "nv2 {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn metadata_answers_the_docker_plugin_protocol() {
    let plugin = install();
    let out = plugin.run(plugin.dir.path(), &["docker-cli-plugin-metadata"]);
    assert!(out.status.success());
    let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    assert_eq!(metadata["SchemaVersion"], "0.1.0");
    for field in ["Vendor", "Version", "ShortDescription", "URL"] {
        assert!(metadata[field].as_str().is_some_and(|v| !v.is_empty()), "{field} in {metadata}");
    }
}

#[test]
fn plugin_commands_sign_verify_and_pull_by_the_verified_digest() {
    let registry = common::TestRegistry::start("");
    let plugin = install();
    let config = plugin.dir.path().join("config");
    let config = config.as_path();
    let repo = format!("{}/net-monitor", registry.host_port);
    nv2(config, &["cert", "generate-test", "wabbit", "--default"]);
    nv2(
        config,
        &["policy", "init", "--name", "p", "--scope", &repo, "--trust-store", "ca:wabbit", "--trusted-identity", "*"],
    );
    let file = plugin.dir.path().join("artifact.txt");
    std::fs::write(&file, "payload").unwrap();

    // docker nv2 push / sign / verify, as the docker CLI runs them.
    let pushed =
        plugin.run(config, &["nv2", "--output", "json", "push", &format!("{repo}:v1"), file.to_str().unwrap()]);
    assert!(pushed.status.success(), "{}", String::from_utf8_lossy(&pushed.stderr));
    let digest = serde_json::from_slice::<serde_json::Value>(&pushed.stdout).unwrap()["descriptor"]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let signed = plugin.run(config, &["nv2", "sign", &format!("{repo}@{digest}")]);
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let verified = plugin.run(config, &["nv2", "verify", &format!("{repo}:v1")]);
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stderr));
    assert!(String::from_utf8_lossy(&verified.stdout).contains("Successfully verified"));

    // docker nv2 pull verifies, then hands docker exactly the verified digest.
    let pulled = plugin.run(config, &["nv2", "pull", &format!("{repo}:v1")]);
    assert!(pulled.status.success(), "{}", String::from_utf8_lossy(&pulled.stderr));
    assert_eq!(plugin.docker_calls().trim(), format!("pull {repo}@{digest}"));

    // An unsigned artifact is refused and docker is never called.
    std::fs::write(&file, "other payload").unwrap();
    let unsigned = plugin.run(config, &["nv2", "push", &format!("{repo}:v2"), file.to_str().unwrap()]);
    assert!(unsigned.status.success());
    let refused = plugin.run(config, &["nv2", "pull", &format!("{repo}:v2")]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("no signature"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(plugin.docker_calls().lines().count(), 1, "docker was not called for the refused image");
}

#[test]
fn unknown_plugin_commands_pass_through_to_docker() {
    let plugin = install();
    let out = plugin.run(plugin.dir.path(), &["nv2", "ps", "-a"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(plugin.docker_calls().trim(), "ps -a");
}
