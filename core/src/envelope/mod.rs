//! Notary Project signature envelopes, JWS (`application/jose+json`) and COSE (`application/cose`): parsing with
//! every rule of the specification, signature verification over the bytes exactly as received, and building.
//!
//! Parsing checks structure and the signed-attribute rules; [`ParsedEnvelope::verify_signature`] checks the
//! cryptography with the leaf certificate's key. Trust (chain, trust store, identity, expiry, timestamps) is the
//! verification pipeline's job; every error here is an integrity failure.

mod attributes;
mod cbor;
mod cose;
mod json_text;
mod jws;
mod payload;

pub use attributes::{
    ExtendedAttribute, SignedAttributes, SigningScheme, UnsignedAttributes, AUTHENTIC_SIGNING_TIME, EXPIRY,
    SIGNING_AGENT, SIGNING_SCHEME, SIGNING_TIME, TIMESTAMP_SIGNATURE, VERIFICATION_PLUGIN,
    VERIFICATION_PLUGIN_MIN_VERSION,
};
pub use payload::{Payload, TargetArtifact, PAYLOAD_MEDIA_TYPE};

use crate::crypto::{CryptoError, PublicKey, SignatureAlgorithm, SigningKey};
use crate::limits::{MAX_CERTIFICATE_BYTES, MAX_CHAIN_LENGTH, MAX_ENVELOPE_BYTES};
use crate::time::Timestamp;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The two envelope formats of the Notary Project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnvelopeFormat {
    /// Flattened JWS JSON.
    Jws,
    /// COSE_Sign1, tag 18.
    Cose,
}

impl EnvelopeFormat {
    /// The envelope media type (the signature manifest layer's `mediaType`).
    pub fn media_type(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => "application/jose+json",
            EnvelopeFormat::Cose => "application/cose",
        }
    }

    /// Looks a format up by media type.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        [EnvelopeFormat::Jws, EnvelopeFormat::Cose].into_iter().find(|f| f.media_type() == media_type)
    }

    /// The file suffix notation uses for blob signatures (`<blob>.jws.sig`).
    pub fn file_suffix(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => ".jws.sig",
            EnvelopeFormat::Cose => ".cose.sig",
        }
    }

    /// The short name used on the command line and in `--signature-format`.
    pub fn name(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => "jws",
            EnvelopeFormat::Cose => "cose",
        }
    }
}

