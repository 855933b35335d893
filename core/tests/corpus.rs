//! Runs every case of a Notary Project test-vector corpus (`cases.json` format, see the fixtures README) through
//! nv2-core and requires 100% agreement.
//!
//! The corpus directory is `$NV2_CORPUS_DIR`, or the shared fixtures (`shared/fixtures/notation` found by walking up
//! from this crate), so another corpus in the same format can be dropped in unchanged. The test prints one line
//! `corpus: N passed, M failed` and then fails listing every disagreement.

use nv2_core::crypto::HashAlgorithm;
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::oci::ParsedManifest;
use nv2_core::time::Timestamp;
use nv2_core::trust::{BlobTrustPolicyDocument, StoreRef, TrustPolicyDocument, TrustStores};
use nv2_core::verify::{
    self, BlobDigests, CrlSource, PluginHost, SignatureInput, Target, VerificationPlugin, VerifyOptions,
};
use nv2_core::x509::{self, Certificate, ChainPurpose, TrustStoreKind};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[path = "../examples/fixtures/mod.rs"]
mod fixtures;
#[path = "../examples/oci_layout/mod.rs"]
mod oci_layout;
use oci_layout::Layout;

/// What a case produced: its verdict in the vocabulary of `expect`, or an explanation of why it could not run.
type Outcome = Result<String, String>;

struct Case<'a> {
    dir: &'a Path,
    json: &'a Value,
}

impl Case<'_> {
    fn id(&self) -> &str {
        self.json["id"].as_str().unwrap_or("?")
    }
    fn str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }
    fn read(&self, rel: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.dir.join(rel)).map_err(|e| format!("{rel}: {e}"))
    }
    fn files(&self) -> Vec<&str> {
        self.json["files"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }
    fn now(&self) -> Result<Option<Timestamp>, String> {
        match self.str("verify_at") {
            None => Ok(None),
            Some(t) => Timestamp::parse_rfc3339(t).map(Some).map_err(|e| e.to_string()),
        }
    }
    /// `verify_at`, or the real current time for time-independent cases (`verify_at: null`).
    fn now_or_current(&self) -> Result<Timestamp, String> {
        match self.now()? {
            Some(t) => Ok(t),
            None => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_err(|e| e.to_string())?
                    .as_secs();
                Ok(Timestamp::from_unix(i64::try_from(secs).map_err(|e| e.to_string())?))
            }
        }
    }

    /// `trust.stores` → named stores of parsed certificates (a store that fails to load fails the case).
    fn stores(&self) -> Result<TrustStores, String> {
        let mut stores = TrustStores::new();
        let Some(map) = self.json.pointer("/trust/stores").and_then(Value::as_object) else {
            return Ok(stores);
        };
        for (key, files) in map {
            let (kind, name) = key.split_once(':').ok_or_else(|| format!("store key {key:?}"))?;
            let kind: TrustStoreKind = kind.parse().map_err(|e| format!("{key}: {e:?}"))?;
            let store = StoreRef::new(kind, name).map_err(|e| format!("{key}: {e}"))?;
            let mut contents = Vec::new();
            for f in files.as_array().into_iter().flatten().filter_map(Value::as_str) {
                contents.push(self.read(f)?);
            }
            stores.load_store(store, contents).map_err(|e| format!("{key}: {e}"))?;
        }
        Ok(stores)
    }

    fn user_metadata(&self) -> BTreeMap<String, String> {
        self.json
            .get("user_metadata")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default()
    }
}

/// The mock verification plugin a case describes (`plugin`): fixed metadata and a fixed response.
struct MockPlugin {
    name: String,
    version: String,
    capabilities: Vec<String>,
    response: Vec<u8>,
}

impl VerificationPlugin for MockPlugin {
    fn name(&self) -> &str {
        &self.name
    }
    fn version(&self) -> &str {
        &self.version
    }
    fn capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }
    fn verify_signature(&self, _request: &[u8]) -> Result<Vec<u8>, String> {
        Ok(self.response.clone())
    }
}

struct Plugins(Option<MockPlugin>);

