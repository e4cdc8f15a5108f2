//! The commands that act on databases — upgrade, downgrade, stamp, current, accept, check,
//! `history -i` — and offline SQL. Each selected database (a tenant of a tenant set is one,
//! see [`crate::tenants`]) runs along its own migration set, concurrently, through
//! [`braid_runner::run_all`], within the run's [`Limits`]; a canary run (`canary`) runs its first
//! databases before the rest. What `check` reports and in which order of severity is decided
//! here.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use braid_config::{Database, DriverSource};
use braid_driver::{Dialect, DriverError, ErrorKind};
use braid_graph::{Applied, Direction, Graph, Phase, Revision};
use braid_runner::{
    DbResult, DbStatus, DbTarget, EventSink, Limits, OfflineOp, OpenFuture, Opener, Operation,
    StoreNames, TransactionMode,
};
use serde::Serialize;

use crate::drivers::Access;
use crate::project::Sets;
use crate::tenants::{Shard, in_shard};
use crate::{Error, OfflineError, Project};

/// Which databases a command drives, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSettings {
    /// Database names, tenant set names or `SET:TENANT`; empty for every configured database
    /// and every tenant.
    pub databases: Vec<String>,
    /// Only the databases of this shard ([`Shard`]).
    pub shard: Option<Shard>,
    /// How many at once; the config's `jobs` when `None`.
    pub jobs: Option<usize>,
    /// Stop starting databases after the first failure (`max_failures = 1`).
    pub fail_fast: bool,
    /// Stop starting databases once this many have failed.
    pub max_failures: Option<usize>,
    /// Run this many databases first (the first of the selection), with every failure
    /// stopping the run, and the rest only when all of them succeed.
    pub canary: Option<usize>,
    /// Connections to one server at once; the config's `max_connections` when `None`.
    pub max_connections: Option<usize>,
    /// Transactions of upgrade and downgrade.
    pub transaction: TransactionMode,
}

/// What `check` found, one problem each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Finding {
    /// The database could not be checked.
    Failed { database: String, error: String },
    /// Applied revisions the migrations directory does not know.
    Unknown {
        database: String,
        revisions: Vec<String>,
    },
    /// Migrations stopped part-way outside a transaction.
    Partial {
        database: String,
        revisions: Vec<String>,
    },
    /// Applied migrations edited since they ran.
    Edited {
        database: String,
        revisions: Vec<String>,
    },
    /// A migration set with more than one head (`set` names it when the project has several),
    /// and what their branches both touch, as `merge` would report it.
    MultipleHeads {
        set: Option<PathBuf>,
        heads: Vec<String>,
        overlaps: Vec<crate::overlap::Overlap>,
        /// Statements and revisions the overlap analysis could not read.
        not_analysed: usize,
    },
    /// The heads file does not match the graph ([`crate::heads_file`]). `file` is relative to
    /// the project root when it is under it.
    HeadsFile {
        file: PathBuf,
        state: crate::HeadsFileState,
    },
    /// A revision the expand step (`check --phase expand`) would run that declares
    /// `phase = "expand"` but whose statements drop, rename or change something.
    UnsafeExpand {
        database: String,
        revision: String,
        /// What makes it destructive: ``drops column `plans.price_cents` (…/up.sql:3)``.
        reasons: Vec<String>,
    },
    /// Migrations to apply (with `check --phase`, those that phase's upgrade would apply).
    Pending {
        database: String,
        revisions: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        phase: Option<braid_graph::Phase>,
    },
}

/// The kinds of [`Finding`], most severe first: when several are found, a front end reports
/// the first (its exit code) and prints them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    Failed,
    Unknown,
    Partial,
    Edited,
    MultipleHeads,
    HeadsFile,
    UnsafeExpand,
    Pending,
}

