//! The migration lock: a session-level advisory lock on a dedicated connection.
//!
//! Session, not transaction, level: `pg_advisory_xact_lock` would be released by the migration's
//! own `COMMIT`, and waiting for it inside a transaction deadlocks with
//! `CREATE INDEX CONCURRENTLY` (which waits for every open transaction, including the one
//! waiting for the lock). A dedicated connection keeps the lock independent of what the
//! migration connection does (transactions, errors, `DISCARD ALL`), and ends with the process:
//! if Braid dies, the server closes the session and the lock is gone. `pg_try_advisory_lock` is
//! polled rather than `pg_advisory_lock` awaited, so the timeout is ours and needs no
//! cancellation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::error::map_err;
use crate::{Conn, Target};
use braid_driver::{DriverError, ErrorKind};

/// How often a waiting [`crate::PostgresDriver`] retries the lock.
pub const LOCK_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// The 64-bit advisory lock key for `key` in `database`: FNV-1a over
/// `<database> NUL <key>`. Stable across processes, platforms and Braid versions (it must be:
/// two Braid versions migrating one database must exclude each other). The runner passes
/// `braid:<schema>.<table>`, so the lock is per database, schema and version table.
pub fn lock_key(database: &str, key: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in database.as_bytes().iter().chain(&[0]).chain(key.as_bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash as i64
}

/// The lock connection (opened on first use) and the locks held on it.
#[derive(Default)]
pub(crate) struct Locks {
    conn: Option<(Conn, String)>,
    held: HashMap<String, i64>,
}

impl Locks {
    pub(crate) async fn lock(
        &mut self,
        target: &Target,
        key: &str,
        timeout: Duration,
    ) -> Result<(), DriverError> {
        if self.held.contains_key(key) {
            // Already ours. Postgres would count a second lock, and one unlock would then not
            // release it; the other drivers treat a re-lock as a no-op, so this one does too.
            return Ok(());
        }
        if self.conn.is_none() {
            let conn = crate::connect(target).await?;
            let database = first_value(&conn, "SELECT current_database()").await?;
            self.conn = Some((conn, database));
        }
        let Some((conn, database)) = &self.conn else {
            unreachable!("opened above")
        };
        let id = lock_key(database, key);
        // The key as a quoted literal: `-9223372036854775808` unquoted would be a numeric.
        let try_sql = format!("SELECT pg_try_advisory_lock('{id}'::bigint)");
        let started = Instant::now();
        let deadline = started + timeout;
        loop {
            if first_value(conn, &try_sql).await? == "t" {
                self.held.insert(key.to_string(), id);
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                let holder = holder(conn, id).await;
                return Err(DriverError::new(
                    ErrorKind::LockTimeout,
                    format!(
                        "timed out after {} ms waiting for migration lock '{key}' (advisory \
                         lock {id} in database '{database}'): {holder}",
                        started.elapsed().as_millis()
                    ),
                ));
            }
            tokio::time::sleep(LOCK_POLL_INTERVAL.min(deadline - now)).await;
        }
    }

    /// Releases `key` if this driver holds it; anything else is a no-op.
    pub(crate) async fn unlock(&mut self, key: &str) -> Result<(), DriverError> {
        let (Some(id), Some((conn, _))) = (self.held.remove(key), &self.conn) else {
            return Ok(());
        };
        match first_value(conn, &format!("SELECT pg_advisory_unlock('{id}'::bigint)")).await {
            Ok(_) => Ok(()),
            // The session is gone, and its locks with it.
            Err(_) if conn.client.is_closed() => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Closes the lock connection, which releases every lock it holds.
    pub(crate) async fn close(self) {
        if let Some((conn, _)) = self.conn {
            conn.close().await;
        }
    }
}

async fn first_value(conn: &Conn, sql: &str) -> Result<String, DriverError> {
    let messages = conn.client.simple_query(sql).await.map_err(map_err)?;
    messages
        .iter()
        .find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => Some(row.get(0).unwrap_or_default()),
            _ => None,
        })
        .map(str::to_string)
        .ok_or_else(|| DriverError::new(ErrorKind::Internal, format!("no row from `{sql}`")))
}

/// Who holds advisory lock `id`, for the timeout message: pid, application name, client address
/// and connection time from `pg_stat_activity`. A bigint advisory key appears in `pg_locks` as
/// `classid` (high 32 bits), `objid` (low 32 bits) and `objsubid = 1`. Best effort: the lock may
/// have been released since, and another role's sessions show no address without
/// `pg_read_all_stats`.
async fn holder(conn: &Conn, id: i64) -> String {
    let (hi, lo) = ((id as u64 >> 32) as u32, id as u64 as u32);
    let sql = format!(
        "SELECT a.pid::text, coalesce(a.application_name, ''), \
                coalesce(host(a.client_addr), CASE WHEN a.backend_start IS NULL THEN 'unknown' \
                                              ELSE 'local socket' END), \
                coalesce(a.backend_start::text, 'unknown') \
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 \
           AND l.classid = '{hi}'::oid AND l.objid = '{lo}'::oid \
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
         ORDER BY a.pid"
    );
    let Ok(messages) = conn.client.simple_query(&sql).await else {
        return "held by another session".into();
    };
    let holders: Vec<String> = messages
        .iter()
        .filter_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(r) => Some(format!(
                "pid {} (application '{}', client {}, connected since {})",
                r.get(0).unwrap_or("?"),
                r.get(1).unwrap_or(""),
                r.get(2).unwrap_or("unknown"),
                r.get(3).unwrap_or("unknown"),
            )),
            _ => None,
        })
        .collect();
    if holders.is_empty() {
        "held by another session (which may just have released it)".into()
    } else {
        format!("held by {}", holders.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_distinct() {
        // Pinned: changing the hash would let two Braid versions migrate at once.
        assert_eq!(lock_key("", ""), 0xaf63_bd4c_8601_b7df_u64 as i64);
        assert_ne!(
            lock_key("a", "braid:public.t"),
            lock_key("b", "braid:public.t")
        );
        assert_ne!(lock_key("a", "bc"), lock_key("ab", "c"));
    }
}
