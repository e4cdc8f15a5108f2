//! Dispatch: load what a command needs, call the library, print.

mod graph;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{Command, Migrate};
use crate::output::Output;

pub fn run(mut migrate: Migrate) -> anyhow::Result<ExitCode> {
    crate::project::enter_root(&mut migrate.global)?;
    let out = Output {
        format: migrate.global.format,
    };
    let dir = migrations_dir(&migrate)?;
    match &migrate.command {
        Command::Generate(args) => graph::generate(&load_or_empty(&dir)?, &dir, args, out)?,
        Command::Merge(args) => graph::merge(&load(&dir)?, &dir, args, out)?,
        Command::Heads(args) => graph::heads(&load(&dir)?, args, out)?,
        Command::Branches => graph::branches(&load(&dir)?, out)?,
        Command::Show(args) => graph::show(&load(&dir)?, args, out)?,
        Command::History(args) => graph::history(&load(&dir)?, args, None, out)?,
        _ => anyhow::bail!("not implemented yet"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--migrations`, else the config's `migrations`, else `migrations/`.
fn migrations_dir(migrate: &Migrate) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &migrate.global.migrations {
        return Ok(dir.clone());
    }
    Ok(std::env::current_dir()
        .context("cannot read the current directory")?
        .join("migrations"))
}

fn load(dir: &std::path::Path) -> anyhow::Result<braid_graph::Graph> {
    Ok(braid_source::load(dir)?)
}

/// `generate` starts the first revision in an empty or missing directory.
fn load_or_empty(dir: &std::path::Path) -> anyhow::Result<braid_graph::Graph> {
    let has_revisions = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|e| e.path().join("revision.toml").is_file())
        })
        .unwrap_or(false);
    if has_revisions {
        load(dir)
    } else {
        Ok(braid_graph::Graph::build(Vec::new())?)
    }
}
