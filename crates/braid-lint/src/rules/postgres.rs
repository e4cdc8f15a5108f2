//! B2xx: Postgres locks. Most DDL takes an ACCESS EXCLUSIVE lock on its table; what matters is
//! how long it is held (a scan or a rewrite of a big table) and how long it is waited for
//! (every query on the table queues behind a waiting migration).

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, DataType, ExactNumberInfo, Expr,
    GeneratedExpressionMode, ObjectName, ObjectType, Statement, TableConstraint,
};
use sqlparser::tokenizer::Token;

use super::{At, Ctx, Hit, Which, columns};
use crate::code::Code;
use crate::names::{ident_key, key, shown};
use crate::parse::Stmt;

/// Functions whose value differs per row: a column added with one as its default is filled by
/// rewriting the table. `now()`, `CURRENT_TIMESTAMP` and `statement_timestamp()` are stable
/// within the statement and stored once in the catalog since Postgres 11.
const VOLATILE: &[&str] = &[
    "clock_timestamp",
    "random",
    "gen_random_uuid",
    "nextval",
    "timeofday",
    "uuidv4",
    "uuidv7",
    "txid_current",
];

/// B201
pub(super) fn index_without_concurrently(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    stmt.trees
        .iter()
        .filter_map(|tree| match tree {
            Statement::CreateIndex(index)
                if !index.concurrently && ctx.existing(&index.table_name, stmt.index) =>
            {
                let name = index
                    .name
                    .as_ref()
                    .map(|n| format!(" `{}`", shown(n)))
                    .unwrap_or_default();
                Some(format!(
                    "creates index{name} on `{}` without CONCURRENTLY: writes to `{}` wait \
                     until it is built",
                    shown(&index.table_name),
                    shown(&index.table_name)
                ))
            }
            _ => None,
        })
        .collect()
}

/// B202
pub(super) fn constraint_without_not_valid(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if let AlterTableOperation::AddConstraint {
            constraint: constraint @ (TableConstraint::ForeignKey(_) | TableConstraint::Check(_)),
            not_valid: false,
        } = op.op
            && ctx.existing(op.table(), stmt.index)
        {
            out.push(format!(
                "adds {} to `{}` without NOT VALID: every row is checked under lock",
                columns::describe(constraint),
                shown(op.table())
            ));
        }
    }
    out
}

/// B203
pub(super) fn unique_constraint_locks(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if let AlterTableOperation::AddConstraint {
            constraint: constraint @ (TableConstraint::Unique(_) | TableConstraint::PrimaryKey(_)),
            ..
        } = op.op
            && ctx.existing(op.table(), stmt.index)
        {
            out.push(format!(
                "adds {} to `{}`, building its index under an ACCESS EXCLUSIVE lock",
                columns::describe(constraint),
                shown(op.table())
            ));
        }
    }
    out
}

/// B204
pub(super) fn set_not_null_scans(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        if let AlterTableOperation::AlterColumn {
            column_name,
            op: AlterColumnOperation::SetNotNull,
        } = op.op
            && ctx.existing(op.table(), stmt.index)
            && !validated_before(ctx, op.table(), &ident_key(column_name), stmt.index)
        {
            out.push(format!(
                "SET NOT NULL on `{}.{}` scans the table under an ACCESS EXCLUSIVE lock: no \
                 validated CHECK ({} IS NOT NULL) comes before it",
                shown(op.table()),
                column_name.value,
                column_name.value
            ));
        }
    }
    out
}

/// Whether an earlier statement validates a constraint on `table` that can prove `column` is
/// not null: a `VALIDATE CONSTRAINT` (its CHECK was added by an earlier revision, which the
/// linter cannot see), or a CHECK (column IS NOT NULL) added without NOT VALID.
fn validated_before(ctx: &Ctx<'_>, table: &ObjectName, column: &str, at: usize) -> bool {
    let table = key(table);
    let proves = |e: &Expr| matches!(e, Expr::IsNotNull(inner) if inner.to_string().to_lowercase() == column);
    ctx.before(at).iter().any(|stmt| {
        stmt.alter_ops().any(|op| {
            key(op.table()) == table
                && match op.op {
                    AlterTableOperation::ValidateConstraint { .. } => true,
                    AlterTableOperation::AddConstraint {
                        constraint: TableConstraint::Check(check),
                        not_valid: false,
                    } => proves(&check.expr),
                    _ => false,
                }
        })
    })
}

