//! Verifying one image reference for admission: resolve the tag to a digest, list and fetch the signatures, build
//! the wire request (the trust policy document and the pinned reference, so the module selects the statement as
//! notation does; the stores that statement names; now from the host clock) and let the policy module judge. The
//! module's verdict is the verdict; the host only adds the SBoM rules of `admission.json` on top of an accepted
//! image ([`super::sbom_rule`]).
//!
//! Around that: a verdict cache per pinned reference and policy generation (with a TTL, so a revoked signer or a
//! moved tag is noticed), a resolution cache per image text with the same TTL, a global limit on concurrent
//! verifications ([`Semaphore`]), and a deadline per image: an image that is not judged in time is refused, with a
//! reason, well before the webhook's own timeout. Every failure (bad reference, registry unreachable, module
//! trapped) refuses the image with a one-line reason: admission fails closed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use nv2_core::oci::{Descriptor, Reference};
use nv2_core::verify::wire::{
    PolicySpec, SignatureSpec, TargetSpec, TimeSpec, VerifyRequest, VerifyResponse, WIRE_VERSION,
};
use serde::Serialize;
use tokio::sync::Semaphore;

use super::policy_dir::{PolicyDir, PolicySnapshot};
use super::policy_module::PolicyModule;
use super::sbom_rule;
use crate::content::ContentStore;
use crate::registry::RegistryClient;
use crate::verify::find_signatures;

/// Most entries per cache; beyond it expired entries are dropped, then everything.
const MAX_CACHE_ENTRIES: usize = 10_000;

/// An image that verified: what the Gatekeeper provider answers as the item's `value`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VerifiedImage {
    /// Always `true` (the Rego admits only on `verified: true`).
    pub verified: bool,
    /// The manifest digest that verified.
    pub digest: String,
    /// `registry/repository@digest`: what to run instead of a tag.
    pub reference: String,
    /// The subject of the signing certificate of the signature that verified (empty when the policy skips
    /// verification).
    pub signer: String,
    /// The trust-policy statement that applied.
    pub policy: String,
}

/// The judgement on one image: verified, or refused with a one-line reason.
pub type ImageOutcome = Result<VerifiedImage, String>;

/// Settings of the verifier.
#[derive(Clone, Copy, Debug)]
pub struct VerifierSettings {
    /// How long a verdict (and a tag's resolution) is reused.
    pub cache_ttl: Duration,
    /// Most images verified at once (registry round trips and module calls).
    pub max_concurrency: usize,
    /// Longest an image may take before it is refused.
    pub deadline: Duration,
    /// Most signatures examined per image.
    pub max_signatures: usize,
}

/// Verifies images against the policy directory with the policy module.
pub struct ImageVerifier {
    client: RegistryClient,
    policy: Arc<PolicyDir>,
    module: Arc<PolicyModule>,
    permits: Semaphore,
    settings: VerifierSettings,
    verdicts: Mutex<HashMap<(String, u64), (Instant, ImageOutcome)>>,
    resolved: Mutex<HashMap<String, (Instant, Descriptor)>>,
}

impl ImageVerifier {
    /// A verifier using `client` for registries.
    pub fn new(
        client: RegistryClient,
        policy: Arc<PolicyDir>,
        module: Arc<PolicyModule>,
        settings: VerifierSettings,
    ) -> Self {
        ImageVerifier {
            client,
            policy,
            module,
            permits: Semaphore::new(settings.max_concurrency.max(1)),
            settings,
            verdicts: Mutex::default(),
            resolved: Mutex::default(),
        }
    }

    /// The policy directory (for reloads).
    pub fn policy(&self) -> &Arc<PolicyDir> {
        &self.policy
    }

    /// Judges every image (each once, concurrently), in the order given.
    pub async fn verify_images(&self, images: &[String]) -> Vec<ImageOutcome> {
        let mut unique: Vec<&String> = Vec::new();
        for image in images {
            if !unique.contains(&image) {
                unique.push(image);
            }
        }
        let outcomes = join_all(unique.iter().map(|image| self.verify_image(image))).await;
        let by_image: HashMap<&String, ImageOutcome> = unique.into_iter().zip(outcomes).collect();
        images
            .iter()
            .map(|image| by_image.get(image).cloned().unwrap_or_else(|| Err("not verified".to_string())))
            .collect()
    }

