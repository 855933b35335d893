//! One function per route: turn an HTTP request into a registry call and its answer into the spec's response.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::TryStreamExt;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::Request;
use serde_json::{json, Value};

use super::route::{self, Route};
use super::{error, App, HttpResponse};
use crate::auth::{Action, Auth, Denial, Need};
use crate::config::AccessMode;
use crate::content::media_types::OCI_IMAGE_INDEX as OCI_INDEX;
use crate::content::{Algorithm, Digest, Reference};
use crate::registry::{BodyStream, ChunkRange, RegistryError};

const API_VERSION: &str = "registry/2.0";
/// Most `?tag=` parameters honoured on one manifest push (the spec asks for at least 10).
const MAX_TAG_PARAMS: usize = 50;
const EXPOSED: &str = "Docker-Content-Digest, Docker-Upload-UUID, Link, Location, Range, OCI-Subject, \
                       OCI-Filters-Applied, WWW-Authenticate, Content-Range, Content-Length";

/// Entry point for every request.
pub async fn handle(app: Arc<App>, req: Request<Incoming>) -> HttpResponse {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let (label, mut response) = match route::parse(req.uri().path()) {
        Ok(route) => {
            let label = route.label();
            let method = req.method().clone();
            let response = if method == Method::OPTIONS {
                empty(StatusCode::NO_CONTENT)
            } else {
                match dispatch(&app, route, req).await {
                    Ok(r) => r,
                    Err(e) => error_response(&e, method == Method::HEAD),
                }
            };
            (label, response)
        }
        Err(e) => ("invalid", error_response(&e, false)),
    };
    let headers = response.headers_mut();
    headers.insert("Docker-Distribution-API-Version", HeaderValue::from_static(API_VERSION));
    cors(&app, origin, headers);
    app.metrics.request(label, response.status().as_u16());
    tracing::debug!(route = label, status = response.status().as_u16(), "request");
    if let Some(len) = response.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()) {
        app.metrics.add_out(len.parse().unwrap_or(0));
    }
    response
}

fn cors(app: &App, origin: Option<HeaderValue>, headers: &mut HeaderMap) {
    let allowed = &app.registry.settings().cors_origins;
    let Some(origin) = origin else { return };
    let ok = allowed.iter().any(|a| a == "*" || origin.to_str().is_ok_and(|o| o == a));
    if !ok {
        return;
    }
    let value = if allowed.iter().any(|a| a == "*") { HeaderValue::from_static("*") } else { origin };
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Authorization, Accept, Content-Type, Content-Range, Range"),
    );
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
}

