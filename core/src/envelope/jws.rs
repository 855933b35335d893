//! The JWS envelope (`application/jose+json`): flattened JWS JSON serialisation with exactly the members
//! `payload`, `protected`, `header`, `signature`.
//!
//! The signing input is the received `protected` text, a dot and the received `payload` text; nothing is ever
//! re-serialised, so a verifier and a signer cannot disagree about what was signed.

use super::attributes::{
    DecodedHeader, SignedAttributes, UnsignedAttributes, AUTHENTIC_SIGNING_TIME, EXPIRY, MAX_CRITICAL, SIGNING_AGENT,
    SIGNING_SCHEME, SIGNING_TIME, TIMESTAMP_SIGNATURE, VERIFICATION_PLUGIN, VERIFICATION_PLUGIN_MIN_VERSION,
};
use super::json_text::{parse_object, to_go_json};
use super::{check_chain_bounds, EnvelopeError, EnvelopeParts};
use crate::crypto::SignatureAlgorithm;
use crate::time::Timestamp;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use serde_json::{Map, Value};

/// The four members of a flattened JWS, in the order notation writes them.
const MEMBERS: [&str; 4] = ["payload", "protected", "header", "signature"];
/// Nesting needed by the envelope object: object > header > x5c array.
const MAX_ENVELOPE_DEPTH: usize = 4;
/// Separators allowed in the outer JSON (a few per certificate and header member).
const MAX_ENVELOPE_SEPARATORS: usize = 1024;
/// Nesting allowed in the protected header (extended attribute values may be structured).
const MAX_PROTECTED_DEPTH: usize = 16;
/// Separators allowed in the protected header.
const MAX_PROTECTED_SEPARATORS: usize = 4096;

/// Parses a JWS envelope into its format-independent parts.
pub(crate) fn parse(bytes: &[u8]) -> Result<EnvelopeParts, EnvelopeError> {
    let envelope = parse_object(bytes, MAX_ENVELOPE_DEPTH, MAX_ENVELOPE_SEPARATORS, "JWS envelope")?;
    if let Some(unexpected) = envelope.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(EnvelopeError::UnexpectedMember { name: unexpected.clone() });
    }
    let text_member = |name: &'static str| match envelope.get(name) {
        Some(Value::String(s)) => Ok(s.as_str()),
        Some(_) => Err(EnvelopeError::Malformed { what: alloc::format!("JWS member {name} is not a string") }),
        None => Err(EnvelopeError::MissingMember { name }),
    };
    let protected_text = text_member("protected")?;
    let payload_text = text_member("payload")?;
    let signature_text = text_member("signature")?;
    let header = match envelope.get("header") {
        Some(Value::Object(header)) => header,
        Some(_) => return Err(EnvelopeError::Malformed { what: "JWS member header is not an object".into() }),
        None => return Err(EnvelopeError::MissingMember { name: "header" }),
    };

    let protected_json = decode_url(protected_text, "protected")?;
    let payload = decode_url(payload_text, "payload")?;
    let signature = decode_url(signature_text, "signature")?;
    if signature.is_empty() {
        return Err(EnvelopeError::Malformed { what: "empty signature".into() });
    }

    let (algorithm, decoded) = decode_protected(&protected_json)?;
    let signed = SignedAttributes::from_decoded(decoded)?;
    let (chain, unsigned) = decode_unprotected(header)?;

    let mut signing_input = Vec::with_capacity(protected_text.len() + 1 + payload_text.len());
    signing_input.extend_from_slice(protected_text.as_bytes());
    signing_input.push(b'.');
    signing_input.extend_from_slice(payload_text.as_bytes());

    Ok(EnvelopeParts {
        algorithm,
        protected: protected_text.as_bytes().to_vec(),
        payload,
        signed,
        unsigned,
        chain,
        signature,
        signing_input,
    })
}

/// Decodes one base64url segment; padding, whitespace and the standard alphabet are refused.
fn decode_url(text: &str, what: &'static str) -> Result<Vec<u8>, EnvelopeError> {
    Base64UrlUnpadded::decode_vec(text).map_err(|_| EnvelopeError::BadBase64 { what })
}

