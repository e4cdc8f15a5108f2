//! Autogenerate: the migration that brings the schema the migrations produce to the schema a
//! project's sea-orm entities describe (`generate --autogenerate`), and the CI gate that fails
//! when the two disagree (`check --models`).
//!
//! # How the two schemas are made
//!
//! For each backend of the set — grouped as `verify` groups them — two scratch databases are
//! made on the configured server (SQLite: temporary files) and dropped afterwards:
//!
//! * **the migrations' schema**: every revision upgraded from base to the heads (with `--db
//!   NAME`, or [`CompareRequest::live`], the named database's schema is read instead, and
//!   nothing is written to it; it must be at the heads, since the new revision goes on top of
//!   them);
//! * **the entities' schema**: the `CREATE TYPE` (Postgres enums), `CREATE TABLE` and `CREATE
//!   INDEX` statements sea-orm itself renders for the entities on that backend
//!   (`Schema::create_table_from_entity` and its siblings).
//!
//! Both are read by the driver's introspection, so they are compared in the backend's own
//! spelling ([`compare`](Change) says how objects are matched). Nothing is guessed from
//! entity attributes, and a migration is judged by what it does, not how it is written.
//!
//! # What is written
//!
//! Only the migration set the request names (or the project's only one) is compared: the
//! entities describe one application. The changes of every backend, joined (the same change
//! seen on two backends is one; a dropped object is each backend's own, by its name), as one
//! Rust revision with `SchemaManager` calls: renames, dropped foreign keys, new tables, new
//! columns, changed columns, dropped indexes, new indexes, new foreign keys, dropped columns,
//! dropped tables — and `down` undoing each in reverse order. A change only some backends see
//! runs only there. Above a statement `lint` will warn about, the file names the rule and what
//! to do instead. What autogenerate cannot know or say is never guessed:
//!
//! * **A rename looks like a drop and an add.** A table or column is never dropped without
//!   `allow_drop` (`--allow-drop`); the drop is reported as withheld, with the way to say it
//!   was a rename (`--rename OLD=NEW`, `--rename TABLE.OLD=NEW`).
//! * **Blind spots are printed and written as comments**: a type with no portable spelling, a
//!   change SQLite cannot make in place (a column's type affinity, nullability or default, a
//!   foreign key of an existing table, a UNIQUE constraint or a keyed column dropped), a NOT
//!   NULL column added without a default, an identity gained or lost.
//! * **Never written**: a different primary key, and the drop of an index entities cannot
//!   declare (partial, on an expression, with INCLUDE or a method); both are reported.
//!
//! No revision is written when there is nothing to write.

mod compare;
#[cfg(feature = "rust")]
mod render;
#[cfg(feature = "rust")]
mod replay;

use std::str::FromStr;

use braid_driver::Dialect;
use serde::Serialize;

pub use compare::{Change, compare};

use crate::verify::report::BackendError;
use crate::{Error, GenerateRequest, Project, Written};

/// The sea-orm entities compiled into this binary (feature `rust`; empty otherwise), handed to
/// the command line by a workspace's xtask:
///
/// ```ignore
/// let models = braid::Models::new().entity(users::Entity).entity(user_preferences::Entity);
/// braid_cli::run_xtask(&braid_cli::FrontEnd::xtask(braid::rust_revisions!()).with_models(models))
/// ```
#[derive(Debug, Clone, Default)]
pub struct Models {
    #[cfg(feature = "rust")]
    inner: braid_seaorm::Models,
}

impl Models {
    pub fn new() -> Self {
        Models::default()
    }

    /// Adds an entity: its `Entity` type (`users::Entity`).
    #[cfg(feature = "rust")]
    pub fn entity<E: braid_seaorm::sea_orm::EntityTrait>(mut self, entity: E) -> Self {
        self.inner = self.inner.entity(entity);
        self
    }

