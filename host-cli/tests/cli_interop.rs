//! Issue 4, point 5: the real `nv2` binary against real peers.
//!
//! - notation 1.3.2 verifies images signed by `nv2 sign`, in JWS and in COSE (nv2's test CA in the shared trust
//!   store), and `nv2 verify` accepts images signed by `notation sign` (RSA-PSS, JWS and COSE) and refuses them
//!   with one line when the trust policy names another store;
//! - `oras discover` shows nv2's signature and SBoM, `nv2 discover` shows what `oras attach` linked;
//! - `nv2 copy -r` nv2-registry → distribution (tag fallback) → a fresh nv2-registry → another fresh nv2-registry
//!   leaves the image's signatures, the SBoM and the SBoM's own signature verifiable at every destination;
//! - `regctl artifact tree` shows the referrers nv2 pushed.
//!
//! notation and nv2 share one config dir (`NOTATION_CONFIG` = `nv2 --config`). zot is not obtainable on this
//! machine (the Go module proxy refuses it), so the referrers-API peer registry is nv2-registry itself.
//! Peers missing: skipped with a printed reason, a failure under CI=true.

mod cli_support;
mod common;

use std::collections::BTreeSet;

use cli_support::{digest_of, push_image, write_file, Nv2, Peer};
use common::{DistributionRegistry, TestRegistry};
use serde_json::Value;

const NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
const SPDX: &str = "application/spdx+json";

/// `localhost:PORT` for a `127.0.0.1:PORT` registry: notation and oras use plain HTTP for localhost on their own.
fn localhost(host_port: &str) -> String {
    host_port.replace("127.0.0.1", "localhost")
}

/// Signs `reference` with nv2 and returns the signature manifest digest.
fn nv2_sign(user: &Nv2, reference: &str, format: &str) -> String {
    let doc = user.json(&["sign", "--signature-format", format, reference]);
    let signatures = doc["signatures"].as_array().expect("signatures array");
    assert_eq!(signatures.len(), 1, "{doc}");
    assert_eq!(signatures[0]["format"], format, "{doc}");
    digest_of(&signatures[0]["signature"])
}

/// Attaches an SPDX SBoM to `subject` with nv2 and returns its manifest digest.
fn nv2_attach_sbom(user: &Nv2, subject: &str) -> String {
    let file = write_file(user.root.path(), "sbom.spdx.json", br#"{"spdxVersion":"SPDX-2.3","name":"app"}"#);
    let doc = user.json(&["attach", "--artifact-type", SPDX, subject, &format!("{file}:{SPDX}")]);
    assert_eq!(doc["artifactType"], SPDX);
    digest_of(&doc["descriptor"])
}

/// `nv2 verify --output json` on a reference that must be accepted; returns the verdict.
fn nv2_verified(user: &Nv2, reference: &str) -> Value {
    let verdict = user.json(&["verify", reference]);
    assert_eq!(verdict["accepted"], true, "{verdict}");
    assert_eq!(verdict["decision"]["result"], "verified", "{verdict}");
    verdict
}

/// The signature report that passed in a verdict.
fn passing_signature(verdict: &Value) -> &Value {
    let index = verdict["decision"]["signature"].as_u64().expect("verified signature index") as usize;
    &verdict["signatures"][index]
}

/// The digests of the first-level referrers in `nv2 discover --output json` (or of a nested node), with their
/// artifact types.
fn discovered(node: &Value) -> BTreeSet<(String, String)> {
    node["referrers"]
        .as_array()
        .expect("referrers array")
        .iter()
        .map(|m| (digest_of(m), m["artifactType"].as_str().unwrap_or_default().to_string()))
        .collect()
}

/// The node for `digest` among a discover node's children.
fn child<'a>(node: &'a Value, digest: &str) -> &'a Value {
    node["referrers"]
        .as_array()
        .and_then(|m| m.iter().find(|c| c["digest"] == digest))
        .unwrap_or_else(|| panic!("{digest} is not a child of {node}"))
}

