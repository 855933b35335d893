//! Trust policy documents: `trustpolicy.oci.json` (and the legacy `trustpolicy.json`, same format) and
//! `trustpolicy.blob.json`, validated with notation-go's rules in notation-go's order, and statement selection.
//!
//! Reading happens in two steps, like Go's decode-then-Validate: first the JSON shape (wrong types are
//! "malformed"; unknown keys are ignored and `null` reads as absent, as with Go's decoder; key names are matched
//! exactly, not case-insensitively as Go does, so no two spellings of one key can disagree), then the rules.

use alloc::string::String;
use alloc::vec::Vec;
use serde_json::{Map, Value};

use super::identity::{IdentityError, TrustedIdentities};
use super::level::{LevelError, SignatureVerification};
use super::store::{StoreRef, StoreRefError};
use super::{TrustError, MAX_LIST_ENTRIES, MAX_STATEMENTS};
use crate::json::{self, JsonError};
use crate::limits;
use crate::x509::TrustStoreKind;

/// The only policy document version notation supports.
pub const SUPPORTED_VERSION: &str = "1.0";

/// The global registry scope and the wildcard identity.
pub const WILDCARD: &str = "*";

/// Why a trust policy document was refused; each variant is one of notation's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not strict JSON (syntax, duplicate keys, size or depth).
    #[error("malformed trust policy: {0}")]
    Json(#[from] JsonError),
    /// A member has the wrong JSON type.
    #[error("malformed trust policy: {field} must be {expected}")]
    Malformed {
        /// The member, e.g. `trustPolicies[0].registryScopes`.
        field: String,
        /// The JSON type required.
        expected: &'static str,
    },
    /// More statements or list entries than the core accepts.
    #[error("trust policy has more than {0} entries in one list")]
    TooManyEntries(usize),
    /// `version` is absent or empty.
    #[error("trust policy document has empty version, version must be specified")]
    MissingVersion,
    /// `version` is not `1.0`.
    #[error("trust policy document uses unsupported version {0:?}")]
    UnsupportedVersion(String),
    /// `trustPolicies` is absent or empty.
    #[error("trust policy document can not have zero trust policy statements")]
    NoStatements,
    /// Two statements share a name.
    #[error("multiple trust policy statements use the same name {0:?}, statement names must be unique")]
    DuplicateName(String),
    /// A statement has no name.
    #[error("a trust policy statement is missing a name, every statement requires a name")]
    MissingName,
    /// `signatureVerification` breaks a level or override rule.
    #[error("trust policy statement {statement:?} has invalid signatureVerification: {source}")]
    SignatureVerification {
        /// The statement's name.
        statement: String,
        /// The rule broken.
        source: LevelError,
    },
    /// A `skip` statement lists trust stores or trusted identities.
    #[error("trust policy statement {0:?} is set to skip but lists trust stores and/or trusted identities")]
    SkipWithTrust(String),
    /// A non-`skip` statement lacks trust stores or trusted identities.
    #[error(
        "trust policy statement {0:?} is either missing trust stores or trusted identities, both must be specified"
    )]
    MissingTrust(String),
    /// A `trustStores` entry is invalid.
    #[error("trust policy statement {statement:?}: {source}")]
    TrustStore {
        /// The statement's name.
        statement: String,
        /// The rule broken.
        source: StoreRefError,
    },
    /// `trustedIdentities` is invalid.
    #[error("trust policy statement {statement:?}: {source}")]
    TrustedIdentities {
        /// The statement's name.
        statement: String,
        /// The rule broken.
        source: IdentityError,
    },
    /// An OCI statement has no registry scopes.
    #[error("trust policy statement {0:?} has zero registry scopes, it must specify at least one")]
    NoRegistryScopes(String),
    /// `*` is combined with other scopes in one statement.
    #[error("trust policy statement {0:?} combines the wildcard registry scope '*' with other scopes")]
    WildcardScopeMixed(String),
    /// A scope contains `*` without being exactly `*`.
    #[error("registry scope {0:?} with wild card(s) is not valid, it must be a fully qualified repository")]
    PartialWildcardScope(String),
    /// A scope is not `registry[:port]/repository` (no scheme, tag or digest).
    #[error(
        "registry scope {0:?} is not valid, it must be a fully qualified repository without scheme, protocol or tag"
    )]
    InvalidScope(String),
    /// A scope (including `*`) appears more than once in the document.
    #[error("registry scope {0:?} appears more than once; a scope can only belong to one statement")]
    DuplicateScope(String),
    /// More than one blob statement has `globalPolicy: true`.
    #[error("multiple blob trust policy statements have globalPolicy set to true, only one may be the global policy")]
    MultipleGlobalPolicies,
}

