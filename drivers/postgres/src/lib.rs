//! Braid's Postgres driver, on tokio-postgres.
//!
//! # Connecting
//!
//! [`open`] takes a `postgres://` or `postgresql://` URL in libpq's URL syntax (parsed by
//! tokio-postgres: `postgres://user:password@host:port/database?option=value`).
//!
//! TLS follows libpq's `sslmode` (`disable`, `prefer` — the default —, `require`, `verify-ca`,
//! `verify-full`) and `sslrootcert`, on rustls; see the `tls` module for what each checks.
//!
//! What the URL leaves out comes from libpq's environment variables: `PGHOST`, `PGPORT`,
//! `PGUSER` (else `$USER`), `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, and the password from
//! `PGPASSWORD`, else from the password file (`PGPASSFILE`, else `~/.pgpass`; `host:port:db:user:
//! password` lines, `*` matching anything; ignored unless only its owner can read it, as libpq
//! does). A password in the URL always wins.
//!
//! Two settings are added unless the URL sets them:
//!
//! * `application_name=braid`, so operators can tell Braid's sessions apart in
//!   `pg_stat_activity` (and the lock timeout message can name them);
//! * `connect_timeout=10` seconds, so an unreachable host fails instead of waiting for the OS's
//!   TCP timeout (minutes).
//!
//! Connection failures are [`ErrorKind::Connect`], rejected credentials or roles
//! [`ErrorKind::Auth`] (SQLSTATE class 28), and a missing database [`ErrorKind::NoDatabase`]
//! (3D000). Messages show the URL only through [`braid_driver::redact_url`].
//!
//! The connection's I/O runs in a task spawned on the current tokio runtime (a current-thread
//! runtime works: the task runs whenever the caller awaits), so [`open`] must be called from
//! within a runtime; outside one it fails with [`ErrorKind::Internal`] instead of panicking.
//!
//! # Statements
//!
//! [`Driver::execute_script`] splits the script into statements (see [`split_statements`] for
//! the rules) and runs each with the simple query protocol, one at a time: Postgres would run a
//! multi-statement query as one implicit transaction, refuse `CREATE INDEX CONCURRENTLY` in it,
//! and not say which statement failed. So a script behaves as on the other drivers: statements
//! before a failing one stay applied unless the caller opened a transaction, and the error's
//! `position` names the failing statement. [`Driver::execute`] and [`Driver::query`] use the
//! extended protocol with `$1…` parameters; the value mapping is under [Values](#values).
//!
//! Server errors carry the SQLSTATE in `code` and the server's message, followed by its
//! `DETAIL:` and `HINT:` lines when present.
//!
//! Transactions are plain `BEGIN`/`COMMIT`/`ROLLBACK`. Postgres answers `COMMIT` in a failed
//! transaction by rolling back *without an error*; [`Driver::commit`] therefore sends a probe
//! statement first, so committing a failed transaction is an error (SQLSTATE 25P02) and the
//! caller must roll back. `BEGIN` inside a transaction and `COMMIT`/`ROLLBACK` outside one are
//! only warnings in Postgres and succeed.
//!
//! # Values
//!
//! Parameters adapt to the type Postgres infers for them; results are decoded by column type.
//! In short: integer types, `oid`s and `bool` (0/1) ↔ `Int`; `float4`/`float8` ↔ `Float`;
//! `bytea` ↔ `Bytes`; text types, enums, `json`/`jsonb`, `uuid`, `numeric`, dates and
//! timestamps → `Text` (and `Text` parameters are sent in the text format, so the server parses
//! them into any type). Other result types are an [`ErrorKind::Unsupported`] error asking for a
//! cast to text. The full rules are in the `value` module's docs in the source.
//!
//! # The migration lock
//!
//! [`Driver::lock`] takes a *session* advisory lock (`pg_try_advisory_lock`, polled every
//! [`LOCK_POLL_INTERVAL`]) on a second connection of its own, opened on first use, with the key
//! [`lock_key`]`(current_database(), key)`. The session ends with the process, so a crash never
//! leaves a stale lock. A timeout names the holder's pid, application name, client address and
//! connection time. Locking a key this driver already holds succeeds at once.
//!
//! [`Driver::lock_held`] answers without a round trip. A keepalive task runs `SELECT 1` on the
//! lock connection every 5 seconds (each ping allowed 5 seconds), so a server's
//! `idle_session_timeout` never ends the lock's session, and records the first failure. The
//! lock counts as held while its connection is open and no ping has failed: a server that ends
//! the session closes its socket, which tokio-postgres sees at once, and a broken network ends
//! the session on the server only after its TCP timeout (minutes), by when a ping has failed.
//! A lock connection found dead is replaced by the next [`Driver::lock`]. [`Driver::unlock`] of
//! a lock whose session ended is an [`ErrorKind::LockLost`] error.
//!
//! # Sessions
//!
//! [`Driver::session_id`] is `<pid>@<backend start>` of the work connection, and
//! [`Driver::session_activity`] looks that backend up in `pg_stat_activity` (pid and start time
//! must both match), describing its state, for how long, and its statement (at most 200
//! characters, passwords hidden).
//!
//! # Introspection
//!
//! Objects of `current_schema()` (with no schema on the `search_path`, as a `pg_dump` script leaves
//! it, the first of the session's starting `search_path`), sorted by name, Braid's version store
//! left out: tables (ordinary and partitioned) with columns in declaration order (`data_type` as
//! `format_type` prints it, e.g. `character varying(200)`; `default` as `pg_get_expr` prints it,
//! e.g. `'new'::character varying`; identity, generated expression, a declared collation), the
//! primary key with its constraint name, indexes sorted by name, foreign keys sorted by constraint
//! name (actions as words, e.g. `CASCADE`; a referenced table in another schema as `schema.table`),
//! and checks (the condition as `pg_get_expr` prints it). As on SQLite, indexes include those
//! behind `UNIQUE` and `EXCLUDE` constraints (marked as such) but not the primary key's; an index
//! part is a column name or an expression as `pg_get_indexdef` prints it, with a non-default
//! operator class and order, and a partial index's predicate, `INCLUDE` columns and a method other
//! than `btree` are reported. Then views and materialized views (`pg_get_viewdef`), triggers other
//! than the internal ones behind foreign keys (`pg_get_triggerdef`), sequences other than identity
//! columns' own (their definition, not their current value), and functions and procedures
//! (`pg_get_functiondef`; not aggregates). Views, sequences and routines that belong to an
//! extension are left out. All of it is one script of catalogue queries, one round trip.

