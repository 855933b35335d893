//! The file tree an image's layers add up to, as a container would see it: layers applied in order, later entries
//! replacing earlier ones, whiteouts (`.wh.<name>`) and opaque directories (`.wh..wh..opq`) hiding what lower
//! layers had. Every regular file is measured (size, SHA-256, SHA-1) while it streams past; only the few files
//! package detection reads (dpkg and apk databases, Python metadata, npm `package.json`, `os-release`) are kept,
//! each bounded.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use sha1::Digest as _;

use super::error::SbomError;
use super::packages::{detect_packages, is_package_metadata, Package};

/// Largest package database or metadata file read (a big Debian `status` is a few MiB).
const MAX_METADATA_BYTES: u64 = 64 << 20;

/// Whiteout prefix (overlayfs convention of the image spec).
const WHITEOUT_PREFIX: &str = ".wh.";
/// Opaque-directory marker.
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";

/// One regular file of the image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageFile {
    /// Path from the image root, without a leading `/` (`etc/os-release`).
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// SHA-1 of the content, lowercase hex (SPDX 2.3 requires it for files).
    pub sha1: String,
}

/// What an image path holds after all layers.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// A regular file, with its content when package detection reads it.
    File { file: ImageFile, content: Option<Arc<Vec<u8>>> },
    /// A directory.
    Directory,
    /// A symbolic link (never followed).
    Symlink,
    /// A device, FIFO or other entry (listed nowhere).
    Other,
}

/// The files and packages of an image.
#[derive(Clone, Debug)]
pub struct ImageContents {
    nodes: BTreeMap<String, Node>,
    packages: Vec<Package>,
}

impl ImageContents {
    /// Applies `layers` (name for messages, reader of tar or gzip tar bytes), bottom layer first, and detects the
    /// packages of the result. Blocking: it reads and hashes every layer.
    pub fn scan<I, R>(layers: I) -> Result<Self, SbomError>
    where
        I: IntoIterator<Item = (String, R)>,
        R: Read,
    {
        let mut nodes = BTreeMap::new();
        for (name, reader) in layers {
            apply_layer(&mut nodes, &name, reader)?;
        }
        let packages = detect_packages(&nodes);
        Ok(ImageContents { nodes, packages })
    }

    /// Every regular file, sorted by path.
    pub fn files(&self) -> impl Iterator<Item = &ImageFile> {
        self.nodes.values().filter_map(|node| match node {
            Node::File { file, .. } => Some(file),
            _ => None,
        })
    }

    /// Whether the image has a regular file at `path` (no leading `/`).
    pub fn has_file(&self, path: &str) -> bool {
        matches!(self.nodes.get(path), Some(Node::File { .. }))
    }

    /// The packages detected, sorted by kind, name, version and location.
    pub fn packages(&self) -> &[Package] {
        &self.packages
    }
}

/// What one layer adds and removes, gathered before it is applied (a whiteout applies to lower layers only, wherever
/// it sits in the layer's tar).
#[derive(Default)]
struct LayerChanges {
    added: BTreeMap<String, Node>,
    whiteouts: Vec<String>,
    opaque: Vec<String>,
}

/// Reads one layer and applies it to `nodes`.
fn apply_layer<R: Read>(nodes: &mut BTreeMap<String, Node>, layer: &str, reader: R) -> Result<(), SbomError> {
    let malformed = |e: std::io::Error| SbomError::MalformedLayer { layer: layer.to_string(), reason: e.to_string() };
    let mut buffered = BufReader::with_capacity(256 << 10, reader);
    let head = buffered.fill_buf().map_err(malformed)?;
    if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        return Err(SbomError::MalformedLayer {
            layer: layer.to_string(),
            reason: String::from("zstd-compressed layers are not supported"),
        });
    }
    let stream: Box<dyn Read + '_> = match head.starts_with(&[0x1f, 0x8b]) {
        true => Box::new(MultiGzDecoder::new(buffered)),
        false => Box::new(buffered),
    };
    let mut archive = tar::Archive::new(stream);
    let mut changes = LayerChanges::default();
    for entry in archive.entries().map_err(malformed)? {
        let entry = entry.map_err(malformed)?;
        read_entry(nodes, &mut changes, layer, entry)?;
    }
    for dir in &changes.opaque {
        remove_below(nodes, dir);
    }
    for path in &changes.whiteouts {
        nodes.remove(path);
        remove_below(nodes, path);
    }
    for (path, node) in changes.added {
        if !matches!(node, Node::Directory) {
            remove_below(nodes, &path);
        }
        // An entry below what a lower layer had as a file makes that path a directory.
        let mut ancestor = path.as_str();
        while let Some((parent, _)) = ancestor.rsplit_once('/') {
            if nodes.get(parent).is_some_and(|n| !matches!(n, Node::Directory)) {
                nodes.insert(parent.to_string(), Node::Directory);
            }
            ancestor = parent;
        }
        nodes.insert(path, node);
    }
    Ok(())
}

