//! Generated hostile and edge-case inputs: each must be refused with the right error, and nothing may panic.

extern crate std;

use super::test_certificates::*;
use super::*;
use crate::crypto::KeyKind;
use crate::time::Timestamp;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use der::asn1::ObjectIdentifier as Oid;
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::KeyUsages;

const AT: fn() -> Timestamp = || t(2025);

/// Asserts that validation fails on certificate `index` with a rule matching `pred`.
fn assert_rule(result: Result<(), X509Error>, want_index: usize, pred: impl Fn(&ChainRule) -> bool) {
    match result {
        Err(X509Error::Chain { index, ref rule, .. }) if index == want_index && pred(rule) => {}
        other => panic!("expected a chain rule failure at {want_index}, got {other:?}"),
    }
}

fn code(chain: &[Certificate]) -> Result<(), X509Error> {
    validate_chain(chain, ChainPurpose::CodeSigning, Some(AT()))
}

#[test]
fn generated_valid_chain_passes_and_self_checks_hold() {
    let keys = keys();
    let chain = valid_chain(&keys);
    code(&chain).unwrap();
    validate_chain(&chain, ChainPurpose::CodeSigning, None).unwrap();
    assert!(chain[2].is_self_signed() && chain[2].is_self_issued() && chain[2].is_ca());
    assert!(!chain[0].is_self_signed() && !chain[0].is_self_issued() && !chain[0].is_ca());
    chain[0].verify_signed_by(&chain[1]).unwrap();
    assert_eq!(chain[0].verify_signed_by(&chain[2]), Err(X509Error::BadSignature));
    assert_eq!(chain[0].subject_string(), "CN=Test Leaf,O=Notary,ST=WA,C=US");
    assert_eq!(chain[0].issuer_string(), "CN=Test Intermediate,O=Notary,ST=WA,C=US");
    assert_eq!(chain[0].serial_hex(), "03e8");
    assert_eq!(chain[0].not_before(), t(2020));
    assert_eq!(chain[0].not_after(), t(2030));
    assert!(chain[0].is_valid_at(t(2030)) && !chain[0].is_valid_at(t(2030).saturating_add(1)));
    assert_eq!(chain[0].public_key().unwrap(), keys.leaf.public_key());
}

#[test]
fn leaf_with_ca_bit_is_refused() {
    let chain = chain_with(&keys(), |l| l.basic_constraints = Some((true, true, None)), |_| {}, |_| {});
    assert_rule(code(&chain), 0, |r| *r == ChainRule::LeafIsCa);
    // cA=false present is fine.
    let chain = chain_with(&keys(), |l| l.basic_constraints = Some((true, false, None)), |_| {}, |_| {});
    code(&chain).unwrap();
}

#[test]
fn leaf_with_forbidden_key_usages_is_refused() {
    let chain = chain_with(&keys(), |l| l.key_usage_extra = vec![KeyUsages::KeyCertSign], |_| {}, |_| {});
    assert_rule(code(&chain), 0, |r| *r == ChainRule::ForbiddenKeyUsage(String::from("keyCertSign")));
    let chain = chain_with(
        &keys(),
        |l| l.key_usage_extra = vec![KeyUsages::KeyEncipherment, KeyUsages::CRLSign],
        |_| {},
        |_| {},
    );
    assert_rule(code(&chain), 0, |r| *r == ChainRule::ForbiddenKeyUsage(String::from("keyEncipherment, cRLSign")));
    // nonRepudiation is allowed next to digitalSignature.
    let chain = chain_with(&keys(), |l| l.key_usage_extra = vec![KeyUsages::NonRepudiation], |_| {}, |_| {});
    code(&chain).unwrap();
    let chain = chain_with(&keys(), |l| l.key_usage = Some((true, KeyUsages::NonRepudiation)), |_| {}, |_| {});
    assert_rule(code(&chain), 0, |r| *r == ChainRule::DigitalSignatureMissing);
}

