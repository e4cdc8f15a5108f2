//! Offline SQL for each dialect.

mod common;

use braid_driver::Dialect;
use braid_runner::{OfflineOp, SourceBodies, StoreNames, parse_range, render_offline};
use common::Fixture;

fn fixture() -> Fixture {
    let mut f = Fixture::new();
    f.sql(
        "a",
        &[],
        "CREATE TABLE t_a (id INTEGER PRIMARY KEY);\n",
        "DROP TABLE t_a;\n",
    );
    f.sql(
        "b",
        &["a"],
        "INSERT INTO t_a VALUES (1)",
        "DELETE FROM t_a;",
    );
    f.sql("c", &["b"], "CREATE INDEX i ON t_a (id);", "DROP INDEX i;")
        .transactional = false;
    f
}

fn render(f: &Fixture, dialect: Dialect, op: OfflineOp<'_>) -> String {
    render_offline(
        &f.graph(),
        dialect,
        &op,
        &StoreNames::default(),
        &SourceBodies,
    )
    .unwrap()
}

#[test]
fn ranges_parse() {
    assert_eq!(parse_range("a:b"), (Some("a"), "b"));
    assert_eq!(parse_range(":b"), (None, "b"));
    assert_eq!(parse_range("heads"), (None, "heads"));
}

#[test]
fn postgres_upgrade_from_base() {
    let f = fixture();
    let sql = render(
        &f,
        Dialect::Postgres,
        OfflineOp::Upgrade {
            from: None,
            to: "heads",
        },
    );
    assert!(
        sql.contains("CREATE TABLE IF NOT EXISTS \"braid_version\" ("),
        "{sql}"
    );
    assert!(sql.contains("CREATE TABLE IF NOT EXISTS \"braid_version_meta\""));
    assert!(sql.contains("ON CONFLICT DO NOTHING"));
    assert!(sql.contains("-- Running upgrade  -> a\n"));
    assert!(sql.contains("-- Running upgrade a -> b\n"));
    assert!(sql.contains("-- Running upgrade b -> c\n"));
    assert!(
        sql.contains("INSERT INTO t_a VALUES (1);\n"),
        "terminated: {sql}"
    );
    assert!(sql.contains(
        "INSERT INTO \"braid_version\" (\"revision\", \"checksum\", \"applied_at\", \"duration_ms\", \"applied_by\") VALUES ('a', 'sha256:"
    ));
    // BEGIN/COMMIT per transactional migration; c runs without.
    assert_eq!(sql.matches("BEGIN;").count(), 2, "{sql}");
    assert_eq!(sql.matches("COMMIT;").count(), 2);
    let c = sql.find("-> c\n").unwrap();
    assert!(!sql[c..].contains("BEGIN;"));
    // Order: a before b before c.
    assert!(sql.find("-> a\n").unwrap() < sql.find("-> b\n").unwrap());
    assert!(sql.find("-> b\n").unwrap() < c);
}

#[test]
fn mysql_has_no_transactions_and_backquotes() {
    let f = fixture();
    let sql = render(
        &f,
        Dialect::Mysql,
        OfflineOp::Upgrade {
            from: None,
            to: "heads",
        },
    );
    assert!(!sql.contains("BEGIN;") && !sql.contains("COMMIT;"), "{sql}");
    assert!(sql.contains("CREATE TABLE IF NOT EXISTS `braid_version` ("));
    assert!(sql.contains("INSERT IGNORE INTO `braid_version_meta`"));
    assert!(sql.contains("AUTO_INCREMENT"));
    assert!(sql.contains("INSERT INTO `braid_version` (`revision`"));
    assert!(sql.contains("UTC_TIMESTAMP"));
}

#[test]
fn sqlite_range_upgrade_skips_ddl() {
    let f = fixture();
    let sql = render(
        &f,
        Dialect::Sqlite,
        OfflineOp::Upgrade {
            from: Some("a"),
            to: "b",
        },
    );
    assert!(!sql.contains("CREATE TABLE IF NOT EXISTS"), "{sql}");
    assert!(!sql.contains("-> a\n"));
    assert!(sql.contains("BEGIN;\n-- Running upgrade a -> b\nINSERT INTO t_a VALUES (1);\nINSERT INTO \"braid_version\""));
    assert!(sql.contains("strftime("));
}

#[test]
fn downgrade_needs_a_range_and_deletes_rows() {
    let f = fixture();
    let g = f.graph();
    let err = render_offline(
        &g,
        Dialect::Postgres,
        &OfflineOp::Downgrade {
            from: None,
            to: "base",
        },
        &StoreNames::default(),
        &SourceBodies,
    )
    .unwrap_err();
    assert!(err.to_string().contains("FROM:TO"), "{err}");

    let sql = render(
        &f,
        Dialect::Postgres,
        OfflineOp::Downgrade {
            from: Some("c"),
            to: "a",
        },
    );
    assert!(sql.contains("-- Running downgrade c -> b\n"), "{sql}");
    assert!(sql.contains("-- Running downgrade b -> a\n"));
    assert!(sql.contains("DROP INDEX i;"));
    assert!(sql.contains("DELETE FROM \"braid_version\" WHERE \"revision\" = 'c';"));
    assert!(sql.contains("DELETE FROM \"braid_version\" WHERE \"revision\" = 'b';"));
    assert!(!sql.contains("'a';"));
    assert!(sql.find("downgrade c").unwrap() < sql.find("downgrade b").unwrap());
}

#[test]
fn stamp_writes_rows_only() {
    let f = fixture();
    let targets = ["b"];
    let sql = render(
        &f,
        Dialect::Sqlite,
        OfflineOp::Stamp {
            from: None,
            to: &targets,
        },
    );
    assert!(sql.contains("CREATE TABLE IF NOT EXISTS"));
    assert!(sql.contains("VALUES ('a', 'sha256:"), "{sql}");
    assert!(sql.contains("VALUES ('b', 'sha256:"));
    assert!(!sql.contains("t_a"), "no body: {sql}");

    let targets = ["a"];
    let sql = render(
        &f,
        Dialect::Mysql,
        OfflineOp::Stamp {
            from: Some("c"),
            to: &targets,
        },
    );
    assert!(
        sql.contains("DELETE FROM `braid_version` WHERE `revision` = 'c';"),
        "{sql}"
    );
    assert!(sql.contains("DELETE FROM `braid_version` WHERE `revision` = 'b';"));
    assert!(!sql.contains("INSERT INTO `braid_version`"));
}

/// The offline script, applied to a real SQLite file, leaves the store the online runner reads.
#[tokio::test]
async fn sqlite_script_applies_and_the_runner_agrees() {
    let f = fixture();
    let sql = render(
        &f,
        Dialect::Sqlite,
        OfflineOp::Upgrade {
            from: None,
            to: "heads",
        },
    );
    let mut db = f.open("offline").await;
    db.execute_script(&sql).await.unwrap();
    let g = f.graph();
    let runner = braid_runner::Runner::new("offline", &g, Default::default()).unwrap();
    let status = runner.status(db.as_mut()).await.unwrap();
    assert!(
        status.pending.is_empty() && status.edited.is_empty(),
        "{status:?}"
    );
    let cur = runner.current(db.as_mut()).await.unwrap();
    assert_eq!(cur.heads, vec!["c".to_string()]);
    assert!(cur.rows[0].applied_at.ends_with('Z'));
}
