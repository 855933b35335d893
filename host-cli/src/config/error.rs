//! Why reading or changing the configuration directory failed. Every message names the file (or the key, store or
//! policy) and says what is wrong, so a person sees one line that tells them what to fix. The core's errors are
//! kept as typed sources, boxed so that every `Result` stays small.

use std::io;
use std::path::PathBuf;

use nv2_core::trust::{PolicyError, StoreError, StoreRef};
use nv2_core::x509::X509Error;

/// A rule of notation's `signingkeys.json` schema that a document breaks.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigningKeysRule {
    /// An entry has no (or an empty) `name`.
    #[error("key entry {index} has no name")]
    MissingName {
        /// Position of the entry in `keys`.
        index: usize,
    },
    /// Two entries share a name.
    #[error("key name {0:?} is used more than once, key names must be unique")]
    DuplicateName(String),
    /// `default` names no entry.
    #[error("default signing key {0:?} is not in the keys list")]
    DefaultNotFound(String),
    /// An entry has neither local files nor a plugin.
    #[error("key {0:?} has neither keyPath/certPath nor id/pluginName")]
    NoKeySource(String),
    /// An entry has both local files and plugin fields.
    #[error("key {0:?} has both local files (keyPath/certPath) and plugin fields (id/pluginName)")]
    MixedKeySource(String),
    /// A local entry lacks `keyPath` or `certPath`, or a plugin entry lacks `id` or `pluginName`.
    #[error("key {name:?} has no {field}")]
    MissingField {
        /// The entry's name.
        name: String,
        /// The missing member.
        field: &'static str,
    },
    /// A local entry's path is relative (notation always writes absolute paths).
    #[error("key {name:?} has a relative {field} {value:?}, paths must be absolute")]
    RelativePath {
        /// The entry's name.
        name: String,
        /// `keyPath` or `certPath`.
        field: &'static str,
        /// The path as written.
        value: String,
    },
}

