//! Referrers on a registry: the distribution-spec v1.1 referrers API where the registry has it, the `<alg>-<hex>`
//! tag schema where it does not, with oras-go's rules for telling the two apart and for keeping the tag index.
//!
//! - Listing: `GET /v2/<name>/referrers/<digest>[?artifactType=]`; 200 with an image-index content type means the
//!   API exists (pages followed through `Link`, bounded); 404 without NAME_UNKNOWN, 400, 405 or another content
//!   type means it does not, and the index under the fallback tag is read instead (absent = no referrers).
//!   Filtering by artifact type is applied here unless the registry says it did (`OCI-Filters-Applied`).
//! - Pushing a manifest with a subject: a registry that answers `OCI-Subject` indexed it; otherwise the fallback
//!   index is read, the referrer added, the new index pushed under the tag and the superseded index deleted by
//!   digest (a refused delete is a warning, not a failure: the push itself worked).
//! - Deleting such a manifest on a registry without the API removes it from the fallback index the same way.
//!
//! The detected capability is remembered per repository in the client; [`ReferrersMode`] can force either way.

use bytes::Bytes;
use nv2_core::limits::MAX_MANIFEST_BYTES;
use nv2_core::oci::{
    fallback_tag, filter_by_artifact_type, insert_referrer, media_types, referrer_descriptor, referrers_from_index,
    referrers_index, remove_referrer, Descriptor, Digest, ParsedManifest, TagOrDigest,
};
use reqwest::header::ACCEPT;
use reqwest::StatusCode;

use super::options::ReferrersMode;
use super::repository::Repository;
use super::response::{content_type, header_text, next_link, read_limited, Ctx, Failure};
use crate::content::ContentError;

/// Most referrers read for one subject.
const MAX_REFERRERS: usize = 10_000;
/// Most referrers pages followed.
const MAX_PAGES: usize = 100;
/// Header by which a registry says it applied filters.
const FILTERS_APPLIED: &str = "OCI-Filters-Applied";
/// The image-spec v1.1.0-rc1 spelling of the same, as an index annotation (oras-go still honours it).
const FILTERS_APPLIED_ANNOTATION: &str = "org.opencontainers.referrers.filtersApplied";
/// The filter name used for artifact types.
const ARTIFACT_TYPE_FILTER: &str = "artifactType";

