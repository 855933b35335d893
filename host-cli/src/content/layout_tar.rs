//! An OCI image layout packed in a tar file: what `nv2 export`/`import`, `oras backup`/`restore`, `oras --oci-layout
//! x.tar` and `skopeo oci-archive:` read and write.
//!
//! Reading extracts the archive (plain or gzip-compressed, sniffed from its first bytes) into a private staging
//! directory and serves it as an [`OciLayout`]. Extraction trusts nothing in the archive: absolute paths, `..`,
//! links, devices and other special entries are refused, only `oci-layout`, `index.json` and `blobs/<alg>/<hex>`
//! are written (at paths built from those names, never from the archive's text), other top-level files such as
//! the `manifest.json` docker adds beside its layout are skipped, and the total size and entry count are bounded.
//!
//! Writing stages a layout in a directory next to the target; [`OciLayoutTar::finish`] then writes the tar to a
//! temporary file and renames it over the target, so a reader never sees half an archive. Entries come in a fixed
//! order with mtime 0, owner 0 and index.json in a canonical order, so the same content always gives the same
//! archive bytes.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use nv2_core::limits::MAX_MANIFEST_BYTES;
use nv2_core::oci::{Descriptor, Digest, DigestAlgorithm, ParsedManifest};
use tar::{EntryType, Header};

use super::layout::{
    blocking, digest_of_blob_file, OciLayout, BLOBS_DIR, INDEX_FILE, LAYOUT_FILE, REF_NAME_ANNOTATION,
};
use super::{ByteStream, ContentError, ContentStore};

/// Default bound on the bytes an archive may unpack to.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 64 << 30;
/// Default bound on the entries an archive may hold.
pub const DEFAULT_MAX_ENTRIES: u64 = 1_000_000;

/// gzip's magic bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bounds and placement for reading an archive.
#[derive(Clone, Debug)]
pub struct TarOptions {
    /// Most bytes the entries may add up to (their declared sizes, skipped entries included).
    pub max_total_bytes: u64,
    /// Most entries the archive may hold.
    pub max_entries: u64,
    /// Where the staging directory is made (default: the system temporary directory).
    pub staging_parent: Option<PathBuf>,
}

impl Default for TarOptions {
    fn default() -> Self {
        TarOptions { max_total_bytes: DEFAULT_MAX_TOTAL_BYTES, max_entries: DEFAULT_MAX_ENTRIES, staging_parent: None }
    }
}

/// An OCI layout tar archive, staged in a private directory while in use.
#[derive(Debug)]
pub struct OciLayoutTar {
    layout: OciLayout,
    path: PathBuf,
    staging: tempfile::TempDir,
    /// Whether [`OciLayoutTar::finish`] has anything to write: always for a new archive, after a change for an
    /// opened one.
    dirty: AtomicBool,
}

