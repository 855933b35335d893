//! Verifying the TSA's CMS signature: the SignerInfo's signed attributes bind the TSTInfo (content-type,
//! message-digest) and the TSA certificate (ESS signing-certificate-v2), and the signature over them must verify
//! under the certificate the SignerInfo names.

use super::oid;
use super::token::TimestampToken;
use super::TimestampError;
use crate::crypto::{HashAlgorithm, Scheme};
use crate::x509::{signature_scheme, Certificate};
use alloc::format;
use alloc::vec::Vec;
use cms::signed_data::SignerIdentifier;
use der::asn1::{Any, AnyRef, Int, ObjectIdentifier, OctetString};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attributes;

/// The TSA certificate whose key signed the token, and how.
#[derive(Clone, Debug)]
pub struct TsaSigner {
    certificate: Certificate,
    scheme: Scheme,
}

impl TsaSigner {
    /// The certificate (from the token) whose key produced the signature: the leaf of the TSA chain.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The signature scheme that verified.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
}

impl TimestampToken {
    /// Checks the CMS signature of the token on its own (no trust decision): content-type = id-ct-TSTInfo and
    /// message-digest = hash(TSTInfo) among the signed attributes, the signer certificate found by sid among the
    /// token's certificates and matching the ESS signing-certificate-v2 attribute, and the signature over the
    /// DER `SET OF` signed attributes verifying under that certificate's key.
    pub fn verify_signature(&self) -> Result<TsaSigner, TimestampError> {
        let signer_info = &self.signer_info;
        let digest = oid::sha2_hash(signer_info.digest_alg.oid)
            .ok_or_else(|| TimestampError::UnsupportedDigestAlgorithm(format!("{}", signer_info.digest_alg.oid)))?;
        let (Some(attributes), Some(signed_bytes)) = (&signer_info.signed_attrs, &self.signed_attributes_der) else {
            return Err(TimestampError::MissingSignedAttributes);
        };

        let content_type = single_value(attributes, oid::ATTR_CONTENT_TYPE, "content-type")?
            .ok_or(TimestampError::MissingAttribute("content-type"))?;
        let content_type = content_type.decode_as::<ObjectIdentifier>().map_err(malformed("content-type attribute"))?;
        if content_type != oid::TST_INFO {
            return Err(TimestampError::AttributeContentTypeMismatch(format!("{content_type}")));
        }
        let message_digest = single_value(attributes, oid::ATTR_MESSAGE_DIGEST, "message-digest")?
            .ok_or(TimestampError::MissingAttribute("message-digest"))?;
        let message_digest =
            message_digest.decode_as::<OctetString>().map_err(malformed("message-digest attribute"))?;
        if message_digest.as_bytes() != digest.digest(self.tst_info_der()).as_slice() {
            return Err(TimestampError::MessageDigestMismatch);
        }

        let certificate = self.signer_certificate()?;
        check_signing_certificate_attribute(attributes, certificate)?;

        let scheme = cms_signature_scheme(&signer_info.signature_algorithm, digest)?;
        let key = certificate.public_key().map_err(TimestampError::SignerKey)?;
        key.verify(scheme, signed_bytes, signer_info.signature.as_bytes()).map_err(TimestampError::BadSignature)?;
        Ok(TsaSigner { certificate: certificate.clone(), scheme })
    }

    /// The certificate the SignerInfo's sid names (issuer and serial number, or subject key identifier).
    fn signer_certificate(&self) -> Result<&Certificate, TimestampError> {
        let found = match &self.signer_info.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => self.certificates().iter().find(|c| {
                let tbs = &c.inner().tbs_certificate;
                tbs.issuer == id.issuer && tbs.serial_number == id.serial_number
            }),
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                self.certificates().iter().find(|c| subject_key_identifier(c).as_deref() == Some(ski.0.as_bytes()))
            }
        };
        found.ok_or(TimestampError::NoSignerCertificate)
    }
}

/// The signature scheme of a SignerInfo. CMS allows the bare key algorithm (rsaEncryption, id-ecPublicKey), which
/// then signs with the SignerInfo digest; otherwise the X.509 signature algorithm table applies (SHA-1 refused).
fn cms_signature_scheme(algorithm: &AlgorithmIdentifierOwned, digest: HashAlgorithm) -> Result<Scheme, TimestampError> {
    let params_absent_or_null = algorithm.parameters.as_ref().is_none_or(|p| p.is_null());
    match algorithm.oid {
        oid::RSA_ENCRYPTION if params_absent_or_null => Ok(Scheme::RsaPkcs1v15(digest)),
        oid::EC_PUBLIC_KEY => Ok(Scheme::EcdsaDer(digest)),
        _ => signature_scheme(algorithm).map_err(|e| TimestampError::UnsupportedSignatureAlgorithm(format!("{e}"))),
    }
}

