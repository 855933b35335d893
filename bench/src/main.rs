//! nv2-bench: pushes, pulls, manifest reads and referrers listings against nv2-registry, zot and the CNCF
//! distribution registry, each started here on 127.0.0.1 with a fresh data directory, and prints a table of ratios;
//! and (`sign-verify`, in [`sign_verify`]) `nv2 sign`/`verify` against `notation sign`/`verify`.
//!
//! `nv2-bench admission` measures the admission server instead (see `admission.rs`).
//!
//! A benchmark, not a test: `nv2-bench registry --nv2 target/release/nv2-registry` (zot and `registry` are taken from
//! `--peers-dir`, default `$HOME/.cache/nv2/peers/bin`, where `.ci/install-peers.sh --bench` puts them, unless given
//! with `--zot` / `--distribution`). Registries not found are reported as n/a. `--quick` (or `--scale`) shrinks the
//! workload for a development run. The table is printed and written to `bench/results/registry-<date>.md`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use sha2::{Digest as _, Sha256};

mod admission;
mod sign_verify;

/// Command line: one subcommand per benchmark, so more can be added next to `registry`.
#[derive(Parser, Debug)]
enum Cli {
    /// nv2-registry against zot and distribution: push/pull, manifest GET load, referrers, RSS.
    Registry(Args),
    /// `nv2 sign`/`nv2 verify` against `notation sign`/`notation verify`: whole-process time, median and p90.
    SignVerify(sign_verify::Args),
    /// The admission server: native pipeline against the policy module in wasmtime, provider latency warm and cold.
    Admission(admission::Args),
}

/// Options of `nv2-bench registry`.
#[derive(Parser, Debug)]
struct Args {
    /// nv2-registry binary.
    #[arg(long)]
    nv2: PathBuf,
    /// zot binary (optional).
    #[arg(long)]
    zot: Option<PathBuf>,
    /// distribution `registry` binary (optional).
    #[arg(long)]
    distribution: Option<PathBuf>,
    /// Where `.ci/install-peers.sh --bench` installs zot and registry (used when --zot/--distribution are not given).
    #[arg(long)]
    peers_dir: Option<PathBuf>,
    /// Fraction of the full workload (1.0 = 64 × 16 MiB blobs, 10,000 referrers).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Seconds of manifest GET load.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Development run: a quarter of the workload (256 MiB, 2,500 referrers) and 2 s of manifest load.
    #[arg(long)]
    quick: bool,
    /// Upper bound on the time spent on one registry; what was measured until then is still reported.
    #[arg(long, default_value_t = 240)]
    per_registry_secs: u64,
    /// Results file (default `bench/results/registry-<date>.md`; `-` for none).
    #[arg(long)]
    out: Option<PathBuf>,
}

type Results = BTreeMap<&'static str, f64>;

struct Running {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap_or(5999)
}

fn start(kind: &str, bin: &PathBuf) -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let data = dir.path().join("data");
    let mut cmd = Command::new(bin);
    match kind {
        "nv2" => {
            cmd.args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data-dir"]).arg(&data);
        }
        "zot" => {
            let cfg = dir.path().join("zot.json");
            let json = serde_json::json!({
                "distSpecVersion": "1.1.1",
                "storage": {"rootDirectory": data, "gc": false, "dedupe": false},
                "http": {"address": "127.0.0.1", "port": port.to_string()},
                "log": {"level": "error"}
            });
            std::fs::write(&cfg, json.to_string()).expect("zot config");
            cmd.arg("serve").arg(&cfg);
        }
        _ => {
            let cfg = dir.path().join("config.yml");
            let yaml = format!(
                "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
                data.display()
            );
            std::fs::write(&cfg, yaml).expect("distribution config");
            cmd.arg("serve").arg(&cfg);
        }
    }
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("start registry");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::blocking_get_ok(&format!("{url}/v2/")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Running { child, url, _dir: dir }
}

/// Tiny synchronous readiness probe without pulling in reqwest's blocking client.
mod reqwest {
    pub use ::reqwest::*;
    pub fn blocking_get_ok(url: &str) -> bool {
        let Some(rest) = url.strip_prefix("http://") else { return false };
        let Some((host, path)) = rest.split_once('/') else { return false };
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(host) else { return false };
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        if write!(s, "GET /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").is_err() {
            return false;
        }
        let mut buf = [0u8; 16];
        s.read(&mut buf).is_ok_and(|n| n >= 12 && &buf[9..12] == b"200")
    }
}

fn rss_kib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse().ok()))
        .unwrap_or(0.0)
}

