//! Several databases at once: each runs concurrently, bounded by [`Limits`] — at most `jobs`
//! at a time, at most `max_connections` connections to one server; one failing database does
//! not stop the others until `max_failures` have failed (then those not yet started are
//! reported as skipped).
//!
//! Databases of one migration set share a [`Shared`]: the scripts each step reads and the plan
//! for each applied state are made once, not once per database, so a thousand tenants at the
//! same revision cost one read of each file.
//!
//! Each database runs on a worker thread of its own with a current-thread tokio runtime (at most
//! `jobs` workers), not as futures polled together in one task: the SQLite driver and inline
//! plugins run their calls on the calling thread, so polling them together would run the
//! databases one after the other. Scoped threads let the work borrow the graph, the bodies and
//! the event callback; every connection (and a Postgres connection's background task) lives and
//! dies on its worker's runtime. `run_all` therefore blocks: call it from outside async code, or
//! from a task that may block.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use braid_driver::{Driver, DriverError, redact_url};
use braid_graph::Graph;
use serde::Serialize;

use crate::RunError;
use crate::bodies::Bodies;
use crate::report::{AppliedStep, Event, EventSink};
use crate::runner::{RunOptions, Runner, TransactionMode};
use crate::shared::Shared;
use crate::workers::{Panicked, Worker, WorkerError, on_workers_then};

/// A boxed future that opens a connection.
pub type OpenFuture = Pin<Box<dyn Future<Output = Result<Box<dyn Driver>, DriverError>> + Send>>;

/// Opens a database's connection when its turn comes (so at most `jobs` are open at once).
pub type Opener = Box<dyn FnOnce() -> OpenFuture + Send>;

/// One database of a multi-database run, with the migration set it receives: databases of one
/// run may use different migration directories (one graph each).
pub struct DbTarget<'a> {
    pub name: String,
    /// The graph this database is migrated along.
    pub graph: &'a Graph,
    /// Where its migration bodies come from.
    pub bodies: &'a dyn Bodies,
    /// The URL, shown only redacted.
    pub url: String,
    pub open: Opener,
    pub version_table: String,
    pub schema: Option<String>,
    /// Branch labels this database receives; empty for all.
    pub branches: Vec<String>,
    pub transaction: TransactionMode,
    pub lock_timeout: Duration,
    /// See [`crate::runner::DdlLock`].
    pub ddl_lock: Option<crate::runner::DdlLock>,
    /// The server it connects to ([`braid_driver::options::server_of`]), for
    /// [`Limits::max_connections`]; `None` for SQLite.
    pub server: Option<String>,
    /// What the databases of its migration set share; `None` for nothing shared.
    pub shared: Option<&'a Shared>,
    /// Whether its connections may serve the next database (see [`Reuse`]); `None` closes them
    /// after it.
    pub reuse: Option<Reuse>,
    /// What says each revision's deploy phase, for an upgrade limited to one
    /// ([`Operation::Upgrade`]'s `phase`); `None` for the phases `revision.toml` declares.
    pub phases: Option<&'a dyn crate::Phases>,
}

/// Connections that can serve several databases one after the other: the tenants of a
/// schema-per-tenant set share one server database and differ only in the session's
/// `search_path`. A worker keeps a database's connections (work and lock) after it succeeds
/// and hands them to its next database with the same `key`, after the driver resets the
/// session ([`Driver::reset_session`]) and that database's `setup` runs; so a run over a
/// thousand schemas opens two connections per worker, not two per tenant. A database that
/// failed never passes its connections on, nor does a driver that cannot reset a session.
#[derive(Clone, PartialEq, Eq)]
pub struct Reuse {
    /// Databases with equal keys can use each other's connections (e.g. the tenant set's name).
    pub key: String,
    /// Run on a kept connection, once the driver has reset its session, before it serves this
    /// database: selects this one's schema.
    pub setup: String,
}

