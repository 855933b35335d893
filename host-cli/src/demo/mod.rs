//! `nv2 demo`: the prototype-2 story end to end, with real artifacts, on registries started in-process.
//!
//! Wabbit Networks builds `net-monitor:v1`, pushes it by digest, signs it, attaches and signs an SBoM and moves the
//! tag last. ACME Rockets verifies it, copies it with every signature into its private registry, adds its own
//! signature, exports it to a tarball and imports it into a read-only air-gapped registry, where it verifies with
//! the other registries stopped. Unsigned content pushed under the tag is refused.
//!
//! Every step is an `nv2` command line, printed as a person would type it and run through the very same parser
//! and command code as the binary ([`crate::cli::run`]); the demo only sequences them and checks each outcome.

mod embedded_registry;
mod sample_image;
mod story;

pub use embedded_registry::{EmbeddedRegistry, RegistrySetup};
pub use story::{run, DemoOptions};
