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
    let json = matches!(&cli.task, cli::Task::Migrate(m) if m.global.format == cli::Format::Json);
    let result = match cli.task {
        cli::Task::Migrate(migrate) => commands::run(migrate),
        cli::Task::Bench(args) => bench::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // An `Exit` comes after the command printed its result (a summary, `check`'s
            // findings): only its message is left to say.
            if let Some(exit) = err.downcast_ref::<Exit>() {
                if !exit.message.is_empty() {
                    eprintln!("error: {}", exit.message);
                }
                return ExitCode::from(exit.code);
            }
            // Anything else stopped the command before it printed: say why, on stderr, and in
            // JSON mode also as the one object on stdout that scripts parse.
            let mut message = err.to_string();
            for cause in err.chain().skip(1) {
                let cause = cause.to_string();
                // thiserror messages often embed their source already.
                if !message.contains(&cause) {
                    message.push_str(&format!("\n  caused by: {cause}"));
                }
            }
            eprintln!("error: {message}");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "error": message, "exit_code": 1 })
                );
            }
            ExitCode::from(1)
        }
    }
}
