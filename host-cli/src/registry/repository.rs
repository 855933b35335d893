//! [`Repository`]: one repository on one registry, as a [`ContentStore`].
//!
//! Manifests and blobs are told apart by the descriptor's media type ([`Descriptor::is_manifest`]). Manifests are
//! always read whole (bounded by the core's 4 MiB limit), parsed with the core's one parser and checked against
//! their digest; blobs are streamed. Blob uploads live in [`super::upload`], referrers in [`super::referrers`].

use async_trait::async_trait;
use bytes::Bytes;
use nv2_core::limits::MAX_MANIFEST_BYTES;
use nv2_core::oci::{
    media_types, validate_repository_name, validate_tag, Descriptor, Digest, ParsedManifest, TagOrDigest,
};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Response, StatusCode, Url};

use super::client::RegistryClient;
use super::listing::{self, Pages};
use super::options::ReferrersMode;
use super::response::{bounded_stream, content_length, content_type, header_text, read_limited, Ctx, Failure};
use super::{referrers, upload};
use crate::content::{collect_verified, fetch_all, ByteStream, ContentError, ContentStore, TransferOutcome};

/// Header carrying the registry's digest of the content.
const DIGEST_HEADER: &str = "Docker-Content-Digest";

/// One repository on a registry. Cheap to clone; clones share the client's state.
#[derive(Clone)]
pub struct Repository {
    client: RegistryClient,
    registry: String,
    name: String,
    store: String,
    mode: ReferrersMode,
}

impl Repository {
    pub(super) fn new(client: RegistryClient, registry: &str, name: &str, mode: ReferrersMode) -> Self {
        Repository {
            client,
            registry: registry.to_owned(),
            name: name.to_owned(),
            store: format!("{registry}/{name}"),
            mode,
        }
    }

    /// The same repository with another referrers mode (`--distribution-spec v1.1-referrers-tag`,
    /// `--force-referrers-tag`).
    pub fn with_referrers_mode(mut self, mode: ReferrersMode) -> Self {
        self.mode = mode;
        self
    }

    /// Another repository on the same registry, sharing the client (mount sources, copies inside a registry).
    pub fn sibling(&self, name: &str) -> Result<Repository, ContentError> {
        validate_repository_name(name)?;
        Ok(Repository::new(self.client.clone(), &self.registry, name, self.mode))
    }

    /// The referrers mode in force.
    pub fn referrers_mode(&self) -> ReferrersMode {
        self.mode
    }

    /// Whether the repository was found to have the referrers API (`None` until a listing, push or delete
    /// found out).
    pub fn referrers_api_detected(&self) -> Option<bool> {
        self.client.referrers_api(&self.store)
    }

    /// The registry (`host[:port]`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository name inside the registry.
    pub fn repository(&self) -> &str {
        &self.name
    }

    /// The client this repository talks through (for its warnings and registry-level calls).
    pub fn client(&self) -> &RegistryClient {
        &self.client
    }

    /// Pushes manifest `bytes` of `media_type` under `tag` (or by digest when `None`) in one request, recording
    /// it as a referrer when it has a subject; returns its descriptor. The bytes are parsed first, so nothing that
    /// is not a manifest of that type is sent.
    pub async fn push_manifest_bytes(
        &self,
        bytes: &[u8],
        media_type: &str,
        tag: Option<&str>,
    ) -> Result<Descriptor, ContentError> {
        let parsed = ParsedManifest::parse(Some(media_type), bytes)?;
        let descriptor = parsed.descriptor();
        let reference = match tag {
            Some(tag) => {
                validate_tag(tag)?;
                tag.to_owned()
            }
            None => descriptor.digest.to_string(),
        };
        self.put_manifest(&descriptor, Bytes::copy_from_slice(bytes), &reference, Some(&parsed)).await?;
        Ok(descriptor)
    }

    /// Fetches a manifest by tag or digest in one request: its descriptor (media type from the parsed body,
    /// digest computed over the received bytes and checked against a digest reference and the registry's
    /// `Docker-Content-Digest`) and the parsed manifest with its exact bytes.
    pub async fn get_manifest(&self, reference: &str) -> Result<(Descriptor, ParsedManifest), ContentError> {
        let target = TagOrDigest::parse(reference)?;
        self.get_manifest_target(&target).await
    }

