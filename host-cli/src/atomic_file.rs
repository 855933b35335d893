//! Writing files so that a crash or a full disk never leaves a half-written one: the bytes go to a temporary file in
//! the same directory, are flushed to disk, and the temporary file is renamed over the target (atomic on POSIX).
//! Configuration, keys, credentials and OCI layout indexes are all written this way.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Who may read a written file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Owner read/write only (0600): keys, credentials, configuration.
    Private,
    /// Owner read/write, everyone read (0644): public content such as layouts and certificates.
    Public,
}

/// Writes `bytes` to `path` atomically, creating missing parent directories (0700 for [`Mode::Private`]).
pub fn write(path: &Path, bytes: &[u8], mode: Mode) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    create_dir_all(dir, mode)?;
    let mut temp = tempfile::Builder::new().prefix(".nv2-").suffix(".tmp").tempfile_in(dir)?;
    set_mode(temp.path(), mode)?;
    temp.write_all(bytes)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Creates `dir` and its parents; new directories get 0700 for [`Mode::Private`].
pub fn create_dir_all(dir: &Path, mode: Mode) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(if mode == Mode::Private { 0o700 } else { 0o755 });
    }
    builder.create(dir)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: Mode) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let bits = if mode == Mode::Private { 0o600 } else { 0o644 };
    fs::set_permissions(path, fs::Permissions::from_mode(bits))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: Mode) -> io::Result<()> {
    Ok(())
}

/// Makes the rename durable; failure only weakens durability, never correctness, so it is not reported.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replace_whole_files_and_set_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/key.pem");
        write(&path, b"first version, longer", Mode::Private).unwrap();
        write(&path, b"second", Mode::Private).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(fs::metadata(dir.path().join("a")).unwrap().permissions().mode() & 0o777, 0o700);
        }
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files are left behind");
    }
}
