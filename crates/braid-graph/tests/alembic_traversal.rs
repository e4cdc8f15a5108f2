//! Ports of Alembic's `tests/test_version_traversal.py`.
//!
//! Differences on purpose (see the crate docs):
//! * order: upgrades list the needed set in graph order (smallest id first among independent
//!   revisions), downgrades the reverse; Alembic walks branches depth-first. Where Alembic's order
//!   differs, the test says "Alembic: …".
//! * applied state: one row per applied revision, so a dependency left without an applied child
//!   shows as a head of its own (Alembic folds it into its dependent's row).
//! * `-1` with several applied heads is an error, not a warning plus a guess.

#![allow(non_snake_case)]

mod common;
use braid_graph::{Applied, Graph, PlanError};
use common::*;

// ---------------------------------------------------------------------------------------------
// RevisionPathTest: a -> b -> c -> d -> e with Alembic-style hex ids.

const A: &str = "e6239818bb3a";
const B: &str = "548bbb905360";
const C: &str = "b7ea43dc85e4";
const D: &str = "1bbe33445780";
const E: &str = "3975fb1a0125";

fn revision_path() -> Graph {
    graph(vec![
        r(A, &[]),
        r(B, &[A]),
        r(C, &[B]),
        r(D, &[C]),
        r(E, &[D]),
    ])
}

#[test]
fn revision_path__downgrade_base_no_version() {
    assert_downgrade(&revision_path(), &[], "base", &[], &[]);
}

#[test]
fn revision_path__downgrade_to_existing() {
    assert_downgrade(&revision_path(), &[A], A, &[], &[A]);
}

#[test]
fn revision_path__downgrade_to_existing_head() {
    assert_downgrade(&revision_path(), &[E], E, &[], &[E]);
}

#[test]
fn revision_path__upgrade_path() {
    let g = revision_path();
    assert_upgrade(&g, &[C], E, &[D, E], &[E]);
    assert_upgrade(&g, &[], C, &[A, B, C], &[C]);
}

#[test]
fn revision_path__relative_upgrade_path() {
    let g = revision_path();
    assert_upgrade(&g, &[A], "+2", &[B, C], &[C]);
    assert_upgrade(&g, &[A], "+1", &[B], &[B]);
    assert_upgrade(&g, &[B], "+3", &[C, D, E], &[E]);
    assert_upgrade(&g, &[A], &format!("{B}+2"), &[B, C, D], &[D]);
    assert_upgrade(&g, &[A], &format!("{D}-2"), &[B], &[B]);
}

#[test]
fn revision_path__invalid_relative_upgrade_path() {
    let g = revision_path();
    // Braid: a bare negative step is rejected outright for upgrade.
    assert!(matches!(
        upgrade_err(&g, &[B], "-2"),
        PlanError::InvalidTarget { .. }
    ));
    let e = upgrade_err(&g, &[B], "+5");
    assert_eq!(
        e,
        PlanError::RelativeTooFar {
            target: "+5".into(),
            requested: 5,
            produced: 3
        }
    );
    assert!(e.to_string().contains("+5 produced only 3 steps"), "{e}");
}

#[test]
fn revision_path__downgrade_path() {
    let g = revision_path();
    assert_downgrade(&g, &[E], C, &[E, D], &[C]);
    assert_downgrade(&g, &[C], "base", &[C, B, A], &[]);
}

#[test]
fn revision_path__relative_downgrade_path() {
    let g = revision_path();
    assert_downgrade(&g, &[C], "-1", &[C], &[B]);
    assert_downgrade(&g, &[E], "-3", &[E, D, C], &[B]);
    assert_downgrade(&g, &[D], &format!("{A}+2"), &[D], &[C]);
    assert_downgrade(&g, &[D], &format!("{C}-2"), &[D, C, B], &[A]);
}

