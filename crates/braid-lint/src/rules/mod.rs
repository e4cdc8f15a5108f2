//! The rule table and what every rule may ask about a revision.
//!
//! A rule is one function and one code. Most look at one statement at a time
//! ([`Check::Statement`]) and return what they found as messages; a few need the whole revision
//! (an earlier `SET lock_timeout`, the downgrade) and say where each finding is
//! ([`Check::Revision`]). Which dialects a rule applies to is part of its row in [`RULES`].

mod columns;
mod compat;
mod mysql;
mod postgres;
mod shape;
mod sqlite;

use std::cell::OnceCell;
use std::collections::HashMap;

use braid_driver::Dialect;
use sqlparser::ast::{AlterTableOperation, ObjectName, RenameTableNameKind, Statement};

use crate::code::Code;
use crate::finding::RevisionInput;
use crate::names;
use crate::overlap::{self, StatementEffects};
use crate::parse::Stmt;
use crate::phase;

/// Which script a finding is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Which {
    Up,
    Down,
}

/// Where in that script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum At {
    /// A statement, by index.
    Statement(usize),
    /// A line that is no statement (a comment).
    Line(usize),
    /// The script as a whole.
    Whole,
}

/// One finding before it becomes a [`crate::Finding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub code: Code,
    pub which: Which,
    pub at: At,
    pub message: String,
}

/// The downgrade, read.
#[derive(Debug)]
pub(crate) enum DownScript {
    Statements(Vec<Stmt>),
    Absent,
    Unreadable,
}

