//! `nv2 policy import|show|init`: `trustpolicy.oci.json` (or notation 1.x's `trustpolicy.json`) and
//! `trustpolicy.blob.json`, validated by the core before anything is written.

use nv2_core::trust::{StoreRef, VerificationLevel};
use serde_json::json;

use crate::cli::args::{Level, PolicyCommand};
use crate::cli::context::Context;
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::config::{BlobPolicyInit, OciPolicyInit, PolicyWritten};

/// Runs a `policy` subcommand.
pub fn run(ctx: &Context, command: PolicyCommand) -> Result<Report, CliError> {
    let config = ctx.config();
    match command {
        PolicyCommand::Import { file, force, blob } => {
            let written =
                if blob { config.import_blob_policy(&file, force)? } else { config.import_oci_policy(&file, force)? };
            Ok(written_report(&written))
        }
        PolicyCommand::Show { blob } => {
            let (path, bytes) = if blob {
                let loaded = config.blob_policy()?;
                (loaded.path, loaded.bytes)
            } else {
                let loaded = config.oci_policy()?;
                (loaded.path, loaded.bytes)
            };
            let document: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            let mut text = String::from_utf8_lossy(&bytes).into_owned();
            if !text.ends_with('\n') {
                text.push('\n');
            }
            Ok(Report::raw(text.into_bytes(), json!({"path": path, "policy": document})))
        }
        PolicyCommand::Init { name, scopes, trust_stores, trusted_identities, level, blob, force } => {
            let trust_stores = trust_stores
                .iter()
                .map(|s| StoreRef::parse(s).map_err(|e| CliError::Usage(format!("--trust-store {s:?}: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let level = match level {
                Level::Strict => VerificationLevel::Strict,
                Level::Permissive => VerificationLevel::Permissive,
                Level::Audit => VerificationLevel::Audit,
                Level::Skip => VerificationLevel::Skip,
            };
            let written = if blob {
                if !scopes.is_empty() {
                    return Err(CliError::Usage("--scope does not apply to a blob trust policy".into()));
                }
                let init = BlobPolicyInit { name, trust_stores, trusted_identities, level, global: true };
                config.init_blob_policy(&init, force)?
            } else {
                if scopes.is_empty() {
                    return Err(CliError::Usage("give at least one --scope (registry/repository, or *)".into()));
                }
                let init = OciPolicyInit { name, registry_scopes: scopes, trust_stores, trusted_identities, level };
                config.init_oci_policy(&init, force)?
            };
            Ok(written_report(&written))
        }
    }
}

fn written_report(written: &PolicyWritten) -> Report {
    let mut lines = vec![format!("trust policy written to {}", written.path.display())];
    if let Some(legacy) = &written.removed_legacy {
        lines.push(format!("removed the superseded {}", legacy.display()));
    }
    Report::new(lines, json!({"path": written.path, "removedLegacy": written.removed_legacy}))
}
