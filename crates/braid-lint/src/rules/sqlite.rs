//! B4xx: SQLite. Its ALTER TABLE renames, adds and drops columns, with restrictions; anything
//! else is a table rebuild the migration has to spell out. These statements fail when they
//! run, so they are errors whether the table is new or not.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, ColumnOptionDef, Expr, GeneratedExpressionMode, Ident,
    ObjectName, ObjectType, Statement,
};

use super::{Ctx, columns};
use crate::names::{ident_key, key, shown};
use crate::parse::Stmt;

/// How much of an operation a message quotes.
const OPERATION_CHARS: usize = 60;

/// B401
pub(super) fn alter_unsupported(_ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    stmt.alter_ops()
        .filter(|op| !supported(op.op))
        .map(|op| {
            let full = op.op.to_string();
            let mut operation: String = full.chars().take(OPERATION_CHARS).collect();
            if operation.len() < full.len() {
                operation.push('…');
            }
            format!(
                "SQLite cannot `{operation}` on `{t}`: {}",
                rebuild(op.table()),
                t = shown(op.table())
            )
        })
        .collect()
}

/// What SQLite's ALTER TABLE does.
fn supported(op: &AlterTableOperation) -> bool {
    matches!(
        op,
        AlterTableOperation::RenameTable { .. }
            | AlterTableOperation::RenameColumn { .. }
            | AlterTableOperation::AddColumn { .. }
            | AlterTableOperation::DropColumn { .. }
    )
}

/// The rebuild a change of `table` needs, spelled out.
fn rebuild(table: &ObjectName) -> String {
    let t = shown(table);
    format!(
        "rebuild `{t}` (create `{t}_new` with the new definition, copy the rows, drop `{t}`, \
         rename `{t}_new` to `{t}`, recreate its indexes and triggers)"
    )
}

/// B402
pub(super) fn drop_column_refused(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        let AlterTableOperation::DropColumn { column_names, .. } = op.op else {
            continue;
        };
        for column in column_names {
            if let Some(role) = role_of(ctx, op.table(), column, stmt.index) {
                out.push(format!(
                    "SQLite refuses to drop `{}.{}`: it is {role}; drop the index first or {}",
                    shown(op.table()),
                    column.value,
                    rebuild(op.table())
                ));
            }
        }
    }
    out
}

/// What pins `column` of `table` as far as the upgrade before `at` shows: a key, a constraint,
/// an index not dropped since. Earlier revisions are not visible: a column they indexed is
/// not known here.
fn role_of(ctx: &Ctx<'_>, table: &ObjectName, column: &Ident, at: usize) -> Option<String> {
    let (table, column) = (key(table), ident_key(column));
    let mut role = None;
    let mut indexes: Vec<(String, String)> = Vec::new();
    for stmt in ctx.before(at) {
        for tree in &stmt.trees {
            match tree {
                Statement::CreateTable(t) if key(&t.name) == table => {
                    for c in t.columns.iter().filter(|c| ident_key(&c.name) == column) {
                        role = role.or(column_role(&c.options));
                    }
                    for constraint in &t.constraints {
                        if columns::constraint_columns(constraint).contains(&column) {
                            role =
                                role.or(Some(format!("part of {}", columns::describe(constraint))));
                        }
                    }
                }
                Statement::CreateIndex(index)
                    if key(&index.table_name) == table
                        && index
                            .columns
                            .iter()
                            .any(|c| c.column.expr.to_string().to_lowercase() == column) =>
                {
                    let name = index.name.as_ref().map(key).unwrap_or_default();
                    let shown_name = index.name.as_ref().map(shown).unwrap_or_default();
                    indexes.push((name, format!("indexed by `{shown_name}`")));
                }
                Statement::Drop {
                    object_type: ObjectType::Index,
                    names,
                    ..
                } => indexes.retain(|(name, _)| !names.iter().any(|n| key(n) == *name)),
                _ => {}
            }
        }
        for op in stmt.alter_ops().filter(|op| key(op.table()) == table) {
            if let AlterTableOperation::AddColumn { column_def, .. } = op.op
                && ident_key(&column_def.name) == column
            {
                role = role.or(column_role(&column_def.options));
            }
        }
    }
    role.or(indexes.pop().map(|(_, role)| role))
}

fn column_role(options: &[ColumnOptionDef]) -> Option<String> {
    columns::options(options).find_map(|o| match o {
        ColumnOption::PrimaryKey(_) => Some("the PRIMARY KEY".to_string()),
        ColumnOption::Unique(_) => Some("UNIQUE".to_string()),
        ColumnOption::ForeignKey(fk) => {
            Some(format!("a foreign key to `{}`", shown(&fk.foreign_table)))
        }
        _ => None,
    })
}

