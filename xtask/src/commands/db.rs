//! The commands that act on databases: upgrade, downgrade, stamp, current, accept, check and
//! `history -i`. Each runs on every configured database (or those named with `--db`)
//! concurrently through `braid_runner::run_all`, then prints one summary.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::Context;
use braid_config::{Config, DriverSource};
use braid_driver::{Dialect, DriverError, ErrorKind};
use braid_graph::{Applied, Graph};
use braid_runner::{DbResult, DbStatus, DbTarget, Event, OpenFuture, Operation};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::Exit;
use crate::cli::{Global, TransactionMode};
use crate::output::Output;

/// Exit codes of `check`, one per problem, so CI can tell them apart.
pub mod check_codes {
    /// The graph has more than one head: merge them (`merge heads`).
    pub const MULTIPLE_HEADS: u8 = 3;
    /// A database has migrations to apply.
    pub const PENDING: u8 = 4;
    /// An applied migration's file changed since it ran.
    pub const EDITED: u8 = 5;
    /// A database has a revision applied that the migrations directory does not know.
    pub const UNKNOWN: u8 = 6;
    /// A migration stopped part-way outside a transaction (MySQL): resume it or settle it.
    pub const PARTIAL: u8 = 7;
}

/// Opens a database with its driver: one linked into this binary, or a plugin library loaded
/// when the database's turn comes (so a broken plugin fails that database only).
/// With `read_only`, a missing SQLite file is reported rather than created.
fn opener(
    url: String,
    source: Result<DriverSource, String>,
    read_only: bool,
) -> braid_runner::Opener {
    Box::new(move || -> OpenFuture {
        Box::pin(async move {
            match source {
                Ok(DriverSource::BuiltIn(Dialect::Sqlite)) if read_only => {
                    braid_sqlite::open_existing_boxed(&url).await
                }
                Ok(DriverSource::BuiltIn(Dialect::Sqlite)) => braid_sqlite::open_boxed(&url).await,
                Ok(DriverSource::BuiltIn(Dialect::Postgres)) => {
                    braid_postgres::open_boxed(&url).await
                }
                Ok(DriverSource::BuiltIn(Dialect::Mysql)) => braid_mysql::open_boxed(&url).await,
                Ok(DriverSource::Plugin { path, .. }) => match braid_plugin::load(&path) {
                    Ok(plugin) => plugin.open(&url).await,
                    Err(e) => Err(DriverError::new(ErrorKind::Unsupported, e.to_string())),
                },
                Err(e) => Err(DriverError::new(ErrorKind::Url, e)),
            }
        })
    })
}

/// The dialect Braid renders for a database: its built-in driver's, or its plugin's (loaded to
/// ask it).
fn dialect_of(config: &Config, db: &braid_config::DatabaseConfig) -> anyhow::Result<Dialect> {
    Ok(match config.driver_source(db)? {
        DriverSource::BuiltIn(dialect) => dialect,
        DriverSource::Plugin { path, .. } => braid_plugin::load(&path)?.dialect,
    })
}

