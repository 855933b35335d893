//! The admission server's policy-module host against hostile modules (WAT): one that never returns is interrupted
//! at its time budget (epoch interruption), one that grows memory without bound by the memory cap, and modules that import something or speak
//! another ABI version are refused at load. And the real module answers a request.

use std::path::Path;
use std::time::Duration;

use nv2_cli::admission::{ModuleError, ModuleLimits, PolicyModule};

mod admission_support;
mod common;

/// A module with the ABI's exports whose `nv2_verify` runs `body`.
fn module(version: u32, body: &str) -> String {
    format!(
        r#"(module
          (memory (export "memory") 1)
          (func (export "nv2_abi_version") (result i32) i32.const {version})
          (func (export "nv2_alloc") (param i32) (result i32) i32.const 16)
          (func (export "nv2_free") (param i32 i32))
          (func (export "nv2_verify") (param i32 i32) (result i64) {body}))"#
    )
}

fn load(text: &str, limits: ModuleLimits) -> Result<PolicyModule, ModuleError> {
    PolicyModule::from_bytes(text.as_bytes(), Path::new("test.wat"), limits)
}

#[test]
fn a_module_that_never_returns_is_interrupted_at_its_time_budget() {
    let looping = load(
        &module(1, "(loop (br 0)) i64.const 0"),
        ModuleLimits { time: Duration::from_millis(200), ..Default::default() },
    )
    .unwrap();
    let started = std::time::Instant::now();
    let result = looping.verify(b"{}");
    let took = started.elapsed();
    assert!(
        matches!(result, Err(ModuleError::TimedOut { budget }) if budget == Duration::from_millis(200)),
        "{result:?}"
    );
    assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(5), "interrupted after {took:?}");
    // Any budget, even an absurd one, is a budget and not an arithmetic overflow.
    let unbounded =
        load(&module(1, "i64.const 0"), ModuleLimits { time: Duration::MAX, ..Default::default() }).unwrap();
    assert!(matches!(unbounded.verify(b"{}"), Err(ModuleError::Trap(reason)) if reason.contains("response")));
}

#[test]
fn a_module_that_grows_memory_without_bound_hits_the_cap() {
    let body = "(block (loop (br_if 1 (i32.eq (memory.grow (i32.const 16)) (i32.const -1))) (br 0))) unreachable";
    let greedy = load(&module(1, body), ModuleLimits { memory_bytes: 16 << 20, ..Default::default() }).unwrap();
    assert!(matches!(greedy.verify(b"{}"), Err(ModuleError::Trap(_))));
}

#[test]
fn a_response_outside_memory_is_an_abi_error_not_a_panic() {
    let lying = load(&module(1, "i64.const 0x7fffff0000001000"), ModuleLimits::default()).unwrap();
    assert!(matches!(lying.verify(b"{}"), Err(ModuleError::Abi { .. })));
}

#[test]
fn imports_and_other_abi_versions_are_refused_at_load() {
    let importing = r#"(module (import "env" "clock" (func)) (memory (export "memory") 1))"#;
    assert!(
        matches!(load(importing, ModuleLimits::default()), Err(ModuleError::Abi { reason, .. }) if reason.contains("env::clock"))
    );
    assert!(
        matches!(load(&module(2, "i64.const 0"), ModuleLimits::default()), Err(ModuleError::Abi { reason, .. }) if reason.contains('2'))
    );
    assert!(matches!(load("not wasm", ModuleLimits::default()), Err(ModuleError::Load { .. })));
}

#[test]
fn the_policy_module_answers_a_bad_request_with_a_wire_error() {
    let module = PolicyModule::load(&admission_support::policy_module(), ModuleLimits::default()).unwrap();
    let response = module.verify(br#"{"version": 1}"#).unwrap();
    let response = nv2_core::verify::wire::VerifyResponse::from_json(&response).unwrap();
    assert_eq!(response.error.unwrap().kind, "request-invalid");
    assert_eq!(module.verify(b"\xff").map(|r| !r.is_empty()).ok(), Some(true));
}
