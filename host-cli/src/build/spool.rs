//! Where a blob goes while it is written: memory while it is small, a temporary file once it grows past
//! [`IN_MEMORY_LIMIT`], so a multi-GiB layer never sits in memory. Every byte is also digested, so the blob's
//! descriptor is known the moment writing ends.

use std::io::{self, BufWriter, Write};
use std::sync::Arc;

use bytes::Bytes;
use nv2_core::oci::Digest;
use tempfile::NamedTempFile;

use super::digesting::DigestingWriter;
use super::image::BlobSource;

/// Blobs up to this size stay in memory; larger ones move to a temporary file.
pub(crate) const IN_MEMORY_LIMIT: usize = 8 << 20;

/// A blob being written.
pub(crate) struct Spool {
    sink: DigestingWriter<Sink>,
}

/// What the bytes are written to.
struct Sink {
    limit: usize,
    state: State,
}

enum State {
    Memory(Vec<u8>),
    File(BufWriter<NamedTempFile>),
}

impl Spool {
    /// A spool that moves to disk past [`IN_MEMORY_LIMIT`].
    pub(crate) fn new() -> Self {
        Self::with_limit(IN_MEMORY_LIMIT)
    }

    /// A spool that moves to disk past `limit` bytes.
    pub(crate) fn with_limit(limit: usize) -> Self {
        Spool { sink: DigestingWriter::new(Sink { limit, state: State::Memory(Vec::new()) }) }
    }

    /// Ends writing: the blob's SHA-256 digest, its size and where its bytes are.
    pub(crate) fn finish(self) -> io::Result<(Digest, u64, BlobSource)> {
        let (sink, digest, size) = self.sink.finish();
        let source = match sink.state {
            State::Memory(bytes) => BlobSource::Memory(Bytes::from(bytes)),
            State::File(writer) => {
                let file = writer.into_inner().map_err(|e| e.into_error())?;
                BlobSource::TempFile(Arc::new(file.into_temp_path()))
            }
        };
        Ok((digest, size, source))
    }
}

impl Write for Spool {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.sink.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let State::Memory(bytes) = &mut self.state {
            if bytes.len().saturating_add(buf.len()) <= self.limit {
                bytes.extend_from_slice(buf);
                return Ok(buf.len());
            }
            let file = NamedTempFile::new()
                .map_err(|e| io::Error::new(e.kind(), format!("creating a temporary layer file: {e}")))?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            writer.write_all(bytes)?;
            self.state = State::File(writer);
        }
        match &mut self.state {
            State::File(writer) => writer.write(buf),
            State::Memory(_) => Err(io::Error::other("spool did not move to its temporary file")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.state {
            State::File(writer) => writer.flush(),
            State::Memory(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn small_blobs_stay_in_memory_and_large_ones_move_to_a_file() {
        let mut small = Spool::with_limit(16);
        small.write_all(b"0123456789").unwrap();
        let (digest, size, source) = small.finish().unwrap();
        assert_eq!((digest, size), (Digest::sha256(b"0123456789"), 10));
        assert!(matches!(source, BlobSource::Memory(ref b) if &b[..] == b"0123456789"));

        let mut large = Spool::with_limit(16);
        let content: Vec<u8> = (0..100u8).collect();
        for chunk in content.chunks(7) {
            large.write_all(chunk).unwrap();
        }
        let (digest, size, source) = large.finish().unwrap();
        assert_eq!((digest, size), (Digest::sha256(&content), 100));
        let BlobSource::TempFile(path) = &source else { panic!("expected a temporary file, got {source:?}") };
        assert!(path.exists());
        let mut back = Vec::new();
        source.open().unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, content);
        let kept = path.to_path_buf();
        drop(source);
        assert!(!kept.exists(), "the temporary layer file is removed with its last holder");
    }
}
