//! Blob uploads (distribution-spec "Pushing blobs"): `POST /v2/<name>/blobs/uploads/` opens a session, then
//! - a blob up to the chunk size is sent whole: `PUT <location>?digest=`;
//! - a larger blob is streamed in chunks: `PATCH <location>` with `Content-Range: <start>-<end>` per chunk, then
//!   `PUT <location>?digest=`. Only the current chunk is held in memory. When a chunk is refused as out of order
//!   (416) or its answer is lost, the session's status (`GET <location>`, `Range: 0-<last>`) tells how much the
//!   registry has, and the upload resumes from there inside the buffered chunk.
//!
//! The digest and size are computed while streaming and checked before the final PUT, so a source that lies
//! about its content gets a [`ContentError::Mismatch`] and the session is cancelled.
//!
//! Cross-repository mounts (`POST …?mount=<digest>&from=<repo>`) need no bytes; a registry that answers with an
//! upload session instead gets the blob copied from the source repository into that session.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use nv2_core::oci::{validate_repository_name, Descriptor, Digester};
use reqwest::header::{CONTENT_RANGE, CONTENT_TYPE, LOCATION, RANGE};
use reqwest::{Response, StatusCode, Url};

use super::repository::Repository;
use super::response::{header_text, Ctx, Failure};
use crate::content::{collect_verified, ByteStream, ContentError, ContentStore, TransferOutcome};

/// Media type of upload bodies.
const OCTET_STREAM: &str = "application/octet-stream";
/// How often one chunk is re-sent after a refusal or a lost answer.
const MAX_CHUNK_ATTEMPTS: usize = 3;
/// Largest `OCI-Chunk-Min-Length` honoured (each chunk is held in memory).
const MAX_MIN_CHUNK: u64 = 256 * 1024 * 1024;

/// An upload session the registry opened.
struct Session {
    location: Url,
    min_chunk: Option<u64>,
}

/// What `POST …/uploads/` produced.
enum Started {
    Session(Session),
    Mounted,
}

/// Uploads `content`, which must be exactly what `descriptor` names.
pub(super) async fn push_blob(
    repo: &Repository,
    descriptor: &Descriptor,
    content: ByteStream,
) -> Result<(), ContentError> {
    match start(repo, descriptor, None).await? {
        Started::Session(session) => upload_into(repo, session, descriptor, content).await,
        Started::Mounted => Ok(()),
    }
}

/// Mounts `descriptor` from `from` (see the module doc).
pub(super) async fn mount(
    repo: &Repository,
    descriptor: &Descriptor,
    from: &str,
) -> Result<TransferOutcome, ContentError> {
    validate_repository_name(from)?;
    match start(repo, descriptor, Some(from)).await? {
        Started::Mounted => Ok(TransferOutcome::Mounted),
        Started::Session(session) => {
            let source = repo.sibling(from)?;
            let content = match source.fetch(descriptor).await {
                Ok(content) => content,
                Err(e) => {
                    cancel(repo, &session.location).await;
                    return Err(e);
                }
            };
            upload_into(repo, session, descriptor, content).await?;
            Ok(TransferOutcome::Copied)
        }
    }
}

/// `POST /v2/<name>/blobs/uploads/[?mount=&from=]`.
async fn start(repo: &Repository, descriptor: &Descriptor, mount_from: Option<&str>) -> Result<Started, ContentError> {
    let mut url = repo.url("blobs/uploads/")?;
    let mut scopes = repo.scopes_push();
    if let Some(from) = mount_from {
        url.query_pairs_mut().append_pair("mount", &descriptor.digest.to_string()).append_pair("from", from);
        scopes.push(format!("repository:{from}:pull"));
    }
    let response = repo.send(&scopes, |http| http.post(url.clone()).body(Bytes::new())).await?;
    let what = format!("blob {}", descriptor.digest);
    match response.status() {
        StatusCode::CREATED => Ok(Started::Mounted),
        StatusCode::ACCEPTED => {
            let location = session_location(repo, &response)?;
            let min_chunk = header_text(response.headers(), "OCI-Chunk-Min-Length").and_then(|v| v.parse().ok());
            Ok(Started::Session(Session { location, min_chunk }))
        }
        _ => Err(Failure::read(response).await.into_error(Ctx { store: repo.store(), operation: "push", what: &what })),
    }
}

