//! Named trust stores handed in by hosts, and the authenticity test notation applies to them.
//!
//! Hosts read `truststore/x509/{ca,signingAuthority,tsa}/<name>/` (or any other source) and hand the certificates
//! in as DER; the core never touches a disk. notation's authenticity check is deliberately simple: some
//! certificate of the envelope's chain must be byte-equal to some certificate of a store the statement names, of
//! the store type matching the signing scheme. There is no path building here; the chain was validated already.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{MAX_STORES, MAX_STORE_CERTIFICATES};

/// The three kinds of named stores (`x509/ca`, `x509/signingAuthority`, `x509/tsa`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreKind {
    /// Roots for `notary.x509` signatures.
    Ca,
    /// Roots for `notary.x509.signingAuthority` signatures.
    SigningAuthority,
    /// Roots for RFC 3161 timestamp authorities.
    Tsa,
}

impl StoreKind {
    /// Every kind, in the order notation lists them.
    pub const ALL: [StoreKind; 3] = [Self::Ca, Self::SigningAuthority, Self::Tsa];

    /// The type name used in policies and as the directory name (case-sensitive).
    pub fn name(self) -> &'static str {
        match self {
            Self::Ca => "ca",
            Self::SigningAuthority => "signingAuthority",
            Self::Tsa => "tsa",
        }
    }

    /// Reads a store type name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

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
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreRef {
    /// The store's kind.
    pub kind: StoreKind,
    /// The store's name (also its directory name).
    pub name: String,
}

impl StoreRef {
    /// Parses `"<type>:<name>"`, splitting at the first `:` as notation does.
    pub fn parse(value: &str) -> Result<Self, StoreRefError> {
        let (kind, name) = value.split_once(':').ok_or_else(|| StoreRefError::MissingSeparator(String::from(value)))?;
        let kind = StoreKind::from_name(kind)
            .ok_or_else(|| StoreRefError::UnknownKind { value: String::from(value), kind: String::from(kind) })?;
        if !is_valid_store_name(name) {
            return Err(StoreRefError::InvalidName { value: String::from(value), name: String::from(name) });
        }
        Ok(Self { kind, name: String::from(name) })
    }

    /// A reference to `name` of `kind`, checking the name rule.
    pub fn new(kind: StoreKind, name: &str) -> Result<Self, StoreRefError> {
        Self::parse(&alloc::format!("{}:{name}", kind.name()))
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
    /// A certificate larger than `limits::MAX_CERTIFICATE_BYTES`.
    #[error("a certificate in trust store {0} exceeds the size limit")]
    CertificateTooLarge(String),
}

/// The named stores a host has loaded: `(kind, name)` to the DER certificates it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustStores {
    stores: BTreeMap<StoreRef, Vec<Vec<u8>>>,
}

impl TrustStores {
    /// No stores.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds DER certificates to the named store (creating it); an identical certificate is kept once.
    pub fn add<I, B>(&mut self, store: StoreRef, certificates_der: I) -> Result<(), StoreError>
    where
        I: IntoIterator<Item = B>,
        B: Into<Vec<u8>>,
    {
        if !self.stores.contains_key(&store) && self.stores.len() >= MAX_STORES {
            return Err(StoreError::TooManyStores);
        }
        let label = alloc::format!("{store}");
        let entry = self.stores.entry(store).or_default();
        for der in certificates_der {
            let der = der.into();
            if der.len() > crate::limits::MAX_CERTIFICATE_BYTES {
                return Err(StoreError::CertificateTooLarge(label));
            }
            if entry.contains(&der) {
                continue;
            }
            if entry.len() >= MAX_STORE_CERTIFICATES {
                return Err(StoreError::TooManyCertificates(label));
            }
            entry.push(der);
        }
        Ok(())
    }

    /// The certificates of one named store, if the host loaded it.
    pub fn certificates(&self, store: &StoreRef) -> Option<&[Vec<u8>]> {
        self.stores.get(store).map(Vec::as_slice)
    }

