//! braid-mysql against a real server (`BRAID_TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306/test`). Each test makes its own database and drops it. When the
//! server is unreachable the tests pass with a visible `SKIPPED` line, unless
//! `BRAID_REQUIRE_SERVERS=1`.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use braid_driver::{Driver, ErrorKind, Kinds, Schema, Scope, Value};
use braid_mysql::{MysqlDriver, open};

fn base_url() -> String {
    std::env::var("BRAID_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn require_servers() -> bool {
    std::env::var("BRAID_REQUIRE_SERVERS").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn unique(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "braid_t_{prefix}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `base` with its path (database) replaced by `db` (query options dropped).
fn with_db(base: &str, db: &str) -> String {
    let (scheme, rest) = base.split_once("://").expect("URL with scheme");
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    format!("{scheme}://{authority}/{db}")
}

/// `url` with its credentials replaced by `userinfo` (`user:password`).
fn with_user(url: &str, userinfo: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("URL with scheme");
    let hostpart = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    format!("{scheme}://{userinfo}@{hostpart}")
}

/// An admin connection to the server, or `None` (skip) when it is unreachable.
async fn admin() -> Option<MysqlDriver> {
    match open(&base_url()).await {
        Ok(d) => Some(d),
        Err(e) if e.kind == ErrorKind::Connect && !require_servers() => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED [mysql]: {e} (set BRAID_REQUIRE_SERVERS=1 to fail instead)"
            );
            None
        }
        Err(e) => panic!("cannot reach the MySQL test server: {e}"),
    }
}

/// A fresh database: its URL, and the admin connection that drops it in [`Fresh::drop_db`].
struct Fresh {
    admin: MysqlDriver,
    name: String,
    url: String,
    _guard: DropOnPanic,
}

/// Drops the database when a test panics before [`Fresh::drop_db`] (which disarms it). `Drop`
/// cannot await, so it runs the drop on a thread with its own runtime.
struct DropOnPanic(Option<String>);

impl Drop for DropOnPanic {
    fn drop(&mut self) {
        let Some(name) = self.0.take() else { return };
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = open(&base_url()).await.ok()?;
                let _ = admin
                    .execute(&format!("DROP DATABASE IF EXISTS `{name}`"), &[])
                    .await;
                Box::new(admin).close().await.ok()
            })
        })
        .join();
    }
}

impl Fresh {
    async fn new() -> Option<Fresh> {
        let mut admin = admin().await?;
        let name = unique("drv");
        admin
            .execute(
                &format!("CREATE DATABASE `{name}` CHARACTER SET utf8mb4"),
                &[],
            )
            .await
            .expect("create database");
        let url = with_db(&base_url(), &name);
        let guard = DropOnPanic(Some(name.clone()));
        Some(Fresh {
            admin,
            name,
            url,
            _guard: guard,
        })
    }

    async fn connect(&self) -> MysqlDriver {
        open(&self.url)
            .await
            .expect("connect to the fresh database")
    }

    async fn drop_db(mut self) {
        self._guard.0 = None;
        self.admin
            .execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name), &[])
            .await
            .expect("drop database");
        Box::new(self.admin).close().await.expect("close admin");
    }
}

#[tokio::test]
async fn unreachable_server_is_connect_and_redacted() {
    // Port 1 on localhost: nothing listens there, the connection is refused at once.
    let url = "mysql://someone:hunter2secret@127.0.0.1:1/db";
    let err = open(url).await.expect_err("nothing listens on port 1");
    assert_eq!(err.kind, ErrorKind::Connect, "{err}");
    assert!(!err.message.contains("hunter2secret"), "{err}");
    assert!(err.message.contains("someone:***@127.0.0.1:1"), "{err}");
}

#[tokio::test]
async fn bad_urls_are_url_errors() {
    for url in ["postgres://u:topsecret@h/db", "mysql:/nohost", "not a url"] {
        let err = open(url).await.expect_err(url);
        assert_eq!(err.kind, ErrorKind::Url, "{url}: {err}");
        assert!(!err.message.contains("topsecret"), "{err}");
    }
}

