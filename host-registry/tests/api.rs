//! HTTP-level behaviour of the real binary: referrers index (paging, filters, restart, deletes, orphan policy),
//! prototype-2 and ORAS endpoints, the 416/413/400 rules and hostile input.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY: &str = "application/vnd.oci.empty.v1+json";

fn sha256(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

struct Client {
    http: reqwest::Client,
    url: String,
}

impl Client {
    fn new(server: &support::Server) -> Self {
        Client { http: reqwest::Client::new(), url: server.url.clone() }
    }

    async fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        let r = self
            .http
            .post(format!("{}/v2/{repo}/blobs/uploads/?digest={digest}", self.url))
            .body(data.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        digest
    }

    async fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) -> reqwest::Response {
        self.http
            .put(format!("{}/v2/{repo}/manifests/{reference}", self.url))
            .header("Content-Type", media_type)
            .body(body.to_vec())
            .send()
            .await
            .unwrap()
    }

    /// Pushes an artifact manifest with `artifactType` that refers to `subject`; returns its digest.
    async fn push_referrer(&self, repo: &str, subject: &Value, artifact_type: &str, note: &str) -> String {
        self.push_blob(repo, b"{}").await;
        let m = json!({
            "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type,
            "config": {"mediaType": EMPTY, "digest": sha256(b"{}"), "size": 2},
            "layers": [{"mediaType": EMPTY, "digest": sha256(b"{}"), "size": 2}],
            "subject": subject, "annotations": {"note": note}
        });
        let body = serde_json::to_vec(&m).unwrap();
        let digest = sha256(&body);
        let r = self.put_manifest(repo, &digest, MANIFEST, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert_eq!(r.headers()["OCI-Subject"], subject["digest"].as_str().unwrap());
        digest
    }

    async fn push_image(&self, repo: &str, tag: &str) -> (Value, Vec<u8>) {
        let config = self.push_blob(repo, b"{\"architecture\":\"amd64\"}").await;
        let layer = self.push_blob(repo, b"layer-bytes").await;
        let m = json!({
            "schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 24},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer, "size": 11}]
        });
        let body = serde_json::to_vec_pretty(&m).unwrap();
        let r = self.put_manifest(repo, tag, MANIFEST, &body).await;
        assert_eq!(r.status(), StatusCode::CREATED);
        assert!(r.headers().get("OCI-Subject").is_none());
        (json!({"mediaType": MANIFEST, "digest": sha256(&body), "size": body.len()}), body)
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).send().await.unwrap()
    }
}

async fn json_of(r: reqwest::Response) -> Value {
    serde_json::from_slice(&r.bytes().await.unwrap()).unwrap()
}

