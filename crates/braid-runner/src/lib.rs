//! Braid's runner: the only code that changes a database's version store.
//!
//! Driver-agnostic: it talks to a database through [`braid_driver::Driver`] and renders its own
//! SQL per dialect in [`dialect`]. For one database, [`Runner`] does
//! `lock → ensure store → read applied → validate → plan (braid-graph) → run each step → record
//! → unlock`; [`run_all`] does that for several databases concurrently; [`render_offline`]
//! renders the same work as a script without connecting.
//!
//! Migration bodies come through the [`Bodies`] seam ([`SourceBodies`] reads the SQL files), so
//! Rust migrations can be added without touching the runner.

pub mod backfill;
pub mod bodies;
pub mod dialect;
mod effect;
mod error;
mod executor;
pub mod multi;
pub mod offline;
mod phases;
mod progress;
mod report;
pub mod runner;
mod shared;
pub mod store;
mod workers;

pub use backfill::{Backfill, BackfillContext, BackfillError, BackfillReport, CursorTable};
pub use bodies::{Bodies, BodyError, Script, SourceBodies};
pub use dialect::{DEFAULT_VERSION_TABLE, STORE_SCHEMA_VERSION, StoreNames, StoreSql};
pub use effect::judged_on_resume;
pub use error::{EditedRevision, FailureKind, RunError, StepFailure};
pub use multi::{
    CONNECTIONS_PER_DATABASE, DbResult, DbStatus, DbTarget, Limits, OpenFuture, Opener, Operation,
    Reuse, run_all, run_each,
};
pub use offline::{OfflineOp, applied_from, parse_range, render_offline};
pub use phases::{Declared, Phases, phase_part};
pub use report::{
    AppliedRow, AppliedStep, CurrentReport, Event, EventSink, LeftForLater, Progress, RunReport,
    StatusReport, StepDirection, no_events,
};
pub use runner::{AcceptReport, DdlLock, RunOptions, Runner, TransactionMode, Walk, restrict};
pub use shared::Shared;
pub use store::Store;
pub use workers::{Panicked, Worker, WorkerError, on_a_worker, on_workers, on_workers_then};
