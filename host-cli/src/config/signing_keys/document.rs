//! The `signingkeys.json` document, exactly notation's schema:
//!
//! ```json
//! {"default": "mykey",
//!  "keys": [{"name": "mykey", "keyPath": "/abs/mykey.key", "certPath": "/abs/mykey.crt"},
//!           {"name": "remote", "id": "key-id", "pluginName": "com.example.kms", "pluginConfig": {"k": "v"}}]}
//! ```
//!
//! Reading applies notation-go's rules (unique names, the default must exist) plus the ones its writers always
//! satisfy (each entry is either a local key pair or a plugin key, with absolute paths). Empty strings and `null`
//! read as absent, as Go's `omitempty` fields do; unknown members are ignored, as Go's decoder does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{json_file, ConfigError, SigningKeysRule};

/// Where a registered key lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// A private key file and its certificate chain file (leaf first), both absolute paths.
    Local {
        /// `keyPath`: the private key (PEM).
        key_path: PathBuf,
        /// `certPath`: the certificate chain (PEM, leaf first).
        cert_path: PathBuf,
    },
    /// A key held by a notation signing plugin (listed and kept, but nv2 cannot sign with it).
    Plugin {
        /// `id`: the key's identifier inside the plugin.
        id: String,
        /// `pluginName`: the plugin (`notation-<name>` executable).
        plugin_name: String,
        /// `pluginConfig`: settings passed to the plugin.
        plugin_config: BTreeMap<String, String>,
    },
}

/// One entry of `keys`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyEntry {
    /// The key's unique name (`--key NAME`).
    pub name: String,
    /// Its files or plugin.
    pub source: KeySource,
}

/// A validated `signingkeys.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SigningKeys {
    /// The key used when `sign` is given no `--key`.
    pub default: Option<String>,
    /// Every registered key, in file order.
    pub keys: Vec<KeyEntry>,
}

impl SigningKeys {
    /// The entry named `name`.
    pub fn get(&self, name: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|key| key.name == name)
    }

    /// The default entry, if a default is set.
    pub fn default_key(&self) -> Option<&KeyEntry> {
        self.default.as_deref().and_then(|name| self.get(name))
    }

    /// Parses and validates the document; `path` names the file in errors.
    pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Self, ConfigError> {
        let raw: RawDocument = json_file::parse(bytes, path)?;
        let rule = |rule: SigningKeysRule| ConfigError::SigningKeys { path: path.into(), rule };
        let mut keys: Vec<KeyEntry> = Vec::new();
        for (index, entry) in raw.keys.unwrap_or_default().into_iter().enumerate() {
            let entry = entry.into_entry(index).map_err(rule)?;
            if keys.iter().any(|k| k.name == entry.name) {
                return Err(rule(SigningKeysRule::DuplicateName(entry.name)));
            }
            keys.push(entry);
        }
        let default = raw.default.filter(|name| !name.is_empty());
        if let Some(name) = &default {
            if !keys.iter().any(|k| &k.name == name) {
                return Err(rule(SigningKeysRule::DefaultNotFound(name.clone())));
            }
        }
        Ok(SigningKeys { default, keys })
    }

    /// The document as notation writes it (pretty JSON, members in notation's order).
    pub(crate) fn to_json(&self, path: &Path) -> Result<Vec<u8>, ConfigError> {
        let mut keys = Vec::with_capacity(self.keys.len());
        for key in &self.keys {
            keys.push(match &key.source {
                KeySource::Local { key_path, cert_path } => RawEntry {
                    name: Some(key.name.clone()),
                    key_path: Some(utf8(key_path, path)?),
                    cert_path: Some(utf8(cert_path, path)?),
                    ..RawEntry::default()
                },
                KeySource::Plugin { id, plugin_name, plugin_config } => RawEntry {
                    name: Some(key.name.clone()),
                    id: Some(id.clone()),
                    plugin_name: Some(plugin_name.clone()),
                    plugin_config: Some(plugin_config.clone()).filter(|c| !c.is_empty()),
                    ..RawEntry::default()
                },
            });
        }
        let document = RawDocument { default: self.default.clone(), keys: Some(keys) };
        let mut bytes = serde_json::to_vec_pretty(&document)
            .map_err(|e| ConfigError::Json { path: path.into(), reason: e.to_string() })?;
        bytes.push(b'\n');
        Ok(bytes)
    }
}

fn utf8(value: &Path, document: &Path) -> Result<String, ConfigError> {
    value
        .to_str()
        .map(String::from)
        .ok_or_else(|| ConfigError::NonUtf8Path { path: value.into(), document: document.into() })
}

