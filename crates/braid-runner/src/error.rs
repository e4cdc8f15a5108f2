use braid_driver::DriverError;
use braid_graph::{GraphError, PlanError};
use thiserror::Error;

use crate::report::AppliedStep;

/// Why a run stopped. Each variant carries enough structure for the CLI to pick an exit code
/// without parsing messages, and each message names the database and says what to do.
#[derive(Debug, Error)]
pub enum RunError {
    /// Bad configuration (version table name, schema, unknown branch label).
    #[error("{0}")]
    Config(String),

    /// The graph could not be restricted to a database's branches.
    #[error("{0}")]
    Graph(#[from] GraphError),

    /// The database could not be opened (bad URL, unreachable, bad credentials).
    #[error("database `{database}` ({url}): could not connect: {source}")]
    Open {
        database: String,
        /// Redacted.
        url: String,
        source: Box<DriverError>,
    },

    /// The migration lock was not obtained.
    #[error(
        "database `{database}`: could not take the migration lock `{key}`: {source}. Another Braid run \
         is probably migrating this database; wait for it to finish, or raise the lock timeout"
    )]
    Lock {
        database: String,
        key: String,
        source: Box<DriverError>,
    },

    /// The migration lock was held and is not any more (its session ended: an idle timeout, a
    /// network failure): another run may have taken it, so this one stopped.
    #[error(
        "database `{database}`: lost the migration lock `{key}` {during}: another run may have \
         taken it, so this run stopped here{}. Check `braid current -v`, then run again",
        if kept.is_empty() { String::new() } else {
            format!(" ({})", done_before(kept))
        }
    )]
    LockLost {
        database: String,
        key: String,
        /// When it was noticed: "before revision `b`", "before committing revision `b`".
        during: String,
        /// Steps committed before the loss was noticed.
        kept: Vec<AppliedStep>,
    },

    /// The database has revisions the graph does not know.
    #[error(
        "database `{database}` has revision{} {} applied, which {} not in the migrations directory — was a different \
         branch checked out? Pull or check out the branch that added {}",
        plural(revisions.len()),
        list(revisions),
        if revisions.len() == 1 { "is" } else { "are" },
        if revisions.len() == 1 { "it" } else { "them" }
    )]
    UnknownRevisions {
        database: String,
        revisions: Vec<String>,
    },

    /// Applied migrations whose file changed since.
    #[error("database `{database}`: {}", edited_message(edits))]
    Edited {
        database: String,
        edits: Vec<EditedRevision>,
    },

    /// A migration that stopped part-way outside a transaction (every migration on MySQL, whose
    /// DDL commits as it goes; `transaction = false` ones elsewhere), blocking this operation.
    #[error(
        "database `{database}`: revision `{revision}` is partially {} ({done} of {total} statements ran and were not rolled back). {}",
        if *.downgrading { "downgraded" } else { "applied" },
        if *.downgrading {
            format!("Fix down.sql if needed and run `braid downgrade` again to a target below `{revision}`: it resumes at statement {} after checking that statements 1-{done} are unchanged. Or redo those statements by hand and run `braid stamp` to clear the progress", done + 1)
        } else {
            format!("Fix the migration and run `braid upgrade` to a target that includes `{revision}`: it resumes at statement {} after checking that statements 1-{done} are unchanged. Or undo those statements by hand and run `braid stamp` to clear the progress", done + 1)
        }
    )]
    Partial {
        database: String,
        revision: String,
        done: i64,
        total: i64,
        /// The interrupted run was a downgrade (the revision is still recorded as applied).
        downgrading: bool,
    },

    /// The version store was written by a newer Braid.
    #[error(
        "database `{database}`: the version store `{table}` has schema version {found}, but this braid \
         only knows up to {supported} — upgrade braid"
    )]
    NewerStore {
        database: String,
        table: String,
        found: i64,
        supported: i64,
    },

    /// A target could not be resolved or planned.
    #[error("database `{database}`: {source}")]
    Plan { database: String, source: PlanError },

    /// A migration's body could not be read.
    #[error("database `{database}`: cannot read the body of revision `{revision}`: {message}")]
    Body {
        database: String,
        revision: String,
        message: String,
    },

    /// A migration failed. Boxed: it is large and rare.
    #[error("{0}")]
    Step(Box<StepFailure>),

    /// `accept` of a revision that is not applied.
    #[error(
        "database `{database}`: revision `{revision}` is not applied, so there is no checksum to accept"
    )]
    NotApplied { database: String, revision: String },

    /// A version-store statement failed.
    #[error("database `{database}`: {context}: {source}")]
    Driver {
        database: String,
        context: String,
        source: Box<DriverError>,
    },
}

