//! `nv2-bench sign-verify`: whole-process wall time of `nv2 sign`/`nv2 verify` against `notation sign`/`notation
//! verify` on the same image, the same registry (one release nv2-registry on 127.0.0.1), the same trust policy and
//! trust stores (one config dir shared by both tools: `NOTATION_CONFIG` = `nv2 --config`).
//!
//! Key types cannot all be the same: notation signs only with its own local keys, which `notation cert
//! generate-test` makes as RSA-2048 (or through plugins), and nv2 signs only with P-256, P-384 or Ed25519. So:
//! - verify is measured on identical inputs: both tools verify the same notation-signed image (RSA-PSS, PS256) and
//!   the same nv2-signed image (ECDSA P-256, ES256), one signature each;
//! - sign is notation with RSA-2048 (its only local key type) against nv2 with P-256 (its default): the table says
//!   so. Both store the signature through the referrers API (`notation sign --force-referrers-tag=false`), each into
//!   its own repository, so neither pays for the other's growing referrer list.
//!
//! Runs of the two tools alternate (A B A B ...) so drifting machine load hits both alike; each case has `--warmup`
//! discarded runs, then `--runs` measured ones; the table shows median and p90 in milliseconds and the ratio of
//! the medians (notation/nv2). It is printed and written to `bench/results/sign-verify-<date>.md`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Options of `nv2-bench sign-verify`.
#[derive(clap::Parser, Debug)]
pub struct Args {
    /// The `nv2` binary (a release build).
    #[arg(long)]
    nv2: PathBuf,
    /// The `notation` binary (default: notation from the peers cache, `$HOME/.cache/nv2/peers/bin/notation`).
    #[arg(long)]
    notation: Option<PathBuf>,
    /// The `nv2-registry` binary (default: `nv2-registry` beside `--nv2`).
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Measured runs per tool and case (at least 10).
    #[arg(long, default_value_t = 15)]
    runs: usize,
    /// Discarded runs per tool and case before measuring.
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// Results file (default `bench/results/sign-verify-<date>.md`; `-` for none).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs the benchmark; the error is one line for a person.
pub fn run(args: Args) -> Result<(), String> {
    if args.runs < 10 {
        return Err(format!("--runs {}: at least 10 runs are needed for a median and a p90", args.runs));
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let notation = args.notation.clone().unwrap_or_else(|| home.join(".cache/nv2/peers/bin/notation"));
    let registry_bin = args.registry.clone().unwrap_or_else(|| args.nv2.with_file_name("nv2-registry"));
    for (what, path) in [("nv2", &args.nv2), ("notation", &notation), ("nv2-registry", &registry_bin)] {
        if !path.is_file() {
            return Err(format!("{what} binary not found at {}", path.display()));
        }
    }
    let work = tempfile::tempdir().map_err(|e| format!("cannot create a temp dir: {e}"))?;
    let registry = Registry::start(&registry_bin, &work.path().join("registry"))?;
    let tools = Tools::new(&args.nv2, &notation, work.path())?;
    let host = format!("localhost:{}", registry.port);

    eprintln!("nv2-bench: setting up keys, policy and images on {host}");
    // notation's own test key (RSA-2048) and nv2's (P-256), each with a `ca` store; one policy trusting both.
    tools.notation(&["cert", "generate-test", "notationbench"])?;
    tools.nv2(&["cert", "generate-test", "nv2bench"])?;
    tools.nv2(&[
        "policy",
        "init",
        "--name",
        "bench",
        "--scope",
        "*",
        "--trust-store",
        "ca:notationbench",
        "--trust-store",
        "ca:nv2bench",
        "--trusted-identity",
        "*",
    ])?;
    let rsa_signed = tools.push_image(&host, "bench/rsa-signed")?;
    let ec_signed = tools.push_image(&host, "bench/ec-signed")?;
    let notation_target = tools.push_image(&host, "bench/sign-by-notation")?;
    let nv2_target = tools.push_image(&host, "bench/sign-by-nv2")?;
    tools.notation(&["sign", "--key", "notationbench", "--force-referrers-tag=false", &rsa_signed])?;
    tools.nv2(&["sign", "--key", "nv2bench", &ec_signed])?;

    let cases = [
        Case {
            operation: "verify",
            inputs: "notation-signed image, RSA-2048 PS256, JWS",
            notation: vec!["verify".into(), rsa_signed.clone()],
            nv2: vec!["verify".into(), rsa_signed.clone()],
            nv2_env: &[],
        },
        Case {
            operation: "verify",
            inputs: "nv2-signed image, P-256 ES256, JWS",
            notation: vec!["verify".into(), ec_signed.clone()],
            nv2: vec!["verify".into(), ec_signed.clone()],
            nv2_env: &[],
        },
        Case {
            operation: "sign",
            inputs: "notation RSA-2048 PS256 / nv2 P-256 ES256 (key types differ), JWS, referrers API",
            notation: vec![
                "sign".into(),
                "--key".into(),
                "notationbench".into(),
                "--force-referrers-tag=false".into(),
                notation_target.clone(),
            ],
            nv2: vec!["sign".into(), "--key".into(), "nv2bench".into(), nv2_target.clone()],
            nv2_env: &[],
        },
        // Diagnostics: what a process of each tool costs before any work, and what nv2's verify costs when the
        // system TLS roots (which a plain-HTTP registry never uses) are not loaded.
        Case {
            operation: "startup floor",
            inputs: "`version` (process start and exit, no work)",
            notation: vec!["version".into()],
            nv2: vec!["version".into()],
            nv2_env: &[],
        },
        Case {
            operation: "verify (diagnostic)",
            inputs: "as row 2, nv2 with SSL_CERT_FILE=/dev/null SSL_CERT_DIR=/nonexistent (no system TLS roots read)",
            notation: vec!["verify".into(), ec_signed.clone()],
            nv2: vec!["verify".into(), ec_signed.clone()],
            nv2_env: &[("SSL_CERT_FILE", "/dev/null"), ("SSL_CERT_DIR", "/nonexistent")],
        },
    ];

    let load_before = shell("uptime", &[]);
    let mut rows = Vec::new();
    for case in &cases {
        eprintln!(
            "nv2-bench: {} ({}): {} warmup + {} runs per tool",
            case.operation, case.inputs, args.warmup, args.runs
        );
        let (notation_times, nv2_times) = tools.measure(case, args.warmup, args.runs)?;
        rows.push((case, Stats::of(notation_times), Stats::of(nv2_times)));
    }
    let load_after = shell("uptime", &[]);

    let mut t = format!(
        "# nv2-bench sign-verify, {}\n\nWhole-process wall time (spawn to exit) of each command, {} measured runs \
         per tool and case after {} warmup runs, the two tools alternating. One release nv2-registry on 127.0.0.1 \
         (referrers API), one config dir shared by both tools (`NOTATION_CONFIG` = `nv2 --config`): the same \
         trust policy (`*`, strict, stores `ca:notationbench` + `ca:nv2bench`) and trust stores.\n\n\
         Tools: `{}`, `{}`.\nMachine: `{}` (2 cores shared with other agents).\nLoad before: `{}`\n\
         Load after: `{}`\n\n",
        shell("date", &["-u", "+%F %T UTC"]),
        args.runs,
        args.warmup,
        tools.version(&tools.notation_bin),
        tools.version(&tools.nv2_bin),
        shell("uname", &["-srm"]),
        load_before,
        load_after,
    );
    t += "| operation | inputs | notation median (ms) | notation p90 (ms) | nv2 median (ms) | nv2 p90 (ms) | \
          notation/nv2 (median) |\n|---|---|---:|---:|---:|---:|---:|\n";
    for (case, notation, nv2) in &rows {
        t += &format!(
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1}× |\n",
            case.operation,
            case.inputs,
            notation.median,
            notation.p90,
            nv2.median,
            nv2.p90,
            notation.median / nv2.median
        );
    }
    print!("{t}");
    if args.out.as_deref() != Some(Path::new("-")) {
        let out = args.out.clone().unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/results"))
                .join(format!("sign-verify-{}.md", shell("date", &["-u", "+%F"])))
        });
        let written = out.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&out, &t));
        match written {
            Ok(()) => eprintln!("nv2-bench: wrote {}", out.display()),
            Err(e) => eprintln!("nv2-bench: could not write {}: {e}", out.display()),
        }
    }
    Ok(())
}

