//! `nv2 build --from-oci-layout <dir>[:tag|@digest]`: an image already in an OCI image layout, taken as it is.
//!
//! The manifest (or index, with its children), config and layers are kept byte for byte, so the digest does not
//! change; every file is checked against its descriptor's size and digest. Blobs stay in the layout and are read
//! in place when pushed.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use nv2_core::limits::{MAX_JSON_DEPTH, MAX_MANIFEST_BYTES};
use nv2_core::oci::{media_types, validate_tag, Descriptor, Digest, Digester, ParsedManifest};

use super::error::BuildError;
use super::image::{BlobSource, BuiltBlob, BuiltImage};

/// The index.json annotation naming a manifest (its tag).
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Deepest nesting of indexes followed (an index of indexes of manifests is depth 2).
const MAX_DEPTH: usize = 8;

/// Splits `--from-oci-layout` text into the layout directory and the tag or digest after it: `dir:v1`,
/// `dir@sha256:…`, or plain `dir`. An existing directory whose name has a `:` is taken whole.
pub fn split_layout_argument(text: &str) -> (PathBuf, Option<String>) {
    if Path::new(text).is_dir() {
        return (PathBuf::from(text), None);
    }
    if let Some((dir, digest)) = text.rsplit_once('@') {
        if !dir.is_empty() && Digest::parse(digest).is_ok() {
            return (PathBuf::from(dir), Some(digest.to_string()));
        }
    }
    if let Some((dir, tag)) = text.rsplit_once(':') {
        if !dir.is_empty() && validate_tag(tag).is_ok() {
            return (PathBuf::from(dir), Some(tag.to_string()));
        }
    }
    (PathBuf::from(text), None)
}

/// Takes the image `reference` (a tag from index.json's `org.opencontainers.image.ref.name`, or a digest) names in
/// the layout at `layout`, or its only image when `reference` is `None`. Blocking: it hashes every blob.
pub fn build_from_oci_layout(layout: &Path, reference: Option<&str>) -> Result<BuiltImage, BuildError> {
    let mut walk = Walk {
        layout,
        shown: layout.display().to_string(),
        blobs: Vec::new(),
        manifests: Vec::new(),
        seen: BTreeSet::new(),
    };
    walk.check_layout_marker()?;
    let (root, tags) = walk.select(reference)?;
    walk.visit(&root, 0)?;
    Ok(BuiltImage { root, blobs: walk.blobs, manifests: walk.manifests, source_tags: tags })
}

/// A walk of one image graph in a layout, collecting its content children first.
struct Walk<'a> {
    layout: &'a Path,
    shown: String,
    blobs: Vec<BuiltBlob>,
    manifests: Vec<(Descriptor, Vec<u8>)>,
    seen: BTreeSet<Digest>,
}

