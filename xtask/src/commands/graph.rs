//! The commands that need no database: they read (and for generate/merge, write) the
//! migrations directory only.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use braid_graph::{Graph, Revision};
use serde::Serialize;

use crate::cli::{GenerateArgs, HeadsArgs, HistoryArgs, MergeArgs, ShowArgs};
use crate::draw;
use crate::output::Output;

/// A revision as every JSON command reports it. The field names are a contract for scripts.
#[derive(Debug, Serialize)]
pub struct RevisionJson<'a> {
    pub revision: &'a str,
    pub parents: &'a [String],
    pub depends_on: &'a [String],
    pub branch_labels: Vec<&'a str>,
    pub message: &'a str,
    pub created: Option<String>,
    pub is_head: bool,
    pub is_branch_point: bool,
    pub is_merge_point: bool,
    pub transactional: bool,
    pub path: Option<String>,
    /// With `history -i`: applied on every selected database…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_applied: Option<bool>,
    /// …and the databases it is applied on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_in: Option<Vec<String>>,
}

pub fn revision_json<'a>(graph: &'a Graph, rev: &'a Revision) -> RevisionJson<'a> {
    RevisionJson {
        revision: &rev.id,
        parents: &rev.parents,
        depends_on: &rev.depends_on,
        branch_labels: graph.labels_of(&rev.id),
        message: &rev.message,
        created: rev.created.map(|t| t.to_string()),
        is_head: graph.is_head(&rev.id),
        is_branch_point: graph.is_branch_point(&rev.id),
        is_merge_point: graph.is_merge_point(&rev.id),
        transactional: rev.transactional,
        path: rev.origin.as_ref().map(|p| p.display().to_string()),
        is_applied: None,
        applied_in: None,
    }
}

/// The markers Alembic prints after a revision: `(label) (head) (branchpoint) (mergepoint)`.
/// `applied` is the `history -i` marker's text (`applied`, or `applied: app, pg` with several
/// databases); empty when the revision is applied nowhere.
pub fn markers(graph: &Graph, rev: &Revision, applied: Option<&str>) -> String {
    let mut out = String::new();
    let labels = graph.labels_of(&rev.id);
    if !labels.is_empty() {
        out.push_str(&format!(" ({})", labels.join(", ")));
    }
    if graph.is_head(&rev.id) {
        out.push_str(" (head)");
    }
    if let Some(mark) = applied.filter(|m| !m.is_empty()) {
        out.push_str(&format!(" ({mark})"));
    }
    if graph.is_branch_point(&rev.id) {
        out.push_str(" (branchpoint)");
    }
    if graph.is_merge_point(&rev.id) {
        out.push_str(" (mergepoint)");
    }
    out
}

/// One history line: `parents (deps) -> id (markers), message`.
pub fn history_line(graph: &Graph, rev: &Revision, applied: Option<&str>) -> String {
    let parents = if rev.parents.is_empty() {
        "<base>".to_string()
    } else {
        rev.parents.join(", ")
    };
    let deps = if rev.depends_on.is_empty() {
        String::new()
    } else {
        format!(" ({})", rev.depends_on.join(", "))
    };
    format!(
        "{parents}{deps} -> {}{}, {}",
        rev.id,
        markers(graph, rev, applied),
        rev.message
    )
}

pub fn verbose_block(graph: &Graph, rev: &Revision, applied: Option<&str>) -> String {
    let mut out = format!("Rev: {}{}\n", rev.id, markers(graph, rev, applied));
    match rev.parents.len() {
        0 => out.push_str("Parent: <base>\n"),
        1 => out.push_str(&format!("Parent: {}\n", rev.parents[0])),
        _ => out.push_str(&format!("Merges: {}\n", rev.parents.join(", "))),
    }
    if !rev.depends_on.is_empty() {
        out.push_str(&format!("Also depends on: {}\n", rev.depends_on.join(", ")));
    }
    if !rev.branch_labels.is_empty() {
        out.push_str(&format!("Branch names: {}\n", rev.branch_labels.join(", ")));
    }
    if let Some(created) = rev.created {
        out.push_str(&format!("Created: {created}\n"));
    }
    if !rev.transactional {
        out.push_str("Transaction: none (runs outside a transaction)\n");
    }
    if let Some(origin) = &rev.origin {
        out.push_str(&format!("Path: {}\n", origin.display()));
    }
    out.push_str(&format!("\n    {}\n", rev.message));
    out
}

