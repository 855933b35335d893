//! Certificate files (PEM or DER) validated as chains for both purposes at a fixed time, and CRLs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nv2_core::x509::{parse_certificates, validate_chain, ChainPurpose, Crl};

fuzz_target!(|data: &[u8]| {
    if let Ok(chain) = parse_certificates(data) {
        for purpose in [ChainPurpose::CodeSigning, ChainPurpose::Timestamping] {
            let _ = validate_chain(&chain, purpose, Some(nv2_core_fuzz::NOW));
            let _ = validate_chain(&chain, purpose, None);
        }
        for cert in &chain {
            let _ = cert.public_key();
            let _ = cert.subject_attributes();
            let _ = cert.crl_distribution_points();
            let _ = cert.ocsp_urls();
        }
    }
    let _ = Crl::parse(data);
});
