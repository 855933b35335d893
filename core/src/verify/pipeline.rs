//! The one verification pipeline. Every host (CLI, admission server, wasm policy module, browser page) calls
//! [`verify`]; none re-implements a step. The order follows notation-go so verdicts and messages line up with it:
//! signature manifest, integrity, plugin, authenticity, expiry, authentic timestamp, revocation, plugin checks,
//! payload binding, user metadata. The first signature that passes wins.

use super::plugin::{VerificationPlugin, CAPABILITY_REVOCATION_CHECK, CAPABILITY_TRUSTED_IDENTITY};
use super::request::{SignatureInput, Target, VerifyOptions};
use super::semver::Version;
use super::verdict::{
    Decision, Failure, FailureKind, Outcome, Rejection, SignatureReport, SignerSummary, Validation, Verdict,
};
use crate::envelope::{EnvelopeError, EnvelopeFormat, ParsedEnvelope, SigningScheme};
use crate::oci::{media_types, ParsedManifest};
use crate::time::Timestamp;
use crate::timestamp;
use crate::trust::{Action, Check, StatementRules, TrustStores, VerificationLevel, VerifyTimestamp};
use crate::x509::{self, Certificate, ChainPurpose, RevocationStatus, TrustStoreKind};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Verifies `signatures` of `target` under one trust-policy statement (already selected by scope or blob name)
/// and the trust stores, returning the full verdict. It never fails as a function: every problem is a typed
/// failure inside the verdict.
pub fn verify(
    target: &Target,
    signatures: &[SignatureInput<'_>],
    statement: &StatementRules,
    stores: &TrustStores,
    options: &VerifyOptions<'_>,
) -> Verdict {
    let policy_name = statement.name.clone();
    if statement.signature_verification.level == VerificationLevel::Skip {
        return Verdict { policy_name, decision: Decision::Skipped, signatures: Vec::new() };
    }
    if signatures.is_empty() {
        return Verdict { policy_name, decision: Decision::Rejected(Rejection::NoSignature), signatures: Vec::new() };
    }
    let mut reports = Vec::new();
    for (index, input) in signatures.iter().take(options.max_signatures).enumerate() {
        let report = SignatureCheck::new(index, target, statement, stores, options).run(input);
        let passed = report.passed();
        reports.push(report);
        if passed {
            return Verdict { policy_name, decision: Decision::Verified { signature: index }, signatures: reports };
        }
    }
    let rejection = if signatures.len() > options.max_signatures {
        Rejection::TooManySignatures { max: options.max_signatures }
    } else {
        Rejection::AllSignaturesFailed
    };
    Verdict { policy_name, decision: Decision::Rejected(rejection), signatures: reports }
}

/// The state of one signature's verification: validations are recorded as they run; the first enforced failure
/// ends it.
struct SignatureCheck<'a> {
    target: &'a Target,
    statement: &'a StatementRules,
    stores: &'a TrustStores,
    options: &'a VerifyOptions<'a>,
    report: SignatureReport,
}

/// Signals that an enforced failure ended the signature's verification (the failure is already recorded).
struct Stop;

impl<'a> SignatureCheck<'a> {
    fn new(
        index: usize,
        target: &'a Target,
        statement: &'a StatementRules,
        stores: &'a TrustStores,
        options: &'a VerifyOptions<'a>,
    ) -> Self {
        let report = SignatureReport {
            index,
            manifest_digest: None,
            format: None,
            signer: None,
            validations: Vec::new(),
            rejected_by: None,
        };
        SignatureCheck { target, statement, stores, options, report }
    }

    fn run(mut self, input: &SignatureInput<'_>) -> SignatureReport {
        let _ = self.steps(input);
        self.report
    }