#[tokio::test]
async fn manifests_are_served_byte_exact_with_their_media_type() {
    let server = support::Server::start(&[]);
    let c = Client::new(&server);
    let (desc, body) = c.push_image("lib/app", "v1").await;
    for reference in ["v1", desc["digest"].as_str().unwrap()] {
        let r = c.get(&format!("/v2/lib/app/manifests/{reference}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["Content-Type"], MANIFEST);
        assert_eq!(r.headers()["Docker-Content-Digest"], desc["digest"].as_str().unwrap());
        assert_eq!(r.bytes().await.unwrap().as_ref(), body.as_slice());
    }
    let r = c.get("/v2/lib/app/tags/list").await;
    assert_eq!(json_of(r).await, json!({"name": "lib/app", "tags": ["v1"]}));
}

#[tokio::test]
async fn referrers_are_indexed_paged_filtered_and_survive_restart() {
    let server = support::Server::start(&["--referrers-page-size", "2"]);
    let c = Client::new(&server);
    let (subject, _) = c.push_image("r/x", "v1").await;
    let sd = subject["digest"].as_str().unwrap().to_owned();
    let mut pushed = Vec::new();
    for i in 0..5 {
        let t = if i % 2 == 0 { "application/vnd.example.sig" } else { "application/vnd.example.sbom" };
        pushed.push(c.push_referrer("r/x", &subject, t, &format!("n{i}")).await);
    }
    // Walk the Link chain.
    let mut seen = Vec::new();
    let mut path = format!("/v2/r/x/referrers/{sd}");
    loop {
        let r = c.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["Content-Type"], INDEX);
        let link = r.headers().get("Link").map(|l| l.to_str().unwrap().to_owned());
        let body = json_of(r).await;
        let entries = body["manifests"].as_array().unwrap();
        assert!(entries.len() <= 2);
        for e in entries {
            assert!(e["annotations"]["note"].is_string());
            assert!(e["artifactType"].is_string());
            seen.push(e["digest"].as_str().unwrap().to_owned());
        }
        match link {
            Some(l) => path = l.trim_start_matches('<').split('>').next().unwrap().to_owned(),
            None => break,
        }
    }
    seen.sort();
    pushed.sort();
    assert_eq!(seen, pushed);

    let r = c.get(&format!("/v2/r/x/referrers/{sd}?artifactType=application/vnd.example.sbom")).await;
    assert_eq!(r.headers()["OCI-Filters-Applied"], "artifactType");
    assert_eq!(json_of(r).await["manifests"].as_array().unwrap().len(), 2);

    // Unknown subject and unknown repository: 200 with an empty index. Malformed digest: 400.
    let unknown = sha256(b"nothing");
    for path in [format!("/v2/r/x/referrers/{unknown}"), format!("/v2/no/such/referrers/{unknown}")] {
        let r = c.get(&path).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(json_of(r).await["manifests"], json!([]));
    }
    assert_eq!(c.get("/v2/r/x/referrers/sha256:nope").await.status(), StatusCode::BAD_REQUEST);

    // Restart over the same data: the index is rebuilt.
    let data = server.data.clone();
    let keep = server.stop();
    let server = support::Server::start_on(&data, &["--referrers-page-size", "100"]);
    let c = Client::new(&server);
    let r = c.get(&format!("/v2/r/x/referrers/{sd}")).await;
    assert_eq!(json_of(r).await["manifests"].as_array().unwrap().len(), 5);

    // Deleting a referrer removes it from the index.
    let r = c.http.delete(format!("{}/v2/r/x/manifests/{}", c.url, pushed[0])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let r = c.get(&format!("/v2/r/x/referrers/{sd}")).await;
    assert_eq!(json_of(r).await["manifests"].as_array().unwrap().len(), 4);
    drop(keep);
}

#[tokio::test]
async fn orphan_policy_delete_removes_referrers_recursively() {
    let server = support::Server::start(&["--orphan-policy", "delete"]);
    let c = Client::new(&server);
    let (subject, _) = c.push_image("o/x", "v1").await;
    let sig = c.push_referrer("o/x", &subject, "application/vnd.example.sig", "s").await;
    let sig_desc = json!({"mediaType": MANIFEST, "digest": sig, "size": 1});
    let countersig = c.push_referrer("o/x", &sig_desc, "application/vnd.example.sig", "c").await;
    let sd = subject["digest"].as_str().unwrap();
    let r = c.http.delete(format!("{}/v2/o/x/manifests/{sd}", c.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    for d in [sd, sig.as_str(), countersig.as_str()] {
        assert_eq!(c.get(&format!("/v2/o/x/manifests/{d}")).await.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(c.get("/v2/o/x/manifests/v1").await.status(), StatusCode::NOT_FOUND);
    let r = c.get(&format!("/v2/o/x/referrers/{sd}")).await;
    assert_eq!(json_of(r).await["manifests"], json!([]));
}

#[tokio::test]
async fn prototype2_and_oras_endpoints_answer_from_the_same_index() {
    let server = support::Server::start(&[]);
    let c = Client::new(&server);
    let (subject, _) = c.push_image("p/x", "v1").await;
    let sd = subject["digest"].as_str().unwrap();
    let blob = c.push_blob("p/x", b"signature").await;
    // prototype-2 artifact manifest with a plural `manifests` link.
    let p2 = json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.artifact.manifest.v1+json",
        "artifactType": "application/vnd.cncf.notary.v2",
        "blobs": [{"mediaType": "application/tar", "digest": blob, "size": 9}],
        "manifests": [subject]
    });
    let body = serde_json::to_vec(&p2).unwrap();
    let r = c.put_manifest("p/x", &sha256(&body), "application/vnd.oci.artifact.manifest.v1+json", &body).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    // ORAS 2021 artifact manifest.
    let oras = json!({
        "mediaType": "application/vnd.cncf.oras.artifact.manifest.v1+json",
        "artifactType": "sbom/example", "blobs": [], "subject": subject
    });
    let obody = serde_json::to_vec(&oras).unwrap();
    let r = c.put_manifest("p/x", "sbom", "application/vnd.cncf.oras.artifact.manifest.v1+json", &obody).await;
    assert_eq!(r.status(), StatusCode::CREATED);

    let r = c
        .get("/v2/_ext/oci-artifacts/v1/p/x/manifests/v1/references?artifact-type=application/vnd.cncf.notary.v2")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let v = json_of(r).await;
    assert_eq!(v["tag"], "v1");
    let refs = v["references"].as_array().unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0]["digest"], sha256(&body));
    assert_eq!(refs[0]["manifest"], p2);

    let r = c.get(&format!("/oras/artifacts/v1/p/x/manifests/{sd}/referrers")).await;
    let v = json_of(r).await;
    let refs = v["references"].as_array().unwrap();
    assert_eq!(refs.len(), 2);
    assert!(refs.iter().any(|r| r["artifactType"] == "sbom/example" && r["digest"] == sha256(&obody)));
    let r = c.get(&format!("/v2/p/x/referrers/{sd}")).await;
    assert_eq!(json_of(r).await["manifests"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn chunked_uploads_follow_the_416_rules() {
    let server = support::Server::start(&[]);
    let c = Client::new(&server);
    let r = c.http.post(format!("{}/v2/c/x/blobs/uploads/", c.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let loc = format!("{}{}", c.url, r.headers()["Location"].to_str().unwrap());
    let patch = |range: &str, data: &'static [u8]| {
        c.http
            .patch(&loc)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Range", range)
            .body(data)
            .send()
    };
    let r = patch("0-2", b"abc").await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.headers()["Range"], "0-2");
    // Retrying the same chunk, or skipping ahead: 416 with the current range.
    for range in ["0-2", "5-7"] {
        let r = patch(range, b"abc").await.unwrap();
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(r.headers()["Range"], "0-2");
    }
    assert_eq!(patch("bogus", b"abc").await.unwrap().status(), StatusCode::BAD_REQUEST);
    let r = c.http.get(&loc).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["Range"], "0-2");
    let r = patch("3-5", b"def").await.unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    // Wrong digest: DIGEST_INVALID and nothing stored.
    let wrong = sha256(b"other");
    let r = c.http.put(format!("{loc}?digest={wrong}")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(r).await["errors"][0]["code"], "DIGEST_INVALID");
    assert_eq!(c.get(&format!("/v2/c/x/blobs/{wrong}")).await.status(), StatusCode::NOT_FOUND);
    let r = c.http.get(&loc).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(json_of(r).await["errors"][0]["code"], "BLOB_UPLOAD_UNKNOWN");
}

#[tokio::test]
async fn bad_manifests_are_refused_and_nothing_is_stored() {
    let server = support::Server::start(&["--max-manifest-bytes", "4096"]);
    let c = Client::new(&server);
    c.push_blob("m/x", b"{}").await;
    let missing = sha256(b"missing layer");
    let m = json!({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": EMPTY, "digest": sha256(b"{}"), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": missing, "size": 1}]
    });
    let body = serde_json::to_vec(&m).unwrap();
    let r = c.put_manifest("m/x", "v1", MANIFEST, &body).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(json_of(r).await["errors"][0]["code"], "MANIFEST_BLOB_UNKNOWN");
    for bad in [
        &b"not json"[..],
        b"{\"a\":1,\"a\":2}",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]",
    ] {
        let r = c.put_manifest("m/x", "v1", MANIFEST, bad).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json_of(r).await["errors"][0]["code"], "MANIFEST_INVALID");
    }
    let r = c.put_manifest("m/x", &sha256(b"x"), MANIFEST, &body).await;
    assert_eq!(json_of(r).await["errors"][0]["code"], "DIGEST_INVALID");
    let big = vec![b' '; 5000];
    assert_eq!(c.put_manifest("m/x", "v1", MANIFEST, &big).await.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(c.get("/v2/m/x/manifests/v1").await.status(), StatusCode::NOT_FOUND);
    let r = c.get("/v2/m/x/tags/list").await;
    assert_eq!(json_of(r).await["tags"], json!([]));
}

#[tokio::test]
async fn traversal_and_invalid_names_get_name_invalid() {
    let server = support::Server::start(&[]);
    for path in ["/v2/%2e%2e/%2e%2e/tags/list", "/v2/a%2Fb/tags/list", "/v2/a/../b/tags/list", "/v2/UPPER/tags/list"] {
        // Raw socket: HTTP clients normalise `..` away.
        let mut s = TcpStream::connect(&server.addr).unwrap();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.starts_with("HTTP/1.1 400"), "{path}: {out}");
        assert!(out.contains("NAME_INVALID"), "{path}");
    }
    assert!(!server.data.join("meta").join("..").join("b").exists());
}

