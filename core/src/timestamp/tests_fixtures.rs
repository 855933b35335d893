//! Runs every `timestamp-token` case of the Notary Project fixture corpus (`shared/fixtures/notation/cases.json`)
//! and the timestamps embedded in notation-go's timestamped envelopes.

extern crate std;

use super::*;
use crate::x509::parse_certificates;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use base64ct::{Base64, Base64UrlUnpadded, Encoding};
use serde_json::Value;

pub(super) use crate::fixtures::corpus_dir;

pub(super) fn read(rel: &str) -> Vec<u8> {
    std::fs::read(corpus_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub(super) fn globalsign_root() -> Vec<Certificate> {
    parse_certificates(&read("truststores/notation-go/x509/tsa/test-timestamp/globalsignRoot.cer")).unwrap()
}

pub(super) fn valid_token() -> Vec<u8> {
    read("timestamp-tokens/notation-go/TimeStampToken.p7s")
}

fn timestamp_cases() -> Vec<Value> {
    let all: Value = serde_json::from_slice(&read("cases.json")).unwrap();
    all["cases"].as_array().unwrap().iter().filter(|c| c["kind"] == "timestamp-token").cloned().collect()
}

fn hash_named(name: &str) -> HashAlgorithm {
    match name {
        "SHA-256" => HashAlgorithm::Sha256,
        "SHA-384" => HashAlgorithm::Sha384,
        "SHA-512" => HashAlgorithm::Sha512,
        other => panic!("unknown hash {other}"),
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn run_case(case: &Value) -> Result<VerifiedTimestamp, TimestampError> {
    let token = read(case["files"][0].as_str().unwrap());
    let message = hex(case["message_hex"].as_str().unwrap());
    let hash = hash_named(case["hash"].as_str().unwrap());
    let mut roots = Vec::new();
    for (store, files) in case["trust"]["stores"].as_object().unwrap() {
        if store.starts_with("tsa:") {
            for file in files.as_array().unwrap() {
                roots.extend(parse_certificates(&read(file.as_str().unwrap())).unwrap());
            }
        }
    }
    verify(&token, &message, Some(hash), &roots)
}

/// The error each invalid case must produce: the verdict must be right for the right reason.
fn expected_error(id: &str) -> fn(&TimestampError) -> bool {
    match id {
        "ngo-tst-message-mismatch" => |e| matches!(e, TimestampError::ImprintMismatch),
        "ngo-tst-invalid-tstinfo" => |e| matches!(e, TimestampError::Malformed { what: "TSTInfo", .. }),
        "ngo-tst-invalid-content-type" => |e| matches!(e, TimestampError::WrongContentType(_)),
        "ngo-tst-without-certificate" => |e| matches!(e, TimestampError::NoSignerCertificate),
        "core-tst-invalid-signature" => |e| matches!(e, TimestampError::BadSignature(_)),
        "ngo-tst-untrusted-root" => |e| matches!(e, TimestampError::UntrustedTsaRoot),
        _ => |_| true,
    }
}

#[test]
fn every_timestamp_token_case_gets_its_expected_verdict() {
    let cases = timestamp_cases();
    assert_eq!(cases.len(), 7, "corpus changed: update the expectations");
    let mut failures = Vec::new();
    for case in &cases {
        let id = case["id"].as_str().unwrap().to_string();
        let result = run_case(case);
        match (case["expect"].as_str().unwrap(), &result) {
            ("valid", Ok(verified)) => {
                let at = Timestamp::parse_rfc3339(case["verify_at"].as_str().unwrap()).unwrap();
                if verified.gen_time != at {
                    failures.push(alloc::format!("{id}: genTime {} != {at}", verified.gen_time));
                }
            }
            ("invalid", Err(e)) if expected_error(&id)(e) => {}
            (expect, _) => failures.push(alloc::format!("{id}: expected {expect}, got {result:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn valid_token_details() {
    let token = TimestampToken::parse(&valid_token()).unwrap();
    assert_eq!(token.gen_time(), Timestamp::parse_rfc3339("2021-09-17T14:09:10Z").unwrap());
    assert_eq!(token.accuracy(), 1);
    let (hash, imprint) = token.message_imprint();
    assert_eq!(hash, HashAlgorithm::Sha256);
    assert_eq!(imprint, HashAlgorithm::Sha256.digest(b"notation").as_slice());
    assert_eq!(token.tst_info().policy.to_string(), "1.3.6.1.4.1.4146.2.3");
    assert!(token.tst_info().tsa.is_some());
    assert!(!token.certificates().is_empty());

    let signer = token.verify_signature().unwrap();
    assert!(signer.certificate().subject_string().contains("Globalsign TSA for Advanced - G4"));
    assert_eq!(signer.scheme(), crate::crypto::Scheme::RsaPkcs1v15(HashAlgorithm::Sha256));

    let verified = verify(&valid_token(), b"notation", None, &globalsign_root()).unwrap();
    assert_eq!(verified.accuracy_seconds, 1);
    assert_eq!(verified.earliest(), Timestamp::parse_rfc3339("2021-09-17T14:09:09Z").unwrap());
    assert_eq!(verified.latest(), Timestamp::parse_rfc3339("2021-09-17T14:09:11Z").unwrap());
    assert_eq!(verified.tsa_chain.first().map(Certificate::der), Some(signer.certificate().der()));
    assert_eq!(verified.tsa_chain.last(), globalsign_root().first());
    assert!(verified.tsa_chain.len() >= 2);
}

#[test]
fn imprint_hash_must_be_the_expected_one() {
    let err = verify(&valid_token(), b"notation", Some(HashAlgorithm::Sha384), &globalsign_root()).unwrap_err();
    assert_eq!(
        err,
        TimestampError::UnexpectedImprintHash { expected: HashAlgorithm::Sha384, found: HashAlgorithm::Sha256 }
    );
}

#[test]
fn no_roots_means_untrusted() {
    let err = verify(&valid_token(), b"notation", None, &[]).unwrap_err();
    assert_eq!(err, TimestampError::UntrustedTsaRoot);
}

#[test]
fn an_unrelated_tsa_store_certificate_does_not_help() {
    // The wabbit-networks code-signing root from the `test-nonCA` TSA store did not sign this token's chain.
    let roots =
        parse_certificates(&read("truststores/notation-go/x509/tsa/test-nonCA/wabbit-networks.io.crt")).unwrap();
    assert_eq!(verify(&valid_token(), b"notation", None, &roots).unwrap_err(), TimestampError::UntrustedTsaRoot);
}

/// A notation-go envelope's `io.cncf.notary.timestampSignature`, with the raw signature bytes it timestamps.
fn jws_timestamp(file: &str) -> (Vec<u8>, Vec<u8>) {
    let envelope: Value = serde_json::from_slice(&read(file)).unwrap();
    let token = Base64::decode_vec(envelope["header"]["io.cncf.notary.timestampSignature"].as_str().unwrap()).unwrap();
    let signature = Base64UrlUnpadded::decode_vec(envelope["signature"].as_str().unwrap()).unwrap();
    (token, signature)
}

#[test]
fn jws_envelope_timestamp_verifies_over_the_signature_bytes() {
    let (token, signature) = jws_timestamp("envelopes/notation-go/timestamp/jwsWithTimestamp.sig");
    let verified = verify(&token, &signature, Some(HashAlgorithm::Sha256), &globalsign_root()).unwrap();
    assert_eq!(verified.gen_time.to_rfc3339(), "2024-06-18T06:29:37Z");
    // Not over anything else, such as the signing input or a one-byte change of the signature.
    let mut other = signature.clone();
    other[0] ^= 1;
    assert_eq!(
        verify(&token, &other, Some(HashAlgorithm::Sha256), &globalsign_root()).unwrap_err(),
        TimestampError::ImprintMismatch
    );
}

#[test]
fn every_envelope_timestamp_in_the_corpus_parses_and_verifies_its_signature() {
    let dir = corpus_dir().join("envelopes/notation-go/timestamp");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let Ok(envelope) = serde_json::from_slice::<Value>(&bytes) else { continue };
        let Some(encoded) = envelope["header"]["io.cncf.notary.timestampSignature"].as_str() else { continue };
        let token = Base64::decode_vec(encoded).unwrap();
        let signature = Base64UrlUnpadded::decode_vec(envelope["signature"].as_str().unwrap()).unwrap();
        let name = path.display().to_string();
        let verified = verify(&token, &signature, Some(HashAlgorithm::Sha256), &globalsign_root())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(verified.tsa_chain.len() >= 2, "{name}");
        checked += 1;
    }
    assert_eq!(checked, 2, "JWS envelopes with timestamps in the corpus");
}

/// A notation-go COSE envelope's `io.cncf.notary.timestampSignature` (an unprotected bstr) and its signature bytes.
fn cose_timestamp(file: &str) -> Option<(Vec<u8>, Vec<u8>)> {
    use coset::{CborSerializable, Label, TaggedCborSerializable};
    let bytes = read(file);
    let sign1 = coset::CoseSign1::from_tagged_slice(&bytes).or_else(|_| coset::CoseSign1::from_slice(&bytes)).unwrap();
    let token = sign1.unprotected.rest.iter().find_map(|(label, value)| match (label, value) {
        (Label::Text(name), ciborium::Value::Bytes(token)) if name == "io.cncf.notary.timestampSignature" => {
            Some(token.clone())
        }
        _ => None,
    })?;
    Some((token, sign1.signature))
}

#[test]
fn cose_envelope_timestamps_verify_over_the_signature_bytes() {
    let mut checked = 0;
    for file in ["coseWithTimestamp.sig", "coseExpiredWithTimestamp.sig", "timestampAfterNotAfter.sig"] {
        let path = alloc::format!("envelopes/notation-go/timestamp/{file}");
        let (token, signature) = cose_timestamp(&path).unwrap_or_else(|| panic!("{file}: no timestamp"));
        let verified = verify(&token, &signature, Some(HashAlgorithm::Sha256), &globalsign_root())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(verified.earliest() < verified.latest(), "{file}");
        checked += 1;
    }
    let (token, _) = cose_timestamp("envelopes/notation-go/timestamp/coseWithTimestamp.sig").unwrap();
    assert_eq!(TimestampToken::parse(&token).unwrap().gen_time().to_rfc3339(), "2024-06-18T06:27:16Z");
    assert_eq!(checked, 3);
}

#[test]
fn trusting_an_intermediate_breaks_the_timestamping_chain_rules() {
    // The token's intermediate (GlobalSign Timestamping CA - SHA384 - G4) as the only "root": the chain then ends
    // in a certificate that is not self-signed, which the Notary timestamping rules refuse.
    let token = TimestampToken::parse(&valid_token()).unwrap();
    let signer = token.verify_signature().unwrap();
    let intermediate: Vec<Certificate> = token
        .certificates()
        .iter()
        .filter(|c| *c != signer.certificate() && c.subject_string().contains("Timestamping CA"))
        .cloned()
        .collect();
    assert_eq!(intermediate.len(), 1);
    assert!(matches!(
        verify(&valid_token(), b"notation", None, &intermediate),
        Err(TimestampError::TsaChain(crate::x509::X509Error::Chain { index: 1, .. }))
    ));
}

#[test]
fn signer_found_by_subject_key_identifier() {
    use cms::signed_data::SignerIdentifier;
    use x509_cert::ext::pkix::SubjectKeyIdentifier;
    let mut token = TimestampToken::parse(&valid_token()).unwrap();
    // sid is not covered by the signature, so it can be rewritten to the other CMS form.
    let ski = hex("ae7e708178201429adf278f85900d9cca624028e");
    token.signer_info.sid =
        SignerIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(der::asn1::OctetString::new(ski).unwrap()));
    assert!(token.verify_signature().is_ok());
    token.signer_info.sid =
        SignerIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(der::asn1::OctetString::new(vec![1; 20]).unwrap()));
    assert_eq!(token.verify_signature().unwrap_err(), TimestampError::NoSignerCertificate);
}
