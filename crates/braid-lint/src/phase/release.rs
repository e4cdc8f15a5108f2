//! B111: a contract revision removes what an expand revision of its release left reading.
//!
//! The expand step of a release often leaves an object behind that keeps the old and the new
//! schema in step while both releases run: a trigger copying the old column into its
//! replacement, a view under the old name, an index or a check on the old column. The contract
//! step removes the old column or table; if that object still exists then, the migration fails
//! (SQLite refuses to drop a column a trigger, view or index names; Postgres a column a view
//! reads) or every later write fails when the trigger fires.
//!
//! The expand revisions are replayed in order, keeping the objects their statements define and
//! what each reads ([`crate::overlap::Dependency`]); an object dropped, or redefined, by a later
//! statement is forgotten, and so is one on a dropped table. Then each statement of the
//! contract revision is checked against what is left: a one-off data statement (a backfill's
//! `UPDATE`) reads once and leaves nothing.

use crate::code::Code;
use crate::overlap::{Action, EVERY_COLUMN, Effect, Object, ObjectKind, Reads, StatementEffects};
use crate::rules::{At, Ctx, Hit, Which};

/// B111, for a contract revision whose release `ctx.input.release` holds.
pub(crate) fn removed_while_read(ctx: &Ctx<'_>) -> Vec<Hit> {
    let release = ctx.input.release;
    if release.is_empty() {
        return Vec::new();
    }
    let mut left = Left::default();
    for expand in release {
        for statement in expand.statements {
            left.forget_removed(statement);
            left.forget_redefined(statement);
            left.keep(statement, expand.revision);
        }
    }
    let mut hits = Vec::new();
    for (at, statement) in ctx.effects().iter().enumerate() {
        left.forget_removed(statement);
        for effect in &statement.effects {
            if !removes_data(ctx, at, effect) {
                continue;
            }
            let readers = left.readers(&effect.object);
            let dialect = ctx.input.dialect;
            let left_reading = readers.filter(|r| !goes_with_column(dialect, r, &effect.object));
            hits.extend(left_reading.map(|object| Hit {
                code: Code::RemovedWhileRead,
                which: Which::Up,
                at: At::Statement(at),
                message: message(effect, object),
            }));
        }
        left.forget_redefined(statement);
    }
    hits
}

/// Whether `effect`, of statement `at`, drops or renames a column or a relation that holds
/// data: not a table the same script rebuilds under its name (a SQLite table rebuild drops
/// the old table, then renames the new one to its name).
fn removes_data(ctx: &Ctx<'_>, at: usize, effect: &Effect) -> bool {
    let object = &effect.object;
    let removal = matches!(effect.action, Action::Drop | Action::Rename { .. });
    let data = object.kind == ObjectKind::Column || object.is_relation();
    let rebuilt = object.is_relation()
        && effect.action == Action::Drop
        && ctx.replaced_after_key(&object.name, at);
    removal && data && !rebuilt
}

/// Whether dropping the column `removed` takes `reader` with it on `dialect`, so nothing is
/// left reading it: Postgres drops the indexes and the constraints of the table that involve
/// the column, MySQL/MariaDB take the column out of its indexes. SQLite refuses to drop a
/// column any of them names, and views, triggers and routines break everywhere.
fn goes_with_column(dialect: braid_driver::Dialect, reader: &Reader<'_>, removed: &Object) -> bool {
    use braid_driver::Dialect;
    let same_table = removed.kind == ObjectKind::Column && reader.on == removed.table;
    match (dialect, reader.object.kind) {
        (Dialect::Postgres, ObjectKind::Index | ObjectKind::Constraint) => same_table,
        (Dialect::Mysql, ObjectKind::Index) => same_table,
        _ => false,
    }
}

/// One object an expand revision defined and that still exists, and what it reads.
#[derive(Debug)]
struct Reader<'a> {
    object: Object,
    /// The table it is defined on.
    on: Option<String>,
    reads: Vec<&'a Reads>,
    revision: &'a str,
}

