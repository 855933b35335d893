//! Tests of manifest parsing: every kind, every media-type rule, and malformed, truncated, oversized and hostile
//! input getting the right error.

use super::*;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use proptest::prelude::*;

const EMPTY: &str = r#"{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;
const SUBJECT: &str = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9","size":517}"#;
const OTHER: &str = r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:90ceaff260d657d797c408ac73564a9c7bb9d86055877c2a811f0e63b8c6524f","size":728}"#;
const BLOB: &str = r#"{"mediaType":"application/jose+json","digest":"sha256:c9af07e038b2b1a463e648986ad7273157511ffeba0b689f33e5472bae471f50","size":2070}"#;

fn parse(ct: Option<&str>, text: &str) -> Result<ParsedManifest, OciError> {
    ParsedManifest::parse(ct, text.as_bytes())
}

#[test]
fn image_manifest_keeps_bytes_and_derives_fields() {
    let text = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{EMPTY},"layers":[{BLOB}],"subject":{SUBJECT},"annotations":{{"k":"v"}},"futureField":[1]}}"#
    );
    let m = parse(Some("application/vnd.oci.image.manifest.v1+json; charset=utf-8"), &text).unwrap();
    assert_eq!(m.bytes(), text.as_bytes());
    assert_eq!(*m.digest(), Digest::sha256(text.as_bytes()));
    assert_eq!(m.size(), text.len() as u64);
    assert_eq!(m.media_type(), media_types::OCI_IMAGE_MANIFEST);
    assert_eq!(m.subject().unwrap().size, 517);
    assert_eq!(m.artifact_type(), Some(media_types::OCI_EMPTY));
    assert_eq!(m.annotations().get("k").map(String::as_str), Some("v"));
    let refs = m.references();
    assert_eq!(refs.iter().map(|c| c.kind).collect::<Vec<_>>(), vec![ChildKind::Config, ChildKind::Layer]);
    assert!(refs.iter().all(|c| !c.is_manifest()));
    assert_eq!(m.digest_with(DigestAlgorithm::Sha512).algorithm(), DigestAlgorithm::Sha512);
    assert!(ParsedManifest::parse_verified(None, text.as_bytes(), m.digest()).is_ok());
    let wrong = Digest::sha256(b"x");
    assert!(matches!(
        ParsedManifest::parse_verified(None, text.as_bytes(), &wrong),
        Err(OciError::DigestMismatch { .. })
    ));
}

#[test]
fn go_style_nulls_read_as_empty() {
    let text = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{EMPTY},"layers":null,"annotations":null}}"#
    );
    let m = parse(None, &text).unwrap();
    assert_eq!(m.references().len(), 1);
    assert!(m.annotations().is_empty());
    let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":null}"#;
    assert!(parse(None, index).unwrap().references().is_empty());
}

#[test]
fn index_and_docker_kinds() {
    let index = format!(r#"{{"schemaVersion":2,"manifests":[{SUBJECT}],"artifactType":"a/b","subject":{OTHER}}}"#);
    let m = parse(Some(media_types::OCI_IMAGE_INDEX), &index).unwrap();
    assert_eq!(m.artifact_type(), Some("a/b"));
    assert_eq!(m.subject().unwrap().size, 728);
    assert_eq!(m.references().first().map(|c| c.kind), Some(ChildKind::Manifest));
    let no_type = r#"{"schemaVersion":2,"manifests":[]}"#.to_string();
    assert_eq!(parse(None, &no_type).unwrap().media_type(), media_types::OCI_IMAGE_INDEX);
    assert_eq!(parse(None, &no_type).unwrap().artifact_type(), None);

    let docker = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#.to_string();
    let d = parse(None, &docker).unwrap();
    assert!(matches!(d.manifest(), Manifest::DockerManifest(_)));
    assert_eq!(d.subject(), None);
    assert!(d.annotations().is_empty());
    let list = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[{SUBJECT}]}}"#
    );
    let l = parse(Some(media_types::DOCKER_MANIFEST_LIST), &list).unwrap();
    assert!(matches!(l.manifest(), Manifest::DockerManifestList(_)));
    assert_eq!(l.artifact_type(), None);
}

