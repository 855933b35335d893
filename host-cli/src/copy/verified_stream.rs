//! The stream the copier hands a target store: the source's bytes, counted, digested and reported as they pass,
//! ending in an error instead of a clean end when they are not what the descriptor names. A target store then
//! fails the push (every store stops at a stream error), so no unverified byte is ever committed under a digest.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use nv2_core::oci::{Descriptor, Digester};

use crate::content::{ByteStream, ContentError, Progress};

/// What the stream found, readable after the push returns.
#[derive(Clone, Debug, Default)]
pub(crate) struct Verdict(Arc<Mutex<Option<String>>>);

impl Verdict {
    /// Why the bytes did not match, if they did not.
    pub(crate) fn mismatch(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn record(&self, reason: String) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(reason);
    }
}

/// See the module doc.
pub(crate) struct VerifiedStream {
    inner: ByteStream,
    descriptor: Descriptor,
    digester: Option<Digester>,
    seen: u64,
    progress: Arc<dyn Progress>,
    verdict: Verdict,
}

impl VerifiedStream {
    /// Wraps `inner`, the content of `descriptor`; the [`Verdict`] tells afterwards whether the bytes matched.
    pub(crate) fn wrap(
        inner: ByteStream,
        descriptor: &Descriptor,
        progress: Arc<dyn Progress>,
    ) -> (ByteStream, Verdict) {
        let verdict = Verdict::default();
        let stream = VerifiedStream {
            inner,
            descriptor: descriptor.clone(),
            digester: Some(Digester::new(descriptor.digest.algorithm())),
            seen: 0,
            progress,
            verdict: verdict.clone(),
        };
        (Box::pin(stream), verdict)
    }

    fn fail(&mut self, reason: String) -> Poll<Option<Result<Bytes, ContentError>>> {
        self.digester = None;
        self.verdict.record(reason.clone());
        Poll::Ready(Some(Err(ContentError::Mismatch { expected: self.descriptor.digest.to_string(), reason })))
    }
}

impl Stream for VerifiedStream {
    type Item = Result<Bytes, ContentError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.digester.is_none() {
            return Poll::Ready(None);
        }
        match this.inner.poll_next_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                this.seen = this.seen.saturating_add(chunk.len() as u64);
                if this.seen > this.descriptor.size {
                    let reason = format!("the source sent more than the {} bytes named", this.descriptor.size);
                    return this.fail(reason);
                }
                if let Some(digester) = this.digester.as_mut() {
                    digester.update(&chunk);
                }
                this.progress.advance(&this.descriptor, chunk.len() as u64);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(Some(Err(e))) => {
                this.digester = None;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                let Some(digester) = this.digester.take() else {
                    return Poll::Ready(None);
                };
                if this.seen != this.descriptor.size {
                    let reason =
                        format!("the source sent {} bytes, the descriptor names {}", this.seen, this.descriptor.size);
                    return this.fail(reason);
                }
                let actual = digester.finalize();
                if actual != this.descriptor.digest {
                    return this.fail(format!("the source's bytes digest to {actual}"));
                }
                Poll::Ready(None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{collect_verified, stream_of, NoProgress};
    use futures_util::stream;

    #[tokio::test]
    async fn passes_matching_bytes_and_fails_others_at_the_end() {
        let descriptor = Descriptor::for_content("application/octet-stream", b"hello world");
        let chunks = || {
            let parts: Vec<Result<Bytes, ContentError>> =
                vec![Ok(Bytes::from_static(b"hello ")), Ok(Bytes::from_static(b"world"))];
            Box::pin(stream::iter(parts)) as ByteStream
        };
        let (good, verdict) = VerifiedStream::wrap(chunks(), &descriptor, Arc::new(NoProgress));
        assert_eq!(collect_verified(good, &descriptor).await.unwrap(), b"hello world");
        assert_eq!(verdict.mismatch(), None);

        // Same length, other bytes: the last item is an error, so a store never commits them.
        let (bad, verdict) = VerifiedStream::wrap(stream_of(&b"hello WORLD"[..]), &descriptor, Arc::new(NoProgress));
        let items: Vec<_> = bad.collect().await;
        assert!(matches!(items.last(), Some(Err(ContentError::Mismatch { .. }))));
        assert!(verdict.mismatch().unwrap().contains("digest to"));

        let (long, verdict) = VerifiedStream::wrap(stream_of(&b"hello world!"[..]), &descriptor, Arc::new(NoProgress));
        let items: Vec<_> = long.collect().await;
        assert_eq!(items.len(), 1, "the oversized chunk itself is never passed on");
        assert!(verdict.mismatch().unwrap().contains("more than"));

        let (short, verdict) = VerifiedStream::wrap(stream_of(&b"hello"[..]), &descriptor, Arc::new(NoProgress));
        let _: Vec<_> = short.collect().await;
        assert!(verdict.mismatch().unwrap().contains("sent 5 bytes"));
    }
}
