//! Revocation with real CRLs: a signing chain whose leaf names a CRL distribution point served by a local HTTP
//! server. `nv2 verify` downloads the CRL (good → verified; leaf listed → refused as revoked); `nv2 export`
//! attaches the CRL to the signature, so after `nv2 import` the signature verifies with the CRL server down and
//! an empty CRL cache, i.e. with no call outside the air-gapped registry. Without the attached CRL the same
//! offline verification cannot know the status and refuses, which shows the attached CRL is what was used.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use nv2_core::crypto::{KeyKind, SigningKey};
use nv2_core::x509::issue::{self, CertificateSpec, CrlSpec, Issuer, RevokedEntry};

const NV2: &str = env!("CARGO_BIN_EXE_nv2");

/// A one-file HTTP server on 127.0.0.1 serving whatever CRL bytes it currently holds, counting requests.
struct CrlServer {
    url: String,
    crl: Arc<Mutex<Vec<u8>>>,
    hits: Arc<AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl CrlServer {
    fn start() -> CrlServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/root.crl", listener.local_addr().unwrap());
        let crl = Arc::new(Mutex::new(Vec::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (c, h, s) = (crl.clone(), hits.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut line = String::new();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                    line.clear();
                }
                if s.load(Ordering::SeqCst) {
                    let _ = stream.write_all(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                    continue;
                }
                h.fetch_add(1, Ordering::SeqCst);
                let body = c.lock().unwrap().clone();
                let head = format!("HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        CrlServer { url, crl, hits, stop }
    }
}

fn nv2(home: &Path, config: &Path, args: &[&str]) -> Output {
    Command::new(NV2)
        .env("NV2_CACHE", home.join("cache"))
        .arg("--config")
        .arg(config)
        .arg("--output")
        .arg("json")
        .args(args)
        .output()
        .unwrap()
}

fn ok(home: &Path, config: &Path, args: &[&str]) -> serde_json::Value {
    let out = nv2(home, config, args);
    assert!(
        out.status.success(),
        "nv2 {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn pem(der: &[u8]) -> String {
    use base64ct::{Base64, Encoding};
    let b64 = Base64::encode_string(der);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
}

#[test]
fn crls_are_fetched_checked_and_carried_across_the_air_gap() {
    let server = CrlServer::start();
    let work = tempfile::tempdir().unwrap();
    let home = work.path();
    let config = home.join("config");

    // A root CA and a leaf whose certificate names the CRL distribution point.
    let now = nv2_cli::clock::now();
    let (from, until) = (now.saturating_add(-3600), now.saturating_add(30 * 86_400));
    let root_key = SigningKey::from_seed(KeyKind::P256, &[7u8; 32]).unwrap();
    let leaf_key = SigningKey::from_seed(KeyKind::P256, &[9u8; 32]).unwrap();
    let root_name = "CN=Revocation Test Root,O=nv2,ST=WA,C=US";
    let root_spki = root_key.public_key_spki_der().unwrap();
    let root = issue::issue(
        &CertificateSpec::ca(root_name, from, until, Some(0)),
        &root_spki,
        Issuer { name: root_name, key: &root_key },
        &[1],
    )
    .unwrap();
    let mut leaf_spec = CertificateSpec::code_signing_leaf("CN=signer,O=nv2,ST=WA,C=US", from, until);
    leaf_spec.crl_urls = vec![server.url.clone()];
    let leaf_spki = leaf_key.public_key_spki_der().unwrap();
    let leaf_serial = vec![0x42];
    let leaf = issue::issue(&leaf_spec, &leaf_spki, Issuer { name: root_name, key: &root_key }, &leaf_serial).unwrap();
    let crl = |revoked: bool| {
        let mut spec = CrlSpec::new(root_name, now.saturating_add(-60), Some(now.saturating_add(86_400)));
        if revoked {
            spec.revoked.push(RevokedEntry {
                serial: leaf_serial.clone(),
                revoked_at: now.saturating_add(-30),
                invalidity_date: None,
            });
        }
        issue::issue_crl_der(&spec, &root_key).unwrap()
    };
    *server.crl.lock().unwrap() = crl(false);

    let key_file = home.join("signer.key");
    std::fs::write(&key_file, leaf_key.to_pkcs8_pem().unwrap()).unwrap();
    let chain_file = home.join("signer.crt");
    std::fs::write(&chain_file, pem(leaf.der()) + &pem(root.der())).unwrap();
    let root_file = home.join("root.crt");
    std::fs::write(&root_file, pem(root.der())).unwrap();
    let (key_path, chain_path, root_path) =
        (key_file.to_str().unwrap(), chain_file.to_str().unwrap(), root_file.to_str().unwrap());

    let registry = common::TestRegistry::start("");
    let repo = format!("{}/revocable", registry.host_port);
    ok(home, &config, &["key", "import", "signer", "--key", key_path, "--cert", chain_path, "--default"]);
    ok(home, &config, &["cert", "add", "--type", "ca", "--store", "root", root_path]);
    ok(
        home,
        &config,
        &["policy", "init", "--name", "p", "--scope", "*", "--trust-store", "ca:root", "--trusted-identity", "*"],
    );
    let payload = home.join("payload.txt");
    std::fs::write(&payload, "revocable").unwrap();
    let pushed = ok(home, &config, &["push", &format!("{repo}:v1"), payload.to_str().unwrap()]);
    let digest = pushed["descriptor"]["digest"].as_str().unwrap().to_string();
    ok(home, &config, &["sign", &format!("{repo}@{digest}")]);

    // Online: the CRL is downloaded and the leaf is good.
    ok(home, &config, &["verify", &format!("{repo}@{digest}")]);
    assert!(server.hits.load(Ordering::SeqCst) >= 1, "the CRL was fetched");

    // Revoked: refused, naming the revocation.
    *server.crl.lock().unwrap() = crl(true);
    let refused = nv2(home, &config, &["verify", &format!("{repo}@{digest}")]);
    assert_eq!(refused.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert!(doc["error"].as_str().unwrap().contains("revoked"), "{doc}");

    // Export carries the (good) CRL with the signature.
    *server.crl.lock().unwrap() = crl(false);
    let tarball = home.join("revocable.tar");
    let exported = ok(home, &config, &["export", &format!("{repo}:v1"), tarball.to_str().unwrap()]);
    assert_eq!(exported["crls"], 1, "{exported}");

    // Air gap: the distribution point is down and a fresh home has no CRL cache.
    server.stop.store(true, Ordering::SeqCst);
    let hits_before = server.hits.load(Ordering::SeqCst);
    let far = tempfile::tempdir().unwrap();
    let far_config = far.path().join("config");
    ok(far.path(), &far_config, &["cert", "add", "--type", "ca", "--store", "root", root_path]);
    ok(
        far.path(),
        &far_config,
        &["policy", "init", "--name", "p", "--scope", "*", "--trust-store", "ca:root", "--trusted-identity", "*"],
    );
    let airgap = common::TestRegistry::start("");
    let airgap_repo = format!("{}/revocable", airgap.host_port);
    ok(far.path(), &far_config, &["import", tarball.to_str().unwrap(), &format!("{airgap_repo}:v1")]);
    ok(far.path(), &far_config, &["verify", &format!("{airgap_repo}@{digest}")]);
    assert_eq!(server.hits.load(Ordering::SeqCst), hits_before, "no CRL download across the air gap");

    // The same offline verification without the attached CRL cannot know the status: refused.
    let bare = common::TestRegistry::start("");
    let bare_repo = format!("{}/revocable", bare.host_port);
    ok(far.path(), &far_config, &["copy", &format!("{airgap_repo}:v1"), &format!("{bare_repo}:v1")]);
    let signature = ok(far.path(), &far_config, &["list", &format!("{airgap_repo}@{digest}")])["signatures"][0]
        ["digest"]
        .as_str()
        .unwrap()
        .to_string();
    ok(far.path(), &far_config, &["copy", &format!("{airgap_repo}@{signature}"), &format!("{bare_repo}@{signature}")]);
    let unknown = nv2(far.path(), &far_config, &["verify", &format!("{bare_repo}@{digest}")]);
    assert_eq!(unknown.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&unknown.stdout).unwrap();
    assert!(doc["error"].as_str().unwrap().contains("revocation status"), "{doc}");
}
