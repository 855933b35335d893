//! Envelope tests: the public Notary corpus, the notation-core-go encoding vectors, round trips and attacks.

extern crate std;

use super::*;
use crate::crypto::KeyKind;
use alloc::borrow::ToOwned;
use alloc::boxed::Box;
use alloc::format;
use alloc::vec;
use base64ct::{Base64UrlUnpadded, Encoding};
use ciborium::value::Value as Cbor;
use der::{Decode, Encode};

// ---- helpers ------------------------------------------------------------------------------------------------

use crate::fixtures::corpus_dir;

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// The public key of a DER certificate, read with x509-cert directly (independently of the code under test).
fn cert_key(der: &[u8]) -> PublicKey {
    let cert = x509_cert::Certificate::from_der(der).unwrap();
    PublicKey::from_spki_der(&cert.tbs_certificate.subject_public_key_info.to_der().unwrap()).unwrap()
}

/// A syntactically valid certificate for `key`'s public key; only its SPKI matters to the envelope code.
fn fake_cert(key: &SigningKey) -> Vec<u8> {
    use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
    use x509_cert::time::{Time, Validity};
    let spki = SubjectPublicKeyInfoOwned::from_der(&key.public_key_spki_der().unwrap()).unwrap();
    let alg = AlgorithmIdentifierOwned {
        oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2"),
        parameters: None,
    };
    let time = |secs| {
        Time::GeneralTime(
            der::asn1::GeneralizedTime::from_unix_duration(core::time::Duration::from_secs(secs)).unwrap(),
        )
    };
    let tbs = x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: x509_cert::serial_number::SerialNumber::new(&[1]).unwrap(),
        signature: alg.clone(),
        issuer: x509_cert::name::Name::default(),
        validity: Validity { not_before: time(0), not_after: time(4_102_444_800) },
        subject: x509_cert::name::Name::default(),
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: None,
    };
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: alg,
        signature: der::asn1::BitString::from_bytes(&[0]).unwrap(),
    };
    cert.to_der().unwrap()
}

fn key(kind: KeyKind) -> SigningKey {
    SigningKey::from_seed(kind, &vec![7u8; kind.seed_len()]).unwrap()
}

fn payload() -> Payload {
    Payload {
        target_artifact: TargetArtifact {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0".into(),
            size: 481,
            annotations: [("purpose".to_owned(), "test".to_owned())].into_iter().collect(),
        },
    }
}

const T0: Timestamp = Timestamp::from_unix(1_700_000_000);

fn request(format: EnvelopeFormat) -> SignRequest {
    let mut request = SignRequest::new(format, &payload(), T0, "nv2/test");
    request.expiry = Some(T0.saturating_add(3600));
    request
}

fn signed(format: EnvelopeFormat, kind: KeyKind) -> (SigningKey, Vec<u8>) {
    let k = key(kind);
    let envelope = sign(&request(format), &k, &[fake_cert(&k)]).unwrap();
    (k, envelope)
}

/// Replaces one member of a JWS envelope JSON object and re-serialises it (member order kept by sorting).
fn edit_jws(envelope: &[u8], edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) -> Vec<u8> {
    let mut object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(envelope).unwrap();
    edit(&mut object);
    serde_json::to_vec(&object).unwrap()
}

/// A JWS envelope (properly signed by `k`) whose protected header is exactly `protected_json`.
fn jws_with_protected(k: &SigningKey, protected_json: &str) -> Vec<u8> {
    let (protected, payload_text, input) = jws::signing_input(protected_json.as_bytes(), &payload().to_json());
    let signature = k.sign(&input);
    jws::write_envelope(&protected, &payload_text, &signature, &[fake_cert(k)], &UnsignedAttributes::default())
}

/// A COSE envelope (properly signed by `k`) whose protected header map has exactly `entries`, in order.
fn cose_with_protected(k: &SigningKey, entries: Vec<(Cbor, Cbor)>) -> Vec<u8> {
    let protected = cbor::encode(&Cbor::Map(entries)).unwrap();
    let body = payload().to_json();
    let signature = k.sign(&cose::sig_structure(&protected, &body).unwrap());
    cose::write_envelope(&protected, &body, &signature, &[fake_cert(k)], &UnsignedAttributes::default()).unwrap()
}

fn cose_base_entries(alg: i64) -> Vec<(Cbor, Cbor)> {
    vec![
        (Cbor::Integer(1.into()), Cbor::Integer(alg.into())),
        (Cbor::Integer(2.into()), Cbor::Array(vec![Cbor::Text(SIGNING_SCHEME.into())])),
        (Cbor::Integer(3.into()), Cbor::Text(PAYLOAD_MEDIA_TYPE.into())),
        (Cbor::Text(SIGNING_SCHEME.into()), Cbor::Text("notary.x509".into())),
        (Cbor::Text(SIGNING_TIME.into()), Cbor::Tag(1, Box::new(Cbor::Integer(T0.unix().into())))),
    ]
}

