//! End-to-end attack cases through the one verification pipeline ([`verify::verify`]), and through
//! [`ParsedEnvelope::parse`] where the pipeline cannot be reached.
//!
//! Every case builds a real root → intermediate → leaf chain with [`nv2_core::x509::issue`], signs with
//! [`sign::sign_artifact`] (or hand-builds the envelope when the attack needs bytes nv2 would never write), breaks one
//! thing, and asserts that the artifact is rejected *and* that the rejecting failure has the exact [`FailureKind`].
//! Positive controls run the same construction untampered, so no case can pass vacuously.

use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use nv2_core::crypto::{KeyKind, SigningKey};
use nv2_core::envelope::{self, EnvelopeError, EnvelopeFormat, ParsedEnvelope, Payload, SignRequest, TargetArtifact};
use nv2_core::oci::{media_types, Descriptor, ImageManifest};
use nv2_core::sign::{self, SignOptions, SignedArtifact};
use nv2_core::time::Timestamp;
use nv2_core::trust::{Check, StatementRules, StoreRef, TrustPolicyDocument, TrustStores};
use nv2_core::verify::{self, Decision, FailureKind, Rejection, SignatureInput, Target, Verdict, VerifyOptions};
use nv2_core::x509::issue::{self, CertificateSpec, Issuer, KeyUsages};
use nv2_core::x509::{Certificate, TrustStoreKind};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const ROOT: &str = "CN=Attack Root,O=Notary,ST=WA,C=US";
const INTERMEDIATE: &str = "CN=Attack Intermediate,O=Notary,ST=WA,C=US";
const LEAF: &str = "CN=Attack Leaf,O=Notary,ST=WA,C=US";
const FORMATS: [EnvelopeFormat; 2] = [EnvelopeFormat::Jws, EnvelopeFormat::Cose];
const KINDS: [KeyKind; 3] = [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519];

fn at(year: i64, month: u32, day: u32) -> Timestamp {
    Timestamp::from_civil(year, month, day, 0, 0, 0).unwrap()
}

/// Certificates are valid 2024-01-01 to 2027-01-01; signatures are made 2025-01-01 and checked 2025-06-01.
fn signing_time() -> Timestamp {
    at(2025, 1, 1)
}
fn now() -> Timestamp {
    at(2025, 6, 1)
}

fn key(kind: KeyKind, n: u8) -> SigningKey {
    let seed: Vec<u8> = (0..kind.seed_len()).map(|i| n.wrapping_mul(31).wrapping_add(i as u8).max(1)).collect();
    SigningKey::from_seed(kind, &seed).unwrap()
}

/// The three specs of a valid chain, for tests to change before issuing.
struct Specs {
    root: CertificateSpec,
    intermediate: CertificateSpec,
    leaf: CertificateSpec,
}

impl Specs {
    fn valid() -> Self {
        let (from, to) = (at(2024, 1, 1), at(2027, 1, 1));
        Specs {
            root: CertificateSpec::ca(ROOT, from, to, Some(1)),
            intermediate: CertificateSpec::ca(INTERMEDIATE, from, to, Some(0)),
            leaf: CertificateSpec::code_signing_leaf(LEAF, from, to),
        }
    }
}

/// A signer: its keys and certificate chain (leaf, intermediate, root).
struct Pki {
    intermediate_key: SigningKey,
    leaf_key: SigningKey,
    chain: Vec<Certificate>,
}

impl Pki {
    fn new(leaf_kind: KeyKind) -> Self {
        Pki::with(leaf_kind, Specs::valid())
    }

    fn with(leaf_kind: KeyKind, specs: Specs) -> Self {
        let root_key = key(KeyKind::P384, 1);
        let intermediate_key = key(KeyKind::P256, 2);
        let leaf_key = key(leaf_kind, 3);
        let spki = |k: &SigningKey| k.public_key_spki_der().unwrap();
        let root = issue::issue(&specs.root, &spki(&root_key), Issuer { name: ROOT, key: &root_key }, &[1]).unwrap();
        let intermediate =
            issue::issue(&specs.intermediate, &spki(&intermediate_key), Issuer { name: ROOT, key: &root_key }, &[2])
                .unwrap();
        let leaf =
            issue::issue(&specs.leaf, &spki(&leaf_key), Issuer { name: INTERMEDIATE, key: &intermediate_key }, &[3])
                .unwrap();
        Pki { intermediate_key, leaf_key, chain: vec![leaf, intermediate, root] }
    }

    fn root(&self) -> &Certificate {
        &self.chain[2]
    }

    fn chain_der(&self) -> Vec<Vec<u8>> {
        self.chain.iter().map(|c| c.der().to_vec()).collect()
    }

    /// Signs `target` through the public signing API.
    fn sign(&self, target: &Descriptor, options: &SignOptions) -> SignedArtifact {
        sign::sign_artifact(target, &self.leaf_key, &self.chain, options).unwrap()
    }

