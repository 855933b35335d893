//! Trusted identities: `"*"` or `"x509.subject: <RFC 4514 DN>"`, parsed and matched exactly as notation-go does.
//!
//! notation parses the DN with go-ldap's RFC 4514 parser and then applies its own rules: no `=#` hex values, no
//! multi-valued RDNs, no duplicate attribute types, `S` is `ST`, and C, ST and O are mandatory. A leaf certificate
//! matches an identity when every attribute of the identity equals the leaf's attribute of the same type (exact,
//! case-sensitive); other leaf attributes are ignored. Two identities of one statement where one is a subset of the
//! other "overlap" and make the policy invalid.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::MAX_DN_ATTRIBUTES;

/// The prefix of the only identity kind notation verifies natively.
pub const X509_SUBJECT_PREFIX: &str = "x509.subject";

/// The attributes every x509.subject identity (and every leaf subject) must carry.
const MANDATORY_ATTRIBUTES: [&str; 3] = ["C", "ST", "O"];

/// The attribute types Go's `pkix.Name.String()` renders by name. notation matches identities against that
/// rendering, and any other attribute type is rendered as `<oid>=#<hex>`, which notation's parser refuses; so a
/// leaf subject carrying any other attribute never matches an x509.subject identity.
const LEAF_ATTRIBUTE_NAMES: [&str; 9] = ["C", "ST", "L", "STREET", "POSTALCODE", "O", "OU", "CN", "SERIALNUMBER"];

/// Why a distinguished name was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnError {
    /// The text contains `=#` (a hex-encoded BER value), which notation does not support.
    #[error("x509.subject identities containing \"=#\" are not supported")]
    HexValue,
    /// Not RFC 4514 syntax; the text says what is wrong.
    #[error("not an RFC 4514 distinguished name: {0}")]
    Syntax(&'static str),
    /// An escape sequence decodes to bytes that are not UTF-8.
    #[error("escaped bytes do not form UTF-8 text")]
    InvalidUtf8,
    /// An RDN holds several attributes joined with `+`.
    #[error("multi-valued RDN attributes are not supported")]
    MultiValuedRdn,
    /// One attribute type appears twice.
    #[error("duplicate RDN attribute for {0:?}, a DN can only have unique RDN attributes")]
    DuplicateAttribute(String),
    /// C, ST or O is absent or empty.
    #[error("no mandatory RDN attribute for {0:?}, a DN must contain 'C', 'ST' and 'O' at a minimum")]
    MissingMandatory(&'static str),
    /// More attributes than [`MAX_DN_ATTRIBUTES`].
    #[error("more than {MAX_DN_ATTRIBUTES} RDN attributes")]
    TooManyAttributes,
    /// A leaf subject attribute type notation cannot match (it renders as `<oid>=#<hex>`).
    #[error("certificate subject attribute {0:?} cannot be matched against x509.subject identities")]
    UnsupportedLeafAttribute(String),
}

/// Why a `trustedIdentities` list was refused; each variant is one of notation's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    /// `*` is combined with other entries.
    #[error("a wildcard identity '*' cannot be used in conjunction with other values")]
    WildcardMixed,
    /// An entry is the empty string.
    #[error("empty trusted identity")]
    Empty,
    /// An entry has no `:` between prefix and value.
    #[error("trusted identity {0:?} is missing the ':' separator")]
    MissingSeparator(String),
    /// An `x509.subject:` entry has nothing after the colon.
    #[error("trusted identity {0:?} has no identity value")]
    MissingValue(String),
    /// An `x509.subject:` entry is not a valid DN.
    #[error("trusted identity {identity:?} has an invalid DN: {source}")]
    InvalidDn {
        /// The entry as written.
        identity: String,
        /// What is wrong with it.
        source: DnError,
    },
    /// One x509.subject entry is a subset of another, so some certificate would match both.
    #[error("x509 trusted identities {first:?} and {second:?} overlap")]
    Overlapping {
        /// The entry that is a subset.
        first: String,
        /// The entry it is contained in.
        second: String,
    },
}