#[test]
fn revision_path__invalid_relative_downgrade_path() {
    let g = revision_path();
    let e = downgrade_err(&g, &[B], "-5");
    assert!(
        matches!(
            e,
            PlanError::RelativeTooFar {
                requested: 5,
                produced: 2,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(matches!(
        downgrade_err(&g, &[B], "+2"),
        PlanError::InvalidTarget { .. }
    ));
}

#[test]
fn revision_path__invalid_move_rev_to_none() {
    let g = revision_path();
    let e = downgrade_err(&g, &[], &B[0..3]);
    assert!(matches!(e, PlanError::NotDowngradeTarget { .. }), "{e:?}");
    assert!(
        e.to_string().contains("is not a valid downgrade target"),
        "{e}"
    );
}

#[test]
fn revision_path__invalid_move_higher_to_lower() {
    let g = revision_path();
    let e = downgrade_err(&g, &[B], &C[0..4]);
    assert_eq!(
        e,
        PlanError::NotDowngradeTarget {
            target: C[0..4].into(),
            heads: vec![B.into()]
        }
    );
}

#[test]
fn revision_path__stamp_to_base() {
    assert_eq!(
        stamp(&revision_path(), &[D], &["base"]),
        Vec::<String>::new()
    );
}

// ---------------------------------------------------------------------------------------------
// BranchedPathTest: a -> b -> {c1 (c1branch) -> d1, c2 (c2branch) -> d2}. Graph order:
// a, b, c1, c2, d1, d2.

fn branched() -> Graph {
    graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]).with_labels(&["c1branch"]),
        r("d1", &["c1"]),
        r("c2", &["b"]).with_labels(&["c2branch"]),
        r("d2", &["c2"]),
    ])
}

#[test]
fn branched_path__stamp_down_across_multiple_branch_to_branchpoint() {
    assert_eq!(stamp(&branched(), &["d1", "c2"], &["b"]), strs(&["b"]));
}

#[test]
fn branched_path__stamp_to_labeled_base_multiple_heads() {
    assert_eq!(
        stamp(&branched(), &["d1", "c2"], &["c1branch@base"]),
        strs(&["c2"])
    );
}

#[test]
fn branched_path__stamp_to_labeled_head_multiple_heads() {
    assert_eq!(
        stamp(&branched(), &["d1", "c2"], &["c2branch@head"]),
        strs(&["d1", "d2"])
    );
}

#[test]
fn branched_path__upgrade_single_branch() {
    assert_upgrade(&branched(), &["b"], "d1", &["c1", "d1"], &["d1"]);
}

#[test]
fn branched_path__upgrade_multiple_branch() {
    // Alembic: b, c2, d2, c1, d1 (and targets the tuple (d1, d2); `heads` is the same here).
    assert_upgrade(
        &branched(),
        &["a"],
        "heads",
        &["b", "c1", "c2", "d1", "d2"],
        &["d1", "d2"],
    );
}

#[test]
fn branched_path__downgrade_multiple_branch() {
    // Alembic: d1, c1, d2, c2, b.
    assert_downgrade(
        &branched(),
        &["d1", "d2"],
        "a",
        &["d2", "d1", "c2", "c1", "b"],
        &["a"],
    );
}

#[test]
fn branched_path__relative_upgrade() {
    assert_upgrade(&branched(), &["b"], "c2branch@head-1", &["c2"], &["c2"]);
}

#[test]
fn branched_path__relative_downgrade_baseplus2() {
    // Alembic: d1, c1, d2, c2.
    assert_downgrade(
        &branched(),
        &["d2", "d1"],
        "base+2",
        &["d2", "d1", "c2", "c1"],
        &["b"],
    );
}

#[test]
fn branched_path__relative_downgrade_branchplus2() {
    assert_downgrade(
        &branched(),
        &["d2", "d1"],
        "c2branch@base+2",
        &["d2", "c2"],
        &["d1"],
    );
}

#[test]
fn branched_path__relative_downgrade_branchplus3() {
    let g = branched();
    assert_downgrade(&g, &["d2", "d1"], "c2", &["d2"], &["d1", "c2"]);
    assert_downgrade(&g, &["d2", "d1"], "c2branch@base+3", &["d2"], &["d1", "c2"]);
}