mod error;
mod introspect;
mod lock;
mod pgpass;
mod session;
pub mod tls;
mod value;

use std::sync::Arc;
use std::time::Duration;

use braid_driver::{
    Dialect, Driver, DriverError, ErrorKind, Rows, Schema, Scope, ScriptPosition, Value, redact_url,
};
use tokio::task::JoinHandle;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Config, SimpleQueryMessage};

pub use lock::{LOCK_POLL_INTERVAL, lock_key};
pub use tls::{SslMode, Tls};

use error::{db_message, full_message, kind_for, map_err};
use lock::Locks;
use value::{Param, Raw, decode};

/// The `application_name` Braid's sessions get unless the URL sets one.
pub const APPLICATION_NAME: &str = "braid";

/// How long connecting may take unless the URL sets `connect_timeout`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Splits a script into statements the way [`Driver::execute_script`] does: on `;` outside
/// strings, quoted identifiers, dollar quotes, comments and `BEGIN ATOMIC … END` function
/// bodies. Returns each statement trimmed, without its `;` and leading comments.
pub fn split_statements(sql: &str) -> Vec<&str> {
    braid_driver::split::postgres::split_statements(sql)
        .into_iter()
        .map(|s| s.text)
        .collect()
}

/// One connection and the task driving its I/O. The client is shared (`Arc`) only so the lock
/// connection's keepalive task can reach it through a `Weak`; nothing else clones it.
pub(crate) struct Conn {
    client: Arc<Client>,
    task: JoinHandle<()>,
}

impl Conn {
    /// Drops the client (which makes the connection send `Terminate`) and waits until the
    /// socket is closed, so the server has ended the session — and released its locks — as far
    /// as this process can tell.
    async fn close(self) {
        drop(self.client);
        let _ = self.task.await;
    }
}

/// Where and how to connect: tokio-postgres's configuration, the TLS settings, and the URL as
/// messages show it (password hidden).
#[derive(Clone, Debug)]
pub struct Target {
    pub config: Config,
    pub tls: Tls,
    pub shown: String,
}