    /// Every certificate in the stores of `kind` whose names are listed (duplicate names count once, unknown names
    /// contribute nothing).
    pub fn certificates_of<'a, N, S>(&'a self, kind: StoreKind, names: N) -> Vec<&'a [u8]>
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut seen: Vec<String> = Vec::new();
        let mut out: Vec<&'a [u8]> = Vec::new();
        for name in names {
            let name = name.as_ref();
            if seen.iter().any(|s| s == name) {
                continue;
            }
            seen.push(String::from(name));
            let key = StoreRef { kind, name: String::from(name) };
            if let Some(certs) = self.stores.get(&key) {
                out.extend(certs.iter().map(Vec::as_slice));
            }
        }
        out
    }

    /// notation's authenticity test: some certificate of `chain_der` is byte-equal to some certificate in the
    /// stores of `kind` named in `names`.
    pub fn contains_any<N, S, C, B>(&self, kind: StoreKind, names: N, chain_der: C) -> bool
    where
        N: IntoIterator<Item = S>,
        S: AsRef<str>,
        C: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let trusted = self.certificates_of(kind, names);
        if trusted.is_empty() {
            return false;
        }
        chain_der.into_iter().any(|cert| trusted.iter().any(|t| *t == cert.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn parses_store_references_like_notation() {
        assert_eq!(StoreRef::parse("ca:e2e").unwrap(), StoreRef { kind: StoreKind::Ca, name: "e2e".into() });
        assert_eq!(StoreRef::parse("signingAuthority:a_b.c-1").unwrap().kind, StoreKind::SigningAuthority);
        assert_eq!(StoreRef::parse("tsa:x").unwrap().to_string(), "tsa:x");
        assert!(matches!(StoreRef::parse("*"), Err(StoreRefError::MissingSeparator(_))));
        assert!(matches!(StoreRef::parse("ca"), Err(StoreRefError::MissingSeparator(_))));
        assert!(matches!(StoreRef::parse("ca:"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("ca:a:b"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("ca:*"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("ca:a/b"), Err(StoreRefError::InvalidName { .. })));
        assert!(matches!(StoreRef::parse("CA:x"), Err(StoreRefError::UnknownKind { .. })));
        assert!(matches!(StoreRef::parse("signingauthority:x"), Err(StoreRefError::UnknownKind { .. })));
    }

    #[test]
    fn authenticity_is_a_byte_equal_certificate_in_a_named_store_of_the_kind() {
        let mut stores = TrustStores::new();
        stores.add(StoreRef::parse("ca:e2e").unwrap(), [vec![1u8, 2, 3], vec![4, 5]]).unwrap();
        stores.add(StoreRef::parse("ca:other").unwrap(), [vec![9u8]]).unwrap();
        stores.add(StoreRef::parse("tsa:e2e").unwrap(), [vec![7u8]]).unwrap();
        let chain: [&[u8]; 2] = [&[0, 0], &[4, 5]];
        assert!(stores.contains_any(StoreKind::Ca, ["e2e"], chain));
        assert!(stores.contains_any(StoreKind::Ca, ["e2e", "e2e"], chain));
        assert!(!stores.contains_any(StoreKind::Ca, ["other"], chain));
        assert!(!stores.contains_any(StoreKind::SigningAuthority, ["e2e"], chain));
        assert!(!stores.contains_any(StoreKind::Tsa, ["e2e"], chain));
        assert!(!stores.contains_any(StoreKind::Ca, ["missing"], chain));
        assert!(!stores.contains_any(StoreKind::Ca, ["e2e"], [[4u8]]));
        assert_eq!(stores.certificates_of(StoreKind::Ca, ["e2e", "other", "e2e"]).len(), 3);
    }

    #[test]
    fn bounds_and_deduplication() {
        let mut stores = TrustStores::new();
        let key = StoreRef::new(StoreKind::Ca, "x").unwrap();
        stores.add(key.clone(), [vec![1u8], vec![1u8]]).unwrap();
        assert_eq!(stores.certificates(&key).unwrap().len(), 1);
        let huge = vec![0u8; crate::limits::MAX_CERTIFICATE_BYTES + 1];
        assert!(matches!(stores.add(key.clone(), [huge]), Err(StoreError::CertificateTooLarge(_))));
        let many = (0..=MAX_STORE_CERTIFICATES).map(|i| (i as u32).to_be_bytes().to_vec());
        assert!(matches!(stores.add(key, many), Err(StoreError::TooManyCertificates(_))));
        assert!(StoreRef::new(StoreKind::Tsa, "bad name").is_err());
    }
}
