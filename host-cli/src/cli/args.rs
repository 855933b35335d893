//! The command-line grammar of `nv2`: ORAS-shaped artifact commands and notation-shaped signing commands in one
//! tool. Only parsing lives here; each command's behaviour is in its own module under `cli/commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// nv2: sign and verify OCI artifacts and keep every signature linked to its artifact in the registry.
#[derive(Debug, Parser)]
#[command(name = "nv2", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Options every command understands.
    #[command(flatten)]
    pub global: GlobalOptions,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalOptions {
    /// Configuration directory (trust stores, trust policies, signing keys); a notation config dir works as is.
    /// Default: $NV2_CONFIG, else $NOTATION_CONFIG, else $XDG_CONFIG_HOME/nv2 (~/.config/nv2).
    #[arg(long, global = true, value_name = "DIR")]
    pub config: Option<PathBuf>,
    /// Output format: human-readable text, or JSON for scripts (progress bars are then silent).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Text, alias = "format")]
    pub output: OutputFormat,
    /// Use plain HTTP for every registry (automatic for localhost and loopback addresses).
    #[arg(long, global = true, alias = "insecure-registry")]
    pub plain_http: bool,
    /// Extra PEM CA certificates to trust for registry TLS.
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Registry user name (default: credentials from the docker config).
    #[arg(short = 'u', long, global = true, env = "NV2_USERNAME")]
    pub username: Option<String>,
    /// Registry password or token.
    #[arg(short = 'p', long, global = true, env = "NV2_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Docker config file with registry credentials (default: $DOCKER_CONFIG/config.json, ~/.docker/config.json).
    #[arg(long, global = true, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
    /// Print debug logs to stderr.
    #[arg(short = 'd', long, global = true)]
    pub debug: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Lines for a person.
    Text,
    /// One JSON document on stdout.
    Json,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in to a registry (stores credentials in the docker config or its credential helper).
    Login(LoginArgs),
    /// Remove stored credentials of a registry.
    Logout {
        /// Registry host (`registry.example:5000`).
        server: String,
    },
    /// Push files as an artifact (by digest when the reference has no tag).
    Push(PushArgs),
    /// Pull an artifact's files into a directory.
    Pull(PullArgs),
    /// Attach files to a subject as a referrer (an SBoM, a scan report, ...).
    Attach(AttachArgs),
    /// Show the tree of artifacts that refer to a subject (signatures, SBoMs and their signatures).
    Discover(DiscoverArgs),
    /// Copy an artifact, and with -r every artifact linked to it, between registries and OCI layouts.
    #[command(visible_alias = "cp")]
    Copy(CopyArgs),
    /// Point one or more tags at a manifest (move the tag last, after signing).
    Tag(TagArgs),
    /// Print the digest a reference resolves to.
    Resolve(TargetArgs),
    /// Fetch, push or delete manifests.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Fetch, push or delete blobs; sign, verify and inspect detached blob signatures.
    #[command(subcommand)]
    Blob(BlobCommand),
    /// List repositories and tags.
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Write an artifact with all its referrers to an OCI layout tarball (for air-gapped transfer).
    Export(ExportArgs),
    /// Load an OCI layout tarball (with its referrers) into a registry or layout, tags last.
    Import(ImportArgs),
    /// Manage signing keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Manage trust-store certificates and test certificates.
    #[command(subcommand, visible_alias = "certificate")]
    Cert(CertCommand),
    /// Manage trust policies (trustpolicy.oci.json, trustpolicy.blob.json).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Sign an artifact and push the signature next to it.
    Sign(SignArgs),
    /// Verify an artifact's signatures against the trust policy (exit 1 when refused).
    Verify(VerifyArgs),
    /// List an artifact's signatures.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show an artifact's signatures: signers, certificate fingerprints, expiry.
    Inspect(ListArgs),
    /// Delete signatures.
    #[command(subcommand)]
    Signature(SignatureCommand),
    /// Build an OCI image from a directory, a `docker save` tarball or an OCI layout, and push it.
    Build(BuildArgs),
    /// Generate an image's SBoM, or attach one as a referrer.
    #[command(subcommand)]
    Sbom(SbomCommand),
    /// Run the whole prototype-2 flow (build, sign, SBoM, copy, air-gap, verify) on embedded registries.
    Demo(DemoArgs),
    /// The docker CLI plugin face (`docker nv2 ...`).
    #[command(subcommand)]
    Docker(DockerCommand),
    /// The Kubernetes admission server (Gatekeeper external data provider and admission webhooks).
    #[command(subcommand)]
    Admission(AdmissionCommand),
    /// Print a shell completion script.
    Completion {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print version information.
    Version,
}

/// Where an artifact is: a registry reference, or a tag/digest in an OCI layout directory.
#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// `registry/repository[:tag|@digest]`, or `<dir>[:tag|@digest]` with --oci-layout.
    pub reference: String,
    /// The reference names an OCI image layout directory instead of a registry.
    #[arg(long)]
    pub oci_layout: bool,
}

