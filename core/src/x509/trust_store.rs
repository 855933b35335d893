//! What a trust store may hold, as notation-go's `truststore` package checks it when a store is loaded, and the
//! `--timestamp-root-cert` file rule.

use super::{parse_certificates, Certificate, X509Error};
use alloc::format;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

/// The three trust store types under `truststore/x509/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrustStoreKind {
    /// `ca`: roots (and intermediates) for the `notary.x509` signing scheme.
    Ca,
    /// `signingAuthority`: certificates for the `notary.x509.signingAuthority` scheme.
    SigningAuthority,
    /// `tsa`: root certificates of timestamping authorities.
    Tsa,
}

impl TrustStoreKind {
    /// The directory and policy name (`ca`, `signingAuthority`, `tsa`).
    pub fn name(self) -> &'static str {
        match self {
            TrustStoreKind::Ca => "ca",
            TrustStoreKind::SigningAuthority => "signingAuthority",
            TrustStoreKind::Tsa => "tsa",
        }
    }
}

impl FromStr for TrustStoreKind {
    type Err = X509Error;

    /// Parses the exact, case-sensitive names notation uses.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ca" => Ok(TrustStoreKind::Ca),
            "signingAuthority" => Ok(TrustStoreKind::SigningAuthority),
            "tsa" => Ok(TrustStoreKind::Tsa),
            other => Err(X509Error::UnknownTrustStoreKind(String::from(other))),
        }
    }
}

impl fmt::Display for TrustStoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether `cert` may sit in a store of `kind`. `ca` and `signingAuthority`: a CA certificate (basicConstraints
/// cA=true) or a certificate whose signature verifies under its own key. `tsa`: additionally a root CA certificate,
/// i.e. usable as a CA (Go's `CheckSignatureFrom` rules), self-signed and self-issued.
pub fn check_trust_store_certificate(cert: &Certificate, kind: TrustStoreKind) -> Result<(), X509Error> {
    if !cert.is_ca() && cert.verify_signed_by(cert).is_err() {
        return Err(X509Error::NotCaOrSelfSigned { subject: cert.subject_string() });
    }
    if kind == TrustStoreKind::Tsa {
        check_root_ca(cert)?;
    }
    Ok(())
}

/// Reads a `--timestamp-root-cert` file: exactly one certificate, and it must be a self-signed, self-issued root
/// CA certificate.
pub fn check_tsa_root_file(bytes: &[u8]) -> Result<Certificate, X509Error> {
    let mut certs = parse_certificates(bytes)?;
    if certs.len() > 1 {
        return Err(X509Error::MoreThanOneCertificate { count: certs.len() });
    }
    let cert = certs.pop().ok_or(X509Error::NoCertificate)?;
    check_root_ca(&cert)?;
    Ok(cert)
}

/// A root CA: allowed to sign certificates (Go: a v3 certificate needs basicConstraints cA=true, and keyUsage, when
/// present, needs keyCertSign), its own signature verifies, and issuer equals subject.
fn check_root_ca(cert: &Certificate) -> Result<(), X509Error> {
    let not_root = |reason: String| X509Error::NotRootCertificate { subject: cert.subject_string(), reason };
    let ext = cert.extensions();
    let v3 = cert.inner().tbs_certificate.version == x509_cert::certificate::Version::V3;
    match &ext.basic_constraints {
        None if v3 => return Err(not_root(String::from("no basicConstraints extension"))),
        Some(bc) if !bc.value.0 => return Err(not_root(String::from("basicConstraints cA is false"))),
        _ => {}
    }
    if let Some(ku) = &ext.key_usage {
        if !ku.value.key_cert_sign() {
            return Err(not_root(String::from("keyUsage lacks keyCertSign")));
        }
    }
    cert.verify_signed_by(cert)
        .map_err(|e| not_root(format!("its signature does not verify under its own key: {e}")))?;
    if !cert.is_self_issued() {
        return Err(not_root(format!(
            "issuer ({}) and subject ({}) differ",
            cert.issuer_string(),
            cert.subject_string()
        )));
    }
    Ok(())
}
