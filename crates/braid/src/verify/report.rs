//! What `verify` reports: per backend, per revision, which step failed and why.

use std::fmt;
use std::path::PathBuf;

use braid_config::ConfigError;
use braid_driver::{Dialect, Difference, DriverError};
use braid_runner::{FailureKind, Panicked, RunError, WorkerError};
use serde::{Serialize, Serializer};

use super::backends::Backend;
use super::data::{DataFileError, DataMismatch};
use super::merges::MergeReport;
use super::scratch::ScratchError;

/// The outcome of `verify`.
#[derive(Debug, Serialize)]
pub struct VerifyReport {
    /// One per backend verified, in the order of their first database in the config.
    pub backends: Vec<BackendReport>,
    /// Things worth knowing that are not failures (a database `--changed` could not read).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Wall time of the whole run, the backends running concurrently.
    pub ms: u64,
}

impl VerifyReport {
    /// Whether every backend verified every revision it had to, and dropped its scratch
    /// database.
    pub fn passed(&self) -> bool {
        self.backends.iter().all(BackendReport::passed)
    }
}

/// One backend: a scratch database and the revisions walked in it.
#[derive(Debug, Serialize)]
pub struct BackendReport {
    /// The databases it stands for, joined (`app` or `app, app_replica`).
    pub name: String,
    pub databases: Vec<String>,
    pub dialect: Dialect,
    /// The migration set.
    pub set: PathBuf,
    /// The server the scratch database was made on, redacted.
    pub server: String,
    /// The scratch database's name (a file path for SQLite); `None` when none was created.
    pub scratch: Option<String>,
    /// Every revision that had to be checked, in plan order.
    pub revisions: Vec<RevisionReport>,
    /// What stopped the backend outside a revision's checks (no scratch database, a revision
    /// before the range that would not upgrade).
    #[serde(serialize_with = "optional_message")]
    pub error: Option<BackendError>,
    pub cleanup: Cleanup,
    pub ms: u64,
}

impl BackendReport {
    /// Every revision passed, nothing else failed, and the scratch database is gone.
    pub fn passed(&self) -> bool {
        self.error.is_none()
            && !matches!(self.cleanup, Cleanup::Failed { .. })
            && self
                .revisions
                .iter()
                .all(|r| matches!(r.outcome, RevisionOutcome::Passed))
    }

    /// The report of `backend` before anything ran on it.
    pub(super) fn of(backend: &Backend) -> Self {
        BackendReport {
            name: backend.name.clone(),
            databases: backend.databases.clone(),
            dialect: backend.dialect,
            set: backend.dir.clone(),
            server: backend.shown.clone(),
            scratch: None,
            revisions: Vec::new(),
            error: None,
            cleanup: Cleanup::NotCreated,
            ms: 0,
        }
    }
}

/// One revision's result.
#[derive(Debug, Serialize)]
pub struct RevisionReport {
    pub revision: String,
    #[serde(flatten)]
    pub outcome: RevisionOutcome,
    /// Time spent on its checks (a merge revision's orders included).
    pub ms: u64,
    /// A merge revision whose own checks passed: its branches applied in each order and the
    /// schemas compared ([`MergeReport`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeReport>,
}

/// How a revision fared.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RevisionOutcome {
    /// Up, down and up again succeeded, and the schema (and the checked data) came back.
    Passed,
    /// `step` failed, for `failure`.
    Failed { step: VerifyStep, failure: Failure },
    /// An earlier revision failed on this backend, so this one was not checked.
    NotVerified,
}

/// The steps of a revision's check, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyStep {
    /// `verify.sql`'s setup, the snapshot and the check queries before the `up`.
    Setup,
    Up,
    Down,
    /// The schema after the `down` is not the schema before the `up`.
    DownSchema,
    /// A `verify.sql` check query returns other rows after the `down`.
    DownData,
    UpAgain,
    /// The schema after the second `up` is not the schema after the first.
    UpAgainSchema,
    /// A merge revision: its branches give different schemas in different orders (or a
    /// revision of one fails in one order only).
    MergeOrder,
    /// A merge revision: its branches could not be applied in each order to compare them (a
    /// scratch database could not be made, a revision fails in every order).
    MergeCheck,
}

impl fmt::Display for VerifyStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerifyStep::Setup => "setup",
            VerifyStep::Up => "up",
            VerifyStep::Down => "down",
            VerifyStep::DownSchema => "down leaves a different schema",
            VerifyStep::DownData => "down changes the checked data",
            VerifyStep::UpAgain => "up again",
            VerifyStep::UpAgainSchema => "up again differs",
            VerifyStep::MergeOrder => "its branches give different schemas in different orders",
            VerifyStep::MergeCheck => "applying its branches in each order",
        })
    }
}

