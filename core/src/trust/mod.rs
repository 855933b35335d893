//! Trust: which signatures nv2 believes, decided exactly as notation decides it.
//!
//! - [`level`]: verification levels, the five checks and what each level does with them, plus overrides.
//! - [`identity`]: `trustedIdentities` (`*` or `x509.subject:` RFC 4514 DNs) and matching a leaf subject.
//! - [`policy`]: `trustpolicy.oci.json` / `trustpolicy.blob.json` validation and statement selection.
//! - [`store`]: named trust stores handed in by hosts and notation's byte-equal authenticity test.
//!
//! The same policy files and store layout as notation are used, so a notation user's configuration works
//! unchanged; every rule here is notation-go's, including its quirks (documented where they appear).

pub mod identity;
pub mod level;
pub mod policy;
pub mod store;

pub use identity::{DistinguishedName, DnError, IdentityError, IdentityMismatch, TrustedIdentities, TrustedIdentity};
pub use level::{Action, Check, LevelError, SignatureVerification, VerificationLevel, VerifyTimestamp};
pub use policy::{
    BlobTrustPolicyDocument, BlobTrustPolicyStatement, PolicyError, StatementRules, TrustPolicyDocument,
    TrustPolicyStatement,
};
pub use store::{StoreError, StoreRef, StoreRefError, TrustStores};

use alloc::string::String;

/// Most statements accepted in one policy document (notation has no bound; real documents have a handful).
pub const MAX_STATEMENTS: usize = 1024;
/// Most entries accepted in one list of a statement (scopes, stores, identities); also bounds the quadratic
/// overlap test between identities.
pub const MAX_LIST_ENTRIES: usize = 1024;
/// Most attributes accepted in one distinguished name.
pub const MAX_DN_ATTRIBUTES: usize = 64;
/// Most named stores a host may hand in.
pub const MAX_STORES: usize = 1024;
/// Most certificates accepted in one named store.
pub const MAX_STORE_CERTIFICATES: usize = 1024;

/// Why no statement of a valid policy applies, or why a policy could not be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TrustError {
    /// The policy document itself is invalid.
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// No statement names the repository and there is no global (`*`) statement.
    #[error("artifact repository {0:?} has no applicable oci trust policy statement")]
    NoApplicablePolicy(String),
    /// The repository is not a valid `registry/repository` scope.
    #[error("artifact repository {0:?} is not a fully qualified repository")]
    InvalidScope(String),
    /// The reference has no `@digest`.
    #[error("artifact reference {0:?} must be a fully qualified reference with a digest (registry/repository@digest)")]
    InvalidReference(String),
    /// A blob policy name was given but it is blank.
    #[error("policy name cannot be empty")]
    EmptyPolicyName,
    /// No blob statement has the given name.
    #[error("no blob trust policy statement is named {0:?}")]
    NoPolicyNamed(String),
    /// No name was given and no blob statement has `globalPolicy: true`.
    #[error("no blob trust policy statement is marked as the global policy")]
    NoGlobalPolicy,
}

#[cfg(all(test, feature = "std"))]
mod fixture_tests;
