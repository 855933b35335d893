//! `nv2-bench admission`: what a verification costs in the admission server (issue 6 point 6).
//!
//! 1. In process, one real request (an image signed with `nv2`, its signature fetched from a real registry): the
//!    native pipeline (`nv2_core::verify::wire::verify_json`) against the policy module in wasmtime, per call with
//!    a fresh instance (what the server does) and with one instance reused (the module's own cost).
//! 2. Over loopback HTTPS against a real `nv2 admission serve`: `/gatekeeper/verify` latency for one key, warm
//!    (the verdict cached) and cold (a different signed image every request: tag resolution, referrers listing,
//!    signature manifest and envelope fetched, module call).
//!
//! Goals: wasmtime ≤ 2× native per call; warm p99 ≤ 2 ms; cold p99 ≤ 20 ms.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nv2_cli::admission::{ModuleLimits, PolicyModule};
use nv2_cli::registry::{ClientOptions, RegistryClient};
use nv2_core::oci::Reference;
use nv2_core::verify::wire::{PolicySpec, SignatureSpec, TargetSpec, TimeSpec, TrustStoreSpec, VerifyRequest};

/// Options of `nv2-bench admission`.
#[derive(clap::Parser, Debug)]
pub struct Args {
    /// The `nv2` binary (release build).
    #[arg(long)]
    pub nv2: PathBuf,
    /// The `nv2-registry` binary (release build).
    #[arg(long)]
    pub registry: PathBuf,
    /// The policy module (default: the server's own search, e.g. wasm/dist/nv2-policy.wasm).
    #[arg(long)]
    pub policy_module: Option<PathBuf>,
    /// In-process calls per variant.
    #[arg(long, default_value_t = 200)]
    pub calls: usize,
    /// Warm provider requests.
    #[arg(long, default_value_t = 2000)]
    pub warm: usize,
    /// Signed images for cold provider requests (one request each).
    #[arg(long, default_value_t = 100)]
    pub cold: usize,
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and waits for the stdout line starting with `prefix`; returns the rest of it.
fn start(mut command: Command, prefix: &'static str) -> (Killed, String) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("start server");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let mut reader = BufReader::new(stdout);
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(rest) = line.trim().strip_prefix(prefix) {
                let _ = tx.send(rest.to_string());
            }
            line.clear();
        }
    });
    let rest = rx.recv_timeout(Duration::from_secs(120)).expect("server reported its address");
    (Killed(child), rest)
}

