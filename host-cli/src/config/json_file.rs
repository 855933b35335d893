//! Decoding nv2's and notation's small JSON documents (`config.json`, `signingkeys.json`) with errors that name
//! the file, line and column.
//!
//! The top level must be a JSON object, as with Go's decoder into a struct (serde would otherwise accept an array
//! as a struct written positionally).

use std::path::Path;

use serde::de::DeserializeOwned;

use super::ConfigError;

/// Decodes `bytes` read from `path` into `T`.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<T, ConfigError> {
    let malformed = |reason: String| ConfigError::Json { path: path.into(), reason };
    match bytes.trim_ascii_start().first() {
        Some(b'{') => {}
        Some(_) => return Err(malformed("the document must be a JSON object".into())),
        None => return Err(malformed("the file is empty".into())),
    }
    serde_json::from_slice(bytes).map_err(|e| malformed(e.to_string()))
}