const GOOD_HEADER: &str = r#""cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2023-11-14T22:13:20Z""#;

// ---- the public corpus ----------------------------------------------------------------------------------------

/// Every envelope file under `envelopes/`: parse, then verify with the leaf certificate's key. Formats come from
/// cases.json; the two invalid files must fail as their cases say.
#[test]
fn corpus_envelopes_parse_and_verify() {
    let root = corpus_dir();
    let cases: serde_json::Value = serde_json::from_slice(&read(&root.join("cases.json"))).unwrap();
    let mut case_for = std::collections::BTreeMap::new();
    for case in cases["cases"].as_array().unwrap() {
        if case["kind"] == "envelope" {
            case_for.insert(case["files"][0].as_str().unwrap().to_owned(), case.clone());
        }
    }
    let mut files = Vec::new();
    let mut stack = vec![root.join("envelopes")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let (mut verified, mut refused) = (0, 0);
    for path in &files {
        let relative = path.strip_prefix(&root).unwrap().to_string_lossy().into_owned();
        let bytes = read(path);
        let case = case_for.get(&relative);
        let format = match case.and_then(|c| c["format"].as_str()) {
            Some("cose") => EnvelopeFormat::Cose,
            Some("jws") => EnvelopeFormat::Jws,
            _ if bytes.first() == Some(&b'{') => EnvelopeFormat::Jws,
            _ => EnvelopeFormat::Cose,
        };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match name.as_str() {
            "ca_invalid_sig_env.json" => {
                // The payload segment carries a trailing "=": not unpadded base64url, an integrity failure.
                assert_eq!(
                    ParsedEnvelope::parse(format, &bytes).unwrap_err(),
                    EnvelopeError::BadBase64 { what: "payload" }
                );
                refused += 1;
                continue;
            }
            "malformed.jws.sig" => {
                assert!(matches!(ParsedEnvelope::parse(format, &bytes), Err(EnvelopeError::Malformed { .. })));
                refused += 1;
                continue;
            }
            _ => {}
        }
        let envelope = ParsedEnvelope::parse(format, &bytes).unwrap_or_else(|e| panic!("{relative}: {e}"));
        let leaf = cert_key(&envelope.certificate_chain()[0]);
        envelope.verify_signature(&leaf).unwrap_or_else(|e| panic!("{relative}: {e}"));
        assert_eq!(envelope.format, format);
        assert_eq!(envelope.algorithm, leaf.notary_algorithm().unwrap());
        let payload = envelope.payload().unwrap_or_else(|e| panic!("{relative}: {e}"));
        if let Some(target) = case.map(|c| &c["target"]).filter(|t| t.is_object()) {
            assert_eq!(payload.target_artifact.digest, target["digest"].as_str().unwrap(), "{relative}");
            assert_eq!(payload.target_artifact.size, target["size"].as_u64().unwrap(), "{relative}");
            assert_eq!(payload.target_artifact.media_type, target["mediaType"].as_str().unwrap(), "{relative}");
        }
        if name.contains("Timestamp") && !name.starts_with("without") {
            assert!(envelope.unsigned().timestamp_signature.is_some(), "{relative}");
        }
        // Flipping one signature bit must break every one of them.
        let mut tampered = envelope.clone();
        tampered.parts.signature[0] ^= 1;
        assert_eq!(tampered.verify_signature(&leaf), Err(EnvelopeError::SignatureInvalid), "{relative}");
        verified += 1;
    }
    std::println!("corpus: {verified} envelopes verified, {refused} refused");
    assert_eq!((verified, refused), (files.len() - 2, 2));
    assert!(verified >= 18, "expected the whole corpus, found {verified}");
}

#[test]
fn corpus_details() {
    let root = corpus_dir();
    let plugin = ParsedEnvelope::parse(
        EnvelopeFormat::Jws,
        &read(&root.join("envelopes/notation-go/mock/ca_plugin_sig_env.json")),
    )
    .unwrap();
    assert_eq!(plugin.signed().verification_plugin.as_deref(), Some("plugin-name"));
    let critical: Vec<_> = plugin.signed().critical_extended().map(|a| a.key.as_str()).collect();
    assert_eq!(critical, ["SomeKey"]);

    let expired = ParsedEnvelope::parse(
        EnvelopeFormat::Jws,
        &read(&root.join("envelopes/notation-go/mock/ca_expired_sig_env.json")),
    )
    .unwrap();
    assert_eq!(expired.signed().expiry, Timestamp::from_civil(2022, 7, 29, 23, 59, 0));
    assert_eq!(expired.algorithm, SignatureAlgorithm::Ps384);
    assert_eq!(expired.certificate_chain().len(), 2);

    let cose = ParsedEnvelope::parse(
        EnvelopeFormat::Cose,
        &read(&root.join("envelopes/notation-go/internal/cose_signature.sig")),
    )
    .unwrap();
    assert_eq!(cose.signed().signing_scheme, SigningScheme::X509);
    assert!(cose.signed().signing_time.is_some());
    assert_eq!(cose.algorithm, SignatureAlgorithm::Ps256);

    let metadata = ParsedEnvelope::parse(
        EnvelopeFormat::Jws,
        &read(&root.join("envelopes/notation-go/mock/sig_env_with_metadata.json")),
    )
    .unwrap();
    let annotations = metadata.payload().unwrap().target_artifact.annotations;
    assert_eq!(annotations.get("io.wabbit-networks.buildId").map(String::as_str), Some("123"));

    // A JWS file is not a COSE envelope and vice versa.
    assert!(ParsedEnvelope::parse(
        EnvelopeFormat::Cose,
        &read(&root.join("envelopes/notation-go/internal/jws_signature.sig"))
    )
    .is_err());
    assert!(ParsedEnvelope::parse(
        EnvelopeFormat::Jws,
        &read(&root.join("envelopes/notation-go/internal/cose_signature.sig"))
    )
    .is_err());
}

// ---- encoding vectors -------------------------------------------------------------------------------------------

#[test]
fn jws_conformance_vector() {
    let root = corpus_dir();
    let vector: serde_json::Value =
        serde_json::from_slice(&read(&root.join("encoding-vectors/notation-core-go/jws/conformance.json"))).unwrap();
    let mut extended =
        vec![ExtendedAttribute { key: "signedCritKey1".into(), value: "signedCritValue1".into(), critical: true }];
    for i in 1..=4 {
        extended.push(ExtendedAttribute {
            key: format!("signedKey{i}"),
            value: "signedValue1".into(),
            critical: false,
        });
    }
    let attributes = SignedAttributes {
        signing_scheme: SigningScheme::X509,
        signing_time: Timestamp::from_civil(2022, 8, 29, 13, 50, 0),
        authentic_signing_time: None,
        expiry: Timestamp::from_civil(2099, 8, 30, 13, 50, 0),
        verification_plugin: None,
        verification_plugin_min_version: None,
        content_type: PAYLOAD_MEDIA_TYPE.into(),
        extended,
    };
    let protected = encode_signed_attributes(EnvelopeFormat::Jws, SignatureAlgorithm::Es256, &attributes).unwrap();
    assert_eq!(Base64UrlUnpadded::encode_string(&protected), vector["protected"].as_str().unwrap());
    let (protected_text, payload_text, _) = jws::signing_input(&protected, br#"{"key":"hello JWS"}"#);
    assert_eq!(protected_text, vector["protected"].as_str().unwrap());
    assert_eq!(payload_text, vector["payload"].as_str().unwrap());

    // The header written for the same unsigned attributes carries the same signing agent.
    let agent = vector["header"][SIGNING_AGENT].as_str().unwrap();
    let unsigned = UnsignedAttributes { signing_agent: Some(agent.into()), timestamp_signature: None };
    let written = jws::write_envelope(&protected_text, &payload_text, &[1], &[], &unsigned);
    let written: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(written["header"][SIGNING_AGENT], agent);

    // It cannot be an envelope nv2 verifies: there is no x5c.
    let bytes = read(&root.join("encoding-vectors/notation-core-go/jws/conformance.json"));
    assert_eq!(ParsedEnvelope::parse(EnvelopeFormat::Jws, &bytes).unwrap_err(), EnvelopeError::MissingCertificateChain);
}

#[test]
fn cose_conformance_vector() {
    let root = corpus_dir();
    let vector: serde_json::Value =
        serde_json::from_slice(&read(&root.join("encoding-vectors/notation-core-go/cose/conformance.json"))).unwrap();
    let attributes = SignedAttributes {
        signing_scheme: SigningScheme::X509,
        signing_time: Some(Timestamp::from_unix(vector["signingTime"].as_i64().unwrap())),
        authentic_signing_time: None,
        expiry: Some(Timestamp::from_unix(vector["expiry"].as_i64().unwrap())),
        verification_plugin: None,
        verification_plugin_min_version: None,
        content_type: PAYLOAD_MEDIA_TYPE.into(),
        extended: vec![
            ExtendedAttribute { key: "signedCritKey1".into(), value: "signedCritValue1".into(), critical: true },
            ExtendedAttribute { key: "signedKey1".into(), value: "signedValue1".into(), critical: false },
        ],
    };
    let protected = encode_signed_attributes(EnvelopeFormat::Cose, SignatureAlgorithm::Ps384, &attributes).unwrap();
    assert_eq!(protected, hex(vector["protectedHeaders"]["cborHex"].as_str().unwrap()));

    // The whole tagged message, given the vector's (random, unverifiable) signature.
    let expected = hex(vector["expectedOutput"]["cborHex"].as_str().unwrap());
    let payload = hex(vector["payload"].as_str().unwrap());
    assert_eq!(payload, b"hello COSE");
    let signature = match cbor::decode(&expected, "t").unwrap() {
        Cbor::Tag(18, inner) => match *inner {
            Cbor::Array(items) => items[3].as_bytes().unwrap().clone(),
            _ => panic!("not an array"),
        },
        _ => panic!("not tagged"),
    };
    let unsigned =
        UnsignedAttributes { signing_agent: Some("NotationConformanceTest/1.0.0".into()), timestamp_signature: None };
    let message = cose::write_envelope(&protected, &payload, &signature, &[], &unsigned).unwrap();
    assert_eq!(message, expected);

    // Unprotected header bytes on their own.
    let unprotected_hex = vector["unprotectedHeaders"]["cborHex"].as_str().unwrap();
    let unprotected = hex(unprotected_hex);
    assert!(message.windows(unprotected.len()).any(|w| w == unprotected));

    // Parsing reads the attributes back; without an x5chain it is no verifiable envelope.
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &expected).unwrap_err(),
        EnvelopeError::MissingCertificateChain
    );
}