#[tokio::test]
async fn unknown_database_is_no_database() {
    let Some(admin) = admin().await else { return };
    let url = with_db(&base_url(), &unique("missing"));
    let err = open(&url).await.expect_err("database does not exist");
    assert_eq!(err.kind, ErrorKind::NoDatabase, "{err}");
    assert_eq!(err.code.as_deref(), Some("1049"), "{err:?}");
    Box::new(admin).close().await.unwrap();
}

#[tokio::test]
async fn wrong_password_is_auth_and_redacted() {
    let Some(mut admin) = admin().await else {
        return;
    };
    let user = unique("u");
    let user = &user[..user.len().min(32)];
    for host in ["%", "localhost"] {
        admin
            .execute(
                &format!("CREATE USER '{user}'@'{host}' IDENTIFIED BY 'right_pw_123'"),
                &[],
            )
            .await
            .expect("create user");
    }
    let good = with_user(&base_url(), &format!("{user}:right_pw_123"));
    let bad = with_user(&base_url(), &format!("{user}:wrong_pw_456"));

    let ok = open(&good).await;
    let err = open(&bad).await.expect_err("wrong password");
    for host in ["%", "localhost"] {
        admin
            .execute(&format!("DROP USER IF EXISTS '{user}'@'{host}'"), &[])
            .await
            .expect("drop user");
    }
    Box::new(admin).close().await.unwrap();

    // The right password gets through to the database (`test`, which anyone may use on a
    // default install, or `NoDatabase`/`Auth` if the server restricts it) — it is the wrong one
    // we care about here.
    if let Ok(d) = ok {
        Box::new(d).close().await.unwrap();
    }
    assert_eq!(err.kind, ErrorKind::Auth, "{err}");
    assert_eq!(err.code.as_deref(), Some("1045"), "{err:?}");
    assert!(!err.message.contains("wrong_pw_456"), "{err}");
    assert!(err.message.contains(":***@"), "{err}");
}

#[tokio::test]
async fn mariadb_scheme_is_accepted() {
    let Some(admin) = admin().await else { return };
    let url = base_url().replacen("mysql://", "mariadb://", 1);
    let mut d = open(&url).await.expect("mariadb:// URL");
    assert!(!d.server_version().await.unwrap().is_empty());
    Box::new(d).close().await.unwrap();
    Box::new(admin).close().await.unwrap();
}

#[tokio::test]
async fn script_failure_reports_statement_and_keeps_earlier_ddl() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    let sql = "CREATE TABLE a (id INT);\n\
               CREATE TABLE b (id INT);\n\
               INSERT INTO no_such_table VALUES (1);\n\
               CREATE TABLE c (id INT);\n\
               CREATE TABLE d (id INT);\n";
    let err = d.execute_script(sql).await.expect_err("statement 3 fails");
    assert_eq!(err.kind, ErrorKind::Sql, "{err}");
    assert_eq!(err.code.as_deref(), Some("1146"), "{err:?}");
    let pos = err.position.clone().expect("position");
    assert_eq!(pos.index, 3);
    assert_eq!(pos.total, Some(5));
    assert_eq!(pos.statement, "INSERT INTO no_such_table VALUES (1)");
    assert!(err.message.contains("no_such_table"), "{err}");
    // DDL commits implicitly: 1 and 2 took effect, 4 and 5 never ran.
    let names: Vec<String> = d
        .introspect()
        .await
        .unwrap()
        .tables
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
}

