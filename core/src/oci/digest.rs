//! Content digests (`algorithm:encoded`), as the OCI image spec defines them.
//!
//! A [`Digest`] is always valid once built: a known algorithm and lowercase hex of exactly that algorithm's length,
//! so code holding one never re-checks it. Parsing separates "not a digest at all" ([`OciError::InvalidDigest`])
//! from "a well-formed digest with an algorithm we do not implement"
//! ([`OciError::UnsupportedDigestAlgorithm`]) because registries must answer those differently.

use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use super::error::{excerpt, OciError};

/// Longest digest text accepted before any other check; bounds work and error sizes on hostile input.
const MAX_DIGEST_TEXT: usize = 1024;

/// The digest algorithms nv2 computes and accepts (the two the OCI image spec registers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DigestAlgorithm {
    /// SHA-256, the default everywhere.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl DigestAlgorithm {
    /// Name as written before the `:` of a digest.
    pub fn name(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "sha256",
            DigestAlgorithm::Sha512 => "sha512",
        }
    }

    /// Number of hex characters in the encoded part.
    pub fn hex_len(self) -> usize {
        match self {
            DigestAlgorithm::Sha256 => 64,
            DigestAlgorithm::Sha512 => 128,
        }
    }

    /// Looks an algorithm up by its registered name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(DigestAlgorithm::Sha256),
            "sha512" => Some(DigestAlgorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for DigestAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated content digest such as `sha256:44136f…`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: DigestAlgorithm,
    hex: String,
}

impl Digest {
    /// Parses `alg:hex`, checking the image-spec digest grammar, the algorithm and the hex length and case.
    pub fn parse(text: &str) -> Result<Self, OciError> {
        let invalid = |reason| OciError::InvalidDigest { digest: excerpt(text), reason };
        if text.len() > MAX_DIGEST_TEXT {
            return Err(invalid("too long"));
        }
        let (algorithm, encoded) = text.split_once(':').ok_or_else(|| invalid("missing ':' separator"))?;
        if !is_algorithm_grammar(algorithm) {
            return Err(invalid("algorithm must be lowercase components joined by '+', '.', '_' or '-'"));
        }
        if encoded.is_empty() || !encoded.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        {
            return Err(invalid("encoded part must be non-empty [a-zA-Z0-9=_-]"));
        }
        let algorithm = DigestAlgorithm::from_name(algorithm)
            .ok_or_else(|| OciError::UnsupportedDigestAlgorithm { algorithm: excerpt(algorithm) })?;
        Self::from_parts(algorithm, encoded).map_err(|_| invalid("wrong length or not lowercase hex for its algorithm"))
    }

    /// Builds a digest from an algorithm and its hex text, checking length and lowercase hex.
    pub fn from_parts(algorithm: DigestAlgorithm, hex: &str) -> Result<Self, OciError> {
        if hex.len() != algorithm.hex_len() || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(OciError::InvalidDigest {
                digest: excerpt(hex),
                reason: "wrong length or not lowercase hex for its algorithm",
            });
        }
        Ok(Digest { algorithm, hex: String::from(hex) })
    }

    /// Hashes `bytes` with `algorithm`.
    pub fn compute(algorithm: DigestAlgorithm, bytes: &[u8]) -> Self {
        let mut digester = Digester::new(algorithm);
        digester.update(bytes);
        digester.finalize()
    }

    /// Hashes `bytes` with SHA-256, the algorithm used unless told otherwise.
    pub fn sha256(bytes: &[u8]) -> Self {
        Self::compute(DigestAlgorithm::Sha256, bytes)
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> DigestAlgorithm {
        self.algorithm
    }

    /// The encoded (lowercase hex) part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Checks that `bytes` hash to this digest (with this digest's algorithm): content addressed by a digest must
    /// be checked against it before it is trusted.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), OciError> {
        let actual = Self::compute(self.algorithm, bytes);
        if actual == *self {
            Ok(())
        } else {
            Err(OciError::DigestMismatch { expected: self.clone(), actual })
        }
    }
}

