//! `verify`: proves that every migration can be undone and redone, on scratch databases of
//! every configured backend, before it reaches a database that matters.
//!
//! # What is checked
//!
//! For each configured backend — databases that share a migration set, a dialect, a server
//! and `branches` are verified once — a scratch database is created next to the configured one
//! (Postgres and MySQL/MariaDB: `CREATE DATABASE braid_verify_<unique>` on the same server,
//! reached with the configured URL and the database name replaced; SQLite: a file in a
//! temporary directory). The configured database itself is never changed. Then, for each
//! revision of the set's upgrade plan from base (in plan order, restricted to the database's
//! `branches`):
//!
//! 1. the schema is snapshotted ([`braid_driver::Driver::introspect`]);
//! 2. `up` runs — it must succeed — and the schema is snapshotted;
//! 3. `down` of that revision alone runs — it must succeed — and the schema must equal the
//!    snapshot of step 1 (`down leaves a different schema` otherwise, with each
//!    [`Difference`]);
//! 4. `up` runs again — it must succeed — and the schema must equal the snapshot of step 2
//!    (`up again differs` otherwise).
//!
//! Revisions before the range asked for are upgraded without checks. A backend stops at its
//! first failing revision (what follows is reported as not verified); the other backends go
//! on, concurrently. The scratch database is dropped at the end, also after a failure, and
//! the report says so when it could not be.
//!
//! A scratch database is thrown away, so it is spared the writes that only protect a database
//! that is kept: its session does not wait for the disk (Postgres, SQLite; see
//! `scratch::throwaway`), and a migration run statement by statement (every one on
//! MySQL/MariaDB, one with `transaction = false` elsewhere) marks no statement as started
//! before it runs ([`braid_runner::Runner::throwaway`]).
//!
//! # Data checks: `verify.sql`
//!
//! A revision directory may hold a `verify.sql` (or `verify.<dialect>.sql` — `postgres`,
//! `mysql`, `sqlite` — which replaces it on that dialect, as `up.<dialect>.sql` replaces
//! `up.sql`). It has two kinds of sections, each opened by a line that is exactly the marker:
//!
//! ```sql
//! -- braid:setup
//! INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com');
//!
//! -- braid:check
//! SELECT id, email FROM users ORDER BY id;
//! SELECT count(*) FROM users;
//! ```
//!
//! * Statements under `-- braid:setup` run before the revision's `up` (rows for it to carry);
//!   they stay in the scratch database for the revisions after it.
//! * Statements under `-- braid:check` are queries run before the `up` and again after the
//!   `down`: their results must be identical, row for row and value for value (so give them an
//!   `ORDER BY`). The first query whose results differ is reported with a short excerpt of
//!   both results (`down changes the checked data`).
//!
//! A marker may appear more than once; only comments may come before the first one.
//!
//! # Range and `changed`
//!
//! [`VerifyRequest::range`] limits the revisions checked to those `upgrade FROM:TO` would
//! apply ([`VerifyRange`]); [`VerifyRequest::changed`] to those applied on none of the
//! configured databases of the set (their version stores are read without the migration
//! lock, and nothing is written to them). Both together: revisions that satisfy both.
//!
//! # Merge revisions: order-independence
//!
//! A merge revision joins branches developed in parallel. Production applies them in plan
//! order (among the revisions whose parents and dependencies are done, the smallest
//! `(created, id)` first), so the branches' revisions are usually interleaved; a database that
//! received one branch before the other (a developer's, a staging one) holds them in another
//! order. A merge is only safe when the order does not matter. For a merge revision `M` with
//! parents `P1..Pn`:
//!
//! * the *common part* is what every parent needs: the revisions that are ancestors of every
//!   `Pi` (with what they need); each *side* `Si` is `Pi` and its ancestors outside the
//!   common part;
//! * the orders compared are the sides one after the other in the parents' declared order
//!   (`upgrade P1`, then `upgrade P2`, …), the same in reverse, and the production order
//!   ([`Graph::plan_upgrade`] from the common part to `M`, without `M`) when it is neither;
//! * each order runs on a fresh scratch database of every backend: the common part is
//!   upgraded, then the sides' revisions in that order; the whole schema (without Braid's
//!   store) is snapshotted there, before `M`, and compared with the first order's.
//!
//! Orders that give different schemas — or a revision that fails in one order and not in
//! another — make the merge *order-dependent*. The report names the orders (`billing1_plans,
//! billing2_subscriptions then audit1_log, audit2_log_index`), lists each [`Difference`], and
//! always gives the order production uses, which is the one that matters for the databases
//! still to be upgraded. Everything the snapshot holds counts except the order of a table's
//! columns: two sides that each add a column to one table are the common case of parallel work
//! (`merge` reports that overlap as harmless), and their order changes only what `SELECT *`
//! lists.
//!
//! [`Project::check_merges`] (`check --merges`) checks every merge revision of the selected
//! databases' sets. `verify` checks each merge revision of its range once the revision's own
//! checks passed: one whose orders differ fails with [`VerifyStep::MergeOrder`] (with
//! [`VerifyStep::MergeCheck`] when they could not be compared), and the orders are in
//! [`RevisionReport::merge`]. A merge whose sides can only go in one order (a parent is an
//! ancestor of another) needs no scratch database. Nor does the production order in `verify`
//! when its walk (always from base, in plan order) has applied exactly that order when it
//! reaches `M` — nothing outside `M`'s ancestry comes before `M` in the plan: its schema is
//! read from the walk's own database just before `M` runs. The walk's database has been
//! through each revision's down and up again, which the snapshots see only within what each
//! revision names; so when the orders then seem to differ, the production order is applied on
//! a scratch database after all, and that comparison is the one reported. (A change the walk
//! left outside the snapshots that happened to match another order would hide a difference;
//! `check --merges` always applies every order afresh.)

