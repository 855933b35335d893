//! Property tests for nv2-core round trips: what nv2 signs verifies (JWS and COSE, P-256, P-384 and Ed25519), no
//! single-byte change of an envelope still verifies for the signed artifact, and every text form nv2 prints
//! (timestamps, digests, references) parses back to the same value. Trust policies assembled from valid parts parse.

use der::asn1::{BitString, ObjectIdentifier as Oid, OctetString, UtcTime};
use der::{Decode, Encode};
use nv2_core::crypto::{KeyKind, SigningKey};
use nv2_core::envelope::{EnvelopeFormat, ParsedEnvelope};
use nv2_core::oci::{Descriptor, Digest, DigestAlgorithm, Reference};
use nv2_core::sign::{sign_artifact, SignOptions};
use nv2_core::time::Timestamp;
use nv2_core::trust::{BlobTrustPolicyDocument, StoreRef, TrustPolicyDocument, TrustStores};
use nv2_core::verify::{self, Decision, SignatureInput, Target, VerifyOptions};
use nv2_core::x509::Certificate;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::str::FromStr;
use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage, KeyUsages};

// ---- a self-signed code-signing certificate for a key ---------------------------------------------------------

/// Certificates in these tests are valid over [2000-01-01, 2049-12-31]; signing times and "now" fall inside.
const NOT_BEFORE: i64 = 946_684_800;
const NOT_AFTER: i64 = 2_524_607_999;

fn extension(oid: &str, critical: bool, value: &impl Encode) -> x509_cert::ext::Extension {
    x509_cert::ext::Extension {
        extn_id: Oid::new_unwrap(oid),
        critical,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    }
}

/// A self-signed leaf certificate (keyUsage digitalSignature, EKU codeSigning) for `key`: a one-certificate chain
/// that a `ca` trust store holding it accepts.
fn self_signed(key: &SigningKey) -> Certificate {
    let algorithm = spki::AlgorithmIdentifierOwned {
        oid: Oid::new_unwrap(match key.kind() {
            KeyKind::P256 => "1.2.840.10045.4.3.2",
            KeyKind::P384 => "1.2.840.10045.4.3.3",
            KeyKind::Ed25519 => "1.3.101.112",
        }),
        parameters: None,
    };
    let name = x509_cert::name::Name::from_str("CN=nv2 property,O=Notary,ST=WA,C=US").unwrap();
    let time = |secs: i64| {
        x509_cert::time::Time::UtcTime(
            UtcTime::from_unix_duration(std::time::Duration::from_secs(secs as u64)).unwrap(),
        )
    };
    let tbs = x509_cert::TbsCertificate {
        version: x509_cert::Version::V3,
        serial_number: x509_cert::serial_number::SerialNumber::from(7u32),
        signature: algorithm.clone(),
        issuer: name.clone(),
        validity: x509_cert::time::Validity { not_before: time(NOT_BEFORE), not_after: time(NOT_AFTER) },
        subject: name,
        subject_public_key_info: spki::SubjectPublicKeyInfoOwned::from_der(&key.public_key_spki_der().unwrap())
            .unwrap(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(vec![
            extension("2.5.29.15", true, &KeyUsage(KeyUsages::DigitalSignature.into())),
            extension("2.5.29.37", false, &ExtendedKeyUsage(vec![Oid::new_unwrap("1.3.6.1.5.5.7.3.3")])),
        ]),
    };
    let signature = key.sign_der(&tbs.to_der().unwrap());
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::new(0, signature).unwrap(),
    };
    Certificate::from_der(&cert.to_der().unwrap()).unwrap()
}

/// One key and certificate per kind, built once (key generation and certificate signing are the slow part).
fn signer(kind: KeyKind) -> (&'static SigningKey, &'static Certificate) {
    use std::sync::OnceLock;
    static SIGNERS: OnceLock<Vec<(KeyKind, SigningKey, Certificate)>> = OnceLock::new();
    let signers = SIGNERS.get_or_init(|| {
        [KeyKind::P256, KeyKind::P384, KeyKind::Ed25519]
            .into_iter()
            .enumerate()
            .map(|(n, kind)| {
                let seed: Vec<u8> =
                    (0..kind.seed_len()).map(|i| (i as u8).wrapping_mul(31).wrapping_add(n as u8 + 1)).collect();
                let key = SigningKey::from_seed(kind, &seed).unwrap();
                let cert = self_signed(&key);
                (kind, key, cert)
            })
            .collect()
    });
    let (_, key, cert) = signers.iter().find(|(k, _, _)| *k == kind).unwrap();
    (key, cert)
}

