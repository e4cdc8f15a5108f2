//! The target grammar: `head`, `heads`, `base`, ids and prefixes, labels, `label@head`,
//! `label@heads`, `label@base`, `label@rev`, `rev@head`, `+N`, `-N`, `rev+N`, `rev-N`,
//! `label@+N`, `label@-N`, and `start:end` ranges.

/// A parsed target, before it is resolved against a graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The part before `@`: a branch label or a revision reference naming a branch.
    pub branch: Option<String>,
    /// `head`, `heads`, `base`, an id, a prefix or a label. `None` for a bare relative target.
    pub symbol: Option<String>,
    /// `+N` or `-N`.
    pub relative: Option<i64>,
}

impl Target {
    /// Parses a target expression. Never panics, whatever the input.
    pub fn parse(input: &str) -> Result<Target, crate::PlanError> {
        todo!("{input}")
    }
}
