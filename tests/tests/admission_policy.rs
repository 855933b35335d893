//! The Kubernetes/Gatekeeper deployment files in deploy/, checked with the real tools:
//!
//! - `opa test` runs the template's Rego unit tests (deploy/gatekeeper/test/*_test.rego) with `external_data`
//!   mocked (OPA 1.x mocks a builtin with `with external_data as <function>` once a capabilities file declares it);
//! - `gator verify` runs deploy/gatekeeper/test/suite.yaml offline, and is shown unable to compile the real
//!   template (Gatekeeper's external_data builtin exists only in a cluster), which is why the suite uses
//!   offline-template.yaml, checked here to be the real template plus one documented stand-in;
//! - regorus evaluates the real template in-process with canned provider responses in the exact shape of the
//!   provider contract, and agrees with gator on every case of the suite;
//! - every YAML file under deploy/ parses, has a known kind, and the Providers, webhook configurations, Deployment
//!   and Service agree with the provider contract (paths, service, port) and with each other;
//! - deploy/tls/make-certificates.sh issues a certificate openssl accepts for the Service's names.
//!
//! opa, gator and openssl come from `$NV2_PEERS_DIR/bin`, `$HOME/.cache/nv2/peers/bin`, `/tmp/gatorprobe/bin` or
//! PATH; when one is missing the test fails with CI=true and is skipped (with a printed reason) otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nv2_e2e::gatekeeper::{ConstraintTemplate, Evaluation, ExternalDataAnswer, Review};
use nv2_e2e::manifests::{deploy_dir, read_documents, read_single_document, repository_root, yaml_files};
use nv2_e2e::peers;
use serde_json::{json, Value};

/// The provider contract (binding for `nv2 admission serve`).
const SERVICE: &str = "nv2-admission";
const NAMESPACE: &str = "nv2-system";
const PORT: u64 = 8443;
const VERIFY_URL: &str = "https://nv2-admission.nv2-system:8443/gatekeeper/verify";
const MUTATE_URL: &str = "https://nv2-admission.nv2-system:8443/gatekeeper/mutate";
/// The documented caBundle placeholder, replaced at apply time (deploy/README.md).
const CA_BUNDLE_PLACEHOLDER: &str = "NV2_CA_BUNDLE_BASE64";

/// What offline-template.yaml appends to the real template's Rego (and nothing else may differ).
const GATOR_STAND_IN: &str = r#"
# --- gator only, not in template.yaml -------------------------------------------------------------------------
# Gatekeeper registers the external_data builtin only in the cluster, so template.yaml does not compile in gator
# ("undefined function external_data"). This rule stands in for it with the answer Gatekeeper's builtin gives
# when it cannot reach the provider: no responses, no errors, a system error. So the suite checks the rest of
# the template (images, kinds, exemptions, operations), and that an unreachable provider refuses every image.
external_data(request) := {
	"responses": null,
	"errors": null,
	"status_code": 0,
	"system_error": sprintf("provider %s unreachable: gator runs without external data", [request.provider]),
}
"#;

fn gatekeeper(path: &str) -> PathBuf {
    deploy_dir().join("gatekeeper").join(path)
}

fn document(path: &Path) -> Value {
    read_single_document(path).unwrap_or_else(|e| panic!("{e}"))
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("no string at {pointer} in {value}"))
}

fn strings(value: &Value, pointer: &str) -> Vec<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_array)
        .unwrap_or_else(|| panic!("no list at {pointer} in {value}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_else(|| panic!("{v} at {pointer} is not a string")).to_owned())
        .collect()
}

fn run(tool: &Path, args: &[&str], dir: &Path) -> Output {
    Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()))
}

fn output_text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

// --- the Rego and its copies ----------------------------------------------------------------------------------