/// B205
pub(super) fn type_change_rewrites(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        let AlterTableOperation::AlterColumn {
            column_name,
            op:
                AlterColumnOperation::SetDataType {
                    data_type, using, ..
                },
        } = op.op
        else {
            continue;
        };
        if !ctx.existing(op.table(), stmt.index) || (using.is_none() && catalog_only(data_type)) {
            continue;
        }
        let how = match using {
            Some(expr) => format!("converts `{}` USING {expr}", column_name.value),
            None => format!("changes `{}` to {data_type}", column_name.value),
        };
        out.push(format!(
            "{how}: this may rewrite `{}` and its indexes under an ACCESS EXCLUSIVE lock",
            shown(op.table())
        ));
    }
    out
}

/// Target types Postgres reaches without a rewrite from the types they usually come from:
/// `text`, `varchar` (a longer limit or none), an unconstrained `numeric`. Whether the old type
/// allows it is unknown here, so these are trusted.
fn catalog_only(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Text
            | DataType::Varchar(_)
            | DataType::CharacterVarying(_)
            | DataType::Numeric(ExactNumberInfo::None)
            | DataType::Decimal(ExactNumberInfo::None)
    )
}

/// B206
pub(super) fn volatile_default(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    let mut out = Vec::new();
    for op in stmt.alter_ops() {
        let AlterTableOperation::AddColumn { column_def, .. } = op.op else {
            continue;
        };
        if !ctx.existing(op.table(), stmt.index) {
            continue;
        }
        let why = if let Some(call) = columns::default(&column_def.options)
            .map(columns::calls)
            .and_then(|calls| calls.into_iter().find(|c| volatile(c)))
        {
            format!("its default calls {call}()")
        } else if columns::serial(&column_def.data_type) {
            format!("it is {}", column_def.data_type)
        } else if columns::identity(column_def) {
            "it is an identity column".to_string()
        } else if columns::generated(column_def)
            .is_some_and(|mode| mode != Some(GeneratedExpressionMode::Virtual))
        {
            "it is a stored generated column".to_string()
        } else {
            continue;
        };
        out.push(format!(
            "adds `{}.{}` and {why}: every row of `{}` is rewritten under an ACCESS EXCLUSIVE lock",
            shown(op.table()),
            column_def.name.value,
            shown(op.table())
        ));
    }
    out
}

fn volatile(function: &str) -> bool {
    VOLATILE.contains(&function) || function.starts_with("uuid_generate_")
}

/// B207. `REFRESH MATERIALIZED VIEW CONCURRENTLY` is the one `CONCURRENTLY` Postgres runs in a
/// transaction block; the others (`CREATE`/`DROP INDEX`, `REINDEX`, `DETACH PARTITION`) refuse.
pub(super) fn concurrently_in_transaction(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    if !ctx.input.transactional
        || !stmt.has_word("concurrently")
        || stmt.starts_with(&["refresh", "materialized", "view"])
    {
        return Vec::new();
    }
    vec![format!(
        "runs CONCURRENTLY inside the transaction of revision `{}`: Postgres refuses it",
        ctx.input.revision
    )]
}

/// B208: one finding, on the first statement that locks an existing table with no
/// `lock_timeout` set before it.
pub(super) fn no_lock_timeout(ctx: &Ctx<'_>) -> Vec<Hit> {
    for stmt in ctx.up {
        if sets_lock_timeout(stmt) {
            return Vec::new();
        }
        if let Some(lock) = locks(ctx, stmt) {
            return vec![Hit {
                code: Code::NoLockTimeout,
                which: Which::Up,
                at: At::Statement(stmt.index),
                message: format!("{lock}, and no SET lock_timeout comes before it"),
            }];
        }
    }
    Vec::new()
}

/// Whether the statement sets a non-zero `lock_timeout`: `SET [LOCAL|SESSION] lock_timeout …`
/// or `SELECT set_config('lock_timeout', …)`.
fn sets_lock_timeout(stmt: &Stmt) -> bool {
    let names_it = |t: &Token| match t {
        Token::Word(w) => w.value.eq_ignore_ascii_case("lock_timeout"),
        Token::SingleQuotedString(s) => s.eq_ignore_ascii_case("lock_timeout"),
        _ => false,
    };
    let Some(at) = stmt.tokens.iter().position(names_it) else {
        return false;
    };
    let setting = (stmt.starts_with(&["set"]) && at <= 2) || stmt.has_word("set_config");
    let zero = stmt.tokens[at + 1..]
        .iter()
        .find(|t| !matches!(t, Token::Eq | Token::Comma) && !is_word(t, "to"))
        .is_some_and(|value| match value {
            Token::Number(n, _) => n == "0",
            Token::SingleQuotedString(s) => s.trim() == "0",
            _ => false,
        });
    setting && !zero
}

