//! The backfill engine (`braid_runner::backfill`) against real SQLite files: called directly, as
//! the Rust form calls it, and through the runner for the SQL form. A trigger that aborts one
//! row's update stops a run part-way for real. (Every backend, faults and Rust migrations:
//! `tests/tests/backfill.rs`.)

mod common;

use std::sync::Mutex;

use braid_driver::{Dialect, Driver, Value};
use braid_runner::backfill::{self, Backfill, BackfillContext, BackfillReport, CursorTable};
use braid_runner::{Event, RunError, RunOptions, Runner, StoreNames, no_events};
use common::{Fixture, scalar};

/// `items` with keys 1..=`rows`, `cents = 2 * id`, nothing filled.
async fn seed(driver: &mut dyn Driver, rows: i64) {
    driver
        .execute_script(
            "CREATE TABLE items (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL, \
             minor INTEGER NULL, touched INTEGER NOT NULL DEFAULT 0, label TEXT NOT NULL DEFAULT '')",
        )
        .await
        .unwrap();
    driver
        .execute_script(&format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
             INSERT INTO items (id, cents) SELECT i, 2 * i FROM n WHERE i <= {rows}"
        ))
        .await
        .unwrap();
}

fn spec() -> Backfill {
    Backfill::new("items", "id")
        .set("minor = cents")
        .set("touched = touched + 1")
        .batch(100)
}

fn cursor() -> CursorTable {
    CursorTable::for_store(&StoreNames::default(), Dialect::Sqlite)
}

/// Runs `spec` directly, collecting its events.
async fn run(
    driver: &mut dyn Driver,
    spec: &Backfill,
) -> (
    Result<BackfillReport, braid_driver::DriverError>,
    Vec<Event>,
) {
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let cx = BackfillContext::new("app", "r1", &sink, cursor());
    let result = backfill::run(driver, spec, &cx).await;
    assert!(cx.cursor_used() || result.is_err());
    drop(cx);
    (result, events.into_inner().unwrap())
}

fn batch_events(events: &[Event]) -> Vec<(u64, u64, i64, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Backfill {
                batches,
                rows,
                last_key,
                resumed,
                ..
            } => Some((*batches, *rows, *last_key, *resumed)),
            _ => None,
        })
        .collect()
}

async fn int(driver: &mut dyn Driver, sql: &str) -> i64 {
    scalar(driver, sql).await.as_i64().unwrap()
}

#[tokio::test]
async fn batches_by_key_range_with_an_event_per_batch_then_nothing_left() {
    let f = Fixture::new();
    let mut db = f.open("app").await;
    seed(db.as_mut(), 1050).await;
    let (report, events) = run(db.as_mut(), &spec()).await;
    let report = report.unwrap();
    assert_eq!(report.batches, 11);
    assert_eq!(report.rows, 1050);
    assert_eq!(report.last_key, Some(1050));
    assert!(!report.resumed);
    let batches = batch_events(&events);
    assert_eq!(batches.len(), 11);
    assert_eq!(batches[0], (1, 100, 100, false));
    // The final batch is open-ended, up to the highest key.
    assert_eq!(batches[10], (11, 1050, 1050, false));
    assert_eq!(
        int(
            db.as_mut(),
            "SELECT COUNT(*) FROM items WHERE touched = 1 AND minor = cents"
        )
        .await,
        1050
    );
    // The finished row stays until the runner records the revision: a second run does nothing.
    let (again, events) = run(db.as_mut(), &spec()).await;
    let again = again.unwrap();
    assert_eq!((again.batches, again.resumed), (0, true));
    assert!(batch_events(&events).is_empty());
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Notice { message, .. } if message.contains("finished"))),
        "{events:?}"
    );
    assert_eq!(int(db.as_mut(), "SELECT MAX(touched) FROM items").await, 1);
}

