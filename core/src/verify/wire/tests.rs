//! The wire format end to end: real signatures through [`verify_json`], every request error kind, the policy forms,
//! store encodings, blob targets, inspect, and hostile requests that must still get a well-formed answer.

use super::*;
use crate::crypto::{KeyKind, SigningKey};
use crate::envelope::EnvelopeFormat;
use crate::oci::{media_types, Descriptor};
use crate::sign::{self, SignOptions, SignedArtifact};
use crate::time::Timestamp;
use crate::verify::{BlobDigests, Decision, Outcome, Rejection};
use crate::x509::{issue, Certificate};
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::{format, vec};
use der::EncodePem;
use serde_json::{json, Value};

const LEAF: &str = "CN=wire leaf,O=Notary,ST=WA,C=US";

fn t(year: i64) -> Timestamp {
    Timestamp::from_civil(year, 1, 1, 0, 0, 0).unwrap()
}

struct Signer {
    key: SigningKey,
    root: Certificate,
    leaf: Certificate,
}

fn signer() -> Signer {
    let root_key = SigningKey::from_seed(KeyKind::P256, &[7; 32]).unwrap();
    let key = SigningKey::from_seed(KeyKind::P256, &[8; 32]).unwrap();
    let (root, leaf) =
        issue::test_chain("CN=wire root,O=Notary,ST=WA,C=US", &root_key, LEAF, &key, t(2025), t(2030)).unwrap();
    Signer { key, root, leaf }
}

fn options(format: EnvelopeFormat) -> SignOptions {
    SignOptions {
        format,
        signing_time: t(2026),
        expiry: None,
        user_metadata: BTreeMap::from([(String::from("env"), String::from("prod"))]),
        signing_agent: String::from("nv2/wire-test"),
    }
}

fn target() -> Descriptor {
    Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, br#"{"schemaVersion":2,"layers":[]}"#)
}

fn sign(s: &Signer, format: EnvelopeFormat) -> SignedArtifact {
    sign::sign_artifact(&target(), &s.key, &[s.leaf.clone(), s.root.clone()], &options(format)).unwrap()
}

fn statement(level: &str) -> Value {
    json!({
        "name": "wire",
        "registryScopes": ["registry.example/app"],
        "signatureVerification": {"level": level},
        "trustStores": ["ca:wire"],
        "trustedIdentities": [format!("x509.subject: {LEAF}")],
    })
}

/// A request for `signed` under the statement form, the root in base64 DER.
fn request(s: &Signer, signed: &SignedArtifact) -> Value {
    let d = target();
    json!({
        "version": 1,
        "target": {"type": "manifest", "mediaType": d.media_type, "digest": d.digest.to_string(), "size": d.size},
        "signatures": [{"manifest": encode_base64(&signed.manifest), "envelope": encode_base64(&signed.envelope)}],
        "policy": {"statement": statement("strict")},
        "trustStores": [{"type": "ca", "name": "wire", "certificates": [encode_base64(s.root.der())]}],
        "now": "2026-06-01T00:00:00Z",
    })
}

fn run(request: &Value) -> VerifyResponse {
    let bytes = verify_json(request.to_string().as_bytes());
    VerifyResponse::from_json(&bytes).unwrap()
}

fn error_kind(request: &[u8]) -> String {
    let response = VerifyResponse::from_json(&verify_json(request)).unwrap();
    assert!(response.verdict.is_none());
    response.error.map(|e| e.kind).unwrap_or_default()
}