/// Why a step failed.
#[derive(Debug, Serialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum Failure {
    /// The migration failed (`up`, `down`, `up again`): the runner's error, with its kind.
    Run {
        kind: FailureKind,
        #[serde(serialize_with = "message")]
        error: RunError,
    },
    /// The schema is not what it must be; each difference in words.
    Schema { differences: Vec<Difference> },
    /// A `verify.sql` check query's results changed.
    Data(DataMismatch),
    /// `verify.sql` could not be read.
    DataFile {
        #[serde(serialize_with = "message")]
        error: DataFileError,
    },
    /// The database could not be read (a snapshot, a check query) or a setup statement failed.
    Driver {
        #[serde(serialize_with = "message")]
        error: DriverError,
    },
    /// A merge revision's orders differ or could not be compared: in a sentence (the orders,
    /// their differences and the production order are in [`RevisionReport::merge`]).
    Merge { summary: String },
}

impl Failure {
    pub(super) fn run(error: RunError) -> Self {
        Failure::Run {
            kind: error.kind(),
            error,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Run { error, .. } => write!(f, "{error}"),
            Failure::Schema { differences } => {
                let lines: Vec<String> = differences.iter().map(|d| d.to_string()).collect();
                f.write_str(&lines.join("; "))
            }
            Failure::Data(mismatch) => write!(f, "{mismatch}"),
            Failure::DataFile { error } => write!(f, "{error}"),
            Failure::Driver { error } => write!(f, "{error}"),
            Failure::Merge { summary } => f.write_str(summary),
        }
    }
}

/// What happened to the scratch database at the end.
#[derive(Debug, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Cleanup {
    Dropped,
    /// Nothing to drop: none was created (nothing to verify, or its creation failed).
    NotCreated,
    /// It could not be dropped: it is still there, under the name the report gives.
    Failed {
        #[serde(serialize_with = "message")]
        error: ScratchError,
    },
}

/// What stopped a backend outside a revision's checks.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The server's URL could not be built from the config (`${VAR}`, `password_env`, …).
    #[error("{0}")]
    Config(ConfigError),
    /// The scratch database could not be created.
    #[error(transparent)]
    Scratch(ScratchError),
    /// The scratch database, once created, could not be opened.
    #[error("cannot open the scratch database {scratch}: {source}")]
    Open {
        scratch: String,
        #[source]
        source: DriverError,
    },
    /// The scratch URL reached another database than the scratch one (a parameter of the
    /// configured URL names the database): nothing ran.
    #[error(
        "the scratch connection reached database `{connected}`, not the scratch database \
         `{scratch}`: a parameter of the configured URL names the database (such as `dbname=`); \
         nothing was run — remove it from the URL to verify"
    )]
    NotScratch { scratch: String, connected: String },
    /// The version store could not be created in the scratch database.
    #[error("cannot create the version store in the scratch database: {0}")]
    Store(#[source] RunError),
    /// A revision before the ones checked would not upgrade, so they could not be reached.
    #[error("upgrading `{revision}` (before the revisions checked) failed: {source}")]
    Upgrade {
        revision: String,
        #[source]
        source: RunError,
    },
    /// A revision of a merge's branches failed in the order being applied.
    #[error("applying `{revision}` failed: {source}")]
    Apply {
        revision: String,
        #[source]
        source: RunError,
    },
    /// A configured database (`generate --autogenerate --db NAME`) could not be opened.
    #[error("cannot open database `{database}`: {source}")]
    OpenLive {
        database: String,
        #[source]
        source: DriverError,
    },
    /// The schema could not be read.
    #[error("cannot read the schema: {source}")]
    Introspect {
        #[source]
        source: DriverError,
    },
    /// The migrations could not be replayed from base on the scratch database.
    #[error(
        "replaying the migrations from base on the scratch database failed: {source} (`braid \
         verify` finds the revision and the step)"
    )]
    Replay {
        #[source]
        source: RunError,
    },
    /// A statement sea-orm wrote for the entities failed on the scratch database.
    #[error(
        "the entities' statement failed on the scratch database: {source}\n  {statement}\n\
         (sea-orm renders it from the entity: give the column a `column_type` this backend \
         accepts, or compare without this database)"
    )]
    Models {
        statement: String,
        #[source]
        source: DriverError,
    },
    /// A panic while walking the revisions.
    #[error(transparent)]
    Panicked(Panicked),
    #[error(transparent)]
    Worker(WorkerError),
}

/// `value` as its message.
fn message<T: fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

pub(crate) fn optional_message<T: fmt::Display, S: Serializer>(
    value: &Option<T>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}