impl PluginHost for Plugins {
    fn plugin(&self, name: &str) -> Option<&dyn VerificationPlugin> {
        self.0.as_ref().filter(|p| p.name == name).map(|p| p as &dyn VerificationPlugin)
    }
}

fn plugins(case: &Case) -> Plugins {
    Plugins(case.json.get("plugin").map(|p| {
        MockPlugin {
            name: p["name"].as_str().unwrap_or_default().to_string(),
            version: p["version"].as_str().unwrap_or_default().to_string(),
            capabilities: p["capabilities"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
                .unwrap_or_default(),
            response: serde_json::to_vec(&p["verify_signature_response"]).unwrap_or_default(),
        }
    }))
}

/// CRLs by URL, from `crl_responses` (the files stand in for the HTTP server upstream used).
struct MappedCrls(BTreeMap<String, Vec<u8>>);

impl CrlSource for MappedCrls {
    fn crl(&self, url: &str) -> Option<Vec<u8>> {
        self.0.get(url).cloned()
    }
}

fn mapped_crls(case: &Case) -> Result<MappedCrls, String> {
    let mut map = BTreeMap::new();
    if let Some(responses) = case.json.get("crl_responses").and_then(Value::as_object) {
        for (url, file) in responses {
            if let Some(f) = file.as_str() {
                map.insert(url.clone(), case.read(f)?);
            }
        }
    }
    Ok(MappedCrls(map))
}

fn valid(ok: bool) -> Outcome {
    Ok(String::from(if ok { "valid" } else { "invalid" }))
}

fn format_of(case: &Case) -> Result<EnvelopeFormat, String> {
    match case.str("format") {
        Some("jws") => Ok(EnvelopeFormat::Jws),
        Some("cose") => Ok(EnvelopeFormat::Cose),
        other => Err(format!("format {other:?}")),
    }
}

/// Envelope case: the inline policy statement becomes a one-statement document with scope `*` (or a global blob
/// statement), then the pipeline runs on the lone envelope.
fn run_envelope(case: &Case) -> Outcome {
    let format = format_of(case)?;
    let envelope = case.read(case.files()[0])?;
    let trust = &case.json["trust"];
    if trust.is_null() {
        // No trust given: the case is about reading the envelope (upstream `notation blob inspect`).
        return valid(nv2_core::envelope::ParsedEnvelope::parse(format, &envelope).is_ok());
    }
    let stores = case.stores()?;
    let store_names: Vec<&String> = trust["stores"].as_object().map(|m| m.keys().collect()).unwrap_or_default();
    let policy = &trust["policy"];
    let mut verification = json!({ "level": policy["level"] });
    for key in ["verifyTimestamp", "override"] {
        if let Some(v) = policy.get(key) {
            verification[key] = v.clone();
        }
    }
    let blob = case.json.get("blob").and_then(Value::as_bool).unwrap_or(false);
    let target_json = &case.json["target"];
    let mut statement = json!({
        "name": "corpus",
        "signatureVerification": verification,
        "trustStores": store_names,
        "trustedIdentities": policy["trustedIdentities"],
    });
    let now = case.now_or_current()?;
    let plugins = plugins(case);
    let mut options = VerifyOptions::at(now);
    options.user_metadata = case.user_metadata();
    options.plugins = &plugins;
    let input = [SignatureInput { manifest: None, envelope: &envelope, format: Some(format) }];
    let verdict = if blob {
        statement["globalPolicy"] = json!(true);
        let doc = json!({"version": "1.0", "trustPolicies": [statement]});
        let doc = BlobTrustPolicyDocument::parse(doc.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let bytes = case.read(target_json["file"].as_str().ok_or("blob case without target.file")?)?;
        let target = Target::Blob { digests: BlobDigests::of(&bytes), size: bytes.len() as u64, media_type: None };
        let statement = doc.statement_for_blob(None).map_err(|e| e.to_string())?;
        verify::verify(&target, &input, &statement.rules, &stores, &options)
    } else {
        statement["registryScopes"] = json!(["*"]);
        let doc = json!({"version": "1.0", "trustPolicies": [statement]});
        let doc = TrustPolicyDocument::parse(doc.to_string().as_bytes()).map_err(|e| e.to_string())?;
        let target = Target::Manifest {
            media_type: target_json["mediaType"].as_str().unwrap_or_default().to_string(),
            digest: target_json["digest"].as_str().unwrap_or_default().to_string(),
            size: target_json["size"].as_u64().unwrap_or_default(),
        };
        let statement = doc.statement_for("example.com/any").map_err(|e| e.to_string())?;
        verify::verify(&target, &input, &statement.rules, &stores, &options)
    };
    if std::env::var_os("NV2_CORPUS_VERBOSE").is_some() {
        eprintln!("  {}: {}", case.id(), verdict.reason());
    }
    valid(verdict.is_accepted())
}

/// OCI-layout and artifact-bearing trust-policy cases: resolve the tag, discover signatures, select the statement
/// by scope, verify.
fn run_layout(case: &Case, document: &TrustPolicyDocument) -> Outcome {
    let artifact = &case.json["artifact"];
    let layout = Layout::open(case.dir.join(artifact["layout"].as_str().ok_or("artifact.layout")?))?;
    let digest = layout.resolve(artifact["tag"].as_str().ok_or("artifact.tag")?)?;
    if Some(digest.to_string().as_str()) != artifact["digest"].as_str() {
        return Err(format!("tag resolves to {digest}, the case says {}", artifact["digest"]));
    }
    let manifest_bytes = layout.blob(&digest)?;
    let manifest = ParsedManifest::parse(None, &manifest_bytes).map_err(|e| e.to_string())?;
    let target = Target::Manifest {
        media_type: manifest.media_type().to_string(),
        digest: digest.to_string(),
        size: manifest_bytes.len() as u64,
    };
    let signature_manifests = layout.referrers(&digest)?;
    let mut envelopes = Vec::new();
    for bytes in &signature_manifests {
        let parsed = ParsedManifest::parse(None, bytes).map_err(|e| e.to_string())?;
        let layer = parsed.as_image_manifest().and_then(|m| m.layers.first()).ok_or("signature without a layer")?;
        envelopes.push(layout.blob(&layer.digest)?);
    }
    let inputs: Vec<SignatureInput> = signature_manifests
        .iter()
        .zip(&envelopes)
        .map(|(m, e)| SignatureInput { manifest: Some(m), envelope: e, format: None })
        .collect();
    let stores = case.stores()?;
    let mut options = VerifyOptions::at(case.now_or_current()?);
    options.user_metadata = case.user_metadata();
    let references: Vec<&str> = match artifact.get("references").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(Value::as_str).collect(),
        None => vec![artifact["reference"].as_str().ok_or("artifact.reference")?],
    };
    let mut all = true;
    for reference in references {
        let scope = reference.split_once('@').map_or(reference, |(s, _)| s);
        let statement = match document.statement_for(scope) {
            Ok(s) => s,
            Err(_) => return valid(false),
        };
        let verdict = verify::verify(&target, &inputs, &statement.rules, &stores, &options);
        if std::env::var_os("NV2_CORPUS_VERBOSE").is_some() {
            eprintln!("  {} [{scope}]: {}", case.id(), verdict.reason());
        }
        all &= verdict.is_accepted();
    }
    valid(all)
}

fn run_oci_layout(case: &Case) -> Outcome {
    let policy = case.json.pointer("/trust/policy_file").and_then(Value::as_str).ok_or("trust.policy_file")?;
    let document = TrustPolicyDocument::parse(&case.read(policy)?).map_err(|e| format!("{policy}: {e}"))?;
    run_layout(case, &document)
}

fn run_trust_policy(case: &Case) -> Outcome {
    let bytes = case.read(case.files()[0])?;
    let blob = case.str("document_type") == Some("blob");
    let loaded = if blob {
        BlobTrustPolicyDocument::parse(&bytes).map(|_| None)
    } else {
        TrustPolicyDocument::parse(&bytes).map(Some)
    };
    let document = match loaded {
        Err(_) => return Ok(String::from("policy-invalid")),
        Ok(doc) => doc,
    };
    match (case.json.get("artifact"), document) {
        (Some(_), Some(document)) => run_layout(case, &document),
        (None, _) => Ok(String::from("policy-valid")),
        (Some(_), None) => Err(String::from("blob policy with an OCI artifact")),
    }
}

fn certificates_in(case: &Case, files: &[&str]) -> Result<Vec<Certificate>, String> {
    let mut out = Vec::new();
    for f in files {
        out.extend(x509::parse_certificates(&case.read(f)?).map_err(|e| format!("{f}: {e}"))?);
    }
    Ok(out)
}

fn run_certificate(case: &Case) -> Outcome {
    let files = case.files();
    match case.str("check") {
        Some("read-certificate-file") => match x509::parse_certificates(&case.read(files[0])?) {
            Ok(certs) => {
                let count = case.json.get("count").and_then(Value::as_u64);
                valid(count.is_none_or(|n| n == certs.len() as u64))
            }
            Err(_) => valid(false),
        },
        Some(check @ ("codesigning-chain" | "timestamping-chain")) => {
            let chain_files: Vec<&str> = match case.json.get("chain") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => files.clone(),
            };
            let chain = match certificates_in(case, &chain_files) {
                Ok(c) => c,
                Err(_) => return valid(false),
            };
            let purpose =
                if check == "codesigning-chain" { ChainPurpose::CodeSigning } else { ChainPurpose::Timestamping };
            valid(x509::validate_chain(&chain, purpose, case.now()?).is_ok())
        }
        Some("trust-store-load") => {
            let store = &case.json["store"];
            let kind: TrustStoreKind =
                store["type"].as_str().unwrap_or_default().parse().map_err(|e| format!("{e:?}"))?;
            let dir = case.dir.join(store["dir"].as_str().ok_or("store.dir")?);
            let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
                .map_err(|e| format!("{}: {e}", dir.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            let mut certs = Vec::new();
            for path in entries {
                match std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| x509::parse_certificates(&b).map_err(|e| e.to_string()))
                {
                    Ok(c) => certs.extend(c),
                    Err(_) => return valid(false),
                }
            }
            let mut stores = TrustStores::new();
            let name = StoreRef::new(kind, store["name"].as_str().unwrap_or("store")).map_err(|e| e.to_string())?;
            valid(stores.add(name, certs).is_ok())
        }
        Some("tsa-root-certificate-file") => valid(x509::check_tsa_root_file(&case.read(files[0])?).is_ok()),
        Some("signing-key-pair") => {
            let key = case.read(files[0])?;
            let certs = certificates_in(case, &files[1..2])?;
            let cert = certs.first().ok_or("no certificate")?;
            valid(x509::check_signing_key_pair(&key, cert, case.now_or_current()?).is_ok())
        }
        Some("certificate-validity") => {
            let certs = certificates_in(case, &files[..1])?;
            let now = case.now_or_current()?;
            valid(certs.iter().all(|c| c.is_valid_at(now)))
        }
        other => Err(format!("unknown certificate check {other:?}")),
    }
}

fn run_timestamp_token(case: &Case) -> Outcome {
    let token = case.read(case.files()[0])?;
    let message = hex_decode(case.str("message_hex").ok_or("message_hex")?)?;
    let hash = match case.str("hash") {
        Some("SHA-256") => Some(HashAlgorithm::Sha256),
        Some("SHA-384") => Some(HashAlgorithm::Sha384),
        Some("SHA-512") => Some(HashAlgorithm::Sha512),
        None => None,
        Some(other) => return Err(format!("hash {other}")),
    };
    let stores = case.stores()?;
    let names: Vec<String> = case
        .json
        .pointer("/trust/stores")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let roots: Vec<Certificate> =
        stores.certificates_of(TrustStoreKind::Tsa, store_names(&names)).into_iter().cloned().collect();
    valid(nv2_core::timestamp::verify(&token, &message, hash, &roots).is_ok())
}

fn run_revocation(case: &Case) -> Outcome {
    let chain = certificates_in(case, &[case.str("chain").ok_or("chain")?])?;
    let roots = case.stores()?;
    let names: Vec<String> = case
        .json
        .pointer("/trust/stores")
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    let trusted = roots.certificates_of(TrustStoreKind::Ca, store_names(&names));
    let now = case.now_or_current()?;
    if x509::validate_chain(&chain, ChainPurpose::CodeSigning, Some(now)).is_err()
        || !chain.iter().any(|c| trusted.iter().any(|t| t.der() == c.der()))
    {
        return valid(false);
    }
    let crls = mapped_crls(case)?;
    let fetch = |url: &str| crls.crl(url);
    let report = x509::check_chain_revocation(&chain, &fetch, now);
    valid(matches!(report.status, x509::RevocationStatus::Good))
}

/// Encoding vectors: decode the vector's protected header with nv2, re-encode it with nv2's encoder, and require
/// the very same bytes (JWS: the base64url `protected` member; COSE: `protectedHeaders.cborHex`).
fn run_encoding_vector(case: &Case) -> Outcome {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use nv2_core::envelope::{decode_protected_header, encode_signed_attributes};
    let vector: Value = serde_json::from_slice(&case.read(case.files()[0])?).map_err(|e| e.to_string())?;
    let format = format_of(case)?;
    let expected = match format {
        EnvelopeFormat::Jws => {
            let text = vector["protected"].as_str().ok_or("vector without protected")?;
            Base64UrlUnpadded::decode_vec(text).map_err(|e| format!("protected: {e}"))?
        }
        EnvelopeFormat::Cose => {
            hex_decode(vector.pointer("/protectedHeaders/cborHex").and_then(Value::as_str).ok_or("no cborHex")?)?
        }
    };
    let (algorithm, attributes) = decode_protected_header(format, &expected).map_err(|e| e.to_string())?;
    let encoded = encode_signed_attributes(format, algorithm, &attributes).map_err(|e| e.to_string())?;
    match encoded == expected {
        true => Ok(String::from("encoding-match")),
        false => Ok(format!("encoding differs: {}", String::from_utf8_lossy(&encoded))),
    }
}

/// Store names from `type:name` keys.
fn store_names(keys: &[String]) -> Vec<&str> {
    keys.iter().filter_map(|k| k.split_once(':').map(|(_, n)| n)).collect()
}

fn hex_decode(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err(String::from("odd hex length"));
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).map_err(|e| e.to_string())).collect()
}

