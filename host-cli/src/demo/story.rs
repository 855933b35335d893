//! The demo's steps, in the order of the prototype-2 story, each checked against what it must do.

use std::path::PathBuf;

use clap::Parser;
use nv2_registry::auth::{AuthScheme, Grant};
use nv2_registry::config::AccessMode;
use serde_json::Value;

use super::embedded_registry::{EmbeddedRegistry, RegistrySetup};
use crate::cli::args::Cli;
use crate::cli::context::Context;
use crate::cli::error::CliError;
use crate::cli::output::Report;

/// Choices for `nv2 demo`.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    /// Keep the work directory (keys, configs, tarball, registry data) here instead of a temporary one.
    pub keep: Option<PathBuf>,
    /// Use an existing public registry (`host:port`) instead of an embedded one; the publisher must be able to
    /// push to it with the credentials of `registry_config`.
    pub public: Option<String>,
    /// Use an existing private registry (`host:port`) instead of an embedded one.
    pub private: Option<String>,
    /// Docker config with credentials for the existing registries.
    pub registry_config: Option<PathBuf>,
}

/// What a step must do.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Succeed.
    Success,
    /// Fail (a refusal the story demonstrates).
    Failure,
}

/// Who runs a step: each organisation has its own configuration (keys, trust store, policy) and credentials.
struct Persona {
    name: &'static str,
    config: PathBuf,
    registry_config: PathBuf,
}

/// The demo's state: personas, registries, and the outcome so far.
struct Story {
    work: PathBuf,
    steps: usize,
    unexpected: Vec<String>,
}

const WABBIT_PASSWORD: &str = "wabbit-demo-password";
const ACME_PASSWORD: &str = "acme-demo-password";

impl Story {
    /// Runs `nv2 <args>` as `persona`, prints it and its result, and records whether it behaved as `expect`ed.
    async fn step(&mut self, persona: Option<&Persona>, args: &[&str], expect: Expect) -> Option<Report> {
        self.steps += 1;
        let shown: Vec<String> = args.iter().map(|a| shell_word(a)).collect();
        let who = persona.map(|p| p.name).unwrap_or("anyone");
        println!(
            "\n[{who}] $ nv2 {}",
            shown
                .join(" ")
                .replace(&format!("-p {WABBIT_PASSWORD}"), "-p ****")
                .replace(&format!("-p {ACME_PASSWORD}"), "-p ****")
        );
        let mut argv: Vec<String> = vec!["nv2".into()];
        if let Some(p) = persona {
            argv.extend(["--config".into(), p.config.display().to_string()]);
            argv.extend(["--registry-config".into(), p.registry_config.display().to_string()]);
        }
        argv.extend(args.iter().map(|a| a.to_string()));
        let result = match Cli::try_parse_from(&argv) {
            Ok(cli) => {
                let ctx = Context::new(cli.global.clone());
                // Boxed: `nv2 demo` is itself a command, so the future type would otherwise contain itself.
                let run: std::pin::Pin<Box<dyn std::future::Future<Output = Result<Report, CliError>> + '_>> =
                    Box::pin(crate::cli::run(&ctx, cli.command));
                let result = run.await;
                result.map(|mut r| {
                    r.warnings.extend(ctx.take_warnings());
                    r
                })
            }
            Err(e) => Err(CliError::Usage(e.to_string())),
        };
        match (result, expect) {
            (Ok(report), Expect::Success) => {
                print_report(&report);
                Some(report)
            }
            (Err(e), Expect::Failure) => {
                println!("  refused, as it must be: {e}");
                None
            }
            (Ok(report), Expect::Failure) => {
                print_report(&report);
                println!("  UNEXPECTED: this step had to fail");
                self.unexpected.push(format!(
                    "step {} (nv2 {}) succeeded but had to fail",
                    self.steps,
                    shown.join(" ")
                ));
                None
            }
            (Err(e), Expect::Success) => {
                println!("  UNEXPECTED failure: {e}");
                self.unexpected.push(format!("step {} (nv2 {}) failed: {e}", self.steps, shown.join(" ")));
                None
            }
        }
    }

