//! Which objects a script can change: the [`Scope`] a `verify` snapshot needs to cover.
//!
//! The answer is lexical on purpose: every identifier the script writes (quoted or not,
//! keywords too, and string literals, which SQLite and MySQL's `ANSI_QUOTES` take for names
//! in places) is a name of the scope. A statement can only create, alter or drop what it
//! names, and reading a few objects too many costs a few catalogue rows — so no statement kind
//! needs to be known, and one the parser cannot read is covered as well as any other. Objects
//! a statement creates without naming them belong to a table it names (Postgres's `t_pkey`,
//! `t_email_key`, a `serial` column's `t_id_seq`; MySQL's generated index names) and live and
//! die with it.
//!
//! What a statement may change beyond its names makes the scope [`Scope::Whole`]:
//! - `CASCADE` (not `ON DELETE CASCADE` or `ON UPDATE CASCADE`): it drops dependent objects
//!   wherever they are;
//! - `RENAME` (of a table, a column, an index): the other tables' foreign keys, views and
//!   trigger bodies that refer to the renamed object follow it (SQLite since 3.26, MySQL's
//!   foreign keys, Postgres's views), so a wrong rename shows outside the names;
//! - statements that run code or bring objects in wholesale: `DO`, `CALL`, a query (`SELECT`,
//!   `WITH`, `VALUES`, `EXPLAIN`, or one in parentheses) that calls something (`SELECT 1`, the
//!   deliberate no-op, does not), `EXECUTE`, `PREPARE`, `PERFORM`, `CREATE`/`ALTER`/`DROP
//!   EXTENSION`, `DROP OWNED`, `REASSIGN OWNED`, `IMPORT FOREIGN SCHEMA`, SQLite's
//!   `ATTACH`/`DETACH`, MySQL's `USE`, `SOURCE` and `LOAD`, MariaDB's `SET STATEMENT … FOR`
//!   (it runs whatever follows `FOR`);
//! - `ALTER`/`DROP` of a `TYPE`, `DOMAIN` or `SCHEMA`: every column of that type or object of
//!   that schema changes with it;
//! - a statement that could not be read into tokens.
//!
//! The kinds of object a scope picks besides tables ([`Kinds`]) come from the statements'
//! first words, and only to narrow: a statement that creates, alters or drops a table or an
//! index, or changes rows, picks no view, sequence, routine or trigger by its own name (a
//! dropped table's triggers come with the table). `ALTER TABLE` also picks views and sequences,
//! which Postgres (and MariaDB, for sequences) let it alter; on MySQL/MariaDB every such
//! statement picks sequences too, since a MariaDB sequence is a table (`DROP TABLE` drops one,
//! an `INSERT` resets it). Any other statement, read or not, picks every kind. A view or a
//! routine that a function called from an `INSERT`, `UPDATE` or `DELETE` creates or drops is
//! beyond a reading of the text, as below, even when the statement writes its name.
//!
//! Code a statement runs without saying so (a trigger it fires, a function in a default or in
//! an `INSERT … SELECT`) is outside what any reading of the text can see.

use braid_driver::{Dialect, Kinds, Scope};
use sqlparser::tokenizer::Token;

use crate::parse::{self, Stmt};

/// The objects `script`'s statements can change, on `dialect` (see the module docs).
pub fn scope(script: &str, dialect: Dialect) -> Scope {
    let statements = parse::read(script, dialect);
    if statements.iter().any(reaches_beyond_its_names) {
        return Scope::Whole;
    }
    let names = statements.iter().flat_map(names);
    let scope = match dialect {
        Dialect::Postgres => Scope::named(names.flat_map(|n| [n, truncated(n)])),
        _ => Scope::named(names),
    };
    let kinds = statements
        .iter()
        .map(|stmt| kinds(stmt, dialect))
        .fold(Kinds::TABLES, Kinds::union);
    scope.of_kinds(kinds)
}