    /// Mounts the blob `descriptor` names from `from_repository` on the same registry (no bytes move); when the
    /// registry answers with an upload session instead (it cannot or will not mount), the blob is copied from
    /// that repository through this client. Returns which of the two happened.
    pub async fn mount_blob(
        &self,
        descriptor: &Descriptor,
        from_repository: &str,
    ) -> Result<TransferOutcome, ContentError> {
        upload::mount(self, descriptor, from_repository).await
    }

    /// Tags of this repository (`GET /v2/<name>/tags/list`): `n` per page (registry default when `None`),
    /// strictly after `last`, one page or all of them following `Link` headers (bounded).
    pub async fn tags(&self, n: Option<usize>, last: Option<&str>, pages: Pages) -> Result<Vec<String>, ContentError> {
        let mut url = self.url("tags/list")?;
        listing::add_page_query(&mut url, n, last);
        listing::names(&self.client, &self.registry, &self.store, &self.scopes_pull(), url, "tags", pages).await
    }

    // ---- shared with upload and referrers ----

    /// `…/v2/<name>/<path>`.
    pub(super) fn url(&self, path: &str) -> Result<Url, ContentError> {
        let base = self.client.base_url(&self.registry)?;
        base.join(&format!("v2/{}/{path}", self.name)).map_err(|e| ContentError::Malformed {
            store: self.store.clone(),
            reason: format!("cannot build a URL for {path}: {e}"),
        })
    }

    /// Resolves an upload `Location` (absolute or relative) against the registry.
    pub(super) fn location(&self, location: &str) -> Result<Url, ContentError> {
        let base = self.client.base_url(&self.registry)?;
        base.join(location).map_err(|e| ContentError::Malformed {
            store: self.store.clone(),
            reason: format!("upload location {:?} is not a URL: {e}", super::response::excerpt(location)),
        })
    }

    /// Sends through the client with this repository's registry and name.
    pub(super) async fn send<F>(&self, scopes: &[String], build: F) -> Result<Response, ContentError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder + Send + Sync,
    {
        self.client.send(&self.registry, &self.store, scopes, build).await
    }

    pub(super) fn store(&self) -> &str {
        &self.store
    }

    pub(super) fn mode(&self) -> ReferrersMode {
        self.mode
    }

    pub(super) fn scopes_pull(&self) -> Vec<String> {
        vec![format!("repository:{}:pull", self.name)]
    }

    pub(super) fn scopes_push(&self) -> Vec<String> {
        vec![format!("repository:{}:pull,push", self.name)]
    }

    pub(super) fn scopes_delete(&self) -> Vec<String> {
        vec![format!("repository:{}:delete", self.name)]
    }

    /// GET of a manifest by tag or digest (see [`Self::get_manifest`]).
    pub(super) async fn get_manifest_target(
        &self,
        target: &TagOrDigest,
    ) -> Result<(Descriptor, ParsedManifest), ContentError> {
        let what = describe(target);
        let ctx = Ctx { store: &self.store, operation: "fetch", what: &what };
        let url = self.url(&format!("manifests/{target}"))?;
        let response =
            self.send(&self.scopes_pull(), |http| http.get(url.clone()).header(ACCEPT, manifest_accept())).await?;
        if response.status() != StatusCode::OK {
            return Err(Failure::read(response).await.into_error(ctx));
        }
        let content_type = content_type(response.headers());
        let announced = self.digest_header(&response)?;
        let bytes = read_limited(response, MAX_MANIFEST_BYTES, ctx).await?;
        let algorithm = match (target, &announced) {
            (TagOrDigest::Digest(d), _) | (_, Some(d)) => d.algorithm(),
            _ => nv2_core::oci::DigestAlgorithm::Sha256,
        };
        let digest = Digest::compute(algorithm, &bytes);
        for expected in [target_digest(target), announced.as_ref()].into_iter().flatten() {
            if expected.algorithm() == algorithm && *expected != digest {
                return Err(ContentError::Mismatch {
                    expected: expected.to_string(),
                    reason: format!("{} sent a manifest that digests to {digest}", self.store),
                });
            }
        }
        let parsed = ParsedManifest::parse(content_type.as_deref(), &bytes).map_err(|e| ContentError::Malformed {
            store: self.store.clone(),
            reason: format!("{what} is not a valid manifest: {e}"),
        })?;
        let descriptor = Descriptor::new(parsed.media_type(), digest, parsed.size());
        Ok((descriptor, parsed))
    }

