//! Each revision's deploy phase: declared in `revision.toml`, or inferred from what its
//! statements do on every dialect (`braid_lint::phase`).
//!
//! A revision has one phase on every backend, so an undeclared one is inferred over every
//! script it runs: on each dialect, the `up.<dialect>.sql` override or else the generic
//! `up.sql` (a Rust revision: the SQL it renders for the dialect). It is a contract when any of
//! them is destructive. Only the upgrade counts: it is what `upgrade --phase` runs. A generic
//! file run by several dialects is read with the first one's grammar, and with the next ones'
//! only while a statement is left unread: a statement is destructive when a reading says so,
//! and unread only when no dialect's grammar reads it (so MySQL syntax in a MySQL project's
//! `up.sql` is not reported as unread because the Postgres grammar refuses it).
//!
//! [`ProjectPhases`] answers for the runner ([`braid_runner::Phases`]) and for `lint` and
//! `show`. Inferring reads and parses files, so each revision is inferred once and remembered;
//! the cache is behind a lock because concurrent databases share one resolver.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use braid_driver::Dialect;
use braid_graph::{Direction, Phase, Revision};
use braid_runner::BodyError;
use serde::Serialize;

use crate::Project;
use crate::lint::LintBody;
use crate::rust::ProjectBodies;

/// A revision's phase, and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseOf {
    pub phase: Phase,
    /// Declared in `revision.toml`; `false` when inferred.
    pub declared: bool,
    /// For an inferred contract: the destructive statements, in file and line order.
    pub reasons: Vec<PhaseReason>,
    /// For an inferred phase: the statements whose effects are unknown. They make nothing
    /// contract; one may hide a removal, and declaring the phase settles it.
    pub unparsed: Vec<PhaseUnread>,
}

/// A destructive statement that makes a revision a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseReason {
    /// The file (or Rust revision), relative to the project root when under it.
    pub file: String,
    /// The 1-based line of the statement (of the rendered SQL, for a Rust revision).
    pub line: usize,
    /// The statement, shortened to one line.
    pub statement: String,
    /// What it removes or changes: ``drops column `plans.price_cents` ``.
    pub reason: String,
    /// The dialects on which the statement runs and reads so.
    pub dialects: Vec<Dialect>,
}

/// A statement inference could not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PhaseUnread {
    pub file: String,
    pub line: usize,
    pub statement: String,
    pub reason: String,
}

/// Why a revision's phase could not be told: a body that could not be read or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot tell the deploy phase of revision `{revision}`: {file}: {reason}; declare it with \
     `phase = \"expand\"` or `phase = \"contract\"` in its revision.toml"
)]
pub struct PhaseError {
    pub revision: String,
    pub file: String,
    pub reason: String,
}

impl From<PhaseError> for BodyError {
    fn from(e: PhaseError) -> Self {
        BodyError {
            message: e.to_string(),
        }
    }
}

/// Inferred phases, by revision id and `revision.toml` (two migration sets may reuse an id).
type Cache = HashMap<(String, Option<PathBuf>), Result<PhaseOf, PhaseError>>;

/// Says each revision's phase for one project; see the module docs. Cheap to build.
pub struct ProjectPhases<'p> {
    project: &'p Project,
    bodies: ProjectBodies<'p>,
    inferred: Mutex<Cache>,
}

impl std::fmt::Debug for ProjectPhases<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectPhases").finish_non_exhaustive()
    }
}

impl Project {
    /// The phases of this project's revisions (see [`crate::phase`]): for
    /// `upgrade --phase`, `lint` and `show`.
    pub fn phases(&self) -> ProjectPhases<'_> {
        ProjectPhases {
            project: self,
            bodies: self.rust().bodies(),
            inferred: Mutex::new(HashMap::new()),
        }
    }
}

