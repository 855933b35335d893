//! Maps X.509 / CRL `signatureAlgorithm` identifiers onto the core's verification [`Scheme`]s.
//!
//! SHA-1 based identifiers get their own error because the Notary Project forbids them outright (a distinct
//! message helps people re-issue their certificates); everything unknown is "unsupported".

use super::X509Error;
use crate::crypto::{HashAlgorithm, Scheme};
use alloc::format;
use der::asn1::ObjectIdentifier as Oid;
use spki::AlgorithmIdentifierOwned;

const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
const RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
const MGF1: Oid = Oid::new_unwrap("1.2.840.113549.1.1.8");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");

/// SHA-1 based signature algorithms: sha1WithRSAEncryption, the old OIW sha1WithRSA, ecdsa-with-SHA1, dsa-with-sha1.
const SHA1_BASED: [Oid; 4] = [
    Oid::new_unwrap("1.2.840.113549.1.1.5"),
    Oid::new_unwrap("1.3.14.3.2.29"),
    Oid::new_unwrap("1.2.840.10045.4.1"),
    Oid::new_unwrap("1.2.840.10040.4.3"),
];

/// The verification scheme an X.509 `AlgorithmIdentifier` denotes. RSA-PSS parameters are parsed and must use the
/// same SHA-2 hash for the message and MGF1.
pub fn signature_scheme(algorithm: &AlgorithmIdentifierOwned) -> Result<Scheme, X509Error> {
    let oid = algorithm.oid;
    let params_absent_or_null = algorithm.parameters.as_ref().is_none_or(|p| p.is_null());
    let rsa = |hash| {
        if params_absent_or_null {
            Ok(Scheme::RsaPkcs1v15(hash))
        } else {
            Err(X509Error::UnsupportedSignatureAlgorithm(format!("{oid} with parameters")))
        }
    };
    let ecdsa = |hash| {
        if algorithm.parameters.is_none() {
            Ok(Scheme::EcdsaDer(hash))
        } else {
            Err(X509Error::UnsupportedSignatureAlgorithm(format!("{oid} with parameters")))
        }
    };
    match oid {
        SHA256_WITH_RSA => rsa(HashAlgorithm::Sha256),
        SHA384_WITH_RSA => rsa(HashAlgorithm::Sha384),
        SHA512_WITH_RSA => rsa(HashAlgorithm::Sha512),
        ECDSA_WITH_SHA256 => ecdsa(HashAlgorithm::Sha256),
        ECDSA_WITH_SHA384 => ecdsa(HashAlgorithm::Sha384),
        ECDSA_WITH_SHA512 => ecdsa(HashAlgorithm::Sha512),
        ED25519 if algorithm.parameters.is_none() => Ok(Scheme::Ed25519),
        RSASSA_PSS => pss_scheme(algorithm),
        _ if SHA1_BASED.contains(&oid) => Err(X509Error::Sha1Signature(format!("{oid}"))),
        _ => Err(X509Error::UnsupportedSignatureAlgorithm(format!("{oid}"))),
    }
}

fn sha2(oid: Oid) -> Option<HashAlgorithm> {
    match oid {
        SHA256 => Some(HashAlgorithm::Sha256),
        SHA384 => Some(HashAlgorithm::Sha384),
        SHA512 => Some(HashAlgorithm::Sha512),
        _ => None,
    }
}

fn pss_scheme(algorithm: &AlgorithmIdentifierOwned) -> Result<Scheme, X509Error> {
    let unsupported = |why: &str| X509Error::UnsupportedSignatureAlgorithm(format!("RSASSA-PSS {why}"));
    let params = algorithm.parameters.as_ref().ok_or_else(|| unsupported("without parameters (SHA-1 defaults)"))?;
    let params: rsa::pkcs1::RsaPssParams<'_> =
        params.decode_as().map_err(|e| unsupported(&format!("parameters are malformed: {e}")))?;
    let Some(hash) = sha2(params.hash.oid) else {
        let hash = params.hash.oid;
        if hash == Oid::new_unwrap("1.3.14.3.2.26") {
            return Err(X509Error::Sha1Signature(format!("RSASSA-PSS with {hash}")));
        }
        return Err(unsupported(&format!("with hash {hash}")));
    };
    if params.mask_gen.oid != MGF1 {
        return Err(unsupported("with a mask generation function other than MGF1"));
    }
    let mgf_hash = params.mask_gen.parameters.as_ref().map(|p| p.oid);
    if mgf_hash.and_then(sha2) != Some(hash) {
        return Err(unsupported("whose MGF1 hash differs from the message hash"));
    }
    Ok(Scheme::RsaPss { hash, salt_len: usize::from(params.salt_len) })
}
