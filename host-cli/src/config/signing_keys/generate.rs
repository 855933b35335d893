//! New signing keys (`nv2 key generate`): a random key and a code-signing certificate for it, either self-signed
//! or issued by a certificate authority the user holds, written to `localkeys/` and registered.

use std::path::{Path, PathBuf};

use nv2_core::crypto::{KeyKind, SigningKey};
use nv2_core::x509::issue::{issue, issue_self_signed, CertificateSpec, Issuer};
use nv2_core::x509::{parse_certificates, validate_chain, Certificate, ChainPurpose};

use super::StoredKey;
use crate::config::key_material::{self, MAX_CERTIFICATE_FILE_BYTES, MAX_KEY_BYTES};
use crate::config::{regular_file, ConfigDir, ConfigError};

/// Validity of a generated certificate when none is asked for.
pub const DEFAULT_VALIDITY_DAYS: u32 = 365;

const SECONDS_PER_DAY: i64 = 86_400;

/// The subject notation gives its generated certificates: `C=US, ST=WA, L=Seattle, O=Notary, CN=<name>` (as RFC
/// 4514 text, most specific first). It has the C, ST and O every `x509.subject` trusted identity needs.
pub fn notation_style_subject(common_name: &str) -> String {
    format!("CN={},O=Notary,L=Seattle,ST=WA,C=US", escape_rfc4514(common_name))
}

/// Escapes the characters RFC 4514 reserves in an attribute value.
fn escape_rfc4514(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let edge = i == 0 || i + 1 == value.chars().count();
        if matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') || (edge && c == ' ') || (i == 0 && c == '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// How to make a new key's certificate.
#[derive(Clone, Debug)]
pub struct GenerateKeyOptions {
    /// Subject as RFC 4514 text; `None` gives [`notation_style_subject`] of the key name.
    pub subject: Option<String>,
    /// Days the certificate is valid from now (at least 1).
    pub validity_days: u32,
    /// Issue the certificate under this CA; `None` makes it self-signed.
    pub issuer: Option<CertificateAuthority>,
    /// Make the key the default signing key.
    pub make_default: bool,
}

impl Default for GenerateKeyOptions {
    fn default() -> Self {
        GenerateKeyOptions { subject: None, validity_days: DEFAULT_VALIDITY_DAYS, issuer: None, make_default: false }
    }
}

/// A certificate authority that issues new signing certificates: its key and its chain (the CA certificate first,
/// up to and including the root).
#[derive(Clone, Debug)]
pub struct CertificateAuthority {
    key: SigningKey,
    chain: Vec<Certificate>,
    origin: PathBuf,
}

impl CertificateAuthority {
    /// Reads a CA key (PKCS#8 or SEC1, PEM or DER) and its chain (PEM or DER, CA first, root included) from files
    /// the user names.
    pub fn from_files(key_path: &Path, chain_path: &Path) -> Result<Self, ConfigError> {
        let key = key_material::parse_private_key(&regular_file::read_input(key_path, MAX_KEY_BYTES)?, key_path)?;
        let bytes = regular_file::read_input(chain_path, MAX_CERTIFICATE_FILE_BYTES)?;
        let chain = parse_certificates(&bytes)
            .map_err(|source| ConfigError::Certificates { path: chain_path.into(), source: source.into() })?;
        Self::new(key, chain, chain_path)
    }

    /// A CA from a key and its chain; `origin` names it in errors. The first certificate must be a CA certificate
    /// (basicConstraints cA) for `key`.
    pub fn new(key: SigningKey, chain: Vec<Certificate>, origin: &Path) -> Result<Self, ConfigError> {
        let refuse = |reason: String| ConfigError::CertificateAuthority { path: origin.into(), reason };
        let ca = chain.first().ok_or_else(|| refuse("the file holds no certificate".into()))?;
        if !ca.is_ca() {
            return Err(refuse(format!(
                "{} is not a CA certificate (basicConstraints cA is not set)",
                ca.subject_string()
            )));
        }
        if ca.public_key().ok() != Some(key.public_key()) {
            return Err(refuse(format!("the key does not belong to {}", ca.subject_string())));
        }
        Ok(CertificateAuthority { key, chain, origin: origin.into() })
    }

    /// The CA's chain, CA certificate first.
    pub fn chain(&self) -> &[Certificate] {
        &self.chain
    }

    /// Issues a code-signing certificate for `key` and returns the full chain (leaf first), checked against the
    /// Notary chain rules at `spec.not_before`.
    fn issue_for(&self, spec: &CertificateSpec, key: &SigningKey) -> Result<Vec<Certificate>, ConfigError> {
        let ca = self.chain.first().ok_or_else(|| ConfigError::CertificateAuthority {
            path: self.origin.clone(),
            reason: "the file holds no certificate".into(),
        })?;
        let issuer_name = key_material::exact_subject_text(ca)?;
        let spki = key.public_key_spki_der().map_err(|e| issue_error(spec, e.into()))?;
        let serial = key_material::random_serial()?;
        let leaf = issue(spec, &spki, Issuer { name: &issuer_name, key: &self.key }, &serial)
            .map_err(|e| issue_error(spec, e))?;
        let mut chain = vec![leaf];
        chain.extend(self.chain.iter().cloned());
        validate_chain(&chain, ChainPurpose::CodeSigning, Some(spec.not_before)).map_err(|e| {
            ConfigError::CertificateAuthority {
                path: self.origin.clone(),
                reason: format!("the issued chain is invalid: {e}"),
            }
        })?;
        Ok(chain)
    }
}

fn issue_error(spec: &CertificateSpec, source: nv2_core::x509::X509Error) -> ConfigError {
    ConfigError::Issue { subject: spec.subject.clone(), source: source.into() }
}

impl ConfigDir {
    /// Generates a random `kind` key named `name` with a code-signing certificate (self-signed, or issued by
    /// `options.issuer`), writes `localkeys/<name>.key` (PKCS#8 PEM, 0600) and `localkeys/<name>.crt` (PEM chain,
    /// leaf first) and registers it in `signingkeys.json`. Nothing is overwritten.
    pub fn generate_key(
        &self,
        name: &str,
        kind: KeyKind,
        options: &GenerateKeyOptions,
    ) -> Result<StoredKey, ConfigError> {
        super::check_key_name(name)?;
        if options.validity_days == 0 {
            return Err(ConfigError::InvalidValidity(0));
        }
        let key = key_material::random_key(kind)?;
        let now = key_material::now();
        let not_after = now.saturating_add(i64::from(options.validity_days) * SECONDS_PER_DAY);
        let subject = options.subject.clone().unwrap_or_else(|| notation_style_subject(name));
        let spec = CertificateSpec::code_signing_leaf(&subject, now, not_after);
        let chain = match &options.issuer {
            Some(ca) => ca.issue_for(&spec, &key)?,
            None => {
                let leaf = issue_self_signed(&spec, &key, &key_material::random_serial()?)
                    .map_err(|e| issue_error(&spec, e))?;
                let chain = vec![leaf];
                validate_chain(&chain, ChainPurpose::CodeSigning, Some(now)).map_err(|e| issue_error(&spec, e))?;
                chain
            }
        };
        self.store_local_key(name, &key, chain, options.make_default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_reserved_characters() {
        assert_eq!(notation_style_subject("a,b"), "CN=a\\,b,O=Notary,L=Seattle,ST=WA,C=US");
        assert_eq!(escape_rfc4514(" #x "), "\\ #x\\ ");
        assert_eq!(escape_rfc4514("#x"), "\\#x");
    }
}
