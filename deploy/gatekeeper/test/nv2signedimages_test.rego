# Unit tests of nv2signedimages.rego with `opa test`, the external_data call replaced by mock functions.
#
# external_data is Gatekeeper's builtin, unknown to plain OPA, so the run declares it in a capabilities file
# (see deploy/README.md); `with external_data as <mock>` then replaces it. Run:
#   opa test --v0-compatible --capabilities <caps.json> deploy/gatekeeper/nv2signedimages.rego \
#     deploy/gatekeeper/test/nv2signedimages_test.rego
package nv2signedimages

import future.keywords.contains
import future.keywords.every
import future.keywords.if
import future.keywords.in

app := "registry.example/team/app:1.0"

sidecar := "registry.example/team/sidecar@sha256:0b3c5a76d8e0d2d1b6e1fd0a55c7a1c08fbc1fdfb9bb15a5a1f4ab0e6dd7d9c1"

setup := "registry.example/team/setup:2"

debugger := "registry.example/tools/debug:latest"

pause := "registry.k8s.io/pause:3.10"

# --- objects and admission input --------------------------------------------------------------------------------

pod_spec_with(containers, init_containers) := {
	"containers": [{"name": sprintf("c%d", [i]), "image": image} | some i, image in containers],
	"initContainers": [{"name": sprintf("i%d", [i]), "image": image} | some i, image in init_containers],
}

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "apps"}, "spec": spec}

workload(kind, spec) := {
	"kind": kind,
	"metadata": {"name": "w", "namespace": "apps"},
	"spec": {"template": {"metadata": {"labels": {"app": "w"}}, "spec": spec}},
}

cronjob(spec) := {
	"apiVersion": "batch/v1",
	"kind": "CronJob",
	"metadata": {"name": "cj", "namespace": "apps"},
	"spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": {"spec": spec}}}},
}

create(obj) := {"review": {"operation": "CREATE", "object": obj}, "parameters": {"exemptImages": [pause]}}

# --- mock providers ---------------------------------------------------------------------------------------------

verified_value(image) := {
	"verified": true,
	"digest": "sha256:5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90",
	"reference": sprintf("%s@sha256:5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90", [image]),
	"signer": "CN=release,O=Example,C=US",
	"policy": "signed-images",
}

all_verified(request) := {
	"responses": [[image, verified_value(image)] | some image in request.keys],
	"errors": [],
	"status_code": 200,
	"system_error": "",
}

# Refuses every key, and says how many keys the one call carried.
refuse_all(request) := {
	"responses": [],
	"errors": [[image, sprintf("no signature (batch of %d)", [count(request.keys)])] | some image in request.keys],
	"status_code": 200,
	"system_error": "",
}

refuse_app(request) := {
	"responses": [[image, verified_value(image)] | some image in request.keys; image != app],
	"errors": [[app, "signature from an untrusted identity"] | app in request.keys],
	"status_code": 200,
	"system_error": "",
}

forget_app(request) := {
	"responses": [[image, verified_value(image)] | some image in request.keys; image != app],
	"errors": [],
	"status_code": 200,
	"system_error": "",
}

# Only a JSON true counts: false, the string "true" and a bare digest string are not a verdict.
not_quite_verified(request) := {
	"responses": [
		[app, object.union(verified_value(app), {"verified": false})],
		[sidecar, object.union(verified_value(sidecar), {"verified": "true"})],
		[setup, "sha256:5d41402abc4b2a76b9719d911017c592a1b2c3d4e5f60718293a4b5c6d7e8f90"],
		[debugger, verified_value(debugger)],
	],
	"errors": [],
	"status_code": 200,
	"system_error": "",
}

# Exactly what Gatekeeper's builtin returns when it cannot reach the provider (HandleError: lists are null).
unreachable(_) := {
	"responses": null,
	"errors": null,
	"status_code": 0,
	"system_error": "Post \"https://nv2-admission.nv2-system:8443/gatekeeper/verify\": connection refused",
}

# A verdict-shaped body with a failure status: not a verdict.
verified_but_http_500(request) := object.union(all_verified(request), {"status_code": 500})

# Every key answered from Gatekeeper's response cache: status 0.
all_verified_from_cache(request) := object.union(all_verified(request), {"status_code": 0})

# A mock that answers nothing: external_data undefined.
silent(_) := answer if {
	false
	answer := {}
}

refused_images(violations) := {v.details.image | some v in violations}

# --- the decision -----------------------------------------------------------------------------------------------

test_all_verified_is_admitted if {
	count(violation) == 0 with input as create(pod(pod_spec_with([app, sidecar], [setup])))
		with external_data as all_verified
}

test_one_refused_image_is_one_violation_naming_image_and_reason if {
	violations := violation with input as create(pod(pod_spec_with([app, sidecar], [setup])))
		with external_data as refuse_app
	count(violations) == 1
	some v in violations
	v.details == {"image": app, "reason": "signature from an untrusted identity"}
	contains(v.msg, app)
	contains(v.msg, "signature from an untrusted identity")
}

test_image_missing_from_the_answer_is_refused if {
	violations := violation with input as create(pod(pod_spec_with([app, sidecar], [])))
		with external_data as forget_app
	count(violations) == 1
	some v in violations
	v.details == {"image": app, "reason": "no answer"}
	contains(v.msg, "gave no answer")
}

