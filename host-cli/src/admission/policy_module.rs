//! The policy module (`wasm/policy`, `nv2-policy.wasm`) run in wasmtime: the admission server's verdicts come from
//! it, so they are the core pipeline's verdicts byte for byte (the differential test holds the module to that).
//!
//! The module is compiled once ([`Engine`] + [`Module`]) and pre-linked ([`InstancePre`]; it has no imports).
//! Every call gets a fresh instance: no state survives from one request to the next, and instantiating a
//! pre-linked module with copy-on-write memory costs microseconds (`nv2-bench admission` measures it). Each call
//! has a time budget and a memory cap ([`StoreLimits`]), so a broken or hostile module can neither hang the server
//! nor exhaust its memory. The time budget is enforced with wasmtime's epoch interruption: a thread advances the
//! engine's epoch every [`EPOCH_TICK`] and a call traps once its deadline epoch passes. Unlike a fuel budget (an
//! instruction count), it is wall-clock time, so the server sets it to the admission deadline: a hostile request
//! cannot keep a blocking thread busy after its answer (a refusal) was sent.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::{Config, Engine, InstancePre, Linker, Module, Store, StoreLimits, StoreLimitsBuilder, Trap};

/// The pointer/length ABI version this host speaks (`nv2_abi_version`, see `wasm/README.md`).
pub const ABI_VERSION: u32 = 1;

/// File name of the module next to the `nv2` executable and in `wasm/dist/`.
pub const MODULE_FILE_NAME: &str = "nv2-policy.wasm";

/// Environment variable naming the module when `--policy-module` is not given.
pub const MODULE_ENV: &str = "NV2_POLICY_MODULE";

/// Default time budget per call. An ordinary verification takes milliseconds; the costliest request of the
/// differential corpus (a 31 MiB hostile envelope) a few seconds. The server lowers it to its `--deadline`.
pub const DEFAULT_TIME_BUDGET: Duration = Duration::from_secs(10);

/// How often the engine's epoch advances: the granularity of the time budget.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Default cap on one instance's linear memory (requests are at most 64 MiB; parsing keeps a few copies).
pub const DEFAULT_MEMORY_BYTES: usize = 1 << 30;

/// Where a module built in this checkout lands (`bash wasm/build.sh`).
const WORKSPACE_MODULE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../wasm/dist/nv2-policy.wasm");

/// Why the module could not be loaded or gave no response.
#[derive(Debug, thiserror::Error)]
pub enum ModuleError {
    /// No module was named and none was found in the default places.
    #[error(
        "no policy module: give --policy-module FILE or set {MODULE_ENV}; none at {searched}. Build it with \
         `bash wasm/build.sh` (writes wasm/dist/nv2-policy.wasm) or `cargo build-policy-module` in the source \
         checkout"
    )]
    NotFound {
        /// The places looked at.
        searched: String,
    },
    /// The file could not be read or compiled.
    #[error("cannot load the policy module {path}: {reason}")]
    Load {
        /// The module file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The module does not follow the ABI (an import, a missing export, another version, a bad result).
    #[error("the policy module {path} breaks the ABI: {reason}")]
    Abi {
        /// The module file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The call ran past its time budget and was interrupted.
    #[error("the policy module did not finish within its time budget of {} ms", budget.as_millis())]
    TimedOut {
        /// The budget.
        budget: Duration,
    },
    /// The call trapped (a panic inside the module, exhausted memory) or wasmtime failed.
    #[error("the policy module trapped: {0}")]
    Trap(String),
}

/// Time and memory given to each call.
#[derive(Clone, Copy, Debug)]
pub struct ModuleLimits {
    /// Longest one call may run (rounded up to whole [`EPOCH_TICK`]s).
    pub time: Duration,
    /// Most linear memory per instance, in bytes.
    pub memory_bytes: usize,
}

impl Default for ModuleLimits {
    fn default() -> Self {
        ModuleLimits { time: DEFAULT_TIME_BUDGET, memory_bytes: DEFAULT_MEMORY_BYTES }
    }
}

impl ModuleLimits {
    /// The budget in epoch ticks: at least one, plus one for the tick already under way when the call starts.
    fn ticks(&self) -> u64 {
        let tick = EPOCH_TICK.as_nanos().max(1);
        // Capped far below u64::MAX: wasmtime adds the budget to the current epoch.
        u64::try_from(self.time.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX).clamp(1, u64::MAX / 4) + 1
    }
}

/// A compiled, pre-linked policy module.
pub struct PolicyModule {
    engine: Engine,
    module: Module,
    pre: InstancePre<StoreLimits>,
    limits: ModuleLimits,
    path: PathBuf,
    _ticker: EpochTicker,
}

/// The thread that advances an engine's epoch every [`EPOCH_TICK`] while its module is loaded.
struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, stopped) = (engine.clone(), Arc::clone(&stop));
        std::thread::Builder::new().name("nv2-epoch".into()).spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        })?;
        Ok(EpochTicker { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for PolicyModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PolicyModule").field("path", &self.path).field("limits", &self.limits).finish()
    }
}

