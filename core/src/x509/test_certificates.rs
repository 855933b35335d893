//! Test-only certificate and CRL factory: builds real DER signed with nv2's own [`SigningKey`], so the attack tests
//! exercise exactly the parsing and checking paths that outside input takes.

use super::{Certificate, Crl};
use crate::crypto::{KeyKind, SigningKey};
use crate::time::Timestamp;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::str::FromStr;
use core::time::Duration;
use der::asn1::{BitString, GeneralizedTime, Ia5String, ObjectIdentifier as Oid, OctetString, UtcTime};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage,
    KeyUsages,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub(super) const EKU_CODE_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.3");
pub(super) const EKU_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
pub(super) const EKU_SERVER_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.1");
pub(super) const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");

/// 2025-01-01T00:00:00Z, inside every default validity window below.
pub(super) fn t(year: i64) -> Timestamp {
    Timestamp::from_civil(year, 1, 1, 0, 0, 0).unwrap()
}

/// A deterministic key; different `n` give different keys.
pub(super) fn key(kind: KeyKind, n: u8) -> SigningKey {
    let seed: Vec<u8> = (0..kind.seed_len()).map(|i| n.wrapping_add(i as u8).max(1)).collect();
    SigningKey::from_seed(kind, &seed).unwrap()
}

/// What to put into a certificate. Defaults describe a valid code-signing leaf.
#[derive(Clone)]
pub(super) struct Spec {
    pub subject: String,
    pub issuer: String,
    pub serial: u32,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    /// (critical, cA, pathLen)
    pub basic_constraints: Option<(bool, bool, Option<u8>)>,
    /// (critical, usages)
    pub key_usage: Option<(bool, KeyUsages)>,
    pub key_usage_extra: Vec<KeyUsages>,
    /// (critical, purposes)
    pub eku: Option<(bool, Vec<Oid>)>,
    pub crl_urls: Vec<&'static str>,
    pub ocsp_urls: Vec<&'static str>,
    /// Replaces the signature algorithm identifier (inner and outer).
    pub algorithm: Option<AlgorithmIdentifierOwned>,
    /// Adds a second copy of the keyUsage extension.
    pub duplicate_key_usage: bool,
}

impl Spec {
    pub fn leaf(subject: &str, issuer: &str) -> Spec {
        Spec {
            subject: String::from(subject),
            issuer: String::from(issuer),
            serial: 1000,
            not_before: t(2020),
            not_after: t(2030),
            basic_constraints: None,
            key_usage: Some((true, KeyUsages::DigitalSignature)),
            key_usage_extra: Vec::new(),
            eku: Some((false, vec![EKU_CODE_SIGNING])),
            crl_urls: Vec::new(),
            ocsp_urls: Vec::new(),
            algorithm: None,
            duplicate_key_usage: false,
        }
    }

    pub fn ca(subject: &str, issuer: &str) -> Spec {
        Spec {
            basic_constraints: Some((true, true, None)),
            key_usage: Some((true, KeyUsages::KeyCertSign)),
            key_usage_extra: vec![KeyUsages::CRLSign],
            eku: None,
            serial: 2000,
            ..Spec::leaf(subject, issuer)
        }
    }
}

fn time(at: Timestamp) -> Time {
    let d = Duration::from_secs(at.unix() as u64);
    if at < t(2050) {
        Time::UtcTime(UtcTime::from_unix_duration(d).unwrap())
    } else {
        Time::GeneralTime(GeneralizedTime::from_unix_duration(d).unwrap())
    }
}

fn ext(oid: &str, critical: bool, value: &impl Encode) -> Extension {
    Extension {
        extn_id: Oid::new_unwrap(oid),
        critical,
        extn_value: OctetString::new(value.to_der().unwrap()).unwrap(),
    }
}

/// The signature algorithm identifier nv2 keys sign X.509 objects with.
pub(super) fn algorithm_of(key: &SigningKey) -> AlgorithmIdentifierOwned {
    let oid = match key.kind() {
        KeyKind::P256 => "1.2.840.10045.4.3.2",
        KeyKind::P384 => "1.2.840.10045.4.3.3",
        KeyKind::Ed25519 => "1.3.101.112",
    };
    AlgorithmIdentifierOwned { oid: Oid::new_unwrap(oid), parameters: None }
}

fn uri(u: &str) -> GeneralName {
    GeneralName::UniformResourceIdentifier(Ia5String::new(u).unwrap())
}

/// Builds and signs a certificate for `subject_key`, signed by `issuer_key`; returns its DER.
pub(super) fn build_der(spec: &Spec, subject_key: &SigningKey, issuer_key: &SigningKey) -> Vec<u8> {
    let mut extensions = Vec::new();
    if let Some((critical, ca, path_len)) = spec.basic_constraints {
        extensions.push(ext("2.5.29.19", critical, &BasicConstraints { ca, path_len_constraint: path_len }));
    }
    if let Some((critical, usage)) = spec.key_usage {
        let mut flags = der::flagset::FlagSet::from(usage);
        for extra in &spec.key_usage_extra {
            flags |= *extra;
        }
        extensions.push(ext("2.5.29.15", critical, &KeyUsage(flags)));
        if spec.duplicate_key_usage {
            extensions.push(ext("2.5.29.15", critical, &KeyUsage(flags)));
        }
    }
    if let Some((critical, purposes)) = &spec.eku {
        extensions.push(ext("2.5.29.37", *critical, &ExtendedKeyUsage(purposes.clone())));
    }
    if !spec.crl_urls.is_empty() {
        let dps = spec
            .crl_urls
            .iter()
            .map(|u| DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(u)])),
                reasons: None,
                crl_issuer: None,
            })
            .collect();
        extensions.push(ext("2.5.29.31", false, &CrlDistributionPoints(dps)));
    }
    if !spec.ocsp_urls.is_empty() {
        let aia = spec
            .ocsp_urls
            .iter()
            .map(|u| AccessDescription {
                access_method: Oid::new_unwrap("1.3.6.1.5.5.7.48.1"),
                access_location: uri(u),
            })
            .collect();
        extensions.push(ext("1.3.6.1.5.5.7.1.1", false, &AuthorityInfoAccessSyntax(aia)));
    }
    let algorithm = spec.algorithm.clone().unwrap_or_else(|| algorithm_of(issuer_key));
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::from(spec.serial),
        signature: algorithm.clone(),
        issuer: Name::from_str(&spec.issuer).unwrap(),
        validity: Validity { not_before: time(spec.not_before), not_after: time(spec.not_after) },
        subject: Name::from_str(&spec.subject).unwrap(),
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(&subject_key.public_key_spki_der().unwrap())
            .unwrap(),
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: if extensions.is_empty() { None } else { Some(extensions) },
    };
    let tbs_der = tbs.to_der().unwrap();
    let signature = issuer_key.sign_der(&tbs_der);
    let cert = x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::new(0, signature).unwrap(),
    };
    cert.to_der().unwrap()
}

