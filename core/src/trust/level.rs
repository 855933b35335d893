//! Verification levels, the checks they govern and the per-check actions, with notation's override rules.
//!
//! A trust policy statement names a preset level and may override single checks; the verification pipeline asks
//! [`SignatureVerification::action`] for every check instead of re-deriving the table, so the table lives here once.

use alloc::collections::BTreeMap;
use alloc::string::String;

/// The preset levels of the Notary Project trust policy; each maps every [`Check`] to an [`Action`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VerificationLevel {
    /// Enforces every check; the recommended level.
    Strict,
    /// Enforces integrity and authenticity, only logs authentic timestamp, expiry and revocation failures.
    Permissive,
    /// Enforces integrity only; every other failure is logged.
    Audit,
    /// Performs no verification at all; the signature is not even read.
    Skip,
}

/// The five validations of the Notary Project verification workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// The signature verifies over the payload and the envelope is well-formed.
    Integrity,
    /// The chain reaches a trusted store and the leaf matches a trusted identity.
    Authenticity,
    /// The signature was made while the certificates were valid (timestamp or authentic signing time).
    AuthenticTimestamp,
    /// The signature's own expiry has not passed.
    Expiry,
    /// No certificate of the chain is revoked.
    Revocation,
}

/// What a failed check does to the verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    /// A failure fails the signature.
    Enforce,
    /// A failure is reported as a warning and verification continues.
    Log,
    /// The check is not performed.
    Skip,
}

/// When an RFC 3161 timestamp countersignature is verified (`verifyTimestamp`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum VerifyTimestamp {
    /// Always verify the timestamp when a `tsa` store is configured (notation's default).
    #[default]
    Always,
    /// Verify it only once some certificate of the signing chain has expired.
    AfterCertExpiry,
}

/// Why a `signatureVerification` object was refused; each variant is one of notation's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    /// `level` is absent or empty.
    #[error("signature verification level is empty or missing")]
    MissingLevel,
    /// `level` is not strict, permissive, audit or skip.
    #[error("invalid signature verification level {0:?}")]
    UnknownLevel(String),
    /// A `skip` level carries a non-empty `override` map.
    #[error("signature verification level \"skip\" can't be used to customize signature verification")]
    SkipCustomized,
    /// An `override` key is not one of the five checks.
    #[error("verification type {0:?} in custom signature verification is not supported")]
    UnknownCheck(String),
    /// An `override` value is not enforce, log or skip.
    #[error("verification action {action:?} for {check:?} in custom signature verification is not supported")]
    UnknownAction {
        /// The override key.
        check: String,
        /// The refused value.
        action: String,
    },
    /// `integrity` appears in `override`.
    #[error("\"integrity\" verification can not be overridden in custom signature verification")]
    IntegrityOverridden,
    /// A check other than revocation is overridden to `skip`.
    #[error("{0:?} verification can not be skipped in custom signature verification")]
    SkipNotAllowed(String),
    /// `verifyTimestamp` is neither `always` nor `afterCertExpiry`.
    #[error("verifyTimestamp must be \"always\" or \"afterCertExpiry\", but got {0:?}")]
    UnknownVerifyTimestamp(String),
}

impl VerificationLevel {
    /// Every level, in the spec's order.
    pub const ALL: [VerificationLevel; 4] = [Self::Strict, Self::Permissive, Self::Audit, Self::Skip];

    /// Reads a policy's `level` value (exact, case-sensitive, as notation does).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|level| level.name() == name)
    }

    /// The name used in policy files and in notation's output.
    pub fn name(self) -> &'static str {
        match self {
            Self::Strict => "strict",
            Self::Permissive => "permissive",
            Self::Audit => "audit",
            Self::Skip => "skip",
        }
    }

    /// The spec's table: what this level does with a failure of `check`.
    pub fn action(self, check: Check) -> Action {
        match (self, check) {
            (Self::Skip, _) => Action::Skip,
            (_, Check::Integrity) | (Self::Strict, _) | (Self::Permissive, Check::Authenticity) => Action::Enforce,
            (Self::Permissive, _) | (Self::Audit, _) => Action::Log,
        }
    }
}

