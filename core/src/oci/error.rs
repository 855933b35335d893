//! The one error type of the OCI module. Every variant names what was wrong and carries a short excerpt of the
//! offending input (never the whole input: a hostile 4 MiB string must not end up in a log line).

use alloc::string::String;

use super::digest::Digest;

/// Longest excerpt of outside input kept in an error.
const EXCERPT_CHARS: usize = 96;

/// Cuts outside input down to a loggable excerpt, marking the cut.
pub(crate) fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        None => String::from(s),
        Some((end, _)) => {
            let mut out = String::from(s.get(..end).unwrap_or_default());
            out.push('…');
            out
        }
    }
}

/// Why OCI content (a digest, a reference, a descriptor or a manifest) was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OciError {
    /// The string is not a syntactically valid `algorithm:encoded` digest (registries answer DIGEST_INVALID).
    #[error("invalid digest {digest:?}: {reason}")]
    InvalidDigest {
        /// Excerpt of the digest text.
        digest: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The digest is well formed but uses an algorithm nv2 does not implement (registries answer UNSUPPORTED).
    #[error("unsupported digest algorithm {algorithm:?} (supported: sha256, sha512)")]
    UnsupportedDigestAlgorithm {
        /// Excerpt of the algorithm name.
        algorithm: String,
    },
    /// Content does not hash to the digest it was announced with.
    #[error("digest mismatch: expected {expected}, content hashes to {actual}")]
    DigestMismatch {
        /// The digest announced.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// Content is not as long as the descriptor announced.
    #[error("size mismatch: descriptor says {expected} bytes, content has {actual}")]
    SizeMismatch {
        /// The size announced.
        expected: u64,
        /// The size received.
        actual: u64,
    },
    /// A reference (`[registry/]repo[:tag][@digest]`) could not be parsed.
    #[error("invalid reference {reference:?}: {reason}")]
    InvalidReference {
        /// Excerpt of the reference text.
        reference: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A repository name does not follow the distribution-spec name grammar (registries answer NAME_INVALID).
    #[error("invalid repository name {name:?}: {reason}")]
    InvalidName {
        /// Excerpt of the name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A tag does not follow `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
    #[error("invalid tag {tag:?}: {reason}")]
    InvalidTag {
        /// Excerpt of the tag.
        tag: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The registry part of a reference is not a valid `host[:port]`.
    #[error("invalid registry {registry:?}: {reason}")]
    InvalidRegistry {
        /// Excerpt of the registry text.
        registry: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The manifest is larger than [`crate::limits::MAX_MANIFEST_BYTES`] (registries answer 413).
    #[error("manifest of {size} bytes exceeds the {limit}-byte limit")]
    ManifestTooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// The manifest is not strict JSON (syntax error, duplicate key, nesting too deep, trailing data).
    #[error("manifest is not valid JSON: {reason}")]
    InvalidJson {
        /// The parser's explanation.
        reason: String,
    },
    /// The manifest is JSON but does not have the shape its media type requires.
    #[error("malformed {media_type} manifest: {reason}")]
    MalformedManifest {
        /// The media type it was read as.
        media_type: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Neither the content type nor the `mediaType` field names a manifest type nv2 reads.
    #[error("unknown manifest media type {media_type:?}")]
    UnknownMediaType {
        /// Excerpt of the media type.
        media_type: String,
    },
    /// No content type was given, the body has no `mediaType`, and its shape does not tell either.
    #[error("cannot tell the manifest media type: no content type, no mediaType field, unrecognised shape")]
    MissingMediaType,
    /// The content type and the body's `mediaType` disagree (clients must reject such a manifest).
    #[error("content type {content_type:?} does not match the manifest mediaType {media_type:?}")]
    MediaTypeMismatch {
        /// Excerpt of the content type given.
        content_type: String,
        /// Excerpt of the `mediaType` field in the body.
        media_type: String,
    },
    /// `schemaVersion` is absent or not the one the media type requires.
    #[error("{media_type} requires schemaVersion {expected}, found {found}")]
    UnsupportedSchemaVersion {
        /// The media type read.
        media_type: String,
        /// The version required.
        expected: u32,
        /// Excerpt of what was found (`absent` when missing).
        found: String,
    },
    /// A descriptor's embedded `data` is not base64 or does not match its digest and size.
    #[error("descriptor {digest} has invalid embedded data: {reason}")]
    InvalidDescriptorData {
        /// The descriptor's digest.
        digest: Digest,
        /// What is wrong.
        reason: &'static str,
    },
    /// A referrers list was expected to be an image index (fallback tag or API response) but is not.
    #[error("referrers list must be an image index, got {media_type}")]
    NotAnIndex {
        /// The media type found.
        media_type: String,
    },
    /// Serialising a manifest failed (cannot happen for the types here; kept so no path has to panic).
    #[error("cannot serialise manifest: {reason}")]
    Serialize {
        /// serde_json's explanation.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_keeps_short_and_cuts_long_input_on_char_boundaries() {
        assert_eq!(excerpt("abc"), "abc");
        let long = "é".repeat(500);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
    }
}
