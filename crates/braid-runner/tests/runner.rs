//! The runner against real SQLite files.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use braid_driver::Value;
use braid_runner::{
    Event, RunError, RunOptions, Runner, STORE_SCHEMA_VERSION, StepDirection, TransactionMode,
    no_events,
};
use common::{Fixture, ids, rows, scalar, tables, user_tables};

/// a → b → (c1, c2) → d (merge)
fn merged() -> Fixture {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &["a"]);
    f.table("c1", &["b"]);
    f.table("c2", &["b"]);
    f.table("d", &["c1", "c2"]);
    f
}

fn opts() -> RunOptions {
    RunOptions::default()
}

#[tokio::test]
async fn upgrade_and_downgrade_round_trip_over_branches_and_merge() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;

    let r = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(r.database, "app");
    assert!(r.from.is_empty());
    assert_eq!(r.to, ids(&["d"]));
    let order: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(order, ["a", "b", "c1", "c2", "d"]);
    assert!(r.steps.iter().all(|s| s.direction == StepDirection::Up));
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b", "c1", "c2", "d"]));
    assert_eq!(
        user_tables(db.as_mut()).await,
        ids(&["t_a", "t_b", "t_c1", "t_c2", "t_d"])
    );

    // Nothing left to do.
    let again = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert!(again.steps.is_empty());

    // Down across the merge.
    let r = runner
        .downgrade(db.as_mut(), "b", &no_events)
        .await
        .unwrap();
    let order: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(order, ["d", "c2", "c1"]);
    assert_eq!(r.from, ids(&["d"]));
    assert_eq!(r.to, ids(&["b"]));
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b"]));
    assert_eq!(user_tables(db.as_mut()).await, ids(&["t_a", "t_b"]));

    // One branch only.
    let r = runner.upgrade(db.as_mut(), "c1", &no_events).await.unwrap();
    assert_eq!(r.to, ids(&["c1"]));
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b", "c1"]));

    let r = runner
        .downgrade(db.as_mut(), "base", &no_events)
        .await
        .unwrap();
    assert_eq!(r.steps.len(), 3);
    assert!(r.to.is_empty());
    assert!(rows(db.as_mut()).await.is_empty());
    assert!(user_tables(db.as_mut()).await.is_empty());

    // Each applied row carries checksum, time, duration and who.
    runner.upgrade(db.as_mut(), "a", &no_events).await.unwrap();
    let cur = runner.current(db.as_mut()).await.unwrap();
    assert_eq!(cur.heads, ids(&["a"]));
    let row = &cur.rows[0];
    assert!(row.checksum.starts_with("sha256:"), "{}", row.checksum);
    assert!(row.applied_at.ends_with('Z') && row.applied_at.contains('T'));
    assert!(row.applied_by.contains('@'));
    assert!(row.partial.is_none());
}

#[tokio::test]
async fn stamp_writes_rows_only() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;

    let r = runner
        .stamp(db.as_mut(), &["c2"], false, &no_events)
        .await
        .unwrap();
    assert_eq!(r.to, ids(&["c2"]));
    assert!(r.steps.iter().all(|s| s.ms == 0));
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b", "c2"]));
    assert!(user_tables(db.as_mut()).await.is_empty(), "no body runs");

    // The stamped checksum is the file's, so a later upgrade validates.
    let cur = runner.current(db.as_mut()).await.unwrap();
    let a = cur.rows.iter().find(|r| r.revision == "a").unwrap();
    assert_eq!(a.duration_ms, 0);
    let r = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    let order: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(order, ["c1", "d"]);

    let r = runner
        .stamp(db.as_mut(), &["b"], false, &no_events)
        .await
        .unwrap();
    assert_eq!(r.to, ids(&["b"]));
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b"]));

    runner
        .stamp(db.as_mut(), &["base"], false, &no_events)
        .await
        .unwrap();
    assert!(rows(db.as_mut()).await.is_empty());

    let log = scalar(
        db.as_mut(),
        "SELECT count(*) FROM braid_version_log WHERE action = 'stamp'",
    )
    .await;
    assert_eq!(log, Value::Int(3));
}

