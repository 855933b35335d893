//! Signed and unsigned attributes of a Notary Project signature, independent of the envelope format.
//!
//! JWS and COSE spell the attributes differently (JSON strings vs CBOR tags) but obey the same rules: which ones are
//! critical, which signing scheme allows which time, expiry after signing time. The format decoders fill a
//! [`DecodedHeader`] and [`SignedAttributes::from_decoded`] applies every rule once, so both formats agree.

use super::payload::PAYLOAD_MEDIA_TYPE;
use super::EnvelopeError;
use crate::time::Timestamp;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde_json::Value;

/// Header name of the signing scheme (JWS member and COSE text label alike).
pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
/// Header name of the (untrusted, signer-claimed) signing time of `notary.x509`.
pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
/// Header name of the authentic signing time of `notary.x509.signingAuthority`.
pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
/// Header name of the signature expiry.
pub const EXPIRY: &str = "io.cncf.notary.expiry";
/// Header name of the verification plugin a verifier must run.
pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
/// Header name of the minimum version of that plugin.
pub const VERIFICATION_PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";
/// Unprotected header name of the signing agent string.
pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";
/// Unprotected header name of the RFC 3161 timestamp token over the signature bytes.
pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";

/// Longest `crit` list accepted; real envelopes list at most a handful of names.
pub(crate) const MAX_CRITICAL: usize = 64;

/// The Notary signing scheme: it decides which trust store type vouches for the signer and which time is trusted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigningScheme {
    /// `notary.x509`: the signer's chain ends in a `ca` trust store; the signing time is only a claim.
    X509,
    /// `notary.x509.signingAuthority`: the chain ends in a `signingAuthority` store, which vouches for the time.
    X509SigningAuthority,
}

impl SigningScheme {
    /// The exact string the specification uses.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningScheme::X509 => "notary.x509",
            SigningScheme::X509SigningAuthority => "notary.x509.signingAuthority",
        }
    }

    /// Looks the scheme up by its exact (case-sensitive) name.
    pub fn from_name(name: &str) -> Option<Self> {
        [SigningScheme::X509, SigningScheme::X509SigningAuthority].into_iter().find(|s| s.as_str() == name)
    }
}

/// A signed attribute outside the ones the specification names, kept so a verification plugin can judge it.
#[derive(Clone, Debug, PartialEq)]
pub struct ExtendedAttribute {
    /// The header name (COSE integer labels are rendered in decimal).
    pub key: String,
    /// The value (COSE values converted as Go's JSON encoder would: byte strings become standard base64).
    pub value: Value,
    /// Whether the header is listed in `crit`: a verifier that cannot process it must reject the signature.
    pub critical: bool,
}

/// The protected (signed) attributes of an envelope, after every specification rule has been checked.
#[derive(Clone, Debug, PartialEq)]
pub struct SignedAttributes {
    /// The signing scheme.
    pub signing_scheme: SigningScheme,
    /// Signer-claimed signing time; present exactly for [`SigningScheme::X509`].
    pub signing_time: Option<Timestamp>,
    /// Authentic signing time; present exactly for [`SigningScheme::X509SigningAuthority`].
    pub authentic_signing_time: Option<Timestamp>,
    /// Expiry, strictly after the signing time when present.
    pub expiry: Option<Timestamp>,
    /// Name of the verification plugin the signer requires.
    pub verification_plugin: Option<String>,
    /// Minimum SemVer of that plugin.
    pub verification_plugin_min_version: Option<String>,
    /// Payload media type (`cty`); always the Notary payload media type.
    pub content_type: String,
    /// Other signed attributes, in header order.
    pub extended: Vec<ExtendedAttribute>,
}

/// The unprotected attributes: not covered by the signature, so they must never change a verdict on their own.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UnsignedAttributes {
    /// Free text naming the signing tool.
    pub signing_agent: Option<String>,
    /// RFC 3161 TimeStampToken (DER CMS) over the raw signature bytes.
    pub timestamp_signature: Option<Vec<u8>>,
}

