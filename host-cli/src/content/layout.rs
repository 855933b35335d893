//! An OCI image layout directory (image-spec `image-layout.md`) as a content store: `oci-layout` holding
//! `{"imageLayoutVersion":"1.0.0"}`, `index.json` listing manifests (tags in the `org.opencontainers.image.ref.name`
//! annotation), and every blob at `blobs/<alg>/<hex>`. This is what `oras --oci-layout`, `notation --oci-layout`,
//! `skopeo oci:` and `regctl ocidir://` read and write, so content moves between them and registries unchanged.
//!
//! How the layout is kept, following oras-go's `content/oci` store so layouts written by either read the same:
//! - Every manifest pushed is listed in index.json: once per tag with the ref-name annotation, or once untagged.
//!   Referrers (signatures, SBoMs) are thus reachable from index.json and survive a round trip through any tool.
//! - The referrers of a subject come from a predecessor index built at open by parsing every manifest reachable
//!   from index.json (through indexes, recursively), kept current by every push and delete. A `<alg>-<hex>`
//!   tag-schema index found in the layout (notation writes one) is honoured too.
//! - Blobs are written to a temporary file in `blobs/` while being digested, checked against their descriptor,
//!   flushed to disk and only then renamed into place: no reader ever sees half a blob, and a failed push leaves
//!   nothing behind. index.json is rewritten atomically, one writer at a time.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::StreamExt;
use nv2_core::limits::MAX_MANIFEST_BYTES;
use nv2_core::oci::{
    fallback_tag, referrers_from_index, validate_tag, Descriptor, Digest, DigestAlgorithm, Digester, ImageIndex,
    ParsedManifest, TagOrDigest,
};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;
use tokio_util::io::ReaderStream;

use super::referrers_index::{parse_pushed_manifest, ReferrersIndex};
use super::{collect_verified, stream_of, ByteStream, ContentError, ContentStore, BLOB_MEDIA_TYPE};
use crate::atomic_file::{self, Mode};

/// Name of the file that marks a directory as an OCI image layout.
pub const LAYOUT_FILE: &str = "oci-layout";
/// Name of the layout's top-level index.
pub const INDEX_FILE: &str = "index.json";
/// Name of the directory holding the blobs, by algorithm and hex.
pub const BLOBS_DIR: &str = "blobs";
/// The only `imageLayoutVersion` the image spec defines.
pub const LAYOUT_VERSION: &str = "1.0.0";
/// The index.json annotation that holds a manifest's tag.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// Largest `oci-layout` file read; the real one is 30 bytes.
const MAX_LAYOUT_FILE_BYTES: u64 = 64 * 1024;
/// Read size when streaming blobs out of the layout.
const READ_CHUNK: usize = 64 * 1024;

/// The `oci-layout` file.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutMarker {
    image_layout_version: String,
}

/// An OCI image layout directory, shared between concurrent transfers.
#[derive(Debug)]
pub struct OciLayout {
    root: PathBuf,
    name: String,
    state: Mutex<LayoutState>,
}

/// What is held in memory; one lock serialises every index.json update.
#[derive(Debug)]
struct LayoutState {
    /// index.json as it is on disk (entries in file order).
    index: ImageIndex,
    /// Every manifest known to be in the layout (listed, reachable from a listed index, or pushed), as a plain
    /// descriptor: what resolving its digest answers.
    manifests: HashMap<Digest, Descriptor>,
    /// Subject to referrers.
    referrers: ReferrersIndex,
}

impl OciLayout {
    /// Opens the existing layout at `dir`: the directory, its `oci-layout` file (version 1.0.0) and its index.json
    /// must exist. Every manifest reachable from index.json is read to build the referrers index.
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self, ContentError> {
        let root = dir.as_ref().to_path_buf();
        let name = store_name(&root);
        Self::open_named(root, name).await
    }

    /// Opens the layout at `dir`, creating the directory, `oci-layout`, an empty index.json and `blobs/` where
    /// missing (an existing layout is opened as with [`OciLayout::open`]).
    pub async fn create(dir: impl AsRef<Path>) -> Result<Self, ContentError> {
        let root = dir.as_ref().to_path_buf();
        let name = store_name(&root);
        Self::create_named(root, name).await
    }

    /// [`OciLayout::open`] with the name used in messages (the tar store names the archive, not its staging dir).
    pub(crate) async fn open_named(root: PathBuf, name: String) -> Result<Self, ContentError> {
        let metadata = tokio::fs::metadata(&root).await.map_err(io_error(&root))?;
        if !metadata.is_dir() {
            return Err(ContentError::Malformed { store: name, reason: String::from("not a directory") });
        }
        check_layout_marker(&root, &name).await?;
        let index = read_index(&root, &name).await?;
        Self::load(root, name, index).await
    }