#[tokio::test]
async fn failing_migration_keeps_earlier_ones_and_names_everything() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.sql(
        "b",
        &["a"],
        "CREATE TABLE t_b (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);\n",
        "DROP TABLE t_b;",
    );
    f.table("c", &["b"]);
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;

    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    let err = runner
        .upgrade(db.as_mut(), "heads", &sink)
        .await
        .unwrap_err();
    let msg = err.to_string();
    let RunError::Step(failure) = &err else {
        panic!("expected a step failure, got {err:?}");
    };
    assert_eq!(failure.revision, "b");
    assert!(failure.file.ends_with("up.sql"), "{}", failure.file);
    assert!(failure.file.contains("/b/"), "{}", failure.file);
    assert_eq!(failure.statement_index, Some(2));
    assert!(failure.transactional);
    assert_eq!(failure.kept.len(), 1);
    assert_eq!(failure.kept[0].revision, "a");
    for needle in [
        "`app`",
        "`b`",
        "up.sql",
        "no_such_table",
        "statement 2",
        "rolled back",
    ] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
    assert_eq!(err.kept_steps().len(), 1);

    // a stays applied and recorded; b is rolled back entirely (its first statement too).
    assert_eq!(rows(db.as_mut()).await, ids(&["a"]));
    assert_eq!(user_tables(db.as_mut()).await, ids(&["t_a"]));

    let events = events.into_inner().unwrap();
    assert!(matches!(events[0], Event::Started { total_steps: 3, .. }));
    assert!(events.iter().any(|e| matches!(
        e,
        Event::StepFailed { revision, index: 2, total: 3, .. } if revision == "b"
    )));
    assert!(!events.iter().any(|e| matches!(e, Event::Finished { .. })));

    // The failure is in the audit log.
    let failed = scalar(
        db.as_mut(),
        "SELECT count(*) FROM braid_version_log WHERE action = 'upgrade-failed'",
    )
    .await;
    assert_eq!(failed, Value::Int(1));

    // Fix the file: the run resumes at b.
    f.write_up("b", "CREATE TABLE t_b (id INTEGER PRIMARY KEY);");
    let r = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(r.steps.len(), 2);
}

#[tokio::test]
async fn transaction_all_rolls_back_everything_on_sqlite() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &["a"]);
    f.sql("c", &["b"], "SELECT * FROM nowhere;", "");
    let g = f.graph();
    let options = RunOptions {
        transaction: TransactionMode::All,
        ..opts()
    };
    let runner = Runner::new("app", &g, options).unwrap();
    let mut db = f.open("app").await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    let RunError::Step(failure) = &err else {
        panic!("{err:?}")
    };
    assert!(failure.kept.is_empty());
    assert_eq!(failure.rolled_back, ids(&["a", "b"]));
    assert!(err.to_string().contains("Rolled back with it"), "{err}");
    assert!(rows(db.as_mut()).await.is_empty());
    assert!(user_tables(db.as_mut()).await.is_empty());

    // And succeeds in one transaction once fixed.
    f.write_up("c", "CREATE TABLE t_c (id INTEGER);");
    let r = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(r.steps.len(), 3);
    assert!(r.notes.is_empty());
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b", "c"]));
}