#[test]
fn branched_path__downgrade_once_order_right() {
    // Alembic warns and picks the first row; Braid refuses and asks for a branch.
    let g = branched();
    for from in [
        &["d2", "d1"][..],
        &["c2", "d1"],
        &["d1", "d2"],
        &["c1", "d2"],
    ] {
        let e = downgrade_err(&g, from, "-1");
        assert!(matches!(e, PlanError::AmbiguousRelative { .. }), "{e:?}");
        // Each head's own label, ready to paste.
        assert!(e.to_string().contains("'c1branch@-1'"), "{e}");
        assert!(e.to_string().contains("'c2branch@-1'"), "{e}");
    }
}

#[test]
fn branched_path__downgrade_once_order_left_unbalanced_labelled() {
    assert_downgrade(
        &branched(),
        &["d1", "d2"],
        "c1branch@-1",
        &["d1"],
        &["c1", "d2"],
    );
}

#[test]
fn branched_path__downgrade_relative_order_right_and_left() {
    let g = branched();
    assert_downgrade(&g, &["d2", "c1"], "d2-1", &["d2"], &["c1", "c2"]);
    assert_downgrade(&g, &["c1", "d2"], "d2-1", &["d2"], &["c1", "c2"]);
}

#[test]
fn branched_path__downgrade_single_branch_c1branch() {
    assert_downgrade(&branched(), &["c1", "d2"], "c1branch@b", &["c1"], &["d2"]);
}

#[test]
fn branched_path__downgrade_single_branch_c1branch_from_d1_head() {
    assert_downgrade(
        &branched(),
        &["c1", "d2"],
        "c2branch@b",
        &["d2", "c2"],
        &["c1"],
    );
}

#[test]
fn branched_path__downgrade_single_branch_c2() {
    assert_downgrade(&branched(), &["d1", "d2"], "c2@b", &["d2", "c2"], &["d1"]);
}

#[test]
fn branched_path__downgrade_single_branch_d1() {
    assert_downgrade(&branched(), &["d1", "d2"], "d1@b", &["d1", "c1"], &["d2"]);
}

#[test]
fn branched_path__downgrade_relative_to_branch_head() {
    assert_downgrade(
        &branched(),
        &["d1", "d2"],
        "c1branch@head-1",
        &["d1"],
        &["c1", "d2"],
    );
}

#[test]
fn branched_path__upgrade_other_branch_from_mergepoint() {
    assert_upgrade(&branched(), &["c1"], "c2branch@+1", &["c2"], &["c1", "c2"]);
}

#[test]
fn branched_path__upgrade_one_branch_of_heads() {
    assert_upgrade(
        &branched(),
        &["c1", "c2"],
        "c2branch@+1",
        &["d2"],
        &["c1", "d2"],
    );
}

#[test]
fn branched_path__ambiguous_upgrade() {
    let e = upgrade_err(&branched(), &["c1", "c2"], "+1");
    assert_eq!(
        e,
        PlanError::AmbiguousRelative {
            target: "+1".into(),
            heads: strs(&["c1", "c2"]),
            suggestions: strs(&["c1branch@+1", "c2branch@+1"]),
        }
    );
}

#[test]
fn branched_path__upgrade_from_base() {
    assert_upgrade(&branched(), &[], "base+1", &["a"], &["a"]);
}

#[test]
fn branched_path__upgrade_from_base_implicit() {
    assert_upgrade(&branched(), &[], "+1", &["a"], &["a"]);
}

#[test]
fn branched_path__downgrade_minus1_to_base() {
    assert_downgrade(&branched(), &["a"], "-1", &["a"], &[]);
}

