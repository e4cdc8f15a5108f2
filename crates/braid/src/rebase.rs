//! `rebase`: instead of a merge revision, move the revisions of one branch on top of another
//! head, giving a linear history (Atlas's `migrate rebase`; Alembic declined to have one).
//!
//! Only what no database has run may move: a revision applied anywhere ran in the order the
//! graph had then, and giving it new parents would rewrite history a database already holds.
//! So every configured database of the set is read first, and one that holds any of the
//! revisions to move (a partly applied one included), or cannot be read, stops the rebase and
//! is named. `offline` skips the reading, with a warning, for a checkout with no database at
//! hand.
//!
//! What changes, in each moved revision's `revision.toml` and nothing else:
//! - `parents`: a parent outside the moved branch (in the part both heads share) is replaced by
//!   the head the branch moves onto; parents inside the branch stay.
//! - `created`: raised where needed so the moved revisions come after that head and keep their
//!   own order, since `created` is what orders independent revisions.
//!
//! The files are edited in place ([`toml_edit`]), so comments and layout stay. The new graph is
//! built and checked before any file is written; the heads file is rewritten after.

use std::path::{Path, PathBuf};

use braid_graph::{Applied, Graph, Revision};

use crate::{Error, Project, RunSettings};

/// What `rebase` is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RebaseRequest {
    /// The head of the branch to move (any target naming one head: an id, `label@head`).
    pub branch: String,
    /// The head to move it onto; the other head when the graph has exactly two.
    pub onto: Option<String>,
    /// Do not read the databases' version stores (a warning says so).
    pub offline: bool,
}

/// A revision given new parents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Moved {
    pub revision: String,
    pub file: PathBuf,
    pub parents_before: Vec<String>,
    pub parents_after: Vec<String>,
}

/// What `rebase` did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rebased {
    /// The head the branch now stands on.
    pub onto: String,
    /// Every revision of the moved branch, in plan order (those whose parents changed say so).
    pub branch: Vec<String>,
    /// The revisions whose `revision.toml` was edited.
    pub moved: Vec<Moved>,
    /// The databases whose version stores were read.
    pub checked: Vec<String>,
    pub warnings: Vec<String>,
}

/// A rebase that cannot be done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RebaseError {
    #[error("'{0}' is not a head: rebase moves a branch by its head (e.g. `label@head`)")]
    NotAHead(String),
    #[error(
        "the graph has {} heads ({}); name the head to move onto with --onto",
        heads.len(),
        heads.join(", ")
    )]
    OntoRequired { heads: Vec<String> },
    #[error("'{0}' names several revisions; name one head")]
    NamesSeveral(String),
    #[error("nothing to move: {branch} already stands on {onto}")]
    NothingToMove { branch: String, onto: String },
    #[error(
        "{branch} and {onto} share no revision: they are separate roots, and rebase moves a \
         branch only within one history; join them with `braid merge {branch} {onto}`"
    )]
    NoCommonAncestor { branch: String, onto: String },
    #[error(
        "database `{database}` has applied {} of the revisions to move: a revision a database \
         ran keeps its parents; join the heads with `braid merge heads` instead",
        revisions.join(", ")
    )]
    Applied {
        database: String,
        revisions: Vec<String>,
    },
    #[error(
        "cannot read the version store of database `{database}` ({error}): rebase must know that \
         none of the revisions to move ran there; fix the connection, or pass --offline if you \
         are sure"
    )]
    Unreadable { database: String, error: String },
    #[error(
        "{} stand{} on the branch of {branch}: they would move with it; rebase their branch \
         too, or join the heads with `braid merge heads`",
        revisions.join(", "),
        if revisions.len() == 1 { "s" } else { "" }
    )]
    OthersStandOnIt {
        branch: String,
        revisions: Vec<String>,
    },
    #[error(
        "the rebase would change which revisions branch labels cover ({}): a database with \
         `branches` would receive other revisions; join the heads with `braid merge heads` instead",
        changed.join("; ")
    )]
    LabelsChange { changed: Vec<String> },
    #[error("{}: {reason}", file.display())]
    Edit { file: PathBuf, reason: String },
}

impl From<RebaseError> for Error {
    fn from(e: RebaseError) -> Self {
        Error::Rebase(Box::new(e))
    }
}

