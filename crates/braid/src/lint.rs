//! `lint`: every revision of the project's migration sets, on every dialect the databases using
//! each set run, through the rules of `braid-lint`. Connects to nothing.
//!
//! A revision is linted once per dialect because its SQL can differ per dialect
//! (`up.postgres.sql`) and so do the risks: the same `CREATE INDEX` locks writes on Postgres
//! and is harmless on SQLite. A Rust revision is linted as the SQL it renders for the dialect,
//! when this binary compiled it in; otherwise it is reported as not linted, and the rest goes
//! on.

use std::path::{Path, PathBuf};

use braid_driver::Dialect;
use braid_graph::{Direction, Graph, Revision};
use braid_runner::Bodies;
use serde::Serialize;

use crate::{Error, Project};

pub use braid_lint::{Code, Finding, Severity};

/// What to lint.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LintRequest {
    /// Database names; empty for every configured database. Their migration sets are linted,
    /// on their dialects.
    pub databases: Vec<String>,
    /// `FROM:TO` (the revisions an upgrade from FROM to TO would run; FROM empty for base, TO
    /// empty for heads) or one revision; `None` for every revision.
    pub range: Option<String>,
}

/// What `lint` found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LintReport {
    /// Every finding, suppressed ones included, by set, revision (oldest first), dialect, file
    /// and line.
    pub findings: Vec<Finding>,
    /// How many revisions were linted (each on one or more dialects).
    pub revisions: usize,
    pub sets: Vec<LintedSet>,
}

/// One migration set as it was linted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintedSet {
    pub dir: PathBuf,
    pub dialects: Vec<Dialect>,
    pub revisions: usize,
}

impl LintReport {
    /// Errors that are not suppressed: what fails a CI run.
    pub fn errors(&self) -> usize {
        self.active(Severity::Error)
    }

    /// Warnings that are not suppressed.
    pub fn warnings(&self) -> usize {
        self.active(Severity::Warning)
    }

    /// Findings accepted with a `braid:allow` comment.
    pub fn suppressed(&self) -> usize {
        self.findings.iter().filter(|f| !f.is_active()).count()
    }

    /// The most severe finding that is not suppressed.
    pub fn worst(&self) -> Option<Severity> {
        self.findings
            .iter()
            .filter(|f| f.is_active())
            .map(|f| f.severity)
            .min()
    }

    fn active(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.is_active() && f.severity == severity)
            .count()
    }
}

/// A migration set and the dialects it is linted on.
pub(crate) struct Target {
    pub(crate) dir: PathBuf,
    pub(crate) dialects: Vec<Dialect>,
}

impl Project {
    /// Lints the revisions of `request` in every migration set the databases named use (every
    /// set when none is named), on each of their dialects. Without a config, the project's
    /// default set on SQLite, the dialect of the default database.
    pub fn lint(&self, request: &LintRequest) -> Result<LintReport, Error> {
        let bodies = self.rust().bodies();
        let mut report = LintReport::default();
        for target in self.lint_targets(&request.databases)? {
            let graph = self.graph(&target.dir)?;
            let revisions = revisions_in(&graph, request.range.as_deref())?;
            for rev in &revisions {
                for &dialect in &target.dialects {
                    report
                        .findings
                        .extend(self.lint_revision(&bodies, rev, dialect));
                }
            }
            report.revisions += revisions.len();
            report.sets.push(LintedSet {
                dir: target.dir,
                dialects: target.dialects,
                revisions: revisions.len(),
            });
        }
        Ok(report)
    }

    /// Each set the databases use, with their dialects, deduplicated in config order.
    pub(crate) fn lint_targets(&self, databases: &[String]) -> Result<Vec<Target>, Error> {
        let Some(config) = self.config_if_any() else {
            if !databases.is_empty() {
                // Naming a database needs a config: let `representatives` say so.
                self.representatives(databases)?;
            }
            return Ok(vec![self.default_target()?]);
        };
        let mut targets: Vec<Target> = Vec::new();
        for db in self.representatives(databases)? {
            let dir = self.dir_of(&db);
            let dialect = crate::drivers::dialect_of(config, &db.config)?;
            match targets.iter_mut().find(|t| t.dir == dir) {
                Some(t) if !t.dialects.contains(&dialect) => t.dialects.push(dialect),
                Some(_) => {}
                None => targets.push(Target {
                    dir,
                    dialects: vec![dialect],
                }),
            }
        }
        if targets.is_empty() {
            targets.push(self.default_target()?);
        }
        Ok(targets)
    }

