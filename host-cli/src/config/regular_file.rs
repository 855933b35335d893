//! Reading and writing the files of the configuration directory: configuration, policy, key and certificate files
//! must be regular files. A symbolic link is followed only when it resolves to a place inside the configuration
//! directory, which is how Kubernetes mounts ConfigMap and Secret volumes (`trustpolicy.oci.json ->
//! ..data/trustpolicy.oci.json`, `..data -> ..2026_12_02_…`); a link that leads out of the directory is refused,
//! as notation refuses links. Writes never go through a link. Reads are bounded (no file of ours is legitimately
//! large); writes go through [`crate::atomic_file`] (temp file + fsync + rename, mode 0600 in 0700 directories),
//! so a crash never leaves half a file.
//!
//! Inputs the user names explicitly on the command line (a certificate to add, a policy to import) are read with
//! [`read_input`], which follows symbolic links like any other program would.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::ConfigError;
use crate::atomic_file::{self, Mode};

/// Reads a file of the configuration directory `root`, or `None` when it does not exist. A directory, a link that
/// leads out of `root` or a file larger than `max` bytes is an error.
pub(crate) fn read(root: &Path, path: &Path, max: usize) -> Result<Option<Vec<u8>>, ConfigError> {
    let Some(real) = follow_inside(root, path)? else { return Ok(None) };
    let checked = fs::symlink_metadata(&real).map_err(|e| ConfigError::io(path, "read", e))?;
    if !checked.is_file() {
        return Err(ConfigError::NotRegularFile { path: path.to_path_buf() });
    }
    let file = fs::File::open(&real).map_err(|e| ConfigError::io(path, "read", e))?;
    let opened = file.metadata().map_err(|e| ConfigError::io(path, "read", e))?;
    // The path could have been swapped for a link between the check and the open; the open file must be the very
    // file that was checked.
    if !same_file(&checked, &opened) {
        return Err(ConfigError::SymlinkOutside { path: path.to_path_buf() });
    }
    read_bounded(file, path, max).map(Some)
}

/// [`read`] for a file that must exist.
pub(crate) fn read_existing(root: &Path, path: &Path, max: usize) -> Result<Vec<u8>, ConfigError> {
    read(root, path, max)?.ok_or_else(|| ConfigError::io(path, "read", io::Error::from(io::ErrorKind::NotFound)))
}

/// Where `path` really is: `path` itself when it is not a symbolic link, the fully resolved target when it is a
/// link whose target lies inside `root` (the Kubernetes volume layout), `None` when nothing is there. A link that
/// leads outside `root`, or dangles, is an error naming `path`.
pub(crate) fn follow_inside(root: &Path, path: &Path) -> Result<Option<PathBuf>, ConfigError> {
    let metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::io(path, "read", e)),
    };
    if !metadata.file_type().is_symlink() {
        return Ok(Some(path.to_path_buf()));
    }
    let outside = || ConfigError::SymlinkOutside { path: path.to_path_buf() };
    let target = fs::canonicalize(path).map_err(|_| outside())?;
    let root = fs::canonicalize(root).map_err(|_| outside())?;
    if target.starts_with(&root) && target != root {
        Ok(Some(target))
    } else {
        Err(outside())
    }
}

/// Reads a file the user named as input (symbolic links followed); it must be a regular file of at most `max`
/// bytes.
pub(crate) fn read_input(path: &Path, max: usize) -> Result<Vec<u8>, ConfigError> {
    let file = fs::File::open(path).map_err(|e| ConfigError::io(path, "read", e))?;
    let metadata = file.metadata().map_err(|e| ConfigError::io(path, "read", e))?;
    if !metadata.is_file() {
        return Err(ConfigError::NotRegularFile { path: path.to_path_buf() });
    }
    read_bounded(file, path, max)
}

