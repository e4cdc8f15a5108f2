//! Target grammar, resolution errors, lookup, history, stamp and subgraphs.

mod common;
use braid_graph::{Applied, Direction, Graph, PlanError, Revision, Target};
use common::*;

fn t(branch: Option<&str>, symbol: Option<&str>, relative: Option<i64>) -> Target {
    Target {
        branch: branch.map(String::from),
        symbol: symbol.map(String::from),
        relative,
    }
}

#[test]
fn parse_grammar() {
    let cases: Vec<(&str, Target)> = vec![
        ("head", t(None, Some("head"), None)),
        ("heads", t(None, Some("heads"), None)),
        ("base", t(None, Some("base"), None)),
        ("ae10", t(None, Some("ae10"), None)),
        ("c1branch@head", t(Some("c1branch"), Some("head"), None)),
        ("c1branch@base", t(Some("c1branch"), Some("base"), None)),
        ("c1branch@ae10", t(Some("c1branch"), Some("ae10"), None)),
        ("+2", t(None, None, Some(2))),
        ("-1", t(None, None, Some(-1))),
        ("ae10+3", t(None, Some("ae10"), Some(3))),
        ("ae10-3", t(None, Some("ae10"), Some(-3))),
        ("lbl@+1", t(Some("lbl"), None, Some(1))),
        ("lbl@-2", t(Some("lbl"), None, Some(-2))),
        ("lbl@head-1", t(Some("lbl"), Some("head"), Some(-1))),
        ("base+2", t(None, Some("base"), Some(2))),
        ("lbl@base+2", t(Some("lbl"), Some("base"), Some(2))),
    ];
    for (input, expected) in cases {
        assert_eq!(Target::parse(input).unwrap(), expected, "{input}");
    }
}