/// `drivers`: the built-in drivers and every plugin the config names, loaded and checked.
pub fn drivers(config: Option<&Config>, out: Output) -> anyhow::Result<ExitCode> {
    #[derive(Serialize)]
    struct DriverRow {
        name: String,
        kind: &'static str,
        version: String,
        abi_version: Option<u32>,
        dialect: Option<Dialect>,
        path: Option<String>,
        error: Option<String>,
    }
    let mut rows: Vec<DriverRow> = [
        (Dialect::Sqlite, "sqlite (rusqlite, bundled SQLite)"),
        (Dialect::Postgres, "postgres (tokio-postgres)"),
        (Dialect::Mysql, "mysql (mysql_async; MySQL and MariaDB)"),
    ]
    .into_iter()
    .map(|(dialect, name)| DriverRow {
        name: name.to_string(),
        kind: "built-in",
        version: env!("CARGO_PKG_VERSION").to_string(),
        abi_version: None,
        dialect: Some(dialect),
        path: None,
        error: None,
    })
    .collect();
    let mut libraries: Vec<(String, std::path::PathBuf)> = Vec::new();
    if let Some(config) = config {
        libraries.extend(config.plugins.iter().map(|(n, p)| (n.clone(), p.clone())));
        for db in config.databases() {
            if let Some(braid_config::DriverChoice::Plugin { plugin }) = &db.config.driver {
                libraries.push((format!("(database {})", db.name), plugin.clone()));
            }
        }
    }
    for (label, path) in libraries {
        rows.push(match braid_plugin::load(&path) {
            Ok(plugin) => DriverRow {
                name: format!("{} [{label}]", plugin.name),
                kind: "plugin",
                version: plugin.version.clone(),
                abi_version: Some(plugin.abi_version),
                dialect: Some(plugin.dialect),
                path: Some(path.display().to_string()),
                error: None,
            },
            Err(e) => DriverRow {
                name: label,
                kind: "plugin",
                version: String::new(),
                abi_version: None,
                dialect: None,
                path: Some(path.display().to_string()),
                error: Some(e.to_string()),
            },
        });
    }
    #[derive(Serialize)]
    struct Drivers<'a> {
        abi_version: u32,
        drivers: &'a [DriverRow],
    }
    out.emit(
        &Drivers {
            abi_version: braid_plugin::abi::BRAID_PLUGIN_ABI_VERSION,
            drivers: &rows,
        },
        || {
            let mut table = Table::new();
            table.load_preset(UTF8_FULL_CONDENSED);
            table.set_header(["driver", "kind", "version", "ABI", "dialect", "library"]);
            for r in &rows {
                table.add_row([
                    r.name.clone(),
                    r.kind.to_string(),
                    r.error
                        .clone()
                        .map(|e| format!("error: {e}"))
                        .unwrap_or(r.version.clone()),
                    r.abi_version.map(|v| v.to_string()).unwrap_or_default(),
                    r.dialect.map(|d| d.to_string()).unwrap_or_default(),
                    r.path.clone().unwrap_or_default(),
                ]);
            }
            format!(
                "{table}\nThis braid loads plugins of ABI version {}.\n",
                braid_plugin::abi::BRAID_PLUGIN_ABI_VERSION
            )
        },
    )?;
    if rows.iter().any(|r| r.error.is_some()) {
        return Err(Exit {
            code: 1,
            message: "a plugin library could not be loaded (see the table)".into(),
        }
        .into());
    }
    Ok(ExitCode::SUCCESS)
}

/// The selected databases as runner targets.
fn targets(
    config: &Config,
    global: &Global,
    transaction: TransactionMode,
    read_only: bool,
) -> anyhow::Result<Vec<DbTarget>> {
    let mut selected = Vec::new();
    if global.databases.is_empty() {
        selected.extend(config.databases());
    } else {
        for name in &global.databases {
            selected.push(config.database(name)?);
        }
    }
    Ok(selected
        .into_iter()
        .map(|db| {
            let mut target = DbTarget::new(
                db.name,
                db.config.url.clone(),
                opener(
                    db.config.url.clone(),
                    config.driver_source(db.config).map_err(|e| e.to_string()),
                    read_only,
                ),
            );
            target.version_table = db.config.version_table.clone();
            target.schema = db.config.schema.clone();
            target.branches = db.config.branches.clone().unwrap_or_default();
            target.lock_timeout = config.lock_timeout();
            target.transaction = match transaction {
                TransactionMode::PerMigration => braid_runner::TransactionMode::PerMigration,
                TransactionMode::All => braid_runner::TransactionMode::All,
            };
            target
        })
        .collect())
}

/// Draws one progress bar per database on a terminal; nothing otherwise.
struct Progress {
    multi: MultiProgress,
    bars: Mutex<HashMap<String, ProgressBar>>,
}

impl Progress {
    fn new() -> Self {
        Progress {
            multi: MultiProgress::new(),
            bars: Mutex::new(HashMap::new()),
        }
    }

    fn on_event(&self, event: &Event) {
        let Ok(mut bars) = self.bars.lock() else {
            return;
        };
        match event {
            Event::Started {
                database,
                operation,
                total_steps,
            } if *total_steps > 0 => {
                let bar = self.multi.add(ProgressBar::new(*total_steps as u64));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>12} {bar:30} {pos}/{len} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_prefix(database.clone());
                bar.set_message(operation.clone());
                bars.insert(database.clone(), bar);
            }
            Event::StepStarted {
                database,
                revision,
                direction,
                ..
            } => {
                if let Some(bar) = bars.get(database) {
                    bar.set_message(format!("{direction} {revision}"));
                }
            }
            Event::StepFinished { database, .. } => {
                if let Some(bar) = bars.get(database) {
                    bar.inc(1);
                }
            }
            Event::Finished { database, .. } | Event::StepFailed { database, .. } => {
                if let Some(bar) = bars.remove(database) {
                    bar.finish_and_clear();
                }
            }
            _ => {}
        }
    }
}

