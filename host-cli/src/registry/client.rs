//! [`RegistryClient`]: one HTTP client plus the state every repository on every registry shares: credentials
//! looked up once per registry, bearer tokens cached per scope, which registries want Basic, which repositories
//! have the referrers API, one lock per referrers tag index, and the warnings gathered on the way.
//!
//! Every request goes through [`RegistryClient::send`], which implements the authentication dance: send (with a
//! cached token or Basic credentials when known), and on a 401 read the `WWW-Authenticate` challenge, answer it
//! (Basic, or fetch a token for the scopes), and retry once. Request bodies are always in memory (`Bytes`, at most
//! one upload chunk), so a retry never needs to re-read a stream.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use base64ct::{Base64, Encoding};
use nv2_core::oci::{OciError, Reference};
use reqwest::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{RequestBuilder, Response, StatusCode, Url};

use super::challenge::{self, Challenge};
use super::listing::{self, Pages};
use super::options::{ClientError, ClientOptions, CredentialSource};
use super::repository::Repository;
use super::response::{transport_error, Ctx, Failure};
use super::token::{self, TokenCache};
use crate::auth::Credential;
use crate::content::ContentError;

/// Smallest upload chunk accepted (smaller chunks only multiply round trips).
const MIN_CHUNK_SIZE: usize = 64 * 1024;
/// Largest upload chunk accepted (each chunk is held in memory).
const MAX_CHUNK_SIZE: usize = 1024 * 1024 * 1024;
/// Most warnings kept until [`RegistryClient::take_warnings`].
const MAX_WARNINGS: usize = 256;
/// Docker Hub's API host (`docker.io` names the registry, not the host that serves it).
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A client for OCI registries. Cheap to clone: clones share the HTTP connection pool, credentials, tokens and
/// referrers state.
#[derive(Clone)]
pub struct RegistryClient {
    shared: Arc<Shared>,
}

struct Shared {
    /// The client for plain-HTTP URLs: no root certificates to load (localhost verification starts in
    /// milliseconds); redirects to HTTPS are not followed by it but handed to [`Shared::tls`].
    http: reqwest::Client,
    /// The client for HTTPS URLs, built on first use with the system roots plus `--ca-file`.
    tls: OnceLock<Result<reqwest::Client, String>>,
    /// `--ca-file` certificates, read when the client is made so a bad file is reported at once.
    extra_roots: Vec<reqwest::Certificate>,
    options: ClientOptions,
    credentials: Mutex<HashMap<String, Credential>>,
    tokens: TokenCache,
    basic_registries: Mutex<HashSet<String>>,
    referrers_api: Mutex<HashMap<String, bool>>,
    index_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    warnings: Mutex<Vec<String>>,
}

impl RegistryClient {
    /// Builds a client: system root certificates plus `options.ca_file`, timeouts, user agent, redirects (blob
    /// storage redirects are followed; credentials are dropped when a redirect leaves the host).
    pub fn new(options: ClientOptions) -> Result<Self, ClientError> {
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&options.chunk_size) {
            return Err(ClientError::InvalidOption(format!(
                "chunk size {} is outside {MIN_CHUNK_SIZE}..={MAX_CHUNK_SIZE} bytes",
                options.chunk_size
            )));
        }
        let extra_roots = match &options.ca_file {
            Some(path) => ca_file_roots(path)?,
            None => Vec::new(),
        };
        // Plain HTTP never leaves plain HTTP by itself: an HTTPS redirect target is fetched with the TLS client.
        let plain_only = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().scheme() != "http" || attempt.previous().len() >= 10 {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let http = base_builder(&options).redirect(plain_only).build().map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(RegistryClient {
            shared: Arc::new(Shared {
                http,
                tls: OnceLock::new(),
                extra_roots,
                options,
                credentials: Mutex::default(),
                tokens: TokenCache::default(),
                basic_registries: Mutex::default(),
                referrers_api: Mutex::default(),
                index_locks: Mutex::default(),
                warnings: Mutex::default(),
            }),
        })
    }

    /// The HTTPS client, built on first use (system roots are read only by runs that need them).
    fn tls(&self) -> Result<&reqwest::Client, ContentError> {
        let built = self.shared.tls.get_or_init(|| {
            let mut builder = base_builder(&self.shared.options).redirect(reqwest::redirect::Policy::limited(10));
            for der in native_roots().into_iter().chain(self.shared.extra_roots.iter().cloned()) {
                builder = builder.add_root_certificate(der);
            }
            builder.build().map_err(|e| e.to_string())
        });
        built.as_ref().map_err(|reason| ContentError::Unreachable { store: "TLS".to_owned(), reason: reason.clone() })
    }