/// `nv2 login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Registry host.
    pub server: String,
    /// Read the password from stdin.
    #[arg(long)]
    pub password_stdin: bool,
}

/// `nv2 push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// Where to push: `registry/repository[:tag]` (no tag: push by digest only).
    #[command(flatten)]
    pub target: TargetArgs,
    /// Files to push, each `path[:media-type]`.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// The artifact's type.
    #[arg(long)]
    pub artifact_type: Option<String>,
    /// Manifest annotations, `key=value`.
    #[arg(short = 'a', long = "annotation")]
    pub annotations: Vec<String>,
    /// A config file, `path[:media-type]` (default: the empty config).
    #[arg(long)]
    pub config_file: Option<String>,
    /// Concurrent blob uploads.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// `nv2 pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// What to pull.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Directory to write the files to.
    #[arg(short = 'o', long = "output-dir", default_value = ".")]
    pub output_dir: PathBuf,
    /// Verify the artifact's signature before pulling and pull by the verified digest.
    #[arg(long)]
    pub verify: bool,
    /// Concurrent blob downloads.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// `nv2 attach`.
#[derive(Debug, Args)]
pub struct AttachArgs {
    /// The subject the files are attached to.
    #[command(flatten)]
    pub subject: TargetArgs,
    /// Files to attach, each `path[:media-type]`.
    #[arg(required = true)]
    pub files: Vec<String>,
    /// The referrer's artifact type (e.g. `application/spdx+json`).
    #[arg(long, required = true)]
    pub artifact_type: String,
    /// Manifest annotations, `key=value`.
    #[arg(short = 'a', long = "annotation")]
    pub annotations: Vec<String>,
}

/// `nv2 discover`.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The subject.
    #[command(flatten)]
    pub subject: TargetArgs,
    /// Only referrers of this artifact type (at the first level).
    #[arg(long)]
    pub artifact_type: Option<String>,
    /// How many levels of referrers to show.
    #[arg(long, default_value_t = 8)]
    pub depth: usize,
}

/// `nv2 copy`.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// Source reference (`<dir>[:tag]` with --from-oci-layout).
    pub source: String,
    /// Target reference (`<dir>[:tag]` with --to-oci-layout); its tag is set last.
    pub destination: String,
    /// Also copy every artifact that refers to the source (signatures, SBoMs, their signatures).
    #[arg(short = 'r', long)]
    pub recursive: bool,
    /// The source is an OCI layout directory.
    #[arg(long)]
    pub from_oci_layout: bool,
    /// The target is an OCI layout directory.
    #[arg(long)]
    pub to_oci_layout: bool,
    /// Only referrers of this artifact type (with -r).
    #[arg(long)]
    pub artifact_type: Option<String>,
    /// Concurrent transfers.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// `nv2 tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The manifest to tag (by digest, or an existing tag).
    #[command(flatten)]
    pub target: TargetArgs,
    /// New tags.
    #[arg(required = true)]
    pub tags: Vec<String>,
}

/// `nv2 manifest ...`.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Print a manifest (or its descriptor).
    Fetch {
        /// The manifest.
        #[command(flatten)]
        target: TargetArgs,
        /// Print the descriptor instead of the manifest.
        #[arg(long)]
        descriptor: bool,
    },
    /// Push a manifest file (by digest, or under the reference's tag).
    Push {
        /// Where to push it.
        #[command(flatten)]
        target: TargetArgs,
        /// The manifest file (`-` for stdin).
        file: PathBuf,
        /// The media type (default: the file's `mediaType`).
        #[arg(long)]
        media_type: Option<String>,
    },
    /// Delete a manifest.
    Delete {
        /// The manifest.
        #[command(flatten)]
        target: TargetArgs,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "force", alias = "yes")]
        force: bool,
    },
}

