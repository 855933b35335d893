//! The docker CLI plugin face: the same binary, installed as `~/.docker/cli-plugins/docker-nv2`, answers the
//! plugin protocol so `docker nv2 build|sign|push|pull|verify` works.
//!
//! The docker CLI first runs `docker-nv2 docker-cli-plugin-metadata` and expects a JSON description; it then runs
//! `docker-nv2 nv2 <args...>` (the plugin name repeated as the first argument) with `DOCKER_CLI_PLUGIN_*`
//! variables set. Subcommands nv2 does not have are handed to `docker` itself when it is installed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The plugin's name: `docker nv2 ...`.
pub const PLUGIN_NAME: &str = "nv2";
/// The first argument of the metadata query.
pub const METADATA_COMMAND: &str = "docker-cli-plugin-metadata";
/// The subcommands `docker nv2` runs itself; anything else is passed through to `docker`.
pub const PLUGIN_COMMANDS: [&str; 9] = ["build", "sign", "push", "pull", "verify", "inspect", "list", "ls", "help"];

/// How the process was invoked.
#[derive(Debug, PartialEq, Eq)]
pub enum Invocation {
    /// As `nv2` (or as the plugin binary run by hand with nv2 arguments).
    Direct(Vec<OsString>),
    /// The docker CLI asks for the plugin metadata.
    Metadata,
    /// The docker CLI runs a plugin command: the arguments to parse as `nv2 <args>`.
    Plugin(Vec<OsString>),
    /// A subcommand nv2 does not have, to hand to `docker` unchanged.
    PassThrough(Vec<OsString>),
}

/// Decides how `args` (argv, program name first) is to be run.
pub fn classify(args: Vec<OsString>) -> Invocation {
    let program = args.first().map(|a| Path::new(a).file_name().map(|n| n.to_os_string()).unwrap_or_default());
    let as_plugin = program.as_deref().and_then(|p| p.to_str()).is_some_and(|p| p.starts_with("docker-nv2"));
    if !as_plugin {
        return Invocation::Direct(args);
    }
    let rest: Vec<OsString> = args.iter().skip(1).cloned().collect();
    match rest.first().and_then(|a| a.to_str()) {
        Some(METADATA_COMMAND) => Invocation::Metadata,
        Some(PLUGIN_NAME) => {
            let command = rest.get(1).and_then(|a| a.to_str()).unwrap_or("help");
            let known = PLUGIN_COMMANDS.contains(&command) || command.starts_with('-');
            let mut nv2_args = vec![OsString::from("nv2")];
            nv2_args.extend(rest.into_iter().skip(1));
            if known {
                Invocation::Plugin(nv2_args)
            } else {
                Invocation::PassThrough(nv2_args.into_iter().skip(1).collect())
            }
        }
        // Run by hand as `docker-nv2 sign ...`: behave as nv2.
        _ => {
            let mut nv2_args = vec![OsString::from("nv2")];
            nv2_args.extend(rest);
            Invocation::Direct(nv2_args)
        }
    }
}

/// The metadata JSON the docker CLI requires of a plugin.
pub fn metadata() -> serde_json::Value {
    serde_json::json!({
        "SchemaVersion": "0.1.0",
        "Vendor": "nv2 project",
        "Version": env!("CARGO_PKG_VERSION"),
        "ShortDescription": "Sign, verify and push OCI images with linked Notary Project signatures",
        "URL": "https://github.com/nv2-project/nv2",
    })
}

/// Runs `docker <args>` for subcommands nv2 does not have; a clear error when docker is not installed.
pub fn pass_through(args: &[OsString]) -> Result<std::process::ExitStatus, String> {
    let docker =
        find_on_path("docker").ok_or_else(|| "the docker CLI is not installed to hand this command to".to_string())?;
    std::process::Command::new(&docker).args(args).status().map_err(|e| format!("cannot run {}: {e}", docker.display()))
}

/// The first executable called `name` on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(name)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Where the docker CLI looks for plugins of this user: `$DOCKER_CONFIG/cli-plugins`, else `~/.docker/cli-plugins`.
pub fn plugin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("cli-plugins"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("cli-plugins"))
}

/// Installs this binary as `docker-nv2` in the docker plugin directory (a symbolic link, replaced if present).
pub fn install(dir: Option<PathBuf>) -> Result<PathBuf, String> {
    let dir = dir.or_else(plugin_dir).ok_or("cannot find the docker plugin directory: HOME is not set")?;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the nv2 binary: {e}"))?;
    crate::atomic_file::create_dir_all(&dir, crate::atomic_file::Mode::Public)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let link = dir.join("docker-nv2");
    let temp = dir.join(".docker-nv2.tmp");
    let _ = std::fs::remove_file(&temp);
    #[cfg(unix)]
    std::os::unix::fs::symlink(&exe, &temp).map_err(|e| format!("{}: {e}", temp.display()))?;
    #[cfg(not(unix))]
    std::fs::copy(&exe, &temp).map_err(|e| format!("{}: {e}", temp.display()))?;
    std::fs::rename(&temp, &link).map_err(|e| format!("{}: {e}", link.display()))?;
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn invocations_are_classified_as_the_docker_cli_makes_them() {
        assert_eq!(
            classify(args(&["/usr/bin/nv2", "sign", "x"])),
            Invocation::Direct(args(&["/usr/bin/nv2", "sign", "x"]))
        );
        assert_eq!(classify(args(&["/home/u/.docker/cli-plugins/docker-nv2", METADATA_COMMAND])), Invocation::Metadata);
        assert_eq!(
            classify(args(&["docker-nv2", "nv2", "verify", "r/x:1"])),
            Invocation::Plugin(args(&["nv2", "verify", "r/x:1"]))
        );
        assert_eq!(classify(args(&["docker-nv2", "nv2", "ps", "-a"])), Invocation::PassThrough(args(&["ps", "-a"])));
        assert_eq!(classify(args(&["docker-nv2", "nv2"])), Invocation::Plugin(args(&["nv2"])));
        assert_eq!(classify(args(&["docker-nv2", "key", "list"])), Invocation::Direct(args(&["nv2", "key", "list"])));
    }

    #[test]
    fn metadata_has_the_fields_docker_requires() {
        let m = metadata();
        for field in ["SchemaVersion", "Vendor", "Version", "ShortDescription", "URL"] {
            assert!(m.get(field).and_then(|v| v.as_str()).is_some_and(|v| !v.is_empty()), "{field}");
        }
        assert_eq!(m["SchemaVersion"], "0.1.0");
    }
}
