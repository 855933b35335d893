//! `nv2 build`: real, reproducible OCI images from a directory, a `docker save` tarball or an OCI image layout.
//!
//! Every input becomes a [`BuiltImage`]: plain values (config and manifest bytes, layers in memory or spooled to a
//! temporary file) with their descriptors, in the order a store must receive them. [`BuiltImage::push_to`] puts
//! them into any [`crate::content::ContentStore`], so one build serves a registry, an OCI layout or memory.
//!
//! - [`build_from_directory`]: one gzip layer of the tree (sorted entries, owners 0:0, mtimes clamped to
//!   `SOURCE_DATE_EPOCH` or 0, PAX long names, fixed gzip settings), a config per platform with `rootfs.diff_ids`,
//!   `Entrypoint`, `Cmd`, `Env`, `WorkingDir`, `Labels` and a `created` that is not the wall clock; several
//!   platforms give an index. The same tree and options always give the same digest.
//! - [`build_from_docker_save`]: a `docker save` tarball (legacy or OCI-shaped) converted to an OCI image, diff_ids
//!   checked against the config.
//! - [`build_from_oci_layout`]: an image in an OCI layout, byte for byte.
//!
//! Building is blocking work (reading trees, compressing): async callers run it with `spawn_blocking`.

mod digesting;
mod directory;
mod docker_save;
mod error;
mod image;
mod image_config;
mod layer;
mod oci_layout;
mod options;
mod platform;
mod spool;

pub use directory::build_from_directory;
pub use docker_save::build_from_docker_save;
pub use error::BuildError;
pub use image::{BlobSource, BuiltBlob, BuiltImage};
pub use oci_layout::{build_from_oci_layout, split_layout_argument};
pub use options::{parse_source_date_epoch, source_date_epoch_from_env, BuildOptions};
pub use platform::{default_platform, parse_platform, parse_platforms, platform_name};