impl RunError {
    /// The database the error is about, when it is about one.
    pub fn database(&self) -> Option<&str> {
        match self {
            RunError::Config(_) | RunError::Graph(_) => None,
            RunError::Open { database, .. }
            | RunError::Lock { database, .. }
            | RunError::LockLost { database, .. }
            | RunError::UnknownRevisions { database, .. }
            | RunError::Edited { database, .. }
            | RunError::Partial { database, .. }
            | RunError::NewerStore { database, .. }
            | RunError::Plan { database, .. }
            | RunError::Body { database, .. }
            | RunError::NotApplied { database, .. }
            | RunError::Driver { database, .. } => Some(database),
            RunError::Step(s) => Some(&s.database),
        }
    }

    /// Steps that were applied and committed before the error.
    pub fn kept_steps(&self) -> &[AppliedStep] {
        match self {
            RunError::Step(s) => &s.kept,
            RunError::LockLost { kept, .. } => kept,
            _ => &[],
        }
    }

    /// What kind of failure this is, for a front end's exit code and for scripts.
    pub fn kind(&self) -> FailureKind {
        use braid_driver::ErrorKind as K;
        match self {
            RunError::Config(_) | RunError::Graph(_) | RunError::NewerStore { .. } => {
                FailureKind::Config
            }
            RunError::Open { source, .. } => match source.kind {
                K::Auth => FailureKind::Auth,
                _ => FailureKind::Connect,
            },
            RunError::Lock { .. } => FailureKind::LockTimeout,
            RunError::LockLost { .. } => FailureKind::LockLost,
            RunError::UnknownRevisions { .. } => FailureKind::UnknownRevisions,
            RunError::Edited { .. } => FailureKind::Edited,
            RunError::Partial { .. } => FailureKind::Partial,
            RunError::Plan { .. } | RunError::NotApplied { .. } => FailureKind::Target,
            RunError::Body { .. } => FailureKind::Body,
            RunError::Step(s) => s.kind(),
            RunError::Driver { source, .. } => match source.kind {
                K::LockLost => FailureKind::LockLost,
                K::Connect => FailureKind::Connect,
                _ => FailureKind::Store,
            },
        }
    }

    pub(crate) fn driver(database: &str, context: impl Into<String>, source: DriverError) -> Self {
        RunError::Driver {
            database: database.to_string(),
            context: context.into(),
            source: Box::new(source),
        }
    }
}

/// What kind of failure stopped a database, for exit codes and scripts (`"kind"` in JSON).
/// [`FailureKind::SEVERITY`] orders them: a front end reporting several failed databases
/// reports the most severe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A setting, a store written by a newer Braid, a graph that cannot be restricted.
    Config,
    /// The database could not be reached (or the URL is unusable, or the database is missing).
    Connect,
    /// The server refused the credentials.
    Auth,
    /// Another run held the migration lock for longer than the timeout.
    LockTimeout,
    /// The migration lock was lost during the run.
    LockLost,
    /// The database has revisions the migrations do not know.
    UnknownRevisions,
    /// An applied migration's file changed since it ran.
    Edited,
    /// A migration stopped part-way outside a transaction: statements of it stay applied.
    Partial,
    /// A migration failed and was rolled back (nothing of it stays).
    Migration,
    /// Whether the last migration took effect is unknown (its COMMIT's answer was lost).
    OutcomeUnknown,
    /// A version-store statement failed.
    Store,
    /// The target or revision named does not resolve here.
    Target,
    /// A migration's body could not be read.
    Body,
}

impl FailureKind {
    /// Most severe first: what leaves the database in a state that needs a person comes first.
    pub const SEVERITY: [FailureKind; 13] = [
        FailureKind::OutcomeUnknown,
        FailureKind::LockLost,
        FailureKind::Partial,
        FailureKind::Store,
        FailureKind::Migration,
        FailureKind::UnknownRevisions,
        FailureKind::Edited,
        FailureKind::Body,
        FailureKind::Target,
        FailureKind::Config,
        FailureKind::LockTimeout,
        FailureKind::Auth,
        FailureKind::Connect,
    ];