    /// PUTs manifest bytes under `reference`; with `index_as` (the parsed manifest), a manifest with a subject is
    /// also recorded as a referrer where the registry does not do it itself.
    pub(super) async fn put_manifest(
        &self,
        descriptor: &Descriptor,
        bytes: Bytes,
        reference: &str,
        index_as: Option<&ParsedManifest>,
    ) -> Result<(), ContentError> {
        let subject_processed = self.put_manifest_only(descriptor, bytes, reference).await?;
        if let Some(parsed) = index_as {
            referrers::after_push(self, parsed, descriptor, subject_processed).await?;
        }
        Ok(())
    }

    /// PUTs manifest bytes under `reference`, nothing else; returns whether the registry answered `OCI-Subject`
    /// (it indexed the manifest's subject itself).
    pub(super) async fn put_manifest_only(
        &self,
        descriptor: &Descriptor,
        bytes: Bytes,
        reference: &str,
    ) -> Result<bool, ContentError> {
        let what = format!("manifest {reference}");
        let ctx = Ctx { store: &self.store, operation: "push", what: &what };
        let url = self.url(&format!("manifests/{reference}"))?;
        let media_type = descriptor.media_type.clone();
        let response = self
            .send(&self.scopes_push(), |http| {
                http.put(url.clone()).header(CONTENT_TYPE, media_type.clone()).body(bytes.clone())
            })
            .await?;
        if !response.status().is_success() {
            return Err(Failure::read(response).await.into_error(ctx));
        }
        if let Some(announced) = self.digest_header(&response)? {
            if announced.algorithm() == descriptor.digest.algorithm() && announced != descriptor.digest {
                return Err(ContentError::Mismatch {
                    expected: descriptor.digest.to_string(),
                    reason: format!("{} stored the manifest as {announced}", self.store),
                });
            }
        }
        Ok(header_text(response.headers(), "OCI-Subject").is_some())
    }

    /// DELETE of a manifest by digest, nothing else.
    pub(super) async fn delete_manifest_only(&self, digest: &Digest) -> Result<(), ContentError> {
        let what = format!("manifest {digest}");
        let url = self.url(&format!("manifests/{digest}"))?;
        let response = self.send(&self.scopes_delete(), |http| http.delete(url.clone())).await?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(Failure::read(response).await.into_error(Ctx { store: &self.store, operation: "delete", what: &what }))
    }

    /// The `Docker-Content-Digest` header, if sent; a header that is not a digest is a malformed answer.
    fn digest_header(&self, response: &Response) -> Result<Option<Digest>, ContentError> {
        header_text(response.headers(), DIGEST_HEADER)
            .map(|text| {
                Digest::parse(text).map_err(|e| ContentError::Malformed {
                    store: self.store.clone(),
                    reason: format!("{DIGEST_HEADER} is not a digest: {e}"),
                })
            })
            .transpose()
    }

    /// HEAD of a manifest; `None` when the answer lacks what a descriptor needs (the caller GETs instead).
    async fn head_manifest(&self, target: &TagOrDigest) -> Result<Option<Descriptor>, ContentError> {
        let what = describe(target);
        let url = self.url(&format!("manifests/{target}"))?;
        let response =
            self.send(&self.scopes_pull(), |http| http.head(url.clone()).header(ACCEPT, manifest_accept())).await?;
        let status = response.status();
        if status == StatusCode::METHOD_NOT_ALLOWED || status == StatusCode::NOT_IMPLEMENTED {
            return Ok(None);
        }
        if status != StatusCode::OK {
            return Err(Failure::read(response).await.into_error(Ctx {
                store: &self.store,
                operation: "resolve",
                what: &what,
            }));
        }
        let announced = self.digest_header(&response)?;
        if let (TagOrDigest::Digest(expected), Some(announced)) = (target, &announced) {
            if expected.algorithm() == announced.algorithm() && expected != announced {
                return Err(ContentError::Mismatch {
                    expected: expected.to_string(),
                    reason: format!("{} resolved it to {announced}", self.store),
                });
            }
        }
        let digest = match target {
            TagOrDigest::Digest(digest) => Some(digest.clone()),
            TagOrDigest::Tag(_) => announced,
        };
        let media_type = content_type(response.headers()).filter(|t| media_types::is_manifest(t));
        let size = content_length(response.headers());
        Ok(match (media_type, digest, size) {
            (Some(media_type), Some(digest), Some(size)) if size <= MAX_MANIFEST_BYTES as u64 => {
                Some(Descriptor::new(&media_type, digest, size))
            }
            _ => None,
        })
    }

