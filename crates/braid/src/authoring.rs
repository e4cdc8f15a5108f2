//! Writing revisions: every rule of `generate` and `merge` — which parent a new revision gets,
//! when `--splice` is needed, what makes an id or a branch label usable — so that every front
//! end (the command line, an editor plugin, a script) writes revisions the same way.

use std::path::{Path, PathBuf};

use braid_graph::{Applied, Graph, Revision};

use crate::Error;

/// What `generate` is asked to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerateRequest {
    /// What the revision does; also names its directory.
    pub message: String,
    /// The new id; a random 12-hex-digit one when `None`.
    pub rev_id: Option<String>,
    pub parents: ParentChoice,
    /// Allow parents that are not heads (a new branch from an older revision).
    pub splice: bool,
    pub branch_labels: Vec<String>,
    /// Revisions or branch labels that must be applied first.
    pub depends_on: Vec<String>,
    /// `false` runs the migration outside a transaction.
    pub transactional: bool,
    /// The deploy phase to declare; `None` leaves it to be inferred from the statements.
    pub phase: Option<braid_graph::Phase>,
    pub body: BodyKind,
}

/// A new revision's parents.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ParentChoice {
    /// The graph's single head (none for the first revision); several heads is an error that
    /// says how to choose.
    #[default]
    SingleHead,
    /// One parent, named by any target that names one revision; `base` starts a new root.
    Head(String),
    /// Several parents, each named by a target.
    Parents(Vec<String>),
}

/// SQL files, or a Rust migration (sea-orm-migration's `SchemaManager`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BodyKind {
    #[default]
    Sql,
    Rust,
}

/// What `merge` is asked to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeRequest {
    /// The revisions to join; `heads` stands for every real head.
    pub revisions: Vec<String>,
    /// Default: `merge <a> and <b>`.
    pub message: Option<String>,
    pub rev_id: Option<String>,
    pub branch_labels: Vec<String>,
    pub splice: bool,
    pub body: BodyKind,
    /// Join branches whose changes conflict ([`crate::overlap`]), for this reason; it is
    /// recorded in the merge revision.
    pub allow_overlap: Option<String>,
}

/// A revision written to disk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub revision: String,
    pub parents: Vec<String>,
    /// The files created, in order (`revision.toml` first).
    pub files: Vec<PathBuf>,
    /// Rust or SQL.
    #[serde(skip)]
    pub body: BodyKind,
    /// For a merge revision: what the branches it joins both touch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlaps: Option<crate::overlap::OverlapReport>,
    /// What went wrong after the files were written (the heads file could not be rewritten).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// A request that breaks a rule of writing revisions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthoringError {
    #[error("the message (-m) is empty: say what the revision does; it also names its directory")]
    EmptyMessage,
    #[error(
        "several heads are present ({}); pass --head REV to choose the parent (e.g. --head {}@head), \
         or join them first with `braid merge heads`",
        heads.join(", "),
        example
    )]
    SeveralHeads { heads: Vec<String>, example: String },
    #[error("revision {0} is not a head; pass --splice to start a new branch from it")]
    NotAHead(String),
    #[error("'{0}' names no revision; name the parent revision explicitly")]
    NamesNoRevision(String),
    #[error(
        "'{reference}' names several revisions ({}); name one parent, or use --parent once per parent",
        revisions.join(", ")
    )]
    NamesSeveral {
        reference: String,
        revisions: Vec<String>,
    },
    #[error("invalid --rev-id '{id}': {reason}")]
    InvalidId { id: String, reason: String },
    #[error("revision id '{0}' is already used; choose another --rev-id")]
    IdTaken(String),
    #[error("invalid --branch-label '{label}': {reason}")]
    InvalidLabel { label: String, reason: String },
    #[error("branch label '{label}' is already used by revision {owner}")]
    LabelTaken { label: String, owner: String },
    #[error("branch label '{0}' is the id of a revision; choose another label")]
    LabelIsId(String),
    #[error("a merge needs at least two different revisions; got {} ({})", .0.len(), .0.join(", "))]
    MergeNeedsTwo(Vec<String>),
    #[error(
        "the branches to merge conflict:\n{}\nreconcile them (or `braid rebase` one onto the \
         other), or merge anyway with --allow-overlap \"REASON\" (the reason is recorded in the \
         merge revision)",
        .0.conflicts().map(|o| format!("  {o}")).collect::<Vec<_>>().join("\n")
    )]
    Overlapping(Box<crate::overlap::OverlapReport>),
    #[error("--allow-overlap needs a reason: say why the branches may be joined as they are")]
    EmptyOverlapReason,
}

