use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::{Applied, GraphError, PlanError, Revision, validate_id};

/// An immutable, validated version graph.
///
/// **Order.** Wherever the graph lists revisions (plans, `history`, `heads`), independent
/// revisions are ordered by `created` (revisions without a time sort first), then by id. An
/// upgrade is a topological sort that, among the revisions whose parents and dependencies are all
/// done, always takes the smallest `(created, id)`; a full downgrade is the exact reverse. The
/// same graph therefore gives the same plan on every machine, whatever the file names or the
/// file-system order.
///
/// This is deliberately not Alembic's depth-first branch walk: that walk depends on file load
/// order and makes the order of two independent branches change when a branch grows. Ours only
/// depends on the revisions themselves. Any upgrade plan is the set it needs listed in this order,
/// and any downgrade plan is the set it drops in the reverse order.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Revisions in graph order; every index below refers to this vector.
    pub(crate) revisions: Vec<Revision>,
    /// Versioned parents, in declared order.
    pub(crate) parents: Vec<Vec<u32>>,
    /// Resolved `depends_on` (labels replaced by their revision), without repeats.
    pub(crate) deps: Vec<Vec<u32>>,
    /// Children through parents, ascending (graph order).
    pub(crate) children: Vec<Vec<u32>>,
    /// Revisions that depend on this one, ascending.
    pub(crate) dependents: Vec<Vec<u32>>,
    /// Indices sorted by id: exact and prefix lookups without hashing or copying ids.
    by_id: Vec<u32>,
    /// `(label, owner)`, sorted by label.
    labels: Vec<(String, u32)>,
}

/// A head as `heads` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head<'g> {
    pub revision: &'g Revision,
    /// `true` when the revision has no child but is depended on by another revision (Alembic's
    /// "effective head"): it is not one of the targets of `heads`.
    pub effective: bool,
}

/// A revision with more than one child (through parents), and those children in graph order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BranchPoint<'g> {
    pub revision: &'g Revision,
    pub children: Vec<&'g Revision>,
}

/// Which edges a traversal follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edges {
    /// Towards the base through parents only.
    Parents,
    /// Towards the base through parents and dependencies: what must be applied first.
    Requires,
    /// Towards the heads through children only.
    Children,
    /// Towards the heads through children and dependents: what must be undone first.
    RequiredBy,
}