impl Finding {
    pub fn kind(&self) -> FindingKind {
        match self {
            Finding::Failed { .. } => FindingKind::Failed,
            Finding::Unknown { .. } => FindingKind::Unknown,
            Finding::Partial { .. } => FindingKind::Partial,
            Finding::Edited { .. } => FindingKind::Edited,
            Finding::MultipleHeads { .. } => FindingKind::MultipleHeads,
            Finding::HeadsFile { .. } => FindingKind::HeadsFile,
            Finding::UnsafeExpand { .. } => FindingKind::UnsafeExpand,
            Finding::Pending { .. } => FindingKind::Pending,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Finding::Failed { database, error } => write!(f, "{database}: {error}"),
            Finding::Unknown {
                database,
                revisions,
            } => write!(
                f,
                "{database}: applied revisions not in the migrations directory: {} (was a \
                 different branch checked out?)",
                revisions.join(", ")
            ),
            Finding::Partial {
                database,
                revisions,
            } => write!(
                f,
                "{database}: partially applied migration(s): {} (fix and rerun `braid upgrade` \
                 to resume, or settle with `braid stamp`; `braid current -v` shows the progress)",
                revisions.join(", ")
            ),
            Finding::Edited {
                database,
                revisions,
            } => write!(
                f,
                "{database}: applied migrations edited since they ran: {} (restore them, or \
                 `braid accept REV`)",
                revisions.join(", ")
            ),
            Finding::MultipleHeads {
                set,
                heads,
                overlaps,
                not_analysed,
            } => {
                write!(
                    f,
                    "the graph{} has {} heads ({}); join them with `braid merge heads`",
                    set.as_ref()
                        .map(|s| format!(" of {}", s.display()))
                        .unwrap_or_default(),
                    heads.len(),
                    heads.join(", ")
                )?;
                for overlap in overlaps {
                    write!(f, "\n  {overlap}")?;
                }
                if *not_analysed > 0 {
                    write!(
                        f,
                        "\n  {not_analysed} statement(s) or revision(s) not analysed (`braid merge` lists them)"
                    )?;
                }
                Ok(())
            }
            Finding::HeadsFile { file, state } => heads_file_finding(f, file, state),
            Finding::UnsafeExpand {
                database,
                revision,
                reasons,
            } => write!(
                f,
                "{database}: the expand step would run {revision}, which declares phase = \
                 \"expand\" but {}: move that to a contract revision, or declare it contract",
                reasons.join("; ")
            ),
            Finding::Pending {
                database,
                revisions,
                phase,
            } => write!(
                f,
                "{database}: {} pending migration(s): {} (run `braid upgrade {}heads`)",
                revisions.len(),
                revisions.join(", "),
                phase.map_or(String::new(), |p| format!("--phase {p} "))
            ),
        }
    }
}

fn heads_file_finding(
    f: &mut fmt::Formatter<'_>,
    file: &std::path::Path,
    state: &crate::HeadsFileState,
) -> fmt::Result {
    let file = file.display();
    match state {
        crate::HeadsFileState::Stale { listed, heads } => write!(
            f,
            "{file} lists {} but the graph's heads are {}: a revision was added, removed or \
             re-parented without braid, or a conflict in it was resolved by hand; join several \
             heads with `braid merge heads`, or rewrite it from the graph with `braid heads \
             --write`",
            listed.join(", "),
            heads.join(", ")
        ),
        _ => write!(
            f,
            "{file} has git conflict markers: both merged branches changed the graph; join the \
             heads with `braid merge heads` (or `braid rebase`), which rewrites it, or rewrite it \
             with `braid heads --write` when the graph has one head"
        ),
    }
}

/// What `check` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// The real heads of every set checked.
    pub heads: Vec<String>,
    pub findings: Vec<Finding>,
    pub databases: Vec<DbResult>,
}

impl CheckReport {
    /// The most severe kind found; `None` when everything is in order.
    pub fn worst(&self) -> Option<FindingKind> {
        self.findings.iter().map(Finding::kind).min()
    }
}

/// Limits a database's `check` status to what `upgrade --phase phase` would apply: its
/// pending list keeps that part, the rest goes to `left_for_later`. Returns the findings the
/// phase adds: a revision whose phase cannot be told, and for `expand`, a revision of the
/// expand step that declares `expand` but reads as destructive.
fn phase_part_of_status(
    r: &mut DbResult,
    graph: &Graph,
    phase: Phase,
    phases: &crate::phase::ProjectPhases<'_>,
) -> Vec<Finding> {
    let Some(status) = r.check.as_mut() else {
        return Vec::new();
    };
    let plan = braid_graph::Plan {
        steps: status
            .pending
            .iter()
            .filter_map(|id| graph.get(id))
            .map(|revision| braid_graph::Step {
                revision,
                direction: Direction::Up,
            })
            .collect(),
    };
    let (kept, left) = match braid_runner::phase_part(graph, plan, phase, phases) {
        Ok(split) => split,
        Err((_, e)) => {
            // Nothing pending is judged by a phase that cannot be told.
            status.pending.clear();
            return vec![Finding::Failed {
                database: r.name.clone(),
                error: e.message,
            }];
        }
    };
    let mut findings = Vec::new();
    if phase == Phase::Expand {
        for step in &kept.steps {
            findings.extend(unsafe_expand(&r.name, step.revision, phases));
        }
    }
    status.pending = kept.steps.iter().map(|s| s.revision.id.clone()).collect();
    r.left_for_later = left;
    findings
}

