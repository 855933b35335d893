//! The JSON of the plugin contract "1.0" `verify-signature` command: the request the core builds and the response
//! it judges. Kept apart from the pipeline so the wire format is in one readable place.

use crate::envelope::{ParsedEnvelope, SigningScheme};
use crate::trust::StatementRules;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use base64ct::Encoding;
use serde_json::{json, Map, Value};

/// Builds the `verify-signature` request for the capabilities the plugin is asked to check.
pub(crate) fn verify_request(
    envelope: &ParsedEnvelope,
    unprocessed_critical: &[String],
    capabilities: &[&str],
    statement: &StatementRules,
) -> Vec<u8> {
    let signed = envelope.signed();
    let mut critical = Map::new();
    critical.insert("contentType".into(), Value::String(signed.content_type.clone()));
    let scheme = match signed.signing_scheme {
        SigningScheme::X509 => "notary.x509",
        SigningScheme::X509SigningAuthority => "notary.x509.signingAuthority",
    };
    critical.insert("signingScheme".into(), Value::String(scheme.into()));
    if let Some(expiry) = signed.expiry {
        critical.insert("expiry".into(), Value::String(expiry.to_rfc3339()));
    }
    if let Some(t) = signed.authentic_signing_time {
        critical.insert("authenticSigningTime".into(), Value::String(t.to_rfc3339()));
    }
    if let Some(p) = &signed.verification_plugin {
        critical.insert("verificationPlugin".into(), Value::String(p.clone()));
    }
    if let Some(v) = &signed.verification_plugin_min_version {
        critical.insert("verificationPluginMinVersion".into(), Value::String(v.clone()));
    }
    let extended: Map<String, Value> =
        signed.extended.iter().filter(|a| a.critical).map(|a| (a.key.clone(), a.value.clone())).collect();
    if !extended.is_empty() {
        critical.insert("extendedAttributes".into(), Value::Object(extended));
    }
    let chain: Vec<Value> =
        envelope.certificate_chain().iter().map(|der| Value::String(base64ct::Base64::encode_string(der))).collect();
    let request = json!({
        "contractVersion": "1.0",
        "signature": {
            "criticalAttributes": Value::Object(critical),
            "unprocessedAttributes": unprocessed_critical,
            "certificateChain": chain,
        },
        "trustPolicy": {
            "trustedIdentities": identity_strings(statement),
            "signatureVerification": capabilities,
        },
    });
    serde_json::to_vec(&request).unwrap_or_default()
}

/// A judged `verify-signature` response.
pub(crate) struct PluginResponse {
    /// Per requested capability: passed, or the plugin's reason.
    pub results: Vec<(String, Result<(), String>)>,
    /// Critical attributes the plugin says it processed.
    pub processed: BTreeSet<String>,
}

/// Parses the response and insists that every requested capability has a result.
pub(crate) fn parse_response(bytes: &[u8], requested: &[&str]) -> Result<PluginResponse, String> {
    let value = crate::json::parse_strict(bytes, 1024 * 1024, crate::limits::MAX_JSON_DEPTH)
        .map_err(|e| format!("plugin response: {e}"))?;
    let results_obj = value
        .get("verificationResults")
        .and_then(Value::as_object)
        .ok_or_else(|| String::from("plugin response has no verificationResults"))?;
    let mut results = Vec::new();
    for cap in requested {
        let r = results_obj.get(*cap).ok_or_else(|| format!("plugin response has no result for {cap}"))?;
        let ok = r.get("success").and_then(Value::as_bool).ok_or_else(|| format!("{cap}: no boolean success"))?;
        let reason = r.get("reason").and_then(Value::as_str).unwrap_or("no reason given").to_string();
        results.push((cap.to_string(), if ok { Ok(()) } else { Err(reason) }));
    }
    let processed = match value.get("processedAttributes") {
        None | Some(Value::Null) => BTreeSet::new(),
        Some(Value::Array(items)) => items.iter().filter_map(|v| v.as_str().map(String::from)).collect(),
        Some(_) => return Err(String::from("processedAttributes is not an array")),
    };
    Ok(PluginResponse { results, processed })
}

/// The policy's trusted identities as the strings the policy file holds.
fn identity_strings(statement: &StatementRules) -> Vec<String> {
    use crate::trust::{TrustedIdentities, TrustedIdentity};
    match &statement.trusted_identities {
        TrustedIdentities::Any => alloc::vec![String::from("*")],
        TrustedIdentities::Listed(list) => list
            .iter()
            .map(|i| match i {
                TrustedIdentity::X509Subject { raw, .. } | TrustedIdentity::Other { raw } => raw.to_string(),
            })
            .collect(),
    }
}
