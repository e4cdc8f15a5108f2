//! The driver conformance tests. Each takes a fresh, empty database and asserts real results;
//! [`crate::conformance_suite!`] runs every one of them for a target.
//!
//! The SQL is written to be portable across Postgres, MySQL/MariaDB and SQLite; where it cannot
//! be (placeholders, the bytes type), it asks the [`TestDb`] for the dialect's form.

use std::time::{Duration, Instant};

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, Rows, Schema, Table, Value};

use crate::TestDb;

const LOCK_KEY: &str = "braid_conformance";

/// The column type for byte strings.
fn bytes_type(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "BYTEA",
        Dialect::Mysql => "LONGBLOB",
        Dialect::Sqlite => "BLOB",
    }
}

async fn script(db: &mut TestDb, sql: &str) {
    if let Err(e) = db.driver.execute_script(sql).await {
        panic!(
            "[{}] script failed: {e} ({:?})\n{sql}",
            db.target, e.position
        );
    }
}

async fn exec(db: &mut TestDb, sql: &str, params: &[Value]) -> u64 {
    match db.driver.execute(sql, params).await {
        Ok(n) => n,
        Err(e) => panic!("[{}] execute failed: {e}\n{sql}", db.target),
    }
}

async fn query(driver: &mut dyn Driver, target: &str, sql: &str, params: &[Value]) -> Rows {
    match driver.query(sql, params).await {
        Ok(rows) => rows,
        Err(e) => panic!("[{target}] query failed: {e}\n{sql}"),
    }
}

async fn rows(db: &mut TestDb, sql: &str, params: &[Value]) -> Vec<Vec<Value>> {
    query(db.driver.as_mut(), db.target, sql, params).await.rows
}

async fn introspect(db: &mut TestDb) -> Schema {
    match db.driver.introspect().await {
        Ok(s) => s,
        Err(e) => panic!("[{}] introspect failed: {e}", db.target),
    }
}

fn table<'a>(schema: &'a Schema, name: &str) -> &'a Table {
    schema
        .tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("table {name} missing from {schema:#?}"))
}

/// Inserts each value into a fresh column of type `ty`, reads them back in order and compares
/// exactly; then finds each non-null value again by equality through a parameter.
async fn round_trip(db: &mut TestDb, ty: &str, values: &[Value]) {
    script(
        db,
        &format!("CREATE TABLE rt (id BIGINT NOT NULL PRIMARY KEY, v {ty})"),
    )
    .await;
    let insert = format!("INSERT INTO rt (id, v) VALUES ({})", db.params(2));
    for (i, v) in values.iter().enumerate() {
        let n = exec(db, &insert, &[Value::Int(i as i64), v.clone()]).await;
        assert_eq!(n, 1, "[{}] insert of {v:?} changed {n} rows", db.target);
    }
    let got: Vec<Value> = rows(db, "SELECT v FROM rt ORDER BY id", &[])
        .await
        .into_iter()
        .map(|mut r| {
            assert_eq!(r.len(), 1);
            r.remove(0)
        })
        .collect();
    assert_eq!(
        got, values,
        "[{}] {ty} values changed in a round trip",
        db.target
    );

    let lookup = format!("SELECT id FROM rt WHERE v = {}", db.param(1));
    for (i, v) in values.iter().enumerate() {
        if v.is_null() {
            continue;
        }
        let found = rows(db, &lookup, std::slice::from_ref(v)).await;
        assert_eq!(
            found,
            vec![vec![Value::Int(i as i64)]],
            "[{}] lookup of {v:?} by parameter",
            db.target
        );
    }
}

pub async fn value_round_trip_integers(db: &mut TestDb) {
    let values = [i64::MIN, i64::MAX, 0, -1, 1, 4_294_967_296].map(Value::Int);
    round_trip(db, "BIGINT", &values).await;
}