#[test]
fn parse_rejects_malformed() {
    for bad in [
        "",
        "@",
        "a@",
        "@head",
        "a@b@c",
        "+",
        "-",
        "+x",
        "a+1b",
        "a b",
        "a:b",
        "héad",
        "a++1",
        "+99999999999999999999",
        "a.b",
    ] {
        match Target::parse(bad) {
            Err(PlanError::InvalidTarget { input, .. }) => assert_eq!(input, bad),
            other => panic!("{bad:?} should be invalid, got {other:?}"),
        }
    }
}

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
fn lookup_prefers_exact_then_label_then_prefix() {
    let g = graph(vec![
        r("ab", &[]),
        r("abc", &["ab"]),
        r("x1", &["abc"]).with_labels(&["shop"]),
    ]);
    assert_eq!(g.lookup("ab").unwrap().id, "ab");
    assert_eq!(g.lookup("shop").unwrap().id, "x1");
    assert_eq!(g.lookup("sh").unwrap().id, "x1", "label prefix");
    assert_eq!(g.lookup("x").unwrap().id, "x1", "one-character prefix");
    match g.lookup("a") {
        Err(PlanError::Ambiguous {
            candidates, total, ..
        }) => {
            assert_eq!(candidates, strs(&["ab", "abc"]));
            assert_eq!(total, 2);
        }
        other => panic!("{other:?}"),
    }
    match g.lookup("abd") {
        Err(e @ PlanError::Unknown { .. }) => {
            assert!(
                e.to_string().contains("did you mean") && e.to_string().contains("'abc'"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(g.get("a").is_none() && g.get("abc").is_some());
}

#[test]
fn ambiguous_prefix_lists_at_most_ten() {
    let revs: Vec<Revision> = (0..30).map(|i| r(&format!("p{i:02}"), &[])).collect();
    let g = graph(revs);
    match g.lookup("p") {
        Err(e @ PlanError::Ambiguous { .. }) => {
            let PlanError::Ambiguous {
                candidates, total, ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!((candidates.len(), *total), (10, 30));
            assert!(e.to_string().contains("…"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn rev_at_head_and_branch_heads() {
    let g = branched();
    assert_eq!(resolve(&g, &Applied::new(), "c1@head"), strs(&["d1"]));
    assert_eq!(
        resolve(&g, &Applied::new(), "c2branch@heads"),
        strs(&["d2"])
    );
    let e = g.resolve(&Applied::new(), "b@head").unwrap_err();
    assert_eq!(
        e,
        PlanError::MultipleHeads {
            target: "b@head".into(),
            heads: strs(&["d1", "d2"])
        }
    );
    assert_eq!(resolve(&g, &Applied::new(), "b@heads"), strs(&["d1", "d2"]));
}

#[test]
fn ambiguous_walk_names_candidates() {
    let g = branched();
    let e = g.resolve(&Applied::new(), "a+2").unwrap_err();
    assert_eq!(
        e,
        PlanError::AmbiguousWalk {
            target: "a+2".into(),
            from: "b".into(),
            candidates: strs(&["c1", "c2"])
        }
    );
    // Walking down from a merge is just as ambiguous.
    let m = graph(vec![r("a", &[]), r("b", &[]), r("m", &["a", "b"])]);
    let e = m.resolve(&Applied::new(), "m-1").unwrap_err();
    assert!(matches!(e, PlanError::AmbiguousWalk { .. }), "{e:?}");
    // And several bases make `+1` from nothing ambiguous.
    let e = m.resolve(&Applied::new(), "+1").unwrap_err();
    assert!(
        matches!(&e, PlanError::AmbiguousWalk { from, .. } if from == "base"),
        "{e:?}"
    );
}

#[test]
fn walking_down_off_a_base_reaches_base() {
    let g = branched();
    assert!(resolve(&g, &Applied::new(), "a-1").is_empty());
    let e = g.resolve(&Applied::new(), "a-2").unwrap_err();
    assert!(
        matches!(
            e,
            PlanError::RelativeTooFar {
                requested: 2,
                produced: 1,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn label_relative_with_nothing_applied_starts_at_label_base() {
    let g = branched();
    // The line of c2branch starts at a.
    assert_eq!(resolve(&g, &Applied::new(), "c2branch@+3"), strs(&["c2"]));
}

#[test]
fn current_is_only_for_history() {
    let g = branched();
    assert!(matches!(
        g.resolve(&Applied::new(), "current"),
        Err(PlanError::InvalidTarget { .. })
    ));
}

#[test]
fn targets_never_panic_on_odd_input() {
    let g = branched();
    let applied = applied_from_heads(&g, &["d1"]);
    for s in [
        "",
        "@@",
        "-0",
        "+0",
        "head+0",
        "base-1",
        "heads+1",
        "c1branch@heads-1",
        "zz@zz",
        "-9223372036854775807",
    ] {
        let _ = g.plan_upgrade(&applied, s);
        let _ = g.plan_downgrade(&applied, s);
        let _ = g.stamp(&applied, &[s], false);
    }
}

#[test]
fn unknown_applied_ids_are_ignored() {
    let g = branched();
    let mut applied = applied_from_heads(&g, &["c1"]);
    applied.insert("gone".into());
    assert_eq!(heads_of(&g, &applied), strs(&["c1"]));
    let plan = g.plan_upgrade(&applied, "d1").unwrap();
    assert_eq!(ids(&plan), strs(&["d1"]));
    // stamp keeps them: the runner reports them.
    let after = g.stamp(&applied, &["b"], false).unwrap();
    assert!(after.contains("gone"));
    assert!(!g.stamp(&applied, &["b"], true).unwrap().contains("gone"));
}

#[test]
fn stamp_purge_and_several_targets() {
    let g = branched();
    let applied = applied_from_heads(&g, &["d1", "d2"]);
    let after = g.stamp(&applied, &["c1"], true).unwrap();
    assert_eq!(after, common::applied(&["a", "b", "c1"]));
    let after = g.stamp(&Applied::new(), &["a", "d2"], false).unwrap();
    assert_eq!(heads_of(&g, &after), strs(&["d2"]));
    assert_eq!(g.stamp(&applied, &["base"], false).unwrap(), Applied::new());
    assert!(matches!(
        g.stamp(&applied, &["nope"], false),
        Err(PlanError::Unknown { .. })
    ));
}

#[test]
fn upgrade_to_applied_or_below_is_empty() {
    let g = branched();
    let applied = applied_from_heads(&g, &["d1"]);
    assert!(g.plan_upgrade(&applied, "a").unwrap().is_empty());
    assert!(g.plan_upgrade(&applied, "d1").unwrap().is_empty());
    assert!(g.plan_upgrade(&applied, "base").unwrap().is_empty());
}

#[test]
fn not_downgrade_target_message() {
    let g = branched();
    let applied = applied_from_heads(&g, &["d1"]);
    let e = g.plan_downgrade(&applied, "c2").unwrap_err();
    assert_eq!(
        e,
        PlanError::NotDowngradeTarget {
            target: "c2".into(),
            heads: strs(&["d1"])
        }
    );
    let msg = e.to_string();
    assert!(
        msg.contains("'c2' is not a valid downgrade target") && msg.contains("'d1'"),
        "{msg}"
    );
}

#[test]
fn history_current_and_errors() {
    let g = branched();
    let applied = applied_from_heads(&g, &["c1"]);
    assert_eq!(history(&g, Some("current:"), &applied), strs(&["d1", "c1"]));
    assert_eq!(
        history(&g, Some(":current"), &applied),
        strs(&["c1", "b", "a"])
    );
    assert_eq!(
        history(&g, Some("-1:current"), &applied),
        strs(&["c1", "b"])
    );
    // A bare step counts from the other end (Alembic's history): `b:+1` forks.
    assert_eq!(history(&g, Some("c1:+1"), &applied), strs(&["d1", "c1"]));
    assert!(matches!(
        g.history(Some("b:+1"), &applied),
        Err(PlanError::AmbiguousWalk { .. })
    ));
    assert_eq!(
        history(&g, Some("-1:heads"), &applied),
        strs(&["d2", "d1", "c2", "c1"])
    );
    assert_eq!(
        history(&g, Some("-3:"), &applied),
        strs(&["d2", "d1", "c2", "c1", "b", "a"])
    );
    assert_eq!(
        history(&g, Some("c2branch:"), &applied),
        strs(&["d2", "c2"])
    );
    assert_eq!(
        history(&g, Some(":c2branch@head"), &applied),
        strs(&["d2", "c2", "b", "a"])
    );
    assert_eq!(
        history(&g, None, &applied),
        strs(&["d2", "d1", "c2", "c1", "b", "a"])
    );
    match g.history(Some("b"), &applied) {
        Err(e @ PlanError::InvalidRange { .. }) => {
            assert!(
                e.to_string().contains("[start]:[end], [start]: or :[end]"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        g.history(Some("zz:"), &applied),
        Err(PlanError::Unknown { .. })
    ));
}

#[test]
fn created_time_breaks_ties_before_id() {
    let ts = |s: &str| Some(s.parse::<jiff::Timestamp>().unwrap());
    let mut z = r("z", &["a"]);
    z.created = ts("2024-01-01T00:00:00Z");
    let mut y = r("y", &["a"]);
    y.created = ts("2024-02-01T00:00:00Z");
    let x = r("x", &["a"]); // no time: first
    let g = graph(vec![y, z, x, r("a", &[])]);
    let order: Vec<&str> = g.in_order().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["a", "x", "z", "y"]);
}

#[test]
fn labels_follow_alembic_rule() {
    // b -> {c1 (lab) -> d1, c2}: b is a branch point and does not carry lab.
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]).with_labels(&["lab"]),
        r("d1", &["c1"]),
        r("c2", &["b"]),
    ]);
    assert_eq!(g.labels_of("d1"), vec!["lab"]);
    assert_eq!(g.labels_of("c1"), vec!["lab"]);
    assert!(g.labels_of("b").is_empty());
    // A label on d1 reaches back to c1 (single line) but stops before the branch point.
    let g2 = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]),
        r("d1", &["c1"]).with_labels(&["top"]),
        r("c2", &["b"]),
    ]);
    let members: Vec<&str> = g2
        .label_members("top")
        .unwrap()
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(members, ["c1", "d1"]);
    assert_eq!(g2.labels(), vec!["top"]);
}

#[test]
fn restricted_to_keeps_labelled_branches_and_their_needs() {
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c1", &["b"]).with_labels(&["one"]),
        r("d1", &["c1"]),
        r("c2", &["b"]).with_labels(&["two"]),
        r("d2", &["c2"]).with_depends_on(&["one"]),
        r("x", &[]).with_labels(&["other"]),
    ]);
    let sub = g.restricted_to(&["two"]).unwrap();
    let order: Vec<&str> = sub.in_order().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["a", "b", "c1", "c2", "d2"]);
    let sub = g.restricted_to(&["one", "other"]).unwrap();
    let order: Vec<&str> = sub.in_order().map(|r| r.id.as_str()).collect();
    assert_eq!(order, ["a", "b", "c1", "d1", "x"]);
    assert!(matches!(
        g.restricted_to(&["nope"]),
        Err(PlanError::Unknown { .. })
    ));
}

#[test]
fn lineage_of_covers_both_directions() {
    let g = branched();
    let l: Vec<&str> = g.lineage_of("c1").iter().map(|r| r.id.as_str()).collect();
    assert_eq!(l, ["a", "b", "c1", "d1"]);
    assert!(g.lineage_of("nope").is_empty());
    assert!(g.children("nope").is_empty() && g.ancestors("nope").is_empty());
}

#[test]
fn synthetic_graph_builds() {
    for n in [0, 1, 7, 1000] {
        let g = Graph::build(braid_graph::synthetic(n)).unwrap();
        assert_eq!(g.len(), n);
        if n > 0 {
            assert_eq!(g.real_heads().len(), 1);
            let plan = g.plan_upgrade(&Applied::new(), "heads").unwrap();
            assert_eq!(plan.steps.len(), n);
        }
    }
}

#[test]
fn large_graphs_build_plan_and_report_cycles() {
    // 100 000 revisions: everything is iterative, so no stack overflow even in debug builds.
    let revs = braid_graph::synthetic(100_000);
    let g = Graph::build(revs.clone()).unwrap();
    let plan = g.plan_upgrade(&Applied::new(), "head").unwrap();
    assert_eq!(plan.steps.len(), 100_000);
    let all = plan.applied_after(&Applied::new());
    assert_eq!(g.plan_downgrade(&all, "base").unwrap().steps.len(), 100_000);
    assert_eq!(g.plan_downgrade(&all, "-3").unwrap().steps.len(), 3);

    // A cycle at the very bottom of a long chain is found and named.
    let mut cyclic = revs;
    cyclic[0].parents = vec![cyclic[2].id.clone()];
    match Graph::build(cyclic) {
        Err(braid_graph::GraphError::Cycle { ids, .. }) => assert_eq!(ids.len(), 3),
        other => panic!("{:?}", other.map(|g| g.len())),
    }
}

#[test]
fn label_relative_is_ambiguous_when_the_line_forks() {
    let g = graph(vec![
        r("a", &[]).with_labels(&["root"]),
        r("b", &["a"]),
        r("c1", &["b"]),
        r("c2", &["b"]),
    ]);
    let applied = applied_from_heads(&g, &["c1", "c2"]);
    let e = g.plan_downgrade(&applied, "root@-1").unwrap_err();
    assert_eq!(
        e,
        PlanError::AmbiguousRelative {
            target: "root@-1".into(),
            heads: strs(&["c1", "c2"]),
            suggestions: strs(&["c1@-1", "c2@-1"]),
        }
    );
    // From b, `+1` along the whole tree forks.
    let applied = applied_from_heads(&g, &["b"]);
    let e = g.plan_upgrade(&applied, "root@+1").unwrap_err();
    assert!(matches!(e, PlanError::AmbiguousWalk { .. }), "{e:?}");
    // Naming the branch by one of its revisions settles it.
    assert_eq!(
        ids(&g.plan_upgrade(&applied, "c2@+1").unwrap()),
        strs(&["c2"])
    );
}

#[test]
fn every_plan_error_says_what_to_do() {
    let g = branched();
    let applied = applied_from_heads(&g, &["d1", "d2"]);
    let errors = [
        g.plan_upgrade(&applied, "zz").unwrap_err(),
        g.plan_upgrade(&Applied::new(), "head").unwrap_err(),
        g.plan_upgrade(&applied, "c1branch@d2").unwrap_err(),
        g.plan_upgrade(&applied, "a+2").unwrap_err(),
        g.plan_upgrade(&applied, "d1+1").unwrap_err(),
        g.plan_downgrade(&applied, "-1").unwrap_err(),
        g.plan_upgrade(&applied, "a b").unwrap_err(),
        g.history(Some("x"), &applied).unwrap_err(),
    ];
    let expected_hints = [
        "no such revision",
        "use 'heads'",
        "drop the 'c1branch@' prefix",
        "name the revision to go to",
        "not enough revisions",
        "name the branch, e.g. 'c1branch@-1'",
        "letters, digits",
        "[start]:[end]",
    ];
    for (e, hint) in errors.iter().zip(expected_hints) {
        assert!(e.to_string().contains(hint), "{e} should mention {hint}");
    }
    let e = g
        .plan_downgrade(&applied_from_heads(&g, &["c1"]), "d2")
        .unwrap_err();
    assert!(e.to_string().contains("current heads are 'c1'"), "{e}");
}

#[test]
fn single_branch_downgrade_below_a_later_merge_keeps_the_other_branch() {
    // core → {audit1 [audit] → audit2, billing1 [billing] → billing2} → merge. The merge carries
    // both labels; `audit@core` must still undo only the audit side (and the merge that needs it).
    let g = graph(vec![
        r("core", &[]),
        r("audit1", &["core"]).with_labels(&["audit"]),
        r("audit2", &["audit1"]),
        r("billing1", &["core"]).with_labels(&["billing"]),
        r("billing2", &["billing1"]),
        r("merge", &["audit2", "billing2"]),
    ]);
    let all = applied_from_heads(&g, &["merge"]);
    let plan = g.plan_downgrade(&all, "audit@core").unwrap();
    assert_eq!(ids(&plan), vec!["merge", "audit2", "audit1"]);
    assert_eq!(
        sorted(
            g.applied_heads(&plan.applied_after(&all))
                .iter()
                .map(|r| r.id.clone())
                .collect()
        ),
        vec!["billing2"]
    );
    // A revision names the branch as well as its label does.
    let plan = g.plan_downgrade(&all, "billing2@core").unwrap();
    assert_eq!(ids(&plan), vec!["merge", "billing2", "billing1"]);
}

#[test]
fn check_target_reports_what_needs_no_database() {
    let g = branched();
    let up = |t: &str| g.check_target(t, Direction::Up);
    let down = |t: &str| g.check_target(t, Direction::Down);
    // Unknown revisions and labels, several heads for `head`, bad grammar, an absolute walk
    // that forks: wrong whatever a database holds.
    assert!(
        matches!(up("zz"), Err(PlanError::Unknown { .. })),
        "{:?}",
        up("zz")
    );
    assert!(matches!(up("head"), Err(PlanError::MultipleHeads { .. })));
    assert!(matches!(down("nolabel@-1"), Err(PlanError::Unknown { .. })));
    assert!(up("a b").is_err());
    assert!(matches!(up("a+2"), Err(PlanError::AmbiguousWalk { .. })));
    // What depends on the database is left to its plan.
    for fine in ["+1", "c1branch@+1", "heads", "c2branch@head", "d1", "base"] {
        assert_eq!(up(fine), Ok(()), "{fine}");
    }
    for fine in ["-1", "c1branch@-1", "base", "b", "c2branch@base"] {
        assert_eq!(down(fine), Ok(()), "{fine}");
    }
}

/// Alembic's `history -r` with a bare step on one end, over a linear `a..e` (outputs of Alembic
/// 1.17's `iterate_revisions`, newest first).
#[test]
fn history_bare_steps_count_from_the_other_end() {
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c", &["b"]),
        r("d", &["c"]),
        r("e", &["d"]),
    ]);
    let none = Applied::new();
    for (range, expected) in [
        ("-3:", &["e", "d", "c", "b"][..]),
        ("-3:heads", &["e", "d", "c", "b"]),
        ("-1:e", &["e", "d"]),
        ("-2:e", &["e", "d", "c"]),
        // Alembic gives only d, c here (and three revisions for -2:e); Braid counts alike.
        ("-2:d", &["d", "c", "b"]),
        ("-9:d", &["d", "c", "b", "a"]),
        ("b:+2", &["d", "c", "b"]),
        ("c:+1", &["d", "c"]),
        ("base:+2", &["b", "a"]),
        ("b:+9", &["e", "d", "c", "b"]),
    ] {
        assert_eq!(history(&g, Some(range), &none), strs(expected), "{range}");
    }
    // Relative to what is applied through `current`.
    let at_c = applied_from_heads(&g, &["c"]);
    assert_eq!(history(&g, Some("-1:current"), &at_c), strs(&["c", "b"]));
    assert_eq!(history(&g, Some("current:+1"), &at_c), strs(&["d", "c"]));
    // A step on the wrong end.
    for range in ["d:-1", "+1:d", "-1:+1"] {
        assert!(
            matches!(
                g.history(Some(range), &none),
                Err(PlanError::InvalidRange { .. })
            ),
            "{range}"
        );
    }
}

#[test]
fn named_one_takes_every_target_that_names_one_revision() {
    let g = branched();
    for (target, id) in [
        ("d1", "d1"),
        ("c2branch", "c2"),
        ("c2branch@head", "d2"),
        ("c1@head", "d1"),
        ("d1-1", "c1"),
        ("base+1", "a"),
    ] {
        assert_eq!(g.named_one(target).unwrap().id, id, "{target}");
    }
    for target in ["base", "+1", "heads", "head", "zz"] {
        assert!(g.named_one(target).is_err(), "{target}");
    }
}

/// A bare step counts from each head: one root line's walk reaching its base does not open the
/// range on the others, and an open end is the real heads (not a head only depended on).
#[test]
fn history_bare_steps_on_several_lines() {
    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("c", &["b"]),
        r("z1", &[]),
        r("z2", &["z1"]),
        r("z3", &["z2"]),
        r("z4", &["z3"]),
        r("z5", &["z4"]),
    ]);
    let mut got = history(&g, Some("-3:"), &Applied::new());
    got.sort();
    assert_eq!(got, strs(&["a", "b", "c", "z2", "z3", "z4", "z5"]));

    let g = graph(vec![
        r("a", &[]),
        r("b", &["a"]),
        r("x", &[]),
        r("y", &["x"]),
        r("c", &["b"]).with_depends_on(&["y"]),
    ]);
    assert_eq!(
        history(&g, Some("-1:"), &Applied::new()),
        history(&g, Some("-1:heads"), &Applied::new())
    );
}
