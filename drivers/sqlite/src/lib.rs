//! Braid's SQLite driver, on rusqlite with a bundled SQLite.
//!
//! # Connection settings
//!
//! [`open`] applies exactly these settings, and nothing else:
//!
//! * `PRAGMA foreign_keys = ON` — SQLite leaves foreign keys unenforced by default, for backwards
//!   compatibility; a migration tool must see the same constraint failures the application will.
//! * a busy timeout of [`BUSY_TIMEOUT`] (5 s) — another process (the application) may briefly
//!   hold the database lock; waiting a little beats failing a migration on a transient `BUSY`.
//! * `PRAGMA synchronous = FULL` — SQLite's own default, set explicitly so a build with another
//!   compile-time default cannot weaken it. The journal mode is left alone (rollback journal on a
//!   new database, or whatever the application chose, e.g. WAL, which is persistent): Braid never
//!   trades durability for speed, and changing the journal mode would change it for the
//!   application too. The one exception is not this driver's: `verify` and autogenerate turn
//!   `synchronous` off on the scratch databases they make and throw away.
//!
//! Transactions start with `BEGIN IMMEDIATE`, which takes the write lock up front: a migration is
//! going to write, and a deferred transaction that upgrades from read to write can fail with
//! `SQLITE_BUSY` without waiting for the busy timeout.
//!
//! # Async over a synchronous client
//!
//! Every call runs inline on the calling task. SQLite on a local file answers in microseconds;
//! moving each call to `spawn_blocking` would add a thread hand-off per statement, measurable
//! against the ~50 ms floor of a 1 000-migration upgrade. The cost is that a call waiting on a
//! busy database (up to the busy timeout) or on the migration lock blocks its executor thread —
//! acceptable for a migration runner, which does one thing at a time. The driver uses no runtime
//! features (not even timers), so it also works outside tokio, e.g. behind the plugin C ABI.
//!
//! # The migration lock
//!
//! [`Driver::lock`] takes an OS advisory lock (`File::try_lock`) on a sidecar file
//! `<database file>.<key>.lock` (see [`lock_path`]), polling every [`LOCK_POLL_INTERVAL`] until the
//! timeout. The holder writes its pid into the file so a waiter's timeout error can name it. The
//! OS drops the lock when the process dies, so a crash never leaves a stale lock. Each lock uses
//! its own file handle, so two drivers in one process exclude each other too. A `:memory:`
//! database is private to its connection, so its lock is only recorded in the driver (there is
//! nobody to exclude). Locking a key this driver already holds succeeds at once.
//!
//! # Errors
//!
//! SQLite's failures keep SQLite's message and carry the symbolic name of the *extended* result
//! code in `code`, e.g. `SQLITE_CONSTRAINT_UNIQUE` (the decimal number for a code Braid does not
//! know by name). Statement failures are [`ErrorKind::Sql`]; failures of the database file itself
//! (I/O, corrupt, full, read-only, not a database) are [`ErrorKind::Io`].
//!
//! # Introspection
//!
//! Tables, views and triggers come from `sqlite_schema` (SQLite's internal `sqlite_%` tables
//! and Braid's version store excluded), sorted by name. Columns keep their declaration order,
//! generated ones included. Indexes are sorted by name and include those SQLite creates for
//! `UNIQUE` constraints (`sqlite_autoindex_…`, marked as constraints), because they enforce real
//! constraints; the primary key's own index is left out, since the key is already reported by
//! [`Table::primary_key`](braid_driver::Table) and [`Column::primary_key`](braid_driver::Column).
//! SQLite does not report foreign key constraint names, so
//! [`ForeignKey::name`](braid_driver::ForeignKey) is `None`; a foreign key written without
//! referenced columns is reported with the parent's primary key columns. What SQLite keeps only
//! in the statement's text is read from it, verbatim: `CHECK` constraints, generated columns'
//! expressions, `AUTOINCREMENT`, declared collations, index expressions and `WHERE` predicates,
//! and a trigger's timing and event; view and trigger definitions are their `CREATE` text as
//! written. SQLite has no sequences or stored routines.

