//! Gatekeeper ConstraintTemplates evaluated in-process with regorus, so a template's verdicts can be tested without
//! a cluster and against a real external data provider.
//!
//! This reproduces what Gatekeeper's Rego driver does for one constraint: the template's Rego (and its `libs`) is
//! compiled as Rego v0, the input is `{"review": <the request>, "parameters": <constraint.spec.parameters>}`, and the
//! result is the set `data.<package>.violation`, each element `{"msg": string, "details"?: any}`. The Gatekeeper
//! builtin `external_data` is a regorus extension that hands each call to a function of the caller's (a canned
//! ProviderResponse, or a real provider asked over HTTPS) and records the call.
//!
//! ```no_run
//! use nv2_e2e::gatekeeper::{ConstraintTemplate, ExternalDataAnswer, Review};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let template = ConstraintTemplate::from_file("deploy/gatekeeper/template.yaml".as_ref())?;
//! let pod = serde_json::json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "apps"},
//!     "spec": {"containers": [{"name": "app", "image": "registry.example/app:1"}]}});
//! let parameters = serde_json::json!({"exemptImages": []});
//! let evaluation = template.evaluate(&Review::from_object(&pod), &parameters, |request| {
//!     // Ask the provider here (POST request.provider_request_body()), then:
//!     ExternalDataAnswer::unreachable(0, &format!("no provider for {:?}", request.keys))
//! })?;
//! assert!(!evaluation.admitted());
//! # Ok(())
//! # }
//! ```

mod external_data;
mod review;

use std::path::Path;
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

pub use external_data::{ExternalDataAnswer, ExternalDataError, ExternalDataRequest, API_VERSION};
pub use review::{Review, ReviewError};

use crate::manifests::{self, ManifestError};

/// The admission target, the only one Gatekeeper's Kubernetes templates use.
pub const ADMISSION_TARGET: &str = "admission.k8s.gatekeeper.sh";

