//! Access control for the three deployments of the prototype environment: public (anonymous pull, authenticated
//! push), private (authenticated pull and push) and read-only (pull only).
//!
//! Credentials come from an htpasswd file (bcrypt entries only). Clients either send them as HTTP Basic on every
//! request, or use the built-in token service (the Docker token flow): a 401 carries
//! `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, the client fetches `/auth/token` with Basic credentials and
//! gets a short-lived HMAC-signed token listing exactly the repository actions the config grants it.

mod token;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::config::{AccessMode, Settings};

pub use token::TokenClaims;

/// How long a successful bcrypt check is remembered (bcrypt is deliberately slow).
const CREDENTIAL_CACHE: Duration = Duration::from_secs(300);
/// Largest htpasswd file read.
const MAX_HTPASSWD_BYTES: u64 = 4 * 1024 * 1024;

/// Why access control could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The htpasswd file could not be read.
    #[error("cannot read htpasswd file: {0}")]
    Htpasswd(std::io::Error),
    /// A line of the htpasswd file is not `user:$2…bcrypt`.
    #[error("htpasswd line {0} is not a bcrypt entry (user:$2y$…)")]
    HtpasswdLine(usize),
    /// The mode needs users but no htpasswd file was configured.
    #[error("access mode {0:?} needs an htpasswd file (--htpasswd)")]
    NoUsers(AccessMode),
}

/// Which credentials scheme clients are told to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AuthScheme {
    /// HTTP Basic on every request.
    #[default]
    Basic,
    /// Docker token flow with the built-in token service at `/auth/token`.
    Token,
}

/// One grant of repository actions to a user.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// User name, or `*` for every authenticated user.
    pub user: String,
    /// Repository patterns: exact names, `prefix/*`, or `*`.
    pub repositories: Vec<String>,
    /// Actions: `pull`, `push`, `delete`, or `*`.
    pub actions: Vec<String>,
}

/// An action on a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read.
    Pull,
    /// Write.
    Push,
    /// Delete.
    Delete,
}

impl Action {
    /// The scope word.
    pub fn name(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    fn parse(word: &str) -> Option<Self> {
        match word {
            "pull" => Some(Action::Pull),
            "push" => Some(Action::Push),
            "delete" => Some(Action::Delete),
            _ => None,
        }
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy)]
pub struct Need<'a> {
    /// Repository, or `None` for registry-level endpoints (`/v2/`, catalog).
    pub repo: Option<&'a str>,
    /// The action.
    pub action: Action,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// No or bad credentials: 401 with this `WWW-Authenticate` value.
    Challenge(String),
    /// Authenticated but not allowed: 403.
    Forbidden,
}

/// The caller as established from its credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Caller {
    Anonymous,
    User(String),
    Token(TokenClaims),
}

/// Access control state.
pub struct Auth {
    mode: AccessMode,
    scheme: AuthScheme,
    users: HashMap<String, String>,
    grants: Vec<Grant>,
    realm: Option<String>,
    scheme_name: &'static str,
    service: String,
    ttl: Duration,
    key: [u8; 32],
    verified: Mutex<HashMap<String, ([u8; 32], Instant)>>,
}