    /// HEAD of a blob or manifest by digest: whether it is there.
    async fn head_exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        let manifest = descriptor.is_manifest();
        let (kind, noun) = if manifest { ("manifests", "manifest") } else { ("blobs", "blob") };
        let url = self.url(&format!("{kind}/{}", descriptor.digest))?;
        let media_type = descriptor.media_type.clone();
        let response = self
            .send(&self.scopes_pull(), |http| {
                let request = http.head(url.clone());
                if manifest {
                    request.header(ACCEPT, format!("{media_type}, {}", manifest_accept()))
                } else {
                    request
                }
            })
            .await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => {
                let what = format!("{noun} {}", descriptor.digest);
                Err(Failure::read(response).await.into_error(Ctx {
                    store: &self.store,
                    operation: "check",
                    what: &what,
                }))
            }
        }
    }
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository").field("store", &self.store).field("mode", &self.mode).finish_non_exhaustive()
    }
}

#[async_trait]
impl ContentStore for Repository {
    fn name(&self) -> String {
        self.store.clone()
    }

    async fn resolve(&self, reference: &str) -> Result<Descriptor, ContentError> {
        let target = TagOrDigest::parse(reference)?;
        if let Some(descriptor) = self.head_manifest(&target).await? {
            return Ok(descriptor);
        }
        Ok(self.get_manifest_target(&target).await?.0)
    }

    async fn resolve_blob(&self, digest: &Digest) -> Result<Descriptor, ContentError> {
        let url = self.url(&format!("blobs/{digest}"))?;
        let response = self.send(&self.scopes_pull(), |http| http.head(url.clone())).await?;
        let what = format!("blob {digest}");
        match response.status() {
            StatusCode::OK => match content_length(response.headers()) {
                Some(size) => Ok(Descriptor::new(crate::content::BLOB_MEDIA_TYPE, digest.clone(), size)),
                None => Err(ContentError::Refused {
                    store: self.store.clone(),
                    operation: format!("check {what}"),
                    reason: "the registry's answer has no Content-Length".into(),
                }),
            },
            StatusCode::NOT_FOUND => Err(ContentError::NotFound { what, store: self.store.clone() }),
            _ => Err(Failure::read(response).await.into_error(Ctx {
                store: &self.store,
                operation: "check",
                what: &what,
            })),
        }
    }

    async fn exists(&self, descriptor: &Descriptor) -> Result<bool, ContentError> {
        self.head_exists(descriptor).await
    }

    async fn fetch(&self, descriptor: &Descriptor) -> Result<ByteStream, ContentError> {
        let manifest = descriptor.is_manifest();
        if manifest && descriptor.size > MAX_MANIFEST_BYTES as u64 {
            return Err(ContentError::TooLarge {
                what: format!("manifest {}", descriptor.digest),
                size: descriptor.size,
                limit: MAX_MANIFEST_BYTES as u64,
            });
        }
        let kind = if manifest { "manifests" } else { "blobs" };
        let what = format!("{} {}", if manifest { "manifest" } else { "blob" }, descriptor.digest);
        let url = self.url(&format!("{kind}/{}", descriptor.digest))?;
        let media_type = descriptor.media_type.clone();
        let response = self
            .send(&self.scopes_pull(), |http| {
                let request = http.get(url.clone());
                if manifest {
                    request.header(ACCEPT, format!("{media_type}, {}", manifest_accept()))
                } else {
                    request
                }
            })
            .await?;
        if response.status() != StatusCode::OK {
            return Err(Failure::read(response).await.into_error(Ctx {
                store: &self.store,
                operation: "fetch",
                what: &what,
            }));
        }
        if let Some(length) = content_length(response.headers()) {
            if length != descriptor.size {
                return Err(ContentError::Mismatch {
                    expected: descriptor.digest.to_string(),
                    reason: format!(
                        "{} announces {length} bytes, the descriptor names {}",
                        self.store, descriptor.size
                    ),
                });
            }
        }
        Ok(bounded_stream(response, descriptor.size, &self.store, &descriptor.digest.to_string()))
    }

