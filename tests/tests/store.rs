//! The version store on the servers: where it lives, what a migration's session changes cannot
//! redirect, the lock key it implies, its size limits, and how a run resumes a statement that
//! was running when an earlier run stopped.
//!
//! Stopped runs are set up exactly (the version row an interrupted run leaves, written by hand
//! next to the effect it had or had not had): the kill -9 torture test (`torture.rs`) covers the
//! same ground at random.

use std::path::Path;
use std::time::Duration;

use braid_driver::{Driver, Value};
use braid_graph::Graph;
use braid_runner::{
    Event, FailureKind, RunError, RunOptions, RunReport, Runner, StepDirection, TransactionMode,
    no_events,
};
use braid_tests::{MysqlTarget, PostgresTarget, TestDb, fresh_or_skip};

/// Writes revision `id` (child of `parent`) with `up` and `down` scripts.
fn rev(dir: &Path, id: &str, parent: Option<&str>, up: &str, down: &str, transactional: bool) {
    let d = dir.join(id);
    std::fs::create_dir_all(&d).unwrap();
    let parents = parent.map(|p| format!("\"{p}\"")).unwrap_or_default();
    std::fs::write(
        d.join("revision.toml"),
        format!(
            "id = \"{id}\"\nparents = [{parents}]\nmessage = \"{id}\"\ncreated = 2026-01-01T00:00:00Z\ntransaction = {transactional}\n"
        ),
    )
    .unwrap();
    std::fs::write(d.join("up.sql"), up).unwrap();
    std::fs::write(d.join("down.sql"), down).unwrap();
}

fn graph(dir: &Path) -> Graph {
    braid_source::load(dir).expect("load the migrations")
}

fn options() -> RunOptions {
    RunOptions {
        lock_timeout: Duration::from_secs(5),
        ..RunOptions::default()
    }
}

async fn upgrade(db: &mut TestDb, g: &Graph, opts: RunOptions) -> Result<RunReport, RunError> {
    let runner = Runner::new("app", g, opts).unwrap();
    runner
        .upgrade(db.driver.as_mut(), "heads", &no_events)
        .await
}

/// `upgrade heads`, collecting the notices.
async fn upgrade_noting(db: &mut TestDb, g: &Graph) -> (Result<RunReport, RunError>, Vec<String>) {
    let notes = std::sync::Mutex::new(Vec::new());
    let sink = |e: &Event| {
        if let Event::Notice { message, .. } = e {
            notes.lock().unwrap().push(message.clone());
        }
    };
    let runner = Runner::new("app", g, options()).unwrap();
    let result = runner.upgrade(db.driver.as_mut(), "heads", &sink).await;
    (result, notes.into_inner().unwrap())
}

fn applied(report: &RunReport) -> Vec<&str> {
    report
        .steps
        .iter()
        .filter(|s| s.direction == StepDirection::Up)
        .map(|s| s.revision.as_str())
        .collect()
}

async fn int(driver: &mut dyn Driver, sql: &str) -> i64 {
    let rows = driver.query(sql, &[]).await.unwrap();
    match rows.rows.first().and_then(|r| r.first()) {
        Some(Value::Int(i)) => *i,
        Some(Value::Text(t)) => t.parse().unwrap(),
        other => panic!("{sql}: {other:?}"),
    }
}

