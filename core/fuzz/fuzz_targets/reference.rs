//! Reference::parse on arbitrary text. Properties: never panics; a parsed reference prints in a canonical form
//! that parses back to the same reference; the standalone validators agree with the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::oci::{validate_repository_name, validate_tag, Reference};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else { return };
    let _ = validate_repository_name(text);
    let _ = validate_tag(text);
    let Ok(reference) = Reference::parse(text) else { return };
    let shown = reference.to_string();
    let again = Reference::parse(&shown).expect("canonical form parses");
    assert_eq!(again, reference);
    assert_eq!(again.to_string(), shown);
    assert!(validate_repository_name(&reference.repository).is_ok());
    if let Some(tag) = &reference.tag {
        assert!(validate_tag(tag).is_ok());
    }
});
