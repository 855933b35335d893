# Nv2SignedImages: admit a workload only when every image it runs verifies against the nv2 trust policy.
#
# This is the Rego of the ConstraintTemplate in template.yaml, byte for byte: tests/tests/admission_policy.rs
# compares the two, so edit this file and paste it into the template (indented under `rego: |`).
#
# Gatekeeper evaluates templates as Rego v0 and rejects `import rego.v1`, so the v1 keywords come from the
# future.keywords imports; the file parses the same way in v0 and v1 mode.
#
# The verdicts come from the nv2 admission server (`nv2 admission serve`) through Gatekeeper's external data
# call to the Provider `nv2-verify`. Everything fails closed: an image passes only when the provider answered
# for it with `verified: true`. A per-image error, a missing answer, an answer without `verified: true`, a
# provider-wide `systemError` (also what Gatekeeper reports when it cannot reach the provider) or no answer at
# all are violations.
package nv2signedimages

import future.keywords.contains
import future.keywords.if
import future.keywords.in

# The kinds whose pod template is at spec.template.spec (a Pod's is its spec, a CronJob's one level deeper).
pod_template_kinds := {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "ReplicationController"}

# The container lists of a pod spec; native sidecars are initContainers with restartPolicy Always.
container_lists := ["containers", "initContainers", "ephemeralContainers"]

# The pod spec of an object, undefined for any other kind (and for the null object of a DELETE).
pod_spec(obj) := obj.spec if obj.kind == "Pod"

pod_spec(obj) := obj.spec.template.spec if obj.kind in pod_template_kinds

pod_spec(obj) := obj.spec.jobTemplate.spec.template.spec if obj.kind == "CronJob"

# Every image an object runs: all containers of its pod spec, and image volumes (their content is mounted).
images_of(obj) := {image |
	spec := pod_spec(obj)
	some list in container_lists
	some container in spec[list]
	image := container.image
	is_string(image)
	image != ""
} | {image |
	spec := pod_spec(obj)
	some volume in spec.volumes
	image := volume.image.reference
	is_string(image)
	image != ""
}

# An exemptImages entry ending in `*` exempts every image starting with the text before it; any other entry
# exempts exactly that image string, as written in the object (`nginx` is not `docker.io/library/nginx`).
exempt(image) if {
	some pattern in input.parameters.exemptImages
	endswith(pattern, "*")
	startswith(image, trim_suffix(pattern, "*"))
}

exempt(image) if {
	some pattern in input.parameters.exemptImages
	not endswith(pattern, "*")
	image == pattern
}

# On UPDATE, images the stored object already runs were admitted before; checking them again would only
# block label or finalizer changes of running workloads. Audit has no operation, so it re-checks everything.
default admitted_images := set()

admitted_images := images_of(input.review.oldObject) if input.review.operation == "UPDATE"

# A DELETE starts nothing (Gatekeeper copies the old object into `object` for it): nothing to verify.
deleting if input.review.operation == "DELETE"

# The images that need a verdict, sent to the provider in one batch.
checked_images := [image |
	not deleting
	some image in images_of(input.review.object)
	not image in admitted_images
	not exempt(image)
]

# The one external data call. Should it give nothing at all, the default answer refuses the batch.
default verify_answer := {"system_error": "external_data gave no answer for provider nv2-verify"}

verify_answer := external_data({"provider": "nv2-verify", "keys": checked_images}) if count(checked_images) > 0

violation contains refusal if {
	count(checked_images) > 0
	some refusal in refusals(checked_images, verify_answer)
}

# The decision: every reason to refuse `keys` given the external_data answer {"responses": [[key, value], ...],
# "errors": [[key, reason], ...], "status_code": n, "system_error": "..."}.
refusals(keys, answer) := union({
	system_refusals(keys, answer),
	status_refusals(keys, answer),
	error_refusals(answer),
	unverified_refusals(answer),
	unanswered_refusals(keys, answer),
})

system_refusals(keys, answer) := {refusal |
	reason := object.get(answer, "system_error", "")
	reason != ""
	refusal := {
		"msg": sprintf("nv2 could not verify images %v: the nv2-verify provider failed: %v", [keys, reason]),
		"details": {"images": keys, "reason": reason},
	}
}

# The provider's HTTP status; Gatekeeper reports 0 when every key came from its response cache. Any other
# status than 200 means the answer is not a verdict, whatever its items say.
status_refusals(keys, answer) := {refusal |
	object.get(answer, "system_error", "") == ""
	status := object.get(answer, "status_code", 0)
	not status in {0, 200}
	refusal := {
		"msg": sprintf("nv2 could not verify images %v: the nv2-verify provider answered HTTP %v", [keys, status]),
		"details": {"images": keys, "reason": sprintf("HTTP status %v", [status])},
	}
}

error_refusals(answer) := {refusal |
	some item in answer_list(answer, "errors")
	image := item[0]
	reason := item[1]
	refusal := {
		"msg": sprintf("image %q is refused by nv2: %v", [image, reason]),
		"details": {"image": image, "reason": reason},
	}
}

unverified_refusals(answer) := {refusal |
	some item in answer_list(answer, "responses")
	not verified(item[1])
	image := item[0]
	refusal := {
		"msg": sprintf("image %q is refused by nv2: the answer does not say verified=true: %v", [image, item[1]]),
		"details": {"image": image, "reason": "answer without verified=true"},
	}
}

# Images the provider said nothing about; not listed again when the whole request failed (that names them).
unanswered_refusals(keys, answer) := {refusal |
	object.get(answer, "system_error", "") == ""
	answered := answered_images(answer)
	some image in keys
	not image in answered
	refusal := {
		"msg": sprintf("image %q is refused by nv2: the nv2-verify provider gave no answer for it", [image]),
		"details": {"image": image, "reason": "no answer"},
	}
}

# The builtin's `responses` or `errors`: null when Gatekeeper could not ask the provider, so read as empty.
answer_list(answer, field) := answer[field] if is_array(answer[field])

answer_list(answer, field) := [] if not is_array(answer[field])

answered_images(answer) := {item[0] |
	some list in ["responses", "errors"]
	some item in answer_list(answer, list)
}

verified(value) if value.verified == true
