//! Reading registry answers safely and turning failures into [`ContentError`]s.
//!
//! Bodies are read with a byte bound, never to the end of whatever a server sends. Error bodies are parsed as the
//! distribution-spec error document (`{"errors":[{"code","message","detail"}]}`) so messages carry the registry's
//! own words; transport failures are split into "could not reach" and "did not speak HTTP".

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, CONTENT_LENGTH, CONTENT_TYPE, LINK};
use reqwest::{Response, StatusCode, Url};
use serde::Deserialize;

use crate::content::{ByteStream, ContentError};

/// Most bytes of an error body read.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Longest excerpt of a non-JSON error body put in a message.
const MAX_EXCERPT_CHARS: usize = 200;

/// What an operation was, for messages: the store (`host/repo`), the verb and the object.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ctx<'a> {
    /// Store name (`host/repo`, or `host` for registry-level calls).
    pub store: &'a str,
    /// The operation (`push`, `fetch`, `resolve`, `delete`, `list tags`, ...).
    pub operation: &'a str,
    /// What it was about (`manifest v1`, `blob sha256:…`).
    pub what: &'a str,
}

/// One entry of a distribution-spec error document.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ApiError {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct ErrorDocument {
    #[serde(default)]
    errors: Vec<ApiError>,
}

/// A failed answer read into memory: status, the registry's error codes and a readable reason.
pub(super) struct Failure {
    pub status: StatusCode,
    pub codes: Vec<String>,
    pub reason: String,
}

impl Failure {
    /// Reads the (bounded) body of a failed response.
    pub(super) async fn read(response: Response) -> Failure {
        let status = response.status();
        let body = read_capped(response, MAX_ERROR_BODY).await;
        let parsed = serde_json::from_slice::<ErrorDocument>(&body).ok().filter(|d| !d.errors.is_empty());
        let status_text = format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("error"));
        match parsed {
            Some(document) => {
                let codes = document.errors.iter().map(|e| e.code.clone()).collect();
                let parts: Vec<String> = document
                    .errors
                    .iter()
                    .take(5)
                    .map(|e| match (e.code.is_empty(), e.message.is_empty()) {
                        (false, false) => format!("{}: {}", e.code, excerpt(&e.message)),
                        (false, true) => e.code.clone(),
                        (true, _) => excerpt(&e.message),
                    })
                    .collect();
                Failure { status, codes, reason: format!("{status_text}: {}", parts.join("; ")) }
            }
            None => {
                let text = excerpt(String::from_utf8_lossy(&body).trim());
                let reason = if text.is_empty() { status_text } else { format!("{status_text}: {text}") };
                Failure { status, codes: Vec::new(), reason }
            }
        }
    }

    /// Whether the registry named `code` among its errors.
    pub(super) fn has_code(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == code)
    }

    /// The [`ContentError`] for this failure of `ctx`.
    pub(super) fn into_error(self, ctx: Ctx<'_>) -> ContentError {
        let Ctx { store, operation, what } = ctx;
        let refused = |reason: String| ContentError::Refused {
            store: store.to_owned(),
            operation: format!("{operation} of {what}"),
            reason,
        };
        match self.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => ContentError::Unauthorized {
                store: store.to_owned(),
                reason: format!("{operation} of {what} not permitted: {}", self.reason),
            },
            StatusCode::NOT_FOUND => {
                if self.has_code("NAME_UNKNOWN") {
                    ContentError::NotFound { what: format!("repository (looking for {what})"), store: store.to_owned() }
                } else {
                    ContentError::NotFound { what: what.to_owned(), store: store.to_owned() }
                }
            }
            StatusCode::PAYLOAD_TOO_LARGE => refused(format!("too large for the registry: {}", self.reason)),
            status if status.is_server_error() => ContentError::Unreachable {
                store: store.to_owned(),
                reason: format!("{operation} of {what} failed on the server: {}", self.reason),
            },
            status if status.is_client_error() => refused(self.reason),
            _ => ContentError::Malformed {
                store: store.to_owned(),
                reason: format!("unexpected answer to {operation} of {what}: {}", self.reason),
            },
        }
    }
}

