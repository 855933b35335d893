//! Docker schema 2 manifests and manifest lists: most images in the wild are still pushed this way, so nv2 reads
//! them (to sign and verify them by digest) though it never writes them.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::to_json;
use crate::oci::descriptor::Descriptor;
use crate::oci::error::OciError;

/// A Docker image manifest (`application/vnd.docker.distribution.manifest.v2+json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The Docker manifest media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The container config blob.
    pub config: Descriptor,
    /// The layer blobs.
    #[serde(default, deserialize_with = "crate::oci::descriptor::null_as_default")]
    pub layers: Vec<Descriptor>,
}

impl DockerManifest {
    /// Compact JSON bytes (tests and tools that need to fabricate a Docker manifest).
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        to_json(self)
    }
}

/// A Docker manifest list (`application/vnd.docker.distribution.manifest.list.v2+json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerManifestList {
    /// Always 2.
    pub schema_version: u32,
    /// The Docker manifest list media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The per-platform manifests.
    #[serde(default, deserialize_with = "crate::oci::descriptor::null_as_default")]
    pub manifests: Vec<Descriptor>,
}

impl DockerManifestList {
    /// Compact JSON bytes.
    pub fn to_json_bytes(&self) -> Result<Vec<u8>, OciError> {
        to_json(self)
    }
}
