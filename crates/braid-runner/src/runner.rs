//! The runner: `lock → ensure store → read applied → validate → plan → run each step → record →
//! unlock`, for one database.
//!
//! **Hot path.** A step costs exactly: `BEGIN`, the body, one version-row statement, `COMMIT`
//! (or, in `--transaction all`, just the body and the row). The store is read once per run,
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

use braid_driver::{Dialect, Driver, DriverError, Value};
use braid_graph::{Applied, Direction, Graph, Plan, Revision};
use serde::{Deserialize, Serialize};

use crate::bodies::{Bodies, Script, SourceBodies};
use crate::dialect::{DEFAULT_VERSION_TABLE, StoreNames, StoreSql};
use crate::error::{EditedRevision, RunError, StepFailure};
use crate::progress::{self, Recorded};
use crate::report::{
    AppliedRow, AppliedStep, CurrentReport, Event, EventSink, RunReport, StatusReport,
    StepDirection,
};
use crate::store::{Store, applied_by, now};

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
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            version_table: DEFAULT_VERSION_TABLE.to_string(),
            schema: None,
            transaction: TransactionMode::PerMigration,
            lock_timeout: Duration::from_secs(30),
            branches: Vec::new(),
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
    names: StoreNames,
    options: RunOptions,
    by: String,
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

/// The script (and, for an up step, the checksum) of one planned step, loaded before anything runs.
struct Prepared {
    script: Script,
    checksum: Option<String>,
}

/// Whether a script runs its own `BEGIN`/`COMMIT` (e.g. SQLite's table-rebuild recipe, which
/// must run outside Braid's transaction because of its `PRAGMA foreign_keys`).
fn manages_transactions(statements: &[String]) -> bool {
    statements.iter().any(|s| {
        let first = s
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_end_matches(';')
            .to_ascii_uppercase();
        matches!(
            first.as_str(),
            "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "END"
        ) && !s.to_ascii_uppercase().contains("BEGIN ATOMIC")
    })
}