impl Auth {
    /// Builds access control from settings; `None` when the registry is open or read-only without users.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, AuthError> {
        let users = match &settings.htpasswd {
            Some(path) => read_htpasswd(path)?,
            None => HashMap::new(),
        };
        match settings.access {
            AccessMode::Open => return Ok(None),
            AccessMode::ReadOnly if users.is_empty() => return Ok(None),
            AccessMode::Public | AccessMode::Private if users.is_empty() => {
                return Err(AuthError::NoUsers(settings.access))
            }
            _ => {}
        }
        let mut key = [0u8; 32];
        key[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        key[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Ok(Some(Auth {
            mode: settings.access,
            scheme: settings.auth_scheme,
            users,
            grants: settings.grants.clone(),
            realm: settings.token_realm.clone(),
            scheme_name: if settings.tls_cert.is_some() { "https" } else { "http" },
            service: settings.token_service.clone(),
            ttl: Duration::from_secs(settings.token_ttl_secs.max(1)),
            key,
            verified: Mutex::new(HashMap::new()),
        }))
    }

    /// Decides whether a request with `authorization` (and `host` for the token realm) may do `need`.
    pub fn authorize(&self, authorization: Option<&str>, host: Option<&str>, need: Need<'_>) -> Result<(), Denial> {
        let caller = self.identify(authorization).ok_or_else(|| self.challenge(host, need))?;
        if self.allowed(&caller, need) {
            return Ok(());
        }
        match caller {
            Caller::Anonymous => Err(self.challenge(host, need)),
            // A token that lacks the scope: ask for a new one with the right scope.
            Caller::Token(_) => Err(self.challenge(host, need)),
            Caller::User(_) => Err(Denial::Forbidden),
        }
    }

    fn identify(&self, authorization: Option<&str>) -> Option<Caller> {
        let Some(value) = authorization else { return Some(Caller::Anonymous) };
        let (kind, rest) = value.trim().split_once(' ')?;
        if kind.eq_ignore_ascii_case("basic") {
            self.basic(rest.trim()).map(Caller::User)
        } else if kind.eq_ignore_ascii_case("bearer") {
            token::verify(&self.key, rest.trim(), now_secs()).map(Caller::Token)
        } else {
            None
        }
    }

    fn basic(&self, encoded: &str) -> Option<String> {
        if encoded.len() > 4096 {
            return None;
        }
        let decoded = Base64::decode_vec(encoded).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        let hash = self.users.get(user)?;
        let fingerprint: [u8; 32] = Sha256::digest(format!("{user}\0{password}")).into();
        {
            let cache = self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((fp, at)) = cache.get(user) {
                if *fp == fingerprint && at.elapsed() < CREDENTIAL_CACHE {
                    return Some(user.to_owned());
                }
            }
        }
        if !bcrypt::verify(password, hash).unwrap_or(false) {
            return None;
        }
        let mut cache = self.verified.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        cache.insert(user.to_owned(), (fingerprint, Instant::now()));
        Some(user.to_owned())
    }

    fn anonymous_may(&self, action: Action) -> bool {
        action == Action::Pull && matches!(self.mode, AccessMode::Public | AccessMode::ReadOnly)
    }

    fn allowed(&self, caller: &Caller, need: Need<'_>) -> bool {
        if self.anonymous_may(need.action) {
            return true;
        }
        match caller {
            Caller::Anonymous => false,
            Caller::User(user) => match need.repo {
                None => true,
                Some(repo) => self.granted(user, repo, need.action),
            },
            Caller::Token(claims) => match need.repo {
                None => true,
                Some(repo) => claims.allows(repo, need.action.name()),
            },
        }
    }

    fn granted(&self, user: &str, repo: &str, action: Action) -> bool {
        if self.grants.is_empty() {
            return true;
        }
        self.grants.iter().any(|g| {
            (g.user == user || g.user == "*")
                && g.repositories.iter().any(|p| pattern_matches(p, repo))
                && g.actions.iter().any(|a| a == "*" || a == action.name())
        })
    }

    fn challenge(&self, host: Option<&str>, need: Need<'_>) -> Denial {
        match self.scheme {
            AuthScheme::Basic => Denial::Challenge("Basic realm=\"nv2-registry\"".to_owned()),
            AuthScheme::Token => {
                let realm = self.realm.clone().unwrap_or_else(|| {
                    format!("{}://{}/auth/token", self.scheme_name, host.unwrap_or("127.0.0.1:5000"))
                });
                let mut value = format!("Bearer realm=\"{realm}\",service=\"{}\"", self.service);
                if let Some(repo) = need.repo {
                    let actions = match need.action {
                        Action::Pull => "pull",
                        Action::Push => "pull,push",
                        Action::Delete => "delete",
                    };
                    value.push_str(&format!(",scope=\"repository:{repo}:{actions}\""));
                }
                Denial::Challenge(value)
            }
        }
    }

    /// The token service: grants the requested `scopes` that the caller is allowed, as a signed token.
    pub fn issue_token(&self, authorization: Option<&str>, scopes: &[String]) -> Result<serde_json::Value, Denial> {
        let caller = match self.identify(authorization) {
            Some(c @ (Caller::Anonymous | Caller::User(_))) => c,
            _ => return Err(Denial::Challenge("Basic realm=\"nv2-registry\"".to_owned())),
        };
        let subject = match &caller {
            Caller::User(u) => u.clone(),
            _ => String::new(),
        };
        let mut access = Vec::new();
        for scope in scopes.iter().flat_map(|s| s.split(' ')).take(32) {
            let mut parts = scope.splitn(3, ':');
            let (Some("repository"), Some(name), Some(actions)) = (parts.next(), parts.next(), parts.next()) else {
                continue;
            };
            if crate::content::validate_repository_name(name).is_err() {
                continue;
            }
            let granted: Vec<String> = actions
                .split(',')
                .filter_map(Action::parse)
                .filter(|a| self.allowed(&caller, Need { repo: Some(name), action: *a }))
                .map(|a| a.name().to_owned())
                .collect();
            if !granted.is_empty() {
                access.push((name.to_owned(), granted));
            }
        }
        let now = now_secs();
        let claims = TokenClaims::new(subject, now + self.ttl.as_secs(), access);
        let token = token::sign(&self.key, &claims);
        Ok(serde_json::json!({
            "token": token, "access_token": token, "expires_in": self.ttl.as_secs(),
            "issued_at": nv2_core::time::Timestamp::from_unix(i64::try_from(now).unwrap_or(i64::MAX)).to_rfc3339(),
        }))
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// `*` matches everything, `prefix/*` matches names under the prefix, anything else must be equal.
fn pattern_matches(pattern: &str, repo: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_suffix("/*") {
        Some(prefix) => repo.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/')),
        None => pattern == repo,
    }
}

fn read_htpasswd(path: &Path) -> Result<HashMap<String, String>, AuthError> {
    let meta = std::fs::metadata(path).map_err(AuthError::Htpasswd)?;
    if meta.len() > MAX_HTPASSWD_BYTES {
        return Err(AuthError::Htpasswd(std::io::Error::other("file too large")));
    }
    let text = std::fs::read_to_string(path).map_err(AuthError::Htpasswd)?;
    let mut users = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (user, hash) = line.split_once(':').ok_or(AuthError::HtpasswdLine(i + 1))?;
        if user.is_empty() || !hash.starts_with("$2") {
            return Err(AuthError::HtpasswdLine(i + 1));
        }
        users.insert(user.to_owned(), hash.to_owned());
    }
    Ok(users)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(mode: AccessMode, scheme: AuthScheme, grants: Vec<Grant>) -> Auth {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("htpasswd");
        let hash = bcrypt::hash("secret", 4).unwrap();
        std::fs::write(&path, format!("alice:{hash}\nbob:{hash}\n")).unwrap();
        let settings =
            Settings { access: mode, auth_scheme: scheme, htpasswd: Some(path), grants, ..Settings::default() };
        Auth::from_settings(&settings).unwrap().unwrap()
    }

    fn basic(user: &str, pw: &str) -> String {
        format!("Basic {}", Base64::encode_string(format!("{user}:{pw}").as_bytes()))
    }

    const PULL: Need<'static> = Need { repo: Some("team/app"), action: Action::Pull };
    const PUSH: Need<'static> = Need { repo: Some("team/app"), action: Action::Push };

    #[test]
    fn public_and_private_modes() {
        let public = auth(AccessMode::Public, AuthScheme::Basic, vec![]);
        assert_eq!(public.authorize(None, None, PULL), Ok(()));
        assert!(matches!(public.authorize(None, None, PUSH), Err(Denial::Challenge(_))));
        assert_eq!(public.authorize(Some(&basic("alice", "secret")), None, PUSH), Ok(()));
        assert!(matches!(public.authorize(Some(&basic("alice", "wrong")), None, PUSH), Err(Denial::Challenge(_))));
        assert!(matches!(public.authorize(Some("Basic !!!"), None, PUSH), Err(Denial::Challenge(_))));

        let private = auth(AccessMode::Private, AuthScheme::Basic, vec![]);
        assert!(matches!(private.authorize(None, None, PULL), Err(Denial::Challenge(_))));
        assert_eq!(private.authorize(Some(&basic("bob", "secret")), None, PULL), Ok(()));
    }

    #[test]
    fn grants_limit_users() {
        let grants = vec![Grant {
            user: "alice".into(),
            repositories: vec!["team/*".into()],
            actions: vec!["pull".into(), "push".into()],
        }];
        let a = auth(AccessMode::Private, AuthScheme::Basic, grants);
        assert_eq!(a.authorize(Some(&basic("alice", "secret")), None, PUSH), Ok(()));
        assert_eq!(a.authorize(Some(&basic("bob", "secret")), None, PULL), Err(Denial::Forbidden));
        let other = Need { repo: Some("teamx/app"), action: Action::Pull };
        assert_eq!(a.authorize(Some(&basic("alice", "secret")), None, other), Err(Denial::Forbidden));
    }

    #[test]
    fn token_flow() {
        let a = auth(AccessMode::Private, AuthScheme::Token, vec![]);
        let Err(Denial::Challenge(c)) = a.authorize(None, Some("reg:5000"), PUSH) else { panic!() };
        assert_eq!(
            c,
            "Bearer realm=\"http://reg:5000/auth/token\",service=\"nv2-registry\",scope=\"repository:team/app:pull,push\""
        );
        let t = a.issue_token(Some(&basic("alice", "secret")), &["repository:team/app:pull".into()]).unwrap();
        let bearer = format!("Bearer {}", t["token"].as_str().unwrap());
        assert_eq!(a.authorize(Some(&bearer), None, PULL), Ok(()));
        // The token carries only pull: a push needs a new token.
        assert!(matches!(a.authorize(Some(&bearer), None, PUSH), Err(Denial::Challenge(_))));
        // Tampered tokens are refused.
        let mut forged = t["token"].as_str().unwrap().to_owned();
        forged.insert(3, 'x');
        assert!(matches!(a.authorize(Some(&format!("Bearer {forged}")), None, PULL), Err(Denial::Challenge(_))));
        // Wrong password: no token at all.
        assert!(a.issue_token(Some(&basic("alice", "nope")), &[]).is_err());
        // Anonymous in private mode gets a token with no access.
        let anon = a.issue_token(None, &["repository:team/app:pull".into()]).unwrap();
        let bearer = format!("Bearer {}", anon["token"].as_str().unwrap());
        assert!(a.authorize(Some(&bearer), None, PULL).is_err());
    }

    #[test]
    fn patterns() {
        assert!(pattern_matches("*", "a/b"));
        assert!(pattern_matches("a/*", "a/b/c"));
        assert!(!pattern_matches("a/*", "ab/c"));
        assert!(!pattern_matches("a/*", "a"));
        assert!(pattern_matches("a/b", "a/b"));
    }
}
