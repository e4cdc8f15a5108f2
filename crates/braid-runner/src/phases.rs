//! The seam through which an upgrade limited to one deploy phase learns each revision's phase.
//!
//! A revision declares its phase in `revision.toml` or leaves it to be inferred from what its
//! statements do. Inferring means reading and parsing every dialect's SQL (or rendering a Rust
//! revision), which is the facade's job (`braid::phase`); the runner asks only about the
//! revisions of the plan at hand. [`Declared`] is for callers that infer nothing.

use std::collections::HashMap;

use braid_graph::{Direction, Graph, Phase, Plan, Revision};

use crate::{BodyError, LeftForLater};

/// Says which deploy phase a revision belongs to.
pub trait Phases: Send + Sync {
    fn phase(&self, rev: &Revision) -> Result<Phase, BodyError>;
}

/// Declared phases only: a revision without `phase` in its `revision.toml` is an error that
/// says to declare it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Declared;

impl Phases for Declared {
    fn phase(&self, rev: &Revision) -> Result<Phase, BodyError> {
        rev.phase.ok_or_else(|| BodyError {
            message: format!(
                "revision `{}` declares no phase: add `phase = \"expand\"` or `phase = \
                 \"contract\"` to {}",
                rev.id,
                rev.describe_origin()
            ),
        })
    }
}

/// The part of an upgrade `plan` of `graph` that `upgrade --phase phase` runs, and what it
/// leaves for later ([`Graph::phase_part`]), with each planned revision's phase from
/// `phases`. A plan without upgrade steps is returned whole, asking nothing. The error names
/// the revision whose phase could not be told.
pub fn phase_part<'g>(
    graph: &'g Graph,
    plan: Plan<'g>,
    phase: Phase,
    phases: &dyn Phases,
) -> Result<(Plan<'g>, Vec<LeftForLater>), (&'g Revision, BodyError)> {
    if plan.steps.iter().all(|s| s.direction != Direction::Up) {
        return Ok((plan, Vec::new()));
    }
    let mut of: HashMap<&str, Phase> = HashMap::new();
    for step in &plan.steps {
        let rev = step.revision;
        of.insert(&rev.id, phases.phase(rev).map_err(|e| (rev, e))?);
    }
    let (kept, held) = graph.phase_part(plan, phase, |rev| of[rev.id.as_str()]);
    Ok((kept, held.into_iter().map(Into::into).collect()))
}
