//! nv2-cli: the library behind the `nv2` binary, also used by the admission server.
//!
//! Everything here is host wiring around `nv2-core`: it moves bytes between content stores (registries, OCI image
//! layouts, tarballs, memory), reads and writes notation's configuration directory, and hands plain values to the
//! core's one signing routine and one verification pipeline.
//!
//! - [`content`]: the [`content::ContentStore`] trait every store implements, and the in-memory, OCI layout
//!   directory and OCI layout tar stores.
//! - [`copy`]: the one graph copier (successors down, referrers up) behind copy, pull, push, export and import.
//! - [`registry`]: the OCI distribution client (referrers API first, `<alg>-<hex>` tag fallback on read and write).
//! - [`auth`]: registry credentials (docker `config.json`, credential helpers, `nv2 login`).
//! - [`config`]: notation's configuration directory: trust stores, trust policies, signing keys.
//! - [`sign`] and [`verify`]: signing and verifying artifacts in any content store; [`revocation`]: their CRLs.
//! - [`build`]: reproducible OCI images from a directory, a `docker save` tarball or an OCI layout.
//! - [`sbom`]: SPDX 2.3 and CycloneDX 1.5 SBoMs of an image's files and packages, attached as referrers.
//! - [`admission`]: `nv2 admission serve`, the Kubernetes admission server (Gatekeeper provider, webhooks).
//! - [`demo`]: `nv2 demo`, the prototype-2 story on in-process registries.
//! - [`cli`]: the command line.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod atomic_file;
pub mod auth;
pub mod build;
pub mod cli;
pub mod clock;
pub mod config;
pub mod content;
pub mod copy;
pub mod demo;
pub mod registry;
pub mod revocation;
pub mod sbom;
pub mod sign;
pub mod verify;
