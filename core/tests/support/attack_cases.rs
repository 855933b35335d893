//! The attack cases, as data: each one an artifact, its (tampered) signatures, a policy level, the trusted root,
//! the verification time and the exact outcome the one pipeline must reach. `core/tests/attacks.rs` runs them
//! natively and checks every expectation; the wasm differential test (`wasm/differential`) runs the very same cases
//! through the policy module too (both include `support/mod.rs` with `#[path]`, so there is one generator).
//!
//! Every group builds a real root → intermediate → leaf chain with [`nv2_core::x509::issue`], signs with
//! [`sign::sign_artifact`] (or hand-builds the envelope when the attack needs bytes nv2 would never write), breaks
//! one thing, and expects a rejection with the exact [`FailureKind`]. Positive controls run the same construction
//! untampered, so no case can pass vacuously. Facts about the bytes themselves (how [`ParsedEnvelope::parse`]
//! refuses them, that the signer refuses a chain) are asserted while a group is built.

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

use super::OwnedSignature;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub const ROOT: &str = "CN=Attack Root,O=Notary,ST=WA,C=US";
pub const INTERMEDIATE: &str = "CN=Attack Intermediate,O=Notary,ST=WA,C=US";
pub const LEAF: &str = "CN=Attack Leaf,O=Notary,ST=WA,C=US";
/// The trust store every case's policy names.
pub const STORE: &str = "attacks";
const FORMATS: [EnvelopeFormat; 2] = [EnvelopeFormat::Jws, EnvelopeFormat::Cose];
const KINDS: [KeyKind; 3] = [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519];

pub fn at(year: i64, month: u32, day: u32) -> Timestamp {
    Timestamp::from_civil(year, month, day, 0, 0, 0).unwrap()
}

/// Certificates are valid 2024-01-01 to 2027-01-01; signatures are made 2025-01-01 and checked 2025-06-01.
pub fn signing_time() -> Timestamp {
    at(2025, 1, 1)
}
pub fn now() -> Timestamp {
    at(2025, 6, 1)
}

fn key(kind: KeyKind, n: u8) -> SigningKey {
    let seed: Vec<u8> = (0..kind.seed_len()).map(|i| n.wrapping_mul(31).wrapping_add(i as u8).max(1)).collect();
    SigningKey::from_seed(kind, &seed).unwrap()
}

// ---------------------------------------------------------------------------------------------------------------
// The case type.

fn with_manifest(signed: &SignedArtifact) -> OwnedSignature {
    OwnedSignature { manifest: Some(signed.manifest.clone()), envelope: signed.envelope.clone(), format: None }
}

fn detached(format: EnvelopeFormat, envelope: &[u8]) -> OwnedSignature {
    OwnedSignature { manifest: None, envelope: envelope.to_vec(), format: Some(format) }
}

/// What the pipeline must decide.
#[derive(Clone, Debug)]
pub enum Expect {
    /// Verified, by any signature.
    Verified,
    /// Exactly this decision.
    Decision(Decision),
    /// Every signature failed and the last one examined was rejected for this kind.
    Rejected(FailureKind),
    /// Every signature failed, the last one for one of these kinds.
    RejectedOneOf(&'static [FailureKind]),
    /// Not accepted, whatever the reason.
    NotAccepted,
    /// Nothing about the decision; the case's extra check decides.
    Any,
}

/// A further check on the verdict beyond [`Expect`] (signer facts, warnings, how many signatures were examined).
pub type ExtraCheck = fn(&AttackCase, &Verdict) -> Result<(), String>;

/// One attack (or control) through the pipeline.
#[derive(Clone)]
pub struct AttackCase {
    /// Unique, says what is broken.
    pub name: String,
    /// The artifact verified.
    pub target: Descriptor,
    /// Its signatures, in order.
    pub signatures: Vec<OwnedSignature>,
    /// The policy level (`strict`, `permissive`, `audit`, `skip`).
    pub level: &'static str,
    /// The certificate in the `ca:attacks` store.
    pub trusted_root: Certificate,
    /// The verification time.
    pub now: Timestamp,
    /// Metadata the payload must carry.
    pub user_metadata: BTreeMap<String, String>,
    /// Most signatures examined.
    pub max_signatures: usize,
    /// The outcome required.
    pub expect: Expect,
    /// The rejecting failure's detail must contain one of these (case-insensitively), when any are given.
    pub detail_contains: Vec<String>,
    /// A further check.
    pub extra: Option<ExtraCheck>,
    /// Natively the verdict must come within this bound (hostile sizes are refused fast).
    pub time_bound: Option<Duration>,
}

impl AttackCase {
    fn new(name: impl Into<String>, pki: &Pki, target: &Descriptor, signatures: Vec<OwnedSignature>) -> Self {
        AttackCase {
            name: name.into(),
            target: target.clone(),
            signatures,
            level: "strict",
            trusted_root: pki.root().clone(),
            now: now(),
            user_metadata: BTreeMap::new(),
            max_signatures: nv2_core::limits::DEFAULT_MAX_SIGNATURES,
            expect: Expect::Verified,
            detail_contains: Vec::new(),
            extra: None,
            time_bound: None,
        }
    }
    fn expect(mut self, expect: Expect) -> Self {
        self.expect = expect;
        self
    }
    fn rejected(self, kind: FailureKind) -> Self {
        self.expect(Expect::Rejected(kind))
    }
    fn detail(mut self, needles: &[&str]) -> Self {
        self.detail_contains = needles.iter().map(|n| n.to_string()).collect();
        self
    }
    fn level(mut self, level: &'static str) -> Self {
        self.level = level;
        self
    }
    fn at(mut self, now: Timestamp) -> Self {
        self.now = now;
        self
    }
    fn trusting(mut self, root: &Certificate) -> Self {
        self.trusted_root = root.clone();
        self
    }
    fn metadata(mut self, key: &str, value: &str) -> Self {
        self.user_metadata.insert(key.into(), value.into());
        self
    }
    fn max_signatures(mut self, max: usize) -> Self {
        self.max_signatures = max;
        self
    }
    fn extra(mut self, check: ExtraCheck) -> Self {
        self.extra = Some(check);
        self
    }
    fn within(mut self, bound: Duration) -> Self {
        self.time_bound = Some(bound);
        self
    }

