//! One backend's verification: create the scratch database, walk the revisions in it (up,
//! down, up again, with snapshots), drop it — whatever happened in between; then apply the
//! branches of each merge revision that passed in each order ([`super::merges`]).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use braid_driver::{Dialect, Driver, Kinds, Schema, Scope};
use braid_graph::{Direction, Graph};
use braid_runner::{Bodies, StepDirection, Walk, Worker};

use super::backends::Backend;
use super::data::DataCheck;
use super::plan::Planned;
use super::report::{
    BackendError, BackendReport, Failure, RevisionOutcome, RevisionReport, VerifyStep,
};
use super::scratch::with_scratch;
use super::{VerifyEvent, VerifyEventSink, differences};

/// What every backend of a run shares.
pub(super) struct Context<'a> {
    pub bodies: &'a dyn Bodies,
    pub lock_timeout: Duration,
    /// The project root (relative SQLite paths of plugins' URLs).
    pub root: &'a Path,
    pub events: VerifyEventSink<'a>,
}

/// A failed step of a revision's check (boxed: a failure carries a whole run error).
type StepFailure = Box<(VerifyStep, Failure)>;

fn failed(step: VerifyStep, failure: Failure) -> StepFailure {
    Box::new((step, failure))
}

/// Verifies `backend` along `revisions` of `graph`, on `worker`'s runtime. Every phase runs in
/// its own [`Worker::block_on`], so a panic while walking still lets the scratch database be
/// dropped.
pub(super) fn verify_backend(
    worker: &Worker,
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    revisions: &[Planned],
) -> BackendReport {
    let started = Instant::now();
    let mut report = BackendReport::of(backend);
    (cx.events)(&VerifyEvent::BackendStarted {
        backend: backend.name.clone(),
        revisions: revisions.iter().filter(|p| p.check).count(),
    });
    if revisions.iter().any(|p| p.check) {
        let merges = run_in_scratch(worker, cx, backend, graph, revisions, &mut report);
        not_verified(revisions, &mut report.revisions);
        super::merges::verify_merges(worker, cx, backend, graph, &mut report.revisions, merges);
    }
    report.ms = started.elapsed().as_millis() as u64;
    (cx.events)(&VerifyEvent::BackendFinished {
        backend: backend.name.clone(),
        passed: report.passed(),
        duration: started.elapsed(),
    });
    report
}

/// What a walk leaves: each checked revision's report, and for each merge revision it reached
/// with exactly its production order applied, the schema just before the merge ran (see
/// [`super::merges::verify_merges`]).
#[derive(Default)]
struct Walked {
    reports: Vec<RevisionReport>,
    merges: BTreeMap<String, Schema>,
}

/// Creates the scratch database, walks, drops it; fills `report` as it goes and returns the
/// merges' production schemas ([`Walked::merges`]).
fn run_in_scratch(
    worker: &Worker,
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    revisions: &[Planned],
    report: &mut BackendReport,
) -> BTreeMap<String, Schema> {
    let mut walked = Walked::default();
    let used = with_scratch(worker, backend, cx.root, async |driver| {
        walk_open(cx, backend, graph, revisions, driver, &mut walked).await
    });
    report.revisions = walked.reports;
    report.scratch = used.name;
    report.error = used.result.err();
    report.cleanup = used.cleanup;
    walked.merges
}

/// Reports every revision to check that has no report yet (after a failure, a panic, or a
/// scratch database that could not be made) as not verified.
fn not_verified(revisions: &[Planned], out: &mut Vec<RevisionReport>) {
    for planned in revisions.iter().filter(|p| p.check).skip(out.len()) {
        out.push(RevisionReport {
            revision: planned.id.clone(),
            outcome: RevisionOutcome::NotVerified,
            ms: 0,
            merge: None,
        });
    }
}

/// Walks the revisions in the opened scratch database, pushing each checked revision's report
/// to `out`. What stopped the walk outside a revision's checks comes back.
async fn walk_open(
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    revisions: &[Planned],
    driver: &mut dyn Driver,
    out: &mut Walked,
) -> Result<(), BackendError> {
    let runner = backend
        .scratch_runner(graph, cx.lock_timeout, cx.bodies)
        .map_err(BackendError::Store)?;
    let mut walk = runner.walk(driver).await.map_err(BackendError::Store)?;
    let walked = walk_locked(cx, backend, graph, revisions, &mut walk, driver, out).await;
    // The scratch database is dropped next: a failing release changes nothing of the result.
    let _ = walk.finish(driver).await;
    walked
}