fn blob(seed: u64, size: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(size);
    while out.len() < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size);
    out
}

fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    format!("sha256:{}", d.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

async fn push_blob(http: &reqwest::Client, url: &str, repo: &str, data: Vec<u8>) -> String {
    let digest = sha256(&data);
    let r = http.post(format!("{url}/v2/{repo}/blobs/uploads/")).send().await.expect("post");
    let loc = r.headers().get("Location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let loc = if loc.starts_with("http") { loc } else { format!("{url}{loc}") };
    let sep = if loc.contains('?') { '&' } else { '?' };
    let r = http
        .put(format!("{loc}{sep}digest={digest}"))
        .header("Content-Type", "application/octet-stream")
        .body(data)
        .send()
        .await
        .expect("put");
    assert!(r.status().is_success(), "blob push failed: {}", r.status());
    digest
}

async fn transfer(url: &str, repo: &str, blobs: usize, size: usize, clients: usize, seed: u64) -> (f64, f64) {
    let http = reqwest::Client::new();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, repo) = (http.clone(), url.to_owned(), repo.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut digests = Vec::new();
            for i in (c..blobs).step_by(clients) {
                let data = blob(seed * 1000 + i as u64, size);
                digests.push(push_blob(&http, &url, &repo, data).await);
            }
            digests
        }));
    }
    let mut digests = Vec::new();
    for t in tasks {
        digests.extend(t.await.expect("push task"));
    }
    let mib = (blobs * size) as f64 / (1024.0 * 1024.0);
    let push = mib / start.elapsed().as_secs_f64();
    let digests = Arc::new(digests);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, repo, digests) = (http.clone(), url.to_owned(), repo.to_owned(), digests.clone());
        tasks.push(tokio::spawn(async move {
            for d in digests.iter().skip(c).step_by(clients) {
                let r = http.get(format!("{url}/v2/{repo}/blobs/{d}")).send().await.expect("get");
                let body = r.bytes().await.expect("body");
                assert_eq!(body.len(), size);
            }
        }));
    }
    for t in tasks {
        t.await.expect("pull task");
    }
    (push, mib / start.elapsed().as_secs_f64())
}

async fn push_manifest(http: &reqwest::Client, url: &str, repo: &str, reference: &str, body: &[u8]) {
    let r = http
        .put(format!("{url}/v2/{repo}/manifests/{reference}"))
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .body(body.to_vec())
        .send()
        .await
        .expect("manifest put");
    assert!(r.status().is_success(), "manifest push failed: {}", r.status());
}

fn image_manifest(config: &str, subject: Option<&(String, usize)>, n: usize) -> Vec<u8> {
    let mut m = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": config, "size": 2}],
        "annotations": {"n": n.to_string()}
    });
    if let Some((digest, size)) = subject {
        m["artifactType"] = serde_json::json!(if n % 2 == 0 { "application/x.sig" } else { "application/x.sbom" });
        m["subject"] = serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": size});
    }
    serde_json::to_vec(&m).unwrap_or_default()
}

