//! Verifying an artifact that lives in a content store: list its Notary signatures, fetch each signature manifest
//! and envelope (bounded: manifests 4 MiB, envelopes 32 MiB), select the trust-policy statement for the
//! repository, and hand plain bytes to the core's one pipeline ([`nv2_core::verify::verify`]). The CLI, the docker
//! plugin and the admission server all verify through [`verify_artifact`], so they give the same verdicts.

use std::collections::BTreeMap;

use futures_util::{stream, StreamExt, TryStreamExt};
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::limits::{DEFAULT_MAX_SIGNATURES, MAX_ENVELOPE_BYTES, MAX_MANIFEST_BYTES};
use nv2_core::oci::{media_types, Descriptor, ParsedManifest};
use nv2_core::time::Timestamp;
use nv2_core::trust::{TrustError, TrustPolicyDocument, TrustStores};
use nv2_core::verify::{NoPlugins, SignatureInput, Target, Verdict, VerifyOptions};

use crate::content::{fetch_all, ContentError, ContentStore};
use crate::revocation::{attached_crls, crl_urls, CrlFetcher, Crls};

/// How many signatures are fetched at once.
const FETCH_CONCURRENCY: usize = 8;

/// Why verification could not even be attempted (a rejected signature is a [`Verdict`], not an error).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No trust-policy statement applies, or the policy is unusable.
    #[error(transparent)]
    Policy(#[from] TrustError),
    /// Listing or fetching signatures failed.
    #[error(transparent)]
    Content(#[from] ContentError),
}

/// One Notary signature found next to an artifact, with its bytes.
#[derive(Clone, Debug)]
pub struct FoundSignature {
    /// The signature manifest's descriptor as the referrers list gave it.
    pub descriptor: Descriptor,
    /// The signature manifest bytes.
    pub manifest: Vec<u8>,
    /// The envelope bytes (the manifest's single layer), or empty when the manifest names no usable layer (the
    /// pipeline then reports the manifest's defect).
    pub envelope: Vec<u8>,
    /// The envelope format named by the layer's media type.
    pub format: Option<EnvelopeFormat>,
}

/// Settings of one verification beyond policy and stores.
pub struct VerifySettings<'a> {
    /// The current time.
    pub now: Timestamp,
    /// `-m key=value` pairs that must be in the signed payload.
    pub user_metadata: BTreeMap<String, String>,
    /// Most signatures examined (notation's `--max-signatures`).
    pub max_signatures: usize,
    /// Downloads the CRLs a signing chain names when none is attached to the signature; `None` keeps the
    /// verification offline (attached CRLs only; chains naming CRLs without one then have an unknown status).
    pub crl_fetcher: Option<&'a CrlFetcher>,
}

impl VerifySettings<'static> {
    /// Notation's defaults at `now`: no metadata, 100 signatures, no CRL source.
    pub fn at(now: Timestamp) -> Self {
        VerifySettings {
            now,
            user_metadata: BTreeMap::new(),
            max_signatures: DEFAULT_MAX_SIGNATURES,
            crl_fetcher: None,
        }
    }
}

/// The result of verifying one artifact.
#[derive(Clone, Debug)]
pub struct ArtifactVerification {
    /// `registry/repository` whose trust-policy statement was applied.
    pub scope: String,
    /// The artifact verified.
    pub target: Descriptor,
    /// The signature manifests examined, in the order the verdict's reports refer to.
    pub signatures: Vec<Descriptor>,
    /// The core's verdict.
    pub verdict: Verdict,
}

/// Lists the Notary signatures of `target` in `store` (at most `max` of them are fetched) with their bytes.
pub async fn find_signatures(
    store: &dyn ContentStore,
    target: &Descriptor,
    max: usize,
) -> Result<(Vec<FoundSignature>, usize), ContentError> {
    let listed = store.referrers(target, Some(media_types::NOTARY_SIGNATURE)).await?;
    let total = listed.len();
    let found = stream::iter(listed.into_iter().take(max).map(|d| fetch_signature(store, d)))
        .buffered(FETCH_CONCURRENCY)
        .try_collect()
        .await?;
    Ok((found, total))
}

