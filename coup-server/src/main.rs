//! The `coup-server` binary; everything lives in the library ([`coup_server::cli`]).

fn main() -> std::process::ExitCode {
    coup_server::cli::main()
}