/// `nv2 blob ...`.
#[derive(Debug, Subcommand)]
pub enum BlobCommand {
    /// Download a blob (`registry/repository@digest`).
    Fetch {
        /// The blob.
        #[command(flatten)]
        target: TargetArgs,
        /// File to write (default: stdout).
        #[arg(short = 'o', long = "output-file")]
        output_file: Option<PathBuf>,
    },
    /// Upload a blob.
    Push {
        /// The repository.
        #[command(flatten)]
        target: TargetArgs,
        /// The file.
        file: PathBuf,
        /// The media type reported in the printed descriptor.
        #[arg(long, default_value = "application/octet-stream")]
        media_type: String,
    },
    /// Delete a blob (`registry/repository@digest`).
    Delete {
        /// The blob.
        #[command(flatten)]
        target: TargetArgs,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long = "force", alias = "yes")]
        force: bool,
    },
    /// Sign a file: writes `<file>.jws.sig` or `<file>.cose.sig`.
    Sign(BlobSignArgs),
    /// Verify a file against its detached signature and the blob trust policy.
    Verify(BlobVerifyArgs),
    /// Show a detached blob signature.
    Inspect {
        /// The signature file (`*.jws.sig` or `*.cose.sig`).
        signature: PathBuf,
    },
}

/// `nv2 blob sign`.
#[derive(Debug, Args)]
pub struct BlobSignArgs {
    /// The file to sign.
    pub file: PathBuf,
    /// How to sign.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// The blob's media type, recorded in the signed payload.
    #[arg(long, default_value = "application/octet-stream")]
    pub media_type: String,
    /// Directory to write the signature to (default: beside the file).
    #[arg(long)]
    pub signature_directory: Option<PathBuf>,
    /// Overwrite an existing signature file.
    #[arg(long)]
    pub force: bool,
}

/// `nv2 blob verify`.
#[derive(Debug, Args)]
pub struct BlobVerifyArgs {
    /// The file to verify.
    pub file: PathBuf,
    /// The signature file (`*.jws.sig` or `*.cose.sig`).
    #[arg(short = 's', long)]
    pub signature: PathBuf,
    /// The blob trust-policy statement to use (default: the one marked `globalPolicy`).
    #[arg(long)]
    pub policy_name: Option<String>,
    /// The media type the signed payload must name.
    #[arg(long)]
    pub media_type: Option<String>,
    /// `key=value` pairs the signed payload must carry.
    #[arg(short = 'm', long = "user-metadata")]
    pub user_metadata: Vec<String>,
}

/// `nv2 repo ...`.
#[derive(Debug, Subcommand)]
pub enum RepoCommand {
    /// List a registry's repositories.
    #[command(visible_alias = "list")]
    Ls {
        /// Registry host.
        registry: String,
    },
    /// List a repository's tags.
    Tags {
        /// `registry/repository`.
        repository: String,
    },
}

/// `nv2 export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// What to export.
    pub reference: String,
    /// The tarball to write.
    pub file: PathBuf,
    /// Leave out the referrers (signatures, SBoMs): by default everything linked travels with the artifact.
    #[arg(long)]
    pub no_referrers: bool,
}

/// `nv2 import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The tarball to read.
    pub file: PathBuf,
    /// Where to import to: `registry/repository[:tag]` (default tag: the one recorded in the tarball).
    pub target: String,
    /// The target is an OCI layout directory.
    #[arg(long, conflicts_with = "registry_data")]
    pub to_oci_layout: bool,
    /// Write straight into the data directory of a stopped nv2-registry (how content reaches a read-only,
    /// air-gapped registry); the target is then `repository[:tag]`.
    #[arg(long, value_name = "DIR")]
    pub registry_data: Option<PathBuf>,
}

/// Key types `nv2` generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeyType {
    /// ECDSA P-256 with SHA-256 (ES256), the default.
    P256,
    /// ECDSA P-384 with SHA-384 (ES384).
    P384,
    /// Ed25519 (EdDSA): an nv2 extension that notation does not accept.
    Ed25519,
}

