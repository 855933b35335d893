//! Parsing a TimeStampToken: a CMS ContentInfo holding SignedData whose encapsulated content is a TSTInfo.
//!
//! The outer layers are walked element by element over the received bytes (and every list counted before a `der`
//! SET OF decoder sorts it), so that the certificates and the signed attributes keep their exact DER: trust-store
//! matching is byte equality and the signature covers the signed attributes as received. The pieces themselves are
//! then decoded with the `cms` crate's types.

use super::oid;
use super::tst_info::TstInfo;
use super::TimestampError;
use crate::crypto::HashAlgorithm;
use crate::limits::MAX_CHAIN_LENGTH;
use crate::time::Timestamp;
use crate::x509::Certificate;
use alloc::format;
use alloc::vec::Vec;
use cms::content_info::ContentInfo;
use cms::signed_data::{EncapsulatedContentInfo, SignerInfo};
use der::asn1::OctetString;
use der::{Decode, Header, Reader, SliceReader, Tag};

/// Largest token accepted. Real tokens are 2–10 KiB (a TSTInfo, one signature and a chain of a few certificates);
/// the bound stops hostile input before any decoding.
pub const MAX_TOKEN_BYTES: usize = 256 * 1024;
/// Most signed or unsigned attributes accepted in the SignerInfo.
const MAX_ATTRIBUTES: usize = 32;
/// Most values accepted in one attribute.
const MAX_ATTRIBUTE_VALUES: usize = 8;
/// Most digest algorithms accepted in SignedData.
const MAX_DIGEST_ALGORITHMS: usize = 8;
/// Largest SignerInfo sid accepted.
const MAX_SID_BYTES: usize = 8 * 1024;
/// Most revocation entries accepted in SignedData (they are ignored, only counted).
const MAX_CRLS: usize = 16;

const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;
const TAG_CONTEXT_0: u8 = 0xa0;
const TAG_CONTEXT_1: u8 = 0xa1;

/// A parsed RFC 3161 TimeStampToken. Parsing checks structure only; [`TimestampToken::verify_signature`] and
/// [`super::verify`] decide whether it is authentic.
#[derive(Clone, Debug)]
pub struct TimestampToken {
    tst_info_der: Vec<u8>,
    tst_info: TstInfo,
    certificates: Vec<Certificate>,
    pub(super) signer_info: SignerInfo,
    /// The signed attributes exactly as received, re-tagged from `[0] IMPLICIT` to `SET OF` (the bytes signed).
    pub(super) signed_attributes_der: Option<Vec<u8>>,
}

impl TimestampToken {
    /// Parses a DER TimeStampToken: ContentInfo(id-signedData) → SignedData with eContentType id-ct-TSTInfo, a TSTInfo,
    /// the certificates it carries and exactly one SignerInfo. Nothing is verified yet.
    pub fn parse(der: &[u8]) -> Result<TimestampToken, TimestampError> {
        if der.len() > MAX_TOKEN_BYTES {
            return Err(TimestampError::TooLarge { size: der.len(), max: MAX_TOKEN_BYTES });
        }
        let content_info = ContentInfo::from_der(der).map_err(malformed("ContentInfo"))?;
        if content_info.content_type != oid::SIGNED_DATA {
            return Err(TimestampError::NotSignedData(format!("{}", content_info.content_type)));
        }
        // `content` is the [0] EXPLICIT field's inner element: the SignedData SEQUENCE.
        if der::Tagged::tag(&content_info.content) != Tag::Sequence {
            return Err(wrong_tag("SignedData"));
        }
        let parts = SignedDataParts::split(content_info.content.value())?;

        let encap =
            EncapsulatedContentInfo::from_der(parts.encap_content_info).map_err(malformed("encapContentInfo"))?;
        if encap.econtent_type != oid::TST_INFO {
            return Err(TimestampError::WrongContentType(format!("{}", encap.econtent_type)));
        }
        let econtent = encap.econtent.ok_or(TimestampError::MissingTstInfo)?;
        let tst_info_der = econtent.decode_as::<OctetString>().map_err(malformed("eContent"))?.into_bytes();
        let tst_info = TstInfo::from_der(&tst_info_der)?;

        let certificates = match parts.certificates {
            Some(set) => parse_certificates(set)?,
            None => Vec::new(),
        };

        let signer_infos = elements(parts.signer_infos, 8, "SignerInfos")?;
        let [signer] = signer_infos.as_slice() else {
            return Err(TimestampError::SignerInfoCount(signer_infos.len()));
        };
        let signed_attributes_der = signed_attributes_of(signer)?;
        let signer_info = SignerInfo::from_der(signer.whole).map_err(malformed("SignerInfo"))?;

        Ok(TimestampToken { tst_info_der, tst_info, certificates, signer_info, signed_attributes_der })
    }