/// Why a leaf certificate did not match a statement's trusted identities.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityMismatch {
    /// The statement lists identities but none with the `x509.subject` prefix.
    #[error("no x509 trusted identities are configured")]
    NoX509Identities,
    /// The leaf subject cannot be read as notation reads it.
    #[error("the signing certificate subject cannot be matched: {0}")]
    LeafSubject(DnError),
    /// No identity is a subset of the leaf subject.
    #[error("the signing certificate subject does not match any trusted identity")]
    NoMatch,
}

/// A parsed distinguished name as notation keeps it: attribute type to value (types case-sensitive, `S` folded
/// into `ST`; a present-but-empty value is kept, as Go's map lookups treat it like an absent one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistinguishedName {
    attributes: BTreeMap<String, String>,
}

impl DistinguishedName {
    /// Parses RFC 4514 text with notation's rules (see the module documentation).
    pub fn parse(text: &str) -> Result<Self, DnError> {
        if text.contains("=#") {
            return Err(DnError::HexValue);
        }
        let rdns = parse_rdns(text)?;
        let mut attributes = BTreeMap::new();
        for rdn in rdns {
            if rdn.len() > 1 {
                return Err(DnError::MultiValuedRdn);
            }
            for (kind, value) in rdn {
                let kind = if kind == "S" { String::from("ST") } else { kind };
                insert_unique(&mut attributes, kind, value)?;
            }
        }
        Self::with_mandatory(attributes)
    }

    /// Builds the DN notation derives from a leaf certificate's subject, given as (short name, value) pairs in any
    /// order (multi-valued RDNs flattened, as Go does). Types outside Go's nine named attributes, values holding
    /// `=#`, duplicate types and missing C/ST/O make the subject unmatchable, as they do in notation.
    pub fn from_leaf_attributes(pairs: &[(String, String)]) -> Result<Self, DnError> {
        if pairs.len() > MAX_DN_ATTRIBUTES {
            return Err(DnError::TooManyAttributes);
        }
        let mut attributes = BTreeMap::new();
        for (kind, value) in pairs {
            if !LEAF_ATTRIBUTE_NAMES.contains(&kind.as_str()) {
                return Err(DnError::UnsupportedLeafAttribute(kind.clone()));
            }
            if value.contains("=#") {
                return Err(DnError::HexValue);
            }
            insert_unique(&mut attributes, kind.clone(), value.clone())?;
        }
        Self::with_mandatory(attributes)
    }

    fn with_mandatory(attributes: BTreeMap<String, String>) -> Result<Self, DnError> {
        for field in MANDATORY_ATTRIBUTES {
            if attributes.get(field).is_none_or(|value| value.is_empty()) {
                return Err(DnError::MissingMandatory(field));
            }
        }
        Ok(Self { attributes })
    }

    /// The value of attribute `kind` (`"CN"`, `"ST"`, …), if present.
    pub fn get(&self, kind: &str) -> Option<&str> {
        self.attributes.get(kind).map(String::as_str)
    }

    /// All attributes, ordered by type.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &str)> {
        self.attributes.iter().map(|(kind, value)| (kind.as_str(), value.as_str()))
    }

    /// notation's `IsSubsetDN`: every attribute of `self` has the same value in `other` (an absent attribute
    /// counts as the empty value).
    pub fn is_subset_of(&self, other: &DistinguishedName) -> bool {
        self.attributes.iter().all(|(kind, value)| other.get(kind).unwrap_or("") == value)
    }

    /// RFC 4514 text that [`DistinguishedName::parse`] reads back to an equal DN (attributes in type order).
    pub fn to_rfc4514(&self) -> String {
        let mut out = String::new();
        for (index, (kind, value)) in self.attributes.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            escape_into(&mut out, kind);
            out.push('=');
            escape_into(&mut out, value);
        }
        out
    }
}

/// notation's duplicate rule: a type may be set again only while its stored value is empty.
fn insert_unique(attributes: &mut BTreeMap<String, String>, kind: String, value: String) -> Result<(), DnError> {
    if attributes.len() >= MAX_DN_ATTRIBUTES {
        return Err(DnError::TooManyAttributes);
    }
    if attributes.get(&kind).is_some_and(|existing| !existing.is_empty()) {
        return Err(DnError::DuplicateAttribute(kind));
    }
    attributes.insert(kind, value);
    Ok(())
}