    /// The trust-policy statement (JSON) at the case's level, trusting `ca:attacks` and the leaf subject.
    pub fn statement_json(&self) -> Value {
        let mut statement = json!({
            "name": "attacks",
            "registryScopes": ["*"],
            "signatureVerification": {"level": self.level},
        });
        if self.level != "skip" {
            // notation refuses stores and identities in a skip statement.
            statement["trustStores"] = json!([format!("ca:{STORE}")]);
            statement["trustedIdentities"] = json!([format!("x509.subject: {LEAF}")]);
        }
        statement
    }

    /// The statement, validated as the pipeline takes it.
    pub fn rules(&self) -> StatementRules {
        let doc = json!({"version": "1.0", "trustPolicies": [self.statement_json()]});
        let doc = TrustPolicyDocument::parse(doc.to_string().as_bytes()).unwrap();
        doc.statement_for("registry.test/app").unwrap().rules.clone()
    }

    /// The `ca:attacks` store holding the trusted root.
    pub fn stores(&self) -> TrustStores {
        let mut stores = TrustStores::new();
        stores.add(StoreRef::new(TrustStoreKind::Ca, STORE).unwrap(), vec![self.trusted_root.clone()]).unwrap();
        stores
    }

    pub fn target(&self) -> Target {
        target_of(&self.target)
    }

    /// Runs the pipeline natively.
    pub fn verify(&self) -> Verdict {
        let inputs: Vec<SignatureInput> = self.signatures.iter().map(OwnedSignature::input).collect();
        let mut options = VerifyOptions::at(self.now);
        options.user_metadata = self.user_metadata.clone();
        options.max_signatures = self.max_signatures;
        verify::verify(&self.target(), &inputs, &self.rules(), &self.stores(), &options)
    }

