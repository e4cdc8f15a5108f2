//! Running multi-statement scripts with the failing statement's position.

use std::ffi::CString;

use braid_driver::{DriverError, ScriptPosition};
use rusqlite::fallible_iterator::FallibleIterator;
use rusqlite::{Batch, Connection, ffi};

use crate::error::map_err;

/// Runs every statement of `sql` in order, as SQLite itself splits them (rusqlite's [`Batch`]
/// prepares one statement at a time and hands back the tail, so `;` inside strings, comments and
/// trigger bodies are handled by SQLite's own tokenizer). Rows a statement returns (a `SELECT`,
/// `PRAGMA journal_mode`) are read and discarded, so a script may contain them.
///
/// On failure the error's `position` holds the 1-based index of the failing statement, the
/// script's statement count and the statement text.
pub(crate) fn run_script(conn: &Connection, sql: &str) -> Result<(), DriverError> {
    let mut batch = Batch::new(conn, sql);
    let mut index = 0;
    // Byte offset just past the last statement that ran: where SQLite resumes parsing.
    let mut done = 0;
    loop {
        index += 1;
        let mut stmt = match batch.next() {
            Ok(Some(stmt)) => stmt,
            Ok(None) => return Ok(()),
            // The statement did not prepare (syntax error, unknown table, …). Its text is the
            // next statement SQLite would have parsed.
            Err(e) => {
                let text = split_statements(&sql[done..])
                    .first()
                    .copied()
                    .unwrap_or_default();
                return Err(positioned(map_err(e), sql, index, text));
            }
        };
        // The prepared statement's text is an exact slice of the script (SQLite keeps the
        // source of each statement), so locate it to know where the next one starts.
        let span = stmt
            .expanded_sql()
            .and_then(|text| sql[done..].find(&text).map(|at| (done + at, text.len())));
        let text = match span {
            Some((start, len)) => {
                done = start + len;
                sql[start..done].trim()
            }
            None => "",
        };
        let stepped = {
            let mut rows = stmt.raw_query();
            loop {
                match rows.next() {
                    Ok(Some(_)) => {}
                    Ok(None) => break Ok(()),
                    Err(e) => break Err(e),
                }
            }
        };
        if let Err(e) = stepped {
            return Err(positioned(map_err(e), sql, index, text));
        }
    }
}

fn positioned(mut err: DriverError, sql: &str, index: usize, text: &str) -> DriverError {
    let total = split_statements(sql).len();
    err.position = Some(ScriptPosition {
        index,
        // Our count uses `sqlite3_complete`; if it ever disagrees with the parser, say nothing
        // rather than something wrong.
        total: (total >= index).then_some(total),
        statement: text.to_string(),
    });
    err
}

/// Splits `sql` into its non-empty statements (trimmed, with their `;`), using SQLite's
/// `sqlite3_complete` to decide where a statement ends: to describe a failure, and for the
/// runner's statement-level progress (`Driver::split_script`).
pub(crate) fn split_statements(sql: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, _) in sql.match_indices(';') {
        let chunk = &sql[start..=i];
        if is_complete(chunk) {
            if !is_blank(chunk) {
                out.push(chunk.trim());
            }
            start = i + 1;
        }
    }
    let rest = &sql[start..];
    if !is_blank(rest) {
        out.push(rest.trim());
    }
    out
}

fn is_complete(chunk: &str) -> bool {
    let Ok(c) = CString::new(chunk) else {
        return false;
    };
    // SAFETY: `c` is a valid NUL-terminated string that lives across the call;
    // `sqlite3_complete` only reads it and keeps no reference.
    unsafe { ffi::sqlite3_complete(c.as_ptr()) != 0 }
}

/// Whether `chunk` holds nothing but whitespace, `;` and comments.
fn is_blank(chunk: &str) -> bool {
    let mut s = chunk;
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == ';');
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find('\n').map_or("", |n| &rest[n + 1..]);
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |n| &rest[n + 2..]);
        } else {
            return s.is_empty();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_sqlite() {
        let sql = "CREATE TABLE t(x TEXT); -- a comment; with a semicolon\n\
                   INSERT INTO t VALUES ('a;b');;\n\
                   /* block; */ CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; SELECT 2; END;\n\
                   SELECT 1";
        let parts = split_statements(sql);
        assert_eq!(parts.len(), 4, "{parts:#?}");
        assert_eq!(parts[0], "CREATE TABLE t(x TEXT);");
        assert!(
            parts[1].ends_with("INSERT INTO t VALUES ('a;b');"),
            "{}",
            parts[1]
        );
        assert!(parts[2].ends_with("END;"), "{}", parts[2]);
        assert_eq!(parts[3], "SELECT 1");
        assert!(split_statements("  -- nothing\n /* at all */ ;").is_empty());
    }

    #[test]
    fn positions_failures() {
        let conn = Connection::open_in_memory().unwrap();
        let sql = "CREATE TABLE t(x UNIQUE);\n;\nINSERT INTO t VALUES (1);\n\
                   INSERT INTO t VALUES (1);\nSELECT 1;";
        let err = run_script(&conn, sql).unwrap_err();
        let pos = err.position.unwrap();
        assert_eq!(pos.index, 3);
        assert_eq!(pos.total, Some(4));
        assert_eq!(pos.statement, "INSERT INTO t VALUES (1);");

        let err = run_script(&conn, "SELECT 1; SELECT * FROM missing; SELECT 2;").unwrap_err();
        let pos = err.position.unwrap();
        assert_eq!((pos.index, pos.total), (2, Some(3)));
        assert_eq!(pos.statement, "SELECT * FROM missing;");

        let err = run_script(&conn, "SELECT 1;\n SELEC 2; SELECT 3").unwrap_err();
        let pos = err.position.unwrap();
        assert_eq!((pos.index, pos.total), (2, Some(3)));
        assert_eq!(pos.statement, "SELEC 2;");
    }
}
