//! Reading and writing the files of the configuration directory the way notation insists on: configuration,
//! policy, key and certificate files must be regular files, never symbolic links. Reads are bounded (no file of
//! ours is legitimately large); writes go through [`crate::atomic_file`] (temp file + fsync + rename, mode 0600 in
//! 0700 directories), so a crash never leaves half a file.
//!
//! Inputs the user names explicitly on the command line (a certificate to add, a policy to import) are read with
//! [`read_input`], which follows symbolic links like any other program would.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use super::ConfigError;
use crate::atomic_file::{self, Mode};

/// Reads a file of the configuration directory, or `None` when it does not exist. A symbolic link, a directory or
/// a file larger than `max` bytes is an error.
pub(crate) fn read(path: &Path, max: usize) -> Result<Option<Vec<u8>>, ConfigError> {
    let link_metadata = match fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(ConfigError::io(path, "read", e)),
    };
    if link_metadata.file_type().is_symlink() {
        return Err(ConfigError::Symlink { path: path.to_path_buf() });
    }
    if !link_metadata.is_file() {
        return Err(ConfigError::NotRegularFile { path: path.to_path_buf() });
    }
    let file = fs::File::open(path).map_err(|e| ConfigError::io(path, "read", e))?;
    let opened = file.metadata().map_err(|e| ConfigError::io(path, "read", e))?;
    // The path could have been swapped for a link between the check and the open; the open file must be the very
    // file that was checked.
    if !same_file(&link_metadata, &opened) {
        return Err(ConfigError::Symlink { path: path.to_path_buf() });
    }
    read_bounded(file, path, max).map(Some)
}

/// [`read`] for a file that must exist.
pub(crate) fn read_existing(path: &Path, max: usize) -> Result<Vec<u8>, ConfigError> {
    read(path, max)?.ok_or_else(|| ConfigError::io(path, "read", io::Error::from(io::ErrorKind::NotFound)))
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
/// symbolic link at `path` is refused rather than silently replaced by a regular file.
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
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        assert!(read(&file, 10).unwrap().is_none());
        write(&file, b"{}").unwrap();
        assert_eq!(read(&file, 10).unwrap().unwrap(), b"{}");
        assert!(matches!(read(&file, 1), Err(ConfigError::TooLarge { max: 1, .. })));
        assert!(matches!(read(dir.path(), 10), Err(ConfigError::NotRegularFile { .. })));
        #[cfg(unix)]
        {
            let link = dir.path().join("link.json");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            let err = read(&link, 10).unwrap_err();
            assert!(matches!(err, ConfigError::Symlink { .. }));
            assert!(err.to_string().contains("link.json"), "{err}");
            assert!(matches!(write(&link, b"x"), Err(ConfigError::Symlink { .. })));
            assert_eq!(read_input(&link, 10).unwrap(), b"{}", "explicit inputs may be links");
        }
        assert!(matches!(write_new(&file, b"x"), Err(ConfigError::FileExists { .. })));
        assert!(remove(&file).unwrap());
        assert!(!remove(&file).unwrap());
    }
}
