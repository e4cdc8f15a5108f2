//! Rust migrations for Braid: sea-orm-migration's [`MigrationTrait`] / [`SchemaManager`] run
//! through Braid's drivers, runner and version graph.
//!
//! * [`bridge`]: a sea-orm `DatabaseConnection` (the `proxy` feature, no sqlx) over a Braid
//!   [`Driver`], with the backend taken from [`Driver::dialect`], so `SchemaManager` renders
//!   Postgres, MySQL/MariaDB or SQLite DDL and runs it on Braid's connection, inside the
//!   transaction the runner opened.
//! * [`recorder`]: the same migration rendered without a database, for offline SQL (`--sql`).
//! * [`SchemaManagerExt`]: `table_exists` / `column_exists` / `index_exists`, which work without
//!   sqlx (sea-orm-migration's own `has_*` return `BackendNotSupported` in a build without sqlx).
//! * [`Registry`] and [`RustBodies`]: the compiled-in migrations by revision id, and the
//!   runner's [`braid_runner::Bodies`] for a graph mixing SQL and Rust revisions.
//! * [`bridge::backfill`]: a batched, resumable backfill from a `transaction = false` Rust
//!   migration, run by the runner's engine ([`braid_runner::backfill`]) on its connection.
//!
//! # Writing a migration
//!
//! A Rust revision is a directory under `migrations/` like an SQL one, whose `revision.toml` says
//! `rust = "migration.rs"`; `migration.rs` defines `pub struct Migration` implementing
//! [`MigrationTrait`] (see `braid_source::rust_template`). The binary that runs it compiles every
//! such file in from its build script (`braid_build::rust_revisions` for an xtask,
//! `braid_build::embed` for an application); the generated code registers each one in a
//! [`Registry`] through `braid::RustRevisions`.
//!
//! # Transactions stay Braid's
//!
//! The runner opens the step's transaction on the driver before calling the migration and
//! commits it (with the version row) afterwards, with real error reporting. sea-orm's proxy
//! hooks (`begin`/`commit`/`rollback`/`start_rollback`) cannot report errors, so the bridge makes
//! them do **nothing**: a migration calling `manager.begin()` gets a transaction object whose
//! commit and rollback are no-ops, and its statements run in the runner's transaction (or
//! without one for a `transaction = false` revision). `MigrationTrait::use_transaction` is
//! ignored: `transaction = false` in `revision.toml` is what opts out.
//!
//! [`Driver`]: braid_driver::Driver
//! [`Driver::dialect`]: braid_driver::Driver::dialect

pub mod bridge;
mod catch;
pub mod models;
mod probe;
pub mod recorder;
mod registry;
pub mod spell;
mod value;

pub use models::Models;
pub use probe::SchemaManagerExt;
pub use registry::{Registry, RustBodies, RustCode};

pub use sea_orm;
pub use sea_orm_migration;
pub use sea_orm_migration::{MigrationName, MigrationTrait, SchemaManager};

use braid_driver::Dialect;
use sea_orm::DbBackend;

/// What a migration file imports: sea-orm-migration's prelude (`SchemaManager`, `Table`,
/// `ColumnDef`, `Index`, `ForeignKey`, `Expr`, `DbErr`, `async_trait`, …),
/// [`SchemaManagerExt`], and batched backfills ([`bridge::backfill`], [`Backfill`]).
///
/// [`Backfill`]: braid_runner::Backfill
pub mod prelude {
    pub use crate::SchemaManagerExt;
    pub use crate::bridge::backfill;
    pub use braid_runner::{Backfill, BackfillReport};
    pub use sea_orm::DbBackend;
    pub use sea_orm_migration::prelude::*;
    pub use sea_orm_migration::schema;
}

/// The sea-orm backend that renders for `dialect` (MariaDB is `MySql`).
pub fn backend_of(dialect: Dialect) -> DbBackend {
    match dialect {
        Dialect::Postgres => DbBackend::Postgres,
        Dialect::Mysql => DbBackend::MySql,
        Dialect::Sqlite => DbBackend::Sqlite,
    }
}

/// `up` or `down`.
pub(crate) fn direction_name(direction: braid_graph::Direction) -> &'static str {
    match direction {
        braid_graph::Direction::Up => "up",
        braid_graph::Direction::Down => "down",
    }
}
