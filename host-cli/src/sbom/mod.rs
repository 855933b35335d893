//! SBoMs of images: which files and packages an image's layers add up to, as SPDX 2.3 JSON (default) or CycloneDX
//! 1.5 JSON, attached to the image as an OCI 1.1 referrer, and read back for admission rules.
//!
//! - [`ImageContents::scan`] applies layers (tar or gzip tar readers, bottom first, whiteouts honoured) and
//!   detects packages (dpkg, apk, Python dist-info, npm); [`scan_image`] does the same for an image in any
//!   [`crate::content::ContentStore`].
//! - [`generate`] writes the document; its identity (SPDX namespace, CycloneDX serial number) derives from the
//!   image digest and the creation time is an argument, so the same image and time give the same bytes.
//! - [`attach`] pushes it as a referrer with `artifactType` = its media type; [`Sbom::packages`] reads name,
//!   version, licence and purl back from either format.

mod attach;
mod contents;
mod cyclonedx;
mod document;
mod error;
mod identity;
mod license;
mod packages;
mod spdx;
mod store;

pub use attach::{attach, sbom_referrer, SbomReferrer};
pub use contents::{ImageContents, ImageFile};
pub use document::{generate, ImageSubject, Sbom, SbomFormat, SbomPackage, MAX_SBOM_BYTES};
pub use error::SbomError;
pub use packages::{Package, PackageKind};
pub use store::{scan_image, ScannedImage};
