//! Order-independence of a merge: the branches a merge revision joins, applied one after the
//! other in each order on fresh scratch databases, and the schemas compared (see the [module
//! docs](crate::verify)). `check --merges` runs it on every merge revision; `verify` on each
//! merge revision of its range.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use braid_driver::{Dialect, Difference, Driver, Schema};
use braid_graph::{Applied, Graph, PlanError, Revision};
use braid_runner::{StepDirection, Walk, Worker};
use serde::Serialize;

use super::backends::{self, Backend};
use super::report::{
    BackendError, Cleanup, Failure, RevisionOutcome, RevisionReport, VerifyStep, optional_message,
};
use super::scratch::with_scratch;
use super::walk::Context;
use super::{VerifyError, differences, no_verify_events};
use crate::{Error, Project};

/// What `check --merges` checks.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct MergesRequest {
    /// Database names; empty for every configured database.
    pub databases: Vec<String>,
    /// The merge revisions to check (ids, unique prefixes or labels), each of which must
    /// resolve in every set checked; empty for every merge revision.
    pub revisions: Vec<String>,
    /// Another server to create the scratch databases on, as [`super::VerifyRequest::url`].
    pub url: Option<String>,
    /// How many backends at once; the config's `jobs` when `None`.
    pub jobs: Option<usize>,
}

/// `url` redacted: a request may be logged.
impl std::fmt::Debug for MergesRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MergesRequest")
            .field("databases", &self.databases)
            .field("revisions", &self.revisions)
            .field("url", &self.url.as_deref().map(braid_driver::redact_url))
            .field("jobs", &self.jobs)
            .finish()
    }
}

/// The outcome of `check --merges`.
#[derive(Debug, Serialize)]
pub struct MergesReport {
    /// One per backend, in the order of their first database in the config.
    pub backends: Vec<MergesBackendReport>,
    /// Wall time of the whole run, the backends running concurrently.
    pub ms: u64,
}

impl MergesReport {
    /// Whether every merge gives the same schema in every order on every backend, and every
    /// scratch database was dropped.
    pub fn passed(&self) -> bool {
        self.backends.iter().all(MergesBackendReport::passed)
    }

    /// Whether a merge gives different schemas in different orders on some backend (rather
    /// than only failing to be compared).
    pub fn order_dependent(&self) -> bool {
        self.backends
            .iter()
            .any(MergesBackendReport::order_dependent)
    }
}

/// One backend: each merge revision of its set, checked on scratch databases of its own.
#[derive(Debug, Serialize)]
pub struct MergesBackendReport {
    /// The databases it stands for, joined (`app` or `app, app_replica`).
    pub name: String,
    pub databases: Vec<String>,
    pub dialect: Dialect,
    /// The migration set.
    pub set: PathBuf,
    /// The server the scratch databases were made on, redacted.
    pub server: String,
    /// In graph order.
    pub merges: Vec<MergeReport>,
    /// What stopped the backend before its merges were checked (its worker did not start).
    #[serde(serialize_with = "optional_message")]
    pub error: Option<BackendError>,
    pub ms: u64,
}

impl MergesBackendReport {
    pub fn passed(&self) -> bool {
        self.error.is_none() && self.merges.iter().all(MergeReport::passed)
    }

    pub fn order_dependent(&self) -> bool {
        self.merges
            .iter()
            .any(|m| m.status == MergeStatus::OrderDependent)
    }

    fn of(backend: &Backend) -> Self {
        MergesBackendReport {
            name: backend.name.clone(),
            databases: backend.databases.clone(),
            dialect: backend.dialect,
            set: backend.dir.clone(),
            server: backend.shown.clone(),
            merges: Vec::new(),
            error: None,
            ms: 0,
        }
    }
}