    /// The client for `url`: HTTPS through the TLS client, plain HTTP through the root-less one.
    pub(super) fn client_for(&self, url: &Url) -> Result<&reqwest::Client, ContentError> {
        if url.scheme() == "https" {
            self.tls()
        } else {
            Ok(&self.shared.http)
        }
    }

    /// [`RegistryClient::client_for`] a URL given as text (token realms); unparseable text gets the plain client
    /// and fails where it is used, with the error naming it.
    pub(super) fn client_for_text(&self, url: &str) -> Result<&reqwest::Client, ContentError> {
        match Url::parse(url) {
            Ok(url) => self.client_for(&url),
            Err(_) => Ok(&self.shared.http),
        }
    }

    /// The options the client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.shared.options
    }

    /// The repository `reference` names (its tag or digest is ignored), with the client's default
    /// [`super::ReferrersMode`].
    pub fn repository(&self, reference: &Reference) -> Repository {
        Repository::new(self.clone(), &reference.registry, &reference.repository, self.shared.options.referrers_mode)
    }

    /// Checks that `registry` speaks the distribution API and accepts the credentials (`GET /v2/`): what
    /// `login` uses to validate before storing.
    pub async fn ping(&self, registry: &str) -> Result<(), ContentError> {
        let url = self.base_url(registry)?.join("v2/").map_err(|e| invalid_registry(registry, e))?;
        let response = self.send(registry, registry, &[], |http| http.get(url.clone())).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(Failure::read(response).await.into_error(Ctx { store: registry, operation: "ping", what: "/v2/" }))
    }

    /// Proves this client's credentials for `registry` (what `nv2 login` checks before storing them). A plain
    /// ping is not enough: a registry with anonymous pull answers `/v2/` without ever looking at credentials, so
    /// they are sent up front (Basic), or exchanged for a token when the registry asks for Bearer.
    pub async fn check_credentials(&self, registry: &str) -> Result<(), ContentError> {
        let url = self.base_url(registry)?.join("v2/").map_err(|e| invalid_registry(registry, e))?;
        let credential = self.credential(registry, registry).await?;
        let rejected = |reason: String| ContentError::Unauthorized { store: registry.to_owned(), reason };
        let mut request = self.client_for(&url)?.get(url.clone());
        if let Credential::Basic { username, password } = &credential {
            request = request.header(AUTHORIZATION, basic_header(username, password, registry)?);
        }
        let response = request.send().await.map_err(|e| transport_error(registry, &url, &e))?;
        if response.status().is_success() {
            return Ok(());
        }
        if response.status() != StatusCode::UNAUTHORIZED {
            return Err(Failure::read(response).await.into_error(Ctx {
                store: registry,
                operation: "login",
                what: "/v2/",
            }));
        }
        let values: Vec<String> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect();
        match challenge::parse(values.iter().map(String::as_str)) {
            Some(Challenge::Bearer { realm, service, .. }) if !credential.is_none() => {
                token::fetch(self.client_for_text(&realm)?, registry, &realm, service.as_deref(), &[], &credential)
                    .await?;
                Ok(())
            }
            _ if credential.is_none() => Err(rejected("no credentials given".to_owned())),
            _ => Err(rejected("the registry rejected the user name or password (401 Unauthorized)".to_owned())),
        }
    }

    /// Repository names on `registry` (`GET /v2/_catalog`): `n` per page (registry default when `None`),
    /// strictly after `last`, one page or all of them following `Link` headers (bounded).
    pub async fn catalog(
        &self,
        registry: &str,
        n: Option<usize>,
        last: Option<&str>,
        pages: Pages,
    ) -> Result<Vec<String>, ContentError> {
        let mut url = self.base_url(registry)?.join("v2/_catalog").map_err(|e| invalid_registry(registry, e))?;
        listing::add_page_query(&mut url, n, last);
        let scopes = ["registry:catalog:*".to_owned()];
        listing::names(self, registry, registry, &scopes, url, "repositories", pages).await
    }

    /// Takes the warnings gathered so far (a referrers index that could not be garbage-collected, a fallback
    /// tag that holds no index), for the CLI to print as `warning: …`. Each is also logged with `tracing`.
    pub fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut *lock(&self.shared.warnings))
    }

    /// Records a warning (the oldest are dropped beyond [`MAX_WARNINGS`], so a long-running process that never
    /// takes them does not grow without bound).
    pub(super) fn warn(&self, message: String) {
        tracing::warn!("{message}");
        let mut warnings = lock(&self.shared.warnings);
        if warnings.len() >= MAX_WARNINGS {
            warnings.remove(0);
        }
        warnings.push(message);
    }

    /// Upload chunk size.
    pub(super) fn chunk_size(&self) -> usize {
        self.shared.options.chunk_size
    }

    /// Whether the repository `key` (`registry/name`) has the referrers API, when known.
    pub(super) fn referrers_api(&self, key: &str) -> Option<bool> {
        lock(&self.shared.referrers_api).get(key).copied()
    }

    /// Remembers whether the repository `key` has the referrers API.
    pub(super) fn set_referrers_api(&self, key: &str, supported: bool) {
        lock(&self.shared.referrers_api).insert(key.to_owned(), supported);
    }

    /// The lock serialising read-modify-write of one referrers tag index (`key` = repository and tag), so
    /// concurrent pushes of referrers to the same subject from this process never lose an entry.
    pub(super) fn index_lock(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        lock(&self.shared.index_locks).entry(key.to_owned()).or_default().clone()
    }

    /// `scheme://host/` of `registry` (Docker Hub's API host for `docker.io`; plain HTTP for loopback and listed
    /// hosts).
    pub(super) fn base_url(&self, registry: &str) -> Result<Url, ContentError> {
        if registry.is_empty()
            || registry.bytes().any(|b| {
                matches!(b, b'/' | b'@' | b'?' | b'#' | b'\\') || b.is_ascii_whitespace() || b.is_ascii_control()
            })
        {
            return Err(ContentError::Oci(OciError::InvalidRegistry {
                registry: registry.chars().take(96).collect(),
                reason: "a registry is host[:port] only",
            }));
        }
        let host = if registry == nv2_core::oci::reference::DOCKER_HUB { DOCKER_HUB_API } else { registry };
        let scheme = if self.shared.options.uses_plain_http(registry) { "http" } else { "https" };
        let url = Url::parse(&format!("{scheme}://{host}/")).map_err(|e| invalid_registry(registry, e))?;
        if url.host_str().is_none() || url.path() != "/" || !url.username().is_empty() {
            return Err(ContentError::Oci(OciError::InvalidRegistry {
                registry: registry.chars().take(96).collect(),
                reason: "not a host[:port]",
            }));
        }
        Ok(url)
    }

    /// Sends the request `build` makes, authenticating for `scopes` on `registry` as the registry asks, and
    /// retrying once after answering a challenge. Returns any HTTP answer (callers judge the status); fails only
    /// when no answer arrived or the credentials could not be obtained. Credentials are only ever attached to
    /// requests for `registry`'s own origin.
    pub(super) async fn send<F>(
        &self,
        registry: &str,
        store: &str,
        scopes: &[String],
        build: F,
    ) -> Result<Response, ContentError>
    where
        F: Fn(&reqwest::Client) -> RequestBuilder + Send + Sync,
    {
        let origin = self.base_url(registry)?.origin();
        let key = token::cache_key(registry, scopes);
        let mut authorization = self.known_authorization(registry, store, &key).await?;
        let mut retried = false;
        loop {
            let request = build(&self.shared.http).build().map_err(|e| ContentError::Malformed {
                store: store.to_owned(),
                reason: format!("bad request: {e}"),
            })?;
            let url = request.url().clone();
            let own_origin = url.origin() == origin;
            let mut request = request;
            if let (true, Some(value)) = (own_origin, &authorization) {
                request.headers_mut().insert(AUTHORIZATION, value.clone());
            }
            let response =
                self.client_for(&url)?.execute(request).await.map_err(|e| transport_error(store, &url, &e))?;
            if let Some(target) = https_redirect(&url, &response) {
                // A plain-HTTP registry sending a blob to HTTPS storage: fetched without the registry's credentials.
                return self.tls()?.get(target.clone()).send().await.map_err(|e| transport_error(store, &target, &e));
            }
            if response.status() != StatusCode::UNAUTHORIZED || retried || !own_origin {
                return Ok(response);
            }
            let values: Vec<String> = response
                .headers()
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(str::to_owned)
                .collect();
            let next = match challenge::parse(values.iter().map(String::as_str)) {
                None => return Ok(response),
                Some(Challenge::Basic) => match self.credential(registry, store).await? {
                    Credential::Basic { username, password } => {
                        lock(&self.shared.basic_registries).insert(registry.to_owned());
                        basic_header(&username, &password, store)?
                    }
                    _ => return Ok(response),
                },
                Some(Challenge::Bearer { realm, service, scopes: asked }) => {
                    let credential = self.credential(registry, store).await?;
                    let mut wanted = scopes.to_vec();
                    for scope in asked {
                        if !wanted.contains(&scope) {
                            wanted.push(scope);
                        }
                    }
                    self.shared.tokens.forget(&key);
                    let http = self.client_for_text(&realm)?;
                    let (value, valid_for) =
                        token::fetch(http, store, &realm, service.as_deref(), &wanted, &credential).await?;
                    self.shared.tokens.put(key.clone(), value.clone(), valid_for);
                    value
                }
            };
            if authorization.as_ref() == Some(&next) {
                // The registry refused exactly what would be sent again.
                return Ok(response);
            }
            authorization = Some(next);
            retried = true;
        }
    }

    /// The `Authorization` to send without waiting for a challenge: a cached token for these scopes, or Basic
    /// credentials for a registry that asked for Basic before.
    async fn known_authorization(
        &self,
        registry: &str,
        store: &str,
        key: &str,
    ) -> Result<Option<HeaderValue>, ContentError> {
        if let Some(value) = self.shared.tokens.get(key) {
            return Ok(Some(value));
        }
        if !lock(&self.shared.basic_registries).contains(registry) {
            return Ok(None);
        }
        match self.credential(registry, store).await? {
            Credential::Basic { username, password } => Ok(Some(basic_header(&username, &password, store)?)),
            _ => Ok(None),
        }
    }

    /// The credential for `registry`, asked of the store once per client (helpers are slow and may prompt).
    async fn credential(&self, registry: &str, store: &str) -> Result<Credential, ContentError> {
        let source = match &self.shared.options.credentials {
            CredentialSource::Anonymous => return Ok(Credential::None),
            CredentialSource::Fixed(credential) => return Ok(credential.clone()),
            CredentialSource::Store(source) => source.clone(),
        };
        if let Some(found) = lock(&self.shared.credentials).get(registry) {
            return Ok(found.clone());
        }
        let name = registry.to_owned();
        let looked_up = tokio::task::spawn_blocking(move || source.get(&name)).await.map_err(|e| {
            ContentError::Unauthorized { store: store.to_owned(), reason: format!("credential lookup failed: {e}") }
        })?;
        let credential = looked_up.map_err(|e| ContentError::Unauthorized {
            store: store.to_owned(),
            reason: format!("cannot get credentials for {registry}: {e}"),
        })?;
        lock(&self.shared.credentials).insert(registry.to_owned(), credential.clone());
        Ok(credential)
    }
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient").field("options", &self.shared.options).finish_non_exhaustive()
    }
}