pub fn heads(graph: &Graph, args: &HeadsArgs, out: Output) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct HeadJson<'a> {
        revision: &'a str,
        branch_labels: Vec<&'a str>,
        effective: bool,
        message: &'a str,
    }
    #[derive(Serialize)]
    struct Heads<'a> {
        heads: Vec<HeadJson<'a>>,
    }
    let heads: Vec<_> = graph
        .heads()
        .into_iter()
        .filter(|h| !(args.resolve_dependencies && h.effective))
        .collect();
    let json = Heads {
        heads: heads
            .iter()
            .map(|h| HeadJson {
                revision: &h.revision.id,
                branch_labels: graph.labels_of(&h.revision.id),
                effective: h.effective,
                message: &h.revision.message,
            })
            .collect(),
    };
    out.emit(&json, || {
        let mut text = String::new();
        for head in &heads {
            if args.verbose {
                text.push_str(&verbose_block(graph, head.revision, None));
                text.push('\n');
            } else {
                let mut line = format!(
                    "{}{}",
                    head.revision.id,
                    markers(graph, head.revision, None)
                );
                if head.effective {
                    // Depended on, so not a target of `heads`: Alembic's "effective head".
                    line = line.replace(" (head)", " (effective head)");
                }
                text.push_str(&line);
                text.push('\n');
            }
        }
        text
    })
}

pub fn branches(graph: &Graph, out: Output) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct Point<'a> {
        revision: &'a str,
        children: Vec<&'a str>,
    }
    #[derive(Serialize)]
    struct Branches<'a> {
        branch_points: Vec<Point<'a>>,
    }
    let points = graph.branch_points();
    let json = Branches {
        branch_points: points
            .iter()
            .map(|p| Point {
                revision: &p.revision.id,
                children: p.children.iter().map(|c| c.id.as_str()).collect(),
            })
            .collect(),
    };
    out.emit(&json, || {
        let mut text = String::new();
        for point in &points {
            text.push_str(&format!(
                "{}{}, {}\n",
                point.revision.id,
                markers(graph, point.revision, None),
                point.revision.message
            ));
            for child in &point.children {
                text.push_str(&format!(
                    "  -> {}{}, {}\n",
                    child.id,
                    markers(graph, child, None),
                    child.message
                ));
            }
        }
        text
    })
}

pub fn show(graph: &Graph, args: &ShowArgs, out: Output) -> anyhow::Result<()> {
    let rev = graph.lookup(&args.revision)?;
    out.emit(&revision_json(graph, rev), || {
        verbose_block(graph, rev, None)
    })
}

