//! Speed baseline of the one verification pipeline, for the wasm and admission hosts to compare against.
//!
//! * `verify/es256-jws-3-cert-chain`: an ES256 JWS made by nv2 with a root → intermediate → leaf chain issued by
//!   [`nv2_core::x509::issue`], verified with its signature manifest. Each iteration also parses the trust policy,
//!   selects the statement by scope and loads the trust store from bytes, as a host serving one request would.
//! * `verify/es256-jws-3-cert-chain-pipeline-only`: the same, with policy and store prepared beforehand.
//! * `verify/ps256-jws-notation-e2e`: notation's own PS256 (RSA-3072) e2e signature from the fixture corpus
//!   (`oci-layouts/e2e-valid-signature`, `trustpolicies/trustpolicy.json`, `certs/notation-e2e/localkeys/e2e.crt`),
//!   verified at 2025-06-01 with the same per-iteration policy and store work.
//! * `sign/es256-jws-3-cert-chain`: signing an artifact (envelope and signature manifest) with that chain.
//!
//! The fixture directory is `$NV2_CORPUS_DIR`, or `shared/fixtures/notation` found by walking up from this crate.

use criterion::{criterion_group, criterion_main, Criterion};
use nv2_core::crypto::{KeyKind, SigningKey};
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::oci::{media_types, Descriptor, Digest, ParsedManifest};
use nv2_core::sign::{self, SignOptions, SignedArtifact};
use nv2_core::time::Timestamp;
use nv2_core::trust::{StoreRef, TrustPolicyDocument, TrustStores};
use nv2_core::verify::{self, SignatureInput, Target, Verdict, VerifyOptions};
use nv2_core::x509::issue::{self, CertificateSpec, Issuer};
use nv2_core::x509::{Certificate, TrustStoreKind};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;

#[path = "../examples/fixtures/mod.rs"]
mod fixtures;

const ROOT: &str = "CN=Bench Root,O=Notary,ST=WA,C=US";
const INTERMEDIATE: &str = "CN=Bench Intermediate,O=Notary,ST=WA,C=US";
const LEAF: &str = "CN=Bench Leaf,O=Notary,ST=WA,C=US";

fn at(year: i64, month: u32, day: u32) -> Timestamp {
    Timestamp::from_civil(year, month, day, 0, 0, 0).expect("valid date")
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_seed(KeyKind::P256, &[n; 32]).expect("valid P-256 seed")
}

/// Everything one verification request carries, as bytes, plus the scope it is for.
struct Request {
    target: Target,
    manifest: Vec<u8>,
    envelope: Vec<u8>,
    policy: Vec<u8>,
    store: StoreRef,
    store_files: Vec<Vec<u8>>,
    scope: &'static str,
    now: Timestamp,
}

impl Request {
    /// What a host does per request: parse the policy, select the statement, load the store, run the pipeline.
    fn verify_from_bytes(&self) -> Verdict {
        let policy = TrustPolicyDocument::parse(&self.policy).expect("policy parses");
        let statement = policy.statement_for(self.scope).expect("a statement applies");
        let mut stores = TrustStores::new();
        stores.load_store(self.store.clone(), self.store_files.iter()).expect("store loads");
        let input = [SignatureInput { manifest: Some(&self.manifest), envelope: &self.envelope, format: None }];
        verify::verify(&self.target, &input, &statement.rules, &stores, &VerifyOptions::at(self.now))
    }
}

/// A P-256 root → intermediate → leaf chain and its keys.
struct Signer {
    leaf_key: SigningKey,
    chain: Vec<Certificate>,
}

fn signer() -> Signer {
    let (from, to) = (at(2024, 1, 1), at(2034, 1, 1));
    let (root_key, intermediate_key, leaf_key) = (key(1), key(2), key(3));
    let spki = |k: &SigningKey| k.public_key_spki_der().expect("SPKI");
    let root = issue::issue_self_signed(&CertificateSpec::ca(ROOT, from, to, Some(1)), &root_key, &[1]).expect("root");
    let intermediate = issue::issue(
        &CertificateSpec::ca(INTERMEDIATE, from, to, Some(0)),
        &spki(&intermediate_key),
        Issuer { name: ROOT, key: &root_key },
        &[2],
    )
    .expect("intermediate");
    let leaf = issue::issue(
        &CertificateSpec::code_signing_leaf(LEAF, from, to),
        &spki(&leaf_key),
        Issuer { name: INTERMEDIATE, key: &intermediate_key },
        &[3],
    )
    .expect("leaf");
    Signer { leaf_key, chain: vec![leaf, intermediate, root] }
}

fn artifact() -> Descriptor {
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
    Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, manifest)
}

fn sign_options() -> SignOptions {
    SignOptions {
        format: EnvelopeFormat::Jws,
        signing_time: at(2025, 1, 1),
        expiry: None,
        user_metadata: BTreeMap::new(),
        signing_agent: String::from("nv2-bench"),
    }
}