impl Project {
    /// Moves the branch `request.branch` heads onto `request.onto` in the migration set of
    /// `settings.databases` (see the module docs).
    pub fn rebase(
        &self,
        settings: &RunSettings,
        request: &RebaseRequest,
    ) -> Result<Rebased, Error> {
        let dir = self.set_dir(&settings.databases)?;
        let graph = self.graph(&dir)?;
        let branch = head(&graph, &request.branch)?;
        let onto = match &request.onto {
            Some(onto) => head(&graph, onto)?,
            None => other_head(&graph, branch)?,
        };
        let moving = branch_of(&graph, branch, onto)?;
        // What the files alone decide first; the databases are read last.
        let edits = reparent(&moving, onto);
        same_labels(&graph, &rebased_graph(&graph, &edits)?)?;
        let mut warnings = Vec::new();
        let checked = match request.offline {
            true => {
                warnings.push(
                    "--offline: no version store was read; make sure no database ran the moved \
                     revisions"
                        .to_string(),
                );
                Vec::new()
            }
            false => self.none_applied(settings, &dir, &moving)?,
        };
        if checked.is_empty() && !request.offline {
            warnings.push("no configured database uses this migration set: none was read".into());
        }
        let moved = write(&edits)?;
        warnings.extend(crate::heads_file::refresh_after_writing(&dir));
        Ok(Rebased {
            onto: onto.id.clone(),
            branch: moving.iter().map(|r| r.id.clone()).collect(),
            moved,
            checked,
            warnings,
        })
    }

    /// Reads every database of the set and refuses if one holds a revision of `moving`, or
    /// cannot be read. Returns the databases read.
    fn none_applied(
        &self,
        settings: &RunSettings,
        dir: &Path,
        moving: &[&Revision],
    ) -> Result<Vec<String>, Error> {
        if self.config_if_any().is_none() {
            return Ok(Vec::new());
        }
        // Every database of the set, whichever `--db` or `--shard` was given.
        let every = RunSettings {
            databases: Vec::new(),
            shard: None,
            ..settings.clone()
        };
        let stores = self.applied_sets(&every, dir, &|_| {})?;
        if let Some((database, error)) = stores.unreadable.into_iter().next() {
            return Err(RebaseError::Unreadable { database, error }.into());
        }
        let mut checked = Vec::new();
        for (database, applied) in stores.read {
            // A migration that stopped part-way ran some of its statements: it counts.
            let partial = stores
                .partial
                .iter()
                .filter(|(name, _)| *name == database)
                .flat_map(|(_, revisions)| revisions);
            let revisions: Vec<String> = moving
                .iter()
                .filter(|r| applied.contains(&r.id) || partial.clone().any(|p| *p == r.id))
                .map(|r| r.id.clone())
                .collect();
            if !revisions.is_empty() {
                return Err(RebaseError::Applied {
                    database,
                    revisions,
                }
                .into());
            }
            checked.push(database);
        }
        Ok(checked)
    }
}

/// The one revision `target` names, which must be a head.
fn head<'g>(graph: &'g Graph, target: &str) -> Result<&'g Revision, Error> {
    let revisions = graph.resolve(&Applied::new(), target)?;
    let [one] = revisions.as_slice() else {
        return Err(RebaseError::NamesSeveral(target.to_string()).into());
    };
    if !graph.is_head(&one.id) {
        return Err(RebaseError::NotAHead(one.id.clone()).into());
    }
    Ok(one)
}

/// The head other than `branch`, when the graph has exactly two.
fn other_head<'g>(graph: &'g Graph, branch: &Revision) -> Result<&'g Revision, Error> {
    let heads = graph.real_heads();
    match heads.as_slice() {
        [a, b] if a.id == branch.id => Ok(b),
        [a, b] if b.id == branch.id => Ok(a),
        _ => Err(RebaseError::OntoRequired {
            heads: heads.iter().map(|r| r.id.clone()).collect(),
        }
        .into()),
    }
}

/// The revisions that move: `branch` and its ancestors through parents that are not `onto`
/// or below it, in graph order. A dependency (`depends_on`) is not part of the branch and does
/// not move. They must share an ancestor with `onto`, and no revision outside them may stand
/// on one of them (it would move too, unasked).
fn branch_of<'g>(
    graph: &'g Graph,
    branch: &'g Revision,
    onto: &Revision,
) -> Result<Vec<&'g Revision>, Error> {
    let below_onto = line_below(graph, onto);
    if below_onto.contains(&branch.id) {
        return Err(RebaseError::NothingToMove {
            branch: branch.id.clone(),
            onto: onto.id.clone(),
        }
        .into());
    }
    let on_branch = line_below(graph, branch);
    let moving: Vec<&Revision> = graph
        .in_order()
        .filter(|r| on_branch.contains(&r.id) && !below_onto.contains(&r.id))
        .collect();
    let shares = moving
        .iter()
        .any(|r| r.parents.iter().any(|p| below_onto.contains(p)));
    if !shares {
        return Err(RebaseError::NoCommonAncestor {
            branch: branch.id.clone(),
            onto: onto.id.clone(),
        }
        .into());
    }
    let moved = |id: &String| moving.iter().any(|m| &m.id == id);
    let standing: Vec<String> = graph
        .in_order()
        .filter(|r| !moved(&r.id))
        .filter(|r| r.parents.iter().chain(&r.depends_on).any(moved))
        .map(|r| r.id.clone())
        .collect();
    if !standing.is_empty() {
        return Err(RebaseError::OthersStandOnIt {
            branch: branch.id.clone(),
            revisions: standing,
        }
        .into());
    }
    Ok(moving)
}