impl Check {
    /// Every check, in the spec's order.
    pub const ALL: [Check; 5] =
        [Self::Integrity, Self::Authenticity, Self::AuthenticTimestamp, Self::Expiry, Self::Revocation];

    /// Reads an `override` key (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|check| check.name() == name)
    }

    /// The name used in policy files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Integrity => "integrity",
            Self::Authenticity => "authenticity",
            Self::AuthenticTimestamp => "authenticTimestamp",
            Self::Expiry => "expiry",
            Self::Revocation => "revocation",
        }
    }
}

impl Action {
    /// Reads an `override` value (exact, case-sensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Enforce, Self::Log, Self::Skip].into_iter().find(|action| action.name() == name)
    }

    /// The name used in policy files.
    pub fn name(self) -> &'static str {
        match self {
            Self::Enforce => "enforce",
            Self::Log => "log",
            Self::Skip => "skip",
        }
    }
}

impl VerifyTimestamp {
    /// Reads `verifyTimestamp`; an empty value means the default, as in notation.
    pub fn from_name(name: &str) -> Result<Self, LevelError> {
        match name {
            "" | "always" => Ok(Self::Always),
            "afterCertExpiry" => Ok(Self::AfterCertExpiry),
            other => Err(LevelError::UnknownVerifyTimestamp(String::from(other))),
        }
    }
}

/// A statement's validated `signatureVerification`: a level, its overrides and the timestamp option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignatureVerification {
    /// The preset level the statement names.
    pub level: VerificationLevel,
    /// Per-check actions replacing the level's (already checked against notation's rules).
    pub overrides: BTreeMap<Check, Action>,
    /// When timestamp countersignatures are verified.
    pub verify_timestamp: VerifyTimestamp,
}

impl SignatureVerification {
    /// A preset level with no overrides and the default timestamp option.
    pub fn preset(level: VerificationLevel) -> Self {
        Self { level, overrides: BTreeMap::new(), verify_timestamp: VerifyTimestamp::Always }
    }

