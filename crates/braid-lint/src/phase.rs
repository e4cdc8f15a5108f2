//! Deploy phases: whether a script is *expand* or *contract*, and the rules that hold a
//! revision to its phase.
//!
//! A zero-downtime deploy runs the expand revisions, deploys the release that uses the new
//! schema, then runs the contract revisions. A revision declares its phase in `revision.toml`
//! or leaves it to be inferred from its statements ([`infer`]):
//!
//! - **contract** when a statement is destructive: what the release still running cannot live
//!   with. That is what the backward-compatibility rules report (B101 dropping a table, B102 a
//!   column, B103/B104 renaming one, B105 a type change, B106 NOT NULL, B108 a NOT NULL column
//!   without a default, B109 dropping a default), and dropping or renaming anything else: an
//!   index, a constraint, a view, a trigger, a routine, a sequence, or any object a `DROP`
//!   names;
//! - **expand** otherwise: new tables, columns with a default or nullable, indexes, views,
//!   triggers, routines, constraints, and data statements (`INSERT`, `UPDATE`, `DELETE`).
//!
//! What the same script created before is no removal (a scratch table, a helper index), nor is
//! dropping a view, trigger, routine, index or constraint the script creates again after it
//! (how MySQL replaces a trigger). A statement the parser cannot read makes nothing contract:
//! [`Inferred::unparsed`] lists it, so a person can declare the phase. MySQL's `MODIFY` and
//! `CHANGE` restate a column without saying what it was: they read as a type change (contract),
//! and a revision that only widens a column says `phase = "expand"`.
//!
//! Two rules of [`crate::lint`] use phases:
//! - B110: a revision declaring `phase = "expand"` must have no destructive statement;
//! - B111: a contract revision (declared or inferred) must not drop or rename a column or table
//!   that an object created by an expand revision of its release still reads (see
//!   [`RevisionInput::release`]). The release of a contract revision is its ancestors reachable
//!   without passing through another contract revision: the facade finds them in the graph.
//!
//! In a revision declaring `phase = "contract"`, the drops and renames of B101–B104 are what it
//! is for: they are reported suppressed, with that reason.

mod release;

use braid_driver::Dialect;
use braid_graph::Phase;
use serde::Serialize;
use sqlparser::ast::{ObjectType, Statement};
use sqlparser::tokenizer::Token;

use crate::code::Code;
use crate::finding::{Down, RevisionInput, Source, excerpt};
use crate::overlap::{Action, ObjectKind, StatementEffects, UnreadStatement};
use crate::parse::{self, Stmt};
use crate::rules::{self, At, Ctx, DownScript, Hit, Which};

pub(crate) use release::removed_while_read;

/// The phase a script reads as, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inferred {
    /// Contract when any statement is destructive, else expand.
    pub phase: Phase,
    /// The destructive statements, in script order; empty for an expand script.
    pub reasons: Vec<Reason>,
    /// The statements whose effects are unknown (the parser could not read them, or they run
    /// code the text does not show): they make nothing contract, and may hide something that
    /// is.
    pub unparsed: Vec<UnreadStatement>,
}

/// One destructive statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The 1-based line of the script where the statement starts.
    pub line: usize,
    /// The statement, shortened to one line.
    pub statement: String,
    /// What it removes or changes: ``drops column `plans.price_cents` ``.
    pub reason: String,
}

/// An expand revision of a contract revision's release, read on the dialect being linted.
#[derive(Debug, Clone, Copy)]
pub struct ExpandRevision<'a> {
    pub revision: &'a str,
    /// What its upgrade does, statement by statement ([`crate::overlap::statements`]).
    pub statements: &'a [StatementEffects],
}

/// The phase `script` reads as on `dialect` (see the module docs). Never panics, whatever the
/// text.
pub fn infer(script: &str, dialect: Dialect) -> Inferred {
    let up = parse::read(script, dialect);
    let input = RevisionInput {
        revision: "",
        dialect,
        transactional: true,
        up: Source {
            origin: "",
            text: script,
        },
        down: Down::Absent,
        rendered: false,
        phase: None,
        release: &[],
    };
    let down = DownScript::Absent;
    let ctx = Ctx::new(&input, &up, &down);
    let reasons: Vec<Reason> = destructive(&ctx)
        .into_iter()
        .filter_map(|(at, reason)| {
            up.get(at).map(|stmt| Reason {
                line: stmt.line,
                statement: excerpt(&stmt.text),
                reason,
            })
        })
        .collect();
    let unparsed = ctx
        .effects()
        .iter()
        .filter_map(|s| s.unread.clone())
        .collect();
    Inferred {
        phase: match reasons.is_empty() {
            true => Phase::Expand,
            false => Phase::Contract,
        },
        reasons,
        unparsed,
    }
}