#[test]
fn branched_path__downgrade_minus1_from_base() {
    let e = downgrade_err(&branched(), &[], "-1");
    assert!(
        matches!(
            e,
            PlanError::RelativeTooFar {
                requested: 1,
                produced: 0,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn branched_path__downgrade_no_effect_branched() {
    let g = branched();
    assert_downgrade(&g, &["d1", "c2"], "c2", &[], &["d1", "c2"]);
    assert_downgrade(&g, &["d1", "c2"], "d1", &[], &["d1", "c2"]);
}

// ---------------------------------------------------------------------------------------------
// BranchFromMergepointTest / BranchFrom3WayMergepointTest

fn branch_from_mergepoint(three: bool) -> Graph {
    let mut v = vec![
        r("a1", &[]),
        r("b1", &["a1"]),
        r("c1", &["b1"]),
        r("a2", &[]),
        r("b2", &["a2"]),
        r("c2", &["b2"]),
        r("d2", &["c2"]),
    ];
    if three {
        v.extend([
            r("a3", &[]),
            r("b3", &["a3"]),
            r("c3", &["b3"]),
            r("d3", &["c3"]),
        ]);
        v.push(r("d1", &["c1", "c2", "c3"]));
    } else {
        v.push(r("d1", &["c1", "c2"]));
    }
    graph(v)
}

#[test]
fn branch_from_mergepoint__mergepoint_to_only_one_side_upgrade() {
    let g = branch_from_mergepoint(false);
    assert_upgrade(&g, &["d2", "b1"], "d1", &["c1", "d1"], &["d2", "d1"]);
}

#[test]
fn branch_from_mergepoint__mergepoint_to_only_one_side_downgrade() {
    let g = branch_from_mergepoint(false);
    assert_downgrade(&g, &["d2", "d1"], "b1", &["d1", "c1"], &["d2", "b1"]);
}

#[test]
fn branch_from_3way_mergepoint__mergepoint_to_only_one_side_upgrade() {
    let g = branch_from_mergepoint(true);
    assert_upgrade(
        &g,
        &["d3", "d2", "b1"],
        "d1",
        &["c1", "d1"],
        &["d3", "d2", "d1"],
    );
}

#[test]
fn branch_from_3way_mergepoint__mergepoint_to_only_one_side_downgrade() {
    let g = branch_from_mergepoint(true);
    assert_downgrade(
        &g,
        &["d3", "d2", "d1"],
        "b1",
        &["d1", "c1"],
        &["d3", "d2", "b1"],
    );
}

#[test]
fn branch_from_3way_mergepoint__mergepoint_to_two_sides_upgrade() {
    let g = branch_from_mergepoint(true);
    // Alembic: c2, c1, d1.
    assert_upgrade(
        &g,
        &["d3", "b2", "b1"],
        "d1",
        &["c1", "c2", "d1"],
        &["d3", "d1"],
    );
    assert_upgrade(&g, &["d3", "d1"], "d2", &["d2"], &["d3", "d2", "d1"]);
}

// ---------------------------------------------------------------------------------------------
// TwinMergeTest / NotQuiteTwinMergeTest

#[test]
fn twin_merge__upgrade() {
    let g = graph(vec![
        r("a", &[]),
        r("b1", &["a"]),
        r("b2", &["a"]),
        r("b3", &["a"]),
        r("c1", &["b1", "b2", "b3"]),
        r("c2", &["b1", "b2", "b3"]),
        r("d1", &["c1"]),
        r("d2", &["c2"]),
    ]);
    // Alembic: b3, b1, b2, c2, d2, c1, d1.
    assert_upgrade(
        &g,
        &["a"],
        "heads",
        &["b1", "b2", "b3", "c1", "c2", "d1", "d2"],
        &["d1", "d2"],
    );
}

#[test]
fn not_quite_twin_merge__upgrade() {
    let g = graph(vec![
        r("a", &[]),
        r("b1", &["a"]),
        r("b2", &["a"]),
        r("b3", &["a"]),
        r("c1", &["b1", "b2"]),
        r("c2", &["b2", "b3"]),
        r("d1", &["c1"]),
        r("d2", &["c2"]),
    ]);
    // Alembic: b2, b3, c2, d2, b1, c1, d1.
    assert_upgrade(
        &g,
        &["a"],
        "heads",
        &["b1", "b2", "b3", "c1", "c2", "d1", "d2"],
        &["d1", "d2"],
    );
}

// ---------------------------------------------------------------------------------------------
// DependsOnBranchTest{One..Five}, DependsOnOwnDownrevTest, DependsOnBranchLabelTest

fn depends_on_one() -> Graph {
    graph(vec![
        r("a1", &[]).with_labels(&["lib1"]),
        r("b1", &["a1"]),
        r("c1", &["b1"]),
        r("a2", &[]),
        r("b2", &["a2"]),
        r("c2", &["b2"]).with_depends_on(&["c1"]),
        r("d1", &["c1"]),
        r("e1", &["d1"]),
        r("f1", &["e1"]),
    ])
}

#[test]
fn depends_on_branch_one__downgrade_to_dependency() {
    // Alembic keeps one row {c2}; Braid records c1 as applied, so it is a head of its own line.
    assert_downgrade(
        &depends_on_one(),
        &["c2", "d1"],
        "c1",
        &["d1"],
        &["c1", "c2"],
    );
}

#[test]
fn depends_on_branch_one__stamp_across_dependency() {
    // Both heads stand on b1 (c2 through its dependency on c1), so both move to it.
    assert_eq!(
        stamp(&depends_on_one(), &["e1", "c2"], &["b1"]),
        strs(&["b1"])
    );
}

fn depends_on_two() -> Graph {
    graph(vec![
        r("a1", &[]),
        r("a2", &[]),
        r("a3", &[]),
        r("amerge", &["a1", "a2", "a3"]),
        r("b1", &[]),
        r("b2", &[]),
        r("bmerge", &["b1", "b2"]),
        r("c1", &[]),
        r("c2", &[]),
        r("c3", &[]),
        r("cmerge", &["c1", "c2", "c3"]),
        r("d1", &[]).with_depends_on(&["a3", "b2", "c1"]),
    ])
}

#[test]
fn depends_on_branch_two__kaboom() {
    let g = depends_on_two();
    // b2 stays applied (d1 needs it) and has no applied child, so it is listed as a head.
    assert_downgrade(
        &g,
        &["amerge", "bmerge", "cmerge", "d1"],
        "b2",
        &["bmerge"],
        &["amerge", "b1", "b2", "cmerge", "d1"],
    );
    assert_downgrade(
        &g,
        &["amerge", "d1", "b1", "cmerge"],
        "d1@base",
        &["d1"],
        &["amerge", "b1", "b2", "cmerge"],
    );
    assert_downgrade(
        &g,
        &["amerge", "b1", "b2", "cmerge"],
        "base",
        &[
            "cmerge", "c3", "c2", "c1", "b2", "b1", "amerge", "a3", "a2", "a1",
        ],
        &[],
    );
}

#[test]
fn depends_on_branch_three__downgrade_over_crisscross() {
    let g = graph(vec![
        r("a1", &[]),
        r("a2", &["a1"]),
        r("b1", &[]),
        r("b2", &["b1"]).with_depends_on(&["a2"]),
        r("b3", &["b2"]),
        r("a3", &["a2"]).with_depends_on(&["b1"]),
    ]);
    // Alembic: {a3}; b1 is applied (a3 needs it) and is reported as its own head here.
    assert_downgrade(&g, &["a3", "b2"], "b1", &["b2"], &["a3", "b1"]);
}

fn depends_on_own_downrev() -> Graph {
    graph(vec![
        r("a1", &[]),
        r("a2", &["a1"]).with_depends_on(&["a1"]),
    ])
}

#[test]
fn depends_on_own_downrev__traverse() {
    assert_upgrade(&depends_on_own_downrev(), &[], "a2", &["a1", "a2"], &["a2"]);
}

#[test]
fn depends_on_own_downrev__traverse_down() {
    assert_downgrade(&depends_on_own_downrev(), &["a2"], "a1", &["a2"], &["a1"]);
}

#[test]
fn depends_on_branch_four__dependencies_are_normalized() {
    let g = graph(vec![
        r("a1", &[]),
        r("a2", &["a1"]),
        r("a3", &["a2"]),
        r("b1", &[]),
        r("b2", &["b1"]).with_depends_on(&["a3"]),
        r("b3", &["b2"]),
        r("b4", &["b3"]).with_depends_on(&["a3"]),
    ]);
    // Alembic: {b3}. a3 stays applied either way; Braid lists it as a head of the a line.
    assert_downgrade(&g, &["b4"], "b3", &["b4"], &["a3", "b3"]);
}

#[test]
fn depends_on_branch_five__downgrade_to_depends_on() {
    let g = graph(vec![
        r("a1", &[]),
        r("b1", &[]).with_depends_on(&["a1"]),
        r("bmerge", &["a1", "b1"]),
    ]);
    // Alembic reports {b1} where Braid also lists a1, which is applied and has no applied child.
    assert_upgrade(&g, &["a1"], "b1", &["b1"], &["a1", "b1"]);
    assert_upgrade(&g, &["b1"], "bmerge", &["bmerge"], &["bmerge"]);
    assert_downgrade(&g, &["bmerge"], "a1", &["bmerge"], &["a1", "b1"]);
    assert_downgrade(&g, &["bmerge"], "b1", &["bmerge"], &["a1", "b1"]);
}

#[test]
fn depends_on_branch_label__upgrade_path() {
    let g = graph(vec![
        r("a1", &[]).with_labels(&["lib1"]),
        r("b1", &["a1"]),
        r("c1", &["b1"]).with_labels(&["c1lib"]),
        r("a2", &[]),
        r("b2", &["a2"]),
        r("c2", &["b2"]).with_depends_on(&["c1lib"]),
        r("d1", &["c1"]),
        r("e1", &["d1"]),
        r("f1", &["e1"]),
    ]);
    // Alembic: a1, b1, c1, b2, c2 and heads {c2}.
    assert_upgrade(
        &g,
        &["a2"],
        "c2",
        &["a1", "b1", "b2", "c1", "c2"],
        &["c1", "c2"],
    );
}

// ---------------------------------------------------------------------------------------------
// ForestTest

fn forest() -> Graph {
    graph(vec![
        r("a1", &[]),
        r("b1", &["a1"]),
        r("a2", &[]),
        r("b2", &["a2"]),
    ])
}

#[test]
fn forest__base_to_heads() {
    // Alembic: a2, b2, a1, b1 (whole trees one after the other).
    assert_upgrade(
        &forest(),
        &[],
        "heads",
        &["a1", "a2", "b1", "b2"],
        &["b1", "b2"],
    );
}

#[test]
fn forest__stamp_to_heads() {
    assert_eq!(stamp(&forest(), &[], &["heads"]), strs(&["b1", "b2"]));
}

#[test]
fn forest__stamp_to_heads_no_moves_needed() {
    let g = forest();
    let before = applied_from_heads(&g, &["b1", "b2"]);
    assert_eq!(g.stamp(&before, &["heads"], false).unwrap(), before);
}

// ---------------------------------------------------------------------------------------------
// MergedPathTest: a -> b -> {c1 -> d1, c2 (c2branch) -> d2} -> e (merge) -> f.

fn merged() -> Graph {
    graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]),
        r("d1", &["c1"]),
        r("c2", &["b"]).with_labels(&["c2branch"]),
        r("d2", &["c2"]),
        r("e", &["d1", "d2"]),
        r("f", &["e"]),
    ])
}

