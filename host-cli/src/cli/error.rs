//! The CLI's failure type: every library error, plus usage mistakes and refused verifications. Each prints as one
//! line naming the file, host or reference and what is wrong; `--output json` prints it as `{"error","kind"}`.

use std::process::ExitCode;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag value or argument combination is wrong (exit 2, like clap's own usage errors).
    #[error("{0}")]
    Usage(String),
    /// Verification ran and refused the artifact (exit 1); `details` holds the verdict for `--output json`.
    #[error("{message}")]
    Refused {
        /// The one-line reason.
        message: String,
        /// The full verdict.
        details: serde_json::Value,
    },
    /// The configuration directory (keys, trust stores, policies, config.json) is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A content store (registry, layout, tarball) failed.
    #[error(transparent)]
    Content(#[from] crate::content::ContentError),
    /// A graph copy failed (names the node and the store).
    #[error(transparent)]
    Copy(#[from] crate::copy::CopyError),
    /// Signing failed.
    #[error(transparent)]
    Sign(#[from] crate::sign::SignError),
    /// The core refused to sign (invalid chain at the signing time, key and certificate mismatch, bad expiry).
    #[error(transparent)]
    CoreSign(#[from] nv2_core::sign::SignError),
    /// Verification could not be attempted.
    #[error(transparent)]
    Verify(#[from] crate::verify::VerifyError),
    /// An OCI reference, digest or manifest is invalid.
    #[error(transparent)]
    Oci(#[from] nv2_core::oci::OciError),
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Anything else that stops the command, already phrased for a person.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// A stable name for scripts (`--output json`'s `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Refused { .. } => "verification_refused",
            CliError::Config(_) => "config",
            CliError::Content(_) => "content",
            CliError::Copy(_) => "copy",
            CliError::Sign(_) | CliError::CoreSign(_) => "sign",
            CliError::Verify(_) => "verify",
            CliError::Oci(_) => "reference",
            CliError::Io { .. } => "io",
            CliError::Failed(_) => "failed",
        }
    }

    /// The process exit code: 2 for usage mistakes, 1 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }

    /// Extra JSON for `--output json`.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            CliError::Refused { details, .. } => Some(details.clone()),
            _ => None,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        CliError::Io { path: path.display().to_string(), source }
    }
}
