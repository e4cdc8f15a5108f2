//! Braid's MySQL/MariaDB driver, on mysql_async.
//!
//! # URLs and connecting
//!
//! [`open`] takes `mysql://user:password@host:port/database?options` (the options are
//! mysql_async's, plus the TLS settings below) or the same with `mariadb://`.
//!
//! TLS follows the MySQL clients' `ssl-mode` (`DISABLED`, `PREFERRED` — the default —,
//! `REQUIRED`, `VERIFY_CA`, `VERIFY_IDENTITY`) and `ssl-ca`, on rustls; see the `tls` module
//! for what each checks. Connection failures are
//! [`ErrorKind::Connect`] (unreachable, refused, lost), [`ErrorKind::Auth`] (error 1045 access
//! denied, 1698 access denied without a password, 1044 no access to the database, 1130 host not allowed), [`ErrorKind::NoDatabase`]
//! (1049 unknown database) or [`ErrorKind::Url`]; their messages show the URL only through
//! [`redact_url`].
//!
//! The connection is opened with `CLIENT_FOUND_ROWS`, so [`Driver::execute`] counts the rows an
//! `UPDATE` *matched*, as Postgres and SQLite do — without it MySQL counts only rows whose value
//! changed, and an idempotent `UPDATE … WHERE id = ?` would report 0. It works on tokio's
//! current-thread and multi-thread runtimes; the lock connection's keepalive needs the
//! runtime's timer (`enable_all`, as `#[tokio::main]` and every Braid runtime have).
//!
//! # Statements and scripts
//!
//! [`Driver::execute`] and [`Driver::query`] use the binary protocol (prepared statements,
//! cached per connection) so parameters and results cross exactly. A statement the server
//! cannot prepare (error 1295, some administrative statements) is run through the text protocol
//! instead when it has no parameters.
//!
//! [`Driver::execute_script`] splits the script with [`split_statements`] (quotes, comments,
//! `DELIMITER`, stored-program bodies) and runs the statements one by one through the text
//! protocol, so a failure names its statement (1-based index, total, text). MySQL commits DDL
//! implicitly: the statements before the failing one have taken effect, even inside
//! [`Driver::begin`].
//!
//! # Values
//!
//! Parameters: `Int` → `BIGINT`, `Float` → `DOUBLE`, `Text` → a utf8mb4 string, `Bytes` → a
//! byte string, `Null` → `NULL`. Results:
//!
//! * integers (signed and unsigned) → `Int`; an unsigned value above `i64::MAX` → its decimal
//!   `Text` (exact, unlike a wrapped or lossy number);
//! * `FLOAT`, `DOUBLE` → `Float`;
//! * strings: `Text` unless the column's character set is `binary` (63: `BINARY`, `VARBINARY`,
//!   `BLOB`), then `Bytes`; `BIT`, geometry → `Bytes`;
//! * `DECIMAL` → its exact decimal `Text`; `JSON` → `Text`;
//! * dates and times → `Text` as the server prints them (`2024-01-31`, `2024-01-31 12:00:00`,
//!   with fractional digits when the column has them; `TIME` as `[-]hh:mm:ss[.ffffff]`).
//!
//! # The migration lock
//!
//! [`Driver::lock`] takes a server-side named lock, `GET_LOCK(name, …)`, on a second, dedicated
//! connection opened on first use: a named lock belongs to a session, and keeping it off the
//! main connection means nothing the migration does there (a reconnect, `KILL QUERY`, a
//! statement error) can drop it. The name is [`lock_name`]`(DATABASE(), key)` — `braid:` and a
//! hash, because lock names are server-wide and at most 64 characters. It waits in slices of at
//! most [`LOCK_SLICE`] until the timeout; on timeout the error (kind
//! [`ErrorKind::LockTimeout`]) names the holding connection, its user, host and database
//! (`IS_USED_LOCK` + `information_schema.PROCESSLIST`). The server releases the lock when the
//! holding connection ends, so a crashed process never strands it. Locking a key this driver
//! already holds succeeds at once; [`Driver::unlock`] is `RELEASE_LOCK` and is a no-op for a key
//! not held, and an [`ErrorKind::LockLost`] error for a lock whose session ended.
//!
//! [`Driver::lock_held`] answers without a round trip. A keepalive task pings the lock
//! connection every 5 seconds (each ping allowed 5 seconds), so no idle timeout ends the lock's
//! session, and records the first failure; the lock counts as held until a ping fails. A
//! session the server ends (`KILL`, a shutdown) is therefore noticed within one interval, and a
//! broken network well before the server's own TCP timeout ends the session. A lock connection
//! whose keepalive failed is replaced by the next [`Driver::lock`].
//!
//! # Sessions
//!
//! [`Driver::session_id`] is `CONNECTION_ID()` of the work connection with the server's start
//! time (`<id>@<start>`: ids start again from 1 after a restart), and
//! [`Driver::session_activity`] looks it up in `information_schema.PROCESSLIST`, describing
//! what a connection that is not `Sleep`ing runs and for how long (at most 200 characters,
//! passwords hidden).
//!
//! # Errors
//!
//! Server errors are [`ErrorKind::Sql`] with the MySQL error number in `code` (e.g. `1062` for a
//! duplicate key) and the server's message followed by `[SQLSTATE xxxxx]`. A connection lost
//! mid-session is [`ErrorKind::Connect`].
//!
//! # Introspection
//!
//! From `information_schema`, for the current database (`DATABASE()`), Braid's version store
//! left out: base tables sorted by name (bytewise); columns in declaration order with
//! `COLUMN_TYPE` as the type (e.g. `bigint(20)`, `varchar(200)`), the default verbatim as the
//! server reports it (MariaDB quotes string literals: `'new'`), `AUTO_INCREMENT`, a generated
//! column's expression, `ON UPDATE` and the collation in force; the primary key from the
//! `PRIMARY` index (which also marks its columns). Indexes are sorted by name and, as in
//! braid-sqlite, leave out the primary key but include unique-constraint indexes and the
//! indexes InnoDB creates for foreign keys; a key part carries its prefix length (`name(10)`)
//! and ` DESC`, MySQL 8's functional parts their expression, and a method other than `BTREE`
//! (`FULLTEXT`, `SPATIAL`) is reported. Foreign keys carry their constraint name, are sorted
//! by it, and report `ON DELETE`/`ON UPDATE` rules as the server spells them (`CASCADE`,
//! `RESTRICT`, …); checks (MySQL 8.0.16+, MariaDB) their clause as the server prints it. Then
//! views (their definition without the database's own qualifier, so the same view compares
//! equal in another database), triggers, stored procedures and functions (arguments, return
//! type, characteristics and body; not the definer) and MariaDB's sequences.