impl std::fmt::Debug for Reuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reuse")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl<'a> DbTarget<'a> {
    /// A target with the default store, every branch and per-migration transactions.
    pub fn new(
        name: impl Into<String>,
        graph: &'a Graph,
        bodies: &'a dyn Bodies,
        url: impl Into<String>,
        open: Opener,
    ) -> Self {
        let d = RunOptions::default();
        DbTarget {
            name: name.into(),
            graph,
            bodies,
            url: url.into(),
            open,
            version_table: d.version_table,
            schema: d.schema,
            branches: d.branches,
            transaction: d.transaction,
            lock_timeout: d.lock_timeout,
            ddl_lock: d.ddl_lock,
            server: None,
            shared: None,
            reuse: None,
            phases: None,
        }
    }

    fn options(&self) -> RunOptions {
        RunOptions {
            version_table: self.version_table.clone(),
            schema: self.schema.clone(),
            transaction: self.transaction,
            lock_timeout: self.lock_timeout,
            branches: self.branches.clone(),
            ddl_lock: self.ddl_lock,
        }
    }
}

impl std::fmt::Debug for DbTarget<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbTarget")
            .field("name", &self.name)
            .field("url", &redact_url(&self.url))
            .field("version_table", &self.version_table)
            .field("schema", &self.schema)
            .field("branches", &self.branches)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// What to do on every database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    Upgrade {
        target: String,
        /// Only this deploy phase's part of the plan ([`Runner::with_phase`]); `None` for all.
        phase: Option<braid_graph::Phase>,
    },
    Downgrade {
        target: String,
    },
    Stamp {
        targets: Vec<String>,
        purge: bool,
    },
    /// The applied heads and every version-store row.
    Current,
    /// What `check` needs: pending, edited and unknown revisions.
    Status,
    /// Store the current checksum of an applied revision whose file was edited on purpose.
    Accept {
        revision: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DbStatus {
    Ok,
    Error,
    Skipped,
}

/// One database's outcome: the CLI's JSON contract
/// (`{"name","status","current","applied":[{"revision","direction","ms"}],"error"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DbResult {
    pub name: String,
    pub status: DbStatus,
    /// Applied heads before the run (empty when unknown).
    pub from: Vec<String>,
    /// Applied heads after the run (empty when unknown, e.g. the database could not be opened).
    pub current: Vec<String>,
    /// Steps applied (and kept) on this database.
    pub applied: Vec<AppliedStep>,
    /// Wall time spent on this database, connecting included.
    pub ms: u64,
    pub error: Option<String>,
    /// What kind of failure `error` is (`"kind"` in JSON), for exit codes and scripts.
    #[serde(rename = "kind", skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<crate::FailureKind>,
    /// Things worth knowing that are not errors (e.g. `--transaction all` fell back).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// `upgrade --phase`: the revisions left for the other phase's step.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_for_later: Vec<crate::LeftForLater>,
    /// `current`: every version-store row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<crate::AppliedRow>>,
    /// `check`: what is pending, edited or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check: Option<crate::StatusReport>,
    /// `accept`: the checksum change recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accepted: Option<crate::AcceptReport>,
}

impl DbResult {
    /// A database that could not be run at all (e.g. its migration set does not load).
    pub fn failed(
        name: impl Into<String>,
        error: impl Into<String>,
        kind: crate::FailureKind,
    ) -> Self {
        DbResult {
            error: Some(error.into()),
            error_kind: Some(kind),
            ..DbResult::empty(name.into(), DbStatus::Error)
        }
    }

    /// A database the run did not start, and why.
    pub fn skipped(name: impl Into<String>, reason: impl Into<String>) -> Self {
        DbResult {
            error: Some(reason.into()),
            ..DbResult::empty(name.into(), DbStatus::Skipped)
        }
    }

    fn empty(name: String, status: DbStatus) -> Self {
        DbResult {
            name,
            status,
            from: Vec::new(),
            current: Vec::new(),
            applied: Vec::new(),
            ms: 0,
            error: None,
            error_kind: None,
            notes: Vec::new(),
            left_for_later: Vec::new(),
            rows: None,
            check: None,
            accepted: None,
        }
    }
}

/// How a multi-database run is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Databases at once.
    pub jobs: usize,
    /// Stop starting databases once this many have failed; `None` = never stop.
    pub max_failures: Option<usize>,
    /// Connections to one server at once; `None` = only `jobs` bounds them.
    pub max_connections: Option<usize>,
}

impl Limits {
    /// `jobs` at a time, no other bound.
    pub fn jobs(jobs: usize) -> Self {
        Limits {
            jobs,
            max_failures: None,
            max_connections: None,
        }
    }
}

