//! How a [`super::RegistryClient`] is set up: transport (plain HTTP hosts, extra CA roots, timeouts), upload
//! chunking, where credentials come from, and how referrers are kept.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::auth::{Credential, CredentialStore};

/// Blobs above this size are uploaded in chunks of this size (8 MiB, as oras-go).
pub const DEFAULT_CHUNK_SIZE: usize = 8 * 1024 * 1024;

/// How referrers are listed and recorded (oras's `--distribution-spec v1.1-referrers-api|v1.1-referrers-tag`,
/// notation's `--force-referrers-tag`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReferrersMode {
    /// Use the referrers API where the registry has it, the `<alg>-<hex>` tag schema where it does not; detected
    /// per repository and remembered.
    #[default]
    Auto,
    /// Only the referrers API; a registry without it is an error.
    Api,
    /// Only the tag schema: pushes always update the `<alg>-<hex>` index, listings read it.
    TagSchema,
}

/// Where a client's credentials come from.
#[derive(Clone, Debug)]
pub enum CredentialSource {
    /// No credentials: anonymous access everywhere (anonymous bearer tokens are still fetched).
    Anonymous,
    /// The same credential for every registry (`-u/-p`, `--identity-token`, tests).
    Fixed(Credential),
    /// A docker `config.json` and its credential helpers, asked once per registry.
    Store(CredentialStore),
}

/// Settings of a [`super::RegistryClient`].
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Use plain HTTP for every registry (`--plain-http`).
    pub plain_http: bool,
    /// Registries (`host[:port]`) reached over plain HTTP besides the automatic loopback ones (`localhost`,
    /// `127.0.0.1`, `[::1]`, any loopback address, with or without a port).
    pub plain_http_hosts: Vec<String>,
    /// Extra PEM root certificates trusted in addition to the system's (`--ca-file`).
    pub ca_file: Option<PathBuf>,
    /// Accept any TLS certificate (`--insecure`); only for test registries.
    pub insecure_skip_tls_verify: bool,
    /// The `User-Agent` sent.
    pub user_agent: String,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// How long a response may stay silent (headers or the next body bytes) before the transfer is abandoned.
    pub read_timeout: Duration,
    /// Blobs above this size are uploaded in chunks of this size, streamed without holding the blob in memory.
    pub chunk_size: usize,
    /// Where credentials come from.
    pub credentials: CredentialSource,
    /// Default referrers behaviour of repositories (see [`super::Repository::with_referrers_mode`]).
    pub referrers_mode: ReferrersMode,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            plain_http: false,
            plain_http_hosts: Vec::new(),
            ca_file: None,
            insecure_skip_tls_verify: false,
            user_agent: concat!("nv2/", env!("CARGO_PKG_VERSION")).to_owned(),
            connect_timeout: Duration::from_secs(30),
            read_timeout: Duration::from_secs(120),
            chunk_size: DEFAULT_CHUNK_SIZE,
            credentials: CredentialSource::Anonymous,
            referrers_mode: ReferrersMode::Auto,
        }
    }
}

impl ClientOptions {
    /// Whether `registry` is reached over plain HTTP.
    pub fn uses_plain_http(&self, registry: &str) -> bool {
        self.plain_http
            || self.plain_http_hosts.iter().any(|h| h.eq_ignore_ascii_case(registry))
            || is_loopback(registry)
    }
}

/// `localhost`, or a loopback IP address, with or without a port.
fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => registry.rsplit_once(':').map_or(registry, |(host, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                host
            } else {
                registry
            }
        }),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA file could not be read.
    #[error("cannot read CA file {path}: {source}")]
    CaFileRead {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The CA file holds no usable PEM certificate.
    #[error("CA file {path} holds no usable PEM certificate: {reason}")]
    CaFileInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be set up (TLS initialisation).
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
    /// An option is out of range.
    #[error("invalid client option: {0}")]
    InvalidOption(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_use_plain_http() {
        let options = ClientOptions::default();
        for host in
            ["localhost", "localhost:5000", "127.0.0.1", "127.0.0.1:5000", "127.1.2.3:80", "[::1]", "[::1]:5000"]
        {
            assert!(options.uses_plain_http(host), "{host}");
        }
        for host in ["ghcr.io", "registry.example:5000", "10.0.0.1:5000", "localhost.example.com"] {
            assert!(!options.uses_plain_http(host), "{host}");
        }
        let explicit = ClientOptions { plain_http_hosts: vec!["registry.example:5000".into()], ..Default::default() };
        assert!(explicit.uses_plain_http("registry.example:5000"));
        assert!(ClientOptions { plain_http: true, ..Default::default() }.uses_plain_http("ghcr.io"));
    }
}
