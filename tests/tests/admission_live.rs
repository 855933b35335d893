//! The Gatekeeper ConstraintTemplate of `deploy/gatekeeper/template.yaml`, evaluated in-process with regorus, its
//! `external_data` call answered LIVE by a running `nv2 admission serve` over HTTPS, as Gatekeeper would call it:
//!
//! - a real `nv2-registry` process on 127.0.0.1 holds an image signed by a trusted signer, one signed by an
//!   untrusted signer and an unsigned one, all pushed and signed with the `nv2` binary;
//! - the server's TLS certificate comes from the project's own `deploy/tls/make-certificates.sh`, and requests go
//!   to the URL of the `Provider` manifests (`https://nv2-admission.nv2-system:8443/...`), that name mapped to the
//!   server's loopback port, trusting only the CA that script made (curl, as an HTTPS client outside nv2);
//! - the template decides from those answers: the signed Pod is admitted after one call listing all its images,
//!   the others are refused naming each image and the provider's reason, and a registry that went away refuses
//!   what it can no longer verify;
//! - `/gatekeeper/mutate` (the mutation Provider's URL) answers the tag with `repo@digest` of the verified image.
//!
//! It uses the workspace's `nv2` and `nv2-registry` binaries, which `cargo test --workspace` builds beside this
//! test, and the policy module `wasm/dist/nv2-policy.wasm` (`bash wasm/build.sh`; `.ci/test` runs it first).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use nv2_e2e::gatekeeper::{ConstraintTemplate, ExternalDataAnswer, ExternalDataRequest, Review};
use nv2_e2e::manifests::{deploy_dir, read_single_document, repository_root};
use serde_json::{json, Value};

/// The DNS name the Provider manifests call, and their port.
const PROVIDER_HOST: &str = "nv2-admission.nv2-system";
const PROVIDER_PORT: u16 = 8443;

/// A binary of this workspace, built by `cargo test --workspace` in this test's profile directory.
fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/<test>");
    let path = profile_dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is not built: run the tests with `cargo test --workspace`, or `cargo build -p nv2-cli -p nv2-registry` first",
        path.display()
    );
    path
}

/// A child process killed when dropped.
struct Running {
    child: Child,
    /// What followed `announce` on the line the process printed when it was ready (its URL).
    url: String,
}

