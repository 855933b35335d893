//! The graph copier against the local stores: memory, OCI layout directories and layout tarballs, and the real
//! OCI layouts notation's e2e suite wrote. Graphs are built with the core's manifest builders: an image (config and
//! two layers) with a signature, an SBoM with its own signature, and a two-platform index with a signature on one
//! platform manifest.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use nv2_cli::content::{
    fetch_all, stream_of, ByteStream, ContentError, ContentStore, MemoryStore, OciLayout, OciLayoutTar, Progress,
    TransferOutcome,
};
use nv2_cli::copy::{copy, copy_graph, CopyError, CopyOptions};
use nv2_core::oci::{media_types, Descriptor, Digest, ImageIndex, ImageManifest, Platform};

const SBOM: &str = "application/spdx+json";

/// The source graph and the descriptors the tests check.
struct Sample {
    source: MemoryStore,
    image: Descriptor,
    layers: Vec<Descriptor>,
    signature: Descriptor,
    sbom: Descriptor,
    sbom_signature: Descriptor,
    index: Descriptor,
    platforms: Vec<Descriptor>,
    platform_signature: Descriptor,
}

async fn put(store: &dyn ContentStore, media_type: &str, bytes: Vec<u8>) -> Descriptor {
    let descriptor = Descriptor::for_content(media_type, &bytes);
    store.push(&descriptor, stream_of(bytes)).await.unwrap();
    descriptor
}

async fn put_manifest(store: &dyn ContentStore, manifest: ImageManifest) -> Descriptor {
    put(store, media_types::OCI_IMAGE_MANIFEST, manifest.to_json_bytes().unwrap()).await
}

/// A signature of `subject` (envelope blob plus manifest), as notation 2.x shapes it.
async fn sign(store: &dyn ContentStore, subject: &Descriptor, name: &str) -> Descriptor {
    let envelope = put(store, media_types::JWS_ENVELOPE, format!("{{\"payload\":\"{name}\"}}").into_bytes()).await;
    let manifest = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, vec![envelope])
        .with_subject(subject.clone())
        .with_annotation("io.cncf.notary.x509chain.thumbprint#S256", &format!("[\"{name}\"]"));
    put_manifest(store, manifest).await
}

async fn image_manifest(store: &dyn ContentStore, name: &str, layers: usize) -> (Descriptor, Vec<Descriptor>) {
    let config = put(store, media_types::OCI_IMAGE_CONFIG, format!("{{\"name\":\"{name}\"}}").into_bytes()).await;
    let mut blobs = vec![config.clone()];
    let mut layer_descriptors = Vec::new();
    for i in 0..layers {
        let layer =
            put(store, media_types::OCI_LAYER_TAR, format!("{name} layer {i} ").repeat(1000).into_bytes()).await;
        layer_descriptors.push(layer.clone());
        blobs.push(layer);
    }
    let image = put_manifest(store, ImageManifest::new(config, layer_descriptors)).await;
    (image, blobs)
}

fn platform(architecture: &str) -> Platform {
    Platform {
        architecture: architecture.to_string(),
        os: String::from("linux"),
        os_version: None,
        os_features: Vec::new(),
        variant: None,
        features: Vec::new(),
    }
}

async fn sample() -> Sample {
    let source = MemoryStore::new();
    // The empty config every artifact manifest names (`ImageManifest::artifact`).
    put(&source, media_types::OCI_EMPTY, b"{}".to_vec()).await;
    let (image, blobs) = image_manifest(&source, "image", 2).await;
    let signature = sign(&source, &image, "image signature").await;
    let sbom_document = put(&source, SBOM, b"{\"spdxVersion\":\"SPDX-2.3\"}".to_vec()).await;
    let sbom =
        put_manifest(&source, ImageManifest::artifact(SBOM, vec![sbom_document]).with_subject(image.clone())).await;
    let sbom_signature = sign(&source, &sbom, "sbom signature").await;
    let mut platforms = Vec::new();
    for architecture in ["amd64", "arm64"] {
        let (mut manifest, _) = image_manifest(&source, architecture, 1).await;
        manifest.platform = Some(platform(architecture));
        platforms.push(manifest);
    }
    let index =
        put(&source, media_types::OCI_IMAGE_INDEX, ImageIndex::new(platforms.clone()).to_json_bytes().unwrap()).await;
    let platform_signature = sign(&source, &platforms[0], "amd64 signature").await;
    source.tag(&image, "v1").await.unwrap();
    source.tag(&index, "multi").await.unwrap();
    Sample {
        source,
        image,
        layers: blobs[1..].to_vec(),
        signature,
        sbom,
        sbom_signature,
        index,
        platforms,
        platform_signature,
    }
}

