//! nv2-e2e: support shared by the end-to-end tests in `tests/tests/`.
//!
//! - [`peers`]: where the peer tools (opa, gator, ...) are, and what a test does when one is missing.
//! - [`manifests`]: the repository's `deploy/` directory and its YAML files, read as JSON values.
//! - [`gatekeeper`]: evaluating a Gatekeeper ConstraintTemplate in-process with regorus, its `external_data` call
//!   answered by a canned or live provider response, so a template can be checked without a cluster.
#![deny(missing_docs)]

pub mod gatekeeper;
pub mod manifests;
pub mod peers;
