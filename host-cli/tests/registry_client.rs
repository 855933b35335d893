//! The registry client against real servers: the `nv2-registry` binary (referrers API, Basic and token auth), the
//! CNCF distribution registry when installed (no referrers API), a closed port, servers that answer garbage, and a
//! proxy that loses an upload answer.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64ct::{Base64, Encoding};
use bytes::Bytes;
use common::{DistributionRegistry, TestRegistry};
use nv2_cli::auth::{AuthError, Credential, CredentialStore, StoredIn};
use nv2_cli::content::{fetch_all, stream_of, ByteStream, ContentError, ContentStore, TransferOutcome};
use nv2_cli::registry::{ClientOptions, CredentialSource, Pages, ReferrersMode, RegistryClient, Repository};
use nv2_core::oci::{fallback_tag, media_types, referrers_from_index, Descriptor, ImageManifest, Reference};

const SBOM: &str = "application/vnd.example.sbom.v1+json";

fn client(options: ClientOptions) -> RegistryClient {
    RegistryClient::new(options).expect("client")
}

fn anonymous() -> RegistryClient {
    client(ClientOptions::default())
}

fn with_credential(username: &str, password: &str) -> RegistryClient {
    let credential = Credential::Basic { username: username.into(), password: password.into() };
    client(ClientOptions { credentials: CredentialSource::Fixed(credential), ..Default::default() })
}

fn repo(client: &RegistryClient, host_port: &str, name: &str) -> Repository {
    client.repository(&Reference::parse(&format!("{host_port}/{name}")).expect("reference"))
}

/// A stream of `bytes` in items of `item` bytes, as a file or a network source delivers them.
fn stream_in_pieces(bytes: &[u8], item: usize) -> ByteStream {
    let pieces: Vec<Result<Bytes, ContentError>> = bytes.chunks(item).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    Box::pin(futures_util::stream::iter(pieces))
}

fn pseudo_random(len: usize, seed: u8) -> Vec<u8> {
    let mut state = u32::from(seed) | 0x1000;
    (0..len)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) as u8
        })
        .collect()
}

async fn push_blob(repo: &Repository, media_type: &str, bytes: &[u8]) -> Descriptor {
    let descriptor = Descriptor::for_content(media_type, bytes);
    repo.push(&descriptor, stream_of(bytes.to_vec())).await.expect("push blob");
    descriptor
}

/// Pushes a small image (config, one layer, manifest) by digest and returns the manifest's descriptor.
async fn push_image(repo: &Repository, seed: &str) -> Descriptor {
    let config = push_blob(
        repo,
        media_types::OCI_IMAGE_CONFIG,
        format!(r#"{{"architecture":"amd64","os":"linux","s":"{seed}"}}"#).as_bytes(),
    )
    .await;
    let layer = push_blob(repo, media_types::OCI_LAYER_TAR, format!("layer of {seed}").as_bytes()).await;
    let manifest = ImageManifest::new(config, vec![layer]).to_json_bytes().expect("manifest");
    let descriptor = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &manifest);
    repo.push(&descriptor, stream_of(manifest)).await.expect("push manifest");
    descriptor
}

/// Pushes an artifact of `artifact_type` whose subject is `subject`; returns its descriptor.
async fn push_referrer(repo: &Repository, subject: &Descriptor, artifact_type: &str, payload: &str) -> Descriptor {
    push_blob(repo, media_types::OCI_EMPTY, b"{}").await;
    let layer = push_blob(repo, media_types::JWS_ENVELOPE, payload.as_bytes()).await;
    let manifest = ImageManifest::artifact(artifact_type, vec![layer])
        .with_subject(subject.clone())
        .with_annotation("org.example.payload", payload)
        .to_json_bytes()
        .expect("manifest");
    let descriptor = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, &manifest);
    repo.push(&descriptor, stream_of(manifest)).await.expect("push referrer");
    descriptor
}

/// The fallback-tag index for `subject`: its digest and entries (`None` when the tag does not exist).
async fn tag_index(repo: &Repository, subject: &Descriptor) -> Option<(Descriptor, Vec<Descriptor>)> {
    match repo.get_manifest(&fallback_tag(&subject.digest)).await {
        Ok((descriptor, parsed)) => Some((descriptor, referrers_from_index(&parsed).expect("index").to_vec())),
        Err(ContentError::NotFound { .. }) => None,
        Err(e) => panic!("reading the fallback tag failed: {e}"),
    }
}

fn digests(list: &[Descriptor]) -> Vec<String> {
    ids(&list.iter().collect::<Vec<_>>())
}

/// Sorted digests, for comparing lists whose order a registry may choose.
fn ids(list: &[&Descriptor]) -> Vec<String> {
    let mut digests: Vec<String> = list.iter().map(|d| d.digest.to_string()).collect();
    digests.sort();
    digests
}

