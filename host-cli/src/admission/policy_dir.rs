//! The policy directory the server verifies against, in notation's layout (`--policy-dir`, `/config` in the
//! Deployment): `trustpolicy.oci.json` (or the legacy `trustpolicy.json`), `truststore/x509/<type>/<name>/*`, and
//! optionally `admission.json` with the SBoM rules ([`AdmissionRules`]).
//!
//! A [`PolicySnapshot`] is everything one verification needs, read once and shared: the policy text as the module
//! receives it, the parsed document (to know which stores the selected statement names), every store's files in
//! wire form, and the rules. [`PolicyDir`] holds the current snapshot and its *generation*; the verdict cache is
//! keyed by generation, so a reload never serves a verdict of the old policy. [`PolicyDir::reload_if_changed`]
//! re-reads the directory when a file's size or modification time changed, keeping the old snapshot (and saying
//! why) when the new files are broken.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use nv2_core::trust::{StoreRef, TrustPolicyDocument};
use nv2_core::verify::wire::{encode_base64, TrustStoreSpec};
use serde::Deserialize;

use super::AdmissionError;
use crate::config::{ConfigDir, ConfigError};

/// The optional rules file beside the trust policy.
pub const ADMISSION_RULES_FILE: &str = "admission.json";

/// Largest `admission.json` read.
const MAX_RULES_BYTES: u64 = 1024 * 1024;
/// Largest certificate file sent to the module (notation's stores hold a few PEM certificates).
const MAX_CERTIFICATE_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// `admission.json`: what besides a verified signature an image needs.
///
/// ```json
/// {"requireSbom": true, "sbomTrustedStores": ["ca:sbom"], "denyPackages": ["log4j-core"], "denyLicenses": ["GPL-3.0-only"]}
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdmissionRules {
    /// The image must have an SBoM referrer (SPDX or CycloneDX) whose own signature verifies.
    #[serde(default)]
    pub require_sbom: bool,
    /// Stores the SBoM's signature is verified against (any identity they issued); empty: the trust policy's
    /// statement for the SBoM's repository, like any other artifact.
    #[serde(default)]
    pub sbom_trusted_stores: Vec<String>,
    /// Package names that must not appear in the SBoM (compared case-insensitively).
    #[serde(default)]
    pub deny_packages: Vec<String>,
    /// SPDX licence identifiers that must not appear in any package's declared licence expression.
    #[serde(default)]
    pub deny_licenses: Vec<String>,
}

impl AdmissionRules {
    /// Whether any rule needs the SBoM read at all.
    pub fn checks_sbom(&self) -> bool {
        self.require_sbom || !self.deny_packages.is_empty() || !self.deny_licenses.is_empty()
    }
}

/// Everything one verification reads from the policy directory.
#[derive(Debug)]
pub struct PolicySnapshot {
    /// Incremented on every successful reload; part of every cache key.
    pub generation: u64,
    /// The trust policy file's text, handed to the module as is.
    pub policy_text: String,
    /// The same document parsed, to find the stores the selected statement names.
    pub document: TrustPolicyDocument,
    /// Every trust store on disk in wire form.
    pub stores: BTreeMap<String, (StoreRef, TrustStoreSpec)>,
    /// `admission.json`, or the defaults when there is none.
    pub rules: AdmissionRules,
    /// `rules.sbom_trusted_stores` parsed.
    pub sbom_stores: Vec<StoreRef>,
    fingerprint: Fingerprint,
}

impl PolicySnapshot {
    /// The wire form of `wanted` stores that exist (a store the policy names but the directory lacks is left out,
    /// and the module rejects the signature for it).
    pub fn stores_for(&self, wanted: &[StoreRef]) -> Vec<TrustStoreSpec> {
        let mut specs: Vec<TrustStoreSpec> = Vec::new();
        for store in wanted {
            if let Some((_, spec)) = self.stores.get(&store_key(store)) {
                if !specs.iter().any(|s| s.kind == spec.kind && s.name == spec.name) {
                    specs.push(spec.clone());
                }
            }
        }
        specs
    }
}

/// The policy directory and its current snapshot.
#[derive(Debug)]
pub struct PolicyDir {
    dir: ConfigDir,
    current: RwLock<Arc<PolicySnapshot>>,
    generation: AtomicU64,
}

