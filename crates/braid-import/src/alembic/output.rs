//! Alembic's offline (`--sql`) output, cut into one piece of SQL per revision.
//!
//! Alembic writes every statement, and every `-- Running upgrade FROM -> TO` comment that
//! starts a revision, as the text followed by one blank line. So the output is read as chunks
//! separated by blank lines: a comment chunk starts the next revision's piece, the chunks
//! Alembic adds for its own bookkeeping are dropped, and the user's chunks are kept as they are
//! and joined again with the blank line that separated them (a statement that itself holds a
//! blank line is split and joined back unchanged).
//!
//! Alembic's bookkeeping is a chunk that is exactly `BEGIN;` or `COMMIT;`, or a statement on
//! its version table (`CREATE TABLE`, `INSERT INTO`, `UPDATE`, `DELETE FROM`, `DROP TABLE`),
//! and only when the chunk is a whole statement as the dialect reads the piece: a `COMMIT;`
//! line inside a function body (`$$ … $$`, a MySQL `BEGIN … END`) is the user's.
//!
//! A revision's piece ends with its writes to the version table, and a dialect with
//! transactional DDL (Postgres) has `COMMIT;` and `BEGIN;` around revisions. A `COMMIT;` or
//! `BEGIN;` before the version writes is inside the revision's own SQL: an
//! `autocommit_block()` (or an `op.execute("COMMIT")`), which needs the revision to run
//! outside a transaction.

use braid_driver::{Dialect, split_statements};

/// Which way a run went; it decides which side of `FROM -> TO` names the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) enum Direction {
    Up,
    Down,
}

impl Direction {
    /// Alembic's command for this direction.
    pub fn command(self) -> &'static str {
        match self {
            Direction::Up => "upgrade",
            Direction::Down => "downgrade",
        }
    }
}

/// The table Alembic records applied revisions in, as its output names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct VersionTable {
    /// The schema the output qualifies it with.
    schema: Option<String>,
    name: String,
    /// Learnt from the output: Alembic writes the table exactly so every time (qualified only
    /// with `version_table_schema`), so a user's `archive.alembic_version` is not it. The
    /// default, used when nothing was learnt, matches the name in any schema.
    exact: bool,
}

impl Default for VersionTable {
    /// Alembic's default, `alembic_version`, in whatever schema.
    fn default() -> Self {
        VersionTable {
            schema: None,
            name: "alembic_version".to_string(),
            exact: false,
        }
    }
}

impl VersionTable {
    /// The table an upgrade run from `base` creates before its first revision (`CREATE TABLE
    /// <name> (version_num …`): `env.py` may name another than the default
    /// (`context.configure(version_table=…, version_table_schema=…)`). `None` when the output
    /// has no such statement (a run that does not start at `base`).
    pub fn learn(output: &str) -> Option<VersionTable> {
        for chunk in output.split("\n\n") {
            if chunk.starts_with("-- Running ") {
                break;
            }
            let Some(rest) = chunk.strip_prefix("CREATE TABLE ") else {
                continue;
            };
            let Some((mut parts, after)) = qualified_name(rest) else {
                continue;
            };
            let columns = after.trim_start();
            if !(columns.starts_with('(') && columns[1..].trim_start().starts_with("version_num")) {
                continue;
            }
            let name = parts.pop()?;
            return Some(VersionTable {
                schema: parts.pop(),
                name,
                exact: true,
            });
        }
        None
    }

    /// Whether `parts` (a possibly qualified name, unquoted) names this table.
    fn is(&self, parts: &[String]) -> bool {
        if self.exact {
            return match (&self.schema, parts) {
                (None, [name]) => *name == self.name,
                (Some(schema), [s, name]) => s == schema && *name == self.name,
                _ => false,
            };
        }
        match parts {
            [.., name] if *name != self.name => false,
            [_] => true,
            [.., schema, _] => self.schema.as_ref().is_none_or(|s| s == schema),
            [] => false,
        }
    }
}

/// One revision's SQL from a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Piece {
    /// The Alembic revision id.
    pub revision: String,
    /// The statements, each followed by a newline, separated by a blank line; empty when the
    /// revision has none.
    pub sql: String,
    /// False when Alembic committed in the middle of the revision (an `autocommit_block()`):
    /// it must run outside a transaction.
    pub transactional: bool,
}

