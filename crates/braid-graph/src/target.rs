//! The target grammar: `head`, `heads`, `base`, ids and prefixes, labels, `label@head`,
//! `label@heads`, `label@base`, `label@rev`, `rev@head`, `+N`, `-N`, `rev+N`, `rev-N`,
//! `label@+N`, `label@-N`, and `start:end` ranges.
//!
//! Resolution rules worth knowing:
//! * `branch@…` accepts a label or any revision reference; a revision stands for "its branch".
//!   `branch@rev` requires `rev` to be an ancestor or descendant of the branch's revision, and a
//!   prefix after `branch@` only has to be unique on that line.
//! * Bare `+N` / `-N` walk from the single applied head (`+N` from nothing starts before the
//!   base); `branch@+N` / `branch@-N` only look at applied revisions on the branch's line and
//!   only walk along it. A walk needs a unique next revision at every step, except the one
//!   step of `downgrade -1` from a merge revision, which goes to all of its parents.
//! * `rev+N`, `rev-N`, `head-N`, `base+N` are absolute: they ignore what is applied.

use crate::graph::Edges;
use crate::{Applied, Direction, Graph, PlanError, Revision};

/// A parsed target, before it is resolved against a graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The part before `@`: a branch label or a revision reference naming a branch.
    pub branch: Option<String>,
    /// `head`, `heads`, `base`, an id, a prefix or a label. `None` for a bare relative target.
    pub symbol: Option<String>,
    /// `+N` or `-N`.
    pub relative: Option<i64>,
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl Target {
    /// Parses a target expression. Never panics, whatever the input.
    ///
    /// Grammar: `[branch@][symbol][(+|-)N]`, with at least a symbol or a relative part. Words are
    /// ASCII letters, digits and `_`, the same alphabet as ids, so anything else is reported here
    /// rather than as an unknown revision.
    pub fn parse(input: &str) -> Result<Target, PlanError> {
        let invalid = |reason: &str| PlanError::InvalidTarget {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(invalid(
                "it is empty; give a revision, a label, 'head', 'heads' or 'base'",
            ));
        }
        if input.contains(':') {
            return Err(invalid(
                "ranges 'start:end' are only accepted by history; give a single target",
            ));
        }
        let (branch, rest) = match input.split_once('@') {
            Some((b, r)) => {
                if !is_word(b) {
                    return Err(invalid(
                        "the part before '@' must be a branch label or revision id (letters, digits, '_')",
                    ));
                }
                (Some(b.to_string()), r)
            }
            None => (None, input),
        };
        if rest.contains('@') {
            return Err(invalid(
                "only one '@' is allowed, as in '<label>@<revision>'",
            ));
        }
        let (symbol, relative) = match rest.find(['+', '-']) {
            Some(pos) => {
                let (sym, rel) = rest.split_at(pos);
                let digits = &rel[1..];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(invalid(
                        "a relative step must be '+N' or '-N' with N a whole number, as in 'head-1' or '+2'",
                    ));
                }
                let n: i64 = digits
                    .parse()
                    .map_err(|_| invalid("the relative step is too large"))?;
                let n = if rel.starts_with('-') { -n } else { n };
                (sym, Some(n))
            }
            None => (rest, None),
        };
        let symbol = if symbol.is_empty() {
            if relative.is_none() {
                return Err(invalid(
                    "nothing after '@'; use '<label>@head', '<label>@base', '<label>@<revision>' or '<label>@+N'",
                ));
            }
            None
        } else if is_word(symbol) {
            Some(symbol.to_string())
        } else {
            return Err(invalid(
                "a revision reference uses only letters, digits and '_'",
            ));
        };
        Ok(Target {
            branch,
            symbol,
            relative,
        })
    }
}

/// What the caller will do with a target; decides which bare relative steps make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Upgrade,
    Downgrade,
    History,
}

/// A target resolved against a graph and an applied set.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// The revisions meant; empty means `base`.
    pub revs: Vec<u32>,
    /// The revision the `branch@` part named (a label's owner), if any.
    pub anchor: Option<u32>,
    /// For `downgrade -1` from an applied merge revision: that merge (`revs` are its parents).
    pub merge: Option<u32>,
}

impl Graph {
    /// One way to name each of several applied heads' branches for a relative step: a label
    /// that applies to that head and to none of the others, else the head itself (`rev@-1`
    /// walks the branch containing `rev`). Never `rev-1`: as an absolute target it could sit
    /// below a branch point and take the other branches down with it.
    fn branch_suggestions(&self, heads: &[u32], n: i64) -> Vec<String> {
        heads
            .iter()
            .map(|&h| {
                let id = &self.revisions[h as usize].id;
                let own = self.labels_of(id).into_iter().find(|label| {
                    heads.iter().filter(|&&o| o != h).all(|&o| {
                        !self
                            .labels_of(&self.revisions[o as usize].id)
                            .contains(label)
                    })
                });
                format!("{}@{n:+}", own.unwrap_or(id))
            })
            .collect()
    }

