//! An upgrade limited to one deploy phase: what it applies and what it leaves for later.

mod common;

use braid_graph::{Applied, Graph, HeldBack, Phase, Revision};
use common::{applied, graph};

use Phase::{Contract, Expand};

fn rev(id: &str, parents: &[&str], phase: Phase) -> Revision {
    Revision::new(id, parents).with_phase(phase)
}

/// The ids an upgrade of `phase` from `applied` to `target` applies, and what it leaves.
fn part(g: &Graph, applied: &Applied, target: &str, phase: Phase) -> (Vec<String>, Vec<HeldBack>) {
    let plan = g.plan_upgrade(applied, target).unwrap();
    let (kept, left) = g.phase_part(plan, phase, |r| r.phase.unwrap());
    let ids = kept.steps.iter().map(|s| s.revision.id.clone()).collect();
    (ids, left)
}

fn held(revision: &str, phase: Phase, waits_for: Option<&str>) -> HeldBack {
    HeldBack {
        revision: revision.to_string(),
        phase,
        waits_for: waits_for.map(str::to_string),
    }
}

/// Two releases: e1 → c1 → e2 → c2, each expand finished by the contract after it.
fn two_releases() -> Graph {
    graph(vec![
        rev("e1", &[], Expand),
        rev("c1", &["e1"], Contract),
        rev("e2", &["c1"], Expand),
        rev("c2", &["e2"], Contract),
    ])
}

#[test]
fn each_release_takes_an_expand_step_and_a_contract_step() {
    let g = two_releases();
    let (ids, left) = part(&g, &applied(&[]), "heads", Expand);
    assert_eq!(ids, ["e1"]);
    assert_eq!(
        left,
        [
            held("c1", Contract, None),
            held("e2", Expand, Some("c1")),
            held("c2", Contract, None),
        ]
    );
    let (ids, left) = part(&g, &applied(&["e1"]), "heads", Contract);
    assert_eq!(ids, ["c1"]);
    assert_eq!(
        left,
        [held("e2", Expand, None), held("c2", Contract, Some("e2"))]
    );
    let (ids, _) = part(&g, &applied(&["e1", "c1"]), "heads", Expand);
    assert_eq!(ids, ["e2"]);
    let (ids, left) = part(&g, &applied(&["e1", "c1", "e2"]), "heads", Contract);
    assert_eq!(ids, ["c2"]);
    assert!(left.is_empty());
}

#[test]
fn a_contract_step_never_runs_with_the_expand_revisions_below_it() {
    // The expand step was skipped: the contract step applies nothing, and says what waits.
    let g = two_releases();
    let (ids, left) = part(&g, &applied(&[]), "heads", Contract);
    assert!(ids.is_empty(), "{ids:?}");
    assert_eq!(left[0], held("e1", Expand, None));
    assert_eq!(left[1], held("c1", Contract, Some("e1")));
}

#[test]
fn a_branch_of_the_other_phase_holds_back_only_what_stands_on_it() {
    // root → x1 (contract) → x2 (expand); root → y1 (expand) → y2 (expand); m joins both.
    let g = graph(vec![
        rev("root", &[], Expand),
        rev("x1", &["root"], Contract),
        rev("x2", &["x1"], Expand),
        rev("y1", &["root"], Expand),
        rev("y2", &["y1"], Expand),
        rev("m", &["x2", "y2"], Expand),
    ]);
    let (mut ids, left) = part(&g, &applied(&[]), "heads", Expand);
    ids.sort();
    assert_eq!(ids, ["root", "y1", "y2"]);
    let mut left: Vec<(String, Option<String>)> = left
        .into_iter()
        .map(|h| (h.revision, h.waits_for))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ("m".to_string(), Some("x2".to_string())),
            ("x1".to_string(), None),
            ("x2".to_string(), Some("x1".to_string())),
        ]
    );
}

#[test]
fn a_dependency_of_the_other_phase_holds_back_too() {
    // d depends on c (a contract revision on another root): it waits for it.
    let g = graph(vec![
        rev("a", &[], Expand),
        rev("c", &[], Contract),
        Revision::new("d", &["a"])
            .with_depends_on(&["c"])
            .with_phase(Expand),
    ]);
    let (ids, left) = part(&g, &applied(&[]), "heads", Expand);
    assert_eq!(ids, ["a"]);
    assert!(left.contains(&held("d", Expand, Some("c"))), "{left:?}");
}

#[test]
fn downgrades_are_not_limited() {
    let g = two_releases();
    let plan = g
        .plan_downgrade(&applied(&["e1", "c1", "e2"]), "base")
        .unwrap();
    let steps = plan.steps.len();
    let (kept, left) = g.phase_part(plan, Expand, |r| r.phase.unwrap());
    assert_eq!(kept.steps.len(), steps);
    assert!(left.is_empty());
}