#[tokio::test]
async fn non_transactional_revision_runs_outside_a_transaction() {
    for mode in [TransactionMode::PerMigration, TransactionMode::All] {
        let mut f = Fixture::new();
        f.table("a", &[]);
        // VACUUM fails inside a transaction.
        f.sql("b", &["a"], "VACUUM;", "VACUUM;").transactional = false;
        f.table("c", &["b"]);
        let g = f.graph();
        let options = RunOptions {
            transaction: mode,
            ..opts()
        };
        let runner = Runner::new("app", &g, options).unwrap();
        let mut db = f.open("app").await;
        let r = runner
            .upgrade(db.as_mut(), "heads", &no_events)
            .await
            .unwrap();
        assert_eq!(r.steps.len(), 3, "{mode:?}");
        assert_eq!(rows(db.as_mut()).await, ids(&["a", "b", "c"]));
        let r = runner
            .downgrade(db.as_mut(), "base", &no_events)
            .await
            .unwrap();
        assert_eq!(r.steps.len(), 3, "{mode:?}");
        assert!(rows(db.as_mut()).await.is_empty());
    }

    // Proof that the flag matters: the same body inside a transaction fails.
    let mut f = Fixture::new();
    f.sql("v", &[], "VACUUM;", "VACUUM;");
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    assert!(
        runner
            .upgrade(db.as_mut(), "heads", &no_events)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn edited_migration_is_refused_until_accepted() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &["a"]);
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    runner.upgrade(db.as_mut(), "a", &no_events).await.unwrap();

    // Whitespace and line endings are not edits.
    f.write_up("a", "CREATE TABLE t_a (id INTEGER PRIMARY KEY);   \r\n\r\n");
    runner.upgrade(db.as_mut(), "a", &no_events).await.unwrap();

    f.write_up("a", "CREATE TABLE t_a (id INTEGER PRIMARY KEY, name TEXT);");
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    let msg = err.to_string();
    let RunError::Edited { edits, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].revision, "a");
    assert_ne!(edits[0].stored, edits[0].current);
    for needle in [
        "`app`",
        "`a`",
        "up.sql",
        "Restore the file",
        "`braid accept a`",
        &edits[0].stored,
        &edits[0].current,
    ] {
        assert!(msg.contains(needle), "{needle:?} not in {msg}");
    }
    // Downgrade is refused too; nothing ran.
    assert!(matches!(
        runner.downgrade(db.as_mut(), "base", &no_events).await,
        Err(RunError::Edited { .. })
    ));
    assert_eq!(rows(db.as_mut()).await, ids(&["a"]));

    let status = runner.status(db.as_mut()).await.unwrap();
    assert_eq!(status.edited.len(), 1);
    assert_eq!(status.edited[0].0, "a");
    assert_eq!(status.pending, ids(&["b"]));

    let accepted = runner.accept(db.as_mut(), "a").await.unwrap();
    assert_eq!(accepted.old, edits[0].stored);
    assert_eq!(accepted.new, edits[0].current);
    let detail = scalar(
        db.as_mut(),
        "SELECT detail FROM braid_version_log WHERE action = 'accept' AND revision = 'a'",
    )
    .await;
    let detail = detail.as_str().unwrap().to_string();
    assert!(
        detail.contains(&accepted.old) && detail.contains(&accepted.new),
        "{detail}"
    );

    let r = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(r.steps.len(), 1);

    // Accepting something not applied is an error.
    runner
        .downgrade(db.as_mut(), "a", &no_events)
        .await
        .unwrap();
    assert!(matches!(
        runner.accept(db.as_mut(), "b").await,
        Err(RunError::NotApplied { .. })
    ));
}

#[tokio::test]
async fn database_ahead_of_the_graph_is_refused() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &["a"]);
    f.table("zz", &["b"]);
    let full = f.graph();
    let mut db = f.open("app").await;
    Runner::new("app", &full, opts())
        .unwrap()
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();

    // A checkout without b and zz.
    let old = braid_graph::Graph::build(vec![f.revs[0].clone()]).unwrap();
    let runner = Runner::new("app", &old, opts()).unwrap();
    for result in [
        runner.upgrade(db.as_mut(), "heads", &no_events).await,
        runner.downgrade(db.as_mut(), "base", &no_events).await,
        runner.stamp(db.as_mut(), &["a"], false, &no_events).await,
    ] {
        let err = result.unwrap_err();
        let RunError::UnknownRevisions { revisions, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(revisions, &ids(&["b", "zz"]));
        let msg = err.to_string();
        for needle in [
            "database `app` has revisions `b`, `zz` applied",
            "not in the migrations directory",
            "different branch",
        ] {
            assert!(msg.contains(needle), "{needle:?} not in {msg}");
        }
    }
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b", "zz"]));

    // status and current report them without failing.
    let status = runner.status(db.as_mut()).await.unwrap();
    assert_eq!(status.unknown, ids(&["b", "zz"]));
    let cur = runner.current(db.as_mut()).await.unwrap();
    assert_eq!(cur.unknown, ids(&["b", "zz"]));
    assert_eq!(cur.heads, ids(&["a"]));

    // stamp --purge is the way out.
    runner
        .stamp(db.as_mut(), &["a"], true, &no_events)
        .await
        .unwrap();
    assert_eq!(rows(db.as_mut()).await, ids(&["a"]));
}

