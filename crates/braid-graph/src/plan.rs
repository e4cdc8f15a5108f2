use crate::graph::Edges;
use crate::target::{Mode, Resolved};
use crate::{Applied, Graph, Phase, PlanError, Revision, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Up,
    Down,
}

/// One migration to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<'g> {
    pub revision: &'g Revision,
    pub direction: Direction,
}

/// An ordered list of steps. Applying them in order to the applied set the plan was made from
/// gives [`Plan::applied_after`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan<'g> {
    pub steps: Vec<Step<'g>>,
}

impl<'g> Plan<'g> {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// The applied set once every step has run.
    pub fn applied_after(&self, before: &Applied) -> Applied {
        let mut after = before.clone();
        for step in &self.steps {
            match step.direction {
                Direction::Up => after.insert(step.revision.id.clone()),
                Direction::Down => after.remove(&step.revision.id),
            };
        }
        after
    }
}

/// A revision an upgrade limited to one phase leaves for later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    pub revision: String,
    pub phase: Phase,
    /// For a revision of the phase being run: the held-back revision it needs (a parent or a
    /// dependency), which must be applied first. `None` for a revision of the other phase.
    pub waits_for: Option<String>,
}

impl Graph {
    /// The part of an upgrade `plan` that belongs to `phase`, and what it leaves for later.
    ///
    /// A step stays when its revision is of `phase` and nothing it requires (parents and
    /// dependencies) was held back; everything else is held back, in plan order. So
    /// `upgrade --phase expand` never runs a revision above a pending contract revision, and
    /// `upgrade --phase contract` never runs a contract revision in the same run as the expand
    /// revisions below it: those are the deploy's first step, and the release's code is
    /// deployed between the two. `phase_of` says each revision's phase (declared or inferred;
    /// the graph cannot read statements). Downgrade steps are kept as they are.
    pub fn phase_part<'g>(
        &'g self,
        plan: Plan<'g>,
        phase: Phase,
        mut phase_of: impl FnMut(&Revision) -> Phase,
    ) -> (Plan<'g>, Vec<HeldBack>) {
        let mut held: Vec<bool> = vec![false; self.len()];
        let mut kept = Vec::with_capacity(plan.steps.len());
        let mut left = Vec::new();
        for step in plan.steps {
            if step.direction == Direction::Down {
                kept.push(step);
                continue;
            }
            let Some(i) = self.position(step.revision) else {
                kept.push(step);
                continue;
            };
            let own = phase_of(step.revision);
            let waits_for = self
                .edges(i, Edges::Requires)
                .find(|&r| held[r as usize])
                .map(|r| self.rev(r).id.clone());
            if own == phase && waits_for.is_none() {
                kept.push(step);
                continue;
            }
            held[i as usize] = true;
            left.push(HeldBack {
                revision: step.revision.id.clone(),
                phase: own,
                waits_for: waits_for.filter(|_| own == phase),
            });
        }
        (Plan { steps: kept }, left)
    }

    /// Plans an upgrade from `applied` to `target`: every revision the target needs (its
    /// ancestors and dependencies, and itself) that is not applied, in upgrade order.
    /// Targets below what is applied are a no-op, as in Alembic.
    pub fn plan_upgrade(&self, applied: &Applied, target: &str) -> Result<Plan<'_>, PlanError> {
        let mask = self.applied_mask(applied);
        let t = Target::parse(target)?;
        let r = self.resolve_parsed(&mask, &t, target, Mode::Upgrade)?;
        let needed = self.mask(&r.revs, Edges::Requires, true);
        Ok(self.plan_of(&needed, &mask, Direction::Up))
    }

    /// Plans a downgrade from `applied` to `target`: every applied revision above the target
    /// (descendants through children and dependents; for `label@rev`, only that branch), in
    /// reverse upgrade order.
    pub fn plan_downgrade(&self, applied: &Applied, target: &str) -> Result<Plan<'_>, PlanError> {
        let mask = self.applied_mask(applied);
        let t = Target::parse(target)?;
        let r = self.resolve_parsed(&mask, &t, target, Mode::Downgrade)?;
        let drop = self.drop_mask(&mask, &r, target)?;
        Ok(self.plan_of(&drop, &mask, Direction::Down))
    }

    /// The applied set after `stamp targets…`, as Alembic's stamp leaves it: each applied head
    /// that is an ancestor or a descendant of a target moves to that target, so the database
    /// then holds the target with its ancestors, plus every unrelated head with what it had
    /// applied below it. `base` clears everything. No migration runs.
    ///
    /// Stamping a revision below an applied merge therefore drops the merge's other side too
    /// (the merge head moves down to the target, and the other side was applied only as the
    /// merge's ancestor), where `downgrade` to the same revision keeps it: a downgrade undoes
    /// what stands on its target, a stamp says where the database is.
    ///
    /// Targets apply one after the other, so `stamp a d2` marks both lines. `label@base` clears
    /// only what that label applies to (and what depends on it).
    pub fn stamp(
        &self,
        applied: &Applied,
        targets: &[&str],
        purge: bool,
    ) -> Result<Applied, PlanError> {
        let mut mask = if purge {
            vec![false; self.len()]
        } else {
            self.applied_mask(applied)
        };
        for target in targets {
            let t = Target::parse(target)?;
            let r = self.resolve_parsed(&mask, &t, target, Mode::Upgrade)?;
            if r.revs.is_empty() {
                let drop = match r.anchor {
                    None => vec![true; self.len()],
                    Some(a) => self.branch_drop(a),
                };
                for (m, d) in mask.iter_mut().zip(drop) {
                    *m &= !d;
                }
                continue;
            }
            // All revisions of one target at once (`heads` can name thousands): one pass each way.
            let above = self.mask(&r.revs, Edges::RequiredBy, false);
            let unrelated: Vec<u32> = self
                .applied_head_indices(&mask, None)
                .into_iter()
                .filter(|&h| !above[h as usize])
                .collect();
            let kept = self.mask(&unrelated, Edges::Requires, true);
            let needed = self.mask(&r.revs, Edges::Requires, true);
            for ((m, k), n) in mask.iter_mut().zip(kept).zip(needed) {
                *m = (*m && k) || n;
            }
        }
        // Ids the graph does not know are the runner's business: leave them as they were.
        let mut out: Applied = if purge {
            Applied::new()
        } else {
            applied
                .iter()
                .filter(|id| self.index_of(id).is_none())
                .cloned()
                .collect()
        };
        out.extend(
            mask.iter()
                .enumerate()
                .filter(|(_, m)| **m)
                .map(|(i, _)| self.revisions[i].id.clone()),
        );
        Ok(out)
    }

    /// The subgraph a database that receives only some branches sees: every revision carrying
    /// one of `labels`, plus everything those need (ancestors and dependencies).
    ///
    /// Graph order restricted to a set closed under ancestors is the subgraph's own graph order,
    /// so plans on the subgraph list revisions exactly as they appear in the full graph.
    pub fn restricted_to(&self, labels: &[&str]) -> Result<Graph, PlanError> {
        let mut keep: Vec<u32> = Vec::new();
        for l in labels {
            let Some(owner) = self.label_index(l) else {
                return Err(PlanError::Unknown {
                    reference: l.to_string(),
                    suggestions: crate::graph::suggest(l, self.labels().into_iter()),
                });
            };
            keep.extend(crate::graph::mask_to_indices(&self.members_mask(owner)));
        }
        let kept = self.mask(&keep, Edges::Requires, true);
        let subset: Vec<Revision> = self
            .revisions
            .iter()
            .zip(&kept)
            .filter(|(_, k)| **k)
            .map(|(r, _)| r.clone())
            .collect();
        Graph::build(subset).map_err(|e| PlanError::InvalidTarget {
            input: labels.join(","),
            reason: format!("the restricted graph is not valid: {e}"),
        })
    }

    /// Steps for every revision in `set` whose applied state changes, in the direction's order.
    fn plan_of(&self, set: &[bool], applied: &[bool], direction: Direction) -> Plan<'_> {
        let pick = |i: &usize| set[*i] && (applied[*i] == (direction == Direction::Down));
        let step = |i: usize| Step {
            revision: &self.revisions[i],
            direction,
        };
        let steps = match direction {
            Direction::Up => (0..self.len()).filter(pick).map(step).collect(),
            Direction::Down => (0..self.len()).rev().filter(pick).map(step).collect(),
        };
        Plan { steps }
    }

    /// What `label@base` removes: the branch's members and everything that needs them.
    fn branch_drop(&self, anchor: u32) -> Vec<bool> {
        let members = crate::graph::mask_to_indices(&self.members_mask(anchor));
        self.mask(&members, Edges::RequiredBy, true)
    }

    /// The revisions (applied or not; the caller intersects) a downgrade to `r` removes.
    fn drop_mask(
        &self,
        applied: &[bool],
        r: &Resolved,
        input: &str,
    ) -> Result<Vec<bool>, PlanError> {
        let target = match r.revs.as_slice() {
            [] => {
                return Ok(match r.anchor {
                    None => vec![true; self.len()],
                    Some(a) => self.branch_drop(a),
                });
            }
            [t] => *t,
            // `-1` from an applied merge resolves to the merge's parents: undo the merge.
            _ if r.merge.is_some() => {
                let merge = r.merge.into_iter().collect::<Vec<u32>>();
                return Ok(self.mask(&merge, Edges::RequiredBy, true));
            }
            many => {
                return Err(PlanError::MultipleHeads {
                    target: input.to_string(),
                    heads: self.ids(many),
                });
            }
        };
        let t = target as usize;
        let applied_idx = crate::graph::mask_to_indices(applied);
        if !applied[t] && !self.mask(&applied_idx, Edges::Requires, false)[t] {
            return Err(PlanError::NotDowngradeTarget {
                target: input.to_string(),
                heads: self.ids(&self.applied_head_indices(applied, None)),
            });
        }
        let mut roots: Vec<u32> = self.children[t].clone();
        if let (Some(a), true) = (r.anchor, roots.len() > 1) {
            // Single-branch downgrade: only the children of the target that lead up to the
            // revision naming the branch (the label's own revision, or `rev` in `rev@target`),
            // as Alembic's `_collect_downgrade_revisions` does. Using every member of the label
            // instead would reach the other side of a later merge, which carries the label too.
            let below = self.mask(&[a], Edges::Parents, true);
            roots.retain(|c| below[*c as usize]);
        }
        Ok(self.mask(&roots, Edges::RequiredBy, true))
    }
}
