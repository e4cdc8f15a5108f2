//! Shared helpers for the cross-crate tests: test targets (a fresh database per test, for each
//! driver), unique names, and the driver conformance suite.
//!
//! # The conformance suite
//!
//! Every test in [`conformance`] runs against every target. Adding a driver means writing a
//! [`TestTarget`] and adding one line to `tests/tests/conformance.rs`:
//!
//! ```ignore
//! braid_tests::conformance_suite!(sqlite, braid_tests::SqliteTarget);
//! ```
//!
//! Adding a test means writing an `async fn name(db: &mut TestDb)` in [`conformance`] and adding
//! its name to the list in [`conformance_suite!`].
//!
//! A target whose server is unreachable makes its tests pass with a visible `SKIPPED` line on
//! stderr, unless `BRAID_REQUIRE_SERVERS=1`, in which case they fail (for CI with servers).

mod cargo;
pub mod conformance;
pub mod faults;
mod targets;
mod targets_plugin;
mod targets_server;

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use braid_driver::{Dialect, Driver, DriverError};

pub use cargo::{
    cargo_binary, cargo_build, cargo_build_targets, cargo_cdylib, cargo_executable, target_dir,
    workspace_root,
};
pub use targets::SqliteTarget;
pub use targets_plugin::{
    MysqlPluginTarget, PostgresPluginTarget, SqlitePluginTarget, plugin, plugin_connector,
    plugin_library,
};
pub use targets_server::{
    MysqlTarget, PostgresTarget, mysql_url, postgres_url, url_for as server_url_for,
};

/// The repository's migrations directory (`migrations/`), the worked example.
pub fn repo_migrations() -> std::path::PathBuf {
    workspace_root().join("migrations")
}

/// The Rust revisions of the repository's migrations and of the `billing` fixture set,
/// compiled into the tests by `build.rs`.
pub fn repo_rust_revisions() -> braid::RustRevisions {
    braid::rust_revisions!()
}

/// The repository's migrations, embedded into the tests by `build.rs` as an application
/// embeds its own.
pub fn repo_embedded() -> braid::EmbeddedMigrations {
    braid::embedded_migrations!()
}

/// The second migration set of the multi-set tests.
pub fn billing_migrations() -> std::path::PathBuf {
    workspace_root().join("tests/fixtures/sets/billing")
}

/// A boxed, sendable future, so targets can hold async callbacks without a futures crate.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Opens another connection to a database, given its URL.
pub type Connector =
    Arc<dyn Fn(String) -> BoxFuture<'static, Result<Box<dyn Driver>, DriverError>> + Send + Sync>;

/// Drops a server database once a test is done.
pub type Cleanup = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// Why a target cannot run here (e.g. its server is unreachable).
#[derive(Debug, Clone)]
pub struct Unavailable(pub String);

/// A backend the suite can run against: knows how to make a fresh, uniquely named database.
pub trait TestTarget {
    /// Shown in skip messages and failures, e.g. `sqlite`.
    const NAME: &'static str;

    /// A new empty database with a connected driver, or why the target is unavailable. A target
    /// that is reachable but fails to create a database should panic: that is a real failure.
    fn fresh() -> impl Future<Output = Result<TestDb, Unavailable>> + Send;
}

/// A fresh database for one test: a connected driver, and the means to open more connections
/// to the same database and to drop it afterwards.
pub struct TestDb {
    /// The target's [`TestTarget::NAME`].
    pub target: &'static str,
    /// The dialect the target declares; the driver must report the same.
    pub dialect: Dialect,
    /// The URL of this database (for the CLI tests; it contains no password worth hiding).
    pub url: String,
    /// The first connection.
    pub driver: Box<dyn Driver>,
    connector: Connector,
    cleanup: Option<Cleanup>,
    /// Kept alive until the test ends (e.g. the temp directory holding an SQLite file), so local
    /// files go away even when a test panics.
    _guard: Option<Box<dyn Send + Sync>>,
}

impl TestDb {
    pub fn new(
        target: &'static str,
        dialect: Dialect,
        url: String,
        driver: Box<dyn Driver>,
        connector: Connector,
    ) -> Self {
        TestDb {
            target,
            dialect,
            url,
            driver,
            connector,
            cleanup: None,
            _guard: None,
        }
    }

    /// Keeps `guard` alive as long as the database (e.g. a `TempDir`).
    pub fn with_guard(mut self, guard: impl Send + Sync + 'static) -> Self {
        self._guard = Some(Box::new(guard));
        self
    }

    /// Runs `cleanup` in [`TestDb::teardown`] (e.g. `DROP DATABASE`). Not run if the test panics:
    /// the database's unique name keeps a leftover from disturbing later runs.
    pub fn with_cleanup(mut self, cleanup: Cleanup) -> Self {
        self.cleanup = Some(cleanup);
        self
    }

    /// Replaces how further connections are opened (a plugin target reuses a static target's
    /// database setup and swaps in its own driver and connector).
    pub fn with_connector(mut self, connector: Connector) -> Self {
        self.connector = connector;
        self
    }