/// What a format decoder found in the protected header, typed but not yet checked against the Notary rules.
#[derive(Debug, Default)]
pub(crate) struct DecodedHeader {
    pub signing_scheme: Option<String>,
    pub signing_time: Option<Timestamp>,
    pub authentic_signing_time: Option<Timestamp>,
    pub expiry: Option<Timestamp>,
    pub verification_plugin: Option<String>,
    pub verification_plugin_min_version: Option<String>,
    pub content_type: Option<String>,
    /// `None` when the header has no `crit` at all.
    pub crit: Option<Vec<String>>,
    /// Every other header, in header order.
    pub extended: Vec<(String, Value)>,
}

impl DecodedHeader {
    fn has(&self, name: &str) -> bool {
        match name {
            SIGNING_SCHEME => self.signing_scheme.is_some(),
            SIGNING_TIME => self.signing_time.is_some(),
            AUTHENTIC_SIGNING_TIME => self.authentic_signing_time.is_some(),
            EXPIRY => self.expiry.is_some(),
            VERIFICATION_PLUGIN => self.verification_plugin.is_some(),
            VERIFICATION_PLUGIN_MIN_VERSION => self.verification_plugin_min_version.is_some(),
            other => self.extended.iter().any(|(k, _)| k == other),
        }
    }
}

impl SignedAttributes {
    /// Applies every rule of the specification to a decoded header.
    ///
    /// Critical extended attributes are kept (see [`SignedAttributes::critical_extended`]): whether anything
    /// processes them is the verification pipeline's decision, which refuses them unless a verification plugin
    /// does (stricter than notation-go, as the specification requires).
    pub(crate) fn from_decoded(header: DecodedHeader) -> Result<Self, EnvelopeError> {
        let crit = match &header.crit {
            Some(list) if !list.is_empty() => list,
            _ => return Err(EnvelopeError::CritAbsent),
        };
        for (i, name) in crit.iter().enumerate() {
            if crit.iter().take(i).any(|earlier| earlier == name) {
                return Err(EnvelopeError::DuplicateKey { what: alloc::format!("crit entry {name:?}") });
            }
            if matches!(name.as_str(), "alg" | "cty" | "crit" | SIGNING_TIME) {
                return Err(EnvelopeError::Malformed {
                    what: alloc::format!("crit lists {name:?}, which must not be critical"),
                });
            }
            if !header.has(name) {
                return Err(EnvelopeError::CriticalNotPresent { name: name.clone() });
            }
        }
        let must_be_critical =
            [SIGNING_SCHEME, AUTHENTIC_SIGNING_TIME, EXPIRY, VERIFICATION_PLUGIN, VERIFICATION_PLUGIN_MIN_VERSION];
        for name in must_be_critical {
            if header.has(name) && !crit.iter().any(|c| c == name) {
                return Err(EnvelopeError::MissingCritical { name: String::from(name) });
            }
        }

        let scheme_name =
            header.signing_scheme.as_deref().ok_or(EnvelopeError::MissingAttribute { name: SIGNING_SCHEME })?;
        let signing_scheme = SigningScheme::from_name(scheme_name)
            .ok_or_else(|| EnvelopeError::UnknownSigningScheme { value: String::from(scheme_name) })?;

        let content_type = header.content_type.clone().ok_or(EnvelopeError::MissingAttribute { name: "cty" })?;

        let extended = header
            .extended
            .iter()
            .map(|(key, value)| ExtendedAttribute {
                key: key.clone(),
                value: value.clone(),
                critical: crit.iter().any(|c| c == key),
            })
            .collect::<Vec<_>>();

        let attributes = SignedAttributes {
            signing_scheme,
            signing_time: header.signing_time,
            authentic_signing_time: header.authentic_signing_time,
            expiry: header.expiry,
            verification_plugin: header.verification_plugin,
            verification_plugin_min_version: header.verification_plugin_min_version,
            content_type,
            extended,
        };
        attributes.check_rules()?;
        Ok(attributes)
    }