    /// [`OciLayout::create`] with the name used in messages.
    pub(crate) async fn create_named(root: PathBuf, name: String) -> Result<Self, ContentError> {
        let blobs = root.join(BLOBS_DIR);
        blocking(&blobs, {
            let blobs = blobs.clone();
            move || atomic_file::create_dir_all(&blobs, Mode::Public)
        })
        .await?;
        let marker = root.join(LAYOUT_FILE);
        if try_exists(&marker).await? {
            check_layout_marker(&root, &name).await?;
        } else {
            let bytes = serde_json::to_vec(&LayoutMarker { image_layout_version: String::from(LAYOUT_VERSION) })
                .map_err(|e| ContentError::Io { path: marker.display().to_string(), source: io::Error::other(e) })?;
            write_atomically(marker, bytes).await?;
        }
        let index_path = root.join(INDEX_FILE);
        let index = if try_exists(&index_path).await? {
            read_index(&root, &name).await?
        } else {
            let empty = ImageIndex::new(Vec::new());
            write_atomically(index_path, empty.to_json_bytes()?).await?;
            empty
        };
        Self::load(root, name, index).await
    }

    /// The layout directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The manifests index.json lists, in file order (tagged entries carry the ref-name annotation).
    pub async fn index_entries(&self) -> Vec<Descriptor> {
        self.state.lock().await.index.manifests.clone()
    }

    /// Every tag in index.json and the manifest it names (without the ref-name annotation).
    pub async fn tags(&self) -> BTreeMap<String, Descriptor> {
        let state = self.state.lock().await;
        state.index.manifests.iter().filter_map(|e| ref_name(e).map(|t| (t.to_string(), without_ref_name(e)))).collect()
    }

    /// Builds the in-memory state from index.json: every manifest reachable from it is parsed once, its subject
    /// recorded, its child manifests followed; `<alg>-<hex>` tag-schema indexes add their entries as referrers.
    async fn load(root: PathBuf, name: String, index: ImageIndex) -> Result<Self, ContentError> {
        let mut manifests = HashMap::new();
        let mut referrers = ReferrersIndex::default();
        let mut queue: VecDeque<(Descriptor, Option<Digest>)> =
            index.manifests.iter().map(|entry| (entry.clone(), tag_schema_subject(entry))).collect();
        let mut seen = HashSet::new();
        while let Some((descriptor, tag_schema_subject)) = queue.pop_front() {
            if !descriptor.is_manifest() || !seen.insert(descriptor.digest.clone()) {
                continue;
            }
            let Some(parsed) = read_listed_manifest(&root, &descriptor).await? else {
                continue;
            };
            manifests.insert(
                descriptor.digest.clone(),
                Descriptor::new(parsed.media_type(), descriptor.digest.clone(), parsed.size()),
            );
            referrers.record(&parsed, &descriptor);
            if let (Some(subject), Ok(entries)) = (tag_schema_subject, referrers_from_index(&parsed)) {
                for entry in entries {
                    if try_exists(&blob_path(&root, &entry.digest)).await? {
                        referrers.insert(subject.clone(), entry.clone());
                    }
                }
            }
            for child in parsed.references() {
                if child.is_manifest() {
                    queue.push_back((child.descriptor.clone(), None));
                }
            }
        }
        Ok(OciLayout { root, name, state: Mutex::new(LayoutState { index, manifests, referrers }) })
    }

    /// Streams `content` into `blobs/<alg>/<hex>` through a temporary file, refusing it (and leaving nothing)
    /// when its size or digest differ from `descriptor`.
    async fn write_blob(&self, descriptor: &Descriptor, mut content: ByteStream) -> Result<(), ContentError> {
        let target = blob_path(&self.root, &descriptor.digest);
        let algorithm_dir = self.root.join(BLOBS_DIR).join(descriptor.digest.algorithm().name());
        let blobs = self.root.join(BLOBS_DIR);
        let temp = blocking(&algorithm_dir, {
            let algorithm_dir = algorithm_dir.clone();
            move || {
                atomic_file::create_dir_all(&algorithm_dir, Mode::Public)?;
                tempfile::Builder::new().prefix(".nv2-").suffix(".partial").tempfile_in(&blobs)
            }
        })
        .await?;
        let (file, temp_path) = temp.into_parts();
        let shown = temp_path.display().to_string();
        let temp_error = |source| ContentError::Io { path: shown.clone(), source };
        let mut file = tokio::fs::File::from_std(file);
        let mismatch = |reason: String| ContentError::Mismatch { expected: descriptor.digest.to_string(), reason };
        let mut digester = Digester::new(descriptor.digest.algorithm());
        let mut written: u64 = 0;
        while let Some(chunk) = content.next().await {
            let chunk = chunk?;
            written = written.saturating_add(chunk.len() as u64);
            if written > descriptor.size {
                return Err(mismatch(format!("more than the {} bytes the descriptor names", descriptor.size)));
            }
            digester.update(&chunk);
            file.write_all(&chunk).await.map_err(&temp_error)?;
        }
        if written != descriptor.size {
            return Err(mismatch(format!("{written} bytes, the descriptor names {}", descriptor.size)));
        }
        let actual = digester.finalize();
        if actual != descriptor.digest {
            return Err(mismatch(format!("the bytes digest to {actual}")));
        }
        file.flush().await.map_err(&temp_error)?;
        file.sync_all().await.map_err(&temp_error)?;
        drop(file);
        blocking(&target, {
            let target = target.clone();
            move || {
                set_public(&temp_path)?;
                temp_path.persist(&target).map_err(|e| e.error)?;
                sync_dir(&algorithm_dir);
                Ok(())
            }
        })
        .await
    }

