//! Migrations embedded in an application, and the migrator it runs at start-up.
//!
//! `braid_build::embed("../migrations")` in the build script (the path relative to the crate's
//! `Cargo.toml`) compiles the directory in — every
//! SQL file, every Rust revision, and every checksum, computed at build time — and
//! [`embedded_migrations!`](crate::embedded_migrations) takes it:
//!
//! ```ignore
//! let report = braid::Migrator::new(braid::embedded_migrations!())
//!     .upgrade("postgres://app@db/app")
//!     .await?;
//! ```
//!
//! The migrator is the command line's runner: the same lock, version store, checksums,
//! validation and events, so a database migrated by the application and by
//! `cargo xtask migrate` agree row for row. An up-to-date database costs one read of the version
//! table and no lock; two instances starting together apply each revision once (one migrates,
//! the other waits for the lock, then finds nothing to do).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use braid_driver::{Dialect, Driver};
use braid_graph::{Body, Direction, Graph, Revision};
use braid_runner::{
    Bodies, BodyError, CurrentReport, Event, RunError, RunOptions, RunReport, Runner, Script,
    TransactionMode,
};

use crate::{Error, RustRevisions};

/// One revision as generated code describes it.
#[doc(hidden)]
#[derive(Debug)]
pub struct EmbeddedRevision {
    /// The revision's directory at build time (for messages).
    pub dir: &'static str,
    pub id: &'static str,
    pub parents: &'static [&'static str],
    pub depends_on: &'static [&'static str],
    pub branch_labels: &'static [&'static str],
    pub message: &'static str,
    /// Seconds and nanoseconds since the Unix epoch.
    pub created: Option<(i64, i32)>,
    pub transactional: bool,
    /// The declared deploy phase (`"expand"`, `"contract"`), if any.
    pub phase: Option<&'static str>,
    pub body: EmbeddedBody,
}

/// A revision's body as generated code describes it.
#[doc(hidden)]
#[derive(Debug)]
pub enum EmbeddedBody {
    /// Every SQL file of the revision directory.
    Sql(&'static [EmbeddedFile]),
    /// A Rust revision; the migration itself is in the [`RustRevisions`].
    Rust {
        file: &'static str,
        checksum: &'static str,
    },
}

/// One embedded SQL file and its checksum.
#[doc(hidden)]
#[derive(Debug)]
pub struct EmbeddedFile {
    pub name: &'static str,
    pub text: &'static str,
    pub checksum: &'static str,
}

/// A migrations directory compiled into the binary: its graph and bodies.
#[derive(Clone)]
pub struct EmbeddedMigrations {
    inner: Arc<Inner>,
}

/// Names the directory and the revisions, never their SQL (which may hold secrets).
impl std::fmt::Debug for EmbeddedMigrations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedMigrations")
            .field("dir", &self.inner.dir)
            .field("revisions", &self.inner.by_id.len())
            .finish_non_exhaustive()
    }
}

struct Inner {
    dir: &'static str,
    /// The graph, or why it does not build: braid-build validated it with its own version of
    /// the rules, so a `braid` with other rules reports the difference instead of panicking.
    graph: Result<Graph, braid_graph::GraphError>,
    by_id: HashMap<&'static str, &'static EmbeddedRevision>,
    #[cfg_attr(not(feature = "rust"), allow(dead_code))]
    rust: RustRevisions,
}

impl EmbeddedMigrations {
    /// Called by the code `braid_build::embed` generates (which validated the graph at build
    /// time).
    #[doc(hidden)]
    pub fn new(
        dir: &'static str,
        revisions: &'static [EmbeddedRevision],
        rust: RustRevisions,
    ) -> Self {
        let graph = Graph::build(revisions.iter().map(revision).collect());
        EmbeddedMigrations {
            inner: Arc::new(Inner {
                dir,
                graph,
                by_id: revisions.iter().map(|r| (r.id, r)).collect(),
                rust,
            }),
        }
    }