/// One merge revision on one backend.
#[derive(Debug, Serialize)]
pub struct MergeReport {
    pub revision: String,
    /// As declared.
    pub parents: Vec<String>,
    /// How many revisions every parent needs: upgraded first, in every order.
    pub common: usize,
    /// The sides' revisions in the order production applies them, after the common part:
    /// the order that matters for the databases still to be upgraded.
    pub production: Vec<String>,
    /// Each distinct order applied; the first that applied is the one the others are
    /// compared with.
    pub orders: Vec<OrderReport>,
    pub status: MergeStatus,
    pub ms: u64,
}

/// How a merge fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeStatus {
    /// Every order gives the same schema.
    Same,
    /// Two orders give different schemas, or a revision fails in one order and applies in
    /// another.
    OrderDependent,
    /// The orders could not be compared: a scratch database could not be made (or dropped),
    /// the common part or a side fails in every order.
    Failed,
}

/// One order of a merge's sides, on its own scratch database (or, in `verify`, the production
/// order read from the walk's database: see [`OrderReport::scratch`]).
#[derive(Debug, Serialize)]
pub struct OrderReport {
    /// The runs, joined: `billing1_plans, billing2_subscriptions then audit1_log`.
    pub name: String,
    /// The sides' revisions in the order applied, in runs: a run is one side's revisions
    /// (in the production order, those of one side that follow each other).
    pub runs: Vec<Vec<String>>,
    /// This is the order production applies.
    pub production: bool,
    /// How its schema differs from the first order that applied: *missing* is only in that
    /// order's, *left behind* only in this one's. Empty when the same (or not applied).
    pub differences: Vec<Difference>,
    /// Why it could not be applied or read.
    #[serde(serialize_with = "optional_message")]
    pub error: Option<BackendError>,
    /// The scratch database's name (a file path for SQLite); `None` when none was created:
    /// for an order that did not need applying, and in `verify` for the production order,
    /// read from the database `verify` walked.
    pub scratch: Option<String>,
    pub cleanup: Cleanup,
    pub ms: u64,
}

impl MergeReport {
    /// The same schema in every order, and every scratch database dropped.
    pub fn passed(&self) -> bool {
        self.status == MergeStatus::Same
    }

    /// The order every other is compared with: the first that applied.
    pub fn reference(&self) -> Option<&OrderReport> {
        self.orders.iter().find(|o| o.error.is_none())
    }

    /// "Braid applies them in this order in production: …".
    pub fn production_sentence(&self) -> String {
        format!(
            "Braid applies them in this order in production: {}",
            self.production.join(", ")
        )
    }

    /// The outcome in a sentence: which orders differ (or fail), or why they could not be
    /// compared; then the production order.
    pub fn summary(&self) -> String {
        format!("{}; {}", self.verdict(), self.production_sentence())
    }

    /// The outcome in a phrase, without the production order: which orders differ (or fail),
    /// or why they could not be compared.
    pub fn verdict(&self) -> String {
        let reference = self.reference().map_or("", |o| o.name.as_str());
        let differing = self.orders.iter().find(|o| !o.differences.is_empty());
        let failing = self.orders.iter().find(|o| o.error.is_some());
        match (self.status, differing, failing) {
            (MergeStatus::Same, ..) if self.orders.len() < 2 => {
                "its branches can only be applied in one order".to_string()
            }
            (MergeStatus::Same, ..) => format!("the same schema in {} orders", self.orders.len()),
            (MergeStatus::OrderDependent, Some(other), _) => format!(
                "`{reference}` and `{}` give different schemas ({} difference(s))",
                other.name,
                other.differences.len()
            ),
            (_, _, Some(other)) => {
                let error = other.error.as_ref().map(ToString::to_string);
                match self.status {
                    MergeStatus::OrderDependent => format!(
                        "`{}` fails where `{reference}` applies: {}",
                        other.name,
                        error.unwrap_or_default()
                    ),
                    _ => format!(
                        "the orders could not be compared: `{}`: {}",
                        other.name,
                        error.unwrap_or_default()
                    ),
                }
            }
            _ => "the orders could not be compared: a scratch database could not be dropped"
                .to_string(),
        }
    }
}

