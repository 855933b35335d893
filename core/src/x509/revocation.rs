//! CRL revocation checking as notation-go does it, without a network: the host hands CRL bytes in through a
//! `fetch(url)` closure (from HTTP, a cache or a fixture) and the core decides.
//!
//! Per certificate (every one but the root, whose issuer is the next certificate): no CRL distribution point and no
//! OCSP pointer means non-revocable (fine). Otherwise every CRL URL must be `http://`, be fetchable, parse, be signed
//! by the issuer, be current at `at` (thisUpdate ≤ at ≤ nextUpdate) and carry no delta-CRL pointer or unknown
//! critical extension; any failure makes the certificate's status unknown. A listed serial means revoked, unless an
//! invalidityDate later than the signing time says the key was still good when it signed. OCSP is not spoken here,
//! so a certificate that only has OCSP pointers is unknown. Overall: revoked if any certificate is revoked, else
//! unknown if any is unknown, else good; notation fails verification on both revoked and unknown.

use super::certificate::{first_element_range, hex, time_of};
use super::{signature_algorithm::signature_scheme, Certificate, X509Error};
use crate::limits::MAX_CRL_BYTES;
use crate::time::Timestamp;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;
use der::asn1::{GeneralizedTime, ObjectIdentifier as Oid};
use der::Decode;
use x509_cert::crl::{CertificateList, RevokedCert};

const FRESHEST_CRL: Oid = Oid::new_unwrap("2.5.29.46");
const ISSUING_DISTRIBUTION_POINT: Oid = Oid::new_unwrap("2.5.29.28");
const INVALIDITY_DATE: Oid = Oid::new_unwrap("2.5.29.24");

/// A parsed certificate revocation list, with its received bytes kept for signature checking.
#[derive(Clone, Debug)]
pub struct Crl {
    der: Vec<u8>,
    tbs: Range<usize>,
    inner: CertificateList,
}

impl Crl {
    /// Parses a DER CRL bounded by [`MAX_CRL_BYTES`]. (Version 1 CRLs without a version field are not read.)
    pub fn parse(der: &[u8]) -> Result<Crl, X509Error> {
        if der.len() > MAX_CRL_BYTES {
            return Err(X509Error::TooLarge { what: "CRL", size: der.len(), max: MAX_CRL_BYTES });
        }
        let malformed = |e: der::Error| X509Error::Malformed { what: "CRL", reason: format!("{e}") };
        let inner = CertificateList::from_der(der).map_err(malformed)?;
        if inner.signature_algorithm != inner.tbs_cert_list.signature {
            return Err(X509Error::SignatureAlgorithmMismatch);
        }
        let tbs = first_element_range(der).map_err(malformed)?;
        Ok(Crl { der: der.to_vec(), tbs, inner })
    }

    /// The decoded structure.
    pub fn inner(&self) -> &CertificateList {
        &self.inner
    }

    /// When this CRL was issued.
    pub fn this_update(&self) -> Timestamp {
        time_of(self.inner.tbs_cert_list.this_update)
    }

    /// When the next CRL is due; after it this one is stale.
    pub fn next_update(&self) -> Option<Timestamp> {
        self.inner.tbs_cert_list.next_update.map(time_of)
    }

    /// thisUpdate ≤ `at` and, when nextUpdate is present, `at` ≤ nextUpdate.
    pub fn is_current_at(&self, at: Timestamp) -> bool {
        self.this_update() <= at && self.next_update().is_none_or(|next| at <= next)
    }

