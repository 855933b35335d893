//! What every command needs besides its own arguments: the global options, the configuration directory, the
//! progress display, and (once asked for) registry clients and opened content stores.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use nv2_core::crypto::KeyKind;
use nv2_core::oci::{Descriptor, Reference};
use nv2_core::x509::TrustStoreKind;

use super::args::{GlobalOptions, KeyType, OutputFormat, StoreType, TargetArgs};
use super::error::CliError;
use crate::auth::{Credential, CredentialStore};
use crate::config::ConfigDir;
use crate::content::{ContentStore, OciLayout, Progress};
use crate::registry::{ClientOptions, CredentialSource, ReferrersMode, RegistryClient, Repository};

/// The state shared by the commands of one run.
pub struct Context {
    /// Options every command understands.
    pub global: GlobalOptions,
    config: ConfigDir,
    client: OnceLock<RegistryClient>,
}

impl Context {
    /// A context for `global`.
    pub fn new(global: GlobalOptions) -> Self {
        let config = ConfigDir::locate(global.config.as_deref());
        Context { global, config, client: OnceLock::new() }
    }

    /// Where registry credentials are kept: `--registry-config`, else the docker config.
    pub fn credential_store(&self) -> Result<CredentialStore, CliError> {
        match &self.global.registry_config {
            Some(path) => Ok(CredentialStore::at(path.clone())),
            None => CredentialStore::default_location().map_err(|e| CliError::Failed(e.to_string())),
        }
    }

    /// The registry client of this run (built once: it caches tokens and referrers capabilities).
    pub fn client(&self) -> Result<&RegistryClient, CliError> {
        if let Some(client) = self.client.get() {
            return Ok(client);
        }
        let credentials = match (&self.global.username, &self.global.password) {
            (Some(username), Some(password)) => {
                CredentialSource::Fixed(Credential::Basic { username: username.clone(), password: password.clone() })
            }
            (None, Some(token)) => CredentialSource::Fixed(Credential::IdentityToken(token.clone())),
            (Some(_), None) => return Err(CliError::Usage("--username needs --password (or NV2_PASSWORD)".into())),
            (None, None) => match self.credential_store() {
                Ok(store) => CredentialSource::Store(store),
                Err(_) => CredentialSource::Anonymous,
            },
        };
        // A malformed config.json is an error here too: ignoring it would silently drop its insecureRegistries.
        let settings = self.config.settings()?;
        let options = ClientOptions {
            plain_http: self.global.plain_http,
            plain_http_hosts: settings.insecure_registries.clone(),
            ca_file: self.global.ca_file.clone(),
            credentials,
            ..ClientOptions::default()
        };
        let client = RegistryClient::new(options).map_err(|e| CliError::Failed(e.to_string()))?;
        Ok(self.client.get_or_init(|| client))
    }

    /// The repository `reference` names.
    pub fn repository(&self, reference: &Reference) -> Result<Repository, CliError> {
        Ok(self.client()?.repository(reference))
    }

    /// Warnings the registry client collected (superseded referrers indexes it could not delete, ...).
    pub fn take_warnings(&self) -> Vec<String> {
        self.client.get().map(RegistryClient::take_warnings).unwrap_or_default()
    }

    /// Opens `target` forcing the `<alg>-<hex>` tag index for referrers (`--force-referrers-tag`).
    pub async fn open_tag_schema(&self, target: &TargetArgs) -> Result<Opened, CliError> {
        match parse_location(&target.reference, target.oci_layout)? {
            Location::Registry(reference) => {
                let store = self.repository(&reference)?.with_referrers_mode(ReferrersMode::TagSchema);
                let mut opened = self.open_location(Location::Registry(reference), false).await?;
                opened.store = Box::new(store);
                Ok(opened)
            }
            layout => self.open_location(layout, false).await,
        }
    }

    /// The configuration directory (`--config`, `$NV2_CONFIG`, `$NOTATION_CONFIG`, XDG).
    pub fn config(&self) -> &ConfigDir {
        &self.config
    }

    /// Whether output is JSON.
    pub fn json(&self) -> bool {
        self.global.output == OutputFormat::Json
    }

    /// Progress bars for a person at a terminal, nothing otherwise.
    pub fn progress(&self) -> Arc<dyn Progress> {
        super::progress::for_terminal(self.json())
    }