/// `history`; with `-i`, `applied` holds each selected database's applied set (`current` in a
/// range means their union).
pub fn history(
    graph: &Graph,
    args: &HistoryArgs,
    applied: Option<&[(String, braid_graph::Applied)]>,
    out: Output,
) -> anyhow::Result<()> {
    #[derive(Serialize)]
    struct History<'a> {
        revisions: Vec<RevisionJson<'a>>,
    }
    let union: braid_graph::Applied = applied
        .into_iter()
        .flatten()
        .flat_map(|(_, set)| set.iter().cloned())
        .collect();
    let revs = graph.history(args.range.as_deref(), &union)?;
    let applied_in = |rev: &Revision| -> Option<Vec<String>> {
        applied.map(|dbs| {
            dbs.iter()
                .filter(|(_, set)| set.contains(&rev.id))
                .map(|(name, _)| name.clone())
                .collect()
        })
    };
    let marks: Vec<Option<String>> = revs
        .iter()
        .map(|rev| {
            applied_in(rev).map(
                |names| match (names.len(), applied.map_or(0, |d| d.len())) {
                    (0, _) => String::new(),
                    (_, 1) => "applied".to_string(),
                    _ => format!("applied: {}", names.join(", ")),
                },
            )
        })
        .collect();
    let is_applied = |i: usize| marks[i].as_deref();
    let json = History {
        revisions: revs
            .iter()
            .map(|rev| {
                let mut json = revision_json(graph, rev);
                if let (Some(names), Some(dbs)) = (applied_in(rev), applied) {
                    json.is_applied = Some(names.len() == dbs.len());
                    json.applied_in = Some(names);
                }
                json
            })
            .collect(),
    };
    out.emit(&json, || {
        if args.graph {
            let nodes: Vec<draw::Node<'_>> = revs
                .iter()
                .enumerate()
                .map(|(i, rev)| draw::Node {
                    id: &rev.id,
                    parents: &rev.parents,
                    text: format!(
                        "{}{}{} {}",
                        rev.id,
                        markers(graph, rev, is_applied(i)),
                        if rev.depends_on.is_empty() {
                            String::new()
                        } else {
                            format!(" (depends on {})", rev.depends_on.join(", "))
                        },
                        rev.message
                    ),
                })
                .collect();
            let mut text = draw::render(&nodes).join("\n");
            text.push('\n');
            text
        } else if args.verbose {
            revs.iter()
                .enumerate()
                .map(|(i, rev)| verbose_block(graph, rev, is_applied(i)))
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            let mut text = String::new();
            for (i, rev) in revs.iter().enumerate() {
                text.push_str(&history_line(graph, rev, is_applied(i)));
                text.push('\n');
            }
            text
        }
    })
}

#[derive(Debug, Serialize)]
struct Written {
    revision: String,
    parents: Vec<String>,
    files: Vec<String>,
}

fn print_written(written: &Written, out: Output) -> anyhow::Result<()> {
    out.emit(written, || {
        let mut text = format!(
            "Generated revision {} (parents: {})\n",
            written.revision,
            if written.parents.is_empty() {
                "<base>".to_string()
            } else {
                written.parents.join(", ")
            }
        );
        for file in &written.files {
            text.push_str(&format!("  {file}\n"));
        }
        text
    })
}

/// Resolves a parent reference: any target naming exactly one revision.
fn resolve_parent<'g>(graph: &'g Graph, reference: &str) -> anyhow::Result<&'g Revision> {
    let resolved = graph.resolve(&braid_graph::Applied::new(), reference)?;
    match resolved.as_slice() {
        [one] => Ok(one),
        [] => bail!("'{reference}' names no revision; name the parent revision explicitly"),
        many => bail!(
            "'{reference}' names several revisions ({}); name one parent, or use --parent once per parent",
            many.iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn require_head(graph: &Graph, rev: &Revision, splice: bool) -> anyhow::Result<()> {
    if !splice && !graph.is_head(&rev.id) {
        bail!(
            "revision {} is not a head; pass --splice to start a new branch from it",
            rev.id
        );
    }
    Ok(())
}

/// Checks a new revision id (or makes one) against the graph.
fn new_id(graph: &Graph, requested: Option<&str>) -> anyhow::Result<String> {
    let id = match requested {
        Some(id) => id.to_string(),
        None => braid_source::new_revision_id(),
    };
    braid_graph::validate_id(&id)
        .map_err(|reason| anyhow::anyhow!("invalid --rev-id '{id}': {reason}"))?;
    if graph.get(&id).is_some() {
        bail!("revision id '{id}' is already used; choose another --rev-id");
    }
    Ok(id)
}

fn check_labels(graph: &Graph, labels: &[String]) -> anyhow::Result<()> {
    for label in labels {
        braid_graph::validate_id(label)
            .map_err(|reason| anyhow::anyhow!("invalid --branch-label '{label}': {reason}"))?;
        if let Some(owner) = graph.label_owner(label) {
            bail!(
                "branch label '{label}' is already used by revision {}",
                owner.id
            );
        }
        if graph.get(label).is_some() {
            bail!("branch label '{label}' is the id of a revision; choose another label");
        }
    }
    Ok(())
}

/// Writes a new revision (created now, whole seconds so the file reads well).
fn write(dir: &Path, new: braid_source::NewRevision, rust: bool) -> anyhow::Result<Written> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the migrations directory {}", dir.display()))?;
    let written = if rust {
        braid_source::write_rust_revision(dir, &new)?
    } else {
        braid_source::write_revision(dir, &new)?
    };
    Ok(Written {
        revision: new.id,
        parents: new.parents,
        files: written.files.iter().map(|p| display_path(p)).collect(),
    })
}

fn now_seconds() -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    jiff::Timestamp::from_second(now.as_second()).unwrap_or(now)
}

