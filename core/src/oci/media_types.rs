//! Media types nv2 reads and writes, exactly as the specifications spell them.

/// OCI image manifest.
pub const OCI_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI image layout marker file content type (for reference only; the file is `oci-layout`).
pub const OCI_LAYOUT_HEADER: &str = "application/vnd.oci.layout.header.v1+json";
/// Gzip-compressed tar layer.
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// Uncompressed tar layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// The empty descriptor's media type; its content is `{}`.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// Digest of the two bytes `{}`.
pub const OCI_EMPTY_DIGEST: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
/// The empty content itself.
pub const OCI_EMPTY_CONTENT: &[u8] = b"{}";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-platform), schema 2.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker container config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER_TAR_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// The withdrawn OCI artifact manifest (image-spec 1.1 rc1/rc2) and the prototype-2 artifact manifest.
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// ORAS prototype-3 artifact manifest (`subjectManifest`).
pub const OCI_ARTIFACT_MANIFEST_RC1: &str = "application/vnd.oci.artifact.manifest.v1-rc1+json";
/// ORAS 2021 artifact manifest (artifacts-spec draft.1).
pub const ORAS_ARTIFACT_MANIFEST: &str = "application/vnd.cncf.oras.artifact.manifest.v1+json";
/// Notary signature artifact type (notation 2.x) and config media type (notation 1.x).
pub const NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// Notary signature payload.
pub const NOTARY_PAYLOAD: &str = "application/vnd.cncf.notary.payload.v1+json";
/// JWS envelope.
pub const JWS: &str = "application/jose+json";
/// COSE envelope.
pub const COSE: &str = "application/cose";
/// SPDX JSON SBoM.
pub const SPDX_JSON: &str = "application/spdx+json";
/// CycloneDX JSON SBoM.
pub const CYCLONEDX_JSON: &str = "application/vnd.cyclonedx+json";

/// Every manifest media type nv2 understands, for `Accept` headers and registry validation.
pub const MANIFEST_MEDIA_TYPES: [&str; 7] = [
    OCI_IMAGE_MANIFEST,
    OCI_IMAGE_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_ARTIFACT_MANIFEST,
    OCI_ARTIFACT_MANIFEST_RC1,
    ORAS_ARTIFACT_MANIFEST,
];

/// Whether `media_type` (parameters ignored) names a manifest rather than a blob.
pub fn is_manifest(media_type: &str) -> bool {
    let bare = media_type.split(';').next().unwrap_or("").trim();
    MANIFEST_MEDIA_TYPES.contains(&bare)
}