/// One measured operation: the same thing done by each tool.
struct Case {
    operation: &'static str,
    inputs: &'static str,
    notation: Vec<String>,
    nv2: Vec<String>,
    /// Extra environment for nv2 only (the diagnostic row).
    nv2_env: &'static [(&'static str, &'static str)],
}

/// Median and p90 in milliseconds.
struct Stats {
    median: f64,
    p90: f64,
}

impl Stats {
    fn of(mut millis: Vec<f64>) -> Stats {
        millis.sort_by(f64::total_cmp);
        let at = |q: f64| {
            let index = ((millis.len() as f64 - 1.0) * q).round() as usize;
            millis.get(index).copied().unwrap_or(f64::NAN)
        };
        Stats { median: at(0.5), p90: at(0.9) }
    }
}

/// Both tools, set up to share one config dir and nothing of the user's.
struct Tools {
    nv2_bin: PathBuf,
    notation_bin: PathBuf,
    config: PathBuf,
    home: PathBuf,
    registry_config: PathBuf,
    files: PathBuf,
}

impl Tools {
    fn new(nv2: &Path, notation: &Path, work: &Path) -> Result<Tools, String> {
        let tools = Tools {
            nv2_bin: nv2.to_path_buf(),
            notation_bin: notation.to_path_buf(),
            config: work.join("config"),
            home: work.join("home"),
            registry_config: work.join("docker-config.json"),
            files: work.join("files"),
        };
        for dir in [&tools.config, &tools.home, &tools.files] {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        Ok(tools)
    }

    fn nv2_command(&self, args: &[String]) -> Command {
        let mut command = Command::new(&self.nv2_bin);
        self.isolate(&mut command);
        command.arg("--config").arg(&self.config).arg("--registry-config").arg(&self.registry_config).args(args);
        command
    }

    fn notation_command(&self, args: &[String]) -> Command {
        let mut command = Command::new(&self.notation_bin);
        self.isolate(&mut command);
        command.env("NOTATION_CONFIG", &self.config).args(args);
        command
    }

    fn isolate(&self, command: &mut Command) {
        for var in ["NV2_CONFIG", "NOTATION_CONFIG", "NV2_USERNAME", "NV2_PASSWORD", "DOCKER_CONFIG", "NV2_LOG"] {
            command.env_remove(var);
        }
        command.env("HOME", &self.home).env_remove("XDG_CONFIG_HOME").env_remove("XDG_CACHE_HOME");
        command.stdin(Stdio::null());
    }

    fn nv2(&self, args: &[&str]) -> Result<String, String> {
        checked(self.nv2_command(&owned(args)), "nv2", args)
    }

    fn notation(&self, args: &[&str]) -> Result<String, String> {
        checked(self.notation_command(&owned(args)), "notation", args)
    }

    fn version(&self, binary: &Path) -> String {
        Command::new(binary)
            .arg("version")
            .env("HOME", &self.home)
            .output()
            .ok()
            .map(|o| {
                let text = String::from_utf8_lossy(&o.stdout).into_owned();
                // notation prints a banner and then `Version:     v1.3.2`; nv2 prints `nv2 0.1.0`.
                let version = text.lines().find_map(|l| l.strip_prefix("Version:")).map(str::trim);
                match version {
                    Some(v) => format!("notation {v}"),
                    None => text.lines().next().unwrap_or_default().trim().to_owned(),
                }
            })
            .unwrap_or_default()
    }

    /// Pushes a small OCI image (config + one 1 MiB layer) to `host/repository:v1`; returns `host/repo@digest`.
    fn push_image(&self, host: &str, repository: &str) -> Result<String, String> {
        let layer = self.files.join("layer.bin");
        if !layer.is_file() {
            let bytes: Vec<u8> = (0..1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
            std::fs::write(&layer, bytes).map_err(|e| format!("cannot write {}: {e}", layer.display()))?;
            let config = self.files.join("config.json");
            std::fs::write(&config, br#"{"architecture":"amd64","os":"linux"}"#)
                .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        }
        let layer_arg = format!("{}:application/vnd.oci.image.layer.v1.tar", layer.display());
        let config_arg =
            format!("{}:application/vnd.oci.image.config.v1+json", self.files.join("config.json").display());
        let reference = format!("{host}/{repository}:v1");
        let pushed = self.nv2(&["--output", "json", "push", &reference, &layer_arg, "--config-file", &config_arg])?;
        let doc: serde_json::Value =
            serde_json::from_str(&pushed).map_err(|e| format!("nv2 push printed no JSON ({e}): {pushed}"))?;
        let digest =
            doc["descriptor"]["digest"].as_str().ok_or_else(|| format!("nv2 push printed no digest: {doc}"))?;
        Ok(format!("{host}/{repository}@{digest}"))
    }

    /// Warmup runs, then `runs` timed runs of each tool, alternating; milliseconds.
    fn measure(&self, case: &Case, warmup: usize, runs: usize) -> Result<(Vec<f64>, Vec<f64>), String> {
        let mut notation = Vec::with_capacity(runs);
        let mut nv2 = Vec::with_capacity(runs);
        for i in 0..warmup + runs {
            let a = timed(self.notation_command(&case.notation), "notation", &case.notation)?;
            let mut nv2_command = self.nv2_command(&case.nv2);
            nv2_command.envs(case.nv2_env.iter().copied());
            let b = timed(nv2_command, "nv2", &case.nv2)?;
            if i >= warmup {
                notation.push(a);
                nv2.push(b);
            }
        }
        Ok((notation, nv2))
    }
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// Runs a setup command; its stdout, or its failure as one line.
fn checked(mut command: Command, tool: &str, args: &[&str]) -> Result<String, String> {
    let output = command.output().map_err(|e| format!("cannot run {tool}: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{tool} {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Wall time of one whole process in milliseconds; a failed run stops the benchmark (a failure must not look fast).
fn timed(mut command: Command, tool: &str, args: &[String]) -> Result<f64, String> {
    command.stdout(Stdio::null()).stderr(Stdio::piped());
    let start = Instant::now();
    let output = command.output().map_err(|e| format!("cannot run {tool}: {e}"))?;
    let elapsed = start.elapsed().as_secs_f64() * 1000.0;
    if !output.status.success() {
        return Err(format!(
            "{tool} {} failed during the benchmark ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(elapsed)
}

fn shell(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// One nv2-registry on 127.0.0.1, killed on drop.
struct Registry {
    child: Child,
    port: u16,
}

impl Registry {
    fn start(binary: &Path, data: &Path) -> Result<Registry, String> {
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--gc-interval-secs", "0", "--data-dir"])
            .arg(data)
            .env_remove("NV2_REGISTRY_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("nv2-registry has no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(url) = line.trim().strip_prefix("nv2-registry listening on http://") {
                    let _ = tx.send(url.to_owned());
                }
                line.clear();
            }
        });
        let address = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{} did not report its address within 30 s", binary.display()));
            }
        };
        let port = address
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse().ok())
            .ok_or_else(|| format!("nv2-registry reported an address without a port: {address}"))?;
        Ok(Registry { child, port })
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
