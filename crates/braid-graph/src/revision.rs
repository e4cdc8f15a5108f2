use std::path::PathBuf;

/// One node of the version graph: its identity, its edges and where its body lives.
///
/// The graph never reads the body; it only carries it so that a [`crate::Plan`] hands the runner
/// everything it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Unique id. Letters, digits and `_` only (see [`validate_id`]).
    pub id: String,
    /// Versioned parents, in declared order. Empty for a base; two or more for a merge revision.
    pub parents: Vec<String>,
    /// Non-versioned parents: revision ids or branch labels that must be applied first.
    pub depends_on: Vec<String>,
    /// Branch labels declared on this revision.
    pub branch_labels: Vec<String>,
    pub message: String,
    /// Creation time; the first tie-break between independent revisions (see [`crate::Graph`]).
    pub created: Option<jiff::Timestamp>,
    /// `false` when the migration must run outside a transaction.
    pub transactional: bool,
    /// The deploy phase declared in `revision.toml` (`phase = "expand"`); `None` when the
    /// revision leaves it to be inferred from what its statements do.
    pub phase: Option<Phase>,
    /// The metadata file this revision was read from, for error messages. `None` for revisions
    /// built in memory.
    pub origin: Option<PathBuf>,
    pub body: Body,
}

/// Which step of an expand/contract deploy a revision belongs to.
///
/// A zero-downtime deploy runs the *expand* revisions (additive: the release still running
/// keeps working), then deploys the code that uses the new schema, then runs the *contract*
/// revisions (destructive: they remove what only the old release used).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Expand,
    Contract,
}

impl Phase {
    pub const ALL: [Phase; 2] = [Phase::Expand, Phase::Contract];

    /// The word used in `revision.toml`, on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Expand => "expand",
            Phase::Contract => "contract",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Phase {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a phase (expected \"expand\" or \"contract\")"))
    }
}

/// Where a revision's up/down code lives. Opaque to the graph.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Body {
    /// SQL files in a revision directory. `files` lists the SQL file names present
    /// (`up.sql`, `down.sql`, `up.postgres.sql`, …), sorted.
    Sql { dir: PathBuf, files: Vec<String> },
    /// A Rust migration compiled into the binary and registered under `name`; `source` is its file.
    Rust { name: String, source: PathBuf },
    /// No body: revisions built in memory (tests, benchmarks).
    #[default]
    None,
}

impl Revision {
    /// A revision with no body, no time and no labels: the building block of tests and benches.
    pub fn new(id: impl Into<String>, parents: &[&str]) -> Self {
        Revision {
            id: id.into(),
            parents: parents.iter().map(|p| p.to_string()).collect(),
            depends_on: Vec::new(),
            branch_labels: Vec::new(),
            message: String::new(),
            created: None,
            transactional: true,
            phase: None,
            origin: None,
            body: Body::None,
        }
    }

    pub fn with_phase(mut self, phase: Phase) -> Self {
        self.phase = Some(phase);
        self
    }

    pub fn with_depends_on(mut self, deps: &[&str]) -> Self {
        self.depends_on = deps.iter().map(|d| d.to_string()).collect();
        self
    }

    pub fn with_labels(mut self, labels: &[&str]) -> Self {
        self.branch_labels = labels.iter().map(|l| l.to_string()).collect();
        self
    }

    pub fn is_base(&self) -> bool {
        self.parents.is_empty()
    }

    pub fn is_merge(&self) -> bool {
        self.parents.len() > 1
    }

    /// Where this revision came from, for messages: its file, or `revision <id>`.
    pub fn describe_origin(&self) -> String {
        match &self.origin {
            Some(p) => p.display().to_string(),
            None => format!("revision {}", self.id),
        }
    }
}

/// Checks that `id` (a revision id or a branch label) is usable in target expressions:
/// non-empty, ASCII letters, digits and `_` only, and not one of the reserved symbols
/// (`head`, `heads`, `base`, `current`).
///
/// Alembic forbids only `@ - + :`; Braid is stricter so an id is also a safe directory name and
/// never needs quoting in a shell or in SQL.
pub fn validate_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("it is empty".to_string());
    }
    if id.len() > MAX_ID_LEN {
        return Err(format!(
            "it is {} characters long, the limit is {MAX_ID_LEN}",
            id.len()
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(format!(
            "character {c:?} is not allowed (only ASCII letters, digits and '_')"
        ));
    }
    if RESERVED.contains(&id) {
        return Err(format!(
            "'{id}' is a reserved word in targets ({})",
            RESERVED.join(", ")
        ));
    }
    Ok(())
}

/// Longest id or label accepted: keeps ids usable as directory names and in version tables.
pub const MAX_ID_LEN: usize = 64;

/// Words that mean something in a target expression, so no id or label may take them.
pub const RESERVED: [&str; 4] = ["head", "heads", "base", "current"];
