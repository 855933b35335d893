//! Issuing certificates and CRLs: real DER signed with nv2's own [`SigningKey`].
//!
//! Production code needs this too, not only tests: `nv2 cert generate-test` makes a root CA and a code-signing leaf,
//! the demo builds its own chain, and benches and attack tests build chains that take exactly the parsing and
//! checking paths outside input takes. Issuing is pure like the rest of the core: serial numbers and times come in
//! as arguments, nothing is random, so the same inputs always give the same bytes.
//!
//! [`CertificateSpec`] says what goes into a certificate; its constructors describe what the Notary Project rules
//! require of a CA, a code-signing leaf and a timestamping leaf. Fields can be changed afterwards, including to
//! produce certificates the verifier must refuse (the attack tests do exactly that).

use super::{Certificate, Crl, X509Error};
use crate::crypto::{KeyKind, SigningKey};
use crate::time::Timestamp;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::str::FromStr;
use core::time::Duration;
use der::asn1::{BitString, GeneralizedTime, Ia5String, ObjectIdentifier, OctetString, UtcTime};
use der::{Decode, Encode};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage,
};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

pub use x509_cert::ext::pkix::KeyUsages;

/// id-kp-codeSigning, the extended key usage of Notary signing leaves.
pub const EKU_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// id-kp-timeStamping, the (only, critical) extended key usage of timestamping leaves.
pub const EKU_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");

const OID_BASIC_CONSTRAINTS: &str = "2.5.29.19";
const OID_KEY_USAGE: &str = "2.5.29.15";
const OID_EXTENDED_KEY_USAGE: &str = "2.5.29.37";
const OID_CRL_DISTRIBUTION_POINTS: &str = "2.5.29.31";
const OID_AUTHORITY_INFO_ACCESS: &str = "1.3.6.1.5.5.7.1.1";
const OID_OCSP_ACCESS_METHOD: &str = "1.3.6.1.5.5.7.48.1";
const OID_INVALIDITY_DATE: &str = "2.5.29.24";

/// The basicConstraints extension to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicConstraintsSpec {
    /// Whether the extension is marked critical (RFC 5280 wants it critical on CAs).
    pub critical: bool,
    /// cA: whether the key may certify others.
    pub ca: bool,
    /// pathLenConstraint: how many CAs may follow below this one.
    pub path_len: Option<u8>,
}

/// The keyUsage extension to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUsageSpec {
    /// Whether the extension is marked critical (the Notary rules require it for code signing).
    pub critical: bool,
    /// The usage bits set.
    pub usages: Vec<KeyUsages>,
}

/// The extendedKeyUsage extension to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendedKeyUsageSpec {
    /// Whether the extension is marked critical (required for timestamping leaves).
    pub critical: bool,
    /// The purposes, in order.
    pub purposes: Vec<ObjectIdentifier>,
}

/// What to put into a certificate. The constructors give certificates the Notary chain rules accept; every field
/// may be changed afterwards.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateSpec {
    /// Subject distinguished name as RFC 4514 text, e.g. `CN=Signer,O=Example,ST=WA,C=US` (trust policies match
    /// identities on it, and require C, ST and O).
    pub subject: String,
    /// Start of validity.
    pub not_before: Timestamp,
    /// End of validity.
    pub not_after: Timestamp,
    /// basicConstraints, if any.
    pub basic_constraints: Option<BasicConstraintsSpec>,
    /// keyUsage, if any.
    pub key_usage: Option<KeyUsageSpec>,
    /// extendedKeyUsage, if any.
    pub extended_key_usage: Option<ExtendedKeyUsageSpec>,
    /// CRL distribution point URLs (each becomes one distribution point), so verifiers can check revocation.
    pub crl_urls: Vec<String>,
    /// OCSP responder URLs (authorityInfoAccess).
    pub ocsp_urls: Vec<String>,
    /// Further extensions, written after the ones above in the order given (nothing checks them for sense).
    pub extra_extensions: Vec<Extension>,
    /// Replaces the signature algorithm identifier written inside and outside the signed part; `None` writes the
    /// one matching the issuer key. Only useful to produce certificates a verifier must refuse (SHA-1, unknown).
    pub signature_algorithm: Option<AlgorithmIdentifierOwned>,
}