#[test]
fn notation_verifies_images_signed_by_nv2_in_jws_and_cose() {
    let user = Nv2::new();
    let Some(notation) = Peer::find("notation", &user) else { return };
    let registry = TestRegistry::start("");
    let host = localhost(&registry.host_port);
    user.trust_new_test_key("nv2ca");

    let jws_image = push_image(&user, &format!("{host}/app/jws"), "v1", "jws");
    let cose_image = push_image(&user, &format!("{host}/app/cose"), "v1", "cose");
    let unsigned = push_image(&user, &format!("{host}/app/unsigned"), "v1", "unsigned");
    let jws_ref = format!("{host}/app/jws@{jws_image}");
    let cose_ref = format!("{host}/app/cose@{cose_image}");
    let jws_signature = nv2_sign(&user, &jws_ref, "jws");
    let cose_signature = nv2_sign(&user, &cose_ref, "cose");

    for (reference, signature, media_type) in
        [(&jws_ref, &jws_signature, "application/jose+json"), (&cose_ref, &cose_signature, "application/cose")]
    {
        let verified = notation.ok(&["verify", reference]);
        assert_eq!(verified.stdout.trim(), format!("Successfully verified signature for {reference}"));
        // notation sees exactly nv2's one signature, in the envelope format nv2 was asked for.
        let inspected: Value = serde_json::from_str(&notation.ok(&["inspect", "-o", "json", reference]).stdout)
            .expect("notation inspect JSON");
        let signatures = inspected["Signatures"].as_array().expect("Signatures");
        assert_eq!(signatures.len(), 1, "{inspected}");
        assert_eq!(signatures[0]["digest"], signature.as_str());
        assert_eq!(signatures[0]["mediaType"], media_type);
        assert_eq!(signatures[0]["signatureAlgorithm"], "ECDSA-SHA-256");
        assert_eq!(signatures[0]["unsignedAttributes"]["signingAgent"], "nv2/0.1.0");
    }
    // The control: notation does refuse what nv2 did not sign.
    let refused = notation.run(&["verify", &format!("{host}/app/unsigned@{unsigned}")]).failure();
    assert!(refused.stderr.contains("no signature is associated"), "{}", refused.describe());
}

#[test]
fn nv2_verifies_notation_signatures_and_refuses_them_under_another_store() {
    let user = Nv2::new();
    let Some(notation) = Peer::find("notation", &user) else { return };
    let registry = TestRegistry::start("");
    let host = localhost(&registry.host_port);
    // notation's own key (RSA-2048, the only kind it makes) and store `notationca`; nv2's store `nv2ca` beside it.
    notation.ok(&["cert", "generate-test", "notationca"]);
    user.ok(&["cert", "generate-test", "nv2ca"]);
    let trust = |store: &str| {
        user.ok(&[
            "policy",
            "init",
            "--name",
            "images",
            "--scope",
            &format!("{host}/app/jws"),
            "--scope",
            &format!("{host}/app/cose"),
            "--trust-store",
            store,
            "--trusted-identity",
            "*",
            "--force",
        ]);
    };
    trust("ca:notationca");

    let jws_image = push_image(&user, &format!("{host}/app/jws"), "v1", "jws");
    let cose_image = push_image(&user, &format!("{host}/app/cose"), "v1", "cose");
    let jws_ref = format!("{host}/app/jws@{jws_image}");
    let cose_ref = format!("{host}/app/cose@{cose_image}");
    // JWS through notation's default tag schema; COSE through the referrers API.
    notation.ok(&["sign", "--key", "notationca", &jws_ref]);
    notation.ok(&[
        "sign",
        "--key",
        "notationca",
        "--signature-format",
        "cose",
        "--force-referrers-tag=false",
        &cose_ref,
    ]);

    for (reference, format) in [(&jws_ref, "jws"), (&cose_ref, "cose")] {
        let verdict = nv2_verified(&user, reference);
        let signature = passing_signature(&verdict);
        assert_eq!(signature["format"], format, "{verdict}");
        assert_eq!(signature["signer"]["algorithm"], "PS256", "{verdict}");
        assert_eq!(signature["signer"]["subject"], "CN=notationca,O=Notary,L=Seattle,ST=WA,C=US", "{verdict}");
        assert_eq!(verdict["policy"], "images");
    }

    // The same signatures under a policy that trusts only nv2's store: refused, exit 1, one line naming why.
    trust("ca:nv2ca");
    for reference in [&jws_ref, &cose_ref] {
        let refused = user.run(&["verify", reference]);
        assert_eq!(refused.code, 1, "{}", refused.describe());
        let line = refused.one_line_error();
        assert_eq!(
            line,
            format!(
                "nv2: verification of {reference} failed: signature rejected: untrusted-certificate: no certificate \
                 of the signing chain is in the ca trust stores of the policy"
            )
        );
        let json = user.run(&["--output", "json", "verify", reference]);
        assert_eq!(json.code, 1);
        assert!(json.stderr.is_empty(), "{}", json.describe());
        let doc = json.json();
        assert_eq!(doc["kind"], "verification_refused");
        assert_eq!(doc["details"]["signatures"][0]["rejectedBy"]["kind"], "untrusted-certificate");
    }
}

