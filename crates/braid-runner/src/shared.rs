//! What the databases migrated along one migration set share within a run: each step's script
//! (read, checked and checksummed once) and the plan for each applied state (made once). A run
//! over a thousand tenants at the same revision then reads every file once and plans once,
//! instead of once per tenant.
//!
//! Keys say everything the cached value depends on besides the set itself: the dialect for a
//! script, the branches a database receives, the applied set, the direction and the goal for a
//! plan. Only successes are kept; an error is made again (with its database's name) by every
//! database that meets it.

use std::collections::HashMap;
use std::sync::Mutex;

use braid_driver::Dialect;
use braid_graph::{Applied, Direction};

use crate::executor::Prepared;

type ScriptKey = (String, Direction, Dialect);

/// A plan's identity: the database's branches, the applied set, the direction, and the goal
/// (`true` for one revision by reference, `false` for a target expression) with its text.
pub(crate) type PlanKey = (Vec<String>, Applied, Direction, bool, String);

/// Shared by every database of one migration set in a run: each step's script, read, checked
/// and checksummed once, and the plan for each applied state, made once (successes only).
#[derive(Debug, Default)]
pub struct Shared {
    scripts: Mutex<HashMap<ScriptKey, Prepared>>,
    plans: Mutex<HashMap<PlanKey, Vec<(String, Direction)>>>,
}

impl Shared {
    pub fn new() -> Self {
        Shared::default()
    }

    /// The prepared script of `revision` in `direction` for `dialect`, made by `make` the first
    /// time — once, even when several databases ask at the same moment (the lock is held while
    /// it is made: a file read).
    pub(crate) fn script<E>(
        &self,
        revision: &str,
        direction: Direction,
        dialect: Dialect,
        make: impl FnOnce() -> Result<Prepared, E>,
    ) -> Result<Prepared, E> {
        let Ok(mut scripts) = self.scripts.lock() else {
            return make();
        };
        let key = (revision.to_string(), direction, dialect);
        if let Some(found) = scripts.get(&key) {
            return Ok(found.clone());
        }
        let made = make()?;
        scripts.insert(key, made.clone());
        Ok(made)
    }

    /// The steps planned for `key`, when a database has planned them already.
    pub(crate) fn plan(&self, key: &PlanKey) -> Option<Vec<(String, Direction)>> {
        self.plans.lock().ok()?.get(key).cloned()
    }

    pub(crate) fn keep_plan(&self, key: PlanKey, steps: Vec<(String, Direction)>) {
        if let Ok(mut plans) = self.plans.lock() {
            plans.insert(key, steps);
        }
    }
}
