//! The runner: `lock → ensure store → read applied → validate → plan → run each step → record →
//! unlock`, for one database.
//!
//! **Hot path.** A step costs exactly: `BEGIN`, the body, one version-row statement, `COMMIT`
//! (or, in `--transaction all`, just the body and the row); on MySQL, a one-statement migration
//! costs the statement and one write (its row completed, the next one's first statement marked
//! as started, the lock checked; see the executor). The store is read once per run,
//! every body is read and hashed once (before anything changes, so a missing `down.sql` fails
//! before the database is touched) and every statement is rendered once.
//!
//! **Validation.** Upgrade and downgrade refuse a database holding revisions the graph does not
//! know, a partially applied migration, and an applied migration whose file changed. `stamp` only
//! checks unknown revisions (it writes rows, it runs nothing, and it is the tool to repair state),
//! and `stamp --purge` checks nothing because it replaces every row — it is the way out of a
//! database that is ahead of the checkout.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use braid_driver::{Dialect, Driver};
use braid_graph::{Applied, Direction, Graph, Phase, Plan, Revision, Step};
use serde::{Deserialize, Serialize};

use crate::bodies::{Bodies, SourceBodies};
use crate::dialect::{DEFAULT_VERSION_TABLE, StoreNames, StoreSql};
use crate::error::{EditedRevision, RunError};
use crate::executor::{Context, Executor, Prepared};
use crate::phases::Phases;
use crate::progress::Recorded;
use crate::report::{
    AppliedRow, AppliedStep, CurrentReport, Event, EventSink, RunReport, StatusReport,
    StepDirection,
};
use crate::shared::Shared;
use crate::store::{RowWrite, Store, StoreWrite, applied_by};

/// Lock → work → unlock, written once: `$work` (a future) runs with the migration lock held,
/// and the lock is released whatever it returned; the first error wins. (A macro: an async
/// closure over `&mut dyn Driver` is not `Send` in today's compiler.)
macro_rules! locked {
    ($runner:expr, $driver:expr, $store:expr, $events:expr, $work:expr) => {{
        $runner.lock($driver, $store, $events).await?;
        let result = $work.await;
        $runner.unlock($driver, $store, $events, result).await
    }};
}

/// How migrations are grouped into transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionMode {
    /// One transaction per migration: body and version row commit together (the default).
    #[default]
    PerMigration,
    /// The whole plan in one transaction where DDL is transactional; per migration elsewhere.
    All,
}

/// What a migration run moves the database to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal<'t> {
    /// A target expression (`heads`, an id, `label@-1`, …), planned by the graph's rules.
    Target(&'t str),
    /// One revision, by reference: upgraded with whatever it needs that is missing, or
    /// downgraded with whatever applied needs it — nothing else.
    Revision(&'t str),
}

/// Per-database settings of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// The version table (default `braid_version`).
    pub version_table: String,
    /// The schema holding the store (Postgres); `None` for the connection's default.
    pub schema: Option<String>,
    pub transaction: TransactionMode,
    /// How long to wait for another run to release the migration lock.
    pub lock_timeout: Duration,
    /// Branch labels this database receives; empty for every branch.
    pub branches: Vec<String>,
    /// A bound on each migration statement's wait for a table lock, and retries; `None` for
    /// the server's own setting.
    pub ddl_lock: Option<DdlLock>,
}

/// How long a migration's statements may wait for a lock on a table, and how many more times
/// a migration that ran out of it is tried.
///
/// Why: a migration that waits behind a long-running query holds its place in the lock queue,
/// and every query on the table queues behind the migration — an outage for as long as it
/// waits. With a bound the migration gives up instead, the queue drains, and it is tried again
/// after a pause. Postgres (`lock_timeout`) retries a transactional migration whole, which its
/// rollback makes safe; MySQL/MariaDB (`lock_wait_timeout`) commit DDL statement by statement,
/// so a timed-out statement stops the run with its progress recorded, to be resumed by running
/// the upgrade again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DdlLock {
    pub timeout: Duration,
    /// Tries after the first (Postgres).
    pub retries: u32,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            version_table: DEFAULT_VERSION_TABLE.to_string(),
            schema: None,
            transaction: TransactionMode::PerMigration,
            lock_timeout: Duration::from_secs(30),
            branches: Vec::new(),
            ddl_lock: None,
        }
    }
}

/// What `accept` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcceptReport {
    pub database: String,
    pub revision: String,
    pub file: String,
    pub old: String,
    pub new: String,
}

static SOURCE_BODIES: SourceBodies = SourceBodies;

/// Runs operations against one database. Cheap to build; holds no connection (each operation
/// takes the driver), so one runner can serve several calls.
pub struct Runner<'a> {
    database: String,
    /// The whole graph: unknown-revision checks and heads use it.
    full: &'a Graph,
    /// The graph restricted to the database's branches: plans use it.
    graph: Cow<'a, Graph>,
    bodies: &'a dyn Bodies,
    /// Scripts and plans shared with the other databases of the set in this run.
    shared: Option<&'a Shared>,
    names: StoreNames,
    options: RunOptions,
    by: String,
    /// Set by [`Runner::with_phase`]: upgrades apply only this phase's part of their plan.
    phase: Option<(Phase, &'a dyn Phases)>,
    /// Set by [`Runner::throwaway`]: no statement is marked as started before it runs.
    throwaway: bool,
}

