//! What a host hands the pipeline: the artifact, its signatures, and the facts the core cannot fetch itself.

use super::plugin::{NoPlugins, PluginHost};
use crate::crypto::HashAlgorithm;
use crate::envelope::EnvelopeFormat;
use crate::time::Timestamp;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use sha2::Digest as _;

/// The artifact the signatures must be bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// An OCI manifest resolved by the host: the payload must name exactly this media type, digest and size.
    Manifest {
        /// The manifest's media type as the registry served it.
        media_type: String,
        /// `alg:hex` digest of the manifest bytes.
        digest: String,
        /// Manifest size in bytes.
        size: u64,
    },
    /// An arbitrary blob (detached signature): the payload digest is recomputed with the signature algorithm's hash.
    Blob {
        /// Digests of the blob with every hash a signature algorithm may use.
        digests: BlobDigests,
        /// Blob size in bytes.
        size: u64,
        /// The media type the user expects, when given (`--media-type`).
        media_type: Option<String>,
    },
}

/// A blob's SHA-256, SHA-384 and SHA-512 digests, computed by the host in one streaming pass with
/// [`BlobDigester`] (the core cannot know which one a signature uses before parsing it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobDigests {
    sha256: Vec<u8>,
    sha384: Vec<u8>,
    sha512: Vec<u8>,
}

impl BlobDigests {
    /// Digests an in-memory blob.
    pub fn of(bytes: &[u8]) -> Self {
        let mut d = BlobDigester::default();
        d.update(bytes);
        d.finalize()
    }

    /// Digests the host computed elsewhere, as lowercase hex (how the wire format carries them); `None` unless each
    /// is lowercase hex of its algorithm's length.
    pub fn from_hex(sha256: &str, sha384: &str, sha512: &str) -> Option<Self> {
        Some(BlobDigests {
            sha256: decode_hex(sha256, HashAlgorithm::Sha256)?,
            sha384: decode_hex(sha384, HashAlgorithm::Sha384)?,
            sha512: decode_hex(sha512, HashAlgorithm::Sha512)?,
        })
    }

    /// The digest with `hash`.
    pub fn get(&self, hash: HashAlgorithm) -> &[u8] {
        match hash {
            HashAlgorithm::Sha256 => &self.sha256,
            HashAlgorithm::Sha384 => &self.sha384,
            HashAlgorithm::Sha512 => &self.sha512,
        }
    }
}

/// Lowercase hex of exactly `hash`'s output length, decoded; `None` otherwise (digests are written lowercase).
fn decode_hex(text: &str, hash: HashAlgorithm) -> Option<Vec<u8>> {
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        }
    }
    if text.len() != hash.output_len() * 2 {
        return None;
    }
    text.as_bytes().chunks_exact(2).map(|pair| Some(nibble(*pair.first()?)? << 4 | nibble(*pair.get(1)?)?)).collect()
}

/// Streaming computation of [`BlobDigests`] for blobs too large to hold in memory.
#[derive(Clone, Default)]
pub struct BlobDigester {
    sha256: sha2::Sha256,
    sha384: sha2::Sha384,
    sha512: sha2::Sha512,
}

impl BlobDigester {
    /// Feeds the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        self.sha256.update(chunk);
        self.sha384.update(chunk);
        self.sha512.update(chunk);
    }

    /// Finishes all three digests.
    pub fn finalize(self) -> BlobDigests {
        BlobDigests {
            sha256: self.sha256.finalize().to_vec(),
            sha384: self.sha384.finalize().to_vec(),
            sha512: self.sha512.finalize().to_vec(),
        }
    }
}

/// One signature as the host found it.
#[derive(Clone, Copy, Debug)]
pub struct SignatureInput<'a> {
    /// The signature manifest bytes (referrer of the target), or `None` for a detached blob signature.
    pub manifest: Option<&'a [u8]>,
    /// The envelope bytes (the manifest's single layer, or the `.sig` file).
    pub envelope: &'a [u8],
    /// The envelope format, required when there is no manifest to name it (blob signatures: from the file suffix).
    pub format: Option<EnvelopeFormat>,
}

/// Where revocation information comes from. Fetching CRLs is I/O, so the host does it (and caches); the core
/// only judges the bytes.
pub trait CrlSource {
    /// The DER CRL served at `url`, or `None` when it could not be had (the certificate's status is then unknown).
    fn crl(&self, url: &str) -> Option<Vec<u8>>;
}

/// A source that has no CRLs: certificates that point to a CRL get status "unknown".
pub struct NoCrls;

impl CrlSource for NoCrls {
    fn crl(&self, _url: &str) -> Option<Vec<u8>> {
        None
    }
}

/// Everything besides the artifact, signatures, policy and stores.
pub struct VerifyOptions<'a> {
    /// The current time (the core has no clock).
    pub now: Timestamp,
    /// `-m key=value` pairs that must be present in the payload annotations.
    pub user_metadata: BTreeMap<String, String>,
    /// Most signatures examined (notation's `--max-signatures`, default 100).
    pub max_signatures: usize,
    /// Installed verification plugins.
    pub plugins: &'a dyn PluginHost,
    /// CRLs for the signing chain (and for TSA chains when [`VerifyOptions::check_tsa_revocation`] is set).
    pub crls: &'a dyn CrlSource,
    /// Also check revocation of timestamp-authority chains. Off by default: air-gapped verification cannot reach
    /// public TSAs' CRLs, and an unknown status would then reject every timestamped signature.
    pub check_tsa_revocation: bool,
}

impl VerifyOptions<'static> {
    /// Options for `now` with notation's defaults: no metadata, 100 signatures, no plugins, no CRLs.
    pub fn at(now: Timestamp) -> Self {
        VerifyOptions {
            now,
            user_metadata: BTreeMap::new(),
            max_signatures: crate::limits::DEFAULT_MAX_SIGNATURES,
            plugins: &NoPlugins,
            crls: &NoCrls,
            check_tsa_revocation: false,
        }
    }
}
