//! Support for the differential test (`tests/differential.rs`): the policy module it runs in wasmtime, built the way
//! `wasm/build.sh` builds it (`cargo build-policy-module`, the alias in `.cargo/config.toml`).
//!
//! The test compares, for every fixture-corpus case and every attack case of the core, the verdict of the native
//! pipeline, of [`nv2_core::verify::wire::verify_json`] natively, and of the policy module's `nv2_verify` in
//! wasmtime, byte for byte.
#![deny(missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The cargo command that builds the policy module (an alias: `.cargo/config.toml` says how, in one place).
const BUILD_ARGS: [&str; 2] = ["build-policy-module", "--locked"];

/// The policy module to test: `$NV2_POLICY_WASM` when set (for instance `wasm/dist/nv2-policy.wasm`, the
/// wasm-opt output of `wasm/build.sh`), else the module cargo builds now (a no-op when it is up to date), in the
/// same target directory as the calling build.
pub fn policy_module() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("NV2_POLICY_WASM") {
        let path = PathBuf::from(path);
        return match path.is_file() {
            true => Ok(path),
            false => Err(format!("NV2_POLICY_WASM={} is not a file", path.display())),
        };
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(&cargo)
        .args(BUILD_ARGS)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(&workspace)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", Path::new(&cargo).display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("cargo {} failed ({}):\n{stderr}", BUILD_ARGS.join(" "), output.status));
    }
    module_in_messages(&output.stdout).ok_or_else(|| String::from("cargo reported no nv2_policy_wasm.wasm artifact"))
}

/// The `.wasm` file of the `nv2-policy-wasm` artifact among cargo's JSON messages.
fn module_in_messages(stdout: &[u8]) -> Option<PathBuf> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "nv2_policy_wasm")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .find(|f| f.extension().is_some_and(|e| e == "wasm"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_module_among_cargo_messages() {
        let messages = concat!(
            r#"{"reason":"compiler-artifact","target":{"name":"nv2_core"},"filenames":["/t/libnv2_core.rlib"]}"#,
            "\n",
            r#"{"reason":"compiler-artifact","target":{"name":"nv2_policy_wasm"},"#,
            r#""filenames":["/t/nv2_policy_wasm.rlib","/t/nv2_policy_wasm.wasm"]}"#,
            "\n",
            r#"{"reason":"build-finished","success":true}"#,
        );
        assert_eq!(module_in_messages(messages.as_bytes()), Some(PathBuf::from("/t/nv2_policy_wasm.wasm")));
        assert_eq!(module_in_messages(b"not json\n{\"reason\":\"build-finished\"}"), None);
    }
}
