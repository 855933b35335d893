//! Damaged and hostile tokens must be refused with the right error, quickly and without panicking.

use super::tests_fixtures::{globalsign_root, valid_token};
use super::*;
use alloc::vec;
use alloc::vec::Vec;

/// Offset of `needle` in `haystack` (test helper over fixture bytes).
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|w| w == needle).expect("needle present")
}

#[test]
fn every_truncation_is_refused_without_panic() {
    let token = valid_token();
    for len in 0..token.len() {
        let cut = &token[..len];
        assert!(TimestampToken::parse(cut).is_err(), "prefix of {len} bytes accepted");
        assert!(verify(cut, b"notation", None, &globalsign_root()).is_err());
    }
}

#[test]
fn random_bytes_are_malformed() {
    // A fixed xorshift stream: reproducible "random" input.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200 {
        let len = (round * 37) % 700;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(TimestampToken::parse(&bytes).is_err());
    }
    assert!(matches!(TimestampToken::parse(b"\x30\x03\x02\x01\x01"), Err(TimestampError::Malformed { .. })));
    assert!(matches!(TimestampToken::parse(b"garbage!"), Err(TimestampError::Malformed { .. })));
}

#[test]
fn every_single_bit_flip_is_refused_or_harmless() {
    // Flipping any bit must never panic, and must never yield a timestamp for another time or message.
    let token = valid_token();
    let roots = globalsign_root();
    let good = verify(&token, b"notation", None, &roots).unwrap();
    for index in (0..token.len()).step_by(61) {
        let mut damaged = token.clone();
        damaged[index] ^= 0x01;
        if let Ok(verified) = verify(&damaged, b"notation", None, &roots) {
            // Only bytes outside what is signed or bound (for example an unused certificate field) may change.
            assert_eq!(verified.gen_time, good.gen_time, "flip at {index}");
        }
    }
}

#[test]
fn modified_tstinfo_breaks_the_message_digest() {
    let mut token = valid_token();
    // The TSTInfo serial number 59060EEE...; change one byte of it.
    let serial = hex_bytes("59060EEE873C26672A94");
    let at = find(&token, &serial);
    token[at + 3] ^= 0xff;
    let parsed = TimestampToken::parse(&token).unwrap();
    assert_eq!(parsed.verify_signature().unwrap_err(), TimestampError::MessageDigestMismatch);
    assert_eq!(
        verify(&token, b"notation", None, &globalsign_root()).unwrap_err(),
        TimestampError::MessageDigestMismatch
    );
}

#[test]
fn modified_imprint_is_caught_before_anything_else_for_the_wrong_message() {
    let mut token = valid_token();
    let imprint = HashAlgorithm::Sha256.digest(b"notation");
    let at = find(&token, &imprint);
    token[at] ^= 0xff;
    // Against the original message: the imprint no longer matches.
    assert_eq!(verify(&token, b"notation", None, &globalsign_root()).unwrap_err(), TimestampError::ImprintMismatch);
}

#[test]
fn modified_signature_is_a_bad_signature() {
    let mut token = valid_token();
    let last = token.len() - 1;
    token[last] ^= 0x55;
    assert!(matches!(verify(&token, b"notation", None, &globalsign_root()), Err(TimestampError::BadSignature(_))));
}

#[test]
fn huge_input_is_refused_before_decoding() {
    let huge = vec![0x30u8; MAX_TOKEN_BYTES + 1];
    assert_eq!(
        TimestampToken::parse(&huge).unwrap_err(),
        TimestampError::TooLarge { size: MAX_TOKEN_BYTES + 1, max: MAX_TOKEN_BYTES }
    );
}

#[test]
fn a_long_reversed_set_is_counted_before_it_is_sorted() {
    // SignedData with 5000 digest algorithms: refused by count, not by a quadratic sort.
    let mut algorithms = Vec::new();
    for i in (0..5000u32).rev() {
        let b = i.to_be_bytes();
        algorithms.extend_from_slice(&[0x30, 0x06, 0x06, 0x04, 0x2a, b[1] & 0x7f, b[2] & 0x7f, b[3] & 0x7f]);
    }
    let mut signed_data = vec![0x02, 0x01, 0x03];
    signed_data.extend(der_tlv(0x31, &algorithms));
    let signed_data = der_tlv(0x30, &signed_data);
    let mut content_info = hex_bytes("06092A864886F70D010702");
    content_info.extend(der_tlv(0xa0, &signed_data));
    let token = der_tlv(0x30, &content_info);
    assert!(matches!(TimestampToken::parse(&token), Err(TimestampError::TooMany { what: "digest algorithms", .. })));
}

#[test]
fn other_content_info_types_are_refused() {
    // id-data instead of id-signedData.
    let mut content_info = hex_bytes("06092A864886F70D010701");
    content_info.extend(der_tlv(0xa0, &[0x04, 0x00]));
    let token = der_tlv(0x30, &content_info);
    assert_eq!(
        TimestampToken::parse(&token).unwrap_err(),
        TimestampError::NotSignedData("1.2.840.113549.1.7.1".into())
    );
}

#[test]
fn missing_signed_attributes_and_unknown_algorithms_are_refused() {
    let mut token = TimestampToken::parse(&valid_token()).unwrap();
    token.signer_info.digest_alg.oid = der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
    assert!(matches!(token.verify_signature(), Err(TimestampError::UnsupportedDigestAlgorithm(_))));

    let mut token = TimestampToken::parse(&valid_token()).unwrap();
    token.signer_info.signature_algorithm.oid = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
    assert!(matches!(token.verify_signature(), Err(TimestampError::UnsupportedSignatureAlgorithm(_))));

    let mut token = TimestampToken::parse(&valid_token()).unwrap();
    token.signer_info.signed_attrs = None;
    assert_eq!(token.verify_signature().unwrap_err(), TimestampError::MissingSignedAttributes);
}