    /// The graph of the embedded revisions.
    pub fn graph(&self) -> Result<&Graph, Error> {
        self.inner
            .graph
            .as_ref()
            .map_err(|e| Error::Graph(e.clone()))
    }

    /// The migrations directory they were compiled from.
    pub fn dir(&self) -> &Path {
        Path::new(self.inner.dir)
    }
}

/// The `Revision` the graph works on: SQL revisions keep their build-time directory and file
/// names (for messages and for choosing a dialect's file), Rust ones their source file.
fn revision(r: &EmbeddedRevision) -> Revision {
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect();
    let dir = PathBuf::from(r.dir);
    let body = match &r.body {
        EmbeddedBody::Sql(files) => Body::Sql {
            dir: dir.clone(),
            files: files.iter().map(|f| f.name.to_string()).collect(),
        },
        EmbeddedBody::Rust { file, .. } => Body::Rust {
            name: r.id.to_string(),
            source: PathBuf::from(file),
        },
    };
    Revision {
        id: r.id.to_string(),
        parents: strings(r.parents),
        depends_on: strings(r.depends_on),
        branch_labels: strings(r.branch_labels),
        message: r.message.to_string(),
        created: r.created.and_then(|(s, n)| jiff::Timestamp::new(s, n).ok()),
        transactional: r.transactional,
        // Written by the build script from a phase that parsed, so it parses again.
        phase: r.phase.and_then(|p| p.parse().ok()),
        origin: Some(dir.join(braid_source::METADATA_FILE)),
        body,
    }
}

impl Bodies for Inner {
    fn script(
        &self,
        rev: &Revision,
        direction: Direction,
        dialect: Dialect,
    ) -> Result<Script, BodyError> {
        let embedded = self.embedded(rev)?;
        match &embedded.body {
            EmbeddedBody::Sql(files) => {
                let file = sql_file(rev, files, direction, dialect)?;
                Ok(Script::sql(
                    Path::new(embedded.dir)
                        .join(file.name)
                        .display()
                        .to_string(),
                    file.text,
                ))
            }
            EmbeddedBody::Rust { file, .. } => self.rust_script(rev, file),
        }
    }

    fn checksum(&self, rev: &Revision, script: &Script) -> String {
        braid_runner::SourceBodies.checksum(rev, script)
    }

    /// Computed at build time: validating an up-to-date database hashes nothing.
    fn current_checksum(
        &self,
        rev: &Revision,
        dialect: Dialect,
    ) -> Result<(String, String), BodyError> {
        let embedded = self.embedded(rev)?;
        match &embedded.body {
            EmbeddedBody::Sql(files) => {
                let file = sql_file(rev, files, Direction::Up, dialect)?;
                Ok((
                    file.checksum.to_string(),
                    Path::new(embedded.dir)
                        .join(file.name)
                        .display()
                        .to_string(),
                ))
            }
            EmbeddedBody::Rust { file, checksum } => Ok((checksum.to_string(), file.to_string())),
        }
    }
}

impl Inner {
    fn embedded(&self, rev: &Revision) -> Result<&'static EmbeddedRevision, BodyError> {
        self.by_id
            .get(rev.id.as_str())
            .copied()
            .ok_or_else(|| BodyError {
                message: format!("revision `{}` is not embedded in this binary", rev.id),
            })
    }

    #[cfg(feature = "rust")]
    fn rust_script(&self, rev: &Revision, file: &str) -> Result<Script, BodyError> {
        let migration = self.rust.registry().get(&rev.id).ok_or_else(|| BodyError {
            message: format!(
                "revision `{}` ({file}) has no compiled Rust migration",
                rev.id
            ),
        })?;
        let source = self
            .rust
            .registry()
            .source(&rev.id)
            .unwrap_or_default()
            .to_string();
        Ok(Script::code(
            file.to_string(),
            source,
            Arc::new(braid_seaorm::RustCode::new(rev.id.clone(), migration)),
        ))
    }

    #[cfg(not(feature = "rust"))]
    fn rust_script(&self, rev: &Revision, file: &str) -> Result<Script, BodyError> {
        // Unreachable in practice: generated code with Rust revisions does not compile
        // without the `rust` feature.
        Err(BodyError {
            message: format!(
                "revision `{}` ({file}) is a Rust migration; enable braid's `rust` feature",
                rev.id
            ),
        })
    }
}