/// Writes the revision `request` describes into `dir`, on top of `graph` (the revisions already
/// in `dir`; empty for the first one).
pub fn generate(graph: &Graph, dir: &Path, request: &GenerateRequest) -> Result<Written, Error> {
    write(dir, new_revision(graph, request)?, request.body)
}

/// The revision `request` describes on top of `graph`: its id, parents, labels and message,
/// checked, before any file is written.
pub(crate) fn new_revision(
    graph: &Graph,
    request: &GenerateRequest,
) -> Result<braid_source::NewRevision, Error> {
    if request.message.trim().is_empty() {
        return Err(AuthoringError::EmptyMessage.into());
    }
    let parents = match &request.parents {
        ParentChoice::Head(head) if head == "base" => Vec::new(),
        ParentChoice::Head(head) => vec![head_parent(graph, head, request.splice)?],
        ParentChoice::Parents(references) => {
            let mut parents = Vec::new();
            for reference in references {
                let id = head_parent(graph, reference, request.splice)?;
                if !parents.contains(&id) {
                    parents.push(id);
                }
            }
            parents
        }
        ParentChoice::SingleHead => single_head(graph)?,
    };
    let mut depends_on = Vec::new();
    for reference in &request.depends_on {
        // A label stays a label (it follows the branch); anything else becomes the exact id.
        if graph.label_owner(reference).is_some() {
            depends_on.push(reference.clone());
        } else {
            depends_on.push(graph.lookup(reference)?.id.clone());
        }
    }
    check_labels(graph, &request.branch_labels)?;
    let new = braid_source::NewRevision {
        id: new_id(graph, request.rev_id.as_deref())?,
        parents,
        depends_on,
        branch_labels: request.branch_labels.clone(),
        message: request.message.clone(),
        created: now_seconds(),
        transactional: request.transactional,
        allow_overlap: None,
        phase: request.phase,
    };
    Ok(new)
}

/// Writes a merge revision joining `request.revisions` into `dir`.
pub fn merge(graph: &Graph, dir: &Path, request: &MergeRequest) -> Result<Written, Error> {
    let mut parents: Vec<String> = Vec::new();
    for rev in merged_revisions(graph, &request.revisions)? {
        require_head(graph, rev, request.splice)?;
        parents.push(rev.id.clone());
    }
    if parents.len() < 2 {
        return Err(AuthoringError::MergeNeedsTwo(parents).into());
    }
    check_labels(graph, &request.branch_labels)?;
    let message = request
        .message
        .clone()
        .unwrap_or_else(|| format!("merge {}", parents.join(" and ")));
    let new = braid_source::NewRevision {
        id: new_id(graph, request.rev_id.as_deref())?,
        parents,
        depends_on: Vec::new(),
        branch_labels: request.branch_labels.clone(),
        message,
        created: now_seconds(),
        transactional: true,
        allow_overlap: request.allow_overlap.clone(),
        phase: None,
    };
    write(dir, new, request.body)
}

/// The revisions a merge joins, each once, in the order named: `heads` stands for every real
/// head, anything else is a target naming one revision.
pub(crate) fn merged_revisions<'g>(
    graph: &'g Graph,
    references: &[String],
) -> Result<Vec<&'g Revision>, Error> {
    let mut revisions: Vec<&Revision> = Vec::new();
    for reference in references {
        let named = match reference.as_str() {
            "heads" => graph.real_heads(),
            _ => vec![resolve_one(graph, reference)?],
        };
        for rev in named {
            if !revisions.iter().any(|r| r.id == rev.id) {
                revisions.push(rev);
            }
        }
    }
    Ok(revisions)
}