// ---- round trips --------------------------------------------------------------------------------------------------

#[test]
fn sign_parse_verify_round_trips() {
    let mut count = 0;
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        for (kind, alg) in [
            (KeyKind::P256, SignatureAlgorithm::Es256),
            (KeyKind::P384, SignatureAlgorithm::Es384),
            (KeyKind::Ed25519, SignatureAlgorithm::EdDsa),
        ] {
            for scheme in [SigningScheme::X509, SigningScheme::X509SigningAuthority] {
                let k = key(kind);
                let cert = fake_cert(&k);
                let mut req = request(format);
                req.signing_scheme = scheme;
                req.extended.push(ExtendedAttribute { key: "note".into(), value: "hi <&>".into(), critical: false });
                let bytes = sign(&req, &k, core::slice::from_ref(&cert)).unwrap();
                let envelope = ParsedEnvelope::parse(format, &bytes).unwrap();
                assert_eq!(envelope.algorithm, alg);
                envelope.verify_signature(&k.public_key()).unwrap();
                envelope.verify_signature(&cert_key(&cert)).unwrap();
                assert_eq!(envelope.payload().unwrap(), payload());
                assert_eq!(envelope.payload_bytes(), payload().to_json());
                assert_eq!(envelope.signed(), &req.signed_attributes());
                assert_eq!(envelope.unsigned().signing_agent.as_deref(), Some("nv2/test"));
                assert_eq!(envelope.certificate_chain(), core::slice::from_ref(&cert));

                // Attaching a timestamp token keeps every signed byte.
                let stamped =
                    ParsedEnvelope::parse(format, &envelope.with_timestamp(vec![0x30, 0x00]).unwrap()).unwrap();
                stamped.verify_signature(&k.public_key()).unwrap();
                assert_eq!(stamped.signature(), envelope.signature());
                assert_eq!(stamped.signing_input(), envelope.signing_input());
                assert_eq!(stamped.unsigned().timestamp_signature.as_deref(), Some(&[0x30, 0x00][..]));
                count += 1;
            }
        }
    }
    assert_eq!(count, 12);
}

