//! Offline SQL: a migration run against a proxy that records statements instead of executing
//! them, for one dialect.
//!
//! Each executed statement is rendered with its values inlined for the dialect (sea-orm's
//! `Display for Statement`) and terminated with `;`. A migration that asks the database a
//! question (a query, `SchemaManagerExt::table_exists`, …) cannot be rendered faithfully without
//! one: the query fails inside the migration, and whatever the migration does with that failure,
//! [`render`] reports that the revision needs a live database.
//!
//! A batched backfill ([`crate::bridge::backfill`]) is recorded as its one `UPDATE`, after a
//! comment saying that an online run batches it.

use std::sync::{Arc, Mutex};

use braid_driver::Dialect;
use braid_graph::Direction;
use sea_orm::{Database, DbErr, ProxyDatabaseTrait, ProxyExecResult, ProxyRow, Statement};
use sea_orm_migration::{MigrationTrait, SchemaManager};

use crate::bridge::{LENT, Lent};
use crate::catch::CatchUnwind;
use crate::{backend_of, direction_name};

#[derive(Debug, Default)]
struct Log {
    statements: Vec<String>,
    /// The first query the migration asked, if any.
    question: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Log>>);

/// What [`render`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RenderError {
    /// The migration asked the database a question; offline mode has no answers.
    NeedsDatabase { question: String },
    /// The migration returned an error.
    Failed { message: String },
    /// The migration panicked (usually sea-query refusing to render for this backend).
    Panicked { message: String },
}

impl std::error::Error for RenderError {}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RenderError::NeedsDatabase { question } => write!(
                f,
                "it asks the database a question (`{question}`), so its SQL cannot be rendered \
                 offline: it needs a live database (run it without --sql)"
            ),
            RenderError::Failed { message } => write!(f, "it failed while rendering: {message}"),
            RenderError::Panicked { message } => write!(
                f,
                "it panicked while rendering: {message} (sea-query panics on a statement this \
                 backend cannot express)"
            ),
        }
    }
}

#[async_trait::async_trait]
impl ProxyDatabaseTrait for Recorder {
    async fn query(&self, statement: Statement) -> Result<Vec<ProxyRow>, DbErr> {
        let sql = statement.to_string();
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.question.get_or_insert(sql.clone());
        Err(DbErr::Custom(format!(
            "offline SQL has no database to answer `{sql}`: this migration needs a live database"
        )))
    }

    async fn execute(&self, statement: Statement) -> Result<ProxyExecResult, DbErr> {
        let mut sql = statement.to_string().trim_end().to_string();
        if !sql.ends_with(';') {
            sql.push(';');
        }
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        log.statements.push(sql);
        Ok(ProxyExecResult::new(0, 0))
    }
}

/// The statements `migration` executes in `direction` on `dialect`, one per line, each ending in
/// `;`. Runs the migration on a short-lived thread with its own single-threaded runtime, so it
/// works from synchronous code and from inside any async runtime.
pub fn render(
    migration: &dyn MigrationTrait,
    dialect: Dialect,
    direction: Direction,
) -> Result<String, RenderError> {
    let recorder = Recorder::default();
    let log = recorder.0.clone();
    let result = std::thread::scope(|s| {
        s.spawn(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| RenderError::Failed {
                    message: format!("cannot start a runtime: {e}"),
                })?;
            let proxy: Arc<Box<dyn ProxyDatabaseTrait>> = Arc::new(Box::new(recorder));
            // A backfill in the migration renders as its one UPDATE (see `bridge::backfill`).
            let work = CatchUnwind(Box::pin(LENT.scope(Lent::Offline, async move {
                let db = Database::connect_proxy(backend_of(dialect), proxy).await?;
                let manager = SchemaManager::new(&db);
                match direction {
                    Direction::Up => migration.up(&manager).await,
                    Direction::Down => migration.down(&manager).await,
                }
            })));
            match runtime.block_on(work) {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(RenderError::Failed {
                    message: crate::bridge::explain(&e),
                }),
                Err(message) => Err(RenderError::Panicked { message }),
            }
        })
        .join()
        .unwrap_or_else(|p| {
            Err(RenderError::Panicked {
                message: crate::catch::panic_message(&*p),
            })
        })
    });
    let log = std::mem::take(&mut *log.lock().unwrap_or_else(|p| p.into_inner()));
    // A question makes the rendering unfaithful whatever the migration did with the failure.
    if let Some(question) = log.question {
        return Err(RenderError::NeedsDatabase { question });
    }
    result?;
    Ok(log.statements.join("\n"))
}

/// [`render`] with the revision named in the message, as the runner's body error.
pub(crate) fn render_for(
    migration: &dyn MigrationTrait,
    dialect: Dialect,
    direction: Direction,
    revision: &str,
) -> Result<String, String> {
    render(migration, dialect, direction).map_err(|e| {
        format!(
            "Rust migration `{revision}` ({} on {dialect}): {e}",
            direction_name(direction)
        )
    })
}
