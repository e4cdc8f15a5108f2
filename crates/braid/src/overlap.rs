//! `merge` and `check`: what the branches being joined both touch.
//!
//! Branches of the graph are written apart and run, once joined, in an order neither author
//! chose. Before they are joined, every revision each branch adds since their common ancestors
//! is read on each dialect the set's databases use (the SQL file, or the SQL a Rust revision
//! renders, as `lint` reads them), and `braid-lint`'s overlap rules
//! ([`braid_lint::overlap`]) say where the branches meet: the same column added twice, a column
//! one renames and the other indexes, a table both alter. The rules live there; this module
//! finds the sides in the graph and the SQL of their revisions. Connects to nothing.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use braid_driver::Dialect;
use braid_graph::{Direction, Graph, Revision};
use braid_lint::overlap as rules;
use braid_runner::Bodies;
use serde::Serialize;

use crate::{Error, Project};

pub use braid_lint::overlap::{
    Action, Effect, Effects, Object, ObjectKind, Overlap, OverlapKind, UnreadStatement,
};

/// What the branches to be joined both touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverlapReport {
    /// The migration set read.
    pub dir: PathBuf,
    /// The dialects its revisions were read on.
    pub dialects: Vec<Dialect>,
    /// The newest revisions every side has (their common ancestors' heads), in graph order;
    /// empty when the sides share nothing.
    pub base: Vec<String>,
    /// Each revision to be joined, with the revisions only it (of all sides) brings.
    pub sides: Vec<Side>,
    /// Where two sides meet, pair of sides by pair of sides, conflicts of a pair first. `left`
    /// and `right` are the revisions of the pair's earlier and later side in [`Self::sides`];
    /// an overlap two pairs find alike is listed once.
    pub overlaps: Vec<Overlap>,
    /// What could not be read: a body that could not be read or rendered, a statement the
    /// parser could not read. Never a reason to refuse; a reason to look.
    pub not_analysed: Vec<NotAnalysed>,
}

/// One branch to be joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    /// The revision the branch ends at.
    pub head: String,
    /// Its revisions since the common ancestors, oldest first.
    pub revisions: Vec<String>,
}

/// A revision's upgrade, or one statement of it, that the analysis could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotAnalysed {
    pub revision: String,
    pub dialect: Dialect,
    /// The file (or Rust revision) it is in, relative to the project root when under it.
    pub file: String,
    /// The statement's first line; `None` when the whole body could not be read.
    pub line: Option<usize>,
    /// The statement, shortened to one line; `None` when the whole body could not be read.
    pub statement: Option<String>,
    pub reason: String,
}

impl OverlapReport {
    /// Whether any overlap refuses the merge.
    pub fn conflicting(&self) -> bool {
        self.overlaps.iter().any(|o| o.conflicting)
    }

    /// The overlaps that refuse the merge.
    pub fn conflicts(&self) -> impl Iterator<Item = &Overlap> + '_ {
        self.overlaps.iter().filter(|o| o.conflicting)
    }
}

impl Project {
    /// What the branches ending at `heads` both touch, in the migration set of `databases`
    /// (see [`Project::set_dir`]). `heads` are targets naming one revision each, as `merge`
    /// takes them; `heads` (the word), or an empty list, stands for every real head. Fewer
    /// than two sides give a report with no overlaps.
    pub fn overlaps(&self, databases: &[String], heads: &[String]) -> Result<OverlapReport, Error> {
        let dir = self.set_dir(databases)?;
        let graph = self.graph(&dir)?;
        self.overlaps_in(&dir, &graph, databases, heads)
    }

    /// [`Project::overlaps`] in the set `dir`, whose graph is `graph`, on the dialects of the
    /// databases among `databases` (every configured one when empty) that use it.
    pub(crate) fn overlaps_in(
        &self,
        dir: &Path,
        graph: &Graph,
        databases: &[String],
        heads: &[String],
    ) -> Result<OverlapReport, Error> {
        let dialects = self.dialects_of(databases, dir)?;
        let lines: Vec<Line<'_>> = resolve_heads(graph, heads)?
            .into_iter()
            .map(|head| Line::of(graph, head))
            .collect();
        let common = common(&lines);
        let read = self.read_sides(graph, &lines, &common, &dialects);
        let overlaps = every_pair(graph, &lines, &read, dialects.len());
        Ok(OverlapReport {
            base: base(graph, &common),
            sides: lines
                .iter()
                .map(|line| Side {
                    head: line.head.id.clone(),
                    revisions: own(graph, line, &common),
                })
                .collect(),
            overlaps,
            not_analysed: read.not_analysed,
            dir: dir.to_path_buf(),
            dialects,
        })
    }

    /// The dialects the databases using `dir` run (SQLite when none can be told). A database
    /// whose dialect cannot be told (an unset `${VAR}` in its URL, a plugin that does not
    /// load) is left out: the analysis reads files only, and that database's own commands
    /// report what is wrong with it.
    fn dialects_of(&self, databases: &[String], dir: &Path) -> Result<Vec<Dialect>, Error> {
        let mut dialects = Vec::new();
        if let Some(config) = self.config_if_any() {
            for db in self.representatives(databases)? {
                if self.dir_of(&db) != dir {
                    continue;
                }
                if let Ok(dialect) = crate::drivers::dialect_of(config, &db.config)
                    && !dialects.contains(&dialect)
                {
                    dialects.push(dialect);
                }
            }
        }
        if dialects.is_empty() {
            dialects.push(Dialect::Sqlite);
        }
        Ok(dialects)
    }

