//! The live bridge: a sea-orm proxy `DatabaseConnection` whose statements run on a Braid
//! [`Driver`] lent for the duration of one `up`/`down`.
//!
//! # Lending `&mut dyn Driver`
//!
//! sea-orm wants its proxy as `Arc<Box<dyn ProxyDatabaseTrait>>` (`'static`, `Sync`), while the
//! runner holds a `&mut dyn Driver` inside its transaction. The proxy therefore owns no driver:
//! it sends each statement over a channel to a loop, running in the same task as the migration,
//! that holds the borrowed driver, executes the statement and sends the result back.
//! [`run_migration`] polls the migration and the loop together and returns once the migration
//! has finished; then the borrow ends. No `unsafe`, no `'static` driver, no second connection.
//!
//! # Statements
//!
//! * A statement without parameters (all sea-query DDL, and `execute_unprepared`) goes to
//!   [`Driver::execute_script`], the driver's batch path, so a multi-statement string works.
//! * A statement with parameters goes to [`Driver::execute`] / [`Driver::query`] with the values
//!   mapped exactly for the dialect (see the value module).
//! * `begin`/`commit`/`rollback` do nothing (see the crate docs: transactions stay Braid's).
//!
//! # Failures
//!
//! A failing statement is reported as the driver's own error (kind, code, message), with the
//! statement and its 1-based position among the migration's statements in
//! [`DriverError::position`]. A panic inside the migration (a sea-query render panic) is an
//! error naming the revision.
//!
//! # Backfills
//!
//! [`backfill`] runs Braid's batched backfill engine ([`braid_runner::backfill`]) from a
//! migration. The engine needs the driver itself (it begins and commits each batch), not a
//! statement channel, so the call is one more request to the loop holding the driver, which
//! runs the engine there with the runner's context (database, revision, events, cursor table,
//! lock). The migration finds the loop through a task-local that [`run_migration_in`] sets
//! around the migration's future (the migration is polled inside the same task); the offline
//! recorder sets it too, to render the backfill as its one `UPDATE`.

use std::sync::Arc;

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, ScriptPosition};
use braid_graph::Direction;
use braid_runner::backfill::{self as engine, Backfill, BackfillContext, BackfillReport};
use sea_orm::{
    ConnectionTrait, Database, DbErr, ProxyDatabaseTrait, ProxyExecResult, ProxyRow, RuntimeErr,
    Statement,
};
use sea_orm_migration::{MigrationTrait, SchemaManager};
use tokio::sync::{mpsc, oneshot};

use crate::catch::CatchUnwind;
use crate::{backend_of, direction_name, value};

pub(crate) enum Request {
    Execute(Statement, oneshot::Sender<Result<ProxyExecResult, DbErr>>),
    Query(Statement, oneshot::Sender<Result<Vec<ProxyRow>, DbErr>>),
    /// A batched backfill, run by the engine on the driver ([`backfill`]).
    Backfill(Backfill, oneshot::Sender<Result<BackfillReport, DbErr>>),
}

/// How a migration's [`backfill`] reaches the engine: the loop holding the live driver, or the
/// offline recorder. Set around the migration's future ([`LENT`]).
#[derive(Clone)]
pub(crate) enum Lent {
    Live(mpsc::UnboundedSender<Request>),
    Offline,
}

tokio::task_local! {
    /// Set while a migration runs through [`run_migration_in`] or the recorder.
    pub(crate) static LENT: Lent;
}