/// The walk under the lock [`Runner::walk`] took: revisions outside the range upgraded, the
/// others checked until one fails.
async fn walk_locked(
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    revisions: &[Planned],
    walk: &mut Walk<'_, '_>,
    driver: &mut dyn Driver,
    out: &mut Walked,
) -> Result<(), BackendError> {
    // Only checked revisions take snapshots (rendering a Rust revision's SQL to read its scope
    // costs a runtime of its own).
    let nothing = Scope::named(Vec::<&str>::new()).of_kinds(Kinds::TABLES);
    let scopes: Vec<Scope> = revisions
        .iter()
        .map(|p| match p.check {
            true => revision_scope(cx.bodies, graph, &p.id, backend.dialect),
            false => nothing.clone(),
        })
        .collect();
    let total = revisions.iter().filter(|p| p.check).count();
    let mut current: Option<Schema> = None;
    let mut index = 0;
    for (i, planned) in revisions.iter().enumerate() {
        if !planned.check {
            walk.step(driver, &planned.id, StepDirection::Up)
                .await
                .map_err(|source| BackendError::Upgrade {
                    revision: planned.id.clone(),
                    source,
                })?;
            current = None;
            continue;
        }
        index += 1;
        if let Some(schema) = production_order(backend, graph, &revisions[..=i], driver).await {
            out.merges.insert(planned.id.clone(), schema);
        }
        let scopes = Scopes {
            own: &scopes[i],
            next: scopes.get(i + 1).unwrap_or(&nothing),
        };
        let report = check_one(
            cx,
            backend,
            walk,
            driver,
            planned,
            (index, total),
            (scopes, &mut current),
        )
        .await;
        let failed = !matches!(report.outcome, RevisionOutcome::Passed);
        out.reports.push(report);
        if failed {
            break;
        }
    }
    Ok(())
}

/// The whole schema (without Braid's store) before the last revision of `walked` runs, when
/// it is a merge revision and the walk applied the others before it, in this order, as the
/// merge's production order applies them ([`super::merges::MergePlan::walked_by`]); `None`
/// otherwise, or when it cannot be read (the merge's check then applies that order on a scratch
/// database, as for any other order).
async fn production_order(
    backend: &Backend,
    graph: &Graph,
    walked: &[Planned],
    driver: &mut dyn Driver,
) -> Option<Schema> {
    let (last, before) = walked.split_last()?;
    let merge = graph.get(&last.id).filter(|r| r.is_merge())?;
    let plan = super::merges::plan(graph, merge).ok()?;
    let applied: Vec<&str> = before.iter().map(|p| p.id.as_str()).collect();
    if !plan.walked_by(&applied) {
        return None;
    }
    Some(backend.without_store(driver.introspect().await.ok()?))
}

/// What a revision's snapshots cover: the objects its upgrade and downgrade can change
/// ([`braid_lint::scope`]). A body that cannot be read here fails when it runs; until then the
/// whole schema is the safe answer.
fn revision_scope(bodies: &dyn Bodies, graph: &Graph, id: &str, dialect: Dialect) -> Scope {
    let Some(rev) = graph.get(id) else {
        return Scope::Whole;
    };
    let of = |direction: Direction| {
        bodies
            .script(rev, direction, dialect)
            .ok()
            .and_then(|script| script.offline_sql(dialect, direction).ok())
            .map_or(Scope::Whole, |sql| braid_lint::scope(&sql, dialect))
    };
    of(Direction::Up).union(&of(Direction::Down))
}

/// The scopes of a revision's snapshots: its own, and the next revision's, which the last
/// snapshot also covers so that the next check starts from it.
#[derive(Clone, Copy)]
struct Scopes<'s> {
    own: &'s Scope,
    next: &'s Scope,
}

