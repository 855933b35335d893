//! Differential test: every pipeline case of the fixture corpus (`NV2_CORPUS_DIR`, as in the core) and every attack
//! case of the core gives the identical verdict natively and through the policy module in wasmtime.
//!
//! For each case three answers are compared byte for byte: the native pipeline's verdict rendered in the wire
//! format, [`verify_json`] run natively on the wire request, and the policy module's `nv2_verify` run in wasmtime
//! (fresh instance, fuel budget, memory cap) on the same request. Equal bytes mean equal decisions, failure kinds,
//! messages and signer facts. Malformed requests must give the same error, of the expected kind, on both sides.
//! The test prints `differential: N passed, M failed`.
//!
//! The corpus and attack cases come from the core's own test support (`core/tests/support`, included with
//! `#[path]`): one loader and one generator, never a copy.

mod runner;
#[path = "../../../core/tests/support/mod.rs"]
mod support;

use nv2_core::oci::{media_types, Descriptor};
use nv2_core::trust::{StoreRef, TrustPolicyDocument};
use nv2_core::verify::wire::{
    verify_json, PolicySpec, SignatureSpec, TargetSpec, TimeSpec, TrustStoreSpec, VerifyRequest, VerifyResponse,
    MAX_REQUEST_BYTES, WIRE_VERSION,
};
use nv2_core::verify::{NoPlugins, Target, Verdict};
use runner::{PolicyModule, RunError};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;
use support::attack_cases::{self, AttackCase};
use support::corpus_cases::{self, Case, Corpus, PipelineRun, PolicyChoice, StoreFiles};

/// Fuel for one request. The costliest case (a 31 MiB envelope, hashed and base64-decoded twice) needs about a
/// tenth of this; a module that loops forever is stopped after it.
const FUEL: u64 = 60_000_000_000;

/// The policy module, compiled once for every test of this binary.
fn module() -> &'static PolicyModule {
    static MODULE: OnceLock<PolicyModule> = OnceLock::new();
    MODULE.get_or_init(|| {
        let path = nv2_wasm_differential::policy_module().expect("the policy module builds");
        PolicyModule::from_file(&path).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()))
    })
}

/// What the response to a request must be.
enum Expected {
    /// Exactly the native verdict, rendered.
    Verdict(Vec<u8>),
    /// An error of this kind.
    Error(&'static str),
}

/// One request of the comparison.
struct WireCase {
    label: String,
    request: Vec<u8>,
    expected: Expected,
}

// ---------------------------------------------------------------------------------------------------------------
// The harness itself: the module's shape, and fuel stopping a module that never returns.

#[test]
fn policy_module_has_no_imports_and_the_documented_exports() {
    let module = module();
    assert_eq!(module.imports(), Vec::<String>::new(), "a policy module must import nothing");
    let exports = module.exports();
    for name in ["memory", "nv2_abi_version", "nv2_alloc", "nv2_free", "nv2_verify"] {
        assert!(exports.iter().any(|e| e == name), "missing export {name} in {exports:?}");
    }
}

/// An ABI-shaped module whose `nv2_verify` is `body` (request pointer and length in locals 0 and 1).
fn abi_shaped_module(body: &str) -> PolicyModule {
    let wat = format!(
        r#"(module
             (memory (export "memory") 1)
             (func (export "nv2_abi_version") (result i32) i32.const 1)
             (func (export "nv2_alloc") (param i32) (result i32) i32.const 1024)
             (func (export "nv2_free") (param i32 i32))
             (func (export "nv2_verify") (param i32 i32) (result i64) {body}))"#
    );
    PolicyModule::from_wat(&wat).expect("valid WAT")
}

