//! RFC 3161 timestamp tokens: parse, then full verification over a message (the token's own imprint is unknown, so
//! the signature and chain checks are reached through `verify_signature`) against the fixture TSA roots.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::timestamp::{self, TimestampToken};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = TimestampToken::parse(data) else { return };
    let _ = token.gen_time();
    let _ = token.accuracy();
    let _ = token.verify_signature();
    let (hash, _) = token.message_imprint();
    let _ = timestamp::verify(data, b"fuzz", Some(hash), nv2_core_fuzz::tsa_roots());
    let _ = timestamp::verify(data, b"fuzz", None, &[]);
});