async fn exec(driver: &mut dyn Driver, sql: &str) {
    driver
        .execute_script(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

// ---------------------------------------------------------------------------------------------
// Where the store lives.

/// The role's own schema appearing later (first on the default `"$user", public` path) must not
/// make Braid create a second, empty store there and run every migration again.
#[tokio::test]
async fn postgres_a_schema_named_after_the_role_does_not_hide_the_store() {
    let Some(mut db) = fresh_or_skip::<PostgresTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    rev(
        m.path(),
        "r1",
        None,
        "CREATE TABLE t1 (id INT);",
        "DROP TABLE t1;",
        true,
    );
    upgrade(&mut db, &graph(m.path()), options()).await.unwrap();
    let role = {
        let rows = db
            .driver
            .query("SELECT current_user::text", &[])
            .await
            .unwrap();
        rows.rows[0][0].as_str().unwrap().to_string()
    };
    exec(db.driver.as_mut(), &format!("CREATE SCHEMA \"{role}\"")).await;
    rev(
        m.path(),
        "r2",
        Some("r1"),
        "CREATE TABLE t2 (id INT);",
        "DROP TABLE t2;",
        true,
    );
    let report = upgrade(&mut db, &graph(m.path()), options()).await.unwrap();
    assert_eq!(applied(&report), ["r2"], "only the new revision runs");
    let stores = int(
        db.driver.as_mut(),
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'braid_version'",
    )
    .await;
    assert_eq!(stores, 1, "one store, where it was");
    let rows = int(
        db.driver.as_mut(),
        "SELECT count(*) FROM public.braid_version",
    )
    .await;
    assert_eq!(rows, 2);
    db.teardown().await;
}

/// pg_dump's `set_config('search_path', '', false)` and a plain `SET search_path` in a migration
/// change the session for what follows, Braid's own writes included, unless they are qualified.
#[tokio::test]
async fn postgres_a_migration_changing_search_path_does_not_redirect_the_bookkeeping() {
    let Some(mut db) = fresh_or_skip::<PostgresTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    rev(
        m.path(),
        "r1",
        None,
        "SELECT pg_catalog.set_config('search_path', '', false);\nCREATE TABLE public.t1 (id INT);",
        "DROP TABLE public.t1;",
        true,
    );
    rev(
        m.path(),
        "r2",
        Some("r1"),
        "CREATE SCHEMA other;\nSET search_path TO other;\nCREATE TABLE t2 (id INT);",
        "DROP SCHEMA other CASCADE;",
        false,
    );
    rev(
        m.path(),
        "r3",
        Some("r2"),
        "CREATE TABLE public.t3 (id INT);",
        "",
        true,
    );
    let report = upgrade(&mut db, &graph(m.path()), options()).await.unwrap();
    assert_eq!(applied(&report), ["r1", "r2", "r3"]);
    let rows = int(
        db.driver.as_mut(),
        "SELECT count(*) FROM public.braid_version",
    )
    .await;
    assert_eq!(rows, 3, "every row in the store");
    let elsewhere = int(
        db.driver.as_mut(),
        "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE 'braid_version%' \
         AND table_schema <> 'public'",
    )
    .await;
    assert_eq!(elsewhere, 0);
    assert_eq!(
        int(db.driver.as_mut(), "SELECT count(*) FROM other.t2").await,
        0
    );
    db.teardown().await;
}

/// `USE other_db` in a MySQL migration: the bookkeeping stays in the configured database.
#[tokio::test]
async fn mysql_a_migration_using_another_database_does_not_redirect_the_bookkeeping() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let own = {
        let rows = db.driver.query("SELECT DATABASE()", &[]).await.unwrap();
        rows.rows[0][0].as_str().unwrap().to_string()
    };
    let other = format!("{own}_o");
    let m = tempfile::tempdir().unwrap();
    rev(
        m.path(),
        "r1",
        None,
        &format!("CREATE DATABASE `{other}`;\nUSE `{other}`;\nCREATE TABLE t1 (id INT);"),
        &format!("DROP DATABASE `{other}`;"),
        true,
    );
    rev(
        m.path(),
        "r2",
        Some("r1"),
        "CREATE TABLE t2 (id INT);",
        "",
        true,
    );
    let result = upgrade(&mut db, &graph(m.path()), options()).await;
    let rows = int(
        db.driver.as_mut(),
        &format!("SELECT count(*) FROM `{own}`.braid_version WHERE statements_done IS NULL"),
    )
    .await;
    let strays = int(
        db.driver.as_mut(),
        &format!(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = '{other}' \
             AND table_name LIKE 'braid_version%'"
        ),
    )
    .await;
    exec(
        db.driver.as_mut(),
        &format!("DROP DATABASE IF EXISTS `{other}`"),
    )
    .await;
    let report = result.unwrap();
    assert_eq!(applied(&report), ["r1", "r2"]);
    assert_eq!(rows, 2, "both rows, complete, in the configured database");
    assert_eq!(strays, 0);
    db.teardown().await;
}

/// `schema = "public"` and no schema name the same table, so they take the same lock: a run
/// configured either way waits for a lock held on the resolved table's key.
#[tokio::test]
async fn postgres_the_lock_key_names_the_resolved_table() {
    let Some(mut db) = fresh_or_skip::<PostgresTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    rev(m.path(), "r1", None, "CREATE TABLE t1 (id INT);", "", true);
    let g = graph(m.path());
    let mut holder = db.connect().await;
    holder
        .lock("braid:public.braid_version", Duration::ZERO)
        .await
        .unwrap();
    for schema in [None, Some("public".to_string())] {
        let opts = RunOptions {
            schema: schema.clone(),
            lock_timeout: Duration::from_millis(300),
            ..RunOptions::default()
        };
        let err = upgrade(&mut db, &g, opts).await.unwrap_err();
        assert_eq!(
            err.kind(),
            FailureKind::LockTimeout,
            "schema {schema:?}: {err}"
        );
    }
    holder.close().await.unwrap();
    db.teardown().await;
}

#[tokio::test]
async fn mysql_the_lock_key_names_the_database_and_table() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let own = {
        let rows = db.driver.query("SELECT DATABASE()", &[]).await.unwrap();
        rows.rows[0][0].as_str().unwrap().to_string()
    };
    let m = tempfile::tempdir().unwrap();
    rev(m.path(), "r1", None, "CREATE TABLE t1 (id INT);", "", true);
    let mut holder = db.connect().await;
    holder
        .lock(&format!("braid:{own}.braid_version"), Duration::ZERO)
        .await
        .unwrap();
    let opts = RunOptions {
        lock_timeout: Duration::from_millis(300),
        ..RunOptions::default()
    };
    let err = upgrade(&mut db, &graph(m.path()), opts).await.unwrap_err();
    assert_eq!(err.kind(), FailureKind::LockTimeout, "{err}");
    holder.close().await.unwrap();
    db.teardown().await;
}