/// Reads the protected header JSON into typed fields.
pub(crate) fn decode_protected(json: &[u8]) -> Result<(SignatureAlgorithm, DecodedHeader), EnvelopeError> {
    let header = parse_object(json, MAX_PROTECTED_DEPTH, MAX_PROTECTED_SEPARATORS, "JWS protected header")?;
    let mut decoded = DecodedHeader::default();
    let mut algorithm = None;
    for (name, value) in header {
        match name.as_str() {
            "alg" => {
                let alg = string(&name, value)?;
                algorithm =
                    Some(SignatureAlgorithm::from_jws_name(&alg).ok_or(EnvelopeError::UnsupportedAlgorithm { alg })?);
            }
            "cty" => decoded.content_type = Some(string(&name, value)?),
            "crit" => {
                let Value::Array(items) = value else {
                    return Err(EnvelopeError::Malformed { what: "crit is not an array".into() });
                };
                if items.len() > MAX_CRITICAL {
                    return Err(EnvelopeError::TooComplex { what: "crit" });
                }
                decoded.crit = Some(items.into_iter().map(|item| string("crit", item)).collect::<Result<_, _>>()?);
            }
            SIGNING_SCHEME => decoded.signing_scheme = Some(string(&name, value)?),
            SIGNING_TIME => decoded.signing_time = Some(time(&name, value)?),
            AUTHENTIC_SIGNING_TIME => decoded.authentic_signing_time = Some(time(&name, value)?),
            EXPIRY => decoded.expiry = Some(time(&name, value)?),
            VERIFICATION_PLUGIN => decoded.verification_plugin = Some(string(&name, value)?),
            VERIFICATION_PLUGIN_MIN_VERSION => decoded.verification_plugin_min_version = Some(string(&name, value)?),
            _ => decoded.extended.push((name, value)),
        }
    }
    let algorithm = algorithm.ok_or(EnvelopeError::MissingAttribute { name: "alg" })?;
    Ok((algorithm, decoded))
}

fn string(name: &str, value: Value) -> Result<String, EnvelopeError> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(EnvelopeError::Malformed { what: alloc::format!("header {name} is not a string") }),
    }
}

fn time(name: &str, value: Value) -> Result<Timestamp, EnvelopeError> {
    let text = string(name, value)?;
    Timestamp::parse_rfc3339(&text).map_err(|e| EnvelopeError::Malformed { what: alloc::format!("header {name}: {e}") })
}

/// Reads the unprotected `header`: `x5c`, signing agent, timestamp token. Other members are ignored (they are
/// unsigned and have no meaning; old notation mock envelopes carry a miscapitalised `io.cncf.notary.SigningAgent`).
fn decode_unprotected(header: &Map<String, Value>) -> Result<(Vec<Vec<u8>>, UnsignedAttributes), EnvelopeError> {
    let chain = match header.get("x5c") {
        Some(Value::Array(items)) => {
            check_chain_bounds(items.len(), None)?;
            items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let Value::String(text) = item else {
                        return Err(EnvelopeError::Malformed { what: "x5c entry is not a string".into() });
                    };
                    let der = Base64::decode_vec(text).map_err(|_| EnvelopeError::BadBase64 { what: "x5c" })?;
                    check_chain_bounds(index + 1, Some(der.len()))?;
                    Ok(der)
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Some(_) => return Err(EnvelopeError::Malformed { what: "x5c is not an array".into() }),
        None => Vec::new(),
    };
    if chain.is_empty() {
        return Err(EnvelopeError::MissingCertificateChain);
    }
    let signing_agent = match header.get(SIGNING_AGENT) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(EnvelopeError::Malformed { what: "signingAgent is not a string".into() }),
        None => None,
    };
    let timestamp_signature = match header.get(TIMESTAMP_SIGNATURE) {
        Some(Value::String(s)) => {
            Some(Base64::decode_vec(s).map_err(|_| EnvelopeError::BadBase64 { what: "timestampSignature" })?)
        }
        Some(_) => return Err(EnvelopeError::Malformed { what: "timestampSignature is not a string".into() }),
        None => None,
    };
    Ok((chain, UnsignedAttributes { signing_agent, timestamp_signature }))
}