    /// Judges one image within the deadline.
    pub async fn verify_image(&self, image: &str) -> ImageOutcome {
        let deadline = self.settings.deadline;
        match tokio::time::timeout(deadline, self.judge(image)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "verification did not finish within the {}s deadline (registry slow or unreachable); refused",
                deadline.as_secs_f32()
            )),
        }
    }

    async fn judge(&self, image: &str) -> ImageOutcome {
        let reference = Reference::parse(image).map_err(|e| format!("invalid image reference: {e}"))?;
        let snapshot = self.policy.snapshot();
        let repository = self.client.repository(&reference);
        let descriptor = self.resolve(&repository, image, &reference).await?;
        let pinned = reference.pinned(descriptor.digest.clone()).to_string();
        let key = (pinned.clone(), snapshot.generation);
        if let Some(outcome) = self.cached_verdict(&key) {
            return outcome;
        }
        let _permit = self.permits.acquire().await.map_err(|_| "the server is shutting down".to_string())?;
        match self.verify_pinned(&repository, &snapshot, &pinned, &descriptor).await {
            Ok(verified) => {
                self.cache_verdict(key, Ok(verified.clone()));
                Ok(verified)
            }
            Err(Refusal::Verdict(reason)) => {
                self.cache_verdict(key, Err(reason.clone()));
                Err(reason)
            }
            // Failures to reach the registry or to run the module are not verdicts: never cached.
            Err(Refusal::Failed(reason)) => Err(reason),
        }
    }

    /// The digest `image` names: itself when pinned, else the registry's answer for its tag (cached for the TTL).
    async fn resolve(
        &self,
        repository: &crate::registry::Repository,
        image: &str,
        reference: &Reference,
    ) -> Result<Descriptor, String> {
        let cached = lock(&self.resolved)
            .get(image)
            .filter(|(at, _)| at.elapsed() < self.settings.cache_ttl)
            .map(|(_, descriptor)| descriptor.clone());
        if let Some(descriptor) = cached {
            return Ok(descriptor);
        }
        let descriptor = repository
            .resolve(&reference.manifest_reference())
            .await
            .map_err(|e| format!("cannot resolve {reference}: {e}"))?;
        if let Some(expected) = &reference.digest {
            if &descriptor.digest != expected {
                return Err(format!("the registry answered {} for {reference}", descriptor.digest));
            }
        }
        let mut resolved = lock(&self.resolved);
        evict(&mut resolved, self.settings.cache_ttl, |(at, _)| *at);
        resolved.insert(image.to_string(), (Instant::now(), descriptor.clone()));
        Ok(descriptor)
    }

    /// Fetches the signatures and asks the module; then the SBoM rules.
    async fn verify_pinned(
        &self,
        repository: &crate::registry::Repository,
        snapshot: &PolicySnapshot,
        pinned: &str,
        descriptor: &Descriptor,
    ) -> Result<VerifiedImage, Refusal> {
        let verdict = self
            .module_verdict(
                repository,
                snapshot,
                pinned,
                descriptor,
                PolicySpec {
                    document: Some(serde_json::Value::String(snapshot.policy_text.clone())),
                    reference: Some(pinned.to_string()),
                    ..PolicySpec::default()
                },
            )
            .await?;
        let verified = VerifiedImage {
            verified: true,
            digest: descriptor.digest.to_string(),
            reference: pinned.to_string(),
            signer: verdict.signer,
            policy: verdict.policy,
        };
        if snapshot.rules.checks_sbom() {
            sbom_rule::check(self, repository, snapshot, pinned, descriptor).await?;
        }
        Ok(verified)
    }

    /// Lists and fetches the signatures of `descriptor` and has the module judge them under `policy`; the stores
    /// sent are those of the statement the policy selects (or names).
    pub(super) async fn module_verdict(
        &self,
        repository: &dyn ContentStore,
        snapshot: &PolicySnapshot,
        pinned: &str,
        descriptor: &Descriptor,
        policy: PolicySpec,
    ) -> Result<ModuleVerdict, Refusal> {
        let (stores, skip) = match (&policy.statement, snapshot.document.statement_for_reference(pinned)) {
            (Some(_), _) => (snapshot.stores_for(&snapshot.sbom_stores), false),
            (None, Ok(statement)) => (snapshot.stores_for(&statement.rules.trust_stores), statement.rules.is_skip()),
            (None, Err(_)) => (Vec::new(), false),
        };
        let signatures = match skip {
            true => Vec::new(),
            false => {
                // One more than the bound, so the pipeline can tell "too many signatures" from "all failed".
                let (found, _) =
                    find_signatures(repository, descriptor, self.settings.max_signatures.saturating_add(1))
                        .await
                        .map_err(|e| Refusal::Failed(format!("cannot fetch the signatures of {pinned}: {e}")))?;
                found.iter().map(|s| SignatureSpec::of(Some(&s.manifest), &s.envelope, s.format)).collect()
            }
        };
        let request = VerifyRequest {
            version: WIRE_VERSION,
            target: TargetSpec::Manifest {
                media_type: descriptor.media_type.clone(),
                digest: descriptor.digest.to_string(),
                size: descriptor.size,
            },
            signatures,
            policy,
            trust_stores: stores,
            now: TimeSpec::of(crate::clock::now()),
            user_metadata: Default::default(),
            max_signatures: u32::try_from(self.settings.max_signatures).ok(),
            crls: Default::default(),
            check_tsa_revocation: false,
        }
        .to_json();
        let module = Arc::clone(&self.module);
        let response = tokio::task::spawn_blocking(move || module.verify(&request))
            .await
            .map_err(|e| Refusal::Failed(format!("the policy module's thread failed: {e}")))?
            .map_err(|e| Refusal::Failed(e.to_string()))?;
        let response = VerifyResponse::from_json(&response)
            .map_err(|e| Refusal::Failed(format!("the policy module answered badly: {e}")))?;
        let verdict = match (response.verdict, response.error) {
            (Some(verdict), _) => verdict,
            (None, Some(error)) => return Err(Refusal::Verdict(error.message)),
            (None, None) => {
                return Err(Refusal::Failed("the policy module answered neither a verdict nor an error".into()))
            }
        };
        if !verdict.accepted {
            return Err(Refusal::Verdict(verdict.reason));
        }
        let signer = verdict
            .decision
            .signature
            .and_then(|i| verdict.signatures.iter().find(|s| s.index == i))
            .and_then(|s| s.signer.as_ref())
            .map(|s| s.subject.clone())
            .unwrap_or_default();
        Ok(ModuleVerdict { signer, policy: verdict.policy })
    }

    fn cached_verdict(&self, key: &(String, u64)) -> Option<ImageOutcome> {
        lock(&self.verdicts)
            .get(key)
            .filter(|(at, _)| at.elapsed() < self.settings.cache_ttl)
            .map(|(_, outcome)| outcome.clone())
    }

    fn cache_verdict(&self, key: (String, u64), outcome: ImageOutcome) {
        let mut verdicts = lock(&self.verdicts);
        evict(&mut verdicts, self.settings.cache_ttl, |(at, _)| *at);
        verdicts.insert(key, (Instant::now(), outcome));
    }
}

/// What an accepted module verdict says.
pub(super) struct ModuleVerdict {
    /// Signer subject, empty when verification was skipped.
    pub signer: String,
    /// Statement name.
    pub policy: String,
}

/// Why an image is refused: a verdict (cached like an acceptance), or a failure to reach one (never cached).
#[derive(Debug)]
pub(super) enum Refusal {
    /// The module or an admission rule refused the image.
    Verdict(String),
    /// The registry or the module could not be asked.
    Failed(String),
}

/// Drops expired entries when the map is full, and everything when that is not enough.
fn evict<K, V>(map: &mut HashMap<K, V>, ttl: Duration, at: impl Fn(&V) -> Instant) {
    if map.len() < MAX_CACHE_ENTRIES {
        return;
    }
    map.retain(|_, v| at(v).elapsed() < ttl);
    if map.len() >= MAX_CACHE_ENTRIES {
        map.clear();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