mod error;
mod introspect;
mod lock;
mod session;
pub mod tls;
/// The MySQL lexer, shared through braid-driver with the runner.
pub use braid_driver::split::mysql as split;
mod value;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use braid_driver::{
    Dialect, Driver, DriverError, ErrorKind, Rows, Schema, ScriptPosition, Value, redact_url,
};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, OptsBuilder, Params};

pub use lock::{LOCK_PREFIX, LOCK_SLICE, lock_name};
pub use split::{Statement, split_statements};
pub use tls::{SslMode, Tls};

use error::{ER_UNSUPPORTED_PS, connect_err, map_err};

/// A connection to one MySQL or MariaDB database. See the [crate docs](crate).
pub struct MysqlDriver {
    conn: Conn,
    /// The connection holding migration locks, opened by the first [`Driver::lock`], with its
    /// keepalive.
    lock_conn: Option<lock::LockConn>,
    /// How often the lock connection is pinged: [`lock::KEEPALIVE_INTERVAL`], shorter in tests.
    keepalive_interval: Duration,
    /// This connection's session id, asked once: `conn` is never replaced (a `Conn` does not
    /// reconnect), so its session never changes.
    session: Option<String>,
    /// The locks held on `lock_conn`: the caller's key → the server-side name computed when it
    /// was taken (a migration's `USE other_db` must not change which lock `unlock` releases).
    held: HashMap<String, String>,
    /// The options the main connection was opened with (for `PREFERRED` against a server
    /// without TLS: without TLS), for the lock connection.
    opts: Opts,
    tls: Tls,
    /// The URL with its password hidden, for messages.
    shown_url: String,
    /// `Some(true)` for MariaDB, found out from the version string on first need.
    mariadb: Option<bool>,
}

impl std::fmt::Debug for MysqlDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlDriver")
            .field("url", &self.shown_url)
            .field("connection_id", &self.conn.id())
            .field("locks", &self.held)
            .finish()
    }
}

