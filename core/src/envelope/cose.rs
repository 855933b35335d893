//! The COSE envelope (`application/cose`): a `COSE_Sign1_Tagged` message (CBOR tag 18) with an attached payload.
//!
//! The signature covers `Sig_structure = ["Signature1", protected, h'', payload]` built from the protected header
//! bytes exactly as received. When signing, every map is written in length-first canonical key order, as
//! notation-core-go does.

use super::attributes::{
    DecodedHeader, SignedAttributes, UnsignedAttributes, AUTHENTIC_SIGNING_TIME, EXPIRY, MAX_CRITICAL, SIGNING_AGENT,
    SIGNING_SCHEME, SIGNING_TIME, TIMESTAMP_SIGNATURE, VERIFICATION_PLUGIN, VERIFICATION_PLUGIN_MIN_VERSION,
};
use super::cbor;
use super::{check_chain_bounds, EnvelopeError, EnvelopeParts};
use crate::crypto::SignatureAlgorithm;
use crate::time::Timestamp;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use base64ct::{Base64, Encoding};
use ciborium::value::{Integer, Value};

/// CBOR tag of `COSE_Sign1_Tagged`.
const TAG_SIGN1: u64 = 18;
/// CBOR tag of an epoch-based date/time.
const TAG_EPOCH_TIME: u64 = 1;
/// COSE header label `alg`.
const LABEL_ALG: i128 = 1;
/// COSE header label `crit`.
const LABEL_CRIT: i128 = 2;
/// COSE header label `content type`.
const LABEL_CONTENT_TYPE: i128 = 3;
/// COSE header label `x5chain` (RFC 9360).
const LABEL_X5CHAIN: i128 = 33;

/// A header label: COSE allows integers and text.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Label {
    Int(i128),
    Text(String),
}

impl Label {
    fn from_value(value: &Value) -> Result<Self, EnvelopeError> {
        match value {
            Value::Integer(i) => Ok(Label::Int(i128::from(*i))),
            Value::Text(t) => Ok(Label::Text(t.clone())),
            _ => Err(EnvelopeError::Malformed { what: "COSE header label is neither integer nor text".into() }),
        }
    }

    /// The name used in `crit` checks and extended attributes (integer labels in decimal).
    fn name(&self) -> String {
        match self {
            Label::Int(i) => i.to_string(),
            Label::Text(t) => t.clone(),
        }
    }
}

/// Parses a COSE envelope into its format-independent parts.
pub(crate) fn parse(bytes: &[u8]) -> Result<EnvelopeParts, EnvelopeError> {
    let malformed = |what: &str| EnvelopeError::Malformed { what: String::from(what) };
    let Value::Tag(TAG_SIGN1, inner) = cbor::decode(bytes, "COSE envelope")? else {
        return Err(EnvelopeError::MissingCoseTag);
    };
    let Value::Array(items) = *inner else {
        return Err(malformed("COSE_Sign1 is not an array"));
    };
    let [protected, unprotected, payload, signature] =
        <[Value; 4]>::try_from(items).map_err(|_| malformed("COSE_Sign1 does not have 4 elements"))?;
    let Value::Bytes(protected_raw) = protected else {
        return Err(malformed("COSE protected header is not a byte string"));
    };
    let Value::Map(unprotected) = unprotected else {
        return Err(malformed("COSE unprotected header is not a map"));
    };
    let payload = match payload {
        Value::Bytes(payload) => payload,
        Value::Null => return Err(malformed("COSE payload is detached; Notary requires it attached")),
        _ => return Err(malformed("COSE payload is not a byte string")),
    };
    let Value::Bytes(signature) = signature else {
        return Err(malformed("COSE signature is not a byte string"));
    };
    if signature.is_empty() {
        return Err(malformed("empty signature"));
    }

    let protected_map = if protected_raw.is_empty() {
        Vec::new()
    } else {
        match cbor::decode(&protected_raw, "COSE protected header")? {
            Value::Map(map) => map,
            _ => return Err(malformed("COSE protected header is not a map")),
        }
    };
    let protected_map = labelled(protected_map, "protected")?;
    let unprotected = labelled(unprotected, "unprotected")?;
    if let Some((label, _)) = unprotected.iter().find(|(l, _)| protected_map.iter().any(|(p, _)| p == l)) {
        return Err(EnvelopeError::DuplicateKey {
            what: alloc::format!("COSE label {} in both protected and unprotected headers", label.name()),
        });
    }

    let (algorithm, decoded) = decode_protected(protected_map)?;
    let signed = SignedAttributes::from_decoded(decoded)?;
    let (chain, unsigned) = decode_unprotected(unprotected)?;
    let signing_input = sig_structure(&protected_raw, &payload)?;
    Ok(EnvelopeParts {
        algorithm,
        protected: protected_raw,
        payload,
        signed,
        unsigned,
        chain,
        signature,
        signing_input,
    })
}