/// `nv2 key ...`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Generate a signing key with a certificate (self-signed, or issued by a CA you pass).
    Generate {
        /// Key name.
        name: String,
        /// Key type.
        #[arg(long = "type", value_enum, default_value_t = KeyType::P256)]
        key_type: KeyType,
        /// Subject of the certificate (RFC 4514, default `C=US,ST=WA,L=Seattle,O=Notary,CN=<name>`).
        #[arg(long)]
        subject: Option<String>,
        /// Certificate validity in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Issue the certificate with this CA key (PEM) instead of self-signing.
        #[arg(long, requires = "issuer_cert")]
        issuer_key: Option<PathBuf>,
        /// The CA's certificate chain (PEM).
        #[arg(long, requires = "issuer_key")]
        issuer_cert: Option<PathBuf>,
        /// Make it the default signing key.
        #[arg(long)]
        default: bool,
    },
    /// Import an existing key and its certificate chain (leaf first, root included).
    Import {
        /// Key name.
        name: String,
        /// PEM or DER private key (PKCS#8 or SEC1).
        #[arg(long)]
        key: PathBuf,
        /// PEM or DER certificate chain.
        #[arg(long)]
        cert: PathBuf,
        /// Make it the default signing key.
        #[arg(long)]
        default: bool,
    },
    /// List signing keys.
    #[command(visible_alias = "ls")]
    List,
    /// Remove signing keys from the configuration.
    Delete {
        /// Key names.
        #[arg(required = true)]
        names: Vec<String>,
        /// Also delete the key and certificate files under localkeys/.
        #[arg(long)]
        remove_files: bool,
    },
    /// Make a key the default.
    Default {
        /// Key name.
        name: String,
    },
}

/// Trust-store types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreType {
    /// Certificate authorities (`notary.x509` signatures).
    Ca,
    /// Signing authorities (`notary.x509.signingAuthority` signatures).
    #[value(name = "signingAuthority", alias = "signing-authority")]
    SigningAuthority,
    /// Timestamp authorities.
    Tsa,
}

/// `nv2 cert ...`.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Create a test root CA and a signing key with a leaf certificate, and trust the root.
    GenerateTest {
        /// Name of the key and of the trust store.
        name: String,
        /// Key type.
        #[arg(long = "type", value_enum, default_value_t = KeyType::P256)]
        key_type: KeyType,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Make the key the default signing key.
        #[arg(long)]
        default: bool,
        /// The `ca` trust store to put the root in (default: the name).
        #[arg(long)]
        trust_store: Option<String>,
    },
    /// Add certificates to a trust store.
    Add {
        /// Store type.
        #[arg(short = 't', long = "type", value_enum)]
        store_type: StoreType,
        /// Store name.
        #[arg(short = 's', long)]
        store: String,
        /// Certificate files (PEM or DER).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List trust-store certificates.
    #[command(visible_alias = "ls")]
    List {
        /// Only this store type.
        #[arg(short = 't', long = "type", value_enum)]
        store_type: Option<StoreType>,
        /// Only this store.
        #[arg(short = 's', long)]
        store: Option<String>,
    },
    /// Show the certificates of a trust-store file.
    Show {
        /// Store type.
        #[arg(short = 't', long = "type", value_enum)]
        store_type: StoreType,
        /// Store name.
        #[arg(short = 's', long)]
        store: String,
        /// File name in the store.
        file: String,
    },
    /// Delete trust-store certificates.
    Delete {
        /// Store type.
        #[arg(short = 't', long = "type", value_enum)]
        store_type: StoreType,
        /// Store name.
        #[arg(short = 's', long)]
        store: String,
        /// Delete the whole store.
        #[arg(long, conflicts_with = "file")]
        all: bool,
        /// File name in the store.
        #[arg(required_unless_present = "all")]
        file: Option<String>,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

/// Verification levels for `policy init`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Level {
    /// Every check enforced.
    Strict,
    /// Expiry, timestamp and revocation only logged.
    Permissive,
    /// Only integrity enforced.
    Audit,
    /// No verification.
    Skip,
}

/// `nv2 policy ...`.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate and install a trust-policy file.
    Import {
        /// The policy file.
        file: PathBuf,
        /// Overwrite an existing policy.
        #[arg(long)]
        force: bool,
        /// The file is a blob trust policy.
        #[arg(long)]
        blob: bool,
    },
    /// Print the installed trust policy.
    Show {
        /// Show the blob trust policy.
        #[arg(long)]
        blob: bool,
    },
    /// Write a trust policy with one statement.
    Init {
        /// Statement name.
        #[arg(long)]
        name: String,
        /// Registry scopes (`registry/repository`, or `*`); not for --blob.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Trust stores, `type:name`.
        #[arg(long = "trust-store", required = true)]
        trust_stores: Vec<String>,
        /// Trusted identities (`x509.subject: C=..,ST=..,O=..`, or `*`).
        #[arg(long = "trusted-identity", required = true)]
        trusted_identities: Vec<String>,
        /// Verification level.
        #[arg(long, value_enum, default_value_t = Level::Strict)]
        level: Level,
        /// Write the blob trust policy (the statement becomes the global blob policy).
        #[arg(long)]
        blob: bool,
        /// Overwrite an existing policy.
        #[arg(long)]
        force: bool,
    },
}

