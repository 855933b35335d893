//! nv2's verification pipeline as a plain wasm module: no imports, a tiny versioned ABI, JSON in and JSON out.
//!
//! Any runtime can host it (the admission server runs it in wasmtime with fuel limits): the module cannot reach a
//! file, a socket or a clock, so everything it decides comes from the request the host wrote into its memory. The
//! request and response are the core's wire format ([`nv2_core::verify::wire`]); the ABI is documented in
//! `wasm/README.md`:
//!
//! | export | signature | what it does |
//! | --- | --- | --- |
//! | `nv2_abi_version` | `() -> i32` | the ABI version, [`ABI_VERSION`] |
//! | `nv2_alloc` | `(len: i32) -> i32` | a buffer of `len` bytes for the request (0 when memory is exhausted) |
//! | `nv2_free` | `(ptr: i32, len: i32)` | frees a buffer from `nv2_alloc` or a response, given its length |
//! | `nv2_verify` | `(ptr: i32, len: i32) -> i64` | runs the request; the response is at `result >> 32`, `result & 0xffffffff` bytes long |
//! | `memory` | memory | the module's linear memory |
//!
//! The ABI exists only when compiled for wasm32 (pointers are 32-bit there, which the packed result relies on);
//! natively the crate builds empty so workspace-wide `cargo clippy`/`cargo test` work, and the same logic is tested
//! natively through [`nv2_core::verify::wire::verify_json`], which is all `nv2_verify` calls.
#![cfg_attr(target_arch = "wasm32", no_std)]
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub use nv2_core::verify::wire::ABI_VERSION;

#[cfg(target_arch = "wasm32")]
mod abi;