impl ProjectPhases<'_> {
    /// The phase of `rev`: the one it declares, else the one its upgrade reads as on every
    /// dialect.
    pub fn of(&self, rev: &Revision) -> Result<PhaseOf, PhaseError> {
        if let Some(phase) = rev.phase {
            return Ok(PhaseOf {
                phase,
                declared: true,
                reasons: Vec::new(),
                unparsed: Vec::new(),
            });
        }
        let key = (rev.id.clone(), rev.origin.clone());
        if let Some(known) = self.cache().get(&key) {
            return known.clone();
        }
        let inferred = self.infer(rev);
        self.cache().insert(key, inferred.clone());
        inferred
    }

    /// The phase `rev`'s statements give, whatever it declares: `check --phase expand` holds a
    /// revision declared `expand` to it.
    pub fn inferred(&self, rev: &Revision) -> Result<PhaseOf, PhaseError> {
        let undeclared = Revision {
            phase: None,
            ..rev.clone()
        };
        self.of(&undeclared)
    }

    /// The cache, even after a panic elsewhere poisoned its lock: it holds finished answers
    /// only.
    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.inferred.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Infers the phase of `rev` from every script its upgrade runs.
    fn infer(&self, rev: &Revision) -> Result<PhaseOf, PhaseError> {
        let mut of = PhaseOf {
            phase: Phase::Expand,
            declared: false,
            reasons: Vec::new(),
            unparsed: Vec::new(),
        };
        for (body, dialects) in self.scripts(rev)? {
            let read = Script::infer(&body, &dialects);
            if !read.reasons.is_empty() {
                of.phase = Phase::Contract;
            }
            of.reasons.extend(read.reasons);
            of.unparsed.extend(read.unparsed);
        }
        Ok(of)
    }

    /// Each distinct script `rev` runs upgrading, with the dialects that run it.
    fn scripts(&self, rev: &Revision) -> Result<Vec<(LintBody, Vec<Dialect>)>, PhaseError> {
        let mut scripts: Vec<(LintBody, Vec<Dialect>)> = Vec::new();
        for dialect in Dialect::ALL {
            let body = self
                .project
                .body(&self.bodies, rev, Direction::Up, dialect)
                .map_err(|unavailable| PhaseError {
                    revision: rev.id.clone(),
                    file: unavailable.file,
                    reason: unavailable.reason,
                })?;
            let same = scripts
                .iter_mut()
                .find(|(b, _)| b.origin == body.origin && b.text == body.text);
            match same {
                Some((_, dialects)) => dialects.push(dialect),
                None => scripts.push((body, vec![dialect])),
            }
        }
        Ok(scripts)
    }
}

impl braid_runner::Phases for ProjectPhases<'_> {
    fn phase(&self, rev: &Revision) -> Result<Phase, BodyError> {
        Ok(self.of(rev)?.phase)
    }
}

/// What one script reads as on the dialects that run it.
struct Script {
    reasons: Vec<PhaseReason>,
    unparsed: Vec<PhaseUnread>,
}