    /// Whether `verdict` is what the case requires.
    pub fn check(&self, verdict: &Verdict) -> Result<(), String> {
        let rejected_kind = || verdict.signatures.last().and_then(|s| s.rejected_by.as_ref()).map(|f| f.kind);
        let all_failed = verdict.decision == Decision::Rejected(Rejection::AllSignaturesFailed);
        let ok = match &self.expect {
            Expect::Verified => matches!(verdict.decision, Decision::Verified { .. }),
            Expect::Decision(decision) => verdict.decision == *decision,
            Expect::Rejected(kind) => all_failed && rejected_kind() == Some(*kind),
            Expect::RejectedOneOf(kinds) => all_failed && rejected_kind().is_some_and(|k| kinds.contains(&k)),
            Expect::NotAccepted => !verdict.is_accepted(),
            Expect::Any => true,
        };
        if !ok {
            return Err(format!("expected {:?}, got {:?} ({})", self.expect, verdict.decision, verdict.reason()));
        }
        if !self.detail_contains.is_empty() {
            let detail = verdict
                .signatures
                .last()
                .and_then(|s| s.rejected_by.as_ref())
                .map(|f| f.detail.to_lowercase())
                .unwrap_or_default();
            if !self.detail_contains.iter().any(|n| detail.contains(&n.to_lowercase())) {
                return Err(format!("expected one of {:?} in the detail {detail:?}", self.detail_contains));
            }
        }
        match self.extra {
            Some(check) => check(self, verdict),
            None => Ok(()),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Building signers and signatures.

/// The three specs of a valid chain, for groups to change before issuing.
pub struct Specs {
    pub root: CertificateSpec,
    pub intermediate: CertificateSpec,
    pub leaf: CertificateSpec,
}

impl Specs {
    pub fn valid() -> Self {
        let (from, to) = (at(2024, 1, 1), at(2027, 1, 1));
        Specs {
            root: CertificateSpec::ca(ROOT, from, to, Some(1)),
            intermediate: CertificateSpec::ca(INTERMEDIATE, from, to, Some(0)),
            leaf: CertificateSpec::code_signing_leaf(LEAF, from, to),
        }
    }
}

/// A signer: its keys and certificate chain (leaf, intermediate, root).
pub struct Pki {
    intermediate_key: SigningKey,
    leaf_key: SigningKey,
    chain: Vec<Certificate>,
}

impl Pki {
    pub fn new(leaf_kind: KeyKind) -> Self {
        Pki::with(leaf_kind, Specs::valid())
    }

    pub fn with(leaf_kind: KeyKind, specs: Specs) -> Self {
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

    pub fn root(&self) -> &Certificate {
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

pub fn target_of(d: &Descriptor) -> Target {
    Target::Manifest { media_type: d.media_type.clone(), digest: d.digest.to_string(), size: d.size }
}

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

// ---------------------------------------------------------------------------------------------------------------
// Every group, for runners that take them all (the differential test).

/// Every attack case of every group, in group order.
pub fn all() -> Vec<AttackCase> {
    let groups: [fn() -> Vec<AttackCase>; 28] = [
        untampered_signatures,
        hand_built_jws_control,
        alg_none_and_hs256,
        alg_not_matching_the_leaf_key,
        unknown_critical_attribute,
        crit_missing_a_required_name,
        duplicate_keys,
        extra_base64_padding,
        payload_tampered_by_one_byte,
        signature_replayed_onto_another_artifact,
        size_or_media_type_mismatch,
        envelope_not_matching_its_manifest_layer,
        expired_signature,
        permissive_level_logs_expiry,
        certificate_not_yet_valid,
        expired_certificate_without_timestamp,
        leaf_with_ca_bit,
        leaf_with_key_cert_sign,
        wrong_extended_key_usage,
        sha1_certificate,
        self_signed_intermediate,
        truncated_or_out_of_order_chain,
        untrusted_root_or_identity,
        envelopes_of_many_megabytes,
        signature_manifest_of_many_megabytes,
        decisions_over_several_signatures,
        no_signature_and_skip,
        user_metadata,
    ];
    let mut cases: Vec<AttackCase> = groups.iter().flat_map(|group| group()).collect();
    cases.extend(hostile_envelope_bytes());
    cases
}

// ---------------------------------------------------------------------------------------------------------------
// Positive controls.

fn signer_is_the_leaf(_: &AttackCase, verdict: &Verdict) -> Result<(), String> {
    let signer = verdict.verified_signature().and_then(|s| s.signer.clone()).ok_or("no signer")?;
    match (signer.subject.as_str(), signer.chain_sha256.len(), signer.signing_time) {
        (LEAF, 3, Some(t)) if t == signing_time() => Ok(()),
        _ => Err(format!("unexpected signer {signer:?}")),
    }
}

pub fn untampered_signatures() -> Vec<AttackCase> {
    let target = artifact("a");
    let mut cases = Vec::new();
    for kind in KINDS {
        let pki = Pki::new(kind);
        for format in FORMATS {
            let signed = pki.sign(&target, &options(format));
            ParsedEnvelope::parse(format, &signed.envelope).unwrap();
            let name = format!("untampered {kind:?} {format:?}");
            cases.push(
                AttackCase::new(format!("{name} with manifest"), &pki, &target, vec![with_manifest(&signed)])
                    .extra(signer_is_the_leaf),
            );
            // The same envelope verifies detached too (no signature manifest).
            cases.push(AttackCase::new(
                format!("{name} detached"),
                &pki,
                &target,
                vec![detached(format, &signed.envelope)],
            ));
        }
    }
    cases
}

pub fn hand_built_jws_control() -> Vec<AttackCase> {
    // The hand-built JWS writer is faithful: with a well-formed header it produces a verifying signature, so the
    // attacks built with it fail for the attack alone.
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let envelope = hand_jws(&protected_json("ES256").to_string(), &target, &pki.leaf_key, &pki.chain_der());
    vec![AttackCase::new("hand-built JWS control", &pki, &target, vec![detached(EnvelopeFormat::Jws, &envelope)])]
}

// ---------------------------------------------------------------------------------------------------------------
// Algorithms.

pub fn alg_none_and_hs256() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut cases = Vec::new();
    for alg in ["none", "HS256", "RS256", "ES256K", ""] {
        let envelope = hand_jws(&protected_json(alg).to_string(), &target, &pki.leaf_key, &pki.chain_der());
        assert!(
            matches!(
                ParsedEnvelope::parse(EnvelopeFormat::Jws, &envelope),
                Err(EnvelopeError::UnsupportedAlgorithm { .. })
            ),
            "{alg}"
        );
        let signatures = vec![detached(EnvelopeFormat::Jws, &envelope)];
        cases.push(
            AttackCase::new(format!("alg {alg:?}"), &pki, &target, signatures).rejected(FailureKind::AlgorithmInvalid),
        );
    }
    // alg none with an empty signature, the classic form.
    let protected = Base64UrlUnpadded::encode_string(protected_json("none").to_string().as_bytes());
    let payload = Base64UrlUnpadded::encode_string(&payload_for(&target, BTreeMap::new()).to_json());
    let envelope = jws_json(&protected, &payload, "", &pki.chain_der());
    cases.push(
        AttackCase::new("alg none, empty signature", &pki, &target, vec![detached(EnvelopeFormat::Jws, &envelope)])
            .expect(Expect::RejectedOneOf(&[FailureKind::AlgorithmInvalid, FailureKind::EnvelopeMalformed])),
    );
    cases
}

pub fn alg_not_matching_the_leaf_key() -> Vec<AttackCase> {
    let target = artifact("a");
    let mut cases = Vec::new();
    for (kind, wrong) in [
        (KeyKind::P256, "ES384"),
        (KeyKind::P384, "ES256"),
        (KeyKind::P256, "PS256"),
        (KeyKind::Ed25519, "ES256"),
        (KeyKind::P256, "EdDSA"),
    ] {
        let pki = Pki::new(kind);
        let envelope = hand_jws(&protected_json(wrong).to_string(), &target, &pki.leaf_key, &pki.chain_der());
        let signatures = vec![detached(EnvelopeFormat::Jws, &envelope)];
        cases.push(
            AttackCase::new(format!("alg {wrong} with a {kind:?} key"), &pki, &target, signatures)
                .rejected(FailureKind::AlgorithmInvalid)
                .detail(&["does not match"]),
        );
    }
    cases
}

// ---------------------------------------------------------------------------------------------------------------
// Protected header rules.

pub fn unknown_critical_attribute() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut header = protected_json("ES256");
    header["crit"] = json!(["io.cncf.notary.signingScheme", "com.example.mustUnderstand"]);
    header["com.example.mustUnderstand"] = json!("yes");
    let envelope = hand_jws(&header.to_string(), &target, &pki.leaf_key, &pki.chain_der());
    let critical =
        AttackCase::new("unknown critical attribute", &pki, &target, vec![detached(EnvelopeFormat::Jws, &envelope)])
            .rejected(FailureKind::UnprocessedCriticalAttribute)
            .detail(&["com.example.mustUnderstand"]);
    // The same attribute, not critical, is ignored: the header itself is fine.
    header["crit"] = json!(["io.cncf.notary.signingScheme"]);
    let envelope = hand_jws(&header.to_string(), &target, &pki.leaf_key, &pki.chain_der());
    let control = AttackCase::new(
        "unknown attribute, not critical",
        &pki,
        &target,
        vec![detached(EnvelopeFormat::Jws, &envelope)],
    );
    vec![critical, control]
}

pub fn crit_missing_a_required_name() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut headers = Vec::new();
    // signingScheme present but not critical.
    let mut header = protected_json("ES256");
    header["crit"] = json!(["io.cncf.notary.expiry"]);
    header["io.cncf.notary.expiry"] = json!(at(2026, 1, 1).to_rfc3339());
    headers.push((header, "MissingCritical signingScheme"));
    // expiry present but not critical.
    let mut header = protected_json("ES256");
    header["io.cncf.notary.expiry"] = json!(at(2026, 1, 1).to_rfc3339());
    headers.push((header, "MissingCritical expiry"));
    // no crit at all.
    let mut header = protected_json("ES256");
    header.as_object_mut().unwrap().remove("crit");
    headers.push((header, "CritAbsent"));
    // crit naming an absent header.
    let mut header = protected_json("ES256");
    header["crit"] = json!(["io.cncf.notary.signingScheme", "io.cncf.notary.verificationPlugin"]);
    headers.push((header, "CriticalNotPresent"));
    let mut cases = Vec::new();
    for (header, what) in headers {
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
        let signatures = vec![detached(EnvelopeFormat::Jws, &envelope)];
        cases.push(
            AttackCase::new(format!("crit: {what}"), &pki, &target, signatures)
                .rejected(FailureKind::EnvelopeMalformed),
        );
    }
    cases
}

pub fn duplicate_keys() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let header = protected_json("ES256").to_string();
    let mut cases = Vec::new();
    // Duplicate alg (the second could name another algorithm to a last-wins parser) and duplicate signingTime.
    for duplicate in [r#"{"alg":"ES256","#, r#"{"io.cncf.notary.signingTime":"2030-01-01T00:00:00Z","#] {
        let protected = header.replacen('{', duplicate, 1);
        let envelope = hand_jws(&protected, &target, &pki.leaf_key, &pki.chain_der());
        assert!(
            matches!(ParsedEnvelope::parse(EnvelopeFormat::Jws, &envelope), Err(EnvelopeError::DuplicateKey { .. })),
            "{protected}"
        );
        let signatures = vec![detached(EnvelopeFormat::Jws, &envelope)];
        cases.push(
            AttackCase::new(format!("duplicate key {duplicate}"), &pki, &target, signatures)
                .rejected(FailureKind::EnvelopeMalformed),
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
    let signatures = vec![detached(EnvelopeFormat::Jws, doubled.as_bytes())];
    cases.push(
        AttackCase::new("two payload members", &pki, &target, signatures).rejected(FailureKind::EnvelopeMalformed),
    );
    cases
}

pub fn extra_base64_padding() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let mut cases = Vec::new();
    for member in ["payload", "protected", "signature"] {
        let mut members = jws_members(&signed.envelope);
        let padded = format!("{}=", members[member].as_str().unwrap());
        members.insert(member.into(), Value::from(padded));
        let envelope = Value::Object(members).to_string().into_bytes();
        assert!(
            matches!(ParsedEnvelope::parse(EnvelopeFormat::Jws, &envelope), Err(EnvelopeError::BadBase64 { .. })),
            "{member}"
        );
        let signatures = vec![detached(EnvelopeFormat::Jws, &envelope)];
        cases.push(
            AttackCase::new(format!("padded {member}"), &pki, &target, signatures)
                .rejected(FailureKind::EnvelopeMalformed),
        );
    }
    // Control: the members re-serialised unchanged still verify.
    let envelope = Value::Object(jws_members(&signed.envelope)).to_string().into_bytes();
    cases.push(AttackCase::new("members re-serialised", &pki, &target, vec![detached(EnvelopeFormat::Jws, &envelope)]));
    cases
}

// ---------------------------------------------------------------------------------------------------------------
// Integrity of the signed bytes.

pub fn payload_tampered_by_one_byte() -> Vec<AttackCase> {
    let target = artifact("a");
    let mut cases = Vec::new();
    for kind in KINDS {
        let pki = Pki::new(kind);
        for format in FORMATS {
            let signed = pki.sign(&target, &options(format));
            let tampered = tamper_payload(format, &signed.envelope);
            assert_eq!(tampered.len(), signed.envelope.len(), "{format:?}: one byte changed, nothing else");
            ParsedEnvelope::parse(format, &tampered).unwrap();
            let signatures = vec![detached(format, &tampered)];
            cases.push(
                AttackCase::new(format!("payload tampered {kind:?} {format:?}"), &pki, &target, signatures)
                    .rejected(FailureKind::SignatureInvalid),
            );
        }
    }
    cases
}

pub fn signature_replayed_onto_another_artifact() -> Vec<AttackCase> {
    let (a, b) = (artifact("a"), artifact("b"));
    let mut cases = Vec::new();
    for kind in KINDS {
        let pki = Pki::new(kind);
        for format in FORMATS {
            let name = format!("replay {kind:?} {format:?}");
            let signed = pki.sign(&a, &options(format));
            cases.push(AttackCase::new(format!("{name}: control on A"), &pki, &a, vec![with_manifest(&signed)]));
            // The signature manifest still names A: refused as a signature of another artifact.
            cases.push(
                AttackCase::new(format!("{name}: manifest names A"), &pki, &b, vec![with_manifest(&signed)])
                    .rejected(FailureKind::SignatureManifestInvalid),
            );
            // The attacker rewrites the manifest's subject to B: the signed payload still names A.
            let mut manifest: Value = serde_json::from_slice(&signed.manifest).unwrap();
            manifest["subject"]["digest"] = json!(b.digest.to_string());
            manifest["subject"]["size"] = json!(b.size);
            let rewritten = OwnedSignature {
                manifest: Some(manifest.to_string().into_bytes()),
                envelope: signed.envelope.clone(),
                format: None,
            };
            cases.push(
                AttackCase::new(format!("{name}: subject rewritten to B"), &pki, &b, vec![rewritten])
                    .rejected(FailureKind::PayloadMismatch)
                    .detail(&[&a.digest.to_string()]),
            );
            // Detached, the same.
            cases.push(
                AttackCase::new(format!("{name}: detached onto B"), &pki, &b, vec![detached(format, &signed.envelope)])
                    .rejected(FailureKind::PayloadMismatch),
            );
        }
    }
    cases
}

pub fn size_or_media_type_mismatch() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut cases = Vec::new();
    for format in FORMATS {
        let signed = pki.sign(&target, &options(format));
        let mut bigger = target.clone();
        bigger.size += 1;
        cases.push(
            AttackCase::new(format!("size mismatch {format:?}"), &pki, &bigger, vec![with_manifest(&signed)])
                .rejected(FailureKind::PayloadMismatch)
                .detail(&["size"]),
        );
        let mut docker = target.clone();
        docker.media_type = media_types::DOCKER_MANIFEST.into();
        cases.push(
            AttackCase::new(format!("media type mismatch {format:?}"), &pki, &docker, vec![with_manifest(&signed)])
                .rejected(FailureKind::PayloadMismatch),
        );
    }
    cases
}

pub fn envelope_not_matching_its_manifest_layer() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut cases = Vec::new();
    for format in FORMATS {
        let signed = pki.sign(&target, &options(format));
        // Another valid envelope for the same artifact, swapped in under the first signature manifest.
        let mut later = options(format);
        later.signing_time = at(2025, 2, 1);
        let other = pki.sign(&target, &later);
        assert_ne!(other.envelope, signed.envelope);
        let swapped =
            OwnedSignature { manifest: Some(signed.manifest.clone()), envelope: other.envelope, format: None };
        cases.push(
            AttackCase::new(format!("envelope swapped {format:?}"), &pki, &target, vec![swapped])
                .rejected(FailureKind::EnvelopeDigestMismatch),
        );
        // A truncated envelope under its own manifest.
        let cut = OwnedSignature {
            manifest: Some(signed.manifest.clone()),
            envelope: signed.envelope[..signed.envelope.len() - 1].to_vec(),
            format: None,
        };
        cases.push(
            AttackCase::new(format!("envelope truncated {format:?}"), &pki, &target, vec![cut])
                .rejected(FailureKind::EnvelopeDigestMismatch),
        );
    }
    cases
}

// ---------------------------------------------------------------------------------------------------------------
// Time.

pub fn expired_signature() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut cases = Vec::new();
    for format in FORMATS {
        let mut expiring = options(format);
        expiring.expiry = Some(at(2025, 3, 1));
        let signed = pki.sign(&target, &expiring);
        cases.push(
            AttackCase::new(format!("expired {format:?}"), &pki, &target, vec![with_manifest(&signed)])
                .rejected(FailureKind::SignatureExpired)
                .detail(&["2025-03-01"]),
        );
        // Control: checked before the expiry, the same signature verifies.
        cases.push(
            AttackCase::new(format!("before expiry {format:?}"), &pki, &target, vec![with_manifest(&signed)])
                .at(at(2025, 2, 1)),
        );
    }
    cases
}

fn logged_expiry_once(_: &AttackCase, verdict: &Verdict) -> Result<(), String> {
    let warnings: Vec<_> =
        verdict.signatures.first().ok_or("no signature")?.warnings().map(|(c, f)| (*c, f.kind)).collect();
    match warnings.as_slice() {
        [(Check::Expiry, FailureKind::SignatureExpired)] => Ok(()),
        other => Err(format!("expected one logged expiry, got {other:?}")),
    }
}

pub fn permissive_level_logs_expiry() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut expiring = options(EnvelopeFormat::Cose);
    expiring.expiry = Some(at(2025, 3, 1));
    let signed = pki.sign(&target, &expiring);
    // Permissive and audit log the expiry and accept; strict enforces it (expired_signature).
    ["permissive", "audit"]
        .into_iter()
        .map(|level| {
            AttackCase::new(format!("expired under {level}"), &pki, &target, vec![with_manifest(&signed)])
                .level(level)
                .extra(logged_expiry_once)
        })
        .collect()
}

