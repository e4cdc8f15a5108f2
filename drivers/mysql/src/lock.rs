//! The migration lock: a `GET_LOCK` named lock held by a dedicated connection.
//!
//! # Knowing the lock is still held, without asking
//!
//! The runner asks whether the lock is held before every migration step, every statement run
//! outside a transaction and every `COMMIT`; a round trip each time would cost more than the
//! migration itself on a fast link. Instead a keepalive task ([`Keepalive`]) pings the lock
//! connection (`COM_PING`) every [`KEEPALIVE_INTERVAL`], each ping bounded by [`PING_TIMEOUT`],
//! and records the first failure; the lock counts as held while no ping has failed. The ping
//! also keeps the session from looking idle to the server (belt and braces: the session's
//! `wait_timeout` is raised to a year as well).
//!
//! Why this is sound: mysql_async reads a connection's socket only when it sends a command, so
//! nothing in between notices the session's end; the pings are what does. A server ends a
//! session either on purpose (`KILL`, a timeout, a shutdown) by closing the socket, which the
//! next ping finds, or, when the network fails, only after its own TCP timeout (minutes), far
//! longer than one interval plus one ping timeout, by when a ping has failed. The window is
//! therefore the first case's: a lock taken away by `KILL` would be reported held for up to
//! [`KEEPALIVE_INTERVAL`] more. So while the pings are good, `lock_held` also asks the server
//! who holds the lock (`IS_USED_LOCK`, one round trip on the work connection, which is idle
//! between statements anyway): a `KILL`ed holder is seen at once. [`release`] asks too, so
//! `unlock` reports a lost lock whenever it happened.

use std::sync::Arc;
use std::time::{Duration, Instant};

use braid_driver::{DriverError, ErrorKind, Keepalive};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use tokio::sync::Mutex;

use crate::error::map_err;

/// How often the keepalive pings the lock connection. Short enough that a server ending the
/// lock's session is noticed within seconds (see the module docs) and no idle timeout can
/// fire; long enough to cost nothing (one ping on an otherwise idle connection).
pub(crate) const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);

/// How long one ping may take before the lock connection counts as dead. A ping on an idle
/// connection answers in milliseconds; waiting longer would only widen the time in which a
/// broken network goes unnoticed.
pub(crate) const PING_TIMEOUT: Duration = Duration::from_secs(5);

/// The lock connection, shared (behind a mutex: a `Conn` needs `&mut`) by `lock`, `unlock` and
/// the keepalive task, and its keepalive.
pub(crate) struct LockConn {
    pub(crate) conn: Arc<Mutex<Conn>>,
    /// Its `CONNECTION_ID()`: what `IS_USED_LOCK` answers while it holds a lock.
    pub(crate) id: u32,
    keepalive: Keepalive,
}

impl LockConn {
    /// Wraps `conn` and starts its keepalive, pinging every `every`.
    pub(crate) fn new(conn: Conn, every: Duration) -> LockConn {
        let id = conn.id();
        let conn = Arc::new(Mutex::new(conn));
        let keepalive = Keepalive::spawn(Arc::downgrade(&conn), every, ping);
        LockConn {
            conn,
            id,
            keepalive,
        }
    }

    /// Whether every ping so far succeeded in time: no round trip (see the module docs).
    pub(crate) fn alive(&self) -> bool {
        self.keepalive.alive()
    }

    /// Stops the keepalive and disconnects, which releases every lock held on the connection.
    pub(crate) async fn close(self) -> Result<(), DriverError> {
        self.keepalive.stop().await;
        match Arc::try_unwrap(self.conn) {
            Ok(conn) => conn.into_inner().disconnect().await.map_err(map_err),
            // Unreachable (the keepalive held the only other reference); dropping the
            // connection closes it anyway.
            Err(_) => Ok(()),
        }
    }
}

/// The keepalive's ping. Waiting for the mutex is not timed: whoever holds it is using the
/// connection.
async fn ping(conn: Arc<Mutex<Conn>>) -> bool {
    let mut conn = conn.lock().await;
    matches!(
        tokio::time::timeout(PING_TIMEOUT, conn.ping()).await,
        Ok(Ok(()))
    )
}

/// The prefix of every lock name Braid takes, so `performance_schema`/`information_schema`
/// users can tell Braid's locks from the application's.
pub const LOCK_PREFIX: &str = "braid:";

/// The longest wait of one `GET_LOCK` call: the wait is split in slices so a lock lost to a
/// broken connection is noticed, and so MySQL versions that round the timeout still wake up.
pub const LOCK_SLICE: Duration = Duration::from_secs(1);