#[test]
fn merged_path__stamp_down_across_merge_point_branch() {
    // The merge head e moves down to c2; the c1 line was applied only below e, so it goes
    // (a downgrade to c2 keeps it).
    assert_eq!(stamp(&merged(), &["e"], &["c2"]), strs(&["c2"]));
}

/// Alembic's `stamp_semantics` run over the merged graph, one stamp after the other: the rows
/// each leaves, as heads.
#[test]
fn merged_path__stamp_sequence_as_alembic() {
    let g = merged();
    let steps: [(&[&str], &[&str], &[&str]); 7] = [
        (&[], &["d1"], &["d1"]),
        // An unrelated branch: a new row beside d1.
        (&["d1"], &["c2"], &["c2", "d1"]),
        (&["c2", "d1"], &["e"], &["e"]),
        // Down across the merge: the head moves to c2, the d1 side goes with it.
        (&["e"], &["c2"], &["c2"]),
        (&["c2"], &["d1", "d2"], &["d1", "d2"]),
        (&["d1", "d2"], &["c2branch@head"], &["f"]),
        (&["f"], &["heads"], &["f"]),
    ];
    for (from, targets, heads) in steps {
        assert_eq!(
            stamp(&g, from, targets),
            strs(heads),
            "stamp {targets:?} from {from:?}"
        );
    }
}