pub fn certificate_not_yet_valid() -> Vec<AttackCase> {
    // The leaf becomes valid 2025-09-01; the signature claims 2025-10-01; the verifier's clock says 2025-06-01.
    let mut specs = Specs::valid();
    specs.leaf.not_before = at(2025, 9, 1);
    let (pki, target) = (Pki::with(KeyKind::P256, specs), artifact("a"));
    let mut future = options(EnvelopeFormat::Jws);
    future.signing_time = at(2025, 10, 1);
    let signed = pki.sign(&target, &future);
    vec![
        AttackCase::new("leaf not yet valid", &pki, &target, vec![with_manifest(&signed)])
            .rejected(FailureKind::CertificateExpired)
            .detail(&[LEAF]),
        // Control: verified after it became valid.
        AttackCase::new("leaf valid later", &pki, &target, vec![with_manifest(&signed)]).at(at(2025, 11, 1)),
    ]
}

pub fn expired_certificate_without_timestamp() -> Vec<AttackCase> {
    let mut cases = Vec::new();
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
        cases.push(
            AttackCase::new(format!("expired {expire} certificate"), &pki, &target, vec![with_manifest(&signed)])
                .rejected(FailureKind::CertificateExpired)
                .detail(&["no trusted timestamp"]),
        );
    }
    cases
}

