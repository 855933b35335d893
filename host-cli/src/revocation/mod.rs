//! CRLs for verification. The core judges revocation from CRL bytes ([`nv2_core::verify::CrlSource`]); getting
//! them is I/O, so it happens here, from two places:
//!
//! - **attached**: a referrer of the signature manifest (artifactType [`CRL_ARTIFACT_TYPE`], one layer per CRL,
//!   each naming its distribution point URL). `nv2 export` attaches them, so they travel with the signature through
//!   the one graph copier and an air-gapped registry can check revocation without any outside call;
//! - **fetched**: the distribution points named by the signing chain, over HTTP, with a timeout and a size bound,
//!   cached on disk (`$NV2_CACHE/crl`, else `~/.cache/nv2/crl`) and used from the cache when the network fails.
//!
//! Attached CRLs win; only URLs without one are fetched, and only when the caller allows network access.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use futures_util::{stream, StreamExt};
use nv2_core::envelope::ParsedEnvelope;
use nv2_core::limits::{MAX_CRL_BYTES, MAX_MANIFEST_BYTES};
use nv2_core::oci::{media_types, Descriptor, ImageManifest, ParsedManifest};
use nv2_core::x509::Certificate;
use sha2::Digest as _;

use crate::content::{fetch_all, stream_of, ContentError, ContentStore};
use crate::verify::FoundSignature;

/// The artifact type of a CRL bundle attached to a signature manifest.
pub const CRL_ARTIFACT_TYPE: &str = "application/vnd.nv2.crl.v1";
/// The media type of one CRL (DER), as RFC 5280 registers it.
pub const CRL_MEDIA_TYPE: &str = "application/pkix-crl";
/// The layer annotation naming the distribution point a CRL was fetched from.
pub const CRL_URL_ANNOTATION: &str = "io.nv2.crl.url";

/// How long one CRL download may take.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Most CRL downloads at once.
const FETCH_CONCURRENCY: usize = 4;
/// Most distribution points looked at for one verification (hostile chains could name thousands).
const MAX_URLS: usize = 64;

/// CRLs by distribution point URL, as the core asks for them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Crls(BTreeMap<String, Vec<u8>>);

impl Crls {
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether a CRL for `url` is held.
    pub fn contains(&self, url: &str) -> bool {
        self.0.contains_key(url)
    }

    /// Adds (or replaces) the CRL of `url`.
    pub fn insert(&mut self, url: String, der: Vec<u8>) {
        self.0.insert(url, der);
    }

    /// Adds every CRL of `other` this set lacks.
    pub fn extend_missing(&mut self, other: Crls) {
        for (url, der) in other.0 {
            self.0.entry(url).or_insert(der);
        }
    }

    /// The CRLs, by URL.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Vec<u8>)> {
        self.0.iter()
    }
}

impl nv2_core::verify::CrlSource for Crls {
    fn crl(&self, url: &str) -> Option<Vec<u8>> {
        self.0.get(url).cloned()
    }
}

/// The HTTP(S) CRL distribution points named by the certificate chain of `envelope`.
pub fn chain_crl_urls(signature: &FoundSignature) -> Vec<String> {
    let Some(format) = signature.format else { return Vec::new() };
    let Ok(envelope) = ParsedEnvelope::parse(format, &signature.envelope) else { return Vec::new() };
    let mut urls = Vec::new();
    for der in envelope.certificate_chain() {
        if let Ok(certificate) = Certificate::from_der(der) {
            for url in certificate.crl_distribution_points() {
                if (url.starts_with("http://") || url.starts_with("https://")) && !urls.contains(&url) {
                    urls.push(url);
                }
            }
        }
    }
    urls
}

/// Every distribution point named by the chains of `signatures`, each once, at most [`MAX_URLS`].
pub fn crl_urls(signatures: &[FoundSignature]) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for url in signatures.iter().flat_map(chain_crl_urls) {
        if !urls.contains(&url) && urls.len() < MAX_URLS {
            urls.push(url);
        }
    }
    urls
}

/// The CRLs attached to `signatures` in `store` (referrers of each signature manifest of [`CRL_ARTIFACT_TYPE`]).
pub async fn attached_crls(store: &dyn ContentStore, signatures: &[FoundSignature]) -> Result<Crls, ContentError> {
    let mut crls = Crls::default();
    for signature in signatures {
        for bundle in store.referrers(&signature.descriptor, Some(CRL_ARTIFACT_TYPE)).await? {
            let bytes = fetch_all(store, &bundle, MAX_MANIFEST_BYTES as u64).await?;
            let Ok(parsed) = ParsedManifest::parse(Some(&bundle.media_type), &bytes) else { continue };
            let Some(manifest) = parsed.as_image_manifest() else { continue };
            for layer in manifest.layers.iter().filter(|l| l.media_type == CRL_MEDIA_TYPE) {
                let Some(url) = layer.annotations.get(CRL_URL_ANNOTATION) else { continue };
                if !crls.contains(url) {
                    crls.insert(url.clone(), fetch_all(store, layer, MAX_CRL_BYTES as u64).await?);
                }
            }
        }
    }
    Ok(crls)
}

