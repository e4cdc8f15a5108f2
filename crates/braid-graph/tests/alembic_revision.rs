//! Ports of Alembic's `tests/test_revision.py`.
//!
//! Alembic's `iterate_revisions(upper, lower)` maps onto Braid as follows:
//! * plain iteration → `history("lower:upper")` (inclusive, newest first);
//! * `implicit_base=True` → `plan_upgrade` from the applied set of `lower`;
//! * `select_for_downgrade=True` → `plan_downgrade` from the applied set of `upper`.
//!
//! Orders are Braid's graph order (reversed for history and downgrades); where Alembic's
//! depth-first order differs the test says "Alembic: …". Sets always match unless noted.

#![allow(non_snake_case)]

mod common;
use braid_graph::{Applied, Graph, GraphError, PlanError};
use common::*;

fn all(g: &Graph) -> Applied {
    g.in_order().map(|r| r.id.clone()).collect()
}

fn hist(g: &Graph, range: &str) -> Vec<String> {
    history(g, Some(range), &Applied::new())
}

// ---------------------------------------------------------------------------------------------
// APITest

fn abc() -> Graph {
    graph(vec![r("a", &[]), r("b", &["a"]), r("c", &["b"])])
}

fn forked() -> Graph {
    graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]),
        r("c2", &["b"]),
    ])
}

fn head_ids(g: &Graph) -> Vec<String> {
    g.heads().iter().map(|h| h.revision.id.clone()).collect()
}

#[test]
fn api__add_revision_one_head() {
    assert_eq!(head_ids(&abc()), strs(&["c"]));
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c", &["b"]),
        r("d", &["c"]),
    ]);
    assert_eq!(head_ids(&g), strs(&["d"]));
}

#[test]
fn api__add_revision_two_head() {
    assert_eq!(head_ids(&forked()), strs(&["c1", "c2"]));
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]),
        r("c2", &["b"]),
        r("d1", &["c1"]),
    ]);
    assert_eq!(head_ids(&g), strs(&["c2", "d1"]));
}

#[test]
fn api__get_revision_head_single() {
    assert_eq!(resolve(&abc(), &Applied::new(), "head"), strs(&["c"]));
}

#[test]
fn api__get_revision_base_single() {
    assert!(resolve(&abc(), &Applied::new(), "base").is_empty());
}

#[test]
fn api__get_revision_head_multiple() {
    let e = forked().resolve(&Applied::new(), "head").unwrap_err();
    assert_eq!(
        e,
        PlanError::MultipleHeads {
            target: "head".into(),
            heads: strs(&["c1", "c2"])
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("'heads'") && msg.contains("<label>@head") && msg.contains("merge"),
        "{msg}"
    );
}

#[test]
fn api__get_revision_heads_multiple() {
    // `heads` as a single revision (a downgrade target) is ambiguous.
    let g = forked();
    let e = g.plan_downgrade(&all(&g), "heads").unwrap_err();
    assert!(matches!(e, PlanError::MultipleHeads { .. }), "{e:?}");
}

#[test]
fn api__get_revisions_heads_multiple() {
    assert_eq!(
        resolve(&forked(), &Applied::new(), "heads"),
        strs(&["c1", "c2"])
    );
}

#[test]
fn api__get_revision_base_multiple() {
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c", &[]),
        r("d", &["c"]),
    ]);
    assert!(resolve(&g, &Applied::new(), "base").is_empty());
}

// ---------------------------------------------------------------------------------------------
// DiamondTest, EmptyMapTest

#[test]
fn diamond__iterate_simple_diamond() {
    let g = graph(vec![
        r("a", &[]),
        r("b1", &["a"]),
        r("b2", &["a"]),
        r("c", &["b1", "b2"]),
        r("d", &["c"]),
    ]);
    // Alembic: d, c, b1, b2, a.
    assert_eq!(hist(&g, "a:d"), strs(&["d", "c", "b2", "b1", "a"]));
}

#[test]
fn empty_map__iterate() {
    let g = graph(vec![]);
    assert!(hist(&g, "base:head").is_empty());
    assert!(hist(&g, ":").is_empty());
    assert!(g.plan_upgrade(&Applied::new(), "head").unwrap().is_empty());
    assert!(
        g.plan_downgrade(&Applied::new(), "base")
            .unwrap()
            .is_empty()
    );
    assert!(g.heads().is_empty() && g.bases().is_empty());
}

// ---------------------------------------------------------------------------------------------
// LabeledBranchTest

fn labeled() -> Graph {
    graph(vec![
        r("a", &[]).with_labels(&["abranch"]),
        r("b", &["a"]),
        r("somelongername", &["b"]),
        r("c", &["somelongername"]),
        r("d", &[]),
        r("e", &["d"]).with_labels(&["ebranch"]),
        r("someothername", &["e"]),
        r("f", &["someothername"]),
    ])
}

fn one(g: &Graph, target: &str) -> String {
    let v = resolve(g, &all(g), target);
    assert_eq!(v.len(), 1, "{target} -> {v:?}");
    v[0].clone()
}

#[test]
fn labeled_branch__dupe_branch_collection() {
    let e = Graph::build(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c", &["b"]).with_labels(&["xy1"]),
        r("d", &[]),
        r("e", &["d"]).with_labels(&["xy1"]),
        r("f", &["e"]),
    ])
    .unwrap_err();
    assert!(
        matches!(&e, GraphError::DuplicateLabel { label, .. } if label == "xy1"),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains("revision c") && msg.contains("revision e"),
        "{msg}"
    );
}

