//! What a host sends: the artifact, its signatures, the trust policy, the trust stores and the facts the core cannot
//! fetch itself (now, CRLs), as one JSON document of wire version [`WIRE_VERSION`].
//!
//! ```json
//! {
//!   "version": 1,
//!   "target": {"type": "manifest", "mediaType": "application/vnd.oci.image.manifest.v1+json",
//!              "digest": "sha256:…", "size": 1234},
//!   "signatures": [{"manifest": "<base64>", "envelope": "<base64>", "format": "jws"}],
//!   "policy": {"document": {"version": "1.0", "trustPolicies": […]}, "reference": "registry.example/app@sha256:…"},
//!   "trustStores": [{"type": "ca", "name": "acme", "certificates": ["-----BEGIN CERTIFICATE-----…"]}],
//!   "now": "2025-06-01T00:00:00Z",
//!   "userMetadata": {"env": "prod"},
//!   "maxSignatures": 100,
//!   "crls": {"http://crl.example/ca.crl": "<base64 DER>"},
//!   "checkTsaRevocation": false
//! }
//! ```
//!
//! Unknown members are refused (a misspelt `maxSignatures` must not be silently ignored). Verification plugins
//! cannot run behind the wire (the policy module has no imports), so a signature that names one is rejected with
//! `plugin-unavailable`, exactly as a host without that plugin installed would reject it.

use super::{decode_base64, excerpt, WireError, MAX_REQUEST_BYTES, WIRE_VERSION};
use crate::envelope::EnvelopeFormat;
use crate::json;
use crate::limits::{DEFAULT_MAX_SIGNATURES, MAX_JSON_DEPTH};
use crate::oci::Digest;
use crate::time::Timestamp;
use crate::trust::policy::SUPPORTED_VERSION;
use crate::trust::{BlobTrustPolicyDocument, StatementRules, StoreRef, TrustPolicyDocument, TrustStores};
use crate::verify::{self, BlobDigests, CrlSource, NoPlugins, SignatureInput, Target, Verdict, VerifyOptions};
use crate::x509::TrustStoreKind;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A verification request (wire version [`WIRE_VERSION`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VerifyRequest {
    /// The wire version; must be [`WIRE_VERSION`].
    pub version: u32,
    /// The artifact the signatures must be bound to.
    pub target: TargetSpec,
    /// The signatures found for it, in the order they are to be examined (the first that passes wins).
    #[serde(default)]
    pub signatures: Vec<SignatureSpec>,
    /// The trust policy statement to apply, given directly or selected from a document.
    pub policy: PolicySpec,
    /// The named trust stores the statement may refer to.
    #[serde(default)]
    pub trust_stores: Vec<TrustStoreSpec>,
    /// The verification time (the core has no clock).
    pub now: TimeSpec,
    /// Annotations the signed payload must carry (`-m key=value`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_metadata: BTreeMap<String, String>,
    /// Most signatures examined; at least 1, default [`DEFAULT_MAX_SIGNATURES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_signatures: Option<u32>,
    /// CRLs by distribution-point URL, base64 DER, fetched by the host beforehand.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub crls: BTreeMap<String, String>,
    /// Also check revocation of timestamp-authority chains (see [`VerifyOptions::check_tsa_revocation`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub check_tsa_revocation: bool,
}

fn is_false(flag: &bool) -> bool {
    !*flag
}

/// The artifact: an OCI manifest the host resolved, or a blob the host digested.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum TargetSpec {
    /// `{"type": "manifest", "mediaType", "digest", "size"}`: the payload must name exactly this descriptor.
    #[serde(rename_all = "camelCase")]
    Manifest {
        /// The manifest's media type as served.
        media_type: String,
        /// `alg:hex` digest of the manifest bytes.
        digest: String,
        /// Manifest size in bytes.
        size: u64,
    },
    /// `{"type": "blob", "digests": {...}, "size", "mediaType"?}`: a detached signature over a blob.
    #[serde(rename_all = "camelCase")]
    Blob {
        /// The blob's SHA-256, SHA-384 and SHA-512 (a signature may use any of them).
        digests: BlobDigestsSpec,
        /// Blob size in bytes.
        size: u64,
        /// The media type the user expects, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        media_type: Option<String>,
    },
}

/// A blob's three digests as lowercase hex (computed by the host in one pass with
/// [`BlobDigester`](crate::verify::BlobDigester)).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlobDigestsSpec {
    /// SHA-256, 64 hex characters.
    pub sha256: String,
    /// SHA-384, 96 hex characters.
    pub sha384: String,
    /// SHA-512, 128 hex characters.
    pub sha512: String,
}

