//! Runs a policy module in wasmtime the way a host should (the admission server follows the same pattern): the
//! module is compiled once, every request gets a fresh instance with no imports, a fuel budget (a module that
//! never returns is stopped, deterministically, without a clock) and a memory cap, and the ABI is checked before
//! anything is written into the module.

use std::path::Path;
use wasmtime::{Config, Engine, Instance, Module, Store, StoreLimits, StoreLimitsBuilder, Trap, TypedFunc};

/// The ABI version this host speaks (`nv2_abi_version`).
pub const ABI_VERSION: u32 = 1;

/// Most linear memory one request may use; requests are at most 64 MiB, parsing keeps a few copies.
const MAX_MEMORY_BYTES: usize = 1 << 30;

/// A compiled policy module.
pub struct PolicyModule {
    engine: Engine,
    module: Module,
}

/// Why a request produced no response.
#[derive(Debug)]
pub enum RunError {
    /// The fuel budget ran out: the module did not finish in the instructions allowed.
    OutOfFuel,
    /// The module trapped (a panic in the module traps) or the host call failed.
    Trap(String),
    /// The module does not follow the ABI (missing export, wrong version, out-of-bounds result).
    Abi(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::OutOfFuel => f.write_str("the module ran out of fuel"),
            RunError::Trap(why) => write!(f, "the module trapped: {why}"),
            RunError::Abi(why) => write!(f, "the module broke the ABI: {why}"),
        }
    }
}

/// A response and what it cost.
pub struct Response {
    /// The response bytes (wire-format JSON).
    pub bytes: Vec<u8>,
    /// Fuel consumed, roughly the wasm instructions executed.
    pub fuel: u64,
}

/// The exports a host calls.
struct Exports {
    alloc: TypedFunc<u32, u32>,
    free: TypedFunc<(u32, u32), ()>,
    verify: TypedFunc<(u32, u32), u64>,
    memory: wasmtime::Memory,
}

impl PolicyModule {
    /// Compiles the module at `path` (binary wasm).
    pub fn from_file(path: &Path) -> wasmtime::Result<Self> {
        let engine = Self::engine()?;
        let module = Module::from_file(&engine, path)?;
        Ok(PolicyModule { engine, module })
    }

    /// Compiles a module from WAT text (tests of the harness itself).
    pub fn from_wat(text: &str) -> wasmtime::Result<Self> {
        let engine = Self::engine()?;
        let module = Module::new(&engine, text)?;
        Ok(PolicyModule { engine, module })
    }

    fn engine() -> wasmtime::Result<Engine> {
        let mut config = Config::new();
        config.consume_fuel(true).wasm_wide_arithmetic(true);
        Engine::new(&config)
    }

    /// `module::name` of every import (a policy module must have none).
    pub fn imports(&self) -> Vec<String> {
        self.module.imports().map(|i| format!("{}::{}", i.module(), i.name())).collect()
    }

    /// The names of every export.
    pub fn exports(&self) -> Vec<String> {
        self.module.exports().map(|e| e.name().to_string()).collect()
    }

    /// Runs one request in a fresh instance with `fuel` to spend.
    pub fn verify(&self, request: &[u8], fuel: u64) -> Result<Response, RunError> {
        let limits = StoreLimitsBuilder::new().memory_size(MAX_MEMORY_BYTES).build();
        let mut store: Store<StoreLimits> = Store::new(&self.engine, limits);
        store.limiter(|limits| limits);
        store.set_fuel(fuel).map_err(trap)?;
        let instance = Instance::new(&mut store, &self.module, &[]).map_err(trap)?;
        let version = instance
            .get_typed_func::<(), u32>(&mut store, "nv2_abi_version")
            .map_err(|e| RunError::Abi(e.to_string()))?
            .call(&mut store, ())
            .map_err(trap)?;
        if version != ABI_VERSION {
            return Err(RunError::Abi(format!("the module speaks ABI {version}, this host {ABI_VERSION}")));
        }
        let exports = Exports::of(&instance, &mut store)?;
        let len = u32::try_from(request.len()).map_err(|_| RunError::Abi(String::from("request over 4 GiB")))?;
        let ptr = exports.alloc.call(&mut store, len).map_err(trap)?;
        if ptr == 0 {
            return Err(RunError::Abi(String::from("nv2_alloc could not allocate the request")));
        }
        exports.memory.write(&mut store, ptr as usize, request).map_err(|e| RunError::Abi(e.to_string()))?;
        let packed = exports.verify.call(&mut store, (ptr, len)).map_err(trap)?;
        exports.free.call(&mut store, (ptr, len)).map_err(trap)?;
        let (out, out_len) = ((packed >> 32) as u32, packed as u32);
        if out == 0 {
            return Err(RunError::Abi(String::from("nv2_verify could not allocate the response")));
        }
        let mut bytes = vec![0; out_len as usize];
        exports.memory.read(&store, out as usize, &mut bytes).map_err(|e| RunError::Abi(e.to_string()))?;
        exports.free.call(&mut store, (out, out_len)).map_err(trap)?;
        let left = store.get_fuel().map_err(trap)?;
        Ok(Response { bytes, fuel: fuel - left })
    }
}

impl Exports {
    fn of(instance: &Instance, store: &mut Store<StoreLimits>) -> Result<Self, RunError> {
        let abi = |e: wasmtime::Error| RunError::Abi(e.to_string());
        Ok(Exports {
            alloc: instance.get_typed_func(&mut *store, "nv2_alloc").map_err(abi)?,
            free: instance.get_typed_func(&mut *store, "nv2_free").map_err(abi)?,
            verify: instance.get_typed_func(&mut *store, "nv2_verify").map_err(abi)?,
            memory: instance
                .get_memory(&mut *store, "memory")
                .ok_or_else(|| RunError::Abi(String::from("no memory export")))?,
        })
    }
}

/// Sorts a wasmtime error: running out of fuel, or any other trap.
fn trap(error: wasmtime::Error) -> RunError {
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => RunError::OutOfFuel,
        _ => RunError::Trap(format!("{error:#}")),
    }
}