#[tokio::test]
async fn current_shows_dependency_heads() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &["a"]);
    f.table("x", &[]);
    f.table("y", &["x"]).depends_on = vec!["a".into()];
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    let r = runner.upgrade(db.as_mut(), "y", &no_events).await.unwrap();
    let mut applied: Vec<String> = r.steps.iter().map(|s| s.revision.clone()).collect();
    applied.sort();
    assert_eq!(applied, ids(&["a", "x", "y"]));
    let cur = runner.current(db.as_mut()).await.unwrap();
    let mut heads = cur.heads.clone();
    heads.sort();
    assert_eq!(heads, ids(&["a", "y"]));
    assert_eq!(cur.rows.len(), 3);
}

#[tokio::test]
async fn reading_never_creates_the_store() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("fresh").await;
    let cur = runner.current(db.as_mut()).await.unwrap();
    assert!(cur.heads.is_empty() && cur.rows.is_empty());
    let status = runner.status(db.as_mut()).await.unwrap();
    assert_eq!(status.pending, ids(&["a", "b", "c1", "c2", "d"]));
    assert_eq!(status.heads_in_graph, 1);
    assert!(status.edited.is_empty() && status.unknown.is_empty());
    assert!(tables(db.as_mut()).await.is_empty());
}

#[tokio::test]
async fn store_schema_is_versioned_and_newer_stores_are_refused() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    runner.upgrade(db.as_mut(), "a", &no_events).await.unwrap();
    assert_eq!(
        tables(db.as_mut()).await,
        ids(&[
            "braid_version",
            "braid_version_log",
            "braid_version_meta",
            "t_a"
        ])
    );
    let v = scalar(
        db.as_mut(),
        "SELECT value FROM braid_version_meta WHERE key = 'schema_version'",
    )
    .await;
    assert_eq!(v, Value::Text(STORE_SCHEMA_VERSION.to_string()));
    db.execute(
        "UPDATE braid_version_meta SET value = '3' WHERE key = 'schema_version'",
        &[],
    )
    .await
    .unwrap();
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::NewerStore { found: 3, .. }));
    assert!(err.to_string().contains("upgrade braid"), "{err}");
    assert!(runner.current(db.as_mut()).await.is_err());
}