test_answer_without_verified_true_is_refused if {
	violations := violation with input as create(pod(pod_spec_with([app, sidecar, debugger], [setup])))
		with external_data as not_quite_verified
	refused_images(violations) == {app, sidecar, setup}
	count(violations) == 3
}

test_system_error_is_one_violation_naming_every_image if {
	violations := violation with input as create(pod(pod_spec_with([app, sidecar], [])))
		with external_data as unreachable
	count(violations) == 1
	some v in violations
	v.details.images == [app, sidecar]
	contains(v.msg, "connection refused")
	contains(v.msg, app)
}

test_answer_with_a_failure_status_is_refused if {
	violations := violation with input as create(pod(pod_spec_with([app, sidecar], [])))
		with external_data as verified_but_http_500
	count(violations) == 1
	some v in violations
	v.details == {"images": [app, sidecar], "reason": "HTTP status 500"}
}

test_answer_from_the_response_cache_is_admitted if {
	count(violation) == 0 with input as create(pod(pod_spec_with([app, sidecar], [])))
		with external_data as all_verified_from_cache
}

test_no_answer_at_all_is_refused if {
	violations := violation with input as create(pod(pod_spec_with([app], [])))
		with external_data as silent
	count(violations) == 1
	some v in violations
	contains(v.msg, "external_data gave no answer")
}

test_all_images_are_sent_in_one_call if {
	violations := violation with input as create(pod(pod_spec_with([app, sidecar], [setup])))
		with external_data as refuse_all
	refused_images(violations) == {app, sidecar, setup}
	every v in violations {
		v.details.reason == "no signature (batch of 3)"
	}
}

# --- which images are collected ---------------------------------------------------------------------------------

test_pod_containers_init_ephemeral_and_image_volumes_are_checked if {
	spec := object.union(pod_spec_with([app], [setup]), {
		"ephemeralContainers": [{"name": "debug", "image": debugger}],
		"volumes": [
			{"name": "models", "image": {"reference": sidecar, "pullPolicy": "IfNotPresent"}},
			{"name": "cache", "emptyDir": {}},
		],
	})
	violations := violation with input as create(pod(spec)) with external_data as refuse_all
	refused_images(violations) == {app, setup, debugger, sidecar}
}

test_every_workload_kind_template_is_checked if {
	every kind in {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"} {
		violations := violation with input as create(workload(kind, pod_spec_with([app], [setup])))
			with external_data as refuse_all
		refused_images(violations) == {app, setup}
	}
}

test_cronjob_job_template_is_checked if {
	violations := violation with input as create(cronjob(pod_spec_with([app], [setup]))) with external_data as refuse_all
	refused_images(violations) == {app, setup}
}

test_other_kinds_and_empty_images_are_not_sent if {
	configmap := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"image": app}}
	count(violation) == 0 with input as create(configmap) with external_data as unreachable
	no_image := pod({"containers": [{"name": "a", "image": ""}, {"name": "b"}]})
	count(violation) == 0 with input as create(no_image) with external_data as unreachable
}

# --- exemptions and operations ----------------------------------------------------------------------------------

test_exempt_prefix_and_exact_entries if {
	exempting := {
		"review": {"operation": "CREATE", "object": pod(pod_spec_with(
			[app, pause, "docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36.1"],
			[],
		))},
		"parameters": {"exemptImages": ["registry.k8s.io/*", "docker.io/library/busybox:1.36"]},
	}
	violations := violation with input as exempting with external_data as refuse_all
	refused_images(violations) == {app, "docker.io/library/busybox:1.36.1"}
}

test_only_exempt_images_make_no_provider_call if {
	count(violation) == 0 with input as create(pod(pod_spec_with([pause], [pause])))
		with external_data as unreachable
}

test_without_parameters_nothing_is_exempt if {
	violations := violation with input as {"review": {"operation": "CREATE", "object": pod(pod_spec_with([pause], []))}}
		with external_data as refuse_all
	refused_images(violations) == {pause}
}

test_update_checks_only_images_the_stored_object_does_not_run if {
	update := {"review": {
		"operation": "UPDATE",
		"oldObject": pod(pod_spec_with([app], [])),
		"object": pod(pod_spec_with([app, sidecar], [])),
	}}
	violations := violation with input as update with external_data as refuse_all
	refused_images(violations) == {sidecar}
}

test_update_without_new_images_makes_no_provider_call if {
	relabel := {"review": {
		"operation": "UPDATE",
		"oldObject": pod(pod_spec_with([app], [setup])),
		"object": object.union(pod(pod_spec_with([app], [setup])), {"metadata": {"labels": {"x": "y"}}}),
	}}
	count(violation) == 0 with input as relabel with external_data as unreachable
}

test_audit_without_operation_checks_everything if {
	audit := {"review": {"object": pod(pod_spec_with([app], []))}}
	violations := violation with input as audit with external_data as refuse_all
	refused_images(violations) == {app}
}

test_delete_is_never_refused if {
	# Gatekeeper copies oldObject into object on DELETE; the API server itself sends a null object.
	gatekeeper_delete := {"review": {"operation": "DELETE", "object": pod(pod_spec_with([app], [])), "oldObject": pod(pod_spec_with([app], []))}}
	count(violation) == 0 with input as gatekeeper_delete with external_data as unreachable
	apiserver_delete := {"review": {"operation": "DELETE", "object": null, "oldObject": pod(pod_spec_with([app], []))}}
	count(violation) == 0 with input as apiserver_delete with external_data as unreachable
}
