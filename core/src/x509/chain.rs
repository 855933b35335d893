//! The certificate-chain rules of the Notary Project signature specification, as notation-core-go enforces them
//! (`ValidateCodeSigningCertChain`, `ValidateTimestampingCertChain`).
//!
//! Differences from the spec text follow the implementation, on purpose: anyExtendedKeyUsage is not refused,
//! OCSPSigning is; basicConstraints need not be critical; validity nesting is not checked; only the leaf key type
//! and size are restricted. nv2 additionally accepts an Ed25519 code-signing leaf (its EdDSA extension).

use super::extensions::{
    EKU_CLIENT_AUTH, EKU_EMAIL_PROTECTION, EKU_OCSP_SIGNING, EKU_SERVER_AUTH, EKU_TIME_STAMPING, FORBIDDEN_LEAF_USAGES,
};
use super::{error::X509ErrorBox, Certificate, ChainRule, X509Error};
use crate::crypto::PublicKey;
use crate::limits::MAX_CHAIN_LENGTH;
use crate::time::Timestamp;
use alloc::boxed::Box;
use alloc::vec::Vec;
use rsa::traits::PublicKeyParts;
use x509_cert::ext::pkix::KeyUsages;

/// Which rule set applies to the leaf: a signing certificate or a timestamping authority's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChainPurpose {
    /// Code signing (envelope `x5c` / `x5chain`): keyUsage critical, EKU optional but without TLS/e-mail/TSA/OCSP.
    CodeSigning,
    /// RFC 3161 timestamping: keyUsage present, EKU critical and exactly id-kp-timeStamping.
    Timestamping,
}

/// Validates `chain` (leaf first, root last and included) for `purpose`. With `at`, every certificate must be valid
/// at that instant (signing time, authentic timestamp or "now"). A single certificate must be self-signed and is held
/// to the leaf rules. The error names the first broken rule and the certificate that broke it.
pub fn validate_chain(chain: &[Certificate], purpose: ChainPurpose, at: Option<Timestamp>) -> Result<(), X509Error> {
    if chain.is_empty() {
        return Err(X509Error::EmptyChain);
    }
    if chain.len() > MAX_CHAIN_LENGTH {
        return Err(X509Error::TooManyCertificates { max: MAX_CHAIN_LENGTH });
    }
    let last = chain.len() - 1;
    for (index, cert) in chain.iter().enumerate() {
        let fail = |rule: ChainRule| X509Error::Chain { index, subject: cert.subject_string(), rule };
        if let Some(at) = at {
            check_validity(cert, at).map_err(fail)?;
        }
        if index == last {
            check_root(cert).map_err(fail)?;
        } else {
            if cert.is_self_signed() {
                return Err(fail(if index == 0 {
                    ChainRule::SelfSignedLeaf
                } else {
                    ChainRule::SelfSignedIntermediate
                }));
            }
            let next = chain.get(index + 1).ok_or(X509Error::EmptyChain)?;
            if cert.inner().tbs_certificate.issuer != next.inner().tbs_certificate.subject {
                return Err(fail(ChainRule::IssuerMismatch {
                    issuer: cert.issuer_string(),
                    next_subject: next.subject_string(),
                }));
            }
            cert.verify_signed_by(next).map_err(|e| fail(ChainRule::Signature(X509ErrorBox(Box::new(e)))))?;
        }
        if index == 0 {
            check_leaf(cert, purpose).map_err(fail)?;
        } else {
            check_ca(cert, purpose, index - 1).map_err(fail)?;
        }
    }
    Ok(())
}

fn check_validity(cert: &Certificate, at: Timestamp) -> Result<(), ChainRule> {
    if at < cert.not_before() {
        return Err(ChainRule::NotYetValid { not_before: cert.not_before(), at });
    }
    if at > cert.not_after() {
        return Err(ChainRule::Expired { not_after: cert.not_after(), at });
    }
    Ok(())
}

/// The last certificate must be self-issued and verify under its own key.
fn check_root(cert: &Certificate) -> Result<(), ChainRule> {
    match cert.verify_signed_by(cert) {
        Ok(()) if cert.is_self_issued() => Ok(()),
        Ok(()) => Err(ChainRule::NotSelfIssued),
        Err(X509Error::BadSignature) => Err(ChainRule::RootNotSelfSigned),
        Err(e) => Err(ChainRule::Signature(X509ErrorBox(Box::new(e)))),
    }
}