fn is_word(token: &Token, word: &str) -> bool {
    matches!(token, Token::Word(w) if w.value.eq_ignore_ascii_case(word))
}

/// What lock the statement waits for on an existing table, described; `None` when it takes
/// none worth a timeout.
fn locks(ctx: &Ctx<'_>, stmt: &Stmt) -> Option<String> {
    stmt.trees.iter().find_map(|tree| match tree {
        Statement::AlterTable(alter)
            if ctx.existing(&alter.name, stmt.index)
                && !alter
                    .operations
                    .iter()
                    .all(|op| matches!(op, AlterTableOperation::ValidateConstraint { .. })) =>
        {
            Some(format!(
                "ALTER TABLE `{}` waits for an ACCESS EXCLUSIVE lock",
                shown(&alter.name)
            ))
        }
        Statement::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => names.iter().find(|n| ctx.existing(n, stmt.index)).map(|n| {
            format!(
                "DROP TABLE `{}` waits for an ACCESS EXCLUSIVE lock",
                shown(n)
            )
        }),
        Statement::Drop {
            object_type: ObjectType::Index,
            names,
            ..
        } if !stmt.has_word("concurrently") => names.first().map(|n| {
            format!(
                "DROP INDEX `{}` waits for an ACCESS EXCLUSIVE lock on its table",
                shown(n)
            )
        }),
        Statement::Truncate(truncate) => truncate
            .table_names
            .iter()
            .find(|t| ctx.existing(&t.name, stmt.index))
            .map(|t| {
                format!(
                    "TRUNCATE `{}` waits for an ACCESS EXCLUSIVE lock",
                    shown(&t.name)
                )
            }),
        Statement::CreateIndex(index)
            if !index.concurrently && ctx.existing(&index.table_name, stmt.index) =>
        {
            Some(format!(
                "CREATE INDEX on `{}` waits for a SHARE lock",
                shown(&index.table_name)
            ))
        }
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use braid_driver::Dialect::Postgres;

    use crate::code::Code;
    use crate::finding::Down;
    use crate::rules::testing::{findings_with, fired, fires_once};

    #[test]
    fn index_without_concurrently() {
        fires_once(
            Code::IndexWithoutConcurrently,
            Postgres,
            "CREATE INDEX ix_email ON users (email)",
            "`ix_email` on `users`",
            "CREATE INDEX CONCURRENTLY ix_email ON users (email)",
        );
        assert!(
            fired(
                Code::IndexWithoutConcurrently,
                Postgres,
                "CREATE TABLE t (a INT); CREATE INDEX ix ON t (a)"
            )
            .is_empty()
        );
    }

    #[test]
    fn constraint_without_not_valid() {
        fires_once(
            Code::ConstraintWithoutNotValid,
            Postgres,
            "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id)",
            "FOREIGN KEY `fk_user` to `orders`",
            "ALTER TABLE orders ADD CONSTRAINT fk_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
        );
        fires_once(
            Code::ConstraintWithoutNotValid,
            Postgres,
            "ALTER TABLE users ADD CONSTRAINT age_positive CHECK (age > 0)",
            "CHECK `age_positive`",
            "ALTER TABLE users VALIDATE CONSTRAINT age_positive",
        );
    }

    #[test]
    fn unique_constraint_locks() {
        fires_once(
            Code::UniqueConstraintLocks,
            Postgres,
            "ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE (email)",
            "UNIQUE `uq_email` to `users`",
            "ALTER TABLE users ADD CONSTRAINT uq_email UNIQUE USING INDEX uq_email_idx",
        );
    }

    #[test]
    fn set_not_null_scans() {
        fires_once(
            Code::SetNotNullScans,
            Postgres,
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL",
            "`users.email`",
            "ALTER TABLE users VALIDATE CONSTRAINT email_not_null;\n\
             ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n\
             ALTER TABLE users DROP CONSTRAINT email_not_null",
        );
        // A CHECK added NOT VALID in the same migration proves nothing yet.
        assert_eq!(
            fired(
                Code::SetNotNullScans,
                Postgres,
                "ALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n\
                 ALTER TABLE users ALTER COLUMN email SET NOT NULL"
            )
            .len(),
            1
        );
    }

    #[test]
    fn type_change_rewrites() {
        fires_once(
            Code::TypeChangeRewrites,
            Postgres,
            "ALTER TABLE users ALTER COLUMN age TYPE BIGINT",
            "`age` to BIGINT",
            "ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(500)",
        );
        fires_once(
            Code::TypeChangeRewrites,
            Postgres,
            "ALTER TABLE users ALTER COLUMN name TYPE TEXT USING trim(name)",
            "`name` USING",
            "ALTER TABLE users ALTER COLUMN name TYPE TEXT",
        );
    }

    #[test]
    fn volatile_default() {
        fires_once(
            Code::VolatileDefault,
            Postgres,
            "ALTER TABLE users ADD COLUMN token UUID DEFAULT gen_random_uuid()",
            "gen_random_uuid()",
            "ALTER TABLE users ADD COLUMN created_at TIMESTAMPTZ DEFAULT now()",
        );
        for volatile in [
            "ALTER TABLE users ADD COLUMN r FLOAT DEFAULT random()",
            "ALTER TABLE users ADD COLUMN t TIMESTAMPTZ DEFAULT clock_timestamp()",
            "ALTER TABLE users ADD COLUMN u UUID DEFAULT uuid_generate_v4()",
            "ALTER TABLE users ADD COLUMN n INT DEFAULT nextval('s')",
            "ALTER TABLE users ADD COLUMN n SERIAL",
            "ALTER TABLE users ADD COLUMN n BIGINT GENERATED ALWAYS AS IDENTITY",
            "ALTER TABLE users ADD COLUMN n INT GENERATED ALWAYS AS (a + 1) STORED",
        ] {
            assert_eq!(
                fired(Code::VolatileDefault, Postgres, volatile).len(),
                1,
                "{volatile}"
            );
        }
        for stable in [
            "ALTER TABLE users ADD COLUMN t TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP",
            "ALTER TABLE users ADD COLUMN s TEXT DEFAULT 'random()'",
            "CREATE TABLE t (a INT); ALTER TABLE t ADD COLUMN r FLOAT DEFAULT random()",
        ] {
            assert!(
                fired(Code::VolatileDefault, Postgres, stable).is_empty(),
                "{stable}"
            );
        }
    }

    #[test]
    fn concurrently_in_transaction() {
        let in_tx = |sql: &str, transactional: bool| {
            findings_with(Postgres, sql, Down::Unreadable, transactional)
                .into_iter()
                .filter(|f| f.code == Code::ConcurrentlyInTransaction)
                .count()
        };
        assert_eq!(
            in_tx("CREATE INDEX CONCURRENTLY ix ON users (email)", true),
            1
        );
        // sqlparser cannot read this one; the word is enough.
        assert_eq!(in_tx("DROP INDEX CONCURRENTLY IF EXISTS ix", true), 1);
        // Postgres refreshes a materialized view concurrently inside a transaction.
        assert_eq!(in_tx("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", true), 0);
        assert_eq!(
            in_tx("CREATE INDEX CONCURRENTLY ix ON users (email)", false),
            0
        );
        assert_eq!(
            in_tx("COMMENT ON TABLE users IS 'built concurrently'", true),
            0
        );
    }

    #[test]
    fn no_lock_timeout() {
        fires_once(
            Code::NoLockTimeout,
            Postgres,
            "ALTER TABLE users ADD COLUMN nickname TEXT;\nALTER TABLE users ADD COLUMN bio TEXT",
            "ALTER TABLE `users`",
            "SET lock_timeout = '5s';\nALTER TABLE users ADD COLUMN nickname TEXT",
        );
        for ok in [
            "SET LOCAL lock_timeout TO '2s'; DROP TABLE users",
            "SELECT set_config('lock_timeout', '3s', true); ALTER TABLE users ADD COLUMN a INT",
            "CREATE TABLE t (a INT); ALTER TABLE t ADD COLUMN b INT",
            "ALTER TABLE users VALIDATE CONSTRAINT c",
            "CREATE INDEX CONCURRENTLY ix ON users (a)",
        ] {
            assert!(fired(Code::NoLockTimeout, Postgres, ok).is_empty(), "{ok}");
        }
        // A timeout of 0 is no timeout.
        assert_eq!(
            fired(
                Code::NoLockTimeout,
                Postgres,
                "SET lock_timeout = 0; TRUNCATE users"
            )
            .len(),
            1
        );
    }
}
