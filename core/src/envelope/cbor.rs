//! CBOR as the COSE envelope needs it: bounded decoding of exactly one item, and length-first canonical encoding
//! (RFC 7049 §3.9, what notation-core-go's encoder produces).

use super::EnvelopeError;
use alloc::vec::Vec;
use ciborium::value::Value;

/// Most data items (of any kind) accepted in one decoded CBOR document; real COSE envelopes hold a few dozen.
const MAX_ITEMS: usize = 4096;
/// Deepest nesting accepted (arrays, maps and tags each add a level).
const MAX_DEPTH: usize = 16;

/// Decodes `bytes` as exactly one CBOR item, refusing trailing bytes, excessive nesting and more than
/// [`MAX_ITEMS`] items. The item count is checked by a cheap walk before any value is built, because one input
/// byte can become a 40-byte value.
pub(crate) fn decode(bytes: &[u8], what: &'static str) -> Result<Value, EnvelopeError> {
    check_shape(bytes, what)?;
    ciborium::de::from_reader_with_recursion_limit::<Value, _>(bytes, MAX_DEPTH * 2)
        .map_err(|e| EnvelopeError::Malformed { what: alloc::format!("{what}: {e:?}") })
}

/// Encodes a value with definite lengths and minimal integer sizes (ciborium's encoder). Map entries are
/// written in the order given; build maps with [`canonical_map`].
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>, EnvelopeError> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out)
        .map_err(|e| EnvelopeError::Encoding { what: alloc::format!("CBOR: {e:?}") })?;
    Ok(out)
}

/// Builds a map whose keys are sorted length-first, then bytewise, by their encoding.
pub(crate) fn canonical_map(entries: Vec<(Value, Value)>) -> Result<Value, EnvelopeError> {
    let mut keyed =
        entries.into_iter().map(|(k, v)| Ok((encode(&k)?, (k, v)))).collect::<Result<Vec<_>, EnvelopeError>>()?;
    keyed.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    Ok(Value::Map(keyed.into_iter().map(|(_, entry)| entry).collect()))
}

/// Walks the CBOR item structure without building values.
fn check_shape(bytes: &[u8], what: &'static str) -> Result<(), EnvelopeError> {
    let malformed = |why: &str| EnvelopeError::Malformed { what: alloc::format!("{what}: {why}") };
    // Each frame counts the items still expected in an open array/map/tag; `None` = indefinite length.
    let mut frames: Vec<Option<u64>> = Vec::from([Some(1)]);
    let mut pos = 0usize;
    let mut items = 0usize;
    while let Some(top) = frames.last_mut() {
        if *top == Some(0) {
            frames.pop();
            continue;
        }
        let initial = *bytes.get(pos).ok_or_else(|| malformed("truncated"))?;
        pos += 1;
        if initial == 0xff {
            if top.is_some() {
                return Err(malformed("unexpected break"));
            }
            frames.pop();
            continue;
        }
        if let Some(remaining) = top {
            *remaining -= 1;
        }
        items += 1;
        if items > MAX_ITEMS {
            return Err(EnvelopeError::TooComplex { what });
        }
        let major = initial >> 5;
        let info = initial & 0x1f;
        let argument = match info {
            0..=23 => Some(u64::from(info)),
            24..=27 => {
                let len = 1usize << (info - 24);
                let end = pos.checked_add(len).ok_or_else(|| malformed("truncated"))?;
                let raw = bytes.get(pos..end).ok_or_else(|| malformed("truncated"))?;
                pos = end;
                Some(raw.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
            }
            31 if matches!(major, 2..=5) => None,
            _ => return Err(malformed("reserved additional information")),
        };
        let child = match (major, argument) {
            (0 | 1 | 7, _) => None,
            (2 | 3, Some(len)) => {
                let len = usize::try_from(len).map_err(|_| malformed("string too long"))?;
                pos = pos.checked_add(len).filter(|end| *end <= bytes.len()).ok_or_else(|| malformed("truncated"))?;
                None
            }
            (2 | 3, None) => Some(None),
            (4, n) => Some(n),
            (5, n) => Some(match n {
                Some(n) => Some(n.checked_mul(2).ok_or_else(|| malformed("map too long"))?),
                None => None,
            }),
            (6, _) => Some(Some(1)),
            _ => return Err(malformed("invalid major type")),
        };
        if let Some(frame) = child {
            if frames.len() > MAX_DEPTH {
                return Err(EnvelopeError::TooComplex { what });
            }
            frames.push(frame);
        }
    }
    if pos != bytes.len() {
        return Err(malformed("trailing bytes after the CBOR item"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_exactly_one_item() {
        assert_eq!(decode(&[0x82, 0x01, 0x02], "t").unwrap(), Value::Array(Vec::from([1.into(), 2.into()])));
        assert_eq!(decode(&[0x9f, 0x01, 0xff], "t").unwrap(), Value::Array(Vec::from([1.into()])));
        for bad in [&[0x82, 0x01][..], &[0x01, 0x02], &[0x5a, 0xff, 0xff, 0xff, 0xff], &[0xff], &[0x1c], &[]] {
            assert!(matches!(decode(bad, "t"), Err(EnvelopeError::Malformed { .. })), "{bad:02x?}");
        }
    }

    #[test]
    fn bounds_items_and_depth() {
        let mut wide = Vec::from([0x9f]);
        wide.extend(core::iter::repeat_n(0xf6, MAX_ITEMS + 1));
        wide.push(0xff);
        assert!(matches!(decode(&wide, "t"), Err(EnvelopeError::TooComplex { .. })));
        let deep = [0x81u8; 40];
        assert!(matches!(decode(&deep, "t"), Err(EnvelopeError::TooComplex { .. })));
        // A huge declared array length is refused by the walk, not allocated.
        assert!(decode(&[0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], "t").is_err());
    }

    #[test]
    fn sorts_length_first() {
        let map = canonical_map(Vec::from([
            (Value::Text("bb".into()), Value::Null),
            (Value::Text("a".into()), Value::Null),
            (Value::Integer(33.into()), Value::Null),
            (Value::Integer(1.into()), Value::Null),
        ]))
        .unwrap();
        assert_eq!(
            encode(&map).unwrap(),
            [0xa4, 0x01, 0xf6, 0x18, 0x21, 0xf6, 0x61, b'a', 0xf6, 0x62, b'b', b'b', 0xf6]
        );
    }
}