/// `head` and every revision below it through parents alone.
fn line_below(graph: &Graph, head: &Revision) -> Applied {
    let mut line = Applied::new();
    let mut todo = vec![head.id.clone()];
    while let Some(id) = todo.pop() {
        if let Some(rev) = graph.get(&id)
            && line.insert(id)
        {
            todo.extend(rev.parents.iter().cloned());
        }
    }
    line
}

/// Refuses a rebase after which a branch label would cover other revisions than before: a
/// database with `branches = [...]` would then receive revisions it never had, or lose some.
fn same_labels(graph: &Graph, rebased: &Graph) -> Result<(), Error> {
    let changed: Vec<String> = graph
        .in_order()
        .filter(|r| graph.labels_of(&r.id) != rebased.labels_of(&r.id))
        .map(|r| {
            format!(
                "{} ({} -> {})",
                r.id,
                shown_labels(graph.labels_of(&r.id)),
                shown_labels(rebased.labels_of(&r.id))
            )
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    Err(RebaseError::LabelsChange { changed }.into())
}

fn shown_labels(labels: Vec<&str>) -> String {
    match labels.is_empty() {
        true => "no label".to_string(),
        false => labels.join(", "),
    }
}

/// One revision's new parents and creation time.
struct Edit<'g> {
    revision: &'g Revision,
    parents: Vec<String>,
    created: Option<jiff::Timestamp>,
}

/// The edits that put `moving` on `onto`: parents outside the branch become `onto`, and
/// creation times rise past `onto`'s where they are not already later, in plan order.
fn reparent<'g>(moving: &[&'g Revision], onto: &Revision) -> Vec<Edit<'g>> {
    let inside = |id: &String| moving.iter().any(|r| &r.id == id);
    let mut previous = onto.created;
    let mut edits = Vec::new();
    for &revision in moving {
        let mut parents: Vec<String> = Vec::new();
        for parent in &revision.parents {
            let parent = if inside(parent) { parent } else { &onto.id };
            if !parents.contains(parent) {
                parents.push(parent.clone());
            }
        }
        let created = match (previous, revision.created) {
            (Some(p), Some(c)) if c <= p => Some(p + jiff::SignedDuration::from_secs(1)),
            (Some(p), None) => Some(p + jiff::SignedDuration::from_secs(1)),
            _ => None,
        };
        previous = created.or(revision.created);
        if parents != revision.parents || created.is_some() {
            edits.push(Edit {
                revision,
                parents,
                created,
            });
        }
    }
    edits
}

/// The graph the edits make, built before anything is written: nothing is written unless it
/// is a valid graph.
fn rebased_graph(graph: &Graph, edits: &[Edit<'_>]) -> Result<Graph, Error> {
    let revisions = graph
        .in_order()
        .map(|r| {
            let mut r = r.clone();
            if let Some(edit) = edits.iter().find(|e| e.revision.id == r.id) {
                r.parents = edit.parents.clone();
                r.created = edit.created.or(r.created);
            }
            r
        })
        .collect();
    Ok(Graph::build(revisions)?)
}

/// Checks the new graph, then edits each `revision.toml`.
fn write(edits: &[Edit<'_>]) -> Result<Vec<Moved>, Error> {
    let mut texts = Vec::new();
    for edit in edits {
        let file = edit
            .revision
            .origin
            .clone()
            .ok_or_else(|| RebaseError::Edit {
                file: PathBuf::from(&edit.revision.id),
                reason: "the revision was not read from a file".into(),
            })?;
        texts.push((file.clone(), edited(&file, edit)?));
    }
    let mut moved = Vec::new();
    for ((file, text), edit) in texts.into_iter().zip(edits) {
        std::fs::write(&file, text).map_err(|source| Error::Io {
            path: file.clone(),
            source,
        })?;
        moved.push(Moved {
            revision: edit.revision.id.clone(),
            file,
            parents_before: edit.revision.parents.clone(),
            parents_after: edit.parents.clone(),
        });
    }
    Ok(moved)
}

/// `file` with `edit`'s parents and creation time, its comments and layout kept.
fn edited(file: &Path, edit: &Edit<'_>) -> Result<String, Error> {
    let text = std::fs::read_to_string(file).map_err(|source| Error::Io {
        path: file.to_path_buf(),
        source,
    })?;
    let invalid = |reason: String| RebaseError::Edit {
        file: file.to_path_buf(),
        reason,
    };
    let mut doc: toml_edit::DocumentMut = text.parse().map_err(|e| invalid(format!("{e}")))?;
    let parents: toml_edit::Array = edit.parents.iter().map(String::as_str).collect();
    doc["parents"] = toml_edit::value(parents);
    if let Some(created) = edit.created {
        let datetime: toml_edit::Datetime = created
            .to_string()
            .parse()
            .map_err(|e| invalid(format!("created: {e}")))?;
        doc["created"] = toml_edit::value(datetime);
    }
    Ok(doc.to_string())
}
