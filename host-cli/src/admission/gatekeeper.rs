//! Gatekeeper's external data protocol (`externaldata.gatekeeper.sh/v1beta1`) for `/gatekeeper/verify` and
//! `/gatekeeper/mutate`, in the exact shape `deploy/gatekeeper/` relies on (see `deploy/README.md`).
//!
//! A request Gatekeeper cannot have sent (not JSON, another kind, no `keys`) is answered with HTTP 200 and
//! `systemError` set: that is Gatekeeper's convention for a provider that failed as a whole, and the template turns
//! it into one violation naming every image (fail closed). Any other status would fail closed too, but with
//! Gatekeeper's generic message instead of ours.

use serde_json::{json, Value};

use super::verifier::ImageOutcome;

/// The API version of provider requests and responses.
pub const EXTERNAL_DATA_API_VERSION: &str = "externaldata.gatekeeper.sh/v1beta1";

/// Most keys answered in one request (Gatekeeper sends one per image of an object).
pub const MAX_KEYS: usize = 1000;

/// The keys of a `ProviderRequest`, or the `systemError` to answer.
pub fn keys(body: &[u8]) -> Result<Vec<String>, String> {
    let request: Value = serde_json::from_slice(body).map_err(|e| format!("the ProviderRequest is not JSON: {e}"))?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let (kind, api_version) = (text(request.get("kind")), text(request.get("apiVersion")));
    if kind != "ProviderRequest" || api_version != EXTERNAL_DATA_API_VERSION {
        return Err(format!(
            "expected a ProviderRequest of apiVersion {EXTERNAL_DATA_API_VERSION}, got kind {kind:?} apiVersion \
             {api_version:?}"
        ));
    }
    let keys = request
        .get("request")
        .and_then(|r| r.get("keys"))
        .and_then(Value::as_array)
        .ok_or_else(|| "the ProviderRequest has no request.keys list".to_string())?;
    if keys.len() > MAX_KEYS {
        return Err(format!("the ProviderRequest has {} keys; at most {MAX_KEYS} are answered", keys.len()));
    }
    keys.iter()
        .map(|k| k.as_str().map(str::to_string).ok_or_else(|| format!("request.keys holds a non-string: {k}")))
        .collect()
}

/// A `ProviderResponse` with `items`, or with `system_error` and no items.
pub fn response(items: Vec<Value>, idempotent: bool, system_error: &str) -> Value {
    json!({
        "apiVersion": EXTERNAL_DATA_API_VERSION,
        "kind": "ProviderResponse",
        "response": {"idempotent": idempotent, "items": items, "systemError": system_error},
    })
}

/// `/gatekeeper/verify` items: the verification as `value`, or the reason as `error`.
pub fn verify_items(keys: &[String], outcomes: &[ImageOutcome]) -> Vec<Value> {
    keys.iter()
        .zip(outcomes)
        .map(|(key, outcome)| match outcome {
            Ok(verified) => json!({"key": key, "value": verified}),
            Err(reason) => json!({"key": key, "error": one_line(reason)}),
        })
        .collect()
}

/// `/gatekeeper/mutate` items: the pinned reference as `value` (a key that names a digest comes back unchanged,
/// so a second pass changes nothing), or the reason as `error`.
pub fn mutate_items(keys: &[String], outcomes: &[ImageOutcome]) -> Vec<Value> {
    keys.iter()
        .zip(outcomes)
        .map(|(key, outcome)| match outcome {
            Ok(_) if super::review::is_pinned(key) => json!({"key": key, "value": key}),
            Ok(verified) => json!({"key": key, "value": verified.reference}),
            Err(reason) => json!({"key": key, "error": one_line(reason)}),
        })
        .collect()
}

/// A reason on one line (Gatekeeper puts it into a violation message).
pub fn one_line(reason: &str) -> String {
    reason.split_whitespace().collect::<Vec<_>>().join(" ")
}