    /// Opens another connection to the same database. (Not an `async fn`: the future owns what
    /// it needs, so it does not borrow the `TestDb` — which is not `Sync` — across an await.)
    pub fn connect(&self) -> impl Future<Output = Box<dyn Driver>> + Send + 'static {
        let connector = Arc::clone(&self.connector);
        let (target, url) = (self.target, self.url.clone());
        async move {
            match connector(url.clone()).await {
                Ok(d) => d,
                Err(e) => panic!("[{target}] second connection to {url} failed: {e}"),
            }
        }
    }

    /// The `n`th (1-based) positional parameter in this dialect: `?` or `$n`.
    pub fn param(&self, n: usize) -> String {
        param(self.dialect, n)
    }

    /// `count` comma-separated parameters, numbered from 1.
    pub fn params(&self, count: usize) -> String {
        (1..=count)
            .map(|n| self.param(n))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Closes the driver and runs the cleanup.
    pub async fn teardown(self) {
        let TestDb {
            target,
            driver,
            cleanup,
            _guard,
            ..
        } = self;
        if let Err(e) = driver.close().await {
            panic!("[{target}] close failed: {e}");
        }
        if let Some(cleanup) = cleanup {
            cleanup().await;
        }
        drop(_guard);
    }
}

/// The `n`th (1-based) positional parameter in `dialect`.
pub fn param(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Postgres => format!("${n}"),
        Dialect::Mysql | Dialect::Sqlite => "?".to_string(),
    }
}

/// Whether unreachable servers fail tests instead of skipping them (`BRAID_REQUIRE_SERVERS=1`).
pub fn require_servers() -> bool {
    std::env::var("BRAID_REQUIRE_SERVERS").is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// A name no other test, run or concurrent process uses: `braid_<prefix>_<pid>_<n>_<time>`,
/// lowercase ASCII so it is a valid unquoted identifier and file name everywhere.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let prefix: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("braid_{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// A fresh database of target `T`, or `None` (with a visible message) if `T` is unavailable and
/// `BRAID_REQUIRE_SERVERS` is not set.
pub async fn fresh_or_skip<T: TestTarget>() -> Option<TestDb> {
    match T::fresh().await {
        Ok(db) => Some(db),
        Err(Unavailable(reason)) => {
            if require_servers() {
                panic!(
                    "[{}] unavailable and BRAID_REQUIRE_SERVERS=1: {reason}",
                    T::NAME
                );
            }
            // Written to the stderr handle, not with `eprintln!`, so libtest's capture does not
            // hide it.
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED [{}]: {reason} (set BRAID_REQUIRE_SERVERS=1 to fail instead)",
                T::NAME
            );
            None
        }
    }
}

/// Runs one conformance test against a fresh database of `T`, then tears it down.
pub async fn run<T, F>(test: F)
where
    T: TestTarget,
    F: for<'a> FnOnce(&'a mut TestDb) -> BoxFuture<'a, ()>,
{
    let Some(mut db) = fresh_or_skip::<T>().await else {
        return;
    };
    test(&mut db).await;
    db.teardown().await;
}

/// Expands every conformance test for one target, in a module named `$name`:
///
/// ```ignore
/// braid_tests::conformance_suite!(sqlite, braid_tests::SqliteTarget);
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($name:ident, $target:ty) => {
        mod $name {
            $crate::__conformance_tests!(
                $target;
                value_round_trip_integers,
                value_round_trip_floats,
                value_round_trip_text,
                value_round_trip_bytes,
                value_round_trip_nulls,
                query_reports_column_names,
                execute_reports_affected_rows,
                multi_statement_script,
                failing_script_reports_position,
                syntax_error_in_script_reports_position,
                commit_persists,
                rollback_undoes_dml,
                rollback_undoes_ddl_when_transactional,
                lock_excludes_other_connection,
                lock_released_by_close,
                unlock_without_lock_is_ok,
                introspection,
                introspection_is_deterministic,
                unique_violation_carries_code_and_message,
                syntax_error_is_sql_error,
                server_version_and_dialect,
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    ($target:ty; $($test:ident),* $(,)?) => {
        $(
            // A plain `#[test]` with a runtime built here, so a crate using the macro needs no
            // tokio dependency of its own.
            #[test]
            fn $test() {
                $crate::block_on($crate::run::<$target, _>(|db| {
                    ::std::boxed::Box::pin($crate::conformance::$test(db))
                }));
            }
        )*
    };
}

/// Runs `future` to completion on a fresh current-thread tokio runtime (timers and I/O enabled),
/// as `#[tokio::test]` would.
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("build a tokio runtime")
        .block_on(future)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Down;
    impl TestTarget for Down {
        const NAME: &'static str = "down";
        async fn fresh() -> Result<TestDb, Unavailable> {
            Err(Unavailable("connection refused".into()))
        }
    }

    #[tokio::test]
    async fn unavailable_target_is_skipped() {
        if require_servers() {
            return; // would (rightly) fail
        }
        assert!(fresh_or_skip::<Down>().await.is_none());
        // `run` skips without calling the test.
        run::<Down, _>(|_| Box::pin(async { panic!("must not run") })).await;
    }

    #[test]
    fn unique_names_differ_and_are_identifiers() {
        let (a, b) = (unique_name("x-Y"), unique_name("x-Y"));
        assert_ne!(a, b);
        assert!(a.starts_with("braid_x_y_"), "{a}");
        assert!(
            a.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        );
    }

    #[test]
    fn params_per_dialect() {
        assert_eq!(param(Dialect::Postgres, 2), "$2");
        assert_eq!(param(Dialect::Sqlite, 2), "?");
        assert_eq!(param(Dialect::Mysql, 1), "?");
    }
}
