//! Moving to Braid from another migration tool: `import` writes its history as Braid revisions,
//! `adopt` records in each database's Braid version store what that tool already ran there.
//!
//! The rules of reading each tool and of mapping its version table are in `braid-import`; this
//! module picks the migrations directory, reads each database's tables through its driver, and
//! records the result with the runner's `stamp` (under the lock, with Braid's checksums of the
//! imported files). The source tool's table is only read.

use std::path::{Path, PathBuf};

use braid_config::Database;
use braid_driver::{Dialect, DriverError, ErrorKind, Scope};
use braid_graph::{Applied, Direction, Graph};
use braid_import::{ImportMap, SourceRow};
use braid_runner::{DbStatus, EventSink, Operation};
use serde::Serialize;

use crate::databases::RunSettings;
use crate::drivers::Access;
use crate::{Error, Project};

pub use braid_import::{
    AdoptError, AdoptPlan, AlembicOptions, History, ImportError, MAP_FILE, Need, ReadOptions,
    Skipped, Tool, WriteError, Written, WrittenRevision,
};

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub tool: Tool,
    /// The source tool's migrations directory (Alembic: the directory of `alembic.ini`).
    pub source: PathBuf,
    pub options: ReadOptions,
}

/// What `import` did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The migrations directory written.
    pub dir: PathBuf,
    pub written: Written,
    /// Source files left out, with why.
    pub skipped: Vec<Skipped>,
    /// What went wrong after the revisions were written (the heads file could not be
    /// rewritten).
    pub warnings: Vec<String>,
}

impl ImportReport {
    /// The revisions that need the user before they can run.
    pub fn needing_work(&self) -> impl Iterator<Item = &WrittenRevision> {
        self.written
            .revisions
            .iter()
            .filter(|r| r.needs.iter().any(|n| !matches!(n, Need::IdMapped)))
    }
}

/// A failed `import`.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error(transparent)]
    Read(#[from] ImportError),
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// What `adopt` should do.
#[derive(Debug, Clone, Default)]
pub struct AdoptRequest {
    /// Show the plan; record nothing.
    pub dry_run: bool,
    /// The tool's version table, `schema.table` for one outside the connection's default
    /// schema [default: the tool's default name, e.g. `flyway_schema_history`].
    pub table: Option<String>,
}

/// One database's adoption.
#[derive(Debug, Clone, Serialize)]
pub struct Adoption {
    pub database: String,
    #[serde(flatten)]
    pub outcome: AdoptOutcome,
}

/// What happened to one database.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AdoptOutcome {
    /// Recorded in Braid's store.
    Adopted { plan: AdoptPlan },
    /// `--dry-run`: what would be recorded.
    Planned { plan: AdoptPlan },
    /// Braid's store already records exactly this: nothing to do.
    AlreadyAdopted { plan: AdoptPlan },
    /// Nothing recorded, and why.
    Failed { error: String },
}

/// Why a database was not adopted; shown as text in [`AdoptOutcome::Failed`].
#[derive(Debug, thiserror::Error)]
enum Refusal {
    #[error(
        "{} holds no {MAP_FILE}: import the source tool's history first (`braid import --from \
         TOOL DIR`)",
        dir.display()
    )]
    NoMap { dir: PathBuf },
    #[error("{0}")]
    Map(ImportError),
    #[error("migration set {}: {source}", dir.display())]
    Set { dir: PathBuf, source: Box<Error> },
    #[error(
        "no table {table} in the connection's default schema: if {tool} keeps its table under \
         another name or in another schema, name it with `braid adopt --db {database} \
         --table [SCHEMA.]TABLE`. Only a database {tool} never migrated at all is brought up \
         to date with `braid upgrade` instead (on one it migrated, that would run every \
         migration again)"
    )]
    NoSourceTable {
        database: String,
        tool: Tool,
        table: String,
    },
    #[error("reading {table}: {source}")]
    Read { table: String, source: DriverError },
    #[error(
        "row {row} of {table} has no version Braid can read (NULL, or not text or a number); \
         correct it, then adopt again"
    )]
    Undecodable { table: String, row: usize },
    #[error("{source}")]
    Source { source: AdoptError },
    #[error(
        "Braid's version store already records {recorded}, not what {tool} ran ({planned}); \
         adopt a database only once, before Braid migrates it"
    )]
    StoreNotEmpty {
        tool: Tool,
        recorded: String,
        planned: String,
    },
    #[error("{error}")]
    Run { error: String },
}

