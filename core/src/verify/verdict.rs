//! What verification decides, as data: per signature, every validation with its result and the action its level
//! applied; then one decision. Hosts render this (one line for a person, JSON for machines); they never re-decide.

use crate::envelope::EnvelopeFormat;
use crate::time::Timestamp;
use crate::trust::{Action, Check};
use alloc::string::String;
use alloc::vec::Vec;

/// The final answer for one artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// The signature at this index of [`Verdict::signatures`] passed every enforced validation.
    Verified {
        /// Index into [`Verdict::signatures`].
        signature: usize,
    },
    /// The applicable policy's level is `skip`: nothing was read or checked.
    Skipped,
    /// No signature passed; [`Verdict::reason`] says why in one line.
    Rejected(Rejection),
}

impl Decision {
    /// A stable name for JSON output (`verified`, `skipped`, `rejected`), shared by every host.
    pub fn name(&self) -> &'static str {
        match self {
            Decision::Verified { .. } => "verified",
            Decision::Skipped => "skipped",
            Decision::Rejected(_) => "rejected",
        }
    }
}

/// Why an artifact was rejected as a whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// No signature is associated with the artifact.
    NoSignature,
    /// Every signature examined failed an enforced validation.
    AllSignaturesFailed,
    /// The bound on signatures examined was reached without a passing one.
    TooManySignatures {
        /// The bound that was applied.
        max: usize,
    },
}

impl Rejection {
    /// A stable kebab-case name for JSON output (`no-signature`, `all-signatures-failed`, `too-many-signatures`).
    pub fn name(&self) -> &'static str {
        match self {
            Rejection::NoSignature => "no-signature",
            Rejection::AllSignaturesFailed => "all-signatures-failed",
            Rejection::TooManySignatures { .. } => "too-many-signatures",
        }
    }
}

/// The category a signature failure belongs to: stable across hosts, so native, wasm and admission verdicts can be
/// compared kind for kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FailureKind {
    /// The signature manifest is not a valid Notary signature manifest for this artifact.
    SignatureManifestInvalid,
    /// The envelope bytes do not match the digest or size its manifest layer names.
    EnvelopeDigestMismatch,
    /// The envelope cannot be parsed or breaks a rule of the envelope format (crit, times, scheme rules, ...).
    EnvelopeMalformed,
    /// The envelope's `alg` is outside the allow-list or does not match the signing key.
    AlgorithmInvalid,
    /// The cryptographic signature does not verify.
    SignatureInvalid,
    /// The certificate chain breaks a Notary chain rule (order, usage, constraints, algorithms).
    CertificateChainInvalid,
    /// A critical attribute is present that neither nv2 nor a verification plugin processes.
    UnprocessedCriticalAttribute,
    /// The verification plugin the signature requires is missing or unusable.
    PluginUnavailable,
    /// The verification plugin's version is below the signature's minimum.
    PluginVersionIncompatible,
    /// The verification plugin reported a failed check.
    PluginCheckFailed,
    /// No certificate of the chain is in the trust stores the policy names.
    UntrustedCertificate,
    /// The signer's identity is not among the policy's trusted identities.
    UntrustedIdentity,
    /// The signature's expiry time has passed.
    SignatureExpired,
    /// A certificate of the chain is outside its validity and no trusted timestamp rescues it.
    CertificateExpired,
    /// A timestamp is required by the policy but the signature carries none.
    TimestampMissing,
    /// The timestamp token is invalid, untrusted, or does not cover the signing chain's validity.
    TimestampInvalid,
    /// A certificate of the chain is revoked.
    Revoked,
    /// Revocation status could not be determined.
    RevocationUnknown,
    /// The payload names another artifact (digest, size or media type differ).
    PayloadMismatch,
    /// The user metadata asked for is not in the payload annotations.
    UserMetadataMismatch,
}

impl FailureKind {
    /// A stable kebab-case name for JSON output and differential tests.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::SignatureManifestInvalid => "signature-manifest-invalid",
            FailureKind::EnvelopeDigestMismatch => "envelope-digest-mismatch",
            FailureKind::EnvelopeMalformed => "envelope-malformed",
            FailureKind::AlgorithmInvalid => "algorithm-invalid",
            FailureKind::SignatureInvalid => "signature-invalid",
            FailureKind::CertificateChainInvalid => "certificate-chain-invalid",
            FailureKind::UnprocessedCriticalAttribute => "unprocessed-critical-attribute",
            FailureKind::PluginUnavailable => "plugin-unavailable",
            FailureKind::PluginVersionIncompatible => "plugin-version-incompatible",
            FailureKind::PluginCheckFailed => "plugin-check-failed",
            FailureKind::UntrustedCertificate => "untrusted-certificate",
            FailureKind::UntrustedIdentity => "untrusted-identity",
            FailureKind::SignatureExpired => "signature-expired",
            FailureKind::CertificateExpired => "certificate-expired",
            FailureKind::TimestampMissing => "timestamp-missing",
            FailureKind::TimestampInvalid => "timestamp-invalid",
            FailureKind::Revoked => "revoked",
            FailureKind::RevocationUnknown => "revocation-unknown",
            FailureKind::PayloadMismatch => "payload-mismatch",
            FailureKind::UserMetadataMismatch => "user-metadata-mismatch",
        }
    }
}