/// The pieces of `output` (rendered for `dialect`, recording in `table`), in order. The last
/// one is cut short when the run failed while rendering it.
pub(super) fn pieces(
    output: &str,
    direction: Direction,
    dialect: Dialect,
    table: &VersionTable,
) -> Vec<Piece> {
    let mut done = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for chunk in output.split("\n\n") {
        if let Some(revision) = running(chunk, direction) {
            done.extend(current.take().map(|c| finish(c, dialect, table)));
            current = Some((revision.to_string(), Vec::new()));
        } else if let Some((_, chunks)) = &mut current {
            chunks.push(chunk);
        }
    }
    done.extend(current.map(|c| finish(c, dialect, table)));
    done
}

/// A piece's text, without Alembic's chunks. Empty chunks are kept inside it (they are blank
/// lines of a statement) but not at its end, where they are only the separator after the last
/// statement.
fn finish(
    (revision, chunks): (String, Vec<&str>),
    dialect: Dialect,
    table: &VersionTable,
) -> Piece {
    let text = chunks.join("\n\n");
    let statements: std::collections::HashMap<usize, String> = split_statements(&text, dialect)
        .into_iter()
        .map(|s| (s.line, s.text))
        .collect();
    let mut kept = Vec::new();
    let mut transactional = true;
    let mut before_version_writes = true;
    let mut line = 1;
    for chunk in chunks {
        let whole = statements
            .get(&line)
            .is_some_and(|s| chunk.strip_suffix(';') == Some(s.as_str()));
        match bookkeeping(chunk, table) {
            Some(Bookkeeping::Transaction) if whole => {
                if before_version_writes {
                    transactional = false;
                }
            }
            Some(Bookkeeping::Version) if whole => before_version_writes = false,
            _ => kept.push(chunk),
        }
        line += chunk.matches('\n').count() + 2;
    }
    while kept.last().is_some_and(|c| c.is_empty()) {
        kept.pop();
    }
    let mut sql = kept.join("\n\n");
    if !sql.is_empty() && !sql.ends_with('\n') {
        sql.push('\n');
    }
    Piece {
        revision,
        sql,
        transactional,
    }
}

/// The revision a `-- Running upgrade FROM -> TO` (or `downgrade`) comment starts: `TO` going
/// up, `FROM` going down. Older releases follow it with `, ` and the first paragraph of
/// the revision's docstring (whose further lines are still the comment's chunk).
fn running(chunk: &str, direction: Direction) -> Option<&str> {
    let rest = chunk
        .strip_prefix("-- Running ")?
        .strip_prefix(direction.command())?
        .strip_prefix(' ')?;
    let (first, more) = match rest.split_once('\n') {
        Some((first, more)) => (first, Some(more)),
        None => (rest, None),
    };
    let (from, to) = first.split_once(" -> ")?;
    if more.is_some() && !to.contains(", ") {
        // Only a docstring spans lines: without one, this is a statement of the user's.
        return None;
    }
    let revision = match direction {
        Direction::Up => to,
        Direction::Down => from,
    };
    let revision = revision
        .trim_start()
        .split(|c: char| c == ',' || c.is_whitespace())
        .next()
        .unwrap_or_default();
    (!revision.is_empty()).then_some(revision)
}

/// What Alembic adds to a revision for itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bookkeeping {
    /// `BEGIN;` or `COMMIT;`.
    Transaction,
    /// A statement on its version table. Braid keeps its own record, so none belongs in a
    /// revision.
    Version,
}

/// Whether `chunk` reads as one of Alembic's own statements (when it is a whole statement).
fn bookkeeping(chunk: &str, table: &VersionTable) -> Option<Bookkeeping> {
    if matches!(chunk, "BEGIN;" | "COMMIT;") {
        return Some(Bookkeeping::Transaction);
    }
    let on_table = [
        "CREATE TABLE ",
        "DROP TABLE ",
        "INSERT INTO ",
        "UPDATE ",
        "DELETE FROM ",
    ]
    .iter()
    .filter_map(|verb| chunk.strip_prefix(verb))
    .filter_map(qualified_name)
    .any(|(parts, _)| table.is(&parts));
    on_table.then_some(Bookkeeping::Version)
}