fn read_bounded(file: fs::File, path: &Path, max: usize) -> Result<Vec<u8>, ConfigError> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit).read_to_end(&mut bytes).map_err(|e| ConfigError::io(path, "read", e))?;
    if bytes.len() > max {
        return Err(ConfigError::TooLarge { path: path.to_path_buf(), max });
    }
    Ok(bytes)
}

#[cfg(unix)]
fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_a: &fs::Metadata, b: &fs::Metadata) -> bool {
    b.is_file()
}

/// Whether anything (file, directory or link) exists at `path`.
pub(crate) fn exists(path: &Path) -> Result<bool, ConfigError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ConfigError::io(path, "inspect", e)),
    }
}

/// Writes a configuration file atomically with mode 0600, creating missing directories with mode 0700. An existing
/// symbolic link at `path` is refused rather than silently replaced by a regular file (a mounted ConfigMap is
/// read-only anyway).
pub(crate) fn write(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    if let Ok(metadata) = fs::symlink_metadata(path) {
        if metadata.file_type().is_symlink() {
            return Err(ConfigError::Symlink { path: path.to_path_buf() });
        }
        if !metadata.is_file() {
            return Err(ConfigError::NotRegularFile { path: path.to_path_buf() });
        }
    }
    atomic_file::write(path, bytes, Mode::Private).map_err(|e| ConfigError::io(path, "write", e))
}

/// Writes a file that must not exist yet (keys, certificates): refuses to overwrite anything.
pub(crate) fn write_new(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    if exists(path)? {
        return Err(ConfigError::FileExists { path: path.to_path_buf() });
    }
    write(path, bytes)
}

/// Removes a file (or symbolic link); `false` when there was nothing to remove.
pub(crate) fn remove(path: &Path) -> Result<bool, ConfigError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(ConfigError::io(path, "remove", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_regular_files_and_refuses_links_directories_and_oversized_files() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("config");
        let file = root.join("config.json");
        assert!(read(&root, &file, 10).unwrap().is_none());
        write(&file, b"{}").unwrap();
        assert_eq!(read(&root, &file, 10).unwrap().unwrap(), b"{}");
        assert!(matches!(read(&root, &file, 1), Err(ConfigError::TooLarge { max: 1, .. })));
        assert!(matches!(read(&root, &root, 10), Err(ConfigError::NotRegularFile { .. })));
        #[cfg(unix)]
        {
            let outside = outer.path().join("outside.json");
            std::fs::write(&outside, b"[]").unwrap();
            let link = root.join("link.json");
            std::os::unix::fs::symlink(&outside, &link).unwrap();
            let err = read(&root, &link, 10).unwrap_err();
            assert!(matches!(err, ConfigError::SymlinkOutside { .. }));
            assert!(err.to_string().contains("link.json"), "{err}");
            assert!(matches!(write(&link, b"x"), Err(ConfigError::Symlink { .. })));
            assert_eq!(read_input(&link, 10).unwrap(), b"[]", "explicit inputs may be links");
            std::fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink("../config/missing.json", &link).unwrap();
            assert!(matches!(read(&root, &link, 10), Err(ConfigError::SymlinkOutside { .. })), "a dangling link");
            std::fs::remove_file(&link).unwrap();
            // Kubernetes' layout: key -> ..data/key, ..data -> ..<timestamp>/, all inside the directory.
            std::fs::create_dir(root.join("..2026_12_02_01_00_00.1")).unwrap();
            std::fs::write(root.join("..2026_12_02_01_00_00.1/policy.json"), b"{}").unwrap();
            std::os::unix::fs::symlink("..2026_12_02_01_00_00.1", root.join("..data")).unwrap();
            std::os::unix::fs::symlink("..data/policy.json", root.join("policy.json")).unwrap();
            assert_eq!(read(&root, &root.join("policy.json"), 10).unwrap().unwrap(), b"{}");
        }
        assert!(matches!(write_new(&file, b"x"), Err(ConfigError::FileExists { .. })));
        assert!(remove(&file).unwrap());
        assert!(!remove(&file).unwrap());
    }
}
