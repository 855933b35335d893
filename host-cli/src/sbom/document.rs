//! An SBoM document as bytes with its format, how one is generated from an image's contents, and how packages are
//! read back from one (for admission's SBoM rules, whichever format or tool wrote it).

use nv2_core::oci::{Digest, Platform, Reference};
use nv2_core::time::Timestamp;

use super::contents::ImageContents;
use super::error::SbomError;
use super::packages::package_url;
use super::{cyclonedx, spdx};

/// Largest SBoM document read back.
pub const MAX_SBOM_BYTES: usize = 64 << 20;

/// The two SBoM formats nv2 writes and reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    /// SPDX 2.3 JSON (the default).
    Spdx,
    /// CycloneDX 1.5 JSON.
    CycloneDx,
}

impl SbomFormat {
    /// The media type of the document, which is also the referrer's `artifactType`.
    pub fn media_type(self) -> &'static str {
        match self {
            SbomFormat::Spdx => "application/spdx+json",
            SbomFormat::CycloneDx => "application/vnd.cyclonedx+json",
        }
    }

    /// The format a media type names, if it is one of the two.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        [SbomFormat::Spdx, SbomFormat::CycloneDx].into_iter().find(|f| f.media_type() == media_type)
    }

    /// A conventional file name for the document (the attached layer's `org.opencontainers.image.title`).
    pub fn file_name(self) -> &'static str {
        match self {
            SbomFormat::Spdx => "sbom.spdx.json",
            SbomFormat::CycloneDx => "sbom.cdx.json",
        }
    }
}

/// The image an SBoM describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSubject {
    /// How the user named it (`registry.example/net-monitor:v1`); the document's name.
    pub name: String,
    /// Its manifest digest (the document's identity derives from it).
    pub digest: Digest,
    /// Its platform, when known (the package URL's `arch`).
    pub platform: Option<Platform>,
}

impl ImageSubject {
    /// The image's package URL: `pkg:oci/<name>@<digest>?arch=&repository_url=&tag=` (the purl `oci` type).
    pub fn purl(&self) -> String {
        let arch = self.platform.as_ref().map(|p| p.architecture.as_str());
        let digest = self.digest.to_string();
        match Reference::parse(&self.name) {
            Ok(reference) => {
                let name =
                    reference.repository.rsplit('/').next().unwrap_or(&reference.repository).to_ascii_lowercase();
                let scope = reference.scope();
                package_url(
                    "oci",
                    None,
                    &name,
                    &digest,
                    &[("arch", arch), ("repository_url", Some(&scope)), ("tag", reference.tag.as_deref())],
                )
            }
            Err(_) => {
                let name: String = self
                    .name
                    .to_ascii_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '-' })
                    .collect();
                let name = if name.is_empty() { String::from("image") } else { name };
                package_url("oci", None, &name, &digest, &[("arch", arch)])
            }
        }
    }
}

/// A package as an SBoM lists it, whatever wrote the SBoM.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SbomPackage {
    /// Package name.
    pub name: String,
    /// Version, when listed.
    pub version: Option<String>,
    /// Declared licence: an SPDX expression, or the verbatim text of a non-SPDX licence.
    pub license: Option<String>,
    /// Package URL, when listed.
    pub purl: Option<String>,
}

/// An SBoM document: its exact bytes and its format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sbom {
    format: SbomFormat,
    bytes: Vec<u8>,
}

impl Sbom {
    /// Reads `bytes` as an SBoM: SPDX 2.x JSON (`spdxVersion: SPDX-2.*`) or CycloneDX JSON (`bomFormat:
    /// CycloneDX`); anything else, or JSON with duplicate keys, is refused.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, SbomError> {
        let document = parse(&bytes)?;
        let format = detect(&document)?;
        Ok(Sbom { format, bytes })
    }

    /// Its format.
    pub fn format(&self) -> SbomFormat {
        self.format
    }

    /// Its media type (and referrer `artifactType`).
    pub fn media_type(&self) -> &'static str {
        self.format.media_type()
    }

    /// The exact document bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Gives the bytes back without copying.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The packages the document lists (not the image it describes), with name, version, licence and purl.
    pub fn packages(&self) -> Result<Vec<SbomPackage>, SbomError> {
        let document = parse(&self.bytes)?;
        match self.format {
            SbomFormat::Spdx => spdx::packages(&document),
            SbomFormat::CycloneDx => cyclonedx::packages(&document),
        }
    }
}

/// Writes the SBoM of `contents`, the files and packages of `subject`, in `format`. `created` is the creation time
/// (RFC 3339; the library has no clock), written in canonical UTC form. Same inputs, same bytes.
pub fn generate(
    contents: &ImageContents,
    subject: &ImageSubject,
    format: SbomFormat,
    created: &str,
) -> Result<Sbom, SbomError> {
    let created = Timestamp::parse_rfc3339(created)
        .map_err(|e| SbomError::InvalidCreated { text: created.to_string(), reason: e.to_string() })?
        .to_rfc3339();
    let bytes = match format {
        SbomFormat::Spdx => spdx::write(contents, subject, &created)?,
        SbomFormat::CycloneDx => cyclonedx::write(contents, subject, &created)?,
    };
    Ok(Sbom { format, bytes })
}

fn parse(bytes: &[u8]) -> Result<serde_json::Value, SbomError> {
    if bytes.len() > MAX_SBOM_BYTES {
        return Err(SbomError::TooLarge {
            what: String::from("SBoM document"),
            size: bytes.len() as u64,
            limit: MAX_SBOM_BYTES as u64,
        });
    }
    nv2_core::json::parse_strict(bytes, MAX_SBOM_BYTES, nv2_core::limits::MAX_JSON_DEPTH)
        .map_err(|e| SbomError::Malformed { reason: e.to_string() })
}

fn detect(document: &serde_json::Value) -> Result<SbomFormat, SbomError> {
    let text = |field: &str| document.get(field).and_then(serde_json::Value::as_str);
    match (text("spdxVersion"), text("bomFormat")) {
        (Some(version), None) if version.starts_with("SPDX-2.") => Ok(SbomFormat::Spdx),
        (None, Some("CycloneDX")) => Ok(SbomFormat::CycloneDx),
        (Some(version), None) => Err(SbomError::Malformed { reason: format!("SPDX version {version:?} is not 2.x") }),
        _ => Err(SbomError::Malformed {
            reason: String::from("neither an SPDX 2.x JSON document nor a CycloneDX JSON document"),
        }),
    }
}