async fn dispatch(app: &Arc<App>, route: Route, req: Request<Incoming>) -> Result<HttpResponse, RegistryError> {
    let method = req.method().clone();
    let writes = !matches!(method, Method::GET | Method::HEAD);
    if writes && app.registry.settings().access == AccessMode::ReadOnly {
        return Err(RegistryError::Unsupported("this registry is read-only"));
    }
    let query = Query::parse(req.uri().query());
    if let Some(auth) = &app.auth {
        if let Some(denied) = check_access(auth, &route, &method, req.headers()) {
            return Ok(denied);
        }
        if route == Route::Token {
            let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
            let scopes: Vec<String> = query.all("scope").map(str::to_owned).collect();
            return Ok(match auth.issue_token(authorization, &scopes) {
                Ok(body) => json_response(StatusCode::OK, "application/json", &body),
                Err(denial) => denial_response(denial),
            });
        }
    }
    match (route, method) {
        (Route::Health, Method::GET | Method::HEAD) => Ok(bytes_response(StatusCode::OK, "text/plain", "ok\n")),
        (Route::Metrics, Method::GET) => {
            let storage = match app.metrics.cached_storage_size() {
                Some(n) => n,
                None => {
                    let n = app.registry.storage().blob_bytes().await.unwrap_or(0);
                    app.metrics.set_storage_size(n);
                    n
                }
            };
            let text = app.metrics.render(storage, app.registry.referrer_count());
            Ok(bytes_response(StatusCode::OK, "text/plain; version=0.0.4", text))
        }
        (Route::Base, Method::GET | Method::HEAD) => Ok(bytes_response(StatusCode::OK, "application/json", "{}")),
        (Route::Catalog, Method::GET) => catalog(app, &query),
        (Route::Blob { name, digest }, m @ (Method::GET | Method::HEAD)) => {
            blob_get(app, &name, &digest, req.headers(), m == Method::HEAD).await
        }
        (Route::Blob { name, digest }, Method::DELETE) => {
            app.registry.blob_delete(&name, &parse_digest(&digest)?).await?;
            Ok(empty(StatusCode::ACCEPTED))
        }
        (Route::UploadStart { name }, Method::POST) => upload_start(app, &name, &query, req).await,
        (Route::Upload { name, id }, Method::GET) => {
            let size = app.registry.upload_status(&name, &id).await?;
            Ok(upload_response(StatusCode::NO_CONTENT, &name, &id, size))
        }
        (Route::Upload { name, id }, Method::PATCH) => {
            let (range, length) = chunk_headers(req.headers())?;
            let body = body_stream(app, req);
            match app.registry.upload_patch(&name, &id, range, length, body).await {
                Ok(size) => Ok(upload_response(StatusCode::ACCEPTED, &name, &id, size)),
                Err(RegistryError::RangeInvalid { size }) => Ok(range_invalid(&name, &id, size)),
                Err(e) => Err(e),
            }
        }
        (Route::Upload { name, id }, Method::PUT) => {
            let digest = parse_digest(query.get("digest").unwrap_or_default())?;
            let (range, length) = chunk_headers(req.headers())?;
            let body = body_stream(app, req);
            match app.registry.upload_finish(&name, &id, &digest, range, length, body).await {
                Ok(()) => Ok(blob_created(&name, &digest)),
                Err(RegistryError::RangeInvalid { size }) => Ok(range_invalid(&name, &id, size)),
                Err(e) => Err(e),
            }
        }
        (Route::Upload { name, id }, Method::DELETE) => {
            app.registry.upload_cancel(&name, &id).await?;
            Ok(empty(StatusCode::NO_CONTENT))
        }
        (Route::Manifest { name, reference }, m @ (Method::GET | Method::HEAD)) => {
            let reference = Reference::parse(&reference).map_err(|_| {
                if reference.contains(':') {
                    RegistryError::DigestInvalid("malformed digest".into())
                } else {
                    RegistryError::ManifestUnknown
                }
            })?;
            let head = m == Method::HEAD;
            let content = app.registry.manifest_get(&name, &reference, !head).await?;
            let mut resp = match content.bytes {
                Some(b) => full(StatusCode::OK, b),
                None => empty(StatusCode::OK),
            };
            let h = resp.headers_mut();
            set(h, header::CONTENT_TYPE, &content.media_type);
            set(h, header::CONTENT_LENGTH, &content.size.to_string());
            set(h, "Docker-Content-Digest", &content.digest.to_string());
            set(h, header::ETAG, &format!("\"{}\"", content.digest));
            Ok(resp)
        }
        (Route::Manifest { name, reference }, Method::PUT) => manifest_put(app, &name, &reference, &query, req).await,
        (Route::Manifest { name, reference }, Method::DELETE) => {
            let reference = Reference::parse(&reference).map_err(|_| {
                if reference.contains(':') {
                    RegistryError::DigestInvalid("malformed digest".into())
                } else {
                    RegistryError::TagInvalid
                }
            })?;
            app.registry.manifest_delete(&name, &reference).await?;
            Ok(empty(StatusCode::ACCEPTED))
        }
        (Route::Tags { name }, Method::GET) => tags(app, &name, &query).await,
        (Route::Referrers { name, digest }, Method::GET) => referrers(app, &name, &digest, &query),
        (Route::Prototype2References { name, reference }, Method::GET) => {
            prototype2_references(app, &name, &reference, &query).await
        }
        (Route::OrasReferrers { name, digest }, Method::GET) => oras_referrers(app, &name, &digest, &query),
        (Route::NotFound, _) => {
            Ok(error_response(&RegistryError::Unsupported("no such endpoint"), false)).map(|mut r| {
                *r.status_mut() = StatusCode::NOT_FOUND;
                r
            })
        }
        _ => Err(RegistryError::Unsupported("method not allowed on this endpoint")),
    }
}