#[test]
fn fuel_stops_a_module_that_never_returns() {
    let looping = abi_shaped_module("(loop $forever (br $forever)) unreachable");
    assert!(looping.imports().is_empty());
    match looping.verify(b"{}", 10_000_000) {
        Err(RunError::OutOfFuel) => {}
        Err(other) => panic!("expected the fuel limit to stop the loop, got {other}"),
        Ok(response) => panic!("expected the fuel limit to stop the loop, got {:?}", response.bytes),
    }
    // Control: the same harness runs a module that answers (echoing the request back as the response).
    let echo =
        abi_shaped_module("local.get 0 i64.extend_i32_u i64.const 32 i64.shl local.get 1 i64.extend_i32_u i64.or");
    let response = echo.verify(b"{\"echo\":true}", 10_000_000).expect("the echo module answers");
    assert_eq!(response.bytes, b"{\"echo\":true}");
    // The real module is held to its budget too: far too little fuel for a real request stops it.
    let attack = attack_cases::hand_built_jws_control().remove(0);
    match module().verify(&attack_request(&attack), 100_000) {
        Err(RunError::OutOfFuel) => {}
        Err(other) => panic!("expected the fuel limit to stop the policy module, got {other}"),
        Ok(response) => panic!("expected the fuel limit to stop the policy module, got {:?}", response.bytes),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The comparison.

#[test]
fn every_case_agrees_natively_and_in_wasm() {
    let module = module();
    let corpus = Corpus::load().expect("the corpus loads");
    let mut failures: BTreeMap<String, String> = BTreeMap::new();
    let (mut cases, without_request, unreadable) = corpus_wire_cases(&corpus);
    failures.extend(unreadable);
    let corpus_requests = cases.len();
    let attacks = attack_cases::all();
    for attack in &attacks {
        let label = format!("attack {}", attack.name);
        let verdict = attack.verify();
        if let Err(why) = attack.check(&verdict) {
            failures.insert(label.clone(), format!("natively: {why}"));
        }
        let expected = Expected::Verdict(render(&verdict));
        cases.push(WireCase { label, request: attack_request(attack), expected });
    }
    let malformed = malformed_requests();
    let malformed_count = malformed.len();
    cases.extend(malformed);

    let mut fuel: Vec<(u64, &str)> = Vec::new();
    for case in &cases {
        match compare(module, case) {
            Ok(used) => fuel.push((used, &case.label)),
            Err(why) => {
                failures.insert(case.label.clone(), why);
            }
        }
    }
    fuel.sort();
    println!(
        "differential: {corpus_requests} requests from {} corpus cases, {} attack cases, {malformed_count} malformed \
         requests",
        corpus.cases.len() - without_request.len(),
        attacks.len(),
    );
    println!(
        "differential: {} corpus cases are no verify request (kinds the policy module does not serve): {}",
        without_request.len(),
        without_request.join(", ")
    );
    if let (Some(median), Some(most)) = (fuel.get(fuel.len() / 2), fuel.last()) {
        println!("differential: fuel per request: median {}, most {} ({})", median.0, most.0, most.1);
    }
    let total = cases.len() + failures.keys().filter(|l| !cases.iter().any(|c| &c.label == *l)).count();
    println!("differential: {} passed, {} failed", total - failures.len(), failures.len());
    for (label, why) in &failures {
        println!("  {label}: {why}");
    }
    assert!(failures.is_empty(), "{} disagreements", failures.len());
}

/// Runs one request natively and in wasm; both must be byte-identical and what the case expects. Returns the fuel
/// the module used.
fn compare(module: &PolicyModule, case: &WireCase) -> Result<u64, String> {
    let native = verify_json(&case.request);
    let wasm = module.verify(&case.request, FUEL).map_err(|e| format!("wasm: {e}"))?;
    if native != wasm.bytes {
        return Err(format!(
            "native and wasm differ:\n    native {}\n    wasm   {}",
            excerpt(&native),
            excerpt(&wasm.bytes)
        ));
    }
    match &case.expected {
        Expected::Verdict(direct) if *direct != native => Err(format!(
            "the wire verdict differs from the pipeline's:\n    pipeline {}\n    wire     {}",
            excerpt(direct),
            excerpt(&native)
        )),
        Expected::Error(kind) => {
            let response = VerifyResponse::from_json(&native).map_err(|e| e.to_string())?;
            match response.error {
                Some(error) if error.kind == *kind => Ok(wasm.fuel),
                _ => Err(format!("expected a {kind} error, got {}", excerpt(&native))),
            }
        }
        Expected::Verdict(_) => Ok(wasm.fuel),
    }
}

fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).chars().take(600).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Requests from the corpus.

/// Every corpus case that runs the pipeline (or loads a policy or a trust store, which a request does first) as
/// requests; the ids of the cases of other kinds (certificate-file, chain, timestamp-token, revocation and encoding
/// checks, envelope reading without trust), which are no verify request; and the cases that could not be read.
fn corpus_wire_cases(corpus: &Corpus) -> (Vec<WireCase>, Vec<String>, Vec<(String, String)>) {
    let (mut cases, mut without_request, mut unreadable) = (Vec::new(), Vec::new(), Vec::new());
    for case in corpus.cases() {
        match corpus_runs(&case) {
            Ok(Some(runs)) => {
                for run in runs {
                    match request_of(&run) {
                        Ok(request) => {
                            cases.push(WireCase { label: run.label.clone(), request, expected: direct(&run) })
                        }
                        Err(why) => unreadable.push((run.label.clone(), why)),
                    }
                }
            }
            Ok(None) => without_request.push(case.id().to_string()),
            Err(why) => unreadable.push((case.id().to_string(), format!("the case could not be read: {why}"))),
        }
    }
    (cases, without_request, unreadable)
}

/// The pipeline runs a case describes, `None` for kinds that are no verify request.
fn corpus_runs(case: &Case) -> Result<Option<Vec<PipelineRun>>, String> {
    match (case.str("kind"), case.str("check")) {
        (Some("envelope"), _) if !case.json["trust"].is_null() => Ok(Some(vec![corpus_cases::envelope_run(case)?])),
        (Some("oci-layout"), _) => {
            let policy = case.json.pointer("/trust/policy_file").and_then(Value::as_str).ok_or("trust.policy_file")?;
            Ok(Some(corpus_cases::layout_runs(case, &case.read(policy)?)?))
        }
        (Some("trust-policy"), _) => {
            let document = case.first_file()?;
            if case.json.get("artifact").is_some() {
                return Ok(Some(corpus_cases::layout_runs(case, &document)?));
            }
            // A document alone: the request loads and validates it, then finds no signature to verify.
            let policy = match case.str("document_type") {
                Some("blob") => PolicyChoice::Blob { document },
                _ => PolicyChoice::Oci { document, scope: String::from("registry.example/app") },
            };
            Ok(Some(vec![empty_run(case, policy, Vec::new())?]))
        }
        (Some("certificate"), Some("trust-store-load")) => {
            // A store alone: the request loads it under notation's rules, then finds no signature to verify.
            let store = case.store_dir()?;
            let statement = json!({
                "name": "store",
                "registryScopes": ["*"],
                "signatureVerification": {"level": "strict"},
                "trustStores": [store.store.to_string()],
                "trustedIdentities": ["*"],
            });
            let document = json!({"version": "1.0", "trustPolicies": [statement]}).to_string().into_bytes();
            let policy = PolicyChoice::Oci { document, scope: String::from("registry.example/app") };
            Ok(Some(vec![empty_run(case, policy, vec![store])?]))
        }
        _ => Ok(None),
    }
}

/// A run with no signatures for an arbitrary manifest: what is checked is everything before the signatures.
fn empty_run(case: &Case, policy: PolicyChoice, stores: Vec<StoreFiles>) -> Result<PipelineRun, String> {
    let empty = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, b"{}");
    Ok(PipelineRun {
        label: case.id().to_string(),
        target: Target::Manifest {
            media_type: empty.media_type.clone(),
            digest: empty.digest.to_string(),
            size: empty.size,
        },
        signatures: Vec::new(),
        policy,
        stores,
        now: case.now_or_current()?,
        user_metadata: case.user_metadata(),
    })
}