/// What every statement holds, OCI or blob: its name and how signatures are verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatementRules {
    /// The statement's unique name.
    pub name: String,
    /// Level, overrides and timestamp option.
    pub signature_verification: SignatureVerification,
    /// The named stores (as written, duplicates kept; lookups ignore duplicates, as notation does).
    pub trust_stores: Vec<StoreRef>,
    /// Who may sign.
    pub trusted_identities: TrustedIdentities,
}

impl StatementRules {
    /// The names of the listed stores of `kind`, in order, each once.
    pub fn store_names(&self, kind: TrustStoreKind) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for store in self.trust_stores.iter().filter(|store| store.kind == kind) {
            if !names.contains(&store.name.as_str()) {
                names.push(store.name.as_str());
            }
        }
        names
    }

    /// Whether any store of `kind` is listed (a `tsa` store turns timestamp verification on).
    pub fn has_store_kind(&self, kind: TrustStoreKind) -> bool {
        self.trust_stores.iter().any(|store| store.kind == kind)
    }

    /// Whether verification is skipped entirely.
    pub fn is_skip(&self) -> bool {
        self.signature_verification.is_skip()
    }
}

/// One statement of an OCI trust policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicyStatement {
    /// Name, verification settings, stores and identities.
    pub rules: StatementRules,
    /// `["*"]` or fully qualified `registry/repository` values.
    pub registry_scopes: Vec<String>,
}

impl TrustPolicyStatement {
    /// Whether this is the global (`*`) statement.
    pub fn is_global(&self) -> bool {
        self.registry_scopes.iter().any(|scope| scope == WILDCARD)
    }
}

/// A validated `trustpolicy.oci.json` / `trustpolicy.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustPolicyDocument {
    /// Always `1.0`.
    pub version: String,
    /// The statements, in document order.
    pub statements: Vec<TrustPolicyStatement>,
}

/// One statement of a blob trust policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobTrustPolicyStatement {
    /// Name, verification settings, stores and identities.
    pub rules: StatementRules,
    /// Whether blobs verified without a policy name use this statement.
    pub global_policy: bool,
}

/// A validated `trustpolicy.blob.json`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobTrustPolicyDocument {
    /// Always `1.0`.
    pub version: String,
    /// The statements, in document order.
    pub statements: Vec<BlobTrustPolicyStatement>,
}

/// A statement as read from JSON, before the rules are applied.
#[derive(Default)]
struct RawStatement {
    name: String,
    registry_scopes: Vec<String>,
    level: String,
    overrides: Vec<(String, String)>,
    verify_timestamp: String,
    trust_stores: Vec<String>,
    trusted_identities: Vec<String>,
    global_policy: bool,
}

impl TrustPolicyDocument {
    /// Parses and validates an OCI trust policy document.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        let (version, raw) = read_document(bytes, false)?;
        check_header(&version, &raw)?;
        let mut statements: Vec<TrustPolicyStatement> = Vec::with_capacity(raw.len());
        for statement in raw {
            if statements.iter().any(|s| s.rules.name == statement.name) {
                return Err(PolicyError::DuplicateName(statement.name));
            }
            let rules = validate_rules(&statement)?;
            statements.push(TrustPolicyStatement { rules, registry_scopes: statement.registry_scopes });
        }
        validate_registry_scopes(&statements)?;
        Ok(Self { version, statements })
    }

    /// The statement for a repository `registry[:port]/repository`: an exact scope match, else the global
    /// statement, else [`TrustError::NoApplicablePolicy`].
    pub fn statement_for(&self, scope: &str) -> Result<&TrustPolicyStatement, TrustError> {
        if scope_format_error(scope).is_some() {
            return Err(TrustError::InvalidScope(String::from(scope)));
        }
        let exact = self.statements.iter().find(|s| !s.is_global() && s.registry_scopes.iter().any(|r| r == scope));
        exact
            .or_else(|| self.statements.iter().find(|s| s.is_global()))
            .ok_or_else(|| TrustError::NoApplicablePolicy(String::from(scope)))
    }

    /// The statement for a full reference `registry/repository@digest` (notation's selection: the scope is the
    /// part before the last `@`).
    pub fn statement_for_reference(&self, reference: &str) -> Result<&TrustPolicyStatement, TrustError> {
        let (scope, _) =
            reference.rsplit_once('@').ok_or_else(|| TrustError::InvalidReference(String::from(reference)))?;
        self.statement_for(scope)
    }
}

