//! Signing keys: notation's `signingkeys.json` registry and the `localkeys/` directory beside it.
//!
//! - [`document`]: the `signingkeys.json` schema ([`SigningKeys`], [`KeyEntry`], [`KeySource`]).
//! - [`generate`]: new random keys with a self-signed or CA-issued certificate (`nv2 key generate`).
//! - [`import`]: bringing an existing key and chain in (`nv2 key import`, notation issue #539).
//! - here: listing, deleting, choosing the default, and loading a key to sign with.
//!
//! Key files are written as PKCS#8 PEM with mode 0600 and chains as PEM (leaf first), in `localkeys/` (0700), so
//! notation can sign with every P-256 and P-384 key nv2 registers.

pub mod document;
pub mod generate;
pub mod import;

use std::path::{Path, PathBuf};

use nv2_core::crypto::SigningKey;
use nv2_core::x509::{parse_certificates, Certificate};

pub use document::{KeyEntry, KeySource, SigningKeys};
pub use generate::{CertificateAuthority, GenerateKeyOptions};

use super::key_material::{self, MAX_CERTIFICATE_FILE_BYTES, MAX_KEY_BYTES};
use super::{regular_file, ConfigDir, ConfigError};

/// The registry file inside the configuration directory.
pub const SIGNING_KEYS_FILE: &str = "signingkeys.json";
/// The directory holding key and certificate files nv2 (and notation) create.
pub const LOCAL_KEYS_DIR: &str = "localkeys";

/// Largest `signingkeys.json` accepted.
const MAX_SIGNING_KEYS_BYTES: usize = 4 * 1024 * 1024;

/// A key nv2 has just written and registered.
#[derive(Clone, Debug)]
pub struct StoredKey {
    /// The entry as registered in `signingkeys.json`.
    pub entry: KeyEntry,
    /// The certificate chain written to its `certPath`, leaf first.
    pub chain: Vec<Certificate>,
    /// Whether it is now the default key.
    pub is_default: bool,
}

/// What [`ConfigDir::delete_keys`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeletedKeys {
    /// The entries removed from `signingkeys.json`.
    pub removed: Vec<KeyEntry>,
    /// Whether the default key was among them (there is no default afterwards).
    pub default_cleared: bool,
    /// Key and certificate files deleted (only with `remove_files`, and only inside `localkeys/`).
    pub removed_files: Vec<PathBuf>,
    /// Files left in place although `remove_files` was asked: they live outside `localkeys/`, so nv2 did not
    /// create them and does not delete them.
    pub kept_files: Vec<PathBuf>,
}

impl ConfigDir {
    /// `signingkeys.json`.
    pub fn signing_keys_path(&self) -> PathBuf {
        self.path().join(SIGNING_KEYS_FILE)
    }

    /// `localkeys/`.
    pub fn local_keys_dir(&self) -> PathBuf {
        self.path().join(LOCAL_KEYS_DIR)
    }

    /// Reads and validates `signingkeys.json` (`nv2 key list`); a missing file means no keys.
    pub fn signing_keys(&self) -> Result<SigningKeys, ConfigError> {
        let path = self.signing_keys_path();
        match regular_file::read(self.path(), &path, MAX_SIGNING_KEYS_BYTES)? {
            None => Ok(SigningKeys::default()),
            Some(bytes) => SigningKeys::parse(&bytes, &path),
        }
    }

    fn save_signing_keys(&self, keys: &SigningKeys) -> Result<(), ConfigError> {
        let path = self.signing_keys_path();
        regular_file::write(&path, &keys.to_json(&path)?)
    }

    /// Makes `name` the default key (`nv2 key update --default NAME`).
    pub fn set_default_key(&self, name: &str) -> Result<(), ConfigError> {
        let mut keys = self.signing_keys()?;
        if keys.get(name).is_none() {
            return Err(ConfigError::KeyNotFound { name: name.into(), path: self.signing_keys_path() });
        }
        keys.default = Some(name.into());
        self.save_signing_keys(&keys)
    }

    /// Removes the named entries (`nv2 key delete NAME...`). Every name must exist, otherwise nothing changes.
    /// Key and certificate files stay unless `remove_files` is set, and even then only files inside
    /// `localkeys/` are deleted (see [`DeletedKeys::kept_files`]).
    pub fn delete_keys<S: AsRef<str>>(&self, names: &[S], remove_files: bool) -> Result<DeletedKeys, ConfigError> {
        let mut keys = self.signing_keys()?;
        let mut outcome = DeletedKeys::default();
        for name in names {
            let name = name.as_ref();
            let index = keys
                .keys
                .iter()
                .position(|k| k.name == name)
                .ok_or_else(|| ConfigError::KeyNotFound { name: name.into(), path: self.signing_keys_path() })?;
            outcome.removed.push(keys.keys.remove(index));
            if keys.default.as_deref() == Some(name) {
                keys.default = None;
                outcome.default_cleared = true;
            }
        }
        self.save_signing_keys(&keys)?;
        if remove_files {
            let local_keys = self.local_keys_dir();
            for entry in &outcome.removed {
                if let KeySource::Local { key_path, cert_path } = &entry.source {
                    for file in [key_path, cert_path] {
                        if file.parent() == Some(local_keys.as_path()) {
                            if regular_file::remove(file)? {
                                outcome.removed_files.push(file.clone());
                            }
                        } else {
                            outcome.kept_files.push(file.clone());
                        }
                    }
                }
            }
        }
        Ok(outcome)
    }