#[tokio::test]
async fn scripts_with_stored_programs_run() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    d.execute_script(
        "CREATE TABLE t (id INT PRIMARY KEY, n INT);\n\
         CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW\n\
         BEGIN\n  IF NEW.n IS NULL THEN\n    SET NEW.n = NEW.id * 10;\n  END IF;\nEND;\n\
         DELIMITER $$\n\
         CREATE PROCEDURE fill(IN k INT)\nBEGIN\n  DECLARE i INT DEFAULT 0;\n  \
         WHILE i < k DO\n    INSERT INTO t (id) VALUES (i);\n    SET i = i + 1;\n  END WHILE;\nEND$$\n\
         DELIMITER ;\n\
         CALL fill(3);\n\
         BEGIN;\nINSERT INTO t VALUES (100, 1);\nCOMMIT;\n",
    )
    .await
    .expect("script");
    let rows = d
        .query("SELECT id, n FROM t ORDER BY id", &[])
        .await
        .unwrap();
    assert_eq!(
        rows.rows,
        vec![
            vec![Value::Int(0), Value::Int(0)],
            vec![Value::Int(1), Value::Int(10)],
            vec![Value::Int(2), Value::Int(20)],
            vec![Value::Int(100), Value::Int(1)],
        ]
    );
    // A procedure returning a result set can be queried.
    d.execute_script("CREATE PROCEDURE two() BEGIN SELECT 1 AS x; SELECT 2 AS y; END")
        .await
        .unwrap();
    let r = d.query("CALL two()", &[]).await.unwrap();
    assert_eq!(r.columns, ["x"]);
    assert_eq!(r.rows, vec![vec![Value::Int(1)]]);
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
}

#[tokio::test]
async fn result_types_map_as_documented() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    d.execute_script(
        "CREATE TABLE ty (u BIGINT UNSIGNED, dec_ DECIMAL(10,3), dt DATE, ts DATETIME(3), \
         tm TIME, vb VARBINARY(10), vc VARCHAR(10), f FLOAT, bits BIT(8), ti TINYINT);\n\
         INSERT INTO ty VALUES (18446744073709551615, 12.5, '2024-01-31', '2024-01-31 12:34:56.789', \
         '-25:00:01', x'00ff', 'héllo', 1.5, b'00000101', -3);",
    )
    .await
    .unwrap();
    let expected = vec![
        Value::Text("18446744073709551615".into()),
        Value::Text("12.500".into()),
        Value::Text("2024-01-31".into()),
        Value::Text("2024-01-31 12:34:56.789".into()),
        Value::Text("-25:00:01".into()),
        Value::Bytes(vec![0, 255]),
        Value::Text("héllo".into()),
        Value::Float(1.5),
        Value::Bytes(vec![5]),
        Value::Int(-3),
    ];
    let bin = d
        .query("SELECT * FROM ty WHERE 1 = ?", &[Value::Int(1)])
        .await
        .unwrap();
    assert_eq!(bin.rows, vec![expected]);
    // Small integers and a u64 that fits come back as Int.
    let r = d
        .query("SELECT CAST(5 AS UNSIGNED), 1 + 1, NULL", &[])
        .await
        .unwrap();
    assert_eq!(
        r.rows,
        vec![vec![Value::Int(5), Value::Int(2), Value::Null]]
    );
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
}

#[tokio::test]
async fn lock_timeout_names_the_holder() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut a = fresh.connect().await;
    let mut b = fresh.connect().await;
    a.lock("braid_version", Duration::from_secs(1))
        .await
        .unwrap();
    let started = Instant::now();
    let err = b
        .lock("braid_version", Duration::from_millis(300))
        .await
        .expect_err("A holds the lock");
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert_eq!(err.kind, ErrorKind::LockTimeout, "{err}");
    assert!(err.message.contains("held by connection "), "{err}");
    assert!(err.message.contains("user 'root'"), "{err}");
    assert!(err.message.contains("braid_version"), "{err}");
    assert!(err.message.contains("braid:"), "{err}");
    // Locking again a key this driver holds succeeds at once.
    a.lock("braid_version", Duration::ZERO).await.unwrap();
    a.unlock("braid_version").await.unwrap();
    b.lock("braid_version", Duration::from_secs(2))
        .await
        .unwrap();
    b.unlock("braid_version").await.unwrap();
    Box::new(a).close().await.unwrap();
    Box::new(b).close().await.unwrap();
    fresh.drop_db().await;
}