// ---- access control ----

/// Returns the refusal for a request the caller may not make, `None` when it may proceed.
fn check_access(auth: &Auth, route: &Route, method: &Method, headers: &HeaderMap) -> Option<HttpResponse> {
    let action = match (route, method) {
        (Route::Health | Route::Metrics | Route::Token | Route::NotFound, _) => return None,
        (_, &Method::GET | &Method::HEAD) => Action::Pull,
        (_, &Method::DELETE) if !matches!(route, Route::Upload { .. }) => Action::Delete,
        _ => Action::Push,
    };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    auth.authorize(authorization, host, Need { repo: route.repository(), action }).err().map(denial_response)
}

/// Whether the caller may read the mount source; when it may not, the mount is not attempted and an ordinary upload
/// session starts instead (202), which the spec allows and which leaks nothing about the source.
fn may_read(app: &App, headers: &HeaderMap, repo: &str) -> bool {
    let Some(auth) = &app.auth else { return true };
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    auth.authorize(authorization, None, Need { repo: Some(repo), action: Action::Pull }).is_ok()
}

fn denial_response(denial: Denial) -> HttpResponse {
    match denial {
        Denial::Challenge(value) => {
            let mut r = error_response(&RegistryError::Unauthorized, false);
            set(r.headers_mut(), header::WWW_AUTHENTICATE, &value);
            r
        }
        Denial::Forbidden => error_response(&RegistryError::Denied, false),
    }
}

// ---- blobs and uploads ----

async fn blob_get(
    app: &App,
    name: &str,
    digest: &str,
    headers: &HeaderMap,
    head: bool,
) -> Result<HttpResponse, RegistryError> {
    let digest = parse_digest(digest)?;
    let size = app.registry.blob_size(name, &digest).await?;
    let range = match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(spec) => match parse_byte_range(spec, size) {
            RangeRequest::Whole => None,
            RangeRequest::Part(a, b) => Some((a, b)),
            RangeRequest::Unsatisfiable => {
                let mut r = error_response(&RegistryError::RangeInvalid { size }, head);
                set(r.headers_mut(), header::CONTENT_RANGE, &format!("bytes */{size}"));
                return Ok(r);
            }
        },
        None => None,
    };
    let (status, len) = match range {
        Some((a, b)) => (StatusCode::PARTIAL_CONTENT, b - a + 1),
        None => (StatusCode::OK, size),
    };
    let mut resp = if head {
        empty(status)
    } else {
        let reader = app.registry.blob_open(name, &digest, range).await?;
        let stream = reader.stream.map_ok(Frame::data);
        let mut r = HttpResponse::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
        *r.status_mut() = status;
        r
    };
    let h = resp.headers_mut();
    set(h, header::CONTENT_LENGTH, &len.to_string());
    set(h, header::CONTENT_TYPE, "application/octet-stream");
    set(h, "Docker-Content-Digest", &digest.to_string());
    set(h, header::ACCEPT_RANGES, "bytes");
    set(h, header::ETAG, &format!("\"{digest}\""));
    if let Some((a, b)) = range {
        set(h, header::CONTENT_RANGE, &format!("bytes {a}-{b}/{size}"));
    }
    Ok(resp)
}

enum RangeRequest {
    Whole,
    Part(u64, u64),
    Unsatisfiable,
}

