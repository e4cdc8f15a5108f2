//! Moving to Braid from another migration tool: its migrations directory read as Braid
//! revisions ([`read`], then [`write()`]), and its version table mapped to those revisions
//! ([`adopt`]).
//!
//! Pure: no database. The facade (`braid`) reads the version tables through the drivers and
//! records the result with the runner's `stamp`.
//!
//! # What an import keeps
//!
//! * **Ids**: the source's own id where it is a valid Braid id (Alembic revision ids, sqlx and
//!   diesel versions, sea-orm-migration names, refinery versions); otherwise a mapped id (a
//!   Flyway version `1.1` becomes `v1_1`). Every revision is listed in [`MAP_FILE`], with the
//!   key the source's version table records for it, so that `adopt` needs nothing but the
//!   migrations directory.
//! * **The graph**: Alembic's parents (merges included), branch labels and `depends_on`; every
//!   other tool's order as a chain.
//! * **The SQL, byte for byte**: the checksums the source tools kept (sqlx's SHA-384, Flyway's
//!   CRC32, refinery's SipHash) are computed again from the imported files at adoption, so an
//!   edit after the import is caught as surely as one before it.
//! * **What cannot be translated** is written so that it refuses to run: a missing down
//!   migration, or an Alembic body whose SQL Alembic could not render, gets a file marked with
//!   [`braid_source::UNWRITTEN_MARK`]; the runner refuses it and `lint` reports it.

mod adopt;
mod alembic;
mod checksum;
mod diesel;
mod files;
mod flyway;
mod map;
mod refinery;
mod seaorm;
mod sqlx;
mod write;

use std::path::{Path, PathBuf};

use braid_driver::Dialect;

pub use adopt::{AdoptError, AdoptPlan, SourceRow, adopt, version_query};
pub use alembic::AlembicOptions;
pub use checksum::expected_checksums;
pub use map::{ImportMap, MAP_FILE, MapEntry};
pub use write::{Need, WriteError, Written, WrittenRevision, write};

/// A migration tool Braid imports from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    Alembic,
    Diesel,
    Sqlx,
    SeaOrm,
    Flyway,
    Refinery,
}

impl Tool {
    pub const ALL: [Tool; 6] = [
        Tool::Alembic,
        Tool::Diesel,
        Tool::Sqlx,
        Tool::SeaOrm,
        Tool::Flyway,
        Tool::Refinery,
    ];

    /// The name used on the command line and in [`MAP_FILE`].
    pub fn name(self) -> &'static str {
        match self {
            Tool::Alembic => "alembic",
            Tool::Diesel => "diesel",
            Tool::Sqlx => "sqlx",
            Tool::SeaOrm => "sea-orm",
            Tool::Flyway => "flyway",
            Tool::Refinery => "refinery",
        }
    }

    /// The table in which the tool records what ran (its default name).
    pub fn version_table(self) -> &'static str {
        match self {
            Tool::Alembic => "alembic_version",
            Tool::Diesel => "__diesel_schema_migrations",
            Tool::Sqlx => "_sqlx_migrations",
            Tool::SeaOrm => "seaql_migrations",
            Tool::Flyway => "flyway_schema_history",
            Tool::Refinery => "refinery_schema_history",
        }
    }
}

impl std::fmt::Display for Tool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Tool {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.to_ascii_lowercase();
        let s = match s.as_str() {
            "sea-orm-migration" | "seaorm" | "sea_orm" => "sea-orm",
            other => other,
        };
        Tool::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
                format!("unknown tool '{s}' (expected one of: {})", names.join(", "))
            })
    }
}

/// What [`read`] needs beyond the directory.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Alembic only: how to get each revision's SQL.
    pub alembic: AlembicOptions,
}

/// A source tool's history, read and ready to [`write()`].
#[derive(Debug, Clone)]
pub struct History {
    pub tool: Tool,
    /// The directory read.
    pub source: PathBuf,
    /// In the source's order (parents before children).
    pub revisions: Vec<Imported>,
    /// Source files left out, with why (a Flyway repeatable migration, say).
    pub skipped: Vec<Skipped>,
}

