//! CycloneDX 1.5 JSON: writing an image's SBoM, and reading packages back from any CycloneDX JSON document.
//!
//! `metadata.component` is the image (`type: container`, manifest digest as version and hash, `oci` package URL);
//! `components` are the detected packages (`type: library`, package URL, licences) and the image's regular files
//! (`type: file`, SHA-1 and SHA-256); `dependencies` says the image depends on each package.

use serde::Serialize;
use serde_json::Value;

use super::contents::ImageContents;
use super::document::{ImageSubject, SbomPackage};
use super::error::SbomError;
use super::identity::uuid_v5;
use super::license::License;

/// The image's `bom-ref`.
const IMAGE_REF: &str = "image";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Bom {
    bom_format: &'static str,
    spec_version: &'static str,
    serial_number: String,
    version: u32,
    metadata: Metadata,
    components: Vec<Component>,
    dependencies: Vec<Dependency>,
}

#[derive(Serialize)]
struct Metadata {
    timestamp: String,
    tools: Tools,
    component: Component,
}

#[derive(Serialize)]
struct Tools {
    components: Vec<Component>,
}

#[derive(Serialize, Default)]
struct Component {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "bom-ref", skip_serializing_if = "Option::is_none")]
    bom_ref: Option<String>,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashes: Vec<Hash>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    licenses: Vec<LicenseChoice>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purl: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    properties: Vec<Property>,
}

#[derive(Serialize)]
struct Hash {
    alg: &'static str,
    content: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum LicenseChoice {
    License { license: LicenseObject },
    Expression { expression: String },
}

#[derive(Serialize)]
struct LicenseObject {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize)]
struct Property {
    name: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Dependency {
    #[serde(rename = "ref")]
    reference: String,
    #[serde(rename = "dependsOn")]
    depends_on: Vec<String>,
}

/// Writes the CycloneDX 1.5 JSON document for `contents` of `subject`, created at `created` (canonical RFC 3339).
pub(crate) fn write(contents: &ImageContents, subject: &ImageSubject, created: &str) -> Result<Vec<u8>, SbomError> {
    let mut components = Vec::new();
    let mut package_refs = Vec::new();
    for (n, package) in contents.packages().iter().enumerate() {
        let bom_ref = format!("package-{}", n + 1);
        package_refs.push(bom_ref.clone());
        components.push(Component {
            kind: "library",
            bom_ref: Some(bom_ref),
            name: package.name.clone(),
            version: Some(package.version.clone()),
            licenses: package.license.as_deref().map(license_choice).into_iter().collect(),
            purl: Some(package.purl.clone()),
            properties: vec![Property { name: "nv2:package:location", value: package.location.clone() }],
            ..Component::default()
        });
    }
    for (n, file) in contents.files().enumerate() {
        components.push(Component {
            kind: "file",
            bom_ref: Some(format!("file-{}", n + 1)),
            name: file.path.clone(),
            hashes: vec![
                Hash { alg: "SHA-1", content: file.sha1.clone() },
                Hash { alg: "SHA-256", content: file.sha256.clone() },
            ],
            properties: vec![Property { name: "nv2:file:size", value: file.size.to_string() }],
            ..Component::default()
        });
    }
    let image_hash = match subject.digest.algorithm() {
        nv2_core::oci::DigestAlgorithm::Sha256 => "SHA-256",
        nv2_core::oci::DigestAlgorithm::Sha512 => "SHA-512",
    };
    let bom = Bom {
        bom_format: "CycloneDX",
        spec_version: "1.5",
        serial_number: format!(
            "urn:uuid:{}",
            uuid_v5(&format!("nv2:sbom:cyclonedx:{}:{}", subject.digest, subject.name))
        ),
        version: 1,
        metadata: Metadata {
            timestamp: created.to_string(),
            tools: Tools {
                components: vec![Component {
                    kind: "application",
                    name: String::from("nv2"),
                    version: Some(env!("CARGO_PKG_VERSION").to_string()),
                    ..Component::default()
                }],
            },
            component: Component {
                kind: "container",
                bom_ref: Some(IMAGE_REF.to_string()),
                name: subject.name.clone(),
                version: Some(subject.digest.to_string()),
                hashes: vec![Hash { alg: image_hash, content: subject.digest.hex().to_string() }],
                purl: Some(subject.purl()),
                ..Component::default()
            },
        },
        components,
        dependencies: vec![Dependency { reference: IMAGE_REF.to_string(), depends_on: package_refs }],
    };
    serde_json::to_vec_pretty(&bom).map_err(|e| SbomError::Malformed { reason: e.to_string() })
}

/// A declared licence in CycloneDX form: an SPDX `id`, an SPDX `expression`, or a verbatim `name`.
fn license_choice(text: &str) -> LicenseChoice {
    match License::classify(text) {
        License::Id(id) => LicenseChoice::License { license: LicenseObject { id: Some(id), name: None } },
        License::Expression(expression) => LicenseChoice::Expression { expression },
        License::Named(name) => LicenseChoice::License { license: LicenseObject { id: None, name: Some(name) } },
    }
}

/// The packages of a CycloneDX JSON document: every component (nested ones too) that is not a file, excluding
/// `metadata.component` (the subject itself).
pub(crate) fn packages(document: &Value) -> Result<Vec<SbomPackage>, SbomError> {
    let mut out = Vec::new();
    let mut pending: Vec<&Value> = match document.get("components") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => list.iter().collect(),
        Some(_) => return Err(SbomError::Malformed { reason: String::from("CycloneDX components is not an array") }),
    };
    pending.reverse();
    while let Some(component) = pending.pop() {
        if let Some(children) = component.get("components").and_then(Value::as_array) {
            pending.extend(children.iter().rev());
        }
        if component.get("type").and_then(Value::as_str) == Some("file") {
            continue;
        }
        let text = |field: &str| component.get(field).and_then(Value::as_str).map(str::to_string);
        let Some(name) = text("name") else {
            return Err(SbomError::Malformed { reason: String::from("a CycloneDX component has no name") });
        };
        let licenses: Vec<String> = component
            .get("licenses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|choice| {
                let license = choice.get("license");
                choice
                    .get("expression")
                    .or_else(|| license.and_then(|l| l.get("id")))
                    .or_else(|| license.and_then(|l| l.get("name")))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect();
        let license = match licenses.as_slice() {
            [] => None,
            [one] => Some(one.clone()),
            many => Some(many.iter().map(|l| format!("({l})")).collect::<Vec<_>>().join(" AND ")),
        };
        out.push(SbomPackage { name, version: text("version"), license, purl: text("purl") });
    }
    Ok(out)
}