/// The kinds of object besides tables that `stmt` may pick by name (see the module docs).
fn kinds(stmt: &Stmt, dialect: Dialect) -> Kinds {
    const TABLES_ONLY: &[&[&str]] = &[
        &["create", "table"],
        &["create", "temporary", "table"],
        &["create", "temp", "table"],
        &["create", "unlogged", "table"],
        &["drop", "table"],
        &["create", "index"],
        &["create", "unique", "index"],
        &["drop", "index"],
        &["alter", "index"],
        &["insert"],
        &["update"],
        &["delete"],
        &["select"],
        &["with"],
        &["comment", "on"],
        &["grant"],
        &["revoke"],
        &["set"],
        &["analyze"],
    ];
    if TABLES_ONLY.iter().any(|words| stmt.starts_with(words)) {
        // A MariaDB sequence is a table: `CREATE TABLE … SEQUENCE=1` makes one, `DROP TABLE`
        // drops one, and an `INSERT` into one sets all it holds.
        return Kinds {
            sequences: dialect == Dialect::Mysql,
            ..Kinds::TABLES
        };
    }
    if stmt.starts_with(&["alter", "table"]) {
        return Kinds {
            views: true,
            sequences: true,
            ..Kinds::TABLES
        };
    }
    Kinds::ALL
}

/// The name Postgres keeps of `name`: its first 63 bytes (`NAMEDATALEN - 1`), cut at a
/// character boundary. A longer name in a script is stored, and introspected, cut.
fn truncated(name: &str) -> &str {
    let mut end = name.len().min(63);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// The statement's identifiers and string literals.
fn names(stmt: &Stmt) -> impl Iterator<Item = &str> + '_ {
    stmt.tokens.iter().filter_map(|t| match t {
        Token::Word(w) => Some(w.value.as_str()),
        Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) => Some(s.as_str()),
        _ => None,
    })
}

/// Whether `stmt` may change objects it does not name.
fn reaches_beyond_its_names(stmt: &Stmt) -> bool {
    const RUNS_CODE: &[&[&str]] = &[
        &["do"],
        &["call"],
        &["execute"],
        &["prepare"],
        &["perform"],
        &["create", "extension"],
        &["alter", "extension"],
        &["drop", "extension"],
        &["drop", "owned"],
        &["reassign"],
        &["import"],
        &["attach"],
        &["detach"],
        &["use"],
        &["source"],
        &["load"],
        &["alter", "type"],
        &["drop", "type"],
        &["alter", "domain"],
        &["drop", "domain"],
        &["alter", "schema"],
        &["drop", "schema"],
        // MariaDB's `SET STATEMENT … FOR` runs the statement after `FOR`, whatever it is.
        &["set", "statement"],
    ];
    // A query anywhere in the statement may call code; a plain `VALUES (1)` calls nothing.
    let query = ["select", "with", "values", "explain"]
        .iter()
        .any(|word| stmt.starts_with(&[word]))
        || stmt.tokens.first() == Some(&Token::LParen);
    stmt.tokens.is_empty()
        || RUNS_CODE.iter().any(|words| stmt.starts_with(words))
        || (query && calls(stmt.tokens.get(1..).unwrap_or_default()))
        || stmt.has_word("rename")
        || cascades(&stmt.tokens)
}

/// Whether a word is followed by `(`: a function call (or a type's length, which only makes
/// the answer more careful).
fn calls(tokens: &[Token]) -> bool {
    tokens
        .windows(2)
        .any(|pair| matches!(pair, [Token::Word(_), Token::LParen]))
}