    /// Signs through the envelope layer only, which does not judge the chain: how an attacker would get a chain
    /// nv2's signer refuses into an envelope.
    fn sign_unchecked(&self, format: EnvelopeFormat, target: &Descriptor, chain: &[Vec<u8>]) -> Vec<u8> {
        let request = SignRequest::new(format, &payload_for(target, BTreeMap::new()), signing_time(), "attacks");
        envelope::sign(&request, &self.leaf_key, chain).unwrap()
    }
}

fn options(format: EnvelopeFormat) -> SignOptions {
    SignOptions {
        format,
        signing_time: signing_time(),
        expiry: None,
        user_metadata: BTreeMap::new(),
        signing_agent: String::from("nv2-attacks/1"),
    }
}

fn payload_for(target: &Descriptor, annotations: BTreeMap<String, String>) -> Payload {
    Payload {
        target_artifact: TargetArtifact {
            media_type: target.media_type.clone(),
            digest: target.digest.to_string(),
            size: target.size,
            annotations,
        },
    }
}

/// An artifact manifest's descriptor; different `name`s give different artifacts.
fn artifact(name: &str) -> Descriptor {
    let manifest = ImageManifest::artifact("application/vnd.example", Vec::new()).with_annotation("name", name);
    let bytes = manifest.to_json_bytes().expect("serialisable");
    Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &bytes)
}

fn target_of(d: &Descriptor) -> Target {
    Target::Manifest { media_type: d.media_type.clone(), digest: d.digest.to_string(), size: d.size }
}

/// A one-statement trust policy at `level` trusting the `ca:attacks` store and the leaf subject.
fn policy(level: &str) -> StatementRules {
    let mut statement = json!({
        "name": "attacks",
        "registryScopes": ["*"],
        "signatureVerification": {"level": level},
    });
    if level != "skip" {
        // notation refuses stores and identities in a skip statement.
        statement["trustStores"] = json!(["ca:attacks"]);
        statement["trustedIdentities"] = json!([format!("x509.subject: {LEAF}")]);
    }
    let doc = json!({"version": "1.0", "trustPolicies": [statement]});
    let doc = TrustPolicyDocument::parse(doc.to_string().as_bytes()).unwrap();
    doc.statement_for("registry.test/app").unwrap().rules.clone()
}

fn stores(root: &Certificate) -> TrustStores {
    let mut stores = TrustStores::new();
    stores.add(StoreRef::new(TrustStoreKind::Ca, "attacks").unwrap(), vec![root.clone()]).unwrap();
    stores
}

/// Verifies under a strict policy trusting `pki`'s root, at [`now`].
fn verify_strict(pki: &Pki, target: &Descriptor, inputs: &[SignatureInput]) -> Verdict {
    verify::verify(&target_of(target), inputs, &policy("strict"), &stores(pki.root()), &VerifyOptions::at(now()))
}

fn with_manifest(signed: &SignedArtifact) -> SignatureInput<'_> {
    SignatureInput { manifest: Some(&signed.manifest), envelope: &signed.envelope, format: None }
}

fn detached(format: EnvelopeFormat, envelope: &[u8]) -> SignatureInput<'_> {
    SignatureInput { manifest: None, envelope, format: Some(format) }
}

fn assert_verified(verdict: &Verdict) {
    assert!(verdict.is_accepted(), "expected acceptance: {}", verdict.reason());
    assert!(matches!(verdict.decision, Decision::Verified { .. }), "{:?}", verdict.decision);
}

/// The verdict rejects every signature and the last one examined was rejected for `kind`; returns its detail.
fn assert_rejected(verdict: &Verdict, kind: FailureKind) -> String {
    assert!(!verdict.is_accepted(), "expected rejection with {kind:?}, got: {}", verdict.reason());
    assert_eq!(verdict.decision, Decision::Rejected(Rejection::AllSignaturesFailed), "{}", verdict.reason());
    let failure = verdict.signatures.last().and_then(|s| s.rejected_by.clone()).expect("a rejecting failure");
    assert_eq!(failure.kind, kind, "wrong failure kind: {failure}");
    failure.detail
}

// ---------------------------------------------------------------------------------------------------------------
// Hand-built JWS: attacks need bytes nv2's encoder never produces.

/// A notation-shaped protected header (before base64url) for `alg`.
fn protected_json(alg: &str) -> Value {
    json!({
        "alg": alg,
        "cty": envelope::PAYLOAD_MEDIA_TYPE,
        "crit": ["io.cncf.notary.signingScheme"],
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": signing_time().to_rfc3339(),
    })
}

/// Writes a flattened JWS over the protected header text `protected` (raw JSON, signed as given) and the payload
/// for `target`, signed by `key` with its own algorithm and carrying `chain`.
fn hand_jws(protected: &str, target: &Descriptor, key: &SigningKey, chain: &[Vec<u8>]) -> Vec<u8> {
    let protected = Base64UrlUnpadded::encode_string(protected.as_bytes());
    let payload = Base64UrlUnpadded::encode_string(&payload_for(target, BTreeMap::new()).to_json());
    let signature = key.sign(format!("{protected}.{payload}").as_bytes());
    jws_json(&protected, &payload, &Base64UrlUnpadded::encode_string(&signature), chain)
}

