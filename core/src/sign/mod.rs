//! Signing: one call turns an artifact descriptor, a key and its certificate chain into a Notary envelope and the
//! signature manifest that links it to the artifact (notation 2.x shape: `artifactType`
//! `application/vnd.cncf.notary.signature`, empty config, one layer, `subject`).
//!
//! The host supplies the signing time (no clock here) and pushes the two blobs and the manifest; signing is
//! deterministic for a given key, input and time.

use crate::crypto::SigningKey;
use crate::envelope::{self, EnvelopeFormat, Payload, SignRequest, TargetArtifact};
use crate::oci::{media_types, Descriptor, Digest, ImageManifest};
use crate::time::Timestamp;
use crate::verify::BlobDigests;
use crate::x509::{self, Certificate, ChainPurpose};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Annotation listing the SHA-256 thumbprints of the signing chain, as notation writes it.
pub const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";
/// Annotation with the signature manifest's creation time.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// Why signing was refused.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The certificate chain is not a valid Notary signing chain at the signing time.
    #[error("certificate chain: {0}")]
    Chain(#[from] x509::X509Error),
    /// The key does not belong to the leaf certificate.
    #[error("the signing key does not match the leaf certificate")]
    KeyCertificateMismatch,
    /// The certificate chain is empty.
    #[error("no certificate chain given")]
    EmptyChain,
    /// The expiry is not after the signing time.
    #[error("expiry {expiry} is not after the signing time {signing_time}")]
    ExpiryNotAfterSigning {
        /// Signing time.
        signing_time: Timestamp,
        /// Requested expiry.
        expiry: Timestamp,
    },
    /// The envelope could not be built.
    #[error("envelope: {0}")]
    Envelope(#[from] envelope::EnvelopeError),
    /// The signature manifest could not be built.
    #[error("signature manifest: {0}")]
    Manifest(#[from] crate::oci::OciError),
}

/// What to sign with and how.
#[derive(Clone, Debug)]
pub struct SignOptions {
    /// JWS (default, as notation) or COSE.
    pub format: EnvelopeFormat,
    /// The signing time (the host's clock).
    pub signing_time: Timestamp,
    /// Optional signature expiry.
    pub expiry: Option<Timestamp>,
    /// `-m key=value` pairs placed in the payload's target annotations.
    pub user_metadata: BTreeMap<String, String>,
    /// `io.cncf.notary.signingAgent`, e.g. `nv2/0.1.0`.
    pub signing_agent: String,
}

/// The products of signing an OCI artifact.
#[derive(Clone, Debug)]
pub struct SignedArtifact {
    /// The envelope bytes (the signature manifest's single layer).
    pub envelope: Vec<u8>,
    /// The envelope's descriptor.
    pub envelope_descriptor: Descriptor,
    /// The signature manifest bytes (push with the image-manifest media type).
    pub manifest: Vec<u8>,
    /// The signature manifest's descriptor.
    pub manifest_descriptor: Descriptor,
    /// Whether notation can verify this signature. `false` for Ed25519 (`EdDSA`), an nv2 extension outside the
    /// Notary Project specification: hosts must tell the user.
    pub notation_compatible: bool,
}

/// Signs the artifact `target` (a manifest descriptor resolved by digest) and builds its signature manifest.
pub fn sign_artifact(
    target: &Descriptor,
    key: &SigningKey,
    chain: &[Certificate],
    options: &SignOptions,
) -> Result<SignedArtifact, SignError> {
    let envelope = sign_payload(&target.media_type, target.digest.to_string(), target.size, key, chain, options)?;
    let envelope_descriptor =
        Descriptor::new(options.format.media_type(), Digest::sha256(&envelope), envelope.len() as u64);
    let thumbprints: Vec<String> = chain.iter().map(|c| format!("\"{}\"", c.sha256_fingerprint_hex())).collect();
    let manifest = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, alloc::vec![envelope_descriptor.clone()])
        .with_subject(subject_of(target))
        .with_annotation(THUMBPRINT_ANNOTATION, &format!("[{}]", thumbprints.join(",")))
        .with_annotation(CREATED_ANNOTATION, &options.signing_time.to_rfc3339());
    let bytes = manifest.to_json_bytes()?;
    let mut manifest_descriptor =
        Descriptor::new(media_types::OCI_IMAGE_MANIFEST, Digest::sha256(&bytes), bytes.len() as u64);
    manifest_descriptor.artifact_type = Some(String::from(media_types::NOTARY_SIGNATURE));
    Ok(SignedArtifact {
        envelope,
        envelope_descriptor,
        manifest: bytes,
        manifest_descriptor,
        notation_compatible: key.algorithm().is_notary_standard(),
    })
}

/// Signs a blob as a detached envelope (`<file>.jws.sig` / `<file>.cose.sig`). The payload names the blob's digest
/// with the hash of the key's signature algorithm (SHA-384 for P-384, as notation requires), taken from `digests`,
/// which the host computed in one streaming pass ([`crate::verify::BlobDigester`]).
pub fn sign_blob(
    digests: &BlobDigests,
    size: u64,
    media_type: &str,
    key: &SigningKey,
    chain: &[Certificate],
    options: &SignOptions,
) -> Result<Vec<u8>, SignError> {
    let hash = key.algorithm().hash();
    let digest = format!("{}:{}", hash.name(), crate::verify::hex_string(digests.get(hash)));
    sign_payload(media_type, digest, size, key, chain, options)
}

fn subject_of(target: &Descriptor) -> Descriptor {
    Descriptor::new(&target.media_type, target.digest.clone(), target.size)
}

fn sign_payload(
    media_type: &str,
    digest: String,
    size: u64,
    key: &SigningKey,
    chain: &[Certificate],
    options: &SignOptions,
) -> Result<Vec<u8>, SignError> {
    let leaf = chain.first().ok_or(SignError::EmptyChain)?;
    if leaf.public_key()? != key.public_key() {
        return Err(SignError::KeyCertificateMismatch);
    }
    x509::validate_chain(chain, ChainPurpose::CodeSigning, Some(options.signing_time))?;
    if let Some(expiry) = options.expiry {
        if expiry <= options.signing_time {
            return Err(SignError::ExpiryNotAfterSigning { signing_time: options.signing_time, expiry });
        }
    }
    let payload = Payload {
        target_artifact: TargetArtifact {
            media_type: String::from(media_type),
            digest,
            size,
            annotations: options.user_metadata.clone(),
        },
    };
    let mut request = SignRequest::new(options.format, &payload, options.signing_time, &options.signing_agent);
    request.expiry = options.expiry;
    let chain_der: Vec<Vec<u8>> = chain.iter().map(|c| c.der().to_vec()).collect();
    Ok(envelope::sign(&request, key, &chain_der)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyKind;
    use crate::oci::ParsedManifest;
    use crate::trust::{StoreRef, TrustPolicyDocument, TrustStores};
    use crate::verify::{self, SignatureInput, Target, VerifyOptions};
    use crate::x509::{issue, TrustStoreKind};

    fn t(year: i64) -> Timestamp {
        Timestamp::from_civil(year, 1, 1, 0, 0, 0).unwrap()
    }

    fn key(kind: KeyKind, n: u8) -> SigningKey {
        SigningKey::from_seed(kind, &alloc::vec![n; kind.seed_len()]).unwrap()
    }

    fn options(format: EnvelopeFormat) -> SignOptions {
        SignOptions {
            format,
            signing_time: t(2026),
            expiry: Some(t(2027)),
            user_metadata: BTreeMap::from([(String::from("buildId"), String::from("42"))]),
            signing_agent: String::from("nv2/test"),
        }
    }

    #[test]
    fn signature_manifest_has_the_notation_2_shape_and_verifies() {
        let (root_key, leaf_key) = (key(KeyKind::P256, 3), key(KeyKind::P256, 4));
        let subject = "CN=wabbit-networks.io,O=Notary,ST=WA,C=US";
        let (root, leaf) =
            issue::test_chain("CN=root,O=Notary,ST=WA,C=US", &root_key, subject, &leaf_key, t(2025), t(2030)).unwrap();
        let target = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, br#"{"schemaVersion":2}"#);
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let signed = sign_artifact(&target, &leaf_key, &[leaf.clone(), root.clone()], &options(format)).unwrap();
            assert!(signed.notation_compatible);
            let parsed = ParsedManifest::parse(Some(media_types::OCI_IMAGE_MANIFEST), &signed.manifest).unwrap();
            let image = parsed.as_image_manifest().unwrap();
            assert_eq!(image.artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE));
            assert_eq!(image.config, Descriptor::empty());
            assert_eq!(image.layers, core::slice::from_ref(&signed.envelope_descriptor));
            assert_eq!(image.layers[0].media_type, format.media_type());
            assert_eq!(image.subject.as_ref().map(|s| &s.digest), Some(&target.digest));
            let thumbprints = &parsed.annotations()[THUMBPRINT_ANNOTATION];
            let expected =
                alloc::format!("[\"{}\",\"{}\"]", leaf.sha256_fingerprint_hex(), root.sha256_fingerprint_hex());
            assert_eq!(thumbprints, &expected);
            assert_eq!(thumbprints, &thumbprints.to_lowercase());
            assert_eq!(parsed.annotations()[CREATED_ANNOTATION], "2026-01-01T00:00:00Z");
            assert_eq!(signed.manifest_descriptor.digest, *parsed.digest());

            // The one pipeline accepts what signing produced, with the root in a ca store.
            let policy = br#"{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],
                "signatureVerification":{"level":"strict"},"trustStores":["ca:root"],
                "trustedIdentities":["x509.subject: C=US, ST=WA, O=Notary, CN=wabbit-networks.io"]}]}"#;
            let policy = TrustPolicyDocument::parse(policy).unwrap();
            let mut stores = TrustStores::new();
            stores.add(StoreRef::new(TrustStoreKind::Ca, "root").unwrap(), [root.clone()]).unwrap();
            let verify_target = Target::Manifest {
                media_type: target.media_type.clone(),
                digest: target.digest.to_string(),
                size: target.size,
            };
            let input = [SignatureInput { manifest: Some(&signed.manifest), envelope: &signed.envelope, format: None }];
            let mut opts = VerifyOptions::at(t(2026).saturating_add(60));
            opts.user_metadata = BTreeMap::from([(String::from("buildId"), String::from("42"))]);
            let verdict =
                verify::verify(&verify_target, &input, &policy.statement_for("a.io/b").unwrap().rules, &stores, &opts);
            assert!(verdict.is_accepted(), "{}", verdict.reason());
        }
    }

    #[test]
    fn refuses_mismatched_key_bad_expiry_and_ed25519_is_flagged() {
        let (root_key, leaf_key) = (key(KeyKind::P256, 5), key(KeyKind::Ed25519, 6));
        let (root, leaf) =
            issue::test_chain("CN=r,O=o,ST=s,C=US", &root_key, "CN=l,O=o,ST=s,C=US", &leaf_key, t(2025), t(2030))
                .unwrap();
        let target = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, b"{}");
        let chain = [leaf, root];
        let signed = sign_artifact(&target, &leaf_key, &chain, &options(EnvelopeFormat::Jws)).unwrap();
        assert!(!signed.notation_compatible, "Ed25519 must be reported as not notation-compatible");
        let other = key(KeyKind::Ed25519, 7);
        assert!(matches!(
            sign_artifact(&target, &other, &chain, &options(EnvelopeFormat::Jws)),
            Err(SignError::KeyCertificateMismatch)
        ));
        let mut bad = options(EnvelopeFormat::Jws);
        bad.expiry = Some(bad.signing_time);
        assert!(matches!(
            sign_artifact(&target, &leaf_key, &chain, &bad),
            Err(SignError::ExpiryNotAfterSigning { .. })
        ));
        let mut late = options(EnvelopeFormat::Jws);
        late.signing_time = t(2031);
        late.expiry = None;
        assert!(matches!(sign_artifact(&target, &leaf_key, &chain, &late), Err(SignError::Chain(_))));
        assert!(matches!(sign_artifact(&target, &leaf_key, &[], &late), Err(SignError::EmptyChain)));
    }
}