/// Sends `content` through an open session, monolithically or in chunks.
async fn upload_into(
    repo: &Repository,
    session: Session,
    descriptor: &Descriptor,
    content: ByteStream,
) -> Result<(), ContentError> {
    let configured = repo.client().chunk_size() as u64;
    let chunk_size = session.min_chunk.map_or(configured, |min| min.clamp(configured, MAX_MIN_CHUNK.max(configured)));
    if descriptor.size <= chunk_size {
        let bytes = match collect_verified(content, descriptor).await {
            Ok(bytes) => bytes,
            Err(e) => {
                cancel(repo, &session.location).await;
                return Err(e);
            }
        };
        return finish(repo, session.location, descriptor, Bytes::from(bytes)).await;
    }
    let location = session.location.clone();
    match send_chunks(repo, session.location, descriptor, content, chunk_size as usize).await {
        Ok(location) => finish(repo, location, descriptor, Bytes::new()).await,
        Err(e) => {
            cancel(repo, &location).await;
            Err(e)
        }
    }
}

/// Streams `content` in PATCH chunks, checking size and digest; returns the session location for the final PUT.
async fn send_chunks(
    repo: &Repository,
    mut location: Url,
    descriptor: &Descriptor,
    content: ByteStream,
    chunk_size: usize,
) -> Result<Url, ContentError> {
    let mismatch = |reason: String| ContentError::Mismatch { expected: descriptor.digest.to_string(), reason };
    let mut reader = ChunkReader { stream: content, pending: Bytes::new(), ended: false };
    let mut digester = Digester::new(descriptor.digest.algorithm());
    let mut offset: u64 = 0;
    loop {
        let chunk = reader.next(chunk_size).await?;
        if chunk.is_empty() {
            break;
        }
        let end = offset + chunk.len() as u64;
        if end > descriptor.size {
            return Err(mismatch(format!("more than the {} bytes the descriptor names", descriptor.size)));
        }
        digester.update(&chunk);
        location = send_chunk(repo, location, offset, chunk).await?;
        offset = end;
    }
    if offset != descriptor.size {
        return Err(mismatch(format!("{offset} bytes, the descriptor names {}", descriptor.size)));
    }
    let actual = digester.finalize();
    if actual != descriptor.digest {
        return Err(mismatch(format!("the bytes digest to {actual}")));
    }
    Ok(location)
}

/// PATCHes one chunk starting at `offset`, resuming inside it when the registry refuses it as out of order or
/// its answer is lost; returns the session's next location.
async fn send_chunk(repo: &Repository, mut location: Url, offset: u64, chunk: Bytes) -> Result<Url, ContentError> {
    let len = chunk.len() as u64;
    let mut sent: u64 = 0;
    let mut last_problem = String::new();
    for _ in 0..MAX_CHUNK_ATTEMPTS {
        let part = chunk.slice(usize::try_from(sent).unwrap_or(chunk.len()).min(chunk.len())..);
        let range = format!("{}-{}", offset + sent, offset + len - 1);
        let target = location.clone();
        let outcome = repo
            .send(&repo.scopes_push(), |http| {
                http.patch(target.clone())
                    .header(CONTENT_TYPE, OCTET_STREAM)
                    .header(CONTENT_RANGE, range.clone())
                    .body(part.clone())
            })
            .await;
        match outcome {
            Ok(response) if response.status().is_success() => {
                return next_location(repo, &response, location);
            }
            Ok(response) if response.status() == StatusCode::RANGE_NOT_SATISFIABLE => {
                last_problem = Failure::read(response).await.reason;
            }
            Ok(response) => {
                let what = format!("chunk {range}");
                return Err(Failure::read(response).await.into_error(Ctx {
                    store: repo.store(),
                    operation: "upload",
                    what: &what,
                }));
            }
            Err(ContentError::Unreachable { reason, .. }) => last_problem = reason,
            Err(e) => return Err(e),
        }
        let (received, status_location) = status(repo, &location).await?;
        location = status_location;
        if received < offset || received > offset + len {
            return Err(ContentError::Malformed {
                store: repo.store().to_owned(),
                reason: format!(
                    "the upload session holds {received} bytes, which does not fall in the chunk {offset}-{} being \
                     resent ({last_problem})",
                    offset + len - 1
                ),
            });
        }
        sent = received - offset;
        if sent == len {
            return Ok(location);
        }
    }
    Err(ContentError::Unreachable {
        store: repo.store().to_owned(),
        reason: format!("chunk at offset {offset} failed {MAX_CHUNK_ATTEMPTS} times: {last_problem}"),
    })
}