/// A `CASCADE` that is not a foreign key's `ON DELETE` / `ON UPDATE` action.
fn cascades(tokens: &[Token]) -> bool {
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.quote_style.is_none() && x.value.eq_ignore_ascii_case(w));
    tokens.iter().enumerate().any(|(i, t)| {
        word(t, "cascade")
            && !(i >= 1 && (word(&tokens[i - 1], "delete") || word(&tokens[i - 1], "update")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(script: &str, dialect: Dialect) -> Vec<String> {
        match scope(script, dialect) {
            Scope::Named(names, _) => names.into_iter().collect(),
            Scope::Whole => vec!["<whole>".to_string()],
        }
    }

    #[test]
    fn every_identifier_is_a_name_quoted_or_not() {
        let found = names(
            "CREATE TABLE \"Users\" (id int);\nCREATE INDEX ix_users_email ON `users` (email);",
            Dialect::Mysql,
        );
        for name in ["\"users\"", "ix_users_email", "users", "email"] {
            let name = name.trim_matches('"');
            assert!(found.iter().any(|n| n == name), "{name} in {found:?}");
        }
        assert!(names("DROP INDEX ix_a;", Dialect::Postgres).contains(&"ix_a".to_string()));
        // SQLite takes a string for a name there.
        assert!(
            names("CREATE TABLE 'audit' (id int);", Dialect::Sqlite).contains(&"audit".to_string())
        );
        assert_eq!(names("", Dialect::Sqlite), Vec::<String>::new());
        // Postgres keeps 63 bytes of a longer name.
        let long = "a".repeat(70);
        let found = names(&format!("CREATE TABLE {long} (id int);"), Dialect::Postgres);
        assert!(
            found.contains(&"a".repeat(63)) && found.contains(&long),
            "{found:?}"
        );
    }

    #[test]
    fn a_foreign_key_action_is_not_a_cascade() {
        let script = "CREATE TABLE o (u int REFERENCES users ON DELETE CASCADE ON UPDATE CASCADE);";
        assert!(matches!(scope(script, Dialect::Postgres), Scope::Named(..)));
        for script in [
            "DROP TABLE users CASCADE;",
            "ALTER TABLE users DROP COLUMN email CASCADE;",
        ] {
            assert_eq!(scope(script, Dialect::Postgres), Scope::Whole, "{script}");
        }
    }

    #[test]
    fn code_and_wholesale_changes_need_the_whole_schema() {
        for (script, dialect) in [
            (
                "DO $$ BEGIN EXECUTE 'CREATE TABLE x (id int)'; END $$;",
                Dialect::Postgres,
            ),
            (
                "SELECT create_hypertable('metrics', 'time');",
                Dialect::Postgres,
            ),
            ("CREATE EXTENSION pg_trgm;", Dialect::Postgres),
            ("ALTER TYPE mood RENAME TO feeling;", Dialect::Postgres),
            ("ALTER TABLE users RENAME TO users_old;", Dialect::Sqlite),
            (
                "ALTER TABLE users RENAME COLUMN name TO full_name;",
                Dialect::Postgres,
            ),
            (
                "RENAME TABLE users TO users_old, users_new TO users;",
                Dialect::Mysql,
            ),
            ("CALL backfill();", Dialect::Mysql),
            ("ATTACH DATABASE 'x.db' AS x;", Dialect::Sqlite),
            ("SELECT mk();", Dialect::Postgres),
            ("VALUES (mk());", Dialect::Postgres),
            ("(SELECT mk());", Dialect::Postgres),
            ("EXPLAIN ANALYZE SELECT mk();", Dialect::Postgres),
        ] {
            assert_eq!(scope(script, dialect), Scope::Whole, "{script}");
        }
        let script = "CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\nSELECT 1;\n\
                      VALUES (1);\n(SELECT 1);\nCREATE TYPE mood AS ENUM ('ok');";
        assert!(matches!(scope(script, Dialect::Postgres), Scope::Named(..)));
    }

    #[test]
    fn table_statements_pick_no_other_kind_by_name_and_anything_else_picks_every_kind() {
        let kinds = |script: &str| {
            let scope = scope(script, Dialect::Postgres);
            assert!(matches!(scope, Scope::Named(..)), "{script}");
            scope.kinds()
        };
        let tables = "CREATE TABLE t (id int);\nCREATE UNIQUE INDEX ix ON t (id);\n\
                      INSERT INTO t VALUES (1);\nDROP INDEX ix;\nDROP TABLE t;\n\
                      SET lock_timeout = '5s';";
        assert_eq!(kinds(tables), Kinds::TABLES);
        // A MariaDB sequence is a table.
        assert!(scope(tables, Dialect::Mysql).kinds().sequences);
        let hinted =
            "SET STATEMENT lock_wait_timeout = 5 FOR CREATE OR REPLACE VIEW v AS SELECT 1;";
        assert_eq!(scope(hinted, Dialect::Mysql), Scope::Whole);
        let altered = kinds("ALTER TABLE t ADD COLUMN c int;");
        assert!(altered.views && altered.sequences && !altered.routines && !altered.triggers);
        for other in [
            "CREATE VIEW v AS SELECT 1;",
            "DROP TRIGGER tg ON t;",
            "CREATE SEQUENCE s;",
            "CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql;",
            "CREATE TABLE t (id int);\nCREATE OR REPLACE VIEW v AS SELECT 1;",
        ] {
            assert_eq!(kinds(other), Kinds::ALL, "{other}");
        }
    }
}
