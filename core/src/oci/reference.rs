//! Image references: `[registry/]repository[:tag][@digest]`, parsed by hand with the exact distribution-spec
//! v1.1.1 name and tag grammars and docker's rules for telling a registry host from a repository component.
//!
//! Parsing normalises the way docker does (`ubuntu` is `docker.io/library/ubuntu`, `index.docker.io` is
//! `docker.io`), so `Display` always prints the canonical full form, and `scope()` is the string a notation
//! trust policy's `registryScopes` entry is compared with.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

use super::digest::Digest;
use super::error::{excerpt, OciError};

/// Registry that names without a registry part refer to.
pub const DOCKER_HUB: &str = "docker.io";
/// Legacy spelling of [`DOCKER_HUB`], normalised to it.
const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// Prefix docker adds to single-component Docker Hub names (official images).
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// Longest `registry/repository` accepted, as distribution's `NameTotalLengthMax`.
pub const MAX_NAME_LEN: usize = 255;
/// Longest tag accepted (`[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`).
pub const MAX_TAG_LEN: usize = 128;
/// Longest reference text examined at all; anything longer cannot be valid (name + tag + sha512 digest).
const MAX_REFERENCE_TEXT: usize = 1024;

/// A parsed, normalised image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host with optional port (`docker.io`, `localhost:5000`, `[::1]:5000`).
    pub registry: String,
    /// Repository path inside the registry (`library/ubuntu`, `net-monitor`).
    pub repository: String,
    /// Tag, when one was given.
    pub tag: Option<String>,
    /// Digest, when one was given (it wins over the tag when both are present).
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses `[registry/]repo[:tag][@digest]` and normalises Docker Hub names.
    pub fn parse(text: &str) -> Result<Self, OciError> {
        let invalid = |reason| OciError::InvalidReference { reference: excerpt(text), reason };
        if text.is_empty() {
            return Err(invalid("empty reference"));
        }
        if text.len() > MAX_REFERENCE_TEXT {
            return Err(invalid("too long"));
        }
        if text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid("a 64-character hex string is an image id, not a repository name"));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((before, digest)) => (before, Some(Digest::parse(digest)?)),
            None => (text, None),
        };
        let (registry, remainder) = split_registry(name_and_tag);
        let (path, tag) = match remainder.rsplit_once(':') {
            Some((path, tag)) => (path, Some(tag)),
            None => (remainder, None),
        };
        if path.is_empty() {
            return Err(invalid("missing repository name"));
        }
        validate_registry(registry)?;
        let registry = if registry == LEGACY_DOCKER_HUB { DOCKER_HUB } else { registry };
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("{OFFICIAL_REPO_PREFIX}{path}")
        } else {
            String::from(path)
        };
        validate_repository_name(&repository)?;
        let full_len = registry.len() + 1 + repository.len();
        if full_len > MAX_NAME_LEN {
            return Err(OciError::InvalidName {
                name: excerpt(&format!("{registry}/{repository}")),
                reason: "registry/repository is longer than 255 characters",
            });
        }
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        Ok(Reference { registry: String::from(registry), repository, tag: tag.map(String::from), digest })
    }

    /// The same reference pinned to `digest` (the tag, if any, is kept for display, as docker does).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Reference { digest: Some(digest), ..self.clone() }
    }

    /// The same repository addressed by `digest` only: what verification and signing must use, since tags move.
    pub fn pinned(&self, digest: Digest) -> Self {
        Reference { tag: None, digest: Some(digest), ..self.clone() }
    }

    /// `registry/repository`: what trust-policy `registryScopes` entries match and what a repository is called.
    pub fn scope(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The `<reference>` path segment for `/v2/<name>/manifests/<reference>`: the digest if any, else the tag,
    /// else `latest` (docker's default tag).
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => format!("{digest}"),
            (None, Some(tag)) => tag.clone(),
            (None, None) => String::from("latest"),
        }
    }
}

