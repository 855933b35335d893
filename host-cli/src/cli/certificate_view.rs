//! How certificates are shown to a person and to scripts (`key list`, `cert show`, `inspect`): subject, issuer,
//! SHA-256 fingerprint and validity, the fields notation's `inspect` shows.

use nv2_core::x509::Certificate;
use serde_json::{json, Value};

/// The certificate as JSON.
pub fn to_json(certificate: &Certificate) -> Value {
    json!({
        "subject": certificate.subject_string(),
        "issuer": certificate.issuer_string(),
        "sha256Fingerprint": certificate.sha256_fingerprint_hex(),
        "serial": certificate.serial_hex(),
        "notBefore": certificate.not_before().to_rfc3339(),
        "notAfter": certificate.not_after().to_rfc3339(),
        "isCA": certificate.is_ca(),
    })
}

/// The certificate as indented lines.
pub fn to_lines(certificate: &Certificate, indent: &str) -> Vec<String> {
    vec![
        format!("{indent}subject:     {}", certificate.subject_string()),
        format!("{indent}issuer:      {}", certificate.issuer_string()),
        format!("{indent}sha256:      {}", certificate.sha256_fingerprint_hex()),
        format!(
            "{indent}valid:       {} .. {}",
            certificate.not_before().to_rfc3339(),
            certificate.not_after().to_rfc3339()
        ),
    ]
}