/// The connections a database being migrated holds on its server: the work connection and
/// the lock connection (both server drivers keep the migration lock on a connection of its own).
pub const CONNECTIONS_PER_DATABASE: usize = 2;

/// Connections taken per server, bounded by [`Limits::max_connections`]: a worker takes its
/// database's before opening it and gives them back once the driver is closed, so a server is
/// never sent more than the bound — whatever `jobs` is.
struct Slots {
    limit: Option<usize>,
    taken: Mutex<HashMap<String, usize>>,
    freed: Condvar,
}

impl Slots {
    /// Waits until `server` has room for one more database (a lone database always has room,
    /// so a bound below [`CONNECTIONS_PER_DATABASE`] still makes progress).
    fn take<'s>(&'s self, server: Option<&str>) -> Option<SlotGuard<'s>> {
        let (limit, server) = (self.limit?, server?);
        let mut taken = self.taken.lock().ok()?;
        while taken
            .get(server)
            .is_some_and(|&n| n > 0 && n + CONNECTIONS_PER_DATABASE > limit)
        {
            taken = self.freed.wait(taken).ok()?;
        }
        *taken.entry(server.to_string()).or_default() += CONNECTIONS_PER_DATABASE;
        Some(SlotGuard {
            slots: self,
            server: server.to_string(),
        })
    }
}

struct SlotGuard<'s> {
    slots: &'s Slots,
    server: String,
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        if let Ok(mut taken) = self.slots.taken.lock()
            && let Some(n) = taken.get_mut(&self.server)
        {
            *n = n.saturating_sub(CONNECTIONS_PER_DATABASE);
        }
        self.slots.freed.notify_all();
    }
}

/// A worker's open connections, kept for its next database, with the server slots they hold.
struct Kept<'s> {
    key: String,
    driver: Box<dyn Driver>,
    slot: Option<SlotGuard<'s>>,
}

/// Runs `op` on every database within `limits`, and blocks until all are done. Results come
/// back in input order. The databases run on [`crate::on_workers`]'s threads; once
/// `limits.max_failures` have failed, a database taken after is skipped. After each database,
/// [`Event::DatabaseDone`] says how it ended (progress over many databases).
pub fn run_all(
    databases: Vec<DbTarget<'_>>,
    limits: &Limits,
    op: &Operation,
    events: EventSink<'_>,
) -> Vec<DbResult> {
    let names: Vec<String> = databases.iter().map(|db| db.name.clone()).collect();
    run_each(databases, names, Ok, limits, op, events)
}

