//! JSON as the JWS envelope needs it: strict, bounded reading, and writing byte-identical to Go's `json.Marshal`
//! (notation's encoder), so that what nv2 signs looks exactly like what notation signs.

use super::EnvelopeError;
use crate::json::{self, JsonError};
use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

/// Parses a JSON object strictly with `max_depth` nesting and at most `max_separators` `,`/`:`/`[`/`{` bytes.
///
/// Depth and size alone do not bound memory: a flat array of 16 million zeros fits in 32 MiB and expands ~30-fold
/// as values. Counting separators first bounds the number of values cheaply. Real envelopes contain a few dozen.
pub(crate) fn parse_object(
    bytes: &[u8],
    max_depth: usize,
    max_separators: usize,
    what: &'static str,
) -> Result<Map<String, Value>, EnvelopeError> {
    let separators = bytes.iter().filter(|b| matches!(b, b',' | b':' | b'[' | b'{')).count();
    if separators > max_separators {
        return Err(EnvelopeError::TooComplex { what });
    }
    json::parse_strict_object(bytes, crate::limits::MAX_ENVELOPE_BYTES, max_depth).map_err(|e| match e {
        JsonError::TooLarge { size, limit } => EnvelopeError::TooLarge { size, limit },
        JsonError::DuplicateKey(message) => EnvelopeError::DuplicateKey { what: alloc::format!("{what}: {message}") },
        JsonError::Syntax(message) => EnvelopeError::Malformed { what: alloc::format!("{what}: {message}") },
    })
}

/// Serialises `value` as Go's `json.Marshal` of a map does: compact, object keys sorted bytewise, and `<`, `>`,
/// `&`, U+2028, U+2029 escaped as `\u003c`-style sequences.
pub(crate) fn to_go_json(value: &Value) -> Vec<u8> {
    // serde_json's Map (without `preserve_order`) is a BTreeMap, so keys come out sorted bytewise like Go's.
    let text = serde_json::to_string(value).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        // These characters cannot appear outside strings in compact JSON, so replacing them is always an escape.
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_like_go() {
        let value: Value = serde_json::from_str(r#"{"b":"<a&b>","a":[1,{"z":true,"y":null}],"c":"\u2028\n"}"#).unwrap();
        assert_eq!(
            String::from_utf8(to_go_json(&value)).unwrap(),
            r#"{"a":[1,{"y":null,"z":true}],"b":"\u003ca\u0026b\u003e","c":"\u2028\n"}"#
        );
    }

    #[test]
    fn reads_strictly() {
        assert!(matches!(parse_object(br#"{"a":1,"a":2}"#, 4, 10, "t"), Err(EnvelopeError::DuplicateKey { .. })));
        assert!(matches!(parse_object(b"[1,2,3]", 4, 1, "t"), Err(EnvelopeError::TooComplex { .. })));
        assert!(matches!(parse_object(b"[]", 4, 10, "t"), Err(EnvelopeError::Malformed { .. })));
        assert!(matches!(parse_object(b"{\"a\":[[[[1]]]]}", 3, 10, "t"), Err(EnvelopeError::Malformed { .. })));
        assert_eq!(parse_object(br#"{"a":1}"#, 4, 10, "t").unwrap().len(), 1);
    }
}