#[test]
fn template_rego_is_the_rego_file() {
    let template = ConstraintTemplate::from_file(&gatekeeper("template.yaml")).unwrap();
    let file = fs::read_to_string(gatekeeper("nv2signedimages.rego")).unwrap();
    assert!(
        template.rego == file,
        "deploy/gatekeeper/template.yaml's Rego differs from nv2signedimages.rego: paste the file into the template"
    );
    assert_eq!(template.name, "nv2signedimages");
    assert_eq!(template.constraint_kind, "Nv2SignedImages");
    assert!(template.libs.is_empty());
    // One external_data call, to the Provider of provider-verify.yaml.
    let provider = text(&document(&gatekeeper("provider-verify.yaml")), "/metadata/name").to_owned();
    assert_eq!(template.rego.matches("external_data(").count(), 1);
    assert!(template.rego.contains(&format!(r#"external_data({{"provider": "{provider}", "keys": checked_images}})"#)));
}

#[test]
fn offline_template_is_the_template_plus_the_stand_in() {
    let real = document(&gatekeeper("template.yaml"));
    let offline = document(&gatekeeper("test/offline-template.yaml"));
    assert_eq!(real["metadata"], offline["metadata"]);
    assert_eq!(real["spec"]["crd"], offline["spec"]["crd"]);
    let real_rego = text(&real, "/spec/targets/0/rego");
    let offline_rego = text(&offline, "/spec/targets/0/rego");
    assert_eq!(offline_rego, format!("{real_rego}{GATOR_STAND_IN}"), "offline-template.yaml drifted");
    let mut without_rego = offline.clone();
    without_rego["spec"]["targets"][0]["rego"] = real["spec"]["targets"][0]["rego"].clone();
    assert_eq!(real, without_rego);
}

#[test]
fn opa_unit_tests_pass() {
    let Some(opa) = peers::require("opa") else { return };
    let dir = tempfile::tempdir().unwrap();
    // external_data is Gatekeeper's builtin: declare it so the Rego type-checks and `with` can mock it.
    let current = run(&opa, &["capabilities", "--current"], dir.path());
    assert!(current.status.success(), "opa capabilities: {}", output_text(&current));
    let mut capabilities: Value = serde_json::from_slice(&current.stdout).unwrap();
    capabilities["builtins"].as_array_mut().unwrap().push(json!({
        "name": "external_data",
        "decl": {"type": "function", "args": [{"type": "any"}], "result": {"type": "any"}}
    }));
    let capabilities_file = dir.path().join("capabilities.json");
    fs::write(&capabilities_file, serde_json::to_vec(&capabilities).unwrap()).unwrap();

    let policy = gatekeeper("nv2signedimages.rego");
    let tests = gatekeeper("test/nv2signedimages_test.rego");
    let (policy, tests) = (policy.to_str().unwrap(), tests.to_str().unwrap());
    let caps = capabilities_file.to_str().unwrap();

    let check = run(&opa, &["check", "--v0-compatible", "--strict", "--capabilities", caps, policy], dir.path());
    assert!(check.status.success(), "opa check --strict: {}", output_text(&check));
    let unformatted = run(&opa, &["fmt", "--v0-compatible", "--list", policy, tests], dir.path());
    assert!(
        unformatted.status.success() && unformatted.stdout.is_empty(),
        "run opa fmt: {}",
        output_text(&unformatted)
    );

    let result = run(&opa, &["test", "--v0-compatible", "--capabilities", caps, "-v", policy, tests], dir.path());
    let report = output_text(&result);
    let declared = fs::read_to_string(gatekeeper("test/nv2signedimages_test.rego"))
        .unwrap()
        .lines()
        .filter(|line| line.starts_with("test_"))
        .count();
    assert!(result.status.success(), "opa test failed:\n{report}");
    assert!(declared >= 20, "only {declared} Rego tests");
    assert!(report.contains(&format!("PASS: {declared}/{declared}")), "not every Rego test ran:\n{report}");
    println!("opa test: {declared}/{declared} Rego tests passed");
}

// --- gator ----------------------------------------------------------------------------------------------------

fn suite_cases() -> Vec<(String, String, String, Vec<Value>)> {
    let suite = document(&gatekeeper("test/suite.yaml"));
    let mut cases = Vec::new();
    for test in suite["tests"].as_array().unwrap() {
        for case in test["cases"].as_array().unwrap() {
            cases.push((
                text(case, "/name").to_owned(),
                text(test, "/constraint").to_owned(),
                text(case, "/object").to_owned(),
                case["assertions"].as_array().unwrap().clone(),
            ));
        }
    }
    cases
}

#[test]
fn gator_verifies_the_suite() {
    let Some(gator) = peers::require("gator") else { return };
    let suite = gatekeeper("test/suite.yaml");
    let result = run(&gator, &["verify", "-v", suite.to_str().unwrap()], &repository_root());
    let report = output_text(&result);
    assert!(result.status.success(), "gator verify failed:\n{report}");
    let cases = suite_cases();
    for (name, _, _, _) in &cases {
        assert!(report.contains(&format!("--- PASS: {name}\t")), "case {name} did not pass:\n{report}");
    }
    assert!(cases.len() >= 17);
    println!("gator verify: {} cases passed", cases.len());
}

#[test]
fn gator_cannot_compile_the_real_template_offline() {
    let Some(gator) = peers::require("gator") else { return };
    let dir = tempfile::tempdir().unwrap();
    fs::copy(gatekeeper("template.yaml"), dir.path().join("template.yaml")).unwrap();
    fs::copy(gatekeeper("constraint.yaml"), dir.path().join("constraint.yaml")).unwrap();
    fs::copy(gatekeeper("test/objects/deployment.yaml"), dir.path().join("object.yaml")).unwrap();
    fs::write(
        dir.path().join("suite.yaml"),
        "apiVersion: test.gatekeeper.sh/v1alpha1\nkind: Suite\ntests:\n- name: real\n  template: template.yaml\n  \
         constraint: constraint.yaml\n  cases:\n  - name: any\n    object: object.yaml\n    assertions:\n    - \
         violations: yes\n",
    )
    .unwrap();
    let result = run(&gator, &["verify", "suite.yaml"], dir.path());
    let report = output_text(&result);
    // If this starts passing, gator learnt external_data: the suite could then use template.yaml itself.
    assert!(!result.status.success(), "gator compiled external_data:\n{report}");
    assert!(report.contains("undefined function external_data"), "unexpected gator failure:\n{report}");
}

// --- regorus: the real template with provider-contract answers ------------------------------------------------

const APP: &str = "registry.example/team/app:1.0";
const SIDECAR: &str = "registry.example/team/sidecar:3";
const SETUP: &str = "registry.example/team/setup:2";
const DIGEST: &str = "sha256:5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90";

fn template() -> ConstraintTemplate {
    ConstraintTemplate::from_file(&gatekeeper("template.yaml")).unwrap()
}

fn pod() -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "apps"},
        "spec": {
            "initContainers": [{"name": "setup", "image": SETUP}],
            "containers": [{"name": "app", "image": APP}, {"name": "proxy", "image": SIDECAR}]
        }
    })
}

