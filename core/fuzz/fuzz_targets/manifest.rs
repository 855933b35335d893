//! OCI manifest / index parsing, with and without a transport content type. The first byte picks the content type.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::oci::ParsedManifest;

const CONTENT_TYPES: [Option<&str>; 5] = [
    None,
    Some("application/vnd.oci.image.manifest.v1+json"),
    Some("application/vnd.oci.image.index.v1+json"),
    Some("application/vnd.docker.distribution.manifest.v2+json"),
    Some("application/vnd.oci.artifact.manifest.v1+json"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    let _ = ParsedManifest::parse(content_type, bytes);
    let _ = ParsedManifest::parse(None, data);
});