    /// The effects of every revision some side brings, on each dialect.
    fn read_sides(
        &self,
        graph: &Graph,
        lines: &[Line<'_>],
        common: &HashSet<&str>,
        dialects: &[Dialect],
    ) -> Read {
        let bodies = self.rust().bodies();
        let mut read = Read::default();
        let on_a_side = graph
            .in_order()
            .filter(|rev| !common.contains(rev.id.as_str()))
            .filter(|rev| lines.iter().any(|line| line.has(rev)));
        for rev in on_a_side {
            let per_dialect = dialects
                .iter()
                .map(|&dialect| self.effects_of(&bodies, rev, dialect, &mut read.not_analysed))
                .collect();
            read.effects.push((rev.id.clone(), per_dialect));
        }
        read
    }

    /// What `rev`'s upgrade does on `dialect`; what could not be read goes to `not_analysed`.
    fn effects_of(
        &self,
        bodies: &dyn Bodies,
        rev: &Revision,
        dialect: Dialect,
        not_analysed: &mut Vec<NotAnalysed>,
    ) -> Effects {
        let body = match self.body(bodies, rev, Direction::Up, dialect) {
            Ok(body) => body,
            Err(unavailable) => {
                not_analysed.push(NotAnalysed {
                    revision: rev.id.clone(),
                    dialect,
                    file: unavailable.file,
                    line: None,
                    statement: None,
                    reason: unavailable.reason,
                });
                return Effects::default();
            }
        };
        let effects = rules::effects(&body.text, dialect);
        not_analysed.extend(effects.not_analysed.iter().map(|unread| NotAnalysed {
            revision: rev.id.clone(),
            dialect,
            file: body.origin.clone(),
            line: Some(unread.line),
            statement: Some(unread.statement.clone()),
            reason: unread.reason.clone(),
        }));
        effects
    }
}

/// A side: its head and every revision it has (the head and its ancestors).
struct Line<'g> {
    head: &'g Revision,
    revisions: HashSet<&'g str>,
}

impl<'g> Line<'g> {
    fn of(graph: &'g Graph, head: &'g Revision) -> Line<'g> {
        let mut revisions: HashSet<&str> = graph
            .ancestors(&head.id)
            .into_iter()
            .map(|rev| rev.id.as_str())
            .collect();
        revisions.insert(head.id.as_str());
        Line { head, revisions }
    }

    fn has(&self, rev: &Revision) -> bool {
        self.revisions.contains(rev.id.as_str())
    }
}

/// The effects of the revisions read, by revision, one [`Effects`] per dialect.
#[derive(Default)]
struct Read {
    effects: Vec<(String, Vec<Effects>)>,
    not_analysed: Vec<NotAnalysed>,
}

impl Read {
    /// The revisions of `ids`, with their effects on the dialect at `dialect`.
    fn side(&self, ids: &HashSet<&str>, dialect: usize) -> Vec<(String, Effects)> {
        self.effects
            .iter()
            .filter(|(id, _)| ids.contains(id.as_str()))
            .map(|(id, per)| (id.clone(), per.get(dialect).cloned().unwrap_or_default()))
            .collect()
    }
}

/// The overlaps of every pair of sides, each listed once: sides sharing revisions find the
/// same overlap with a third side.
fn every_pair(graph: &Graph, lines: &[Line<'_>], read: &Read, dialects: usize) -> Vec<Overlap> {
    let mut overlaps = Vec::new();
    for (i, left) in lines.iter().enumerate() {
        for right in &lines[i + 1..] {
            for overlap in pair(graph, left, right, read, dialects) {
                if !overlaps.contains(&overlap) {
                    overlaps.push(overlap);
                }
            }
        }
    }
    overlaps
}

/// The overlaps of two sides: each with the revisions it has and the other has not, compared
/// on every dialect.
fn pair(
    graph: &Graph,
    left: &Line<'_>,
    right: &Line<'_>,
    read: &Read,
    dialects: usize,
) -> Vec<Overlap> {
    let only = |a: &Line<'_>, b: &Line<'_>| -> HashSet<&str> {
        graph
            .in_order()
            .filter(|rev| a.has(rev) && !b.has(rev))
            .map(|rev| rev.id.as_str())
            .collect()
    };
    let (left_only, right_only) = (only(left, right), only(right, left));
    rules::combine(
        (0..dialects)
            .map(|d| rules::overlaps(&read.side(&left_only, d), &read.side(&right_only, d))),
    )
}

/// The revisions every side has.
fn common<'g>(lines: &[Line<'g>]) -> HashSet<&'g str> {
    let Some((first, rest)) = lines.split_first() else {
        return HashSet::new();
    };
    first
        .revisions
        .iter()
        .copied()
        .filter(|id| rest.iter().all(|line| line.revisions.contains(id)))
        .collect()
}

/// The newest of the common revisions: those without a child among them.
fn base(graph: &Graph, common: &HashSet<&str>) -> Vec<String> {
    graph
        .in_order()
        .filter(|rev| common.contains(rev.id.as_str()))
        .filter(|rev| {
            graph
                .children(&rev.id)
                .iter()
                .all(|child| !common.contains(child.id.as_str()))
        })
        .map(|rev| rev.id.clone())
        .collect()
}

/// The revisions of `line` no other side has all of: not common, oldest first.
fn own(graph: &Graph, line: &Line<'_>, common: &HashSet<&str>) -> Vec<String> {
    graph
        .in_order()
        .filter(|rev| line.has(rev) && !common.contains(rev.id.as_str()))
        .map(|rev| rev.id.clone())
        .collect()
}

/// The revisions `references` name, as `merge` resolves them; nothing stands for every real
/// head.
fn resolve_heads<'g>(graph: &'g Graph, references: &[String]) -> Result<Vec<&'g Revision>, Error> {
    match references.is_empty() {
        true => crate::authoring::merged_revisions(graph, &["heads".to_string()]),
        false => crate::authoring::merged_revisions(graph, references),
    }
}