    pub fn len(&self) -> usize {
        #[cfg(feature = "rust")]
        return self.inner.len();
        #[cfg(not(feature = "rust"))]
        0
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A rename the comparison cannot see: `--rename OLD=NEW` (a table) or `--rename
/// TABLE.OLD=NEW` (a column of the table, under its new name if it is renamed too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Rename {
    Table {
        from: String,
        to: String,
    },
    Column {
        table: String,
        from: String,
        to: String,
    },
}

impl FromStr for Rename {
    type Err = ModelsError;

    fn from_str(s: &str) -> Result<Self, ModelsError> {
        let bad = || ModelsError::RenameSyntax(s.to_string());
        let (old, new) = s.split_once('=').ok_or_else(bad)?;
        let (old, new) = (old.trim(), new.trim());
        let name = |n: &str| !n.is_empty() && !n.contains(['.', '=', ' ']);
        match old.split_once('.') {
            None if name(old) && name(new) => Ok(Rename::Table {
                from: old.to_string(),
                to: new.to_string(),
            }),
            Some((table, from)) => {
                // `t.a=b` or `t.a=t.b`.
                let to = match new.split_once('.') {
                    Some((t, to)) if t == table => to,
                    Some(_) => return Err(bad()),
                    None => new,
                };
                if name(table) && name(from) && name(to) {
                    Ok(Rename::Column {
                        table: table.to_string(),
                        from: from.to_string(),
                        to: to.to_string(),
                    })
                } else {
                    Err(bad())
                }
            }
            None => Err(bad()),
        }
    }
}

/// A request's rename hints, read both ways: the comparison follows a migrations' name to the
/// entities' one, the writing an entities' name back to the migrations' one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Renames<'a>(pub &'a [Rename]);

impl<'a> Renames<'a> {
    /// The migrations' name of the table the entities call `new`, when a hint renames it.
    pub fn old_table(self, new: &str) -> Option<&'a str> {
        self.0.iter().find_map(|r| match r {
            Rename::Table { from, to } if to == new => Some(from.as_str()),
            _ => None,
        })
    }

    /// The entities' name of the migrations' table `old`.
    pub fn new_table(self, old: &str) -> String {
        self.0
            .iter()
            .find_map(|r| match r {
                Rename::Table { from, to } if from == old => Some(to.clone()),
                _ => None,
            })
            .unwrap_or_else(|| old.to_string())
    }

    /// The migrations' name of the column the entities call `table.new`, when a hint renames
    /// it (`table` is the entities' name).
    pub fn old_column(self, table: &str, new: &str) -> Option<&'a str> {
        self.0.iter().find_map(|r| match r {
            Rename::Column { table: t, from, to } if t == table && to == new => Some(from.as_str()),
            _ => None,
        })
    }

    /// The entities' names of the migrations' `columns` of `table` (the entities' name).
    pub fn new_columns(self, table: &str, columns: &[String]) -> Vec<String> {
        columns
            .iter()
            .map(|c| {
                self.0
                    .iter()
                    .find_map(|r| match r {
                        Rename::Column { table: t, from, to } if t == table && from == c => {
                            Some(to.clone())
                        }
                        _ => None,
                    })
                    .unwrap_or_else(|| c.clone())
            })
            .collect()
    }
}

/// Why a comparison could not start or autogenerate could not write.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error(
        "no sea-orm entities are compiled into this binary: the command runs in a binary that \
         registers them (a workspace's xtask: `FrontEnd::xtask(…).with_models(braid::Models::new()\
         .entity(users::Entity))`, with braid's `rust` feature); the standalone `braid` has none"
    )]
    NoEntities,
    #[error("invalid --rename `{0}`: expected OLD=NEW (a table) or TABLE.OLD=NEW (a column)")]
    RenameSyntax(String),
    /// `--db NAME`'s version store could not be read.
    #[error("database `{database}`: cannot read which revisions it has: {error}")]
    Unreadable { database: String, error: String },
    /// `--db NAME` is not at the heads.
    #[error(
        "database `{database}` is not at the heads ({} to apply: {}): compare with it once it is \
         (`braid upgrade`), or leave out --db to compare with the migrations replayed",
        pending.len(),
        pending.join(", ")
    )]
    NotAtHeads {
        database: String,
        pending: Vec<String>,
    },
    /// Backends whose schemas could not be made or read: nothing was written.
    #[error(
        "{}",
        .0.iter().map(|(backend, e)| format!("{backend}: {e}")).collect::<Vec<_>>().join("\n")
    )]
    Backends(Vec<(String, BackendError)>),
    /// A `--rename` hint that names no table or column the comparison found.
    #[error("{0}; nothing was written (check the names: a mistyped hint would let a drop through)")]
    UnmatchedRename(String),
    /// The entities are compared with one migration set, and the project has several.
    #[error(
        "the entities are compared with one migration set, and this project has {}: {}; choose \
         it with --migrations DIR (or with --db NAME, a database of that set: for `generate \
         --autogenerate` that compares with the database itself)",
        sets.len(),
        sets.iter().map(|s| s.display().to_string()).collect::<Vec<_>>().join(", ")
    )]
    SeveralSets { sets: Vec<std::path::PathBuf> },
}