fn recursive() -> CopyOptions {
    CopyOptions { referrers: true, ..CopyOptions::default() }
}

fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|t| t.to_string()).collect()
}

async fn referrer_digests(store: &dyn ContentStore, subject: &Descriptor) -> BTreeSet<Digest> {
    store.referrers(subject, None).await.unwrap().into_iter().map(|d| d.digest).collect()
}

/// Checks that `store` holds the whole sample with every referrer link and both tags.
async fn assert_holds_sample(store: &dyn ContentStore, s: &Sample) {
    assert_eq!(store.resolve("v1").await.unwrap().digest, s.image.digest, "{}", store.name());
    assert_eq!(store.resolve("multi").await.unwrap().digest, s.index.digest, "{}", store.name());
    assert_eq!(
        referrer_digests(store, &s.image).await,
        BTreeSet::from([s.signature.digest.clone(), s.sbom.digest.clone()])
    );
    assert_eq!(referrer_digests(store, &s.sbom).await, BTreeSet::from([s.sbom_signature.digest.clone()]));
    assert_eq!(referrer_digests(store, &s.platforms[0]).await, BTreeSet::from([s.platform_signature.digest.clone()]));
    assert!(referrer_digests(store, &s.platforms[1]).await.is_empty());
    for descriptor in s.source.descriptors() {
        let original = fetch_all(&s.source, &descriptor, 1 << 30).await.unwrap();
        assert_eq!(
            fetch_all(store, &descriptor, 1 << 30).await.unwrap(),
            original,
            "{} in {}",
            descriptor.digest,
            store.name()
        );
    }
}

#[tokio::test]
async fn memory_to_layout_to_tar_to_memory_keeps_every_digest_and_referrer() {
    let s = sample().await;
    let dir = tempfile::tempdir().unwrap();

    let layout = OciLayout::create(dir.path().join("layout")).await.unwrap();
    let first = copy(&s.source, "v1", &layout, &tags(&["v1"]), &recursive()).await.unwrap();
    assert_eq!(first.root.digest, s.image.digest);
    assert_eq!(first.referrers.len(), 3, "signature, SBoM and the SBoM's signature");
    assert_eq!(first.referrers_copied, 3);
    assert_eq!(first.tags, tags(&["v1"]));
    copy(&s.source, "multi", &layout, &tags(&["multi"]), &recursive()).await.unwrap();
    let layout = OciLayout::open(dir.path().join("layout")).await.unwrap();
    assert_holds_sample(&layout, &s).await;

    let tar_path = dir.path().join("export.tar");
    let archive = OciLayoutTar::create(&tar_path).await.unwrap();
    for tag in ["v1", "multi"] {
        copy(&layout, tag, &archive, &tags(&[tag]), &recursive()).await.unwrap();
    }
    archive.finish().await.unwrap();

    let archive = OciLayoutTar::open(&tar_path).await.unwrap();
    assert_holds_sample(&archive, &s).await;
    let back = MemoryStore::new();
    for tag in ["v1", "multi"] {
        copy(&archive, tag, &back, &tags(&[tag]), &recursive()).await.unwrap();
    }
    assert_eq!(back.descriptors(), s.source.descriptors(), "every digest made the round trip, nothing else");
    assert_holds_sample(&back, &s).await;
}

#[tokio::test]
async fn a_second_copy_moves_nothing_and_a_third_only_the_new_signature() {
    let s = sample().await;
    let dir = tempfile::tempdir().unwrap();
    let layout = OciLayout::create(dir.path()).await.unwrap();
    let first = copy(&s.source, "multi", &layout, &[], &recursive()).await.unwrap();
    assert_eq!(first.skipped, 0);
    // Index, 2 platform manifests with config and layer each, the signature manifest, its envelope and config.
    assert_eq!(first.copied, 1 + 2 * 3 + 3);
    let second = copy(&s.source, "multi", &layout, &[], &recursive()).await.unwrap();
    assert_eq!((second.copied, second.copied_bytes, second.referrers_copied), (0, 0, 0));
    assert!(second.skipped > 0 && second.skipped_bytes > 0);
    assert_eq!(second.referrers.len(), 1, "referrers are still discovered below an existing manifest");

    // A signature added at the source later is found and copied, though its subject is at the target already.
    let late = sign(&s.source, &s.platforms[1], "late signature").await;
    let third = copy(&s.source, "multi", &layout, &[], &recursive()).await.unwrap();
    assert_eq!(third.copied, 2, "the new signature manifest and its envelope (the empty config is there)");
    assert_eq!(third.referrers_copied, 1);
    assert_eq!(referrer_digests(&layout, &s.platforms[1]).await, BTreeSet::from([late.digest]));

    // Without referrers, an existing root is skipped without reading anything below it.
    let plain = copy(&s.source, "multi", &layout, &[], &CopyOptions::default()).await.unwrap();
    assert_eq!((plain.copied, plain.skipped), (0, 1));
}