/// A revision declared `expand` whose upgrade reads as destructive on some dialect, or whose
/// statements cannot be read to tell.
fn unsafe_expand(
    database: &str,
    rev: &Revision,
    phases: &crate::phase::ProjectPhases<'_>,
) -> Option<Finding> {
    if rev.phase != Some(Phase::Expand) {
        return None;
    }
    let inferred = match phases.inferred(rev) {
        Ok(inferred) => inferred,
        Err(e) => {
            return Some(Finding::Failed {
                database: database.to_string(),
                error: e.to_string(),
            });
        }
    };
    if inferred.phase != Phase::Contract {
        return None;
    }
    Some(Finding::UnsafeExpand {
        database: database.to_string(),
        revision: rev.id.clone(),
        reasons: inferred
            .reasons
            .iter()
            .map(|r| format!("{} ({}:{})", r.reason, r.file, r.line))
            .collect(),
    })
}

/// Each database's applied set, for `history -i`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppliedSets {
    /// `(database, applied revisions)`, in config order.
    pub read: Vec<(String, Applied)>,
    /// `(database, revisions)` whose migration stopped part-way (not in `read`: they are not
    /// applied, but some of their statements ran).
    pub partial: Vec<(String, Vec<String>)>,
    /// `(database, error)` for those that could not be read.
    pub unreadable: Vec<(String, String)>,
}

/// An offline command: what `upgrade`/`downgrade`/`stamp` would run, rendered as SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfflineCommand {
    /// `[FROM:]TO`; FROM defaults to base.
    Upgrade { target: String },
    /// `FROM:TO` (a range is required: nothing is read from a database).
    Downgrade { target: String },
    /// `[FROM:]TO…`, every FROM the same.
    Stamp { targets: Vec<String>, purge: bool },
}

/// One offline script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineScript {
    /// The database it is for; `None` when rendered for a dialect alone.
    pub database: Option<String>,
    pub dialect: Dialect,
    pub sql: String,
}

impl Project {
    /// Runs `op` on the selected databases, each along its own set, and returns their results
    /// in config order. A database that fails does not stop the others (unless `fail_fast`),
    /// nor does a migration set that does not load: its databases fail with the reason.
    pub fn run(
        &self,
        settings: &RunSettings,
        op: &Operation,
        events: EventSink<'_>,
    ) -> Result<Vec<DbResult>, Error> {
        let selected = self.selection(settings)?;
        let sets = self.load_sets(&selected);
        if settings.databases.is_empty() {
            target_in_every_set(op, &selected, &sets, |db| self.dir_of(db))?;
        }
        targets_resolve(op, &selected, &sets, |db| self.dir_of(db))?;
        let canaries = settings.canary.unwrap_or(0).min(selected.len());
        if canaries == 0 {
            return self.run_on(settings, &selected, &sets, op, events);
        }
        let (first, rest) = selected.split_at(canaries);
        let strict = RunSettings {
            max_failures: Some(1),
            ..settings.clone()
        };
        let mut results = self.run_on(&strict, first, &sets, op, events)?;
        if results.iter().any(|r| r.status != DbStatus::Ok) {
            results.extend(rest.iter().map(|db| {
                DbResult::skipped(
                    db.name.to_string(),
                    "not started: a canary database failed (--canary)",
                )
            }));
            return Ok(results);
        }
        results.extend(self.run_on(settings, rest, &sets, op, events)?);
        Ok(results)
    }

    /// Whether `db`'s connections may serve the next tenant of its set: in a schema-per-tenant
    /// set, whose tenants share one database.
    fn reuse_of(&self, db: &Database<'_>) -> Option<braid_runner::Reuse> {
        let (set, setup) = self.search_path_of(db)?;
        Some(braid_runner::Reuse {
            key: set.to_string(),
            setup,
        })
    }

