//! `nv2 key generate|import|list|delete|default`: signing keys in notation's `signingkeys.json` + `localkeys/`.

use serde_json::json;

use crate::cli::args::KeyCommand;
use crate::cli::certificate_view;
use crate::cli::context::{key_kind, Context};
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::config::{CertificateAuthority, GenerateKeyOptions, KeySource, StoredKey};
use nv2_core::crypto::KeyKind;

/// Runs a `key` subcommand.
pub fn run(ctx: &Context, command: KeyCommand) -> Result<Report, CliError> {
    let config = ctx.config();
    match command {
        KeyCommand::Generate { name, key_type, subject, days, issuer_key, issuer_cert, default } => {
            let issuer = match (issuer_key, issuer_cert) {
                (Some(key), Some(chain)) => Some(CertificateAuthority::from_files(&key, &chain)?),
                _ => None,
            };
            let options = GenerateKeyOptions { subject, validity_days: days, issuer, make_default: default };
            let kind = key_kind(key_type);
            let stored = config.generate_key(&name, kind, &options)?;
            Ok(stored_report("generated", &stored, kind))
        }
        KeyCommand::Import { name, key, cert, default } => {
            let stored = config.import_key(&name, &key, &cert, default)?;
            let (signing_key, _) = config.load_signing_key(Some(&name))?;
            Ok(stored_report("imported", &stored, signing_key.kind()))
        }
        KeyCommand::List => {
            let keys = config.signing_keys()?;
            let mut lines = Vec::new();
            let mut entries = Vec::new();
            for entry in &keys.keys {
                let is_default = keys.default.as_deref() == Some(entry.name.as_str());
                let marker = if is_default { "* " } else { "  " };
                match &entry.source {
                    KeySource::Local { key_path, cert_path } => {
                        lines.push(format!("{marker}{}  {}  {}", entry.name, key_path.display(), cert_path.display()));
                        entries.push(json!({"name": entry.name, "default": is_default,
                            "keyPath": key_path, "certPath": cert_path}));
                    }
                    KeySource::Plugin { id, plugin_name, .. } => {
                        lines.push(format!("{marker}{}  plugin {plugin_name} key {id}", entry.name));
                        entries.push(json!({"name": entry.name, "default": is_default,
                            "pluginName": plugin_name, "id": id}));
                    }
                }
            }
            if lines.is_empty() {
                lines.push(format!("no signing keys in {}", config.path().display()));
            }
            Ok(Report::new(lines, json!({ "keys": entries })))
        }
        KeyCommand::Delete { names, remove_files } => {
            let deleted = config.delete_keys(&names, remove_files)?;
            let mut lines: Vec<String> =
                deleted.removed.iter().map(|e| format!("removed signing key {}", e.name)).collect();
            lines.extend(deleted.removed_files.iter().map(|f| format!("deleted {}", f.display())));
            let mut report = Report::new(
                lines,
                json!({"removed": deleted.removed.iter().map(|e| &e.name).collect::<Vec<_>>(),
                       "removedFiles": deleted.removed_files, "keptFiles": deleted.kept_files}),
            );
            if deleted.default_cleared {
                report = report.warn("the default signing key was removed; set another with `nv2 key default NAME`");
            }
            for kept in &deleted.kept_files {
                report = report.warn(format!("kept {} (outside localkeys/)", kept.display()));
            }
            Ok(report)
        }
        KeyCommand::Default { name } => {
            config.set_default_key(&name)?;
            Ok(Report::new(vec![format!("{name} is now the default signing key")], json!({"default": name})))
        }
    }
}

fn stored_report(verb: &str, stored: &StoredKey, kind: KeyKind) -> Report {
    let mut lines = vec![format!(
        "{verb} {} key {}{}",
        kind.name(),
        stored.entry.name,
        if stored.is_default { " (default)" } else { "" }
    )];
    if let Some(leaf) = stored.chain.first() {
        lines.extend(certificate_view::to_lines(leaf, "  "));
    }
    let json = json!({
        "name": stored.entry.name,
        "type": kind.name(),
        "default": stored.is_default,
        "certificates": stored.chain.iter().map(certificate_view::to_json).collect::<Vec<_>>(),
    });
    let report = Report::new(lines, json);
    if kind == KeyKind::Ed25519 {
        report.warn("Ed25519 (EdDSA) is an nv2 extension: notation cannot verify signatures made with this key")
    } else {
        report
    }
}