impl Walk<'_> {
    fn malformed(&self, reason: String) -> BuildError {
        BuildError::OciLayout { layout: self.shown.clone(), reason }
    }

    /// The `oci-layout` file must be there and name a layout version.
    fn check_layout_marker(&self) -> Result<(), BuildError> {
        let path = self.layout.join("oci-layout");
        if !self.layout.is_dir() {
            return Err(BuildError::NotADirectory { path: self.shown.clone() });
        }
        let bytes = read_bounded(&path, 64 << 10).map_err(|e| match e {
            BuildError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                self.malformed(String::from("it has no oci-layout file; is it an OCI image layout?"))
            }
            other => other,
        })?;
        let object = nv2_core::json::parse_strict_object(&bytes, 64 << 10, MAX_JSON_DEPTH)
            .map_err(|e| self.malformed(format!("oci-layout: {e}")))?;
        match object.get("imageLayoutVersion").and_then(|v| v.as_str()) {
            Some(_) => Ok(()),
            None => Err(self.malformed(String::from("oci-layout has no imageLayoutVersion"))),
        }
    }

    /// The root descriptor `reference` picks, and the tags index.json gives it.
    fn select(&self, reference: Option<&str>) -> Result<(Descriptor, Vec<String>), BuildError> {
        let bytes = read_bounded(&self.layout.join("index.json"), MAX_MANIFEST_BYTES as u64)?;
        let parsed = ParsedManifest::parse(Some(media_types::OCI_IMAGE_INDEX), &bytes)
            .map_err(|source| BuildError::Oci { what: format!("{}: index.json", self.shown), source })?;
        let entries = parsed.as_image_index().map(|index| index.manifests.as_slice()).unwrap_or_default();
        let tag_of = |d: &Descriptor| d.annotations.get(REF_NAME).cloned();
        let listed = || {
            let tags: Vec<String> = entries.iter().map(|d| tag_of(d).unwrap_or_else(|| d.digest.to_string())).collect();
            if tags.is_empty() {
                String::from("no images")
            } else {
                tags.join(", ")
            }
        };
        let selection = |reason: String| BuildError::ImageSelection { input: self.shown.clone(), reason };
        let chosen: Vec<&Descriptor> = match reference {
            Some(text) if text.contains(':') => {
                let digest = Digest::parse(text).map_err(|e| selection(format!("{text}: {e}")))?;
                let listed_here: Vec<&Descriptor> = entries.iter().filter(|d| d.digest == digest).collect();
                if listed_here.is_empty() {
                    return Ok((self.unlisted_manifest(&digest)?, Vec::new()));
                }
                listed_here.into_iter().take(1).collect()
            }
            Some(tag) => entries.iter().filter(|d| tag_of(d).as_deref() == Some(tag)).collect(),
            None => entries.iter().collect(),
        };
        let root = match (chosen.as_slice(), reference) {
            ([one], _) => *one,
            ([], Some(tag)) => {
                return Err(selection(format!("no image is tagged {tag}; the layout holds {}", listed())))
            }
            ([], None) => return Err(self.malformed(String::from("index.json lists no image"))),
            (_, Some(tag)) => return Err(selection(format!("several images are tagged {tag}"))),
            (_, None) => {
                return Err(selection(format!("it holds several images ({}); name a tag or digest", listed())))
            }
        };
        let descriptor = Descriptor::new(&root.media_type, root.digest.clone(), root.size);
        Ok((descriptor, tag_of(root).into_iter().collect()))
    }

    /// A manifest picked by digest that index.json does not list: its media type comes from its own bytes.
    fn unlisted_manifest(&self, digest: &Digest) -> Result<Descriptor, BuildError> {
        let path = self.blob_path(digest);
        let bytes = read_bounded(&path, MAX_MANIFEST_BYTES as u64)?;
        let parsed = ParsedManifest::parse_verified(None, &bytes, digest)
            .map_err(|source| BuildError::Oci { what: path.display().to_string(), source })?;
        Ok(Descriptor::new(parsed.media_type(), digest.clone(), parsed.size()))
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.layout.join("blobs").join(digest.algorithm().name()).join(digest.hex())
    }

    /// Collects `descriptor` and everything below it, children first.
    fn visit(&mut self, descriptor: &Descriptor, depth: usize) -> Result<(), BuildError> {
        if self.seen.contains(&descriptor.digest) {
            return Ok(());
        }
        if !descriptor.is_manifest() {
            let source = self.checked_blob(descriptor)?;
            self.seen.insert(descriptor.digest.clone());
            self.blobs.push(BuiltBlob { descriptor: descriptor.clone(), source });
            return Ok(());
        }
        if depth > MAX_DEPTH {
            return Err(self.malformed(format!("indexes nest deeper than {MAX_DEPTH} levels")));
        }
        let path = self.blob_path(&descriptor.digest);
        if descriptor.size > MAX_MANIFEST_BYTES as u64 {
            return Err(BuildError::TooLarge {
                what: path.display().to_string(),
                size: descriptor.size,
                limit: MAX_MANIFEST_BYTES as u64,
            });
        }
        let bytes = read_bounded(&path, MAX_MANIFEST_BYTES as u64)?;
        descriptor
            .verify_content(&bytes)
            .map_err(|source| BuildError::Oci { what: path.display().to_string(), source })?;
        let parsed = ParsedManifest::parse(Some(&descriptor.media_type), &bytes)
            .map_err(|source| BuildError::Oci { what: path.display().to_string(), source })?;
        let children: Vec<Descriptor> = parsed.references().iter().map(|child| child.descriptor.clone()).collect();
        for child in &children {
            self.visit(child, depth + 1)?;
        }
        self.seen.insert(descriptor.digest.clone());
        self.manifests.push((descriptor.clone(), bytes));
        Ok(())
    }

    /// The blob's file, checked against size and digest; a missing file is fine when the descriptor embeds the bytes.
    fn checked_blob(&self, descriptor: &Descriptor) -> Result<BlobSource, BuildError> {
        let path = self.blob_path(&descriptor.digest);
        let shown = path.display().to_string();
        let mut file = match File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Ok(Some(bytes)) = descriptor.embedded_data() {
                    return Ok(BlobSource::Memory(bytes.into()));
                }
                return Err(self.malformed(format!("blob {} is missing", descriptor.digest)));
            }
            Err(e) => return Err(BuildError::io(&shown, e)),
        };
        let size = file.metadata().map_err(|e| BuildError::io(&shown, e))?.len();
        if size != descriptor.size {
            return Err(self.malformed(format!("{shown} is {size} bytes, its descriptor says {}", descriptor.size)));
        }
        let mut digester = Digester::new(descriptor.digest.algorithm());
        let mut buffer = vec![0u8; 256 << 10];
        loop {
            let read = file.read(&mut buffer).map_err(|e| BuildError::io(&shown, e))?;
            match buffer.get(..read) {
                Some([]) | None => break,
                Some(chunk) => digester.update(chunk),
            }
        }
        let actual = digester.finalize();
        if actual != descriptor.digest {
            return Err(BuildError::DigestMismatch {
                path: shown,
                expected: descriptor.digest.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(BlobSource::File(path))
    }
}

/// Reads a small file whole, refusing one larger than `limit`.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, BuildError> {
    let shown = path.display().to_string();
    let file = File::open(path).map_err(|e| BuildError::io(&shown, e))?;
    let size = file.metadata().map_err(|e| BuildError::io(&shown, e))?.len();
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes).map_err(|e| BuildError::io(&shown, e))?;
    if size > limit || bytes.len() as u64 > limit {
        return Err(BuildError::TooLarge { what: shown, size: size.max(bytes.len() as u64), limit });
    }
    Ok(bytes)
}