/// The parent of a new revision when none is named: the single head.
fn single_head(graph: &Graph) -> Result<Vec<String>, AuthoringError> {
    let heads = graph.heads();
    match heads.as_slice() {
        [] => Ok(Vec::new()),
        [one] => Ok(vec![one.revision.id.clone()]),
        many => Err(AuthoringError::SeveralHeads {
            heads: many.iter().map(|h| h.revision.id.clone()).collect(),
            example: graph
                .labels_of(&many[0].revision.id)
                .first()
                .copied()
                .unwrap_or(many[0].revision.id.as_str())
                .to_string(),
        }),
    }
}

/// A named parent: it must name one revision, a head unless `splice`.
fn head_parent(graph: &Graph, reference: &str, splice: bool) -> Result<String, Error> {
    let rev = resolve_one(graph, reference)?;
    require_head(graph, rev, splice)?;
    Ok(rev.id.clone())
}

/// Any target naming exactly one revision.
fn resolve_one<'g>(graph: &'g Graph, reference: &str) -> Result<&'g Revision, Error> {
    let resolved = graph.resolve(&Applied::new(), reference)?;
    match resolved.as_slice() {
        [one] => Ok(one),
        [] => Err(AuthoringError::NamesNoRevision(reference.to_string()).into()),
        many => Err(AuthoringError::NamesSeveral {
            reference: reference.to_string(),
            revisions: many.iter().map(|r| r.id.clone()).collect(),
        }
        .into()),
    }
}

fn require_head(graph: &Graph, rev: &Revision, splice: bool) -> Result<(), AuthoringError> {
    if !splice && !graph.is_head(&rev.id) {
        return Err(AuthoringError::NotAHead(rev.id.clone()));
    }
    Ok(())
}

/// The requested id checked against the graph, or a new random one.
fn new_id(graph: &Graph, requested: Option<&str>) -> Result<String, AuthoringError> {
    let id = match requested {
        Some(id) => id.to_string(),
        None => braid_source::new_revision_id(),
    };
    braid_graph::validate_id(&id).map_err(|reason| AuthoringError::InvalidId {
        id: id.clone(),
        reason,
    })?;
    if graph.get(&id).is_some() {
        return Err(AuthoringError::IdTaken(id));
    }
    Ok(id)
}

fn check_labels(graph: &Graph, labels: &[String]) -> Result<(), AuthoringError> {
    for label in labels {
        braid_graph::validate_id(label).map_err(|reason| AuthoringError::InvalidLabel {
            label: label.clone(),
            reason,
        })?;
        if let Some(owner) = graph.label_owner(label) {
            return Err(AuthoringError::LabelTaken {
                label: label.clone(),
                owner: owner.id.clone(),
            });
        }
        if graph.get(label).is_some() {
            return Err(AuthoringError::LabelIsId(label.clone()));
        }
    }
    Ok(())
}

/// Writes the revision's files, then the heads file for the graph they join.
fn write(dir: &Path, new: braid_source::NewRevision, body: BodyKind) -> Result<Written, Error> {
    let written = match body {
        BodyKind::Rust => braid_source::write_rust_revision(dir, &new)?,
        BodyKind::Sql => braid_source::write_revision(dir, &new)?,
    };
    let warnings = crate::heads_file::refresh_after_writing(dir)
        .into_iter()
        .collect();
    Ok(Written {
        revision: new.id,
        parents: new.parents,
        files: written.files,
        body,
        overlaps: None,
        warnings,
    })
}

/// `source` as `rustfmt` lays it out, when `rustfmt` is on the `PATH` (it is wherever cargo
/// is, through rustup); as written otherwise. Generated code is reviewed, so it is given the
/// layout the project's own code has.
#[cfg(feature = "rust")]
pub(crate) fn formatted(source: String) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("rustfmt")
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return source;
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(source.as_bytes());
    }
    match child.wait_with_output() {
        Ok(out) if out.status.success() && !out.stdout.is_empty() => {
            String::from_utf8(out.stdout).unwrap_or(source)
        }
        _ => source,
    }
}

/// Now, in whole seconds, so the file reads well.
fn now_seconds() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now)
}