/// A store of schema 1 (as the first Braid wrote it) is read as it is, and brought to schema 2
/// by the first run that takes the lock — even one interrupted after its first column.
#[tokio::test]
async fn a_schema_1_store_is_upgraded_under_the_lock() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    for sql in [
        "CREATE TABLE braid_version (revision VARCHAR(64) NOT NULL PRIMARY KEY, checksum VARCHAR(80) NOT NULL, applied_at VARCHAR(40) NOT NULL, duration_ms BIGINT NOT NULL, applied_by VARCHAR(255) NOT NULL, statements_done INTEGER NULL, statements_total INTEGER NULL, statement_hashes TEXT NULL)",
        "CREATE TABLE braid_version_meta (key VARCHAR(64) NOT NULL PRIMARY KEY, value VARCHAR(255) NOT NULL)",
        "CREATE TABLE braid_version_log (id INTEGER PRIMARY KEY AUTOINCREMENT, at VARCHAR(40) NOT NULL, by VARCHAR(255) NOT NULL, action VARCHAR(32) NOT NULL, revision VARCHAR(64) NULL, detail TEXT NULL)",
        "INSERT INTO braid_version_meta (key, value) VALUES ('schema_version', '1')",
        // An earlier upgrade got as far as the first new column.
        "ALTER TABLE braid_version ADD COLUMN statement_started INTEGER NULL",
    ] {
        db.execute(sql, &[]).await.unwrap();
    }
    let meta = "SELECT value FROM braid_version_meta WHERE key = 'schema_version'";
    // `current` reads a schema-1 store without changing it.
    assert!(runner.current(db.as_mut()).await.unwrap().heads.is_empty());
    assert_eq!(scalar(db.as_mut(), meta).await, Value::Text("1".into()));
    runner.upgrade(db.as_mut(), "a", &no_events).await.unwrap();
    let v = scalar(
        db.as_mut(),
        "SELECT value FROM braid_version_meta WHERE key = 'schema_version'",
    )
    .await;
    assert_eq!(v, Value::Text("2".into()));
    let n = scalar(
        db.as_mut(),
        "SELECT count(*) FROM pragma_table_info('braid_version') WHERE name IN ('statement_started', 'session')",
    )
    .await;
    assert_eq!(n, Value::Int(2));
    assert_eq!(
        runner.current(db.as_mut()).await.unwrap().heads,
        ids(&["a"])
    );
}

/// A schema-1 store whose creation stopped before its schema version was recorded (MySQL
/// commits each CREATE) is completed as schema 2, columns included.
#[tokio::test]
async fn a_half_created_schema_1_store_is_completed() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    for sql in [
        "CREATE TABLE braid_version (revision VARCHAR(64) NOT NULL PRIMARY KEY, checksum VARCHAR(80) NOT NULL, applied_at VARCHAR(40) NOT NULL, duration_ms BIGINT NOT NULL, applied_by VARCHAR(255) NOT NULL, statements_done INTEGER NULL, statements_total INTEGER NULL, statement_hashes TEXT NULL)",
        "CREATE TABLE braid_version_meta (key VARCHAR(64) NOT NULL PRIMARY KEY, value VARCHAR(255) NOT NULL)",
    ] {
        db.execute(sql, &[]).await.unwrap();
    }
    runner.upgrade(db.as_mut(), "a", &no_events).await.unwrap();
    let n = scalar(
        db.as_mut(),
        "SELECT count(*) FROM pragma_table_info('braid_version') WHERE name IN ('statement_started', 'session')",
    )
    .await;
    assert_eq!(n, Value::Int(2));
    let meta = "SELECT value FROM braid_version_meta WHERE key = 'schema_version'";
    assert_eq!(scalar(db.as_mut(), meta).await, Value::Text("2".into()));
}

#[tokio::test]
async fn custom_table_name_and_validation() {
    let f = merged();
    let g = f.graph();
    let options = RunOptions {
        version_table: "app_versions".into(),
        ..opts()
    };
    let runner = Runner::new("app", &g, options).unwrap();
    let mut db = f.open("app").await;
    runner.upgrade(db.as_mut(), "b", &no_events).await.unwrap();
    let n = scalar(db.as_mut(), "SELECT count(*) FROM app_versions").await;
    assert_eq!(n, Value::Int(2));

    for bad in ["x; DROP TABLE y", "1abc", ""] {
        let options = RunOptions {
            version_table: bad.into(),
            ..opts()
        };
        assert!(matches!(
            Runner::new("app", &g, options),
            Err(RunError::Config(_))
        ));
    }
}

