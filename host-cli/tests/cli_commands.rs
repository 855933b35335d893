//! Issue 4, points 3 and 4: every command group of the real `nv2` binary against a real nv2-registry, with a temp
//! config dir (`--config`) and docker credentials file (`--registry-config`) per test.
//!
//! push by digest then `tag` (the prototype-2 order); `--output json` is one document and stderr only warnings;
//! progress is silent without a terminal; key/cert/policy lifecycles; sign by tag (digest + warning); `-m`;
//! `--expiry`; `--max-signatures`; `list`/`inspect`; `signature delete`; detached blob signatures for P-256, P-384
//! and Ed25519 in JWS and COSE; `--force-referrers-tag`; shell completions; a private registry through `-u/-p`,
//! a docker config `auths` entry, and `login`/`logout`.

mod cli_support;
mod common;

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use base64ct::{Base64, Encoding};
use cli_support::{digest_of, push_image, write_file, Nv2};
use common::TestRegistry;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256, Sha384};

const NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn sha384(bytes: &[u8]) -> String {
    format!("sha384:{}", hex(&Sha384::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

/// The tags of `repository` (`host:port/name`).
fn tags(user: &Nv2, repository: &str) -> BTreeSet<String> {
    let doc = user.json(&["repo", "tags", repository]);
    doc["tags"].as_array().expect("tags").iter().filter_map(|t| t.as_str().map(str::to_string)).collect()
}

/// The signature manifest digests `nv2 list` reports, in the order verification examines them.
fn signatures(user: &Nv2, reference: &str) -> Vec<String> {
    let doc = user.json(&["list", reference]);
    doc["signatures"].as_array().expect("signatures").iter().map(digest_of).collect()
}

/// Signs and returns the signature manifest digest.
fn sign(user: &Nv2, args: &[&str]) -> String {
    let mut all = vec!["sign"];
    all.extend_from_slice(args);
    let doc = user.json(&all);
    digest_of(&doc["signatures"][0]["signature"])
}

#[test]
fn push_by_digest_then_tag_moves_the_tag_last() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("ca1");
    let repository = format!("{}/app/web", registry.host_port);
    let file = write_file(user.root.path(), "app.txt", b"the app\n");

    let pushed = user.json(&["push", &repository, &file]);
    let digest = digest_of(&pushed["descriptor"]);
    assert_eq!(pushed["tag"], Value::Null);
    assert_eq!(pushed["reference"], format!("{repository}@{digest}"));
    assert!(tags(&user, &repository).is_empty(), "a push without a tag must not create one");

    // Signed while nothing points at it yet; the tag moves last.
    let signature = sign(&user, &[&format!("{repository}@{digest}")]);
    user.json(&["verify", &format!("{repository}@{digest}")]);
    let tagged = user.json(&["tag", &format!("{repository}@{digest}"), "v1", "stable"]);
    assert_eq!(digest_of(&tagged["descriptor"]), digest);
    assert_eq!(tagged["tags"], json!(["v1", "stable"]));
    for tag in ["v1", "stable"] {
        let resolved = user.ok(&["resolve", &format!("{repository}:{tag}")]);
        assert_eq!(resolved.stdout, format!("{digest}\n"));
    }
    assert_eq!(tags(&user, &repository), BTreeSet::from(["v1".to_string(), "stable".to_string()]));
    // The manifest bytes are the ones pushed: their digest did not change through signing and tagging.
    let manifest = user.command().args(["manifest", "fetch", &format!("{repository}:v1")]).output().expect("fetch");
    assert!(manifest.status.success());
    let bytes = manifest.stdout.strip_suffix(b"\n").expect("trailing newline");
    assert_eq!(sha256(bytes), digest);
    // The signature made before tagging is what verifying by the tag finds; the tag gets a warning.
    let by_tag = user.ok(&["verify", &format!("{repository}:v1")]);
    assert_eq!(
        by_tag.stderr,
        format!("warning: v1 resolved to {digest}: verify by digest to pin what you run\n"),
        "{}",
        by_tag.describe()
    );
    assert_eq!(signatures(&user, &format!("{repository}:v1")), vec![signature]);
    // A digest-pinned push target is refused: the digest comes from the files.
    let refused = user.run(&["push", &format!("{repository}@{digest}"), &file]);
    assert_eq!(refused.code, 2, "{}", refused.describe());
}

#[test]
fn sign_by_tag_signs_the_digest_with_a_warning() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("ca1");
    let repository = format!("{}/app/web", registry.host_port);
    let digest = push_image(&user, &repository, "v1", "tagged");

    let text = user.ok(&["sign", &format!("{repository}:v1")]);
    assert_eq!(
        text.stderr,
        format!(
            "warning: always sign the artifact by digest (@sha256:...) rather than by tag: v1 resolved to {digest} \
             and the signature is bound to that digest\n"
        )
    );
    let lines: Vec<&str> = text.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", text.describe());
    assert_eq!(lines[0], format!("Successfully signed {repository}@{digest}"));
    assert!(lines[1].starts_with(&format!("Pushed the signature to {repository}@sha256:")), "{}", lines[1]);

    // In JSON the warning is part of the one document, and stderr stays empty. (COSE, so that this second
    // signature differs from the first even within the same second: ECDSA signing here is deterministic.)
    let json =
        user.run(&["--output", "json", "sign", "--signature-format", "cose", &format!("{repository}:v1")]).success();
    assert!(json.stderr.is_empty(), "{}", json.describe());
    let doc = json.json();
    assert_eq!(doc["signatures"][0]["target"]["digest"], digest.as_str());
    assert_eq!(doc["signatures"][0]["reference"], format!("{repository}@{digest}"));
    assert!(doc["warnings"][0].as_str().is_some_and(|w| w.contains(&format!("v1 resolved to {digest}"))), "{doc}");
    assert_eq!(signatures(&user, &format!("{repository}@{digest}")).len(), 2);
}

#[test]
fn json_output_is_one_document_and_progress_is_silent_without_a_terminal() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("ca1");
    let repository = format!("{}/app/big", registry.host_port);
    // Big enough that a progress bar would draw if one were shown.
    let big: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let file = write_file(user.root.path(), "big.bin", &big);

    let pushed = user.run(&["push", &format!("{repository}:v1"), &file]).success();
    assert!(pushed.stderr.is_empty(), "no progress without a terminal:\n{}", pushed.describe());
    let digest = user.ok(&["resolve", &format!("{repository}:v1")]).stdout.trim().to_string();
    let out = user.path("pulled");
    let pulled = user.run(&["pull", &format!("{repository}@{digest}"), "-o", &out.display().to_string()]).success();
    assert!(pulled.stderr.is_empty(), "{}", pulled.describe());
    assert_eq!(std::fs::read(out.join("big.bin")).expect("pulled file"), big);
    let copied = user.run(&["copy", &format!("{repository}:v1"), &format!("{repository}-copy:v1")]).success();
    assert!(copied.stderr.is_empty(), "{}", copied.describe());

    // Every command below must print exactly one JSON document on stdout and nothing else on stderr
    // (Nv2::json asserts both).
    let reference = format!("{repository}@{digest}");
    sign(&user, &[&reference]);
    let documents = [
        user.json(&["push", &format!("{repository}:v2"), &file]),
        user.json(&["resolve", &reference]),
        user.json(&["verify", &reference]),
        user.json(&["list", &reference]),
        user.json(&["inspect", &reference]),
        user.json(&["discover", &reference]),
        user.json(&["copy", "-r", &reference, &format!("{repository}-json:v1")]),
        user.json(&["repo", "tags", &repository]),
        user.json(&["repo", "ls", &registry.host_port]),
        user.json(&["manifest", "fetch", &reference]),
        user.json(&["key", "list"]),
        user.json(&["cert", "list"]),
        user.json(&["policy", "show"]),
        user.json(&["version"]),
    ];
    assert_eq!(documents[1]["descriptor"]["digest"], digest.as_str());
    assert_eq!(documents[2]["accepted"], true);
    assert_eq!(documents[8]["repositories"], json!(["app/big", "app/big-copy", "app/big-json"]));
    assert_eq!(documents[13]["version"], "0.1.0");

    // A failure in JSON mode: the error document on stdout, stderr empty.
    let failed = user.run(&["--output", "json", "resolve", &format!("{repository}:missing")]);
    assert_eq!(failed.code, 1, "{}", failed.describe());
    assert!(failed.stderr.is_empty(), "{}", failed.describe());
    let error = failed.json();
    assert_eq!(error["kind"], "content");
    assert!(error["error"].as_str().is_some_and(|e| e.contains("missing")), "{error}");
}