impl Running {
    /// Starts `command` and waits for a stdout line starting with `announce`.
    fn start(mut command: Command, announce: &'static str) -> Running {
        let mut child = command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("spawn");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(url) = line.trim().strip_prefix(announce) {
                    let _ = tx.send(url.to_string());
                }
                line.clear();
            }
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => Running { child, url },
            Err(_) => {
                let _ = child.kill();
                panic!("{command:?} did not print {announce:?}: {:?}", child.wait());
            }
        }
    }

    /// The port of the `scheme://127.0.0.1:PORT` URL it announced.
    fn port(&self) -> u16 {
        self.url.rsplit(':').next().and_then(|p| p.trim_end_matches('/').parse().ok()).expect("a port")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One signer's nv2 configuration directory.
struct Persona {
    dir: tempfile::TempDir,
}

impl Persona {
    fn new(name: &str) -> Persona {
        let persona = Persona { dir: tempfile::tempdir().unwrap() };
        persona.nv2(&["cert", "generate-test", name, "--default"]);
        persona
    }

    fn nv2(&self, args: &[&str]) -> Value {
        let out = Command::new(workspace_binary("nv2"))
            .arg("--config")
            .arg(self.dir.path().join("config"))
            .arg("--registry-config")
            .arg(self.dir.path().join("docker-config.json"))
            .args(["--output", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "nv2 {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Pushes a one-file image by digest, signs it unless `signed` is false, tags it; returns the digest.
    fn image(&self, repository: &str, tag: &str, signed: bool) -> String {
        let file = self.dir.path().join(format!("{tag}.txt"));
        std::fs::write(&file, format!("the {tag} image\n")).unwrap();
        let pushed = self.nv2(&["push", repository, file.to_str().unwrap()]);
        let digest = pushed["descriptor"]["digest"].as_str().expect("pushed digest").to_string();
        if signed {
            self.nv2(&["sign", &format!("{repository}@{digest}")]);
        }
        self.nv2(&["tag", &format!("{repository}@{digest}"), tag]);
        digest
    }

    fn certificate(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("config/truststore/x509/ca/{name}/{name}.crt"))
    }
}

/// `spec.url` of a Provider manifest under deploy/gatekeeper.
fn provider_url(file: &str) -> String {
    let provider = read_single_document(&deploy_dir().join("gatekeeper").join(file)).unwrap();
    assert_eq!(provider["kind"], "Provider");
    let url = provider["spec"]["url"].as_str().expect("spec.url").to_string();
    assert!(url.starts_with(&format!("https://{PROVIDER_HOST}:{PROVIDER_PORT}/")), "{url}");
    url
}

/// POSTs `body` to `url` as Gatekeeper does, trusting only `ca`, with the Provider's host name sent to the
/// server's loopback `port`. Returns the HTTP status and the parsed body, or why the request failed.
fn post(url: &str, ca: &Path, port: u16, body: &Value) -> Result<(u16, Value), String> {
    let mut curl = Command::new("curl")
        .args(["--silent", "--show-error", "--max-time", "30", "--tlsv1.3", "--cacert"])
        .arg(ca)
        .arg("--connect-to")
        .arg(format!("{PROVIDER_HOST}:{PROVIDER_PORT}:127.0.0.1:{port}"))
        .args(["-H", "Content-Type: application/json", "--data-binary", "@-", "--write-out", "\n%{http_code}", url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("curl: {e}"))?;
    curl.stdin.take().expect("stdin").write_all(body.to_string().as_bytes()).map_err(|e| e.to_string())?;
    let out = curl.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let (body, status) = text.rsplit_once('\n').ok_or("no status line")?;
    let status: u16 = status.trim().parse().map_err(|_| format!("status {status:?}"))?;
    Ok((status, serde_json::from_str(body).map_err(|e| format!("{e}: {body}"))?))
}

/// The provider Gatekeeper would call for `external_data`: the live server behind the Provider's URL.
fn live_provider(url: String, ca: PathBuf, port: u16) -> impl FnMut(&ExternalDataRequest) -> ExternalDataAnswer + Send {
    move |request| match post(&url, &ca, port, &request.provider_request_body()) {
        Ok((status, body)) => ExternalDataAnswer::from_provider_response(status, &body)
            .unwrap_or_else(|e| panic!("the provider's answer is outside Gatekeeper's protocol: {e}: {body}")),
        Err(reason) => ExternalDataAnswer::unreachable(0, &reason),
    }
}

fn pod(images: &[&str]) -> Review {
    let (init, containers) = images.split_first().expect("an image");
    let containers: Vec<Value> =
        containers.iter().enumerate().map(|(i, image)| json!({"name": format!("c{i}"), "image": image})).collect();
    Review::from_admission_review(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "7d0c3a52-9b1e-4c7a-8f3d-5e2a1b6c9d04",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web", "namespace": "apps", "operation": "CREATE", "userInfo": {"username": "alice"},
            "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "apps"},
                       "spec": {"initContainers": [{"name": "init", "image": init}], "containers": containers}},
            "oldObject": null
        }
    }))
    .unwrap()
}

