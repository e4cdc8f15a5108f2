//! Splitting a migration script into statements, per dialect.
//!
//! Drivers run scripts one statement at a time so a failure names its statement, and the runner
//! records statement-level progress for migrations that cannot run in a transaction (every
//! migration on MySQL, `transaction = false` elsewhere). Both must agree on where a statement
//! ends, so the lexers live here, next to the `Driver` trait, once: [`mysql`] (quotes with
//! backslash escapes, backticks, `#` comments, `DELIMITER`, stored-program bodies) and
//! [`postgres`] (standard strings, `E''`, dollar quotes, nested comments, `BEGIN ATOMIC`).
//! A driver whose server has its own tokenizer can do better through
//! [`crate::Driver::split_script`] (SQLite uses `sqlite3_complete`).

pub mod mysql;
pub mod postgres;

use crate::Dialect;

pub use mysql::Statement;

/// The statements of `sql` as `dialect` reads them, skipping empty and comment-only ones.
/// Never panics: an unterminated string or comment runs to the end of the script.
pub fn split_statements(sql: &str, dialect: Dialect) -> Vec<Statement> {
    match dialect {
        Dialect::Mysql => mysql::split_statements(sql),
        // SQLite's string and comment syntax is the standard one the Postgres lexer reads; the
        // SQLite driver itself splits with SQLite's own tokenizer.
        Dialect::Postgres | Dialect::Sqlite => postgres::split_statements(sql)
            .into_iter()
            .map(|piece| Statement {
                text: piece.text.to_string(),
                line: line_of(sql, piece.text),
            })
            .collect(),
    }
}

/// The 1-based line of `sql` where `part` (a slice of it) starts.
fn line_of(sql: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(sql.as_ptr() as usize);
    sql.as_bytes()[..offset.min(sql.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_dialect_keeps_its_quoting() {
        let pg = "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\nSELECT 2;";
        let got = split_statements(pg, Dialect::Postgres);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].line, 2);
        let my = "INSERT INTO t VALUES ('a\\';b');\n# note; here\nSELECT 1;";
        let got = split_statements(my, Dialect::Mysql);
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[1].text, "SELECT 1");
    }
}
