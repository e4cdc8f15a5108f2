use thiserror::Error;

/// Renders a list of names for a message: `'a', 'b', 'c'`.
pub(crate) fn quoted(names: &[String]) -> String {
    if names.is_empty() {
        return "(none)".to_string();
    }
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A suggestion suffix: empty when there is nothing to suggest.
pub(crate) fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", quoted(suggestions))
    }
}

/// A graph that cannot be built. Each variant names the file (or revision) to fix.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum GraphError {
    #[error(
        "{origin}: invalid revision id '{id}': {reason}; rename the revision (ids use ASCII letters, digits and '_')"
    )]
    InvalidId {
        id: String,
        origin: String,
        reason: String,
    },

    #[error(
        "{origin}: invalid branch label '{label}' on revision '{id}': {reason}; rename the label (labels follow the same rules as ids)"
    )]
    InvalidLabel {
        label: String,
        id: String,
        origin: String,
        reason: String,
    },

    #[error(
        "revision id '{id}' is used twice, by {first} and by {second}; give one of them a new id"
    )]
    DuplicateId {
        id: String,
        first: String,
        second: String,
    },

    #[error(
        "{origin}: revision '{id}' names parent '{parent}', which does not exist{}; fix the parent list or restore the missing revision",
        did_you_mean(.suggestions)
    )]
    MissingParent {
        id: String,
        origin: String,
        parent: String,
        suggestions: Vec<String>,
    },

    #[error(
        "{origin}: revision '{id}' lists parent '{parent}' more than once; remove the repeated entry"
    )]
    RepeatedParent {
        id: String,
        origin: String,
        parent: String,
    },

    #[error(
        "{origin}: revision '{id}' depends on '{dependency}', which is neither a revision id nor a branch label{}; fix depends_on or restore the missing revision",
        did_you_mean(.suggestions)
    )]
    MissingDependency {
        id: String,
        origin: String,
        dependency: String,
        suggestions: Vec<String>,
    },

    #[error(
        "{origin}: revision '{id}' names itself as a {via} ('{reference}'); a revision cannot come before itself, remove that entry"
    )]
    SelfLoop {
        id: String,
        origin: String,
        /// `parent` or `dependency`.
        via: String,
        reference: String,
    },

    #[error(
        "cycle in the version graph: {} -> {}; the revisions involved are in {}; break the cycle by changing one of their parents or depends_on",
        .ids.join(" -> "),
        .ids.first().map(String::as_str).unwrap_or(""),
        .origins.join(", ")
    )]
    Cycle {
        /// The revisions of the cycle, each a parent (or dependency) of the next.
        ids: Vec<String>,
        /// Their files, in the same order.
        origins: Vec<String>,
    },

    #[error(
        "branch label '{label}' is declared by both {first} (revision '{first_id}') and {second} (revision '{second_id}'); labels must be unique, rename one of them"
    )]
    DuplicateLabel {
        label: String,
        first_id: String,
        first: String,
        second_id: String,
        second: String,
    },

    #[error(
        "{origin}: branch label '{label}' on revision '{id}' is also the id of the revision in {other}; a label must differ from every id, rename the label"
    )]
    LabelIsId {
        label: String,
        id: String,
        origin: String,
        other: String,
    },
}

/// A target that cannot be resolved or a plan that cannot be made.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum PlanError {
    #[error(
        "no such revision or branch '{reference}'{}",
        did_you_mean(.suggestions)
    )]
    Unknown {
        reference: String,
        suggestions: Vec<String>,
    },

    #[error(
        "'{prefix}' is ambiguous: it is the start of {total} revision ids or labels ({}{}); type more characters",
        quoted(.candidates),
        if *.total > .candidates.len() { ", …" } else { "" }
    )]
    Ambiguous {
        prefix: String,
        /// The first few candidates, sorted.
        candidates: Vec<String>,
        total: usize,
    },

    #[error(
        "'{target}' is ambiguous: there are several heads ({}); name one of them, use 'heads' for all of them, '<label>@head' to pick a branch, or merge the heads",
        quoted(.heads)
    )]
    MultipleHeads { target: String, heads: Vec<String> },

    #[error(
        "revision '{revision}' is not a member of branch '{branch}': it is neither an ancestor nor a descendant of it; check the branch name or drop the '{branch}@' prefix"
    )]
    NotMember { revision: String, branch: String },

    #[error(
        "cannot walk '{target}': from {from} the next step could be any of {}; name the revision to go to, or use '<label>@…' to pick a branch",
        quoted(.candidates)
    )]
    AmbiguousWalk {
        target: String,
        /// The revision the walk stopped at (`base` before the first revision).
        from: String,
        candidates: Vec<String>,
    },

    #[error(
        "relative target {target} produced only {produced} steps out of {requested}; there are not enough revisions in that direction"
    )]
    RelativeTooFar {
        target: String,
        requested: u64,
        produced: u64,
    },

    #[error(
        "relative target '{target}' is ambiguous: several revisions are applied heads ({}); name the branch, e.g. {}",
        quoted(.heads),
        quoted(.suggestions)
    )]
    AmbiguousRelative {
        target: String,
        heads: Vec<String>,
        /// One `branch@±N` per head: a label only that head carries, else the head's id.
        suggestions: Vec<String>,
    },

    #[error(
        "'{target}' is not a valid downgrade target: it is not applied and no applied revision comes after it; current heads are {}",
        quoted(.heads)
    )]
    NotDowngradeTarget { target: String, heads: Vec<String> },

    #[error("invalid target '{input}': {reason}")]
    InvalidTarget { input: String, reason: String },

    #[error("invalid history range '{range}': {reason}")]
    InvalidRange { range: String, reason: String },
}
