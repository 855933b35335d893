//! What a host gets back: the verdict rendered with stable names, or an error, as one JSON document.
//!
//! ```json
//! {"version": 1, "verdict": {
//!   "accepted": false,
//!   "decision": {"result": "rejected", "rejection": "all-signatures-failed"},
//!   "policy": "prod",
//!   "reason": "signature rejected: signature-expired: the signature expired at 2025-03-01T00:00:00Z",
//!   "signatures": [{
//!     "index": 0, "manifestDigest": "sha256:…", "format": "jws",
//!     "signer": {"subject": "CN=…", "chainSha256": ["…"], "algorithm": "ES256", "signingTime": "…"},
//!     "validations": [
//!       {"check": "integrity", "action": "enforce", "outcome": "passed"},
//!       {"check": "expiry", "action": "enforce", "outcome": "failed", "kind": "signature-expired", "message": "…"}],
//!     "rejectedBy": {"kind": "signature-expired", "message": "…"},
//!     "warnings": []}]}}
//!
//! {"version": 1, "error": {"kind": "policy-invalid", "message": "…"}}
//! ```
//!
//! `decision.result` is `verified` (with `signature`, an index into `signatures`), `skipped`, or `rejected` (with
//! `rejection`: `no-signature`, `all-signatures-failed`, or `too-many-signatures` with `max`). A validation's
//! `outcome` is `passed`, `failed` (with `kind` and `message`) or `not-run` (with `message`). Members whose value
//! would be absent are left out. Every name is one of the core's stable names ([`FailureKind::as_str`],
//! [`Decision::name`], [`Check::name`], ...), so responses compare byte for byte across hosts.

use super::{WireError, WIRE_VERSION};
use crate::time::Timestamp;
use crate::verify::{Decision, Failure, FailureKind, Outcome, Rejection, SignatureReport, SignerSummary, Verdict};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

#[cfg(doc)]
use crate::trust::Check;

/// A response: exactly one of `verdict` or `error`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyResponse {
    /// The wire version, [`WIRE_VERSION`].
    pub version: u32,
    /// The verdict, when the request could be run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<VerdictView>,
    /// Why the request could not be run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
}

/// A request-level error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorView {
    /// [`WireError::kind`].
    pub kind: String,
    /// One line naming what was wrong.
    pub message: String,
}

/// The verdict for one artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerdictView {
    /// Whether the artifact may be used ([`Verdict::is_accepted`]).
    pub accepted: bool,
    /// The decision.
    pub decision: DecisionView,
    /// The name of the statement that applied.
    pub policy: String,
    /// One line for a person ([`Verdict::reason`]).
    pub reason: String,
    /// One entry per signature examined, in order.
    pub signatures: Vec<SignatureView>,
}

/// [`Decision`] with its stable names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionView {
    /// [`Decision::name`].
    pub result: String,
    /// For `verified`: the index of the passing signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<u64>,
    /// For `rejected`: [`Rejection::name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<String>,
    /// For `too-many-signatures`: the bound applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
}

/// One signature's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignatureView {
    /// Position in the request's `signatures`.
    pub index: u64,
    /// The signature manifest's digest, when there was a manifest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
    /// `jws` or `cose`, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Signer facts, once the envelope parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<SignerView>,
    /// Every validation in the order it ran.
    pub validations: Vec<ValidationView>,
    /// The enforced failure that rejected the signature; absent when it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected_by: Option<FailureView>,
    /// Failures that were only logged.
    pub warnings: Vec<WarningView>,
}

/// [`SignerSummary`], times in RFC 3339.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignerView {
    /// Leaf subject, RFC 4514.
    pub subject: String,
    /// SHA-256 fingerprints of the chain, leaf first.
    pub chain_sha256: Vec<String>,
    /// Envelope algorithm (`ES256`, `PS384`, ...).
    pub algorithm: String,
    /// Claimed (or authentic) signing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_time: Option<String>,
    /// Signature expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// A verified timestamp's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

/// One validation of one signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationView {
    /// [`Check::name`].
    pub check: String,
    /// [`crate::trust::Action::name`].
    pub action: String,
    /// [`Outcome::name`].
    pub outcome: String,
    /// For `failed`: [`FailureKind::as_str`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// For `failed`: the detail; for `not-run`: why it did not run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A failure: its kind and detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailureView {
    /// [`FailureKind::as_str`].
    pub kind: String,
    /// The detail.
    pub message: String,
}

