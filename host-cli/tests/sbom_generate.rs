//! `nv2 sbom generate`: a synthetic two-layer image (written with the tar crate) with a dpkg status file, an apk
//! database, a Python dist-info and npm packages, whiteouts and an opaque directory; the SPDX 2.3 and CycloneDX
//! 1.5 documents are checked structurally here and by the reference validators (spdx-tools, cyclonedx-python-lib)
//! when installed.

mod build_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

use build_support::skip_or_fail;
use nv2_cli::sbom::{generate, ImageContents, ImageSubject, PackageKind, Sbom, SbomError, SbomFormat, SbomPackage};
use nv2_core::oci::{Digest, Platform};
use serde_json::Value;
use sha1::Digest as _;

const CREATED: &str = "2024-05-01T12:00:00+02:00";

/// One tar entry of a synthetic layer.
enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    RawName(&'a [u8], &'a [u8]),
}

fn layer(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let mut header = tar::Header::new_ustar();
        header.set_mode(0o644);
        match entry {
            Entry::File(name, data) => {
                header.set_size(data.len() as u64);
                builder.append_data(&mut header, name, *data).unwrap();
            }
            Entry::Symlink(name, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                builder.append_link(&mut header, name, target).unwrap();
            }
            Entry::HardLink(name, target) => {
                header.set_entry_type(tar::EntryType::Link);
                header.set_size(0);
                builder.append_link(&mut header, name, target).unwrap();
            }
            Entry::RawName(name, data) => {
                header.set_size(data.len() as u64);
                header.as_old_mut().name[..name.len()].copy_from_slice(name);
                header.set_cksum();
                builder.append(&header, *data).unwrap();
            }
        }
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

const DPKG_STATUS: &[u8] =
    b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n\
Description: GNU C Library\n shared libraries\n\nPackage: oldpkg\nStatus: deinstall ok config-files\nVersion: 1.0\n\n\
Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n";
const APK_DB: &[u8] = b"C:Q1deadbeef=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\nT:the musl c library\n\n";
const PY_METADATA: &[u8] =
    b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nLicense: Apache 2.0\n\n# Requests\n";
const REQUESTS: &str = "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA";

/// The bottom layer (gzip) and the top layer (plain tar) of the synthetic image.
fn synthetic_layers() -> Vec<(String, Vec<u8>)> {
    let bottom = layer(&[
        Entry::File("var/lib/dpkg/status", DPKG_STATUS),
        Entry::File("lib/apk/db/installed", APK_DB),
        Entry::File(REQUESTS, PY_METADATA),
        Entry::File(
            "app/node_modules/left-pad/package.json",
            br#"{"name":"left-pad","version":"1.3.0","license":"WTFPL"}"#,
        ),
        Entry::File(
            "app/node_modules/@acme/tool/package.json",
            br#"{"name":"@acme/tool","version":"2.0.0-beta.1","license":"SEE LICENSE IN LICENSE.txt"}"#,
        ),
        Entry::File("app/node_modules/removed/package.json", br#"{"name":"removed","version":"0.0.1"}"#),
        Entry::File("app/node_modules/left-pad/lib/package.json", br#"{"name":"not-a-package","version":"9"}"#),
        Entry::File("opt/old/a.txt", b"a"),
        Entry::File("opt/old/b.txt", b"b"),
        Entry::File("tmp/secret.txt", b"secret"),
        Entry::File("etc/motd", b"v1\n"),
        Entry::HardLink("usr/bin/motd-copy", "etc/motd"),
        Entry::Symlink("bin/sh", "/bin/busybox"),
        Entry::File("srv/data", b"a file, later a directory"),
        Entry::File("var/cache/pkg/a.bin", b"below a directory that later becomes a file"),
    ]);
    let top = layer(&[
        Entry::File("tmp/.wh.secret.txt", b""),
        Entry::File("opt/old/.wh..wh..opq", b""),
        Entry::File("opt/old/new.txt", b"new"),
        Entry::File("app/node_modules/.wh.removed", b""),
        Entry::File("etc/motd", b"v2\n"),
        Entry::File("srv/data/x.txt", b"x"),
        Entry::File("var/cache", b"now a file"),
    ]);
    vec![("bottom".into(), gzip(&bottom)), ("top".into(), top)]
}

fn scan(layers: &[(String, Vec<u8>)]) -> Result<ImageContents, SbomError> {
    ImageContents::scan(layers.iter().map(|(name, bytes)| (name.clone(), &bytes[..])))
}

fn subject() -> ImageSubject {
    ImageSubject {
        name: "registry.example/net-monitor:v1".into(),
        digest: Digest::sha256(b"the manifest"),
        platform: Some(Platform {
            architecture: "amd64".into(),
            os: "linux".into(),
            os_version: None,
            os_features: Vec::new(),
            variant: None,
            features: Vec::new(),
        }),
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Digest::sha256(bytes).hex().to_string()
}

fn expected_packages() -> Vec<SbomPackage> {
    let package = |name: &str, version: &str, license: Option<&str>, purl: &str| SbomPackage {
        name: name.into(),
        version: Some(version.into()),
        license: license.map(str::to_string),
        purl: Some(purl.into()),
    };
    vec![
        package("curl", "7.88.1-10+deb12u5", None, "pkg:deb/debian/curl@7.88.1-10%2Bdeb12u5?arch=amd64"),
        package("libc6", "2.36-9+deb12u4", None, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64"),
        package("musl", "1.2.4-r2", Some("MIT"), "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64"),
        package("requests", "2.31.0", Some("Apache-2.0"), "pkg:pypi/requests@2.31.0"),
        package("@acme/tool", "2.0.0-beta.1", Some("SEE LICENSE IN LICENSE.txt"), "pkg:npm/%40acme/tool@2.0.0-beta.1"),
        package("left-pad", "1.3.0", Some("WTFPL"), "pkg:npm/left-pad@1.3.0"),
    ]
}

#[test]
fn layers_add_up_to_the_files_and_packages_a_container_sees() {
    let contents = scan(&synthetic_layers()).unwrap();
    let files: BTreeMap<&str, &str> = contents.files().map(|f| (f.path.as_str(), f.sha256.as_str())).collect();
    let expected: BTreeSet<&str> = [
        "app/node_modules/@acme/tool/package.json",
        "app/node_modules/left-pad/lib/package.json",
        "app/node_modules/left-pad/package.json",
        "etc/motd",
        "lib/apk/db/installed",
        "opt/old/new.txt",
        REQUESTS,
        "srv/data/x.txt",
        "usr/bin/motd-copy",
        "var/cache",
        "var/lib/dpkg/status",
    ]
    .into();
    assert_eq!(files.keys().copied().collect::<BTreeSet<_>>(), expected, "whiteouts and the opaque dir hide files");
    assert_eq!(files["etc/motd"], sha256_hex(b"v2\n"), "the upper layer's file wins");
    assert_eq!(files["usr/bin/motd-copy"], sha256_hex(b"v1\n"), "a hard link has its target's content");
    let motd = contents.files().find(|f| f.path == "etc/motd").unwrap();
    assert_eq!(motd.size, 3);
    assert_eq!(motd.sha1, build_support_sha1(b"v2\n"));
    assert!(!contents.has_file("bin/sh"), "symlinks are not files");
    assert!(!contents.has_file("srv/data"), "a file a later layer puts entries below is a directory");

    let kinds: Vec<(PackageKind, &str)> = contents.packages().iter().map(|p| (p.kind, p.name.as_str())).collect();
    assert_eq!(
        kinds,
        [
            (PackageKind::Deb, "curl"),
            (PackageKind::Deb, "libc6"),
            (PackageKind::Apk, "musl"),
            (PackageKind::Python, "requests"),
            (PackageKind::Npm, "@acme/tool"),
            (PackageKind::Npm, "left-pad"),
        ],
        "exactly the installed packages: no config-files remnant, no whited-out or nested package.json"
    );
    let requests = &contents.packages()[3];
    assert_eq!((requests.location.as_str(), requests.license.as_deref()), (REQUESTS, Some("Apache 2.0")));
}

fn build_support_sha1(bytes: &[u8]) -> String {
    sha1::Sha1::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks the SPDX 2.3 rules a consumer relies on; returns the document.
fn check_spdx(bytes: &[u8], contents: &ImageContents) -> Value {
    let doc: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    assert_eq!(doc["dataLicense"], "CC0-1.0");
    assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
    assert_eq!(doc["name"], "registry.example/net-monitor:v1");
    let namespace = doc["documentNamespace"].as_str().unwrap();
    assert!(namespace.starts_with("https://") && !namespace.contains('#'), "{namespace}");
    assert_eq!(doc["creationInfo"]["created"], "2024-05-01T10:00:00Z", "canonical UTC");
    assert_eq!(doc["creationInfo"]["creators"][0], format!("Tool: nv2-{}", env!("CARGO_PKG_VERSION")));

    let valid_id = |id: &str| {
        id.strip_prefix("SPDXRef-").is_some_and(|rest| {
            !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        })
    };
    let mut ids = BTreeSet::from(["SPDXRef-DOCUMENT".to_string()]);
    let extracted: BTreeSet<&str> = doc["hasExtractedLicensingInfos"]
        .as_array()
        .map(|list| list.iter().map(|l| l["licenseId"].as_str().unwrap()).collect())
        .unwrap_or_default();
    for license in doc["hasExtractedLicensingInfos"].as_array().into_iter().flatten() {
        assert!(license["licenseId"].as_str().unwrap().starts_with("LicenseRef-"));
        assert!(!license["extractedText"].as_str().unwrap().is_empty());
    }
    for package in doc["packages"].as_array().unwrap() {
        let id = package["SPDXID"].as_str().unwrap();
        assert!(valid_id(id), "{id}");
        assert!(ids.insert(id.to_string()), "duplicate SPDXID {id}");
        assert!(package["name"].is_string() && package["downloadLocation"].is_string(), "{package}");
        let declared = package["licenseDeclared"].as_str().unwrap();
        for word in declared.split([' ', '(', ')']).filter(|w| w.starts_with("LicenseRef-")) {
            assert!(extracted.contains(word), "{word} is not declared");
        }
        let purls: Vec<&Value> =
            package["externalRefs"].as_array().unwrap().iter().filter(|r| r["referenceType"] == "purl").collect();
        assert_eq!(purls.len(), 1, "{package}");
        assert_eq!(purls[0]["referenceCategory"], "PACKAGE-MANAGER");
        assert!(purls[0]["referenceLocator"].as_str().unwrap().starts_with("pkg:"));
        if package["filesAnalyzed"] == true {
            let mut sha1s: Vec<&str> = contents.files().map(|f| f.sha1.as_str()).collect();
            sha1s.sort();
            let code = build_support_sha1(sha1s.concat().as_bytes());
            assert_eq!(package["packageVerificationCode"]["packageVerificationCodeValue"], code.as_str());
        } else {
            assert!(package.get("packageVerificationCode").is_none());
        }
    }
    let mut file_names = BTreeSet::new();
    for file in doc["files"].as_array().unwrap() {
        let id = file["SPDXID"].as_str().unwrap();
        assert!(valid_id(id), "{id}");
        assert!(ids.insert(id.to_string()), "duplicate SPDXID {id}");
        let name = file["fileName"].as_str().unwrap();
        assert!(name.starts_with("./"), "{name}");
        file_names.insert(name.trim_start_matches("./").to_string());
        let checksums: BTreeMap<&str, &str> = file["checksums"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["algorithm"].as_str().unwrap(), c["checksumValue"].as_str().unwrap()))
            .collect();
        assert_eq!(checksums["SHA1"].len(), 40, "SPDX 2.3 requires SHA1 for files");
        assert_eq!(checksums["SHA256"].len(), 64);
    }
    let scanned: BTreeSet<String> = contents.files().map(|f| f.path.clone()).collect();
    assert_eq!(file_names, scanned);
    let mut contained = BTreeSet::new();
    let mut describes = Vec::new();
    for relationship in doc["relationships"].as_array().unwrap() {
        let (from, kind, to) = (
            relationship["spdxElementId"].as_str().unwrap(),
            relationship["relationshipType"].as_str().unwrap(),
            relationship["relatedSpdxElement"].as_str().unwrap(),
        );
        assert!(ids.contains(from) && ids.contains(to), "relationship to an unknown element: {relationship}");
        match kind {
            "DESCRIBES" => describes.push((from.to_string(), to.to_string())),
            "CONTAINS" => {
                assert_eq!(from, "SPDXRef-Image");
                contained.insert(to.to_string());
            }
            other => panic!("unexpected relationship {other}"),
        }
    }
    assert_eq!(describes, [("SPDXRef-DOCUMENT".to_string(), "SPDXRef-Image".to_string())]);
    assert_eq!(contained.len(), ids.len() - 2, "the image contains every file and package");
    doc
}

/// Checks the CycloneDX 1.5 rules a consumer relies on; returns the document.
fn check_cyclonedx(bytes: &[u8], contents: &ImageContents) -> Value {
    let doc: Value = serde_json::from_slice(bytes).unwrap();
    assert_eq!(
        (doc["bomFormat"].as_str(), doc["specVersion"].as_str(), doc["version"].as_u64()),
        (Some("CycloneDX"), Some("1.5"), Some(1))
    );
    let serial = doc["serialNumber"].as_str().unwrap().strip_prefix("urn:uuid:").unwrap();
    let groups: Vec<&str> = serial.split('-').collect();
    assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{serial}");
    assert!(groups[2].starts_with('5') && "89ab".contains(&groups[3][..1]), "a version 5 UUID: {serial}");
    assert_eq!(doc["metadata"]["timestamp"], "2024-05-01T10:00:00Z");
    let image = &doc["metadata"]["component"];
    assert_eq!(image["type"], "container");
    assert_eq!(image["version"], subject().digest.to_string());
    assert_eq!(
        image["purl"],
        format!(
            "pkg:oci/net-monitor@sha256%3A{}?arch=amd64&repository_url=registry.example%2Fnet-monitor&tag=v1",
            subject().digest.hex()
        )
    );
    let mut refs = BTreeSet::from([image["bom-ref"].as_str().unwrap().to_string()]);
    let mut files = 0;
    for component in doc["components"].as_array().unwrap() {
        assert!(refs.insert(component["bom-ref"].as_str().unwrap().to_string()), "duplicate bom-ref");
        match component["type"].as_str().unwrap() {
            "library" => {
                assert!(component["purl"].as_str().unwrap().starts_with("pkg:"));
                assert!(component["version"].is_string());
                for license in component["licenses"].as_array().into_iter().flatten() {
                    let l = &license["license"];
                    assert!(license["expression"].is_string() || l["id"].is_string() || l["name"].is_string());
                }
            }
            "file" => {
                files += 1;
                let algs: Vec<&str> =
                    component["hashes"].as_array().unwrap().iter().map(|h| h["alg"].as_str().unwrap()).collect();
                assert_eq!(algs, ["SHA-1", "SHA-256"]);
            }
            other => panic!("unexpected component type {other}"),
        }
    }
    assert_eq!(files, contents.files().count());
    for dependency in doc["dependencies"].as_array().unwrap() {
        assert!(refs.contains(dependency["ref"].as_str().unwrap()));
        for target in dependency["dependsOn"].as_array().unwrap() {
            assert!(refs.contains(target.as_str().unwrap()));
        }
    }
    doc
}

#[test]
fn spdx_document_is_valid_and_lists_exactly_the_packages() {
    let contents = scan(&synthetic_layers()).unwrap();
    let sbom = generate(&contents, &subject(), SbomFormat::Spdx, CREATED).unwrap();
    assert_eq!(sbom.media_type(), "application/spdx+json");
    let doc = check_spdx(sbom.bytes(), &contents);
    let npm_tool = doc["packages"].as_array().unwrap().iter().find(|p| p["name"] == "@acme/tool").unwrap();
    let declared = npm_tool["licenseDeclared"].as_str().unwrap();
    assert!(declared.starts_with("LicenseRef-"), "non-SPDX licence text becomes a LicenseRef: {declared}");
    let requests = doc["packages"].as_array().unwrap().iter().find(|p| p["name"] == "requests").unwrap();
    assert_eq!(requests["licenseDeclared"], "Apache-2.0", "a common spelling is mapped to its SPDX id");

    assert_eq!(sbom.packages().unwrap(), expected_packages());
    let read_back = Sbom::from_bytes(sbom.bytes().to_vec()).unwrap();
    assert_eq!(read_back.format(), SbomFormat::Spdx);
    assert_eq!(read_back, sbom);

    let again = generate(&scan(&synthetic_layers()).unwrap(), &subject(), SbomFormat::Spdx, CREATED).unwrap();
    assert_eq!(again.bytes(), sbom.bytes(), "same image, same time: same bytes");
    let other = ImageSubject { digest: Digest::sha256(b"another manifest"), ..subject() };
    let other_doc: Value =
        serde_json::from_slice(generate(&contents, &other, SbomFormat::Spdx, CREATED).unwrap().bytes()).unwrap();
    assert_ne!(other_doc["documentNamespace"], doc["documentNamespace"], "the namespace derives from the digest");
}

#[test]
fn cyclonedx_document_is_valid_and_lists_exactly_the_packages() {
    let contents = scan(&synthetic_layers()).unwrap();
    let sbom = generate(&contents, &subject(), SbomFormat::CycloneDx, CREATED).unwrap();
    assert_eq!(sbom.media_type(), "application/vnd.cyclonedx+json");
    let doc = check_cyclonedx(sbom.bytes(), &contents);
    let components = doc["components"].as_array().unwrap();
    let license_of = |name: &str| components.iter().find(|c| c["name"] == name).unwrap()["licenses"].clone();
    assert_eq!(license_of("musl"), serde_json::json!([{"license": {"id": "MIT"}}]));
    assert_eq!(license_of("@acme/tool"), serde_json::json!([{"license": {"name": "SEE LICENSE IN LICENSE.txt"}}]));
    assert!(license_of("curl").is_null(), "dpkg declares no licence, so none is claimed");
    assert_eq!(sbom.packages().unwrap(), expected_packages());
    assert_eq!(Sbom::from_bytes(sbom.bytes().to_vec()).unwrap().format(), SbomFormat::CycloneDx);
    let again = generate(&contents, &subject(), SbomFormat::CycloneDx, CREATED).unwrap();
    assert_eq!(again.bytes(), sbom.bytes());
}

#[test]
fn packages_are_read_from_documents_other_tools_write() {
    let spdx = br#"{"spdxVersion":"SPDX-2.2","SPDXID":"SPDXRef-DOCUMENT","name":"alpine","documentDescribes":["SPDXRef-root"],
        "packages":[{"name":"alpine:3.19","SPDXID":"SPDXRef-root","downloadLocation":"NOASSERTION"},
                    {"name":"busybox","SPDXID":"SPDXRef-p1","versionInfo":"1.36.1-r15","licenseConcluded":"GPL-2.0-only",
                     "licenseDeclared":"NOASSERTION","downloadLocation":"NOASSERTION",
                     "externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:apk/alpine/busybox@1.36.1-r15"}]},
                    {"name":"custom","SPDXID":"SPDXRef-p2","licenseDeclared":"LicenseRef-acme","downloadLocation":"NOASSERTION"}],
        "hasExtractedLicensingInfos":[{"licenseId":"LicenseRef-acme","extractedText":"Acme terms","name":"Acme Licence"}]}"#;
    let packages = Sbom::from_bytes(spdx.to_vec()).unwrap().packages().unwrap();
    assert_eq!(packages.len(), 2, "the described root is the image, not a package");
    assert_eq!(packages[0].license.as_deref(), Some("GPL-2.0-only"));
    assert_eq!(packages[0].purl.as_deref(), Some("pkg:apk/alpine/busybox@1.36.1-r15"));
    assert_eq!((packages[1].license.as_deref(), packages[1].version.as_deref()), (Some("Acme Licence"), None));

    let cyclonedx = br#"{"bomFormat":"CycloneDX","specVersion":"1.4","components":[
        {"type":"library","name":"openssl","version":"3.1.4","licenses":[{"license":{"id":"Apache-2.0"}},{"license":{"name":"OpenSSL notice"}}],
         "components":[{"type":"library","name":"libcrypto","version":"3.1.4","licenses":[{"expression":"Apache-2.0 OR MIT"}]}]},
        {"type":"file","name":"/etc/ssl/openssl.cnf"}]}"#;
    let packages = Sbom::from_bytes(cyclonedx.to_vec()).unwrap().packages().unwrap();
    let summary: Vec<(&str, Option<&str>)> = packages.iter().map(|p| (p.name.as_str(), p.license.as_deref())).collect();
    assert_eq!(
        summary,
        [("openssl", Some("(Apache-2.0) AND (OpenSSL notice)")), ("libcrypto", Some("Apache-2.0 OR MIT"))]
    );
}