/// Runs `op` on the selected databases and returns their results in config order.
fn run_op(
    graph: &Graph,
    config: &Config,
    global: &Global,
    transaction: TransactionMode,
    op: &Operation,
    out: Output,
) -> anyhow::Result<Vec<DbResult>> {
    let read_only = matches!(op, Operation::Current | Operation::Status);
    let targets = targets(config, global, transaction, read_only)?;
    let jobs = global.jobs.unwrap_or(config.jobs);
    let registry = braid_migrations::registry();
    let bodies = braid_seaorm::RustBodies::new(&registry);
    let progress = out.progress_allowed().then(Progress::new);
    // Piped human output gets each step as it finishes, so a long run shows its progress in a
    // CI log and an interrupted one shows how far it got.
    let stream = streams_steps(out, op);
    let events = |event: &Event| {
        if let Some(progress) = &progress {
            progress.on_event(event);
        }
        if let (
            true,
            Event::StepFinished {
                database,
                revision,
                direction,
                duration,
                ..
            },
        ) = (stream, event)
        {
            let step = braid_runner::AppliedStep {
                revision: revision.clone(),
                direction: *direction,
                ms: duration.as_millis() as u64,
            };
            let mut stdout = std::io::stdout().lock();
            let _ =
                std::io::Write::write_all(&mut stdout, step_line(database, "", &step).as_bytes());
            let _ = std::io::Write::flush(&mut stdout);
        }
    };
    Ok(braid_runner::run_all(
        graph,
        &bodies,
        targets,
        jobs,
        global.fail_fast,
        op,
        &events,
    ))
}

/// Whether `run_op` prints step lines as they happen: human output, not on a terminal, for the
/// operations that run migrations.
fn streams_steps(out: Output, op: &Operation) -> bool {
    !out.is_json()
        && !out.progress_allowed()
        && matches!(op, Operation::Upgrade { .. } | Operation::Downgrade { .. })
}

#[derive(Serialize)]
struct Databases<'a> {
    databases: &'a [DbResult],
}

fn heads_text(heads: &[String]) -> String {
    if heads.is_empty() {
        "<base>".to_string()
    } else {
        heads.join(", ")
    }
}

