//! The Kubernetes manifests under `deploy/`, read as JSON values (the shape the API server and Gatekeeper see).
//!
//! YAML is parsed with `yaml_serde` (the YAML organisation's continuation of serde_yaml). A file may hold several
//! `---`-separated documents; documents that are only comments are skipped.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::Value;

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file or directory could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not well-formed YAML, or holds something JSON cannot represent (such as a non-string key).
    #[error("{path}: document {document} is not well-formed YAML: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The document's position in the file, from 1.
        document: usize,
        /// The parser's error, with line and column.
        source: yaml_serde::Error,
    },
    /// The file was expected to hold exactly one document.
    #[error("{path}: expected exactly one YAML document, found {found}")]
    DocumentCount {
        /// The file.
        path: PathBuf,
        /// How many non-empty documents it holds.
        found: usize,
    },
}

/// The repository's root directory (the workspace root, parent of this crate).
pub fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(".."))
}

/// The `deploy/` directory of the repository.
pub fn deploy_dir() -> PathBuf {
    repository_root().join("deploy")
}

/// Every `.yaml`/`.yml` file under `dir`, recursively, sorted by path.
pub fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, ManifestError> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let entries = fs::read_dir(&current).map_err(|source| ManifestError::Read { path: current.clone(), source })?;
        for entry in entries {
            let entry = entry.map_err(|source| ManifestError::Read { path: current.clone(), source })?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(|source| ManifestError::Read { path: path.clone(), source })?;
            if file_type.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The documents of one YAML file, as JSON values, in file order.
pub fn read_documents(path: &Path) -> Result<Vec<Value>, ManifestError> {
    let text = fs::read_to_string(path).map_err(|source| ManifestError::Read { path: path.to_path_buf(), source })?;
    parse_documents(path, &text)
}

/// The single document of a YAML file.
pub fn read_single_document(path: &Path) -> Result<Value, ManifestError> {
    let mut documents = read_documents(path)?;
    let found = documents.len();
    match documents.pop() {
        Some(document) if found == 1 => Ok(document),
        _ => Err(ManifestError::DocumentCount { path: path.to_path_buf(), found }),
    }
}

/// The documents of YAML `text` (read from `path`, named in errors), as JSON values.
pub fn parse_documents(path: &Path, text: &str) -> Result<Vec<Value>, ManifestError> {
    let mut documents = Vec::new();
    for (index, document) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let value = Value::deserialize(document).map_err(|source| ManifestError::Parse {
            path: path.to_path_buf(),
            document: index + 1,
            source,
        })?;
        if !value.is_null() {
            documents.push(value);
        }
    }
    Ok(documents)
}