/// MySQL's `TEXT` held the hashes of ~3 800 statements; a longer migration failed on its first
/// progress write, after its first statement had committed.
#[tokio::test]
async fn mysql_a_migration_of_thousands_of_statements_records_its_progress() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    let n = 4_500;
    let mut up = String::from("CREATE TABLE big (id INT);\n");
    up.extend((1..n).map(|i| format!("SET @braid_x = {i};\n")));
    rev(m.path(), "r1", None, &up, "DROP TABLE big;", true);
    let report = upgrade(&mut db, &graph(m.path()), options()).await.unwrap();
    assert_eq!(applied(&report), ["r1"]);
    db.teardown().await;
}

// ---------------------------------------------------------------------------------------------
// Resuming a statement an earlier run started.

/// Sets revision `id`'s row as a run killed while running statement `started` of `up` leaves
/// it: the statements before it done, it recorded as started (by `session`).
async fn stopped_at(
    driver: &mut dyn Driver,
    id: &str,
    up: &str,
    started: usize,
    session: Option<&str>,
) {
    let hashes: Vec<String> = driver
        .split_script(up)
        .iter()
        .map(|s| {
            let sum = braid_source::checksum(s);
            sum.trim_start_matches("sha256:").chars().take(16).collect()
        })
        .collect();
    let sql = format!(
        "INSERT INTO braid_version (revision, checksum, applied_at, duration_ms, applied_by, \
         statements_done, statements_total, statement_hashes, statement_started, session) \
         VALUES ('{id}', '', '2026-01-01T00:00:00.000Z', 0, 'test', {}, {}, 'up:{}', {started}, {})",
        started - 1,
        hashes.len(),
        hashes.join(","),
        session.map_or("NULL".to_string(), |s| format!("'{s}'"))
    );
    exec(driver, &sql).await;
}

const THREE: &str = "CREATE TABLE a (id INT);\nCREATE TABLE b (id INT);\nINSERT INTO a VALUES (1);";

/// A store with revision `r1` = [`THREE`], created by a run of an empty `r0` (so the row can be
/// written by hand).
async fn three(db: &mut TestDb, transactional: bool) -> tempfile::TempDir {
    let m = tempfile::tempdir().unwrap();
    rev(m.path(), "r0", None, "SELECT 1;", "SELECT 1;", true);
    upgrade(db, &graph(m.path()), options()).await.unwrap();
    rev(
        m.path(),
        "r1",
        Some("r0"),
        THREE,
        "DROP TABLE b;\nDROP TABLE a;",
        transactional,
    );
    m
}