impl OciLayoutTar {
    /// Opens the archive at `path` with the default bounds. Changes made through the store are written back to
    /// `path` by [`OciLayoutTar::finish`], and dropped without it.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, ContentError> {
        Self::open_with(path, TarOptions::default()).await
    }

    /// Opens the archive at `path`, extracting it within `options`' bounds.
    pub async fn open_with(path: impl AsRef<Path>, options: TarOptions) -> Result<Self, ContentError> {
        let path = path.as_ref().to_path_buf();
        let name = store_name(&path);
        let staging_parent = options.staging_parent.clone().unwrap_or_else(std::env::temp_dir);
        let staging = blocking(&staging_parent, {
            let staging_parent = staging_parent.clone();
            move || tempfile::Builder::new().prefix(".nv2-layout-").tempdir_in(&staging_parent)
        })
        .await?;
        let extraction = {
            let (path, root, name) = (path.clone(), staging.path().to_path_buf(), name.clone());
            tokio::task::spawn_blocking(move || extract(&path, &root, &name, &options))
        };
        extraction
            .await
            .map_err(|e| ContentError::Io { path: path.display().to_string(), source: io::Error::other(e) })??;
        let layout = OciLayout::open_named(staging.path().to_path_buf(), name).await?;
        Ok(OciLayoutTar { layout, path, staging, dirty: AtomicBool::new(false) })
    }

    /// Starts a new archive to be written at `path` by [`OciLayoutTar::finish`] (replacing any file there); until
    /// then the layout is staged in a directory next to `path`.
    pub async fn create(path: impl AsRef<Path>) -> Result<Self, ContentError> {
        let path = path.as_ref().to_path_buf();
        let name = store_name(&path);
        let parent = parent_dir(&path);
        let staging = blocking(&parent, {
            let parent = parent.clone();
            move || tempfile::Builder::new().prefix(".nv2-layout-").tempdir_in(&parent)
        })
        .await?;
        let layout = OciLayout::create_named(staging.path().to_path_buf(), name).await?;
        Ok(OciLayoutTar { layout, path, staging, dirty: AtomicBool::new(true) })
    }

    /// Writes the archive to its path atomically (nothing to do for an opened archive that was not changed) and
    /// removes the staging directory.
    pub async fn finish(self) -> Result<(), ContentError> {
        let OciLayoutTar { layout, path, staging, dirty } = self;
        drop(layout);
        if !dirty.load(Ordering::SeqCst) {
            return Ok(());
        }
        let shown = path.clone();
        blocking(&shown, move || {
            write_archive(staging.path(), &path)?;
            staging.close()
        })
        .await
    }

    /// The archive's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The staged layout, for what only the layout offers (its index entries and tags).
    pub fn layout(&self) -> &OciLayout {
        &self.layout
    }

    fn changed<T>(&self, result: Result<T, ContentError>) -> Result<T, ContentError> {
        if result.is_ok() {
            self.dirty.store(true, Ordering::SeqCst);
        }
        result
    }
}

#[async_trait]
impl ContentStore for OciLayoutTar {
    fn name(&self) -> String {
        self.layout.name()
    }

    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        self.layout.resolve(reference).await
    }

    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        self.layout.resolve_blob(digest).await
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        self.layout.exists(descriptor).await
    }

    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        self.layout.fetch(descriptor).await
    }

    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        let result = self.layout.push(descriptor, content).await;
        self.changed(result)
    }

    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        let result = self.layout.tag(descriptor, tag).await;
        self.changed(result)
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        self.layout.referrers(subject, artifact_type).await
    }

    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        let result = self.layout.delete(descriptor).await;
        self.changed(result)
    }
}

/// `oci-layout-tar:<path>`.
fn store_name(path: &Path) -> String {
    format!("oci-layout-tar:{}", path.display())
}

/// The directory a file is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Largest GNU long-name or PAX extended header accepted (tar-rs reads them into memory; real ones are a few
/// hundred bytes).
const MAX_EXTENSION_BYTES: u64 = 1024 * 1024;

/// The entry count and byte totals of an archive, checked against [`TarOptions`].
struct Budget<'a> {
    shown: &'a str,
    options: &'a TarOptions,
    entries: u64,
    bytes: u64,
}

/// A failed header check: over a bound, or an archive tar-rs cannot read.
enum HeaderError {
    Refused(ContentError),
    Unreadable(io::Error),
}

impl HeaderError {
    fn or_else(self, unreadable: impl FnOnce(io::Error) -> ContentError) -> ContentError {
        match self {
            HeaderError::Refused(e) => e,
            HeaderError::Unreadable(e) => unreadable(e),
        }
    }
}

impl<'a> Budget<'a> {
    fn new(shown: &'a str, options: &'a TarOptions) -> Self {
        Budget { shown, options, entries: 0, bytes: 0 }
    }

