//! nv2-bench: pushes, pulls, manifest reads and referrers listings against nv2-registry, zot and the CNCF
//! distribution registry, each started here on 127.0.0.1 with a fresh data directory, and prints a table of ratios.
//!
//! A benchmark, not a test: `cargo run --release -p nv2-bench -- --nv2 target/release/nv2-registry --zot zot
//! --distribution registry`. Registries not given are left out. `--scale` shrinks everything for a quick run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use sha2::{Digest as _, Sha256};

/// Command line.
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
    /// Fraction of the full workload (1.0 = 64 × 16 MiB blobs, 10,000 referrers).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Seconds of manifest GET load.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
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

async fn manifest_load(url: &str, pid: u32, seconds: u64) -> (f64, f64, f64) {
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("client");
    let config = push_blob(&http, url, "bench/manifest", b"{}".to_vec()).await;
    let body = image_manifest(&config, None, 0);
    push_manifest(&http, url, "bench/manifest", "v1", &body).await;
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (http, url) = (http.clone(), url.to_owned());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let r = http
                    .get(format!("{url}/v2/bench/manifest/manifests/v1"))
                    .header("Accept", "application/vnd.oci.image.manifest.v1+json")
                    .send()
                    .await;
                if let Ok(r) = r {
                    let _ = r.bytes().await;
                }
                lat.push(t.elapsed().as_secs_f64());
            }
            lat
        }));
    }
    let mut peak = 0.0f64;
    while Instant::now() < until {
        peak = peak.max(rss_kib(pid));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("load task"));
    }
    all.sort_by(f64::total_cmp);
    let p99 = all.get(all.len() * 99 / 100).copied().unwrap_or(0.0) * 1000.0;
    (all.len() as f64 / seconds as f64, p99, peak / 1024.0)
}

async fn referrers_latency(url: &str, count: usize) -> Option<(f64, f64)> {
    let http = reqwest::Client::new();
    let repo = "bench/referrers";
    let config = push_blob(&http, url, repo, b"{}".to_vec()).await;
    let small_subject = image_manifest(&config, None, 1);
    let big_subject = image_manifest(&config, None, 2);
    push_manifest(&http, url, repo, "small", &small_subject).await;
    push_manifest(&http, url, repo, "big", &big_subject).await;
    let small = (sha256(&small_subject), small_subject.len());
    let big = (sha256(&big_subject), big_subject.len());
    let probe = http.get(format!("{url}/v2/{repo}/referrers/{}", small.0)).send().await.ok()?;
    if !probe.status().is_success() {
        return None;
    }
    for n in 0..10 {
        let m = image_manifest(&config, Some(&small), n + 10);
        push_manifest(&http, url, repo, &sha256(&m), &m).await;
    }
    let mut tasks = Vec::new();
    for c in 0..8 {
        let (http, url, big, config) = (http.clone(), url.to_owned(), big.clone(), config.clone());
        tasks.push(tokio::spawn(async move {
            for n in (c..count).step_by(8) {
                let m = image_manifest(&config, Some(&big), n + 100);
                push_manifest(&http, &url, repo, &sha256(&m), &m).await;
            }
        }));
    }
    for t in tasks {
        t.await.ok()?;
    }
    let timed = |subject: String| {
        let (http, url) = (http.clone(), url.to_owned());
        async move {
            let start = Instant::now();
            for _ in 0..20 {
                let r = http.get(format!("{url}/v2/{repo}/referrers/{subject}")).send().await.ok()?;
                let _ = r.bytes().await.ok()?;
            }
            Some(start.elapsed().as_secs_f64() / 20.0 * 1000.0)
        }
    };
    let small_ms = timed(small.0.clone()).await?;
    let big_ms = timed(big.0.clone()).await?;
    Some((small_ms, big_ms))
}

async fn run(kind: &'static str, bin: &PathBuf, args: &Args) -> Results {
    let reg = start(kind, bin);
    let pid = reg.child.id();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut r = Results::new();
    r.insert("rss idle (MiB)", rss_kib(pid) / 1024.0);
    let blobs = ((64.0 * args.scale).ceil() as usize).max(1);
    let size = 16 * 1024 * 1024;
    let (push1, pull1) = transfer(&reg.url, "bench/one", blobs, size, 1, 1).await;
    let (push8, pull8) = transfer(&reg.url, "bench/eight", blobs, size, 8, 2).await;
    r.insert("push 1 client (MiB/s)", push1);
    r.insert("pull 1 client (MiB/s)", pull1);
    r.insert("push 8 clients (MiB/s)", push8);
    r.insert("pull 8 clients (MiB/s)", pull8);
    let (rps, p99, peak) = manifest_load(&reg.url, pid, args.seconds).await;
    r.insert("manifest GET (req/s, 64 conns)", rps);
    r.insert("manifest GET p99 (ms)", p99);
    r.insert("rss under load (MiB)", peak);
    let count = ((10_000.0 * args.scale).ceil() as usize).max(10);
    if let Some((small, big)) = referrers_latency(&reg.url, count).await {
        r.insert("referrers page, 10 refs (ms)", small);
        r.insert("referrers page, N refs (ms)", big);
    }
    r
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let mut columns: Vec<(&'static str, Results)> = Vec::new();
    columns.push(("nv2", run("nv2", &args.nv2, &args).await));
    if let Some(z) = &args.zot {
        columns.push(("zot", run("zot", z, &args).await));
    }
    if let Some(d) = &args.distribution {
        columns.push(("distribution", run("distribution", d, &args).await));
    }
    let rows: Vec<&'static str> = columns[0].1.keys().copied().collect();
    print!("| metric |");
    for (name, _) in &columns {
        print!(" {name} |");
    }
    for (name, _) in columns.iter().skip(1) {
        print!(" nv2/{name} |");
    }
    println!();
    println!("|---|{}", "---|".repeat(columns.len() * 2 - 1));
    for row in rows {
        print!("| {row} |");
        let ours = columns[0].1.get(row).copied();
        for (_, res) in &columns {
            match res.get(row) {
                Some(v) => print!(" {v:.2} |"),
                None => print!(" n/a |"),
            }
        }
        for (_, res) in columns.iter().skip(1) {
            match (ours, res.get(row)) {
                (Some(a), Some(b)) if *b > 0.0 => print!(" {:.2}× |", a / b),
                _ => print!(" n/a |"),
            }
        }
        println!();
    }
    println!("\n(referrers: N = {} on the big subject)", ((10_000.0 * args.scale).ceil() as usize).max(10));
}
