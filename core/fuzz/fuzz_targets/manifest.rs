//! ParsedManifest::parse on arbitrary bytes, with no content type and with each manifest type as the content type.
//! Properties: never panics; an accepted manifest keeps its exact bytes and digest; its typed form re-serialises
//! into a document that parses back to the same typed form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::oci::{media_types, referrer_descriptor, Digest, Manifest, ParsedManifest};

fuzz_target!(|data: &[u8]| {
    let (selector, body) = match data.split_first() {
        Some((s, rest)) => (*s, rest),
        None => (0, data),
    };
    check(None, data);
    let content_type = media_types::MANIFEST_TYPES.get(usize::from(selector) % (media_types::MANIFEST_TYPES.len() + 1));
    check(content_type.copied(), body);
});

fn check(content_type: Option<&str>, bytes: &[u8]) {
    let Ok(parsed) = ParsedManifest::parse(content_type, bytes) else { return };
    assert_eq!(parsed.bytes(), bytes);
    assert_eq!(*parsed.digest(), Digest::sha256(bytes));
    let _ = parsed.references();
    let _ = parsed.subjects();
    let descriptor = referrer_descriptor(&parsed);
    assert_eq!(descriptor.size, bytes.len() as u64);
    let again = match parsed.manifest() {
        Manifest::ImageManifest(m) => m.to_json_bytes(),
        Manifest::ImageIndex(m) => m.to_json_bytes(),
        Manifest::DockerManifest(m) => m.to_json_bytes(),
        Manifest::DockerManifestList(m) => m.to_json_bytes(),
        Manifest::ArtifactManifest(m) => m.to_json_bytes(),
        Manifest::OrasArtifactManifest(m) => m.to_json_bytes(),
    }
    .expect("typed manifests always serialise");
    let reparsed = ParsedManifest::parse(Some(parsed.media_type()), &again).expect("re-serialised manifest parses");
    assert_eq!(reparsed.manifest(), parsed.manifest());
}