/// The one value of the attribute `wanted`, `None` when absent; repeated attributes or value counts other than one
/// are refused (RFC 5652 §11.1, §11.2).
fn single_value<'a>(
    attributes: &'a Attributes,
    wanted: ObjectIdentifier,
    name: &'static str,
) -> Result<Option<&'a Any>, TimestampError> {
    let mut matching = attributes.iter().filter(|a| a.oid == wanted);
    let Some(attribute) = matching.next() else {
        return Ok(None);
    };
    if matching.next().is_some() || attribute.values.len() != 1 {
        return Err(TimestampError::AmbiguousAttribute(name));
    }
    Ok(attribute.values.get(0))
}

/// RFC 3161 §2.4.1 requires an ESS signing-certificate attribute identifying the TSA certificate. nv2 checks the
/// SHA-2 based signing-certificate-v2 (RFC 5816), as notation does; the SHA-1 based v1 alone is not enough.
fn check_signing_certificate_attribute(
    attributes: &Attributes,
    certificate: &Certificate,
) -> Result<(), TimestampError> {
    match single_value(attributes, oid::ATTR_SIGNING_CERTIFICATE_V2, "signing-certificate-v2")? {
        Some(value) => {
            let id = first_ess_cert_id_v2(value).map_err(malformed("signing-certificate-v2 attribute"))?;
            id.check(certificate)
        }
        None => match single_value(attributes, oid::ATTR_SIGNING_CERTIFICATE, "signing-certificate")? {
            Some(_) => Err(TimestampError::SigningCertificateV1Only),
            None => Err(TimestampError::MissingAttribute("signing-certificate-v2")),
        },
    }
}

/// The first ESSCertIDv2 of a SigningCertificateV2: by RFC 5035 it identifies the signer's certificate.
struct EssCertIdV2 {
    hash_algorithm: ObjectIdentifier,
    cert_hash: Vec<u8>,
    /// The GeneralNames contents (undecoded) and the serial number.
    issuer_serial: Option<(Vec<u8>, Int)>,
}

impl EssCertIdV2 {
    fn check(&self, certificate: &Certificate) -> Result<(), TimestampError> {
        let hash = oid::sha2_hash(self.hash_algorithm)
            .ok_or(TimestampError::SigningCertificateMismatch("certificate hash algorithm is not SHA-2"))?;
        if hash.digest(certificate.der()) != self.cert_hash {
            return Err(TimestampError::SigningCertificateMismatch("certificate hash differs"));
        }
        if let Some((issuer, serial)) = &self.issuer_serial {
            let tbs = &certificate.inner().tbs_certificate;
            let issuer_der = tbs.issuer.to_der().map_err(malformed("certificate issuer"))?;
            // GeneralName directoryName is [4] EXPLICIT Name; compared as DER rather than decoded.
            let names = super::token::elements(issuer, MAX_GENERAL_NAMES, "ESS issuer names")?;
            let issuer_matches =
                names.iter().any(|n| n.tag == TAG_DIRECTORY_NAME && n.content == issuer_der.as_slice());
            if !issuer_matches {
                return Err(TimestampError::SigningCertificateMismatch("issuer differs"));
            }
            if serial.as_bytes() != tbs.serial_number.as_bytes() {
                return Err(TimestampError::SigningCertificateMismatch("serial number differs"));
            }
        }
        Ok(())
    }
}

const TAG_SEQUENCE: u8 = 0x30;
const TAG_DIRECTORY_NAME: u8 = 0xa4;
const MAX_GENERAL_NAMES: usize = 8;
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies SEQUENCE OF PolicyInformation OPTIONAL }
/// ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT id-sha256, certHash OCTET STRING,
///                            issuerSerial IssuerSerial OPTIONAL }
/// IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
fn first_ess_cert_id_v2(value: &Any) -> der::Result<EssCertIdV2> {
    let bytes = value.to_der()?;
    let mut reader = SliceReader::new(&bytes)?;
    let id = reader.sequence(|r| {
        let id = r.sequence(|certs| {
            let first = certs.sequence(|r| {
                let hash_algorithm = if r.peek_byte() == Some(TAG_SEQUENCE) {
                    r.decode::<AlgorithmIdentifierOwned>()?.oid
                } else {
                    SHA256
                };
                let cert_hash = r.decode::<OctetString>()?.into_bytes();
                let issuer_serial = if r.is_finished() {
                    None
                } else {
                    Some(r.sequence(|r| {
                        let names = r.decode::<AnyRef<'_>>()?;
                        names.tag().assert_eq(Tag::Sequence)?;
                        Ok((names.value().to_vec(), r.decode::<Int>()?))
                    })?)
                };
                Ok(EssCertIdV2 { hash_algorithm, cert_hash, issuer_serial })
            })?;
            // Further ESSCertIDv2 entries name other certificates of the chain; they are not needed.
            while !certs.is_finished() {
                certs.tlv_bytes()?;
            }
            Ok(first)
        })?;
        if !r.is_finished() {
            r.tlv_bytes()?; // policies
        }
        Ok(id)
    })?;
    reader.finish(id)
}