#[tokio::test]
async fn an_empty_table_and_a_table_of_one_batch() {
    let f = Fixture::new();
    let mut db = f.open("app").await;
    seed(db.as_mut(), 0).await;
    let (report, events) = run(db.as_mut(), &spec()).await;
    assert_eq!(report.unwrap().batches, 0);
    assert!(batch_events(&events).is_empty());
    db.execute_script("INSERT INTO items (id, cents) VALUES (-5, 1), (7, 2)")
        .await
        .unwrap();
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let cx = BackfillContext::new("app", "r2", &sink, cursor());
    let report = backfill::run(db.as_mut(), &spec(), &cx).await.unwrap();
    assert_eq!(
        (report.batches, report.rows, report.last_key),
        (1, 2, Some(7))
    );
}

#[tokio::test]
async fn a_stopped_backfill_resumes_after_its_last_batch_and_refuses_a_changed_statement() {
    let f = Fixture::new();
    let mut db = f.open("app").await;
    seed(db.as_mut(), 1000).await;
    // The update of row 550 aborts while `ctl.stop` is 1: batch 6 fails, batches 1-5 stay.
    db.execute_script(
        "CREATE TABLE ctl (stop INTEGER NOT NULL); INSERT INTO ctl VALUES (1);
         CREATE TRIGGER stop_at BEFORE UPDATE ON items
         WHEN NEW.id = 550 AND (SELECT stop FROM ctl) = 1
         BEGIN SELECT RAISE(ABORT, 'stopped on purpose'); END;",
    )
    .await
    .unwrap();
    let (stopped, events) = run(db.as_mut(), &spec()).await;
    let err = stopped.unwrap_err();
    assert!(err.message.contains("stopped on purpose"), "{err}");
    assert!(err.message.contains("batch 6"), "{err}");
    assert!(err.message.contains("resumes after key 500"), "{err}");
    assert!(
        err.position
            .as_ref()
            .is_some_and(|p| p.statement.starts_with("UPDATE items SET")),
        "{err:?}"
    );
    assert_eq!(batch_events(&events).len(), 5);
    assert_eq!(
        int(db.as_mut(), "SELECT COUNT(*) FROM items WHERE touched = 1").await,
        500
    );

    // Another statement must not go on from where this one stopped.
    let changed = spec().set("label = 'x'");
    let (refused, _) = run(db.as_mut(), &changed).await;
    let refused = refused.unwrap_err();
    assert!(refused.message.contains("cannot resume"), "{refused}");
    assert!(refused.message.contains("up to key 500"), "{refused}");

    // A batch size may change between runs.
    db.execute_script("UPDATE ctl SET stop = 0").await.unwrap();
    let (resumed, events) = run(db.as_mut(), &spec().batch(300)).await;
    let resumed = resumed.unwrap();
    assert!(resumed.resumed);
    assert_eq!((resumed.batches, resumed.rows), (2, 500));
    assert!(batch_events(&events).iter().all(|b| b.3));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Notice { message, .. }
            if message.contains("resuming") && message.contains("after key 500"))),
        "{events:?}"
    );
    assert_eq!(
        int(
            db.as_mut(),
            "SELECT COUNT(*) FROM items WHERE touched = 1 AND minor = cents"
        )
        .await,
        1000
    );
    assert_eq!(int(db.as_mut(), "SELECT MAX(touched) FROM items").await, 1);
}

