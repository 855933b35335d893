//! Test-only access to the Notary Project fixture corpus, shared by every module's fixture tests.

extern crate std;

use std::path::PathBuf;

/// The corpus directory: `$NV2_CORPUS_DIR`, else the first `shared/fixtures/notation` above the crate (the
/// shared fixtures sit beside the checkout).
pub(crate) fn corpus_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("NV2_CORPUS_DIR") {
        return PathBuf::from(dir);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/fixtures/notation");
        if candidate.join("cases.json").is_file() {
            return candidate;
        }
        assert!(dir.pop(), "fixture corpus shared/fixtures/notation not found; set NV2_CORPUS_DIR");
    }
}