/// Decodes the CBOR bytes of a protected header map on their own (encoding conformance checks).
pub(crate) fn decode_protected_bytes(bytes: &[u8]) -> Result<(SignatureAlgorithm, DecodedHeader), EnvelopeError> {
    match cbor::decode(bytes, "COSE protected header")? {
        Value::Map(map) => decode_protected(labelled(map, "protected")?),
        _ => Err(EnvelopeError::Malformed { what: String::from("COSE protected header is not a map") }),
    }
}

/// Converts map keys to labels, refusing duplicates.
fn labelled(map: Vec<(Value, Value)>, what: &str) -> Result<Vec<(Label, Value)>, EnvelopeError> {
    let mut out: Vec<(Label, Value)> = Vec::with_capacity(map.len());
    for (key, value) in map {
        let label = Label::from_value(&key)?;
        if out.iter().any(|(l, _)| *l == label) {
            return Err(EnvelopeError::DuplicateKey {
                what: alloc::format!("COSE {what} header label {}", label.name()),
            });
        }
        out.push((label, value));
    }
    Ok(out)
}

fn decode_protected(map: Vec<(Label, Value)>) -> Result<(SignatureAlgorithm, DecodedHeader), EnvelopeError> {
    let mut decoded = DecodedHeader::default();
    let mut algorithm = None;
    for (label, value) in map {
        match &label {
            Label::Int(LABEL_ALG) => {
                algorithm = Some(match &value {
                    Value::Integer(id) => i64::try_from(*id)
                        .ok()
                        .and_then(SignatureAlgorithm::from_cose_id)
                        .ok_or_else(|| EnvelopeError::UnsupportedAlgorithm { alg: i128::from(*id).to_string() })?,
                    Value::Text(name) => return Err(EnvelopeError::UnsupportedAlgorithm { alg: name.clone() }),
                    _ => return Err(EnvelopeError::Malformed { what: "COSE alg is not an integer".into() }),
                });
            }
            Label::Int(LABEL_CRIT) => {
                let Value::Array(items) = value else {
                    return Err(EnvelopeError::Malformed { what: "COSE crit is not an array".into() });
                };
                if items.len() > MAX_CRITICAL {
                    return Err(EnvelopeError::TooComplex { what: "crit" });
                }
                decoded.crit =
                    Some(items.iter().map(|item| Label::from_value(item).map(|l| l.name())).collect::<Result<_, _>>()?);
            }
            Label::Int(LABEL_CONTENT_TYPE) => decoded.content_type = Some(text(&label, value)?),
            Label::Text(name) => match name.as_str() {
                SIGNING_SCHEME => decoded.signing_scheme = Some(text(&label, value)?),
                SIGNING_TIME => decoded.signing_time = Some(time(&label, value)?),
                AUTHENTIC_SIGNING_TIME => decoded.authentic_signing_time = Some(time(&label, value)?),
                EXPIRY => decoded.expiry = Some(time(&label, value)?),
                VERIFICATION_PLUGIN => decoded.verification_plugin = Some(text(&label, value)?),
                VERIFICATION_PLUGIN_MIN_VERSION => decoded.verification_plugin_min_version = Some(text(&label, value)?),
                _ => decoded.extended.push((label.name(), to_json(value)?)),
            },
            Label::Int(_) => decoded.extended.push((label.name(), to_json(value)?)),
        }
    }
    let algorithm = algorithm.ok_or(EnvelopeError::MissingAttribute { name: "alg" })?;
    Ok((algorithm, decoded))
}

