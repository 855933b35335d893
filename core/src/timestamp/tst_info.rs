//! The TSTInfo structure (RFC 3161 §2.4.2): what the TSA asserts — which hash of which message existed at genTime.
//!
//! It is decoded field by field with the `der` reader because genTime may carry fractional seconds, which the `der`
//! crate's GeneralizedTime refuses although RFC 3161 allows them.

use super::oid;
use super::TimestampError;
use crate::crypto::HashAlgorithm;
use crate::time::Timestamp;
use alloc::format;
use alloc::vec::Vec;
use der::asn1::{AnyRef, Int, ObjectIdentifier, OctetString};
use der::{Decode, DecodeValue, Header, Reader, SliceReader, Tag};
use spki::AlgorithmIdentifierOwned;

/// The TSA's statement, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TstInfo {
    /// TSA policy under which the token was issued.
    pub policy: ObjectIdentifier,
    /// Hash algorithm of the messageImprint (only SHA-2 is accepted).
    pub imprint_hash: HashAlgorithm,
    /// The hashed message the TSA timestamped.
    pub hashed_message: Vec<u8>,
    /// The TSA's serial number for this token (up to 160 bits, so kept as an ASN.1 integer).
    pub serial_number: Int,
    /// genTime, truncated to whole seconds.
    pub gen_time: Timestamp,
    /// The fractional part of genTime in nanoseconds (0 when absent), so the upper bound can be rounded up.
    pub gen_time_nanos: u32,
    /// The accuracy field when present.
    pub accuracy: Option<Accuracy>,
    /// The ordering flag (false when absent).
    pub ordering: bool,
    /// The requester's nonce, when present.
    pub nonce: Option<Int>,
    /// The TSA's name (DER of the GeneralName), when present. Kept undecoded: nothing depends on it, and not
    /// decoding it spares a hostile name's SET OF sorting.
    pub tsa: Option<Vec<u8>>,
}

/// TSTInfo accuracy: how far the true time may lie from genTime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    /// Whole seconds.
    pub seconds: u64,
    /// Milliseconds (0..=999).
    pub millis: u16,
    /// Microseconds (0..=999).
    pub micros: u16,
}

impl TstInfo {
    /// Decodes a DER TSTInfo (the eContent of the token), refusing trailing bytes, versions other than 1 and
    /// message imprints that are not SHA-2.
    pub fn from_der(bytes: &[u8]) -> Result<TstInfo, TimestampError> {
        let fields =
            decode_fields(bytes).map_err(|e| TimestampError::Malformed { what: "TSTInfo", reason: format!("{e}") })?;
        if fields.version != 1 {
            return Err(TimestampError::UnsupportedTstInfoVersion(fields.version));
        }
        let imprint_hash = oid::sha2_hash(fields.imprint_algorithm.oid)
            .filter(|_| fields.imprint_algorithm.parameters.as_ref().is_none_or(|p| p.is_null()))
            .ok_or_else(|| TimestampError::UnsupportedImprintHash(format!("{}", fields.imprint_algorithm.oid)))?;
        if fields.hashed_message.len() != imprint_hash.output_len() {
            return Err(TimestampError::Malformed {
                what: "TSTInfo",
                reason: format!(
                    "hashedMessage is {} bytes, {} expected",
                    fields.hashed_message.len(),
                    imprint_hash.output_len()
                ),
            });
        }
        Ok(TstInfo {
            policy: fields.policy,
            imprint_hash,
            hashed_message: fields.hashed_message,
            serial_number: fields.serial_number,
            gen_time: fields.gen_time,
            gen_time_nanos: fields.gen_time_nanos,
            accuracy: fields.accuracy,
            ordering: fields.ordering,
            nonce: fields.nonce,
            tsa: fields.tsa,
        })
    }

