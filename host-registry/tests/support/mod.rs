//! Starts the real `nv2-registry` binary on 127.0.0.1 with a fresh data directory and stops it on drop.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry process.
pub struct Server {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// `host:port`.
    pub addr: String,
    /// Data directory (kept by `dir` while the server lives).
    pub data: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

impl Server {
    /// Starts a registry with extra flags on a fresh data directory.
    pub fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let mut s = Server::start_on(&data, extra);
        s._dir = Some(dir);
        s
    }

    /// Starts a registry over an existing data directory (restart tests).
    pub fn start_on(data: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nv2-registry"))
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data)
            .args(extra)
            .env_remove("NV2_REGISTRY_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nv2-registry");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut reader = BufReader::new(stdout);
        while Instant::now() < deadline {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(url) = line.trim().strip_prefix("nv2-registry listening on ") {
                let url = url.to_owned();
                let addr = url.trim_start_matches("http://").trim_start_matches("https://").to_owned();
                return Server { child, url, addr, data: data.to_owned(), _dir: None };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("nv2-registry did not report its address");
    }

    /// Sends SIGTERM and waits for the process to exit; `true` when it exited successfully.
    pub fn terminate(mut self) -> bool {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// Sends SIGTERM without waiting.
    pub fn signal_term(&self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
    }

    /// Waits for the process to exit; `true` when it exited successfully.
    pub fn wait(mut self) -> bool {
        self.child.wait().map(|s| s.success()).unwrap_or(false)
    }

    /// Stops the process and returns the data directory holder (so a restart can reuse it).
    pub fn stop(mut self) -> Option<tempfile::TempDir> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self._dir.take()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
