//! The `nv2` binary: see `nv2 --help`.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::SUCCESS
}