// ---------------------------------------------------------------------------------------------------------------
// Certificate chain rules, each with a chain nv2's signer refuses, smuggled in through the envelope layer.

/// Signs with a chain issued from `specs` (the signer's own checks bypassed); each format expects
/// `CertificateChainInvalid` with `needle` in the detail.
fn chain_refused(name: &str, specs: Specs, needle: &str) -> Vec<AttackCase> {
    let (pki, target) = (Pki::with(KeyKind::P256, specs), artifact("a"));
    assert!(
        sign::sign_artifact(&target, &pki.leaf_key, &pki.chain, &options(EnvelopeFormat::Jws)).is_err(),
        "{needle}"
    );
    FORMATS
        .into_iter()
        .map(|format| {
            let envelope = pki.sign_unchecked(format, &target, &pki.chain_der());
            AttackCase::new(format!("{name} {format:?}"), &pki, &target, vec![detached(format, &envelope)])
                .rejected(FailureKind::CertificateChainInvalid)
                .detail(&[needle])
        })
        .collect()
}

pub fn leaf_with_ca_bit() -> Vec<AttackCase> {
    let mut specs = Specs::valid();
    specs.leaf.basic_constraints = Some(issue::BasicConstraintsSpec { critical: true, ca: true, path_len: None });
    chain_refused("leaf with cA", specs, "must not be a CA")
}