/// [`build_der`] parsed into a [`Certificate`].
pub(super) fn build(spec: &Spec, subject_key: &SigningKey, issuer_key: &SigningKey) -> Certificate {
    Certificate::from_der(&build_der(spec, subject_key, issuer_key)).unwrap()
}

pub(super) const ROOT: &str = "CN=Test Root,O=Notary,ST=WA,C=US";
pub(super) const INTERMEDIATE: &str = "CN=Test Intermediate,O=Notary,ST=WA,C=US";
pub(super) const LEAF: &str = "CN=Test Leaf,O=Notary,ST=WA,C=US";

/// Keys of the standard test chain.
pub(super) struct Keys {
    pub root: SigningKey,
    pub intermediate: SigningKey,
    pub leaf: SigningKey,
}

pub(super) fn keys() -> Keys {
    Keys { root: key(KeyKind::P384, 1), intermediate: key(KeyKind::P256, 2), leaf: key(KeyKind::P256, 3) }
}

/// A valid leaf → intermediate → root chain; `tweak_*` change one certificate's spec.
pub(super) fn chain_with(
    keys: &Keys,
    tweak_leaf: impl FnOnce(&mut Spec),
    tweak_intermediate: impl FnOnce(&mut Spec),
    tweak_root: impl FnOnce(&mut Spec),
) -> Vec<Certificate> {
    let mut root = Spec::ca(ROOT, ROOT);
    root.serial = 1;
    tweak_root(&mut root);
    let mut intermediate = Spec::ca(INTERMEDIATE, ROOT);
    tweak_intermediate(&mut intermediate);
    let mut leaf = Spec::leaf(LEAF, INTERMEDIATE);
    tweak_leaf(&mut leaf);
    vec![
        build(&leaf, &keys.leaf, &keys.intermediate),
        build(&intermediate, &keys.intermediate, &keys.root),
        build(&root, &keys.root, &keys.root),
    ]
}

pub(super) fn valid_chain(keys: &Keys) -> Vec<Certificate> {
    chain_with(keys, |_| {}, |_| {}, |_| {})
}

/// What to put into a CRL.
pub(super) struct CrlSpec {
    pub issuer: String,
    pub this_update: Timestamp,
    pub next_update: Option<Timestamp>,
    /// (serial, revocation date, invalidity date)
    pub revoked: Vec<(u32, Timestamp, Option<Timestamp>)>,
    pub extensions: Vec<Extension>,
}

impl CrlSpec {
    pub fn new(issuer: &str) -> CrlSpec {
        CrlSpec {
            issuer: String::from(issuer),
            this_update: t(2024),
            next_update: Some(t(2026)),
            revoked: Vec::new(),
            extensions: Vec::new(),
        }
    }
}

/// Builds and signs a CRL; returns its DER.
pub(super) fn build_crl_der(spec: &CrlSpec, issuer_key: &SigningKey) -> Vec<u8> {
    let algorithm = algorithm_of(issuer_key);
    let revoked: Vec<RevokedCert> = spec
        .revoked
        .iter()
        .map(|(serial, date, invalidity)| RevokedCert {
            serial_number: SerialNumber::from(*serial),
            revocation_date: time(*date),
            crl_entry_extensions: invalidity.map(|i| {
                vec![ext(
                    "2.5.29.24",
                    false,
                    &GeneralizedTime::from_unix_duration(Duration::from_secs(i.unix() as u64)).unwrap(),
                )]
            }),
        })
        .collect();
    let tbs = TbsCertList {
        version: Version::V2,
        signature: algorithm.clone(),
        issuer: Name::from_str(&spec.issuer).unwrap(),
        this_update: time(spec.this_update),
        next_update: spec.next_update.map(time),
        revoked_certificates: if revoked.is_empty() { None } else { Some(revoked) },
        crl_extensions: if spec.extensions.is_empty() { None } else { Some(spec.extensions.clone()) },
    };
    let signature = issuer_key.sign_der(&tbs.to_der().unwrap());
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::new(0, signature).unwrap(),
    }
    .to_der()
    .unwrap()
}

/// Sanity: the factory's CRLs parse.
pub(super) fn build_crl(spec: &CrlSpec, issuer_key: &SigningKey) -> Crl {
    Crl::parse(&build_crl_der(spec, issuer_key)).unwrap()
}

/// An extension builder for tests that need odd ones.
pub(super) fn raw_extension(oid: &str, critical: bool, value: &impl Encode) -> Extension {
    ext(oid, critical, value)
}