/// Opens a connection to the database named by `url` (`mysql://` or `mariadb://`).
pub async fn open(url: &str) -> Result<MysqlDriver, DriverError> {
    MysqlDriver::open(url).await
}

/// [`open`], boxed as a `dyn Driver` for code that picks the driver at run time.
pub async fn open_boxed(url: &str) -> Result<Box<dyn Driver>, DriverError> {
    Ok(Box::new(MysqlDriver::open(url).await?))
}

/// Parses a `mysql://` or `mariadb://` URL into mysql_async options (with `CLIENT_FOUND_ROWS`,
/// see the crate docs) and the TLS settings (`ssl-mode`, `ssl-ca`, taken out of the query).
/// The scheme is case-insensitive.
pub fn parse_url(url: &str) -> Result<(Opts, Tls), DriverError> {
    let trimmed = url.trim();
    let bad = |why: String| {
        DriverError::new(
            ErrorKind::Url,
            format!("invalid MySQL URL '{}': {why}", redact_url(url)),
        )
    };
    let Some(sep) = trimmed.find("://") else {
        return Err(bad("expected 'mysql://…' or 'mariadb://…'".to_string()));
    };
    let scheme = &trimmed[..sep];
    if !scheme.eq_ignore_ascii_case("mysql") && !scheme.eq_ignore_ascii_case("mariadb") {
        return Err(bad(format!(
            "the scheme must be 'mysql' or 'mariadb', not '{scheme}'"
        )));
    }
    let (rest, params) = braid_driver::options::take_params(
        trimmed,
        &[
            "ssl-mode",
            "ssl-ca",
            "require_ssl",
            "verify_ca",
            "verify_identity",
            "built_in_roots",
        ],
    );
    if let Some((name, _)) = params.iter().find(|(n, _)| {
        !["ssl-mode", "ssl-ca"].contains(&n.replace('_', "-").to_ascii_lowercase().as_str())
    }) {
        return Err(bad(format!(
            "`{name}` is mysql_async's own TLS option; Braid takes the MySQL clients' \
             `ssl-mode=DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY` and `ssl-ca=PATH`"
        )));
    }
    let param = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(n, _)| n.replace('_', "-").eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let detail = |message: String| braid_driver::options::url_error_detail(url, &message);
    let tls = Tls::new(param("ssl-mode"), param("ssl-ca")).map_err(|e| bad(detail(e.message)))?;
    let rewritten = format!("mysql{}", &rest[sep..]);
    let opts = Opts::from_url(&rewritten).map_err(|e| bad(detail(e.to_string())))?;
    let opts = OptsBuilder::from_opts(opts).client_found_rows(true).into();
    Ok((tls.apply(opts), tls))
}

impl MysqlDriver {
    async fn open(url: &str) -> Result<Self, DriverError> {
        let (opts, tls) = parse_url(url)?;
        let shown_url = redact_url(url);
        let (conn, opts) = connect(opts, &tls, &shown_url).await?;
        Ok(MysqlDriver {
            conn,
            lock_conn: None,
            keepalive_interval: lock::KEEPALIVE_INTERVAL,
            session: None,
            held: HashMap::new(),
            opts,
            tls,
            shown_url,
            mariadb: None,
        })
    }

    /// The TLS settings of this connection.
    pub fn tls(&self) -> &Tls {
        &self.tls
    }

    /// The underlying mysql_async connection, for callers that need MySQL-specific features.
    pub fn connection(&mut self) -> &mut Conn {
        &mut self.conn
    }

    /// How often the lock connection is pinged, for lock connections opened after this call
    /// (the default is 5 s). For tests, which cannot wait for a real interval.
    #[doc(hidden)]
    pub fn set_keepalive_interval(&mut self, every: Duration) {
        self.keepalive_interval = every;
    }

    /// Whether the lock connection is open and its keepalive has not failed.
    fn lock_conn_alive(&self) -> bool {
        self.lock_conn.as_ref().is_some_and(lock::LockConn::alive)
    }

    async fn is_mariadb(&mut self) -> Result<bool, DriverError> {
        if let Some(m) = self.mariadb {
            return Ok(m);
        }
        let m = self
            .version()
            .await?
            .to_ascii_lowercase()
            .contains("mariadb");
        self.mariadb = Some(m);
        Ok(m)
    }