/// Signature envelope formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignatureFormat {
    /// JWS (flattened JSON), notation's default.
    Jws,
    /// COSE_Sign1.
    Cose,
}

/// How to sign (shared by `sign` and `blob sign`).
#[derive(Debug, Clone, Args)]
pub struct SignerArgs {
    /// Signing key name (default: the default key).
    #[arg(short = 'k', long)]
    pub key: Option<String>,
    /// Envelope format (default: config.json's `signatureFormat`, else jws).
    #[arg(long, value_enum)]
    pub signature_format: Option<SignatureFormat>,
    /// Signature lifetime (`30m`, `12h`, `7d`; whole seconds).
    #[arg(short = 'e', long)]
    pub expiry: Option<String>,
    /// `key=value` pairs recorded in the signed payload.
    #[arg(short = 'm', long = "user-metadata")]
    pub user_metadata: Vec<String>,
}

/// `nv2 sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The artifact (a tag is resolved to its digest, with a warning).
    #[command(flatten)]
    pub target: TargetArgs,
    /// How to sign.
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Store the signature through the `<alg>-<hex>` tag index even if the registry has the referrers API.
    #[arg(long)]
    pub force_referrers_tag: bool,
    /// For an index: also sign every platform manifest it lists.
    #[arg(long)]
    pub recursive: bool,
}

/// `nv2 verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The artifact.
    #[command(flatten)]
    pub target: TargetArgs,
    /// `key=value` pairs the signed payload must carry.
    #[arg(short = 'm', long = "user-metadata")]
    pub user_metadata: Vec<String>,
    /// Most signatures examined.
    #[arg(long, default_value_t = 100)]
    pub max_signatures: usize,
    /// Trust-policy scope for an OCI layout (e.g. `local/net-monitor`).
    #[arg(long)]
    pub scope: Option<String>,
}

/// `nv2 list` and `nv2 inspect`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// The artifact.
    #[command(flatten)]
    pub target: TargetArgs,
    /// Most signatures shown.
    #[arg(long, default_value_t = 100)]
    pub max_signatures: usize,
}

/// `nv2 signature ...`.
#[derive(Debug, Subcommand)]
pub enum SignatureCommand {
    /// Delete an artifact's signatures (one by digest, or all).
    Delete {
        /// The signed artifact.
        #[command(flatten)]
        target: TargetArgs,
        /// The signature manifest digest to delete.
        #[arg(long, required_unless_present = "all")]
        signature: Option<String>,
        /// Delete every signature of the artifact.
        #[arg(long, conflicts_with = "signature")]
        all: bool,
        /// Do not ask for confirmation.
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

/// `nv2 build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The directory whose files become the image's single layer (not with --from-docker-save/--from-oci-layout).
    pub directory: Option<PathBuf>,
    /// Where to push: `registry/repository[:tag]` (no tag: by digest only), or `<dir>[:tag]` with --oci-layout.
    #[arg(short = 't', long = "tag", value_name = "REFERENCE")]
    pub target: String,
    /// The target is an OCI layout directory.
    #[arg(long)]
    pub oci_layout: bool,
    /// Platforms, `os/arch[/variant]`, comma-separated; several give a multi-platform index.
    #[arg(long, default_value = "linux/amd64")]
    pub platform: String,
    /// The container's entrypoint (split at spaces).
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// The container's default arguments (split at spaces).
    #[arg(long)]
    pub cmd: Option<String>,
    /// Environment variables, `KEY=VALUE`.
    #[arg(long = "env")]
    pub env: Vec<String>,
    /// The working directory inside the image.
    #[arg(long)]
    pub workdir: Option<String>,
    /// Config labels, `key=value`.
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Convert a `docker save` tarball instead of building a directory.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["directory", "from_oci_layout"])]
    pub from_docker_save: Option<PathBuf>,
    /// The image to take from the docker save tarball (default: its only one).
    #[arg(long, requires = "from_docker_save")]
    pub image: Option<String>,
    /// Take an image from an OCI layout, `<dir>[:tag|@digest]`.
    #[arg(long, value_name = "LAYOUT", conflicts_with = "directory")]
    pub from_oci_layout: Option<String>,
}

