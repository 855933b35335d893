//! Trust policy files, notation's names and rules: the OCI policy `trustpolicy.oci.json` (notation 2) or
//! `trustpolicy.json` (notation 1.x, and notation 2's fallback), and the blob policy `trustpolicy.blob.json`.
//!
//! Documents are parsed and validated by the core (`nv2_core::trust`), which applies notation-go's rules; this
//! module finds, reads (regular files only), writes and builds them. Importing or initialising a policy validates
//! it first and never overwrites an existing one unless forced.
//!
//! Reading follows notation 2: `trustpolicy.oci.json`, else `trustpolicy.json`. Writing puts the OCI policy where
//! every notation that may share the directory reads it: into `trustpolicy.oci.json` when that file already exists
//! (a directory notation 2 manages; a leftover `trustpolicy.json` is then removed, as notation 2 does), otherwise
//! into `trustpolicy.json`. notation 1.3 reads only `trustpolicy.json` (checked against notation v1.3.2: with just
//! `trustpolicy.oci.json` its `verify` reports "trust policy is not present"), and notation 2 falls back to it, so
//! exactly one OCI policy file exists and both generations obey it. Writing both names would let them drift apart.

use std::path::{Path, PathBuf};

use nv2_core::limits::MAX_POLICY_BYTES;
use nv2_core::trust::{BlobTrustPolicyDocument, PolicyError, StoreRef, TrustPolicyDocument, VerificationLevel};
use serde::Serialize;

use super::{regular_file, ConfigDir, ConfigError};

/// The OCI trust policy file.
pub const OCI_POLICY_FILE: &str = "trustpolicy.oci.json";
/// The OCI trust policy file of notation 1.x (read when [`OCI_POLICY_FILE`] is absent, written when that is absent).
pub const LEGACY_OCI_POLICY_FILE: &str = "trustpolicy.json";
/// The blob trust policy file.
pub const BLOB_POLICY_FILE: &str = "trustpolicy.blob.json";

/// A policy document as read from disk.
#[derive(Clone, Debug)]
pub struct LoadedPolicy<T> {
    /// The validated document.
    pub document: T,
    /// The file it came from.
    pub path: PathBuf,
    /// The file's bytes, unchanged (`policy show` prints them).
    pub bytes: Vec<u8>,
    /// Whether it is the legacy `trustpolicy.json`.
    pub legacy: bool,
}

/// What writing a policy did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWritten {
    /// The file written.
    pub path: PathBuf,
    /// The legacy `trustpolicy.json` removed because `trustpolicy.oci.json` was written, if there was one.
    pub removed_legacy: Option<PathBuf>,
}

/// One OCI statement for `nv2 policy init`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OciPolicyInit {
    /// The statement's name.
    pub name: String,
    /// `["*"]` or fully qualified `registry/repository` values.
    pub registry_scopes: Vec<String>,
    /// The stores signatures are checked against (`ca:name`, `tsa:name`, ...).
    pub trust_stores: Vec<StoreRef>,
    /// `*` or `x509.subject: ...` entries.
    pub trusted_identities: Vec<String>,
    /// The verification level.
    pub level: VerificationLevel,
}

/// One blob statement for `nv2 blob policy init` (notation's flags: `--name`, `--trust-store`,
/// `--trusted-identity`, `--global`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobPolicyInit {
    /// The statement's name.
    pub name: String,
    /// The stores signatures are checked against.
    pub trust_stores: Vec<StoreRef>,
    /// `*` or `x509.subject: ...` entries.
    pub trusted_identities: Vec<String>,
    /// The verification level.
    pub level: VerificationLevel,
    /// Whether blobs verified without `--policy-name` use this statement.
    pub global: bool,
}

#[derive(Serialize)]
struct Document<S> {
    version: &'static str,
    #[serde(rename = "trustPolicies")]
    trust_policies: [S; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Statement<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_scopes: Option<&'a [String]>,
    signature_verification: Level,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    trust_stores: Vec<String>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    trusted_identities: &'a [String],
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    global_policy: bool,
}

#[derive(Serialize)]
struct Level {
    level: &'static str,
}

impl ConfigDir {
    /// `trustpolicy.oci.json`.
    pub fn oci_policy_path(&self) -> PathBuf {
        self.path().join(OCI_POLICY_FILE)
    }

    /// The legacy `trustpolicy.json`.
    pub fn legacy_oci_policy_path(&self) -> PathBuf {
        self.path().join(LEGACY_OCI_POLICY_FILE)
    }

    /// `trustpolicy.blob.json`.
    pub fn blob_policy_path(&self) -> PathBuf {
        self.path().join(BLOB_POLICY_FILE)
    }