    /// Lists a pushed manifest in index.json (untagged, unless it is already listed) and indexes its subject.
    async fn record_manifest(&self, descriptor: &Descriptor, parsed: &ParsedManifest) -> Result<(), ContentError> {
        let mut state = self.state.lock().await;
        state.manifests.insert(
            descriptor.digest.clone(),
            Descriptor::new(parsed.media_type(), descriptor.digest.clone(), descriptor.size),
        );
        state.referrers.record(parsed, descriptor);
        if state.index.manifests.iter().any(|e| e.digest == descriptor.digest) {
            return Ok(());
        }
        state.index.manifests.push(without_ref_name(descriptor));
        self.save_index(&state).await
    }

    /// Writes index.json atomically; callers hold the state lock, so writes never interleave.
    async fn save_index(&self, state: &LayoutState) -> Result<(), ContentError> {
        write_atomically(self.root.join(INDEX_FILE), state.index.to_json_bytes()?).await
    }

    /// Reads an unlisted blob as a manifest (resolving a digest no listed manifest reaches), `None` when it is
    /// missing or not a manifest.
    async fn read_unlisted_manifest(&self, digest: &Digest) -> Result<Option<ParsedManifest>, ContentError> {
        let path = blob_path(&self.root, digest);
        let Some(bytes) = read_bounded(&path, MAX_MANIFEST_BYTES as u64, true).await? else {
            return Ok(None);
        };
        Ok(ParsedManifest::parse_verified(None, &bytes, digest).ok())
    }

    fn not_found(&self, what: impl Into<String>) -> ContentError {
        ContentError::NotFound { what: what.into(), store: self.name.clone() }
    }
}