    /// Loads a key to sign with and its certificate chain (leaf first): the named key, or the default one when
    /// `name` is `None`. Plugin keys are refused; key and certificate files must be regular files that decode,
    /// and the key must belong to the leaf. The chain's Notary rules are checked when signing, at signing time.
    pub fn load_signing_key(&self, name: Option<&str>) -> Result<(SigningKey, Vec<Certificate>), ConfigError> {
        let keys = self.signing_keys()?;
        let path = self.signing_keys_path();
        let entry = match name {
            Some(name) => keys.get(name).ok_or_else(|| ConfigError::KeyNotFound { name: name.into(), path })?,
            None => keys.default_key().ok_or(ConfigError::NoDefaultKey { path })?,
        };
        let (key_path, cert_path) = match &entry.source {
            KeySource::Local { key_path, cert_path } => (key_path, cert_path),
            KeySource::Plugin { plugin_name, .. } => {
                return Err(ConfigError::PluginKey { name: entry.name.clone(), plugin: plugin_name.clone() })
            }
        };
        let key = key_material::parse_private_key(
            &regular_file::read_existing(self.path(), key_path, MAX_KEY_BYTES)?,
            key_path,
        )?;
        let chain = read_chain(self.path(), cert_path)?;
        let matches = chain.first().and_then(|leaf| leaf.public_key().ok()).is_some_and(|p| p == key.public_key());
        if !matches {
            return Err(ConfigError::KeyCertificateMismatch {
                key_path: key_path.clone(),
                cert_path: cert_path.clone(),
            });
        }
        Ok((key, chain))
    }

    /// The certificate chain registered for a local key (leaf first), for listing and inspection; works for any
    /// key type notation can use, including RSA keys nv2 cannot sign with.
    pub fn key_certificates(&self, entry: &KeyEntry) -> Result<Vec<Certificate>, ConfigError> {
        match &entry.source {
            KeySource::Local { cert_path, .. } => read_chain(self.path(), cert_path),
            KeySource::Plugin { plugin_name, .. } => {
                Err(ConfigError::PluginKey { name: entry.name.clone(), plugin: plugin_name.clone() })
            }
        }
    }

    /// Adds `entry` to `signingkeys.json` (its name must be new), optionally as the default (as in notation, a key
    /// only becomes the default when asked, even the first one).
    fn register_key(&self, entry: KeyEntry, make_default: bool) -> Result<bool, ConfigError> {
        let mut keys = self.signing_keys()?;
        if keys.get(&entry.name).is_some() {
            return Err(ConfigError::KeyExists { name: entry.name, path: self.signing_keys_path() });
        }
        if make_default {
            keys.default = Some(entry.name.clone());
        }
        keys.keys.push(entry);
        self.save_signing_keys(&keys)?;
        Ok(make_default)
    }

    /// Writes a key and its chain to `localkeys/<name>.key|.crt` and registers them, refusing to overwrite
    /// anything; on failure the files written so far are removed again.
    pub(crate) fn store_local_key(
        &self,
        name: &str,
        key: &SigningKey,
        chain: Vec<Certificate>,
        make_default: bool,
    ) -> Result<StoredKey, ConfigError> {
        check_key_name(name)?;
        if self.signing_keys()?.get(name).is_some() {
            return Err(ConfigError::KeyExists { name: name.into(), path: self.signing_keys_path() });
        }
        let key_path = self.local_keys_dir().join(format!("{name}.key"));
        let cert_path = self.local_keys_dir().join(format!("{name}.crt"));
        for path in [&key_path, &cert_path] {
            if regular_file::exists(path)? {
                return Err(ConfigError::FileExists { path: path.clone() });
            }
        }
        let key_pem = key_material::private_key_pem(key, &key_path)?;
        let chain_pem = key_material::certificates_pem(&chain, &cert_path)?;
        let entry = KeyEntry {
            name: name.into(),
            source: KeySource::Local { key_path: key_path.clone(), cert_path: cert_path.clone() },
        };
        let mut written = Vec::new();
        let result = (|| {
            regular_file::write_new(&key_path, key_pem.as_bytes())?;
            written.push(key_path.as_path());
            regular_file::write_new(&cert_path, chain_pem.as_bytes())?;
            written.push(cert_path.as_path());
            self.register_key(entry.clone(), make_default)
        })();
        match result {
            Ok(is_default) => Ok(StoredKey { entry, chain, is_default }),
            Err(e) => {
                for path in written {
                    // Best effort: the original error is what the user needs to see.
                    let _ = regular_file::remove(path);
                }
                Err(e)
            }
        }
    }
}

/// Reads a certificate chain file of the configuration directory (regular file, PEM or DER, leaf first).
fn read_chain(root: &Path, path: &Path) -> Result<Vec<Certificate>, ConfigError> {
    let bytes = regular_file::read_existing(root, path, MAX_CERTIFICATE_FILE_BYTES)?;
    parse_certificates(&bytes).map_err(|source| ConfigError::Certificates { path: path.into(), source: source.into() })
}

/// Names that become file names (`localkeys/<name>.key`) follow notation's rule `[a-zA-Z0-9_.-]+`, and may not
/// be `.` or `..`.
pub(crate) fn check_key_name(name: &str) -> Result<(), ConfigError> {
    if nv2_core::trust::store::is_valid_store_name(name) && name != "." && name != ".." {
        Ok(())
    } else {
        Err(ConfigError::InvalidKeyName(name.into()))
    }
}