    /// Resolves a target as `upgrade` and `stamp` read it: the revisions it stands for, in
    /// graph order (empty for `base`). Relative targets are relative to `applied`.
    pub fn resolve(&self, applied: &Applied, target: &str) -> Result<Vec<&Revision>, PlanError> {
        let t = Target::parse(target)?;
        let r = self.resolve_parsed(&self.applied_mask(applied), &t, target, Mode::Upgrade)?;
        Ok(self.revs(&r.revs))
    }

    pub(crate) fn resolve_parsed(
        &self,
        applied: &[bool],
        t: &Target,
        input: &str,
        mode: Mode,
    ) -> Result<Resolved, PlanError> {
        let anchor = match &t.branch {
            Some(b) => Some(self.lookup_index(b)?),
            None => None,
        };
        // The walk and head search stay on the anchor's line: `c2branch@+1` from `b` must go
        // to `c2`, not stop at the fork.
        let line = anchor.map(|a| self.lineage_mask(a, false));
        let line = line.as_deref();

        let start: Vec<u32> = match &t.symbol {
            Some(sym) => self.resolve_symbol(sym, anchor, input, t.relative.is_some())?,
            None => {
                let Some(n) = t.relative else {
                    return Err(PlanError::InvalidTarget {
                        input: input.to_string(),
                        reason: "no revision given".into(),
                    });
                };
                bare_step_fits(mode, n, input)?;
                let heads = self.applied_head_indices(applied, line);
                if heads.len() > 1 {
                    return Err(PlanError::AmbiguousRelative {
                        target: input.to_string(),
                        heads: self.ids(&heads),
                        suggestions: self.branch_suggestions(&heads, n),
                    });
                }
                heads
            }
        };

        let mut merge = None;
        let revs = match t.relative {
            None => start,
            Some(n) => {
                if start.len() > 1 {
                    return Err(PlanError::MultipleHeads {
                        target: input.to_string(),
                        heads: self.ids(&start),
                    });
                }
                match self.below_merge(mode, t, &start, line) {
                    Some(parents) => {
                        merge = start.first().copied();
                        parents
                    }
                    None => self
                        .walk(start.first().copied(), n, line, input)?
                        .into_iter()
                        .collect(),
                }
            }
        };
        Ok(Resolved {
            revs,
            anchor,
            merge,
        })
    }

    /// `downgrade -1` (or `label@-1`) from an applied head that is a merge revision: its
    /// parents, so that the step undoes the merge revision alone. One step down is
    /// unambiguous there, whatever the number of parents; Alembic refuses it ("Ambiguous
    /// walk"). Further steps (`-2`) still have to choose a side, and still fail.
    fn below_merge(
        &self,
        mode: Mode,
        t: &Target,
        start: &[u32],
        line: Option<&[bool]>,
    ) -> Option<Vec<u32>> {
        let relative_to_current = t.symbol.is_none() && t.relative == Some(-1);
        let &[head] = start else { return None };
        if mode != Mode::Downgrade || !relative_to_current {
            return None;
        }
        let parents: Vec<u32> = self.parents[head as usize]
            .iter()
            .copied()
            .filter(|&p| line.is_none_or(|l| l[p as usize]))
            .collect();
        (parents.len() > 1).then_some(parents)
    }

    /// The one revision `target` names without a database, as `show` takes it: an id, a
    /// label, `label@head`, `rev@head`, `head-1`, …; `base`, a step relative to what is applied
    /// (`+1`) and a target naming several revisions (`heads`) are errors that say so.
    pub fn named_one(&self, target: &str) -> Result<&Revision, PlanError> {
        let t = Target::parse(target)?;
        let invalid = |reason: &str| PlanError::InvalidTarget {
            input: target.to_string(),
            reason: reason.to_string(),
        };
        if t.symbol.is_none() {
            return Err(invalid(
                "a step relative to what a database has applied names no revision here; name one (e.g. 'head-1')",
            ));
        }
        let nothing = vec![false; self.len()];
        let r = self.resolve_parsed(&nothing, &t, target, Mode::History)?;
        match r.revs.as_slice() {
            [one] => Ok(self.rev(*one)),
            [] => Err(invalid("it names no revision (the base); name one")),
            many => Err(PlanError::MultipleHeads {
                target: target.to_string(),
                heads: self.ids(many),
            }),
        }
    }

    /// Checks what of `target` does not depend on what a database has applied: its grammar,
    /// the revisions and labels it names, a `head` that must be single, an absolute walk
    /// (`rev+2`). A front end calls it once per migration set before it contacts any
    /// database, so a bad target is reported once, not once per database. A step relative to
    /// what is applied (`+1`, `label@-1`) is checked when each database's plan is made.
    pub fn check_target(&self, target: &str, direction: Direction) -> Result<(), PlanError> {
        let t = Target::parse(target)?;
        let mode = match direction {
            Direction::Up => Mode::Upgrade,
            Direction::Down => Mode::Downgrade,
        };
        if t.symbol.is_none() {
            if let Some(branch) = &t.branch {
                self.lookup_index(branch)?;
            }
            if let Some(n) = t.relative {
                bare_step_fits(mode, n, target)?;
            }
            return Ok(());
        }
        let nothing = vec![false; self.len()];
        self.resolve_parsed(&nothing, &t, target, mode).map(|_| ())
    }