impl Project {
    /// Checks that the branches each merge revision joins give the same schema in every order
    /// (see the [module docs](crate::verify)), on scratch databases of every backend of the
    /// selected databases, the backends running concurrently (at most
    /// [`MergesRequest::jobs`] at once) as [`Project::verify`] runs them.
    ///
    /// An `Err` means nothing was checked (no config, a set that does not load, a merge
    /// revision asked for that does not resolve or is not a merge); order-dependent merges
    /// and what could not be compared are in the report ([`MergesReport::passed`]).
    pub fn check_merges(&self, request: &MergesRequest) -> Result<MergesReport, Error> {
        let config = self.config()?;
        let selected = self.representatives(&request.databases)?;
        let graphs = self.graphs_of(&selected)?;
        let backends = backends::group(self, config, &selected, request.url.as_deref())?;
        let work = work(backends, &graphs, &request.revisions)?;
        let bodies = self.rust().bodies();
        let cx = Context {
            bodies: &bodies,
            lock_timeout: config.lock_timeout(),
            root: self.root(),
            events: &no_verify_events,
        };
        let started = Instant::now();
        let backends = run(work, &cx, request.jobs.unwrap_or(config.jobs));
        Ok(MergesReport {
            backends,
            ms: started.elapsed().as_millis() as u64,
        })
    }
}

/// One backend's work: the graph it applies and the merges to check.
struct Work<'g> {
    backend: Backend,
    graph: Cow<'g, Graph>,
    plans: Vec<MergePlan>,
}