    async fn push(&self, descriptor: &Descriptor, content: ByteStream) -> Result<(), ContentError> {
        if !descriptor.is_manifest() {
            return upload::push_blob(self, descriptor, content).await;
        }
        if descriptor.size > MAX_MANIFEST_BYTES as u64 {
            return Err(ContentError::TooLarge {
                what: format!("manifest {}", descriptor.digest),
                size: descriptor.size,
                limit: MAX_MANIFEST_BYTES as u64,
            });
        }
        let bytes = collect_verified(content, descriptor).await?;
        // A manifest nv2 cannot parse is still pushed as the exact bytes (the registry judges it); only the
        // referrers bookkeeping needs the parse.
        let parsed = ParsedManifest::parse(Some(&descriptor.media_type), &bytes).ok();
        self.put_manifest(descriptor, Bytes::from(bytes), &descriptor.digest.to_string(), parsed.as_ref()).await
    }

    async fn tag(&self, descriptor: &Descriptor, tag: &str) -> Result<(), ContentError> {
        validate_tag(tag)?;
        if !descriptor.is_manifest() {
            return Err(ContentError::Refused {
                store: self.store.clone(),
                operation: format!("tag {tag}"),
                reason: format!(
                    "{} is a blob ({}); only manifests can be tagged",
                    descriptor.digest, descriptor.media_type
                ),
            });
        }
        let bytes = fetch_all(self, descriptor, MAX_MANIFEST_BYTES as u64).await?;
        // Already recorded as a referrer when it was pushed by digest: tagging changes no referrers list.
        self.put_manifest(descriptor, Bytes::from(bytes), tag, None).await
    }

    async fn referrers(
        &self,
        subject: &Descriptor,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>, ContentError> {
        referrers::list(self, &subject.digest, artifact_type).await
    }

    async fn delete(&self, descriptor: &Descriptor) -> Result<(), ContentError> {
        if !descriptor.is_manifest() {
            let what = format!("blob {}", descriptor.digest);
            let url = self.url(&format!("blobs/{}", descriptor.digest))?;
            let response = self.send(&self.scopes_delete(), |http| http.delete(url.clone())).await?;
            if response.status().is_success() {
                return Ok(());
            }
            return Err(Failure::read(response).await.into_error(Ctx {
                store: &self.store,
                operation: "delete",
                what: &what,
            }));
        }
        // On a registry without the referrers API the subject's tag index must forget this manifest, so its
        // subject is read before it is gone.
        let may_need_index = match self.mode {
            ReferrersMode::Api => false,
            ReferrersMode::TagSchema => true,
            ReferrersMode::Auto => self.client.referrers_api(&self.store) != Some(true),
        };
        let subject = if may_need_index && media_types::can_be_referrer(&descriptor.media_type) {
            let bytes = fetch_all(self, descriptor, MAX_MANIFEST_BYTES as u64).await?;
            ParsedManifest::parse(Some(&descriptor.media_type), &bytes).ok().and_then(|p| p.subject().cloned())
        } else {
            None
        };
        self.delete_manifest_only(&descriptor.digest).await?;
        if let Some(subject) = subject {
            referrers::after_delete(self, descriptor, &subject.digest).await?;
        }
        Ok(())
    }
}

/// `Accept` listing every manifest media type nv2 reads.
pub(super) fn manifest_accept() -> String {
    media_types::MANIFEST_TYPES.join(", ")
}

/// `tag v1` or `manifest sha256:…`, for messages.
fn describe(target: &TagOrDigest) -> String {
    match target {
        TagOrDigest::Tag(tag) => format!("tag {tag}"),
        TagOrDigest::Digest(digest) => format!("manifest {digest}"),
    }
}

fn target_digest(target: &TagOrDigest) -> Option<&Digest> {
    match target {
        TagOrDigest::Digest(digest) => Some(digest),
        TagOrDigest::Tag(_) => None,
    }
}
