//! The standalone `braid` binary: `cargo install --path crates/braid-cli`.

fn main() -> std::process::ExitCode {
    braid_cli::standalone()
}