#[derive(Default, Serialize, Deserialize)]
struct RawDocument {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    default: Option<String>,
    #[serde(default)]
    keys: Option<Vec<RawEntry>>,
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEntry {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cert_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plugin_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    plugin_config: Option<BTreeMap<String, String>>,
}

fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

impl RawEntry {
    fn into_entry(self, index: usize) -> Result<KeyEntry, SigningKeysRule> {
        let name = present(self.name).ok_or(SigningKeysRule::MissingName { index })?;
        let (key_path, cert_path) = (present(self.key_path), present(self.cert_path));
        let (id, plugin_name) = (present(self.id), present(self.plugin_name));
        let local = key_path.is_some() || cert_path.is_some();
        let plugin = id.is_some() || plugin_name.is_some();
        let missing = |field: &'static str| SigningKeysRule::MissingField { name: name.clone(), field };
        let source = match (local, plugin) {
            (true, true) => return Err(SigningKeysRule::MixedKeySource(name)),
            (false, false) => return Err(SigningKeysRule::NoKeySource(name)),
            (true, false) => KeySource::Local {
                key_path: absolute(&name, "keyPath", key_path.ok_or_else(|| missing("keyPath"))?)?,
                cert_path: absolute(&name, "certPath", cert_path.ok_or_else(|| missing("certPath"))?)?,
            },
            (false, true) => KeySource::Plugin {
                id: id.ok_or_else(|| missing("id"))?,
                plugin_name: plugin_name.ok_or_else(|| missing("pluginName"))?,
                plugin_config: self.plugin_config.unwrap_or_default(),
            },
        };
        Ok(KeyEntry { name, source })
    }
}

fn absolute(name: &str, field: &'static str, value: String) -> Result<PathBuf, SigningKeysRule> {
    let path = PathBuf::from(&value);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(SigningKeysRule::RelativePath { name: name.into(), field, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SigningKeys, ConfigError> {
        SigningKeys::parse(text.as_bytes(), Path::new("/c/signingkeys.json"))
    }

    fn rule(text: &str) -> SigningKeysRule {
        match parse(text) {
            Err(ConfigError::SigningKeys { rule, path }) => {
                assert_eq!(path, Path::new("/c/signingkeys.json"));
                rule
            }
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn reads_local_and_plugin_keys_as_notation_writes_them() {
        let doc = parse(
            r#"{"default":"b","keys":[{"name":"a","keyPath":"/k/a.key","certPath":"/k/a.crt"},
                {"name":"b","id":"kid","pluginName":"kms","pluginConfig":{"region":"eu"}}]}"#,
        )
        .unwrap();
        assert_eq!(doc.default_key().unwrap().name, "b");
        assert_eq!(
            doc.get("a").unwrap().source,
            KeySource::Local { key_path: "/k/a.key".into(), cert_path: "/k/a.crt".into() }
        );
        let KeySource::Plugin { plugin_config, .. } = &doc.get("b").unwrap().source else { panic!("plugin") };
        assert_eq!(plugin_config["region"], "eu");
        let again = SigningKeys::parse(&doc.to_json(Path::new("/x")).unwrap(), Path::new("/x")).unwrap();
        assert_eq!(again, doc);
        assert_eq!(parse(r#"{"keys":null}"#).unwrap(), SigningKeys::default());
        assert_eq!(parse(r#"{"default":"","keys":[]}"#).unwrap(), SigningKeys::default());
        assert_eq!(parse("{}").unwrap(), SigningKeys::default());
    }

    #[test]
    fn refuses_what_notation_refuses() {
        let a = r#"{"name":"a","keyPath":"/a.key","certPath":"/a.crt"}"#;
        assert_eq!(rule(&format!(r#"{{"keys":[{a},{a}]}}"#)), SigningKeysRule::DuplicateName("a".into()));
        assert_eq!(rule(&format!(r#"{{"default":"b","keys":[{a}]}}"#)), SigningKeysRule::DefaultNotFound("b".into()));
        assert_eq!(rule(r#"{"keys":[{"keyPath":"/a","certPath":"/b"}]}"#), SigningKeysRule::MissingName { index: 0 });
        assert_eq!(rule(r#"{"keys":[{"name":"a"}]}"#), SigningKeysRule::NoKeySource("a".into()));
        assert!(matches!(
            rule(r#"{"keys":[{"name":"a","keyPath":"/a"}]}"#),
            SigningKeysRule::MissingField { field: "certPath", .. }
        ));
        assert!(matches!(
            rule(r#"{"keys":[{"name":"a","id":"x"}]}"#),
            SigningKeysRule::MissingField { field: "pluginName", .. }
        ));
        assert!(matches!(
            rule(r#"{"keys":[{"name":"a","keyPath":"/a","certPath":"/b","pluginName":"p"}]}"#),
            SigningKeysRule::MixedKeySource(_)
        ));
        assert!(matches!(
            rule(r#"{"keys":[{"name":"a","keyPath":"a.key","certPath":"/b"}]}"#),
            SigningKeysRule::RelativePath { field: "keyPath", .. }
        ));
        for malformed in ["", "[", "[]", r#"{"keys":{}}"#, r#"{"keys":[{"name":1}]}"#, r#"{"default":true}"#] {
            let err = parse(malformed).unwrap_err();
            assert!(matches!(err, ConfigError::Json { .. }), "{malformed}: {err}");
            assert!(err.to_string().contains("/c/signingkeys.json"), "{err}");
        }
    }
}