/// Reads a whole successful body, refusing more than `limit` bytes (checked against `Content-Length` first).
pub(super) async fn read_limited(response: Response, limit: usize, ctx: Ctx<'_>) -> Result<Vec<u8>, ContentError> {
    let too_large = |size: u64| ContentError::TooLarge {
        what: format!("{} answer for {}", ctx.operation, ctx.what),
        size,
        limit: limit as u64,
    };
    if let Some(length) = content_length(response.headers()) {
        if length > limit as u64 {
            return Err(too_large(length));
        }
    }
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| body_error(ctx.store, &e))?;
        if body.len() + chunk.len() > limit {
            return Err(too_large((body.len() + chunk.len()) as u64));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads at most `limit` bytes of a body, ignoring read errors (for error bodies, which only feed messages).
async fn read_capped(response: Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
        if body.len() >= limit {
            break;
        }
    }
    body
}

/// The body as a [`ByteStream`] that fails once more than `limit` bytes arrive (a server cannot stream forever
/// into a consumer that trusts the descriptor's size).
pub(super) fn bounded_stream(response: Response, limit: u64, store: &str, what: &str) -> ByteStream {
    let store = store.to_owned();
    let what = what.to_owned();
    let mut seen: u64 = 0;
    let mut failed = false;
    let stream = response.bytes_stream().map(move |chunk| {
        if failed {
            return Err(ContentError::Malformed { store: store.clone(), reason: format!("{what}: stream ended") });
        }
        match chunk {
            Ok(bytes) => {
                seen = seen.saturating_add(bytes.len() as u64);
                if seen > limit {
                    failed = true;
                    return Err(ContentError::Mismatch {
                        expected: what.clone(),
                        reason: format!("the registry sent more than the {limit} bytes the descriptor names"),
                    });
                }
                Ok(bytes)
            }
            Err(e) => {
                failed = true;
                Err(body_error(&store, &e))
            }
        }
    });
    Box::pin(stream)
}

/// Maps a failure to send a request or read its answer: no HTTP answer at all is "unreachable", an answer that is
/// not HTTP is "malformed".
pub(super) fn transport_error(store: &str, url: &Url, error: &reqwest::Error) -> ContentError {
    let host = url.host_str().map_or_else(
        || url.as_str().to_owned(),
        |h| match url.port() {
            Some(port) => format!("{h}:{port}"),
            None => h.to_owned(),
        },
    );
    let chain = error_chain(error);
    if speaks_no_http(error) {
        return ContentError::Malformed {
            store: store.to_owned(),
            reason: format!("{host} did not answer HTTP: {chain}"),
        };
    }
    let reason = if error.is_timeout() {
        format!("{host} did not answer in time: {chain}")
    } else if error.is_connect() {
        format!("cannot connect to {host}: {chain}")
    } else {
        format!("request to {host} failed: {chain}")
    };
    ContentError::Unreachable { store: store.to_owned(), reason }
}

/// Maps a failure while reading a body.
fn body_error(store: &str, error: &reqwest::Error) -> ContentError {
    let chain = error_chain(error);
    if speaks_no_http(error) {
        ContentError::Malformed { store: store.to_owned(), reason: format!("invalid HTTP body: {chain}") }
    } else {
        ContentError::Unreachable { store: store.to_owned(), reason: format!("transfer broke off: {chain}") }
    }
}

/// Whether hyper found the answer unparseable (as opposed to a closed or refused connection).
fn speaks_no_http(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(hyper) = e.downcast_ref::<hyper::Error>() {
            return hyper.is_parse() || hyper.is_parse_status() || hyper.is_parse_too_large();
        }
        source = e.source();
    }
    false
}

/// `error: cause: cause`, without repeating a message a wrapper already printed.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}

/// `Content-Length` as sent (reqwest reports 0 for HEAD answers, so the header is read directly).
pub(super) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// The media type of `Content-Type`, parameters dropped.
pub(super) fn content_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let media_type = value.split(';').next().unwrap_or_default().trim();
    (!media_type.is_empty()).then(|| media_type.to_owned())
}

/// A header's value as text, if present and visible ASCII.
pub(super) fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name)?.to_str().ok().map(str::trim).filter(|v| !v.is_empty())
}

/// The `rel="next"` target of the `Link` headers, resolved against `base` and required to stay on the same
/// origin (credentials for this registry must never follow a link elsewhere).
pub(super) fn next_link(headers: &HeaderMap, base: &Url, store: &str) -> Result<Option<Url>, ContentError> {
    for value in headers.get_all(LINK) {
        let Ok(value) = value.to_str() else { continue };
        for (target, params) in split_links(value) {
            let is_next = params.split(';').any(|p| {
                let p = p.trim();
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("rel")
                        && v.trim().trim_matches('"').split_ascii_whitespace().any(|r| r.eq_ignore_ascii_case("next"))
                })
            });
            if !is_next {
                continue;
            }
            let url = base.join(target).map_err(|e| ContentError::Malformed {
                store: store.to_owned(),
                reason: format!("Link target {:?} is not a URL: {e}", excerpt(target)),
            })?;
            if url.origin() != base.origin() {
                return Err(ContentError::Malformed {
                    store: store.to_owned(),
                    reason: format!("Link target {} leaves the registry", excerpt(url.as_str())),
                });
            }
            return Ok(Some(url));
        }
    }
    Ok(None)
}

