//! `nv2 build <dir>`: reproducible images from real directories in a tempdir, checked by untarring the layer,
//! parsing the config and manifest, pushing into a store, and reading the result with skopeo.

mod build_support;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime};

use build_support::{peer_tool, write_oci_layout, TestStore};
use nv2_cli::build::{build_from_directory, parse_platforms, BlobSource, BuildError, BuildOptions, BuiltImage};
use nv2_cli::content::{fetch_all, ContentStore};
use nv2_core::oci::{media_types, Digest, ParsedManifest};
use serde_json::Value;

/// A small tree with the kinds of entry a layer carries: nested files, an executable, an empty directory, a
/// symlink inside the tree, one pointing out of it, and a name longer than a tar header holds.
fn sample_tree(root: &Path) {
    fs::create_dir_all(root.join("usr/local/bin")).unwrap();
    fs::create_dir_all(root.join("etc/app")).unwrap();
    fs::create_dir_all(root.join("var/empty")).unwrap();
    fs::write(root.join("usr/local/bin/app"), "#!/bin/sh\necho hello\n").unwrap();
    fs::write(root.join("etc/app/config.yaml"), "interval: 5s\n").unwrap();
    let long_dir = root.join("opt").join("d".repeat(60)).join("e".repeat(60));
    fs::create_dir_all(&long_dir).unwrap();
    fs::write(long_dir.join("long-name.txt"), "long\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::{symlink, PermissionsExt};
        fs::set_permissions(root.join("usr/local/bin/app"), fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(root.join("etc/app/config.yaml"), fs::Permissions::from_mode(0o640)).unwrap();
        symlink("../../etc/app/config.yaml", root.join("usr/local/config.yaml")).unwrap();
        symlink("/etc/passwd", root.join("etc/app/passwd")).unwrap();
    }
}

fn set_mtime_everywhere(root: &Path, when: SystemTime) {
    for entry in walk(root) {
        if !entry.symlink_metadata().unwrap().file_type().is_symlink() {
            fs::File::open(&entry).unwrap().set_modified(when).unwrap();
        }
    }
}

fn walk(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(root).unwrap() {
        let path = entry.unwrap().path();
        if path.symlink_metadata().unwrap().is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

fn read_source(source: &BlobSource) -> Vec<u8> {
    let mut bytes = Vec::new();
    source.open().unwrap().read_to_end(&mut bytes).unwrap();
    bytes
}

fn layer_bytes(image: &BuiltImage) -> Vec<u8> {
    let layer = image.blobs.iter().find(|b| b.descriptor.media_type == media_types::OCI_LAYER_TAR_GZIP).unwrap();
    read_source(&layer.source)
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
    out
}

fn config_of(image: &BuiltImage, manifest_bytes: &[u8]) -> Value {
    let parsed = ParsedManifest::parse(Some(media_types::OCI_IMAGE_MANIFEST), manifest_bytes).unwrap();
    let config = &parsed.as_image_manifest().unwrap().config;
    assert_eq!(config.media_type, media_types::OCI_IMAGE_CONFIG);
    serde_json::from_slice(&read_source(&image.blob(config).unwrap().source)).unwrap()
}

#[test]
fn same_tree_gives_the_same_digest_whatever_the_mtimes() {
    let temp = tempfile::tempdir().unwrap();
    let (a, b) = (temp.path().join("a"), temp.path().join("b"));
    sample_tree(&a);
    sample_tree(&b);
    set_mtime_everywhere(&b, SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000));
    let options = BuildOptions { entrypoint: vec!["/usr/local/bin/app".into()], ..Default::default() };
    let first = build_from_directory(&a, &options).unwrap();
    let again = build_from_directory(&a, &options).unwrap();
    let other_copy = build_from_directory(&b, &options).unwrap();
    assert_eq!(first.root, again.root);
    assert_eq!(first.root.digest, other_copy.root.digest, "mtimes on disk must not change the digest");
    assert_eq!(layer_bytes(&first), layer_bytes(&other_copy));

    // With SOURCE_DATE_EPOCH, files newer than it are clamped to it: two trees touched at different (later)
    // times still agree, and the build time is recorded.
    let epoch = 1_700_000_000;
    set_mtime_everywhere(&a, SystemTime::UNIX_EPOCH + Duration::from_secs(epoch + 10));
    set_mtime_everywhere(&b, SystemTime::UNIX_EPOCH + Duration::from_secs(epoch + 99_999));
    let clamped = BuildOptions { source_date_epoch: Some(epoch), ..options.clone() };
    let x = build_from_directory(&a, &clamped).unwrap();
    let y = build_from_directory(&b, &clamped).unwrap();
    assert_eq!(x.root.digest, y.root.digest);
    assert_ne!(x.root.digest, first.root.digest, "a different SOURCE_DATE_EPOCH is a different image");
    let manifest = ParsedManifest::parse(Some(media_types::OCI_IMAGE_MANIFEST), &x.manifests[0].1).unwrap();
    assert_eq!(manifest.annotations().get("org.opencontainers.image.created").unwrap(), "2023-11-14T22:13:20Z");
    assert_eq!(config_of(&x, &x.manifests[0].1)["created"], "2023-11-14T22:13:20Z");
    let tar = gunzip(&layer_bytes(&x));
    for entry in tar::Archive::new(&tar[..]).entries().unwrap() {
        assert_eq!(entry.unwrap().header().mtime().unwrap(), epoch);
    }

    // A changed file is a different image.
    fs::write(a.join("etc/app/config.yaml"), "interval: 6s\n").unwrap();
    assert_ne!(build_from_directory(&a, &options).unwrap().root.digest, first.root.digest);
}

#[test]
fn the_layer_holds_the_tree_normalised_and_the_config_describes_it() {
    let temp = tempfile::tempdir().unwrap();
    let root = temp.path().join("tree");
    sample_tree(&root);
    let options = BuildOptions {
        entrypoint: vec!["/usr/local/bin/app".into(), "--verbose".into()],
        cmd: vec!["--interval".into(), "5s".into()],
        env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into(), "MODE=demo".into()],
        working_dir: Some("/etc/app".into()),
        labels: BTreeMap::from([("org.opencontainers.image.title".into(), "app".into())]),
        ..Default::default()
    };
    let image = build_from_directory(&root, &options).unwrap();
    assert_eq!(image.root.media_type, media_types::OCI_IMAGE_MANIFEST);
    assert_eq!(image.manifests.len(), 1);
    let (descriptor, manifest_bytes) = &image.manifests[0];
    assert_eq!(descriptor, &image.root);
    descriptor.verify_content(manifest_bytes).unwrap();
    let manifest = ParsedManifest::parse(Some(&descriptor.media_type), manifest_bytes).unwrap();
    let layers = &manifest.as_image_manifest().unwrap().layers;
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].media_type, media_types::OCI_LAYER_TAR_GZIP);

    let compressed = layer_bytes(&image);
    layers[0].verify_content(&compressed).unwrap();
    assert_eq!(&compressed[..10], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255], "gzip header: no name, mtime 0");
    let tar = gunzip(&compressed);
    let config = config_of(&image, manifest_bytes);
    assert_eq!(config["rootfs"]["type"], "layers");
    assert_eq!(config["rootfs"]["diff_ids"][0], Digest::sha256(&tar).to_string());
    assert_eq!((config["os"].as_str(), config["architecture"].as_str()), (Some("linux"), Some("amd64")));
    assert_eq!(config["created"], "1970-01-01T00:00:00Z");
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/usr/local/bin/app", "--verbose"]));
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["--interval", "5s"]));
    assert_eq!(config["config"]["Env"][1], "MODE=demo");
    assert_eq!(config["config"]["WorkingDir"], "/etc/app");
    assert_eq!(config["config"]["Labels"]["org.opencontainers.image.title"], "app");
    assert_eq!(config["history"].as_array().unwrap().len(), 1);

    // Untar: every entry, in sorted order, owned by root, mtime 0, modes and symlink targets preserved.
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(&tar[..]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let header = entry.header().clone();
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        assert_eq!((header.uid().unwrap(), header.gid().unwrap(), header.mtime().unwrap()), (0, 0, 0), "{name}");
        let mut content = String::new();
        entry.read_to_string(&mut content).unwrap();
        match name.as_str() {
            "usr/local/bin/app" => {
                assert_eq!(content, "#!/bin/sh\necho hello\n");
                assert_eq!(header.mode().unwrap(), 0o755);
            }
            "etc/app/config.yaml" => assert_eq!(header.mode().unwrap(), 0o640),
            "usr/local/config.yaml" => {
                assert_eq!(header.entry_type(), tar::EntryType::Symlink);
                assert_eq!(entry.link_name().unwrap().unwrap().to_str(), Some("../../etc/app/config.yaml"));
            }
            "etc/app/passwd" => {
                assert_eq!(header.entry_type(), tar::EntryType::Symlink, "a symlink out of the tree is not followed");
                assert_eq!(entry.link_name().unwrap().unwrap().to_str(), Some("/etc/passwd"));
                assert!(content.is_empty());
            }
            n if n.ends_with("long-name.txt") => {
                assert!(n.len() > 100, "the long name survives whole through its PAX record");
                assert_eq!(content, "long\n");
            }
            n if n.ends_with('/') => assert_eq!(header.entry_type(), tar::EntryType::Directory, "{n}"),
            other => panic!("unexpected entry {other}"),
        }
        names.push(name);
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"var/empty/".to_string()));
    assert_eq!(names.len(), 15, "10 directories, 3 files, 2 symlinks: {names:?}");
}