/// The referrers of `subject` in `repo`, optionally only those of `artifact_type`.
pub(super) async fn list(
    repo: &Repository,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Result<Vec<Descriptor>, ContentError> {
    let use_tags = match repo.mode() {
        ReferrersMode::TagSchema => true,
        ReferrersMode::Auto => repo.client().referrers_api(repo.store()) == Some(false),
        ReferrersMode::Api => false,
    };
    if use_tags {
        return from_tag(repo, subject, artifact_type).await;
    }
    match from_api(repo, subject, artifact_type, MAX_PAGES).await? {
        Some(found) => {
            repo.client().set_referrers_api(repo.store(), true);
            Ok(found)
        }
        None if repo.mode() == ReferrersMode::Api => Err(ContentError::Refused {
            store: repo.store().to_owned(),
            operation: format!("listing referrers of {subject}"),
            reason: "the registry does not implement the referrers API (use the tag schema instead)".to_owned(),
        }),
        None => {
            repo.client().set_referrers_api(repo.store(), false);
            from_tag(repo, subject, artifact_type).await
        }
    }
}

/// Records a just-pushed manifest as a referrer of its subject where the registry did not (see the module doc).
pub(super) async fn after_push(
    repo: &Repository,
    parsed: &ParsedManifest,
    pushed: &Descriptor,
    subject_processed: bool,
) -> Result<(), ContentError> {
    let Some(subject) = parsed.subject() else { return Ok(()) };
    if !media_types::can_be_referrer(parsed.media_type()) {
        return Ok(());
    }
    match repo.mode() {
        ReferrersMode::Api => return Ok(()),
        ReferrersMode::Auto => {
            if subject_processed {
                repo.client().set_referrers_api(repo.store(), true);
                return Ok(());
            }
            if repo.client().referrers_api(repo.store()) == Some(true) {
                return Ok(());
            }
            repo.client().set_referrers_api(repo.store(), false);
        }
        ReferrersMode::TagSchema => {}
    }
    let mut entry = referrer_descriptor(parsed);
    entry.digest = pushed.digest.clone();
    entry.size = pushed.size;
    update_index(repo, &subject.digest, Change::Add(Box::new(entry))).await
}

/// Removes a just-deleted manifest from its subject's fallback index where the registry has no referrers API.
pub(super) async fn after_delete(
    repo: &Repository,
    deleted: &Descriptor,
    subject: &Digest,
) -> Result<(), ContentError> {
    let use_tags = match repo.mode() {
        ReferrersMode::Api => false,
        ReferrersMode::TagSchema => true,
        ReferrersMode::Auto => match repo.client().referrers_api(repo.store()) {
            Some(supported) => !supported,
            None => {
                let supported = from_api(repo, subject, None, 1).await?.is_some();
                repo.client().set_referrers_api(repo.store(), supported);
                !supported
            }
        },
    };
    if use_tags {
        update_index(repo, subject, Change::Remove(deleted.digest.clone())).await?;
    }
    Ok(())
}

/// One change to a fallback index.
enum Change {
    Add(Box<Descriptor>),
    Remove(Digest),
}

/// Read-modify-write of `subject`'s fallback index, serialised per index inside this process.
async fn update_index(repo: &Repository, subject: &Digest, change: Change) -> Result<(), ContentError> {
    let tag = fallback_tag(subject);
    let lock = repo.client().index_lock(&format!("{} {tag}", repo.store()));
    let _guard = lock.lock().await;
    let old = read_index_for_update(repo, &tag).await?;
    let mut entries = old.as_ref().map(|(_, entries)| entries.clone()).unwrap_or_default();
    let changed = match change {
        Change::Add(descriptor) => insert_referrer(&mut entries, *descriptor),
        Change::Remove(digest) => remove_referrer(&mut entries, &digest),
    };
    if !changed {
        return Ok(());
    }
    let Some((old_descriptor, _)) = old else {
        return push_index(repo, &tag, entries).await;
    };
    if entries.is_empty() {
        // Nothing is left: deleting the old index also drops the tag (oras-go). If the registry refuses, an
        // empty index under the tag keeps the listing right.
        if let Err(error) = repo.delete_manifest_only(&old_descriptor.digest).await {
            push_index(repo, &tag, entries).await?;
            warn_stale(repo, &old_descriptor.digest, &error);
        }
        return Ok(());
    }
    push_index(repo, &tag, entries).await?;
    if let Err(error) = repo.delete_manifest_only(&old_descriptor.digest).await {
        warn_stale(repo, &old_descriptor.digest, &error);
    }
    Ok(())
}

async fn push_index(repo: &Repository, tag: &str, entries: Vec<Descriptor>) -> Result<(), ContentError> {
    let bytes = referrers_index(entries)?;
    let descriptor = Descriptor::for_content(media_types::OCI_IMAGE_INDEX, &bytes);
    repo.put_manifest_only(&descriptor, Bytes::from(bytes), tag).await.map(|_| ())
}

fn warn_stale(repo: &Repository, digest: &Digest, error: &ContentError) {
    repo.client().warn(format!(
        "removal of outdated referrers index {digest} from {} failed ({error}); garbage collection may be required",
        repo.store()
    ));
}

/// The fallback index under `tag` for rewriting: `None` when the tag does not exist; anything but an image index
/// there is an error (the spec says to report it and stop, never to overwrite it).
async fn read_index_for_update(
    repo: &Repository,
    tag: &str,
) -> Result<Option<(Descriptor, Vec<Descriptor>)>, ContentError> {
    match repo.get_manifest_target(&TagOrDigest::Tag(tag.to_owned())).await {
        Ok((descriptor, parsed)) => match referrers_from_index(&parsed) {
            Ok(entries) => Ok(Some((descriptor, entries.to_vec()))),
            Err(e) => Err(ContentError::Malformed {
                store: repo.store().to_owned(),
                reason: format!("referrers tag {tag} does not hold an image index ({e}); leaving it untouched"),
            }),
        },
        Err(ContentError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Referrers from the fallback tag: absent tag = none; a tag that is not a valid index = none, with a warning
/// (the spec's rule for listing).
async fn from_tag(
    repo: &Repository,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Result<Vec<Descriptor>, ContentError> {
    let tag = fallback_tag(subject);
    let entries = match repo.get_manifest_target(&TagOrDigest::Tag(tag.clone())).await {
        Ok((_, parsed)) => match referrers_from_index(&parsed) {
            Ok(entries) => entries.to_vec(),
            Err(e) => {
                repo.client().warn(format!("{}: referrers tag {tag} ignored: {e}", repo.store()));
                Vec::new()
            }
        },
        Err(ContentError::NotFound { .. }) => Vec::new(),
        Err(ContentError::Malformed { reason, .. }) => {
            repo.client().warn(format!("{}: referrers tag {tag} ignored: {reason}", repo.store()));
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    if entries.len() > MAX_REFERRERS {
        return Err(too_many(subject, entries.len()));
    }
    Ok(match artifact_type {
        Some(artifact_type) => filter_by_artifact_type(entries, artifact_type),
        None => entries,
    })
}

/// Referrers from the API, following at most `max_pages` pages; `Ok(None)` when the registry has no API.
async fn from_api(
    repo: &Repository,
    subject: &Digest,
    artifact_type: Option<&str>,
    max_pages: usize,
) -> Result<Option<Vec<Descriptor>>, ContentError> {
    let mut url = repo.url(&format!("referrers/{subject}"))?;
    if let Some(artifact_type) = artifact_type {
        url.query_pairs_mut().append_pair(ARTIFACT_TYPE_FILTER, artifact_type);
    }
    let what = format!("referrers of {subject}");
    let ctx = Ctx { store: repo.store(), operation: "list", what: &what };
    let mut found: Vec<Descriptor> = Vec::new();
    for page in 0..MAX_PAGES {
        let response = repo
            .send(&repo.scopes_pull(), |http| http.get(url.clone()).header(ACCEPT, media_types::OCI_IMAGE_INDEX))
            .await?;
        let status = response.status();
        let is_index = content_type(response.headers()).as_deref() == Some(media_types::OCI_IMAGE_INDEX);
        if status != StatusCode::OK || !is_index {
            if page > 0 {
                let failure = Failure::read(response).await;
                return Err(if status == StatusCode::OK {
                    ContentError::Malformed {
                        store: repo.store().to_owned(),
                        reason: format!("page {} of {what} is not an image index", page + 1),
                    }
                } else {
                    failure.into_error(ctx)
                });
            }
            return match status {
                StatusCode::OK | StatusCode::BAD_REQUEST | StatusCode::METHOD_NOT_ALLOWED => Ok(None),
                StatusCode::NOT_FOUND => {
                    let failure = Failure::read(response).await;
                    if failure.has_code("NAME_UNKNOWN") {
                        Err(failure.into_error(ctx))
                    } else {
                        Ok(None)
                    }
                }
                _ => Err(Failure::read(response).await.into_error(ctx)),
            };
        }
        let next = next_link(response.headers(), &url, repo.store())?;
        let header = header_text(response.headers(), FILTERS_APPLIED).map(str::to_owned);
        let body = read_limited(response, MAX_MANIFEST_BYTES, ctx).await?;
        let parsed = ParsedManifest::parse(Some(media_types::OCI_IMAGE_INDEX), &body)
            .map_err(|e| ContentError::Malformed { store: repo.store().to_owned(), reason: format!("{what}: {e}") })?;
        let annotation = parsed.annotations().get(FILTERS_APPLIED_ANNOTATION).map(String::as_str);
        let entries = referrers_from_index(&parsed)?.to_vec();
        let entries = filter_unless_applied(entries, artifact_type, header.as_deref(), annotation);
        if found.len() + entries.len() > MAX_REFERRERS {
            return Err(too_many(subject, found.len() + entries.len()));
        }
        found.extend(entries);
        match next {
            Some(next) if page + 1 < max_pages => url = next,
            Some(_) if max_pages < MAX_PAGES => return Ok(Some(found)),
            Some(_) => return Err(too_many_pages(repo, subject)),
            None => return Ok(Some(found)),
        }
    }
    Err(too_many_pages(repo, subject))
}

/// Applies the artifact-type filter unless the registry said it did, by the `OCI-Filters-Applied` header or the
/// rc1 index annotation (clients must filter themselves otherwise).
fn filter_unless_applied(
    entries: Vec<Descriptor>,
    artifact_type: Option<&str>,
    header: Option<&str>,
    annotation: Option<&str>,
) -> Vec<Descriptor> {
    let names_filter = |applied: &str| applied.split(',').any(|f| f.trim() == ARTIFACT_TYPE_FILTER);
    match artifact_type {
        Some(artifact_type) if !header.is_some_and(names_filter) && !annotation.is_some_and(names_filter) => {
            filter_by_artifact_type(entries, artifact_type)
        }
        _ => entries,
    }
}

fn too_many(subject: &Digest, count: usize) -> ContentError {
    ContentError::TooLarge {
        what: format!("referrers list of {subject}"),
        size: count as u64,
        limit: MAX_REFERRERS as u64,
    }
}

fn too_many_pages(repo: &Repository, subject: &Digest) -> ContentError {
    ContentError::Malformed {
        store: repo.store().to_owned(),
        reason: format!("referrers of {subject} span more than {MAX_PAGES} pages"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_client_side_unless_the_registry_applied_them() {
        let typed = |artifact_type: &str, content: &[u8]| {
            let mut d = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, content);
            d.artifact_type = Some(artifact_type.to_owned());
            d
        };
        let entries = vec![typed("a", b"1"), typed("b", b"2")];
        let kept = |header, annotation| filter_unless_applied(entries.clone(), Some("a"), header, annotation).len();
        assert_eq!(kept(None, None), 1);
        assert_eq!(kept(Some("artifactType"), None), 2, "the registry filtered: trust it");
        assert_eq!(kept(Some("platform, artifactType"), None), 2);
        assert_eq!(kept(None, Some("artifactType")), 2, "rc1 annotation");
        assert_eq!(kept(Some("platform"), None), 1);
        assert_eq!(filter_unless_applied(entries.clone(), None, None, None).len(), 2);
    }
}