    /// For a tenant of a schema-per-tenant set: its set's name and the statement that makes a
    /// session the tenant's ([`braid_config::TenantSetConfig::search_path_sql`]).
    fn search_path_of<'d>(&self, db: &'d Database<'_>) -> Option<(&'d str, String)> {
        let (set, tenant) = braid_config::tenants::split_tenant(&db.name)?;
        let (_, config) = self.config().ok()?.tenant_set(set).ok()?;
        Some((set, config.search_path_sql(tenant)?))
    }

    /// The databases `settings` selects: by name (all when none), then its shard.
    pub(crate) fn selection(&self, settings: &RunSettings) -> Result<Vec<Database<'_>>, Error> {
        Ok(in_shard(
            self.selected(&settings.databases)?,
            settings.shard,
        ))
    }

    /// Runs `op` on `selected` within the run's limits; the first failing check refuses
    /// before anything is opened.
    fn run_on(
        &self,
        settings: &RunSettings,
        selected: &[Database<'_>],
        sets: &Sets,
        op: &Operation,
        events: EventSink<'_>,
    ) -> Result<Vec<DbResult>, Error> {
        let config = self.config()?;
        let bodies = self.rust().bodies();
        let access = match op {
            Operation::Current | Operation::Status => Access::ReadOnly,
            _ => Access::ReadWrite,
        };
        let shared: std::collections::BTreeMap<&PathBuf, braid_runner::Shared> = sets
            .keys()
            .map(|dir| (dir, braid_runner::Shared::new()))
            .collect();
        let lock_timeout = config.lock_timeout();
        // Asked only by an upgrade limited to a phase, for the revisions of its plans.
        let phases = self.phases();
        // Each database becomes a target when a worker takes it, so a large tenant set holds
        // only its list while it runs.
        let target = |db: &Database<'_>| {
            let dir = self.dir_of(db);
            let graph = match sets.get(&dir) {
                Some(Ok(graph)) => graph,
                Some(Err(e)) => {
                    let error = format!(
                        "database `{}`: migration set {}: {e}",
                        db.name,
                        dir.display()
                    );
                    let kind = braid_runner::FailureKind::Config;
                    return Err(Box::new(DbResult::failed(db.name.to_string(), error, kind)));
                }
                None => {
                    let error = format!("database `{}`: its migration set was not loaded", db.name);
                    let kind = braid_runner::FailureKind::Config;
                    return Err(Box::new(DbResult::failed(db.name.to_string(), error, kind)));
                }
            };
            // Shown (redacted) in messages: the URL with `${…}` resolved, never the password
            // `password_env` / `password_file` add.
            let shown = db
                .config
                .resolved_url()
                .unwrap_or_else(|_| db.config.url.clone());
            let url_error =
                |e: braid_config::ConfigError| DriverError::new(ErrorKind::Url, e.to_string());
            let url = db.config.connection_url().map_err(url_error);
            let source = config.driver_source(&db.config).map_err(url_error);
            let base = self.root().to_path_buf();
            let server = braid_driver::options::server_of(&shown);
            let mut target = DbTarget::new(
                db.name.to_string(),
                graph,
                &bodies,
                shown,
                opener(url, source, access, base),
            );
            target.server = server;
            target.shared = shared.get(&dir);
            target.reuse = self.reuse_of(db);
            target.version_table = db.config.version_table.clone();
            target.schema = db.config.schema.clone();
            target.branches = db.config.branches.clone().unwrap_or_default();
            target.lock_timeout = lock_timeout;
            target.ddl_lock = config
                .ddl_lock_wait()
                .map(|(timeout, retries)| braid_runner::DdlLock { timeout, retries });
            target.transaction = settings.transaction;
            target.phases = Some(&phases);
            Ok(target)
        };
        let limits = limits(settings, config)?;
        let names = selected.iter().map(|db| db.name.to_string()).collect();
        let items: Vec<&Database<'_>> = selected.iter().collect();
        Ok(braid_runner::run_each(
            items, names, target, &limits, op, events,
        ))
    }

    /// `check`: every selected database's status and the heads of their sets, as findings.
    ///
    /// With a `phase`, a database's pending revisions are those `upgrade --phase` would apply
    /// (the rest go to its result's `left_for_later`), so the gate after a deploy's expand
    /// step passes with the contract revisions still to run; and for `expand`, a revision
    /// that step would run is a finding when it declares `expand` but reads as destructive.
    pub fn check(
        &self,
        settings: &RunSettings,
        phase: Option<Phase>,
        events: EventSink<'_>,
    ) -> Result<CheckReport, Error> {
        let selected = self.selection(settings)?;
        let sets = self.load_sets(&selected);
        let several = sets.len() > 1;
        let mut heads = Vec::new();
        let mut findings = Vec::new();
        for (dir, graph) in &sets {
            let Ok(graph) = graph else { continue };
            let set_heads: Vec<String> = graph.real_heads().iter().map(|r| r.id.clone()).collect();
            if set_heads.len() > 1 {
                let report = self.overlaps_in(dir, graph, &settings.databases, &[])?;
                findings.push(Finding::MultipleHeads {
                    set: several.then(|| dir.clone()),
                    heads: set_heads.clone(),
                    overlaps: report.overlaps,
                    not_analysed: report.not_analysed.len(),
                });
            }
            let state = crate::heads_file::state(dir, graph)?;
            if matches!(
                state,
                crate::HeadsFileState::Stale { .. } | crate::HeadsFileState::Conflicted
            ) {
                let file = dir.join(crate::heads_file::HEADS_FILE);
                let file = file
                    .strip_prefix(self.root())
                    .map(PathBuf::from)
                    .unwrap_or(file);
                findings.push(Finding::HeadsFile { file, state });
            }
            heads.extend(set_heads);
        }
        let mut databases = self.run_on(settings, &selected, &sets, &Operation::Status, events)?;
        if let Some(phase) = phase {
            let dirs: HashMap<&str, PathBuf> = selected
                .iter()
                .map(|db| (db.name.as_ref(), self.dir_of(db)))
                .collect();
            let phases = self.phases();
            for r in &mut databases {
                let Some(Ok(graph)) = dirs.get(r.name.as_str()).and_then(|dir| sets.get(dir))
                else {
                    continue;
                };
                findings.extend(phase_part_of_status(r, graph, phase, &phases));
            }
        }
        for r in &databases {
            let Some(status) = &r.check else {
                findings.push(Finding::Failed {
                    database: r.name.clone(),
                    error: r
                        .error
                        .clone()
                        .unwrap_or_else(|| "could not be checked".into()),
                });
                continue;
            };
            let database = || r.name.clone();
            let edited: Vec<String> = status
                .edited
                .iter()
                .map(|(rev, _, _)| rev.clone())
                .collect();
            for (revisions, finding) in [
                (
                    &status.unknown,
                    Finding::Unknown {
                        database: database(),
                        revisions: status.unknown.clone(),
                    },
                ),
                (
                    &edited,
                    Finding::Edited {
                        database: database(),
                        revisions: edited.clone(),
                    },
                ),
                (
                    &status.partial,
                    Finding::Partial {
                        database: database(),
                        revisions: status.partial.clone(),
                    },
                ),
                (
                    &status.pending,
                    Finding::Pending {
                        database: database(),
                        revisions: status.pending.clone(),
                        phase,
                    },
                ),
            ] {
                if !revisions.is_empty() {
                    findings.push(finding);
                }
            }
        }
        Ok(CheckReport {
            heads,
            findings,
            databases,
        })
    }

    /// What each database using the set `dir` has applied (or the databases named), for
    /// `history -i`. A database that cannot be read is listed apart, not fatal.
    pub fn applied_sets(
        &self,
        settings: &RunSettings,
        dir: &std::path::Path,
        events: EventSink<'_>,
    ) -> Result<AppliedSets, Error> {
        let mut settings = settings.clone();
        if settings.databases.is_empty() {
            settings.databases = self
                .selected(&[])?
                .iter()
                .filter(|db| self.dir_of(db) == dir)
                .map(|db| db.name.to_string())
                .collect();
        }
        let mut sets = AppliedSets::default();
        if settings.databases.is_empty() {
            return Ok(sets);
        }
        for r in self.run(&settings, &Operation::Current, events)? {
            if r.status != DbStatus::Ok {
                let error = r
                    .error
                    .unwrap_or_else(|| "cannot read the version store".into());
                sets.unreadable.push((r.name, error));
                continue;
            }
            let (applied, partial): (Vec<_>, Vec<_>) = r
                .rows
                .iter()
                .flatten()
                .partition(|row| row.partial.is_none());
            if !partial.is_empty() {
                let revisions = partial.iter().map(|row| row.revision.clone()).collect();
                sets.partial.push((r.name.clone(), revisions));
            }
            let applied: Applied = applied.iter().map(|row| row.revision.clone()).collect();
            sets.read.push((r.name, applied));
        }
        Ok(sets)
    }

    /// The SQL `command` would run, per selected database (its dialect, store and branches),
    /// or for `dialect` alone when no config names a database. Connects to nothing.
    pub fn offline(
        &self,
        command: &OfflineCommand,
        dialect: Option<Dialect>,
        databases: &[String],
    ) -> Result<Vec<OfflineScript>, Error> {
        let targets: Vec<String> = match command {
            OfflineCommand::Upgrade { target } | OfflineCommand::Downgrade { target } => {
                vec![target.clone()]
            }
            OfflineCommand::Stamp { targets, .. } => targets.clone(),
        };
        let mut from = None;
        let mut to: Vec<&str> = Vec::new();
        for target in &targets {
            let (f, t) = braid_runner::parse_range(target);
            if let Some(f) = f {
                if from.is_some_and(|prev| prev != f) {
                    return Err(OfflineError::SeveralStarts.into());
                }
                from = Some(f);
            }
            to.push(t);
        }
        let op = match command {
            OfflineCommand::Upgrade { .. } => OfflineOp::Upgrade { from, to: to[0] },
            OfflineCommand::Downgrade { target } if from.is_none() => {
                return Err(OfflineError::DowngradeNeedsRange {
                    target: target.clone(),
                }
                .into());
            }
            OfflineCommand::Downgrade { .. } => OfflineOp::Downgrade { from, to: to[0] },
            OfflineCommand::Stamp { purge: true, .. } => return Err(OfflineError::Purge.into()),
            OfflineCommand::Stamp { .. } => OfflineOp::Stamp { from, to: &to },
        };
        let bodies = self.rust().bodies();
        let per_database = self.config_if_any().filter(|config| {
            dialect.is_none() || !databases.is_empty() || config.databases.len() == 1
        });
        let Some(config) = per_database else {
            let dialect = dialect.ok_or(OfflineError::NoDialect)?;
            let graph = self.graph(&self.set_dir(databases)?)?;
            let names = StoreNames::new(braid_runner::DEFAULT_VERSION_TABLE, None)?;
            let sql = braid_runner::render_offline(&graph, dialect, &op, &names, &bodies)?;
            return Ok(vec![OfflineScript {
                database: None,
                dialect,
                sql,
            }]);
        };
        let selected = self.selected(databases)?;
        let sets: std::collections::BTreeMap<PathBuf, braid_graph::Graph> = self
            .load_sets(&selected)
            .into_iter()
            .map(|(dir, graph)| graph.map(|graph| (dir, graph)))
            .collect::<Result<_, _>>()?;
        let mut scripts = Vec::new();
        for db in selected {
            let dialect = match dialect {
                Some(d) => d,
                None => crate::drivers::dialect_of(config, &db.config)?,
            };
            let names = StoreNames::new(&db.config.version_table, db.config.schema.as_deref())?;
            // load_sets loaded the set of every selected database.
            let Some(full) = sets.get(&self.dir_of(&db)) else {
                continue;
            };
            let restricted;
            let graph = match &db.config.branches {
                Some(labels) if !labels.is_empty() => {
                    restricted = braid_runner::restrict(full, labels)?;
                    &restricted
                }
                _ => full,
            };
            let mut sql = braid_runner::render_offline(graph, dialect, &op, &names, &bodies)?;
            // A tenant's script runs in its schema, as the tenant's connection does.
            if let Some((_, search_path)) = self.search_path_of(&db) {
                sql.insert_str(0, &search_path);
            }
            scripts.push(OfflineScript {
                database: Some(db.name.to_string()),
                dialect,
                sql,
            });
        }
        Ok(scripts)
    }
}