impl CertificateSpec {
    /// A Notary code-signing leaf: keyUsage digitalSignature (critical), EKU codeSigning, no basicConstraints.
    pub fn code_signing_leaf(subject: &str, not_before: Timestamp, not_after: Timestamp) -> Self {
        CertificateSpec {
            subject: String::from(subject),
            not_before,
            not_after,
            basic_constraints: None,
            key_usage: Some(KeyUsageSpec { critical: true, usages: vec![KeyUsages::DigitalSignature] }),
            extended_key_usage: Some(ExtendedKeyUsageSpec { critical: false, purposes: vec![EKU_CODE_SIGNING] }),
            crl_urls: Vec::new(),
            ocsp_urls: Vec::new(),
            extra_extensions: Vec::new(),
            signature_algorithm: None,
        }
    }

    /// A timestamping-authority leaf: keyUsage digitalSignature, EKU exactly timeStamping and critical.
    pub fn timestamping_leaf(subject: &str, not_before: Timestamp, not_after: Timestamp) -> Self {
        CertificateSpec {
            extended_key_usage: Some(ExtendedKeyUsageSpec { critical: true, purposes: vec![EKU_TIME_STAMPING] }),
            ..CertificateSpec::code_signing_leaf(subject, not_before, not_after)
        }
    }

    /// A CA (root or intermediate): basicConstraints cA=true (critical) with `path_len`, keyUsage keyCertSign and
    /// cRLSign (critical), no EKU.
    pub fn ca(subject: &str, not_before: Timestamp, not_after: Timestamp, path_len: Option<u8>) -> Self {
        CertificateSpec {
            basic_constraints: Some(BasicConstraintsSpec { critical: true, ca: true, path_len }),
            key_usage: Some(KeyUsageSpec { critical: true, usages: vec![KeyUsages::KeyCertSign, KeyUsages::CRLSign] }),
            extended_key_usage: None,
            ..CertificateSpec::code_signing_leaf(subject, not_before, not_after)
        }
    }
}

/// Who signs a certificate or CRL: the issuer's subject name (RFC 4514 text) and its key.
#[derive(Clone, Copy, Debug)]
pub struct Issuer<'a> {
    /// The issuer's subject name; for a self-signed certificate, the certificate's own subject.
    pub name: &'a str,
    /// The issuer's private key.
    pub key: &'a SigningKey,
}

/// Issues a certificate for the public key `subject_spki_der` (DER SubjectPublicKeyInfo, any key type) signed by
/// `issuer`, with serial number `serial` (big-endian, positive, at most 20 octets). Returns the parsed certificate.
pub fn issue(
    spec: &CertificateSpec,
    subject_spki_der: &[u8],
    issuer: Issuer<'_>,
    serial: &[u8],
) -> Result<Certificate, X509Error> {
    Certificate::from_der(&issue_der(spec, subject_spki_der, issuer, serial)?)
}

/// [`issue`] without parsing the result back: the DER bytes. Lets callers produce certificates nv2's own parser
/// refuses (duplicate extensions through [`CertificateSpec::extra_extensions`]).
pub fn issue_der(
    spec: &CertificateSpec,
    subject_spki_der: &[u8],
    issuer: Issuer<'_>,
    serial: &[u8],
) -> Result<Vec<u8>, X509Error> {
    let algorithm = spec.signature_algorithm.clone().unwrap_or_else(|| signature_algorithm_of(issuer.key));
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: serial_number(serial)?,
        signature: algorithm.clone(),
        issuer: name(issuer.name)?,
        validity: Validity { not_before: time(spec.not_before)?, not_after: time(spec.not_after)? },
        subject: name(&spec.subject)?,
        subject_public_key_info: SubjectPublicKeyInfoOwned::from_der(subject_spki_der)
            .map_err(|e| failure("subject public key", e))?,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions(spec)?).filter(|e: &Vec<Extension>| !e.is_empty()),
    };
    let tbs_der = tbs.to_der().map_err(|e| failure("certificate", e))?;
    let signature = issuer.key.sign_der(&tbs_der);
    x509_cert::Certificate {
        tbs_certificate: tbs,
        signature_algorithm: algorithm,
        signature: BitString::new(0, signature).map_err(|e| failure("signature", e))?,
    }
    .to_der()
    .map_err(|e| failure("certificate", e))
}

/// Issues a self-signed certificate for `key`: `spec.subject` is also the issuer.
pub fn issue_self_signed(spec: &CertificateSpec, key: &SigningKey, serial: &[u8]) -> Result<Certificate, X509Error> {
    let spki = key.public_key_spki_der()?;
    issue(spec, &spki, Issuer { name: &spec.subject, key }, serial)
}

