//! `nv2 cert generate-test|add|list|show|delete`: the `truststore/x509/{ca,signingAuthority,tsa}/<store>/` files.

use nv2_core::trust::StoreRef;
use serde_json::json;

use crate::cli::args::CertCommand;
use crate::cli::certificate_view;
use crate::cli::context::{key_kind, store_kind, Context};
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::config::{DeleteTarget, TestCertificateOptions};

/// Runs a `cert` subcommand.
pub fn run(ctx: &Context, command: CertCommand) -> Result<Report, CliError> {
    let config = ctx.config();
    let store_ref = |store_type, name: &str| {
        StoreRef::new(store_kind(store_type), name).map_err(|e| CliError::Usage(format!("trust store {name:?}: {e}")))
    };
    match command {
        CertCommand::GenerateTest { name, key_type, days, default, trust_store } => {
            let options = TestCertificateOptions {
                kind: key_kind(key_type),
                validity_days: days,
                make_default: default,
                trust_store,
            };
            let made = config.generate_test_certificate(&name, &options)?;
            let mut lines = vec![
                format!(
                    "generated test CA and signing key {}{}",
                    name,
                    if made.key.is_default { " (default)" } else { "" }
                ),
                format!("  trusted root added to {} ({})", made.trust_store, made.trust_store_file.display()),
            ];
            lines.extend(certificate_view::to_lines(&made.leaf, "  leaf "));
            let json = json!({
                "key": made.key.entry.name,
                "default": made.key.is_default,
                "trustStore": made.trust_store.to_string(),
                "trustStoreFile": made.trust_store_file,
                "root": certificate_view::to_json(&made.root),
                "leaf": certificate_view::to_json(&made.leaf),
            });
            Ok(Report::new(lines, json))
        }
        CertCommand::Add { store_type, store, files } => {
            let store = store_ref(store_type, &store)?;
            let written = config.add_certificates(&store, &files)?;
            let lines = written.iter().map(|p| format!("added {} to {store}", p.display())).collect();
            Ok(Report::new(lines, json!({"store": store.to_string(), "files": written})))
        }
        CertCommand::List { store_type, store } => {
            let files = config.list_certificates(store_type.map(store_kind), store.as_deref())?;
            let mut lines: Vec<String> = files.iter().map(|f| format!("{}  {}", f.store, f.path.display())).collect();
            if lines.is_empty() {
                lines.push(format!("no trust-store certificates in {}", config.trust_store_root().display()));
            }
            let json: Vec<_> = files
                .iter()
                .map(|f| json!({"store": f.store.to_string(), "file": f.file_name, "path": f.path}))
                .collect();
            Ok(Report::new(lines, json!({ "certificates": json })))
        }
        CertCommand::Show { store_type, store, file } => {
            let store = store_ref(store_type, &store)?;
            let certificates = config.show_certificates(&store, &file)?;
            let mut lines = Vec::new();
            for (i, c) in certificates.iter().enumerate() {
                lines.push(format!("certificate {} of {store}/{file}:", i + 1));
                lines.extend(certificate_view::to_lines(c, "  "));
            }
            let json: Vec<_> = certificates.iter().map(certificate_view::to_json).collect();
            Ok(Report::new(lines, json!({"store": store.to_string(), "file": file, "certificates": json})))
        }
        CertCommand::Delete { store_type, store, all, file, yes } => {
            let store = store_ref(store_type, &store)?;
            let target = match (all, file) {
                (true, _) => DeleteTarget::All,
                (false, Some(file)) => DeleteTarget::File(file),
                (false, None) => return Err(CliError::Usage("give a file name or --all".into())),
            };
            if !yes {
                super::confirm(ctx, &format!("delete {} from {store}?", describe(&target)))?;
            }
            let removed = config.delete_certificates(&store, &target)?;
            let lines = removed.iter().map(|p| format!("deleted {}", p.display())).collect();
            Ok(Report::new(lines, json!({"store": store.to_string(), "deleted": removed})))
        }
    }
}

fn describe(target: &DeleteTarget) -> String {
    match target {
        DeleteTarget::All => "every certificate".to_string(),
        DeleteTarget::File(f) => f.clone(),
    }
}
