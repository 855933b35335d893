//! Named trust stores handed in by hosts, and the authenticity test notation applies to them.
//!
//! Hosts read `truststore/x509/{ca,signingAuthority,tsa}/<name>/` (or any other source) and hand each store's file
//! contents in; the core never touches a disk. Loading applies notation-go's store rules (every certificate passes
//! [`check_trust_store_certificate`] for the store's kind; an empty store is an error). notation's authenticity
//! check is deliberately simple: some certificate of the envelope's chain must be byte-equal to some certificate
//! of a store the statement names, of the store kind matching the signing scheme. There is no path building here;
//! the chain was validated already.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::cmp::Ordering;
use core::fmt;

use super::{MAX_STORES, MAX_STORE_CERTIFICATES};
use crate::x509::{check_trust_store_certificate, parse_certificates, Certificate, TrustStoreKind, X509Error};

/// Every store kind, in the order notation lists them.
const KINDS: [TrustStoreKind; 3] = [TrustStoreKind::Ca, TrustStoreKind::SigningAuthority, TrustStoreKind::Tsa];

/// Why a `trustStores` entry was refused; each variant is one of notation's rules.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreRefError {
    /// No `:` between type and name (this includes `"*"`).
    #[error("malformed trust store value {0:?}, the required format is <TrustStoreType>:<TrustStoreName>")]
    MissingSeparator(String),
    /// The type is not ca, signingAuthority or tsa.
    #[error("unsupported trust store type {kind:?} in trust store value {value:?}")]
    UnknownKind {
        /// The entry as written.
        value: String,
        /// The refused type.
        kind: String,
    },
    /// The name is empty or has characters outside `[a-zA-Z0-9_.-]`.
    #[error("unsupported trust store name {name:?} in trust store value {value:?}, names must match [a-zA-Z0-9_.-]+")]
    InvalidName {
        /// The entry as written.
        value: String,
        /// The refused name.
        name: String,
    },
}

/// A reference to one named store, `"<type>:<name>"` in a policy.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StoreRef {
    /// The store's kind.
    pub kind: TrustStoreKind,
    /// The store's name (also its directory name).
    pub name: String,
}

impl StoreRef {
    /// Parses `"<type>:<name>"`, splitting at the first `:` as notation does (type names are case-sensitive).
    pub fn parse(value: &str) -> Result<Self, StoreRefError> {
        let (kind, name) = value.split_once(':').ok_or_else(|| StoreRefError::MissingSeparator(String::from(value)))?;
        let kind = KINDS
            .into_iter()
            .find(|k| k.name() == kind)
            .ok_or_else(|| StoreRefError::UnknownKind { value: String::from(value), kind: String::from(kind) })?;
        if !is_valid_store_name(name) {
            return Err(StoreRefError::InvalidName { value: String::from(value), name: String::from(name) });
        }
        Ok(Self { kind, name: String::from(name) })
    }

    /// A reference to `name` of `kind`, checking the name rule.
    pub fn new(kind: TrustStoreKind, name: &str) -> Result<Self, StoreRefError> {
        if !is_valid_store_name(name) {
            let value = alloc::format!("{}:{name}", kind.name());
            return Err(StoreRefError::InvalidName { value, name: String::from(name) });
        }
        Ok(Self { kind, name: String::from(name) })
    }

    fn sort_key(&self) -> (usize, &str) {
        (KINDS.iter().position(|k| *k == self.kind).unwrap_or(KINDS.len()), self.name.as_str())
    }
}

impl Ord for StoreRef {
    fn cmp(&self, other: &Self) -> Ordering {
        self.sort_key().cmp(&other.sort_key())
    }
}

impl PartialOrd for StoreRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for StoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.name(), self.name)
    }
}

/// notation's store (and file) name rule: `[a-zA-Z0-9_.-]+`.
pub fn is_valid_store_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Why certificates could not be added to a store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// More named stores than [`MAX_STORES`].
    #[error("more than {MAX_STORES} named trust stores")]
    TooManyStores,
    /// More certificates in one store than [`MAX_STORE_CERTIFICATES`].
    #[error("trust store {0} holds more than {MAX_STORE_CERTIFICATES} certificates")]
    TooManyCertificates(String),
    /// A file is not PEM/DER certificates, or a certificate breaks the rules for the store's kind.
    #[error("trust store {store}: {source}")]
    Certificate {
        /// The store, as `type:name`.
        store: String,
        /// What is wrong.
        source: X509Error,
    },
    /// The store holds no certificate (notation refuses an empty named store).
    #[error("no x509 certificates were found in trust store {0}")]
    Empty(String),
}

/// The named stores a host has loaded: `(kind, name)` to the certificates they hold.
#[derive(Clone, Debug, Default)]
pub struct TrustStores {
    stores: BTreeMap<StoreRef, Vec<Certificate>>,
}

