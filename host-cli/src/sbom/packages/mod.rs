//! Packages found in an image's files: Debian (dpkg), Alpine (apk), Python distributions and npm packages, each
//! with a package URL. Detection reads only the package managers' own records, so what is listed is what the
//! package managers installed, not a guess from file names.

mod apk;
mod control;
mod dpkg;
mod npm;
mod purl;
mod python;

use std::collections::BTreeMap;

use super::contents::Node;

pub(crate) use purl::package_url;

/// Which package manager a package belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PackageKind {
    /// A Debian package (dpkg).
    Deb,
    /// An Alpine package (apk).
    Apk,
    /// A Python distribution.
    Python,
    /// An npm package.
    Npm,
}

impl PackageKind {
    /// The package URL type (`deb`, `apk`, `pypi`, `npm`).
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageKind::Deb => "deb",
            PackageKind::Apk => "apk",
            PackageKind::Python => "pypi",
            PackageKind::Npm => "npm",
        }
    }
}

/// One installed package.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    /// Its package manager.
    pub kind: PackageKind,
    /// Its name as the package manager records it.
    pub name: String,
    /// Its version as the package manager records it.
    pub version: String,
    /// Its architecture, when the package manager records one.
    pub architecture: Option<String>,
    /// The licence as declared (apk `L:`, Python metadata, npm `license`); `None` when nothing is declared (dpkg
    /// never declares one).
    pub license: Option<String>,
    /// Its package URL.
    pub purl: String,
    /// The file it was found in (`var/lib/dpkg/status`).
    pub location: String,
}

/// The distribution an image says it is (`/etc/os-release`), for package URL namespaces and `distro` qualifiers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Distro {
    /// `ID` (`debian`, `ubuntu`, `alpine`).
    pub(crate) id: Option<String>,
    /// `VERSION_ID` (`12`, `3.19.1`).
    pub(crate) version_id: Option<String>,
}

impl Distro {
    /// The `distro` qualifier (`debian-12`), when both parts are known.
    pub(crate) fn qualifier(&self) -> Option<String> {
        Some(format!("{}-{}", self.id.as_deref()?, self.version_id.as_deref()?))
    }

    /// Reads `os-release` text; values may be quoted.
    fn parse(text: &str) -> Distro {
        let value = |key: &str| {
            text.lines()
                .find_map(|line| line.trim().strip_prefix(key)?.strip_prefix('='))
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_".contains(&b)))
        };
        Distro { id: value("ID").map(|id| id.to_ascii_lowercase()), version_id: value("VERSION_ID") }
    }
}

/// The `os-release` files, in the order systemd reads them.
const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];

/// Whether the scanner must keep `path`'s content for detection.
pub(crate) fn is_package_metadata(path: &str) -> bool {
    OS_RELEASE.contains(&path)
        || dpkg::is_database(path)
        || path == apk::DATABASE
        || python::is_metadata(path)
        || npm::is_manifest(path)
}

/// Every package recorded in `nodes`, sorted by kind, name, version and location.
pub(crate) fn detect_packages(nodes: &BTreeMap<String, Node>) -> Vec<Package> {
    let content = |path: &str| match nodes.get(path) {
        Some(Node::File { content: Some(bytes), .. }) => Some(bytes.clone()),
        _ => None,
    };
    let distro = OS_RELEASE
        .iter()
        .find_map(|path| content(path))
        .map(|bytes| Distro::parse(&String::from_utf8_lossy(&bytes)))
        .unwrap_or_default();
    let mut packages = Vec::new();
    for (path, node) in nodes {
        let Node::File { content: Some(bytes), .. } = node else { continue };
        if dpkg::is_database(path) {
            packages.extend(dpkg::packages(path, &String::from_utf8_lossy(bytes), &distro));
        } else if path == apk::DATABASE {
            packages.extend(apk::packages(path, &String::from_utf8_lossy(bytes), &distro));
        } else if python::is_metadata(path) {
            packages.extend(python::package(path, &String::from_utf8_lossy(bytes)));
        } else if npm::is_manifest(path) {
            packages.extend(npm::package(path, bytes));
        }
    }
    packages
        .sort_by(|a, b| (a.kind, &a.name, &a.version, &a.location).cmp(&(b.kind, &b.name, &b.version, &b.location)));
    packages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_os_release() {
        let d = Distro::parse("PRETTY_NAME=\"Debian GNU/Linux 12\"\nID=debian\nVERSION_ID=\"12\"\n");
        assert_eq!(d.qualifier().as_deref(), Some("debian-12"));
        assert_eq!(Distro::parse("ID=\"bad id\"\n"), Distro::default());
    }
}