/// Why an envelope was refused or could not be built. Every variant of a received envelope is an integrity
/// failure; the variants say precisely what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The input exceeds its size bound.
    #[error("envelope of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// Bytes received.
        size: usize,
        /// Bytes allowed.
        limit: usize,
    },
    /// The input has far more structure (values, nesting) than any real envelope.
    #[error("{what} is too complex (too many values or too deeply nested)")]
    TooComplex {
        /// Which part.
        what: &'static str,
    },
    /// The bytes do not form the required structure.
    #[error("malformed envelope: {what}")]
    Malformed {
        /// What is wrong.
        what: String,
    },
    /// The JWS object has a member other than payload, protected, header, signature.
    #[error("unexpected JWS member {name:?}")]
    UnexpectedMember {
        /// The member's name.
        name: String,
    },
    /// A required JWS member is absent.
    #[error("JWS member {name:?} is missing")]
    MissingMember {
        /// The member's name.
        name: &'static str,
    },
    /// A base64 field is not valid (JWS segments must be unpadded base64url; x5c and tokens padded standard).
    #[error("invalid base64 in {what}")]
    BadBase64 {
        /// Which field.
        what: &'static str,
    },
    /// A key, label or name appears twice (parsers disagreeing on duplicates enable signature confusion).
    #[error("duplicate {what}")]
    DuplicateKey {
        /// What is duplicated.
        what: String,
    },
    /// The algorithm is not one nv2 accepts (`none`, HS256, RS256, unknown COSE ids...).
    #[error("unsupported signature algorithm {alg:?}")]
    UnsupportedAlgorithm {
        /// The algorithm as written in the envelope.
        alg: String,
    },
    /// The envelope's algorithm is not the one the signing key dictates.
    #[error("envelope algorithm {alg} does not match the {key} signing key")]
    AlgorithmKeyMismatch {
        /// The envelope's algorithm.
        alg: SignatureAlgorithm,
        /// The key's description.
        key: String,
    },
    /// The key cannot be used for Notary signatures (for example RSA-1024).
    #[error("unusable key: {0}")]
    Key(CryptoError),
    /// The protected header has no (or an empty) `crit` list, which the Notary specification requires.
    #[error("protected header has no crit list")]
    CritAbsent,
    /// A header that must be critical is not listed in `crit`.
    #[error("header {name:?} must be listed in crit")]
    MissingCritical {
        /// The header.
        name: String,
    },
    /// `crit` lists a header that is not present.
    #[error("crit lists {name:?}, which is not in the protected header")]
    CriticalNotPresent {
        /// The header.
        name: String,
    },
    /// A required signed attribute is absent.
    #[error("signed attribute {name:?} is missing")]
    MissingAttribute {
        /// The attribute.
        name: &'static str,
    },
    /// The signing scheme is neither `notary.x509` nor `notary.x509.signingAuthority`.
    #[error("unknown signing scheme {value:?}")]
    UnknownSigningScheme {
        /// The value found.
        value: String,
    },
    /// A signing-scheme rule is broken (signingTime with signingAuthority, ...).
    #[error("signing scheme rule violated: {what}")]
    SchemeRuleViolation {
        /// The rule.
        what: String,
    },
    /// The expiry is not strictly after the signing time.
    #[error("expiry {expiry:?} is not after signing time {signing_time:?}")]
    ExpiryNotAfterSigningTime {
        /// Signing (or authentic signing) time.
        signing_time: Timestamp,
        /// Expiry.
        expiry: Timestamp,
    },
    /// The content type is not the Notary payload media type.
    #[error("content type {found:?} is not {PAYLOAD_MEDIA_TYPE}")]
    ContentTypeMismatch {
        /// The content type found.
        found: String,
    },
    /// A COSE envelope is not wrapped in CBOR tag 18.
    #[error("COSE envelope is not a tagged COSE_Sign1 (tag 18)")]
    MissingCoseTag,
    /// The envelope carries no certificate chain.
    #[error("envelope has no certificate chain")]
    MissingCertificateChain,
    /// The chain has more certificates than allowed.
    #[error("certificate chain of {count} certificates exceeds the limit")]
    ChainTooLong {
        /// Certificates found.
        count: usize,
    },
    /// One certificate exceeds the size bound.
    #[error("certificate {index} of {size} bytes exceeds the limit")]
    CertificateTooLarge {
        /// Position in the chain (0 = leaf).
        index: usize,
        /// Its size.
        size: usize,
    },
    /// The leaf certificate could not be read when signing.
    #[error("leaf certificate: {what}")]
    Certificate {
        /// What is wrong.
        what: String,
    },
    /// When signing: the leaf certificate's key is not the signing key.
    #[error("the leaf certificate does not certify the signing key")]
    ChainDoesNotMatchKey,
    /// The signature does not verify over the received signing input.
    #[error("signature does not verify")]
    SignatureInvalid,
    /// The payload is not a valid Notary payload.
    #[error("invalid payload: {what}")]
    InvalidPayload {
        /// What is wrong.
        what: String,
    },
    /// Building the envelope failed.
    #[error("cannot encode envelope: {what}")]
    Encoding {
        /// What failed.
        what: String,
    },
}