pub async fn value_round_trip_floats(db: &mut TestDb) {
    let values = [
        0.0,
        -1.5,
        std::f64::consts::PI,
        1e-300,
        -1.7976931348623157e308,
        f64::MIN_POSITIVE,
        0.1 + 0.2,
    ]
    .map(Value::Float);
    round_trip(db, "DOUBLE PRECISION", &values).await;
}

pub async fn value_round_trip_text(db: &mut TestDb) {
    let values = [
        "",
        "plain ascii",
        "emoji 😀🎉👩‍👩‍👧",
        "CJK 漢字 かな 한글",
        "combining e\u{301} a\u{308} n\u{303}",
        "quotes ' \" and \\ backslash",
        "line\nbreak\ttab",
        "trailing spaces  ",
    ]
    .map(Value::from);
    round_trip(db, "TEXT", &values).await;
}

pub async fn value_round_trip_bytes(db: &mut TestDb) {
    let values = [
        vec![0x00, 0xFF, 0x00, 0x7F, 0x80],
        vec![0x00],
        vec![0xFF; 3],
        (0..=255u8).collect(),
        b"text-like bytes".to_vec(),
    ]
    .map(Value::Bytes);
    let ty = bytes_type(db.dialect);
    round_trip(db, ty, &values).await;
}

pub async fn value_round_trip_nulls(db: &mut TestDb) {
    let bytes = bytes_type(db.dialect);
    script(
        db,
        &format!(
            "CREATE TABLE nulls (id BIGINT NOT NULL PRIMARY KEY, i BIGINT, f DOUBLE PRECISION, \
             t TEXT, b {bytes})"
        ),
    )
    .await;
    let insert = format!(
        "INSERT INTO nulls (id, i, f, t, b) VALUES ({})",
        db.params(5)
    );
    let params = [
        Value::Int(1),
        Value::Null,
        Value::Null,
        Value::Null,
        Value::Null,
    ];
    assert_eq!(exec(db, &insert, &params).await, 1);
    let got = rows(db, "SELECT i, f, t, b FROM nulls", &[]).await;
    assert_eq!(got, vec![vec![Value::Null; 4]], "[{}] NULLs", db.target);
    // `Option::None` converts to NULL too.
    let none: Option<i64> = None;
    let got = rows(db, "SELECT id FROM nulls WHERE i IS NULL", &[]).await;
    assert_eq!(got, vec![vec![Value::Int(1)]]);
    assert_eq!(Value::from(none), Value::Null);
}

pub async fn query_reports_column_names(db: &mut TestDb) {
    script(
        db,
        "CREATE TABLE cols (id BIGINT NOT NULL PRIMARY KEY, label TEXT)",
    )
    .await;
    let insert = format!("INSERT INTO cols (id, label) VALUES ({})", db.params(2));
    exec(db, &insert, &[Value::Int(7), "seven".into()]).await;
    let r = query(
        db.driver.as_mut(),
        db.target,
        "SELECT id AS the_id, label FROM cols",
        &[],
    )
    .await;
    assert_eq!(r.columns, ["the_id", "label"]);
    assert_eq!(r.rows, vec![vec![Value::Int(7), Value::from("seven")]]);
    // An empty result still has its columns.
    let sql = format!("SELECT id, label FROM cols WHERE id = {}", db.param(1));
    let r = query(db.driver.as_mut(), db.target, &sql, &[Value::Int(8)]).await;
    assert_eq!(r.columns, ["id", "label"]);
    assert!(r.rows.is_empty());
}

pub async fn execute_reports_affected_rows(db: &mut TestDb) {
    script(
        db,
        "CREATE TABLE aff (id BIGINT NOT NULL PRIMARY KEY, n BIGINT NOT NULL)",
    )
    .await;
    let n = exec(
        db,
        "INSERT INTO aff (id, n) VALUES (1, 10), (2, 20), (3, 30)",
        &[],
    )
    .await;
    assert_eq!(n, 3, "[{}] insert count", db.target);
    let sql = format!("UPDATE aff SET n = n + 1 WHERE id >= {}", db.param(1));
    assert_eq!(
        exec(db, &sql, &[Value::Int(2)]).await,
        2,
        "[{}] update count",
        db.target
    );
    assert_eq!(exec(db, "DELETE FROM aff WHERE id = 99", &[]).await, 0);
    assert_eq!(
        exec(db, "DELETE FROM aff", &[]).await,
        3,
        "[{}] delete count",
        db.target
    );
}