#[test]
fn a_real_signature_verifies_through_the_wire_in_both_formats() {
    let s = signer();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let signed = sign(&s, format);
        let response = run(&request(&s, &signed));
        assert_eq!(response.version, WIRE_VERSION);
        let verdict = response.verdict.expect("a verdict");
        assert!(verdict.accepted, "{}", verdict.reason);
        assert_eq!(
            verdict.decision,
            DecisionView { result: "verified".into(), signature: Some(0), rejection: None, max: None }
        );
        assert_eq!(verdict.policy, "wire");
        let signature = &verdict.signatures[0];
        assert_eq!(signature.format.as_deref(), Some(format.name()));
        assert_eq!(signature.manifest_digest.as_ref(), Some(&signed.manifest_descriptor.digest.to_string()));
        let signer = signature.signer.as_ref().unwrap();
        assert_eq!((signer.subject.as_str(), signer.chain_sha256.len()), (LEAF, 2));
        assert_eq!(signer.signing_time.as_deref(), Some("2026-01-01T00:00:00Z"));
        let checks: Vec<(&str, &str)> =
            signature.validations.iter().map(|v| (v.check.as_str(), v.outcome.as_str())).collect();
        assert_eq!(
            checks,
            [
                ("integrity", "passed"),
                ("authenticity", "passed"),
                ("expiry", "passed"),
                ("authenticTimestamp", "passed"),
                ("revocation", "passed")
            ]
        );
        assert!(signature.rejected_by.is_none() && signature.warnings.is_empty());
    }
}

#[test]
fn the_wire_verdict_is_the_pipelines_verdict_rendered() {
    let s = signer();
    let signed = sign(&s, EnvelopeFormat::Jws);
    let mut tampered = signed.clone();
    tampered.envelope.push(b' ');
    let mut req = request(&s, &tampered);
    req["userMetadata"] = json!({"env": "dev"});
    let parsed = VerifyRequest::from_json(req.to_string().as_bytes()).unwrap();
    let verdict = parsed.verify().unwrap();
    assert_eq!(verdict.decision, Decision::Rejected(Rejection::AllSignaturesFailed));
    assert_eq!(verify_json(req.to_string().as_bytes()), VerifyResponse::from_verdict(&verdict).to_json());
    let response = VerifyResponse::from_json(&verify_json(req.to_string().as_bytes())).unwrap();
    assert_eq!(response.last_rejection_kind(), Some("envelope-digest-mismatch"));
    let verdict = response.verdict.unwrap();
    assert_eq!(verdict.decision.rejection.as_deref(), Some("all-signatures-failed"));
    assert!(verdict.signatures[0].rejected_by.as_ref().unwrap().is(crate::verify::FailureKind::EnvelopeDigestMismatch));
    // The request survives a serde round trip unchanged.
    assert_eq!(VerifyRequest::from_json(&parsed.to_json()).unwrap(), parsed);
}

#[test]
fn warnings_and_not_run_validations_are_rendered() {
    let s = signer();
    let mut expiring = options(EnvelopeFormat::Cose);
    expiring.expiry = Some(t(2026).saturating_add(3600));
    let signed = sign::sign_artifact(&target(), &s.key, &[s.leaf.clone(), s.root.clone()], &expiring).unwrap();
    let mut req = request(&s, &signed);
    req["policy"]["statement"]["signatureVerification"] =
        json!({"level": "strict", "override": {"expiry": "log", "revocation": "skip"}});
    let verdict = run(&req).verdict.unwrap();
    assert!(verdict.accepted, "{}", verdict.reason);
    let signature = &verdict.signatures[0];
    assert_eq!(signature.warnings.len(), 1);
    assert_eq!(
        (signature.warnings[0].check.as_str(), signature.warnings[0].kind.as_str()),
        ("expiry", "signature-expired")
    );
    let revocation = signature.validations.iter().find(|v| v.check == "revocation").unwrap();
    assert_eq!((revocation.action.as_str(), revocation.outcome.as_str()), ("skip", "not-run"));
    assert_eq!(revocation.message.as_deref(), Some("skipped by the trust policy"));
    let expiry = signature.validations.iter().find(|v| v.check == "expiry").unwrap();
    assert_eq!(
        (expiry.action.as_str(), expiry.outcome.as_str(), expiry.kind.as_deref()),
        ("log", "failed", Some("signature-expired"))
    );
}