#[test]
fn jws_output_looks_like_notation() {
    let (_, bytes) = signed(EnvelopeFormat::Jws, KeyKind::P256);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with(r#"{"payload":""#), "{text}");
    let order = ["\"payload\"", "\"protected\"", "\"header\"", "\"x5c\"", SIGNING_AGENT, "\"signature\""];
    let positions: Vec<_> = order.iter().map(|m| text.find(m).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    let envelope = ParsedEnvelope::parse(EnvelopeFormat::Jws, text.as_bytes()).unwrap();
    let protected = Base64UrlUnpadded::decode_vec(core::str::from_utf8(&envelope.parts.protected).unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(protected).unwrap(),
        r#"{"alg":"ES256","crit":["io.cncf.notary.signingScheme","io.cncf.notary.expiry"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.expiry":"2023-11-14T23:13:20Z","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"2023-11-14T22:13:20Z"}"#
    );
}

#[test]
fn cose_output_is_canonical_and_accepts_bare_x5chain() {
    let (k, bytes) = signed(EnvelopeFormat::Cose, KeyKind::P256);
    assert_eq!(&bytes[..2], [0xd2, 0x84]);
    let envelope = ParsedEnvelope::parse(EnvelopeFormat::Cose, &bytes).unwrap();
    // Re-encoding the received protected map canonically changes nothing.
    let protected = cbor::decode(&envelope.parts.protected, "t").unwrap();
    let Cbor::Map(entries) = protected else { panic!() };
    assert_eq!(cbor::encode(&cbor::canonical_map(entries).unwrap()).unwrap(), envelope.parts.protected);

    // x5chain as one bare bstr (allowed by RFC 9360) is read as a one-certificate chain.
    let body = payload().to_json();
    let signature = envelope.signature().to_vec();
    let message = Cbor::Tag(
        18,
        Box::new(Cbor::Array(vec![
            Cbor::Bytes(envelope.parts.protected.clone()),
            Cbor::Map(vec![(Cbor::Integer(33.into()), Cbor::Bytes(fake_cert(&k)))]),
            Cbor::Bytes(body),
            Cbor::Bytes(signature),
        ])),
    );
    let bare = ParsedEnvelope::parse(EnvelopeFormat::Cose, &cbor::encode(&message).unwrap()).unwrap();
    bare.verify_signature(&k.public_key()).unwrap();
    assert_eq!(bare.certificate_chain().len(), 1);
}

// ---- attacks and malformed input ----------------------------------------------------------------------------------

#[test]
fn jws_refuses_none_hs256_and_unknown_algorithms() {
    let k = key(KeyKind::P256);
    for alg in ["none", "HS256", "RS256", "es256"] {
        let bytes = jws_with_protected(
            &k,
            &format!(r#"{{"alg":"{alg}","crit":["io.cncf.notary.signingScheme"],{GOOD_HEADER}}}"#),
        );
        assert_eq!(
            ParsedEnvelope::parse(EnvelopeFormat::Jws, &bytes).unwrap_err(),
            EnvelopeError::UnsupportedAlgorithm { alg: alg.into() }
        );
    }
    let bytes = jws_with_protected(&k, &format!(r#"{{"crit":["io.cncf.notary.signingScheme"],{GOOD_HEADER}}}"#));
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &bytes).unwrap_err(),
        EnvelopeError::MissingAttribute { name: "alg" }
    );
    // The same header with ES256 is accepted: the refusals above are about the algorithm alone.
    let bytes =
        jws_with_protected(&k, &format!(r#"{{"alg":"ES256","crit":["io.cncf.notary.signingScheme"],{GOOD_HEADER}}}"#));
    ParsedEnvelope::parse(EnvelopeFormat::Jws, &bytes).unwrap().verify_signature(&k.public_key()).unwrap();
}

#[test]
fn cose_refuses_unknown_algorithms() {
    let k = key(KeyKind::P256);
    for alg in [-257, 5, 0] {
        let bytes = cose_with_protected(&k, {
            let mut e = cose_base_entries(alg);
            e[0].1 = Cbor::Integer(alg.into());
            e
        });
        assert_eq!(
            ParsedEnvelope::parse(EnvelopeFormat::Cose, &bytes).unwrap_err(),
            EnvelopeError::UnsupportedAlgorithm { alg: alg.to_string() }
        );
    }
    let mut entries = cose_base_entries(-7);
    entries[0].1 = Cbor::Text("ES256".into());
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_with_protected(&k, entries)),
        Err(EnvelopeError::UnsupportedAlgorithm { .. })
    ));
    let ok = cose_with_protected(&k, cose_base_entries(-7));
    ParsedEnvelope::parse(EnvelopeFormat::Cose, &ok).unwrap().verify_signature(&k.public_key()).unwrap();
}

#[test]
fn algorithm_must_match_the_key() {
    let p384 = key(KeyKind::P384).public_key();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let (_, bytes) = signed(format, KeyKind::P256);
        let envelope = ParsedEnvelope::parse(format, &bytes).unwrap();
        assert_eq!(envelope.algorithm, SignatureAlgorithm::Es256);
        assert_eq!(
            envelope.verify_signature(&p384),
            Err(EnvelopeError::AlgorithmKeyMismatch { alg: SignatureAlgorithm::Es256, key: "P-384".into() })
        );
        // Right algorithm, wrong key of the same type.
        let other = SigningKey::from_seed(KeyKind::P256, &[9u8; 32]).unwrap();
        assert_eq!(envelope.verify_signature(&other.public_key()), Err(EnvelopeError::SignatureInvalid));
        // Signing refuses a chain whose leaf is not the signing key.
        let k = key(KeyKind::P256);
        assert!(matches!(
            sign(&request(format), &k, &[fake_cert(&key(KeyKind::P384))]),
            Err(EnvelopeError::AlgorithmKeyMismatch { .. })
        ));
        assert_eq!(sign(&request(format), &k, &[fake_cert(&other)]), Err(EnvelopeError::ChainDoesNotMatchKey));
        assert_eq!(sign(&request(format), &k, &[]), Err(EnvelopeError::MissingCertificateChain));
        assert!(matches!(sign(&request(format), &k, &[vec![1, 2, 3]]), Err(EnvelopeError::Certificate { .. })));
    }
    // An ES384 header verified with a P-256 key: refused before any cryptography.
    let (_, bytes) = signed(EnvelopeFormat::Jws, KeyKind::P384);
    let envelope = ParsedEnvelope::parse(EnvelopeFormat::Jws, &bytes).unwrap();
    assert!(matches!(
        envelope.verify_signature(&key(KeyKind::P256).public_key()),
        Err(EnvelopeError::AlgorithmKeyMismatch { alg: SignatureAlgorithm::Es384, .. })
    ));
}

#[test]
fn unknown_critical_attribute_is_parsed_and_exposed() {
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let k = key(KeyKind::P256);
        let mut req = request(format);
        req.extended.push(ExtendedAttribute {
            key: "com.example.mustUnderstand".into(),
            value: 1.into(),
            critical: true,
        });
        let bytes = sign(&req, &k, &[fake_cert(&k)]).unwrap();
        // Parsing keeps it; the verification pipeline refuses it unless a plugin processes it.
        let parsed = ParsedEnvelope::parse(format, &bytes).unwrap();
        let critical: Vec<&str> = parsed.signed().critical_extended().map(|a| a.key.as_str()).collect();
        assert_eq!(critical, ["com.example.mustUnderstand"]);
        // With a verification plugin named, it is kept for the plugin to process.
        req.verification_plugin = Some("com.example.plugin".into());
        req.verification_plugin_min_version = Some("1.0.0".into());
        let bytes = sign(&req, &k, &[fake_cert(&k)]).unwrap();
        let envelope = ParsedEnvelope::parse(format, &bytes).unwrap();
        envelope.verify_signature(&k.public_key()).unwrap();
        assert_eq!(envelope.signed().verification_plugin_min_version.as_deref(), Some("1.0.0"));
        assert_eq!(envelope.signed().critical_extended().count(), 1);
    }
}

