//! Reference parsing; whatever parses must print to text that parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::oci::Reference;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let Ok(reference) = Reference::parse(text) else { return };
    let printed = reference.to_string();
    match Reference::parse(&printed) {
        Ok(again) => assert_eq!(again, reference, "{text:?} printed as {printed:?} re-parses differently"),
        Err(e) => panic!("{text:?} printed as {printed:?} does not re-parse: {e}"),
    }
});