#[test]
fn key_usage_must_be_present_and_critical_for_code_signing() {
    let chain = chain_with(&keys(), |l| l.key_usage = Some((false, KeyUsages::DigitalSignature)), |_| {}, |_| {});
    assert_rule(code(&chain), 0, |r| *r == ChainRule::KeyUsageNotCritical);
    let chain = chain_with(&keys(), |l| l.key_usage = None, |_| {}, |_| {});
    assert_rule(code(&chain), 0, |r| *r == ChainRule::KeyUsageMissing);
    let chain = chain_with(&keys(), |_| {}, |i| i.key_usage = Some((false, KeyUsages::KeyCertSign)), |_| {});
    assert_rule(code(&chain), 1, |r| *r == ChainRule::KeyUsageNotCritical);
    let chain = chain_with(&keys(), |_| {}, |i| i.key_usage = Some((true, KeyUsages::CRLSign)), |_| {});
    assert_rule(code(&chain), 1, |r| *r == ChainRule::KeyCertSignMissing);
}

#[test]
fn wrong_extended_key_usage_is_refused() {
    let chain = chain_with(&keys(), |l| l.eku = Some((false, vec![EKU_SERVER_AUTH])), |_| {}, |_| {});
    assert_rule(code(&chain), 0, |r| *r == ChainRule::ForbiddenExtendedKeyUsage("serverAuth"));
    let chain =
        chain_with(&keys(), |l| l.eku = Some((false, vec![EKU_CODE_SIGNING, EKU_TIME_STAMPING])), |_| {}, |_| {});
    assert_rule(code(&chain), 0, |r| *r == ChainRule::ForbiddenExtendedKeyUsage("timeStamping"));
    // No EKU at all and anyExtendedKeyUsage are accepted (notation-core-go behaviour).
    code(&chain_with(&keys(), |l| l.eku = None, |_| {}, |_| {})).unwrap();
    let any_eku = Oid::new_unwrap("2.5.29.37.0");
    code(&chain_with(&keys(), |l| l.eku = Some((false, vec![any_eku])), |_| {}, |_| {})).unwrap();
}

#[test]
fn timestamping_leaf_needs_exactly_a_critical_time_stamping_eku() {
    let ts = |chain: &[Certificate]| validate_chain(chain, ChainPurpose::Timestamping, Some(AT()));
    let tsa = |l: &mut Spec| l.eku = Some((true, vec![EKU_TIME_STAMPING]));
    ts(&chain_with(&keys(), tsa, |_| {}, |_| {})).unwrap();
    // keyUsage need not be critical for TSA certificates.
    let chain = chain_with(
        &keys(),
        |l| {
            tsa(l);
            l.key_usage = Some((false, KeyUsages::DigitalSignature));
        },
        |i| i.key_usage = Some((false, KeyUsages::KeyCertSign)),
        |_| {},
    );
    ts(&chain).unwrap();
    let chain = chain_with(&keys(), |_| {}, |_| {}, |_| {});
    assert_rule(ts(&chain), 0, |r| *r == ChainRule::TimestampingUsageMissing);
    let chain = chain_with(&keys(), |l| l.eku = None, |_| {}, |_| {});
    assert_rule(ts(&chain), 0, |r| *r == ChainRule::TimestampingUsageMissing);
    let chain =
        chain_with(&keys(), |l| l.eku = Some((true, vec![EKU_TIME_STAMPING, EKU_CODE_SIGNING])), |_| {}, |_| {});
    assert_rule(ts(&chain), 0, |r| *r == ChainRule::TimestampingUsageMissing);
    let chain = chain_with(&keys(), |l| l.eku = Some((false, vec![EKU_TIME_STAMPING])), |_| {}, |_| {});
    assert_rule(ts(&chain), 0, |r| *r == ChainRule::ExtendedKeyUsageNotCritical);
    let chain = chain_with(&keys(), |l| l.key_usage = None, |_| {}, |_| {});
    assert_rule(ts(&chain), 0, |r| *r == ChainRule::KeyUsageMissing);
}

#[test]
fn self_signed_intermediate_is_refused() {
    let keys = keys();
    let mut chain = valid_chain(&keys);
    // Same subject and key as the real intermediate, but signed by itself.
    chain[1] = build(&Spec::ca(INTERMEDIATE, INTERMEDIATE), &keys.intermediate, &keys.intermediate);
    assert_rule(code(&chain), 1, |r| *r == ChainRule::SelfSignedIntermediate);
    // A duplicated root at the end is an extra self-signed "intermediate".
    let mut chain = valid_chain(&keys);
    chain.push(chain[2].clone());
    assert_rule(code(&chain), 2, |r| *r == ChainRule::SelfSignedIntermediate);
}