    /// Walks raw headers (data skipped, never read into memory), charging each one.
    fn check_headers<R: Read>(&mut self, entries: tar::Entries<'_, R>) -> Result<(), HeaderError> {
        for entry in entries {
            let entry = entry.map_err(HeaderError::Unreadable)?;
            let kind = entry.header().entry_type();
            let size = entry.size();
            let extension = kind.is_gnu_longname()
                || kind.is_gnu_longlink()
                || kind.is_pax_local_extensions()
                || kind.is_pax_global_extensions();
            if extension && size > MAX_EXTENSION_BYTES {
                return Err(HeaderError::Refused(ContentError::TooLarge {
                    what: format!("{} (an extended header)", self.shown),
                    size,
                    limit: MAX_EXTENSION_BYTES,
                }));
            }
            self.charge(size).map_err(HeaderError::Refused)?;
        }
        Ok(())
    }

    /// Counts one entry of `size` bytes.
    fn charge(&mut self, size: u64) -> Result<(), ContentError> {
        self.entries += 1;
        if self.entries > self.options.max_entries {
            return Err(ContentError::TooLarge {
                what: format!("{} (entries)", self.shown),
                size: self.entries,
                limit: self.options.max_entries,
            });
        }
        self.bytes = self.bytes.saturating_add(size);
        if self.bytes > self.options.max_total_bytes {
            return Err(ContentError::TooLarge {
                what: format!("{} (unpacked bytes)", self.shown),
                size: self.bytes,
                limit: self.options.max_total_bytes,
            });
        }
        Ok(())
    }
}

/// Where an archive entry goes in the staged layout.
enum Destination {
    /// `oci-layout` or `index.json`.
    LayoutFile(&'static str),
    /// `blobs/<alg>/<hex>`.
    Blob(&'static str, String),
    /// Not part of the layout (directories, docker's `manifest.json`, blobs of algorithms nv2 does not read).
    Skip,
}

/// Unpacks the archive at `path` into `root`, refusing anything unsafe (see the module doc).
///
/// Two passes over the one open file: the first reads only headers, in raw mode, so the entry count, the total
/// size and the size of every extended header (GNU long names, PAX records: tar-rs reads those into memory) are
/// checked before anything is read into memory or written; the second unpacks.
fn extract(path: &Path, root: &Path, name: &str, options: &TarOptions) -> Result<(), ContentError> {
    let shown = path.display().to_string();
    let io_error = |source: io::Error| ContentError::Io { path: shown.clone(), source };
    let malformed = |reason: String| ContentError::Malformed { store: name.to_string(), reason };
    let not_tar = |e: io::Error| malformed(format!("not a readable tar archive: {e}"));
    let file = File::open(path).map_err(io_error)?;
    let compressed = BufReader::new(&file).fill_buf().map_err(io_error)?.starts_with(&GZIP_MAGIC);
    let rewind = || (&file).seek(SeekFrom::Start(0)).map_err(io_error);

    rewind()?;
    let mut budget = Budget::new(&shown, options);
    if compressed {
        let mut archive = tar::Archive::new(flate2::bufread::MultiGzDecoder::new(BufReader::new(&file)));
        budget.check_headers(archive.entries().map_err(not_tar)?.raw(true)).map_err(|e| e.or_else(not_tar))?;
    } else {
        let mut archive = tar::Archive::new(BufReader::new(&file));
        budget
            .check_headers(archive.entries_with_seek().map_err(not_tar)?.raw(true))
            .map_err(|e| e.or_else(not_tar))?;
    }

    rewind()?;
    let reader: Box<dyn Read + '_> = if compressed {
        Box::new(flate2::bufread::MultiGzDecoder::new(BufReader::new(&file)))
    } else {
        Box::new(BufReader::new(&file))
    };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        let size = entry.size();
        let raw_path = entry.path_bytes().into_owned();
        let shown_entry = String::from_utf8_lossy(&raw_path).into_owned();
        let components = safe_components(&raw_path).map_err(|why| malformed(format!("entry {shown_entry:?} {why}")))?;
        let kind = entry.header().entry_type();
        let destination = if kind.is_dir() {
            Destination::Skip
        } else if kind.is_file() || kind.is_contiguous() {
            destination(&components).map_err(|why| malformed(format!("entry {shown_entry:?} {why}")))?
        } else {
            return Err(malformed(format!(
                "entry {shown_entry:?} is a {kind:?} entry; links, devices and other special files are refused"
            )));
        };
        let target = match destination {
            Destination::Skip => {
                if !kind.is_dir() {
                    tracing::debug!("{shown}: skipping {shown_entry:?}, not part of an OCI layout");
                }
                continue;
            }
            Destination::LayoutFile(file) => root.join(file),
            Destination::Blob(algorithm, hex) => {
                let dir = root.join(BLOBS_DIR).join(algorithm);
                std::fs::create_dir_all(&dir)
                    .map_err(|source| ContentError::Io { path: dir.display().to_string(), source })?;
                dir.join(hex)
            }
        };
        let mut out = File::create(&target).map_err(io_error)?;
        let copied = io::copy(&mut (&mut entry).take(size), &mut out).map_err(io_error)?;
        if copied != size {
            return Err(malformed(format!("entry {shown_entry:?} is truncated ({copied} of {size} bytes)")));
        }
    }
    Ok(())
}