/// Each backend's merges, planned before anything runs (a merge asked for that does not
/// resolve is an error then).
fn work<'g>(
    backends: Vec<Backend>,
    graphs: &'g BTreeMap<PathBuf, Graph>,
    wanted: &[String],
) -> Result<Vec<Work<'g>>, Error> {
    let mut work = Vec::with_capacity(backends.len());
    for backend in backends {
        // Every selected database's set was loaded.
        let Some(full) = graphs.get(&backend.dir) else {
            continue;
        };
        let graph = backend.graph(full)?;
        let plans = merges_of(&graph, wanted, &backend.dir)?
            .into_iter()
            .map(|merge| {
                plan(&graph, merge).map_err(|source| VerifyError::MergePlan {
                    set: backend.dir.clone(),
                    revision: merge.id.clone(),
                    source: Box::new(source),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        work.push(Work {
            backend,
            graph,
            plans,
        });
    }
    Ok(work)
}

/// The merge revisions of `graph` to check: those `wanted` names, or all of them.
fn merges_of<'g>(
    graph: &'g Graph,
    wanted: &[String],
    set: &Path,
) -> Result<Vec<&'g Revision>, Error> {
    if wanted.is_empty() {
        return Ok(graph.merge_points());
    }
    let mut merges: Vec<&Revision> = Vec::new();
    for reference in wanted {
        let merge = graph
            .lookup(reference)
            .map_err(|source| VerifyError::MergeLookup {
                set: set.to_path_buf(),
                revision: reference.clone(),
                source: Box::new(source),
            })?;
        if !merge.is_merge() {
            return Err(VerifyError::NotAMerge {
                set: set.to_path_buf(),
                revision: merge.id.clone(),
                parents: merge.parents.len(),
            }
            .into());
        }
        if !merges.iter().any(|m| m.id == merge.id) {
            merges.push(merge);
        }
    }
    Ok(merges)
}

/// Runs each backend's merges concurrently, at most `jobs` backends at once; a report per
/// backend, in order.
fn run(work: Vec<Work<'_>>, cx: &Context<'_>, jobs: usize) -> Vec<MergesBackendReport> {
    let mut reports: Vec<MergesBackendReport> = work
        .iter()
        .map(|w| MergesBackendReport::of(&w.backend))
        .collect();
    let results = braid_runner::on_workers(work, jobs, |w, worker| {
        let started = Instant::now();
        let merges: Vec<MergeReport> = w
            .plans
            .iter()
            .map(|plan| check(worker, cx, &w.backend, &w.graph, plan, None))
            .collect();
        (merges, started.elapsed().as_millis() as u64)
    });
    for (report, result) in reports.iter_mut().zip(results) {
        match result {
            Ok((merges, ms)) => {
                report.merges = merges;
                report.ms = ms;
            }
            // The worker's runtime did not start: nothing ran.
            Err(e) => report.error = Some(BackendError::Worker(e)),
        }
    }
    reports
}

/// `verify`'s part: each merge revision of `revisions` that passed its own checks is checked
/// here too, and fails when its orders differ or cannot be compared.
///
/// `walked` holds, for a merge revision the walk reached, the schema its database had just
/// before the merge ran, when the walk had applied exactly the production order
/// ([`MergePlan::walked_by`]): that order then needs no scratch database of its own, unless
/// the orders seem to differ ([`check`]).
pub(super) fn verify_merges(
    worker: &Worker,
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    revisions: &mut [RevisionReport],
    mut walked: BTreeMap<String, Schema>,
) {
    for report in revisions
        .iter_mut()
        .filter(|r| matches!(r.outcome, RevisionOutcome::Passed))
    {
        let Some(merge) = graph.get(&report.revision).filter(|r| r.is_merge()) else {
            continue;
        };
        match plan(graph, merge) {
            Ok(plan) => {
                let production = walked.remove(&merge.id);
                record(report, check(worker, cx, backend, graph, &plan, production))
            }
            Err(error) => {
                report.outcome = RevisionOutcome::Failed {
                    step: VerifyStep::MergeCheck,
                    failure: Failure::Merge {
                        summary: format!("its orders could not be planned: {error}"),
                    },
                }
            }
        }
    }
}

/// A merge's check in its revision's `verify` report: failed unless every order agrees.
fn record(report: &mut RevisionReport, merge: MergeReport) {
    let step = match merge.status {
        MergeStatus::Same => None,
        MergeStatus::OrderDependent => Some(VerifyStep::MergeOrder),
        MergeStatus::Failed => Some(VerifyStep::MergeCheck),
    };
    if let Some(step) = step {
        report.outcome = RevisionOutcome::Failed {
            step,
            failure: Failure::Merge {
                summary: merge.summary(),
            },
        };
    }
    report.ms += merge.ms;
    report.merge = Some(merge);
}

/// How one merge revision is checked: what every order applies first, and the orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MergePlan {
    revision: String,
    parents: Vec<String>,
    /// What every parent needs, in plan order.
    common: Vec<String>,
    /// What production applies after the common part, before the merge, in plan order.
    production: Vec<String>,
    /// The distinct orders, the parents' declared order first.
    orders: Vec<Order>,
}

/// One order of the revisions after the common part, in runs (a side's revisions, or in the
/// production order those of one side that follow each other).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Order {
    runs: Vec<Vec<String>>,
    /// Production applies exactly this order.
    production: bool,
}

impl MergePlan {
    /// Whether `applied`, the revisions a database has had applied in this order, is exactly
    /// what this merge's production order applies, with another order to compare it with: the
    /// common part first, in any order (every order shares it), then the sides' revisions as
    /// production applies them.
    pub(super) fn walked_by(&self, applied: &[&str]) -> bool {
        if self.orders.len() < 2 || applied.len() != self.common.len() + self.production.len() {
            return false;
        }
        let common: BTreeSet<&str> = self.common.iter().map(String::as_str).collect();
        let (first, rest) = applied.split_at(self.common.len());
        first.iter().all(|id| common.contains(id))
            && rest
                .iter()
                .copied()
                .eq(self.production.iter().map(String::as_str))
    }
}