impl BlobTrustPolicyDocument {
    /// Parses and validates a blob trust policy document.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        let (version, raw) = read_document(bytes, true)?;
        check_header(&version, &raw)?;
        let mut statements: Vec<BlobTrustPolicyStatement> = Vec::with_capacity(raw.len());
        for statement in raw {
            if statements.iter().any(|s| s.rules.name == statement.name) {
                return Err(PolicyError::DuplicateName(statement.name));
            }
            let rules = validate_rules(&statement)?;
            if statement.global_policy && statements.iter().any(|s| s.global_policy) {
                return Err(PolicyError::MultipleGlobalPolicies);
            }
            statements.push(BlobTrustPolicyStatement { rules, global_policy: statement.global_policy });
        }
        Ok(Self { version, statements })
    }

    /// The statement named `name` (`--policy-name`), or with no name the `globalPolicy` statement.
    pub fn statement_for_blob(&self, name: Option<&str>) -> Result<&BlobTrustPolicyStatement, TrustError> {
        match name {
            Some(name) if name.trim().is_empty() => Err(TrustError::EmptyPolicyName),
            Some(name) => self
                .statements
                .iter()
                .find(|s| s.rules.name == name)
                .ok_or_else(|| TrustError::NoPolicyNamed(String::from(name))),
            None => self.statements.iter().find(|s| s.global_policy).ok_or(TrustError::NoGlobalPolicy),
        }
    }
}

fn check_header(version: &str, statements: &[RawStatement]) -> Result<(), PolicyError> {
    if version.is_empty() {
        return Err(PolicyError::MissingVersion);
    }
    if version != SUPPORTED_VERSION {
        return Err(PolicyError::UnsupportedVersion(String::from(version)));
    }
    if statements.is_empty() {
        return Err(PolicyError::NoStatements);
    }
    Ok(())
}

/// notation-go's per-statement core rules, in its order.
fn validate_rules(raw: &RawStatement) -> Result<StatementRules, PolicyError> {
    if raw.name.is_empty() {
        return Err(PolicyError::MissingName);
    }
    let signature_verification = SignatureVerification::from_parts(
        &raw.level,
        raw.overrides.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &raw.verify_timestamp,
    )
    .map_err(|source| PolicyError::SignatureVerification { statement: raw.name.clone(), source })?;
    if signature_verification.is_skip() {
        if !raw.trust_stores.is_empty() || !raw.trusted_identities.is_empty() {
            return Err(PolicyError::SkipWithTrust(raw.name.clone()));
        }
        return Ok(StatementRules {
            name: raw.name.clone(),
            signature_verification,
            trust_stores: Vec::new(),
            trusted_identities: TrustedIdentities::Listed(Vec::new()),
        });
    }
    if raw.trust_stores.is_empty() || raw.trusted_identities.is_empty() {
        return Err(PolicyError::MissingTrust(raw.name.clone()));
    }
    let trust_stores = raw
        .trust_stores
        .iter()
        .map(|value| StoreRef::parse(value))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| PolicyError::TrustStore { statement: raw.name.clone(), source })?;
    let trusted_identities = TrustedIdentities::parse(&raw.trusted_identities)
        .map_err(|source| PolicyError::TrustedIdentities { statement: raw.name.clone(), source })?;
    Ok(StatementRules { name: raw.name.clone(), signature_verification, trust_stores, trusted_identities })
}

