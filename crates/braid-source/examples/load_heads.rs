//! Loads a migrations directory and prints its heads: the I/O part of `migrate heads`, to time
//! loading with process start included.
//!
//! `cargo run --release -p braid-source --example load_heads -- migrations`

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("migrations"));
    match braid_source::load(&dir) {
        Ok(graph) => {
            for head in graph.real_heads() {
                println!("{}", head.id);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
