//! Debian packages from dpkg's database: `var/lib/dpkg/status`, and the one-file-per-package
//! `var/lib/dpkg/status.d/<name>` distroless images use. dpkg records no licence, so none is claimed.

use super::control::{blocks, field, fields};
use super::purl::package_url;
use super::{Distro, Package, PackageKind};

/// Whether `path` is a dpkg status database.
pub(super) fn is_database(path: &str) -> bool {
    path == "var/lib/dpkg/status"
        || path
            .strip_prefix("var/lib/dpkg/status.d/")
            .is_some_and(|name| !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums"))
}

/// The packages of a status file whose files are on disk (not `not-installed` or `config-files` only).
pub(super) fn packages(location: &str, text: &str, distro: &Distro) -> Vec<Package> {
    blocks(text)
        .filter_map(|block| {
            let fields = fields(&block);
            let name = field(&fields, "Package").filter(|n| !n.is_empty())?;
            let version = field(&fields, "Version").filter(|v| !v.is_empty())?;
            let state = field(&fields, "Status").and_then(|s| s.split_whitespace().nth(2));
            if matches!(state, Some("not-installed" | "config-files")) {
                return None;
            }
            let architecture = field(&fields, "Architecture").filter(|a| !a.is_empty());
            let namespace = distro.id.as_deref().unwrap_or("debian");
            let purl = package_url(
                "deb",
                Some(namespace),
                name,
                version,
                &[("arch", architecture), ("distro", distro.qualifier().as_deref())],
            );
            Some(Package {
                kind: PackageKind::Deb,
                name: name.to_string(),
                version: version.to_string(),
                architecture: architecture.map(str::to_string),
                license: None,
                purl,
                location: location.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_installed_packages_only() {
        let status = "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n\n\
                      Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                      Package: noversion\nStatus: install ok installed\n";
        let distro = Distro { id: Some("debian".into()), version_id: Some("12".into()) };
        let found = packages("var/lib/dpkg/status", status, &distro);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].purl, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12");
        assert!(is_database("var/lib/dpkg/status.d/base") && !is_database("var/lib/dpkg/status.d/base.md5sums"));
    }
}