#[test]
fn several_platforms_give_an_index_over_images_sharing_the_layer() {
    let temp = tempfile::tempdir().unwrap();
    sample_tree(temp.path());
    let options =
        BuildOptions { platforms: parse_platforms("linux/amd64,linux/arm64/v8").unwrap(), ..Default::default() };
    let image = build_from_directory(temp.path(), &options).unwrap();
    assert_eq!(image.root.media_type, media_types::OCI_IMAGE_INDEX);
    assert_eq!(image.manifests.len(), 3);
    let (index_descriptor, index_bytes) = image.manifests.last().unwrap();
    assert_eq!(index_descriptor, &image.root);
    let index = ParsedManifest::parse(Some(media_types::OCI_IMAGE_INDEX), index_bytes).unwrap();
    let entries = &index.as_image_index().unwrap().manifests;
    let platforms: Vec<String> = entries
        .iter()
        .map(|d| nv2_cli::build::platform_name(d.platform.as_ref().expect("index entries carry their platform")))
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
    let mut layer_digests = Vec::new();
    for (entry, (descriptor, bytes)) in entries.iter().zip(&image.manifests) {
        assert_eq!(entry.digest, descriptor.digest);
        let config = config_of(&image, bytes);
        assert_eq!(config["architecture"], entry.platform.as_ref().unwrap().architecture);
        let manifest = ParsedManifest::parse(Some(media_types::OCI_IMAGE_MANIFEST), bytes).unwrap();
        layer_digests.push(manifest.as_image_manifest().unwrap().layers[0].digest.clone());
    }
    assert_eq!(layer_digests[0], layer_digests[1]);
    assert_eq!(image.blobs.len(), 3, "one shared layer and two configs");
    let config = config_of(&image, &image.manifests[1].1);
    assert_eq!(config["variant"], "v8");
}