/// A connection to one Postgres database. See the [crate docs](crate).
pub struct PostgresDriver {
    conn: Conn,
    /// Kept to open the lock connection with the same settings.
    target: Target,
    locks: Locks,
    /// Statements prepared by `execute`, by SQL text. The runner sends the same bookkeeping
    /// statement once per migration; preparing it each time would cost a round trip per
    /// migration. A statement without result rows keeps working across schema changes (the
    /// server re-plans it); an entry is dropped when using it fails.
    prepared: std::collections::HashMap<String, tokio_postgres::Statement>,
    /// This connection's session id, asked once: `conn` is never replaced (the driver does not
    /// reconnect), so its session never changes.
    session: Option<String>,
    /// The introspection queries, prepared on this connection at its first snapshot.
    introspection: introspect::Prepared,
}

impl PostgresDriver {
    /// The prepared statement for `sql`, from the cache or the server.
    async fn prepared(&mut self, sql: &str) -> Result<tokio_postgres::Statement, DriverError> {
        if let Some(statement) = self.prepared.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.conn.client.prepare(sql).await.map_err(map_err)?;
        self.prepared.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

impl std::fmt::Debug for PostgresDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresDriver")
            .field("url", &self.target.shown)
            .finish_non_exhaustive()
    }
}

/// Connects to the database named by `url` (`postgres://` or `postgresql://`).
pub async fn open(url: &str) -> Result<PostgresDriver, DriverError> {
    let target = parse_url(url)?;
    let conn = connect(&target).await?;
    Ok(PostgresDriver {
        conn,
        target,
        locks: Locks::default(),
        prepared: std::collections::HashMap::new(),
        session: None,
        introspection: introspect::Prepared::default(),
    })
}

/// [`open`], boxed as a `dyn Driver` for code that picks the driver at run time.
pub async fn open_boxed(url: &str) -> Result<Box<dyn Driver>, DriverError> {
    Ok(Box::new(open(url).await?))
}

/// Parses a Postgres URL into a [`Target`]: tokio-postgres's configuration with what the URL
/// leaves out taken from libpq's environment variables and password file, Braid's defaults
/// ([`APPLICATION_NAME`], [`CONNECT_TIMEOUT`]) where nothing sets them, and the TLS settings.
pub fn parse_url(url: &str) -> Result<Target, DriverError> {
    let shown = redact_url(url);
    let lower = url.get(..13).unwrap_or(url).to_ascii_lowercase();
    if !(lower.starts_with("postgres://") || lower.starts_with("postgresql://")) {
        return Err(DriverError::new(
            ErrorKind::Url,
            format!("'{shown}' is not a Postgres URL: expected postgres://user@host/database"),
        ));
    }
    let (rest, tls_params) = braid_driver::options::take_params(url, &["sslmode", "sslrootcert"]);
    let param = |name: &str| {
        tls_params
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let detail = |message: String| braid_driver::options::url_error_detail(url, &message);
    let tls = Tls::new(param("sslmode"), param("sslrootcert")).map_err(|e| {
        DriverError::new(
            e.kind,
            format!("Postgres URL '{shown}': {}", detail(e.message)),
        )
    })?;
    let mut config: Config = rest.parse().map_err(|e: tokio_postgres::Error| {
        let message = detail(full_message(&e));
        DriverError::new(
            ErrorKind::Url,
            format!("invalid Postgres URL '{shown}': {message}"),
        )
    })?;
    from_environment(&mut config);
    if config.get_hosts().is_empty() {
        return Err(DriverError::new(
            ErrorKind::Url,
            format!("Postgres URL '{shown}' names no host (and PGHOST is not set)"),
        ));
    }
    config.ssl_mode(tls.mode.for_client());
    if config.get_application_name().is_none() {
        config.application_name(APPLICATION_NAME);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(Target { config, tls, shown })
}

/// libpq's environment, for what the URL leaves out: `PGHOST`, `PGPORT`, `PGUSER` (else the
/// OS user), `PGDATABASE`, and the password from `PGPASSWORD`, else the password file.
fn from_environment(config: &mut Config) {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if config.get_hosts().is_empty() {
        for host in env("PGHOST").iter().flat_map(|h| h.split(',')) {
            config.host(host);
        }
    }
    if config.get_ports().is_empty()
        && let Some(port) = env("PGPORT").and_then(|p| p.parse::<u16>().ok())
    {
        config.port(port);
    }
    if config.get_user().is_none()
        && let Some(user) = env("PGUSER").or_else(|| env("USER"))
    {
        config.user(user);
    }
    if config.get_dbname().is_none()
        && let Some(dbname) = env("PGDATABASE")
    {
        config.dbname(dbname);
    }
    if config.get_password().is_none() {
        if let Some(password) = env("PGPASSWORD") {
            config.password(password);
        } else if let Some(password) = pgpass::lookup(config) {
            config.password(password);
        }
    }
}

/// Opens one connection to `target` and spawns the task that drives it.
pub(crate) async fn connect(target: &Target) -> Result<Conn, DriverError> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Err(DriverError::new(
            ErrorKind::Internal,
            "the Postgres driver must run inside a tokio runtime",
        ));
    }
    // No TLS over Unix sockets, as libpq: the socket is local, and the TLS connector would be
    // asked for a server name the socket does not have.
    let sockets_only = target
        .config
        .get_hosts()
        .iter()
        .all(|h| !matches!(h, tokio_postgres::config::Host::Tcp(_)));
    let task = if sockets_only {
        let mut config = target.config.clone();
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .map_err(|e| connect_error(target, e))?;
        (client, spawn(connection))
    } else {
        let (client, connection) = target
            .config
            .connect(target.tls.connector.clone())
            .await
            .map_err(|e| connect_error(target, e))?;
        (client, spawn(connection))
    };
    Ok(Conn {
        client: Arc::new(task.0),
        task: task.1,
    })
}