#[tokio::test]
async fn hostile_connections_do_not_hurt_others() {
    let server = support::Server::start(&[]);
    // Huge header: refused, server keeps serving.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    let big = "a".repeat(1024 * 1024);
    let _ = write!(s, "GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    let mut buf = [0u8; 64];
    let _ = s.read(&mut buf);
    // Idle connection that never finishes its headers.
    let mut idle = TcpStream::connect(&server.addr).unwrap();
    idle.write_all(b"GET /v2/ HTTP/1.1\r\n").unwrap();
    let c = Client::new(&server);
    let r = tokio::time::timeout(Duration::from_secs(5), c.get("/v2/")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["Docker-Distribution-API-Version"], "registry/2.0");
}

#[tokio::test]
async fn catalog_and_tags_page_with_link() {
    let server = support::Server::start(&[]);
    let c = Client::new(&server);
    for repo in ["a/one", "b/two", "c/three"] {
        c.push_blob(repo, b"x").await;
    }
    let r = c.get("/v2/_catalog?n=2").await;
    let link = r.headers()["Link"].to_str().unwrap().to_owned();
    assert_eq!(link, "</v2/_catalog?n=2&last=b%2Ftwo>; rel=\"next\"");
    assert_eq!(json_of(r).await["repositories"], json!(["a/one", "b/two"]));
    let r = c.get("/v2/_catalog?n=2&last=b%2Ftwo").await;
    assert!(r.headers().get("Link").is_none());
    assert_eq!(json_of(r).await["repositories"], json!(["c/three"]));
    assert_eq!(c.get("/v2/_catalog?n=abc").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(c.get("/v2/nothing/here/tags/list").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get("/healthz").await.status(), StatusCode::OK);
    let metrics = c.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("nv2_registry_requests_total{route=\"catalog\",status=\"200\"}"));
}

#[tokio::test]
async fn public_mode_pulls_anonymously_and_pushes_with_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    std::fs::write(&htpasswd, format!("bob:{}\n", bcrypt::hash("pw", 4).unwrap())).unwrap();
    let server = support::Server::start(&["--access", "public", "--htpasswd", htpasswd.to_str().unwrap()]);
    let c = Client::new(&server);
    let push = |auth: Option<(&str, &str)>| {
        let mut r = c.http.post(format!("{}/v2/pub/x/blobs/uploads/?digest={}", c.url, sha256(b"hi"))).body("hi");
        if let Some((u, p)) = auth {
            r = r.basic_auth(u, Some(p));
        }
        r.send()
    };
    let r = push(None).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers()["WWW-Authenticate"], "Basic realm=\"nv2-registry\"");
    assert_eq!(json_of(r).await["errors"][0]["code"], "UNAUTHORIZED");
    assert_eq!(push(Some(("bob", "wrong"))).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(push(Some(("bob", "pw"))).await.unwrap().status(), StatusCode::CREATED);
    let r = c.get(&format!("/v2/pub/x/blobs/{}", sha256(b"hi"))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap().as_ref(), b"hi");
    let r = c.http.delete(format!("{}/v2/pub/x/blobs/{}", c.url, sha256(b"hi"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn read_only_mode_refuses_writes() {
    let server = support::Server::start(&["--access", "read-only"]);
    let c = Client::new(&server);
    let r = c.http.post(format!("{}/v2/ro/x/blobs/uploads/", c.url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(json_of(r).await["errors"][0]["code"], "UNSUPPORTED");
    assert_eq!(c.get("/v2/").await.status(), StatusCode::OK);
}

fn gc_run(data: &std::path::Path, dry: bool) -> Value {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nv2-registry"));
    cmd.arg("gc").arg("--data-dir").arg(data).args(["--gc-grace-secs", "0", "--gc-delete-untagged", "true"]);
    if dry {
        cmd.arg("--dry-run");
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn garbage_collection_keeps_tagged_content_and_its_referrers() {
    let server = support::Server::start(&[]);
    let c = Client::new(&server);
    let (subject, _) = c.push_image("g/x", "v1").await;
    let sig = c.push_referrer("g/x", &subject, "application/vnd.example.sig", "s").await;
    let stray = c.push_blob("g/x", b"stray blob").await;
    // An untagged manifest nothing refers to.
    let loose = json!({"schemaVersion": 2, "mediaType": MANIFEST,
        "config": {"mediaType": EMPTY, "digest": sha256(b"{}"), "size": 2}, "layers": []});
    let loose_body = serde_json::to_vec(&loose).unwrap();
    let loose_digest = sha256(&loose_body);
    assert_eq!(c.put_manifest("g/x", &loose_digest, MANIFEST, &loose_body).await.status(), StatusCode::CREATED);
    let data = server.data.clone();
    let keep = server.stop();

    let dry = gc_run(&data, true);
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["manifests"], json!([format!("g/x@{loose_digest}")]));
    assert_eq!(dry["links"], 1);
    let real = gc_run(&data, false);
    assert_eq!(real["manifests"], dry["manifests"]);
    // The stray blob and the loose manifest's bytes are gone.
    assert_eq!(real["blobs"], 2);
    assert_eq!(gc_run(&data, true)["blobs"], 0);

    let server = support::Server::start_on(&data, &[]);
    let c = Client::new(&server);
    assert_eq!(c.get("/v2/g/x/manifests/v1").await.status(), StatusCode::OK);
    assert_eq!(c.get(&format!("/v2/g/x/manifests/{sig}")).await.status(), StatusCode::OK);
    assert_eq!(c.get(&format!("/v2/g/x/manifests/{loose_digest}")).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(c.get(&format!("/v2/g/x/blobs/{stray}")).await.status(), StatusCode::NOT_FOUND);
    let sd = subject["digest"].as_str().unwrap();
    let r = c.get(&format!("/v2/g/x/referrers/{sd}")).await;
    assert_eq!(json_of(r).await["manifests"].as_array().unwrap().len(), 1);
    drop(keep);
}

/// HTTPS with a self-signed certificate made by `openssl` and checked by `curl --cacert` (both skipped when absent).
#[test]
fn serves_https_with_rustls() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"])
        .args(["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output();
    if !made.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!("skipping: openssl unavailable");
        return;
    }
    let server = support::Server::start(&["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()]);
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let out = std::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code} %{http_version}", "--cacert"])
        .arg(&cert)
        .arg(format!("{}/v2/", server.url))
        .output();
    let Ok(out) = out else {
        eprintln!("skipping: curl unavailable");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.starts_with("200 "), "{text}");
    // A plain-HTTP client gets no answer, and the server keeps serving TLS clients.
    let mut s = TcpStream::connect(&server.addr).unwrap();
    let _ = s.write_all(b"GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    assert!(!String::from_utf8_lossy(&buf).contains("200 OK"));
}

#[tokio::test]
async fn cors_headers_for_configured_origins() {
    let server = support::Server::start(&["--cors-origin", "http://localhost:8080"]);
    let c = Client::new(&server);
    let r = c
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v2/a/referrers/{}", c.url, sha256(b"x")))
        .header("Origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(r.headers()["Access-Control-Allow-Origin"], "http://localhost:8080");
    assert!(r.headers()["Access-Control-Expose-Headers"].to_str().unwrap().contains("OCI-Filters-Applied"));
    let r = c.http.get(format!("{}/v2/", c.url)).header("Origin", "http://evil.example").send().await.unwrap();
    assert!(r.headers().get("Access-Control-Allow-Origin").is_none());
}

#[tokio::test]
async fn graceful_shutdown_finishes_an_upload_in_flight() {
    let server = support::Server::start(&[]);
    let c = Client::new(&server);
    let r = c.http.post(format!("{}/v2/s/x/blobs/uploads/", c.url)).send().await.unwrap();
    let loc = r.headers()["Location"].to_str().unwrap().to_owned();
    let addr = server.addr.clone();
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(s, "PATCH {loc} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nContent-Range: 0-9\r\n\r\nhello").unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    server.signal_term();
    std::thread::sleep(Duration::from_millis(200));
    s.write_all(b"world").unwrap();
    let mut out = vec![0u8; 512];
    let n = s.read(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out[..n]).to_string();
    assert!(text.starts_with("HTTP/1.1 202"), "{text}");
    assert!(text.to_ascii_lowercase().contains("range: 0-9"), "{text}");
    drop(s);
    assert!(server.wait(), "server did not exit cleanly");
}

#[tokio::test]
async fn concurrent_identical_uploads_both_succeed() {
    let server = support::Server::start(&[]);
    let c = Client::new(&server);
    let data: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    let digest = sha256(&data);
    let mut tasks = Vec::new();
    for repo in ["k/one", "k/two", "k/one"] {
        let http = c.http.clone();
        let url = format!("{}/v2/{repo}/blobs/uploads/?digest={digest}", c.url);
        let body = data.clone();
        tasks.push(tokio::spawn(async move { http.post(url).body(body).send().await.unwrap().status() }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    for repo in ["k/one", "k/two"] {
        let r = c.get(&format!("/v2/{repo}/blobs/{digest}")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(sha256(&r.bytes().await.unwrap()), digest);
    }
    // sha512 uploads are verified too.
    let d512 = {
        use sha2::Sha512;
        let h = Sha512::digest(b"five-twelve");
        format!("sha512:{}", h.iter().map(|b| format!("{b:02x}")).collect::<String>())
    };
    let r = c.http.post(format!("{}/v2/k/one/blobs/uploads/?digest={d512}", c.url)).body("five-twelve").send().await;
    assert_eq!(r.unwrap().status(), StatusCode::CREATED);
    let r = c.http.post(format!("{}/v2/k/one/blobs/uploads/?digest={d512}", c.url)).body("tampered").send().await;
    assert_eq!(r.unwrap().status(), StatusCode::BAD_REQUEST);
}