impl Order {
    fn revisions(&self) -> impl Iterator<Item = &String> {
        self.runs.iter().flatten()
    }

    /// `a, b then c, d`.
    fn name(&self) -> String {
        let runs: Vec<String> = self.runs.iter().map(|run| run.join(", ")).collect();
        runs.join(" then ")
    }
}

/// The orders of `merge` in `graph`: its sides one after the other in the parents' declared
/// order and in reverse, and the production order, each once.
pub(super) fn plan(graph: &Graph, merge: &Revision) -> Result<MergePlan, PlanError> {
    let lines: Vec<BTreeSet<&str>> = merge.parents.iter().map(|p| line_of(graph, p)).collect();
    let common = common_of(&lines);
    let applied: Applied = common.iter().map(|id| id.to_string()).collect();
    // Everything the merge needs beyond the common part, without the merge itself.
    let production: Vec<String> = graph
        .plan_upgrade(&applied, &merge.id)?
        .steps
        .iter()
        .map(|step| &step.revision.id)
        .filter(|id| **id != merge.id)
        .cloned()
        .collect();
    let declared: Vec<usize> = (0..lines.len()).collect();
    let reversed: Vec<usize> = declared.iter().rev().copied().collect();
    let mut orders = Vec::new();
    for sides in [declared, reversed] {
        add(&mut orders, one_after_another(&production, &lines, &sides));
    }
    add(&mut orders, as_production(&production, &lines));
    Ok(MergePlan {
        revision: merge.id.clone(),
        parents: merge.parents.clone(),
        common: graph
            .in_order()
            .filter(|r| common.contains(r.id.as_str()))
            .map(|r| r.id.clone())
            .collect(),
        production,
        orders,
    })
}

/// `id` and everything it needs (ancestors and dependencies).
fn line_of<'g>(graph: &'g Graph, id: &'g str) -> BTreeSet<&'g str> {
    let mut line: BTreeSet<&str> = graph.ancestors(id).iter().map(|r| r.id.as_str()).collect();
    line.insert(id);
    line
}

/// What every line holds.
fn common_of<'g>(lines: &[BTreeSet<&'g str>]) -> BTreeSet<&'g str> {
    let Some((first, rest)) = lines.split_first() else {
        return BTreeSet::new();
    };
    first
        .iter()
        .filter(|id| rest.iter().all(|line| line.contains(*id)))
        .copied()
        .collect()
}

/// `order` once: the same sequence of revisions as an order already there is that order
/// (production's, when either is).
fn add(orders: &mut Vec<Order>, order: Order) {
    match orders
        .iter_mut()
        .find(|o| o.revisions().eq(order.revisions()))
    {
        Some(same) => same.production |= order.production,
        None => orders.push(order),
    }
}

/// The sides one after the other in the order of `sides` (indices into `lines`), each in
/// plan order (`upgrade Pi` for each), then whatever the merge alone needs.
fn one_after_another(production: &[String], lines: &[BTreeSet<&str>], sides: &[usize]) -> Order {
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut runs = Vec::new();
    for &side in sides {
        let run: Vec<&String> = production
            .iter()
            .filter(|id| lines[side].contains(id.as_str()) && !done.contains(id.as_str()))
            .collect();
        done.extend(run.iter().map(|id| id.as_str()));
        runs.push(run);
    }
    runs.push(
        production
            .iter()
            .filter(|id| !done.contains(id.as_str()))
            .collect(),
    );
    Order {
        runs: runs
            .into_iter()
            .filter(|run| !run.is_empty())
            .map(|run| run.into_iter().cloned().collect())
            .collect(),
        production: false,
    }
}