impl From<ModelsError> for Error {
    fn from(e: ModelsError) -> Self {
        Error::Models(Box::new(e))
    }
}

/// What to compare.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CompareRequest {
    /// Database names; empty for every configured database of the set.
    pub databases: Vec<String>,
    /// Read the named databases' schemas instead of replaying the migrations on scratch
    /// databases (the command line's `--db NAME`).
    pub live: bool,
    pub renames: Vec<Rename>,
    /// Another server for the scratch databases, as `verify --url`.
    pub url: Option<String>,
    /// How many backends at once; the config's `jobs` when `None`.
    pub jobs: Option<usize>,
}

/// `url` redacted: a request may be logged.
impl std::fmt::Debug for CompareRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompareRequest")
            .field("databases", &self.databases)
            .field("live", &self.live)
            .field("renames", &self.renames)
            .field("url", &self.url.as_deref().map(braid_driver::redact_url))
            .field("jobs", &self.jobs)
            .finish()
    }
}

/// What `generate --autogenerate` is asked to write.
#[derive(Debug, Clone)]
pub struct AutogenerateRequest {
    pub compare: CompareRequest,
    /// Write drops of tables and columns the entities no longer have.
    pub allow_drop: bool,
    /// The new revision (message, parents, labels); its body is always Rust.
    pub revision: GenerateRequest,
}

/// One backend's comparison.
#[derive(Debug, Serialize)]
pub struct BackendComparison {
    pub backend: String,
    pub dialect: Dialect,
    /// `scratch` (the migrations replayed) or `live` (a configured database read).
    pub against: &'static str,
    pub changes: Vec<Change>,
    #[serde(serialize_with = "crate::verify::report::optional_message")]
    pub error: Option<BackendError>,
}

/// The comparison of every backend: `check --models`.
#[derive(Debug, Serialize)]
pub struct Comparison {
    pub backends: Vec<BackendComparison>,
}

impl Comparison {
    /// Every backend compared, and no difference.
    pub fn agrees(&self) -> bool {
        self.backends
            .iter()
            .all(|b| b.error.is_none() && b.changes.is_empty())
    }

    /// Whether a backend could not be compared (an error, not a difference).
    pub fn failed(&self) -> bool {
        self.backends.iter().any(|b| b.error.is_some())
    }
}

/// `(mysql, postgres only)` when `on` is not every backend of `all`: how a change meant for
/// some backends is said, in the command's output and in the file.
pub fn only_on(on: &[Dialect], all: usize) -> Option<String> {
    (on.len() != all).then(|| {
        let names: Vec<String> = on.iter().map(|d| d.to_string()).collect();
        format!("({} only)", names.join(", "))
    })
}

/// One change the new migration makes.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    #[serde(flatten)]
    pub change: Change,
    /// The backends it runs on (every backend compared, unless the others do not need it).
    pub backends: Vec<Dialect>,
    #[cfg(feature = "rust")]
    #[serde(skip)]
    text: render::Text,
}

/// A change found but not written, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Withheld {
    #[serde(flatten)]
    pub change: Change,
    pub backends: Vec<Dialect>,
    pub reason: String,
}

/// What `generate --autogenerate` did.
#[derive(Debug, Serialize)]
pub struct Autogenerated {
    pub comparison: Comparison,
    /// The changes written, in the order `up` makes them.
    pub steps: Vec<Step>,
    pub withheld: Vec<Withheld>,
    /// What the migration cannot say (also written in it as comments).
    pub notes: Vec<String>,
    /// The revision written; `None` when there was nothing to write. (Front ends print it as
    /// `generate` prints a revision.)
    #[serde(skip)]
    pub written: Option<Written>,
}

impl Project {
    /// Compares the migrations with the entities on every backend of the set (see the
    /// [module docs](crate::models)). Blocks until every backend is done.
    pub fn compare_models(
        &self,
        models: &Models,
        request: &CompareRequest,
    ) -> Result<Comparison, Error> {
        #[cfg(feature = "rust")]
        return self
            .migration_set(&models.inner, &request.databases)
            .and_then(|(dir, graph)| self.compare_entities(&models.inner, request, &dir, &graph))
            .map(|(c, _)| c);
        #[cfg(not(feature = "rust"))]
        {
            let _ = (models, request);
            Err(ModelsError::NoEntities.into())
        }
    }

