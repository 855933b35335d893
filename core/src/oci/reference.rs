//! Artifact references `[registry/]repository[:tag][@digest]` with the exact grammar of distribution-spec v1.1.1
//! and docker's normalisation rules. This is the one reference parser of nv2.

use super::{Digest, OciError};
use alloc::format;
use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// Longest repository name distribution accepts (registry prefix included).
pub const MAX_NAME_LENGTH: usize = 255;
/// Longest tag.
pub const MAX_TAG_LENGTH: usize = 128;

/// A parsed reference. At least the repository is present; tag and digest are optional, and both may be given
/// (`name:tag@digest`, where the digest wins when resolving).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Registry host with optional port (`localhost:5000`, `docker.io`).
    pub registry: String,
    /// Repository path inside the registry (`library/ubuntu`, `net-monitor`).
    pub repository: String,
    /// Tag, if given.
    pub tag: Option<String>,
    /// Digest, if given.
    pub digest: Option<Digest>,
}

impl Reference {
    /// Parses a reference, normalising Docker Hub names (`ubuntu` → `docker.io/library/ubuntu`).
    pub fn parse(text: &str) -> Result<Self, OciError> {
        let invalid = |reason: &str| OciError::InvalidReference {
            reference: text.chars().take(300).collect(),
            reason: reason.to_string(),
        };
        if text.is_empty() {
            return Err(invalid("empty reference"));
        }
        if text.len() > MAX_NAME_LENGTH + MAX_TAG_LENGTH + 140 {
            return Err(invalid("reference too long"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, d)) => (rest, Some(Digest::parse(d)?)),
            None => (text, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag {
            validate_tag(tag)?;
        }
        let (registry, repository) = split_registry(name);
        if registry.is_empty() && repository.is_empty() {
            return Err(invalid("empty name"));
        }
        let registry = match registry {
            "" | "index.docker.io" | "registry-1.docker.io" => DOCKER_HUB,
            r => r,
        };
        validate_registry(registry).map_err(|r| invalid(&r))?;
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository.to_string()
        };
        validate_repository_name(&repository)?;
        if registry.len() + 1 + repository.len() > MAX_NAME_LENGTH {
            return Err(invalid("name longer than 255 characters"));
        }
        Ok(Reference { registry: registry.to_string(), repository, tag: tag.map(str::to_string), digest })
    }

    /// The same artifact pinned to `digest` (the tag is kept for display).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Reference { digest: Some(digest), ..self.clone() }
    }

    /// The same repository with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Self, OciError> {
        validate_tag(tag)?;
        Ok(Reference { tag: Some(tag.to_string()), digest: None, ..self.clone() })
    }

    /// `registry/repository`: what notation trust-policy `registryScopes` are matched against.
    pub fn scope(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag or digest the registry API is asked for (digest first), `None` when neither was given.
    pub fn api_reference(&self) -> Option<String> {
        self.digest.as_ref().map(ToString::to_string).or_else(|| self.tag.clone())
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

impl FromStr for Reference {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// Splits off the registry the way docker does: the first path component is a registry when it contains `.` or
/// `:`, is `localhost`, or has an uppercase letter; otherwise the whole name is a Docker Hub repository.
fn split_registry(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':']) || first == "localhost" || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (first, rest)
        }
        _ => ("", name),
    }
}

fn validate_registry(registry: &str) -> Result<(), String> {
    let (host, port) = match registry.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || registry.starts_with('[') => (h, Some(p)),
        _ => (registry, None),
    };
    if let Some(port) = port {
        if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("invalid port in registry {registry:?}"));
        }
    }
    let bracketed = host.starts_with('[') && host.ends_with(']');
    let ok = if bracketed {
        host.len() > 2 && host[1..host.len() - 1].bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            })
    };
    match ok {
        true => Ok(()),
        false => Err(format!("invalid registry host {registry:?}")),
    }
}

/// Validates a repository name against `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*`
/// and the 255-character bound. Registries use this for every `<name>` in a URL.
pub fn validate_repository_name(name: &str) -> Result<(), OciError> {
    let invalid =
        |reason: &str| OciError::InvalidName { name: name.chars().take(300).collect(), reason: reason.to_string() };
    if name.is_empty() {
        return Err(invalid("empty"));
    }
    if name.len() > MAX_NAME_LENGTH {
        return Err(invalid("longer than 255 characters"));
    }
    for component in name.split('/') {
        if !valid_path_component(component) {
            return Err(invalid("each path component must be lowercase alphanumerics joined by '.', '_', '__' or '-'"));
        }
    }
    Ok(())
}

fn valid_path_component(component: &str) -> bool {
    let b = component.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &b[start..i];
        let ok = sep == b"." || sep == b"_" || sep == b"__" || sep.iter().all(|&c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Validates a tag against `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), OciError> {
    let b = tag.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let ok = !b.is_empty()
        && b.len() <= MAX_TAG_LENGTH
        && word(b[0])
        && b[1..].iter().all(|&c| word(c) || c == b'.' || c == b'-');
    match ok {
        true => Ok(()),
        false => Err(OciError::InvalidTag(tag.chars().take(200).collect())),
    }
}