fn admission_review(operation: &str, object: Value, old_object: Value) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "0b4f6c2e-3d1a-4e7b-9c55-2f1e8d7a6b90",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "name": "web", "namespace": "apps", "operation": operation,
            "userInfo": {"username": "alice"},
            "object": object, "oldObject": old_object
        }
    })
}

fn verified_item(image: &str) -> Value {
    let repository = image.rsplit_once(':').map_or(image, |(repository, _)| repository);
    json!({"key": image, "value": {
        "verified": true, "digest": DIGEST, "reference": format!("{repository}@{DIGEST}"),
        "signer": "C=US, O=Example, CN=release", "policy": "signed-images"
    }})
}

fn provider_response(items: Vec<Value>, system_error: &str) -> Value {
    json!({
        "apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderResponse",
        "response": {"idempotent": false, "items": items, "systemError": system_error}
    })
}

fn evaluate(review: &Review, body: &Value) -> Evaluation {
    template().evaluate_with_provider_response(review, &json!({"exemptImages": []}), 200, body).unwrap()
}

#[test]
fn regorus_admits_when_every_image_verified_and_asks_once_for_all() {
    let body = provider_response(vec![verified_item(SETUP), verified_item(APP), verified_item(SIDECAR)], "");
    let evaluation = evaluate(&Review::from_object(&pod()), &body);
    assert!(evaluation.admitted(), "{:?}", evaluation.violations);
    assert_eq!(evaluation.external_data_calls.len(), 1, "one batched call");
    let call = &evaluation.external_data_calls[0];
    assert_eq!(call.provider, "nv2-verify");
    assert_eq!(
        call.keys.iter().collect::<BTreeSet<_>>(),
        BTreeSet::from([&APP.to_owned(), &SIDECAR.into(), &SETUP.into()])
    );
    assert_eq!(call.provider_request_body()["kind"], "ProviderRequest");
}

#[test]
fn regorus_refuses_an_image_the_provider_refused_naming_it_and_the_reason() {
    let reason = "no signature by a trusted identity (policy signed-images)";
    let body =
        provider_response(vec![verified_item(SETUP), json!({"key": APP, "error": reason}), verified_item(SIDECAR)], "");
    let evaluation = evaluate(&Review::from_object(&pod()), &body);
    assert_eq!(evaluation.violations.len(), 1, "{:?}", evaluation.violations);
    let violation = &evaluation.violations[0];
    assert!(violation.msg.contains(APP) && violation.msg.contains(reason), "{}", violation.msg);
    assert_eq!(violation.details, json!({"image": APP, "reason": reason}));
}

#[test]
fn regorus_refuses_an_image_missing_from_the_answer() {
    let body = provider_response(vec![verified_item(SETUP), verified_item(APP)], "");
    let evaluation = evaluate(&Review::from_object(&pod()), &body);
    assert_eq!(evaluation.violations.len(), 1, "{:?}", evaluation.violations);
    assert_eq!(evaluation.violations[0].details, json!({"image": SIDECAR, "reason": "no answer"}));
}

#[test]
fn regorus_refuses_everything_on_a_system_error_or_an_unreachable_provider() {
    let body = provider_response(Vec::new(), "registry.example: connection refused");
    let evaluation = evaluate(&Review::from_object(&pod()), &body);
    assert_eq!(evaluation.violations.len(), 1, "{:?}", evaluation.violations);
    assert!(evaluation.violations[0].msg.contains("registry.example: connection refused"));

    let unreachable = template()
        .evaluate(&Review::from_object(&pod()), &json!({}), |_| {
            ExternalDataAnswer::unreachable(500, "failed to send external data request: dial tcp: i/o timeout")
        })
        .unwrap();
    assert_eq!(unreachable.violations.len(), 1);
    let images = unreachable.violations[0].details["images"].as_array().unwrap().len();
    assert_eq!(images, 3, "{:?}", unreachable.violations);
}