#[tokio::test]
async fn lock_is_per_database() {
    let Some(one) = Fresh::new().await else {
        return;
    };
    let Some(two) = Fresh::new().await else {
        return;
    };
    let mut a = one.connect().await;
    let mut b = two.connect().await;
    a.lock("braid_version", Duration::from_secs(1))
        .await
        .unwrap();
    b.lock("braid_version", Duration::ZERO)
        .await
        .expect("another database has its own lock");
    Box::new(a).close().await.unwrap();
    Box::new(b).close().await.unwrap();
    one.drop_db().await;
    two.drop_db().await;
}

#[tokio::test]
async fn lock_released_when_holder_is_dropped() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut a = fresh.connect().await;
    let mut b = fresh.connect().await;
    a.lock("braid_version", Duration::from_secs(1))
        .await
        .unwrap();
    b.lock("braid_version", Duration::ZERO)
        .await
        .expect_err("held by A");
    // A process dying closes its sockets without a goodbye: dropping does just that.
    drop(a);
    b.lock("braid_version", Duration::from_secs(5))
        .await
        .expect("the server released A's lock when its connection went away");
    Box::new(b).close().await.unwrap();
    fresh.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn works_on_a_multi_thread_runtime() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    let task = tokio::spawn(async move {
        d.execute_script("CREATE TABLE m (id BIGINT PRIMARY KEY)")
            .await
            .unwrap();
        let n = d
            .execute(
                "INSERT INTO m VALUES (?), (?)",
                &[Value::Int(1), Value::Int(2)],
            )
            .await
            .unwrap();
        Box::new(d).close().await.unwrap();
        n
    });
    assert_eq!(task.await.unwrap(), 2);
    fresh.drop_db().await;
}

#[test]
fn works_on_a_current_thread_runtime_with_enable_all() {
    // As the CLI builds its runtime.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let Some(fresh) = Fresh::new().await else {
            return;
        };
        let mut d = fresh.connect().await;
        d.lock("k", Duration::from_millis(100)).await.unwrap();
        assert_eq!(
            d.query("SELECT 1", &[]).await.unwrap().rows,
            vec![vec![Value::Int(1)]]
        );
        d.unlock("k").await.unwrap();
        Box::new(d).close().await.unwrap();
        fresh.drop_db().await;
    });
}

#[tokio::test]
async fn update_counts_matched_rows() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    d.execute_script("CREATE TABLE v (id INT PRIMARY KEY, n INT); INSERT INTO v VALUES (1, 5);")
        .await
        .unwrap();
    // The value does not change, but the row matched: 1, as on Postgres and SQLite.
    let n = d
        .execute("UPDATE v SET n = 5 WHERE id = ?", &[Value::Int(1)])
        .await
        .unwrap();
    assert_eq!(n, 1);
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
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

/// The connection holding the migration lock `key` of database `db`, seen from `admin`.
async fn lock_holder(admin: &mut MysqlDriver, db: &str, key: &str) -> Option<i64> {
    let name = braid_mysql::lock_name(db, key);
    let rows = admin
        .query("SELECT IS_USED_LOCK(?)", &[Value::from(name.as_str())])
        .await
        .unwrap()
        .rows;
    match rows.first().map(|r| &r[0]) {
        Some(Value::Int(id)) => Some(*id),
        _ => None,
    }
}

/// `TIME` (seconds in its current command or idle) of connection `id`.
async fn idle_seconds(admin: &mut MysqlDriver, id: i64) -> i64 {
    let rows = admin
        .query(
            "SELECT TIME FROM information_schema.PROCESSLIST WHERE ID = ?",
            &[Value::Int(id)],
        )
        .await
        .unwrap()
        .rows;
    match rows.first().map(|r| &r[0]) {
        Some(Value::Int(t)) => *t,
        other => panic!("connection {id} is gone: {other:?}"),
    }
}