impl std::fmt::Debug for Runner<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("database", &self.database)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The subgraph a database with `branches = [...]` receives (see [`Graph::restricted_to`]),
/// with the error naming the config setting.
pub fn restrict(graph: &Graph, labels: &[String]) -> Result<Graph, RunError> {
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    graph.restricted_to(&labels).map_err(|e| {
        RunError::Config(format!(
            "the database's `branches` ({}) cannot be applied: {e}",
            labels
                .iter()
                .map(|l| format!("`{l}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

impl<'a> Runner<'a> {
    /// Validates the store names and, when `options.branches` is set, restricts the graph.
    pub fn new(
        database: impl Into<String>,
        graph: &'a Graph,
        options: RunOptions,
    ) -> Result<Self, RunError> {
        let names = StoreNames::new(&options.version_table, options.schema.as_deref())?;
        let restricted = if options.branches.is_empty() {
            Cow::Borrowed(graph)
        } else {
            Cow::Owned(restrict(graph, &options.branches)?)
        };
        Ok(Runner {
            database: database.into(),
            full: graph,
            graph: restricted,
            bodies: &SOURCE_BODIES,
            shared: None,
            names,
            options,
            by: applied_by(),
            phase: None,
            throwaway: false,
        })
    }

    /// Uses `bodies` instead of the SQL files (Rust migrations, tests).
    pub fn with_bodies(mut self, bodies: &'a dyn Bodies) -> Self {
        self.bodies = bodies;
        self
    }

    /// Limits upgrades to the revisions of `phase` (see [`Graph::phase_part`]), asking
    /// `phases` for each planned revision's phase. What is left is reported in
    /// [`RunReport::left_for_later`]. Downgrades are not limited.
    pub fn with_phase(mut self, phase: Phase, phases: &'a dyn Phases) -> Self {
        self.phase = Some((phase, phases));
        self
    }

    /// For a database that is thrown away after the run (`verify`'s scratch databases): a
    /// migration run statement by statement (every one on MySQL/MariaDB, one with
    /// `transaction = false` elsewhere) marks no statement as started
    /// before it runs. Its version row is written once its statements have run, and a data
    /// statement still commits with its progress, so a DDL statement costs no durable write of
    /// its own. The marks exist so that a later run can resume the same database, and nothing
    /// resumes a database that is dropped; a failing statement is still reported with its
    /// number. A script that manages its own transactions keeps its marks (what it committed
    /// is read back from them). With a store that checks the migration lock in its writes,
    /// the lock is then checked by the row's write, not before each statement: use it only
    /// where no other run can take the lock.
    pub fn throwaway(mut self) -> Self {
        self.throwaway = true;
        self
    }

    /// Shares scripts and plans with the other databases of its migration set in a run
    /// ([`Shared`]); `None` keeps them to itself.
    pub fn with_shared(mut self, shared: Option<&'a Shared>) -> Self {
        self.shared = shared;
        self
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// The graph plans are made from (restricted to the database's branches, if any).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The store with its names as configured: unqualified unless `schema` is set. Only the
    /// lock-free up-to-date check reads through it — an unqualified name finds the same existing
    /// table [`Runner::store`] resolves, and no table means "not up to date" either way.
    fn configured_store(&self, dialect: Dialect) -> Store {
        Store::new(&self.database, StoreSql::new(dialect, self.names.clone()))
    }

    /// The store with its schema resolved on the server once ([`StoreSql::resolve_schema`]).
    /// Every store statement is then qualified, so a migration that changes `search_path` (as
    /// pg_dump's output does) or runs `USE other_db` cannot redirect Braid's bookkeeping, and
    /// the lock key names the table itself: two runners configured with `schema = "public"` and
    /// with none lock the same key.
    async fn store(&self, driver: &mut dyn Driver) -> Result<Store, RunError> {
        let names = crate::store::resolve_names(&self.database, &self.names, driver).await?;
        Ok(Store::new(
            &self.database,
            StoreSql::new(driver.dialect(), names),
        ))
    }

    fn emit(&self, events: EventSink<'_>, e: Event) {
        events(&e);
    }

    /// Upgrades to `target` (`heads`, an id, a label, `label@head`, `+2`, …).
    ///
    /// A database already at `target` costs one read of the version table and no lock;
    /// anything else takes the lock and reads again under it, so two
    /// runners starting together apply each revision once: one migrates, the other waits for
    /// the lock and then finds nothing to do.
    pub async fn upgrade(
        &self,
        driver: &mut dyn Driver,
        target: &str,
        events: EventSink<'_>,
    ) -> Result<RunReport, RunError> {
        if let Some(report) = self.nothing_to_do(driver, target, events).await {
            return Ok(report);
        }
        self.migrate(driver, Direction::Up, Goal::Target(target), events)
            .await
    }

    /// The up-to-date check an application pays at every start: one read of the version
    /// table (with the store's schema version), no lock, nothing created. `Some` only when an
    /// upgrade to `target` would apply nothing and find nothing to refuse (a store of this
    /// Braid's schema version; no unknown, partial or edited revision). Any doubt — no store
    /// yet, another schema version, a failed read, a bad target, something to apply — is
    /// `None`, and the locked path decides and reports.
    async fn nothing_to_do(
        &self,
        driver: &mut dyn Driver,
        target: &str,
        events: EventSink<'_>,
    ) -> Option<RunReport> {
        let started = Instant::now();
        let dialect = driver.dialect();
        let rows = self
            .configured_store(dialect)
            .read_current_rows(driver)
            .await?;
        let (known, unknown) = self.split_known(&rows);
        if !unknown.is_empty() || rows.iter().any(|r| r.partial.is_some()) {
            return None;
        }
        let plan = self
            .plan(
                &self.for_planning(&known),
                Direction::Up,
                Goal::Target(target),
            )
            .ok()?;
        if !plan.steps.is_empty() || !self.edited(&rows, dialect).ok()?.is_empty() {
            return None;
        }
        let heads = self.heads(&known);
        let database = self.database.clone();
        self.emit(
            events,
            Event::Started {
                database: database.clone(),
                operation: "upgrade".to_string(),
                total_steps: 0,
            },
        );
        let duration = started.elapsed();
        self.emit(
            events,
            Event::Finished {
                database: database.clone(),
                steps: 0,
                duration,
            },
        );
        Some(RunReport {
            database,
            from: heads.clone(),
            to: heads,
            steps: Vec::new(),
            duration_ms: duration.as_millis() as u64,
            notes: Vec::new(),
            left_for_later: Vec::new(),
        })
    }

    /// Downgrades to `target` (`base`, an id, `label@base`, `-1`, …).
    pub async fn downgrade(
        &self,
        driver: &mut dyn Driver,
        target: &str,
        events: EventSink<'_>,
    ) -> Result<RunReport, RunError> {
        self.migrate(driver, Direction::Down, Goal::Target(target), events)
            .await
    }

    /// Starts a walk through the history one revision at a time ([`Walk`]): the store
    /// resolved and created if missing, the migration lock taken, the applied revisions read
    /// and validated as [`Runner::upgrade`] validates them — once, for every step after.
    pub async fn walk(&self, driver: &mut dyn Driver) -> Result<Walk<'_, 'a>, RunError> {
        let store = self.store(driver).await?;
        self.lock(driver, &store, &crate::report::no_events).await?;
        // A partially run revision must be finished by an upgrade before anything walks.
        let validated = self
            .validated(driver, &store)
            .await
            .and_then(|(applied, partial)| match partial.iter().next() {
                None => Ok(applied),
                Some((id, p)) => Err(self.partial_error(id, p)),
            });
        match validated {
            Ok(applied) => Ok(Walk {
                runner: self,
                store,
                applied,
                steps: 0,
                stopped: None,
            }),
            Err(e) => {
                self.unlock(driver, &store, &crate::report::no_events, Err(e))
                    .await
            }
        }
    }

    /// Takes the migration lock of `store`. When another run holds it, says so (an event,
    /// and a note in the report) and waits, up to the lock timeout.
    async fn lock(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        events: EventSink<'_>,
    ) -> Result<(), RunError> {
        let key = store.sql.names.lock_key();
        let failed = |source| RunError::Lock {
            database: self.database.clone(),
            key: key.clone(),
            source: Box::new(source),
        };
        match driver.lock(&key, Duration::ZERO).await {
            Ok(()) => return Ok(()),
            Err(e) if e.kind != braid_driver::ErrorKind::LockTimeout => return Err(failed(e)),
            Err(_) => {}
        }
        self.emit(
            events,
            Event::Notice {
                database: self.database.clone(),
                message: format!(
                    "waiting for the migration lock `{key}`: another run holds it (up to {} s)",
                    self.options.lock_timeout.as_secs()
                ),
            },
        );
        driver
            .lock(&key, self.options.lock_timeout)
            .await
            .map_err(failed)
    }

    /// Releases the lock after `result`, whatever it was; the first error wins.
    /// Releases the lock after `result`. A release that fails after the work succeeded is a
    /// notice, not a failure: everything was committed under the lock (each commit checked
    /// it), and a lock that cannot be released is gone with its connection anyway — reporting
    /// the run as failed would hide what it applied.
    async fn unlock<T>(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        events: EventSink<'_>,
        result: Result<T, RunError>,
    ) -> Result<T, RunError> {
        let key = store.sql.names.lock_key();
        let unlocked = driver.unlock(&key).await;
        if let (Ok(_), Err(e)) = (&result, unlocked) {
            self.emit(
                events,
                Event::Notice {
                    database: self.database.clone(),
                    message: format!(
                        "everything was committed, but releasing the migration lock `{key}` \
                         failed: {}",
                        braid_driver::with_causes(&e)
                    ),
                },
            );
        }
        result
    }

    /// Before committing a bookkeeping-only transaction (stamp, accept): the lock must still
    /// be held, or another run may be migrating, and the transaction is rolled back.
    async fn check_lock_before_commit(
        &self,
        driver: &mut dyn Driver,
        key: &str,
        during: &str,
    ) -> Result<(), RunError> {
        let lost = |kept| RunError::LockLost {
            database: self.database.clone(),
            key: key.to_string(),
            during: during.to_string(),
            kept,
        };
        match driver.lock_held(key).await {
            Ok(true) => Ok(()),
            Ok(false) => {
                let _ = driver.rollback().await;
                Err(lost(Vec::new()))
            }
            Err(e) => {
                let _ = driver.rollback().await;
                Err(RunError::driver(
                    &self.database,
                    "checking the migration lock",
                    e,
                ))
            }
        }
    }

    /// Applied ids known to the full graph, and the unknown ones (sorted). A partially applied
    /// revision (its upgrade stopped part-way) is not applied yet; a partially undone one still is.
    fn split_known(&self, rows: &[AppliedRow]) -> (Applied, Vec<String>) {
        let mut known = Applied::new();
        let mut unknown = Vec::new();
        for r in rows {
            if matches!(Recorded::from_row(r.partial.as_ref()), Some(p) if p.direction == Direction::Up)
            {
                continue;
            }
            if self.full.get(&r.revision).is_some() {
                known.insert(r.revision.clone());
            } else {
                unknown.push(r.revision.clone());
            }
        }
        unknown.sort();
        (known, unknown)
    }

    /// The part of `applied` the (restricted) planning graph knows.
    fn for_planning(&self, known: &Applied) -> Applied {
        if self.options.branches.is_empty() {
            return known.clone();
        }
        known
            .iter()
            .filter(|id| self.graph.get(id).is_some())
            .cloned()
            .collect()
    }

    fn heads(&self, applied: &Applied) -> Vec<String> {
        self.full
            .applied_heads(applied)
            .into_iter()
            .map(|r| r.id.clone())
            .collect()
    }

    fn body_error(&self, rev: &Revision, e: crate::bodies::BodyError) -> RunError {
        RunError::Body {
            database: self.database.clone(),
            revision: rev.id.clone(),
            message: e.message,
        }
    }

    /// Applied rows whose file changed since.
    fn edited(
        &self,
        rows: &[AppliedRow],
        dialect: Dialect,
    ) -> Result<Vec<EditedRevision>, RunError> {
        let mut edits = Vec::new();
        for row in rows {
            let Some(rev) = self.full.get(&row.revision) else {
                continue;
            };
            if row.partial.is_some() {
                // Checked statement by statement when the run resumes.
                continue;
            }
            let (current, file) = self
                .bodies
                .current_checksum(rev, dialect)
                .map_err(|e| self.body_error(rev, e))?;
            if current != row.checksum {
                edits.push(EditedRevision {
                    revision: row.revision.clone(),
                    file,
                    stored: row.checksum.clone(),
                    current,
                });
            }
        }
        Ok(edits)
    }

    fn check_unknown(&self, unknown: Vec<String>) -> Result<(), RunError> {
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(RunError::UnknownRevisions {
                database: self.database.clone(),
                revisions: unknown,
            })
        }
    }

    /// Rows holding the progress of a migration interrupted outside a transaction.
    fn partial_rows(&self, rows: &[AppliedRow]) -> HashMap<String, Recorded> {
        rows.iter()
            .filter_map(|r| Recorded::from_row(r.partial.as_ref()).map(|p| (r.revision.clone(), p)))
            .collect()
    }

    fn partial_error(&self, revision: &str, p: &Recorded) -> RunError {
        RunError::Partial {
            database: self.database.clone(),
            revision: revision.to_string(),
            done: p.done as i64,
            total: p.total as i64,
            downgrading: p.direction == Direction::Down,
        }
    }

    /// A run may go on only if it finishes every interrupted migration in the direction it was
    /// going: an upgrade that includes a partially applied revision resumes it; anything else
    /// (a downgrade across it, an upgrade that leaves it out) is refused with both ways out.
    fn check_resumable(
        &self,
        partial: &HashMap<String, Recorded>,
        direction: Direction,
        plan: &Plan<'_>,
    ) -> Result<(), RunError> {
        let mut ids: Vec<&String> = partial.keys().collect();
        ids.sort();
        for id in ids {
            let p = &partial[id];
            let planned = plan
                .steps
                .iter()
                .any(|s| s.revision.id == *id && s.direction == p.direction);
            if p.direction != direction || !planned {
                return Err(self.partial_error(id, p));
            }
        }
        Ok(())
    }

    async fn migrate(
        &self,
        driver: &mut dyn Driver,
        direction: Direction,
        goal: Goal<'_>,
        events: EventSink<'_>,
    ) -> Result<RunReport, RunError> {
        let started = Instant::now();
        let store = self.store(driver).await?;
        locked!(
            self,
            driver,
            &store,
            events,
            self.migrate_locked(driver, &store, direction, goal, events, started)
        )
    }

    /// The plan that moves `applied` to `goal` in `direction`: made once per applied state
    /// in a run whose databases share a [`Shared`].
    fn plan(
        &self,
        applied: &Applied,
        direction: Direction,
        goal: Goal<'_>,
    ) -> Result<Plan<'_>, RunError> {
        let Some(shared) = self.shared else {
            return self.make_plan(applied, direction, goal);
        };
        let (by_reference, text) = match goal {
            Goal::Target(t) => (false, t),
            Goal::Revision(r) => (true, r),
        };
        let key = (
            self.options.branches.clone(),
            applied.clone(),
            direction,
            by_reference,
            text.to_string(),
        );
        if let Some(steps) = shared.plan(&key) {
            let steps: Option<Vec<_>> = steps
                .iter()
                .map(|(id, direction)| {
                    let revision = self.graph.lookup(id).ok()?;
                    Some(braid_graph::Step {
                        revision,
                        direction: *direction,
                    })
                })
                .collect();
            if let Some(steps) = steps {
                return Ok(Plan { steps });
            }
        }
        let plan = self.make_plan(applied, direction, goal)?;
        let steps = plan
            .steps
            .iter()
            .map(|s| (s.revision.id.clone(), s.direction))
            .collect();
        shared.keep_plan(key, steps);
        Ok(plan)
    }

    fn make_plan(
        &self,
        applied: &Applied,
        direction: Direction,
        goal: Goal<'_>,
    ) -> Result<Plan<'_>, RunError> {
        let planned = match (goal, direction) {
            (Goal::Target(target), Direction::Up) => self.graph.plan_upgrade(applied, target),
            (Goal::Target(target), Direction::Down) => self.graph.plan_downgrade(applied, target),
            (Goal::Revision(reference), Direction::Up) => self
                .graph
                .lookup(reference)
                .and_then(|rev| self.graph.plan_upgrade(applied, &rev.id)),
            (Goal::Revision(reference), Direction::Down) => self
                .graph
                .lookup(reference)
                .map(|rev| self.plan_undo(applied, rev)),
        };
        planned.map_err(|source| RunError::Plan {
            database: self.database.clone(),
            source,
        })
    }

    /// Undoing `rev` alone: the applied revisions that need it (newest first), then `rev`; an
    /// empty plan when `rev` is not applied.
    fn plan_undo<'g>(&'g self, applied: &Applied, rev: &'g Revision) -> Plan<'g> {
        if !applied.contains(&rev.id) {
            return Plan { steps: Vec::new() };
        }
        let steps = self
            .graph
            .descendants(&rev.id)
            .into_iter()
            .rev()
            .filter(|d| applied.contains(&d.id))
            .chain(std::iter::once(rev))
            .map(|revision| Step {
                revision,
                direction: Direction::Down,
            })
            .collect();
        Plan { steps }
    }

    /// The part of `plan` that an upgrade limited to a phase runs ([`Runner::with_phase`]),
    /// and what it leaves for later; the whole plan otherwise.
    fn phase_part<'p>(
        &'p self,
        plan: Plan<'p>,
    ) -> Result<(Plan<'p>, Vec<crate::LeftForLater>), RunError> {
        let Some((phase, phases)) = self.phase else {
            return Ok((plan, Vec::new()));
        };
        crate::phases::phase_part(&self.graph, plan, phase, phases)
            .map_err(|(rev, e)| self.body_error(rev, e))
    }

    /// The revisions not in `applied` that need one of `revisions`: where a stopped backfill's
    /// progress is made meaningless when `revisions` are undone.
    fn unapplied_above(&self, applied: &Applied, revisions: &[&str]) -> Vec<String> {
        let mut above: Vec<String> = revisions
            .iter()
            .flat_map(|id| self.full.descendants(id))
            .map(|rev| rev.id.clone())
            .filter(|id| !applied.contains(id))
            .collect();
        above.sort();
        above.dedup();
        above
    }

    /// Forgets the recorded progress of stopped backfills of `revisions` (see
    /// [`crate::backfill::CursorTable::forget_stale`]).
    async fn forget_backfills(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        revisions: &[String],
    ) -> Result<(), RunError> {
        let cursor = crate::backfill::CursorTable::for_store(&store.sql.names, driver.dialect());
        cursor
            .forget_stale(driver, &store.sql, revisions)
            .await
            .map_err(|e| {
                RunError::driver(
                    &self.database,
                    "forgetting the progress of stopped backfills",
                    e.source,
                )
            })
    }

    /// Under the lock: the store created if missing, its rows read, and the applied
    /// revisions (known to the graph) with the partially run ones — or the refusal of unknown
    /// revisions and of edited applied files.
    async fn validated(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
    ) -> Result<(Applied, HashMap<String, Recorded>), RunError> {
        store.ensure(driver).await?;
        let rows = store.read_rows(driver).await?;
        let (known, unknown) = self.split_known(&rows);
        self.check_unknown(unknown)?;
        let edits = self.edited(&rows, driver.dialect())?;
        if !edits.is_empty() {
            return Err(RunError::Edited {
                database: self.database.clone(),
                edits,
            });
        }
        Ok((known, self.partial_rows(&rows)))
    }

    async fn migrate_locked(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        direction: Direction,
        goal: Goal<'_>,
        events: EventSink<'_>,
        started: Instant,
    ) -> Result<RunReport, RunError> {
        let (known, partial) = self.validated(driver, store).await?;
        let planning = self.for_planning(&known);
        let plan = self.plan(&planning, direction, goal)?;
        let (plan, left_for_later) = self.phase_part(plan)?;
        self.check_resumable(&partial, direction, &plan)?;
        if direction == Direction::Down {
            let below: Vec<&str> = plan.steps.iter().map(|s| s.revision.id.as_str()).collect();
            let stale = self.unapplied_above(&known, &below);
            self.forget_backfills(driver, store, &stale).await?;
        }
        let from = self.heads(&known);
        let op = match direction {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        };
        self.emit(
            events,
            Event::Started {
                database: self.database.clone(),
                operation: op.to_string(),
                total_steps: plan.steps.len(),
            },
        );
        let mut notes = Vec::new();
        let after = plan.applied_after(&known);
        let to = self.heads(&after);
        let summary = format!(
            "{} -> {} ({} steps)",
            from.join(","),
            to.join(","),
            plan.steps.len()
        );
        let outcome = self
            .run_plan(
                driver,
                store,
                &plan,
                &partial,
                events,
                &mut notes,
                Some((op, &summary)),
            )
            .await;
        let steps = match outcome {
            Ok(steps) => steps,
            Err(e) => {
                // Best effort: the audit trail should show failures, but a failure to log
                // must not hide the real error.
                let _ = store
                    .log(
                        driver,
                        &self.by,
                        &format!("{op}-failed"),
                        None,
                        Some(&truncate(&e.to_string(), 4000)),
                    )
                    .await;
                return Err(e);
            }
        };
        let duration = started.elapsed();
        self.emit(
            events,
            Event::Finished {
                database: self.database.clone(),
                steps: steps.len(),
                duration,
            },
        );
        Ok(RunReport {
            database: self.database.clone(),
            from,
            to,
            steps,
            duration_ms: duration.as_millis() as u64,
            notes,
            left_for_later,
        })
    }

    /// Runs the plan's steps through the [`Executor`] under the run's transaction policy.
    #[allow(clippy::too_many_arguments)]
    async fn run_plan(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        plan: &Plan<'_>,
        resume: &HashMap<String, Recorded>,
        events: EventSink<'_>,
        notes: &mut Vec<String>,
        audit: Option<(&str, &str)>,
    ) -> Result<Vec<AppliedStep>, RunError> {
        let dialect = driver.dialect();
        let prepared = self.prepare(plan, dialect)?;
        let all = self.options.transaction == TransactionMode::All;
        let one_tx = all && dialect.transactional_ddl();
        if all && !one_tx {
            let message = format!(
                "--transaction all is not possible on {dialect} (DDL commits implicitly); running \
                 one transaction per migration instead"
            );
            self.emit(
                events,
                Event::Notice {
                    database: self.database.clone(),
                    message: message.clone(),
                },
            );
            notes.push(message);
        }
        let key = store.sql.names.lock_key();
        // Where the driver offers it, each write of the run checks the lock itself.
        let store = &store.guarded(driver, &key);
        let cx = Context {
            database: &self.database,
            by: &self.by,
            table: self.names.table(),
            lock_key: &key,
            lock_timeout: self.options.lock_timeout,
            ddl_lock: self.options.ddl_lock,
            throwaway: self.throwaway,
            events,
        };
        Executor::new(cx, store, dialect, one_tx, plan.steps.len())
            .run(driver, plan, &prepared, resume, audit, notes)
            .await
    }

    /// Loads every script of the plan (and the checksums of up scripts) before anything runs;
    /// once per run for databases that share a [`Shared`].
    fn prepare(&self, plan: &Plan<'_>, dialect: Dialect) -> Result<Vec<Prepared>, RunError> {
        plan.steps
            .iter()
            .map(|step| match self.shared {
                Some(shared) => shared.script(&step.revision.id, step.direction, dialect, || {
                    self.prepare_step(step, dialect)
                }),
                None => self.prepare_step(step, dialect),
            })
            .collect()
    }

    fn prepare_step(
        &self,
        step: &braid_graph::Step<'_>,
        dialect: Dialect,
    ) -> Result<Prepared, RunError> {
        let script = self
            .bodies
            .script(step.revision, step.direction, dialect)
            .map_err(|e| self.body_error(step.revision, e))?;
        crate::bodies::refuse_unwritten(&script, step.direction)
            .map_err(|e| self.body_error(step.revision, e))?;
        // An empty body is almost always the untouched template of `generate`; recording
        // it would make the real SQL written later count as an edit of an applied
        // migration. A merge revision may be empty: joining heads is all it does.
        if script.code.is_none()
            && !step.revision.is_merge()
            && braid_driver::split_statements(&script.text, dialect).is_empty()
        {
            let which = match step.direction {
                Direction::Up => "upgrade",
                Direction::Down => "downgrade",
            };
            return Err(self.body_error(
                step.revision,
                crate::bodies::BodyError {
                    message: format!(
                        "its {which} script ({}) has no statements: write the migration \
                         first (a deliberate no-op can say `SELECT 1;`)",
                        script.origin
                    ),
                },
            ));
        }
        // A batched backfill's directive is checked here, so a malformed one stops the run
        // before anything runs.
        let backfill = crate::backfill::from_script(&script, step.revision.transactional, dialect)
            .map_err(|e| self.body_error(step.revision, e))?;
        let checksum = match step.direction {
            Direction::Up => Some(self.bodies.checksum(step.revision, &script)),
            Direction::Down => None,
        };
        Ok(Prepared {
            script,
            checksum,
            backfill,
        })
    }

    /// Sets the applied set to what `stamp targets…` means, writing rows only: the checksum of
    /// the current file and a duration of 0. No migration runs.
    pub async fn stamp(
        &self,
        driver: &mut dyn Driver,
        targets: &[&str],
        purge: bool,
        events: EventSink<'_>,
    ) -> Result<RunReport, RunError> {
        let started = Instant::now();
        let store = self.store(driver).await?;
        locked!(
            self,
            driver,
            &store,
            events,
            self.stamp_locked(driver, &store, targets, purge, events, started)
        )
    }

    /// The revisions a stamp is about: the lineage (ancestors, itself, descendants) of every
    /// target. `None` when a target names no revision (`base`): the stamp is about everything.
    fn stamp_scope(
        &self,
        applied: &Applied,
        targets: &[&str],
    ) -> Result<Option<std::collections::BTreeSet<String>>, RunError> {
        let mut scope = std::collections::BTreeSet::new();
        for target in targets {
            let revs = self
                .graph
                .resolve(applied, target)
                .map_err(|source| RunError::Plan {
                    database: self.database.clone(),
                    source,
                })?;
            if revs.is_empty() {
                return Ok(None);
            }
            for rev in revs {
                scope.extend(
                    self.graph
                        .lineage_of(&rev.id)
                        .into_iter()
                        .map(|r| r.id.clone()),
                );
            }
        }
        Ok(Some(scope))
    }

    async fn stamp_locked(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        targets: &[&str],
        purge: bool,
        events: EventSink<'_>,
        started: Instant,
    ) -> Result<RunReport, RunError> {
        let dialect = driver.dialect();
        store.ensure(driver).await?;
        let rows = store.read_rows(driver).await?;
        let (known, unknown) = self.split_known(&rows);
        if !purge {
            self.check_unknown(unknown)?;
        }
        let planning = self.for_planning(&known);
        let base = if purge {
            Applied::new()
        } else {
            planning.clone()
        };
        let new = self
            .graph
            .stamp(&base, targets, purge)
            .map_err(|source| RunError::Plan {
                database: self.database.clone(),
                source,
            })?;
        // Stamping settles an interrupted migration only when the stamp is about it: when a
        // target is the revision, needs it, or lies below it. Its row then goes, and comes back
        // complete if the stamp includes it ("I finished it by hand") — with no progress if not
        // ("I undid it"). A stamp elsewhere in the graph leaves its progress alone.
        let mut partial = self.partial_rows(&rows);
        if !purge {
            let touched = self.stamp_scope(&planning, targets)?;
            partial.retain(|id, _| touched.as_ref().is_none_or(|t| t.contains(id)));
        }
        let untouched: Vec<String> = self
            .partial_rows(&rows)
            .into_keys()
            .filter(|id| !partial.contains_key(id))
            .collect();
        let removed: Vec<String> = if purge {
            rows.iter().map(|r| r.revision.clone()).collect()
        } else {
            planning
                .difference(&new)
                .filter(|id| !partial.contains_key(*id) && !untouched.contains(id))
                .cloned()
                .collect()
        };
        // Added rows in graph order, each with its current checksum.
        let mut added = Vec::new();
        for rev in self.graph.in_order() {
            let fresh = purge || !planning.contains(&rev.id) || partial.contains_key(&rev.id);
            if new.contains(&rev.id) && fresh && !untouched.contains(&rev.id) {
                let (sum, _) = self
                    .bodies
                    .current_checksum(rev, dialect)
                    .map_err(|e| self.body_error(rev, e))?;
                added.push((rev.id.clone(), sum));
            }
        }
        let from = self.heads(&known);
        self.emit(
            events,
            Event::Started {
                database: self.database.clone(),
                operation: "stamp".to_string(),
                total_steps: 0,
            },
        );
        // A stopped backfill of a revision recorded or removed without running (or above one
        // removed) would resume from progress that no longer means anything.
        let mut touched: Vec<&str> = removed.iter().map(String::as_str).collect();
        touched.extend(partial.keys().map(String::as_str));
        let mut stale = self.unapplied_above(&new, &touched);
        stale.extend(touched.iter().map(|id| id.to_string()));
        stale.extend(added.iter().map(|(id, _)| id.clone()));
        self.forget_backfills(driver, store, &stale).await?;
        let tx = |e| RunError::driver(&self.database, "stamping the version store", e);
        let key = store.sql.names.lock_key();
        let store = &store.guarded(driver, &key);
        driver.begin().await.map_err(tx)?;
        let written: Result<(), StoreWrite> = async {
            if purge {
                store.remove_all(driver).await?;
            } else {
                for id in partial.keys().chain(&removed) {
                    store.remove_if_present(driver, id).await?;
                }
            }
            for (id, sum) in &added {
                let row = RowWrite {
                    revision: id,
                    checksum: sum,
                    ms: 0,
                    by: &self.by,
                };
                store.insert_applied(driver, &row).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = written {
            let _ = driver.rollback().await;
            return Err(tx(e.source));
        }
        let detail = format!(
            "targets {}{}; added {}; removed {}",
            targets.join(","),
            if purge { " (purge)" } else { "" },
            added
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            removed.join(",")
        );
        if let Err(e) = store
            .log(driver, &self.by, "stamp", None, Some(&detail))
            .await
        {
            let _ = driver.rollback().await;
            return Err(e);
        }
        self.check_lock_before_commit(driver, &key, "before committing the stamp")
            .await?;
        driver.commit().await.map_err(tx)?;
        let mut after = known.clone();
        if purge {
            after.clear();
        }
        for id in &removed {
            after.remove(id);
        }
        after.extend(added.iter().map(|(id, _)| id.clone()));
        let mut steps: Vec<AppliedStep> = removed
            .iter()
            .filter(|id| !added.iter().any(|(a, _)| a == *id))
            .map(|id| AppliedStep {
                revision: id.clone(),
                direction: StepDirection::Down,
                ms: 0,
            })
            .collect();
        steps.extend(
            added
                .iter()
                .filter(|(id, _)| !purge || !known.contains(id))
                .map(|(id, _)| AppliedStep {
                    revision: id.clone(),
                    direction: StepDirection::Up,
                    ms: 0,
                }),
        );
        let duration = started.elapsed();
        self.emit(
            events,
            Event::Finished {
                database: self.database.clone(),
                steps: steps.len(),
                duration,
            },
        );
        Ok(RunReport {
            database: self.database.clone(),
            from,
            to: self.heads(&after),
            steps,
            duration_ms: duration.as_millis() as u64,
            notes: Vec::new(),
            left_for_later: Vec::new(),
        })
    }

    /// The applied heads (dependency heads included) and every row. Takes no lock and creates
    /// nothing: on a fresh database everything is empty.
    pub async fn current(&self, driver: &mut dyn Driver) -> Result<CurrentReport, RunError> {
        let store = self.store(driver).await?;
        let rows = store.read(driver).await?;
        let (known, unknown) = self.split_known(&rows);
        Ok(CurrentReport {
            database: self.database.clone(),
            heads: self.heads(&known),
            rows,
            unknown,
        })
    }

    /// What `check` reports: pending revisions, edited and unknown ones. Takes no lock and
    /// creates nothing.
    pub async fn status(&self, driver: &mut dyn Driver) -> Result<StatusReport, RunError> {
        let dialect = driver.dialect();
        let store = self.store(driver).await?;
        let rows = store.read(driver).await?;
        let (known, unknown) = self.split_known(&rows);
        let edited = self
            .edited(&rows, dialect)?
            .into_iter()
            .map(|e| (e.revision, e.stored, e.current))
            .collect();
        let pending = if self.graph.is_empty() {
            Vec::new()
        } else {
            self.graph
                .plan_upgrade(&self.for_planning(&known), "heads")
                .map_err(|source| RunError::Plan {
                    database: self.database.clone(),
                    source,
                })?
                .steps
                .iter()
                .map(|s| s.revision.id.clone())
                .collect()
        };
        let mut partial: Vec<String> = self.partial_rows(&rows).into_keys().collect();
        partial.sort();
        Ok(StatusReport {
            database: self.database.clone(),
            heads_in_graph: self.graph.real_heads().len(),
            pending,
            edited,
            unknown,
            partial,
        })
    }

    /// Records the current file's checksum for an applied revision whose file was edited on
    /// purpose, and logs old → new in `<table>_log`.
    pub async fn accept(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
    ) -> Result<AcceptReport, RunError> {
        let dialect = driver.dialect();
        let store = self.store(driver).await?;
        let rev = self
            .full
            .lookup(revision)
            .map_err(|source| RunError::Plan {
                database: self.database.clone(),
                source,
            })?;
        locked!(
            self,
            driver,
            &store,
            &crate::report::no_events,
            self.accept_locked(driver, &store, rev, dialect)
        )
    }

    async fn accept_locked(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        rev: &Revision,
        dialect: Dialect,
    ) -> Result<AcceptReport, RunError> {
        let rows = store.read(driver).await?;
        let Some(row) = rows.iter().find(|r| r.revision == rev.id) else {
            return Err(RunError::NotApplied {
                database: self.database.clone(),
                revision: rev.id.clone(),
            });
        };
        let (new, file) = self
            .bodies
            .current_checksum(rev, dialect)
            .map_err(|e| self.body_error(rev, e))?;
        if new == row.checksum {
            // Nothing to accept: no write, no log entry; the report shows old == new.
            return Ok(AcceptReport {
                database: self.database.clone(),
                revision: rev.id.clone(),
                file,
                old: row.checksum.clone(),
                new,
            });
        }
        let err = |e| RunError::driver(&self.database, "accepting the new checksum", e);
        let key = store.sql.names.lock_key();
        let store = &store.guarded(driver, &key);
        driver.begin().await.map_err(err)?;
        let written: Result<(), RunError> = async {
            store
                .set_checksum(driver, &rev.id, &new)
                .await
                .map_err(|e| err(e.source))?;
            store
                .log(
                    driver,
                    &self.by,
                    "accept",
                    Some(&rev.id),
                    Some(&format!("{} -> {new} ({file})", row.checksum)),
                )
                .await
        }
        .await;
        if let Err(e) = written {
            let _ = driver.rollback().await;
            return Err(e);
        }
        self.check_lock_before_commit(driver, &key, "before committing the accepted checksum")
            .await?;
        driver.commit().await.map_err(err)?;
        Ok(AcceptReport {
            database: self.database.clone(),
            revision: rev.id.clone(),
            file,
            old: row.checksum.clone(),
            new,
        })
    }
}

/// A walk through the history one revision at a time, for tools that prove a history by
/// moving a scratch database up and down it (`verify`). The lock is held and the store known
/// from [`Runner::walk`] to [`Walk::finish`], and the applied set is kept here rather than read
/// back: a step costs what a step of [`Runner::upgrade`] costs (its transaction, body and
/// version row), not a whole run's setup. Nothing else may migrate the database meanwhile —
/// the lock says so to any other runner.
pub struct Walk<'r, 'a> {
    runner: &'r Runner<'a>,
    store: Store,
    applied: Applied,
    /// Steps run so far, for the audit entry.
    steps: usize,
    /// Why the walk stopped: a failed step may have committed part of its plan, so the applied
    /// set kept here no longer says what the database holds, and no step may follow.
    stopped: Option<String>,
}

impl Walk<'_, '_> {
    /// Upgrades or downgrades exactly one revision (an id, a unique prefix or a label): a
    /// target expression cannot always say "this one only" (a downgrade to a parent that is a
    /// branch point also undoes the other branches; a base revision has no parent to name). Up
    /// applies the revision and any of its ancestors and dependencies not yet applied; down
    /// undoes the revision and any applied revision that needs it, newest first. Already in
    /// the state asked for: no step. Same transactions and records as [`Runner::upgrade`].
    /// After a step fails, the walk refuses any other: a new one reads the store again.
    pub async fn step(
        &mut self,
        driver: &mut dyn Driver,
        revision: &str,
        direction: StepDirection,
    ) -> Result<Vec<AppliedStep>, RunError> {
        if let Some(stopped) = &self.stopped {
            return Err(RunError::Config(format!(
                "this walk stopped at a failed step ({stopped}); start another to go on"
            )));
        }
        let runner = self.runner;
        let planning = runner.for_planning(&self.applied);
        let plan = runner.plan(&planning, direction.into(), Goal::Revision(revision))?;
        let mut notes = Vec::new();
        let ran = runner
            .run_plan(
                driver,
                &self.store,
                &plan,
                &HashMap::new(),
                &crate::report::no_events,
                &mut notes,
                None,
            )
            .await;
        match ran {
            Ok(steps) => {
                self.applied = plan.applied_after(&self.applied);
                self.steps += steps.len();
                Ok(steps)
            }
            Err(e) => {
                self.stopped = Some(truncate(&e.to_string(), 4000));
                Err(e)
            }
        }
    }

    /// Writes the walk's one audit entry (steps are not logged one by one: a walk takes
    /// hundreds; a walk that stopped is logged as failed, with why) and releases the lock.
    /// Returns notes, as [`RunReport::notes`]: an audit entry that could not be written does
    /// not undo what was committed.
    pub async fn finish(self, driver: &mut dyn Driver) -> Result<Vec<String>, RunError> {
        let runner = self.runner;
        let (action, summary) = match &self.stopped {
            None => ("walk", format!("{} steps", self.steps)),
            Some(why) => ("walk-failed", format!("{} steps, then: {why}", self.steps)),
        };
        let logged = self
            .store
            .log(driver, &runner.by, action, None, Some(&summary))
            .await;
        let notes = match logged {
            Ok(()) => Vec::new(),
            Err(e) => vec![crate::executor::audit_not_written(&e)],
        };
        runner
            .unlock(driver, &self.store, &crate::report::no_events, Ok(notes))
            .await
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
