//! The SBoM rules of `admission.json` ([`super::policy_dir::AdmissionRules`]), applied to an image whose own
//! signature already verified: find its SBoM referrers (SPDX or CycloneDX), take the first whose signature
//! verifies (through the policy module, like the image: against `sbomTrustedStores` when given, else the trust
//! policy's statement for the repository), and refuse the image when that SBoM lists a denied package or licence.
//! An unsigned or untrusted SBoM counts as no SBoM: anyone can attach a referrer.

use nv2_core::oci::{Descriptor, ParsedManifest};
use nv2_core::verify::wire::PolicySpec;

use super::policy_dir::PolicySnapshot;
use super::verifier::{ImageVerifier, Refusal};
use crate::content::{fetch_all, ContentStore};
use crate::sbom::{Sbom, SbomFormat, SbomPackage, MAX_SBOM_BYTES};

/// Most SBoM referrers examined per image.
const MAX_SBOM_CANDIDATES: usize = 8;
/// Largest SBoM manifest read.
const MAX_SBOM_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// Applies the rules to `descriptor` (verified already) in `repository`.
pub(super) async fn check(
    verifier: &ImageVerifier,
    repository: &dyn ContentStore,
    snapshot: &PolicySnapshot,
    pinned: &str,
    descriptor: &Descriptor,
) -> Result<(), Refusal> {
    let failed = |e: crate::content::ContentError| Refusal::Failed(format!("cannot list the SBoMs of {pinned}: {e}"));
    let mut candidates = Vec::new();
    for format in [SbomFormat::Spdx, SbomFormat::CycloneDx] {
        candidates.extend(repository.referrers(descriptor, Some(format.media_type())).await.map_err(failed)?);
    }
    let mut why_not = Vec::new();
    for candidate in candidates.into_iter().take(MAX_SBOM_CANDIDATES) {
        let sbom_pinned = match pinned.split_once('@') {
            Some((name, _)) => format!("{name}@{}", candidate.digest),
            None => continue,
        };
        let policy = match snapshot.sbom_stores.is_empty() {
            true => PolicySpec {
                document: Some(serde_json::Value::String(snapshot.policy_text.clone())),
                reference: Some(sbom_pinned.clone()),
                ..PolicySpec::default()
            },
            false => PolicySpec { statement: Some(sbom_statement(snapshot, &sbom_pinned)), ..PolicySpec::default() },
        };
        match verifier.module_verdict(repository, snapshot, &sbom_pinned, &candidate, policy).await {
            Ok(_) => {}
            Err(Refusal::Verdict(reason)) => {
                why_not.push(format!("SBoM {}: {reason}", candidate.digest));
                continue;
            }
            Err(failure) => return Err(failure),
        }
        let packages = read_packages(repository, &candidate).await?;
        return judge_packages(&packages, snapshot, &candidate);
    }
    match snapshot.rules.require_sbom {
        false => Ok(()),
        true if why_not.is_empty() => {
            Err(Refusal::Verdict(format!("{pinned} has no SBoM referrer, and one is required")))
        }
        true => {
            Err(Refusal::Verdict(format!("no SBoM of {pinned} has a signature that verifies ({})", why_not.join("; "))))
        }
    }
}

/// A strict statement trusting any identity of `sbomTrustedStores`, scoped to the SBoM's repository.
fn sbom_statement(snapshot: &PolicySnapshot, sbom_pinned: &str) -> serde_json::Value {
    let scope = sbom_pinned.split_once('@').map_or(sbom_pinned, |(name, _)| name);
    let stores: Vec<String> = snapshot.sbom_stores.iter().map(|s| format!("{}:{}", s.kind.name(), s.name)).collect();
    serde_json::json!({
        "name": "admission-sbom",
        "registryScopes": [scope],
        "signatureVerification": {"level": "strict"},
        "trustStores": stores,
        "trustedIdentities": ["*"],
    })
}

/// The packages of the SBoM document in the referrer's single layer.
async fn read_packages(repository: &dyn ContentStore, candidate: &Descriptor) -> Result<Vec<SbomPackage>, Refusal> {
    let verdict = |reason: String| Refusal::Verdict(format!("SBoM {}: {reason}", candidate.digest));
    let manifest = fetch_all(repository, candidate, MAX_SBOM_MANIFEST_BYTES)
        .await
        .map_err(|e| Refusal::Failed(format!("cannot fetch SBoM {}: {e}", candidate.digest)))?;
    let parsed = ParsedManifest::parse(Some(&candidate.media_type), &manifest).map_err(|e| verdict(e.to_string()))?;
    let layer = parsed
        .as_image_manifest()
        .and_then(|m| m.layers.first().cloned())
        .ok_or_else(|| verdict("the SBoM manifest has no layer".into()))?;
    let bytes = fetch_all(repository, &layer, MAX_SBOM_BYTES as u64)
        .await
        .map_err(|e| Refusal::Failed(format!("cannot fetch SBoM {}: {e}", candidate.digest)))?;
    let sbom = Sbom::from_bytes(bytes).map_err(|e| verdict(e.to_string()))?;
    sbom.packages().map_err(|e| verdict(e.to_string()))
}

/// Refuses on the first denied package or licence.
fn judge_packages(packages: &[SbomPackage], snapshot: &PolicySnapshot, sbom: &Descriptor) -> Result<(), Refusal> {
    let rules = &snapshot.rules;
    for package in packages {
        if rules.deny_packages.iter().any(|denied| denied.eq_ignore_ascii_case(&package.name)) {
            return Err(Refusal::Verdict(format!(
                "SBoM {} lists denied package {}{}",
                sbom.digest,
                package.name,
                package.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default()
            )));
        }
        if let Some(license) = &package.license {
            if let Some(denied) = rules.deny_licenses.iter().find(|denied| license_mentions(license, denied)) {
                return Err(Refusal::Verdict(format!(
                    "SBoM {} lists package {} under denied licence {denied} ({license})",
                    sbom.digest, package.name
                )));
            }
        }
    }
    Ok(())
}

/// Whether the SPDX expression `expression` names `id` (`MIT OR GPL-3.0-only` names both).
fn license_mentions(expression: &str, id: &str) -> bool {
    expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|token| !token.is_empty())
        .any(|token| token.eq_ignore_ascii_case(id))
}

#[cfg(test)]
mod tests {
    use super::license_mentions;

    #[test]
    fn licence_expressions_are_matched_by_identifier_not_by_substring() {
        assert!(license_mentions("MIT OR GPL-3.0-only", "GPL-3.0-only"));
        assert!(license_mentions("(Apache-2.0 AND gpl-3.0-only)", "GPL-3.0-only"));
        assert!(!license_mentions("LGPL-3.0-only", "GPL-3.0-only"));
        assert!(!license_mentions("GPL-3.0-or-later", "GPL-3.0-only"));
    }
}