fn jws_json(protected: &str, payload: &str, signature: &str, chain: &[Vec<u8>]) -> Vec<u8> {
    let x5c: Vec<String> = chain.iter().map(|c| Base64::encode_string(c)).collect();
    json!({"payload": payload, "protected": protected, "header": {"x5c": x5c}, "signature": signature})
        .to_string()
        .into_bytes()
}

/// The envelope's JSON members (JWS only).
fn jws_members(envelope: &[u8]) -> serde_json::Map<String, Value> {
    serde_json::from_slice::<Value>(envelope).unwrap().as_object().unwrap().clone()
}

// ---------------------------------------------------------------------------------------------------------------
// Positive controls.

#[test]
fn untampered_signatures_verify_in_every_format_and_key_type() {
    let target = artifact("a");
    for kind in KINDS {
        let pki = Pki::new(kind);
        for format in FORMATS {
            let signed = pki.sign(&target, &options(format));
            let verdict = verify_strict(&pki, &target, &[with_manifest(&signed)]);
            assert_verified(&verdict);
            let signer = verdict.verified_signature().and_then(|s| s.signer.clone()).unwrap();
            assert_eq!(signer.subject, LEAF);
            assert_eq!(signer.chain_sha256.len(), 3);
            assert_eq!(signer.signing_time, Some(signing_time()));
            // The same envelope verifies detached too (no signature manifest).
            assert_verified(&verify_strict(&pki, &target, &[detached(format, &signed.envelope)]));
            ParsedEnvelope::parse(format, &signed.envelope).unwrap();
        }
    }
}

#[test]
fn hand_built_jws_control_verifies() {
    // The hand-built JWS writer is faithful: with a well-formed header it produces a verifying signature, so the
    // attacks built with it fail for the attack alone.
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let envelope = hand_jws(&protected_json("ES256").to_string(), &target, &pki.leaf_key, &pki.chain_der());
    assert_verified(&verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Algorithms.

#[test]
fn alg_none_and_hs256_are_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    for alg in ["none", "HS256", "RS256", "ES256K", ""] {
        let envelope = hand_jws(&protected_json(alg).to_string(), &target, &pki.leaf_key, &pki.chain_der());
        assert!(
            matches!(
                ParsedEnvelope::parse(EnvelopeFormat::Jws, &envelope),
                Err(EnvelopeError::UnsupportedAlgorithm { .. })
            ),
            "{alg}"
        );
        assert_rejected(
            &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]),
            FailureKind::AlgorithmInvalid,
        );
    }
    // alg none with an empty signature, the classic form.
    let protected = Base64UrlUnpadded::encode_string(protected_json("none").to_string().as_bytes());
    let payload = Base64UrlUnpadded::encode_string(&payload_for(&target, BTreeMap::new()).to_json());
    let envelope = jws_json(&protected, &payload, "", &pki.chain_der());
    let verdict = verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]);
    let kind = verdict.signatures[0].rejected_by.as_ref().unwrap().kind;
    assert!(matches!(kind, FailureKind::AlgorithmInvalid | FailureKind::EnvelopeMalformed), "{kind:?}");
    assert!(!verdict.is_accepted());
}

#[test]
fn alg_that_does_not_match_the_leaf_key_is_refused() {
    let target = artifact("a");
    for (kind, wrong) in [
        (KeyKind::P256, "ES384"),
        (KeyKind::P384, "ES256"),
        (KeyKind::P256, "PS256"),
        (KeyKind::Ed25519, "ES256"),
        (KeyKind::P256, "EdDSA"),
    ] {
        let pki = Pki::new(kind);
        let envelope = hand_jws(&protected_json(wrong).to_string(), &target, &pki.leaf_key, &pki.chain_der());
        let detail = assert_rejected(
            &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]),
            FailureKind::AlgorithmInvalid,
        );
        assert!(detail.contains("does not match"), "{wrong}: {detail}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Protected header rules.

#[test]
fn unknown_critical_attribute_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut header = protected_json("ES256");
    header["crit"] = json!(["io.cncf.notary.signingScheme", "com.example.mustUnderstand"]);
    header["com.example.mustUnderstand"] = json!("yes");
    let envelope = hand_jws(&header.to_string(), &target, &pki.leaf_key, &pki.chain_der());
    let detail = assert_rejected(
        &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]),
        FailureKind::UnprocessedCriticalAttribute,
    );
    assert!(detail.contains("com.example.mustUnderstand"), "{detail}");
    // The same attribute, not critical, is ignored: the header itself is fine.
    header["crit"] = json!(["io.cncf.notary.signingScheme"]);
    let envelope = hand_jws(&header.to_string(), &target, &pki.leaf_key, &pki.chain_der());
    assert_verified(&verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]));
}