mod error;
mod introspect;
mod lock;
mod script;
mod url;

use std::path::{Path, PathBuf};
use std::time::Duration;

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, Rows, Schema, Value};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, params_from_iter};

pub use lock::{LOCK_POLL_INTERVAL, lock_path};
pub use url::{Location, parse_url};

use error::map_err;
use lock::Locks;

/// How long a statement waits for another connection's database lock before failing with
/// `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to one SQLite database. See the [crate docs](crate) for its settings.
#[derive(Debug)]
pub struct SqliteDriver {
    conn: Connection,
    /// The database file, absolute; `None` for `:memory:`.
    path: Option<PathBuf>,
    locks: Locks,
}

/// Opens (creating it, and its parent directories, if missing) the database named by `url`.
/// See [`parse_url`] for the accepted forms.
pub async fn open(url: &str) -> Result<SqliteDriver, DriverError> {
    SqliteDriver::open(url)
}

/// [`open`], boxed as a `dyn Driver` for code that picks the driver at run time.
pub async fn open_boxed(url: &str) -> Result<Box<dyn Driver>, DriverError> {
    open_boxed_in(url, Path::new(""), true).await
}

/// Like [`open_boxed`], but a database file that does not exist is an error of kind
/// [`ErrorKind::NoDatabase`] instead of being created: for commands that only read (`current`,
/// `check`), which must not leave an empty file behind a mistyped path.
pub async fn open_existing_boxed(url: &str) -> Result<Box<dyn Driver>, DriverError> {
    open_boxed_in(url, Path::new(""), false).await
}

/// Opens the database `url` names, a relative path being relative to `base` (a project's
/// root) instead of the current directory; `create = false` is [`open_existing_boxed`]'s rule.
/// The URL itself is never rebuilt, so a `base` with any characters in it is fine.
pub async fn open_boxed_in(
    url: &str,
    base: &Path,
    create: bool,
) -> Result<Box<dyn Driver>, DriverError> {
    let driver = match parse_url(url)? {
        Location::Memory => SqliteDriver::open(url)?,
        Location::File(path) => {
            let path = base.join(path);
            if !create && !path.exists() {
                return Err(DriverError::new(
                    ErrorKind::NoDatabase,
                    format!(
                        "SQLite database file {} does not exist (nothing has been applied to it; \
                         `braid upgrade` creates it)",
                        path.display()
                    ),
                ));
            }
            SqliteDriver::open_path(&path)?
        }
    };
    Ok(Box::new(driver))
}

impl SqliteDriver {
    /// The synchronous form of [`open`].
    pub fn open(url: &str) -> Result<Self, DriverError> {
        match parse_url(url)? {
            Location::Memory => {
                let conn = Connection::open_in_memory().map_err(|e| cannot_open(":memory:", e))?;
                Self::configure(conn, None)
            }
            Location::File(path) => Self::open_path(&path),
        }
    }

