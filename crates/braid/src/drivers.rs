//! The driver registry: the built-in drivers this binary was compiled with (cargo features
//! `sqlite`, `postgres`, `mysql`) and the plugin drivers a config names (feature `plugins`).
//! Every database is opened here, so "which driver opens this URL" has one answer.

use std::path::{Path, PathBuf};

use braid_config::{Config, DatabaseConfig, DriverSource};
use braid_driver::{Dialect, Driver, DriverError, ErrorKind};
use serde::Serialize;

use crate::Error;

/// One driver, as `drivers` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriverInfo {
    /// `sqlite (rusqlite, bundled SQLite)`, or a plugin's declared name and where it is named.
    pub name: String,
    /// `built-in` or `plugin`.
    pub kind: &'static str,
    pub version: String,
    /// A plugin's ABI version.
    pub abi_version: Option<u32>,
    pub dialect: Option<Dialect>,
    /// A plugin's library.
    pub path: Option<String>,
    /// Why a plugin could not be loaded.
    pub error: Option<String>,
}

/// The plugin ABI version this binary loads, when it loads plugins.
pub fn plugin_abi_version() -> Option<u32> {
    #[cfg(feature = "plugins")]
    return Some(braid_plugin::abi::BRAID_PLUGIN_ABI_VERSION);
    #[cfg(not(feature = "plugins"))]
    None
}

/// The built-in drivers compiled into this binary.
pub fn built_in() -> Vec<DriverInfo> {
    let mut drivers = Vec::new();
    let mut add = |dialect: Dialect, name: &str| {
        drivers.push(DriverInfo {
            name: name.to_string(),
            kind: "built-in",
            version: env!("CARGO_PKG_VERSION").to_string(),
            abi_version: None,
            dialect: Some(dialect),
            path: None,
            error: None,
        })
    };
    #[cfg(feature = "sqlite")]
    add(Dialect::Sqlite, "sqlite (rusqlite, bundled SQLite)");
    #[cfg(feature = "postgres")]
    add(Dialect::Postgres, "postgres (tokio-postgres)");
    #[cfg(feature = "mysql")]
    add(Dialect::Mysql, "mysql (mysql_async; MySQL and MariaDB)");
    let _ = &mut add;
    drivers
}

/// The built-in drivers and every plugin `config` names, each plugin loaded and checked.
pub fn list(config: Option<&Config>) -> Vec<DriverInfo> {
    let mut rows = built_in();
    let Some(config) = config else {
        return rows;
    };
    let mut libraries: Vec<(String, PathBuf)> = config
        .plugins
        .iter()
        .map(|(n, p)| (n.clone(), p.clone()))
        .collect();
    for db in config.databases() {
        if let Some(braid_config::DriverChoice::Plugin { plugin }) = &db.config.driver {
            libraries.push((format!("(database {})", db.name), plugin.clone()));
        }
    }
    for (label, path) in libraries {
        rows.push(plugin_info(label, &path));
    }
    rows
}

fn plugin_info(label: String, path: &Path) -> DriverInfo {
    let mut row = DriverInfo {
        name: label.clone(),
        kind: "plugin",
        version: String::new(),
        abi_version: None,
        dialect: None,
        path: Some(path.display().to_string()),
        error: None,
    };
    match load_plugin(path) {
        #[cfg(feature = "plugins")]
        Ok(plugin) => {
            row.name = format!("{} [{label}]", plugin.name);
            row.version = plugin.version.clone();
            row.abi_version = Some(plugin.abi_version);
            row.dialect = Some(plugin.dialect);
        }
        #[cfg(not(feature = "plugins"))]
        Ok(never) => match never {},
        Err(e) => row.error = Some(e.to_string()),
    }
    row
}

#[cfg(feature = "plugins")]
fn load_plugin(path: &Path) -> Result<braid_plugin::Plugin, Error> {
    Ok(braid_plugin::load(path)?)
}

#[cfg(not(feature = "plugins"))]
fn load_plugin(path: &Path) -> Result<std::convert::Infallible, Error> {
    Err(Error::NoPlugins {
        path: path.to_path_buf(),
    })
}

/// The dialect Braid renders for `db`: its built-in driver's, or its plugin's (loaded to ask).
pub fn dialect_of(config: &Config, db: &DatabaseConfig) -> Result<Dialect, Error> {
    match config.driver_source(db)? {
        DriverSource::BuiltIn(dialect) => Ok(dialect),
        #[cfg(feature = "plugins")]
        DriverSource::Plugin { path, .. } => Ok(load_plugin(&path)?.dialect),
        #[cfg(not(feature = "plugins"))]
        DriverSource::Plugin { path, .. } => match load_plugin(&path)? {},
    }
}

/// How a database is opened: whether a missing SQLite file may be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Create what is missing (upgrade, downgrade, stamp, accept).
    ReadWrite,
    /// Commands that only read (`current`, `check`): a missing SQLite file is reported, not
    /// left behind as an empty file.
    ReadOnly,
}

/// Opens `url` with the driver `source` names; a relative SQLite path is relative to `base`
/// (the project root). A built-in driver this binary was compiled without, or a plugin in a
/// binary without plugin support, is an error saying which feature to enable. A plugin gets
/// the URL as written.
pub async fn open(
    source: &DriverSource,
    url: &str,
    access: Access,
    base: &Path,
) -> Result<Box<dyn Driver>, DriverError> {
    match source {
        DriverSource::BuiltIn(dialect) => open_built_in(*dialect, url, access, base).await,
        DriverSource::Plugin { path, .. } => match load_plugin(path) {
            // A plugin's message may echo the URL it was given: never show that as written.
            #[cfg(feature = "plugins")]
            Ok(plugin) => plugin.open(url).await.map_err(|mut e| {
                e.message = braid_driver::redact_text(&e.message);
                e
            }),
            #[cfg(not(feature = "plugins"))]
            Ok(never) => match never {},
            Err(e) => Err(DriverError::new(ErrorKind::Unsupported, e.to_string())),
        },
    }
}

/// Opens `url` with the built-in driver its scheme names (`sqlite:`, `postgres:`, `mysql:`); a
/// relative SQLite path is relative to the current directory.
pub async fn open_url(url: &str) -> Result<Box<dyn Driver>, DriverError> {
    let dialect = braid_config::url_dialect(url)
        .map_err(|e| DriverError::new(ErrorKind::Url, e.to_string()))?;
    open_built_in(dialect, url, Access::ReadWrite, Path::new("")).await
}

#[allow(unused_variables)]
async fn open_built_in(
    dialect: Dialect,
    url: &str,
    access: Access,
    base: &Path,
) -> Result<Box<dyn Driver>, DriverError> {
    match dialect {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => {
            braid_sqlite::open_boxed_in(url, base, access == Access::ReadWrite).await
        }
        #[cfg(feature = "postgres")]
        Dialect::Postgres => braid_postgres::open_boxed(url).await,
        #[cfg(feature = "mysql")]
        Dialect::Mysql => braid_mysql::open_boxed(url).await,
        #[allow(unreachable_patterns)]
        other => Err(DriverError::new(
            ErrorKind::Unsupported,
            format!(
                "this binary was built without the {other} driver: enable braid's `{}` feature",
                feature_of(other)
            ),
        )),
    }
}

/// The cargo feature that compiles in the built-in driver for `dialect`.
pub fn feature_of(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "sqlite",
        Dialect::Postgres => "postgres",
        Dialect::Mysql => "mysql",
    }
}
