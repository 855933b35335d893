//! Every `trust-policy` case of the Notary Project fixture corpus (`shared/fixtures/notation/cases.json`): documents
//! expected invalid are refused, the others load, and statement selection picks the statement whose behaviour the
//! case expects (full verification is the pipeline's job).

use super::*;
use crate::x509::{parse_certificates, TrustStoreKind};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

use crate::fixtures::corpus_dir;

fn read(path: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

fn trust_policy_cases() -> Vec<Value> {
    let cases: Value = serde_json::from_slice(&read("cases.json")).unwrap();
    cases["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "trust-policy").cloned().collect()
}

enum Loaded {
    Oci(TrustPolicyDocument),
    Blob(BlobTrustPolicyDocument),
}

fn load(case: &Value) -> Result<Loaded, PolicyError> {
    let bytes = read(case["files"][0].as_str().unwrap());
    if case["document_type"] == "blob" {
        BlobTrustPolicyDocument::parse(&bytes).map(Loaded::Blob)
    } else {
        TrustPolicyDocument::parse(&bytes).map(Loaded::Oci)
    }
}

/// Maps a case's `failure` / `logged` step name to a check.
fn check_named(step: &str) -> Check {
    let name = step.split_whitespace().next().unwrap();
    Check::from_name(name).unwrap_or_else(|| panic!("unknown step {step}"))
}

/// Subject attributes of a certificate file's first certificate, as the x509 module renders them for matching.
fn subject_pairs(path: &str) -> Vec<(String, String)> {
    let certs = parse_certificates(&read(path)).unwrap();
    certs[0].subject_attributes().unwrap()
}

/// The trust stores a case names, loaded through the store rules.
fn case_stores(case: &Value) -> TrustStores {
    let mut stores = TrustStores::new();
    for (store, files) in case["trust"]["stores"].as_object().unwrap() {
        let contents: Vec<Vec<u8>> = files.as_array().unwrap().iter().map(|f| read(f.as_str().unwrap())).collect();
        stores.load_store(StoreRef::parse(store).unwrap(), contents).unwrap();
    }
    stores
}

#[test]
fn every_trust_policy_case_loads_or_is_refused_as_expected() {
    let cases = trust_policy_cases();
    assert_eq!(cases.len(), 38, "the corpus lists 38 trust-policy cases");
    let mut counts = [0usize; 4];
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let loaded = load(case);
        match case["expect"].as_str().unwrap() {
            "policy-invalid" => {
                let error = loaded.err().unwrap_or_else(|| panic!("{id}: document must be refused"));
                assert!(!error.to_string().is_empty());
                counts[0] += 1;
            }
            "policy-valid" => {
                // Every valid fixture document has a global statement; selection must fall back to it.
                match loaded.unwrap_or_else(|e| panic!("{id}: document must load: {e}")) {
                    Loaded::Oci(document) => {
                        let statement = document.statement_for("registry.example/any/repo").unwrap();
                        assert!(statement.is_global(), "{id}");
                    }
                    Loaded::Blob(document) => {
                        assert!(document.statement_for_blob(None).unwrap().global_policy, "{id}");
                    }
                }
                counts[1] += 1;
            }
            "valid" | "invalid" | "unsure" => {
                let Loaded::Oci(document) = loaded.unwrap_or_else(|e| panic!("{id}: document must load: {e}")) else {
                    panic!("{id}: artifact cases use OCI policies");
                };
                check_selection(id, case, &document);
                counts[2] += 1;
            }
            other => panic!("{id}: unexpected expect {other}"),
        }
        counts[3] += 1;
    }
    assert_eq!(counts, [15, 4, 19, 38]);
}

fn check_selection(id: &str, case: &Value, document: &TrustPolicyDocument) {
    let artifact = &case["artifact"];
    let mut references: Vec<&str> = artifact["references"]
        .as_array()
        .map_or_else(Vec::new, |refs| refs.iter().map(|r| r.as_str().unwrap()).collect());
    references.push(artifact["reference"].as_str().unwrap());
    for reference in references {
        let selected = document.statement_for_reference(reference);
        if case["category"] == "no-applicable-policy" {
            assert!(matches!(selected, Err(TrustError::NoApplicablePolicy(_))), "{id}: {selected:?}");
            continue;
        }
        let statement = selected.unwrap_or_else(|e| panic!("{id}: {e}"));
        let rules = &statement.rules;
        if case["reason"].as_str().unwrap().starts_with("skip level") {
            assert!(rules.is_skip(), "{id}");
        }
        for step in case["logged"].as_array().into_iter().flatten() {
            let check = check_named(step.as_str().unwrap());
            assert_eq!(rules.signature_verification.action(check), Action::Log, "{id}: {check:?} must be logged");
        }
        if let Some(step) = case["failure"].as_str() {
            let check = check_named(step);
            assert_eq!(rules.signature_verification.action(check), Action::Enforce, "{id}: {check:?} enforced");
            if step.contains("trustedIdentities") {
                let leaf = subject_pairs(case["trust"]["stores"]["ca:e2e"][0].as_str().unwrap());
                assert!(!rules.trusted_identities.matches(&leaf), "{id}: identity must not match");
            }
        }
        if !rules.is_skip() {
            // The case's stores load under notation's rules, and authenticity (a byte-equal certificate in a named
            // ca store) holds exactly when the case trusts the certificate that signed e2e-valid-signature.
            let stores = case_stores(case);
            let signer = parse_certificates(&read("certs/notation-e2e/localkeys/e2e.crt")).unwrap();
            let chain: Vec<&[u8]> = signer.iter().map(|c| c.der()).collect();
            let trusted_file = case["trust"]["stores"]["ca:e2e"][0].as_str().unwrap();
            let names = rules.store_names(TrustStoreKind::Ca);
            assert_eq!(
                stores.contains_any(TrustStoreKind::Ca, names, &chain),
                trusted_file.ends_with("/e2e.crt"),
                "{id}: authenticity"
            );
        }
        if case["expect"] == "valid" && !rules.is_skip() {
            // Every store the case trusts is named by the selected statement, and the leaf satisfies its identities.
            for store in case["trust"]["stores"].as_object().unwrap().keys() {
                let store = StoreRef::parse(store).unwrap();
                assert!(rules.trust_stores.contains(&store), "{id}: {store} not in statement");
            }
            if !case["logged"].as_array().is_some_and(|l| l.iter().any(|s| s == "authenticity")) {
                let files = case["trust"]["stores"]["ca:e2e"].as_array().unwrap();
                let leaf = subject_pairs(files[0].as_str().unwrap());
                assert!(rules.trusted_identities.matches(&leaf), "{id}: identity must match");
            }
        }
    }
}

/// Recognises the error variant a case's rule must produce.
type RuleCheck = fn(&PolicyError) -> bool;

#[test]
fn policy_invalid_cases_fail_for_the_rule_the_case_names() {
    let expected: &[(&str, RuleCheck)] = &[
        ("tp-override-integrity", |e| {
            matches!(e, PolicyError::SignatureVerification { source: LevelError::IntegrityOverridden, .. })
        }),
        ("tp-empty-registry-scope", |e| matches!(e, PolicyError::NoRegistryScopes(_))),
        ("tp-overlapped-registry-scope", |e| matches!(e, PolicyError::DuplicateScope(_))),
        ("tp-unset-trust-store", |e| matches!(e, PolicyError::MissingTrust(_))),
        ("tp-malformed-trust-store", |e| {
            matches!(e, PolicyError::TrustStore { source: StoreRefError::InvalidName { .. }, .. })
        }),
        ("tp-wildcard-trust-store", |e| {
            matches!(e, PolicyError::TrustStore { source: StoreRefError::MissingSeparator(_), .. })
        }),
        ("tp-malformed-trusted-identity", |e| {
            matches!(e, PolicyError::TrustedIdentities { source: IdentityError::MissingSeparator(_), .. })
        }),
        ("tp-empty-trusted-identity", |e| {
            matches!(e, PolicyError::TrustedIdentities { source: IdentityError::Empty, .. })
        }),
        ("tp-overlapped-trusted-identity", |e| {
            matches!(e, PolicyError::TrustedIdentities { source: IdentityError::Overlapping { .. }, .. })
        }),
        ("tp-wildcard-plus-other-identity", |e| {
            matches!(e, PolicyError::TrustedIdentities { source: IdentityError::WildcardMixed, .. })
        }),
        ("tp-identity-missing-state", |e| {
            matches!(
                e,
                PolicyError::TrustedIdentities {
                    source: IdentityError::InvalidDn { source: DnError::MissingMandatory("ST"), .. },
                    ..
                }
            )
        }),
        ("tp-identity-missing-country", |e| {
            matches!(
                e,
                PolicyError::TrustedIdentities {
                    source: IdentityError::InvalidDn { source: DnError::MissingMandatory("C"), .. },
                    ..
                }
            )
        }),
        ("tp-multi-statement-same-scope", |e| matches!(e, PolicyError::DuplicateScope(_))),
        ("tp-multi-statement-same-name", |e| matches!(e, PolicyError::DuplicateName(n) if n == "e2e")),
        ("tp-invalid-json", |e| matches!(e, PolicyError::Json(_))),
    ];
    let cases = trust_policy_cases();
    let invalid: Vec<&Value> = cases.iter().filter(|c| c["expect"] == "policy-invalid").collect();
    assert_eq!(invalid.len(), expected.len());
    for (id, rule) in expected {
        let case = invalid.iter().find(|c| c["id"] == *id).unwrap_or_else(|| panic!("case {id} missing"));
        let error = load(case).err().unwrap();
        assert!(rule(&error), "{id}: wrong rule: {error:?}");
    }
}

#[test]
fn blob_documents_select_by_name_then_global() {
    let document = BlobTrustPolicyDocument::parse(&read("trustpolicies/blob_trust_policy.json")).unwrap();
    assert_eq!(document.statement_for_blob(None).unwrap().rules.name, "global-verification-policy");
    let skip = document.statement_for_blob(Some("skip-verification-policy")).unwrap();
    assert!(skip.rules.is_skip());
    let strict = document.statement_for_blob(Some("wabbit-networks-policy")).unwrap();
    assert_eq!(strict.rules.signature_verification.level, VerificationLevel::Strict);
    assert_eq!(document.statement_for_blob(Some("nope")), Err(TrustError::NoPolicyNamed("nope".into())));
    assert_eq!(document.statement_for_blob(Some("  ")), Err(TrustError::EmptyPolicyName));
    let e2e = BlobTrustPolicyDocument::parse(&read("trustpolicies/blob/trustpolicy.blob.json")).unwrap();
    let timestamped = e2e.statement_for_blob(Some("test-blob-with-timestamping")).unwrap();
    assert!(timestamped.rules.has_store_kind(TrustStoreKind::Tsa));
    assert_eq!(timestamped.rules.store_names(TrustStoreKind::Ca), ["e2e"]);
    assert_eq!(e2e.statement_for_blob(None).unwrap().rules.name, "test-blob-global-statement");
}

#[test]
fn stores_apply_notations_rules_and_match_byte_equal_certificates() {
    let e2e = read("certs/notation-e2e/localkeys/e2e.crt");
    let new_e2e = read("certs/notation-e2e/localkeys/new_e2e.crt");
    let mut stores = TrustStores::new();
    // A self-signed leaf may sit in a ca store; the same certificate twice is kept once.
    stores.load_store(StoreRef::parse("ca:e2e").unwrap(), [&e2e, &e2e]).unwrap();
    stores.load_store(StoreRef::parse("ca:e2e-new").unwrap(), [&new_e2e]).unwrap();
    assert_eq!(stores.certificates(&StoreRef::parse("ca:e2e").unwrap()).unwrap().len(), 1);
    // A tsa store only takes self-signed root CA certificates; a self-signed leaf is refused.
    let refused = stores.load_store(StoreRef::parse("tsa:e2e").unwrap(), [&e2e]);
    assert!(matches!(refused, Err(StoreError::Certificate { .. })), "{refused:?}");
    stores
        .load_store(StoreRef::parse("tsa:roots").unwrap(), [read("certs/notation-e2e/timestamp/globalsignTSARoot.cer")])
        .unwrap();

    let signer = parse_certificates(&e2e).unwrap();
    let chain: Vec<&[u8]> = signer.iter().map(|c| c.der()).collect();
    assert!(stores.contains_any(TrustStoreKind::Ca, ["e2e"], &chain));
    assert!(stores.contains_any(TrustStoreKind::Ca, ["e2e-new", "e2e"], &chain));
    assert!(!stores.contains_any(TrustStoreKind::Ca, ["e2e-new"], &chain));
    assert!(!stores.contains_any(TrustStoreKind::SigningAuthority, ["e2e"], &chain));
    assert!(!stores.contains_any(TrustStoreKind::Tsa, ["roots", "e2e"], &chain));
    assert!(!stores.contains_any(TrustStoreKind::Ca, ["unknown"], &chain));
    assert_eq!(stores.certificates_of(TrustStoreKind::Ca, ["e2e", "e2e-new", "e2e"]).len(), 2);
    // A re-encoded (tampered) copy is not byte-equal.
    let mut tampered = chain[0].to_vec();
    if let Some(last) = tampered.last_mut() {
        *last ^= 1;
    }
    assert!(!stores.contains_any(TrustStoreKind::Ca, ["e2e"], [tampered]));
}

#[test]
fn leaf_subjects_from_the_x509_module_match_fixture_identities() {
    let e2e = subject_pairs("certs/notation-e2e/localkeys/e2e.crt");
    let valid = TrustPolicyDocument::parse(&read("trustpolicies/valid_trusted_identity_trustpolicy.json")).unwrap();
    let invalid = TrustPolicyDocument::parse(&read("trustpolicies/invalid_trusted_identity_trustpolicy.json")).unwrap();
    let pick =
        |d: &TrustPolicyDocument| d.statement_for("localhost:5000/e2e").unwrap().rules.trusted_identities.clone();
    assert!(pick(&valid).matches(&e2e));
    assert_eq!(pick(&invalid).check(&e2e), Err(IdentityMismatch::NoMatch));
    // expired_e2e.crt has O, ST and C only: it satisfies an identity naming just those.
    let expired = subject_pairs("certs/notation-e2e/localkeys/expired_e2e.crt");
    let ids = TrustedIdentities::parse(&["x509.subject: C=AU, S=Some-State, O=Internet Widgits Pty Ltd"]).unwrap();
    assert!(ids.matches(&expired));
    assert!(!ids.matches(&e2e));
}