    /// The accuracy in whole seconds, rounded up. Like notation (tspclient-go), a token without accuracy under the
    /// ETSI baseline timestamp policy counts as accurate to one second, any other as exact.
    pub fn accuracy_seconds(&self) -> i64 {
        let accuracy = self.accuracy.unwrap_or_default();
        if accuracy == Accuracy::default() {
            return if self.policy == oid::BASELINE_TIMESTAMP_POLICY { 1 } else { 0 };
        }
        let fraction = i64::from(accuracy.millis > 0 || accuracy.micros > 0);
        i64::try_from(accuracy.seconds).unwrap_or(i64::MAX).saturating_add(fraction)
    }
}

struct Fields {
    version: u64,
    policy: ObjectIdentifier,
    imprint_algorithm: AlgorithmIdentifierOwned,
    hashed_message: Vec<u8>,
    serial_number: Int,
    gen_time: Timestamp,
    gen_time_nanos: u32,
    accuracy: Option<Accuracy>,
    ordering: bool,
    nonce: Option<Int>,
    tsa: Option<Vec<u8>>,
}

const TAG_SEQUENCE: u8 = 0x30;
const TAG_BOOLEAN: u8 = 0x01;
const TAG_INTEGER: u8 = 0x02;
const TAG_CONTEXT_0_PRIMITIVE: u8 = 0x80;
const TAG_CONTEXT_1_PRIMITIVE: u8 = 0x81;
const TAG_CONTEXT_0_CONSTRUCTED: u8 = 0xa0;
const TAG_CONTEXT_1_CONSTRUCTED: u8 = 0xa1;

