//! Helpers shared by the ported Alembic tests.
//!
//! Alembic's version table holds one row per head; Braid's holds one row per applied revision.
//! `applied_from_heads` turns an Alembic "current heads" fixture into Braid's applied set (the
//! heads plus everything they need), and `heads_after` turns an applied set back into heads for
//! comparison with Alembic's expected heads.
#![allow(dead_code)]

use braid_graph::{Applied, Direction, Graph, PlanError, Revision};

pub fn r(id: &str, parents: &[&str]) -> Revision {
    Revision::new(id, parents)
}

pub fn graph(revs: Vec<Revision>) -> Graph {
    match Graph::build(revs) {
        Ok(g) => g,
        Err(e) => panic!("graph should build: {e}"),
    }
}

/// The applied set of a database whose Alembic heads are `heads`.
pub fn applied_from_heads(g: &Graph, heads: &[&str]) -> Applied {
    let mut out = Applied::new();
    for h in heads {
        let rev = g.get(h).unwrap_or_else(|| panic!("unknown head {h}"));
        out.insert(rev.id.clone());
        out.extend(g.ancestors(h).into_iter().map(|r| r.id.clone()));
    }
    out
}

pub fn applied(ids: &[&str]) -> Applied {
    ids.iter().map(|s| s.to_string()).collect()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

pub fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

pub fn heads_of(g: &Graph, applied: &Applied) -> Vec<String> {
    sorted(
        g.applied_heads(applied)
            .iter()
            .map(|r| r.id.clone())
            .collect(),
    )
}

/// Upgrades from the given Alembic heads; checks the exact steps (graph order) and the heads after.
pub fn assert_upgrade(g: &Graph, from: &[&str], target: &str, steps: &[&str], heads: &[&str]) {
    let before = applied_from_heads(g, from);
    let plan = g
        .plan_upgrade(&before, target)
        .unwrap_or_else(|e| panic!("upgrade {target} from {from:?}: {e}"));
    assert!(plan.steps.iter().all(|s| s.direction == Direction::Up));
    let got: Vec<&str> = plan.steps.iter().map(|s| s.revision.id.as_str()).collect();
    assert_eq!(got, steps, "upgrade {target} from {from:?}");
    let after = plan.applied_after(&before);
    assert_eq!(
        heads_of(g, &after),
        sorted(strs(heads)),
        "heads after upgrade {target}"
    );
}

/// Downgrades from the given Alembic heads; checks the exact steps and the heads after.
pub fn assert_downgrade(g: &Graph, from: &[&str], target: &str, steps: &[&str], heads: &[&str]) {
    let before = applied_from_heads(g, from);
    let plan = g
        .plan_downgrade(&before, target)
        .unwrap_or_else(|e| panic!("downgrade {target} from {from:?}: {e}"));
    assert!(plan.steps.iter().all(|s| s.direction == Direction::Down));
    let got: Vec<&str> = plan.steps.iter().map(|s| s.revision.id.as_str()).collect();
    assert_eq!(got, steps, "downgrade {target} from {from:?}");
    let after = plan.applied_after(&before);
    assert_eq!(
        heads_of(g, &after),
        sorted(strs(heads)),
        "heads after downgrade {target}"
    );
}

pub fn upgrade_err(g: &Graph, from: &[&str], target: &str) -> PlanError {
    match g.plan_upgrade(&applied_from_heads(g, from), target) {
        Ok(p) => panic!("upgrade {target} should fail, planned {:?}", ids(&p)),
        Err(e) => e,
    }
}

pub fn downgrade_err(g: &Graph, from: &[&str], target: &str) -> PlanError {
    match g.plan_downgrade(&applied_from_heads(g, from), target) {
        Ok(p) => panic!("downgrade {target} should fail, planned {:?}", ids(&p)),
        Err(e) => e,
    }
}

pub fn ids(p: &braid_graph::Plan<'_>) -> Vec<String> {
    p.steps.iter().map(|s| s.revision.id.clone()).collect()
}

pub fn history(g: &Graph, range: Option<&str>, applied: &Applied) -> Vec<String> {
    g.history(range, applied)
        .unwrap_or_else(|e| panic!("history {range:?}: {e}"))
        .iter()
        .map(|r| r.id.clone())
        .collect()
}

pub fn resolve(g: &Graph, applied: &Applied, target: &str) -> Vec<String> {
    g.resolve(applied, target)
        .unwrap_or_else(|e| panic!("resolve {target}: {e}"))
        .iter()
        .map(|r| r.id.clone())
        .collect()
}

pub fn stamp(g: &Graph, from: &[&str], targets: &[&str]) -> Vec<String> {
    let before = applied_from_heads(g, from);
    let after = g
        .stamp(&before, targets, false)
        .unwrap_or_else(|e| panic!("stamp {targets:?}: {e}"));
    heads_of(g, &after)
}
