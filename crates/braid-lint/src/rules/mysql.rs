//! B3xx: MySQL and MariaDB. Every DDL statement commits on its own, some ALTERs copy the whole
//! table, and some syntax is accepted and ignored.

use sqlparser::ast::{
    AlterTable, AlterTableOperation, ColumnOption, DataType, EnumMember, Ident, ObjectName,
    Statement, TableConstraint,
};
use sqlparser::tokenizer::Token;

use super::Ctx;
use crate::names::{ident_key, key, shown};
use crate::parse::Stmt;

/// B301
pub(super) fn table_copy(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    if stmt.trees.is_empty() {
        return convert_charset(ctx, stmt).into_iter().collect();
    }
    let mut out = Vec::new();
    for tree in &stmt.trees {
        let Statement::AlterTable(alter) = tree else {
            continue;
        };
        if !ctx.existing(&alter.name, stmt.index) || states_algorithm(alter) {
            continue;
        }
        let copies: Vec<String> = alter.operations.iter().filter_map(copying).collect();
        if !copies.is_empty() {
            out.push(format!(
                "ALTER TABLE `{}` {} states no ALGORITHM= or LOCK=: the server may copy the \
                 whole table, blocking writes",
                shown(&alter.name),
                copies.join(", ")
            ));
        }
    }
    out
}

fn states_algorithm(alter: &AlterTable) -> bool {
    alter.operations.iter().any(|op| {
        matches!(
            op,
            AlterTableOperation::Algorithm { .. } | AlterTableOperation::Lock { .. }
        )
    })
}

/// The operation, named, when it may need a table copy.
fn copying(op: &AlterTableOperation) -> Option<String> {
    match op {
        AlterTableOperation::ModifyColumn { col_name, .. } => {
            Some(format!("MODIFY `{}`", col_name.value))
        }
        AlterTableOperation::ChangeColumn { old_name, .. } => {
            Some(format!("CHANGE `{}`", old_name.value))
        }
        AlterTableOperation::DropPrimaryKey { .. } => Some("DROP PRIMARY KEY".into()),
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::PrimaryKey(_),
            ..
        } => Some("ADD PRIMARY KEY".into()),
        _ => None,
    }
}

/// `ALTER TABLE t CONVERT TO CHARACTER SET …`, which sqlparser does not read: found by its
/// words.
fn convert_charset(ctx: &Ctx<'_>, stmt: &Stmt) -> Option<String> {
    if !stmt.starts_with(&["alter", "table"])
        || !stmt.has_word("convert")
        || stmt.has_word("algorithm")
        || stmt.has_word("lock")
    {
        return None;
    }
    let table = match stmt.tokens.get(2) {
        Some(Token::Word(w)) => w.value.clone(),
        _ => return None,
    };
    ctx.existing_key(&table.to_lowercase(), stmt.index)
        .then(|| {
            format!(
                "ALTER TABLE `{table}` CONVERT TO CHARACTER SET rewrites every row: the server \
                 copies the table, blocking writes"
            )
        })
}

/// B302
pub(super) fn enum_change(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        let Some((column, data_type)) = redefined(op.op) else {
            continue;
        };
        let Some(values) = enum_values(data_type) else {
            continue;
        };
        if !ctx.existing(op.table(), stmt.index) {
            continue;
        }
        let name = format!("{}.{}", shown(op.table()), column.value);
        match earlier_values(ctx, op.table(), column, stmt.index) {
            Some(old) if values.starts_with(&old) => {}
            Some(old) => out.push(format!(
                "changes the values of `{name}` from ({}) to ({}): not only appended at the end",
                old.join(", "),
                values.join(", ")
            )),
            None => out.push(format!(
                "redefines `{name}` as {data_type}: unless its values were only appended at the \
                 end, this rebuilds the table and may invalidate stored values"
            )),
        }
    }
    out
}

/// The column a MODIFY or CHANGE defines, with its type.
fn redefined(op: &AlterTableOperation) -> Option<(&Ident, &DataType)> {
    match op {
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            ..
        } => Some((col_name, data_type)),
        AlterTableOperation::ChangeColumn {
            new_name,
            data_type,
            ..
        } => Some((new_name, data_type)),
        _ => None,
    }
}

fn enum_values(data_type: &DataType) -> Option<Vec<String>> {
    match data_type {
        DataType::Enum(members, _) => Some(
            members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(n) | EnumMember::NamedValue(n, _) => format!("'{n}'"),
                })
                .collect(),
        ),
        DataType::Set(values) => Some(values.iter().map(|v| format!("'{v}'")).collect()),
        _ => None,
    }
}