impl Project {
    /// Reads `request.source` as `request.tool` lays out its migrations and writes the history
    /// as Braid revisions into the migration set of `databases` (the only set when empty),
    /// which must hold no revisions yet. Alembic's SQL is rendered for the dialects asked for,
    /// else for those of the databases using the set.
    pub fn import(
        &self,
        request: &ImportRequest,
        databases: &[String],
    ) -> Result<ImportReport, Error> {
        let dir = self.set_dir(databases)?;
        let mut options = request.options.clone();
        if request.tool == Tool::Alembic && options.alembic.dialects.is_empty() {
            // Alembic's SQL is rendered for the dialects this set runs on (every dialect when
            // there is no config).
            options.alembic.dialects = self.dialects(databases)?;
        }
        let history = braid_import::read(request.tool, &request.source, &options)
            .map_err(ImportFailure::from)?;
        let written = braid_import::write(&history, &dir, jiff::Timestamp::now())
            .map_err(ImportFailure::from)?;
        let warnings = crate::heads_file::refresh_after_writing(&dir)
            .into_iter()
            .collect();
        Ok(ImportReport {
            dir,
            written,
            skipped: history.skipped,
            warnings,
        })
    }

    /// The dialects of the configured databases that use the migration set of `databases`
    /// (the only set when empty): what an import renders Alembic's SQL for. Empty without a
    /// config.
    pub fn dialects(&self, databases: &[String]) -> Result<Vec<Dialect>, Error> {
        if self.config_if_any().is_none() {
            return Ok(Vec::new());
        }
        let dir = self.set_dir(databases)?;
        Ok(self
            .lint_targets(databases)?
            .into_iter()
            .filter(|t| t.dir == dir)
            .flat_map(|t| t.dialects)
            .collect())
    }

    /// For each selected database: reads the source tool's version table, maps it to the
    /// imported revisions ([`MAP_FILE`] of its migration set) and records them in Braid's
    /// store with `stamp`. A database that cannot be adopted is reported and does not stop the
    /// others.
    pub fn adopt(
        &self,
        settings: &RunSettings,
        request: &AdoptRequest,
        events: EventSink<'_>,
    ) -> Result<Vec<Adoption>, Error> {
        let selected = self.selection(settings)?;
        let mut adoptions = Vec::with_capacity(selected.len());
        for db in &selected {
            let outcome = match self.adopt_one(settings, request, db, events) {
                Ok(outcome) => outcome,
                Err(refusal) => AdoptOutcome::Failed {
                    error: refusal.to_string(),
                },
            };
            adoptions.push(Adoption {
                database: db.name.to_string(),
                outcome,
            });
        }
        Ok(adoptions)
    }

    fn adopt_one(
        &self,
        settings: &RunSettings,
        request: &AdoptRequest,
        db: &Database<'_>,
        events: EventSink<'_>,
    ) -> Result<AdoptOutcome, Box<Refusal>> {
        let dir = self.dir_of(db);
        let map = ImportMap::read(&dir)
            .map_err(Refusal::Map)?
            .ok_or_else(|| Refusal::NoMap { dir: dir.clone() })?;
        let set = |source: Error| Refusal::Set {
            dir: dir.clone(),
            source: Box::new(source),
        };
        let graph = self.graph(&dir).map_err(set)?;
        let config = self.config().map_err(set)?;
        let dialect = crate::drivers::dialect_of(config, &db.config).map_err(set)?;
        let table = request
            .table
            .clone()
            .unwrap_or_else(|| map.tool.version_table().to_string());
        let rows = self.source_rows(db, map.tool, &table, dialect)?;
        let up_sql = |id: &str| up_sql(&graph, id, dialect);
        let plan = braid_import::adopt(&map, &graph, &rows, &up_sql)
            .map_err(|source| Refusal::Source { source })?;
        let one = RunSettings {
            databases: vec![db.name.to_string()],
            ..settings.clone()
        };
        let recorded = self.recorded(&one, events)?;
        if !recorded.is_empty() {
            let planned: Applied = plan.applied.iter().cloned().collect();
            if recorded == planned {
                return Ok(AdoptOutcome::AlreadyAdopted { plan });
            }
            return Err(Refusal::StoreNotEmpty {
                tool: map.tool,
                recorded: list(recorded.iter()),
                planned: list(plan.applied.iter()),
            }
            .into());
        }
        if request.dry_run {
            return Ok(AdoptOutcome::Planned { plan });
        }
        if plan.stamp.is_empty() {
            // The tool ran nothing here: Braid's empty store already says so.
            return Ok(AdoptOutcome::Adopted { plan });
        }
        let op = Operation::Stamp {
            targets: plan.stamp.clone(),
            purge: false,
        };
        let result = self
            .run(&one, &op, events)
            .map_err(|e| Refusal::Run {
                error: e.to_string(),
            })?
            .pop();
        match result {
            Some(r) if r.status == DbStatus::Ok => Ok(AdoptOutcome::Adopted { plan }),
            Some(r) => Err(Refusal::Run {
                error: r.error.unwrap_or_else(|| "stamp failed".to_string()),
            }
            .into()),
            None => Err(Refusal::Run {
                error: "stamp reported nothing".to_string(),
            }
            .into()),
        }
    }