#[tokio::test]
async fn a_killed_lock_session_is_noticed_and_unlock_says_lost() {
    let Some(mut fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    // The keepalive is what notices: pinged often so the test is quick.
    d.set_keepalive_interval(Duration::from_millis(200));
    d.lock("braid_version", Duration::ZERO).await.unwrap();
    assert!(d.lock_held("braid_version").await.unwrap());
    assert!(!d.lock_held("other_version").await.unwrap());
    let holder = lock_holder(&mut fresh.admin, &fresh.name, "braid_version")
        .await
        .expect("a holder");
    fresh
        .admin
        .execute(&format!("KILL {holder}"), &[])
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), async || {
            !d.lock_held("braid_version").await.unwrap()
        })
        .await,
        "lock_held still true after its connection was killed"
    );
    let err = d.unlock("braid_version").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::LockLost, "{err}");
    // The next lock opens a fresh lock connection.
    d.lock("braid_version", Duration::ZERO).await.unwrap();
    assert!(d.lock_held("braid_version").await.unwrap());
    d.unlock("braid_version").await.unwrap();
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
}

/// The server's idle timeout is global (changing it would disturb other tests), so this checks
/// what defeats it: the lock connection never stays idle, while the driver's work connection,
/// unused meanwhile, does.
#[tokio::test]
async fn the_keepalive_keeps_the_lock_connection_busy() {
    let Some(mut fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    d.set_keepalive_interval(Duration::from_millis(200));
    d.lock("braid_version", Duration::ZERO).await.unwrap();
    let lock_id = lock_holder(&mut fresh.admin, &fresh.name, "braid_version")
        .await
        .expect("a holder");
    let work_id = i64::from(d.connection().id());
    let mut longest_lock_idle = 0;
    let work_idled = eventually(Duration::from_secs(15), async || {
        longest_lock_idle = longest_lock_idle.max(idle_seconds(&mut fresh.admin, lock_id).await);
        idle_seconds(&mut fresh.admin, work_id).await >= 3
    })
    .await;
    assert!(work_idled, "the work connection never showed 3 s idle");
    assert!(
        longest_lock_idle <= 1,
        "the lock connection sat idle for {longest_lock_idle} s"
    );
    assert!(d.lock_held("braid_version").await.unwrap());
    d.unlock("braid_version").await.unwrap();
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
}

#[tokio::test]
async fn session_activity_sees_a_running_statement() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut busy = fresh.connect().await;
    let mut watcher = fresh.connect().await;
    let id = busy.session_id().await.unwrap().expect("a session id");
    assert_eq!(busy.session_id().await.unwrap().as_deref(), Some(&*id));
    let (connection, start) = id.split_once('@').expect("id@start");
    let connection: i64 = connection.parse().unwrap();
    let start: i64 = start.parse().expect("server start");
    // The work connection's session, not the lock connection's.
    busy.lock("k", Duration::ZERO).await.unwrap();
    let own = busy
        .query("SELECT CONNECTION_ID()", &[])
        .await
        .unwrap()
        .rows;
    assert_eq!(own, vec![vec![Value::Int(connection)]]);
    // An idle session is alive: its client may still send the statement it was marked for.
    let idle = watcher
        .session_activity(&id)
        .await
        .unwrap()
        .expect("idle is alive");
    assert!(idle.contains("idle for"), "{idle}");

    // Long enough to be seen on a loaded machine; ended by `KILL QUERY` once seen.
    let running = tokio::spawn(async move {
        let killed = busy.query("SELECT SLEEP(60) AS braid_test", &[]).await;
        assert_eq!(killed.unwrap_err().code.as_deref(), Some("1317"));
        busy
    });
    // Waits past the statement's `Prepare` phase (reported with its command named) to the
    // phase that runs it.
    let running_for = format!("MySQL connection {connection}, running for");
    let mut seen = None;
    let found = eventually(Duration::from_secs(10), async || {
        seen = watcher.session_activity(&id).await.unwrap();
        seen.as_deref().is_some_and(|s| s.starts_with(&running_for))
    })
    .await;
    assert!(found, "the running statement was not seen");
    let seen = seen.unwrap();
    assert!(seen.contains("SELECT SLEEP(60) AS braid_test"), "{seen}");
    // The same connection id from before a server restart is another connection.
    let restarted = format!("{connection}@{}", start - 3600);
    assert_eq!(watcher.session_activity(&restarted).await.unwrap(), None);

    watcher
        .execute_script(&format!("KILL QUERY {connection}"))
        .await
        .unwrap();
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
        "a closed connection is not busy"
    );
    let err = watcher.session_activity("not-an-id").await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Internal, "{err}");
    assert!(err.message.contains("not-an-id"), "{err}");
    Box::new(watcher).close().await.unwrap();
    fresh.drop_db().await;
}

