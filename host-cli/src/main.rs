//! The `nv2` binary (also installed as the docker CLI plugin `docker-nv2`): see `nv2 --help`.

fn main() -> std::process::ExitCode {
    nv2_cli::cli::main(std::env::args_os().collect())
}
