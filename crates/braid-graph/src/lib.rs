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
//!
//! The rules in brief, because other crates rely on them:
//! * **Applied state** is the set of every applied revision id ([`Applied`]), not one row per
//!   head as in Alembic. An upgrade to `T` applies `T`, its ancestors and dependencies that are
//!   missing; a downgrade to `T` removes every applied revision that needs a child of `T`.
//!   Because nothing is folded into a "head row", a dependency that no applied revision
//!   descends from is a head of its own in [`Graph::applied_heads`].
//! * **Order** is one deterministic topological order (see [`Graph`]); plans are sets listed in
//!   that order (upgrades) or its reverse (downgrades), so two machines always agree.
//! * **Targets** follow Alembic's grammar (see [`Target`]) with explicit errors where Alembic
//!   guesses: `-1` with several applied heads, walks through forks, prefixes matching several ids.

mod error;
mod graph;
mod plan;
mod revision;
mod target;

pub use error::{GraphError, PlanError};
pub use graph::{BranchPoint, Graph, Head, Markers};
pub use plan::{Direction, HeldBack, Plan, Step};
pub use revision::{Body, MAX_ID_LEN, Phase, RESERVED, Revision, validate_id};
pub use target::Target;

/// The set of applied revision ids, as a database's version store reports it.
pub type Applied = std::collections::BTreeSet<String>;

/// A synthetic graph of exactly `n` revisions for benchmarks: mostly linear, with a one-revision
/// side branch forking every 50 revisions and merged back 3 revisions later, and a `depends_on`
/// every 100. Ids are zero-padded so independent revisions sort predictably.
#[doc(hidden)]
pub fn synthetic(n: usize) -> Vec<Revision> {
    let mut out: Vec<Revision> = Vec::with_capacity(n);
    let mut trunk: Option<String> = None;
    let mut side: Option<(String, usize)> = None;
    let mut i = 0usize;
    while out.len() < n {
        let me = format!("r{i:07}");
        let mut r = Revision::new(me.clone(), &[]);
        r.parents = trunk.iter().cloned().collect();
        if let Some((s, at)) = &side
            && i == at + 3
        {
            r.parents.push(s.clone());
            side = None;
        }
        if i % 100 == 99 {
            r.depends_on = vec![format!("r{:07}", i - 10)];
        }
        out.push(r);
        if i % 50 == 10 && out.len() + 4 < n {
            let s = format!("s{i:07}");
            out.push(Revision::new(s.clone(), &[me.as_str()]));
            side = Some((s, i));
        }
        trunk = Some(me);
        i += 1;
    }
    out
}