/// `algorithm ::= component ([+._-] component)*`, `component ::= [a-z0-9]+` (image-spec "Digests").
fn is_algorithm_grammar(s: &str) -> bool {
    !s.is_empty()
        && s.split(['+', '.', '_', '-'])
            .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

impl FromStr for Digest {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, OciError> {
        Self::parse(s)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Digest::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Streaming hasher, so hosts can digest large blobs chunk by chunk as they arrive.
#[derive(Clone, Debug)]
pub struct Digester {
    state: DigesterState,
}

#[derive(Clone, Debug)]
enum DigesterState {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Digester {
    /// Starts an empty hash with `algorithm`.
    pub fn new(algorithm: DigestAlgorithm) -> Self {
        let state = match algorithm {
            DigestAlgorithm::Sha256 => DigesterState::Sha256(sha2::Sha256::new()),
            DigestAlgorithm::Sha512 => DigesterState::Sha512(sha2::Sha512::new()),
        };
        Digester { state }
    }

    /// Feeds the next chunk of content.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.state {
            DigesterState::Sha256(h) => h.update(bytes),
            DigesterState::Sha512(h) => h.update(bytes),
        }
    }

    /// Ends the hash and returns the digest of everything fed.
    pub fn finalize(self) -> Digest {
        match self.state {
            DigesterState::Sha256(h) => Digest { algorithm: DigestAlgorithm::Sha256, hex: to_hex(&h.finalize()) },
            DigesterState::Sha512(h) => Digest { algorithm: DigestAlgorithm::Sha512, hex: to_hex(&h.finalize()) },
        }
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    const EMPTY_JSON: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    #[test]
    fn computes_known_vectors() {
        assert_eq!(Digest::sha256(b"{}").to_string(), EMPTY_JSON);
        assert_eq!(
            Digest::compute(DigestAlgorithm::Sha512, b"").to_string(),
            "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        let mut d = Digester::new(DigestAlgorithm::Sha256);
        d.update(b"{");
        d.update(b"}");
        assert_eq!(d.finalize().to_string(), EMPTY_JSON);
    }

    #[test]
    fn parses_and_exposes_parts() {
        let d: Digest = EMPTY_JSON.parse().unwrap();
        assert_eq!(d.algorithm(), DigestAlgorithm::Sha256);
        assert_eq!(d.hex().len(), 64);
        assert!(d.verify(b"{}").is_ok());
        assert!(matches!(d.verify(b"{ }"), Err(OciError::DigestMismatch { .. })));
    }

    #[test]
    fn refuses_malformed_digests() {
        let bad = [
            "",
            "sha256",
            "sha256:",
            ":abc",
            "SHA256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A",
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8",
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a0",
            "sha256:totallywrong",
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a ",
            "sha256::44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            "sha--256:abc",
            "sha256:ab/cd",
        ];
        for text in bad {
            assert!(matches!(Digest::parse(text), Err(OciError::InvalidDigest { .. })), "{text:?}");
        }
        let huge = "sha256:".to_string() + &"a".repeat(100_000);
        match Digest::parse(&huge) {
            Err(OciError::InvalidDigest { digest, .. }) => assert!(digest.len() < 200),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn well_formed_unknown_algorithms_are_unsupported_not_invalid() {
        for text in [
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "blake3:abcd",
            "multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8",
        ] {
            assert!(matches!(Digest::parse(text), Err(OciError::UnsupportedDigestAlgorithm { .. })), "{text}");
        }
    }

    #[test]
    fn serde_uses_the_string_form() {
        let d = Digest::sha256(b"x");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, alloc::format!("\"{d}\""));
        assert_eq!(serde_json::from_str::<Digest>(&json).unwrap(), d);
        assert!(serde_json::from_str::<Digest>("\"sha256:00\"").is_err());
        assert!(serde_json::from_str::<Digest>("12").is_err());
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..256), sha512 in any::<bool>()) {
            let alg = if sha512 { DigestAlgorithm::Sha512 } else { DigestAlgorithm::Sha256 };
            let d = Digest::compute(alg, &bytes);
            prop_assert_eq!(Digest::parse(&d.to_string()).unwrap(), d.clone());
            prop_assert!(d.verify(&bytes).is_ok());
        }

        #[test]
        fn parse_never_panics(text in ".{0,200}") {
            let _ = Digest::parse(&text);
        }
    }
}