const POLICY: &str = r#"{"version":"1.0","trustPolicies":[{"name":"prop","registryScopes":["*"],
"signatureVerification":{"level":"strict"},"trustStores":["ca:prop"],"trustedIdentities":["*"]}]}"#;

fn stores(cert: &Certificate) -> TrustStores {
    let mut stores = TrustStores::new();
    stores.add(StoreRef::parse("ca:prop").unwrap(), [cert.clone()]).unwrap();
    stores
}

// ---- strategies -------------------------------------------------------------------------------------------------

fn key_kind() -> impl Strategy<Value = KeyKind> {
    prop_oneof![Just(KeyKind::P256), Just(KeyKind::P384), Just(KeyKind::Ed25519)]
}

fn format() -> impl Strategy<Value = EnvelopeFormat> {
    prop_oneof![Just(EnvelopeFormat::Jws), Just(EnvelopeFormat::Cose)]
}

fn digest_algorithm() -> impl Strategy<Value = DigestAlgorithm> {
    prop_oneof![Just(DigestAlgorithm::Sha256), Just(DigestAlgorithm::Sha512)]
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A descriptor of some artifact: any of the usual media types, a well-formed digest, any JSON-safe size.
fn descriptor() -> impl Strategy<Value = Descriptor> {
    let media_type = prop_oneof![
        Just("application/vnd.oci.image.manifest.v1+json"),
        Just("application/vnd.oci.image.index.v1+json"),
        Just("application/vnd.docker.distribution.manifest.v2+json"),
        Just("application/octet-stream"),
    ];
    (media_type, digest_algorithm(), prop::collection::vec(any::<u8>(), 64), 0u64..(1u64 << 53)).prop_map(
        |(media_type, algorithm, bytes, size)| {
            let len = algorithm.hex_len() / 2;
            let digest = Digest::parse(&format!("{}:{}", algorithm.name(), hex_of(&bytes[..len]))).unwrap();
            Descriptor::new(media_type, digest, size)
        },
    )
}

/// User metadata as `notation sign -m` would attach it (keys and values are free text, keys non-empty).
fn annotations() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map("[a-zA-Z][a-zA-Z0-9._-]{0,20}", "[ -~\u{e9}\u{4e2d}]{0,24}", 0..4)
}

/// (signing time, optional expiry, now) with now after signing and before expiry, all inside certificate validity.
fn times() -> impl Strategy<Value = (Timestamp, Option<Timestamp>, Timestamp)> {
    (NOT_BEFORE..NOT_AFTER - 20_000_000, prop::option::of(2i64..10_000_000), 0i64..1_000_000).prop_map(
        |(signing, expiry, elapsed)| {
            let signing_time = Timestamp::from_unix(signing);
            let expiry_time = expiry.map(|e| signing_time.saturating_add(e));
            let now = match expiry {
                Some(e) => signing_time.saturating_add(elapsed % (e - 1)),
                None => signing_time.saturating_add(elapsed),
            };
            (signing_time, expiry_time, now)
        },
    )
}

struct Signed {
    target: Target,
    manifest: Vec<u8>,
    envelope: Vec<u8>,
    format: EnvelopeFormat,
    now: Timestamp,
    cert: Certificate,
}

fn sign(
    kind: KeyKind,
    format: EnvelopeFormat,
    descriptor: &Descriptor,
    metadata: BTreeMap<String, String>,
    (signing_time, expiry, now): (Timestamp, Option<Timestamp>, Timestamp),
    signing_agent: &str,
) -> Signed {
    let (key, cert) = signer(kind);
    let options =
        SignOptions { format, signing_time, expiry, user_metadata: metadata, signing_agent: signing_agent.to_string() };
    let signed = sign_artifact(descriptor, key, std::slice::from_ref(cert), &options).unwrap();
    let target = Target::Manifest {
        media_type: descriptor.media_type.clone(),
        digest: descriptor.digest.to_string(),
        size: descriptor.size,
    };
    Signed { target, manifest: signed.manifest, envelope: signed.envelope, format, now, cert: cert.clone() }
}

fn decision(signed: &Signed, manifest: Option<&[u8]>, envelope: &[u8]) -> Decision {
    let document = TrustPolicyDocument::parse(POLICY.as_bytes()).unwrap();
    let statement = &document.statements[0].rules;
    let input = SignatureInput { manifest, envelope, format: Some(signed.format) };
    let options = VerifyOptions::at(signed.now);
    verify::verify(&signed.target, &[input], statement, &stores(&signed.cert), &options).decision
}

fn is_verified(decision: &Decision) -> bool {
    matches!(decision, Decision::Verified { .. })
}