/// The end of every database command: one row per database (human) or the JSON contract, and a
/// non-zero exit if any database failed. Step lines were already printed as they happened when
/// output is not a terminal (see [`StepLines`]); on a terminal the progress bars stood in for
/// them and they are printed here.
fn summarise(
    results: &[DbResult],
    out: Output,
    verb: &str,
    streamed: bool,
) -> anyhow::Result<ExitCode> {
    out.emit(&Databases { databases: results }, || {
        let mut table = Table::new();
        table.load_preset(UTF8_FULL_CONDENSED);
        table.set_header(["database", "status", "from", "to", "steps", "time"]);
        for r in results {
            table.add_row([
                r.name.clone(),
                match r.status {
                    DbStatus::Ok => "ok".to_string(),
                    DbStatus::Error => "error".to_string(),
                    DbStatus::Skipped => "skipped".to_string(),
                },
                heads_text(&r.from),
                heads_text(&r.current),
                r.applied.len().to_string(),
                format!("{:.2} s", r.ms as f64 / 1000.0),
            ]);
        }
        let mut text = String::new();
        for r in results {
            if !streamed {
                for step in &r.applied {
                    text.push_str(&step_line(&r.name, verb, step));
                }
            }
            for note in &r.notes {
                text.push_str(&format!("{}: note: {note}\n", r.name));
            }
        }
        text.push_str(&format!("{table}\n"));
        text
    })?;
    let failed: Vec<&DbResult> = results
        .iter()
        .filter(|r| r.status == DbStatus::Error)
        .collect();
    let skipped = results
        .iter()
        .filter(|r| r.status == DbStatus::Skipped)
        .count();
    if failed.is_empty() && skipped == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    if !out.is_json() {
        for r in &failed {
            if let Some(error) = &r.error {
                eprintln!("error: {}: {verb} failed: {error}", r.name);
            }
        }
    }
    let mut message = format!(
        "{} of {} database(s) failed: {}",
        failed.len(),
        results.len(),
        failed
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if skipped > 0 {
        message.push_str(&format!("; {skipped} not started (--fail-fast)"));
    }
    Err(Exit { code: 1, message }.into())
}

/// One line per step: `app: upgrade abc123 (12 ms)`; a stamp runs nothing, so it says what it
/// recorded or removed.
fn step_line(database: &str, verb: &str, step: &braid_runner::AppliedStep) -> String {
    if verb == "stamp" {
        let what = match step.direction {
            braid_runner::StepDirection::Up => "recorded",
            braid_runner::StepDirection::Down => "removed",
        };
        format!("{database}: stamp {what} {}\n", step.revision)
    } else {
        format!(
            "{database}: {} {} ({} ms)\n",
            step.direction, step.revision, step.ms
        )
    }
}

pub fn upgrade_or_downgrade(
    graph: &Graph,
    config: &Config,
    global: &Global,
    target: &str,
    up: bool,
    transaction: TransactionMode,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let op = if up {
        Operation::Upgrade {
            target: target.to_string(),
        }
    } else {
        Operation::Downgrade {
            target: target.to_string(),
        }
    };
    let results = run_op(graph, config, global, transaction, &op, out)?;
    summarise(
        &results,
        out,
        if up { "upgrade" } else { "downgrade" },
        streams_steps(out, &op),
    )
}

pub fn stamp(
    graph: &Graph,
    config: &Config,
    global: &Global,
    targets: &[String],
    purge: bool,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let op = Operation::Stamp {
        targets: targets.to_vec(),
        purge,
    };
    let results = run_op(
        graph,
        config,
        global,
        TransactionMode::PerMigration,
        &op,
        out,
    )?;
    summarise(&results, out, "stamp", false)
}

pub fn current(
    graph: &Graph,
    config: &Config,
    global: &Global,
    verbose: bool,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let results = run_op(
        graph,
        config,
        global,
        TransactionMode::PerMigration,
        &Operation::Current,
        out,
    )?;
    out.emit(
        &Databases {
            databases: &results,
        },
        || {
            let mut text = String::new();
            for r in &results {
                match r.status {
                    DbStatus::Ok => {
                        let heads: Vec<String> = r
                            .current
                            .iter()
                            .map(|h| {
                                let marker = if graph.is_head(h) { " (head)" } else { "" };
                                format!("{h}{marker}")
                            })
                            .collect();
                        text.push_str(&format!("{}: {}\n", r.name, heads_text(&heads)));
                        if verbose {
                            for row in r.rows.iter().flatten() {
                                text.push_str(&row_line(row));
                            }
                        }
                    }
                    _ => text.push_str(&format!(
                        "{}: error: {}\n",
                        r.name,
                        r.error.as_deref().unwrap_or("?")
                    )),
                }
            }
            text
        },
    )?;
    exit_for_failures(&results)
}

fn exit_for_failures(results: &[DbResult]) -> anyhow::Result<ExitCode> {
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.status != DbStatus::Ok)
        .map(|r| r.name.as_str())
        .collect();
    if failed.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Err(Exit {
            code: 1,
            message: format!("failed on: {}", failed.join(", ")),
        }
        .into())
    }
}

pub fn accept(
    graph: &Graph,
    config: &Config,
    global: &Global,
    revision: &str,
    out: Output,
) -> anyhow::Result<ExitCode> {
    let op = Operation::Accept {
        revision: revision.to_string(),
    };
    let results = run_op(
        graph,
        config,
        global,
        TransactionMode::PerMigration,
        &op,
        out,
    )?;
    out.emit(
        &Databases {
            databases: &results,
        },
        || {
            let mut text = String::new();
            for r in &results {
                match (&r.accepted, &r.error) {
                    (Some(a), _) if a.old == a.new => text.push_str(&format!(
                        "{}: {} is unchanged since it ran ({}); nothing to accept\n",
                        r.name, a.revision, a.file
                    )),
                    (Some(a), _) => text.push_str(&format!(
                        "{}: accepted the edit of {} ({}): {} -> {}\n",
                        r.name, a.revision, a.file, a.old, a.new
                    )),
                    (None, Some(e)) => text.push_str(&format!("{}: error: {e}\n", r.name)),
                    (None, None) => {}
                }
            }
            text
        },
    )?;
    exit_for_failures(&results)
}