    /// Writes a Rust revision that brings the migrations' schema to the entities' (see the
    /// [module docs](crate::models)). A backend that cannot be compared is an error, and
    /// nothing is written.
    pub fn autogenerate(
        &self,
        models: &Models,
        request: &AutogenerateRequest,
    ) -> Result<Autogenerated, Error> {
        #[cfg(feature = "rust")]
        return self.autogenerate_entities(&models.inner, request);
        #[cfg(not(feature = "rust"))]
        {
            let _ = (models, request);
            Err(ModelsError::NoEntities.into())
        }
    }
}

#[cfg(feature = "rust")]
mod run {
    use std::path::{Path, PathBuf};

    use braid_driver::{Dialect, Schema};
    use braid_graph::Graph;

    use super::render::{self, Sources};
    use super::replay::{self, Current};
    use super::*;
    use crate::verify::backends::{self, Backend};

    /// Each backend's snapshots: what the migrations produce, what the entities produce.
    pub(super) struct Snapshots {
        pub current: Vec<(Dialect, Schema)>,
        pub desired: Vec<(Dialect, Schema)>,
    }

    impl Project {
        /// The one migration set the entities are compared with, and its graph, resolved
        /// before any scratch database is made (the entities describe one application).
        pub(super) fn migration_set(
            &self,
            models: &braid_seaorm::Models,
            databases: &[String],
        ) -> Result<(PathBuf, Graph), Error> {
            if models.is_empty() {
                return Err(ModelsError::NoEntities.into());
            }
            let dir = self.set_dir(databases).map_err(one_set)?;
            let graph = self.graph_or_empty(&dir)?;
            Ok((dir, graph))
        }

        pub(super) fn compare_entities(
            &self,
            models: &braid_seaorm::Models,
            request: &CompareRequest,
            dir: &Path,
            graph: &Graph,
        ) -> Result<(Comparison, Snapshots), Error> {
            let config = self.config()?;
            let work = if request.live {
                self.live_backends(config, dir, graph, request)?
            } else {
                let selected: Vec<_> = self
                    .representatives(&request.databases)?
                    .into_iter()
                    .filter(|db| self.dir_of(db) == dir)
                    .collect();
                backends::group(self, config, &selected, request.url.as_deref())?
                    .into_iter()
                    .map(|backend| (backend, None))
                    .collect()
            };
            let bodies = self.rust().bodies();
            let cx = replay::Context {
                bodies: &bodies,
                lock_timeout: config.lock_timeout(),
                root: self.root(),
            };
            let results = braid_runner::on_workers(
                work.iter().collect(),
                request.jobs.unwrap_or(config.jobs),
                |(backend, live): &(Backend, Option<String>), worker| {
                    let graph = match backend.graph(graph) {
                        Ok(graph) => graph,
                        Err(e) => return Err(Box::new(e)),
                    };
                    let current = match live {
                        Some(url) => Current::Live { url },
                        None => Current::Replay { graph: &graph },
                    };
                    let statements = models.statements(braid_seaorm::backend_of(backend.dialect));
                    Ok(replay::snapshots(
                        worker,
                        &cx,
                        backend,
                        &current,
                        &statements,
                    ))
                },
            );
            let mut comparison = Comparison {
                backends: Vec::new(),
            };
            let mut snapshots = Snapshots {
                current: Vec::new(),
                desired: Vec::new(),
            };
            for ((backend, live), result) in work.iter().zip(results) {
                let mut report = BackendComparison {
                    backend: backend.name.clone(),
                    dialect: backend.dialect,
                    against: if live.is_some() { "live" } else { "scratch" },
                    changes: Vec::new(),
                    error: None,
                };
                match result {
                    Err(e) => report.error = Some(BackendError::Worker(e)),
                    Ok(Err(e)) => return Err(*e),
                    Ok(Ok(Err(e))) => report.error = Some(*e),
                    Ok(Ok(Ok((have, want)))) => {
                        report.changes = compare(backend.dialect, &have, &want, &request.renames);
                        snapshots.current.push((backend.dialect, have));
                        snapshots.desired.push((backend.dialect, want));
                    }
                }
                comparison.backends.push(report);
            }
            Ok((comparison, snapshots))
        }