#[test]
fn key_lifecycle_through_the_cli() {
    let user = Nv2::new();
    let config = user.config_dir();
    let generated = user.json(&["key", "generate", "k1", "--type", "p384"]);
    assert_eq!(generated["type"], "p384");
    assert_eq!(generated["default"], false);
    assert_eq!(generated["certificates"][0]["subject"], "CN=k1,O=Notary,L=Seattle,ST=WA,C=US");
    let key_file = config.join("localkeys/k1.key");
    assert_eq!(mode(&key_file), 0o600, "private key files are 0600");
    assert_eq!(mode(&config.join("localkeys")), 0o700);
    assert!(config.join("localkeys/k1.crt").is_file());
    let ed = user.run(&["--output", "json", "key", "generate", "k2", "--type", "ed25519", "--default"]).success();
    let ed_doc = ed.json();
    assert_eq!(ed_doc["default"], true);
    assert_eq!(ed_doc["type"], "ed25519");
    assert!(ed_doc["warnings"][0].as_str().is_some_and(|w| w.contains("notation cannot verify")), "{ed_doc}");

    let listed = user.json(&["key", "list"]);
    let names: Vec<(&str, bool)> = listed["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| (k["name"].as_str().unwrap_or_default(), k["default"] == true))
        .collect();
    assert_eq!(names, vec![("k1", false), ("k2", true)]);

    // A second key of the same name is refused and signingkeys.json is untouched.
    let before = std::fs::read(config.join("signingkeys.json")).expect("signingkeys.json");
    let line = user.run(&["key", "generate", "k2"]).one_line_error();
    assert!(line.contains("\"k2\" already exists") && line.contains("signingkeys.json"), "{line}");
    assert_eq!(std::fs::read(config.join("signingkeys.json")).expect("signingkeys.json"), before);

    let imported = user.json(&[
        "key",
        "import",
        "k3",
        "--key",
        &key_file.display().to_string(),
        "--cert",
        &config.join("localkeys/k1.crt").display().to_string(),
    ]);
    assert_eq!(imported["type"], "p384");
    assert_eq!(imported["certificates"][0]["sha256Fingerprint"], generated["certificates"][0]["sha256Fingerprint"]);
    assert_eq!(mode(&config.join("localkeys/k3.key")), 0o600);
    assert_eq!(user.json(&["key", "default", "k3"])["default"], "k3");
    let listed = user.ok(&["key", "list"]);
    assert!(listed.stdout.lines().any(|l| l.starts_with("* k3  ")), "{}", listed.describe());
    assert!(listed.stdout.lines().any(|l| l.starts_with("  k2  ")), "{}", listed.describe());

    let deleted = user.run(&["--output", "json", "key", "delete", "k3", "k1", "--remove-files"]).success();
    let doc = deleted.json();
    assert_eq!(doc["removed"], json!(["k3", "k1"]));
    assert_eq!(doc["removedFiles"].as_array().map(Vec::len), Some(4));
    assert!(doc["warnings"][0].as_str().is_some_and(|w| w.contains("default signing key was removed")), "{doc}");
    assert!(!key_file.exists() && !config.join("localkeys/k3.key").exists());
    let names: Vec<Value> = user.json(&["key", "list"])["keys"].as_array().expect("keys").to_vec();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0]["name"], "k2");
    assert_eq!(names[0]["default"], false);
    let line = user.run(&["key", "default", "gone"]).one_line_error();
    assert!(line.contains("no signing key named \"gone\""), "{line}");
}