/// `check`: distinct exit codes for several heads, pending, edited and unknown revisions (see
/// [`check_codes`]); when several apply, the first in that order of severity: unknown, edited,
/// multiple heads, pending.
pub fn check(
    graph: &Graph,
    config: &Config,
    global: &Global,
    out: Output,
) -> anyhow::Result<ExitCode> {
    #[derive(Serialize)]
    struct Check<'a> {
        heads: Vec<&'a str>,
        problems: Vec<String>,
        databases: &'a [DbResult],
    }
    let heads: Vec<&str> = graph.real_heads().iter().map(|r| r.id.as_str()).collect();
    let results = run_op(
        graph,
        config,
        global,
        TransactionMode::PerMigration,
        &Operation::Status,
        out,
    )?;
    let mut problems = Vec::new();
    let mut codes = Vec::new();
    if heads.len() > 1 {
        problems.push(format!(
            "the graph has {} heads ({}); join them with `cargo xtask migrate merge heads`",
            heads.len(),
            heads.join(", ")
        ));
        codes.push(check_codes::MULTIPLE_HEADS);
    }
    for r in &results {
        let Some(status) = &r.check else {
            problems.push(format!(
                "{}: {}",
                r.name,
                r.error.as_deref().unwrap_or("could not be checked")
            ));
            codes.push(1);
            continue;
        };
        let edited: Vec<String> = status
            .edited
            .iter()
            .map(|(rev, _, _)| rev.clone())
            .collect();
        let pending = format!(
            "{} pending migration(s): {{}} (run `cargo xtask migrate upgrade heads`)",
            status.pending.len()
        );
        let findings = [
            (
                &status.unknown,
                check_codes::UNKNOWN,
                "applied revisions not in the migrations directory: {} (was a different branch checked out?)",
            ),
            (
                &edited,
                check_codes::EDITED,
                "applied migrations edited since they ran: {} (restore them, or `cargo xtask migrate accept REV`)",
            ),
            (
                &status.partial,
                check_codes::PARTIAL,
                "partially applied migration(s): {} (fix and rerun `upgrade` to resume, or settle with `stamp`; `current -v` shows the progress)",
            ),
            (&status.pending, check_codes::PENDING, pending.as_str()),
        ];
        for (revisions, code, message) in findings {
            if !revisions.is_empty() {
                let listed = message.replace("{}", &revisions.join(", "));
                problems.push(format!("{}: {listed}", r.name));
                codes.push(code);
            }
        }
    }
    out.emit(
        &Check {
            heads: heads.clone(),
            problems: problems.clone(),
            databases: &results,
        },
        || {
            if problems.is_empty() {
                format!(
                    "ok: one head ({}), {} database(s) up to date, no edited migrations\n",
                    heads.first().copied().unwrap_or("<empty>"),
                    results.len()
                )
            } else {
                problems.iter().map(|p| format!("{p}\n")).collect()
            }
        },
    )?;
    let priority = [
        1,
        check_codes::UNKNOWN,
        check_codes::PARTIAL,
        check_codes::EDITED,
        check_codes::MULTIPLE_HEADS,
        check_codes::PENDING,
    ];
    match priority.iter().find(|c| codes.contains(c)) {
        None => Ok(ExitCode::SUCCESS),
        Some(code) => Err(Exit {
            code: *code,
            message: String::new(),
        }
        .into()),
    }
}

/// The applied set of each selected database, for `history -i`: applied heads and their
/// ancestors (the store holds every applied revision, and heads imply their ancestors).
/// Each selected database's applied set, for `history -i`. A database that cannot be read is
/// reported on stderr and left out; the history is still printed (and the exit code says so).
pub fn applied_sets(
    graph: &Graph,
    config: &Config,
    global: &Global,
    out: Output,
) -> anyhow::Result<(Vec<(String, Applied)>, bool)> {
    let results = run_op(
        graph,
        config,
        global,
        TransactionMode::PerMigration,
        &Operation::Current,
        out,
    )?;
    let mut sets = Vec::new();
    let mut all_read = true;
    for r in &results {
        if r.status != DbStatus::Ok {
            eprintln!(
                "warning: {}: not marked: {}",
                r.name,
                r.error
                    .as_deref()
                    .unwrap_or("cannot read the version store")
            );
            all_read = false;
            continue;
        }
        let applied: Applied = r
            .rows
            .iter()
            .flatten()
            .filter(|row| row.partial.is_none())
            .map(|row| row.revision.clone())
            .collect();
        sets.push((r.name.clone(), applied));
    }
    Ok((sets, all_read))
}