    /// Records the outcome of `check`; an enforced failure stops the signature.
    fn record(&mut self, check: Check, outcome: Outcome) -> Result<(), Stop> {
        let action = self.statement.signature_verification.action(check);
        let outcome = match (action, outcome) {
            (Action::Skip, _) => Outcome::NotRun(String::from("skipped by the trust policy")),
            (_, o) => o,
        };
        let stop = match (&outcome, action) {
            (Outcome::Failed(f), Action::Enforce) => Some(f.clone()),
            _ => None,
        };
        self.report.validations.push(Validation { check, action, outcome });
        match stop {
            Some(f) => {
                self.report.rejected_by = Some(f);
                Err(Stop)
            }
            None => Ok(()),
        }
    }

    /// Integrity failures are enforced at every level but skip.
    fn integrity(&mut self, failure: Failure) -> Stop {
        let _ = self.record(Check::Integrity, Outcome::Failed(failure));
        Stop
    }

    fn steps(&mut self, input: &SignatureInput<'_>) -> Result<(), Stop> {
        // 1. The signature manifest: a Notary signature for this very artifact, whose layer is these bytes.
        let format = self.signature_manifest(input).map_err(|f| self.integrity(f))?;
        self.report.format = Some(format);

        // 2. Integrity: envelope rules, chain rules, signature with the leaf key.
        let envelope = ParsedEnvelope::parse(format, input.envelope)
            .map_err(|e| self.integrity(Failure::new(envelope_failure_kind(&e), e.to_string())))?;
        let chain = self.parse_chain(&envelope).map_err(|f| self.integrity(f))?;
        let leaf = chain.first().ok_or_else(|| {
            self.integrity(Failure::new(FailureKind::CertificateChainInvalid, "the envelope carries no certificate"))
        })?;
        self.report.signer = Some(summary(&envelope, &chain));
        let key = leaf
            .public_key()
            .map_err(|e| self.integrity(Failure::new(FailureKind::CertificateChainInvalid, e.to_string())))?;
        envelope
            .verify_signature(&key)
            .map_err(|e| self.integrity(Failure::new(envelope_failure_kind(&e), e.to_string())))?;
        x509::validate_chain(&chain, ChainPurpose::CodeSigning, None)
            .map_err(|e| self.integrity(Failure::new(FailureKind::CertificateChainInvalid, e.to_string())))?;

        // 3. Verification plugin named by the signature.
        let plugin = self.plugin(&envelope).map_err(|f| self.integrity(f))?;
        let plugin_caps = plugin.map(|p| p.capabilities()).unwrap_or_default();
        let has_cap = |cap: &str| plugin_caps.iter().any(|c| c == cap);
        // nv2 processes no critical extended attribute itself: only a named plugin may (checked in step 8).
        let unprocessed: Vec<String> = envelope.signed().critical_extended().map(|a| a.key.clone()).collect();
        if let (None, Some(name)) = (plugin, unprocessed.first()) {
            return Err(self.integrity(Failure::new(
                FailureKind::UnprocessedCriticalAttribute,
                format!("critical attribute {name:?} is not understood and no verification plugin processes it"),
            )));
        }
        self.record(Check::Integrity, Outcome::Passed)?;

        // 4. Authenticity: a certificate of the chain in the named stores, then the trusted identity.
        let authenticity = self.authenticity(&envelope, &chain, has_cap(CAPABILITY_TRUSTED_IDENTITY));
        self.record(Check::Authenticity, authenticity)?;

        // 5. Expiry.
        let expiry = match envelope.signed().expiry {
            Some(expiry) if self.options.now >= expiry => Outcome::Failed(Failure::new(
                FailureKind::SignatureExpired,
                format!("the signature expired at {expiry}"),
            )),
            _ => Outcome::Passed,
        };
        self.record(Check::Expiry, expiry)?;

        // 6. Authentic timestamp (and certificate validity).
        let timestamp = self.authentic_timestamp(&envelope, &chain);
        self.record(Check::AuthenticTimestamp, timestamp)?;

        // 7. Revocation of the signing chain.
        let revocation = if has_cap(CAPABILITY_REVOCATION_CHECK) {
            Outcome::NotRun(String::from("checked by the verification plugin"))
        } else if self.statement.signature_verification.action(Check::Revocation) == Action::Skip {
            Outcome::NotRun(String::from("skipped by the trust policy"))
        } else {
            self.revocation(&chain)
        };
        self.record(Check::Revocation, revocation)?;

        // 8. Plugin verification of the capabilities it took over and the critical attributes it processes.
        if let Some(plugin) = plugin {
            self.plugin_checks(plugin, &envelope, &unprocessed, &plugin_caps)?;
        }

        // 9. Payload binding and 10. user metadata: enforced whatever the level.
        let payload = envelope
            .payload()
            .map_err(|e| self.integrity(Failure::new(FailureKind::EnvelopeMalformed, e.to_string())))?;
        self.payload_binding(&envelope, &payload).map_err(|f| self.integrity(f))?;
        for (key, value) in &self.options.user_metadata {
            if payload.target_artifact.annotations.get(key) != Some(value) {
                return Err(self.integrity(Failure::new(
                    FailureKind::UserMetadataMismatch,
                    format!("the payload has no annotation {key}={value}"),
                )));
            }
        }
        Ok(())
    }