fn es256_request() -> Request {
    let signer = signer();
    let target = artifact();
    let signed: SignedArtifact =
        sign::sign_artifact(&target, &signer.leaf_key, &signer.chain, &sign_options()).expect("signing works");
    let policy = format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"bench","registryScopes":["registry.test/app"],
        "signatureVerification":{{"level":"strict"}},"trustStores":["ca:bench"],
        "trustedIdentities":["x509.subject: {LEAF}"]}}]}}"#
    );
    Request {
        target: Target::Manifest {
            media_type: target.media_type.clone(),
            digest: target.digest.to_string(),
            size: target.size,
        },
        manifest: signed.manifest,
        envelope: signed.envelope,
        policy: policy.into_bytes(),
        store: StoreRef::new(TrustStoreKind::Ca, "bench").expect("store name"),
        store_files: vec![signer.chain[2].der().to_vec()],
        scope: "registry.test/app",
        now: at(2025, 6, 1),
    }
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// notation's e2e PS256 signature of the `v1` image in the fixture layout.
fn notation_e2e_request() -> Request {
    let corpus = fixtures::corpus_dir()
        .expect("no corpus: set NV2_CORPUS_DIR or place shared/fixtures/notation beside the checkout");
    let layout = corpus.join("oci-layouts/e2e-valid-signature");
    let blob = |digest: &Digest| read(&layout.join("blobs").join(digest.algorithm().to_string()).join(digest.hex()));
    let index: serde_json::Value = serde_json::from_slice(&read(&layout.join("index.json"))).expect("index.json");
    let entries = index["manifests"].as_array().expect("manifests");
    let digest_of = |entry: &serde_json::Value| -> Digest {
        entry["digest"].as_str().expect("digest").parse().expect("valid digest")
    };
    let image = entries
        .iter()
        .find(|e| e.pointer("/annotations/org.opencontainers.image.ref.name").and_then(|v| v.as_str()) == Some("v1"))
        .map(digest_of)
        .expect("tag v1");
    let image_bytes = blob(&image);
    let image_manifest = ParsedManifest::parse(None, &image_bytes).expect("image manifest");
    let (manifest, envelope) = entries
        .iter()
        .map(digest_of)
        .find_map(|d| {
            let bytes = blob(&d);
            let parsed = ParsedManifest::parse(None, &bytes).ok()?;
            let layer = parsed.as_image_manifest().filter(|_| parsed.subject().map(|s| &s.digest) == Some(&image))?;
            let envelope = blob(&layer.layers.first()?.digest);
            Some((bytes, envelope))
        })
        .expect("a signature of v1");
    Request {
        target: Target::Manifest {
            media_type: image_manifest.media_type().to_string(),
            digest: image.to_string(),
            size: image_bytes.len() as u64,
        },
        manifest,
        envelope,
        policy: read(&corpus.join("trustpolicies/trustpolicy.json")),
        store: StoreRef::new(TrustStoreKind::Ca, "e2e").expect("store name"),
        store_files: vec![read(&corpus.join("certs/notation-e2e/localkeys/e2e.crt"))],
        scope: "localhost:5000/e2e",
        now: at(2025, 6, 1),
    }
}

fn benches(c: &mut Criterion) {
    let es256 = es256_request();
    assert!(es256.verify_from_bytes().is_accepted(), "ES256 control: {}", es256.verify_from_bytes().reason());
    c.bench_function("verify/es256-jws-3-cert-chain", |b| b.iter(|| black_box(es256.verify_from_bytes())));

    let policy = TrustPolicyDocument::parse(&es256.policy).expect("policy");
    let statement = policy.statement_for(es256.scope).expect("statement");
    let mut stores = TrustStores::new();
    stores.load_store(es256.store.clone(), es256.store_files.iter()).expect("store");
    let input = [SignatureInput { manifest: Some(&es256.manifest), envelope: &es256.envelope, format: None }];
    let options = VerifyOptions::at(es256.now);
    c.bench_function("verify/es256-jws-3-cert-chain-pipeline-only", |b| {
        b.iter(|| black_box(verify::verify(&es256.target, &input, &statement.rules, &stores, &options)))
    });

    let ps256 = notation_e2e_request();
    let verdict = ps256.verify_from_bytes();
    assert!(verdict.is_accepted(), "PS256 control: {}", verdict.reason());
    assert_eq!(
        verdict.verified_signature().and_then(|s| s.signer.as_ref()).map(|s| s.algorithm.as_str()),
        Some("PS256")
    );
    c.bench_function("verify/ps256-jws-notation-e2e", |b| b.iter(|| black_box(ps256.verify_from_bytes())));

    let signer = signer();
    let (target, options) = (artifact(), sign_options());
    c.bench_function("sign/es256-jws-3-cert-chain", |b| {
        b.iter(|| black_box(sign::sign_artifact(&target, &signer.leaf_key, &signer.chain, &options)))
    });
}

criterion_group!(verify_benches, benches);
criterion_main!(verify_benches);
