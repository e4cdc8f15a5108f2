//! The compiled-in Rust migrations, and the runner's [`Bodies`] for graphs mixing SQL and Rust
//! revisions.

use std::collections::BTreeMap;
use std::sync::Arc;

use braid_driver::{Dialect, Driver, DriverError};
use braid_graph::{Body, Direction, Revision};
use braid_runner::bodies::{BoxFuture, CodeBody};
use braid_runner::{BackfillContext, Bodies, BodyError, Script, SourceBodies};
use sea_orm_migration::MigrationTrait;

/// One compiled-in migration.
#[derive(Clone)]
struct Entry {
    /// The source file as it was when this binary was built.
    path: &'static str,
    source: &'static str,
    migration: Arc<dyn MigrationTrait>,
}

/// Rust migrations by revision id. A build script generates the code that fills it
/// (`braid_build::rust_revisions`, then `braid::rust_revisions!()`); tests can build one by hand.
///
/// One id may have several entries: a monorepo's migration sets are separate graphs, and two of
/// them may use the same id. A revision runs the entry whose source is the file on disk.
#[derive(Clone, Default)]
pub struct Registry {
    entries: BTreeMap<String, Vec<Entry>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.entries.keys()).finish()
    }
}

impl Registry {
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers `migration` as the body of revision `id`. `path` and `source` are the source
    /// file and its text at build time (`include_str!`): a file edited since is refused with "rebuild".
    pub fn add(
        &mut self,
        id: &str,
        path: &'static str,
        source: &'static str,
        migration: Box<dyn MigrationTrait>,
    ) -> &mut Self {
        self.entries.entry(id.to_string()).or_default().push(Entry {
            path,
            source,
            migration: Arc::from(migration),
        });
        self
    }

    /// The migration registered for revision `id` (the first, if several sets share the id).
    pub fn get(&self, id: &str) -> Option<Arc<dyn MigrationTrait>> {
        self.entries
            .get(id)
            .and_then(|e| e.first())
            .map(|e| e.migration.clone())
    }

    /// The source text (at build time) of the migration registered for `id`.
    pub fn source(&self, id: &str) -> Option<&'static str> {
        self.entries
            .get(id)
            .and_then(|e| e.first())
            .map(|e| e.source)
    }

    /// Registered revision ids, sorted, each once.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// How many migrations are registered.
    pub fn len(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A Rust migration as the runner's [`CodeBody`].
#[derive(Clone)]
pub struct RustCode {
    revision: String,
    migration: Arc<dyn MigrationTrait>,
}

impl std::fmt::Debug for RustCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RustCode")
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

impl RustCode {
    pub fn new(revision: impl Into<String>, migration: Arc<dyn MigrationTrait>) -> Self {
        RustCode {
            revision: revision.into(),
            migration,
        }
    }
}

impl CodeBody for RustCode {
    fn run<'a>(
        &'a self,
        driver: &'a mut dyn Driver,
        direction: Direction,
        cx: &'a BackfillContext<'a>,
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(crate::bridge::run_migration_in(
            driver,
            &*self.migration,
            direction,
            &self.revision,
            cx,
        ))
    }

    fn render(&self, dialect: Dialect, direction: Direction) -> Result<String, BodyError> {
        crate::recorder::render_for(&*self.migration, dialect, direction, &self.revision)
            .map_err(|message| BodyError { message })
    }
}

/// The [`Bodies`] for a graph of SQL and Rust revisions: Rust revisions run their registered
/// migration, everything else goes to `fallback` (the SQL files).
///
/// The checksum of a Rust revision is [`braid_source::checksum`] of its source file on disk.
/// A Rust revision that this binary was built without, or whose file changed since the build,
/// is an error that says to rebuild.
#[derive(Debug, Clone)]
pub struct RustBodies<'a> {
    pub registry: &'a Registry,
    pub fallback: SourceBodies,
}

impl<'a> RustBodies<'a> {
    pub fn new(registry: &'a Registry) -> Self {
        RustBodies {
            registry,
            fallback: SourceBodies,
        }
    }
}

impl Bodies for RustBodies<'_> {
    fn script(
        &self,
        rev: &Revision,
        direction: Direction,
        dialect: Dialect,
    ) -> Result<Script, BodyError> {
        let Body::Rust { name, source } = &rev.body else {
            return self.fallback.script(rev, direction, dialect);
        };
        let err = |message: String| BodyError { message };
        let on_disk = braid_source::rust_source(rev).map_err(|e| err(e.to_string()))?;
        let entries = self.registry.entries.get(name).map(Vec::as_slice);
        let Some(built) = entries.and_then(|e| e.first()) else {
            return Err(err(format!(
                "{}: revision `{}` is a Rust migration that this binary was built without; \
                 compile its migrations directory in (`braid_build::rust_revisions` in the \
                 build script) and rebuild; a binary run with `cargo run`, as an xtask is, \
                 rebuilds by itself",
                source.display(),
                rev.id
            )));
        };
        let on_disk_sum = braid_source::checksum(&on_disk.text);
        let Some(entry) = entries
            .into_iter()
            .flatten()
            .find(|e| braid_source::checksum(e.source) == on_disk_sum)
        else {
            return Err(err(format!(
                "{}: revision `{}` changed since this binary was built (it was built from {}); \
                 rebuild so the migration that runs is the one on disk",
                source.display(),
                rev.id,
                built.path
            )));
        };
        Ok(Script::code(
            on_disk.path.display().to_string(),
            on_disk.text,
            Arc::new(RustCode::new(rev.id.clone(), entry.migration.clone())),
        ))
    }

    fn checksum(&self, rev: &Revision, script: &Script) -> String {
        self.fallback.checksum(rev, script)
    }

    /// The source file's checksum for a Rust revision (no need to have it compiled in), as
    /// [`SourceBodies`] computes it.
    fn current_checksum(
        &self,
        rev: &Revision,
        dialect: Dialect,
    ) -> Result<(String, String), BodyError> {
        self.fallback.current_checksum(rev, dialect)
    }
}