    /// Validates the textual `level`, `override` entries and `verifyTimestamp` exactly as notation-go does:
    /// the level must be known; `skip` takes no overrides; override keys and values must be known; `integrity`
    /// cannot be overridden; only `revocation` may be set to `skip`.
    pub fn from_parts<'a>(
        level: &str,
        overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
        verify_timestamp: &str,
    ) -> Result<Self, LevelError> {
        if level.is_empty() {
            return Err(LevelError::MissingLevel);
        }
        let level = VerificationLevel::from_name(level).ok_or_else(|| LevelError::UnknownLevel(String::from(level)))?;
        let mut validated = BTreeMap::new();
        for (key, value) in overrides {
            if level == VerificationLevel::Skip {
                return Err(LevelError::SkipCustomized);
            }
            let check = Check::from_name(key).ok_or_else(|| LevelError::UnknownCheck(String::from(key)))?;
            let action = Action::from_name(value)
                .ok_or_else(|| LevelError::UnknownAction { check: String::from(key), action: String::from(value) })?;
            if check == Check::Integrity {
                return Err(LevelError::IntegrityOverridden);
            }
            if check != Check::Revocation && action == Action::Skip {
                return Err(LevelError::SkipNotAllowed(String::from(key)));
            }
            validated.insert(check, action);
        }
        let verify_timestamp = VerifyTimestamp::from_name(verify_timestamp)?;
        Ok(Self { level, overrides: validated, verify_timestamp })
    }

    /// What a failure of `check` does under this statement: the override if any, else the level's table.
    pub fn action(&self, check: Check) -> Action {
        self.overrides.get(&check).copied().unwrap_or_else(|| self.level.action(check))
    }

    /// The level name notation reports: `custom` once any override is present.
    pub fn level_name(&self) -> &'static str {
        if self.overrides.is_empty() {
            self.level.name()
        } else {
            "custom"
        }
    }

    /// True for `skip`: the pipeline returns success without reading any signature.
    pub fn is_skip(&self) -> bool {
        self.level == VerificationLevel::Skip
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::{Enforce as E, Log as L, Skip as S};

    #[test]
    fn level_table_matches_the_spec_for_all_levels_and_checks() {
        let expected = [
            (VerificationLevel::Strict, [E, E, E, E, E]),
            (VerificationLevel::Permissive, [E, E, L, L, L]),
            (VerificationLevel::Audit, [E, L, L, L, L]),
            (VerificationLevel::Skip, [S, S, S, S, S]),
        ];
        for (level, actions) in expected {
            for (check, action) in Check::ALL.into_iter().zip(actions) {
                assert_eq!(level.action(check), action, "{level:?} {check:?}");
                assert_eq!(SignatureVerification::preset(level).action(check), action);
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for level in VerificationLevel::ALL {
            assert_eq!(VerificationLevel::from_name(level.name()), Some(level));
        }
        for check in Check::ALL {
            assert_eq!(Check::from_name(check.name()), Some(check));
        }
        assert_eq!(VerificationLevel::from_name("Strict"), None);
        assert_eq!(Check::from_name("Expiry"), None);
        assert_eq!(Action::from_name("LOG"), None);
    }

    #[test]
    fn overrides_replace_the_level_action() {
        let sv = SignatureVerification::from_parts(
            "strict",
            [("expiry", "log"), ("revocation", "skip"), ("authenticity", "log")],
            "",
        )
        .unwrap();
        assert_eq!(sv.action(Check::Integrity), E);
        assert_eq!(sv.action(Check::Authenticity), L);
        assert_eq!(sv.action(Check::AuthenticTimestamp), E);
        assert_eq!(sv.action(Check::Expiry), L);
        assert_eq!(sv.action(Check::Revocation), S);
        assert_eq!(sv.level_name(), "custom");
        let audit = SignatureVerification::from_parts("audit", [("expiry", "enforce")], "afterCertExpiry").unwrap();
        assert_eq!(audit.action(Check::Expiry), E);
        assert_eq!(audit.action(Check::Authenticity), L);
        assert_eq!(audit.verify_timestamp, VerifyTimestamp::AfterCertExpiry);
        assert_eq!(SignatureVerification::from_parts("audit", [], "").unwrap().level_name(), "audit");
    }

    #[test]
    fn notation_override_rules_are_enforced() {
        let err = |level, ov: &[(&str, &str)], ts| SignatureVerification::from_parts(level, ov.iter().copied(), ts);
        assert_eq!(err("", &[], ""), Err(LevelError::MissingLevel));
        assert_eq!(err("custom", &[], ""), Err(LevelError::UnknownLevel("custom".into())));
        assert_eq!(err("skip", &[("revocation", "log")], ""), Err(LevelError::SkipCustomized));
        assert!(err("skip", &[], "").is_ok());
        assert_eq!(err("strict", &[("integrity", "enforce")], ""), Err(LevelError::IntegrityOverridden));
        assert_eq!(err("strict", &[("integrity", "log")], ""), Err(LevelError::IntegrityOverridden));
        assert_eq!(err("strict", &[("bogus", "log")], ""), Err(LevelError::UnknownCheck("bogus".into())));
        assert!(matches!(err("strict", &[("expiry", "warn")], ""), Err(LevelError::UnknownAction { .. })));
        for check in ["authenticity", "authenticTimestamp", "expiry"] {
            assert_eq!(err("permissive", &[(check, "skip")], ""), Err(LevelError::SkipNotAllowed(check.into())));
        }
        assert!(err("permissive", &[("revocation", "skip")], "").is_ok());
        assert_eq!(err("strict", &[], "never"), Err(LevelError::UnknownVerifyTimestamp("never".into())));
    }
}
