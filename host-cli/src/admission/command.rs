//! `nv2 admission serve`: turns the flags and the global options (registry credentials, `--plain-http`,
//! `--ca-file`) into [`super::ServeOptions`], prints the readiness line `nv2 admission listening on https://ADDR`
//! once everything is loaded and bound, and serves until SIGINT or SIGTERM.

use std::io::Write;

use super::{BoundServer, ModuleLimits, ServeOptions, VerifierSettings};
use crate::cli::args::AdmissionCommand;
use crate::cli::context::Context;
use crate::cli::error::CliError;
use crate::cli::output::Report;

/// Runs an `nv2 admission` command.
pub async fn run(ctx: &Context, command: AdmissionCommand) -> Result<Report, CliError> {
    let AdmissionCommand::Serve(args) = command;
    let options = ServeOptions {
        listen: args.listen,
        tls_cert: args.tls_cert,
        tls_key: args.tls_key,
        client_ca: args.client_ca,
        policy_dir: args.policy_dir,
        policy_module: args.policy_module,
        // A module call never outlives the image's deadline: its blocking thread is freed when the answer is due.
        module_limits: ModuleLimits { time: args.deadline, ..ModuleLimits::default() },
        verifier: VerifierSettings {
            cache_ttl: args.cache_ttl,
            max_concurrency: args.max_concurrency as usize,
            deadline: args.deadline,
            max_signatures: args.max_signatures as usize,
        },
        client: ctx.client()?.clone(),
    };
    let server = BoundServer::bind(options).await.map_err(|e| CliError::Failed(e.to_string()))?;
    let address = server.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let module = server.module_path().display().to_string();
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "nv2 admission listening on https://{address}");
        let _ = stdout.flush();
    }
    tracing::info!("policy module {module}");
    server.serve(shutdown_signal()).await;
    Ok(Report::new(
        vec![format!("nv2 admission on {address} stopped")],
        serde_json::json!({"stopped": true, "listen": address, "policyModule": module}),
    ))
}

/// SIGINT (ctrl-c) or, on Unix, SIGTERM (what Kubernetes sends).
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