/// Everything that can go wrong with the configuration directory.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The operating system refused an operation on a file or directory.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was attempted (`read`, `write`, `remove`, `list`, ...).
        action: &'static str,
        /// The operating system's reason.
        source: io::Error,
    },
    /// A file nv2 would write is a symbolic link: nv2 never writes through one.
    #[error("{} is a symbolic link; nv2 does not write through links (replace it with a regular file)", path.display())]
    Symlink {
        /// The link.
        path: PathBuf,
    },
    /// A file or store directory is a symbolic link that leads out of the configuration directory, or nowhere.
    /// Links inside it (the Kubernetes ConfigMap layout) are followed; notation refuses all links.
    #[error(
        "{} is a symbolic link leading outside the configuration directory (or nowhere), which is not supported",
        path.display()
    )]
    SymlinkOutside {
        /// The link.
        path: PathBuf,
    },
    /// A file is a directory, a device or a socket.
    #[error("{} is not a regular file", path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
    },
    /// A trust store path is a file or something else where a directory is expected.
    #[error("{} is not a directory", path.display())]
    NotDirectory {
        /// The path.
        path: PathBuf,
    },
    /// A certificate file named for `show` or `delete` is not in the store.
    #[error("certificate file {} does not exist", path.display())]
    CertificateFileNotFound {
        /// The path looked for.
        path: PathBuf,
    },
    /// A file is larger than any legitimate file of its kind.
    #[error("{} is larger than {max} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The bound.
        max: usize,
    },
    /// A JSON file is not valid JSON or has members of the wrong type or value.
    #[error("malformed {}: {reason}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The decoder's complaint, with line and column.
        reason: String,
    },
    /// A path cannot be written into a JSON document because it is not UTF-8.
    #[error("path {} is not valid UTF-8 and cannot be recorded in {}", path.display(), document.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
        /// The document it was to be written into.
        document: PathBuf,
    },
    /// `signingkeys.json` breaks a schema rule.
    #[error("invalid {}: {rule}", path.display())]
    SigningKeys {
        /// The file.
        path: PathBuf,
        /// The rule broken.
        rule: SigningKeysRule,
    },
    /// No key of that name is registered.
    #[error("no signing key named {name:?} in {}", path.display())]
    KeyNotFound {
        /// The requested name.
        name: String,
        /// `signingkeys.json`.
        path: PathBuf,
    },
    /// No key was named and no default key is set.
    #[error("no signing key given and no default key is set in {} (use --key NAME or set a default)", path.display())]
    NoDefaultKey {
        /// `signingkeys.json`.
        path: PathBuf,
    },
    /// A key of that name is already registered.
    #[error("a signing key named {name:?} already exists in {}", path.display())]
    KeyExists {
        /// The name.
        name: String,
        /// `signingkeys.json`.
        path: PathBuf,
    },
    /// A key name that would become a file name is not `[a-zA-Z0-9_.-]+`.
    #[error("invalid key name {0:?}: names must match [a-zA-Z0-9_.-]+")]
    InvalidKeyName(String),
    /// A file nv2 was about to create already exists; nothing is overwritten.
    #[error("{} already exists, refusing to overwrite it", path.display())]
    FileExists {
        /// The file.
        path: PathBuf,
    },
    /// The key is served by a notation plugin, which nv2 cannot call.
    #[error("signing key {name:?} uses plugin {plugin:?}: plugin keys are not supported by nv2")]
    PluginKey {
        /// The key's name.
        name: String,
        /// The plugin it names.
        plugin: String,
    },
    /// A private key file cannot be decoded.
    #[error("private key {}: {reason}", path.display())]
    MalformedKey {
        /// The key file (or the input it came from).
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A private key file holds a key nv2 cannot sign with (RSA, P-521, encrypted keys).
    #[error("private key {}: {reason}", path.display())]
    UnsupportedKey {
        /// The key file (or the input it came from).
        path: PathBuf,
        /// Which kind of key, and what nv2 supports.
        reason: String,
    },
    /// The private key does not belong to the leaf certificate.
    #[error("private key {} does not match the leaf certificate in {}", key_path.display(), cert_path.display())]
    KeyCertificateMismatch {
        /// The key file.
        key_path: PathBuf,
        /// The certificate file.
        cert_path: PathBuf,
    },
    /// A certificate file cannot be read as PEM or DER certificates.
    #[error("certificate file {}: {source}", path.display())]
    Certificates {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: Box<X509Error>,
    },
    /// A certificate chain (with its key) is not a valid Notary Project code-signing chain now.
    #[error("{} is not a valid Notary code-signing certificate chain: {source}", path.display())]
    SigningChain {
        /// The certificate file (or the input it came from).
        path: PathBuf,
        /// The rule broken.
        source: Box<X509Error>,
    },
    /// The certificate authority given to issue a key cannot issue it.
    #[error("certificate authority {}: {reason}", path.display())]
    CertificateAuthority {
        /// The CA certificate file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A certificate could not be issued (an unusable subject name, a validity past year 9999, ...).
    #[error("cannot issue the certificate for {subject:?}: {source}")]
    Issue {
        /// The subject asked for.
        subject: String,
        /// The core's reason.
        source: Box<X509Error>,
    },
    /// A certificate validity of zero days was asked for.
    #[error("certificate validity must be at least one day, {0} given")]
    InvalidValidity(u32),
    /// The operating system's random number generator failed, so no key could be generated.
    #[error("cannot draw random bytes for a new key: {0}")]
    Randomness(getrandom::Error),
    /// A trust store name is not `[a-zA-Z0-9_.-]+`.
    #[error("invalid trust store name {0:?}: names must match [a-zA-Z0-9_.-]+")]
    InvalidStoreName(String),
    /// A certificate file name cannot be used inside a trust store.
    #[error("invalid certificate file name {0:?}: it must be a plain file name")]
    InvalidFileName(String),
    /// A named trust store directory does not exist.
    #[error("trust store {store} does not exist ({} not found)", path.display())]
    TrustStoreNotFound {
        /// The store.
        store: StoreRef,
        /// Its directory.
        path: PathBuf,
    },
    /// A trust store directory holds a directory (notation refuses these rather than ignoring them).
    #[error("{} is a directory inside a trust store, trust stores may only hold certificate files", path.display())]
    TrustStoreSubdirectory {
        /// The sub-directory.
        path: PathBuf,
    },
    /// A certificate file cannot be added to a trust store of that kind.
    #[error("cannot add {} to trust store {store}: {source}", path.display())]
    TrustStoreCertificate {
        /// The file offered.
        path: PathBuf,
        /// The store.
        store: StoreRef,
        /// Why the certificate is refused.
        source: Box<X509Error>,
    },
    /// A trust store directory breaks notation's store rules when loaded.
    #[error("trust store {}: {source}", path.display())]
    TrustStore {
        /// The store's directory.
        path: PathBuf,
        /// The rule broken.
        source: Box<StoreError>,
    },
    /// There is no OCI trust policy file.
    #[error("no OCI trust policy: neither {} nor {} exists", path.display(), legacy_path.display())]
    OciPolicyNotFound {
        /// `trustpolicy.oci.json`.
        path: PathBuf,
        /// The legacy `trustpolicy.json`.
        legacy_path: PathBuf,
    },
    /// There is no blob trust policy file.
    #[error("no blob trust policy: {} does not exist", path.display())]
    BlobPolicyNotFound {
        /// `trustpolicy.blob.json`.
        path: PathBuf,
    },
    /// A trust policy document is invalid.
    #[error("trust policy {}: {source}", path.display())]
    Policy {
        /// The policy file (or the file being imported).
        path: PathBuf,
        /// The rule broken.
        source: Box<PolicyError>,
    },
    /// A trust policy file exists and overwriting it was not asked for.
    #[error("trust policy {} already exists (use --force to overwrite it)", path.display())]
    PolicyExists {
        /// The existing file.
        path: PathBuf,
    },
}

impl ConfigError {
    /// An [`ConfigError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, action: &'static str, source: io::Error) -> Self {
        ConfigError::Io { path: path.into(), action, source }
    }
}