/// Drives a connection's I/O in a task of its own; an error surfaces on the next request as a
/// closed client.
fn spawn<F>(connection: F) -> JoinHandle<()>
where
    F: std::future::Future + Send + 'static,
{
    tokio::spawn(async move {
        let _ = connection.await;
    })
}

/// A failure to connect, said as it is: the server's error, or which TLS check failed.
fn connect_error(target: &Target, e: tokio_postgres::Error) -> DriverError {
    let (kind, code, message) = match e.as_db_error() {
        Some(db) => (
            kind_for(db.code()),
            Some(db.code().code().to_string()),
            db_message(db),
        ),
        None => {
            let message = full_message(&e);
            let host = target
                .config
                .get_hosts()
                .first()
                .map(|h| match h {
                    tokio_postgres::config::Host::Tcp(name) => name.clone(),
                    #[cfg(unix)]
                    tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
                })
                .unwrap_or_default();
            let message = target.tls.explain(&message, &host).unwrap_or(message);
            (ErrorKind::Connect, None, message)
        }
    };
    DriverError {
        kind,
        code,
        message: format!("cannot connect to '{}': {message}", target.shown),
        position: None,
    }
}

impl PostgresDriver {
    /// The underlying tokio-postgres client, for callers that need Postgres-specific features.
    pub fn client(&self) -> &Client {
        &self.conn.client
    }

    /// The URL this driver connected to, password hidden.
    pub fn url(&self) -> &str {
        &self.target.shown
    }

    /// The TLS settings of this connection.
    pub fn tls(&self) -> &Tls {
        &self.target.tls
    }

    /// How often the lock connection is pinged, for lock connections opened after this call
    /// (the default is 5 s). For tests, which cannot wait for a real interval.
    #[doc(hidden)]
    pub fn set_keepalive_interval(&mut self, every: Duration) {
        self.locks.keepalive_interval = every;
    }

    async fn simple(&self, sql: &str) -> Result<Vec<SimpleQueryMessage>, DriverError> {
        self.conn.client.simple_query(sql).await.map_err(map_err)
    }
}

/// `COPY … FROM STDIN` / `TO STDOUT` need the copy sub-protocol, which tokio-postgres offers only
/// through dedicated calls; sent as a plain statement it breaks the connection. Refused up
/// front instead. (A heuristic on the statement's words: a `COPY` naming a *file* called
/// `stdin` is refused too.)
fn refuse_copy(sql: &str) -> Result<(), DriverError> {
    let mut words = sql
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty());
    let is_copy = words.next().is_some_and(|w| w.eq_ignore_ascii_case("copy"));
    if is_copy && words.any(|w| w.eq_ignore_ascii_case("stdin") || w.eq_ignore_ascii_case("stdout"))
    {
        return Err(DriverError::new(
            ErrorKind::Unsupported,
            "COPY FROM STDIN / TO STDOUT is not supported in migrations; use INSERT, or COPY \
             with a server-side file",
        ));
    }
    Ok(())
}