#[tokio::test]
async fn blobs_push_and_fetch_whole_and_in_chunks() {
    let registry = TestRegistry::start("");
    let chunked = client(ClientOptions { chunk_size: 64 * 1024, ..Default::default() });
    let repo = repo(&chunked, &registry.host_port, "team/blobs");

    let small = pseudo_random(1000, 1);
    let small_descriptor = push_blob(&repo, "application/octet-stream", &small).await;
    assert!(repo.exists(&small_descriptor).await.unwrap());
    assert_eq!(fetch_all(&repo, &small_descriptor, 1 << 20).await.unwrap(), small);

    // 4 chunks of 64 KiB and a tail, arriving in 7 KiB pieces that the uploader regroups.
    let large = pseudo_random(4 * 64 * 1024 + 123, 2);
    let large_descriptor = Descriptor::for_content("application/octet-stream", &large);
    repo.push(&large_descriptor, stream_in_pieces(&large, 7 * 1024)).await.expect("chunked push");
    assert!(repo.exists(&large_descriptor).await.unwrap());
    assert_eq!(fetch_all(&repo, &large_descriptor, 1 << 20).await.unwrap(), large);

    // Content that does not match its descriptor is refused and never stored, whole or chunked.
    let absent = Descriptor::for_content("application/octet-stream", b"something else");
    assert!(!repo.exists(&absent).await.unwrap());
    let lie = repo.push(&absent, stream_of(small.clone())).await;
    assert!(matches!(lie, Err(ContentError::Mismatch { .. })), "{lie:?}");
    let mut forged = large.clone();
    forged[100_000] ^= 1;
    let lie = repo.push(&large_descriptor.clone(), stream_in_pieces(&forged, 10_000)).await;
    assert!(matches!(lie, Err(ContentError::Mismatch { .. })), "{lie:?}");
    let wrong = Descriptor::for_content("application/octet-stream", &forged);
    assert!(!repo.exists(&wrong).await.unwrap());
    let missing = repo.fetch(&absent).await;
    assert!(matches!(missing, Err(ContentError::NotFound { .. })), "{:?}", missing.err());

    // Deleting a blob.
    repo.delete(&small_descriptor).await.expect("delete blob");
    assert!(!repo.exists(&small_descriptor).await.unwrap());
}

#[tokio::test]
async fn chunked_upload_resumes_after_a_lost_answer_or_a_refused_chunk() {
    let registry = TestRegistry::start("");
    for fault in [Fault::LoseAnswer, Fault::SendTwice] {
        let proxy = LossyProxy::start(&registry.host_port, 2, fault);
        let client = client(ClientOptions { chunk_size: 64 * 1024, ..Default::default() });
        let name = format!("team/resume-{fault:?}").to_lowercase();
        let repo = repo(&client, &format!("127.0.0.1:{}", proxy.port), &name);
        let blob = pseudo_random(3 * 64 * 1024 + 17, 3);
        let descriptor = Descriptor::for_content("application/octet-stream", &blob);
        repo.push(&descriptor, stream_in_pieces(&blob, 64 * 1024)).await.expect("push through a faulty path");
        assert_eq!(proxy.faults.load(Ordering::SeqCst), 1, "{fault:?} happened once");
        let direct = self::repo(&anonymous(), &registry.host_port, &name);
        assert_eq!(fetch_all(&direct, &descriptor, 1 << 20).await.unwrap(), blob);
    }
}

#[tokio::test]
async fn manifests_by_digest_then_tag_resolve_and_exist() {
    let registry = TestRegistry::start("");
    let client = anonymous();
    let repo = repo(&client, &registry.host_port, "team/app");
    let image = push_image(&repo, "one").await;
    assert!(repo.exists(&image).await.unwrap());
    assert_eq!(repo.resolve(&image.digest.to_string()).await.unwrap(), image);
    let not_found = repo.resolve("v1").await;
    assert!(matches!(not_found, Err(ContentError::NotFound { .. })), "{not_found:?}");

    repo.tag(&image, "v1").await.expect("tag");
    assert_eq!(repo.resolve("v1").await.unwrap(), image);
    let (fetched, parsed) = repo.get_manifest("v1").await.unwrap();
    assert_eq!(fetched, image);
    assert_eq!(fetch_all(&repo, &image, 1 << 20).await.unwrap(), parsed.bytes());

    // One-request push under a tag.
    let other = ImageManifest::new(Descriptor::empty(), vec![Descriptor::empty()]).to_json_bytes().unwrap();
    push_blob(&repo, media_types::OCI_EMPTY, b"{}").await;
    let pushed = repo.push_manifest_bytes(&other, media_types::OCI_IMAGE_MANIFEST, Some("v2")).await.unwrap();
    assert_eq!(repo.resolve("v2").await.unwrap(), pushed);
    assert!(repo.push_manifest_bytes(b"{garbage", media_types::OCI_IMAGE_MANIFEST, None).await.is_err());

    // Blobs cannot be tagged; bad references are refused before any request.
    let blob = Descriptor::empty();
    assert!(matches!(repo.tag(&blob, "v3").await, Err(ContentError::Refused { .. })));
    assert!(matches!(repo.resolve("not a tag!").await, Err(ContentError::Oci(_))));

    // Deleting the manifest removes it by digest and by tag.
    repo.delete(&image).await.expect("delete manifest");
    assert!(!repo.exists(&image).await.unwrap());
    assert!(matches!(repo.resolve("v1").await, Err(ContentError::NotFound { .. })));
}

