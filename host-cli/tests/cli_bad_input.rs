//! Issue 4, point 6: bad input to the real `nv2` binary. Malformed keys, certificates, trust policies,
//! config.json, signingkeys.json and docker config files; invalid references; an unreachable registry; 401 and
//! 403; servers that answer garbage. Each must end with an exit code ≠ 0 and exactly one line on stderr naming the
//! file or host and what is wrong, never a panic (every run is checked for "panicked"), and a failed command must
//! leave the configuration it would have changed byte-identical, with no temp files left behind.

mod cli_support;
mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

use cli_support::{push_image, write_file, Nv2};
use common::TestRegistry;

/// A digest that names nothing (for commands that must fail before or while reaching a registry).
const SOME_DIGEST: &str = "sha256:94eab3ee1c5c0dbb5c9234378062b9f2aa26c454758741ac961170255db52fc5";

/// Every file under `dir` with its bytes: compared before and after a failing command.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).expect("read dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).expect("read file"));
            }
        }
    }
    files
}

/// Runs `args`, which must fail with exactly one line on stderr containing every one of `names`; returns the line.
#[track_caller]
fn fails_naming(user: &Nv2, args: &[&str], names: &[&str]) -> String {
    let run = user.run(args);
    let line = run.one_line_error();
    assert!(line.starts_with("nv2: "), "{}", run.describe());
    for name in names {
        assert!(line.contains(name), "the error does not name {name:?}:\n{}", run.describe());
    }
    line
}

/// Like [`fails_naming`], and the config dir (and the docker config file) are unchanged afterwards.
#[track_caller]
fn fails_leaving_config_intact(user: &Nv2, args: &[&str], names: &[&str]) -> String {
    let before = snapshot(user.root.path());
    let line = fails_naming(user, args, names);
    assert_eq!(snapshot(user.root.path()), before, "`nv2 {}` changed files although it failed", args.join(" "));
    line
}

/// A user with a test key `k` (default) and a policy trusting it for every repository.
fn configured() -> Nv2 {
    let user = Nv2::new();
    user.trust_new_test_key("k");
    user
}

#[test]
fn malformed_and_missing_key_files() {
    let user = configured();
    let config = user.config_dir();
    let cert = config.join("localkeys/k.crt").display().to_string();
    let garbage = write_file(user.root.path(), "garbage.pem", b"-----BEGIN PRIVATE KEY-----\nnot base64!\n");
    let line = fails_leaving_config_intact(
        &user,
        &["key", "import", "x", "--key", &garbage, "--cert", &cert],
        &["garbage.pem"],
    );
    assert!(line.contains("private key"), "{line}");
    let missing = user.path("missing.pem").display().to_string();
    fails_leaving_config_intact(
        &user,
        &["key", "import", "x", "--key", &missing, "--cert", &cert],
        &["missing.pem", "No such file"],
    );
    // A key that does not belong to the certificate.
    user.ok(&["key", "generate", "other"]);
    let other_key = config.join("localkeys/other.key").display().to_string();
    fails_leaving_config_intact(
        &user,
        &["key", "import", "x", "--key", &other_key, "--cert", &cert],
        &["other.key", "does not match"],
    );

    // The configured key file itself corrupted: sign names it.
    std::fs::write(config.join("localkeys/k.key"), b"garbage\n").expect("corrupt key");
    let line = fails_naming(&user, &["sign", &format!("127.0.0.1:1/app@{SOME_DIGEST}")], &["localkeys/k.key"]);
    assert!(line.contains("neither a PKCS#8 nor a SEC1 private key"), "{line}");
}

#[test]
fn malformed_certificates() {
    let user = configured();
    let config = user.config_dir();
    let garbage = write_file(user.root.path(), "garbage.crt", b"not a certificate\n");
    let line = fails_leaving_config_intact(&user, &["cert", "add", "-t", "ca", "-s", "k", &garbage], &["garbage.crt"]);
    assert!(line.contains("certificate"), "{line}");
    let pem = write_file(
        user.root.path(),
        "broken.pem",
        b"-----BEGIN CERTIFICATE-----\nMIIBAAAA\n-----END CERTIFICATE-----\n",
    );
    fails_leaving_config_intact(&user, &["cert", "add", "-t", "ca", "-s", "k", &pem], &["broken.pem"]);
    let directory = user.path("dir.crt");
    std::fs::create_dir_all(&directory).expect("dir");
    fails_leaving_config_intact(
        &user,
        &["cert", "add", "-t", "ca", "-s", "k", &directory.display().to_string()],
        &["dir.crt", "not a regular file"],
    );
    // A key's certificate file that is not a certificate.
    let key = config.join("localkeys/k.key").display().to_string();
    fails_leaving_config_intact(&user, &["key", "import", "x", "--key", &key, "--cert", &garbage], &["garbage.crt"]);
    // A trust store file corrupted after the fact: verify names it.
    std::fs::write(config.join("truststore/x509/ca/k/k.crt"), b"garbage\n").expect("corrupt store");
    let registry = TestRegistry::start("");
    let digest = push_image(&user, &format!("{}/app", registry.host_port), "v1", "certs");
    fails_naming(&user, &["verify", &format!("{}/app@{digest}", registry.host_port)], &["truststore/x509/ca/k/k.crt"]);
}