/// The normal components of an entry path (`./` and empty components dropped), or why the path is refused.
fn safe_components(raw: &[u8]) -> Result<Vec<&str>, &'static str> {
    let text = std::str::from_utf8(raw).map_err(|_| "has a path that is not UTF-8")?;
    if text.starts_with('/') || text.starts_with('\\') {
        return Err("has an absolute path");
    }
    let mut components = Vec::new();
    for component in text.split('/') {
        match component {
            "" | "." => {}
            ".." => return Err("has a path with a '..' component"),
            _ if component.contains('\\') || component.contains(':') => {
                return Err("has a path with a '\\' or ':' in it");
            }
            _ => components.push(component),
        }
    }
    Ok(components)
}

/// Which layout file a regular-file entry is.
fn destination(components: &[&str]) -> Result<Destination, &'static str> {
    match components {
        [file] if *file == LAYOUT_FILE => Ok(Destination::LayoutFile(LAYOUT_FILE)),
        [file] if *file == INDEX_FILE => Ok(Destination::LayoutFile(INDEX_FILE)),
        [_] => Ok(Destination::Skip),
        [blobs, algorithm, hex] if *blobs == BLOBS_DIR => match DigestAlgorithm::from_name(algorithm) {
            None => Ok(Destination::Skip),
            Some(known) => match Digest::from_parts(known, hex) {
                Ok(digest) => Ok(Destination::Blob(known.name(), digest.hex().to_string())),
                Err(_) => Err("is not named by the hex digest of its algorithm"),
            },
        },
        _ => Err("is outside oci-layout, index.json and blobs/<alg>/<hex>"),
    }
}

