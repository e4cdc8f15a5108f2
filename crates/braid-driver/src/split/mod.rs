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
        Dialect::Postgres => postgres::split_statements(sql)
            .into_iter()
            .map(|piece| Statement {
                text: piece.text.to_string(),
                line: line_of(sql, piece.text),
            })
            .collect(),
        // SQLite's string and comment syntax is the standard one the Postgres lexer reads, but
        // a trigger's `BEGIN … END` body holds `;`s. (The SQLite driver itself splits with
        // SQLite's own tokenizer; this is for readers without a connection, such as lint.)
        Dialect::Sqlite => join_trigger_bodies(sql, postgres::split_statements(sql)),
    }
}

/// Joins the pieces of each `CREATE [TEMP] TRIGGER … BEGIN …; …; END` back into one statement:
/// from the piece that starts it to the first piece ending with the word `END`.
fn join_trigger_bodies(sql: &str, pieces: Vec<postgres::Piece<'_>>) -> Vec<Statement> {
    let start_of = |p: &postgres::Piece<'_>| p.text.as_ptr() as usize - sql.as_ptr() as usize;
    let mut out = Vec::new();
    let mut open: Option<usize> = None;
    for piece in &pieces {
        let begin = *open.get_or_insert_with(|| start_of(piece));
        let in_trigger = starts_trigger(&sql[begin..]);
        if in_trigger && !ends_with_end(piece.text) {
            continue;
        }
        let end = start_of(piece) + piece.text.len();
        out.push(Statement {
            text: sql[begin..end].to_string(),
            line: line_of(sql, &sql[begin..end]),
        });
        open = None;
    }
    if let Some(begin) = open {
        // An unterminated trigger runs to the end, where SQLite will report it.
        let text = sql[begin..].trim_end().trim_end_matches(';');
        out.push(Statement {
            text: text.to_string(),
            line: line_of(sql, text),
        });
    }
    out
}

/// Whether `text` starts `CREATE [TEMP|TEMPORARY] TRIGGER`.
fn starts_trigger(text: &str) -> bool {
    let mut words = text.split_whitespace().map(str::to_ascii_uppercase);
    words.next().as_deref() == Some("CREATE")
        && match words.next().as_deref() {
            Some("TEMP" | "TEMPORARY") => words.next().as_deref() == Some("TRIGGER"),
            Some("TRIGGER") => true,
            _ => false,
        }
}

/// Whether `text` ends with the word `END`.
fn ends_with_end(text: &str) -> bool {
    let t = text.trim_end();
    t.len() >= 3
        && t.is_char_boundary(t.len() - 3)
        && t[t.len() - 3..].eq_ignore_ascii_case("end")
        && !t[..t.len() - 3]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
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

    #[test]
    fn sqlite_trigger_bodies_stay_whole() {
        let sql = "CREATE TABLE c (id INT, n INT);\n\
                   CREATE TRIGGER bump AFTER INSERT ON c\nBEGIN\n  UPDATE c SET n = n + 1;\n  \
                   UPDATE c SET n = n + 1;\nEND;\nSELECT 'legend';";
        let got = split_statements(sql, Dialect::Sqlite);
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[1].text.starts_with("CREATE TRIGGER bump"), "{got:?}");
        assert!(got[1].text.ends_with("END"), "{got:?}");
        assert_eq!(got[1].line, 2);
        assert_eq!(got[2].text, "SELECT 'legend'");
        // Unterminated: runs to the end.
        let got = split_statements("CREATE TEMP TRIGGER t BEGIN SELECT 1;", Dialect::Sqlite);
        assert_eq!(got.len(), 1, "{got:?}");
    }
}
