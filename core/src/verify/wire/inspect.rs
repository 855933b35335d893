//! A decoded envelope for display (`nv2 inspect`, the browser page): what the signature says about itself. Nothing
//! here is trusted or judged; the pipeline decides. Parsing still applies every envelope rule, so an envelope
//! that cannot be inspected is one the pipeline would refuse as malformed.
//!
//! ```json
//! {"version": 1, "envelope": {
//!   "format": "jws", "mediaType": "application/jose+json", "algorithm": "ES256",
//!   "signedAttributes": {"signingScheme": "notary.x509", "signingTime": "…", "contentType": "…", "extended": []},
//!   "unsignedAttributes": {"signingAgent": "nv2/0.1.0", "timestamp": {"genTime": "…", "accuracySeconds": 1}},
//!   "payload": {"mediaType": "…", "digest": "sha256:…", "size": 1234, "annotations": {}},
//!   "certificateChain": [{"subject": "CN=…", "issuer": "CN=…", "serialNumber": "…", "sha256": "…",
//!                         "notBefore": "…", "notAfter": "…", "ca": false, "selfSigned": false}]}}
//! ```

use super::request::envelope_format;
use super::response::ErrorView;
use super::{excerpt, WireError, WIRE_VERSION};
use crate::envelope::{EnvelopeFormat, ParsedEnvelope};
use crate::time::Timestamp;
use crate::timestamp::TimestampToken;
use crate::x509::Certificate;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An inspect answer: exactly one of `envelope` or `error`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectResponse {
    /// The wire version, [`WIRE_VERSION`].
    pub version: u32,
    /// The decoded envelope.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub envelope: Option<EnvelopeView>,
    /// Why it could not be decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorView>,
}

/// A decoded envelope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvelopeView {
    /// `jws` or `cose`.
    pub format: String,
    /// The envelope media type.
    pub media_type: String,
    /// The declared signature algorithm.
    pub algorithm: String,
    /// The protected (signed) attributes.
    pub signed_attributes: SignedAttributesView,
    /// The unprotected attributes.
    pub unsigned_attributes: UnsignedAttributesView,
    /// The payload's target artifact, when the payload reads as a Notary payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<PayloadView>,
    /// Why the payload does not read, otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_error: Option<String>,
    /// The certificate chain as carried, leaf first.
    pub certificate_chain: Vec<CertificateView>,
}

/// The signed attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SignedAttributesView {
    /// `notary.x509` or `notary.x509.signingAuthority`.
    pub signing_scheme: String,
    /// The claimed signing time (`notary.x509`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_time: Option<String>,
    /// The authentic signing time (`notary.x509.signingAuthority`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentic_signing_time: Option<String>,
    /// The expiry, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// The verification plugin the signature requires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_plugin: Option<String>,
    /// Its minimum version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_plugin_min_version: Option<String>,
    /// The payload content type.
    pub content_type: String,
    /// Further signed attributes.
    pub extended: Vec<ExtendedAttributeView>,
}

/// A signed attribute outside the named ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtendedAttributeView {
    /// Its name.
    pub key: String,
    /// Its value.
    pub value: Value,
    /// Whether it is listed as critical.
    pub critical: bool,
}

/// The unsigned attributes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnsignedAttributesView {
    /// The signing agent string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_agent: Option<String>,
    /// The RFC 3161 timestamp countersignature, decoded (not verified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<TimestampView>,
}

/// A timestamp token's claims, or why it does not parse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimestampView {
    /// The token's size in bytes.
    pub size: u64,
    /// genTime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gen_time: Option<String>,
    /// Accuracy in seconds (rounded up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy_seconds: Option<i64>,
    /// Subjects of the certificates the token carries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificates: Vec<String>,
    /// Why the token does not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The payload's target artifact.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PayloadView {
    /// The signed media type.
    pub media_type: String,
    /// The signed digest.
    pub digest: String,
    /// The signed size.
    pub size: u64,
    /// The signed annotations (user metadata).
    pub annotations: BTreeMap<String, String>,
}

/// One certificate of the chain, or why it does not parse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CertificateView {
    /// Subject, RFC 4514.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Issuer, RFC 4514.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Serial number, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// SHA-256 fingerprint of the DER, hex (the `io.cncf.notary.x509chain.thumbprint#S256` value).
    pub sha256: String,
    /// Start of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// End of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// basicConstraints cA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca: Option<bool>,
    /// Signed by its own key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_signed: Option<bool>,
    /// Why the certificate does not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl InspectResponse {
    /// The response as JSON bytes.
    pub fn to_json(&self) -> Vec<u8> {
        super::to_json(self)
    }
}

