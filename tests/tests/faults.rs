//! Every failure branch of the runner, driven by [`FaultDriver`]: one call fails at exactly the
//! wrong moment, and each test checks both what the runner *says* (the error, its kind, what it
//! lists as kept or rolled back, the events) and what the database really *is* (version rows and
//! tables, read back over a fresh connection).
//!
//! SQLite runs every case (fast); the cases whose outcome depends on transactions also run on
//! Postgres (transactional DDL) and MariaDB/MySQL (no transactional DDL: every migration runs
//! statement by statement with its progress in the version row).
//!
//! Faults are aimed with [`Fault::after`] ("the first COMMIT after `b`'s body") rather than by
//! counting the runner's bookkeeping calls, which change whenever the runner does.

use std::sync::Mutex;

use braid_driver::{Dialect, Driver, ErrorKind, Value};
use braid_graph::Graph;
use braid_runner::{
    AppliedStep, Event, FailureKind, RunError, RunOptions, RunReport, Runner, StepFailure,
    TransactionMode,
};
use braid_tests::TestDb;
use braid_tests::faults::{Action, CallKind, Fault, FaultDriver, FaultHandle};

/// The database's name in the runner's messages.
const DB: &str = "app";

// ---------------------------------------------------------------------------------------------
// Fixtures: a migrations directory on disk, loaded as the CLI loads it.

/// A migrations directory in a temp dir: `migrations/<id>/{revision.toml,up.sql,down.sql}`.
struct Migrations {
    dir: tempfile::TempDir,
    count: usize,
}

impl Migrations {
    fn new() -> Self {
        Migrations {
            dir: tempfile::tempdir().expect("temp dir"),
            count: 0,
        }
    }

    /// A revision whose up script creates each of `tables` (`mig_<name>`) and may end with
    /// `extra` (e.g. a failing statement); its down script drops them.
    fn rev(
        &mut self,
        id: &str,
        parents: &[&str],
        tables: &[&str],
        extra: &str,
        transactional: bool,
    ) -> &mut Self {
        self.count += 1;
        let dir = self.dir.path().join("migrations").join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let parents: Vec<String> = parents.iter().map(|p| format!("\"{p}\"")).collect();
        let toml = format!(
            "id = \"{id}\"\nparents = [{}]\nmessage = \"{id}\"\ncreated = 2026-01-01T00:00:{:02}Z\ntransaction = {transactional}\n",
            parents.join(", "),
            self.count
        );
        std::fs::write(dir.join("revision.toml"), toml).unwrap();
        let mut up: String = tables.iter().map(|t| format!("{}\n", create(t))).collect();
        up.push_str(extra);
        let down: String = tables
            .iter()
            .rev()
            .map(|t| format!("DROP TABLE mig_{t};\n"))
            .collect();
        std::fs::write(dir.join("up.sql"), up).unwrap();
        std::fs::write(dir.join("down.sql"), down).unwrap();
        self
    }

    /// A one-table revision `id` creating `mig_<id>`.
    fn table(&mut self, id: &str, parents: &[&str]) -> &mut Self {
        self.rev(id, parents, &[id], "", true)
    }

    fn graph(&self) -> Graph {
        braid_source::load(&self.dir.path().join("migrations")).expect("load the migrations")
    }
}

/// The statement creating table `mig_<t>`; also the substring faults aim at.
fn create(t: &str) -> String {
    format!("CREATE TABLE mig_{t} (id INTEGER PRIMARY KEY);")
}

/// The prefix of that statement, unique to it (`mig_b (` does not match `mig_b1 (`).
fn body(t: &str) -> String {
    format!("CREATE TABLE mig_{t} (")
}

/// A statement that fails on every backend.
const FAILING: &str = "INSERT INTO mig_missing (id) VALUES (1);\n";

/// a → b → c, one table each.
fn chain() -> Migrations {
    let mut m = Migrations::new();
    m.table("a", &[]).table("b", &["a"]).table("c", &["b"]);
    m
}

// ---------------------------------------------------------------------------------------------
// Running and reading back.

/// A run in progress: the test database and a [`FaultDriver`] over a connection of its own.
struct Setup {
    db: TestDb,
    driver: FaultDriver,
    faults: FaultHandle,
    /// Runs as on a database thrown away afterwards ([`Runner::throwaway`]).
    throwaway: bool,
}

/// A write to the version table itself (not its `_log` or `_meta` companions): the version row,
/// a progress update. Aimed by substring so that it survives how the runner renders it.
fn version_write() -> Fault {
    Fault::on(CallKind::Execute)
        .containing("braid_version")
        .excluding("braid_version_log")
        .excluding("braid_version_meta")
}

/// The audit entry's insert into `<table>_log`.
fn log_write() -> Fault {
    Fault::on(CallKind::Execute)
        .containing("INSERT")
        .containing("braid_version_log")
}

/// What a run answered and the events it sent, each with the number of calls the driver had
/// seen when it was sent (to tell what had happened on the database by then).
struct Outcome {
    result: Result<RunReport, RunError>,
    events: Vec<(Event, usize)>,
}

impl Outcome {
    fn failure(&self) -> &StepFailure {
        match &self.result {
            Err(RunError::Step(f)) => f,
            other => panic!("expected a failed step, got {other:#?}"),
        }
    }

    fn error(&self) -> &RunError {
        match &self.result {
            Err(e) => e,
            Ok(r) => panic!("expected the run to fail, it succeeded: {r:#?}"),
        }
    }

    fn report(&self) -> &RunReport {
        match &self.result {
            Ok(r) => r,
            Err(e) => panic!("expected the run to succeed, it failed: {e}\n{e:#?}"),
        }
    }

    /// Revisions of the StepFinished events, in order.
    fn finished(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(e, _)| match e {
                Event::StepFinished { revision, .. } => Some(revision.clone()),
                _ => None,
            })
            .collect()
    }
}

impl Setup {
    async fn new(db: TestDb) -> Self {
        let (driver, faults) = FaultDriver::new(db.connect().await);
        Setup {
            db,
            driver,
            faults,
            throwaway: false,
        }
    }

    /// The lock key the run took (it depends on the backend: a schema, a database name).
    fn lock_key(&self) -> String {
        self.faults
            .calls()
            .into_iter()
            .find(|c| c.kind == CallKind::Lock)
            .expect("the run took the lock")
            .sql
    }

    fn add(&self, fault: Fault) {
        self.faults.add(fault);
    }

    async fn upgrade(&mut self, graph: &Graph, mode: TransactionMode) -> Outcome {
        let options = RunOptions {
            transaction: mode,
            lock_timeout: std::time::Duration::from_secs(10),
            ..RunOptions::default()
        };
        let mut runner = Runner::new(DB, graph, options).expect("runner");
        if self.throwaway {
            runner = runner.throwaway();
        }
        let events = Mutex::new(Vec::new());
        let faults = self.faults.clone();
        let sink = |e: &Event| {
            let seen = faults.calls().len();
            events.lock().unwrap().push((e.clone(), seen));
        };
        let result = runner.upgrade(&mut self.driver, "heads", &sink).await;
        let unfired = self.faults.unfired();
        assert!(
            unfired.is_empty(),
            "[{}] planned faults never fired (the test proves nothing): {unfired:#?}\nresult: {result:#?}",
            self.db.target
        );
        Outcome {
            result,
            events: events.into_inner().unwrap(),
        }
    }