/// The production order, in runs of revisions of one side.
fn as_production(production: &[String], lines: &[BTreeSet<&str>]) -> Order {
    let side = |id: &str| lines.iter().position(|line| line.contains(id));
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut last = None;
    for id in production {
        let this = Some(side(id));
        match runs.last_mut() {
            Some(run) if this == last => run.push(id.clone()),
            _ => runs.push(vec![id.clone()]),
        }
        last = this;
    }
    Order {
        runs,
        production: true,
    }
}

/// Applies each order of `plan` on a fresh scratch database of `backend` and compares the
/// schemas. A merge with a single order needs none.
///
/// `production`, when given, is the production order's schema, read where that order was
/// already applied (`verify`'s walk). Should the orders then differ, the production order is
/// applied on a scratch database after all, and compared again: the walk's database has been
/// through each revision's down and up again, which its snapshots see only within what each
/// revision names.
fn check(
    worker: &Worker,
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    plan: &MergePlan,
    mut production: Option<Schema>,
) -> MergeReport {
    let started = Instant::now();
    let apply = |order: &Order| run_order(worker, cx, backend, graph, &plan.common, order);
    let mut orders: Vec<(OrderReport, Option<Schema>)> = plan
        .orders
        .iter()
        .map(|order| match plan.orders.len() {
            0 | 1 => (not_run(order), None),
            _ if order.production && production.is_some() => (not_run(order), production.take()),
            _ => apply(order),
        })
        .collect();
    compare(&mut orders);
    let walked = orders
        .iter()
        .position(|(report, schema)| report.scratch.is_none() && schema.is_some());
    if let Some(i) = walked
        && order_dependent(&orders)
    {
        orders[i] = apply(&plan.orders[i]);
        compare(&mut orders);
    }
    let orders: Vec<OrderReport> = orders.into_iter().map(|(report, _)| report).collect();
    MergeReport {
        revision: plan.revision.clone(),
        parents: plan.parents.clone(),
        common: plan.common.len(),
        production: plan.production.clone(),
        status: status_of(&orders),
        orders,
        ms: started.elapsed().as_millis() as u64,
    }
}

/// Whether `orders` make the merge order-dependent ([`status_of`]).
fn order_dependent(orders: &[(OrderReport, Option<Schema>)]) -> bool {
    status_of(orders.iter().map(|(report, _)| report)) == MergeStatus::OrderDependent
}

/// The report of an order there was no need to apply.
fn not_run(order: &Order) -> OrderReport {
    OrderReport {
        name: order.name(),
        runs: order.runs.clone(),
        production: order.production,
        differences: Vec::new(),
        error: None,
        scratch: None,
        cleanup: Cleanup::NotCreated,
        ms: 0,
    }
}

/// `order` on its own scratch database: its report, and the schema it left.
fn run_order(
    worker: &Worker,
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    common: &[String],
    order: &Order,
) -> (OrderReport, Option<Schema>) {
    let started = Instant::now();
    let used = with_scratch(worker, backend, cx.root, async |driver| {
        apply(cx, backend, graph, common, order, driver).await
    });
    let (schema, error) = match used.result {
        Ok(schema) => (Some(schema), None),
        Err(error) => (None, Some(error)),
    };
    let report = OrderReport {
        error,
        scratch: used.name,
        cleanup: used.cleanup,
        ms: started.elapsed().as_millis() as u64,
        ..not_run(order)
    };
    (report, schema)
}

/// Upgrades the common part, then the order's revisions one by one, and reads the schema
/// (without Braid's store).
async fn apply(
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    common: &[String],
    order: &Order,
    driver: &mut dyn Driver,
) -> Result<Schema, BackendError> {
    let runner = backend
        .scratch_runner(graph, cx.lock_timeout, cx.bodies)
        .map_err(BackendError::Store)?;
    let mut walk = runner.walk(driver).await.map_err(BackendError::Store)?;
    let applied = apply_all(&mut walk, driver, common, order).await;
    // The scratch database is dropped next: a failing release changes nothing of the result.
    let _ = walk.finish(driver).await;
    applied?;
    let schema = driver
        .introspect()
        .await
        .map_err(|source| BackendError::Introspect { source })?;
    Ok(backend.without_store(schema))
}