/// Splits `<a>; rel="next", <b>; rel="prev"` into `(target, params)`, respecting commas inside `<…>`.
fn split_links(value: &str) -> Vec<(&str, &str)> {
    let mut links = Vec::new();
    let mut rest = value;
    while let Some(open) = rest.find('<') {
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('>') else { break };
        let target = after.get(..close).unwrap_or_default();
        let tail = after.get(close + 1..).unwrap_or_default();
        let params_end = tail.find(',').unwrap_or(tail.len());
        links.push((target.trim(), tail.get(..params_end).unwrap_or_default()));
        rest = tail.get(params_end..).unwrap_or_default();
    }
    links
}

/// A loggable excerpt of outside text (first characters, control characters dropped).
pub(super) fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().filter(|c| !c.is_control()).take(MAX_EXCERPT_CHARS).collect();
    if text.chars().count() > MAX_EXCERPT_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn links_resolve_relative_and_stay_on_origin() {
        let base = Url::parse("http://127.0.0.1:5000/v2/a/tags/list?n=2").unwrap();
        let mut headers = HeaderMap::new();
        headers.append(LINK, HeaderValue::from_static(r#"</v2/a/tags/list?n=2&last=b,c>; rel="next""#));
        let next = next_link(&headers, &base, "s").unwrap().unwrap();
        assert_eq!(next.as_str(), "http://127.0.0.1:5000/v2/a/tags/list?n=2&last=b,c");

        let mut several = HeaderMap::new();
        several.append(LINK, HeaderValue::from_static(r#"</prev>; rel=prev, </v2/x?next=1>; rel=next"#));
        assert_eq!(next_link(&several, &base, "s").unwrap().unwrap().path(), "/v2/x");

        let mut foreign = HeaderMap::new();
        foreign.append(LINK, HeaderValue::from_static(r#"<http://evil.example/v2/>; rel="next""#));
        assert!(matches!(next_link(&foreign, &base, "s"), Err(ContentError::Malformed { .. })));
        assert_eq!(next_link(&HeaderMap::new(), &base, "s").unwrap(), None);
        let mut junk = HeaderMap::new();
        junk.append(LINK, HeaderValue::from_static("<<<>>>; rel=next, <"));
        assert!(next_link(&junk, &base, "s").is_ok());
    }

    #[test]
    fn failures_map_to_content_errors() {
        let ctx = Ctx { store: "h/r", operation: "fetch", what: "manifest v1" };
        let failure = |status: StatusCode, codes: &[&str]| Failure {
            status,
            codes: codes.iter().map(|c| c.to_string()).collect(),
            reason: "r".into(),
        };
        assert!(matches!(
            failure(StatusCode::NOT_FOUND, &["MANIFEST_UNKNOWN"]).into_error(ctx),
            ContentError::NotFound { .. }
        ));
        assert!(matches!(failure(StatusCode::UNAUTHORIZED, &[]).into_error(ctx), ContentError::Unauthorized { .. }));
        assert!(matches!(
            failure(StatusCode::FORBIDDEN, &["DENIED"]).into_error(ctx),
            ContentError::Unauthorized { .. }
        ));
        assert!(matches!(failure(StatusCode::METHOD_NOT_ALLOWED, &[]).into_error(ctx), ContentError::Refused { .. }));
        assert!(matches!(
            failure(StatusCode::BAD_REQUEST, &["UNSUPPORTED"]).into_error(ctx),
            ContentError::Refused { .. }
        ));
        assert!(matches!(failure(StatusCode::BAD_GATEWAY, &[]).into_error(ctx), ContentError::Unreachable { .. }));
        assert!(matches!(failure(StatusCode::OK, &[]).into_error(ctx), ContentError::Malformed { .. }));
    }

    #[test]
    fn excerpts_are_short_and_clean() {
        assert_eq!(excerpt("a\u{1b}[31mb\n"), "a[31mb");
        assert_eq!(excerpt(&"x".repeat(500)).chars().count(), MAX_EXCERPT_CHARS + 1);
    }
}