/// A ConstraintTemplate's admission target, ready to evaluate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstraintTemplate {
    /// Where it came from (a file path), named in errors.
    pub source: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.crd.spec.names.kind`: the kind of its Constraints.
    pub constraint_kind: String,
    /// `spec.targets[].rego` of the admission target.
    pub rego: String,
    /// `spec.targets[].libs`: extra Rego modules (packages under `lib.`).
    pub libs: Vec<String>,
}

/// The outcome of evaluating a template for one review.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The violations; Gatekeeper refuses the request (enforcementAction deny) when there is any.
    pub violations: Vec<Violation>,
    /// Every `external_data` call the template made, in order.
    pub external_data_calls: Vec<ExternalDataRequest>,
}

impl Evaluation {
    /// Whether Gatekeeper would admit the request (no violation).
    pub fn admitted(&self) -> bool {
        self.violations.is_empty()
    }
}

/// One element of the template's `violation` set.
#[derive(Clone, Debug, PartialEq)]
pub struct Violation {
    /// The message Gatekeeper shows (prefixed with the constraint's name).
    pub msg: String,
    /// `details`, `null` when absent.
    pub details: Value,
}

/// Why a template could not be loaded or evaluated.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The manifest could not be read or parsed.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The document is not a ConstraintTemplate this module can evaluate.
    #[error("{template}: not an evaluable ConstraintTemplate: {reason}")]
    NotATemplate {
        /// The file.
        template: String,
        /// What is missing or unsupported.
        reason: String,
    },
    /// regorus rejected the Rego.
    #[error("{template}: the Rego does not compile: {reason}")]
    Compile {
        /// The file.
        template: String,
        /// regorus's message.
        reason: String,
    },
    /// Evaluation failed (including a failing `external_data` call).
    #[error("{template}: evaluation failed: {reason}")]
    Evaluate {
        /// The file.
        template: String,
        /// regorus's message.
        reason: String,
    },
    /// A violation is not `{"msg": string, ...}`, which Gatekeeper rejects too.
    #[error("{template}: malformed violation {violation}")]
    Violation {
        /// The file.
        template: String,
        /// The offending element.
        violation: Value,
    },
    /// A canned provider response is not a ProviderResponse.
    #[error(transparent)]
    ExternalData(#[from] ExternalDataError),
}

impl ConstraintTemplate {
    /// Reads a ConstraintTemplate manifest (one YAML document).
    pub fn from_file(path: &Path) -> Result<Self, TemplateError> {
        let manifest = manifests::read_single_document(path)?;
        Self::from_manifest(&path.display().to_string(), &manifest)
    }

    /// Takes the admission target of a parsed ConstraintTemplate manifest (`source` names it in errors).
    pub fn from_manifest(source: &str, manifest: &Value) -> Result<Self, TemplateError> {
        let not = |reason: &str| TemplateError::NotATemplate { template: source.to_owned(), reason: reason.to_owned() };
        let text = |pointer: &str| manifest.pointer(pointer).and_then(Value::as_str);
        let api_version = text("/apiVersion").unwrap_or_default();
        if !api_version.starts_with("templates.gatekeeper.sh/") || text("/kind") != Some("ConstraintTemplate") {
            return Err(not("apiVersion is not templates.gatekeeper.sh/* or kind is not ConstraintTemplate"));
        }
        let name = text("/metadata/name").ok_or_else(|| not("no metadata.name"))?;
        let constraint_kind = text("/spec/crd/spec/names/kind").ok_or_else(|| not("no spec.crd.spec.names.kind"))?;
        let targets = manifest.pointer("/spec/targets").and_then(Value::as_array).ok_or_else(|| not("no targets"))?;
        let mut admission =
            targets.iter().filter(|t| t.get("target").and_then(Value::as_str) == Some(ADMISSION_TARGET));
        let target = match (admission.next(), admission.next()) {
            (Some(target), None) => target,
            _ => return Err(not("not exactly one admission.k8s.gatekeeper.sh target")),
        };
        let rego = target
            .get("rego")
            .and_then(Value::as_str)
            .ok_or_else(|| not("the target has no `rego` (only Rego v0 templates are supported, not `code`)"))?;
        let libs = match target.get("libs") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(libs)) => libs
                .iter()
                .map(|lib| lib.as_str().map(str::to_owned).ok_or_else(|| not("a lib is not a string")))
                .collect::<Result<_, _>>()?,
            Some(_) => return Err(not("libs is not a list")),
        };
        Ok(Self {
            source: source.to_owned(),
            name: name.to_owned(),
            constraint_kind: constraint_kind.to_owned(),
            rego: rego.to_owned(),
            libs,
        })
    }

    /// Evaluates the template for `review` with the constraint's `parameters`. Each `external_data` call is
    /// answered by `provider` (which may block, e.g. on an HTTPS request to a real provider).
    pub fn evaluate<F>(&self, review: &Review, parameters: &Value, provider: F) -> Result<Evaluation, TemplateError>
    where
        F: FnMut(&ExternalDataRequest) -> ExternalDataAnswer + Send + 'static,
    {
        let (mut engine, package) = self.compile()?;
        let calls: Arc<Mutex<Vec<ExternalDataRequest>>> = Arc::default();
        let extension = {
            let calls = Arc::clone(&calls);
            let provider = Arc::new(Mutex::new(provider));
            move |args: Vec<regorus::Value>| -> anyhow::Result<regorus::Value> {
                let argument = args.first().ok_or_else(|| anyhow::anyhow!("external_data takes one argument"))?;
                let request = ExternalDataRequest::from_rego_argument(&serde_json::to_value(argument)?)?;
                let answer = {
                    let mut provider =
                        provider.lock().map_err(|_| anyhow::anyhow!("the provider function panicked"))?;
                    provider(&request)
                };
                calls.lock().map_err(|_| anyhow::anyhow!("the call log is poisoned"))?.push(request);
                Ok(regorus::Value::from(answer.to_rego_json()))
            }
        };
        engine
            .add_extension(String::from("external_data"), 1, Box::new(extension))
            .map_err(|e| self.compile_error(e))?;
        engine.set_input(regorus::Value::from(json!({"review": review.as_json(), "parameters": parameters})));
        let result = engine
            .eval_rule(format!("{package}.violation"))
            .map_err(|e| TemplateError::Evaluate { template: self.source.clone(), reason: format!("{e:#}") })?;
        let violations = self.violations(result)?;
        let external_data_calls = calls.lock().map(|calls| calls.clone()).unwrap_or_default();
        Ok(Evaluation { violations, external_data_calls })
    }

    /// Evaluates with every `external_data` call answered by one provider HTTP response (`status_code`, `body`),
    /// as a provider would have sent it. The body is checked to be a ProviderResponse first.
    pub fn evaluate_with_provider_response(
        &self,
        review: &Review,
        parameters: &Value,
        status_code: u16,
        body: &Value,
    ) -> Result<Evaluation, TemplateError> {
        let answer = ExternalDataAnswer::from_provider_response(status_code, body)?;
        self.evaluate(review, parameters, move |_| answer.clone())
    }

    /// A fresh engine with the template's modules, in Gatekeeper's Rego v0 mode, and the template's package path
    /// (`data.<package>`).
    fn compile(&self) -> Result<(regorus::Engine, String), TemplateError> {
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(true);
        let package = engine.add_policy(self.source.clone(), self.rego.clone()).map_err(|e| self.compile_error(e))?;
        for (index, lib) in self.libs.iter().enumerate() {
            engine
                .add_policy(format!("{}#libs[{index}]", self.source), lib.clone())
                .map_err(|e| self.compile_error(e))?;
        }
        Ok((engine, package))
    }

    fn violations(&self, result: regorus::Value) -> Result<Vec<Violation>, TemplateError> {
        if result == regorus::Value::Undefined {
            return Ok(Vec::new());
        }
        let json = serde_json::to_value(&result)
            .map_err(|e| TemplateError::Evaluate { template: self.source.clone(), reason: e.to_string() })?;
        let elements = match json {
            Value::Array(elements) => elements,
            other => return Err(TemplateError::Violation { template: self.source.clone(), violation: other }),
        };
        elements
            .into_iter()
            .map(|element| match element.get("msg").and_then(Value::as_str) {
                Some(msg) => Ok(Violation {
                    msg: msg.to_owned(),
                    details: element.get("details").cloned().unwrap_or(Value::Null),
                }),
                None => Err(TemplateError::Violation { template: self.source.clone(), violation: element }),
            })
            .collect()
    }

    fn compile_error(&self, error: anyhow::Error) -> TemplateError {
        TemplateError::Compile { template: self.source.clone(), reason: format!("{error:#}") }
    }
}
