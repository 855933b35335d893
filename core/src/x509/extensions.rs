//! The extensions the Notary Project rules look at, decoded once when a certificate is parsed.
//!
//! Only basicConstraints, keyUsage and extendedKeyUsage drive chain decisions; CRL distribution points and the
//! OCSP locations from authorityInfoAccess feed revocation. Everything else "fails open", as in notation.
//! Malformed known extensions and duplicated extensions make the certificate unparsable, as in Go.

use super::X509Error;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use der::asn1::ObjectIdentifier as Oid;
use der::Decode;
use x509_cert::ext::pkix::{
    name::{DistributionPointName, GeneralName},
    AuthorityInfoAccessSyntax, BasicConstraints, CrlDistributionPoints, ExtendedKeyUsage, KeyUsage, KeyUsages,
};

const BASIC_CONSTRAINTS: Oid = Oid::new_unwrap("2.5.29.19");
const KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.15");
const EXTENDED_KEY_USAGE: Oid = Oid::new_unwrap("2.5.29.37");
const CRL_DISTRIBUTION_POINTS: Oid = Oid::new_unwrap("2.5.29.31");
const AUTHORITY_INFO_ACCESS: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.1.1");
const OCSP_ACCESS_METHOD: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.48.1");

/// Bound on URLs kept per certificate, so a hostile certificate cannot make a host fetch without end.
const MAX_URLS: usize = 16;

/// id-kp-serverAuth.
pub(crate) const EKU_SERVER_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.1");
/// id-kp-clientAuth.
pub(crate) const EKU_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-kp-emailProtection.
pub(crate) const EKU_EMAIL_PROTECTION: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.4");
/// id-kp-timeStamping.
pub(crate) const EKU_TIME_STAMPING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.8");
/// id-kp-OCSPSigning.
pub(crate) const EKU_OCSP_SIGNING: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.9");

/// A decoded extension value with its criticality.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Marked<T> {
    pub critical: bool,
    pub value: T,
}

/// The extensions nv2 interprets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Extensions {
    /// (cA, pathLenConstraint).
    pub basic_constraints: Option<Marked<(bool, Option<u8>)>>,
    pub key_usage: Option<Marked<KeyUsage>>,
    pub extended_key_usage: Option<Marked<Vec<Oid>>>,
    pub crl_distribution_points: Vec<String>,
    pub ocsp_urls: Vec<String>,
}

impl Extensions {
    /// Decodes the interesting extensions and refuses duplicates of any extension.
    pub fn decode(list: Option<&x509_cert::ext::Extensions>) -> Result<Self, X509Error> {
        let list = list.map(Vec::as_slice).unwrap_or(&[]);
        let mut out = Extensions::default();
        let mut ids: Vec<&Oid> = list.iter().map(|e| &e.extn_id).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair.first() == pair.get(1)) {
            let id = pair.first().map(|id| id.to_string()).unwrap_or_default();
            return Err(X509Error::DuplicateExtension(id));
        }
        for ext in list {
            let bytes = ext.extn_value.as_bytes();
            let bad = |name: &str, e: der::Error| X509Error::Malformed {
                what: "certificate extension",
                reason: format!("{name}: {e}"),
            };
            let critical = ext.critical;
            match ext.extn_id {
                BASIC_CONSTRAINTS => {
                    let bc = BasicConstraints::from_der(bytes).map_err(|e| bad("basicConstraints", e))?;
                    out.basic_constraints = Some(Marked { critical, value: (bc.ca, bc.path_len_constraint) });
                }
                KEY_USAGE => {
                    let ku = KeyUsage::from_der(bytes).map_err(|e| bad("keyUsage", e))?;
                    out.key_usage = Some(Marked { critical, value: ku });
                }
                EXTENDED_KEY_USAGE => {
                    let eku = ExtendedKeyUsage::from_der(bytes).map_err(|e| bad("extendedKeyUsage", e))?;
                    out.extended_key_usage = Some(Marked { critical, value: eku.0 });
                }
                CRL_DISTRIBUTION_POINTS => {
                    let dps = CrlDistributionPoints::from_der(bytes).map_err(|e| bad("cRLDistributionPoints", e))?;
                    for dp in dps.0 {
                        if let Some(DistributionPointName::FullName(names)) = dp.distribution_point {
                            push_uris(&mut out.crl_distribution_points, &names);
                        }
                    }
                }
                AUTHORITY_INFO_ACCESS => {
                    let aia = AuthorityInfoAccessSyntax::from_der(bytes).map_err(|e| bad("authorityInfoAccess", e))?;
                    let ocsp: Vec<GeneralName> = aia
                        .0
                        .into_iter()
                        .filter(|d| d.access_method == OCSP_ACCESS_METHOD)
                        .map(|d| d.access_location)
                        .collect();
                    push_uris(&mut out.ocsp_urls, &ocsp);
                }
                _ => {}
            }
        }
        Ok(out)
    }
}

fn push_uris(into: &mut Vec<String>, names: &[GeneralName]) {
    for name in names {
        if let GeneralName::UniformResourceIdentifier(uri) = name {
            if into.len() < MAX_URLS {
                into.push(String::from(uri.as_str()));
            }
        }
    }
}

/// The keyUsage bits a leaf must not carry, with the names used in messages.
pub(crate) const FORBIDDEN_LEAF_USAGES: [(KeyUsages, &str); 7] = [
    (KeyUsages::KeyEncipherment, "keyEncipherment"),
    (KeyUsages::DataEncipherment, "dataEncipherment"),
    (KeyUsages::KeyAgreement, "keyAgreement"),
    (KeyUsages::KeyCertSign, "keyCertSign"),
    (KeyUsages::CRLSign, "cRLSign"),
    (KeyUsages::EncipherOnly, "encipherOnly"),
    (KeyUsages::DecipherOnly, "decipherOnly"),
];