#[test]
fn merged_path__stamp_keeps_an_unrelated_head_and_what_it_applied() {
    // Beside the merged graph, an unrelated root line x1 -> x2; only x1 is applied there.
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]),
        r("c2", &["b"]),
        r("e", &["c1", "c2"]),
        r("x1", &[]),
        r("x2", &["x1"]),
    ]);
    assert_eq!(stamp(&g, &["e", "x1"], &["c1"]), strs(&["c1", "x1"]));
}

#[test]
fn merged_path__downgrade_one_step_from_a_merge_undoes_the_merge() {
    // Alembic refuses ("Ambiguous walk"); one step down from a merge names both parents.
    let g = merged();
    assert_downgrade(&g, &["e"], "-1", &["e"], &["d1", "d2"]);
    // Further steps must still choose a side.
    let e = downgrade_err(&g, &["e"], "-2");
    assert!(matches!(e, PlanError::AmbiguousWalk { .. }), "{e:?}");
    // A branch's step stays on its line: c2branch@-1 from e goes to d2, undoing e.
    assert_downgrade(&g, &["e"], "c2branch@-1", &["e"], &["d1", "d2"]);
    // An absolute step from a merge still has to choose.
    assert!(matches!(
        g.resolve(&Applied::new(), "e-1").unwrap_err(),
        PlanError::AmbiguousWalk { .. }
    ));
}

