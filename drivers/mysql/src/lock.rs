//! The migration lock: a `GET_LOCK` named lock held by a dedicated connection.

use std::time::{Duration, Instant};

use braid_driver::{DriverError, ErrorKind};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::error::map_err;

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
    let deadline = Instant::now() + timeout;
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

/// Releases `name` on `conn`. Releasing a lock not held is not an error.
pub(crate) async fn release(conn: &mut Conn, name: &str) -> Result<(), DriverError> {
    let _: Option<Option<i64>> = conn
        .exec_first("SELECT RELEASE_LOCK(?)", (name,))
        .await
        .map_err(map_err)?;
    Ok(())
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
