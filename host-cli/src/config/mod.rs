//! notation's configuration directory, read and written exactly as notation does, so a notation user's directory
//! works with nv2 unchanged and notation works with what nv2 writes.
//!
//! ```text
//! <config>/config.json                         settings            (settings)
//! <config>/signingkeys.json                    key registry        (signing_keys)
//! <config>/localkeys/<name>.key|.crt           key files           (signing_keys, test_certificate)
//! <config>/trustpolicy.oci.json                OCI trust policy    (trust_policy; legacy trustpolicy.json)
//! <config>/trustpolicy.blob.json               blob trust policy   (trust_policy)
//! <config>/truststore/x509/{ca,signingAuthority,tsa}/<store>/<files>   trust stores (trust_store)
//! ```
//!
//! - [`location`]: which directory ([`ConfigLocation`]: `--config`, `NV2_CONFIG`, `NOTATION_CONFIG`, XDG, home).
//! - [`settings`]: `config.json` ([`Settings`]).
//! - [`signing_keys`]: `signingkeys.json`, generating, importing, listing, deleting and loading keys.
//! - [`trust_store`]: adding, listing, showing, deleting and loading trust stores.
//! - [`trust_policy`]: reading, importing and initialising trust policies (validated by `nv2_core::trust`).
//! - [`test_certificate`]: `cert generate-test`, a ready-to-use test PKI.
//!
//! All parsing and checking of policies, certificates and keys is the core's; this module does the file work.
//! Files are written atomically with mode 0600 in 0700 directories; configuration, policy, key and certificate
//! files must be regular files (symbolic links are refused, as notation refuses them). Every failure is a
//! [`ConfigError`] whose message names the file and the problem.

mod error;
mod json_file;
mod key_material;
pub mod location;
mod regular_file;
pub mod settings;
pub mod signing_keys;
pub mod test_certificate;
pub mod trust_policy;
pub mod trust_store;

use std::path::Path;

pub use error::{ConfigError, SigningKeysRule};
pub use location::{ConfigLocation, LocationSource};
pub use settings::Settings;
pub use signing_keys::{
    CertificateAuthority, DeletedKeys, GenerateKeyOptions, KeyEntry, KeySource, SigningKeys, StoredKey,
};
pub use test_certificate::{TestCertificate, TestCertificateOptions};
pub use trust_policy::{BlobPolicyInit, LoadedPolicy, OciPolicyInit, PolicyWritten};
pub use trust_store::{DeleteTarget, StoredCertificateFile};

/// One configuration directory. Creating the value touches nothing on disk; files and directories are created
/// when something is first written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigDir {
    location: ConfigLocation,
}

impl ConfigDir {
    /// The directory at `path` (as if given with `--config`); a relative path is made absolute, because
    /// `signingkeys.json` records absolute paths.
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self::at(ConfigLocation::resolve_with(Some(path.as_ref()), |_| None))
    }

    /// The directory a resolved [`ConfigLocation`] names.
    pub fn at(location: ConfigLocation) -> Self {
        ConfigDir { location }
    }

    /// The directory chosen by `--config` (`explicit`) and the environment, see [`location`].
    pub fn locate(explicit: Option<&Path>) -> Self {
        Self::at(ConfigLocation::resolve(explicit))
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.location.path
    }

    /// Where the directory is and which rule chose it.
    pub fn location(&self) -> &ConfigLocation {
        &self.location
    }
}
