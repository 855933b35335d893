//! `nv2-registry` command line: `serve` runs the registry.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use nv2_registry::config::ServeArgs;

/// nv2-registry: an OCI distribution-spec v1.1 registry with a write-time referrers index.
///
/// With no options `nv2-registry serve` listens on 127.0.0.1:5000, stores data under ./nv2-data and needs no
/// authentication. Every option can also come from a TOML file (--config) or an NV2_REGISTRY_* environment
/// variable; flags and environment override the file.
#[derive(Debug, Parser)]
#[command(name = "nv2-registry", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the registry server.
    Serve(Box<ServeArgs>),
    /// Collect garbage once over the data directory of a stopped registry and print a JSON report.
    Gc {
        /// Report what would be removed without removing anything.
        #[arg(long)]
        dry_run: bool,
        /// The same settings as `serve` (data dir, config file, gc-grace-secs, gc-delete-untagged, orphan policy).
        #[command(flatten)]
        serve: Box<ServeArgs>,
    },
    /// Print an htpasswd line (bcrypt) for USER with the password read from standard input.
    Htpasswd {
        /// User name.
        user: String,
        /// bcrypt cost (4..=31).
        #[arg(long, default_value_t = 10)]
        cost: u32,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(&args),
        Command::Htpasswd { user, cost } => htpasswd(&user, cost),
        Command::Gc { dry_run, serve } => gc(&serve, dry_run),
    }
}

fn serve(args: &ServeArgs) -> ExitCode {
    let settings = match args.resolve() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nv2-registry: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(settings.log_json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nv2-registry: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(nv2_registry::run(settings, shutdown_signal())) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nv2-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn gc(args: &ServeArgs, dry_run: bool) -> ExitCode {
    let settings = match args.resolve() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("nv2-registry: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("nv2-registry: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(nv2_registry::collect_garbage(settings, dry_run)) {
        Ok(report) => {
            println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nv2-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn htpasswd(user: &str, cost: u32) -> ExitCode {
    if user.is_empty() || user.contains(':') {
        eprintln!("nv2-registry: user names must be non-empty and must not contain ':'");
        return ExitCode::from(2);
    }
    let mut password = String::new();
    if std::io::stdin().read_line(&mut password).is_err() {
        eprintln!("nv2-registry: cannot read the password from standard input");
        return ExitCode::FAILURE;
    }
    let password = password.trim_end_matches(['\r', '\n']);
    match bcrypt::hash(password, cost) {
        Ok(hash) => {
            println!("{user}:{hash}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("nv2-registry: {e}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("NV2_REGISTRY_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