/// A Notary-valid two-certificate chain for `nv2 cert generate-test` and the demo: a self-signed root CA
/// (`root_subject`, keyCertSign+cRLSign critical, pathLen 0) and a code-signing leaf (`leaf_subject`,
/// digitalSignature critical, EKU codeSigning) it issues. Both are valid from `not_before` to `not_after`.
/// Serial numbers derive from each certificate's public key (SHA-256, 16 octets), so they are deterministic and
/// differ between keys. Returns `(root, leaf)`; a signing chain is `[leaf, root]`.
pub fn test_chain(
    root_subject: &str,
    root_key: &SigningKey,
    leaf_subject: &str,
    leaf_key: &SigningKey,
    not_before: Timestamp,
    not_after: Timestamp,
) -> Result<(Certificate, Certificate), X509Error> {
    let root_spki = root_key.public_key_spki_der()?;
    let leaf_spki = leaf_key.public_key_spki_der()?;
    let root_spec = CertificateSpec::ca(root_subject, not_before, not_after, Some(0));
    let root =
        issue(&root_spec, &root_spki, Issuer { name: root_subject, key: root_key }, &serial_from_key(&root_spki))?;
    let leaf_spec = CertificateSpec::code_signing_leaf(leaf_subject, not_before, not_after);
    let leaf =
        issue(&leaf_spec, &leaf_spki, Issuer { name: root_subject, key: root_key }, &serial_from_key(&leaf_spki))?;
    Ok((root, leaf))
}

/// A deterministic 16-octet positive serial number derived from a public key (its SPKI DER).
pub fn serial_from_key(spki_der: &[u8]) -> Vec<u8> {
    let mut serial = crate::crypto::HashAlgorithm::Sha256.digest(spki_der);
    serial.truncate(16);
    if let Some(first) = serial.first_mut() {
        // Positive, and never all zero.
        *first = (*first & 0x7f) | 0x01;
    }
    serial
}

/// The signature algorithm identifier nv2 keys sign X.509 objects with (ecdsa-with-SHA256/384, Ed25519).
pub fn signature_algorithm_of(key: &SigningKey) -> AlgorithmIdentifierOwned {
    let oid = match key.kind() {
        KeyKind::P256 => "1.2.840.10045.4.3.2",
        KeyKind::P384 => "1.2.840.10045.4.3.3",
        KeyKind::Ed25519 => "1.3.101.112",
    };
    AlgorithmIdentifierOwned { oid: ObjectIdentifier::new_unwrap(oid), parameters: None }
}

/// One revoked certificate in a CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevokedEntry {
    /// The certificate's serial number (big-endian, positive).
    pub serial: Vec<u8>,
    /// When it was revoked.
    pub revoked_at: Timestamp,
    /// The invalidity date extension (since when the key is suspected compromised), if any.
    pub invalidity_date: Option<Timestamp>,
}

/// What to put into a CRL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrlSpec {
    /// The issuing CA's subject (RFC 4514 text).
    pub issuer: String,
    /// thisUpdate.
    pub this_update: Timestamp,
    /// nextUpdate (verifiers treat a CRL past it as stale).
    pub next_update: Option<Timestamp>,
    /// Revoked certificates.
    pub revoked: Vec<RevokedEntry>,
    /// CRL extensions (delta indicators, critical unknowns, ...).
    pub extensions: Vec<Extension>,
}

impl CrlSpec {
    /// An empty CRL by `issuer` valid from `this_update` to `next_update`.
    pub fn new(issuer: &str, this_update: Timestamp, next_update: Option<Timestamp>) -> Self {
        CrlSpec { issuer: String::from(issuer), this_update, next_update, revoked: Vec::new(), extensions: Vec::new() }
    }
}

/// Issues a CRL signed with `issuer_key`; returns its DER (what a CRL distribution point serves).
pub fn issue_crl_der(spec: &CrlSpec, issuer_key: &SigningKey) -> Result<Vec<u8>, X509Error> {
    let algorithm = signature_algorithm_of(issuer_key);
    let mut revoked = Vec::with_capacity(spec.revoked.len());
    for entry in &spec.revoked {
        let crl_entry_extensions = match entry.invalidity_date {
            Some(at) => Some(vec![extension(
                OID_INVALIDITY_DATE,
                false,
                &GeneralizedTime::from_unix_duration(unix(at)?).map_err(|e| failure("invalidity date", e))?,
            )?]),
            None => None,
        };
        revoked.push(RevokedCert {
            serial_number: serial_number(&entry.serial)?,
            revocation_date: time(entry.revoked_at)?,
            crl_entry_extensions,
        });
    }
    let next_update = match spec.next_update {
        Some(at) => Some(time(at)?),
        None => None,
    };
    let tbs = TbsCertList {
        version: Version::V2,
        signature: algorithm.clone(),
        issuer: name(&spec.issuer)?,
        this_update: time(spec.this_update)?,
        next_update,
        revoked_certificates: Some(revoked).filter(|r| !r.is_empty()),
        crl_extensions: Some(spec.extensions.clone()).filter(|e| !e.is_empty()),
    };
    let signature = issuer_key.sign_der(&tbs.to_der().map_err(|e| failure("CRL", e))?);
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::new(0, signature).map_err(|e| failure("signature", e))?,
    }
    .to_der()
    .map_err(|e| failure("CRL", e))
}

