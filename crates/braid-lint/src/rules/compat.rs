//! B1xx: changes the application release still running cannot live with. During a rolling
//! deployment old and new code run against the same schema, and a rollback of the code keeps
//! the new schema: a migration must not break the code of the previous release.
//!
//! Only existing tables count (see [`Ctx::existing`]): a table created earlier in the same
//! upgrade has no data and no code using it yet.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnOption, ObjectType, RenameTableNameKind,
    Statement, TableConstraint,
};

use super::Ctx;
use super::columns;
use crate::names::{ident_key, shown};
use crate::parse::Stmt;

/// B101
pub(super) fn drop_table(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for tree in &stmt.trees {
        let Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } = tree
        else {
            continue;
        };
        for name in names {
            if ctx.existing(name, stmt.index) && !ctx.replaced_after(name, stmt.index) {
                out.push(format!("drops table `{}`", shown(name)));
            }
        }
    }
    out
}

/// B102
pub(super) fn drop_column(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if let AlterTableOperation::DropColumn { column_names, .. } = op.op
            && ctx.existing(op.table(), stmt.index)
        {
            for column in column_names {
                out.push(format!(
                    "drops column `{}.{}`",
                    shown(op.table()),
                    column.value
                ));
            }
        }
    }
    out
}

/// B103
pub(super) fn rename_table(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for tree in &stmt.trees {
        if let Statement::RenameTable(renames) = tree {
            for r in renames {
                if ctx.existing(&r.old_name, stmt.index) {
                    out.push(format!(
                        "renames table `{}` to `{}`",
                        shown(&r.old_name),
                        shown(&r.new_name)
                    ));
                }
            }
        }
    }
    for op in stmt.alter_ops() {
        if let AlterTableOperation::RenameTable {
            table_name: RenameTableNameKind::To(new) | RenameTableNameKind::As(new),
        } = op.op
            && ctx.existing(op.table(), stmt.index)
        {
            out.push(format!(
                "renames table `{}` to `{}`",
                shown(op.table()),
                shown(new)
            ));
        }
    }
    out
}

/// B104
pub(super) fn rename_column(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if !ctx.existing(op.table(), stmt.index) {
            continue;
        }
        let (old, new) = match op.op {
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => (old_column_name, new_column_name),
            AlterTableOperation::ChangeColumn {
                old_name, new_name, ..
            } => (old_name, new_name),
            _ => continue,
        };
        if ident_key(old) != ident_key(new) {
            out.push(format!(
                "renames column `{t}.{}` to `{t}.{}`",
                old.value,
                new.value,
                t = shown(op.table())
            ));
        }
    }
    out
}

/// B105
pub(super) fn change_type(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if !ctx.existing(op.table(), stmt.index) {
            continue;
        }
        let t = shown(op.table());
        match op.op {
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetDataType { data_type, .. },
            } => out.push(format!(
                "changes the type of `{t}.{}` to {data_type}",
                column_name.value
            )),
            AlterTableOperation::ModifyColumn {
                col_name: column,
                data_type,
                ..
            }
            | AlterTableOperation::ChangeColumn {
                new_name: column,
                data_type,
                ..
            } => out.push(format!(
                "redefines `{t}.{}` as {data_type}: a type change if it was another type",
                column.value
            )),
            _ => {}
        }
    }
    out
}

/// B106
pub(super) fn set_not_null(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if !ctx.existing(op.table(), stmt.index) {
            continue;
        }
        let t = shown(op.table());
        match op.op {
            AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetNotNull,
            } => out.push(format!("makes `{t}.{}` NOT NULL", column_name.value)),
            AlterTableOperation::ModifyColumn {
                col_name: column,
                options,
                ..
            }
            | AlterTableOperation::ChangeColumn {
                new_name: column,
                options,
                ..
            } if options.iter().any(|o| matches!(o, ColumnOption::NotNull)) => out.push(format!(
                "redefines `{t}.{}` as NOT NULL: a change if it was nullable",
                column.value
            )),
            _ => {}
        }
    }
    out
}