// ---- signing round trips ----------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// What nv2 signs parses, verifies with the certificate's key, carries the signed descriptor and metadata, and
    /// passes the whole pipeline both with its signature manifest and as a detached envelope.
    #[test]
    fn signed_envelopes_verify(
        kind in key_kind(),
        format in format(),
        descriptor in descriptor(),
        metadata in annotations(),
        times in times(),
    ) {
        let signed = sign(kind, format, &descriptor, metadata.clone(), times, "nv2/prop");
        let parsed = ParsedEnvelope::parse(format, &signed.envelope).unwrap();
        parsed.verify_signature(&signed.cert.public_key().unwrap()).unwrap();
        let payload = parsed.payload().unwrap();
        prop_assert_eq!(&payload.target_artifact.media_type, &descriptor.media_type);
        prop_assert_eq!(&payload.target_artifact.digest, &descriptor.digest.to_string());
        prop_assert_eq!(payload.target_artifact.size, descriptor.size);
        prop_assert_eq!(&payload.target_artifact.annotations, &metadata);
        prop_assert_eq!(parsed.signed().expiry, times.1);
        let with_manifest = decision(&signed, Some(&signed.manifest), &signed.envelope);
        prop_assert!(is_verified(&with_manifest), "with its manifest: {:?}", with_manifest);
        let detached = decision(&signed, None, &signed.envelope);
        prop_assert!(is_verified(&detached), "detached: {:?}", detached);
    }

    /// Changing any one byte of the envelope, to any other value, never leaves a signature that verifies for the
    /// signed artifact (checked through the whole pipeline, without the manifest so only the envelope is judged).
    /// The envelopes carry no signing agent: that one is unprotected by specification (JWS `header`, COSE
    /// unprotected map), so changing it legitimately keeps the signature valid.
    #[test]
    fn single_byte_changes_never_verify(
        kind in key_kind(),
        format in format(),
        descriptor in descriptor(),
        metadata in annotations(),
        times in times(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 12),
    ) {
        let signed = sign(kind, format, &descriptor, metadata, times, "");
        for (index, mask) in flips {
            let mut envelope = signed.envelope.clone();
            let at = index.index(envelope.len());
            envelope[at] ^= mask;
            let outcome = decision(&signed, None, &envelope);
            prop_assert!(
                !is_verified(&outcome),
                "byte {} ^ {:#04x} of a {:?} {:?} envelope still verifies", at, mask, kind, format
            );
        }
    }
}

/// The exhaustive version for one envelope per format: every byte position, flipped in its lowest bit (the change
/// most likely to survive lenient base64, CBOR or JSON decoding).
#[test]
fn every_low_bit_flip_fails_for_one_envelope_per_format() {
    let descriptor = Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        Digest::parse("sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0").unwrap(),
        481,
    );
    let metadata: BTreeMap<String, String> = [("k".to_string(), "v".to_string())].into_iter().collect();
    let t0 = Timestamp::from_unix(1_700_000_000);
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let signed =
            sign(KeyKind::Ed25519, format, &descriptor, metadata.clone(), (t0, Some(t0.saturating_add(3600)), t0), "");
        assert!(matches!(decision(&signed, None, &signed.envelope), Decision::Verified { .. }));
        for at in 0..signed.envelope.len() {
            let mut envelope = signed.envelope.clone();
            envelope[at] ^= 1;
            let outcome = decision(&signed, None, &envelope);
            assert!(!matches!(outcome, Decision::Verified { .. }), "{format:?}: byte {at} ^ 1 still verifies");
        }
    }
}

// ---- text round trips ------------------------------------------------------------------------------------------