impl BlobDigestsSpec {
    /// The hex form of digests computed natively.
    pub fn of(digests: &BlobDigests) -> Self {
        use crate::crypto::HashAlgorithm;
        let hex = |hash| verify::hex_string(digests.get(hash));
        BlobDigestsSpec {
            sha256: hex(HashAlgorithm::Sha256),
            sha384: hex(HashAlgorithm::Sha384),
            sha512: hex(HashAlgorithm::Sha512),
        }
    }
}

/// One signature: the envelope, and the signature manifest it came in (absent for a detached blob signature).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignatureSpec {
    /// The signature manifest bytes, base64; absent for detached signatures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest: Option<String>,
    /// The envelope bytes, base64.
    pub envelope: String,
    /// `jws` or `cose`; required when there is no manifest to name the envelope's media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl SignatureSpec {
    /// The wire form of one signature found natively.
    pub fn of(manifest: Option<&[u8]>, envelope: &[u8], format: Option<EnvelopeFormat>) -> Self {
        SignatureSpec {
            manifest: manifest.map(super::encode_base64),
            envelope: super::encode_base64(envelope),
            format: format.map(|f| String::from(f.name())),
        }
    }
}

/// Which trust-policy statement applies. Exactly one of `statement`, `document` or `blobDocument`:
///
/// - `{"statement": {...}}`: one statement, already selected by the host; it is validated with notation's rules
///   for the target's kind (an OCI statement, with `registryScopes`, for a manifest; a blob statement for a blob).
/// - `{"document": ..., "scope": "registry/repo"}` or `{"document": ..., "reference": "registry/repo@digest"}`:
///   a whole `trustpolicy.oci.json`, and the statement is selected as notation selects it (what admission needs).
/// - `{"blobDocument": ..., "name": "..."?}`: a whole `trustpolicy.blob.json`; the named statement, or the global
///   one without a name.
///
/// A document is either a JSON object or a string holding the file's text (read exactly as the file would be,
/// duplicate keys refused; prefer this form when relaying a file).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec {
    /// One statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<Value>,
    /// An OCI trust policy document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<Value>,
    /// A blob trust policy document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob_document: Option<Value>,
    /// Repository (`registry/repo`) to select an OCI statement for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Full reference (`registry/repo@digest`) to select an OCI statement for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Blob statement name (`--policy-name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// One named trust store: `type` (`ca`, `signingAuthority`, `tsa`), `name`, and its files' contents.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustStoreSpec {
    /// The store type, as in a policy's `type:name`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The store name.
    pub name: String,
    /// One entry per certificate file: PEM text as is, or the file's bytes (DER or PEM) in base64.
    pub certificates: Vec<String>,
}

/// A point in time: RFC 3339 text or Unix seconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeSpec {
    /// Seconds since the Unix epoch.
    Unix(i64),
    /// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
    Rfc3339(String),
}

impl VerifyRequest {
    /// Reads a request: at most [`MAX_REQUEST_BYTES`], strict JSON (no duplicate keys, bounded depth), the version
    /// checked before anything else so a newer request is refused as such rather than for its new members.
    pub fn from_json(bytes: &[u8]) -> Result<Self, WireError> {
        if bytes.len() > MAX_REQUEST_BYTES {
            return Err(WireError::TooLarge { size: bytes.len(), limit: MAX_REQUEST_BYTES });
        }
        let value = json::parse_strict(bytes, MAX_REQUEST_BYTES, MAX_JSON_DEPTH)
            .map_err(|e| WireError::Invalid(e.to_string()))?;
        match value.get("version") {
            Some(version) if version.as_u64() == Some(u64::from(WIRE_VERSION)) => {}
            Some(version) => return Err(WireError::UnsupportedVersion(excerpt(&version.to_string()))),
            None => return Err(WireError::Invalid(String::from("the request must be an object with a version"))),
        }
        serde_json::from_value(value).map_err(|e| WireError::Invalid(e.to_string()))
    }

    /// The request as JSON bytes (what a host hands the policy module).
    pub fn to_json(&self) -> Vec<u8> {
        super::to_json(self)
    }