pub async fn multi_statement_script(db: &mut TestDb) {
    script(
        db,
        "CREATE TABLE ms (id BIGINT NOT NULL PRIMARY KEY, note VARCHAR(100) NOT NULL);\n\
         -- a comment; with a semicolon\n\
         INSERT INTO ms (id, note) VALUES (1, 'a;b');\n\
         /* a block comment; also with one */\n\
         INSERT INTO ms (id, note) VALUES (2, 'it''s');\n\
         INSERT INTO ms (id, note) VALUES (3, '-- not a comment');\n\
         UPDATE ms SET note = 'updated' WHERE id = 2;\n",
    )
    .await;
    let got = rows(db, "SELECT id, note FROM ms ORDER BY id", &[]).await;
    assert_eq!(
        got,
        vec![
            vec![Value::Int(1), Value::from("a;b")],
            vec![Value::Int(2), Value::from("updated")],
            vec![Value::Int(3), Value::from("-- not a comment")],
        ],
        "[{}] script results",
        db.target
    );
}

fn script_error(target: &str, result: Result<(), DriverError>) -> DriverError {
    match result {
        Ok(()) => panic!("[{target}] the script should have failed"),
        Err(e) => e,
    }
}

pub async fn failing_script_reports_position(db: &mut TestDb) {
    let sql = "CREATE TABLE fs (id BIGINT NOT NULL PRIMARY KEY);\n\
               INSERT INTO fs (id) VALUES (1);\n\
               INSERT INTO fs (id) VALUES (1);\n\
               INSERT INTO fs (id) VALUES (2);\n";
    let err = script_error(db.target, db.driver.execute_script(sql).await);
    assert_eq!(err.kind, ErrorKind::Sql, "[{}] {err}", db.target);
    let pos = err
        .position
        .as_ref()
        .unwrap_or_else(|| panic!("[{}] no position in {err:?}", db.target));
    assert_eq!(pos.index, 3, "[{}] {pos:?}", db.target);
    assert!(
        matches!(pos.total, None | Some(4)),
        "[{}] {pos:?}",
        db.target
    );
    assert!(
        pos.statement.contains("INSERT INTO fs (id) VALUES (1)"),
        "[{}] {pos:?}",
        db.target
    );
    // Nothing after the failing statement ran.
    let after = rows(db, "SELECT id FROM fs WHERE id = 2", &[]).await;
    assert!(after.is_empty(), "[{}] statement 4 ran", db.target);
}

pub async fn syntax_error_in_script_reports_position(db: &mut TestDb) {
    let sql = "CREATE TABLE se (id BIGINT);\nSELEC 1;\nCREATE TABLE se2 (id BIGINT);";
    let err = script_error(db.target, db.driver.execute_script(sql).await);
    assert_eq!(err.kind, ErrorKind::Sql, "[{}] {err}", db.target);
    let pos = err
        .position
        .as_ref()
        .unwrap_or_else(|| panic!("[{}] no position in {err:?}", db.target));
    assert_eq!(pos.index, 2, "[{}] {pos:?}", db.target);
    assert!(
        matches!(pos.total, None | Some(3)),
        "[{}] {pos:?}",
        db.target
    );
    assert!(pos.statement.contains("SELEC 1"), "[{}] {pos:?}", db.target);
}