/// docker's rule: the first `/`-separated component is a registry when it contains `.` or `:`, is `localhost`,
/// or has an uppercase letter (repository paths cannot); otherwise the whole name lives on Docker Hub.
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => (DOCKER_HUB, name),
    }
}

/// Checks `host[:port]` with docker's domain grammar: dot-separated `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?`
/// labels or a bracketed IPv6 address, and an optional all-digit port.
fn validate_registry(registry: &str) -> Result<(), OciError> {
    let invalid = |reason| OciError::InvalidRegistry { registry: excerpt(registry), reason };
    let (host, port) = if let Some(rest) = registry.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or_else(|| invalid("unclosed '[' in IPv6 address"))?;
        if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(invalid("IPv6 address must be hex digits and ':'"));
        }
        match after {
            "" => (addr, None),
            _ => (addr, Some(after.strip_prefix(':').ok_or_else(|| invalid("unexpected text after ']'"))?)),
        }
    } else {
        let (host, port) = match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        let label_ok = |label: &str| {
            let bytes = label.as_bytes();
            match (bytes.first(), bytes.last()) {
                (Some(first), Some(last)) => {
                    first.is_ascii_alphanumeric()
                        && last.is_ascii_alphanumeric()
                        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                }
                _ => false,
            }
        };
        if !host.split('.').all(label_ok) {
            return Err(invalid("host must be dot-separated letters, digits and inner '-'"));
        }
        (host, port)
    };
    if host.is_empty() {
        return Err(invalid("empty host"));
    }
    if let Some(port) = port {
        if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("port must be digits"));
        }
    }
    Ok(())
}

/// Checks a repository name against the distribution-spec grammar
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` and the 255-character bound.
/// Registries answer NAME_INVALID when this fails.
pub fn validate_repository_name(name: &str) -> Result<(), OciError> {
    let invalid = |reason| OciError::InvalidName { name: excerpt(name), reason };
    if name.is_empty() {
        return Err(invalid("empty name"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(invalid("longer than 255 characters"));
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(invalid("must be lowercase"));
    }
    for component in name.split('/') {
        check_path_component(component).map_err(invalid)?;
    }
    Ok(())
}

/// One path component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn check_path_component(component: &str) -> Result<(), &'static str> {
    let bytes = component.as_bytes();
    if bytes.is_empty() {
        return Err("empty path component (leading, trailing or double '/')");
    }
    let is_alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut i = 0;
    let mut expect_alnum = true;
    while let Some(b) = bytes.get(i) {
        if is_alnum(b) {
            i += 1;
            expect_alnum = false;
            continue;
        }
        if expect_alnum {
            return Err("components must start and end with a lowercase letter or digit");
        }
        let start = i;
        while bytes.get(i).is_some_and(|b| !is_alnum(b)) {
            i += 1;
        }
        let separator = component.get(start..i).unwrap_or_default();
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return Err("separators must be '.', '_', '__' or a run of '-' between lowercase letters or digits");
        }
        expect_alnum = true;
    }
    if expect_alnum {
        return Err("components must start and end with a lowercase letter or digit");
    }
    Ok(())
}

/// Checks a tag against `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), OciError> {
    let invalid = |reason| OciError::InvalidTag { tag: excerpt(tag), reason };
    let bytes = tag.as_bytes();
    let Some(first) = bytes.first() else {
        return Err(invalid("empty tag"));
    };
    if bytes.len() > MAX_TAG_LEN {
        return Err(invalid("longer than 128 characters"));
    }
    if !(first.is_ascii_alphanumeric() || *first == b'_') {
        return Err(invalid("must start with a letter, digit or '_'"));
    }
    if !bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return Err(invalid("only letters, digits, '_', '.' and '-' are allowed"));
    }
    Ok(())
}

impl FromStr for Reference {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, OciError> {
        Self::parse(s)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use proptest::prelude::*;

    const D: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