#[test]
fn crit_missing_a_required_name_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut cases = Vec::new();
    // signingScheme present but not critical.
    let mut header = protected_json("ES256");
    header["crit"] = json!(["io.cncf.notary.expiry"]);
    header["io.cncf.notary.expiry"] = json!(at(2026, 1, 1).to_rfc3339());
    cases.push((header, "MissingCritical signingScheme"));
    // expiry present but not critical.
    let mut header = protected_json("ES256");
    header["io.cncf.notary.expiry"] = json!(at(2026, 1, 1).to_rfc3339());
    cases.push((header, "MissingCritical expiry"));
    // no crit at all.
    let mut header = protected_json("ES256");
    header.as_object_mut().unwrap().remove("crit");
    cases.push((header, "CritAbsent"));
    // crit naming an absent header.
    let mut header = protected_json("ES256");
    header["crit"] = json!(["io.cncf.notary.signingScheme", "io.cncf.notary.verificationPlugin"]);
    cases.push((header, "CriticalNotPresent"));
    for (header, what) in cases {
        let envelope = hand_jws(&header.to_string(), &target, &pki.leaf_key, &pki.chain_der());
        let parsed = ParsedEnvelope::parse(EnvelopeFormat::Jws, &envelope);
        assert!(
            matches!(
                parsed,
                Err(EnvelopeError::MissingCritical { .. }
                    | EnvelopeError::CritAbsent
                    | EnvelopeError::CriticalNotPresent { .. })
            ),
            "{what}: {parsed:?}"
        );
        assert_rejected(
            &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]),
            FailureKind::EnvelopeMalformed,
        );
    }
}

#[test]
fn duplicate_keys_in_the_protected_header_or_envelope_are_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let header = protected_json("ES256").to_string();
    // Duplicate alg (the second could name another algorithm to a last-wins parser) and duplicate signingTime.
    for duplicate in [r#"{"alg":"ES256","#, r#"{"io.cncf.notary.signingTime":"2030-01-01T00:00:00Z","#] {
        let protected = header.replacen('{', duplicate, 1);
        let envelope = hand_jws(&protected, &target, &pki.leaf_key, &pki.chain_der());
        assert!(
            matches!(ParsedEnvelope::parse(EnvelopeFormat::Jws, &envelope), Err(EnvelopeError::DuplicateKey { .. })),
            "{protected}"
        );
        assert_rejected(
            &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]),
            FailureKind::EnvelopeMalformed,
        );
    }
    // A duplicate member of the outer JWS object (two payloads).
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let text = String::from_utf8(signed.envelope.clone()).unwrap();
    let other = Base64UrlUnpadded::encode_string(&payload_for(&artifact("b"), BTreeMap::new()).to_json());
    let doubled = text.replacen('{', &format!("{{\"payload\":\"{other}\","), 1);
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, doubled.as_bytes()),
        Err(EnvelopeError::DuplicateKey { .. })
    ));
    assert_rejected(
        &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, doubled.as_bytes())]),
        FailureKind::EnvelopeMalformed,
    );
}

#[test]
fn extra_base64_padding_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    for member in ["payload", "protected", "signature"] {
        let mut members = jws_members(&signed.envelope);
        let padded = format!("{}=", members[member].as_str().unwrap());
        members.insert(member.into(), Value::from(padded));
        let envelope = Value::Object(members).to_string().into_bytes();
        assert!(
            matches!(ParsedEnvelope::parse(EnvelopeFormat::Jws, &envelope), Err(EnvelopeError::BadBase64 { .. })),
            "{member}"
        );
        assert_rejected(
            &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]),
            FailureKind::EnvelopeMalformed,
        );
    }
    // Control: the members re-serialised unchanged still verify.
    let envelope = Value::Object(jws_members(&signed.envelope)).to_string().into_bytes();
    assert_verified(&verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]));
}

// ---------------------------------------------------------------------------------------------------------------
// Integrity of the signed bytes.

/// Changes one character of the target digest inside the payload, keeping the structure intact.
fn tamper_payload(format: EnvelopeFormat, envelope: &[u8]) -> Vec<u8> {
    match format {
        EnvelopeFormat::Jws => {
            let mut members = jws_members(envelope);
            let mut payload = Base64UrlUnpadded::decode_vec(members["payload"].as_str().unwrap()).unwrap();
            flip_digest_char(&mut payload);
            members.insert("payload".into(), Value::from(Base64UrlUnpadded::encode_string(&payload)));
            Value::Object(members).to_string().into_bytes()
        }
        EnvelopeFormat::Cose => {
            let mut bytes = envelope.to_vec();
            flip_digest_char(&mut bytes);
            bytes
        }
    }
}

/// Flips the first hex character after `sha256:` (payloads carry exactly one digest).
fn flip_digest_char(bytes: &mut [u8]) {
    let at = bytes.windows(7).position(|w| w == b"sha256:").expect("a digest in the payload") + 7;
    bytes[at] = if bytes[at] == b'0' { b'1' } else { b'0' };
}

#[test]
fn payload_tampered_by_one_byte_is_refused() {
    let target = artifact("a");
    for kind in KINDS {
        let pki = Pki::new(kind);
        for format in FORMATS {
            let signed = pki.sign(&target, &options(format));
            let tampered = tamper_payload(format, &signed.envelope);
            assert_eq!(tampered.len(), signed.envelope.len(), "{format:?}: one byte changed, nothing else");
            ParsedEnvelope::parse(format, &tampered).unwrap();
            assert_rejected(
                &verify_strict(&pki, &target, &[detached(format, &tampered)]),
                FailureKind::SignatureInvalid,
            );
        }
    }
}

