//! Alembic's offline (`--sql`) output, cut into one piece of SQL per revision.
//!
//! Alembic writes every statement, and every `-- Running upgrade FROM -> TO` comment that
//! starts a revision, as the text followed by one blank line. So the output is read as chunks
//! separated by blank lines: a comment chunk starts the next revision's piece, the chunks
//! Alembic adds for its own bookkeeping are dropped, and the user's chunks are kept as they are
//! and joined again with the blank line that separated them (a statement that itself holds a
//! blank line is split and joined back unchanged).

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

/// The table Alembic records applied revisions in (its default, which the standard `env.py`
/// keeps).
pub(super) const VERSION_TABLE: &str = "alembic_version";

/// One revision's SQL from a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Piece {
    /// The Alembic revision id.
    pub revision: String,
    /// The statements, each followed by a newline, separated by a blank line; empty when the
    /// revision has none.
    pub sql: String,
}

/// The pieces of `output`, in order. The last one is cut short when the run failed while
/// rendering it.
pub(super) fn pieces(output: &str, direction: Direction) -> Vec<Piece> {
    let mut done = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for chunk in output.split("\n\n") {
        if let Some(revision) = running(chunk, direction) {
            done.extend(current.take().map(finish));
            current = Some((revision.to_string(), Vec::new()));
        } else if let Some((_, kept)) = &mut current
            && !is_bookkeeping(chunk)
        {
            kept.push(chunk);
        }
    }
    done.extend(current.map(finish));
    done
}

/// A piece's text. Empty chunks are kept inside it (they are blank lines of a statement) but
/// not at its end, where they are only the separator after the last statement.
fn finish((revision, mut chunks): (String, Vec<&str>)) -> Piece {
    while chunks.last().is_some_and(|c| c.is_empty()) {
        chunks.pop();
    }
    let mut sql = chunks.join("\n\n");
    if !sql.is_empty() && !sql.ends_with('\n') {
        sql.push('\n');
    }
    Piece { revision, sql }
}

/// The revision a `-- Running upgrade FROM -> TO` (or `downgrade`) comment starts: `TO` going
/// up, `FROM` going down.
fn running(chunk: &str, direction: Direction) -> Option<&str> {
    let rest = chunk
        .strip_prefix("-- Running ")?
        .strip_prefix(direction.command())?
        .strip_prefix(' ')?;
    if rest.contains('\n') {
        return None;
    }
    let (from, to) = rest.split_once(" -> ")?;
    let revision = match direction {
        Direction::Up => to,
        Direction::Down => from,
    };
    let revision = revision.trim();
    (!revision.is_empty()).then_some(revision)
}

/// Alembic's own statements: the transaction around a run and the writes to its version
/// table. Braid keeps its own record, so none of them belongs in a revision.
fn is_bookkeeping(chunk: &str) -> bool {
    let chunk = chunk.trim();
    if matches!(chunk, "BEGIN;" | "COMMIT;") {
        return true;
    }
    ["CREATE TABLE ", "INSERT INTO ", "UPDATE ", "DELETE FROM "]
        .iter()
        .any(|verb| chunk.strip_prefix(verb).is_some_and(names_version_table))
}

/// Whether `rest` starts with the version table's name (quoted or schema-qualified).
fn names_version_table(rest: &str) -> bool {
    let name = rest
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or_default();
    let last = name.rsplit('.').next().unwrap_or_default();
    last.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']')) == VERSION_TABLE
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let pieces = pieces(UP, Direction::Up);
        let got: Vec<(&str, &str)> = pieces
            .iter()
            .map(|p| (p.revision.as_str(), p.sql.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("aaa", "CREATE TABLE users (\n    id INTEGER\n);\n"),
                (
                    "bbb",
                    "INSERT INTO users VALUES (1);\n\nSELECT 'a\n\n\n\nb';\n"
                ),
                ("ddd", ""),
            ]
        );
    }

    #[test]
    fn going_down_the_revision_is_on_the_left() {
        let out = "-- Running downgrade ddd -> bbb, ccc\n\n\
                   -- Running downgrade aaa -> \n\nDROP TABLE users;\n\n\
                   DELETE FROM alembic_version WHERE alembic_version.version_num = 'aaa';\n\n";
        let pieces = pieces(out, Direction::Down);
        assert_eq!(pieces.len(), 2);
        assert_eq!(pieces[0].revision, "ddd");
        assert_eq!(pieces[1].revision, "aaa");
        assert_eq!(pieces[1].sql, "DROP TABLE users;\n");
    }

    #[test]
    fn a_users_table_with_a_similar_name_is_kept() {
        assert!(!is_bookkeeping(
            "INSERT INTO alembic_version_notes VALUES (1);"
        ));
        assert!(is_bookkeeping(
            "UPDATE alembic_version SET version_num='x';"
        ));
    }
}
