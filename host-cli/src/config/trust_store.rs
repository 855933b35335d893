//! Trust stores on disk, exactly notation's layout: `truststore/x509/{ca,signingAuthority,tsa}/<store>/<files>`,
//! each file PEM or DER holding one or more certificates.
//!
//! notation's rules apply: store names are `[a-zA-Z0-9_.-]+`; a symbolic link (store directory or file) and a
//! directory inside a store are errors, not silently skipped; an empty store is an error. The certificate rules for
//! each store type (CA or self-signed for `ca` and `signingAuthority`, self-signed root for `tsa`) are the core's,
//! applied both when certificates are added and when stores are loaded. Added files are copied byte for byte.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use nv2_core::trust::store::is_valid_store_name;
use nv2_core::trust::{StoreRef, TrustStores};
use nv2_core::x509::{check_trust_store_certificate, parse_certificates, Certificate, TrustStoreKind};

use super::key_material::MAX_CERTIFICATE_FILE_BYTES;
use super::{regular_file, ConfigDir, ConfigError};

/// The trust store directory inside the configuration directory (the specification says `trust-store`, notation's
/// code and so every real installation use `truststore`).
pub const TRUST_STORE_DIR: &str = "truststore";

/// Every store type, in the order notation lists them.
pub const STORE_KINDS: [TrustStoreKind; 3] =
    [TrustStoreKind::Ca, TrustStoreKind::SigningAuthority, TrustStoreKind::Tsa];

/// One certificate file in a trust store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCertificateFile {
    /// The store it belongs to.
    pub store: StoreRef,
    /// Its file name inside the store directory.
    pub file_name: String,
    /// Its full path.
    pub path: PathBuf,
}

/// What `nv2 cert delete` removes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeleteTarget {
    /// One file of the store.
    File(String),
    /// Every file of the store (`--all`).
    All,
}

/// What a store directory holds, before notation's rules are applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum EntryKind {
    File,
    Symlink,
    Directory,
    Other,
}

struct StoreEntry {
    name: String,
    path: PathBuf,
    kind: EntryKind,
}

impl ConfigDir {
    /// `truststore/x509`, the parent of the three store type directories.
    pub fn trust_store_root(&self) -> PathBuf {
        self.path().join(TRUST_STORE_DIR).join("x509")
    }

    /// The directory of one named store (`truststore/x509/<type>/<name>`).
    pub fn trust_store_path(&self, store: &StoreRef) -> PathBuf {
        self.trust_store_root().join(store.kind.name()).join(&store.name)
    }

    /// Copies certificate files into a store (`nv2 cert add --type T --store S FILE...`), creating it. Every file
    /// must parse and every certificate must be allowed in a store of that type; a file of the same name must not
    /// exist yet. Nothing is written unless every file is acceptable. Returns the paths written.
    pub fn add_certificates<P: AsRef<Path>>(&self, store: &StoreRef, files: &[P]) -> Result<Vec<PathBuf>, ConfigError> {
        self.existing_store_files(store)?;
        let mut prepared: Vec<(PathBuf, Vec<u8>)> = Vec::with_capacity(files.len());
        for file in files {
            let file = file.as_ref();
            let bytes = regular_file::read_input(file, MAX_CERTIFICATE_FILE_BYTES)?;
            let name = file.file_name().and_then(OsStr::to_str).ok_or_else(|| {
                ConfigError::InvalidFileName(
                    file.file_name().unwrap_or(file.as_os_str()).to_string_lossy().into_owned(),
                )
            })?;
            let destination = self.prepare_certificate(store, name, &bytes, file)?;
            if prepared.iter().any(|(path, _)| path == &destination) {
                return Err(ConfigError::FileExists { path: destination });
            }
            prepared.push((destination, bytes));
        }
        let mut written: Vec<PathBuf> = Vec::with_capacity(prepared.len());
        for (destination, bytes) in prepared {
            if let Err(e) = regular_file::write_new(&destination, &bytes) {
                for path in &written {
                    let _ = regular_file::remove(path);
                }
                return Err(e);
            }
            written.push(destination);
        }
        Ok(written)
    }

    /// Checks that `bytes` (from `origin`) may be stored as `file_name` in `store` and returns the destination.
    pub(crate) fn prepare_certificate(
        &self,
        store: &StoreRef,
        file_name: &str,
        bytes: &[u8],
        origin: &Path,
    ) -> Result<PathBuf, ConfigError> {
        check_file_name(file_name)?;
        let certificates = parse_certificates(bytes)
            .map_err(|source| ConfigError::Certificates { path: origin.into(), source: source.into() })?;
        for certificate in &certificates {
            check_trust_store_certificate(certificate, store.kind).map_err(|source| {
                ConfigError::TrustStoreCertificate { path: origin.into(), store: store.clone(), source: source.into() }
            })?;
        }
        let destination = self.trust_store_path(store).join(file_name);
        if regular_file::exists(&destination)? {
            return Err(ConfigError::FileExists { path: destination });
        }
        Ok(destination)
    }