    /// Verifies the CRL signature with `issuer`'s key after checking `issuer` may sign CRLs (Go's rules: a v3
    /// certificate needs basicConstraints cA=true; keyUsage, when present, needs cRLSign).
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), X509Error> {
        let ext = issuer.extensions();
        let not_allowed = |reason| X509Error::CrlIssuerNotAllowed { subject: issuer.subject_string(), reason };
        let v3 = issuer.inner().tbs_certificate.version == x509_cert::certificate::Version::V3;
        match &ext.basic_constraints {
            None if v3 => return Err(not_allowed("no basicConstraints extension")),
            Some(bc) if !bc.value.0 => return Err(not_allowed("basicConstraints cA is false")),
            _ => {}
        }
        if ext.key_usage.as_ref().is_some_and(|ku| !ku.value.crl_sign()) {
            return Err(not_allowed("keyUsage lacks cRLSign"));
        }
        let scheme = signature_scheme(&self.inner.signature_algorithm)?;
        let signature = self.inner.signature.as_bytes().ok_or_else(|| X509Error::Malformed {
            what: "CRL",
            reason: String::from("signature BIT STRING has unused bits"),
        })?;
        let signed = self.der.get(self.tbs.clone()).unwrap_or(&[]);
        issuer.public_key()?.verify(scheme, signed, signature).map_err(X509Error::from)
    }

    /// The entry listing `cert`'s serial number, if any.
    pub fn entry_for(&self, cert: &Certificate) -> Option<&RevokedCert> {
        let serial = cert.inner().tbs_certificate.serial_number.as_bytes();
        self.inner.tbs_cert_list.revoked_certificates.as_deref()?.iter().find(|e| e.serial_number.as_bytes() == serial)
    }

    /// Why this CRL cannot be used (delta CRL pointer, unknown critical extension), if so.
    fn unsupported_extension(&self) -> Option<String> {
        for ext in self.inner.tbs_cert_list.crl_extensions.as_deref().unwrap_or(&[]) {
            if ext.extn_id == FRESHEST_CRL {
                return Some(String::from("delta CRLs are not supported"));
            }
            if ext.critical && ext.extn_id != ISSUING_DISTRIBUTION_POINT {
                return Some(format!("unsupported critical CRL extension {}", ext.extn_id));
            }
        }
        None
    }
}

/// The revocation status of one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertificateStatus {
    /// No CRL or OCSP pointer (or it is the root): nothing to check, which notation treats as fine.
    NonRevocable,
    /// Every CRL was current, properly signed and did not list the certificate.
    Good,
    /// A CRL lists the certificate.
    Revoked {
        /// Serial number (lowercase hex).
        serial: String,
        /// revocationDate from the CRL entry.
        revoked_at: Timestamp,
        /// The CRL URL that said so.
        url: String,
    },
    /// The status could not be established.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// One certificate's outcome in a [`RevocationReport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRevocation {
    /// Position in the chain, 0 = leaf.
    pub index: usize,
    /// RFC 4514 subject.
    pub subject: String,
    /// Its status.
    pub status: CertificateStatus,
}

/// The overall revocation verdict of a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    /// No certificate is revoked and every status is known.
    Good,
    /// A certificate is revoked (the first one found, leaf first).
    Revoked {
        /// Position in the chain.
        index: usize,
        /// Serial number (lowercase hex).
        serial: String,
        /// RFC 4514 subject.
        subject: String,
        /// revocationDate from the CRL entry.
        revoked_at: Timestamp,
    },
    /// Some certificate's status is unknown (and none is revoked).
    Unknown {
        /// Position in the chain.
        index: usize,
        /// Why.
        reason: String,
    },
}

/// The verdict plus each certificate's status, for messages and audit logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevocationReport {
    /// The overall verdict.
    pub status: RevocationStatus,
    /// Per certificate, leaf first (the root is listed as non-revocable).
    pub certificates: Vec<CertificateRevocation>,
}

/// Checks every certificate of `chain` (leaf first, root last) against its CRLs at `at`. `fetch` returns the bytes
/// served at a CRL URL, or `None` when they cannot be had. The chain must already have passed
/// [`validate_chain`](crate::x509::validate_chain): each certificate's issuer is taken to be the next one.
pub fn check_chain_revocation(
    chain: &[Certificate],
    fetch: &dyn Fn(&str) -> Option<Vec<u8>>,
    at: Timestamp,
) -> RevocationReport {
    check_chain_revocation_at_signing_time(chain, fetch, at, None)
}

