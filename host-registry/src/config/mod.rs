//! Configuration: built-in defaults, overridden by a TOML file, overridden by environment variables and flags.
//!
//! `nv2-registry serve` with nothing else runs a usable registry (127.0.0.1:5000, `./nv2-data`, no auth), which is
//! what a developer wants; the file and flags exist for the public, private and air-gapped deployments.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::auth::{AuthScheme, Grant};

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML for this schema.
    #[error("config file {path} is invalid: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// What happens to referrers when their subject manifest is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OrphanPolicy {
    /// Keep referrers (they stay listed under the subject digest, as the spec allows pushing them first).
    #[default]
    Keep,
    /// Delete every referrer of the deleted subject, recursively.
    Delete,
}

/// Who may pull and push.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AccessMode {
    /// No authentication at all (the zero-config default; loopback development).
    #[default]
    Open,
    /// Anonymous pull, authenticated push and delete.
    Public,
    /// Authenticated pull, push and delete.
    Private,
    /// Pull only; content arrives by import.
    ReadOnly,
}

/// The complete, resolved settings of a running registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Storage root directory.
    pub data_dir: PathBuf,
    /// Largest manifest accepted (larger → 413).
    pub max_manifest_bytes: u64,
    /// Largest blob accepted, 0 for no limit.
    pub max_blob_bytes: u64,
    /// Most referrers returned on one page (a `Link` header points at the rest).
    pub referrers_page_size: usize,
    /// Largest `n` honoured on tags and catalog listings.
    pub max_list_page: usize,
    /// What deleting a subject does to its referrers.
    pub orphan_policy: OrphanPolicy,
    /// Allow `POST ?mount=` without `from` to mount any blob the registry holds.
    pub automatic_mount: bool,
    /// Allow DELETE of manifests, tags and blobs.
    pub allow_delete: bool,
    /// Access mode.
    pub access: AccessMode,
    /// Upload sessions idle longer than this many seconds are removed.
    pub upload_expiry_secs: u64,
    /// Seconds a client may take to send request headers.
    pub header_timeout_secs: u64,
    /// Seconds a client may pause while sending a body.
    pub body_idle_timeout_secs: u64,
    /// Origins allowed by CORS (`*` for any); empty disables CORS headers.
    pub cors_origins: Vec<String>,
    /// Log as JSON lines.
    pub log_json: bool,
    /// htpasswd file with bcrypt entries (needed by the public and private modes).
    pub htpasswd: Option<PathBuf>,
    /// Credential scheme announced to clients.
    pub auth_scheme: AuthScheme,
    /// Token realm URL announced in Bearer challenges (default: `http://<Host>/auth/token`).
    pub token_realm: Option<String>,
    /// Token service name.
    pub token_service: String,
    /// Token lifetime in seconds.
    pub token_ttl_secs: u64,
    /// Per-user repository grants; empty means every authenticated user may do everything.
    pub grants: Vec<Grant>,
    /// Seconds between online garbage collections, 0 to disable.
    pub gc_interval_secs: u64,
    /// Content younger than this many seconds is never collected.
    pub gc_grace_secs: u64,
    /// Collect untagged manifests that nothing live refers to (referrers of live manifests are always kept).
    pub gc_delete_untagged: bool,
    /// PEM certificate chain; with `tls_key`, serve HTTPS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key.
    pub tls_key: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: SocketAddr::from(([127, 0, 0, 1], 5000)),
            data_dir: PathBuf::from("./nv2-data"),
            max_manifest_bytes: 4 * 1024 * 1024,
            max_blob_bytes: 0,
            referrers_page_size: 1000,
            max_list_page: 10_000,
            orphan_policy: OrphanPolicy::Keep,
            automatic_mount: true,
            allow_delete: true,
            access: AccessMode::Open,
            upload_expiry_secs: 24 * 3600,
            header_timeout_secs: 30,
            body_idle_timeout_secs: 60,
            cors_origins: Vec::new(),
            log_json: false,
            htpasswd: None,
            auth_scheme: AuthScheme::Basic,
            token_realm: None,
            token_service: "nv2-registry".to_owned(),
            token_ttl_secs: 300,
            grants: Vec::new(),
            gc_interval_secs: 3600,
            gc_grace_secs: 3600,
            gc_delete_untagged: false,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl Settings {
    /// Reads a TOML config file on top of the defaults.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.to_owned(), source: Box::new(source) })
    }

    /// Checks value ranges after every source was applied.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.referrers_page_size == 0 || self.max_list_page == 0 {
            return Err(ConfigError::Invalid("page sizes must be at least 1".into()));
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Invalid("tls_cert and tls_key go together".into()));
        }
        // The core's manifest parser reads at most this much, so a larger setting could not be honoured.
        let ceiling = nv2_core::limits::MAX_MANIFEST_BYTES as u64;
        if self.max_manifest_bytes == 0 || self.max_manifest_bytes > ceiling {
            return Err(ConfigError::Invalid(format!("max-manifest-bytes must be between 1 and {ceiling}")));
        }
        Ok(())
    }

    /// Upload expiry as a duration.
    pub fn upload_expiry(&self) -> Duration {
        Duration::from_secs(self.upload_expiry_secs)
    }
}

