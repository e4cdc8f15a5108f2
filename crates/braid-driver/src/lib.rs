//! The contract between Braid and a database backend.
//!
//! A driver is transport only: it executes SQL, returns rows, runs transactions, takes the
//! migration lock and introspects the schema. It never knows what a revision is — the runner
//! owns the version store, and Braid's own SQL per backend lives in the runner's dialect module.
//! The trait is deliberately small so a third party (or a plugin through a C ABI) can implement
//! it completely.

mod dialect;
mod error;
mod keepalive;
pub mod options;
mod schema;
mod scope;
pub mod split;
pub mod tls;
mod url;
mod value;

pub use dialect::Dialect;
pub use error::{DriverError, ErrorKind, ScriptPosition, server_message, with_causes};
pub use keepalive::Keepalive;
pub use schema::{
    Check, Column, Difference, ForeignKey, Generated, Index, PrimaryKey, Routine, Schema, Sequence,
    Table, Trigger, View, diff, is_version_store, sqlite_affinity,
};
pub use scope::{Kinds, Scope};
pub use split::{Statement, split_statements};
pub use url::{
    DatabaseUrlError, EXCERPT_CHARS, redact_text, redact_url, statement_excerpt, url_has_secret,
    with_database,
};
pub use value::{Rows, Value};

use std::time::Duration;

/// A live connection to one database.
///
/// Methods take `&mut self`: one connection runs one thing at a time. A driver that needs a
/// second session (Postgres keeps its advisory lock on its own connection) opens it itself.
#[async_trait::async_trait]
pub trait Driver: Send {
    /// The SQL dialect Braid renders its own statements in for this connection.
    fn dialect(&self) -> Dialect;

    /// Driver name and version, e.g. `sqlite (rusqlite 0.37)`.
    fn name(&self) -> &str;

    /// The server's version string as the server reports it.
    async fn server_version(&mut self) -> Result<String, DriverError>;

    /// Runs a script of one or more statements, without parameters, in order. Stops at the first
    /// failing statement.
    async fn execute_script(&mut self, sql: &str) -> Result<(), DriverError>;

    /// Runs one statement with positional parameters (`?` on SQLite/MySQL, `$1` on Postgres)
    /// and returns the number of rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, DriverError>;

    /// Runs one query with positional parameters and returns every row.
    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, DriverError>;

    async fn begin(&mut self) -> Result<(), DriverError>;
    async fn commit(&mut self) -> Result<(), DriverError>;
    async fn rollback(&mut self) -> Result<(), DriverError>;

    /// Takes the migration lock named `key`, waiting up to `timeout`. The lock excludes other
    /// processes and other connections, and is released if this process dies. A timeout is an
    /// error of kind [`ErrorKind::LockTimeout`] that says who holds the lock when the backend
    /// can tell.
    async fn lock(&mut self, key: &str, timeout: Duration) -> Result<(), DriverError>;

    /// Releases the lock taken by [`Driver::lock`]. Releasing a lock not held is not an error;
    /// a lock this driver took but lost (its session ended) is: kind
    /// [`ErrorKind::LockLost`].
    async fn unlock(&mut self, key: &str) -> Result<(), DriverError>;

    /// Whether this driver still holds the lock `key` it took with [`Driver::lock`], asking the
    /// server (a lock held on a session of its own ends with that session, e.g. when a server
    /// closes an idle connection). The runner asks before each migration and before each
    /// commit. The default answers `true`: a backend whose lock cannot be lost while the process
    /// lives (an OS file lock) need not override it.
    async fn lock_held(&mut self, key: &str) -> Result<bool, DriverError> {
        let _ = key;
        Ok(true)
    }

    /// An SQL condition, true while this driver holds the lock `key`, for the runner to add to
    /// its own writes: a backend whose [`Driver::lock_held`] costs a round trip (MySQL asks
    /// `IS_USED_LOCK`) then checks the lock in the write that needs it, for free, instead of
    /// before it. Values are literals (no parameters). `None` (the default): the runner asks
    /// [`Driver::lock_held`].
    fn lock_guard(&self, key: &str) -> Option<String> {
        let _ = key;
        None
    }

