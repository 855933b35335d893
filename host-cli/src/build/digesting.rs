//! Readers and writers that digest the bytes passing through them, so a layer's compressed digest, its diff_id
//! (the digest of the uncompressed tar) and its size are all known after one pass over the data.

use std::io::{self, Read, Write};

use nv2_core::oci::{Digest, DigestAlgorithm, Digester};

/// A writer that SHA-256-digests and counts everything written before handing it on.
pub(crate) struct DigestingWriter<W> {
    inner: W,
    digester: Digester,
    size: u64,
}

impl<W: Write> DigestingWriter<W> {
    /// Wraps `inner`.
    pub(crate) fn new(inner: W) -> Self {
        DigestingWriter { inner, digester: Digester::new(DigestAlgorithm::Sha256), size: 0 }
    }

    /// The writer, the digest and the number of bytes written.
    pub(crate) fn finish(self) -> (W, Digest, u64) {
        (self.inner, self.digester.finalize(), self.size)
    }
}

impl<W: Write> Write for DigestingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        let taken = buf.get(..written).unwrap_or(buf);
        self.digester.update(taken);
        self.size += taken.len() as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that copies every byte it reads into a writer (and digests it), so a stream can be parsed and, in the
/// same pass, compressed or spooled.
pub(crate) struct TeeReader<R, W> {
    inner: R,
    copy: DigestingWriter<W>,
}

impl<R: Read, W: Write> TeeReader<R, W> {
    /// Reads from `inner`, copying into `copy`.
    pub(crate) fn new(inner: R, copy: W) -> Self {
        TeeReader { inner, copy: DigestingWriter::new(copy) }
    }

    /// Reads `inner` to its end (parsers stop at an end marker; the bytes after it still count), then returns the
    /// reader, the copy's writer, the digest and the size of everything read.
    pub(crate) fn drain(mut self) -> io::Result<(R, W, Digest, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        let (copy, digest, size) = self.copy.finish();
        Ok((self.inner, copy, digest, size))
    }
}

impl<R: Read, W: Write> Read for TeeReader<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        if let Some(bytes) = buf.get(..read) {
            self.copy.write_all(bytes)?;
        }
        Ok(read)
    }
}