#[test]
fn crit_must_list_scheme_and_expiry() {
    let k = key(KeyKind::P256);
    let missing_scheme = jws_with_protected(
        &k,
        &format!(
            r#"{{"alg":"ES256","crit":["io.cncf.notary.expiry"],"io.cncf.notary.expiry":"2099-01-01T00:00:00Z",{GOOD_HEADER}}}"#
        ),
    );
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &missing_scheme).unwrap_err(),
        EnvelopeError::MissingCritical { name: SIGNING_SCHEME.into() }
    );
    let missing_expiry = jws_with_protected(
        &k,
        &format!(
            r#"{{"alg":"ES256","crit":["io.cncf.notary.signingScheme"],"io.cncf.notary.expiry":"2099-01-01T00:00:00Z",{GOOD_HEADER}}}"#
        ),
    );
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &missing_expiry).unwrap_err(),
        EnvelopeError::MissingCritical { name: EXPIRY.into() }
    );
    let no_crit = jws_with_protected(&k, &format!(r#"{{"alg":"ES256",{GOOD_HEADER}}}"#));
    assert_eq!(ParsedEnvelope::parse(EnvelopeFormat::Jws, &no_crit).unwrap_err(), EnvelopeError::CritAbsent);
    let ghost = jws_with_protected(
        &k,
        &format!(r#"{{"alg":"ES256","crit":["io.cncf.notary.signingScheme","ghost"],{GOOD_HEADER}}}"#),
    );
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &ghost).unwrap_err(),
        EnvelopeError::CriticalNotPresent { name: "ghost".into() }
    );

    // COSE: expiry present but not critical.
    let mut entries = cose_base_entries(-7);
    entries.push((Cbor::Text(EXPIRY.into()), Cbor::Tag(1, Box::new(Cbor::Integer((T0.unix() + 10).into())))));
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_with_protected(&k, entries)).unwrap_err(),
        EnvelopeError::MissingCritical { name: EXPIRY.into() }
    );
    let mut entries = cose_base_entries(-7);
    entries[1].1 = Cbor::Array(vec![]);
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_with_protected(&k, entries)).unwrap_err(),
        EnvelopeError::CritAbsent
    );
}

