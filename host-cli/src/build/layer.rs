//! Layer blobs: a directory written as a reproducible gzip tar layer, and an existing tar layer (from a
//! `docker save` tarball) checked and gzip-compressed.
//!
//! Reproducible means the bytes depend only on the tree's names, contents, modes and symlink targets: entries are
//! sorted by name, owners are 0:0 with no user or group names, mtimes are clamped (see
//! [`BuildOptions::clamp_mtime`]), long names use PAX `path`/`linkpath` records, and the gzip stream has a fixed
//! level, no name and mtime 0 in its header. The compressor is flate2's pure-Rust backend, pinned by `Cargo.lock`,
//! so the compressed bytes are stable too.

use std::ffi::OsStr;
use std::fs::{self, File, Metadata};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use nv2_core::oci::{media_types, Descriptor, Digest};
use tar::{EntryType, Header};

use super::digesting::{DigestingWriter, TeeReader};
use super::error::BuildError;
use super::image::BlobSource;
use super::options::BuildOptions;
use super::spool::Spool;

/// gzip level of every layer nv2 writes (flate2's default; fixed so output never changes with a library default).
const GZIP_LEVEL: u32 = 6;

/// "Unknown" operating system byte of the gzip header, so the host does not leak into the bytes.
const GZIP_OS_UNKNOWN: u8 = 255;

/// The longest name a plain tar header holds; longer names get a PAX record.
const TAR_NAME_FIELD: usize = 100;

/// A layer blob and what a config and a manifest need to know about it.
#[derive(Clone, Debug)]
pub(crate) struct LayerBlob {
    /// The compressed blob's descriptor (`application/vnd.oci.image.layer.v1.tar+gzip`).
    pub(crate) descriptor: Descriptor,
    /// The digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub(crate) diff_id: Digest,
    /// The compressed bytes.
    pub(crate) source: BlobSource,
}

/// A converted layer, plus the digest of the bytes as the input held them (uncompressed or gzip).
pub(crate) struct ConvertedLayer {
    /// The layer.
    pub(crate) layer: LayerBlob,
    /// The digest of the input bytes, to check against a `blobs/sha256/<hex>` entry name.
    pub(crate) input_digest: Digest,
}

/// A gzip encoder with nv2's fixed settings.
fn gzip_encoder<W: Write>(inner: W) -> GzEncoder<W> {
    GzBuilder::new().mtime(0).operating_system(GZIP_OS_UNKNOWN).write(inner, Compression::new(GZIP_LEVEL))
}

/// Writes the tree under `root` (not `root` itself) as one reproducible gzip layer.
pub(crate) fn directory_layer(root: &Path, options: &BuildOptions) -> Result<LayerBlob, BuildError> {
    let entries = walk(root)?;
    let mut builder = tar::Builder::new(DigestingWriter::new(gzip_encoder(Spool::new())));
    for entry in &entries {
        append_entry(&mut builder, entry, options)?;
    }
    let spool_error = |e| BuildError::io("temporary layer file", e);
    let tar = builder.into_inner().map_err(spool_error)?;
    let (encoder, diff_id, _) = tar.finish();
    let (digest, size, source) = encoder.finish().and_then(Spool::finish).map_err(spool_error)?;
    let descriptor = Descriptor::new(media_types::OCI_LAYER_TAR_GZIP, digest, size);
    Ok(LayerBlob { descriptor, diff_id, source })
}

/// One thing found under the build root.
struct TreeEntry {
    /// Its name in the layer: the path below the root, `/`-separated, as raw bytes.
    name: Vec<u8>,
    /// Where it is on disk.
    path: PathBuf,
    /// Its own metadata (never a symlink's target's).
    metadata: Metadata,
}