/// go-ldap's `ParseDN`: splits on unescaped `,`/`;` (RDNs) and `+` (attributes of one RDN), takes the type up to
/// the first unescaped `=`, and decodes type and value.
fn parse_rdns(text: &str) -> Result<Vec<Vec<(String, String)>>, DnError> {
    let mut rdns = Vec::new();
    if text.trim().is_empty() {
        return Ok(rdns);
    }
    let bytes = text.as_bytes();
    let mut rdn = Vec::new();
    let mut kind = String::new();
    let mut escaping = false;
    let mut start = 0;
    let mut count = 0usize;
    for (index, &byte) in bytes.iter().enumerate() {
        if escaping {
            escaping = false;
            continue;
        }
        match byte {
            b'\\' => escaping = true,
            b'=' if kind.is_empty() => {
                kind = decode(text.get(start..index).ok_or(DnError::Syntax("split inside a character"))?)?;
                start = index + 1;
            }
            b',' | b'+' | b';' => {
                if kind.is_empty() {
                    return Err(DnError::Syntax("incomplete type, value pair"));
                }
                count += 1;
                if count > MAX_DN_ATTRIBUTES {
                    return Err(DnError::TooManyAttributes);
                }
                let value = decode_value(text.get(start..index).ok_or(DnError::Syntax("split inside a character"))?)?;
                rdn.push((core::mem::take(&mut kind), value));
                start = index + 1;
                if byte != b'+' {
                    rdns.push(core::mem::take(&mut rdn));
                }
            }
            _ => {}
        }
    }
    if kind.is_empty() {
        return Err(DnError::Syntax("DN ended with incomplete type, value pair"));
    }
    let value = decode_value(text.get(start..).ok_or(DnError::Syntax("split inside a character"))?)?;
    rdn.push((kind, value));
    rdns.push(rdn);
    Ok(rdns)
}

/// A value starting with `#` is hex BER in RFC 4514, which notation refuses (it is also caught by the `=#` test).
fn decode_value(raw: &str) -> Result<String, DnError> {
    if raw.starts_with('#') {
        return Err(DnError::HexValue);
    }
    decode(raw)
}

/// go-ldap's `decodeString`: strips unescaped leading/trailing spaces, then resolves `\<special>` and `\XX`.
fn decode(raw: &str) -> Result<String, DnError> {
    let stripped = strip_spaces(raw);
    let chars: Vec<char> = stripped.chars().collect();
    let mut out: Vec<u8> = Vec::with_capacity(stripped.len());
    let mut index = 0;
    while let Some(&c) = chars.get(index) {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            index += 1;
            continue;
        }
        let next = *chars.get(index + 1).ok_or(DnError::Syntax("corrupted escaped character"))?;
        if matches!(next, ' ' | '"' | '#' | '+' | ',' | ';' | '<' | '=' | '>' | '\\') {
            out.push(next as u8);
            index += 2;
            continue;
        }
        let second = *chars.get(index + 2).ok_or(DnError::Syntax("incomplete hex escape"))?;
        let high = next.to_digit(16).ok_or(DnError::Syntax("invalid hex escape"))?;
        let low = second.to_digit(16).ok_or(DnError::Syntax("invalid hex escape"))?;
        // Both digits are < 16, so the byte fits.
        out.push(((high << 4) | low) as u8);
        index += 3;
    }
    String::from_utf8(out).map_err(|_| DnError::InvalidUtf8)
}

/// Trims unescaped spaces at both ends; a trailing space stays when an odd run of backslashes escapes it.
fn strip_spaces(raw: &str) -> String {
    let trimmed = raw.trim_matches(' ');
    let mut out = String::from(trimmed);
    if !trimmed.is_empty() && raw.ends_with(' ') {
        let backslashes = trimmed.bytes().rev().take_while(|&b| b == b'\\').count();
        if backslashes % 2 == 1 {
            out.push(' ');
        }
    }
    out
}