#[test]
fn signature_replayed_onto_another_artifact_is_refused() {
    let (a, b) = (artifact("a"), artifact("b"));
    for kind in KINDS {
        let pki = Pki::new(kind);
        for format in FORMATS {
            let signed = pki.sign(&a, &options(format));
            assert_verified(&verify_strict(&pki, &a, &[with_manifest(&signed)]));
            // The signature manifest still names A: refused as a signature of another artifact.
            assert_rejected(&verify_strict(&pki, &b, &[with_manifest(&signed)]), FailureKind::SignatureManifestInvalid);
            // The attacker rewrites the manifest's subject to B: the signed payload still names A.
            let mut manifest: Value = serde_json::from_slice(&signed.manifest).unwrap();
            manifest["subject"]["digest"] = json!(b.digest.to_string());
            manifest["subject"]["size"] = json!(b.size);
            let manifest = manifest.to_string().into_bytes();
            let input = SignatureInput { manifest: Some(&manifest), envelope: &signed.envelope, format: None };
            let detail = assert_rejected(&verify_strict(&pki, &b, &[input]), FailureKind::PayloadMismatch);
            assert!(detail.contains(&a.digest.to_string()), "{detail}");
            // Detached, the same.
            assert_rejected(
                &verify_strict(&pki, &b, &[detached(format, &signed.envelope)]),
                FailureKind::PayloadMismatch,
            );
        }
    }
}

#[test]
fn size_or_media_type_mismatch_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    for format in FORMATS {
        let signed = pki.sign(&target, &options(format));
        let mut bigger = target.clone();
        bigger.size += 1;
        let detail =
            assert_rejected(&verify_strict(&pki, &bigger, &[with_manifest(&signed)]), FailureKind::PayloadMismatch);
        assert!(detail.contains("size"), "{detail}");
        let mut docker = target.clone();
        docker.media_type = media_types::DOCKER_MANIFEST.into();
        assert_rejected(&verify_strict(&pki, &docker, &[with_manifest(&signed)]), FailureKind::PayloadMismatch);
    }
}

#[test]
fn envelope_not_matching_its_manifest_layer_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    for format in FORMATS {
        let signed = pki.sign(&target, &options(format));
        // Another valid envelope for the same artifact, swapped in under the first signature manifest.
        let mut later = options(format);
        later.signing_time = at(2025, 2, 1);
        let other = pki.sign(&target, &later);
        assert_ne!(other.envelope, signed.envelope);
        let input = SignatureInput { manifest: Some(&signed.manifest), envelope: &other.envelope, format: None };
        assert_rejected(&verify_strict(&pki, &target, &[input]), FailureKind::EnvelopeDigestMismatch);
        // A truncated envelope under its own manifest.
        let cut = &signed.envelope[..signed.envelope.len() - 1];
        let input = SignatureInput { manifest: Some(&signed.manifest), envelope: cut, format: None };
        assert_rejected(&verify_strict(&pki, &target, &[input]), FailureKind::EnvelopeDigestMismatch);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Time.

#[test]
fn expired_signature_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    for format in FORMATS {
        let mut expiring = options(format);
        expiring.expiry = Some(at(2025, 3, 1));
        let signed = pki.sign(&target, &expiring);
        let detail =
            assert_rejected(&verify_strict(&pki, &target, &[with_manifest(&signed)]), FailureKind::SignatureExpired);
        assert!(detail.contains("2025-03-01"), "{detail}");
        // Control: checked before the expiry, the same signature verifies.
        let before = VerifyOptions::at(at(2025, 2, 1));
        let verdict = verify::verify(
            &target_of(&target),
            &[with_manifest(&signed)],
            &policy("strict"),
            &stores(pki.root()),
            &before,
        );
        assert_verified(&verdict);
    }
}

#[test]
fn permissive_level_logs_expiry_and_accepts() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut expiring = options(EnvelopeFormat::Cose);
    expiring.expiry = Some(at(2025, 3, 1));
    let signed = pki.sign(&target, &expiring);
    let verdict = verify::verify(
        &target_of(&target),
        &[with_manifest(&signed)],
        &policy("permissive"),
        &stores(pki.root()),
        &VerifyOptions::at(now()),
    );
    assert_verified(&verdict);
    let warnings: Vec<_> = verdict.signatures[0].warnings().map(|(c, f)| (*c, f.kind)).collect();
    assert_eq!(warnings, [(Check::Expiry, FailureKind::SignatureExpired)]);
    // Audit logs it too; strict enforces it (expired_signature_is_refused).
    let audit = verify::verify(
        &target_of(&target),
        &[with_manifest(&signed)],
        &policy("audit"),
        &stores(pki.root()),
        &VerifyOptions::at(now()),
    );
    assert_verified(&audit);
    assert_eq!(audit.signatures[0].warnings().count(), 1);
}