/// Tables (one mixed-case, one whose name holds a quote and a backslash), indexes, foreign
/// keys, a check, a view, a trigger, a procedure, a function, the version store, and on MariaDB
/// a sequence.
async fn scoped_schema(d: &mut MysqlDriver) -> bool {
    d.execute_script(
        "CREATE TABLE Users (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, \
           CONSTRAINT ck_users_id CHECK (id > 0), UNIQUE KEY ix_users_email (email));\n\
         CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, parent INT, \
           total DECIMAL(10,2) DEFAULT 0, KEY ix_orders_user (user_id), \
           CONSTRAINT fk_orders_user FOREIGN KEY (user_id) REFERENCES Users (id) ON DELETE CASCADE, \
           CONSTRAINT fk_orders_parent FOREIGN KEY (parent) REFERENCES orders (id));\n\
         CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT);\n\
         CREATE TABLE `it's\\odd` (id INT);\n\
         CREATE TABLE braid_version (version BIGINT PRIMARY KEY);\n\
         CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;\n\
         CREATE TRIGGER trg_orders_audit AFTER INSERT ON orders FOR EACH ROW \
           INSERT INTO audit (note) VALUES ('order');\n\
         CREATE PROCEDURE archive_orders(IN below INT) BEGIN DELETE FROM orders WHERE id < below; END;\n\
         CREATE FUNCTION order_total(o INT) RETURNS DECIMAL(10,2) DETERMINISTIC READS SQL DATA \
           RETURN (SELECT total FROM orders WHERE id = o);\n",
    )
    .await
    .expect("schema");
    let mariadb = d.server_version().await.unwrap().contains("MariaDB");
    if mariadb {
        d.execute_script("CREATE SEQUENCE invoice_seq START WITH 100 INCREMENT BY 5")
            .await
            .expect("sequence");
    }
    mariadb
}

