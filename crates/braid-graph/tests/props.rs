//! Property tests over random DAGs: plans respect every edge, round-trip, and do not depend on
//! the order revisions were read in; target parsing and resolution never panic.

use std::collections::{BTreeSet, HashMap};

use braid_graph::{Applied, Direction, Graph, Revision, Target};
use proptest::prelude::*;

/// A random DAG: each revision picks parents among earlier ones (sometimes two: a merge),
/// sometimes a dependency (by id or by label), sometimes a label and a creation time.
fn dag() -> impl Strategy<Value = Vec<Revision>> {
    (1usize..40).prop_flat_map(|n| {
        proptest::collection::vec(
            (
                any::<u32>(),
                any::<u32>(),
                0u8..10,
                any::<u32>(),
                0u8..10,
                0u8..10,
                proptest::option::of(0i64..5),
            ),
            n,
        )
        .prop_map(|spec| {
            let mut revs: Vec<Revision> = Vec::new();
            let mut labelled: Vec<(usize, String)> = Vec::new();
            for (i, (p1, p2, kind, d, dep_kind, label_kind, created)) in
                spec.into_iter().enumerate()
            {
                let id = format!("r{i}");
                let mut parents: Vec<String> = Vec::new();
                if i > 0 && kind >= 2 {
                    parents.push(format!("r{}", p1 as usize % i));
                    if kind >= 8 && i > 1 {
                        let q = format!("r{}", p2 as usize % i);
                        if !parents.contains(&q) {
                            parents.push(q);
                        }
                    }
                }
                let mut rev = Revision::new(id.clone(), &[]);
                rev.parents = parents;
                if i > 0 && dep_kind >= 7 {
                    let target = d as usize % i;
                    let by_label = labelled.iter().find(|(k, _)| *k == target);
                    rev.depends_on = vec![match (dep_kind, by_label) {
                        (9, Some((_, l))) => l.clone(),
                        _ => format!("r{target}"),
                    }];
                }
                if label_kind >= 8 {
                    let l = format!("lab{i}");
                    rev.branch_labels = vec![l.clone()];
                    labelled.push((i, l));
                }
                rev.created = created.map(|h| jiff::Timestamp::from_second(h * 3600).unwrap());
                revs.push(rev);
            }
            revs
        })
    })
}

fn edges_of(g: &Graph) -> Vec<(String, String)> {
    // (before, after) pairs: parents and dependencies (labels resolved) come first.
    let mut out = Vec::new();
    for r in g.in_order() {
        for p in &r.parents {
            out.push((p.clone(), r.id.clone()));
        }
        for d in &r.depends_on {
            let dep = g
                .lookup(d)
                .map(|x| x.id.clone())
                .unwrap_or_else(|_| d.clone());
            out.push((dep, r.id.clone()));
        }
    }
    out
}

fn position(ids: &[String]) -> HashMap<&str, usize> {
    ids.iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect()
}

fn closure(g: &Graph, id: &str) -> Applied {
    let mut a: Applied = g.ancestors(id).iter().map(|r| r.id.clone()).collect();
    a.insert(id.to_string());
    a
}

