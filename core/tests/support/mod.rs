//! Test inputs shared by the core's integration tests and the wasm differential test (`wasm/differential`), which
//! include this module with `#[path]`: one attack-case generator and one corpus loader, never a copy.
//!
//! - [`attack_cases`]: hand-made attacks (and positive controls) on the verification pipeline, with the exact
//!   outcome each must reach.
//! - [`corpus_cases`]: the Notary Project fixture corpus (`cases.json`) read into the pipeline's inputs.
#![allow(dead_code)] // Each includer uses its own part (attacks.rs the time bounds, the differential the wire view).

pub mod attack_cases;
pub mod corpus_cases;

use nv2_core::envelope::EnvelopeFormat;
use nv2_core::verify::SignatureInput;

/// One signature as a host would hand it to the pipeline, owned.
#[derive(Clone, Debug)]
pub struct OwnedSignature {
    /// The signature manifest, or `None` for a detached envelope.
    pub manifest: Option<Vec<u8>>,
    /// The envelope bytes.
    pub envelope: Vec<u8>,
    /// The format, given for detached envelopes.
    pub format: Option<EnvelopeFormat>,
}

impl OwnedSignature {
    /// Borrowed as the pipeline takes it.
    pub fn input(&self) -> SignatureInput<'_> {
        SignatureInput { manifest: self.manifest.as_deref(), envelope: &self.envelope, format: self.format }
    }
}