/// [`run_all`] over items that become databases only when a worker takes them (`target`), so
/// a run over ten thousand tenants holds ten thousand small items, not ten thousand open
/// targets; an item that cannot become one (its migration set does not load) is its result.
/// `names` are the items' database names, in order.
pub fn run_each<'a, T: Send>(
    items: Vec<T>,
    names: Vec<String>,
    target: impl Fn(T) -> Result<DbTarget<'a>, Box<DbResult>> + Sync,
    limits: &Limits,
    op: &Operation,
    events: EventSink<'_>,
) -> Vec<DbResult> {
    events(&Event::RunStarted {
        databases: names.len(),
    });
    let failures = AtomicUsize::new(0);
    let slots = Slots {
        limit: limits.max_connections,
        taken: Mutex::new(HashMap::new()),
        freed: Condvar::new(),
    };
    let stop = |failures: &AtomicUsize| {
        limits
            .max_failures
            .is_some_and(|max| failures.load(Ordering::SeqCst) >= max)
    };
    // The connections each worker keeps for its next database, by worker thread.
    let kept: Mutex<HashMap<std::thread::ThreadId, Kept<'_>>> = Mutex::new(HashMap::new());
    let take_kept = || {
        kept.lock()
            .ok()
            .and_then(|mut k| k.remove(&std::thread::current().id()))
    };
    let close = |worker: &Worker, kept: Option<Kept<'_>>| {
        if let Some(kept) = kept {
            // A failure to close changes nothing that happened; the slot frees after it.
            let _ = worker.block_on(kept.driver.close());
        }
    };
    let run_target = |db: DbTarget<'a>, worker: &Worker| {
        let name = db.name.clone();
        let reuse_key = db.reuse.as_ref().map(|r| r.key.clone());
        let (driver, slot) = match take_kept() {
            Some(k) if reuse_key.as_ref() == Some(&k.key) => (Some(k.driver), k.slot),
            other => {
                close(worker, other);
                (None, slots.take(db.server.as_deref()))
            }
        };
        // A panic in a driver fails its database, not the whole run.
        let (result, driver) = worker
            .block_on(run_one(db, driver, op, events))
            .unwrap_or_else(|panic| (panicked(name, &panic), None));
        match (driver, reuse_key) {
            (Some(driver), Some(key)) => {
                let keep = Kept { key, driver, slot };
                if let Ok(mut k) = kept.lock() {
                    k.insert(std::thread::current().id(), keep);
                }
            }
            (driver, _) => {
                if let Some(driver) = driver {
                    let _ = worker.block_on(driver.close());
                }
                drop(slot);
            }
        }
        if result.status == DbStatus::Error {
            failures.fetch_add(1, Ordering::SeqCst);
        }
        result
    };
    let work = |item: T, worker: &Worker| {
        let result = match target(item) {
            Err(result) => *result,
            Ok(db) if stop(&failures) => {
                close(worker, take_kept());
                skipped(db.name)
            }
            Ok(db) => run_target(db, worker),
        };
        events(&Event::DatabaseDone {
            database: result.name.clone(),
            status: result.status,
        });
        result
    };
    let results = on_workers_then(items, limits.jobs, work, |worker| {
        close(worker, take_kept())
    });
    results
        .into_iter()
        .zip(names)
        .map(|(result, name)| {
            result.unwrap_or_else(|e| match e {
                WorkerError::Panicked(panic) => panicked(name, &panic),
                WorkerError::Runtime(_) => DbResult {
                    error: Some(e.to_string()),
                    ..DbResult::empty(name, DbStatus::Error)
                },
            })
        })
        .collect()
}

fn panicked(name: String, panic: &Panicked) -> DbResult {
    DbResult {
        error: Some(format!(
            "database `{name}`: internal error (a panic in the driver or a migration): {}",
            panic.message
        )),
        ..DbResult::empty(name, DbStatus::Error)
    }
}

fn skipped(name: String) -> DbResult {
    DbResult::skipped(
        name,
        "not started: the run stopped after too many failures (--fail-fast, --max-failures)",
    )
}

/// A report for the operations that change nothing.
fn unchanged(database: String, heads: Vec<String>) -> crate::RunReport {
    crate::RunReport {
        database,
        from: heads.clone(),
        to: heads,
        steps: Vec::new(),
        duration_ms: 0,
        notes: Vec::new(),
        left_for_later: Vec::new(),
    }
}

fn error_result(
    name: String,
    current: Vec<String>,
    applied: Vec<AppliedStep>,
    e: &RunError,
) -> DbResult {
    DbResult {
        current,
        applied,
        error: Some(e.to_string()),
        error_kind: Some(e.kind()),
        ..DbResult::empty(name, DbStatus::Error)
    }
}

/// Opens `db`'s connection, or readies `kept` for it (its [`Reuse::setup`]); a kept connection
/// that cannot be readied is closed and a new one opened.
async fn connect(
    db: DbTarget<'_>,
    kept: Option<Box<dyn Driver>>,
) -> Result<Box<dyn Driver>, DriverError> {
    if let (Some(mut driver), Some(reuse)) = (kept, &db.reuse) {
        let ready = match driver.reset_session().await {
            Ok(true) => driver.execute_script(&reuse.setup).await.is_ok(),
            _ => false,
        };
        if ready {
            return Ok(driver);
        }
        let _ = driver.close().await;
    }
    (db.open)().await
}