    /// This connection's session on the server (Postgres: backend pid and start time; MySQL:
    /// `CONNECTION_ID()`), recorded with a migration's progress before a statement that cannot
    /// be undone, so a later run can ask whether that session is still executing it
    /// ([`Driver::session_activity`]). `None` (the default) where a session cannot outlive its
    /// process (SQLite) or the backend cannot say.
    async fn session_id(&mut self) -> Result<Option<String>, DriverError> {
        Ok(None)
    }

    /// Whether the connection is inside a transaction, its work not committed. A migration that
    /// manages its own transactions can leave one open (`BEGIN` without `COMMIT`); the runner
    /// asks before it records such a migration as applied, since a record written into that
    /// transaction would be lost with it. `None` (the default) when the driver cannot tell.
    async fn uncommitted(&mut self) -> Result<Option<bool>, DriverError> {
        Ok(None)
    }

    /// What the session `id` (from [`Driver::session_id`] of an earlier run, maybe of a killed
    /// process) is doing now, described for a person (its id, for how long, the statement), or
    /// `None` only when it has ended. A server keeps executing a killed client's last
    /// statement, and an idle session's client is alive and may still send it; the runner waits
    /// for the session to end before resuming that statement's migration.
    async fn session_activity(&mut self, id: &str) -> Result<Option<String>, DriverError> {
        let _ = id;
        Ok(None)
    }

    /// The schema of the current database (Postgres: the current schema's), normalised so
    /// that two equal schemas compare equal: tables with columns, primary key, indexes,
    /// foreign keys and checks; views, triggers, sequences and routines — without the
    /// backend's own catalogue and Braid's version store ([`is_version_store`]). `verify`
    /// compares snapshots of it; a resumed run judges a started statement's effect by it.
    async fn introspect(&mut self) -> Result<Schema, DriverError>;

    /// The schema limited to `scope`: at least every object [`Schema::within`] keeps of
    /// [`Driver::introspect`]'s answer, each exactly as that answer has it; more is allowed
    /// (callers that compare apply `within` themselves). One exception is allowed: a backend
    /// whose syntax names the table in every statement that changes an index or a constraint
    /// (MySQL: `DROP INDEX ix ON t`) may leave out a table picked only by the name of one of
    /// them. `verify` takes three snapshots per revision, so a driver reads only what the scope
    /// names in its catalogue queries; the default reads everything and filters.
    async fn introspect_within(&mut self, scope: &Scope) -> Result<Schema, DriverError> {
        Ok(self.introspect().await?.within(scope))
    }

    /// The statements of a script, as [`Driver::execute_script`] would run them one by one. The
    /// runner uses it to record statement-level progress of migrations that run outside a
    /// transaction. The default reads the script with the dialect's lexer
    /// ([`split_statements`]); a driver whose server offers its own tokenizer may do better.
    fn split_script(&self, sql: &str) -> Vec<String> {
        split_statements(sql, self.dialect())
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    /// Makes an idle connection that served one database ready to serve another in the same
    /// server database (a tenant set's next schema): whatever the last one's migrations left in
    /// the session — settings, role, temporary tables, cursors, listens, advisory locks on this
    /// connection, the driver's own statement cache — is undone. `Ok(false)` when the driver
    /// cannot promise that; the connection is then closed rather than reused (the default).
    async fn reset_session(&mut self) -> Result<bool, DriverError> {
        Ok(false)
    }

    /// Closes the connection, releasing anything still held.
    async fn close(self: Box<Self>) -> Result<(), DriverError>;
}

/// The instant `timeout` from now, for waiting loops: a timeout too large to add (a lock
/// timeout from the environment is not bounded) waits about a century instead of overflowing.
pub fn deadline_after(timeout: std::time::Duration) -> std::time::Instant {
    let now = std::time::Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(std::time::Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}