#[test]
fn malformed_inputs_are_typed_errors() {
    let contents = scan(&synthetic_layers()).unwrap();
    for bad in ["yesterday", "2024-13-01T00:00:00Z", ""] {
        assert!(
            matches!(generate(&contents, &subject(), SbomFormat::Spdx, bad), Err(SbomError::InvalidCreated { .. })),
            "{bad}"
        );
    }
    for bad in [
        &b"not json"[..],
        br#"{"a":1}"#,
        br#"{"spdxVersion":"SPDX-3.0"}"#,
        br#"{"bomFormat":"CycloneDX","bomFormat":"x"}"#,
    ] {
        assert!(
            matches!(Sbom::from_bytes(bad.to_vec()), Err(SbomError::Malformed { .. })),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let traversal = layer(&[Entry::RawName(b"../../etc/shadow", b"x")]);
    assert!(
        matches!(scan(&[("evil".into(), traversal)]), Err(SbomError::UnsafePath { ref layer, .. }) if layer == "evil")
    );
    assert!(matches!(scan(&[("junk".into(), vec![7u8; 1024])]), Err(SbomError::MalformedLayer { .. })));
    let mut truncated = gzip(&layer(&[Entry::File("a", &[1u8; 5000])]));
    truncated.truncate(truncated.len() / 2);
    assert!(matches!(scan(&[("cut".into(), truncated)]), Err(SbomError::MalformedLayer { .. })));
    let dangling = layer(&[Entry::HardLink("b", "missing")]);
    assert!(matches!(scan(&[("dangling".into(), dangling)]), Err(SbomError::MalformedLayer { .. })));
}

/// The interpreter with the SBoM validators: `$NV2_SBOM_PYTHON`, else `python3`.
fn python() -> PathBuf {
    std::env::var_os("NV2_SBOM_PYTHON").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("python3"))
}

#[test]
fn spdx_tools_validates_the_spdx_document() {
    let tool =
        std::env::var_os("NV2_PYSPDXTOOLS").map(PathBuf::from).or_else(|| build_support::peer_tool("pyspdxtools"));
    let Some(tool) = tool else { return };
    let contents = scan(&synthetic_layers()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("sbom.spdx.json");
    std::fs::write(&path, generate(&contents, &subject(), SbomFormat::Spdx, CREATED).unwrap().bytes()).unwrap();
    let output = Command::new(&tool).arg("-i").arg(&path).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && !text.contains("invalid"), "pyspdxtools: {text}");

    // The validator is not a rubber stamp: an undeclared LicenseRef is refused.
    let mut broken: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    broken.as_object_mut().unwrap().remove("hasExtractedLicensingInfos").expect("the document declares a LicenseRef");
    std::fs::write(&path, serde_json::to_vec(&broken).unwrap()).unwrap();
    assert!(!Command::new(&tool).arg("-i").arg(&path).output().unwrap().status.success());
}

const CYCLONEDX_CHECK: &str = "
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
error = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())
if error is not None:
    print(error)
    sys.exit(1)
";

#[test]
fn cyclonedx_python_lib_validates_the_cyclonedx_document() {
    let probe = Command::new(python()).args(["-c", "import cyclonedx.validation.json, jsonschema"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        skip_or_fail("cyclonedx-python-lib[json-validation] is not importable (set NV2_SBOM_PYTHON to its python)");
        return;
    }
    let contents = scan(&synthetic_layers()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let path = temp.path().join("sbom.cdx.json");
    std::fs::write(&path, generate(&contents, &subject(), SbomFormat::CycloneDx, CREATED).unwrap().bytes()).unwrap();
    let output = Command::new(python()).args(["-c", CYCLONEDX_CHECK]).arg(&path).output().unwrap();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let broken = std::fs::read_to_string(&path).unwrap().replace("\"SHA-256\"", "\"SHA-257\"");
    std::fs::write(&path, broken).unwrap();
    assert!(!Command::new(python()).args(["-c", CYCLONEDX_CHECK]).arg(&path).output().unwrap().status.success());
}
