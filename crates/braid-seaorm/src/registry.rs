//! The compiled-in Rust migrations, and the runner's [`Bodies`] for graphs mixing SQL and Rust
//! revisions.

use std::collections::BTreeMap;
use std::sync::Arc;

use braid_driver::{Dialect, Driver, DriverError};
use braid_graph::{Body, Direction, Revision};
use braid_runner::bodies::{BoxFuture, CodeBody};
use braid_runner::{Bodies, BodyError, Script, SourceBodies};
use sea_orm_migration::MigrationTrait;

/// One compiled-in migration.
#[derive(Clone)]
struct Entry {
    /// The source file as it was when this binary was built.
    path: &'static str,
    source: &'static str,
    migration: Arc<dyn MigrationTrait>,
}

/// Rust migrations by revision id. The migrations crate's build script generates the function
/// that fills it (`braid_migrations::registry()`); tests can build one by hand.
#[derive(Clone, Default)]
pub struct Registry {
    entries: BTreeMap<String, Entry>,
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
        self.entries.insert(
            id.to_string(),
            Entry {
                path,
                source,
                migration: Arc::from(migration),
            },
        );
        self
    }

    /// The migration registered for revision `id`.
    pub fn get(&self, id: &str) -> Option<Arc<dyn MigrationTrait>> {
        self.entries.get(id).map(|e| e.migration.clone())
    }

    /// Registered revision ids, sorted.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
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
    ) -> BoxFuture<'a, Result<(), DriverError>> {
        Box::pin(crate::bridge::run_migration(
            driver,
            &*self.migration,
            direction,
            &self.revision,
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
        let Some(entry) = self.registry.entries.get(name) else {
            return Err(err(format!(
                "{}: revision `{}` is a Rust migration that this binary was built without; \
                 rebuild (the migrations crate compiles every `rust = …` revision in; \
                 `cargo xtask …` rebuilds by itself)",
                source.display(),
                rev.id
            )));
        };
        if braid_source::checksum(entry.source) != braid_source::checksum(&on_disk.text) {
            return Err(err(format!(
                "{}: revision `{}` changed since this binary was built (it was built from {}); \
                 rebuild so the migration that runs is the one on disk",
                source.display(),
                rev.id,
                entry.path
            )));
        }
        Ok(Script::code(
            on_disk.path.display().to_string(),
            on_disk.text,
            Arc::new(RustCode::new(rev.id.clone(), entry.migration.clone())),
        ))
    }

    fn checksum(&self, rev: &Revision, script: &Script) -> String {
        self.fallback.checksum(rev, script)
    }

    /// For a Rust revision, the checksum of its source file on disk, without needing it compiled
    /// in: `check`, `status`, `accept` and `stamp` compare files, and an edited applied migration
    /// is reported as edited (not as "rebuild") even by a binary built before the edit.
    fn current_checksum(
        &self,
        rev: &Revision,
        dialect: Dialect,
    ) -> Result<(String, String), BodyError> {
        if let Body::Rust { .. } = &rev.body {
            let on_disk = braid_source::rust_source(rev).map_err(|e| BodyError {
                message: e.to_string(),
            })?;
            return Ok((
                braid_source::checksum(&on_disk.text),
                on_disk.path.display().to_string(),
            ));
        }
        let script = self.script(rev, Direction::Up, dialect)?;
        Ok((self.checksum(rev, &script), script.origin))
    }
}