fn reference_text() -> impl Strategy<Value = String> {
    let registry = prop_oneof![
        Just(String::from("docker.io/")),
        Just(String::from("docker.io/library/")),
        Just(String::from("ghcr.io/")),
        Just(String::from("localhost/")),
        Just(String::from("localhost:5000/")),
        Just(String::from("registry.example.com:443/")),
        Just(String::from("[::1]:5000/")),
    ];
    let component = "[a-z0-9]{1,6}([._-][a-z0-9]{1,4}){0,2}";
    let repository = prop::collection::vec(component, 1..4).prop_map(|parts| parts.join("/"));
    let tag = prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}");
    let digest = prop::option::of(prop::collection::vec(any::<u8>(), 32));
    (registry, repository, tag, digest)
        .prop_filter("a reference needs a tag or a digest", |(_, _, tag, digest)| tag.is_some() || digest.is_some())
        .prop_map(|(registry, repository, tag, digest)| {
            let mut text = format!("{registry}{repository}");
            if let Some(tag) = tag {
                text.push(':');
                text.push_str(&tag);
            }
            if let Some(digest) = digest {
                text.push_str("@sha256:");
                text.push_str(&hex_of(&digest));
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Every instant from year 1 to 9999 prints as RFC 3339 and parses back to itself; the civil form agrees.
    #[test]
    fn timestamps_round_trip(seconds in -62_135_596_800i64..253_402_300_800) {
        let at = Timestamp::from_unix(seconds);
        let text = at.to_rfc3339();
        prop_assert_eq!(Timestamp::parse_rfc3339(&text).unwrap(), at);
        let (year, month, day, hour, minute, second) = at.to_civil();
        prop_assert_eq!(Timestamp::from_civil(year, month, day, hour, minute, second), Some(at));
        prop_assert_eq!(text.len(), 20);
    }

    /// A timestamp with an offset denotes the same instant as its UTC form.
    #[test]
    fn timestamp_offsets_are_applied(seconds in 0i64..4_000_000_000, offset_minutes in -1439i32..=1439) {
        let at = Timestamp::from_unix(seconds);
        let local = at.saturating_add(i64::from(offset_minutes) * 60);
        let utc = local.to_rfc3339();
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let magnitude = offset_minutes.unsigned_abs();
        let text = format!("{}{sign}{:02}:{:02}", &utc[..19], magnitude / 60, magnitude % 60);
        prop_assert_eq!(Timestamp::parse_rfc3339(&text).unwrap(), at);
    }

    /// Digests print as `alg:hex` and parse back; computed digests do too.
    #[test]
    fn digests_round_trip(algorithm in digest_algorithm(), bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let digest = Digest::compute(algorithm, &bytes);
        let text = digest.to_string();
        prop_assert_eq!(Digest::parse(&text).unwrap(), digest.clone());
        prop_assert_eq!(text.len(), algorithm.name().len() + 1 + algorithm.hex_len());
        prop_assert!(digest.verify(&bytes).is_ok());
    }

    /// Well-formed references parse; the printed form parses to the same value and prints identically.
    #[test]
    fn references_round_trip(text in reference_text()) {
        let reference = Reference::parse(&text).unwrap();
        let printed = reference.to_string();
        let again = Reference::parse(&printed).unwrap();
        prop_assert_eq!(&again, &reference);
        prop_assert_eq!(again.to_string(), printed);
    }

    /// Whatever text parses as a reference (well-formed or not) prints to text that parses to the same value.
    #[test]
    fn any_parsed_reference_round_trips(text in "[a-zA-Z0-9.:/@_\\-\\[\\]]{1,60}") {
        if let Ok(reference) = Reference::parse(&text) {
            prop_assert_eq!(Reference::parse(&reference.to_string()).unwrap(), reference);
        }
    }
}

// ---- trust policies ----------------------------------------------------------------------------------------------

fn distinguished_name() -> impl Strategy<Value = String> {
    (
        "[A-Z]{2}",
        "[A-Za-z][A-Za-z ]{0,8}[A-Za-z]",
        "[A-Za-z][A-Za-z0-9 ]{0,10}[A-Za-z0-9]",
        prop::option::of("[a-z0-9.]{1,12}"),
    )
        .prop_map(|(c, st, o, cn)| match cn {
            Some(cn) => format!("C={c}, ST={st}, O={o}, CN={cn}"),
            None => format!("C={c}, ST={st}, O={o}"),
        })
}

/// The rules of one statement as JSON members (after `"name"`), valid for any level.
fn statement_rules() -> impl Strategy<Value = String> {
    let level = prop_oneof![Just("strict"), Just("permissive"), Just("audit"), Just("skip")];
    let stores = prop::collection::btree_set(
        ("(ca|signingAuthority)", "[a-zA-Z0-9_.-]{1,12}").prop_map(|(kind, name)| format!("\"{kind}:{name}\"")),
        1..3,
    );
    let identities = prop_oneof![
        Just(vec![String::from("\"*\"")]),
        prop::collection::btree_set(distinguished_name(), 1..3)
            .prop_map(|dns| dns.into_iter().map(|dn| format!("\"x509.subject: {dn}\"")).collect()),
    ];
    let revocation = prop::option::of(prop_oneof![Just("enforce"), Just("log"), Just("skip")]);
    let verify_timestamp = prop::option::of(prop_oneof![Just("always"), Just("afterCertExpiry")]);
    (level, stores, identities, revocation, verify_timestamp).prop_map(
        |(level, stores, identities, revocation, verify_timestamp)| {
            let mut verification = format!("\"level\":\"{level}\"");
            if level != "skip" {
                if let Some(action) = revocation {
                    verification.push_str(&format!(",\"override\":{{\"revocation\":\"{action}\"}}"));
                }
                if let Some(when) = verify_timestamp {
                    verification.push_str(&format!(",\"verifyTimestamp\":\"{when}\""));
                }
            }
            let mut rules = format!("\"signatureVerification\":{{{verification}}}");
            if level != "skip" {
                let stores: Vec<String> = stores.into_iter().collect();
                rules.push_str(&format!(
                    ",\"trustStores\":[{}],\"trustedIdentities\":[{}]",
                    stores.join(","),
                    identities.join(",")
                ));
            }
            rules
        },
    )
}

fn scope() -> impl Strategy<Value = String> {
    (
        "[a-z][a-z0-9]{0,6}(\\.[a-z][a-z0-9]{0,5}){0,2}",
        prop::option::of(1u16..65535),
        "[a-z0-9]{1,6}(/[a-z0-9]{1,6}){0,2}",
    )
        .prop_map(|(host, port, repository)| match port {
            Some(port) => format!("{host}:{port}/{repository}"),
            None => format!("{host}/{repository}"),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// An OCI trust policy assembled from valid statements (unique names, disjoint scopes, at most one global one)
    /// parses, keeps every statement, and selects each statement for its own scopes.
    #[test]
    fn valid_oci_policies_parse(
        statements in prop::collection::vec((statement_rules(), prop::collection::btree_set(scope(), 1..3)), 1..5),
        global in any::<bool>(),
    ) {
        // Statement 0 is global when `global`; every other statement keeps the scopes no earlier one took, and is
        // dropped when none are left.
        let mut seen = std::collections::BTreeSet::new();
        let mut members = Vec::new();
        let mut expected_scopes: Vec<(usize, Vec<String>)> = Vec::new();
        for (index, (rules, scopes)) in statements.iter().enumerate() {
            let (scope_list, plain) = if global && index == 0 {
                (vec![String::from("\"*\"")], Vec::new())
            } else {
                let fresh: Vec<String> = scopes.iter().filter(|s| seen.insert((*s).clone())).cloned().collect();
                if fresh.is_empty() {
                    continue;
                }
                (fresh.iter().map(|s| format!("\"{s}\"")).collect(), fresh)
            };
            members.push(format!(
                "{{\"name\":\"statement-{index}\",\"registryScopes\":[{}],{rules}}}",
                scope_list.join(",")
            ));
            expected_scopes.push((members.len() - 1, plain));
        }
        let document = format!("{{\"version\":\"1.0\",\"trustPolicies\":[{}]}}", members.join(","));
        let parsed = TrustPolicyDocument::parse(document.as_bytes());
        prop_assert!(parsed.is_ok(), "{} rejected: {:?}", document, parsed.err());
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.statements.len(), members.len());
        for (position, scopes) in &expected_scopes {
            for scope in scopes {
                let statement = parsed.statement_for(scope).unwrap();
                prop_assert_eq!(&statement.rules.name, &parsed.statements[*position].rules.name);
            }
        }
    }

    /// A blob trust policy assembled from valid statements (unique names, at most one global) parses, and the
    /// global statement is the one chosen without a name.
    #[test]
    fn valid_blob_policies_parse(statements in prop::collection::vec(statement_rules(), 1..5), global in prop::option::of(0usize..5)) {
        let members: Vec<String> = statements
            .iter()
            .enumerate()
            .map(|(index, rules)| {
                let global_policy = if global == Some(index) { ",\"globalPolicy\":true" } else { "" };
                format!("{{\"name\":\"blob-{index}\",{rules}{global_policy}}}")
            })
            .collect();
        let document = format!("{{\"version\":\"1.0\",\"trustPolicies\":[{}]}}", members.join(","));
        let parsed = BlobTrustPolicyDocument::parse(document.as_bytes());
        prop_assert!(parsed.is_ok(), "{} rejected: {:?}", document, parsed.err());
        let parsed = parsed.unwrap();
        prop_assert_eq!(parsed.statements.len(), members.len());
        match global.filter(|&g| g < members.len()) {
            Some(g) => prop_assert_eq!(&parsed.statement_for_blob(None).unwrap().rules.name, &format!("blob-{g}")),
            None => prop_assert!(parsed.statement_for_blob(None).is_err()),
        }
        for index in 0..members.len() {
            let name = format!("blob-{index}");
            prop_assert_eq!(&parsed.statement_for_blob(Some(&name)).unwrap().rules.name, &name);
        }
    }
}