/// Parses a single-range `Range: bytes=a-b | a- | -n`; anything else is ignored (served whole), as RFC 9110 allows.
fn parse_byte_range(spec: &str, size: u64) -> RangeRequest {
    let Some(r) = spec.trim().strip_prefix("bytes=") else { return RangeRequest::Whole };
    if r.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((a, b)) = r.split_once('-') else { return RangeRequest::Whole };
    let (a, b) = (a.trim(), b.trim());
    let parsed = if a.is_empty() {
        match b.parse::<u64>() {
            Ok(0) => return RangeRequest::Unsatisfiable,
            Ok(n) => Some((size.saturating_sub(n), size.saturating_sub(1))),
            Err(_) => return RangeRequest::Whole,
        }
    } else {
        let Ok(start) = a.parse::<u64>() else { return RangeRequest::Whole };
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            match b.parse::<u64>() {
                Ok(e) => e.min(size.saturating_sub(1)),
                Err(_) => return RangeRequest::Whole,
            }
        };
        if !b.is_empty() && b.parse::<u64>().is_ok_and(|e| e < start) {
            // `last < first` is what clients send by mistake; answering 416 tells them instead of silently
            // sending everything.
            return RangeRequest::Unsatisfiable;
        }
        Some((start, end))
    };
    match parsed {
        Some((start, end)) if size > 0 && start < size && start <= end => RangeRequest::Part(start, end),
        _ => RangeRequest::Unsatisfiable,
    }
}

async fn upload_start(
    app: &Arc<App>,
    name: &str,
    query: &Query,
    req: Request<Incoming>,
) -> Result<HttpResponse, RegistryError> {
    if let Some(mount) = query.get("mount") {
        let digest = parse_digest(mount)?;
        let from = query.get("from");
        // Automatic mount searches every repository: only without access control.
        let search_all = app.auth.is_none();
        let from = from.filter(|f| may_read(app, req.headers(), f));
        if app.registry.mount(name, &digest, from, search_all).await? {
            return Ok(blob_created(name, &digest));
        }
    } else if let Some(digest) = query.get("digest") {
        let digest = parse_digest(digest)?;
        let length = content_length(req.headers())?;
        let body = body_stream(app, req);
        app.registry.blob_put_whole(name, &digest, length, body).await?;
        return Ok(blob_created(name, &digest));
    }
    let algorithm = match query.get("digest-algorithm") {
        None => Algorithm::Sha256,
        Some(a) => Algorithm::from_name(a).ok_or_else(|| RegistryError::DigestInvalid(format!("unsupported {a}")))?,
    };
    let id = app.registry.upload_start(name, algorithm).await?;
    Ok(upload_response(StatusCode::ACCEPTED, name, &id, 0))
}

fn chunk_headers(headers: &HeaderMap) -> Result<(Option<ChunkRange>, Option<u64>), RegistryError> {
    let length = content_length(headers)?;
    let range = match headers.get(header::CONTENT_RANGE) {
        None => None,
        Some(v) => {
            let text = v.to_str().map_err(|_| RegistryError::BlobUploadInvalid("bad Content-Range".into()))?;
            let text = text.trim().strip_prefix("bytes ").unwrap_or(text.trim());
            let (a, b) = text.split_once('-').ok_or_else(|| RegistryError::BlobUploadInvalid("bad range".into()))?;
            let all_digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|c| c.is_ascii_digit());
            if !all_digits(a) || !all_digits(b) {
                return Err(RegistryError::BlobUploadInvalid("Content-Range must be <start>-<end>".into()));
            }
            let start = a.parse().map_err(|_| RegistryError::BlobUploadInvalid("bad range".into()))?;
            let end = b.parse().map_err(|_| RegistryError::BlobUploadInvalid("bad range".into()))?;
            Some(ChunkRange { start, end })
        }
    };
    Ok((range, length))
}

fn content_length(headers: &HeaderMap) -> Result<Option<u64>, RegistryError> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v.to_str().ok().and_then(|s| s.trim().parse().ok()).map(Some).ok_or(RegistryError::SizeInvalid),
    }
}

fn body_stream(app: &Arc<App>, req: Request<Incoming>) -> BodyStream {
    let idle = Duration::from_secs(app.registry.settings().body_idle_timeout_secs.max(1));
    let app = app.clone();
    let body = req.into_body();
    Box::pin(futures_util::stream::unfold(Some(body), move |state| {
        let app = app.clone();
        async move {
            let mut body = state?;
            loop {
                match tokio::time::timeout(idle, body.frame()).await {
                    Err(_) => return Some((Err(RegistryError::Body("client idle too long".into())), None)),
                    Ok(None) => return None,
                    Ok(Some(Err(e))) => return Some((Err(RegistryError::Body(e.to_string())), None)),
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            app.metrics.add_in(data.len() as u64);
                            return Some((Ok(data), Some(body)));
                        }
                    }
                }
            }
        }
    }))
}

