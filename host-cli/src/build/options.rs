//! What a directory build is told: platforms, the container's start-up settings, labels, annotations, and the one
//! timestamp everything is clamped to.

use std::collections::BTreeMap;

use nv2_core::oci::Platform;
use nv2_core::time::Timestamp;

use super::error::BuildError;

/// Options of a directory build (`nv2 build <dir>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildOptions {
    /// One image per platform; more than one gives an index. Empty means `linux/amd64`.
    pub platforms: Vec<Platform>,
    /// `config.Entrypoint` (`--entrypoint`); empty leaves it unset.
    pub entrypoint: Vec<String>,
    /// `config.Cmd`; empty leaves it unset.
    pub cmd: Vec<String>,
    /// `config.Env` entries, `KEY=VALUE`, in order (`--env`).
    pub env: Vec<String>,
    /// `config.WorkingDir`, an absolute path inside the image.
    pub working_dir: Option<String>,
    /// `config.Labels`.
    pub labels: BTreeMap<String, String>,
    /// Annotations of the manifests (and the index).
    pub annotations: BTreeMap<String, String>,
    /// `SOURCE_DATE_EPOCH`: the config's `created`, and the latest mtime any file may carry. `None` means the Unix
    /// epoch, with every mtime set to 0. See [`source_date_epoch_from_env`].
    pub source_date_epoch: Option<u64>,
}

/// Reads `SOURCE_DATE_EPOCH` (the reproducible-builds convention): unset or empty is `None`, a non-negative integer
/// is the timestamp, anything else is refused rather than silently ignored.
pub fn source_date_epoch_from_env() -> Result<Option<u64>, BuildError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(BuildError::InvalidOption {
            option: String::from("SOURCE_DATE_EPOCH"),
            reason: String::from("is not valid UTF-8"),
        }),
        Ok(text) if text.trim().is_empty() => Ok(None),
        Ok(text) => parse_source_date_epoch(&text).map(Some),
    }
}

/// Parses a `SOURCE_DATE_EPOCH` value: whole seconds since the Unix epoch.
pub fn parse_source_date_epoch(text: &str) -> Result<u64, BuildError> {
    let invalid = |reason: &str| BuildError::InvalidOption {
        option: format!("SOURCE_DATE_EPOCH={text}"),
        reason: reason.to_string(),
    };
    let trimmed = text.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid("must be a whole number of seconds since 1970-01-01T00:00:00Z"));
    }
    let seconds: u64 = trimmed.parse().map_err(|_| invalid("is out of range"))?;
    // Beyond year 9999 RFC 3339 (and every config reader) breaks; refuse rather than emit a bad `created`.
    if seconds > 253_402_300_799 {
        return Err(invalid("is after the year 9999"));
    }
    Ok(seconds)
}

impl BuildOptions {
    /// Checks the options a config would carry: `KEY=VALUE` environment entries, an absolute working directory.
    pub fn validate(&self) -> Result<(), BuildError> {
        for entry in &self.env {
            match entry.split_once('=') {
                Some((key, _)) if !key.is_empty() && !key.contains('\0') => {}
                _ => {
                    return Err(BuildError::InvalidOption {
                        option: format!("--env {entry}"),
                        reason: String::from("expected KEY=VALUE with a non-empty KEY"),
                    })
                }
            }
        }
        if let Some(dir) = &self.working_dir {
            if !dir.starts_with('/') {
                return Err(BuildError::InvalidOption {
                    option: format!("--workdir {dir}"),
                    reason: String::from("must be an absolute path inside the image"),
                });
            }
        }
        if let Some(seconds) = self.source_date_epoch {
            parse_source_date_epoch(&seconds.to_string())?;
        }
        Ok(())
    }

    /// The `created` time of config and history: `SOURCE_DATE_EPOCH`, else the Unix epoch.
    pub fn created(&self) -> String {
        let seconds = self.source_date_epoch.and_then(|s| i64::try_from(s).ok()).unwrap_or(0);
        Timestamp::from_unix(seconds).to_rfc3339()
    }

    /// The mtime a file with mtime `mtime` gets in the layer: clamped to `SOURCE_DATE_EPOCH` (newer files get
    /// exactly it), or 0 when none is set.
    pub fn clamp_mtime(&self, mtime: u64) -> u64 {
        self.source_date_epoch.map_or(0, |epoch| mtime.min(epoch))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_env_workdir_and_epoch() {
        let ok = BuildOptions {
            env: vec!["PATH=/usr/bin".into(), "EMPTY=".into()],
            working_dir: Some("/app".into()),
            ..Default::default()
        };
        ok.validate().unwrap();
        for bad in [
            BuildOptions { env: vec!["NOVALUE".into()], ..Default::default() },
            BuildOptions { env: vec!["=x".into()], ..Default::default() },
            BuildOptions { working_dir: Some("app".into()), ..Default::default() },
            BuildOptions { source_date_epoch: Some(u64::MAX), ..Default::default() },
        ] {
            assert!(matches!(bad.validate(), Err(BuildError::InvalidOption { .. })), "{bad:?}");
        }
        assert_eq!(parse_source_date_epoch("1700000000").unwrap(), 1_700_000_000);
        for bad in ["-1", "1.5", "x", ""] {
            assert!(parse_source_date_epoch(bad).is_err(), "{bad}");
        }
        let clamped = BuildOptions { source_date_epoch: Some(100), ..Default::default() };
        assert_eq!((clamped.clamp_mtime(50), clamped.clamp_mtime(500)), (50, 100));
        assert_eq!(BuildOptions::default().clamp_mtime(500), 0);
        assert_eq!(clamped.created(), "1970-01-01T00:01:40Z");
    }
}