pub fn leaf_with_key_cert_sign() -> Vec<AttackCase> {
    let mut specs = Specs::valid();
    specs.leaf.key_usage.as_mut().unwrap().usages.push(KeyUsages::KeyCertSign);
    chain_refused("leaf with keyCertSign", specs, "digitalSignature only")
}

pub fn wrong_extended_key_usage() -> Vec<AttackCase> {
    let mut cases = Vec::new();
    for (purpose, needle) in [("1.3.6.1.5.5.7.3.1", "serverAuth"), ("1.3.6.1.5.5.7.3.8", "timeStamping")] {
        let mut specs = Specs::valid();
        specs.leaf.extended_key_usage.as_mut().unwrap().purposes = vec![purpose.parse().unwrap()];
        let (pki, target) = (Pki::with(KeyKind::P256, specs), artifact("a"));
        let envelope = pki.sign_unchecked(EnvelopeFormat::Jws, &target, &pki.chain_der());
        cases.push(
            AttackCase::new(
                format!("leaf EKU {needle}"),
                &pki,
                &target,
                vec![detached(EnvelopeFormat::Jws, &envelope)],
            )
            .rejected(FailureKind::CertificateChainInvalid)
            .detail(&[needle, "extended key usage"]),
        );
    }
    cases
}

pub fn sha1_certificate() -> Vec<AttackCase> {
    let mut specs = Specs::valid();
    specs.leaf.signature_algorithm = Some(spki::AlgorithmIdentifierOwned {
        oid: "1.2.840.113549.1.1.5".parse().unwrap(),
        parameters: Some(der::Any::null()),
    });
    let mut cases = chain_refused("sha1WithRSA leaf", specs, "SHA-1");
    // ecdsa-with-SHA1 on the intermediate.
    let mut specs = Specs::valid();
    specs.intermediate.signature_algorithm =
        Some(spki::AlgorithmIdentifierOwned { oid: "1.2.840.10045.4.1".parse().unwrap(), parameters: None });
    cases.extend(chain_refused("ecdsa-with-SHA1 intermediate", specs, "SHA-1"));
    cases
}

pub fn self_signed_intermediate() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    // The intermediate re-issued by itself (same name and key, so the leaf still links to it).
    let spec = Specs::valid().intermediate;
    let self_signed = issue::issue_self_signed(&spec, &pki.intermediate_key, &[9]).unwrap();
    let chain = vec![pki.chain[0].der().to_vec(), self_signed.der().to_vec(), pki.root().der().to_vec()];
    FORMATS
        .into_iter()
        .map(|format| {
            let envelope = pki.sign_unchecked(format, &target, &chain);
            AttackCase::new(
                format!("self-signed intermediate {format:?}"),
                &pki,
                &target,
                vec![detached(format, &envelope)],
            )
            .rejected(FailureKind::CertificateChainInvalid)
            .detail(&["self-signed", "issuer"])
        })
        .collect()
}