#[tokio::test]
async fn referrers_through_the_api_with_artifact_type_filter() {
    let registry = TestRegistry::start("");
    let client = anonymous();
    let repo = repo(&client, &registry.host_port, "team/app");
    let image = push_image(&repo, "signed").await;
    let signature = push_referrer(&repo, &image, media_types::NOTARY_SIGNATURE, "sig").await;
    let sbom = push_referrer(&repo, &image, SBOM, "sbom").await;
    assert_eq!(repo.referrers_api_detected(), Some(true), "OCI-Subject marks the API as present");

    let all = repo.referrers(&image, None).await.unwrap();
    assert_eq!(digests(&all), ids(&[&signature, &sbom]));
    let sig_entry = all.iter().find(|d| d.digest == signature.digest).unwrap();
    assert_eq!(sig_entry.artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE));
    assert_eq!(sig_entry.annotations.get("org.example.payload").map(String::as_str), Some("sig"));
    let only = repo.referrers(&image, Some(media_types::NOTARY_SIGNATURE)).await.unwrap();
    assert_eq!(digests(&only), ids(&[&signature]));
    assert!(tag_index(&repo, &image).await.is_none(), "no fallback tag on a registry with the API");

    // A fresh client detects the API by listing.
    let fresh = self::repo(&anonymous(), &registry.host_port, "team/app");
    assert_eq!(fresh.referrers(&image, Some(SBOM)).await.unwrap().len(), 1);
    assert_eq!(fresh.referrers_api_detected(), Some(true));

    // Deleting a referrer removes it from the list.
    repo.delete(&signature).await.expect("delete referrer");
    assert_eq!(digests(&repo.referrers(&image, None).await.unwrap()), ids(&[&sbom]));
    assert!(client.take_warnings().is_empty());
}

#[tokio::test]
async fn referrers_tag_schema_when_forced() {
    let registry = TestRegistry::start("");
    let client = anonymous();
    let repo = repo(&client, &registry.host_port, "team/tagged").with_referrers_mode(ReferrersMode::TagSchema);
    let image = push_image(&repo, "tag-schema").await;

    let first = push_referrer(&repo, &image, media_types::NOTARY_SIGNATURE, "one").await;
    let (index_one, entries) = tag_index(&repo, &image).await.expect("index created under the fallback tag");
    assert_eq!(digests(&entries), ids(&[&first]));
    assert_eq!(entries[0].artifact_type.as_deref(), Some(media_types::NOTARY_SIGNATURE));
    assert_eq!(entries[0].annotations.get("org.example.payload").map(String::as_str), Some("one"));

    let second = push_referrer(&repo, &image, SBOM, "two").await;
    let (index_two, entries) = tag_index(&repo, &image).await.expect("index");
    assert_eq!(digests(&entries), ids(&[&first, &second]));
    assert_ne!(index_one.digest, index_two.digest);
    assert!(!repo.exists(&index_one).await.unwrap(), "the superseded index was deleted");

    // Pushing the same referrer again adds no duplicate.
    repo.push(&second, stream_of(fetch_all(&repo, &second, 1 << 20).await.unwrap())).await.unwrap();
    assert_eq!(tag_index(&repo, &image).await.unwrap().1.len(), 2);

    assert_eq!(digests(&repo.referrers(&image, None).await.unwrap()), ids(&[&first, &second]));
    assert_eq!(digests(&repo.referrers(&image, Some(SBOM)).await.unwrap()), ids(&[&second]));

    // Deleting a referrer rewrites the index and deletes the old one; the last one removes the tag.
    repo.delete(&first).await.expect("delete referrer");
    let (index_three, entries) = tag_index(&repo, &image).await.expect("index");
    assert_eq!(digests(&entries), ids(&[&second]));
    assert!(!repo.exists(&index_two).await.unwrap());
    repo.delete(&second).await.expect("delete last referrer");
    assert!(tag_index(&repo, &image).await.is_none());
    assert!(!repo.exists(&index_three).await.unwrap());
    assert!(repo.referrers(&image, None).await.unwrap().is_empty());
    assert!(client.take_warnings().is_empty());
}