/// Killed after `CREATE TABLE b` committed and before its progress: the next run sees `b`, says
/// so, and goes on — it does not fail with "already exists". (MySQL: every migration runs
/// statement by statement.)
#[tokio::test]
async fn mysql_a_started_statement_that_took_effect_is_not_run_again() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = three(&mut db, true).await;
    exec(
        db.driver.as_mut(),
        "CREATE TABLE a (id INT); CREATE TABLE b (id INT)",
    )
    .await;
    stopped_at(db.driver.as_mut(), "r1", THREE, 2, None).await;
    let (result, notes) = upgrade_noting(&mut db, &graph(m.path())).await;
    let report = result.unwrap();
    assert_eq!(applied(&report), ["r1"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("statement 2 of revision `r1`")
                && n.contains("took effect (table `b` exists)")),
        "{notes:?}"
    );
    assert_eq!(int(db.driver.as_mut(), "SELECT count(*) FROM a").await, 1);
    let partial = int(
        db.driver.as_mut(),
        "SELECT count(*) FROM braid_version WHERE statements_done IS NOT NULL",
    )
    .await;
    assert_eq!(partial, 0);
    db.teardown().await;
}

/// A store of schema 1 recorded progress after each statement, so a run killed in between
/// left it one statement behind. Upgraded, that row's next statement counts as started: the run
/// judges it from the schema (`b` exists) instead of running it again into "already exists".
#[tokio::test]
async fn mysql_a_schema_1_row_one_statement_behind_is_judged_not_rerun() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = three(&mut db, true).await;
    exec(
        db.driver.as_mut(),
        "CREATE TABLE a (id INT); CREATE TABLE b (id INT)",
    )
    .await;
    stopped_at(db.driver.as_mut(), "r1", THREE, 2, None).await;
    // Back to schema 1: no started statement, no session columns.
    exec(
        db.driver.as_mut(),
        "ALTER TABLE braid_version DROP COLUMN statement_started, DROP COLUMN session; \
         UPDATE braid_version_meta SET `value` = '1' WHERE `key` = 'schema_version'",
    )
    .await;
    let (result, notes) = upgrade_noting(&mut db, &graph(m.path())).await;
    let report = result.unwrap();
    assert_eq!(applied(&report), ["r1"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("statement 2 of revision `r1`")
                && n.contains("took effect (table `b` exists)")),
        "{notes:?}"
    );
    assert_eq!(int(db.driver.as_mut(), "SELECT count(*) FROM a").await, 1);
    db.teardown().await;
}

/// Killed before `CREATE TABLE b` took effect: the next run sees no `b` and runs it.
#[tokio::test]
async fn postgres_a_started_statement_that_did_not_take_effect_runs() {
    let Some(mut db) = fresh_or_skip::<PostgresTarget>().await else {
        return;
    };
    let m = three(&mut db, false).await;
    exec(db.driver.as_mut(), "CREATE TABLE a (id INT)").await;
    stopped_at(db.driver.as_mut(), "r1", THREE, 2, None).await;
    let (result, notes) = upgrade_noting(&mut db, &graph(m.path())).await;
    assert_eq!(applied(&result.unwrap()), ["r1"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("did not take effect (table `b` does not exist)")),
        "{notes:?}"
    );
    assert_eq!(int(db.driver.as_mut(), "SELECT count(*) FROM b").await, 0);
    db.teardown().await;
}

/// A started statement whose effect the schema cannot show: the run stops, names it and says
/// what to do, and leaves the record as it was.
#[tokio::test]
async fn mysql_a_started_statement_of_unknown_effect_stops_the_run() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    rev(m.path(), "r0", None, "SELECT 1;", "SELECT 1;", true);
    upgrade(&mut db, &graph(m.path()), options()).await.unwrap();
    let up = "CREATE TABLE a (id INT);\nCREATE VIEW v AS SELECT id FROM a;";
    rev(m.path(), "r1", Some("r0"), up, "", true);
    exec(db.driver.as_mut(), "CREATE TABLE a (id INT)").await;
    stopped_at(db.driver.as_mut(), "r1", up, 2, None).await;
    let err = upgrade(&mut db, &graph(m.path()), options())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::Partial, "{err}");
    let text = err.to_string();
    assert!(
        text.contains("statement 2 was running when an earlier run stopped"),
        "{text}"
    );
    assert!(
        text.contains("OR REPLACE") && text.contains("braid stamp r1"),
        "{text}"
    );
    let started = int(
        db.driver.as_mut(),
        "SELECT statement_started FROM braid_version WHERE revision = 'r1'",
    )
    .await;
    assert_eq!(started, 2);
    db.teardown().await;
}