#[tokio::test]
async fn introspect_within_keeps_what_within_keeps_of_the_whole() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    let mariadb = scoped_schema(&mut d).await;
    let full = d.introspect().await.unwrap();
    let scopes = [
        Scope::named(["Users"]),
        Scope::named(["users"]),
        Scope::named(["orders"]),
        Scope::named(["trg_orders_audit"]),
        Scope::named(["big_orders"]),
        Scope::named(["archive_orders", "order_total"]),
        Scope::named(["invoice_seq"]),
        Scope::named(["it's\\odd"]),
        Scope::named(["braid_version"]),
        Scope::named(["nothing_is_called_this"]),
        // A seeded emoji is a script's string, never a MySQL identifier.
        Scope::named(["orders", "👍"]),
        Scope::named(["👍"]),
        // What a script's scope looks like: every word it writes.
        Scope::named([
            "alter", "table", "users", "add", "column", "age", "int", "orders",
        ]),
        Scope::named(Vec::<&str>::new()),
        Scope::Whole,
    ];
    // The same scopes for a revision of table statements alone (see `braid_lint::scope`).
    let tables_alone = scopes
        .iter()
        .map(|scope| scope.clone().of_kinds(Kinds::TABLES));
    for scope in scopes.clone().into_iter().chain(tables_alone) {
        let scoped = d.introspect_within(&scope).await.unwrap();
        assert_eq!(scoped.within(&scope), full.within(&scope), "{scope:?}");
    }
    let named = Scope::named(["big_orders", "order_total", "invoice_seq"]);
    let tables = d
        .introspect_within(&named.of_kinds(Kinds::TABLES))
        .await
        .unwrap();
    assert!(tables.views.is_empty() && tables.sequences.is_empty() && tables.routines.is_empty());
    // Not vacuous: the scopes find what they name, whatever its case.
    let names = |scope: &Scope| {
        let s = full.within(scope);
        let tables = s.tables.iter().map(|t| t.name.clone());
        let views = s.views.iter().map(|v| v.name.clone());
        let triggers = s.triggers.iter().map(|t| t.name.clone());
        let sequences = s.sequences.iter().map(|q| q.name.clone());
        let routines = s.routines.iter().map(|r| r.name.clone());
        tables
            .chain(views)
            .chain(triggers)
            .chain(sequences)
            .chain(routines)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&scopes[1]), ["Users"]);
    assert_eq!(names(&scopes[2]), ["orders", "trg_orders_audit"]);
    assert_eq!(names(&scopes[3]), ["trg_orders_audit"]);
    assert_eq!(names(&scopes[4]), ["big_orders"]);
    assert_eq!(names(&scopes[5]), ["archive_orders", "order_total"]);
    assert_eq!(names(&scopes[6]).len(), usize::from(mariadb));
    assert_eq!(names(&scopes[7]), ["it's\\odd"]);
    assert!(names(&scopes[8]).is_empty());
    assert!(names(&scopes[9]).is_empty());
    // The name literals read the same when backslashes are not escapes.
    d.execute(
        "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')",
        &[],
    )
    .await
    .unwrap();
    let scoped = d.introspect_within(&scopes[7]).await.unwrap();
    assert_eq!(scoped.within(&scopes[7]), full.within(&scopes[7]));
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
}

#[tokio::test]
async fn a_scoped_snapshot_reads_only_the_scope() {
    let Some(fresh) = Fresh::new().await else {
        return;
    };
    let mut d = fresh.connect().await;
    scoped_schema(&mut d).await;
    // Without `within`: what the server was asked for is all the answer holds.
    let s = d
        .introspect_within(&Scope::named(["orders", "users"]))
        .await
        .unwrap();
    let tables: Vec<&str> = s.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tables, ["Users", "orders"]);
    let users = &s.tables[0];
    assert_eq!(users.indexes.len(), 1, "{users:?}");
    assert_eq!(users.checks.len(), 1, "{users:?}");
    assert_eq!(s.tables[1].foreign_keys.len(), 2, "{:?}", s.tables[1]);
    assert_eq!(s.triggers.len(), 1);
    assert!(s.views.is_empty() && s.routines.is_empty() && s.sequences.is_empty());
    let s = d
        .introspect_within(&Scope::named(["trg_orders_audit"]))
        .await
        .unwrap();
    assert!(s.tables.is_empty(), "{s:?}");
    assert_eq!(s.triggers.len(), 1);
    // A scope of tables alone (a revision that only creates, alters or drops tables) reads a
    // table's triggers with it, and no object by its own name.
    let tables = Scope::named(["orders", "trg_orders_audit"]).of_kinds(Kinds::TABLES);
    let s = d.introspect_within(&tables).await.unwrap();
    assert_eq!(s.triggers.len(), 1, "{s:?}");
    let s = d
        .introspect_within(&Scope::named(["trg_orders_audit"]).of_kinds(Kinds::TABLES))
        .await
        .unwrap();
    assert_eq!(s, Schema::default());
    assert_eq!(
        d.introspect_within(&Scope::named(Vec::<&str>::new()))
            .await
            .unwrap(),
        Schema::default()
    );
    Box::new(d).close().await.unwrap();
    fresh.drop_db().await;
}
