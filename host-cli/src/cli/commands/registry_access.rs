//! `nv2 login`, `nv2 logout`, `nv2 repo ls|tags`: registry credentials and listings.

use std::io::Read;

use nv2_core::oci::Reference;
use serde_json::json;

use crate::auth::{Credential, StoredIn};
use crate::cli::args::{LoginArgs, RepoCommand};
use crate::cli::context::Context;
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::registry::Pages;

/// `nv2 login <server>`: checks the credentials against the registry, then stores them.
pub async fn run_login(ctx: &Context, args: LoginArgs) -> Result<Report, CliError> {
    let username = ctx
        .global
        .username
        .clone()
        .ok_or_else(|| CliError::Usage("nv2 login needs --username (and --password or --password-stdin)".into()))?;
    let password = if args.password_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| CliError::Failed(format!("reading stdin: {e}")))?;
        text.trim_end_matches(['\r', '\n']).to_string()
    } else {
        ctx.global.password.clone().ok_or_else(|| CliError::Usage("give --password or --password-stdin".into()))?
    };
    let credential = Credential::Basic { username, password };
    // Prove the credentials first: a login that stores wrong ones only fails later, far from the mistake.
    let mut probe_global = ctx.global.clone();
    if let Credential::Basic { username, password } = &credential {
        probe_global.username = Some(username.clone());
        probe_global.password = Some(password.clone());
    }
    let probe = Context::new(probe_global);
    probe.client()?.check_credentials(&args.server).await?;
    let stored =
        ctx.credential_store()?.login(&args.server, &credential).map_err(|e| CliError::Failed(e.to_string()))?;
    let place = match &stored {
        StoredIn::Helper(helper) => format!("credential helper docker-credential-{helper}"),
        StoredIn::ConfigFile(path) => path.display().to_string(),
    };
    let mut report = Report::new(
        vec![format!("Login Succeeded ({})", args.server)],
        json!({"server": args.server, "storedIn": place}),
    );
    if matches!(stored, StoredIn::ConfigFile(_)) {
        report = report.warn(format!("credentials are stored unencrypted in {place}; configure a credential helper"));
    }
    Ok(report)
}

/// `nv2 logout <server>`.
pub fn run_logout(ctx: &Context, server: &str) -> Result<Report, CliError> {
    let removed = ctx.credential_store()?.logout(server).map_err(|e| CliError::Failed(e.to_string()))?;
    let line =
        if removed { format!("Removed login credentials for {server}") } else { format!("Not logged in to {server}") };
    Ok(Report::new(vec![line], json!({"server": server, "removed": removed})))
}

/// `nv2 repo ls <registry>` and `nv2 repo tags <registry/repository>`.
pub async fn run_repo(ctx: &Context, command: RepoCommand) -> Result<Report, CliError> {
    match command {
        RepoCommand::Ls { registry } => {
            let names = ctx.client()?.catalog(&registry, None, None, Pages::All).await?;
            Ok(Report::new(names.clone(), json!({"registry": registry, "repositories": names})))
        }
        RepoCommand::Tags { repository } => {
            let reference = Reference::parse(&repository)?;
            let tags = ctx.repository(&reference)?.tags(None, None, Pages::All).await?;
            Ok(Report::new(tags.clone(), json!({"repository": reference.scope(), "tags": tags})))
        }
    }
}