/// B107
pub(super) fn add_constraint(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if let AlterTableOperation::AddConstraint {
            constraint,
            not_valid: false,
        } = op.op
            && checks_rows(constraint)
            && ctx.existing(op.table(), stmt.index)
        {
            out.push(format!(
                "adds {} to `{}`",
                columns::describe(constraint),
                shown(op.table())
            ));
        }
    }
    for tree in &stmt.trees {
        if let Statement::CreateIndex(index) = tree
            && index.unique
            && ctx.existing(&index.table_name, stmt.index)
        {
            let name = index
                .name
                .as_ref()
                .map(|n| format!(" `{}`", shown(n)))
                .unwrap_or_default();
            out.push(format!(
                "creates unique index{name} on `{}`",
                shown(&index.table_name)
            ));
        }
    }
    out
}

/// Whether adding `constraint` checks the rows already there. One built over an existing
/// unique index (`USING INDEX`) was checked when the index was built.
fn checks_rows(constraint: &TableConstraint) -> bool {
    matches!(
        constraint,
        TableConstraint::Unique(_)
            | TableConstraint::PrimaryKey(_)
            | TableConstraint::ForeignKey(_)
            | TableConstraint::Check(_)
            | TableConstraint::Exclude(_)
    )
}

/// B108
pub(super) fn add_required_column(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if let AlterTableOperation::AddColumn { column_def, .. } = op.op
            && columns::not_null(&column_def.options)
            && columns::default(&column_def.options).is_none()
            && !columns::server_filled(column_def)
            && ctx.existing(op.table(), stmt.index)
        {
            out.push(format!(
                "adds `{}.{}` NOT NULL without a default",
                shown(op.table()),
                column_def.name.value
            ));
        }
    }
    out
}