    /// Decodes every member, selects and validates the statement, loads the stores, and runs the one pipeline.
    pub fn verify(&self) -> Result<Verdict, WireError> {
        let target = self.target.resolve()?;
        let statement = self.policy.statement(&self.target)?;
        let stores = load_stores(&self.trust_stores)?;
        let signatures: Vec<DecodedSignature> =
            self.signatures.iter().enumerate().map(|(i, s)| s.decode(i)).collect::<Result<_, _>>()?;
        let now = self.now.resolve()?;
        let mut crls = BTreeMap::new();
        for (url, der) in &self.crls {
            crls.insert(url.clone(), decode_base64(der, &format!("crls[{url:?}]"))?);
        }
        let crls = MappedCrls(crls);
        let max_signatures = match self.max_signatures {
            None => DEFAULT_MAX_SIGNATURES,
            Some(0) => return Err(WireError::Invalid(String::from("maxSignatures must be at least 1"))),
            Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let options = VerifyOptions {
            now,
            user_metadata: self.user_metadata.clone(),
            max_signatures,
            plugins: &NoPlugins,
            crls: &crls,
            check_tsa_revocation: self.check_tsa_revocation,
        };
        let inputs: Vec<SignatureInput<'_>> = signatures
            .iter()
            .map(|s| SignatureInput { manifest: s.manifest.as_deref(), envelope: &s.envelope, format: s.format })
            .collect();
        Ok(verify::verify(&target, &inputs, &statement, &stores, &options))
    }
}

impl TargetSpec {
    /// The wire form of a target the host resolved natively.
    pub fn of(target: &Target) -> Self {
        match target {
            Target::Manifest { media_type, digest, size } => {
                TargetSpec::Manifest { media_type: media_type.clone(), digest: digest.clone(), size: *size }
            }
            Target::Blob { digests, size, media_type } => {
                TargetSpec::Blob { digests: BlobDigestsSpec::of(digests), size: *size, media_type: media_type.clone() }
            }
        }
    }