        /// `--db NAME`: each named database (a tenant too) is a backend of its own, read as it
        /// is. It must be at the heads: the new revision goes on top of them, so a change of a
        /// revision not yet applied there would be written twice.
        fn live_backends(
            &self,
            config: &braid_config::Config,
            dir: &std::path::Path,
            graph: &Graph,
            request: &CompareRequest,
        ) -> Result<Vec<(Backend, Option<String>)>, Error> {
            let names = &request.databases;
            let applied = self.applied_sets(
                &crate::RunSettings {
                    databases: names.clone(),
                    ..crate::RunSettings::default()
                },
                dir,
                &braid_runner::no_events,
            )?;
            if let Some((database, error)) = applied.unreadable.into_iter().next() {
                return Err(ModelsError::Unreadable { database, error }.into());
            }
            let mut work = Vec::new();
            for db in self.selected(names)? {
                let url = db.config.connection_url()?;
                // `--url` makes the entities' scratch database elsewhere, as without `--db`.
                let one = backends::group(
                    self,
                    config,
                    std::slice::from_ref(&db),
                    request.url.as_deref(),
                )?;
                for backend in one {
                    // Its own branches: a database that receives some branches is at its heads.
                    let graph = backend.graph(graph)?;
                    let pending: Vec<String> = applied
                        .read
                        .iter()
                        .filter(|(name, _)| *name == db.name)
                        .map(|(_, applied)| graph.plan_upgrade(applied, "heads"))
                        .collect::<Result<Vec<_>, _>>()?
                        .iter()
                        .flat_map(|plan| plan.steps.iter().map(|s| s.revision.id.clone()))
                        .collect();
                    if !pending.is_empty() {
                        return Err(ModelsError::NotAtHeads {
                            database: db.name.to_string(),
                            pending,
                        }
                        .into());
                    }
                    work.push((backend, Some(url.clone())));
                }
            }
            Ok(work)
        }

        pub(super) fn autogenerate_entities(
            &self,
            models: &braid_seaorm::Models,
            request: &AutogenerateRequest,
        ) -> Result<Autogenerated, Error> {
            let (dir, graph) = self.migration_set(models, &request.compare.databases)?;
            // The new revision's options are checked before the slow part.
            let new = crate::authoring::new_revision(&graph, &request.revision)?;
            let (comparison, snapshots) =
                self.compare_entities(models, &request.compare, &dir, &graph)?;
            if comparison.failed() {
                let failures = comparison
                    .backends
                    .into_iter()
                    .filter_map(|b| b.error.map(|e| (b.backend, e)))
                    .collect();
                return Err(ModelsError::Backends(failures).into());
            }
            if let Some(hint) = unmatched_renames(&comparison, &request.compare.renames)
                .into_iter()
                .next()
            {
                // A mistyped hint would let the drop and the add it was meant to replace be
                // written.
                return Err(ModelsError::UnmatchedRename(hint).into());
            }
            let mut all: Vec<Dialect> = snapshots.current.iter().map(|(d, _)| *d).collect();
            all.sort();
            all.dedup();
            // MySQL's rendering keeps every portable type (sea-orm makes a Postgres enum a
            // custom type); the column text is the same for the others.
            let model = models.tables(braid_seaorm::sea_orm::DbBackend::MySql);
            let sources = Sources {
                model: &model,
                current: &snapshots.current,
                desired: &snapshots.desired,
                renames: &request.compare.renames,
            };
            let (steps, withheld, notes) = plan(&comparison, &sources, request.allow_drop);
            let written = if steps.is_empty() {
                None
            } else {
                let files = write_autogenerated(&dir, &new, &steps, &withheld, &notes, &all)?;
                let written = Written {
                    files,
                    revision: new.id,
                    parents: new.parents,
                    body: crate::BodyKind::Rust,
                    overlaps: None,
                    warnings: crate::heads_file::refresh_after_writing(&dir)
                        .into_iter()
                        .collect(),
                };
                Some(written)
            };
            Ok(Autogenerated {
                comparison,
                steps,
                withheld,
                notes,
                written,
            })
        }
    }