#[async_trait]
impl ContentStore for OciLayout {
    fn name(&self) -> String {
        self.name.clone()
    }

    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        let digest = {
            let state = self.state.lock().await;
            let entries = &state.index.manifests;
            match TagOrDigest::parse(reference) {
                Ok(TagOrDigest::Digest(digest)) => match state.manifests.get(&digest) {
                    Some(known) => return Ok(known.clone()),
                    None => digest,
                },
                Ok(TagOrDigest::Tag(tag)) => {
                    let exact = entries.iter().find(|e| ref_name(e) == Some(tag.as_str()));
                    let full = || entries.iter().find(|e| ref_name(e).and_then(tag_of_full_ref_name) == Some(&tag));
                    return exact
                        .or_else(full)
                        .map(without_ref_name)
                        .ok_or_else(|| self.not_found(format!("tag {tag}")));
                }
                // Not a tag or digest on its own: a full ref name some tools write (`example.com/app:v1`).
                Err(invalid) => {
                    return entries
                        .iter()
                        .find(|e| ref_name(e) == Some(reference))
                        .map(without_ref_name)
                        .ok_or(ContentError::Oci(invalid));
                }
            }
        };
        match self.read_unlisted_manifest(&digest).await? {
            Some(parsed) => Ok(Descriptor::new(parsed.media_type(), digest, parsed.size())),
            None => Err(self.not_found(format!("manifest {digest}"))),
        }
    }

    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        let path = blob_path(&self.root, digest);
        match tokio::fs::metadata(&path).await {
            Ok(metadata) if metadata.is_file() => Ok(Descriptor::new(BLOB_MEDIA_TYPE, digest.clone(), metadata.len())),
            Ok(_) => Err(self.not_found(format!("blob {digest}"))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(self.not_found(format!("blob {digest}"))),
            Err(e) => Err(ContentError::Io { path: path.display().to_string(), source: e }),
        }
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        let path = blob_path(&self.root, &descriptor.digest);
        match tokio::fs::metadata(&path).await {
            Ok(metadata) => Ok(metadata.is_file() && metadata.len() == descriptor.size),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(ContentError::Io { path: path.display().to_string(), source: e }),
        }
    }

    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        let path = blob_path(&self.root, &descriptor.digest);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(self.not_found(descriptor.digest.to_string())),
            Err(e) => return Err(ContentError::Io { path: path.display().to_string(), source: e }),
        };
        let length = file.metadata().await.map_err(io_error(&path))?.len();
        if length != descriptor.size {
            return Err(ContentError::Mismatch {
                expected: descriptor.digest.to_string(),
                reason: format!("{} holds {length} bytes, the descriptor names {}", path.display(), descriptor.size),
            });
        }
        let shown = path.display().to_string();
        Ok(Box::pin(
            ReaderStream::with_capacity(file, READ_CHUNK)
                .map(move |chunk| chunk.map_err(|source| ContentError::Io { path: shown.clone(), source })),
        ))
    }

    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        if !descriptor.is_manifest() {
            return self.write_blob(descriptor, content).await;
        }
        let limit = MAX_MANIFEST_BYTES as u64;
        if descriptor.size > limit {
            return Err(ContentError::TooLarge { what: descriptor.digest.to_string(), size: descriptor.size, limit });
        }
        let bytes = collect_verified(content, descriptor).await?;
        let parsed = parse_pushed_manifest(&self.name, descriptor, &bytes)?;
        self.write_blob(descriptor, stream_of(bytes)).await?;
        self.record_manifest(descriptor, &parsed).await
    }

    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        validate_tag(tag)?;
        if !descriptor.is_manifest() {
            return Err(ContentError::Refused {
                store: self.name.clone(),
                operation: format!("tag {tag}"),
                reason: format!(
                    "{} is a {} blob; only manifests can be tagged",
                    descriptor.digest, descriptor.media_type
                ),
            });
        }
        if !self.exists(descriptor).await? {
            return Err(self.not_found(format!("manifest {}", descriptor.digest)));
        }
        let mut state = self.state.lock().await;
        let entries = &mut state.index.manifests;
        let mut moved_from = Vec::new();
        entries.retain(|e| {
            let same_tag = ref_name(e) == Some(tag);
            if same_tag {
                moved_from.push(without_ref_name(e));
            }
            let untagged_target = e.digest == descriptor.digest && ref_name(e).is_none();
            !(same_tag || untagged_target)
        });
        let mut entry = without_ref_name(descriptor);
        entry.annotations.insert(String::from(REF_NAME_ANNOTATION), String::from(tag));
        entries.push(entry);
        // A manifest the tag moved away from stays listed (untagged), so it and its referrers remain reachable.
        for old in moved_from {
            if !entries.iter().any(|e| e.digest == old.digest) {
                entries.push(old);
            }
        }
        state
            .manifests
            .entry(descriptor.digest.clone())
            .or_insert_with(|| Descriptor::new(&descriptor.media_type, descriptor.digest.clone(), descriptor.size));
        self.save_index(&state).await
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        Ok(self.state.lock().await.referrers.list(&subject.digest, artifact_type))
    }

    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        let path = blob_path(&self.root, &descriptor.digest);
        if !try_exists(&path).await? {
            return Err(self.not_found(descriptor.digest.to_string()));
        }
        // index.json first: a crash in between leaves an unlisted blob (garbage), never a listed missing one.
        {
            let mut state = self.state.lock().await;
            let before = state.index.manifests.len();
            state.index.manifests.retain(|e| e.digest != descriptor.digest);
            state.manifests.remove(&descriptor.digest);
            state.referrers.remove(&descriptor.digest);
            if state.index.manifests.len() != before {
                self.save_index(&state).await?;
            }
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ContentError::Io { path: path.display().to_string(), source: e }),
        }
    }
}

/// `oci-layout:<dir>`.
fn store_name(root: &Path) -> String {
    format!("oci-layout:{}", root.display())
}

/// Where the blob `digest` lives. A [`Digest`] is a known algorithm name and lowercase hex by construction, so
/// the path can never leave `blobs/<alg>/`.
pub(crate) fn blob_path(root: &Path, digest: &Digest) -> PathBuf {
    root.join(BLOBS_DIR).join(digest.algorithm().name()).join(digest.hex())
}

/// The digest a `blobs/<alg>/<name>` file holds, when its name is one (temporary and foreign files are not).
pub(crate) fn digest_of_blob_file(algorithm: &str, name: &str) -> Option<Digest> {
    Digest::from_parts(DigestAlgorithm::from_name(algorithm)?, name).ok()
}

