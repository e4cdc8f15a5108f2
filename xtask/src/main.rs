//! `cargo xtask` — this workspace's tasks.
//!
//! `migrate` is Braid's command line exactly as any workspace gets it (`braid init` writes the
//! same call): the Rust revisions of `migrations/`, compiled in by `build.rs`, handed to
//! `braid_cli`. `bench` is this workspace's own.

mod bench;
mod bench_backfill;
mod bench_tenants;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "Braid's workspace tasks: database migrations and benchmarks",
    version
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Debug, Subcommand)]
enum Task {
    /// Database migrations over a version graph (Alembic's model), for every configured database.
    /// (Boxed: the command line is large, and the enum pays for its largest variant.)
    Migrate(Box<braid_cli::Args>),
    /// Benchmarks of whole commands (hyperfine) against the graph and SQLite floors.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    match Cli::parse().task {
        Task::Migrate(args) => {
            braid_cli::run(*args, &braid_cli::FrontEnd::xtask(braid::rust_revisions!()))
        }
        Task::Bench(args) => bench::run(args).unwrap_or_else(|e| {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }),
    }
}