#[tokio::test]
async fn pushing_sends_everything_once_and_skips_what_the_store_has() {
    let temp = tempfile::tempdir().unwrap();
    sample_tree(temp.path());
    let options = BuildOptions { platforms: parse_platforms("linux/amd64,linux/arm64").unwrap(), ..Default::default() };
    let image = build_from_directory(temp.path(), &options).unwrap();
    let store = TestStore::default();
    let root = image.push_to(&store).await.unwrap();
    assert_eq!(root, image.root);
    assert_eq!(store.pushes(), 6, "layer, two configs, two manifests, the index");
    let index = fetch_all(&store, &root, 1 << 20).await.unwrap();
    let index = ParsedManifest::parse(Some(&root.media_type), &index).unwrap();
    for child in index.references() {
        let bytes = fetch_all(&store, child.descriptor, 1 << 20).await.unwrap();
        let manifest = ParsedManifest::parse(Some(&child.descriptor.media_type), &bytes).unwrap();
        for blob in manifest.references() {
            assert!(store.exists(blob.descriptor).await.unwrap());
        }
    }
    image.push_to(&store).await.unwrap();
    assert_eq!(store.pushes(), 6, "a second push skips everything");
}

#[test]
fn a_large_file_is_spooled_to_disk_and_survives_the_round_trip() {
    let temp = tempfile::tempdir().unwrap();
    // 9 MiB that gzip cannot shrink below the in-memory limit.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let content: Vec<u8> = (0..9 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    fs::write(temp.path().join("blob.bin"), &content).unwrap();
    let image = build_from_directory(temp.path(), &BuildOptions::default()).unwrap();
    let layer = image.blobs.iter().find(|b| b.descriptor.media_type == media_types::OCI_LAYER_TAR_GZIP).unwrap();
    assert!(matches!(layer.source, BlobSource::TempFile(_)), "{:?}", layer.source);
    let tar = gunzip(&read_source(&layer.source));
    let mut archive = tar::Archive::new(&tar[..]);
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let mut back = Vec::new();
    entry.read_to_end(&mut back).unwrap();
    assert!(back == content, "the file's bytes come back unchanged");
}