/// What a [`RecordingStore`] saw, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Operation {
    /// A push that completed.
    Pushed(Digest),
    /// A tag call.
    Tag(String),
}

/// Logs the order of completed pushes and tag calls on the store it wraps.
struct RecordingStore {
    inner: MemoryStore,
    log: Mutex<Vec<Operation>>,
}

impl RecordingStore {
    fn log(&self) -> Vec<Operation> {
        self.log.lock().unwrap().clone()
    }
}

#[async_trait]
impl ContentStore for RecordingStore {
    fn name(&self) -> String {
        String::from("recording")
    }
    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        self.inner.resolve(reference).await
    }
    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        self.inner.resolve_blob(digest).await
    }
    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        self.inner.exists(descriptor).await
    }
    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        self.inner.fetch(descriptor).await
    }
    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        self.inner.push(descriptor, content).await?;
        self.log.lock().unwrap().push(Operation::Pushed(descriptor.digest.clone()));
        Ok(())
    }
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        self.log.lock().unwrap().push(Operation::Tag(tag.to_string()));
        self.inner.tag(descriptor, tag).await
    }
    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        self.inner.referrers(subject, artifact_type).await
    }
    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        self.inner.delete(descriptor).await
    }
}

#[tokio::test]
async fn blobs_come_before_manifests_subjects_before_referrers_and_tags_last() {
    let s = sample().await;
    for (reference, root) in [("v1", &s.image), ("multi", &s.index)] {
        let target = RecordingStore { inner: MemoryStore::new(), log: Mutex::new(Vec::new()) };
        copy(&s.source, reference, &target, &tags(&["release", "latest"]), &recursive()).await.unwrap();
        let log = target.log();
        let position = |digest: &Digest| {
            log.iter()
                .position(|op| *op == Operation::Pushed(digest.clone()))
                .unwrap_or_else(|| panic!("{digest} not pushed"))
        };
        let last_push = log.iter().rposition(|op| matches!(op, Operation::Pushed(_))).unwrap();
        let first_tag = log.iter().position(|op| matches!(op, Operation::Tag(_))).unwrap();
        assert!(first_tag > last_push, "{reference}: tags after every push: {log:?}");
        assert_eq!(log[first_tag..], [Operation::Tag(String::from("release")), Operation::Tag(String::from("latest"))]);

        // Every manifest comes after everything it points down at, and every referrer after its subject.
        let pushed: Vec<Digest> =
            log.iter().filter_map(|op| if let Operation::Pushed(d) = op { Some(d.clone()) } else { None }).collect();
        assert_eq!(pushed.len(), pushed.iter().collect::<BTreeSet<_>>().len(), "each node is pushed once");
        for digest in &pushed {
            let descriptor = target.inner.descriptors().into_iter().find(|d| d.digest == *digest).unwrap();
            if !descriptor.is_manifest() {
                continue;
            }
            let bytes = fetch_all(&target.inner, &descriptor, 1 << 22).await.unwrap();
            let parsed = nv2_core::oci::ParsedManifest::parse(Some(&descriptor.media_type), &bytes).unwrap();
            for child in parsed.references() {
                assert!(position(&child.descriptor.digest) < position(digest), "child after parent: {log:?}");
            }
            if let Some(subject) = parsed.subject() {
                assert!(position(&subject.digest) < position(digest), "referrer before its subject: {log:?}");
            }
        }
        assert!(pushed.contains(&root.digest));
    }
}

