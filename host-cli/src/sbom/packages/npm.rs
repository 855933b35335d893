//! npm packages from `node_modules/<name>/package.json` and `node_modules/@scope/<name>/package.json` (nested
//! `node_modules` too). Files that are not a package's own manifest, or do not parse, are not packages.

use serde_json::Value;

use super::purl::package_url;
use super::{Package, PackageKind};

/// Whether `path` is an installed package's `package.json`.
pub(super) fn is_manifest(path: &str) -> bool {
    let Some(dir) = path.strip_suffix("/package.json") else { return false };
    let mut parts = dir.rsplit('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), Some("node_modules"), _) => !name.starts_with('@') && !name.starts_with('.'),
        (Some(_), Some(scope), Some("node_modules")) => scope.starts_with('@') && scope.len() > 1,
        _ => false,
    }
}

/// The package a `package.json` describes, if it has a string name and version.
pub(super) fn package(location: &str, bytes: &[u8]) -> Option<Package> {
    let manifest: Value = serde_json::from_slice(bytes).ok()?;
    let name = manifest.get("name")?.as_str().filter(|n| !n.is_empty())?;
    let version = manifest.get("version")?.as_str().filter(|v| !v.is_empty())?;
    let license = match manifest.get("license") {
        Some(Value::String(text)) if !text.trim().is_empty() => Some(text.trim().to_string()),
        Some(Value::Object(object)) => object.get("type").and_then(Value::as_str).map(str::to_string),
        _ => legacy_licenses(&manifest),
    };
    let (namespace, short_name) = match name.split_once('/') {
        Some((scope, rest)) if scope.starts_with('@') => (Some(scope), rest),
        _ => (None, name),
    };
    Some(Package {
        kind: PackageKind::Npm,
        name: name.to_string(),
        version: version.to_string(),
        architecture: None,
        license,
        purl: package_url("npm", namespace, short_name, version, &[]),
        location: location.to_string(),
    })
}

/// The deprecated `licenses: [{type}, ...]` form, as one `OR` expression (the package may be used under any).
fn legacy_licenses(manifest: &Value) -> Option<String> {
    let list = manifest.get("licenses")?.as_array()?;
    let names: Vec<&str> = list
        .iter()
        .filter_map(|item| match item {
            Value::String(text) => Some(text.as_str()),
            Value::Object(object) => object.get("type").and_then(Value::as_str),
            _ => None,
        })
        .collect();
    match names.as_slice() {
        [] => None,
        [one] => Some(one.to_string()),
        many => Some(many.iter().map(|n| format!("({n})")).collect::<Vec<_>>().join(" OR ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_package_manifests_and_reads_them() {
        assert!(is_manifest("app/node_modules/left-pad/package.json"));
        assert!(is_manifest("node_modules/@babel/core/package.json"));
        assert!(is_manifest("node_modules/a/node_modules/b/package.json"));
        assert!(!is_manifest("node_modules/a/lib/package.json"));
        assert!(!is_manifest("app/package.json"));
        assert!(!is_manifest("node_modules/@babel/package.json"));
        let p = package("x", br#"{"name":"@babel/core","version":"7.23.0","license":"MIT"}"#).unwrap();
        assert_eq!((p.purl.as_str(), p.license.as_deref()), ("pkg:npm/%40babel/core@7.23.0", Some("MIT")));
        let legacy = package("x", br#"{"name":"a","version":"1","licenses":[{"type":"MIT"},{"type":"GPL-2.0"}]}"#);
        assert_eq!(legacy.unwrap().license.as_deref(), Some("(MIT) OR (GPL-2.0)"));
        assert!(package("x", b"{not json").is_none());
        assert!(package("x", br#"{"name":"a"}"#).is_none());
    }
}
