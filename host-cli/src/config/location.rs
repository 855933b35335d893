//! Where the configuration directory is, and why it is there.
//!
//! The order is: an explicit path (`--config`), `NV2_CONFIG`, `NOTATION_CONFIG` (so a notation user's directory is
//! used as it is), `$XDG_CONFIG_HOME/nv2`, `~/.config/nv2`, and when the home directory is unknown `./.nv2` (the
//! fallback notation uses too, with its own name). Empty variables count as unset, as in Go; a relative
//! `XDG_CONFIG_HOME` is ignored, as the XDG specification says.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// The directory name under the user's configuration directory.
pub const DIRECTORY_NAME: &str = "nv2";
/// nv2's own override variable.
pub const NV2_CONFIG: &str = "NV2_CONFIG";
/// notation's override variable, honoured so both tools share one directory.
pub const NOTATION_CONFIG: &str = "NOTATION_CONFIG";

/// Which rule chose the directory (for `nv2 config path`-style reports and error messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocationSource {
    /// The `--config` flag.
    Flag,
    /// The `NV2_CONFIG` environment variable.
    Nv2Config,
    /// The `NOTATION_CONFIG` environment variable.
    NotationConfig,
    /// `$XDG_CONFIG_HOME/nv2`.
    XdgConfigHome,
    /// `$HOME/.config/nv2` (on Windows `%APPDATA%\nv2`).
    Home,
    /// `./.nv2`, because no home directory is known.
    CurrentDirectory,
}

impl fmt::Display for LocationSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LocationSource::Flag => "--config",
            LocationSource::Nv2Config => "$NV2_CONFIG",
            LocationSource::NotationConfig => "$NOTATION_CONFIG",
            LocationSource::XdgConfigHome => "$XDG_CONFIG_HOME",
            LocationSource::Home => "the home directory",
            LocationSource::CurrentDirectory => "the current directory (no home directory is known)",
        })
    }
}

/// The chosen configuration directory and the rule that chose it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigLocation {
    /// The directory (absolute whenever the current directory is known).
    pub path: PathBuf,
    /// Why this directory.
    pub source: LocationSource,
}

impl ConfigLocation {
    /// Resolves the directory from `explicit` (the `--config` flag) and the process environment.
    pub fn resolve(explicit: Option<&Path>) -> Self {
        Self::resolve_with(explicit, |name| std::env::var_os(name))
    }

    /// [`ConfigLocation::resolve`] with the environment supplied by `env` (tests pass a map).
    pub fn resolve_with(explicit: Option<&Path>, env: impl Fn(&str) -> Option<OsString>) -> Self {
        let set = |name: &str| env(name).filter(|value| !value.is_empty()).map(PathBuf::from);
        let (path, source) = if let Some(path) = explicit.filter(|p| !p.as_os_str().is_empty()) {
            (path.to_path_buf(), LocationSource::Flag)
        } else if let Some(path) = set(NV2_CONFIG) {
            (path, LocationSource::Nv2Config)
        } else if let Some(path) = set(NOTATION_CONFIG) {
            (path, LocationSource::NotationConfig)
        } else if let Some(path) = set("XDG_CONFIG_HOME").filter(|p| p.is_absolute()) {
            (path.join(DIRECTORY_NAME), LocationSource::XdgConfigHome)
        } else if let Some(path) = user_config_dir(&set) {
            (path.join(DIRECTORY_NAME), LocationSource::Home)
        } else {
            (PathBuf::from(format!(".{DIRECTORY_NAME}")), LocationSource::CurrentDirectory)
        };
        ConfigLocation { path: std::path::absolute(&path).unwrap_or(path), source }
    }
}

#[cfg(not(windows))]
fn user_config_dir(set: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    set("HOME").map(|home| home.join(".config"))
}

#[cfg(windows)]
fn user_config_dir(set: &dyn Fn(&str) -> Option<PathBuf>) -> Option<PathBuf> {
    set("APPDATA")
}

impl fmt::Display for ConfigLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (from {})", self.path.display(), self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(explicit: Option<&str>, vars: &[(&str, &str)]) -> ConfigLocation {
        let vars: HashMap<String, OsString> = vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        ConfigLocation::resolve_with(explicit.map(Path::new), |name| vars.get(name).cloned())
    }

    #[test]
    fn follows_the_documented_order() {
        let all =
            [("NV2_CONFIG", "/n"), ("NOTATION_CONFIG", "/notation"), ("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/home/u")];
        assert_eq!(resolve(Some("/flag"), &all), ConfigLocation { path: "/flag".into(), source: LocationSource::Flag });
        assert_eq!(resolve(None, &all).source, LocationSource::Nv2Config);
        assert_eq!(resolve(None, &all[1..]).path, PathBuf::from("/notation"));
        assert_eq!(resolve(None, &all[2..]).path, PathBuf::from("/xdg/nv2"));
        #[cfg(not(windows))]
        assert_eq!(
            resolve(None, &all[3..]),
            ConfigLocation { path: "/home/u/.config/nv2".into(), source: LocationSource::Home }
        );
        let fallback = resolve(None, &[]);
        assert_eq!(fallback.source, LocationSource::CurrentDirectory);
        assert!(fallback.path.ends_with(".nv2") && fallback.path.is_absolute());
    }

    #[test]
    fn empty_variables_and_relative_xdg_are_ignored() {
        let location = resolve(Some(""), &[("NV2_CONFIG", ""), ("XDG_CONFIG_HOME", "relative"), ("HOME", "/h")]);
        #[cfg(not(windows))]
        {
            assert_eq!(location.path, PathBuf::from("/h/.config/nv2"));
            assert_eq!(location.source, LocationSource::Home);
            assert!(location.to_string().contains("home directory"));
        }
    }
}
