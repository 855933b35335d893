//! Shared by the build_* and sbom_* tests: a minimal in-memory content store (a HashMap behind a Mutex; the real
//! stores are tested on their own), writing a built image as an OCI layout, and finding peer tools.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use nv2_cli::build::BuiltImage;
use nv2_cli::content::{collect_verified, stream_of, ByteStream, ContentError, ContentStore};
use nv2_core::oci::{referrer_descriptor, Descriptor, Digest, ParsedManifest};

/// Content by digest, tags, and a count of pushes (to see what was skipped).
#[derive(Default)]
pub struct TestStore {
    content: Mutex<HashMap<Digest, (Descriptor, Vec<u8>)>>,
    tags: Mutex<HashMap<String, Descriptor>>,
    pushes: AtomicUsize,
}

impl TestStore {
    pub fn pushes(&self) -> usize {
        self.pushes.load(Ordering::SeqCst)
    }

    pub fn bytes(&self, digest: &Digest) -> Option<Vec<u8>> {
        self.content.lock().unwrap().get(digest).map(|(_, b)| b.clone())
    }

    pub fn len(&self) -> usize {
        self.content.lock().unwrap().len()
    }

    /// Replaces stored bytes without checking them (a store serving corrupted content).
    pub fn corrupt(&self, digest: &Digest, bytes: Vec<u8>) {
        let mut content = self.content.lock().unwrap();
        let entry = content.get_mut(digest).expect("content to corrupt");
        entry.1 = bytes;
    }
}

#[async_trait]
impl ContentStore for TestStore {
    fn name(&self) -> String {
        String::from("test-memory")
    }

    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        let not_found = || ContentError::NotFound { what: reference.to_string(), store: self.name() };
        if reference.contains(':') {
            let digest = Digest::parse(reference)?;
            return self.content.lock().unwrap().get(&digest).map(|(d, _)| d.clone()).ok_or_else(not_found);
        }
        self.tags.lock().unwrap().get(reference).cloned().ok_or_else(not_found)
    }

    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        let size = self.bytes(digest).map(|b| b.len() as u64);
        size.map(|size| Descriptor::new("application/octet-stream", digest.clone(), size))
            .ok_or_else(|| ContentError::NotFound { what: digest.to_string(), store: self.name() })
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        Ok(self.content.lock().unwrap().contains_key(&descriptor.digest))
    }

    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        let bytes = self
            .bytes(&descriptor.digest)
            .ok_or_else(|| ContentError::NotFound { what: descriptor.digest.to_string(), store: self.name() })?;
        Ok(stream_of(bytes))
    }

    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        let bytes = collect_verified(content, descriptor).await?;
        if descriptor.is_manifest() {
            ParsedManifest::parse(Some(&descriptor.media_type), &bytes)?;
        }
        self.pushes.fetch_add(1, Ordering::SeqCst);
        let plain = Descriptor::new(&descriptor.media_type, descriptor.digest.clone(), descriptor.size);
        self.content.lock().unwrap().insert(descriptor.digest.clone(), (plain, bytes));
        Ok(())
    }

    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        self.tags.lock().unwrap().insert(tag.to_string(), descriptor.clone());
        Ok(())
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        let content = self.content.lock().unwrap();
        let mut found = Vec::new();
        for (descriptor, bytes) in content.values().filter(|(d, _)| d.is_manifest()) {
            let parsed = ParsedManifest::parse(Some(&descriptor.media_type), bytes)?;
            if parsed.subject().is_some_and(|s| s.digest == subject.digest) {
                let referrer = referrer_descriptor(&parsed);
                if artifact_type.is_none_or(|t| referrer.artifact_type.as_deref() == Some(t)) {
                    found.push(referrer);
                }
            }
        }
        Ok(found)
    }

    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        self.content.lock().unwrap().remove(&descriptor.digest);
        Ok(())
    }
}

/// Writes `image` as an OCI image layout at `dir`, its root tagged `tag`.
pub fn write_oci_layout(image: &BuiltImage, dir: &Path, tag: &str) {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    for blob in &image.blobs {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut blob.source.open().unwrap(), &mut bytes).unwrap();
        std::fs::write(blobs.join(blob.descriptor.digest.hex()), bytes).unwrap();
    }
    for (descriptor, bytes) in &image.manifests {
        std::fs::write(blobs.join(descriptor.digest.hex()), bytes).unwrap();
    }
    let mut root = Descriptor::new(&image.root.media_type, image.root.digest.clone(), image.root.size);
    root.annotations.insert("org.opencontainers.image.ref.name".into(), tag.into());
    let index = nv2_core::oci::ImageIndex::new(vec![root]).to_json_bytes().unwrap();
    std::fs::write(dir.join("index.json"), index).unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

/// A peer tool by name, from `$PATH` or the peers directory; `None` (and the reason printed) when absent. Under
/// CI=true an absent tool fails the test instead: CI must have it installed.
pub fn peer_tool(name: &str) -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).map(|d| d.join(name)).collect()).unwrap_or_default();
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(PathBuf::from(home).join(".cache/nv2/peers/bin").join(name));
    }
    match candidates.into_iter().find(|c| c.is_file()) {
        Some(found) => Some(found),
        None => {
            skip_or_fail(&format!("{name} is not installed"));
            None
        }
    }
}

/// Prints why a peer-tool test is skipped, or fails it under CI=true.
pub fn skip_or_fail(reason: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{reason}, and CI=true requires it");
    }
    eprintln!("SKIPPED: {reason}");
}