/// What a rule looks at.
pub(crate) enum Check {
    /// One statement of the upgrade at a time; each message is one finding on it.
    Statement(fn(&Ctx<'_>, &Stmt) -> Vec<String>),
    /// The whole revision.
    Revision(fn(&Ctx<'_>) -> Vec<Hit>),
}

pub(crate) struct Rule {
    pub code: Code,
    pub dialects: &'static [Dialect],
    pub check: Check,
}

const ANY: &[Dialect] = &Dialect::ALL;
const POSTGRES: &[Dialect] = &[Dialect::Postgres];
const MYSQL: &[Dialect] = &[Dialect::Mysql];
const SQLITE: &[Dialect] = &[Dialect::Sqlite];

/// Every rule.
pub(crate) const RULES: &[Rule] = &[
    Rule {
        code: Code::DropTable,
        dialects: ANY,
        check: Check::Statement(compat::drop_table),
    },
    Rule {
        code: Code::DropColumn,
        dialects: ANY,
        check: Check::Statement(compat::drop_column),
    },
    Rule {
        code: Code::RenameTable,
        dialects: ANY,
        check: Check::Statement(compat::rename_table),
    },
    Rule {
        code: Code::RenameColumn,
        dialects: ANY,
        check: Check::Statement(compat::rename_column),
    },
    Rule {
        code: Code::ChangeColumnType,
        dialects: ANY,
        check: Check::Statement(compat::change_type),
    },
    Rule {
        code: Code::SetNotNull,
        dialects: ANY,
        check: Check::Statement(compat::set_not_null),
    },
    Rule {
        code: Code::AddConstraint,
        dialects: ANY,
        check: Check::Statement(compat::add_constraint),
    },
    Rule {
        code: Code::AddRequiredColumn,
        dialects: ANY,
        check: Check::Statement(compat::add_required_column),
    },
    Rule {
        code: Code::DropDefault,
        dialects: ANY,
        check: Check::Statement(compat::drop_default),
    },
    Rule {
        code: Code::DestructiveInExpand,
        dialects: ANY,
        check: Check::Revision(phase::destructive_in_expand),
    },
    Rule {
        code: Code::RemovedWhileRead,
        dialects: ANY,
        check: Check::Revision(phase::removed_while_read),
    },
    Rule {
        code: Code::IndexWithoutConcurrently,
        dialects: POSTGRES,
        check: Check::Statement(postgres::index_without_concurrently),
    },
    Rule {
        code: Code::ConstraintWithoutNotValid,
        dialects: POSTGRES,
        check: Check::Statement(postgres::constraint_without_not_valid),
    },
    Rule {
        code: Code::UniqueConstraintLocks,
        dialects: POSTGRES,
        check: Check::Statement(postgres::unique_constraint_locks),
    },
    Rule {
        code: Code::SetNotNullScans,
        dialects: POSTGRES,
        check: Check::Statement(postgres::set_not_null_scans),
    },
    Rule {
        code: Code::TypeChangeRewrites,
        dialects: POSTGRES,
        check: Check::Statement(postgres::type_change_rewrites),
    },
    Rule {
        code: Code::VolatileDefault,
        dialects: POSTGRES,
        check: Check::Statement(postgres::volatile_default),
    },
    Rule {
        code: Code::ConcurrentlyInTransaction,
        dialects: POSTGRES,
        check: Check::Statement(postgres::concurrently_in_transaction),
    },
    Rule {
        code: Code::NoLockTimeout,
        dialects: POSTGRES,
        check: Check::Revision(postgres::no_lock_timeout),
    },
    Rule {
        code: Code::TableCopy,
        dialects: MYSQL,
        check: Check::Statement(mysql::table_copy),
    },
    Rule {
        code: Code::EnumChange,
        dialects: MYSQL,
        check: Check::Statement(mysql::enum_change),
    },
    Rule {
        code: Code::InlineReferences,
        dialects: MYSQL,
        check: Check::Statement(mysql::inline_references),
    },
    Rule {
        code: Code::SqliteAlterUnsupported,
        dialects: SQLITE,
        check: Check::Statement(sqlite::alter_unsupported),
    },
    Rule {
        code: Code::SqliteDropColumnRefused,
        dialects: SQLITE,
        check: Check::Statement(sqlite::drop_column_refused),
    },
    Rule {
        code: Code::SqliteAddColumnRefused,
        dialects: SQLITE,
        check: Check::Statement(sqlite::add_column_refused),
    },
    Rule {
        code: Code::SqlitePragmaInTransaction,
        dialects: SQLITE,
        check: Check::Statement(sqlite::pragma_in_transaction),
    },
    Rule {
        code: Code::MissingDowngrade,
        dialects: ANY,
        check: Check::Revision(shape::missing_downgrade),
    },
    Rule {
        code: Code::DowngradeIncomplete,
        dialects: ANY,
        check: Check::Revision(shape::downgrade_incomplete),
    },
    Rule {
        code: Code::NotRerunnable,
        dialects: ANY,
        check: Check::Statement(shape::not_rerunnable),
    },
    Rule {
        code: Code::Unwritten,
        dialects: ANY,
        check: Check::Revision(shape::unwritten),
    },
    Rule {
        code: Code::Unparsed,
        dialects: ANY,
        check: Check::Statement(unparsed),
    },
];

/// The rules whose findings make a statement destructive: what the release still running
/// cannot live with, so what makes a revision *contract* ([`crate::phase`]). Adding a
/// constraint (B107) is not among them: it is how an expand step protects new data.
pub(crate) const DESTRUCTIVE: &[Code] = &[
    Code::DropTable,
    Code::DropColumn,
    Code::RenameTable,
    Code::RenameColumn,
    Code::ChangeColumnType,
    Code::SetNotNull,
    Code::AddRequiredColumn,
    Code::DropDefault,
];

/// What the [`DESTRUCTIVE`] rules say about one statement of `ctx`'s upgrade.
pub(crate) fn destructive(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    RULES
        .iter()
        .filter(|r| DESTRUCTIVE.contains(&r.code) && r.dialects.contains(&ctx.dialect()))
        .flat_map(|r| match r.check {
            Check::Statement(check) => check(ctx, stmt),
            Check::Revision(_) => Vec::new(),
        })
        .collect()
}

/// Runs every rule of `ctx`'s dialect.
pub(crate) fn run(ctx: &Ctx<'_>) -> Vec<Hit> {
    let mut hits = Vec::new();
    for rule in RULES.iter().filter(|r| r.dialects.contains(&ctx.dialect())) {
        match rule.check {
            Check::Statement(check) => {
                for stmt in ctx.up {
                    hits.extend(check(ctx, stmt).into_iter().map(|message| Hit {
                        code: rule.code,
                        which: Which::Up,
                        at: At::Statement(stmt.index),
                        message,
                    }));
                }
            }
            Check::Revision(check) => hits.extend(check(ctx)),
        }
    }
    hits
}

/// B900: a statement sqlparser could not read. A SQLite `PRAGMA` (sqlparser reads few of
/// them) only sets the connection: there is nothing in it to check.
fn unparsed(ctx: &Ctx<'_>, stmt: &Stmt) -> Vec<String> {
    if ctx.dialect() == Dialect::Sqlite && stmt.starts_with(&["pragma"]) {
        return Vec::new();
    }
    stmt.error
        .iter()
        .map(|e| format!("not checked: sqlparser could not read this statement ({e})"))
        .collect()
}

/// A revision on one dialect, read, with what rules ask about it.
pub(crate) struct Ctx<'a> {
    pub input: &'a RevisionInput<'a>,
    pub up: &'a [Stmt],
    pub down: &'a DownScript,
    /// Tables the upgrade creates, with the index of the first statement creating each.
    created: HashMap<String, usize>,
    /// The table renames of the upgrade, in order.
    renames: Vec<Rename>,
    /// What each statement of the upgrade does ([`overlap::statements`]), read when a rule
    /// first asks.
    effects: OnceCell<Vec<StatementEffects>>,
}

/// A table rename in the upgrade.
#[derive(Debug)]
struct Rename {
    at: usize,
    from: String,
    to: ObjectName,
}

impl<'a> Ctx<'a> {
    pub fn new(input: &'a RevisionInput<'a>, up: &'a [Stmt], down: &'a DownScript) -> Self {
        let mut created = HashMap::new();
        let mut renames = Vec::new();
        for stmt in up {
            for tree in &stmt.trees {
                if let Statement::CreateTable(t) = tree {
                    created.entry(names::key(&t.name)).or_insert(stmt.index);
                }
                renames.extend(renamed(tree).into_iter().map(|(from, to)| Rename {
                    at: stmt.index,
                    from: names::key(from),
                    to: to.clone(),
                }));
            }
        }
        Ctx {
            input,
            up,
            down,
            created,
            renames,
            effects: OnceCell::new(),
        }
    }

    /// What each statement of the upgrade does, by statement index.
    pub fn effects(&self) -> &[StatementEffects] {
        self.effects
            .get_or_init(|| overlap::read_statements(self.up, self.dialect()))
    }

    pub fn dialect(&self) -> Dialect {
        self.input.dialect
    }

    /// Whether `table` holds data when statement `at` runs: it was not created by an earlier
    /// statement of this upgrade (tables of earlier revisions hold production data).
    pub fn existing(&self, table: &ObjectName, at: usize) -> bool {
        self.existing_key(&names::key(table), at)
    }

    /// [`Ctx::existing`] for a name already made a key.
    pub fn existing_key(&self, table: &str, at: usize) -> bool {
        self.created.get(table).is_none_or(|&i| i >= at)
    }

    /// Whether a statement after `at` renames another table to `table`: dropping it at `at`
    /// is the middle of a rebuild.
    pub fn replaced_after(&self, table: &ObjectName, at: usize) -> bool {
        self.replaced_after_key(&names::key(table), at)
    }

    /// [`Ctx::replaced_after`] for a name already made a key.
    pub fn replaced_after_key(&self, table: &str, at: usize) -> bool {
        self.renames
            .iter()
            .any(|r| r.at > at && names::key(&r.to) == table)
    }

    /// The name a statement after `at` renames `table` to, and that statement's index.
    pub fn renamed_after(&self, table: &ObjectName, at: usize) -> Option<(&ObjectName, usize)> {
        let table = names::key(table);
        self.renames
            .iter()
            .find(|r| r.at > at && r.from == table)
            .map(|r| (&r.to, r.at))
    }

    /// Whether the migration runs one statement at a time, with nothing to roll back a
    /// half-applied run: every MySQL migration, and `transaction = false` elsewhere.
    pub fn statement_by_statement(&self) -> bool {
        self.dialect() == Dialect::Mysql || !self.input.transactional
    }

    /// The statements of the upgrade before `at`.
    pub fn before(&self, at: usize) -> &'a [Stmt] {
        &self.up[..at.min(self.up.len())]
    }
}

/// The table renames of a statement: `(from, to)`.
pub(crate) fn renamed(tree: &Statement) -> Vec<(&ObjectName, &ObjectName)> {
    match tree {
        Statement::RenameTable(renames) => {
            renames.iter().map(|r| (&r.old_name, &r.new_name)).collect()
        }
        Statement::AlterTable(alter) => alter
            .operations
            .iter()
            .filter_map(|op| match op {
                AlterTableOperation::RenameTable {
                    table_name: RenameTableNameKind::To(name) | RenameTableNameKind::As(name),
                } => Some((&alter.name, name)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Test helpers: lint a script on a dialect and list the codes found.
#[cfg(test)]
pub(crate) mod testing {
    use braid_driver::Dialect;

    use crate::code::Code;
    use crate::finding::{Down, Finding, RevisionInput, Source};

    /// Lints `up` (with a matching non-empty downgrade) in a transactional revision.
    pub fn findings(dialect: Dialect, up: &str) -> Vec<Finding> {
        findings_with(dialect, up, Down::Unreadable, true)
    }

    pub fn findings_with(
        dialect: Dialect,
        up: &str,
        down: Down<'_>,
        transactional: bool,
    ) -> Vec<Finding> {
        crate::lint(&RevisionInput {
            revision: "r1",
            dialect,
            transactional,
            up: Source {
                origin: "migrations/r1/up.sql",
                text: up,
            },
            down,
            rendered: false,
            phase: None,
            release: &[],
        })
    }

    /// The active findings of `code` for `up` on `dialect`.
    pub fn fired(code: Code, dialect: Dialect, up: &str) -> Vec<Finding> {
        findings(dialect, up)
            .into_iter()
            .filter(|f| f.code == code && f.is_active())
            .collect()
    }

    /// Asserts `code` fires once on `dialect` for `up` (and its message names `name`), and
    /// not for `near_miss`.
    pub fn fires_once(code: Code, dialect: Dialect, up: &str, name: &str, near_miss: &str) {
        let got = fired(code, dialect, up);
        assert_eq!(got.len(), 1, "{code} on {dialect} for {up:?}: {got:#?}");
        assert!(
            got[0].message.contains(name),
            "{code}: `{name}` not in {:?}",
            got[0].message
        );
        let missed = fired(code, dialect, near_miss);
        assert!(
            missed.is_empty(),
            "{code} on {dialect} for the near miss {near_miss:?}: {missed:#?}"
        );
    }
}
