//! `nv2 sign`, `nv2 verify`, `nv2 list`, `nv2 inspect` and `nv2 signature delete`: notation's signing commands,
//! with notation's configuration files, over any content store.

use std::collections::BTreeMap;

use nv2_core::envelope::{EnvelopeFormat, ParsedEnvelope};
use nv2_core::oci::Descriptor;
use nv2_core::sign::SignOptions;
use nv2_core::x509::Certificate;
use serde_json::json;

use crate::cli::args::{ListArgs, SignArgs, SignatureFormat, SignerArgs, VerifyArgs};
use crate::cli::certificate_view;
use crate::cli::context::{Context, Opened};
use crate::cli::error::CliError;
use crate::cli::flag_values::{duration_seconds, key_values};
use crate::cli::output::Report;
use crate::cli::verdict_view;
use crate::verify::{find_signatures, verify_artifact, ArtifactVerification, VerifySettings};

/// The prefix of annotation keys the Notary Project reserves (not allowed in `-m`).
const RESERVED_PREFIX: &str = "io.cncf.notary";

/// The `io.cncf.notary.signingAgent` nv2 writes.
pub fn signing_agent() -> String {
    format!("nv2/{}", env!("CARGO_PKG_VERSION"))
}

/// Builds the core's sign options from the shared signer flags.
pub fn sign_options(ctx: &Context, signer: &SignerArgs) -> Result<SignOptions, CliError> {
    let now = crate::clock::now();
    let format = match signer.signature_format {
        Some(SignatureFormat::Jws) => EnvelopeFormat::Jws,
        Some(SignatureFormat::Cose) => EnvelopeFormat::Cose,
        None => ctx.config().settings()?.signature_format.unwrap_or(EnvelopeFormat::Jws),
    };
    let expiry = match &signer.expiry {
        Some(text) => Some(now.saturating_add(duration_seconds(text).map_err(CliError::Usage)?)),
        None => None,
    };
    let user_metadata = key_values("--user-metadata", &signer.user_metadata).map_err(CliError::Usage)?;
    if let Some(key) = user_metadata.keys().find(|k| k.starts_with(RESERVED_PREFIX)) {
        return Err(CliError::Usage(format!("--user-metadata key {key:?}: the {RESERVED_PREFIX} prefix is reserved")));
    }
    Ok(SignOptions { format, signing_time: now, expiry, user_metadata, signing_agent: signing_agent() })
}

/// `nv2 sign <ref>`.
pub async fn run_sign(ctx: &Context, args: SignArgs) -> Result<Report, CliError> {
    let (key, chain) = ctx.config().load_signing_key(args.signer.key.as_deref())?;
    let options = sign_options(ctx, &args.signer)?;
    let target = if args.force_referrers_tag {
        ctx.open_tag_schema(&args.target).await?
    } else {
        ctx.open(&args.target).await?
    };
    let descriptor = target.resolve().await?;
    let mut report = Report::default();
    if let Some(tag) = target.tag() {
        report = report.warn(format!(
            "always sign the artifact by digest (@sha256:...) rather than by tag: {tag} resolved to {} and the \
             signature is bound to that digest",
            descriptor.digest
        ));
    }
    let pushed = if args.recursive {
        crate::sign::sign_recursive(target.store.as_ref(), &descriptor, &key, &chain, &options).await?
    } else {
        vec![crate::sign::sign(target.store.as_ref(), &descriptor, &key, &chain, &options).await?]
    };
    if pushed.iter().any(|p| !p.signed.notation_compatible) {
        report = report.warn("signed with Ed25519 (EdDSA), an nv2 extension: notation cannot verify this signature");
    }
    for p in &pushed {
        report.lines.push(format!("Successfully signed {}", target.pinned(&p.target)));
        report.lines.push(format!("Pushed the signature to {}", target.pinned(&p.signed.manifest_descriptor)));
    }
    report.json = json!({
        "signatures": pushed.iter().map(|p| json!({
            "target": p.target,
            "reference": target.pinned(&p.target),
            "signature": p.signed.manifest_descriptor,
            "envelope": p.signed.envelope_descriptor,
            "format": options.format.name(),
            "notationCompatible": p.signed.notation_compatible,
        })).collect::<Vec<_>>(),
        "certificates": chain.iter().map(certificate_view::to_json).collect::<Vec<_>>(),
    });
    Ok(report)
}