#[test]
fn regorus_refuses_a_verdict_sent_with_a_failure_status() {
    let body = provider_response(vec![verified_item(SETUP), verified_item(APP), verified_item(SIDECAR)], "");
    let evaluation =
        template().evaluate_with_provider_response(&Review::from_object(&pod()), &json!({}), 503, &body).unwrap();
    assert_eq!(evaluation.violations.len(), 1, "{:?}", evaluation.violations);
    assert!(evaluation.violations[0].msg.contains("HTTP 503"));
}

#[test]
fn regorus_follows_operations_and_exemptions() {
    let unreachable = |_: &_| ExternalDataAnswer::unreachable(0, "down");
    let params = json!({"exemptImages": ["registry.example/team/*"]});
    let exempt = template().evaluate(&Review::from_object(&pod()), &params, unreachable).unwrap();
    assert!(exempt.admitted() && exempt.external_data_calls.is_empty(), "{exempt:?}");

    let delete = Review::from_admission_review(&admission_review("DELETE", Value::Null, pod())).unwrap();
    assert_eq!(delete.as_json()["object"], pod(), "Gatekeeper copies oldObject into object on DELETE");
    let deleted = template().evaluate(&delete, &json!({}), unreachable).unwrap();
    assert!(deleted.admitted() && deleted.external_data_calls.is_empty());

    let mut debugged = pod();
    debugged["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": "registry.example/tools/debug:1"}]);
    let update = Review::from_admission_review(&admission_review("UPDATE", debugged, pod())).unwrap();
    let updated = template().evaluate(&update, &json!({}), unreachable).unwrap();
    assert_eq!(updated.external_data_calls.len(), 1);
    assert_eq!(updated.external_data_calls[0].keys, vec!["registry.example/tools/debug:1"]);
    assert_eq!(updated.violations.len(), 1);
}

#[test]
fn provider_responses_outside_the_protocol_are_rejected() {
    let good = provider_response(vec![json!({"key": APP, "error": "refused"}), verified_item(SIDECAR)], "");
    let answer = ExternalDataAnswer::from_provider_response(200, &good).unwrap();
    assert_eq!(answer.errors, vec![(APP.to_owned(), String::from("refused"))]);
    assert_eq!(answer.responses.len(), 1);
    assert_eq!(answer.to_rego_json()["status_code"], 200);
    let mut wrong_kind = good.clone();
    wrong_kind["kind"] = json!("ProviderRequest");
    assert!(ExternalDataAnswer::from_provider_response(200, &wrong_kind).is_err());
    let mut wrong_items = good.clone();
    wrong_items["response"]["items"] = json!({"key": APP});
    assert!(ExternalDataAnswer::from_provider_response(200, &wrong_items).is_err());
    let mut wrong_error = good;
    wrong_error["response"]["items"][0]["error"] = json!(true);
    assert!(ExternalDataAnswer::from_provider_response(200, &wrong_error).is_err());
    assert!(Review::from_admission_review(&json!({"kind": "Pod"})).is_err());
}

/// The Constraint's match as far as the suite needs it: kinds and excluded namespaces.
fn constraint_applies(constraint: &Value, object: &Value) -> bool {
    let kind = object["kind"].as_str().unwrap_or_default();
    let group = object["apiVersion"].as_str().unwrap_or_default().rsplit_once('/').map_or("", |(g, _)| g);
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
    let kinds = constraint["spec"]["match"]["kinds"].as_array().unwrap().iter().any(|entry| {
        strings(entry, "/apiGroups").iter().any(|g| g == group) && strings(entry, "/kinds").iter().any(|k| k == kind)
    });
    kinds && !strings(constraint, "/spec/match/excludedNamespaces").iter().any(|n| n == namespace)
}

#[test]
fn regorus_agrees_with_the_gator_suite() {
    // The real template with the answer gator's stand-in gives: the same verdicts, from a second Rego engine.
    let template = template();
    let suite_dir = gatekeeper("test");
    for (name, constraint_path, object_path, assertions) in suite_cases() {
        let constraint = document(&suite_dir.join(&constraint_path));
        let object = document(&suite_dir.join(&object_path));
        let review = if object["kind"] == "AdmissionReview" {
            Review::from_admission_review(&object).unwrap()
        } else {
            Review::from_object(&object)
        };
        let violations = if constraint_applies(&constraint, &review.as_json()["object"]) {
            let unreachable = |request: &nv2_e2e::gatekeeper::ExternalDataRequest| {
                let reason = format!("provider {} unreachable: gator runs without external data", request.provider);
                ExternalDataAnswer::unreachable(0, &reason)
            };
            template.evaluate(&review, &constraint["spec"]["parameters"], unreachable).unwrap().violations.len()
        } else {
            0
        };
        let expected = assertions.iter().find(|a| a.get("message").is_none()).map(|a| &a["violations"]);
        match expected.unwrap_or_else(|| panic!("case {name} has no count assertion")) {
            Value::Number(n) => assert_eq!(Some(violations as u64), n.as_u64(), "case {name}"),
            Value::String(s) if s == "no" => assert_eq!(violations, 0, "case {name}"),
            Value::String(s) if s == "yes" => assert!(violations > 0, "case {name}"),
            Value::Bool(false) => assert_eq!(violations, 0, "case {name}"),
            Value::Bool(true) => assert!(violations > 0, "case {name}"),
            other => panic!("case {name}: unknown assertion {other}"),
        }
    }
}