/// The server goes on executing a killed client's statement. A run resuming it waits for that
/// session (recorded with the mark) and says so; it refuses, naming the session, if the session
/// outlasts the lock timeout.
#[tokio::test]
async fn mysql_a_run_waits_for_the_earlier_session_still_executing() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = three(&mut db, true).await;
    exec(db.driver.as_mut(), "CREATE TABLE a (id INT)").await;
    // The "earlier run": a session busy with a statement (here a sleep) while the mark names it.
    let mut earlier = db.connect().await;
    let session = earlier
        .session_id()
        .await
        .unwrap()
        .expect("MySQL has session ids");
    stopped_at(db.driver.as_mut(), "r1", THREE, 2, Some(&session)).await;
    // It runs its statement, then its client goes away (as a killed client's session ends
    // once the server has finished the statement).
    let busy = tokio::spawn(async move {
        earlier.execute("SELECT SLEEP(3)", &[]).await.unwrap();
        earlier.close().await.unwrap();
    });
    // Wait until the server shows it busy (a condition, not a sleep).
    let mut watcher = db.connect().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !watcher
        .session_activity(&session)
        .await
        .unwrap()
        .is_some_and(|a| a.contains("running for"))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the session never got busy"
        );
        tokio::task::yield_now().await;
    }
    let g = graph(m.path());
    let runner = Runner::new(
        "app",
        &g,
        RunOptions {
            lock_timeout: Duration::from_millis(200),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let err = runner
        .upgrade(db.driver.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::LockTimeout, "{err}");
    assert!(err.to_string().contains("has not ended"), "{err}");
    assert!(err.to_string().contains("SLEEP"), "{err}");
    // With time to wait, it waits, then goes on.
    let (result, notes) = upgrade_noting(&mut db, &g).await;
    assert_eq!(applied(&result.unwrap()), ["r1"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("waiting for an earlier run's session")),
        "{notes:?}"
    );
    busy.await.unwrap();
    watcher.close().await.unwrap();
    db.teardown().await;
}

/// An earlier run whose session is idle but still connected may have lost its lock between
/// marking a statement and sending it: the run does not take it for ended, and refuses once the
/// lock timeout has passed, naming it; once it is gone, the run goes on.
#[tokio::test]
async fn mysql_a_run_does_not_resume_past_an_idle_earlier_session() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = three(&mut db, true).await;
    exec(db.driver.as_mut(), "CREATE TABLE a (id INT)").await;
    let mut earlier = db.connect().await;
    let session = earlier.session_id().await.unwrap().expect("a session id");
    stopped_at(db.driver.as_mut(), "r1", THREE, 2, Some(&session)).await;
    let g = graph(m.path());
    let runner = Runner::new(
        "app",
        &g,
        RunOptions {
            lock_timeout: Duration::from_millis(200),
            ..RunOptions::default()
        },
    )
    .unwrap();
    let err = runner
        .upgrade(db.driver.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::LockTimeout, "{err}");
    assert!(err.to_string().contains("idle for"), "{err}");
    assert_eq!(
        int(db.driver.as_mut(), "SELECT count(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'b'").await,
        0,
        "statement 2 did not run"
    );
    earlier.close().await.unwrap();
    let (result, _) = upgrade_noting(&mut db, &g).await;
    assert_eq!(applied(&result.unwrap()), ["r1"]);
    db.teardown().await;
}

/// A data statement commits together with its progress: a failure after it (here the next
/// statement) leaves it recorded as done, and a failure inside it leaves nothing behind.
#[tokio::test]
async fn mysql_data_statements_commit_with_their_progress() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    let up = "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (1);";
    rev(m.path(), "r1", None, up, "DROP TABLE a;", true);
    let err = upgrade(&mut db, &graph(m.path()), options())
        .await
        .unwrap_err();
    let RunError::Step(failure) = &err else {
        panic!("{err}")
    };
    assert_eq!(failure.statement_index, Some(3), "{err}");
    assert_eq!(failure.statements_done, Some(2), "{err}");
    let row = db
        .driver
        .query(
            "SELECT statements_done, statement_started FROM braid_version WHERE revision = 'r1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.rows[0][0].as_i64(), Some(2));
    assert_eq!(
        row.rows[0][1],
        Value::Null,
        "a failed statement is not left started"
    );
    assert_eq!(int(db.driver.as_mut(), "SELECT count(*) FROM a").await, 1);
    // Fixed, the run resumes after the insert that committed.
    rev(
        m.path(),
        "r1",
        None,
        "CREATE TABLE a (id INT PRIMARY KEY);\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);",
        "DROP TABLE a;",
        true,
    );
    upgrade(&mut db, &graph(m.path()), options()).await.unwrap();
    assert_eq!(int(db.driver.as_mut(), "SELECT count(*) FROM a").await, 2);
    db.teardown().await;
}