/// A failed validation: its kind and a one-line explanation naming what was wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The category.
    pub kind: FailureKind,
    /// Human detail (which certificate, which attribute, which times).
    pub detail: String,
}

impl Failure {
    pub(crate) fn new(kind: FailureKind, detail: impl Into<String>) -> Self {
        Failure { kind, detail: detail.into() }
    }
}

impl core::fmt::Display for Failure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}

/// The outcome of one validation of one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The validation ran and passed.
    Passed,
    /// The validation ran and failed; whether that rejected the signature depends on the action.
    Failed(Failure),
    /// The validation did not run (its action is skip, the policy has no TSA store, a plugin took it over, ...).
    NotRun(String),
}

impl Outcome {
    /// A stable name for JSON output (`passed`, `failed`, `not-run`).
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed(_) => "failed",
            Outcome::NotRun(_) => "not-run",
        }
    }
}

/// One validation (integrity, authenticity, ...) of one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validation {
    /// Which validation.
    pub check: Check,
    /// What the policy level (with overrides) does with a failure.
    pub action: Action,
    /// What happened.
    pub outcome: Outcome,
}

/// Facts about the signer, for display (`nv2 inspect`, admission reasons).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignerSummary {
    /// Leaf subject as RFC 4514 text.
    pub subject: String,
    /// SHA-256 fingerprints of the chain, leaf first, lowercase hex.
    pub chain_sha256: Vec<String>,
    /// Envelope algorithm name.
    pub algorithm: String,
    /// The claimed signing time (or the authentic signing time of a signing authority).
    pub signing_time: Option<Timestamp>,
    /// The signature's expiry, if any.
    pub expiry: Option<Timestamp>,
    /// A trusted timestamp's time, when one was verified.
    pub timestamp: Option<Timestamp>,
}

/// Everything learnt about one signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureReport {
    /// Position in the list the host handed in.
    pub index: usize,
    /// The signature manifest's digest (as the host gave it), for display.
    pub manifest_digest: Option<String>,
    /// Envelope format, once known.
    pub format: Option<EnvelopeFormat>,
    /// Signer facts, once the envelope parsed.
    pub signer: Option<SignerSummary>,
    /// Every validation in the order it ran.
    pub validations: Vec<Validation>,
    /// The enforced failure that rejected this signature, or `None` when it passed.
    pub rejected_by: Option<Failure>,
}

impl SignatureReport {
    /// Whether this signature passed every enforced validation.
    pub fn passed(&self) -> bool {
        self.rejected_by.is_none()
    }

    /// Failures that were only logged (level or override said `log`).
    pub fn warnings(&self) -> impl Iterator<Item = (&Check, &Failure)> {
        self.validations.iter().filter_map(|v| match (&v.outcome, v.action) {
            (Outcome::Failed(f), Action::Log) => Some((&v.check, f)),
            _ => None,
        })
    }
}

/// The verdict for one artifact: the decision and the evidence behind it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The trust-policy statement that applied.
    pub policy_name: String,
    /// The decision.
    pub decision: Decision,
    /// One report per signature examined, in order.
    pub signatures: Vec<SignatureReport>,
}

impl Verdict {
    /// Whether the artifact may be used (verified, or the policy level is skip).
    pub fn is_accepted(&self) -> bool {
        matches!(self.decision, Decision::Verified { .. } | Decision::Skipped)
    }

    /// The passing signature, if any.
    pub fn verified_signature(&self) -> Option<&SignatureReport> {
        match self.decision {
            Decision::Verified { signature } => self.signatures.get(signature),
            _ => None,
        }
    }

    /// One line for a person: what was decided and, on rejection, the most telling failure.
    pub fn reason(&self) -> String {
        match &self.decision {
            Decision::Verified { signature } => {
                let who = self.signatures.get(*signature).and_then(|s| s.signer.as_ref()).map(|s| s.subject.as_str());
                alloc::format!("signature verified (policy {:?}, signer {})", self.policy_name, who.unwrap_or("?"))
            }
            Decision::Skipped => alloc::format!("verification skipped by policy {:?}", self.policy_name),
            Decision::Rejected(Rejection::NoSignature) => String::from("no signature is associated with the artifact"),
            Decision::Rejected(Rejection::TooManySignatures { max }) => {
                alloc::format!("no valid signature among the first {max} (the --max-signatures bound)")
            }
            Decision::Rejected(Rejection::AllSignaturesFailed) => {
                let first = self.signatures.iter().find_map(|s| s.rejected_by.as_ref());
                match (self.signatures.len(), first) {
                    (1, Some(f)) => alloc::format!("signature rejected: {f}"),
                    (n, Some(f)) => alloc::format!("all {n} signatures rejected; first: {f}"),
                    (_, None) => String::from("no signature passed"),
                }
            }
        }
    }
}