#[test]
fn certificate_and_policy_lifecycle_through_the_cli() {
    let user = Nv2::new();
    let config = user.config_dir();
    let made = user.json(&["cert", "generate-test", "ca1", "--default"]);
    assert_eq!(made["trustStore"], "ca:ca1");
    assert_eq!(made["default"], true);
    assert_eq!(made["root"]["isCA"], true);
    assert_eq!(made["leaf"]["issuer"], made["root"]["subject"]);
    let root_file = config.join("truststore/x509/ca/ca1/ca1.crt");
    assert!(root_file.is_file());

    // The root goes into a second store and a signingAuthority store; list, show, delete.
    user.json(&["cert", "add", "-t", "ca", "-s", "extra", &root_file.display().to_string()]);
    user.json(&["cert", "add", "-t", "signingAuthority", "-s", "sa", &root_file.display().to_string()]);
    let listed = user.json(&["cert", "list"]);
    let stores: BTreeSet<(String, String)> = listed["certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .map(|c| (c["store"].as_str().unwrap_or_default().into(), c["file"].as_str().unwrap_or_default().into()))
        .collect();
    assert_eq!(
        stores,
        BTreeSet::from([
            ("ca:ca1".into(), "ca1.crt".into()),
            ("ca:extra".into(), "ca1.crt".into()),
            ("signingAuthority:sa".into(), "ca1.crt".into()),
        ])
    );
    let only_sa = user.json(&["cert", "list", "-t", "signingAuthority"]);
    assert_eq!(only_sa["certificates"].as_array().map(Vec::len), Some(1));
    let shown = user.json(&["cert", "show", "-t", "ca", "-s", "extra", "ca1.crt"]);
    assert_eq!(shown["certificates"][0]["sha256Fingerprint"], made["root"]["sha256Fingerprint"]);
    // Deleting needs -y when nobody can be asked.
    let refused = user.run(&["cert", "delete", "-t", "ca", "-s", "extra", "ca1.crt"]);
    assert_eq!(refused.code, 2, "{}", refused.describe());
    assert!(refused.one_line_error().contains("pass -y"));
    assert!(config.join("truststore/x509/ca/extra/ca1.crt").is_file());
    user.json(&["cert", "delete", "-t", "ca", "-s", "extra", "ca1.crt", "-y"]);
    assert!(!config.join("truststore/x509/ca/extra/ca1.crt").exists());
    user.json(&["cert", "delete", "-t", "signingAuthority", "-s", "sa", "--all", "-y"]);
    assert_eq!(user.json(&["cert", "list"])["certificates"].as_array().map(Vec::len), Some(1));

    // policy init → show → refused re-init → import --force → show prints exactly the imported bytes.
    let written = user.json(&[
        "policy",
        "init",
        "--name",
        "first",
        "--scope",
        "*",
        "--trust-store",
        "ca:ca1",
        "--trusted-identity",
        "*",
    ]);
    // notation 1.3 reads only trustpolicy.json: nv2 writes that name when no trustpolicy.oci.json exists.
    assert_eq!(written["path"], config.join("trustpolicy.json").display().to_string());
    let shown = user.json(&["policy", "show"]);
    assert_eq!(shown["policy"]["trustPolicies"][0]["name"], "first");
    assert_eq!(shown["policy"]["trustPolicies"][0]["trustStores"], json!(["ca:ca1"]));
    let again = user.run(&[
        "policy",
        "init",
        "--name",
        "second",
        "--scope",
        "*",
        "--trust-store",
        "ca:ca1",
        "--trusted-identity",
        "*",
    ]);
    assert!(again.one_line_error().contains("already exists (use --force"), "{}", again.describe());
    let imported = br#"{"version":"1.0","trustPolicies":[{"name":"imported","registryScopes":["*"],"signatureVerification":{"level":"audit"},"trustStores":["ca:ca1"],"trustedIdentities":["*"]}]}"#;
    let file = write_file(user.root.path(), "policy.json", imported);
    user.json(&["policy", "import", &file, "--force"]);
    let shown = user.ok(&["policy", "show"]);
    assert_eq!(shown.stdout.as_bytes(), [&imported[..], b"\n"].concat());

    let blob = user.json(&[
        "policy",
        "init",
        "--blob",
        "--name",
        "blobs",
        "--trust-store",
        "ca:ca1",
        "--trusted-identity",
        "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=ca1",
    ]);
    assert_eq!(blob["path"], config.join("trustpolicy.blob.json").display().to_string());
    let shown = user.json(&["policy", "show", "--blob"]);
    assert_eq!(shown["policy"]["trustPolicies"][0]["globalPolicy"], true);
    let scoped = user.run(&["policy", "init", "--blob", "--name", "b", "--scope", "*", "--trust-store", "ca:ca1"]);
    assert_eq!(scoped.code, 2, "{}", scoped.describe());
}

#[test]
fn user_metadata_is_signed_and_required_by_verify() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("ca1");
    let repository = format!("{}/app/meta", registry.host_port);
    let digest = push_image(&user, &repository, "v1", "meta");
    let reference = format!("{repository}@{digest}");
    sign(&user, &["-m", "build=42", "-m", "team=core", &reference]);

    let verdict = user.json(&["verify", "-m", "build=42", &reference]);
    assert_eq!(verdict["accepted"], true);
    user.json(&["verify", "-m", "build=42", "-m", "team=core", &reference]);
    for wrong in ["build=other", "absent=x"] {
        let refused = user.run(&["verify", "-m", wrong, &reference]);
        assert_eq!(refused.code, 1, "{}", refused.describe());
        let line = refused.one_line_error();
        assert!(line.starts_with(&format!("nv2: verification of {reference} failed: ")), "{line}");
        assert!(line.contains("user-metadata-mismatch"), "{line}");
    }
    let inspected = user.json(&["inspect", &reference]);
    assert_eq!(
        inspected["signatures"][0]["envelope"]["payload"]["annotations"],
        json!({"build": "42", "team": "core"})
    );
    assert_eq!(inspected["signatures"][0]["envelope"]["payload"]["digest"], digest.as_str());
    assert_eq!(inspected["signatures"][0]["envelope"]["signingScheme"], "notary.x509");
    // The Notary Project's own prefix cannot be set by a user.
    let reserved = user.run(&["sign", "-m", "io.cncf.notary.x=1", &reference]);
    assert_eq!(reserved.code, 2, "{}", reserved.describe());
    assert!(reserved.one_line_error().contains("reserved"));
}