/// The embedded file `rev` runs in `direction` on `dialect` (the dialect's override, else the
/// generic file: [`braid_source::sql_path`] decides).
fn sql_file(
    rev: &Revision,
    files: &'static [EmbeddedFile],
    direction: Direction,
    dialect: Dialect,
) -> Result<&'static EmbeddedFile, BodyError> {
    let path = braid_source::sql_path(rev, direction, dialect).map_err(|e| BodyError {
        message: e.to_string(),
    })?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    files
        .iter()
        .find(|f| f.name == name)
        .ok_or_else(|| BodyError {
            message: format!("{}: not embedded", path.display()),
        })
}

type EventCallback = Arc<dyn Fn(&Event) + Send + Sync>;

/// Runs embedded migrations against a database, at start-up or from a deploy job.
#[derive(Clone)]
pub struct Migrator {
    migrations: EmbeddedMigrations,
    options: RunOptions,
    name: Option<String>,
    events: Option<EventCallback>,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("dir", &self.migrations.dir())
            .field("options", &self.options)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Migrator {
    /// A migrator with the command line's defaults: the `braid_version` table, one transaction
    /// per migration, every branch, a 60 s lock timeout.
    pub fn new(migrations: EmbeddedMigrations) -> Self {
        Migrator {
            migrations,
            options: RunOptions {
                lock_timeout: Duration::from_secs(60),
                ..RunOptions::default()
            },
            name: None,
            events: None,
        }
    }

    /// The version table (as a database's `version_table` in the config).
    pub fn version_table(mut self, table: impl Into<String>) -> Self {
        self.options.version_table = table.into();
        self
    }

    /// The schema holding the version table (Postgres).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.options.schema = Some(schema.into());
        self
    }