    /// Checks the rules that hold for both received and to-be-signed attributes: scheme-dependent times,
    /// expiry after signing time, content type, plugin fields, no clash between extended and named headers.
    pub(crate) fn check_rules(&self) -> Result<(), EnvelopeError> {
        let violation = |what: &str| Err(EnvelopeError::SchemeRuleViolation { what: String::from(what) });
        let effective_time = match self.signing_scheme {
            SigningScheme::X509 => {
                if self.authentic_signing_time.is_some() {
                    return violation("authenticSigningTime is not allowed with notary.x509");
                }
                match self.signing_time {
                    Some(t) => t,
                    None => return violation("signingTime is required with notary.x509"),
                }
            }
            SigningScheme::X509SigningAuthority => {
                if self.signing_time.is_some() {
                    return violation("signingTime is not allowed with notary.x509.signingAuthority");
                }
                match self.authentic_signing_time {
                    Some(t) => t,
                    None => return violation("authenticSigningTime is required with notary.x509.signingAuthority"),
                }
            }
        };
        if let Some(expiry) = self.expiry {
            if expiry <= effective_time {
                return Err(EnvelopeError::ExpiryNotAfterSigningTime { signing_time: effective_time, expiry });
            }
        }
        if self.content_type != PAYLOAD_MEDIA_TYPE {
            return Err(EnvelopeError::ContentTypeMismatch { found: self.content_type.clone() });
        }
        match (&self.verification_plugin, &self.verification_plugin_min_version) {
            (Some(name), _) if name.trim().is_empty() => return violation("verificationPlugin is empty"),
            (_, Some(version)) if version.trim().is_empty() => {
                return violation("verificationPluginMinVersion is empty")
            }
            (None, Some(_)) => return violation("verificationPluginMinVersion without verificationPlugin"),
            _ => {}
        }
        for (i, attribute) in self.extended.iter().enumerate() {
            if is_named_header(&attribute.key) {
                return Err(EnvelopeError::DuplicateKey {
                    what: alloc::format!("extended attribute {:?} clashes with a named header", attribute.key),
                });
            }
            if self.extended.iter().take(i).any(|earlier| earlier.key == attribute.key) {
                return Err(EnvelopeError::DuplicateKey {
                    what: alloc::format!("extended attribute {:?}", attribute.key),
                });
            }
        }
        Ok(())
    }

    /// The time the signature claims (or, for signingAuthority, asserts) it was made.
    pub fn effective_signing_time(&self) -> Option<Timestamp> {
        self.signing_time.or(self.authentic_signing_time)
    }

    /// Critical extended attributes: a verifier must get each of them processed (by the named plugin) or reject.
    pub fn critical_extended(&self) -> impl Iterator<Item = &ExtendedAttribute> {
        self.extended.iter().filter(|a| a.critical)
    }

    /// The `crit` list in the order notation-go's JWS encoder writes it: scheme, critical extended attributes
    /// (plugin fields first), authenticSigningTime, expiry.
    pub(crate) fn jws_critical_names(&self) -> Vec<String> {
        let mut names = Vec::from([SIGNING_SCHEME.to_string()]);
        names.extend(self.critical_extended_names());
        if self.authentic_signing_time.is_some() {
            names.push(AUTHENTIC_SIGNING_TIME.to_string());
        }
        if self.expiry.is_some() {
            names.push(EXPIRY.to_string());
        }
        names
    }

    /// The `crit` list in the order notation-core-go's COSE encoder writes it: scheme, authenticSigningTime,
    /// expiry, critical extended attributes (plugin fields first).
    pub(crate) fn cose_critical_names(&self) -> Vec<String> {
        let mut names = Vec::from([SIGNING_SCHEME.to_string()]);
        if self.authentic_signing_time.is_some() {
            names.push(AUTHENTIC_SIGNING_TIME.to_string());
        }
        if self.expiry.is_some() {
            names.push(EXPIRY.to_string());
        }
        names.extend(self.critical_extended_names());
        names
    }

    fn critical_extended_names(&self) -> Vec<String> {
        let mut names = Vec::new();
        if self.verification_plugin.is_some() {
            names.push(VERIFICATION_PLUGIN.to_string());
        }
        if self.verification_plugin_min_version.is_some() {
            names.push(VERIFICATION_PLUGIN_MIN_VERSION.to_string());
        }
        names.extend(self.critical_extended().map(|a| a.key.clone()));
        names
    }
}