    async fn version(&mut self) -> Result<String, DriverError> {
        let v: Option<String> = self
            .conn
            .query_first("SELECT VERSION()")
            .await
            .map_err(map_err)?;
        Ok(v.unwrap_or_default())
    }

    /// Runs `sql` with `params`, preferring the binary protocol; returns the result set (if any,
    /// the first one) and the affected row count.
    async fn run(
        &mut self,
        sql: &str,
        params: &[Value],
        want_rows: bool,
    ) -> Result<(Rows, u64), DriverError> {
        let my_params = if params.is_empty() {
            Params::Empty
        } else {
            Params::Positional(params.iter().map(value::to_mysql).collect())
        };
        match self.conn.exec_iter(sql, my_params).await {
            Ok(result) => collect(result, want_rows).await,
            Err(mysql_async::Error::Server(e))
                if e.code == ER_UNSUPPORTED_PS && params.is_empty() =>
            {
                let result = self.conn.query_iter(sql).await.map_err(map_err)?;
                collect(result, want_rows).await
            }
            Err(e) => Err(map_err(e)),
        }
    }

    /// The lock connection, opened (or, when its keepalive failed, replaced) on demand. Dropping
    /// a replaced connection ends its session, so whatever it held is gone: `held` is cleared.
    async fn lock_conn(&mut self) -> Result<Arc<tokio::sync::Mutex<Conn>>, DriverError> {
        if !self.lock_conn_alive() {
            self.lock_conn = None;
            self.held.clear();
            let mut conn = Conn::new(self.opts.clone()).await.map_err(|e| {
                connect_err(&self.shown_url, &self.tls, self.opts.ip_or_hostname(), e)
            })?;
            // The lock connection sits idle while the migration runs on the main one; the
            // server's `wait_timeout` (8 h by default, often lowered) would close it and so
            // silently drop the lock. One year is the largest value the server accepts.
            conn.query_drop("SET SESSION wait_timeout = 31536000")
                .await
                .map_err(map_err)?;
            self.lock_conn = Some(lock::LockConn::new(conn, self.keepalive_interval));
        }
        self.lock_conn
            .as_ref()
            .map(|c| Arc::clone(&c.conn))
            .ok_or_else(|| DriverError::new(ErrorKind::Internal, "lock connection missing"))
    }

    async fn lock_name_for(&mut self, key: &str) -> Result<String, DriverError> {
        let db: Option<Option<String>> = self
            .conn
            .query_first("SELECT DATABASE()")
            .await
            .map_err(map_err)?;
        Ok(lock_name(&db.flatten().unwrap_or_default(), key))
    }
}

/// Reads every result set of `result` (a `CALL` returns several), keeping the first one's
/// columns and rows when `want_rows`, and summing the affected rows.
async fn collect<P: mysql_async::prelude::Protocol>(
    mut result: mysql_async::QueryResult<'_, 'static, P>,
    want_rows: bool,
) -> Result<(Rows, u64), DriverError> {
    let mut rows = Rows::default();
    let mut affected = 0u64;
    let mut first = true;
    // At least once: a statement without a result set (`INSERT`) is already "empty", and its
    // affected row count is what the caller wants.
    loop {
        let columns = result.columns();
        let set: Vec<mysql_async::Row> = result.collect().await.map_err(map_err)?;
        affected += result.affected_rows();
        if first
            && want_rows
            && let Some(columns) = columns.filter(|c| !c.is_empty())
        {
            rows.columns = columns.iter().map(|c| c.name_str().into_owned()).collect();
            rows.rows = set
                .into_iter()
                .map(|row| {
                    // `unwrap_raw`: every value is still in the row (none was `take`n).
                    row.unwrap_raw()
                        .into_iter()
                        .zip(columns.iter())
                        .map(|(v, c)| v.map_or(Value::Null, |v| value::from_mysql(v, c)))
                        .collect()
                })
                .collect();
            first = false;
        }
        if result.is_empty() {
            break;
        }
    }
    Ok((rows, affected))
}

