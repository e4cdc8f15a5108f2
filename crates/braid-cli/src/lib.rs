//! Braid's command line as a library.
//!
//! A workspace's `xtask/src/main.rs` is one call that hands over its compiled Rust revisions:
//!
//! ```ignore
//! fn main() -> std::process::ExitCode {
//!     braid_cli::xtask(braid::rust_revisions!())
//! }
//! ```
//!
//! and `cargo xtask migrate …` runs every command. The standalone `braid` binary (this crate's
//! `src/main.rs`, `cargo install --path crates/braid-cli`) is [`standalone`]: the same commands,
//! flags, output and exit codes, for SQL-only projects, CI images and deploy containers. An
//! xtask with tasks of its own embeds [`Args`] in its parser and calls [`run`].
//!
//! Nothing here decides how Braid behaves — that is the `braid` crate's [`braid::Project`]. This
//! crate parses arguments, calls the project, prints (a table, a graph, or one JSON object with
//! `--format json`; progress bars on a terminal only) and turns typed errors into exit codes:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | an error; stderr says what and what to do |
//! | 2 | usage error |
//! | 3–7 | `check`: several heads, pending, edited, unknown, partial ([`check_codes`]); 5–7 also when a database command is refused or stopped for that reason |
//! | 10–15 | a database failed: cannot connect, lock timeout, migration failed, lock lost, outcome unknown, version store ([`exit_codes`]) |
//!
//! When several databases fail, the most severe failure gives the code
//! ([`exit_codes::for_failures`]).

mod cli;
mod commands;
mod draw;
pub mod exit_codes;
mod output;
mod progress;

use std::process::ExitCode;

use clap::Parser;

pub use cli::{Args, Command, Format, Global};
pub use commands::check_codes;
pub use output::localise;

/// Who is running the command line: its invocation (named in suggested commands), the Rust
/// revisions and the sea-orm entities compiled into it.
#[derive(Debug, Clone)]
pub struct FrontEnd {
    /// `cargo xtask migrate`, `braid`, …
    pub invocation: String,
    pub rust: braid::RustRevisions,
    /// What `generate --autogenerate` and `check --models` compare the migrations with.
    pub models: braid::Models,
}

impl FrontEnd {
    /// A workspace's `cargo xtask migrate`.
    pub fn xtask(rust: braid::RustRevisions) -> Self {
        FrontEnd {
            invocation: "cargo xtask migrate".to_string(),
            rust,
            models: braid::Models::new(),
        }
    }

    /// The same, with the project's sea-orm entities (`generate --autogenerate`, `check
    /// --models`).
    pub fn with_models(mut self, models: braid::Models) -> Self {
        self.models = models;
        self
    }

    /// The standalone `braid` binary: no Rust revisions compiled in.
    pub fn standalone() -> Self {
        FrontEnd {
            invocation: braid::COMMAND.to_string(),
            rust: braid::RustRevisions::new(),
            models: braid::Models::new(),
        }
    }
}

/// `cargo xtask migrate …`: parses the process arguments as an xtask whose only task is
/// `migrate`, runs the command and returns its exit code.
pub fn xtask(rust: braid::RustRevisions) -> ExitCode {
    run_xtask(&FrontEnd::xtask(rust))
}

/// [`xtask`] for a front end that carries more than Rust revisions: an xtask with the
/// project's entities is `run_xtask(&FrontEnd::xtask(braid::rust_revisions!()).with_models(…))`.
pub fn run_xtask(front: &FrontEnd) -> ExitCode {
    let cli::XtaskTask::Migrate(args) = cli::Xtask::parse().task;
    run(args, front)
}

/// The standalone `braid` binary.
pub fn standalone() -> ExitCode {
    run(cli::Standalone::parse().args, &FrontEnd::standalone())
}

/// Runs one parsed command line and returns its exit code, having printed its result (or its
/// error: on stderr, and in JSON mode also as `{"error", "exit_code"}` on stdout; a database
/// command with failed databases adds `"error"` and `"exit_code"` to its `{"databases"}`).
pub fn run(args: Args, front: &FrontEnd) -> ExitCode {
    let out = output::Output {
        format: args.global.format,
        invocation: &front.invocation,
    };
    match commands::run(args, front, out) {
        Ok(code) => code,
        Err(failure) => failure.report(out),
    }
}