/// B109
pub(super) fn drop_default(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if let AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::DropDefault,
        } = op.op
            && ctx.existing(op.table(), stmt.index)
        {
            out.push(format!(
                "drops the default of `{}.{}`",
                shown(op.table()),
                column_name.value
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use braid_driver::Dialect;

    use crate::code::Code;
    use crate::rules::testing::{fired, fires_once};

    /// A table this upgrade creates first, so the same change is a near miss.
    const NEW: &str = "CREATE TABLE t (id INT PRIMARY KEY, a INT, b INT);\n";

    #[test]
    fn drop_table() {
        for d in Dialect::ALL {
            fires_once(
                Code::DropTable,
                d,
                "DROP TABLE users",
                "`users`",
                &format!("{NEW}DROP TABLE t"),
            );
        }
    }

    #[test]
    fn dropping_a_table_rebuilt_under_its_name_is_no_drop() {
        let rebuild = "CREATE TABLE users_new (id INT PRIMARY KEY);\n\
                       INSERT INTO users_new SELECT id FROM users;\n\
                       DROP TABLE users;\n\
                       ALTER TABLE users_new RENAME TO users;";
        for d in Dialect::ALL {
            assert!(fired(Code::DropTable, d, rebuild).is_empty(), "{d}");
            assert!(fired(Code::RenameTable, d, rebuild).is_empty(), "{d}");
        }
    }

    #[test]
    fn drop_column() {
        for d in Dialect::ALL {
            fires_once(
                Code::DropColumn,
                d,
                "ALTER TABLE users DROP COLUMN email",
                "`users.email`",
                &format!("{NEW}ALTER TABLE t DROP COLUMN a"),
            );
        }
    }

    #[test]
    fn rename_table() {
        for d in Dialect::ALL {
            fires_once(
                Code::RenameTable,
                d,
                "ALTER TABLE users RENAME TO people",
                "`users` to `people`",
                &format!("{NEW}ALTER TABLE t RENAME TO t2"),
            );
        }
        fires_once(
            Code::RenameTable,
            Dialect::Mysql,
            "RENAME TABLE users TO people",
            "`people`",
            &format!("{NEW}RENAME TABLE t TO t2"),
        );
    }

    #[test]
    fn rename_column() {
        for d in Dialect::ALL {
            fires_once(
                Code::RenameColumn,
                d,
                "ALTER TABLE users RENAME COLUMN email TO mail",
                "`users.email` to `users.mail`",
                &format!("{NEW}ALTER TABLE t RENAME COLUMN a TO c"),
            );
        }
        fires_once(
            Code::RenameColumn,
            Dialect::Mysql,
            "ALTER TABLE users CHANGE email mail VARCHAR(200)",
            "`users.mail`",
            "ALTER TABLE users CHANGE email email VARCHAR(200)",
        );
    }

    #[test]
    fn change_type() {
        for d in [Dialect::Postgres, Dialect::Sqlite] {
            fires_once(
                Code::ChangeColumnType,
                d,
                "ALTER TABLE users ALTER COLUMN age TYPE BIGINT",
                "`users.age`",
                &format!("{NEW}ALTER TABLE t ALTER COLUMN a TYPE BIGINT"),
            );
        }
        fires_once(
            Code::ChangeColumnType,
            Dialect::Mysql,
            "ALTER TABLE users MODIFY age BIGINT",
            "`users.age` as BIGINT",
            &format!("{NEW}ALTER TABLE t MODIFY a BIGINT"),
        );
    }

    #[test]
    fn set_not_null() {
        for d in [Dialect::Postgres, Dialect::Sqlite] {
            fires_once(
                Code::SetNotNull,
                d,
                "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
                "`users.email`",
                "ALTER TABLE users ALTER COLUMN email DROP NOT NULL",
            );
        }
        fires_once(
            Code::SetNotNull,
            Dialect::Mysql,
            "ALTER TABLE users MODIFY email VARCHAR(200) NOT NULL",
            "`users.email`",
            "ALTER TABLE users MODIFY email VARCHAR(200) NULL",
        );
    }

    #[test]
    fn add_constraint() {
        for d in Dialect::ALL {
            fires_once(
                Code::AddConstraint,
                d,
                "ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE (email)",
                "UNIQUE `uq_email` to `users`",
                &format!("{NEW}ALTER TABLE t ADD CONSTRAINT uq_a UNIQUE (a)"),
            );
            fires_once(
                Code::AddConstraint,
                d,
                "CREATE UNIQUE INDEX uq_email ON users (email)",
                "unique index `uq_email` on `users`",
                "CREATE INDEX ix_email ON users (email)",
            );
            fires_once(
                Code::AddConstraint,
                d,
                "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id)",
                "FOREIGN KEY `fk_user` to `orders`",
                &format!("{NEW}ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)"),
            );
        }
        // The two-step form on Postgres: NOT VALID now, VALIDATE later.
        assert!(
            fired(
                Code::AddConstraint,
                Dialect::Postgres,
                "ALTER TABLE users ADD CONSTRAINT c CHECK (age > 0) NOT VALID"
            )
            .is_empty()
        );
    }

    #[test]
    fn add_required_column() {
        for d in Dialect::ALL {
            fires_once(
                Code::AddRequiredColumn,
                d,
                "ALTER TABLE users ADD COLUMN tier INT NOT NULL",
                "`users.tier`",
                "ALTER TABLE users ADD COLUMN tier INT NOT NULL DEFAULT 0",
            );
        }
        assert!(
            fired(
                Code::AddRequiredColumn,
                Dialect::Postgres,
                "ALTER TABLE users ADD COLUMN n BIGINT GENERATED ALWAYS AS IDENTITY NOT NULL"
            )
            .is_empty()
        );
        assert!(
            fired(
                Code::AddRequiredColumn,
                Dialect::Mysql,
                "ALTER TABLE users ADD COLUMN n INT NOT NULL AUTO_INCREMENT UNIQUE"
            )
            .is_empty()
        );
    }

    #[test]
    fn drop_default() {
        for d in [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite] {
            fires_once(
                Code::DropDefault,
                d,
                "ALTER TABLE users ALTER COLUMN tier DROP DEFAULT",
                "`users.tier`",
                &format!("{NEW}ALTER TABLE t ALTER COLUMN a DROP DEFAULT"),
            );
        }
    }
}
