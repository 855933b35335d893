//! Signing an artifact that lives in a content store: the core builds the envelope and the signature manifest
//! ([`nv2_core::sign::sign_artifact`]); this module pushes them (empty config, envelope, then the manifest, so a
//! registry never sees a manifest whose blobs are missing) and, for `--recursive`, walks an index's platform
//! manifests so each gets its own signature.

use nv2_core::crypto::SigningKey;
use nv2_core::oci::{Descriptor, ParsedManifest};
use nv2_core::sign::{SignOptions, SignedArtifact};
use nv2_core::x509::Certificate;

use crate::content::{fetch_all, stream_of, ContentError, ContentStore};

/// Why signing an artifact in a store failed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The core refused to sign (chain invalid at the signing time, key/certificate mismatch, bad expiry).
    #[error(transparent)]
    Core(#[from] nv2_core::sign::SignError),
    /// Reading the target or pushing the signature failed.
    #[error(transparent)]
    Content(#[from] ContentError),
    /// A manifest of the target could not be parsed (for `--recursive`).
    #[error("manifest {digest}: {source}")]
    Manifest {
        /// The manifest's digest.
        digest: String,
        /// What was wrong.
        #[source]
        source: nv2_core::oci::OciError,
    },
}

/// One signature that was pushed.
#[derive(Clone, Debug)]
pub struct PushedSignature {
    /// The manifest that was signed.
    pub target: Descriptor,
    /// What the core produced (envelope, signature manifest and their descriptors).
    pub signed: SignedArtifact,
}

/// Signs `target` (a manifest in `store`, addressed by digest) and pushes the signature next to it.
pub async fn sign(
    store: &dyn ContentStore,
    target: &Descriptor,
    key: &SigningKey,
    chain: &[Certificate],
    options: &SignOptions,
) -> Result<PushedSignature, SignError> {
    let signed = nv2_core::sign::sign_artifact(target, key, chain, options)?;
    let config = Descriptor::empty();
    if !store.exists(&config).await? {
        store.push(&config, stream_of(&b"{}"[..])).await?;
    }
    store.push(&signed.envelope_descriptor, stream_of(signed.envelope.clone())).await?;
    store.push(&signed.manifest_descriptor, stream_of(signed.manifest.clone())).await?;
    Ok(PushedSignature { target: target.clone(), signed })
}

/// Signs `target` and, when it is an index (multi-platform image), every manifest it lists, children first: each
/// platform digest then verifies on its own, which is what a node pulling one platform checks.
pub async fn sign_recursive(
    store: &dyn ContentStore,
    target: &Descriptor,
    key: &SigningKey,
    chain: &[Certificate],
    options: &SignOptions,
) -> Result<Vec<PushedSignature>, SignError> {
    let mut pushed = Vec::new();
    let bytes = fetch_all(store, target, nv2_core::limits::MAX_MANIFEST_BYTES as u64).await?;
    let parsed = ParsedManifest::parse(Some(&target.media_type), &bytes)
        .map_err(|source| SignError::Manifest { digest: target.digest.to_string(), source })?;
    if parsed.as_image_index().is_some() || parsed.media_type() == nv2_core::oci::media_types::DOCKER_MANIFEST_LIST {
        for child in parsed.references().into_iter().filter(|c| c.is_manifest()) {
            let child = child.descriptor;
            let child_target = Descriptor::new(&child.media_type, child.digest.clone(), child.size);
            pushed.push(sign(store, &child_target, key, chain, options).await?);
        }
    }
    pushed.push(sign(store, target, key, chain, options).await?);
    Ok(pushed)
}