/// The destructive statements of `ctx`'s upgrade: each statement's index and what it removes
/// or changes, in script order.
pub(crate) fn destructive(ctx: &Ctx<'_>) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for stmt in ctx.up {
        let mut found = rules::destructive(ctx, stmt);
        found.extend(removes(ctx, stmt.index));
        found.extend(unread_removal(stmt));
        out.extend(found.into_iter().map(|reason| (stmt.index, reason)));
    }
    out
}

/// B110: a destructive statement in a revision that declares `phase = "expand"`.
pub(crate) fn destructive_in_expand(ctx: &Ctx<'_>) -> Vec<Hit> {
    if ctx.input.phase != Some(Phase::Expand) {
        return Vec::new();
    }
    destructive(ctx)
        .into_iter()
        .map(|(at, reason)| Hit {
            code: Code::DestructiveInExpand,
            which: Which::Up,
            at: At::Statement(at),
            message: format!("{reason} in a revision that declares `phase = \"expand\"`"),
        })
        .collect()
}

/// Objects that a script may drop and create again to redefine them: the name is back before
/// the script ends, and nothing held data.
const REDEFINABLE: &[ObjectKind] = &[
    ObjectKind::View,
    ObjectKind::Index,
    ObjectKind::Constraint,
    ObjectKind::Routine,
    ObjectKind::Trigger,
];

/// The drops and renames of statement `at` that the backward-compatibility rules do not name
/// (those are of tables and columns): views, sequences, indexes, constraints, routines,
/// triggers.
fn removes(ctx: &Ctx<'_>, at: usize) -> Vec<String> {
    let all = ctx.effects();
    let Some(here) = all.get(at) else {
        return Vec::new();
    };
    let (before, after) = (&all[..at], all.get(at + 1..).unwrap_or_default());
    let creates = |statements: &[StatementEffects], object| {
        statements
            .iter()
            .flat_map(|s| &s.effects)
            .any(|e| e.creates(object))
    };
    let mut out = Vec::new();
    for effect in &here.effects {
        let object = &effect.object;
        let on_new_table = object
            .table
            .as_deref()
            .is_some_and(|table| !ctx.existing_key(table, at));
        if matches!(object.kind, ObjectKind::Table | ObjectKind::Column)
            || on_new_table
            || creates(before, object)
        {
            continue;
        }
        match &effect.action {
            Action::Drop if REDEFINABLE.contains(&object.kind) && creates(after, object) => {}
            Action::Drop => out.push(format!("drops {}", object.described())),
            Action::Rename { to } => {
                out.push(format!("renames {} to `{to}`", object.described()));
            }
            _ => {}
        }
    }
    out
}

/// A `DROP` of an object the effects do not read (a type, a schema, an extension, a domain, a
/// policy…), or an `ALTER … RENAME` of one: destructive, named by the statement's words.
fn unread_removal(stmt: &Stmt) -> Option<String> {
    if stmt.trees.is_empty() || stmt.trees.iter().all(removal_is_read) {
        return None;
    }
    let verb = if stmt.starts_with(&["drop"]) {
        "drops"
    } else if stmt.starts_with(&["alter"]) && stmt.has_word("rename") {
        "renames"
    } else {
        return None;
    };
    let mut words = stmt
        .tokens
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) => Some(w.value.as_str()),
            _ => None,
        })
        .skip(1)
        .filter(|w| !w.eq_ignore_ascii_case("if") && !w.eq_ignore_ascii_case("exists"));
    let kind = words.next().unwrap_or_default().to_lowercase();
    match words.next() {
        Some(name) => Some(format!("{verb} {kind} `{name}`")),
        None => Some(format!("{verb} a {kind}")),
    }
}

/// Whether the drops and renames of `tree` are read as effects (and so judged by
/// [`removes`] or the backward-compatibility rules).
fn removal_is_read(tree: &Statement) -> bool {
    matches!(
        tree,
        Statement::Drop {
            object_type: ObjectType::Table
                | ObjectType::View
                | ObjectType::MaterializedView
                | ObjectType::Sequence
                | ObjectType::Index,
            ..
        } | Statement::DropFunction(_)
            | Statement::DropProcedure { .. }
            | Statement::DropTrigger(_)
            | Statement::AlterTable(_)
            | Statement::AlterIndex { .. }
            | Statement::AlterView(_)
            | Statement::RenameTable(_)
    )
}

#[cfg(test)]
mod tests;
