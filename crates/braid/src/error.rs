//! The facade's error: one enum over every layer's typed error, plus the rules that live here.
//!
//! Messages that suggest a command write it as `` `braid <command>` `` (the standalone binary);
//! a front end with another invocation (`cargo xtask migrate`) names its own when it prints
//! them — see [`crate::COMMAND`].

use std::path::PathBuf;

use braid_config::ConfigError;
use braid_driver::DriverError;
use braid_graph::{GraphError, PlanError};
use braid_runner::RunError;
use braid_source::SourceError;

/// Anything a facade call can fail with. Each variant keeps the typed error of the layer that
/// raised it, so a front end can choose an exit code without reading messages.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Authoring(#[from] crate::authoring::AuthoringError),
    #[error(transparent)]
    Init(#[from] crate::init::InitError),
    #[error(transparent)]
    Driver(#[from] DriverError),
    /// Boxed: the graph error an import can carry is large, and every `Result` pays for it.
    #[error(transparent)]
    Import(Box<crate::import::ImportFailure>),

    /// A tenant set's tenants could not be listed, or a tenant named is not listed.
    #[error(transparent)]
    Tenants(Box<crate::tenants::TenantsError>),

    /// Autogenerate or `check --models` could not compare (no entities, a bad rename, a
    /// backend whose schemas could not be made).
    #[error(transparent)]
    Models(Box<crate::models::ModelsError>),

    /// A run record that cannot be read.
    #[error(transparent)]
    Record(Box<crate::runs::RecordError>),

    /// A file-system error, with the path it happened on.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A command that needs databases, in a project with no config file.
    #[error(
        "no config file at {}: database commands need one (`braid init` writes one with an \
         embedded SQLite database), or pass --config PATH",
        file.display()
    )]
    NoConfig { file: PathBuf },

    /// A graph command in a project whose databases use several migration sets.
    #[error(
        "this project has {} migration sets; choose one with --db NAME: {}",
        sets.len(),
        sets.iter()
            .map(|s| format!("{} ({})", s.dir.display(), s.databases.join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    )]
    SeveralSets { sets: Vec<crate::SetInfo> },

    /// Several `--db` for a graph command, naming different sets.
    #[error(
        "the databases named ({}) use different migration sets; name one database (or databases \
         sharing one set) for this command",
        databases.join(", ")
    )]
    MixedSets { databases: Vec<String> },

    /// A target naming revisions only some migration sets have, with no database named.
    #[error(
        "`{target}` names revisions of the migration set of {} only, not of {}: name the \
         databases it is for with --db",
        known.join(", "),
        unknown.join(", ")
    )]
    TargetInSomeSets {
        target: String,
        known: Vec<String>,
        unknown: Vec<String>,
    },

    /// Offline SQL asked for something that cannot be rendered without a database.
    #[error("{0}")]
    Offline(OfflineError),

    /// `verify` could not start (a range that does not resolve, a `--url` no database uses).
    #[error(transparent)]
    Verify(Box<crate::verify::VerifyError>),

    /// `rebase` refused (a revision to move is applied somewhere, a database cannot be read,
    /// the heads are not two branches of one history).
    #[error(transparent)]
    Rebase(Box<crate::rebase::RebaseError>),

    /// A driver plugin could not be loaded.
    #[cfg(feature = "plugins")]
    #[error(transparent)]
    Plugin(#[from] braid_plugin::PluginError),

    /// The config names a plugin, but this binary cannot load plugins.
    #[error(
        "driver plugin {}: this binary was built without plugin support (braid's `plugins` \
         feature)",
        path.display()
    )]
    NoPlugins { path: PathBuf },
}

/// Why an offline script cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfflineError {
    #[error(
        "offline SQL needs a dialect (postgres, mysql or sqlite) when no config names a database"
    )]
    NoDialect,
    #[error("stamp with offline SQL takes one starting point: every FROM: prefix must be the same")]
    SeveralStarts,
    #[error(
        "downgrade with offline SQL needs a range FROM:TO (nothing is read from a database), \
         e.g. `braid downgrade heads:{target} --sql`"
    )]
    DowngradeNeedsRange { target: String },
    #[error("--purge cannot be used with offline SQL: offline there is no table to empty")]
    Purge,
    #[error("unknown dialect: {0}")]
    Dialect(String),
}

impl From<crate::verify::VerifyError> for Error {
    fn from(e: crate::verify::VerifyError) -> Self {
        Error::Verify(Box::new(e))
    }
}

impl From<OfflineError> for Error {
    fn from(e: OfflineError) -> Self {
        Error::Offline(e)
    }
}

impl From<crate::import::ImportFailure> for Error {
    fn from(e: crate::import::ImportFailure) -> Self {
        Error::Import(Box::new(e))
    }
}