    fn default_target(&self) -> Result<Target, Error> {
        Ok(Target {
            dir: self.set_dir(&[])?,
            dialects: vec![Dialect::Sqlite],
        })
    }

    /// One revision on one dialect: its bodies read (or rendered) and linted.
    fn lint_revision(&self, bodies: &dyn Bodies, rev: &Revision, dialect: Dialect) -> Vec<Finding> {
        let up = match self.body(bodies, rev, Direction::Up, dialect) {
            Ok(up) => up,
            Err(unavailable) => return vec![unavailable.finding(rev, dialect)],
        };
        let mut findings = Vec::new();
        let down = match self.body(bodies, rev, Direction::Down, dialect) {
            Ok(down) => Some(down),
            Err(unavailable) => {
                findings.push(unavailable.finding(rev, dialect));
                None
            }
        };
        let input = braid_lint::RevisionInput {
            revision: &rev.id,
            dialect,
            transactional: rev.transactional,
            up: up.source(),
            down: match &down {
                Some(down) => braid_lint::Down::Script(down.source()),
                None => braid_lint::Down::Unreadable,
            },
            rendered: up.rendered,
        };
        let mut linted = braid_lint::lint(&input);
        linted.append(&mut findings);
        linted
    }

    /// The SQL `rev` runs in `direction` on `dialect`: its file, or what its Rust body renders.
    pub(crate) fn body(
        &self,
        bodies: &dyn Bodies,
        rev: &Revision,
        direction: Direction,
        dialect: Dialect,
    ) -> Result<LintBody, Unavailable> {
        let script = bodies
            .script(rev, direction, dialect)
            .map_err(|e| Unavailable {
                file: self.shown(&rev.describe_origin()),
                reason: e.message,
            })?;
        let origin = self.shown(&script.origin);
        let text = script
            .offline_sql(dialect, direction)
            .map_err(|e| Unavailable {
                file: origin.clone(),
                reason: e.message,
            })?;
        Ok(LintBody {
            origin,
            text,
            rendered: script.code.is_some(),
        })
    }

    /// A path as findings show it: relative to the project root when under it.
    fn shown(&self, path: &str) -> String {
        Path::new(path)
            .strip_prefix(self.root())
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| path.to_string())
    }
}

/// A body ready to lint.
pub(crate) struct LintBody {
    pub(crate) origin: String,
    pub(crate) text: String,
    /// Rendered from a Rust revision.
    rendered: bool,
}

impl LintBody {
    fn source(&self) -> braid_lint::Source<'_> {
        braid_lint::Source {
            origin: &self.origin,
            text: &self.text,
        }
    }
}

/// A body that could not be read or rendered, and why.
pub(crate) struct Unavailable {
    pub(crate) file: String,
    pub(crate) reason: String,
}

impl Unavailable {
    fn finding(&self, rev: &Revision, dialect: Dialect) -> Finding {
        braid_lint::body_unavailable(&rev.id, dialect, &self.file, &self.reason)
    }
}

/// The revisions of `range` in `graph`, oldest first: all of them, the ones an upgrade
/// `FROM:TO` runs, or the one named.
fn revisions_in<'g>(graph: &'g Graph, range: Option<&str>) -> Result<Vec<&'g Revision>, Error> {
    let Some(range) = range else {
        return Ok(graph.in_order().collect());
    };
    if !range.contains(':') {
        return Ok(vec![graph.lookup(range)?]);
    }
    let (from, to) = braid_runner::parse_range(range);
    let to = if to.is_empty() { "heads" } else { to };
    let applied = braid_runner::applied_from(graph, from)?;
    let plan = graph.plan_upgrade(&applied, to)?;
    Ok(plan.steps.into_iter().map(|step| step.revision).collect())
}