/// The tag an index.json entry carries.
fn ref_name(entry: &Descriptor) -> Option<&str> {
    entry.annotations.get(REF_NAME_ANNOTATION).map(String::as_str)
}

/// The tag part of a full ref name (`example.com:5000/app:v1` gives `v1`; a name without a tag gives nothing).
fn tag_of_full_ref_name(name: &str) -> Option<&str> {
    let (_, tag) = name.rsplit_once(':')?;
    validate_tag(tag).is_ok().then_some(tag)
}

/// The descriptor without the ref-name annotation: tags live only in index.json, never in descriptors handed
/// out (a copier pushing it to another layout would otherwise tag by accident).
fn without_ref_name(entry: &Descriptor) -> Descriptor {
    let mut plain = entry.clone();
    plain.annotations.remove(REF_NAME_ANNOTATION);
    plain
}

/// The subject of a tag-schema referrers index: an index entry tagged exactly `<alg>-<hex>` of a digest.
fn tag_schema_subject(entry: &Descriptor) -> Option<Digest> {
    if entry.media_type != nv2_core::oci::media_types::OCI_IMAGE_INDEX {
        return None;
    }
    let tag = ref_name(entry)?;
    let (algorithm, hex) = tag.split_once('-')?;
    let subject = digest_of_blob_file(algorithm, hex)?;
    (fallback_tag(&subject) == tag).then_some(subject)
}

/// Checks the `oci-layout` file names version 1.0.0.
async fn check_layout_marker(root: &Path, name: &str) -> Result<(), ContentError> {
    let path = root.join(LAYOUT_FILE);
    let malformed = |reason: String| ContentError::Malformed { store: name.to_string(), reason };
    let Some(bytes) = read_bounded(&path, MAX_LAYOUT_FILE_BYTES, true).await? else {
        return Err(malformed(format!("{LAYOUT_FILE} is missing: not an OCI image layout")));
    };
    let marker: LayoutMarker =
        serde_json::from_slice(&bytes).map_err(|e| malformed(format!("{LAYOUT_FILE} is not valid: {e}")))?;
    if marker.image_layout_version != LAYOUT_VERSION {
        return Err(malformed(format!(
            "unsupported imageLayoutVersion {:?} (supported: {LAYOUT_VERSION})",
            marker.image_layout_version
        )));
    }
    Ok(())
}

/// Reads and parses index.json (an image index, bounded like every manifest).
async fn read_index(root: &Path, name: &str) -> Result<ImageIndex, ContentError> {
    let path = root.join(INDEX_FILE);
    let malformed = |reason: String| ContentError::Malformed { store: name.to_string(), reason };
    let Some(bytes) = read_bounded(&path, MAX_MANIFEST_BYTES as u64, true).await? else {
        return Err(malformed(format!("{INDEX_FILE} is missing")));
    };
    let parsed = ParsedManifest::parse(None, &bytes).map_err(|e| malformed(format!("{INDEX_FILE}: {e}")))?;
    parsed
        .as_image_index()
        .cloned()
        .ok_or_else(|| malformed(format!("{INDEX_FILE} is a {}, not an image index", parsed.media_type())))
}

/// Reads a manifest listed in (or reachable from) index.json while building the state. A missing, oversized or
/// corrupt one is skipped with a warning: the layout stays readable, and fetching that manifest later fails with
/// a precise error.
async fn read_listed_manifest(root: &Path, descriptor: &Descriptor) -> Result<Option<ParsedManifest>, ContentError> {
    let path = blob_path(root, &descriptor.digest);
    let bytes = match read_bounded(&path, MAX_MANIFEST_BYTES as u64, true).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            tracing::warn!(digest = %descriptor.digest, "{}: listed manifest is missing", root.display());
            return Ok(None);
        }
        Err(ContentError::TooLarge { size, .. }) => {
            tracing::warn!(digest = %descriptor.digest, size, "{}: listed manifest is too large", root.display());
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    match ParsedManifest::parse_verified(Some(&descriptor.media_type), &bytes, &descriptor.digest) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(e) => {
            tracing::warn!(digest = %descriptor.digest, "{}: listed manifest is unreadable: {e}", root.display());
            Ok(None)
        }
    }
}

/// Reads a whole file of at most `limit` bytes; `None` when it does not exist (and `missing_ok`).
async fn read_bounded(path: &Path, limit: u64, missing_ok: bool) -> Result<Option<Vec<u8>>, ContentError> {
    let metadata = match tokio::fs::metadata(path).await {
        Ok(metadata) => metadata,
        Err(e) if missing_ok && e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ContentError::Io { path: path.display().to_string(), source: e }),
    };
    if metadata.len() > limit {
        return Err(ContentError::TooLarge { what: path.display().to_string(), size: metadata.len(), limit });
    }
    tokio::fs::read(path).await.map(Some).map_err(io_error(path))
}