    /// Opens the store `target` names (a registry repository, or an OCI layout with `--oci-layout`).
    pub async fn open(&self, target: &TargetArgs) -> Result<Opened, CliError> {
        self.open_location(parse_location(&target.reference, target.oci_layout)?, false).await
    }

    /// Opens `location`; `create` makes a missing OCI layout directory (targets of copy, push, import).
    pub async fn open_location(&self, location: Location, create: bool) -> Result<Opened, CliError> {
        match location {
            Location::Layout { dir, reference } => {
                let store = if create { OciLayout::create(&dir).await? } else { OciLayout::open(&dir).await? };
                let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("layout").to_ascii_lowercase();
                Ok(Opened {
                    store: Box::new(store),
                    reference,
                    scope: format!("local/{name}"),
                    display: dir.display().to_string(),
                })
            }
            Location::Registry(reference) => {
                let store = Box::new(self.repository(&reference)?);
                let tag_or_digest = match (&reference.digest, &reference.tag) {
                    (Some(d), _) => Some(d.to_string()),
                    (None, Some(t)) => Some(t.clone()),
                    (None, None) => None,
                };
                Ok(Opened { store, reference: tag_or_digest, scope: reference.scope(), display: reference.scope() })
            }
        }
    }
}

/// Where an artifact is.
#[derive(Clone, Debug)]
pub enum Location {
    /// A registry repository, with an optional tag or digest.
    Registry(Reference),
    /// An OCI image layout directory, with an optional tag or digest.
    Layout {
        /// The directory.
        dir: PathBuf,
        /// `tag` or `alg:hex`.
        reference: Option<String>,
    },
}

/// Parses a reference argument: `registry/repo[:tag][@digest]`, or with `layout` set `<dir>[:tag|@digest]`.
pub fn parse_location(text: &str, layout: bool) -> Result<Location, CliError> {
    if !layout {
        return Ok(Location::Registry(Reference::parse(text)?));
    }
    if let Some((dir, digest)) = text.rsplit_once('@') {
        nv2_core::oci::Digest::parse(digest)?;
        return Ok(Location::Layout { dir: PathBuf::from(dir), reference: Some(digest.to_string()) });
    }
    match text.rsplit_once(':') {
        Some((dir, tag)) if !dir.is_empty() && !tag.contains('/') && nv2_core::oci::validate_tag(tag).is_ok() => {
            Ok(Location::Layout { dir: PathBuf::from(dir), reference: Some(tag.to_string()) })
        }
        _ => Ok(Location::Layout { dir: PathBuf::from(text), reference: None }),
    }
}

/// An opened store and what the argument pointed at inside it.
pub struct Opened {
    /// The store.
    pub store: Box<dyn ContentStore>,
    /// The tag or digest given, if any.
    pub reference: Option<String>,
    /// `registry/repository` (or `local/<dir>` for a layout): what trust-policy scopes match.
    pub scope: String,
    /// How to name it to a person.
    pub display: String,
}

impl Opened {
    /// Whether the argument named a digest.
    pub fn is_digest(&self) -> bool {
        self.reference.as_deref().is_some_and(|r| r.contains(':'))
    }

    /// The tag given, if the argument named one.
    pub fn tag(&self) -> Option<&str> {
        self.reference.as_deref().filter(|r| !r.contains(':'))
    }

    /// Resolves the tag or digest given (`latest` when none was) to a manifest descriptor.
    pub async fn resolve(&self) -> Result<Descriptor, CliError> {
        let reference = self.reference.as_deref().unwrap_or("latest");
        Ok(self.store.resolve(reference).await?)
    }

    /// `scope@digest`: how a resolved artifact is named in messages.
    pub fn pinned(&self, descriptor: &Descriptor) -> String {
        format!("{}@{}", self.display, descriptor.digest)
    }
}

/// Reads a whole local file, naming it on failure.
pub fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::io(path, e))
}

/// The core's key kind for a `--type` value.
pub fn key_kind(key_type: KeyType) -> KeyKind {
    match key_type {
        KeyType::P256 => KeyKind::P256,
        KeyType::P384 => KeyKind::P384,
        KeyType::Ed25519 => KeyKind::Ed25519,
    }
}

/// The core's trust-store kind for a `--type` value.
pub fn store_kind(store_type: StoreType) -> TrustStoreKind {
    match store_type {
        StoreType::Ca => TrustStoreKind::Ca,
        StoreType::SigningAuthority => TrustStoreKind::SigningAuthority,
        StoreType::Tsa => TrustStoreKind::Tsa,
    }
}
