//! The HTTP face of the registry (hyper 1): accept loop with header and body timeouts, graceful shutdown, routing,
//! CORS and metrics around the handlers.

mod error;
mod handlers;
mod metrics;
pub mod route;
pub mod tls;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

pub use metrics::Metrics;

use crate::registry::Registry;

/// Response body type used throughout.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Shared state of the HTTP server.
pub struct App {
    /// The registry.
    pub registry: Registry,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    /// Access control; `None` when the registry is open.
    pub auth: Option<crate::auth::Auth>,
}

impl App {
    /// Builds the shared state.
    pub fn new(registry: Registry, auth: Option<crate::auth::Auth>) -> Self {
        App { registry, metrics: Metrics::default(), auth }
    }
}

/// Why the server stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Accepting connections failed.
    #[error("listener failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish (at most `grace`).
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()>,
    grace: Duration,
) -> Result<(), ServeError> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    let header_timeout = Duration::from_secs(app.registry.settings().header_timeout_secs.max(1));
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout)
        .max_buf_size(256 * 1024)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new()).max_header_list_size(256 * 1024);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = app.clone();
                let service = service_fn(move |req: Request<Incoming>| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(handlers::handle(app, req).await) }
                });
                let watcher = graceful.watcher();
                let builder = builder.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let result = match tls {
                        None => {
                            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                            watcher.watch(conn.into_owned()).await
                        }
                        Some(acceptor) => {
                            let Ok(Ok(stream)) = tokio::time::timeout(header_timeout, acceptor.accept(stream)).await
                            else {
                                tracing::debug!("TLS handshake failed or timed out");
                                return;
                            };
                            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                            watcher.watch(conn.into_owned()).await
                        }
                    };
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => tracing::warn!("graceful shutdown timed out"),
    }
    Ok(())
}

/// Response type alias.
pub type HttpResponse = Response<Body>;