/// The run's bounds: the command line's, else the config's; `--fail-fast` is a
/// `--max-failures` of 1 (the smaller wins when both are given).
fn limits(settings: &RunSettings, config: &braid_config::Config) -> Result<Limits, Error> {
    let max_failures = match (settings.max_failures, settings.fail_fast) {
        (Some(k), true) => Some(k.min(1)),
        (k, fail_fast) => k.or(fail_fast.then_some(1)),
    };
    let limits = Limits {
        jobs: settings.jobs.unwrap_or(config.jobs),
        max_failures,
        max_connections: settings.max_connections.or(config.max_connections),
    };
    braid_config::check_limits(limits.jobs, limits.max_connections, limits.max_failures)?;
    Ok(limits)
}

/// Opens a database with its driver when its turn comes (so at most `jobs` are open at once,
/// and a broken plugin fails its database only). A relative SQLite path is relative to `base`,
/// the project root.
fn opener(
    url: Result<String, DriverError>,
    source: Result<DriverSource, DriverError>,
    access: Access,
    base: PathBuf,
) -> Opener {
    Box::new(move || -> OpenFuture {
        Box::pin(async move { crate::drivers::open(&source?, &url?, access, &base).await })
    })
}

/// A target naming revisions (an id, a label, `label@head`) that only some migration sets have,
/// with no `--db` to say which databases it is for, is refused rather than failing every
/// database of the other sets. Keywords (`heads`, `-1`, `base`) mean something in every set.
/// Refuses a target that is wrong whatever a database holds (an unknown revision, `head` with
/// several heads, bad grammar), once per migration set and `branches` among the selected
/// databases, before any database is contacted; otherwise every database of the set would fail
/// with the same error. Each is checked on the graph its databases plan on (restricted to their
/// `branches`). What depends on a database (`+1`, a downgrade target above its heads) is left
/// to its plan, as is a set or `branches` that does not load (each database reports it).
fn targets_resolve<'a>(
    op: &Operation,
    selected: &[Database<'a>],
    sets: &Sets,
    dir_of: impl Fn(&Database<'a>) -> PathBuf,
) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    for db in selected {
        let dir = dir_of(db);
        let branches = db.config.branches.clone().unwrap_or_default();
        if !seen.insert((dir.clone(), branches.clone())) {
            continue;
        }
        let Some(Ok(graph)) = sets.get(&dir) else {
            continue;
        };
        let restricted = match branches.is_empty() {
            true => None,
            false => match braid_runner::restrict(graph, &branches) {
                Ok(restricted) => Some(restricted),
                Err(_) => continue,
            },
        };
        target_resolves(op, restricted.as_ref().unwrap_or(graph))?;
    }
    Ok(())
}