/// SBoM formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SbomFormatArg {
    /// SPDX 2.3 JSON (`application/spdx+json`).
    Spdx,
    /// CycloneDX 1.5 JSON (`application/vnd.cyclonedx+json`).
    Cyclonedx,
}

/// `nv2 sbom ...`.
#[derive(Debug, Subcommand)]
pub enum SbomCommand {
    /// List the files and packages in an image's layers as an SBoM.
    Generate {
        /// The image.
        #[command(flatten)]
        target: TargetArgs,
        /// File to write (default: stdout).
        #[arg(short = 'o', long = "output-file")]
        output_file: Option<PathBuf>,
        /// Document format.
        #[arg(long = "sbom-format", value_enum, default_value_t = SbomFormatArg::Spdx)]
        format: SbomFormatArg,
        /// For an index: the platform to describe (`os/arch`).
        #[arg(long)]
        platform: Option<String>,
    },
    /// Attach an SBoM file to an image as a referrer (artifactType = the SBoM's media type).
    Attach {
        /// The image.
        #[command(flatten)]
        subject: TargetArgs,
        /// The SBoM file (SPDX or CycloneDX JSON).
        file: PathBuf,
    },
}

/// `nv2 demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the work directory (keys, configs, tarball, registry data) here.
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Use this existing public registry (`host:port`) instead of an embedded one.
    #[arg(long, value_name = "HOST")]
    pub public_registry: Option<String>,
    /// Use this existing private registry (`host:port`) instead of an embedded one.
    #[arg(long, value_name = "HOST")]
    pub private_registry: Option<String>,
}

/// `nv2 docker ...`.
#[derive(Debug, Subcommand)]
pub enum DockerCommand {
    /// Install this binary as the docker CLI plugin `docker-nv2` (`docker nv2 build|sign|push|pull|verify`).
    InstallPlugin {
        /// The plugin directory (default: $DOCKER_CONFIG/cli-plugins or ~/.docker/cli-plugins).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

/// `nv2 admission ...`.
#[derive(Debug, Subcommand)]
pub enum AdmissionCommand {
    /// Serve HTTPS: /gatekeeper/verify, /gatekeeper/mutate, /validate, /mutate, /healthz (see deploy/README.md).
    /// Registry credentials come from --registry-config (default: the docker config); --plain-http applies.
    Serve(AdmissionServeArgs),
}

/// `nv2 admission serve` flags.
#[derive(Debug, Clone, Args)]
pub struct AdmissionServeArgs {
    /// Address to listen on (`127.0.0.1:0` picks a free port; the chosen address is printed).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8443")]
    pub listen: std::net::SocketAddr,
    /// PEM certificate chain of the server (leaf first).
    #[arg(long, value_name = "FILE")]
    pub tls_cert: PathBuf,
    /// PEM private key of the server.
    #[arg(long, value_name = "FILE")]
    pub tls_key: PathBuf,
    /// PEM CA certificate(s) of the clients: the admission routes then require a client certificate (/healthz
    /// never does).
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Trust policy directory in notation's layout (trustpolicy.oci.json, truststore/, optional admission.json).
    #[arg(long, value_name = "DIR")]
    pub policy_dir: PathBuf,
    /// The policy module (default: $NV2_POLICY_MODULE, else nv2-policy.wasm beside the nv2 executable, else
    /// wasm/dist/nv2-policy.wasm of the source checkout).
    #[arg(long, value_name = "FILE")]
    pub policy_module: Option<PathBuf>,
    /// How long a verdict (and a tag's digest) is reused.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = seconds)]
    pub cache_ttl: std::time::Duration,
    /// Most images verified at once.
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_concurrency: u32,
    /// Longest an image may take before it is refused (keep it below the webhook timeout).
    #[arg(long, value_name = "DURATION", default_value = "8s", value_parser = seconds)]
    pub deadline: std::time::Duration,
    /// Most signatures examined per image.
    #[arg(long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub max_signatures: u32,
}

/// A duration flag (`60s`, `2m`, `1h30m`).
fn seconds(text: &str) -> Result<std::time::Duration, String> {
    let seconds = super::flag_values::duration_seconds(text)?;
    Ok(std::time::Duration::from_secs(u64::try_from(seconds).unwrap_or(u64::MAX)))
}