    /// Resolves the symbol part. `single` asks for one revision (a relative walk follows).
    fn resolve_symbol(
        &self,
        sym: &str,
        anchor: Option<u32>,
        input: &str,
        single: bool,
    ) -> Result<Vec<u32>, PlanError> {
        let in_branch = |heads: Vec<u32>| -> Vec<u32> {
            match anchor {
                Some(a) => {
                    let below = self.mask(&[a], Edges::Children, true);
                    heads.into_iter().filter(|&h| below[h as usize]).collect()
                }
                None => heads,
            }
        };
        match sym {
            "base" => Ok(Vec::new()),
            "head" => {
                let heads = in_branch(self.head_indices());
                if heads.len() > 1 {
                    return Err(PlanError::MultipleHeads {
                        target: input.to_string(),
                        heads: self.ids(&heads),
                    });
                }
                Ok(heads)
            }
            "heads" => {
                let heads = match anchor {
                    Some(_) => in_branch(self.head_indices()),
                    None => self.real_head_indices(),
                };
                if single && heads.len() > 1 {
                    return Err(PlanError::MultipleHeads {
                        target: input.to_string(),
                        heads: self.ids(&heads),
                    });
                }
                Ok(heads)
            }
            "current" => Err(PlanError::InvalidTarget {
                input: input.to_string(),
                reason: "'current' is only meaningful in a history range".into(),
            }),
            _ => {
                let lineage = anchor.map(|a| self.lineage_mask(a, true));
                let r = match self.lookup_index(sym) {
                    Err(PlanError::Ambiguous { .. }) if lineage.is_some() => {
                        self.lookup_within(sym, lineage.as_deref())?
                    }
                    other => other?,
                };
                if let (Some(a), Some(lineage)) = (anchor, &lineage)
                    && !lineage[r as usize]
                {
                    return Err(PlanError::NotMember {
                        revision: sym.to_string(),
                        branch: self.label_or_id(a, input),
                    });
                }
                Ok(vec![r])
            }
        }
    }

    /// The branch name as the user wrote it, for messages.
    fn label_or_id(&self, anchor: u32, input: &str) -> String {
        input
            .split_once('@')
            .map(|(b, _)| b.to_string())
            .unwrap_or_else(|| self.rev(anchor).id.clone())
    }

    /// Walks `n` steps from `start` (`None` = before the bases): up through unique children,
    /// down through unique parents, staying inside `line` when given. Returns `None` for base.
    pub(crate) fn walk(
        &self,
        start: Option<u32>,
        n: i64,
        line: Option<&[bool]>,
        input: &str,
    ) -> Result<Option<u32>, PlanError> {
        let on_line = |i: &u32| line.is_none_or(|l| l[*i as usize]);
        let steps = n.unsigned_abs();
        let too_far = |k: u64| PlanError::RelativeTooFar {
            target: input.to_string(),
            requested: steps,
            produced: k,
        };
        let mut cur = start;
        for k in 0..steps {
            let candidates: Vec<u32> = if n > 0 {
                match cur {
                    None => self.base_indices().into_iter().filter(on_line).collect(),
                    Some(c) => self.children[c as usize]
                        .iter()
                        .copied()
                        .filter(on_line)
                        .collect(),
                }
            } else {
                match cur {
                    None => return Err(too_far(k)),
                    Some(c) => self.parents[c as usize]
                        .iter()
                        .copied()
                        .filter(on_line)
                        .collect(),
                }
            };
            match candidates.len() {
                0 if n > 0 => return Err(too_far(k)),
                0 => cur = None,
                1 => cur = Some(candidates[0]),
                _ => {
                    return Err(PlanError::AmbiguousWalk {
                        target: input.to_string(),
                        from: cur.map_or_else(|| "base".to_string(), |c| self.rev(c).id.clone()),
                        candidates: self.ids(&candidates),
                    });
                }
            }
        }
        Ok(cur)
    }
}

/// A step relative to what is applied must go the command's way: `-1` is no upgrade target,
/// `+1` no downgrade target.
fn bare_step_fits(mode: Mode, n: i64, input: &str) -> Result<(), PlanError> {
    let reason = match (mode, n < 0) {
        (Mode::Upgrade, true) => {
            "a bare negative step cannot be an upgrade target; use downgrade, or '<revision>-N' for an absolute target"
        }
        (Mode::Downgrade, false) => {
            "a bare positive step cannot be a downgrade target; use upgrade, or '<revision>+N' for an absolute target"
        }
        _ => return Ok(()),
    };
    Err(PlanError::InvalidTarget {
        input: input.to_string(),
        reason: reason.into(),
    })
}