/// Opens a connection with `opts`; under `PREFERRED`, a server that does not offer TLS gets a
/// second attempt without it. Returns the connection and the options that worked.
async fn connect(opts: Opts, tls: &Tls, shown: &str) -> Result<(Conn, Opts), DriverError> {
    let host = opts.ip_or_hostname().to_string();
    let retry: Opts = match Conn::new(opts.clone()).await {
        Ok(conn) => return Ok((conn, opts)),
        Err(mysql_async::Error::Driver(mysql_async::DriverError::NoClientSslFlagFromServer))
            if tls.mode == SslMode::Preferred =>
        {
            OptsBuilder::from_opts(opts).ssl_opts(None).into()
        }
        Err(e) => match (tls.checks_chain_only(), tls.ssl_opts(), certified_name(&e)) {
            (true, Some(ssl), Some(name)) => OptsBuilder::from_opts(opts)
                .ssl_opts(ssl.with_danger_tls_hostname_override(Some(name)))
                .into(),
            _ => return Err(connect_err(shown, tls, &host, e)),
        },
    };
    let conn = Conn::new(retry.clone())
        .await
        .map_err(|e| connect_err(shown, tls, &host, e))?;
    Ok((conn, retry))
}

/// `VERIFY_CA` (and `REQUIRED` with `ssl-ca`) check the chain but not the name. mysql_async 0.36
/// cannot say so with rustls 0.23 (its "skip domain validation" looks for a message text rustls
/// no longer writes: blackbeam/mysql_async#404, fixed upstream after 0.37.1). rustls checks the
/// name only once the chain is trusted, and its error lists the names the certificate is valid
/// for; a second connection asks for one of them, so its chain is checked again and its name
/// matches — which is exactly these modes. A certificate that names no DNS name (only a common
/// name, as MySQL's self-generated ones) cannot be checked this way and is refused.
fn certified_name(err: &mysql_async::Error) -> Option<String> {
    let presented = presented_names(err)?;
    let names: Vec<&str> = presented
        .iter()
        .filter_map(|p| p.strip_prefix("DnsName(\"")?.strip_suffix("\")"))
        .collect();
    let name = names
        .iter()
        .find(|n| !n.starts_with("*."))
        .or(names.first())?;
    // A wildcard stands for any one label.
    Some(name.replacen('*', "braid", 1))
}

/// The names of a certificate refused for another host name, from rustls's error inside
/// `err` (which may be wrapped in I/O errors).
fn presented_names(err: &(dyn std::error::Error + 'static)) -> Option<Vec<String>> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(rustls::Error::InvalidCertificate(
            rustls::CertificateError::NotValidForNameContext { presented, .. },
        )) = e.downcast_ref::<rustls::Error>()
        {
            return Some(presented.clone());
        }
        next = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[async_trait::async_trait]
