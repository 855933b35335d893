//! `nv2 build --from-docker-save <tarball>`: an image saved by `docker save` (or `skopeo copy ... docker-archive:`),
//! converted to an OCI image.
//!
//! Both shapes are read through their `manifest.json` (`[{"Config", "RepoTags", "Layers"}]`): the legacy one
//! (`<id>/layer.tar`, `<id>.json`, shared layers as symlinks) and Docker 25's, which is also an OCI layout
//! (`blobs/sha256/<hex>`, `index.json`), whose entry names are checked against their content. The config bytes are
//! kept as they are (a docker config is an OCI config); each layer is checked to be a tar that stays inside its
//! root, gzip-compressed when it is not already, and its diff_id compared with the config's `rootfs.diff_ids`.
//!
//! The tarball is read twice, sequentially (a tar has no index and `manifest.json` usually comes last): once for
//! `manifest.json` and the entry list, once to convert what it names. It may itself be gzip-compressed.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use nv2_core::oci::{media_types, Descriptor, Digest, ImageManifest, Reference};
use serde::Deserialize;

use super::error::BuildError;
use super::image::{BlobSource, BuiltBlob, BuiltImage};
use super::image_config::{config_diff_ids, MAX_CONFIG_BYTES};
use super::layer::{convert_layer, escapes_root, ConvertedLayer};

/// Largest `manifest.json` read.
const MAX_MANIFEST_JSON_BYTES: usize = 4 << 20;

/// Most symlinks or hard links followed from a name `manifest.json` gives to the entry holding the bytes.
const MAX_LINK_HOPS: usize = 16;

/// One image of `manifest.json`.
#[derive(Deserialize)]
struct SavedImage {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Option<Vec<String>>,
}

/// What an archive entry is, as far as finding bytes goes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum EntryKind {
    /// A regular file holding its bytes.
    File,
    /// A symlink or hard link to another entry (already resolved to an archive name).
    LinkTo(String),
    /// Anything else (directories).
    Other,
}

/// Converts the image in the `docker save` tarball `archive`; `image` picks one of several by a `RepoTags` entry
/// (`net-monitor:v1`). Blocking: it reads the tarball and compresses layers.
pub fn build_from_docker_save(archive: &Path, image: Option<&str>) -> Result<BuiltImage, BuildError> {
    let shown = archive.display().to_string();
    let (entries, manifest_json) = list_entries(archive, &shown)?;
    let manifest_json = manifest_json.ok_or_else(|| BuildError::DockerSave {
        archive: shown.clone(),
        reason: String::from("it has no manifest.json (is it an OCI layout? use --from-oci-layout)"),
    })?;
    let saved = select_image(&shown, &manifest_json, image)?;
    let layer_names = saved.layers.clone().unwrap_or_default();
    let config_entry = resolve(&shown, &entries, &saved.config)?;
    let layer_entries =
        layer_names.iter().map(|name| resolve(&shown, &entries, name)).collect::<Result<Vec<_>, _>>()?;

    let (config, mut converted) = read_content(archive, &shown, &config_entry, &layer_entries)?;
    check_named_digest(&config_entry, &Digest::sha256(&config))?;
    let diff_ids = config_diff_ids(&config_entry, &config)
        .map_err(|reason| BuildError::DockerSave { archive: shown.clone(), reason })?;
    if diff_ids.len() != layer_entries.len() {
        return Err(BuildError::DiffIdCount { archive: shown, expected: diff_ids.len(), actual: layer_entries.len() });
    }

    let config_descriptor = Descriptor::for_content(media_types::OCI_IMAGE_CONFIG, &config);
    let mut blobs =
        vec![BuiltBlob { descriptor: config_descriptor.clone(), source: BlobSource::Memory(config.into()) }];
    let mut layers = Vec::new();
    for ((name, entry), expected) in layer_names.iter().zip(&layer_entries).zip(&diff_ids) {
        let layer = converted
            .get(entry)
            .ok_or_else(|| BuildError::MissingEntry { archive: shown.clone(), entry: name.clone() })?;
        check_named_digest(entry, &layer.input_digest)?;
        if &layer.layer.diff_id != expected {
            return Err(BuildError::DiffIdMismatch {
                archive: shown,
                layer: name.clone(),
                expected: expected.to_string(),
                actual: layer.layer.diff_id.to_string(),
            });
        }
        layers.push(layer.layer.descriptor.clone());
    }
    // Blobs in manifest order (config first), each once, so a push streams them in the order the image lists them.
    for entry in &layer_entries {
        if let Some(layer) = converted.remove(entry) {
            if !blobs.iter().any(|b| b.descriptor.digest == layer.layer.descriptor.digest) {
                blobs.push(BuiltBlob { descriptor: layer.layer.descriptor, source: layer.layer.source });
            }
        }
    }

    let bytes = ImageManifest::new(config_descriptor, layers)
        .to_json_bytes()
        .map_err(|source| BuildError::Oci { what: format!("manifest converted from {shown}"), source })?;
    let root = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &bytes);
    Ok(BuiltImage {
        root: root.clone(),
        blobs,
        manifests: vec![(root, bytes)],
        source_tags: saved.repo_tags.unwrap_or_default(),
    })
}

