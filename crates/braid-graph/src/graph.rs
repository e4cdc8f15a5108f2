use crate::{Applied, GraphError, PlanError, Revision};

/// An immutable, validated version graph.
///
/// **Order.** Wherever the graph lists revisions (plans, `history`, `heads`), independent
/// revisions are ordered by `created` (revisions without a time sort first), then by id. An
/// upgrade is a topological sort that, among the revisions whose parents and dependencies are all
/// done, always takes the smallest `(created, id)`; a full downgrade is the exact reverse. The
/// same graph therefore gives the same plan on every machine, whatever the file names or the
/// file-system order.
#[derive(Debug, Clone)]
pub struct Graph {
    // Implementation detail: revisions indexed by position, adjacency as index lists.
    pub(crate) revisions: Vec<Revision>,
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

impl Graph {
    /// Builds and validates a graph: duplicate ids, ids with characters that are not allowed, a
    /// missing parent or dependency, a self-loop, a cycle (naming its revisions), a duplicate
    /// label or a label equal to an id. Every error names the revision's file.
    pub fn build(revisions: Vec<Revision>) -> Result<Graph, GraphError> {
        todo!("{}", revisions.len())
    }

    pub fn len(&self) -> usize {
        self.revisions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.revisions.is_empty()
    }

    /// The revision with exactly this id.
    pub fn get(&self, id: &str) -> Option<&Revision> {
        todo!("{id}")
    }

    /// Every revision in upgrade order (the deterministic topological order described above).
    pub fn in_order(&self) -> impl DoubleEndedIterator<Item = &Revision> + '_ {
        self.revisions.iter()
    }

    /// Revisions with no child through parents, effective heads included and marked, in graph order.
    pub fn heads(&self) -> Vec<Head<'_>> {
        todo!()
    }

    /// Revisions with no child through parents nor dependents: what `heads` resolves to.
    pub fn real_heads(&self) -> Vec<&Revision> {
        todo!()
    }

    /// Revisions with no parent, in graph order.
    pub fn bases(&self) -> Vec<&Revision> {
        todo!()
    }

    pub fn branch_points(&self) -> Vec<BranchPoint<'_>> {
        todo!()
    }

    /// Revisions with more than one parent, in graph order.
    pub fn merge_points(&self) -> Vec<&Revision> {
        todo!()
    }

    pub fn is_head(&self, id: &str) -> bool {
        todo!("{id}")
    }

    pub fn is_branch_point(&self, id: &str) -> bool {
        todo!("{id}")
    }

    pub fn is_merge_point(&self, id: &str) -> bool {
        todo!("{id}")
    }

    /// Direct children through parents (not dependents), in graph order.
    pub fn children(&self, id: &str) -> Vec<&Revision> {
        todo!("{id}")
    }

    /// Every ancestor through parents and `depends_on`, excluding `id`, in graph order.
    pub fn ancestors(&self, id: &str) -> Vec<&Revision> {
        todo!("{id}")
    }

    /// Every descendant through children and dependents, excluding `id`, in graph order.
    pub fn descendants(&self, id: &str) -> Vec<&Revision> {
        todo!("{id}")
    }

    /// The branch labels that apply to a revision: its own, those inherited from ancestors down
    /// its line, and those of descendants up to the nearest branch or merge point (Alembic's rule).
    pub fn labels_of(&self, id: &str) -> Vec<&str> {
        todo!("{id}")
    }

    /// The revisions a label applies to, in graph order. `None` if no such label.
    pub fn label_members(&self, label: &str) -> Option<Vec<&Revision>> {
        todo!("{label}")
    }

    /// The revision that declares `label`.
    pub fn label_owner(&self, label: &str) -> Option<&Revision> {
        todo!("{label}")
    }

    /// Resolves a revision reference: an exact id, a label, or a unique id prefix. An ambiguous
    /// prefix lists the candidates; an unknown one suggests close matches.
    pub fn lookup(&self, reference: &str) -> Result<&Revision, PlanError> {
        todo!("{reference}")
    }

    /// The heads of an applied set: applied revisions with no applied child through parents.
    /// A dependency that an applied revision needs shows up as a head of its own branch (as
    /// Alembic's `current` shows it).
    pub fn applied_heads(&self, applied: &Applied) -> Vec<&Revision> {
        todo!("{}", applied.len())
    }

    /// History for a range `[start]:[end]` (Alembic's `history -r`), newest first. An empty
    /// start means base, an empty end means heads; either side may be any target; `current`
    /// on either side refers to `applied`.
    pub fn history(
        &self,
        range: Option<&str>,
        applied: &Applied,
    ) -> Result<Vec<&Revision>, PlanError> {
        todo!("{range:?} {}", applied.len())
    }
}