#[test]
fn twin_merges__one_step_down_a_named_merge_undoes_that_merge() {
    // m1 and m2 both join c1 and c2; m2 sorts first.
    let g = graph(vec![
        r("a", &[]),
        r("c1", &["a"]),
        r("c2", &["a"]),
        r("m2", &["c1", "c2"]),
        r("m1", &["c1", "c2"]),
    ]);
    assert_downgrade(&g, &["m1", "m2"], "m1@-1", &["m1"], &["m2"]);
    assert_downgrade(&g, &["m1", "m2"], "m2@-1", &["m2"], &["m1"]);
}

#[test]
fn merged_path__stamp_down_across_merge_prior_branching() {
    assert_eq!(stamp(&merged(), &["e"], &["a"]), strs(&["a"]));
}

#[test]
fn merged_path__stamp_up_across_merge_from_single_branch() {
    assert_eq!(stamp(&merged(), &["c2"], &["e"]), strs(&["e"]));
}

#[test]
fn merged_path__stamp_labeled_head_across_merge_from_multiple_branch() {
    assert_eq!(
        stamp(&merged(), &["d1", "c2"], &["c2branch@head"]),
        strs(&["f"])
    );
}

#[test]
fn merged_path__stamp_up_across_merge_from_multiple_branch() {
    assert_eq!(stamp(&merged(), &["d1", "c2"], &["e"]), strs(&["e"]));
}

#[test]
fn merged_path__stamp_up_across_merge_prior_branching() {
    assert_eq!(stamp(&merged(), &["b"], &["e"]), strs(&["e"]));
}

#[test]
fn merged_path__upgrade_across_merge_point() {
    // Alembic: c2, d2, c1, d1, e, f.
    assert_upgrade(
        &merged(),
        &["b"],
        "f",
        &["c1", "c2", "d1", "d2", "e", "f"],
        &["f"],
    );
}

#[test]
fn merged_path__downgrade_across_merge_point() {
    // Alembic: f, e, d1, c1, d2, c2.
    assert_downgrade(
        &merged(),
        &["f"],
        "b",
        &["f", "e", "d2", "d1", "c2", "c1"],
        &["b"],
    );
}

// ---------------------------------------------------------------------------------------------
// BranchedPathTestCrossDependencies

fn branched_cross() -> Graph {
    graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]).with_labels(&["c1branch"]),
        r("d1", &["c1"]),
        r("c2", &["b"]).with_labels(&["c2branch"]),
        r("d2", &["c2"]).with_depends_on(&["c1"]),
    ])
}

#[test]
fn branched_path_cross_dependencies__downgrade_independent_branch() {
    assert_downgrade(
        &branched_cross(),
        &["d1", "d2"],
        "c2branch@b",
        &["d2", "c2"],
        &["d1"],
    );
}

#[test]
fn branched_path_cross_dependencies__downgrade_branch_dependency() {
    // Alembic only pins a partial order; Braid's is exact: reverse graph order.
    assert_downgrade(
        &branched_cross(),
        &["d1", "d2"],
        "c1branch@b",
        &["d2", "d1", "c1"],
        &["c2"],
    );
}