fn text(label: &Label, value: Value) -> Result<String, EnvelopeError> {
    match value {
        Value::Text(t) => Ok(t),
        _ => Err(EnvelopeError::Malformed { what: alloc::format!("COSE header {} is not text", label.name()) }),
    }
}

/// Reads a time: CBOR tag 1 around integer epoch seconds; the tag is required.
fn time(label: &Label, value: Value) -> Result<Timestamp, EnvelopeError> {
    if let Value::Tag(TAG_EPOCH_TIME, inner) = &value {
        if let Value::Integer(seconds) = **inner {
            if let Ok(seconds) = i64::try_from(seconds) {
                return Ok(Timestamp::from_unix(seconds));
            }
        }
    }
    Err(EnvelopeError::Malformed {
        what: alloc::format!("COSE header {} is not a tag-1 integer epoch time", label.name()),
    })
}

/// Converts an extended attribute value to JSON the way Go's encoder renders the decoded value (byte strings as
/// standard base64, tags dropped); maps need text keys.
fn to_json(value: Value) -> Result<serde_json::Value, EnvelopeError> {
    use serde_json::Value as J;
    Ok(match value {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(b),
        Value::Integer(i) => {
            let i = i128::from(i);
            if let Ok(small) = i64::try_from(i) {
                J::from(small)
            } else {
                J::from(u64::try_from(i).map_err(|_| EnvelopeError::Malformed { what: "integer out of range".into() })?)
            }
        }
        Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        Value::Text(t) => J::String(t),
        Value::Bytes(b) => J::String(Base64::encode_string(&b)),
        Value::Tag(_, inner) => to_json(*inner)?,
        Value::Array(items) => J::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Map(entries) => J::Object(
            entries
                .into_iter()
                .map(|(k, v)| match k {
                    Value::Text(k) => Ok((k, to_json(v)?)),
                    _ => Err(EnvelopeError::Malformed { what: "extended attribute map key is not text".into() }),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => return Err(EnvelopeError::Malformed { what: "unsupported CBOR value in an extended attribute".into() }),
    })
}

/// Converts a JSON extended attribute value to CBOR for signing (objects become canonical maps).
fn from_json(value: &serde_json::Value) -> Result<Value, EnvelopeError> {
    use serde_json::Value as J;
    Ok(match value {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Integer(i.into()),
            (_, Some(u), _) => Value::Integer(u.into()),
            (_, _, Some(f)) => Value::Float(f),
            _ => return Err(EnvelopeError::Encoding { what: "number".into() }),
        },
        J::String(s) => Value::Text(s.clone()),
        J::Array(items) => Value::Array(items.iter().map(from_json).collect::<Result<_, _>>()?),
        J::Object(map) => cbor::canonical_map(
            map.iter()
                .map(|(k, v)| Ok((Value::Text(k.clone()), from_json(v)?)))
                .collect::<Result<_, EnvelopeError>>()?,
        )?,
    })
}

/// Reads the unprotected header: `x5chain` (an array of certificates, or one bare certificate), signing agent and
/// timestamp token. Other labels carry no meaning and are ignored.
fn decode_unprotected(map: Vec<(Label, Value)>) -> Result<(Vec<Vec<u8>>, UnsignedAttributes), EnvelopeError> {
    let mut chain = Vec::new();
    let mut unsigned = UnsignedAttributes::default();
    for (label, value) in map {
        match &label {
            Label::Int(LABEL_X5CHAIN) => {
                let certificates = match value {
                    Value::Bytes(der) => Vec::from([Value::Bytes(der)]),
                    Value::Array(items) => items,
                    _ => return Err(EnvelopeError::Malformed { what: "x5chain is not a byte string or array".into() }),
                };
                check_chain_bounds(certificates.len(), None)?;
                for (index, certificate) in certificates.into_iter().enumerate() {
                    let Value::Bytes(der) = certificate else {
                        return Err(EnvelopeError::Malformed { what: "x5chain entry is not a byte string".into() });
                    };
                    check_chain_bounds(index + 1, Some(der.len()))?;
                    chain.push(der);
                }
            }
            Label::Text(name) if name == SIGNING_AGENT => unsigned.signing_agent = Some(text(&label, value)?),
            Label::Text(name) if name == TIMESTAMP_SIGNATURE => match value {
                Value::Bytes(token) => unsigned.timestamp_signature = Some(token),
                _ => return Err(EnvelopeError::Malformed { what: "timestampSignature is not a byte string".into() }),
            },
            _ => {}
        }
    }
    if chain.is_empty() {
        return Err(EnvelopeError::MissingCertificateChain);
    }
    Ok((chain, unsigned))
}

/// `Sig_structure = ["Signature1", protected, h'', payload]`, encoded.
pub(crate) fn sig_structure(protected: &[u8], payload: &[u8]) -> Result<Vec<u8>, EnvelopeError> {
    cbor::encode(&Value::Array(Vec::from([
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ])))
}

/// Encodes the protected header map (canonical key order, times as tag 1 integers).
pub(crate) fn encode_protected(
    algorithm: SignatureAlgorithm,
    attributes: &SignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    attributes.check_rules()?;
    let label = |name: &str| Value::Text(name.into());
    let epoch = |t: Timestamp| Value::Tag(TAG_EPOCH_TIME, Box::new(Value::Integer(t.unix().into())));
    let crit = attributes.cose_critical_names().into_iter().map(Value::Text).collect();
    let mut entries = Vec::from([
        (Value::Integer(Integer::from(LABEL_ALG as i64)), Value::Integer(algorithm.cose_id().into())),
        (Value::Integer(Integer::from(LABEL_CRIT as i64)), Value::Array(crit)),
        (Value::Integer(Integer::from(LABEL_CONTENT_TYPE as i64)), Value::Text(attributes.content_type.clone())),
        (label(SIGNING_SCHEME), Value::Text(attributes.signing_scheme.as_str().into())),
    ]);
    if let Some(t) = attributes.signing_time {
        entries.push((label(SIGNING_TIME), epoch(t)));
    }
    if let Some(t) = attributes.authentic_signing_time {
        entries.push((label(AUTHENTIC_SIGNING_TIME), epoch(t)));
    }
    if let Some(t) = attributes.expiry {
        entries.push((label(EXPIRY), epoch(t)));
    }
    if let Some(p) = &attributes.verification_plugin {
        entries.push((label(VERIFICATION_PLUGIN), Value::Text(p.clone())));
    }
    if let Some(v) = &attributes.verification_plugin_min_version {
        entries.push((label(VERIFICATION_PLUGIN_MIN_VERSION), Value::Text(v.clone())));
    }
    for attribute in &attributes.extended {
        entries.push((label(&attribute.key), from_json(&attribute.value)?));
    }
    cbor::encode(&cbor::canonical_map(entries)?)
}

/// Encodes the whole tagged message from its parts.
pub(crate) fn write_envelope(
    protected: &[u8],
    payload: &[u8],
    signature: &[u8],
    chain: &[Vec<u8>],
    unsigned: &UnsignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut entries = Vec::new();
    if !chain.is_empty() {
        let certificates = chain.iter().map(|der| Value::Bytes(der.clone())).collect();
        entries.push((Value::Integer(Integer::from(LABEL_X5CHAIN as i64)), Value::Array(certificates)));
    }
    if let Some(agent) = unsigned.signing_agent.as_deref().filter(|a| !a.is_empty()) {
        entries.push((Value::Text(SIGNING_AGENT.into()), Value::Text(agent.into())));
    }
    if let Some(token) = &unsigned.timestamp_signature {
        entries.push((Value::Text(TIMESTAMP_SIGNATURE.into()), Value::Bytes(token.clone())));
    }
    let message = Value::Array(Vec::from([
        Value::Bytes(protected.to_vec()),
        cbor::canonical_map(entries)?,
        Value::Bytes(payload.to_vec()),
        Value::Bytes(signature.to_vec()),
    ]));
    cbor::encode(&Value::Tag(TAG_SIGN1, Box::new(message)))
}