    /// `Several sets` said for the entities, whose comparison is with one set.
    fn one_set(error: Error) -> Error {
        match error {
            Error::SeveralSets { sets } => ModelsError::SeveralSets {
                sets: sets.into_iter().map(|s| s.dir).collect(),
            }
            .into(),
            other => other,
        }
    }

    /// Writes the revision `new` with `steps` into `dir`; its files.
    fn write_autogenerated(
        dir: &std::path::Path,
        new: &braid_source::NewRevision,
        steps: &[Step],
        withheld: &[Withheld],
        notes: &[String],
        all: &[Dialect],
    ) -> Result<Vec<std::path::PathBuf>, Error> {
        let header = header(steps, withheld, notes, all.len());
        let source = render::migration(&new.id, &new.message, steps, all, &header);
        let body = braid_source::NewBody::Rust {
            source: crate::authoring::formatted(source),
            beside: Vec::new(),
        };
        Ok(braid_source::write_revision_with(dir, new, &body)?.files)
    }

    /// The order `up` makes changes in: renames, then dropped foreign keys (before the columns
    /// they use change), then what others depend on (tables, columns), dropped indexes before
    /// the indexes that replace them (their names may be the same), new foreign keys, and what
    /// loses data last.
    fn rank(change: &Change) -> u8 {
        match change {
            Change::RenameTable { .. } => 0,
            // Before a new table's foreign key names the column by its new name.
            Change::RenameColumn { .. } => 1,
            // Before a column it uses changes (MySQL refuses to change one a key uses).
            Change::DropForeignKey { .. } => 2,
            Change::CreateTable { .. } => 3,
            Change::AddColumn { .. } => 4,
            Change::AlterColumn { .. } => 5,
            Change::DropIndex { .. } => 6,
            Change::AddIndex { .. } => 7,
            Change::AddForeignKey { .. } => 8,
            Change::DropColumn { .. } => 9,
            Change::DropTable { .. } => 10,
            Change::PrimaryKey { .. } => 11,
        }
    }

