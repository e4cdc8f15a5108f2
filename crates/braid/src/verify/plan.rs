//! Which revisions a backend walks, and which of them it checks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use braid_graph::{Applied, Body, Graph, PlanError, Revision};

use super::{VerifyError, VerifyRange};
use crate::Error;

/// One revision of the walk, in upgrade order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Planned {
    pub id: String,
    /// Where its files are (for `verify.sql`); `None` for a revision built in memory.
    pub dir: Option<PathBuf>,
    /// Checked (up, down, up again); otherwise only upgraded, to reach the revisions checked.
    pub check: bool,
}

/// A range that does not resolve in a graph.
#[derive(Debug)]
pub(super) struct RangeError {
    from: String,
    to: String,
    source: Box<PlanError>,
}

impl RangeError {
    /// The facade error, naming the migration set.
    pub fn in_set(self, set: &Path) -> Error {
        VerifyError::Range {
            set: set.to_path_buf(),
            from: self.from,
            to: self.to,
            source: self.source,
        }
        .into()
    }
}

/// The walk of `graph`: its whole upgrade plan from base, each revision checked when it is in
/// `range` (every revision without one) and not in `applied` (when given: `--changed`), and
/// nothing after the last revision checked.
pub(super) fn revisions(
    graph: &Graph,
    range: Option<&VerifyRange>,
    applied: Option<&Applied>,
) -> Result<Vec<Planned>, RangeError> {
    if graph.is_empty() {
        return Ok(Vec::new());
    }
    let in_range = range.map(|r| in_range(graph, r)).transpose()?;
    let all = graph
        .plan_upgrade(&Applied::new(), "heads")
        .map_err(|source| RangeError {
            from: "base".to_string(),
            to: "heads".to_string(),
            source: Box::new(source),
        })?;
    let mut walk: Vec<Planned> = all
        .steps
        .iter()
        .map(|step| {
            let id = &step.revision.id;
            let wanted = in_range.as_ref().is_none_or(|ids| ids.contains(id));
            let new = applied.is_none_or(|applied| !applied.contains(id));
            Planned {
                id: id.clone(),
                dir: dir_of(step.revision),
                check: wanted && new,
            }
        })
        .collect();
    let last = walk.iter().rposition(|p| p.check).map_or(0, |i| i + 1);
    walk.truncate(last);
    Ok(walk)
}

/// The revisions `upgrade FROM:TO` applies: above FROM (and its ancestors), up to TO.
fn in_range(graph: &Graph, range: &VerifyRange) -> Result<BTreeSet<String>, RangeError> {
    let (from, to) = range.bounds();
    let failed = |source| RangeError {
        from: from.to_string(),
        to: to.to_string(),
        source: Box::new(source),
    };
    let mut below = Applied::new();
    for rev in graph.resolve(&Applied::new(), from).map_err(failed)? {
        below.insert(rev.id.clone());
        below.extend(graph.ancestors(&rev.id).into_iter().map(|a| a.id.clone()));
    }
    let plan = graph.plan_upgrade(&below, to).map_err(failed)?;
    Ok(plan.steps.iter().map(|s| s.revision.id.clone()).collect())
}

/// The directory of a revision's files: its SQL files', else its metadata file's.
fn dir_of(rev: &Revision) -> Option<PathBuf> {
    match &rev.body {
        Body::Sql { dir, .. } => Some(dir.clone()),
        _ => rev
            .origin
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a → b → c, and d on a branch from a.
    fn graph() -> Graph {
        Graph::build(vec![
            Revision::new("a", &[]),
            Revision::new("b", &["a"]),
            Revision::new("c", &["b"]),
            Revision::new("d", &["a"]),
        ])
        .unwrap()
    }

    fn checked(walk: &[Planned]) -> Vec<(&str, bool)> {
        walk.iter().map(|p| (p.id.as_str(), p.check)).collect()
    }

    #[test]
    fn everything_by_default() {
        let walk = revisions(&graph(), None, None).unwrap();
        assert!(walk.iter().all(|p| p.check));
        assert_eq!(walk.len(), 4);
    }

    #[test]
    fn a_range_checks_what_upgrade_would_apply_and_walks_to_it() {
        let range = VerifyRange::Between {
            from: "a".into(),
            to: "b".into(),
        };
        let walk = revisions(&graph(), Some(&range), None).unwrap();
        assert_eq!(checked(&walk), [("a", false), ("b", true)]);
        let since = VerifyRange::Since {
            revision: "b".into(),
        };
        let walk = revisions(&graph(), Some(&since), None).unwrap();
        let c = walk.iter().position(|p| p.id == "c").unwrap();
        assert!(walk[c].check);
        assert!(walk.iter().filter(|p| p.check).all(|p| p.id != "b"));
    }

    #[test]
    fn changed_leaves_out_what_is_applied_somewhere() {
        let applied: Applied = ["a", "b"].map(String::from).into();
        let walk = revisions(&graph(), None, Some(&applied)).unwrap();
        let checked: Vec<&str> = walk
            .iter()
            .filter(|p| p.check)
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(checked.len(), 2);
        assert!(checked.contains(&"c") && checked.contains(&"d"));
    }

    #[test]
    fn a_range_that_does_not_resolve_is_an_error() {
        let range = VerifyRange::Since {
            revision: "nope".into(),
        };
        assert!(revisions(&graph(), Some(&range), None).is_err());
    }

    #[test]
    fn range_syntax() {
        assert_eq!(
            ":b".parse::<VerifyRange>().unwrap(),
            VerifyRange::Between {
                from: "base".into(),
                to: "b".into()
            }
        );
        assert!("b".parse::<VerifyRange>().is_err());
    }
}