    /// How long to wait for another process's migration lock.
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.options.lock_timeout = timeout;
        self
    }

    /// Bounds each migration's wait for a table lock, with retries on Postgres (as
    /// `ddl_lock_timeout_ms` and `ddl_lock_retries` in the config; see [`crate::DdlLock`]).
    pub fn ddl_lock_timeout(mut self, timeout: Duration, retries: u32) -> Self {
        self.options.ddl_lock = Some(crate::DdlLock { timeout, retries });
        self
    }

    /// One transaction per migration (the default) or the whole plan in one.
    pub fn transaction(mut self, mode: TransactionMode) -> Self {
        self.options.transaction = mode;
        self
    }

    /// Only these branch labels' revisions (as a database's `branches` in the config).
    pub fn branches(mut self, labels: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.options.branches = labels.into_iter().map(Into::into).collect();
        self
    }

    /// The name messages use for the database (default: the URL's database name).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Receives progress events (steps started and finished), e.g. to log them.
    pub fn on_event(mut self, callback: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.events = Some(Arc::new(callback));
        self
    }

    /// The embedded migrations.
    pub fn migrations(&self) -> &EmbeddedMigrations {
        &self.migrations
    }

    /// Upgrades the database at `url` to every head.
    pub async fn upgrade(&self, url: &str) -> Result<RunReport, Error> {
        self.upgrade_to(url, "heads").await
    }

    /// Upgrades the database at `url` to `target` (any target the command line takes).
    pub async fn upgrade_to(&self, url: &str, target: &str) -> Result<RunReport, Error> {
        let mut driver = self.open(url).await?;
        let result = self.upgrade_with(driver.as_mut(), url, target).await;
        close(driver, result).await
    }

    /// Downgrades the database at `url` to `target`.
    pub async fn downgrade(&self, url: &str, target: &str) -> Result<RunReport, Error> {
        let mut driver = self.open(url).await?;
        let runner = self.runner(url)?;
        let result = runner
            .downgrade(driver.as_mut(), target, &|e: &Event| self.emit(e))
            .await
            .map_err(Error::from);
        close(driver, result).await
    }

    /// What the database at `url` has applied.
    pub async fn current(&self, url: &str) -> Result<CurrentReport, Error> {
        let mut driver = self.open(url).await?;
        let result = self
            .runner(url)?
            .current(driver.as_mut())
            .await
            .map_err(Error::from);
        close(driver, result).await
    }

    /// Upgrades through a connection the caller opened (any [`Driver`]); `url` only names the
    /// database in messages.
    pub async fn upgrade_with(
        &self,
        driver: &mut dyn Driver,
        url: &str,
        target: &str,
    ) -> Result<RunReport, Error> {
        Ok(self
            .runner(url)?
            .upgrade(driver, target, &|e: &Event| self.emit(e))
            .await?)
    }

    fn emit(&self, event: &Event) {
        if let Some(callback) = &self.events {
            callback(event);
        }
    }

    fn runner(&self, url: &str) -> Result<Runner<'_>, Error> {
        let name = self.name.clone().unwrap_or_else(|| database_name(url));
        Ok(
            Runner::new(name, self.migrations.graph()?, self.options.clone())?
                .with_bodies(&*self.migrations.inner),
        )
    }

    async fn open(&self, url: &str) -> Result<Box<dyn Driver>, Error> {
        crate::drivers::open_url(url).await.map_err(|source| {
            Error::Run(RunError::Open {
                database: self.name.clone().unwrap_or_else(|| database_name(url)),
                url: braid_driver::redact_url(url),
                source: Box::new(source),
            })
        })
    }
}

/// Closes `driver` after `result`; a failure to close does not hide the result.
async fn close<T>(driver: Box<dyn Driver>, result: Result<T, Error>) -> Result<T, Error> {
    let _ = driver.close().await;
    result
}

/// The database part of a URL (`app` for `postgres://h/app` or `sqlite://data/app.db`), for
/// messages. Read from the redacted URL, and only from the path after the authority, so no part
/// of the credentials can end up in a name.
fn database_name(url: &str) -> String {
    let url = braid_driver::redact_url(url);
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map_or("", |(_, path)| path),
        None => url.split_once(':').map_or("", |(_, path)| path),
    };
    let path = path.split(['?', '#']).next().unwrap_or("");
    let last = path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("");
    let stem = Path::new(last)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .trim_matches(':');
    if stem.is_empty() {
        "database".to_string()
    } else {
        stem.to_string()
    }
}

/// The migrations a build script embedded with `braid_build::embed("…")`, as
/// [`EmbeddedMigrations`].
#[macro_export]
macro_rules! embedded_migrations {
    () => {{
        #[allow(unused_imports)]
        use $crate as __braid;
        include!(concat!(env!("OUT_DIR"), "/braid_embedded.rs"))
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_names_for_messages() {
        for (url, name) in [
            ("postgres://u:pw@h:5432/app", "app"),
            ("mysql://root@127.0.0.1/test?ssl-mode=REQUIRED", "test"),
            ("sqlite://data/app.db", "app"),
            ("sqlite:///abs/x.sqlite", "x"),
            ("sqlite::memory:", "memory"),
            ("sqlite:data/app.db", "app"),
            ("postgres://u:pw@h", "database"),
            // Nothing of a password, whatever its characters.
            ("postgres://app:s3cret.pw@db", "database"),
            ("mysql://root:hunter2.x@mysql", "database"),
            ("postgres://u:pa/ss.wd@h/app", "app"),
            ("postgres://u:p#a?ss@h", "database"),
        ] {
            assert_eq!(super::database_name(url), name, "{url}");
        }
    }
}
