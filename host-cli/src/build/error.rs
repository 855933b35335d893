//! Why a build failed. Every variant names the file, archive entry or option at fault, so `nv2 build` can print
//! one line a person can act on.

use crate::content::ContentError;

/// Why building an image failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Reading an input or writing a temporary layer file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The input of a directory build is not a directory.
    #[error("{path} is not a directory")]
    NotADirectory {
        /// The path given.
        path: String,
    },
    /// The directory holds something a layer cannot carry reproducibly (a socket, FIFO or device node).
    #[error("{path} is a {kind}: only regular files, directories and symbolic links can go into a layer")]
    SpecialFile {
        /// The file.
        path: String,
        /// What it is (`socket`, `FIFO`, `block device`, `character device`).
        kind: &'static str,
    },
    /// A file changed size or type while it was being read, so the layer would not match the tree.
    #[error("{path} changed while the layer was being written: {reason}")]
    ChangedDuringBuild {
        /// The file.
        path: String,
        /// What differed.
        reason: String,
    },
    /// A build option is malformed (`--platform`, `--env`, `--workdir`, `SOURCE_DATE_EPOCH`, ...).
    #[error("{option}: {reason}")]
    InvalidOption {
        /// The option, as the user spells it (`--platform linux`).
        option: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A `docker save` tarball is malformed: not a tar, no or a bad `manifest.json`, a config that is not JSON.
    #[error("docker save archive {archive}: {reason}")]
    DockerSave {
        /// The tarball.
        archive: String,
        /// What is wrong.
        reason: String,
    },
    /// `manifest.json` of a `docker save` tarball names an entry the tarball does not have.
    #[error("docker save archive {archive}: manifest.json names {entry}, which the archive does not contain")]
    MissingEntry {
        /// The tarball.
        archive: String,
        /// The entry named.
        entry: String,
    },
    /// An entry name points outside the archive or image root (`../`, an absolute path).
    #[error("{container}: entry {entry} escapes its root")]
    PathTraversal {
        /// The archive or layer holding the entry.
        container: String,
        /// The offending name.
        entry: String,
    },
    /// A layer is not a readable tar stream (or is compressed in a way nv2 does not read).
    #[error("layer {layer}: {reason}")]
    MalformedLayer {
        /// The layer (archive entry or file).
        layer: String,
        /// What is wrong.
        reason: String,
    },
    /// The layers' uncompressed digests do not match the config's `rootfs.diff_ids`.
    #[error("{archive}: layer {layer} has diff_id {actual}, the config lists {expected}")]
    DiffIdMismatch {
        /// The tarball.
        archive: String,
        /// The layer entry.
        layer: String,
        /// The config's diff_id for this position.
        expected: String,
        /// The digest of the layer's uncompressed bytes.
        actual: String,
    },
    /// The config lists a different number of diff_ids than `manifest.json` lists layers.
    #[error("{archive}: the config lists {expected} diff_ids but manifest.json lists {actual} layers")]
    DiffIdCount {
        /// The tarball.
        archive: String,
        /// Number of diff_ids in the config.
        expected: usize,
        /// Number of layers in `manifest.json`.
        actual: usize,
    },
    /// Content stored under a digest name does not hash to that digest.
    #[error("{path}: content digests to {actual}, its name says {expected}")]
    DigestMismatch {
        /// The file or archive entry.
        path: String,
        /// The digest its name or descriptor gives.
        expected: String,
        /// The digest of its bytes.
        actual: String,
    },
    /// The input holds several images and none was chosen, or the chosen one is not there.
    #[error("{input}: {reason}")]
    ImageSelection {
        /// The archive or layout.
        input: String,
        /// Which images there are and what was asked for.
        reason: String,
    },
    /// An OCI image layout is malformed (no `oci-layout` file, a bad `index.json`, a missing blob).
    #[error("OCI layout {layout}: {reason}")]
    OciLayout {
        /// The layout directory.
        layout: String,
        /// What is wrong.
        reason: String,
    },
    /// A manifest or config could not be read or written under the OCI rules.
    #[error("{what}: {source}")]
    Oci {
        /// The document involved.
        what: String,
        /// The rule broken.
        #[source]
        source: nv2_core::oci::OciError,
    },
    /// A JSON document is larger than nv2 reads for its kind.
    #[error("{what} is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The document.
        what: String,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Pushing the built image into a store failed.
    #[error(transparent)]
    Content(#[from] ContentError),
}

impl BuildError {
    /// An [`BuildError::Io`] naming `path`.
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        BuildError::Io { path: path.to_string(), source }
    }
}