/// RFC 4514 escaping, plus every `=` and `#` so that no `=#` (refused by notation) can appear in the output.
fn escape_into(out: &mut String, text: &str) {
    let last = text.chars().count().saturating_sub(1);
    for (index, c) in text.chars().enumerate() {
        let escape = match c {
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' | '=' | '#' => true,
            ' ' => index == 0 || index == last,
            _ => false,
        };
        if escape {
            out.push('\\');
        }
        out.push(c);
    }
}

/// One entry of `trustedIdentities` other than `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedIdentity {
    /// `x509.subject:<DN>`: matched against the leaf certificate's subject.
    X509Subject {
        /// The entry as written.
        raw: String,
        /// The parsed DN.
        dn: DistinguishedName,
    },
    /// Another `<prefix>:<value>` entry: accepted (a plugin may understand it) but never matched natively.
    Other {
        /// The entry as written.
        raw: String,
    },
}

/// A statement's validated `trustedIdentities`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustedIdentities {
    /// `["*"]`: any certificate that chains to the statement's stores.
    Any,
    /// Explicit identities (empty only for `skip` statements).
    Listed(Vec<TrustedIdentity>),
}

impl TrustedIdentities {
    /// Validates the list with notation's rules: `*` alone, no empty entries, a `:` in every other entry,
    /// x509.subject values valid DNs, and no two x509.subject DNs overlapping.
    pub fn parse<S: AsRef<str>>(values: &[S]) -> Result<Self, IdentityError> {
        if values.len() > 1 && values.iter().any(|value| value.as_ref() == "*") {
            return Err(IdentityError::WildcardMixed);
        }
        let mut listed = Vec::with_capacity(values.len());
        for value in values {
            let value = value.as_ref();
            if value.is_empty() {
                return Err(IdentityError::Empty);
            }
            if value == "*" {
                return Ok(Self::Any);
            }
            let (prefix, dn_text) =
                value.split_once(':').ok_or_else(|| IdentityError::MissingSeparator(String::from(value)))?;
            if prefix != X509_SUBJECT_PREFIX {
                listed.push(TrustedIdentity::Other { raw: String::from(value) });
                continue;
            }
            if dn_text.is_empty() {
                return Err(IdentityError::MissingValue(String::from(value)));
            }
            let dn = DistinguishedName::parse(dn_text)
                .map_err(|source| IdentityError::InvalidDn { identity: String::from(value), source })?;
            listed.push(TrustedIdentity::X509Subject { raw: String::from(value), dn });
        }
        let subjects: Vec<(&String, &DistinguishedName)> = listed
            .iter()
            .filter_map(|identity| match identity {
                TrustedIdentity::X509Subject { raw, dn } => Some((raw, dn)),
                TrustedIdentity::Other { .. } => None,
            })
            .collect();
        for (i, (first, first_dn)) in subjects.iter().enumerate() {
            for (j, (second, second_dn)) in subjects.iter().enumerate() {
                if i != j && first_dn.is_subset_of(second_dn) {
                    return Err(IdentityError::Overlapping {
                        first: String::clone(first),
                        second: String::clone(second),
                    });
                }
            }
        }
        Ok(Self::Listed(listed))
    }

    /// True when no identity is listed (a `skip` statement).
    pub fn is_empty(&self) -> bool {
        matches!(self, Self::Listed(list) if list.is_empty())
    }

    /// Checks the leaf certificate's subject, given as (short name, value) pairs such as `("CN", "e2e")`, the way
    /// notation does; says why it does not match.
    pub fn check(&self, leaf_subject: &[(String, String)]) -> Result<(), IdentityMismatch> {
        let list = match self {
            Self::Any => return Ok(()),
            Self::Listed(list) => list,
        };
        let mut subjects = list
            .iter()
            .filter_map(|identity| match identity {
                TrustedIdentity::X509Subject { dn, .. } => Some(dn),
                TrustedIdentity::Other { .. } => None,
            })
            .peekable();
        if subjects.peek().is_none() {
            return Err(IdentityMismatch::NoX509Identities);
        }
        let leaf = DistinguishedName::from_leaf_attributes(leaf_subject).map_err(IdentityMismatch::LeafSubject)?;
        if subjects.any(|dn| dn.is_subset_of(&leaf)) {
            Ok(())
        } else {
            Err(IdentityMismatch::NoMatch)
        }
    }

