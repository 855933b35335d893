//! nv2 for browsers: the core's verification and envelope decoding behind wasm-bindgen, for `web-demo/`.
//!
//! The page fetches what a host would (manifests, referrers, envelopes, the user's policy and stores) and hands it
//! over in the core's wire format; the verdict is computed by the very pipeline the CLI, the admission server and
//! the policy module run, so a browser verdict is the same verdict. Build with `wasm/build.sh` (wasm-bindgen
//! `--target web` output in `wasm/dist/browser/`).
//!
//! ```js
//! import init, { verify, inspect, version } from "./nv2_wasm.js";
//! await init();
//! const response = JSON.parse(verify(JSON.stringify(request)));
//! ```
#![deny(missing_docs)]

use nv2_core::verify::wire;
use wasm_bindgen::prelude::wasm_bindgen;

/// Runs a wire-format verification request (JSON text) and returns the response JSON: `{"version", "verdict"}` or
/// `{"version", "error"}`, exactly as the policy module's `nv2_verify` answers (see `wasm/README.md`).
#[wasm_bindgen]
pub fn verify(request_json: &str) -> String {
    text(wire::verify_json(request_json.as_bytes()))
}

/// Decodes an envelope for display (protected attributes, signing scheme, times, certificate chain with subjects,
/// issuers, fingerprints and validity, payload target); nothing is judged. `format` is `jws` or `cose`; without it
/// the format is recognised from the bytes.
#[wasm_bindgen]
pub fn inspect(envelope_bytes: &[u8], format: Option<String>) -> String {
    text(wire::inspect_json(envelope_bytes, format.as_deref()))
}

/// The package version and the wire version it speaks, as JSON: `{"package": "0.1.0", "wire": 1}`.
#[wasm_bindgen]
pub fn version() -> String {
    format!("{{\"package\":\"{}\",\"wire\":{}}}", env!("CARGO_PKG_VERSION"), wire::WIRE_VERSION)
}

/// The wire functions return serde_json output, always UTF-8; a lossy conversion keeps that a non-event.
fn text(json: Vec<u8>) -> String {
    String::from_utf8(json).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn verify_answers_in_the_wire_format() {
        let response: Value = serde_json::from_str(&verify("{\"version\":1}")).unwrap();
        assert_eq!(response["version"], 1);
        assert_eq!(response["error"]["kind"], "request-invalid");
        let response: Value = serde_json::from_str(&verify("{\"version\":9}")).unwrap();
        assert_eq!(response["error"]["kind"], "unsupported-version");
    }

    #[test]
    fn verify_is_the_wire_function() {
        let request = br#"{"version":1,"target":{"type":"manifest","mediaType":"m","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"policy":{"statement":{"name":"s","registryScopes":["*"],"signatureVerification":{"level":"skip"}}},"now":0}"#;
        let expected = String::from_utf8(wire::verify_json(request)).unwrap();
        assert_eq!(verify(std::str::from_utf8(request).unwrap()), expected);
        let response: Value = serde_json::from_str(&expected).unwrap();
        assert_eq!(response["verdict"]["decision"]["result"], "skipped");
    }

    #[test]
    fn inspect_reports_unreadable_envelopes_and_version_names_the_wire() {
        let response: Value = serde_json::from_str(&inspect(b"{}", None)).unwrap();
        assert_eq!(response["error"]["kind"], "envelope-invalid");
        let response: Value = serde_json::from_str(&inspect(b"{}", Some(String::from("zip")))).unwrap();
        assert_eq!(response["error"]["kind"], "request-invalid");
        let v: Value = serde_json::from_str(&version()).unwrap();
        assert_eq!((v["package"].as_str(), v["wire"].as_u64()), (Some(env!("CARGO_PKG_VERSION")), Some(1)));
    }
}
