//! B5xx: the shape of a migration — whether it can be undone, and whether a half-applied run
//! can be finished.

use std::collections::HashSet;

use braid_driver::Dialect;
use sqlparser::ast::{AlterTableOperation, ObjectName, ObjectType, Statement};

use super::{At, Ctx, DownScript, Hit, Which, renamed};
use crate::code::Code;
use crate::names::{key, shown};
use crate::parse::Stmt;

/// Words that start a statement changing the schema.
const SCHEMA_VERBS: &[&str] = &["create", "alter", "drop", "rename", "truncate"];

/// B501
pub(super) fn missing_downgrade(ctx: &Ctx<'_>) -> Vec<Hit> {
    if !ctx.up.iter().any(changes_schema) {
        return Vec::new();
    }
    // A downgrade still to be written is B506's finding.
    if let crate::Down::Script(source) = ctx.input.down
        && braid_source::unwritten(source.text).is_some()
    {
        return Vec::new();
    }
    let (which, message) = match ctx.down {
        DownScript::Absent => (
            Which::Up,
            format!(
                "revision `{}` changes the schema and has no downgrade",
                ctx.input.revision
            ),
        ),
        DownScript::Statements(down) if down.is_empty() => (
            Which::Down,
            format!(
                "revision `{}` changes the schema and its downgrade is empty",
                ctx.input.revision
            ),
        ),
        _ => return Vec::new(),
    };
    vec![Hit {
        code: Code::MissingDowngrade,
        which,
        at: At::Whole,
        message,
    }]
}

/// B506: a script marked [`braid_source::UNWRITTEN_MARK`], which the runner refuses.
pub(super) fn unwritten(ctx: &Ctx<'_>) -> Vec<Hit> {
    let down = match ctx.input.down {
        crate::Down::Script(source) => Some(source),
        _ => None,
    };
    [(Which::Up, Some(ctx.input.up)), (Which::Down, down)]
        .into_iter()
        .filter_map(|(which, source)| {
            let reason = braid_source::unwritten(source?.text)?;
            Some(Hit {
                code: Code::Unwritten,
                which,
                at: At::Line(1),
                message: format!(
                    "revision `{}`: {} is not written yet: {reason}",
                    ctx.input.revision, source?.origin
                ),
            })
        })
        .collect()
}

fn changes_schema(stmt: &Stmt) -> bool {
    SCHEMA_VERBS.iter().any(|verb| stmt.starts_with(&[verb]))
}

/// Something the upgrade creates that its downgrade should remove.
#[derive(Debug)]
enum Created {
    Table(ObjectName),
    View(ObjectName),
    Index { name: ObjectName, table: ObjectName },
    Column { table: ObjectName, column: String },
}

/// B502
pub(super) fn downgrade_incomplete(ctx: &Ctx<'_>) -> Vec<Hit> {
    let DownScript::Statements(down) = ctx.down else {
        return Vec::new();
    };
    if down.is_empty() {
        return Vec::new();
    }
    let undo = Undo::read(down);
    let mut hits = Vec::new();
    for stmt in ctx.up {
        for created in created(ctx, stmt) {
            if let Some(missing) = undo.misses(&created) {
                hits.push(Hit {
                    code: Code::DowngradeIncomplete,
                    which: Which::Up,
                    at: At::Statement(stmt.index),
                    message: format!("the downgrade does not drop {missing}"),
                });
            }
        }
    }
    hits
}

