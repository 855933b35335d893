//! The HTTPS front: accept, TLS handshake (bounded in time), HTTP/1.1 or HTTP/2 (bounded header time, bounded
//! body size), and the routes:
//!
//! | route | answers |
//! | --- | --- |
//! | `GET /healthz` | `200 ok` (the module is loaded before the server listens); never needs a client certificate |
//! | `POST /gatekeeper/verify` | Gatekeeper `ProviderResponse`: each key's verification or error |
//! | `POST /gatekeeper/mutate` | Gatekeeper `ProviderResponse`: each key pinned to `repo@digest`, or an error |
//! | `POST /validate` | `AdmissionReview` v1: allowed, or refused (403) naming each refused image and why |
//! | `POST /mutate` | `AdmissionReview` v1: allowed with a JSON Patch pinning tags to digests, or refused |
//!
//! With `--client-ca` the four POST routes require a client certificate that chained to it (checked in the
//! handshake); without one they answer 401. A malformed `AdmissionReview` is answered 400 with the reason; a
//! malformed `ProviderRequest` 200 with `systemError` ([`super::gatekeeper`]). Handlers never panic on input.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{header, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use super::gatekeeper;
use super::review::{self, AdmissionRequest};
use super::verifier::ImageVerifier;

/// Largest request body read (an AdmissionReview of a big object is well under 1 MiB).
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Longest a TLS handshake, the request headers, or the body may take.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Most connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 4096;

/// What the handlers share.
pub struct App {
    /// Judges images.
    pub verifier: ImageVerifier,
    /// Whether the admission routes require a client certificate (`--client-ca` was given).
    pub require_client_certificate: bool,
}

/// Serves `listener` until `shutdown` completes, then waits up to 5 s for requests in flight.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<rustls::ServerConfig>,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = TlsAcceptor::from(tls);
    let connections = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = Arc::clone(&connections).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (acceptor, app) = (acceptor.clone(), Arc::clone(&app));
        tokio::spawn(async move {
            let _permit = permit;
            let _ = stream.set_nodelay(true);
            let tls = match tokio::time::timeout(IO_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => return tracing::debug!("TLS handshake with {peer} failed: {e}"),
                Err(_) => return tracing::debug!("TLS handshake with {peer} timed out"),
            };
            let client_certificate = tls.get_ref().1.peer_certificates().is_some_and(|c| !c.is_empty());
            let service = hyper::service::service_fn(move |request| {
                let app = Arc::clone(&app);
                async move { Ok::<_, Infallible>(handle(&app, client_certificate, request).await) }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder.http1().timer(TokioTimer::new()).header_read_timeout(IO_TIMEOUT);
            builder.http2().timer(TokioTimer::new()).max_concurrent_streams(256);
            if let Err(e) = builder.serve_connection(TokioIo::new(tls), service).await {
                tracing::debug!("connection from {peer}: {e}");
            }
        });
    }
    // Requests in flight finish (bounded); idle keep-alive connections are dropped with the runtime.
    let _ = tokio::time::timeout(Duration::from_secs(5), connections.acquire_many(MAX_CONNECTIONS as u32)).await;
}

/// Routes one request.
async fn handle(app: &App, client_certificate: bool, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_string();
    let admission_route =
        matches!(path.as_str(), "/gatekeeper/verify" | "/gatekeeper/mutate" | "/validate" | "/mutate");
    match (request.method(), path.as_str()) {
        (&Method::GET, "/healthz") => return text(StatusCode::OK, "ok"),
        (_, "/healthz") => return text(StatusCode::METHOD_NOT_ALLOWED, "use GET /healthz"),
        (&Method::POST, _) if admission_route => {}
        (_, _) if admission_route => return text(StatusCode::METHOD_NOT_ALLOWED, &format!("use POST {path}")),
        _ => return text(StatusCode::NOT_FOUND, &format!("no route {path}")),
    }
    if app.require_client_certificate && !client_certificate {
        return text(
            StatusCode::UNAUTHORIZED,
            &format!("{path} requires a client certificate issued by the client CA"),
        );
    }
    let body = match tokio::time::timeout(IO_TIMEOUT, Limited::new(request.into_body(), MAX_BODY_BYTES).collect()).await
    {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return text(StatusCode::PAYLOAD_TOO_LARGE, &format!("the body exceeds {MAX_BODY_BYTES} bytes"))
        }
        Ok(Err(e)) => return text(StatusCode::BAD_REQUEST, &format!("cannot read the body: {e}")),
        Err(_) => return text(StatusCode::REQUEST_TIMEOUT, "the body did not arrive in time"),
    };
    match path.as_str() {
        "/gatekeeper/verify" => provider(app, &body, false).await,
        "/gatekeeper/mutate" => provider(app, &body, true).await,
        "/validate" => admission_review(app, &body, false).await,
        _ => admission_review(app, &body, true).await,
    }
}

/// `/gatekeeper/verify` and `/gatekeeper/mutate`.
async fn provider(app: &App, body: &[u8], mutate: bool) -> Response<Full<Bytes>> {
    let keys = match gatekeeper::keys(body) {
        Ok(keys) => keys,
        Err(system_error) => return json(StatusCode::OK, &gatekeeper::response(Vec::new(), mutate, &system_error)),
    };
    let outcomes = app.verifier.verify_images(&keys).await;
    let items = match mutate {
        true => gatekeeper::mutate_items(&keys, &outcomes),
        false => gatekeeper::verify_items(&keys, &outcomes),
    };
    json(StatusCode::OK, &gatekeeper::response(items, mutate, ""))
}

/// `/validate` and `/mutate`.
async fn admission_review(app: &App, body: &[u8], mutate: bool) -> Response<Full<Bytes>> {
    let request = match AdmissionRequest::parse(body) {
        Ok(request) => request,
        Err(e) => return text(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let must_verify = request.images_to_verify();
    // Mutation also pins tags the stored object already runs; those are pinned when they verify, and left as
    // they are (not refused) when they do not, as validation does not check them either.
    let mut pin_only: Vec<String> = Vec::new();
    if mutate && matches!(request.operation.as_str(), "CREATE" | "UPDATE") {
        for site in &request.images {
            if !must_verify.contains(&site.image) && !pin_only.contains(&site.image) && !review::is_pinned(&site.image)
            {
                pin_only.push(site.image.clone());
            }
        }
    }
    let all: Vec<String> = must_verify.iter().chain(&pin_only).cloned().collect();
    let outcomes = app.verifier.verify_images(&all).await;
    let refusals: Vec<(String, String)> = must_verify
        .iter()
        .zip(&outcomes)
        .filter_map(|(image, outcome)| {
            outcome.as_ref().err().map(|reason| (image.clone(), gatekeeper::one_line(reason)))
        })
        .collect();
    let patch: Option<Vec<Value>> = mutate.then(|| {
        request
            .images
            .iter()
            .filter(|site| !review::is_pinned(&site.image))
            .filter_map(|site| {
                let index = all.iter().position(|image| image == &site.image)?;
                let verified = outcomes.get(index)?.as_ref().ok()?;
                Some(review::replace(&site.pointer, &verified.reference))
            })
            .collect()
    });
    json(StatusCode::OK, &review::response(&request.uid, &refusals, patch.as_deref()))
}

fn text(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(format!("{message}\n"))));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

fn json(status: StatusCode, value: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(serde_json::to_vec(value).unwrap_or_default())));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    response
}
