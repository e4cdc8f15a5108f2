//! The runner's overhead against a plain rusqlite loop doing the same work (1 000 small
//! revisions on a fresh SQLite file). Ignored by default; run with
//! `cargo test --release -p braid-runner --test perf -- --ignored --nocapture`.

mod common;

use std::time::{Duration, Instant};

use braid_runner::{RunOptions, Runner, TransactionMode, no_events};
use common::Fixture;

const N: usize = 1000;

fn fixture() -> Fixture {
    let mut f = Fixture::new();
    let mut prev: Option<String> = None;
    for i in 0..N {
        let id = format!("r{i:04}");
        let parents: Vec<&str> = prev.iter().map(String::as_str).collect();
        f.table(&id, &parents);
        prev = Some(id);
    }
    f
}

fn floor(f: &Fixture, name: &str, one_tx: bool) -> Duration {
    let db = braid_sqlite::SqliteDriver::open(&f.url(name)).unwrap();
    let conn = db.connection();
    conn.execute_batch(
        "CREATE TABLE v (revision VARCHAR(64) PRIMARY KEY, checksum VARCHAR(80), applied_at VARCHAR(40), duration_ms BIGINT, applied_by VARCHAR(255), statements_done INTEGER, statements_total INTEGER, statement_hashes TEXT)",
    )
    .unwrap();
    let bodies: Vec<String> = (0..N)
        .map(|i| format!("CREATE TABLE t_r{i:04} (id INTEGER PRIMARY KEY);"))
        .collect();
    // Realistic values: a full checksum, as the runner stores.
    let checksum = format!("sha256:{}", "0123456789abcdef".repeat(4));
    let t = Instant::now();
    if one_tx {
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    }
    for (i, body) in bodies.iter().enumerate() {
        if !one_tx {
            conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        }
        conn.execute_batch(body).unwrap();
        let mut stmt = conn
            .prepare("INSERT INTO v (revision, checksum, applied_at, duration_ms, applied_by) VALUES (?, ?, ?, ?, ?)")
            .unwrap();
        stmt.raw_bind_parameter(1, format!("r{i:04}")).unwrap();
        stmt.raw_bind_parameter(2, checksum.as_str()).unwrap();
        stmt.raw_bind_parameter(3, "2026-01-01T00:00:00.000Z")
            .unwrap();
        stmt.raw_bind_parameter(4, 0i64).unwrap();
        stmt.raw_bind_parameter(5, "me@host").unwrap();
        stmt.raw_execute().unwrap();
        if !one_tx {
            conn.execute_batch("COMMIT").unwrap();
        }
    }
    if one_tx {
        conn.execute_batch("COMMIT").unwrap();
    }
    t.elapsed()
}

async fn runner(f: &Fixture, name: &str, mode: TransactionMode) -> Duration {
    let g = f.graph();
    let options = RunOptions {
        transaction: mode,
        ..Default::default()
    };
    let runner = Runner::new(name, &g, options).unwrap();
    let mut db = f.open(name).await;
    let first = std::sync::Mutex::new(None);
    let last = std::sync::Mutex::new(None);
    let sink = |e: &braid_runner::Event| match e {
        braid_runner::Event::StepStarted { index: 1, .. } => {
            *first.lock().unwrap() = Some(Instant::now())
        }
        braid_runner::Event::StepFinished { index, .. } if *index == N => {
            *last.lock().unwrap() = Some(Instant::now())
        }
        _ => {}
    };
    let t = Instant::now();
    let r = runner.upgrade(db.as_mut(), "heads", &sink).await.unwrap();
    let elapsed = t.elapsed();
    let (a, b) = (
        first.lock().unwrap().unwrap(),
        last.lock().unwrap().unwrap(),
    );
    println!(
        "  {mode:?}: setup {:?}, loop {:?}, after {:?}",
        a - t,
        b - a,
        t.elapsed() - (b - t)
    );
    let _ = no_events;
    assert_eq!(r.steps.len(), N);
    elapsed
}

#[tokio::test]
#[ignore]
async fn thousand_migrations_against_the_floor() {
    let f = fixture();
    for (mode, one_tx) in [
        (TransactionMode::PerMigration, false),
        (TransactionMode::All, true),
    ] {
        let mut best_floor = Duration::MAX;
        let mut best_runner = Duration::MAX;
        for round in 0..5 {
            best_floor = best_floor.min(floor(&f, &format!("floor{one_tx}{round}"), one_tx));
            best_runner =
                best_runner.min(runner(&f, &format!("runner{one_tx}{round}"), mode).await);
        }
        println!(
            "{mode:?}: floor {best_floor:?}, runner {best_runner:?}, ratio {:.2}",
            best_runner.as_secs_f64() / best_floor.as_secs_f64()
        );
    }
}
