//! The commands that act on databases: upgrade, downgrade, stamp, current, accept, check,
//! drivers, and offline SQL. The project runs them on every selected database; this module
//! draws progress and prints one summary.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use braid::{
    DbResult, DbStatus, Dialect, Event, FindingKind, OfflineCommand, Operation, Project,
    RunSettings,
};
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use serde::Serialize;

use super::{Failure, Outcome};
use crate::cli::CurrentArgs;
use crate::exit_codes;
use crate::output::Output;
use crate::progress::Bars;

/// Exit codes of `check`, one per problem, so CI can tell them apart. The same codes as
/// [`crate::exit_codes`] (edited, unknown and partial mean the same there).
pub mod check_codes {
    use crate::exit_codes;

    /// The graph has more than one head: merge them (`merge heads`).
    pub const MULTIPLE_HEADS: u8 = exit_codes::MULTIPLE_HEADS;
    /// A database has migrations to apply.
    pub const PENDING: u8 = exit_codes::PENDING;
    /// The heads file does not match the graph.
    pub const HEADS_FILE: u8 = exit_codes::HEADS_FILE;
    /// `--phase expand`: the expand step would run a destructive revision.
    pub const UNSAFE_EXPAND: u8 = exit_codes::UNSAFE_EXPAND;
    /// An applied migration's file changed since it ran.
    pub const EDITED: u8 = exit_codes::EDITED;
    /// A database has a revision applied that the migrations directory does not know.
    pub const UNKNOWN: u8 = exit_codes::UNKNOWN_REVISIONS;
    /// A migration stopped part-way outside a transaction (MySQL): resume it or settle it.
    pub const PARTIAL: u8 = exit_codes::PARTIAL;
}

/// `check`'s code for its most severe finding; a database that could not be checked exits with
/// its failure's code (the most severe of them).
fn check_code(kind: FindingKind, databases: &[DbResult]) -> u8 {
    match kind {
        FindingKind::Failed => failed_code(databases),
        FindingKind::Unknown => check_codes::UNKNOWN,
        FindingKind::Partial => check_codes::PARTIAL,
        FindingKind::Edited => check_codes::EDITED,
        FindingKind::MultipleHeads => check_codes::MULTIPLE_HEADS,
        FindingKind::HeadsFile => check_codes::HEADS_FILE,
        FindingKind::UnsafeExpand => check_codes::UNSAFE_EXPAND,
        FindingKind::Pending => check_codes::PENDING,
    }
}

/// The exit code of a run with failed databases: that of the most severe failure
/// ([`exit_codes::for_failures`]); 1 when none failed with a known kind (only skipped ones).
fn failed_code(results: &[DbResult]) -> u8 {
    exit_codes::for_failures(
        results
            .iter()
            .filter(|r| r.status == DbStatus::Error)
            .filter_map(|r| r.error_kind),
    )
}

/// `drivers`: the built-in drivers of this binary and every plugin the config names.
pub fn drivers(project: &Project, out: Output<'_>) -> Outcome {
    let rows = project.drivers();
    #[derive(Serialize)]
    struct Drivers<'a> {
        abi_version: Option<u32>,
        drivers: &'a [braid::DriverInfo],
    }
    let abi = braid::drivers::plugin_abi_version();
    out.emit(
        &Drivers {
            abi_version: abi,
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
            match abi {
                Some(v) => format!("{table}\nThis braid loads plugins of ABI version {v}.\n"),
                None => format!("{table}\nThis braid was built without plugin support.\n"),
            }
        },
    )?;
    if rows.iter().any(|r| r.error.is_some()) {
        return Err(Failure::Exit {
            code: exit_codes::ERROR,
            message: "a plugin library could not be loaded (see the table)".into(),
        });
    }
    Ok(ExitCode::SUCCESS)
}

/// Above this many databases, progress is one bar for the whole run (done, failed, rate)
/// instead of one bar per database.
const ONE_BAR_ABOVE: usize = 8;

