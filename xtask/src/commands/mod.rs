//! Dispatch: load what a command needs, call the library, print.

mod db;
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
        Command::History(args) => {
            let graph = load(&dir)?;
            if !args.indicate_current {
                graph::history(&graph, args, None, out)?;
                return Ok(ExitCode::SUCCESS);
            }
            let config = load_config(&migrate)?;
            let (sets, all_read) = db::applied_sets(&graph, &config, &migrate.global, out)?;
            graph::history(&graph, args, Some(&sets), out)?;
            if !all_read {
                return Err(crate::Exit {
                    code: 1,
                    message: "some databases could not be read (see the warnings above)".into(),
                }
                .into());
            }
        }
        Command::Upgrade(args) => {
            return move_to(&migrate, &dir, &args.target, &args.run, true, out);
        }
        Command::Downgrade(args) => {
            return move_to(&migrate, &dir, &args.target, &args.run, false, out);
        }
        Command::Stamp(args) => {
            let graph = load(&dir)?;
            if args.sql {
                if args.purge {
                    return Err(crate::Exit {
                        code: 2,
                        message:
                            "--purge cannot be used with --sql: offline there is no table to empty"
                                .into(),
                    }
                    .into());
                }
                let mut from = None;
                let mut to = Vec::new();
                for target in &args.targets {
                    let (f, t) = braid_runner::parse_range(target);
                    if let Some(f) = f {
                        if from.is_some_and(|prev| prev != f) {
                            anyhow::bail!(
                                "stamp --sql takes one starting point: every FROM: prefix must be the same"
                            );
                        }
                        from = Some(f);
                    }
                    to.push(t);
                }
                let op = braid_runner::OfflineOp::Stamp { from, to: &to };
                return offline(&migrate, &graph, args.dialect.as_deref(), &op, out);
            }
            let config = load_config(&migrate)?;
            return db::stamp(
                &graph,
                &config,
                &migrate.global,
                &args.targets,
                args.purge,
                out,
            );
        }
        Command::Current(args) => {
            let config = load_config(&migrate)?;
            return db::current(&load(&dir)?, &config, &migrate.global, args.verbose, out);
        }
        Command::Accept(args) => {
            let config = load_config(&migrate)?;
            return db::accept(&load(&dir)?, &config, &migrate.global, &args.revision, out);
        }
        Command::Drivers => {
            // The built-ins need no config; plugins come from it when there is one.
            let config = match &migrate.global.config {
                None if !std::path::Path::new(braid_config::DEFAULT_CONFIG_FILE).exists() => None,
                _ => Some(load_config(&migrate)?),
            };
            return db::drivers(config.as_ref(), out);
        }
        Command::Check => {
            let config = load_config(&migrate)?;
            return db::check(&load(&dir)?, &config, &migrate.global, out);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `upgrade` / `downgrade`: on every database, or as offline SQL with `--sql`.
fn move_to(
    migrate: &Migrate,
    dir: &std::path::Path,
    target: &str,
    run: &crate::cli::RunOptions,
    up: bool,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let graph = load(dir)?;
    if run.sql {
        let (from, to) = braid_runner::parse_range(target);
        let op = if up {
            braid_runner::OfflineOp::Upgrade { from, to }
        } else if from.is_none() {
            return Err(crate::Exit {
                code: 2,
                message: format!(
                    "downgrade --sql needs a range FROM:TO (nothing is read from a database), e.g. `downgrade heads:{target} --sql`"
                ),
            }
            .into());
        } else {
            braid_runner::OfflineOp::Downgrade { from, to }
        };
        return offline(migrate, &graph, run.dialect.as_deref(), &op, out);
    }
    let config = load_config(migrate)?;
    db::upgrade_or_downgrade(
        &graph,
        &config,
        &migrate.global,
        target,
        up,
        run.transaction,
        out,
    )
}

/// `--sql` works without a config when `--dialect` is given.
fn offline(
    migrate: &Migrate,
    graph: &braid_graph::Graph,
    dialect: Option<&str>,
    op: &braid_runner::OfflineOp<'_>,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let config = if migrate.global.config.is_none()
        && dialect.is_some()
        && !std::path::Path::new(braid_config::DEFAULT_CONFIG_FILE).exists()
    {
        None
    } else {
        Some(load_config(migrate)?)
    };
    db::offline(graph, config.as_ref(), &migrate.global, dialect, op, out)
}

/// `--migrations`, else the config's `migrations`, else `migrations/`. A missing default config
/// file is fine for commands that only read the graph; a broken one is not.
fn migrations_dir(migrate: &Migrate) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &migrate.global.migrations {
        return Ok(dir.clone());
    }
    let root = std::env::current_dir().context("cannot read the current directory")?;
    let default_file = root.join(braid_config::DEFAULT_CONFIG_FILE);
    if migrate.global.config.is_none() && !default_file.exists() {
        return Ok(root.join("migrations"));
    }
    let config = load_config(migrate)?;
    Ok(root.join(config.migrations))
}

/// The config: `--config`, else config/braid.toml; `--profile`, else $BRAID_PROFILE.
pub fn load_config(migrate: &Migrate) -> anyhow::Result<braid_config::Config> {
    let file = migrate
        .global
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from(braid_config::DEFAULT_CONFIG_FILE));
    Ok(braid_config::Config::load(
        &file,
        migrate.global.profile.as_deref(),
    )?)
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