/// Up to three known names close to `word`, best first: enough to catch a typo without flooding
/// the message.
pub(crate) fn suggest<'a>(word: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(f64, &str)> = names
        .filter_map(|n| {
            let score = strsim::jaro_winkler(word, n);
            (score >= 0.8 || (!word.is_empty() && n.starts_with(word))).then_some((score, n))
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(3)
        .map(|(_, n)| n.to_string())
        .collect()
}

impl Graph {
    /// Builds and validates a graph: duplicate ids, ids with characters that are not allowed, a
    /// missing parent or dependency, a self-loop, a cycle (naming its revisions), a duplicate
    /// label or a label equal to an id. Every error names the revision's file.
    ///
    /// Checks run in that order and the first problem found is returned, so fixing errors one by
    /// one converges. Cost is O(N log N): sorting by id, then a heap-driven topological sort.
    pub fn build(revisions: Vec<Revision>) -> Result<Graph, GraphError> {
        let n = revisions.len();

        for r in &revisions {
            validate_id(&r.id).map_err(|reason| GraphError::InvalidId {
                id: r.id.clone(),
                origin: r.describe_origin(),
                reason,
            })?;
        }

        // Sorting (id, index) pairs keeps the compares on contiguous data; the index breaks ties
        // so the first file of a duplicate pair is reported first.
        let mut keyed: Vec<(&str, u32)> = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i as u32))
            .collect();
        keyed.sort_unstable();
        for w in keyed.windows(2) {
            if w[0].0 == w[1].0 {
                let (a, b) = (&revisions[w[0].1 as usize], &revisions[w[1].1 as usize]);
                return Err(GraphError::DuplicateId {
                    id: a.id.clone(),
                    first: a.describe_origin(),
                    second: b.describe_origin(),
                });
            }
        }
        let by_input: Vec<u32> = keyed.iter().map(|&(_, i)| i).collect();
        drop(keyed);
        // Hashing beats a binary search over string compares for the N parent lookups.
        let id_map: std::collections::HashMap<&str, u32> = revisions
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.as_str(), i as u32))
            .collect();
        let find_id = |id: &str| -> Option<u32> { id_map.get(id).copied() };

        let mut labels: Vec<(&str, u32)> = Vec::new();
        for (i, r) in revisions.iter().enumerate() {
            for l in &r.branch_labels {
                validate_id(l).map_err(|reason| GraphError::InvalidLabel {
                    label: l.clone(),
                    id: r.id.clone(),
                    origin: r.describe_origin(),
                    reason,
                })?;
                labels.push((l.as_str(), i as u32));
            }
        }
        labels.sort_unstable();
        for w in labels.windows(2) {
            if w[0].0 == w[1].0 {
                let (a, b) = (&revisions[w[0].1 as usize], &revisions[w[1].1 as usize]);
                return Err(GraphError::DuplicateLabel {
                    label: w[0].0.to_string(),
                    first_id: a.id.clone(),
                    first: a.describe_origin(),
                    second_id: b.id.clone(),
                    second: b.describe_origin(),
                });
            }
        }
        for &(l, owner) in &labels {
            if let Some(other) = find_id(l) {
                let r = &revisions[owner as usize];
                return Err(GraphError::LabelIsId {
                    label: l.to_string(),
                    id: r.id.clone(),
                    origin: r.describe_origin(),
                    other: revisions[other as usize].describe_origin(),
                });
            }
        }
        let find_label = |l: &str| -> Option<u32> {
            labels
                .binary_search_by(|(k, _)| (*k).cmp(l))
                .ok()
                .map(|p| labels[p].1)
        };
        let all_names = || {
            revisions
                .iter()
                .map(|r| r.id.as_str())
                .chain(labels.iter().map(|(l, _)| *l))
        };

        let mut parents: Vec<Vec<u32>> = Vec::with_capacity(n);
        let mut deps: Vec<Vec<u32>> = Vec::with_capacity(n);
        for r in &revisions {
            let mut ps = Vec::with_capacity(r.parents.len());
            for p in &r.parents {
                if *p == r.id {
                    return Err(GraphError::SelfLoop {
                        id: r.id.clone(),
                        origin: r.describe_origin(),
                        via: "parent".into(),
                        reference: p.clone(),
                    });
                }
                let Some(pi) = find_id(p) else {
                    return Err(GraphError::MissingParent {
                        id: r.id.clone(),
                        origin: r.describe_origin(),
                        parent: p.clone(),
                        suggestions: suggest(p, revisions.iter().map(|r| r.id.as_str())),
                    });
                };
                if ps.contains(&pi) {
                    return Err(GraphError::RepeatedParent {
                        id: r.id.clone(),
                        origin: r.describe_origin(),
                        parent: p.clone(),
                    });
                }
                ps.push(pi);
            }
            let mut ds = Vec::with_capacity(r.depends_on.len());
            for d in &r.depends_on {
                if *d == r.id || r.branch_labels.contains(d) {
                    return Err(GraphError::SelfLoop {
                        id: r.id.clone(),
                        origin: r.describe_origin(),
                        via: "dependency".into(),
                        reference: d.clone(),
                    });
                }
                let Some(di) = find_id(d).or_else(|| find_label(d)) else {
                    return Err(GraphError::MissingDependency {
                        id: r.id.clone(),
                        origin: r.describe_origin(),
                        dependency: d.clone(),
                        suggestions: suggest(d, all_names()),
                    });
                };
                if !ds.contains(&di) {
                    ds.push(di);
                }
            }
            parents.push(ps);
            deps.push(ds);
        }

        // Kahn's algorithm with a min-heap on (created, id): the documented tie-break.
        let mut indegree: Vec<u32> = (0..n)
            .map(|i| (parents[i].len() + deps[i].len()) as u32)
            .collect();
        let mut succ: Vec<Vec<u32>> = vec![Vec::new(); n];
        for i in 0..n {
            for &p in parents[i].iter().chain(&deps[i]) {
                succ[p as usize].push(i as u32);
            }
        }
        let key = |i: u32| {
            let r = &revisions[i as usize];
            Reverse((r.created, r.id.as_str(), i))
        };
        let mut heap: BinaryHeap<_> = (0..n as u32)
            .filter(|&i| indegree[i as usize] == 0)
            .map(key)
            .collect();
        let mut order: Vec<u32> = Vec::with_capacity(n);
        while let Some(Reverse((_, _, i))) = heap.pop() {
            order.push(i);
            for &s in &succ[i as usize] {
                indegree[s as usize] -= 1;
                if indegree[s as usize] == 0 {
                    heap.push(key(s));
                }
            }
        }
        if order.len() < n {
            return Err(cycle_error(&revisions, &parents, &deps, &indegree));
        }

        let mut pos = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            pos[old as usize] = new as u32;
        }
        // Move everything into graph order: each old index is taken exactly once.
        fn permute<T>(items: Vec<T>, order: &[u32]) -> Vec<T> {
            let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
            order
                .iter()
                .filter_map(|&i| slots[i as usize].take())
                .collect()
        }
        let remap = |v: Vec<u32>| -> Vec<u32> { v.into_iter().map(|x| pos[x as usize]).collect() };
        let new_parents: Vec<Vec<u32>> = permute(parents, &order).into_iter().map(remap).collect();
        let new_deps: Vec<Vec<u32>> = permute(deps, &order).into_iter().map(remap).collect();
        let mut children = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        // Visiting in graph order keeps every list ascending without sorting.
        for i in 0..n {
            for &p in &new_parents[i] {
                children[p as usize].push(i as u32);
            }
            for &d in &new_deps[i] {
                dependents[d as usize].push(i as u32);
            }
        }
        let labels: Vec<(String, u32)> = labels
            .into_iter()
            .map(|(l, o)| (l.to_string(), pos[o as usize]))
            .collect();
        let by_id: Vec<u32> = by_input.iter().map(|&i| pos[i as usize]).collect();
        drop(succ);
        let revisions = permute(revisions, &order);

        Ok(Graph {
            revisions,
            parents: new_parents,
            deps: new_deps,
            children,
            dependents,
            by_id,
            labels,
        })
    }

    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        self.index_of(id).map(|i| self.rev(i))
    }

    /// Every revision in upgrade order (the deterministic topological order described above).
    pub fn in_order(&self) -> impl DoubleEndedIterator<Item = &Revision> + '_ {
        self.revisions.iter()
    }

    /// Revisions with no child through parents, effective heads included and marked, in graph order.
    pub fn heads(&self) -> Vec<Head<'_>> {
        self.head_indices()
            .into_iter()
            .map(|i| Head {
                revision: self.rev(i),
                effective: !self.dependents[i as usize].is_empty(),
            })
            .collect()
    }

    /// Revisions with no child through parents nor dependents: what `heads` resolves to.
    pub fn real_heads(&self) -> Vec<&Revision> {
        self.revs(&self.real_head_indices())
    }

    /// Revisions with no parent, in graph order.
    pub fn bases(&self) -> Vec<&Revision> {
        self.revs(&self.base_indices())
    }

    pub fn branch_points(&self) -> Vec<BranchPoint<'_>> {
        (0..self.len() as u32)
            .filter(|&i| self.children[i as usize].len() > 1)
            .map(|i| BranchPoint {
                revision: self.rev(i),
                children: self.revs(&self.children[i as usize]),
            })
            .collect()
    }

    /// Revisions with more than one parent, in graph order.
    pub fn merge_points(&self) -> Vec<&Revision> {
        self.revisions.iter().filter(|r| r.is_merge()).collect()
    }

    pub fn is_head(&self, id: &str) -> bool {
        self.index_of(id)
            .is_some_and(|i| self.children[i as usize].is_empty())
    }

    pub fn is_branch_point(&self, id: &str) -> bool {
        self.index_of(id)
            .is_some_and(|i| self.children[i as usize].len() > 1)
    }

    pub fn is_merge_point(&self, id: &str) -> bool {
        self.index_of(id)
            .is_some_and(|i| self.parents[i as usize].len() > 1)
    }

    /// Direct children through parents (not dependents), in graph order.
    pub fn children(&self, id: &str) -> Vec<&Revision> {
        self.index_of(id)
            .map(|i| self.revs(&self.children[i as usize]))
            .unwrap_or_default()
    }

    /// Every ancestor through parents and `depends_on`, excluding `id`, in graph order.
    pub fn ancestors(&self, id: &str) -> Vec<&Revision> {
        self.index_of(id)
            .map(|i| self.revs(&self.closure(&[i], Edges::Requires, false)))
            .unwrap_or_default()
    }

    /// Every descendant through children and dependents, excluding `id`, in graph order.
    pub fn descendants(&self, id: &str) -> Vec<&Revision> {
        self.index_of(id)
            .map(|i| self.revs(&self.closure(&[i], Edges::RequiredBy, false)))
            .unwrap_or_default()
    }

    /// Every revision that shares a line with `id`: its ancestors, itself and its descendants
    /// (through parents, dependencies, children and dependents), in graph order. This is the set
    /// `label@rev` checks membership against.
    pub fn lineage_of(&self, id: &str) -> Vec<&Revision> {
        self.index_of(id)
            .map(|i| {
                let mask = self.lineage_mask(i, true);
                self.revs(&mask_to_indices(&mask))
            })
            .unwrap_or_default()
    }

    /// The branch labels that apply to a revision: its own, those inherited from ancestors down
    /// its line, and those of descendants up to the nearest branch or merge point (Alembic's rule).
    /// Sorted by label.
    pub fn labels_of(&self, id: &str) -> Vec<&str> {
        let Some(i) = self.index_of(id) else {
            return Vec::new();
        };
        let above = self.mask(&[i], Edges::Parents, true);
        self.labels
            .iter()
            .filter(|(_, owner)| above[*owner as usize] || self.tail_below(*owner).contains(&i))
            .map(|(l, _)| l.as_str())
            .collect()
    }

    /// The revisions a label applies to, in graph order. `None` if no such label.
    pub fn label_members(&self, label: &str) -> Option<Vec<&Revision>> {
        let owner = self.label_index(label)?;
        Some(self.revs(&mask_to_indices(&self.members_mask(owner))))
    }

    /// The revision that declares `label`.
    pub fn label_owner(&self, label: &str) -> Option<&Revision> {
        self.label_index(label).map(|i| self.rev(i))
    }

    /// Every branch label, sorted.
    pub fn labels(&self) -> Vec<&str> {
        self.labels.iter().map(|(l, _)| l.as_str()).collect()
    }

    /// Resolves a revision reference: an exact id, a label, or a unique id prefix. An ambiguous
    /// prefix lists the candidates; an unknown one suggests close matches.
    pub fn lookup(&self, reference: &str) -> Result<&Revision, PlanError> {
        self.lookup_index(reference).map(|i| self.rev(i))
    }

    /// The heads of an applied set: applied revisions with no applied child through parents.
    /// A dependency that an applied revision needs shows up as a head of its own branch (as
    /// Alembic's `current` shows it).
    pub fn applied_heads(&self, applied: &Applied) -> Vec<&Revision> {
        self.revs(&self.applied_head_indices(&self.applied_mask(applied), None))
    }

    /// History for a range `[start]:[end]` (Alembic's `history -r`), newest first. An empty
    /// start means base, an empty end means heads; either side may be any target; `current`
    /// on either side refers to `applied`.
    pub fn history(
        &self,
        range: Option<&str>,
        applied: &Applied,
    ) -> Result<Vec<&Revision>, PlanError> {
        let Some(range) = range else {
            return Ok(self.revisions.iter().rev().collect());
        };
        let Some((start, end)) = range.split_once(':') else {
            return Err(PlanError::InvalidRange {
                range: range.to_string(),
                reason: "history range requires [start]:[end], [start]: or :[end]".into(),
            });
        };
        let applied_mask = self.applied_mask(applied);
        // `None`: the open end (base or heads). `Some((revs, exact))`: with `exact`, the set
        // itself rather than a point to measure from.
        let side = |s: &str| -> Result<Option<(Vec<u32>, bool)>, PlanError> {
            match s {
                "" => Ok(None),
                "current" => Ok(Some((
                    self.applied_head_indices(&applied_mask, None),
                    false,
                ))),
                _ => {
                    let t = crate::Target::parse(s)?;
                    let r =
                        self.resolve_parsed(&applied_mask, &t, s, crate::target::Mode::History)?;
                    match (r.revs.is_empty(), r.anchor) {
                        // `label@base`: that branch from its bottom, with what it needs.
                        (true, Some(a)) => {
                            let branch = self.closure(&[a], Edges::Children, true);
                            Ok(Some((self.closure(&branch, Edges::Requires, true), true)))
                        }
                        _ => Ok(Some((r.revs, false))),
                    }
                }
            }
        };
        let start_side = side(start)?;
        let end_side = side(end)?;
        let below_end = match &end_side {
            None => vec![true; self.len()],
            Some((e, false)) => self.mask(e, Edges::Requires, true),
            Some((e, true)) => {
                let mut m = vec![false; self.len()];
                e.iter().for_each(|&i| m[i as usize] = true);
                m
            }
        };
        let above_start = match &start_side {
            // `base` (or nothing applied for `current`) starts below everything.
            None => vec![true; self.len()],
            Some((s, false)) if s.is_empty() => vec![true; self.len()],
            Some((s, true)) => {
                let mut m = vec![false; self.len()];
                s.iter().for_each(|&i| m[i as usize] = true);
                m
            }
            Some((s, false)) => {
                for &i in s {
                    if !below_end[i as usize] {
                        return Err(PlanError::InvalidRange {
                            range: range.to_string(),
                            reason: format!(
                                "'{}' is not an ancestor of '{}', so the range does not refer to revisions along the same line; swap the ends or pick another start",
                                self.rev(i).id,
                                if end.is_empty() { "heads" } else { end }
                            ),
                        });
                    }
                }
                self.mask(s, Edges::RequiredBy, true)
            }
        };
        Ok((0..self.len())
            .rev()
            .filter(|&i| below_end[i] && above_start[i])
            .map(|i| &self.revisions[i])
            .collect())
    }
}

