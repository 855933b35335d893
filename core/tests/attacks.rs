//! End-to-end attack cases through the one verification pipeline ([`verify::verify`]).
//!
//! The cases live in `support/attack_cases.rs` (shared with the wasm differential test, which runs the very same
//! cases through the policy module): each builds a real root → intermediate → leaf chain, signs, breaks one thing,
//! and names the exact outcome. Here every case runs natively and its expectation is checked: the artifact is
//! rejected *and* the rejecting failure has the exact [`FailureKind`], or the positive control verifies.
//!
//! [`verify::verify`]: nv2_core::verify::verify
//! [`FailureKind`]: nv2_core::verify::FailureKind

#[path = "support/mod.rs"]
mod support;

use std::time::Instant;
use support::attack_cases::{self, AttackCase};

/// Runs every case of a group natively and checks its expectation (and, natively, its time bound).
fn run(cases: Vec<AttackCase>) {
    assert!(!cases.is_empty(), "a group without cases proves nothing");
    for case in cases {
        let started = Instant::now();
        let verdict = case.verify();
        if let Some(bound) = case.time_bound {
            assert!(started.elapsed() < bound, "{}: took {:?}", case.name, started.elapsed());
        }
        if let Err(why) = case.check(&verdict) {
            panic!("{}: {why}", case.name);
        }
    }
}

#[test]
fn untampered_signatures_verify_in_every_format_and_key_type() {
    run(attack_cases::untampered_signatures());
}

#[test]
fn hand_built_jws_control_verifies() {
    run(attack_cases::hand_built_jws_control());
}

#[test]
fn alg_none_and_hs256_are_refused() {
    run(attack_cases::alg_none_and_hs256());
}

#[test]
fn alg_that_does_not_match_the_leaf_key_is_refused() {
    run(attack_cases::alg_not_matching_the_leaf_key());
}

#[test]
fn unknown_critical_attribute_is_refused() {
    run(attack_cases::unknown_critical_attribute());
}

#[test]
fn crit_missing_a_required_name_is_refused() {
    run(attack_cases::crit_missing_a_required_name());
}

#[test]
fn duplicate_keys_in_the_protected_header_or_envelope_are_refused() {
    run(attack_cases::duplicate_keys());
}

#[test]
fn extra_base64_padding_is_refused() {
    run(attack_cases::extra_base64_padding());
}

#[test]
fn payload_tampered_by_one_byte_is_refused() {
    run(attack_cases::payload_tampered_by_one_byte());
}

#[test]
fn signature_replayed_onto_another_artifact_is_refused() {
    run(attack_cases::signature_replayed_onto_another_artifact());
}

#[test]
fn size_or_media_type_mismatch_is_refused() {
    run(attack_cases::size_or_media_type_mismatch());
}

#[test]
fn envelope_not_matching_its_manifest_layer_is_refused() {
    run(attack_cases::envelope_not_matching_its_manifest_layer());
}

#[test]
fn expired_signature_is_refused() {
    run(attack_cases::expired_signature());
}

#[test]
fn permissive_level_logs_expiry_and_accepts() {
    run(attack_cases::permissive_level_logs_expiry());
}

#[test]
fn certificate_not_yet_valid_is_refused() {
    run(attack_cases::certificate_not_yet_valid());
}

#[test]
fn expired_certificate_without_timestamp_is_refused() {
    run(attack_cases::expired_certificate_without_timestamp());
}

#[test]
fn leaf_with_ca_bit_is_refused() {
    run(attack_cases::leaf_with_ca_bit());
}

#[test]
fn leaf_with_key_cert_sign_is_refused() {
    run(attack_cases::leaf_with_key_cert_sign());
}

#[test]
fn wrong_extended_key_usage_is_refused() {
    run(attack_cases::wrong_extended_key_usage());
}

#[test]
fn sha1_certificate_is_refused() {
    run(attack_cases::sha1_certificate());
}

#[test]
fn self_signed_intermediate_is_refused() {
    run(attack_cases::self_signed_intermediate());
}

#[test]
fn truncated_or_out_of_order_chain_is_refused() {
    run(attack_cases::truncated_or_out_of_order_chain());
}

#[test]
fn chain_from_an_untrusted_root_or_identity_is_refused() {
    run(attack_cases::untrusted_root_or_identity());
}

#[test]
fn envelopes_of_many_megabytes_are_refused_fast() {
    run(attack_cases::envelopes_of_many_megabytes());
}

#[test]
fn signature_manifest_of_many_megabytes_is_refused_fast() {
    run(attack_cases::signature_manifest_of_many_megabytes());
}

#[test]
fn first_passing_signature_wins_and_max_signatures_bound_is_applied() {
    run(attack_cases::decisions_over_several_signatures());
}

#[test]
fn no_signature_is_refused_and_skip_accepts_without_reading() {
    run(attack_cases::no_signature_and_skip());
}

#[test]
fn user_metadata_must_be_in_the_payload() {
    run(attack_cases::user_metadata());
}

#[test]
fn hostile_envelope_bytes_never_panic() {
    run(attack_cases::hostile_envelope_bytes());
}

#[test]
fn case_names_are_unique() {
    // The differential test reports cases by name; two cases of one name would hide which one disagreed.
    let mut names: Vec<String> = attack_cases::all().into_iter().map(|c| c.name).collect();
    let count = names.len();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), count, "case names must be unique");
}