impl Script {
    /// Reads `body` with the grammar of each of `dialects` in turn, until one reads every
    /// statement: the dialects left would read it alike, and parsing is most of the cost. A
    /// statement is destructive when a reading says so, and unread when none reads it.
    fn infer(body: &LintBody, dialects: &[Dialect]) -> Script {
        let mut reasons: Vec<PhaseReason> = Vec::new();
        let mut unread: Option<Vec<PhaseUnread>> = None;
        for (i, &dialect) in dialects.iter().enumerate() {
            let inferred = braid_lint::phase::infer(&body.text, dialect);
            let read_all = inferred.unparsed.is_empty();
            for reason in inferred.reasons {
                let same = reasons
                    .iter_mut()
                    .find(|r| r.line == reason.line && r.reason == reason.reason);
                match same {
                    Some(r) => r.dialects.push(dialect),
                    None => reasons.push(PhaseReason {
                        file: body.origin.clone(),
                        line: reason.line,
                        statement: reason.statement,
                        reason: reason.reason,
                        dialects: vec![dialect],
                    }),
                }
            }
            let here: Vec<PhaseUnread> = inferred
                .unparsed
                .into_iter()
                .map(|u| PhaseUnread {
                    file: body.origin.clone(),
                    line: u.line,
                    statement: u.statement,
                    reason: u.reason,
                })
                .collect();
            unread = Some(match unread {
                None => here,
                Some(before) => before
                    .into_iter()
                    .filter(|u| here.iter().any(|h| h.line == u.line))
                    .collect(),
            });
            if read_all {
                let rest = dialects.get(i + 1..).unwrap_or_default();
                for reason in &mut reasons {
                    reason.dialects.extend_from_slice(rest);
                }
                break;
            }
        }
        reasons.sort_by_key(|r| r.line);
        Script {
            reasons,
            unparsed: unread.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use braid_runner::Phases;

    use super::*;
    use crate::testing::{project as open, revision};

    /// The phase of revision `id` of `root`'s default set.
    fn phase_of(project: &Project, phases: &ProjectPhases<'_>, id: &str) -> PhaseOf {
        let graph = project.graph(&project.root().join("migrations")).unwrap();
        phases.of(graph.get(id).unwrap()).unwrap()
    }

    #[test]
    fn a_declared_phase_is_taken_and_an_undeclared_one_inferred_over_every_dialect() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("migrations");
        let down = ("down.sql", "SELECT 1;");
        revision(
            &dir,
            "r1",
            &[],
            "phase = \"contract\"\n",
            &[("up.sql", "CREATE TABLE plans (id INT);"), down],
        );
        // Additive on SQLite and Postgres, destructive on MySQL only.
        revision(
            &dir,
            "r2",
            &["r1"],
            "",
            &[
                ("up.sql", "ALTER TABLE plans ADD COLUMN name TEXT;"),
                (
                    "up.mysql.sql",
                    "ALTER TABLE plans ADD COLUMN name TEXT;\nALTER TABLE plans DROP COLUMN legacy;",
                ),
                down,
            ],
        );
        revision(
            &dir,
            "r3",
            &["r2"],
            "",
            &[
                ("up.sql", "CREATE INDEX ix_plans_name ON plans (name);"),
                down,
            ],
        );
        let project = open(tmp.path());
        let phases = project.phases();
        let declared = phase_of(&project, &phases, "r1");
        assert_eq!((declared.phase, declared.declared), (Phase::Contract, true));
        let r2 = phase_of(&project, &phases, "r2");
        assert_eq!((r2.phase, r2.declared), (Phase::Contract, false));
        assert_eq!(r2.reasons.len(), 1, "{:#?}", r2.reasons);
        let reason = &r2.reasons[0];
        assert_eq!(
            Path::new(&reason.file),
            Path::new("migrations/r2/up.mysql.sql")
        );
        assert_eq!(reason.line, 2);
        assert_eq!(reason.reason, "drops column `plans.legacy`");
        assert_eq!(reason.dialects, [Dialect::Mysql]);
        let r3 = phase_of(&project, &phases, "r3");
        assert_eq!((r3.phase, r3.declared), (Phase::Expand, false));
        assert!(r3.reasons.is_empty() && r3.unparsed.is_empty());
        let json = serde_json::to_value(&r2).unwrap();
        assert_eq!(json["phase"], "contract");
        assert_eq!(json["reasons"][0]["dialects"][0], "mysql");
    }

    #[test]
    fn a_generic_file_is_unread_only_where_no_grammar_reads_it() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("migrations");
        revision(
            &dir,
            "r1",
            &[],
            "",
            &[
                (
                    "up.sql",
                    "CREATE FUNCTION touch() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ \
                     LANGUAGE plpgsql;\nNOT SQL AT ALL;",
                ),
                ("down.sql", "SELECT 1;"),
            ],
        );
        // MySQL's grammar does not read the Postgres function; Postgres's does.
        let text = std::fs::read_to_string(dir.join("r1/up.sql")).unwrap();
        let mysql = braid_lint::phase::infer(&text, Dialect::Mysql);
        assert!(mysql.unparsed.iter().any(|u| u.line == 1), "{mysql:#?}");
        let project = open(tmp.path());
        let got = phase_of(&project, &project.phases(), "r1");
        assert_eq!(got.phase, Phase::Expand);
        let lines: Vec<usize> = got.unparsed.iter().map(|u| u.line).collect();
        assert_eq!(lines, [2], "{:#?}", got.unparsed);
    }

    #[test]
    fn an_inferred_phase_is_remembered_and_an_unreadable_body_is_an_error_for_the_runner() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("migrations");
        revision(
            &dir,
            "r1",
            &[],
            "",
            &[("up.sql", "CREATE TABLE t (id INT);"), ("down.sql", "")],
        );
        revision(&dir, "r2_rust", &["r1"], "rust = \"migration.rs\"\n", &[]);
        std::fs::write(dir.join("r2_rust/migration.rs"), "// a Rust migration\n").unwrap();
        let project = open(tmp.path());
        let graph = project.graph(&dir).unwrap();
        let phases = project.phases();
        let r1 = graph.get("r1").unwrap();
        assert_eq!(Phases::phase(&phases, r1), Ok(Phase::Expand));
        // Asked again, the answer is the one read the first time.
        std::fs::write(dir.join("r1/up.sql"), "DROP TABLE t;").unwrap();
        assert_eq!(Phases::phase(&phases, r1), Ok(Phase::Expand));
        assert_eq!(Phases::phase(&project.phases(), r1), Ok(Phase::Contract));
        let rust = graph.get("r2_rust").unwrap();
        let error = Phases::phase(&phases, rust).unwrap_err();
        assert!(
            error.message.contains("revision `r2_rust`")
                && error.message.contains("migration.rs")
                && error.message.contains("phase = \"expand\""),
            "{}",
            error.message
        );
    }

    #[test]
    fn the_resolver_can_be_shared_by_concurrent_databases() {
        fn shared<T: Send + Sync>() {}
        shared::<ProjectPhases<'_>>();
    }
}
