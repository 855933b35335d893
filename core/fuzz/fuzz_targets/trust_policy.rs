//! OCI and blob trust policy documents; a parsed OCI policy is asked for the statement of a scope derived from
//! its own statements (and of a scope that matches none), a blob policy for its global and named statements.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::trust::{BlobTrustPolicyDocument, TrustPolicyDocument};

fuzz_target!(|data: &[u8]| {
    if let Ok(document) = TrustPolicyDocument::parse(data) {
        for statement in &document.statements {
            for scope in &statement.registry_scopes {
                let _ = document.statement_for(scope);
                let _ = document.statement_for_reference(&format!("{scope}@sha256:{}", "0".repeat(64)));
            }
        }
        let _ = document.statement_for("registry.example/none");
        let _ = document.statement_for("");
    }
    if let Ok(document) = BlobTrustPolicyDocument::parse(data) {
        let _ = document.statement_for_blob(None);
        for statement in &document.statements {
            let _ = document.statement_for_blob(Some(&statement.rules.name));
        }
    }
});
