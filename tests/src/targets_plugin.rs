//! Test targets that reach a driver through a plugin loaded at run time, and the helper that
//! builds plugin crates for tests.
//!
//! Cargo has no stable way for a test to depend on another crate's cdylib (artifact
//! dependencies need `-Z bindeps`), and the layout of `target/` is cargo's private business (it
//! is changing). So [`plugin_library`] runs `cargo build -p <crate> --message-format=json` and
//! takes the library's path from cargo's own `compiler-artifact` message. When the plugin is
//! already built (CI builds the workspace first) this is a no-op costing well under a second.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use braid_driver::Dialect;
use braid_plugin::Plugin;

use crate::{Connector, TestDb, TestTarget, Unavailable, unique_name};

/// The workspace root (the directory holding the root `Cargo.toml`).
/// The path of plugin crate `package`'s shared library, built on first use (once per test
/// binary and package).
///
/// `BRAID_TEST_PLUGIN_DIR`, when set, names a directory holding already-built plugins instead.
/// Otherwise the plugin is built with the same profile as the tests (`--release` for a release
/// test build) and `--locked` when `CI` is set. Panics with cargo's output if the build fails.
pub fn plugin_library(package: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(package) {
        return path.clone();
    }
    let path = match std::env::var_os("BRAID_TEST_PLUGIN_DIR") {
        Some(dir) => braid_plugin::library_path(Path::new(&dir), package),
        None => crate::cargo_cdylib(package),
    };
    built.insert(package.to_string(), path.clone());
    path
}

/// Plugin crate `package`, built and loaded once per test binary.
pub fn plugin(package: &str) -> Plugin {
    static LOADED: OnceLock<Mutex<HashMap<String, Plugin>>> = OnceLock::new();
    let mut loaded = LOADED
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(p) = loaded.get(package) {
        return p.clone();
    }
    let path = plugin_library(package);
    let p = braid_plugin::load(&path).unwrap_or_else(|e| panic!("loading plugin {package}: {e}"));
    loaded.insert(package.to_string(), p.clone());
    p
}

/// A connector that opens connections through `plugin`.
pub fn plugin_connector(plugin: Plugin) -> Connector {
    Arc::new(move |url: String| {
        let plugin = plugin.clone();
        Box::pin(async move { plugin.open(&url).await })
    })
}

/// SQLite through the `braid-sqlite-plugin` cdylib, on a uniquely named file in a fresh temp
/// directory: the same database as [`crate::SqliteTarget`], reached through the C ABI.
pub struct SqlitePluginTarget;

impl TestTarget for SqlitePluginTarget {
    const NAME: &'static str = "sqlite-plugin";

    async fn fresh() -> Result<TestDb, Unavailable> {
        // Building the plugin may take a while the first time; keep the executor free.
        let plugin = tokio::task::spawn_blocking(|| plugin("braid-sqlite-plugin"))
            .await
            .unwrap_or_else(|e| panic!("[sqlite-plugin] build/load: {e}"));
        assert_eq!(plugin.dialect, Dialect::Sqlite);
        let dir = tempfile::tempdir().expect("create temp dir");
        let path = dir.path().join(format!("{}.db", unique_name("plugin")));
        let url = format!("sqlite://{}", path.display());
        let connector = plugin_connector(plugin);
        let driver = connector(url.clone())
            .await
            .unwrap_or_else(|e| panic!("[sqlite-plugin] open {url}: {e}"));
        Ok(TestDb::new(Self::NAME, Dialect::Sqlite, url, driver, connector).with_guard(dir))
    }
}

/// Turns a static target's fresh database into the same database reached through plugin
/// `package`: same creation, cleanup and URL; the first connection and every later one go
/// through the plugin. A server that is down is reported before the plugin is even built.
async fn through_plugin<T: TestTarget>(
    name: &'static str,
    package: &'static str,
) -> Result<TestDb, Unavailable> {
    let mut db = T::fresh().await?;
    let plugin = tokio::task::spawn_blocking(move || plugin(package))
        .await
        .unwrap_or_else(|e| panic!("[{name}] build/load: {e}"));
    assert_eq!(plugin.dialect, db.dialect, "[{name}] plugin dialect");
    let connector = plugin_connector(plugin);
    let driver = connector(db.url.clone())
        .await
        .unwrap_or_else(|e| panic!("[{name}] open {}: {e}", db.url));
    let static_driver = std::mem::replace(&mut db.driver, driver);
    static_driver
        .close()
        .await
        .unwrap_or_else(|e| panic!("[{name}] close the static connection: {e}"));
    db.target = name;
    Ok(db.with_connector(connector))
}

/// Postgres through the `braid-postgres-plugin` cdylib, on a database made as for
/// [`crate::PostgresTarget`].
pub struct PostgresPluginTarget;

impl TestTarget for PostgresPluginTarget {
    const NAME: &'static str = "postgres-plugin";

    async fn fresh() -> Result<TestDb, Unavailable> {
        through_plugin::<crate::PostgresTarget>(Self::NAME, "braid-postgres-plugin").await
    }
}

/// MySQL/MariaDB through the `braid-mysql-plugin` cdylib, on a database made as for
/// [`crate::MysqlTarget`].
pub struct MysqlPluginTarget;

impl TestTarget for MysqlPluginTarget {
    const NAME: &'static str = "mysql-plugin";

    async fn fresh() -> Result<TestDb, Unavailable> {
        through_plugin::<crate::MysqlTarget>(Self::NAME, "braid-mysql-plugin").await
    }
}