#[test]
fn expiry_must_follow_signing_time() {
    let k = key(KeyKind::P256);
    let early = jws_with_protected(
        &k,
        &format!(
            r#"{{"alg":"ES256","crit":["io.cncf.notary.signingScheme","io.cncf.notary.expiry"],"io.cncf.notary.expiry":"2023-11-14T22:13:19Z",{GOOD_HEADER}}}"#
        ),
    );
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &early),
        Err(EnvelopeError::ExpiryNotAfterSigningTime { .. })
    ));
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let mut req = request(format);
        req.expiry = Some(T0);
        assert!(matches!(sign(&req, &k, &[fake_cert(&k)]), Err(EnvelopeError::ExpiryNotAfterSigningTime { .. })));
    }
    // signingTime with signingAuthority is refused in COSE too.
    let mut entries = cose_base_entries(-7);
    entries[3].1 = Cbor::Text("notary.x509.signingAuthority".into());
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_with_protected(&k, entries)),
        Err(EnvelopeError::SchemeRuleViolation { .. })
    ));
}

#[test]
fn tampered_payload_fails() {
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let (k, bytes) = signed(format, KeyKind::P256);
        let envelope = ParsedEnvelope::parse(format, &bytes).unwrap();
        let mut body = envelope.payload_bytes().to_vec();
        body[20] ^= 0x01;
        let tampered = match format {
            EnvelopeFormat::Jws => edit_jws(&bytes, |o| {
                o.insert("payload".into(), Base64UrlUnpadded::encode_string(&body).into());
            }),
            EnvelopeFormat::Cose => cose::write_envelope(
                &envelope.parts.protected,
                &body,
                envelope.signature(),
                envelope.certificate_chain(),
                envelope.unsigned(),
            )
            .unwrap(),
        };
        let parsed = ParsedEnvelope::parse(format, &tampered).unwrap();
        assert_eq!(parsed.payload_bytes(), body);
        assert_eq!(parsed.verify_signature(&k.public_key()), Err(EnvelopeError::SignatureInvalid));
    }
}