#[test]
fn labeled_branch__filter_for_lineage_labeled_head_across_merge() {
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]).with_labels(&["c1branch"]),
        r("c2", &["b"]),
        r("d", &["c1", "c2"]),
    ]);
    assert_eq!(one(&g, "c1branch@head"), "d");
    // c2 shares lineage with c1branch's head but is not a member of the label.
    assert_eq!(g.labels_of("d"), vec!["c1branch"]);
    assert!(g.labels_of("c2").is_empty());
}

#[test]
fn labeled_branch__filter_for_lineage_heads() {
    assert_eq!(
        resolve(&labeled(), &Applied::new(), "heads"),
        strs(&["c", "f"])
    );
}

#[test]
fn labeled_branch__get_base_revisions_labeled() {
    assert_eq!(
        hist(&labeled(), "somelongername@base:"),
        strs(&["c", "somelongername", "b", "a"])
    );
}

#[test]
fn labeled_branch__get_current_named_rev() {
    assert_eq!(one(&labeled(), "ebranch@head"), "f");
}

#[test]
fn labeled_branch__get_base_revisions() {
    let g = labeled();
    let bases: Vec<&str> = g.bases().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(bases, ["a", "d"]);
}

#[test]
fn labeled_branch__iterate_head_to_named_base() {
    let g = labeled();
    assert_eq!(
        hist(&g, "ebranch@base:heads"),
        strs(&["f", "someothername", "e", "d"])
    );
    assert_eq!(
        hist(&g, "abranch@base:heads"),
        strs(&["c", "somelongername", "b", "a"])
    );
}

#[test]
fn labeled_branch__iterate_named_head_to_base() {
    let g = labeled();
    assert_eq!(
        hist(&g, "base:ebranch@head"),
        strs(&["f", "someothername", "e", "d"])
    );
    assert_eq!(
        hist(&g, ":abranch@head"),
        strs(&["c", "somelongername", "b", "a"])
    );
}

#[test]
fn labeled_branch__iterate_named_head_to_heads() {
    assert_eq!(hist(&labeled(), "ebranch@head:heads"), strs(&["f"]));
}

#[test]
fn labeled_branch__iterate_named_rev_to_heads() {
    assert_eq!(
        hist(&labeled(), "ebranch@d:heads"),
        strs(&["f", "someothername", "e", "d"])
    );
}

#[test]
fn labeled_branch__iterate_head_to_version_specific_base() {
    let g = labeled();
    assert_eq!(
        hist(&g, "e@base:heads"),
        strs(&["f", "someothername", "e", "d"])
    );
    assert_eq!(
        hist(&g, "c@base:heads"),
        strs(&["c", "somelongername", "b", "a"])
    );
}

#[test]
fn labeled_branch__branch_w_down_relative() {
    // Relative to the applied revisions on the branch: everything is applied here.
    let g = labeled();
    assert_eq!(
        history(&g, Some("ebranch@-2:heads"), &all(&g)),
        strs(&["f", "someothername", "e"])
    );
}

#[test]
fn labeled_branch__branch_w_up_relative() {
    assert_eq!(hist(&labeled(), ":ebranch@+2"), strs(&["e", "d"]));
}

#[test]
fn labeled_branch__partial_id_resolve() {
    let g = labeled();
    assert_eq!(one(&g, "ebranch@some"), "someothername");
    assert_eq!(one(&g, "abranch@some"), "somelongername");
    // Without a branch the prefix is ambiguous.
    let e = g.lookup("some").unwrap_err();
    assert_eq!(
        e,
        PlanError::Ambiguous {
            prefix: "some".into(),
            candidates: strs(&["somelongername", "someothername"]),
            total: 2
        }
    );
}

#[test]
fn labeled_branch__partial_id_resolve_too_short() {
    // Braid accepts prefixes of any length; this one simply matches nothing.
    let e = labeled()
        .resolve(&Applied::new(), "ebranch@sos")
        .unwrap_err();
    assert!(
        matches!(&e, PlanError::Unknown { reference, .. } if reference == "sos"),
        "{e:?}"
    );
}

#[test]
fn labeled_branch__branch_at_heads() {
    assert_eq!(one(&labeled(), "abranch@heads"), "c");
}

#[test]
fn labeled_branch__branch_at_syntax() {
    let g = labeled();
    assert_eq!(one(&g, "abranch@head"), "c");
    assert!(resolve(&g, &Applied::new(), "abranch@base").is_empty());
    assert_eq!(one(&g, "ebranch@head"), "f");
    assert_eq!(one(&g, "ebranch@d"), "d");
}

#[test]
fn labeled_branch__branch_at_self() {
    assert_eq!(one(&labeled(), "ebranch@ebranch"), "e");
}

#[test]
fn labeled_branch__retrieve_branch_revision() {
    let g = labeled();
    assert_eq!(one(&g, "abranch"), "a");
    assert_eq!(one(&g, "ebranch"), "e");
    assert_eq!(g.lookup("ebranch").unwrap().id, "e");
}

