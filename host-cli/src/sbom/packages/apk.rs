//! Alpine packages from apk's database `lib/apk/db/installed`: one block per package of single-letter fields
//! (`P:` name, `V:` version, `A:` architecture, `L:` licence).

use super::control::blocks;
use super::purl::package_url;
use super::{Distro, Package, PackageKind};

/// apk's installed-package database.
pub(super) const DATABASE: &str = "lib/apk/db/installed";

/// The packages of the database.
pub(super) fn packages(location: &str, text: &str, distro: &Distro) -> Vec<Package> {
    blocks(text)
        .filter_map(|block| {
            let value = |letter: &str| {
                block.lines().find_map(|line| line.strip_prefix(letter)).map(str::trim).filter(|v| !v.is_empty())
            };
            let name = value("P:")?;
            let version = value("V:")?;
            let architecture = value("A:");
            let namespace = distro.id.as_deref().unwrap_or("alpine");
            let purl = package_url(
                "apk",
                Some(namespace),
                name,
                version,
                &[("arch", architecture), ("distro", distro.qualifier().as_deref())],
            );
            Some(Package {
                kind: PackageKind::Apk,
                name: name.to_string(),
                version: version.to_string(),
                architecture: architecture.map(str::to_string),
                license: value("L:").map(str::to_string),
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
    fn reads_name_version_arch_and_licence() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\n";
        let found = packages(DATABASE, db, &Distro::default());
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].purl, "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64");
        assert_eq!(found[1].license.as_deref(), Some("GPL-2.0-only"));
    }
}