/// The objects the expand revisions left, so far.
#[derive(Debug, Default)]
struct Left<'a> {
    readers: Vec<Reader<'a>>,
}

impl<'a> Left<'a> {
    /// Forgets what `statement` drops, and what is on a table it drops.
    fn forget_removed(&mut self, statement: &StatementEffects) {
        for effect in &statement.effects {
            if effect.action != Action::Drop {
                continue;
            }
            let gone = &effect.object;
            self.readers.retain(|r| {
                let on_gone = gone.is_relation() && r.on.as_deref() == Some(gone.name.as_str());
                !(r.object.same(gone) || on_gone)
            });
        }
    }

    /// Forgets what `statement` defines again (`CREATE OR REPLACE`): its new definition is
    /// kept, or judged, on its own.
    fn forget_redefined(&mut self, statement: &StatementEffects) {
        for effect in &statement.effects {
            if effect.action == Action::Create {
                self.readers.retain(|r| !r.object.same(&effect.object));
            }
        }
    }

    /// Keeps the objects `statement` defines, with what each reads.
    fn keep(&mut self, statement: &'a StatementEffects, revision: &'a str) {
        let start = self.readers.len();
        for dependency in &statement.dependencies {
            let mine = self.readers[start..]
                .iter_mut()
                .find(|r| r.object == dependency.dependent);
            match mine {
                Some(reader) => reader.reads.push(&dependency.reads),
                None => self.readers.push(Reader {
                    object: dependency.dependent.clone(),
                    on: dependency.on.clone(),
                    reads: vec![&dependency.reads],
                    revision,
                }),
            }
        }
    }

    /// The objects left that read `removed`. What is defined on a removed table goes, or is
    /// renamed, with it.
    fn readers<'s>(&'s self, removed: &'s Object) -> impl Iterator<Item = &'s Reader<'a>> + 's {
        self.readers.iter().filter(move |r| {
            let on_removed =
                removed.is_relation() && r.on.as_deref() == Some(removed.name.as_str());
            !on_removed
                && r.reads
                    .iter()
                    .any(|read| reads(read, removed) || self.through_routine(read, removed))
        })
    }

    /// Whether `read` is a routine left that reads `removed`: a trigger reads what the
    /// routine it executes reads, and must go before the routine can.
    fn through_routine(&self, read: &Reads, removed: &Object) -> bool {
        let Reads::Object(routine) = read else {
            return false;
        };
        routine.kind == ObjectKind::Routine
            && self
                .readers
                .iter()
                .any(|r| r.object.same(routine) && r.reads.iter().any(|read| reads(read, removed)))
    }
}

/// Whether `read` reads `removed`, a column or a relation.
fn reads(read: &Reads, removed: &Object) -> bool {
    match read {
        Reads::Word(word) => *word == removed.name,
        Reads::Object(object) if removed.kind == ObjectKind::Column => {
            object.kind == ObjectKind::Column
                && object.table == removed.table
                && (object.name == removed.name || object.name == EVERY_COLUMN)
        }
        Reads::Object(object) => {
            object.same(removed)
                || (object.kind == ObjectKind::Column
                    && object.table.as_deref() == Some(removed.name.as_str()))
        }
    }
}

/// ``drops column `plans.price_cents`, which trigger `tg` created by expand revision `r1` still
/// reads: …``
fn message(effect: &Effect, reader: &Reader<'_>) -> String {
    let removal = match &effect.action {
        Action::Rename { to } => format!("renames {} to `{to}`", effect.object.described()),
        _ => format!("drops {}", effect.object.described()),
    };
    format!(
        "{removal}, which {} created by expand revision `{}` still reads: drop the {} first, \
         in this revision or an earlier one",
        reader.object.described(),
        reader.revision,
        reader.object.kind
    )
}
