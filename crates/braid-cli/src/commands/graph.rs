//! The commands that need no database: they read (and for generate/merge, write) the
//! migrations directory only.

use std::path::Path;
use std::process::ExitCode;

use braid::{
    BodyKind, GenerateRequest, Graph, MergeRequest, ParentChoice, Project, Revision, RunSettings,
    Written,
};
use serde::Serialize;

use super::{Failure, Outcome, Set};
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
    /// With `show` and `history -v`: the deploy phase, declared or inferred (`null` when it
    /// cannot be told).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<Option<braid::phase::PhaseOf>>,
}

pub fn revision_json<'a>(graph: &'a Graph, rev: &'a Revision) -> RevisionJson<'a> {
    let marks = graph.markers(rev);
    RevisionJson {
        revision: &rev.id,
        parents: &rev.parents,
        depends_on: &rev.depends_on,
        branch_labels: marks.labels,
        message: &rev.message,
        created: rev.created.map(|t| t.to_string()),
        is_head: marks.is_head,
        is_branch_point: marks.is_branch_point,
        is_merge_point: marks.is_merge_point,
        transactional: rev.transactional,
        path: rev.origin.as_ref().map(|p| p.display().to_string()),
        is_applied: None,
        applied_in: None,
        phase: None,
    }
}

/// The `Phase:` line of `show` and `history -v`: the phase, and whether it is declared or
/// what it was inferred from.
pub fn phase_line(of: &Result<braid::phase::PhaseOf, braid::phase::PhaseError>) -> String {
    let of = match of {
        Ok(of) => of,
        Err(e) => return format!("Phase: cannot be told: {e}\n"),
    };
    let why = if of.declared {
        "declared".to_string()
    } else if of.reasons.is_empty() {
        "inferred: it only adds".to_string()
    } else {
        let reasons: Vec<String> = of
            .reasons
            .iter()
            .map(|r| format!("{} ({}:{})", r.reason, r.file, r.line))
            .collect();
        format!("inferred: {}", reasons.join("; "))
    };
    let unread = match of.unparsed.len() {
        0 => String::new(),
        n => format!(
            "; {n} statement(s) could not be read, so declare `phase` in revision.toml to be sure"
        ),
    };
    format!("Phase: {} ({why}{unread})\n", of.phase)
}

