//! Filesystem [`Storage`]: blobs under `blobs/<alg>/<2 hex>/<hex>`, metadata under `meta/<key>`, uploads under
//! `uploads/<id>`, and every atomic write staged in `tmp/` on the same filesystem, fsynced, then renamed into place.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufWriter};
use tokio_util::io::ReaderStream;

use super::{BlobReader, ByteStream, Storage, StorageError, UploadWriter};
use crate::content::{Algorithm, Digest};

/// Read granularity when streaming blobs out.
const READ_CHUNK: usize = 256 * 1024;
/// Write buffer for upload sessions.
const WRITE_BUFFER: usize = 1024 * 1024;

/// Storage in a local directory tree.
#[derive(Debug, Clone)]
pub struct FilesystemStorage {
    root: PathBuf,
}

impl FilesystemStorage {
    /// Opens (creating if needed) a storage root.
    pub async fn open(root: impl Into<PathBuf>) -> Result<Self, StorageError> {
        let root = root.into();
        for sub in ["blobs", "meta", "uploads", "tmp"] {
            fs::create_dir_all(root.join(sub)).await?;
        }
        // Staged files left by a crash are never visible objects; drop them.
        let mut entries = fs::read_dir(root.join("tmp")).await?;
        while let Some(e) = entries.next_entry().await? {
            let _ = fs::remove_file(e.path()).await;
        }
        Ok(FilesystemStorage { root })
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        let hex = digest.hex();
        self.root.join("blobs").join(digest.algorithm().name()).join(hex.get(..2).unwrap_or("00")).join(hex)
    }

    fn meta_path(&self, key: &str) -> Result<PathBuf, StorageError> {
        let mut path = self.root.join("meta");
        for component in key.split('/') {
            if component.is_empty()
                || component == "."
                || component == ".."
                || component.contains(['\\', '\0'])
                || component.starts_with(".tmp")
            {
                return Err(StorageError::BadKey(key.to_owned()));
            }
            path.push(component);
        }
        Ok(path)
    }

    fn upload_path(&self, id: &str) -> Result<PathBuf, StorageError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return Err(StorageError::BadKey(id.to_owned()));
        }
        Ok(self.root.join("uploads").join(id))
    }

    fn temp_path(&self) -> PathBuf {
        self.root.join("tmp").join(uuid::Uuid::new_v4().simple().to_string())
    }

    /// Writes `data` to `dest` so that `dest` either keeps its old content or has all of `data`.
    async fn atomic_write(&self, dest: &Path, data: &[u8]) -> Result<(), StorageError> {
        let tmp = self.temp_path();
        let result = async {
            let mut f = fs::File::create(&tmp).await?;
            f.write_all(data).await?;
            f.sync_all().await?;
            drop(f);
            self.install(&tmp, dest).await
        }
        .await;
        if result.is_err() {
            let _ = fs::remove_file(&tmp).await;
        }
        result
    }

    /// Renames a durable staged file into place and makes the directory entry durable.
    async fn install(&self, staged: &Path, dest: &Path) -> Result<(), StorageError> {
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).await?;
        }
        fs::rename(staged, dest).await?;
        if let Some(parent) = dest.parent() {
            sync_dir(parent).await;
        }
        Ok(())
    }
}

async fn sync_dir(dir: &Path) {
    if let Ok(d) = fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
}

