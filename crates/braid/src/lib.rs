//! Braid: database schema migrations over a version graph, for Postgres, MySQL/MariaDB and
//! SQLite.
//!
//! This crate is the one dependency a project adds. It serves three front ends:
//!
//! * **The command line** — `braid-cli` turns arguments into calls on a [`Project`] and prints
//!   the typed results; a workspace's `cargo xtask migrate` and the standalone `braid` binary
//!   are that same library.
//! * **Your own code** — [`Project`] runs every command and returns what happened:
//!   [`Project::generate`], [`Project::merge`], [`Project::run`] (upgrade, downgrade, stamp,
//!   current, accept), [`Project::check`], [`Project::offline`], [`Project::drivers`],
//!   [`Project::lint`] and [`Project::verify`] (prove migrations before they ship); the graph
//!   itself ([`Project::graph`]) answers heads, branches, history and show. Tenant sets
//!   ([`tenants`]) stand for many databases in every one of them, and a run's [`RunRecord`]
//!   says what it did to each.
//! * **An application that migrates itself** — [`Migrator`] runs migrations compiled into the
//!   binary by `braid_build::embed` and [`embedded_migrations!`], with the same lock, version
//!   store, checksums and validation as the command line.
//!
//! ```no_run
//! # async fn start() -> Result<(), braid::Error> {
//! # let migrations: braid::EmbeddedMigrations = unimplemented!();
//! // build.rs: braid_build::embed("../migrations"); (relative to the crate's Cargo.toml)
//! // let migrations = braid::embedded_migrations!();
//! let report = braid::Migrator::new(migrations)
//!     .upgrade("postgres://app@db.internal/app")
//!     .await?;
//! println!("{} migration(s) applied", report.steps.len());
//! # Ok(()) }
//! ```
//!
//! # Cargo features
//!
//! | feature | what |
//! |---|---|
//! | `sqlite`, `postgres`, `mysql` (default) | the built-in drivers (rusqlite, tokio-postgres, mysql_async) |
//! | `plugins` (default) | driver plugins loaded from shared libraries |
//! | `rust` | Rust revisions: sea-orm-migration's `SchemaManager`, one body for every backend; `prelude` |
//!
//! A Postgres-only application with SQL migrations needs
//! `braid = { version = "…", default-features = false, features = ["postgres"] }` and compiles
//! neither rusqlite nor mysql_async nor sea-orm.
//!
//! # Where rules live
//!
//! Graph rules are in `braid-graph`, the migrations directory's format in `braid-source`,
//! every change to a database in `braid-runner`. This crate holds the rest of "how Braid
//! behaves": which head a new revision goes on, which databases and migration sets a command
//! touches, what `check` reports, how a project is found. Messages that suggest a command
//! write it as `` `braid <command>` ``; a front end invoked differently replaces the
//! [`COMMAND`] prefix with its own invocation when it prints them.

pub mod authoring;
pub mod databases;
pub mod drivers;
pub mod embed;
mod error;
pub mod import;
pub mod init;
pub mod lint;
mod project;
mod root;
pub mod runs;
mod rust;
pub mod tenants;
pub mod verify;

pub use authoring::{
    AuthoringError, BodyKind, GenerateRequest, MergeRequest, ParentChoice, Written,
};
pub use databases::{
    AppliedSets, CheckReport, Finding, FindingKind, OfflineCommand, OfflineScript, RunSettings,
};
pub use drivers::DriverInfo;
pub use embed::{EmbeddedMigrations, Migrator};
pub use error::{Error, OfflineError};
pub use import::{AdoptOutcome, AdoptRequest, Adoption, ImportReport, ImportRequest};
pub use lint::{LintReport, LintRequest, LintedSet};
pub use project::{Project, ProjectOptions, SetInfo};
pub use root::{ROOT_ENV, find_root, resolve_root};
pub use runs::{LAST_RUN, RunRecord};
pub use rust::RustRevisions;
pub use tenants::{Shard, TenantsError};
pub use verify::{VerifyEvent, VerifyRange, VerifyReport, VerifyRequest};

pub use braid_config::{Config, DatabaseConfig};
pub use braid_driver::{Dialect, Driver, DriverError};
pub use braid_graph::{Applied, Body, Graph, Revision};
pub use braid_runner::{
    AppliedRow, AppliedStep, CurrentReport, DbResult, DbStatus, Event, FailureKind, Operation,
    RunError, RunReport, StepDirection, TransactionMode,
};

/// How library messages name the command line: `` `braid upgrade` ``. A front end invoked as
/// something else (`cargo xtask migrate`) substitutes its own invocation for this word when a
/// message starts a command with it.
pub const COMMAND: &str = "braid";

/// What a migration file imports (feature `rust`): sea-orm-migration's prelude
/// (`SchemaManager`, `Table`, `ColumnDef`, `Index`, `ForeignKey`, `DbErr`, `async_trait`, …) and
/// `SchemaManagerExt` (`table_exists`, `column_exists`, `index_exists`).
#[cfg(feature = "rust")]
pub mod prelude {
    pub use braid_seaorm::prelude::*;
}

/// The sea-orm bridge, for code that runs Rust migrations directly (feature `rust`).
#[cfg(feature = "rust")]
pub use braid_seaorm as seaorm;

/// Which optional parts this build of the crate has, for messages and `drivers`.
#[allow(unused_mut, clippy::vec_init_then_push)]
pub fn features() -> Vec<&'static str> {
    let mut on = Vec::new();
    #[cfg(feature = "sqlite")]
    on.push("sqlite");
    #[cfg(feature = "postgres")]
    on.push("postgres");
    #[cfg(feature = "mysql")]
    on.push("mysql");
    #[cfg(feature = "plugins")]
    on.push("plugins");
    #[cfg(feature = "rust")]
    on.push("rust");
    on
}