async fn manifest_load(url: &str, seconds: u64) -> (f64, f64) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
    let config = push_blob(&http, url, "bench/manifest", b"{}".to_vec()).await;
    let body = image_manifest(&config, None, 0);
    push_manifest(&http, url, "bench/manifest", "v1", &body).await;
    let by_digest = format!("{url}/v2/bench/manifest/manifests/{}", sha256(&body));
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (http, by_digest) = (http.clone(), by_digest.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let r =
                    http.get(&by_digest).header("Accept", "application/vnd.oci.image.manifest.v1+json").send().await;
                // Only complete 200 answers count: a refused or failed request must not look fast.
                if let Ok(r) = r {
                    if r.status().is_success() && r.bytes().await.is_ok() {
                        lat.push(t.elapsed().as_secs_f64());
                    }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    all.sort_by(f64::total_cmp);
    let p99 = all.get(all.len() * 99 / 100).copied().unwrap_or(0.0) * 1000.0;
    (all.len() as f64 / seconds as f64, p99)
}

/// First-page latencies of the referrers listing for subjects with 10, 1,000 and `count` referrers, and how many
/// descriptors the first page of the biggest one held. None when the registry has no referrers API.
struct Referrers {
    ms: [f64; 3],
    first_page_len: f64,
}

async fn push_referrers(http: &reqwest::Client, url: &str, config: &str, subject: &(String, usize), count: usize) {
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (http, url, subject, config) = (http.clone(), url.to_owned(), subject.clone(), config.to_owned());
        tasks.push(tokio::spawn(async move {
            for n in (c..count).step_by(8) {
                let m = image_manifest(&config, Some(&subject), n + 100);
                push_manifest(&http, &url, "bench/referrers", &sha256(&m), &m).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("referrer push task");
    }
}

async fn referrers_latency(url: &str, count: usize) -> Option<Referrers> {
    let http = reqwest::Client::new();
    let repo = "bench/referrers";
    let config = push_blob(&http, url, repo, b"{}".to_vec()).await;
    let mut subjects = Vec::new();
    for (i, n) in [10, count.min(1000), count].into_iter().enumerate() {
        let body = image_manifest(&config, None, i + 1);
        push_manifest(&http, url, repo, &format!("subject{i}"), &body).await;
        subjects.push(((sha256(&body), body.len()), n));
    }
    let probe = http.get(format!("{url}/v2/{repo}/referrers/{}", subjects[0].0 .0)).send().await.ok()?;
    if !probe.status().is_success() {
        return None;
    }
    for (subject, n) in &subjects {
        push_referrers(&http, url, &config, subject, *n).await;
    }
    let mut ms = [0.0; 3];
    let mut first_page_len = 0.0;
    for (slot, (subject, _)) in ms.iter_mut().zip(&subjects) {
        let start = Instant::now();
        for _ in 0..20 {
            let r = http.get(format!("{url}/v2/{repo}/referrers/{}", subject.0)).send().await.ok()?;
            let body = r.bytes().await.ok()?;
            let index: serde_json::Value = serde_json::from_slice(&body).ok()?;
            first_page_len = index["manifests"].as_array().map_or(0, Vec::len) as f64;
        }
        *slot = start.elapsed().as_secs_f64() / 20.0 * 1000.0;
    }
    Some(Referrers { ms, first_page_len })
}

/// Runs every measurement against one registry with a time limit; what finished before the limit is kept.
async fn run(kind: &'static str, bin: &PathBuf, args: &Args) -> Results {
    let reg = start(kind, bin);
    let pid = reg.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut r = Results::new();
    r.insert("rss idle (MiB)", rss_kib(pid) / 1024.0);
    // Peak RSS over the whole load (transfers, manifest GETs, referrer pushes), sampled every 50 ms.
    let peak = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kib(pid) as u64, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let limit = Duration::from_secs(args.per_registry_secs);
    if tokio::time::timeout(limit, measure(&reg, args, &mut r)).await.is_err() {
        eprintln!("nv2-bench: {kind} did not finish within {}s; later rows are n/a", args.per_registry_secs);
    }
    sampler.abort();
    r.insert("rss peak under load (MiB)", peak.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1024.0);
    r
}

async fn measure(reg: &Running, args: &Args, r: &mut Results) {
    let blobs = ((64.0 * args.scale).ceil() as usize).max(1);
    let size = 16 * 1024 * 1024;
    let (push1, pull1) = transfer(&reg.url, "bench/one", blobs, size, 1, 1).await;
    r.insert("push 1 client (MiB/s)", push1);
    r.insert("pull 1 client (MiB/s)", pull1);
    let (push8, pull8) = transfer(&reg.url, "bench/eight", blobs, size, 8, 2).await;
    r.insert("push 8 clients (MiB/s)", push8);
    r.insert("pull 8 clients (MiB/s)", pull8);
    let (rps, p99) = manifest_load(&reg.url, args.seconds).await;
    r.insert("manifest GET by digest (req/s, 64 conns)", rps);
    r.insert("manifest GET p99 (ms)", p99);
    let count = ((10_000.0 * args.scale).ceil() as usize).max(10);
    if let Some(refs) = referrers_latency(&reg.url, count).await {
        r.insert("referrers first page, 10 refs (ms)", refs.ms[0]);
        r.insert("referrers first page, 1,000 refs (ms)", refs.ms[1]);
        r.insert("referrers first page, N refs (ms)", refs.ms[2]);
        r.insert("referrers first page size, N refs", refs.first_page_len);
    }
}

/// Table rows in reading order; a registry without a value for one prints n/a.
const ROWS: [&str; 13] = [
    "push 1 client (MiB/s)",
    "pull 1 client (MiB/s)",
    "push 8 clients (MiB/s)",
    "pull 8 clients (MiB/s)",
    "manifest GET by digest (req/s, 64 conns)",
    "manifest GET p99 (ms)",
    "referrers first page, 10 refs (ms)",
    "referrers first page, 1,000 refs (ms)",
    "referrers first page, N refs (ms)",
    "referrers first page size, N refs",
    "rss idle (MiB)",
    "rss peak under load (MiB)",
    "run time (s)",
];

/// A peer binary: the explicit flag, else the one `.ci/install-peers.sh --bench` installed, else none (n/a).
fn peer(explicit: &Option<PathBuf>, dir: &std::path::Path, name: &str) -> Option<PathBuf> {
    explicit.clone().or_else(|| Some(dir.join(name)).filter(|p| p.is_file()))
}

fn shell(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match Cli::parse() {
        Cli::Registry(args) => registry(args).await,
        Cli::SignVerify(args) => {
            if let Err(message) = sign_verify::run(args) {
                eprintln!("nv2-bench: {message}");
                return std::process::ExitCode::FAILURE;
            }
        }
        Cli::Admission(args) => admission::main(args).await,
    }
    std::process::ExitCode::SUCCESS
}

async fn registry(mut args: Args) {
    if args.quick {
        args.scale = args.scale.min(0.25);
        args.seconds = args.seconds.min(2);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let peers = args.peers_dir.clone().unwrap_or_else(|| home.join(".cache/nv2/peers/bin"));
    let candidates: [(&'static str, Option<PathBuf>); 3] = [
        ("nv2", Some(args.nv2.clone())),
        ("zot", peer(&args.zot, &peers, "zot")),
        ("distribution", peer(&args.distribution, &peers, "registry")),
    ];
    let load_before = shell("uptime", &[]);
    let mut columns: Vec<(&'static str, Option<Results>)> = Vec::new();
    for (kind, bin) in candidates {
        let res = match bin {
            Some(bin) => {
                eprintln!("nv2-bench: measuring {kind} ({})", bin.display());
                let t = Instant::now();
                let mut r = run(kind, &bin, &args).await;
                r.insert("run time (s)", t.elapsed().as_secs_f64());
                Some(r)
            }
            None => {
                eprintln!("nv2-bench: {kind} not installed (run .ci/install-peers.sh --bench); column is n/a");
                None
            }
        };
        columns.push((kind, res));
    }
    let load_after = shell("uptime", &[]);
    let count = ((10_000.0 * args.scale).ceil() as usize).max(10);
    let blobs = ((64.0 * args.scale).ceil() as usize).max(1);
    let mut t = String::new();
    t += &format!(
        "# nv2-bench registry, {}\n\nWorkload: {} × 16 MiB blobs ({} MiB) pushed then pulled with 1 and with 8 clients; \
         manifest GET by digest with 64 connections for {} s; referrers first page for subjects with 10, 1,000 and N = {} \
         referrers (mean of 20 sequential GETs); RSS from /proc/<pid>/status VmRSS. Loopback, fresh temp storage per \
         registry, release builds.\n\nMachine: `{}` (2 cores shared with other agents).\nLoad before: `{}`\n\
         Load after: `{}`\n\n",
        shell("date", &["-u", "+%F %T UTC"]),
        blobs,
        blobs * 16,
        args.seconds,
        count,
        shell("uname", &["-srm"]),
        load_before,
        load_after,
    );
    t += "| metric |";
    for (name, _) in &columns {
        t += &format!(" {name} |");
    }
    for (name, _) in columns.iter().skip(1) {
        t += &format!(" nv2/{name} |");
    }
    t += &format!("\n|---|{}\n", "---:|".repeat(columns.len() * 2 - 1));
    let ours = columns.first().and_then(|(_, r)| r.clone()).unwrap_or_default();
    for row in ROWS {
        t += &format!("| {row} |");
        for (_, res) in &columns {
            match res.as_ref().and_then(|r| r.get(row)) {
                Some(v) => t += &format!(" {v:.2} |"),
                None => t += " n/a |",
            }
        }
        for (_, res) in columns.iter().skip(1) {
            match (ours.get(row), res.as_ref().and_then(|r| r.get(row))) {
                (Some(a), Some(b)) if *b > 0.0 => t += &format!(" {:.2}× |", a / b),
                _ => t += " n/a |",
            }
        }
        t += "\n";
    }
    print!("{t}");
    if args.out.as_deref() != Some(std::path::Path::new("-")) {
        let out = args.out.clone().unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/results"))
                .join(format!("registry-{}.md", shell("date", &["-u", "+%F"])))
        });
        let written = out.parent().map_or(Ok(()), std::fs::create_dir_all).and_then(|()| std::fs::write(&out, &t));
        match written {
            Ok(()) => eprintln!("nv2-bench: wrote {}", out.display()),
            Err(e) => eprintln!("nv2-bench: could not write {}: {e}", out.display()),
        }
    }
}
