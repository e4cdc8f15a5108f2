//! `lint`: every revision of the project's migration sets, on every dialect the databases using
//! each set run, through the rules of `braid-lint`. Connects to nothing.
//!
//! A revision is linted once per dialect because its SQL can differ per dialect
//! (`up.postgres.sql`) and so do the risks: the same `CREATE INDEX` locks writes on Postgres
//! and is harmless on SQLite. A Rust revision is linted as the SQL it renders for the dialect,
//! when this binary compiled it in; otherwise it is reported as not linted, and the rest goes
//! on.
//!
//! Deploy phases ([`crate::phase`]) take part: each revision is linted with the phase it
//! declares, and a contract revision (declared or inferred) with the expand revisions of its
//! release — its ancestors reachable without passing through another contract revision —
//! read on the same dialect, so that removing a column an expand revision's trigger still
//! reads is found (B111). The rules are `braid_lint::phase`'s; this module finds the release
//! in the graph and reads its SQL.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use braid_driver::Dialect;
use braid_graph::{Direction, Graph, Phase, Revision};
use braid_lint::overlap::StatementEffects;
use braid_lint::phase::ExpandRevision;
use braid_runner::Bodies;
use serde::Serialize;

use crate::phase::ProjectPhases;
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
        let phases = self.phases();
        let mut report = LintReport::default();
        for target in self.lint_targets(&request.databases)? {
            let graph = self.graph(&target.dir)?;
            let revisions = revisions_in(&graph, request.range.as_deref())?;
            let mut read = Releases::default();
            for rev in &revisions {
                let release = release_of(&graph, rev, &phases);
                for &dialect in &target.dialects {
                    read.load(self, &bodies, &release, dialect);
                    let expands = read.expands(&release, dialect);
                    report
                        .findings
                        .extend(self.lint_revision(&bodies, rev, dialect, &expands));
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

    /// One revision on one dialect: its bodies read (or rendered) and linted, with the expand
    /// revisions of its release when it is a contract.
    fn lint_revision(
        &self,
        bodies: &dyn Bodies,
        rev: &Revision,
        dialect: Dialect,
        release: &[ExpandRevision<'_>],
    ) -> Vec<Finding> {
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
            phase: rev.phase,
            release,
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

/// The expand revisions of `rev`'s release, oldest first, when `rev` is a contract (declared
/// or inferred); otherwise none. They are its ancestors, through parents and dependencies,
/// reachable without passing through another contract revision. A revision whose phase cannot
/// be told (a Rust revision this binary did not compile in) is passed through as an expand
/// one: what it does is unknown, so it adds nothing, and its own lint says it was not read.
fn release_of<'g>(
    graph: &'g Graph,
    rev: &'g Revision,
    phases: &ProjectPhases<'_>,
) -> Vec<&'g Revision> {
    let contract = |r: &Revision| phases.of(r).is_ok_and(|of| of.phase == Phase::Contract);
    if !contract(rev) {
        return Vec::new();
    }
    let mut seen: HashSet<&str> = HashSet::new();
    let mut release: HashSet<&str> = HashSet::new();
    let mut next: Vec<&str> = requires(rev).collect();
    while let Some(id) = next.pop() {
        let Some(found) = graph.get(id).or_else(|| graph.lookup(id).ok()) else {
            continue;
        };
        if !seen.insert(found.id.as_str()) || contract(found) {
            continue;
        }
        release.insert(found.id.as_str());
        next.extend(requires(found));
    }
    graph
        .in_order()
        .filter(|r| release.contains(r.id.as_str()))
        .collect()
}

/// What `rev` needs applied first: its parents and dependencies.
fn requires(rev: &Revision) -> impl Iterator<Item = &str> + '_ {
    rev.parents
        .iter()
        .chain(&rev.depends_on)
        .map(String::as_str)
}

/// The upgrades of expand revisions, read statement by statement on each dialect, each once:
/// several contract revisions may share a release.
#[derive(Default)]
struct Releases {
    read: HashMap<(String, Dialect), Vec<StatementEffects>>,
}

impl Releases {
    /// Reads the revisions of `release` on `dialect` not read yet. A body that cannot be read
    /// or rendered reads as nothing: its own lint reports it.
    fn load(
        &mut self,
        project: &Project,
        bodies: &dyn Bodies,
        release: &[&Revision],
        dialect: Dialect,
    ) {
        for rev in release {
            self.read
                .entry((rev.id.clone(), dialect))
                .or_insert_with(|| {
                    project
                        .body(bodies, rev, Direction::Up, dialect)
                        .map(|body| braid_lint::overlap::statements(&body.text, dialect))
                        .unwrap_or_default()
                });
        }
    }

    /// The revisions of `release`, as read on `dialect` by [`Releases::load`].
    fn expands<'a>(
        &'a self,
        release: &[&'a Revision],
        dialect: Dialect,
    ) -> Vec<ExpandRevision<'a>> {
        release
            .iter()
            .filter_map(|rev| {
                let statements = self.read.get(&(rev.id.clone(), dialect))?;
                Some(ExpandRevision {
                    revision: &rev.id,
                    statements,
                })
            })
            .collect()
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::testing::{project, revision};

    /// Three databases on one set: SQLite, MySQL, Postgres. `lint` connects to none.
    const THREE_DIALECTS: &str = r#"
[default]
migrations = "migrations"

[default.databases.app]
url = "sqlite://.braid/app.db"

[default.databases.my]
url = "mysql://root@127.0.0.1:3306/app"

[default.databases.pg]
url = "postgres://postgres@127.0.0.1:5432/app"
"#;

    /// The worked example: `plans.price_cents` moves to `price_minor`. `e1` adds the column and
    /// a trigger per dialect that keeps it in step, `e2` backfills it in batches, `c1` (given)
    /// drops the old column. `drops_triggers` says whether `c1` drops the triggers first.
    fn price_migration(root: &Path, drops_triggers: bool, c1_phase: &str) -> Project {
        std::fs::create_dir_all(root.join("config")).unwrap();
        std::fs::write(root.join("config/braid.toml"), THREE_DIALECTS).unwrap();
        let dir = root.join("migrations");
        let add = "ALTER TABLE plans ADD COLUMN price_minor BIGINT NOT NULL DEFAULT 0;\n";
        revision(
            &dir,
            "e0_plans",
            &[],
            "",
            &[
                (
                    "up.sql",
                    "CREATE TABLE plans (id BIGINT PRIMARY KEY, price_cents BIGINT NOT NULL);",
                ),
                ("down.sql", "DROP TABLE plans;"),
            ],
        );
        revision(
            &dir,
            "e1_sync",
            &["e0_plans"],
            "phase = \"expand\"\n",
            &[
                (
                    "up.postgres.sql",
                    &format!(
                        "{add}CREATE FUNCTION plans_sync_price() RETURNS trigger AS $$\n\
                         BEGIN\n  NEW.price_minor := NEW.price_cents;\n  RETURN NEW;\nEND;\n\
                         $$ LANGUAGE plpgsql;\n\
                         CREATE TRIGGER plans_sync_price BEFORE INSERT OR UPDATE ON plans\n  \
                         FOR EACH ROW EXECUTE FUNCTION plans_sync_price();\n"
                    ),
                ),
                (
                    "up.mysql.sql",
                    &format!(
                        "{add}CREATE TRIGGER plans_sync_price BEFORE INSERT ON plans\n  \
                         FOR EACH ROW SET NEW.price_minor = NEW.price_cents;\n"
                    ),
                ),
                (
                    "up.sqlite.sql",
                    &format!(
                        "{add}CREATE TRIGGER plans_sync_price AFTER INSERT ON plans BEGIN\n  \
                         UPDATE plans SET price_minor = NEW.price_cents WHERE id = NEW.id;\n\
                         END;\n"
                    ),
                ),
                ("down.sql", "SELECT 1;"),
            ],
        );
        revision(
            &dir,
            "e2_backfill",
            &["e1_sync"],
            "",
            &[
                (
                    "up.sql",
                    "-- braid:backfill key=id batch=500\n\
                     UPDATE plans SET price_minor = price_cents WHERE price_minor <> price_cents;\n",
                ),
                ("down.sql", "SELECT 1;"),
            ],
        );
        let drop_column = "ALTER TABLE plans DROP COLUMN price_cents;\n";
        let (postgres, other) = match drops_triggers {
            true => (
                format!(
                    "DROP TRIGGER plans_sync_price ON plans;\nDROP FUNCTION plans_sync_price();\n\
                     {drop_column}"
                ),
                format!("DROP TRIGGER plans_sync_price;\n{drop_column}"),
            ),
            false => (drop_column.to_string(), drop_column.to_string()),
        };
        revision(
            &dir,
            "c1_drop",
            &["e2_backfill"],
            c1_phase,
            &[
                ("up.postgres.sql", &postgres),
                ("up.sql", &other),
                ("down.sql", "SELECT 1;"),
            ],
        );
        project(root)
    }

    fn active(report: &LintReport, code: Code) -> Vec<&Finding> {
        report
            .findings
            .iter()
            .filter(|f| f.code == code && f.is_active())
            .collect()
    }

    #[test]
    fn the_worked_example_reads_expand_expand_contract() {
        let tmp = tempfile::tempdir().unwrap();
        let project = price_migration(tmp.path(), true, "");
        let graph = project.graph(&tmp.path().join("migrations")).unwrap();
        let phases = project.phases();
        let phase = |id: &str| phases.of(graph.get(id).unwrap()).unwrap().phase;
        assert_eq!(
            ["e1_sync", "e2_backfill", "c1_drop"].map(phase),
            [Phase::Expand, Phase::Expand, Phase::Contract]
        );
        let release: Vec<&str> = release_of(&graph, graph.get("c1_drop").unwrap(), &phases)
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        // e0 is expand too: nothing before it is a contract.
        assert_eq!(release, ["e0_plans", "e1_sync", "e2_backfill"]);
        assert!(release_of(&graph, graph.get("e2_backfill").unwrap(), &phases).is_empty());
    }

    #[test]
    fn a_contract_dropping_a_column_a_trigger_still_reads_is_found_on_every_dialect() {
        let tmp = tempfile::tempdir().unwrap();
        let project = price_migration(tmp.path(), false, "phase = \"contract\"\n");
        let report = project.lint(&LintRequest::default()).unwrap();
        let found = active(&report, Code::RemovedWhileRead);
        let dialects: Vec<Dialect> = found
            .iter()
            .filter(|f| f.message.contains("trigger `plans_sync_price`"))
            .map(|f| f.dialect)
            .collect();
        assert_eq!(
            dialects,
            [Dialect::Sqlite, Dialect::Mysql, Dialect::Postgres],
            "{found:#?}"
        );
        for finding in &found {
            assert_eq!(finding.revision, "c1_drop");
            assert_eq!(finding.line, Some(1));
            assert!(finding.message.contains("expand revision `e1_sync`"));
        }
        let postgres = found
            .iter()
            .find(|f| f.dialect == Dialect::Postgres)
            .unwrap();
        assert_eq!(
            Path::new(&postgres.file),
            Path::new("migrations/c1_drop/up.postgres.sql")
        );
        // The drop itself is what a declared contract is for.
        let drops: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.code == Code::DropColumn)
            .collect();
        assert_eq!(drops.len(), 3);
        assert!(drops.iter().all(|f| !f.is_active()));
        assert!(report.errors() >= 3);
    }

    #[test]
    fn a_contract_dropping_the_trigger_first_passes() {
        let tmp = tempfile::tempdir().unwrap();
        let project = price_migration(tmp.path(), true, "phase = \"contract\"\n");
        let report = project.lint(&LintRequest::default()).unwrap();
        assert!(
            active(&report, Code::RemovedWhileRead).is_empty(),
            "{:#?}",
            report.findings
        );
        assert!(active(&report, Code::DestructiveInExpand).is_empty());
        assert_eq!(report.errors(), 0, "{:#?}", report.findings);
    }

    #[test]
    fn an_inferred_contract_is_checked_too_and_its_drop_counts() {
        let tmp = tempfile::tempdir().unwrap();
        let project = price_migration(tmp.path(), false, "");
        let request = LintRequest {
            databases: vec!["app".into()],
            range: Some("c1_drop".into()),
        };
        let report = project.lint(&request).unwrap();
        assert_eq!(active(&report, Code::RemovedWhileRead).len(), 1);
        assert_eq!(active(&report, Code::DropColumn).len(), 1);
    }

    #[test]
    fn a_declared_expand_revision_that_drops_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let project = price_migration(tmp.path(), true, "phase = \"expand\"\n");
        let report = project.lint(&LintRequest::default()).unwrap();
        let found = active(&report, Code::DestructiveInExpand);
        // On each dialect: the trigger (and on Postgres the function) and the column.
        assert_eq!(found.len(), 7, "{found:#?}");
        assert!(found.iter().all(|f| f.revision == "c1_drop"));
        // Not a contract, so no release to check.
        assert!(active(&report, Code::RemovedWhileRead).is_empty());
    }
}