#[test]
fn a_document_is_selected_by_scope_or_reference_as_text_or_object() {
    let s = signer();
    let signed = sign(&s, EnvelopeFormat::Jws);
    let mut other = statement("skip");
    other["name"] = json!("other");
    other["registryScopes"] = json!(["registry.example/other"]);
    other.as_object_mut().unwrap().remove("trustStores");
    other.as_object_mut().unwrap().remove("trustedIdentities");
    let document = json!({"version": "1.0", "trustPolicies": [other, statement("strict")]});
    let digest = target().digest.to_string();
    for (doc, selector) in [
        (document.clone(), json!({"scope": "registry.example/app"})),
        (Value::String(document.to_string()), json!({"reference": format!("registry.example/app@{digest}")})),
    ] {
        let mut req = request(&s, &signed);
        let mut policy = selector;
        policy["document"] = doc;
        req["policy"] = policy;
        let verdict = run(&req).verdict.unwrap();
        assert!(verdict.accepted && verdict.policy == "wire", "{}", verdict.reason);
    }
    // The other scope selects the skip statement; an unknown one has none; a reference needs its digest.
    let mut req = request(&s, &signed);
    req["policy"] = json!({"document": document, "scope": "registry.example/other"});
    assert_eq!(run(&req).verdict.unwrap().decision.result, "skipped");
    req["policy"]["scope"] = json!("registry.example/none");
    assert_eq!(error_kind(req.to_string().as_bytes()), "no-applicable-policy");
    req["policy"] = json!({"document": document, "reference": "registry.example/app:v1"});
    assert_eq!(error_kind(req.to_string().as_bytes()), "request-invalid");
    // A document text is read exactly: a duplicate key is a policy error, not silently the last value.
    let duplicated = document.to_string().replacen("\"version\":\"1.0\"", "\"version\":\"1.0\",\"version\":\"1.0\"", 1);
    req["policy"] = json!({"document": duplicated, "scope": "registry.example/app"});
    assert_eq!(error_kind(req.to_string().as_bytes()), "policy-invalid");
}

#[test]
fn a_blob_is_verified_against_its_digests_with_a_blob_policy() {
    let s = signer();
    let blob = b"a blob to sign";
    let chain = [s.leaf.clone(), s.root.clone()];
    let envelope = sign::sign_blob(
        &BlobDigests::of(blob),
        blob.len() as u64,
        "application/octet-stream",
        &s.key,
        &chain,
        &options(EnvelopeFormat::Jws),
    )
    .unwrap();
    let mut blob_statement = statement("strict");
    blob_statement.as_object_mut().unwrap().remove("registryScopes");
    blob_statement["globalPolicy"] = json!(true);
    let digests = BlobDigestsSpec::of(&BlobDigests::of(blob));
    let mut req = json!({
        "version": 1,
        "target": {"type": "blob", "digests": digests, "size": blob.len()},
        "signatures": [{"envelope": encode_base64(&envelope), "format": "jws"}],
        "policy": {"blobDocument": {"version": "1.0", "trustPolicies": [blob_statement]}},
        "trustStores": [{"type": "ca", "name": "wire", "certificates": [String::from_utf8(s.root.inner().to_pem(der::pem::LineEnding::LF).unwrap().into_bytes()).unwrap()]}],
        "now": 1780000000,
    });
    assert!(run(&req).verdict.unwrap().accepted);
    // The same statement alone is validated as a blob statement for a blob target.
    req["policy"] = json!({"statement": blob_statement});
    assert!(run(&req).verdict.unwrap().accepted);
    // Another blob's digests: the payload does not match.
    req["target"]["digests"] = serde_json::to_value(BlobDigestsSpec::of(&BlobDigests::of(b"another"))).unwrap();
    let response = run(&req);
    assert_eq!(response.last_rejection_kind(), Some("payload-mismatch"));
    // Digests must be lowercase hex of the right length.
    req["target"]["digests"]["sha384"] = json!("AB");
    assert_eq!(error_kind(req.to_string().as_bytes()), "request-invalid");
}

