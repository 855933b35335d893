//! The Notary Project fixture corpus (`cases.json`, see the fixtures README) read into values: each case's files
//! and trust stores and, for the cases that run the verification pipeline, every input the pipeline takes
//! ([`PipelineRun`]). `core/tests/corpus.rs` judges the cases against their `expect`; the wasm differential test
//! runs the pipeline cases natively and through the policy module.
//!
//! The corpus directory is `$NV2_CORPUS_DIR`, or the shared fixtures (`shared/fixtures/notation` found by walking up
//! from this crate), so another corpus in the same format can be dropped in unchanged.

#[path = "../../examples/fixtures/mod.rs"]
mod fixtures;
#[path = "../../examples/oci_layout/mod.rs"]
mod oci_layout;

use super::OwnedSignature;
use nv2_core::envelope::EnvelopeFormat;
use nv2_core::oci::ParsedManifest;
use nv2_core::time::Timestamp;
use nv2_core::trust::{BlobTrustPolicyDocument, StatementRules, StoreRef, TrustPolicyDocument, TrustStores};
use nv2_core::verify::{self, BlobDigests, CrlSource, PluginHost, Target, Verdict, VerificationPlugin, VerifyOptions};
use nv2_core::x509::TrustStoreKind;
use oci_layout::Layout;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A loaded corpus: its directory and the `cases` array of `cases.json`.
pub struct Corpus {
    pub dir: PathBuf,
    pub cases: Vec<Value>,
}

impl Corpus {
    /// Finds and reads the corpus.
    pub fn load() -> Result<Corpus, String> {
        let dir = fixtures::corpus_dir()
            .ok_or("no corpus: set NV2_CORPUS_DIR or place shared/fixtures/notation beside the checkout")?;
        let path = dir.join("cases.json");
        let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let json: Value = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let cases = json["cases"].as_array().ok_or("cases.json has no cases array")?.clone();
        Ok(Corpus { dir, cases })
    }

    /// Every case, in file order.
    pub fn cases(&self) -> impl Iterator<Item = Case<'_>> {
        self.cases.iter().map(|json| Case { dir: &self.dir, json })
    }
}

/// One case of `cases.json` and the directory its files are relative to.
pub struct Case<'a> {
    pub dir: &'a Path,
    pub json: &'a Value,
}