/// `BEGIN; …; COMMIT;` inside a transactional migration would commit Braid's transaction
/// part-way, and the failure after it would be reported as rolled back: refused before anything
/// runs, with the way out.
#[tokio::test]
async fn postgres_transaction_statements_in_a_transactional_migration_are_refused() {
    let Some(mut db) = fresh_or_skip::<PostgresTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    rev(
        m.path(),
        "r1",
        None,
        "CREATE TABLE a (id INT);",
        "DROP TABLE a;",
        true,
    );
    rev(
        m.path(),
        "r2",
        Some("r1"),
        "BEGIN;\nCREATE TABLE b (id INT);\nCOMMIT;\nALTER TABLE nope ADD COLUMN x INT;",
        "DROP TABLE b;",
        true,
    );
    for mode in [TransactionMode::PerMigration, TransactionMode::All] {
        let opts = RunOptions {
            transaction: mode,
            ..options()
        };
        let err = upgrade(&mut db, &graph(m.path()), opts).await.unwrap_err();
        assert_eq!(err.kind(), FailureKind::Migration, "{err}");
        let text = err.to_string();
        assert!(
            text.contains("transaction = false") && text.contains("Nothing was run"),
            "{text}"
        );
        assert!(
            !text.contains("The migration was rolled back") && !text.contains("stay applied"),
            "says only what happened: {text}"
        );
        let tables = int(
            db.driver.as_mut(),
            "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('a', 'b')",
        )
        .await;
        assert_eq!(tables, 0, "{mode:?}: nothing ran");
    }
    db.teardown().await;
}

/// The session that ran a resumed migration's first statements is gone: its session settings
/// (`SET`, `USE`) are run again before the rest, which may depend on them.
#[tokio::test]
async fn mysql_a_resumed_migration_gets_its_session_settings_back() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = tempfile::tempdir().unwrap();
    rev(m.path(), "r0", None, "SELECT 1;", "SELECT 1;", true);
    upgrade(&mut db, &graph(m.path()), options()).await.unwrap();
    let up =
        "SET @braid_marker = 7;\nCREATE TABLE t1 (v INT);\nINSERT INTO t1 VALUES (@braid_marker);";
    rev(m.path(), "r1", Some("r0"), up, "DROP TABLE t1;", true);
    stopped_at(db.driver.as_mut(), "r1", up, 2, None).await;
    let (result, notes) = upgrade_noting(&mut db, &graph(m.path())).await;
    assert_eq!(applied(&result.unwrap()), ["r1"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("ran again the session settings")),
        "{notes:?}"
    );
    assert_eq!(int(db.driver.as_mut(), "SELECT v FROM t1").await, 7);
    db.teardown().await;
}

/// A started statement edited since: its effect would be judged by a text that never ran.
#[tokio::test]
async fn mysql_a_started_statement_edited_since_is_not_judged() {
    let Some(mut db) = fresh_or_skip::<MysqlTarget>().await else {
        return;
    };
    let m = three(&mut db, true).await;
    exec(db.driver.as_mut(), "CREATE TABLE a (id INT)").await;
    stopped_at(db.driver.as_mut(), "r1", THREE, 2, None).await;
    let edited = THREE.replace("CREATE TABLE b (id INT)", "CREATE TABLE b (id BIGINT)");
    rev(
        m.path(),
        "r1",
        Some("r0"),
        &edited,
        "DROP TABLE b;\nDROP TABLE a;",
        true,
    );
    let err = upgrade(&mut db, &graph(m.path()), options())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), FailureKind::Partial, "{err}");
    assert!(
        err.to_string().contains("not the one that was running"),
        "{err}"
    );
    db.teardown().await;
}