    /// Reads and validates the OCI trust policy: `trustpolicy.oci.json`, else the legacy `trustpolicy.json`
    /// ([`LoadedPolicy::legacy`] says which).
    pub fn oci_policy(&self) -> Result<LoadedPolicy<TrustPolicyDocument>, ConfigError> {
        let (path, legacy_path) = (self.oci_policy_path(), self.legacy_oci_policy_path());
        let (path, bytes, legacy) = match regular_file::read(self.path(), &path, MAX_POLICY_BYTES)? {
            Some(bytes) => (path, bytes, false),
            None => match regular_file::read(self.path(), &legacy_path, MAX_POLICY_BYTES)? {
                Some(bytes) => (legacy_path, bytes, true),
                None => return Err(ConfigError::OciPolicyNotFound { path, legacy_path }),
            },
        };
        let document = parse(&bytes, &path, TrustPolicyDocument::parse)?;
        Ok(LoadedPolicy { document, path, bytes, legacy })
    }

    /// Reads and validates `trustpolicy.blob.json`.
    pub fn blob_policy(&self) -> Result<LoadedPolicy<BlobTrustPolicyDocument>, ConfigError> {
        let path = self.blob_policy_path();
        let bytes = regular_file::read(self.path(), &path, MAX_POLICY_BYTES)?
            .ok_or_else(|| ConfigError::BlobPolicyNotFound { path: path.clone() })?;
        let document = parse(&bytes, &path, BlobTrustPolicyDocument::parse)?;
        Ok(LoadedPolicy { document, path, bytes, legacy: false })
    }

    /// Imports an OCI trust policy file (`nv2 policy import [--force] FILE`): validates it, refuses to replace an
    /// existing policy (either file name) without `force`, and writes the bytes unchanged (where: see the module
    /// notes; [`PolicyWritten::path`] says).
    pub fn import_oci_policy(&self, source: &Path, force: bool) -> Result<PolicyWritten, ConfigError> {
        let bytes = regular_file::read_input(source, MAX_POLICY_BYTES)?;
        parse(&bytes, source, TrustPolicyDocument::parse)?;
        self.write_oci_policy(&bytes, force)
    }

    /// Imports a blob trust policy file (`nv2 blob policy import [--force] FILE`), validated first.
    pub fn import_blob_policy(&self, source: &Path, force: bool) -> Result<PolicyWritten, ConfigError> {
        let bytes = regular_file::read_input(source, MAX_POLICY_BYTES)?;
        parse(&bytes, source, BlobTrustPolicyDocument::parse)?;
        self.write_blob_policy(&bytes, force)
    }

    /// Writes a one-statement OCI trust policy (`nv2 policy init`), validated by the same rules as any policy.
    pub fn init_oci_policy(&self, init: &OciPolicyInit, force: bool) -> Result<PolicyWritten, ConfigError> {
        let statement = Statement {
            name: &init.name,
            registry_scopes: Some(&init.registry_scopes),
            signature_verification: Level { level: init.level.name() },
            trust_stores: init.trust_stores.iter().map(ToString::to_string).collect(),
            trusted_identities: &init.trusted_identities,
            global_policy: false,
        };
        let path = self.oci_policy_path();
        let bytes = to_json(&statement, &path)?;
        parse(&bytes, &path, TrustPolicyDocument::parse)?;
        self.write_oci_policy(&bytes, force)
    }

    /// Writes a one-statement blob trust policy (`nv2 blob policy init`), validated first.
    pub fn init_blob_policy(&self, init: &BlobPolicyInit, force: bool) -> Result<PolicyWritten, ConfigError> {
        let statement = Statement {
            name: &init.name,
            registry_scopes: None,
            signature_verification: Level { level: init.level.name() },
            trust_stores: init.trust_stores.iter().map(ToString::to_string).collect(),
            trusted_identities: &init.trusted_identities,
            global_policy: init.global,
        };
        let path = self.blob_policy_path();
        let bytes = to_json(&statement, &path)?;
        parse(&bytes, &path, BlobTrustPolicyDocument::parse)?;
        self.write_blob_policy(&bytes, force)
    }

    fn write_oci_policy(&self, bytes: &[u8], force: bool) -> Result<PolicyWritten, ConfigError> {
        let (path, legacy_path) = (self.oci_policy_path(), self.legacy_oci_policy_path());
        let (current, legacy) = (regular_file::exists(&path)?, regular_file::exists(&legacy_path)?);
        if !force && (current || legacy) {
            let existing = if current { path } else { legacy_path };
            return Err(ConfigError::PolicyExists { path: existing });
        }
        if !current {
            regular_file::write(&legacy_path, bytes)?;
            return Ok(PolicyWritten { path: legacy_path, removed_legacy: None });
        }
        regular_file::write(&path, bytes)?;
        let removed_legacy = regular_file::remove(&legacy_path)?.then_some(legacy_path);
        Ok(PolicyWritten { path, removed_legacy })
    }