/// The server-side lock name for `key` in `database`: `braid:` and 32 hex digits of a
/// 128-bit FNV-1a hash of `database`, a NUL and `key`.
///
/// Why a hash: `GET_LOCK` names are server-wide (not per database) and limited to 64
/// characters, while the database name (up to 64) and the key (the version table's name) can
/// together be longer. Hashing both keeps the name fixed-length (38 characters) and makes two
/// databases on one server, or two version tables in one database, use different locks.
pub fn lock_name(database: &str, key: &str) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013b;
    let mut h = OFFSET;
    for b in database.bytes().chain([0]).chain(key.bytes()) {
        h ^= u128::from(b);
        h = h.wrapping_mul(PRIME);
    }
    format!("{LOCK_PREFIX}{h:032x}")
}

/// Takes `name` on `conn`, waiting up to `timeout`. `Ok(true)` when taken, `Ok(false)` on
/// timeout.
pub(crate) async fn acquire(
    conn: &mut Conn,
    name: &str,
    timeout: Duration,
) -> Result<bool, DriverError> {
    let deadline = braid_driver::deadline_after(timeout);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        // Fractional seconds: MariaDB and MySQL accept them; 0 means "try once".
        let slice = remaining.min(LOCK_SLICE).as_secs_f64();
        let got: Option<Option<i64>> = conn
            .exec_first("SELECT GET_LOCK(?, ?)", (name, slice))
            .await
            .map_err(map_err)?;
        match got.flatten() {
            Some(1) => return Ok(true),
            Some(_) => {
                if Instant::now() >= deadline {
                    return Ok(false);
                }
            }
            // NULL: an error on the server side (e.g. the thread was killed).
            None => {
                return Err(DriverError::new(
                    ErrorKind::Sql,
                    format!("GET_LOCK('{name}') returned NULL: the server could not take the lock"),
                ));
            }
        }
    }
}

/// Releases `name`, which the lock connection `conn` took. `RELEASE_LOCK` answers 1 when it
/// released it; anything else means that connection no longer held it: lost.
pub(crate) async fn release(conn: &mut Conn, name: &str) -> Result<(), DriverError> {
    let released: Option<Option<i64>> = conn
        .exec_first("SELECT RELEASE_LOCK(?)", (name,))
        .await
        .map_err(|e| lost(name, &map_err(e).message))?;
    match released.flatten() {
        Some(1) => Ok(()),
        _ => Err(lost(name, "the lock connection no longer held it")),
    }
}

fn lost(name: &str, why: &str) -> DriverError {
    DriverError::new(
        ErrorKind::LockLost,
        format!("the migration lock '{name}' was lost: {why}"),
    )
}

/// The timeout error, naming the holder when the server says who it is.
pub(crate) async fn timeout_error(
    conn: &mut Conn,
    key: &str,
    name: &str,
    waited: Duration,
) -> DriverError {
    let who = holder(conn, name)
        .await
        .unwrap_or_else(|| "another session holds it".to_string());
    DriverError::new(
        ErrorKind::LockTimeout,
        format!(
            "timed out after {} ms waiting for migration lock '{key}' (MySQL lock '{name}'): {who}",
            waited.as_millis()
        ),
    )
}

/// Describes the session holding `name`, best effort: `IS_USED_LOCK` gives its connection id,
/// the process list its user, host and database (when we may see it).
async fn holder(conn: &mut Conn, name: &str) -> Option<String> {
    let id: u64 = conn
        .exec_first::<Option<u64>, _, _>("SELECT IS_USED_LOCK(?)", (name,))
        .await
        .ok()
        .flatten()
        .flatten()?;
    let row: Option<Row> = conn
        .exec_first(
            "SELECT USER, HOST, DB, COMMAND, TIME FROM information_schema.PROCESSLIST WHERE ID = ?",
            (id,),
        )
        .await
        .ok()
        .flatten();
    let Some(mut row) = row else {
        return Some(format!("held by connection {id}"));
    };
    let user: Option<String> = row.take::<Option<String>, _>(0).flatten();
    let host: Option<String> = row.take::<Option<String>, _>(1).flatten();
    let db: Option<String> = row.take::<Option<String>, _>(2).flatten();
    let command: Option<String> = row.take::<Option<String>, _>(3).flatten();
    let time: Option<i64> = row.take::<Option<i64>, _>(4).flatten();
    let mut out = format!(
        "held by connection {id} (user '{}' from '{}'",
        user.as_deref().unwrap_or("?"),
        host.as_deref().unwrap_or("?")
    );
    if let Some(db) = db {
        out.push_str(&format!(", database '{db}'"));
    }
    if let (Some(command), Some(time)) = (command, time) {
        out.push_str(&format!(", {command} for {time} s"));
    }
    out.push(')');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_distinct_and_stable() {
        let a = lock_name("app", "braid_version");
        assert_eq!(a.len(), 38);
        assert!(a.starts_with("braid:"));
        assert_eq!(a, lock_name("app", "braid_version"));
        assert_ne!(a, lock_name("app2", "braid_version"));
        assert_ne!(a, lock_name("app", "other_version"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(lock_name("ab", "c"), lock_name("a", "bc"));
        let long = "x".repeat(200);
        assert!(lock_name(&long, &long).len() <= 64);
    }
}