/// Opens the tarball, decompressing it when it is gzip.
fn open_archive(archive: &Path, shown: &str) -> Result<tar::Archive<Box<dyn Read>>, BuildError> {
    let file = File::open(archive).map_err(|e| BuildError::io(shown, e))?;
    let mut reader = BufReader::with_capacity(256 << 10, file);
    let gzip = reader.fill_buf().map_err(|e| BuildError::io(shown, e))?.starts_with(&[0x1f, 0x8b]);
    let reader: Box<dyn Read> = match gzip {
        true => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        false => Box::new(reader),
    };
    Ok(tar::Archive::new(reader))
}

/// Every entry's name and kind, by name.
type EntryList = BTreeMap<String, EntryKind>;

/// First pass: every entry's name and kind, and the bytes of `manifest.json`.
fn list_entries(archive: &Path, shown: &str) -> Result<(EntryList, Option<Vec<u8>>), BuildError> {
    let not_tar = |e: std::io::Error| BuildError::DockerSave {
        archive: shown.to_string(),
        reason: format!("not a readable tar archive: {e}"),
    };
    let mut tar = open_archive(archive, shown)?;
    let mut entries = BTreeMap::new();
    let mut manifest_json = None;
    for entry in tar.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        let Some(name) = entry_name(&entry.path_bytes()) else { continue };
        let kind = match entry.header().entry_type() {
            tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
            tar::EntryType::Symlink => {
                let target = link_target(&entry);
                let base = name.rsplit_once('/').map_or("", |(dir, _)| dir);
                EntryKind::LinkTo(join_inside(shown, base, &target)?)
            }
            tar::EntryType::Link => EntryKind::LinkTo(join_inside(shown, "", &link_target(&entry))?),
            _ => EntryKind::Other,
        };
        if name == "manifest.json" && kind == EntryKind::File {
            let size = entry.header().size().map_err(not_tar)?;
            if size > MAX_MANIFEST_JSON_BYTES as u64 {
                return Err(BuildError::TooLarge {
                    what: format!("{shown}: manifest.json"),
                    size,
                    limit: MAX_MANIFEST_JSON_BYTES as u64,
                });
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(not_tar)?;
            manifest_json = Some(bytes);
        }
        let holds_bytes = kind != EntryKind::Other;
        if entries.insert(name.clone(), kind).is_some_and(|old| old != EntryKind::Other) && holds_bytes {
            return Err(BuildError::DockerSave {
                archive: shown.to_string(),
                reason: format!("entry {name} appears twice, so which one is meant is ambiguous"),
            });
        }
    }
    Ok((entries, manifest_json))
}