/// Leaf rules: not a CA, keyUsage, EKU, key type and size.
pub(crate) fn check_leaf(cert: &Certificate, purpose: ChainPurpose) -> Result<(), ChainRule> {
    let ext = cert.extensions();
    if ext.basic_constraints.as_ref().is_some_and(|bc| bc.value.0) {
        return Err(ChainRule::LeafIsCa);
    }
    let ku = ext.key_usage.as_ref().ok_or(ChainRule::KeyUsageMissing)?;
    if purpose == ChainPurpose::CodeSigning && !ku.critical {
        return Err(ChainRule::KeyUsageNotCritical);
    }
    if !ku.value.digital_signature() {
        return Err(ChainRule::DigitalSignatureMissing);
    }
    let forbidden: Vec<&str> =
        FORBIDDEN_LEAF_USAGES.iter().filter(|(bit, _)| ku.value.0.contains(*bit)).map(|(_, name)| *name).collect();
    if !forbidden.is_empty() {
        return Err(ChainRule::ForbiddenKeyUsage(forbidden.join(", ")));
    }
    match purpose {
        ChainPurpose::CodeSigning => {
            if let Some(eku) = &ext.extended_key_usage {
                let banned = [
                    (EKU_SERVER_AUTH, "serverAuth"),
                    (EKU_CLIENT_AUTH, "clientAuth"),
                    (EKU_EMAIL_PROTECTION, "emailProtection"),
                    (EKU_TIME_STAMPING, "timeStamping"),
                    (EKU_OCSP_SIGNING, "OCSPSigning"),
                ];
                if let Some((_, name)) = banned.iter().find(|(oid, _)| eku.value.contains(oid)) {
                    return Err(ChainRule::ForbiddenExtendedKeyUsage(name));
                }
            }
        }
        ChainPurpose::Timestamping => {
            let eku = ext.extended_key_usage.as_ref().ok_or(ChainRule::TimestampingUsageMissing)?;
            if eku.value.as_slice() != [EKU_TIME_STAMPING] {
                return Err(ChainRule::TimestampingUsageMissing);
            }
            if !eku.critical {
                return Err(ChainRule::ExtendedKeyUsageNotCritical);
            }
        }
    }
    check_leaf_key(cert, purpose)
}

fn check_leaf_key(cert: &Certificate, purpose: ChainPurpose) -> Result<(), ChainRule> {
    let key = cert.public_key().map_err(|e| ChainRule::UnsupportedKey(alloc::format!("{e}")))?;
    let allowed = match &key {
        PublicKey::Rsa(k) => matches!(k.n().bits(), 2048 | 3072 | 4096),
        PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_) => true,
        PublicKey::Ed25519(_) => purpose == ChainPurpose::CodeSigning,
    };
    if allowed {
        Ok(())
    } else {
        Err(ChainRule::UnsupportedKey(key.describe()))
    }
}

/// CA rules: basicConstraints cA with a sufficient pathLen, keyUsage with keyCertSign. `below` counts the CA
/// certificates between this one and the leaf.
fn check_ca(cert: &Certificate, purpose: ChainPurpose, below: usize) -> Result<(), ChainRule> {
    let ext = cert.extensions();
    let (ca, path_len) = ext.basic_constraints.as_ref().map(|bc| bc.value).unwrap_or((false, None));
    if !ca {
        return Err(ChainRule::NotCa);
    }
    if let Some(max) = path_len {
        if usize::from(max) < below {
            return Err(ChainRule::PathLenExceeded { max, needed: below });
        }
    }
    let ku = ext.key_usage.as_ref().ok_or(ChainRule::KeyUsageMissing)?;
    if purpose == ChainPurpose::CodeSigning && !ku.critical {
        return Err(ChainRule::KeyUsageNotCritical);
    }
    if !ku.value.0.contains(KeyUsages::KeyCertSign) {
        return Err(ChainRule::KeyCertSignMissing);
    }
    Ok(())
}