#[test]
fn the_template_decides_from_live_provider_answers() {
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("registry.toml"), "").unwrap();
    let mut registry_command = Command::new(workspace_binary("nv2-registry"));
    registry_command
        .arg("serve")
        .arg("--config")
        .arg(work.path().join("registry.toml"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(work.path().join("registry-data"))
        .env_remove("NV2_REGISTRY_CONFIG");
    let registry = Running::start(registry_command, "nv2-registry listening on ");
    let repository = format!("127.0.0.1:{}/shop/web", registry.port());

    let good = Persona::new("good");
    let mallory = Persona::new("mallory");
    let signed = good.image(&repository, "signed", true);
    good.image(&repository, "unsigned", false);
    mallory.image(&repository, "mallory", true);
    let later = good.image(&repository, "later", true);

    // The policy directory trusts only the good signer's CA.
    let policy_dir = work.path().join("policy");
    std::fs::create_dir_all(policy_dir.join("truststore/x509/ca/good")).unwrap();
    std::fs::copy(good.certificate("good"), policy_dir.join("truststore/x509/ca/good/good.crt")).unwrap();
    let policy = json!({"version": "1.0", "trustPolicies": [{
        "name": "signed-images", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:good"], "trustedIdentities": ["*"]}]});
    std::fs::write(policy_dir.join("trustpolicy.oci.json"), policy.to_string()).unwrap();

    // TLS exactly as deploy/README.md makes it.
    let tls = work.path().join("tls");
    let made = Command::new("bash").arg(deploy_dir().join("tls/make-certificates.sh")).arg(&tls).output().unwrap();
    assert!(made.status.success(), "make-certificates.sh: {}", String::from_utf8_lossy(&made.stderr));

    let module = repository_root().join("wasm/dist/nv2-policy.wasm");
    assert!(module.is_file(), "{} is missing: run `bash wasm/build.sh`", module.display());
    let mut server_command = Command::new(workspace_binary("nv2"));
    server_command
        .args(["admission", "serve", "--listen", "127.0.0.1:0", "--deadline", "5s", "--tls-cert"])
        .arg(tls.join("tls.crt"))
        .arg("--tls-key")
        .arg(tls.join("tls.key"))
        .arg("--policy-dir")
        .arg(&policy_dir)
        .arg("--policy-module")
        .arg(&module)
        .arg("--registry-config")
        .arg(work.path().join("no-docker-config.json"));
    let server = Running::start(server_command, "nv2 admission listening on ");
    let (ca, port) = (tls.join("ca.crt"), server.port());

    let template = ConstraintTemplate::from_file(&deploy_dir().join("gatekeeper/template.yaml")).unwrap();
    let parameters = json!({"exemptImages": []});
    let verify_url = provider_url("provider-verify.yaml");
    let evaluate = |images: &[&str]| {
        template.evaluate(&pod(images), &parameters, live_provider(verify_url.clone(), ca.clone(), port)).unwrap()
    };
    let (signed_tag, unsigned_tag, mallory_tag) =
        (format!("{repository}:signed"), format!("{repository}:unsigned"), format!("{repository}:mallory"));
    let signed_pinned = format!("{repository}@{signed}");

    // Signed, by tag and by digest: admitted, after one call that names every image of the Pod.
    let admitted = evaluate(&[&signed_pinned, &signed_tag]);
    assert!(admitted.admitted(), "{:?}", admitted.violations);
    assert_eq!(admitted.external_data_calls.len(), 1, "{:?}", admitted.external_data_calls);
    let asked: BTreeSet<&String> = admitted.external_data_calls[0].keys.iter().collect();
    assert_eq!(asked, BTreeSet::from([&signed_pinned, &signed_tag]));

    // Unsigned and wrongly signed: refused, each named with the provider's reason; the signed one is not named.
    let refused = evaluate(&[&signed_tag, &unsigned_tag, &mallory_tag]);
    assert_eq!(refused.external_data_calls.len(), 1);
    let messages: Vec<&str> = refused.violations.iter().map(|v| v.msg.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    let about = |image: &str| messages.iter().find(|m| m.contains(image)).copied().unwrap_or_default();
    assert!(about(&unsigned_tag).contains("no signature"), "{messages:?}");
    assert!(!about(&mallory_tag).is_empty(), "{messages:?}");
    assert!(
        !messages.iter().any(|m| m.contains(&format!("{signed_tag} ")) || m.ends_with(&signed_tag)),
        "{messages:?}"
    );

    // The mutation Provider pins the tag to the verified digest.
    let mutate_url = provider_url("provider-mutate.yaml");
    let request = ExternalDataRequest { provider: "nv2-mutate".into(), keys: vec![signed_tag.clone()] };
    let (status, body) = post(&mutate_url, &ca, port, &request.provider_request_body()).unwrap();
    assert_eq!(status, 200, "{body}");
    let answer = ExternalDataAnswer::from_provider_response(status, &body).unwrap();
    assert_eq!(answer.responses, vec![(signed_tag.clone(), Value::String(signed_pinned.clone()))], "{body}");

    // The registry goes away: an image verified before stays admitted from the verdict cache, one never verified
    // is refused with the reason (fail closed), within the provider's deadline.
    drop(registry);
    let later_pinned = format!("{repository}@{later}");
    let started = std::time::Instant::now();
    let down = evaluate(&[&signed_pinned, &later_pinned]);
    assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
    let messages: Vec<&str> = down.violations.iter().map(|v| v.msg.as_str()).collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains(&later_pinned), "{messages:?}");

    // The server itself gone: Gatekeeper's transport error refuses everything.
    drop(server);
    let unreachable = evaluate(&[&signed_pinned]);
    assert!(!unreachable.admitted(), "an unreachable provider must not admit");
}