/// Runs a batched backfill from a Rust migration (a `transaction = false` revision): `UPDATE
/// table SET … WHERE …` in batches by ranges of an integer key, each batch its own transaction,
/// resumable after a stop, with a progress event per batch — the engine of
/// [`braid_runner::backfill`], on the runner's connection.
///
/// ```ignore
/// backfill(manager, Backfill::new("plans", "id")
///     .set("price_minor = price_cents")
///     .filter("price_minor <> price_cents")
///     .batch(500))
/// .await?;
/// ```
///
/// Offline (`--sql`) it is rendered as its one `UPDATE`, after a comment saying that an online
/// run batches it. Outside a migration run by Braid (sea-orm-migration's own migrator) it is an
/// error: nothing else keeps its progress.
pub async fn backfill(
    manager: &SchemaManager<'_>,
    spec: Backfill,
) -> Result<BackfillReport, DbErr> {
    let Ok(lent) = LENT.try_with(Lent::clone) else {
        return Err(DbErr::Custom(
            "a batched backfill runs only in a migration run by Braid (its runner keeps the \
             backfill's progress)"
                .to_string(),
        ));
    };
    match lent {
        Lent::Live(tx) => {
            let (reply, answer) = oneshot::channel();
            tx.send(Request::Backfill(spec, reply))
                .map_err(|_| gone())?;
            answer.await.map_err(|_| gone())?
        }
        Lent::Offline => {
            spec.check().map_err(|e| DbErr::Custom(e.to_string()))?;
            let sql = format!("{}\n{}", engine::offline_note(&spec), spec.update_sql());
            manager.get_connection().execute_unprepared(&sql).await?;
            Ok(BackfillReport {
                table: spec.table,
                batches: 0,
                rows: 0,
                last_key: None,
                resumed: false,
            })
        }
    }
}

/// The sea-orm side: forwards statements to the loop holding the driver.
#[derive(Debug)]
struct ChannelProxy {
    tx: mpsc::UnboundedSender<Request>,
}

fn gone() -> DbErr {
    DbErr::Custom("the Braid driver is no longer lent to this migration".to_string())
}

#[async_trait::async_trait]
impl ProxyDatabaseTrait for ChannelProxy {
    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Query(statement, reply))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Request::Execute(statement, reply))
            .map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    // begin/commit/rollback/start_rollback: the defaults do nothing, on purpose. The runner owns
    // the transaction (see the crate docs).
}

/// The driver side: runs statements and remembers the last driver failure, so the runner gets
/// the driver's own error rather than sea-orm's stringified copy.
struct Server<'d, 'c> {
    driver: &'d mut dyn Driver,
    dialect: Dialect,
    count: usize,
    failure: Option<DriverError>,
    /// What a backfill needs from the runner; `None` through [`run_migration`].
    backfills: Option<&'c BackfillContext<'c>>,
}

impl Server<'_, '_> {
    /// Runs a backfill request with the runner's context.
    async fn backfill(&mut self, spec: &Backfill) -> Result<BackfillReport, DbErr> {
        self.count += 1;
        let result = match self.backfills {
            Some(cx) => engine::run(&mut *self.driver, spec, cx).await,
            None => Err(DriverError::new(
                ErrorKind::Unsupported,
                "a batched backfill needs the runner's context: run the migration through \
                 Braid's runner (or `bridge::run_migration_in`)",
            )),
        };
        result.map_err(|e| {
            // The engine's error, as is (it names the failing statement when there is one).
            let message = e.to_string();
            self.failure = Some(e);
            DbErr::Custom(message)
        })
    }

    fn failed(&mut self, e: DriverError, sql: &str) -> String {
        let message = e.to_string();
        let position = ScriptPosition {
            index: self.count,
            total: None,
            statement: sql.to_string(),
        };
        self.failure = Some(e.with_position(position));
        message
    }

    async fn handle(&mut self, request: Request) {
        match request {
            Request::Execute(stmt, reply) => {
                self.count += 1;
                let result = match &stmt.values {
                    None => self
                        .driver
                        .execute_script(&stmt.sql)
                        .await
                        .map(|()| ProxyExecResult::new(0, 0)),
                    Some(values) => match value::params(&values.0, self.dialect) {
                        Ok(params) => self
                            .driver
                            .execute(&stmt.sql, &params)
                            .await
                            .map(|n| ProxyExecResult::new(0, n)),
                        Err(e) => {
                            let _ = reply.send(Err(e));
                            return;
                        }
                    },
                };
                let result = result
                    .map_err(|e| DbErr::Exec(RuntimeErr::Internal(self.failed(e, &stmt.sql))));
                let _ = reply.send(result);
            }
            Request::Query(stmt, reply) => {
                self.count += 1;
                let params = match &stmt.values {
                    None => Vec::new(),
                    Some(values) => match value::params(&values.0, self.dialect) {
                        Ok(p) => p,
                        Err(e) => {
                            let _ = reply.send(Err(e));
                            return;
                        }
                    },
                };
                let result = match self.driver.query(&stmt.sql, &params).await {
                    Ok(rows) => Ok(value::rows(rows)),
                    Err(e) => Err(DbErr::Query(RuntimeErr::Internal(
                        self.failed(e, &stmt.sql),
                    ))),
                };
                let _ = reply.send(result);
            }
            Request::Backfill(spec, reply) => {
                let result = self.backfill(&spec).await;
                let _ = reply.send(result);
            }
        }
    }
}

