//! Runs every case of a Notary Project test-vector corpus (`cases.json` format, see the fixtures README) through
//! nv2-core and requires 100% agreement.
//!
//! The corpus directory is `$NV2_CORPUS_DIR`, or the shared fixtures (`shared/fixtures/notation` found by walking up
//! from this crate), so another corpus in the same format can be dropped in unchanged. The test prints one line
//! `corpus: N passed, M failed` and then fails listing every disagreement.

use nv2_core::crypto::HashAlgorithm;
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::trust::{BlobTrustPolicyDocument, TrustPolicyDocument, TrustStores};
use nv2_core::verify::CrlSource;
use nv2_core::x509::{self, Certificate, ChainPurpose, TrustStoreKind};
use serde_json::Value;

#[path = "support/mod.rs"]
mod support;
use support::corpus_cases::{self, Case, Corpus};

/// What a case produced: its verdict in the vocabulary of `expect`, or an explanation of why it could not run.
type Outcome = Result<String, String>;

fn valid(ok: bool) -> Outcome {
    Ok(String::from(if ok { "valid" } else { "invalid" }))
}

/// Envelope case: with `trust`, the pipeline on the lone envelope (see [`corpus_cases::envelope_run`]); without,
/// the case is about reading the envelope (upstream `notation blob inspect`).
fn run_envelope(case: &Case) -> Outcome {
    if case.json["trust"].is_null() {
        return valid(nv2_core::envelope::ParsedEnvelope::parse(case.format()?, &case.first_file()?).is_ok());
    }
    let run = corpus_cases::envelope_run(case)?;
    let verdict = run.verify(&corpus_cases::plugins(case))?;
    if std::env::var_os("NV2_CORPUS_VERBOSE").is_some() {
        eprintln!("  {}: {}", run.label, verdict.reason());
    }
    valid(verdict.is_accepted())
}

/// OCI-layout and artifact-bearing trust-policy cases ([`corpus_cases::layout_runs`]): every reference must verify;
/// a reference no statement applies to is a rejection. `document` already parsed, so a statement error here is a
/// selection error.
fn run_layout(case: &Case, policy: &[u8]) -> Outcome {
    let mut all = true;
    for run in corpus_cases::layout_runs(case, policy)? {
        if run.statement().is_err() {
            return valid(false);
        }
        let verdict = run.verify(&corpus_cases::plugins(case))?;
        if std::env::var_os("NV2_CORPUS_VERBOSE").is_some() {
            eprintln!("  {}: {}", run.label, verdict.reason());
        }
        all &= verdict.is_accepted();
    }
    valid(all)
}

fn run_oci_layout(case: &Case) -> Outcome {
    let policy = case.json.pointer("/trust/policy_file").and_then(Value::as_str).ok_or("trust.policy_file")?;
    let bytes = case.read(policy)?;
    TrustPolicyDocument::parse(&bytes).map_err(|e| format!("{policy}: {e}"))?;
    run_layout(case, &bytes)
}

fn run_trust_policy(case: &Case) -> Outcome {
    let bytes = case.first_file()?;
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
        (Some(_), Some(_)) => run_layout(case, &bytes),
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
            let dir = case.store_dir()?;
            let mut certs = Vec::new();
            for file in &dir.files {
                match x509::parse_certificates(file) {
                    Ok(c) => certs.extend(c),
                    Err(_) => return valid(false),
                }
            }
            valid(TrustStores::new().add(dir.store, certs).is_ok())
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
    let token = case.first_file()?;
    let message = hex_decode(case.str("message_hex").ok_or("message_hex")?)?;
    let hash = match case.str("hash") {
        Some("SHA-256") => Some(HashAlgorithm::Sha256),
        Some("SHA-384") => Some(HashAlgorithm::Sha384),
        Some("SHA-512") => Some(HashAlgorithm::Sha512),
        None => None,
        Some(other) => return Err(format!("hash {other}")),
    };
    let stores = case.stores()?;
    let names = case.store_keys();
    let roots: Vec<Certificate> =
        stores.certificates_of(TrustStoreKind::Tsa, store_names(&names)).into_iter().cloned().collect();
    valid(nv2_core::timestamp::verify(&token, &message, hash, &roots).is_ok())
}

fn run_revocation(case: &Case) -> Outcome {
    let chain = certificates_in(case, &[case.str("chain").ok_or("chain")?])?;
    let roots = case.stores()?;
    let names = case.store_keys();
    let trusted = roots.certificates_of(TrustStoreKind::Ca, store_names(&names));
    let now = case.now_or_current()?;
    if x509::validate_chain(&chain, ChainPurpose::CodeSigning, Some(now)).is_err()
        || !chain.iter().any(|c| trusted.iter().any(|t| t.der() == c.der()))
    {
        return valid(false);
    }
    let crls = corpus_cases::mapped_crls(case)?;
    let fetch = |url: &str| crls.crl(url);
    let report = x509::check_chain_revocation(&chain, &fetch, now);
    valid(matches!(report.status, x509::RevocationStatus::Good))
}

/// Encoding vectors: decode the vector's protected header with nv2, re-encode it with nv2's encoder, and require
/// the very same bytes (JWS: the base64url `protected` member; COSE: `protectedHeaders.cborHex`).
fn run_encoding_vector(case: &Case) -> Outcome {
    use base64ct::{Base64UrlUnpadded, Encoding};
    use nv2_core::envelope::{decode_protected_header, encode_signed_attributes};
    let vector: Value = serde_json::from_slice(&case.first_file()?).map_err(|e| e.to_string())?;
    let format = case.format()?;
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
    let corpus = Corpus::load().expect("the corpus loads");
    let mut failures = Vec::new();
    for case in corpus.cases() {
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
    let total = corpus.cases.len();
    println!("corpus: {} passed, {} failed", total - failures.len(), failures.len());
    for f in &failures {
        println!("  {f}");
    }
    assert!(failures.is_empty(), "{} of {total} corpus cases disagree (dir {})", failures.len(), corpus.dir.display());
}
