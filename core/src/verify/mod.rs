//! The one verification pipeline of nv2 and the verdict it returns.
//!
//! Hosts resolve references, list referrers and fetch bytes; they hand the target descriptor, the signature
//! manifests with their envelopes, the selected trust-policy statement, the trust stores and `now` to [`verify`],
//! and render the [`Verdict`]. Natively, in wasmtime and in the browser, the verdict is the same because the code is.
//! Hosts that cannot link Rust hand the same inputs over as JSON: [`wire`] is that format and its one entry point.

mod pipeline;
mod plugin;
mod plugin_protocol;
mod request;
mod semver;
mod verdict;
pub mod wire;

pub use pipeline::{hex_string, verify};
pub use plugin::{NoPlugins, PluginHost, VerificationPlugin, CAPABILITY_REVOCATION_CHECK, CAPABILITY_TRUSTED_IDENTITY};
pub use request::{BlobDigester, BlobDigests, CrlSource, NoCrls, SignatureInput, Target, VerifyOptions};
pub use semver::Version;
pub use verdict::{
    Decision, Failure, FailureKind, Outcome, Rejection, SignatureReport, SignerSummary, Validation, Verdict,
};