    /// Opens the database file at `path`, creating it and its parent directories if missing.
    pub fn open_path(path: &Path) -> Result<Self, DriverError> {
        let shown = path.display().to_string();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                DriverError::new(
                    ErrorKind::Io,
                    format!(
                        "cannot create directory '{}' for SQLite database '{shown}': {e}",
                        parent.display()
                    ),
                )
            })?;
        }
        // No SQLITE_OPEN_URI: the path is a file name, never reinterpreted as a `file:` URI.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| cannot_open(&shown, e))?;
        // Absolute, so the lock file stays the same if the process changes directory.
        let absolute = std::fs::canonicalize(path).map_err(|e| {
            DriverError::new(
                ErrorKind::Io,
                format!("cannot resolve SQLite database path '{shown}': {e}"),
            )
        })?;
        Self::configure(conn, Some(absolute))
    }

    fn configure(conn: Connection, path: Option<PathBuf>) -> Result<Self, DriverError> {
        let shown = path
            .as_ref()
            .map_or(":memory:".to_string(), |p| p.display().to_string());
        conn.busy_timeout(BUSY_TIMEOUT)
            .and_then(|()| {
                conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            })
            // Reading the schema is what reveals a file that is not a database.
            .and_then(|()| conn.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(())))
            .map_err(|e| cannot_open(&shown, e))?;
        Ok(SqliteDriver {
            conn,
            path,
            locks: Locks::default(),
        })
    }

    /// The database file (absolute), or `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The underlying rusqlite connection, for callers that need SQLite-specific features.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn run_execute(&self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        let mut stmt = self.conn.prepare(sql).map_err(map_err)?;
        let before = self.conn.total_changes();
        {
            // Stepped through `query` so a statement that returns rows (`PRAGMA`, `RETURNING`)
            // is accepted rather than rejected.
            let mut rows = stmt
                .query(params_from_iter(params.iter().map(to_sql)))
                .map_err(map_err)?;
            while rows.next().map_err(map_err)?.is_some() {}
        }
        // `changes()` keeps the count of the last INSERT/UPDATE/DELETE, so a DDL statement or a
        // query would report a stale number; `total_changes()` moves only when rows changed.
        Ok(if self.conn.total_changes() == before {
            0
        } else {
            self.conn.changes()
        })
    }

    fn run_query(&self, sql: &str, params: &[Value]) -> Result<Rows, DriverError> {
        let mut stmt = self.conn.prepare(sql).map_err(map_err)?;
        // By index: works whether `column_names` returns a Vec (older rusqlite) or an iterator.
        let columns: Vec<String> = (0..stmt.column_count())
            .map(|i| stmt.column_name(i).map(String::from))
            .collect::<Result<_, _>>()
            .map_err(map_err)?;
        let width = columns.len();
        let mut rows = stmt
            .query(params_from_iter(params.iter().map(to_sql)))
            .map_err(map_err)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(map_err)? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(from_sql(row.get_ref(i).map_err(map_err)?));
            }
            out.push(values);
        }
        Ok(Rows { columns, rows: out })
    }
}

fn cannot_open(shown: &str, e: rusqlite::Error) -> DriverError {
    let inner = map_err(e);
    DriverError {
        kind: ErrorKind::Connect,
        message: format!("cannot open SQLite database '{shown}': {}", inner.message),
        ..inner
    }
}

fn to_sql(v: &Value) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(match v {
        Value::Null => ValueRef::Null,
        Value::Int(i) => ValueRef::Integer(*i),
        Value::Float(f) => ValueRef::Real(*f),
        Value::Text(s) => ValueRef::Text(s.as_bytes()),
        Value::Bytes(b) => ValueRef::Blob(b),
    })
}