fn upload_location(name: &str, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

fn upload_response(status: StatusCode, name: &str, id: &str, size: u64) -> HttpResponse {
    let mut r = empty(status);
    let h = r.headers_mut();
    set(h, header::LOCATION, &upload_location(name, id));
    set(h, header::RANGE, &format!("0-{}", size.saturating_sub(1)));
    set(h, "Docker-Upload-UUID", id);
    set(h, header::CONTENT_LENGTH, "0");
    r
}

fn range_invalid(name: &str, id: &str, size: u64) -> HttpResponse {
    let mut r = error_response(&RegistryError::RangeInvalid { size }, false);
    let h = r.headers_mut();
    set(h, header::LOCATION, &upload_location(name, id));
    set(h, header::RANGE, &format!("0-{}", size.saturating_sub(1)));
    set(h, "Docker-Upload-UUID", id);
    r
}

fn blob_created(name: &str, digest: &Digest) -> HttpResponse {
    let mut r = empty(StatusCode::CREATED);
    let h = r.headers_mut();
    set(h, header::LOCATION, &format!("/v2/{name}/blobs/{digest}"));
    set(h, "Docker-Content-Digest", &digest.to_string());
    set(h, header::CONTENT_LENGTH, "0");
    r
}

// ---- manifests ----

async fn manifest_put(
    app: &Arc<App>,
    name: &str,
    reference: &str,
    query: &Query,
    req: Request<Incoming>,
) -> Result<HttpResponse, RegistryError> {
    let reference = Reference::parse(reference).map_err(|_| {
        if reference.contains(':') {
            RegistryError::DigestInvalid("malformed digest".into())
        } else {
            RegistryError::TagInvalid
        }
    })?;
    let limit = app.registry.settings().max_manifest_bytes;
    if content_length(req.headers())?.is_some_and(|l| l > limit) {
        return Err(RegistryError::TooLarge { limit });
    }
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut body = body_stream(app, req);
    let mut buf = Vec::new();
    while let Some(chunk) = futures_util::StreamExt::next(&mut body).await {
        let chunk = chunk?;
        if (buf.len() + chunk.len()) as u64 > limit {
            return Err(RegistryError::TooLarge { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    let extra_tags: Vec<String> = query.all("tag").map(str::to_owned).take(MAX_TAG_PARAMS + 1).collect();
    if extra_tags.len() > MAX_TAG_PARAMS {
        return Err(RegistryError::TagInvalid);
    }
    let outcome =
        app.registry.manifest_put(name, &reference, &extra_tags, content_type.as_deref(), Bytes::from(buf)).await?;
    let mut r = empty(StatusCode::CREATED);
    let h = r.headers_mut();
    set(h, header::LOCATION, &format!("/v2/{name}/manifests/{}", outcome.digest));
    set(h, "Docker-Content-Digest", &outcome.digest.to_string());
    set(h, header::CONTENT_LENGTH, "0");
    if let Some(subject) = outcome.subject {
        set(h, "OCI-Subject", &subject.to_string());
    }
    for tag in &extra_tags {
        if let Ok(v) = HeaderValue::from_str(tag) {
            h.append("OCI-Tag", v);
        }
    }
    Ok(r)
}

// ---- listings ----

fn parse_n(query: &Query) -> Result<Option<usize>, RegistryError> {
    match query.get("n") {
        None => Ok(None),
        Some(n) => n.parse::<usize>().map(Some).map_err(|_| RegistryError::PaginationInvalid),
    }
}

async fn tags(app: &App, name: &str, query: &Query) -> Result<HttpResponse, RegistryError> {
    let n = parse_n(query)?;
    let last = query.get("last");
    let page = app.registry.tags(name, n, last).await?;
    let body = json!({"name": name, "tags": page.names});
    let mut r = json_response(StatusCode::OK, "application/json", &body);
    if let (true, Some(n), Some(last)) = (page.more, n, page.names.last()) {
        set(r.headers_mut(), header::LINK, &format!("</v2/{name}/tags/list?n={n}&last={}>; rel=\"next\"", enc(last)));
    }
    Ok(r)
}

fn catalog(app: &App, query: &Query) -> Result<HttpResponse, RegistryError> {
    let n = parse_n(query)?;
    let page = app.registry.catalog(n, query.get("last"));
    let body = json!({"repositories": page.names});
    let mut r = json_response(StatusCode::OK, "application/json", &body);
    if let (true, Some(n), Some(last)) = (page.more, n, page.names.last()) {
        set(r.headers_mut(), header::LINK, &format!("</v2/_catalog?n={n}&last={}>; rel=\"next\"", enc(last)));
    }
    Ok(r)
}

fn referrers(app: &App, name: &str, digest: &str, query: &Query) -> Result<HttpResponse, RegistryError> {
    let subject = parse_digest(digest)?;
    let after = query.get("next").map(parse_digest).transpose()?;
    let artifact_type = query.get("artifactType").filter(|t| !t.is_empty());
    let page = app.registry.referrers(name, &subject, artifact_type, after.as_ref());
    let manifests: Vec<Value> = page.items.into_iter().map(|r| r.descriptor).collect();
    let body = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests});
    let mut r = json_response(StatusCode::OK, OCI_INDEX, &body);
    let h = r.headers_mut();
    if artifact_type.is_some() {
        set(h, "OCI-Filters-Applied", "artifactType");
    }
    if let Some(next) = page.next {
        let mut link = format!("/v2/{name}/referrers/{subject}?next={next}");
        if let Some(t) = artifact_type {
            link.push_str(&format!("&artifactType={}", enc(t)));
        }
        set(h, header::LINK, &format!("<{link}>; rel=\"next\""));
    }
    Ok(r)
}

async fn prototype2_references(
    app: &App,
    name: &str,
    reference: &str,
    query: &Query,
) -> Result<HttpResponse, RegistryError> {
    let parsed = Reference::parse(reference).map_err(|_| RegistryError::DigestInvalid("bad reference".into()))?;
    let subject = match app.registry.resolve_reference(name, &parsed).await {
        Ok(d) => d,
        Err(RegistryError::NameUnknown) if matches!(parsed, Reference::Digest(_)) => match &parsed {
            Reference::Digest(d) => d.clone(),
            Reference::Tag(_) => return Err(RegistryError::NameUnknown),
        },
        Err(e) => return Err(e),
    };
    let after = query.get("next").map(parse_digest).transpose()?;
    let artifact_type = query.get("artifact-type").or_else(|| query.get("artifactType")).filter(|t| !t.is_empty());
    let page = app.registry.referrers(name, &subject, artifact_type, after.as_ref());
    let mut references = Vec::with_capacity(page.items.len());
    for item in page.items {
        let Some(digest) = item.descriptor.get("digest").and_then(Value::as_str).and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        let content = app.registry.manifest_get(name, &Reference::Digest(digest.clone()), true).await;
        let manifest = content
            .ok()
            .and_then(|c| c.bytes)
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or(Value::Null);
        references.push(json!({"digest": digest.to_string(), "manifest": manifest}));
    }
    let mut body = json!({"references": references});
    match parsed {
        Reference::Tag(t) => body["tag"] = Value::String(t),
        Reference::Digest(d) => body["digest"] = Value::String(d.to_string()),
    }
    let mut r = json_response(StatusCode::OK, "application/json", &body);
    if let Some(next) = page.next {
        set(
            r.headers_mut(),
            header::LINK,
            &format!("</v2/_ext/oci-artifacts/v1/{name}/manifests/{reference}/references?next={next}>; rel=\"next\""),
        );
    }
    Ok(r)
}

fn oras_referrers(app: &App, name: &str, digest: &str, query: &Query) -> Result<HttpResponse, RegistryError> {
    let subject = parse_digest(digest)?;
    let after = query.get("next").map(parse_digest).transpose()?;
    let artifact_type = query.get("artifactType").filter(|t| !t.is_empty());
    let page = app.registry.referrers(name, &subject, artifact_type, after.as_ref());
    let references: Vec<Value> = page
        .items
        .into_iter()
        .map(|r| {
            let d = &r.descriptor;
            let mut v = json!({"digest": d["digest"], "mediaType": d["mediaType"], "size": d["size"]});
            if let Some(t) = r.artifact_type {
                v["artifactType"] = Value::String(t);
            }
            v
        })
        .collect();
    let mut r = json_response(StatusCode::OK, "application/json", &json!({"references": references}));
    if let Some(next) = page.next {
        set(
            r.headers_mut(),
            header::LINK,
            &format!("</oras/artifacts/v1/{name}/manifests/{subject}/referrers?next={next}>; rel=\"next\""),
        );
    }
    Ok(r)
}

// ---- helpers ----

fn parse_digest(text: &str) -> Result<Digest, RegistryError> {
    Digest::parse(text).map_err(|_| RegistryError::DigestInvalid("malformed digest".into()))
}

fn set(headers: &mut HeaderMap, name: impl header::IntoHeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

fn full(status: StatusCode, bytes: Bytes) -> HttpResponse {
    let mut r = HttpResponse::new(Full::new(bytes).map_err(|never| match never {}).boxed_unsync());
    *r.status_mut() = status;
    r
}

fn empty(status: StatusCode) -> HttpResponse {
    full(status, Bytes::new())
}

fn bytes_response(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> HttpResponse {
    let body = body.into();
    let len = body.len();
    let mut r = full(status, body);
    set(r.headers_mut(), header::CONTENT_TYPE, content_type);
    set(r.headers_mut(), header::CONTENT_LENGTH, &len.to_string());
    r
}

fn json_response(status: StatusCode, content_type: &str, value: &Value) -> HttpResponse {
    bytes_response(status, content_type, serde_json::to_vec(value).unwrap_or_default())
}

fn error_response(e: &RegistryError, head: bool) -> HttpResponse {
    if let RegistryError::Storage(inner) = e {
        tracing::error!(error = %inner, "storage failure");
    }
    let (status, body) = error::body(e);
    let len = body.len();
    let mut r = if head { empty(status) } else { full(status, Bytes::from(body)) };
    set(r.headers_mut(), header::CONTENT_TYPE, "application/json");
    set(r.headers_mut(), header::CONTENT_LENGTH, &len.to_string());
    r
}

/// Percent-encodes a query value (tags and media types only need a few characters escaped).
fn enc(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decoded query parameters (first value wins; `+` is kept literally because media types contain it).
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>) -> Self {
        let mut out = Vec::new();
        for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()).take(128) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            out.push((decode(k), decode(v)));
        }
        Query(out)
    }

    fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges() {
        assert!(matches!(parse_byte_range("bytes=0-3", 10), RangeRequest::Part(0, 3)));
        assert!(matches!(parse_byte_range("bytes=5-", 10), RangeRequest::Part(5, 9)));
        assert!(matches!(parse_byte_range("bytes=-4", 10), RangeRequest::Part(6, 9)));
        assert!(matches!(parse_byte_range("bytes=8-100", 10), RangeRequest::Part(8, 9)));
        assert!(matches!(parse_byte_range("bytes=10-", 10), RangeRequest::Unsatisfiable));
        assert!(matches!(parse_byte_range("bytes=0-1,3-4", 10), RangeRequest::Whole));
        assert!(matches!(parse_byte_range("items=0-1", 10), RangeRequest::Whole));
        assert!(matches!(parse_byte_range("bytes=x-1", 10), RangeRequest::Whole));
        assert!(matches!(parse_byte_range("bytes=5-0", 10), RangeRequest::Unsatisfiable));
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some("artifactType=application%2Fvnd.x%2Bjson&n=5&last=a+b"));
        assert_eq!(q.get("artifactType"), Some("application/vnd.x+json"));
        assert_eq!(q.get("n"), Some("5"));
        assert_eq!(q.get("last"), Some("a+b"));
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(enc("a/b+c"), "a%2Fb%2Bc");
    }
}