    /// The database as it really is, over a fresh connection.
    async fn state(&self) -> State {
        let mut c = self.db.connect().await;
        let state = State::read(c.as_mut(), self.db.dialect).await;
        c.close().await.expect("close the read-back connection");
        state
    }

    /// Bodies (`CREATE TABLE mig_…`) that reached the database at or after call `from`.
    fn bodies_since(&self, from: usize) -> Vec<String> {
        self.faults
            .reached_since(from, CallKind::ExecuteScript, "CREATE TABLE mig_")
            .into_iter()
            .map(|c| c.sql)
            .collect()
    }

    /// Closes the fault driver (its inner connection whatever the plan did) and drops the
    /// database.
    async fn finish(self) {
        // A lost connection answers its close with an error; the inner one is closed anyway.
        let _ = Box::new(self.driver).close().await;
        self.db.teardown().await;
    }
}

/// Version rows (revision, statements_done) and the `mig_*` tables, sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    rows: Vec<(String, Option<i64>)>,
    tables: Vec<String>,
}

impl State {
    async fn read(c: &mut dyn Driver, dialect: Dialect) -> State {
        let rows = c
            .query(
                "SELECT revision, statements_done FROM braid_version ORDER BY revision",
                &[],
            )
            .await
            .expect("read the version table");
        let rows = rows
            .rows
            .into_iter()
            .map(|r| (text(&r[0]), int(&r[1])))
            .collect();
        let list = match dialect {
            Dialect::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
            Dialect::Postgres => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            }
            Dialect::Mysql => {
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            }
        };
        let mut tables: Vec<String> = c
            .query(list, &[])
            .await
            .expect("list tables")
            .rows
            .into_iter()
            .map(|r| text(&r[0]))
            .filter(|t| t.starts_with("mig_"))
            .collect();
        tables.sort();
        State { rows, tables }
    }

    /// Applied revisions (complete rows), sorted.
    fn applied(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter(|(_, done)| done.is_none())
            .map(|(r, _)| r.as_str())
            .collect()
    }

    /// The recorded progress of `rev`: `None` without a row, `Some(None)` for a complete one.
    fn progress(&self, rev: &str) -> Option<Option<i64>> {
        self.rows.iter().find(|(r, _)| r == rev).map(|(_, d)| *d)
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        other => panic!("expected text, got {other:?}"),
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Null => None,
        Value::Int(i) => Some(*i),
        Value::Text(s) => Some(s.trim().parse().expect("an integer")),
        Value::Bytes(b) => Some(
            String::from_utf8_lossy(b)
                .trim()
                .parse()
                .expect("an integer"),
        ),
        Value::Float(f) => Some(*f as i64),
    }
}

fn ids(steps: &[AppliedStep]) -> Vec<&str> {
    steps.iter().map(|s| s.revision.as_str()).collect()
}

fn mig(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("mig_{n}")).collect()
}

/// One `#[tokio::test]` per backend for a case `async fn case(db: TestDb)`, in a module named
/// after the case: `begin_fails::sqlite`, `begin_fails::postgres`, …
macro_rules! on {
    ($case:ident: $($backend:ident),+ $(,)?) => {
        mod $case {
            $(
                #[tokio::test]
                async fn $backend() {
                    if let Some(db) = braid_tests::fresh_or_skip::<target!($backend)>().await {
                        super::$case(db).await;
                    }
                }
            )+
        }
    };
}

macro_rules! target {
    (sqlite) => {
        braid_tests::SqliteTarget
    };
    (postgres) => {
        braid_tests::PostgresTarget
    };
    (mysql) => {
        braid_tests::MysqlTarget
    };
}

fn transactional(db: &TestDb) -> bool {
    db.dialect.transactional_ddl()
}

// ---------------------------------------------------------------------------------------------
// BEGIN fails.

on!(begin_fails: sqlite, postgres);