/// A source file that is not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// One migration of the source tool, as a Braid revision.
#[derive(Debug, Clone)]
pub struct Imported {
    /// What the source's version table records for it: the version (sqlx, diesel, Flyway,
    /// refinery, as the table writes it), the migration name (sea-orm-migration), the revision
    /// id (Alembic).
    pub key: String,
    /// The Braid id: `key` where it is a valid Braid id, else mapped ([`braid_id`]).
    pub id: String,
    /// The source's name or description of the migration, as its checksum covers it
    /// (refinery hashes its name; Flyway shows its description).
    pub name: String,
    /// Braid ids.
    pub parents: Vec<String>,
    pub depends_on: Vec<String>,
    pub branch_labels: Vec<String>,
    pub message: String,
    pub created: Option<jiff::Timestamp>,
    pub transactional: bool,
    pub body: Body,
    /// The source file (or directory) it came from, for messages.
    pub origin: PathBuf,
}

/// What an imported revision runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// SQL; `down: None` when the source has no down migration (a refusing down is written).
    Sql { up: Sql, down: Option<Sql> },
    /// A Rust migration (sea-orm-migration's `MigrationTrait`), rewritten to import Braid's
    /// prelude.
    Rust { source: String },
    /// A body Braid cannot run as it is (Alembic's Python when Alembic could not render it):
    /// written beside SQL files that refuse to run until filled in.
    Untranslated {
        file_name: String,
        text: String,
        reason: String,
    },
}

/// SQL text for every dialect, or one per dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sql {
    Every(String),
    PerDialect(Vec<(Dialect, String)>),
}

/// A problem reading a source tool's directory.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {problem}; {hint}", path.display())]
    Layout {
        path: PathBuf,
        problem: String,
        hint: String,
    },
    #[error("{}{}: {problem}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Parse {
        path: PathBuf,
        line: Option<usize>,
        problem: String,
    },
    #[error(
        "{tool} migration '{key}' is defined twice: {} and {}",
        first.display(),
        second.display()
    )]
    Duplicate {
        tool: Tool,
        key: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("{}: no {tool} migrations found; {hint}", dir.display())]
    Empty {
        tool: Tool,
        dir: PathBuf,
        hint: String,
    },
}

impl ImportError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        ImportError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Reads `dir`, laid out as `tool` lays out its migrations.
pub fn read(tool: Tool, dir: &Path, options: &ReadOptions) -> Result<History, ImportError> {
    match tool {
        Tool::Alembic => alembic::read(dir, &options.alembic),
        Tool::Diesel => diesel::read(dir),
        Tool::Sqlx => sqlx::read(dir),
        Tool::SeaOrm => seaorm::read(dir),
        Tool::Flyway => flyway::read(dir),
        Tool::Refinery => refinery::read(dir),
    }
}

/// The Braid id for a source key: the key itself when it is a valid Braid id, else every run
/// of characters other than ASCII letters, digits and `_` turned into one `_`, with a `v`
/// before a key that starts with a digit after that (`1.1` → `v1_1`) or is a word targets
/// reserve (`head` → `vhead`).
pub fn braid_id(key: &str) -> String {
    if braid_graph::validate_id(key).is_ok() {
        return key.to_string();
    }
    let mut id = String::new();
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            id.push(c);
        } else if !id.ends_with('_') {
            id.push('_');
        }
    }
    let id = id.trim_matches('_');
    // A leading digit after the mapping, or a word targets reserve (`head`), gets a `v`.
    let id = if id.starts_with(|c: char| c.is_ascii_digit())
        || id.is_empty()
        || braid_graph::RESERVED.contains(&id)
    {
        format!("v{id}")
    } else {
        id.to_string()
    };
    id.chars().take(braid_graph::MAX_ID_LEN).collect()
}

/// Links `revisions` (in order) as a chain: each one's parent is the one before.
pub(crate) fn chain(revisions: &mut [Imported]) {
    let mut previous: Option<String> = None;
    for rev in revisions {
        rev.parents = previous.iter().cloned().collect();
        previous = Some(rev.id.clone());
    }
}

/// A message from a file name's description part: `_` and `-` read as spaces.
pub(crate) fn message_from_name(name: &str) -> String {
    name.replace(['_', '-'], " ").trim().to_string()
}