/// Flags of `nv2-registry serve`; every flag also reads an `NV2_REGISTRY_*` environment variable and overrides the
/// config file.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML config file (keys are the long flag names with `_` instead of `-`, e.g. `data_dir = "/srv/nv2"`).
    #[arg(long, short = 'c', env = "NV2_REGISTRY_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:5000].
    #[arg(long, env = "NV2_REGISTRY_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Storage root directory [default: ./nv2-data].
    #[arg(long, env = "NV2_REGISTRY_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Largest manifest accepted in bytes; larger pushes get 413 [default: 4194304].
    #[arg(long, env = "NV2_REGISTRY_MAX_MANIFEST_BYTES")]
    pub max_manifest_bytes: Option<u64>,
    /// Largest blob accepted in bytes, 0 = unlimited [default: 0].
    #[arg(long, env = "NV2_REGISTRY_MAX_BLOB_BYTES")]
    pub max_blob_bytes: Option<u64>,
    /// Referrers per page before a `Link: rel="next"` header [default: 1000].
    #[arg(long, env = "NV2_REGISTRY_REFERRERS_PAGE_SIZE")]
    pub referrers_page_size: Option<usize>,
    /// What deleting a subject does to its referrers: keep them, or delete them recursively [default: keep].
    #[arg(long, env = "NV2_REGISTRY_ORPHAN_POLICY", value_enum)]
    pub orphan_policy: Option<OrphanPolicy>,
    /// Mount blobs found anywhere in the registry when `from` is absent (true|false) [default: true].
    #[arg(long, env = "NV2_REGISTRY_AUTOMATIC_MOUNT")]
    pub automatic_mount: Option<bool>,
    /// Allow deleting manifests, tags and blobs (true|false) [default: true].
    #[arg(long, env = "NV2_REGISTRY_ALLOW_DELETE")]
    pub allow_delete: Option<bool>,
    /// Access mode: open (no auth), public, private, read-only [default: open].
    #[arg(long, env = "NV2_REGISTRY_ACCESS", value_enum)]
    pub access: Option<AccessMode>,
    /// Seconds after which an idle upload session is removed [default: 86400].
    #[arg(long, env = "NV2_REGISTRY_UPLOAD_EXPIRY_SECS")]
    pub upload_expiry_secs: Option<u64>,
    /// CORS allowed origin, repeatable (`*` for any) [default: none].
    #[arg(long = "cors-origin", env = "NV2_REGISTRY_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Log as JSON lines.
    #[arg(long, env = "NV2_REGISTRY_LOG_JSON")]
    pub log_json: bool,
    /// htpasswd file (bcrypt entries, `htpasswd -B`) with the users of the public and private modes.
    #[arg(long, env = "NV2_REGISTRY_HTPASSWD")]
    pub htpasswd: Option<PathBuf>,
    /// Credential scheme: basic (HTTP Basic) or token (Docker token flow via /auth/token) [default: basic].
    #[arg(long, env = "NV2_REGISTRY_AUTH_SCHEME", value_enum)]
    pub auth_scheme: Option<AuthScheme>,
    /// Token realm URL for Bearer challenges [default: http://<Host>/auth/token].
    #[arg(long, env = "NV2_REGISTRY_TOKEN_REALM")]
    pub token_realm: Option<String>,
    /// Token lifetime in seconds [default: 300].
    #[arg(long, env = "NV2_REGISTRY_TOKEN_TTL_SECS")]
    pub token_ttl_secs: Option<u64>,
    /// Seconds between online garbage collections, 0 = off [default: 3600].
    #[arg(long, env = "NV2_REGISTRY_GC_INTERVAL_SECS")]
    pub gc_interval_secs: Option<u64>,
    /// Never collect content younger than this many seconds [default: 3600].
    #[arg(long, env = "NV2_REGISTRY_GC_GRACE_SECS")]
    pub gc_grace_secs: Option<u64>,
    /// Collect untagged manifests nothing live refers to (true|false) [default: false].
    #[arg(long, env = "NV2_REGISTRY_GC_DELETE_UNTAGGED")]
    pub gc_delete_untagged: Option<bool>,
    /// PEM certificate chain file; together with --tls-key the registry serves HTTPS (rustls).
    #[arg(long, env = "NV2_REGISTRY_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key file for --tls-cert.
    #[arg(long, env = "NV2_REGISTRY_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