#[test]
fn an_expired_signature_is_refused_with_the_reason() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("ca1");
    let repository = format!("{}/app/expiring", registry.host_port);
    let digest = push_image(&user, &repository, "v1", "expiring");
    let reference = format!("{repository}@{digest}");
    sign(&user, &["--expiry", "1s", &reference]);
    let inspected = user.json(&["inspect", &reference]);
    let envelope = &inspected["signatures"][0]["envelope"];
    assert!(envelope["expiry"].is_string(), "{inspected}");
    assert_ne!(envelope["expiry"], envelope["signingTime"]);

    std::thread::sleep(std::time::Duration::from_secs(2));
    let refused = user.run(&["verify", &reference]);
    assert_eq!(refused.code, 1, "{}", refused.describe());
    let line = refused.one_line_error();
    let expiry = envelope["expiry"].as_str().unwrap_or_default();
    assert_eq!(
        line,
        format!(
            "nv2: verification of {reference} failed: signature rejected: signature-expired: the signature expired \
             at {expiry}"
        )
    );
    let bad = user.run(&["sign", "--expiry", "soon", &reference]);
    assert_eq!(bad.code, 2, "{}", bad.describe());
    assert!(bad.one_line_error().contains("\"soon\""));
}

#[test]
fn max_signatures_bounds_how_many_are_examined() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("good");
    // A second test CA whose store the policy does not name: its signatures are well-formed but untrusted.
    user.ok(&["cert", "generate-test", "rogue"]);
    let repository = format!("{}/app/many", registry.host_port);
    let digest = push_image(&user, &repository, "v1", "many");
    let reference = format!("{repository}@{digest}");
    sign(&user, &["--key", "rogue", &reference]);
    sign(&user, &["--key", "rogue", "--signature-format", "cose", &reference]);
    // Signatures are examined in the registry's order (by digest): re-sign until the good one comes last, so the
    // two bad ones are examined first. Each try has a 1 in 3 chance; signature delete removes misplaced ones.
    let mut good = None;
    for attempt in 0..40 {
        // Each attempt signs different metadata: a same-second re-sign would otherwise be byte-identical
        // (deterministic ECDSA, one-second signing time) and sort where the last one did.
        let metadata = format!("attempt={attempt}");
        let signature = sign(&user, &["--key", "good", "-m", &metadata, &reference]);
        if signatures(&user, &reference).last() == Some(&signature) {
            good = Some(signature);
            break;
        }
        user.json(&["signature", "delete", &reference, "--signature", &signature, "-y"]);
    }
    let good = good.expect("the good signature never sorted last in 40 tries");
    assert_eq!(signatures(&user, &reference).len(), 3);

    for max in ["1", "2"] {
        let refused = user.run(&["--output", "json", "verify", "--max-signatures", max, &reference]);
        assert_eq!(refused.code, 1, "{}", refused.describe());
        let doc = refused.json();
        assert_eq!(doc["details"]["signatures"].as_array().map(Vec::len), Some(max.parse().unwrap_or(0)), "{doc}");
        assert_eq!(
            doc["details"]["reason"],
            format!("no valid signature among the first {max} (the --max-signatures bound)")
        );
        for examined in doc["details"]["signatures"].as_array().into_iter().flatten() {
            assert_eq!(examined["rejectedBy"]["kind"], "untrusted-certificate", "{doc}");
        }
    }
    let accepted = user.json(&["verify", "--max-signatures", "3", &reference]);
    assert_eq!(accepted["decision"]["signature"], 2);
    assert_eq!(accepted["signatures"][2]["manifestDigest"], good.as_str());
    user.json(&["verify", &reference]);

    // The same bound on list: two of three shown, with a warning.
    let listed = user.run(&["list", "--max-signatures", "2", &reference]).success();
    assert_eq!(listed.stderr, "warning: showing 2 of 3 signatures (--max-signatures)\n");
    let all = signatures(&user, &reference);
    assert_eq!(listed.stdout, format!("{reference}\n└── {NOTARY_SIGNATURE}\n    ├── {}\n    └── {}\n", all[0], all[1]));
}

