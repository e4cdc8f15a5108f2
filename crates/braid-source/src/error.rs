use std::path::PathBuf;

use thiserror::Error;

/// Why the migrations directory could not be read or written.
///
/// Every variant names the file or directory to look at and says what to do, because these
/// errors are shown to a person as-is by the CLI.
#[derive(Debug, Error)]
pub enum SourceError {
    /// The migrations directory does not exist. Usually a first run, or a wrong `migrations`
    /// setting.
    #[error(
        "migrations directory {} does not exist: create the first revision with \
         `braid generate -m \"…\"` or set `migrations` in the config",
        dir.display()
    )]
    MissingDir { dir: PathBuf },

    /// The migrations directory holds no revision directory.
    #[error(
        "migrations directory {} contains no revision: create the first one with \
         `braid generate -m \"…\"`",
        dir.display()
    )]
    Empty { dir: PathBuf },

    /// A directory under the migrations directory has no `revision.toml`: usually a typo in the
    /// file name, or a stray directory.
    #[error(
        "{}: no revision.toml in this revision directory{}; every directory under the migrations \
         directory must hold one (move other directories elsewhere, or give them a name starting \
         with '.')",
        dir.display(),
        found.as_ref().map(|f| format!(" (found {f} — a typo?)")).unwrap_or_default()
    )]
    MissingMetadata { dir: PathBuf, found: Option<String> },

    /// `revision.toml` is not valid TOML or does not match the format (unknown key, wrong type,
    /// missing key). `message` includes the line and column from the TOML parser.
    #[error("{}: {message}", file.display())]
    Metadata { file: PathBuf, message: String },

    /// A `*.sql` file whose name Braid does not recognise; it would otherwise be silently
    /// ignored, which hides mistakes like `up.postgresql.sql`.
    #[error(
        "{}: not a migration file name{}. Allowed: up.sql, down.sql, and per-dialect \
         up.<dialect>.sql / down.<dialect>.sql with dialect postgres, mysql or sqlite",
        file.display(),
        suggestion.as_ref().map(|s| format!("; did you mean {s}?")).unwrap_or_default()
    )]
    BadSqlName {
        file: PathBuf,
        suggestion: Option<String>,
    },

    /// A direction has neither its generic file nor all three dialect files.
    #[error("{}: missing {missing}: {hint}", dir.display())]
    MissingSql {
        dir: PathBuf,
        missing: String,
        hint: String,
    },

    /// The revision has no SQL body (a Rust migration or an in-memory revision) but SQL was
    /// asked for.
    #[error("{origin}: revision {id} has no SQL files, so it has no SQL to run or checksum")]
    NotSql { id: String, origin: String },

    /// The revision has no Rust body but its Rust source was asked for.
    #[error("{origin}: revision {id} is not a Rust revision")]
    NotRust { id: String, origin: String },

    /// A revision directory with both SQL files and a `rust = …` body: which one runs would be
    /// a guess.
    #[error(
        "{}: revision.toml names a Rust body (rust = {rust:?}) but the directory also holds SQL \
         files ({}); a revision is either SQL or Rust: remove the SQL files or the `rust` key",
        dir.display(),
        sql.join(", ")
    )]
    MixedBody {
        dir: PathBuf,
        rust: String,
        sql: Vec<String>,
    },

    /// `rust = "…"` names a file that is not there.
    #[error(
        "{}: named by `rust = …` in revision.toml but missing; restore it or fix the name",
        file.display()
    )]
    MissingRust { file: PathBuf },

    /// Writing a revision whose directory already exists; never overwrite someone's work.
    #[error(
        "{}: already exists; pick another id or message, or remove the directory if it is a \
         leftover",
        dir.display()
    )]
    AlreadyExists { dir: PathBuf },

    /// A value that cannot be written into a new revision (an id with characters that are not
    /// allowed, …).
    #[error("cannot write revision: {0}")]
    InvalidNew(String),

    /// A file-system error, with the path it happened on.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The revisions were read but do not form a valid graph. The graph error names the file.
    #[error(transparent)]
    Graph(#[from] braid_graph::GraphError),
}

impl SourceError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SourceError::Io {
            path: path.into(),
            source,
        }
    }
}
