//! The step executor: runs a plan's steps under a transaction policy and says what really
//! happened to each.
//!
//! Policies: one transaction per migration (body and version row commit together); the whole
//! plan in one transaction where DDL is transactional (`--transaction all`; a `transaction =
//! false` revision commits what is open and runs outside); statement by statement with recorded
//! progress where a migration cannot run in a transaction (every migration on MySQL,
//! `transaction = false` ones elsewhere, and any migration resuming recorded progress).
//!
//! What it guarantees in its reports:
//! * **The lock.** Before each step, each statement run outside a transaction and each
//!   `COMMIT`, the migration lock must still be held ([`Driver::lock_held`]); a lost lock stops
//!   the run before anything more takes effect. Where asking costs a round trip, the driver
//!   offers a condition instead ([`Driver::lock_guard`]) and the store's writes carry it: the
//!   write before each statement or commit checks the lock (MySQL).
//! * **Kill-safe progress.** A statement outside a transaction is recorded as started before
//!   it runs (a data statement commits with its progress instead); a run resuming a started
//!   statement waits for the earlier session and judges its effect from the schema
//!   ([`crate::effect`]). On MySQL a migration's completion and the next one's first mark are
//!   one write ([`Executor::next_mark`]).
//! * **Only what happened.** A step inside the open single transaction is reported finished
//!   (event and `applied`) when that transaction commits, not before; steps committed at a
//!   `transaction = false` boundary stay applied whatever happens later; a `COMMIT` whose answer
//!   is lost is neither "rolled back" nor "applied": the store is read again and says which,
//!   or the report says it is unknown.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, ScriptPosition, statement_excerpt};
use braid_graph::{Direction, Plan, Revision, Step};

use crate::bodies::Script;
use crate::dialect::{LockWaitSql, lock_wait_sql};
use crate::effect::Effect;
use crate::error::{FailureKind, RunError, StepFailure};
use crate::progress::{self, Recorded};
use crate::report::{AppliedStep, Event, EventSink, StepDirection};
use crate::store::{ProgressRow, ProgressWrite, RowWrite, Store, StoreWrite};

/// The script (and, for an up step, the checksum) of one planned step, loaded before anything
/// runs.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub script: Script,
    pub checksum: Option<String>,
    /// Set when the script is a batched backfill (its `-- braid:backfill` directive, parsed):
    /// the step runs [`crate::backfill::run`] instead of the script.
    pub backfill: Option<crate::backfill::Backfill>,
}

/// Who is running, for messages and the version rows.
pub(crate) struct Context<'a> {
    pub database: &'a str,
    /// `user@host`.
    pub by: &'a str,
    pub table: &'a str,
    pub lock_key: &'a str,
    /// How long to wait for an earlier run's session to end before resuming its statement.
    pub lock_timeout: Duration,
    /// The bound on each statement's wait for a table lock, and retries.
    pub ddl_lock: Option<crate::DdlLock>,
    /// The database is thrown away after the run ([`crate::Runner::throwaway`]).
    pub throwaway: bool,
    pub events: EventSink<'a>,
}

/// Where a step failed.
enum StepError {
    Body(DriverError),
    Bookkeeping(StoreWrite),
    Tx(DriverError, &'static str),
    /// The `COMMIT` was sent and its answer lost (the connection broke).
    CommitLost(DriverError),
    /// The lock is gone; `during` says when it was noticed.
    LockLost(String),
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
    /// Resuming: an earlier run's session still executes the statement to resume.
    StillRunning(String),
    /// Resuming: whether the started statement took effect cannot be told.
    Undetermined {
        index: usize,
        total: usize,
        done: usize,
        statement: String,
        why: String,
    },
    /// Resuming: a statement that already ran is not the same in the file any more.
    Changed {
        done: usize,
        total: usize,
        changed: usize,
    },
    /// A script run statement by statement left a transaction open at its end: rolled back,
    /// and the migration not recorded as applied.
    LeftOpen {
        total: usize,
    },
}

impl StepError {
    /// The driver's error behind a failure of the transaction's own statements.
    fn into_driver_error(self) -> DriverError {
        match self {
            StepError::Body(e)
            | StepError::Tx(e, _)
            | StepError::CommitLost(e)
            | StepError::Statement { error: e, .. }
            | StepError::Unrecorded { error: e, .. } => e,
            StepError::Bookkeeping(w) => w.source,
            StepError::LockLost(during) => DriverError::new(
                ErrorKind::LockLost,
                format!("lost the migration lock {during}"),
            ),
            StepError::StillRunning(activity) => DriverError::new(ErrorKind::LockTimeout, activity),
            StepError::Undetermined { why, .. } => DriverError::new(ErrorKind::Internal, why),
            StepError::Changed { changed, .. } => DriverError::new(
                ErrorKind::Internal,
                format!("statement {changed} changed since it ran"),
            ),
            StepError::LeftOpen { .. } => {
                DriverError::new(ErrorKind::Sql, "the script leaves work uncommitted")
            }
        }
    }
}

impl From<StoreWrite> for StepError {
    fn from(e: StoreWrite) -> Self {
        store_failed(e, StepError::Bookkeeping)
    }
}

/// The pause before the first retry of a migration that timed out waiting for a table lock;
/// it doubles with each retry.
const RETRY_PAUSE: Duration = Duration::from_millis(500);
/// The longest pause between retries, however many are configured.
const RETRY_PAUSE_MAX: Duration = Duration::from_secs(30);

/// Runs the steps of one plan on one connection.
pub(crate) struct Executor<'a> {
    cx: Context<'a>,
    store: &'a Store,
    dialect: Dialect,
    /// The whole plan in one transaction.
    one_tx: bool,
    in_tx: bool,
    /// Committed.
    kept: Vec<AppliedStep>,
    /// Done inside the open single transaction: reported when it commits.
    pending: Vec<(AppliedStep, usize)>,
    total: usize,
    /// The revision whose first statement the previous step's last write marked as started
    /// ([`Store::complete_and_mark`]).
    premarked: Option<String>,
}

impl<'a> Executor<'a> {
    pub fn new(
        cx: Context<'a>,
        store: &'a Store,
        dialect: Dialect,
        one_tx: bool,
        total: usize,
    ) -> Self {
        Executor {
            cx,
            store,
            dialect,
            one_tx,
            in_tx: false,
            kept: Vec::with_capacity(total),
            pending: Vec::new(),
            total,
            premarked: None,
        }
    }

    fn emit(&self, event: Event) {
        (self.cx.events)(&event);
    }