#[tokio::test]
async fn a_corrupt_source_blob_fails_the_copy_and_leaves_nothing_usable_at_the_target() {
    let s = sample().await;
    let dir = tempfile::tempdir().unwrap();
    let source_dir = dir.path().join("source");
    let source = OciLayout::create(&source_dir).await.unwrap();
    copy(&s.source, "v1", &source, &tags(&["v1"]), &recursive()).await.unwrap();
    // Same size, other bytes: only the digest check can notice.
    let corrupt = &s.layers[1];
    let blob_file = source_dir.join("blobs/sha256").join(corrupt.digest.hex());
    let mut bytes = std::fs::read(&blob_file).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&blob_file, bytes).unwrap();

    let target_dir = dir.path().join("target");
    let target = OciLayout::create(&target_dir).await.unwrap();
    let err = copy(&source, "v1", &target, &tags(&["v1"]), &recursive()).await.unwrap_err();
    match &err {
        CopyError::Corrupt { digest, store, .. } => {
            assert_eq!(digest, &corrupt.digest);
            assert!(store.contains("source"), "{err}");
        }
        other => panic!("expected Corrupt, got {other}"),
    }
    assert!(err.to_string().contains(&corrupt.digest.to_string()), "{err}");
    assert!(!target_dir.join("blobs/sha256").join(corrupt.digest.hex()).exists(), "the corrupt blob is not kept");
    let reopened = OciLayout::open(&target_dir).await.unwrap();
    assert!(reopened.index_entries().await.is_empty(), "no manifest and no tag reached the target");
    assert!(!target_dir.join("blobs/sha256").join(s.image.digest.hex()).exists());
    let leftovers: Vec<_> =
        std::fs::read_dir(target_dir.join("blobs")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("sha256")], "no temporary files remain");

    let memory = MemoryStore::new();
    assert!(matches!(copy(&source, "v1", &memory, &[], &recursive()).await, Err(CopyError::Corrupt { .. })));
    assert!(matches!(memory.resolve(&s.image.digest.to_string()).await, Err(ContentError::NotFound { .. })));
}

#[tokio::test]
async fn an_unparseable_manifest_is_named_in_the_error() {
    let source = MemoryStore::new();
    // Pushed as a blob (memory refuses invalid manifests), then asked for as a manifest.
    let garbage = b"{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\"}".to_vec();
    let as_blob = put(&source, "application/octet-stream", garbage).await;
    let as_manifest = Descriptor::new(media_types::OCI_IMAGE_MANIFEST, as_blob.digest.clone(), as_blob.size);
    let err = copy_graph(&source, &MemoryStore::new(), &as_manifest, &CopyOptions::default()).await.unwrap_err();
    assert!(matches!(err, CopyError::InvalidManifest { .. }), "{err}");
    assert!(err.to_string().contains(&as_blob.digest.to_string()), "{err}");
}

#[tokio::test]
async fn embedded_data_is_copied_without_asking_the_source() {
    let source = MemoryStore::new();
    let layer = put(&source, media_types::OCI_LAYER_TAR, b"layer".to_vec()).await;
    // The empty config with `"data":"e30="`, as notation 1.1+ writes it, and not pushed to the source.
    let manifest = ImageManifest::new(Descriptor::empty_with_data(), vec![layer]);
    let image = put_manifest(&source, manifest).await;
    assert!(!source.exists(&Descriptor::empty()).await.unwrap());
    let target = MemoryStore::new();
    let report = copy_graph(&source, &target, &image, &CopyOptions::default()).await.unwrap();
    assert_eq!(report.copied, 3);
    assert_eq!(fetch_all(&target, &Descriptor::empty(), 2).await.unwrap(), b"{}");
}

#[tokio::test]
async fn the_artifact_type_filter_applies_to_the_first_level_and_depth_is_bounded() {
    let s = sample().await;
    let signatures_only =
        CopyOptions { artifact_type: Some(String::from(media_types::NOTARY_SIGNATURE)), ..recursive() };
    let target = MemoryStore::new();
    let report = copy(&s.source, "v1", &target, &[], &signatures_only).await.unwrap();
    assert_eq!(report.referrers.iter().map(|d| &d.digest).collect::<Vec<_>>(), vec![&s.signature.digest]);
    assert!(!target.exists(&s.sbom).await.unwrap());

    let sboms = CopyOptions { artifact_type: Some(String::from(SBOM)), ..recursive() };
    let target = MemoryStore::new();
    copy(&s.source, "v1", &target, &[], &sboms).await.unwrap();
    assert!(target.exists(&s.sbom).await.unwrap() && target.exists(&s.sbom_signature).await.unwrap());
    assert!(!target.exists(&s.signature).await.unwrap(), "the first-level filter keeps other referrers out");

    let one_level = CopyOptions { max_referrer_depth: 1, ..recursive() };
    let target = MemoryStore::new();
    copy(&s.source, "v1", &target, &[], &one_level).await.unwrap();
    assert!(target.exists(&s.sbom).await.unwrap() && target.exists(&s.signature).await.unwrap());
    assert!(!target.exists(&s.sbom_signature).await.unwrap(), "the SBoM's signature is two links away");
}