pub(crate) mod backends;
mod data;
pub mod merges;
mod plan;
pub(crate) mod report;
pub(crate) mod scratch;
mod walk;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use braid_driver::{Dialect, Difference};
use braid_graph::{Applied, Graph, PlanError};
use serde::Serialize;

use crate::{Error, Project, RunSettings};

pub use data::{DataFileError, DataMismatch};
pub use merges::{
    MergeReport, MergeStatus, MergesBackendReport, MergesReport, MergesRequest, OrderReport,
};
pub use report::{
    BackendError, BackendReport, Cleanup, Failure, RevisionOutcome, RevisionReport, VerifyReport,
    VerifyStep,
};
pub use scratch::ScratchError;

/// What `verify` checks.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct VerifyRequest {
    /// Database names; empty for every configured database.
    pub databases: Vec<String>,
    /// Only the revisions of this range (and those before it, upgraded without checks).
    pub range: Option<VerifyRange>,
    /// Only revisions applied on none of the configured databases (read-only, no lock).
    pub changed: bool,
    /// Another server to create the scratch databases on, instead of each database's own: it
    /// serves the backends of its dialect (its database name is only used to connect).
    pub url: Option<String>,
    /// How many backends at once; the config's `jobs` when `None`.
    pub jobs: Option<usize>,
}

/// `url` redacted: a request may be logged.
impl std::fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyRequest")
            .field("databases", &self.databases)
            .field("range", &self.range)
            .field("changed", &self.changed)
            .field("url", &self.url.as_deref().map(braid_driver::redact_url))
            .field("jobs", &self.jobs)
            .finish()
    }
}

/// Which revisions to check, as `upgrade` reads a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyRange {
    /// `FROM:TO`: what `upgrade FROM:TO` applies — the revisions above `from` (`base` for
    /// none) up to and including `to`.
    Between { from: String, to: String },
    /// `--since REV`: every revision above `revision`, up to the heads.
    Since { revision: String },
}

impl VerifyRange {
    /// `(from, to)` as target expressions.
    fn bounds(&self) -> (&str, &str) {
        match self {
            VerifyRange::Between { from, to } => (from, to),
            VerifyRange::Since { revision } => (revision, "heads"),
        }
    }
}

impl FromStr for VerifyRange {
    type Err = VerifyError;

    /// `FROM:TO`; an empty side means `base` (`:TO`) or `heads` (`FROM:`).
    fn from_str(range: &str) -> Result<Self, VerifyError> {
        let Some((from, to)) = range.split_once(':') else {
            return Err(VerifyError::RangeSyntax {
                range: range.to_string(),
            });
        };
        let side = |s: &str, default: &str| {
            if s.trim().is_empty() {
                default.to_string()
            } else {
                s.trim().to_string()
            }
        };
        Ok(VerifyRange::Between {
            from: side(from, "base"),
            to: side(to, "heads"),
        })
    }
}

