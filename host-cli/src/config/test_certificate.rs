//! `nv2 cert generate-test NAME`: everything needed to sign and verify right away, in one step, like notation's
//! `cert generate-test`.
//!
//! notation makes one self-signed RSA certificate; nv2 makes a small real PKI instead, so the chain has the shape
//! production chains have: a root CA (basicConstraints cA critical, keyUsage keyCertSign+cRLSign critical) and a
//! code-signing leaf it issues (keyUsage digitalSignature critical, EKU codeSigning). The leaf key and the chain
//! `[leaf, root]` go to `localkeys/` and `signingkeys.json`; the root certificate goes to
//! `truststore/x509/ca/<store>/<name>.crt`, so a policy naming `ca:<store>` verifies the signatures at once. The
//! root's key is not kept: nothing else can ever be issued under this test root.

use std::path::PathBuf;

use nv2_core::crypto::KeyKind;
use nv2_core::trust::StoreRef;
use nv2_core::x509::issue::test_chain;
use nv2_core::x509::{validate_chain, Certificate, ChainPurpose, TrustStoreKind};

use super::key_material::{self, certificates_pem};
use super::signing_keys::generate::notation_style_subject;
use super::signing_keys::{check_key_name, StoredKey};
use super::{regular_file, ConfigDir, ConfigError};

/// notation's validity for test certificates: one day.
pub const DEFAULT_TEST_VALIDITY_DAYS: u32 = 1;

/// Choices for [`ConfigDir::generate_test_certificate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCertificateOptions {
    /// The key type of both the root and the leaf (P-256 by default).
    pub kind: KeyKind,
    /// Days both certificates are valid from now (notation: 1).
    pub validity_days: u32,
    /// Make the new key the default signing key.
    pub make_default: bool,
    /// The `ca` store the root goes into; `None` uses the key's name, as notation does.
    pub trust_store: Option<String>,
}

impl Default for TestCertificateOptions {
    fn default() -> Self {
        TestCertificateOptions {
            kind: KeyKind::P256,
            validity_days: DEFAULT_TEST_VALIDITY_DAYS,
            make_default: false,
            trust_store: None,
        }
    }
}

/// What `generate-test` wrote.
#[derive(Clone, Debug)]
pub struct TestCertificate {
    /// The registered signing key (its chain is `[leaf, root]`).
    pub key: StoredKey,
    /// The store holding the root.
    pub trust_store: StoreRef,
    /// The root certificate file in that store.
    pub trust_store_file: PathBuf,
    /// The root certificate.
    pub root: Certificate,
    /// The leaf (signing) certificate.
    pub leaf: Certificate,
}

impl ConfigDir {
    /// Creates a test root CA and a signing leaf named `name`, registers the leaf key and adds the root to the
    /// `ca` trust store. Nothing existing is overwritten; if a step fails, files already written are removed.
    pub fn generate_test_certificate(
        &self,
        name: &str,
        options: &TestCertificateOptions,
    ) -> Result<TestCertificate, ConfigError> {
        check_key_name(name)?;
        if options.validity_days == 0 {
            return Err(ConfigError::InvalidValidity(0));
        }
        let store_name = options.trust_store.as_deref().unwrap_or(name);
        let store = StoreRef::new(TrustStoreKind::Ca, store_name)
            .map_err(|_| ConfigError::InvalidStoreName(store_name.into()))?;
        if self.signing_keys()?.get(name).is_some() {
            return Err(ConfigError::KeyExists { name: name.into(), path: self.signing_keys_path() });
        }
        let now = key_material::now();
        let not_after = now.saturating_add(i64::from(options.validity_days) * 86_400);
        let leaf_subject = notation_style_subject(name);
        let root_subject = notation_style_subject(&format!("{name} test root"));
        let root_key = key_material::random_key(options.kind)?;
        let leaf_key = key_material::random_key(options.kind)?;
        let (root, leaf) = test_chain(&root_subject, &root_key, &leaf_subject, &leaf_key, now, not_after)
            .map_err(|source| ConfigError::Issue { subject: leaf_subject.clone(), source: source.into() })?;
        let chain = vec![leaf.clone(), root.clone()];
        validate_chain(&chain, ChainPurpose::CodeSigning, Some(now))
            .map_err(|source| ConfigError::Issue { subject: leaf_subject.clone(), source: source.into() })?;

        let file_name = format!("{name}.crt");
        let root_file = self.trust_store_path(&store).join(&file_name);
        let root_pem = certificates_pem(std::slice::from_ref(&root), &root_file)?;
        let trust_store_file = self.prepare_certificate(&store, &file_name, root_pem.as_bytes(), &root_file)?;
        regular_file::write_new(&trust_store_file, root_pem.as_bytes())?;
        match self.store_local_key(name, &leaf_key, chain, options.make_default) {
            Ok(key) => Ok(TestCertificate { key, trust_store: store, trust_store_file, root, leaf }),
            Err(e) => {
                // Best effort: the registration error is what the user needs to see.
                let _ = self.delete_certificates(&store, &super::DeleteTarget::File(file_name));
                Err(e)
            }
        }
    }
}