/// Every entry under `root`, sorted by name bytes (a parent sorts before its children). Symlinks are recorded,
/// never followed; sockets, FIFOs and devices are refused.
fn walk(root: &Path) -> Result<Vec<TreeEntry>, BuildError> {
    let root_metadata = fs::metadata(root).map_err(|e| BuildError::io(root.display(), e))?;
    if !root_metadata.is_dir() {
        return Err(BuildError::NotADirectory { path: root.display().to_string() });
    }
    let mut entries = Vec::new();
    let mut pending = vec![(root.to_path_buf(), Vec::new())];
    while let Some((dir, prefix)) = pending.pop() {
        let listing = fs::read_dir(&dir).map_err(|e| BuildError::io(dir.display(), e))?;
        for item in listing {
            let item = item.map_err(|e| BuildError::io(dir.display(), e))?;
            let path = item.path();
            let metadata = fs::symlink_metadata(&path).map_err(|e| BuildError::io(path.display(), e))?;
            if let Some(kind) = special_kind(&metadata) {
                return Err(BuildError::SpecialFile { path: path.display().to_string(), kind });
            }
            let mut name = prefix.clone();
            if !name.is_empty() {
                name.push(b'/');
            }
            name.extend_from_slice(&name_bytes(&item.file_name()));
            if metadata.is_dir() {
                pending.push((path.clone(), name.clone()));
            }
            entries.push(TreeEntry { name, path, metadata });
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// Appends one entry with its header normalised.
fn append_entry<W: Write>(
    builder: &mut tar::Builder<W>,
    entry: &TreeEntry,
    options: &BuildOptions,
) -> Result<(), BuildError> {
    let shown = || entry.path.display().to_string();
    let file_type = entry.metadata.file_type();
    let mut header = Header::new_ustar();
    header.set_uid(0);
    header.set_gid(0);
    header.set_mode(mode_of(&entry.metadata));
    header.set_mtime(options.clamp_mtime(mtime_of(&entry.metadata)));
    if file_type.is_dir() {
        let mut name = entry.name.clone();
        name.push(b'/');
        header.set_entry_type(EntryType::Directory);
        header.set_size(0);
        write_names(builder, &mut header, &name, None).map_err(|e| BuildError::io(shown(), e))?;
        builder.append(&header, io::empty()).map_err(|e| BuildError::io(shown(), e))
    } else if file_type.is_symlink() {
        let target = fs::read_link(&entry.path).map_err(|e| BuildError::io(shown(), e))?;
        header.set_entry_type(EntryType::Symlink);
        header.set_size(0);
        write_names(builder, &mut header, &entry.name, Some(&name_bytes(target.as_os_str())))
            .map_err(|e| BuildError::io(shown(), e))?;
        builder.append(&header, io::empty()).map_err(|e| BuildError::io(shown(), e))
    } else {
        let size = entry.metadata.len();
        let file = File::open(&entry.path).map_err(|e| BuildError::io(shown(), e))?;
        let opened = file.metadata().map_err(|e| BuildError::io(shown(), e))?;
        if !opened.is_file() || opened.len() != size {
            return Err(BuildError::ChangedDuringBuild {
                path: shown(),
                reason: String::from("it is no longer the regular file of the same size that was listed"),
            });
        }
        header.set_entry_type(EntryType::Regular);
        header.set_size(size);
        write_names(builder, &mut header, &entry.name, None).map_err(|e| BuildError::io(shown(), e))?;
        let mut content = ExactReader { inner: file.take(size), remaining: size };
        builder.append(&header, &mut content).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                BuildError::ChangedDuringBuild { path: shown(), reason: String::from("it shrank while being read") }
            }
            _ => BuildError::io(shown(), e),
        })
    }
}

/// Puts `name` (and a symlink's `link`) into the header, preceded by a PAX record when either is too long for it.
fn write_names<W: Write>(
    builder: &mut tar::Builder<W>,
    header: &mut Header,
    name: &[u8],
    link: Option<&[u8]>,
) -> io::Result<()> {
    let mut records: Vec<(&str, &[u8])> = Vec::new();
    if name.len() > TAR_NAME_FIELD {
        records.push(("path", name));
    }
    if let Some(link) = link.filter(|link| link.len() > TAR_NAME_FIELD) {
        records.push(("linkpath", link));
    }
    if !records.is_empty() {
        builder.append_pax_extensions(records)?;
    }
    let old = header.as_old_mut();
    copy_truncated(&mut old.name, name);
    if let Some(link) = link {
        copy_truncated(&mut old.linkname, link);
    }
    header.set_cksum();
    Ok(())
}

/// Copies as much of `value` as fits (the PAX record carries the full value when it does not).
fn copy_truncated(field: &mut [u8], value: &[u8]) {
    for (slot, byte) in field.iter_mut().zip(value.iter().chain(std::iter::repeat(&0))) {
        *slot = *byte;
    }
}

/// Reads exactly `remaining` bytes or fails with `UnexpectedEof`: the tar header already promised the size.
struct ExactReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for ExactReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if read == 0 && self.remaining > 0 && !buf.is_empty() {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "file shrank while being read"));
        }
        self.remaining = self.remaining.saturating_sub(read as u64);
        Ok(read)
    }
}