// --- the manifests ---------------------------------------------------------------------------------------------

#[test]
fn every_deploy_manifest_parses_and_has_a_known_kind() {
    let known: BTreeSet<(&str, &str)> = BTreeSet::from([
        ("v1", "Namespace"),
        ("v1", "ServiceAccount"),
        ("v1", "Service"),
        ("v1", "Secret"),
        ("v1", "ConfigMap"),
        ("v1", "Pod"),
        ("v1", "ReplicationController"),
        ("apps/v1", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("policy/v1", "PodDisruptionBudget"),
        ("admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
        ("admission.k8s.io/v1", "AdmissionReview"),
        ("externaldata.gatekeeper.sh/v1beta1", "Provider"),
        ("templates.gatekeeper.sh/v1", "ConstraintTemplate"),
        ("constraints.gatekeeper.sh/v1beta1", "Nv2SignedImages"),
        ("mutations.gatekeeper.sh/v1", "Assign"),
        ("test.gatekeeper.sh/v1alpha1", "Suite"),
    ]);
    let files = yaml_files(&deploy_dir()).unwrap();
    let mut documents = 0;
    for file in &files {
        for doc in read_documents(file).unwrap_or_else(|e| panic!("{e}")) {
            let pair = (text(&doc, "/apiVersion"), text(&doc, "/kind"));
            assert!(known.contains(&pair), "{}: unexpected {pair:?}", file.display());
            let namespaced = !matches!(
                pair.1,
                "Namespace"
                    | "ValidatingWebhookConfiguration"
                    | "MutatingWebhookConfiguration"
                    | "Provider"
                    | "ConstraintTemplate"
                    | "Nv2SignedImages"
                    | "Assign"
                    | "Suite"
                    | "AdmissionReview"
            );
            if namespaced && file.starts_with(deploy_dir().join("provider")) {
                assert_eq!(text(&doc, "/metadata/namespace"), NAMESPACE, "{}", file.display());
            }
            documents += 1;
        }
    }
    assert!(files.len() >= 30 && documents >= 40, "{} files, {documents} documents", files.len());
    println!("deploy/: {} YAML files, {documents} documents", files.len());
}

#[test]
fn providers_call_the_admission_service() {
    let service = document(&deploy_dir().join("provider/30-service.yaml"));
    let host = format!("{}.{}", text(&service, "/metadata/name"), text(&service, "/metadata/namespace"));
    assert_eq!(host, format!("{SERVICE}.{NAMESPACE}"));
    assert_eq!(service["spec"]["ports"][0]["port"], PORT);
    for (file, name, url) in
        [("provider-verify.yaml", "nv2-verify", VERIFY_URL), ("provider-mutate.yaml", "nv2-mutate", MUTATE_URL)]
    {
        let provider = document(&gatekeeper(file));
        assert_eq!(text(&provider, "/metadata/name"), name);
        assert_eq!(text(&provider, "/spec/url"), url);
        assert!(url.starts_with(&format!("https://{host}:{PORT}/")));
        let timeout = provider["spec"]["timeout"].as_u64().unwrap();
        assert!((1..=9).contains(&timeout), "{file}: timeout {timeout} s");
        assert_eq!(text(&provider, "/spec/caBundle"), CA_BUNDLE_PLACEHOLDER);
    }
    // The placeholder is not base64, so a bundle left unfilled is refused rather than half-working.
    assert!(CA_BUNDLE_PLACEHOLDER.contains('_'));
}

fn workload_resources() -> BTreeSet<(String, String, String)> {
    [
        ("", "pods"),
        ("", "pods/ephemeralcontainers"),
        ("", "replicationcontrollers"),
        ("apps", "deployments"),
        ("apps", "replicasets"),
        ("apps", "statefulsets"),
        ("apps", "daemonsets"),
        ("batch", "jobs"),
        ("batch", "cronjobs"),
    ]
    .into_iter()
    .map(|(group, resource)| (group.to_owned(), "v1".to_owned(), resource.to_owned()))
    .collect()
}

#[test]
fn webhook_configurations_follow_the_contract() {
    for (file, kind, path) in [
        ("validating-webhook.yaml", "ValidatingWebhookConfiguration", "/validate"),
        ("mutating-webhook.yaml", "MutatingWebhookConfiguration", "/mutate"),
    ] {
        let config = document(&deploy_dir().join("webhook").join(file));
        assert_eq!(text(&config, "/apiVersion"), "admissionregistration.k8s.io/v1");
        assert_eq!(text(&config, "/kind"), kind);
        let webhooks = config["webhooks"].as_array().unwrap();
        assert_eq!(webhooks.len(), 1, "{file}");
        let hook = &webhooks[0];
        assert_eq!(
            hook["clientConfig"]["service"],
            json!({"namespace": NAMESPACE, "name": SERVICE, "path": path, "port": PORT}),
            "{file}"
        );
        assert_eq!(text(hook, "/clientConfig/caBundle"), CA_BUNDLE_PLACEHOLDER);
        assert_eq!(text(hook, "/failurePolicy"), "Fail");
        assert_eq!(hook["timeoutSeconds"], 10);
        assert_eq!(text(hook, "/sideEffects"), "None");
        assert_eq!(strings(hook, "/admissionReviewVersions"), vec!["v1"]);
        assert!(text(hook, "/name").split('.').count() >= 3, "webhook names are fully qualified");
        let excluded = &hook["namespaceSelector"]["matchExpressions"][0];
        assert_eq!(excluded["key"], "kubernetes.io/metadata.name");
        assert_eq!(excluded["operator"], "NotIn");
        assert_eq!(strings(excluded, "/values"), vec!["kube-system", NAMESPACE]);
        let mut covered = BTreeSet::new();
        for rule in hook["rules"].as_array().unwrap() {
            assert_eq!(strings(rule, "/operations"), vec!["CREATE", "UPDATE"], "{file}");
            for group in strings(rule, "/apiGroups") {
                for version in strings(rule, "/apiVersions") {
                    for resource in strings(rule, "/resources") {
                        covered.insert((group.clone(), version.clone(), resource));
                    }
                }
            }
        }
        assert_eq!(covered, workload_resources(), "{file}");
        if kind == "MutatingWebhookConfiguration" {
            assert_eq!(text(hook, "/reinvocationPolicy"), "IfNeeded");
        }
    }
}

/// The workload kinds by API group, as the Constraint lists them.
fn constraint_kinds(constraint: &Value) -> BTreeSet<(String, String)> {
    let mut kinds = BTreeSet::new();
    for entry in constraint["spec"]["match"]["kinds"].as_array().unwrap() {
        for group in strings(entry, "/apiGroups") {
            for kind in strings(entry, "/kinds") {
                kinds.insert((group.clone(), kind));
            }
        }
    }
    kinds
}

fn workload_kinds() -> BTreeSet<(String, String)> {
    [
        ("", "Pod"),
        ("", "ReplicationController"),
        ("apps", "Deployment"),
        ("apps", "ReplicaSet"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("batch", "Job"),
        ("batch", "CronJob"),
    ]
    .into_iter()
    .map(|(g, k)| (g.to_owned(), k.to_owned()))
    .collect()
}

#[test]
fn constraint_matches_every_workload_kind_outside_the_system_namespaces() {
    let constraint = document(&gatekeeper("constraint.yaml"));
    assert_eq!(text(&constraint, "/kind"), template().constraint_kind);
    assert_eq!(text(&constraint, "/spec/enforcementAction"), "deny");
    assert_eq!(constraint_kinds(&constraint), workload_kinds());
    let excluded = strings(&constraint, "/spec/match/excludedNamespaces");
    assert!(excluded.contains(&"kube-system".to_owned()) && excluded.contains(&NAMESPACE.to_owned()));
    assert_eq!(constraint["spec"]["parameters"]["exemptImages"], json!([]));

    // The suite's second constraint differs only in its name and exemptImages.
    let mut with_exemptions = document(&gatekeeper("test/constraint-with-exemptions.yaml"));
    assert_ne!(with_exemptions["spec"]["parameters"]["exemptImages"], json!([]));
    with_exemptions["metadata"]["name"] = constraint["metadata"]["name"].clone();
    with_exemptions["spec"]["parameters"] = constraint["spec"]["parameters"].clone();
    assert_eq!(with_exemptions, constraint);
}

#[test]
fn mutators_pin_every_container_list_of_every_workload() {
    let assigns = read_documents(&gatekeeper("mutators.yaml")).unwrap();
    let mut pinned = BTreeMap::new();
    for assign in &assigns {
        assert_eq!(text(assign, "/apiVersion"), "mutations.gatekeeper.sh/v1");
        assert_eq!(text(assign, "/kind"), "Assign");
        assert_eq!(
            assign["spec"]["parameters"]["assign"]["externalData"],
            json!({"provider": "nv2-mutate", "dataSource": "ValueAtLocation", "failurePolicy": "Fail"})
        );
        let excluded = strings(assign, "/spec/match/excludedNamespaces");
        assert!(excluded.contains(&"kube-system".to_owned()) && excluded.contains(&NAMESPACE.to_owned()));
        let location = text(assign, "/spec/location").to_owned();
        for entry in assign["spec"]["applyTo"].as_array().unwrap() {
            assert_eq!(strings(entry, "/versions"), vec!["v1"]);
            for group in strings(entry, "/groups") {
                for kind in strings(entry, "/kinds") {
                    let prefix = match kind.as_str() {
                        "Pod" => "spec",
                        "CronJob" => "spec.jobTemplate.spec.template.spec",
                        _ => "spec.template.spec",
                    };
                    let list = location
                        .strip_prefix(&format!("{prefix}."))
                        .and_then(|rest| rest.strip_suffix("[name:*].image"))
                        .unwrap_or_else(|| panic!("{kind}: location {location} is not under {prefix}"));
                    pinned.entry((group.clone(), kind)).or_insert_with(BTreeSet::new).insert(list.to_owned());
                }
            }
        }
    }
    assert_eq!(pinned.keys().cloned().collect::<BTreeSet<_>>(), workload_kinds());
    for (kind, lists) in &pinned {
        assert_eq!(
            lists,
            &BTreeSet::from(["containers", "ephemeralContainers", "initContainers"].map(String::from)),
            "{kind:?}"
        );
    }
    assert_eq!(assigns.len(), 9);
    let names: BTreeSet<_> = assigns.iter().map(|a| text(a, "/metadata/name")).collect();
    assert_eq!(names.len(), assigns.len(), "mutator names are unique");
}

#[test]
fn deployment_runs_the_server_locked_down_with_its_config_mounted() {
    let provider = deploy_dir().join("provider");
    let deployment = document(&provider.join("20-deployment.yaml"));
    let service = document(&provider.join("30-service.yaml"));
    let pod = &deployment["spec"]["template"];
    let containers = pod["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let server = &containers[0];
    assert_eq!(text(server, "/image"), "ghcr.io/nv2/nv2:latest");
    assert_eq!(
        strings(server, "/args").join(" "),
        "admission serve --listen 0.0.0.0:8443 --tls-cert /tls/tls.crt --tls-key /tls/tls.key --client-ca \
         /tls/ca.crt --policy-dir /config"
    );
    for probe in ["readinessProbe", "livenessProbe"] {
        assert_eq!(server[probe]["httpGet"]["path"], "/healthz", "{probe}");
        assert_eq!(server[probe]["httpGet"]["scheme"], "HTTPS", "{probe}");
        assert_eq!(server[probe]["httpGet"]["port"], "https", "{probe}");
    }
    assert_eq!(server["ports"][0], json!({"name": "https", "containerPort": PORT, "protocol": "TCP"}));
    assert!(
        server["resources"]["requests"]["memory"].is_string() && server["resources"]["limits"]["memory"].is_string()
    );
    let security = &server["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(pod["spec"]["securityContext"]["runAsNonRoot"], true);
    assert_ne!(pod["spec"]["securityContext"]["runAsUser"], 0);
    assert_eq!(pod["spec"]["automountServiceAccountToken"], false);

    // Service → pods, and the probes' named port exists.
    let labels = pod["metadata"]["labels"].as_object().unwrap();
    for (key, value) in service["spec"]["selector"].as_object().unwrap() {
        assert_eq!(labels.get(key), Some(value), "the Service selects the server's pods");
    }
    assert_eq!(deployment["spec"]["selector"]["matchLabels"], service["spec"]["selector"]);
    assert_eq!(service["spec"]["ports"][0]["targetPort"], "https");

    // Every mount comes from a volume, every volume from an object in deploy/provider/config/.
    let volumes: BTreeMap<&str, &Value> =
        pod["spec"]["volumes"].as_array().unwrap().iter().map(|v| (text(v, "/name"), v)).collect();
    let mounts: BTreeMap<&str, &str> =
        server["volumeMounts"].as_array().unwrap().iter().map(|m| (text(m, "/mountPath"), text(m, "/name"))).collect();
    for (path, volume) in
        [("/tls", "tls"), ("/config", "policy"), ("/registry", "registry-credentials"), ("/tmp", "tmp")]
    {
        assert_eq!(mounts.get(path), Some(&volume), "{path}");
        assert!(volumes.contains_key(volume), "{volume}");
    }
    let config: BTreeMap<(String, String), Value> = yaml_files(&provider.join("config"))
        .unwrap()
        .iter()
        .flat_map(|f| read_documents(f).unwrap())
        .map(|d| ((text(&d, "/kind").to_owned(), text(&d, "/metadata/name").to_owned()), d))
        .collect();
    let data_keys = |kind: &str, name: &str| -> BTreeSet<String> {
        let object = config.get(&(kind.to_owned(), name.to_owned())).unwrap_or_else(|| panic!("no {kind} {name}"));
        let data = object.get("stringData").or_else(|| object.get("data")).and_then(Value::as_object).unwrap();
        data.keys().cloned().collect()
    };
    let mut mounted_files = BTreeMap::new();
    let mut items = |kind: &str, name: &str, source_items: &Value, mount: &str| {
        let keys = data_keys(kind, name);
        for item in source_items.as_array().unwrap() {
            assert!(keys.contains(text(item, "/key")), "{kind} {name} has no key {}", text(item, "/key"));
            mounted_files.insert(format!("{mount}/{}", text(item, "/path")), name.to_owned());
        }
    };
    for source in volumes["tls"]["projected"]["sources"].as_array().unwrap() {
        items("Secret", text(source, "/secret/name"), &source["secret"]["items"], "/tls");
    }
    items("ConfigMap", text(volumes["policy"], "/configMap/name"), &volumes["policy"]["configMap"]["items"], "/config");
    let credentials = &volumes["registry-credentials"]["secret"];
    items("Secret", text(credentials, "/secretName"), &credentials["items"], "/registry");
    for file in ["/tls/tls.crt", "/tls/tls.key", "/tls/ca.crt", "/config/trustpolicy.oci.json", "/registry/config.json"]
    {
        assert!(mounted_files.contains_key(file), "{file} is not mounted: {mounted_files:?}");
    }
    let docker_config = server["env"].as_array().unwrap().iter().find(|e| e["name"] == "DOCKER_CONFIG").unwrap();
    assert_eq!(docker_config["value"], "/registry");
    let tls_secret = &config[&("Secret".to_owned(), "nv2-admission-tls".to_owned())];
    assert_eq!(tls_secret["type"], "kubernetes.io/tls");
    let registry_secret = &config[&("Secret".to_owned(), "nv2-registry-credentials".to_owned())];
    assert_eq!(registry_secret["type"], "kubernetes.io/dockerconfigjson");
    let docker_json = text(registry_secret, "/stringData/.dockerconfigjson");
    assert!(serde_json::from_str::<Value>(docker_json).unwrap()["auths"].is_object());
}

#[test]
fn shipped_trust_policy_is_valid_for_nv2_and_its_stores_are_mounted() {
    let provider = deploy_dir().join("provider");
    let configmap = document(&provider.join("config/policy-configmap.yaml"));
    let policy_text = text(&configmap, "/data/trustpolicy.oci.json");
    let policy = nv2_core::trust::TrustPolicyDocument::parse(policy_text.as_bytes()).unwrap();
    assert_eq!(policy.statements.len(), 1);
    assert_eq!(policy.statements[0].rules.name, "signed-images");
    let deployment = document(&provider.join("20-deployment.yaml"));
    let policy_volume = deployment["spec"]["template"]["spec"]["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "policy")
        .unwrap();
    let paths: Vec<&str> =
        policy_volume["configMap"]["items"].as_array().unwrap().iter().map(|i| text(i, "/path")).collect();
    for statement in &policy.statements {
        for store in &statement.rules.trust_stores {
            let directory = format!("truststore/x509/{}/{}/", store.kind.name(), store.name);
            assert!(paths.iter().any(|p| p.starts_with(&directory)), "store {directory} is not mounted: {paths:?}");
        }
    }
}

// --- TLS --------------------------------------------------------------------------------------------------------

#[test]
fn make_certificates_issues_a_server_certificate_for_the_service_names() {
    let Some(openssl) = peers::require("openssl") else { return };
    let script = deploy_dir().join("tls/make-certificates.sh");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let made = Command::new("bash").arg(&script).arg(&out).output().unwrap();
    assert!(made.status.success(), "{}", output_text(&made));
    let verify = run(&openssl, &["verify", "-CAfile", "ca.crt", "-purpose", "sslserver", "tls.crt"], &out);
    assert!(verify.status.success(), "{}", output_text(&verify));
    let extensions =
        run(&openssl, &["x509", "-in", "tls.crt", "-noout", "-ext", "subjectAltName,extendedKeyUsage"], &out);
    let extensions = output_text(&extensions);
    for name in [format!("{SERVICE}.{NAMESPACE}.svc"), format!("{SERVICE}.{NAMESPACE}")] {
        assert!(
            extensions.contains(&format!("DNS:{name},")) || extensions.contains(&format!("DNS:{name}\n")),
            "{extensions}"
        );
    }
    assert!(extensions.contains("TLS Web Server Authentication"), "{extensions}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in ["ca.key", "tls.key"] {
            assert_eq!(fs::metadata(out.join(key)).unwrap().permissions().mode() & 0o077, 0, "{key} is private");
        }
    }
    let again = Command::new("bash").arg(&script).arg(&out).output().unwrap();
    assert!(!again.status.success(), "the script must not overwrite existing keys");
    assert!(output_text(&again).contains("not overwriting"));
}
