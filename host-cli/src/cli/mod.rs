//! The `nv2` command line: parsing ([`args`]), the shared [`context`], one module per command group
//! ([`commands`]), and output ([`output`]: text for a person, one JSON document with `--output json`).

pub mod args;
pub mod certificate_view;
pub mod commands;
pub mod context;
pub mod docker_plugin;
pub mod error;
pub mod flag_values;
pub mod output;
pub mod progress;
pub mod verdict_view;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use args::{Cli, Command, OutputFormat};
use context::Context;
use docker_plugin::Invocation;
use error::CliError;
use output::Report;

/// Runs the CLI for `args` (argv, program name first) and returns the exit code.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let args = match docker_plugin::classify(args) {
        Invocation::Plugin(args) if args.get(1).and_then(|a| a.to_str()) == Some("pull") => {
            return docker_pull(args);
        }
        Invocation::Direct(args) | Invocation::Plugin(args) => args,
        Invocation::Metadata => {
            println!("{}", docker_plugin::metadata());
            return ExitCode::SUCCESS;
        }
        Invocation::PassThrough(args) => {
            return match docker_plugin::pass_through(&args) {
                Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
                Err(message) => {
                    eprintln!("nv2: {message}");
                    ExitCode::FAILURE
                }
            };
        }
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    init_logging(cli.global.debug);
    let format = cli.global.output;
    let runtime = match runtime_for(&cli.command) {
        Ok(runtime) => runtime,
        Err(e) => {
            output::print_error(format, "runtime", &format!("cannot start the async runtime: {e}"), None);
            return ExitCode::FAILURE;
        }
    };
    let ctx = Context::new(cli.global.clone());
    match runtime.block_on(run(&ctx, cli.command)) {
        Ok(mut report) => {
            report.warnings.extend(ctx.take_warnings());
            report.print(format);
            ExitCode::SUCCESS
        }
        Err(e) => {
            output::print_error(format, e.kind(), &e.to_string(), e.details());
            e.exit_code()
        }
    }
}

/// `docker nv2 pull <ref>`: verifies first, then has docker pull exactly the verified digest (a tag could move
/// between the check and the pull).
fn docker_pull(args: Vec<OsString>) -> ExitCode {
    let mut verify_args = args;
    if let Some(first) = verify_args.get_mut(1) {
        *first = OsString::from("verify");
    }
    let cli = match Cli::try_parse_from(verify_args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(2);
        }
    };
    let format = cli.global.output;
    let ctx = Context::new(cli.global.clone());
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            output::print_error(format, "runtime", &format!("cannot start the async runtime: {e}"), None);
            return ExitCode::FAILURE;
        }
    };
    let report = match runtime.block_on(run(&ctx, cli.command)) {
        Ok(report) => report,
        Err(e) => {
            output::print_error(format, e.kind(), &e.to_string(), e.details());
            return e.exit_code();
        }
    };
    let Some(pinned) = report.json.get("reference").and_then(|r| r.as_str()).map(str::to_string) else {
        output::print_error(format, "failed", "verification gave no digest to pull", None);
        return ExitCode::FAILURE;
    };
    report.print(format);
    match docker_plugin::pass_through(&[OsString::from("pull"), OsString::from(&pinned)]) {
        Ok(status) => ExitCode::from(u8::try_from(status.code().unwrap_or(1)).unwrap_or(1)),
        Err(message) => {
            output::print_error(format, "failed", &format!("verified {pinned}, but {message}"), None);
            ExitCode::FAILURE
        }
    }
}

/// The async runtime for `command`: one thread for ordinary commands (their concurrency is I/O on one task and
/// they should start in milliseconds), worker threads for the servers: the admission server and the registries
/// the demo embeds.
fn runtime_for(command: &Command) -> std::io::Result<tokio::runtime::Runtime> {
    match command {
        Command::Demo(_) | Command::Admission(_) => tokio::runtime::Builder::new_multi_thread().enable_all().build(),
        _ => tokio::runtime::Builder::new_current_thread().enable_all().build(),
    }
}

fn init_logging(debug: bool) {
    // The registry client's warnings reach the person through the report (`warning: ...`, or `warnings` in JSON);
    // logging them too would print each twice, and break `--output json`'s "only warnings on stderr".
    let filter = if debug { "nv2_cli=debug,nv2_core=debug,info" } else { "warn,nv2_cli::registry::client=error" };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("NV2_LOG").unwrap_or_else(|_| filter.into()))
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}

/// Runs one parsed command.
pub async fn run(ctx: &Context, command: Command) -> Result<Report, CliError> {
    match command {
        Command::Login(args) => commands::registry_access::run_login(ctx, args).await,
        Command::Logout { server } => commands::registry_access::run_logout(ctx, &server),
        Command::Push(args) => commands::artifact::run_push(ctx, args).await,
        Command::Pull(args) => commands::artifact::run_pull(ctx, args).await,
        Command::Attach(args) => commands::artifact::run_attach(ctx, args).await,
        Command::Discover(args) => commands::discover::run(ctx, args).await,
        Command::Copy(args) => commands::copy::run_copy(ctx, args).await,
        Command::Tag(args) => commands::manifest::run_tag(ctx, args).await,
        Command::Resolve(args) => commands::manifest::run_resolve(ctx, args).await,
        Command::Manifest(command) => commands::manifest::run(ctx, command).await,
        Command::Blob(command) => commands::blob::run(ctx, command).await,
        Command::Repo(command) => commands::registry_access::run_repo(ctx, command).await,
        Command::Export(args) => commands::copy::run_export(ctx, args).await,
        Command::Import(args) => commands::copy::run_import(ctx, args).await,
        Command::Sign(args) => commands::signature::run_sign(ctx, args).await,
        Command::Verify(args) => commands::signature::run_verify(ctx, args).await,
        Command::List(args) => commands::signature::run_list(ctx, args).await,
        Command::Inspect(args) => commands::signature::run_inspect(ctx, args).await,
        Command::Signature(args::SignatureCommand::Delete { target, signature, all, yes }) => {
            commands::signature::run_signature_delete(ctx, &target, signature, all, yes).await
        }
        Command::Build(args) => commands::build::run_build(ctx, args).await,
        Command::Sbom(command) => commands::build::run_sbom(ctx, command).await,
        Command::Demo(args) => commands::demo::run_demo(ctx, args).await,
        Command::Docker(command) => commands::demo::run_docker(command),
        Command::Admission(command) => crate::admission::command::run(ctx, command).await,
        Command::Key(command) => commands::key::run(ctx, command),
        Command::Cert(command) => commands::cert::run(ctx, command),
        Command::Policy(command) => commands::policy::run(ctx, command),
        Command::Completion { shell } => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "nv2", &mut out);
            Ok(Report::raw(out, serde_json::json!({ "shell": shell.to_string() })))
        }
        Command::Version => Ok(Report::new(
            vec![format!("nv2 {}", env!("CARGO_PKG_VERSION"))],
            serde_json::json!({ "version": env!("CARGO_PKG_VERSION") }),
        )),
    }
}

/// Whether `format` is JSON (for modules that only see the format).
pub fn is_json(format: OutputFormat) -> bool {
    format == OutputFormat::Json
}
