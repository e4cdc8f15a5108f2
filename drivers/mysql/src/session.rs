//! Server sessions: the id of this driver's work connection, and what a connection (maybe of a
//! killed process) is executing now. See [`braid_driver::Driver::session_id`].
//!
//! An id is `<CONNECTION_ID()>@<server start, seconds since the epoch>`. Connection ids are
//! unique while the server runs but start again from 1 when it restarts, so the server's start
//! time (now minus `Uptime`) is part of the id: after a restart the id names no connection.

use braid_driver::{DriverError, ErrorKind, statement_excerpt};
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};

use crate::error::map_err;

/// How far two readings of the server's start time may differ and still be the same start:
/// each is two statements' clocks in whole seconds, so they may be a second or so apart; a
/// restart takes longer than that.
const START_SLACK_SECS: i64 = 2;

/// This connection's session id (two round trips; the caller caches it: a connection's session
/// never changes, and a `Conn` never reconnects).
pub(crate) async fn own_id(conn: &mut Conn) -> Result<String, DriverError> {
    let id: Option<u64> = conn
        .query_first("SELECT CONNECTION_ID()")
        .await
        .map_err(map_err)?;
    let id = id.ok_or_else(|| DriverError::new(ErrorKind::Internal, "no CONNECTION_ID()"))?;
    Ok(format!("{id}@{}", server_start(conn).await?))
}

/// What connection `id` is doing now, for a person; `None` only when it has ended (no such
/// connection, or the server restarted since the id was taken). A sleeping (idle) connection
/// is still reported: its client is alive and may send the statement it was marked for next
/// (a run that lost its lock between its mark and the statement). `Query` or `Execute` is a
/// statement running (a server keeps running a killed client's statement), `Killed` still
/// rolling back. Another user's connections are visible only with the `PROCESS` privilege;
/// Braid's runs connect as one user, which sees its own.
pub(crate) async fn activity(conn: &mut Conn, id: &str) -> Result<Option<String>, DriverError> {
    let (connection, start) = parse_id(id)?;
    let row: Option<Row> = conn
        .exec_first(
            "SELECT COMMAND, TIME, INFO FROM information_schema.PROCESSLIST WHERE ID = ?",
            (connection,),
        )
        .await
        .map_err(map_err)?;
    let Some(mut row) = row else {
        return Ok(None);
    };
    let command: String = row
        .take::<Option<String>, _>(0)
        .flatten()
        .unwrap_or_default();
    if (server_start(conn).await? - start).abs() > START_SLACK_SECS {
        return Ok(None);
    }
    let seconds = row
        .take::<Option<i64>, _>(1)
        .flatten()
        .map_or_else(|| "?".to_string(), |t| t.to_string());
    let statement = row
        .take::<Option<String>, _>(2)
        .flatten()
        .filter(|q| !q.trim().is_empty())
        .map_or_else(
            || "(no statement shown)".to_string(),
            |q| statement_excerpt(&q),
        );
    // `Query` (text protocol) and `Execute` (a prepared statement) are what running means.
    Ok(Some(match command.as_str() {
        "Query" | "Execute" => {
            format!("MySQL connection {connection}, running for {seconds} s: {statement}")
        }
        "Sleep" => format!(
            "MySQL connection {connection}, idle for {seconds} s (its client is still connected)"
        ),
        other => {
            format!("MySQL connection {connection} ({other}), running for {seconds} s: {statement}")
        }
    }))
}

/// The server's start time in seconds since the epoch: now minus `Uptime`.
async fn server_start(conn: &mut Conn) -> Result<i64, DriverError> {
    let now: Option<i64> = conn
        .query_first("SELECT UNIX_TIMESTAMP()")
        .await
        .map_err(map_err)?;
    let uptime: Option<(String, String)> = conn
        .query_first("SHOW GLOBAL STATUS LIKE 'Uptime'")
        .await
        .map_err(map_err)?;
    match (now, uptime.and_then(|(_, v)| v.parse::<i64>().ok())) {
        (Some(now), Some(uptime)) => Ok(now - uptime),
        _ => Err(DriverError::new(
            ErrorKind::Internal,
            "the server did not report its clock and Uptime",
        )),
    }
}

/// `<connection id>@<server start>` as made by [`own_id`].
fn parse_id(id: &str) -> Result<(u64, i64), DriverError> {
    id.split_once('@')
        .and_then(|(c, start)| Some((c.parse().ok()?, start.parse().ok()?)))
        .ok_or_else(|| {
            DriverError::new(
                ErrorKind::Internal,
                format!(
                    "'{}' is not a MySQL session id (expected <connection id>@<server start>)",
                    statement_excerpt(id)
                ),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_or_fail_with_internal() {
        assert_eq!(parse_id("42@1764500000").unwrap(), (42, 1764500000));
        for bad in ["", "42", "x@1", "1@x", "-1@1", "1@2@3"] {
            let e = parse_id(bad).unwrap_err();
            assert_eq!(e.kind, ErrorKind::Internal, "{bad}");
            assert!(e.message.contains(&format!("'{bad}'")), "{e}");
        }
    }
}