/// A logged (not enforced) failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WarningView {
    /// The check that failed.
    pub check: String,
    /// [`FailureKind::as_str`].
    pub kind: String,
    /// The detail.
    pub message: String,
}

impl VerifyResponse {
    /// Renders a verdict.
    pub fn from_verdict(verdict: &Verdict) -> Self {
        VerifyResponse { version: WIRE_VERSION, verdict: Some(VerdictView::of(verdict)), error: None }
    }

    /// Renders a request-level error.
    pub fn from_error(error: &WireError) -> Self {
        let error = ErrorView { kind: String::from(error.kind()), message: error.to_string() };
        VerifyResponse { version: WIRE_VERSION, verdict: None, error: Some(error) }
    }

    /// The response as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        super::to_json(self)
    }

    /// Reads a response (what a host does with the policy module's answer), strictly.
    pub fn from_json(bytes: &[u8]) -> Result<Self, WireError> {
        let value = crate::json::parse_strict(bytes, super::MAX_REQUEST_BYTES, crate::limits::MAX_JSON_DEPTH)
            .map_err(|e| WireError::Invalid(e.to_string()))?;
        serde_json::from_value(value).map_err(|e| WireError::Invalid(e.to_string()))
    }

    /// The failure kind that rejected the last signature examined, as the differential test and admission reasons
    /// compare it; `None` unless the verdict is a rejection of examined signatures.
    pub fn last_rejection_kind(&self) -> Option<&str> {
        let verdict = self.verdict.as_ref()?;
        verdict.signatures.last()?.rejected_by.as_ref().map(|f| f.kind.as_str())
    }
}

impl VerdictView {
    /// Renders a verdict with the core's stable names.
    pub fn of(verdict: &Verdict) -> Self {
        VerdictView {
            accepted: verdict.is_accepted(),
            decision: DecisionView::of(&verdict.decision),
            policy: verdict.policy_name.clone(),
            reason: verdict.reason(),
            signatures: verdict.signatures.iter().map(SignatureView::of).collect(),
        }
    }
}

impl DecisionView {
    fn of(decision: &Decision) -> Self {
        let mut view =
            DecisionView { result: String::from(decision.name()), signature: None, rejection: None, max: None };
        match decision {
            Decision::Verified { signature } => view.signature = Some(count(*signature)),
            Decision::Skipped => {}
            Decision::Rejected(rejection) => {
                view.rejection = Some(String::from(rejection.name()));
                if let Rejection::TooManySignatures { max } = rejection {
                    view.max = Some(count(*max));
                }
            }
        }
        view
    }
}

impl SignatureView {
    fn of(report: &SignatureReport) -> Self {
        SignatureView {
            index: count(report.index),
            manifest_digest: report.manifest_digest.clone(),
            format: report.format.map(|f| String::from(f.name())),
            signer: report.signer.as_ref().map(SignerView::of),
            validations: report
                .validations
                .iter()
                .map(|v| {
                    let (kind, message) = match &v.outcome {
                        Outcome::Passed => (None, None),
                        Outcome::Failed(f) => (Some(String::from(f.kind.as_str())), Some(f.detail.clone())),
                        Outcome::NotRun(why) => (None, Some(why.clone())),
                    };
                    ValidationView {
                        check: String::from(v.check.name()),
                        action: String::from(v.action.name()),
                        outcome: String::from(v.outcome.name()),
                        kind,
                        message,
                    }
                })
                .collect(),
            rejected_by: report.rejected_by.as_ref().map(FailureView::of),
            warnings: report
                .warnings()
                .map(|(check, f)| WarningView {
                    check: String::from(check.name()),
                    kind: String::from(f.kind.as_str()),
                    message: f.detail.clone(),
                })
                .collect(),
        }
    }
}

impl SignerView {
    fn of(signer: &SignerSummary) -> Self {
        let time = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
        SignerView {
            subject: signer.subject.clone(),
            chain_sha256: signer.chain_sha256.clone(),
            algorithm: signer.algorithm.clone(),
            signing_time: time(signer.signing_time),
            expiry: time(signer.expiry),
            timestamp: time(signer.timestamp),
        }
    }
}

impl FailureView {
    fn of(failure: &Failure) -> Self {
        FailureView { kind: String::from(failure.kind.as_str()), message: failure.detail.clone() }
    }

    /// Whether this is a failure of `kind`.
    pub fn is(&self, kind: FailureKind) -> bool {
        self.kind == kind.as_str()
    }
}

/// Indices and bounds as JSON numbers of one width on every host (usize is 32 bits in wasm32).
fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
