//! How a verification verdict is shown: one line per validation for a person, and JSON for scripts.

use nv2_core::verify::{Decision, Outcome, SignatureReport, Verdict};
use serde_json::{json, Value};

/// The verdict as JSON.
pub fn to_json(verdict: &Verdict) -> Value {
    let decision = match &verdict.decision {
        Decision::Verified { signature } => json!({"result": "verified", "signature": signature}),
        Decision::Skipped => json!({"result": "skipped"}),
        Decision::Rejected(r) => json!({"result": "rejected", "reason": format!("{r:?}")}),
    };
    json!({
        "accepted": verdict.is_accepted(),
        "policy": verdict.policy_name,
        "decision": decision,
        "reason": verdict.reason(),
        "signatures": verdict.signatures.iter().map(report_json).collect::<Vec<_>>(),
    })
}

fn report_json(report: &SignatureReport) -> Value {
    json!({
        "index": report.index,
        "manifestDigest": report.manifest_digest,
        "format": report.format.map(|f| f.name()),
        "signer": report.signer.as_ref().map(|s| json!({
            "subject": s.subject,
            "algorithm": s.algorithm,
            "chainSha256": s.chain_sha256,
            "signingTime": s.signing_time.map(|t| t.to_rfc3339()),
            "expiry": s.expiry.map(|t| t.to_rfc3339()),
            "timestamp": s.timestamp.map(|t| t.to_rfc3339()),
        })),
        "validations": report.validations.iter().map(|v| {
            let (outcome, detail) = match &v.outcome {
                Outcome::Passed => ("passed", None),
                Outcome::Failed(f) => ("failed", Some(json!({"kind": f.kind.as_str(), "detail": f.detail}))),
                Outcome::NotRun(why) => ("not-run", Some(json!({"detail": why}))),
            };
            json!({"check": v.check.name(), "action": v.action.name(), "outcome": outcome, "failure": detail})
        }).collect::<Vec<_>>(),
        "rejectedBy": report.rejected_by.as_ref().map(|f| json!({"kind": f.kind.as_str(), "detail": f.detail})),
    })
}

/// The validations of every examined signature, as indented lines.
pub fn to_lines(verdict: &Verdict, signatures: &[nv2_core::oci::Descriptor]) -> Vec<String> {
    let mut lines = Vec::new();
    for report in &verdict.signatures {
        let digest = signatures.get(report.index).map(|d| d.digest.to_string()).unwrap_or_default();
        let signer = report.signer.as_ref().map(|s| s.subject.as_str()).unwrap_or("?");
        lines.push(format!("  signature {digest} by {signer}"));
        for v in &report.validations {
            let outcome = match &v.outcome {
                Outcome::Passed => "passed".to_string(),
                Outcome::Failed(f) => format!("failed: {f}"),
                Outcome::NotRun(why) => format!("not run ({why})"),
            };
            lines.push(format!("    {:<19} {:<8} {outcome}", v.check.name(), v.action.name()));
        }
    }
    lines
}