/// Attaches `crls` to the signature manifest `signature` in `store` (CRL layers first, the manifest last); `None`
/// when there is nothing to attach.
pub async fn attach_crls(
    store: &dyn ContentStore,
    signature: &Descriptor,
    crls: &Crls,
) -> Result<Option<Descriptor>, ContentError> {
    if crls.is_empty() {
        return Ok(None);
    }
    let mut layers = Vec::new();
    for (url, der) in crls.iter() {
        let mut layer = Descriptor::for_content(CRL_MEDIA_TYPE, der);
        layer.annotations.insert(CRL_URL_ANNOTATION.to_string(), url.clone());
        if !store.exists(&layer).await? {
            store.push(&layer, stream_of(der.clone())).await?;
        }
        layers.push(layer);
    }
    let config = Descriptor::empty();
    if !store.exists(&config).await? {
        store.push(&config, stream_of(&b"{}"[..])).await?;
    }
    let subject = Descriptor::new(&signature.media_type, signature.digest.clone(), signature.size);
    let manifest = ImageManifest::artifact(CRL_ARTIFACT_TYPE, layers)
        .with_subject(subject)
        .with_annotation(nv2_core::sign::CREATED_ANNOTATION, &crate::clock::now().to_rfc3339());
    let bytes = manifest.to_json_bytes()?;
    let mut descriptor = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &bytes);
    store.push(&descriptor, stream_of(bytes)).await?;
    descriptor.artifact_type = Some(CRL_ARTIFACT_TYPE.to_string());
    Ok(Some(descriptor))
}

/// Downloads CRLs from their distribution points, with a disk cache.
#[derive(Clone, Debug)]
pub struct CrlFetcher {
    http: reqwest::Client,
    cache_dir: Option<PathBuf>,
}

impl CrlFetcher {
    /// A fetcher with `timeout` per download and the default cache directory.
    pub fn new(timeout: Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(format!("nv2/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("CRL client: {e}"))?;
        let cache_dir = std::env::var_os("NV2_CACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/nv2")))
            .map(|dir| dir.join("crl"));
        Ok(CrlFetcher { http, cache_dir })
    }

    /// The same fetcher caching under `dir` (or not at all).
    pub fn with_cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }

    /// Fetches every URL of `urls`; a URL that cannot be had (network, size, status) is served from the cache if
    /// it was fetched before, else left out (the core then reports the status as unknown).
    pub async fn fetch(&self, urls: &[String]) -> Crls {
        let fetched: Vec<(String, Option<Vec<u8>>)> = stream::iter(urls.iter().cloned())
            .map(|url| async move {
                let bytes = match self.download(&url).await {
                    Ok(bytes) => {
                        self.store_in_cache(&url, &bytes);
                        Some(bytes)
                    }
                    Err(reason) => {
                        tracing::warn!(url = %url, %reason, "CRL download failed; trying the cache");
                        self.cached(&url)
                    }
                };
                (url, bytes)
            })
            .buffer_unordered(FETCH_CONCURRENCY)
            .collect()
            .await;
        let mut crls = Crls::default();
        for (url, bytes) in fetched {
            if let Some(bytes) = bytes {
                crls.insert(url, bytes);
            }
        }
        crls
    }

    async fn download(&self, url: &str) -> Result<Vec<u8>, String> {
        let mut response = self.http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
            if bytes.len() + chunk.len() > MAX_CRL_BYTES {
                return Err(format!("larger than {MAX_CRL_BYTES} bytes"));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    fn cache_path(&self, url: &str) -> Option<PathBuf> {
        let name = nv2_core::verify::hex_string(&sha2::Sha256::digest(url.as_bytes()));
        self.cache_dir.as_ref().map(|dir| dir.join(name))
    }

    fn store_in_cache(&self, url: &str, bytes: &[u8]) {
        if let Some(path) = self.cache_path(url) {
            if let Err(e) = crate::atomic_file::write(&path, bytes, crate::atomic_file::Mode::Private) {
                tracing::warn!(path = %path.display(), error = %e, "cannot cache the CRL");
            }
        }
    }

    fn cached(&self, url: &str) -> Option<Vec<u8>> {
        let path = self.cache_path(url)?;
        let bytes = std::fs::read(path).ok()?;
        (bytes.len() <= MAX_CRL_BYTES).then_some(bytes)
    }
}
