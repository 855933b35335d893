//! The OCI distribution client: how `nv2` and the admission server talk to registries (nv2-registry, CNCF
//! distribution, zot, ghcr, Docker Hub).
//!
//! Behaviour follows oras-go v2's `registry/remote`:
//! - [`RegistryClient`] owns one HTTP client and the per-registry authentication state (Basic or Docker token
//!   flow, tokens cached per scope), and answers registry-level questions ([`RegistryClient::ping`],
//!   [`RegistryClient::catalog`]).
//! - [`Repository`] is one repository on a registry and implements [`crate::content::ContentStore`]: resolve,
//!   exists, fetch, push (monolithic or chunked with resume, cross-repository mount), tag, delete and referrers.
//! - Referrers: the distribution-spec v1.1 referrers API first; registries without it (CNCF distribution) get the
//!   `<alg>-<hex>` tag-schema fallback on read, on push and on delete. Which one a repository has is detected once
//!   and remembered, or forced with [`ReferrersMode`].
//!
//! Every failure is a [`crate::content::ContentError`]; responses are read with bounds (manifests 4 MiB, error
//! bodies 64 KiB, token answers 1 MiB), so a hostile or broken server gets a typed error, never a panic or an
//! unbounded allocation.

mod challenge;
mod client;
mod listing;
mod options;
mod referrers;
mod repository;
mod response;
mod token;
mod upload;

pub use client::RegistryClient;
pub use listing::Pages;
pub use options::{ClientError, ClientOptions, CredentialSource, ReferrersMode, DEFAULT_CHUNK_SIZE};
pub use repository::Repository;
