//! Verification plugins (the Notary Project plugin contract "1.0"), seen from the core.
//!
//! A signature may name a verification plugin in its critical `verificationPlugin` attribute. Running a plugin is
//! I/O (notation execs `notation-<name>`), so hosts implement [`VerificationPlugin`]; the core decides when to call
//! it, builds the `verify-signature` request JSON and judges the response.

use alloc::string::String;
use alloc::vec::Vec;

/// Capability: the plugin checks trusted identities instead of the policy's `trustedIdentities`.
pub const CAPABILITY_TRUSTED_IDENTITY: &str = "SIGNATURE_VERIFIER.TRUSTED_IDENTITY";
/// Capability: the plugin checks revocation instead of nv2.
pub const CAPABILITY_REVOCATION_CHECK: &str = "SIGNATURE_VERIFIER.REVOCATION_CHECK";

/// One installed verification plugin, as a host presents it.
pub trait VerificationPlugin {
    /// The plugin name (`get-plugin-metadata` → `name`).
    fn name(&self) -> &str;
    /// The plugin's SemVer version (`get-plugin-metadata` → `version`).
    fn version(&self) -> &str;
    /// The capabilities it declares (`get-plugin-metadata` → `capabilities`).
    fn capabilities(&self) -> Vec<String>;
    /// Runs `verify-signature` with the request JSON the core built; returns the plugin's response JSON, or a
    /// one-line error when the plugin could not be run or answered with its error JSON.
    fn verify_signature(&self, request_json: &[u8]) -> Result<Vec<u8>, String>;
}

/// Where the core finds plugins by name.
pub trait PluginHost {
    /// The installed plugin with this name, if any.
    fn plugin(&self, name: &str) -> Option<&dyn VerificationPlugin>;
}

/// A host with no plugins (the default): signatures that require a plugin fail, as notation's do.
pub struct NoPlugins;

impl PluginHost for NoPlugins {
    fn plugin(&self, _name: &str) -> Option<&dyn VerificationPlugin> {
        None
    }
}