/// Where a step failed.
enum StepError {
    Body(DriverError),
    Bookkeeping(DriverError, String),
    Tx(DriverError, &'static str),
    /// A statement of a migration run statement by statement failed; `done` ran before it.
    Statement {
        error: DriverError,
        index: usize,
        total: usize,
        done: usize,
        statement: String,
    },
    /// A statement ran, but writing its progress (or the final row) failed: the store is
    /// behind by one statement.
    Unrecorded {
        error: DriverError,
        sql: String,
        ran: usize,
        recorded: usize,
        total: usize,
    },
    /// Resuming: a statement that already ran is not the same in the file any more.
    Changed {
        done: usize,
        total: usize,
        changed: usize,
    },
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
            names,
            options,
            by: applied_by(),
        })
    }

    /// Uses `bodies` instead of the SQL files (Rust migrations, tests).
    pub fn with_bodies(mut self, bodies: &'a dyn Bodies) -> Self {
        self.bodies = bodies;
        self
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    /// The graph plans are made from (restricted to the database's branches, if any).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    fn store(&self, dialect: Dialect) -> Store {
        Store::new(&self.database, StoreSql::new(dialect, self.names.clone()))
    }

    fn emit(&self, events: EventSink<'_>, e: Event) {
        events(&e);
    }

    /// Upgrades to `target` (`heads`, an id, a label, `label@head`, `+2`, …).
    ///
    /// A database already at `target` costs one read of the version table and no lock (see
    /// [`Runner::nothing_to_do`]); anything else takes the lock and reads again under it, so two
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
        self.migrate(driver, Direction::Up, target, events).await
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
        let rows = self.store(dialect).read_current_rows(driver).await?;
        let (known, unknown) = self.split_known(&rows);
        if !unknown.is_empty() || rows.iter().any(|r| r.partial.is_some()) {
            return None;
        }
        let plan = self
            .graph
            .plan_upgrade(&self.for_planning(&known), target)
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
        })
    }

    /// Downgrades to `target` (`base`, an id, `label@base`, `-1`, …).
    pub async fn downgrade(
        &self,
        driver: &mut dyn Driver,
        target: &str,
        events: EventSink<'_>,
    ) -> Result<RunReport, RunError> {
        self.migrate(driver, Direction::Down, target, events).await
    }

    /// Takes the migration lock of `store`.
    async fn lock(&self, driver: &mut dyn Driver, store: &Store) -> Result<(), RunError> {
        let key = store.sql.names.lock_key();
        driver
            .lock(&key, self.options.lock_timeout)
            .await
            .map_err(|source| RunError::Lock {
                database: self.database.clone(),
                key,
                source: Box::new(source),
            })
    }

    /// Releases the lock after `result`, whatever it was; the first error wins.
    ///
    /// (Lock/run/unlock are spelled out in each operation rather than taking an async closure:
    /// async closures over `&mut dyn Driver` lose `Send` in today's compiler.)
    async fn unlock<T>(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        result: Result<T, RunError>,
    ) -> Result<T, RunError> {
        let key = store.sql.names.lock_key();
        let unlocked = driver.unlock(&key).await;
        match (result, unlocked) {
            (Ok(v), Ok(())) => Ok(v),
            (Ok(_), Err(e)) => Err(RunError::driver(
                &self.database,
                format!("releasing the migration lock `{key}`"),
                e,
            )),
            (Err(e), _) => Err(e),
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
        target: &str,
        events: EventSink<'_>,
    ) -> Result<RunReport, RunError> {
        let started = Instant::now();
        let store = self.store(driver.dialect());
        self.lock(driver, &store).await?;
        let result = self
            .migrate_locked(driver, &store, direction, target, events, started)
            .await;
        self.unlock(driver, &store, result).await
    }

    async fn migrate_locked(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        direction: Direction,
        target: &str,
        events: EventSink<'_>,
        started: Instant,
    ) -> Result<RunReport, RunError> {
        let dialect = driver.dialect();
        store.ensure(driver).await?;
        let rows = store.read_rows(driver).await?;
        let (known, unknown) = self.split_known(&rows);
        self.check_unknown(unknown)?;
        let partial = self.partial_rows(&rows);
        let edits = self.edited(&rows, dialect)?;
        if !edits.is_empty() {
            return Err(RunError::Edited {
                database: self.database.clone(),
                edits,
            });
        }
        let planning = self.for_planning(&known);
        let plan = match direction {
            Direction::Up => self.graph.plan_upgrade(&planning, target),
            Direction::Down => self.graph.plan_downgrade(&planning, target),
        }
        .map_err(|source| RunError::Plan {
            database: self.database.clone(),
            source,
        })?;
        self.check_resumable(&partial, direction, &plan)?;
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
            .run_steps(
                driver,
                store,
                &plan,
                &partial,
                events,
                &mut notes,
                (op, &summary),
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
        })
    }

    /// Loads every script of the plan (and the checksums of up scripts) before anything runs.
    fn prepare(&self, plan: &Plan<'_>, dialect: Dialect) -> Result<Vec<Prepared>, RunError> {
        plan.steps
            .iter()
            .map(|step| {
                let script = self
                    .bodies
                    .script(step.revision, step.direction, dialect)
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
                let checksum = match step.direction {
                    Direction::Up => Some(self.bodies.checksum(step.revision, &script)),
                    Direction::Down => None,
                };
                Ok(Prepared { script, checksum })
            })
            .collect()
    }

    // The plan, its resume points and the run's bookkeeping travel together only here.
    #[allow(clippy::too_many_arguments)]
    async fn run_steps(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        plan: &Plan<'_>,
        resume: &HashMap<String, Recorded>,
        events: EventSink<'_>,
        notes: &mut Vec<String>,
        (action, summary): (&str, &str),
    ) -> Result<Vec<AppliedStep>, RunError> {
        let dialect = driver.dialect();
        let prepared = self.prepare(plan, dialect)?;
        let all = self.options.transaction == TransactionMode::All;
        let one_tx = all && dialect.transactional_ddl();
        if all && !one_tx {
            let msg = format!(
                "--transaction all is not possible on {dialect} (DDL commits implicitly); running one \
                 transaction per migration instead"
            );
            self.emit(
                events,
                Event::Notice {
                    database: self.database.clone(),
                    message: msg.clone(),
                },
            );
            notes.push(msg);
        }
        let total = plan.steps.len();
        let mut kept: Vec<AppliedStep> = Vec::with_capacity(total);
        // Steps done inside the open whole-plan transaction, not yet committed.
        let mut pending: Vec<AppliedStep> = Vec::new();
        let mut in_tx = false;
        for (i, (step, prep)) in plan.steps.iter().zip(&prepared).enumerate() {
            let rev = step.revision;
            let direction = StepDirection::from(step.direction);
            self.emit(
                events,
                Event::StepStarted {
                    database: self.database.clone(),
                    revision: rev.id.clone(),
                    direction,
                    index: i + 1,
                    total,
                },
            );
            let t0 = Instant::now();
            // Outside a transaction (MySQL's DDL commits as it goes; `transaction = false`),
            // an SQL body runs statement by statement with recorded progress.
            // A revision with recorded progress always resumes statement by statement, even if
            // its metadata now says otherwise.
            let resuming = resume.contains_key(&rev.id);
            let tracked = prep.script.code.is_none()
                && (!dialect.transactional_ddl() || !rev.transactional || resuming);
            let result: Result<(), StepError> = async {
                if resuming && prep.script.code.is_some() {
                    return Err(StepError::Body(DriverError::new(
                        braid_driver::ErrorKind::Unsupported,
                        format!(
                            "revision `{}` has statement progress recorded from an SQL body, but its \
                             body is now Rust: settle it first with `braid stamp`",
                            rev.id
                        ),
                    )));
                }
                if one_tx {
                    if !rev.transactional && in_tx {
                        // A migration that must run outside a transaction: commit what we have.
                        driver
                            .commit()
                            .await
                            .map_err(|e| StepError::Tx(e, "COMMIT"))?;
                        in_tx = false;
                        kept.append(&mut pending);
                    }
                    if rev.transactional && !in_tx {
                        driver
                            .begin()
                            .await
                            .map_err(|e| StepError::Tx(e, "BEGIN"))?;
                        in_tx = true;
                    }
                } else if rev.transactional && !tracked {
                    driver
                        .begin()
                        .await
                        .map_err(|e| StepError::Tx(e, "BEGIN"))?;
                    in_tx = true;
                }
                if tracked {
                    return self
                        .run_tracked(driver, store, step, prep, resume.get(&rev.id), t0)
                        .await;
                }
                if let Some(code) = &prep.script.code {
                    // A Rust migration: runs through the same driver and transaction.
                    code.run(&mut *driver, step.direction)
                        .await
                        .map_err(StepError::Body)?;
                } else if !prep.script.text.trim().is_empty() {
                    driver
                        .execute_script(&prep.script.text)
                        .await
                        .map_err(StepError::Body)?;
                }
                let ms = t0.elapsed().as_millis() as i64;
                match step.direction {
                    Direction::Up => {
                        let params = [
                            Value::Text(rev.id.clone()),
                            Value::Text(prep.checksum.clone().unwrap_or_default()),
                            Value::Text(now()),
                            Value::Int(ms),
                            Value::Text(self.by.clone()),
                        ];
                        driver
                            .execute(&store.sql.insert_row, &params)
                            .await
                            .map_err(|e| StepError::Bookkeeping(e, store.sql.insert_row.clone()))?;
                    }
                    Direction::Down => {
                        let n = driver
                            .execute(&store.sql.delete_row, &[Value::Text(rev.id.clone())])
                            .await
                            .map_err(|e| StepError::Bookkeeping(e, store.sql.delete_row.clone()))?;
                        if n != 1 {
                            return Err(StepError::Bookkeeping(
                                DriverError::new(
                                    braid_driver::ErrorKind::Internal,
                                    format!(
                                        "expected to delete one version row for `{}`, deleted {n}",
                                        rev.id
                                    ),
                                ),
                                store.sql.delete_row.clone(),
                            ));
                        }
                    }
                }
                if !one_tx && in_tx {
                    driver
                        .commit()
                        .await
                        .map_err(|e| StepError::Tx(e, "COMMIT"))?;
                    in_tx = false;
                }
                Ok(())
            }
            .await;
            let duration = t0.elapsed();
            match result {
                Ok(()) => {
                    let done = AppliedStep {
                        revision: rev.id.clone(),
                        direction,
                        ms: duration.as_millis() as u64,
                    };
                    if in_tx {
                        pending.push(done);
                    } else {
                        kept.push(done);
                    }
                    self.emit(
                        events,
                        Event::StepFinished {
                            database: self.database.clone(),
                            revision: rev.id.clone(),
                            direction,
                            index: i + 1,
                            total,
                            duration,
                        },
                    );
                }
                Err(err) => {
                    // On MySQL a transaction does not undo DDL: only claim a rollback that is real.
                    let was_tx = in_tx && dialect.transactional_ddl();
                    if in_tx {
                        // The rollback's own failure would only hide the real error.
                        let _ = driver.rollback().await;
                    }
                    let failure =
                        self.failure(rev, direction, &prep.script, err, was_tx, kept, pending);
                    self.emit(
                        events,
                        Event::StepFailed {
                            database: self.database.clone(),
                            revision: rev.id.clone(),
                            direction,
                            index: i + 1,
                            total,
                            error: failure.to_string(),
                        },
                    );
                    return Err(RunError::Step(Box::new(failure)));
                }
            }
        }
        if total == 0 {
            return Ok(kept);
        }
        // The run's audit entry: inside the open single transaction when there is one (no extra
        // commit), else on its own — once per run, never per step.
        let logged = store
            .log(driver, &self.by, action, None, Some(summary))
            .await;
        if in_tx {
            let committed = match logged {
                Ok(()) => driver.commit().await.map_err(|e| {
                    RunError::driver(
                        &self.database,
                        format!(
                            "committing the single transaction ({} migrations rolled back)",
                            pending.len()
                        ),
                        e,
                    )
                }),
                Err(e) => Err(e),
            };
            if let Err(e) = committed {
                let _ = driver.rollback().await;
                return Err(e);
            }
        } else if let Err(e) = logged {
            // Every migration is committed; a missing audit entry must not report failure.
            notes.push(format!("could not write the audit log: {e}"));
        }
        kept.append(&mut pending);
        Ok(kept)
    }

    #[allow(clippy::too_many_arguments)]
    fn failure(
        &self,
        rev: &Revision,
        direction: StepDirection,
        script: &Script,
        err: StepError,
        transactional: bool,
        kept: Vec<AppliedStep>,
        pending: Vec<AppliedStep>,
    ) -> StepFailure {
        let mut statements_done = None;
        let (source, file, statement, index, total) = match err {
            StepError::Body(e) => {
                let (stmt, idx, tot) = match &e.position {
                    Some(p) => (Some(p.statement.clone()), Some(p.index), p.total),
                    None => (None, None, None),
                };
                (e, script.origin.clone(), stmt, idx, tot)
            }
            StepError::Bookkeeping(e, sql) => (
                e,
                format!("version table `{}`", self.names.table()),
                Some(sql),
                None,
                None,
            ),
            StepError::Tx(e, stmt) => {
                (e, script.origin.clone(), Some(stmt.to_string()), None, None)
            }
            StepError::Statement {
                error,
                index,
                total,
                done,
                statement,
            } => {
                statements_done = Some(done);
                (
                    error,
                    script.origin.clone(),
                    Some(statement),
                    Some(index),
                    Some(total),
                )
            }
            StepError::Unrecorded {
                error,
                sql,
                ran,
                recorded,
                total,
            } => {
                statements_done = Some(recorded);
                let e = DriverError {
                    message: format!(
                        "statement {ran} of {total} ran, but recording it in the version table \
                         failed ({}); the recorded progress says {recorded}, so a resume runs \
                         statement {} again: check whether it took effect first",
                        error.message,
                        recorded + 1
                    ),
                    ..error
                };
                (
                    e,
                    format!("version table `{}`", self.names.table()),
                    Some(sql),
                    None,
                    Some(total),
                )
            }
            StepError::Changed {
                done,
                total,
                changed,
            } => {
                statements_done = Some(done);
                let e = DriverError::new(
                    braid_driver::ErrorKind::Internal,
                    format!(
                        "cannot resume: statement {changed} already ran, but the file's statement {changed} is not \
                         the one that ran (statements 1-{done} ran from an earlier version of the file). Only the \
                         failed statement and those after it may change; restore statements 1-{done}, or undo them \
                         by hand and clear the progress with `braid stamp`"
                    ),
                );
                (e, script.origin.clone(), None, None, Some(total))
            }
        };
        StepFailure {
            database: self.database.clone(),
            revision: rev.id.clone(),
            direction,
            file,
            statement_index: index,
            statement_total: total,
            statement,
            message: source.to_string(),
            source,
            transactional,
            kept,
            rolled_back: pending.into_iter().map(|s| s.revision).collect(),
            statements_done,
        }
    }

    /// Runs one migration statement by statement outside a transaction, recording progress
    /// after each statement but the last (see [`crate::progress`]). A migration of one statement
    /// costs exactly what it costs in a transaction: the statement, then its version row.
    async fn run_tracked(
        &self,
        driver: &mut dyn Driver,
        store: &Store,
        step: &braid_graph::Step<'_>,
        prep: &Prepared,
        resume: Option<&Recorded>,
        t0: Instant,
    ) -> Result<(), StepError> {
        let rev = step.revision;
        let statements: Vec<String> = driver.split_script(&prep.script.text);
        let total = statements.len();
        let hashes: Vec<String> = statements
            .iter()
            .map(|s| progress::statement_hash(s))
            .collect();
        let start = match resume {
            Some(r) => {
                if let Some(changed) = (0..r.done).find(|&i| hashes.get(i) != r.hashes.get(i)) {
                    return Err(StepError::Changed {
                        done: r.done,
                        total,
                        changed: changed + 1,
                    });
                }
                r.done
            }
            None => 0,
        };
        let checksum = prep.checksum.clone().unwrap_or_default();
        let encoded = progress::encode(step.direction, &hashes);
        // A downgraded revision's row exists (it is applied); an upgrade's exists once resumed.
        let mut row_exists = resume.is_some() || step.direction == Direction::Down;
        for (k, statement) in statements.iter().enumerate().skip(start) {
            if let Err(error) = driver.execute_script(statement).await {
                let done = if manages_transactions(&statements) {
                    // The script opened its own transaction: undo what is still open in it (our
                    // progress updates included), then report what was really committed.
                    let _ = driver.rollback().await;
                    store
                        .read_rows(driver)
                        .await
                        .ok()
                        .and_then(|rows| {
                            rows.into_iter()
                                .find(|r| r.revision == rev.id)
                                .and_then(|r| Recorded::from_row(r.partial.as_ref()))
                        })
                        .map_or(0, |p| p.done)
                } else {
                    k
                };
                return Err(StepError::Statement {
                    error,
                    index: k + 1,
                    total,
                    done,
                    statement: statement.clone(),
                });
            }
            let done = k + 1;
            if done == total {
                break;
            }
            let (sql, params) = if row_exists {
                (
                    &store.sql.update_progress,
                    vec![
                        Value::Int(done as i64),
                        Value::Int(total as i64),
                        Value::Text(encoded.clone()),
                        Value::Text(rev.id.clone()),
                    ],
                )
            } else {
                (
                    &store.sql.insert_progress,
                    vec![
                        Value::Text(rev.id.clone()),
                        Value::Text(checksum.clone()),
                        Value::Text(now()),
                        Value::Int(0),
                        Value::Text(self.by.clone()),
                        Value::Int(done as i64),
                        Value::Int(total as i64),
                        Value::Text(encoded.clone()),
                    ],
                )
            };
            driver
                .execute(sql, &params)
                .await
                .map_err(|error| StepError::Unrecorded {
                    error,
                    sql: sql.clone(),
                    ran: done,
                    recorded: if row_exists { done - 1 } else { 0 },
                    total,
                })?;
            row_exists = true;
        }
        let ms = t0.elapsed().as_millis() as i64;
        let (sql, params) = match (step.direction, row_exists) {
            (Direction::Up, true) => (
                &store.sql.complete_row,
                vec![
                    Value::Text(checksum),
                    Value::Text(now()),
                    Value::Int(ms),
                    Value::Text(rev.id.clone()),
                ],
            ),
            (Direction::Up, false) => (
                &store.sql.insert_row,
                vec![
                    Value::Text(rev.id.clone()),
                    Value::Text(checksum),
                    Value::Text(now()),
                    Value::Int(ms),
                    Value::Text(self.by.clone()),
                ],
            ),
            (Direction::Down, _) => (&store.sql.delete_row, vec![Value::Text(rev.id.clone())]),
        };
        let recorded = if row_exists {
            total.saturating_sub(1)
        } else {
            0
        };
        let n = driver
            .execute(sql, &params)
            .await
            .map_err(|error| StepError::Unrecorded {
                error,
                sql: sql.clone(),
                ran: total,
                recorded,
                total,
            })?;
        if n != 1 {
            return Err(StepError::Bookkeeping(
                DriverError::new(
                    braid_driver::ErrorKind::Internal,
                    format!(
                        "expected to write one version row for `{}`, wrote {n}",
                        rev.id
                    ),
                ),
                sql.clone(),
            ));
        }
        Ok(())
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
        let store = self.store(driver.dialect());
        self.lock(driver, &store).await?;
        let result = self
            .stamp_locked(driver, &store, targets, purge, events, started)
            .await;
        self.unlock(driver, &store, result).await
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
        let tx = |e| RunError::driver(&self.database, "stamping the version store", e);
        driver.begin().await.map_err(tx)?;
        let written: Result<(), DriverError> = async {
            if purge {
                driver.execute(&store.sql.delete_all, &[]).await?;
            } else {
                for id in partial.keys() {
                    driver
                        .execute(&store.sql.delete_row, &[Value::Text(id.clone())])
                        .await?;
                }
                for id in &removed {
                    driver
                        .execute(&store.sql.delete_row, &[Value::Text(id.clone())])
                        .await?;
                }
            }
            let at = now();
            for (id, sum) in &added {
                let params = [
                    Value::Text(id.clone()),
                    Value::Text(sum.clone()),
                    Value::Text(at.clone()),
                    Value::Int(0),
                    Value::Text(self.by.clone()),
                ];
                driver.execute(&store.sql.insert_row, &params).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = written {
            let _ = driver.rollback().await;
            return Err(tx(e));
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
        })
    }

    /// The applied heads (dependency heads included) and every row. Takes no lock and creates
    /// nothing: on a fresh database everything is empty.
    pub async fn current(&self, driver: &mut dyn Driver) -> Result<CurrentReport, RunError> {
        let store = self.store(driver.dialect());
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
        let store = self.store(dialect);
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
        let store = self.store(dialect);
        let rev = self
            .full
            .lookup(revision)
            .map_err(|source| RunError::Plan {
                database: self.database.clone(),
                source,
            })?;
        self.lock(driver, &store).await?;
        let result = self.accept_locked(driver, &store, rev, dialect).await;
        self.unlock(driver, &store, result).await
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
        driver.begin().await.map_err(err)?;
        let written: Result<(), RunError> = async {
            driver
                .execute(
                    &store.sql.update_checksum,
                    &[Value::Text(new.clone()), Value::Text(rev.id.clone())],
                )
                .await
                .map_err(err)?;
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