#[test]
fn self_signed_leaf_is_allowed_alone_only() {
    let keys = keys();
    let lone = build(&Spec::leaf(LEAF, LEAF), &keys.leaf, &keys.leaf);
    code(core::slice::from_ref(&lone)).unwrap();
    let chain = vec![lone, valid_chain(&keys)[2].clone()];
    assert_rule(code(&chain), 0, |r| *r == ChainRule::SelfSignedLeaf);
    // A lone root CA is held to the leaf rules and so refused.
    let root = valid_chain(&keys)[2].clone();
    assert_rule(code(core::slice::from_ref(&root)), 0, |r| *r == ChainRule::LeafIsCa);
    // A lone certificate that is self-issued but signed by another key is not self-signed.
    let forged = build(&Spec::leaf(LEAF, LEAF), &keys.leaf, &keys.root);
    assert_rule(code(&[forged]), 0, |r| *r == ChainRule::RootNotSelfSigned);
}

#[test]
fn truncated_chain_is_refused() {
    let keys = keys();
    let chain = valid_chain(&keys);
    assert_rule(code(&chain[..2]), 1, |r| *r == ChainRule::RootNotSelfSigned);
    assert_rule(code(&chain[..1]), 0, |r| *r == ChainRule::RootNotSelfSigned);
    assert_eq!(code(&[]), Err(X509Error::EmptyChain));
}

#[test]
fn out_of_order_chain_is_refused() {
    let chain = valid_chain(&keys());
    let swapped = vec![chain[0].clone(), chain[2].clone(), chain[1].clone()];
    assert_rule(code(&swapped), 0, |r| matches!(r, ChainRule::IssuerMismatch { .. }));
    // A root placed before the end is a self-signed intermediate.
    let root_in_middle = vec![chain[0].clone(), chain[1].clone(), chain[2].clone(), chain[1].clone()];
    assert_rule(code(&root_in_middle), 2, |r| *r == ChainRule::SelfSignedIntermediate);
    let reversed_head = vec![chain[1].clone(), chain[0].clone(), chain[2].clone()];
    assert_rule(code(&reversed_head), 0, |r| matches!(r, ChainRule::IssuerMismatch { .. }));
    let skipping = vec![chain[0].clone(), chain[2].clone()];
    assert_rule(code(&skipping), 0, |r| matches!(r, ChainRule::IssuerMismatch { .. }));
}

#[test]
fn foreign_issuer_with_the_right_name_fails_the_signature_check() {
    let keys = keys();
    let mut chain = valid_chain(&keys);
    let impostor = key(KeyKind::P256, 99);
    chain[0] = build(&Spec::leaf(LEAF, INTERMEDIATE), &keys.leaf, &impostor);
    assert_rule(code(&chain), 0, |r| matches!(r, ChainRule::Signature(e) if *e.0 == X509Error::BadSignature));
}

#[test]
fn expired_and_not_yet_valid_certificates_are_refused() {
    let keys = keys();
    let chain = valid_chain(&keys);
    let after = t(2031);
    assert_rule(validate_chain(&chain, ChainPurpose::CodeSigning, Some(after)), 0, |r| {
        *r == ChainRule::Expired { not_after: t(2030), at: after }
    });
    let before = t(2019);
    assert_rule(validate_chain(&chain, ChainPurpose::CodeSigning, Some(before)), 0, |r| {
        *r == ChainRule::NotYetValid { not_before: t(2020), at: before }
    });
    let chain = chain_with(&keys, |_| {}, |i| i.not_after = t(2024), |_| {});
    assert_rule(code(&chain), 1, |r| matches!(r, ChainRule::Expired { .. }));
    // Without a time, validity is not checked (the timestamping upstream check ignores it).
    validate_chain(&chain, ChainPurpose::CodeSigning, None).unwrap();
}

#[test]
fn ca_constraints_are_enforced() {
    let chain = chain_with(&keys(), |_| {}, |i| i.basic_constraints = None, |_| {});
    assert_rule(code(&chain), 1, |r| *r == ChainRule::NotCa);
    let chain = chain_with(&keys(), |_| {}, |i| i.basic_constraints = Some((true, false, None)), |_| {});
    assert_rule(code(&chain), 1, |r| *r == ChainRule::NotCa);
    let chain = chain_with(&keys(), |_| {}, |_| {}, |r| r.basic_constraints = Some((true, true, Some(0))));
    assert_rule(code(&chain), 2, |r| *r == ChainRule::PathLenExceeded { max: 0, needed: 1 });
    code(&chain_with(&keys(), |_| {}, |i| i.basic_constraints = Some((true, true, Some(0))), |_| {})).unwrap();
    // basicConstraints need not be critical (notation-core-go does not check it).
    code(&chain_with(&keys(), |_| {}, |i| i.basic_constraints = Some((false, true, None)), |_| {})).unwrap();
}

