//! The heads file, `HEADS` in the migrations directory: the graph's heads, one line each, and a
//! checksum of the whole graph, committed with the migrations.
//!
//! Why: two people who each add a revision on the same head both rewrite the same lines of this
//! file, so merging their branches in git conflicts on it. The team sees at pull-request time
//! that the graph now has two heads to join (`braid merge heads`, or `braid rebase`), not at
//! deploy. Atlas's `atlas.sum` does the same for a linear directory. Any two branches that both
//! change the graph conflict here, since the checksum line changes in both, even when the heads
//! they leave need no joining; rewriting the file from the merged graph (`braid heads --write`)
//! settles that case.
//!
//! Every command that writes revisions (`generate`, `merge`, `rebase`, autogenerate, `import`)
//! rewrites the file from the graph on disk ([`refresh`]); `check` compares it with the graph
//! ([`state`]). A migrations directory without the file is left alone until a command writes a
//! revision: the file is the project's choice to commit, and it costs nothing to adopt.

use std::path::{Path, PathBuf};

use braid_graph::Graph;

use crate::Error;

/// The file's name in the migrations directory. The loader ignores plain files at the top level,
/// so it is never taken for a revision.
pub const HEADS_FILE: &str = "HEADS";

const HEADER: &str = "\
# The heads of this migration graph, one per line, and a checksum of the whole graph.
# Written by `braid generate`, `merge` and `rebase`; `braid check` compares it with the graph.
# A git conflict here means both branches changed the graph: join their heads with
# `braid merge heads` (or `braid rebase`), which rewrites this file; if the merged graph has
# one head already, `braid heads --write` rewrites it.
";

/// What the heads file says next to the graph.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum HeadsFileState {
    /// No heads file: the project has not adopted one (nothing to check).
    Missing,
    /// It lists the graph's heads and checksum.
    Matches,
    /// It holds git's conflict markers: both sides of a merge changed the graph.
    Conflicted,
    /// It lists other heads, or the same heads of another graph (a hand-resolved conflict, a
    /// revision added or edited without Braid).
    Stale {
        /// The heads it lists.
        listed: Vec<String>,
        /// The graph's heads.
        heads: Vec<String>,
    },
}

/// The file's text for `graph`: the header, `head ID` for each real head, then `graph
/// sha256:…` over every revision's id, parents, dependencies and labels (what the graph is made
/// of; messages, dates and bodies are not, so editing one does not touch the file).
pub fn render(graph: &Graph) -> String {
    let mut text = String::from(HEADER);
    for head in heads(graph) {
        text.push_str(&format!("head {head}\n"));
    }
    text.push_str(&format!("graph {}\n", checksum(graph)));
    text
}

/// Rewrites the heads file of `dir` from the graph on disk, and returns its path.
pub fn refresh(dir: &Path) -> Result<PathBuf, Error> {
    let graph = braid_source::load(dir)?;
    write(dir, &graph)
}

/// [`refresh`] after a command wrote revisions: `None`, or a warning saying that the revisions
/// are written and how to bring the heads file up to date. The revisions stay either way, and
/// a failure here must not hide them.
pub(crate) fn refresh_after_writing(dir: &Path) -> Option<String> {
    refresh(dir).err().map(|e| {
        format!(
            "the revisions are written, but the heads file could not be rewritten ({e}); run \
             `braid heads --write`"
        )
    })
}

/// Writes the heads file of `dir` for `graph`, and returns its path.
pub fn write(dir: &Path, graph: &Graph) -> Result<PathBuf, Error> {
    let path = dir.join(HEADS_FILE);
    std::fs::write(&path, render(graph)).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// The heads file of `dir` next to `graph`.
pub fn state(dir: &Path, graph: &Graph) -> Result<HeadsFileState, Error> {
    let path = dir.join(HEADS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HeadsFileState::Missing),
        Err(source) => return Err(Error::Io { path, source }),
    };
    if text.lines().any(is_conflict_marker) {
        return Ok(HeadsFileState::Conflicted);
    }
    // Only what the file says counts, not its comments: another release's header wording, or
    // an edited comment, is no reason to fail `check`.
    if said(&text) == said(&render(graph)) {
        return Ok(HeadsFileState::Matches);
    }
    let listed = text
        .lines()
        .filter_map(|line| line.trim_end().strip_prefix("head "))
        .map(|id| id.trim().to_string())
        .collect();
    Ok(HeadsFileState::Stale {
        listed,
        heads: heads(graph),
    })
}

/// The file's `head` and `graph` lines, trimmed.
fn said(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|line| line.starts_with("head ") || line.starts_with("graph "))
        .collect()
}

fn heads(graph: &Graph) -> Vec<String> {
    graph.real_heads().iter().map(|r| r.id.clone()).collect()
}

/// git's markers: `<<<<<<< `, `=======`, `>>>>>>> ` (and `|||||||` with diff3).
fn is_conflict_marker(line: &str) -> bool {
    ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
        .iter()
        .any(|marker| line.starts_with(marker))
}

/// The checksum of the graph's shape: one line per revision, by id, with its parents,
/// dependencies and labels in declared order.
fn checksum(graph: &Graph) -> String {
    let mut lines: Vec<String> = graph
        .in_order()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r.id,
                r.parents.join(","),
                r.depends_on.join(","),
                r.branch_labels.join(",")
            )
        })
        .collect();
    lines.sort();
    braid_source::checksum(&lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use braid_graph::Revision;

    fn graph(revisions: &[(&str, &[&str])]) -> Graph {
        Graph::build(
            revisions
                .iter()
                .map(|(id, p)| Revision::new(*id, p))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn lists_the_heads_and_a_checksum_of_the_shape() {
        let g = graph(&[("a", &[]), ("b", &["a"]), ("c", &["a"])]);
        let text = render(&g);
        assert!(text.contains("\nhead b\nhead c\ngraph sha256:"), "{text}");
        // Another shape with the same heads has another checksum.
        let other = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("x", &[])]);
        let same_heads = graph(&[("a", &[]), ("b", &["a"]), ("c", &["a"]), ("d", &[])]);
        assert_ne!(render(&other), render(&g));
        assert_ne!(render(&same_heads), render(&g));
    }

    #[test]
    fn reports_missing_matching_conflicted_and_stale() {
        let dir = tempfile::tempdir().unwrap();
        let g = graph(&[("a", &[]), ("b", &["a"])]);
        assert_eq!(state(dir.path(), &g).unwrap(), HeadsFileState::Missing);
        write(dir.path(), &g).unwrap();
        assert_eq!(state(dir.path(), &g).unwrap(), HeadsFileState::Matches);
        // Comments, blank lines and line ends do not count.
        let other = format!(
            "# another header\r\n\r\n{}",
            render(&g).replace('\n', "\r\n")
        );
        std::fs::write(dir.path().join(HEADS_FILE), other).unwrap();
        assert_eq!(state(dir.path(), &g).unwrap(), HeadsFileState::Matches);
        let grown = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"])]);
        assert_eq!(
            state(dir.path(), &grown).unwrap(),
            HeadsFileState::Stale {
                listed: vec!["b".into()],
                heads: vec!["c".into()]
            }
        );
        let conflicted = "head a\n<<<<<<< HEAD\nhead b\n=======\nhead c\n>>>>>>> feature\n";
        std::fs::write(dir.path().join(HEADS_FILE), conflicted).unwrap();
        assert_eq!(state(dir.path(), &g).unwrap(), HeadsFileState::Conflicted);
    }
}