/// Converts a tar layer from an input: checks it is a tar whose entries stay inside the root, computes its diff_id
/// and gzip-compresses it (a layer that is gzip already is kept byte for byte). `name` names it in errors.
pub(crate) fn convert_layer<R: Read>(name: &str, input: R) -> Result<ConvertedLayer, BuildError> {
    let mut input = BufReader::with_capacity(256 << 10, input);
    let malformed = |reason: String| BuildError::MalformedLayer { layer: name.to_string(), reason };
    let head = input.fill_buf().map_err(|e| malformed(e.to_string()))?;
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(malformed(String::from("zstd-compressed layers are not supported; use gzip or none")));
    }
    if head.starts_with(&[0x1f, 0x8b]) {
        let raw = TeeReader::new(input, Spool::new());
        let plain = check_tar(name, TeeReader::new(MultiGzDecoder::new(raw), io::sink()))?;
        let (decoder, _, diff_id, _) = plain.drain().map_err(|e| malformed(e.to_string()))?;
        let (_, spool, input_digest, _) = decoder.into_inner().drain().map_err(|e| malformed(e.to_string()))?;
        let (digest, size, source) = spool.finish().map_err(|e| BuildError::io("temporary layer file", e))?;
        let descriptor = Descriptor::new(media_types::OCI_LAYER_TAR_GZIP, digest, size);
        return Ok(ConvertedLayer { layer: LayerBlob { descriptor, diff_id, source }, input_digest });
    }
    let plain = check_tar(name, TeeReader::new(input, gzip_encoder(Spool::new())))?;
    let (_, encoder, diff_id, _) = plain.drain().map_err(|e| malformed(e.to_string()))?;
    let (digest, size, source) =
        encoder.finish().and_then(Spool::finish).map_err(|e| BuildError::io("temporary layer file", e))?;
    let descriptor = Descriptor::new(media_types::OCI_LAYER_TAR_GZIP, digest, size);
    Ok(ConvertedLayer { layer: LayerBlob { descriptor, diff_id: diff_id.clone(), source }, input_digest: diff_id })
}

/// Reads `reader` as a tar archive up to its end marker, refusing entries (and hard link targets) with a `..`
/// component, and hands the reader back positioned after the end marker.
fn check_tar<R: Read>(name: &str, reader: R) -> Result<R, BuildError> {
    let malformed = |e: io::Error| BuildError::MalformedLayer { layer: name.to_string(), reason: e.to_string() };
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries().map_err(malformed)? {
        let entry = entry.map_err(malformed)?;
        let path = entry.path_bytes();
        let link = match entry.header().entry_type() {
            EntryType::Link => entry.link_name_bytes(),
            _ => None,
        };
        for checked in std::iter::once(&path).chain(link.as_ref()) {
            if escapes_root(checked) {
                return Err(BuildError::PathTraversal {
                    container: format!("layer {name}"),
                    entry: String::from_utf8_lossy(checked).into_owned(),
                });
            }
        }
    }
    Ok(archive.into_inner())
}

/// Whether a `/`-separated name has a `..` component (would land outside the directory it is extracted into).
pub(crate) fn escapes_root(name: &[u8]) -> bool {
    name.split(|b| *b == b'/').any(|component| component == b"..")
}

/// What kind of special file `metadata` describes, if it is one.
fn special_kind(metadata: &Metadata) -> Option<&'static str> {
    let file_type = metadata.file_type();
    if file_type.is_file() || file_type.is_dir() || file_type.is_symlink() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_socket() {
            return Some("socket");
        }
        if file_type.is_fifo() {
            return Some("FIFO");
        }
        if file_type.is_block_device() {
            return Some("block device");
        }
        if file_type.is_char_device() {
            return Some("character device");
        }
    }
    Some("special file")
}

/// A file name as raw bytes (names need not be UTF-8 on Unix).
fn name_bytes(name: &OsStr) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        name.as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        name.to_string_lossy().replace('\\', "/").into_bytes()
    }
}

/// Permission bits (with setuid, setgid and sticky), as the tree has them.
fn mode_of(metadata: &Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        match metadata.is_dir() {
            true => 0o755,
            false => 0o644,
        }
    }
}

/// Modification time in whole seconds since the epoch (0 for times before it or unreadable ones).
fn mtime_of(metadata: &Metadata) -> u64 {
    metadata.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotdot_components_escape_and_lookalikes_do_not() {
        for bad in [&b"../x"[..], b"a/../../x", b"a/..", b".."] {
            assert!(escapes_root(bad), "{}", String::from_utf8_lossy(bad));
        }
        for good in [&b"a/..b"[..], b"...", b"a/b..", b"./a", b"/abs"] {
            assert!(!escapes_root(good), "{}", String::from_utf8_lossy(good));
        }
    }

    #[test]
    fn converting_refuses_non_tar_and_zstd_input() {
        assert!(matches!(
            convert_layer("x", &[0x28, 0xb5, 0x2f, 0xfd, 0, 0][..]),
            Err(BuildError::MalformedLayer { ref reason, .. }) if reason.contains("zstd")
        ));
        let garbage = vec![b'x'; 1024];
        assert!(matches!(convert_layer("x", &garbage[..]), Err(BuildError::MalformedLayer { .. })));
    }
}