/// Why `verify` could not start. (What goes wrong on a backend is in its
/// [`BackendReport`], not here.)
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("invalid range `{range}`: expected FROM:TO (e.g. `base:heads`, `abc123:`)")]
    RangeSyntax { range: String },

    /// The range does not resolve in a migration set.
    #[error("range `{from}:{to}` in the migration set {}: {source}", set.display())]
    Range {
        set: PathBuf,
        from: String,
        to: String,
        source: Box<PlanError>,
    },

    /// A merge revision asked for does not resolve in a migration set.
    #[error("merge revision `{revision}` in the migration set {}: {source}", set.display())]
    MergeLookup {
        set: PathBuf,
        revision: String,
        source: Box<PlanError>,
    },

    /// A revision asked for as a merge revision has a single parent (or none).
    #[error(
        "`{revision}` in the migration set {} is not a merge revision: it has {parents} \
         parent(s)",
        set.display()
    )]
    NotAMerge {
        set: PathBuf,
        revision: String,
        parents: usize,
    },

    /// A merge's orders could not be planned from its graph.
    #[error("planning the orders of merge `{revision}` in the migration set {}: {source}", set.display())]
    MergePlan {
        set: PathBuf,
        revision: String,
        source: Box<PlanError>,
    },

    /// `--url` names a backend without a server.
    #[error("--url {shown}: SQLite needs no server (scratch SQLite databases are temporary files)")]
    UrlWithoutServer { shown: String },

    /// `--url` is of a dialect none of the databases verified uses.
    #[error(
        "--url {shown} is a {dialect} server, but none of the databases verified ({}) uses {dialect}",
        databases.join(", ")
    )]
    UrlMatchesNoDatabase {
        shown: String,
        dialect: Dialect,
        databases: Vec<String>,
    },
}

/// Progress of a `verify` run, for a progress bar. Delivered from the backends' worker
/// threads as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum VerifyEvent {
    /// A backend starts: `revisions` will be checked (none: nothing to do, no scratch
    /// database is made).
    BackendStarted { backend: String, revisions: usize },
    RevisionStarted {
        backend: String,
        revision: String,
        /// 1-based, among the revisions checked.
        index: usize,
        total: usize,
    },
    RevisionFinished {
        backend: String,
        revision: String,
        index: usize,
        total: usize,
        passed: bool,
    },
    /// The backend is done (scratch database dropped, or not).
    BackendFinished {
        backend: String,
        passed: bool,
        duration: Duration,
    },
}

/// The event callback: shared by concurrent backends, hence `Sync`.
pub type VerifyEventSink<'a> = &'a (dyn Fn(&VerifyEvent) + Sync);

/// A sink that ignores every event.
pub fn no_verify_events(_: &VerifyEvent) {}

impl Project {
    /// Verifies every revision of the selected databases' sets on scratch databases (see the
    /// [module docs](crate::verify)). Blocks until every backend is done, the backends running
    /// concurrently (at most [`VerifyRequest::jobs`] at once), each on a worker thread of its own
    /// — as [`Project::run`] does, and for the same reason: SQLite and inline plugins run on
    /// the calling thread.
    ///
    /// An `Err` means nothing was verified (no config, a set that does not load, a range that
    /// does not resolve); a failing backend or revision is in the report
    /// ([`VerifyReport::passed`]).
    pub fn verify(
        &self,
        request: &VerifyRequest,
        events: VerifyEventSink<'_>,
    ) -> Result<VerifyReport, Error> {
        let config = self.config()?;
        let selected = self.representatives(&request.databases)?;
        let graphs = self.graphs_of(&selected)?;
        let backends = backends::group(self, config, &selected, request.url.as_deref())?;
        let (applied, notes) = if request.changed {
            self.applied_anywhere(graphs.keys())?
        } else {
            (BTreeMap::new(), Vec::new())
        };
        let walks = walks(backends, &graphs, request, &applied)?;
        let bodies = self.rust().bodies();
        let context = walk::Context {
            bodies: &bodies,
            lock_timeout: config.lock_timeout(),
            root: self.root(),
            events,
        };
        let started = std::time::Instant::now();
        let backends = run_walks(walks, &context, request.jobs.unwrap_or(config.jobs));
        Ok(VerifyReport {
            backends,
            notes,
            ms: started.elapsed().as_millis() as u64,
        })
    }