    /// The stores present on disk, of one type or of all types, sorted by type then name.
    pub fn trust_store_names(&self, kind: Option<TrustStoreKind>) -> Result<Vec<StoreRef>, ConfigError> {
        let mut stores = Vec::new();
        for kind in STORE_KINDS.into_iter().filter(|k| kind.is_none_or(|wanted| wanted == *k)) {
            let dir = self.trust_store_root().join(kind.name());
            for entry in list_directory(&dir)?.unwrap_or_default() {
                if !is_valid_store_name(&entry.name) {
                    continue;
                }
                match self.followed_kind(&entry)? {
                    EntryKind::Directory => stores
                        .push(StoreRef::new(kind, &entry.name).map_err(|_| ConfigError::InvalidStoreName(entry.name))?),
                    EntryKind::Symlink | EntryKind::File | EntryKind::Other => {}
                }
            }
        }
        Ok(stores)
    }

    /// The certificate files in the stores (`nv2 cert list [--type T] [--store S]`), sorted by type, store and
    /// file name.
    pub fn list_certificates(
        &self,
        kind: Option<TrustStoreKind>,
        store_name: Option<&str>,
    ) -> Result<Vec<StoredCertificateFile>, ConfigError> {
        if let Some(name) = store_name {
            if !is_valid_store_name(name) {
                return Err(ConfigError::InvalidStoreName(name.into()));
            }
        }
        let mut files = Vec::new();
        for store in self.trust_store_names(kind)? {
            if store_name.is_some_and(|name| name != store.name) {
                continue;
            }
            for (file_name, path) in self.existing_store_files(&store)?.unwrap_or_default() {
                files.push(StoredCertificateFile { store: store.clone(), file_name, path });
            }
        }
        Ok(files)
    }

    /// The certificates of one file in a store (`nv2 cert show`).
    pub fn show_certificates(&self, store: &StoreRef, file_name: &str) -> Result<Vec<Certificate>, ConfigError> {
        check_file_name(file_name)?;
        let path = self.trust_store_path(store).join(file_name);
        let bytes = regular_file::read(self.path(), &path, MAX_CERTIFICATE_FILE_BYTES)?
            .ok_or_else(|| ConfigError::CertificateFileNotFound { path: path.clone() })?;
        parse_certificates(&bytes).map_err(|source| ConfigError::Certificates { path, source: source.into() })
    }

    /// Deletes one file or every file of a store (`nv2 cert delete`), and the store directory once it is empty
    /// (as notation 2 does). Returns the files removed.
    pub fn delete_certificates(&self, store: &StoreRef, target: &DeleteTarget) -> Result<Vec<PathBuf>, ConfigError> {
        let dir = self.trust_store_path(store);
        let entries = list_store_directory(self.path(), &dir)?
            .ok_or_else(|| ConfigError::TrustStoreNotFound { store: store.clone(), path: dir.clone() })?;
        let doomed: Vec<PathBuf> = match target {
            DeleteTarget::File(name) => {
                check_file_name(name)?;
                let entry = entries
                    .into_iter()
                    .find(|e| &e.name == name)
                    .ok_or_else(|| ConfigError::CertificateFileNotFound { path: dir.join(name) })?;
                if entry.kind == EntryKind::Directory {
                    return Err(ConfigError::TrustStoreSubdirectory { path: entry.path });
                }
                vec![entry.path]
            }
            DeleteTarget::All => {
                if let Some(sub) = entries.iter().find(|e| e.kind == EntryKind::Directory) {
                    return Err(ConfigError::TrustStoreSubdirectory { path: sub.path.clone() });
                }
                entries.into_iter().map(|e| e.path).collect()
            }
        };
        let mut removed = Vec::with_capacity(doomed.len());
        for path in doomed {
            if regular_file::remove(&path)? {
                removed.push(path);
            }
        }
        if list_directory(&dir)?.is_some_and(|rest| rest.is_empty()) {
            fs::remove_dir(&dir).map_err(|e| ConfigError::io(&dir, "remove", e))?;
        }
        Ok(removed)
    }

