//! RFC 3161 timestamp tokens, as the Notary Project uses them: a TSA countersigns the raw bytes of an envelope's
//! signature, and a verified token proves the signature existed at genTime (± accuracy), which lets a signature
//! outlive its signing certificate.
//!
//! Pure like the rest of the core: the token, the message and the trusted TSA roots come in as values; there is no
//! clock (the TSA chain is checked at genTime) and no revocation lookup (the caller checks the returned chain).

mod error;
mod oid;
mod signer;
mod token;
mod tsa_chain;
mod tst_info;

pub use error::TimestampError;
pub use signer::TsaSigner;
pub use token::{TimestampToken, MAX_TOKEN_BYTES};
pub use tst_info::{Accuracy, TstInfo};

use crate::crypto::HashAlgorithm;
use crate::time::Timestamp;
use crate::x509::{validate_chain, Certificate, ChainPurpose};
use alloc::vec::Vec;

#[cfg(test)]
mod tests_fixtures;
#[cfg(test)]
mod tests_hostile;

/// A timestamp token that passed every check: what the caller may rely on.
#[derive(Clone, Debug)]
pub struct VerifiedTimestamp {
    /// genTime, truncated to whole seconds.
    pub gen_time: Timestamp,
    /// Fractional part of genTime in nanoseconds (0 if none), so [`VerifiedTimestamp::latest`] can round up.
    pub gen_time_nanos: u32,
    /// Accuracy in whole seconds, rounded up.
    pub accuracy_seconds: i64,
    /// The TSA chain, leaf first, ending in a trusted TSA root (for the caller's revocation check).
    pub tsa_chain: Vec<Certificate>,
}

impl VerifiedTimestamp {
    /// The earliest instant the timestamped message may have been created: genTime − accuracy. Notation requires
    /// every signing certificate to be valid from here ...
    pub fn earliest(&self) -> Timestamp {
        self.gen_time.saturating_add(self.accuracy_seconds.saturating_neg())
    }

    /// ... to here: genTime + accuracy, with a fractional genTime rounded up to the next second.
    pub fn latest(&self) -> Timestamp {
        self.gen_time.saturating_add(self.accuracy_seconds).saturating_add(i64::from(self.gen_time_nanos > 0))
    }
}

/// Verifies `token_der` as a timestamp over `message`, as notation does for `io.cncf.notary.timestampSignature`:
///
/// 1. parse the token (id-signedData, eContentType id-ct-TSTInfo, one SignerInfo);
/// 2. the messageImprint hash must be SHA-256/384/512 and, when `expected_hash` is given, that one; its value must
///    be the hash of `message`;
/// 3. the CMS signature must verify ([`TimestampToken::verify_signature`]);
/// 4. the TSA chain, built from the token's certificates, must end in (or be signed by) one of `tsa_roots` and
///    satisfy the Notary timestamping certificate rules with every certificate valid at genTime.
pub fn verify(
    token_der: &[u8],
    message: &[u8],
    expected_hash: Option<HashAlgorithm>,
    tsa_roots: &[Certificate],
) -> Result<VerifiedTimestamp, TimestampError> {
    let token = TimestampToken::parse(token_der)?;
    let (hash, hashed_message) = token.message_imprint();
    if let Some(expected) = expected_hash.filter(|&expected| expected != hash) {
        return Err(TimestampError::UnexpectedImprintHash { expected, found: hash });
    }
    if hash.digest(message) != hashed_message {
        return Err(TimestampError::ImprintMismatch);
    }
    let signer = token.verify_signature()?;
    let chain = tsa_chain::build(signer.certificate(), token.certificates(), tsa_roots)?;
    validate_chain(&chain, ChainPurpose::Timestamping, Some(token.gen_time())).map_err(TimestampError::TsaChain)?;
    Ok(VerifiedTimestamp {
        gen_time: token.gen_time(),
        gen_time_nanos: token.tst_info().gen_time_nanos,
        accuracy_seconds: token.accuracy(),
        tsa_chain: chain,
    })
}