/// `op`'s targets on `graph`, as far as they do not depend on what is applied.
fn target_resolves(op: &Operation, graph: &braid_graph::Graph) -> Result<(), Error> {
    match op {
        Operation::Upgrade { target, .. } => graph.check_target(target, Direction::Up)?,
        Operation::Downgrade { target } => graph.check_target(target, Direction::Down)?,
        Operation::Stamp { targets, .. } => {
            for target in targets {
                graph.check_target(target, Direction::Up)?;
            }
        }
        Operation::Accept { revision } => {
            graph.lookup(revision)?;
        }
        Operation::Current | Operation::Status => {}
    }
    Ok(())
}

fn target_in_every_set<'a>(
    op: &Operation,
    selected: &[Database<'a>],
    sets: &Sets,
    dir_of: impl Fn(&Database<'a>) -> PathBuf,
) -> Result<(), Error> {
    let targets: Vec<&str> = match op {
        Operation::Upgrade { target, .. } | Operation::Downgrade { target } => vec![target],
        Operation::Stamp { targets, .. } => targets.iter().map(String::as_str).collect(),
        Operation::Accept { revision } => vec![revision],
        Operation::Current | Operation::Status => return Ok(()),
    };
    if sets.len() < 2 {
        return Ok(());
    }
    let references: Vec<String> = targets
        .iter()
        .filter_map(|t| braid_graph::Target::parse(t).ok())
        .flat_map(|t| [t.branch, t.symbol])
        .flatten()
        .filter(|r| !braid_graph::RESERVED.contains(&r.as_str()))
        .collect();
    if references.is_empty() {
        return Ok(());
    }
    let knows = |db: &Database<'a>| match sets.get(&dir_of(db)) {
        Some(Ok(graph)) => references.iter().all(|r| graph.lookup(r).is_ok()),
        _ => false,
    };
    let (known, unknown): (Vec<&Database<'a>>, Vec<&Database<'a>>) =
        selected.iter().partition(|db| knows(db));
    if known.is_empty() || unknown.is_empty() {
        return Ok(());
    }
    let names = |dbs: &[&Database<'_>]| dbs.iter().map(|db| db.name.to_string()).collect();
    Err(Error::TargetInSomeSets {
        target: targets.join(" "),
        known: names(&known),
        unknown: names(&unknown),
    })
}