    /// genTime truncated to whole seconds: when the TSA says the message existed.
    pub fn gen_time(&self) -> Timestamp {
        self.tst_info.gen_time
    }

    /// The accuracy in whole seconds, rounded up (see [`TstInfo::accuracy_seconds`] for the default).
    pub fn accuracy(&self) -> i64 {
        self.tst_info.accuracy_seconds()
    }

    /// The messageImprint: which hash, and the hashed message the TSA timestamped.
    pub fn message_imprint(&self) -> (HashAlgorithm, &[u8]) {
        (self.tst_info.imprint_hash, &self.tst_info.hashed_message)
    }

    /// The certificates the token carries, in the order received (usually the TSA chain, root sometimes omitted).
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// Every decoded TSTInfo field (policy, serial number, nonce, TSA name, ...), for display.
    pub fn tst_info(&self) -> &TstInfo {
        &self.tst_info
    }

    /// The exact DER of the TSTInfo (the content the signer's message-digest covers).
    pub fn tst_info_der(&self) -> &[u8] {
        &self.tst_info_der
    }
}

/// The fields of SignedData, each the exact received bytes.
struct SignedDataParts<'a> {
    encap_content_info: &'a [u8],
    certificates: Option<&'a [u8]>,
    signer_infos: &'a [u8],
}

impl<'a> SignedDataParts<'a> {
    /// SignedData ::= SEQUENCE { version, digestAlgorithms SET, encapContentInfo, [0] certificates OPTIONAL,
    /// [1] crls OPTIONAL, signerInfos SET }
    fn split(content: &'a [u8]) -> Result<Self, TimestampError> {
        let fields = elements(content, 6, "SignedData")?;
        let mut fields = fields.iter();
        let version = fields.next().ok_or_else(|| missing("SignedData", "version"))?;
        cms::content_info::CmsVersion::from_der(version.whole).map_err(malformed("SignedData version"))?;
        let digest_algorithms = fields.next().ok_or_else(|| missing("SignedData", "digestAlgorithms"))?;
        if digest_algorithms.tag != TAG_SET {
            return Err(wrong_tag("digestAlgorithms"));
        }
        elements(digest_algorithms.content, MAX_DIGEST_ALGORITHMS, "digest algorithms")?;
        let encap = fields.next().ok_or_else(|| missing("SignedData", "encapContentInfo"))?;
        let mut next = fields.next();
        let mut certificates = None;
        if let Some(element) = next.filter(|e| e.tag == TAG_CONTEXT_0) {
            certificates = Some(element.content);
            next = fields.next();
        }
        if let Some(element) = next.filter(|e| e.tag == TAG_CONTEXT_1) {
            elements(element.content, MAX_CRLS, "revocation entries")?;
            next = fields.next();
        }
        let signer_infos = next.filter(|e| e.tag == TAG_SET).ok_or_else(|| missing("SignedData", "signerInfos"))?;
        if fields.next().is_some() {
            return Err(TimestampError::Malformed { what: "SignedData", reason: "trailing fields".into() });
        }
        Ok(SignedDataParts { encap_content_info: encap.whole, certificates, signer_infos: signer_infos.content })
    }
}