/// B403
pub(super) fn add_column_refused(_ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        let AlterTableOperation::AddColumn { column_def, .. } = op.op else {
            continue;
        };
        let refused = columns::options(&column_def.options).find_map(|o| match o {
            ColumnOption::PrimaryKey(_) => Some("a PRIMARY KEY column".to_string()),
            ColumnOption::Unique(_) => Some("a UNIQUE column".to_string()),
            ColumnOption::Default(e) if !constant(e) => {
                Some(format!("a column whose default ({e}) is not a constant"))
            }
            ColumnOption::Generated {
                generation_expr_mode: Some(GeneratedExpressionMode::Stored),
                ..
            } => Some("a STORED generated column".to_string()),
            _ => None,
        });
        if let Some(refused) = refused {
            out.push(format!(
                "SQLite refuses to add `{}.{}` as {refused}",
                shown(op.table()),
                column_def.name.value
            ));
        }
    }
    out
}

/// B404
pub(super) fn pragma_in_transaction(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    if !ctx.input.transactional || !stmt.starts_with(&["pragma"]) || !stmt.has_word("foreign_keys")
    {
        return Vec::new();
    }
    vec![format!(
        "SQLite ignores PRAGMA foreign_keys inside the transaction of revision `{}`",
        ctx.input.revision
    )]
}

/// Whether SQLite takes `default` in ADD COLUMN: a literal, not CURRENT_TIME/DATE/TIMESTAMP
/// nor an expression in parentheses.
fn constant(default: &Expr) -> bool {
    let text = default.to_string().to_lowercase();
    !(matches!(default, Expr::Nested(_))
        || text.contains("current_time")
        || text.contains("current_date")
        || !columns::calls(default).is_empty())
}

#[cfg(test)]
mod tests {
    use braid_driver::Dialect::Sqlite;

    use crate::code::Code;
    use crate::rules::testing::{fired, fires_once};

    #[test]
    fn alter_unsupported() {
        fires_once(
            Code::SqliteAlterUnsupported,
            Sqlite,
            "ALTER TABLE users ALTER COLUMN age TYPE BIGINT",
            "rebuild `users` (create `users_new`",
            "ALTER TABLE users ADD COLUMN nickname TEXT",
        );
        fires_once(
            Code::SqliteAlterUnsupported,
            Sqlite,
            "ALTER TABLE users ADD CONSTRAINT age_positive CHECK (age > 0)",
            "on `users`",
            "ALTER TABLE users RENAME COLUMN age TO years",
        );
    }

    #[test]
    fn drop_column_refused() {
        fires_once(
            Code::SqliteDropColumnRefused,
            Sqlite,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE, note TEXT);\n\
             ALTER TABLE t DROP COLUMN email",
            "`t.email`: it is UNIQUE",
            "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE, note TEXT);\n\
             ALTER TABLE t DROP COLUMN note",
        );
        fires_once(
            Code::SqliteDropColumnRefused,
            Sqlite,
            "CREATE INDEX ix_users_email ON users (email);\nALTER TABLE users DROP COLUMN email",
            "indexed by `ix_users_email`",
            "CREATE INDEX ix_users_email ON users (email);\nDROP INDEX ix_users_email;\n\
             ALTER TABLE users DROP COLUMN email",
        );
    }

    #[test]
    fn pragma_in_transaction() {
        use crate::finding::Down;
        use crate::rules::testing::findings_with;
        let count = |sql: &str, transactional: bool| {
            findings_with(Sqlite, sql, Down::Unreadable, transactional)
                .iter()
                .filter(|f| f.code == Code::SqlitePragmaInTransaction)
                .count()
        };
        let rebuild = "PRAGMA foreign_keys = OFF;\nDROP TABLE t;\nPRAGMA foreign_keys = ON;";
        assert_eq!(count(rebuild, true), 2);
        assert_eq!(count(rebuild, false), 0);
        assert_eq!(count("PRAGMA defer_foreign_keys = ON", true), 0);
        // A PRAGMA sqlparser cannot read is not reported as unread.
        assert!(fired(Code::Unparsed, Sqlite, "PRAGMA foreign_keys = OFF").is_empty());
    }

    #[test]
    fn add_column_refused() {
        for refused in [
            "ALTER TABLE users ADD COLUMN code TEXT UNIQUE",
            "ALTER TABLE users ADD COLUMN id2 INTEGER PRIMARY KEY",
            "ALTER TABLE users ADD COLUMN at TEXT DEFAULT CURRENT_TIMESTAMP",
            "ALTER TABLE users ADD COLUMN at TEXT DEFAULT (datetime('now'))",
            "ALTER TABLE users ADD COLUMN n INT GENERATED ALWAYS AS (a + 1) STORED",
        ] {
            assert_eq!(
                fired(Code::SqliteAddColumnRefused, Sqlite, refused).len(),
                1,
                "{refused}"
            );
        }
        fires_once(
            Code::SqliteAddColumnRefused,
            Sqlite,
            "ALTER TABLE users ADD COLUMN code TEXT UNIQUE",
            "`users.code` as a UNIQUE column",
            "ALTER TABLE users ADD COLUMN code TEXT DEFAULT 'x'",
        );
        assert!(
            fired(
                Code::SqliteAddColumnRefused,
                Sqlite,
                "ALTER TABLE users ADD COLUMN n INT DEFAULT -1"
            )
            .is_empty()
        );
    }
}