/// Fetches one signature manifest and its envelope (bounded; a defective one is still returned, for the pipeline
/// to report).
pub async fn fetch_signature(store: &dyn ContentStore, descriptor: Descriptor) -> Result<FoundSignature, ContentError> {
    let manifest = fetch_all(store, &descriptor, MAX_MANIFEST_BYTES as u64).await?;
    let layer = ParsedManifest::parse(Some(&descriptor.media_type), &manifest).ok().and_then(|parsed| {
        match parsed.as_image_manifest() {
            Some(m) if m.layers.len() == 1 => m.layers.first().cloned(),
            _ => None,
        }
    });
    let (envelope, format) = match layer {
        Some(layer) => {
            let format = EnvelopeFormat::from_media_type(&layer.media_type);
            match fetch_all(store, &layer, MAX_ENVELOPE_BYTES as u64).await {
                Ok(bytes) => (bytes, format),
                // An oversized or corrupt envelope is the signature's defect, reported by the pipeline.
                Err(ContentError::TooLarge { .. } | ContentError::Mismatch { .. }) => (Vec::new(), format),
                Err(e) => return Err(e),
            }
        }
        None => (Vec::new(), None),
    };
    Ok(FoundSignature { descriptor, manifest, envelope, format })
}

/// Verifies `target` (a manifest in `store`, addressed by digest) under the statement `policy` selects for
/// `scope` (`registry/repository`).
pub async fn verify_artifact(
    store: &dyn ContentStore,
    scope: &str,
    target: &Descriptor,
    policy: &TrustPolicyDocument,
    stores: &TrustStores,
    settings: &VerifySettings<'_>,
) -> Result<ArtifactVerification, VerifyError> {
    let statement = policy.statement_for(scope)?;
    let rules = &statement.rules;
    let core_target = Target::Manifest {
        media_type: target.media_type.clone(),
        digest: target.digest.to_string(),
        size: target.size,
    };
    let no_crls = Crls::default();
    let options = |crls| VerifyOptions {
        now: settings.now,
        user_metadata: settings.user_metadata.clone(),
        max_signatures: settings.max_signatures,
        plugins: &NoPlugins,
        crls,
        check_tsa_revocation: false,
    };
    if rules.is_skip() {
        let verdict = nv2_core::verify::verify(&core_target, &[], rules, stores, &options(&no_crls));
        return Ok(ArtifactVerification {
            scope: scope.to_string(),
            target: target.clone(),
            signatures: Vec::new(),
            verdict,
        });
    }
    // One more than the bound is fetched so the pipeline can tell "too many signatures" from "all failed".
    let (found, _) = find_signatures(store, target, settings.max_signatures.saturating_add(1)).await?;
    let inputs: Vec<SignatureInput<'_>> = found
        .iter()
        .map(|s| SignatureInput { manifest: Some(&s.manifest), envelope: &s.envelope, format: s.format })
        .collect();
    let crls = revocation_material(store, &found, settings.crl_fetcher).await?;
    let verdict = nv2_core::verify::verify(&core_target, &inputs, rules, stores, &options(&crls));
    Ok(ArtifactVerification {
        scope: scope.to_string(),
        target: target.clone(),
        signatures: found.into_iter().map(|s| s.descriptor).collect(),
        verdict,
    })
}

/// The CRLs the chains of `found` name: attached ones first, then (with a fetcher) downloads of the rest. Nothing
/// is looked up when no certificate names a distribution point, which is what keeps ordinary verification at its
/// minimum of registry round trips.
pub async fn revocation_material(
    store: &dyn ContentStore,
    found: &[FoundSignature],
    fetcher: Option<&CrlFetcher>,
) -> Result<Crls, ContentError> {
    let urls = crl_urls(found);
    if urls.is_empty() {
        return Ok(Crls::default());
    }
    let mut crls = attached_crls(store, found).await?;
    if let Some(fetcher) = fetcher {
        let missing: Vec<String> = urls.into_iter().filter(|u| !crls.contains(u)).collect();
        if !missing.is_empty() {
            crls.extend_missing(fetcher.fetch(&missing).await);
        }
    }
    Ok(crls)
}
