//! Migrations embedded in a binary (`braid_build::embed` in `tests/build.rs`, the repository's
//! own migrations: Rust and SQL revisions, per-dialect files, a merge) run by `braid::Migrator`
//! on every backend: the same plan and checksums as the command line, an up-to-date start
//! that needs no lock, and the same validation.

mod support;

use std::sync::Mutex;
use std::time::Duration;

use braid::{Error, Event, Migrator, RunError};
use braid_tests::{MysqlTarget, PostgresTarget, SqliteTarget, TestDb, TestTarget, fresh_or_skip};
use support::{copy_tree, hold_lock};

fn migrator() -> Migrator {
    Migrator::new(braid_tests::repo_embedded()).lock_timeout(Duration::from_secs(1))
}

async fn on<T: TestTarget>(test: impl AsyncFnOnce(&TestDb)) {
    let Some(db) = fresh_or_skip::<T>().await else {
        return;
    };
    test(&db).await;
    db.teardown().await;
}

/// Upgrades, reports events, finds nothing to do the second time, and agrees with the
/// command line's runner on what is applied and on every checksum.
async fn upgrade_twice(db: &TestDb) {
    let events = std::sync::Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let migrator = migrator().on_event(move |e| {
        if let Event::StepFinished { revision, .. } = e {
            seen.lock().unwrap().push(revision.clone());
        }
    });
    let first = migrator.upgrade(&db.url).await.unwrap();
    assert_eq!(first.steps.len(), 11, "[{}]", db.target);
    assert_eq!(first.to, ["zd4_plans_drop_price_cents"]);
    assert_eq!(events.lock().unwrap().len(), 11);
    let again = migrator.upgrade(&db.url).await.unwrap();
    assert!(again.steps.is_empty(), "[{}]", db.target);

    // The command line, reading the files, sees the same database as up to date and unedited.
    let graph = braid_source::load(&braid_tests::repo_migrations()).unwrap();
    let rust = braid_tests::repo_rust_revisions();
    let bodies = braid_seaorm::RustBodies::new(rust.registry());
    let runner = braid_runner::Runner::new("cli", &graph, braid_runner::RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let mut driver = braid::drivers::open_url(&db.url).await.unwrap();
    let status = runner.status(driver.as_mut()).await.unwrap();
    assert!(
        status.pending.is_empty() && status.edited.is_empty(),
        "[{}] {status:?}",
        db.target
    );
    driver.close().await.unwrap();
}

#[tokio::test]
async fn embedded_upgrade_on_sqlite() {
    on::<SqliteTarget>(upgrade_twice).await;
}

#[tokio::test]
async fn embedded_upgrade_on_postgres() {
    on::<PostgresTarget>(upgrade_twice).await;
}

#[tokio::test]
async fn embedded_upgrade_on_mariadb() {
    on::<MysqlTarget>(upgrade_twice).await;
}

/// While another process holds the migration lock, an up-to-date database still starts (one
/// read, no lock), and one with something to apply waits for the lock (here: times out).
async fn up_to_date_needs_no_lock(db: &TestDb) {
    let migrator = migrator();
    migrator.upgrade(&db.url).await.unwrap();
    let release = hold_lock(&db.url);
    let report = migrator.upgrade(&db.url).await.unwrap();
    assert!(report.steps.is_empty());
    release.send(()).unwrap();

    // Undo the merge only: the database is one revision short.
    migrator
        .downgrade(&db.url, "audit2_log_index")
        .await
        .unwrap();
    let release = hold_lock(&db.url);
    let err = migrator.upgrade(&db.url).await.unwrap_err();
    assert!(
        matches!(err, Error::Run(RunError::Lock { .. })),
        "[{}] {err}",
        db.target
    );
    release.send(()).unwrap();
}

#[tokio::test]
async fn an_up_to_date_start_takes_no_lock_on_sqlite() {
    on::<SqliteTarget>(up_to_date_needs_no_lock).await;
}

#[tokio::test]
async fn an_up_to_date_start_takes_no_lock_on_postgres() {
    on::<PostgresTarget>(up_to_date_needs_no_lock).await;
}

#[tokio::test]
async fn an_up_to_date_start_takes_no_lock_on_mariadb() {
    on::<MysqlTarget>(up_to_date_needs_no_lock).await;
}

/// A database migrated from files that differ from what the binary embedded is refused as
/// the command line refuses it: an applied migration edited since it ran.
#[tokio::test]
async fn an_embedded_migration_that_differs_from_the_applied_one_is_refused() {
    let Some(db) = fresh_or_skip::<SqliteTarget>().await else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    copy_tree(&braid_tests::repo_migrations(), &dir);
    let up = dir.join("audit1_log/up.sqlite.sql");
    let mut text = std::fs::read_to_string(&up).unwrap();
    text.push_str("\n-- an edit made on another branch\nCREATE TABLE extra_audit (id INTEGER);\n");
    std::fs::write(&up, text).unwrap();
    let graph = braid_source::load(&dir).unwrap();
    let rust = braid_tests::repo_rust_revisions();
    let bodies = braid_seaorm::RustBodies::new(rust.registry());
    let runner = braid_runner::Runner::new("app", &graph, braid_runner::RunOptions::default())
        .unwrap()
        .with_bodies(&bodies);
    let mut driver = braid::drivers::open_url(&db.url).await.unwrap();
    runner
        .upgrade(driver.as_mut(), "audit1_log", &braid_runner::no_events)
        .await
        .unwrap();
    driver.close().await.unwrap();

    let err = migrator().upgrade(&db.url).await.unwrap_err();
    let Error::Run(RunError::Edited { edits, .. }) = &err else {
        panic!("{err}")
    };
    assert_eq!(edits[0].revision, "audit1_log");
    assert!(
        err.to_string().contains("`braid accept audit1_log`"),
        "{err}"
    );
    db.teardown().await;
}

/// What an application pays at start on an up-to-date database, next to a bare connect and a
/// connect with one query (one round trip): medians of 200 alternating runs per backend.
/// `cargo test --release -p braid-tests --test embedded -- --ignored --nocapture start_cost`
#[test]
#[ignore = "a measurement, run by hand"]
fn start_cost() {
    braid_tests::block_on(async {
        start_cost_on::<SqliteTarget>().await;
        start_cost_on::<PostgresTarget>().await;
        start_cost_on::<MysqlTarget>().await;
    });
}

async fn start_cost_on<T: TestTarget>() {
    use std::time::Instant;
    let Some(db) = fresh_or_skip::<T>().await else {
        return;
    };
    let migrator = migrator();
    migrator.upgrade(&db.url).await.unwrap();
    let mut times = [Vec::new(), Vec::new(), Vec::new()];
    for round in 0..200 {
        for which in if round % 2 == 0 { [0, 1, 2] } else { [2, 1, 0] } {
            let started = Instant::now();
            match which {
                0 => {
                    let d = braid::drivers::open_url(&db.url).await.unwrap();
                    d.close().await.unwrap();
                }
                1 => {
                    let mut d = braid::drivers::open_url(&db.url).await.unwrap();
                    d.query("SELECT 1", &[]).await.unwrap();
                    d.close().await.unwrap();
                }
                _ => {
                    let report = migrator.upgrade(&db.url).await.unwrap();
                    assert!(report.steps.is_empty());
                }
            }
            times[which].push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    let median = |t: &mut Vec<f64>| {
        t.sort_by(f64::total_cmp);
        t[t.len() / 2]
    };
    let [connect, query, start] = times.each_mut().map(median);
    println!(
        "{}: connect {connect:.3} ms, connect + 1 query {query:.3} ms, migrator start {start:.3} ms \
         (+{:.3} ms over the query)",
        T::NAME,
        start - query
    );
    db.teardown().await;
}
