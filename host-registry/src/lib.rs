//! nv2-registry: an OCI distribution-spec v1.1 registry built for linked artifacts.
//!
//! Signatures and SBoMs live next to the image they describe; this registry stores them byte-exact and answers
//! "what links to this digest?" from an index kept at write time (OCI referrers API, plus the prototype-2 and ORAS
//! 2021 shapes of the same question). Storage is content-addressed, verified while streaming and crash-safe.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod auth;
pub mod config;
pub mod content;
pub mod http;
pub mod registry;
pub mod storage;

use std::sync::Arc;
use std::time::Duration;

use config::Settings;
use storage::FilesystemStorage;

/// Why the registry could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Opening storage or rebuilding indexes failed.
    #[error("cannot open registry: {0}")]
    Registry(#[from] registry::RegistryError),
    /// Opening the storage root failed.
    #[error("cannot open storage: {0}")]
    Storage(#[from] storage::StorageError),
    /// Binding or serving failed.
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
    /// The server loop failed.
    #[error(transparent)]
    Serve(#[from] http::ServeError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] http::tls::TlsError),
    /// Access control could not be set up.
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
}

/// Garbage collection options from settings.
pub fn gc_options(settings: &Settings, dry_run: bool) -> registry::GcOptions {
    registry::GcOptions {
        dry_run,
        delete_untagged: settings.gc_delete_untagged,
        grace: Duration::from_secs(settings.gc_grace_secs),
    }
}

/// Runs one garbage collection over the storage of `settings` (for a stopped registry; a running one collects
/// online every `gc_interval_secs`).
pub async fn collect_garbage(settings: Settings, dry_run: bool) -> Result<registry::GcReport, RunError> {
    let storage = Arc::new(FilesystemStorage::open(&settings.data_dir).await?);
    let options = gc_options(&settings, dry_run);
    let registry = registry::Registry::open(storage, settings).await?;
    Ok(registry.gc(options).await?)
}

/// Runs a registry with `settings` until `shutdown` resolves, listening on `settings.listen`.
pub async fn run(settings: Settings, shutdown: impl std::future::Future<Output = ()>) -> Result<(), RunError> {
    let listener = tokio::net::TcpListener::bind(settings.listen).await?;
    let scheme = if settings.tls_cert.is_some() { "https" } else { "http" };
    let local = listener.local_addr()?;
    // Machine-readable readiness line (tests and scripts wait for it).
    println!("nv2-registry listening on {scheme}://{local}");
    run_on(settings, listener, shutdown).await
}

/// Runs a registry with `settings` on an already bound `listener` until `shutdown` resolves: how `nv2 demo` embeds
/// registries on free ports it picked itself, in-process.
pub async fn run_on(
    settings: Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), RunError> {
    let auth = auth::Auth::from_settings(&settings)?;
    let tls = match (&settings.tls_cert, &settings.tls_key) {
        (Some(cert), Some(key)) => Some(http::tls::acceptor(cert, key)?),
        _ => None,
    };
    let storage = Arc::new(FilesystemStorage::open(&settings.data_dir).await?);
    let registry = registry::Registry::open(storage, settings).await?;
    let app = Arc::new(http::App::new(registry, auth));
    tracing::info!(address = %listener.local_addr()?, "nv2-registry listening");

    let expiry_app = app.clone();
    let expiry = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            match expiry_app.registry.expire_uploads().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(removed = n, "expired abandoned uploads"),
                Err(e) => tracing::warn!(error = %e, "upload expiry failed"),
            }
        }
    });
    let gc_app = app.clone();
    let gc = tokio::spawn(async move {
        let settings = gc_app.registry.settings().clone();
        if settings.gc_interval_secs == 0 {
            return;
        }
        let mut tick = tokio::time::interval(Duration::from_secs(settings.gc_interval_secs));
        tick.tick().await;
        loop {
            tick.tick().await;
            match gc_app.registry.gc(gc_options(&settings, false)).await {
                Ok(r) => tracing::info!(
                    manifests = r.manifests.len(),
                    links = r.links,
                    blobs = r.blobs,
                    bytes = r.bytes,
                    "garbage collection done"
                ),
                Err(e) => tracing::warn!(error = %e, "garbage collection failed"),
            }
        }
    });
    let result = http::serve(app, listener, tls, shutdown, Duration::from_secs(60)).await;
    expiry.abort();
    gc.abort();
    result.map_err(RunError::from)
}