    fn parts(text: &str) -> (String, String, Option<String>, Option<String>) {
        let r = Reference::parse(text).unwrap();
        (r.registry, r.repository, r.tag, r.digest.map(|d| d.to_string()))
    }

    #[test]
    fn docker_hub_normalisation() {
        assert_eq!(parts("ubuntu"), ("docker.io".into(), "library/ubuntu".into(), None, None));
        assert_eq!(parts("ubuntu:22.04").2.as_deref(), Some("22.04"));
        assert_eq!(parts("user/app").1, "user/app");
        assert_eq!(parts("index.docker.io/ubuntu").0, "docker.io");
        assert_eq!(parts("index.docker.io/ubuntu").1, "library/ubuntu");
        assert_eq!(parts("docker.io/ubuntu").1, "library/ubuntu");
        assert_eq!(Reference::parse("ubuntu").unwrap().to_string(), "docker.io/library/ubuntu");
        assert_eq!(Reference::parse("ubuntu").unwrap().manifest_reference(), "latest");
    }

    #[test]
    fn registry_detection_like_docker() {
        assert_eq!(parts("localhost/foo").0, "localhost");
        assert_eq!(parts("localhost:5000/e2e").0, "localhost:5000");
        assert_eq!(parts("example.com/a/b/c:v1").1, "a/b/c");
        assert_eq!(parts("Registry/foo").0, "Registry");
        assert_eq!(parts("foo/bar").0, "docker.io");
        assert_eq!(parts("127.0.0.1:5000/x").0, "127.0.0.1:5000");
        assert_eq!(parts("[::1]:5000/x").0, "[::1]:5000");
        // As docker: a bare host:port without a path is a name with a tag.
        assert_eq!(
            parts("localhost:5000"),
            ("docker.io".into(), "library/localhost".into(), Some("5000".into()), None)
        );
    }

    #[test]
    fn tag_and_digest_together() {
        let text = alloc::format!("localhost:5000/e2e:v1@{D}");
        let r = Reference::parse(&text).unwrap();
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.digest.as_ref().unwrap().to_string(), D);
        assert_eq!(r.to_string(), text);
        assert_eq!(r.scope(), "localhost:5000/e2e");
        assert_eq!(r.manifest_reference(), D);
        let pinned = Reference::parse("localhost:5000/e2e:v1").unwrap().pinned(D.parse().unwrap());
        assert_eq!(pinned.to_string(), alloc::format!("localhost:5000/e2e@{D}"));
        let with = Reference::parse("localhost:5000/e2e:v1").unwrap().with_digest(D.parse().unwrap());
        assert_eq!(with, r);
    }

    #[test]
    fn name_grammar() {
        for ok in ["a", "a/b", "a.b", "a_b", "a__b", "a-b", "a---b", "a0/b1.c2_d3__e4-f5", "library/ubuntu"] {
            assert!(validate_repository_name(ok).is_ok(), "{ok}");
        }
        for bad in
            ["", "A", "a/", "/a", "a//b", "-a", "a-", "a..b", "a___b", "a._b", "a.-b", "_a", "a_", "a b", "a:b", "é"]
        {
            assert!(matches!(validate_repository_name(bad), Err(OciError::InvalidName { .. })), "{bad:?}");
        }
        let long = "a/".repeat(127) + "ab";
        assert_eq!(long.len(), 256);
        assert!(validate_repository_name(&long).is_err());
        assert!(validate_repository_name(&long[2..]).is_ok());
    }