/// The subjectKeyIdentifier extension value of a certificate, if it has a well-formed one.
fn subject_key_identifier(certificate: &Certificate) -> Option<Vec<u8>> {
    let extensions = certificate.inner().tbs_certificate.extensions.as_ref()?;
    let extension = extensions.iter().find(|e| e.extn_id == oid::SUBJECT_KEY_IDENTIFIER)?;
    OctetString::from_der(extension.extn_value.as_bytes()).ok().map(OctetString::into_bytes)
}

fn malformed(what: &'static str) -> impl Fn(der::Error) -> TimestampError {
    move |e| TimestampError::Malformed { what, reason: format!("{e}") }
}

#[cfg(test)]
mod tests {
    use super::super::tests_fixtures::valid_token;
    use super::*;
    use alloc::vec;

    fn leaf_and_issuer() -> (Certificate, Certificate) {
        let token = TimestampToken::parse(&valid_token()).unwrap();
        let leaf = token.verify_signature().unwrap().certificate().clone();
        let issuer = token.certificates().iter().find(|c| c.subject_string().contains("Timestamping CA")).unwrap();
        (leaf, issuer.clone())
    }

    fn directory_name(name: &x509_cert::name::Name) -> Vec<u8> {
        let inner = name.to_der().unwrap();
        let mut out = vec![TAG_DIRECTORY_NAME, u8::try_from(inner.len()).unwrap()];
        out.extend(inner);
        out
    }

    #[test]
    fn ess_cert_id_checks_hash_issuer_and_serial() {
        let (leaf, issuer) = leaf_and_issuer();
        let tbs = &leaf.inner().tbs_certificate;
        let good = EssCertIdV2 {
            hash_algorithm: SHA256,
            cert_hash: HashAlgorithm::Sha256.digest(leaf.der()),
            issuer_serial: Some((directory_name(&tbs.issuer), Int::new(tbs.serial_number.as_bytes()).unwrap())),
        };
        assert_eq!(good.check(&leaf), Ok(()));
        assert_eq!(good.check(&issuer), Err(TimestampError::SigningCertificateMismatch("certificate hash differs")));

        let wrong_issuer = EssCertIdV2 {
            issuer_serial: Some((directory_name(&tbs.subject), Int::new(tbs.serial_number.as_bytes()).unwrap())),
            ..good
        };
        assert_eq!(wrong_issuer.check(&leaf), Err(TimestampError::SigningCertificateMismatch("issuer differs")));

        let good = EssCertIdV2 {
            hash_algorithm: SHA256,
            cert_hash: HashAlgorithm::Sha256.digest(leaf.der()),
            issuer_serial: Some((directory_name(&tbs.issuer), Int::new(&[0x01, 0x02]).unwrap())),
        };
        assert_eq!(good.check(&leaf), Err(TimestampError::SigningCertificateMismatch("serial number differs")));

        let sha1 = EssCertIdV2 {
            hash_algorithm: ObjectIdentifier::new_unwrap("1.3.14.3.2.26"),
            cert_hash: vec![0; 20],
            issuer_serial: None,
        };
        assert!(matches!(sha1.check(&leaf), Err(TimestampError::SigningCertificateMismatch(_))));
    }

    #[test]
    fn cms_signature_algorithms() {
        let alg = |oid: &str| AlgorithmIdentifierOwned { oid: ObjectIdentifier::new_unwrap(oid), parameters: None };
        let h = HashAlgorithm::Sha384;
        assert_eq!(cms_signature_scheme(&alg("1.2.840.113549.1.1.1"), h), Ok(Scheme::RsaPkcs1v15(h)));
        assert_eq!(cms_signature_scheme(&alg("1.2.840.10045.2.1"), h), Ok(Scheme::EcdsaDer(h)));
        assert_eq!(cms_signature_scheme(&alg("1.2.840.10045.4.3.2"), h), Ok(Scheme::EcdsaDer(HashAlgorithm::Sha256)));
        assert!(matches!(
            cms_signature_scheme(&alg("1.2.840.113549.1.1.5"), h),
            Err(TimestampError::UnsupportedSignatureAlgorithm(_))
        ));
    }
}
