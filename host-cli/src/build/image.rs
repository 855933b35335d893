//! What a build produces: plain values with their descriptors, in the order a store must receive them, and the one
//! routine that pushes them into any [`ContentStore`].

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use nv2_core::oci::Descriptor;
use tempfile::TempPath;

use super::error::BuildError;
use crate::content::{stream_of, ByteStream, ContentError, ContentStore, NoProgress, Progress, TransferOutcome};

/// A built image (or index): every blob and manifest, ready to push.
#[derive(Clone, Debug)]
pub struct BuiltImage {
    /// The image's top node: the manifest of a single-platform image, the index of a multi-platform one. This is
    /// what a tag points at.
    pub root: Descriptor,
    /// Configs and layers, each once (platforms of a directory build share their layer).
    pub blobs: Vec<BuiltBlob>,
    /// Manifest descriptors with their exact bytes, children before parents (the root last), which is the order a
    /// registry accepts them in.
    pub manifests: Vec<(Descriptor, Vec<u8>)>,
    /// Names the input gave this image (a `docker save` tarball's `RepoTags`, an OCI layout's
    /// `org.opencontainers.image.ref.name`); empty for a directory build.
    pub source_tags: Vec<String>,
}

/// One blob of a built image.
#[derive(Clone, Debug)]
pub struct BuiltBlob {
    /// Its descriptor (media type, digest, size), as the manifest lists it.
    pub descriptor: Descriptor,
    /// Where its bytes are.
    pub source: BlobSource,
}

/// Where a blob's bytes are. Cloning shares the bytes, never copies a file.
#[derive(Clone, Debug)]
pub enum BlobSource {
    /// In memory (configs, small layers).
    Memory(Bytes),
    /// A layer spooled to a temporary file, removed when the last clone is dropped.
    TempFile(Arc<TempPath>),
    /// A file of the input read in place (an OCI layout's blob), checked against its digest when the build ran.
    File(PathBuf),
}

impl BlobSource {
    /// The file holding the bytes, when they are not in memory.
    pub fn path(&self) -> Option<&Path> {
        match self {
            BlobSource::Memory(_) => None,
            BlobSource::TempFile(path) => Some(path),
            BlobSource::File(path) => Some(path),
        }
    }

    /// Opens the bytes for reading from the start (each call reads independently).
    pub fn open(&self) -> io::Result<Box<dyn Read + Send>> {
        match self {
            BlobSource::Memory(bytes) => Ok(Box::new(io::Cursor::new(bytes.clone()))),
            BlobSource::TempFile(path) => Ok(Box::new(File::open(&**path)?)),
            BlobSource::File(path) => Ok(Box::new(File::open(path)?)),
        }
    }

    /// The bytes as a [`ByteStream`] for [`ContentStore::push`].
    pub async fn stream(&self) -> Result<ByteStream, ContentError> {
        let path = match self {
            BlobSource::Memory(bytes) => return Ok(stream_of(bytes.clone())),
            BlobSource::TempFile(path) => path.to_path_buf(),
            BlobSource::File(path) => path.clone(),
        };
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|source| ContentError::Io { path: path.display().to_string(), source })?;
        let shown = path.display().to_string();
        let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 << 10)
            .map(move |chunk| chunk.map_err(|source| ContentError::Io { path: shown.clone(), source }));
        Ok(Box::pin(stream))
    }
}

impl BuiltImage {
    /// The manifest bytes for `descriptor`'s digest, if this image has that manifest.
    pub fn manifest_bytes(&self, descriptor: &Descriptor) -> Option<&[u8]> {
        self.manifests.iter().find(|(d, _)| d.digest == descriptor.digest).map(|(_, bytes)| bytes.as_slice())
    }

    /// The blob with `descriptor`'s digest, if this image has it.
    pub fn blob(&self, descriptor: &Descriptor) -> Option<&BuiltBlob> {
        self.blobs.iter().find(|b| b.descriptor.digest == descriptor.digest)
    }

    /// Pushes the image into `store`, blobs first, manifests in order, the root last; content the store already
    /// has is skipped. Returns the root descriptor (what to tag).
    pub async fn push_to(&self, store: &dyn ContentStore) -> Result<Descriptor, BuildError> {
        self.push_to_with_progress(store, &NoProgress).await
    }

    /// [`Self::push_to`], reporting each transfer to `progress`.
    pub async fn push_to_with_progress(
        &self,
        store: &dyn ContentStore,
        progress: &dyn Progress,
    ) -> Result<Descriptor, BuildError> {
        for blob in &self.blobs {
            progress.start(&blob.descriptor);
            let outcome = if store.exists(&blob.descriptor).await? {
                TransferOutcome::Skipped
            } else {
                store.push(&blob.descriptor, blob.source.stream().await?).await?;
                progress.advance(&blob.descriptor, blob.descriptor.size);
                TransferOutcome::Copied
            };
            progress.finish(&blob.descriptor, outcome);
        }
        for (descriptor, bytes) in &self.manifests {
            progress.start(descriptor);
            let outcome = if store.exists(descriptor).await? {
                TransferOutcome::Skipped
            } else {
                store.push(descriptor, stream_of(bytes.clone())).await?;
                progress.advance(descriptor, descriptor.size);
                TransferOutcome::Copied
            };
            progress.finish(descriptor, outcome);
        }
        Ok(self.root.clone())
    }
}