#[test]
fn artifact_manifest_spellings_of_subject() {
    let base = r#""mediaType":"application/vnd.oci.artifact.manifest.v1+json","artifactType":"application/vnd.example.sbom.v1""#;
    let rc2 = parse(None, &format!(r#"{{{base},"blobs":[{BLOB}],"subject":{SUBJECT}}}"#)).unwrap();
    assert_eq!(rc2.subject().unwrap().size, 517);
    assert_eq!(rc2.artifact_type(), Some("application/vnd.example.sbom.v1"));
    assert_eq!(rc2.references().len(), 1);
    let rc1 = parse(None, &format!(r#"{{{base},"refers":{SUBJECT}}}"#)).unwrap();
    assert_eq!(rc1.subject(), rc2.subject());
    let p2 = parse(None, &format!(r#"{{"schemaVersion":2,{base},"blobs":[{BLOB}],"manifests":[{OTHER},{SUBJECT}]}}"#))
        .unwrap();
    assert_eq!(p2.subject().unwrap().size, 728);
    assert_eq!(p2.subjects().len(), 2);
    assert!(matches!(
        parse(None, &format!(r#"{{{base},"refers":{SUBJECT},"subject":{SUBJECT}}}"#)),
        Err(OciError::MalformedManifest { .. })
    ));
    assert!(matches!(
        parse(None, &format!(r#"{{{base},"subject":{SUBJECT},"manifests":[{OTHER}]}}"#)),
        Err(OciError::MalformedManifest { .. })
    ));
}

#[test]
fn oras_artifact_manifest_and_its_zero_subject() {
    let base = r#""mediaType":"application/vnd.cncf.oras.artifact.manifest.v1+json","artifactType":"application/vnd.cncf.notary.v2""#;
    let m = parse(None, &format!(r#"{{{base},"blobs":[{BLOB}],"subject":{SUBJECT}}}"#)).unwrap();
    assert_eq!(m.subject().unwrap().size, 517);
    assert_eq!(m.artifact_type(), Some("application/vnd.cncf.notary.v2"));
    let zero = parse(None, &format!(r#"{{{base},"subject":{{"mediaType":"","digest":"","size":0}}}}"#)).unwrap();
    assert_eq!(zero.subject(), None);
    let missing_type = r#"{"mediaType":"application/vnd.cncf.oras.artifact.manifest.v1+json","blobs":[]}"#;
    assert!(matches!(parse(None, missing_type), Err(OciError::MalformedManifest { .. })));
}

#[test]
fn media_type_rules() {
    let body =
        format!(r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{EMPTY}}}"#);
    assert!(matches!(parse(Some(media_types::OCI_IMAGE_INDEX), &body), Err(OciError::MediaTypeMismatch { .. })));
    assert!(parse(Some("application/json"), &body).is_ok());
    assert!(parse(Some(""), &body).is_ok());
    // A content type alone decides when the body is silent.
    let silent = format!(r#"{{"schemaVersion":2,"config":{EMPTY},"layers":[]}}"#);
    assert!(parse(Some(media_types::OCI_IMAGE_MANIFEST), &silent).is_ok());
    assert!(matches!(parse(Some(media_types::OCI_IMAGE_INDEX), &silent), Err(OciError::MalformedManifest { .. })));
    assert!(matches!(parse(Some("application/vnd.example+json"), &silent), Err(OciError::UnknownMediaType { .. })));
    assert!(matches!(
        parse(None, r#"{"schemaVersion":1,"mediaType":"application/vnd.docker.distribution.manifest.v1+json"}"#),
        Err(OciError::UnknownMediaType { .. })
    ));
    assert!(matches!(parse(None, r#"{"schemaVersion":2}"#), Err(OciError::MissingMediaType)));
    assert!(matches!(parse(None, r#"{"mediaType":5}"#), Err(OciError::MalformedManifest { .. })));
    // Type confusion: a manifest that is also an index.
    let both = format!(r#"{{"schemaVersion":2,"config":{EMPTY},"manifests":[]}}"#);
    assert!(matches!(parse(None, &both), Err(OciError::MissingMediaType)));
    assert!(matches!(parse(Some(media_types::OCI_IMAGE_MANIFEST), &both), Err(OciError::MalformedManifest { .. })));
}

#[test]
fn schema_version_is_required_where_the_spec_requires_it() {
    for sv in
        ["", r#""schemaVersion":1,"#, r#""schemaVersion":"2","#, r#""schemaVersion":2.5,"#, r#""schemaVersion":-2,"#]
    {
        let text = format!(r#"{{{sv}"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{EMPTY}}}"#);
        assert!(matches!(parse(None, &text), Err(OciError::UnsupportedSchemaVersion { .. })), "{sv}");
    }
    let text = r#"{"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#.to_string();
    assert!(matches!(parse(None, &text), Err(OciError::UnsupportedSchemaVersion { .. })));
}

#[test]
fn malformed_truncated_oversized_and_hostile_input() {
    let good = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{EMPTY},"layers":[{BLOB}]}}"#
    );
    for cut in 0..good.len() {
        let err = ParsedManifest::parse(None, &good.as_bytes()[..cut]).unwrap_err();
        assert!(matches!(err, OciError::InvalidJson { .. }), "cut {cut}: {err:?}");
    }
    assert!(matches!(parse(None, "[]"), Err(OciError::InvalidJson { .. })));
    assert!(matches!(parse(None, "null"), Err(OciError::InvalidJson { .. })));
    assert!(matches!(ParsedManifest::parse(None, b"\xff\xfe"), Err(OciError::InvalidJson { .. })));
    let dup = format!(r#"{{"schemaVersion":2,"schemaVersion":2,"config":{EMPTY}}}"#);
    assert!(matches!(parse(None, &dup), Err(OciError::InvalidJson { .. })));
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    assert!(matches!(parse(None, &deep), Err(OciError::InvalidJson { .. })));
    let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
    assert!(matches!(ParsedManifest::parse(None, &huge), Err(OciError::ManifestTooLarge { .. })));
    // Missing config, bad descriptor digest, layers of the wrong type.
    for body in [
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}"#.to_string(),
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:zz","size":1}}"#.to_string(),
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{EMPTY},"layers":{{}}}}"#
        ),
    ] {
        assert!(matches!(parse(None, &body), Err(OciError::MalformedManifest { .. })), "{body}");
    }
    // Embedded data that disagrees with its descriptor.
    let lying = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"W10="}}"#.to_string();
    assert!(matches!(parse(None, &lying), Err(OciError::InvalidDescriptorData { .. })));
    // Hostile error text stays short.
    let long_type = "x".repeat(100_000);
    match parse(Some(&long_type), "{}") {
        Err(e) => assert!(e.to_string().len() < 400),
        Ok(_) => panic!("accepted"),
    }
}

#[test]
fn builders_write_what_notation_writes() {
    let envelope = Descriptor::for_content(media_types::JWS_ENVELOPE, b"sig");
    let subject: Descriptor = serde_json::from_str(SUBJECT).unwrap();
    let bytes = ImageManifest::artifact(media_types::NOTARY_SIGNATURE, vec![envelope])
        .with_subject(subject)
        .with_annotation("io.cncf.notary.x509chain.thumbprint#S256", "[]")
        .to_json_bytes()
        .unwrap();
    let text = core::str::from_utf8(&bytes).unwrap();
    assert!(text.starts_with(
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.cncf.notary.signature","config":{"mediaType":"application/vnd.oci.empty.v1+json""#
    ));
    let parsed = ParsedManifest::parse(None, &bytes).unwrap();
    assert_eq!(parsed.artifact_type(), Some(media_types::NOTARY_SIGNATURE));
    assert_eq!(ImageManifest::artifact("t", vec![]).layers, vec![Descriptor::empty()]);
    let oras = OrasArtifactManifest::new("t", vec![], None).to_json_bytes().unwrap();
    assert!(matches!(ParsedManifest::parse(None, &oras).unwrap().manifest(), Manifest::OrasArtifactManifest(_)));
    let art = ArtifactManifest::new("t", vec![]).to_json_bytes().unwrap();
    assert!(matches!(ParsedManifest::parse(None, &art).unwrap().manifest(), Manifest::ArtifactManifest(_)));
}

fn descriptor() -> impl Strategy<Value = Descriptor> {
    (
        "[a-z]{1,8}/[a-z.+-]{1,12}",
        proptest::collection::vec(any::<u8>(), 0..16),
        proptest::collection::btree_map("[a-z.]{1,6}", "[ -~]{0,8}", 0..3),
    )
        .prop_map(|(mt, content, annotations)| Descriptor { annotations, ..Descriptor::for_content(&mt, &content) })
}

proptest! {
    #[test]
    fn image_manifest_round_trip(
        config in descriptor(),
        layers in proptest::collection::vec(descriptor(), 0..4),
        subject in proptest::option::of(descriptor()),
        artifact_type in proptest::option::of("[a-z]{1,8}/[a-z.]{1,8}"),
        annotations in proptest::collection::btree_map("[a-z.]{1,6}", ".{0,8}", 0..3),
    ) {
        let m = ImageManifest { artifact_type, subject, annotations, ..ImageManifest::new(config, layers) };
        let bytes = m.to_json_bytes().unwrap();
        for ct in [None, Some(media_types::OCI_IMAGE_MANIFEST)] {
            let parsed = ParsedManifest::parse(ct, &bytes).unwrap();
            prop_assert_eq!(parsed.manifest(), &Manifest::ImageManifest(m.clone()));
            prop_assert_eq!(parsed.bytes(), &bytes[..]);
        }
    }

    #[test]
    fn index_round_trip(manifests in proptest::collection::vec(descriptor(), 0..4), subject in proptest::option::of(descriptor())) {
        let m = ImageIndex { subject, ..ImageIndex::new(manifests) };
        let bytes = m.to_json_bytes().unwrap();
        let parsed = ParsedManifest::parse(None, &bytes).unwrap();
        prop_assert_eq!(parsed.manifest(), &Manifest::ImageIndex(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = ParsedManifest::parse(None, &bytes);
        let _ = ParsedManifest::parse(Some(media_types::ORAS_ARTIFACT_MANIFEST), &bytes);
    }
}
