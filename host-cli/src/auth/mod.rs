//! Registry credentials, kept where docker, oras and notation keep them: docker's `config.json`.
//!
//! A [`CredentialStore`] reads `auths` entries (`auth` = base64 `user:pass`, or `username`/`password`, or an
//! `identitytoken`), and asks credential helpers (`credHelpers` per registry, `credsStore` for all) through the
//! docker credential-helper protocol. [`CredentialStore::login`] stores through the configured helper when there
//! is one and in `auths` otherwise, rewriting the file atomically and keeping every key it does not own, so a
//! user's docker configuration never loses content because nv2 touched it.

mod docker_config;
mod helper;

use std::fmt;
use std::path::{Path, PathBuf};

pub use docker_config::{config_key, same_registry};

use docker_config::ConfigFile;
use helper::Helper;

/// The credential for one registry.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Credential {
    /// User name and password (or a personal access token used as password), sent as HTTP Basic or exchanged
    /// for a bearer token.
    Basic {
        /// User name.
        username: String,
        /// Password or access token.
        password: String,
    },
    /// An OAuth2 refresh token ("identity token"), exchanged for bearer tokens with `grant_type=refresh_token`.
    IdentityToken(String),
    /// No credential: anonymous access.
    #[default]
    None,
}

impl Credential {
    /// Whether this is [`Credential::None`].
    pub fn is_none(&self) -> bool {
        matches!(self, Credential::None)
    }
}

/// Secrets never reach logs or error messages through `{:?}`.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => {
                f.debug_struct("Basic").field("username", username).field("password", &"<redacted>").finish()
            }
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
            Credential::None => f.write_str("None"),
        }
    }
}

/// Why credentials could not be read, stored or erased.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Neither `DOCKER_CONFIG` nor `HOME` is set, so there is no default `config.json`.
    #[error("cannot locate docker config.json: neither DOCKER_CONFIG nor HOME is set")]
    NoConfigLocation,
    /// The config file exists but could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The config file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The config file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The config file is not the JSON docker writes (bad syntax, `auths` not an object, bad base64, ...).
    #[error("malformed docker config {path}: {reason}")]
    MalformedConfig {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A credential helper named by the config is not installed.
    #[error("credential helper {helper} not found (searched {searched}); install it or remove it from {config}")]
    HelperMissing {
        /// The helper program (`docker-credential-<name>`).
        helper: String,
        /// Where it was looked for.
        searched: String,
        /// The config file naming it.
        config: String,
    },
    /// A credential helper ran but failed or answered something unreadable.
    #[error("credential helper {helper} failed to {action} credentials for {server}: {reason}")]
    HelperFailed {
        /// The helper program.
        helper: String,
        /// `get`, `store` or `erase`.
        action: &'static str,
        /// The server the credentials are for.
        server: String,
        /// What went wrong (its output, exit status, or timeout).
        reason: String,
    },
    /// `login` was given no credential to store.
    #[error("nothing to store for {server}: the credential is empty")]
    EmptyCredential {
        /// The server.
        server: String,
    },
    /// The store has no config file (built with [`CredentialStore::empty`]), so nothing can be stored.
    #[error("no docker config file is configured, so credentials for {server} cannot be stored")]
    NoConfigFile {
        /// The server.
        server: String,
    },
}

/// Where [`CredentialStore::login`] put a credential (the CLI warns about plaintext storage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredIn {
    /// A credential helper (`docker-credential-<name>`).
    Helper(String),
    /// The `auths` map of this config file, base64-encoded but not encrypted.
    ConfigFile(PathBuf),
}

/// Credentials from a docker `config.json` and its credential helpers.
#[derive(Clone, Debug, Default)]
pub struct CredentialStore {
    path: Option<PathBuf>,
    helper_dirs: Option<Vec<PathBuf>>,
}