#[test]
fn blob_digests_from_hex_round_trip_and_refuse_bad_hex() {
    let digests = BlobDigests::of(b"x");
    let spec = BlobDigestsSpec::of(&digests);
    assert_eq!(BlobDigests::from_hex(&spec.sha256, &spec.sha384, &spec.sha512), Some(digests));
    assert_eq!(BlobDigests::from_hex(&spec.sha256.to_uppercase(), &spec.sha384, &spec.sha512), None);
    assert_eq!(BlobDigests::from_hex(&spec.sha384, &spec.sha384, &spec.sha512), None);
    assert_eq!(BlobDigests::from_hex(&spec.sha256, &spec.sha384, &spec.sha512[1..]), None);
    assert_eq!(
        BlobDigests::from_hex(&spec.sha256.replace('a', "g"), &spec.sha384, &spec.sha512).is_some(),
        !spec.sha256.contains('a')
    );
}

#[test]
fn every_request_error_has_its_kind() {
    let s = signer();
    let valid = request(&s, &sign(&s, EnvelopeFormat::Jws));
    let with = |change: &dyn Fn(&mut Value)| {
        let mut r = valid.clone();
        change(&mut r);
        r.to_string().into_bytes()
    };
    assert_eq!(error_kind(&vec![b' '; MAX_REQUEST_BYTES + 1]), "request-too-large");
    assert_eq!(error_kind(b""), "request-invalid");
    assert_eq!(error_kind(b"{\"version\":1"), "request-invalid");
    assert_eq!(error_kind("[".repeat(10_000).as_bytes()), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["version"] = json!(7))), "unsupported-version");
    assert_eq!(error_kind(&with(&|r| r["extra"] = json!(true))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["target"]["type"] = json!("image"))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["signatures"][0]["manifest"] = json!("not base64!"))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["signatures"][0]["format"] = json!("JWS"))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["now"] = json!("2026-13-01T00:00:00Z"))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["maxSignatures"] = json!(0))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["crls"] = json!({"http://crl": "?"}))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["policy"] = json!({}))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["policy"]["scope"] = json!("registry.example/app"))), "request-invalid");
    assert_eq!(error_kind(&with(&|r| r["policy"]["statement"]["trustStores"] = json!(["ca"]))), "policy-invalid");
    assert_eq!(
        error_kind(&with(&|r| r["policy"]["statement"]
            .as_object_mut()
            .unwrap()
            .remove("registryScopes")
            .map(drop)
            .unwrap())),
        "policy-invalid"
    );
    assert_eq!(error_kind(&with(&|r| r["trustStores"][0]["name"] = json!("a/b"))), "trust-store-invalid");
    assert_eq!(error_kind(&with(&|r| r["trustStores"][0]["type"] = json!("CA"))), "trust-store-invalid");
    assert_eq!(error_kind(&with(&|r| r["trustStores"][0]["certificates"] = json!([]))), "trust-store-invalid");
    // Messages name the member and never echo a hostile megabyte back.
    let response =
        VerifyResponse::from_json(&verify_json(&with(&|r| r["version"] = json!("x".repeat(100_000))))).unwrap();
    let message = response.error.unwrap().message;
    assert!(message.contains("not supported") && message.len() < 200, "{message}");
}

#[test]
fn truncated_and_corrupted_requests_always_get_a_well_formed_answer() {
    let s = signer();
    let bytes = request(&s, &sign(&s, EnvelopeFormat::Cose)).to_string().into_bytes();
    for cut in (0..bytes.len()).step_by(bytes.len() / 97 + 1) {
        let response = VerifyResponse::from_json(&verify_json(&bytes[..cut])).unwrap();
        assert!(response.error.is_some() || response.verdict.is_some_and(|v| !v.accepted), "cut at {cut}");
    }
    for i in (0..bytes.len()).step_by(bytes.len() / 89 + 1) {
        let mut corrupted = bytes.clone();
        corrupted[i] ^= 0x20;
        assert!(VerifyResponse::from_json(&verify_json(&corrupted)).is_ok(), "byte {i}");
    }
}