    /// Why SQLite cannot make `change` in place, if it cannot (`current`: SQLite's snapshot of
    /// the migrations' schema).
    fn sqlite_cannot(change: &Change, current: Option<&Schema>) -> Option<&'static str> {
        match change {
            Change::AlterColumn { .. } => Some("SQLite cannot change a column in place"),
            Change::AddForeignKey { .. } | Change::DropForeignKey { .. } => {
                Some("SQLite cannot add or drop a foreign key of an existing table")
            }
            Change::DropIndex {
                constraint: true, ..
            } => Some("SQLite cannot drop a UNIQUE constraint in place"),
            Change::DropColumn { table, column } => {
                let table = current?.tables.iter().find(|t| t.name == *table)?;
                // A UNIQUE index is dropped before the column; a UNIQUE constraint cannot be.
                let keyed = table
                    .foreign_keys
                    .iter()
                    .any(|fk| fk.columns.contains(column))
                    || table
                        .indexes
                        .iter()
                        .any(|i| i.constraint && i.columns.contains(column))
                    || table
                        .primary_key
                        .as_ref()
                        .is_some_and(|k| k.columns.contains(column));
                keyed.then_some(
                    "SQLite cannot drop a column that is in a key, a foreign key or a UNIQUE \
                     constraint",
                )
            }
            _ => None,
        }
    }

    /// `--rename` hints that name nothing the comparison found, said rather than ignored.
    fn unmatched_renames(comparison: &Comparison, renames: &[Rename]) -> Vec<String> {
        renames
            .iter()
            .filter(|r| {
                !comparison
                    .backends
                    .iter()
                    .flat_map(|b| &b.changes)
                    .any(|c| match (r, c) {
                        (Rename::Table { from, to }, Change::RenameTable { from: f, to: t }) => {
                            from == f && to == t
                        }
                        (
                            Rename::Column { table, from, to },
                            Change::RenameColumn {
                                table: tt,
                                from: f,
                                to: t,
                            },
                        ) => table == tt && from == f && to == t,
                        _ => false,
                    })
            })
            .map(|r| match r {
                Rename::Table { from, to } => format!(
                    "--rename {from}={to} matched nothing: the migrations have no table `{from}` \
                     the entities lack, or the entities have no new table `{to}`"
                ),
                Rename::Column { table, from, to } => format!(
                    "--rename {table}.{from}={to} matched nothing: `{table}` has no column \
                     `{from}` the entities lack, or no new column `{to}`"
                ),
            })
            .collect()
    }

    /// The changes of every backend joined, ordered and written as text; the drops withheld;
    /// the notes.
    fn plan(
        comparison: &Comparison,
        sources: &Sources<'_>,
        allow_drop: bool,
    ) -> (Vec<Step>, Vec<Withheld>, Vec<String>) {
        let mut joined: Vec<(Change, Vec<Dialect>)> = Vec::new();
        for backend in &comparison.backends {
            for change in &backend.changes {
                match joined.iter_mut().find(|(c, _)| c.key() == change.key()) {
                    // Two databases of one dialect (two servers, a set's tenants) are one
                    // backend to write for.
                    Some((_, on)) if on.contains(&backend.dialect) => {}
                    Some((_, on)) => on.push(backend.dialect),
                    None => joined.push((change.clone(), vec![backend.dialect])),
                }
            }
        }
        // A new table's own indexes come with it (the comparison saw only that it is new).
        let created: Vec<(Change, Vec<Dialect>)> = joined
            .iter()
            .filter(|(c, _)| matches!(c, Change::CreateTable { .. }))
            .flat_map(|(c, on)| {
                let model = sources.model.iter().find(|t| t.name == c.table());
                model
                    .into_iter()
                    .flat_map(|t| t.indexes.iter())
                    .map(|i| {
                        let index = Change::AddIndex {
                            table: c.table().to_string(),
                            columns: i.get_index_spec().get_column_names(),
                            unique: i.is_unique_key(),
                        };
                        (index, on.clone())
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let new_tables: Vec<String> = created.iter().map(|(c, _)| c.table().to_string()).collect();
        let new_tables: Vec<&str> = new_tables.iter().map(String::as_str).collect();
        joined.extend(created);
        // New tables first in the entities' order (a table after those it references);
        // dropped tables last, in reverse.
        let position = |c: &Change| {
            sources
                .model
                .iter()
                .position(|t| t.name == c.table())
                .unwrap_or(usize::MAX)
        };
        joined.sort_by_key(|(c, _)| (rank(c), position(c)));
        let mut notes = Vec::new();
        let mut steps = Vec::new();
        let mut withheld = Vec::new();
        for (change, mut on) in joined {
            let sqlite = sources
                .current
                .iter()
                .find(|(d, _)| *d == Dialect::Sqlite)
                .map(|(_, s)| s);
            if let Some(why) = on
                .contains(&Dialect::Sqlite)
                .then(|| sqlite_cannot(&change, sqlite))
                .flatten()
            {
                notes.push(format!("{change}: {why} (rebuild the table by hand there)"));
                on.retain(|d| *d != Dialect::Sqlite);
            }
            let reason = if on.is_empty() {
                None
            } else if let Change::PrimaryKey { .. } = change {
                Some("a primary key is never changed by autogenerate: write it by hand".to_string())
            } else if let Change::DropIndex {
                expressible: false, ..
            } = change
            {
                Some(
                    "an index the entities cannot declare (partial, on an expression, with \
                     INCLUDE or an access method) is kept: drop it by hand if it must go"
                        .to_string(),
                )
            } else if change.destructive() && !allow_drop {
                Some(
                    "not written without --allow-drop: it loses data, and a rename looks the \
                     same (say `--rename OLD=NEW` or `--rename TABLE.OLD=NEW` if it is one)"
                        .to_string(),
                )
            } else {
                None
            };
            if on.is_empty() {
                continue;
            }
            if let Some(reason) = reason {
                withheld.push(Withheld {
                    change,
                    backends: on,
                    reason,
                });
                continue;
            }
            let mut text = render::text(&change, &on, sources);
            let on_new_table = new_tables.contains(&change.table());
            text.comments = lint_comments(&change, on_new_table);
            if let Change::AddIndex { .. } = &change
                && on_new_table
            {
                // Dropping the table drops it (and MySQL refuses to drop an index a foreign
                // key uses).
                text.down.clear();
            }
            notes.extend(text.notes.iter().cloned());
            if text.up.is_empty() {
                // Nothing to write (a note says why).
                continue;
            }
            steps.push(Step {
                change,
                backends: on,
                text,
            });
        }
        order_drops(&mut steps, sources);
        let mut seen = std::collections::BTreeSet::new();
        notes.retain(|n| seen.insert(n.clone()));
        (steps, withheld, notes)
    }

    /// What `lint` will report of `change` (its rules read the SQL the migration renders), as
    /// comment lines above it: whoever reads the migration meets the risk where the statement is.
    fn lint_comments(change: &Change, on_new_table: bool) -> Vec<String> {
        use braid_lint::Code;
        // `varchar(100) NOT NULL DEFAULT 0` → (`varchar(100)`, nullable).
        let parts = |shown: &str| match shown.find(" NOT NULL") {
            Some(i) => (shown[..i].to_string(), false),
            None => (
                shown.split(" NULL").next().unwrap_or(shown).to_string(),
                true,
            ),
        };
        let codes = match change {
            Change::DropTable { .. } => vec![Code::DropTable],
            Change::DropColumn { .. } => vec![Code::DropColumn],
            Change::RenameTable { .. } => vec![Code::RenameTable],
            Change::RenameColumn { .. } => vec![Code::RenameColumn],
            Change::AlterColumn { from, to, .. } => {
                let ((was, was_null), (now, now_null)) = (parts(from), parts(to));
                let mut codes = Vec::new();
                if was != now {
                    codes.push(Code::ChangeColumnType);
                }
                if was_null && !now_null {
                    codes.push(Code::SetNotNull);
                }
                codes
            }
            Change::AddIndex { .. } if !on_new_table => vec![Code::IndexWithoutConcurrently],
            Change::AddForeignKey { .. } => vec![Code::AddConstraint],
            _ => Vec::new(),
        };
        codes
            .into_iter()
            .flat_map(|code| {
                // The one rule here that is a single backend's.
                let only = match code {
                    Code::IndexWithoutConcurrently => ", postgres",
                    _ => "",
                };
                wrap(&format!(
                    "lint {code} ({}{only}): {}. Instead: {}.",
                    code.severity(),
                    code.title(),
                    code.instead()
                ))
            })
            .collect()
    }

    /// `text` as comment lines of at most about 90 characters.
    fn wrap(text: &str) -> Vec<String> {
        let mut lines = vec![String::from("//")];
        for word in text.split_whitespace() {
            let line = lines.last_mut().expect("one line at least");
            if line.len() + word.len() > 90 && line.len() > 2 {
                lines.push(format!("// {word}"));
            } else {
                line.push(' ');
                line.push_str(word);
            }
        }
        lines
    }

    /// Dropped tables (the last steps) in an order the backends accept: a table referenced by
    /// another dropped table after it.
    fn order_drops(steps: &mut [Step], sources: &Sources<'_>) {
        let first = steps
            .iter()
            .position(|s| matches!(s.change, Change::DropTable { .. }))
            .unwrap_or(steps.len());
        let drops = &mut steps[first..];
        let referenced_by = |table: &str, other: &str| {
            sources.current.iter().any(|(_, schema)| {
                schema.tables.iter().any(|t| {
                    t.name == other
                        && other != table
                        && t.foreign_keys.iter().any(|fk| fk.referenced_table == table)
                })
            })
        };
        for i in 0..drops.len() {
            // The first of the rest that no other of the rest references.
            let pick = (i..drops.len())
                .find(|&j| {
                    let table = drops[j].change.table();
                    !(i..drops.len())
                        .any(|k| k != j && referenced_by(table, drops[k].change.table()))
                })
                .unwrap_or(i);
            drops[i..=pick].rotate_right(1);
        }
    }

    /// The generated file's opening comment: what it does, what it left out, what it could not
    /// say.
    fn header(steps: &[Step], withheld: &[Withheld], notes: &[String], all: usize) -> Vec<String> {
        let mut lines = vec![
            "Written by `generate --autogenerate` from the sea-orm entities: review it before it"
                .to_string(),
            "ships (renames, data to carry, defaults for rows that exist).".to_string(),
            String::new(),
        ];
        lines.extend(steps.iter().map(|s| match only_on(&s.backends, all) {
            Some(only) => format!("{} {only}", s.change),
            None => s.change.to_string(),
        }));
        if !withheld.is_empty() {
            lines.push(String::new());
            lines.push("Not written:".to_string());
            lines.extend(
                withheld
                    .iter()
                    .map(|w| format!("{} — {}", w.change, w.reason)),
            );
        }
        if !notes.is_empty() {
            lines.push(String::new());
            lines.push("Notes:".to_string());
            lines.extend(notes.iter().map(|n| format!("- {n}")));
        }
        lines
    }
}