#[tokio::test]
async fn branches_restrict_what_a_database_receives() {
    let mut f = Fixture::new();
    f.table("a", &[]).branch_labels = vec!["core".into()];
    f.table("b", &["a"]);
    f.table("au1", &[]).branch_labels = vec!["audit".into()];
    f.table("au2", &["au1"]);
    let g = f.graph();
    let options = RunOptions {
        branches: vec!["audit".into()],
        ..opts()
    };
    let runner = Runner::new("audit_db", &g, options).unwrap();
    let mut db = f.open("audit").await;
    let r = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    let order: Vec<&str> = r.steps.iter().map(|s| s.revision.as_str()).collect();
    assert_eq!(order, ["au1", "au2"]);
    assert_eq!(r.to, ids(&["au2"]));
    let status = runner.status(db.as_mut()).await.unwrap();
    assert!(status.pending.is_empty());

    let options = RunOptions {
        branches: vec!["nope".into()],
        ..opts()
    };
    let err = Runner::new("x", &g, options).unwrap_err();
    assert!(err.to_string().contains("`nope`"), "{err}");
}

#[tokio::test]
async fn lock_timeout_is_reported() {
    let f = merged();
    let g = f.graph();
    let mut holder = f.open("app").await;
    holder
        .lock("braid:braid_version", Duration::from_secs(1))
        .await
        .unwrap();
    let options = RunOptions {
        lock_timeout: Duration::from_millis(150),
        ..opts()
    };
    let runner = Runner::new("app", &g, options).unwrap();
    let mut db = f.open("app").await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Lock { .. }), "{err:?}");
    assert!(err.to_string().contains("`app`"), "{err}");
    holder.unlock("braid:braid_version").await.unwrap();
    // Released on the error path too: the next run proceeds.
    runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
}

#[tokio::test]
async fn events_follow_the_steps() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    let events = Mutex::new(Vec::new());
    let sink = |e: &Event| events.lock().unwrap().push(e.clone());
    runner.upgrade(db.as_mut(), "heads", &sink).await.unwrap();
    let events = events.into_inner().unwrap();
    assert_eq!(events.len(), 1 + 5 * 2 + 1);
    assert!(
        matches!(&events[1], Event::StepStarted { revision, index: 1, total: 5, .. } if revision == "a")
    );
    assert!(matches!(&events[2], Event::StepFinished { revision, .. } if revision == "a"));
    assert!(matches!(&events[11], Event::Finished { steps: 5, .. }));
}

#[tokio::test]
async fn failing_non_transactional_migration_records_progress_and_resumes() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.sql(
        "b",
        &["a"],
        "CREATE TABLE t_b (id INTEGER);\nINSERT INTO nope VALUES (1);\nCREATE TABLE t_b2 (id INTEGER);",
        "DROP TABLE t_b2;\nDROP TABLE t_b;",
    )
    .transactional = false;
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    let RunError::Step(failure) = &err else {
        panic!("{err:?}")
    };
    assert!(!failure.transactional);
    assert_eq!(failure.statement_index, Some(2));
    assert_eq!(failure.statement_total, Some(3));
    assert_eq!(failure.statements_done, Some(1));
    let msg = err.to_string();
    assert!(msg.contains("statement 2 of 3"), "{msg}");
    assert!(
        msg.contains("statement 1 of 3 is applied and was not rolled back"),
        "{msg}"
    );
    assert!(msg.contains("resumes at statement 2"), "{msg}");
    // The row records the progress; `b` is not applied yet.
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b"]));
    assert_eq!(
        scalar(
            db.as_mut(),
            "SELECT statements_done FROM braid_version WHERE revision = 'b'"
        )
        .await,
        Value::Int(1)
    );
    let current = runner.current(db.as_mut()).await.unwrap();
    assert!(
        current
            .rows
            .iter()
            .any(|r| r.revision == "b" && r.partial.is_some())
    );
    let status = runner.status(db.as_mut()).await.unwrap();
    assert_eq!(status.pending, ids(&["b"]));

    // A downgrade across it is refused, with the ways out.
    let refused = runner
        .downgrade(db.as_mut(), "base", &no_events)
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            RunError::Partial {
                done: 1,
                total: 3,
                downgrading: false,
                ..
            }
        ),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("resumes at statement 2"),
        "{refused}"
    );

    // Editing a statement that already ran is caught before anything runs.
    let up = f.rev_dir("b").join("up.sql");
    std::fs::write(&up, "CREATE TABLE t_b (id BIGINT);\nCREATE TABLE t_x (id INTEGER);\nCREATE TABLE t_b2 (id INTEGER);").unwrap();
    let g2 = f.graph();
    let runner2 = Runner::new("app", &g2, opts()).unwrap();
    let changed = runner2
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(
        changed.to_string().contains("cannot resume: statement 1"),
        "{changed}"
    );
    assert_eq!(user_tables(db.as_mut()).await, ids(&["t_a", "t_b"]));

    // Fixing the failed statement resumes there: statement 1 does not run twice.
    std::fs::write(&up, "CREATE TABLE t_b (id INTEGER);\nCREATE TABLE t_x (id INTEGER);\nCREATE TABLE t_b2 (id INTEGER);").unwrap();
    let g3 = f.graph();
    let runner3 = Runner::new("app", &g3, opts()).unwrap();
    let done = runner3
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(done.steps.len(), 1);
    assert_eq!(
        user_tables(db.as_mut()).await,
        ids(&["t_a", "t_b", "t_b2", "t_x"])
    );
    assert_eq!(
        scalar(
            db.as_mut(),
            "SELECT statements_done FROM braid_version WHERE revision = 'b'"
        )
        .await,
        Value::Null
    );
    let status = runner3.status(db.as_mut()).await.unwrap();
    assert!(
        status.pending.is_empty() && status.edited.is_empty(),
        "{status:?}"
    );
}

