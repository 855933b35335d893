//! The main job until `nv2 demo` lands: verify a notation-signed image stored in an OCI layout with nv2's one
//! verification pipeline, then show a tampered signature being refused.
//!
//! Usage: `cargo run -p nv2-core --example verify-layout [FIXTURES_DIR]` (default: the shared Notary Project
//! fixtures found beside the checkout). Exits 0 only when the signed image verifies and the tampered one does not.

#[path = "fixtures/mod.rs"]
mod fixtures;
#[path = "oci_layout/mod.rs"]
mod oci_layout;

use nv2_core::oci::ParsedManifest;
use nv2_core::time::Timestamp;
use nv2_core::trust::{StoreRef, TrustPolicyDocument, TrustStores};
use nv2_core::verify::{self, Outcome, SignatureInput, Target, Verdict, VerifyOptions};
use nv2_core::x509::TrustStoreKind;
use oci_layout::Layout;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn fixtures_dir() -> Option<PathBuf> {
    std::env::args().nth(1).map(PathBuf::from).or_else(fixtures::corpus_dir)
}

fn now() -> Result<Timestamp, String> {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
    Ok(Timestamp::from_unix(i64::try_from(secs.as_secs()).map_err(|e| e.to_string())?))
}

/// Resolves `tag` in the layout, gathers its signatures and runs the pipeline.
fn verify_layout(fixtures: &Path, layout: &str, reference: &str, tag: &str) -> Result<Verdict, String> {
    let layout = Layout::open(fixtures.join("oci-layouts").join(layout))?;
    let digest = layout.resolve(tag)?;
    let manifest_bytes = layout.blob(&digest)?;
    let manifest = ParsedManifest::parse(None, &manifest_bytes).map_err(|e| e.to_string())?;
    println!("$ nv2 verify {reference}:{tag}");
    println!("  resolved {tag} -> {digest} ({})", manifest.media_type());
    let signatures = layout.referrers(&digest)?;
    let mut envelopes = Vec::new();
    for bytes in &signatures {
        let parsed = ParsedManifest::parse(None, bytes).map_err(|e| e.to_string())?;
        let layer = parsed.as_image_manifest().and_then(|m| m.layers.first()).ok_or("signature without a layer")?;
        println!("  signature manifest {} (envelope {})", parsed.digest(), layer.media_type);
        envelopes.push(layout.blob(&layer.digest)?);
    }
    let inputs: Vec<SignatureInput> = signatures
        .iter()
        .zip(&envelopes)
        .map(|(m, e)| SignatureInput { manifest: Some(m), envelope: e, format: None })
        .collect();

    let policy_bytes = std::fs::read(fixtures.join("trustpolicies/trustpolicy.json")).map_err(|e| e.to_string())?;
    let policy = TrustPolicyDocument::parse(&policy_bytes).map_err(|e| format!("trustpolicy.json: {e}"))?;
    let statement = policy.statement_for(reference).map_err(|e| e.to_string())?;
    let mut stores = TrustStores::new();
    let cert = std::fs::read(fixtures.join("certs/notation-e2e/localkeys/e2e.crt")).map_err(|e| e.to_string())?;
    let store = StoreRef::new(TrustStoreKind::Ca, "e2e").map_err(|e| e.to_string())?;
    stores.load_store(store, [cert]).map_err(|e| e.to_string())?;

    let target = Target::Manifest {
        media_type: manifest.media_type().to_string(),
        digest: digest.to_string(),
        size: manifest_bytes.len() as u64,
    };
    let verdict = verify::verify(&target, &inputs, &statement.rules, &stores, &VerifyOptions::at(now()?));
    for report in &verdict.signatures {
        for v in &report.validations {
            let outcome = match &v.outcome {
                Outcome::Passed => String::from("passed"),
                Outcome::Failed(f) => format!("FAILED {f}"),
                Outcome::NotRun(why) => format!("not run ({why})"),
            };
            println!("    {:<18} {:<8} {outcome}", v.check.name(), v.action.name());
        }
        if let Some(f) = &report.rejected_by {
            println!("    rejected: {f}");
        }
    }
    println!("  => {}", verdict.reason());
    Ok(verdict)
}

fn main() -> ExitCode {
    let Some(fixtures) = fixtures_dir() else {
        eprintln!("nv2: fixtures not found: pass the Notary Project fixtures directory as the first argument");
        return ExitCode::from(2);
    };
    let reference = "localhost:5000/e2e";
    let good = verify_layout(&fixtures, "e2e-valid-signature", reference, "v1");
    println!();
    let tampered = verify_layout(&fixtures, "e2e-invalid-signature", reference, "v1");
    match (good, tampered) {
        (Ok(g), Ok(t)) if g.is_accepted() && !t.is_accepted() => {
            println!("\nnv2: the signed image verifies and the tampered one is refused");
            ExitCode::SUCCESS
        }
        (Ok(_), Ok(_)) => {
            eprintln!("nv2: unexpected verdicts (see above)");
            ExitCode::FAILURE
        }
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("nv2: {e}");
            ExitCode::from(2)
        }
    }
}
