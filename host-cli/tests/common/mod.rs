//! Real registries for host-cli's integration tests: the `nv2-registry` binary of this workspace (built on first
//! use), and the CNCF distribution registry from the peers cache when it is installed. Every server listens on
//! 127.0.0.1 only, keeps its data in a temporary directory and is killed when its handle drops.
//!
//! ```ignore
//! mod common;
//! let registry = common::TestRegistry::start("access = \"private\"");            // no users
//! let private = common::TestRegistry::start_with_users("access = \"private\"", &[("alice", "secret")]);
//! let reference = format!("{}/team/app:v1", private.host_port);
//! ```

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `nv2-registry serve`.
pub struct TestRegistry {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`, the registry part of references.
    pub host_port: String,
    /// Holds `data/`, `config.toml` and `htpasswd`.
    pub dir: tempfile::TempDir,
}

impl TestRegistry {
    /// Starts a registry with `config_toml` (any `nv2-registry` TOML keys; `listen` and `data_dir` are set by the
    /// helper) and no users.
    pub fn start(config_toml: &str) -> TestRegistry {
        Self::start_with_users(config_toml, &[])
    }

    /// Starts a registry with `config_toml` and an htpasswd file holding `users` (`(name, password)`), made with
    /// `nv2-registry htpasswd`; the file is wired in as the top-level `htpasswd` key.
    pub fn start_with_users(config_toml: &str, users: &[(&str, &str)]) -> TestRegistry {
        Self::start_inner(config_toml, users, None)
    }

    /// Starts a registry with `config_toml` serving the existing storage under `data_dir` (a registry restarted, or
    /// one whose content arrived by import).
    pub fn start_on_data(config_toml: &str, data_dir: &Path) -> TestRegistry {
        Self::start_inner(config_toml, &[], Some(data_dir))
    }

    fn start_inner(config_toml: &str, users: &[(&str, &str)], data_dir: Option<&Path>) -> TestRegistry {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = data_dir.map(Path::to_path_buf).unwrap_or_else(|| dir.path().join("data"));
        let mut config = String::new();
        if !users.is_empty() {
            let htpasswd = dir.path().join("htpasswd");
            let lines: String = users.iter().map(|(user, password)| htpasswd_line(user, password) + "\n").collect();
            std::fs::write(&htpasswd, lines).expect("write htpasswd");
            // Top-level keys must come before any [table] of the caller's config.
            config.push_str(&format!("htpasswd = {:?}\n", htpasswd.display().to_string()));
        }
        config.push_str(config_toml);
        config.push('\n');
        let config_path = dir.path().join("config.toml");
        std::fs::write(&config_path, config).expect("write config");
        let mut child = Command::new(nv2_registry_binary())
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(&data)
            .env_remove("NV2_REGISTRY_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nv2-registry");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(url) = line.trim().strip_prefix("nv2-registry listening on ") {
                    let _ = tx.send(url.to_owned());
                }
                line.clear();
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(url) => {
                let host_port = url.trim_start_matches("http://").trim_start_matches("https://").to_owned();
                TestRegistry { child, url, host_port, dir }
            }
            Err(_) => {
                let _ = child.kill();
                let status = child.wait();
                panic!("nv2-registry did not report its address (exit: {status:?}); config:\n{config_toml}");
            }
        }
    }

    /// The registry's data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `nv2-registry` binary of this workspace, built once per test process (`cargo build -p nv2-registry`,
/// same profile and target directory as the test binary).
pub fn nv2_registry_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let profile_dir = profile_dir();
            let mut build = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
            build
                .arg("build")
                .arg("--quiet")
                .arg("-p")
                .arg("nv2-registry")
                .arg("--bin")
                .arg("nv2-registry")
                .arg("--manifest-path")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("Cargo.toml"));
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            let output = build.output().expect("run cargo build -p nv2-registry");
            assert!(
                output.status.success(),
                "cargo build -p nv2-registry failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
            let binary = profile_dir.join(format!("nv2-registry{}", std::env::consts::EXE_SUFFIX));
            assert!(binary.is_file(), "nv2-registry not found at {}", binary.display());
            binary
        })
        .clone()
}

/// `target/<profile>`: the directory above the test binary's `deps/`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_owned()
}

/// One htpasswd line for `user` (bcrypt, low cost for speed) from `nv2-registry htpasswd`.
pub fn htpasswd_line(user: &str, password: &str) -> String {
    let mut child = Command::new(nv2_registry_binary())
        .arg("htpasswd")
        .arg(user)
        .arg("--cost")
        .arg("4")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run nv2-registry htpasswd");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        writeln!(stdin, "{password}").expect("write password");
    }
    let output = child.wait_with_output().expect("htpasswd output");
    assert!(output.status.success(), "nv2-registry htpasswd failed");
    String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for servers that cannot listen on port 0).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A port on 127.0.0.1 with nothing listening (connections are refused).
pub fn closed_port() -> u16 {
    free_port()
}

/// A peer tool from `$HOME/.cache/nv2/peers/bin` (or `NV2_PEERS_DIR/bin`). When it is missing: `None` with a
/// printed reason, or a panic under `CI=true`, where every peer must be installed.
pub fn peer(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("NV2_PEERS_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/nv2/peers")))
        .map(|peers| peers.join("bin").join(name));
    match dir {
        Some(path) if path.is_file() => Some(path),
        other => {
            let shown = other.map_or_else(|| "(no HOME)".to_owned(), |p| p.display().to_string());
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("peer {name} is missing at {shown} (install it with .ci/install-peers.sh --bench)");
            }
            eprintln!("skipping: peer {name} not installed at {shown} (.ci/install-peers.sh --bench installs it)");
            None
        }
    }
}

/// A running CNCF distribution registry (`registry serve config.yml`): no referrers API, deletes enabled.
pub struct DistributionRegistry {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// `127.0.0.1:PORT`.
    pub host_port: String,
    /// Holds the config and the storage root.
    pub dir: tempfile::TempDir,
}

impl DistributionRegistry {
    /// Starts the distribution peer, or `None` (see [`peer`]) when it is not installed.
    pub fn start() -> Option<DistributionRegistry> {
        let binary = peer("registry")?;
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let host_port = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    \
             enabled: true\nhttp:\n  addr: {host_port}\n",
            dir.path().join("storage").display()
        );
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).expect("write distribution config");
        let mut child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start distribution registry");
        let deadline = Instant::now() + START_TIMEOUT;
        while !answers_http(&host_port) {
            if Instant::now() > deadline || child.try_wait().ok().flatten().is_some() {
                let _ = child.kill();
                let _ = child.wait();
                panic!("distribution registry did not come up on {host_port}");
            }
            thread::sleep(Duration::from_millis(50));
        }
        Some(DistributionRegistry { child, url: format!("http://{host_port}"), host_port, dir })
    }
}

impl Drop for DistributionRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `GET /v2/` on `host_port` gets an HTTP answer.
fn answers_http(host_port: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(host_port) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /v2/ HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n");
    if std::io::Write::write_all(&mut stream, request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