    /// Checks the signature manifest (when there is one) and returns the envelope format.
    fn signature_manifest(&mut self, input: &SignatureInput<'_>) -> Result<EnvelopeFormat, Failure> {
        let invalid = |d: String| Failure::new(FailureKind::SignatureManifestInvalid, d);
        let Some(bytes) = input.manifest else {
            return input.format.ok_or_else(|| invalid(String::from("a detached signature needs its format")));
        };
        let manifest = ParsedManifest::parse(None, bytes).map_err(|e| invalid(e.to_string()))?;
        self.report.manifest_digest = Some(manifest.digest().to_string());
        let image = manifest
            .as_image_manifest()
            .ok_or_else(|| invalid(format!("a signature must be an image manifest, not {}", manifest.media_type())))?;
        let is_signature = image.artifact_type.as_deref() == Some(media_types::NOTARY_SIGNATURE)
            || image.config.media_type == media_types::NOTARY_SIGNATURE;
        if !is_signature {
            return Err(invalid(String::from("the manifest is not a Notary signature (artifactType/config)")));
        }
        let [layer] = image.layers.as_slice() else {
            return Err(invalid(format!("a signature manifest has exactly one layer, found {}", image.layers.len())));
        };
        let format = EnvelopeFormat::from_media_type(&layer.media_type)
            .ok_or_else(|| invalid(format!("unsupported envelope media type {:?}", layer.media_type)))?;
        if layer.size != input.envelope.len() as u64 || layer.digest.verify(input.envelope).is_err() {
            return Err(Failure::new(
                FailureKind::EnvelopeDigestMismatch,
                format!("the envelope does not match layer {}", layer.digest),
            ));
        }
        if let (Some(subject), Target::Manifest { digest, .. }) = (image.subject.as_ref(), self.target) {
            if subject.digest.to_string() != *digest {
                return Err(invalid(format!("the signature's subject is {}, not {digest}", subject.digest)));
            }
        }
        if image.subject.is_none() {
            return Err(invalid(String::from("the signature manifest has no subject")));
        }
        Ok(format)
    }

    fn parse_chain(&self, envelope: &ParsedEnvelope) -> Result<Vec<Certificate>, Failure> {
        if envelope.certificate_chain().len() > crate::limits::MAX_CHAIN_LENGTH {
            return Err(Failure::new(FailureKind::CertificateChainInvalid, "certificate chain too long"));
        }
        envelope
            .certificate_chain()
            .iter()
            .enumerate()
            .map(|(i, der)| {
                Certificate::from_der(der).map_err(|e| {
                    Failure::new(FailureKind::CertificateChainInvalid, format!("certificate {i} of the chain: {e}"))
                })
            })
            .collect()
    }