/// [`issue_crl_der`] parsed back into a [`Crl`].
pub fn issue_crl(spec: &CrlSpec, issuer_key: &SigningKey) -> Result<Crl, X509Error> {
    Crl::parse(&issue_crl_der(spec, issuer_key)?)
}

/// An extension with the DER of `value` as its content, for [`CertificateSpec::extra_extensions`] and
/// [`CrlSpec::extensions`]. `oid` is dotted decimal.
pub fn extension(oid: &str, critical: bool, value: &impl Encode) -> Result<Extension, X509Error> {
    let extn_id = ObjectIdentifier::new(oid).map_err(|e| failure("extension OID", e))?;
    let der = value.to_der().map_err(|e| failure("extension value", e))?;
    Ok(Extension { extn_id, critical, extn_value: OctetString::new(der).map_err(|e| failure("extension value", e))? })
}

/// The extensions `spec` describes, in a fixed order.
fn extensions(spec: &CertificateSpec) -> Result<Vec<Extension>, X509Error> {
    let mut out = Vec::new();
    if let Some(bc) = &spec.basic_constraints {
        let value = BasicConstraints { ca: bc.ca, path_len_constraint: bc.path_len };
        out.push(extension(OID_BASIC_CONSTRAINTS, bc.critical, &value)?);
    }
    if let Some(ku) = &spec.key_usage {
        let flags = ku.usages.iter().fold(der::flagset::FlagSet::<KeyUsages>::default(), |acc, u| acc | *u);
        out.push(extension(OID_KEY_USAGE, ku.critical, &KeyUsage(flags))?);
    }
    if let Some(eku) = &spec.extended_key_usage {
        out.push(extension(OID_EXTENDED_KEY_USAGE, eku.critical, &ExtendedKeyUsage(eku.purposes.clone()))?);
    }
    if !spec.crl_urls.is_empty() {
        let mut points = Vec::with_capacity(spec.crl_urls.len());
        for url in &spec.crl_urls {
            points.push(DistributionPoint {
                distribution_point: Some(DistributionPointName::FullName(vec![uri(url)?])),
                reasons: None,
                crl_issuer: None,
            });
        }
        out.push(extension(OID_CRL_DISTRIBUTION_POINTS, false, &CrlDistributionPoints(points))?);
    }
    if !spec.ocsp_urls.is_empty() {
        let mut access = Vec::with_capacity(spec.ocsp_urls.len());
        for url in &spec.ocsp_urls {
            access.push(AccessDescription {
                access_method: ObjectIdentifier::new_unwrap(OID_OCSP_ACCESS_METHOD),
                access_location: uri(url)?,
            });
        }
        out.push(extension(OID_AUTHORITY_INFO_ACCESS, false, &AuthorityInfoAccessSyntax(access))?);
    }
    out.extend(spec.extra_extensions.iter().cloned());
    Ok(out)
}

fn failure(what: &'static str, e: impl core::fmt::Display) -> X509Error {
    X509Error::Issue { what, reason: e.to_string() }
}

fn name(rfc4514: &str) -> Result<Name, X509Error> {
    Name::from_str(rfc4514)
        .map_err(|e| X509Error::Issue { what: "distinguished name", reason: format!("{rfc4514:?}: {e}") })
}

fn serial_number(bytes: &[u8]) -> Result<SerialNumber, X509Error> {
    if bytes.iter().all(|b| *b == 0) {
        return Err(X509Error::Issue { what: "serial number", reason: String::from("must be positive") });
    }
    SerialNumber::new(bytes).map_err(|e| failure("serial number", e))
}

fn unix(at: Timestamp) -> Result<Duration, X509Error> {
    u64::try_from(at.unix())
        .map(Duration::from_secs)
        .map_err(|_| X509Error::Issue { what: "time", reason: format!("{at} is before 1970") })
}

/// RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
fn time(at: Timestamp) -> Result<Time, X509Error> {
    let d = unix(at)?;
    const YEAR_2050: u64 = 2_524_608_000;
    if d.as_secs() < YEAR_2050 {
        UtcTime::from_unix_duration(d).map(Time::UtcTime).map_err(|e| failure("time", e))
    } else {
        GeneralizedTime::from_unix_duration(d).map(Time::GeneralTime).map_err(|e| failure("time", e))
    }
}