/// A link entry's target as text.
fn link_target<R: Read>(entry: &tar::Entry<'_, R>) -> String {
    entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned()).unwrap_or_default()
}

/// An entry's name with `./` prefixes and a trailing `/` removed; `None` for names that are not UTF-8 (which
/// `manifest.json`, being JSON, cannot name).
fn entry_name(raw: &[u8]) -> Option<String> {
    let mut name = std::str::from_utf8(raw).ok()?;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    Some(name.trim_end_matches('/').to_string())
}

/// Joins `target` onto the archive directory `base` lexically, refusing results outside the archive.
fn join_inside(shown: &str, base: &str, target: &str) -> Result<String, BuildError> {
    let traversal = || BuildError::PathTraversal { container: shown.to_string(), entry: target.to_string() };
    if target.starts_with('/') {
        return Err(traversal());
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or_else(traversal)?;
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// The image of `manifest.json` to convert: the one `wanted` names in its `RepoTags`, or the only one.
fn select_image(shown: &str, manifest_json: &[u8], wanted: Option<&str>) -> Result<SavedImage, BuildError> {
    let malformed = |reason: String| BuildError::DockerSave { archive: shown.to_string(), reason };
    let value = nv2_core::json::parse_strict(manifest_json, MAX_MANIFEST_JSON_BYTES, nv2_core::limits::MAX_JSON_DEPTH)
        .map_err(|e| malformed(format!("manifest.json: {e}")))?;
    let images: Vec<SavedImage> = serde_json::from_value(value)
        .map_err(|e| malformed(format!("manifest.json is not a list of {{Config, RepoTags, Layers}} objects: {e}")))?;
    let tags_of = |image: &SavedImage| image.repo_tags.clone().unwrap_or_default();
    let listed = || images.iter().map(|i| format!("[{}]", tags_of(i).join(", "))).collect::<Vec<_>>().join(", ");
    let position = match wanted {
        Some(tag) => images.iter().position(|i| tags_of(i).iter().any(|t| same_name(t, tag))).ok_or_else(|| {
            BuildError::ImageSelection {
                input: shown.to_string(),
                reason: format!("no image is tagged {tag}; the archive holds {}", listed()),
            }
        })?,
        None if images.len() == 1 => 0,
        None if images.is_empty() => return Err(malformed(String::from("manifest.json lists no image"))),
        None => {
            return Err(BuildError::ImageSelection {
                input: shown.to_string(),
                reason: format!("it holds {} images ({}); name one of their tags", images.len(), listed()),
            })
        }
    };
    images.into_iter().nth(position).ok_or_else(|| malformed(String::from("manifest.json lists no image")))
}

/// Whether two image names are the same once normalised (`net-monitor:v1` is `docker.io/library/net-monitor:v1`,
/// which is how skopeo writes `RepoTags`).
fn same_name(listed: &str, wanted: &str) -> bool {
    match (Reference::parse(listed), Reference::parse(wanted)) {
        (Ok(a), Ok(b)) => a == b,
        _ => listed == wanted,
    }
}

/// The archive entry holding the bytes `manifest.json` names as `name`: checked to stay inside the archive, links
/// followed.
fn resolve(shown: &str, entries: &EntryList, name: &str) -> Result<String, BuildError> {
    if name.is_empty() || name.starts_with('/') || escapes_root(name.as_bytes()) {
        return Err(BuildError::PathTraversal { container: shown.to_string(), entry: name.to_string() });
    }
    let missing = || BuildError::MissingEntry { archive: shown.to_string(), entry: name.to_string() };
    let mut current = entry_name(name.as_bytes()).ok_or_else(missing)?;
    for _ in 0..MAX_LINK_HOPS {
        match entries.get(&current) {
            Some(EntryKind::File) => return Ok(current),
            Some(EntryKind::LinkTo(target)) => current = target.clone(),
            Some(EntryKind::Other) | None => return Err(missing()),
        }
    }
    Err(BuildError::DockerSave {
        archive: shown.to_string(),
        reason: format!("{name}: more than {MAX_LINK_HOPS} links to follow"),
    })
}

/// Second pass: the config bytes and every named layer, converted.
fn read_content(
    archive: &Path,
    shown: &str,
    config_entry: &str,
    layer_entries: &[String],
) -> Result<(Vec<u8>, BTreeMap<String, ConvertedLayer>), BuildError> {
    let not_tar = |e: std::io::Error| BuildError::DockerSave {
        archive: shown.to_string(),
        reason: format!("not a readable tar archive: {e}"),
    };
    let wanted: BTreeSet<&str> = layer_entries.iter().map(String::as_str).collect();
    let mut tar = open_archive(archive, shown)?;
    let mut config = None;
    let mut converted = BTreeMap::new();
    for entry in tar.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        if !matches!(entry.header().entry_type(), tar::EntryType::Regular | tar::EntryType::Continuous) {
            continue;
        }
        let Some(name) = entry_name(&entry.path_bytes()) else { continue };
        if name == config_entry && config.is_none() {
            let size = entry.header().size().map_err(not_tar)?;
            if size > MAX_CONFIG_BYTES as u64 {
                return Err(BuildError::TooLarge {
                    what: format!("{shown}: config {name}"),
                    size,
                    limit: MAX_CONFIG_BYTES as u64,
                });
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(not_tar)?;
            config = Some(bytes);
        } else if wanted.contains(name.as_str()) && !converted.contains_key(&name) {
            let layer = convert_layer(&format!("{shown}:{name}"), &mut entry)?;
            converted.insert(name, layer);
        }
    }
    let config = config
        .ok_or_else(|| BuildError::MissingEntry { archive: shown.to_string(), entry: config_entry.to_string() })?;
    Ok((config, converted))
}

/// Checks content stored under a digest name (`blobs/sha256/<hex>`, a legacy `<hex>.json` config) against it.
fn check_named_digest(entry: &str, actual: &Digest) -> Result<(), BuildError> {
    let named = match entry.strip_prefix("blobs/").and_then(|rest| rest.split_once('/')) {
        Some((algorithm, hex)) => Digest::parse(&format!("{algorithm}:{hex}")).ok(),
        None => entry
            .strip_suffix(".json")
            .filter(|hex| !hex.contains('/'))
            .and_then(|hex| Digest::parse(&format!("sha256:{hex}")).ok()),
    };
    match named {
        Some(expected) if expected.algorithm() == actual.algorithm() && &expected != actual => {
            Err(BuildError::DigestMismatch {
                path: entry.to_string(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_link_targets_inside_the_archive_only() {
        assert_eq!(join_inside("a", "x", "../y/layer.tar").unwrap(), "y/layer.tar");
        assert_eq!(join_inside("a", "", "./y").unwrap(), "y");
        assert!(matches!(join_inside("a", "x", "../../etc/passwd"), Err(BuildError::PathTraversal { .. })));
        assert!(matches!(join_inside("a", "x", "/etc/passwd"), Err(BuildError::PathTraversal { .. })));
    }

    #[test]
    fn names_carrying_a_digest_are_checked() {
        let digest = Digest::sha256(b"x");
        check_named_digest(&format!("blobs/sha256/{}", digest.hex()), &digest).unwrap();
        check_named_digest(&format!("{}.json", digest.hex()), &digest).unwrap();
        check_named_digest("abc/layer.tar", &digest).unwrap();
        let other = Digest::sha256(b"y");
        assert!(matches!(
            check_named_digest(&format!("blobs/sha256/{}", other.hex()), &digest),
            Err(BuildError::DigestMismatch { .. })
        ));
    }
}
