//! Kubernetes `AdmissionReview` (`admission.k8s.io/v1`) for the webhook endpoints `/validate` and `/mutate`:
//! reading the review as the API server sends it, finding every image a workload runs, and writing the response
//! (a refusal with each image's reason, or an allowed review with a JSON Patch pinning tags to digests).
//!
//! Images are found in the pod spec of Pods, of the pod template of Deployments, ReplicaSets, StatefulSets,
//! DaemonSets, Jobs and ReplicationControllers, and of a CronJob's job template: `containers`, `initContainers`,
//! `ephemeralContainers` (`[*].image`) and image volumes (`volumes[*].image.reference`). Each is found with its
//! JSON pointer, so a patch replaces exactly that string.

use serde_json::{json, Map, Value};

use nv2_core::oci::Reference;

/// The API version of the reviews this server speaks.
pub const ADMISSION_API_VERSION: &str = "admission.k8s.io/v1";

/// Why a request body is not an `AdmissionReview` this server can answer (answered with HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// Not JSON.
    #[error("the body is not JSON: {0}")]
    NotJson(String),
    /// Another kind or API version.
    #[error(
        "expected an AdmissionReview of apiVersion admission.k8s.io/v1, got kind {kind:?} apiVersion {api_version:?}"
    )]
    WrongKind {
        /// `kind` as sent.
        kind: String,
        /// `apiVersion` as sent.
        api_version: String,
    },
    /// A required member is missing or of the wrong type.
    #[error("the AdmissionReview has no {0}")]
    Missing(&'static str),
}

/// One image in an object: where it is and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSite {
    /// RFC 6901 JSON pointer to the image string in the object.
    pub pointer: String,
    /// The image as written.
    pub image: String,
}

/// The parts of a review the server acts on.
#[derive(Clone, Debug)]
pub struct AdmissionRequest {
    /// `request.uid`, echoed in the response.
    pub uid: Value,
    /// `request.operation` (`CREATE`, `UPDATE`, `DELETE`, `CONNECT`).
    pub operation: String,
    /// Images of `request.object`.
    pub images: Vec<ImageSite>,
    /// Images of `request.oldObject` (UPDATE), as written.
    pub old_images: Vec<String>,
}

impl AdmissionRequest {
    /// Reads a review body.
    pub fn parse(body: &[u8]) -> Result<Self, ReviewError> {
        let review: Value = serde_json::from_slice(body).map_err(|e| ReviewError::NotJson(e.to_string()))?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        let (kind, api_version) = (text(review.get("kind")), text(review.get("apiVersion")));
        if kind != "AdmissionReview" || api_version != ADMISSION_API_VERSION {
            return Err(ReviewError::WrongKind { kind, api_version });
        }
        let request = review.get("request").filter(|r| r.is_object()).ok_or(ReviewError::Missing("request"))?;
        let uid = request.get("uid").filter(|u| u.as_str().is_some_and(|u| !u.is_empty()));
        let uid = uid.cloned().ok_or(ReviewError::Missing("request.uid"))?;
        let operation =
            request.get("operation").and_then(Value::as_str).ok_or(ReviewError::Missing("request.operation"))?;
        let resource_kind = request.get("kind").and_then(|k| k.get("kind")).and_then(Value::as_str);
        let images_of = |object: Option<&Value>| match (object, resource_kind) {
            (Some(object), Some(kind)) if object.is_object() => images(kind, object),
            _ => Vec::new(),
        };
        let images = images_of(request.get("object"));
        let old_images = images_of(request.get("oldObject")).into_iter().map(|site| site.image).collect();
        Ok(AdmissionRequest { uid, operation: operation.to_string(), images, old_images })
    }

    /// The images to verify: none on DELETE and CONNECT; on UPDATE those the stored object does not already run
    /// (a label change on a running workload never waits on a registry); on CREATE all.
    pub fn images_to_verify(&self) -> Vec<String> {
        let mut wanted: Vec<String> = Vec::new();
        if !matches!(self.operation.as_str(), "CREATE" | "UPDATE") {
            return wanted;
        }
        for site in &self.images {
            let known = self.operation == "UPDATE" && self.old_images.contains(&site.image);
            if !known && !wanted.contains(&site.image) {
                wanted.push(site.image.clone());
            }
        }
        wanted
    }
}

/// Every image of an object of `kind` (other kinds have none).
pub fn images(kind: &str, object: &Value) -> Vec<ImageSite> {
    let spec_path: &[&str] = match kind {
        "Pod" => &["spec"],
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" | "ReplicationController" => {
            &["spec", "template", "spec"]
        }
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return Vec::new(),
    };
    let mut spec = object;
    for key in spec_path {
        match spec.get(key) {
            Some(next) => spec = next,
            None => return Vec::new(),
        }
    }
    let base: String = spec_path.iter().map(|k| format!("/{}", escape_pointer_segment(k))).collect();
    let mut sites = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, container) in spec.get(list).and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(image) = container.get("image").and_then(Value::as_str) {
                sites.push(ImageSite { pointer: format!("{base}/{list}/{i}/image"), image: image.to_string() });
            }
        }
    }
    for (i, volume) in spec.get("volumes").and_then(Value::as_array).into_iter().flatten().enumerate() {
        if let Some(image) = volume.get("image").and_then(|v| v.get("reference")).and_then(Value::as_str) {
            sites.push(ImageSite { pointer: format!("{base}/volumes/{i}/image/reference"), image: image.to_string() });
        }
    }
    sites
}

/// The review answering `uid`: allowed, or refused with `message` (HTTP 403 in `status`).
pub fn response(uid: &Value, refusals: &[(String, String)], patch: Option<&[Value]>) -> Value {
    let mut response = Map::new();
    response.insert("uid".into(), uid.clone());
    response.insert("allowed".into(), Value::Bool(refusals.is_empty()));
    if !refusals.is_empty() {
        let message: Vec<String> = refusals.iter().map(|(image, reason)| format!("{image}: {reason}")).collect();
        response.insert("status".into(), json!({"code": 403, "message": message.join("; ")}));
    } else if let Some(patch) = patch.filter(|p| !p.is_empty()) {
        let bytes = serde_json::to_vec(patch).unwrap_or_default();
        response.insert("patchType".into(), Value::from("JSONPatch"));
        response.insert("patch".into(), Value::from(nv2_core::verify::wire::encode_base64(&bytes)));
    }
    json!({"apiVersion": ADMISSION_API_VERSION, "kind": "AdmissionReview", "response": response})
}

/// Whether `image` already names a digest (nothing to pin).
pub fn is_pinned(image: &str) -> bool {
    Reference::parse(image).is_ok_and(|r| r.digest.is_some())
}

/// A JSON Patch `replace` of the string at `pointer` (built with [`escape_pointer_segment`]) with `value`.
pub fn replace(pointer: &str, value: &str) -> Value {
    json!({"op": "replace", "path": pointer, "value": value})
}

/// RFC 6901 escaping of one pointer segment (`~` → `~0`, `/` → `~1`).
pub fn escape_pointer_segment(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}