/// What both format parsers produce.
#[derive(Clone, Debug)]
pub(crate) struct EnvelopeParts {
    pub algorithm: SignatureAlgorithm,
    /// JWS: the received base64url `protected` text; COSE: the received protected header bytes.
    pub protected: Vec<u8>,
    pub payload: Vec<u8>,
    pub signed: SignedAttributes,
    pub unsigned: UnsignedAttributes,
    pub chain: Vec<Vec<u8>>,
    pub signature: Vec<u8>,
    pub signing_input: Vec<u8>,
}

/// Refuses chains longer than [`MAX_CHAIN_LENGTH`] and certificates larger than [`MAX_CERTIFICATE_BYTES`].
pub(crate) fn check_chain_bounds(count: usize, certificate_size: Option<usize>) -> Result<(), EnvelopeError> {
    if count > MAX_CHAIN_LENGTH {
        return Err(EnvelopeError::ChainTooLong { count });
    }
    match certificate_size {
        Some(size) if size > MAX_CERTIFICATE_BYTES => {
            Err(EnvelopeError::CertificateTooLarge { index: count.saturating_sub(1), size })
        }
        _ => Ok(()),
    }
}

/// A parsed envelope: structure and signed-attribute rules checked, signature not yet verified.
#[derive(Clone, Debug)]
pub struct ParsedEnvelope {
    /// The envelope format.
    pub format: EnvelopeFormat,
    /// The signature algorithm the protected header declares.
    pub algorithm: SignatureAlgorithm,
    parts: EnvelopeParts,
}

impl ParsedEnvelope {
    /// Parses `bytes` (at most [`MAX_ENVELOPE_BYTES`]) as an envelope of `format`.
    pub fn parse(format: EnvelopeFormat, bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() > MAX_ENVELOPE_BYTES {
            return Err(EnvelopeError::TooLarge { size: bytes.len(), limit: MAX_ENVELOPE_BYTES });
        }
        let parts = match format {
            EnvelopeFormat::Jws => jws::parse(bytes)?,
            EnvelopeFormat::Cose => cose::parse(bytes)?,
        };
        Ok(ParsedEnvelope { format, algorithm: parts.algorithm, parts })
    }

    /// The payload bytes exactly as signed.
    pub fn payload_bytes(&self) -> &[u8] {
        &self.parts.payload
    }

    /// The payload, read strictly. Only meaningful once the signature verified.
    pub fn payload(&self) -> Result<Payload, EnvelopeError> {
        Payload::from_json(&self.parts.payload)
    }

    /// The signed attributes.
    pub fn signed(&self) -> &SignedAttributes {
        &self.parts.signed
    }

    /// The unsigned attributes.
    pub fn unsigned(&self) -> &UnsignedAttributes {
        &self.parts.unsigned
    }

    /// The certificate chain (DER, leaf first) as received.
    pub fn certificate_chain(&self) -> &[Vec<u8>] {
        &self.parts.chain
    }

    /// The raw signature bytes (ECDSA as `r || s`); an RFC 3161 timestamp covers exactly these.
    pub fn signature(&self) -> &[u8] {
        &self.parts.signature
    }

    /// The bytes the signature is over: JWS `protected.payload` text, or the encoded COSE `Sig_structure`.
    pub fn signing_input(&self) -> &[u8] {
        &self.parts.signing_input
    }

    /// Verifies the signature with `key` (the leaf certificate's key). The envelope's `alg` must be the very
    /// algorithm the key dictates; otherwise an attacker could pick a weaker or confusable algorithm.
    pub fn verify_signature(&self, key: &PublicKey) -> Result<(), EnvelopeError> {
        let expected = key.notary_algorithm().map_err(EnvelopeError::Key)?;
        if expected != self.algorithm {
            return Err(EnvelopeError::AlgorithmKeyMismatch { alg: self.algorithm, key: key.describe() });
        }
        key.verify(self.algorithm.scheme(), &self.parts.signing_input, &self.parts.signature).map_err(|e| match e {
            CryptoError::AlgorithmMismatch { key, .. } => {
                EnvelopeError::AlgorithmKeyMismatch { alg: self.algorithm, key }
            }
            _ => EnvelopeError::SignatureInvalid,
        })
    }