impl TrustStores {
    /// No stores.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads one named store from the contents of its files (PEM or DER, several certificates per file allowed),
    /// applying notation-go's rules; nothing is added when any file or certificate is refused.
    pub fn load_store<I, B>(&mut self, store: StoreRef, files: I) -> Result<(), StoreError>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut certificates = Vec::new();
        for file in files {
            let parsed = parse_certificates(file.as_ref())
                .map_err(|source| StoreError::Certificate { store: alloc::format!("{store}"), source })?;
            certificates.extend(parsed);
            if certificates.len() > MAX_STORE_CERTIFICATES {
                return Err(StoreError::TooManyCertificates(alloc::format!("{store}")));
            }
        }
        self.add(store, certificates)
    }

    /// Adds parsed certificates to the named store (creating it), checking each against the rules for the store's
    /// kind; a byte-identical certificate is kept once. A store must end up with at least one certificate.
    pub fn add<I>(&mut self, store: StoreRef, certificates: I) -> Result<(), StoreError>
    where
        I: IntoIterator<Item = Certificate>,
    {
        if !self.stores.contains_key(&store) && self.stores.len() >= MAX_STORES {
            return Err(StoreError::TooManyStores);
        }
        let label = alloc::format!("{store}");
        let mut held = self.stores.get(&store).cloned().unwrap_or_default();
        for certificate in certificates {
            check_trust_store_certificate(&certificate, store.kind)
                .map_err(|source| StoreError::Certificate { store: label.clone(), source })?;
            if held.contains(&certificate) {
                continue;
            }
            if held.len() >= MAX_STORE_CERTIFICATES {
                return Err(StoreError::TooManyCertificates(label));
            }
            held.push(certificate);
        }
        if held.is_empty() {
            return Err(StoreError::Empty(label));
        }
        self.stores.insert(store, held);
        Ok(())
    }

    /// The certificates of one named store, if the host loaded it.
    pub fn certificates(&self, store: &StoreRef) -> Option<&[Certificate]> {
        self.stores.get(store).map(Vec::as_slice)
    }

    /// Every certificate in the stores of `kind` whose names are listed (duplicate names count once, names the host
    /// did not load contribute nothing).
    pub fn certificates_of<N, S>(&self, kind: TrustStoreKind, names: N) -> Vec<&Certificate>
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seen: Vec<String> = Vec::new();
        let mut out: Vec<&Certificate> = Vec::new();
        for name in names {
            let name = name.as_ref();
            if seen.iter().any(|s| s == name) {
                continue;
            }
            seen.push(String::from(name));
            if let Some(certs) = self.stores.get(&StoreRef { kind, name: String::from(name) }) {
                out.extend(certs.iter());
            }
        }
        out
    }

    /// notation's authenticity test: some certificate of `chain_der` is byte-equal to some certificate in the
    /// stores of `kind` named in `names`.
    pub fn contains_any<N, S, C, B>(&self, kind: TrustStoreKind, names: N, chain_der: C) -> bool
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
        C: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let trusted = self.certificates_of(kind, names);
        chain_der.into_iter().any(|cert| trusted.iter().any(|t| t.der() == cert.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_store_references_like_notation() {
        assert_eq!(StoreRef::parse("ca:e2e").unwrap(), StoreRef { kind: TrustStoreKind::Ca, name: "e2e".into() });
        assert_eq!(StoreRef::parse("signingAuthority:a_b.c-1").unwrap().kind, TrustStoreKind::SigningAuthority);
        assert_eq!(StoreRef::parse("tsa:x").unwrap().to_string(), "tsa:x");
        assert!(matches!(StoreRef::parse("*"), Err(StoreRefError::MissingSeparator(_))));
        assert!(matches!(StoreRef::parse("ca"), Err(StoreRefError::MissingSeparator(_))));
        assert!(matches!(StoreRef::parse("ca:"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("ca:a:b"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("ca:*"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("ca:a/b"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("CA:x"), Err(StoreRefError::UnknownKind { .. })));
        assert!(matches!(StoreRef::parse("signingauthority:x"), Err(StoreRefError::UnknownKind { .. })));
        assert!(StoreRef::new(TrustStoreKind::Tsa, "bad name").is_err());
        assert_eq!(StoreRef::new(TrustStoreKind::Tsa, "ok").unwrap(), StoreRef::parse("tsa:ok").unwrap());
    }

    #[test]
    fn store_references_order_by_kind_then_name() {
        let mut refs = ["tsa:a", "ca:b", "signingAuthority:a", "ca:a"].map(|r| StoreRef::parse(r).unwrap());
        refs.sort();
        let names: Vec<String> = refs.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["ca:a", "ca:b", "signingAuthority:a", "tsa:a"]);
    }

    #[test]
    fn refuses_garbage_and_empty_stores() {
        let mut stores = TrustStores::new();
        let key = StoreRef::parse("ca:x").unwrap();
        assert!(matches!(stores.load_store(key.clone(), [b"not a certificate"]), Err(StoreError::Certificate { .. })));
        assert_eq!(stores.load_store(key.clone(), [] as [&[u8]; 0]), Err(StoreError::Empty("ca:x".into())));
        assert!(stores.certificates(&key).is_none());
        assert!(!stores.contains_any(TrustStoreKind::Ca, ["x"], [b"anything"]));
    }
}