#[test]
fn jws_base64_must_be_unpadded_url_safe() {
    let (_, bytes) = signed(EnvelopeFormat::Jws, KeyKind::P256);
    for (member, what) in [("payload", "payload"), ("protected", "protected"), ("signature", "signature")] {
        let padded = edit_jws(&bytes, |o| {
            let text = o[member].as_str().unwrap().to_owned();
            o.insert(member.into(), (text + "=").into());
        });
        assert_eq!(ParsedEnvelope::parse(EnvelopeFormat::Jws, &padded).unwrap_err(), EnvelopeError::BadBase64 { what });
    }
    let standard_alphabet = edit_jws(&bytes, |o| {
        let text = o["signature"].as_str().unwrap().replace('-', "+").replace('_', "/") + "+";
        o.insert("signature".into(), text.into());
    });
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &standard_alphabet),
        Err(EnvelopeError::BadBase64 { .. })
    ));
    // Non-zero trailing bits (a second spelling of the same bytes) are refused too.
    let signature_text =
        serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()["signature"].as_str().unwrap().to_owned();
    assert_ne!(signature_text.len() % 4, 0, "an ES256 signature (64 bytes) leaves trailing bits");
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let last = alphabet.find(signature_text.chars().last().unwrap()).unwrap();
    let respelled = format!("{}{}", &signature_text[..signature_text.len() - 1], &alphabet[last + 1..last + 2]);
    assert!(matches!(
        ParsedEnvelope::parse(
            EnvelopeFormat::Jws,
            &edit_jws(&bytes, |o| {
                o.insert("signature".into(), respelled.into());
            })
        ),
        Err(EnvelopeError::BadBase64 { what: "signature" })
    ));
    let bad_x5c = edit_jws(&bytes, |o| {
        o["header"]["x5c"][0] = "not base64!".into();
    });
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &bad_x5c).unwrap_err(),
        EnvelopeError::BadBase64 { what: "x5c" }
    );
}