    /// What Braid's store of `db` records (read without the lock, as `current` reads it).
    fn recorded(&self, one: &RunSettings, events: EventSink<'_>) -> Result<Applied, Box<Refusal>> {
        let run_error = |error: String| Refusal::Run { error };
        let result = self
            .run(one, &Operation::Current, events)
            .map_err(|e| run_error(e.to_string()))?
            .pop()
            .ok_or_else(|| run_error("`current` reported nothing".to_string()))?;
        if result.status != DbStatus::Ok {
            return Err(run_error(
                result
                    .error
                    .unwrap_or_else(|| "cannot read the version store".to_string()),
            )
            .into());
        }
        Ok(result
            .rows
            .iter()
            .flatten()
            .map(|row| row.revision.clone())
            .collect())
    }

    /// The rows of the tool's version table (`table`) in `db`, read on a connection of its own.
    /// An unqualified table must be in the connection's default schema; one named
    /// `schema.table` is read where it is.
    fn source_rows(
        &self,
        db: &Database<'_>,
        tool: Tool,
        table: &str,
        dialect: Dialect,
    ) -> Result<Vec<SourceRow>, Box<Refusal>> {
        let read = |source: DriverError| Refusal::Read {
            table: table.to_string(),
            source,
        };
        let internal = |message: String| read(DriverError::new(ErrorKind::Internal, message));
        let config = self.config().map_err(|source| Refusal::Set {
            dir: self.dir_of(db),
            source: Box::new(source),
        })?;
        let url = db
            .config
            .connection_url()
            .map_err(|e| read(DriverError::new(ErrorKind::Url, e.to_string())))?;
        let source = config
            .driver_source(&db.config)
            .map_err(|e| read(DriverError::new(ErrorKind::Url, e.to_string())))?;
        let root = self.root().to_path_buf();
        let sql = braid_import::version_query(tool, dialect, table);
        let qualified = table.contains('.');
        let work = async move {
            let mut driver = crate::drivers::open(&source, &url, Access::ReadOnly, &root).await?;
            let found = qualified
                || driver
                    .introspect_within(&Scope::named([table]))
                    .await?
                    .tables
                    .iter()
                    .any(|t| t.name.eq_ignore_ascii_case(table));
            let rows = match found {
                true => Some(driver.query(&sql, &[]).await?.rows),
                false => None,
            };
            let _ = driver.close().await;
            Ok::<_, DriverError>(rows)
        };
        let rows = braid_runner::on_a_worker(work)
            .map_err(|e| internal(e.to_string()))?
            .map_err(read)?
            .ok_or_else(|| Refusal::NoSourceTable {
                database: db.name.to_string(),
                tool,
                table: table.to_string(),
            })?;
        // A row that cannot be read is refused, never skipped: skipping it would leave a
        // migration that ran to run again.
        rows.iter()
            .enumerate()
            .map(|(i, row)| {
                SourceRow::decode(tool, row).ok_or_else(|| {
                    Box::new(Refusal::Undecodable {
                        table: table.to_string(),
                        row: i + 1,
                    })
                })
            })
            .collect()
    }
}

/// The upgrade SQL of revision `id` on `dialect`, for the source tools' checksums.
fn up_sql(graph: &Graph, id: &str, dialect: Dialect) -> Result<String, String> {
    let rev = graph
        .get(id)
        .ok_or_else(|| format!("revision {id} is in {MAP_FILE} but not in the migrations"))?;
    braid_source::sql(rev, Direction::Up, dialect)
        .map(|s| s.text)
        .map_err(|e| e.to_string())
}

fn list<'a>(ids: impl Iterator<Item = &'a String>) -> String {
    let ids: Vec<&str> = ids.map(String::as_str).collect();
    if ids.is_empty() {
        "nothing".to_string()
    } else {
        ids.join(", ")
    }
}

/// Where `import` writes, for messages: `dir` relative to `root` when inside it.
pub fn shown(dir: &Path, root: &Path) -> String {
    dir.strip_prefix(root).unwrap_or(dir).display().to_string()
}