/// Verifies an already resolved artifact with the configuration's policy and stores; refusals are errors.
pub async fn verify_resolved(
    ctx: &Context,
    target: &Opened,
    descriptor: &Descriptor,
    user_metadata: &BTreeMap<String, String>,
    max_signatures: usize,
) -> Result<ArtifactVerification, CliError> {
    let policy = ctx.config().oci_policy()?;
    let statement = policy.document.statement_for(&target.scope).map_err(crate::verify::VerifyError::from)?;
    let stores = ctx.config().load_trust_stores(Some(&statement.rules.trust_stores))?;
    let fetcher =
        crate::revocation::CrlFetcher::new(crate::revocation::DEFAULT_FETCH_TIMEOUT).map_err(CliError::Failed)?;
    let settings = VerifySettings {
        user_metadata: user_metadata.clone(),
        max_signatures,
        crl_fetcher: Some(&fetcher),
        ..VerifySettings::at(crate::clock::now())
    };
    let verification =
        verify_artifact(target.store.as_ref(), &target.scope, descriptor, &policy.document, &stores, &settings).await?;
    if !verification.verdict.is_accepted() {
        return Err(CliError::Refused {
            message: format!("verification of {} failed: {}", target.pinned(descriptor), verification.verdict.reason()),
            details: verdict_view::to_json(&verification.verdict),
        });
    }
    Ok(verification)
}

/// `nv2 verify <ref>`.
pub async fn run_verify(ctx: &Context, args: VerifyArgs) -> Result<Report, CliError> {
    let mut target = ctx.open(&args.target).await?;
    if let Some(scope) = &args.scope {
        target.scope = scope.clone();
    }
    let descriptor = target.resolve().await?;
    let user_metadata = key_values("--user-metadata", &args.user_metadata).map_err(CliError::Usage)?;
    let mut report = Report::default();
    if let Some(tag) = target.tag() {
        report = report.warn(format!("{tag} resolved to {}: verify by digest to pin what you run", descriptor.digest));
    }
    let verification = verify_resolved(ctx, &target, &descriptor, &user_metadata, args.max_signatures).await?;
    let verdict = &verification.verdict;
    report.lines.push(match verdict.decision {
        nv2_core::verify::Decision::Skipped => {
            format!("Trust policy is configured to skip signature verification for {}", target.pinned(&descriptor))
        }
        _ => format!("Successfully verified signature for {}", target.pinned(&descriptor)),
    });
    if let Some(signature) = verdict.verified_signature() {
        for (check, failure) in signature.warnings() {
            report.warnings.push(format!("{} was logged, not enforced: {failure}", check.name()));
        }
        if let Some(signer) = &signature.signer {
            report.lines.push(format!("  signer: {} ({})", signer.subject, signer.algorithm));
        }
    }
    let mut json = verdict_view::to_json(verdict);
    if let serde_json::Value::Object(map) = &mut json {
        map.insert("reference".into(), json!(target.pinned(&descriptor)));
        map.insert("signatureManifests".into(), json!(verification.signatures));
    }
    report.json = json;
    Ok(report)
}

/// `nv2 list <ref>`.
pub async fn run_list(ctx: &Context, args: ListArgs) -> Result<Report, CliError> {
    let target = ctx.open(&args.target).await?;
    let descriptor = target.resolve().await?;
    let (found, total) = find_signatures(target.store.as_ref(), &descriptor, args.max_signatures).await?;
    let mut lines = vec![target.pinned(&descriptor)];
    if found.is_empty() {
        lines.push("└── no signatures".to_string());
    } else {
        lines.push(format!("└── {}", nv2_core::oci::media_types::NOTARY_SIGNATURE));
        for (i, s) in found.iter().enumerate() {
            let branch = if i + 1 == found.len() { "    └──" } else { "    ├──" };
            lines.push(format!("{branch} {}", s.descriptor.digest));
        }
    }
    let mut report = Report::new(
        lines,
        json!({"reference": target.pinned(&descriptor), "signatures": found.iter().map(|s| &s.descriptor).collect::<Vec<_>>()}),
    );
    if total > found.len() {
        report = report.warn(format!("showing {} of {total} signatures (--max-signatures)", found.len()));
    }
    Ok(report)
}

/// `nv2 inspect <ref>`: each signature's signed attributes and certificates.
pub async fn run_inspect(ctx: &Context, args: ListArgs) -> Result<Report, CliError> {
    let target = ctx.open(&args.target).await?;
    let descriptor = target.resolve().await?;
    let (found, _) = find_signatures(target.store.as_ref(), &descriptor, args.max_signatures).await?;
    let mut lines = vec![format!("{} has {} signature(s)", target.pinned(&descriptor), found.len())];
    let mut signatures = Vec::new();
    for s in &found {
        let (mut sig_lines, sig_json) = match s.format {
            Some(format) => envelope_view(format, &s.envelope),
            None => (vec!["  (not a Notary envelope)".to_string()], json!({"error": "no envelope layer"})),
        };
        lines.push(format!("signature {}", s.descriptor.digest));
        lines.append(&mut sig_lines);
        signatures.push(json!({"descriptor": s.descriptor, "envelope": sig_json}));
    }
    Ok(Report::new(lines, json!({"reference": target.pinned(&descriptor), "signatures": signatures})))
}

