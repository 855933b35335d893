//! Checks against the real OCI image layouts notation's e2e suite produced (shared/fixtures/notation/oci-layouts):
//! every blob matches its digest, every manifest reachable from index.json parses with the type its descriptor
//! announces, the signatures of the tagged image are found through their `subject`, and the fallback-tag referrers
//! index notation wrote is byte-for-byte what [`referrers_index`] builds from [`referrer_descriptor`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::string::String;
use std::vec::Vec;

use super::*;

fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("NV2_CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/fixtures/notation");
        if candidate.is_dir() {
            return candidate;
        }
        assert!(dir.pop(), "shared/fixtures/notation not found above CARGO_MANIFEST_DIR; set NV2_CORPUS_DIR");
    }
}

struct Layout {
    name: String,
    index: ParsedManifest,
    blobs: BTreeMap<Digest, Vec<u8>>,
}

fn layouts() -> Vec<Layout> {
    let root = corpus_dir().join("oci-layouts");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    names.iter().map(|dir| load(dir)).collect()
}

fn load(dir: &Path) -> Layout {
    let index_bytes = std::fs::read(dir.join("index.json")).unwrap();
    let index = ParsedManifest::parse(None, &index_bytes).unwrap();
    assert_eq!(index.media_type(), media_types::OCI_IMAGE_INDEX);
    let mut blobs = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("blobs/sha256")).unwrap() {
        let path = entry.unwrap().path();
        let hex = path.file_name().unwrap().to_str().unwrap();
        let digest = Digest::from_parts(DigestAlgorithm::Sha256, hex).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        digest.verify(&bytes).unwrap();
        blobs.insert(digest, bytes);
    }
    Layout { name: dir.file_name().unwrap().to_string_lossy().into(), index, blobs }
}

impl Layout {
    /// Parses every manifest reachable from index.json, checking each descriptor against its content.
    fn manifests(&self) -> BTreeMap<Digest, ParsedManifest> {
        let mut found = BTreeMap::new();
        let mut todo: Vec<Descriptor> = self.index.references().iter().map(|c| c.descriptor.clone()).collect();
        while let Some(d) = todo.pop() {
            let bytes = &self.blobs[&d.digest];
            d.verify_content(bytes).unwrap();
            if !d.is_manifest() {
                continue;
            }
            let parsed = ParsedManifest::parse_verified(Some(&d.media_type), bytes, &d.digest).unwrap();
            if let Some(t) = &d.artifact_type {
                assert_eq!(parsed.artifact_type(), Some(t.as_str()), "{}: {}", self.name, d.digest);
            }
            for child in parsed.references() {
                let content = &self.blobs[&child.descriptor.digest];
                child.descriptor.verify_content(content).unwrap();
                child.descriptor.embedded_data().unwrap();
                todo.push(child.descriptor.clone());
            }
            found.insert(d.digest.clone(), parsed);
        }
        found
    }

    fn tagged(&self, tag: &str) -> Option<&Descriptor> {
        self.index
            .references()
            .into_iter()
            .map(|c| c.descriptor)
            .find(|d| d.annotations.get("org.opencontainers.image.ref.name").map(String::as_str) == Some(tag))
    }
}

#[test]
fn every_blob_matches_and_every_manifest_parses() {
    let all = layouts();
    assert_eq!(all.len(), 8);
    let mut manifests = 0;
    for layout in &all {
        let parsed = layout.manifests();
        assert!(!parsed.is_empty(), "{}", layout.name);
        manifests += parsed.len();
        // Every blob that is a manifest by its own mediaType parses too, reachable or not.
        for (digest, bytes) in &layout.blobs {
            if let Ok(m) = ParsedManifest::parse(None, bytes) {
                assert_eq!(m.digest(), digest);
            }
        }
    }
    assert_eq!(manifests, 21);
}

#[test]
fn finds_the_signatures_of_the_tagged_image() {
    // (manifests whose subject is the tagged image, of which carry a JWS envelope layer). e2e-invalid-signature's
    // referrer is a tampered signature whose only layer is a plain tar.
    let expected: BTreeMap<&str, (usize, usize)> = [
        ("e2e", (0, 0)),
        ("e2e-expired-signature", (1, 1)),
        ("e2e-invalid-signature", (1, 0)),
        ("e2e-valid-multiple-signatures", (2, 2)),
        ("e2e-valid-signature", (1, 1)),
        ("e2e-with-expired-cert", (1, 1)),
        ("e2e-with-invalid-timestamped-signature", (1, 1)),
        ("e2e-with-timestamped-signature", (1, 1)),
    ]
    .into_iter()
    .collect();
    for layout in layouts() {
        let image = layout.tagged("v1").unwrap().clone();
        let manifests = layout.manifests();
        let signatures: Vec<&ParsedManifest> =
            manifests.values().filter(|m| m.subject().map(|s| &s.digest) == Some(&image.digest)).collect();
        let mut with_envelope = 0;
        for sig in &signatures {
            // notation 1.x shape: config.mediaType carries the signature type, no artifactType field.
            assert_eq!(sig.artifact_type(), Some(media_types::NOTARY_SIGNATURE));
            assert!(sig.subject().unwrap().same_content(&image));
            let children = sig.references();
            assert_eq!(children.len(), 2, "config + exactly one layer");
            assert_eq!(children[0].kind, ChildKind::Config);
            if children[1].descriptor.media_type == media_types::JWS_ENVELOPE {
                assert!(sig.annotations().contains_key("io.cncf.notary.x509chain.thumbprint#S256"));
                with_envelope += 1;
            }
        }
        assert_eq!((signatures.len(), with_envelope), expected[layout.name.as_str()], "{}", layout.name);
        // The image itself: either plain (config type) or image-spec 1.1 artifact style (artifactType + empty config).
        let image_manifest = &manifests[&image.digest];
        match image_manifest.artifact_type() {
            Some("application/vnd.notation.config") => {}
            Some("application/vnd.unknown.artifact.v1") => match image_manifest.manifest() {
                Manifest::ImageManifest(m) => {
                    assert_eq!(m.config.digest, Descriptor::empty().digest);
                    assert_eq!(m.config.embedded_data().unwrap().as_deref(), Some(&b"{}"[..]));
                }
                other => panic!("{other:?}"),
            },
            other => panic!("{}: unexpected artifact type {other:?}", layout.name),
        }
    }
}

#[test]
fn fallback_tag_index_is_what_nv2_would_write() {
    let mut checked = 0;
    for layout in layouts() {
        let image = layout.tagged("v1").unwrap().clone();
        let Some(tag_entry) = layout.tagged(&fallback_tag(&image.digest)) else { continue };
        let manifests = layout.manifests();
        let index = &manifests[&tag_entry.digest];
        let listed = referrers::referrers_from_index(index).unwrap();
        let ours: Vec<Descriptor> = listed.iter().map(|d| referrer_descriptor(&manifests[&d.digest])).collect();
        assert_eq!(ours, listed, "{}", layout.name);
        assert_eq!(referrers_index(ours).unwrap(), index.bytes(), "{}", layout.name);
        checked += 1;
    }
    assert_eq!(checked, 5);
}
