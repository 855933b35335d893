//! `nv2 admission serve`: the Kubernetes admission server (issue 6). It answers Gatekeeper's external data calls
//! (`/gatekeeper/verify`, `/gatekeeper/mutate`) and, without Gatekeeper, admission webhooks (`/validate`,
//! `/mutate`), refusing every image whose Notary signature does not verify against the trust policy. The contract
//! is in `deploy/README.md`.
//!
//! - [`policy_module`]: the policy module (`nv2-policy.wasm`) in wasmtime. Its verdict is the verdict, so the
//!   server judges exactly as `nv2 verify` does (the differential test holds the module to the native pipeline).
//! - [`policy_dir`]: the trust policy, stores and `admission.json` rules, reloaded when they change.
//! - [`verifier`]: one image: resolve, fetch signatures, ask the module; cache, concurrency limit, deadline.
//! - [`sbom_rule`]: the optional SBoM requirement and package/licence deny lists.
//! - [`review`] and [`gatekeeper`]: the two wire protocols.
//! - [`tls`] and [`server`]: HTTPS (TLS 1.3, optional client certificates per route) and routing.
//! - [`command`]: the CLI entry point.

pub mod command;
pub mod gatekeeper;
pub mod policy_dir;
pub mod policy_module;
pub mod review;
pub mod sbom_rule;
pub mod server;
pub mod tls;
pub mod verifier;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use policy_dir::{AdmissionRules, PolicyDir, PolicySnapshot};
pub use policy_module::{ModuleError, ModuleLimits, PolicyModule};
pub use verifier::{ImageOutcome, ImageVerifier, VerifiedImage, VerifierSettings};

use crate::registry::RegistryClient;

/// How often the policy directory is checked for changes.
const RELOAD_INTERVAL: Duration = Duration::from_secs(2);

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdmissionError {
    /// The policy directory (trust policy, stores) is unusable.
    #[error("policy directory: {0}")]
    Config(crate::config::ConfigError),
    /// A file of the policy directory is unusable (`admission.json`, a store file).
    #[error("{path}: {reason}")]
    PolicyDir {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The policy module cannot be found or loaded.
    #[error(transparent)]
    Module(#[from] ModuleError),
    /// A TLS certificate, key or client CA file is unusable.
    #[error("TLS: {path}: {reason}")]
    Tls {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The listen address cannot be bound.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The address.
        address: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// Everything `serve` needs.
pub struct ServeOptions {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// PEM certificate chain of the server.
    pub tls_cert: PathBuf,
    /// PEM private key of the server.
    pub tls_key: PathBuf,
    /// PEM CA certificates whose client certificates the admission routes require.
    pub client_ca: Option<PathBuf>,
    /// The policy directory (notation's layout).
    pub policy_dir: PathBuf,
    /// The policy module file (see [`PolicyModule::locate`] for the default).
    pub policy_module: Option<PathBuf>,
    /// Fuel and memory per module call.
    pub module_limits: ModuleLimits,
    /// Cache, concurrency and deadline settings.
    pub verifier: VerifierSettings,
    /// The registry client (credentials, plain-HTTP hosts, CA roots).
    pub client: RegistryClient,
}

/// A server that is loaded and bound but not yet serving.
pub struct BoundServer {
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Arc<server::App>,
    module_path: PathBuf,
}

impl BoundServer {
    /// Loads the module and the policy directory, reads the TLS files and binds the address: every
    /// configuration error surfaces here, before anything is served.
    pub async fn bind(options: ServeOptions) -> Result<Self, AdmissionError> {
        let module_path = PolicyModule::locate(options.policy_module.as_deref())?;
        let limits = options.module_limits;
        let path = module_path.clone();
        let module = tokio::task::spawn_blocking(move || PolicyModule::load(&path, limits))
            .await
            .map_err(|e| ModuleError::Load { path: module_path.clone(), reason: e.to_string() })??;
        let policy = Arc::new(PolicyDir::open(&options.policy_dir)?);
        let tls = tls::server_config(&options.tls_cert, &options.tls_key, options.client_ca.as_deref())?;
        let listener = tokio::net::TcpListener::bind(options.listen)
            .await
            .map_err(|source| AdmissionError::Listen { address: options.listen, source })?;
        let verifier = ImageVerifier::new(options.client, policy, Arc::new(module), options.verifier);
        let app = Arc::new(server::App { verifier, require_client_certificate: options.client_ca.is_some() });
        Ok(BoundServer { listener, tls, app, module_path })
    }

    /// The address actually bound (the port of `:0`).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    /// The policy module file in use.
    pub fn module_path(&self) -> &std::path::Path {
        &self.module_path
    }

    /// Serves until `shutdown` completes, reloading the policy directory when its files change.
    pub async fn serve(self, shutdown: impl std::future::Future<Output = ()>) {
        let policy = Arc::clone(self.app.verifier.policy());
        let reloader = tokio::spawn(async move {
            loop {
                tokio::time::sleep(RELOAD_INTERVAL).await;
                let policy = Arc::clone(&policy);
                match tokio::task::spawn_blocking(move || policy.reload_if_changed()).await {
                    Ok(Ok(true)) => tracing::info!("policy directory reloaded"),
                    Ok(Ok(false)) => {}
                    Ok(Err(e)) => tracing::warn!("policy directory changed but is unusable, keeping the last one: {e}"),
                    Err(e) => tracing::warn!("policy reload failed: {e}"),
                }
            }
        });
        server::serve(self.listener, self.tls, self.app, shutdown).await;
        reloader.abort();
    }
}