    /// The most severe of `kinds`.
    pub fn most_severe(kinds: impl IntoIterator<Item = FailureKind>) -> Option<FailureKind> {
        kinds
            .into_iter()
            .min_by_key(|k| Self::SEVERITY.iter().position(|s| s == k))
    }
}

/// An applied migration whose file no longer matches what was applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EditedRevision {
    pub revision: String,
    pub file: String,
    pub stored: String,
    pub current: String,
}

/// A failed migration step: where, what, and what was kept.
#[derive(Debug, Clone)]
pub struct StepFailure {
    pub database: String,
    pub revision: String,
    pub direction: crate::report::StepDirection,
    /// The file (or origin) of the body that failed.
    pub file: String,
    /// 1-based index of the failing statement and the statement count, when the driver knows.
    pub statement_index: Option<usize>,
    pub statement_total: Option<usize>,
    pub statement: Option<String>,
    /// The server's message (with its code).
    pub message: String,
    pub source: DriverError,
    /// Whether the failing migration ran inside a transaction (and so was rolled back).
    pub transactional: bool,
    /// Steps committed before the failure: they stay applied and recorded.
    pub kept: Vec<AppliedStep>,
    /// Steps that had succeeded in this run but were rolled back with the failing one
    /// (`--transaction all`).
    pub rolled_back: Vec<String>,
    /// For a migration run statement by statement outside a transaction: how many of its
    /// statements ran (and stay applied) before the failing one; the progress is recorded so the
    /// next run resumes there.
    pub statements_done: Option<usize>,
    /// Set when the failure was the COMMIT's answer, lost (the connection broke): whether the
    /// migration took effect is unknown to the server's client. `Some(true)` / `Some(false)`
    /// when the version store, read again, says it is applied / is not; `None` when it could
    /// not be read.
    pub commit_lost: Option<Option<bool>>,
    /// What kind of failure it is: decided where the failure is known, not read back from
    /// its text.
    pub kind: FailureKind,
    /// A batched backfill ([`crate::backfill`]): its committed batches stay, with their
    /// progress, and the next run resumes after them.
    pub backfill: bool,
}

impl StepFailure {
    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The command that goes on from here: the direction it was going.
    fn verb(&self) -> &'static str {
        match self.direction {
            crate::report::StepDirection::Up => "upgrade",
            crate::report::StepDirection::Down => "downgrade",
        }
    }
}

impl std::fmt::Display for StepFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "database `{}`: {} of revision `{}` failed ({})",
            self.database, self.direction, self.revision, self.file
        )?;
        if let Some(stmt) = &self.statement {
            match (self.statement_index, self.statement_total) {
                (Some(i), Some(n)) => write!(f, " at statement {i} of {n}")?,
                (Some(i), None) => write!(f, " at statement {i}")?,
                _ => write!(f, " at statement")?,
            }
            write!(f, ": `{}`", braid_driver::statement_excerpt(stmt))?;
        }
        write!(f, ": {}.", self.message)?;
        if self.source.kind == braid_driver::ErrorKind::Unsupported {
            // Refused before anything ran: the message says so, and what to change.
        } else if let Some(store_says) = self.commit_lost {
            let what = match store_says {
                Some(true) => {
                    "The version store, read again, records it as applied: it took effect."
                }
                Some(false) => {
                    "The version store, read again, does not record it: it did not take effect."
                }
                None => {
                    "Whether it took effect is unknown (the version store could not be read); check with `braid current -v` before running again."
                }
            };
            write!(f, " The answer to its COMMIT was lost. {what}")?;
        } else if self.transactional {
            write!(f, " The migration was rolled back.")?;
        } else if let (Some(done), Some(_), Some(_)) =
            (self.statements_done, &self.statement, self.statement_index)
        {
            // (A refused resume has no failing statement, and a failed progress write's
            // statement is the store's: their messages say it all.)
            let total = self
                .statement_total
                .map(|t| t.to_string())
                .unwrap_or("?".into());
            let verb = self.verb();
            if done == 0 {
                write!(f, " No statement of it had run; nothing to undo.")?;
            } else {
                write!(
                    f,
                    " It ran without a transaction: statement{} 1{} of {total} {} applied and {} not rolled back; the progress is recorded.",
                    plural(done),
                    if done > 1 {
                        format!("-{done}")
                    } else {
                        String::new()
                    },
                    if done == 1 { "is" } else { "are" },
                    if done == 1 { "was" } else { "were" },
                )?;
            }
            write!(
                f,
                " Fix the file and run `braid {verb}` again: it resumes at statement {} after checking that the statements already run are unchanged.",
                done + 1
            )?;
        } else if self.backfill {
            let verb = self.verb();
            write!(
                f,
                " The batches committed before it stay, with their progress: fix the cause and \
                 run `braid {verb}` again to resume after the last of them."
            )?;
        } else if self.statements_done.is_none() && self.kind == FailureKind::Migration {
            write!(
                f,
                " The migration runs without a transaction: statements before the failing one stay \
                 applied and it is not recorded; undo them or finish it by hand, then stamp."
            )?;
        }
        if !self.rolled_back.is_empty() {
            write!(
                f,
                " Rolled back with it (single transaction): {}.",
                list(&self.rolled_back)
            )?;
        }
        if !self.kept.is_empty() {
            let done = done_before(&self.kept);
            write!(f, " {}{}.", done[..1].to_uppercase(), &done[1..])?;
        }
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The most ids a message lists; the rest are counted ("… and 28 more"), so that a run that
/// stopped after hundreds of steps still reports in a line.
const LISTED: usize = 10;