/// Names the revisions of one cycle among the revisions Kahn's algorithm could not place.
fn cycle_error(
    revisions: &[Revision],
    parents: &[Vec<u32>],
    deps: &[Vec<u32>],
    indegree: &[u32],
) -> GraphError {
    // Every unplaced revision has an unplaced parent or dependency, so walking down those edges
    // from any of them must revisit a revision: that part of the walk is a cycle.
    let stuck = |i: u32| indegree[i as usize] > 0;
    let start = (0..revisions.len() as u32)
        .filter(|&i| stuck(i))
        .min_by(|&a, &b| revisions[a as usize].id.cmp(&revisions[b as usize].id))
        .unwrap_or(0);
    let mut seen_at = vec![usize::MAX; revisions.len()];
    let mut path: Vec<u32> = Vec::new();
    let mut cur = start;
    while seen_at[cur as usize] == usize::MAX {
        seen_at[cur as usize] = path.len();
        path.push(cur);
        let next = parents[cur as usize]
            .iter()
            .chain(&deps[cur as usize])
            .copied()
            .find(|&p| stuck(p));
        match next {
            Some(p) => cur = p,
            None => break,
        }
    }
    let mut cycle: Vec<u32> = path[seen_at[cur as usize].min(path.len())..].to_vec();
    // The walk went from child to parent; list parents first, starting at the smallest id.
    cycle.reverse();
    if let Some(m) = (0..cycle.len()).min_by(|&a, &b| {
        revisions[cycle[a] as usize]
            .id
            .cmp(&revisions[cycle[b] as usize].id)
    }) {
        cycle.rotate_left(m);
    }
    GraphError::Cycle {
        ids: cycle
            .iter()
            .map(|&i| revisions[i as usize].id.clone())
            .collect(),
        origins: cycle
            .iter()
            .map(|&i| revisions[i as usize].describe_origin())
            .collect(),
    }
}

