//! Braid's version graph.
//!
//! A migration history is a directed acyclic graph of [`Revision`]s: each revision names its
//! versioned parents (several for a merge revision, none for a base) and its non-versioned
//! `depends_on` revisions. This crate holds every rule about that graph — validation, heads,
//! branch labels, target resolution and upgrade/downgrade planning — and nothing else: no I/O,
//! no SQL, no async. Everything is a pure function of an immutable [`Graph`], so the rules can be
//! tested exhaustively (the ported Alembic cases and property tests live in `tests/`).
//!
//! Semantics follow Alembic's `revision.py` (see the README's "Version graph" section for the
//! differences Braid chose on purpose: a deterministic order, every applied revision recorded,
//! clear errors instead of assertion failures).

mod error;
mod graph;
mod plan;
mod revision;
mod target;

pub use error::{GraphError, PlanError};
pub use graph::{BranchPoint, Graph, Head};
pub use plan::{Direction, Plan, Step};
pub use revision::{Body, Revision, validate_id};
pub use target::Target;

/// The set of applied revision ids, as a database's version store reports it.
pub type Applied = std::collections::BTreeSet<String>;
