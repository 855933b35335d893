//! Size and depth bounds applied to everything that comes from outside, so no input can make the core allocate
//! without bound, recurse without bound or loop for long.

/// Largest manifest accepted (the distribution-spec recommends registries accept at least 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;
/// Largest signature envelope accepted ; real envelopes are a few KiB, the bound only stops hostile input.
pub const MAX_ENVELOPE_BYTES: usize = 32 * 1024 * 1024;
/// Largest JSON nesting depth accepted in any document the core parses.
pub const MAX_JSON_DEPTH: usize = 64;
/// Longest certificate chain accepted in an envelope, a timestamp token or a trust store file.
pub const MAX_CHAIN_LENGTH: usize = 16;
/// Largest single certificate accepted.
pub const MAX_CERTIFICATE_BYTES: usize = 64 * 1024;
/// Largest trust policy document accepted.
pub const MAX_POLICY_BYTES: usize = 1024 * 1024;
/// Largest CRL accepted.
pub const MAX_CRL_BYTES: usize = 16 * 1024 * 1024;
/// Default bound on the signatures examined for one artifact (notation's `--max-signatures` default).
pub const DEFAULT_MAX_SIGNATURES: usize = 100;