#[tokio::test]
async fn refusals() {
    let f = Fixture::new();
    let mut db = f.open("app").await;
    seed(db.as_mut(), 10).await;

    // The key must be an integer column.
    let text_key = Backfill::new("items", "label").set("minor = cents");
    let (err, _) = run(db.as_mut(), &text_key).await;
    let err = err.unwrap_err();
    assert!(err.message.contains("integer column"), "{err}");

    // Not inside a transaction: each batch commits.
    let cx = BackfillContext::new("app", "r1", &no_events, cursor()).in_transaction(true);
    let err = backfill::run(db.as_mut(), &spec(), &cx).await.unwrap_err();
    assert!(err.message.contains("transaction = false"), "{err}");

    // Nothing to set; a batch of nothing.
    let cx = BackfillContext::new("app", "r2", &no_events, cursor());
    let err = backfill::run(db.as_mut(), &Backfill::new("items", "id"), &cx)
        .await
        .unwrap_err();
    assert!(err.message.contains("sets nothing"), "{err}");
    let err = backfill::run(db.as_mut(), &spec().batch(0), &cx)
        .await
        .unwrap_err();
    assert!(err.message.contains("at least 1"), "{err}");

    // One table once per revision.
    let cx = BackfillContext::new("app", "r3", &no_events, cursor());
    backfill::run(db.as_mut(), &spec(), &cx).await.unwrap();
    let err = backfill::run(db.as_mut(), &spec(), &cx).await.unwrap_err();
    assert!(err.message.contains("twice"), "{err}");
}

/// The SQL form through the runner: batched, the version row written, the cursor row gone.
#[tokio::test]
async fn the_runner_runs_a_directive_script_as_a_backfill() {
    let mut f = Fixture::new();
    f.sql(
        "fill",
        &[],
        "-- braid:backfill key=id batch=100 pause_ms=1\n\
         UPDATE items SET minor = cents, touched = touched + 1 WHERE cents > 10;\n",
        "UPDATE items SET minor = NULL;\n",
    )
    .transactional = false;
    let g = f.graph();
    let runner = Runner::new("app", &g, RunOptions::default()).unwrap();
    let mut db = f.open("app").await;
    seed(db.as_mut(), 640).await;
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let report = runner.upgrade(db.as_mut(), "heads", &sink).await.unwrap();
    assert_eq!(report.steps.len(), 1);
    let events = events.into_inner().unwrap();
    assert_eq!(batch_events(&events).len(), 7);
    // Rows 1-5 have cents <= 10: left alone.
    assert_eq!(
        int(
            db.as_mut(),
            "SELECT COUNT(*) FROM items WHERE touched = 1 AND minor = cents"
        )
        .await,
        635
    );
    assert_eq!(
        int(db.as_mut(), "SELECT COUNT(*) FROM braid_version_backfill").await,
        0
    );
    assert_eq!(
        scalar(db.as_mut(), "SELECT revision FROM braid_version").await,
        Value::Text("fill".into())
    );
    // The down script is an ordinary script.
    runner
        .downgrade(db.as_mut(), "base", &no_events)
        .await
        .unwrap();
    assert_eq!(
        int(
            db.as_mut(),
            "SELECT COUNT(*) FROM items WHERE minor IS NULL"
        )
        .await,
        640
    );
}

#[tokio::test]
async fn a_transactional_revision_with_the_directive_is_refused_before_anything_runs() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.sql(
        "fill",
        &["a"],
        "-- braid:backfill key=id batch=100\nUPDATE items SET minor = cents;\n",
        "SELECT 1;\n",
    );
    let g = f.graph();
    let runner = Runner::new("app", &g, RunOptions::default()).unwrap();
    let mut db = f.open("app").await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    let RunError::Body {
        revision, message, ..
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(revision, "fill");
    assert!(message.contains("up.sql"), "{message}");
    assert!(message.contains("transaction = false"), "{message}");
    assert!(common::user_tables(db.as_mut()).await.is_empty());
}

