//! nv2-core: the pure heart of nv2.
//!
//! It understands OCI manifests and Notary Project signatures, signs, and decides whether a signature is trusted.
//! It never performs I/O, never reads a clock and never draws randomness: bytes and "now" come in as arguments and
//! typed verdicts go out. That is what lets the very same verification run natively, in wasmtime and in a browser.
#![no_std]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod crypto;
pub mod json;
pub mod limits;
pub mod oci;
pub mod time;