/// `CertificateChoices`: plain certificates are parsed (keeping their bytes); other choices (attribute
/// certificates, other formats) play no part in timestamp verification and are skipped.
fn parse_certificates(set: &[u8]) -> Result<Vec<Certificate>, TimestampError> {
    elements(set, MAX_CHAIN_LENGTH, "certificates")?
        .iter()
        .filter(|e| e.tag == TAG_SEQUENCE)
        .map(|e| {
            Certificate::from_der(e.whole)
                .map_err(|err| TimestampError::Malformed { what: "certificate", reason: format!("{err}") })
        })
        .collect()
}

/// SignerInfo ::= SEQUENCE { version, sid, digestAlgorithm, [0] signedAttrs OPTIONAL, signatureAlgorithm,
/// signature, [1] unsignedAttrs OPTIONAL }. Counts the attribute lists and returns the signed attributes re-tagged
/// as the `SET OF` the signature covers (RFC 5652 §5.4).
fn signed_attributes_of(signer: &Element<'_>) -> Result<Option<Vec<u8>>, TimestampError> {
    if signer.tag != TAG_SEQUENCE {
        return Err(wrong_tag("SignerInfo"));
    }
    let fields = elements(signer.content, 7, "SignerInfo")?;
    // The sid holds an issuer Name whose SET OF the decoder sorts; real ones are well under 1 KiB.
    if fields.get(1).is_some_and(|sid| sid.whole.len() > MAX_SID_BYTES) {
        return Err(TimestampError::Malformed {
            what: "SignerInfo",
            reason: format!("sid longer than {MAX_SID_BYTES} bytes"),
        });
    }
    let mut signed = None;
    for field in fields.iter().skip(3) {
        if field.tag == TAG_CONTEXT_0 || field.tag == TAG_CONTEXT_1 {
            count_attributes(field.content)?;
        }
        if field.tag == TAG_CONTEXT_0 && signed.is_none() {
            let mut bytes = field.whole.to_vec();
            if let Some(first) = bytes.first_mut() {
                *first = TAG_SET;
            }
            signed = Some(bytes);
        }
    }
    Ok(signed)
}

fn count_attributes(attributes: &[u8]) -> Result<(), TimestampError> {
    for attribute in elements(attributes, MAX_ATTRIBUTES, "attributes")? {
        let parts = elements(attribute.content, 2, "attribute")?;
        if let Some(values) = parts.get(1) {
            elements(values.content, MAX_ATTRIBUTE_VALUES, "attribute values")?;
        }
    }
    Ok(())
}

/// One DER element inside a parent: its first identifier byte, its whole encoding and its contents.
pub(super) struct Element<'a> {
    pub(super) tag: u8,
    pub(super) whole: &'a [u8],
    pub(super) content: &'a [u8],
}

/// Splits `bytes` into consecutive DER elements, refusing more than `max` of them.
pub(super) fn elements<'a>(
    bytes: &'a [u8],
    max: usize,
    what: &'static str,
) -> Result<Vec<Element<'a>>, TimestampError> {
    let bad = malformed(what);
    let mut reader = SliceReader::new(bytes).map_err(&bad)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        if out.len() >= max {
            return Err(TimestampError::TooMany { what, max });
        }
        let start = usize::try_from(reader.position()).map_err(&bad)?;
        let header = Header::decode(&mut reader).map_err(&bad)?;
        let content = reader.read_slice(header.length).map_err(&bad)?;
        let end = usize::try_from(reader.position()).map_err(&bad)?;
        let whole = bytes.get(start..end).ok_or_else(|| bad(Tag::Sequence.length_error()))?;
        let tag = *whole.first().ok_or_else(|| bad(Tag::Sequence.length_error()))?;
        out.push(Element { tag, whole, content });
    }
    Ok(out)
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimestampError {
    move |e| TimestampError::Malformed { what, reason: format!("{e}") }
}

fn missing(what: &'static str, field: &str) -> TimestampError {
    TimestampError::Malformed { what, reason: format!("{field} is missing") }
}

fn wrong_tag(what: &'static str) -> TimestampError {
    TimestampError::Malformed { what, reason: "unexpected ASN.1 type".into() }
}