/// `items` made by revision `items`, and `fill` backfilling it: a revision graph in which a
/// downgrade can go below a stopped backfill.
fn items_then_fill(f: &mut Fixture) {
    f.sql(
        "items",
        &[],
        "CREATE TABLE items (id INTEGER PRIMARY KEY, cents INTEGER NOT NULL, minor INTEGER NULL, \
         touched INTEGER NOT NULL DEFAULT 0);\n\
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) \
         INSERT INTO items (id, cents) SELECT i, 2 * i FROM n;\n\
         CREATE TABLE ctl (stop INTEGER NOT NULL); INSERT INTO ctl VALUES (1);\n\
         CREATE TRIGGER stop_at BEFORE UPDATE ON items \
         WHEN NEW.id = 550 AND (SELECT stop FROM ctl) = 1 \
         BEGIN SELECT RAISE(ABORT, 'stopped on purpose'); END;\n",
        "DROP TABLE items;\nDROP TABLE ctl;\n",
    );
    f.sql(
        "fill",
        &["items"],
        "-- braid:backfill key=id batch=100\n\
         UPDATE items SET minor = cents, touched = touched + 1;\n",
        "SELECT 1;\n",
    )
    .transactional = false;
}

/// A downgrade below a backfill that stopped part-way recreates the table it was filling: the
/// progress must not survive, or the next upgrade would skip the rows it had done before.
#[tokio::test]
async fn a_downgrade_below_a_stopped_backfill_forgets_its_progress() {
    let mut f = Fixture::new();
    items_then_fill(&mut f);
    let g = f.graph();
    let runner = Runner::new("app", &g, RunOptions::default()).unwrap();
    let mut db = f.open("app").await;
    let stopped = runner.upgrade(db.as_mut(), "heads", &no_events).await;
    let err = stopped.unwrap_err().to_string();
    assert!(err.contains("run `braid upgrade` again to resume"), "{err}");
    assert!(!err.contains("stamp"), "{err}");
    assert_eq!(
        int(db.as_mut(), "SELECT COUNT(*) FROM braid_version_backfill").await,
        1
    );
    runner
        .downgrade(db.as_mut(), "base", &no_events)
        .await
        .unwrap();
    assert_eq!(
        int(db.as_mut(), "SELECT COUNT(*) FROM braid_version_backfill").await,
        0
    );
    // The table comes back with nothing filled; the trigger is set to let everything through.
    runner
        .upgrade(db.as_mut(), "items", &no_events)
        .await
        .unwrap();
    db.execute_script("UPDATE ctl SET stop = 0").await.unwrap();
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    runner.upgrade(db.as_mut(), "heads", &sink).await.unwrap();
    assert!(
        batch_events(&events.into_inner().unwrap())
            .iter()
            .all(|b| !b.3)
    );
    assert_eq!(
        int(
            db.as_mut(),
            "SELECT COUNT(*) FROM items WHERE touched = 1 AND minor = cents"
        )
        .await,
        1000
    );
}

/// Stamping a revision whose backfill stopped part-way records it without running it: its
/// progress goes, so a later downgrade and upgrade start the backfill over.
#[tokio::test]
async fn a_stamp_forgets_the_progress_of_what_it_records() {
    let mut f = Fixture::new();
    items_then_fill(&mut f);
    let g = f.graph();
    let runner = Runner::new("app", &g, RunOptions::default()).unwrap();
    let mut db = f.open("app").await;
    runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    runner
        .stamp(db.as_mut(), &["fill"], false, &no_events)
        .await
        .unwrap();
    assert_eq!(
        int(db.as_mut(), "SELECT COUNT(*) FROM braid_version_backfill").await,
        0
    );
}

/// A key named like a keyword, in a table whose name needs quoting.
#[tokio::test]
async fn a_key_named_like_a_keyword_is_quoted() {
    let f = Fixture::new();
    let mut db = f.open("app").await;
    db.execute_script(
        "CREATE TABLE \"my items\" (\"order\" INTEGER PRIMARY KEY, cents INTEGER, minor INTEGER);\n\
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250) \
         INSERT INTO \"my items\" (\"order\", cents) SELECT i, i FROM n;",
    )
    .await
    .unwrap();
    let spec = Backfill::new("\"my items\"", "order")
        .set("minor = cents")
        .batch(100);
    let (report, events) = run(db.as_mut(), &spec).await;
    assert_eq!(report.unwrap().rows, 250);
    assert_eq!(batch_events(&events).len(), 3);
}