    /// Runs every step of `plan` (see [`Executor::run_steps`]) with each statement's wait for
    /// a table lock bounded as configured ([`crate::DdlLock`]): on MySQL for the session, put
    /// back afterwards; on Postgres by each transaction ([`Executor::begin_step`]).
    pub async fn run(
        self,
        driver: &mut dyn Driver,
        plan: &Plan<'_>,
        prepared: &[Prepared],
        resume: &HashMap<String, Recorded>,
        audit: Option<(&str, &str)>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<AppliedStep>, RunError> {
        let bound = self.cx.ddl_lock.filter(|_| !plan.steps.is_empty());
        let session = match bound.and_then(|b| lock_wait_sql(self.dialect, b.timeout)) {
            Some(LockWaitSql::Session { set, reset }) => Some((set, reset)),
            _ => None,
        };
        if let Some((set, _)) = &session
            && let Err(e) = driver.execute(set, &[]).await
        {
            return Err(RunError::driver(
                self.cx.database,
                "bounding the wait for table locks (ddl_lock_timeout_ms)",
                e,
            ));
        }
        let ran = self
            .run_steps(driver, plan, prepared, resume, audit, notes)
            .await;
        if let Some((_, reset)) = &session {
            // Best effort: a connection that broke has no setting left to put back.
            let _ = driver.execute(reset, &[]).await;
        }
        ran
    }

    /// Runs every step of `plan`, then writes the run's audit entry `(action, summary)` (when
    /// given) and commits the single transaction, if any. Returns the steps that are applied
    /// and committed.
    async fn run_steps(
        mut self,
        driver: &mut dyn Driver,
        plan: &Plan<'_>,
        prepared: &[Prepared],
        resume: &HashMap<String, Recorded>,
        audit: Option<(&str, &str)>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<AppliedStep>, RunError> {
        // Refused before anything runs: a migration that would end Braid's transaction itself.
        for (i, (step, prep)) in plan.steps.iter().zip(prepared).enumerate() {
            let rev = step.revision;
            if self.inside_transaction(rev, prep, resume.get(&rev.id))
                && prep.script.code.is_none()
                && manages_transactions(&driver.split_script(&prep.script.text), self.dialect)
            {
                let refused = StepError::Body(DriverError::new(
                    ErrorKind::Unsupported,
                    format!(
                        "{} controls transactions itself (BEGIN, COMMIT, ROLLBACK, …), which would \
                         end Braid's transaction part-way and leave a half-applied migration \
                         reported as rolled back: set `transaction = false` in its revision.toml \
                         so it runs outside one, statement by statement. Nothing was run",
                        prep.script.origin
                    ),
                ));
                let direction = StepDirection::from(step.direction);
                return Err(self
                    .fail(driver, rev, direction, prep, i + 1, refused)
                    .await);
            }
        }
        for (i, (step, prep)) in plan.steps.iter().zip(prepared).enumerate() {
            let rev = step.revision;
            let direction = StepDirection::from(step.direction);
            self.emit(Event::StepStarted {
                database: self.cx.database.to_string(),
                revision: rev.id.clone(),
                direction,
                index: i + 1,
                total: self.total,
            });
            let resumed = resume.get(&rev.id);
            if self.one_tx && self.in_tx && !self.inside_transaction(rev, prep, resumed) {
                // It runs outside the single transaction: commit what is open first.
                let about = format!("the migrations before `{}`", rev.id);
                if let Err(e) = self.commit(driver, &about).await {
                    return Err(self.single_commit_failed(driver, e).await);
                }
                self.pending_committed();
            }
            let next = plan.steps.get(i + 1).zip(prepared.get(i + 1));
            let next = next.and_then(|(s, p)| self.next_mark(driver, s, p, resume));
            let t0 = Instant::now();
            let run = StepRun {
                step,
                prep,
                resume: resumed,
                next,
                t0,
            };
            let result = self.step_retried(driver, &run).await;
            let done = AppliedStep {
                revision: rev.id.clone(),
                direction,
                ms: t0.elapsed().as_millis() as u64,
            };
            match result {
                Ok(()) if self.in_tx && self.one_tx => self.pending.push((done, i + 1)),
                Ok(()) => self.finished(done, i + 1, t0.elapsed()),
                Err(err) => return Err(self.fail(driver, rev, direction, prep, i + 1, err).await),
            }
        }
        if self.total == 0 {
            return Ok(self.kept);
        }
        self.finish(driver, audit, notes).await
    }

    /// [`Executor::step`], tried again when a migration in its own transaction on Postgres ran
    /// out of `ddl_lock_timeout_ms` waiting for a table lock: rolled back, it left nothing
    /// behind, and after a pause the queue of queries it held up has drained. Each retry is a
    /// notice. Anything else (MySQL's DDL commits at once; a step outside a transaction or in
    /// the run's single one) fails as it is.
    async fn step_retried(
        &mut self,
        driver: &mut dyn Driver,
        run: &StepRun<'_, '_>,
    ) -> Result<(), StepError> {
        let (step, prep) = (run.step, run.prep);
        let retries = match self.cx.ddl_lock {
            Some(bound)
                if self.dialect == Dialect::Postgres
                    && !self.one_tx
                    && self.inside_transaction(step.revision, prep, run.resume)
                    && prep.backfill.is_none() =>
            {
                bound.retries
            }
            _ => 0,
        };
        let mut attempt = 0;
        loop {
            let result = self.step(driver, run).await;
            let timed_out = matches!(&result, Err(StepError::Body(e))
                if crate::dialect::is_lock_wait_timeout(self.dialect, e));
            if !timed_out || attempt == retries {
                return result;
            }
            if self.in_tx {
                driver
                    .rollback()
                    .await
                    .map_err(|e| StepError::Tx(e, "ROLLBACK"))?;
                self.in_tx = false;
            }
            attempt += 1;
            let pause = (RETRY_PAUSE * 2u32.saturating_pow(attempt - 1)).min(RETRY_PAUSE_MAX);
            self.notice(format!(
                "revision `{}` waited longer than ddl_lock_timeout_ms for a lock on a table and \
                 was rolled back; trying again in {} ms ({attempt} of {retries})",
                step.revision.id,
                pause.as_millis()
            ));
            tokio::time::sleep(pause).await;
        }
    }

    /// A step is applied and committed: keep it and say so.
    fn finished(&mut self, step: AppliedStep, index: usize, duration: Duration) {
        self.emit(Event::StepFinished {
            database: self.cx.database.to_string(),
            revision: step.revision.clone(),
            direction: step.direction,
            index,
            total: self.total,
            duration,
        });
        self.kept.push(step);
    }

    /// The single transaction committed: its steps are applied.
    fn pending_committed(&mut self) {
        for (step, index) in std::mem::take(&mut self.pending) {
            let duration = std::time::Duration::from_millis(step.ms);
            self.finished(step, index, duration);
        }
    }

    /// Fails with [`StepError::LockLost`] unless the lock is still held.
    async fn check_lock(&self, driver: &mut dyn Driver, during: String) -> Result<(), StepError> {
        match driver.lock_held(self.cx.lock_key).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(StepError::LockLost(during)),
            // Not an answer about the lock (the connection broke): report what broke.
            Err(e) => Err(StepError::Tx(e, "checking the migration lock")),
        }
    }

    /// [`Executor::check_lock`], unless the store's writes check the lock themselves (the
    /// write that follows does it).
    async fn check_lock_unguarded(
        &self,
        driver: &mut dyn Driver,
        during: String,
    ) -> Result<(), StepError> {
        if self.store.is_guarded() {
            return Ok(());
        }
        self.check_lock(driver, during).await
    }

    /// `BEGIN` for a migration's transaction, bounding its waits for table locks where the
    /// dialect does that per transaction ([`LockWaitSql::Transaction`]).
    async fn begin_step(&mut self, driver: &mut dyn Driver) -> Result<(), StepError> {
        self.begin(driver).await?;
        let bound = self
            .cx
            .ddl_lock
            .map(|b| lock_wait_sql(self.dialect, b.timeout));
        if let Some(Some(LockWaitSql::Transaction(set))) = bound {
            driver
                .execute(&set, &[])
                .await
                .map_err(|e| StepError::Tx(e, "SET LOCAL lock_timeout"))?;
        }
        Ok(())
    }

    async fn begin(&mut self, driver: &mut dyn Driver) -> Result<(), StepError> {
        driver
            .begin()
            .await
            .map_err(|e| StepError::Tx(e, "BEGIN"))?;
        self.in_tx = true;
        Ok(())
    }

    /// Commits the open transaction once the lock is known to be held. A lost answer is
    /// [`StepError::CommitLost`], not a failure.
    async fn commit(&mut self, driver: &mut dyn Driver, about: &str) -> Result<(), StepError> {
        self.check_lock(driver, format!("before committing {about}"))
            .await?;
        self.commit_checked(driver).await
    }

    /// `COMMIT`, the lock known to be held (checked, or by a guarded write in the transaction).
    async fn commit_checked(&mut self, driver: &mut dyn Driver) -> Result<(), StepError> {
        match driver.commit().await {
            Ok(()) => {
                self.in_tx = false;
                Ok(())
            }
            Err(e) if e.kind == ErrorKind::Connect => {
                self.in_tx = false;
                Err(StepError::CommitLost(e))
            }
            // Still open (SQLite keeps a transaction whose COMMIT failed): the caller rolls
            // it back.
            Err(e) => Err(StepError::Tx(e, "COMMIT")),
        }
    }

    /// Whether a step runs inside a transaction: a transactional revision, where DDL is
    /// transactional, not resuming recorded progress. The others (every migration on MySQL,
    /// `transaction = false` ones, resumed ones) run statement by statement with recorded
    /// progress — a resumed one even if its metadata now says otherwise.
    fn inside_transaction(
        &self,
        rev: &Revision,
        prep: &Prepared,
        resume: Option<&Recorded>,
    ) -> bool {
        let transactional = rev.transactional && self.dialect.transactional_ddl();
        transactional && (resume.is_none() || prep.script.code.is_some())
    }

    /// What the last write of a step run statement by statement can also record for the step
    /// after it: that its first statement is about to run. Only where the store has a statement
    /// for that ([`StoreSql::complete_and_mark`], MySQL: every migration there runs statement
    /// by statement, and one durable write per migration is saved), for an upgrade followed by
    /// a fresh upgrade whose first statement needs a started mark.
    fn next_mark(
        &self,
        driver: &dyn Driver,
        step: &Step<'_>,
        prep: &Prepared,
        resume: &HashMap<String, Recorded>,
    ) -> Option<NextMark> {
        let rev = step.revision;
        let fresh_sql_upgrade = step.direction == Direction::Up
            && prep.script.code.is_none()
            // A backfill records its own progress, batch by batch.
            && prep.backfill.is_none()
            && !resume.contains_key(&rev.id)
            && !self.inside_transaction(rev, prep, None);
        // A throwaway database marks no statement as started.
        if self.store.sql.complete_and_mark.is_none() || !fresh_sql_upgrade || self.cx.throwaway {
            return None;
        }
        let statements = driver.split_script(&prep.script.text);
        let first = statements.first()?;
        if is_data(first) || manages_transactions(&statements, self.dialect) {
            return None;
        }
        let hashes: Vec<String> = statements
            .iter()
            .map(|s| progress::statement_hash(s))
            .collect();
        Some(NextMark {
            revision: rev.id.clone(),
            checksum: prep.checksum.clone().unwrap_or_default(),
            hashes: progress::encode(Direction::Up, &hashes),
            total: statements.len(),
        })
    }

    async fn step(
        &mut self,
        driver: &mut dyn Driver,
        run: &StepRun<'_, '_>,
    ) -> Result<(), StepError> {
        let (step, prep, resume, t0) = (run.step, run.prep, run.resume, run.t0);
        let rev = step.revision;
        let tracked = !self.inside_transaction(rev, prep, resume)
            && prep.script.code.is_none()
            && prep.backfill.is_none();
        if resume.is_some() && prep.backfill.is_some() {
            return Err(StepError::Body(DriverError::new(
                ErrorKind::Unsupported,
                format!(
                    "revision `{}` has statement progress recorded from a run of its script as \
                     plain statements, but the script is now a batched backfill: settle it \
                     first with `braid stamp`",
                    rev.id
                ),
            )));
        }
        if resume.is_some() && prep.script.code.is_some() {
            return Err(StepError::Body(DriverError::new(
                ErrorKind::Unsupported,
                format!(
                    "revision `{}` has statement progress recorded from an SQL body, but its body \
                     is now Rust: settle it first with `braid stamp`",
                    rev.id
                ),
            )));
        }
        if self.cx.throwaway
            && let Some(refused) = leaves_the_database(driver, &prep.script.text)
        {
            return Err(StepError::Body(refused));
        }
        if !tracked {
            self.check_lock(driver, format!("before revision `{}`", rev.id))
                .await?;
        }
        // (Under `--transaction all` the single transaction is open already, or was committed
        // before a step that runs outside it.)
        if rev.transactional && !tracked && !self.in_tx {
            self.begin_step(driver).await?;
        }
        if tracked {
            return self.tracked(driver, run).await;
        }
        let cursor = crate::backfill::CursorTable::for_store(&self.store.sql.names, self.dialect);
        let backfill = crate::backfill::BackfillContext::new(
            self.cx.database,
            &rev.id,
            self.cx.events,
            cursor,
        )
        .with_lock(self.cx.lock_key)
        .in_transaction(self.in_tx);
        // A lost lock stops the run as a lost lock, wherever a backfill noticed it.
        let body_failed = |e: DriverError| match e.kind {
            ErrorKind::LockLost => {
                StepError::LockLost(format!("during a backfill of revision `{}`", rev.id))
            }
            _ => StepError::Body(e),
        };
        if let Some(spec) = &prep.backfill {
            // Batches commit one by one; the version row is written once the last one has.
            crate::backfill::run(&mut *driver, spec, &backfill)
                .await
                .map_err(body_failed)?;
        } else if let Some(code) = &prep.script.code {
            // A Rust migration: runs through the same driver and transaction.
            code.run(&mut *driver, step.direction, &backfill)
                .await
                .map_err(body_failed)?;
        } else if !prep.script.text.trim().is_empty() {
            driver
                .execute_script(&prep.script.text)
                .await
                .map_err(StepError::Body)?;
        }
        // A backfill's finished cursor rows go with the version row, in one transaction: a stop
        // between the two never runs a batch twice.
        let backfilled = backfill.cursor_used();
        if backfilled {
            self.begin(driver).await?;
            backfill.cursor.forget(driver, &rev.id).await?;
        }
        let row = RowWrite {
            revision: &rev.id,
            checksum: prep.checksum.as_deref().unwrap_or_default(),
            ms: t0.elapsed().as_millis() as i64,
            by: self.cx.by,
        };
        match step.direction {
            Direction::Up => self.store.insert_applied(driver, &row).await?,
            Direction::Down => self.store.remove(driver, &rev.id).await?,
        }
        if (!self.one_tx || backfilled) && self.in_tx {
            self.commit(driver, &format!("revision `{}`", rev.id))
                .await?;
        }
        Ok(())
    }

    /// Runs one migration statement by statement outside a transaction (see
    /// [`crate::progress`]), so a stop part-way leaves an exact record:
    ///
    /// * a data statement (`INSERT`, `UPDATE`, `DELETE`, …) commits in one transaction with its
    ///   progress, so it can never run twice;
    /// * any other statement cannot share a transaction with the bookkeeping (MySQL commits DDL
    ///   at once), so it is recorded as *started*, with the session running it, before it runs,
    ///   and as done with the next write. A run that resumes a started statement first waits for
    ///   that session to finish it, then looks in the schema for its effect
    ///   ([`Executor::settle_started`]).
    ///
    /// A script that controls transactions itself gets a started mark for every statement.
    async fn tracked(
        &mut self,
        driver: &mut dyn Driver,
        run: &StepRun<'_, '_>,
    ) -> Result<(), StepError> {
        let (step, prep, resume, t0) = (run.step, run.prep, run.resume, run.t0);
        let rev = step.revision;
        let statements: Vec<String> = driver.split_script(&prep.script.text);
        let total = statements.len();
        let hashes: Vec<String> = statements
            .iter()
            .map(|s| progress::statement_hash(s))
            .collect();
        if let Some(r) = resume
            && let Some(changed) = (0..r.done).find(|&i| hashes.get(i) != r.hashes.get(i))
        {
            return Err(StepError::Changed {
                done: r.done,
                total,
                changed: changed + 1,
            });
        }
        let checksum = prep.checksum.clone().unwrap_or_default();
        let encoded = progress::encode(step.direction, &hashes);
        let own_tx = !manages_transactions(&statements, self.dialect);
        // Marks before statements, unless the database is thrown away. A script that manages
        // its own transactions keeps them: what it committed is read back from them when a
        // statement fails.
        let marks = !self.cx.throwaway || !own_tx;
        // The previous step's last write marked this one's first statement as started.
        let premarked = self.premarked.take().is_some_and(|id| id == rev.id);
        let mut t = Tracked {
            revision: &rev.id,
            direction: step.direction,
            checksum: &checksum,
            hashes: &encoded,
            total,
            // A downgraded revision's row exists (it is applied); an upgrade's once resumed.
            row_existed: resume.is_some() || step.direction == Direction::Down,
            row_exists: premarked || resume.is_some() || step.direction == Direction::Down,
            done: resume.map_or(0, |r| r.done),
            unrecorded: false,
            finished: false,
            session: None,
            hashes_written: premarked,
        };
        if let Some(r) = resume {
            self.replay_session(driver, rev, &statements[..r.done.min(total)])
                .await?;
            if r.started.is_some() {
                self.settle_started(driver, &mut t, &statements, &hashes, r)
                    .await?;
            }
        }
        while t.done < total {
            let k = t.done;
            let statement = &statements[k];
            if premarked && k == 0 {
                // Marked by the previous step's last write, which checked the lock (a guarded
                // store; otherwise it is checked here). A lock lost since leaves the mark with
                // this connection's server session id: the next holder waits until that
                // connection has closed (`wait_for_session` counts an idle connection as
                // alive), and this run's next guarded write finds the lock gone and stops — the
                // statement never runs on two connections at once, and no round trip is spent
                // per migration to ask.
                self.check_lock_unguarded(
                    driver,
                    format!("before statement 1 of revision `{}`", rev.id),
                )
                .await?;
                if let Err(error) = driver.execute_script(statement).await {
                    return Err(self.statement_failed(driver, &t, &statements, error).await);
                }
                t.done = 1;
                t.unrecorded = true;
                continue;
            }
            // A guarded store checks the lock in the mark, or in the data statement's progress
            // before its COMMIT.
            self.check_lock_unguarded(
                driver,
                format!("before statement {} of revision `{}`", k + 1, rev.id),
            )
            .await?;
            if own_tx && is_data(statement) {
                self.data_statement(driver, &mut t, &statements, t0).await?;
                continue;
            }
            if marks {
                self.mark_started(driver, &mut t, k).await?;
            }
            if let Err(error) = driver.execute_script(statement).await {
                return Err(self.statement_failed(driver, &t, &statements, error).await);
            }
            t.done = k + 1;
            t.unrecorded = marks;
        }
        // A script that manages transactions or autocommit itself may leave work uncommitted,
        // and the row written into its transaction would be lost with it.
        let autocommit = switches_autocommit(&statements);
        if !own_tx || autocommit {
            self.nothing_left_open(driver, total).await?;
        }
        // The bookkeeping's writes commit by themselves only with autocommit on (MySQL: a
        // script's `SET autocommit = 0` would keep every later write on the connection pending).
        if self.dialect == Dialect::Mysql && autocommit {
            driver
                .execute_script("SET autocommit = 1")
                .await
                .map_err(StepError::Body)?;
        }
        // The last statement's completion and the row, in one write (unless a data statement's
        // transaction wrote it already).
        if t.finished {
            return Ok(());
        }
        let (Some(next), Direction::Up, true) = (&run.next, t.direction, t.row_exists) else {
            let written = self.final_write(driver, &t, t0).await;
            return written.map_err(|e| t.write_failed(e));
        };
        // This row's completion and the next step's first mark in one write, under a lock
        // checked for both.
        self.check_lock_unguarded(
            driver,
            format!("before statement 1 of revision `{}`", next.revision),
        )
        .await?;
        if t.session.is_none() {
            t.session = driver.session_id().await.map_err(StepError::Body)?;
        }
        let row = RowWrite {
            revision: t.revision,
            checksum: t.checksum,
            ms: t0.elapsed().as_millis() as i64,
            by: self.cx.by,
        };
        let mark = ProgressWrite {
            revision: &next.revision,
            checksum: &next.checksum,
            by: self.cx.by,
            done: 0,
            total: next.total,
            hashes: &next.hashes,
            started: Some(1),
            session: t.session.as_deref(),
        };
        let written = self.store.complete_and_mark(driver, &row, &mark).await;
        written.map_err(|e| t.write_failed(e))?;
        self.premarked = Some(next.revision.clone());
        Ok(())
    }

    /// Fails the step when its script left a transaction open ([`Driver::uncommitted`]), after
    /// rolling it back and, on MySQL, turning autocommit on again: nothing of it stays pending
    /// in the session, where the next write would commit it or the end of the connection would
    /// lose it unreported.
    async fn nothing_left_open(
        &mut self,
        driver: &mut dyn Driver,
        total: usize,
    ) -> Result<(), StepError> {
        if driver.uncommitted().await.map_err(StepError::Body)? != Some(true) {
            return Ok(());
        }
        // The failure is what matters; a rollback that fails leaves what the connection's end
        // rolls back.
        let _ = driver.rollback().await;
        if self.dialect == Dialect::Mysql {
            let _ = driver.execute_script("SET autocommit = 1").await;
        }
        Err(StepError::LeftOpen { total })
    }

    /// Records statement `k + 1` of `t` as started, by this connection's server session.
    async fn mark_started(
        &self,
        driver: &mut dyn Driver,
        t: &mut Tracked<'_>,
        k: usize,
    ) -> Result<(), StepError> {
        if t.session.is_none() {
            // Recorded with the mark: a later run waits for this connection to close (see
            // `settle_started`), so not knowing its server session id is not an option.
            t.session = driver.session_id().await.map_err(StepError::Body)?;
        }
        let marked = self.record(driver, t, Some(k + 1)).await;
        marked.map_err(|e| t.write_failed(e))?;
        t.row_exists = true;
        t.hashes_written = true;
        Ok(())
    }

    /// Runs data statement `t.done + 1` in one transaction with its progress (or, for the last
    /// statement, with the finished row).
    async fn data_statement(
        &mut self,
        driver: &mut dyn Driver,
        t: &mut Tracked<'_>,
        statements: &[String],
        t0: Instant,
    ) -> Result<(), StepError> {
        if let Err(e) = self.begin(driver).await {
            return Err(self.data_tx_failed(t, e));
        }
        if let Err(error) = driver.execute_script(&statements[t.done]).await {
            let _ = driver.rollback().await;
            self.in_tx = false;
            return Err(self.statement_failed(driver, t, statements, error).await);
        }
        // Written in the statement's transaction: a failure rolls both back.
        let last = t.done + 1 == t.total;
        let mut after = Tracked {
            done: t.done + 1,
            ..t.clone()
        };
        let written = if last {
            self.final_write(driver, &after, t0).await
        } else {
            self.record(driver, &after, None).await
        };
        let about = format!("statement {} of revision `{}`", after.done, t.revision);
        let committed = match written {
            Ok(()) if self.store.is_guarded() => self.commit_checked(driver).await,
            Ok(()) => self.commit(driver, &about).await,
            Err(e) => Err(store_failed(e, StepError::Bookkeeping)),
        };
        if let Err(e) = committed {
            if self.in_tx {
                let _ = driver.rollback().await;
            }
            return Err(self.data_tx_failed(t, e));
        }
        after.finished = last;
        after.row_exists = true;
        after.hashes_written = true;
        after.unrecorded = false;
        *t = after;
        Ok(())
    }

    /// A data statement's transaction failed around the statement (`BEGIN`, its progress, its
    /// `COMMIT`): the statement went with it. If the statement before it ran outside a
    /// transaction and is recorded only as started, the migration stopped part-way with that
    /// one unrecorded.
    fn data_tx_failed(&mut self, t: &Tracked<'_>, e: StepError) -> StepError {
        self.in_tx = false;
        match e {
            StepError::LockLost(_) | StepError::CommitLost(_) => e,
            e if t.unrecorded => StepError::Unrecorded {
                error: e.into_driver_error(),
                sql: String::new(),
                ran: t.done,
                recorded: t.done - 1,
                total: t.total,
            },
            e => e,
        }
    }

    /// Writes `t`'s progress: `t.done` statements done and, when given, statement `started`
    /// about to run in `t.session`.
    async fn record(
        &self,
        driver: &mut dyn Driver,
        t: &Tracked<'_>,
        started: Option<usize>,
    ) -> Result<(), StoreWrite> {
        let progress = ProgressWrite {
            revision: t.revision,
            checksum: t.checksum,
            by: self.cx.by,
            done: t.done,
            total: t.total,
            hashes: t.hashes,
            started,
            session: t.session.as_deref(),
        };
        let how = match (t.row_exists, t.hashes_written) {
            (false, _) => ProgressRow::Insert,
            (true, false) => ProgressRow::Rewrite,
            (true, true) => ProgressRow::Advance,
        };
        self.store.record_progress(driver, &progress, how).await
    }

    /// The row once every statement ran: complete, new, or gone (a downgrade).
    async fn final_write(
        &self,
        driver: &mut dyn Driver,
        t: &Tracked<'_>,
        t0: Instant,
    ) -> Result<(), StoreWrite> {
        let row = RowWrite {
            revision: t.revision,
            checksum: t.checksum,
            ms: t0.elapsed().as_millis() as i64,
            by: self.cx.by,
        };
        match (t.direction, t.row_exists) {
            (Direction::Up, true) => self.store.complete(driver, &row).await,
            (Direction::Up, false) => self.store.insert_applied(driver, &row).await,
            (Direction::Down, _) => self.store.remove(driver, t.revision).await,
        }
    }

    /// Statement `t.done + 1` failed: the server said so, so it did not take effect. Takes its
    /// started mark back (best effort: a mark left behind only makes the next run look for the
    /// effect) and reports how far the migration got.
    async fn statement_failed(
        &self,
        driver: &mut dyn Driver,
        t: &Tracked<'_>,
        statements: &[String],
        error: DriverError,
    ) -> StepError {
        let k = t.done;
        let done = if error.kind == ErrorKind::Connect {
            // The connection broke while it ran: whether it took effect is unknown, and its
            // started mark stays for the next run to look (nothing can be written anyway).
            k
        } else if manages_transactions(statements, self.dialect) {
            // The script opened its own transaction: undo what is still open in it (our
            // progress updates included), then report what was really committed — and take
            // back the started mark, since the statement failed.
            let _ = driver.rollback().await;
            let done = self
                .recorded(driver, t.revision)
                .await
                .map_or(0, |p| p.done);
            if t.row_exists {
                let settled = Tracked { done, ..t.clone() };
                let _ = self.record(driver, &settled, None).await;
            }
            done
        } else {
            let restored = if k == 0 && !t.row_existed {
                // Nothing of it ran: no row, as before it started.
                self.store.remove_if_present(driver, t.revision).await
            } else if k == 0 && t.direction == Direction::Down {
                // A downgrade that undid nothing: the complete row it had.
                self.store.clear_progress(driver, t.revision).await
            } else if t.row_exists {
                self.record(driver, t, None).await
            } else {
                Ok(())
            };
            drop(restored);
            k
        };
        StepError::Statement {
            index: k + 1,
            total: t.total,
            done,
            statement: statements
                .get(k)
                .or(statements.first())
                .cloned()
                .unwrap_or_default(),
            error,
        }
    }

    /// The recorded progress of `revision`, read again.
    async fn recorded(&self, driver: &mut dyn Driver, revision: &str) -> Option<Recorded> {
        let rows = self.store.read_rows(driver).await.ok()?;
        rows.into_iter()
            .find(|r| r.revision == revision)
            .and_then(|r| Recorded::from_row(r.partial.as_ref()))
    }

    /// A resumed migration whose statement `r.started` was running when an earlier run
    /// stopped: waits for that run's session to finish it (a server keeps executing a killed
    /// client's statement), then looks for its effect ([`crate::effect`]) — present: it is
    /// recorded as done and skipped; absent or harmless to repeat: it runs again; unknown: the
    /// run stops and says what to check. Each outcome is a notice saying what was checked.
    async fn settle_started(
        &mut self,
        driver: &mut dyn Driver,
        t: &mut Tracked<'_>,
        statements: &[String],
        hashes: &[String],
        r: &Recorded,
    ) -> Result<(), StepError> {
        let Some(n) = r.started else {
            return Ok(());
        };
        // Whatever the mark, its session may still be executing it: wait first.
        if let Some(session) = &r.session {
            self.wait_for_session(driver, t.revision, n, session)
                .await?;
        }
        if n != r.done + 1 || n > statements.len() {
            // The mark names a statement the file no longer has there (the script was cut or
            // reordered since): what ran cannot be judged from this file.
            return Err(StepError::Undetermined {
                index: n,
                total: t.total,
                done: r.done,
                statement: statements.get(n - 1).cloned().unwrap_or_default(),
                why: format!(
                    "statement {n} was running and {} statement(s) were done, but the file now \
                     has {} statement(s): restore the file as it was when the run stopped",
                    r.done,
                    statements.len()
                ),
            });
        }
        if hashes.get(n - 1) != r.hashes.get(n - 1) {
            // Its effect would be judged by a text that is not the one that ran.
            return Err(StepError::Undetermined {
                index: n,
                total: t.total,
                done: r.done,
                statement: statements[n - 1].clone(),
                why: "the file's statement is not the one that was running: restore it".into(),
            });
        }
        let statement = &statements[n - 1];
        let schema = driver.introspect().await.map_err(StepError::Body)?;
        let current = self.current_schema(driver).await?;
        let about = format!(
            "statement {n} of revision `{}` (`{}`) was running when an earlier run stopped",
            t.revision,
            statement_excerpt(statement)
        );
        match crate::effect::check(statement, self.dialect, &schema, current.as_deref()) {
            Effect::Present(seen) => {
                self.notice(format!(
                    "{about}; it took effect ({seen}), so it is not run again"
                ));
                t.done = n;
                if n < t.total {
                    self.record(driver, t, None)
                        .await
                        .map_err(|e| store_failed(e, StepError::Bookkeeping))?;
                    t.hashes_written = true;
                }
                Ok(())
            }
            Effect::Absent(seen) => {
                self.notice(format!(
                    "{about}; it did not take effect ({seen}), so it runs again"
                ));
                Ok(())
            }
            Effect::Repeatable(why) => {
                self.notice(format!("{about}; running it again is harmless ({why})"));
                Ok(())
            }
            Effect::Unknown(why) => Err(StepError::Undetermined {
                index: n,
                total: t.total,
                done: r.done,
                statement: statement.clone(),
                why,
            }),
        }
    }

    /// Waits, up to the lock timeout, until `session` (an earlier run's) has ended. An idle
    /// session is waited for too: its client is alive, and may have lost the lock between
    /// marking the statement and sending it.
    async fn wait_for_session(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
        n: usize,
        session: &str,
    ) -> Result<(), StepError> {
        if driver
            .session_id()
            .await
            .map_err(StepError::Body)?
            .as_deref()
            == Some(session)
        {
            // Our own session executes nothing while we are here.
            return Ok(());
        }
        let deadline = braid_driver::deadline_after(self.cx.lock_timeout);
        let mut told = false;
        loop {
            let activity = driver
                .session_activity(session)
                .await
                .map_err(StepError::Body)?;
            let Some(activity) = activity else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                return Err(StepError::StillRunning(activity));
            }
            if !told {
                self.notice(format!(
                    "waiting for an earlier run's session to finish statement {n} of revision \
                     `{revision}` before resuming it: {activity}"
                ));
                told = true;
            }
            tokio::time::sleep(SESSION_POLL.min(deadline - Instant::now())).await;
        }
    }