#[test]
fn signature_delete_removes_one_or_all() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("ca1");
    let repository = format!("{}/app/del", registry.host_port);
    let digest = push_image(&user, &repository, "v1", "del");
    let reference = format!("{repository}@{digest}");
    let first = sign(&user, &[&reference]);
    let second = sign(&user, &["--signature-format", "cose", &reference]);
    let other_image = push_image(&user, &repository, "v2", "other");

    // Without -y and without a terminal nothing is deleted.
    let refused = user.run(&["signature", "delete", &reference, "--signature", &first]);
    assert_eq!(refused.code, 2, "{}", refused.describe());
    assert_eq!(signatures(&user, &reference).len(), 2);
    // A digest that is not one of its signatures is refused by name.
    let line = user.run(&["signature", "delete", &reference, "--signature", &other_image, "-y"]).one_line_error();
    assert_eq!(line, format!("nv2: {other_image} is not a signature of {reference}"));

    let deleted = user.json(&["signature", "delete", &reference, "--signature", &first, "-y"]);
    assert_eq!(deleted["deleted"].as_array().map(|d| d.iter().map(digest_of).collect::<Vec<_>>()), Some(vec![first]));
    assert_eq!(signatures(&user, &reference), vec![second.clone()]);
    user.json(&["verify", &reference]);

    let deleted = user.json(&["signature", "delete", &reference, "--all", "-y"]);
    assert_eq!(deleted["deleted"].as_array().map(|d| d.iter().map(digest_of).collect::<Vec<_>>()), Some(vec![second]));
    assert!(signatures(&user, &reference).is_empty());
    let listed = user.ok(&["list", &reference]);
    assert_eq!(listed.stdout, format!("{reference}\n└── no signatures\n"));
    let line = user.run(&["verify", &reference]).one_line_error();
    assert_eq!(line, format!("nv2: verification of {reference} failed: no signature is associated with the artifact"));
}