    /// Whether the leaf subject satisfies these identities (see [`TrustedIdentities::check`]).
    pub fn matches(&self, leaf_subject: &[(String, String)]) -> bool {
        self.check(leaf_subject).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::ToString;
    use alloc::vec;

    fn dn(text: &str) -> Result<Vec<(String, String)>, DnError> {
        DistinguishedName::parse(text).map(|dn| dn.attributes().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn parses_plain_dns_with_spaces() {
        let parsed = dn(" C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools").unwrap();
        assert_eq!(
            parsed,
            pairs(&[
                ("C", "US"),
                ("L", "Seattle"),
                ("O", "wabbit-networks.io"),
                ("OU", "Security Tools"),
                ("ST", "WA")
            ])
        );
        assert_eq!(dn("C=US;ST=WA;O=  My.  Org  ").unwrap()[1], ("O".to_string(), "My.  Org".to_string()));
    }

    #[test]
    fn honours_rfc4514_escapes() {
        let parsed = DistinguishedName::parse(r#"C=US,ST=WA,O=My "special" Org \, \; \\ others"#).unwrap();
        assert_eq!(parsed.get("O"), Some(r#"My "special" Org , ; \ others"#));
        let parsed = DistinguishedName::parse(r"C=US,ST=WA,O=\ padded\ ,CN=caf\C3\A9").unwrap();
        assert_eq!(parsed.get("O"), Some(" padded "));
        assert_eq!(parsed.get("CN"), Some("café"));
        let parsed = DistinguishedName::parse(r"C=US,ST=WA,O=a\=b\+c\#").unwrap();
        assert_eq!(parsed.get("O"), Some("a=b+c#"));
        // An escaped backslash before a trailing space leaves the space unescaped, so it is stripped.
        assert_eq!(DistinguishedName::parse(r"C=US,ST=WA,O=x\\ ").unwrap().get("O"), Some(r"x\"));
        assert_eq!(
            DistinguishedName::parse(r"C=US,ST=WA,O=x\").unwrap_err(),
            DnError::Syntax("corrupted escaped character")
        );
        assert!(matches!(DistinguishedName::parse(r"C=US,ST=WA,O=x\zz"), Err(DnError::Syntax(_))));
        assert_eq!(DistinguishedName::parse(r"C=US,ST=WA,O=\FF").unwrap_err(), DnError::InvalidUtf8);
    }

    #[test]
    fn state_alias_and_mandatory_attributes() {
        assert_eq!(
            DistinguishedName::parse("C=US,S=California,O=Notary Project").unwrap().get("ST"),
            Some("California")
        );
        assert_eq!(
            DistinguishedName::parse("C=US,ST=California,O=Notary Project,S=California").unwrap_err(),
            DnError::DuplicateAttribute("ST".into())
        );
        assert_eq!(DistinguishedName::parse("C=US,ST=WA").unwrap_err(), DnError::MissingMandatory("O"));
        assert_eq!(
            DistinguishedName::parse("CN=e2e,O=Notary,L=Seattle,C=US").unwrap_err(),
            DnError::MissingMandatory("ST")
        );
        assert_eq!(DistinguishedName::parse("CN=e2e,O=Notary,ST=WA").unwrap_err(), DnError::MissingMandatory("C"));
        assert_eq!(DistinguishedName::parse("C=,ST=WA,O=x").unwrap_err(), DnError::MissingMandatory("C"));
        assert_eq!(DistinguishedName::parse("   ").unwrap_err(), DnError::MissingMandatory("C"));
        // Types are case-sensitive, as in notation: "c" is not "C".
        assert_eq!(DistinguishedName::parse("c=US,ST=WA,O=x").unwrap_err(), DnError::MissingMandatory("C"));
        assert!(DistinguishedName::parse("C=US,ST=WA,O=MyOrg,CustomRDN=CustomValue").is_ok());
    }

    #[test]
    fn refuses_what_notation_refuses() {
        assert_eq!(DistinguishedName::parse("C=US,C=IN").unwrap_err(), DnError::DuplicateAttribute("C".into()));
        assert_eq!(
            DistinguishedName::parse("C=US,ST=WA,O=Org,1.3.6.1.4.1.1466.0=#04024869").unwrap_err(),
            DnError::HexValue
        );
        assert_eq!(DistinguishedName::parse("C=US,ST=WA,O=Notary Project=#").unwrap_err(), DnError::HexValue);
        assert_eq!(
            DistinguishedName::parse("OU=Sales+CN=J. Smith,C=US,ST=WA,O=x").unwrap_err(),
            DnError::MultiValuedRdn
        );
        assert_eq!(
            DistinguishedName::parse("invalid").unwrap_err(),
            DnError::Syntax("DN ended with incomplete type, value pair")
        );
        assert_eq!(DistinguishedName::parse("C=US,,O=x").unwrap_err(), DnError::Syntax("incomplete type, value pair"));
        assert!(DistinguishedName::parse("C=US,ST=WA,O=x,").is_err());
        let many = (0..200).map(|i| format!("A{i}=v")).collect::<Vec<_>>().join(",");
        assert_eq!(DistinguishedName::parse(&many).unwrap_err(), DnError::TooManyAttributes);
    }

    #[test]
    fn identity_list_rules() {
        assert_eq!(TrustedIdentities::parse(&["*"]).unwrap(), TrustedIdentities::Any);
        assert_eq!(
            TrustedIdentities::parse(&["*", "x509.subject: C=US, ST=WA, O=x"]).unwrap_err(),
            IdentityError::WildcardMixed
        );
        assert_eq!(TrustedIdentities::parse(&["*", "*"]).unwrap_err(), IdentityError::WildcardMixed);
        assert_eq!(TrustedIdentities::parse(&[""]).unwrap_err(), IdentityError::Empty);
        assert!(matches!(
            TrustedIdentities::parse(&["x509.subject CN=e2e,O=Notary,ST=WA,C=US"]).unwrap_err(),
            IdentityError::MissingSeparator(_)
        ));
        assert!(matches!(TrustedIdentities::parse(&["x509.subject:"]).unwrap_err(), IdentityError::MissingValue(_)));
        assert!(matches!(
            TrustedIdentities::parse(&["x509.subject: C=US, ST=WA"]).unwrap_err(),
            IdentityError::InvalidDn { source: DnError::MissingMandatory("O"), .. }
        ));
        // Other prefixes are kept for plugins and never validated as DNs.
        let other = TrustedIdentities::parse(&["plugin.id:anything"]).unwrap();
        assert_eq!(
            other.check(&pairs(&[("C", "US"), ("ST", "WA"), ("O", "x")])),
            Err(IdentityMismatch::NoX509Identities)
        );
    }

    #[test]
    fn overlapping_identities_are_refused() {
        let overlapping = TrustedIdentities::parse(&[
            "x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US",
            "x509.subject: CN=e2e,O=Notary,ST=WA,C=US",
        ]);
        assert!(matches!(overlapping, Err(IdentityError::Overlapping { .. })));
        assert!(matches!(
            TrustedIdentities::parse(&["x509.subject:C=US,ST=WA,O=x", "x509.subject: O=x, S=WA, C=US"]),
            Err(IdentityError::Overlapping { .. })
        ));
        let distinct =
            TrustedIdentities::parse(&["x509.subject:C=US,ST=WA,O=x,OU=a", "x509.subject:C=US,ST=WA,O=x,OU=b"]);
        assert!(distinct.is_ok());
    }

    #[test]
    fn matching_is_an_exact_case_sensitive_subset() {
        let ids = TrustedIdentities::parse(&["x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"]).unwrap();
        let leaf = pairs(&[("C", "US"), ("ST", "WA"), ("L", "Seattle"), ("O", "Notary"), ("CN", "e2e")]);
        assert!(ids.matches(&leaf));
        let bigger = pairs(&[("C", "US"), ("ST", "WA"), ("L", "Seattle"), ("O", "Notary"), ("OU", "x"), ("CN", "e2e")]);
        assert!(ids.matches(&bigger));
        let wrong_case = pairs(&[("C", "US"), ("ST", "WA"), ("L", "Seattle"), ("O", "notary"), ("CN", "e2e")]);
        assert_eq!(ids.check(&wrong_case), Err(IdentityMismatch::NoMatch));
        let usb = TrustedIdentities::parse(&["x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=USB"]).unwrap();
        assert!(!usb.matches(&leaf));
        let missing_l = pairs(&[("C", "US"), ("ST", "WA"), ("O", "Notary"), ("CN", "e2e")]);
        assert!(!ids.matches(&missing_l));
        assert!(TrustedIdentities::Any.matches(&[]));
        assert!(!TrustedIdentities::Listed(vec![]).matches(&leaf));
    }

    #[test]
    fn leaf_subjects_notation_cannot_read_never_match() {
        let ids = TrustedIdentities::parse(&["x509.subject: C=US, ST=WA, O=Notary"]).unwrap();
        let no_state = pairs(&[("C", "US"), ("O", "Notary")]);
        assert_eq!(ids.check(&no_state), Err(IdentityMismatch::LeafSubject(DnError::MissingMandatory("ST"))));
        let email = pairs(&[("C", "US"), ("ST", "WA"), ("O", "Notary"), ("1.2.840.113549.1.9.1", "a@b")]);
        assert!(matches!(ids.check(&email), Err(IdentityMismatch::LeafSubject(DnError::UnsupportedLeafAttribute(_)))));
        let two_ou = pairs(&[("C", "US"), ("ST", "WA"), ("O", "Notary"), ("OU", "a"), ("OU", "b")]);
        assert!(matches!(ids.check(&two_ou), Err(IdentityMismatch::LeafSubject(DnError::DuplicateAttribute(_)))));
        let hex = pairs(&[("C", "US"), ("ST", "WA"), ("O", "Notary"), ("CN", "a=#b")]);
        assert_eq!(ids.check(&hex), Err(IdentityMismatch::LeafSubject(DnError::HexValue)));
        // The wildcard trusts any subject, readable or not.
        assert!(TrustedIdentities::Any.matches(&no_state));
    }

    #[test]
    fn formatter_output_parses_back() {
        let original = DistinguishedName::parse(r"C=US,ST=WA,O=\ a\,b\;c\\d=e#f\ ,CN=\#x").unwrap();
        let text = original.to_rfc4514();
        assert_eq!(DistinguishedName::parse(&text).unwrap(), original);
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just(' '),
                Just('#'),
                Just('='),
                Just('\\'),
                Just(','),
                Just('+'),
                Just(';'),
                Just('"'),
                Just('<'),
                Just('>'),
                Just('é'),
                proptest::char::range('a', 'z'),
                proptest::char::range('0', '9'),
            ],
            1..12,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn parse_format_round_trip(
            c in value(), st in value(), o in value(),
            extra in proptest::collection::btree_map("(CN|OU|L|STREET|X[A-Z]{0,3})", value(), 0..4),
        ) {
            let mut text = alloc::format!("C={},ST={},O={}", esc(&c), esc(&st), esc(&o));
            for (kind, val) in &extra {
                text.push_str(&alloc::format!(",{kind}={}", esc(val)));
            }
            // Values made only of spaces lose nothing: escaping keeps them.
            let parsed = DistinguishedName::parse(&text).unwrap();
            prop_assert_eq!(parsed.get("C"), Some(c.as_str()));
            prop_assert_eq!(parsed.get("O"), Some(o.as_str()));
            let reparsed = DistinguishedName::parse(&parsed.to_rfc4514()).unwrap();
            prop_assert_eq!(&reparsed, &parsed);
            for (kind, val) in &extra {
                prop_assert_eq!(reparsed.get(kind), Some(val.as_str()));
            }
            prop_assert_eq!(reparsed.to_rfc4514(), parsed.to_rfc4514());
            prop_assert!(parsed.is_subset_of(&reparsed));
            let _ = c.to_string();
        }

        #[test]
        fn parser_never_panics(text in "\\PC{0,64}") {
            let _ = DistinguishedName::parse(&text);
        }
    }

    fn esc(text: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, text);
        out
    }
}
