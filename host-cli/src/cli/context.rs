//! What every command needs besides its own arguments: the global options, the configuration directory, the
//! progress display, and (once asked for) registry clients and opened content stores.

use nv2_core::crypto::KeyKind;

use super::args::{GlobalOptions, KeyType, OutputFormat, StoreType};
use crate::config::ConfigDir;
use crate::content::Progress;
use nv2_core::x509::TrustStoreKind;

/// The state shared by the commands of one run.
pub struct Context {
    /// Options every command understands.
    pub global: GlobalOptions,
    config: ConfigDir,
}

impl Context {
    /// A context for `global`.
    pub fn new(global: GlobalOptions) -> Self {
        let config = ConfigDir::locate(global.config.as_deref());
        Context { global, config }
    }

    /// The configuration directory (`--config`, `$NV2_CONFIG`, `$NOTATION_CONFIG`, XDG).
    pub fn config(&self) -> &ConfigDir {
        &self.config
    }

    /// Whether output is JSON.
    pub fn json(&self) -> bool {
        self.global.output == OutputFormat::Json
    }

    /// Progress bars for a person at a terminal, nothing otherwise.
    pub fn progress(&self) -> Box<dyn Progress> {
        super::progress::for_terminal(self.json())
    }
}

/// The core's key kind for a `--type` value.
pub fn key_kind(key_type: KeyType) -> KeyKind {
    match key_type {
        KeyType::P256 => KeyKind::P256,
        KeyType::P384 => KeyKind::P384,
        KeyType::Ed25519 => KeyKind::Ed25519,
    }
}

/// The core's trust-store kind for a `--type` value.
pub fn store_kind(store_type: StoreType) -> TrustStoreKind {
    match store_type {
        StoreType::Ca => TrustStoreKind::Ca,
        StoreType::SigningAuthority => TrustStoreKind::SigningAuthority,
        StoreType::Tsa => TrustStoreKind::Tsa,
    }
}