/// notation-go's document-wide scope rules: every statement has scopes, `*` only alone, every other scope a valid
/// repository, and no scope value (`*` included) twice in the document.
fn validate_registry_scopes(statements: &[TrustPolicyStatement]) -> Result<(), PolicyError> {
    let mut seen: Vec<&str> = Vec::new();
    let mut duplicate: Option<&str> = None;
    for statement in statements {
        let scopes = &statement.registry_scopes;
        if scopes.is_empty() {
            return Err(PolicyError::NoRegistryScopes(statement.rules.name.clone()));
        }
        if scopes.len() > 1 && scopes.iter().any(|scope| scope == WILDCARD) {
            return Err(PolicyError::WildcardScopeMixed(statement.rules.name.clone()));
        }
        for scope in scopes {
            if scope != WILDCARD {
                if let Some(error) = scope_format_error(scope) {
                    return Err(error);
                }
            }
            if seen.contains(&scope.as_str()) {
                duplicate.get_or_insert(scope.as_str());
            } else {
                seen.push(scope.as_str());
            }
        }
    }
    match duplicate {
        Some(scope) => Err(PolicyError::DuplicateScope(String::from(scope))),
        None => Ok(()),
    }
}

/// notation-go's `validateRegistryScopeFormat` (the distribution reference grammar for domain and repository).
fn scope_format_error(scope: &str) -> Option<PolicyError> {
    if scope.len() > 1 && scope.contains('*') {
        return Some(PolicyError::PartialWildcardScope(String::from(scope)));
    }
    let valid = match scope.split_once('/') {
        Some((domain, repository)) => {
            is_valid_domain(domain) && crate::oci::validate_repository_name(repository).is_ok()
        }
        None => false,
    };
    (!valid).then(|| PolicyError::InvalidScope(String::from(scope)))
}

/// `host(.host)*(:port)?` where a host label is alphanumerics with inner dashes.
fn is_valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let bytes = label.as_bytes();
            match (bytes.first(), bytes.last()) {
                (Some(first), Some(last)) => {
                    first.is_ascii_alphanumeric()
                        && last.is_ascii_alphanumeric()
                        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                }
                _ => false,
            }
        })
}

/// Reads `{"version", "trustPolicies": [...]}` into raw statements, refusing wrong JSON types.
fn read_document(bytes: &[u8], blob: bool) -> Result<(String, Vec<RawStatement>), PolicyError> {
    let root = json::parse_strict(bytes, limits::MAX_POLICY_BYTES, limits::MAX_JSON_DEPTH)?;
    let root = as_object(&root, "document")?;
    let version = opt_string(root, "version", "version")?;
    let mut statements = Vec::new();
    if let Some(list) = opt_array(root, "trustPolicies", "trustPolicies")? {
        if list.len() > MAX_STATEMENTS {
            return Err(PolicyError::TooManyEntries(MAX_STATEMENTS));
        }
        for (index, item) in list.iter().enumerate() {
            let path = alloc::format!("trustPolicies[{index}]");
            statements.push(read_statement(item, &path, blob)?);
        }
    }
    Ok((version, statements))
}

fn read_statement(value: &Value, path: &str, blob: bool) -> Result<RawStatement, PolicyError> {
    if value.is_null() {
        return Ok(RawStatement::default());
    }
    let object = as_object(value, path)?;
    let field = |name: &str| alloc::format!("{path}.{name}");
    let mut raw = RawStatement {
        name: opt_string(object, "name", &field("name"))?,
        trust_stores: string_list(object, "trustStores", &field("trustStores"))?,
        trusted_identities: string_list(object, "trustedIdentities", &field("trustedIdentities"))?,
        ..RawStatement::default()
    };
    if blob {
        raw.global_policy = match object.get("globalPolicy") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(malformed(&field("globalPolicy"), "a boolean")),
        };
    } else {
        raw.registry_scopes = string_list(object, "registryScopes", &field("registryScopes"))?;
    }
    if let Some(verification) = object.get("signatureVerification").filter(|v| !v.is_null()) {
        let path = field("signatureVerification");
        let verification = as_object(verification, &path)?;
        raw.level = opt_string(verification, "level", &alloc::format!("{path}.level"))?;
        raw.verify_timestamp = opt_string(verification, "verifyTimestamp", &alloc::format!("{path}.verifyTimestamp"))?;
        if let Some(overrides) = verification.get("override").filter(|v| !v.is_null()) {
            let path = alloc::format!("{path}.override");
            for (key, action) in as_object(overrides, &path)? {
                let action = match action {
                    Value::Null => String::new(),
                    Value::String(text) => text.clone(),
                    _ => return Err(malformed(&alloc::format!("{path}.{key}"), "a string")),
                };
                raw.overrides.push((key.clone(), action));
            }
        }
    }
    Ok(raw)
}