fn is_closed(g: &Graph, applied: &Applied) -> bool {
    applied
        .iter()
        .all(|id| g.ancestors(id).iter().all(|a| applied.contains(&a.id)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn full_upgrade_and_downgrade_respect_every_edge(revs in dag()) {
        let g = Graph::build(revs).unwrap();
        let up = g.plan_upgrade(&Applied::new(), "heads").unwrap();
        let up_ids: Vec<String> = up.steps.iter().map(|s| s.revision.id.clone()).collect();
        prop_assert!(up.steps.iter().all(|s| s.direction == Direction::Up));
        prop_assert_eq!(up_ids.len(), g.len());
        prop_assert_eq!(up_ids.iter().collect::<BTreeSet<_>>().len(), g.len());
        let pos = position(&up_ids);
        for (before, after) in edges_of(&g) {
            prop_assert!(pos[before.as_str()] < pos[after.as_str()], "{} before {}", before, after);
        }

        let all = up.applied_after(&Applied::new());
        let down = g.plan_downgrade(&all, "base").unwrap();
        let down_ids: Vec<String> = down.steps.iter().map(|s| s.revision.id.clone()).collect();
        prop_assert!(down.steps.iter().all(|s| s.direction == Direction::Down));
        let mut reversed = up_ids.clone();
        reversed.reverse();
        prop_assert_eq!(&down_ids, &reversed);
        prop_assert!(down.applied_after(&all).is_empty());
        let history: Vec<String> = g.history(None, &all).unwrap().iter().map(|r| r.id.clone()).collect();
        prop_assert_eq!(history, reversed);
    }

    #[test]
    fn downgrade_then_upgrade_restores(revs in dag(), pick in any::<usize>(), pick2 in any::<usize>()) {
        let g = Graph::build(revs).unwrap();
        let ids: Vec<String> = g.in_order().map(|r| r.id.clone()).collect();
        let start = closure(&g, &ids[pick % ids.len()]);
        // Upgrade to another revision, then check the state is closed and contains it.
        let target = &ids[pick2 % ids.len()];
        let up = g.plan_upgrade(&start, target).unwrap();
        let after_up = up.applied_after(&start);
        prop_assert!(after_up.contains(target));
        prop_assert!(is_closed(&g, &after_up));
        prop_assert!(up.steps.iter().all(|s| !start.contains(&s.revision.id)));
        // Upgrading again is a no-op.
        prop_assert!(g.plan_upgrade(&after_up, target).unwrap().is_empty());

        // Downgrade to some applied revision, then upgrade back to the old heads.
        let heads: Vec<String> = g.applied_heads(&after_up).iter().map(|r| r.id.clone()).collect();
        let down_to = after_up.iter().nth(pick % after_up.len()).unwrap().clone();
        let down = g.plan_downgrade(&after_up, &down_to).unwrap();
        let after_down = down.applied_after(&after_up);
        prop_assert!(after_down.contains(&down_to));
        prop_assert!(is_closed(&g, &after_down));
        for c in g.children(&down_to) {
            prop_assert!(!after_down.contains(&c.id));
        }
        let mut restored = after_down.clone();
        for h in &heads {
            let p = g.plan_upgrade(&restored, h).unwrap();
            restored = p.applied_after(&restored);
        }
        prop_assert_eq!(restored, after_up);
    }

    #[test]
    fn plans_do_not_depend_on_input_order(revs in dag(), seed in any::<u64>(), pick in any::<usize>()) {
        let g1 = Graph::build(revs.clone()).unwrap();
        let mut shuffled = revs;
        // Deterministic Fisher-Yates from the seed.
        let mut s = seed | 1;
        for i in (1..shuffled.len()).rev() {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            shuffled.swap(i, (s % (i as u64 + 1)) as usize);
        }
        let g2 = Graph::build(shuffled).unwrap();
        let o1: Vec<&str> = g1.in_order().map(|r| r.id.as_str()).collect();
        let o2: Vec<&str> = g2.in_order().map(|r| r.id.as_str()).collect();
        prop_assert_eq!(&o1, &o2);
        let target = o1[pick % o1.len()];
        let applied = closure(&g1, o1[(pick / 7) % o1.len()]);
        let p1 = g1.plan_upgrade(&applied, target).map(|p| p.steps.iter().map(|s| s.revision.id.clone()).collect::<Vec<_>>());
        let p2 = g2.plan_upgrade(&applied, target).map(|p| p.steps.iter().map(|s| s.revision.id.clone()).collect::<Vec<_>>());
        prop_assert_eq!(p1, p2);
        let d1 = g1.plan_downgrade(&applied, target).map(|p| p.steps.iter().map(|s| s.revision.id.clone()).collect::<Vec<_>>());
        let d2 = g2.plan_downgrade(&applied, target).map(|p| p.steps.iter().map(|s| s.revision.id.clone()).collect::<Vec<_>>());
        prop_assert_eq!(d1, d2);
        let h1: Vec<String> = g1.heads().iter().map(|h| h.revision.id.clone()).collect();
        let h2: Vec<String> = g2.heads().iter().map(|h| h.revision.id.clone()).collect();
        prop_assert_eq!(h1, h2);
    }

    #[test]
    fn parse_never_panics(s in "\\PC*") {
        let _ = Target::parse(&s);
    }

    #[test]
    fn resolution_never_panics(
        revs in dag(),
        s in "(([a-z0-9_]{0,4}|r[0-9]{1,2}|lab[0-9]{1,2}|head|heads|base|current)@)?(r[0-9]{0,2}|lab[0-9]?|head|heads|base|current)?([+-][0-9]{1,3})?",
        junk in "\\PC{0,12}",
        pick in any::<usize>(),
    ) {
        let g = Graph::build(revs).unwrap();
        let ids: Vec<String> = g.in_order().map(|r| r.id.clone()).collect();
        let applied = closure(&g, &ids[pick % ids.len()]);
        for input in [s.as_str(), junk.as_str()] {
            if let Ok(p) = g.plan_upgrade(&applied, input) {
                let after = p.applied_after(&applied);
                prop_assert!(is_closed(&g, &after));
            }
            if let Ok(p) = g.plan_downgrade(&applied, input) {
                let after = p.applied_after(&applied);
                prop_assert!(is_closed(&g, &after));
            }
            let _ = g.stamp(&applied, &[input], false);
            let _ = g.resolve(&applied, input);
            let _ = g.lookup(input);
            let _ = g.history(Some(&format!("{input}:")), &applied);
            let _ = g.history(Some(&format!(":{input}")), &applied);
            let _ = g.history(Some(input), &applied);
        }
    }
}