/// The markers Alembic prints after a revision: `(label) (head) (branchpoint) (mergepoint)`.
/// `applied` is the `history -i` marker's text (`applied`, or `applied: app, pg` with several
/// databases); empty when the revision is applied nowhere.
pub fn markers(graph: &Graph, rev: &Revision, applied: Option<&str>) -> String {
    let mut out = String::new();
    let marks = graph.markers(rev);
    if !marks.labels.is_empty() {
        out.push_str(&format!(" ({})", marks.labels.join(", ")));
    }
    if marks.is_head {
        out.push_str(" (head)");
    }
    if let Some(mark) = applied.filter(|m| !m.is_empty()) {
        out.push_str(&format!(" ({mark})"));
    }
    if marks.is_branch_point {
        out.push_str(" (branchpoint)");
    }
    if marks.is_merge_point {
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

/// Alembic's verbose block of one revision; `phase` is its [`phase_line`] where the command
/// shows phases.
pub fn verbose_block(
    graph: &Graph,
    rev: &Revision,
    applied: Option<&str>,
    phase: Option<&str>,
) -> String {
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
    if let Some(phase) = phase {
        out.push_str(phase);
    }
    if let Some(origin) = &rev.origin {
        out.push_str(&format!("Path: {}\n", origin.display()));
    }
    out.push_str(&format!("\n    {}\n", rev.message));
    out
}

pub fn heads(set: &Set, args: &HeadsArgs, out: Output<'_>) -> Outcome {
    let graph = &set.graph;
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
                branch_labels: graph.markers(h.revision).labels,
                effective: h.effective,
                message: &h.revision.message,
            })
            .collect(),
    };
    out.emit(&json, || {
        let mut text = String::new();
        for head in &heads {
            if args.verbose {
                text.push_str(&verbose_block(graph, head.revision, None, None));
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
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn branches(set: &Set, out: Output<'_>) -> Outcome {
    let graph = &set.graph;
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
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn show(project: &Project, set: &Set, args: &ShowArgs, out: Output<'_>) -> Outcome {
    let graph = &set.graph;
    let rev = graph
        .named_one(&args.revision)
        .map_err(braid::Error::from)?;
    let phase = project.phases().of(rev);
    let json = RevisionJson {
        phase: Some(phase.clone().ok()),
        ..revision_json(graph, rev)
    };
    out.emit(&json, || {
        verbose_block(graph, rev, None, Some(&phase_line(&phase)))
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `history`; with `-i`, each database of the set is read and what it applied is marked
/// (`current` in a range means their union). A database that cannot be read is reported and
/// left out; the history is still printed, and the exit code says so.
pub fn history(
    project: &Project,
    settings: &RunSettings,
    args: &HistoryArgs,
    out: Output<'_>,
) -> Outcome {
    let set = super::set(project, &settings.databases)?;
    let sets = match args.indicate_current {
        true => Some(project.applied_sets(settings, &set.dir, &braid_runner_no_events)?),
        false => None,
    };
    if let Some(sets) = &sets {
        for (name, error) in &sets.unreadable {
            eprintln!("warning: {name}: not marked: {}", out.say(error));
        }
    }
    print_history(
        project,
        &set.graph,
        args,
        sets.as_ref().map(|s| s.read.as_slice()),
        out,
    )?;
    match sets {
        Some(sets) if !sets.unreadable.is_empty() => Err(Failure::Exit {
            code: crate::exit_codes::ERROR,
            message: "some databases could not be read (see the warnings above)".into(),
        }),
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn braid_runner_no_events(_: &braid::Event) {}

fn print_history(
    project: &Project,
    graph: &Graph,
    args: &HistoryArgs,
    applied: Option<&[(String, braid::Applied)]>,
    out: Output<'_>,
) -> Result<(), Failure> {
    #[derive(Serialize)]
    struct History<'a> {
        revisions: Vec<RevisionJson<'a>>,
    }
    let union: braid::Applied = applied
        .into_iter()
        .flatten()
        .flat_map(|(_, set)| set.iter().cloned())
        .collect();
    let revs = graph
        .history(args.range.as_deref(), &union)
        .map_err(braid::Error::from)?;
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
    // `-v` shows each revision's phase; inferring one reads its SQL, so only then.
    let phases = project.phases();
    let phase_of = |rev: &Revision| args.verbose.then(|| phases.of(rev));
    // Only JSON output needs one record per revision; the human text is built from `revs`.
    let json_revs = revs.iter().filter(|_| out.is_json());
    let json = History {
        revisions: json_revs
            .map(|rev| {
                let mut json = revision_json(graph, rev);
                json.phase = phase_of(rev).map(Result::ok);
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
                .map(|(i, rev)| {
                    let phase = phase_of(rev).map(|of| phase_line(&of));
                    verbose_block(graph, rev, is_applied(i), phase.as_deref())
                })
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
    })?;
    Ok(())
}

/// Prints what `generate` or `merge` wrote: `{"revision", "parents", "files"}` in JSON.
pub(super) fn print_written(project: &Project, written: &Written, out: Output<'_>) -> Outcome {
    for warning in &written.warnings {
        eprintln!("warning: {}", out.say(warning));
    }
    #[derive(Serialize)]
    struct Json<'a> {
        revision: &'a str,
        parents: &'a [String],
        files: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        overlaps: Option<&'a braid::overlap::OverlapReport>,
    }
    let json = Json {
        revision: &written.revision,
        parents: &written.parents,
        files: written
            .files
            .iter()
            .map(|f| display_path(project.root(), f))
            .collect(),
        overlaps: written.overlaps.as_ref(),
    };
    out.emit(&json, || {
        let mut text = format!(
            "Generated revision {} (parents: {})\n",
            written.revision,
            if written.parents.is_empty() {
                "<base>".to_string()
            } else {
                written.parents.join(", ")
            }
        );
        for file in &json.files {
            text.push_str(&format!("  {file}\n"));
        }
        if let Some(report) = &written.overlaps {
            text.push_str(&overlaps_text(report));
        }
        if written.body == BodyKind::Rust && !braid::features().contains(&"rust") {
            text.push_str(
                "note: this binary cannot run Rust revisions; a workspace's xtask built with \
                 braid's `rust` feature compiles them in (see braid-build)\n",
            );
        }
        text
    })?;
    Ok(ExitCode::SUCCESS)
}

/// What the merged branches both touch, and what could not be read.
fn overlaps_text(report: &braid::overlap::OverlapReport) -> String {
    let mut text = String::new();
    if !report.overlaps.is_empty() {
        text.push_str("The branches overlap:\n");
    }
    for overlap in &report.overlaps {
        text.push_str(&format!("  {overlap}\n"));
    }
    for skipped in &report.not_analysed {
        let at = skipped.line.map(|l| format!(":{l}")).unwrap_or_default();
        text.push_str(&format!(
            "  not analysed: {} ({}) {}{at}: {}\n",
            skipped.revision, skipped.dialect, skipped.file, skipped.reason
        ));
    }
    text
}

/// Paths under the project root read better relative to it.
pub(super) fn display_path(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn body(rust: bool) -> BodyKind {
    if rust { BodyKind::Rust } else { BodyKind::Sql }
}

pub fn generate(
    project: &Project,
    databases: &[String],
    args: &GenerateArgs,
    out: Output<'_>,
) -> Outcome {
    let written = project.generate(databases, &generate_request(args))?;
    print_written(project, &written, out)
}

/// The new revision `generate`'s arguments describe.
pub(super) fn generate_request(args: &GenerateArgs) -> GenerateRequest {
    let parents = match (&args.head, args.parents.as_slice()) {
        (Some(head), _) => ParentChoice::Head(head.clone()),
        (None, []) => ParentChoice::SingleHead,
        (None, parents) => ParentChoice::Parents(parents.to_vec()),
    };
    GenerateRequest {
        message: args.message.clone(),
        rev_id: args.rev_id.clone(),
        parents,
        splice: args.splice,
        branch_labels: args.branch_labels.clone(),
        depends_on: args.depends_on.clone(),
        transactional: !args.no_transaction,
        phase: args.phase.map(Into::into),
        body: body(args.rust || args.autogenerate),
    }
}

pub fn merge(
    project: &Project,
    databases: &[String],
    args: &MergeArgs,
    out: Output<'_>,
) -> Outcome {
    let request = MergeRequest {
        revisions: args.revisions.clone(),
        message: args.message.clone(),
        rev_id: args.rev_id.clone(),
        branch_labels: args.branch_labels.clone(),
        splice: args.splice,
        body: body(args.rust),
        allow_overlap: args.allow_overlap.clone(),
    };
    let written = project.merge(databases, &request)?;
    print_written(project, &written, out)
}
