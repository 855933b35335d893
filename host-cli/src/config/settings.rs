//! `config.json`: notation's general settings, read and written with notation's schema.
//!
//! ```json
//! {"insecureRegistries": ["localhost:5000"], "credsStore": "pass", "credHelpers": {"reg.io": "ecr-login"},
//!  "signatureFormat": "cose"}
//! ```
//!
//! Members nv2 does not know (oras' `auths`, settings of later notation versions) are kept and written back
//! unchanged, so saving never loses anything. A missing file means "all defaults", as in notation; empty strings
//! and `null` read as absent, as Go's decoder and `omitempty` make them.

use std::collections::BTreeMap;
use std::path::PathBuf;

use nv2_core::envelope::EnvelopeFormat;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{json_file, regular_file, ConfigDir, ConfigError};

/// The file name inside the configuration directory.
pub const SETTINGS_FILE: &str = "config.json";

/// Largest `config.json` accepted.
const MAX_SETTINGS_BYTES: usize = 1024 * 1024;

/// The contents of `config.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Registries spoken to over plain HTTP (`host[:port]`).
    #[serde(
        rename = "insecureRegistries",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub insecure_registries: Vec<String>,
    /// The docker credential store for every registry (`docker-credential-<name>`).
    #[serde(rename = "credsStore", default, skip_serializing_if = "Option::is_none", deserialize_with = "non_empty")]
    pub creds_store: Option<String>,
    /// Per-registry credential helpers.
    #[serde(
        rename = "credHelpers",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub cred_helpers: BTreeMap<String, String>,
    /// The envelope format `sign` uses when `--signature-format` is not given.
    #[serde(
        rename = "signatureFormat",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "write_format",
        deserialize_with = "read_format"
    )]
    pub signature_format: Option<EnvelopeFormat>,
    /// Every other member, kept as it was read.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Settings {
    /// Whether `registry` (`host[:port]`) is listed as insecure (plain HTTP).
    pub fn is_insecure_registry(&self, registry: &str) -> bool {
        self.insecure_registries.iter().any(|r| r == registry)
    }
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.filter(|s| !s.is_empty()))
}

fn read_format<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<EnvelopeFormat>, D::Error> {
    match Option::<String>::deserialize(deserializer)?.as_deref() {
        None | Some("") => Ok(None),
        Some(name) => [EnvelopeFormat::Jws, EnvelopeFormat::Cose]
            .into_iter()
            .find(|format| format.name() == name)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("signatureFormat {name:?} is not jws or cose"))),
    }
}

fn write_format<S: Serializer>(format: &Option<EnvelopeFormat>, serializer: S) -> Result<S::Ok, S::Error> {
    match format {
        Some(format) => serializer.serialize_str(format.name()),
        None => serializer.serialize_none(),
    }
}

impl ConfigDir {
    /// `config.json`.
    pub fn settings_path(&self) -> PathBuf {
        self.path().join(SETTINGS_FILE)
    }

    /// Reads `config.json`; a missing file gives the defaults.
    pub fn settings(&self) -> Result<Settings, ConfigError> {
        let path = self.settings_path();
        match regular_file::read(self.path(), &path, MAX_SETTINGS_BYTES)? {
            None => Ok(Settings::default()),
            Some(bytes) => json_file::parse(&bytes, &path),
        }
    }

    /// Writes `config.json` (mode 0600), keeping the members nv2 does not know.
    pub fn save_settings(&self, settings: &Settings) -> Result<(), ConfigError> {
        let path = self.settings_path();
        let mut bytes = serde_json::to_vec_pretty(settings)
            .map_err(|e| ConfigError::Json { path: path.clone(), reason: e.to_string() })?;
        bytes.push(b'\n');
        regular_file::write(&path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, ConfigDir) {
        let temp = tempfile::tempdir().unwrap();
        let config = ConfigDir::new(temp.path());
        (temp, config)
    }

    #[test]
    fn reads_notation_settings_and_keeps_unknown_members() {
        let (_temp, config) = dir();
        assert_eq!(config.settings().unwrap(), Settings::default(), "a missing file is all defaults");
        let text = r#"{"insecureRegistries":["localhost:5000"],"credsStore":"pass",
            "credHelpers":{"reg.io":"ecr-login"},"signatureFormat":"cose","auths":{"x":{"auth":"eA=="}},"future":1}"#;
        std::fs::write(config.settings_path(), text).unwrap();
        let mut settings = config.settings().unwrap();
        assert!(settings.is_insecure_registry("localhost:5000"));
        assert_eq!(settings.creds_store.as_deref(), Some("pass"));
        assert_eq!(settings.cred_helpers["reg.io"], "ecr-login");
        assert_eq!(settings.signature_format, Some(EnvelopeFormat::Cose));
        settings.signature_format = Some(EnvelopeFormat::Jws);
        config.save_settings(&settings).unwrap();
        let written: Value = serde_json::from_slice(&std::fs::read(config.settings_path()).unwrap()).unwrap();
        assert_eq!(written["signatureFormat"], "jws");
        assert_eq!(written["auths"]["x"]["auth"], "eA==", "unknown members survive a save");
        assert_eq!(written["future"], 1);
        assert_eq!(config.settings().unwrap(), settings);
    }

    #[test]
    fn null_and_empty_values_read_as_absent() {
        let (_temp, config) = dir();
        std::fs::write(
            config.settings_path(),
            r#"{"insecureRegistries":null,"credsStore":"","credHelpers":null,"signatureFormat":""}"#,
        )
        .unwrap();
        assert_eq!(config.settings().unwrap(), Settings::default());
    }

    #[test]
    fn malformed_settings_name_the_file() {
        let (_temp, config) = dir();
        for text in ["{", "[]", "", "null", r#"{"signatureFormat":"xml"}"#, r#"{"insecureRegistries":"localhost"}"#] {
            std::fs::write(config.settings_path(), text).unwrap();
            let err = config.settings().unwrap_err();
            assert!(matches!(err, ConfigError::Json { .. }), "{text}: {err}");
            assert!(err.to_string().contains("config.json"), "{err}");
        }
    }
}