impl Driver for MysqlDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn name(&self) -> &str {
        "mysql (mysql_async 0.36)"
    }

    async fn server_version(&mut self) -> Result<String, DriverError> {
        self.version().await
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), DriverError> {
        let statements = split_statements(sql);
        let total = statements.len();
        for (i, stmt) in statements.iter().enumerate() {
            let outcome = match self.conn.query_iter(stmt.text.as_str()).await {
                Ok(result) => result.drop_result().await,
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                // The position is in `position` (as braid-sqlite does), not repeated in the
                // message, so a caller printing both does not say it twice.
                let err = map_err(e);
                return Err(err.with_position(ScriptPosition {
                    index: i + 1,
                    total: Some(total),
                    statement: stmt.text.clone(),
                }));
            }
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        Ok(self.run(sql, params, false).await?.1)
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DriverError> {
        Ok(self.run(sql, params, true).await?.0)
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        self.conn
            .query_drop("START TRANSACTION")
            .await
            .map_err(map_err)
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
        self.conn.query_drop("COMMIT").await.map_err(map_err)
    }

    async fn rollback(&mut self) -> Result<(), DriverError> {
        self.conn.query_drop("ROLLBACK").await.map_err(map_err)
    }

    async fn lock(&mut self, key: &str, timeout: Duration) -> Result<(), DriverError> {
        if self.held.contains_key(key) && self.lock_conn_alive() {
            return Ok(());
        }
        let name = self.lock_name_for(key).await?;
        let started = Instant::now();
        // A lock connection the server ended (`KILL`) is seen only when used: then it is
        // replaced once (the server released whatever it held).
        let mut retried = false;
        loop {
            let conn = self.lock_conn().await?;
            let mut conn = conn.lock().await;
            match lock::acquire(&mut conn, &name, timeout).await {
                Ok(true) => {
                    self.held.insert(key.to_string(), name);
                    return Ok(());
                }
                Ok(false) => {
                    return Err(
                        lock::timeout_error(&mut conn, key, &name, started.elapsed()).await,
                    );
                }
                Err(e) if e.kind == ErrorKind::Connect => {
                    drop(conn);
                    self.lock_conn = None;
                    self.held.clear();
                    if retried {
                        return Err(e);
                    }
                    retried = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
        let Some(name) = self.held.remove(key) else {
            return Ok(());
        };
        match &self.lock_conn {
            Some(lock_conn) => lock::release(&mut *lock_conn.conn.lock().await, &name).await,
            None => Err(DriverError::new(
                ErrorKind::LockLost,
                format!("the migration lock '{name}' was lost with its connection"),
            )),
        }
    }

    /// The key was taken, the lock connection's keepalive has not failed, and the server says
    /// the lock connection holds the lock (`IS_USED_LOCK`, on the work connection: mysql_async
    /// does not see a `KILL`ed connection until it next uses it; see the `lock` module).
    async fn lock_held(&mut self, key: &str) -> Result<bool, DriverError> {
        let (Some(name), Some(lock_conn)) = (self.held.get(key), &self.lock_conn) else {
            return Ok(false);
        };
        if !lock_conn.alive() {
            return Ok(false);
        }
        let holder: Option<Option<u64>> = self
            .conn
            .exec_first("SELECT IS_USED_LOCK(?)", (name.as_str(),))
            .await
            .map_err(map_err)?;
        Ok(holder.flatten() == Some(u64::from(lock_conn.id)))
    }

    /// `IS_USED_LOCK('<name>') = <lock connection id>`: the lock name is `braid:` and hex
    /// digits and the id a number, so both are safe as literals. A key not held, or a lock
    /// connection whose keepalive failed, gets a condition that is never true.
    fn lock_guard(&self, key: &str) -> Option<String> {
        match (self.held.get(key), &self.lock_conn) {
            (Some(name), Some(conn)) if conn.alive() => {
                Some(format!("IS_USED_LOCK('{name}') = {}", conn.id))
            }
            _ => Some("1 = 0".to_string()),
        }
    }

    /// `<CONNECTION_ID()>@<server start, s since the epoch>` of the work connection (not the
    /// lock connection): connection ids restart from 1 with the server, so its start time
    /// tells a reused id apart. Asked once, then cached.
    async fn session_id(&mut self) -> Result<Option<String>, DriverError> {
        if self.session.is_none() {
            self.session = Some(session::own_id(&mut self.conn).await?);
        }
        Ok(self.session.clone())
    }

    /// The server's "in transaction" status flag, which every OK packet carries (MySQL has no
    /// variable for it; MariaDB's `@@in_transaction` is its own): the answer to `DO 0`, which
    /// neither starts nor ends a transaction.
    async fn uncommitted(&mut self) -> Result<Option<bool>, DriverError> {
        self.conn.query_drop("DO 0").await.map_err(map_err)?;
        Ok(self.conn.last_ok_packet().map(|ok| {
            ok.status_flags()
                .contains(mysql_async::consts::StatusFlags::SERVER_STATUS_IN_TRANS)
        }))
    }

    /// From `information_schema.PROCESSLIST`: the connection with that id, unless it sleeps
    /// (or the server restarted since). An `id` that is not `<id>@<start>` is an
    /// [`ErrorKind::Internal`] error.
    async fn session_activity(&mut self, id: &str) -> Result<Option<String>, DriverError> {
        session::activity(&mut self.conn, id).await
    }

    async fn introspect(&mut self) -> Result<Schema, DriverError> {
        let mariadb = self.is_mariadb().await?;
        introspect::introspect(&mut self.conn, mariadb).await
    }

    /// Reads only the scope's tables, views, triggers, sequences and routines; see
    /// `introspect::Narrow` for how names are compared and why a table comes by its own name.
    async fn introspect_within(
        &mut self,
        scope: &braid_driver::Scope,
    ) -> Result<Schema, DriverError> {
        let mariadb = self.is_mariadb().await?;
        introspect::introspect_within(&mut self.conn, mariadb, scope).await
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        let MysqlDriver {
            conn, lock_conn, ..
        } = *self;
        // Disconnecting the lock connection releases its locks on the server.
        let lock_result = match lock_conn {
            Some(c) => c.close().await,
            None => Ok(()),
        };
        conn.disconnect().await.map_err(map_err)?;
        lock_result
    }
}