#[test]
fn signing_certificate_v2_must_name_the_signer() {
    let mut token = TimestampToken::parse(&valid_token()).unwrap();
    let attrs = token.signer_info.signed_attrs.take().unwrap();
    let v2 = der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.2.47");
    let kept: Vec<_> = attrs.iter().filter(|a| a.oid != v2).cloned().collect();
    token.signer_info.signed_attrs = Some(kept.try_into().unwrap());
    assert_eq!(token.verify_signature().unwrap_err(), TimestampError::MissingAttribute("signing-certificate-v2"));
}

#[test]
fn wrong_ess_cert_hash_is_a_signing_certificate_mismatch() {
    let mut bytes = valid_token();
    // The certHash inside signing-certificate-v2 (13D6E9C4...): flip a byte. The signed attributes change, but
    // the ESS check runs before the signature check and names the precise problem.
    let at = find(&bytes, &hex_bytes("13D6E9C420FF6D4E2754728C68E77882"));
    bytes[at] ^= 0xff;
    let token = TimestampToken::parse(&bytes).unwrap();
    assert_eq!(
        token.verify_signature().unwrap_err(),
        TimestampError::SigningCertificateMismatch("certificate hash differs")
    );
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else if len < 0x10000 {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    } else {
        out.extend([0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// Splits the valid token's SignedData into its fields (whole TLVs), lets `edit` change them, and re-encodes.
fn rebuild_signed_data(edit: impl FnOnce(&mut Vec<Vec<u8>>)) -> Vec<u8> {
    let token = valid_token();
    let outer = super::token::elements(&token, 1, "test").unwrap();
    let content_info = super::token::elements(outer[0].content, 2, "test").unwrap();
    let explicit = super::token::elements(content_info[1].content, 1, "test").unwrap();
    let mut fields: Vec<Vec<u8>> =
        super::token::elements(explicit[0].content, 6, "test").unwrap().iter().map(|e| e.whole.to_vec()).collect();
    edit(&mut fields);
    let mut content = content_info[0].whole.to_vec();
    content.extend(der_tlv(0xa0, &der_tlv(0x30, &fields.concat())));
    der_tlv(0x30, &content)
}

fn set_content(tlv: &[u8]) -> Vec<u8> {
    super::token::elements(tlv, 1, "test").unwrap()[0].content.to_vec()
}

#[test]
fn rebuilding_without_changes_gives_the_same_bytes() {
    assert_eq!(rebuild_signed_data(|_| {}), valid_token());
}

#[test]
fn exactly_one_signer_info() {
    let two = rebuild_signed_data(|fields| {
        let signers = fields.pop().unwrap();
        let one = set_content(&signers);
        let mut other = one.clone();
        // A second, different SignerInfo (different signature bytes) so the SET has no duplicate.
        let last = other.len() - 1;
        other[last] ^= 1;
        fields.push(der_tlv(0x31, &[one, other].concat()));
    });
    assert_eq!(TimestampToken::parse(&two).unwrap_err(), TimestampError::SignerInfoCount(2));
    let none = rebuild_signed_data(|fields| {
        fields.pop();
        fields.push(vec![0x31, 0x00]);
    });
    assert_eq!(TimestampToken::parse(&none).unwrap_err(), TimestampError::SignerInfoCount(0));
}

#[test]
fn certificates_are_optional_to_parse_but_required_to_verify() {
    let without = rebuild_signed_data(|fields| fields.retain(|f| f[0] != 0xa0));
    let token = TimestampToken::parse(&without).unwrap();
    assert!(token.certificates().is_empty());
    assert_eq!(token.verify_signature().unwrap_err(), TimestampError::NoSignerCertificate);
}

#[test]
fn too_many_certificates_are_refused() {
    let many = rebuild_signed_data(|fields| {
        let index = fields.iter().position(|f| f[0] == 0xa0).unwrap();
        let certs = set_content(&fields[index]);
        fields[index] = der_tlv(0xa0, &certs.repeat(6));
    });
    assert!(matches!(TimestampToken::parse(&many), Err(TimestampError::TooMany { what: "certificates", .. })));
}

#[test]
fn unsupported_imprint_hash_and_tstinfo_version() {
    let tst_prefix = hex_bytes("3081C602010106092B06010401A03202033031300D0609608648016503040201");
    let mut token = valid_token();
    let at = find(&token, &tst_prefix);
    token[at + tst_prefix.len() - 1] = 0x04; // SHA-224
    assert_eq!(
        TimestampToken::parse(&token).unwrap_err(),
        TimestampError::UnsupportedImprintHash("2.16.840.1.101.3.4.2.4".into())
    );
    let mut token = valid_token();
    token[at + 5] = 0x02; // version 2
    assert_eq!(TimestampToken::parse(&token).unwrap_err(), TimestampError::UnsupportedTstInfoVersion(2));
}

#[test]
fn content_type_attribute_must_say_tstinfo() {
    let attribute = hex_bytes("06092A864886F70D010903310D060B2A864886F70D0109100104");
    let mut token = valid_token();
    let at = find(&token, &attribute);
    token[at + attribute.len() - 1] = 0x05;
    let parsed = TimestampToken::parse(&token).unwrap();
    assert_eq!(
        parsed.verify_signature().unwrap_err(),
        TimestampError::AttributeContentTypeMismatch("1.2.840.113549.1.9.16.1.5".into())
    );
}
