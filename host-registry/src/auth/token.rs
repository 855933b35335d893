//! Registry tokens: `base64url(claims JSON) "." base64url(HMAC-SHA256(key, first part))`.
//!
//! The registry is both issuer and verifier, so a symmetric MAC is enough; the key is drawn at start-up, which makes
//! every token die with the process (tokens are short-lived anyway).

use base64ct::{Base64UrlUnpadded, Encoding};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Longest token accepted.
const MAX_TOKEN_LEN: usize = 16 * 1024;

/// What a token grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// User name (empty for anonymous).
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Granted repository actions.
    pub access: Vec<TokenAccess>,
}

/// Actions granted on one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAccess {
    /// Always `repository`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Repository name.
    pub name: String,
    /// Granted actions.
    pub actions: Vec<String>,
}

impl TokenClaims {
    /// Claims for `sub` valid until `exp`.
    pub fn new(sub: String, exp: u64, access: Vec<(String, Vec<String>)>) -> Self {
        let access = access
            .into_iter()
            .map(|(name, actions)| TokenAccess { kind: "repository".into(), name, actions })
            .collect();
        TokenClaims { sub, exp, access }
    }

    /// Whether the token grants `action` on `repo`.
    pub fn allows(&self, repo: &str, action: &str) -> bool {
        self.access.iter().any(|a| a.kind == "repository" && a.name == repo && a.actions.iter().any(|x| x == action))
    }
}

fn mac(key: &[u8; 32], data: &[u8]) -> Vec<u8> {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else { return Vec::new() };
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// Signs claims into a token string.
pub fn sign(key: &[u8; 32], claims: &TokenClaims) -> String {
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let body = Base64UrlUnpadded::encode_string(&json);
    let tag = Base64UrlUnpadded::encode_string(&mac(key, body.as_bytes()));
    format!("{body}.{tag}")
}

/// Checks the MAC and expiry of a token and returns its claims.
pub fn verify(key: &[u8; 32], token: &str, now: u64) -> Option<TokenClaims> {
    if token.len() > MAX_TOKEN_LEN {
        return None;
    }
    let (body, tag) = token.split_once('.')?;
    let tag = Base64UrlUnpadded::decode_vec(tag).ok()?;
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else { return None };
    m.update(body.as_bytes());
    m.verify_slice(&tag).ok()?;
    let json = Base64UrlUnpadded::decode_vec(body).ok()?;
    let claims: TokenClaims = serde_json::from_slice(&json).ok()?;
    (claims.exp > now).then_some(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_expire() {
        let key = [7u8; 32];
        let claims = TokenClaims::new("a".into(), 100, vec![("r".into(), vec!["pull".into()])]);
        let t = sign(&key, &claims);
        assert_eq!(verify(&key, &t, 50), Some(claims.clone()));
        assert_eq!(verify(&key, &t, 100), None);
        assert_eq!(verify(&[8u8; 32], &t, 50), None);
        assert_eq!(verify(&key, "garbage", 50), None);
        assert!(claims.allows("r", "pull"));
        assert!(!claims.allows("r", "push"));
    }
}