    /// The schema introspection reads (Postgres `current_schema()`, MySQL `DATABASE()`), so a
    /// qualified name in a statement can be told apart from one elsewhere.
    async fn current_schema(&self, driver: &mut dyn Driver) -> Result<Option<String>, StepError> {
        let Some(sql) = crate::dialect::current_schema_query(self.dialect) else {
            return Ok(None);
        };
        let rows = driver.query(sql, &[]).await.map_err(StepError::Body)?;
        Ok(rows
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.as_str())
            .map(str::to_string))
    }

    /// Runs again the session settings (`SET …`, `USE …`, pg_dump's `set_config(…)`) among the
    /// statements a resumed migration already ran: the session that ran them is gone, and what
    /// follows them may depend on them (`USE other_db; CREATE TABLE x …`).
    async fn replay_session(
        &self,
        driver: &mut dyn Driver,
        rev: &Revision,
        done: &[String],
    ) -> Result<(), StepError> {
        let settings: Vec<&String> = done.iter().filter(|s| is_session_setting(s)).collect();
        for statement in &settings {
            driver
                .execute_script(statement)
                .await
                .map_err(StepError::Body)?;
        }
        if !settings.is_empty() {
            self.notice(format!(
                "resuming revision `{}`: ran again the session settings among the statements \
                 already run ({})",
                rev.id,
                settings
                    .iter()
                    .map(|s| format!("`{}`", statement_excerpt(s)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        Ok(())
    }

    fn notice(&self, message: String) {
        self.emit(Event::Notice {
            database: self.cx.database.to_string(),
            message,
        });
    }

    /// The run's audit entry, inside the open single transaction when there is one (no extra
    /// commit), else on its own — once per run, never per step — and the single transaction's
    /// commit.
    async fn finish(
        mut self,
        driver: &mut dyn Driver,
        audit: Option<(&str, &str)>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<AppliedStep>, RunError> {
        let logged = match audit {
            Some((action, summary)) => {
                self.store
                    .log(driver, self.cx.by, action, None, Some(summary))
                    .await
            }
            None => Ok(()),
        };
        if !self.in_tx {
            if let Err(e) = logged {
                // Every migration is committed; a missing audit entry must not report failure.
                notes.push(audit_not_written(&e));
            }
            return Ok(self.kept);
        }
        let committed = match logged {
            Ok(()) => self.commit(driver, "the single transaction").await,
            Err(e) => {
                let _ = driver.rollback().await;
                return Err(e);
            }
        };
        match committed {
            Ok(()) => {
                self.pending_committed();
                Ok(self.kept)
            }
            Err(err) => Err(self.single_commit_failed(driver, err).await),
        }
    }

    /// The single transaction's `COMMIT` failed (rolled back: its steps are listed as such) or
    /// its answer was lost (the store, read again, says whether its steps took effect).
    async fn single_commit_failed(mut self, driver: &mut dyn Driver, err: StepError) -> RunError {
        if let StepError::LockLost(during) = err {
            let _ = driver.rollback().await;
            return RunError::LockLost {
                database: self.cx.database.to_string(),
                key: self.cx.lock_key.to_string(),
                during,
                kept: self.kept,
            };
        }
        let pending = std::mem::take(&mut self.pending);
        let Some((last, _)) = pending.last() else {
            return RunError::driver(self.cx.database, "committing", err.into_driver_error());
        };
        let (revision, direction) = (last.revision.clone(), last.direction);
        let ids: Vec<String> = pending.iter().map(|(s, _)| s.revision.clone()).collect();
        let (source, commit_lost, kind) = match err {
            StepError::CommitLost(e) => {
                let up = direction == StepDirection::Up;
                let store_says = self.applied_in_store(driver, &revision, up).await;
                (e, Some(store_says), FailureKind::OutcomeUnknown)
            }
            other => {
                let _ = driver.rollback().await;
                (other.into_driver_error(), None, FailureKind::Migration)
            }
        };
        let took_effect = commit_lost == Some(Some(true));
        let rolled_back = if took_effect || commit_lost == Some(None) {
            Vec::new()
        } else {
            ids.clone()
        };
        if took_effect {
            self.kept.extend(pending.into_iter().map(|(s, _)| s));
        }
        let failure = StepFailure {
            database: self.cx.database.to_string(),
            revision,
            direction,
            file: format!("the single transaction of {}", ids.join(", ")),
            statement_index: None,
            statement_total: None,
            statement: Some("COMMIT".into()),
            message: source.to_string(),
            source,
            transactional: !took_effect,
            kept: self.kept,
            rolled_back,
            statements_done: None,
            commit_lost,
            kind,
            backfill: false,
        };
        RunError::Step(Box::new(failure))
    }

    /// After a lost `COMMIT` answer: whether the store records `revision` as applied (`up`) or
    /// as undone (`!up`), read again on the same connection; `None` if it cannot be read.
    async fn applied_in_store(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
        up: bool,
    ) -> Option<bool> {
        let rows = self.store.read_rows(driver).await.ok()?;
        let row = rows.iter().find(|r| r.revision == revision);
        // Applied: a complete row. Undone: no row (a row with progress is half undone).
        Some(match up {
            true => row.is_some_and(|r| r.partial.is_none()),
            false => row.is_none(),
        })
    }

    /// Rolls back what is open and turns `err` into the run's error.
    async fn fail(
        mut self,
        driver: &mut dyn Driver,
        rev: &Revision,
        direction: StepDirection,
        prep: &Prepared,
        index: usize,
        err: StepError,
    ) -> RunError {
        // On MySQL a transaction does not undo DDL: only claim a rollback that is real.
        let was_tx = self.in_tx && self.dialect.transactional_ddl();
        if self.in_tx && !matches!(err, StepError::CommitLost(_)) {
            // The rollback's own failure would only hide the real error.
            let _ = driver.rollback().await;
        }
        if let StepError::LockLost(during) = err {
            return RunError::LockLost {
                database: self.cx.database.to_string(),
                key: self.cx.lock_key.to_string(),
                during,
                kept: self.kept,
            };
        }
        // A lost COMMIT answer concerns what that COMMIT covered: the steps of the single
        // transaction committed at a boundary, else this step.
        let commit_lost = match &err {
            StepError::CommitLost(_) => {
                let (subject, up) = match self.pending.last() {
                    Some((s, _)) => (s.revision.clone(), s.direction == StepDirection::Up),
                    None => (rev.id.clone(), direction == StepDirection::Up),
                };
                Some(self.applied_in_store(driver, &subject, up).await)
            }
            _ => None,
        };
        let mut pending = std::mem::take(&mut self.pending);
        if commit_lost == Some(Some(true)) {
            // It did commit: what it covered is applied.
            if pending.is_empty() {
                self.kept.push(AppliedStep {
                    revision: rev.id.clone(),
                    direction,
                    ms: 0,
                });
            }
            self.kept.extend(pending.drain(..).map(|(s, _)| s));
        }
        let mut failure = failure(
            &self.cx,
            rev,
            direction,
            &prep.script,
            err,
            was_tx,
            self.kept,
            pending,
        );
        failure.commit_lost = commit_lost;
        failure.backfill = prep.backfill.is_some();
        if commit_lost == Some(Some(true)) {
            failure.transactional = false;
        }
        (self.cx.events)(&Event::StepFailed {
            database: self.cx.database.to_string(),
            revision: rev.id.clone(),
            direction,
            index,
            total: self.total,
            error: failure.to_string(),
        });
        RunError::Step(Box::new(failure))
    }
}

/// How often a run resuming a started statement asks whether the earlier session still runs it.
const SESSION_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// One step of a plan as [`Executor::step`] runs it, with what the run knows of it.
struct StepRun<'s, 'g> {
    step: &'s Step<'g>,
    prep: &'s Prepared,
    /// Its recorded progress, when an earlier run stopped part-way through it.
    resume: Option<&'s Recorded>,
    /// The next step's first mark, written with this step's last write.
    next: Option<NextMark>,
    /// When it started (its duration is recorded).
    t0: Instant,
}

/// The first mark of the step after the current one (see [`Executor::next_mark`]).
struct NextMark {
    revision: String,
    checksum: String,
    /// [`progress::encode`]d.
    hashes: String,
    total: usize,
}

/// The state of one migration run statement by statement.
#[derive(Clone)]
struct Tracked<'a> {
    revision: &'a str,
    direction: Direction,
    checksum: &'a str,
    /// [`progress::encode`]d statement hashes.
    hashes: &'a str,
    total: usize,
    /// The version row existed before this run touched the migration.
    row_existed: bool,
    row_exists: bool,
    /// Statements done.
    done: usize,
    /// Statement `done` ran outside a transaction and is recorded only as started.
    unrecorded: bool,
    /// The finished row is written (by the last data statement's transaction).
    finished: bool,
    /// The session running the statements ([`Driver::session_id`]), asked once.
    session: Option<String>,
    /// This run wrote the row's hashes (once per run: they do not change within one).
    hashes_written: bool,
}

impl Tracked<'_> {
    /// A failed progress write: if a statement ran since the last one, it stays recorded as
    /// started (the next run looks for its effect); else nothing ran that is not recorded.
    fn write_failed(&self, e: StoreWrite) -> StepError {
        if e.source.kind == ErrorKind::LockLost {
            return StepError::LockLost(format!(
                "while recording revision `{}`: {}",
                self.revision, e.source.message
            ));
        }
        if !self.unrecorded {
            return StepError::Bookkeeping(e);
        }
        StepError::Unrecorded {
            error: e.source,
            sql: e.sql,
            ran: self.done,
            recorded: self.done - 1,
            total: self.total,
        }
    }
}

/// Whether a statement only reads or writes rows (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`,
/// `MERGE`, `SELECT`, `WITH …`): such a statement can commit in one transaction with its
/// progress on every backend.
fn is_data(statement: &str) -> bool {
    matches!(
        leading_keyword(statement).as_str(),
        "INSERT" | "UPDATE" | "DELETE" | "REPLACE" | "MERGE" | "SELECT" | "WITH" | "VALUES"
    )
}

/// The statement of `script` that would take a throwaway run's session out of its database:
/// MySQL's `USE`, after which every statement (the migration's and the bookkeeping's) runs in
/// the other database — for a scratch run, usually the configured one, which a scratch run
/// never touches — and SQLite's `ATTACH`, which reaches another file. A throwaway run refuses
/// the step before any of its statements runs. (A Postgres session cannot change databases;
/// its `search_path` is no concern of a snapshot, which reads the schema the session started
/// in.)
fn leaves_the_database(driver: &dyn Driver, script: &str) -> Option<DriverError> {
    let keyword = match driver.dialect() {
        Dialect::Mysql => "USE",
        Dialect::Sqlite => "ATTACH",
        Dialect::Postgres => return None,
    };
    let statements = driver.split_script(script);
    let index = statements
        .iter()
        .position(|s| leading_keyword(s) == keyword)?;
    let message = format!(
        "statement {} switches to another database ({keyword}); on a scratch database every \
         statement must run there, so the revision cannot be checked: remove the {keyword} \
         (Braid connects to the configured database itself)",
        index + 1
    );
    Some(
        DriverError::new(ErrorKind::Unsupported, message).with_position(ScriptPosition {
            index: index + 1,
            total: Some(statements.len()),
            statement: statements[index].clone(),
        }),
    )
}

/// A failed store write as a step error: a guarded write that found the lock gone is
/// [`StepError::LockLost`], anything else `otherwise`.
fn store_failed(e: StoreWrite, otherwise: impl FnOnce(StoreWrite) -> StepError) -> StepError {
    if e.source.kind == ErrorKind::LockLost {
        return StepError::LockLost(format!("while recording: {}", e.source.message));
    }
    otherwise(e)
}

/// Whether a statement only changes the session (`SET …`, `USE …`, `SELECT set_config(…)`),
/// so running it again changes nothing but the session.
fn is_session_setting(statement: &str) -> bool {
    match leading_keyword(statement).as_str() {
        "SET" | "USE" => true,
        "SELECT" => statement.to_ascii_lowercase().contains("set_config("),
        _ => false,
    }
}

/// A statement's first keyword, upper-cased, after comments and whitespace.
fn leading_keyword(statement: &str) -> String {
    let mut rest = statement.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("--") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    rest.split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        .unwrap_or("")
        .to_ascii_uppercase()
}

#[allow(clippy::too_many_arguments)]
fn failure(
    cx: &Context<'_>,
    rev: &Revision,
    direction: StepDirection,
    script: &Script,
    err: StepError,
    transactional: bool,
    kept: Vec<AppliedStep>,
    pending: Vec<(AppliedStep, usize)>,
) -> StepFailure {
    let store_file = || format!("version table `{}`", cx.table);
    let mut statements_done = None;
    let kind = match &err {
        StepError::Bookkeeping(_) => FailureKind::Store,
        StepError::CommitLost(_) => FailureKind::OutcomeUnknown,
        StepError::LockLost(_) => FailureKind::LockLost,
        StepError::StillRunning(_) => FailureKind::LockTimeout,
        StepError::Unrecorded { .. }
        | StepError::Undetermined { .. }
        | StepError::LeftOpen { .. } => FailureKind::Partial,
        // The connection broke while a statement outside a transaction ran.
        StepError::Statement { error, .. } if error.kind == ErrorKind::Connect => {
            FailureKind::OutcomeUnknown
        }
        // The connection broke before or inside a transaction: the server rolled it back.
        StepError::Body(e) | StepError::Tx(e, _) if e.kind == ErrorKind::Connect => {
            FailureKind::Connect
        }
        StepError::Statement { done, .. } | StepError::Changed { done, .. } if *done > 0 => {
            FailureKind::Partial
        }
        _ => FailureKind::Migration,
    };
    let (source, file, statement, index, total) = match err {
        StepError::Body(e) => {
            let (stmt, idx, tot) = match &e.position {
                Some(p) => (Some(p.statement.clone()), Some(p.index), p.total),
                None => (None, None, None),
            };
            (e, script.origin.clone(), stmt, idx, tot)
        }
        StepError::Bookkeeping(w) => (w.source, store_file(), Some(w.sql), None, None),
        StepError::Tx(e, stmt) => (e, script.origin.clone(), Some(stmt.to_string()), None, None),
        StepError::CommitLost(e) => (e, script.origin.clone(), Some("COMMIT".into()), None, None),
        StepError::LockLost(during) => (
            DriverError::new(
                ErrorKind::LockLost,
                format!("lost the migration lock {during}"),
            ),
            script.origin.clone(),
            None,
            None,
            None,
        ),
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
                    "statement {ran} of {total} ran, but recording it in the version table failed \
                     ({}); it stays recorded as started, so the next run looks for its effect \
                     before going on",
                    error.message,
                ),
                ..error
            };
            (e, store_file(), Some(sql), None, Some(total))
        }
        StepError::StillRunning(activity) => (
            DriverError::new(
                ErrorKind::LockTimeout,
                format!(
                    "the session of an earlier run that was executing a statement of this \
                     migration has not ended ({activity}): it may still run it; wait for it to \
                     end, or stop it (and its client), then run again"
                ),
            ),
            script.origin.clone(),
            None,
            None,
            None,
        ),
        StepError::Undetermined {
            index,
            total,
            done,
            statement,
            why,
        } => {
            statements_done = Some(done);
            let e = DriverError::new(
                ErrorKind::Internal,
                format!(
                    "statement {index} was running when an earlier run stopped, and whether it \
                     took effect cannot be told ({why}). Look at the database, then either make \
                     statement {index} safe to run again (`IF NOT EXISTS`, `OR REPLACE`, …) and \
                     run again, or finish the migration by hand and record it with \
                     `braid stamp {}`",
                    rev.id
                ),
            );
            (
                e,
                script.origin.clone(),
                Some(statement),
                Some(index),
                Some(total),
            )
        }
        StepError::LeftOpen { total } => {
            let e = DriverError::new(
                ErrorKind::Sql,
                "the script leaves work uncommitted at its end (a transaction it opened is \
                 still open): that work was rolled back, and the migration is not recorded as \
                 applied. What the script committed before stays, and its recorded progress \
                 says how far that went (`braid status`). End the script with COMMIT and run \
                 again",
            );
            (e, script.origin.clone(), None, None, Some(total))
        }
        StepError::Changed {
            done,
            total,
            changed,
        } => {
            statements_done = Some(done);
            let e = DriverError::new(
                ErrorKind::Internal,
                format!(
                    "cannot resume: statement {changed} already ran, but the file's statement \
                     {changed} is not the one that ran (statements 1-{done} ran from an earlier \
                     version of the file). Only the failed statement and those after it may \
                     change; restore statements 1-{done}, or undo them by hand and clear the \
                     progress with `braid stamp`"
                ),
            );
            (e, script.origin.clone(), None, None, Some(total))
        }
    };
    StepFailure {
        database: cx.database.to_string(),
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
        rolled_back: pending.into_iter().map(|(s, _)| s.revision).collect(),
        statements_done,
        commit_lost: None,
        kind,
        backfill: false,
    }
}

/// Whether a script's statements control transactions themselves: `BEGIN`, `START
/// TRANSACTION`, `COMMIT`, `ROLLBACK`, `END` (not a Postgres `BEGIN ATOMIC` function body).
fn manages_transactions(statements: &[String], _dialect: Dialect) -> bool {
    statements.iter().any(|s| {
        matches!(
            leading_keyword(s).as_str(),
            "BEGIN" | "START" | "COMMIT" | "ROLLBACK" | "END"
        ) && !s.to_ascii_uppercase().contains("BEGIN ATOMIC")
    })
}

/// Whether a statement of the script sets autocommit (MySQL's `SET autocommit = 0` makes
/// every later statement, the bookkeeping's too, open a transaction that stays pending).
fn switches_autocommit(statements: &[String]) -> bool {
    statements
        .iter()
        .any(|s| leading_keyword(s) == "SET" && s.to_ascii_lowercase().contains("autocommit"))
}

/// The note for an audit entry that could not be written: the migrations it would describe are
/// committed, so it is reported, not a failure.
pub(crate) fn audit_not_written(e: &RunError) -> String {
    format!("could not write the audit log: {e}")
}