/// `ids` quoted and comma-separated, at most [`LISTED`] of them.
fn list(ids: &[String]) -> String {
    let mut out = ids
        .iter()
        .take(LISTED)
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > LISTED {
        out.push_str(&format!(", … and {} more", ids.len() - LISTED));
    }
    out
}

/// The steps a run committed before it stopped: applied, or undone by a downgrade, and
/// recorded either way.
fn done_before(kept: &[AppliedStep]) -> String {
    let verb = match kept.first().map(|s| s.direction) {
        Some(crate::report::StepDirection::Down) => "undone",
        _ => "applied",
    };
    let ids: Vec<String> = kept.iter().map(|s| s.revision.clone()).collect();
    format!("{verb} and recorded before it: {}", list(&ids))
}

fn edited_message(edits: &[EditedRevision]) -> String {
    let mut out = String::new();
    if edits.len() == 1 {
        out.push_str("an applied migration was edited after it ran: ");
    } else {
        out.push_str(&format!(
            "{} applied migrations were edited after they ran: ",
            edits.len()
        ));
    }
    for (i, e) in edits.iter().enumerate() {
        if i > 0 {
            out.push_str("; ");
        }
        out.push_str(&format!(
            "revision `{}` ({}) was applied with {} but the file is now {}",
            e.revision, e.file, e.stored, e.current
        ));
    }
    if let [only] = edits {
        out.push_str(&format!(
            ". Restore the file, or run `braid accept {}` if the edit is intended.",
            only.revision
        ));
    } else {
        out.push_str(
            ". Restore the files, or run `braid accept REV` for each if the edits are intended.",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::StepDirection;

    fn failed_downgrade(kept: usize) -> StepFailure {
        let source = DriverError::new(braid_driver::ErrorKind::Sql, "boom");
        StepFailure {
            database: "app".into(),
            revision: "r0".into(),
            direction: StepDirection::Down,
            file: "r0/down.sql".into(),
            statement_index: None,
            statement_total: None,
            statement: None,
            message: "boom".into(),
            source,
            transactional: true,
            kept: (1..=kept)
                .rev()
                .map(|i| AppliedStep {
                    revision: format!("r{i}"),
                    direction: StepDirection::Down,
                    ms: 1,
                })
                .collect(),
            rolled_back: Vec::new(),
            statements_done: None,
            commit_lost: None,
            kind: FailureKind::Migration,
            backfill: false,
        }
    }

    #[test]
    fn a_failed_downgrade_says_what_it_undid_before_and_shortens_the_list() {
        let text = failed_downgrade(2).to_string();
        assert!(
            text.ends_with("Undone and recorded before it: `r2`, `r1`."),
            "{text}"
        );
        let text = failed_downgrade(38).to_string();
        assert!(text.ends_with("`r29`, … and 28 more."), "{text}");
        assert!(!text.contains("`r28`"), "{text}");
    }
}