pub async fn commit_persists(db: &mut TestDb) {
    script(db, "CREATE TABLE tx (id BIGINT NOT NULL PRIMARY KEY)").await;
    db.driver.begin().await.expect("begin");
    exec(db, "INSERT INTO tx (id) VALUES (1)", &[]).await;
    db.driver.commit().await.expect("commit");
    let mut other = db.connect().await;
    let seen = query(other.as_mut(), db.target, "SELECT id FROM tx", &[]).await;
    assert_eq!(
        seen.rows,
        vec![vec![Value::Int(1)]],
        "[{}] committed row",
        db.target
    );
    other.close().await.expect("close");
}

pub async fn rollback_undoes_dml(db: &mut TestDb) {
    script(
        db,
        "CREATE TABLE rb (id BIGINT NOT NULL PRIMARY KEY);\nINSERT INTO rb (id) VALUES (1);",
    )
    .await;
    db.driver.begin().await.expect("begin");
    exec(db, "INSERT INTO rb (id) VALUES (2)", &[]).await;
    exec(db, "DELETE FROM rb WHERE id = 1", &[]).await;
    assert_eq!(
        rows(db, "SELECT id FROM rb", &[]).await,
        vec![vec![Value::Int(2)]]
    );
    db.driver.rollback().await.expect("rollback");
    let got = rows(db, "SELECT id FROM rb ORDER BY id", &[]).await;
    assert_eq!(
        got,
        vec![vec![Value::Int(1)]],
        "[{}] after rollback",
        db.target
    );
}

pub async fn rollback_undoes_ddl_when_transactional(db: &mut TestDb) {
    if !db.dialect.transactional_ddl() {
        // Nothing to check: the dialect commits DDL implicitly.
        return;
    }
    db.driver.begin().await.expect("begin");
    script(
        db,
        "CREATE TABLE ddl_rb (id BIGINT NOT NULL PRIMARY KEY);\nINSERT INTO ddl_rb (id) VALUES (1);",
    )
    .await;
    db.driver.rollback().await.expect("rollback");
    let schema = introspect(db).await;
    assert!(
        schema.tables.iter().all(|t| t.name != "ddl_rb"),
        "[{}] table survived rollback: {schema:#?}",
        db.target
    );
    let err = db
        .driver
        .query("SELECT id FROM ddl_rb", &[])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Sql, "[{}] {err}", db.target);
}

pub async fn lock_excludes_other_connection(db: &mut TestDb) {
    let mut b = db.connect().await;
    db.driver
        .lock(LOCK_KEY, Duration::from_secs(1))
        .await
        .expect("A locks");

    let started = Instant::now();
    let err = b
        .lock(LOCK_KEY, Duration::from_millis(200))
        .await
        .expect_err("B must not get A's lock");
    assert_eq!(err.kind, ErrorKind::LockTimeout, "[{}] {err}", db.target);
    assert!(!err.message.is_empty());
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "[{}] B gave up after {:?}, before its timeout",
        db.target,
        started.elapsed()
    );

    // Another key is another lock.
    b.lock("braid_conformance_other", Duration::from_secs(1))
        .await
        .expect("B locks another key");
    b.unlock("braid_conformance_other")
        .await
        .expect("B unlocks other");

    db.driver.unlock(LOCK_KEY).await.expect("A unlocks");
    b.lock(LOCK_KEY, Duration::from_secs(2))
        .await
        .expect("B locks once A released");
    let err = db
        .driver
        .lock(LOCK_KEY, Duration::from_millis(50))
        .await
        .expect_err("A must now wait for B");
    assert_eq!(err.kind, ErrorKind::LockTimeout, "[{}] {err}", db.target);
    b.unlock(LOCK_KEY).await.expect("B unlocks");
    b.unlock(LOCK_KEY).await.expect("B unlocks twice");
    db.driver.unlock(LOCK_KEY).await.expect("A unlocks again");
    b.close().await.expect("close B");
}

pub async fn lock_released_by_close(db: &mut TestDb) {
    let mut a = db.connect().await;
    a.lock(LOCK_KEY, Duration::from_secs(1))
        .await
        .expect("A locks");
    a.close().await.expect("close A");
    db.driver
        .lock(LOCK_KEY, Duration::from_secs(2))
        .await
        .expect("lock after the holder closed");
    db.driver.unlock(LOCK_KEY).await.expect("unlock");
}