    /// The graph of each set of `selected`: an error when one does not load, since nothing of
    /// it could be checked.
    fn graphs_of(
        &self,
        selected: &[braid_config::Database<'_>],
    ) -> Result<BTreeMap<PathBuf, Graph>, Error> {
        self.load_sets(selected)
            .into_iter()
            .map(|(dir, graph)| graph.map(|graph| (dir, graph)))
            .collect()
    }

    /// For each set in `dirs`, the revisions applied on any of its configured databases, read
    /// without the lock; databases that cannot be read become notes.
    fn applied_anywhere<'d>(
        &self,
        dirs: impl Iterator<Item = &'d PathBuf>,
    ) -> Result<(BTreeMap<PathBuf, Applied>, Vec<String>), Error> {
        let mut applied = BTreeMap::new();
        let mut notes = Vec::new();
        for dir in dirs {
            let sets = self.applied_sets(&RunSettings::default(), dir, &braid_runner::no_events)?;
            let union: Applied = sets.read.into_iter().flat_map(|(_, a)| a).collect();
            for (database, error) in sets.unreadable {
                notes.push(format!(
                    "--changed: database `{database}` could not be read, so it counts as having \
                     nothing applied: {error}"
                ));
            }
            applied.insert(dir.clone(), union);
        }
        Ok((applied, notes))
    }
}

/// One backend's work: the graph it walks and the revisions of the walk.
struct Walk<'g> {
    backend: backends::Backend,
    graph: Cow<'g, Graph>,
    revisions: Vec<plan::Planned>,
}

/// Each backend's walk; a range that does not resolve in a set is an error before anything
/// runs. `applied` (`--changed`) is empty unless asked for.
fn walks<'g>(
    backends: Vec<backends::Backend>,
    graphs: &'g BTreeMap<PathBuf, Graph>,
    request: &VerifyRequest,
    applied: &BTreeMap<PathBuf, Applied>,
) -> Result<Vec<Walk<'g>>, Error> {
    let mut walks = Vec::with_capacity(backends.len());
    for backend in backends {
        // `verify` loaded the set of every selected database.
        let Some(full) = graphs.get(&backend.dir) else {
            continue;
        };
        let graph = backend.graph(full)?;
        let changed = request.changed.then(|| applied.get(&backend.dir)).flatten();
        let revisions = plan::revisions(&graph, request.range.as_ref(), changed)
            .map_err(|e| e.in_set(&backend.dir))?;
        walks.push(Walk {
            backend,
            graph,
            revisions,
        });
    }
    Ok(walks)
}

/// Runs the walks concurrently, at most `jobs` at once; a report per backend, in order.
fn run_walks(walks: Vec<Walk<'_>>, context: &walk::Context<'_>, jobs: usize) -> Vec<BackendReport> {
    let mut reports: Vec<BackendReport> = walks
        .iter()
        .map(|w| BackendReport::of(&w.backend))
        .collect();
    let results = braid_runner::on_workers(walks, jobs, |w, worker| {
        walk::verify_backend(worker, context, &w.backend, &w.graph, &w.revisions)
    });
    for (report, result) in reports.iter_mut().zip(results) {
        match result {
            Ok(done) => *report = done,
            // The worker's runtime did not start: nothing ran.
            Err(e) => report.error = Some(BackendError::Worker(e)),
        }
    }
    reports
}

/// The differences between two snapshots, never empty when they are not equal (should
/// [`braid_driver::diff`] find no words for what `==` sees, the difference is still reported).
fn differences(expected: &braid_driver::Schema, actual: &braid_driver::Schema) -> Vec<Difference> {
    if expected == actual {
        return Vec::new();
    }
    let mut found = braid_driver::diff(expected, actual);
    if found.is_empty() {
        found.push(Difference {
            object: "schema".to_string(),
            change: "differs".to_string(),
        });
    }
    found
}