fn decode_fields(bytes: &[u8]) -> der::Result<Fields> {
    let mut reader = SliceReader::new(bytes)?;
    let fields = reader.sequence(|r| {
        let version = r.decode::<u64>()?;
        let policy = r.decode::<ObjectIdentifier>()?;
        let (imprint_algorithm, hashed_message) = r.sequence(|r| {
            let algorithm = r.decode::<AlgorithmIdentifierOwned>()?;
            let hashed = r.decode::<OctetString>()?;
            Ok((algorithm, hashed.into_bytes()))
        })?;
        let serial_number = r.decode::<Int>()?;
        let (gen_time, gen_time_nanos) = decode_generalized_time(r.decode::<AnyRef<'_>>()?)?;
        let accuracy = if r.peek_byte() == Some(TAG_SEQUENCE) { Some(r.sequence(decode_accuracy)?) } else { None };
        let ordering = if r.peek_byte() == Some(TAG_BOOLEAN) { r.decode::<bool>()? } else { false };
        let nonce = if r.peek_byte() == Some(TAG_INTEGER) { Some(r.decode::<Int>()?) } else { None };
        let tsa = if r.peek_byte() == Some(TAG_CONTEXT_0_CONSTRUCTED) {
            let header = Header::decode(r)?;
            Some(r.read_nested(header.length, |r| Ok(r.tlv_bytes()?.to_vec()))?)
        } else {
            None
        };
        if r.peek_byte() == Some(TAG_CONTEXT_1_CONSTRUCTED) {
            // extensions [1] IMPLICIT Extensions: nothing in nv2 depends on them; skipped whole.
            r.decode::<AnyRef<'_>>()?;
        }
        Ok(Fields {
            version,
            policy,
            imprint_algorithm,
            hashed_message,
            serial_number,
            gen_time,
            gen_time_nanos,
            accuracy,
            ordering,
            nonce,
            tsa,
        })
    })?;
    reader.finish(fields)
}

fn decode_accuracy<'a, R: Reader<'a>>(r: &mut R) -> der::Result<Accuracy> {
    let mut accuracy = Accuracy::default();
    if r.peek_byte() == Some(TAG_INTEGER) {
        accuracy.seconds = r.decode::<u64>()?;
    }
    if r.peek_byte() == Some(TAG_CONTEXT_0_PRIMITIVE) {
        accuracy.millis = decode_sub_second(r)?;
    }
    if r.peek_byte() == Some(TAG_CONTEXT_1_PRIMITIVE) {
        accuracy.micros = decode_sub_second(r)?;
    }
    Ok(accuracy)
}

/// millis / micros: `[n] IMPLICIT INTEGER (1..999)`; zero is tolerated (it adds nothing), more than 999 is not.
fn decode_sub_second<'a, R: Reader<'a>>(r: &mut R) -> der::Result<u16> {
    let header = Header::decode(r)?;
    let value = u16::decode_value(r, header)?;
    if value > 999 {
        return Err(Tag::Integer.value_error());
    }
    Ok(value)
}

/// Parses `YYYYMMDDHHMMSS[.f{1,9}]Z` (RFC 3161 §2.4.2: UTC, optional fraction without trailing zeros in DER; trailing
/// zeros are tolerated here).
fn decode_generalized_time(any: AnyRef<'_>) -> der::Result<(Timestamp, u32)> {
    der::Tagged::tag(&any).assert_eq(Tag::GeneralizedTime)?;
    let bad = || Tag::GeneralizedTime.value_error();
    let text = any.value();
    let (main, rest) = text.split_at_checked(14).ok_or_else(bad)?;
    if !main.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let number = |range: core::ops::Range<usize>| -> der::Result<u32> {
        Ok(main.get(range).ok_or_else(bad)?.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let year = number(0..4)?;
    let nanos = match rest {
        [b'Z'] => 0,
        [b'.', digits @ .., b'Z'] if (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit) => {
            let value = digits.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            let scale = 10u32.pow(9 - u32::try_from(digits.len()).map_err(|_| bad())?);
            value * scale
        }
        _ => return Err(bad()),
    };
    let at = Timestamp::from_civil(
        i64::from(year),
        number(4..6)?,
        number(6..8)?,
        number(8..10)?,
        number(10..12)?,
        number(12..14)?,
    )
    .ok_or_else(bad)?;
    Ok((at, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> der::Result<(Timestamp, u32)> {
        decode_generalized_time(AnyRef::new(Tag::GeneralizedTime, text.as_bytes())?)
    }

    #[test]
    fn generalized_time_whole_seconds() {
        let (at, nanos) = time("20210917140910Z").unwrap();
        assert_eq!(at, Timestamp::parse_rfc3339("2021-09-17T14:09:10Z").unwrap());
        assert_eq!(nanos, 0);
    }

    #[test]
    fn generalized_time_with_fraction() {
        let (at, nanos) = time("20240618062937.123Z").unwrap();
        assert_eq!(at, Timestamp::parse_rfc3339("2024-06-18T06:29:37Z").unwrap());
        assert_eq!(nanos, 123_000_000);
        assert_eq!(time("20240618062937.000000001Z").unwrap().1, 1);
    }

    #[test]
    fn generalized_time_refuses_bad_forms() {
        for bad in [
            "20210917140910",
            "2021091714091Z",
            "20210917140910+0000",
            "20210917140910.Z",
            "20210917140910.1234567890Z",
            "20211317140910Z",
            "20210917246010Z",
            "2021091714091aZ",
            "",
        ] {
            assert!(time(bad).is_err(), "{bad:?} accepted");
        }
        assert!(decode_generalized_time(AnyRef::new(Tag::UtcTime, b"210917140910Z").unwrap()).is_err());
    }

    #[test]
    fn accuracy_rounds_up_and_defaults_for_baseline_policy() {
        let mut info = TstInfo {
            policy: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.4146.2.3"),
            imprint_hash: HashAlgorithm::Sha256,
            hashed_message: Vec::new(),
            serial_number: Int::new(&[1]).unwrap(),
            gen_time: Timestamp::from_unix(0),
            gen_time_nanos: 0,
            accuracy: None,
            ordering: false,
            nonce: None,
            tsa: None,
        };
        assert_eq!(info.accuracy_seconds(), 0);
        info.policy = oid::BASELINE_TIMESTAMP_POLICY;
        assert_eq!(info.accuracy_seconds(), 1);
        info.accuracy = Some(Accuracy { seconds: 2, millis: 0, micros: 1 });
        assert_eq!(info.accuracy_seconds(), 3);
        info.accuracy = Some(Accuracy { seconds: 0, millis: 500, micros: 0 });
        assert_eq!(info.accuracy_seconds(), 1);
        info.accuracy = Some(Accuracy { seconds: u64::MAX, millis: 1, micros: 0 });
        assert_eq!(info.accuracy_seconds(), i64::MAX);
    }
}
