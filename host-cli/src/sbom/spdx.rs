//! SPDX 2.3 JSON: writing an image's SBoM, and reading packages back from any SPDX 2.x JSON document.
//!
//! The document describes one root package, the image (`primaryPackagePurpose: CONTAINER`, its manifest digest as
//! version and SHA-256 checksum, an `oci` package URL). The image CONTAINS every regular file (SHA-1 as SPDX 2.3
//! requires, and SHA-256) and every detected package. The image package has `filesAnalyzed: true` with its
//! package verification code; detected packages have `filesAnalyzed: false` (their files are not attributed).
//! Declared licences that are not SPDX expressions become `LicenseRef-` entries with the text kept verbatim.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use sha1::Digest as _;

use super::contents::{hex, ImageContents};
use super::document::{ImageSubject, SbomPackage};
use super::error::SbomError;
use super::identity::{spdx_id_part, uuid_v5};
use super::license::License;

/// SPDX's "no information" value.
const NOASSERTION: &str = "NOASSERTION";
/// The root package's element ID.
const IMAGE_ID: &str = "SPDXRef-Image";
/// The document's element ID.
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: &'a str,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<Package>,
    files: Vec<File>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Package {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    download_location: &'static str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    package_verification_code: Option<VerificationCode>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    primary_package_purpose: &'static str,
    external_refs: Vec<ExternalRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerificationCode {
    package_verification_code_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct File {
    file_name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    checksums: Vec<Checksum>,
    license_concluded: &'static str,
    copyright_text: &'static str,
    comment: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// Writes the SPDX 2.3 JSON document for `contents` of `subject`, created at `created` (canonical RFC 3339).
pub(crate) fn write(contents: &ImageContents, subject: &ImageSubject, created: &str) -> Result<Vec<u8>, SbomError> {
    let mut licenses = LicenseRefs::default();
    let mut relationships = vec![relationship(DOCUMENT_ID, "DESCRIBES", IMAGE_ID)];
    let files: Vec<File> = contents
        .files()
        .enumerate()
        .map(|(n, file)| File {
            file_name: format!("./{}", file.path),
            spdx_id: format!("SPDXRef-File-{}", n + 1),
            checksums: vec![
                Checksum { algorithm: "SHA1", checksum_value: file.sha1.clone() },
                Checksum { algorithm: "SHA256", checksum_value: file.sha256.clone() },
            ],
            license_concluded: NOASSERTION,
            copyright_text: NOASSERTION,
            comment: format!("{} bytes", file.size),
        })
        .collect();
    relationships.extend(files.iter().map(|f| relationship(IMAGE_ID, "CONTAINS", &f.spdx_id)));

    let mut packages = vec![image_package(contents, subject)];
    let mut used_ids = BTreeSet::new();
    for package in contents.packages() {
        let base = format!(
            "SPDXRef-Package-{}-{}-{}",
            package.kind.purl_type(),
            spdx_id_part(&package.name),
            spdx_id_part(&package.version)
        );
        let spdx_id = unique(&mut used_ids, base);
        relationships.push(relationship(IMAGE_ID, "CONTAINS", &spdx_id));
        packages.push(Package {
            name: package.name.clone(),
            spdx_id,
            version_info: Some(package.version.clone()),
            download_location: NOASSERTION,
            files_analyzed: false,
            package_verification_code: None,
            checksums: Vec::new(),
            license_concluded: NOASSERTION,
            license_declared: licenses.declared(package.license.as_deref()),
            copyright_text: NOASSERTION,
            source_info: Some(format!("found in {}", package.location)),
            primary_package_purpose: "LIBRARY",
            external_refs: vec![purl_ref(&package.purl)],
        });
    }

    let document = Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: &subject.name,
        document_namespace: format!(
            "https://spdx.org/spdxdocs/nv2-{}-{}",
            spdx_id_part(&subject.name),
            uuid_v5(&format!("nv2:sbom:spdx:{}:{}", subject.digest, subject.name))
        ),
        creation_info: CreationInfo {
            created: created.to_string(),
            creators: vec![format!("Tool: nv2-{}", env!("CARGO_PKG_VERSION"))],
        },
        packages,
        files,
        has_extracted_licensing_infos: licenses.into_extracted(),
        relationships,
    };
    serde_json::to_vec_pretty(&document).map_err(|e| SbomError::Malformed { reason: e.to_string() })
}

/// The root package: the image itself.
fn image_package(contents: &ImageContents, subject: &ImageSubject) -> Package {
    let mut sha1s: Vec<&str> = contents.files().map(|f| f.sha1.as_str()).collect();
    sha1s.sort_unstable();
    let mut hasher = sha1::Sha1::new();
    for sha1 in &sha1s {
        hasher.update(sha1.as_bytes());
    }
    Package {
        name: subject.name.clone(),
        spdx_id: IMAGE_ID.to_string(),
        version_info: Some(subject.digest.to_string()),
        download_location: NOASSERTION,
        files_analyzed: !sha1s.is_empty(),
        package_verification_code: (!sha1s.is_empty())
            .then(|| VerificationCode { package_verification_code_value: hex(&hasher.finalize()) }),
        checksums: match subject.digest.algorithm() {
            nv2_core::oci::DigestAlgorithm::Sha256 => {
                vec![Checksum { algorithm: "SHA256", checksum_value: subject.digest.hex().to_string() }]
            }
            nv2_core::oci::DigestAlgorithm::Sha512 => {
                vec![Checksum { algorithm: "SHA512", checksum_value: subject.digest.hex().to_string() }]
            }
        },
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.to_string(),
        copyright_text: NOASSERTION,
        source_info: None,
        primary_package_purpose: "CONTAINER",
        external_refs: vec![purl_ref(&subject.purl())],
    }
}

fn purl_ref(purl: &str) -> ExternalRef {
    ExternalRef { reference_category: "PACKAGE-MANAGER", reference_type: "purl", reference_locator: purl.to_string() }
}

fn relationship(from: &str, kind: &'static str, to: &str) -> Relationship {
    Relationship { spdx_element_id: from.to_string(), relationship_type: kind, related_spdx_element: to.to_string() }
}

/// `base`, or `base-2`, `base-3`, ... when taken.
fn unique(used: &mut BTreeSet<String>, base: String) -> String {
    let mut candidate = base.clone();
    let mut n = 1;
    while used.contains(&candidate) {
        n += 1;
        candidate = format!("{base}-{n}");
    }
    used.insert(candidate.clone());
    candidate
}

/// Declared licences as `licenseDeclared` values, collecting `LicenseRef-` entries for non-SPDX text.
#[derive(Default)]
struct LicenseRefs {
    by_text: BTreeMap<String, String>,
    ids: BTreeSet<String>,
}

impl LicenseRefs {
    fn declared(&mut self, license: Option<&str>) -> String {
        let Some(text) = license.map(str::trim).filter(|t| !t.is_empty()) else { return NOASSERTION.to_string() };
        let classified = License::classify(text);
        if let Some(expression) = classified.expression() {
            return expression.to_string();
        }
        if let Some(id) = self.by_text.get(text) {
            return id.clone();
        }
        let part: String = spdx_id_part(text).trim_matches('-').chars().take(64).collect();
        let base = if part.is_empty() { String::from("LicenseRef-nv2") } else { format!("LicenseRef-{part}") };
        let id = unique(&mut self.ids, base);
        self.by_text.insert(text.to_string(), id.clone());
        id
    }

    fn into_extracted(self) -> Vec<ExtractedLicense> {
        let mut extracted: Vec<ExtractedLicense> = self
            .by_text
            .into_iter()
            .map(|(text, id)| ExtractedLicense { license_id: id, extracted_text: text.clone(), name: text })
            .collect();
        extracted.sort_by(|a, b| a.license_id.cmp(&b.license_id));
        extracted
    }
}

/// The packages of an SPDX 2.x JSON document, leaving out what the document DESCRIBES (the image itself).
pub(crate) fn packages(document: &Value) -> Result<Vec<SbomPackage>, SbomError> {
    let malformed = |reason: &str| SbomError::Malformed { reason: format!("SPDX document: {reason}") };
    let mut described: BTreeSet<&str> = BTreeSet::new();
    if let Some(list) = document.get("documentDescribes").and_then(Value::as_array) {
        described.extend(list.iter().filter_map(Value::as_str));
    }
    let document_id = document.get("SPDXID").and_then(Value::as_str).unwrap_or(DOCUMENT_ID);
    for relationship in document.get("relationships").and_then(Value::as_array).into_iter().flatten() {
        let field = |name: &str| relationship.get(name).and_then(Value::as_str);
        if field("spdxElementId") == Some(document_id) && field("relationshipType") == Some("DESCRIBES") {
            described.extend(field("relatedSpdxElement"));
        }
    }
    let extracted: BTreeMap<&str, &str> = document
        .get("hasExtractedLicensingInfos")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|info| {
            let id = info.get("licenseId")?.as_str()?;
            let text = info.get("name").or_else(|| info.get("extractedText"))?.as_str()?;
            Some((id, text))
        })
        .collect();
    let packages = match document.get("packages") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(malformed("packages is not an array")),
    };
    let mut out = Vec::new();
    for package in packages {
        let id = package.get("SPDXID").and_then(Value::as_str).unwrap_or_default();
        if described.contains(id) {
            continue;
        }
        let name = package.get("name").and_then(Value::as_str).ok_or_else(|| malformed("a package has no name"))?;
        let text = |field: &str| package.get(field).and_then(Value::as_str).map(str::to_string);
        let license = ["licenseDeclared", "licenseConcluded"]
            .iter()
            .filter_map(|field| text(field))
            .find(|value| !matches!(value.as_str(), NOASSERTION | "NONE" | ""))
            .map(|value| extracted.get(value.as_str()).map_or(value.clone(), |name| name.to_string()));
        let purl = package
            .get("externalRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| r.get("referenceType").and_then(Value::as_str) == Some("purl"))
            .and_then(|r| r.get("referenceLocator").and_then(Value::as_str))
            .map(str::to_string);
        out.push(SbomPackage { name: name.to_string(), version: text("versionInfo"), license, purl });
    }
    Ok(out)
}