/// The values an earlier statement of the upgrade gave the same column.
fn earlier_values(
    ctx: &Ctx<'_>,
    table: &ObjectName,
    column: &Ident,
    at: usize,
) -> Option<Vec<String>> {
    let (table, column) = (key(table), ident_key(column));
    ctx.before(at)
        .iter()
        .flat_map(|stmt| stmt.alter_ops())
        .filter(|op| key(op.table()) == table)
        .filter_map(|op| redefined(op.op))
        .filter(|(c, _)| ident_key(c) == column)
        .filter_map(|(_, data_type)| enum_values(data_type))
        .last()
}

/// B303
pub(super) fn inline_references(_ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for tree in &stmt.trees {
        if let Statement::CreateTable(t) = tree {
            for c in &t.columns {
                let options = c.options.iter().map(|o| &o.option);
                out.extend(inline_reference(options).map(|r| ignored(&t.name, &c.name, r)));
            }
        }
    }
    for op in stmt.alter_ops() {
        let found = match op.op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                let options = column_def.options.iter().map(|o| &o.option);
                inline_reference(options).map(|r| (&column_def.name, r))
            }
            AlterTableOperation::ModifyColumn {
                col_name: column,
                options,
                ..
            }
            | AlterTableOperation::ChangeColumn {
                new_name: column,
                options,
                ..
            } => inline_reference(options).map(|r| (column, r)),
            _ => None,
        };
        out.extend(found.map(|(column, r)| ignored(op.table(), column, r)));
    }
    out
}

/// The table a column definition's inline `REFERENCES` names.
fn inline_reference<'a>(
    options: impl IntoIterator<Item = &'a ColumnOption>,
) -> Option<&'a ObjectName> {
    options.into_iter().find_map(|o| match o {
        ColumnOption::ForeignKey(fk) => Some(&fk.foreign_table),
        _ => None,
    })
}

fn ignored(table: &ObjectName, column: &Ident, parent: &ObjectName) -> String {
    format!(
        "`{}.{}` REFERENCES `{}` in its column definition: MySQL ignores it, no foreign key is \
         created",
        shown(table),
        column.value,
        shown(parent)
    )
}

#[cfg(test)]
mod tests {
    use braid_driver::Dialect::Mysql;

    use crate::code::Code;
    use crate::rules::testing::{fired, fires_once};

    #[test]
    fn table_copy() {
        fires_once(
            Code::TableCopy,
            Mysql,
            "ALTER TABLE users MODIFY age BIGINT",
            "`users` MODIFY `age`",
            "ALTER TABLE users MODIFY age BIGINT, ALGORITHM=INPLACE, LOCK=NONE",
        );
        fires_once(
            Code::TableCopy,
            Mysql,
            "ALTER TABLE users DROP PRIMARY KEY, ADD PRIMARY KEY (id, tenant)",
            "DROP PRIMARY KEY, ADD PRIMARY KEY",
            "ALTER TABLE users ADD COLUMN nickname VARCHAR(50)",
        );
        fires_once(
            Code::TableCopy,
            Mysql,
            "ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4",
            "`users` CONVERT TO CHARACTER SET",
            "ALTER TABLE users CONVERT TO CHARACTER SET utf8mb4, ALGORITHM=COPY",
        );
        assert!(
            fired(
                Code::TableCopy,
                Mysql,
                "CREATE TABLE t (a INT); ALTER TABLE t MODIFY a BIGINT"
            )
            .is_empty()
        );
    }

    #[test]
    fn enum_change() {
        fires_once(
            Code::EnumChange,
            Mysql,
            "ALTER TABLE users MODIFY status ENUM('active', 'banned')",
            "`users.status`",
            "ALTER TABLE users MODIFY status VARCHAR(20)",
        );
        let appended = "ALTER TABLE users MODIFY status ENUM('a', 'b');\n\
                        ALTER TABLE users MODIFY status ENUM('a', 'b', 'c')";
        let reordered = "ALTER TABLE users MODIFY status ENUM('a', 'b');\n\
                         ALTER TABLE users MODIFY status ENUM('b', 'a')";
        // The first statement of each is flagged (nothing to compare it with); the second only
        // when its values are not appended.
        assert_eq!(fired(Code::EnumChange, Mysql, appended).len(), 1);
        let got = fired(Code::EnumChange, Mysql, reordered);
        assert_eq!(got.len(), 2);
        assert!(got[1].message.contains("from ('a', 'b') to ('b', 'a')"));
    }

    #[test]
    fn inline_references() {
        fires_once(
            Code::InlineReferences,
            Mysql,
            "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT REFERENCES users (id))",
            "`orders.user_id` REFERENCES `users`",
            "CREATE TABLE orders (id INT PRIMARY KEY, user_id INT, \
             FOREIGN KEY (user_id) REFERENCES users (id))",
        );
        fires_once(
            Code::InlineReferences,
            Mysql,
            "ALTER TABLE orders ADD COLUMN user_id INT REFERENCES users (id)",
            "`orders.user_id`",
            "ALTER TABLE orders ADD COLUMN user_id INT",
        );
    }
}