#[test]
fn jws_duplicates_and_extra_members_are_refused() {
    let k = key(KeyKind::P256);
    let duplicate_alg = jws_with_protected(
        &k,
        &format!(r#"{{"alg":"ES256","alg":"ES256","crit":["io.cncf.notary.signingScheme"],{GOOD_HEADER}}}"#),
    );
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &duplicate_alg),
        Err(EnvelopeError::DuplicateKey { .. })
    ));
    let duplicate_scheme = jws_with_protected(
        &k,
        &format!(
            r#"{{"alg":"ES256","crit":["io.cncf.notary.signingScheme"],{GOOD_HEADER},"io.cncf.notary.signingScheme":"notary.x509.signingAuthority"}}"#
        ),
    );
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &duplicate_scheme),
        Err(EnvelopeError::DuplicateKey { .. })
    ));

    let (_, bytes) = signed(EnvelopeFormat::Jws, KeyKind::P256);
    let extra = edit_jws(&bytes, |o| {
        o.insert("signatures".into(), serde_json::Value::Array(vec![]));
    });
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &extra).unwrap_err(),
        EnvelopeError::UnexpectedMember { name: "signatures".into() }
    );
    let missing = edit_jws(&bytes, |o| {
        o.remove("header");
    });
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &missing).unwrap_err(),
        EnvelopeError::MissingMember { name: "header" }
    );
    let text = String::from_utf8(bytes.clone()).unwrap();
    let doubled = text.replacen("{\"payload\":", "{\"payload\":\"e30\",\"payload\":", 1);
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, doubled.as_bytes()),
        Err(EnvelopeError::DuplicateKey { .. })
    ));
    let no_chain = edit_jws(&bytes, |o| {
        o["header"].as_object_mut().unwrap().remove("x5c");
    });
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &no_chain).unwrap_err(),
        EnvelopeError::MissingCertificateChain
    );
    let long_chain = edit_jws(&bytes, |o| {
        let cert = o["header"]["x5c"][0].clone();
        o["header"]["x5c"] = serde_json::Value::Array(vec![cert; 17]);
    });
    assert_eq!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, &long_chain).unwrap_err(),
        EnvelopeError::ChainTooLong { count: 17 }
    );
    // A hostile flat array of a million values is refused before it is built.
    let wide = format!("{{\"payload\":[{}0]}}", "0,".repeat(1_000_000));
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Jws, wide.as_bytes()),
        Err(EnvelopeError::TooComplex { .. })
    ));
}

#[test]
fn cose_structure_is_enforced() {
    let (k, bytes) = signed(EnvelopeFormat::Cose, KeyKind::P256);
    // Without tag 18 (the untagged COSE_Sign1 array), and under another tag.
    assert_eq!(bytes[0], 0xd2);
    assert_eq!(ParsedEnvelope::parse(EnvelopeFormat::Cose, &bytes[1..]).unwrap_err(), EnvelopeError::MissingCoseTag);
    let mut cose_sign = vec![0xd8, 0x62];
    cose_sign.extend_from_slice(&bytes[1..]);
    assert_eq!(ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_sign).unwrap_err(), EnvelopeError::MissingCoseTag);
    // Trailing bytes.
    let mut trailing = bytes.clone();
    trailing.push(0x00);
    assert!(matches!(ParsedEnvelope::parse(EnvelopeFormat::Cose, &trailing), Err(EnvelopeError::Malformed { .. })));
    // Time without tag 1.
    let mut entries = cose_base_entries(-7);
    entries[4].1 = Cbor::Integer(T0.unix().into());
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_with_protected(&k, entries)),
        Err(EnvelopeError::Malformed { .. })
    ));
    // Duplicate label in the protected header.
    let mut entries = cose_base_entries(-7);
    entries.push((Cbor::Integer(1.into()), Cbor::Integer((-7).into())));
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_with_protected(&k, entries)),
        Err(EnvelopeError::DuplicateKey { .. })
    ));
    // Wrong content type.
    let mut entries = cose_base_entries(-7);
    entries[2].1 = Cbor::Text("application/json".into());
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cose_with_protected(&k, entries)),
        Err(EnvelopeError::ContentTypeMismatch { .. })
    ));
    // Detached payload.
    let envelope = ParsedEnvelope::parse(EnvelopeFormat::Cose, &bytes).unwrap();
    let detached = Cbor::Tag(
        18,
        Box::new(Cbor::Array(vec![
            Cbor::Bytes(envelope.parts.protected.clone()),
            Cbor::Map(vec![(Cbor::Integer(33.into()), Cbor::Array(vec![Cbor::Bytes(fake_cert(&k))]))]),
            Cbor::Null,
            Cbor::Bytes(envelope.signature().to_vec()),
        ])),
    );
    assert!(matches!(
        ParsedEnvelope::parse(EnvelopeFormat::Cose, &cbor::encode(&detached).unwrap()),
        Err(EnvelopeError::Malformed { .. })
    ));
}

#[test]
fn oversized_input_is_refused_fast() {
    let huge = vec![b'{'; 40 * 1024 * 1024];
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let started = std::time::Instant::now();
        assert_eq!(
            ParsedEnvelope::parse(format, &huge).unwrap_err(),
            EnvelopeError::TooLarge { size: huge.len(), limit: MAX_ENVELOPE_BYTES }
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
    }
}

#[test]
fn format_names() {
    assert_eq!(EnvelopeFormat::Jws.media_type(), "application/jose+json");
    assert_eq!(EnvelopeFormat::Cose.media_type(), "application/cose");
    assert_eq!(EnvelopeFormat::from_media_type("application/cose"), Some(EnvelopeFormat::Cose));
    assert_eq!(EnvelopeFormat::from_media_type("application/json"), None);
    assert_eq!(EnvelopeFormat::Jws.file_suffix(), ".jws.sig");
    assert_eq!(EnvelopeFormat::Cose.file_suffix(), ".cose.sig");
}