#[test]
fn blob_signatures_for_every_key_type_and_envelope() {
    let user = Nv2::new();
    for (name, key_type) in [("p256", "p256"), ("p384", "p384"), ("ed", "ed25519")] {
        user.ok(&["cert", "generate-test", name, "--type", key_type]);
    }
    user.ok(&[
        "policy",
        "init",
        "--blob",
        "--name",
        "blobs",
        "--trust-store",
        "ca:p256",
        "--trust-store",
        "ca:p384",
        "--trust-store",
        "ca:ed",
        "--trusted-identity",
        "*",
    ]);
    let content = b"release notes 1.0\n".to_vec();
    for (key, hash, algorithm) in
        [("p256", sha256(&content), "ES256"), ("p384", sha384(&content), "ES384"), ("ed", sha256(&content), "EdDSA")]
    {
        for format in ["jws", "cose"] {
            let dir = user.path(&format!("blob-{key}-{format}"));
            std::fs::create_dir_all(&dir).expect("dir");
            let file = write_file(&dir, "notes.txt", &content);
            let signature = format!("{file}.{format}.sig");
            let signed =
                user.run(&["--output", "json", "blob", "sign", "--key", key, "--signature-format", format, &file]);
            let doc = signed.success().json();
            assert_eq!(doc["signature"], signature.as_str());
            assert_eq!(doc["format"], format);
            assert!(std::path::Path::new(&signature).is_file());

            let verified = user.json(&["blob", "verify", "-s", &signature, &file]);
            assert_eq!(verified["accepted"], true, "{verified}");
            assert_eq!(verified["signatures"][0]["signer"]["algorithm"], algorithm, "{verified}");
            assert_eq!(verified["signatures"][0]["format"], format);

            let inspected = user.json(&["blob", "inspect", &signature]);
            let media_type = if format == "jws" { "application/jose+json" } else { "application/cose" };
            assert_eq!(inspected["envelope"]["mediaType"], media_type);
            assert_eq!(inspected["envelope"]["payload"]["digest"], hash.as_str(), "{key}/{format}");
            assert_eq!(inspected["envelope"]["payload"]["size"], content.len());
            assert_eq!(
                inspected["envelope"]["certificates"][0]["subject"],
                format!("CN={key},O=Notary,L=Seattle,ST=WA,C=US")
            );

            // An existing signature is kept unless --force.
            let again = user.run(&["blob", "sign", "--key", key, "--signature-format", format, &file]);
            assert!(again.one_line_error().contains("pass --force"), "{}", again.describe());

            // One changed byte: refused, naming the file and the payload mismatch.
            let mut tampered = content.clone();
            tampered[0] ^= 1;
            std::fs::write(&file, &tampered).expect("tamper");
            let refused = user.run(&["blob", "verify", "-s", &signature, &file]);
            assert_eq!(refused.code, 1, "{}", refused.describe());
            let line = refused.one_line_error();
            assert!(
                line.starts_with(&format!("nv2: verification of {file} failed: signature rejected: payload-mismatch")),
                "{line}"
            );
        }
    }
    // The signature file's name must say its format.
    let file = write_file(user.root.path(), "x.txt", b"x");
    let renamed = write_file(user.root.path(), "x.sig", b"{}");
    let refused = user.run(&["blob", "verify", "-s", &renamed, &file]);
    assert_eq!(refused.code, 2, "{}", refused.describe());
    assert!(refused.one_line_error().contains(".jws.sig or .cose.sig"));
}