/// Decodes an envelope for display. `format` is `jws` or `cose`; without it, an envelope whose first non-blank byte
/// is `{` is read as JWS and anything else as COSE. Never panics.
pub fn inspect_json(envelope: &[u8], format: Option<&str>) -> Vec<u8> {
    let response = match inspect(envelope, format) {
        Ok(view) => InspectResponse { version: WIRE_VERSION, envelope: Some(view), error: None },
        Err(error) => InspectResponse {
            version: WIRE_VERSION,
            envelope: None,
            error: Some(ErrorView { kind: String::from(error.kind()), message: error.to_string() }),
        },
    };
    response.to_json()
}

fn inspect(bytes: &[u8], format: Option<&str>) -> Result<EnvelopeView, WireError> {
    let format = match format {
        Some(name) => envelope_format(name)
            .ok_or_else(|| WireError::Invalid(format!("format {:?} is neither jws nor cose", excerpt(name))))?,
        None => match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => EnvelopeFormat::Jws,
            _ => EnvelopeFormat::Cose,
        },
    };
    let envelope = ParsedEnvelope::parse(format, bytes).map_err(WireError::Envelope)?;
    let signed = envelope.signed();
    let time = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
    let (payload, payload_error) = match envelope.payload() {
        Ok(p) => {
            let target = p.target_artifact;
            let view = PayloadView {
                media_type: target.media_type,
                digest: target.digest,
                size: target.size,
                annotations: target.annotations,
            };
            (Some(view), None)
        }
        Err(e) => (None, Some(e.to_string())),
    };
    Ok(EnvelopeView {
        format: String::from(format.name()),
        media_type: String::from(format.media_type()),
        algorithm: String::from(envelope.algorithm.jws_name()),
        signed_attributes: SignedAttributesView {
            signing_scheme: String::from(signed.signing_scheme.as_str()),
            signing_time: time(signed.signing_time),
            authentic_signing_time: time(signed.authentic_signing_time),
            expiry: time(signed.expiry),
            verification_plugin: signed.verification_plugin.clone(),
            verification_plugin_min_version: signed.verification_plugin_min_version.clone(),
            content_type: signed.content_type.clone(),
            extended: signed
                .extended
                .iter()
                .map(|a| ExtendedAttributeView { key: a.key.clone(), value: a.value.clone(), critical: a.critical })
                .collect(),
        },
        unsigned_attributes: UnsignedAttributesView {
            signing_agent: envelope.unsigned().signing_agent.clone(),
            timestamp: envelope.unsigned().timestamp_signature.as_deref().map(timestamp_view),
        },
        payload,
        payload_error,
        certificate_chain: envelope.certificate_chain().iter().map(|der| certificate_view(der)).collect(),
    })
}

fn timestamp_view(der: &[u8]) -> TimestampView {
    let size = u64::try_from(der.len()).unwrap_or(u64::MAX);
    match TimestampToken::parse(der) {
        Ok(token) => TimestampView {
            size,
            gen_time: Some(token.gen_time().to_rfc3339()),
            accuracy_seconds: Some(token.accuracy()),
            certificates: token.certificates().iter().map(Certificate::subject_string).collect(),
            error: None,
        },
        Err(e) => TimestampView {
            size,
            gen_time: None,
            accuracy_seconds: None,
            certificates: Vec::new(),
            error: Some(e.to_string()),
        },
    }
}

fn certificate_view(der: &[u8]) -> CertificateView {
    let sha256 = crate::verify::hex_string(&crate::crypto::HashAlgorithm::Sha256.digest(der));
    match Certificate::from_der(der) {
        Ok(c) => CertificateView {
            subject: Some(c.subject_string()),
            issuer: Some(c.issuer_string()),
            serial_number: Some(c.serial_hex()),
            sha256,
            not_before: Some(c.not_before().to_rfc3339()),
            not_after: Some(c.not_after().to_rfc3339()),
            ca: Some(c.is_ca()),
            self_signed: Some(c.is_self_signed()),
            error: None,
        },
        Err(e) => CertificateView {
            subject: None,
            issuer: None,
            serial_number: None,
            sha256,
            not_before: None,
            not_after: None,
            ca: None,
            self_signed: None,
            error: Some(e.to_string()),
        },
    }
}