/// [`check_chain_revocation`] for the signingAuthority scheme: a CRL entry whose invalidityDate is after
/// `signing_time` does not count, because the key was still trustworthy when it signed.
pub fn check_chain_revocation_at_signing_time(
    chain: &[Certificate],
    fetch: &dyn Fn(&str) -> Option<Vec<u8>>,
    at: Timestamp,
    signing_time: Option<Timestamp>,
) -> RevocationReport {
    let mut certificates = Vec::with_capacity(chain.len());
    for (index, cert) in chain.iter().enumerate() {
        let status = match chain.get(index + 1) {
            Some(issuer) => certificate_status(cert, issuer, fetch, at, signing_time),
            None => CertificateStatus::NonRevocable,
        };
        certificates.push(CertificateRevocation { index, subject: cert.subject_string(), status });
    }
    let revoked = certificates.iter().find_map(|c| match &c.status {
        CertificateStatus::Revoked { serial, revoked_at, .. } => Some(RevocationStatus::Revoked {
            index: c.index,
            serial: serial.clone(),
            subject: c.subject.clone(),
            revoked_at: *revoked_at,
        }),
        _ => None,
    });
    let unknown = || {
        certificates.iter().find_map(|c| match &c.status {
            CertificateStatus::Unknown { reason } => {
                Some(RevocationStatus::Unknown { index: c.index, reason: reason.clone() })
            }
            _ => None,
        })
    };
    let status = if chain.is_empty() {
        RevocationStatus::Unknown { index: 0, reason: String::from("empty certificate chain") }
    } else {
        revoked.or_else(unknown).unwrap_or(RevocationStatus::Good)
    };
    RevocationReport { status, certificates }
}

fn certificate_status(
    cert: &Certificate,
    issuer: &Certificate,
    fetch: &dyn Fn(&str) -> Option<Vec<u8>>,
    at: Timestamp,
    signing_time: Option<Timestamp>,
) -> CertificateStatus {
    let urls = cert.crl_distribution_points();
    if urls.is_empty() {
        return if cert.ocsp_urls().is_empty() {
            CertificateStatus::NonRevocable
        } else {
            CertificateStatus::Unknown {
                reason: String::from("the certificate names only OCSP responders and nv2 checks revocation by CRL"),
            }
        };
    }
    for url in urls {
        match check_one_crl(cert, issuer, &url, fetch, at, signing_time) {
            Ok(None) => {}
            Ok(Some(revoked)) => return revoked,
            Err(reason) => return CertificateStatus::Unknown { reason: format!("CRL {url}: {reason}") },
        }
    }
    CertificateStatus::Good
}

/// `Ok(None)`: not listed; `Ok(Some(Revoked))`: listed; `Err`: the CRL cannot be relied on.
fn check_one_crl(
    cert: &Certificate,
    issuer: &Certificate,
    url: &str,
    fetch: &dyn Fn(&str) -> Option<Vec<u8>>,
    at: Timestamp,
    signing_time: Option<Timestamp>,
) -> Result<Option<CertificateStatus>, String> {
    let is_http = url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    if !is_http {
        return Err(String::from("only http:// CRL URLs are supported"));
    }
    let bytes = fetch(url).ok_or_else(|| String::from("could not be fetched"))?;
    let crl = Crl::parse(&bytes).map_err(|e| format!("{e}"))?;
    crl.verify_signed_by(issuer).map_err(|e| format!("not signed by the issuer {}: {e}", issuer.subject_string()))?;
    if at < crl.this_update() {
        return Err(format!("not valid before {}", crl.this_update()));
    }
    if let Some(next) = crl.next_update().filter(|next| at > *next) {
        return Err(format!("expired at {next}"));
    }
    if let Some(why) = crl.unsupported_extension() {
        return Err(why);
    }
    let Some(entry) = crl.entry_for(cert) else {
        return Ok(None);
    };
    let mut invalidity = None;
    for ext in entry.crl_entry_extensions.as_deref().unwrap_or(&[]) {
        if ext.extn_id == INVALIDITY_DATE {
            let date = GeneralizedTime::from_der(ext.extn_value.as_bytes())
                .map_err(|e| format!("malformed invalidityDate: {e}"))?;
            invalidity =
                Some(Timestamp::from_unix(i64::try_from(date.to_unix_duration().as_secs()).unwrap_or(i64::MAX)));
        } else if ext.critical {
            return Err(format!("unsupported critical CRL entry extension {}", ext.extn_id));
        }
    }
    if let (Some(signed), Some(invalid)) = (signing_time, invalidity) {
        if signed < invalid {
            return Ok(None);
        }
    }
    Ok(Some(CertificateStatus::Revoked {
        serial: hex(cert.inner().tbs_certificate.serial_number.as_bytes()),
        revoked_at: time_of(entry.revocation_date),
        url: String::from(url),
    }))
}