impl PolicyDir {
    /// Reads `path`; fails when the trust policy, a trust store or `admission.json` is missing or invalid.
    pub fn open(path: &Path) -> Result<Self, AdmissionError> {
        let dir = ConfigDir::new(path);
        let snapshot = read_snapshot(&dir, 1)?;
        Ok(PolicyDir { dir, current: RwLock::new(Arc::new(snapshot)), generation: AtomicU64::new(1) })
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The snapshot verifications use now.
    pub fn snapshot(&self) -> Arc<PolicySnapshot> {
        match self.current.read() {
            Ok(current) => Arc::clone(&current),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Re-reads the directory if any of its files changed. `Ok(true)`: a new generation is in force; `Ok(false)`:
    /// nothing changed; `Err`: the files changed but are broken, and the previous snapshot stays in force.
    pub fn reload_if_changed(&self) -> Result<bool, AdmissionError> {
        let current = self.snapshot();
        if fingerprint(&self.dir)? == current.fingerprint {
            return Ok(false);
        }
        let generation = self.generation.load(Ordering::SeqCst) + 1;
        let snapshot = read_snapshot(&self.dir, generation)?;
        self.generation.store(generation, Ordering::SeqCst);
        match self.current.write() {
            Ok(mut slot) => *slot = Arc::new(snapshot),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(snapshot),
        }
        Ok(true)
    }
}

/// Size and modification time of every file a snapshot is read from, to notice changes cheaply.
type Fingerprint = Vec<(PathBuf, Option<(u64, SystemTime)>)>;

fn fingerprint(dir: &ConfigDir) -> Result<Fingerprint, AdmissionError> {
    let mut paths = vec![dir.oci_policy_path(), dir.legacy_oci_policy_path(), dir.path().join(ADMISSION_RULES_FILE)];
    paths.extend(dir.list_certificates(None, None)?.into_iter().map(|file| file.path));
    Ok(paths
        .into_iter()
        .map(|path| {
            let stamp = std::fs::metadata(&path).ok().and_then(|m| Some((m.len(), m.modified().ok()?)));
            (path, stamp)
        })
        .collect())
}

fn read_snapshot(dir: &ConfigDir, generation: u64) -> Result<PolicySnapshot, AdmissionError> {
    let fingerprint = fingerprint(dir)?;
    let policy = dir.oci_policy()?;
    let policy_text = String::from_utf8(policy.bytes).map_err(|_| AdmissionError::PolicyDir {
        path: policy.path.clone(),
        reason: "the trust policy is not UTF-8 text".into(),
    })?;
    // Loading natively first turns a broken store into an error at start, naming the file, rather than a
    // rejection of every image later.
    dir.load_trust_stores(None)?;
    let mut stores: BTreeMap<String, (StoreRef, TrustStoreSpec)> = BTreeMap::new();
    for file in dir.list_certificates(None, None)? {
        let bytes = read_bounded(&file.path, MAX_CERTIFICATE_FILE_BYTES)?;
        let text = match String::from_utf8(bytes) {
            Ok(text) if text.contains("-----BEGIN") => text,
            Ok(text) => encode_base64(text.as_bytes()),
            Err(e) => encode_base64(e.as_bytes()),
        };
        let entry = stores.entry(store_key(&file.store)).or_insert_with(|| {
            let spec = TrustStoreSpec {
                kind: file.store.kind.name().to_string(),
                name: file.store.name.clone(),
                certificates: Vec::new(),
            };
            (file.store.clone(), spec)
        });
        entry.1.certificates.push(text);
    }
    let rules_path = dir.path().join(ADMISSION_RULES_FILE);
    let rules: AdmissionRules = match rules_path.exists() {
        false => AdmissionRules::default(),
        true => {
            let bytes = read_bounded(&rules_path, MAX_RULES_BYTES)?;
            serde_json::from_slice(&bytes)
                .map_err(|e| AdmissionError::PolicyDir { path: rules_path.clone(), reason: e.to_string() })?
        }
    };
    let sbom_stores =
        rules.sbom_trusted_stores.iter().map(|s| StoreRef::parse(s)).collect::<Result<Vec<_>, _>>().map_err(|e| {
            AdmissionError::PolicyDir { path: rules_path.clone(), reason: format!("sbomTrustedStores: {e}") }
        })?;
    if let Some(missing) = sbom_stores.iter().find(|s| !stores.contains_key(&store_key(s))) {
        return Err(AdmissionError::PolicyDir {
            path: rules_path,
            reason: format!(
                "sbomTrustedStores names {}:{}, which has no certificates",
                missing.kind.name(),
                missing.name
            ),
        });
    }
    Ok(PolicySnapshot { generation, policy_text, document: policy.document, stores, rules, sbom_stores, fingerprint })
}

/// `type:name`, the key of a store.
fn store_key(store: &StoreRef) -> String {
    format!("{}:{}", store.kind.name(), store.name)
}

fn read_bounded(path: &Path, max: u64) -> Result<Vec<u8>, AdmissionError> {
    use std::io::Read;
    let io = |e: std::io::Error| AdmissionError::PolicyDir { path: path.to_path_buf(), reason: e.to_string() };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > max {
        return Err(AdmissionError::PolicyDir { path: path.to_path_buf(), reason: format!("larger than {max} bytes") });
    }
    Ok(bytes)
}

impl From<ConfigError> for AdmissionError {
    fn from(error: ConfigError) -> Self {
        AdmissionError::Config(error)
    }
}
