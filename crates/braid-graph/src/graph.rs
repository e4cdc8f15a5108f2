use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::OnceLock;

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
    /// The labels of every revision, computed on the first question about one (`history`
    /// asks for each revision it prints; a plan never asks).
    label_sets: OnceLock<LabelSets>,
}

/// The branch labels that apply to each revision (the rule is on [`Graph::labels_of`]), built in
/// one pass over the graph so that asking for one revision's labels costs only its labels.
///
/// A label is its index in `Graph::labels`, so an ascending set is sorted by label. Revisions
/// along one line carry the same labels, so they share one set: only a label's owner and a merge
/// point (going up) and the revision below an owner (going down) start a new one.
#[derive(Debug, Clone)]
struct LabelSets {
    /// Distinct sets, each ascending; `sets[0]` is the empty set.
    sets: Vec<Box<[u32]>>,
    /// Per revision (graph order): the set of labels declared on itself or an ancestor…
    own_line: Vec<u32>,
    /// …and the set of labels reaching down to it from descendants along its single-parent line.
    from_above: Vec<u32>,
}

/// What the front ends print beside a revision (Alembic's markers), found in one look-up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markers<'g> {
    /// As [`Graph::labels_of`]: sorted by label.
    pub labels: Vec<&'g str>,
    /// No child through parents (an effective head counts).
    pub is_head: bool,
    /// More than one child through parents.
    pub is_branch_point: bool,
    /// More than one parent.
    pub is_merge_point: bool,
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
            label_sets: OnceLock::new(),
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
            .filter(|&i| self.is_branch_point_at(i))
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
        self.index_of(id).is_some_and(|i| self.is_head_at(i))
    }

    pub fn is_branch_point(&self, id: &str) -> bool {
        self.index_of(id)
            .is_some_and(|i| self.is_branch_point_at(i))
    }

    pub fn is_merge_point(&self, id: &str) -> bool {
        self.index_of(id).is_some_and(|i| self.is_merge_point_at(i))
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
    ///
    /// The labels of every revision are computed together on the first call (O(N + labels)), so
    /// listing a whole history costs O(1) per revision plus its labels.
    pub fn labels_of(&self, id: &str) -> Vec<&str> {
        self.index_of(id)
            .map(|i| self.labels_at(i))
            .unwrap_or_default()
    }

    /// The markers of `rev` (its labels, head, branch point, merge point). O(1) plus its labels
    /// when `rev` is one this graph handed out (as `history`, `heads` and `lookup` do); another
    /// graph's revision is looked up by id. Unknown ids get no markers.
    pub fn markers(&self, rev: &Revision) -> Markers<'_> {
        let Some(i) = self.position(rev) else {
            return Markers::default();
        };
        Markers {
            labels: self.labels_at(i),
            is_head: self.is_head_at(i),
            is_branch_point: self.is_branch_point_at(i),
            is_merge_point: self.is_merge_point_at(i),
        }
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
        // A bare step on one end (`-3:`, `b:+2`) counts from the other end, as Alembic's
        // history does: from each revision that end stands for (each head of an open end;
        // what is applied for `current`).
        let (start_side, end_side) = match (bare_step(start), bare_step(end)) {
            (Some(n), None) if n < 0 => {
                let end_side = side(end)?;
                let from = match &end_side {
                    None => self.real_head_indices().into_iter().map(Some).collect(),
                    Some((revs, _)) => points(revs),
                };
                (self.clamped_walk(&from, n, start)?, end_side)
            }
            (None, Some(n)) if n > 0 => {
                let start_side = side(start)?;
                let from = match &start_side {
                    None => vec![None],
                    Some((revs, _)) => points(revs),
                };
                (start_side, self.clamped_walk(&from, n, end)?)
            }
            (Some(_), _) | (_, Some(_)) => {
                return Err(PlanError::InvalidRange {
                    range: range.to_string(),
                    reason: "a bare step counts from the other end: a negative one goes on the \
                             start (`-3:`, `-2:rev`), a positive one on the end (`rev:+2`)"
                        .into(),
                });
            }
            _ => (side(start)?, side(end)?),
        };
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

impl LabelSets {
    /// Both sets of every revision in two passes: up the graph (graph order, parents first) for
    /// the labels of the revision and its ancestors, down it (children first) for the labels that
    /// reach a revision along [`Graph::tail_step`].
    fn compute(graph: &Graph) -> LabelSets {
        let n = graph.len();
        let mut declared: Vec<Vec<u32>> = vec![Vec::new(); n];
        for (l, (_, owner)) in graph.labels.iter().enumerate() {
            declared[*owner as usize].push(l as u32);
        }
        let mut out = LabelSets {
            sets: vec![Box::default()],
            own_line: vec![0; n],
            from_above: vec![0; n],
        };
        for (i, (own, parents)) in declared.iter().zip(&graph.parents).enumerate() {
            out.own_line[i] = match (own.as_slice(), parents.as_slice()) {
                ([], []) => 0,
                ([], &[p]) => out.own_line[p as usize],
                (own, parents) => {
                    let inherited: Vec<u32> =
                        parents.iter().map(|&p| out.own_line[p as usize]).collect();
                    out.union(own, &inherited)
                }
            };
        }
        for p in (0..n as u32).rev() {
            if let Some(q) = graph.tail_step(p) {
                // `p` is `q`'s only child, so `q` is set once, after `p` got its own set.
                let above = out.from_above[p as usize];
                out.from_above[q as usize] = match declared[p as usize].as_slice() {
                    [] => above,
                    own => out.union(own, &[above]),
                };
            }
        }
        out
    }

    /// The id of `labels` ∪ the sets `others`, reusing one of `others` when the union adds
    /// nothing to it (a merge of two lines with the same labels).
    fn union(&mut self, labels: &[u32], others: &[u32]) -> u32 {
        let mut merged: Vec<u32> = labels.to_vec();
        for &o in others {
            merged.extend_from_slice(&self.sets[o as usize]);
        }
        merged.sort_unstable();
        merged.dedup();
        if let Some(&same) = others
            .iter()
            .find(|&&o| self.sets[o as usize].len() == merged.len())
        {
            return same;
        }
        self.sets.push(merged.into_boxed_slice());
        (self.sets.len() - 1) as u32
    }
}

impl Graph {
    /// Each of `from` walked `n` steps (down when negative), stopping at its line's first
    /// revision or a head as Alembic's history does; a walk must not fork. `None` among `from`
    /// is the base, and so is the result when every walk stays there.
    fn clamped_walk(
        &self,
        from: &[Option<u32>],
        n: i64,
        input: &str,
    ) -> Result<Option<(Vec<u32>, bool)>, PlanError> {
        let mut ends = Vec::new();
        for &start in from {
            let mut at = start;
            for _ in 0..n.unsigned_abs() {
                match self.walk(at, n.signum(), None, input) {
                    // Below a base there is only the base: stay on this line's first revision.
                    Ok(None) if at.is_some() => break,
                    Ok(next) => at = next,
                    Err(PlanError::RelativeTooFar { .. }) => break,
                    Err(e) => return Err(e),
                }
            }
            ends.extend(at);
        }
        Ok((!ends.is_empty()).then_some((ends, false)))
    }
}

/// The revisions of a range's end, as points to walk from; none is the base.
fn points(revs: &[u32]) -> Vec<Option<u32>> {
    match revs {
        [] => vec![None],
        revs => revs.iter().copied().map(Some).collect(),
    }
}

/// `-3` or `+2` alone (no revision, no branch): a step that counts from the range's other end.
fn bare_step(side: &str) -> Option<i64> {
    let target = crate::Target::parse(side).ok()?;
    match (&target.branch, &target.symbol) {
        (None, None) => target.relative,
        _ => None,
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
            .filter(|&i| self.is_head_at(i))
            .collect()
    }

    /// No child through parents (an effective head is one too).
    fn is_head_at(&self, i: u32) -> bool {
        self.children[i as usize].is_empty()
    }

    /// More than one child through parents.
    fn is_branch_point_at(&self, i: u32) -> bool {
        self.children[i as usize].len() > 1
    }

    /// More than one parent.
    fn is_merge_point_at(&self, i: u32) -> bool {
        self.parents[i as usize].len() > 1
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

    pub(crate) fn edges(&self, i: u32, edges: Edges) -> impl Iterator<Item = u32> + '_ {
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
        std::iter::successors(self.tail_step(owner), |&q| self.tail_step(q)).collect()
    }

    /// One step of [`Graph::tail_below`]: the parent of `p` that a label reaching `p` from above
    /// also reaches. `None` when `p` is a base or a merge point, or its parent is a branch point
    /// or a merge point. The only place that rule is written.
    fn tail_step(&self, p: u32) -> Option<u32> {
        let &[q] = self.parents[p as usize].as_slice() else {
            return None;
        };
        let (children, parents) = (&self.children[q as usize], &self.parents[q as usize]);
        (children.len() <= 1 && parents.len() <= 1).then_some(q)
    }

    /// The index of `rev` in graph order. A revision this graph handed out is recognised by its
    /// address (O(1), which keeps per-revision listings linear); any other is looked up by id.
    pub(crate) fn position(&self, rev: &Revision) -> Option<u32> {
        let offset =
            (rev as *const Revision as usize).wrapping_sub(self.revisions.as_ptr() as usize);
        let i = offset / std::mem::size_of::<Revision>();
        match self.revisions.get(i) {
            Some(own) if std::ptr::eq(own, rev) => Some(i as u32),
            _ => self.index_of(&rev.id),
        }
    }

    /// The labels of revision `i`, sorted by label (see [`Graph::labels_of`]).
    fn labels_at(&self, i: u32) -> Vec<&str> {
        let sets = self.label_sets.get_or_init(|| LabelSets::compute(self));
        let i = i as usize;
        let (own_line, from_above) = (
            &sets.sets[sets.own_line[i] as usize],
            &sets.sets[sets.from_above[i] as usize],
        );
        // The two sets never share a label (its owner cannot be both an ancestor and a
        // descendant), so putting them in label order is all there is to do.
        let mut merged: Vec<u32> = own_line.iter().chain(from_above.iter()).copied().collect();
        merged.sort_unstable();
        merged
            .into_iter()
            .map(|l| self.labels[l as usize].0.as_str())
            .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition `labels_of` had before the labels were computed once for the whole graph:
    /// one ancestor mask and one walk down every owner's line per question. Kept as the reference.
    fn reference_labels<'g>(g: &'g Graph, id: &str) -> Vec<&'g str> {
        let Some(i) = g.index_of(id) else {
            return Vec::new();
        };
        let above = g.mask(&[i], Edges::Parents, true);
        g.labels
            .iter()
            .filter(|(_, owner)| above[*owner as usize] || reference_tail(g, *owner).contains(&i))
            .map(|(l, _)| l.as_str())
            .collect()
    }

    fn reference_tail(g: &Graph, owner: u32) -> Vec<u32> {
        let mut tail = Vec::new();
        let mut p = owner as usize;
        while g.parents[p].len() == 1 {
            let q = g.parents[p][0] as usize;
            if g.children[q].len() > 1 || g.parents[q].len() > 1 {
                break;
            }
            tail.push(q as u32);
            p = q;
        }
        tail
    }

    /// A small deterministic generator (no dependency needed for a fixed set of shapes).
    struct Lcg(u64);

    impl Lcg {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((self.0 >> 33) % n as u64) as usize
        }
    }

    /// A graph of `n` revisions with long single-parent lines (most revisions follow the one
    /// before), branch points, merges, several bases, `depends_on` and labels on about one
    /// revision in six.
    fn random_graph(seed: u64, n: usize) -> Graph {
        let mut rng = Lcg(seed);
        let mut revs: Vec<Revision> = Vec::with_capacity(n);
        for i in 0..n {
            let mut parents: Vec<String> = Vec::new();
            if i > 0 && rng.below(12) != 0 {
                let first = if rng.below(3) == 0 {
                    rng.below(i)
                } else {
                    i - 1
                };
                parents.push(format!("r{first}"));
                if i > 2 && rng.below(6) == 0 {
                    let second = rng.below(i);
                    if second != first {
                        parents.push(format!("r{second}"));
                    }
                }
            }
            let parent_refs: Vec<&str> = parents.iter().map(String::as_str).collect();
            let mut r = Revision::new(format!("r{i}"), &parent_refs);
            if i > 1 && rng.below(8) == 0 {
                r.depends_on = vec![format!("r{}", rng.below(i))];
            }
            if rng.below(6) == 0 {
                r.branch_labels = (0..=rng.below(2)).map(|k| format!("l{i}_{k}")).collect();
            }
            revs.push(r);
        }
        Graph::build(revs).expect("generated graphs are valid")
    }

    #[test]
    fn labels_match_the_reference_definition() {
        for seed in 0..300 {
            let g = random_graph(seed, 1 + (seed as usize % 60));
            for r in g.in_order() {
                assert_eq!(
                    g.labels_of(&r.id),
                    reference_labels(&g, &r.id),
                    "seed {seed}, revision {}",
                    r.id
                );
            }
        }
    }

    #[test]
    fn labels_match_the_reference_on_the_synthetic_graph() {
        let mut revs = crate::synthetic(400);
        for (k, r) in revs.iter_mut().enumerate().filter(|(k, _)| k % 37 == 5) {
            r.branch_labels = vec![format!("lab{k}")];
        }
        let g = Graph::build(revs).expect("valid");
        for r in g.in_order() {
            assert_eq!(g.labels_of(&r.id), reference_labels(&g, &r.id), "{}", r.id);
        }
    }

    #[test]
    fn markers_agree_with_the_questions_by_id() {
        let g = random_graph(7, 80);
        let copy = g.clone();
        for r in g.in_order() {
            let expected = Markers {
                labels: g.labels_of(&r.id),
                is_head: g.is_head(&r.id),
                is_branch_point: g.is_branch_point(&r.id),
                is_merge_point: g.is_merge_point(&r.id),
            };
            assert_eq!(g.markers(r), expected, "{}", r.id);
            // A revision from another graph is found by its id.
            let other = copy.get(&r.id).expect("same ids");
            assert_eq!(g.markers(other), expected, "{}", r.id);
        }
        assert_eq!(g.markers(&Revision::new("nope", &[])), Markers::default());
    }
}