/// SQLite values map one to one. Text that is not valid UTF-8 (SQLite does not check) comes back
/// as [`Value::Bytes`], so no byte is lost or replaced.
fn from_sql(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Int(i),
        ValueRef::Real(f) => Value::Float(f),
        ValueRef::Text(t) => match std::str::from_utf8(t) {
            Ok(s) => Value::Text(s.to_string()),
            Err(_) => Value::Bytes(t.to_vec()),
        },
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

#[async_trait::async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn name(&self) -> &str {
        "sqlite"
    }

    async fn server_version(&mut self) -> Result<String, DriverError> {
        self.conn
            .query_row("SELECT sqlite_version()", [], |r| r.get(0))
            .map_err(map_err)
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), DriverError> {
        script::run_script(&self.conn, sql)
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        self.run_execute(sql, params)
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DriverError> {
        self.run_query(sql, params)
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(map_err)
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
        self.conn.execute_batch("COMMIT").map_err(map_err)
    }

    async fn rollback(&mut self) -> Result<(), DriverError> {
        self.conn.execute_batch("ROLLBACK").map_err(map_err)
    }

    async fn uncommitted(&mut self) -> Result<Option<bool>, DriverError> {
        Ok(Some(!self.conn.is_autocommit()))
    }

    async fn lock(&mut self, key: &str, timeout: Duration) -> Result<(), DriverError> {
        self.locks.lock(self.path.as_deref(), key, timeout)
    }

    async fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
        self.locks.unlock(key)
    }

    async fn introspect(&mut self) -> Result<Schema, DriverError> {
        introspect::introspect(&self.conn)
    }

    async fn introspect_within(
        &mut self,
        scope: &braid_driver::Scope,
    ) -> Result<Schema, DriverError> {
        introspect::introspect_within(&self.conn, scope)
    }

    fn split_script(&self, sql: &str) -> Vec<String> {
        script::split_statements(sql)
            .into_iter()
            .map(|s| s.trim().trim_end_matches(';').trim_end().to_string())
            .collect()
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        let SqliteDriver {
            conn, mut locks, ..
        } = *self;
        locks.release_all();
        conn.close().map_err(|(_, e)| map_err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_driver::Scope;

    fn assert_send<T: Send>() {}

    #[test]
    fn driver_is_send() {
        assert_send::<SqliteDriver>();
    }

    #[tokio::test]
    async fn creates_file_and_parents() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a/b/app.db");
        let url = format!("sqlite://{}", db.display());
        let mut d = open(&url).await.unwrap();
        assert!(db.exists());
        let fk = d.query("PRAGMA foreign_keys", &[]).await.unwrap();
        assert_eq!(fk.rows, vec![vec![Value::Int(1)]]);
        let sync = d.query("PRAGMA synchronous", &[]).await.unwrap();
        assert_eq!(sync.rows, vec![vec![Value::Int(2)]]);
        let mode = d.query("PRAGMA journal_mode", &[]).await.unwrap();
        assert_eq!(mode.rows, vec![vec![Value::Text("delete".into())]]);
        Box::new(d).close().await.unwrap();
    }

    #[tokio::test]
    async fn unopenable_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        // A directory is not a database.
        let url = format!("sqlite://{}", dir.path().display());
        let err = open(&url).await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connect, "{err}");
        assert!(
            err.message.contains(&dir.path().display().to_string()),
            "{err}"
        );

        let junk = dir.path().join("junk.db");
        std::fs::write(&junk, vec![b'x'; 4096]).unwrap();
        let err = open(&format!("sqlite://{}", junk.display()))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connect, "{err}");
        assert!(err.message.contains("junk.db"), "{err}");
        assert_eq!(err.code.as_deref(), Some("SQLITE_NOTADB"));
    }

    #[tokio::test]
    async fn execute_counts_only_changed_rows() {
        let mut d = open("sqlite::memory:").await.unwrap();
        assert_eq!(d.execute("CREATE TABLE t(x)", &[]).await.unwrap(), 0);
        let n = d
            .execute("INSERT INTO t VALUES (?), (?)", &[1.into(), 2.into()])
            .await
            .unwrap();
        assert_eq!(n, 2);
        assert_eq!(d.execute("CREATE TABLE u(y)", &[]).await.unwrap(), 0);
        assert_eq!(d.execute("SELECT * FROM t", &[]).await.unwrap(), 0);
        assert_eq!(d.execute("UPDATE t SET x = x + 1", &[]).await.unwrap(), 2);
        let err = d
            .execute("INSERT INTO t VALUES (?)", &[])
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Sql);
    }

    #[tokio::test]
    async fn memory_lock_is_trivial() {
        let mut d = open("sqlite::memory:").await.unwrap();
        d.lock("k", Duration::ZERO).await.unwrap();
        d.lock("k", Duration::ZERO).await.unwrap();
        d.unlock("k").await.unwrap();
        d.unlock("k").await.unwrap();
    }

    #[tokio::test]
    async fn lock_timeout_names_file_and_pid() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("x.db").display());
        let mut a = open(&url).await.unwrap();
        let mut b = open(&url).await.unwrap();
        a.lock("braid", Duration::ZERO).await.unwrap();
        let err = b
            .lock("braid", Duration::from_millis(60))
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::LockTimeout);
        assert!(err.message.contains("x.db.braid.lock"), "{err}");
        assert!(
            err.message.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        // Dropping the holder (as a dying process would) releases the lock.
        drop(a);
        b.lock("braid", Duration::ZERO).await.unwrap();
    }

    #[tokio::test]
    async fn transaction_errors_come_from_sqlite() {
        let mut d = open("sqlite::memory:").await.unwrap();
        let err = d.commit().await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Sql);
        assert!(err.message.contains("no transaction is active"), "{err}");
        assert_eq!(err.code.as_deref(), Some("SQLITE_ERROR"));
        assert_eq!(d.rollback().await.unwrap_err().kind, ErrorKind::Sql);
        d.begin().await.unwrap();
        let err = d.begin().await.unwrap_err();
        assert!(err.message.contains("within a transaction"), "{err}");
        d.rollback().await.unwrap();
    }

    #[tokio::test]
    async fn foreign_keys_are_enforced() {
        let mut d = open("sqlite::memory:").await.unwrap();
        d.execute_script(
            "CREATE TABLE p(id INTEGER PRIMARY KEY); CREATE TABLE c(p_id INTEGER REFERENCES p);",
        )
        .await
        .unwrap();
        let err = d
            .execute("INSERT INTO c VALUES (?)", &[Value::Int(1)])
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("SQLITE_CONSTRAINT_FOREIGNKEY"));
    }

    #[tokio::test]
    async fn invalid_utf8_text_comes_back_as_bytes() {
        let mut d = open("sqlite::memory:").await.unwrap();
        let rows = d.query("SELECT CAST(x'ff00' AS TEXT)", &[]).await.unwrap();
        assert_eq!(rows.rows, vec![vec![Value::Bytes(vec![0xff, 0x00])]]);
    }

    #[tokio::test]
    async fn scripts_accept_triggers_and_row_returning_statements() {
        let mut d = open("sqlite::memory:").await.unwrap();
        d.execute_script(
            "CREATE TABLE t(x); CREATE TABLE log(x);
             CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.x); END;
             PRAGMA journal_mode; SELECT 1;
             INSERT INTO t VALUES (1), (2);",
        )
        .await
        .unwrap();
        let rows = d.query("SELECT x FROM log ORDER BY x", &[]).await.unwrap();
        assert_eq!(rows.rows, vec![vec![Value::Int(1)], vec![Value::Int(2)]]);
    }

    #[tokio::test]
    async fn introspection_details() {
        let mut d = open("sqlite::memory:").await.unwrap();
        d.execute_script(
            "CREATE TABLE p(a INTEGER, b TEXT, c TEXT UNIQUE, PRIMARY KEY (a, b));
             CREATE TABLE q(id INTEGER PRIMARY KEY, x, y,
                            FOREIGN KEY (x, y) REFERENCES p);
             CREATE INDEX q_expr ON q(lower(x));",
        )
        .await
        .unwrap();
        let schema = d.introspect().await.unwrap();
        let p = &schema.tables[0];
        assert_eq!(p.name, "p");
        // Composite primary key columns of a rowid table may hold NULL in SQLite.
        assert!(p.columns[0].primary_key && p.columns[0].nullable);
        // The UNIQUE constraint's index is reported, the primary key's is not.
        assert_eq!(p.indexes.len(), 1, "{p:#?}");
        assert!(p.indexes[0].unique && p.indexes[0].columns == ["c"]);
        let q = &schema.tables[1];
        assert!(
            q.columns[0].primary_key && !q.columns[0].nullable,
            "rowid alias"
        );
        assert_eq!(q.indexes[0].columns, ["lower(x)"]);
        let fk = &q.foreign_keys[0];
        assert_eq!(fk.columns, ["x", "y"]);
        // No referenced columns written: the parent's primary key, in key order.
        assert_eq!(fk.referenced_columns, ["a", "b"]);
        assert_eq!(fk.on_delete.as_deref(), Some("NO ACTION"));
    }

    /// Tables (one mixed-case, one with a non-ASCII name), indexes (an expression one, a
    /// partial one, a `UNIQUE` constraint's), foreign keys (one without referenced columns), a
    /// named check, a view and a trigger.
    async fn scoped_fixture() -> Box<dyn Driver> {
        let mut d = open_boxed("sqlite::memory:").await.unwrap();
        d.execute_script(
            "CREATE TABLE Users(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
                                age INTEGER CONSTRAINT adult CHECK (age >= 18));
             CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users,
                                 total REAL CHECK (total >= 0));
             CREATE TABLE items(id INTEGER PRIMARY KEY,
                                order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
                                sku TEXT);
             CREATE TABLE \"Été\"(x);
             CREATE INDEX ix_users_email ON users(lower(email));
             CREATE UNIQUE INDEX ix_items_sku ON items(sku DESC) WHERE sku IS NOT NULL;
             CREATE VIEW active_users AS SELECT id FROM users WHERE age > 20;
             CREATE TRIGGER trg_audit AFTER INSERT ON ORDERS BEGIN SELECT 1; END;",
        )
        .await
        .unwrap();
        d
    }

    fn table_names(schema: &Schema) -> Vec<&str> {
        schema.tables.iter().map(|t| t.name.as_str()).collect()
    }

    #[tokio::test]
    async fn scoped_introspection_is_the_whole_within_the_scope() {
        let mut d = scoped_fixture().await;
        let whole = d.introspect().await.unwrap();
        let scopes = [
            (Scope::named(["orders"]), vec!["orders"]),
            (Scope::named(["USERS"]), vec!["Users"]),
            (Scope::named(["ix_users_email"]), vec!["Users"]),
            (Scope::named(["sqlite_autoindex_users_1"]), vec!["Users"]),
            (Scope::named(["adult"]), vec!["Users"]),
            (Scope::named(["ÉTÉ"]), vec!["Été"]),
            (Scope::named(["trg_audit"]), vec![]),
            (Scope::named(["active_users"]), vec![]),
            (
                Scope::named(["ix_items_sku", "orders"]),
                vec!["items", "orders"],
            ),
            (Scope::named(["nothing"]), vec![]),
            (Scope::Whole, vec!["Users", "items", "orders", "Été"]),
        ];
        for (scope, tables) in scopes {
            let expected = whole.within(&scope);
            let scoped = d.introspect_within(&scope).await.unwrap();
            assert_eq!(scoped.within(&scope), expected, "{scope:?}");
            assert_eq!(table_names(&expected), tables, "{scope:?}");
        }
    }

    #[tokio::test]
    async fn scoped_introspection_reads_only_the_picked_tables() {
        let mut d = scoped_fixture().await;
        let orders = d
            .introspect_within(&Scope::named(["orders"]))
            .await
            .unwrap();
        // `Users` (a named check) and `Été` (a non-ASCII name) are candidates, and left out.
        assert_eq!(table_names(&orders), ["orders"]);
        assert_eq!(orders.triggers[0].name, "trg_audit");
        assert!(orders.views.is_empty());
        // The parent's primary key, though `Users` is not read.
        assert_eq!(orders.tables[0].foreign_keys[0].referenced_columns, ["id"]);
        let index = Scope::named(["ix_items_sku"]);
        let items = d.introspect_within(&index).await.unwrap();
        assert_eq!(table_names(&items), ["items"]);
        assert_eq!(items.tables[0].indexes[0].columns, ["sku DESC"]);
        assert_eq!(
            items.tables[0].indexes[0].predicate.as_deref(),
            Some("sku IS NOT NULL")
        );
        let trigger = d
            .introspect_within(&Scope::named(["trg_audit"]))
            .await
            .unwrap();
        assert!(trigger.tables.is_empty() && trigger.triggers.len() == 1);
        for nothing in [Scope::named(["nothing"]), Scope::named(Vec::<&str>::new())] {
            assert_eq!(
                d.introspect_within(&nothing).await.unwrap(),
                Schema::default()
            );
        }
    }

    #[tokio::test]
    async fn scope_names_are_parameters() {
        let mut d = open("sqlite::memory:").await.unwrap();
        let name = "it's \"odd\" \\ ]\n";
        let quoted = format!("\"{}\"", name.replace('"', "\"\""));
        d.execute_script(&format!("CREATE TABLE {quoted}(a); CREATE TABLE other(b);"))
            .await
            .unwrap();
        let scoped = d.introspect_within(&Scope::named([name])).await.unwrap();
        assert_eq!(table_names(&scoped), [name]);
    }
}
