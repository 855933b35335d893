//! docker credential helpers (`docker-credential-<name> get|store|erase`), spoken exactly as docker speaks them:
//! the server name or a `{"ServerURL","Username","Secret"}` document on standard input, the answer on standard
//! output, user name `<token>` marking an identity token.
//!
//! A helper is an outside program: its output is bounded, it gets a time limit, and whatever it prints is reported
//! (never trusted as JSON without checking).

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{AuthError, Credential};

/// Prefix of every helper program name.
const PROGRAM_PREFIX: &str = "docker-credential-";
/// User name helpers use for identity tokens.
const TOKEN_USERNAME: &str = "<token>";
/// What helpers print when they have nothing for a server (docker's `errCredentialsNotFoundMessage`).
const NOT_FOUND: &str = "credentials not found";
/// Most output read from a helper.
const MAX_OUTPUT_BYTES: u64 = 1024 * 1024;
/// How long a helper may take (it may be waiting for a keychain unlock prompt).
const TIMEOUT: Duration = Duration::from_secs(60);

/// The helper protocol's credential document.
#[derive(Serialize, Deserialize)]
struct HelperCredential {
    #[serde(rename = "ServerURL", default)]
    server_url: String,
    #[serde(rename = "Username", default)]
    username: String,
    #[serde(rename = "Secret", default)]
    secret: String,
}

/// What a helper run produced.
struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

/// One located credential helper.
pub(super) struct Helper {
    program: String,
    path: PathBuf,
}

impl Helper {
    /// Finds `docker-credential-<name>` in `dirs`, or on `PATH` when `dirs` is `None`.
    pub(super) fn find(name: &str, dirs: Option<&[PathBuf]>, config: &Path) -> Result<Helper, AuthError> {
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
            return Err(AuthError::MalformedConfig {
                path: config.to_owned(),
                reason: format!("credential helper name {name:?} is not a plain program name"),
            });
        }
        let program = format!("{PROGRAM_PREFIX}{name}");
        let search: Vec<PathBuf> = match dirs {
            Some(dirs) => dirs.to_vec(),
            None => std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default(),
        };
        for dir in &search {
            let candidate = dir.join(&program);
            if is_executable(&candidate) {
                return Ok(Helper { program, path: candidate });
            }
        }
        let searched = if search.is_empty() {
            "an empty search path".to_owned()
        } else {
            search.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":")
        };
        Err(AuthError::HelperMissing { helper: program, searched, config: config.display().to_string() })
    }

    /// The program name (`docker-credential-<name>`).
    pub(super) fn program(&self) -> String {
        self.program.clone()
    }

    /// `get`: the stored credential, or [`Credential::None`] when the helper has none for `server`.
    pub(super) fn get(&self, server: &str) -> Result<Credential, AuthError> {
        let out = self.run("get", server, server.as_bytes())?;
        if !out.success {
            if out.stdout.contains(NOT_FOUND) || out.stderr.contains(NOT_FOUND) {
                return Ok(Credential::None);
            }
            return Err(self.failed("get", server, describe(&out)));
        }
        let answer: HelperCredential = serde_json::from_str(out.stdout.trim())
            .map_err(|e| self.failed("get", server, format!("unreadable answer ({e})")))?;
        Ok(match (answer.username.as_str(), answer.secret) {
            (_, secret) if secret.is_empty() => Credential::None,
            (TOKEN_USERNAME, secret) => Credential::IdentityToken(secret),
            (username, password) => Credential::Basic { username: username.to_owned(), password },
        })
    }

    /// `store`: hands `credential` to the helper.
    pub(super) fn store(&self, server: &str, credential: &Credential) -> Result<(), AuthError> {
        let (username, secret) = match credential {
            Credential::Basic { username, password } => (username.clone(), password.clone()),
            Credential::IdentityToken(token) => (TOKEN_USERNAME.to_owned(), token.clone()),
            Credential::None => return Err(AuthError::EmptyCredential { server: server.to_owned() }),
        };
        let document = HelperCredential { server_url: server.to_owned(), username, secret };
        let input = serde_json::to_vec(&document).map_err(|e| self.failed("store", server, e.to_string()))?;
        let out = self.run("store", server, &input)?;
        if out.success {
            Ok(())
        } else {
            Err(self.failed("store", server, describe(&out)))
        }
    }

    /// `erase`: removes the credential; `false` when the helper had none.
    pub(super) fn erase(&self, server: &str) -> Result<bool, AuthError> {
        let out = self.run("erase", server, server.as_bytes())?;
        if out.success {
            Ok(true)
        } else if out.stdout.contains(NOT_FOUND) || out.stderr.contains(NOT_FOUND) {
            Ok(false)
        } else {
            Err(self.failed("erase", server, describe(&out)))
        }
    }

    fn failed(&self, action: &'static str, server: &str, reason: String) -> AuthError {
        AuthError::HelperFailed { helper: self.program.clone(), action, server: server.to_owned(), reason }
    }

    /// Runs the helper with `input` on stdin, reading bounded stdout/stderr, killing it after [`TIMEOUT`].
    fn run(&self, action: &'static str, server: &str, input: &[u8]) -> Result<Output, AuthError> {
        let mut child = Command::new(&self.path)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.failed(action, server, format!("cannot start {}: {e}", self.path.display())))?;
        let stdin = child.stdin.take();
        let input = input.to_vec();
        let writer = thread::spawn(move || {
            if let Some(mut stdin) = stdin {
                // A helper that exits without reading its input is judged by its exit status, not by this write.
                let _ = stdin.write_all(&input);
            }
        });
        let stdout = child.stdout.take().map(|s| thread::spawn(move || read_bounded(s)));
        let stderr = child.stderr.take().map(|s| thread::spawn(move || read_bounded(s)));
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(self.failed(action, server, format!("no answer within {} s", TIMEOUT.as_secs())));
                }
                Ok(None) => thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(self.failed(action, server, format!("cannot wait for it: {e}"))),
            }
        };
        let _ = writer.join();
        let collect =
            |handle: Option<thread::JoinHandle<String>>| handle.and_then(|h| h.join().ok()).unwrap_or_default();
        Ok(Output { success: status.success(), stdout: collect(stdout), stderr: collect(stderr) })
    }
}

/// Reads at most [`MAX_OUTPUT_BYTES`] and discards the rest (so a chatty helper never blocks on a full pipe).
fn read_bounded(stream: impl Read) -> String {
    let mut stream = stream;
    let mut bytes = Vec::new();
    let _ = stream.by_ref().take(MAX_OUTPUT_BYTES).read_to_end(&mut bytes);
    let _ = io::copy(&mut stream, &mut io::sink());
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A short account of a failed run: its message (helpers print errors on stdout) or its exit.
fn describe(out: &Output) -> String {
    let message = if out.stdout.trim().is_empty() { out.stderr.trim() } else { out.stdout.trim() };
    let message: String = message.chars().take(300).collect();
    if message.is_empty() {
        "it exited with an error and no message".to_owned()
    } else {
        message
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