/// A source that lies in its referrers lists: it names the image as a referrer of its own signature (a cycle)
/// and the index as a referrer of the image.
struct LyingStore<'a> {
    inner: &'a Sample,
}

#[async_trait]
impl ContentStore for LyingStore<'_> {
    fn name(&self) -> String {
        String::from("liar")
    }
    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        self.inner.source.resolve(reference).await
    }
    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        self.inner.source.resolve_blob(digest).await
    }
    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        self.inner.source.exists(descriptor).await
    }
    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        self.inner.source.fetch(descriptor).await
    }
    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        self.inner.source.push(descriptor, content).await
    }
    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        self.inner.source.tag(descriptor, tag).await
    }
    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        let mut listed = self.inner.source.referrers(subject, artifact_type).await?;
        if subject.digest == self.inner.signature.digest {
            listed.push(self.inner.image.clone());
        }
        if subject.digest == self.inner.image.digest {
            listed.push(self.inner.index.clone());
        }
        Ok(listed)
    }
    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        self.inner.source.delete(descriptor).await
    }
}

#[tokio::test]
async fn referrers_that_do_not_name_their_subject_are_left_out() {
    let s = sample().await;
    let target = MemoryStore::new();
    let report = copy(&LyingStore { inner: &s }, "v1", &target, &[], &recursive()).await.unwrap();
    let copied: BTreeSet<&Digest> = report.referrers.iter().map(|d| &d.digest).collect();
    assert_eq!(copied, BTreeSet::from([&s.signature.digest, &s.sbom.digest, &s.sbom_signature.digest]));
    assert!(!target.exists(&s.index).await.unwrap());
}

/// Counts what the copier reports.
#[derive(Default)]
struct CountingProgress {
    seen: Mutex<(usize, usize, u64)>,
}

impl Progress for CountingProgress {
    fn start(&self, _descriptor: &Descriptor) {}
    fn advance(&self, _descriptor: &Descriptor, bytes: u64) {
        self.seen.lock().unwrap().2 += bytes;
    }
    fn finish(&self, _descriptor: &Descriptor, outcome: TransferOutcome) {
        let mut seen = self.seen.lock().unwrap();
        match outcome {
            TransferOutcome::Copied => seen.0 += 1,
            TransferOutcome::Skipped => seen.1 += 1,
            TransferOutcome::Mounted => {}
        }
    }
}

#[tokio::test]
async fn progress_sees_every_transfer_and_every_byte() {
    let s = sample().await;
    let target = MemoryStore::new();
    copy(&s.source, "v1", &target, &[], &CopyOptions::default()).await.unwrap();
    let progress = Arc::new(CountingProgress::default());
    let options = CopyOptions { progress: progress.clone(), concurrency: 2, ..recursive() };
    let report = copy(&s.source, "multi", &target, &[], &options).await.unwrap();
    let report_v1 = copy(&s.source, "v1", &target, &[], &options).await.unwrap();
    let (copied, skipped, bytes) = *progress.seen.lock().unwrap();
    assert_eq!(copied, report.copied + report_v1.copied);
    assert_eq!(skipped, report.skipped + report_v1.skipped);
    assert_eq!(bytes, report.copied_bytes + report_v1.copied_bytes);
    assert!(report_v1.copied > 0, "the image's referrers were not at the target yet");
}

/// The notation fixture corpus: `$NV2_CORPUS_DIR`, else `shared/fixtures/notation` above the crate.
fn notation_layouts() -> PathBuf {
    if let Ok(dir) = std::env::var("NV2_CORPUS_DIR") {
        return PathBuf::from(dir).join("oci-layouts");
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/fixtures/notation");
        if candidate.join("cases.json").is_file() {
            return candidate.join("oci-layouts");
        }
        assert!(dir.pop(), "fixture corpus shared/fixtures/notation not found; set NV2_CORPUS_DIR");
    }
}