fn bind(params: &[Value]) -> Vec<Param<'_>> {
    params.iter().map(Param).collect()
}

fn refs<'a>(bound: &'a [Param<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
}

#[async_trait::async_trait]
impl Driver for PostgresDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn name(&self) -> &str {
        "postgres (tokio-postgres 0.7)"
    }

    async fn server_version(&mut self) -> Result<String, DriverError> {
        self.simple("SHOW server_version")
            .await?
            .iter()
            .find_map(|m| match m {
                SimpleQueryMessage::Row(r) => r.get(0).map(String::from),
                _ => None,
            })
            .ok_or_else(|| DriverError::new(ErrorKind::Internal, "SHOW server_version: no row"))
    }

    async fn execute_script(&mut self, sql: &str) -> Result<(), DriverError> {
        let statements = braid_driver::split::postgres::split_statements(sql);
        let total = statements.len();
        for (i, statement) in statements.iter().enumerate() {
            let run = match refuse_copy(statement.text) {
                Ok(()) => self
                    .conn
                    .client
                    .batch_execute(statement.text)
                    .await
                    .map_err(map_err),
                Err(e) => Err(e),
            };
            if let Err(e) = run {
                return Err(e.with_position(ScriptPosition {
                    index: i + 1,
                    total: Some(total),
                    statement: statement.text.to_string(),
                }));
            }
        }
        Ok(())
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError> {
        refuse_copy(braid_driver::split::postgres::strip_leading_comments(sql))?;
        let statement = self.prepared(sql).await?;
        let bound = bind(params);
        let result = self.conn.client.execute(&statement, &refs(&bound)).await;
        if result.is_err() {
            // Never retried (a failed statement aborts the transaction); prepared afresh next time.
            self.prepared.remove(sql);
        }
        result.map_err(map_err)
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DriverError> {
        refuse_copy(braid_driver::split::postgres::strip_leading_comments(sql))?;
        // Prepared first so the column names are known even when no row comes back.
        // Not cached: a query's result type can change with the schema, and a stale one fails
        // ("cached plan must not change result type"). Queries are rare on the hot path anyway.
        let client = &self.conn.client;
        let statement = client.prepare(sql).await.map_err(map_err)?;
        let bound = bind(params);
        let found = client
            .query(&statement, &refs(&bound))
            .await
            .map_err(map_err)?;
        let columns = statement.columns();
        let mut rows = Vec::with_capacity(found.len());
        for row in &found {
            let mut values = Vec::with_capacity(columns.len());
            for (i, column) in columns.iter().enumerate() {
                let raw: Raw<'_> = row.try_get(i).map_err(map_err)?;
                values.push(decode(column.name(), column.type_(), raw.0)?);
            }
            rows.push(values);
        }
        Ok(Rows {
            columns: columns.iter().map(|c| c.name().to_string()).collect(),
            rows,
        })
    }

    async fn begin(&mut self) -> Result<(), DriverError> {
        self.simple("BEGIN").await.map(drop)
    }

    async fn commit(&mut self) -> Result<(), DriverError> {
        // In a failed transaction the probe fails (25P02) and the rest of the query string is
        // skipped, so `COMMIT` never silently turns into a rollback. (Sent as one query string:
        // no extra round trip.)
        self.simple("SELECT 1; COMMIT")
            .await
            .map(drop)
            .map_err(|e| DriverError {
                message: format!("cannot commit: {}", e.message),
                ..e
            })
    }

    async fn rollback(&mut self) -> Result<(), DriverError> {
        self.simple("ROLLBACK").await.map(drop)
    }

    async fn lock(&mut self, key: &str, timeout: Duration) -> Result<(), DriverError> {
        self.locks.lock(&self.target, key, timeout).await
    }

    async fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
        self.locks.unlock(key).await
    }

    /// Answered without a round trip: the lock connection is open and its keepalive has not
    /// failed (see the crate docs on the migration lock for why that is sound).
    async fn lock_held(&mut self, key: &str) -> Result<bool, DriverError> {
        Ok(self.locks.held(key))
    }

    /// `<pid>@<backend start in µs since the epoch>` of the work connection (not the lock
    /// connection): the start time tells a reused pid apart. Asked once, then cached.
    async fn session_id(&mut self) -> Result<Option<String>, DriverError> {
        if self.session.is_none() {
            self.session = Some(session::own_id(&self.conn.client).await?);
        }
        Ok(self.session.clone())
    }

    /// Inside a transaction block, `now()` is when it began, earlier than this statement;
    /// outside one, a query of the simple protocol starts its own transaction with its
    /// statement, and the two are equal. (The extended protocol starts the transaction at Bind
    /// and the statement again at Execute, so there they differ anyway.)
    async fn uncommitted(&mut self) -> Result<Option<bool>, DriverError> {
        let messages = self
            .conn
            .client
            .simple_query("SELECT now() <> statement_timestamp()")
            .await
            .map_err(map_err)?;
        Ok(messages.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(|v| v == "t"),
            _ => None,
        }))
    }

    /// From `pg_stat_activity`: the backend with that pid *and* start time, unless idle. An
    /// `id` that is not `<pid>@<start>` is an [`ErrorKind::Internal`] error.
    async fn session_activity(&mut self, id: &str) -> Result<Option<String>, DriverError> {
        session::activity(&self.conn.client, id).await
    }

    async fn introspect(&mut self) -> Result<Schema, DriverError> {
        self.introspect_within(&Scope::Whole).await
    }

    async fn introspect_within(&mut self, scope: &Scope) -> Result<Schema, DriverError> {
        introspect::introspect(&self.conn.client, &mut self.introspection, scope).await
    }

    /// `DISCARD ALL` without its `DEALLOCATE ALL` (tokio-postgres keeps its own prepared
    /// statements for type lookups, which must survive): the session user and every setting
    /// back to the connection's defaults, cursors, listens, this connection's advisory locks
    /// (the migration lock lives on the lock connection), temporary tables and sequence state.
    /// The statements this driver prepared for the last database are dropped, which closes
    /// them on the server: they named that database's tables.
    async fn reset_session(&mut self) -> Result<bool, DriverError> {
        self.prepared.clear();
        self.conn
            .client
            .batch_execute(
                "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; CLOSE ALL; UNLISTEN *; \
                 SELECT pg_advisory_unlock_all(); DISCARD TEMP; DISCARD SEQUENCES;",
            )
            .await
            .map_err(map_err)?;
        Ok(true)
    }

    async fn close(self: Box<Self>) -> Result<(), DriverError> {
        let PostgresDriver { conn, locks, .. } = *self;
        locks.close().await;
        conn.close().await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn driver_is_send() {
        assert_send::<PostgresDriver>();
    }

    #[test]
    fn urls() {
        let c = parse_url("postgresql://u:p@h:5433/db?application_name=app")
            .unwrap()
            .config;
        assert_eq!(c.get_application_name(), Some("app"));
        assert_eq!(c.get_dbname(), Some("db"));
        let t = parse_url("postgres://u@h/db").unwrap();
        assert_eq!(t.config.get_application_name(), Some(APPLICATION_NAME));
        assert_eq!(t.config.get_connect_timeout(), Some(&CONNECT_TIMEOUT));
        assert_eq!(t.tls.mode, SslMode::Prefer, "libpq's default");
        // libpq's TLS options are Braid's: taken out before tokio-postgres reads the URL.
        let t = parse_url("postgres://u@h/db?sslmode=verify-full&sslrootcert=system").unwrap();
        assert_eq!(t.tls.mode, SslMode::VerifyFull);
        assert_eq!(
            t.config.get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        for bad in ["mysql://u@h/db", "host=h user=u", "", "postgres://"] {
            let err = parse_url(bad).unwrap_err();
            assert_eq!(err.kind, ErrorKind::Url, "{bad}: {err}");
        }
        let err = parse_url("postgres://u:s3cret@h:notaport/db").unwrap_err();
        assert_eq!(err.kind, ErrorKind::Url);
        assert!(!err.message.contains("s3cret"), "{err}");
    }

    #[tokio::test]
    async fn needs_no_server_to_fail_cleanly() {
        let err = open("postgres://u:secret@127.0.0.1:1/x").await.unwrap_err();
        assert_eq!(err.kind, ErrorKind::Connect, "{err}");
        assert!(!err.message.contains("secret"), "{err}");
        assert!(
            err.message.contains("postgres://u:***@127.0.0.1:1/x"),
            "{err}"
        );
    }
}