/// Each revision alone, in the order given: a revision of the common part that fails fails
/// every order alike; one of the sides may fail in one order only.
async fn apply_all(
    walk: &mut Walk<'_, '_>,
    driver: &mut dyn Driver,
    common: &[String],
    order: &Order,
) -> Result<(), BackendError> {
    for id in common {
        walk.step(driver, id, StepDirection::Up)
            .await
            .map_err(|source| BackendError::Replay { source })?;
    }
    for id in order.revisions() {
        walk.step(driver, id, StepDirection::Up)
            .await
            .map_err(|source| BackendError::Apply {
                revision: id.clone(),
                source,
            })?;
    }
    Ok(())
}

/// Each order's differences from the first that applied, columns compared by name and not
/// by position.
fn compare(orders: &mut [(OrderReport, Option<Schema>)]) {
    let Some(reference) = orders.iter().find_map(|(_, schema)| schema.as_ref()) else {
        return;
    };
    let reference = without_column_order(reference);
    for (report, schema) in orders.iter_mut() {
        if let Some(schema) = schema {
            report.differences = differences(&reference, &without_column_order(schema));
        }
    }
}

/// `schema` with each table's columns by name. Two branches that each add a column to one
/// table are the common case of parallel work, and only the order of their columns differs
/// with the order they run in: `SELECT *` lists them differently, nothing else does. `merge`
/// reports that overlap as harmless; this check agrees.
fn without_column_order(schema: &Schema) -> Schema {
    let mut schema = schema.clone();
    for table in &mut schema.tables {
        table.columns.sort_by(|a, b| a.name.cmp(&b.name));
    }
    schema
}

