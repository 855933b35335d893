//! `nv2 demo` and `nv2 docker install-plugin`.

use serde_json::json;

use crate::cli::args::{DemoArgs, DockerCommand};
use crate::cli::context::Context;
use crate::cli::error::CliError;
use crate::cli::output::Report;
use crate::demo::DemoOptions;

/// `nv2 demo`: prints the story as it runs; fails unless every step behaved as expected.
pub async fn run_demo(ctx: &Context, args: DemoArgs) -> Result<Report, CliError> {
    let options = DemoOptions {
        keep: args.keep,
        public: args.public_registry,
        private: args.private_registry,
        registry_config: ctx.global.registry_config.clone(),
    };
    match crate::demo::run(options).await {
        Ok(true) => Ok(Report::new(Vec::new(), json!({"result": "passed"}))),
        Ok(false) => Err(CliError::Failed("the demo did not behave as expected (see the steps above)".into())),
        Err(e) => Err(CliError::Failed(format!("demo: {e}"))),
    }
}

/// `nv2 docker ...`.
pub fn run_docker(command: DockerCommand) -> Result<Report, CliError> {
    match command {
        DockerCommand::InstallPlugin { dir } => {
            let link = crate::cli::docker_plugin::install(dir).map_err(CliError::Failed)?;
            Ok(Report::new(
                vec![format!("installed the docker CLI plugin {}", link.display()), "try: docker nv2 --help".into()],
                json!({"plugin": link}),
            ))
        }
    }
}