impl CredentialStore {
    /// The store over an explicit config file (`--registry-config`); the file need not exist yet.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        CredentialStore { path: Some(path.into()), helper_dirs: None }
    }

    /// The store over docker's default file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub fn default_location() -> Result<Self, AuthError> {
        Self::default_path().map(Self::at).ok_or(AuthError::NoConfigLocation)
    }

    /// Docker's default config file path, when `DOCKER_CONFIG` or `HOME` tells where it is.
    pub fn default_path() -> Option<PathBuf> {
        let non_empty = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        non_empty("DOCKER_CONFIG")
            .map(|dir| dir.join("config.json"))
            .or_else(|| non_empty("HOME").map(|home| home.join(".docker").join("config.json")))
    }

    /// A store with no file: every registry is anonymous and nothing can be stored.
    pub fn empty() -> Self {
        CredentialStore::default()
    }

    /// Looks credential helpers up only in `dirs` instead of `PATH` (tests, and installs that keep helpers in a
    /// private directory).
    pub fn with_helper_dirs(mut self, dirs: Vec<PathBuf>) -> Self {
        self.helper_dirs = Some(dirs);
        self
    }

    /// The config file this store reads and writes.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The credential for `registry` (`host[:port]`, or `docker.io`): the registry's `credHelpers` entry, else
    /// `credsStore`, else the `auths` entry; [`Credential::None`] when none has one. A helper that is named but
    /// missing or failing is an error, never a silent anonymous fallback.
    pub fn get(&self, registry: &str) -> Result<Credential, AuthError> {
        let Some(path) = &self.path else { return Ok(Credential::None) };
        let config = ConfigFile::load(path)?;
        if let Some(name) = config.helper_for(registry)? {
            let found = self.helper(&name, path)?.get(&config_key(registry))?;
            if !found.is_none() || config.creds_store()?.as_deref() != Some(name.as_str()) {
                return Ok(found);
            }
            // The global store has nothing for this registry: a plaintext `auths` entry may still have it.
        }
        config.auth_entry(registry)
    }

    /// Stores `credential` for `registry`: through the registry's credential helper (`credHelpers`, else
    /// `credsStore`) when one is configured, else base64-encoded in `auths`, keeping every other key of the file.
    pub fn login(&self, registry: &str, credential: &Credential) -> Result<StoredIn, AuthError> {
        if credential.is_none() {
            return Err(AuthError::EmptyCredential { server: registry.to_owned() });
        }
        let Some(path) = &self.path else { return Err(AuthError::NoConfigFile { server: registry.to_owned() }) };
        let mut config = ConfigFile::load(path)?;
        if let Some(name) = config.helper_for(registry)? {
            let helper = self.helper(&name, path)?;
            helper.store(&config_key(registry), credential)?;
            return Ok(StoredIn::Helper(helper.program()));
        }
        config.set_auth_entry(registry, credential)?;
        config.save()?;
        Ok(StoredIn::ConfigFile(config.path().to_owned()))
    }

    /// Removes the credential for `registry` from its helper and from `auths` (every spelling of the registry);
    /// returns whether anything was removed. Other entries and keys are kept.
    pub fn logout(&self, registry: &str) -> Result<bool, AuthError> {
        let Some(path) = &self.path else { return Ok(false) };
        let mut config = ConfigFile::load(path)?;
        let mut removed = false;
        if let Some(name) = config.helper_for(registry)? {
            removed |= self.helper(&name, path)?.erase(&config_key(registry))?;
        }
        if config.remove_auth_entries(registry)? {
            config.save()?;
            removed = true;
        }
        Ok(removed)
    }

    fn helper(&self, name: &str, config: &Path) -> Result<Helper, AuthError> {
        Helper::find(name, self.helper_dirs.as_deref(), config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let basic = Credential::Basic { username: "alice".into(), password: "s3cret".into() };
        let text = format!("{basic:?} {:?}", Credential::IdentityToken("tok3n".into()));
        assert!(text.contains("alice") && !text.contains("s3cret") && !text.contains("tok3n"), "{text}");
    }

    #[test]
    fn a_store_without_file_is_anonymous_and_cannot_store() {
        let store = CredentialStore::empty();
        assert_eq!(store.get("example.com").unwrap(), Credential::None);
        assert!(!store.logout("example.com").unwrap());
        let basic = Credential::Basic { username: "a".into(), password: "b".into() };
        assert!(matches!(store.login("example.com", &basic), Err(AuthError::NoConfigFile { .. })));
        assert!(matches!(store.login("example.com", &Credential::None), Err(AuthError::EmptyCredential { .. })));
    }
}