async fn size_of(path: &Path) -> Result<Option<u64>, StorageError> {
    match fs::metadata(path).await {
        Ok(m) if m.is_file() => Ok(Some(m.len())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn remove(path: &Path) -> Result<bool, StorageError> {
    match fs::remove_file(path).await {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

async fn read_limited(path: &Path, max: u64) -> Result<Option<Bytes>, StorageError> {
    let mut f = match fs::File::open(path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let len = f.metadata().await?.len();
    if len > max {
        return Err(StorageError::TooLarge);
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.read_to_end(&mut buf).await?;
    Ok(Some(Bytes::from(buf)))
}

/// Appends to an upload file through a large buffer.
struct FileUploadWriter {
    file: BufWriter<fs::File>,
}

#[async_trait]
impl UploadWriter for FileUploadWriter {
    async fn write(&mut self, data: &[u8]) -> Result<(), StorageError> {
        self.file.write_all(data).await?;
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> Result<(), StorageError> {
        self.file.flush().await?;
        Ok(())
    }
}

#[async_trait]
impl Storage for FilesystemStorage {
    async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>, StorageError> {
        size_of(&self.blob_path(digest)).await
    }

    async fn blob_open(&self, digest: &Digest, range: Option<(u64, u64)>) -> Result<Option<BlobReader>, StorageError> {
        let mut f = match fs::File::open(self.blob_path(digest)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let size = f.metadata().await?.len();
        let (start, len) = match range {
            Some((start, end)) => (start, end.saturating_sub(start).saturating_add(1)),
            None => (0, size),
        };
        if start > 0 {
            f.seek(std::io::SeekFrom::Start(start)).await?;
        }
        let stream: ByteStream = Box::pin(ReaderStream::with_capacity(f.take(len), READ_CHUNK));
        Ok(Some(BlobReader { len, stream }))
    }

    async fn blob_read(&self, digest: &Digest, max: u64) -> Result<Option<Bytes>, StorageError> {
        read_limited(&self.blob_path(digest), max).await
    }

    async fn blob_put(&self, digest: &Digest, data: &[u8]) -> Result<(), StorageError> {
        let path = self.blob_path(digest);
        if size_of(&path).await?.is_some() {
            return Ok(());
        }
        self.atomic_write(&path, data).await
    }

    async fn blob_delete(&self, digest: &Digest) -> Result<bool, StorageError> {
        remove(&self.blob_path(digest)).await
    }

    async fn blob_list(&self) -> Result<Vec<Digest>, StorageError> {
        let mut out = Vec::new();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let dir = self.root.join("blobs").join(alg.name());
            let Ok(mut prefixes) = fs::read_dir(&dir).await else { continue };
            while let Some(p) = prefixes.next_entry().await? {
                let Ok(mut files) = fs::read_dir(p.path()).await else { continue };
                while let Some(f) = files.next_entry().await? {
                    if let Some(name) = f.file_name().to_str() {
                        if let Ok(d) = Digest::parse(&format!("{}:{name}", alg.name())) {
                            out.push(d);
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    async fn meta_get(&self, key: &str) -> Result<Option<Bytes>, StorageError> {
        read_limited(&self.meta_path(key)?, super::MAX_METADATA_BYTES).await
    }

    async fn meta_put(&self, key: &str, data: &[u8]) -> Result<(), StorageError> {
        let path = self.meta_path(key)?;
        self.atomic_write(&path, data).await
    }

    async fn meta_delete(&self, key: &str) -> Result<bool, StorageError> {
        remove(&self.meta_path(key)?).await
    }

    async fn meta_list(&self, prefix: &str) -> Result<Vec<String>, StorageError> {
        let dir = if prefix.is_empty() { self.root.join("meta") } else { self.meta_path(prefix)? };
        let mut entries = match fs::read_dir(&dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound || e.kind() == std::io::ErrorKind::NotADirectory => {
                return Ok(Vec::new())
            }
            Err(e) => return Err(e.into()),
        };
        let mut names = Vec::new();
        while let Some(e) = entries.next_entry().await? {
            if let Some(name) = e.file_name().to_str() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    async fn meta_delete_prefix(&self, prefix: &str) -> Result<(), StorageError> {
        match fs::remove_dir_all(self.meta_path(prefix)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn upload_create(&self, id: &str) -> Result<(), StorageError> {
        fs::File::create(self.upload_path(id)?).await?;
        Ok(())
    }

    async fn upload_size(&self, id: &str) -> Result<Option<u64>, StorageError> {
        size_of(&self.upload_path(id)?).await
    }

    async fn upload_writer(&self, id: &str) -> Result<Box<dyn UploadWriter>, StorageError> {
        let file = match fs::OpenOptions::new().append(true).open(self.upload_path(id)?).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StorageError::UploadUnknown),
            Err(e) => return Err(e.into()),
        };
        Ok(Box::new(FileUploadWriter { file: BufWriter::with_capacity(WRITE_BUFFER, file) }))
    }

    async fn upload_read(&self, id: &str) -> Result<ByteStream, StorageError> {
        let f = match fs::File::open(self.upload_path(id)?).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StorageError::UploadUnknown),
            Err(e) => return Err(e.into()),
        };
        Ok(ReaderStream::with_capacity(f, READ_CHUNK).boxed())
    }

    async fn upload_commit(&self, id: &str, digest: &Digest) -> Result<(), StorageError> {
        let path = self.upload_path(id)?;
        let dest = self.blob_path(digest);
        if size_of(&dest).await?.is_some() {
            // Identical content already stored: first writer won, drop ours.
            remove(&path).await?;
            return Ok(());
        }
        match fs::File::open(&path).await {
            Ok(f) => f.sync_all().await?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StorageError::UploadUnknown),
            Err(e) => return Err(e.into()),
        }
        self.install(&path, &dest).await
    }

    async fn upload_delete(&self, id: &str) -> Result<bool, StorageError> {
        remove(&self.upload_path(id)?).await
    }

    async fn upload_list_older_than(&self, age: Duration) -> Result<Vec<String>, StorageError> {
        let now = SystemTime::now();
        let mut out = Vec::new();
        let mut entries = fs::read_dir(self.root.join("uploads")).await?;
        while let Some(e) = entries.next_entry().await? {
            let modified = e.metadata().await?.modified()?;
            if now.duration_since(modified).unwrap_or_default() > age {
                if let Some(name) = e.file_name().to_str() {
                    out.push(name.to_owned());
                }
            }
        }
        Ok(out)
    }

    async fn blob_bytes(&self) -> Result<u64, StorageError> {
        let mut total = 0u64;
        for d in self.blob_list().await? {
            total = total.saturating_add(self.blob_size(&d).await?.unwrap_or(0));
        }
        Ok(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn atomic_meta_and_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let s = FilesystemStorage::open(dir.path()).await.unwrap();
        s.meta_put("repositories/a/_tags/v1", b"x").await.unwrap();
        assert_eq!(s.meta_get("repositories/a/_tags/v1").await.unwrap().unwrap(), Bytes::from_static(b"x"));
        assert_eq!(s.meta_list("repositories/a/_tags").await.unwrap(), vec!["v1".to_owned()]);
        assert!(matches!(s.meta_put("a/../b", b"x").await, Err(StorageError::BadKey(_))));
        assert!(matches!(s.meta_get("/etc/passwd").await, Err(StorageError::BadKey(_))));

        s.upload_create("u1").await.unwrap();
        let mut w = s.upload_writer("u1").await.unwrap();
        w.write(b"hello").await.unwrap();
        w.finish().await.unwrap();
        assert_eq!(s.upload_size("u1").await.unwrap(), Some(5));
        let d = Digest::compute(Algorithm::Sha256, b"hello");
        s.upload_commit("u1", &d).await.unwrap();
        assert_eq!(s.blob_size(&d).await.unwrap(), Some(5));
        let r = s.blob_open(&d, Some((1, 3))).await.unwrap().unwrap();
        assert_eq!(r.len, 3);
        let got: Vec<Bytes> = r.stream.map(|b| b.unwrap()).collect().await;
        assert_eq!(got.concat(), b"ell");
        assert!(matches!(s.upload_writer("../x").await, Err(StorageError::BadKey(_))));
        assert_eq!(s.blob_list().await.unwrap(), vec![d]);
    }
}
