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

    /// Steps that were applied and committed before the error (only a failed step has any).
    pub fn kept_steps(&self) -> &[AppliedStep] {
        match self {
            RunError::Step(s) => &s.kept,
            _ => &[],
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
            write!(f, ": `{}`", stmt.trim())?;
        }
        write!(f, ": {}.", self.message)?;
        if self.transactional {
            write!(f, " The migration was rolled back.")?;
        } else if let (Some(done), Some(_)) = (self.statements_done, &self.statement) {
            // (A refused resume has no failing statement: its message says it all.)
            let total = self
                .statement_total
                .map(|t| t.to_string())
                .unwrap_or("?".into());
            let verb = match self.direction {
                crate::report::StepDirection::Up => "upgrade",
                crate::report::StepDirection::Down => "downgrade",
            };
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
        } else if self.statements_done.is_none() {
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
            let kept: Vec<String> = self.kept.iter().map(|s| s.revision.clone()).collect();
            write!(f, " Applied and recorded before it: {}.", list(&kept))?;
        }
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn list(ids: &[String]) -> String {
    ids.iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
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