#[test]
fn malformed_trust_policies() {
    let registry = TestRegistry::start("");
    let user = configured();
    let policy = user.config_dir().join("trustpolicy.json");
    let digest = push_image(&user, &format!("{}/app", registry.host_port), "v1", "policies");
    let reference = format!("{}/app@{digest}", registry.host_port);
    for (name, bytes, what) in [
        ("truncated.json", &br#"{"version": "1.0", "trustPolicies": ["#[..], "invalid JSON"),
        (
            "level.json",
            &br#"{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":["*"],"signatureVerification":{"level":"bogus"},"trustStores":["ca:k"],"trustedIdentities":["*"]}]}"#[..],
            "\"bogus\"",
        ),
        ("empty.json", &b""[..], "trust policy"),
    ] {
        let file = write_file(user.root.path(), name, bytes);
        // Importing a bad file over a good policy keeps the good one byte-identical.
        fails_leaving_config_intact(&user, &["policy", "import", "--force", &file], &[name, what]);
        // The same bytes installed by hand: verify names the installed file.
        let good = std::fs::read(&policy).expect("policy");
        std::fs::write(&policy, bytes).expect("install bad policy");
        fails_naming(&user, &["verify", &reference], &["trustpolicy.json", what]);
        fails_naming(&user, &["policy", "show"], &["trustpolicy.json"]);
        std::fs::write(&policy, good).expect("restore policy");
    }
    let missing = user.path("missing.json").display().to_string();
    fails_leaving_config_intact(&user, &["policy", "import", "--force", &missing], &["missing.json"]);
    // No policy at all: verify says which files it looked for.
    std::fs::remove_file(&policy).expect("remove policy");
    fails_naming(&user, &["verify", &reference], &["trustpolicy.oci.json", "trustpolicy.json"]);
    // Likewise for blobs, whose policy is trustpolicy.blob.json.
    write_file(user.root.path(), "x", b"x");
    write_file(user.root.path(), "x.jws.sig", b"{}");
    fails_naming(&user, &["blob", "verify", "-s", "x.jws.sig", "x"], &["trustpolicy.blob.json"]);
}

#[test]
fn malformed_config_json_and_signingkeys_json() {
    let registry = TestRegistry::start("");
    let user = configured();
    let config = user.config_dir();
    let digest = push_image(&user, &format!("{}/app", registry.host_port), "v1", "config");
    let reference = format!("{}/app@{digest}", registry.host_port);

    std::fs::write(config.join("config.json"), b"{\"signatureFormat\": 7}").expect("config.json");
    fails_leaving_config_intact(&user, &["sign", &reference], &["config.json"]);
    // Registry commands read config.json too (its insecureRegistries): a malformed one is never silently ignored.
    std::fs::write(config.join("config.json"), b"{\"insecureRegistries\": 5}").expect("config.json");
    fails_leaving_config_intact(&user, &["sign", "--signature-format", "jws", &reference], &["config.json"]);
    fails_naming(&user, &["resolve", &reference], &["config.json"]);
    std::fs::remove_file(config.join("config.json")).expect("remove config.json");

    for bad in [&b"[1, 2"[..], &b"{\"default\": 3}"[..], &b"{\"keys\": [{\"name\": \"k\"}]}"[..]] {
        let good = std::fs::read(config.join("signingkeys.json")).expect("signingkeys.json");
        std::fs::write(config.join("signingkeys.json"), bad).expect("signingkeys.json");
        fails_naming(&user, &["key", "list"], &["signingkeys.json"]);
        fails_naming(&user, &["sign", &reference], &["signingkeys.json"]);
        // Commands that would rewrite it refuse, leaving it (and localkeys/) exactly as they were.
        fails_leaving_config_intact(&user, &["key", "generate", "new"], &["signingkeys.json"]);
        fails_leaving_config_intact(&user, &["key", "default", "k"], &["signingkeys.json"]);
        fails_leaving_config_intact(&user, &["cert", "generate-test", "new"], &["signingkeys.json"]);
        std::fs::write(config.join("signingkeys.json"), good).expect("restore");
    }
    // And the signature count did not change through all of that.
    assert_eq!(user.json(&["list", &reference])["signatures"].as_array().map(Vec::len), Some(0));
}

#[test]
fn malformed_docker_config() {
    let registry = TestRegistry::start_with_users("access = \"private\"", &[("alice", "secret")]);
    let user = Nv2::new();
    std::fs::write(user.registry_config(), b"{\"auths\": ").expect("docker config");
    let reference = format!("{}/app:v1", registry.host_port);
    fails_naming(&user, &["resolve", &reference], &["docker-config.json"]);
    fails_leaving_config_intact(
        &user,
        &["-u", "alice", "-p", "secret", "login", &registry.host_port],
        &["docker-config.json"],
    );
    fails_leaving_config_intact(&user, &["logout", &registry.host_port], &["docker-config.json"]);
}

#[test]
fn invalid_references() {
    let user = configured();
    for (reference, named) in [
        ("127.0.0.1:5000/UPPER/app:v1", "\"UPPER/app\""),
        ("127.0.0.1:5000/app:bad tag", "\"bad tag\""),
        ("127.0.0.1:5000/app@sha256:zz", "\"sha256:zz\""),
        ("127.0.0.1:5000//app:v1", "\"/app\""),
        ("127.0.0.1:5000/app@md5:0123", "unsupported digest algorithm \"md5\""),
    ] {
        for command in ["resolve", "verify", "sign", "discover"] {
            let run = user.run(&[command, reference]);
            // Usage errors exit 2, everything else 1; neither touches the network.
            assert!(run.code == 1 || run.code == 2, "{}", run.describe());
            let line = run.one_line_error();
            assert!(line.contains(named), "{command} {reference}: {line}");
        }
    }
    let copied = user.run(&["copy", "127.0.0.1:5000/app:v1", "127.0.0.1:5000/UPPER:v1"]);
    assert!(copied.one_line_error().contains("UPPER"), "{}", copied.describe());
}

#[test]
fn unreachable_registry() {
    let user = configured();
    let host = format!("127.0.0.1:{}", common::closed_port());
    for args in [
        vec!["resolve".to_string(), format!("{host}/app:v1")],
        vec!["verify".to_string(), format!("{host}/app@{SOME_DIGEST}")],
        vec!["sign".to_string(), format!("{host}/app@{SOME_DIGEST}")],
        vec!["discover".to_string(), format!("{host}/app@{SOME_DIGEST}")],
        vec!["repo".to_string(), "ls".to_string(), host.clone()],
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let line = fails_leaving_config_intact(&user, &args, &[&host]);
        assert!(line.contains("cannot connect"), "{line}");
    }
}

#[test]
fn unauthorized_and_forbidden() {
    let config = "access = \"private\"\n[[grants]]\nuser = \"alice\"\nrepositories = [\"*\"]\nactions = [\"*\"]\n\
                  [[grants]]\nuser = \"bob\"\nrepositories = [\"*\"]\nactions = [\"pull\"]\n";
    let registry = TestRegistry::start_with_users(config, &[("alice", "secret"), ("bob", "builder")]);
    let host = registry.host_port.clone();
    let user = configured();
    let file = write_file(user.root.path(), "app.txt", b"app\n");
    let pushed = user.json(&["-u", "alice", "-p", "secret", "push", &format!("{host}/team/app:v1"), &file]);
    let digest = cli_support::digest_of(&pushed["descriptor"]);
    let reference = format!("{host}/team/app@{digest}");

    // 401: wrong password, for reads and writes.
    for args in [
        vec!["-u", "alice", "-p", "wrong", "resolve", &reference],
        vec!["-u", "alice", "-p", "wrong", "sign", &reference],
        vec!["-u", "alice", "-p", "wrong", "verify", &reference],
        vec!["-u", "nobody", "-p", "x", "push", &format!("{host}/team/app:v2"), &file],
    ] {
        let line = fails_leaving_config_intact(&user, &args, &[&host, "401"]);
        assert!(line.contains("Unauthorized"), "{line}");
    }
    // 403: bob may pull but not push: reading works, signing (a push) is refused, naming the host.
    user.json(&["-u", "bob", "-p", "builder", "resolve", &reference]);
    let line = fails_naming(&user, &["-u", "bob", "-p", "builder", "sign", &reference], &[&host, "403"]);
    assert!(line.contains("denied") || line.contains("Forbidden"), "{line}");
    fails_naming(
        &user,
        &["-u", "bob", "-p", "builder", "push", &format!("{host}/team/app:v2"), &file],
        &[&host, "403"],
    );
    fails_naming(&user, &["-u", "bob", "-p", "builder", "tag", &reference, "v3"], &[&host, "403"]);
    // Nothing was signed or tagged by the refused commands.
    let signatures = user.json(&["-u", "bob", "-p", "builder", "list", &reference]);
    assert_eq!(signatures["signatures"].as_array().map(Vec::len), Some(0));
    let tags = user.json(&["-u", "bob", "-p", "builder", "repo", "tags", &format!("{host}/team/app")]);
    assert_eq!(tags["tags"], serde_json::json!(["v1"]));
}

/// A server on 127.0.0.1 that answers every connection with `answer` (then closes it); returns `host:port`.
fn garbage_server(answer: &'static [u8]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0u8; 8192];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(answer);
            let _ = stream.flush();
        }
    });
    host
}