#[test]
fn sha1_and_unknown_signature_algorithms_are_refused() {
    let keys = keys();
    let sha1 = AlgorithmIdentifierOwned { oid: SHA1_WITH_RSA, parameters: Some(der::Any::null()) };
    let chain = chain_with(&keys, |l| l.algorithm = Some(sha1.clone()), |_| {}, |_| {});
    assert!(matches!(chain[0].verify_signed_by(&chain[1]), Err(X509Error::Sha1Signature(_))));
    assert_rule(
        code(&chain),
        0,
        |r| matches!(r, ChainRule::Signature(e) if matches!(*e.0, X509Error::Sha1Signature(_))),
    );
    let md5 = AlgorithmIdentifierOwned { oid: Oid::new_unwrap("1.2.840.113549.1.1.4"), parameters: None };
    let chain = chain_with(&keys, |l| l.algorithm = Some(md5), |_| {}, |_| {});
    assert!(matches!(chain[0].verify_signed_by(&chain[1]), Err(X509Error::UnsupportedSignatureAlgorithm(_))));
    // An ECDSA signature claimed as RSA does not fit the issuer key.
    let rsa =
        AlgorithmIdentifierOwned { oid: Oid::new_unwrap("1.2.840.113549.1.1.11"), parameters: Some(der::Any::null()) };
    let chain = chain_with(&keys, |l| l.algorithm = Some(rsa), |_| {}, |_| {});
    assert!(matches!(chain[0].verify_signed_by(&chain[1]), Err(X509Error::Key(_))));
}

#[test]
fn tampered_signature_is_refused() {
    let keys = keys();
    let chain = valid_chain(&keys);
    let mut der = chain[0].der().to_vec();
    let last = der.len() - 3;
    der[last] ^= 1;
    let tampered = Certificate::from_der(&der).unwrap();
    assert_eq!(tampered.verify_signed_by(&chain[1]), Err(X509Error::BadSignature));
    let mut der = chain[0].der().to_vec();
    let cn = der.windows(9).position(|w| w == b"Test Leaf").unwrap();
    der[cn] = b'B';
    let renamed = Certificate::from_der(&der).unwrap();
    assert_rule(code(&[renamed, chain[1].clone(), chain[2].clone()]), 0, |r| matches!(r, ChainRule::Signature(_)));
}

#[test]
fn leaf_key_types_follow_notation_with_ed25519_for_code_signing_only() {
    let keys = keys();
    let ed = key(KeyKind::Ed25519, 5);
    let leaf = build(&Spec::leaf(LEAF, INTERMEDIATE), &ed, &keys.intermediate);
    let mut chain = valid_chain(&keys);
    chain[0] = leaf.clone();
    code(&chain).unwrap();
    let mut tsa = Spec::leaf(LEAF, INTERMEDIATE);
    tsa.eku = Some((true, vec![EKU_TIME_STAMPING]));
    chain[0] = build(&tsa, &ed, &keys.intermediate);
    assert_rule(validate_chain(&chain, ChainPurpose::Timestamping, Some(AT())), 0, |r| {
        *r == ChainRule::UnsupportedKey(String::from("Ed25519"))
    });
    // An Ed25519 issuer signs with the Ed25519 algorithm identifier and verifies.
    let lone = build(&Spec::leaf(LEAF, LEAF), &ed, &ed);
    code(&[lone]).unwrap();
}

#[test]
fn malformed_certificates_are_refused_without_panicking() {
    let keys = keys();
    let chain = valid_chain(&keys);
    let der = chain[0].der().to_vec();
    for len in 0..der.len() {
        assert!(Certificate::from_der(&der[..len]).is_err(), "prefix {len}");
        assert!(parse_certificates(&der[..len]).is_err(), "prefix {len}");
    }
    for i in 0..der.len() {
        let mut bad = der.clone();
        bad[i] ^= 0xff;
        // Either refused or parsed; never a panic, and never a passing chain for a changed leaf.
        if let Ok(cert) = Certificate::from_der(&bad) {
            let _ = cert.subject_attributes();
            let _ = cert.crl_distribution_points();
            assert!(code(&[cert, chain[1].clone(), chain[2].clone()]).is_err(), "byte {i}");
        }
    }
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(Certificate::from_der(&trailing).is_err());
    assert!(parse_certificates(&trailing).is_err());
    let huge = vec![0x30u8; crate::limits::MAX_CERTIFICATE_BYTES + 1];
    assert!(matches!(Certificate::from_der(&huge), Err(X509Error::TooLarge { .. })));
}