    fn note(&self, text: &str) {
        println!("\n## {text}");
    }
}

fn print_report(report: &Report) {
    for w in &report.warnings {
        println!("  warning: {w}");
    }
    match &report.raw {
        Some(raw) => {
            let text = String::from_utf8_lossy(raw);
            for line in text.lines().take(40) {
                println!("  {line}");
            }
        }
        None => {
            for line in &report.lines {
                println!("  {line}");
            }
        }
    }
}

/// Quotes a word for display the way a shell would need it.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:@=,+".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn digest_of(report: &Option<Report>, pointer: &str) -> Option<String> {
    report.as_ref().and_then(|r| r.json.pointer(pointer)).and_then(Value::as_str).map(str::to_string)
}

/// Runs the whole story; `Ok(true)` when every step behaved as expected.
pub async fn run(options: DemoOptions) -> Result<bool, String> {
    let temp = tempfile::Builder::new().prefix("nv2-demo-").tempdir().map_err(|e| format!("temporary dir: {e}"))?;
    let work = match &options.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let persona = |name: &'static str| Persona {
        name,
        config: work.join(name).join("config"),
        registry_config: options.registry_config.clone().unwrap_or_else(|| work.join(name).join("docker-config.json")),
    };
    let mut story = Story { work: work.clone(), steps: 0, unexpected: Vec::new() };
    println!("nv2 demo: the prototype-2 flow, step by step (work directory {})", work.display());

    // Registries: public (anonymous pull, wabbit pushes), private (acme only, bearer tokens), air-gapped (read-only).
    let data = |role: &str| work.join("registries").join(role);
    for role in ["public", "private", "air-gapped"] {
        std::fs::create_dir_all(data(role)).map_err(|e| format!("{}: {e}", data(role).display()))?;
    }
    let mut public = match &options.public {
        Some(_) => None,
        None => Some(
            EmbeddedRegistry::start(
                RegistrySetup {
                    role: "public",
                    access: AccessMode::Public,
                    users: vec![("wabbit".into(), WABBIT_PASSWORD.into())],
                    auth_scheme: AuthScheme::Basic,
                    grants: Vec::new(),
                },
                &data("public"),
            )
            .await?,
        ),
    };
    let mut private = match &options.private {
        Some(_) => None,
        None => Some(
            EmbeddedRegistry::start(
                RegistrySetup {
                    role: "private",
                    access: AccessMode::Private,
                    users: vec![("acme".into(), ACME_PASSWORD.into())],
                    auth_scheme: AuthScheme::Token,
                    grants: vec![Grant {
                        user: "acme".into(),
                        repositories: vec!["*".into()],
                        actions: vec!["pull".into(), "push".into(), "delete".into()],
                    }],
                },
                &data("private"),
            )
            .await?,
        ),
    };
    let public_host = options.public.clone().or_else(|| public.as_ref().map(|r| r.host.clone())).unwrap_or_default();
    let private_host = options.private.clone().or_else(|| private.as_ref().map(|r| r.host.clone())).unwrap_or_default();
    println!("registries: public {public_host} (anonymous pull), private {private_host} (token auth), air-gapped (read-only, started later)");

    let sample = super::sample_image::write(&work.join("net-monitor")).map_err(|e| format!("sample image: {e}"))?;
    let sample_dir = sample.display().to_string();
    let repo = format!("{public_host}/net-monitor");
    let private_repo = format!("{private_host}/net-monitor");
    let wabbit = persona("wabbit-networks");
    let acme = persona("acme-rockets");

    story.note("Wabbit Networks: keys, build, push by digest, sign, SBoM, tag last");
    story
        .step(
            Some(&wabbit),
            &["cert", "generate-test", "wabbit-networks", "--default", "--days", "30"],
            Expect::Success,
        )
        .await;
    if options.public.is_none() {
        story
            .step(Some(&wabbit), &["login", &public_host, "-u", "wabbit", "-p", WABBIT_PASSWORD], Expect::Success)
            .await;
    }
    let build = ["build", sample_dir.as_str(), "--entrypoint", "/usr/local/bin/net-monitor", "-t", repo.as_str()];
    let first = story.step(Some(&wabbit), &build, Expect::Success).await;
    let Some(image) = digest_of(&first, "/descriptor/digest") else { return story.finish(public, private, None).await };
    // Builds are reproducible: the same directory gives the same digest, so a rebuild pushes nothing new.
    let again = story.step(Some(&wabbit), &build, Expect::Success).await;
    if digest_of(&again, "/descriptor/digest").as_deref() != Some(image.as_str()) {
        story.unexpected.push("rebuilding the same directory gave another digest".into());
    }
    let image_ref = format!("{repo}@{image}");
    story.step(Some(&wabbit), &["sign", &image_ref], Expect::Success).await;
    let sbom_file = work.join("net-monitor.spdx.json").display().to_string();
    story.step(Some(&wabbit), &["sbom", "generate", &image_ref, "-o", &sbom_file], Expect::Success).await;
    let attached = story.step(Some(&wabbit), &["sbom", "attach", &image_ref, &sbom_file], Expect::Success).await;
    if let Some(sbom) = digest_of(&attached, "/descriptor/digest") {
        story.step(Some(&wabbit), &["sign", &format!("{repo}@{sbom}")], Expect::Success).await;
    }
    story.step(Some(&wabbit), &["tag", &image_ref, "v1"], Expect::Success).await;
    story.step(Some(&wabbit), &["discover", &format!("{repo}:v1")], Expect::Success).await;

    story.note("ACME Rockets: trust Wabbit Networks, verify, copy with every signature, add its own signature");
    let wabbit_root =
        wabbit.config.join("truststore/x509/ca/wabbit-networks/wabbit-networks.crt").display().to_string();
    story
        .step(
            Some(&acme),
            &["cert", "add", "--type", "ca", "--store", "wabbit-networks", &wabbit_root],
            Expect::Success,
        )
        .await;
    story
        .step(Some(&acme), &["cert", "generate-test", "acme-rockets", "--default", "--days", "30"], Expect::Success)
        .await;
    story
        .step(
            Some(&acme),
            &[
                "policy",
                "init",
                "--name",
                "net-monitor",
                "--scope",
                &repo,
                "--scope",
                &private_repo,
                "--scope",
                "air-gapped/net-monitor",
                "--trust-store",
                "ca:wabbit-networks",
                "--trust-store",
                "ca:acme-rockets",
                "--trusted-identity",
                "*",
            ],
            Expect::Success,
        )
        .await;
    story.step(Some(&acme), &["verify", &format!("{repo}:v1")], Expect::Success).await;
    if options.private.is_none() {
        story.step(Some(&acme), &["login", &private_host, "-u", "acme", "-p", ACME_PASSWORD], Expect::Success).await;
    }
    story
        .step(Some(&acme), &["copy", "-r", &format!("{repo}:v1"), &format!("{private_repo}:v1")], Expect::Success)
        .await;
    story.step(Some(&acme), &["sign", &format!("{private_repo}@{image}")], Expect::Success).await;
    story.step(Some(&acme), &["discover", &format!("{private_repo}:v1")], Expect::Success).await;
    story.step(Some(&acme), &["verify", &format!("{private_repo}:v1")], Expect::Success).await;

    story.note("Air gap: export to a tarball, stop the connected registries, import read-only, verify offline");
    let tarball = work.join("net-monitor.tar").display().to_string();
    story.step(Some(&acme), &["export", &format!("{private_repo}:v1"), &tarball], Expect::Success).await;
    for registry in [public.as_mut(), private.as_mut()].into_iter().flatten() {
        registry.stop().await?;
        println!("\n(stopped the {} registry at {})", registry.role, registry.host);
    }
    let airgap_data = data("air-gapped").display().to_string();
    story
        .step(Some(&acme), &["import", &tarball, "net-monitor:v1", "--registry-data", &airgap_data], Expect::Success)
        .await;
    let airgap = EmbeddedRegistry::start(
        RegistrySetup {
            role: "air-gapped",
            access: AccessMode::ReadOnly,
            users: Vec::new(),
            auth_scheme: AuthScheme::Basic,
            grants: Vec::new(),
        },
        &data("air-gapped"),
    )
    .await?;
    println!("\n(started the read-only air-gapped registry at {}; public and private are down)", airgap.host);
    let airgap_repo = format!("{}/net-monitor", airgap.host);
    story
        .step(
            Some(&acme),
            &[
                "policy",
                "init",
                "--force",
                "--name",
                "air-gapped",
                "--scope",
                &airgap_repo,
                "--trust-store",
                "ca:wabbit-networks",
                "--trust-store",
                "ca:acme-rockets",
                "--trusted-identity",
                "*",
            ],
            Expect::Success,
        )
        .await;
    story.step(Some(&acme), &["discover", &format!("{airgap_repo}:v1")], Expect::Success).await;
    story.step(Some(&acme), &["verify", &format!("{airgap_repo}:v1")], Expect::Success).await;
    // Wabbit's own signature made the whole trip: trusting only Wabbit Networks still verifies.
    story
        .step(
            Some(&acme),
            &[
                "policy",
                "init",
                "--force",
                "--name",
                "publisher-only",
                "--scope",
                &airgap_repo,
                "--trust-store",
                "ca:wabbit-networks",
                "--trusted-identity",
                "*",
            ],
            Expect::Success,
        )
        .await;
    story.step(Some(&acme), &["verify", &format!("{airgap_repo}@{image}")], Expect::Success).await;
    story.step(Some(&acme), &["push", &format!("{airgap_repo}:v1"), &sbom_file], Expect::Failure).await;

    story.note("Tampering: unsigned content pushed under the tag is refused");
    if let Some(registry) = public.as_mut() {
        registry.restart().await?;
        println!("\n(restarted the public registry at {})", registry.host);
    }
    let rogue = work.join("rogue.txt");
    std::fs::write(&rogue, b"not what wabbit networks built\n").map_err(|e| format!("{}: {e}", rogue.display()))?;
    story.step(Some(&wabbit), &["push", &format!("{repo}:v1"), &rogue.display().to_string()], Expect::Success).await;
    story
        .step(
            Some(&acme),
            &[
                "policy",
                "init",
                "--force",
                "--name",
                "net-monitor",
                "--scope",
                &repo,
                "--trust-store",
                "ca:wabbit-networks",
                "--trusted-identity",
                "*",
            ],
            Expect::Success,
        )
        .await;
    story.step(Some(&acme), &["verify", &format!("{repo}:v1")], Expect::Failure).await;
    story.step(Some(&acme), &["verify", &image_ref], Expect::Success).await;

    story.finish(public, private, Some(airgap)).await
}

impl Story {
    async fn finish(
        self,
        public: Option<EmbeddedRegistry>,
        private: Option<EmbeddedRegistry>,
        airgap: Option<EmbeddedRegistry>,
    ) -> Result<bool, String> {
        for mut registry in [public, private, airgap].into_iter().flatten() {
            registry.stop().await?;
        }
        println!();
        if self.unexpected.is_empty() {
            println!("nv2 demo: all {} steps behaved as expected (work directory {})", self.steps, self.work.display());
            Ok(true)
        } else {
            println!("nv2 demo: {} of {} steps did not behave as expected:", self.unexpected.len(), self.steps);
            for u in &self.unexpected {
                println!("  - {u}");
            }
            Ok(false)
        }
    }
}