impl PolicyModule {
    /// The module file to load: `explicit` (`--policy-module`), else `$NV2_POLICY_MODULE`, else
    /// `nv2-policy.wasm` next to the running executable, else `wasm/dist/nv2-policy.wasm` of the checkout this
    /// binary was built from, when it exists.
    pub fn locate(explicit: Option<&Path>) -> Result<PathBuf, ModuleError> {
        if let Some(path) = explicit {
            return Ok(path.to_path_buf());
        }
        if let Some(path) = std::env::var_os(MODULE_ENV).filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(path));
        }
        let mut searched = Vec::new();
        if let Some(dir) = std::env::current_exe().ok().and_then(|exe| exe.parent().map(Path::to_path_buf)) {
            let beside = dir.join(MODULE_FILE_NAME);
            if beside.is_file() {
                return Ok(beside);
            }
            searched.push(beside.display().to_string());
        }
        let workspace = PathBuf::from(WORKSPACE_MODULE);
        if workspace.is_file() {
            return Ok(workspace);
        }
        searched.push(workspace.display().to_string());
        Err(ModuleError::NotFound { searched: searched.join(", ") })
    }

    /// Reads and compiles the module at `path`, checks it has no imports and speaks [`ABI_VERSION`].
    pub fn load(path: &Path, limits: ModuleLimits) -> Result<Self, ModuleError> {
        let load = |reason: String| ModuleError::Load { path: path.to_path_buf(), reason };
        let bytes = std::fs::read(path).map_err(|e| load(e.to_string()))?;
        Self::from_bytes(&bytes, path, limits)
    }

    /// Compiles a module from its bytes (binary wasm, or WAT text for tests of the host); `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path, limits: ModuleLimits) -> Result<Self, ModuleError> {
        let load = |reason: String| ModuleError::Load { path: path.to_path_buf(), reason };
        let abi = |reason: String| ModuleError::Abi { path: path.to_path_buf(), reason };
        let mut config = Config::new();
        // The module is built with the wide-arithmetic proposal (`.cargo/config.toml`): its 64x64->128-bit
        // multiplications become one instruction instead of a `__multi3` call, about 3.5x faster verifications.
        config.epoch_interruption(true).wasm_wide_arithmetic(true);
        let engine = Engine::new(&config).map_err(|e| load(format!("{e:#}")))?;
        let module = Module::new(&engine, bytes).map_err(|e| load(format!("{e:#}")))?;
        if let Some(import) = module.imports().next() {
            return Err(abi(format!(
                "it imports {}::{}; a policy module has no imports",
                import.module(),
                import.name()
            )));
        }
        let linker: Linker<StoreLimits> = Linker::new(&engine);
        let pre = linker.instantiate_pre(&module).map_err(|e| abi(format!("{e:#}")))?;
        let ticker = EpochTicker::start(&engine).map_err(|e| load(format!("cannot start the epoch thread: {e}")))?;
        let loaded = PolicyModule { engine, module, pre, limits, path: path.to_path_buf(), _ticker: ticker };
        let mut store = loaded.store();
        let instance = loaded.pre.instantiate(&mut store).map_err(trap(limits.time))?;
        let version = instance
            .get_typed_func::<(), u32>(&mut store, "nv2_abi_version")
            .map_err(|e| abi(format!("{e:#}")))?
            .call(&mut store, ())
            .map_err(trap(limits.time))?;
        if version != ABI_VERSION {
            return Err(abi(format!("it speaks ABI version {version}, this server version {ABI_VERSION}")));
        }
        Ok(loaded)
    }

    /// The file the module came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The limits each call runs under.
    pub fn limits(&self) -> ModuleLimits {
        self.limits
    }

    /// The compiled module (benchmarks instantiate it without the pre-linking).
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Runs one wire-format request (`nv2_core::verify::wire::VerifyRequest` JSON) in a fresh instance and returns
    /// the response bytes (`VerifyResponse` JSON). Blocking and CPU-bound: call it from a blocking thread.
    pub fn verify(&self, request: &[u8]) -> Result<Vec<u8>, ModuleError> {
        let budget = self.limits.time;
        let abi = |reason: String| ModuleError::Abi { path: self.path.clone(), reason };
        let mut store = self.store();
        let instance = self.pre.instantiate(&mut store).map_err(trap(budget))?;
        let alloc = instance.get_typed_func::<u32, u32>(&mut store, "nv2_alloc").map_err(|e| abi(format!("{e:#}")))?;
        let verify =
            instance.get_typed_func::<(u32, u32), u64>(&mut store, "nv2_verify").map_err(|e| abi(format!("{e:#}")))?;
        let memory = instance.get_memory(&mut store, "memory").ok_or_else(|| abi("no memory export".into()))?;
        let len = u32::try_from(request.len()).map_err(|_| abi("the request is over 4 GiB".into()))?;
        let ptr = alloc.call(&mut store, len).map_err(trap(budget))?;
        if ptr == 0 {
            return Err(ModuleError::Trap(format!("nv2_alloc could not allocate {len} bytes for the request")));
        }
        memory.write(&mut store, ptr as usize, request).map_err(|e| abi(format!("nv2_alloc's buffer: {e}")))?;
        let packed = verify.call(&mut store, (ptr, len)).map_err(trap(budget))?;
        let (out, out_len) = ((packed >> 32) as u32, (packed & 0xffff_ffff) as u32);
        if out == 0 {
            return Err(ModuleError::Trap("nv2_verify could not allocate its response".into()));
        }
        let start = out as usize;
        let data = memory.data(&store);
        let response = start
            .checked_add(out_len as usize)
            .and_then(|end| data.get(start..end))
            .ok_or_else(|| abi(format!("nv2_verify returned {out_len} bytes at {out}, outside its memory")))?
            .to_vec();
        // No nv2_free: the instance and its memory go with the store.
        Ok(response)
    }

    /// A store with this module's memory limit whose calls trap once the time budget has passed.
    fn store(&self) -> Store<StoreLimits> {
        let limits = StoreLimitsBuilder::new().memory_size(self.limits.memory_bytes).instances(1).build();
        let mut store = Store::new(&self.engine, limits);
        store.limiter(|limits| limits);
        store.set_epoch_deadline(self.limits.ticks());
        store.epoch_deadline_trap();
        store
    }
}

/// Sorts a wasmtime error: the time budget ran out, or any other trap.
fn trap(budget: Duration) -> impl Fn(wasmtime::Error) -> ModuleError {
    move |error| match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => ModuleError::TimedOut { budget },
        _ => ModuleError::Trap(format!("{error:#}")),
    }
}
