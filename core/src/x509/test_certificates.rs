//! Test-only certificate and CRL factory: builds real DER signed with nv2's own [`SigningKey`], so the attack tests
//! exercise exactly the parsing and checking paths that outside input takes.

use super::{issue, Certificate, Crl};
use crate::crypto::{KeyKind, SigningKey};
use crate::time::Timestamp;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use der::asn1::ObjectIdentifier as Oid;
use der::Encode;
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};
use x509_cert::ext::Extension;

pub(super) use issue::{EKU_CODE_SIGNING, EKU_TIME_STAMPING};
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

/// The public issuing spec this test spec stands for.
fn public_spec(spec: &Spec) -> issue::CertificateSpec {
    let mut out = issue::CertificateSpec::code_signing_leaf(&spec.subject, spec.not_before, spec.not_after);
    out.basic_constraints =
        spec.basic_constraints.map(|(critical, ca, path_len)| issue::BasicConstraintsSpec { critical, ca, path_len });
    out.key_usage = spec.key_usage.map(|(critical, usage)| {
        let mut usages = vec![usage];
        usages.extend(spec.key_usage_extra.iter().copied());
        issue::KeyUsageSpec { critical, usages }
    });
    out.extended_key_usage =
        spec.eku.clone().map(|(critical, purposes)| issue::ExtendedKeyUsageSpec { critical, purposes });
    out.crl_urls = spec.crl_urls.iter().map(|u| String::from(*u)).collect();
    out.ocsp_urls = spec.ocsp_urls.iter().map(|u| String::from(*u)).collect();
    out.signature_algorithm = spec.algorithm.clone();
    if let (true, Some(ku)) = (spec.duplicate_key_usage, &out.key_usage) {
        // A second copy of the keyUsage extension, written after the first.
        let flags = ku.usages.iter().fold(der::flagset::FlagSet::<KeyUsages>::default(), |acc, u| acc | *u);
        out.extra_extensions.push(raw_extension("2.5.29.15", ku.critical, &KeyUsage(flags)));
    }
    out
}

/// Builds and signs a certificate for `subject_key`, signed by `issuer_key`; returns its DER.
pub(super) fn build_der(spec: &Spec, subject_key: &SigningKey, issuer_key: &SigningKey) -> Vec<u8> {
    let issuer = issue::Issuer { name: &spec.issuer, key: issuer_key };
    let spki = subject_key.public_key_spki_der().unwrap();
    issue::issue_der(&public_spec(spec), &spki, issuer, &spec.serial.to_be_bytes()).unwrap()
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
    let mut public = issue::CrlSpec::new(&spec.issuer, spec.this_update, spec.next_update);
    public.revoked = spec
        .revoked
        .iter()
        .map(|(serial, revoked_at, invalidity_date)| issue::RevokedEntry {
            serial: serial.to_be_bytes().to_vec(),
            revoked_at: *revoked_at,
            invalidity_date: *invalidity_date,
        })
        .collect();
    public.extensions = spec.extensions.clone();
    issue::issue_crl_der(&public, issuer_key).unwrap()
}

/// Sanity: the factory's CRLs parse.
pub(super) fn build_crl(spec: &CrlSpec, issuer_key: &SigningKey) -> Crl {
    Crl::parse(&build_crl_der(spec, issuer_key)).unwrap()
}

/// An extension builder for tests that need odd ones.
pub(super) fn raw_extension(oid: &str, critical: bool, value: &impl Encode) -> Extension {
    issue::extension(oid, critical, value).unwrap()
}