/// Order-dependent when two orders' schemas differ, or a side's revision fails in one order
/// while another order applies; failed when anything else kept the orders from being
/// compared, or a scratch database from being dropped.
fn status_of<'a>(orders: impl IntoIterator<Item = &'a OrderReport>) -> MergeStatus {
    let orders: Vec<&OrderReport> = orders.into_iter().collect();
    let applied = orders.iter().any(|o| o.error.is_none());
    let differ = orders.iter().any(|o| !o.differences.is_empty());
    let fails_in_one = orders
        .iter()
        .any(|o| matches!(o.error, Some(BackendError::Apply { .. })));
    let failed = orders
        .iter()
        .any(|o| o.error.is_some() || matches!(o.cleanup, Cleanup::Failed { .. }));
    if differ || (applied && fails_in_one) {
        MergeStatus::OrderDependent
    } else if failed {
        MergeStatus::Failed
    } else {
        MergeStatus::Same
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// root → a1 → a2 and root → b1 → b2, joined by m; b1 created between a1 and a2.
    fn graph() -> Graph {
        let at = |s: &str| Some(format!("2026-01-01T00:00:{s}Z").parse().unwrap());
        let rev = |id: &str, parents: &[&str], created: &str| Revision {
            created: at(created),
            ..Revision::new(id, parents)
        };
        Graph::build(vec![
            rev("root", &[], "00"),
            rev("a1", &["root"], "01"),
            rev("b1", &["root"], "02"),
            rev("a2", &["a1"], "03"),
            rev("b2", &["b1"], "04"),
            rev("m", &["a2", "b2"], "05"),
        ])
        .unwrap()
    }

    fn names(plan: &MergePlan) -> Vec<(String, bool)> {
        plan.orders
            .iter()
            .map(|o| (o.name(), o.production))
            .collect()
    }

    #[test]
    fn sides_one_after_the_other_both_ways_and_the_production_order() {
        let graph = graph();
        let plan = plan(&graph, graph.get("m").unwrap()).unwrap();
        assert_eq!(plan.common, ["root"]);
        assert_eq!(plan.production, ["a1", "b1", "a2", "b2"]);
        assert_eq!(
            names(&plan),
            [
                ("a1, a2 then b1, b2".to_string(), false),
                ("b1, b2 then a1, a2".to_string(), false),
                ("a1 then b1 then a2 then b2".to_string(), true),
            ]
        );
    }

    #[test]
    fn a_walk_stands_for_the_production_order_only_when_it_applied_exactly_that() {
        let graph = graph();
        let plan = plan(&graph, graph.get("m").unwrap()).unwrap();
        assert!(plan.walked_by(&["root", "a1", "b1", "a2", "b2"]));
        // Another order of the sides, something more, something missing.
        assert!(!plan.walked_by(&["root", "a1", "a2", "b1", "b2"]));
        assert!(!plan.walked_by(&["root", "x", "a1", "b1", "a2", "b2"]));
        assert!(!plan.walked_by(&["root", "a1", "b1", "a2"]));
        // The common part after a side's revision.
        assert!(!plan.walked_by(&["a1", "root", "b1", "a2", "b2"]));
        // A merge with a single order has nothing to compare it with.
        let line = Graph::build(vec![
            Revision::new("a1", &[]),
            Revision::new("a2", &["a1"]),
            Revision::new("m", &["a1", "a2"]),
        ])
        .unwrap();
        let single = super::plan(&line, line.get("m").unwrap()).unwrap();
        assert!(!single.walked_by(&["a1", "a2"]));
    }

    #[test]
    fn a_production_order_that_is_one_of_the_others_is_applied_once() {
        let graph = Graph::build(vec![
            Revision::new("root", &[]),
            Revision::new("a1", &["root"]),
            Revision::new("b1", &["root"]),
            Revision::new("m", &["b1", "a1"]),
        ])
        .unwrap();
        let plan = plan(&graph, graph.get("m").unwrap()).unwrap();
        assert_eq!(
            names(&plan),
            [
                ("b1 then a1".to_string(), false),
                ("a1 then b1".to_string(), true)
            ]
        );
    }

    #[test]
    fn a_parent_below_another_leaves_a_single_order() {
        let graph = Graph::build(vec![
            Revision::new("a1", &[]),
            Revision::new("a2", &["a1"]),
            Revision::new("m", &["a1", "a2"]),
        ])
        .unwrap();
        let plan = plan(&graph, graph.get("m").unwrap()).unwrap();
        assert_eq!(plan.common, ["a1"]);
        assert_eq!(names(&plan), [("a2".to_string(), true)]);
    }

    #[test]
    fn three_parents_are_compared_as_declared_and_reversed() {
        let graph = Graph::build(vec![
            Revision::new("a", &[]),
            Revision::new("b", &[]),
            Revision::new("c", &[]),
            Revision::new("m", &["c", "a", "b"]),
        ])
        .unwrap();
        let plan = plan(&graph, graph.get("m").unwrap()).unwrap();
        assert!(plan.common.is_empty());
        assert_eq!(
            names(&plan),
            [
                ("c then a then b".to_string(), false),
                ("b then a then c".to_string(), false),
                ("a then b then c".to_string(), true),
            ]
        );
    }

    #[test]
    fn a_side_failing_in_one_order_only_is_order_dependence() {
        let order = |error: Option<BackendError>| OrderReport {
            error,
            ..not_run(&Order {
                runs: vec![vec!["a".into()]],
                production: false,
            })
        };
        let apply = || BackendError::Apply {
            revision: "a".into(),
            source: braid_runner::RunError::Config("no".into()),
        };
        assert_eq!(
            status_of(&[order(None), order(Some(apply()))]),
            MergeStatus::OrderDependent
        );
        assert_eq!(
            status_of(&[order(Some(apply())), order(Some(apply()))]),
            MergeStatus::Failed
        );
        assert_eq!(status_of(&[order(None), order(None)]), MergeStatus::Same);
    }
}