/// What a statement of the upgrade creates. A column added to a table the same upgrade
/// creates goes with its table.
fn created(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<Created> {
    let mut out = Vec::new();
    for tree in &stmt.trees {
        match tree {
            Statement::CreateTable(t) if !t.temporary => {
                out.extend(created_table(ctx, &t.name, stmt.index).map(Created::Table));
            }
            Statement::CreateView(v) if !v.temporary => out.push(Created::View(v.name.clone())),
            Statement::CreateIndex(i) => {
                if let Some(name) = &i.name {
                    out.push(Created::Index {
                        name: name.clone(),
                        table: i.table_name.clone(),
                    });
                }
            }
            _ => {}
        }
    }
    for op in stmt.alter_ops() {
        if let AlterTableOperation::AddColumn { column_def, .. } = op.op
            && ctx.existing(op.table(), stmt.index)
        {
            out.push(Created::Column {
                table: op.table().clone(),
                column: column_def.name.value.clone(),
            });
        }
    }
    out
}

/// The table a `CREATE TABLE` at `at` leaves: its own, or the name it is renamed to later;
/// `None` when it replaces an existing table (a rebuild creates nothing new).
fn created_table(ctx: &Ctx<'_>, name: &ObjectName, at: usize) -> Option<ObjectName> {
    match ctx.renamed_after(name, at) {
        Some((to, renamed_at)) if ctx.existing(to, renamed_at) => None,
        Some((to, _)) => Some(to.clone()),
        None => Some(name.clone()),
    }
}

/// What a downgrade mentions, drops and rebuilds. "Mentions" is deliberately loose: a name
/// anywhere in the downgrade counts, so a hand-written rebuild or a `DROP … CASCADE` elsewhere
/// is not second-guessed.
struct Undo {
    names: HashSet<String>,
    /// Tables dropped, or rebuilt (created again, or another table renamed to them): their
    /// columns and indexes go with them.
    replaced: HashSet<String>,
}

impl Undo {
    fn read(down: &[Stmt]) -> Undo {
        let mut names = HashSet::new();
        let mut replaced = HashSet::new();
        for stmt in down {
            names.extend(stmt.names());
            for tree in &stmt.trees {
                match tree {
                    Statement::Drop {
                        object_type: ObjectType::Table,
                        names: dropped,
                        ..
                    } => replaced.extend(dropped.iter().map(key)),
                    Statement::CreateTable(t) => {
                        replaced.insert(key(&t.name));
                    }
                    other => replaced.extend(renamed(other).into_iter().map(|(_, to)| key(to))),
                }
            }
        }
        Undo { names, replaced }
    }

    /// What the downgrade leaves behind of `created`, described; `None` when it handles it.
    fn misses(&self, created: &Created) -> Option<String> {
        let mentioned = |name: &ObjectName| self.names.contains(&key(name));
        let replaced = |table: &ObjectName| self.replaced.contains(&key(table));
        match created {
            Created::Table(t) if !mentioned(t) => Some(format!("table `{}`", shown(t))),
            Created::View(v) if !mentioned(v) => Some(format!("view `{}`", shown(v))),
            Created::Index { name, table } if !mentioned(name) && !replaced(table) => {
                Some(format!("index `{}` on `{}`", shown(name), shown(table)))
            }
            Created::Column { table, column }
                if !self.names.contains(&column.to_lowercase()) && !replaced(table) =>
            {
                Some(format!("column `{}.{column}`", shown(table)))
            }
            _ => None,
        }
    }
}

/// B503: only statements a resumed run cannot judge from the schema
/// ([`braid_runner::judged_on_resume`]): the others it settles by looking, guard or not.
pub(super) fn not_rerunnable(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let dialect = ctx.dialect();
    if !ctx.statement_by_statement() || braid_runner::judged_on_resume(&stmt.text, dialect) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for tree in &stmt.trees {
        out.extend(unguarded(dialect, tree));
    }
    for op in stmt.alter_ops().filter(|op| !op.guarded) {
        out.extend(unguarded_operation(dialect, op.table(), op.op));
    }
    out
}

/// A statement that fails the second time, described with the guard it lacks.
fn unguarded(dialect: Dialect, tree: &Statement) -> Option<String> {
    match tree {
        Statement::CreateTable(t) if !t.if_not_exists && !t.or_replace => Some(format!(
            "CREATE TABLE `{}` without IF NOT EXISTS",
            shown(&t.name)
        )),
        Statement::CreateIndex(i) if !i.if_not_exists => {
            let name = i.name.as_ref().map(shown).unwrap_or_default();
            let guard = match dialect {
                Dialect::Mysql => "IF NOT EXISTS (MariaDB)",
                _ => "IF NOT EXISTS",
            };
            Some(format!("CREATE INDEX `{name}` without {guard}"))
        }
        Statement::CreateView(v) if !v.or_replace && !v.if_not_exists => {
            let guard = match dialect {
                Dialect::Sqlite => "IF NOT EXISTS",
                _ => "OR REPLACE",
            };
            Some(format!("CREATE VIEW `{}` without {guard}", shown(&v.name)))
        }
        Statement::Drop {
            object_type,
            if_exists: false,
            names,
            ..
        } => {
            let names: Vec<String> = names.iter().map(|n| format!("`{}`", shown(n))).collect();
            Some(format!(
                "DROP {object_type} {} without IF EXISTS",
                names.join(", ")
            ))
        }
        _ => None,
    }
}

/// An `ALTER TABLE` operation that fails the second time, when the dialect has a guard for it
/// (SQLite has none for columns: its resumed statements are judged from the schema).
fn unguarded_operation(
    dialect: Dialect,
    table: &ObjectName,
    op: &AlterTableOperation,
) -> Option<String> {
    let t = shown(table);
    let has_guards = dialect != Dialect::Sqlite;
    let mariadb = if dialect == Dialect::Mysql {
        " (MariaDB)"
    } else {
        ""
    };
    match op {
        AlterTableOperation::AddColumn {
            if_not_exists: false,
            column_def,
            ..
        } if has_guards => Some(format!(
            "ADD COLUMN `{t}.{}` without IF NOT EXISTS{mariadb}",
            column_def.name.value
        )),
        AlterTableOperation::DropColumn {
            if_exists: false,
            column_names,
            ..
        } if has_guards => {
            let columns: Vec<String> = column_names
                .iter()
                .map(|c| format!("`{t}.{}`", c.value))
                .collect();
            Some(format!(
                "DROP COLUMN {} without IF EXISTS{mariadb}",
                columns.join(", ")
            ))
        }
        AlterTableOperation::DropConstraint {
            if_exists: false,
            name,
            ..
        } if has_guards => Some(format!(
            "DROP CONSTRAINT `{}` on `{t}` without IF EXISTS{mariadb}",
            name.value
        )),
        AlterTableOperation::DropIndex { name }
        | AlterTableOperation::DropForeignKey { name, .. }
            if dialect == Dialect::Mysql =>
        {
            Some(format!(
                "{} on `{t}` without IF EXISTS (MariaDB)",
                op.to_string().trim()
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use braid_driver::Dialect;

    use crate::code::Code;
    use crate::finding::{Down, Source};
    use crate::rules::testing::findings_with;

    fn down(text: &str) -> Down<'_> {
        Down::Script(Source {
            origin: "migrations/r1/down.sql",
            text,
        })
    }

    fn count(code: Code, dialect: Dialect, up: &str, d: Down<'_>, transactional: bool) -> usize {
        findings_with(dialect, up, d, transactional)
            .iter()
            .filter(|f| f.code == code && f.is_active())
            .count()
    }

    #[test]
    fn missing_downgrade() {
        for d in Dialect::ALL {
            let up = "CREATE TABLE t (id INT)";
            assert_eq!(count(Code::MissingDowngrade, d, up, Down::Absent, true), 1);
            assert_eq!(
                count(Code::MissingDowngrade, d, up, down("-- nothing\n"), true),
                1
            );
            assert_eq!(
                count(Code::MissingDowngrade, d, up, down("DROP TABLE t"), true),
                0
            );
            // A data-only or empty revision (a merge) needs no downgrade.
            assert_eq!(count(Code::MissingDowngrade, d, "", Down::Absent, true), 0);
            let data = "INSERT INTO t VALUES (1)";
            assert_eq!(count(Code::MissingDowngrade, d, data, down(""), true), 0);
        }
    }

    #[test]
    fn the_missing_downgrade_finding_names_the_file_to_write() {
        let got = findings_with(Dialect::Sqlite, "CREATE TABLE t (id INT)", down(""), true);
        let f = got
            .iter()
            .find(|f| f.code == Code::MissingDowngrade)
            .unwrap();
        assert_eq!(f.file, "migrations/r1/down.sql");
        assert_eq!(f.line, None);
    }

    #[test]
    fn unwritten() {
        let mark = "-- braid:unwritten: refinery had no down migration for 3\n";
        for d in Dialect::ALL {
            let up = "CREATE TABLE t (id INT)";
            assert_eq!(count(Code::Unwritten, d, up, down(mark), true), 1);
            // Said once: not also as a missing downgrade.
            assert_eq!(count(Code::MissingDowngrade, d, up, down(mark), true), 0);
            assert_eq!(count(Code::Unwritten, d, mark, down(mark), true), 2);
            // The mark only counts on the first line.
            let later = format!("DROP TABLE t;\n{mark}");
            assert_eq!(count(Code::Unwritten, d, up, down(&later), true), 0);
        }
        let got = findings_with(Dialect::Sqlite, "CREATE TABLE t (id INT)", down(mark), true);
        let f = got.iter().find(|f| f.code == Code::Unwritten).unwrap();
        assert_eq!(f.file, "migrations/r1/down.sql");
        assert!(
            f.message.contains("refinery had no down migration"),
            "{}",
            f.message
        );
    }

    #[test]
    fn downgrade_incomplete() {
        let up = "CREATE TABLE t (id INT);\n\
                  CREATE INDEX ix_t ON t (id);\n\
                  ALTER TABLE users ADD COLUMN nickname TEXT;\n\
                  CREATE VIEW v AS SELECT id FROM t";
        for d in Dialect::ALL {
            let complete = "DROP VIEW v;\nALTER TABLE users DROP COLUMN nickname;\nDROP TABLE t";
            assert_eq!(
                count(Code::DowngradeIncomplete, d, up, down(complete), true),
                0
            );
            let got: Vec<String> = findings_with(d, up, down("DROP TABLE t"), true)
                .into_iter()
                .filter(|f| f.code == Code::DowngradeIncomplete)
                .map(|f| f.message)
                .collect();
            assert_eq!(
                got,
                [
                    "the downgrade does not drop column `users.nickname`",
                    "the downgrade does not drop view `v`",
                ],
                "{d}"
            );
        }
        // A SQLite rebuild of `users` in the downgrade takes the column away.
        let rebuild = "CREATE TABLE users_new (id INT);\nDROP TABLE users;\n\
                       ALTER TABLE users_new RENAME TO users";
        let up = "ALTER TABLE users ADD COLUMN nickname TEXT";
        assert_eq!(
            count(
                Code::DowngradeIncomplete,
                Dialect::Sqlite,
                up,
                down(rebuild),
                true
            ),
            0
        );
        // A rebuild in the upgrade creates no new table for the downgrade to drop.
        assert_eq!(
            count(
                Code::DowngradeIncomplete,
                Dialect::Sqlite,
                rebuild,
                down(rebuild),
                true
            ),
            0
        );
    }

    #[test]
    fn not_rerunnable() {
        let count_in = |d: Dialect, sql: &str, transactional: bool| {
            count(Code::NotRerunnable, d, sql, Down::Unreadable, transactional)
        };
        let view = "CREATE VIEW v AS SELECT 1 AS one";
        // Every MySQL migration runs statement by statement.
        assert_eq!(count_in(Dialect::Mysql, view, true), 1);
        assert_eq!(
            count_in(
                Dialect::Mysql,
                "CREATE OR REPLACE VIEW v AS SELECT 1 AS one",
                true
            ),
            0
        );
        assert_eq!(count_in(Dialect::Mysql, "DROP VIEW v", true), 1);
        assert_eq!(count_in(Dialect::Mysql, "DROP VIEW IF EXISTS v", true), 0);
        // Elsewhere only `transaction = false` ones do.
        for (d, guarded) in [
            (
                Dialect::Postgres,
                "CREATE OR REPLACE VIEW v AS SELECT 1 AS one",
            ),
            (
                Dialect::Sqlite,
                "CREATE VIEW IF NOT EXISTS v AS SELECT 1 AS one",
            ),
        ] {
            assert_eq!(count_in(d, view, true), 0, "{d}");
            assert_eq!(count_in(d, view, false), 1, "{d}");
            assert_eq!(count_in(d, guarded, false), 0, "{d}");
        }
        // What a resumed run judges from the schema (tables, columns, indexes, foreign keys)
        // needs no guard: a near miss on every dialect.
        for d in [Dialect::Mysql, Dialect::Postgres, Dialect::Sqlite] {
            for judged in [
                "CREATE TABLE t (id INT)",
                "DROP TABLE t",
                "ALTER TABLE t ADD COLUMN a INT",
                "CREATE INDEX ix ON t (a)",
            ] {
                assert_eq!(count_in(d, judged, false), 0, "{d}: {judged}");
            }
        }
        // Data statements commit with their progress: never run twice.
        assert_eq!(
            count_in(Dialect::Mysql, "INSERT INTO t VALUES (1)", true),
            0
        );
    }
}