/// Paths relative to the workspace root read better in messages.
fn display_path(path: &Path) -> String {
    let root = crate::project::workspace_root();
    path.strip_prefix(&root)
        .map(PathBuf::from)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

pub fn generate(graph: &Graph, dir: &Path, args: &GenerateArgs, out: Output) -> anyhow::Result<()> {
    if args.message.trim().is_empty() {
        bail!("the message (-m) is empty: say what the revision does; it also names its directory");
    }
    let parents: Vec<String> = if let Some(head) = &args.head {
        if head == "base" {
            Vec::new()
        } else {
            let rev = resolve_parent(graph, head)?;
            require_head(graph, rev, args.splice)?;
            vec![rev.id.clone()]
        }
    } else if !args.parents.is_empty() {
        let mut parents = Vec::new();
        for reference in &args.parents {
            let rev = resolve_parent(graph, reference)?;
            require_head(graph, rev, args.splice)?;
            if !parents.contains(&rev.id) {
                parents.push(rev.id.clone());
            }
        }
        parents
    } else {
        let heads = graph.heads();
        match heads.as_slice() {
            [] => Vec::new(),
            [one] => vec![one.revision.id.clone()],
            many => bail!(
                "several heads are present ({}); pass --head REV to choose the parent (e.g. --head {}@head), \
                 or join them first with `cargo xtask migrate merge heads`",
                many.iter()
                    .map(|h| h.revision.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                graph
                    .labels_of(&many[0].revision.id)
                    .first()
                    .copied()
                    .unwrap_or(many[0].revision.id.as_str())
            ),
        }
    };
    let mut depends_on = Vec::new();
    for reference in &args.depends_on {
        // A label stays a label (it follows the branch); anything else becomes the exact id.
        if graph.label_owner(reference).is_some() {
            depends_on.push(reference.clone());
        } else {
            depends_on.push(graph.lookup(reference)?.id.clone());
        }
    }
    check_labels(graph, &args.branch_labels)?;
    let id = new_id(graph, args.rev_id.as_deref())?;
    let new = braid_source::NewRevision {
        id,
        parents,
        depends_on,
        branch_labels: args.branch_labels.clone(),
        message: args.message.clone(),
        created: now_seconds(),
        transactional: !args.no_transaction,
    };
    let written = write(dir, new, args.rust)?;
    print_written(&written, out)
}

pub fn merge(graph: &Graph, dir: &Path, args: &MergeArgs, out: Output) -> anyhow::Result<()> {
    let mut parents: Vec<String> = Vec::new();
    for reference in &args.revisions {
        let revs: Vec<&Revision> = if reference == "heads" {
            graph.real_heads()
        } else {
            vec![resolve_parent(graph, reference)?]
        };
        for rev in revs {
            require_head(graph, rev, args.splice)?;
            if !parents.contains(&rev.id) {
                parents.push(rev.id.clone());
            }
        }
    }
    if parents.len() < 2 {
        bail!(
            "a merge needs at least two different revisions; got {} ({})",
            parents.len(),
            parents.join(", ")
        );
    }
    check_labels(graph, &args.branch_labels)?;
    let id = new_id(graph, args.rev_id.as_deref())?;
    let message = args
        .message
        .clone()
        .unwrap_or_else(|| format!("merge {}", parents.join(" and ")));
    let new = braid_source::NewRevision {
        id,
        parents,
        depends_on: Vec::new(),
        branch_labels: args.branch_labels.clone(),
        message,
        created: now_seconds(),
        transactional: true,
    };
    let written = write(dir, new, args.rust)?;
    print_written(&written, out)
}