#[test]
fn oras_discover_shows_nv2_referrers_and_nv2_discover_shows_oras_attach() {
    let user = Nv2::new();
    let Some(oras) = Peer::find("oras", &user) else { return };
    let registry = TestRegistry::start("");
    let host = localhost(&registry.host_port);
    user.trust_new_test_key("nv2ca");
    let image = push_image(&user, &format!("{host}/app/img"), "v1", "img");
    let reference = format!("{host}/app/img@{image}");
    let signature = nv2_sign(&user, &reference, "jws");
    let sbom = nv2_attach_sbom(&user, &reference);

    let discovered_by_oras: Value =
        serde_json::from_str(&oras.ok(&["discover", "--plain-http", "--format", "json", &reference]).stdout)
            .expect("oras discover JSON");
    assert_eq!(discovered_by_oras["digest"], image.as_str());
    let referrers: BTreeSet<(String, String)> = discovered_by_oras["referrers"]
        .as_array()
        .expect("referrers")
        .iter()
        .map(|r| (digest_of(r), r["artifactType"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert_eq!(
        referrers,
        BTreeSet::from([(signature.clone(), NOTARY_SIGNATURE.to_string()), (sbom.clone(), SPDX.to_string())])
    );

    write_file(user.root.path(), "scan.txt", b"no findings\n");
    let attached: Value = serde_json::from_str(
        &oras
            .ok(&[
                "attach",
                "--plain-http",
                "--format",
                "json",
                "--artifact-type",
                "application/vnd.example.scan",
                &reference,
                "scan.txt",
            ])
            .stdout,
    )
    .expect("oras attach JSON");
    let scan_digest = digest_of(&attached);

    let tree = user.json(&["discover", &reference]);
    assert_eq!(tree["digest"], image.as_str());
    // The document `oras discover --format json` prints: the same members for the subject and for a referrer.
    let members = |v: &Value| v.as_object().map(|o| o.keys().cloned().collect::<BTreeSet<_>>()).unwrap_or_default();
    assert_eq!(members(&tree), members(&discovered_by_oras), "{tree}");
    let signature_node = |doc: &Value| child(doc, &signature).clone();
    assert_eq!(members(&signature_node(&tree)), members(&signature_node(&discovered_by_oras)), "{tree}");
    assert_eq!(signature_node(&tree)["annotations"], signature_node(&discovered_by_oras)["annotations"]);
    assert_eq!(
        discovered(&tree),
        BTreeSet::from([
            (signature, NOTARY_SIGNATURE.to_string()),
            (sbom, SPDX.to_string()),
            (scan_digest.clone(), "application/vnd.example.scan".to_string()),
        ])
    );
    // What oras linked is a usable artifact for nv2: its file comes back byte-identical.
    let out = user.path("pulled");
    user.ok(&["pull", &format!("{host}/app/img@{scan_digest}"), "-o", &out.display().to_string()]);
    assert_eq!(std::fs::read(out.join("scan.txt")).expect("pulled scan.txt"), b"no findings\n");
}

/// Verifies the image, its SBoM and the SBoM's signature at `repository` and checks the referrer tree.
fn assert_graph_verifies(user: &Nv2, repository: &str, image: &str, image_signatures: &[String], sbom: &str) -> Value {
    for subject in [image, sbom] {
        nv2_verified(user, &format!("{repository}@{subject}"));
    }
    let tree = user.json(&["discover", &format!("{repository}@{image}")]);
    let mut expected: BTreeSet<(String, String)> =
        image_signatures.iter().map(|s| (s.clone(), NOTARY_SIGNATURE.to_string())).collect();
    expected.insert((sbom.to_string(), SPDX.to_string()));
    assert_eq!(discovered(&tree), expected, "{tree}");
    tree
}

#[test]
fn copy_recursive_through_distribution_and_back_keeps_every_signature_verifiable() {
    let user = Nv2::new();
    let Some(distribution) = DistributionRegistry::start() else { return };
    let source = TestRegistry::start("");
    let back = TestRegistry::start("");
    let again = TestRegistry::start("");
    user.trust_new_test_key("nv2ca");

    let src = format!("{}/app/img", source.host_port);
    let image = push_image(&user, &src, "v1", "img");
    let image_signatures =
        vec![nv2_sign(&user, &format!("{src}@{image}"), "jws"), nv2_sign(&user, &format!("{src}@{image}"), "cose")];
    let sbom = nv2_attach_sbom(&user, &format!("{src}@{image}"));
    let sbom_signature = nv2_sign(&user, &format!("{src}@{sbom}"), "jws");
    let tree = assert_graph_verifies(&user, &src, &image, &image_signatures, &sbom);
    assert_eq!(discovered(child(&tree, &sbom)), BTreeSet::from([(sbom_signature.clone(), NOTARY_SIGNATURE.into())]));

    let hops = [
        (src.clone(), format!("{}/mirror/img", distribution.host_port)),
        (format!("{}/mirror/img", distribution.host_port), format!("{}/back/img", back.host_port)),
        (format!("{}/back/img", back.host_port), format!("{}/again/img", again.host_port)),
    ];
    for (from, to) in &hops {
        let copied = user.json(&["copy", "-r", &format!("{from}:v1"), &format!("{to}:v1")]);
        assert_eq!(digest_of(&copied["root"]), image, "{copied}");
        assert_eq!(copied["tags"], serde_json::json!(["v1"]));
        // Two image signatures, the SBoM, and the SBoM's signature.
        assert_eq!(copied["referrers"].as_array().map(Vec::len), Some(4), "{copied}");
        assert_eq!(user.json(&["resolve", &format!("{to}:v1")])["descriptor"]["digest"], image.as_str());
        let tree = assert_graph_verifies(&user, to, &image, &image_signatures, &sbom);
        assert_eq!(
            discovered(child(&tree, &sbom)),
            BTreeSet::from([(sbom_signature.clone(), NOTARY_SIGNATURE.into())]),
            "the SBoM's signature did not travel to {to}"
        );
    }

    // distribution has no referrers API: the copy wrote the tag schema there; the nv2-registries answer the API, so
    // no fallback tags appeared on them.
    let hex = |d: &str| d.trim_start_matches("sha256:").to_string();
    let tags = |repository: &str| -> BTreeSet<String> {
        let doc = user.json(&["repo", "tags", repository]);
        doc["tags"].as_array().expect("tags").iter().filter_map(|t| t.as_str().map(str::to_string)).collect()
    };
    assert_eq!(
        tags(&format!("{}/mirror/img", distribution.host_port)),
        BTreeSet::from([format!("sha256-{}", hex(&image)), format!("sha256-{}", hex(&sbom)), "v1".to_string()])
    );
    for repository in [format!("{}/back/img", back.host_port), format!("{}/again/img", again.host_port)] {
        assert_eq!(tags(&repository), BTreeSet::from(["v1".to_string()]), "{repository}");
    }

    // notation, when installed, reads the tag-schema copy at distribution too.
    if let Some(notation) = Peer::find("notation", &user) {
        let mirrored = format!("{}/mirror/img@{image}", localhost(&distribution.host_port));
        let verified = notation.ok(&["verify", &mirrored]);
        assert_eq!(verified.stdout.trim(), format!("Successfully verified signature for {mirrored}"));
    }
}

/// The digests of a regctl `artifact tree` node's referrers.
fn regctl_referrers(node: &Value) -> BTreeSet<String> {
    node["referrer"]
        .as_array()
        .map(|r| r.iter().filter_map(|c| c["reference"]["Digest"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[test]
fn regctl_artifact_tree_shows_the_referrers_nv2_pushed() {
    let user = Nv2::new();
    let Some(regctl) = Peer::find("regctl", &user) else { return };
    let registry = TestRegistry::start("");
    let host = registry.host_port.clone();
    user.trust_new_test_key("nv2ca");
    let image = push_image(&user, &format!("{host}/app/img"), "v1", "img");
    let reference = format!("{host}/app/img@{image}");
    let signature = nv2_sign(&user, &reference, "cose");
    let sbom = nv2_attach_sbom(&user, &reference);
    let sbom_signature = nv2_sign(&user, &format!("{host}/app/img@{sbom}"), "jws");

    regctl.ok(&["registry", "set", "--tls", "disabled", &host]);
    let tree: Value =
        serde_json::from_str(&regctl.ok(&["artifact", "tree", "--format", "{{jsonPretty .}}", &reference]).stdout)
            .expect("regctl artifact tree JSON");
    assert_eq!(tree["reference"]["Digest"], image.as_str());
    assert_eq!(regctl_referrers(&tree), BTreeSet::from([signature.clone(), sbom.clone()]));
    let sbom_node = tree["referrer"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["reference"]["Digest"] == sbom.as_str()))
        .expect("SBoM node");
    assert_eq!(sbom_node["manifest"]["artifactType"], SPDX);
    assert_eq!(sbom_node["manifest"]["subject"]["digest"], image.as_str());
    assert_eq!(regctl_referrers(sbom_node), BTreeSet::from([sbom_signature]));
    let signature_node = tree["referrer"]
        .as_array()
        .and_then(|r| r.iter().find(|c| c["reference"]["Digest"] == signature.as_str()))
        .expect("signature node");
    assert_eq!(signature_node["manifest"]["artifactType"], NOTARY_SIGNATURE);
    assert_eq!(signature_node["manifest"]["layers"][0]["mediaType"], "application/cose");
}
