//! Building the TSA certificate chain: from the signer certificate through the token's certificates up to one of
//! the trusted TSA roots. The rules the chain must then satisfy belong to [`crate::x509::validate_chain`].

use super::TimestampError;
use crate::limits::MAX_CHAIN_LENGTH;
use crate::x509::{Certificate, X509Error};
use alloc::vec;
use alloc::vec::Vec;

/// Returns `leaf → … → root` where the root is byte-equal to a trusted root, or is a trusted root that signed the
/// last certificate the token supplied (tokens may omit the root). Each link is checked by name and signature.
pub(super) fn build(
    leaf: &Certificate,
    token_certificates: &[Certificate],
    roots: &[Certificate],
) -> Result<Vec<Certificate>, TimestampError> {
    let mut chain = vec![leaf.clone()];
    loop {
        let Some(current) = chain.last() else {
            return Err(TimestampError::UntrustedTsaRoot);
        };
        if roots.contains(current) {
            return Ok(chain);
        }
        if let Some(root) = roots.iter().find(|root| issued_by(current, root)) {
            let root = root.clone();
            chain.push(root);
            return Ok(chain);
        }
        if current.is_self_signed() {
            return Err(TimestampError::UntrustedTsaRoot);
        }
        let next = token_certificates.iter().find(|c| !chain.contains(c) && issued_by(current, c));
        let Some(next) = next.cloned() else {
            return Err(TimestampError::UntrustedTsaRoot);
        };
        if chain.len() >= MAX_CHAIN_LENGTH {
            return Err(TimestampError::TsaChain(X509Error::TooManyCertificates { max: MAX_CHAIN_LENGTH }));
        }
        chain.push(next);
    }
}

fn issued_by(child: &Certificate, parent: &Certificate) -> bool {
    child.inner().tbs_certificate.issuer == parent.inner().tbs_certificate.subject
        && child.verify_signed_by(parent).is_ok()
}