#[test]
fn servers_answering_garbage() {
    let user = configured();
    // Outputs go outside the user's files, which must stay unchanged.
    let outputs = tempfile::tempdir().expect("temp dir");
    let not_http = garbage_server(b"\x00\xffSSH-2.0-definitely not HTTP\r\n\r\n");
    let bad_manifest = garbage_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 9\r\n\
          Connection: close\r\n\r\n{not json",
    );
    let bad_digest_header = garbage_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n\
          Docker-Content-Digest: sha256:abc\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    );
    let lying_length = garbage_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{\"a\":");
    for host in [&not_http, &bad_manifest, &bad_digest_header, &lying_length] {
        for args in [
            vec!["resolve".to_string(), format!("{host}/app:v1")],
            vec!["verify".to_string(), format!("{host}/app:v1")],
            vec![
                "pull".to_string(),
                format!("{host}/app:v1"),
                "-o".into(),
                outputs.path().join("out").display().to_string(),
            ],
            vec![
                "copy".to_string(),
                "-r".into(),
                format!("{host}/app:v1"),
                outputs.path().join("layout").display().to_string(),
            ],
        ] {
            let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
            if args[0] == "copy" {
                args.push("--to-oci-layout");
            }
            fails_leaving_config_intact(&user, &args, &[host]);
        }
    }
    // A digest-pinned discover needs no manifest body; the referrers answer is no index, and the fallback tag holds
    // garbage: that index is ignored, with one warning naming the host (once, not also as a log line), or in JSON
    // only inside the document.
    let discovered = user.run(&["discover", &format!("{bad_manifest}/app@{SOME_DIGEST}")]).success();
    let warnings: Vec<&str> = discovered.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", discovered.describe());
    assert!(warnings[0].starts_with(&format!("warning: {bad_manifest}/app: referrers tag sha256-")), "{}", warnings[0]);
    let json = user.run(&["--output", "json", "discover", &format!("{bad_manifest}/app@{SOME_DIGEST}")]).success();
    assert!(json.stderr.is_empty(), "{}", json.describe());
    assert_eq!(json.json()["warnings"].as_array().map(Vec::len), Some(1));

    let line = fails_naming(&user, &["resolve", &format!("{not_http}/app:v1")], &[&not_http]);
    assert!(line.contains("did not answer HTTP"), "{line}");
    let line = fails_naming(&user, &["resolve", &format!("{bad_manifest}/app:v1")], &[&bad_manifest]);
    assert!(line.contains("not a valid manifest"), "{line}");
    let line = fails_naming(&user, &["resolve", &format!("{bad_digest_header}/app:v1")], &[&bad_digest_header]);
    assert!(line.contains("Docker-Content-Digest"), "{line}");
}

#[test]
fn the_json_error_document_replaces_the_line() {
    let user = configured();
    let host = format!("127.0.0.1:{}", common::closed_port());
    let run = user.run(&["--output", "json", "resolve", &format!("{host}/app:v1")]);
    assert_eq!(run.code, 1, "{}", run.describe());
    assert!(run.stderr.is_empty(), "{}", run.describe());
    let doc = run.json();
    assert_eq!(doc["kind"], "content");
    assert!(doc["error"].as_str().is_some_and(|e| e.contains(&host)), "{doc}");
    let garbage = write_file(user.root.path(), "bad.json", b"{");
    let run = user.run(&["--output", "json", "policy", "import", "--force", &garbage]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.is_empty(), "{}", run.describe());
    assert_eq!(run.json()["kind"], "config");
}