/// `Basic base64(user:password)`.
fn basic_header(username: &str, password: &str, store: &str) -> Result<HeaderValue, ContentError> {
    let encoded = Base64::encode_string(format!("{username}:{password}").as_bytes());
    HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| ContentError::Unauthorized {
        store: store.to_owned(),
        reason: "the credentials cannot be sent in a header".to_owned(),
    })
}

fn invalid_registry(registry: &str, _error: impl std::fmt::Display) -> ContentError {
    ContentError::Oci(OciError::InvalidRegistry {
        registry: registry.chars().take(96).collect(),
        reason: "not a valid host[:port]",
    })
}

/// The settings both HTTP clients share.
fn base_builder(options: &ClientOptions) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .user_agent(options.user_agent.clone())
        .connect_timeout(options.connect_timeout)
        .read_timeout(options.read_timeout)
        .danger_accept_invalid_certs(options.insecure_skip_tls_verify)
}

/// The HTTPS target of a redirect answered to a plain-HTTP request (which the plain client does not follow).
fn https_redirect(url: &Url, response: &Response) -> Option<Url> {
    if url.scheme() != "http" || !response.status().is_redirection() {
        return None;
    }
    let location = response.headers().get(reqwest::header::LOCATION)?.to_str().ok()?;
    url.join(location).ok().filter(|target| target.scheme() == "https")
}