    /// Re-emits the envelope with `token` as its timestamp signature, leaving every signed byte unchanged. Hosts
    /// sign, send [`ParsedEnvelope::signature`] to a TSA, then attach the token with this.
    pub fn with_timestamp(&self, token: Vec<u8>) -> Result<Vec<u8>, EnvelopeError> {
        let unsigned = UnsignedAttributes { timestamp_signature: Some(token), ..self.parts.unsigned.clone() };
        match self.format {
            EnvelopeFormat::Jws => jws::rewrite_unsigned(&self.parts, &unsigned),
            EnvelopeFormat::Cose => cose::write_envelope(
                &self.parts.protected,
                &self.parts.payload,
                &self.parts.signature,
                &self.parts.chain,
                &unsigned,
            ),
        }
    }
}

/// Everything needed to build an envelope except the key and the chain.
#[derive(Clone, Debug, PartialEq)]
pub struct SignRequest {
    /// Envelope format to produce.
    pub format: EnvelopeFormat,
    /// Payload bytes (normally [`Payload::to_json`]).
    pub payload: Vec<u8>,
    /// Signing scheme.
    pub signing_scheme: SigningScheme,
    /// Signing time (becomes the authentic signing time for signingAuthority).
    pub signing_time: Timestamp,
    /// Optional expiry, strictly after `signing_time`.
    pub expiry: Option<Timestamp>,
    /// Signing agent string (omitted when empty).
    pub signing_agent: String,
    /// Verification plugin verifiers must run.
    pub verification_plugin: Option<String>,
    /// Minimum version of that plugin.
    pub verification_plugin_min_version: Option<String>,
    /// Further signed attributes.
    pub extended: Vec<ExtendedAttribute>,
    /// RFC 3161 token over the signature, if already known (usually attached later with
    /// [`ParsedEnvelope::with_timestamp`]).
    pub timestamp_signature: Option<Vec<u8>>,
}

impl SignRequest {
    /// A `notary.x509` request for `payload` with no expiry, plugin or extended attributes.
    pub fn new(format: EnvelopeFormat, payload: &Payload, signing_time: Timestamp, signing_agent: &str) -> Self {
        SignRequest {
            format,
            payload: payload.to_json(),
            signing_scheme: SigningScheme::X509,
            signing_time,
            expiry: None,
            signing_agent: signing_agent.to_string(),
            verification_plugin: None,
            verification_plugin_min_version: None,
            extended: Vec::new(),
            timestamp_signature: None,
        }
    }

    /// The signed attributes this request produces.
    pub fn signed_attributes(&self) -> SignedAttributes {
        let (signing_time, authentic_signing_time) = match self.signing_scheme {
            SigningScheme::X509 => (Some(self.signing_time), None),
            SigningScheme::X509SigningAuthority => (None, Some(self.signing_time)),
        };
        SignedAttributes {
            signing_scheme: self.signing_scheme,
            signing_time,
            authentic_signing_time,
            expiry: self.expiry,
            verification_plugin: self.verification_plugin.clone(),
            verification_plugin_min_version: self.verification_plugin_min_version.clone(),
            content_type: PAYLOAD_MEDIA_TYPE.to_string(),
            extended: self.extended.clone(),
        }
    }
}

/// Encodes the protected header exactly as it would be signed: JWS header JSON (before base64url) or the COSE
/// protected header CBOR map. The attributes are checked against the specification first.
pub fn encode_signed_attributes(
    format: EnvelopeFormat,
    algorithm: SignatureAlgorithm,
    attributes: &SignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    match format {
        EnvelopeFormat::Jws => jws::encode_protected(algorithm, attributes),
        EnvelopeFormat::Cose => cose::encode_protected(algorithm, attributes),
    }
}

