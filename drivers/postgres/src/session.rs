//! Server sessions: the id of this driver's work session, and what a session (maybe of a
//! killed process) is executing now. See [`braid_driver::Driver::session_id`].
//!
//! An id is `<pid>@<backend start, µs since the epoch>`: a backend's pid is reused once it
//! ends, its start time is not (a restarted server starts its backends later), so the pair
//! names one session for the life of the cluster.

use braid_driver::{DriverError, ErrorKind, statement_excerpt};
use tokio_postgres::{Client, SimpleQueryMessage, SimpleQueryRow};

use crate::error::map_err;

/// The backend's start time as integer microseconds: the same expression when an id is made
/// and when it is looked up, so the two compare exactly (a timestamp as text would depend on
/// the session's `DateStyle` and `TimeZone`).
const START_MICROS: &str = "(extract(epoch FROM backend_start) * 1000000)::bigint";

/// This connection's session id (one round trip; the caller caches it: a connection's session
/// never changes, and the driver never reconnects).
pub(crate) async fn own_id(client: &Client) -> Result<String, DriverError> {
    let sql = format!(
        "SELECT pid::text || '@' || {START_MICROS}::text FROM pg_stat_activity \
         WHERE pid = pg_backend_pid()"
    );
    rows(client, &sql)
        .await?
        .first()
        .and_then(|r| r.get(0).map(str::to_string))
        .ok_or_else(|| {
            DriverError::new(
                ErrorKind::Internal,
                "pg_stat_activity does not show this connection's backend",
            )
        })
}

/// What session `id` is doing now, for a person; `None` only when it has ended (no backend with
/// that pid, or one started at another time: the pid was reused).
///
/// An idle session is still reported: its client is alive and may send the statement it was
/// marked for next (a run that lost its lock between its mark and the statement). `active` is
/// a statement still running (a server keeps running a killed client's statement until it next
/// writes to the socket); `idle in transaction` holds a transaction, and its locks, open until
/// the server notices the client is gone. A backend whose details this role may not see
/// (another role's, without `pg_read_all_stats`) shows no start time: it is reported as a
/// session that may be the one recorded, since taking it for ended could run its statement
/// twice.
pub(crate) async fn activity(client: &Client, id: &str) -> Result<Option<String>, DriverError> {
    let (pid, start) = parse_id(id)?;
    // Within a transaction, pg_stat_activity is a snapshot taken at its first use; cleared
    // first so a caller polling inside a transaction sees the session change.
    let sql = format!(
        "SELECT pg_stat_clear_snapshot(); \
         SELECT {START_MICROS}::text, state, coalesce(application_name, ''), \
                floor(extract(epoch FROM clock_timestamp() - CASE WHEN state = 'active' \
                      THEN query_start ELSE state_change END))::bigint::text, \
                query \
         FROM pg_stat_activity WHERE pid = {pid}"
    );
    let found = rows(client, &sql).await?;
    let Some(row) = found.iter().find(|r| r.len() == 5) else {
        return Ok(None);
    };
    match row.get(0) {
        None => {
            return Ok(Some(format!(
                "Postgres backend {pid}, another role's session whose details this role may \
                 not see (grant it pg_read_all_stats to tell whether it is the earlier run's)"
            )));
        }
        Some(seen) if seen != start.to_string() => return Ok(None),
        Some(_) => {}
    }
    let state = row.get(1);
    let application = match row.get(2).unwrap_or("") {
        "" => String::new(),
        name => format!(" (application `{name}`)"),
    };
    let seconds = row.get(3).unwrap_or("?");
    let statement = row
        .get(4)
        .filter(|q| !q.trim().is_empty())
        .map_or_else(|| "(no statement shown)".to_string(), statement_excerpt);
    Ok(Some(match state {
        Some("active") => {
            format!("Postgres backend {pid}{application}, running for {seconds} s: {statement}")
        }
        state => format!(
            "Postgres backend {pid}{application}, {} for {seconds} s, last statement: {statement}",
            state.unwrap_or("in an unknown state")
        ),
    }))
}

/// `<pid>@<start µs>` as made by [`own_id`].
fn parse_id(id: &str) -> Result<(i32, i64), DriverError> {
    id.split_once('@')
        .and_then(|(pid, start)| Some((pid.parse().ok()?, start.parse().ok()?)))
        .ok_or_else(|| {
            DriverError::new(
                ErrorKind::Internal,
                format!(
                    "'{}' is not a Postgres session id (expected <pid>@<backend start in µs>)",
                    statement_excerpt(id)
                ),
            )
        })
}

async fn rows(client: &Client, sql: &str) -> Result<Vec<SimpleQueryRow>, DriverError> {
    let messages = client.simple_query(sql).await.map_err(map_err)?;
    Ok(messages
        .into_iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(row) => Some(row),
            _ => None,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_or_fail_with_internal() {
        assert_eq!(
            parse_id("12345@1764500000123456").unwrap(),
            (12345, 1764500000123456)
        );
        for bad in ["", "12345", "x@1", "1@x", "1@2@3"] {
            let e = parse_id(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal, "{bad}");
            assert!(e.message.contains(&format!("'{bad}'")), "{e}");
        }
    }
}
