//! Batched backfills (`braid_runner::backfill`) on every backend, in both forms: an SQL script
//! with the `-- braid:backfill` directive, and a Rust migration calling `backfill(manager, …)`.
//!
//! Each test seeds a table of a few thousand rows with gaps and negative keys, backfills it in
//! small batches, and reads the table back. A counter column (`touched = touched + 1` in the
//! `SET`) shows that no row was updated twice, also across a run stopped part-way and resumed:
//! the stop is a [`FaultDriver`] failing one batch's statement (or losing its COMMIT's answer)
//! after earlier batches committed.

use std::path::Path;
use std::sync::Mutex;

use braid_driver::{Dialect, Driver, ErrorKind, Value};
use braid_graph::Graph;
use braid_runner::{
    Bodies, Event, OfflineOp, RunError, RunOptions, RunReport, Runner, StoreNames, render_offline,
};
use braid_seaorm::prelude::*;
use braid_seaorm::{Registry, RustBodies};
use braid_tests::TestDb;
use braid_tests::faults::{Action, CallKind, Fault, FaultDriver};

/// Rows seeded, and rows per batch: 12 batches.
const ROWS: i64 = 3000;
const BATCH: u64 = 250;
const BATCHES: usize = 12;

/// The backfill's `UPDATE`. Its filter does not look at what the `SET` changes, so a row
/// updated twice would show in `touched`.
const UPDATE: &str = "UPDATE items SET minor = cents, touched = touched + 1 WHERE cents >= 0";

/// What faults aim at: the batches' `UPDATE`s (not the cursor table's).
const BATCH_UPDATE: &str = "UPDATE items SET";

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// A migrations directory in a temp dir, loaded as the CLI loads it.
struct Migrations {
    dir: tempfile::TempDir,
    count: usize,
    registry: Registry,
}

