//! Every media type nv2 reads or writes, by its exact registered name, so no other file spells one out.

/// OCI image manifest.
pub const OCI_IMAGE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index (also the body of every referrers list).
pub const OCI_IMAGE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config.
pub const OCI_IMAGE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The empty descriptor's media type; its content is `{}`.
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// Uncompressed OCI layer.
pub const OCI_LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
/// gzip-compressed OCI layer.
pub const OCI_LAYER_TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// zstd-compressed OCI layer.
pub const OCI_LAYER_TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// Non-distributable uncompressed OCI layer (deprecated in image-spec 1.1, still read).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar";
/// Non-distributable gzip OCI layer (deprecated, still read).
pub const OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
/// Withdrawn OCI artifact manifest (image-spec v1.1.0-rc1/rc2; prototype-2 used the same name).
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-platform), schema 2.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker container config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker schema 1 manifest (only named so it can be refused clearly; nv2 does not read it).
pub const DOCKER_MANIFEST_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";
/// Signed docker schema 1 manifest (refused, as above).
pub const DOCKER_MANIFEST_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
/// ORAS 2021 artifact manifest (artifacts-spec draft.1).
pub const ORAS_ARTIFACT_MANIFEST: &str = "application/vnd.cncf.oras.artifact.manifest.v1+json";
/// Notary Project signature artifact type (notation 2.x `artifactType`, notation 1.x `config.mediaType`).
pub const NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
/// Notary Project signature payload (`{"targetArtifact": descriptor}`).
pub const NOTARY_PAYLOAD: &str = "application/vnd.cncf.notary.payload.v1+json";
/// JWS envelope (flattened JSON serialisation).
pub const JWS_ENVELOPE: &str = "application/jose+json";
/// COSE_Sign1 envelope.
pub const COSE_ENVELOPE: &str = "application/cose";
/// prototype-2's notary artifact type.
pub const NOTARY_V2_PROTOTYPE: &str = "application/vnd.cncf.notary.v2";
/// prototype-2's JWT signature blob type.
pub const NOTARY_V2_PROTOTYPE_JWT: &str = "application/vnd.cncf.notary.signature.v2+jwt";

/// Every manifest media type nv2 parses (see [`super::manifest::ParsedManifest::parse`]).
pub const MANIFEST_TYPES: [&str; 6] = [
    OCI_IMAGE_MANIFEST,
    OCI_IMAGE_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_ARTIFACT_MANIFEST,
    ORAS_ARTIFACT_MANIFEST,
];

/// Whether a descriptor with this media type points at a manifest (walked as a node) rather than a blob.
pub fn is_manifest(media_type: &str) -> bool {
    MANIFEST_TYPES.contains(&media_type)
}

/// Whether this media type may carry a `subject` the referrers API lists (image manifest and index; the withdrawn
/// artifact manifests are indexed too, as oras-go and early zot/Harbor did).
pub fn can_be_referrer(media_type: &str) -> bool {
    matches!(media_type, OCI_IMAGE_MANIFEST | OCI_IMAGE_INDEX | OCI_ARTIFACT_MANIFEST | ORAS_ARTIFACT_MANIFEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_manifest_types() {
        assert!(is_manifest(OCI_IMAGE_INDEX) && is_manifest(DOCKER_MANIFEST) && is_manifest(ORAS_ARTIFACT_MANIFEST));
        assert!(!is_manifest(OCI_EMPTY) && !is_manifest(JWS_ENVELOPE) && !is_manifest(DOCKER_MANIFEST_V1));
        assert!(can_be_referrer(OCI_IMAGE_MANIFEST) && !can_be_referrer(DOCKER_MANIFEST));
    }
}
