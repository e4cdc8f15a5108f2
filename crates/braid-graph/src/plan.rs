use crate::{Applied, Graph, PlanError, Revision};

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

impl Graph {
    /// Plans an upgrade from `applied` to `target`: every revision the target needs (its
    /// ancestors and dependencies, and itself) that is not applied, in upgrade order.
    /// Targets below what is applied are a no-op, as in Alembic.
    pub fn plan_upgrade(&self, applied: &Applied, target: &str) -> Result<Plan<'_>, PlanError> {
        todo!("{} {target}", applied.len())
    }

    /// Plans a downgrade from `applied` to `target`: every applied revision above the target
    /// (descendants through children and dependents; for `label@rev`, only that branch), in
    /// reverse upgrade order.
    pub fn plan_downgrade(&self, applied: &Applied, target: &str) -> Result<Plan<'_>, PlanError> {
        todo!("{} {target}", applied.len())
    }

    /// The applied set after `stamp targets…`: each target and its ancestors become applied and
    /// its applied descendants are removed; `base` clears everything. No migration runs.
    pub fn stamp(
        &self,
        applied: &Applied,
        targets: &[&str],
        purge: bool,
    ) -> Result<Applied, PlanError> {
        todo!("{} {targets:?} {purge}", applied.len())
    }
}
