//! A read-only OCI image layout (`index.json`, `blobs/<alg>/<hex>`) for the examples and the corpus runner: tags
//! from `org.opencontainers.image.ref.name`, blobs checked against their digests, and referrers found among the
//! manifests the layout holds. (The CLI's content stores replace this in hosts; the core itself never reads files.)

use nv2_core::oci::{Digest, ParsedManifest};
use serde_json::Value;
use std::path::PathBuf;

/// An OCI image layout opened for reading: manifests by digest and the tags of index.json.
pub struct Layout {
    root: PathBuf,
    index: Value,
}

impl Layout {
    /// Opens the layout rooted at `root`.
    pub fn open(root: PathBuf) -> Result<Self, String> {
        let index = std::fs::read(root.join("index.json")).map_err(|e| format!("index.json: {e}"))?;
        let index = serde_json::from_slice(&index).map_err(|e| format!("index.json: {e}"))?;
        Ok(Layout { root, index })
    }
    /// Reads a blob and checks its digest.
    pub fn blob(&self, digest: &Digest) -> Result<Vec<u8>, String> {
        let path = self.root.join("blobs").join(digest.algorithm().to_string()).join(digest.hex());
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        digest.verify(&bytes).map_err(|e| e.to_string())?;
        Ok(bytes)
    }
    /// The manifests listed in index.json.
    pub fn entries(&self) -> impl Iterator<Item = &Value> {
        self.index["manifests"].as_array().into_iter().flatten()
    }
    /// Resolves a tag to a manifest digest.
    pub fn resolve(&self, tag: &str) -> Result<Digest, String> {
        self.entries()
            .find(|m| m.pointer("/annotations/org.opencontainers.image.ref.name").and_then(Value::as_str) == Some(tag))
            .and_then(|m| m["digest"].as_str())
            .ok_or_else(|| format!("tag {tag} not in the layout"))?
            .parse()
            .map_err(|e: nv2_core::oci::OciError| e.to_string())
    }
    /// Every manifest in the layout whose subject is `subject`: entries of index.json and of tag-schema indexes.
    pub fn referrers(&self, subject: &Digest) -> Result<Vec<Vec<u8>>, String> {
        let mut seen = Vec::new();
        let mut found = Vec::new();
        let mut candidates: Vec<Digest> = Vec::new();
        for entry in self.entries() {
            let digest: Digest = entry["digest"].as_str().unwrap_or_default().parse().map_err(|e| format!("{e}"))?;
            let bytes = self.blob(&digest)?;
            let parsed = ParsedManifest::parse(entry["mediaType"].as_str(), &bytes).map_err(|e| e.to_string())?;
            if let Some(index) = parsed.as_image_index() {
                candidates.extend(index.manifests.iter().map(|d| d.digest.clone()));
            }
            candidates.push(digest);
        }
        for digest in candidates {
            if seen.contains(&digest) {
                continue;
            }
            seen.push(digest.clone());
            let bytes = self.blob(&digest)?;
            let Ok(parsed) = ParsedManifest::parse(None, &bytes) else { continue };
            if parsed.subject().map(|s| &s.digest) == Some(subject) {
                found.push(bytes);
            }
        }
        Ok(found)
    }
}