#[tokio::test]
async fn stamp_several_heads_then_merge() {
    let f = merged();
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    let r = runner
        .stamp(db.as_mut(), &["c1", "c2"], false, &no_events)
        .await
        .unwrap();
    assert_eq!(r.to, ids(&["c1", "c2"]));
    let r = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert_eq!(r.from, ids(&["c1", "c2"]));
    assert_eq!(r.to, ids(&["d"]));
    assert_eq!(r.steps.len(), 1);
    // Body of d ran; stamped ones did not.
    assert_eq!(user_tables(db.as_mut()).await, ids(&["t_d"]));
}

#[tokio::test]
async fn stamp_settles_a_partially_applied_migration() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.sql(
        "b",
        &["a"],
        "CREATE TABLE t_b (id INTEGER);\nINSERT INTO nope VALUES (1);",
        "DROP TABLE t_b;",
    )
    .transactional = false;
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    // "I undid it by hand": stamping below it drops the progress row.
    let r = runner
        .stamp(db.as_mut(), &["a"], false, &no_events)
        .await
        .unwrap();
    assert_eq!(r.to, ids(&["a"]));
    assert_eq!(rows(db.as_mut()).await, ids(&["a"]));
    runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    // "I finished it by hand": stamping it records it complete.
    runner
        .stamp(db.as_mut(), &["b"], false, &no_events)
        .await
        .unwrap();
    assert_eq!(rows(db.as_mut()).await, ids(&["a", "b"]));
    assert_eq!(
        scalar(
            db.as_mut(),
            "SELECT statements_done FROM braid_version WHERE revision = 'b'"
        )
        .await,
        Value::Null
    );
    assert!(runner.status(db.as_mut()).await.unwrap().partial.is_empty());
}

#[tokio::test]
async fn a_stamp_elsewhere_leaves_partial_progress_alone() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.sql(
        "b",
        &["a"],
        "CREATE TABLE t_b (id INTEGER);\nINSERT INTO nope VALUES (1);",
        "DROP TABLE t_b;",
    )
    .transactional = false;
    f.table("c", &[]);
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    runner
        .upgrade(db.as_mut(), "b", &no_events)
        .await
        .unwrap_err();
    runner
        .stamp(db.as_mut(), &["c"], false, &no_events)
        .await
        .unwrap();
    assert_eq!(
        scalar(
            db.as_mut(),
            "SELECT statements_done FROM braid_version WHERE revision = 'b'"
        )
        .await,
        Value::Int(1),
        "an unrelated stamp keeps b's progress"
    );
    assert_eq!(
        runner.status(db.as_mut()).await.unwrap().partial,
        ids(&["b"])
    );
}