#[test]
fn certificate_not_yet_valid_is_refused() {
    // The leaf becomes valid 2025-09-01; the signature claims 2025-10-01; the verifier's clock says 2025-06-01.
    let mut specs = Specs::valid();
    specs.leaf.not_before = at(2025, 9, 1);
    let (pki, target) = (Pki::with(KeyKind::P256, specs), artifact("a"));
    let mut future = options(EnvelopeFormat::Jws);
    future.signing_time = at(2025, 10, 1);
    let signed = pki.sign(&target, &future);
    let detail =
        assert_rejected(&verify_strict(&pki, &target, &[with_manifest(&signed)]), FailureKind::CertificateExpired);
    assert!(detail.contains(LEAF), "{detail}");
    // Control: verified after it became valid.
    let later = VerifyOptions::at(at(2025, 11, 1));
    assert_verified(&verify::verify(
        &target_of(&target),
        &[with_manifest(&signed)],
        &policy("strict"),
        &stores(pki.root()),
        &later,
    ));
}

#[test]
fn expired_certificate_without_timestamp_is_refused() {
    for expire in ["leaf", "intermediate", "root"] {
        let mut specs = Specs::valid();
        let spec = match expire {
            "leaf" => &mut specs.leaf,
            "intermediate" => &mut specs.intermediate,
            _ => &mut specs.root,
        };
        spec.not_after = at(2025, 3, 1);
        let (pki, target) = (Pki::with(KeyKind::P256, specs), artifact("a"));
        let signed = pki.sign(&target, &options(EnvelopeFormat::Cose));
        let verdict = verify_strict(&pki, &target, &[with_manifest(&signed)]);
        let detail = assert_rejected(&verdict, FailureKind::CertificateExpired);
        assert!(detail.contains("no trusted timestamp"), "{expire}: {detail}");
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Certificate chain rules, each with a chain nv2's signer refuses, smuggled in through the envelope layer.

/// Signs with a chain issued from `specs` (the signer's own checks bypassed) and expects `CertificateChainInvalid`
/// with `needle` in the detail.
fn assert_chain_refused(specs: Specs, needle: &str) {
    let (pki, target) = (Pki::with(KeyKind::P256, specs), artifact("a"));
    assert!(
        sign::sign_artifact(&target, &pki.leaf_key, &pki.chain, &options(EnvelopeFormat::Jws)).is_err(),
        "{needle}"
    );
    for format in FORMATS {
        let envelope = pki.sign_unchecked(format, &target, &pki.chain_der());
        let detail = assert_rejected(
            &verify_strict(&pki, &target, &[detached(format, &envelope)]),
            FailureKind::CertificateChainInvalid,
        );
        assert!(detail.contains(needle), "expected {needle:?} in {detail:?}");
    }
}

#[test]
fn leaf_with_ca_bit_is_refused() {
    let mut specs = Specs::valid();
    specs.leaf.basic_constraints = Some(issue::BasicConstraintsSpec { critical: true, ca: true, path_len: None });
    assert_chain_refused(specs, "must not be a CA");
}

#[test]
fn leaf_with_key_cert_sign_is_refused() {
    let mut specs = Specs::valid();
    specs.leaf.key_usage.as_mut().unwrap().usages.push(KeyUsages::KeyCertSign);
    assert_chain_refused(specs, "digitalSignature only");
}

#[test]
fn wrong_extended_key_usage_is_refused() {
    for (purpose, needle) in [("1.3.6.1.5.5.7.3.1", "serverAuth"), ("1.3.6.1.5.5.7.3.8", "timeStamping")] {
        let mut specs = Specs::valid();
        specs.leaf.extended_key_usage.as_mut().unwrap().purposes = vec![purpose.parse().unwrap()];
        let (pki, target) = (Pki::with(KeyKind::P256, specs), artifact("a"));
        let envelope = pki.sign_unchecked(EnvelopeFormat::Jws, &target, &pki.chain_der());
        let detail = assert_rejected(
            &verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]),
            FailureKind::CertificateChainInvalid,
        );
        assert!(
            detail.to_lowercase().contains(&needle.to_lowercase()) || detail.contains("extended key usage"),
            "{detail}"
        );
    }
}

#[test]
fn sha1_certificate_is_refused() {
    let mut specs = Specs::valid();
    specs.leaf.signature_algorithm = Some(spki::AlgorithmIdentifierOwned {
        oid: "1.2.840.113549.1.1.5".parse().unwrap(),
        parameters: Some(der::Any::null()),
    });
    assert_chain_refused(specs, "SHA-1");
    // ecdsa-with-SHA1 on the intermediate.
    let mut specs = Specs::valid();
    specs.intermediate.signature_algorithm =
        Some(spki::AlgorithmIdentifierOwned { oid: "1.2.840.10045.4.1".parse().unwrap(), parameters: None });
    assert_chain_refused(specs, "SHA-1");
}

#[test]
fn self_signed_intermediate_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    // The intermediate re-issued by itself (same name and key, so the leaf still links to it).
    let spec = Specs::valid().intermediate;
    let self_signed = issue::issue_self_signed(&spec, &pki.intermediate_key, &[9]).unwrap();
    let chain = vec![pki.chain[0].der().to_vec(), self_signed.der().to_vec(), pki.root().der().to_vec()];
    for format in FORMATS {
        let envelope = pki.sign_unchecked(format, &target, &chain);
        let detail = assert_rejected(
            &verify_strict(&pki, &target, &[detached(format, &envelope)]),
            FailureKind::CertificateChainInvalid,
        );
        assert!(detail.contains("self-signed") || detail.contains("issuer"), "{detail}");
    }
}