/// Runs `op` on `db` (on `kept`'s connection when given) and returns how it went, with the
/// connection when it may serve another database: the run succeeded and `db` allows reuse.
async fn run_one(
    db: DbTarget<'_>,
    kept: Option<Box<dyn Driver>>,
    op: &Operation,
    events: EventSink<'_>,
) -> (DbResult, Option<Box<dyn Driver>>) {
    let started = std::time::Instant::now();
    let options = db.options();
    let graph = db.graph;
    let phases: &dyn crate::Phases = db.phases.unwrap_or(&crate::Declared);
    let runner = match Runner::new(db.name.clone(), graph, options) {
        Ok(r) => match op {
            Operation::Upgrade {
                phase: Some(phase), ..
            } => r.with_phase(*phase, phases),
            _ => r,
        }
        .with_bodies(db.bodies)
        .with_shared(db.shared),
        Err(e) => {
            if let Some(driver) = kept {
                let _ = driver.close().await;
            }
            return (error_result(db.name, Vec::new(), Vec::new(), &e), None);
        }
    };
    let (name, url, reusable) = (db.name.clone(), db.url.clone(), db.reuse.is_some());
    let mut driver = match connect(db, kept).await {
        Ok(d) => d,
        Err(source) => {
            let e = RunError::Open {
                database: name.clone(),
                url: redact_url(&url),
                source: Box::new(source),
            };
            return (error_result(name, Vec::new(), Vec::new(), &e), None);
        }
    };
    let db = Named { name };
    let mut result = DbResult::empty(db.name.clone(), DbStatus::Ok);
    // Notices (waiting for the lock, a fallback) go to the caller as they happen and into the
    // result's notes, so a report read later (JSON) says them too.
    let notices: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let sink = |event: &Event| {
        if let Event::Notice { message, .. } = event
            && let Ok(mut notices) = notices.lock()
        {
            notices.push(message.clone());
        }
        events(event);
    };
    let events: EventSink<'_> = &sink;
    let outcome = match op {
        Operation::Upgrade { target, .. } => runner.upgrade(driver.as_mut(), target, events).await,
        Operation::Downgrade { target } => runner.downgrade(driver.as_mut(), target, events).await,
        Operation::Stamp { targets, purge } => {
            let t: Vec<&str> = targets.iter().map(String::as_str).collect();
            runner.stamp(driver.as_mut(), &t, *purge, events).await
        }
        Operation::Current => runner.current(driver.as_mut()).await.map(|c| {
            result.rows = Some(c.rows);
            unchanged(c.database, c.heads)
        }),
        Operation::Status => match runner.status(driver.as_mut()).await {
            Ok(status) => match runner.current(driver.as_mut()).await {
                Ok(c) => {
                    result.check = Some(status);
                    Ok(unchanged(c.database, c.heads))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
        Operation::Accept { revision } => match runner.accept(driver.as_mut(), revision).await {
            Ok(accepted) => match runner.current(driver.as_mut()).await {
                Ok(c) => {
                    result.accepted = Some(accepted);
                    Ok(unchanged(c.database, c.heads))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        },
    };
    let result = match outcome {
        Ok(report) => DbResult {
            from: report.from,
            current: report.to,
            applied: report.steps,
            notes: report.notes,
            left_for_later: report.left_for_later,
            ms: started.elapsed().as_millis() as u64,
            ..result
        },
        Err(e) => {
            // What is applied now, so the user sees where the database stopped; and where it
            // started: now, minus what this run applied, plus what it undid.
            let (current, from) = match runner.current(driver.as_mut()).await {
                Ok(c) => {
                    let mut before: braid_graph::Applied = c
                        .rows
                        .iter()
                        .filter(|r| r.partial.is_none())
                        .map(|r| r.revision.clone())
                        .collect();
                    for step in e.kept_steps() {
                        match step.direction {
                            crate::StepDirection::Up => before.remove(&step.revision),
                            crate::StepDirection::Down => before.insert(step.revision.clone()),
                        };
                    }
                    let from = graph
                        .applied_heads(&before)
                        .into_iter()
                        .map(|r| r.id.clone())
                        .collect();
                    (c.heads, from)
                }
                Err(_) => (Vec::new(), Vec::new()),
            };
            DbResult {
                from,
                ms: started.elapsed().as_millis() as u64,
                ..error_result(db.name, current, e.kept_steps().to_vec(), &e)
            }
        }
    };
    let mut result = result;
    for notice in notices.into_inner().unwrap_or_default() {
        if !result.notes.contains(&notice) {
            result.notes.push(notice);
        }
    }
    if reusable && result.status == DbStatus::Ok {
        return (result, Some(driver));
    }
    // A failure to close does not change what happened to the database.
    let _ = driver.close().await;
    (result, None)
}

/// What `run_one` still needs of its target once the target's opener is spent.
struct Named {
    name: String,
}