/// Writes the layout staged at `root` as a tar archive at `target`: temp file next to it, fsync, rename.
fn write_archive(root: &Path, target: &Path) -> io::Result<()> {
    let parent = parent_dir(target);
    let temp = tempfile::Builder::new().prefix(".nv2-").suffix(".tar.partial").tempfile_in(&parent)?;
    {
        let mut builder = tar::Builder::new(BufWriter::new(temp.as_file()));
        let marker = std::fs::read(root.join(LAYOUT_FILE))?;
        append(&mut builder, EntryType::Regular, LAYOUT_FILE, &marker)?;
        let index = canonical_index(&std::fs::read(root.join(INDEX_FILE))?)?;
        append(&mut builder, EntryType::Regular, INDEX_FILE, &index)?;
        append(&mut builder, EntryType::Directory, &format!("{BLOBS_DIR}/"), &[])?;
        for algorithm in [DigestAlgorithm::Sha256, DigestAlgorithm::Sha512] {
            let dir = root.join(BLOBS_DIR).join(algorithm.name());
            let mut names = match std::fs::read_dir(&dir) {
                Ok(listing) => listing
                    .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
                    .collect::<io::Result<Vec<String>>>()?,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            names.retain(|name| digest_of_blob_file(algorithm.name(), name).is_some());
            names.sort();
            append(&mut builder, EntryType::Directory, &format!("{BLOBS_DIR}/{}/", algorithm.name()), &[])?;
            for name in names {
                let mut file = File::open(dir.join(&name))?;
                let size = file.metadata()?.len();
                let mut header = header(EntryType::Regular, size);
                builder.append_data(&mut header, format!("{BLOBS_DIR}/{}/{name}", algorithm.name()), &mut file)?;
            }
        }
        builder.into_inner()?.flush()?;
    }
    temp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(temp.path(), std::fs::Permissions::from_mode(0o644))?;
    }
    temp.persist(target).map_err(|e| e.error)?;
    #[cfg(unix)]
    if let Ok(dir) = File::open(&parent) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// A header with everything that varies between machines and runs fixed: mtime 0, owner 0, no names.
fn header(kind: EntryType, size: u64) -> Header {
    let mut header = Header::new_gnu();
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}

fn append<W: Write>(builder: &mut tar::Builder<W>, kind: EntryType, path: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = header(kind, bytes.len() as u64);
    builder.append_data(&mut header, path, bytes)
}

/// index.json with its entries in a fixed order (tagged ones by tag, then untagged ones by digest), so pushes that
/// completed in a different order give the same archive.
fn canonical_index(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let invalid = |e: nv2_core::oci::OciError| io::Error::new(io::ErrorKind::InvalidData, format!("{INDEX_FILE}: {e}"));
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{INDEX_FILE} is too large")));
    }
    let parsed = ParsedManifest::parse(None, bytes).map_err(invalid)?;
    let Some(index) = parsed.as_image_index() else {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("{INDEX_FILE} is not an image index")));
    };
    let mut index = index.clone();
    index.manifests.sort_by(|a, b| {
        let key = |d: &Descriptor| {
            (
                !d.annotations.contains_key(REF_NAME_ANNOTATION),
                d.annotations.get(REF_NAME_ANNOTATION).cloned(),
                d.digest.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    index.to_json_bytes().map_err(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{fetch_all, stream_of};
    use nv2_core::oci::{media_types, ImageManifest};

    /// An image (config, layer) with one signature, as (descriptor, bytes) in push order.
    fn sample() -> Vec<(Descriptor, Vec<u8>)> {
        let config = b"{\"config\":true}".to_vec();
        let layer = b"layer bytes".to_vec();
        let config_desc = Descriptor::for_content(media_types::OCI_IMAGE_CONFIG, &config);
        let layer_desc = Descriptor::for_content(media_types::OCI_LAYER_TAR, &layer);
        let image = ImageManifest::new(config_desc.clone(), vec![layer_desc.clone()]).to_json_bytes().unwrap();
        let image_desc = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &image);
        let signature = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, vec![])
            .with_subject(image_desc.clone())
            .to_json_bytes()
            .unwrap();
        let signature_desc = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &signature);
        vec![
            (config_desc, config),
            (layer_desc, layer),
            (Descriptor::empty(), b"{}".to_vec()),
            (image_desc, image),
            (signature_desc, signature),
        ]
    }

    /// Writes the sample as an archive, pushing in reverse order when asked (index.json then lists the manifests
    /// in another order until the archive canonicalises it).
    async fn write_sample(path: &Path, reverse: bool) {
        let archive = OciLayoutTar::create(path).await.unwrap();
        let mut items = sample();
        if reverse {
            items.reverse();
        }
        for (descriptor, bytes) in &items {
            archive.push(descriptor, stream_of(bytes.clone())).await.unwrap();
        }
        let image = &sample()[3].0;
        archive.tag(image, "v1").await.unwrap();
        archive.finish().await.unwrap();
    }

    /// One raw entry: name, type, content, link target.
    type RawEntry<'a> = (&'a str, EntryType, &'a [u8], Option<&'a str>);

    /// A tar whose entries are written byte for byte (names included), so hostile archives can be built.
    fn raw_tar(entries: &[RawEntry<'_>]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data, link) in entries {
            let mut header = Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_entry_type(*kind);
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            if let Some(link) = link {
                header.set_link_name_literal(link).unwrap();
            }
            header.set_cksum();
            builder.append(&header, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    const MARKER: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
    const EMPTY_INDEX: &[u8] = br#"{"schemaVersion":2,"manifests":[]}"#;

    fn entries_of(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        names
    }

    #[tokio::test]
    async fn round_trip_is_deterministic_and_readable() {
        let dir = tempfile::tempdir().unwrap();
        let (first, second) = (dir.path().join("first.tar"), dir.path().join("second.tar"));
        write_sample(&first, false).await;
        write_sample(&second, true).await;
        assert_eq!(entries_of(dir.path()), vec!["first.tar", "second.tar"], "no staging or temporary files remain");
        let bytes = std::fs::read(&first).unwrap();
        assert_eq!(bytes, std::fs::read(&second).unwrap(), "same content, same archive bytes");

        let mut archive = tar::Archive::new(&bytes[..]);
        let mut names = Vec::new();
        for entry in archive.entries().unwrap() {
            let entry = entry.unwrap();
            assert_eq!(entry.header().mtime().unwrap(), 0);
            assert_eq!(entry.header().uid().unwrap(), 0);
            names.push(entry.path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(names[..4], ["oci-layout", "index.json", "blobs/", "blobs/sha256/"]);
        assert_eq!(names.len(), 4 + sample().len());

        let opened = OciLayoutTar::open(&first).await.unwrap();
        assert_eq!(opened.name(), format!("oci-layout-tar:{}", first.display()));
        let items = sample();
        assert_eq!(opened.resolve("v1").await.unwrap(), items[3].0);
        for (descriptor, content) in &items {
            assert_eq!(&fetch_all(&opened, descriptor, 1 << 20).await.unwrap(), content);
        }
        let referrers = opened.referrers(&items[3].0, None).await.unwrap();
        assert_eq!(referrers.iter().map(|r| &r.digest).collect::<Vec<_>>(), vec![&items[4].0.digest]);
    }

    #[tokio::test]
    async fn opened_archives_are_written_back_only_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.tar");
        write_sample(&path, false).await;
        let original = std::fs::read(&path).unwrap();
        OciLayoutTar::open(&path).await.unwrap().finish().await.unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), original);

        let opened = OciLayoutTar::open(&path).await.unwrap();
        let image = &sample()[3].0;
        opened.tag(image, "v2").await.unwrap();
        opened.finish().await.unwrap();
        let reopened = OciLayoutTar::open(&path).await.unwrap();
        assert_eq!(reopened.resolve("v2").await.unwrap(), *image);
        assert_eq!(reopened.layout().tags().await.len(), 2);

        // Dropped without finish: nothing is written.
        let unfinished = dir.path().join("unfinished.tar");
        let archive = OciLayoutTar::create(&unfinished).await.unwrap();
        archive.push(&Descriptor::empty(), stream_of(&b"{}"[..])).await.unwrap();
        drop(archive);
        assert_eq!(entries_of(dir.path()), vec!["image.tar"]);
    }

    #[tokio::test]
    async fn reads_gzip_compressed_archives_and_skips_foreign_top_level_files() {
        let dir = tempfile::tempdir().unwrap();
        let plain = raw_tar(&[
            ("manifest.json", EntryType::Regular, b"[]", None),
            ("./oci-layout", EntryType::Regular, MARKER, None),
            ("index.json", EntryType::Regular, EMPTY_INDEX, None),
            ("blobs/", EntryType::Directory, b"", None),
        ]);
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&plain).unwrap();
        let path = dir.path().join("image.tar.gz");
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let opened = OciLayoutTar::open(&path).await.unwrap();
        assert!(opened.layout().index_entries().await.is_empty());
        assert!(!opened.layout().root().join("manifest.json").exists());
    }

    #[tokio::test]
    async fn extraction_refuses_hostile_entries() {
        let dir = tempfile::tempdir().unwrap();
        let staging_parent = dir.path().join("staging");
        std::fs::create_dir(&staging_parent).unwrap();
        let blob = format!("blobs/sha256/{}", Descriptor::empty().digest.hex());
        let cases: Vec<(&str, RawEntry<'_>)> = vec![
            ("../evil", ("../evil", EntryType::Regular, b"x", None)),
            ("blobs/../../evil", ("blobs/../../evil", EntryType::Regular, b"x", None)),
            ("/tmp/nv2-evil", ("/tmp/nv2-evil", EntryType::Regular, b"x", None)),
            ("Symlink", (blob.as_str(), EntryType::Symlink, b"", Some("/etc/passwd"))),
            ("Link", (blob.as_str(), EntryType::Link, b"", Some("/etc/passwd"))),
            ("Char", ("blobs/sha256/x", EntryType::Char, b"", None)),
            ("Fifo", ("evil-fifo", EntryType::Fifo, b"", None)),
            ("etc/passwd", ("etc/passwd", EntryType::Regular, b"x", None)),
            ("blobs/sha256/not-hex", ("blobs/sha256/not-hex", EntryType::Regular, b"x", None)),
        ];
        let options = TarOptions { staging_parent: Some(staging_parent.clone()), ..TarOptions::default() };
        let path = dir.path().join("hostile.tar");
        for (named, hostile) in cases {
            // A valid layout around the hostile entry: the entry alone is why the archive is refused.
            let bytes = raw_tar(&[
                ("oci-layout", EntryType::Regular, MARKER, None),
                ("index.json", EntryType::Regular, EMPTY_INDEX, None),
                hostile,
            ]);
            std::fs::write(&path, &bytes).unwrap();
            let err = OciLayoutTar::open_with(&path, options.clone()).await.unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, ContentError::Malformed { .. }) && message.contains(named), "{named}: {message}");
            assert!(entries_of(&staging_parent).is_empty(), "{named}: the staging directory is removed");
        }
        std::fs::write(&path, b"this is not a tar archive at all, just text long enough to matter".repeat(20)).unwrap();
        let err = OciLayoutTar::open_with(&path, options).await.unwrap_err();
        assert!(err.to_string().contains("tar archive"), "{err}");
        assert!(!dir.path().join("evil").exists() && !Path::new("/tmp/nv2-evil").exists());
    }

    #[tokio::test]
    async fn extraction_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.tar");
        std::fs::write(
            &path,
            raw_tar(&[
                ("oci-layout", EntryType::Regular, MARKER, None),
                ("index.json", EntryType::Regular, EMPTY_INDEX, None),
                ("blobs/", EntryType::Directory, b"", None),
            ]),
        )
        .unwrap();
        let few = TarOptions { max_entries: 2, ..TarOptions::default() };
        assert!(matches!(OciLayoutTar::open_with(&path, few).await, Err(ContentError::TooLarge { .. })));
        let small = TarOptions { max_total_bytes: 40, ..TarOptions::default() };
        assert!(matches!(OciLayoutTar::open_with(&path, small).await, Err(ContentError::TooLarge { .. })));
        assert!(OciLayoutTar::open(&path).await.is_ok());

        // An oversized PAX record is refused before tar-rs would read it into memory, compressed or not.
        let pax = vec![b'a'; 2 * MAX_EXTENSION_BYTES as usize];
        let hostile = raw_tar(&[
            ("oci-layout", EntryType::Regular, MARKER, None),
            ("PaxHeaders/index.json", EntryType::XHeader, &pax, None),
            ("index.json", EntryType::Regular, EMPTY_INDEX, None),
        ]);
        std::fs::write(&path, &hostile).unwrap();
        let err = OciLayoutTar::open(&path).await.unwrap_err();
        assert!(matches!(&err, ContentError::TooLarge { what, .. } if what.contains("extended header")), "{err}");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&hostile).unwrap();
        std::fs::write(&path, encoder.finish().unwrap()).unwrap();
        let err = OciLayoutTar::open(&path).await.unwrap_err();
        assert!(matches!(&err, ContentError::TooLarge { what, .. } if what.contains("extended header")), "{err}");
    }
}
