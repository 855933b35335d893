//! Content digests (`<algorithm>:<encoded>`): the identity of every blob and manifest.

use super::OciError;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;
use sha2::Digest as _;

/// Digest algorithms registries and nv2 compute. Others parse as [`OciError::UnsupportedDigestAlgorithm`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256 (the default everywhere).
    Sha256,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// The algorithm's name in a digest string.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex encoding.
    pub fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 64,
            DigestAlgorithm::Sha512 => 128,
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated digest: a supported algorithm and lowercase hex of exactly the right length.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 hex>` or `sha512:<128 hex>`. The grammar of distribution-spec is checked first, so an
    /// unknown but well-formed algorithm is told apart from garbage.
    pub fn parse(text: &str) -> Result<Self, OciError> {
        let invalid = |reason: &str| OciError::InvalidDigest { digest: truncate(text), reason: reason.to_string() };
        let (alg, encoded) = text.split_once(':').ok_or_else(|| invalid("missing ':'"))?;
        // algorithm ::= algorithm-component (algorithm-separator algorithm-component)*; component [a-z0-9]+
        let alg_ok = !alg.is_empty()
            && alg
                .split(['+', '.', '_', '-'])
                .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !alg_ok {
            return Err(invalid("malformed algorithm"));
        }
        if encoded.is_empty() || !encoded.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(invalid("malformed encoded part"));
        }
        let algorithm = match alg {
            "sha256" => DigestAlgorithm::Sha256,
            "sha512" => DigestAlgorithm::Sha512,
            other => return Err(OciError::UnsupportedDigestAlgorithm(truncate(other))),
        };
        if encoded.len() != algorithm.hex_len() || !encoded.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid("wrong length or not lowercase hex"));
        }
        Ok(Digest { algorithm, hex: encoded.to_string() })
    }

    /// Digests `bytes` with `algorithm`.
    pub fn compute(algorithm: DigestAlgorithm, bytes: &[u8]) -> Self {
        let mut d = Digester::new(algorithm);
        d.update(bytes);
        d.finalize()
    }

    /// SHA-256 of `bytes`, the digest nv2 writes.
    pub fn sha256(bytes: &[u8]) -> Self {
        Self::compute(DigestAlgorithm::Sha256, bytes)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The lowercase hex encoding.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Checks that `bytes` hash to this digest.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), OciError> {
        let actual = Self::compute(self.algorithm, bytes);
        match actual == *self {
            true => Ok(()),
            false => Err(OciError::DigestMismatch { expected: self.to_string(), actual: actual.to_string() }),
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(160).collect()
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <alloc::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Digest::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Streaming digest computation, so hosts can check uploads chunk by chunk without buffering them.
#[derive(Clone)]
pub enum Digester {
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Digester {
    /// Starts a digest.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        match algorithm {
            DigestAlgorithm::Sha256 => Digester::Sha256(sha2::Sha256::new()),
            DigestAlgorithm::Sha512 => Digester::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        match self {
            Digester::Sha256(h) => h.update(chunk),
            Digester::Sha512(h) => h.update(chunk),
        }
    }

    /// Finishes the digest.
    pub fn finalize(self) -> Digest {
        let (algorithm, bytes): (DigestAlgorithm, Vec<u8>) = match self {
            Digester::Sha256(h) => (DigestAlgorithm::Sha256, h.finalize().to_vec()),
            Digester::Sha512(h) => (DigestAlgorithm::Sha512, h.finalize().to_vec()),
        };
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            hex.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            hex.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
        }
        Digest { algorithm, hex }
    }
}