fn malformed(field: &str, expected: &'static str) -> PolicyError {
    PolicyError::Malformed { field: String::from(field), expected }
}

fn as_object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, PolicyError> {
    value.as_object().ok_or_else(|| malformed(path, "an object"))
}

fn opt_string(object: &Map<String, Value>, key: &str, path: &str) -> Result<String, PolicyError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(malformed(path, "a string")),
    }
}

fn opt_array<'a>(object: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a Vec<Value>>, PolicyError> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(malformed(path, "an array")),
    }
}

fn string_list(object: &Map<String, Value>, key: &str, path: &str) -> Result<Vec<String>, PolicyError> {
    let Some(items) = opt_array(object, key, path)? else {
        return Ok(Vec::new());
    };
    if items.len() > MAX_LIST_ENTRIES {
        return Err(PolicyError::TooManyEntries(MAX_LIST_ENTRIES));
    }
    items
        .iter()
        .map(|item| match item {
            Value::Null => Ok(String::new()),
            Value::String(text) => Ok(text.clone()),
            _ => Err(malformed(path, "an array of strings")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::identity::DnError;
    use crate::trust::level::{Action, Check, VerificationLevel, VerifyTimestamp};
    use alloc::format;

    /// A one-statement OCI document with the given statement members spliced in.
    fn oci(statement: &str) -> Result<TrustPolicyDocument, PolicyError> {
        TrustPolicyDocument::parse(format!(r#"{{"version":"1.0","trustPolicies":[{{{statement}}}]}}"#).as_bytes())
    }

    const BASE: &str = concat!(
        r#""name":"s","registryScopes":["*"],"signatureVerification":{"level":"strict"},"#,
        r#""trustStores":["ca:e2e"],"trustedIdentities":["*"]"#
    );

    #[test]
    fn accepts_notations_valid_registry_scopes() {
        for scope in [
            "example.com/rep",
            "example.com:8080/rep/rep2",
            "example.com/rep/subrep/subsub",
            "10.10.10.10:8080/rep/rep2",
            "domain/rep",
            "domain:1234/rep",
            "localhost:5000/test-repo",
            "a.b/c__d/e-f/g---h/i.j",
        ] {
            let document =
                oci(&BASE.replacen(r#""registryScopes":["*"]"#, &format!(r#""registryScopes":["{scope}"]"#), 1));
            assert!(document.is_ok(), "{scope}: {document:?}");
        }
        assert!(oci(BASE).is_ok());
    }

    #[test]
    fn refuses_notations_invalid_registry_scopes() {
        for scope in [
            "",
            "1:1",
            "a,b",
            "abcd",
            "1111",
            "1,2",
            "example.com/rep:tag",
            "example.com/rep/subrep/sub:latest",
            "example.com",
            "rep/rep2:latest",
            "repository",
            "10.10.10.10",
            "10.10.10.10:8080/rep/rep2:latest",
            "example.com/Upper",
            "example.com/a..b",
            "example.com/a_-b",
            "example.com/a___b",
            "example.com/-a",
            "example.com/a/",
            "-x.com/a",
            "x.com:/a",
            "example.com/rep@sha256:abc",
        ] {
            let members = BASE.replacen(r#""registryScopes":["*"]"#, &format!(r#""registryScopes":["{scope}"]"#), 1);
            assert_eq!(oci(&members), Err(PolicyError::InvalidScope(scope.into())), "{scope}");
        }
        for scope in ["example.com/*", "*/", "example*/", "ex*test", "**"] {
            let members = BASE.replacen(r#""registryScopes":["*"]"#, &format!(r#""registryScopes":["{scope}"]"#), 1);
            assert_eq!(oci(&members), Err(PolicyError::PartialWildcardScope(scope.into())), "{scope}");
        }
        let mixed = BASE.replacen(r#"["*"]"#, r#"["*","example.com/rep"]"#, 1);
        assert_eq!(oci(&mixed), Err(PolicyError::WildcardScopeMixed("s".into())));
        let empty = BASE.replacen(r#"["*"]"#, "[]", 1);
        assert_eq!(oci(&empty), Err(PolicyError::NoRegistryScopes("s".into())));
        let missing = BASE.replacen(r#""registryScopes":["*"],"#, "", 1);
        assert_eq!(oci(&missing), Err(PolicyError::NoRegistryScopes("s".into())));
    }

    #[test]
    fn scopes_and_names_are_unique_across_the_document() {
        let two = |a: &str, b: &str| {
            TrustPolicyDocument::parse(format!(r#"{{"version":"1.0","trustPolicies":[{{{a}}},{{{b}}}]}}"#).as_bytes())
        };
        let second = BASE.replacen(r#""name":"s""#, r#""name":"t""#, 1);
        assert_eq!(two(BASE, &second), Err(PolicyError::DuplicateScope("*".into())));
        assert_eq!(two(BASE, BASE), Err(PolicyError::DuplicateName("s".into())));
        let scoped = second.replacen(r#"["*"]"#, r#"["r.io/a"]"#, 1);
        let document = two(BASE, &scoped).unwrap();
        assert_eq!(document.statement_for("r.io/a").unwrap().rules.name, "t");
        assert_eq!(document.statement_for("r.io/b").unwrap().rules.name, "s");
        assert_eq!(document.statement_for_reference("r.io/a@sha256:00").unwrap().rules.name, "t");
        assert_eq!(document.statement_for("r.io/a:tag"), Err(TrustError::InvalidScope("r.io/a:tag".into())));
        assert_eq!(
            document.statement_for_reference("r.io/a:tag"),
            Err(TrustError::InvalidReference("r.io/a:tag".into()))
        );
        // Statement rules are checked for every statement before any scope rule, as notation-go does.
        // The second statement repeats the `*` scope and has an empty identity: the identity error wins.
        let bad_identity = second.replacen(r#""trustedIdentities":["*"]"#, r#""trustedIdentities":[""]"#, 1);
        let error = two(BASE, &bad_identity).unwrap_err();
        assert!(matches!(error, PolicyError::TrustedIdentities { source: IdentityError::Empty, .. }), "{error:?}");
        let only_scoped = oci(&BASE.replacen(r#"["*"]"#, r#"["r.io/a"]"#, 1)).unwrap();
        assert_eq!(only_scoped.statement_for("r.io/b"), Err(TrustError::NoApplicablePolicy("r.io/b".into())));
    }

    #[test]
    fn header_rules() {
        let parse = |text: &str| TrustPolicyDocument::parse(text.as_bytes());
        assert_eq!(parse(r#"{"trustPolicies":[]}"#), Err(PolicyError::MissingVersion));
        assert_eq!(
            parse(r#"{"version":"2.0","trustPolicies":[]}"#),
            Err(PolicyError::UnsupportedVersion("2.0".into()))
        );
        assert_eq!(parse(r#"{"version":"1.0"}"#), Err(PolicyError::NoStatements));
        assert_eq!(parse(r#"{"version":"1.0","trustPolicies":null}"#), Err(PolicyError::NoStatements));
        assert_eq!(parse(r#"{"version":"1.0","trustPolicies":[null]}"#), Err(PolicyError::MissingName));
        assert!(matches!(parse(r#"{"version":1,"trustPolicies":[]}"#), Err(PolicyError::Malformed { .. })));
        assert!(matches!(parse(r#"[]"#), Err(PolicyError::Malformed { .. })));
        assert!(matches!(parse(r#"{"version":"1.0","version":"1.0"}"#), Err(PolicyError::Json(_))));
        assert!(matches!(parse("{"), Err(PolicyError::Json(_))));
        let huge = alloc::vec![b' '; limits::MAX_POLICY_BYTES + 1];
        assert!(matches!(TrustPolicyDocument::parse(&huge), Err(PolicyError::Json(JsonError::TooLarge { .. }))));
    }

    #[test]
    fn statement_rules() {
        assert_eq!(oci(&BASE.replacen(r#""name":"s""#, r#""name":"""#, 1)), Err(PolicyError::MissingName));
        let no_level = BASE.replacen(r#"{"level":"strict"}"#, "{}", 1);
        assert!(matches!(
            oci(&no_level),
            Err(PolicyError::SignatureVerification { source: LevelError::MissingLevel, .. })
        ));
        let bad_ts = BASE.replacen(r#"{"level":"strict"}"#, r#"{"level":"strict","verifyTimestamp":"never"}"#, 1);
        assert!(matches!(
            oci(&bad_ts),
            Err(PolicyError::SignatureVerification { source: LevelError::UnknownVerifyTimestamp(_), .. })
        ));
        let skip_with_trust = BASE.replacen("strict", "skip", 1);
        assert_eq!(oci(&skip_with_trust), Err(PolicyError::SkipWithTrust("s".into())));
        let skip = r#""name":"s","registryScopes":["*"],"signatureVerification":{"level":"skip"},"trustStores":null"#;
        let document = oci(skip).unwrap();
        assert!(document.statements[0].rules.is_skip());
        assert!(document.statements[0].rules.trusted_identities.is_empty());
        let skip_override =
            skip.replacen(r#"{"level":"skip"}"#, r#"{"level":"skip","override":{"revocation":"log"}}"#, 1);
        assert!(matches!(
            oci(&skip_override),
            Err(PolicyError::SignatureVerification { source: LevelError::SkipCustomized, .. })
        ));
        let no_identities = BASE.replacen(r#","trustedIdentities":["*"]"#, "", 1);
        assert_eq!(oci(&no_identities), Err(PolicyError::MissingTrust("s".into())));
        let bad_store = BASE.replacen("ca:e2e", "root:e2e", 1);
        assert!(matches!(
            oci(&bad_store),
            Err(PolicyError::TrustStore { source: StoreRefError::UnknownKind { .. }, .. })
        ));
        let non_string = BASE.replacen(r#"["ca:e2e"]"#, "[1]", 1);
        assert!(matches!(oci(&non_string), Err(PolicyError::Malformed { .. })));
        let bad_override = BASE.replacen(r#"{"level":"strict"}"#, r#"{"level":"strict","override":{"expiry":1}}"#, 1);
        assert!(matches!(oci(&bad_override), Err(PolicyError::Malformed { .. })));
        let bad_dn = BASE.replacen(
            r#""trustedIdentities":["*"]"#,
            r#""trustedIdentities":["x509.subject: C=US, ST=WA, O=a+OU=b"]"#,
            1,
        );
        assert!(matches!(
            oci(&bad_dn),
            Err(PolicyError::TrustedIdentities {
                source: IdentityError::InvalidDn { source: DnError::MultiValuedRdn, .. },
                ..
            })
        ));
    }

    #[test]
    fn reads_a_full_statement() {
        let members = r#""name":"s","registryScopes":["r.io/a"],"unknownKey":{"ignored":true},
            "signatureVerification":{"level":"permissive","verifyTimestamp":"afterCertExpiry",
                "override":{"authenticity":"log","revocation":"skip"}},
            "trustStores":["ca:a","tsa:t","ca:a","signingAuthority:sa"],
            "trustedIdentities":["x509.subject: C=US, ST=WA, O=acme", "x509.subject: C=US, ST=OR, O=acme"]"#;
        let document = oci(members).unwrap();
        let rules = &document.statements[0].rules;
        let sv = &rules.signature_verification;
        assert_eq!(sv.level, VerificationLevel::Permissive);
        assert_eq!(sv.level_name(), "custom");
        assert_eq!(sv.verify_timestamp, VerifyTimestamp::AfterCertExpiry);
        assert_eq!(sv.action(Check::Authenticity), Action::Log);
        assert_eq!(sv.action(Check::Revocation), Action::Skip);
        assert_eq!(sv.action(Check::Expiry), Action::Log);
        assert_eq!(rules.store_names(TrustStoreKind::Ca), ["a"]);
        assert_eq!(rules.store_names(TrustStoreKind::SigningAuthority), ["sa"]);
        assert!(rules.has_store_kind(TrustStoreKind::Tsa));
        let leaf = [("C", "US"), ("ST", "OR"), ("O", "acme"), ("CN", "x")].map(|(k, v)| (k.into(), v.into()));
        assert!(rules.trusted_identities.matches(&leaf));
    }

    #[test]
    fn blob_documents() {
        let parse = |statements: &str| {
            BlobTrustPolicyDocument::parse(format!(r#"{{"version":"1.0","trustPolicies":[{statements}]}}"#).as_bytes())
        };
        let a = concat!(
            r#"{"name":"a","signatureVerification":{"level":"audit"},"#,
            r#""trustStores":["ca:x"],"trustedIdentities":["*"],"globalPolicy":true}"#
        );
        let b = r#"{"name":"b","signatureVerification":{"level":"skip"},"globalPolicy":true}"#;
        let c = r#"{"name":"c","signatureVerification":{"level":"skip"},"globalPolicy":false}"#;
        assert_eq!(parse(&format!("{a},{b}")), Err(PolicyError::MultipleGlobalPolicies));
        let document = parse(&format!("{a},{c}")).unwrap();
        assert_eq!(document.statement_for_blob(None).unwrap().rules.name, "a");
        assert_eq!(document.statement_for_blob(Some("c")).unwrap().rules.name, "c");
        let no_global = parse(c).unwrap();
        assert_eq!(no_global.statement_for_blob(None), Err(TrustError::NoGlobalPolicy));
        // notation does not enforce the spec's "a global blob policy must not be skip".
        assert!(parse(b).is_ok());
        assert!(matches!(parse(&a.replace("true", "\"yes\"")), Err(PolicyError::Malformed { .. })));
        assert_eq!(parse(&format!("{c},{c}")), Err(PolicyError::DuplicateName("c".into())));
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    /// One statement: each member usually present, mostly with valid values, sometimes with invalid ones, so that
    /// both loaded documents and every refusal are reached.
    fn statement() -> impl Strategy<Value = String> {
        let pick =
            |choices: &'static [&'static str]| proptest::option::weighted(0.95, proptest::sample::select(choices));
        (
            pick(&[r#""name":"a""#, r#""name":"b""#, r#""name":"c""#, r#""name":"""#]),
            pick(&[
                r#""registryScopes":["*"]"#,
                r#""registryScopes":["r.io/a"]"#,
                r#""registryScopes":["r.io/b","r.io/c"]"#,
                r#""registryScopes":["r.io/*"]"#,
            ]),
            pick(&[
                r#""signatureVerification":{"level":"strict"}"#,
                r#""signatureVerification":{"level":"audit","override":{"revocation":"skip"}}"#,
                r#""signatureVerification":{"level":"permissive","verifyTimestamp":"afterCertExpiry"}"#,
                r#""signatureVerification":{"level":"skip"}"#,
                r#""signatureVerification":{"level":"strict","override":{"integrity":"log"}}"#,
            ]),
            pick(&[r#""trustStores":["ca:a"]"#, r#""trustStores":["ca:a","tsa:t"]"#, r#""trustStores":["x"]"#]),
            pick(&[
                r#""trustedIdentities":["*"]"#,
                r#""trustedIdentities":["x509.subject: C=US, ST=WA, O=a"]"#,
                r#""trustedIdentities":["x509.subject: C=US,ST=WA,O=a\\, b", "x509.subject:C=US,ST=WA,O=a"]"#,
                r#""trustedIdentities":["x509.subject: C=US,ST=WA,O=a,OU=x", "x509.subject:C=US,ST=WA,O=a"]"#,
            ]),
            proptest::option::weighted(0.3, Just(r#""globalPolicy":true"#)),
        )
            .prop_map(|(a, b, c, d, e, f)| {
                let members: Vec<&str> = [a, b, c, d, e, f].into_iter().flatten().collect();
                alloc::format!("{{{}}}", members.join(","))
            })
    }

    proptest! {
        #[test]
        fn documents_never_panic_and_selection_is_consistent(
            statements in proptest::collection::vec(statement(), 1..3),
        ) {
            let body = statements;
            let text = alloc::format!(r#"{{"version":"1.0","trustPolicies":[{}]}}"#, body.join(","));
            // No panic, and a loaded document always selects consistently.
            if let Ok(document) = TrustPolicyDocument::parse(text.as_bytes()) {
                let exact = document.statements.iter().find(|s| s.registry_scopes.iter().any(|r| r == "r.io/a"));
                let global = document.statements.iter().find(|s| s.is_global());
                match document.statement_for("r.io/a") {
                    Ok(statement) => prop_assert_eq!(Some(statement), exact.or(global)),
                    Err(error) => {
                        prop_assert!(exact.is_none() && global.is_none());
                        prop_assert_eq!(error, TrustError::NoApplicablePolicy("r.io/a".into()));
                    }
                }
            }
            if let Ok(document) = BlobTrustPolicyDocument::parse(text.as_bytes()) {
                prop_assert!(document.statements.iter().filter(|s| s.global_policy).count() <= 1);
                let global = document.statements.iter().find(|s| s.global_policy);
                prop_assert_eq!(document.statement_for_blob(None).ok(), global);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = TrustPolicyDocument::parse(&bytes);
            let _ = BlobTrustPolicyDocument::parse(&bytes);
        }
    }
}