/// Decodes a protected header (JWS: the JSON bytes; COSE: the CBOR bytes of the protected map) into its algorithm
/// and signed attributes, applying every attribute rule. With [`encode_signed_attributes`] it proves that nv2's
/// encoder writes other implementations' headers byte for byte (the encoding-vector corpus cases).
pub fn decode_protected_header(
    format: EnvelopeFormat,
    bytes: &[u8],
) -> Result<(SignatureAlgorithm, SignedAttributes), EnvelopeError> {
    let (algorithm, decoded) = match format {
        EnvelopeFormat::Jws => jws::decode_protected(bytes)?,
        EnvelopeFormat::Cose => cose::decode_protected_bytes(bytes)?,
    };
    Ok((algorithm, SignedAttributes::from_decoded(decoded)?))
}

/// Signs `request` with `key` and returns envelope bytes notation accepts. `chain_der` is the certificate chain,
/// leaf first; the leaf must certify `key`, which is checked by verifying the fresh signature with the leaf's key.
pub fn sign(request: &SignRequest, key: &SigningKey, chain_der: &[Vec<u8>]) -> Result<Vec<u8>, EnvelopeError> {
    if request.payload.len() > MAX_ENVELOPE_BYTES {
        return Err(EnvelopeError::TooLarge { size: request.payload.len(), limit: MAX_ENVELOPE_BYTES });
    }
    let leaf = chain_der.first().ok_or(EnvelopeError::MissingCertificateChain)?;
    check_chain_bounds(chain_der.len(), None)?;
    for (index, der) in chain_der.iter().enumerate() {
        check_chain_bounds(index + 1, Some(der.len()))?;
    }
    let leaf_key = leaf_public_key(leaf)?;
    let algorithm = key.algorithm();
    let leaf_algorithm = leaf_key.notary_algorithm().map_err(EnvelopeError::Key)?;
    if leaf_algorithm != algorithm {
        return Err(EnvelopeError::AlgorithmKeyMismatch { alg: algorithm, key: leaf_key.describe() });
    }

    let attributes = request.signed_attributes();
    let protected = encode_signed_attributes(request.format, algorithm, &attributes)?;
    let unsigned = UnsignedAttributes {
        signing_agent: Some(request.signing_agent.clone()).filter(|a| !a.is_empty()),
        timestamp_signature: request.timestamp_signature.clone(),
    };
    match request.format {
        EnvelopeFormat::Jws => {
            let (protected_text, payload_text, input) = jws::signing_input(&protected, &request.payload);
            let signature = key.sign(&input);
            leaf_key.verify(algorithm.scheme(), &input, &signature).map_err(|_| EnvelopeError::ChainDoesNotMatchKey)?;
            Ok(jws::write_envelope(&protected_text, &payload_text, &signature, chain_der, &unsigned))
        }
        EnvelopeFormat::Cose => {
            let input = cose::sig_structure(&protected, &request.payload)?;
            let signature = key.sign(&input);
            leaf_key.verify(algorithm.scheme(), &input, &signature).map_err(|_| EnvelopeError::ChainDoesNotMatchKey)?;
            cose::write_envelope(&protected, &request.payload, &signature, chain_der, &unsigned)
        }
    }
}

/// The public key of a DER certificate.
fn leaf_public_key(der: &[u8]) -> Result<PublicKey, EnvelopeError> {
    use der::{Decode, Encode};
    let certificate = x509_cert::Certificate::from_der(der)
        .map_err(|e| EnvelopeError::Certificate { what: alloc::format!("not a DER certificate: {e}") })?;
    let spki = certificate
        .tbs_certificate
        .subject_public_key_info
        .to_der()
        .map_err(|e| EnvelopeError::Certificate { what: alloc::format!("public key: {e}") })?;
    PublicKey::from_spki_der(&spki).map_err(EnvelopeError::Key)
}

#[cfg(test)]
mod tests;
