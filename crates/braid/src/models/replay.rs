//! The two schemas of one backend: what the migrations produce (replayed from base on a scratch
//! database, or read from a live database) and what the entities produce (sea-orm's own
//! `CREATE TABLE`s run on another scratch database). Scratch databases are made and dropped as
//! `verify` makes them, and never the configured database.

use std::path::Path;
use std::time::Duration;

use braid_driver::{Driver, Schema};
use braid_graph::Graph;
use braid_runner::{Bodies, Worker};

use crate::drivers::Access;
use crate::verify::backends::Backend;
use crate::verify::report::{BackendError, Cleanup};
use crate::verify::scratch::with_scratch;

/// What every backend of a comparison shares.
pub(super) struct Context<'a> {
    pub bodies: &'a dyn Bodies,
    pub lock_timeout: Duration,
    pub root: &'a Path,
}

/// Where the migrations' schema is read.
pub(super) enum Current<'a> {
    /// Replayed from base to the heads on a scratch database.
    Replay { graph: &'a Graph },
    /// Read from a configured database (never written): `--db NAME`.
    Live { url: &'a str },
}

/// The migrations' schema and the entities' schema of `backend`, each without Braid's store.
/// (The error is boxed: it can carry a whole run error.)
pub(super) fn snapshots(
    worker: &Worker,
    cx: &Context<'_>,
    backend: &Backend,
    current: &Current<'_>,
    statements: &[String],
) -> Result<(Schema, Schema), Box<BackendError>> {
    let have = match current {
        Current::Replay { graph } => in_scratch(worker, cx, backend, Job::Replay(graph))?,
        Current::Live { url } => worker
            .block_on(read_live(cx, backend, url))
            .map_err(BackendError::Panicked)??,
    };
    let want = in_scratch(worker, cx, backend, Job::Models(statements))?;
    Ok((backend.without_store(have), backend.without_store(want)))
}

/// What a scratch database is made for.
enum Job<'a> {
    /// The migrations, from base to the heads.
    Replay(&'a Graph),
    /// The entities' statements.
    Models(&'a [String]),
}

/// Does `job` on a new scratch database of `backend`, which is dropped afterwards whatever
/// happened, and reads the schema it made.
fn in_scratch(
    worker: &Worker,
    cx: &Context<'_>,
    backend: &Backend,
    job: Job<'_>,
) -> Result<Schema, Box<BackendError>> {
    let used = with_scratch(worker, backend, cx.root, async |driver| match job {
        Job::Replay(graph) => replay(cx, backend, graph, driver).await,
        Job::Models(statements) => create_models(statements, driver).await,
    });
    let schema = used.result?;
    if let Cleanup::Failed { error } = used.cleanup {
        return Err(Box::new(BackendError::Scratch(error)));
    }
    Ok(schema)
}

/// Upgrades the scratch database from base to the heads and reads its schema.
async fn replay(
    cx: &Context<'_>,
    backend: &Backend,
    graph: &Graph,
    driver: &mut dyn Driver,
) -> Result<Schema, BackendError> {
    let runner = backend
        .scratch_runner(graph, cx.lock_timeout, cx.bodies)
        .map_err(BackendError::Store)?;
    if !graph.is_empty() {
        runner
            .upgrade(driver, "heads", &braid_runner::no_events)
            .await
            .map_err(|source| BackendError::Replay { source })?;
    }
    driver
        .introspect()
        .await
        .map_err(|source| BackendError::Introspect { source })
}

/// Runs the entities' `CREATE` statements and reads the schema they make.
async fn create_models(
    statements: &[String],
    driver: &mut dyn Driver,
) -> Result<Schema, BackendError> {
    for statement in statements {
        driver
            .execute_script(statement)
            .await
            .map_err(|source| BackendError::Models {
                statement: statement.clone(),
                source,
            })?;
    }
    driver
        .introspect()
        .await
        .map_err(|source| BackendError::Introspect { source })
}

/// The schema of a configured database, read and nothing else.
async fn read_live(cx: &Context<'_>, backend: &Backend, url: &str) -> Result<Schema, BackendError> {
    let mut driver = crate::drivers::open(&backend.source, url, Access::ReadOnly, cx.root)
        .await
        .map_err(|source| BackendError::OpenLive {
            database: backend.name.clone(),
            source,
        })?;
    let schema = driver.introspect().await;
    let _ = driver.close().await;
    schema.map_err(|source| BackendError::Introspect { source })
}