    #[test]
    fn tag_grammar() {
        for ok in ["v1", "_x", "1.0-rc_1", "A", &"a".repeat(128)] {
            assert!(validate_tag(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".a", "-a", "a/b", "a:b", "a+b", &"a".repeat(129)] {
            assert!(matches!(validate_tag(bad), Err(OciError::InvalidTag { .. })), "{bad:?}");
        }
    }

    #[test]
    fn refuses_malformed_references() {
        assert!(matches!(Reference::parse(""), Err(OciError::InvalidReference { .. })));
        assert!(matches!(Reference::parse("Ubuntu"), Err(OciError::InvalidName { .. })));
        assert!(matches!(Reference::parse("example.com/UPPER"), Err(OciError::InvalidName { .. })));
        assert!(matches!(Reference::parse("example.com/"), Err(OciError::InvalidReference { .. })));
        assert!(matches!(Reference::parse("example.com/a:"), Err(OciError::InvalidTag { .. })));
        assert!(matches!(Reference::parse("example.com/a:.x"), Err(OciError::InvalidTag { .. })));
        assert!(matches!(Reference::parse("example.com/a@sha256:00"), Err(OciError::InvalidDigest { .. })));
        assert!(matches!(Reference::parse("example.com/a@md5:00"), Err(OciError::UnsupportedDigestAlgorithm { .. })));
        assert!(matches!(Reference::parse(&alloc::format!("a@{D}@{D}")), Err(OciError::InvalidDigest { .. })));
        assert!(matches!(Reference::parse("-bad.com/a"), Err(OciError::InvalidRegistry { .. })));
        assert!(matches!(Reference::parse("bad-.com/a"), Err(OciError::InvalidRegistry { .. })));
        assert!(matches!(Reference::parse("host:port/a"), Err(OciError::InvalidRegistry { .. })));
        assert!(matches!(Reference::parse("[::1/a"), Err(OciError::InvalidRegistry { .. })));
        assert!(matches!(Reference::parse("[zz]:1/a"), Err(OciError::InvalidRegistry { .. })));
        assert!(matches!(Reference::parse("a.com:/a"), Err(OciError::InvalidRegistry { .. })));
        assert!(Reference::parse(&"g".repeat(64)).is_ok());
        let hex = "b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";
        assert!(matches!(Reference::parse(hex), Err(OciError::InvalidReference { .. })));
        // docker.io/library/ + 239 chars = 257 > 255
        assert!(matches!(Reference::parse(&"a".repeat(239)), Err(OciError::InvalidName { .. })));
        assert!(Reference::parse(&"a".repeat(237)).is_ok());
        assert!(matches!(Reference::parse(&"a".repeat(5000)), Err(OciError::InvalidReference { .. })));
    }

    fn reference_text() -> impl Strategy<Value = String> {
        let registry = prop_oneof![
            Just(String::new()),
            Just(String::from("localhost/")),
            Just(String::from("index.docker.io/")),
            "[a-z0-9]{1,6}(\\.[a-z0-9]([a-z0-9-]{0,3}[a-z0-9])?)?(:[0-9]{1,5})?/",
            "\\[[0-9a-f]{0,4}:[0-9a-f:]{0,6}\\](:[0-9]{1,4})?/",
        ];
        // The first component has no '.': with no registry given, docker would read it as a host.
        let path =
            "[a-z0-9]{1,4}((_|__|-{1,3})[a-z0-9]{1,3}){0,2}(/[a-z0-9]{1,4}(([._]|__|-{1,2})[a-z0-9]{1,3}){0,2}){0,3}";
        let tag = prop_oneof![Just(String::new()), ":[a-zA-Z0-9_][a-zA-Z0-9._-]{0,10}"];
        let digest = prop_oneof![Just(String::new()), Just(alloc::format!("@{D}"))];
        (registry, path, tag, digest).prop_map(|(r, p, t, d)| alloc::format!("{r}{p}{t}{d}"))
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(text in reference_text()) {
            let r = Reference::parse(&text).unwrap();
            let shown = r.to_string();
            prop_assert_eq!(Reference::parse(&shown).unwrap(), r);
        }

        #[test]
        fn arbitrary_text_never_panics_and_round_trips_when_valid(text in "[a-zA-Z0-9:/@._\\[\\]-]{0,80}") {
            if let Ok(r) = Reference::parse(&text) {
                prop_assert_eq!(Reference::parse(&r.to_string()).unwrap(), r);
            }
        }
    }
}