impl Migrations {
    fn new() -> Self {
        Migrations {
            dir: tempfile::tempdir().expect("temp dir"),
            count: 0,
            registry: Registry::new(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `revision.toml` for `id`, plus `extra` lines.
    fn meta(&mut self, id: &str, parents: &[&str], transactional: bool, extra: &str) -> String {
        self.count += 1;
        let parents: Vec<String> = parents.iter().map(|p| format!("{p:?}")).collect();
        format!(
            "id = {id:?}\nparents = [{}]\nmessage = {id:?}\ncreated = 2026-01-01T00:00:{:02}Z\ntransaction = {transactional}\n{extra}",
            parents.join(", "),
            self.count
        )
    }

    /// An SQL revision.
    fn sql(&mut self, id: &str, parents: &[&str], up: &str, transactional: bool) -> &mut Self {
        let dir = self.root().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = self.meta(id, parents, transactional, "");
        std::fs::write(dir.join("revision.toml"), meta).unwrap();
        std::fs::write(dir.join("up.sql"), up).unwrap();
        std::fs::write(dir.join("down.sql"), "SELECT 1;\n").unwrap();
        self
    }

    /// A `transaction = false` Rust revision running `BackfillItems`.
    fn rust(&mut self, id: &'static str) -> &mut Self {
        self.rust_in(id, false)
    }

    /// A Rust revision running `BackfillItems`, with `transaction = transactional`.
    fn rust_in(&mut self, id: &'static str, transactional: bool) -> &mut Self {
        let dir = self.root().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        let meta = self.meta(id, &[], transactional, "rust = \"migration.rs\"\n");
        std::fs::write(dir.join("revision.toml"), meta).unwrap();
        let source: &'static str =
            Box::leak(format!("// backfill migration {id}\n").into_boxed_str());
        std::fs::write(dir.join("migration.rs"), source).unwrap();
        self.registry
            .add(id, "(test)", source, Box::new(BackfillItems { id }));
        self
    }

    fn graph(&self) -> Graph {
        braid_source::load(self.root()).expect("load the migrations")
    }
}

/// The SQL form's script.
fn directive_script() -> String {
    format!("-- braid:backfill key=id batch={BATCH}\n{UPDATE};\n")
}

/// A Rust migration backfilling `items` as the SQL form does.
struct BackfillItems {
    id: &'static str,
}

impl MigrationName for BackfillItems {
    fn name(&self) -> &str {
        self.id
    }
}

#[async_trait::async_trait]
impl MigrationTrait for BackfillItems {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let spec = Backfill::new("items", "id")
            .set("minor = cents")
            .set("touched = touched + 1")
            .filter("cents >= 0")
            .batch(BATCH);
        backfill(manager, spec).await.map(drop)
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}

/// `items` with [`ROWS`] rows, keys with gaps and below zero (`3i - 7`), nothing filled.
async fn seed(driver: &mut dyn Driver) {
    driver
        .execute_script(
            "CREATE TABLE items (id BIGINT NOT NULL PRIMARY KEY, cents BIGINT NOT NULL, \
             minor BIGINT NULL, touched INTEGER NOT NULL DEFAULT 0)",
        )
        .await
        .expect("create items");
    let keys: Vec<i64> = (1..=ROWS).map(|i| 3 * i - 7).collect();
    for chunk in keys.chunks(250) {
        let values: Vec<String> = chunk
            .iter()
            .map(|k| format!("({k}, {})", k + 10_000))
            .collect();
        let sql = format!("INSERT INTO items (id, cents) VALUES {}", values.join(", "));
        driver.execute_script(&sql).await.expect("seed items");
    }
}

/// The key of the `n`th row (1-based) in key order.
fn key_of(n: i64) -> i64 {
    3 * n - 7
}

async fn count(driver: &mut dyn Driver, sql: &str) -> i64 {
    let rows = driver
        .query(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::Int(n)) => *n,
        other => panic!("{sql}: {other:?}"),
    }
}

/// Rows filled exactly once, and rows not touched at all.
async fn filled(driver: &mut dyn Driver) -> (i64, i64) {
    let once = count(
        driver,
        "SELECT COUNT(*) FROM items WHERE touched = 1 AND minor = cents",
    )
    .await;
    let untouched = count(
        driver,
        "SELECT COUNT(*) FROM items WHERE touched = 0 AND minor IS NULL",
    )
    .await;
    (once, untouched)
}

/// Every row filled exactly once, the cursor table empty, the revision applied.
async fn assert_done(db: &TestDb, revision: &str) {
    let mut c = db.connect().await;
    let target = db.target;
    assert_eq!(filled(c.as_mut()).await, (ROWS, 0), "[{target}]");
    assert_eq!(
        count(c.as_mut(), "SELECT MAX(touched) FROM items").await,
        1,
        "[{target}] no row updated twice"
    );
    assert_eq!(
        count(c.as_mut(), "SELECT COUNT(*) FROM braid_version_backfill").await,
        0,
        "[{target}] the cursor rows went with the version row"
    );
    let sql = format!("SELECT COUNT(*) FROM braid_version WHERE revision = '{revision}'");
    assert_eq!(count(c.as_mut(), &sql).await, 1, "[{target}]");
    c.close().await.unwrap();
}

/// What a run answered and the events it sent.
struct Outcome {
    result: Result<RunReport, RunError>,
    events: Vec<Event>,
}

impl Outcome {
    /// The backfill events: `(batches, rows, last_key, resumed)`.
    fn batches(&self) -> Vec<(u64, u64, i64, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Backfill {
                    batches,
                    rows,
                    last_key,
                    resumed,
                    table,
                    ..
                } => {
                    assert_eq!(table, "items");
                    Some((*batches, *rows, *last_key, *resumed))
                }
                _ => None,
            })
            .collect()
    }