#[test]
fn force_referrers_tag_writes_the_fallback_tag_index() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    user.trust_new_test_key("ca1");
    let repository = format!("{}/app/tagged", registry.host_port);
    let digest = push_image(&user, &repository, "v1", "tag-schema");
    let reference = format!("{repository}@{digest}");

    let signature = sign(&user, &["--force-referrers-tag", &reference]);
    let fallback = format!("sha256-{}", digest.trim_start_matches("sha256:"));
    assert_eq!(tags(&user, &repository), BTreeSet::from(["v1".to_string(), fallback.clone()]));
    let index = user.json(&["manifest", "fetch", &format!("{repository}:{fallback}")]);
    assert_eq!(index["manifest"]["mediaType"], "application/vnd.oci.image.index.v1+json");
    let listed: Vec<String> =
        index["manifest"]["manifests"].as_array().expect("manifests").iter().map(digest_of).collect();
    assert_eq!(listed, vec![signature.clone()]);
    assert_eq!(index["manifest"]["manifests"][0]["artifactType"], NOTARY_SIGNATURE);
    user.json(&["verify", &reference]);

    // Without the flag nv2-registry's referrers API is used: no tag appears.
    let plain = push_image(&user, &format!("{}/app/api", registry.host_port), "v1", "api");
    sign(&user, &[&format!("{}/app/api@{plain}", registry.host_port)]);
    assert_eq!(tags(&user, &format!("{}/app/api", registry.host_port)), BTreeSet::from(["v1".to_string()]));
}

#[test]
fn completion_prints_shell_scripts() {
    let user = Nv2::new();
    let bash = user.ok(&["completion", "bash"]);
    assert!(bash.stderr.is_empty());
    assert!(bash.stdout.starts_with("_nv2() {"), "{}", &bash.stdout[..bash.stdout.len().min(200)]);
    assert!(bash.stdout.contains("complete -F _nv2 -o nosort -o bashdefault -o default nv2"));
    for word in ["sign", "verify", "discover", "--signature-format", "--force-referrers-tag"] {
        assert!(bash.stdout.contains(word), "bash completion lacks {word}");
    }
    let zsh = user.ok(&["completion", "zsh"]);
    assert!(zsh.stdout.starts_with("#compdef nv2"));
    let fish = user.ok(&["completion", "fish"]);
    assert!(fish.stdout.contains("complete -c nv2"));
    assert_eq!(user.run(&["completion", "tcsh"]).code, 2);
}