/// `--sql`: the script for each selected database's dialect (or `--dialect`), no connection.
pub fn offline(
    graph: &Graph,
    config: Option<&Config>,
    global: &Global,
    dialect: Option<&str>,
    op: &braid_runner::OfflineOp<'_>,
    out: Output,
) -> anyhow::Result<ExitCode> {
    #[derive(Serialize)]
    struct Script {
        database: Option<String>,
        dialect: Dialect,
        sql: String,
    }
    let registry = braid_migrations::registry();
    let bodies = braid_seaorm::RustBodies::new(&registry);
    let mut scripts = Vec::new();
    let forced: Option<Dialect> = match dialect {
        Some(d) => Some(
            d.parse()
                .map_err(|e: String| anyhow::anyhow!("--dialect: {e}"))?,
        ),
        None => None,
    };
    match config {
        Some(config)
            if forced.is_none() || !global.databases.is_empty() || config.databases.len() == 1 =>
        {
            let selected: Vec<_> = if global.databases.is_empty() {
                config.databases().collect()
            } else {
                global
                    .databases
                    .iter()
                    .map(|n| config.database(n))
                    .collect::<Result<_, _>>()?
            };
            for db in selected {
                let dialect = match forced {
                    Some(d) => d,
                    None => dialect_of(config, db.config)?,
                };
                let names = braid_runner::StoreNames::new(
                    &db.config.version_table,
                    db.config.schema.as_deref(),
                )?;
                let restricted;
                let graph = match &db.config.branches {
                    Some(labels) if !labels.is_empty() => {
                        restricted = braid_runner::restrict(graph, labels)?;
                        &restricted
                    }
                    _ => graph,
                };
                let sql = braid_runner::render_offline(graph, dialect, op, &names, &bodies)?;
                scripts.push(Script {
                    database: Some(db.name.to_string()),
                    dialect,
                    sql,
                });
            }
        }
        _ => {
            let dialect = forced.context(
                "--sql needs --dialect (postgres, mysql or sqlite) when no config names a database",
            )?;
            let names = braid_runner::StoreNames::new(braid_runner::DEFAULT_VERSION_TABLE, None)?;
            let sql = braid_runner::render_offline(graph, dialect, op, &names, &bodies)?;
            scripts.push(Script {
                database: None,
                dialect,
                sql,
            });
        }
    }
    #[derive(Serialize)]
    struct Scripts {
        scripts: Vec<Script>,
    }
    let several = scripts.len() > 1;
    let json = Scripts { scripts };
    out.emit(&json, || {
        let mut text = String::new();
        for s in &json.scripts {
            if several {
                text.push_str(&format!(
                    "-- database: {} ({})\n",
                    s.database.as_deref().unwrap_or("-"),
                    s.dialect
                ));
            }
            text.push_str(&s.sql);
            if !s.sql.ends_with('\n') {
                text.push('\n');
            }
        }
        text
    })?;
    Ok(ExitCode::SUCCESS)
}

/// One version-store row for `current -v`; a migration stopped part-way shows its progress.
fn row_line(row: &braid_runner::AppliedRow) -> String {
    match &row.partial {
        None => format!(
            "  {} applied {} by {} in {} ms ({})\n",
            row.revision, row.applied_at, row.applied_by, row.duration_ms, row.checksum
        ),
        Some(p) => format!(
            "  {} PARTIAL: {} of {} statements ran while {}, since {} by {}\n",
            row.revision,
            p.statements_done,
            p.statements_total
                .map(|t| t.to_string())
                .unwrap_or("?".into()),
            if p.statement_hashes
                .as_deref()
                .unwrap_or("")
                .starts_with("down:")
            {
                "downgrading"
            } else {
                "upgrading"
            },
            row.applied_at,
            row.applied_by
        ),
    }
}
