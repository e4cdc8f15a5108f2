//! Driver-specific tests against a real Postgres server (`BRAID_TEST_POSTGRES_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Each test makes its own database and drops it.
//! Without a server they are skipped with a message, unless `BRAID_REQUIRE_SERVERS=1`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use braid_driver::{Driver, ErrorKind, Value};
use braid_postgres::{PostgresDriver, open};

fn base_url() -> String {
    std::env::var("BRAID_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "braid_{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `url` with its database replaced by `db`.
fn with_db(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let query = rest[authority_end..]
        .find('?')
        .map_or("", |q| &rest[authority_end + q..]);
    format!("{scheme}://{}/{db}{query}", &rest[..authority_end])
}

/// A fresh database; dropped by [`Db::drop_db`].
struct Db {
    admin: PostgresDriver,
    name: String,
    url: String,
}

impl Db {
    async fn new() -> Option<Db> {
        let mut admin = match open(&base_url()).await {
            Ok(d) => d,
            Err(e) if std::env::var("BRAID_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
                panic!("Postgres unavailable and BRAID_REQUIRE_SERVERS=1: {e}")
            }
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "SKIPPED [postgres]: {e}");
                return None;
            }
        };
        let name = unique("pgt");
        admin
            .execute_script(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create database");
        let url = with_db(&base_url(), &name);
        Some(Db { admin, name, url })
    }

    async fn open(&self) -> PostgresDriver {
        open(&self.url).await.expect("open test database")
    }

    async fn drop_db(mut self) {
        self.admin
            .execute_script(&format!("DROP DATABASE {} WITH (FORCE)", self.name))
            .await
            .expect("drop database");
        Box::new(self.admin).close().await.unwrap();
    }
}

async fn one(d: &mut PostgresDriver, sql: &str, params: &[Value]) -> Value {
    let mut rows = d
        .query(sql, params)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(rows.rows.len(), 1, "{sql}");
    rows.rows.remove(0).remove(0)
}

#[tokio::test]
async fn url_errors_redact_the_password() {
    let err = open("postgres://u:secret@127.0.0.1:1/x").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Connect, "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(err.message.contains("u:***@127.0.0.1:1"), "{err}");
    let err = open("postgres://u:secret@127.0.0.1:99999/x")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Url, "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
    let err = open("mysql://u:secret@h/x").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Url, "{err}");
    assert!(!err.to_string().contains("secret"), "{err}");
}

/// The server here trusts 127.0.0.1 (any password is accepted), so a wrong password cannot be
/// provoked; a role that may not log in and a role that does not exist are the same SQLSTATE
/// class (28) and must map to `Auth`, and a missing database to `NoDatabase`.
#[tokio::test]
async fn connect_errors_have_kinds() {
    let Some(mut db) = Db::new().await else {
        return;
    };
    let role = unique("nologin");
    db.admin
        .execute_script(&format!("CREATE ROLE {role} NOLOGIN PASSWORD 'pw'"))
        .await
        .unwrap();
    let (scheme_host, _) = db.url.split_once('@').unwrap();
    let (scheme, _) = scheme_host.split_once("://").unwrap();
    let host_db = db.url.split_once('@').unwrap().1.to_string();

    let url = format!("{scheme}://{role}:pw@{host_db}");
    let err = open(&url).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert_eq!(err.code.as_deref(), Some("28000"), "{err}");
    assert!(!err.message.contains(":pw@"), "{err}");

    let url = format!("{scheme}://{}:pw@{host_db}", unique("ghost"));
    assert_eq!(open(&url).await.unwrap_err().kind, ErrorKind::Auth);

    let err = open(&with_db(&db.url, &unique("missing")))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoDatabase, "{err}");
    assert_eq!(err.code.as_deref(), Some("3D000"), "{err}");

    db.admin
        .execute_script(&format!("DROP ROLE {role}"))
        .await
        .unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn application_name_is_braid_unless_set() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut d = db.open().await;
    let sql = "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()";
    assert_eq!(one(&mut d, sql, &[]).await, Value::from("braid"));
    let mut custom = open(&format!("{}?application_name=deployer", db.url))
        .await
        .unwrap();
    assert_eq!(one(&mut custom, sql, &[]).await, Value::from("deployer"));
    Box::new(custom).close().await.unwrap();
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn lock_timeout_names_the_holder_and_drop_releases() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut a = db.open().await;
    let mut b = db.open().await;
    a.lock("braid:public.braid_version", Duration::ZERO)
        .await
        .unwrap();
    // A's lock connection, seen from the server.
    let holder = one(
        &mut b,
        "SELECT pid::bigint FROM pg_stat_activity WHERE datname = current_database() \
         AND application_name = 'braid' AND pid <> pg_backend_pid() ORDER BY backend_start DESC \
         LIMIT 1",
        &[],
    )
    .await;
    let Value::Int(pid) = holder else {
        panic!("{holder:?}")
    };
    let started = Instant::now();
    let err = b
        .lock("braid:public.braid_version", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::LockTimeout);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(err.message.contains(&format!("pid {pid}")), "{err}");
    assert!(err.message.contains("application 'braid'"), "{err}");
    assert!(err.message.contains("client 127.0.0.1"), "{err}");
    assert!(err.message.contains("braid:public.braid_version"), "{err}");

    // The lock is per key: another version table is another lock.
    b.lock("braid:public.other_version", Duration::ZERO)
        .await
        .unwrap();

    // A dies without unlocking or closing: its sessions end and the lock goes with them.
    drop(a);
    b.lock("braid:public.braid_version", Duration::from_secs(5))
        .await
        .expect("lock after the holder's connection dropped");
    b.unlock("braid:public.braid_version").await.unwrap();
    b.unlock("braid:public.braid_version").await.unwrap();
    Box::new(b).close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn lock_is_per_database() {
    let (Some(one_db), Some(other_db)) = (Db::new().await, Db::new().await) else {
        return;
    };
    let mut a = one_db.open().await;
    let mut b = other_db.open().await;
    a.lock("braid:public.v", Duration::ZERO).await.unwrap();
    b.lock("braid:public.v", Duration::ZERO).await.unwrap();
    Box::new(a).close().await.unwrap();
    Box::new(b).close().await.unwrap();
    one_db.drop_db().await;
    other_db.drop_db().await;
}

#[tokio::test]
async fn create_index_concurrently_runs_in_scripts() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut d = db.open().await;
    d.execute_script(
        "CREATE TABLE t (id bigint PRIMARY KEY, email text);\n\
         INSERT INTO t SELECT g, 'u' || g FROM generate_series(1, 100) g;\n\
         CREATE UNIQUE INDEX CONCURRENTLY t_email ON t (email);\n\
         DROP INDEX CONCURRENTLY t_email;\n\
         CREATE INDEX CONCURRENTLY t_email2 ON t (lower(email)) INCLUDE (id);",
    )
    .await
    .unwrap();
    let schema = d.introspect().await.unwrap();
    let idx = &schema.tables[0].indexes;
    assert_eq!(idx.len(), 1, "{idx:?}");
    assert_eq!(idx[0].columns, ["lower(email)"]);
    assert_eq!(idx[0].include, ["id"]);
    // Inside a transaction, Postgres refuses it (and says so).
    d.begin().await.unwrap();
    let err = d
        .execute_script("CREATE INDEX CONCURRENTLY t_x ON t (email)")
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("25001"), "{err}");
    d.rollback().await.unwrap();
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn scripts_split_like_postgres() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut d = db.open().await;
    d.execute_script(
        "CREATE TABLE t (x text);\n\
         CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\n\
         BEGIN NEW.x := NEW.x || ';'; RETURN NEW; END; $$;\n\
         CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f();\n\
         CREATE FUNCTION g(i int) RETURNS int LANGUAGE sql\n\
         BEGIN ATOMIC SELECT CASE WHEN i > 0 THEN i ELSE 0 END; END;\n\
         INSERT INTO t VALUES (E'a\\';b'), ('c;d');\n\
         SELECT 1; -- rows are discarded\n",
    )
    .await
    .unwrap();
    let rows = d.query("SELECT x FROM t ORDER BY x", &[]).await.unwrap();
    assert_eq!(
        rows.rows,
        vec![vec![Value::from("a';b;")], vec![Value::from("c;d;")]]
    );
    assert_eq!(one(&mut d, "SELECT g(5)", &[]).await, Value::Int(5));
    let err = d
        .execute_script("SELECT 1;\nSELECT 1/0;\nSELECT 3")
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("22012"));
    let pos = err.position.unwrap();
    assert_eq!((pos.index, pos.total), (2, Some(3)));
    assert_eq!(pos.statement, "SELECT 1/0");
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn parameters_adapt_to_column_types() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut d = db.open().await;
    d.execute_script(
        "CREATE TYPE mood AS ENUM ('ok', 'sad');\n\
         CREATE TABLE p (i2 int2, i4 int4, i8 int8, t text, v varchar(10), b bytea, f4 real, \
         f8 float8, n numeric(20, 4), bo bool, u uuid, ts timestamptz, dt date, j jsonb, m mood)",
    )
    .await
    .unwrap();
    let n = d
        .execute(
            "INSERT INTO p VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            &[
                Value::Int(-7),
                Value::Int(70_000),
                Value::Int(i64::MAX),
                Value::from("text"),
                Value::from("varchar"),
                Value::Bytes(vec![0, 1, 255]),
                Value::Float(0.5),
                Value::Float(0.1),
                Value::Int(12),
                Value::Int(1),
                Value::from("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                Value::from("2025-03-01 12:30:00.25+00"),
                Value::from("0044-03-15 BC"),
                Value::from(r#"{"a": [1, 2]}"#),
                Value::from("sad"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    d.execute_script("SET TIME ZONE 'UTC'").await.unwrap();
    let rows = d.query("SELECT * FROM p", &[]).await.unwrap();
    assert_eq!(
        rows.rows[0],
        vec![
            Value::Int(-7),
            Value::Int(70_000),
            Value::Int(i64::MAX),
            Value::from("text"),
            Value::from("varchar"),
            Value::Bytes(vec![0, 1, 255]),
            Value::Float(0.5),
            Value::Float(0.1),
            Value::from("12.0000"),
            Value::Int(1),
            Value::from("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            Value::from("2025-03-01 12:30:00.25+00"),
            Value::from("0044-03-15 BC"),
            Value::from(r#"{"a": [1, 2]}"#),
            Value::from("sad"),
        ]
    );
    // The binary decoding agrees with the server's own text output.
    for expr in [
        "'-12345.678900'::numeric",
        "'0.0001'::numeric",
        "'1e20'::numeric",
        "'NaN'::numeric",
        "'1999-12-31'::date",
        "'2000-02-29'::date",
        "'infinity'::timestamp",
        "'1970-01-01 00:00:00.000001'::timestamp",
        "'0001-01-01 00:00:00 BC'::timestamp",
        "'23:59:59.999'::time",
        "'2024-06-01 08:00:00+02'::timestamptz",
    ] {
        let got = one(&mut d, &format!("SELECT {expr}"), &[]).await;
        let want = one(&mut d, &format!("SELECT ({expr})::text"), &[]).await;
        assert_eq!(got, want, "{expr}");
    }
    // Out of range and mismatched values are errors, not truncation.
    let err = d
        .execute("INSERT INTO p (i2) VALUES ($1)", &[Value::Int(70_000)])
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Sql, "{err}");
    assert!(err.message.contains("out of range"), "{err}");
    let err = d.query("SELECT $1", &[Value::Int(1)]).await.unwrap_err();
    assert!(err.message.contains("$1::bigint"), "{err}");
    assert_eq!(
        one(&mut d, "SELECT $1::bigint + 1", &[Value::Int(1)]).await,
        Value::Int(2)
    );
    let err = d.query("SELECT '1 day'::interval", &[]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
    // NULL binds to anything.
    let n = d
        .execute(
            "INSERT INTO p (i4, t, b, u) VALUES ($1, $2, $3, $4)",
            &[Value::Null, Value::Null, Value::Null, Value::Null],
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn errors_carry_sqlstate_detail_and_commit_of_failed_transaction_fails() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut d = db.open().await;
    d.execute_script("CREATE TABLE u (id int PRIMARY KEY)")
        .await
        .unwrap();
    d.execute("INSERT INTO u VALUES (1)", &[]).await.unwrap();
    let err = d
        .execute("INSERT INTO u VALUES (1)", &[])
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("23505"));
    assert!(
        err.message.contains("DETAIL: Key (id)=(1) already exists."),
        "{err}"
    );

    d.begin().await.unwrap();
    d.execute("INSERT INTO u VALUES (1)", &[])
        .await
        .unwrap_err();
    let err = d.commit().await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("25P02"), "{err}");
    d.rollback().await.unwrap();
    d.begin().await.unwrap();
    d.execute("INSERT INTO u VALUES (2)", &[]).await.unwrap();
    d.commit().await.unwrap();
    assert_eq!(
        one(&mut d, "SELECT count(*) FROM u", &[]).await,
        Value::Int(2)
    );
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

#[test]
fn works_on_a_current_thread_runtime_like_the_cli() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let Some(db) = Db::new().await else {
            return;
        };
        let mut d = db.open().await;
        d.lock("k", Duration::from_secs(1)).await.unwrap();
        assert!(
            d.server_version()
                .await
                .unwrap()
                .starts_with(char::is_numeric)
        );
        Box::new(d).close().await.unwrap();
        db.drop_db().await;
    });
}

/// `COPY … FROM STDIN` would need the copy sub-protocol and break the connection; it is refused
/// before anything is sent, and the connection stays usable.
#[tokio::test]
async fn copy_from_stdin_is_refused_cleanly() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut d = db.open().await;
    let err = d
        .execute_script("CREATE TABLE c (x int);\n-- load\nCOPY c FROM STDIN;")
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
    let pos = err.position.unwrap();
    assert_eq!(
        (pos.index, pos.statement.as_str()),
        (2, "COPY c FROM STDIN")
    );
    let err = d.execute("copy c to stdout", &[]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err}");
    let err = d
        .query("SELECT $1", &[Value::Float(1.5)])
        .await
        .unwrap_err();
    assert!(err.message.contains("$1::float8"), "{err}");
    assert_eq!(
        one(&mut d, "SELECT count(*) FROM c", &[]).await,
        Value::Int(0)
    );
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

/// Polls `check` every 50 ms until it answers true, for at most `within`; false on timeout.
async fn eventually(within: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The pid of the session holding an advisory lock in database `name`, seen from `admin`.
async fn advisory_holder(admin: &mut PostgresDriver, name: &str) -> Option<i64> {
    let rows = admin
        .query(
            "SELECT l.pid::bigint FROM pg_locks l JOIN pg_database d ON d.oid = l.database \
             WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1",
            &[Value::from(name)],
        )
        .await
        .unwrap()
        .rows;
    match rows.first().map(|r| &r[0]) {
        Some(Value::Int(pid)) => Some(*pid),
        _ => None,
    }
}

#[tokio::test]
async fn a_terminated_lock_session_is_noticed_and_unlock_says_lost() {
    let Some(mut db) = Db::new().await else {
        return;
    };
    let key = "braid:public.braid_version";
    let mut d = db.open().await;
    d.lock(key, Duration::ZERO).await.unwrap();
    assert!(d.lock_held(key).await.unwrap());
    assert!(!d.lock_held("braid:public.other").await.unwrap());
    let pid = advisory_holder(&mut db.admin, &db.name)
        .await
        .expect("a holder");
    one(
        &mut db.admin,
        "SELECT pg_terminate_backend($1::int)",
        &[Value::Int(pid)],
    )
    .await;
    assert!(
        eventually(Duration::from_secs(10), async || {
            !d.lock_held(key).await.unwrap()
        })
        .await,
        "lock_held still true after its session was terminated"
    );
    let err = d.unlock(key).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::LockLost, "{err}");
    // The next lock opens a fresh lock connection.
    d.lock(key, Duration::ZERO).await.unwrap();
    assert!(d.lock_held(key).await.unwrap());
    d.unlock(key).await.unwrap();
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

/// `idle_session_timeout` set on the test's own database (so no other test is disturbed) ends
/// idle sessions after 1 s; the lock connection, pinged every 200 ms, survives it.
#[tokio::test]
async fn the_keepalive_keeps_the_lock_through_an_idle_timeout() {
    let Some(mut db) = Db::new().await else {
        return;
    };
    let version = one(&mut db.admin, "SHOW server_version_num", &[]).await;
    if matches!(&version, Value::Text(v) if v.parse::<u32>().is_ok_and(|v| v < 140000)) {
        let _ = writeln!(std::io::stderr(), "SKIPPED: idle_session_timeout needs 14+");
        return db.drop_db().await;
    }
    db.admin
        .execute_script(&format!(
            "ALTER DATABASE {} SET idle_session_timeout = '1s'",
            db.name
        ))
        .await
        .unwrap();
    let key = "braid:public.braid_version";
    let mut d = db.open().await;
    d.set_keepalive_interval(Duration::from_millis(200));
    d.lock(key, Duration::ZERO).await.unwrap();
    // A control: an idle connection to the same database is ended by the server.
    let control = db.open().await;
    assert!(
        eventually(Duration::from_secs(15), async || {
            control.client().is_closed()
        })
        .await,
        "idle_session_timeout did not end an idle session"
    );
    // Well past the timeout: the lock's session is still there, and still holds the lock.
    assert!(d.lock_held(key).await.unwrap());
    let holder = advisory_holder(&mut db.admin, &db.name).await;
    assert!(holder.is_some(), "the advisory lock was released");
    d.unlock(key).await.unwrap();
    Box::new(control).close().await.unwrap();
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test]
async fn session_activity_sees_a_running_statement() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut busy = db.open().await;
    let mut watcher = db.open().await;
    let id = busy.session_id().await.unwrap().expect("a session id");
    assert_eq!(busy.session_id().await.unwrap().as_deref(), Some(&*id));
    let (pid, start) = id.split_once('@').expect("pid@start");
    let pid: i64 = pid.parse().unwrap();
    start.parse::<i64>().expect("start in µs");
    // The work connection's session, not the lock connection's.
    busy.lock("k", Duration::ZERO).await.unwrap();
    let own = one(&mut busy, "SELECT pg_backend_pid()::bigint", &[]).await;
    assert_eq!(own, Value::Int(pid));
    // An idle session is alive: its client may still send the statement it was marked for.
    let idle = watcher
        .session_activity(&id)
        .await
        .unwrap()
        .expect("idle is alive");
    assert!(idle.contains("idle for"), "{idle}");

    let running = tokio::spawn(async move {
        busy.query("SELECT pg_sleep(3)::text AS braid_test", &[])
            .await
            .unwrap();
        busy
    });
    let mut seen = None;
    let found = eventually(Duration::from_secs(10), async || {
        seen = watcher.session_activity(&id).await.unwrap();
        seen.as_deref().is_some_and(|s| s.contains("running for"))
    })
    .await;
    assert!(found, "the running statement was not seen");
    let seen = seen.unwrap();
    assert!(seen.contains(&format!("Postgres backend {pid}")), "{seen}");
    assert!(seen.contains("application `braid`"), "{seen}");
    assert!(seen.contains("running for"), "{seen}");
    assert!(
        seen.contains("SELECT pg_sleep(3)::text AS braid_test"),
        "{seen}"
    );
    // The same pid with another start time is another session (a reused pid).
    let reused = format!("{pid}@1");
    assert_eq!(watcher.session_activity(&reused).await.unwrap(), None);

    let busy = running.await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), async || {
            watcher
                .session_activity(&id)
                .await
                .unwrap()
                .is_some_and(|s| s.contains("idle for"))
        })
        .await,
        "still busy after the statement finished"
    );
    Box::new(busy).close().await.unwrap();
    assert!(
        eventually(Duration::from_secs(10), async || {
            watcher.session_activity(&id).await.unwrap().is_none()
        })
        .await,
        "a closed session has ended"
    );
    let err = watcher.session_activity("not-an-id").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal, "{err}");
    assert!(err.message.contains("not-an-id"), "{err}");
    Box::new(watcher).close().await.unwrap();
    db.drop_db().await;
}

