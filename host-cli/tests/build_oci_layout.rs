//! `nv2 build --from-oci-layout`: the notation e2e fixture layout and layouts written from built images are taken
//! byte for byte; broken layouts give typed errors.

mod build_support;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use build_support::{write_oci_layout, TestStore};
use nv2_cli::build::{
    build_from_directory, build_from_oci_layout, parse_platforms, split_layout_argument, BlobSource, BuildError,
    BuildOptions,
};
use nv2_cli::content::fetch_all;
use nv2_core::oci::{media_types, Digest};

/// notation's unsigned e2e layout: under `$NV2_CORPUS_DIR`, else the first `shared/fixtures/notation` above the crate
/// (CI lays `shared/` beside its fresh clone).
fn fixture() -> PathBuf {
    if let Some(dir) = std::env::var_os("NV2_CORPUS_DIR") {
        return PathBuf::from(dir).join("oci-layouts/e2e");
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/fixtures/notation");
        if candidate.is_dir() {
            return candidate.join("oci-layouts/e2e");
        }
        assert!(dir.pop(), "fixture corpus shared/fixtures/notation not found; set NV2_CORPUS_DIR");
    }
}

const FIXTURE_MANIFEST: &str = "sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9";

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test]
async fn takes_the_e2e_fixture_byte_for_byte() {
    let layout = fixture();
    let image = build_from_oci_layout(&layout, Some("v1")).unwrap();
    assert_eq!(image.root.digest.to_string(), FIXTURE_MANIFEST);
    assert_eq!(image.root.media_type, media_types::OCI_IMAGE_MANIFEST);
    assert_eq!(image.source_tags, ["v1"]);
    let on_disk = fs::read(layout.join("blobs/sha256").join(image.root.digest.hex())).unwrap();
    assert_eq!(image.manifests, vec![(image.root.clone(), on_disk)]);
    assert_eq!(image.blobs.len(), 2, "config and layer");
    for blob in &image.blobs {
        assert!(matches!(blob.source, BlobSource::File(_)), "blobs are read in place");
    }
    assert_eq!(build_from_oci_layout(&layout, None).unwrap().root, image.root, "the only image needs no tag");
    assert_eq!(build_from_oci_layout(&layout, Some(FIXTURE_MANIFEST)).unwrap().root, image.root);

    let store = TestStore::default();
    image.push_to(&store).await.unwrap();
    let bytes = fetch_all(&store, &image.root, 1 << 20).await.unwrap();
    assert_eq!(Digest::sha256(&bytes), image.root.digest);
    let layer = image.blobs.iter().find(|b| b.descriptor.media_type == media_types::OCI_LAYER_TAR).unwrap();
    assert_eq!(fetch_all(&store, &layer.descriptor, 1 << 20).await.unwrap(), b"awesome notation\n");
}

#[test]
fn an_index_is_taken_with_all_its_children() {
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("tree");
    fs::create_dir_all(&tree).unwrap();
    fs::write(tree.join("hello.txt"), "hello\n").unwrap();
    let options = BuildOptions { platforms: parse_platforms("linux/amd64,linux/arm64").unwrap(), ..Default::default() };
    let built = build_from_directory(&tree, &options).unwrap();
    let layout = temp.path().join("layout");
    write_oci_layout(&built, &layout, "v2");
    let taken = build_from_oci_layout(&layout, Some("v2")).unwrap();
    assert_eq!(taken.root.digest, built.root.digest);
    let digests = |manifests: &[(nv2_core::oci::Descriptor, Vec<u8>)]| {
        manifests.iter().map(|(d, bytes)| (d.digest.clone(), bytes.clone())).collect::<Vec<_>>()
    };
    assert_eq!(digests(&taken.manifests), digests(&built.manifests), "children first, the index last");
    let mut blob_digests: Vec<_> = taken.blobs.iter().map(|b| b.descriptor.digest.clone()).collect();
    let mut built_digests: Vec<_> = built.blobs.iter().map(|b| b.descriptor.digest.clone()).collect();
    blob_digests.sort_by_key(|d| d.to_string());
    built_digests.sort_by_key(|d| d.to_string());
    assert_eq!(blob_digests, built_digests, "the shared layer once, both configs");
    for blob in &taken.blobs {
        let mut bytes = Vec::new();
        blob.source.open().unwrap().read_to_end(&mut bytes).unwrap();
        blob.descriptor.verify_content(&bytes).unwrap();
    }
}

#[test]
fn splits_layout_arguments() {
    let temp = tempfile::tempdir().unwrap();
    let odd = temp.path().join("dir:with:colons");
    fs::create_dir_all(&odd).unwrap();
    let odd_text = odd.display().to_string();
    assert_eq!(split_layout_argument(&odd_text), (odd.clone(), None), "an existing directory is taken whole");
    assert_eq!(split_layout_argument("layout:v1"), (PathBuf::from("layout"), Some("v1".into())));
    assert_eq!(
        split_layout_argument(&format!("layout@{FIXTURE_MANIFEST}")),
        (PathBuf::from("layout"), Some(FIXTURE_MANIFEST.into()))
    );
    assert_eq!(split_layout_argument("layout"), (PathBuf::from("layout"), None));
    assert_eq!(split_layout_argument("layout:bad tag"), (PathBuf::from("layout:bad tag"), None));
}

#[test]
fn broken_layouts_are_typed_errors() {
    let temp = tempfile::tempdir().unwrap();
    assert!(matches!(build_from_oci_layout(&temp.path().join("absent"), None), Err(BuildError::NotADirectory { .. })));
    assert!(matches!(build_from_oci_layout(temp.path(), None), Err(BuildError::OciLayout { .. })), "no oci-layout");
    assert!(matches!(build_from_oci_layout(&fixture(), Some("v9")), Err(BuildError::ImageSelection { .. })));

    let copy = temp.path().join("copy");
    copy_dir(&fixture(), &copy);
    let layer = copy.join("blobs/sha256/6de5fe1f75e4b1094c98086f403d5fd8117776ebe5aad1609281403d13dea070");
    fs::write(&layer, "awesome notatioN\n").unwrap();
    match build_from_oci_layout(&copy, Some("v1")) {
        Err(BuildError::DigestMismatch { path, .. }) => {
            assert!(path.ends_with(layer.file_name().unwrap().to_str().unwrap()))
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    fs::write(&layer, "short\n").unwrap();
    assert!(matches!(build_from_oci_layout(&copy, Some("v1")), Err(BuildError::OciLayout { .. })), "size differs");
    fs::remove_file(&layer).unwrap();
    assert!(
        matches!(build_from_oci_layout(&copy, Some("v1")), Err(BuildError::OciLayout { ref reason, .. }) if reason.contains("missing"))
    );

    fs::write(copy.join("index.json"), "{not json").unwrap();
    assert!(matches!(build_from_oci_layout(&copy, None), Err(BuildError::Oci { .. })));
    let two = r#"{"schemaVersion":2,"manifests":[
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517,"annotations":{"org.opencontainers.image.ref.name":"a"}},
        {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517,"annotations":{"org.opencontainers.image.ref.name":"b"}}]}"#;
    fs::write(copy.join("index.json"), two).unwrap();
    assert!(matches!(build_from_oci_layout(&copy, None), Err(BuildError::ImageSelection { .. })));
}