#[test]
fn truncated_or_out_of_order_chain_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let [leaf, intermediate, root] = [0, 1, 2].map(|i| pki.chain[i].der().to_vec());
    let cases = [
        (vec![leaf.clone(), intermediate.clone()], "root"),
        (vec![leaf.clone(), root.clone()], "issuer"),
        (vec![leaf.clone(), root.clone(), intermediate.clone()], ""),
        (vec![intermediate.clone(), leaf.clone(), root.clone()], ""),
        (vec![leaf.clone(), intermediate.clone(), root.clone(), root.clone()], ""),
    ];
    for (chain, needle) in cases {
        if chain[0] != leaf {
            // A chain that does not start with the signing certificate cannot even be signed with.
            let request =
                SignRequest::new(EnvelopeFormat::Jws, &payload_for(&target, BTreeMap::new()), signing_time(), "x");
            assert!(envelope::sign(&request, &pki.leaf_key, &chain).is_err());
            let envelope = hand_jws(&protected_json("ES256").to_string(), &target, &pki.leaf_key, &chain);
            let verdict = verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &envelope)]);
            assert_rejected(&verdict, FailureKind::SignatureInvalid);
            continue;
        }
        for format in FORMATS {
            let envelope = pki.sign_unchecked(format, &target, &chain);
            let detail = assert_rejected(
                &verify_strict(&pki, &target, &[detached(format, &envelope)]),
                FailureKind::CertificateChainInvalid,
            );
            assert!(detail.contains(needle), "{needle}: {detail}");
        }
    }
    // Control: the complete chain in order verifies through the same unchecked path.
    let envelope = pki.sign_unchecked(EnvelopeFormat::Cose, &target, &pki.chain_der());
    assert_verified(&verify_strict(&pki, &target, &[detached(EnvelopeFormat::Cose, &envelope)]));
}

#[test]
fn chain_from_an_untrusted_root_or_identity_is_refused() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    // Trusting another root.
    let other = issue::issue_self_signed(&Specs::valid().root, &key(KeyKind::P256, 50), &[1]).unwrap();
    let verdict = verify::verify(
        &target_of(&target),
        &[with_manifest(&signed)],
        &policy("strict"),
        &stores(&other),
        &VerifyOptions::at(now()),
    );
    assert_rejected(&verdict, FailureKind::UntrustedCertificate);
    // A leaf from the trusted root under another subject.
    let mut specs = Specs::valid();
    specs.leaf.subject = String::from("CN=Mallory,O=Notary,ST=WA,C=US");
    let mallory = Pki::with(KeyKind::P256, specs);
    let signed = mallory.sign(&target, &options(EnvelopeFormat::Jws));
    assert_rejected(&verify_strict(&mallory, &target, &[with_manifest(&signed)]), FailureKind::UntrustedIdentity);
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile sizes.

#[test]
fn envelopes_of_many_megabytes_are_refused_fast() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let huge = vec![b'{'; 33 * 1024 * 1024];
    for format in FORMATS {
        let started = Instant::now();
        assert!(matches!(ParsedEnvelope::parse(format, &huge), Err(EnvelopeError::TooLarge { .. })));
        let verdict = verify_strict(&pki, &target, &[detached(format, &huge)]);
        assert_rejected(&verdict, FailureKind::EnvelopeMalformed);
        assert!(started.elapsed() < Duration::from_secs(2), "{format:?} took {:?}", started.elapsed());
    }
    // Just under the bound but still hostile: a JWS padded with 31 MiB of whitespace-free garbage is refused with
    // a typed error, also fast.
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let mut members = jws_members(&signed.envelope);
    members.insert("payload".into(), Value::from("A".repeat(31 * 1024 * 1024)));
    let big = Value::Object(members).to_string().into_bytes();
    let started = Instant::now();
    let verdict = verify_strict(&pki, &target, &[detached(EnvelopeFormat::Jws, &big)]);
    assert!(!verdict.is_accepted());
    assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
}

#[test]
fn signature_manifest_of_many_megabytes_is_refused_fast() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let mut manifest: Value = serde_json::from_slice(&signed.manifest).unwrap();
    manifest["annotations"]["padding"] = json!("x".repeat(5 * 1024 * 1024));
    let manifest = manifest.to_string().into_bytes();
    assert!(manifest.len() > 5 * 1024 * 1024);
    let started = Instant::now();
    let input = SignatureInput { manifest: Some(&manifest), envelope: &signed.envelope, format: None };
    let detail = assert_rejected(&verify_strict(&pki, &target, &[input]), FailureKind::SignatureManifestInvalid);
    assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    assert!(!detail.is_empty());
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions over several signatures, levels and metadata.

