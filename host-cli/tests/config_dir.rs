//! The configuration directory against real files: keys generated, imported, listed, deleted and loaded; trust
//! stores and policies that notation wrote (the fixture corpus) loaded unchanged; an end-to-end proof that what
//! `generate_test_certificate` and `init_oci_policy` write signs and verifies with the core; and, when notation is
//! installed, notation reading what nv2 wrote and nv2 reading what notation wrote.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use nv2_cli::config::trust_store::STORE_KINDS;
use nv2_cli::config::{
    CertificateAuthority, ConfigDir, ConfigError, GenerateKeyOptions, KeySource, OciPolicyInit, TestCertificateOptions,
};
use nv2_core::crypto::{KeyKind, SigningKey};
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::oci::{media_types, Descriptor, Digest};
use nv2_core::sign::{sign_artifact, SignOptions};
use nv2_core::time::Timestamp;
use nv2_core::trust::{StoreRef, VerificationLevel};
use nv2_core::verify::{verify, SignatureInput, Target, VerifyOptions};
use nv2_core::x509::issue::{issue, issue_self_signed, CertificateSpec, Issuer};
use nv2_core::x509::{check_signing_key_pair, parse_certificates, validate_chain, Certificate, ChainPurpose};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------------------------
// helpers

fn now() -> Timestamp {
    Timestamp::from_unix(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64)
}

fn temp_config() -> (tempfile::TempDir, ConfigDir) {
    let temp = tempfile::tempdir().unwrap();
    let config = ConfigDir::new(temp.path().join("config"));
    (temp, config)
}

fn key(kind: KeyKind, fill: u8) -> SigningKey {
    SigningKey::from_seed(kind, &vec![fill; kind.seed_len()]).unwrap()
}

fn pem(certificates: &[Certificate]) -> String {
    certificates
        .iter()
        .map(|c| der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, c.der()).unwrap())
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn local_paths(source: &KeySource) -> (PathBuf, PathBuf) {
    match source {
        KeySource::Local { key_path, cert_path } => (key_path.clone(), cert_path.clone()),
        other => panic!("expected a local key, got {other:?}"),
    }
}

/// The notation fixture corpus: `$NV2_CORPUS_DIR`, else the first `shared/fixtures/notation` above the crate.
fn corpus() -> PathBuf {
    if let Ok(dir) = std::env::var("NV2_CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/fixtures/notation");
        if candidate.join("cases.json").is_file() {
            return candidate;
        }
        assert!(dir.pop(), "fixture corpus shared/fixtures/notation not found; set NV2_CORPUS_DIR");
    }
}

