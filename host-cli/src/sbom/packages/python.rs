//! Python distributions from their core metadata: `<name>.dist-info/METADATA` (wheels, pip) and
//! `<name>.egg-info/PKG-INFO` (setuptools). The licence is `License-Expression` (PEP 639) when present, else a
//! one-line `License` field, else the last `License ::` classifier.

use super::control::{blocks, field, fields};
use super::purl::package_url;
use super::{Package, PackageKind};

/// Whether `path` is a distribution's metadata file.
pub(super) fn is_metadata(path: &str) -> bool {
    let Some((dir, file)) = path.rsplit_once('/') else { return false };
    let dir_name = dir.rsplit('/').next().unwrap_or(dir);
    (file == "METADATA" && dir_name.ends_with(".dist-info")) || (file == "PKG-INFO" && dir_name.ends_with(".egg-info"))
}

/// The distribution the metadata describes, if it names itself and its version.
pub(super) fn package(location: &str, text: &str) -> Option<Package> {
    let header = blocks(text).next()?;
    let fields = fields(&header);
    let name = field(&fields, "Name").filter(|n| !n.is_empty())?;
    let version = field(&fields, "Version").filter(|v| !v.is_empty())?;
    let one_line = |value: &str| {
        let value = value.trim();
        (!value.is_empty() && !value.contains('\n') && !value.eq_ignore_ascii_case("UNKNOWN"))
            .then(|| value.to_string())
    };
    let classifier = fields
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("Classifier"))
        .filter_map(|(_, v)| v.strip_prefix("License ::"))
        .filter_map(|v| v.rsplit("::").next().map(str::trim).map(str::to_string))
        .rfind(|v| !v.is_empty() && v != "OSI Approved");
    let license = field(&fields, "License-Expression")
        .and_then(one_line)
        .or_else(|| field(&fields, "License").and_then(one_line))
        .or(classifier);
    // The purl specification: PyPI names are lowercased, with `_` written as `-`.
    let purl_name = name.to_ascii_lowercase().replace('_', "-");
    Some(Package {
        kind: PackageKind::Python,
        name: name.to_string(),
        version: version.to_string(),
        architecture: None,
        license,
        purl: package_url("pypi", None, &purl_name, version, &[]),
        location: location.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_name_version_and_the_best_licence_field() {
        assert!(is_metadata("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"));
        assert!(!is_metadata("usr/lib/python3/dist-packages/requests/METADATA"));
        let metadata = "Metadata-Version: 2.1\nName: Typing_Extensions\nVersion: 4.9.0\nLicense: UNKNOWN\n\
                        Classifier: License :: OSI Approved :: Python Software Foundation License\n\nBody: not a field\n";
        let p = package("x.dist-info/METADATA", metadata).unwrap();
        assert_eq!((p.name.as_str(), p.purl.as_str()), ("Typing_Extensions", "pkg:pypi/typing-extensions@4.9.0"));
        assert_eq!(p.license.as_deref(), Some("Python Software Foundation License"));
        let pep639 = "Name: a\nVersion: 1\nLicense-Expression: MIT OR Apache-2.0\nLicense: ignored\n";
        assert_eq!(package("a.dist-info/METADATA", pep639).unwrap().license.as_deref(), Some("MIT OR Apache-2.0"));
        assert!(package("a.dist-info/METADATA", "Name: a\n").is_none());
    }
}
