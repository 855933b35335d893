//! X.509 the way the Notary Project uses it: certificates parsed from PEM/DER with their exact bytes kept, the
//! certificate-chain rules of the signature specification (as notation-core-go enforces them), the rules for what a
//! trust store may hold, signing key/certificate pairing, and CRL revocation.
//!
//! Everything here is pure: time comes in as a [`Timestamp`](crate::time::Timestamp), CRL bytes come in through a
//! closure the host supplies, and every signature check goes through [`crate::crypto::PublicKey::verify`].
//!
//! Where the specification text and notation's code differ, the code wins, so that nv2 and notation reach the same
//! verdicts: anyExtendedKeyUsage is accepted and OCSPSigning refused on signing leaves, basicConstraints need not be
//! critical, validity nesting is not checked, `ca`/`signingAuthority` stores accept any certificate that is a CA or
//! verifies under its own key. Deliberate nv2 differences: an Ed25519 code-signing leaf is accepted (nv2's EdDSA
//! extension; the envelope layer marks it non-standard), PEM reading refuses blocks that are not `CERTIFICATE`, and
//! OCSP is not spoken (a certificate with only OCSP pointers has unknown revocation status).

mod certificate;
mod certificate_file;
mod chain;
mod error;
mod extensions;
pub mod issue;
mod name;
mod revocation;
mod signature_algorithm;
mod signing_key_pair;
mod trust_store;

pub use certificate::Certificate;
pub use certificate_file::parse_certificates;
pub use chain::{validate_chain, ChainPurpose};
pub use error::{ChainRule, X509Error, X509ErrorBox};
pub use revocation::{
    check_chain_revocation, check_chain_revocation_at_signing_time, CertificateRevocation, CertificateStatus, Crl,
    RevocationReport, RevocationStatus,
};
pub use signature_algorithm::signature_scheme;
pub use signing_key_pair::check_signing_key_pair;
pub use trust_store::{check_trust_store_certificate, check_tsa_root_file, TrustStoreKind};

#[cfg(test)]
mod test_certificates;
#[cfg(test)]
mod tests_attacks;
#[cfg(test)]
mod tests_fixtures;