#[tokio::test]
async fn tag_schema_on_a_registry_refusing_deletes_warns_but_succeeds() {
    let registry = TestRegistry::start("allow_delete = false");
    let client = anonymous();
    let repo = repo(&client, &registry.host_port, "team/keep").with_referrers_mode(ReferrersMode::TagSchema);
    let image = push_image(&repo, "keep").await;
    push_referrer(&repo, &image, media_types::NOTARY_SIGNATURE, "a").await;
    let (old_index, _) = tag_index(&repo, &image).await.unwrap();
    push_referrer(&repo, &image, media_types::NOTARY_SIGNATURE, "b").await;
    assert_eq!(tag_index(&repo, &image).await.unwrap().1.len(), 2);
    let warnings = client.take_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("removal of outdated referrers index")
            && warnings[0].contains(&old_index.digest.to_string())
    );
    assert!(client.take_warnings().is_empty(), "warnings are taken once");
}

#[tokio::test]
async fn catalog_and_tags_page_through_link_headers() {
    let registry = TestRegistry::start("");
    let client = anonymous();
    let names = ["paging/a", "paging/b", "paging/c"];
    for name in names {
        push_image(&repo(&client, &registry.host_port, name), name).await;
    }
    let repo = repo(&client, &registry.host_port, "paging/a");
    let image = repo.resolve(&push_image(&repo, "tags").await.digest.to_string()).await.unwrap();
    let tags = ["t1", "t2", "t3", "t4", "t5"];
    for tag in tags {
        repo.tag(&image, tag).await.unwrap();
    }
    assert_eq!(repo.tags(Some(2), None, Pages::One).await.unwrap(), ["t1", "t2"]);
    assert_eq!(repo.tags(Some(2), None, Pages::All).await.unwrap(), tags);
    assert_eq!(repo.tags(Some(2), Some("t3"), Pages::All).await.unwrap(), ["t4", "t5"]);
    assert_eq!(repo.tags(None, None, Pages::All).await.unwrap(), tags);
    assert_eq!(client.catalog(&registry.host_port, Some(1), None, Pages::One).await.unwrap(), ["paging/a"]);
    assert_eq!(client.catalog(&registry.host_port, Some(2), None, Pages::All).await.unwrap(), names);
    assert_eq!(client.catalog(&registry.host_port, None, Some("paging/a"), Pages::All).await.unwrap(), &names[1..]);
    let missing = self::repo(&client, &registry.host_port, "paging/none").tags(None, None, Pages::All).await;
    assert!(matches!(missing, Err(ContentError::NotFound { .. })), "{missing:?}");
    client.ping(&registry.host_port).await.expect("ping");
}

#[tokio::test]
async fn basic_auth_in_private_mode() {
    let registry = TestRegistry::start_with_users("access = \"private\"", &[("alice", "secret")]);
    let wrong = with_credential("alice", "wrong");
    let wrong_repo = repo(&wrong, &registry.host_port, "team/private");
    let refused = wrong_repo.push(&Descriptor::empty(), stream_of(&b"{}"[..])).await;
    assert!(matches!(refused, Err(ContentError::Unauthorized { .. })), "{refused:?}");
    assert!(matches!(wrong.ping(&registry.host_port).await, Err(ContentError::Unauthorized { .. })));
    let anonymous_repo = repo(&anonymous(), &registry.host_port, "team/private");
    assert!(matches!(anonymous_repo.exists(&Descriptor::empty()).await, Err(ContentError::Unauthorized { .. })));

    let right = with_credential("alice", "secret");
    right.ping(&registry.host_port).await.expect("ping with the right password");
    let right_repo = repo(&right, &registry.host_port, "team/private");
    let image = push_image(&right_repo, "private").await;
    right_repo.tag(&image, "v1").await.unwrap();
    assert_eq!(right_repo.resolve("v1").await.unwrap(), image);
    let signature = push_referrer(&right_repo, &image, media_types::NOTARY_SIGNATURE, "s").await;
    assert_eq!(digests(&right_repo.referrers(&image, None).await.unwrap()), ids(&[&signature]));
}