/// The (possibly schema-qualified, possibly quoted) name at the start of `text`, its parts
/// unquoted, and what follows it.
fn qualified_name(text: &str) -> Option<(Vec<String>, &str)> {
    let mut parts = Vec::new();
    let mut rest = text;
    loop {
        let (part, after) = identifier(rest)?;
        parts.push(part);
        match after.strip_prefix('.') {
            Some(next) => rest = next,
            None => return Some((parts, after)),
        }
    }
}

/// One identifier at the start of `text`: `"…"` (with `""`), `` `…` `` (with ``` `` ```),
/// `[…]`, or bare up to a space, `(`, `.`, `,` or `;`.
fn identifier(text: &str) -> Option<(String, &str)> {
    let (open, close) = match text.chars().next()? {
        '"' => ('"', '"'),
        '`' => ('`', '`'),
        '[' => ('[', ']'),
        _ => {
            let end = text
                .find(|c: char| c.is_whitespace() || matches!(c, '(' | '.' | ',' | ';'))
                .unwrap_or(text.len());
            return (end > 0).then(|| (text[..end].to_string(), &text[end..]));
        }
    };
    let mut name = String::new();
    let mut chars = text[open.len_utf8()..].char_indices();
    while let Some((i, c)) = chars.next() {
        if c != close {
            name.push(c);
            continue;
        }
        let after = &text[open.len_utf8() + i + close.len_utf8()..];
        if close != ']' && after.starts_with(close) {
            name.push(close);
            chars.next();
            continue;
        }
        return Some((name, after));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(output: &str, direction: Direction) -> Vec<Piece> {
        pieces(
            output,
            direction,
            Dialect::Postgres,
            &VersionTable::default(),
        )
    }

    /// (revision, SQL, transactional) of each piece.
    fn summary(pieces: &[Piece]) -> Vec<(&str, &str, bool)> {
        pieces
            .iter()
            .map(|p| (p.revision.as_str(), p.sql.as_str(), p.transactional))
            .collect()
    }

    const UP: &str = "BEGIN;\n\n\
CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL\n);\n\n\
-- Running upgrade  -> aaa\n\n\
CREATE TABLE users (\n    id INTEGER\n);\n\n\
INSERT INTO alembic_version (version_num) VALUES ('aaa') RETURNING alembic_version.version_num;\n\n\
-- Running upgrade aaa -> bbb\n\n\
INSERT INTO users VALUES (1);\n\n\
SELECT 'a\n\n\n\nb';\n\n\
UPDATE alembic_version SET version_num='bbb' WHERE alembic_version.version_num = 'aaa';\n\n\
-- Running upgrade bbb, ccc -> ddd\n\n\
DELETE FROM \"public\".\"alembic_version\" WHERE version_num = 'ccc';\n\n\
COMMIT;\n\n";

    #[test]
    fn cuts_per_revision_and_drops_bookkeeping() {
        assert_eq!(
            summary(&cut(UP, Direction::Up)),
            vec![
                ("aaa", "CREATE TABLE users (\n    id INTEGER\n);\n", true),
                (
                    "bbb",
                    "INSERT INTO users VALUES (1);\n\nSELECT 'a\n\n\n\nb';\n",
                    true
                ),
                ("ddd", "", true),
            ]
        );
    }

    #[test]
    fn going_down_the_revision_is_on_the_left() {
        let out = "-- Running downgrade ddd -> bbb, ccc\n\n\
                   -- Running downgrade aaa -> \n\nDROP TABLE users;\n\n\
                   DELETE FROM alembic_version WHERE alembic_version.version_num = 'aaa';\n\n";
        let pieces = cut(out, Direction::Down);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].revision, "ddd");
        assert_eq!(pieces[1].revision, "aaa");
        assert_eq!(pieces[1].sql, "DROP TABLE users;\n");
    }

    #[test]
    fn a_users_table_with_a_similar_name_is_kept() {
        let table = VersionTable::default();
        assert_eq!(
            bookkeeping("INSERT INTO alembic_version_notes VALUES (1);", &table),
            None
        );
        assert_eq!(
            bookkeeping("UPDATE alembic_version SET version_num='x';", &table),
            Some(Bookkeeping::Version)
        );
    }

    /// `downgrade aaa:base --sql` as releases before 1.20 print it: the version table is
    /// dropped at the end.
    #[test]
    fn dropping_the_version_table_is_bookkeeping() {
        let out = "BEGIN;\n\n-- Running downgrade aaa -> \n\nDROP TABLE users;\n\n\
                   DELETE FROM alembic_version WHERE alembic_version.version_num = 'aaa';\n\n\
                   DROP TABLE alembic_version;\n\nCOMMIT;\n\n";
        assert_eq!(
            summary(&cut(out, Direction::Down)),
            vec![("aaa", "DROP TABLE users;\n", true)]
        );
    }

    /// `upgrade base:heads --sql` with `version_table="My Versions"`,
    /// `version_table_schema="App"` and `transaction_per_migration=True` (Alembic 1.20.1).
    const CUSTOM_TABLE_UP: &str = "BEGIN;\n\n\
CREATE TABLE \"App\".\"My Versions\" (\n    version_num VARCHAR(32) NOT NULL, \n    \
CONSTRAINT \"My Versions_pkc\" PRIMARY KEY (version_num)\n);\n\n\
-- Running upgrade  -> a1\n\n\
CREATE TABLE things (\n    id SERIAL NOT NULL, \n    PRIMARY KEY (id)\n);\n\n\
INSERT INTO \"App\".\"My Versions\" (version_num) VALUES ('a1') RETURNING \"App\".\"My Versions\".version_num;\n\n\
COMMIT;\n\n\
BEGIN;\n\n\
-- Running upgrade a1 -> b2\n\n\
SELECT 1;\n\n\
UPDATE \"App\".\"My Versions\" SET version_num='b2' WHERE \"App\".\"My Versions\".version_num = 'a1';\n\n\
COMMIT;\n\n";

    /// The same project going down, on MySQL.
    const CUSTOM_TABLE_DOWN: &str = "-- Running downgrade b2 -> a1\n\n\
SELECT 2;\n\n\
UPDATE `App`.`My Versions` SET version_num='a1' WHERE `App`.`My Versions`.version_num = 'b2';\n\n\
-- Running downgrade a1 -> \n\n\
DROP TABLE things;\n\n\
DELETE FROM `App`.`My Versions` WHERE `App`.`My Versions`.version_num = 'a1';\n\n";

    #[test]
    fn learns_a_custom_version_table() {
        let table = VersionTable::learn(CUSTOM_TABLE_UP).expect("learned");
        assert_eq!(
            table,
            VersionTable {
                schema: Some("App".to_string()),
                name: "My Versions".to_string(),
                exact: true,
            }
        );
        let up = pieces(CUSTOM_TABLE_UP, Direction::Up, Dialect::Postgres, &table);
        assert_eq!(
            summary(&up),
            vec![
                (
                    "a1",
                    "CREATE TABLE things (\n    id SERIAL NOT NULL, \n    PRIMARY KEY (id)\n);\n",
                    true
                ),
                ("b2", "SELECT 1;\n", true),
            ]
        );
        let down = pieces(CUSTOM_TABLE_DOWN, Direction::Down, Dialect::Mysql, &table);
        assert_eq!(
            summary(&down),
            vec![
                ("b2", "SELECT 2;\n", true),
                ("a1", "DROP TABLE things;\n", true)
            ]
        );
        // Another schema's table of that name is the user's.
        let other =
            "-- Running upgrade  -> a1\n\nINSERT INTO \"Other\".\"My Versions\" VALUES (1);\n\n";
        let kept = pieces(other, Direction::Up, Dialect::Postgres, &table);
        assert!(kept[0].sql.starts_with("INSERT INTO \"Other\""));
    }

    #[test]
    fn without_a_create_table_the_default_stays() {
        assert_eq!(VersionTable::learn(CUSTOM_TABLE_DOWN), None);
        assert_eq!(VersionTable::learn(""), None);
        let users_first =
            "CREATE TABLE users (\n    id INTEGER\n);\n\n-- Running upgrade  -> a1\n\n";
        assert_eq!(VersionTable::learn(users_first), None);
        let plain = VersionTable::learn(UP).expect("learned");
        assert_eq!(plain.name, "alembic_version");
        let bare = "CREATE TABLE app.my_versions (\n    version_num VARCHAR(32) NOT NULL\n);\n\n";
        assert_eq!(
            VersionTable::learn(bare),
            Some(VersionTable {
                schema: Some("app".to_string()),
                name: "my_versions".to_string(),
                exact: true,
            })
        );
    }

    /// Once learnt, the table is matched as Alembic writes it: a user's table of the same name
    /// in another schema is the user's.
    #[test]
    fn a_learnt_table_is_matched_exactly() {
        let learnt = VersionTable::learn(UP).expect("learned");
        let name = |parts: &[&str]| parts.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        assert!(learnt.is(&name(&["alembic_version"])));
        assert!(!learnt.is(&name(&["archive", "alembic_version"])));
        assert!(!learnt.is(&name(&["alembic_version_archive"])));
        assert!(VersionTable::default().is(&name(&["archive", "alembic_version"])));
        let qualified = VersionTable::learn(
            "CREATE TABLE app.my_versions (\n    version_num VARCHAR(32) NOT NULL\n);\n\n",
        )
        .expect("learned");
        assert!(qualified.is(&name(&["app", "my_versions"])));
        assert!(!qualified.is(&name(&["my_versions"])));
    }

    /// `with op.get_context().autocommit_block():` on Postgres, Alembic 1.20.1: the block's
    /// statements between a `COMMIT;` and a `BEGIN;` of Alembic's, inside the revision.
    const AUTOCOMMIT: &str = "BEGIN;\n\n\
CREATE TABLE alembic_version (\n    version_num VARCHAR(32) NOT NULL, \n    \
CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)\n);\n\n\
-- Running upgrade  -> a1\n\n\
CREATE TABLE things (\n    id SERIAL NOT NULL, \n    PRIMARY KEY (id)\n);\n\n\
INSERT INTO alembic_version (version_num) VALUES ('a1') RETURNING alembic_version.version_num;\n\n\
-- Running upgrade a1 -> b2\n\n\
SELECT 1;\n\n\
COMMIT;\n\n\
CREATE INDEX CONCURRENTLY ix_things_id ON things (id);\n\n\
BEGIN;\n\n\
SELECT 2;\n\n\
UPDATE alembic_version SET version_num='b2' WHERE alembic_version.version_num = 'a1';\n\n\
-- Running upgrade b2 -> c3\n\n\
COMMIT;\n\n\
CREATE INDEX CONCURRENTLY ix_things_other ON things (id);\n\n\
BEGIN;\n\n\
UPDATE alembic_version SET version_num='c3' WHERE alembic_version.version_num = 'b2';\n\n\
COMMIT;\n\n";

    #[test]
    fn a_commit_inside_a_revision_makes_it_non_transactional() {
        assert_eq!(
            summary(&cut(AUTOCOMMIT, Direction::Up)),
            vec![
                (
                    "a1",
                    "CREATE TABLE things (\n    id SERIAL NOT NULL, \n    PRIMARY KEY (id)\n);\n",
                    true
                ),
                (
                    "b2",
                    "SELECT 1;\n\nCREATE INDEX CONCURRENTLY ix_things_id ON things (id);\n\n\
                     SELECT 2;\n",
                    false
                ),
                (
                    "c3",
                    "CREATE INDEX CONCURRENTLY ix_things_other ON things (id);\n",
                    false
                ),
            ]
        );
    }

    /// `transaction_per_migration=True`: a `COMMIT;` and the next revision's `BEGIN;` after
    /// each revision's version write are only wrappers.
    #[test]
    fn commits_between_revisions_are_wrappers() {
        let out = "BEGIN;\n\n-- Running downgrade b2 -> a1\n\nDROP INDEX ix;\n\n\
                   UPDATE alembic_version SET version_num='a1' WHERE alembic_version.version_num = 'b2';\n\n\
                   COMMIT;\n\nBEGIN;\n\n-- Running downgrade a1 -> \n\nDROP TABLE things;\n\n\
                   DELETE FROM alembic_version WHERE alembic_version.version_num = 'a1';\n\nCOMMIT;\n\n";
        assert_eq!(
            summary(&cut(out, Direction::Down)),
            vec![
                ("b2", "DROP INDEX ix;\n", true),
                ("a1", "DROP TABLE things;\n", true),
            ]
        );
    }

    /// A procedure whose body has `COMMIT;` and `BEGIN;` lines between blank lines (Alembic
    /// 1.20.1, Postgres).
    #[test]
    fn a_commit_inside_a_function_body_is_the_users() {
        let body = "CREATE PROCEDURE p() LANGUAGE plpgsql AS $$\nBEGIN\n\
                    INSERT INTO things VALUES (1);\n\nCOMMIT;\n\nBEGIN;\n\nEND $$;\n";
        let out = format!(
            "-- Running upgrade b2 -> c3\n\n{body}\n\
             UPDATE alembic_version SET version_num='c3' WHERE alembic_version.version_num = 'b2';\n\n\
             COMMIT;\n\n"
        );
        assert_eq!(summary(&cut(&out, Direction::Up)), vec![("c3", body, true)]);
        let mysql = "CREATE PROCEDURE p()\nBEGIN\nINSERT INTO things VALUES (1);\n\n\
                     COMMIT;\n\nUPDATE alembic_version SET version_num = 'x';\n\nEND;\n";
        let out = format!("-- Running upgrade b2 -> c3\n\n{mysql}\n");
        let pieces = pieces(
            &out,
            Direction::Up,
            Dialect::Mysql,
            &VersionTable::default(),
        );
        assert_eq!(summary(&pieces), vec![("c3", mysql, true)]);
    }

    #[test]
    fn older_releases_follow_the_comment_with_the_docstring() {
        let out = "-- Running upgrade  -> aaa, create users table\n\n\
                   CREATE TABLE users (id INTEGER);\n\n\
                   -- Running upgrade aaa -> bbb, add email\nto users\n\n\
                   ALTER TABLE users ADD COLUMN email TEXT;\n\n\
                   -- Running upgrade bbb, ccc -> ddd, merge\n\n";
        assert_eq!(
            summary(&cut(out, Direction::Up)),
            vec![
                ("aaa", "CREATE TABLE users (id INTEGER);\n", true),
                ("bbb", "ALTER TABLE users ADD COLUMN email TEXT;\n", true),
                ("ddd", "", true),
            ]
        );
        let down = "-- Running downgrade ddd -> bbb, ccc, merge\n\n\
                    -- Running downgrade aaa -> , create users table\n\nDROP TABLE users;\n\n";
        let pieces = cut(down, Direction::Down);
        assert_eq!(pieces[0].revision, "ddd");
        assert_eq!(pieces[1].revision, "aaa");
        assert_eq!(pieces[1].sql, "DROP TABLE users;\n");
    }

    #[test]
    fn a_statement_that_only_starts_like_the_comment_is_the_users() {
        let out = "-- Running upgrade  -> aaa\n\n-- Running upgrade x -> y\nSELECT 1;\n\n";
        assert_eq!(
            summary(&cut(out, Direction::Up)),
            vec![("aaa", "-- Running upgrade x -> y\nSELECT 1;\n", true)]
        );
    }

    #[test]
    fn quoted_names() {
        let parse =
            |text: &str| qualified_name(text).map(|(parts, rest)| (parts, rest.to_string()));
        assert_eq!(
            parse("\"a\"\"b\".`c d`.[e] (x"),
            Some((
                vec!["a\"b".to_string(), "c d".to_string(), "e".to_string()],
                " (x".to_string()
            ))
        );
        assert_eq!(
            parse("alembic_version;"),
            Some((vec!["alembic_version".to_string()], ";".to_string()))
        );
        assert_eq!(parse("\"open"), None);
        assert_eq!(parse("(x"), None);
    }
}