#[test]
fn private_registry_with_flags_docker_config_and_login() {
    let registry = TestRegistry::start_with_users("access = \"private\"", &[("alice", "secret")]);
    let host = registry.host_port.clone();
    let user = Nv2::new();
    let file = write_file(user.root.path(), "app.txt", b"private\n");
    let repository = format!("{host}/team/app");

    let anonymous = user.run(&["push", &format!("{repository}:v1"), &file]).one_line_error();
    assert!(anonymous.contains(&host) && anonymous.contains("401"), "{anonymous}");
    let pushed = user.json(&["-u", "alice", "-p", "secret", "push", &format!("{repository}:v1"), &file]);
    let digest = digest_of(&pushed["descriptor"]);

    // A docker config.json `auths` entry, given with --registry-config.
    let auth = Base64::encode_string(b"alice:secret");
    std::fs::write(user.registry_config(), json!({"auths": {host.clone(): {"auth": auth}}}).to_string())
        .expect("docker config");
    assert_eq!(user.ok(&["resolve", &format!("{repository}:v1")]).stdout, format!("{digest}\n"));
    std::fs::remove_file(user.registry_config()).expect("remove docker config");
    let line = user.run(&["resolve", &format!("{repository}:v1")]).one_line_error();
    assert!(line.contains(&host) && line.contains("401"), "{line}");

    // login with a wrong password stores nothing; the right one is stored 0600 and used; logout removes it.
    let wrong = user.run(&["-u", "alice", "-p", "wrong", "login", &host]).one_line_error();
    assert!(wrong.contains(&host) && wrong.contains("401"), "{wrong}");
    assert!(!user.registry_config().exists(), "a failed login must not write credentials");
    let login = user.run(&["-u", "alice", "-p", "secret", "login", &host]).success();
    assert_eq!(login.stdout, format!("Login Succeeded ({host})\n"));
    assert_eq!(mode(&user.registry_config()), 0o600);
    let stored: Value =
        serde_json::from_slice(&std::fs::read(user.registry_config()).expect("docker config")).expect("JSON");
    assert_eq!(stored["auths"][host.as_str()]["auth"], Base64::encode_string(b"alice:secret"));
    assert_eq!(user.ok(&["resolve", &format!("{repository}:v1")]).stdout, format!("{digest}\n"));
    let logout = user.ok(&["logout", &host]);
    assert_eq!(logout.stdout, format!("Removed login credentials for {host}\n"));
    let line = user.run(&["resolve", &format!("{repository}:v1")]).one_line_error();
    assert!(line.contains("401"), "{line}");
    assert_eq!(user.ok(&["logout", &host]).stdout, format!("Not logged in to {host}\n"));

    // --password-stdin.
    let mut command = user.command();
    command.args(["-u", "alice", "login", "--password-stdin", &host]).stdin(std::process::Stdio::piped());
    command.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("nv2 login");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(b"secret\n").expect("password");
    }
    let output = child.wait_with_output().expect("login output");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(user.ok(&["resolve", &format!("{repository}:v1")]).stdout, format!("{digest}\n"));
}

#[test]
fn blob_push_fetch_and_delete_by_digest_in_a_registry_and_an_oci_layout() {
    let registry = TestRegistry::start("");
    let user = Nv2::new();
    let content = b"a blob that is not empty\n".repeat(1000);
    let file = write_file(user.root.path(), "blob.bin", &content);
    let digest = sha256(&content);
    let layout = user.path("layout").display().to_string();
    let in_layout = user.json(&["blob", "push", "--oci-layout", &layout, &file]);
    assert_eq!(digest_of(&in_layout["descriptor"]), digest, "{in_layout}");
    let repository = format!("{}/blobs/demo", registry.host_port);
    let stored = user.json(&["blob", "push", &repository, &file]);
    assert_eq!(digest_of(&stored["descriptor"]), digest, "{stored}");

    for (flags, target) in
        [(vec![], format!("{repository}@{digest}")), (vec!["--oci-layout"], format!("{layout}@{digest}"))]
    {
        let out = user.path(&format!("fetched-{}.bin", flags.len())).display().to_string();
        let mut args = vec!["blob", "fetch"];
        args.extend(&flags);
        args.extend([target.as_str(), "--output-file", out.as_str()]);
        let fetched = user.json(&args);
        assert_eq!(fetched["size"], content.len(), "{fetched}");
        assert_eq!(std::fs::read(&out).unwrap(), content, "{target}");
        // To standard output, the bytes themselves.
        let mut args = vec!["blob", "fetch"];
        args.extend(&flags);
        args.push(target.as_str());
        let raw = user.command().args(&args).output().unwrap();
        assert!(raw.status.success(), "{target}: {}", String::from_utf8_lossy(&raw.stderr));
        assert_eq!(raw.stdout, content, "{target}");
    }

    // An unknown digest is a one-line "not found", in both stores.
    let missing = sha256(b"never stored");
    for (flags, target) in
        [(vec![], format!("{repository}@{missing}")), (vec!["--oci-layout"], format!("{layout}@{missing}"))]
    {
        let mut args = vec!["blob", "fetch"];
        args.extend(&flags);
        args.push(target.as_str());
        let refused = user.run(&args);
        assert_eq!(refused.code, 1, "{}", refused.describe());
        assert!(refused.stderr.contains("not found") && refused.stderr.lines().count() == 1, "{}", refused.describe());
    }

    let deleted = user.json(&["blob", "delete", "--force", &format!("{repository}@{digest}")]);
    assert_eq!(digest_of(&deleted["deleted"]), digest, "{deleted}");
    let gone = user.run(&["blob", "fetch", &format!("{repository}@{digest}")]);
    assert_eq!(gone.code, 1, "{}", gone.describe());
}