impl ServeArgs {
    /// Resolves defaults, then the config file, then flags and environment.
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        let mut s = match &self.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        if let Some(v) = self.listen {
            s.listen = v;
        }
        if let Some(v) = &self.data_dir {
            s.data_dir = v.clone();
        }
        if let Some(v) = self.max_manifest_bytes {
            s.max_manifest_bytes = v;
        }
        if let Some(v) = self.max_blob_bytes {
            s.max_blob_bytes = v;
        }
        if let Some(v) = self.referrers_page_size {
            s.referrers_page_size = v;
        }
        if let Some(v) = self.orphan_policy {
            s.orphan_policy = v;
        }
        if let Some(v) = self.automatic_mount {
            s.automatic_mount = v;
        }
        if let Some(v) = self.allow_delete {
            s.allow_delete = v;
        }
        if let Some(v) = self.access {
            s.access = v;
        }
        if let Some(v) = self.upload_expiry_secs {
            s.upload_expiry_secs = v;
        }
        if !self.cors_origins.is_empty() {
            s.cors_origins = self.cors_origins.clone();
        }
        if self.log_json {
            s.log_json = true;
        }
        if let Some(v) = &self.htpasswd {
            s.htpasswd = Some(v.clone());
        }
        if let Some(v) = self.auth_scheme {
            s.auth_scheme = v;
        }
        if let Some(v) = &self.token_realm {
            s.token_realm = Some(v.clone());
        }
        if let Some(v) = self.token_ttl_secs {
            s.token_ttl_secs = v;
        }
        if let Some(v) = self.gc_interval_secs {
            s.gc_interval_secs = v;
        }
        if let Some(v) = self.gc_grace_secs {
            s.gc_grace_secs = v;
        }
        if let Some(v) = self.gc_delete_untagged {
            s.gc_delete_untagged = v;
        }
        if let Some(v) = &self.tls_cert {
            s.tls_cert = Some(v.clone());
        }
        if let Some(v) = &self.tls_key {
            s.tls_key = Some(v.clone());
        }
        s.validate()?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "data_dir = \"/srv/x\"\norphan_policy = \"delete\"\nreferrers_page_size = 7\n").unwrap();
        let args = ServeArgs { config: Some(path.clone()), referrers_page_size: Some(9), ..Default::default() };
        let s = args.resolve().unwrap();
        assert_eq!(s.data_dir, PathBuf::from("/srv/x"));
        assert_eq!(s.orphan_policy, OrphanPolicy::Delete);
        assert_eq!(s.referrers_page_size, 9);
        assert_eq!(s.listen.port(), 5000);

        std::fs::write(&path, "unknown_key = 1\n").unwrap();
        assert!(matches!(args.resolve(), Err(ConfigError::Parse { .. })));
        let zero = ServeArgs { referrers_page_size: Some(0), ..Default::default() };
        assert!(matches!(zero.resolve(), Err(ConfigError::Invalid(_))));
    }
}
