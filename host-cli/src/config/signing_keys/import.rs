//! Importing an existing key and its certificate chain (`nv2 key import`): what notation users ask for most
//! (notation issue #539; notation itself can only register plugin keys).
//!
//! The key may be PKCS#8 or SEC1, PEM or DER; the chain PEM or DER, leaf first, root included. Before anything is
//! written the key must belong to the leaf and the chain must be a valid Notary Project code-signing chain now
//! (the same checks notation applies when it signs). The copies in `localkeys/` are normalised to PEM (PKCS#8 for
//! the key), which both nv2 and notation read.

use std::path::Path;

use nv2_core::x509::{check_signing_key_pair, parse_certificates, validate_chain, ChainPurpose, X509Error};

use super::StoredKey;
use crate::config::key_material::{self, MAX_CERTIFICATE_FILE_BYTES, MAX_KEY_BYTES};
use crate::config::{regular_file, ConfigDir, ConfigError};

impl ConfigDir {
    /// Imports the private key at `key_path` and the chain at `chain_path` as key `name`, copying them to
    /// `localkeys/<name>.key` (0600) and `localkeys/<name>.crt` and registering them (as default when
    /// `make_default`). Refuses keys nv2 cannot sign with, mismatched pairs and invalid chains.
    pub fn import_key(
        &self,
        name: &str,
        key_path: &Path,
        chain_path: &Path,
        make_default: bool,
    ) -> Result<StoredKey, ConfigError> {
        super::check_key_name(name)?;
        let key_bytes = regular_file::read_input(key_path, MAX_KEY_BYTES)?;
        let key = key_material::parse_private_key(&key_bytes, key_path)?;
        let chain_bytes = regular_file::read_input(chain_path, MAX_CERTIFICATE_FILE_BYTES)?;
        let chain = parse_certificates(&chain_bytes)
            .map_err(|source| ConfigError::Certificates { path: chain_path.into(), source: source.into() })?;
        let leaf = chain.first().ok_or_else(|| ConfigError::Certificates {
            path: chain_path.into(),
            source: X509Error::NoCertificate.into(),
        })?;
        let now = key_material::now();
        check_signing_key_pair(&key_bytes, leaf, now).map_err(|e| match e {
            X509Error::KeyMismatch => {
                ConfigError::KeyCertificateMismatch { key_path: key_path.into(), cert_path: chain_path.into() }
            }
            source => ConfigError::SigningChain { path: chain_path.into(), source: source.into() },
        })?;
        validate_chain(&chain, ChainPurpose::CodeSigning, Some(now))
            .map_err(|source| ConfigError::SigningChain { path: chain_path.into(), source: source.into() })?;
        self.store_local_key(name, &key, chain, make_default)
    }
}