    /// Loads trust stores for verification: the `wanted` stores (typically a policy statement's `trustStores`,
    /// each of which must exist), or with `None` every store on disk. notation's rules apply to each store.
    pub fn load_trust_stores(&self, wanted: Option<&[StoreRef]>) -> Result<TrustStores, ConfigError> {
        let stores = match wanted {
            Some(wanted) => wanted.to_vec(),
            None => self.trust_store_names(None)?,
        };
        let mut loaded = TrustStores::new();
        for store in stores {
            if loaded.certificates(&store).is_some() {
                continue;
            }
            let dir = self.trust_store_path(&store);
            let files = self
                .existing_store_files(&store)?
                .ok_or_else(|| ConfigError::TrustStoreNotFound { store: store.clone(), path: dir.clone() })?;
            if files.is_empty() {
                // The core refuses an empty named store, as notation does.
                loaded
                    .load_store(store.clone(), [] as [&[u8]; 0])
                    .map_err(|source| ConfigError::TrustStore { path: dir.clone(), source: source.into() })?;
            }
            for (_, path) in files {
                let bytes = regular_file::read_existing(self.path(), &path, MAX_CERTIFICATE_FILE_BYTES)?;
                loaded
                    .load_store(store.clone(), [bytes])
                    .map_err(|source| ConfigError::TrustStore { path, source: source.into() })?;
            }
        }
        Ok(loaded)
    }

    /// What an entry is once a link inside the configuration directory is followed; a link leading outside it is
    /// an error.
    fn followed_kind(&self, entry: &StoreEntry) -> Result<EntryKind, ConfigError> {
        if entry.kind != EntryKind::Symlink {
            return Ok(entry.kind);
        }
        let real = regular_file::follow_inside(self.path(), &entry.path)?
            .ok_or_else(|| ConfigError::SymlinkOutside { path: entry.path.clone() })?;
        let metadata = fs::symlink_metadata(&real).map_err(|e| ConfigError::io(&entry.path, "inspect", e))?;
        Ok(if metadata.is_dir() {
            EntryKind::Directory
        } else if metadata.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        })
    }

    /// The files of a store with notation's strictness (no links, no sub-directories), sorted by name; `None` when
    /// the store does not exist.
    fn existing_store_files(&self, store: &StoreRef) -> Result<Option<Vec<(String, PathBuf)>>, ConfigError> {
        let Some(entries) = list_store_directory(self.path(), &self.trust_store_path(store))? else { return Ok(None) };
        let mut files = Vec::with_capacity(entries.len());
        for entry in entries {
            match self.followed_kind(&entry)? {
                EntryKind::File => files.push((entry.name, entry.path)),
                EntryKind::Symlink => return Err(ConfigError::SymlinkOutside { path: entry.path }),
                EntryKind::Directory => return Err(ConfigError::TrustStoreSubdirectory { path: entry.path }),
                EntryKind::Other => return Err(ConfigError::NotRegularFile { path: entry.path }),
            }
        }
        Ok(Some(files))
    }
}

/// A store directory's entries; the directory may be a symbolic link only when it resolves inside the
/// configuration directory `root` (see [`regular_file::follow_inside`]).
fn list_store_directory(root: &Path, dir: &Path) -> Result<Option<Vec<StoreEntry>>, ConfigError> {
    let Some(real) = regular_file::follow_inside(root, dir)? else { return Ok(None) };
    match fs::symlink_metadata(&real) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::io(dir, "inspect", e)),
        Ok(metadata) if !metadata.is_dir() => return Err(ConfigError::NotDirectory { path: dir.into() }),
        Ok(_) => {}
    }
    list_directory(dir)
}

/// A directory's entries sorted by name, without following links; `None` when it does not exist.
fn list_directory(dir: &Path) -> Result<Option<Vec<StoreEntry>>, ConfigError> {
    let reader = match fs::read_dir(dir) {
        Ok(reader) => reader,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::io(dir, "list", e)),
    };
    let mut entries = Vec::new();
    for entry in reader {
        let entry = entry.map_err(|e| ConfigError::io(dir, "list", e))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|e| ConfigError::io(&path, "inspect", e))?;
        let name = entry
            .file_name()
            .into_string()
            .map_err(|name| ConfigError::InvalidFileName(name.to_string_lossy().into_owned()))?;
        let kind = if file_type.is_symlink() {
            EntryKind::Symlink
        } else if file_type.is_dir() {
            EntryKind::Directory
        } else if file_type.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        };
        entries.push(StoreEntry { name, path, kind });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(entries))
}