/// Runs `migration` in `direction` through `driver`, inside whatever transaction the caller
/// opened. `revision` names it in errors. A [`backfill`] in it is an error: use
/// [`run_migration_in`], which has the runner's context.
pub async fn run_migration(
    driver: &mut dyn Driver,
    migration: &dyn MigrationTrait,
    direction: Direction,
    revision: &str,
) -> Result<(), DriverError> {
    lend(driver, migration, direction, revision, None).await
}

/// [`run_migration`] with the runner's context for the migration's [`backfill`]s (what
/// [`braid_runner::bodies::CodeBody::run`] is given).
pub async fn run_migration_in(
    driver: &mut dyn Driver,
    migration: &dyn MigrationTrait,
    direction: Direction,
    revision: &str,
    cx: &BackfillContext<'_>,
) -> Result<(), DriverError> {
    lend(driver, migration, direction, revision, Some(cx)).await
}

/// Lends `driver` to `migration` for one `up`/`down` (see the [module docs](self)).
async fn lend(
    driver: &mut dyn Driver,
    migration: &dyn MigrationTrait,
    direction: Direction,
    revision: &str,
    backfills: Option<&BackfillContext<'_>>,
) -> Result<(), DriverError> {
    let dialect = driver.dialect();
    let backend = backend_of(dialect);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let lent = Lent::Live(tx.clone());
    let proxy: Arc<Box<dyn ProxyDatabaseTrait>> = Arc::new(Box::new(ChannelProxy { tx }));
    let mut server = Server {
        driver,
        dialect,
        count: 0,
        failure: None,
        backfills,
    };
    let work = CatchUnwind(Box::pin(LENT.scope(lent, async move {
        let db = Database::connect_proxy(backend, proxy).await?;
        let manager = SchemaManager::new(&db);
        match direction {
            Direction::Up => migration.up(&manager).await,
            Direction::Down => migration.down(&manager).await,
        }
    })));
    tokio::pin!(work);
    let outcome = loop {
        tokio::select! {
            biased;
            outcome = &mut work => break outcome,
            Some(request) = rx.recv() => server.handle(request).await,
        }
    };
    let which = direction_name(direction);
    match outcome {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(match server.failure.take() {
            // The migration stopped on a statement the database rejected: that error, as is.
            Some(failure) => failure,
            None => DriverError::new(
                ErrorKind::Sql,
                format!(
                    "Rust migration `{revision}` ({which}) failed: {}",
                    explain(&e)
                ),
            ),
        }),
        Err(panic) => Err(DriverError::new(
            ErrorKind::Internal,
            format!(
                "Rust migration `{revision}` ({which}) panicked: {panic} (sea-query panics while \
                 rendering a statement the {dialect} backend cannot express; branch on \
                 manager.get_database_backend() or write that statement per backend)"
            ),
        )),
    }
}

/// A `DbErr` as a person should read it, with a hint for sea-orm-migration's sqlx-only probes.
pub(crate) fn explain(e: &DbErr) -> String {
    match e {
        DbErr::BackendNotSupported { ctx, .. }
            if matches!(
                *ctx,
                "has_table" | "has_column" | "has_index" | "query_tables"
            ) =>
        {
            format!(
                "{e}: sea-orm-migration's `{ctx}` needs sqlx; use braid::prelude's \
                 SchemaManagerExt (`manager.table_exists(..)`, `column_exists`, `index_exists`)"
            )
        }
        other => other.to_string(),
    }
}