fn run(case: &Case) -> Outcome {
    match case.str("kind") {
        Some("envelope") => run_envelope(case),
        Some("oci-layout") => run_oci_layout(case),
        Some("trust-policy") => run_trust_policy(case),
        Some("certificate") => run_certificate(case),
        Some("timestamp-token") => run_timestamp_token(case),
        Some("revocation") => run_revocation(case),
        Some("encoding-vector") => run_encoding_vector(case),
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// Whether `got` satisfies the case's `expect` (`unsure` accepts either verdict, as the corpus README says).
fn agrees(expect: &str, got: &str) -> bool {
    match expect {
        "unsure" => matches!(got, "valid" | "invalid"),
        _ => expect == got,
    }
}

#[test]
fn corpus() {
    let dir = fixtures::corpus_dir()
        .expect("no corpus: set NV2_CORPUS_DIR or place shared/fixtures/notation beside the checkout");
    let cases: Value = serde_json::from_slice(&std::fs::read(dir.join("cases.json")).expect("cases.json readable"))
        .expect("cases.json is JSON");
    let list = cases["cases"].as_array().expect("cases.json has a cases array");
    let mut failures = Vec::new();
    for json in list {
        let case = Case { dir: &dir, json };
        let expect = case.str("expect").unwrap_or("?");
        // Envelope parsing must never panic, whatever the case: catch_unwind turns a panic into a failure.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&case)))
            .unwrap_or_else(|_| Err(String::from("PANIC")));
        match result {
            Ok(got) if agrees(expect, &got) => {}
            Ok(got) => failures.push(format!("{}: expected {expect}, got {got}", case.id())),
            Err(e) => failures.push(format!("{}: expected {expect}, could not run: {e}", case.id())),
        }
    }
    let passed = list.len() - failures.len();
    println!("corpus: {passed} passed, {} failed", failures.len());
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} of {} corpus cases disagree (dir {})", failures.len(), list.len(), dir.display());
}