/// What the wire must answer for a run: the native verdict, or the error a request with this policy or these
/// stores gets (in the order the request is read: policy, then stores).
fn direct(run: &PipelineRun) -> Expected {
    if let Err(_why) = run.statement() {
        let document_valid = match &run.policy {
            PolicyChoice::Oci { document, .. } => TrustPolicyDocument::parse(document).is_ok(),
            PolicyChoice::Blob { document } => nv2_core::trust::BlobTrustPolicyDocument::parse(document).is_ok(),
        };
        return Expected::Error(if document_valid { "no-applicable-policy" } else { "policy-invalid" });
    }
    match run.verify(&NoPlugins) {
        Ok(verdict) => Expected::Verdict(render(&verdict)),
        Err(_stores_refused) => Expected::Error("trust-store-invalid"),
    }
}

fn render(verdict: &Verdict) -> Vec<u8> {
    VerifyResponse::from_verdict(verdict).to_json()
}

/// The wire request for a run: documents as their file text, PEM store files as text and others in base64.
fn request_of(run: &PipelineRun) -> Result<Vec<u8>, String> {
    let text = |bytes: &[u8]| String::from_utf8(bytes.to_vec()).map_err(|_| String::from("policy file is not UTF-8"));
    let policy = match &run.policy {
        PolicyChoice::Oci { document, scope } => PolicySpec {
            document: Some(Value::String(text(document)?)),
            scope: Some(scope.clone()),
            ..PolicySpec::default()
        },
        PolicyChoice::Blob { document } => {
            PolicySpec { blob_document: Some(Value::String(text(document)?)), ..PolicySpec::default() }
        }
    };
    let request = VerifyRequest {
        version: WIRE_VERSION,
        target: TargetSpec::of(&run.target),
        signatures: run
            .signatures
            .iter()
            .map(|s| SignatureSpec::of(s.manifest.as_deref(), &s.envelope, s.format))
            .collect(),
        policy,
        trust_stores: run.stores.iter().map(|s| store_spec(&s.store, &s.files)).collect(),
        now: TimeSpec::of(run.now),
        user_metadata: run.user_metadata.clone(),
        max_signatures: None,
        crls: Default::default(),
        check_tsa_revocation: false,
    };
    Ok(request.to_json())
}

