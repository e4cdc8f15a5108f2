//! `cargo xtask` — Braid's command line.
//!
//! This binary parses arguments, formats output and chooses exit codes. Every rule about
//! revisions lives in `braid-graph`, every file format in `braid-source`, every database change
//! in `braid-runner`: a command here is glue.

mod bench;
mod cli;
mod commands;
mod draw;
mod output;
mod project;

use std::process::ExitCode;

use clap::Parser;

/// An error with the exit code it should produce. Anything else exits with 1.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let result = match cli.task {
        cli::Task::Migrate(migrate) => commands::run(migrate),
        cli::Task::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if let Some(exit) = err.downcast_ref::<Exit>() {
                if !exit.message.is_empty() {
                    eprintln!("error: {}", exit.message);
                }
                return ExitCode::from(exit.code);
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(1)
        }
    }
}
