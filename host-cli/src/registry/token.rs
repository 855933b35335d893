//! The Docker token flow: answering a `Bearer` challenge by fetching a short-lived token from the realm, with
//! Basic credentials (GET) or an identity token (OAuth2 `grant_type=refresh_token`, POST), and caching it per
//! registry and scope until shortly before it expires.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use reqwest::Url;
use serde::Deserialize;

use super::response::{excerpt, read_limited, transport_error, Ctx, Failure};
use crate::auth::Credential;
use crate::content::ContentError;

/// Largest token answer read.
const MAX_TOKEN_RESPONSE: usize = 1024 * 1024;
/// Lifetime assumed when the answer names none (the Docker token spec's default).
const DEFAULT_EXPIRES_IN: u64 = 60;
/// `client_id` sent with refresh-token grants.
const CLIENT_ID: &str = "nv2";

/// A token answer (`token` or the OAuth2 `access_token`).
#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// Bearer tokens by `registry` + scopes, shared by every clone of a client.
#[derive(Default)]
pub(super) struct TokenCache {
    entries: Mutex<HashMap<String, (HeaderValue, Instant)>>,
}

impl TokenCache {
    /// The cached `Authorization` value for `key`, if it has not expired.
    pub(super) fn get(&self, key: &str) -> Option<HeaderValue> {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match entries.get(key) {
            Some((value, expires)) if Instant::now() < *expires => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers `value` for `key` for `valid_for`.
    pub(super) fn put(&self, key: String, value: HeaderValue, valid_for: Duration) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.insert(key, (value, Instant::now() + valid_for));
    }

    /// Forgets `key` (a token the registry refused).
    pub(super) fn forget(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.remove(key);
    }
}

/// Fetches a token for `scopes` from `realm` and returns the `Authorization` value and how long to reuse it.
pub(super) async fn fetch(
    http: &reqwest::Client,
    store: &str,
    realm: &str,
    service: Option<&str>,
    scopes: &[String],
    credential: &Credential,
) -> Result<(HeaderValue, Duration), ContentError> {
    let malformed = |reason: String| ContentError::Malformed { store: store.to_owned(), reason };
    let mut url =
        Url::parse(realm).map_err(|e| malformed(format!("token realm {:?} is not a URL: {e}", excerpt(realm))))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(malformed(format!("token realm {} is not an http(s) URL", excerpt(realm))));
    }
    let request = match credential {
        Credential::IdentityToken(refresh_token) => {
            let mut form: Vec<(&str, &str)> =
                vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", CLIENT_ID)];
            if let Some(service) = service {
                form.push(("service", service));
            }
            let scope = scopes.join(" ");
            if !scope.is_empty() {
                form.push(("scope", &scope));
            }
            http.post(url.clone()).form(&form)
        }
        other => {
            {
                let mut query = url.query_pairs_mut();
                if let Some(service) = service {
                    query.append_pair("service", service);
                }
                for scope in scopes {
                    query.append_pair("scope", scope);
                }
                if let Credential::Basic { username, .. } = other {
                    query.append_pair("account", username);
                }
            }
            if url.query() == Some("") {
                url.set_query(None);
            }
            let request = http.get(url.clone());
            match other {
                Credential::Basic { username, password } => request.basic_auth(username, Some(password)),
                _ => request,
            }
        }
    };
    let response = request.send().await.map_err(|e| transport_error(store, &url, &e))?;
    let what = format!("token from {}", url.origin().ascii_serialization());
    let ctx = Ctx { store, operation: "authentication", what: &what };
    if !response.status().is_success() {
        let failure = Failure::read(response).await;
        return Err(match failure.status.as_u16() {
            401 | 403 => ContentError::Unauthorized {
                store: store.to_owned(),
                reason: format!("the token service refused the credentials: {}", failure.reason),
            },
            400..=499 => ContentError::Unauthorized {
                store: store.to_owned(),
                reason: format!("the token service at {} answered {}", excerpt(realm), failure.reason),
            },
            _ => failure.into_error(ctx),
        });
    }
    let body = read_limited(response, MAX_TOKEN_RESPONSE, ctx).await?;
    let answer: TokenAnswer =
        serde_json::from_slice(&body).map_err(|e| malformed(format!("unreadable {what}: {e}")))?;
    let token = if answer.token.is_empty() { answer.access_token } else { answer.token };
    if token.is_empty() {
        return Err(malformed(format!("{what} holds no token")));
    }
    let value = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|_| malformed(format!("{what} holds characters a header cannot carry")))?;
    let expires_in = answer.expires_in.filter(|s| *s > 0).unwrap_or(DEFAULT_EXPIRES_IN);
    // Reuse for 90% of the lifetime, so a token never expires between the check and the request.
    Ok((value, Duration::from_secs(expires_in).mul_f64(0.9)))
}

/// The cache key of a token: registry and the sorted scopes.
pub(super) fn cache_key(registry: &str, scopes: &[String]) -> String {
    let mut sorted: Vec<&str> = scopes.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    format!("{registry} {}", sorted.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_expires_and_keys_ignore_scope_order() {
        let cache = TokenCache::default();
        let value = HeaderValue::from_static("Bearer t");
        let key = cache_key("r", &["b".into(), "a".into()]);
        assert_eq!(key, cache_key("r", &["a".into(), "b".into()]));
        cache.put(key.clone(), value.clone(), Duration::from_secs(60));
        assert_eq!(cache.get(&key), Some(value.clone()));
        cache.put(key.clone(), value, Duration::ZERO);
        assert_eq!(cache.get(&key), None);
    }
}
