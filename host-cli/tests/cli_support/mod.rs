//! Running the real `nv2` binary (and the real peer tools) as subprocesses for the `cli_*` integration tests.
//!
//! Every [`Nv2`] gets its own temporary configuration directory (`--config`), docker credentials file
//! (`--registry-config`) and HOME, so tests never read or write the user's files and never see each other's keys.
//! The environment variables nv2 and notation read (`NV2_*`, `NOTATION_*`, `DOCKER_CONFIG`) are cleared; stdin is
//! empty and nothing is a terminal, so confirmations refuse and progress bars stay silent.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// What a finished process left behind.
#[derive(Debug)]
pub struct Run {
    /// What ran, for failure messages.
    pub what: String,
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    fn from_output(what: String, output: Output) -> Run {
        let run = Run {
            what,
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        // No command of any tool may panic, whatever it was given.
        assert!(
            !run.stdout.contains("panicked") && !run.stderr.contains("panicked"),
            "{} panicked:\n{}",
            run.what,
            run.describe()
        );
        run
    }

    /// Exit code and both streams, for assertion messages.
    pub fn describe(&self) -> String {
        format!("$ {}\nexit {}\n--- stdout\n{}\n--- stderr\n{}", self.what, self.code, self.stdout, self.stderr)
    }

    /// Asserts exit 0 and returns self.
    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(self.code, 0, "expected success:\n{}", self.describe());
        self
    }

    /// Asserts a failure exit code (neither 0 nor a signal) and returns self.
    #[track_caller]
    pub fn failure(self) -> Run {
        assert!(self.code > 0, "expected a failure exit code:\n{}", self.describe());
        self
    }

    /// Asserts that the command failed with exactly one line on stderr and nothing on stdout; returns that line.
    #[track_caller]
    pub fn one_line_error(&self) -> String {
        assert!(self.code > 0, "expected a failure exit code:\n{}", self.describe());
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "expected exactly one line on stderr:\n{}", self.describe());
        assert!(self.stdout.is_empty(), "expected nothing on stdout:\n{}", self.describe());
        lines[0].to_string()
    }

    /// stdout as one JSON document (fails the test when it is not exactly one).
    #[track_caller]
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{}", self.describe()))
    }

    /// stderr lines that are not `warning: ...`.
    pub fn non_warning_stderr(&self) -> Vec<&str> {
        self.stderr.lines().filter(|l| !l.starts_with("warning: ")).collect()
    }
}

/// The `nv2` binary under test.
pub fn nv2_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_nv2"))
}

/// An isolated nv2 user: a config dir, a docker credentials file and a HOME of its own.
pub struct Nv2 {
    /// Temp root holding `config/`, `home/` and `docker-config.json`.
    pub root: tempfile::TempDir,
}

impl Default for Nv2 {
    fn default() -> Self {
        Self::new()
    }
}

impl Nv2 {
    /// A fresh user with an empty configuration directory.
    pub fn new() -> Nv2 {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(root.path().join("config")).expect("config dir");
        std::fs::create_dir_all(root.path().join("home")).expect("home dir");
        Nv2 { root }
    }

    /// The `--config` directory (shared with notation through `NOTATION_CONFIG`).
    pub fn config_dir(&self) -> PathBuf {
        self.root.path().join("config")
    }

    /// The `--registry-config` docker credentials file.
    pub fn registry_config(&self) -> PathBuf {
        self.root.path().join("docker-config.json")
    }

    /// The HOME every process of this user gets.
    pub fn home(&self) -> PathBuf {
        self.root.path().join("home")
    }

    /// A scratch path under the temp root.
    pub fn path(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// `nv2 --config DIR --registry-config FILE` with a clean environment, ready for arguments.
    pub fn command(&self) -> Command {
        let mut command = Command::new(nv2_binary());
        isolate(&mut command, &self.home());
        // Relative paths in arguments are relative to the user's temp root, never to the checkout.
        command.current_dir(self.root.path());
        command.arg("--config").arg(self.config_dir()).arg("--registry-config").arg(self.registry_config());
        command
    }

    /// Runs `nv2 <args>`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = self.command();
        command.args(args);
        run(command, &format!("nv2 {}", args.join(" ")))
    }