#[test]
fn duplicate_extensions_and_mismatched_algorithms_are_refused() {
    let keys = keys();
    let mut spec = Spec::leaf(LEAF, INTERMEDIATE);
    spec.duplicate_key_usage = true;
    let der = build_der(&spec, &keys.leaf, &keys.intermediate);
    assert_eq!(Certificate::from_der(&der), Err(X509Error::DuplicateExtension(String::from("2.5.29.15"))));
    let cert = valid_chain(&keys)[0].clone();
    let mut inner = cert.inner().clone();
    inner.signature_algorithm.oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
    let der = der::Encode::to_der(&inner).unwrap();
    assert_eq!(Certificate::from_der(&der), Err(X509Error::SignatureAlgorithmMismatch));
}

fn pem(certs: &[Certificate]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, c) in certs.iter().enumerate() {
        out.extend_from_slice(alloc::format!("# certificate {i}\n").as_bytes());
        let text = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, c.der()).unwrap();
        out.extend_from_slice(text.as_bytes());
    }
    out
}

#[test]
fn certificate_files_parse_as_pem_or_der_with_bounds() {
    let chain = valid_chain(&keys());
    let parsed = parse_certificates(&pem(&chain)).unwrap();
    assert_eq!(parsed, chain);
    let der: Vec<u8> = chain.iter().flat_map(|c| c.der().to_vec()).collect();
    assert_eq!(parse_certificates(&der).unwrap(), chain);
    assert_eq!(parse_certificates(b""), Err(X509Error::NoCertificate));
    assert!(parse_certificates(b"   \n").is_err());
    assert!(parse_certificates(b"hello world").is_err());
    let key_pem = keys().leaf.to_pkcs8_pem().unwrap();
    assert_eq!(parse_certificates(key_pem.as_bytes()), Err(X509Error::UnexpectedPemLabel(String::from("PRIVATE KEY"))));
    let many: Vec<Certificate> = (0..=crate::limits::MAX_CHAIN_LENGTH).map(|_| chain[0].clone()).collect();
    assert!(matches!(parse_certificates(&pem(&many)), Err(X509Error::TooManyCertificates { .. })));
    let many_der: Vec<u8> = many.iter().flat_map(|c| c.der().to_vec()).collect();
    assert!(matches!(parse_certificates(&many_der), Err(X509Error::TooManyCertificates { .. })));
    let mut unterminated = pem(&chain[..1]);
    unterminated.truncate(unterminated.len() - 10);
    assert!(parse_certificates(&unterminated).is_err());
}

#[test]
fn trust_store_rules_by_kind() {
    let keys = keys();
    let chain = valid_chain(&keys);
    let lone = build(&Spec::leaf(LEAF, LEAF), &keys.leaf, &keys.leaf);
    for kind in [TrustStoreKind::Ca, TrustStoreKind::SigningAuthority] {
        check_trust_store_certificate(&chain[2], kind).unwrap();
        check_trust_store_certificate(&chain[1], kind).unwrap();
        check_trust_store_certificate(&lone, kind).unwrap();
        assert!(matches!(check_trust_store_certificate(&chain[0], kind), Err(X509Error::NotCaOrSelfSigned { .. })));
    }
    check_trust_store_certificate(&chain[2], TrustStoreKind::Tsa).unwrap();
    for not_root in [&chain[1], &lone] {
        assert!(matches!(
            check_trust_store_certificate(not_root, TrustStoreKind::Tsa),
            Err(X509Error::NotRootCertificate { .. })
        ));
    }
    assert_eq!(check_tsa_root_file(&pem(&chain[2..])).unwrap(), chain[2]);
    assert_eq!(check_tsa_root_file(&pem(&chain[1..])), Err(X509Error::MoreThanOneCertificate { count: 2 }));
    assert!(matches!(check_tsa_root_file(&pem(&chain[1..2])), Err(X509Error::NotRootCertificate { .. })));
    assert_eq!(check_tsa_root_file(b""), Err(X509Error::NoCertificate));
    for (name, kind) in [
        ("ca", TrustStoreKind::Ca),
        ("signingAuthority", TrustStoreKind::SigningAuthority),
        ("tsa", TrustStoreKind::Tsa),
    ] {
        assert_eq!(name.parse::<TrustStoreKind>().unwrap(), kind);
        assert_eq!(alloc::format!("{kind}"), name);
    }
    assert!(matches!("CA".parse::<TrustStoreKind>(), Err(X509Error::UnknownTrustStoreKind(_))));
}