    fn write_blob_policy(&self, bytes: &[u8], force: bool) -> Result<PolicyWritten, ConfigError> {
        let path = self.blob_policy_path();
        if !force && regular_file::exists(&path)? {
            return Err(ConfigError::PolicyExists { path });
        }
        regular_file::write(&path, bytes)?;
        Ok(PolicyWritten { path, removed_legacy: None })
    }
}

fn parse<T>(bytes: &[u8], path: &Path, parse: fn(&[u8]) -> Result<T, PolicyError>) -> Result<T, ConfigError> {
    parse(bytes).map_err(|source| ConfigError::Policy { path: path.into(), source: source.into() })
}

fn to_json(statement: &Statement<'_>, path: &Path) -> Result<Vec<u8>, ConfigError> {
    let document = Document { version: nv2_core::trust::policy::SUPPORTED_VERSION, trust_policies: [statement] };
    let mut bytes = serde_json::to_vec_pretty(&document)
        .map_err(|e| ConfigError::Json { path: path.into(), reason: e.to_string() })?;
    bytes.push(b'\n');
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    const IDENTITY: &str = "x509.subject: C=US, ST=WA, O=Notary, CN=test";

    fn oci_init(name: &str) -> OciPolicyInit {
        OciPolicyInit {
            name: name.into(),
            registry_scopes: vec!["*".into()],
            trust_stores: vec![StoreRef::parse("ca:test").unwrap()],
            trusted_identities: vec![IDENTITY.into()],
            level: VerificationLevel::Strict,
        }
    }

    fn setup() -> (tempfile::TempDir, ConfigDir) {
        let temp = tempfile::tempdir().unwrap();
        let config = ConfigDir::new(temp.path().join("config"));
        (temp, config)
    }

    #[test]
    fn reads_the_oci_policy_then_the_legacy_one_and_says_which() {
        let (_temp, config) = setup();
        let err = config.oci_policy().unwrap_err();
        assert!(matches!(err, ConfigError::OciPolicyNotFound { .. }));
        assert!(err.to_string().contains(OCI_POLICY_FILE) && err.to_string().contains(LEGACY_OCI_POLICY_FILE));
        config.init_oci_policy(&oci_init("old"), false).unwrap();
        let loaded = config.oci_policy().unwrap();
        assert!(loaded.legacy && loaded.path == config.legacy_oci_policy_path());
        assert_eq!(loaded.document.statements[0].rules.name, "old");
        assert_eq!(loaded.bytes, fs::read(config.legacy_oci_policy_path()).unwrap());
        let newer = String::from_utf8(loaded.bytes).unwrap().replace("\"old\"", "\"new\"");
        fs::write(config.oci_policy_path(), newer).unwrap();
        let loaded = config.oci_policy().unwrap();
        assert!(!loaded.legacy);
        assert_eq!(loaded.document.statements[0].rules.name, "new", "trustpolicy.oci.json wins");
    }

    #[test]
    fn init_builds_valid_documents_and_never_overwrites_without_force() {
        let (_temp, config) = setup();
        let written = config.init_oci_policy(&oci_init("a"), false).unwrap();
        let legacy = config.legacy_oci_policy_path();
        assert_eq!(written, PolicyWritten { path: legacy.clone(), removed_legacy: None }, "every notation reads it");
        let statement = config.oci_policy().unwrap().document.statements.remove(0);
        assert!(statement.is_global());
        assert_eq!(statement.rules.trust_stores, [StoreRef::parse("ca:test").unwrap()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&legacy).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let err = config.init_oci_policy(&oci_init("b"), false).unwrap_err();
        assert!(matches!(err, ConfigError::PolicyExists { .. }) && err.to_string().contains("--force"));
        assert_eq!(config.init_oci_policy(&oci_init("b"), true).unwrap().path, legacy);
        assert!(!config.oci_policy_path().exists());

        // A directory notation 2 manages: its file is replaced and the leftover legacy file removed.
        fs::write(config.oci_policy_path(), b"{}").unwrap();
        let err = config.init_oci_policy(&oci_init("c"), false).unwrap_err();
        assert!(matches!(err, ConfigError::PolicyExists { path } if path == config.oci_policy_path()));
        let written = config.init_oci_policy(&oci_init("c"), true).unwrap();
        assert_eq!(written, PolicyWritten { path: config.oci_policy_path(), removed_legacy: Some(legacy.clone()) });
        assert!(!legacy.exists());
        assert_eq!(config.oci_policy().unwrap().document.statements[0].rules.name, "c");

        let skip = OciPolicyInit { level: VerificationLevel::Skip, ..oci_init("skip") };
        let err = config.init_oci_policy(&skip, true).unwrap_err();
        assert!(matches!(err, ConfigError::Policy { .. }), "skip with trust stores is refused: {err}");
        let skip = OciPolicyInit { trust_stores: vec![], trusted_identities: vec![], ..skip };
        config.init_oci_policy(&skip, true).unwrap();
        assert!(config.oci_policy().unwrap().document.statements[0].rules.is_skip());

        let blob = BlobPolicyInit {
            name: "blobs".into(),
            trust_stores: vec![StoreRef::parse("ca:test").unwrap()],
            trusted_identities: vec!["*".into()],
            level: VerificationLevel::Audit,
            global: true,
        };
        config.init_blob_policy(&blob, false).unwrap();
        let document = config.blob_policy().unwrap().document;
        assert!(document.statement_for_blob(None).unwrap().global_policy);
        assert!(matches!(config.init_blob_policy(&blob, false), Err(ConfigError::PolicyExists { .. })));
        let bad = BlobPolicyInit { trusted_identities: vec!["*".into(), IDENTITY.into()], ..blob };
        assert!(matches!(config.init_blob_policy(&bad, true), Err(ConfigError::Policy { .. })));
    }

    #[test]
    fn import_validates_first_and_keeps_the_bytes() {
        let (temp, config) = setup();
        let source = temp.path().join("policy.json");
        fs::write(&source, br#"{"version":"1.0","trustPolicies":[{"name":"x","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}"#).unwrap();
        let written = config.import_oci_policy(&source, false).unwrap();
        assert_eq!(fs::read(&written.path).unwrap(), fs::read(&source).unwrap());
        assert!(matches!(config.import_oci_policy(&source, false), Err(ConfigError::PolicyExists { .. })));
        config.import_oci_policy(&source, true).unwrap();

        let invalid = temp.path().join("invalid.json");
        fs::write(&invalid, br#"{"version":"2.0","trustPolicies":[]}"#).unwrap();
        let err = config.import_oci_policy(&invalid, true).unwrap_err();
        assert!(matches!(err, ConfigError::Policy { .. }) && err.to_string().contains("invalid.json"), "{err}");
        assert_eq!(fs::read(&written.path).unwrap(), fs::read(&source).unwrap(), "nothing replaced");
        assert!(matches!(config.blob_policy(), Err(ConfigError::BlobPolicyNotFound { .. })));
        let blob = temp.path().join("blob.json");
        fs::write(&blob, br#"{"version":"1.0","trustPolicies":[{"name":"b","globalPolicy":true,"signatureVerification":{"level":"skip"}},{"name":"c","globalPolicy":true,"signatureVerification":{"level":"skip"}}]}"#).unwrap();
        let err = config.import_blob_policy(&blob, false).unwrap_err();
        assert!(
            matches!(err, ConfigError::Policy { .. }) && err.to_string().contains("blob.json"),
            "two global statements: {err}"
        );
        fs::write(&blob, br#"{"version":"1.0","trustPolicies":[{"name":"b","globalPolicy":true,"signatureVerification":{"level":"skip"}}]}"#).unwrap();
        config.import_blob_policy(&blob, false).unwrap();
        assert_eq!(config.blob_policy().unwrap().bytes, fs::read(&blob).unwrap());
    }

    #[test]
    fn malformed_and_linked_policies_are_refused_naming_the_file() {
        let (temp, config) = setup();
        fs::create_dir_all(config.path()).unwrap();
        fs::write(config.oci_policy_path(), b"{not json").unwrap();
        let err = config.oci_policy().unwrap_err();
        assert!(matches!(err, ConfigError::Policy { .. }) && err.to_string().contains(OCI_POLICY_FILE), "{err}");
        fs::write(config.blob_policy_path(), b"[]").unwrap();
        let err = config.blob_policy().unwrap_err();
        assert!(err.to_string().contains(BLOB_POLICY_FILE), "{err}");
        #[cfg(unix)]
        {
            fs::remove_file(config.oci_policy_path()).unwrap();
            let real = temp.path().join("real.json");
            fs::write(&real, b"{}").unwrap();
            std::os::unix::fs::symlink(&real, config.oci_policy_path()).unwrap();
            assert!(matches!(config.oci_policy(), Err(ConfigError::SymlinkOutside { .. })));
        }
    }
}