    fn notices(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Notice { message, .. } => Some(message.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Upgrades to heads through `driver`, with `bodies` (the SQL files when `None`).
async fn upgrade(driver: &mut dyn Driver, graph: &Graph, bodies: Option<&dyn Bodies>) -> Outcome {
    let runner = Runner::new("app", graph, RunOptions::default()).expect("runner");
    let runner = match bodies {
        Some(b) => runner.with_bodies(b),
        None => runner,
    };
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let result = runner.upgrade(driver, "heads", &sink).await;
    Outcome {
        result,
        events: events.into_inner().unwrap(),
    }
}

/// One `#[tokio::test]` per backend for a case `async fn case(db: TestDb)`.
macro_rules! on_every_backend {
    ($case:ident) => {
        mod $case {
            #[tokio::test]
            async fn sqlite() {
                if let Some(db) = braid_tests::fresh_or_skip::<braid_tests::SqliteTarget>().await {
                    super::$case(db).await;
                }
            }

            #[tokio::test]
            async fn postgres() {
                if let Some(db) = braid_tests::fresh_or_skip::<braid_tests::PostgresTarget>().await
                {
                    super::$case(db).await;
                }
            }

            #[tokio::test]
            async fn mysql() {
                if let Some(db) = braid_tests::fresh_or_skip::<braid_tests::MysqlTarget>().await {
                    super::$case(db).await;
                }
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// The SQL form.

on_every_backend!(sql_backfill_fills_every_row_in_batches);

/// Every row filled once, one event per committed batch, rows and keys counted up.
async fn sql_backfill_fills_every_row_in_batches(mut db: TestDb) {
    seed(db.driver.as_mut()).await;
    let mut m = Migrations::new();
    m.sql("fill", &[], &directive_script(), false);
    let out = upgrade(db.driver.as_mut(), &m.graph(), None).await;
    let target = db.target;
    let report = out
        .result
        .as_ref()
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    assert_eq!(report.steps.len(), 1, "[{target}]");
    let batches = out.batches();
    assert_eq!(batches.len(), BATCHES, "[{target}] {batches:?}");
    for (i, (n, rows, last_key, resumed)) in batches.iter().enumerate() {
        let n_done = i as i64 + 1;
        assert_eq!(*n, n_done as u64, "[{target}]");
        assert_eq!(*rows, (n_done * BATCH as i64) as u64, "[{target}]");
        assert_eq!(*last_key, key_of(n_done * BATCH as i64), "[{target}]");
        assert!(!resumed, "[{target}]");
    }
    assert_done(&db, "fill").await;
    db.teardown().await;
}

on_every_backend!(sql_backfill_killed_half_way_resumes);

/// Batch 5's UPDATE fails: batches 1-4 stay committed and recorded; the next run resumes after
/// them, says so, and updates no row twice.
async fn sql_backfill_killed_half_way_resumes(db: TestDb) {
    let mut m = Migrations::new();
    m.sql("fill", &[], &directive_script(), false);
    killed_half_way_resumes(db, &m, None).await;
}

on_every_backend!(sql_backfill_with_a_lost_commit_answer_resumes_exactly);

/// Batch 5's COMMIT takes effect and its answer is lost with the connection: the next run
/// goes on after batch 5 (recorded with it), not before.
async fn sql_backfill_with_a_lost_commit_answer_resumes_exactly(mut db: TestDb) {
    seed(db.driver.as_mut()).await;
    let mut m = Migrations::new();
    m.sql("fill", &[], &directive_script(), false);
    let graph = m.graph();
    let target = db.target;
    let (mut driver, faults) = FaultDriver::new(db.connect().await);
    faults.add(
        Fault::on(CallKind::Commit)
            .after(CallKind::Execute, BATCH_UPDATE)
            .nth(5)
            .then(Action::Disconnect { reached: true }),
    );
    let first = upgrade(&mut driver, &graph, None).await;
    assert!(faults.unfired().is_empty(), "[{target}] the fault fired");
    let err = first.result.as_ref().expect_err("the run stopped");
    assert!(err.to_string().contains("COMMIT"), "[{target}] {err}");
    let _ = Box::new(driver).close().await;
    {
        let mut c = db.connect().await;
        let committed = 5 * BATCH as i64;
        assert_eq!(
            filled(c.as_mut()).await,
            (committed, ROWS - committed),
            "[{target}]"
        );
        c.close().await.unwrap();
    }
    let second = upgrade(db.driver.as_mut(), &graph, None).await;
    second
        .result
        .as_ref()
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    assert_eq!(second.batches().len(), BATCHES - 5, "[{target}]");
    assert_done(&db, "fill").await;
    db.teardown().await;
}

/// Shared by both forms: batch 5's UPDATE fails, then a second run resumes.
async fn killed_half_way_resumes(mut db: TestDb, m: &Migrations, bodies: Option<&dyn Bodies>) {
    seed(db.driver.as_mut()).await;
    let graph = m.graph();
    let target = db.target;
    let (mut driver, faults) = FaultDriver::new(db.connect().await);
    faults.add(
        Fault::on(CallKind::Execute)
            .containing(BATCH_UPDATE)
            .nth(5)
            .then(Action::error(
                ErrorKind::Sql,
                "injected: the server went away",
            )),
    );
    let first = upgrade(&mut driver, &graph, bodies).await;
    assert!(faults.unfired().is_empty(), "[{target}] the fault fired");
    let Err(RunError::Step(failure)) = &first.result else {
        panic!("[{target}] expected a failed step: {:?}", first.result);
    };
    let text = failure.to_string();
    assert!(text.contains("injected"), "[{target}] {text}");
    assert!(text.contains("batch 5"), "[{target}] {text}");
    assert!(text.contains("resumes after key"), "[{target}] {text}");
    assert!(
        !failure.transactional,
        "[{target}] not reported as rolled back: {text}"
    );
    assert_eq!(first.batches().len(), 4, "[{target}]");
    let _ = Box::new(driver).close().await;

    let committed = 4 * BATCH as i64;
    {
        let mut c = db.connect().await;
        assert_eq!(
            filled(c.as_mut()).await,
            (committed, ROWS - committed),
            "[{target}]"
        );
        let last = count(c.as_mut(), "SELECT last_key FROM braid_version_backfill").await;
        assert_eq!(
            last,
            key_of(committed),
            "[{target}] the cursor is where the data is"
        );
        c.close().await.unwrap();
    }

    let second = upgrade(db.driver.as_mut(), &graph, bodies).await;
    second
        .result
        .as_ref()
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    let batches = second.batches();
    assert_eq!(batches.len(), BATCHES - 4, "[{target}] {batches:?}");
    assert!(
        batches.iter().all(|b| b.3),
        "[{target}] reported as resumed: {batches:?}"
    );
    assert_eq!(batches[0].2, key_of(committed + BATCH as i64), "[{target}]");
    let notices = second.notices();
    assert!(
        notices
            .iter()
            .any(|n| n.contains("resuming") && n.contains(&key_of(committed).to_string())),
        "[{target}] {notices:?}"
    );
    assert_done(&db, "fill").await;
    db.teardown().await;
}

on_every_backend!(directive_errors_are_reported_before_anything_runs);

/// A malformed backfill script stops the run before its first migration, naming the revision
/// and the file.
async fn directive_errors_are_reported_before_anything_runs(mut db: TestDb) {
    let target = db.target;
    let cases: [(&str, String, bool, &str); 4] = [
        (
            "second statement",
            format!("-- braid:backfill key=id batch=5\n{UPDATE};\nUPDATE items SET cents = 0;\n"),
            false,
            "exactly one UPDATE",
        ),
        (
            "not an UPDATE",
            "-- braid:backfill key=id batch=5\nDELETE FROM items;\n".to_string(),
            false,
            "must be an UPDATE",
        ),
        (
            "transaction = true",
            directive_script(),
            true,
            "transaction = false",
        ),
        (
            "missing key",
            format!("-- braid:backfill batch=5\n{UPDATE};\n"),
            false,
            "key=<column>` is missing",
        ),
    ];
    for (case, script, transactional, says) in cases {
        let mut m = Migrations::new();
        m.sql(
            "first",
            &[],
            "CREATE TABLE mig_first (id INTEGER PRIMARY KEY);\n",
            true,
        );
        m.sql("fill", &["first"], &script, transactional);
        let out = upgrade(db.driver.as_mut(), &m.graph(), None).await;
        let Err(RunError::Body {
            revision, message, ..
        }) = &out.result
        else {
            panic!(
                "[{target}] {case}: expected a body error, got {:?}",
                out.result
            );
        };
        assert_eq!(revision, "fill", "[{target}] {case}");
        let file = m.root().join("fill").join("up.sql").display().to_string();
        assert!(
            message.contains(&file),
            "[{target}] {case}: names the file: {message}"
        );
        assert!(message.contains(says), "[{target}] {case}: {message}");
        let tables = db.driver.introspect().await.unwrap().tables;
        assert!(
            tables.iter().all(|t| t.name != "mig_first"),
            "[{target}] {case}: nothing ran"
        );
        assert!(out.batches().is_empty(), "[{target}] {case}");
    }
    db.teardown().await;
}

// ---------------------------------------------------------------------------------------------
// The Rust form.

on_every_backend!(rust_backfill_fills_every_row_in_batches);

/// A Rust migration's `backfill(manager, …)` runs the same engine on the runner's connection.
async fn rust_backfill_fills_every_row_in_batches(mut db: TestDb) {
    seed(db.driver.as_mut()).await;
    let mut m = Migrations::new();
    m.rust("fill");
    let bodies = RustBodies::new(&m.registry);
    let out = upgrade(db.driver.as_mut(), &m.graph(), Some(&bodies as &dyn Bodies)).await;
    let target = db.target;
    out.result
        .as_ref()
        .unwrap_or_else(|e| panic!("[{target}] {e}"));
    let batches = out.batches();
    assert_eq!(batches.len(), BATCHES, "[{target}] {batches:?}");
    assert!(batches.iter().all(|b| !b.3), "[{target}]");
    assert_done(&db, "fill").await;
    db.teardown().await;
}

on_every_backend!(rust_backfill_killed_half_way_resumes);

async fn rust_backfill_killed_half_way_resumes(db: TestDb) {
    let mut m = Migrations::new();
    m.rust("fill");
    let bodies = RustBodies::new(&m.registry);
    killed_half_way_resumes(db, &m, Some(&bodies as &dyn Bodies)).await;
}

/// A Rust migration runs inside the runner's transaction unless its revision says `transaction
/// = false`; a backfill there is refused before its first batch.
#[tokio::test]
async fn rust_backfill_in_a_transactional_revision_is_refused() {
    let Some(mut db) = braid_tests::fresh_or_skip::<braid_tests::SqliteTarget>().await else {
        return;
    };
    seed(db.driver.as_mut()).await;
    let mut m = Migrations::new();
    m.rust_in("fill", true);
    let bodies = RustBodies::new(&m.registry);
    let out = upgrade(db.driver.as_mut(), &m.graph(), Some(&bodies as &dyn Bodies)).await;
    let Err(RunError::Step(failure)) = &out.result else {
        panic!("expected a failed step: {:?}", out.result);
    };
    let text = failure.to_string();
    assert!(text.contains("transaction = false"), "{text}");
    assert!(out.batches().is_empty());
    assert_eq!(filled(db.driver.as_mut()).await, (0, ROWS));
    db.teardown().await;
}

// ---------------------------------------------------------------------------------------------
// Offline scripts.

/// `upgrade --sql` shows each form's UPDATE as one statement, after a comment saying that an
/// online run batches it.
#[test]
fn offline_scripts_show_one_update_and_say_it_is_batched_online() {
    let mut m = Migrations::new();
    m.sql("sqlfill", &[], &directive_script(), false);
    m.rust("rustfill");
    let graph = m.graph();
    let bodies = RustBodies::new(&m.registry);
    let op = OfflineOp::Upgrade {
        from: None,
        to: "heads",
    };
    for dialect in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
        let script = render_offline(&graph, dialect, &op, &StoreNames::default(), &bodies)
            .unwrap_or_else(|e| panic!("{dialect}: {e}"));
        let notes = script.matches("an online run batches this UPDATE").count();
        assert_eq!(notes, 2, "{dialect}:\n{script}");
        let updates = script.matches(&format!("{UPDATE};")).count();
        assert_eq!(updates, 2, "{dialect}:\n{script}");
    }
}
