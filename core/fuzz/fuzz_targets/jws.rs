//! Jws envelopes: parse, verify with a fixed key and with the envelope's own leaf key, read the payload, and
//! decode the same bytes as a bare protected header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::envelope::{decode_protected_header, EnvelopeFormat, ParsedEnvelope};
use nv2_core::x509::Certificate;

fuzz_target!(|data: &[u8]| {
    let _ = decode_protected_header(EnvelopeFormat::Jws, data);
    let Ok(envelope) = ParsedEnvelope::parse(EnvelopeFormat::Jws, data) else { return };
    let _ = envelope.verify_signature(nv2_core_fuzz::fixed_key());
    if let Some(leaf) = envelope.certificate_chain().first() {
        if let Ok(key) = Certificate::from_der(leaf).and_then(|cert| cert.public_key()) {
            if envelope.verify_signature(&key).is_ok() {
                let _ = envelope.payload();
            }
        }
    }
    let _ = envelope.with_timestamp(data.iter().take(64).copied().collect());
});