#[test]
fn signing_key_pairs_match_only_their_certificate() {
    let keys = keys();
    let chain = valid_chain(&keys);
    let pkcs8 = keys.leaf.to_pkcs8_pem().unwrap();
    check_signing_key_pair(pkcs8.as_bytes(), &chain[0], AT()).unwrap();
    check_signing_key_pair(&keys.leaf.to_pkcs8_der().unwrap(), &chain[0], AT()).unwrap();
    let sec1 = p256::SecretKey::from_slice(&(0..32).map(|i| 3u8.wrapping_add(i).max(1)).collect::<Vec<u8>>())
        .unwrap()
        .to_sec1_der()
        .unwrap();
    check_signing_key_pair(&sec1, &chain[0], AT()).unwrap();
    let other = keys.intermediate.to_pkcs8_pem().unwrap();
    assert_eq!(check_signing_key_pair(other.as_bytes(), &chain[0], AT()), Err(X509Error::KeyMismatch));
    assert!(matches!(
        check_signing_key_pair(pkcs8.as_bytes(), &chain[0], t(2031)),
        Err(X509Error::Chain { rule: ChainRule::Expired { .. }, .. })
    ));
    // The intermediate's own key matches it, but a CA certificate is not a signing leaf.
    let ca_key = keys.intermediate.to_pkcs8_pem().unwrap();
    assert!(matches!(
        check_signing_key_pair(ca_key.as_bytes(), &chain[1], AT()),
        Err(X509Error::Chain { rule: ChainRule::LeafIsCa, .. })
    ));
    assert!(matches!(check_signing_key_pair(b"garbage", &chain[0], AT()), Err(X509Error::PrivateKey(_))));
    assert!(matches!(
        check_signing_key_pair(
            b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
            &chain[0],
            AT()
        ),
        Err(X509Error::PrivateKey(_))
    ));
}

/// A chain whose leaf and intermediate point at CRLs, and a fetcher serving `crls`.
fn revocable_chain(keys: &Keys) -> Vec<Certificate> {
    chain_with(
        keys,
        |l| l.crl_urls = vec!["http://crl.test/leaf.crl"],
        |i| i.crl_urls = vec!["http://crl.test/intermediate.crl"],
        |_| {},
    )
}

fn serve(crls: Vec<(&'static str, Vec<u8>)>) -> impl Fn(&str) -> Option<Vec<u8>> {
    move |url: &str| crls.iter().find(|(u, _)| *u == url).map(|(_, b)| b.clone())
}

fn good_crls(keys: &Keys) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("http://crl.test/leaf.crl", build_crl_der(&CrlSpec::new(INTERMEDIATE), &keys.intermediate)),
        ("http://crl.test/intermediate.crl", build_crl_der(&CrlSpec::new(ROOT), &keys.root)),
    ]
}

fn status_with(keys: &Keys, leaf_crl: Option<Vec<u8>>) -> RevocationStatus {
    let chain = revocable_chain(keys);
    let mut crls = good_crls(keys);
    match leaf_crl {
        Some(bytes) => crls[0].1 = bytes,
        None => {
            crls.remove(0);
        }
    }
    check_chain_revocation(&chain, &serve(crls), AT()).status
}

#[test]
fn revocation_good_revoked_and_non_revocable() {
    let keys = keys();
    let chain = revocable_chain(&keys);
    let report = check_chain_revocation(&chain, &serve(good_crls(&keys)), AT());
    assert_eq!(report.status, RevocationStatus::Good);
    assert_eq!(report.certificates[0].status, CertificateStatus::Good);
    assert_eq!(report.certificates[2].status, CertificateStatus::NonRevocable);

    let mut spec = CrlSpec::new(INTERMEDIATE);
    spec.revoked = vec![(999, t(2024), None), (1000, t(2024), None)];
    let crl = build_crl(&spec, &keys.intermediate);
    assert!(crl.entry_for(&chain[0]).is_some());
    assert!(crl.is_current_at(AT()) && !crl.is_current_at(t(2027)));
    assert_eq!(
        status_with(&keys, Some(build_crl_der(&spec, &keys.intermediate))),
        RevocationStatus::Revoked {
            index: 0,
            serial: String::from("03e8"),
            subject: chain[0].subject_string(),
            revoked_at: t(2024)
        }
    );
    // No pointers at all: nothing to check.
    let plain = valid_chain(&keys);
    let report = check_chain_revocation(&plain, &|_: &str| None, AT());
    assert_eq!(report.status, RevocationStatus::Good);
    assert!(report.certificates.iter().all(|c| c.status == CertificateStatus::NonRevocable));
}

