//! What the admission tests share: a signed world (a real `nv2-registry`, images pushed and signed with the `nv2`
//! binary by a trusted and an untrusted signer, one unsigned), TLS certificates made with openssl, the policy
//! module, and a running `nv2 admission serve` reached over HTTPS with reqwest trusting the test CA.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::TestRegistry;

/// The `nv2` binary under test.
pub const NV2: &str = env!("CARGO_BIN_EXE_nv2");

/// The policy module: `$NV2_POLICY_MODULE`, else `wasm/dist/nv2-policy.wasm` of this checkout, else built with
/// cargo (`cargo build-policy-module`, as `wasm/build.sh` builds it) when the policy crate is in the workspace.
pub fn policy_module() -> PathBuf {
    if let Some(path) = std::env::var_os("NV2_POLICY_MODULE").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dist = root.join("wasm/dist/nv2-policy.wasm");
    if dist.is_file() {
        return dist;
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    let built = target.join("wasm32-unknown-unknown/wasm-speed/nv2_policy_wasm.wasm");
    if root.join("wasm/policy/Cargo.toml").is_file() {
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build-policy-module", "--locked"])
            .current_dir(&root)
            .status()
            .expect("run cargo");
        assert!(status.success(), "building the policy module failed");
    }
    assert!(built.is_file(), "no policy module: set NV2_POLICY_MODULE or run `bash wasm/build.sh`");
    built
}

/// One persona's nv2 configuration (keys, trust stores) and docker config.
pub struct Persona {
    pub dir: tempfile::TempDir,
}

impl Persona {
    pub fn new() -> Self {
        Persona { dir: tempfile::tempdir().unwrap() }
    }

    pub fn ok(&self, args: &[&str]) -> Value {
        let out = Command::new(NV2)
            .arg("--config")
            .arg(self.dir.path().join("config"))
            .arg("--registry-config")
            .arg(self.dir.path().join("docker-config.json"))
            .args(["--output", "json"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "nv2 {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    /// Pushes a one-file artifact with `content` and returns its digest.
    pub fn push(&self, repository: &str, content: &str) -> String {
        let file = self.dir.path().join(format!("{}.txt", content.len()));
        std::fs::write(&file, content).unwrap();
        self.ok(&["push", repository, file.to_str().unwrap()])["descriptor"]["digest"].as_str().unwrap().to_string()
    }
}

/// TLS material made with openssl: a CA, a server certificate for 127.0.0.1/localhost, a client certificate.
pub struct Tls {
    pub dir: tempfile::TempDir,
}

impl Tls {
    pub fn make() -> Tls {
        let dir = tempfile::tempdir().unwrap();
        let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=nv2 admission test CA",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.crt"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        for (name, usage, san) in [
            ("server", "serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
            ("client", "clientAuth", "subjectAltName=DNS:gatekeeper-webhook-service.gatekeeper-system.svc"),
        ] {
            openssl(&[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                &format!("/CN={name}"),
                "-keyout",
                &p(&format!("{name}.key")),
                "-out",
                &p(&format!("{name}.csr")),
            ]);
            let ext = p(&format!("{name}.ext"));
            std::fs::write(&ext, format!("{san}\nextendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n")).unwrap();
            openssl(&[
                "x509",
                "-req",
                "-in",
                &p(&format!("{name}.csr")),
                "-CA",
                &p("ca.crt"),
                "-CAkey",
                &p("ca.key"),
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                &ext,
                "-out",
                &p(&format!("{name}.crt")),
            ]);
        }
        Tls { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// An HTTPS client trusting only the test CA, presenting the client certificate when `with_identity`.
    pub fn client(&self, with_identity: bool) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(&std::fs::read(self.path("ca.crt")).unwrap()).unwrap();
        let mut builder = reqwest::Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .add_root_certificate(ca)
            .timeout(Duration::from_secs(60));
        if with_identity {
            let mut pem = std::fs::read(self.path("client.crt")).unwrap();
            pem.extend(std::fs::read(self.path("client.key")).unwrap());
            builder = builder.identity(reqwest::Identity::from_pem(&pem).unwrap());
        }
        builder.build().unwrap()
    }
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The registry, the signed and unsigned images, and a policy directory trusting only the "good" signer.
pub struct World {
    pub registry: TestRegistry,
    pub good: Persona,
    pub mallory: Persona,
    pub policy_dir: tempfile::TempDir,
    /// `127.0.0.1:PORT/app`.
    pub repository: String,
    /// Digest of the image signed by the trusted signer, tagged `signed`.
    pub signed: String,
    /// Digest of the unsigned image, tagged `unsigned`.
    pub unsigned: String,
    /// Digest of the image signed by the untrusted signer, tagged `mallory`.
    pub wrong_signer: String,
}

impl World {
    pub fn build() -> World {
        let registry = TestRegistry::start("");
        let repository = format!("{}/app", registry.host_port);
        let good = Persona::new();
        good.ok(&["cert", "generate-test", "good", "--default"]);
        let mallory = Persona::new();
        mallory.ok(&["cert", "generate-test", "mallory", "--default"]);
        let signed = good.push(&repository, "signed image");
        good.ok(&["sign", &format!("{repository}@{signed}")]);
        good.ok(&["tag", &format!("{repository}@{signed}"), "signed"]);
        let unsigned = good.push(&repository, "unsigned image, longer");
        good.ok(&["tag", &format!("{repository}@{unsigned}"), "unsigned"]);
        let wrong_signer = mallory.push(&repository, "image signed by mallory, longest");
        mallory.ok(&["sign", &format!("{repository}@{wrong_signer}")]);
        mallory.ok(&["tag", &format!("{repository}@{wrong_signer}"), "mallory"]);

        let policy_dir = tempfile::tempdir().unwrap();
        let store = policy_dir.path().join("truststore/x509/ca/good");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::copy(good.dir.path().join("config/truststore/x509/ca/good/good.crt"), store.join("good.crt")).unwrap();
        let policy = json!({"version": "1.0", "trustPolicies": [{
            "name": "signed-images", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:good"], "trustedIdentities": ["*"]}]});
        std::fs::write(policy_dir.path().join("trustpolicy.oci.json"), policy.to_string()).unwrap();
        World { registry, good, mallory, policy_dir, repository, signed, unsigned, wrong_signer }
    }
}

/// A running `nv2 admission serve`, killed on drop.
pub struct Server {
    child: Child,
    /// `https://127.0.0.1:PORT`.
    pub url: String,
}

impl Server {
    pub fn start(policy_dir: &Path, tls: &Tls, client_ca: bool, extra: &[&str]) -> Server {
        let mut command = Command::new(NV2);
        command
            .args(["admission", "serve", "--listen", "127.0.0.1:0"])
            .arg("--tls-cert")
            .arg(tls.path("server.crt"))
            .arg("--tls-key")
            .arg(tls.path("server.key"))
            .arg("--policy-dir")
            .arg(policy_dir)
            .arg("--policy-module")
            .arg(policy_module())
            .arg("--registry-config")
            .arg(policy_dir.join("no-docker-config.json"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if client_ca {
            command.arg("--client-ca").arg(tls.path("ca.crt"));
        }
        let mut child = command.spawn().expect("start nv2 admission serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(url) = line.trim().strip_prefix("nv2 admission listening on ") {
                    let _ = tx.send(url.to_string());
                }
                line.clear();
            }
        });
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(url) => Server { child, url },
            Err(_) => {
                let _ = child.kill();
                panic!("nv2 admission serve did not report its address: {:?}", child.wait());
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An AdmissionReview as the API server sends it for `kubectl run` (a Pod CREATE).
pub fn pod_review(uid: &str, images: &[&str]) -> Value {
    let containers: Vec<Value> = images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            json!({"name": format!("c{i}"), "image": image, "resources": {},
            "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"})
        })
        .collect();
    review(
        uid,
        "CREATE",
        json!({"group": "", "version": "v1", "kind": "Pod"}),
        "pods",
        json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "web", "namespace": "default", "labels": {"run": "web"},
                "creationTimestamp": null},
            "spec": {"containers": containers, "restartPolicy": "Always", "terminationGracePeriodSeconds": 30,
                "dnsPolicy": "ClusterFirst", "serviceAccountName": "default", "securityContext": {},
                "schedulerName": "default-scheduler", "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority"},
            "status": {}
        }),
        Value::Null,
    )
}

/// A review of `operation` on `object` of `kind` (GroupVersionKind) and `resource`.
pub fn review(uid: &str, operation: &str, kind: Value, resource: &str, object: Value, old_object: Value) -> Value {
    let group = kind["group"].clone();
    let version = kind["version"].clone();
    json!({
        "kind": "AdmissionReview",
        "apiVersion": "admission.k8s.io/v1",
        "request": {
            "uid": uid,
            "kind": kind,
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": kind,
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object["metadata"]["name"],
            "namespace": "default",
            "operation": operation,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
            "object": object,
            "oldObject": old_object,
            "dryRun": false,
            "options": {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": "kubectl-run"}
        }
    })
}

/// A Gatekeeper ProviderRequest for `keys`.
pub fn provider_request(keys: &[&str]) -> Value {
    json!({"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest", "request": {"keys": keys}})
}

/// POSTs `body` as JSON and returns the status and the body as JSON (or as a string when it is not JSON).
pub async fn post(client: &reqwest::Client, url: &str, body: &Value) -> (u16, Value) {
    let response =
        client.post(url).header("content-type", "application/json").body(body.to_string()).send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
