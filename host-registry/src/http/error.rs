//! Registry errors → HTTP status codes and the spec's error JSON `{"errors":[{"code","message","detail"}]}`.

use http::StatusCode;
use serde_json::{json, Value};

use crate::registry::RegistryError;

/// Status, spec code and detail for an error.
pub fn describe(error: &RegistryError) -> (StatusCode, &'static str, Value) {
    use RegistryError as E;
    match error {
        E::NameInvalid => (StatusCode::BAD_REQUEST, "NAME_INVALID", Value::Null),
        E::NameUnknown => (StatusCode::NOT_FOUND, "NAME_UNKNOWN", Value::Null),
        E::BlobUnknown => (StatusCode::NOT_FOUND, "BLOB_UNKNOWN", Value::Null),
        E::BlobUploadUnknown => (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", Value::Null),
        E::BlobUploadInvalid(_) => (StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID", Value::Null),
        E::RangeInvalid { size } => (StatusCode::RANGE_NOT_SATISFIABLE, "BLOB_UPLOAD_INVALID", json!({"size": size})),
        E::DigestInvalid(_) => (StatusCode::BAD_REQUEST, "DIGEST_INVALID", Value::Null),
        E::SizeInvalid => (StatusCode::BAD_REQUEST, "SIZE_INVALID", Value::Null),
        E::ManifestUnknown => (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", Value::Null),
        E::ManifestInvalid(_) => (StatusCode::BAD_REQUEST, "MANIFEST_INVALID", Value::Null),
        E::ManifestBlobUnknown(digests) => (
            StatusCode::BAD_REQUEST,
            "MANIFEST_BLOB_UNKNOWN",
            json!({"blobs": digests.iter().map(ToString::to_string).collect::<Vec<_>>()}),
        ),
        E::TagInvalid => (StatusCode::BAD_REQUEST, "TAG_INVALID", Value::Null),
        E::TooLarge { limit } => (StatusCode::PAYLOAD_TOO_LARGE, "SIZE_INVALID", json!({"limit": limit})),
        E::PaginationInvalid => (StatusCode::BAD_REQUEST, "PAGINATION_NUMBER_INVALID", Value::Null),
        E::Unsupported(_) => (StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", Value::Null),
        E::Unauthorized => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED", Value::Null),
        E::Denied => (StatusCode::FORBIDDEN, "DENIED", Value::Null),
        E::Storage(_) => (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", Value::Null),
        E::Body(_) => (StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID", Value::Null),
    }
}

/// The JSON body for an error.
pub fn body(error: &RegistryError) -> (StatusCode, Vec<u8>) {
    let (status, code, detail) = describe(error);
    let message = match error {
        // Never leak filesystem paths to clients.
        RegistryError::Storage(_) => "internal storage error".to_owned(),
        other => other.to_string(),
    };
    let mut entry = json!({"code": code, "message": message});
    if !detail.is_null() {
        entry["detail"] = detail;
    }
    let bytes = serde_json::to_vec(&json!({ "errors": [entry] })).unwrap_or_default();
    (status, bytes)
}