#[test]
fn revocation_unknown_when_the_crl_cannot_be_relied_on() {
    let keys = keys();
    let unknown = |s: RevocationStatus, needle: &str| match s {
        RevocationStatus::Unknown { index: 0, reason } => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected unknown ({needle}), got {other:?}"),
    };
    unknown(status_with(&keys, None), "could not be fetched");
    unknown(status_with(&keys, Some(b"not a crl".to_vec())), "malformed CRL");
    let mut expired = CrlSpec::new(INTERMEDIATE);
    expired.next_update = Some(t(2024));
    expired.this_update = t(2023);
    unknown(status_with(&keys, Some(build_crl_der(&expired, &keys.intermediate))), "expired");
    let mut future = CrlSpec::new(INTERMEDIATE);
    future.this_update = t(2026);
    future.next_update = Some(t(2027));
    unknown(status_with(&keys, Some(build_crl_der(&future, &keys.intermediate))), "not valid before");
    let forged = build_crl_der(&CrlSpec::new(INTERMEDIATE), &key(KeyKind::P256, 77));
    unknown(status_with(&keys, Some(forged)), "not signed by the issuer");
    let mut delta = CrlSpec::new(INTERMEDIATE);
    delta.extensions = vec![raw_extension("2.5.29.46", false, &der::asn1::Null)];
    unknown(status_with(&keys, Some(build_crl_der(&delta, &keys.intermediate))), "delta");
    let mut critical = CrlSpec::new(INTERMEDIATE);
    critical.extensions = vec![raw_extension("1.2.3.4", true, &der::asn1::Null)];
    unknown(status_with(&keys, Some(build_crl_der(&critical, &keys.intermediate))), "critical");

    // Non-HTTP distribution points and OCSP-only certificates are unknown too.
    let ldap = chain_with(&keys, |l| l.crl_urls = vec!["ldap://crl.test/leaf"], |_| {}, |_| {});
    unknown(check_chain_revocation(&ldap, &|_: &str| None, AT()).status, "http://");
    let ocsp = chain_with(&keys, |l| l.ocsp_urls = vec!["http://ocsp.test"], |_| {}, |_| {});
    unknown(check_chain_revocation(&ocsp, &|_: &str| None, AT()).status, "OCSP");
    assert!(matches!(check_chain_revocation(&[], &|_: &str| None, AT()).status, RevocationStatus::Unknown { .. }));
}

#[test]
fn revoked_wins_over_unknown_and_invalidity_date_respects_signing_time() {
    let keys = keys();
    let chain = revocable_chain(&keys);
    let mut revoked_intermediate = CrlSpec::new(ROOT);
    revoked_intermediate.revoked = vec![(2000, t(2024), None)];
    let crls = vec![("http://crl.test/intermediate.crl", build_crl_der(&revoked_intermediate, &keys.root))];
    let report = check_chain_revocation(&chain, &serve(crls), AT());
    assert!(matches!(report.status, RevocationStatus::Revoked { index: 1, .. }), "{report:?}");
    assert!(matches!(report.certificates[0].status, CertificateStatus::Unknown { .. }));

    let mut later = CrlSpec::new(INTERMEDIATE);
    later.revoked = vec![(1000, t(2024), Some(t(2024)))];
    let mut crls = good_crls(&keys);
    crls[0].1 = build_crl_der(&later, &keys.intermediate);
    let fetch = serve(crls);
    let signed_before = check_chain_revocation_at_signing_time(&chain, &fetch, AT(), Some(t(2023)));
    assert_eq!(signed_before.status, RevocationStatus::Good);
    let signed_after = check_chain_revocation_at_signing_time(&chain, &fetch, AT(), Some(t(2025)));
    assert!(matches!(signed_after.status, RevocationStatus::Revoked { index: 0, .. }));
    assert!(matches!(check_chain_revocation(&chain, &fetch, AT()).status, RevocationStatus::Revoked { .. }));
}

