//! The seam through which an upgrade limited to one deploy phase learns each revision's phase.
//!
//! A revision declares its phase in `revision.toml` or leaves it to be inferred from what its
//! statements do. Inferring means reading and parsing every dialect's SQL (or rendering a Rust
//! revision), which is the facade's job (`braid::phase`); the runner asks only about the
//! revisions of the plan at hand. [`Declared`] is for callers that infer nothing.

use braid_graph::{Phase, Revision};

use crate::BodyError;

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