#[test]
fn bad_inputs_are_typed_errors() {
    let temp = tempfile::tempdir().unwrap();
    let options = BuildOptions::default();
    assert!(matches!(
        build_from_directory(&temp.path().join("missing"), &options),
        Err(BuildError::Io { ref path, .. }) if path.ends_with("missing")
    ));
    fs::write(temp.path().join("file"), "x").unwrap();
    assert!(matches!(build_from_directory(&temp.path().join("file"), &options), Err(BuildError::NotADirectory { .. })));
    for bad in [
        BuildOptions { env: vec!["NOEQUALS".into()], ..Default::default() },
        BuildOptions { working_dir: Some("relative".into()), ..Default::default() },
    ] {
        assert!(matches!(build_from_directory(temp.path(), &bad), Err(BuildError::InvalidOption { .. })));
    }
    #[cfg(unix)]
    {
        let special = temp.path().join("special");
        fs::create_dir(&special).unwrap();
        let _listener = std::os::unix::net::UnixListener::bind(special.join("app.sock")).unwrap();
        let error = build_from_directory(&special, &options).unwrap_err();
        assert!(matches!(error, BuildError::SpecialFile { kind: "socket", .. }), "{error}");
        assert!(error.to_string().contains("app.sock"));

        use std::os::unix::fs::PermissionsExt;
        let unreadable = temp.path().join("unreadable");
        fs::create_dir(&unreadable).unwrap();
        fs::write(unreadable.join("secret"), "x").unwrap();
        fs::set_permissions(unreadable.join("secret"), fs::Permissions::from_mode(0o000)).unwrap();
        // root reads anything; the check only means something for other users.
        if fs::read(unreadable.join("secret")).is_err() {
            assert!(matches!(build_from_directory(&unreadable, &options), Err(BuildError::Io { .. })));
        }
    }
}

#[test]
fn skopeo_reads_the_built_image() {
    let Some(skopeo) = peer_tool("skopeo") else { return };
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("tree");
    sample_tree(&tree);
    let options = BuildOptions {
        entrypoint: vec!["/usr/local/bin/app".into()],
        env: vec!["MODE=demo".into()],
        ..Default::default()
    };
    let image = build_from_directory(&tree, &options).unwrap();
    let layout = temp.path().join("layout");
    write_oci_layout(&image, &layout, "v1");
    let reference = format!("oci:{}:v1", layout.display());
    let inspect = std::process::Command::new(&skopeo).args(["inspect", "--config", &reference]).output().unwrap();
    assert!(inspect.status.success(), "{}", String::from_utf8_lossy(&inspect.stderr));
    let config: Value = serde_json::from_slice(&inspect.stdout).unwrap();
    assert_eq!(config["config"]["Entrypoint"][0], "/usr/local/bin/app");
    assert_eq!(config["config"]["Env"][0], "MODE=demo");
    // Copying checks every blob's digest and decompresses the layer.
    let out = temp.path().join("copied");
    let copy = std::process::Command::new(&skopeo)
        .args(["copy", "--quiet", &reference, &format!("dir:{}", out.display())])
        .output()
        .unwrap();
    assert!(copy.status.success(), "{}", String::from_utf8_lossy(&copy.stderr));
    let manifest = fs::read(out.join("manifest.json")).unwrap();
    assert_eq!(Digest::sha256(&manifest), image.root.digest, "skopeo keeps the manifest byte for byte");
}

#[test]
fn gnu_tar_reads_the_layer_names_owners_and_modes() {
    let Some(tar) = peer_tool("tar") else { return };
    let temp = tempfile::tempdir().unwrap();
    let tree = temp.path().join("tree");
    sample_tree(&tree);
    let image = build_from_directory(&tree, &BuildOptions::default()).unwrap();
    let layer = temp.path().join("layer.tar.gz");
    fs::write(&layer, layer_bytes(&image)).unwrap();
    let listing = std::process::Command::new(tar).args(["--numeric-owner", "-tvzf"]).arg(&layer).output().unwrap();
    assert!(listing.status.success(), "{}", String::from_utf8_lossy(&listing.stderr));
    let text = String::from_utf8(listing.stdout).unwrap();
    let long = format!("opt/{}/{}/long-name.txt", "d".repeat(60), "e".repeat(60));
    assert!(text.lines().any(|l| l.ends_with(&long)), "the PAX long name is read whole:\n{text}");
    let app = text.lines().find(|l| l.ends_with("usr/local/bin/app")).unwrap();
    assert!(app.starts_with("-rwxr-xr-x 0/0"), "{app}");
    assert!(text.lines().any(|l| l.starts_with("l") && l.ends_with("etc/app/passwd -> /etc/passwd")), "{text}");
    assert_eq!(text.lines().count(), 15);
}