pub(crate) fn mask_to_indices(mask: &[bool]) -> Vec<u32> {
    mask.iter()
        .enumerate()
        .filter(|(_, m)| **m)
        .map(|(i, _)| i as u32)
        .collect()
}

/// Internal index-level helpers, shared by target resolution and planning.
impl Graph {
    pub(crate) fn rev(&self, i: u32) -> &Revision {
        &self.revisions[i as usize]
    }

    pub(crate) fn revs(&self, idx: &[u32]) -> Vec<&Revision> {
        idx.iter().map(|&i| self.rev(i)).collect()
    }

    pub(crate) fn ids(&self, idx: &[u32]) -> Vec<String> {
        idx.iter().map(|&i| self.rev(i).id.clone()).collect()
    }

    pub(crate) fn index_of(&self, id: &str) -> Option<u32> {
        self.by_id
            .binary_search_by(|&i| self.rev(i).id.as_str().cmp(id))
            .ok()
            .map(|p| self.by_id[p])
    }

    pub(crate) fn label_index(&self, label: &str) -> Option<u32> {
        self.labels
            .binary_search_by(|(l, _)| l.as_str().cmp(label))
            .ok()
            .map(|p| self.labels[p].1)
    }

    pub(crate) fn lookup_index(&self, reference: &str) -> Result<u32, PlanError> {
        self.lookup_within(reference, None)
    }