/// `GET <location>`: how many bytes the session holds (`Range: 0-<last>`), and its current location.
async fn status(repo: &Repository, location: &Url) -> Result<(u64, Url), ContentError> {
    let response = repo.send(&repo.scopes_push(), |http| http.get(location.clone())).await?;
    if !response.status().is_success() {
        return Err(Failure::read(response).await.into_error(Ctx {
            store: repo.store(),
            operation: "upload status",
            what: "the upload session",
        }));
    }
    let received = match header_text(response.headers(), RANGE.as_str()) {
        None => 0,
        Some(range) => parse_range_end(range).map(|end| end + 1).ok_or_else(|| ContentError::Malformed {
            store: repo.store().to_owned(),
            reason: format!("upload status Range {:?} is not 0-<end>", super::response::excerpt(range)),
        })?,
    };
    let location = next_location(repo, &response, location.clone())?;
    Ok((received, location))
}

/// `0-<end>` (also `bytes=0-<end>`) → `end`.
fn parse_range_end(range: &str) -> Option<u64> {
    let range = range.strip_prefix("bytes=").unwrap_or(range);
    let (start, end) = range.split_once('-')?;
    if start.trim() != "0" {
        return None;
    }
    end.trim().parse().ok()
}

/// `PUT <location>?digest=` with the last bytes (or none): completes the upload.
async fn finish(
    repo: &Repository,
    mut location: Url,
    descriptor: &Descriptor,
    body: Bytes,
) -> Result<(), ContentError> {
    location.query_pairs_mut().append_pair("digest", &descriptor.digest.to_string());
    let response = repo
        .send(&repo.scopes_push(), |http| {
            http.put(location.clone()).header(CONTENT_TYPE, OCTET_STREAM).body(body.clone())
        })
        .await?;
    if response.status().is_success() {
        return Ok(());
    }
    let what = format!("blob {}", descriptor.digest);
    Err(Failure::read(response).await.into_error(Ctx { store: repo.store(), operation: "push", what: &what }))
}

/// Best-effort `DELETE <location>` of an abandoned session (registries also expire them).
async fn cancel(repo: &Repository, location: &Url) {
    let _ = repo.send(&repo.scopes_push(), |http| http.delete(location.clone())).await;
}

/// The session location a registry answered, required on a 202.
fn session_location(repo: &Repository, response: &Response) -> Result<Url, ContentError> {
    let location = header_text(response.headers(), LOCATION.as_str()).ok_or_else(|| ContentError::Malformed {
        store: repo.store().to_owned(),
        reason: "upload session answer has no Location".to_owned(),
    })?;
    repo.location(location)
}

/// The `Location` of a chunk or status answer (sessions may move), else the current one.
fn next_location(repo: &Repository, response: &Response, current: Url) -> Result<Url, ContentError> {
    match header_text(response.headers(), LOCATION.as_str()) {
        Some(location) => repo.location(location),
        None => Ok(current),
    }
}

/// Cuts a byte stream into chunks of a fixed size, keeping what is left over from the stream's own items.
struct ChunkReader {
    stream: ByteStream,
    pending: Bytes,
    ended: bool,
}

impl ChunkReader {
    /// The next chunk of `size` bytes (shorter only at the end, empty when the stream is done).
    async fn next(&mut self, size: usize) -> Result<Bytes, ContentError> {
        if self.pending.len() >= size {
            return Ok(self.pending.split_to(size));
        }
        let mut chunk = BytesMut::new();
        loop {
            let take = (size - chunk.len()).min(self.pending.len());
            chunk.extend_from_slice(&self.pending.split_to(take));
            if chunk.len() == size || self.ended {
                return Ok(chunk.freeze());
            }
            match self.stream.next().await {
                Some(Ok(bytes)) => self.pending = bytes,
                Some(Err(e)) => return Err(e),
                None => self.ended = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_both_spellings() {
        assert_eq!(parse_range_end("0-1023"), Some(1023));
        assert_eq!(parse_range_end("bytes=0-5"), Some(5));
        assert_eq!(parse_range_end("5-10"), None);
        assert_eq!(parse_range_end("garbage"), None);
        assert_eq!(parse_range_end("0-"), None);
    }

    #[tokio::test]
    async fn chunk_reader_regroups_stream_items() {
        let items: Vec<Result<Bytes, ContentError>> =
            vec![Ok(Bytes::from_static(b"abc")), Ok(Bytes::from_static(b"defghij")), Ok(Bytes::from_static(b"k"))];
        let mut reader =
            ChunkReader { stream: Box::pin(futures_util::stream::iter(items)), pending: Bytes::new(), ended: false };
        let mut chunks = Vec::new();
        loop {
            let chunk = reader.next(4).await.unwrap();
            if chunk.is_empty() {
                break;
            }
            chunks.push(chunk);
        }
        assert_eq!(chunks, vec![&b"abcd"[..], &b"efgh"[..], &b"ijk"[..]]);
    }
}
