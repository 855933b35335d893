//! Everything nv2 knows about OCI content, in one place: digests, references, descriptors, media types,
//! manifests of every kind it reads, and referrers lists.
//!
//! Hosts (registry server, CLI, browser) only move bytes; deciding what those bytes mean happens here, so every
//! host applies the same grammar, the same size bounds and the same media-type rules.

pub mod descriptor;
pub mod digest;
mod error;
pub mod manifest;
pub mod media_types;
pub mod reference;
pub mod referrers;

#[cfg(all(test, feature = "std"))]
mod layout_fixtures;

pub use descriptor::{Descriptor, Platform};
pub use digest::{Digest, DigestAlgorithm, Digester};
pub use error::OciError;
pub use manifest::{
    ArtifactManifest, Child, ChildKind, DockerManifest, DockerManifestList, ImageIndex, ImageManifest, Manifest,
    OrasArtifactManifest, ParsedManifest,
};
pub use reference::{validate_repository_name, validate_tag, Reference};
pub use referrers::{
    fallback_tag, filter_by_artifact_type, insert_referrer, referrer_descriptor, referrers_from_index, referrers_index,
    remove_referrer,
};