    /// Like `lookup_index`, but a prefix only counts revisions inside `within` (used for
    /// `label@prefix`, where the label narrows what the prefix can mean).
    pub(crate) fn lookup_within(
        &self,
        reference: &str,
        within: Option<&[bool]>,
    ) -> Result<u32, PlanError> {
        if let Some(i) = self
            .index_of(reference)
            .or_else(|| self.label_index(reference))
        {
            return Ok(i);
        }
        let mut names: Vec<(&str, u32)> = Vec::new();
        if !reference.is_empty() {
            let from = self
                .by_id
                .partition_point(|&i| self.rev(i).id.as_str() < reference);
            for &i in &self.by_id[from..] {
                let id = self.rev(i).id.as_str();
                if !id.starts_with(reference) {
                    break;
                }
                names.push((id, i));
            }
            let from = self.labels.partition_point(|(l, _)| l.as_str() < reference);
            for (l, i) in &self.labels[from..] {
                if !l.starts_with(reference) {
                    break;
                }
                names.push((l.as_str(), *i));
            }
        }
        if let Some(w) = within {
            names.retain(|(_, i)| w[*i as usize]);
        }
        let mut targets: Vec<u32> = names.iter().map(|(_, i)| *i).collect();
        targets.sort_unstable();
        targets.dedup();
        match targets.len() {
            1 => Ok(targets[0]),
            0 => Err(PlanError::Unknown {
                reference: reference.to_string(),
                suggestions: suggest(
                    reference,
                    self.revisions
                        .iter()
                        .map(|r| r.id.as_str())
                        .chain(self.labels.iter().map(|(l, _)| l.as_str())),
                ),
            }),
            _ => {
                let mut candidates: Vec<String> =
                    names.iter().map(|(n, _)| n.to_string()).collect();
                candidates.sort();
                let total = candidates.len();
                candidates.truncate(10);
                Err(PlanError::Ambiguous {
                    prefix: reference.to_string(),
                    candidates,
                    total,
                })
            }
        }
    }