#[test]
fn labeled_branch__rev_not_in_branch() {
    let g = labeled();
    let e = g.resolve(&Applied::new(), "ebranch@b").unwrap_err();
    assert_eq!(
        e,
        PlanError::NotMember {
            revision: "b".into(),
            branch: "ebranch".into()
        }
    );
    assert!(
        e.to_string().contains("not a member of branch 'ebranch'"),
        "{e}"
    );
    let e = g.resolve(&Applied::new(), "abranch@d").unwrap_err();
    assert_eq!(
        e,
        PlanError::NotMember {
            revision: "d".into(),
            branch: "abranch".into()
        }
    );
}

#[test]
fn labeled_branch__actually_short_rev_name() {
    assert_eq!(one(&labeled(), "e"), "e");
}

#[test]
fn labeled_branch__no_revision_exists() {
    let e = labeled()
        .resolve(&Applied::new(), "abranch@qprstuv")
        .unwrap_err();
    assert!(matches!(&e, PlanError::Unknown { reference, .. } if reference == "qprstuv"));
    assert!(
        e.to_string()
            .starts_with("no such revision or branch 'qprstuv'"),
        "{e}"
    );
}

#[test]
fn labeled_branch__not_actually_a_branch() {
    assert_eq!(one(&labeled(), "e@d"), "d");
}

#[test]
fn labeled_branch__not_actually_a_branch_partial_resolution() {
    assert_eq!(one(&labeled(), "someoth@d"), "d");
}

#[test]
fn labeled_branch__no_such_branch() {
    let e = labeled().resolve(&Applied::new(), "x@d").unwrap_err();
    assert!(
        matches!(&e, PlanError::Unknown { reference, .. } if reference == "x"),
        "{e:?}"
    );
}

#[test]
fn labeled_branch__label_membership() {
    let g = labeled();
    // A label on a base applies to the whole tree.
    let members: Vec<&str> = g
        .label_members("abranch")
        .unwrap()
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(members, ["a", "b", "somelongername", "c"]);
    // A label on e reaches down its single-parent line to the base d.
    assert_eq!(g.labels_of("d"), vec!["ebranch"]);
    assert_eq!(g.label_owner("ebranch").unwrap().id, "e");
    assert!(g.label_members("nope").is_none());
}

// ---------------------------------------------------------------------------------------------
// LongShortBranchTest

#[test]
fn long_short_branch__iterate_full() {
    let g = graph(vec![
        r("a", &[]),
        r("b1", &["a"]),
        r("b2", &["a"]),
        r("c1", &["b1"]),
        r("d11", &["c1"]),
        r("d12", &["c1"]),
    ]);
    // Alembic: b2, d11, d12, c1, b1, a.
    let expected = strs(&["d12", "d11", "c1", "b2", "b1", "a"]);
    assert_eq!(hist(&g, "base:heads"), expected);
    assert_eq!(history(&g, None, &Applied::new()), expected);
}

// ---------------------------------------------------------------------------------------------
// MultipleBranchTest. Graph order: a, b1, b2, cb1, cb2, d1cb1, d1cb2, d2cb1, d2cb2, d1d2cb2, d3cb2.

fn multiple_branch() -> Graph {
    graph(vec![
        r("a", &[]),
        r("b1", &["a"]),
        r("b2", &["a"]),
        r("cb1", &["b1"]),
        r("cb2", &["b2"]),
        r("d1cb1", &["cb1"]),
        r("d2cb1", &["cb1"]),
        r("d1cb2", &["cb2"]),
        r("d2cb2", &["cb2"]),
        r("d3cb2", &["cb2"]),
        r("d1d2cb2", &["d1cb2", "d2cb2"]),
    ])
}

#[test]
fn multiple_branch__iterate_from_merge_point() {
    // Alembic: d1d2cb2, d1cb2, d2cb2, cb2, b2, a.
    assert_eq!(
        hist(&multiple_branch(), "a:d1d2cb2"),
        strs(&["d1d2cb2", "d2cb2", "d1cb2", "cb2", "b2", "a"])
    );
}

#[test]
fn multiple_branch__iterate_multiple_heads() {
    // Several upper revisions: the applied set after stamping them, as a set.
    let g = multiple_branch();
    let after = g
        .stamp(&Applied::new(), &["d2cb2", "d3cb2"], false)
        .unwrap();
    assert_eq!(after, applied(&["d2cb2", "d3cb2", "cb2", "b2", "a"]));
}

#[test]
fn multiple_branch__iterate_single_branch() {
    let g = multiple_branch();
    assert_eq!(hist(&g, "a:d3cb2"), strs(&["d3cb2", "cb2", "b2", "a"]));
}

#[test]
fn multiple_branch__iterate_single_branch_to_base() {
    let g = multiple_branch();
    assert_eq!(hist(&g, "base:d3cb2"), strs(&["d3cb2", "cb2", "b2", "a"]));
    assert_eq!(hist(&g, ":d3cb2"), strs(&["d3cb2", "cb2", "b2", "a"]));
}

#[test]
fn multiple_branch__iterate_multiple_branch_to_base() {
    let g = multiple_branch();
    let after = g.stamp(&Applied::new(), &["d3cb2", "cb1"], false).unwrap();
    assert_eq!(after, applied(&["cb1", "b1", "d3cb2", "cb2", "b2", "a"]));
}