#[tokio::test]
async fn bearer_token_flow() {
    let registry =
        TestRegistry::start_with_users("access = \"private\"\nauth_scheme = \"token\"", &[("alice", "secret")]);
    let right = with_credential("alice", "secret");
    right.ping(&registry.host_port).await.expect("ping with a token");
    let repo = repo(&right, &registry.host_port, "team/tokens");
    let large = pseudo_random(3 * 64 * 1024, 9);
    let image = push_image(&repo, "token").await;
    let descriptor = Descriptor::for_content("application/octet-stream", &large);
    repo.push(&descriptor, stream_of(large.clone())).await.expect("push with pull,push token");
    assert_eq!(fetch_all(&repo, &descriptor, 1 << 20).await.unwrap(), large);
    repo.tag(&image, "v1").await.unwrap();
    let signature = push_referrer(&repo, &image, media_types::NOTARY_SIGNATURE, "s").await;
    assert_eq!(digests(&repo.referrers(&image, None).await.unwrap()), ids(&[&signature]));
    repo.delete(&signature).await.expect("delete with a delete token");
    assert_eq!(right.catalog(&registry.host_port, None, None, Pages::All).await.unwrap(), ["team/tokens"]);

    let wrong = with_credential("alice", "nope");
    let refused = self::repo(&wrong, &registry.host_port, "team/tokens").resolve("v1").await;
    match refused {
        Err(ContentError::Unauthorized { reason, .. }) => assert!(reason.contains("token"), "{reason}"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    let anonymous_refused = self::repo(&anonymous(), &registry.host_port, "team/tokens").resolve("v1").await;
    assert!(matches!(anonymous_refused, Err(ContentError::Unauthorized { .. })), "{anonymous_refused:?}");
}

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[tokio::test]
async fn credentials_from_docker_config_and_helpers() {
    let registry = TestRegistry::start_with_users("access = \"private\"", &[("alice", "secret"), ("bob", "hunter2")]);
    let dir = tempfile::tempdir().unwrap();
    let host = &registry.host_port;

    // `auths` with base64 user:password.
    let auths = dir.path().join("auths.json");
    let auth = Base64::encode_string(b"alice:secret");
    std::fs::write(&auths, format!(r#"{{"auths":{{"https://{host}":{{"auth":"{auth}"}}}}}}"#)).unwrap();
    let from_auths = client(ClientOptions {
        credentials: CredentialSource::Store(CredentialStore::at(&auths)),
        ..Default::default()
    });
    push_image(&repo(&from_auths, host, "team/config"), "auths").await;

    // A credHelpers entry pointing at a helper script.
    let helpers = dir.path().join("bin");
    std::fs::create_dir(&helpers).unwrap();
    script(
        &helpers.join("docker-credential-nv2test"),
        r#"read server
[ "$1" = get ] || exit 1
printf '{"ServerURL":"%s","Username":"bob","Secret":"hunter2"}' "$server""#,
    );
    let with_helper = dir.path().join("helper.json");
    std::fs::write(&with_helper, format!(r#"{{"credHelpers":{{"{host}":"nv2test"}},"auths":{{}}}}"#)).unwrap();
    let store = CredentialStore::at(&with_helper).with_helper_dirs(vec![helpers.clone()]);
    assert_eq!(store.get(host).unwrap(), Credential::Basic { username: "bob".into(), password: "hunter2".into() });
    let from_helper = client(ClientOptions { credentials: CredentialSource::Store(store), ..Default::default() });
    let image = push_image(&repo(&from_helper, host, "team/config"), "helper").await;
    assert!(repo(&from_auths, host, "team/config").exists(&image).await.unwrap());

    // A helper that is named but not installed is a clear error naming it, not anonymous access.
    let missing = dir.path().join("missing.json");
    std::fs::write(&missing, format!(r#"{{"credHelpers":{{"{host}":"absent"}}}}"#)).unwrap();
    let store = CredentialStore::at(&missing).with_helper_dirs(vec![helpers.clone()]);
    assert!(
        matches!(store.get(host), Err(AuthError::HelperMissing { ref helper, .. }) if helper == "docker-credential-absent")
    );
    let failing = client(ClientOptions { credentials: CredentialSource::Store(store), ..Default::default() });
    match repo(&failing, host, "team/config").exists(&image).await {
        Err(ContentError::Unauthorized { reason, .. }) => {
            assert!(reason.contains("docker-credential-absent"), "{reason}")
        }
        other => panic!("expected Unauthorized naming the helper, got {other:?}"),
    }

    // A failing helper and a malformed file are typed errors naming the helper and the file.
    script(&helpers.join("docker-credential-broken"), "echo 'keychain locked'; exit 3");
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{"credsStore":"broken"}"#).unwrap();
    let error = CredentialStore::at(&broken).with_helper_dirs(vec![helpers.clone()]).get(host).unwrap_err();
    assert!(
        matches!(error, AuthError::HelperFailed { .. }) && error.to_string().contains("keychain locked"),
        "{error}"
    );
    let malformed = dir.path().join("malformed.json");
    std::fs::write(&malformed, "{\"auths\": [").unwrap();
    let error = CredentialStore::at(&malformed).get(host).unwrap_err();
    assert!(
        matches!(error, AuthError::MalformedConfig { .. }) && error.to_string().contains("malformed.json"),
        "{error}"
    );
    // No file at all: anonymous.
    assert_eq!(CredentialStore::at(dir.path().join("none.json")).get(host).unwrap(), Credential::None);
}

#[test]
fn login_and_logout_keep_the_rest_of_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("docker").join("config.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let original = serde_json::json!({
        "auths": {"other.example": {"auth": Base64::encode_string(b"carol:pw"), "email": "c@example"}},
        "psFormat": "table {{.ID}}",
        "proxies": {"default": {"httpProxy": "http://proxy:3128"}},
        "plugins": {"nv2": {"enabled": "true"}}
    });
    std::fs::write(&path, serde_json::to_vec(&original).unwrap()).unwrap();
    let store = CredentialStore::at(&path);
    let alice = Credential::Basic { username: "alice".into(), password: "s:cret".into() };

    assert_eq!(store.login("127.0.0.1:5000", &alice).unwrap(), StoredIn::ConfigFile(path.canonicalize().unwrap()));
    store.login("docker.io", &Credential::IdentityToken("refresh".into())).unwrap();
    let written: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    for key in ["psFormat", "proxies", "plugins"] {
        assert_eq!(written[key], original[key], "{key} kept");
    }
    assert_eq!(written["auths"]["other.example"], original["auths"]["other.example"]);
    assert_eq!(written["auths"]["https://index.docker.io/v1/"]["identitytoken"], "refresh");
    assert_eq!(store.get("127.0.0.1:5000").unwrap(), alice);
    assert_eq!(store.get("index.docker.io").unwrap(), Credential::IdentityToken("refresh".into()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    assert!(store.logout("127.0.0.1:5000").unwrap());
    assert!(!store.logout("127.0.0.1:5000").unwrap(), "nothing left to remove");
    assert_eq!(store.get("127.0.0.1:5000").unwrap(), Credential::None);
    let after: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(after["auths"]["other.example"], original["auths"]["other.example"]);
    assert_eq!(after["proxies"], original["proxies"]);

    // A malformed file is reported, never overwritten.
    std::fs::write(&path, "{\"auths\": 42}").unwrap();
    let error = store.login("127.0.0.1:5000", &alice).unwrap_err();
    assert!(matches!(error, AuthError::MalformedConfig { .. }), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"auths\": 42}");

    // With credsStore, login and logout go through the helper and leave the file alone.
    let helpers = dir.path().join("bin");
    std::fs::create_dir(&helpers).unwrap();
    let log = dir.path().join("helper.log");
    script(&helpers.join("docker-credential-rec"), &format!("echo \"$1 $(cat)\" >> {}", log.display()));
    let with_helper = dir.path().join("helper.json");
    std::fs::write(&with_helper, r#"{"credsStore":"rec","auths":{}}"#).unwrap();
    let store = CredentialStore::at(&with_helper).with_helper_dirs(vec![helpers]);
    assert_eq!(store.login("reg.example", &alice).unwrap(), StoredIn::Helper("docker-credential-rec".into()));
    assert!(store.logout("reg.example").unwrap());
    let calls = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = calls.lines().collect();
    assert_eq!(lines.len(), 2, "{calls}");
    let stored: serde_json::Value = serde_json::from_str(lines[0].strip_prefix("store ").unwrap()).unwrap();
    assert_eq!(stored, serde_json::json!({"ServerURL": "reg.example", "Username": "alice", "Secret": "s:cret"}));
    assert_eq!(lines[1], "erase reg.example");
    assert_eq!(std::fs::read_to_string(&with_helper).unwrap(), r#"{"credsStore":"rec","auths":{}}"#);
}

#[tokio::test]
async fn an_unreachable_registry_is_reported_with_its_host() {
    let port = common::closed_port();
    let client = client(ClientOptions { connect_timeout: Duration::from_secs(3), ..Default::default() });
    let repo = repo(&client, &format!("127.0.0.1:{port}"), "team/app");
    match repo.resolve("v1").await {
        Err(ContentError::Unreachable { reason, .. }) => {
            assert!(reason.contains(&format!("127.0.0.1:{port}")), "{reason}")
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(matches!(client.ping(&format!("127.0.0.1:{port}")).await, Err(ContentError::Unreachable { .. })));
}

/// Serves `answer` to every connection on 127.0.0.1, whatever was asked; returns the port.
async fn garbage_server(answer: &'static [u8]) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    port
}

#[tokio::test]
async fn garbage_answers_are_malformed_not_panics() {
    let client = client(ClientOptions { read_timeout: Duration::from_secs(10), ..Default::default() });
    let junk = garbage_server(b"\x00\xff\xfenot http at all\r\n\r\n").await;
    let repo_junk = repo(&client, &format!("127.0.0.1:{junk}"), "team/app");
    let answer = repo_junk.resolve("v1").await;
    assert!(matches!(answer, Err(ContentError::Malformed { .. })), "{answer:?}");

    let bad_body: &'static [u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.index.v1+json\r\n\
        Content-Length: 9\r\nConnection: close\r\n\r\n{garbage}";
    let port = garbage_server(bad_body).await;
    let host = format!("127.0.0.1:{port}");
    let repo = repo(&client, &host, "team/app");
    assert!(matches!(repo.resolve("v1").await, Err(ContentError::Malformed { .. })));
    let subject = Descriptor::for_content(media_types::OCI_IMAGE_MANIFEST, b"{}");
    assert!(matches!(repo.referrers(&subject, None).await, Err(ContentError::Malformed { .. })));
    assert!(matches!(repo.tags(None, None, Pages::All).await, Err(ContentError::Malformed { .. })));
    assert!(matches!(client.catalog(&host, None, None, Pages::All).await, Err(ContentError::Malformed { .. })));
    let blob = Descriptor::for_content("application/octet-stream", b"x");
    assert!(matches!(repo.fetch(&blob).await.err(), Some(ContentError::Mismatch { .. })));
    assert!(matches!(repo.push(&blob, stream_of(&b"x"[..])).await, Err(ContentError::Malformed { .. })));

    // A challenge pointing at a token realm that answers garbage.
    let realm = garbage_server(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n[1,2]").await;
    let challenge: &'static [u8] = Box::leak(
        format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://127.0.0.1:{realm}/token\",\
             service=\"x\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    let guarded = garbage_server(challenge).await;
    let answer = self::repo(&client, &format!("127.0.0.1:{guarded}"), "team/app").resolve("v1").await;
    assert!(matches!(answer, Err(ContentError::Malformed { .. })), "{answer:?}");
}

/// One HTTP request as a scripted server saw it.
struct Seen {
    method: String,
    path: String,
    authorization: Option<String>,
    body: String,
}

/// A scripted HTTP/1.1 server on 127.0.0.1 answering each request with `answer(port, request)` (a full HTTP
/// response); returns the port.
async fn scripted_server(answer: fn(u16, &Seen) -> String) -> u16 {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut reader = tokio::io::BufReader::new(socket);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                    return;
                }
                let mut parts = request_line.split_whitespace();
                let (method, path) = (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
                let (mut length, mut authorization) = (0usize, None);
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap_or(0),
                            "authorization" => authorization = Some(value.trim().to_owned()),
                            _ => {}
                        }
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body).await;
                let seen = Seen { method, path, authorization, body: String::from_utf8_lossy(&body).into_owned() };
                let mut socket = reader.into_inner();
                let _ = socket.write_all(answer(port, &seen).as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    port
}

fn http_answer(status: &str, headers: &str, body: &str) -> String {
    format!("HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
}

/// A registry whose token service only takes the refresh token `RT` (OAuth2 `grant_type=refresh_token`).
fn refresh_token_registry(port: u16, seen: &Seen) -> String {
    match (seen.method.as_str(), seen.path.as_str()) {
        ("GET", "/v2/") if seen.authorization.as_deref() == Some("Bearer AT") => http_answer("200 OK", "", "{}"),
        ("GET", "/v2/") => http_answer(
            "401 Unauthorized",
            &format!("WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake\"\r\n"),
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}"#,
        ),
        ("POST", "/token") => {
            let form: Vec<&str> = seen.body.split('&').collect();
            let grant = ["grant_type=refresh_token", "refresh_token=RT", "service=fake", "client_id=nv2"];
            if grant.iter().all(|field| form.contains(field)) && seen.authorization.is_none() {
                http_answer("200 OK", "Content-Type: application/json\r\n", r#"{"access_token":"AT","expires_in":300}"#)
            } else {
                http_answer("401 Unauthorized", "", r#"{"errors":[{"code":"DENIED","message":"bad refresh token"}]}"#)
            }
        }
        ("GET", path) if path.starts_with("/token") => http_answer("401 Unauthorized", "", ""),
        _ => http_answer("404 Not Found", "", ""),
    }
}

#[tokio::test]
async fn identity_tokens_are_exchanged_with_the_refresh_token_grant() {
    let port = scripted_server(refresh_token_registry).await;
    let host = format!("127.0.0.1:{port}");
    let token = |t: &str| CredentialSource::Fixed(Credential::IdentityToken(t.into()));
    let right = client(ClientOptions { credentials: token("RT"), ..Default::default() });
    right.ping(&host).await.expect("the refresh token buys an access token");
    let wrong = client(ClientOptions { credentials: token("stolen"), ..Default::default() });
    match wrong.ping(&host).await {
        Err(ContentError::Unauthorized { reason, .. }) => assert!(reason.contains("bad refresh token"), "{reason}"),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    match anonymous().ping(&host).await {
        Err(ContentError::Unauthorized { .. }) => {}
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn mount_from_another_repository() {
    let registry = TestRegistry::start("automatic_mount = false");
    let client = anonymous();
    let source = repo(&client, &registry.host_port, "team/source");
    let blob = push_blob(&source, media_types::OCI_LAYER_TAR, b"shared layer").await;
    let target = repo(&client, &registry.host_port, "team/target");
    assert_eq!(target.mount_blob(&blob, "team/source").await.unwrap(), TransferOutcome::Mounted);
    assert!(target.exists(&blob).await.unwrap());
    // A mount the registry cannot do (the blob is not in the named source) answers with an upload session; the
    // client then copies from the named source, which does not have it either: NotFound, nothing stored.
    let other = push_blob(&source, media_types::OCI_LAYER_TAR, b"another layer").await;
    let fallback = repo(&client, &registry.host_port, "team/fourth");
    let outcome = fallback.mount_blob(&other, "team/empty").await;
    assert!(matches!(outcome, Err(ContentError::NotFound { .. })), "{outcome:?}");
    assert!(!fallback.exists(&other).await.unwrap());
}

#[tokio::test]
async fn tag_schema_fallback_detected_on_distribution() {
    let Some(registry) = DistributionRegistry::start() else { return };
    let client = anonymous();
    let repo = repo(&client, &registry.host_port, "team/fallback");
    let image = push_image(&repo, "distribution").await;
    let first = push_referrer(&repo, &image, media_types::NOTARY_SIGNATURE, "one").await;
    assert_eq!(repo.referrers_api_detected(), Some(false), "no OCI-Subject: no referrers API");
    let (index_one, entries) = tag_index(&repo, &image).await.expect("fallback index");
    assert_eq!(digests(&entries), ids(&[&first]));

    let second = push_referrer(&repo, &image, SBOM, "two").await;
    let (index_two, entries) = tag_index(&repo, &image).await.expect("fallback index");
    assert_eq!(digests(&entries), ids(&[&first, &second]));
    assert!(!repo.exists(&index_one).await.unwrap(), "the superseded index was deleted");

    // A fresh client finds out by listing: the API answers 404, the tag has the list.
    let fresh = self::repo(&anonymous(), &registry.host_port, "team/fallback");
    assert_eq!(digests(&fresh.referrers(&image, None).await.unwrap()), ids(&[&first, &second]));
    assert_eq!(fresh.referrers_api_detected(), Some(false));
    assert_eq!(digests(&fresh.referrers(&image, Some(SBOM)).await.unwrap()), ids(&[&second]));

    fresh.delete(&first).await.expect("delete referrer");
    let (_, entries) = tag_index(&repo, &image).await.expect("fallback index");
    assert_eq!(digests(&entries), ids(&[&second]));
    assert!(!repo.exists(&index_two).await.unwrap());
    assert!(client.take_warnings().is_empty());

    // Forcing the API on a registry without it is an error, not a silent empty list.
    let forced = self::repo(&anonymous(), &registry.host_port, "team/fallback").with_referrers_mode(ReferrersMode::Api);
    assert!(matches!(forced.referrers(&image, None).await, Err(ContentError::Refused { .. })));
}

/// What [`LossyProxy`] does to one PATCH.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The PATCH reaches the registry but its answer is never returned (the client connection is closed), as
    /// when a network path fails after the registry took the chunk.
    LoseAnswer,
    /// The PATCH is sent to the registry twice, as by a retransmitting middlebox; the client gets the answer to
    /// the second copy (416: the registry already has those bytes).
    SendTwice,
}

/// Forwards HTTP/1.1 requests to an upstream registry, one upstream connection per request, applying `fault` to
/// the `nth` PATCH.
struct LossyProxy {
    port: u16,
    faults: Arc<AtomicUsize>,
}

impl LossyProxy {
    fn start(upstream: &str, nth: usize, fault: Fault) -> LossyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let patches = Arc::new(AtomicUsize::new(0));
        let faults = Arc::new(AtomicUsize::new(0));
        let upstream = upstream.to_owned();
        let (patches_seen, fault_count) = (patches.clone(), faults.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (upstream, patches, faults) = (upstream.clone(), patches_seen.clone(), fault_count.clone());
                std::thread::spawn(move || proxy_connection(client, &upstream, (nth, fault), &patches, &faults));
            }
        });
        LossyProxy { port, faults }
    }
}

fn forward(upstream: &str, head: &[u8], body: &[u8]) -> Vec<u8> {
    let mut server = TcpStream::connect(upstream).unwrap();
    server.write_all(head).unwrap();
    server.write_all(body).unwrap();
    let mut answer = Vec::new();
    server.read_to_end(&mut answer).unwrap();
    answer
}

fn proxy_connection(
    client: TcpStream,
    upstream: &str,
    (nth, fault): (usize, Fault),
    patches: &AtomicUsize,
    faults: &AtomicUsize,
) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut client = client;
    loop {
        let mut head = Vec::new();
        let mut content_length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.trim().parse().unwrap_or(0);
                }
                if name.eq_ignore_ascii_case("connection") {
                    continue;
                }
            }
            head.extend_from_slice(line.as_bytes());
        }
        head.extend_from_slice(b"Connection: close\r\n\r\n");
        let mut body = vec![0u8; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let faulty = head.starts_with(b"PATCH ") && patches.fetch_add(1, Ordering::SeqCst) + 1 == nth;
        let mut answer = forward(upstream, &head, &body);
        if faulty {
            faults.fetch_add(1, Ordering::SeqCst);
            match fault {
                Fault::LoseAnswer => {
                    let _ = client.shutdown(std::net::Shutdown::Both);
                    return;
                }
                Fault::SendTwice => {
                    answer = forward(upstream, &head, &body);
                    assert!(answer.starts_with(b"HTTP/1.1 416"), "the registry refuses the repeated chunk");
                }
            }
        }
        if client.write_all(&answer).is_err() {
            return;
        }
    }
}
