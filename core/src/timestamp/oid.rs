//! The object identifiers a timestamp token is made of, and the mapping of digest OIDs onto [`HashAlgorithm`].

use crate::crypto::HashAlgorithm;
use der::asn1::ObjectIdentifier as Oid;

/// id-signedData (RFC 5652).
pub(crate) const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
/// id-ct-TSTInfo (RFC 3161).
pub(crate) const TST_INFO: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.1.4");
/// content-type signed attribute.
pub(crate) const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// message-digest signed attribute.
pub(crate) const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// ESS signing-certificate (RFC 2634, SHA-1 certificate hashes).
pub(crate) const ATTR_SIGNING_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.12");
/// ESS signing-certificate-v2 (RFC 5035).
pub(crate) const ATTR_SIGNING_CERTIFICATE_V2: Oid = Oid::new_unwrap("1.2.840.113549.1.9.16.2.47");
/// rsaEncryption used as a CMS signature algorithm (PKCS#1 v1.5 with the SignerInfo digest).
pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey used as a CMS signature algorithm (ECDSA with the SignerInfo digest).
pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// subjectKeyIdentifier certificate extension.
pub(crate) const SUBJECT_KEY_IDENTIFIER: Oid = Oid::new_unwrap("2.5.29.14");
/// ETSI baseline timestamp policy (ETSI EN 319 421): accuracy defaults to one second under it.
pub(crate) const BASELINE_TIMESTAMP_POLICY: Oid = Oid::new_unwrap("0.4.0.2023.1.1");

const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// The SHA-2 hash an OID names; SHA-1, MD5 and everything else give `None`.
pub(crate) fn sha2_hash(oid: Oid) -> Option<HashAlgorithm> {
    match oid {
        SHA256 => Some(HashAlgorithm::Sha256),
        SHA384 => Some(HashAlgorithm::Sha384),
        SHA512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}