#[test]
fn multiple_branch__iterate_multiple_heads_single_base() {
    // Alembic iterates [d1cb1, d2cb2, d3cb2] down to b2; d1cb1 is not above b2.
    let g = multiple_branch();
    assert_eq!(
        hist(&g, "b2:heads"),
        strs(&["d3cb2", "d1d2cb2", "d2cb2", "d1cb2", "cb2", "b2"])
    );
}

fn range_err(g: &Graph, range: &str) -> PlanError {
    g.history(Some(range), &Applied::new()).unwrap_err()
}

#[test]
fn multiple_branch__same_branch_wrong_direction() {
    let e = range_err(&multiple_branch(), "d1cb1:b1");
    assert!(matches!(e, PlanError::InvalidRange { .. }), "{e:?}");
    assert!(
        e.to_string().contains("'d1cb1' is not an ancestor of 'b1'"),
        "{e}"
    );
}

#[test]
fn multiple_branch__distinct_branches() {
    let e = range_err(&multiple_branch(), "b1:d2cb2");
    assert!(
        e.to_string().contains("'b1' is not an ancestor of 'd2cb2'"),
        "{e}"
    );
}

#[test]
fn multiple_branch__wrong_direction_to_base() {
    let e = range_err(&multiple_branch(), "d1cb1:base");
    assert!(
        e.to_string()
            .contains("'d1cb1' is not an ancestor of 'base'"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// MultipleBranchEffectiveHead

fn effective_head() -> Graph {
    graph(vec![
        r("y1", &[]).with_labels(&["y"]),
        r("x1", &[]).with_labels(&["x"]),
        r("y2", &["y1"]).with_depends_on(&["x1"]),
        r("x2", &["x1"]),
    ])
}

#[test]
fn multiple_branch_effective_head__other_downgrade() {
    assert_downgrade(
        &effective_head(),
        &["x2", "y2"],
        "x@-1",
        &["x2"],
        &["x1", "y2"],
    );
}

#[test]
fn multiple_branch_effective_head__use_all_current() {
    assert_downgrade(
        &effective_head(),
        &["x1", "y2"],
        "x@-1",
        &["y2", "x1"],
        &["y1"],
    );
}

#[test]
fn multiple_branch_effective_head__effective_head() {
    assert_downgrade(&effective_head(), &["y2"], "x@-1", &["y2", "x1"], &["y1"]);
}

#[test]
fn multiple_branch_effective_head__heads_marks_effective() {
    let g = graph(vec![
        r("y1", &[]),
        r("x1", &[]),
        r("y2", &["y1"]).with_depends_on(&["x1"]),
    ]);
    let heads: Vec<(&str, bool)> = g
        .heads()
        .iter()
        .map(|h| (h.revision.id.as_str(), h.effective))
        .collect();
    assert_eq!(heads, [("x1", true), ("y2", false)]);
    let real: Vec<&str> = g.real_heads().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(real, ["y2"]);
    // `head` counts the effective head too, `heads` does not.
    assert!(matches!(
        g.resolve(&Applied::new(), "head").unwrap_err(),
        PlanError::MultipleHeads { .. }
    ));
    assert_eq!(resolve(&g, &Applied::new(), "heads"), strs(&["y2"]));
}

// ---------------------------------------------------------------------------------------------
// BranchTravellingTest. Graph order: a1, a2, a3, b1, b2, cb1, cb2, db1, db2, e1b1, e2b1, e2b2,
// fe1b1, merge.

fn travelling() -> Graph {
    graph(vec![
        r("a1", &[]),
        r("a2", &["a1"]),
        r("a3", &["a2"]),
        r("b1", &["a3"]),
        r("b2", &["a3"]),
        r("cb1", &["b1"]),
        r("cb2", &["b2"]),
        r("db1", &["cb1"]),
        r("db2", &["cb2"]),
        r("e1b1", &["db1"]),
        r("fe1b1", &["e1b1"]),
        r("e2b1", &["db1"]),
        r("e2b2", &["db2"]),
        r("merge", &["e2b1", "e2b2"]),
    ])
}

#[test]
fn branch_travelling__iterate_one_branch_both_to_merge() {
    // Alembic (inclusive of db1): merge, e2b1, db1, e2b2, db2, cb2, b2.
    assert_upgrade(
        &travelling(),
        &["db1"],
        "merge",
        &["b2", "cb2", "db2", "e2b1", "e2b2", "merge"],
        &["merge"],
    );
}

#[test]
fn branch_travelling__three_branches_end_in_single_branch() {
    assert_eq!(
        hist(&travelling(), "a3:heads"),
        strs(&[
            "merge", "fe1b1", "e2b2", "e2b1", "e1b1", "db2", "db1", "cb2", "cb1", "b2", "b1", "a3"
        ])
    );
}

#[test]
fn branch_travelling__two_branches_to_root() {
    assert_eq!(
        hist(&travelling(), "a1:merge"),
        strs(&[
            "merge", "e2b2", "e2b1", "db2", "db1", "cb2", "cb1", "b2", "b1", "a3", "a2", "a1"
        ])
    );
}

#[test]
fn branch_travelling__two_branches_end_in_branch() {
    assert_eq!(
        hist(&travelling(), "b1:merge"),
        strs(&["merge", "e2b1", "db1", "cb1", "b1"])
    );
}

#[test]
fn branch_travelling__two_branches_end_behind_branch() {
    assert_eq!(
        hist(&travelling(), "a2:merge"),
        strs(&[
            "merge", "e2b2", "e2b1", "db2", "db1", "cb2", "cb1", "b2", "b1", "a3", "a2"
        ])
    );
}

#[test]
fn branch_travelling__three_branches_to_root() {
    let g = travelling();
    let expected = strs(&[
        "merge", "fe1b1", "e2b2", "e2b1", "e1b1", "db2", "db1", "cb2", "cb1", "b2", "b1", "a3",
        "a2", "a1",
    ]);
    assert_eq!(hist(&g, "a1:heads"), expected);
    // The same list is a full downgrade.
    let plan = g.plan_downgrade(&all(&g), "base").unwrap();
    assert_eq!(ids(&plan), expected);
}

#[test]
fn branch_travelling__iterate_to_symbolic_base() {
    assert_eq!(
        hist(&travelling(), ":fe1b1"),
        strs(&["fe1b1", "e1b1", "db1", "cb1", "b1", "a3", "a2", "a1"])
    );
}

#[test]
fn branch_travelling__ancestor_nodes() {
    let g = travelling();
    let mut anc: Vec<&str> = g.ancestors("merge").iter().map(|r| r.id.as_str()).collect();
    anc.sort();
    assert_eq!(
        anc,
        [
            "a1", "a2", "a3", "b1", "b2", "cb1", "cb2", "db1", "db2", "e2b1", "e2b2"
        ]
    );
    let desc: Vec<&str> = g.descendants("db1").iter().map(|r| r.id.as_str()).collect();
    assert_eq!(desc, ["e1b1", "e2b1", "fe1b1", "merge"]);
    assert!(g.is_branch_point("a3") && g.is_branch_point("db1") && !g.is_branch_point("b1"));
    assert!(g.is_merge_point("merge") && !g.is_merge_point("a1"));
    assert!(g.is_head("merge") && g.is_head("fe1b1") && !g.is_head("db1"));
    let bps: Vec<(&str, Vec<&str>)> = g
        .branch_points()
        .iter()
        .map(|b| {
            (
                b.revision.id.as_str(),
                b.children.iter().map(|c| c.id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        bps,
        [("a3", vec!["b1", "b2"]), ("db1", vec!["e1b1", "e2b1"])]
    );
    let merges: Vec<&str> = g.merge_points().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(merges, ["merge"]);
}

// ---------------------------------------------------------------------------------------------
// MultipleBaseTest. Graph order: base1, a1a, a1b, b1a, b1b, base2, a2, b2, base3, a3, b3, c2,
// d2, mergeb3d2.

fn multiple_base() -> Graph {
    graph(vec![
        r("base1", &[]),
        r("base2", &[]),
        r("base3", &[]),
        r("a1a", &["base1"]),
        r("a1b", &["base1"]),
        r("a2", &["base2"]),
        r("a3", &["base3"]),
        r("b1a", &["a1a"]),
        r("b1b", &["a1b"]),
        r("b2", &["a2"]),
        r("b3", &["a3"]),
        r("c2", &["b2"]),
        r("d2", &["c2"]),
        r("mergeb3d2", &["b3", "d2"]),
    ])
}

#[test]
fn multiple_base__heads_to_base() {
    // Alembic walks each tree in turn: b1a, a1a, b1b, a1b, base1, mergeb3d2, b3, a3, base3, …
    let g = multiple_base();
    let expected = strs(&[
        "mergeb3d2",
        "d2",
        "c2",
        "b3",
        "a3",
        "base3",
        "b2",
        "a2",
        "base2",
        "b1b",
        "b1a",
        "a1b",
        "a1a",
        "base1",
    ]);
    assert_eq!(hist(&g, "base:heads"), expected);
    assert_eq!(hist(&g, ":"), expected);
}

#[test]
fn multiple_base__heads_to_revs_plus_implicit_base() {
    assert_upgrade(
        &multiple_base(),
        &["c2"],
        "heads",
        &[
            "base1",
            "a1a",
            "a1b",
            "b1a",
            "b1b",
            "base3",
            "a3",
            "b3",
            "d2",
            "mergeb3d2",
        ],
        &["b1a", "b1b", "mergeb3d2"],
    );
}

#[test]
fn multiple_base__heads_to_revs_base_inclusive() {
    // Alembic's exclusive variant gives [mergeb3d2, d2]; history ranges are inclusive.
    assert_eq!(
        hist(&multiple_base(), "c2:heads"),
        strs(&["mergeb3d2", "d2", "c2"])
    );
}

#[test]
fn multiple_base__specific_path_one() {
    assert_eq!(
        hist(&multiple_base(), "base3:b3"),
        strs(&["b3", "a3", "base3"])
    );
}

// ---------------------------------------------------------------------------------------------
// MultipleBaseCrossDependencyTestOne. Graph order: base1, a1a, a1b, b1a, base2, a2, b2, base3,
// a3, b1b, b3, c2, d2.

fn cross_one() -> Graph {
    graph(vec![
        r("base1", &[]).with_labels(&["b_1"]),
        r("a1a", &["base1"]),
        r("a1b", &["base1"]),
        r("b1a", &["a1a"]),
        r("b1b", &["a1b"]).with_depends_on(&["a3"]),
        r("base2", &[]).with_labels(&["b_2"]),
        r("a2", &["base2"]),
        r("b2", &["a2"]),
        r("c2", &["b2"]).with_depends_on(&["a3"]),
        r("d2", &["c2"]),
        r("base3", &[]).with_labels(&["b_3"]),
        r("a3", &["base3"]),
        r("b3", &["a3"]),
    ])
}

fn order_of(g: &Graph) -> Vec<String> {
    g.in_order().map(|r| r.id.clone()).collect()
}

#[test]
fn multiple_base_cross_dependency_one__what_are_the_heads() {
    let g = cross_one();
    assert_eq!(
        order_of(&g),
        strs(&[
            "base1", "a1a", "a1b", "b1a", "base2", "a2", "b2", "base3", "a3", "b1b", "b3", "c2",
            "d2"
        ])
    );
    // Alembic lists them in map order: b1a, b1b, d2, b3.
    assert_eq!(head_ids(&g), strs(&["b1a", "b1b", "b3", "d2"]));
}

#[test]
fn multiple_base_cross_dependency_one__heads_to_base() {
    let g = cross_one();
    let mut expected = order_of(&g);
    expected.reverse();
    assert_eq!(hist(&g, ":"), expected);
    let plan = g.plan_downgrade(&all(&g), "base").unwrap();
    assert_eq!(ids(&plan), expected);
}

#[test]
fn multiple_base_cross_dependency_one__wrong_direction() {
    let g = cross_one();
    assert!(
        range_err(&g, "d2:b2")
            .to_string()
            .contains("'d2' is not an ancestor of 'b2'")
    );
    assert!(
        range_err(&g, "d2:b3")
            .to_string()
            .contains("'d2' is not an ancestor of 'b3'")
    );
}

#[test]
fn multiple_base_cross_dependency_one__we_need_head2() {
    let g = cross_one();
    assert_upgrade(
        &g,
        &[],
        "b_2@head",
        &["base2", "a2", "b2", "base3", "a3", "c2", "d2"],
        &["a3", "d2"],
    );
    // Going down to b_2@base leaves the 3 branch alone.
    assert_downgrade(
        &g,
        &["d2"],
        "b_2@base",
        &["d2", "c2", "b2", "a2", "base2"],
        &["a3"],
    );
}

#[test]
fn multiple_base_cross_dependency_one__we_need_head3() {
    let g = cross_one();
    assert_upgrade(&g, &[], "b_3@head", &["base3", "a3", "b3"], &["b3"]);
    assert_downgrade(&g, &["b3"], "base", &["b3", "a3", "base3"], &[]);
}

#[test]
fn multiple_base_cross_dependency_one__we_need_head1() {
    let g = cross_one();
    assert_upgrade(
        &g,
        &[],
        "b1b@head",
        &["base1", "a1b", "base3", "a3", "b1b"],
        &["a3", "b1b"],
    );
    // Alembic also drops base1. For Braid `b1b@base` means b1b's branch as a label on b1b would
    // cover it: b1b and a1b, up to the branch point base1, which stays.
    assert_downgrade(&g, &["b1b"], "b1b@base", &["b1b", "a1b"], &["a3", "base1"]);
}

#[test]
fn multiple_base_cross_dependency_one__we_need_base2() {
    let g = cross_one();
    assert_eq!(
        hist(&g, "b_2@base:heads"),
        strs(&["d2", "c2", "a3", "base3", "b2", "a2", "base2"])
    );
    assert_downgrade(
        &g,
        &["b1a", "b1b", "d2", "b3"],
        "b_2@base",
        &["d2", "c2", "b2", "a2", "base2"],
        &["b1a", "b1b", "b3"],
    );
}

#[test]
fn multiple_base_cross_dependency_one__we_need_base3() {
    let g = cross_one();
    assert_eq!(hist(&g, "b_3@base:heads"), strs(&["b3", "a3", "base3"]));
    // Alembic: b1b, d2, c2, b3, a3, base3 (same set).
    assert_downgrade(
        &g,
        &["b1a", "b1b", "d2", "b3"],
        "b_3@base",
        &["d2", "c2", "b3", "b1b", "a3", "base3"],
        &["a1b", "b1a", "b2"],
    );
}

// ---------------------------------------------------------------------------------------------
// MultipleBaseCrossDependencyTestTwo. Graph order: base1, a1, b1, base2, a2, b2, base3, a3, b3,
// c1, c2, c3, d2, d3.

fn cross_two() -> Graph {
    graph(vec![
        r("base1", &[]).with_labels(&["b_1"]),
        r("a1", &["base1"]),
        r("b1", &["a1"]),
        r("c1", &["b1"]),
        r("base2", &[])
            .with_depends_on(&["b_1"])
            .with_labels(&["b_2"]),
        r("a2", &["base2"]),
        r("b2", &["a2"]),
        r("c2", &["b2"]),
        r("d2", &["c2"]),
        r("base3", &[]).with_labels(&["b_3"]),
        r("a3", &["base3"]),
        r("b3", &["a3"]),
        r("c3", &["b3"]).with_depends_on(&["b2"]),
        r("d3", &["c3"]),
    ])
}

#[test]
fn multiple_base_cross_dependency_two__what_are_the_heads() {
    assert_eq!(head_ids(&cross_two()), strs(&["c1", "d2", "d3"]));
}

#[test]
fn multiple_base_cross_dependency_two__heads_to_base() {
    // Alembic: c1, b1, a1, d2, c2, d3, c3, b3, a3, base3, b2, a2, base2, base1.
    assert_eq!(
        hist(&cross_two(), ":"),
        strs(&[
            "d3", "d2", "c3", "c2", "c1", "b3", "a3", "base3", "b2", "a2", "base2", "b1", "a1",
            "base1"
        ])
    );
}

#[test]
fn multiple_base_cross_dependency_two__we_need_heads() {
    let g = cross_two();
    assert_upgrade(
        &g,
        &[],
        "b_2@head",
        &["base1", "base2", "a2", "b2", "c2", "d2"],
        &["base1", "d2"],
    );
    assert_upgrade(
        &g,
        &[],
        "b_3@head",
        &[
            "base1", "base2", "a2", "b2", "base3", "a3", "b3", "c3", "d3",
        ],
        &["b2", "base1", "d3"],
    );
    assert_upgrade(&g, &[], "b_1@head", &["base1", "a1", "b1", "c1"], &["c1"]);
}

#[test]
fn multiple_base_cross_dependency_two__we_need_bases() {
    let g = cross_two();
    assert_eq!(
        hist(&g, "b_1@base:heads"),
        strs(&["c1", "b1", "a1", "base1"])
    );
    assert_eq!(
        hist(&g, "b_2@base:heads"),
        strs(&["d2", "c2", "b2", "a2", "base2", "base1"])
    );
    assert_eq!(
        hist(&g, "b_3@base:heads"),
        strs(&[
            "d3", "c3", "b3", "a3", "base3", "b2", "a2", "base2", "base1"
        ])
    );
}

// ---------------------------------------------------------------------------------------------
// MultipleBaseCrossDependencyTestThree

#[test]
fn multiple_base_cross_dependency_three__traverse_no_parent_but_a_dep() {
    let g = graph(vec![
        r("base1", &[]),
        r("a1", &["base1"]),
        r("b1", &["a1"]),
        r("c2", &[]).with_depends_on(&["a1"]),
        r("c3", &["c2"]),
    ]);
    // Alembic: b1, c3, c2, a1, base1.
    assert_eq!(hist(&g, ":"), strs(&["c3", "c2", "b1", "a1", "base1"]));
    let bases: Vec<&str> = g.bases().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(bases, ["base1", "c2"]);
}

// ---------------------------------------------------------------------------------------------
// GraphWithLoopTest

fn self_loop(revs: Vec<braid_graph::Revision>, id: &str, via: &str) {
    let e = Graph::build(revs).unwrap_err();
    match &e {
        GraphError::SelfLoop {
            id: got, via: v, ..
        } => {
            assert_eq!((got.as_str(), v.as_str()), (id, via));
        }
        other => panic!("expected a self-loop on {id}, got {other:?}"),
    }
}

#[test]
fn graph_with_loop__revision_map_loops() {
    self_loop(vec![r("a", &["a"])], "a", "parent");
    self_loop(
        vec![r("a", &["a"]), r("b", &["a"]), r("c", &["b"])],
        "a",
        "parent",
    );
    self_loop(
        vec![r("a", &[]), r("b", &["a"]), r("c", &["b", "c"])],
        "c",
        "parent",
    );
    self_loop(
        vec![
            r("a", &[]),
            r("b", &["a", "b"]),
            r("c1", &["b"]),
            r("c2", &["b"]),
        ],
        "b",
        "parent",
    );
    self_loop(
        vec![
            r("a", &[]),
            r("b1", &["a"]),
            r("b2", &["a"]),
            r("c", &["b1", "b2", "c"]),
        ],
        "c",
        "parent",
    );
}

#[test]
fn graph_with_loop__revision_map_dependency_loops() {
    self_loop(vec![r("a", &[]).with_depends_on(&["a"])], "a", "dependency");
    self_loop(
        vec![
            r("a", &[]).with_depends_on(&["a"]),
            r("b", &["a"]),
            r("c", &["b"]),
        ],
        "a",
        "dependency",
    );
    self_loop(
        vec![
            r("a", &[]),
            r("b", &["a"]),
            r("c", &["b"]).with_depends_on(&["c"]),
        ],
        "c",
        "dependency",
    );
    self_loop(
        vec![
            r("a", &[]),
            r("b", &["a"]).with_depends_on(&["b"]),
            r("c1", &["b"]),
            r("c2", &["b"]),
        ],
        "b",
        "dependency",
    );
    // Depending on one's own label is the same loop.
    self_loop(
        vec![r("a", &[]).with_labels(&["la"]).with_depends_on(&["la"])],
        "a",
        "dependency",
    );
}

#[test]
fn graph_with_loop__revision_dupe_head() {
    let g = graph(vec![
        r("user_foo", &[]),
        r("user", &["user_foo"]).with_depends_on(&["user_foo"]),
    ]);
    assert_eq!(hist(&g, ":heads"), strs(&["user", "user_foo"]));
}

#[test]
fn graph_with_loop__no_loop_w_overlapping_substrings() {
    let g = graph(vec![r("user_foo", &[]), r("user", &["user_foo"])]);
    assert_eq!(hist(&g, ":heads"), strs(&["user", "user_foo"]));
    let g = graph(vec![
        r("user_foo", &[]),
        r("user", &[]).with_depends_on(&["user_foo"]),
    ]);
    assert_eq!(hist(&g, ":heads"), strs(&["user", "user_foo"]));
}

// ---------------------------------------------------------------------------------------------
// GraphWithCycleTest. Braid names the revisions of the cycle itself (in cycle order, from the
// smallest id); Alembic also lists revisions that merely sit above a cycle.

fn cycle(revs: Vec<braid_graph::Revision>) -> Vec<String> {
    match Graph::build(revs).unwrap_err() {
        GraphError::Cycle { ids, .. } => ids,
        other => panic!("expected a cycle, got {other:?}"),
    }
}

#[test]
fn graph_with_cycle__simple_cycles() {
    let abc = || vec![r("a", &["c"]), r("b", &["a"]), r("c", &["b"])];
    assert_eq!(cycle(abc()), strs(&["a", "b", "c"]));
    let mut extra = abc();
    extra.extend([r("d", &[]), r("e", &["d"])]);
    assert_eq!(cycle(extra), strs(&["a", "b", "c"]));
    let mut lower = abc();
    lower.extend([r("d", &["c"]), r("e", &["d"])]);
    assert_eq!(cycle(lower), strs(&["a", "b", "c"]));
    let upper = vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c", &["b", "e"]),
        r("d", &["c"]),
        r("e", &["d"]),
    ];
    assert_eq!(cycle(upper), strs(&["c", "d", "e"]));
}

#[test]
fn graph_with_cycle__dependency_cycles() {
    let abc = || {
        vec![
            r("a", &[]).with_depends_on(&["c"]),
            r("b", &["a"]),
            r("c", &["b"]),
        ]
    };
    assert_eq!(cycle(abc()), strs(&["a", "b", "c"]));
    let mut lower = abc();
    lower.extend([r("d", &["c"]), r("e", &["d"])]);
    assert_eq!(cycle(lower), strs(&["a", "b", "c"]));
    let upper = vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c", &["b"]).with_depends_on(&["e"]),
        r("d", &["c"]),
        r("e", &["d"]),
    ];
    assert_eq!(cycle(upper), strs(&["c", "d", "e"]));
}

// ---------------------------------------------------------------------------------------------
// NormalizedDownRevTest

fn normalized() -> Graph {
    graph(vec![
        r("a1", &[]),
        r("a2", &["a1"]),
        r("a3", &["a2"]),
        r("b1", &[]),
        r("b2", &["b1"]).with_depends_on(&["a3"]),
        r("b3", &["b2"]),
        r("b4", &["b3"]).with_depends_on(&["a3"]),
        r("b5", &["b4"]).with_depends_on(&["b4"]),
    ])
}

#[test]
fn normalized_down_rev__dupe_dependency_builds() {
    let g = normalized();
    let anc: Vec<&str> = g.ancestors("b5").iter().map(|r| r.id.as_str()).collect();
    assert_eq!(anc, ["a1", "a2", "a3", "b1", "b2", "b3", "b4"]);
}

#[test]
fn normalized_down_rev__branch_traversal() {
    assert_downgrade(
        &normalized(),
        &["b4"],
        "b1@base",
        &["b4", "b3", "b2", "b1"],
        &["a3"],
    );
}

#[test]
fn normalized_down_rev__all_traversal() {
    assert_downgrade(
        &normalized(),
        &["b5"],
        "base",
        &["b5", "b4", "b3", "b2", "b1", "a3", "a2", "a1"],
        &[],
    );
}

#[test]
fn normalized_down_rev__partial_traversal() {
    // Alembic's list also names a2, the (inclusive) lower end that stays applied.
    assert_downgrade(
        &normalized(),
        &["b5"],
        "a2",
        &["b5", "b4", "b3", "b2", "a3"],
        &["a2", "b1"],
    );
}

#[test]
fn normalized_down_rev__partial_traversal_implicit_base_two() {
    assert_upgrade(
        &normalized(),
        &["b1"],
        "b5",
        &["a1", "a2", "a3", "b2", "b3", "b4", "b5"],
        // a3 is a dependency with no applied child: a head of the a line.
        &["a3", "b5"],
    );
}

#[test]
fn normalized_down_rev__partial_traversal_implicit_base_three() {
    let g = graph(vec![
        r("c1", &[]),
        r("a1", &[]),
        r("a2", &["a1"]).with_depends_on(&["c1"]),
        r("a3", &["a2"]).with_depends_on(&["c1"]),
        r("b1", &[]),
        r("b2", &["b1"]).with_depends_on(&["a3"]),
        r("b3", &["b2"]),
        r("b4", &["b3"]).with_depends_on(&["a3"]),
        r("b5", &["b4"]),
    ]);
    assert_upgrade(
        &g,
        &["b1"],
        "b5",
        &["a1", "c1", "a2", "a3", "b2", "b3", "b4", "b5"],
        &["a3", "b5", "c1"],
    );
}

// ---------------------------------------------------------------------------------------------
// DepResolutionFailedTest: Alembic breaks a built map by hand; in Braid the same broken
// dependency is caught when the graph is built.

#[test]
fn dep_resolution_failed__failure_message() {
    let e = Graph::build(vec![
        r("base1", &[]),
        r("a1", &["base1"]),
        r("a2", &["base1"]),
        r("b1", &["a1"]).with_depends_on(&["fake"]),
        r("c1", &["b1"]),
    ])
    .unwrap_err();
    assert!(matches!(&e, GraphError::MissingDependency { dependency, .. } if dependency == "fake"));
}