/// The signatures of `v1` in each notation layout, as its index.json lists them.
fn expected_signatures(layout: &str) -> Option<&'static [&'static str]> {
    Some(match layout {
        "e2e" => &[],
        "e2e-expired-signature" => &["3829708badae8e4b14e1adbc2fac7182bc0c27c5b6f54153e8b68a12eab10a1e"],
        "e2e-invalid-signature" => &["321fcc674d6771dd0e5bd21e599f2df3a482de99a400fd3a3fe371221b97a9c9"],
        "e2e-valid-multiple-signatures" => &[
            "90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f",
            "c3ebe4a20b6832328fc5078a7795ddc1114b896e13fca2add38109c3866b5fbf",
        ],
        "e2e-valid-signature" => &["90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f"],
        "e2e-with-expired-cert" => &["b06e392c2d88206b492dbaf5381800578611eb24f86587bc7717cd3b736e5da7"],
        "e2e-with-invalid-timestamped-signature" => {
            &["eee3eec7d2947f77713484753bea67879ff62c08a73a49a41151ed18c4d1c000"]
        }
        "e2e-with-timestamped-signature" => &["6a5cd3a886707a317935dcaf13954fc80ef9aeb665262b6ae4fe469ad7ea3aea"],
        _ => return None,
    })
}

/// The manifests index.json lists untagged: in these layouts, exactly the signatures.
fn untagged_entries(dir: &Path) -> BTreeSet<String> {
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m.pointer("/annotations/org.opencontainers.image.ref.name").is_none())
        .map(|m| m["digest"].as_str().unwrap().trim_start_matches("sha256:").to_string())
        .collect()
}

#[tokio::test]
async fn reads_every_notation_fixture_layout_with_its_signatures() {
    let root = notation_layouts();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    assert!(dirs.len() >= 8, "{dirs:?}");
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let expected = expected_signatures(&name).unwrap_or_else(|| panic!("no expectation for fixture {name}"));
        let expected: BTreeSet<String> = expected.iter().map(|h| h.to_string()).collect();
        assert_eq!(untagged_entries(&dir), expected, "{name}: the expectation matches index.json");

        let layout = OciLayout::open(&dir).await.unwrap();
        let v1 = layout.resolve("v1").await.unwrap();
        assert_eq!(v1.media_type, media_types::OCI_IMAGE_MANIFEST, "{name}");
        let referrers = layout.referrers(&v1, None).await.unwrap();
        let found: BTreeSet<String> = referrers.iter().map(|d| d.digest.hex().to_string()).collect();
        assert_eq!(found, expected, "{name}");
        for referrer in &referrers {
            assert_eq!(referrer.artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE), "{name}");
        }
        assert_eq!(layout.referrers(&v1, Some(SBOM)).await.unwrap(), vec![], "{name}");

        let target = MemoryStore::new();
        let report = copy(&layout, "v1", &target, &tags(&["v1"]), &recursive()).await.unwrap();
        assert_eq!(report.referrers_copied, expected.len(), "{name}");
        let copied: BTreeSet<String> =
            target.referrers(&v1, None).await.unwrap().iter().map(|d| d.digest.hex().to_string()).collect();
        assert_eq!(copied, expected, "{name}");
        assert_eq!(target.resolve("v1").await.unwrap().digest, v1.digest, "{name}");
    }
}

#[tokio::test]
async fn a_tag_schema_index_alone_is_enough_to_find_signatures() {
    let fixture = notation_layouts().join("e2e-valid-signature");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
    std::fs::copy(fixture.join("oci-layout"), dir.path().join("oci-layout")).unwrap();
    for entry in std::fs::read_dir(fixture.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join("blobs/sha256").join(path.file_name().unwrap())).unwrap();
    }
    // index.json without the untagged signature entry: only the `sha256-<hex>` index still lists it.
    let mut index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture.join("index.json")).unwrap()).unwrap();
    let manifests = index["manifests"].as_array_mut().unwrap();
    manifests.retain(|m| m.pointer("/annotations/org.opencontainers.image.ref.name").is_some());
    assert_eq!(manifests.len(), 2);
    std::fs::write(dir.path().join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let layout = OciLayout::open(dir.path()).await.unwrap();
    let v1 = layout.resolve("v1").await.unwrap();
    let referrers = layout.referrers(&v1, None).await.unwrap();
    assert_eq!(referrers.len(), 1);
    assert_eq!(referrers[0].digest.hex(), "90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f");
    assert!(referrers[0].annotations.contains_key("io.cncf.notary.x509chain.thumbprint#S256"));
}