impl Case<'_> {
    pub fn id(&self) -> &str {
        self.json["id"].as_str().unwrap_or("?")
    }
    pub fn str(&self, key: &str) -> Option<&str> {
        self.json.get(key).and_then(Value::as_str)
    }
    pub fn read(&self, rel: &str) -> Result<Vec<u8>, String> {
        std::fs::read(self.dir.join(rel)).map_err(|e| format!("{rel}: {e}"))
    }
    pub fn files(&self) -> Vec<&str> {
        self.json["files"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
    }
    /// The first of `files`.
    pub fn first_file(&self) -> Result<Vec<u8>, String> {
        self.read(self.files().first().ok_or("case without files")?)
    }
    pub fn now(&self) -> Result<Option<Timestamp>, String> {
        match self.str("verify_at") {
            None => Ok(None),
            Some(t) => Timestamp::parse_rfc3339(t).map(Some).map_err(|e| e.to_string()),
        }
    }
    /// `verify_at`, or the real current time for time-independent cases (`verify_at: null`).
    pub fn now_or_current(&self) -> Result<Timestamp, String> {
        match self.now()? {
            Some(t) => Ok(t),
            None => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_err(|e| e.to_string())?
                    .as_secs();
                Ok(Timestamp::from_unix(i64::try_from(secs).map_err(|e| e.to_string())?))
            }
        }
    }

    /// `trust.stores`: each `type:name` store with the contents of its files.
    pub fn store_files(&self) -> Result<Vec<StoreFiles>, String> {
        let Some(map) = self.json.pointer("/trust/stores").and_then(Value::as_object) else {
            return Ok(Vec::new());
        };
        let mut stores = Vec::new();
        for (key, files) in map {
            let (kind, name) = key.split_once(':').ok_or_else(|| format!("store key {key:?}"))?;
            let kind: TrustStoreKind = kind.parse().map_err(|e| format!("{key}: {e:?}"))?;
            let store = StoreRef::new(kind, name).map_err(|e| format!("{key}: {e}"))?;
            let mut contents = Vec::new();
            for f in files.as_array().into_iter().flatten().filter_map(Value::as_str) {
                contents.push(self.read(f)?);
            }
            stores.push(StoreFiles { store, files: contents });
        }
        Ok(stores)
    }

    /// `trust.stores` loaded into named stores of parsed certificates (a store that fails to load fails the case).
    pub fn stores(&self) -> Result<TrustStores, String> {
        load_stores(&self.store_files()?)
    }

    /// The `type:name` keys of `trust.stores`.
    pub fn store_keys(&self) -> Vec<String> {
        self.json
            .pointer("/trust/stores")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn user_metadata(&self) -> BTreeMap<String, String> {
        self.json
            .get("user_metadata")
            .and_then(Value::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect())
            .unwrap_or_default()
    }

    /// The envelope format the case names.
    pub fn format(&self) -> Result<EnvelopeFormat, String> {
        match self.str("format") {
            Some("jws") => Ok(EnvelopeFormat::Jws),
            Some("cose") => Ok(EnvelopeFormat::Cose),
            other => Err(format!("format {other:?}")),
        }
    }

    /// A `trust-store-load` case's store: its reference and the files of its directory, in name order.
    pub fn store_dir(&self) -> Result<StoreFiles, String> {
        let store = &self.json["store"];
        let kind: TrustStoreKind = store["type"].as_str().unwrap_or_default().parse().map_err(|e| format!("{e:?}"))?;
        let name = StoreRef::new(kind, store["name"].as_str().unwrap_or("store")).map_err(|e| e.to_string())?;
        let dir = self.dir.join(store["dir"].as_str().ok_or("store.dir")?);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        let mut files = Vec::new();
        for path in entries {
            files.push(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
        }
        Ok(StoreFiles { store: name, files })
    }
}

/// One named store and its files' contents, as a host reads `truststore/x509/<type>/<name>/`.
#[derive(Clone)]
pub struct StoreFiles {
    pub store: StoreRef,
    pub files: Vec<Vec<u8>>,
}

/// Loads stores with the core's rules.
pub fn load_stores(stores: &[StoreFiles]) -> Result<TrustStores, String> {
    let mut loaded = TrustStores::new();
    for s in stores {
        loaded.load_store(s.store.clone(), &s.files).map_err(|e| format!("{}: {e}", s.store))?;
    }
    Ok(loaded)
}

/// How a run selects its trust-policy statement, as notation does.
#[derive(Clone)]
pub enum PolicyChoice {
    /// An OCI document (file bytes) and the repository to select for.
    Oci { document: Vec<u8>, scope: String },
    /// A blob document (file bytes); the global statement applies.
    Blob { document: Vec<u8> },
}

/// Everything one pipeline run of a case takes, owned.
pub struct PipelineRun {
    /// The case id, and the scope when a case runs once per reference.
    pub label: String,
    pub target: Target,
    pub signatures: Vec<OwnedSignature>,
    pub policy: PolicyChoice,
    pub stores: Vec<StoreFiles>,
    pub now: Timestamp,
    pub user_metadata: BTreeMap<String, String>,
}

impl PipelineRun {
    /// The statement that applies: the document parsed and the statement selected, or why not.
    pub fn statement(&self) -> Result<StatementRules, String> {
        match &self.policy {
            PolicyChoice::Oci { document, scope } => {
                let doc = TrustPolicyDocument::parse(document).map_err(|e| e.to_string())?;
                Ok(doc.statement_for(scope).map_err(|e| e.to_string())?.rules.clone())
            }
            PolicyChoice::Blob { document } => {
                let doc = BlobTrustPolicyDocument::parse(document).map_err(|e| e.to_string())?;
                Ok(doc.statement_for_blob(None).map_err(|e| e.to_string())?.rules.clone())
            }
        }
    }

    /// Runs the pipeline natively with `plugins` installed.
    pub fn verify(&self, plugins: &dyn PluginHost) -> Result<Verdict, String> {
        let statement = self.statement()?;
        let stores = load_stores(&self.stores)?;
        let inputs: Vec<_> = self.signatures.iter().map(OwnedSignature::input).collect();
        let mut options = VerifyOptions::at(self.now);
        options.user_metadata = self.user_metadata.clone();
        options.plugins = plugins;
        Ok(verify::verify(&self.target, &inputs, &statement, &stores, &options))
    }
}

/// An envelope case with `trust`: the inline policy becomes a one-statement document with scope `*` (or a global
/// blob statement), and the lone envelope is verified against the case's target.
pub fn envelope_run(case: &Case) -> Result<PipelineRun, String> {
    let format = case.format()?;
    let envelope = case.first_file()?;
    let trust = &case.json["trust"];
    let policy = &trust["policy"];
    let mut verification = json!({ "level": policy["level"] });
    for key in ["verifyTimestamp", "override"] {
        if let Some(v) = policy.get(key) {
            verification[key] = v.clone();
        }
    }
    let mut statement = json!({
        "name": "corpus",
        "signatureVerification": verification,
        "trustStores": case.store_keys(),
        "trustedIdentities": policy["trustedIdentities"],
    });
    let blob = case.json.get("blob").and_then(Value::as_bool).unwrap_or(false);
    let target_json = &case.json["target"];
    let (target, policy) = if blob {
        statement["globalPolicy"] = json!(true);
        let document = json!({"version": "1.0", "trustPolicies": [statement]}).to_string().into_bytes();
        let bytes = case.read(target_json["file"].as_str().ok_or("blob case without target.file")?)?;
        let target = Target::Blob { digests: BlobDigests::of(&bytes), size: bytes.len() as u64, media_type: None };
        (target, PolicyChoice::Blob { document })
    } else {
        statement["registryScopes"] = json!(["*"]);
        let document = json!({"version": "1.0", "trustPolicies": [statement]}).to_string().into_bytes();
        let target = Target::Manifest {
            media_type: target_json["mediaType"].as_str().unwrap_or_default().to_string(),
            digest: target_json["digest"].as_str().unwrap_or_default().to_string(),
            size: target_json["size"].as_u64().unwrap_or_default(),
        };
        (target, PolicyChoice::Oci { document, scope: String::from("example.com/any") })
    };
    Ok(PipelineRun {
        label: case.id().to_string(),
        target,
        signatures: vec![OwnedSignature { manifest: None, envelope, format: Some(format) }],
        policy,
        stores: case.store_files()?,
        now: case.now_or_current()?,
        user_metadata: case.user_metadata(),
    })
}

/// An artifact-bearing case (oci-layout, trust-policy with `artifact`): resolve the tag in the layout, discover the
/// signatures, and one run per reference, each selecting its statement from `policy` (document bytes) by scope.
pub fn layout_runs(case: &Case, policy: &[u8]) -> Result<Vec<PipelineRun>, String> {
    let artifact = &case.json["artifact"];
    let layout = Layout::open(case.dir.join(artifact["layout"].as_str().ok_or("artifact.layout")?))?;
    let digest = layout.resolve(artifact["tag"].as_str().ok_or("artifact.tag")?)?;
    if Some(digest.to_string().as_str()) != artifact["digest"].as_str() {
        return Err(format!("tag resolves to {digest}, the case says {}", artifact["digest"]));
    }
    let manifest_bytes = layout.blob(&digest)?;
    let manifest = ParsedManifest::parse(None, &manifest_bytes).map_err(|e| e.to_string())?;
    let target = Target::Manifest {
        media_type: manifest.media_type().to_string(),
        digest: digest.to_string(),
        size: manifest_bytes.len() as u64,
    };
    let mut signatures = Vec::new();
    for bytes in layout.referrers(&digest)? {
        let parsed = ParsedManifest::parse(None, &bytes).map_err(|e| e.to_string())?;
        let layer = parsed.as_image_manifest().and_then(|m| m.layers.first()).ok_or("signature without a layer")?;
        let envelope = layout.blob(&layer.digest)?;
        signatures.push(OwnedSignature { manifest: Some(bytes), envelope, format: None });
    }
    let references: Vec<&str> = match artifact.get("references").and_then(Value::as_array) {
        Some(list) => list.iter().filter_map(Value::as_str).collect(),
        None => vec![artifact["reference"].as_str().ok_or("artifact.reference")?],
    };
    let (stores, now, user_metadata) = (case.store_files()?, case.now_or_current()?, case.user_metadata());
    Ok(references
        .into_iter()
        .map(|reference| {
            let scope = reference.split_once('@').map_or(reference, |(s, _)| s).to_string();
            PipelineRun {
                label: format!("{} [{scope}]", case.id()),
                target: target.clone(),
                signatures: signatures.clone(),
                policy: PolicyChoice::Oci { document: policy.to_vec(), scope },
                stores: stores.clone(),
                now,
                user_metadata: user_metadata.clone(),
            }
        })
        .collect())
}

/// The mock verification plugin a case describes (`plugin`): fixed metadata and a fixed response.
pub struct MockPlugin {
    name: String,
    version: String,
    capabilities: Vec<String>,
    response: Vec<u8>,
}

impl VerificationPlugin for MockPlugin {
    fn name(&self) -> &str {
        &self.name
    }
    fn version(&self) -> &str {
        &self.version
    }
    fn capabilities(&self) -> Vec<String> {
        self.capabilities.clone()
    }
    fn verify_signature(&self, _request: &[u8]) -> Result<Vec<u8>, String> {
        Ok(self.response.clone())
    }
}

/// The plugins a case installs: its mock plugin, if any.
pub struct Plugins(Option<MockPlugin>);

impl PluginHost for Plugins {
    fn plugin(&self, name: &str) -> Option<&dyn VerificationPlugin> {
        self.0.as_ref().filter(|p| p.name == name).map(|p| p as &dyn VerificationPlugin)
    }
}

impl Plugins {
    /// Whether the case installs a plugin (wire-format hosts cannot: the policy module runs none).
    pub fn any(&self) -> bool {
        self.0.is_some()
    }
}

pub fn plugins(case: &Case) -> Plugins {
    Plugins(case.json.get("plugin").map(|p| {
        MockPlugin {
            name: p["name"].as_str().unwrap_or_default().to_string(),
            version: p["version"].as_str().unwrap_or_default().to_string(),
            capabilities: p["capabilities"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str().map(String::from)).collect())
                .unwrap_or_default(),
            response: serde_json::to_vec(&p["verify_signature_response"]).unwrap_or_default(),
        }
    }))
}

/// CRLs by URL, from `crl_responses` (the files stand in for the HTTP server upstream used).
pub struct MappedCrls(BTreeMap<String, Vec<u8>>);

impl CrlSource for MappedCrls {
    fn crl(&self, url: &str) -> Option<Vec<u8>> {
        self.0.get(url).cloned()
    }
}

pub fn mapped_crls(case: &Case) -> Result<MappedCrls, String> {
    let mut map = BTreeMap::new();
    if let Some(responses) = case.json.get("crl_responses").and_then(Value::as_object) {
        for (url, file) in responses {
            if let Some(f) = file.as_str() {
                map.insert(url.clone(), case.read(f)?);
            }
        }
    }
    Ok(MappedCrls(map))
}
