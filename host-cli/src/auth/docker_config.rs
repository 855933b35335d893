//! docker's `config.json`, read and rewritten without losing what nv2 does not understand.
//!
//! The whole document is kept as a JSON object; only the `auths` entries nv2 logs in or out are changed, so
//! `credsStore`, `proxies`, `psFormat`, plugin settings and every other registry's entry survive a rewrite.
//! Registry names are matched the way docker matches them: by host, ignoring an `http(s)://` prefix and any path,
//! with every Docker Hub spelling meaning the one key `https://index.docker.io/v1/`.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64ct::{Base64, Base64Unpadded, Encoding};
use serde_json::{Map, Value};

use super::{AuthError, Credential};
use crate::atomic_file::{self, Mode};

/// Largest config file read (real ones are a few KiB).
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;
/// The key docker uses for Docker Hub in `auths` and with credential helpers.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// Host names that all mean Docker Hub.
const DOCKER_HUB_HOSTS: [&str; 4] = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];
/// Entry fields that hold secrets; replaced on login, so a stale password never survives next to a new token.
const SECRET_FIELDS: [&str; 5] = ["auth", "username", "password", "identitytoken", "registrytoken"];

/// The key under which docker stores `registry`'s credential: `https://index.docker.io/v1/` for Docker Hub, the
/// registry's `host[:port]` otherwise. Also the server name given to credential helpers.
pub fn config_key(registry: &str) -> String {
    if DOCKER_HUB_HOSTS.contains(&canonical_host(registry).as_str()) {
        DOCKER_HUB_KEY.to_owned()
    } else {
        registry.to_owned()
    }
}

/// Whether two spellings (`host`, `https://host`, `https://host/v1/`, `docker.io` vs `index.docker.io`) name the
/// same registry.
pub fn same_registry(a: &str, b: &str) -> bool {
    canonical_host(a) == canonical_host(b)
}

/// `host[:port]`, lower-case, with the scheme and path dropped and Docker Hub aliases folded to `docker.io`.
fn canonical_host(key: &str) -> String {
    let trimmed = key.trim();
    let without_scheme =
        trimmed.strip_prefix("https://").or_else(|| trimmed.strip_prefix("http://")).unwrap_or(trimmed);
    let host = without_scheme.split('/').next().unwrap_or_default().to_ascii_lowercase();
    if DOCKER_HUB_HOSTS.contains(&host.as_str()) {
        nv2_core::oci::reference::DOCKER_HUB.to_owned()
    } else {
        host
    }
}

/// A loaded `config.json`.
pub(super) struct ConfigFile {
    /// Where it is written back (a symlinked config is written through to its target, as docker does).
    path: PathBuf,
    root: Map<String, Value>,
}

impl ConfigFile {
    /// Reads `path`; a missing or empty file is an empty configuration.
    pub(super) fn load(path: &Path) -> Result<Self, AuthError> {
        let path = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
        let read_error = |source| AuthError::Read { path: path.clone(), source };
        let file = match fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile { path, root: Map::new() }),
            Err(e) => return Err(read_error(e)),
        };
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(read_error)?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(malformed(&path, format!("larger than {MAX_CONFIG_BYTES} bytes")));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(ConfigFile { path, root: Map::new() });
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(root)) => Ok(ConfigFile { path, root }),
            Ok(_) => Err(malformed(&path, "the document is not a JSON object".into())),
            Err(e) => Err(malformed(&path, format!("not valid JSON: {e}"))),
        }
    }

    /// The file written by [`Self::save`].
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The helper responsible for `registry`: its `credHelpers` entry, else `credsStore`.
    pub(super) fn helper_for(&self, registry: &str) -> Result<Option<String>, AuthError> {
        if let Some(helpers) = self.object("credHelpers")? {
            for (key, value) in helpers {
                if same_registry(key, registry) {
                    let name = value
                        .as_str()
                        .ok_or_else(|| malformed(&self.path, format!("credHelpers entry {key:?} is not a string")))?;
                    if !name.is_empty() {
                        return Ok(Some(name.to_owned()));
                    }
                }
            }
        }
        self.creds_store()
    }

    /// The global credential helper (`credsStore`), if set.
    pub(super) fn creds_store(&self) -> Result<Option<String>, AuthError> {
        match self.root.get("credsStore") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(name)) if name.is_empty() => Ok(None),
            Some(Value::String(name)) => Ok(Some(name.clone())),
            Some(_) => Err(malformed(&self.path, "credsStore is not a string".into())),
        }
    }

    /// The `auths` credential for `registry`: the exact key first, then any key naming the same host.
    pub(super) fn auth_entry(&self, registry: &str) -> Result<Credential, AuthError> {
        let Some(auths) = self.object("auths")? else { return Ok(Credential::None) };
        let exact = config_key(registry);
        let entry = auths
            .get(&exact)
            .map(|entry| (exact.as_str(), entry))
            .or_else(|| auths.iter().find(|(key, _)| same_registry(key, registry)).map(|(k, v)| (k.as_str(), v)));
        match entry {
            None => Ok(Credential::None),
            Some((key, entry)) => decode_entry(&self.path, key, entry),
        }
    }

    /// Sets `registry`'s `auths` entry to `credential`, keeping the entry's non-secret fields (`email`, ...).
    pub(super) fn set_auth_entry(&mut self, registry: &str, credential: &Credential) -> Result<(), AuthError> {
        let path = self.path.clone();
        let auths = self.object_mut("auths")?;
        let entry = auths.entry(config_key(registry)).or_insert_with(|| Value::Object(Map::new()));
        let Value::Object(fields) = entry else {
            return Err(malformed(&path, format!("auths entry for {registry:?} is not an object")));
        };
        for secret in SECRET_FIELDS {
            fields.remove(secret);
        }
        match credential {
            Credential::Basic { username, password } => {
                let encoded = Base64::encode_string(format!("{username}:{password}").as_bytes());
                fields.insert("auth".into(), Value::String(encoded));
            }
            Credential::IdentityToken(token) => {
                fields.insert("identitytoken".into(), Value::String(token.clone()));
            }
            Credential::None => {}
        }
        Ok(())
    }

    /// Removes every `auths` entry naming `registry`; returns whether there was one.
    pub(super) fn remove_auth_entries(&mut self, registry: &str) -> Result<bool, AuthError> {
        if self.object("auths")?.is_none() {
            return Ok(false);
        }
        let auths = self.object_mut("auths")?;
        let before = auths.len();
        auths.retain(|key, _| !same_registry(key, registry));
        Ok(auths.len() != before)
    }

    /// Writes the document back atomically, owner-only (it holds secrets), tab-indented as docker writes it.
    pub(super) fn save(&self) -> Result<(), AuthError> {
        let mut bytes = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
        let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
        serde::Serialize::serialize(&self.root, &mut serializer)
            .map_err(|e| malformed(&self.path, format!("cannot serialise: {e}")))?;
        bytes.push(b'\n');
        atomic_file::write(&self.path, &bytes, Mode::Private)
            .map_err(|source| AuthError::Write { path: self.path.clone(), source })
    }

    fn object(&self, key: &str) -> Result<Option<&Map<String, Value>>, AuthError> {
        match self.root.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(_) => Err(malformed(&self.path, format!("{key} is not an object"))),
        }
    }

    fn object_mut(&mut self, key: &str) -> Result<&mut Map<String, Value>, AuthError> {
        let value = self.root.entry(key.to_owned()).or_insert_with(|| Value::Object(Map::new()));
        if value.is_null() {
            *value = Value::Object(Map::new());
        }
        match value {
            Value::Object(map) => Ok(map),
            _ => Err(malformed(&self.path, format!("{key} is not an object"))),
        }
    }
}

