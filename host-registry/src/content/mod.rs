//! Content identifiers the registry speaks: digests, repository names, tags and references.
//!
//! TEMPORARY: this module is a thin stand-in until `nv2_core::oci` lands (branch `oci`); every caller goes through
//! these few names so that the switch is a single-file change.

pub mod manifest;

use core::fmt;

use sha2::Digest as _;

/// Longest repository name accepted (clients cap `host[:port]/name` at 255 characters).
pub const MAX_NAME_LEN: usize = 255;
/// Longest tag the distribution spec allows.
pub const MAX_TAG_LEN: usize = 128;

/// Why a digest, name or tag was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    /// The digest is not `<algorithm>:<lowercase hex>` of a supported algorithm and the right length.
    #[error("malformed or unsupported digest")]
    BadDigest,
    /// The repository name does not match the distribution-spec name grammar.
    #[error("invalid repository name")]
    BadName,
    /// The tag does not match `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    #[error("invalid tag")]
    BadTag,
}

/// Digest algorithms the registry verifies while streaming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, the default for every client.
    Sha256,
    /// SHA-512, allowed by the spec for blobs and manifests.
    Sha512,
}

impl Algorithm {
    /// Name used in digest strings and storage paths.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Parses an algorithm name as used in `digest-algorithm=` and digest strings.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A validated content digest; the only way to name stored content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `<alg>:<hex>`, refusing anything that could escape a storage path.
    pub fn parse(text: &str) -> Result<Self, ContentError> {
        let (alg, hex) = text.split_once(':').ok_or(ContentError::BadDigest)?;
        let algorithm = Algorithm::from_name(alg).ok_or(ContentError::BadDigest)?;
        if hex.len() != algorithm.hex_len() || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(ContentError::BadDigest);
        }
        Ok(Digest { algorithm, hex: hex.to_owned() })
    }

    /// Digest of `bytes` under `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Self {
        let mut h = Hasher::new(algorithm);
        h.update(bytes);
        h.finish()
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The lowercase hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

/// Streaming digest computation, so blobs are verified while they arrive.
#[derive(Clone)]
pub enum Hasher {
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh state for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    /// The algorithm this state computes.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha512(_) => Algorithm::Sha512,
        }
    }

    /// Feeds more bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        let (algorithm, raw): (Algorithm, Vec<u8>) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            Hasher::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        let mut hex = String::with_capacity(raw.len() * 2);
        for b in raw {
            hex.push(char::from(HEX[usize::from(b >> 4)]));
            hex.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
        Digest { algorithm, hex }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Checks a repository name against the distribution-spec grammar
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`.
///
/// The grammar alone already excludes `..`, empty components and every encoded character, which is what keeps names
/// safe to use as storage path components.
pub fn validate_repository_name(name: &str) -> Result<(), ContentError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(ContentError::BadName);
    }
    for component in name.split('/') {
        validate_component(component)?;
    }
    Ok(())
}

fn validate_component(component: &str) -> Result<(), ContentError> {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let mut need_alnum = true;
    while i < bytes.len() {
        let b = bytes[i];
        if alnum(b) {
            need_alnum = false;
            i += 1;
            continue;
        }
        if need_alnum {
            return Err(ContentError::BadName);
        }
        // A separator: ".", "_", "__" or a run of "-".
        match b {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if bytes.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            b'-' => {
                while bytes.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return Err(ContentError::BadName),
        }
        need_alnum = true;
    }
    if need_alnum {
        return Err(ContentError::BadName);
    }
    Ok(())
}

/// Checks a tag against `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), ContentError> {
    let bytes = tag.as_bytes();
    let first = bytes.first().ok_or(ContentError::BadTag)?;
    if bytes.len() > MAX_TAG_LEN || !(first.is_ascii_alphanumeric() || *first == b'_') {
        return Err(ContentError::BadTag);
    }
    if !bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return Err(ContentError::BadTag);
    }
    Ok(())
}

/// What a manifest path names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A mutable tag.
    Tag(String),
    /// An immutable digest.
    Digest(Digest),
}

impl Reference {
    /// Parses a `<reference>` path segment: a digest when it contains `:`, otherwise a tag.
    pub fn parse(text: &str) -> Result<Self, ContentError> {
        if text.contains(':') {
            Digest::parse(text).map(Reference::Digest)
        } else {
            validate_tag(text).map(|()| Reference::Tag(text.to_owned()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_spec_grammar() {
        for ok in ["a", "a/b", "library/ubuntu", "a-b", "a--b", "a__b", "a.b/c_d", "0x"] {
            assert_eq!(validate_repository_name(ok), Ok(()), "{ok}");
        }
        for bad in ["", "A", "a/", "/a", "a//b", "..", "a/../b", "a/%2e%2e", "a___b", "-a", "a-", "a.", "a b"] {
            assert_eq!(validate_repository_name(bad), Err(ContentError::BadName), "{bad}");
        }
        assert!(validate_repository_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn digests_are_strict() {
        let d = Digest::of(Algorithm::Sha256, b"{}");
        assert_eq!(d.to_string(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        assert_eq!(Digest::parse(&d.to_string()), Ok(d));
        for bad in ["sha256:abc", "md5:00", "sha256:../../etc", "sha256", &format!("sha256:{}", "A".repeat(64))] {
            assert_eq!(Digest::parse(bad), Err(ContentError::BadDigest), "{bad}");
        }
        assert_eq!(Digest::of(Algorithm::Sha512, b"").hex().len(), 128);
    }

    #[test]
    fn tags_and_references() {
        assert!(validate_tag("v1.0_rc-1").is_ok());
        assert!(validate_tag(".x").is_err());
        assert!(validate_tag(&"a".repeat(129)).is_err());
        assert!(matches!(Reference::parse("latest"), Ok(Reference::Tag(_))));
        assert!(Reference::parse("sha256:totallywrong").is_err());
    }
}