fn uri(url: &str) -> Result<GeneralName, X509Error> {
    Ia5String::new(url).map(GeneralName::UniformResourceIdentifier).map_err(|e| failure("URL", e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::x509::{validate_chain, ChainPurpose, ChainRule};

    fn key(kind: KeyKind, n: u8) -> SigningKey {
        let seed: Vec<u8> = (0..kind.seed_len()).map(|i| n.wrapping_add(i as u8).max(1)).collect();
        SigningKey::from_seed(kind, &seed).unwrap()
    }

    fn at(year: i64) -> Timestamp {
        Timestamp::from_civil(year, 1, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn test_chain_is_a_valid_notary_signing_chain_only_inside_its_validity() {
        let (root_key, leaf_key) = (key(KeyKind::P384, 1), key(KeyKind::P256, 2));
        let (root, leaf) =
            test_chain("CN=Root,O=Ex,ST=WA,C=US", &root_key, "CN=Leaf,O=Ex,ST=WA,C=US", &leaf_key, at(2024), at(2026))
                .unwrap();
        let chain = [leaf.clone(), root.clone()];
        validate_chain(&chain, ChainPurpose::CodeSigning, Some(at(2025))).unwrap();
        assert!(root.is_ca() && root.is_self_signed() && !leaf.is_ca());
        assert_eq!(leaf.public_key().unwrap(), leaf_key.public_key());
        assert_eq!(leaf.issuer_string(), root.subject_string());
        assert_ne!(leaf.serial_hex(), root.serial_hex());
        let err = validate_chain(&chain, ChainPurpose::CodeSigning, Some(at(2027))).unwrap_err();
        assert!(matches!(err, X509Error::Chain { rule: ChainRule::Expired { .. }, .. }), "{err}");
        // Deterministic: the same inputs give the same bytes.
        let again =
            test_chain("CN=Root,O=Ex,ST=WA,C=US", &root_key, "CN=Leaf,O=Ex,ST=WA,C=US", &leaf_key, at(2024), at(2026))
                .unwrap();
        assert_eq!(again.1.der(), leaf.der());
    }

    #[test]
    fn times_after_2049_use_generalized_time_and_round_trip() {
        let k = key(KeyKind::Ed25519, 3);
        let spec = CertificateSpec::ca("CN=Long,O=Ex,ST=WA,C=US", at(2049), at(2060), None);
        let cert = issue_self_signed(&spec, &k, &[7]).unwrap();
        assert_eq!(cert.not_before(), at(2049));
        assert_eq!(cert.not_after(), at(2060));
        assert_eq!(cert.serial_hex(), "07");
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        let k = key(KeyKind::P256, 4);
        let spec = CertificateSpec::code_signing_leaf("CN=X,O=Ex,ST=WA,C=US", at(2024), at(2026));
        let issue_error = |r: Result<Certificate, X509Error>| match r {
            Err(X509Error::Issue { what, .. }) => what,
            other => panic!("expected an issue error, got {other:?}"),
        };
        assert_eq!(issue_error(issue_self_signed(&spec, &k, &[0, 0])), "serial number");
        assert_eq!(issue_error(issue_self_signed(&spec, &k, &[0xff; 21])), "serial number");
        let spki = k.public_key_spki_der().unwrap();
        assert_eq!(issue_error(issue(&spec, &spki, Issuer { name: "not a DN", key: &k }, &[1])), "distinguished name");
        assert_eq!(issue_error(issue(&spec, b"garbage", Issuer { name: "CN=X", key: &k }, &[1])), "subject public key");
        let old = CertificateSpec { not_before: Timestamp::from_unix(-5), ..spec.clone() };
        assert_eq!(issue_error(issue_self_signed(&old, &k, &[1])), "time");
        assert!(matches!(extension("not.an.oid", false, &der::asn1::Null), Err(X509Error::Issue { .. })));
    }

    #[test]
    fn crls_list_revoked_serials_with_dates() {
        let k = key(KeyKind::P256, 5);
        let mut spec = CrlSpec::new("CN=CA,O=Ex,ST=WA,C=US", at(2024), Some(at(2026)));
        spec.revoked.push(RevokedEntry {
            serial: vec![0x10, 0x00],
            revoked_at: at(2025),
            invalidity_date: Some(at(2024)),
        });
        let der = issue_crl_der(&spec, &k).unwrap();
        issue_crl(&spec, &k).unwrap();
        let parsed = CertificateList::from_der(&der).unwrap();
        let entries = parsed.tbs_cert_list.revoked_certificates.unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].serial_number.as_bytes(), [0x10, 0x00]);
    }
}
