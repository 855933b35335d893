//! Gatekeeper's external data, both ends: the request a template makes (`external_data({"provider", "keys"})`),
//! the provider's HTTP answer (a `ProviderResponse`), and the value the Rego builtin returns to the template.
//!
//! The conversion mirrors Gatekeeper's (frameworks `externaldata.NewRegoResponse` / `HandleError`): items with a
//! non-empty `error` go to `errors` as `[key, error]`, all others to `responses` as `[key, value]`; `status_code`
//! is the provider's HTTP status (0 when Gatekeeper answered every key from its cache); `system_error` is the
//! response's `systemError`, or the transport error when the provider could not be asked.

use serde_json::{json, Map, Value};

/// The `apiVersion` of ProviderRequest and ProviderResponse bodies.
pub const API_VERSION: &str = "externaldata.gatekeeper.sh/v1beta1";

/// One `external_data` call made by a template: which Provider, and the keys (for nv2, image references).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalDataRequest {
    /// The Provider's name (`metadata.name` of the Provider object).
    pub provider: String,
    /// The keys, in the order the template listed them.
    pub keys: Vec<String>,
}

impl ExternalDataRequest {
    /// Reads the builtin's argument, `{"provider": "<name>", "keys": ["<key>", ...]}`, as Gatekeeper does.
    pub fn from_rego_argument(argument: &Value) -> Result<Self, ExternalDataError> {
        let provider = argument
            .get("provider")
            .and_then(Value::as_str)
            .ok_or_else(|| ExternalDataError::Request(format!("no string `provider` in {argument}")))?;
        let keys = argument
            .get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| ExternalDataError::Request(format!("no array `keys` in {argument}")))?
            .iter()
            .map(|key| {
                key.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ExternalDataError::Request(format!("key {key} is not a string")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { provider: provider.to_owned(), keys })
    }

    /// The body Gatekeeper POSTs to the provider for this call.
    pub fn provider_request_body(&self) -> Value {
        json!({"apiVersion": API_VERSION, "kind": "ProviderRequest", "request": {"keys": self.keys}})
    }
}

/// What `external_data` returns to the template.
#[derive(Clone, Debug, PartialEq)]
pub struct ExternalDataAnswer {
    /// `[key, value]` for each item without an error.
    pub responses: Vec<(String, Value)>,
    /// `[key, error]` for each item with one.
    pub errors: Vec<(String, String)>,
    /// The provider's HTTP status; 0 when no request was sent.
    pub status_code: u16,
    /// The provider's `systemError`, or why it could not be asked; empty when there was none.
    pub system_error: String,
    /// Whether the provider answered. When it could not be asked Gatekeeper's lists are `null`, not `[]`.
    pub provider_answered: bool,
}

impl ExternalDataAnswer {
    /// The answer for a provider's HTTP response: its status and its JSON body, a `ProviderResponse`. A body that
    /// is not one is an error here (Gatekeeper would turn it into a system error; a test wants to know).
    pub fn from_provider_response(status_code: u16, body: &Value) -> Result<Self, ExternalDataError> {
        let bad = |what: String| ExternalDataError::Response(what);
        let object = body.as_object().ok_or_else(|| bad(format!("the body is not a JSON object: {body}")))?;
        let api_version = object.get("apiVersion").and_then(Value::as_str);
        if api_version != Some(API_VERSION) {
            return Err(bad(format!("apiVersion is {api_version:?}, not {API_VERSION:?}")));
        }
        let kind = object.get("kind").and_then(Value::as_str);
        if kind != Some("ProviderResponse") {
            return Err(bad(format!("kind is {kind:?}, not \"ProviderResponse\"")));
        }
        let response = match object.get("response") {
            Some(Value::Object(response)) => response,
            None => &Map::new(),
            Some(other) => return Err(bad(format!("`response` is not an object: {other}"))),
        };
        let mut answer = Self {
            responses: Vec::new(),
            errors: Vec::new(),
            status_code,
            system_error: String::new(),
            provider_answered: true,
        };
        answer.system_error = optional_string(response, "systemError").map_err(bad)?;
        let items = match response.get("items") {
            Some(Value::Array(items)) => items.as_slice(),
            None | Some(Value::Null) => &[],
            Some(other) => return Err(bad(format!("`response.items` is not an array: {other}"))),
        };
        for item in items {
            let item = item.as_object().ok_or_else(|| bad(format!("an item is not an object: {item}")))?;
            let key = optional_string(item, "key").map_err(bad)?;
            let error = optional_string(item, "error").map_err(bad)?;
            if error.is_empty() {
                answer.responses.push((key, item.get("value").cloned().unwrap_or(Value::Null)));
            } else {
                answer.errors.push((key, error));
            }
        }
        Ok(answer)
    }

    /// What Gatekeeper's builtin returns when it could not ask the provider at all (unknown Provider, TLS or
    /// connection failure, timeout): no items, `reason` as the system error.
    pub fn unreachable(status_code: u16, reason: &str) -> Self {
        Self {
            responses: Vec::new(),
            errors: Vec::new(),
            status_code,
            system_error: reason.to_owned(),
            provider_answered: false,
        }
    }

    /// The builtin's return value as the template sees it.
    pub fn to_rego_json(&self) -> Value {
        let answered = self.provider_answered;
        let pairs = |pairs: Vec<Value>| if pairs.is_empty() && !answered { Value::Null } else { Value::Array(pairs) };
        json!({
            "responses": pairs(self.responses.iter().map(|(k, v)| json!([k, v])).collect()),
            "errors": pairs(self.errors.iter().map(|(k, e)| json!([k, e])).collect()),
            "status_code": self.status_code,
            "system_error": self.system_error,
        })
    }
}

/// A malformed external data request or provider response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExternalDataError {
    /// The template called `external_data` with something other than `{"provider": string, "keys": [string]}`.
    #[error("external_data request: {0}")]
    Request(String),
    /// The provider's body is not a ProviderResponse.
    #[error("provider response: {0}")]
    Response(String),
}

/// A string field that Go's `omitempty` may leave out: absent or null is empty, any other type is an error.
fn optional_string(object: &Map<String, Value>, field: &str) -> Result<String, String> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(format!("`{field}` is not a string: {other}")),
    }
}
