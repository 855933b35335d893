//! One X.509 certificate, kept byte-for-byte as received, with the facts the Notary rules need.

use super::extensions::Extensions;
use super::{name, signature_algorithm::signature_scheme, X509Error};
use crate::crypto::PublicKey;
use crate::limits::MAX_CERTIFICATE_BYTES;
use crate::time::Timestamp;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;
use der::{Decode, Encode};
use sha2::Digest as _;

/// A parsed certificate that remembers its exact DER, so trust-store matching, thumbprints and signature checks
/// all work on the bytes that were received rather than on a re-encoding.
#[derive(Clone, Debug)]
pub struct Certificate {
    der: Vec<u8>,
    tbs: Range<usize>,
    inner: x509_cert::Certificate,
    extensions: Extensions,
}

impl PartialEq for Certificate {
    /// Two certificates are the same when their DER bytes are (notation's trust-store match).
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl Certificate {
    /// Parses one DER certificate (no trailing bytes), bounded by [`MAX_CERTIFICATE_BYTES`]. Duplicate extensions,
    /// malformed basicConstraints/keyUsage/EKU and differing inner/outer signature algorithms are refused, as Go does.
    pub fn from_der(der: &[u8]) -> Result<Certificate, X509Error> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(X509Error::TooLarge { what: "certificate", size: der.len(), max: MAX_CERTIFICATE_BYTES });
        }
        let malformed = |e: der::Error| X509Error::Malformed { what: "certificate", reason: format!("{e}") };
        let inner = x509_cert::Certificate::from_der(der).map_err(malformed)?;
        if inner.signature_algorithm != inner.tbs_certificate.signature {
            return Err(X509Error::SignatureAlgorithmMismatch);
        }
        let tbs = first_element_range(der).map_err(malformed)?;
        let extensions = Extensions::decode(inner.tbs_certificate.extensions.as_ref())?;
        Ok(Certificate { der: der.to_vec(), tbs, inner, extensions })
    }

    /// The exact DER bytes this certificate was parsed from.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The decoded structure, for callers that need a field this wrapper does not expose.
    pub fn inner(&self) -> &x509_cert::Certificate {
        &self.inner
    }

    pub(crate) fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The subject public key, refused when it is of a type or size nv2 cannot verify with.
    pub fn public_key(&self) -> Result<PublicKey, X509Error> {
        let spki = self
            .inner
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| X509Error::Malformed { what: "certificate public key", reason: format!("{e}") })?;
        PublicKey::from_spki_der(&spki).map_err(X509Error::Key)
    }

    /// Subject attributes as `(type, value)` pairs for trusted-identity matching; see the module notes on how types
    /// are named (Go's short names, dotted OIDs otherwise).
    pub fn subject_attributes(&self) -> Result<Vec<(String, String)>, X509Error> {
        Ok(name::attributes(&self.inner.tbs_certificate.subject))
    }

    /// The subject in RFC 4514 form as notation prints it (`CN=e2e,O=Notary,L=Seattle,ST=WA,C=US`).
    pub fn subject_string(&self) -> String {
        name::display(&self.inner.tbs_certificate.subject)
    }

    /// The issuer in RFC 4514 form as notation prints it.
    pub fn issuer_string(&self) -> String {
        name::display(&self.inner.tbs_certificate.issuer)
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> Timestamp {
        time_of(self.inner.tbs_certificate.validity.not_before)
    }

    /// End of the validity period (inclusive).
    pub fn not_after(&self) -> Timestamp {
        time_of(self.inner.tbs_certificate.validity.not_after)
    }

    /// Whether `at` lies within notBefore..=notAfter (both ends inclusive, as in Go).
    pub fn is_valid_at(&self, at: Timestamp) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// Issuer name equals subject name.
    pub fn is_self_issued(&self) -> bool {
        self.inner.tbs_certificate.issuer == self.inner.tbs_certificate.subject
    }

    /// Self-issued and its signature verifies with its own public key.
    pub fn is_self_signed(&self) -> bool {
        self.is_self_issued() && self.verify_signed_by(self).is_ok()
    }

    /// basicConstraints is present with cA=true.
    pub fn is_ca(&self) -> bool {
        self.extensions.basic_constraints.as_ref().is_some_and(|bc| bc.value.0)
    }

    /// The serial number as lowercase hex of its DER integer bytes.
    pub fn serial_hex(&self) -> String {
        hex(self.inner.tbs_certificate.serial_number.as_bytes())
    }

    /// SHA-256 over the DER bytes: the certificate thumbprint notation writes into signature manifests.
    pub fn sha256_fingerprint(&self) -> [u8; 32] {
        sha2::Sha256::digest(&self.der).into()
    }

    /// [`Certificate::sha256_fingerprint`] as lowercase hex (notation's annotation form).
    pub fn sha256_fingerprint_hex(&self) -> String {
        hex(&self.sha256_fingerprint())
    }

    /// The URIs of the cRLDistributionPoints full names, in order. Non-HTTP URIs are listed too, because notation
    /// counts them as CRL pointers (and then fails to fetch them); [`crate::x509::check_chain_revocation`] only asks
    /// the host for `http://` ones.
    pub fn crl_distribution_points(&self) -> Vec<String> {
        self.extensions.crl_distribution_points.clone()
    }

    /// The OCSP responder URIs from authorityInfoAccess.
    pub fn ocsp_urls(&self) -> Vec<String> {
        self.extensions.ocsp_urls.clone()
    }

    /// The bytes covered by the signature (the received `tbsCertificate`).
    pub(crate) fn signed_bytes(&self) -> &[u8] {
        self.der.get(self.tbs.clone()).unwrap_or(&[])
    }

    /// Verifies this certificate's signature with `issuer`'s public key. SHA-1 algorithms give
    /// [`X509Error::Sha1Signature`]; a wrong key gives [`X509Error::BadSignature`].
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), X509Error> {
        let scheme = signature_scheme(&self.inner.signature_algorithm)?;
        let key = issuer.public_key()?;
        let signature = self.inner.signature.as_bytes().ok_or_else(|| X509Error::Malformed {
            what: "certificate",
            reason: String::from("signature BIT STRING has unused bits"),
        })?;
        key.verify(scheme, self.signed_bytes(), signature).map_err(X509Error::from)
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Where the `tbsCertificate` (or `tbsCertList`) element sits inside a signed DER object: the signed bytes.
pub(crate) fn first_element_range(der: &[u8]) -> Result<Range<usize>, der::Error> {
    let mut reader = der::SliceReader::new(der)?;
    let outer = der::Header::decode(&mut reader)?;
    let start = usize::try_from(outer.encoded_len()?)?;
    let inner = der::Header::decode(&mut reader)?;
    let len = usize::try_from(inner.encoded_len()?)?.checked_add(usize::try_from(inner.length)?);
    let end = len.and_then(|l| start.checked_add(l)).filter(|&e| e <= der.len()).ok_or(der::ErrorKind::Overflow)?;
    Ok(start..end)
}

pub(crate) fn time_of(t: x509_cert::time::Time) -> Timestamp {
    Timestamp::from_unix(i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX))
}