/// A certificate file name must be a plain name inside the store: no separators, not `.` or `..`.
fn check_file_name(name: &str) -> Result<(), ConfigError> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0'])
        && Path::new(name).file_name() == Some(OsStr::new(name));
    if plain {
        Ok(())
    } else {
        Err(ConfigError::InvalidFileName(name.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::key_material::{certificates_pem, now, random_key};
    use nv2_core::crypto::KeyKind;
    use nv2_core::x509::issue::{issue, issue_self_signed, CertificateSpec, Issuer};

    fn root(cn: &str) -> (nv2_core::crypto::SigningKey, Certificate) {
        let key = random_key(KeyKind::P256).unwrap();
        let subject = format!("CN={cn},O=Notary,ST=WA,C=US");
        let spec = CertificateSpec::ca(&subject, now(), now().saturating_add(3600), None);
        let cert = issue_self_signed(&spec, &key, &[1]).unwrap();
        (key, cert)
    }

    fn leaf_of(root_key: &nv2_core::crypto::SigningKey, root: &Certificate) -> Certificate {
        let key = random_key(KeyKind::P256).unwrap();
        let spec = CertificateSpec::code_signing_leaf("CN=leaf,O=Notary,ST=WA,C=US", now(), now().saturating_add(60));
        let issuer = Issuer { name: &root.subject_string(), key: root_key };
        issue(&spec, &key.public_key_spki_der().unwrap(), issuer, &[2]).unwrap()
    }

    fn pem_file(dir: &Path, name: &str, certs: &[Certificate]) -> PathBuf {
        let path = dir.join(name);
        fs::write(&path, certificates_pem(certs, &path).unwrap()).unwrap();
        path
    }

    fn setup() -> (tempfile::TempDir, ConfigDir, PathBuf) {
        let temp = tempfile::tempdir().unwrap();
        let inputs = temp.path().join("inputs");
        fs::create_dir(&inputs).unwrap();
        let config = ConfigDir::new(temp.path().join("config"));
        (temp, config, inputs)
    }

    #[test]
    fn add_list_show_delete_and_load_like_notation() {
        let (_temp, config, inputs) = setup();
        let (key, ca) = root("root");
        let (_, other) = root("other");
        let a = pem_file(&inputs, "a.pem", std::slice::from_ref(&ca));
        let der = inputs.join("b.der");
        fs::write(&der, other.der()).unwrap();
        let store = StoreRef::parse("ca:acme").unwrap();
        let written = config.add_certificates(&store, &[&a, &der]).unwrap();
        assert_eq!(written.len(), 2);
        assert_eq!(fs::read(&written[1]).unwrap(), other.der(), "bytes are copied unchanged");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&written[0]), 0o600);
            assert_eq!(mode(&config.trust_store_path(&store)), 0o700);
        }
        assert!(matches!(config.add_certificates(&store, &[&a]), Err(ConfigError::FileExists { .. })));

        let tsa = StoreRef::parse("tsa:stamps").unwrap();
        config.add_certificates(&tsa, &[&a]).unwrap();
        let listed = config.list_certificates(None, None).unwrap();
        let names: Vec<String> = listed.iter().map(|f| format!("{}/{}", f.store, f.file_name)).collect();
        assert_eq!(names, ["ca:acme/a.pem", "ca:acme/b.der", "tsa:stamps/a.pem"]);
        assert_eq!(config.list_certificates(Some(TrustStoreKind::Tsa), None).unwrap().len(), 1);
        assert_eq!(config.list_certificates(None, Some("acme")).unwrap().len(), 2);
        assert!(config.list_certificates(None, Some("nope")).unwrap().is_empty());
        assert!(matches!(config.list_certificates(None, Some("a/b")), Err(ConfigError::InvalidStoreName(_))));
        assert_eq!(config.show_certificates(&store, "b.der").unwrap(), vec![other.clone()]);
        assert!(matches!(config.show_certificates(&store, "c.pem"), Err(ConfigError::CertificateFileNotFound { .. })));
        assert!(matches!(config.show_certificates(&store, "../x"), Err(ConfigError::InvalidFileName(_))));

        let all = config.load_trust_stores(None).unwrap();
        assert_eq!(all.certificates(&store).unwrap(), [ca.clone(), other.clone()]);
        assert_eq!(all.certificates(&tsa).unwrap(), std::slice::from_ref(&ca));
        let wanted = config.load_trust_stores(Some(&[tsa.clone(), tsa.clone()])).unwrap();
        assert!(wanted.certificates(&store).is_none() && wanted.certificates(&tsa).is_some());
        let missing = StoreRef::parse("signingAuthority:none").unwrap();
        let err = config.load_trust_stores(Some(&[missing])).unwrap_err();
        assert!(matches!(err, ConfigError::TrustStoreNotFound { .. }) && err.to_string().contains("none"), "{err}");

        let leaf = pem_file(&inputs, "leaf.pem", &[leaf_of(&key, &ca)]);
        let err = config.add_certificates(&store, &[&leaf]).unwrap_err();
        assert!(matches!(err, ConfigError::TrustStoreCertificate { .. }) && err.to_string().contains("leaf.pem"));
        let err = config.add_certificates(&tsa, &[&der, &leaf]).unwrap_err();
        assert!(matches!(err, ConfigError::TrustStoreCertificate { .. }), "{err}");
        fs::write(inputs.join("junk.pem"), "junk").unwrap();
        let err = config.add_certificates(&store, &[inputs.join("junk.pem")]).unwrap_err();
        assert!(matches!(err, ConfigError::Certificates { .. }) && err.to_string().contains("junk.pem"), "{err}");
        assert_eq!(config.list_certificates(None, None).unwrap().len(), 3, "refused additions write nothing");

        assert_eq!(config.delete_certificates(&store, &DeleteTarget::File("a.pem".into())).unwrap().len(), 1);
        assert!(config.trust_store_path(&store).is_dir());
        assert!(matches!(
            config.delete_certificates(&store, &DeleteTarget::File("a.pem".into())),
            Err(ConfigError::CertificateFileNotFound { .. })
        ));
        assert_eq!(config.delete_certificates(&store, &DeleteTarget::All).unwrap().len(), 1);
        assert!(!config.trust_store_path(&store).exists(), "an emptied store is removed");
        assert!(matches!(
            config.delete_certificates(&store, &DeleteTarget::All),
            Err(ConfigError::TrustStoreNotFound { .. })
        ));
    }

    #[test]
    fn refuses_links_subdirectories_empty_stores_and_bad_certificates_when_loading() {
        let (_temp, config, inputs) = setup();
        let (key, ca) = root("root");
        let store = StoreRef::parse("ca:s").unwrap();
        let dir = config.trust_store_path(&store);
        fs::create_dir_all(&dir).unwrap();
        let err = config.load_trust_stores(Some(std::slice::from_ref(&store))).unwrap_err();
        assert!(matches!(err, ConfigError::TrustStore { .. }), "an empty store is an error: {err}");

        pem_file(&dir, "root.pem", std::slice::from_ref(&ca));
        config.load_trust_stores(Some(std::slice::from_ref(&store))).unwrap();
        fs::create_dir(dir.join("nested")).unwrap();
        let err = config.load_trust_stores(Some(std::slice::from_ref(&store))).unwrap_err();
        assert!(matches!(err, ConfigError::TrustStoreSubdirectory { .. }) && err.to_string().contains("nested"));
        fs::remove_dir(dir.join("nested")).unwrap();

        pem_file(&dir, "leaf.pem", &[leaf_of(&key, &ca)]);
        let err = config.load_trust_stores(None).unwrap_err();
        assert!(matches!(err, ConfigError::TrustStore { .. }) && err.to_string().contains("leaf.pem"), "{err}");
        fs::remove_file(dir.join("leaf.pem")).unwrap();

        #[cfg(unix)]
        {
            let outside = pem_file(&inputs, "outside.pem", std::slice::from_ref(&ca));
            std::os::unix::fs::symlink(&outside, dir.join("link.pem")).unwrap();
            let err = config.load_trust_stores(None).unwrap_err();
            assert!(matches!(err, ConfigError::SymlinkOutside { .. }) && err.to_string().contains("link.pem"), "{err}");
            fs::remove_file(dir.join("link.pem")).unwrap();

            let linked = StoreRef::parse("ca:linked").unwrap();
            let outside_store = inputs.join("store");
            fs::create_dir_all(&outside_store).unwrap();
            pem_file(&outside_store, "root.pem", std::slice::from_ref(&ca));
            std::os::unix::fs::symlink(&outside_store, config.trust_store_path(&linked)).unwrap();
            let err = config.load_trust_stores(Some(std::slice::from_ref(&linked))).unwrap_err();
            assert!(matches!(err, ConfigError::SymlinkOutside { .. }), "a store linked from outside is refused: {err}");
            fs::remove_file(config.trust_store_path(&linked)).unwrap();

            // Links that stay inside the directory are followed: a store, and a certificate, linked from within.
            std::os::unix::fs::symlink(&dir, config.trust_store_path(&linked)).unwrap();
            let loaded = config.load_trust_stores(Some(std::slice::from_ref(&linked))).unwrap();
            assert_eq!(loaded.certificates(&linked).map(<[_]>::len), Some(1));
            assert!(config.trust_store_names(None).unwrap().contains(&linked));
        }
    }
}