/// The system's root certificates that rustls accepts (one unparseable system certificate must not make every
/// TLS connection fail).
fn native_roots() -> Vec<reqwest::Certificate> {
    let found = rustls_native_certs::load_native_certs();
    found
        .certs
        .into_iter()
        .filter(|der| rustls::RootCertStore::empty().add(der.clone()).is_ok())
        .filter_map(|der| reqwest::Certificate::from_der(der.as_ref()).ok())
        .collect()
}

/// The PEM certificates of `--ca-file`; at least one must be usable.
fn ca_file_roots(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, ClientError> {
    let bytes = std::fs::read(path).map_err(|source| ClientError::CaFileRead { path: path.to_owned(), source })?;
    let invalid = |reason: String| ClientError::CaFileInvalid { path: path.to_owned(), reason };
    let mut roots = Vec::new();
    for item in rustls_pemfile::certs(&mut bytes.as_slice()) {
        let der = item.map_err(|e| invalid(format!("bad PEM: {e}")))?;
        rustls::RootCertStore::empty().add(der.clone()).map_err(|e| invalid(format!("unusable certificate: {e}")))?;
        roots.push(reqwest::Certificate::from_der(der.as_ref()).map_err(|e| invalid(e.to_string()))?);
    }
    if roots.is_empty() {
        return Err(invalid("no CERTIFICATE block found".to_owned()));
    }
    Ok(roots)
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it (the maps stay consistent: every
/// critical section is a single insert, remove or read).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