/// Shows one envelope: format, scheme, times, signing agent, certificate chain (also used by `blob inspect`).
pub fn envelope_view(format: EnvelopeFormat, bytes: &[u8]) -> (Vec<String>, serde_json::Value) {
    let envelope = match ParsedEnvelope::parse(format, bytes) {
        Ok(e) => e,
        Err(e) => {
            return (vec![format!("  malformed {} envelope: {e}", format.name())], json!({"error": e.to_string()}))
        }
    };
    let signed = envelope.signed();
    let chain: Vec<Certificate> =
        envelope.certificate_chain().iter().filter_map(|der| Certificate::from_der(der).ok()).collect();
    let payload = envelope.payload().ok();
    let mut lines = vec![
        format!("  envelope:        {}", format.media_type()),
        format!("  signing scheme:  {}", signed.signing_scheme.as_str()),
    ];
    if let Some(t) = signed.signing_time.or(signed.authentic_signing_time) {
        lines.push(format!("  signing time:    {}", t.to_rfc3339()));
    }
    lines.push(format!(
        "  expiry:          {}",
        signed.expiry.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into())
    ));
    if let Some(agent) = &envelope.unsigned().signing_agent {
        lines.push(format!("  signing agent:   {agent}"));
    }
    lines.push(format!("  timestamped:     {}", envelope.unsigned().timestamp_signature.is_some()));
    if let Some(p) = &payload {
        lines.push(format!(
            "  signed artifact: {} {} ({} bytes)",
            p.target_artifact.media_type, p.target_artifact.digest, p.target_artifact.size
        ));
        for (k, v) in &p.target_artifact.annotations {
            lines.push(format!("    {k}={v}"));
        }
    }
    for (i, c) in chain.iter().enumerate() {
        lines.push(format!("  certificate {}:", i + 1));
        lines.extend(certificate_view::to_lines(c, "    "));
    }
    let json = json!({
        "mediaType": format.media_type(),
        "signingScheme": signed.signing_scheme.as_str(),
        "signingTime": signed.signing_time.map(|t| t.to_rfc3339()),
        "authenticSigningTime": signed.authentic_signing_time.map(|t| t.to_rfc3339()),
        "expiry": signed.expiry.map(|t| t.to_rfc3339()),
        "contentType": signed.content_type,
        "signingAgent": envelope.unsigned().signing_agent,
        "timestamped": envelope.unsigned().timestamp_signature.is_some(),
        "payload": payload.map(|p| json!({
            "mediaType": p.target_artifact.media_type,
            "digest": p.target_artifact.digest,
            "size": p.target_artifact.size,
            "annotations": p.target_artifact.annotations,
        })),
        "certificates": chain.iter().map(certificate_view::to_json).collect::<Vec<_>>(),
    });
    (lines, json)
}

/// `nv2 signature delete <ref> (--signature D | --all)`.
pub async fn run_signature_delete(
    ctx: &Context,
    target: &crate::cli::args::TargetArgs,
    signature: Option<String>,
    all: bool,
    yes: bool,
) -> Result<Report, CliError> {
    let opened = ctx.open(target).await?;
    let descriptor = opened.resolve().await?;
    let (found, _) = find_signatures(opened.store.as_ref(), &descriptor, usize::MAX).await?;
    let doomed: Vec<&Descriptor> = match (&signature, all) {
        (_, true) => found.iter().map(|s| &s.descriptor).collect(),
        (Some(digest), false) => {
            let d = nv2_core::oci::Digest::parse(digest)?;
            let matching: Vec<&Descriptor> = found.iter().map(|s| &s.descriptor).filter(|s| s.digest == d).collect();
            if matching.is_empty() {
                return Err(CliError::Failed(format!("{digest} is not a signature of {}", opened.pinned(&descriptor))));
            }
            matching
        }
        (None, false) => return Err(CliError::Usage("give --signature DIGEST or --all".into())),
    };
    if !yes && !doomed.is_empty() {
        super::confirm(ctx, &format!("delete {} signature(s) of {}?", doomed.len(), opened.pinned(&descriptor)))?;
    }
    for d in &doomed {
        opened.store.delete(d).await?;
    }
    let lines = if doomed.is_empty() {
        vec![format!("{} has no signatures", opened.pinned(&descriptor))]
    } else {
        doomed.iter().map(|d| format!("deleted signature {}", d.digest)).collect()
    };
    Ok(Report::new(lines, json!({"reference": opened.pinned(&descriptor), "deleted": doomed})))
}
