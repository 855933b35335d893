//! Runs every `certificate` and `revocation` case of the Notary Project fixture corpus
//! (`shared/fixtures/notation/cases.json`) through this module and compares with the expected verdict.

extern crate std;

use super::*;
use crate::time::Timestamp;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;
use std::path::PathBuf;

/// The corpus directory: `$NV2_CORPUS_DIR`, else the first `shared/fixtures/notation` above the crate.
pub(super) fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("NV2_CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/fixtures/notation");
        if candidate.join("cases.json").is_file() {
            return candidate;
        }
        assert!(dir.pop(), "fixture corpus not found; set NV2_CORPUS_DIR");
    }
}

pub(super) fn read(rel: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn cases(kind: &str) -> Vec<Value> {
    let all: Value = serde_json::from_slice(&read("cases.json")).unwrap();
    all["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == kind).cloned().collect()
}

fn verify_at(case: &Value) -> Option<Timestamp> {
    case["verify_at"].as_str().map(|t| Timestamp::parse_rfc3339(t).unwrap())
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

/// Runs one certificate case; `Ok` means "valid".
fn run_certificate_case(case: &Value) -> Result<(), String> {
    let files = strings(&case["files"]);
    let at = verify_at(case);
    let e = |e: X509Error| alloc::format!("{e}");
    match case["check"].as_str().unwrap() {
        "read-certificate-file" => {
            let certs = parse_certificates(&read(&files[0])).map_err(e)?;
            let want = case["count"].as_u64().unwrap() as usize;
            if certs.len() != want {
                return Err(alloc::format!("{} certificates, expected {want}", certs.len()));
            }
            Ok(())
        }
        check @ ("codesigning-chain" | "timestamping-chain") => {
            let mut chain = Vec::new();
            for f in strings(&case["chain"]) {
                chain.extend(parse_certificates(&read(&f)).map_err(e)?);
            }
            let purpose =
                if check == "codesigning-chain" { ChainPurpose::CodeSigning } else { ChainPurpose::Timestamping };
            validate_chain(&chain, purpose, at).map_err(e)
        }
        "trust-store-load" => {
            let kind: TrustStoreKind = case["store"]["type"].as_str().unwrap().parse().map_err(e)?;
            let dir = corpus_dir().join(case["store"]["dir"].as_str().unwrap());
            let mut paths: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|d| d.unwrap().path()).collect();
            paths.sort();
            let mut loaded = 0;
            for path in paths {
                let certs = parse_certificates(&std::fs::read(&path).unwrap()).map_err(e)?;
                for cert in &certs {
                    check_trust_store_certificate(cert, kind).map_err(e)?;
                }
                loaded += certs.len();
            }
            if loaded == 0 {
                return Err(String::from("empty store"));
            }
            Ok(())
        }
        "tsa-root-certificate-file" => check_tsa_root_file(&read(&files[0])).map(|_| ()).map_err(e),
        "signing-key-pair" => {
            let cert = parse_certificates(&read(&files[1])).map_err(e)?.remove(0);
            check_signing_key_pair(&read(&files[0]), &cert, at.unwrap()).map_err(e)
        }
        "certificate-validity" => {
            let cert = parse_certificates(&read(&files[0])).map_err(e)?.remove(0);
            if cert.is_valid_at(at.unwrap()) {
                Ok(())
            } else {
                Err(String::from("outside validity"))
            }
        }
        other => panic!("unknown check {other}"),
    }
}

#[test]
fn every_certificate_case_gives_the_expected_verdict() {
    let cases = cases("certificate");
    assert_eq!(cases.len(), 29, "corpus changed");
    let mut failures = Vec::new();
    for case in &cases {
        let outcome = run_certificate_case(case);
        let valid = outcome.is_ok();
        let expected = case["expect"] == "valid";
        std::println!("{:45} expect {:7} got {:?}", case["id"].as_str().unwrap(), case["expect"], outcome);
        if valid != expected {
            failures.push(alloc::format!("{}: {outcome:?}", case["id"]));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_revocation_case_gives_the_expected_result() {
    let cases = cases("revocation");
    assert_eq!(cases.len(), 4, "corpus changed");
    for case in &cases {
        let at = verify_at(case).unwrap();
        let chain = parse_certificates(&read(case["chain"].as_str().unwrap())).unwrap();
        assert_eq!(chain.len(), 3);
        // The chain itself is a valid code-signing chain ending at the trusted root.
        validate_chain(&chain, ChainPurpose::CodeSigning, Some(at)).unwrap();
        let root_file = case["trust"]["stores"]["ca:e2e"][0].as_str().unwrap();
        let root = parse_certificates(&read(root_file)).unwrap().remove(0);
        assert_eq!(chain.last(), Some(&root));

        let responses = case["crl_responses"].as_object().unwrap().clone();
        let fetch = move |url: &str| responses.get(url).map(|f| read(f.as_str().unwrap()));
        let report = check_chain_revocation(&chain, &fetch, at);
        std::println!("{:30} {:?}", case["id"].as_str().unwrap(), report.status);
        let got = match &report.status {
            RevocationStatus::Good => "ok",
            RevocationStatus::Revoked { .. } => "revoked",
            RevocationStatus::Unknown { .. } => "unknown",
        };
        assert_eq!(got, case["revocation_result"], "{}: {report:#?}", case["id"]);
        assert_eq!(case["expect"] == "valid", got == "ok");
        assert_eq!(report.certificates.len(), 3);
        assert_eq!(report.certificates[2].status, CertificateStatus::NonRevocable);
    }
}