/// Whether `name` is a header the specification (or JOSE/COSE itself) gives a meaning, so an extended attribute
/// may not reuse it.
fn is_named_header(name: &str) -> bool {
    matches!(
        name,
        "alg"
            | "cty"
            | "crit"
            | SIGNING_SCHEME
            | SIGNING_TIME
            | AUTHENTIC_SIGNING_TIME
            | EXPIRY
            | VERIFICATION_PLUGIN
            | VERIFICATION_PLUGIN_MIN_VERSION
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> DecodedHeader {
        DecodedHeader {
            signing_scheme: Some("notary.x509".into()),
            signing_time: Some(Timestamp::from_unix(1_000)),
            content_type: Some(PAYLOAD_MEDIA_TYPE.into()),
            crit: Some(Vec::from([SIGNING_SCHEME.to_string()])),
            ..DecodedHeader::default()
        }
    }

    #[test]
    fn accepts_a_minimal_x509_header() {
        let attrs = SignedAttributes::from_decoded(header()).unwrap();
        assert_eq!(attrs.signing_scheme, SigningScheme::X509);
        assert_eq!(attrs.effective_signing_time(), Some(Timestamp::from_unix(1_000)));
    }

    #[test]
    fn crit_rules() {
        let mut h = header();
        h.crit = None;
        assert_eq!(SignedAttributes::from_decoded(h).unwrap_err(), EnvelopeError::CritAbsent);
        let mut h = header();
        h.crit = Some(Vec::new());
        assert_eq!(SignedAttributes::from_decoded(h).unwrap_err(), EnvelopeError::CritAbsent);
        let mut h = header();
        h.crit = Some(Vec::from(["other".to_string(), SIGNING_SCHEME.to_string()]));
        assert!(
            matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::CriticalNotPresent { name }) if name == "other")
        );
        let mut h = header();
        h.expiry = Some(Timestamp::from_unix(2_000));
        assert!(
            matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::MissingCritical { name }) if name == EXPIRY)
        );
        let mut h = header();
        h.crit = Some(Vec::from([SIGNING_SCHEME.to_string(), SIGNING_SCHEME.to_string()]));
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::DuplicateKey { .. })));
        let mut h = header();
        h.crit = Some(Vec::from([SIGNING_SCHEME.to_string(), SIGNING_TIME.to_string()]));
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::Malformed { .. })));
    }

    #[test]
    fn unknown_critical_attributes_are_kept_for_the_pipeline() {
        let mut h = header();
        h.extended.push(("SomeKey".into(), Value::from("v")));
        h.crit = Some(Vec::from([SIGNING_SCHEME.to_string(), "SomeKey".to_string()]));
        let attrs = SignedAttributes::from_decoded(h).unwrap();
        assert_eq!(attrs.critical_extended().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["SomeKey"]);

        let mut h = header();
        h.extended.push(("SomeKey".into(), Value::from("v")));
        h.verification_plugin = Some("p".into());
        h.crit = Some(Vec::from([SIGNING_SCHEME.to_string(), "SomeKey".to_string(), VERIFICATION_PLUGIN.to_string()]));
        let attrs = SignedAttributes::from_decoded(h).unwrap();
        assert_eq!(attrs.critical_extended().map(|a| a.key.as_str()).collect::<Vec<_>>(), ["SomeKey"]);
    }

    #[test]
    fn scheme_and_time_rules() {
        let mut h = header();
        h.authentic_signing_time = Some(Timestamp::from_unix(1));
        h.crit = Some(Vec::from([SIGNING_SCHEME.to_string(), AUTHENTIC_SIGNING_TIME.to_string()]));
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::SchemeRuleViolation { .. })));

        let mut h = header();
        h.signing_scheme = Some("notary.x509.signingAuthority".into());
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::SchemeRuleViolation { .. })));

        let mut h = header();
        h.signing_time = None;
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::SchemeRuleViolation { .. })));

        let mut h = header();
        h.signing_scheme = Some("notary.x509.SigningAuthority".into());
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::UnknownSigningScheme { .. })));

        for expiry in [999, 1_000] {
            let mut h = header();
            h.expiry = Some(Timestamp::from_unix(expiry));
            h.crit = Some(Vec::from([SIGNING_SCHEME.to_string(), EXPIRY.to_string()]));
            assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::ExpiryNotAfterSigningTime { .. })));
        }

        let mut h = header();
        h.content_type = Some("application/json".into());
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::ContentTypeMismatch { .. })));

        let mut h = header();
        h.verification_plugin_min_version = Some("1.0.0".into());
        h.crit = Some(Vec::from([SIGNING_SCHEME.to_string(), VERIFICATION_PLUGIN_MIN_VERSION.to_string()]));
        assert!(matches!(SignedAttributes::from_decoded(h), Err(EnvelopeError::SchemeRuleViolation { .. })));
    }
}