/// Reads one `auths` entry: `identitytoken`, else `auth` (base64 `user:pass`), else `username` + `password`.
fn decode_entry(path: &Path, key: &str, entry: &Value) -> Result<Credential, AuthError> {
    let bad = |what: &str| malformed(path, format!("auths entry {key:?}: {what}"));
    let Value::Object(fields) = entry else { return Err(bad("not an object")) };
    let text = |name: &str| -> Result<Option<&str>, AuthError> {
        match fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(bad(&format!("{name} is not a string"))),
        }
    };
    if let Some(token) = text("identitytoken")? {
        return Ok(Credential::IdentityToken(token.to_owned()));
    }
    if let Some(auth) = text("auth")? {
        let auth = auth.trim();
        let decoded = Base64::decode_vec(auth)
            .or_else(|_| Base64Unpadded::decode_vec(auth))
            .map_err(|_| bad("auth is not base64"))?;
        let decoded = String::from_utf8(decoded).map_err(|_| bad("auth is not UTF-8"))?;
        let (username, password) = decoded.split_once(':').ok_or_else(|| bad("auth is not base64 of user:password"))?;
        if username.is_empty() && password.is_empty() {
            return Ok(Credential::None);
        }
        return Ok(Credential::Basic { username: username.to_owned(), password: password.to_owned() });
    }
    match (text("username")?, text("password")?) {
        (Some(username), Some(password)) => {
            Ok(Credential::Basic { username: username.to_owned(), password: password.to_owned() })
        }
        _ => Ok(Credential::None),
    }
}

fn malformed(path: &Path, reason: String) -> AuthError {
    AuthError::MalformedConfig { path: path.to_owned(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_normalise_like_docker() {
        assert_eq!(config_key("docker.io"), DOCKER_HUB_KEY);
        assert_eq!(config_key("index.docker.io"), DOCKER_HUB_KEY);
        assert_eq!(config_key("localhost:5000"), "localhost:5000");
        assert!(same_registry("https://index.docker.io/v1/", "docker.io"));
        assert!(same_registry("https://ghcr.io", "ghcr.io"));
        assert!(same_registry("http://Reg.Example:5000/v2/", "reg.example:5000"));
        assert!(!same_registry("reg.example:5000", "reg.example"));
    }

    #[test]
    fn entries_decode_every_docker_spelling() {
        let path = Path::new("/c.json");
        let basic = |u: &str, p: &str| Credential::Basic { username: u.into(), password: p.into() };
        let auth = Base64::encode_string(b"alice:pa:ss");
        let cases = [
            (serde_json::json!({"auth": auth}), basic("alice", "pa:ss")),
            (serde_json::json!({"auth": "YWxpY2U6cHc"}), basic("alice", "pw")),
            (serde_json::json!({"username": "bob", "password": "x"}), basic("bob", "x")),
            (serde_json::json!({"auth": auth, "identitytoken": "rt"}), Credential::IdentityToken("rt".into())),
            (serde_json::json!({"email": "a@b"}), Credential::None),
        ];
        for (entry, expected) in cases {
            assert_eq!(decode_entry(path, "k", &entry).unwrap(), expected, "{entry}");
        }
        for bad in [serde_json::json!("x"), serde_json::json!({"auth": "!!!"}), serde_json::json!({"auth": 3})] {
            let err = decode_entry(path, "k", &bad).unwrap_err();
            assert!(matches!(err, AuthError::MalformedConfig { .. }) && err.to_string().contains("/c.json"));
        }
        let no_colon = serde_json::json!({"auth": Base64::encode_string(b"alice")});
        assert!(decode_entry(path, "k", &no_colon).is_err());
    }
}
