//! How a verification verdict is shown: one line per validation for a person, and JSON for scripts.

use nv2_core::verify::wire::VerdictView;
use nv2_core::verify::{Outcome, Verdict};
use serde_json::Value;

/// The verdict as JSON: the core's wire rendering, the same document the policy module and the browser package
/// return, so scripts read one shape everywhere.
pub fn to_json(verdict: &Verdict) -> Value {
    serde_json::to_value(VerdictView::of(verdict)).unwrap_or(Value::Null)
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