/// Another role's session shows no start time without `pg_read_all_stats`: it may be the
/// recorded one, so it is reported (a run waits for it) rather than taken for ended.
#[tokio::test]
async fn session_activity_reports_a_session_it_may_not_see() {
    let Some(db) = Db::new().await else {
        return;
    };
    let mut owner = db.open().await;
    let id = owner.session_id().await.unwrap().expect("a session id");
    let role = format!("{}_viewer", db.name);
    owner
        .execute_script(&format!("CREATE ROLE {role} LOGIN"))
        .await
        .unwrap();
    let viewer_url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(
        viewer_url, db.url,
        "the test URL names the user: {}",
        db.url
    );
    let mut viewer = open(&viewer_url).await.expect("open as the viewer role");
    let seen = viewer
        .session_activity(&id)
        .await
        .unwrap()
        .expect("reported");
    assert!(seen.contains("pg_read_all_stats"), "{seen}");
    Box::new(viewer).close().await.unwrap();
    owner
        .execute_script(&format!("DROP ROLE {role}"))
        .await
        .unwrap();
    Box::new(owner).close().await.unwrap();
    db.drop_db().await;
}

/// A scoped snapshot holds exactly what the whole one holds of the scope, and reads nothing
/// else: tables by their name (whatever its case) or an index's or constraint's, triggers by
/// their name or table, views, sequences and routines by name, and a sequence by the name of
/// the table that owns it (a `serial` column's).
#[tokio::test]
async fn scoped_snapshots_read_only_what_the_scope_names() {
    use braid_driver::{Kinds, Scope};
    let Some(db) = Db::new().await else {
        return;
    };
    let mut d = db.open().await;
    d.execute_script(
        "CREATE TABLE \"Users\" (id serial PRIMARY KEY, email text NOT NULL CHECK (email <> ''));\n\
         CREATE UNIQUE INDEX ix_users_email ON \"Users\" (lower(email));\n\
         CREATE TABLE orders (id bigint PRIMARY KEY, user_id int REFERENCES \"Users\" (id),\n\
                              CONSTRAINT ck_orders_id CHECK (id > 0));\n\
         CREATE TABLE other (id int);\n\
         CREATE TABLE \"Übersicht\" (id int);\n\
         CREATE VIEW active_users AS SELECT id FROM \"Users\";\n\
         CREATE SEQUENCE invoice_numbers;\n\
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;\n\
         CREATE TRIGGER trg_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();",
    )
    .await
    .unwrap();
    let whole = d.introspect().await.unwrap();
    let scopes = [
        Scope::named(["users"]),
        Scope::named(["ORDERS"]),
        Scope::named(["ix_users_email"]),
        Scope::named(["ck_orders_id"]),
        Scope::named(["trg_touch"]),
        Scope::named(["active_users", "invoice_numbers", "touch"]),
        Scope::named(["übersicht"]),
        Scope::named(["it's nothing", "back\\slash\\'"]),
        Scope::named(Vec::<&str>::new()),
        Scope::Whole,
    ];
    // The same scopes for a revision that only creates, alters or drops tables: no view,
    // sequence or routine by its name.
    let tables_alone = scopes
        .iter()
        .map(|scope| scope.clone().of_kinds(Kinds::TABLES));
    for scope in scopes.clone().into_iter().chain(tables_alone) {
        let scoped = d.introspect_within(&scope).await.unwrap();
        assert_eq!(scoped.within(&scope), whole.within(&scope), "{scope:?}");
    }
    let named = Scope::named(["active_users", "invoice_numbers", "touch"]);
    let tables = d
        .introspect_within(&named.clone().of_kinds(Kinds::TABLES))
        .await
        .unwrap();
    let all = d.introspect_within(&named).await.unwrap();
    assert!(tables.views.is_empty() && tables.sequences.is_empty() && tables.routines.is_empty());
    assert!(!all.views.is_empty() && !all.sequences.is_empty() && !all.routines.is_empty());
    let users = d.introspect_within(&Scope::named(["users"])).await.unwrap();
    let tables: Vec<&str> = users.tables.iter().map(|t| t.name.as_str()).collect();
    // A name with a letter `lower` does not fold in the catalogue's collation is read as a
    // candidate; `within` trims it.
    assert_eq!(tables, ["Users", "Übersicht"]);
    assert!(users.views.is_empty() && users.routines.is_empty());
    let owned: Vec<&str> = users.sequences.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(owned, ["Users_id_seq"]);
    let by_index = d
        .introspect_within(&Scope::named(["ix_users_email"]))
        .await
        .unwrap();
    assert_eq!(by_index.tables.len(), 2);
    // The snapshot's statements are prepared on the connection; a migration that deallocates
    // them does not break the next snapshot.
    d.execute_script("DEALLOCATE ALL; SET backslash_quote = off")
        .await
        .unwrap();
    assert_eq!(d.introspect().await.unwrap(), whole);
    Box::new(d).close().await.unwrap();
    db.drop_db().await;
}