/// Encodes the protected header JSON as notation does (a Go map: keys sorted, compact).
pub(crate) fn encode_protected(
    algorithm: SignatureAlgorithm,
    attributes: &SignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    attributes.check_rules()?;
    let mut header = Map::new();
    header.insert("alg".into(), Value::from(algorithm.jws_name()));
    header.insert("cty".into(), Value::from(attributes.content_type.as_str()));
    header.insert("crit".into(), Value::from(attributes.jws_critical_names()));
    header.insert(SIGNING_SCHEME.into(), Value::from(attributes.signing_scheme.as_str()));
    if let Some(t) = attributes.signing_time {
        header.insert(SIGNING_TIME.into(), Value::from(t.to_rfc3339()));
    }
    if let Some(t) = attributes.authentic_signing_time {
        header.insert(AUTHENTIC_SIGNING_TIME.into(), Value::from(t.to_rfc3339()));
    }
    if let Some(t) = attributes.expiry {
        header.insert(EXPIRY.into(), Value::from(t.to_rfc3339()));
    }
    if let Some(p) = &attributes.verification_plugin {
        header.insert(VERIFICATION_PLUGIN.into(), Value::from(p.as_str()));
    }
    if let Some(v) = &attributes.verification_plugin_min_version {
        header.insert(VERIFICATION_PLUGIN_MIN_VERSION.into(), Value::from(v.as_str()));
    }
    for attribute in &attributes.extended {
        header.insert(attribute.key.clone(), attribute.value.clone());
    }
    Ok(to_go_json(&Value::Object(header)))
}

/// The signing input for a protected header and payload, plus their base64url texts.
pub(crate) fn signing_input(protected_json: &[u8], payload: &[u8]) -> (String, String, Vec<u8>) {
    let protected = Base64UrlUnpadded::encode_string(protected_json);
    let payload = Base64UrlUnpadded::encode_string(payload);
    let input = alloc::format!("{protected}.{payload}").into_bytes();
    (protected, payload, input)
}

/// Writes the envelope JSON in notation's member order (payload, protected, header, signature) with the header
/// members in notation's order (timestampSignature, x5c, signingAgent).
pub(crate) fn write_envelope(
    protected_text: &str,
    payload_text: &str,
    signature: &[u8],
    chain: &[Vec<u8>],
    unsigned: &UnsignedAttributes,
) -> Vec<u8> {
    let quote = |s: &str| to_go_json(&Value::from(s));
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"payload\":");
    out.extend(quote(payload_text));
    out.extend_from_slice(b",\"protected\":");
    out.extend(quote(protected_text));
    out.extend_from_slice(b",\"header\":{");
    if let Some(token) = &unsigned.timestamp_signature {
        out.extend(quote(TIMESTAMP_SIGNATURE));
        out.push(b':');
        out.extend(quote(&Base64::encode_string(token)));
        out.push(b',');
    }
    let x5c = Value::from(chain.iter().map(|der| Base64::encode_string(der)).collect::<Vec<_>>());
    out.extend_from_slice(b"\"x5c\":");
    out.extend(to_go_json(&x5c));
    if let Some(agent) = unsigned.signing_agent.as_deref().filter(|a| !a.is_empty()) {
        out.push(b',');
        out.extend(quote(SIGNING_AGENT));
        out.push(b':');
        out.extend(quote(agent));
    }
    out.extend_from_slice(b"},\"signature\":");
    out.extend(quote(&Base64UrlUnpadded::encode_string(signature)));
    out.push(b'}');
    out
}

/// Re-emits a received envelope with new unsigned attributes, reusing the received protected and payload texts.
pub(crate) fn rewrite_unsigned(parts: &EnvelopeParts, unsigned: &UnsignedAttributes) -> Result<Vec<u8>, EnvelopeError> {
    let protected = core::str::from_utf8(&parts.protected)
        .map_err(|_| EnvelopeError::Malformed { what: "protected text is not UTF-8".into() })?;
    let payload = parts
        .signing_input
        .get(parts.protected.len() + 1..)
        .and_then(|p| core::str::from_utf8(p).ok())
        .ok_or_else(|| EnvelopeError::Malformed { what: "payload text".to_string() })?;
    Ok(write_envelope(protected, payload, &parts.signature, &parts.chain, unsigned))
}
