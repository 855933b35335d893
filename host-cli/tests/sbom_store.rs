//! The demo image end to end: `host-cli/demo/net-monitor` built, pushed into a store, scanned from the store, its
//! SBoM generated and attached as a referrer; plus platform selection in an index and what cannot be scanned.

mod build_support;

use std::collections::BTreeMap;
use std::path::PathBuf;

use build_support::TestStore;
use nv2_cli::build::{build_from_directory, parse_platform, parse_platforms, BuildOptions};
use nv2_cli::content::{fetch_all, ContentError, ContentStore};
use nv2_cli::sbom::{attach, generate, scan_image, Sbom, SbomError, SbomFormat};
use nv2_core::oci::{media_types, ParsedManifest};

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo/net-monitor")
}

const CREATED: &str = "2024-06-01T00:00:00Z";

#[tokio::test]
async fn the_demo_image_gets_an_attached_sbom_listing_its_packages() {
    let options = BuildOptions {
        entrypoint: vec!["/usr/local/bin/net-monitor".into()],
        source_date_epoch: Some(1_717_200_000),
        ..Default::default()
    };
    let image = build_from_directory(&demo(), &options).unwrap();
    let store = TestStore::default();
    let root = image.push_to(&store).await.unwrap();
    store.tag(&root, "v1").await.unwrap();

    let scanned = scan_image(&store, &store.resolve("v1").await.unwrap(), None).await.unwrap();
    assert_eq!(scanned.manifest.digest, root.digest);
    assert_eq!(scanned.platform.as_ref().map(|p| p.architecture.as_str()), Some("amd64"), "from the config");
    for path in ["usr/local/bin/net-monitor", "etc/net-monitor/config.yaml", "var/lib/dpkg/status"] {
        assert!(scanned.contents.has_file(path), "{path}");
    }
    let subject = scanned.subject("registry.example/net-monitor:v1");
    let sbom = generate(&scanned.contents, &subject, SbomFormat::Spdx, CREATED).unwrap();
    let packages = sbom.packages().unwrap();
    let listed: Vec<(&str, &str)> =
        packages.iter().map(|p| (p.name.as_str(), p.purl.as_deref().unwrap_or_default())).collect();
    assert_eq!(
        listed,
        [
            ("ca-certificates", "pkg:deb/debian/ca-certificates@20230311?arch=all&distro=debian-12"),
            ("curl", "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64&distro=debian-12"),
            ("libc6", "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"),
            ("requests", "pkg:pypi/requests@2.31.0"),
        ]
    );

    let annotations = BTreeMap::from([("org.opencontainers.image.created".to_string(), CREATED.to_string())]);
    let referrer = attach(&store, &root, &sbom, &annotations).await.unwrap();
    assert_eq!(referrer.descriptor.artifact_type.as_deref(), Some("application/spdx+json"));
    let found = store.referrers(&root, Some("application/spdx+json")).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].digest, referrer.descriptor.digest);
    assert_eq!(found[0].annotations, annotations);
    let bytes = fetch_all(&store, &found[0], 1 << 20).await.unwrap();
    let manifest = ParsedManifest::parse(Some(media_types::OCI_IMAGE_MANIFEST), &bytes).unwrap();
    assert_eq!(manifest.subject().unwrap().digest, root.digest);
    assert_eq!(manifest.artifact_type(), Some("application/spdx+json"));
    let layer = &manifest.as_image_manifest().unwrap().layers[0];
    assert_eq!(layer.annotations["org.opencontainers.image.title"], "sbom.spdx.json");
    let stored = Sbom::from_bytes(fetch_all(&store, layer, 1 << 24).await.unwrap()).unwrap();
    assert_eq!(stored, sbom, "the attached document is the generated one, byte for byte");
    assert!(store.referrers(&root, Some("application/vnd.cyclonedx+json")).await.unwrap().is_empty());

    match scan_image(&store, &referrer.descriptor, None).await {
        Err(SbomError::NotAnImage { reason, .. }) => assert!(reason.contains("config"), "{reason}"),
        other => panic!("an SBoM referrer is not an image to scan: {other:?}"),
    }
}

#[tokio::test]
async fn an_index_is_scanned_for_the_platform_asked_for() {
    let options = BuildOptions { platforms: parse_platforms("linux/amd64,linux/arm64").unwrap(), ..Default::default() };
    let image = build_from_directory(&demo(), &options).unwrap();
    let store = TestStore::default();
    let root = image.push_to(&store).await.unwrap();
    assert!(matches!(scan_image(&store, &root, None).await, Err(SbomError::PlatformSelection { .. })));
    let riscv = parse_platform("linux/riscv64").unwrap();
    assert!(matches!(scan_image(&store, &root, Some(&riscv)).await, Err(SbomError::PlatformSelection { .. })));
    let arm = parse_platform("linux/arm64").unwrap();
    let scanned = scan_image(&store, &root, Some(&arm)).await.unwrap();
    assert_eq!(scanned.manifest.digest, image.manifests[1].0.digest);
    let subject = scanned.subject("registry.example/net-monitor:v1");
    assert!(subject.purl().contains("arch=arm64"), "{}", subject.purl());
    assert_eq!(scanned.contents.packages().len(), 4);
}

#[tokio::test]
async fn a_layer_that_does_not_match_its_digest_is_refused() {
    let image = build_from_directory(&demo(), &BuildOptions::default()).unwrap();
    let store = TestStore::default();
    let root = image.push_to(&store).await.unwrap();
    let layer = image.blobs.iter().find(|b| b.descriptor.media_type == media_types::OCI_LAYER_TAR_GZIP).unwrap();
    let mut tampered = store.bytes(&layer.descriptor.digest).unwrap();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    store.corrupt(&layer.descriptor.digest, tampered);
    assert!(matches!(scan_image(&store, &root, None).await, Err(SbomError::Content(ContentError::Mismatch { .. }))));
}