#[tokio::test]
async fn a_script_with_its_own_transaction_is_reported_as_committed() {
    // SQLite's table-rebuild recipe runs outside Braid's transaction and opens its own.
    let mut f = Fixture::new();
    f.sql(
        "a",
        &[],
        "CREATE TABLE t_a (id INTEGER);\nBEGIN;\nCREATE TABLE t_x (id INTEGER);\nINSERT INTO nope VALUES (1);\nCOMMIT;",
        "DROP TABLE t_a;",
    )
    .transactional = false;
    f.table("b", &[]);
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    let err = runner
        .upgrade(db.as_mut(), "a", &no_events)
        .await
        .unwrap_err();
    let RunError::Step(failure) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failure.statement_index, Some(4));
    assert_eq!(
        failure.statements_done,
        Some(1),
        "only statement 1 was committed: {err}"
    );
    assert_eq!(
        user_tables(db.as_mut()).await,
        ids(&["t_a"]),
        "the script's own transaction was rolled back"
    );
    // The connection is not left inside the script's transaction.
    db.begin().await.unwrap();
    db.rollback().await.unwrap();
}

#[tokio::test]
async fn an_empty_migration_is_refused_but_an_empty_merge_is_not() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &[]);
    f.sql("m", &["a", "b"], "-- joins a and b\n", "");
    f.sql("c", &["m"], "-- TODO: write the migration\n", "-- TODO\n");
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    runner.upgrade(db.as_mut(), "m", &no_events).await.unwrap();
    let err = runner
        .upgrade(db.as_mut(), "c", &no_events)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("has no statements"), "{err}");
    assert_eq!(
        rows(db.as_mut()).await,
        ids(&["a", "b", "m"]),
        "nothing ran"
    );
}

/// A database with nothing to apply is read once, without the lock — but never let through
/// when the locked path would refuse it: an edited migration, an unknown revision, a store of
/// another schema version, a migration stopped part-way.
#[tokio::test]
async fn an_up_to_date_database_is_still_validated() {
    let mut f = Fixture::new();
    f.table("a", &[]);
    f.table("b", &["a"]);
    let g = f.graph();
    let runner = Runner::new("app", &g, opts()).unwrap();
    let mut db = f.open("app").await;
    runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    let up_to_date = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap();
    assert!(up_to_date.steps.is_empty());

    let original = std::fs::read_to_string(f.rev_dir("a").join("up.sql")).unwrap();
    f.write_up(
        "a",
        "CREATE TABLE t_a (id INTEGER PRIMARY KEY, edited TEXT);",
    );
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Edited { .. }), "{err}");
    f.write_up("a", &original);

    let exec = async |db: &mut Box<dyn braid_driver::Driver>, sql: &str| {
        db.execute(sql, &[]).await.unwrap();
    };
    exec(&mut db, "INSERT INTO braid_version (revision, checksum, applied_at, duration_ms, applied_by) VALUES ('zz', 'x', '2026-01-01', 0, 't')").await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::UnknownRevisions { .. }), "{err}");
    exec(&mut db, "DELETE FROM braid_version WHERE revision = 'zz'").await;

    exec(
        &mut db,
        "UPDATE braid_version_meta SET value = '3' WHERE key = 'schema_version'",
    )
    .await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::NewerStore { .. }), "{err}");
    exec(
        &mut db,
        "UPDATE braid_version_meta SET value = '2' WHERE key = 'schema_version'",
    )
    .await;

    // `b`'s downgrade stopped after its first statement: still applied, not finished.
    exec(&mut db, "UPDATE braid_version SET statements_done = 1, statements_total = 2, statement_hashes = 'down:0000000000000000' WHERE revision = 'b'").await;
    let err = runner
        .upgrade(db.as_mut(), "heads", &no_events)
        .await
        .unwrap_err();
    assert!(matches!(err, RunError::Partial { .. }), "{err}");
}