    /// Runs `nv2 <args>` and asserts success.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Run {
        self.run(args).success()
    }

    /// Runs `nv2 --output json <args>`, asserts success, exactly one JSON document on stdout and nothing on stderr
    /// but warnings; returns the document.
    #[track_caller]
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--output", "json"];
        all.extend_from_slice(args);
        let run = self.ok(&all);
        assert!(run.non_warning_stderr().is_empty(), "stderr holds more than warnings:\n{}", run.describe());
        run.json()
    }

    /// A test CA and a P-256 key `name` (the default key), its root trusted in the `ca` store `name`, and an OCI
    /// trust policy trusting that store for every repository.
    pub fn trust_new_test_key(&self, name: &str) {
        self.ok(&["cert", "generate-test", name, "--default"]);
        self.ok(&[
            "policy",
            "init",
            "--name",
            "all",
            "--scope",
            "*",
            "--trust-store",
            &format!("ca:{name}"),
            "--trusted-identity",
            "*",
            "--force",
        ]);
    }
}

/// Clears every variable nv2, notation and docker read, and points HOME and XDG dirs at `home`.
pub fn isolate(command: &mut Command, home: &Path) {
    for var in [
        "NV2_CONFIG",
        "NOTATION_CONFIG",
        "NOTATION_CACHE",
        "NOTATION_LIBEXEC",
        "NV2_USERNAME",
        "NV2_PASSWORD",
        "NOTATION_USERNAME",
        "NOTATION_PASSWORD",
        "DOCKER_CONFIG",
        "NV2_LOG",
        "RUST_LOG",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
    ] {
        command.env_remove(var);
    }
    command.env("HOME", home).env("NO_COLOR", "1").stdin(Stdio::null());
}

/// Runs `command`, capturing both streams; `what` names it in messages.
pub fn run(mut command: Command, what: &str) -> Run {
    let output = command.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    Run::from_output(what.to_string(), output)
}

/// A peer tool (notation, oras, regctl) run with the environment of `user`: its HOME, and for notation its config
/// dir (`NOTATION_CONFIG`, the same directory `nv2 --config` uses).
pub struct Peer<'a> {
    /// The binary.
    pub binary: PathBuf,
    /// Whose files it uses.
    pub user: &'a Nv2,
    name: String,
}

impl<'a> Peer<'a> {
    /// The peer `name` from the peers cache, or `None` (skipped with a printed reason; a failure under CI=true).
    pub fn find(name: &str, user: &'a Nv2) -> Option<Peer<'a>> {
        super::common::peer(name).map(|binary| Peer { binary, user, name: name.to_string() })
    }

    /// Runs the peer with `args`.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut command = Command::new(&self.binary);
        isolate(&mut command, &self.user.home());
        command.env("NOTATION_CONFIG", self.user.config_dir());
        command.env("DOCKER_CONFIG", self.user.home().join(".docker"));
        // Relative file arguments (oras refuses absolute ones) are relative to the user's temp root.
        command.current_dir(self.user.root.path());
        command.args(args);
        run(command, &format!("{} {}", self.name, args.join(" ")))
    }

    /// Runs the peer and asserts success.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> Run {
        self.run(args).success()
    }
}

/// Writes `bytes` to `dir/name` and returns the path as a string (for arguments).
pub fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write file");
    path.display().to_string()
}

/// Pushes a small OCI image (a config and one layer) to `repository` (`host:port/name`) under `tag` and returns its
/// manifest digest. `seed` makes different images different.
pub fn push_image(user: &Nv2, repository: &str, tag: &str, seed: &str) -> String {
    let dir = user.path(&format!("image-{seed}"));
    std::fs::create_dir_all(&dir).expect("image dir");
    let layer = write_file(&dir, "layer.txt", format!("layer of {seed}\n").as_bytes());
    let config = write_file(&dir, "config.json", format!("{{\"seed\":\"{seed}\"}}").as_bytes());
    let doc = user.json(&[
        "push",
        &format!("{repository}:{tag}"),
        &format!("{layer}:application/vnd.oci.image.layer.v1.tar"),
        "--config-file",
        &format!("{config}:application/vnd.oci.image.config.v1+json"),
    ]);
    digest_of(&doc["descriptor"])
}

/// The `digest` of a descriptor JSON value.
#[track_caller]
pub fn digest_of(descriptor: &Value) -> String {
    descriptor["digest"].as_str().unwrap_or_else(|| panic!("no digest in {descriptor}")).to_string()
}