    fn resolve(&self) -> Result<Target, WireError> {
        match self {
            TargetSpec::Manifest { media_type, digest, size } => {
                Digest::parse(digest).map_err(|e| WireError::Invalid(format!("target.digest: {e}")))?;
                Ok(Target::Manifest { media_type: media_type.clone(), digest: digest.clone(), size: *size })
            }
            TargetSpec::Blob { digests, size, media_type } => {
                let digests =
                    BlobDigests::from_hex(&digests.sha256, &digests.sha384, &digests.sha512).ok_or_else(|| {
                        WireError::Invalid(String::from("target.digests: each must be lowercase hex of its length"))
                    })?;
                Ok(Target::Blob { digests, size: *size, media_type: media_type.clone() })
            }
        }
    }
}

/// A signature with its base64 decoded.
struct DecodedSignature {
    manifest: Option<Vec<u8>>,
    envelope: Vec<u8>,
    format: Option<EnvelopeFormat>,
}

impl SignatureSpec {
    fn decode(&self, index: usize) -> Result<DecodedSignature, WireError> {
        let manifest = match &self.manifest {
            Some(text) => Some(decode_base64(text, &format!("signatures[{index}].manifest"))?),
            None => None,
        };
        let envelope = decode_base64(&self.envelope, &format!("signatures[{index}].envelope"))?;
        let format = match self.format.as_deref() {
            None => None,
            Some(name) => Some(envelope_format(name).ok_or_else(|| {
                WireError::Invalid(format!("signatures[{index}].format: {:?} is neither jws nor cose", excerpt(name)))
            })?),
        };
        Ok(DecodedSignature { manifest, envelope, format })
    }
}

/// Looks a format up by its short name (`jws`, `cose`).
pub(crate) fn envelope_format(name: &str) -> Option<EnvelopeFormat> {
    [EnvelopeFormat::Jws, EnvelopeFormat::Cose].into_iter().find(|f| f.name() == name)
}

impl PolicySpec {
    /// The statement that applies, validated; see the type's documentation for the three forms.
    fn statement(&self, target: &TargetSpec) -> Result<StatementRules, WireError> {
        let invalid = |what: &str| Err(WireError::Invalid(String::from(what)));
        match (&self.statement, &self.document, &self.blob_document) {
            (Some(statement), None, None) => {
                if self.scope.is_some() || self.reference.is_some() || self.name.is_some() {
                    return invalid("policy.statement is applied as given and takes no scope, reference or name");
                }
                let mut document = Map::new();
                document.insert(String::from("version"), Value::from(SUPPORTED_VERSION));
                document.insert(String::from("trustPolicies"), Value::Array(Vec::from([statement.clone()])));
                let bytes = serde_json::to_vec(&Value::Object(document))
                    .map_err(|e| WireError::Invalid(format!("policy.statement: {e}")))?;
                let rules = match target {
                    TargetSpec::Manifest { .. } => TrustPolicyDocument::parse(&bytes)
                        .map_err(WireError::Policy)?
                        .statements
                        .into_iter()
                        .next()
                        .map(|s| s.rules),
                    TargetSpec::Blob { .. } => BlobTrustPolicyDocument::parse(&bytes)
                        .map_err(WireError::Policy)?
                        .statements
                        .into_iter()
                        .next()
                        .map(|s| s.rules),
                };
                rules.ok_or_else(|| WireError::Invalid(String::from("policy.statement: no statement")))
            }
            (None, Some(document), None) => {
                if self.name.is_some() {
                    return invalid("policy.name selects from a blobDocument, not a document");
                }
                let document = TrustPolicyDocument::parse(&document_bytes(document, "policy.document")?)
                    .map_err(WireError::Policy)?;
                let statement = match (&self.scope, &self.reference) {
                    (Some(scope), None) => document.statement_for(scope),
                    (None, Some(reference)) => document.statement_for_reference(reference),
                    _ => return invalid("policy.document needs exactly one of scope or reference"),
                };
                Ok(statement.map_err(WireError::from_selection)?.rules.clone())
            }
            (None, None, Some(document)) => {
                if self.scope.is_some() || self.reference.is_some() {
                    return invalid("policy.blobDocument selects by name, not by scope or reference");
                }
                let document = BlobTrustPolicyDocument::parse(&document_bytes(document, "policy.blobDocument")?)
                    .map_err(WireError::Policy)?;
                let statement = document.statement_for_blob(self.name.as_deref());
                Ok(statement.map_err(WireError::from_selection)?.rules.clone())
            }
            _ => invalid("policy needs exactly one of statement, document or blobDocument"),
        }
    }
}

/// A document given as its text (used byte for byte) or as a JSON object (serialised again).
fn document_bytes(document: &Value, member: &str) -> Result<Vec<u8>, WireError> {
    match document {
        Value::String(text) => Ok(text.clone().into_bytes()),
        Value::Object(_) => serde_json::to_vec(document).map_err(|e| WireError::Invalid(format!("{member}: {e}"))),
        _ => Err(WireError::Invalid(format!("{member} must be a JSON object or the document's text"))),
    }
}

/// Loads every named store with notation's rules; a bad type, name or certificate fails the request.
fn load_stores(specs: &[TrustStoreSpec]) -> Result<TrustStores, WireError> {
    let mut stores = TrustStores::new();
    for (index, spec) in specs.iter().enumerate() {
        let store_error = |reason: String| WireError::TrustStore { index, reason };
        let kind: TrustStoreKind = spec.kind.parse().map_err(|e| store_error(format!("{e}")))?;
        let store = StoreRef::new(kind, &spec.name).map_err(|e| store_error(e.to_string()))?;
        let mut files = Vec::with_capacity(spec.certificates.len());
        for (file, text) in spec.certificates.iter().enumerate() {
            files.push(match text.contains("-----BEGIN") {
                true => text.clone().into_bytes(),
                false => decode_base64(text, &format!("trustStores[{index}].certificates[{file}]"))?,
            });
        }
        stores.load_store(store, files).map_err(|e| store_error(e.to_string()))?;
    }
    Ok(stores)
}

impl TimeSpec {
    /// The wire form of a time known natively (RFC 3339, the readable form).
    pub fn of(at: Timestamp) -> Self {
        TimeSpec::Rfc3339(at.to_rfc3339())
    }

    fn resolve(&self) -> Result<Timestamp, WireError> {
        match self {
            TimeSpec::Unix(seconds) => Ok(Timestamp::from_unix(*seconds)),
            TimeSpec::Rfc3339(text) => {
                Timestamp::parse_rfc3339(text).map_err(|e| WireError::Invalid(format!("now: {e}")))
            }
        }
    }
}

/// CRLs the host fetched, by URL.
struct MappedCrls(BTreeMap<String, Vec<u8>>);

impl CrlSource for MappedCrls {
    fn crl(&self, url: &str) -> Option<Vec<u8>> {
        self.0.get(url).cloned()
    }
}