#[test]
fn first_passing_signature_wins() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let good_jws = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let good_cose = pki.sign(&target, &options(EnvelopeFormat::Cose));
    let bad = tamper_payload(EnvelopeFormat::Jws, &good_jws.envelope);
    let inputs = [detached(EnvelopeFormat::Jws, &bad), with_manifest(&good_cose), with_manifest(&good_jws)];
    let verdict = verify_strict(&pki, &target, &inputs);
    assert_eq!(verdict.decision, Decision::Verified { signature: 1 });
    // Verification stopped at the first passing signature.
    assert_eq!(verdict.signatures.len(), 2);
    assert_eq!(verdict.signatures[0].rejected_by.as_ref().unwrap().kind, FailureKind::SignatureInvalid);
    assert_eq!(verdict.verified_signature().unwrap().format, Some(EnvelopeFormat::Cose));
}

#[test]
fn max_signatures_bound_is_applied() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let good = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let bad = tamper_payload(EnvelopeFormat::Jws, &good.envelope);
    let inputs = [detached(EnvelopeFormat::Jws, &bad), detached(EnvelopeFormat::Jws, &bad), with_manifest(&good)];
    let mut options = VerifyOptions::at(now());
    options.max_signatures = 2;
    let verdict = verify::verify(&target_of(&target), &inputs, &policy("strict"), &stores(pki.root()), &options);
    // The good signature is third: never examined.
    assert_eq!(verdict.decision, Decision::Rejected(Rejection::TooManySignatures { max: 2 }));
    assert_eq!(verdict.signatures.len(), 2);
    // Control: with room for three, the third wins.
    options.max_signatures = 3;
    let verdict = verify::verify(&target_of(&target), &inputs, &policy("strict"), &stores(pki.root()), &options);
    assert_eq!(verdict.decision, Decision::Verified { signature: 2 });
    // Exactly at the bound, all failing: an ordinary rejection.
    options.max_signatures = 2;
    let verdict = verify::verify(&target_of(&target), &inputs[..2], &policy("strict"), &stores(pki.root()), &options);
    assert_eq!(verdict.decision, Decision::Rejected(Rejection::AllSignaturesFailed));
}

#[test]
fn no_signature_is_refused_and_skip_accepts_without_reading() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let verdict = verify_strict(&pki, &target, &[]);
    assert_eq!(verdict.decision, Decision::Rejected(Rejection::NoSignature));
    assert!(!verdict.is_accepted());
    // Skip: accepted, nothing examined, even garbage.
    let garbage = [detached(EnvelopeFormat::Jws, b"not an envelope")];
    let verdict =
        verify::verify(&target_of(&target), &garbage, &policy("skip"), &stores(pki.root()), &VerifyOptions::at(now()));
    assert_eq!(verdict.decision, Decision::Skipped);
    assert!(verdict.is_accepted() && verdict.signatures.is_empty());
    // Integrity is enforced at every other level: the same garbage is refused under audit.
    let verdict =
        verify::verify(&target_of(&target), &garbage, &policy("audit"), &stores(pki.root()), &VerifyOptions::at(now()));
    assert_rejected(&verdict, FailureKind::EnvelopeMalformed);
}

#[test]
fn user_metadata_must_be_in_the_payload() {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut with_metadata = options(EnvelopeFormat::Cose);
    with_metadata.user_metadata.insert("env".into(), "prod".into());
    let signed = pki.sign(&target, &with_metadata);
    let check = |key: &str, value: &str| {
        let mut options = VerifyOptions::at(now());
        options.user_metadata.insert(key.into(), value.into());
        verify::verify(&target_of(&target), &[with_manifest(&signed)], &policy("strict"), &stores(pki.root()), &options)
    };
    assert_verified(&check("env", "prod"));
    assert_rejected(&check("env", "dev"), FailureKind::UserMetadataMismatch);
    assert_rejected(&check("team", "prod"), FailureKind::UserMetadataMismatch);
    // Metadata is enforced even under audit.
    let mut options = VerifyOptions::at(now());
    options.user_metadata.insert("env".into(), "dev".into());
    let audit =
        verify::verify(&target_of(&target), &[with_manifest(&signed)], &policy("audit"), &stores(pki.root()), &options);
    assert_rejected(&audit, FailureKind::UserMetadataMismatch);
}

#[test]
fn hostile_envelope_bytes_never_panic() {
    // Truncations and single-byte corruptions of real envelopes: always a typed rejection, never a panic.
    let (pki, target) = (Pki::new(KeyKind::Ed25519), artifact("a"));
    for format in FORMATS {
        let envelope = pki.sign(&target, &options(format)).envelope;
        let step = (envelope.len() / 64).max(1);
        for cut in (0..envelope.len()).step_by(step) {
            let verdict = verify_strict(&pki, &target, &[detached(format, &envelope[..cut])]);
            assert!(!verdict.is_accepted(), "{format:?} truncated at {cut}");
        }
        for i in (0..envelope.len()).step_by(step) {
            let mut bytes = envelope.clone();
            bytes[i] ^= 0x01;
            let verdict = verify_strict(&pki, &target, &[detached(format, &bytes)]);
            // A flip inside an unsigned member (signing agent) may still verify; everything else must not.
            if verdict.is_accepted() {
                let parsed = ParsedEnvelope::parse(format, &bytes).unwrap();
                assert_ne!(parsed.unsigned().signing_agent.as_deref(), Some("nv2-attacks/1"), "{format:?} byte {i}");
            }
        }
    }
}