/// Checks one revision, with its events.
async fn check_one(
    cx: &Context<'_>,
    backend: &Backend,
    walk: &mut Walk<'_, '_>,
    driver: &mut dyn Driver,
    planned: &Planned,
    (index, total): (usize, usize),
    (scopes, current): (Scopes<'_>, &mut Option<Schema>),
) -> RevisionReport {
    let started = Instant::now();
    (cx.events)(&VerifyEvent::RevisionStarted {
        backend: backend.name.clone(),
        revision: planned.id.clone(),
        index,
        total,
    });
    let outcome = match cycle(walk, driver, planned, scopes, current).await {
        Ok(()) => RevisionOutcome::Passed,
        Err(failure) => {
            let (step, failure) = *failure;
            RevisionOutcome::Failed { step, failure }
        }
    };
    (cx.events)(&VerifyEvent::RevisionFinished {
        backend: backend.name.clone(),
        revision: planned.id.clone(),
        index,
        total,
        passed: matches!(outcome, RevisionOutcome::Passed),
    });
    RevisionReport {
        revision: planned.id.clone(),
        outcome,
        ms: started.elapsed().as_millis() as u64,
        merge: None,
    }
}

/// Up, down, up again, each compared with the snapshot it must equal, within the revision's
/// scope. `current` is the schema as it is now when known (the previous revision's last
/// snapshot, covering this revision's scope), and the schema after this revision on success:
/// one snapshot fewer per revision.
async fn cycle(
    walk: &mut Walk<'_, '_>,
    driver: &mut dyn Driver,
    planned: &Planned,
    scopes: Scopes<'_>,
    current: &mut Option<Schema>,
) -> Result<(), StepFailure> {
    let data = match &planned.dir {
        Some(dir) => DataCheck::load(dir, driver.dialect())
            .map_err(|error| failed(VerifyStep::Setup, Failure::DataFile { error }))?,
        None => None,
    };
    if let Some(data) = data.as_ref().filter(|d| d.has_setup()) {
        data.setup(driver).await.map_err(at(VerifyStep::Setup))?;
        *current = None;
    }
    let mut before = match current.take() {
        Some(schema) => schema.within(scopes.own),
        None => snapshot(driver, scopes.own, VerifyStep::Setup).await?,
    };
    // A table picked by one of its index's names (`DROP INDEX ix`) is named from here on, so
    // that every snapshot of the revision holds it even once the index is gone — and the first
    // snapshot is taken again by that scope, which holds the table's triggers too.
    let scope = &scopes
        .own
        .union(&Scope::named(before.tables.iter().map(|t| &t.name)).of_kinds(Kinds::TABLES));
    if scope != scopes.own {
        before = snapshot(driver, scope, VerifyStep::Setup).await?;
    }
    let rows_before = match &data {
        Some(data) => data.results(driver).await.map_err(at(VerifyStep::Setup))?,
        None => Vec::new(),
    };
    migrate(walk, driver, planned, StepDirection::Up, VerifyStep::Up).await?;
    let after_up = snapshot(driver, scope, VerifyStep::Up).await?;
    migrate(walk, driver, planned, StepDirection::Down, VerifyStep::Down).await?;
    let after_down = snapshot(driver, scope, VerifyStep::Down).await?;
    same_schema(&before, &after_down, VerifyStep::DownSchema)?;
    if let Some(data) = &data {
        let rows_after = data
            .results(driver)
            .await
            .map_err(at(VerifyStep::DownData))?;
        if let Some(mismatch) = data.compare(driver, &rows_before, &rows_after) {
            return Err(failed(VerifyStep::DownData, Failure::Data(mismatch)));
        }
    }
    migrate(
        walk,
        driver,
        planned,
        StepDirection::Up,
        VerifyStep::UpAgain,
    )
    .await?;
    let again = snapshot(driver, &scope.union(scopes.next), VerifyStep::UpAgain).await?;
    same_schema(
        &after_up,
        &like(&again, scope, &after_up),
        VerifyStep::UpAgainSchema,
    )?;
    *current = Some(again);
    Ok(())
}

/// `again`, read with a wider scope than `after_up` (the next revision's too), as `after_up`
/// was read: within `scope`, without a table picked only through one of its index or
/// constraint names that `after_up` does not hold. MySQL finds tables by their own name only
/// (see `Driver::introspect_within`), so a table the wider read found by its name must not
/// count as one the narrower read missed. A table the second upgrade really added is named by
/// the revision, and stays.
fn like(again: &Schema, scope: &Scope, after_up: &Schema) -> Schema {
    let mut again = again.within(scope);
    again
        .tables
        .retain(|t| scope.names(&t.name) || after_up.tables.iter().any(|u| u.name == t.name));
    again
}

/// Runs the revision alone in `direction`; a failure is `step`'s.
async fn migrate(
    walk: &mut Walk<'_, '_>,
    driver: &mut dyn Driver,
    planned: &Planned,
    direction: StepDirection,
    step: VerifyStep,
) -> Result<(), StepFailure> {
    walk.step(driver, &planned.id, direction)
        .await
        .map(|_| ())
        .map_err(|e| failed(step, Failure::run(e)))
}

/// The schema within `scope` (a driver may answer with more: see
/// [`Driver::introspect_within`]).
async fn snapshot(
    driver: &mut dyn Driver,
    scope: &Scope,
    step: VerifyStep,
) -> Result<Schema, StepFailure> {
    driver
        .introspect_within(scope)
        .await
        .map(|s| s.within(scope))
        .map_err(at(step))
}

/// `actual` must be `expected`; otherwise `step` fails with the differences.
fn same_schema(expected: &Schema, actual: &Schema, step: VerifyStep) -> Result<(), StepFailure> {
    let found = differences(expected, actual);
    if found.is_empty() {
        return Ok(());
    }
    Err(failed(step, Failure::Schema { differences: found }))
}

/// A driver error as `step`'s failure.
fn at(step: VerifyStep) -> impl Fn(braid_driver::DriverError) -> StepFailure {
    move |error| failed(step, Failure::Driver { error })
}