/// b's BEGIN is refused: nothing of b runs, a stays applied and is listed as kept.
async fn begin_fails(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        Fault::on(CallKind::Begin)
            .after(CallKind::ExecuteScript, body("a"))
            .then(Action::error(
                ErrorKind::Sql,
                "injected: cannot start a transaction",
            )),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let f = out.failure();
    assert_eq!(f.revision, "b", "{f}");
    assert_eq!(f.kind(), FailureKind::Migration, "{f}");
    assert_eq!(ids(&f.kept), ["a"], "{f}");
    assert!(f.rolled_back.is_empty(), "{f}");
    assert!(f.commit_lost.is_none(), "{f}");
    assert_eq!(out.error().kind(), FailureKind::Migration);
    assert!(
        s.faults.count(CallKind::ExecuteScript, &body("b")) == 0,
        "b's body must not run without its transaction"
    );
    assert_eq!(out.finished(), ["a"]);
    let state = s.state().await;
    assert_eq!(state.applied(), ["a"]);
    assert_eq!(state.tables, mig(&["a"]));
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// The body fails.

on!(body_fails: sqlite, postgres, mysql);

/// b's second statement fails. Transactional backends roll b back; MySQL keeps its first
/// statement and records it as progress (kind Partial).
async fn body_fails(db: TestDb) {
    let mut m = Migrations::new();
    m.table("a", &[])
        .rev("b", &["a"], &["b"], FAILING, true)
        .table("c", &["b"]);
    let g = m.graph();
    let tx = transactional(&db);
    let mut s = Setup::new(db).await;
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let f = out.failure();
    let text = f.to_string();
    assert_eq!(f.revision, "b", "{text}");
    assert_eq!(ids(&f.kept), ["a"], "{text}");
    assert!(f.commit_lost.is_none(), "{text}");
    assert!(
        text.contains("mig_missing"),
        "names the failing statement: {text}"
    );
    assert_eq!(s.faults.count(CallKind::ExecuteScript, &body("c")), 0);
    let state = s.state().await;
    if tx {
        assert!(f.transactional, "{text}");
        assert_eq!(f.kind(), FailureKind::Migration, "{text}");
        assert!(text.contains("rolled back"), "{text}");
        assert_eq!(state.applied(), ["a"]);
        assert_eq!(state.progress("b"), None);
        assert_eq!(state.tables, mig(&["a"]));
    } else {
        assert!(!f.transactional, "{text}");
        assert_eq!(f.statements_done, Some(1), "{text}");
        assert_eq!(f.statement_index, Some(2), "{text}");
        assert_eq!(f.kind(), FailureKind::Partial, "{text}");
        assert!(!text.contains("rolled back."), "{text}");
        assert_eq!(state.applied(), ["a"]);
        assert_eq!(state.progress("b"), Some(Some(1)), "{state:?}");
        assert_eq!(state.tables, mig(&["a", "b"]));
    }
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// A database thrown away afterwards records no statement progress.

/// Writes to the version table itself (rows and progress) from the first migration statement
/// on (the store's own `CREATE TABLE` comes before).
fn version_writes(s: &Setup) -> usize {
    let calls = s.faults.calls();
    let first = calls
        .iter()
        .position(|c| c.kind == CallKind::ExecuteScript && c.sql.contains("CREATE TABLE mig_"))
        .expect("a migration statement ran");
    calls[first..]
        .iter()
        .filter(|c| c.kind == CallKind::Execute && is_version_write(&c.sql))
        .count()
}

/// A write to the version table itself, not its `_log` or `_meta` companions (reads are
/// queries, not executions).
fn is_version_write(sql: &str) -> bool {
    sql.contains("braid_version")
        && !sql.contains("braid_version_log")
        && !sql.contains("braid_version_meta")
}

on!(throwaway_writes_only_the_row: sqlite, postgres, mysql);

/// A migration run statement by statement (`transaction = false`) writes its version row once,
/// after its statements, on a throwaway database: a kept one marks each DDL statement first
/// (three writes here). Its last statement, a data statement, commits with the row. Its
/// downgrade removes the row.
async fn throwaway_writes_only_the_row(db: TestDb) {
    let mut m = Migrations::new();
    m.rev(
        "a",
        &[],
        &["a1", "a2"],
        "INSERT INTO mig_a1 (id) VALUES (1);\n",
        false,
    );
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.throwaway = true;
    s.upgrade(&g, TransactionMode::PerMigration).await.report();
    assert_eq!(
        version_writes(&s),
        1,
        "[{}] only the version row",
        s.db.target
    );
    let state = s.state().await;
    assert_eq!(state.applied(), ["a"]);
    assert_eq!(state.tables, mig(&["a1", "a2"]));
    let runner = Runner::new(DB, &g, RunOptions::default())
        .expect("runner")
        .throwaway();
    let before = s.faults.calls().len();
    let down = runner.downgrade(&mut s.driver, "base", &|_| {}).await;
    down.expect("the downgrade");
    let writes = s.faults.calls()[before..]
        .iter()
        .filter(|c| c.kind == CallKind::Execute && is_version_write(&c.sql))
        .count();
    assert_eq!(writes, 1, "[{}] only the row's removal", s.db.target);
    let state = s.state().await;
    assert!(state.rows.is_empty(), "[{}] {state:?}", s.db.target);
    assert!(state.tables.is_empty(), "[{}] {state:?}", s.db.target);
    s.finish().await;
}

/// Upgrades a throwaway database through one revision run statement by statement: it creates
/// `mig_a`, then runs `extra`.
async fn throwaway_upgrade(db: TestDb, extra: &str) -> (Setup, Outcome) {
    let mut m = Migrations::new();
    m.rev("a", &[], &["a"], extra, false);
    let mut s = Setup::new(db).await;
    s.throwaway = true;
    let out = s.upgrade(&m.graph(), TransactionMode::PerMigration).await;
    (s, out)
}

on!(throwaway_failure_names_the_statement: sqlite, postgres, mysql);

/// On a throwaway database a failing statement is still reported by its number, and leaves no
/// version row (there was no mark to take back).
async fn throwaway_failure_names_the_statement(db: TestDb) {
    let (s, out) = throwaway_upgrade(db, FAILING).await;
    let f = out.failure();
    let text = f.to_string();
    assert_eq!(f.statement_index, Some(2), "{text}");
    assert_eq!(f.statements_done, Some(1), "{text}");
    assert!(text.contains("mig_missing"), "{text}");
    let state = s.state().await;
    assert_eq!(state.progress("a"), None, "{state:?}");
    assert_eq!(state.tables, mig(&["a"]));
    s.finish().await;
}

on!(throwaway_keeps_the_marks_of_a_script_with_its_own_transactions: sqlite, postgres, mysql);

/// A script that opens its own transactions keeps its marks on a throwaway database: when a
/// statement fails, what the script committed is read back from them (four statements here;
/// without the marks, none would be reported).
async fn throwaway_keeps_the_marks_of_a_script_with_its_own_transactions(db: TestDb) {
    let script = format!("BEGIN;\nINSERT INTO mig_a (id) VALUES (1);\nCOMMIT;\n{FAILING}");
    let (s, out) = throwaway_upgrade(db, &script).await;
    let f = out.failure();
    let text = f.to_string();
    assert_eq!(f.statement_index, Some(5), "[{}] {text}", s.db.target);
    assert_eq!(f.statements_done, Some(4), "[{}] {text}", s.db.target);
    s.finish().await;
}

on!(a_script_that_leaves_a_transaction_open_is_not_recorded: sqlite, postgres, mysql);

/// A script run statement by statement that leaves a transaction open at its end fails instead
/// of being recorded as applied: the version row would go into that transaction and be lost
/// with the connection, leaving a revision reported applied and recorded as never finished.
/// What was pending is rolled back.
async fn a_script_that_leaves_a_transaction_open_is_not_recorded(db: TestDb) {
    let mut m = Migrations::new();
    let open = "BEGIN;\nINSERT INTO mig_a (id) VALUES (1);\n";
    m.rev("a", &[], &["a"], open, false);
    let mut s = Setup::new(db).await;
    let out = s.upgrade(&m.graph(), TransactionMode::PerMigration).await;
    let f = out.failure();
    let text = f.to_string();
    assert!(text.contains("uncommitted"), "[{}] {text}", s.db.target);
    assert_eq!(f.kind, FailureKind::Partial, "[{}] {text}", s.db.target);
    let state = s.state().await;
    assert!(state.applied().is_empty(), "[{}] {state:?}", s.db.target);
    assert_eq!(
        rows_of_mig_a(&mut s).await,
        0,
        "[{}] rolled back",
        s.db.target
    );
    s.finish().await;
}

/// How many rows `mig_a` holds, as the run's session sees them.
async fn rows_of_mig_a(s: &mut Setup) -> i64 {
    let rows = s
        .driver
        .query("SELECT COUNT(*) FROM mig_a", &[])
        .await
        .expect("mig_a");
    int(&rows.rows[0][0]).expect("a count")
}

on!(a_script_that_commits_its_own_transaction_is_recorded: sqlite, postgres, mysql);

/// The near miss: a script that opens its own transaction and commits it is asked about and
/// recorded as applied, its row kept.
async fn a_script_that_commits_its_own_transaction_is_recorded(db: TestDb) {
    let mut m = Migrations::new();
    let committed = "BEGIN;\nINSERT INTO mig_a (id) VALUES (1);\nCOMMIT;\n";
    m.rev("a", &[], &["a"], committed, false);
    let mut s = Setup::new(db).await;
    s.upgrade(&m.graph(), TransactionMode::PerMigration)
        .await
        .report();
    let asked = s
        .faults
        .calls()
        .iter()
        .filter(|c| c.kind == CallKind::Uncommitted)
        .count();
    assert_eq!(asked, 1, "[{}] the session is asked once", s.db.target);
    let state = s.state().await;
    assert_eq!(state.applied(), ["a"], "[{}] {state:?}", s.db.target);
    assert_eq!(rows_of_mig_a(&mut s).await, 1, "[{}]", s.db.target);
    s.finish().await;
}

on!(autocommit_switched_off_is_switched_on_again: mysql);

/// A MySQL script that switches autocommit off would keep every later write of the session
/// pending, the version rows of this migration and the next among them: it is switched on
/// again after the script, and both migrations are recorded.
async fn autocommit_switched_off_is_switched_on_again(db: TestDb) {
    let mut m = Migrations::new();
    m.rev("a", &[], &["a"], "SET autocommit = 0;\n", false)
        .table("b", &["a"]);
    let mut s = Setup::new(db).await;
    s.upgrade(&m.graph(), TransactionMode::PerMigration)
        .await
        .report();
    let state = s.state().await;
    assert_eq!(state.applied(), ["a", "b"], "{state:?}");
    let on = s
        .driver
        .query("SELECT @@autocommit", &[])
        .await
        .expect("autocommit");
    assert_eq!(int(&on.rows[0][0]), Some(1));
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// The version-row write fails inside the transaction.

on!(version_row_write_fails: sqlite, postgres);

async fn version_row_write_fails(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        version_write()
            .after(CallKind::ExecuteScript, body("b"))
            .then(Action::error(ErrorKind::Sql, "injected: disk full")),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let f = out.failure();
    assert_eq!(f.revision, "b", "{f}");
    assert!(f.file.starts_with("version table"), "{f}");
    assert_eq!(f.kind(), FailureKind::Store, "{f}");
    assert!(f.transactional, "{f}");
    assert!(f.to_string().contains("rolled back"), "{f}");
    assert_eq!(ids(&f.kept), ["a"], "{f}");
    let state = s.state().await;
    assert_eq!(state.applied(), ["a"]);
    assert_eq!(
        state.tables,
        mig(&["a"]),
        "b's body was rolled back with its row"
    );
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// COMMIT fails with a server error.

on!(commit_fails_with_server_error: sqlite, postgres);

/// The server answers b's COMMIT with an error (e.g. a serialization failure): b did not take
/// effect and is reported rolled back.
async fn commit_fails_with_server_error(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        Fault::on(CallKind::Commit)
            .after(CallKind::ExecuteScript, body("b"))
            .then(Action::Fail(
                braid_driver::DriverError::new(
                    ErrorKind::Sql,
                    "injected: could not serialize access",
                )
                .with_code("40001"),
            )),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let f = out.failure();
    assert_eq!(f.revision, "b", "{f}");
    assert_eq!(f.kind(), FailureKind::Migration, "{f}");
    assert!(f.commit_lost.is_none(), "{f}");
    assert!(f.transactional, "{f}");
    assert!(f.to_string().contains("rolled back"), "{f}");
    assert_eq!(ids(&f.kept), ["a"], "{f}");
    assert_eq!(s.faults.count(CallKind::ExecuteScript, &body("c")), 0);
    // SQLite keeps a transaction whose COMMIT failed (SQLITE_BUSY) open: "rolled back" is only
    // true once the runner rolls it back.
    let calls = s.faults.calls();
    let failed = calls
        .iter()
        .position(|c| c.kind == CallKind::Commit && c.injected)
        .expect("the failed COMMIT");
    assert!(
        calls[failed..]
            .iter()
            .any(|c| c.kind == CallKind::Rollback && c.reached),
        "a ROLLBACK follows the failed COMMIT"
    );
    let state = s.state().await;
    assert_eq!(state.rows, vec![("a".to_string(), None)]);
    assert_eq!(state.tables, mig(&["a"]));
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// COMMIT's answer lost.

/// b's COMMIT is sent and its answer lost. `reached`: the commit happened before the
/// connection broke. `reconnect`: the connection works again afterwards, so the runner can
/// read the store again and say which; otherwise it cannot know.
async fn commit_answer_lost(db: TestDb, reached: bool, reconnect: bool) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    let action = if reconnect {
        Action::Reconnect { reached }
    } else {
        Action::Disconnect { reached }
    };
    s.add(
        Fault::on(CallKind::Commit)
            .after(CallKind::ExecuteScript, body("b"))
            .then(action),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let f = out.failure();
    let text = f.to_string();
    assert_eq!(f.revision, "b", "{text}");
    let expected = if reconnect { Some(reached) } else { None };
    assert_eq!(f.commit_lost, Some(expected), "{text}");
    assert_eq!(f.kind(), FailureKind::OutcomeUnknown, "{text}");
    assert_eq!(out.error().kind(), FailureKind::OutcomeUnknown);
    assert!(
        !text.contains("rolled back"),
        "a lost COMMIT answer is never reported as rolled back: {text}"
    );
    assert!(text.contains("COMMIT"), "{text}");
    assert_eq!(ids(&f.kept)[..1], ["a"], "{text}");
    assert!(!ids(&f.kept).contains(&"c"), "{text}");
    assert_eq!(
        s.faults.count(CallKind::ExecuteScript, &body("c")),
        0,
        "nothing runs after a lost COMMIT"
    );
    let state = s.state().await;
    if reached {
        assert_eq!(state.applied(), ["a", "b"]);
        assert_eq!(state.tables, mig(&["a", "b"]));
    } else {
        assert_eq!(state.applied(), ["a"]);
        assert_eq!(state.tables, mig(&["a"]));
    }
    s.finish().await;
}

on!(commit_answer_lost_took_effect: sqlite, postgres);
/// Committed, answer lost, store readable again: `commit_lost == Some(Some(true))`.
async fn commit_answer_lost_took_effect(db: TestDb) {
    commit_answer_lost(db, true, true).await;
}

on!(commit_answer_lost_no_effect: sqlite, postgres);
/// Never arrived, store readable again: `commit_lost == Some(Some(false))`.
async fn commit_answer_lost_no_effect(db: TestDb) {
    commit_answer_lost(db, false, true).await;
}

on!(commit_answer_lost_connection_gone_after_commit: sqlite, postgres);
/// Committed, then the connection is gone for good: `commit_lost == Some(None)`.
async fn commit_answer_lost_connection_gone_after_commit(db: TestDb) {
    commit_answer_lost(db, true, false).await;
}

on!(commit_answer_lost_connection_gone_before_commit: sqlite, postgres);
/// Never arrived and the connection is gone for good: `commit_lost == Some(None)`.
async fn commit_answer_lost_connection_gone_before_commit(db: TestDb) {
    commit_answer_lost(db, false, false).await;
}

/// Under `--transaction all` the answer to the one COMMIT is lost: the run's outcome is unknown
/// (kind OutcomeUnknown), never "rolled back", whatever the store says when read again.
async fn single_commit_answer_lost(db: TestDb, reached: bool, reconnect: bool) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    let action = if reconnect {
        Action::Reconnect { reached }
    } else {
        Action::Disconnect { reached }
    };
    s.add(
        Fault::on(CallKind::Commit)
            .after(CallKind::ExecuteScript, body("c"))
            .then(action),
    );
    let out = s.upgrade(&g, TransactionMode::All).await;
    let e = out.error();
    let text = e.to_string();
    assert_eq!(e.kind(), FailureKind::OutcomeUnknown, "{text}");
    assert!(
        !text.contains("rolled back"),
        "a lost COMMIT answer is never reported as rolled back: {text}"
    );
    if let RunError::Step(f) = e {
        let expected = if reconnect { Some(reached) } else { None };
        assert_eq!(f.commit_lost, Some(expected), "{text}");
    }
    let state = s.state().await;
    if reached {
        assert_eq!(state.applied(), ["a", "b", "c"]);
        assert_eq!(state.tables, mig(&["a", "b", "c"]));
    } else {
        assert!(state.rows.is_empty(), "{state:?}");
        assert!(state.tables.is_empty(), "{state:?}");
    }
    s.finish().await;
}

on!(single_commit_answer_lost_took_effect: sqlite, postgres);
async fn single_commit_answer_lost_took_effect(db: TestDb) {
    single_commit_answer_lost(db, true, true).await;
}

on!(single_commit_answer_lost_connection_gone: sqlite, postgres);
async fn single_commit_answer_lost_connection_gone(db: TestDb) {
    single_commit_answer_lost(db, false, false).await;
}

// ---------------------------------------------------------------------------------------------
// A progress write fails after a statement ran outside a transaction.

/// b (`transaction = false`; on MySQL every migration runs this way) has three statements. The
/// first version-table write after statement `after` ran fails (whatever that write is: a
/// progress update, the started mark of the next statement, or — after the last statement —
/// the completed row): the statement ran, the store is one statement behind, and the error
/// says so.
async fn progress_write_fails(db: TestDb, after: usize) {
    let mut m = Migrations::new();
    m.table("a", &[])
        .rev("b", &["a"], &["b1", "b2", "b3"], "", false)
        .table("c", &["b"]);
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        version_write()
            .after(CallKind::ExecuteScript, body(&format!("b{after}")))
            .then(Action::error(ErrorKind::Sql, "injected: lock wait timeout")),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let f = out.failure();
    let text = f.to_string();
    assert_eq!(f.revision, "b", "{text}");
    assert!(!f.transactional, "{text}");
    assert!(
        text.contains("recording it in the version table failed"),
        "says the progress is one statement behind: {text}"
    );
    assert!(
        matches!(f.kind(), FailureKind::Partial | FailureKind::Store),
        "{:?}: {text}",
        f.kind()
    );
    assert!(f.commit_lost.is_none(), "{text}");
    assert!(!text.contains("was rolled back"), "{text}");
    // Statements 1..=after ran: the message must not tell the user fewer did (e.g. "nothing to
    // undo" after a DDL statement ran).
    let understated = std::iter::once("No statement of it had run".to_string()).chain(
        (1..after).map(|k| match k {
            1 => "statement 1 of 3 is applied".to_string(),
            k => format!("statements 1-{k} of 3 are applied"),
        }),
    );
    for claim in understated {
        assert!(
            !text.contains(&claim),
            "the error contradicts itself: {after} statement(s) ran, yet it says {claim:?}: {text}"
        );
    }
    assert_eq!(
        f.statements_done,
        Some(after - 1),
        "recorded progress: {text}"
    );
    assert_eq!(ids(&f.kept), ["a"], "{text}");
    for later in [format!("b{}", after + 1), "c".to_string()] {
        assert_eq!(
            s.faults.count(CallKind::ExecuteScript, &body(&later)),
            0,
            "nothing runs after the failed write"
        );
    }
    let state = s.state().await;
    assert_eq!(state.applied(), ["a"]);
    // What ran stays: statements 1..=after.
    let ran: Vec<String> = (1..=after).map(|i| format!("b{i}")).collect();
    let mut expected = vec!["a".to_string()];
    expected.extend(ran);
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    assert_eq!(state.tables, mig(&expected));
    // And the store is exactly one statement behind (no row at all counts as 0 done).
    let recorded = match state.progress("b") {
        None => 0,
        Some(Some(done)) => done,
        Some(None) => panic!("b is recorded complete: {state:?}"),
    };
    assert_eq!(recorded, after as i64 - 1, "{state:?}");
    s.finish().await;
}

on!(first_progress_write_fails: sqlite, postgres, mysql);
async fn first_progress_write_fails(db: TestDb) {
    progress_write_fails(db, 1).await;
}

on!(later_progress_write_fails: sqlite, postgres, mysql);
async fn later_progress_write_fails(db: TestDb) {
    progress_write_fails(db, 2).await;
}

on!(final_row_write_fails: sqlite, postgres, mysql);
async fn final_row_write_fails(db: TestDb) {
    progress_write_fails(db, 3).await;
}

// ---------------------------------------------------------------------------------------------
// The audit (`_log`) write fails at the end of the run.

on!(audit_log_write_fails_per_migration: sqlite, postgres, mysql);

/// Every migration is committed before the run's audit entry: its failure is a note, not a
/// failed run.
async fn audit_log_write_fails_per_migration(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        log_write()
            .after(CallKind::ExecuteScript, body("c"))
            .then(Action::error(ErrorKind::Sql, "injected: log table full")),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let r = out.report();
    assert_eq!(ids(&r.steps), ["a", "b", "c"]);
    assert!(
        r.notes.iter().any(|n| n.contains("log")),
        "a note about the audit log: {:?}",
        r.notes
    );
    let state = s.state().await;
    assert_eq!(state.applied(), ["a", "b", "c"]);
    assert_eq!(state.tables, mig(&["a", "b", "c"]));
    s.finish().await;
}

on!(audit_log_write_fails_in_single_transaction: sqlite, postgres);

/// Under `--transaction all` the audit entry is part of the one transaction: its failure fails
/// the run and rolls everything back.
async fn audit_log_write_fails_in_single_transaction(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        log_write()
            .after(CallKind::ExecuteScript, body("c"))
            .then(Action::error(ErrorKind::Sql, "injected: log table full")),
    );
    let out = s.upgrade(&g, TransactionMode::All).await;
    let e = out.error();
    assert!(e.kept_steps().is_empty(), "nothing was kept: {e}");
    if let RunError::Step(f) = e {
        assert_eq!(f.rolled_back, ["a", "b", "c"], "{f}");
    }
    assert!(out.finished().is_empty(), "no step was committed");
    let state = s.state().await;
    assert!(state.rows.is_empty(), "{state:?}");
    assert!(state.tables.is_empty(), "{state:?}");
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// unlock fails.

on!(unlock_fails: sqlite, postgres, mysql);

async fn unlock_fails(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(Fault::on(CallKind::Unlock).then(Action::error(
        ErrorKind::Io,
        "injected: could not release the lock",
    )));
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    // Everything was committed under the lock: the run succeeded, and says the release failed.
    assert_eq!(ids(&out.report().steps), ["a", "b", "c"]);
    let key = s.lock_key();
    let notice = out
        .events
        .iter()
        .find_map(|(e, _)| match e {
            Event::Notice { message, .. } if message.contains("releasing") => Some(message),
            _ => None,
        })
        .expect("a notice about the release");
    assert!(notice.contains(&key), "names the lock `{key}`: {notice}");
    assert!(notice.contains("could not release"), "says why: {notice}");
    let state = s.state().await;
    assert_eq!(state.applied(), ["a", "b", "c"], "the steps stay applied");
    assert_eq!(state.tables, mig(&["a", "b", "c"]));
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// The lock is lost.

on!(lock_lost_during_a_stamp: sqlite, postgres, mysql);

/// The lock goes while a stamp writes its rows: the stamp is rolled back and reported as a lost
/// lock, never committed without the lock (another run may be migrating).
async fn lock_lost_during_a_stamp(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(version_write().containing("INSERT").then(Action::LoseLock));
    let runner = Runner::new(DB, &g, RunOptions::default()).expect("runner");
    let result = runner
        .stamp(&mut s.driver, &["heads"], false, &|_: &Event| {})
        .await;
    assert!(s.faults.unfired().is_empty(), "the fault fired");
    let e = result.expect_err("a stamp without the lock fails");
    assert_eq!(e.kind(), FailureKind::LockLost, "{e}");
    let lost = s.faults.lock_lost_at().expect("the lock was lost");
    assert!(
        s.faults
            .reached_since(lost, CallKind::Commit, "")
            .is_empty(),
        "nothing is committed after the loss"
    );
    let state = s.state().await;
    assert!(state.rows.is_empty(), "nothing stamped: {:?}", state.rows);
    s.finish().await;
}

fn lock_lost_parts(e: &RunError) -> (&str, &str, &[AppliedStep]) {
    match e {
        RunError::LockLost {
            database,
            key,
            during,
            kept,
        } => {
            assert_eq!(database, DB);
            (key, during, kept)
        }
        other => panic!("expected RunError::LockLost, got {other:#?}"),
    }
}

on!(lock_lost_before_a_step: sqlite, postgres, mysql);

/// The lock goes right after a's statements ran. Per transaction (SQLite, Postgres): a's COMMIT
/// is the last call, the run notices before b and stops, and a stays kept. On MySQL each write
/// checks the lock itself (`Driver::lock_guard`): the write recording a finds it gone, so a's
/// statement stays recorded as started (the next run finds its effect and settles it) and
/// nothing is kept.
async fn lock_lost_before_a_step(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let tx = transactional(&db);
    let mut s = Setup::new(db).await;
    // a's last call: its COMMIT, or on MySQL (no transaction) its version row.
    let last_of_a = if tx {
        Fault::on(CallKind::Commit)
    } else {
        version_write()
    };
    s.add(
        last_of_a
            .after(CallKind::ExecuteScript, body("a"))
            .then(Action::LoseLock),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let e = out.error();
    assert_eq!(e.kind(), FailureKind::LockLost, "{e}");
    let (key, during, kept) = lock_lost_parts(e);
    assert_eq!(key, s.lock_key());
    if tx {
        assert!(during.contains("`b`"), "noticed before b: {during}");
        assert_eq!(ids(kept), ["a"], "{e}");
    } else {
        assert!(
            during.contains("recording revision `a`"),
            "noticed recording a: {during}"
        );
        assert!(kept.is_empty(), "{e}");
    }
    let lost = s.faults.lock_lost_at().expect("the lock was lost");
    assert_eq!(
        s.bodies_since(lost),
        Vec::<String>::new(),
        "no body runs after the loss"
    );
    assert!(
        s.faults
            .reached_since(lost + 1, CallKind::Commit, "")
            .is_empty(),
        "nothing is committed after the loss"
    );
    let state = s.state().await;
    let a = if tx { None } else { Some(0) };
    assert_eq!(state.rows, vec![("a".to_string(), a)]);
    assert_eq!(state.tables, mig(&["a"]));
    s.finish().await;
}

on!(lock_lost_before_a_commit: sqlite, postgres);

/// The lock goes while b's transaction is open: the run notices before committing b, rolls it
/// back and stops.
async fn lock_lost_before_a_commit(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        version_write()
            .after(CallKind::ExecuteScript, body("b"))
            .then(Action::LoseLock),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let e = out.error();
    assert_eq!(e.kind(), FailureKind::LockLost, "{e}");
    let (key, during, kept) = lock_lost_parts(e);
    assert_eq!(key, s.lock_key());
    assert!(
        during.contains("`b`") && during.contains("commit"),
        "noticed before committing b: {during}"
    );
    assert_eq!(ids(kept), ["a"], "{e}");
    let lost = s.faults.lock_lost_at().expect("the lock was lost");
    assert!(
        s.faults
            .reached_since(lost, CallKind::Commit, "")
            .is_empty(),
        "b is not committed without the lock"
    );
    assert_eq!(s.bodies_since(lost), Vec::<String>::new());
    assert_eq!(out.finished(), ["a"]);
    let state = s.state().await;
    assert_eq!(state.rows, vec![("a".to_string(), None)]);
    assert_eq!(state.tables, mig(&["a"]), "b was rolled back");
    s.finish().await;
}

on!(lock_lost_inside_a_statement_by_statement_migration: sqlite, postgres, mysql);

/// The lock goes after the first statement of b, which runs statement by statement outside a
/// transaction (`transaction = false`; every migration on MySQL). Whatever else of b runs, c
/// must not; and the store must agree with the tables about how much of b ran (give or take
/// the one statement in flight when the loss was noticed).
async fn lock_lost_inside_a_statement_by_statement_migration(db: TestDb) {
    let mut m = Migrations::new();
    m.table("a", &[])
        .rev("b", &["a"], &["b1", "b2", "b3"], "", false)
        .table("c", &["b"]);
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        version_write()
            .after(CallKind::ExecuteScript, body("b1"))
            .then(Action::LoseLock),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let e = out.error();
    assert_eq!(e.kind(), FailureKind::LockLost, "{e}");
    let (key, _, kept) = lock_lost_parts(e);
    assert_eq!(key, s.lock_key());
    assert_eq!(ids(kept)[..1], ["a"], "{e}");
    let lost = s.faults.lock_lost_at().expect("the lock was lost");
    assert!(
        s.bodies_since(lost).iter().all(|b| !b.contains("mig_c")),
        "c does not run after the loss"
    );
    let state = s.state().await;
    assert!(!state.tables.contains(&"mig_c".to_string()), "{state:?}");
    let b_tables = state
        .tables
        .iter()
        .filter(|t| t.starts_with("mig_b"))
        .count() as i64;
    match state.progress("b") {
        // At most one statement ahead of the record: one recorded as started before the loss
        // may have run (the next run settles it by looking for its effect).
        Some(Some(done)) => assert!(
            done <= b_tables && b_tables <= done + 1,
            "the progress is at most one statement behind reality: {state:?}"
        ),
        Some(None) => {
            assert_eq!(b_tables, 3, "{state:?}");
            assert!(ids(kept).contains(&"b"), "a complete b is kept: {e}");
        }
        None => panic!("b's first progress write happened, its row must exist: {state:?}"),
    }
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// The connection is lost mid-step.

on!(connection_lost_mid_step: sqlite, postgres, mysql);

/// The connection drops as b's second statement is sent, and every later call fails: a clear
/// error naming the database and the revision, no panic; the database keeps what it committed.
async fn connection_lost_mid_step(db: TestDb) {
    let mut m = Migrations::new();
    m.table("a", &[])
        .rev("b", &["a"], &["b1", "b2"], "", true)
        .table("c", &["b"]);
    let g = m.graph();
    let tx = transactional(&db);
    let mut s = Setup::new(db).await;
    s.add(
        Fault::on(CallKind::ExecuteScript)
            .containing(body("b2"))
            .then(Action::Disconnect { reached: false }),
    );
    let out = s.upgrade(&g, TransactionMode::PerMigration).await;
    let e = out.error();
    let text = e.to_string();
    assert!(text.contains(&format!("database `{DB}`")), "{text}");
    assert!(text.contains("`b`"), "names the revision: {text}");
    assert_eq!(e.database(), Some(DB));
    assert_eq!(ids(e.kept_steps()), ["a"], "{text}");
    let state = s.state().await;
    assert_eq!(state.applied(), ["a"]);
    if tx {
        assert!(
            !text.contains("took effect"),
            "no COMMIT was sent, nothing to wonder about: {text}"
        );
        assert_eq!(state.progress("b"), None);
        assert_eq!(state.tables, mig(&["a"]));
    } else {
        // MySQL: statement 1 ran and its progress was recorded before the connection dropped.
        assert_eq!(state.progress("b"), Some(Some(1)), "{state:?}");
        assert_eq!(state.tables, mig(&["a", "b1"]));
    }
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// --transaction all.

/// a → b → c where c's second statement fails.
fn third_fails() -> Migrations {
    let mut m = Migrations::new();
    m.table("a", &[])
        .table("b", &["a"])
        .rev("c", &["b"], &["c"], FAILING, true);
    m
}

on!(single_transaction_failure_rolls_back_everything: sqlite, postgres);

/// Under `--transaction all` a failure in the 3rd migration rolls back the first two: they are
/// listed as rolled back, nothing is kept, and no step-finished event was sent for them.
async fn single_transaction_failure_rolls_back_everything(db: TestDb) {
    let m = third_fails();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    let out = s.upgrade(&g, TransactionMode::All).await;
    let f = out.failure();
    assert_eq!(f.revision, "c", "{f}");
    assert_eq!(f.rolled_back, ["a", "b"], "{f}");
    assert!(f.kept.is_empty(), "{f}");
    assert!(f.transactional, "{f}");
    assert_eq!(f.kind(), FailureKind::Migration, "{f}");
    assert_eq!(
        out.finished(),
        Vec::<String>::new(),
        "no step-finished event for steps of a transaction that never committed"
    );
    let state = s.state().await;
    assert!(state.rows.is_empty(), "{state:?}");
    assert!(state.tables.is_empty(), "{state:?}");
    s.finish().await;
}

on!(single_transaction_falls_back_per_migration: mysql);

/// MySQL cannot run the plan in one transaction: it says so and runs per migration, so the
/// first two stay applied and c keeps its first statement.
async fn single_transaction_falls_back_per_migration(db: TestDb) {
    let m = third_fails();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    let out = s.upgrade(&g, TransactionMode::All).await;
    assert!(
        out.events
            .iter()
            .any(|(e, _)| matches!(e, Event::Notice { message, .. } if message.contains("--transaction all"))),
        "a notice says --transaction all fell back"
    );
    let f = out.failure();
    assert_eq!(f.revision, "c", "{f}");
    assert_eq!(ids(&f.kept), ["a", "b"], "{f}");
    assert!(f.rolled_back.is_empty(), "{f}");
    assert_eq!(f.kind(), FailureKind::Partial, "{f}");
    assert_eq!(out.finished(), ["a", "b"]);
    let state = s.state().await;
    assert_eq!(state.applied(), ["a", "b"]);
    assert_eq!(state.progress("c"), Some(Some(1)));
    assert_eq!(state.tables, mig(&["a", "b", "c"]));
    s.finish().await;
}

on!(step_finished_only_after_commit: sqlite, postgres);

/// On a successful run, each step-finished event is sent only once the step is committed: after
/// a successful COMMIT that follows its body (per migration: its own; `--transaction all`: the
/// one at the end).
async fn step_finished_only_after_commit(db: TestDb) {
    let m = chain();
    let g = m.graph();
    let mut s = Setup::new(db).await;
    for mode in [TransactionMode::PerMigration, TransactionMode::All] {
        let out = s.upgrade(&g, mode).await;
        out.report();
        let calls = s.faults.calls();
        let mut finished = 0;
        for (event, seen) in &out.events {
            let Event::StepFinished { revision, .. } = event else {
                continue;
            };
            finished += 1;
            let before = &calls[..*seen];
            let ran = before
                .iter()
                .rposition(|c| c.kind == CallKind::ExecuteScript && c.sql.contains(&body(revision)))
                .unwrap_or_else(|| panic!("{mode:?}: {revision}'s body ran before its event"));
            assert!(
                before[ran..]
                    .iter()
                    .any(|c| c.kind == CallKind::Commit && c.outcome == Some(Ok(()))),
                "{mode:?}: step-finished for {revision} sent before it was committed"
            );
        }
        assert_eq!(finished, 3, "{mode:?}");
        // Undo for the next mode.
        let runner = Runner::new(DB, &g, RunOptions::default()).unwrap();
        runner
            .downgrade(&mut s.driver, "base", &braid_runner::no_events)
            .await
            .expect("downgrade to base");
    }
    let state = s.state().await;
    assert!(
        state.rows.is_empty() && state.tables.is_empty(),
        "{state:?}"
    );
    s.finish().await;
}

on!(single_transaction_boundary_keeps_what_it_committed: sqlite, postgres);

/// a, b, n (`transaction = false`), c under `--transaction all`: a and b commit at n's boundary,
/// n runs on its own, c is in a new transaction whose COMMIT fails. a, b and n stay applied
/// and are listed as kept; c is not.
async fn single_transaction_boundary_keeps_what_it_committed(db: TestDb) {
    let mut m = Migrations::new();
    m.table("a", &[])
        .table("b", &["a"])
        .rev("n", &["b"], &["n1", "n2"], "", false)
        .table("c", &["n"]);
    let g = m.graph();
    let mut s = Setup::new(db).await;
    s.add(
        Fault::on(CallKind::Commit)
            .after(CallKind::ExecuteScript, body("c"))
            .then(Action::error(
                ErrorKind::Sql,
                "injected: could not serialize access",
            )),
    );
    let out = s.upgrade(&g, TransactionMode::All).await;
    let e = out.error();
    assert_eq!(
        ids(e.kept_steps()),
        ["a", "b", "n"],
        "what committed before the boundary stays kept: {e}"
    );
    assert!(
        e.to_string().contains("could not serialize access"),
        "the server's message is reported: {e}"
    );
    if let RunError::Step(f) = e {
        assert_eq!(f.revision, "c", "{f}");
        assert!(f.commit_lost.is_none(), "{f}");
    }
    assert_eq!(out.finished(), ["a", "b", "n"]);
    let state = s.state().await;
    assert_eq!(state.applied(), ["a", "b", "n"]);
    assert_eq!(state.progress("c"), None);
    assert_eq!(state.tables, mig(&["a", "b", "n1", "n2"]));
    s.finish().await;
}

// ---------------------------------------------------------------------------------------------
// The wrapper itself: the tests above are only as good as its faults.

on!(fault_driver_behaves_as_documented: sqlite, postgres, mysql);

async fn fault_driver_behaves_as_documented(db: TestDb) {
    let (mut d, faults) = FaultDriver::new(db.connect().await);
    let q = |n: i64| format!("SELECT {n}");
    // Counting: the 2nd query containing "SELECT 2" after "SELECT 1" fails, once.
    faults.add(
        Fault::on(CallKind::Query)
            .containing("SELECT 2")
            .nth(2)
            .after(CallKind::Query, "SELECT 1"),
    );
    d.query(&q(2), &[]).await.expect("not armed yet");
    d.query(&q(1), &[]).await.expect("arms");
    d.query(&q(2), &[]).await.expect("1st after arming");
    d.query(&q(3), &[]).await.expect("does not match");
    let e = d.query(&q(2), &[]).await.expect_err("2nd after arming");
    assert_eq!(e.kind, ErrorKind::Sql);
    d.query(&q(2), &[]).await.expect("fires once");
    assert!(faults.unfired().is_empty());
    let calls = faults.calls();
    assert_eq!(calls.len(), 6);
    assert!(calls[4].injected && !calls[4].reached);
    assert_eq!(calls[4].outcome, Some(Err(ErrorKind::Sql)));
    assert!(calls.iter().filter(|c| !c.injected).all(|c| c.reached));

    // FailAfter: the write happens, the answer is an error.
    d.execute_script("CREATE TABLE mig_w (id INTEGER PRIMARY KEY)")
        .await
        .unwrap();
    faults.add(
        Fault::on(CallKind::Execute).then(Action::error_after(ErrorKind::Sql, "answer garbled")),
    );
    d.execute("INSERT INTO mig_w (id) VALUES (1)", &[])
        .await
        .expect_err("injected");
    let n = d.query("SELECT id FROM mig_w", &[]).await.unwrap();
    assert_eq!(n.rows.len(), 1, "the insert took effect");

    // Reconnect, not reached: the open transaction is aborted, later calls work.
    d.begin().await.unwrap();
    d.execute("INSERT INTO mig_w (id) VALUES (2)", &[])
        .await
        .unwrap();
    faults.add(Fault::on(CallKind::Commit).then(Action::Reconnect { reached: false }));
    let e = d.commit().await.expect_err("answer lost");
    assert_eq!(e.kind, ErrorKind::Connect);
    let n = d.query("SELECT id FROM mig_w", &[]).await.unwrap();
    assert_eq!(n.rows.len(), 1, "the uncommitted insert was aborted");

    // Reconnect, reached: the commit happened.
    d.begin().await.unwrap();
    d.execute("INSERT INTO mig_w (id) VALUES (3)", &[])
        .await
        .unwrap();
    faults.add(Fault::on(CallKind::Commit).then(Action::Reconnect { reached: true }));
    d.commit().await.expect_err("answer lost");
    let mut other = db.connect().await;
    let n = other.query("SELECT id FROM mig_w", &[]).await.unwrap();
    assert_eq!(n.rows.len(), 2, "the commit took effect");

    // LoseLock: lock_held answers false, unlock fails with LockLost, and the lock is really
    // free for another connection.
    let key = "braid:faults_self_test";
    d.lock(key, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(d.lock_held(key).await.unwrap());
    faults.add(Fault::on(CallKind::Query).then(Action::LoseLock));
    d.query(&q(4), &[])
        .await
        .expect("the triggering call proceeds");
    assert!(faults.lock_lost_at().is_some());
    assert!(!d.lock_held(key).await.unwrap());
    other
        .lock(key, std::time::Duration::from_secs(5))
        .await
        .expect("another connection can take the lost lock");
    other.unlock(key).await.unwrap();
    let e = d.unlock(key).await.expect_err("lost");
    assert_eq!(e.kind, ErrorKind::LockLost);
    // Taking it again makes it held again.
    d.lock(key, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(faults.lock_lost_at().is_none());
    assert!(d.lock_held(key).await.unwrap());
    d.unlock(key).await.unwrap();

    // Disconnect: this and every later call fail with Connect; an open transaction is aborted.
    d.begin().await.unwrap();
    d.execute("INSERT INTO mig_w (id) VALUES (4)", &[])
        .await
        .unwrap();
    faults.add(
        Fault::on(CallKind::Execute)
            .containing("(5)")
            .then(Action::Disconnect { reached: false }),
    );
    let e = d
        .execute("INSERT INTO mig_w (id) VALUES (5)", &[])
        .await
        .expect_err("dropped");
    assert_eq!(e.kind, ErrorKind::Connect);
    for e in [
        d.query(&q(1), &[]).await.map(|_| ()).unwrap_err(),
        d.commit().await.unwrap_err(),
        d.rollback().await.unwrap_err(),
        d.lock_held(key).await.map(|_| ()).unwrap_err(),
    ] {
        assert_eq!(e.kind, ErrorKind::Connect, "{e}");
    }
    assert!(faults.disconnected_at().is_some());
    let n = other.query("SELECT id FROM mig_w", &[]).await.unwrap();
    assert_eq!(n.rows.len(), 2, "the open transaction was aborted");
    other.close().await.unwrap();
    let e = Box::new(d).close().await.expect_err("a dropped connection");
    assert_eq!(e.kind, ErrorKind::Connect);
    db.teardown().await;
}