fn store_spec(store: &StoreRef, files: &[Vec<u8>]) -> TrustStoreSpec {
    let certificates = files
        .iter()
        .map(|file| match std::str::from_utf8(file) {
            Ok(text) if text.contains("-----BEGIN") => text.to_string(),
            _ => nv2_core::verify::wire::encode_base64(file),
        })
        .collect();
    TrustStoreSpec { kind: store.kind.name().to_string(), name: store.name.clone(), certificates }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests from the attack cases, and malformed requests.

/// An attack case as a request: the statement form of the policy, the root in base64 DER, time in Unix seconds.
fn attack_request(case: &AttackCase) -> Vec<u8> {
    let store = StoreRef::new(nv2_core::x509::TrustStoreKind::Ca, attack_cases::STORE).expect("valid store name");
    VerifyRequest {
        version: WIRE_VERSION,
        target: TargetSpec::of(&case.target()),
        signatures: case
            .signatures
            .iter()
            .map(|s| SignatureSpec::of(s.manifest.as_deref(), &s.envelope, s.format))
            .collect(),
        policy: PolicySpec { statement: Some(case.statement_json()), ..PolicySpec::default() },
        trust_stores: vec![store_spec(&store, &[case.trusted_root.der().to_vec()])],
        now: TimeSpec::Unix(case.now.unix()),
        user_metadata: case.user_metadata.clone(),
        max_signatures: Some(u32::try_from(case.max_signatures).expect("small bound")),
        crls: Default::default(),
        check_tsa_revocation: false,
    }
    .to_json()
}

/// Requests that are wrong as requests: each must be refused with the same error natively and in wasm.
fn malformed_requests() -> Vec<WireCase> {
    let valid: Value =
        serde_json::from_slice(&attack_request(&attack_cases::hand_built_jws_control().remove(0))).expect("JSON");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut request = valid.clone();
        change(&mut request);
        request.to_string().into_bytes()
    };
    let cases: Vec<(&str, Vec<u8>, &'static str)> = vec![
        ("empty request", Vec::new(), "request-invalid"),
        ("not JSON", b"verify me".to_vec(), "request-invalid"),
        ("not an object", b"[1, 2, 3]".to_vec(), "request-invalid"),
        ("nested 100000 deep", "[".repeat(100_000).into_bytes(), "request-invalid"),
        ("over 64 MiB", vec![b' '; MAX_REQUEST_BYTES + 1], "request-too-large"),
        ("version 2", with(&|r| r["version"] = json!(2)), "unsupported-version"),
        ("version as text", with(&|r| r["version"] = json!("1")), "unsupported-version"),
        ("duplicate key", br#"{"version":1,"version":1}"#.to_vec(), "request-invalid"),
        ("unknown member", with(&|r| r["maxSignature"] = json!(3)), "request-invalid"),
        (
            "no target",
            with(&|r| {
                r.as_object_mut().expect("an object").remove("target");
            }),
            "request-invalid",
        ),
        ("bad digest", with(&|r| r["target"]["digest"] = json!("sha256:XYZ")), "request-invalid"),
        ("bad base64", with(&|r| r["signatures"][0]["envelope"] = json!("%%%")), "request-invalid"),
        ("unknown format", with(&|r| r["signatures"][0]["format"] = json!("pgp")), "request-invalid"),
        ("maxSignatures 0", with(&|r| r["maxSignatures"] = json!(0)), "request-invalid"),
        ("bad time", with(&|r| r["now"] = json!("yesterday")), "request-invalid"),
        (
            "statement and document",
            with(&|r| r["policy"]["document"] = json!({"version": "1.0", "trustPolicies": []})),
            "request-invalid",
        ),
        (
            "statement breaks a rule",
            with(&|r| r["policy"]["statement"]["signatureVerification"]["level"] = json!("lax")),
            "policy-invalid",
        ),
        ("unknown store type", with(&|r| r["trustStores"][0]["type"] = json!("root")), "trust-store-invalid"),
        ("store of garbage", with(&|r| r["trustStores"][0]["certificates"] = json!(["AAAA"])), "trust-store-invalid"),
        (
            "no statement for the scope",
            with(&|r| {
                let statement = r["policy"]["statement"].clone();
                let mut scoped = statement.clone();
                scoped["registryScopes"] = json!(["registry.example/other"]);
                r["policy"] = json!({
                    "document": {"version": "1.0", "trustPolicies": [scoped]},
                    "reference": "registry.example/app@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
                });
            }),
            "no-applicable-policy",
        ),
    ];
    cases
        .into_iter()
        .map(|(label, request, kind)| WireCase {
            label: format!("malformed: {label}"),
            request,
            expected: Expected::Error(kind),
        })
        .collect()
}
