//! Fixed inputs shared by the fuzz targets: a verification key, a trust store and a policy, read once from the
//! public fixture corpus so that seeds taken from it reach the success paths (signature verifies, chain trusted).
//! Without the corpus every target still runs, with a deterministic key and an empty store.

use nv2_core::crypto::{KeyKind, PublicKey, SigningKey};
use nv2_core::time::Timestamp;
use nv2_core::trust::{StoreRef, TrustPolicyDocument, TrustStores};
use nv2_core::x509::{parse_certificates, Certificate};
use std::path::PathBuf;
use std::sync::OnceLock;

/// "Now" for every time check: inside the validity of the fixture certificates the seeds use.
pub const NOW: Timestamp = Timestamp::from_unix(1_748_736_000); // 2025-06-01T00:00:00Z

/// The manifest the fixture envelopes `notation-go/internal/{jws,cose}_signature.sig` sign.
pub const TARGET_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Its digest.
pub const TARGET_DIGEST: &str = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
/// Its size.
pub const TARGET_SIZE: u64 = 481;

/// A strict policy: the `ca:alpine` store, any identity.
pub const POLICY: &[u8] = br#"{"version":"1.0","trustPolicies":[{"name":"fuzz","registryScopes":["*"],
"signatureVerification":{"level":"strict"},"trustStores":["ca:alpine"],"trustedIdentities":["*"]}]}"#;

/// `$NV2_CORPUS_DIR`, else the first `shared/fixtures/notation` above this crate.
pub fn fixture_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("NV2_CORPUS_DIR") {
        return Some(PathBuf::from(dir));
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/fixtures/notation");
        if candidate.join("cases.json").is_file() {
            return Some(candidate);
        }
        if !dir.pop() {
            return None;
        }
    }
}

fn fixture_certificates(rel: &str) -> Vec<Certificate> {
    fixture_dir()
        .and_then(|dir| std::fs::read(dir.join(rel)).ok())
        .and_then(|bytes| parse_certificates(&bytes).ok())
        .unwrap_or_default()
}

/// The certificate that signed the fixture envelopes (self-signed, valid 2000–2123).
pub fn alpine_certificates() -> &'static [Certificate] {
    static CERTS: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERTS.get_or_init(|| fixture_certificates("certs/extracted/alpine-2000-2123.pem"))
}

/// TSA roots for the timestamp target.
pub fn tsa_roots() -> &'static [Certificate] {
    static CERTS: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERTS.get_or_init(|| {
        let mut roots = Vec::new();
        if let Some(dir) = fixture_dir() {
            for sub in ["truststores/notation-go/x509/tsa", "certs/notation-e2e/timestamp"] {
                collect_certificates(&dir.join(sub), &mut roots, 0);
            }
        }
        roots
    })
}

fn collect_certificates(dir: &std::path::Path, out: &mut Vec<Certificate>, depth: u32) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth < 3 {
            collect_certificates(&path, out, depth + 1);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.extend(parse_certificates(&bytes).unwrap_or_default());
        }
    }
}

/// The fixed key envelopes are verified with: the fixture signer's, else a deterministic P-256 key.
pub fn fixed_key() -> &'static PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| {
        alpine_certificates().first().and_then(|cert| cert.public_key().ok()).unwrap_or_else(|| {
            match SigningKey::from_seed(KeyKind::P256, &[7u8; 32]) {
                Ok(key) => key.public_key(),
                Err(e) => panic!("deterministic fuzz key: {e}"),
            }
        })
    })
}

/// The fixed policy (parsed once).
pub fn policy() -> &'static TrustPolicyDocument {
    static POLICY_DOC: OnceLock<TrustPolicyDocument> = OnceLock::new();
    POLICY_DOC.get_or_init(|| match TrustPolicyDocument::parse(POLICY) {
        Ok(doc) => doc,
        Err(e) => panic!("fixed fuzz policy: {e}"),
    })
}

/// The fixed trust stores: `ca:alpine` holding the fixture signer (empty without the corpus).
pub fn stores() -> &'static TrustStores {
    static STORES: OnceLock<TrustStores> = OnceLock::new();
    STORES.get_or_init(|| {
        let mut stores = TrustStores::new();
        let certs = alpine_certificates().to_vec();
        if !certs.is_empty() {
            if let Ok(store) = StoreRef::parse("ca:alpine") {
                let _ = stores.add(store, certs);
            }
        }
        stores
    })
}