/// Records one tar entry of a layer in `changes`.
fn read_entry<R: Read>(
    nodes: &BTreeMap<String, Node>,
    changes: &mut LayerChanges,
    layer: &str,
    mut entry: tar::Entry<'_, R>,
) -> Result<(), SbomError> {
    let raw = entry.path_bytes().into_owned();
    let Some(path) = clean_path(layer, &raw)? else { return Ok(()) };
    let (dir, file_name) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
    if file_name == OPAQUE_WHITEOUT {
        changes.opaque.push(dir.to_string());
        return Ok(());
    }
    if let Some(hidden) = file_name.strip_prefix(WHITEOUT_PREFIX) {
        changes.whiteouts.push(if dir.is_empty() { hidden.to_string() } else { format!("{dir}/{hidden}") });
        return Ok(());
    }
    let node = match entry.header().entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => measure(layer, &path, &mut entry)?,
        tar::EntryType::Directory => Node::Directory,
        tar::EntryType::Symlink => Node::Symlink,
        tar::EntryType::Link => {
            let target = entry.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
            let target = clean_path(layer, &target)?.unwrap_or_default();
            match changes.added.get(&target).or_else(|| nodes.get(&target)) {
                Some(Node::File { file, content }) => {
                    Node::File { file: ImageFile { path: path.clone(), ..file.clone() }, content: content.clone() }
                }
                _ => {
                    return Err(SbomError::MalformedLayer {
                        layer: layer.to_string(),
                        reason: format!("hard link {path} points at {target}, which is not a regular file"),
                    })
                }
            }
        }
        tar::EntryType::XGlobalHeader => return Ok(()),
        _ => Node::Other,
    };
    changes.added.insert(path, node);
    Ok(())
}

/// Hashes a regular file's content, keeping it when package detection reads it.
fn measure<R: Read>(layer: &str, path: &str, entry: &mut tar::Entry<'_, R>) -> Result<Node, SbomError> {
    let keep = is_package_metadata(path);
    let size = entry.header().size().unwrap_or(0);
    if keep && size > MAX_METADATA_BYTES {
        return Err(SbomError::TooLarge { what: format!("layer {layer}: {path}"), size, limit: MAX_METADATA_BYTES });
    }
    let mut sha256 = sha2::Sha256::new();
    let mut sha1 = sha1::Sha1::new();
    let mut content = Vec::new();
    let mut total = 0u64;
    let mut buffer = vec![0u8; 64 << 10];
    loop {
        let read = entry
            .read(&mut buffer)
            .map_err(|e| SbomError::MalformedLayer { layer: layer.to_string(), reason: format!("{path}: {e}") })?;
        let Some(chunk) = buffer.get(..read).filter(|chunk| !chunk.is_empty()) else { break };
        sha256.update(chunk);
        sha1.update(chunk);
        total += chunk.len() as u64;
        if keep {
            if total > MAX_METADATA_BYTES {
                return Err(SbomError::TooLarge {
                    what: format!("layer {layer}: {path}"),
                    size: total,
                    limit: MAX_METADATA_BYTES,
                });
            }
            content.extend_from_slice(chunk);
        }
    }
    let file =
        ImageFile { path: path.to_string(), size: total, sha256: hex(&sha256.finalize()), sha1: hex(&sha1.finalize()) };
    Ok(Node::File { file, content: keep.then(|| Arc::new(content)) })
}

/// An entry name as an image path: no leading `./` or `/`, no trailing `/`, no empty or `.` components; `None` for
/// the root itself. A `..` component is refused.
fn clean_path(layer: &str, raw: &[u8]) -> Result<Option<String>, SbomError> {
    let text = String::from_utf8_lossy(raw);
    let mut parts = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(SbomError::UnsafePath { layer: layer.to_string(), entry: text.into_owned() }),
            part => parts.push(part),
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

/// Removes everything strictly below directory `dir` (`""` is the root).
fn remove_below(nodes: &mut BTreeMap<String, Node>, dir: &str) {
    let prefix = if dir.is_empty() { String::new() } else { format!("{dir}/") };
    let doomed: Vec<String> =
        nodes.range(prefix.clone()..).take_while(|(k, _)| k.starts_with(&prefix)).map(|(k, _)| k.clone()).collect();
    for key in doomed {
        nodes.remove(&key);
    }
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_paths_and_refuses_dotdot() {
        assert_eq!(clean_path("l", b"./etc//passwd/").unwrap().as_deref(), Some("etc/passwd"));
        assert_eq!(clean_path("l", b"/abs/x").unwrap().as_deref(), Some("abs/x"));
        assert_eq!(clean_path("l", b"./").unwrap(), None);
        assert!(matches!(clean_path("l", b"a/../../x"), Err(SbomError::UnsafePath { .. })));
    }

    #[test]
    fn removes_only_what_is_below() {
        let mut nodes: BTreeMap<String, Node> =
            ["a", "a/b", "a/b/c", "a-b", "ab"].into_iter().map(|k| (k.to_string(), Node::Directory)).collect();
        remove_below(&mut nodes, "a");
        assert_eq!(nodes.keys().collect::<Vec<_>>(), ["a", "a-b", "ab"]);
        remove_below(&mut nodes, "");
        assert!(nodes.is_empty());
    }
}
