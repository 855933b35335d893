//! Local files as content: describing a file (its digest, computed in one streaming pass), streaming it into a
//! store, and writing fetched content to a file only once its digest is proven (temp file + rename), so a broken
//! download never leaves a wrong file under the real name.

use std::path::Path;

use futures_util::{StreamExt, TryStreamExt};
use nv2_core::oci::{Descriptor, DigestAlgorithm, Digester};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{ByteStream, ContentError};

const CHUNK: usize = 256 * 1024;

fn io_error(path: &Path, source: std::io::Error) -> ContentError {
    ContentError::Io { path: path.display().to_string(), source }
}

/// The descriptor of the file at `path` with `media_type` (sha256, read once in chunks).
pub async fn describe(path: &Path, media_type: &str) -> Result<Descriptor, ContentError> {
    let mut file = tokio::fs::File::open(path).await.map_err(|e| io_error(path, e))?;
    let mut digester = Digester::new(DigestAlgorithm::Sha256);
    let mut buffer = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).await.map_err(|e| io_error(path, e))?;
        if n == 0 {
            break;
        }
        digester.update(buffer.get(..n).unwrap_or_default());
        size += n as u64;
    }
    Ok(Descriptor::new(media_type, digester.finalize(), size))
}

/// The file's bytes as a stream.
pub async fn stream(path: &Path) -> Result<ByteStream, ContentError> {
    let file = tokio::fs::File::open(path).await.map_err(|e| io_error(path, e))?;
    let shown = path.to_path_buf();
    Ok(Box::pin(
        ReaderStream::with_capacity(file, CHUNK)
            .map_err(move |e| ContentError::Io { path: shown.display().to_string(), source: e }),
    ))
}

/// Writes `content` to `path`, checking it against `descriptor` while it streams; the file appears under its name
/// only when size and digest are right.
pub async fn write_verified(mut content: ByteStream, descriptor: &Descriptor, path: &Path) -> Result<(), ContentError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    tokio::fs::create_dir_all(&dir).await.map_err(|e| io_error(&dir, e))?;
    let temp =
        tempfile::Builder::new().prefix(".nv2-").suffix(".part").tempfile_in(&dir).map_err(|e| io_error(&dir, e))?;
    let (std_file, temp_path) = temp.into_parts();
    let mut file = tokio::fs::File::from_std(std_file);
    let mut digester = Digester::new(descriptor.digest.algorithm());
    let mut size = 0u64;
    let mismatch = |reason: String| ContentError::Mismatch { expected: descriptor.digest.to_string(), reason };
    while let Some(chunk) = content.next().await {
        let chunk = chunk?;
        size += chunk.len() as u64;
        if size > descriptor.size {
            return Err(mismatch(format!("more than the {} bytes the descriptor names", descriptor.size)));
        }
        digester.update(&chunk);
        file.write_all(&chunk).await.map_err(|e| io_error(path, e))?;
    }
    if size != descriptor.size {
        return Err(mismatch(format!("{size} bytes, the descriptor names {}", descriptor.size)));
    }
    let actual = digester.finalize();
    if actual != descriptor.digest {
        return Err(mismatch(format!("the bytes digest to {actual}")));
    }
    file.sync_all().await.map_err(|e| io_error(path, e))?;
    drop(file);
    temp_path.persist(path).map_err(|e| io_error(path, e.error))?;
    Ok(())
}
