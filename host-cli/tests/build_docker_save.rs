//! `nv2 build --from-docker-save`: docker save tarballs of both shapes, written in the test with the tar crate
//! (and one written by skopeo), converted to OCI images; malformed and hostile tarballs give typed errors.

mod build_support;

use std::io::{Read, Write};
use std::path::Path;

use build_support::{peer_tool, write_oci_layout};
use nv2_cli::build::{build_from_directory, build_from_docker_save, BuildError, BuildOptions, BuiltImage};
use nv2_core::oci::{media_types, Digest, ParsedManifest};
use serde_json::json;

/// One entry of a tarball written by [`archive`]; names are written raw, so hostile ones (`../x`) can be made.
enum Entry<'a> {
    File(&'a str, Vec<u8>),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
}

fn archive(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mode(0o644);
        header.set_mtime(0);
        let (name, kind, data, link): (&str, _, &[u8], Option<&str>) = match entry {
            Entry::File(name, data) => (name, tar::EntryType::Regular, data, None),
            Entry::Dir(name) => (name, tar::EntryType::Directory, &[], None),
            Entry::Symlink(name, target) => (name, tar::EntryType::Symlink, &[], Some(target)),
        };
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        let old = header.as_old_mut();
        old.name[..name.len()].copy_from_slice(name.as_bytes());
        if let Some(link) = link {
            old.linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn layer_one() -> Vec<u8> {
    archive(&[
        Entry::Dir("etc/"),
        Entry::File("etc/app.conf", b"level=1\n".to_vec()),
        Entry::File("usr/bin/tool", b"#!/bin/sh\necho tool\n".to_vec()),
    ])
}

fn layer_two() -> Vec<u8> {
    archive(&[Entry::File("etc/app.conf", b"level=2\n".to_vec()), Entry::File("etc/.wh.old", Vec::new())])
}

fn config_for(diff_ids: &[&[u8]]) -> Vec<u8> {
    let ids: Vec<String> = diff_ids.iter().map(|layer| Digest::sha256(layer).to_string()).collect();
    serde_json::to_vec(&json!({
        "architecture": "arm64",
        "os": "linux",
        "config": {"Entrypoint": ["/usr/bin/tool"], "Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ids},
        "history": [{"created_by": "test"}]
    }))
    .unwrap()
}

/// A legacy `docker save` tarball: `<id>/layer.tar`, `<hex>.json`, and a third layer that repeats the first as a
/// symlink, the way docker writes identical layers.
fn legacy_tarball(manifest: Option<serde_json::Value>) -> (Vec<u8>, Vec<u8>) {
    let (one, two) = (layer_one(), layer_two());
    let config = config_for(&[&one, &two, &one]);
    let config_name = format!("{}.json", Digest::sha256(&config).hex());
    let manifest = manifest.unwrap_or_else(|| {
        json!([{"Config": config_name, "RepoTags": ["net-monitor:v1"],
                "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"]}])
    });
    let tarball = archive(&[
        Entry::Dir("aaa/"),
        Entry::File("aaa/VERSION", b"1.0".to_vec()),
        Entry::File("aaa/json", b"{}".to_vec()),
        Entry::File("aaa/layer.tar", one),
        Entry::Dir("bbb/"),
        Entry::File("bbb/layer.tar", two),
        Entry::Dir("ccc/"),
        Entry::Symlink("ccc/layer.tar", "../aaa/layer.tar"),
        Entry::File(&config_name, config.clone()),
        Entry::File("manifest.json", serde_json::to_vec(&manifest).unwrap()),
        Entry::File("repositories", br#"{"net-monitor":{"v1":"x"}}"#.to_vec()),
    ]);
    (tarball, config)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn blob_bytes(image: &BuiltImage, digest: &Digest) -> Vec<u8> {
    let blob = image.blobs.iter().find(|b| &b.descriptor.digest == digest).unwrap();
    let mut bytes = Vec::new();
    blob.source.open().unwrap().read_to_end(&mut bytes).unwrap();
    bytes
}

#[test]
fn converts_a_legacy_docker_save_tarball() {
    let temp = tempfile::tempdir().unwrap();
    let (tarball, config) = legacy_tarball(None);
    let path = write(temp.path(), "image.tar", &tarball);
    let image = build_from_docker_save(&path, None).unwrap();
    assert_eq!(image.source_tags, ["net-monitor:v1"]);
    assert_eq!(image.manifests.len(), 1);
    let manifest = ParsedManifest::parse(Some(&image.root.media_type), &image.manifests[0].1).unwrap();
    let manifest = manifest.as_image_manifest().unwrap();
    assert_eq!(manifest.config.media_type, media_types::OCI_IMAGE_CONFIG);
    assert_eq!(blob_bytes(&image, &manifest.config.digest), config, "config bytes are kept as they are");
    assert_eq!(manifest.layers.len(), 3);
    assert_eq!(manifest.layers[0].digest, manifest.layers[2].digest, "the symlinked layer is the same layer");
    assert!(manifest.layers.iter().all(|l| l.media_type == media_types::OCI_LAYER_TAR_GZIP));
    assert_eq!(image.blobs.len(), 3, "config and two distinct layers");
    assert_eq!(gunzip(&blob_bytes(&image, &manifest.layers[0].digest)), layer_one());
    assert_eq!(gunzip(&blob_bytes(&image, &manifest.layers[1].digest)), layer_two());

    let again = build_from_docker_save(&path, Some("net-monitor:v1")).unwrap();
    assert_eq!(again.root, image.root, "the conversion is reproducible");
    let gzipped = write(temp.path(), "image.tar.gz", &gzip(&tarball));
    assert_eq!(build_from_docker_save(&gzipped, None).unwrap().root, image.root, "docker save | gzip reads the same");
}

#[test]
fn converts_a_docker_25_tarball_that_is_also_an_oci_layout() {
    let temp = tempfile::tempdir().unwrap();
    let one = layer_one();
    let two_gzip = gzip(&layer_two());
    let config = config_for(&[&one, &layer_two()]);
    let blob = |bytes: &[u8]| format!("blobs/sha256/{}", Digest::sha256(bytes).hex());
    let manifest_json = json!([{"Config": blob(&config), "RepoTags": null, "Layers": [blob(&one), blob(&two_gzip)]}]);
    let tarball = archive(&[
        Entry::File("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
        Entry::File("index.json", br#"{"schemaVersion":2,"manifests":[]}"#.to_vec()),
        Entry::Dir("blobs/"),
        Entry::Dir("blobs/sha256/"),
        Entry::File(&blob(&one), one.clone()),
        Entry::File(&blob(&two_gzip), two_gzip.clone()),
        Entry::File(&blob(&config), config.clone()),
        Entry::File("manifest.json", serde_json::to_vec(&manifest_json).unwrap()),
    ]);
    let path = write(temp.path(), "image.tar", &tarball);
    let image = build_from_docker_save(&path, None).unwrap();
    assert!(image.source_tags.is_empty());
    let manifest = ParsedManifest::parse(Some(&image.root.media_type), &image.manifests[0].1).unwrap();
    let layers = &manifest.as_image_manifest().unwrap().layers;
    assert_eq!(gunzip(&blob_bytes(&image, &layers[0].digest)), one, "the uncompressed layer is compressed");
    assert_eq!(layers[1].digest, Digest::sha256(&two_gzip), "an already-gzip layer is kept byte for byte");
    assert_eq!(blob_bytes(&image, &manifest.as_image_manifest().unwrap().config.digest), config);

    // A blob whose content does not match its name is refused.
    let mut tampered_config = config.clone();
    tampered_config.push(b' ');
    let bad = archive(&[
        Entry::File(&blob(&one), one.clone()),
        Entry::File(&blob(&two_gzip), two_gzip.clone()),
        Entry::File(&blob(&config), tampered_config),
        Entry::File("manifest.json", serde_json::to_vec(&manifest_json).unwrap()),
    ]);
    let path = write(temp.path(), "bad.tar", &bad);
    assert!(matches!(build_from_docker_save(&path, None), Err(BuildError::DigestMismatch { .. })));
}

#[test]
fn malformed_and_hostile_tarballs_are_typed_errors() {
    let temp = tempfile::tempdir().unwrap();
    let (one, two) = (layer_one(), layer_two());
    let config = config_for(&[&one, &two, &one]);
    let config_name = format!("{}.json", Digest::sha256(&config).hex());
    let run = |name: &str, tarball: Vec<u8>| build_from_docker_save(&write(temp.path(), name, &tarball), None);

    assert!(matches!(build_from_docker_save(&temp.path().join("absent.tar"), None), Err(BuildError::Io { .. })));
    assert!(matches!(run("garbage.tar", vec![b'x'; 2048]), Err(BuildError::DockerSave { .. })));
    let no_manifest = archive(&[Entry::File("aaa/layer.tar", one.clone())]);
    assert!(
        matches!(run("no-manifest.tar", no_manifest), Err(BuildError::DockerSave { ref reason, .. }) if reason.contains("manifest.json"))
    );
    for bad_manifest in [&b"{"[..], br#"{"Config":"x"}"#, br#"[{"Layers":[]}]"#, b"[]"] {
        let tarball = archive(&[Entry::File("manifest.json", bad_manifest.to_vec())]);
        assert!(
            matches!(run("bad-manifest.tar", tarball), Err(BuildError::DockerSave { .. })),
            "{}",
            String::from_utf8_lossy(bad_manifest)
        );
    }

    for layer_name in ["../../etc/passwd", "/aaa/layer.tar", "aaa/../../x"] {
        let manifest = json!([{"Config": config_name, "Layers": [layer_name]}]);
        let (tarball, _) = legacy_tarball(Some(manifest));
        assert!(matches!(run("traversal.tar", tarball), Err(BuildError::PathTraversal { .. })), "{layer_name}");
    }
    let escaping_link = archive(&[
        Entry::Symlink("aaa/layer.tar", "../../outside.tar"),
        Entry::File(
            "manifest.json",
            serde_json::to_vec(&json!([{"Config": "c.json", "Layers": ["aaa/layer.tar"]}])).unwrap(),
        ),
    ]);
    assert!(matches!(run("link.tar", escaping_link), Err(BuildError::PathTraversal { .. })));

    let evil_layer = archive(&[Entry::File("../../etc/cron.d/evil", b"* * * * * root sh\n".to_vec())]);
    let evil_config = config_for(&[&evil_layer]);
    let evil_name = format!("{}.json", Digest::sha256(&evil_config).hex());
    let evil = archive(&[
        Entry::File("aaa/layer.tar", evil_layer),
        Entry::File(&evil_name, evil_config),
        Entry::File(
            "manifest.json",
            serde_json::to_vec(&json!([{"Config": evil_name, "Layers": ["aaa/layer.tar"]}])).unwrap(),
        ),
    ]);
    match run("evil.tar", evil) {
        Err(BuildError::PathTraversal { container, entry }) => {
            assert!(
                container.contains("aaa/layer.tar") && entry.contains("../../etc/cron.d/evil"),
                "{container} {entry}"
            )
        }
        other => panic!("expected a path traversal error, got {other:?}"),
    }

    let not_a_tar_layer = archive(&[
        Entry::File("aaa/layer.tar", b"definitely not a tar archive".repeat(40)),
        Entry::File(
            "manifest.json",
            serde_json::to_vec(&json!([{"Config": config_name, "Layers": ["aaa/layer.tar"]}])).unwrap(),
        ),
        Entry::File(&config_name, config.clone()),
    ]);
    assert!(matches!(run("bad-layer.tar", not_a_tar_layer), Err(BuildError::MalformedLayer { .. })));

    let wrong_ids = config_for(&[&two, &two, &one]);
    let wrong_name = format!("{}.json", Digest::sha256(&wrong_ids).hex());
    let manifest = json!([{"Config": wrong_name, "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"]}]);
    let (mut tarball, _) = legacy_tarball(Some(manifest.clone()));
    tarball = append_entry(tarball, &wrong_name, &wrong_ids);
    match run("mismatch.tar", tarball) {
        Err(BuildError::DiffIdMismatch { layer, expected, actual, .. }) => {
            assert_eq!(layer, "aaa/layer.tar");
            assert_eq!((expected, actual), (Digest::sha256(&two).to_string(), Digest::sha256(&one).to_string()));
        }
        other => panic!("expected a diff_id mismatch, got {other:?}"),
    }
    let short = config_for(&[&one]);
    let short_name = format!("{}.json", Digest::sha256(&short).hex());
    let manifest = json!([{"Config": short_name, "Layers": ["aaa/layer.tar", "bbb/layer.tar"]}]);
    let (tarball, _) = legacy_tarball(Some(manifest));
    let tarball = append_entry(tarball, &short_name, &short);
    assert!(matches!(run("count.tar", tarball), Err(BuildError::DiffIdCount { expected: 1, actual: 2, .. })));

    let manifest = json!([{"Config": config_name, "Layers": ["aaa/layer.tar", "zzz/layer.tar"]}]);
    let (tarball, _) = legacy_tarball(Some(manifest));
    assert!(
        matches!(run("missing.tar", tarball), Err(BuildError::MissingEntry { ref entry, .. }) if entry == "zzz/layer.tar")
    );

    let manifest = json!([
        {"Config": config_name, "RepoTags": ["a:v1"], "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"]},
        {"Config": config_name, "RepoTags": ["b:v1"], "Layers": ["aaa/layer.tar", "bbb/layer.tar", "ccc/layer.tar"]}
    ]);
    let (tarball, _) = legacy_tarball(Some(manifest));
    let path = write(temp.path(), "two.tar", &tarball);
    assert!(matches!(build_from_docker_save(&path, None), Err(BuildError::ImageSelection { .. })));
    assert!(matches!(build_from_docker_save(&path, Some("c:v1")), Err(BuildError::ImageSelection { .. })));
    assert_eq!(build_from_docker_save(&path, Some("b:v1")).unwrap().source_tags, ["b:v1"]);
}

/// `tarball` with one more regular file (appended before the end-of-archive blocks).
fn append_entry(tarball: Vec<u8>, name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut entries = Vec::new();
    let mut archive_in = tar::Archive::new(&tarball[..]);
    for entry in archive_in.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        entries.push((header, data));
    }
    let mut builder = tar::Builder::new(Vec::new());
    for (header, data) in entries {
        builder.append(&header, &data[..]).unwrap();
    }
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    builder.append_data(&mut header, name, bytes).unwrap();
    builder.into_inner().unwrap()
}

#[test]
fn a_tarball_written_by_skopeo_converts_back_to_the_same_image() {
    let Some(skopeo) = peer_tool("skopeo") else { return };
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("tree");
    std::fs::create_dir_all(tree.join("usr/bin")).unwrap();
    std::fs::write(tree.join("usr/bin/tool"), "#!/bin/sh\necho tool\n").unwrap();
    let options = BuildOptions { entrypoint: vec!["/usr/bin/tool".into()], ..Default::default() };
    let built = build_from_directory(&tree, &options).unwrap();
    let layout = temp.path().join("layout");
    write_oci_layout(&built, &layout, "v1");
    let tarball = temp.path().join("saved.tar");
    let status = std::process::Command::new(&skopeo)
        .args([
            "copy",
            "--quiet",
            &format!("oci:{}:v1", layout.display()),
            &format!("docker-archive:{}:net-monitor:v1", tarball.display()),
        ])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let converted = build_from_docker_save(&tarball, None).unwrap();
    assert_eq!(converted.source_tags, ["docker.io/library/net-monitor:v1"], "skopeo writes the full name");
    let selected = build_from_docker_save(&tarball, Some("net-monitor:v1")).unwrap();
    assert_eq!(selected.root, converted.root, "a short name selects its normalised RepoTags entry");
    assert_eq!(converted.root.digest, built.root.digest, "same config, same layer, same gzip settings: same image");
}
