//! What the runner hands back: reports (serde, for the CLI's JSON) and progress events.

use std::time::Duration;

use serde::Serialize;

/// Up or down, serialised as `"up"` / `"down"` (the graph's own `Direction` is serde-free).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepDirection {
    Up,
    Down,
}

impl From<braid_graph::Direction> for StepDirection {
    fn from(d: braid_graph::Direction) -> Self {
        match d {
            braid_graph::Direction::Up => StepDirection::Up,
            braid_graph::Direction::Down => StepDirection::Down,
        }
    }
}

impl From<StepDirection> for braid_graph::Direction {
    fn from(d: StepDirection) -> Self {
        match d {
            StepDirection::Up => braid_graph::Direction::Up,
            StepDirection::Down => braid_graph::Direction::Down,
        }
    }
}

impl std::fmt::Display for StepDirection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StepDirection::Up => "upgrade",
            StepDirection::Down => "downgrade",
        })
    }
}

/// One step that ran (or, for `stamp`, one row written/removed with `ms = 0`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedStep {
    pub revision: String,
    pub direction: StepDirection,
    pub ms: u64,
}

/// The outcome of `upgrade`, `downgrade` or `stamp` on one database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunReport {
    pub database: String,
    /// Applied heads before the run.
    pub from: Vec<String>,
    /// Applied heads after the run.
    pub to: Vec<String>,
    pub steps: Vec<AppliedStep>,
    pub duration_ms: u64,
    /// Things the user should know (e.g. `--transaction all` fell back to per-migration).
    pub notes: Vec<String>,
    /// What an upgrade limited to one phase (`--phase`) left for a later step, in plan order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_for_later: Vec<LeftForLater>,
}

/// A revision an upgrade limited to one deploy phase did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftForLater {
    pub revision: String,
    pub phase: braid_graph::Phase,
    /// For a revision of the phase that ran: the revision left for later that it needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<String>,
}

impl From<braid_graph::HeldBack> for LeftForLater {
    fn from(h: braid_graph::HeldBack) -> Self {
        LeftForLater {
            revision: h.revision,
            phase: h.phase,
            waits_for: h.waits_for,
        }
    }
}

/// Statement-level progress of a migration that stopped part-way outside a transaction (every
/// migration on MySQL, `transaction = false` ones elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub statements_done: i64,
    pub statements_total: Option<i64>,
    pub statement_hashes: Option<String>,
    /// A statement (1-based) recorded as started and not recorded as finished: the run stopped
    /// while it ran, so whether it took effect is for the next run to find out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub statement_started: Option<i64>,
    /// The server session that ran it ([`braid_driver::Driver::session_id`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

/// One row of the version store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedRow {
    pub revision: String,
    pub checksum: String,
    pub applied_at: String,
    pub duration_ms: i64,
    pub applied_by: String,
    /// `Some` only for a migration that stopped part-way.
    pub partial: Option<Progress>,
}

/// What `current` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CurrentReport {
    pub database: String,
    /// Applied heads (dependency heads included), in graph order.
    pub heads: Vec<String>,
    /// Every row of the version store.
    pub rows: Vec<AppliedRow>,
    /// Applied revisions the graph does not know.
    pub unknown: Vec<String>,
}

/// What `check` needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReport {
    pub database: String,
    /// How many revisions `heads` resolves to (more than one: unmerged branches).
    pub heads_in_graph: usize,
    /// Revisions `upgrade heads` would apply, in order.
    pub pending: Vec<String>,
    /// Applied revisions whose file changed: `(revision, stored, current)`.
    pub edited: Vec<(String, String, String)>,
    /// Applied revisions the graph does not know.
    pub unknown: Vec<String>,
    /// Revisions whose migration stopped part-way outside a transaction (statement progress
    /// recorded; see `current -v`).
    pub partial: Vec<String>,
}

impl StatusReport {
    /// Whether the database is at the heads of its graph (of the branches it follows): nothing
    /// to apply, nothing applied that the graph does not know, and no migration stopped
    /// part-way (`current --check-heads`). A head that is only needed by another branch's
    /// `depends_on` (an effective head) counts as reached once that branch is.
    pub fn at_heads(&self) -> bool {
        self.pending.is_empty() && self.unknown.is_empty() && self.partial.is_empty()
    }
}

/// Progress events, delivered to a callback as they happen (the CLI draws a progress bar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A multi-database run starts on this many databases (before any of them).
    RunStarted { databases: usize },
    Started {
        database: String,
        operation: String,
        total_steps: usize,
    },
    StepStarted {
        database: String,
        revision: String,
        direction: StepDirection,
        /// 1-based.
        index: usize,
        total: usize,
    },
    StepFinished {
        database: String,
        revision: String,
        direction: StepDirection,
        index: usize,
        total: usize,
        duration: Duration,
    },
    StepFailed {
        database: String,
        revision: String,
        direction: StepDirection,
        index: usize,
        total: usize,
        error: String,
    },
    /// Something worth telling the user that is not an error.
    Notice { database: String, message: String },
    /// A batched backfill committed a batch (`braid_runner::backfill`).
    Backfill {
        database: String,
        revision: String,
        /// The table being filled.
        table: String,
        /// Batches and rows committed so far in this run.
        batches: u64,
        rows: u64,
        /// The key the last committed batch reached.
        last_key: i64,
        /// The run resumed from a batch an earlier run recorded.
        resumed: bool,
    },
    Finished {
        database: String,
        steps: usize,
        duration: Duration,
    },
    /// A database of a multi-database run is done, however it ended (after `Finished` or
    /// `StepFailed`, and also for one that could not be opened or was skipped).
    DatabaseDone {
        database: String,
        status: crate::DbStatus,
    },
}

/// The event callback type: shared by concurrent databases, hence `Sync`.
pub type EventSink<'a> = &'a (dyn Fn(&Event) + Sync);

/// An event sink that ignores everything.
pub fn no_events(_: &Event) {}