    pub(crate) fn head_indices(&self) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&i| self.children[i as usize].is_empty())
            .collect()
    }

    pub(crate) fn real_head_indices(&self) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&i| {
                self.children[i as usize].is_empty() && self.dependents[i as usize].is_empty()
            })
            .collect()
    }

    pub(crate) fn base_indices(&self) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&i| self.parents[i as usize].is_empty())
            .collect()
    }

    fn edges(&self, i: u32, edges: Edges) -> impl Iterator<Item = u32> + '_ {
        let i = i as usize;
        let (a, b): (&[u32], &[u32]) = match edges {
            Edges::Parents => (&self.parents[i], &[]),
            Edges::Requires => (&self.parents[i], &self.deps[i]),
            Edges::Children => (&self.children[i], &[]),
            Edges::RequiredBy => (&self.children[i], &self.dependents[i]),
        };
        a.iter().chain(b).copied()
    }

    /// Everything reachable from `starts` along `edges`, as a mask over graph order.
    pub(crate) fn mask(&self, starts: &[u32], edges: Edges, include_self: bool) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack: Vec<u32> = Vec::new();
        for &s in starts {
            for e in self.edges(s, edges) {
                if !seen[e as usize] {
                    seen[e as usize] = true;
                    stack.push(e);
                }
            }
        }
        while let Some(i) = stack.pop() {
            for e in self.edges(i, edges) {
                if !seen[e as usize] {
                    seen[e as usize] = true;
                    stack.push(e);
                }
            }
        }
        if include_self {
            for &s in starts {
                seen[s as usize] = true;
            }
        }
        seen
    }

    /// Like [`Graph::mask`], as indices in graph order.
    pub(crate) fn closure(&self, starts: &[u32], edges: Edges, include_self: bool) -> Vec<u32> {
        mask_to_indices(&self.mask(starts, edges, include_self))
    }

    /// Ancestors-or-self and descendants-or-self of `i`: the revisions sharing its line.
    /// With `deps`, dependencies and dependents count as lines too.
    pub(crate) fn lineage_mask(&self, i: u32, deps: bool) -> Vec<bool> {
        let (down, up) = if deps {
            (Edges::Requires, Edges::RequiredBy)
        } else {
            (Edges::Parents, Edges::Children)
        };
        let mut m = self.mask(&[i], down, true);
        for (k, d) in self.mask(&[i], up, true).into_iter().enumerate() {
            m[k] |= d;
        }
        m
    }

    /// The single-parent line below `owner` that a label on `owner` extends to: ancestors up to
    /// but not including the nearest branch point or merge point.
    fn tail_below(&self, owner: u32) -> Vec<u32> {
        let mut tail = Vec::new();
        let mut p = owner as usize;
        while self.parents[p].len() == 1 {
            let q = self.parents[p][0] as usize;
            if self.children[q].len() > 1 || self.parents[q].len() > 1 {
                break;
            }
            tail.push(q as u32);
            p = q;
        }
        tail
    }

    /// The revisions a label on `owner` would apply to (Alembic's rule), as a mask. Also used
    /// for `rev@…` where the revision stands for "its branch".
    pub(crate) fn members_mask(&self, owner: u32) -> Vec<bool> {
        let mut m = self.mask(&[owner], Edges::Children, true);
        for t in self.tail_below(owner) {
            m[t as usize] = true;
        }
        m
    }

    pub(crate) fn applied_mask(&self, applied: &Applied) -> Vec<bool> {
        let mut m = vec![false; self.len()];
        for id in applied {
            if let Some(i) = self.index_of(id) {
                m[i as usize] = true;
            }
        }
        m
    }

    /// Applied revisions (restricted to `within` if given) with no applied child inside it.
    pub(crate) fn applied_head_indices(
        &self,
        applied: &[bool],
        within: Option<&[bool]>,
    ) -> Vec<u32> {
        let inside = |i: usize| applied[i] && within.is_none_or(|w| w[i]);
        (0..self.len())
            .filter(|&i| inside(i) && !self.children[i].iter().any(|&c| inside(c as usize)))
            .map(|i| i as u32)
            .collect()
    }
}
