//! Strict JSON reading for security-relevant documents.
//!
//! serde_json silently keeps the last of duplicate keys; two parsers that disagree on which duplicate wins are a
//! classic signature-confusion attack, so every document the core trusts is read through [`parse_strict`], which
//! refuses duplicate keys, bounds nesting depth and size, and refuses trailing data.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a JSON document was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    /// The document is larger than the caller's bound.
    #[error("document of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// An object names the same key twice (the text says which and where).
    #[error("duplicate key in JSON: {0}")]
    DuplicateKey(String),
    /// Not JSON, or JSON nested too deeply; the text says where.
    #[error("invalid JSON: {0}")]
    Syntax(String),
}

/// Parses `bytes` as one JSON value, refusing duplicate object keys, nesting deeper than `max_depth`, documents
/// larger than `max_bytes`, and trailing non-whitespace.
pub fn parse_strict(bytes: &[u8], max_bytes: usize, max_depth: usize) -> Result<Value, JsonError> {
    if bytes.len() > max_bytes {
        return Err(JsonError::TooLarge { size: bytes.len(), limit: max_bytes });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictSeed { depth_left: max_depth }.deserialize(&mut de).map_err(|e| {
        let message = e.to_string();
        match message.starts_with(DUPLICATE_KEY) {
            true => JsonError::DuplicateKey(message),
            false => JsonError::Syntax(message),
        }
    })?;
    de.end().map_err(|e| JsonError::Syntax(e.to_string()))?;
    Ok(value)
}

/// Parses a strict JSON document that must be an object, returning its members.
pub fn parse_strict_object(bytes: &[u8], max_bytes: usize, max_depth: usize) -> Result<Map<String, Value>, JsonError> {
    match parse_strict(bytes, max_bytes, max_depth)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonError::Syntax("expected a JSON object".into())),
    }
}

/// Prefix of the visitor's error for a repeated key; serde's error type carries only text, so this marker is how
/// [`parse_strict`] recognises the case and returns [`JsonError::DuplicateKey`].
const DUPLICATE_KEY: &str = "duplicate key ";

struct StrictSeed {
    depth_left: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor { depth_left: self.depth_left })
    }
}

struct StrictVisitor {
    depth_left: usize,
}

impl StrictVisitor {
    fn nested<E: de::Error>(&self) -> Result<StrictSeed, E> {
        if self.depth_left == 0 {
            return Err(E::custom("JSON nesting too deep"));
        }
        Ok(StrictSeed { depth_left: self.depth_left - 1 })
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(String::from(v)))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.nested()?)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut members = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(self.nested()?)?;
            if members.contains_key(&key) {
                return Err(de::Error::custom(alloc::format!("{DUPLICATE_KEY}{key:?}")));
            }
            members.insert(key, value);
        }
        Ok(Value::Object(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_documents() {
        let v = parse_strict(br#"{"a":[1,2,{"b":null}],"c":"d"} "#, 1024, 8).unwrap();
        assert_eq!(v["c"], "d");
    }

    #[test]
    fn refuses_duplicates_depth_size_and_trailing_data() {
        assert!(
            matches!(parse_strict(br#"{"a":1,"a":2}"#, 1024, 8), Err(JsonError::DuplicateKey(m)) if m.contains("\"a\""))
        );
        assert!(parse_strict(br#"{"x":{"a":1,"a":1}}"#, 1024, 8).is_err());
        let deep = "[".repeat(100) + &"]".repeat(100);
        assert!(parse_strict(deep.as_bytes(), 1024, 64).is_err());
        assert!(matches!(parse_strict(b"{}", 1, 8), Err(JsonError::TooLarge { .. })));
        assert!(parse_strict(b"{} {}", 1024, 8).is_err());
        assert!(parse_strict_object(b"[]", 1024, 8).is_err());
    }
}