#[test]
fn crl_signed_by_a_certificate_without_crl_sign_is_not_trusted() {
    let keys = keys();
    let chain = chain_with(
        &keys,
        |l| l.crl_urls = vec!["http://crl.test/leaf.crl"],
        |i| i.key_usage_extra = Vec::new(),
        |_| {},
    );
    let crl = build_crl(&CrlSpec::new(INTERMEDIATE), &keys.intermediate);
    assert!(matches!(crl.verify_signed_by(&chain[1]), Err(X509Error::CrlIssuerNotAllowed { .. })));
    assert!(matches!(crl.verify_signed_by(&chain[0]), Err(X509Error::CrlIssuerNotAllowed { .. })));
    let huge = vec![0u8; crate::limits::MAX_CRL_BYTES + 1];
    assert!(matches!(Crl::parse(&huge), Err(X509Error::TooLarge { .. })));
}

#[test]
fn names_render_like_go_and_attributes_feed_identity_matching() {
    let keys = keys();
    let subject = "CN=a\\,b,OU=Dev,OU=Ops,O=Notary,L=Seattle,ST=WA,C=US,1.2.840.113549.1.9.1=x@example.com";
    let cert = build(&Spec::leaf(subject, INTERMEDIATE), &keys.leaf, &keys.intermediate);
    // Go orders CN, OU, O, L, ST, C and puts unknown types last; repeated OUs share one RDN in DER order (the
    // string form given to the builder lists RDNs in reverse DER order).
    let shown = cert.subject_string();
    assert!(shown.starts_with("CN=a\\,b,OU=Ops+OU=Dev,O=Notary"), "{shown}");
    assert!(shown.contains("O=Notary,L=Seattle,ST=WA,C=US"), "{shown}");
    // '@' is not printable, so Go re-marshals the e-mail address as a UTF8String (tag 0x0c, 13 bytes).
    assert!(shown.ends_with(",1.2.840.113549.1.9.1=#0c0d78406578616d706c652e636f6d"), "{shown}");
    let attrs = cert.subject_attributes().unwrap();
    assert!(attrs.contains(&(String::from("CN"), String::from("a,b"))));
    assert!(attrs.contains(&(String::from("C"), String::from("US"))));
    assert!(attrs.contains(&(String::from("1.2.840.113549.1.9.1"), String::from("x@example.com"))));
    assert_eq!(attrs.iter().filter(|(t, _)| t == "OU").count(), 2);
    assert_eq!(attrs.last().map(|(t, _)| t.as_str()), Some("1.2.840.113549.1.9.1"));
}

#[test]
fn pem_is_read_leniently_like_go() {
    use base64ct::Encoding as _;
    let chain = valid_chain(&keys());
    let b64 = base64ct::Base64::encode_string(chain[0].der());
    let lines76: Vec<&str> = b64.as_bytes().chunks(76).map(|c| core::str::from_utf8(c).unwrap()).collect();
    let crlf = alloc::format!(
        "preamble text\r\n-----BEGIN CERTIFICATE-----\r\nProc-Type: 4,NOTHING\r\n\r\n{}\r\n-----END CERTIFICATE-----\r\ntrailer",
        lines76.join("\r\n")
    );
    assert_eq!(parse_certificates(crlf.as_bytes()).unwrap(), vec![chain[0].clone()]);
    let one_line = alloc::format!("-----BEGIN CERTIFICATE-----\n{b64}\n-----END CERTIFICATE-----\n");
    assert_eq!(parse_certificates(one_line.as_bytes()).unwrap(), vec![chain[0].clone()]);
    for bad in [
        "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END OTHER-----\n",
        "-----BEGIN CERTIFICATE",
    ] {
        assert!(parse_certificates(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn pem_marker_must_start_a_line() {
    let chain = valid_chain(&keys());
    let mut text = b"junk -----BEGIN CERTIFICATE-----".to_vec();
    // Not at a line start: not PEM, and not DER either.
    assert!(matches!(parse_certificates(&text), Err(X509Error::Malformed { what: "DER certificate", .. })));
    text.push(b'\n');
    text.extend_from_slice(&pem(&chain[..1]));
    assert_eq!(parse_certificates(&text).unwrap(), vec![chain[0].clone()]);
}