fn run(command: &mut Command) -> String {
    let out = command.output().expect("run nv2");
    assert!(out.status.success(), "{command:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or(f64::NAN)
}

/// Mean, p50 and p99 of `samples` (milliseconds).
fn stats(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(|a, b| a.total_cmp(b));
    let mean = samples.iter().sum::<f64>() / samples.len().max(1) as f64;
    (mean, percentile(&samples, 0.5), percentile(&samples, 0.99))
}

fn time_calls(calls: usize, mut f: impl FnMut()) -> Vec<f64> {
    (0..calls)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect()
}

/// One instance reused for every call: the module's cost without instantiation.
fn reused_instance(module: &PolicyModule, request: &[u8], calls: usize) -> Vec<f64> {
    use wasmtime::{Instance, Store};
    let mut store: Store<()> = Store::new(module.module().engine(), ());
    store.set_epoch_deadline(u64::MAX / 2);
    let instance = Instance::new(&mut store, module.module(), &[]).expect("instantiate");
    let alloc = instance.get_typed_func::<u32, u32>(&mut store, "nv2_alloc").expect("nv2_alloc");
    let free = instance.get_typed_func::<(u32, u32), ()>(&mut store, "nv2_free").expect("nv2_free");
    let verify = instance.get_typed_func::<(u32, u32), u64>(&mut store, "nv2_verify").expect("nv2_verify");
    let memory = instance.get_memory(&mut store, "memory").expect("memory");
    let len = request.len() as u32;
    time_calls(calls, || {
        let ptr = alloc.call(&mut store, len).expect("alloc");
        memory.write(&mut store, ptr as usize, request).expect("write");
        let packed = verify.call(&mut store, (ptr, len)).expect("verify");
        free.call(&mut store, (ptr, len)).expect("free");
        free.call(&mut store, ((packed >> 32) as u32, packed as u32)).expect("free response");
    })
}

/// Runs the benchmark and prints the table.
pub async fn main(args: Args) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = |name: &str| dir.path().join(name);
    let nv2 = |config: &Path| {
        let mut command = Command::new(&args.nv2);
        command.arg("--config").arg(config).arg("--registry-config").arg(path("docker.json"));
        command
    };
    let (_registry, registry_url) = {
        let mut command = Command::new(&args.registry);
        command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(path("data"));
        start(command, "nv2-registry listening on ")
    };
    let host = registry_url.trim_start_matches("http://").to_string();
    let repository = format!("{host}/bench");
    let config = path("config");
    run(nv2(&config).args(["cert", "generate-test", "bench", "--default"]));
    eprintln!("nv2-bench admission: pushing and signing {} images", args.cold + 1);
    let mut digests = Vec::new();
    for i in 0..=args.cold {
        let file = path("layer.txt");
        std::fs::write(&file, format!("image {i}")).expect("write");
        let pushed = run(nv2(&config).args(["--output", "json", "push", &repository]).arg(&file));
        let value: serde_json::Value = serde_json::from_str(&pushed).expect("push output");
        let digest = value["descriptor"]["digest"].as_str().expect("digest").to_string();
        run(nv2(&config).args(["sign", &format!("{repository}@{digest}")]));
        run(nv2(&config).args(["tag", &format!("{repository}@{digest}"), &format!("v{i}")]));
        digests.push(digest);
    }
    let policy_dir = path("policy");
    let store_dir = policy_dir.join("truststore/x509/ca/bench");
    std::fs::create_dir_all(&store_dir).expect("mkdir");
    let root = std::fs::read_to_string(config.join("truststore/x509/ca/bench/bench.crt")).expect("root");
    std::fs::write(store_dir.join("bench.crt"), &root).expect("write root");
    let policy = r#"{"version":"1.0","trustPolicies":[{"name":"bench","registryScopes":["*"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:bench"],"trustedIdentities":["*"]}]}"#;
    std::fs::write(policy_dir.join("trustpolicy.oci.json"), policy).expect("write policy");

    // 1. In process: one real request.
    let client = RegistryClient::new(ClientOptions::default()).expect("client");
    let reference = Reference::parse(&format!("{repository}@{}", digests[0])).expect("reference");
    let repo = client.repository(&reference);
    let descriptor =
        nv2_cli::content::ContentStore::resolve(&repo, &reference.manifest_reference()).await.expect("resolve");
    let (found, _) = nv2_cli::verify::find_signatures(&repo, &descriptor, 101).await.expect("signatures");
    let request = VerifyRequest {
        version: 1,
        target: TargetSpec::Manifest {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.to_string(),
            size: descriptor.size,
        },
        signatures: found.iter().map(|s| SignatureSpec::of(Some(&s.manifest), &s.envelope, s.format)).collect(),
        policy: PolicySpec {
            document: Some(serde_json::Value::String(policy.to_string())),
            reference: Some(reference.to_string()),
            ..PolicySpec::default()
        },
        trust_stores: vec![TrustStoreSpec { kind: "ca".into(), name: "bench".into(), certificates: vec![root] }],
        now: TimeSpec::of(nv2_cli::clock::now()),
        user_metadata: Default::default(),
        max_signatures: None,
        crls: Default::default(),
        check_tsa_revocation: false,
    }
    .to_json();
    let native_answer = nv2_core::verify::wire::verify_json(&request);
    assert!(String::from_utf8_lossy(&native_answer).contains("\"accepted\":true"), "the bench image must verify");
    let module_path = PolicyModule::locate(args.policy_module.as_deref()).expect("policy module");
    let t = Instant::now();
    let module = PolicyModule::load(&module_path, ModuleLimits::default()).expect("load module");
    let compile_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(module.verify(&request).expect("module call"), native_answer, "module and native agree");
    let native = stats(time_calls(args.calls, || {
        std::hint::black_box(nv2_core::verify::wire::verify_json(&request));
    }));
    let fresh = stats(time_calls(args.calls, || {
        std::hint::black_box(module.verify(&request).expect("module call"));
    }));
    let reused = stats(reused_instance(&module, &request, args.calls));

    // 2. The server over loopback HTTPS.
    let tls = |name: &str| path(name).to_str().expect("utf-8 path").to_string();
    let openssl = |a: &[&str]| run(Command::new("openssl").args(a));
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=bench",
        "-keyout",
        &tls("tls.key"),
        "-out",
        &tls("tls.crt"),
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]);
    let (_server, url) = {
        let mut command = nv2(&config);
        command
            .args(["admission", "serve", "--listen", "127.0.0.1:0", "--cache-ttl", "1h"])
            .args(["--tls-cert", &tls("tls.crt"), "--tls-key", &tls("tls.key")])
            .arg("--policy-dir")
            .arg(&policy_dir)
            .arg("--policy-module")
            .arg(&module_path);
        start(command, "nv2 admission listening on ")
    };
    let ca = reqwest::Certificate::from_pem(&std::fs::read(path("tls.crt")).expect("cert")).expect("pem");
    let http = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(ca)
        .build()
        .expect("client");
    let ask = |key: String| {
        let body = format!(
            r#"{{"apiVersion":"externaldata.gatekeeper.sh/v1beta1","kind":"ProviderRequest","request":{{"keys":["{key}"]}}}}"#
        );
        let (http, url) = (http.clone(), format!("{url}/gatekeeper/verify"));
        async move {
            let t = Instant::now();
            let text = http.post(url).body(body).send().await.expect("request").text().await.expect("body");
            assert!(text.contains("\"verified\":true"), "{text}");
            t.elapsed().as_secs_f64() * 1000.0
        }
    };
    let mut cold = Vec::new();
    for i in 1..=args.cold {
        cold.push(ask(format!("{repository}:v{i}")).await);
    }
    let warm_key = format!("{repository}:v0");
    ask(warm_key.clone()).await;
    let mut warm = Vec::new();
    for _ in 0..args.warm {
        warm.push(ask(warm_key.clone()).await);
    }
    let (cold, warm) = (stats(cold), stats(warm));

    let mut t = String::new();
    t += &format!(
        "# nv2-bench admission, {}\n\nOne ES256-signed image (request {} bytes); {} calls per in-process variant, {} warm \
         and {} cold provider requests (sequential, one key each, HTTP/2 over TLS 1.3 on loopback). Module compile \
         (load): {compile_ms:.0} ms.\n\n",
        crate::shell("date", &["-u", "+%F %T UTC"]),
        request.len(),
        args.calls,
        args.warm,
        args.cold,
    );
    t += "| measurement | mean (ms) | p50 (ms) | p99 (ms) | goal |\n|---|---:|---:|---:|---|\n";
    let row = |t: &mut String, name: &str, (mean, p50, p99): (f64, f64, f64), goal: &str| {
        *t += &format!("| {name} | {mean:.3} | {p50:.3} | {p99:.3} | {goal} |\n");
    };
    row(&mut t, "native verify_json", native, "");
    row(&mut t, "wasmtime, fresh instance per call", fresh, &format!("≤ 2× native: {:.2}×", fresh.0 / native.0));
    row(&mut t, "wasmtime, one instance reused", reused, &format!("{:.2}× native", reused.0 / native.0));
    row(&mut t, "provider request, warm (cached)", warm, "p99 ≤ 2 ms");
    row(&mut t, "provider request, cold (registry round trips)", cold, "p99 ≤ 20 ms");
    print!("{t}");
}