    fn plugin(&self, envelope: &ParsedEnvelope) -> Result<Option<&'a dyn VerificationPlugin>, Failure> {
        let Some(name) = envelope.signed().verification_plugin.as_deref() else {
            return Ok(None);
        };
        let plugin = self.options.plugins.plugin(name).ok_or_else(|| {
            Failure::new(FailureKind::PluginUnavailable, format!("verification plugin {name:?} is not installed"))
        })?;
        if let Some(min) = envelope.signed().verification_plugin_min_version.as_deref() {
            let wanted = Version::parse(min).ok_or_else(|| {
                Failure::new(
                    FailureKind::EnvelopeMalformed,
                    format!("verificationPluginMinVersion {min:?} is not SemVer"),
                )
            })?;
            let have = Version::parse(plugin.version()).ok_or_else(|| {
                Failure::new(
                    FailureKind::PluginUnavailable,
                    format!("plugin {name:?} reports a version that is not SemVer: {:?}", plugin.version()),
                )
            })?;
            if have < wanted {
                return Err(Failure::new(
                    FailureKind::PluginVersionIncompatible,
                    format!("plugin {name:?} version {} is below the required {min}", plugin.version()),
                ));
            }
        }
        if !plugin.capabilities().iter().any(|c| c.starts_with("SIGNATURE_VERIFIER.")) {
            return Err(Failure::new(
                FailureKind::PluginUnavailable,
                format!("plugin {name:?} has no SIGNATURE_VERIFIER capability"),
            ));
        }
        Ok(Some(plugin))
    }

    fn authenticity(&self, envelope: &ParsedEnvelope, chain: &[Certificate], plugin_checks_identity: bool) -> Outcome {
        let kind = match envelope.signed().signing_scheme {
            SigningScheme::X509 => TrustStoreKind::Ca,
            SigningScheme::X509SigningAuthority => TrustStoreKind::SigningAuthority,
        };
        let trusted = self.stores.certificates_of(kind, self.statement.store_names(kind));
        if trusted.is_empty() {
            return Outcome::Failed(Failure::new(
                FailureKind::UntrustedCertificate,
                format!("the policy names no {kind} trust store with certificates"),
            ));
        }
        if !chain.iter().any(|c| trusted.iter().any(|t| t.der() == c.der())) {
            return Outcome::Failed(Failure::new(
                FailureKind::UntrustedCertificate,
                format!("no certificate of the signing chain is in the {kind} trust stores of the policy"),
            ));
        }
        if plugin_checks_identity {
            return Outcome::Passed;
        }
        let Some(leaf) = chain.first() else {
            return Outcome::Failed(Failure::new(FailureKind::UntrustedIdentity, "no leaf certificate"));
        };
        let attributes = leaf.subject_attributes().unwrap_or_default();
        match self.statement.trusted_identities.check(&attributes) {
            Ok(()) => Outcome::Passed,
            Err(why) => Outcome::Failed(Failure::new(
                FailureKind::UntrustedIdentity,
                format!(
                    "signer {:?} is not a trusted identity of policy {:?}: {why}",
                    leaf.subject_string(),
                    self.statement.name
                ),
            )),
        }
    }

    fn authentic_timestamp(&mut self, envelope: &ParsedEnvelope, chain: &[Certificate]) -> Outcome {
        let now = self.options.now;
        if envelope.signed().signing_scheme == SigningScheme::X509SigningAuthority {
            let Some(at) = envelope.signed().authentic_signing_time else {
                return Outcome::Failed(Failure::new(FailureKind::TimestampMissing, "no authenticSigningTime"));
            };
            return match chain.iter().find(|c| !c.is_valid_at(at)) {
                Some(c) => Outcome::Failed(Failure::new(
                    FailureKind::CertificateExpired,
                    format!("certificate {:?} was not valid at the authentic signing time {at}", c.subject_string()),
                )),
                None => Outcome::Passed,
            };
        }
        let tsa_stores: Vec<Certificate> = self
            .stores
            .certificates_of(TrustStoreKind::Tsa, self.statement.store_names(TrustStoreKind::Tsa))
            .into_iter()
            .cloned()
            .collect();
        let some_expired = chain.iter().any(|c| !c.is_valid_at(now));
        let run = !tsa_stores.is_empty()
            && (self.statement.signature_verification.verify_timestamp == VerifyTimestamp::Always || some_expired);
        if !run {
            return match chain.iter().find(|c| !c.is_valid_at(now)) {
                Some(c) => Outcome::Failed(Failure::new(
                    FailureKind::CertificateExpired,
                    format!(
                        "certificate {:?} is not valid now ({now}; valid {} to {}) and no trusted timestamp applies",
                        c.subject_string(),
                        c.not_before(),
                        c.not_after()
                    ),
                )),
                None => Outcome::Passed,
            };
        }
        let Some(token) = envelope.unsigned().timestamp_signature.as_deref() else {
            return Outcome::Failed(Failure::new(
                FailureKind::TimestampMissing,
                "the trust policy requires a timestamp and the signature has none",
            ));
        };
        let verified =
            match timestamp::verify(token, envelope.signature(), Some(envelope.algorithm.hash()), &tsa_stores) {
                Ok(v) => v,
                Err(e) => return Outcome::Failed(Failure::new(FailureKind::TimestampInvalid, e.to_string())),
            };
        if let Some(signer) = self.report.signer.as_mut() {
            signer.timestamp = Some(verified.gen_time);
        }
        let (earliest, latest) = (verified.earliest(), verified.latest());
        if let Some(c) = chain.iter().find(|c| c.not_before() > earliest || c.not_after() < latest) {
            return Outcome::Failed(Failure::new(
                FailureKind::TimestampInvalid,
                format!(
                    "timestamp {} (±{}s) is outside the validity of certificate {:?} ({} to {})",
                    verified.gen_time,
                    verified.accuracy_seconds,
                    c.subject_string(),
                    c.not_before(),
                    c.not_after()
                ),
            ));
        }
        if self.options.check_tsa_revocation {
            if let Outcome::Failed(f) = self.revocation_at(&verified.tsa_chain, verified.gen_time) {
                return Outcome::Failed(Failure::new(
                    FailureKind::TimestampInvalid,
                    format!("TSA chain: {}", f.detail),
                ));
            }
        }
        Outcome::Passed
    }

    fn revocation(&self, chain: &[Certificate]) -> Outcome {
        self.revocation_at(chain, self.options.now)
    }

    fn revocation_at(&self, chain: &[Certificate], at: Timestamp) -> Outcome {
        let fetch = |url: &str| self.options.crls.crl(url);
        match x509::check_chain_revocation(chain, &fetch, at).status {
            RevocationStatus::Good => Outcome::Passed,
            RevocationStatus::Revoked { subject, serial, revoked_at, .. } => Outcome::Failed(Failure::new(
                FailureKind::Revoked,
                format!("certificate {subject:?} (serial {serial}) was revoked at {revoked_at}"),
            )),
            RevocationStatus::Unknown { index, reason } => Outcome::Failed(Failure::new(
                FailureKind::RevocationUnknown,
                format!("revocation status of certificate {index} of the chain is unknown: {reason}"),
            )),
        }
    }

    fn plugin_checks(
        &mut self,
        plugin: &dyn VerificationPlugin,
        envelope: &ParsedEnvelope,
        critical: &[String],
        caps: &[String],
    ) -> Result<(), Stop> {
        let wanted: Vec<&str> = [CAPABILITY_TRUSTED_IDENTITY, CAPABILITY_REVOCATION_CHECK]
            .into_iter()
            .filter(|c| caps.iter().any(|have| have == c))
            .filter(|c| {
                *c != CAPABILITY_REVOCATION_CHECK
                    || self.statement.signature_verification.action(Check::Revocation) != Action::Skip
            })
            .collect();
        let request = super::plugin_protocol::verify_request(envelope, critical, &wanted, self.statement);
        let response = match plugin.verify_signature(&request) {
            Ok(r) => r,
            Err(e) => {
                return Err(
                    self.integrity(Failure::new(FailureKind::PluginCheckFailed, format!("{}: {e}", plugin.name())))
                )
            }
        };
        let parsed = super::plugin_protocol::parse_response(&response, &wanted)
            .map_err(|e| self.integrity(Failure::new(FailureKind::PluginCheckFailed, e)))?;
        if let Some(missing) = critical.iter().find(|a| !parsed.processed.contains(*a)) {
            return Err(self.integrity(Failure::new(
                FailureKind::UnprocessedCriticalAttribute,
                format!("plugin {} did not process critical attribute {missing:?}", plugin.name()),
            )));
        }
        for (cap, result) in parsed.results {
            let check = if cap == CAPABILITY_TRUSTED_IDENTITY { Check::Authenticity } else { Check::Revocation };
            let outcome = match result {
                Ok(()) => Outcome::Passed,
                Err(reason) => Outcome::Failed(Failure::new(
                    FailureKind::PluginCheckFailed,
                    format!("plugin {} failed {cap}: {reason}", plugin.name()),
                )),
            };
            self.record(check, outcome)?;
        }
        Ok(())
    }

    fn payload_binding(&self, envelope: &ParsedEnvelope, payload: &crate::envelope::Payload) -> Result<(), Failure> {
        let got = &payload.target_artifact;
        let mismatch = |what: String| Failure::new(FailureKind::PayloadMismatch, what);
        match self.target {
            Target::Manifest { media_type, digest, size } => {
                if got.digest != *digest {
                    return Err(mismatch(format!("the signature is for {}, not {digest}", got.digest)));
                }
                if got.size != *size {
                    return Err(mismatch(format!("the signature is for size {}, not {size}", got.size)));
                }
                if got.media_type != *media_type {
                    return Err(mismatch(format!(
                        "the signature is for media type {}, not {media_type}",
                        got.media_type
                    )));
                }
            }
            Target::Blob { digests, size, media_type } => {
                let hash = envelope.algorithm.hash();
                let expected = format!("{}:{}", hash.name(), hex_string(digests.get(hash)));
                if got.digest != expected {
                    return Err(mismatch(format!("the signature is for {}, the blob is {expected}", got.digest)));
                }
                if got.size != *size {
                    return Err(mismatch(format!("the signature is for size {}, the blob has {size}", got.size)));
                }
                if let Some(mt) = media_type {
                    if got.media_type != *mt {
                        return Err(mismatch(format!("the signature is for media type {}, not {mt}", got.media_type)));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Maps an envelope error to its failure kind: algorithm problems, bad signatures, and everything else.
fn envelope_failure_kind(error: &EnvelopeError) -> FailureKind {
    match error {
        EnvelopeError::UnsupportedAlgorithm { .. } | EnvelopeError::AlgorithmKeyMismatch { .. } => {
            FailureKind::AlgorithmInvalid
        }
        EnvelopeError::SignatureInvalid => FailureKind::SignatureInvalid,
        _ => FailureKind::EnvelopeMalformed,
    }
}

fn summary(envelope: &ParsedEnvelope, chain: &[Certificate]) -> SignerSummary {
    SignerSummary {
        subject: chain.first().map(|c| c.subject_string()).unwrap_or_default(),
        chain_sha256: chain.iter().map(|c| hex_string(&c.sha256_fingerprint())).collect(),
        algorithm: envelope.algorithm.jws_name().to_string(),
        signing_time: envelope.signed().signing_time.or(envelope.signed().authentic_signing_time),
        expiry: envelope.signed().expiry,
        timestamp: None,
    }
}

/// Lowercase hex, as digests and fingerprints are written (shared by signing and verification).
pub fn hex_string(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}
