//! `input.review`, as Gatekeeper builds it for a template: the AdmissionRequest of a webhook call, or, for audit and
//! `gator test`, a request made from a bare object (kind, name, namespace, object; no operation). On DELETE
//! Gatekeeper copies `oldObject` into `object` (pkg/target `setObjectOnDelete`); so does [`Review`].

use serde_json::{json, Value};

/// The `review` half of a template's input.
#[derive(Clone, Debug, PartialEq)]
pub struct Review(Value);

/// An AdmissionReview without the parts Gatekeeper needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// Not `{"apiVersion": "admission.k8s.io/v1[beta1]", "kind": "AdmissionReview", "request": {...}}`.
    #[error("not an admission.k8s.io AdmissionReview with a request: {0}")]
    NotAnAdmissionReview(String),
    /// The request has neither `object` nor `oldObject` (the API server always sends one).
    #[error("the AdmissionReview's request has neither object nor oldObject")]
    NoObject,
}

impl Review {
    /// The review of an AdmissionReview (v1 or v1beta1) as the API server sends it to Gatekeeper.
    pub fn from_admission_review(admission_review: &Value) -> Result<Self, ReviewError> {
        let api_version = admission_review.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let kind = admission_review.get("kind").and_then(Value::as_str).unwrap_or_default();
        if !api_version.starts_with("admission.k8s.io/") || kind != "AdmissionReview" {
            return Err(ReviewError::NotAnAdmissionReview(format!("apiVersion {api_version:?}, kind {kind:?}")));
        }
        let request = match admission_review.get("request") {
            Some(request @ Value::Object(_)) => request.clone(),
            _ => return Err(ReviewError::NotAnAdmissionReview(String::from("no request object"))),
        };
        let present = |field: &str| request.get(field).is_some_and(|v| !v.is_null());
        if !present("object") && !present("oldObject") {
            return Err(ReviewError::NoObject);
        }
        let mut review = request;
        let deleting = review.get("operation").and_then(Value::as_str) == Some("DELETE");
        if let (true, Some(fields)) = (deleting, review.as_object_mut()) {
            if let Some(old) = fields.get("oldObject").cloned() {
                fields.insert(String::from("object"), old);
            }
        }
        Ok(Self(review))
    }

    /// The review of a bare object, as in Gatekeeper audit and `gator test`: no operation, no user.
    pub fn from_object(object: &Value) -> Self {
        let api_version = object.get("apiVersion").and_then(Value::as_str).unwrap_or_default();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let text = |pointer: &str| object.pointer(pointer).and_then(Value::as_str).unwrap_or_default();
        Self(json!({
            "kind": {"group": group, "version": version, "kind": text("/kind")},
            "name": text("/metadata/name"),
            "namespace": text("/metadata/namespace"),
            "operation": "",
            "object": object,
        }))
    }

    /// The review as the template reads it (`input.review`).
    pub fn as_json(&self) -> &Value {
        &self.0
    }
}