fn cases() -> Vec<Value> {
    let text = fs::read(corpus().join("cases.json")).unwrap();
    let cases: Value = serde_json::from_slice(&text).unwrap();
    cases["cases"].as_array().unwrap().clone()
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Signs a dummy manifest descriptor with the config's key and verifies it against the config's OCI policy and
/// trust stores, all read back from disk.
fn sign_and_verify(config: &ConfigDir, key_name: Option<&str>, reference_repo: &str) -> nv2_core::verify::Verdict {
    let (key, chain) = config.load_signing_key(key_name).unwrap();
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
    let target = Descriptor::new(media_types::OCI_IMAGE_MANIFEST, Digest::sha256(manifest), manifest.len() as u64);
    let options = SignOptions {
        format: EnvelopeFormat::Jws,
        signing_time: now(),
        expiry: None,
        user_metadata: Default::default(),
        signing_agent: "nv2-test".into(),
    };
    let signed = sign_artifact(&target, &key, &chain, &options).unwrap();
    let policy = config.oci_policy().unwrap();
    let reference = format!("{reference_repo}@{}", target.digest);
    let statement = policy.document.statement_for_reference(&reference).unwrap();
    let stores = config.load_trust_stores(Some(&statement.rules.trust_stores)).unwrap();
    let target = Target::Manifest {
        media_type: target.media_type.clone(),
        digest: target.digest.to_string(),
        size: target.size,
    };
    let input = SignatureInput { manifest: Some(&signed.manifest), envelope: &signed.envelope, format: None };
    verify(&target, &[input], &statement.rules, &stores, &VerifyOptions::at(now()))
}

fn strict_policy(store: &str, common_name: &str) -> OciPolicyInit {
    OciPolicyInit {
        name: "nv2-test".into(),
        registry_scopes: vec!["*".into()],
        trust_stores: vec![StoreRef::parse(&format!("ca:{store}")).unwrap()],
        trusted_identities: vec![format!("x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN={common_name}")],
        level: VerificationLevel::Strict,
    }
}

/// A root CA key and certificate plus a code-signing leaf key/certificate it issued; `leaf_spec` may be altered.
fn issued_chain(leaf_spec: impl FnOnce(&mut CertificateSpec)) -> (SigningKey, Vec<Certificate>, SigningKey) {
    let root_key = key(KeyKind::P256, 3);
    let root_subject = "CN=Import Root,O=Example,ST=WA,C=US";
    let root_spec = CertificateSpec::ca(root_subject, now().saturating_add(-60), now().saturating_add(86_400), None);
    let root = issue_self_signed(&root_spec, &root_key, &[9]).unwrap();
    let leaf_key = key(KeyKind::P256, 4);
    let mut spec = CertificateSpec::code_signing_leaf(
        "CN=imported,O=Example,ST=WA,C=US",
        now().saturating_add(-60),
        now().saturating_add(3600),
    );
    leaf_spec(&mut spec);
    let issuer = Issuer { name: root_subject, key: &root_key };
    let leaf = issue(&spec, &leaf_key.public_key_spki_der().unwrap(), issuer, &[10]).unwrap();
    (root_key, vec![leaf, root], leaf_key)
}

// ---------------------------------------------------------------------------------------------------------------
// keys

#[test]
fn generated_keys_are_listed_defaulted_loaded_and_deleted() {
    let (_temp, config) = temp_config();
    let a = config
        .generate_key("a", KeyKind::P256, &GenerateKeyOptions { make_default: true, ..Default::default() })
        .unwrap();
    assert!(a.is_default);
    config.generate_key("b", KeyKind::P384, &GenerateKeyOptions { validity_days: 30, ..Default::default() }).unwrap();
    let subject = "CN=Custom,OU=Build,O=Example,ST=Oregon,C=US".to_string();
    let c = config
        .generate_key("c", KeyKind::Ed25519, &GenerateKeyOptions { subject: Some(subject), ..Default::default() })
        .unwrap();

    let keys = config.signing_keys().unwrap();
    assert_eq!(keys.keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(keys.default.as_deref(), Some("a"));
    let (key_path, cert_path) = local_paths(&a.entry.source);
    assert_eq!(key_path, config.local_keys_dir().join("a.key"));
    assert!(key_path.is_absolute() && cert_path.is_absolute());
    assert!(fs::read_to_string(&key_path).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        assert_eq!(mode(&key_path), 0o600);
        assert_eq!(mode(&config.local_keys_dir()), 0o700);
        assert_eq!(mode(&config.signing_keys_path()), 0o600);
    }

    let leaf = &a.chain[0];
    assert_eq!(leaf.subject_string(), "CN=a,O=Notary,L=Seattle,ST=WA,C=US");
    assert_eq!(leaf.not_after().unix() - leaf.not_before().unix(), 365 * 86_400);
    validate_chain(&a.chain, ChainPurpose::CodeSigning, Some(now())).unwrap();
    assert_eq!(c.chain[0].subject_string(), "CN=Custom,OU=Build,O=Example,ST=Oregon,C=US");

    let (loaded, chain) = config.load_signing_key(None).unwrap();
    assert_eq!(loaded.kind(), KeyKind::P256);
    assert_eq!(chain, a.chain);
    config.set_default_key("b").unwrap();
    let (loaded, chain) = config.load_signing_key(None).unwrap();
    assert_eq!(loaded.kind(), KeyKind::P384);
    assert_eq!(chain[0].not_after().unix() - chain[0].not_before().unix(), 30 * 86_400);
    assert_eq!(config.load_signing_key(Some("c")).unwrap().0.kind(), KeyKind::Ed25519);
    assert!(matches!(config.set_default_key("zzz"), Err(ConfigError::KeyNotFound { .. })));

    let err = config.generate_key("a", KeyKind::P256, &GenerateKeyOptions::default()).unwrap_err();
    assert!(matches!(err, ConfigError::KeyExists { .. }), "{err}");
    for bad in ["../x", "", "a b", ".."] {
        let err = config.generate_key(bad, KeyKind::P256, &GenerateKeyOptions::default()).unwrap_err();
        assert!(matches!(err, ConfigError::InvalidKeyName(_)), "{bad:?}: {err}");
    }
    let zero = GenerateKeyOptions { validity_days: 0, ..Default::default() };
    assert!(matches!(config.generate_key("z", KeyKind::P256, &zero), Err(ConfigError::InvalidValidity(0))));

    let err = config.delete_keys(&["c", "missing"], false).unwrap_err();
    assert!(matches!(err, ConfigError::KeyNotFound { .. }));
    assert_eq!(config.signing_keys().unwrap().keys.len(), 3, "a failed delete changes nothing");
    let deleted = config.delete_keys(&["b"], false).unwrap();
    assert!(deleted.default_cleared && deleted.removed_files.is_empty());
    assert!(config.local_keys_dir().join("b.key").exists(), "files stay unless asked");
    assert!(matches!(config.load_signing_key(None), Err(ConfigError::NoDefaultKey { .. })));
    let deleted = config.delete_keys(&["c"], true).unwrap();
    assert_eq!(deleted.removed_files.len(), 2);
    assert!(!config.local_keys_dir().join("c.key").exists() && !config.local_keys_dir().join("c.crt").exists());
    let keys = config.signing_keys().unwrap();
    assert_eq!(keys.keys.len(), 1);
    assert_eq!(keys.default, None);
}

#[test]
fn a_key_issued_by_a_user_ca_verifies_against_that_ca() {
    let (temp, config) = temp_config();
    // A CA whose subject uses UTF8String everywhere and a pathLen: the issued leaf must name it byte for byte.
    let ca_key = key(KeyKind::P384, 5);
    let ca_spec =
        CertificateSpec::ca("CN=Team CA,O=Example\\, Inc.,ST=WA,C=US", now(), now().saturating_add(86_400), Some(1));
    let ca = issue_self_signed(&ca_spec, &ca_key, &[5]).unwrap();
    let ca_key_path = temp.path().join("ca.key");
    let ca_cert_path = temp.path().join("ca.pem");
    let sec1 = p384::SecretKey::from_slice(&[5u8; 48]).unwrap().to_sec1_pem(der::pem::LineEnding::LF).unwrap();
    fs::write(&ca_key_path, sec1.as_bytes()).unwrap();
    fs::write(&ca_cert_path, pem(std::slice::from_ref(&ca))).unwrap();
    let authority = CertificateAuthority::from_files(&ca_key_path, &ca_cert_path).unwrap();
    let options = GenerateKeyOptions { issuer: Some(authority), make_default: true, ..Default::default() };
    let stored = config.generate_key("team", KeyKind::P256, &options).unwrap();
    assert_eq!(stored.chain.len(), 2);
    assert_eq!(stored.chain[1], ca);
    assert_eq!(stored.chain[0].inner().tbs_certificate.issuer, ca.inner().tbs_certificate.subject);

    config.add_certificates(&StoreRef::parse("ca:team").unwrap(), &[&ca_cert_path]).unwrap();
    config.init_oci_policy(&strict_policy("team", "team"), false).unwrap();
    let verdict = sign_and_verify(&config, None, "registry.example/app");
    assert!(verdict.is_accepted(), "{}", verdict.reason());

    let leaf_path = temp.path().join("leaf.pem");
    fs::write(&leaf_path, pem(&stored.chain[..1])).unwrap();
    let err = CertificateAuthority::from_files(&ca_key_path, &leaf_path).unwrap_err();
    assert!(matches!(err, ConfigError::CertificateAuthority { .. }) && err.to_string().contains("not a CA"), "{err}");
    let other_key = temp.path().join("other.key");
    fs::write(&other_key, key(KeyKind::P384, 6).to_pkcs8_pem().unwrap()).unwrap();
    let err = CertificateAuthority::from_files(&other_key, &ca_cert_path).unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn import_copies_a_valid_pair_and_refuses_everything_else() {
    let (temp, config) = temp_config();
    let (_, chain, leaf_key) = issued_chain(|_| {});
    let key_path = temp.path().join("in.key");
    let chain_path = temp.path().join("in.der");
    fs::write(&key_path, leaf_key.to_pkcs8_der().unwrap()).unwrap();
    fs::write(&chain_path, [chain[0].der(), chain[1].der()].concat()).unwrap();
    let stored = config.import_key("imported", &key_path, &chain_path, true).unwrap();
    assert!(stored.is_default);
    let (local_key, local_chain) = local_paths(&stored.entry.source);
    assert!(fs::read_to_string(&local_key).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"), "normalised to PEM");
    assert!(fs::read_to_string(&local_chain).unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
    #[cfg(unix)]
    assert_eq!(mode(&local_key), 0o600);
    let (loaded, loaded_chain) = config.load_signing_key(None).unwrap();
    assert_eq!(loaded.public_key(), leaf_key.public_key());
    assert_eq!(loaded_chain, chain);

    // SEC1 "EC PRIVATE KEY" PEM, the form openssl ecparam writes.
    let sec1 = p256::SecretKey::from_slice(&[4u8; 32]).unwrap().to_sec1_pem(der::pem::LineEnding::LF).unwrap();
    let sec1_path = temp.path().join("sec1.pem");
    fs::write(&sec1_path, sec1.as_bytes()).unwrap();
    let pem_chain = temp.path().join("chain.pem");
    fs::write(&pem_chain, pem(&chain)).unwrap();
    config.import_key("sec1", &sec1_path, &pem_chain, false).unwrap();

    let before = config.signing_keys().unwrap();
    let refuse = |name: &str, key: &Path, certs: &Path| {
        let err = config.import_key(name, key, certs, false).unwrap_err();
        assert!(config.signing_keys().unwrap() == before, "{name}: nothing registered");
        assert!(!config.local_keys_dir().join(format!("{name}.key")).exists(), "{name}: no key file left behind");
        err
    };
    let wrong_key = temp.path().join("wrong.key");
    fs::write(&wrong_key, key(KeyKind::P256, 99).to_pkcs8_pem().unwrap()).unwrap();
    let err = refuse("mismatch", &wrong_key, &pem_chain);
    assert!(matches!(err, ConfigError::KeyCertificateMismatch { .. }), "{err}");
    assert!(err.to_string().contains("wrong.key") && err.to_string().contains("chain.pem"), "{err}");

    let (_, ca_leaf_chain, ca_leaf_key) = issued_chain(|spec| {
        spec.basic_constraints =
            Some(nv2_core::x509::issue::BasicConstraintsSpec { critical: true, ca: true, path_len: None });
    });
    let ca_leaf_key_path = temp.path().join("ca-leaf.key");
    let ca_leaf_chain_path = temp.path().join("ca-leaf.pem");
    fs::write(&ca_leaf_key_path, ca_leaf_key.to_pkcs8_pem().unwrap()).unwrap();
    fs::write(&ca_leaf_chain_path, pem(&ca_leaf_chain)).unwrap();
    let err = refuse("caleaf", &ca_leaf_key_path, &ca_leaf_chain_path);
    assert!(matches!(err, ConfigError::SigningChain { .. }) && err.to_string().contains("must not be a CA"), "{err}");

    let leaf_only = temp.path().join("leaf-only.pem");
    fs::write(&leaf_only, pem(&chain[..1])).unwrap();
    let err = refuse("noroot", &key_path, &leaf_only);
    assert!(matches!(err, ConfigError::SigningChain { .. }) && err.to_string().contains("leaf-only.pem"), "{err}");

    let (_, expired_chain, expired_key) = issued_chain(|spec| {
        spec.not_before = now().saturating_add(-7200);
        spec.not_after = now().saturating_add(-3600);
    });
    let expired_key_path = temp.path().join("expired.key");
    let expired_chain_path = temp.path().join("expired.pem");
    fs::write(&expired_key_path, expired_key.to_pkcs8_pem().unwrap()).unwrap();
    fs::write(&expired_chain_path, pem(&expired_chain)).unwrap();
    let err = refuse("expired", &expired_key_path, &expired_chain_path);
    assert!(matches!(err, ConfigError::SigningChain { .. }) && err.to_string().contains("expired"), "{err}");

    let localkeys = corpus().join("certs/notation-e2e/localkeys");
    let err = refuse("rsa", &localkeys.join("e2e.key"), &localkeys.join("e2e.crt"));
    assert!(matches!(err, ConfigError::UnsupportedKey { .. }) && err.to_string().contains("RSA"), "{err}");
    let err = refuse("garbage", &pem_chain, &pem_chain);
    assert!(matches!(err, ConfigError::MalformedKey { .. }) && err.to_string().contains("chain.pem"), "{err}");
    let err = config.import_key("imported", &key_path, &chain_path, false).unwrap_err();
    assert!(matches!(err, ConfigError::KeyExists { .. }), "{err}");
    assert_eq!(config.signing_keys().unwrap(), before);
}

#[test]
fn generate_test_output_signs_and_verifies_end_to_end() {
    let (_temp, config) = temp_config();
    for kind in [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519] {
        let name = format!("e2e-{}", kind.name());
        let options = TestCertificateOptions { kind, validity_days: 2, make_default: true, trust_store: None };
        let test = config.generate_test_certificate(&name, &options).unwrap();
        assert_eq!(test.trust_store, StoreRef::parse(&format!("ca:{name}")).unwrap());
        assert_eq!(test.trust_store_file, config.trust_store_path(&test.trust_store).join(format!("{name}.crt")));
        assert!(test.root.is_ca() && !test.leaf.is_ca());
        assert_eq!(test.key.chain, [test.leaf.clone(), test.root.clone()]);
        assert_eq!(
            parse_certificates(&fs::read(&test.trust_store_file).unwrap()).unwrap(),
            std::slice::from_ref(&test.root)
        );
        assert_eq!(test.leaf.not_after().unix() - test.leaf.not_before().unix(), 2 * 86_400);
        #[cfg(unix)]
        assert_eq!(mode(&config.trust_store_path(&test.trust_store)), 0o700);

        config.init_oci_policy(&strict_policy(&name, &name), true).unwrap();
        let verdict = sign_and_verify(&config, None, "localhost:5000/repo");
        assert!(verdict.is_accepted(), "{kind:?}: {}", verdict.reason());
        // The same signature is refused when the policy trusts a different signer or a different store.
        config.init_oci_policy(&strict_policy(&name, "someone-else"), true).unwrap();
        assert!(!sign_and_verify(&config, None, "localhost:5000/repo").is_accepted());
    }
    let other = config
        .generate_test_certificate(
            "other",
            &TestCertificateOptions { trust_store: Some("shared".into()), ..Default::default() },
        )
        .unwrap();
    assert_eq!(other.trust_store.name, "shared");
    config.init_oci_policy(&strict_policy("e2e-p256", "other"), true).unwrap();
    let verdict = sign_and_verify(&config, Some("other"), "localhost:5000/repo");
    assert!(!verdict.is_accepted(), "a root in another store is not trusted");

    let err = config.generate_test_certificate("other", &TestCertificateOptions::default()).unwrap_err();
    assert!(matches!(err, ConfigError::KeyExists { .. }), "{err}");
    let listed = config.list_certificates(None, None).unwrap();
    assert_eq!(listed.len(), 4, "a refused generate-test adds nothing: {listed:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// notation's own files

#[test]
fn notation_written_signing_keys_load() {
    let (_temp, config) = temp_config();
    let localkeys = corpus().join("certs/notation-e2e/localkeys");
    let document = serde_json::json!({
        "default": "e2e",
        "keys": [
            {"name": "e2e", "keyPath": localkeys.join("e2e.key"), "certPath": localkeys.join("e2e.crt")},
            {"name": "kms", "id": "arn:key/1", "pluginName": "com.example.kms", "pluginConfig": {"region": "eu"}}
        ]
    });
    fs::create_dir_all(config.path()).unwrap();
    fs::write(config.signing_keys_path(), serde_json::to_vec_pretty(&document).unwrap()).unwrap();
    let keys = config.signing_keys().unwrap();
    let entry = keys.default_key().unwrap();
    assert_eq!(local_paths(&entry.source).0, localkeys.join("e2e.key"));
    let chain = config.key_certificates(entry).unwrap();
    assert_eq!(chain[0].subject_string(), "CN=e2e,O=Notary,L=Seattle,ST=WA,C=US");
    let key_bytes = fs::read(localkeys.join("e2e.key")).unwrap();
    check_signing_key_pair(&key_bytes, &chain[0], Timestamp::parse_rfc3339("2025-06-01T00:00:00Z").unwrap()).unwrap();

    // nv2 cannot sign with RSA (the core signs with P-256, P-384 and Ed25519) and says so, naming the file.
    let err = config.load_signing_key(None).unwrap_err();
    assert!(matches!(err, ConfigError::UnsupportedKey { .. }), "{err}");
    assert!(err.to_string().contains("e2e.key") && err.to_string().contains("RSA"), "{err}");
    let err = config.load_signing_key(Some("kms")).unwrap_err();
    assert!(matches!(err, ConfigError::PluginKey { .. }));
    assert!(err.to_string().contains("plugin keys are not supported by nv2"), "{err}");
    let err = config.load_signing_key(Some("nope")).unwrap_err();
    assert!(matches!(err, ConfigError::KeyNotFound { .. }) && err.to_string().contains("signingkeys.json"));

    // nv2 keeps notation's entries intact when it changes the file.
    config.generate_key("mine", KeyKind::P256, &GenerateKeyOptions::default()).unwrap();
    let keys = config.signing_keys().unwrap();
    assert_eq!(keys.default.as_deref(), Some("e2e"));
    assert_eq!(keys.get("kms").unwrap().source, document_plugin());
}

fn document_plugin() -> KeySource {
    KeySource::Plugin {
        id: "arn:key/1".into(),
        plugin_name: "com.example.kms".into(),
        plugin_config: [("region".to_string(), "eu".to_string())].into(),
    }
}

#[test]
fn every_fixture_trust_policy_loads_or_fails_as_notation_says() {
    let mut checked = 0;
    for case in cases().iter().filter(|c| c["kind"] == "trust-policy") {
        let id = case["id"].as_str().unwrap();
        let file = corpus().join(case["files"][0].as_str().unwrap());
        let expect_invalid = case["expect"] == "policy-invalid";
        let (_temp, config) = temp_config();
        fs::create_dir_all(config.path()).unwrap();
        if case["document_type"] == "blob" {
            fs::copy(&file, config.blob_policy_path()).unwrap();
            let result = config.blob_policy();
            assert_eq!(result.is_err(), expect_invalid, "{id}: {:?}", result.err());
            if let Err(err) = result {
                assert!(matches!(err, ConfigError::Policy { .. }), "{id}: {err}");
                assert!(err.to_string().contains("trustpolicy.blob.json"), "{id}: {err}");
            }
        } else {
            // Through the import path (validated, refused without writing) and as the file notation 1.x writes.
            let imported = config.import_oci_policy(&file, false);
            assert_eq!(imported.is_err(), expect_invalid, "{id}: {:?}", imported.err());
            fs::copy(&file, config.legacy_oci_policy_path()).unwrap();
            match config.oci_policy() {
                Err(err) => {
                    assert!(expect_invalid, "{id}: {err}");
                    assert!(matches!(err, ConfigError::Policy { .. }), "{id}: {err}");
                    assert!(err.to_string().contains("trustpolicy.json"), "{id}: {err}");
                }
                Ok(policy) => {
                    assert!(!expect_invalid, "{id} must be refused");
                    assert!(policy.legacy);
                    check_fixture_stores(id, case, &config, &policy.document);
                }
            }
        }
        checked += 1;
    }
    assert!(checked >= 35, "only {checked} trust-policy cases");
}

/// For cases that verify an artifact: the stores the case trusts, added through `add_certificates`, load for the
/// statement the artifact's reference selects.
fn check_fixture_stores(id: &str, case: &Value, config: &ConfigDir, document: &nv2_core::trust::TrustPolicyDocument) {
    let Some(stores) = case["trust"]["stores"].as_object() else { return };
    for (store, files) in stores {
        let store = StoreRef::parse(store).unwrap();
        let files: Vec<PathBuf> =
            files.as_array().unwrap().iter().map(|f| corpus().join(f.as_str().unwrap())).collect();
        config.add_certificates(&store, &files).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    let Some(reference) = case["artifact"]["reference"].as_str() else { return };
    let Ok(statement) = document.statement_for_reference(reference) else { return };
    let loaded = config.load_trust_stores(Some(&statement.rules.trust_stores)).unwrap_or_else(|e| panic!("{id}: {e}"));
    for store in &statement.rules.trust_stores {
        assert!(loaded.certificates(store).is_some_and(|c| !c.is_empty()), "{id}: {store}");
    }
}

#[test]
fn notation_go_trust_store_directories_load_or_fail_as_notation_says() {
    let (_temp, config) = temp_config();
    copy_tree(&corpus().join("truststores/notation-go"), &config.path().join("truststore"));
    let mut checked = 0;
    for case in cases().iter().filter(|c| c["check"] == "trust-store-load") {
        let id = case["id"].as_str().unwrap();
        let store = StoreRef::parse(&format!(
            "{}:{}",
            case["store"]["type"].as_str().unwrap(),
            case["store"]["name"].as_str().unwrap()
        ))
        .unwrap();
        let result = config.load_trust_stores(Some(std::slice::from_ref(&store)));
        match (case["expect"].as_str().unwrap(), result) {
            ("valid", Ok(stores)) => {
                // Byte-identical certificates (the same root as PEM and DER) count once, as in notation.
                let mut expected: Vec<Vec<u8>> = Vec::new();
                for file in case["files"].as_array().unwrap() {
                    let bytes = fs::read(corpus().join(file.as_str().unwrap())).unwrap();
                    for certificate in parse_certificates(&bytes).unwrap() {
                        if !expected.iter().any(|e| e == certificate.der()) {
                            expected.push(certificate.der().to_vec());
                        }
                    }
                }
                let expected = expected.len();
                assert_eq!(stores.certificates(&store).unwrap().len(), expected, "{id}");
            }
            ("invalid", Err(err)) => assert!(err.to_string().contains(&store.name), "{id}: {err}"),
            (expect, result) => panic!("{id}: expected {expect}, got {:?}", result.map(|_| ())),
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} trust-store cases");
    let listed = config.list_certificates(None, None).unwrap();
    assert!(listed.iter().any(|f| f.file_name == "GlobalSign.der"));
    assert!(STORE_KINDS.iter().all(|k| config.trust_store_names(Some(*k)).unwrap().iter().all(|s| s.kind == *k)));
    assert!(config.load_trust_stores(None).is_err(), "the corpus deliberately holds invalid stores");
}

#[test]
fn malformed_and_linked_files_give_typed_errors_naming_the_file() {
    let (temp, config) = temp_config();
    fs::create_dir_all(config.path()).unwrap();
    fs::write(config.settings_path(), b"{\"insecureRegistries\": 5}").unwrap();
    let err = config.settings().unwrap_err();
    assert!(matches!(err, ConfigError::Json { .. }) && err.to_string().contains("config.json"), "{err}");

    for text in ["{", "[1]", r#"{"keys":[{"name":"x"}]}"#, r#"{"default":"x","keys":[]}"#] {
        fs::write(config.signing_keys_path(), text).unwrap();
        let err = config.signing_keys().unwrap_err();
        assert!(err.to_string().contains("signingkeys.json"), "{text}: {err}");
        assert!(config.load_signing_key(None).is_err());
        assert!(config.generate_key("x", KeyKind::P256, &GenerateKeyOptions::default()).is_err(), "never overwritten");
        assert_eq!(fs::read_to_string(config.signing_keys_path()).unwrap(), text);
    }
    fs::remove_file(config.signing_keys_path()).unwrap();

    let stored = config
        .generate_key("k", KeyKind::P256, &GenerateKeyOptions { make_default: true, ..Default::default() })
        .unwrap();
    let (key_path, cert_path) = local_paths(&stored.entry.source);
    let key_pem = fs::read(&key_path).unwrap();

    fs::write(&key_path, b"-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----\n").unwrap();
    let err = config.load_signing_key(None).unwrap_err();
    assert!(matches!(err, ConfigError::MalformedKey { .. }) && err.to_string().contains("k.key"), "{err}");
    fs::write(&key_path, &key_pem).unwrap();

    let cert_pem = fs::read(&cert_path).unwrap();
    fs::write(&cert_path, b"garbage").unwrap();
    let err = config.load_signing_key(None).unwrap_err();
    assert!(matches!(err, ConfigError::Certificates { .. }) && err.to_string().contains("k.crt"), "{err}");
    fs::remove_file(&cert_path).unwrap();
    let err = config.load_signing_key(None).unwrap_err();
    assert!(matches!(err, ConfigError::Io { .. }) && err.to_string().contains("k.crt"), "{err}");
    fs::write(&cert_path, &cert_pem).unwrap();

    let other = config.generate_key("other", KeyKind::P256, &GenerateKeyOptions::default()).unwrap();
    fs::copy(local_paths(&other.entry.source).1, &cert_path).unwrap();
    let err = config.load_signing_key(None).unwrap_err();
    assert!(matches!(err, ConfigError::KeyCertificateMismatch { .. }), "{err}");
    fs::write(&cert_path, &cert_pem).unwrap();
    config.load_signing_key(None).unwrap();

    #[cfg(unix)]
    {
        let elsewhere = temp.path().join("elsewhere.key");
        fs::write(&elsewhere, &key_pem).unwrap();
        fs::remove_file(&key_path).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &key_path).unwrap();
        let err = config.load_signing_key(None).unwrap_err();
        assert!(matches!(err, ConfigError::SymlinkOutside { .. }) && err.to_string().contains("k.key"), "{err}");
    }

    fs::write(config.oci_policy_path(), br#"{"version":"1.0","trustPolicies":[]}"#).unwrap();
    let err = config.oci_policy().unwrap_err();
    assert!(matches!(err, ConfigError::Policy { .. }) && err.to_string().contains("trustpolicy.oci.json"), "{err}");
}

// ---------------------------------------------------------------------------------------------------------------
// notation itself

/// notation from the peer install, or `None` (with the reason printed) outside CI; in CI its absence fails.
fn notation() -> Option<PathBuf> {
    let path = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/nv2/peers/bin/notation"));
    match path.filter(|p| p.is_file()) {
        Some(path) => Some(path),
        None if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("notation is not installed at $HOME/.cache/nv2/peers/bin/notation (required when CI=true)")
        }
        None => {
            eprintln!("skipping: notation is not installed at $HOME/.cache/nv2/peers/bin/notation");
            None
        }
    }
}

fn run_notation(notation: &Path, config: &ConfigDir, args: &[&str]) -> String {
    let output = Command::new(notation)
        .args(args)
        .env("NOTATION_CONFIG", config.path())
        .env("NOTATION_EXPERIMENTAL", "1")
        .env_remove("NOTATION_USERNAME")
        .env_remove("NOTATION_PASSWORD")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "notation {args:?} failed: {}\n{stdout}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn nv2_reads_what_notation_generate_test_writes() {
    let Some(notation) = notation() else { return };
    let (_temp, config) = temp_config();
    run_notation(&notation, &config, &["cert", "generate-test", "--default", "from-notation"]);
    let keys = config.signing_keys().unwrap();
    let entry = keys.default_key().unwrap();
    assert_eq!(entry.name, "from-notation");
    let (key_path, _) = local_paths(&entry.source);
    let chain = config.key_certificates(entry).unwrap();
    check_signing_key_pair(&fs::read(&key_path).unwrap(), &chain[0], now()).unwrap();
    let store = StoreRef::parse("ca:from-notation").unwrap();
    let stores = config.load_trust_stores(Some(std::slice::from_ref(&store))).unwrap();
    assert_eq!(stores.certificates(&store).unwrap(), chain.as_slice());
    // notation's test key is RSA-2048, which nv2 verifies but does not sign with.
    let err = config.load_signing_key(None).unwrap_err();
    assert!(matches!(err, ConfigError::UnsupportedKey { .. }) && err.to_string().contains("RSA"), "{err}");

    // A policy nv2 writes into notation's directory is the one notation shows.
    config.init_oci_policy(&strict_policy("from-notation", "from-notation"), false).unwrap();
    let shown = run_notation(&notation, &config, &["policy", "show"]);
    assert!(shown.contains("ca:from-notation") && shown.contains("nv2-test"), "{shown}");
}

#[test]
fn notation_reads_signs_and_verifies_with_what_nv2_writes() {
    let Some(notation) = notation() else { return };
    let (temp, config) = temp_config();
    let test = config
        .generate_test_certificate("from-nv2", &TestCertificateOptions { make_default: true, ..Default::default() })
        .unwrap();
    config.init_oci_policy(&strict_policy("from-nv2", "from-nv2"), false).unwrap();

    let keys = run_notation(&notation, &config, &["key", "list"]);
    let (key_path, _) = local_paths(&test.key.entry.source);
    assert!(keys.contains("* from-nv2") && keys.contains(key_path.to_str().unwrap()), "{keys}");
    let certs = run_notation(&notation, &config, &["cert", "ls"]);
    assert!(certs.contains("from-nv2.crt") && certs.contains("ca"), "{certs}");
    let shown =
        run_notation(&notation, &config, &["cert", "show", "--type", "ca", "--store", "from-nv2", "from-nv2.crt"]);
    assert!(shown.contains("from-nv2 test root"), "{shown}");
    let policy = run_notation(&notation, &config, &["policy", "show"]);
    assert!(policy.contains("nv2-test") && policy.contains("ca:from-nv2"), "{policy}");

    // notation signs with nv2's P-256 key and chain and verifies against nv2's trust store and policy.
    let layout = temp.path().join("layout");
    let digest = write_layout(&layout);
    let target = format!("{}@{digest}", layout.display());
    run_notation(&notation, &config, &["sign", "--oci-layout", &target]);
    let verified = run_notation(&notation, &config, &["verify", "--oci-layout", "--scope", "local/app", &target]);
    assert!(verified.contains("Successfully verified"), "{verified}");
}

/// A one-manifest OCI image layout; returns the manifest digest.
fn write_layout(dir: &Path) -> String {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let config = b"{}";
    let config_digest = Digest::sha256(config);
    let write_blob = |bytes: &[u8]| {
        let digest = Digest::sha256(bytes);
        let text = digest.to_string();
        fs::write(blobs.join(text.trim_start_matches("sha256:")), bytes).unwrap();
        digest
    };
    write_blob(config);
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_types::OCI_IMAGE_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config_digest.to_string(), "size": 2},
        "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": config_digest.to_string(), "size": 2}]
    }))
    .unwrap();
    let digest = write_blob(&manifest);
    fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": media_types::OCI_IMAGE_MANIFEST, "digest": digest.to_string(), "size": manifest.len()}]
    });
    fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    digest.to_string()
}
