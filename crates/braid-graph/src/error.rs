use thiserror::Error;

/// A graph that cannot be built. Each variant names the file (or revision) to fix.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum GraphError {
    #[error("{origin}: invalid revision id '{id}': {reason}")]
    InvalidId {
        id: String,
        origin: String,
        reason: String,
    },
}

/// A target that cannot be resolved or a plan that cannot be made.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PlanError {
    #[error("no such revision or branch '{reference}'")]
    Unknown {
        reference: String,
        suggestions: Vec<String>,
    },
}