pub fn truncated_or_out_of_order_chain() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let [leaf, intermediate, root] = [0, 1, 2].map(|i| pki.chain[i].der().to_vec());
    let chains = [
        ("leaf, intermediate", vec![leaf.clone(), intermediate.clone()], "root"),
        ("leaf, root", vec![leaf.clone(), root.clone()], "issuer"),
        ("leaf, root, intermediate", vec![leaf.clone(), root.clone(), intermediate.clone()], ""),
        ("intermediate, leaf, root", vec![intermediate.clone(), leaf.clone(), root.clone()], ""),
        ("root twice", vec![leaf.clone(), intermediate.clone(), root.clone(), root.clone()], ""),
    ];
    let mut cases = Vec::new();
    for (name, chain, needle) in chains {
        if chain[0] != leaf {
            // A chain that does not start with the signing certificate cannot even be signed with.
            let request =
                SignRequest::new(EnvelopeFormat::Jws, &payload_for(&target, BTreeMap::new()), signing_time(), "x");
            assert!(envelope::sign(&request, &pki.leaf_key, &chain).is_err());
            let envelope = hand_jws(&protected_json("ES256").to_string(), &target, &pki.leaf_key, &chain);
            cases.push(
                AttackCase::new(format!("chain {name}"), &pki, &target, vec![detached(EnvelopeFormat::Jws, &envelope)])
                    .rejected(FailureKind::SignatureInvalid),
            );
            continue;
        }
        for format in FORMATS {
            let envelope = pki.sign_unchecked(format, &target, &chain);
            cases.push(
                AttackCase::new(format!("chain {name} {format:?}"), &pki, &target, vec![detached(format, &envelope)])
                    .rejected(FailureKind::CertificateChainInvalid)
                    .detail(&[needle]),
            );
        }
    }
    // Control: the complete chain in order verifies through the same unchecked path.
    let envelope = pki.sign_unchecked(EnvelopeFormat::Cose, &target, &pki.chain_der());
    cases.push(AttackCase::new(
        "complete chain, unchecked signer",
        &pki,
        &target,
        vec![detached(EnvelopeFormat::Cose, &envelope)],
    ));
    cases
}

pub fn untrusted_root_or_identity() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    // Trusting another root.
    let other = issue::issue_self_signed(&Specs::valid().root, &key(KeyKind::P256, 50), &[1]).unwrap();
    let untrusted = AttackCase::new("another root trusted", &pki, &target, vec![with_manifest(&signed)])
        .trusting(&other)
        .rejected(FailureKind::UntrustedCertificate);
    // A leaf from the trusted root under another subject.
    let mut specs = Specs::valid();
    specs.leaf.subject = String::from("CN=Mallory,O=Notary,ST=WA,C=US");
    let mallory = Pki::with(KeyKind::P256, specs);
    let signed = mallory.sign(&target, &options(EnvelopeFormat::Jws));
    let identity = AttackCase::new("untrusted identity", &mallory, &target, vec![with_manifest(&signed)])
        .rejected(FailureKind::UntrustedIdentity);
    vec![untrusted, identity]
}

// ---------------------------------------------------------------------------------------------------------------
// Hostile sizes.

pub fn envelopes_of_many_megabytes() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let huge = vec![b'{'; 33 * 1024 * 1024];
    let mut cases = Vec::new();
    for format in FORMATS {
        assert!(matches!(ParsedEnvelope::parse(format, &huge), Err(EnvelopeError::TooLarge { .. })));
        cases.push(
            AttackCase::new(format!("33 MiB envelope {format:?}"), &pki, &target, vec![detached(format, &huge)])
                .rejected(FailureKind::EnvelopeMalformed)
                .within(Duration::from_secs(2)),
        );
    }
    // Just under the bound but still hostile: a JWS padded with 31 MiB of whitespace-free garbage is refused with
    // a typed error, also fast.
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let mut members = jws_members(&signed.envelope);
    members.insert("payload".into(), Value::from("A".repeat(31 * 1024 * 1024)));
    let big = Value::Object(members).to_string().into_bytes();
    cases.push(
        AttackCase::new("31 MiB payload", &pki, &target, vec![detached(EnvelopeFormat::Jws, &big)])
            .expect(Expect::NotAccepted)
            .within(Duration::from_secs(20)),
    );
    cases
}

pub fn signature_manifest_of_many_megabytes() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let signed = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let mut manifest: Value = serde_json::from_slice(&signed.manifest).unwrap();
    manifest["annotations"]["padding"] = json!("x".repeat(5 * 1024 * 1024));
    let manifest = manifest.to_string().into_bytes();
    assert!(manifest.len() > 5 * 1024 * 1024);
    let input = OwnedSignature { manifest: Some(manifest), envelope: signed.envelope, format: None };
    vec![AttackCase::new("5 MiB signature manifest", &pki, &target, vec![input])
        .rejected(FailureKind::SignatureManifestInvalid)
        .extra(detail_not_empty)
        .within(Duration::from_secs(2))]
}

