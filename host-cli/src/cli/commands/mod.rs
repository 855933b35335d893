//! One module per command group; each turns parsed arguments into library calls and a [`Report`].

pub mod artifact;
pub mod blob;
pub mod build;
pub mod cert;
pub mod copy;
pub mod demo;
pub mod discover;
pub mod key;
pub mod manifest;
pub mod policy;
pub mod registry_access;
pub mod signature;

use std::io::{BufRead, IsTerminal, Write};

use super::context::Context;
use super::error::CliError;

/// Asks a person to confirm a destructive step; without a terminal (scripts, CI) it refuses and names `-y`.
pub fn confirm(ctx: &Context, question: &str) -> Result<(), CliError> {
    let stdin = std::io::stdin();
    if ctx.json() || !stdin.is_terminal() {
        return Err(CliError::Usage(format!("{question} Refusing without confirmation: pass -y")));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).map_err(|e| CliError::Failed(format!("reading the answer: {e}")))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(CliError::Failed("cancelled".into()))
    }
}