#[test]
fn the_fallback_answer_is_a_current_error_response() {
    let response = VerifyResponse::from_json(SERIALISATION_FAILED).unwrap();
    assert_eq!(response.version, WIRE_VERSION);
    assert_eq!(response.error.map(|e| e.kind).as_deref(), Some("internal"));
}

#[test]
fn stable_names_of_decisions_and_outcomes() {
    assert_eq!(Decision::Verified { signature: 3 }.name(), "verified");
    assert_eq!(Decision::Skipped.name(), "skipped");
    assert_eq!(Decision::Rejected(Rejection::NoSignature).name(), "rejected");
    assert_eq!(Rejection::NoSignature.name(), "no-signature");
    assert_eq!(Rejection::AllSignaturesFailed.name(), "all-signatures-failed");
    assert_eq!(Rejection::TooManySignatures { max: 1 }.name(), "too-many-signatures");
    assert_eq!(Outcome::Passed.name(), "passed");
    assert_eq!(Outcome::NotRun(String::new()).name(), "not-run");
    let s = signer();
    let mut req = request(&s, &sign(&s, EnvelopeFormat::Jws));
    let one = req["signatures"][0].clone();
    req["signatures"] = json!([{"envelope": "AAAA", "format": "jws"}, one]);
    req["maxSignatures"] = json!(1);
    let decision = run(&req).verdict.unwrap().decision;
    assert_eq!(
        decision,
        DecisionView {
            result: "rejected".into(),
            signature: None,
            rejection: Some("too-many-signatures".into()),
            max: Some(1)
        }
    );
}

#[test]
fn inspect_decodes_an_envelope_in_either_format() {
    let s = signer();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let signed = sign(&s, format);
        for named in [None, Some(format.name())] {
            let response: InspectResponse = serde_json::from_slice(&inspect_json(&signed.envelope, named)).unwrap();
            let view = response.envelope.expect("decoded");
            assert_eq!((view.format.as_str(), view.media_type.as_str()), (format.name(), format.media_type()));
            assert_eq!(view.algorithm, "ES256");
            assert_eq!(view.signed_attributes.signing_scheme, "notary.x509");
            assert_eq!(view.signed_attributes.signing_time.as_deref(), Some("2026-01-01T00:00:00Z"));
            assert_eq!(view.unsigned_attributes.signing_agent.as_deref(), Some("nv2/wire-test"));
            let payload = view.payload.expect("payload");
            assert_eq!(payload.digest, target().digest.to_string());
            assert_eq!(payload.annotations.get("env").map(String::as_str), Some("prod"));
            let chain: Vec<(Option<&str>, Option<&str>, Option<bool>)> =
                view.certificate_chain.iter().map(|c| (c.subject.as_deref(), c.issuer.as_deref(), c.ca)).collect();
            assert_eq!(chain[0], (Some(LEAF), Some("CN=wire root,O=Notary,ST=WA,C=US"), Some(false)));
            assert_eq!(chain[1].2, Some(true));
            assert_eq!(view.certificate_chain[0].sha256, s.leaf.sha256_fingerprint_hex());
        }
    }
    let error = |bytes: &[u8], format| {
        let response: InspectResponse = serde_json::from_slice(&inspect_json(bytes, format)).unwrap();
        response.error.map(|e| e.kind).unwrap()
    };
    assert_eq!(error(b"{\"payload\":1}", None), "envelope-invalid");
    assert_eq!(error(&[0xd2, 0x84], None), "envelope-invalid");
    assert_eq!(error(b"{}", Some("pgp")), "request-invalid");
    assert_eq!(error(b"", None), "envelope-invalid");
}