fn detail_not_empty(_: &AttackCase, verdict: &Verdict) -> Result<(), String> {
    match verdict.signatures.last().and_then(|s| s.rejected_by.as_ref()) {
        Some(failure) if !failure.detail.is_empty() => Ok(()),
        other => Err(format!("expected a rejection with a detail, got {other:?}")),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Decisions over several signatures, levels and metadata.

fn stopped_at_the_first_pass(_: &AttackCase, verdict: &Verdict) -> Result<(), String> {
    // Verification stopped at the first passing signature, a COSE one, after a bad JWS.
    let first = verdict.signatures.first().and_then(|s| s.rejected_by.as_ref()).map(|f| f.kind);
    let format = verdict.verified_signature().and_then(|s| s.format);
    match (verdict.signatures.len(), first, format) {
        (2, Some(FailureKind::SignatureInvalid), Some(EnvelopeFormat::Cose)) => Ok(()),
        other => Err(format!("unexpected reports {other:?}")),
    }
}

fn examined_two(_: &AttackCase, verdict: &Verdict) -> Result<(), String> {
    match verdict.signatures.len() {
        2 => Ok(()),
        n => Err(format!("{n} signatures examined, expected 2")),
    }
}

pub fn decisions_over_several_signatures() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let good_jws = pki.sign(&target, &options(EnvelopeFormat::Jws));
    let good_cose = pki.sign(&target, &options(EnvelopeFormat::Cose));
    let bad = detached(EnvelopeFormat::Jws, &tamper_payload(EnvelopeFormat::Jws, &good_jws.envelope));
    let first_passing = AttackCase::new(
        "first passing signature wins",
        &pki,
        &target,
        vec![bad.clone(), with_manifest(&good_cose), with_manifest(&good_jws)],
    )
    .expect(Expect::Decision(Decision::Verified { signature: 1 }))
    .extra(stopped_at_the_first_pass);
    let two_bad_one_good = vec![bad.clone(), bad.clone(), with_manifest(&good_jws)];
    vec![
        first_passing,
        // The good signature is third: never examined under a bound of two.
        AttackCase::new("max signatures 2", &pki, &target, two_bad_one_good.clone())
            .max_signatures(2)
            .expect(Expect::Decision(Decision::Rejected(Rejection::TooManySignatures { max: 2 })))
            .extra(examined_two),
        // Control: with room for three, the third wins.
        AttackCase::new("max signatures 3", &pki, &target, two_bad_one_good)
            .max_signatures(3)
            .expect(Expect::Decision(Decision::Verified { signature: 2 })),
        // Exactly at the bound, all failing: an ordinary rejection.
        AttackCase::new("two bad at max 2", &pki, &target, vec![bad.clone(), bad])
            .max_signatures(2)
            .expect(Expect::Decision(Decision::Rejected(Rejection::AllSignaturesFailed))),
    ]
}

fn nothing_examined(_: &AttackCase, verdict: &Verdict) -> Result<(), String> {
    match verdict.signatures.is_empty() {
        true => Ok(()),
        false => Err(String::from("skip examined signatures")),
    }
}

pub fn no_signature_and_skip() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let garbage = detached(EnvelopeFormat::Jws, b"not an envelope");
    vec![
        AttackCase::new("no signature", &pki, &target, Vec::new())
            .expect(Expect::Decision(Decision::Rejected(Rejection::NoSignature))),
        // Skip: accepted, nothing examined, even garbage.
        AttackCase::new("skip reads nothing", &pki, &target, vec![garbage.clone()])
            .level("skip")
            .expect(Expect::Decision(Decision::Skipped))
            .extra(nothing_examined),
        // Integrity is enforced at every other level: the same garbage is refused under audit.
        AttackCase::new("garbage under audit", &pki, &target, vec![garbage])
            .level("audit")
            .rejected(FailureKind::EnvelopeMalformed),
    ]
}

pub fn user_metadata() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::P256), artifact("a"));
    let mut with_metadata = options(EnvelopeFormat::Cose);
    with_metadata.user_metadata.insert("env".into(), "prod".into());
    let signed = pki.sign(&target, &with_metadata);
    let case = |name: &str| AttackCase::new(name, &pki, &target, vec![with_manifest(&signed)]);
    vec![
        case("metadata present").metadata("env", "prod"),
        case("metadata value differs").metadata("env", "dev").rejected(FailureKind::UserMetadataMismatch),
        case("metadata key absent").metadata("team", "prod").rejected(FailureKind::UserMetadataMismatch),
        // Metadata is enforced even under audit.
        case("metadata under audit").metadata("env", "dev").level("audit").rejected(FailureKind::UserMetadataMismatch),
    ]
}

/// A flip inside an unsigned member (the signing agent) may still verify; everything else must not.
fn only_unsigned_flips_verify(case: &AttackCase, verdict: &Verdict) -> Result<(), String> {
    if !verdict.is_accepted() {
        return Ok(());
    }
    let signature = case.signatures.first().ok_or("no signature")?;
    let format = signature.format.ok_or("no format")?;
    let parsed = ParsedEnvelope::parse(format, &signature.envelope).map_err(|e| e.to_string())?;
    match parsed.unsigned().signing_agent.as_deref() {
        Some("nv2-attacks/1") => Err(String::from("a flip outside the signing agent verified")),
        _ => Ok(()),
    }
}

/// Truncations and single-byte corruptions of real envelopes: always a typed verdict, never a panic.
pub fn hostile_envelope_bytes() -> Vec<AttackCase> {
    let (pki, target) = (Pki::new(KeyKind::Ed25519), artifact("a"));
    let mut cases = Vec::new();
    for format in FORMATS {
        let envelope = pki.sign(&target, &options(format)).envelope;
        let step = (envelope.len() / 64).max(1);
        for cut in (0..envelope.len()).step_by(step) {
            cases.push(
                AttackCase::new(
                    format!("{format:?} truncated at {cut}"),
                    &pki,
                    &target,
                    vec![detached(format, &envelope[..cut])],
                )
                .expect(Expect::NotAccepted),
            );
        }
        for i in (0..envelope.len()).step_by(step) {
            let mut bytes = envelope.clone();
            bytes[i] ^= 0x01;
            cases.push(
                AttackCase::new(format!("{format:?} byte {i} flipped"), &pki, &target, vec![detached(format, &bytes)])
                    .expect(Expect::Any)
                    .extra(only_unsigned_flips_verify),
            );
        }
    }
    cases
}