/// Whether `path` exists (errors other than "not found" are reported, not read as absence).
async fn try_exists(path: &Path) -> Result<bool, ContentError> {
    tokio::fs::try_exists(path).await.map_err(io_error(path))
}

/// Writes a layout file (index.json, oci-layout) temp + fsync + rename, off the async threads.
async fn write_atomically(path: PathBuf, bytes: Vec<u8>) -> Result<(), ContentError> {
    let shown = path.clone();
    blocking(&shown, move || atomic_file::write(&path, &bytes, Mode::Public)).await
}

/// Runs blocking file work on tokio's blocking pool, naming `path` in errors.
pub(crate) async fn blocking<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> Result<T, ContentError> {
    let shown = path.display().to_string();
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(source)) => Err(ContentError::Io { path: shown, source }),
        Err(join) => Err(ContentError::Io { path: shown, source: io::Error::other(join) }),
    }
}

/// Maps an I/O error to [`ContentError::Io`] naming `path`.
fn io_error(path: &Path) -> impl Fn(io::Error) -> ContentError + '_ {
    move |source| ContentError::Io { path: path.display().to_string(), source }
}

/// Blobs are public content: 0644 (temporary files start at 0600).
#[cfg(unix)]
fn set_public(path: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_public(_path: &Path) -> io::Result<()> {
    Ok(())
}

/// Makes a rename durable; a failure only weakens durability, so it is not reported.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = std::fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::fetch_all;
    use nv2_core::oci::{media_types, ImageManifest};
    use std::sync::Arc;

    /// A config, a layer, an image manifest over them and a signature of the image.
    struct Sample {
        blobs: Vec<(Descriptor, Vec<u8>)>,
        image: (Descriptor, Vec<u8>),
        signature: (Descriptor, Vec<u8>),
    }

    fn sample(seed: &str) -> Sample {
        let config = format!("{{\"seed\":\"{seed}\"}}").into_bytes();
        let layer = format!("layer of {seed}").into_bytes();
        let config_desc = Descriptor::for_content(media_types::OCI_IMAGE_CONFIG, &config);
        let layer_desc = Descriptor::for_content(media_types::OCI_LAYER_TAR, &layer);
        let image = ImageManifest::new(config_desc.clone(), vec![layer_desc.clone()]).to_json_bytes().unwrap();
        let image_desc = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &image);
        let envelope = format!("envelope of {seed}").into_bytes();
        let envelope_desc = Descriptor::for_content(media_types::JWS_ENVELOPE, &envelope);
        let signature = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, vec![envelope_desc.clone()])
            .with_subject(image_desc.clone())
            .to_json_bytes()
            .unwrap();
        let signature_desc = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &signature);
        Sample {
            blobs: vec![(config_desc, config), (layer_desc, layer), (envelope_desc, envelope)],
            image: (image_desc, image),
            signature: (signature_desc, signature),
        }
    }

    async fn push_sample(layout: &OciLayout, sample: &Sample) {
        for (descriptor, bytes) in &sample.blobs {
            layout.push(descriptor, stream_of(bytes.clone())).await.unwrap();
        }
        layout.push(&sample.image.0, stream_of(sample.image.1.clone())).await.unwrap();
        layout.push(&sample.signature.0, stream_of(sample.signature.1.clone())).await.unwrap();
    }

    fn files_under(dir: &Path) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let mut todo = vec![dir.to_path_buf()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    todo.push(path);
                } else {
                    found.push(path);
                }
            }
        }
        found.sort();
        found
    }

    #[tokio::test]
    async fn push_tag_and_reopen_keep_manifests_tags_and_referrers() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("layout");
        let layout = OciLayout::create(&root).await.unwrap();
        assert_eq!(layout.name(), format!("oci-layout:{}", root.display()));
        let s = sample("a");
        push_sample(&layout, &s).await;
        layout.tag(&s.image.0, "v1").await.unwrap();
        assert_eq!(std::fs::read_to_string(root.join(LAYOUT_FILE)).unwrap(), r#"{"imageLayoutVersion":"1.0.0"}"#);

        let reopened = OciLayout::open(&root).await.unwrap();
        let entries = reopened.index_entries().await;
        assert_eq!(entries.len(), 2, "one tagged image entry and one untagged signature entry: {entries:?}");
        assert_eq!(reopened.tags().await.keys().collect::<Vec<_>>(), vec!["v1"]);
        let resolved = reopened.resolve("v1").await.unwrap();
        assert_eq!(resolved, s.image.0, "the ref-name annotation is not handed out");
        assert_eq!(reopened.resolve(&s.signature.0.digest.to_string()).await.unwrap(), s.signature.0);
        let referrers = reopened.referrers(&s.image.0, None).await.unwrap();
        assert_eq!(referrers.len(), 1);
        assert_eq!(referrers[0].digest, s.signature.0.digest);
        assert_eq!(referrers[0].artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE));
        assert!(reopened.referrers(&s.image.0, Some("application/spdx+json")).await.unwrap().is_empty());
        for (descriptor, bytes) in &s.blobs {
            assert!(reopened.exists(descriptor).await.unwrap());
            assert_eq!(&fetch_all(&reopened, descriptor, 1 << 20).await.unwrap(), bytes);
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(blob_path(&root, &s.image.0.digest)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o644);
        }

        // Moving the tag keeps the old image listed (untagged), so it and its signature stay reachable.
        let t = sample("b");
        push_sample(&reopened, &t).await;
        reopened.tag(&t.image.0, "v1").await.unwrap();
        let again = OciLayout::open(&root).await.unwrap();
        assert_eq!(again.resolve("v1").await.unwrap(), t.image.0);
        let listed: Vec<Digest> = again.index_entries().await.into_iter().map(|e| e.digest).collect();
        assert_eq!(listed.len(), 4, "{listed:?}");
        assert!(listed.contains(&s.image.0.digest) && listed.contains(&t.signature.0.digest));
        assert_eq!(again.referrers(&s.image.0, None).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_refused_push_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let layout = OciLayout::create(dir.path()).await.unwrap();
        let before = files_under(dir.path());
        let blob = Descriptor::for_content(media_types::OCI_LAYER_TAR, b"the real bytes");
        for wrong in [&b"the fake bytes"[..], b"the real bytes and more", b"short"] {
            let err = layout.push(&blob, stream_of(wrong)).await.unwrap_err();
            assert!(matches!(err, ContentError::Mismatch { .. }), "{err}");
        }
        let not_a_manifest = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, b"{}");
        let err = layout.push(&not_a_manifest, stream_of(&b"{}"[..])).await.unwrap_err();
        assert!(matches!(err, ContentError::Refused { .. }), "{err}");
        assert_eq!(files_under(dir.path()), before, "no blob, temporary file or index change remains");
        assert!(!layout.exists(&blob).await.unwrap());
        assert!(matches!(layout.fetch(&blob).await, Err(ContentError::NotFound { .. })));
        assert!(matches!(layout.tag(&blob, "v1").await, Err(ContentError::Refused { .. })));
    }

    #[tokio::test]
    async fn open_refuses_what_is_not_a_version_1_layout() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(matches!(OciLayout::open(&missing).await, Err(ContentError::Io { .. })));
        std::fs::write(dir.path().join(INDEX_FILE), r#"{"schemaVersion":2,"manifests":[]}"#).unwrap();
        let err = OciLayout::open(dir.path()).await.unwrap_err();
        assert!(err.to_string().contains("oci-layout is missing"), "{err}");
        std::fs::write(dir.path().join(LAYOUT_FILE), r#"{"imageLayoutVersion":"2.0.0"}"#).unwrap();
        let err = OciLayout::open(dir.path()).await.unwrap_err();
        assert!(err.to_string().contains("unsupported imageLayoutVersion"), "{err}");
        assert!(OciLayout::create(dir.path()).await.is_err(), "create does not overwrite a foreign version");
        std::fs::write(dir.path().join(LAYOUT_FILE), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        std::fs::write(dir.path().join(INDEX_FILE), r#"{"schemaVersion":2,"config":{}}"#).unwrap();
        let err = OciLayout::open(dir.path()).await.unwrap_err();
        assert!(matches!(err, ContentError::Malformed { .. }), "{err}");
        std::fs::remove_file(dir.path().join(INDEX_FILE)).unwrap();
        assert!(OciLayout::open(dir.path()).await.is_err(), "open does not create index.json");
        let created = OciLayout::create(dir.path()).await.unwrap();
        assert!(created.index_entries().await.is_empty());
        assert!(dir.path().join(BLOBS_DIR).is_dir());
    }

    #[tokio::test]
    async fn resolves_full_ref_names_and_unlisted_manifests_and_refuses_bad_digests() {
        let dir = tempfile::tempdir().unwrap();
        let layout = OciLayout::create(dir.path()).await.unwrap();
        let s = sample("c");
        push_sample(&layout, &s).await;
        // A layout written by a tool that puts the full reference in the ref name.
        let mut entry = s.image.0.clone();
        entry.annotations.insert(String::from(REF_NAME_ANNOTATION), String::from("example.com:5000/app:v2"));
        let mut index = ImageIndex::new(vec![entry]);
        index.annotations.insert(String::from("kept"), String::from("yes"));
        std::fs::write(dir.path().join(INDEX_FILE), index.to_json_bytes().unwrap()).unwrap();
        let layout = OciLayout::open(dir.path()).await.unwrap();
        assert_eq!(layout.resolve("v2").await.unwrap().digest, s.image.0.digest);
        assert_eq!(layout.resolve("example.com:5000/app:v2").await.unwrap().digest, s.image.0.digest);
        assert!(matches!(layout.resolve("v3").await, Err(ContentError::NotFound { .. })));
        // The signature is not listed any more, but its blob is there: resolving its digest reads it.
        assert_eq!(layout.resolve(&s.signature.0.digest.to_string()).await.unwrap(), s.signature.0);
        let layer = &s.blobs[1].0;
        assert!(matches!(layout.resolve(&layer.digest.to_string()).await, Err(ContentError::NotFound { .. })));
        assert!(matches!(layout.resolve("sha256:../../etc/passwd").await, Err(ContentError::Oci(_))));
        assert!(matches!(layout.resolve("../../etc/passwd").await, Err(ContentError::Oci(_))));
        // A push rewrites index.json and keeps the index's own annotations.
        layout.push(&s.signature.0, stream_of(s.signature.1.clone())).await.unwrap();
        let written = std::fs::read_to_string(dir.path().join(INDEX_FILE)).unwrap();
        assert!(written.contains(r#""kept":"yes""#), "{written}");
    }

    #[tokio::test]
    async fn delete_keeps_index_json_consistent() {
        let dir = tempfile::tempdir().unwrap();
        let layout = OciLayout::create(dir.path()).await.unwrap();
        let s = sample("d");
        push_sample(&layout, &s).await;
        layout.tag(&s.image.0, "v1").await.unwrap();
        layout.delete(&s.signature.0).await.unwrap();
        assert!(layout.referrers(&s.image.0, None).await.unwrap().is_empty());
        assert!(matches!(layout.delete(&s.signature.0).await, Err(ContentError::NotFound { .. })));
        layout.delete(&s.image.0).await.unwrap();
        assert!(layout.index_entries().await.is_empty());
        assert!(!blob_path(dir.path(), &s.image.0.digest).exists());
        let reopened = OciLayout::open(dir.path()).await.unwrap();
        assert!(reopened.index_entries().await.is_empty());
        assert!(matches!(reopened.resolve("v1").await, Err(ContentError::NotFound { .. })));
    }

    #[tokio::test]
    async fn fetch_refuses_a_blob_file_of_the_wrong_size() {
        let dir = tempfile::tempdir().unwrap();
        let layout = OciLayout::create(dir.path()).await.unwrap();
        let blob = Descriptor::for_content(media_types::OCI_LAYER_TAR, b"twelve bytes");
        layout.push(&blob, stream_of(&b"twelve bytes"[..])).await.unwrap();
        std::fs::write(blob_path(dir.path(), &blob.digest), b"truncated").unwrap();
        assert!(!layout.exists(&blob).await.unwrap(), "a blob of the wrong size is not the content asked for");
        assert!(matches!(layout.fetch(&blob).await, Err(ContentError::Mismatch { .. })));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_pushes_keep_index_json_valid() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Arc::new(OciLayout::create(dir.path()).await.unwrap());
        let samples: Vec<Arc<Sample>> = (0..24).map(|i| Arc::new(sample(&format!("concurrent {i}")))).collect();
        let mut tasks = Vec::new();
        for (i, s) in samples.iter().enumerate() {
            let (layout, s) = (layout.clone(), s.clone());
            tasks.push(tokio::spawn(async move {
                push_sample(&layout, &s).await;
                layout.tag(&s.image.0, &format!("t{i}")).await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let reopened = OciLayout::open(dir.path()).await.unwrap();
        let entries = reopened.index_entries().await;
        assert_eq!(entries.len(), 48, "every image tagged once and every signature listed once");
        for (i, s) in samples.iter().enumerate() {
            assert_eq!(reopened.resolve(&format!("t{i}")).await.unwrap(), s.image.0);
            let referrers = reopened.referrers(&s.image.0, None).await.unwrap();
            assert_eq!(referrers.iter().map(|r| &r.digest).collect::<Vec<_>>(), vec![&s.signature.0.digest]);
        }
        let leftovers: Vec<_> = files_under(&dir.path().join(BLOBS_DIR))
            .into_iter()
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