pub async fn unlock_without_lock_is_ok(db: &mut TestDb) {
    db.driver
        .unlock("braid_never_locked")
        .await
        .expect("unlocking a lock not held is fine");
}

const INTROSPECTION_DDL: &str = "\
CREATE TABLE parent (
    id BIGINT NOT NULL PRIMARY KEY,
    email VARCHAR(200) NOT NULL,
    status VARCHAR(20) NOT NULL DEFAULT 'new',
    nick VARCHAR(50)
);
CREATE UNIQUE INDEX parent_email_uq ON parent (email);
CREATE TABLE child (
    id BIGINT NOT NULL PRIMARY KEY,
    parent_id BIGINT NOT NULL,
    a BIGINT,
    b BIGINT,
    CONSTRAINT child_parent_fk FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE
);
CREATE INDEX child_a_b ON child (a, b);
";

pub async fn introspection(db: &mut TestDb) {
    script(db, INTROSPECTION_DDL).await;
    let schema = introspect(db).await;
    let t = db.target;
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["child", "parent"], "[{t}] tables");

    let parent = table(&schema, "parent");
    let cols: Vec<&str> = parent.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        cols,
        ["id", "email", "status", "nick"],
        "[{t}] parent columns"
    );
    let [id, email, status, nick] = &parent.columns[..] else {
        unreachable!()
    };
    assert!(id.primary_key && !id.nullable, "[{t}] {id:?}");
    assert!(!id.data_type.is_empty(), "[{t}] {id:?}");
    assert!(!email.primary_key && !email.nullable, "[{t}] {email:?}");
    assert!(
        email.data_type.to_ascii_lowercase().contains("char"),
        "[{t}] {email:?}"
    );
    assert!(!status.nullable, "[{t}] {status:?}");
    assert!(
        status.default.as_deref().is_some_and(|d| d.contains("new")),
        "[{t}] {status:?}"
    );
    assert!(
        nick.nullable && nick.default.is_none() && !nick.primary_key,
        "[{t}] {nick:?}"
    );

    let uq = parent
        .indexes
        .iter()
        .find(|i| i.name == "parent_email_uq")
        .unwrap_or_else(|| panic!("[{t}] unique index missing: {parent:#?}"));
    assert!(uq.unique, "[{t}] {uq:?}");
    assert_eq!(uq.columns, ["email"], "[{t}] {uq:?}");
    assert!(parent.foreign_keys.is_empty(), "[{t}] {parent:#?}");

    let child = table(&schema, "child");
    let ab = child
        .indexes
        .iter()
        .find(|i| i.name == "child_a_b")
        .unwrap_or_else(|| panic!("[{t}] index missing: {child:#?}"));
    assert!(!ab.unique, "[{t}] {ab:?}");
    assert_eq!(ab.columns, ["a", "b"], "[{t}] {ab:?}");

    assert_eq!(child.foreign_keys.len(), 1, "[{t}] {child:#?}");
    let fk = &child.foreign_keys[0];
    assert_eq!(fk.columns, ["parent_id"], "[{t}] {fk:?}");
    assert_eq!(fk.referenced_table, "parent", "[{t}] {fk:?}");
    assert_eq!(fk.referenced_columns, ["id"], "[{t}] {fk:?}");
    assert_eq!(
        fk.on_delete
            .as_deref()
            .map(str::to_ascii_uppercase)
            .as_deref(),
        Some("CASCADE"),
        "[{t}] {fk:?}"
    );
    if let Some(name) = &fk.name {
        assert_eq!(name, "child_parent_fk", "[{t}] {fk:?}");
    }
}