/// Draws progress on a terminal; nothing otherwise: one bar per database, or for a run over
/// many databases (a tenant set) one bar counting databases done and failed, with the rate.
struct Progress {
    bars: Bars,
    /// Set once the run says it has more than [`ONE_BAR_ABOVE`] databases.
    whole: std::sync::atomic::AtomicBool,
    failed: std::sync::atomic::AtomicUsize,
}

/// The name of the whole run's bar (no database is called this: names are identifiers).
const RUN_BAR: &str = " run";

impl Progress {
    fn new() -> Self {
        Progress {
            bars: Bars::new(),
            whole: std::sync::atomic::AtomicBool::new(false),
            failed: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    fn on_event(&self, event: &Event) {
        use std::sync::atomic::Ordering::SeqCst;
        if let Event::RunStarted { databases } = event
            && (*databases > ONE_BAR_ABOVE || self.whole.load(SeqCst))
        {
            // A canary run starts twice: the second adds to the first's bar.
            if self.whole.swap(true, SeqCst) {
                self.bars.grow(RUN_BAR, *databases);
            } else {
                self.bars.start_run(RUN_BAR, *databases);
            }
            return;
        }
        if self.whole.load(SeqCst) {
            if let Event::DatabaseDone { status, .. } = event {
                let failed = match status {
                    DbStatus::Error => self.failed.fetch_add(1, SeqCst) + 1,
                    _ => self.failed.load(SeqCst),
                };
                self.bars.message(RUN_BAR, format!("{failed} failed"));
                self.bars.inc(RUN_BAR);
            }
            return;
        }
        match event {
            Event::Started {
                database,
                operation,
                total_steps,
            } if *total_steps > 0 => self.bars.start(database, *total_steps, operation.clone()),
            Event::StepStarted {
                database,
                revision,
                direction,
                ..
            } => self
                .bars
                .message(database, format!("{direction} {revision}")),
            Event::StepFinished { database, .. } => self.bars.inc(database),
            Event::Backfill {
                database,
                revision,
                table,
                rows,
                last_key,
                resumed,
                ..
            } => self.bars.message(
                database,
                format!(
                    "{revision}: backfilled {rows} rows of {table} (key {last_key}){}",
                    if *resumed { ", resumed" } else { "" }
                ),
            ),
            Event::Finished { database, .. } | Event::StepFailed { database, .. } => {
                self.bars.finish(database)
            }
            _ => {}
        }
    }

    fn done(&self) {
        self.bars.finish(RUN_BAR);
    }
}

/// Runs `op` on the selected databases with progress bars on a terminal and, when human
/// output is piped, one line per step as it finishes (so a long run shows its progress in a CI
/// log and an interrupted one shows how far it got).
fn run_op(
    project: &Project,
    settings: &RunSettings,
    op: &Operation,
    out: Output<'_>,
) -> Result<Vec<DbResult>, Failure> {
    let progress = out.progress_allowed().then(Progress::new);
    let stream = streams_steps(out, op);
    // A run over many databases (a tenant set) prints no line per step: its summary says
    // how it ended, grouped by outcome.
    let many = std::sync::atomic::AtomicBool::new(false);
    let events = |event: &Event| {
        if let Some(progress) = &progress {
            progress.on_event(event);
        }
        if let Event::RunStarted { databases } = event
            && *databases > TABLE_UP_TO
        {
            many.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if many.load(std::sync::atomic::Ordering::SeqCst) {
            return;
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
            let step = braid::AppliedStep {
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
    let results = project.run(settings, op, &events)?;
    if let Some(progress) = &progress {
        progress.done();
    }
    Ok(results)
}

/// Writes the run's record where the library says; a record that cannot be written is a
/// warning: the run itself is done and reported.
fn record(
    project: &Project,
    report: Option<&Path>,
    op: &Operation,
    results: &[DbResult],
    out: Output<'_>,
) {
    match project.record_run(report, op, results) {
        Ok(Some(path)) if !out.is_json() => {
            let unfinished = results.iter().any(|r| r.status != DbStatus::Ok);
            eprintln!(
                "recorded in {}{}",
                path.display(),
                match unfinished {
                    true => format!(
                        " (run the same command again with `--only-failed {}` to finish the \
                         rest)",
                        path.display()
                    ),
                    false => String::new(),
                }
            );
        }
        Ok(_) => {}
        Err(e) => eprintln!(
            "warning: the run's record was not written: {}",
            out.say(&e.to_string())
        ),
    }
}

/// Whether `run_op` prints step lines as they happen: human output, not on a terminal, for the
/// operations that run migrations.
fn streams_steps(out: Output<'_>, op: &Operation) -> bool {
    !out.is_json()
        && !out.progress_allowed()
        && matches!(op, Operation::Upgrade { .. } | Operation::Downgrade { .. })
}

/// The JSON of every database command: `{"databases": [...]}`, errors in this front end's
/// words; each failed database says its `"kind"`. When a database failed, also the `"error"`
/// and `"exit_code"` the command ends with (the fields of the error object of other commands).
#[derive(Serialize)]
struct Databases {
    databases: Vec<DbResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<u8>,
}

fn databases_json(results: &[DbResult], out: Output<'_>, failed: Option<&Failed>) -> Databases {
    // Printed in JSON mode only: human output leaves the copy of every result unmade (a run
    // over thousands of tenants would hold two).
    let shown = if out.is_json() { results } else { &[] };
    Databases {
        databases: shown
            .iter()
            .map(|r| DbResult {
                error: r.error.as_deref().map(|e| out.say(e)),
                ..r.clone()
            })
            .collect(),
        error: failed.map(|f| out.say(&f.message)),
        exit_code: failed.map(|f| f.code),
    }
}

/// How a database command ends when a database did not succeed: the code of the most severe
/// failure and a one-line summary.
struct Failed {
    code: u8,
    message: String,
}

impl Failed {
    fn exit(self) -> Failure {
        Failure::Exit {
            code: self.code,
            message: self.message,
        }
    }
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
fn summarise(results: &[DbResult], out: Output<'_>, verb: &str, streamed: bool) -> Outcome {
    let failed: Vec<&DbResult> = results
        .iter()
        .filter(|r| r.status == DbStatus::Error)
        .collect();
    let skipped = results
        .iter()
        .filter(|r| r.status == DbStatus::Skipped)
        .count();
    let failure = (!failed.is_empty() || skipped > 0).then(|| {
        let names: Vec<&str> = failed.iter().map(|r| r.name.as_str()).collect();
        let mut message = format!(
            "{} of {} database(s) failed: {}",
            failed.len(),
            results.len(),
            shortened(&names, 10)
        );
        if skipped > 0 {
            message.push_str(&format!("; {skipped} not started"));
        }
        Failed {
            code: failed_code(results),
            message,
        }
    });
    if results.len() > TABLE_UP_TO {
        out.emit(&databases_json(results, out, failure.as_ref()), || {
            grouped(results, verb, out)
        })?;
        return exit_for_failures(failure);
    }
    out.emit(&databases_json(results, out, failure.as_ref()), || {
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
                text.push_str(&format!("{}: note: {}\n", r.name, out.say(note)));
            }
            text.push_str(&left_for_later_line(r));
        }
        text.push_str(&format!("{table}\n"));
        text
    })?;
    let Some(failure) = failure else {
        return Ok(ExitCode::SUCCESS);
    };
    if !out.is_json() {
        for r in &failed {
            if let Some(error) = &r.error {
                eprintln!("error: {}: {verb} failed: {}", r.name, out.say(error));
            }
        }
    }
    Err(failure.exit())
}

/// `upgrade --phase`: what a database's run left for the other step, one line.
fn left_for_later_line(r: &DbResult) -> String {
    if r.left_for_later.is_empty() {
        return String::new();
    }
    let items: Vec<String> = r
        .left_for_later
        .iter()
        .map(|l| match &l.waits_for {
            Some(w) => format!("{} ({}, needs {w})", l.revision, l.phase),
            None => format!("{} ({})", l.revision, l.phase),
        })
        .collect();
    let items: Vec<&str> = items.iter().map(String::as_str).collect();
    format!(
        "{}: left for a later step: {}\n",
        r.name,
        shortened(&items, 10)
    )
}

/// Up to this many databases, the summary is a table of them; above, it is grouped by outcome
/// (a run over a tenant set).
const TABLE_UP_TO: usize = 20;

/// The first `most` names, then how many more.
fn shortened(names: &[&str], most: usize) -> String {
    match names.len() > most {
        true => format!(
            "{}, … and {} more",
            names[..most].join(", "),
            names.len() - most
        ),
        false => names.join(", "),
    }
}

/// A run over many databases, summarised by outcome: how many changed, were already there,
/// failed (grouped by error) and were not started, and where the databases are now.
fn grouped(results: &[DbResult], verb: &str, out: Output<'_>) -> String {
    let outcomes = braid::runs::Outcomes::of(results);
    let mut text = format!(
        "{} databases ({verb}): {} changed, {} already there, {} failed, {} not started\n",
        results.len(),
        outcomes.changed,
        outcomes.unchanged,
        outcomes.failed,
        outcomes.skipped
    );
    for (heads, count) in &outcomes.now_at {
        text.push_str(&format!("  now at {heads}: {count}\n"));
    }
    for (error, names) in &outcomes.errors {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        text.push_str(&format!(
            "  failed ({}): {}\n    {}\n",
            names.len(),
            out.say(error),
            shortened(&names, 10)
        ));
    }
    text
}

/// One line per step: `app: upgrade abc123 (12 ms)`; a stamp runs nothing, so it says what it
/// recorded or removed.
fn step_line(database: &str, verb: &str, step: &braid::AppliedStep) -> String {
    if verb == "stamp" {
        let what = match step.direction {
            braid::StepDirection::Up => "recorded",
            braid::StepDirection::Down => "removed",
        };
        format!("{database}: stamp {what} {}\n", step.revision)
    } else {
        format!(
            "{database}: {} {} ({} ms)\n",
            step.direction, step.revision, step.ms
        )
    }
}

pub fn move_to(
    project: &Project,
    settings: &RunSettings,
    op: &Operation,
    report: Option<&Path>,
    out: Output<'_>,
) -> Outcome {
    let results = run_op(project, settings, op, out)?;
    let verb = match op {
        Operation::Downgrade { .. } => "downgrade",
        _ => "upgrade",
    };
    let outcome = summarise(&results, out, verb, streams_steps(out, op));
    record(project, report, op, &results, out);
    outcome
}

pub fn stamp(
    project: &Project,
    settings: &RunSettings,
    op: &Operation,
    report: Option<&Path>,
    out: Output<'_>,
) -> Outcome {
    let results = run_op(project, settings, op, out)?;
    let outcome = summarise(&results, out, "stamp", false);
    record(project, report, op, &results, out);
    outcome
}

pub fn current(
    project: &Project,
    settings: &RunSettings,
    args: &CurrentArgs,
    report: Option<&Path>,
    out: Output<'_>,
) -> Outcome {
    // `--check-heads` reads each database's status, which says what is pending.
    let op = match args.check_heads {
        true => Operation::Status,
        false => Operation::Current,
    };
    let results = run_op(project, settings, &op, out)?;
    let failure = failed_on(&results).or_else(|| off_heads(&results));
    // Each database's set, to mark the applied heads that are heads of the graph.
    let mut graphs: HashMap<std::path::PathBuf, braid::Graph> = HashMap::new();
    for r in &results {
        let dir = project.set_dir(std::slice::from_ref(&r.name))?;
        if !graphs.contains_key(&dir) {
            let graph = project.graph(&dir)?;
            graphs.insert(dir.clone(), graph);
        }
    }
    out.emit(&databases_json(&results, out, failure.as_ref()), || {
        let mut text = String::new();
        for r in &results {
            match r.status {
                DbStatus::Ok => {
                    let dir = project.set_dir(std::slice::from_ref(&r.name)).ok();
                    let graph = dir.and_then(|d| graphs.get(&d));
                    let heads: Vec<String> = r
                        .current
                        .iter()
                        .map(|h| match graph.is_some_and(|g| g.is_head(h)) {
                            true => format!("{h} (head)"),
                            false => h.clone(),
                        })
                        .collect();
                    text.push_str(&format!("{}: {}\n", r.name, heads_text(&heads)));
                    if args.verbose {
                        for row in r.rows.iter().flatten() {
                            text.push_str(&row_line(row));
                        }
                    }
                }
                _ => text.push_str(&format!(
                    "{}: error: {}\n",
                    r.name,
                    out.say(r.error.as_deref().unwrap_or("?"))
                )),
            }
        }
        text
    })?;
    record(project, report, &op, &results, out);
    exit_for_failures(failure)
}

/// `current --check-heads`: the databases not at the heads of their set, as a failure with
/// `check`'s code for the most severe reason (6 revisions the directory does not know, 7 a
/// migration stopped part-way, 4 revisions to apply); `None` when all are.
fn off_heads(results: &[DbResult]) -> Option<Failed> {
    let off: Vec<(&str, &braid::StatusReport)> = results
        .iter()
        .filter_map(|r| r.check.as_ref().map(|check| (r.name.as_str(), check)))
        .filter(|(_, check)| !check.at_heads())
        .collect();
    // The most severe reason of each database: its kind, how many revisions, in words.
    let why = |check: &braid::StatusReport| match () {
        _ if !check.unknown.is_empty() => {
            (FindingKind::Unknown, check.unknown.len(), "unknown applied")
        }
        _ if !check.partial.is_empty() => (
            FindingKind::Partial,
            check.partial.len(),
            "stopped part-way",
        ),
        _ => (FindingKind::Pending, check.pending.len(), "to apply"),
    };
    let worst = off.iter().map(|(_, check)| why(check).0).min()?;
    let each: Vec<String> = off
        .iter()
        .map(|(name, check)| {
            let (_, n, what) = why(check);
            format!("{name} ({n} {what})")
        })
        .collect();
    Some(Failed {
        code: check_code(worst, &[]),
        message: format!("not at the heads: {}", each.join(", ")),
    })
}

/// How `current` and `accept` end when a database did not succeed.
fn failed_on(results: &[DbResult]) -> Option<Failed> {
    let failed: Vec<&str> = results
        .iter()
        .filter(|r| r.status != DbStatus::Ok)
        .map(|r| r.name.as_str())
        .collect();
    (!failed.is_empty()).then(|| Failed {
        code: failed_code(results),
        message: format!("failed on: {}", failed.join(", ")),
    })
}

fn exit_for_failures(failure: Option<Failed>) -> Outcome {
    match failure {
        None => Ok(ExitCode::SUCCESS),
        Some(failure) => Err(failure.exit()),
    }
}

pub fn accept(
    project: &Project,
    settings: &RunSettings,
    revision: &str,
    report: Option<&Path>,
    out: Output<'_>,
) -> Outcome {
    let op = Operation::Accept {
        revision: revision.to_string(),
    };
    let results = run_op(project, settings, &op, out)?;
    let failure = failed_on(&results);
    out.emit(&databases_json(&results, out, failure.as_ref()), || {
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
                (None, Some(e)) => text.push_str(&format!("{}: error: {}\n", r.name, out.say(e))),
                (None, None) => {}
            }
        }
        text
    })?;
    record(project, report, &op, &results, out);
    exit_for_failures(failure)
}

/// `check`: distinct exit codes for several heads, pending, edited, unknown and partial
/// revisions (see [`check_codes`]), and a database that could not be checked exits with its
/// failure's code ([`exit_codes::for_failure`]); when several apply, the most severe (the
/// library's order). The JSON carries `"exit_code"` when it is not 0.
///
/// With `lint`, the migrations are linted too ([`super::prove::lint_report`]): each error is a
/// problem, and lint errors alone exit with [`exit_codes::LINT_ERRORS`] (a database's state
/// outranks them).
///
/// With `models`, the entities are compared with the migrations ([`super::models::problems`]):
/// a difference exits with [`exit_codes::MODELS_DIFFER`], a backend that could not be compared
/// with [`exit_codes::ERROR`], after the database's state and lint errors.
///
/// With `merges`, each merge revision's branches are applied in each order and the schemas
/// compared ([`super::prove::merges_text`]): an order-dependent merge exits with
/// [`exit_codes::MERGE_ORDER`], a merge that could not be compared with [`exit_codes::ERROR`],
/// after everything above.
pub fn check(
    project: &Project,
    settings: &RunSettings,
    args: &crate::cli::CheckArgs,
    models: Option<&braid::Models>,
    out: Output<'_>,
) -> Outcome {
    let (lint, merges) = (args.lint, args.merges);
    let phase = args.phase.map(braid::Phase::from);
    #[derive(Serialize)]
    struct Check<'a> {
        heads: &'a [String],
        problems: Vec<String>,
        databases: Vec<DbResult>,
        #[serde(skip_serializing_if = "Option::is_none")]
        lint: Option<&'a braid::lint::LintReport>,
        #[serde(skip_serializing_if = "Option::is_none")]
        models: Option<&'a braid::Comparison>,
        #[serde(skip_serializing_if = "Option::is_none")]
        merges: Option<&'a braid::verify::MergesReport>,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<u8>,
    }
    // A binary without entities says so before any database is read.
    if models.is_some_and(braid::Models::is_empty) {
        return Err(braid::Error::from(braid::models::ModelsError::NoEntities).into());
    }
    let report = project.check(settings, phase, &|_: &Event| {})?;
    let linted = if lint {
        Some(super::prove::lint_report(
            project,
            &settings.databases,
            None,
        )?)
    } else {
        None
    };
    let compared = match models {
        Some(models) => {
            let request = braid::CompareRequest {
                databases: settings.databases.clone(),
                ..braid::CompareRequest::default()
            };
            let _spinner =
                crate::progress::Bars::spinner(out.progress_allowed(), super::models::SPINNER);
            Some(project.compare_models(models, &request)?)
        }
        None => None,
    };
    let merged = if merges {
        let _spinner = crate::progress::Bars::spinner(
            out.progress_allowed(),
            "applying each merge's branches in each order on scratch databases…",
        );
        Some(super::prove::merges_report(
            project,
            &settings.databases,
            settings.jobs,
        )?)
    } else {
        None
    };
    let mut problems: Vec<String> = report
        .findings
        .iter()
        .map(|f| out.say(&f.to_string()))
        .collect();
    if let Some(linted) = &linted {
        problems.extend(
            linted
                .findings
                .iter()
                .filter(|f| f.is_error())
                .map(|f| format!("lint: {f}")),
        );
    }
    if let Some(compared) = &compared {
        problems.extend(super::models::problems(compared, out));
    }
    if let Some(merged) = &merged {
        problems.extend(super::prove::merges_problems(merged, out));
    }
    let databases = databases_json(&report.databases, out, None).databases;
    let code = report
        .worst()
        .map(|kind| check_code(kind, &report.databases))
        .or_else(|| {
            linted
                .as_ref()
                .filter(|l| l.errors() > 0)
                .map(|_| exit_codes::LINT_ERRORS)
        })
        .or_else(|| match &compared {
            Some(c) if c.failed() => Some(exit_codes::ERROR),
            Some(c) if !c.agrees() => Some(exit_codes::MODELS_DIFFER),
            _ => None,
        })
        .or_else(|| match &merged {
            Some(m) if m.order_dependent() => Some(exit_codes::MERGE_ORDER),
            Some(m) if !m.passed() => Some(exit_codes::ERROR),
            _ => None,
        });
    out.emit(
        &Check {
            heads: &report.heads,
            problems: problems.clone(),
            databases,
            lint: linted.as_ref(),
            models: compared.as_ref(),
            merges: merged.as_ref(),
            exit_code: code,
        },
        || {
            let mut merges_text = merged
                .as_ref()
                .map_or(String::new(), |m| super::prove::merges_text(m, out));
            // `--phase`: what the other step still has to do, before the verdict.
            merges_text.extend(report.databases.iter().map(left_for_later_line));
            if problems.is_empty() {
                let models = compared.as_ref().map_or(String::new(), |c| {
                    format!(", the entities agree on {} backend(s)", c.backends.len())
                });
                let merges = merged.as_ref().map_or(String::new(), |m| {
                    format!(
                        ", every merge gives one schema in every order on {} backend(s)",
                        m.backends.len()
                    )
                });
                let up_to_date = match phase {
                    Some(phase) => format!("done with the {phase} step"),
                    None => "up to date".to_string(),
                };
                format!(
                    "{merges_text}ok: {} ({}), {} database(s) {up_to_date}, no edited \
                     migrations{models}{merges}\n",
                    if report.heads.len() == 1 {
                        "one head"
                    } else {
                        "heads"
                    },
                    if report.heads.is_empty() {
                        "<empty>".to_string()
                    } else {
                        report.heads.join(", ")
                    },
                    report.databases.len()
                )
            } else {
                let problems: String = problems.iter().map(|p| format!("{p}\n")).collect();
                format!("{merges_text}{problems}")
            }
        },
    )?;
    match code {
        None => Ok(ExitCode::SUCCESS),
        Some(code) => Err(Failure::Exit {
            code,
            message: String::new(),
        }),
    }
}

/// `--sql`: the script for each selected database's dialect (or `--dialect`), no connection.
pub fn offline(
    project: &Project,
    command: &OfflineCommand,
    dialect: Option<&str>,
    databases: &[String],
    out: Output<'_>,
) -> Outcome {
    let dialect: Option<Dialect> = match dialect {
        Some(d) => Some(
            d.parse()
                .map_err(|e: String| braid::Error::from(braid::OfflineError::Dialect(e)))?,
        ),
        None => None,
    };
    let scripts = project.offline(command, dialect, databases)?;
    #[derive(Serialize)]
    struct Scripts<'a> {
        scripts: &'a [braid::OfflineScript],
    }
    let several = scripts.len() > 1;
    out.emit(&Scripts { scripts: &scripts }, || {
        let mut text = String::new();
        for s in &scripts {
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
fn row_line(row: &braid::AppliedRow) -> String {
    match &row.partial {
        None => format!(
            "  {} applied {} by {} in {} ms ({})\n",
            row.revision, row.applied_at, row.applied_by, row.duration_ms, row.checksum
        ),
        Some(p) => format!(
            "  {} PARTIAL: {} of {} statements ran while {}, since {} by {}{}\n",
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
            row.applied_by,
            match (p.statement_started, &p.session) {
                (Some(n), Some(session)) => format!(
                    "; statement {n} was running (session {session}) when it stopped: the next \
                     upgrade checks whether it took effect"
                ),
                (Some(n), None) => format!(
                    "; statement {n} was running when it stopped: the next upgrade checks \
                     whether it took effect"
                ),
                _ => String::new(),
            }
        ),
    }
}