pub async fn introspection_is_deterministic(db: &mut TestDb) {
    script(
        db,
        "CREATE TABLE zeta (id BIGINT NOT NULL PRIMARY KEY, y BIGINT, x BIGINT);\n\
         CREATE TABLE alpha (id BIGINT NOT NULL PRIMARY KEY, z_id BIGINT REFERENCES zeta (id), \
             m_id BIGINT);\n\
         CREATE TABLE mid (id BIGINT NOT NULL PRIMARY KEY);\n\
         CREATE INDEX zeta_y ON zeta (y);\n\
         CREATE INDEX zeta_x ON zeta (x);\n",
    )
    .await;
    let first = introspect(db).await;
    let names: Vec<&str> = first.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["alpha", "mid", "zeta"],
        "[{}] table order",
        db.target
    );
    let zeta = table(&first, "zeta");
    let cols: Vec<&str> = zeta.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(cols, ["id", "y", "x"], "[{}] declaration order", db.target);
    let idx: Vec<&str> = zeta
        .indexes
        .iter()
        .map(|i| i.name.as_str())
        .filter(|n| n.starts_with("zeta_"))
        .collect();
    assert_eq!(idx, ["zeta_x", "zeta_y"], "[{}] index order", db.target);
    let mut other = db.connect().await;
    let second = other.introspect().await.expect("introspect");
    assert_eq!(
        first, second,
        "[{}] introspection differs between runs",
        db.target
    );
    other.close().await.expect("close");
}

pub async fn unique_violation_carries_code_and_message(db: &mut TestDb) {
    script(
        db,
        "CREATE TABLE uv (id BIGINT NOT NULL PRIMARY KEY, email VARCHAR(100) NOT NULL);\n\
         CREATE UNIQUE INDEX uv_email_uq ON uv (email);",
    )
    .await;
    let insert = format!("INSERT INTO uv (id, email) VALUES ({})", db.params(2));
    exec(db, &insert, &[Value::Int(1), "a@example.com".into()]).await;
    let err = db
        .driver
        .execute(&insert, &[Value::Int(2), "a@example.com".into()])
        .await
        .expect_err("duplicate email must fail");
    let t = db.target;
    assert_eq!(err.kind, ErrorKind::Sql, "[{t}] {err:?}");
    assert!(
        err.code.as_deref().is_some_and(|c| !c.is_empty()),
        "[{t}] {err:?}"
    );
    let msg = err.message.to_ascii_lowercase();
    assert!(
        msg.contains("email"),
        "[{t}] message names the constraint: {err:?}"
    );
    assert!(
        msg.contains("unique") || msg.contains("duplicate"),
        "[{t}] message says what failed: {err:?}"
    );
    // The code is shown when the error is displayed.
    let code = err.code.clone().unwrap_or_default();
    assert!(err.to_string().contains(&code), "[{t}] {err}");
}

pub async fn syntax_error_is_sql_error(db: &mut TestDb) {
    let t = db.target;
    let err = db
        .driver
        .execute("SELEC 1", &[])
        .await
        .expect_err("bad syntax");
    assert_eq!(err.kind, ErrorKind::Sql, "[{t}] {err:?}");
    assert!(err.code.is_some(), "[{t}] {err:?}");
    assert!(!err.message.is_empty(), "[{t}] {err:?}");

    let err = db
        .driver
        .query("SELECT * FROM no_such_table", &[])
        .await
        .expect_err("unknown table");
    assert_eq!(err.kind, ErrorKind::Sql, "[{t}] {err:?}");
    assert!(err.message.contains("no_such_table"), "[{t}] {err:?}");
}

pub async fn server_version_and_dialect(db: &mut TestDb) {
    let t = db.target;
    let version = db.driver.server_version().await.expect("server_version");
    assert!(!version.trim().is_empty(), "[{t}] empty server version");
    assert!(
        version.chars().any(|c| c.is_ascii_digit()),
        "[{t}] version {version:?}"
    );
    assert_eq!(db.driver.dialect(), db.dialect, "[{t}] dialect");
    assert!(!db.driver.name().is_empty(), "[{t}] empty driver name");
}
