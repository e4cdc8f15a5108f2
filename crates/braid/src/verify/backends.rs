//! Which backends `verify` runs on: the selected databases, grouped so that databases sharing
//! a migration set, a dialect, a server and `branches` are verified once.

use std::borrow::Cow;
use std::path::PathBuf;

use braid_config::{Config, ConfigError, Database, DriverSource};
use braid_driver::{Dialect, redact_url};
use braid_graph::Graph;

use super::VerifyError;
use crate::{Error, Project};

/// One backend to verify: where to make its scratch database and what to run in it. (No
/// `Debug`: it holds the server's password.)
pub(crate) struct Backend {
    /// The databases it stands for, joined: `app` or `app, app_replica`.
    pub name: String,
    pub databases: Vec<String>,
    /// The migration set.
    pub dir: PathBuf,
    pub dialect: Dialect,
    /// The driver of its databases.
    pub source: DriverSource,
    /// The URL that reaches the server (the first database's, or `--url`). Holds the password:
    /// never shown.
    pub server: Result<String, ConfigError>,
    /// The server's URL as it may be shown (redacted).
    pub shown: String,
    pub branches: Vec<String>,
    /// The version table of the scratch database's store (the first database's name for it).
    pub version_table: String,
}

impl Backend {
    /// The runner of a scratch database of this backend, along `graph` (already restricted to
    /// its branches): its store lives in the connection's default schema whatever the config
    /// says (a configured schema may not exist before the migrations create it), and it
    /// marks no statement as started before it runs ([`braid_runner::Runner::throwaway`]).
    pub fn scratch_runner<'a>(
        &self,
        graph: &'a Graph,
        lock_timeout: std::time::Duration,
        bodies: &'a dyn braid_runner::Bodies,
    ) -> Result<braid_runner::Runner<'a>, braid_runner::RunError> {
        let options = braid_runner::RunOptions {
            version_table: self.version_table.clone(),
            schema: None,
            transaction: braid_runner::TransactionMode::PerMigration,
            lock_timeout,
            branches: Vec::new(),
            // Scratch databases have no other sessions to wait for.
            ddl_lock: None,
        };
        Ok(
            braid_runner::Runner::new(self.name.clone(), graph, options)?
                .with_bodies(bodies)
                .throwaway(),
        )
    }

    /// `schema` without the tables of Braid's store on the scratch database.
    pub fn without_store(&self, schema: braid_driver::Schema) -> braid_driver::Schema {
        schema.without_tables(|t| braid_runner::dialect::is_store_table(&self.version_table, t))
    }

    /// The graph this backend walks: its set's graph `full`, restricted to its `branches`.
    pub fn graph<'g>(&self, full: &'g Graph) -> Result<Cow<'g, Graph>, Error> {
        if self.branches.is_empty() {
            return Ok(Cow::Borrowed(full));
        }
        Ok(Cow::Owned(braid_runner::restrict(full, &self.branches)?))
    }
}

/// What makes two databases one backend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    dir: PathBuf,
    dialect: Dialect,
    branches: Vec<String>,
    /// The server, as a URL naming a fixed database; empty for SQLite (every file is local).
    server: String,
}

/// The backends of `selected`, in the order of their first database. `url` (`--url`) replaces
/// the server of the backends of its dialect.
pub(crate) fn group(
    project: &Project,
    config: &Config,
    selected: &[Database<'_>],
    url: Option<&str>,
) -> Result<Vec<Backend>, Error> {
    let replacement = url.map(server_override).transpose()?;
    let mut keys: Vec<Key> = Vec::new();
    let mut backends: Vec<Backend> = Vec::new();
    for db in selected {
        let mut backend = backend_of(project, config, db)?;
        if let Some((dialect, url)) = &replacement
            && *dialect == backend.dialect
        {
            backend.server = Ok(url.clone());
            backend.shown = redact_url(url);
        }
        let key = key_of(&backend, &db.name);
        match keys.iter().position(|k| *k == key) {
            Some(i) => {
                backends[i].databases.push(db.name.to_string());
                backends[i].name = backends[i].databases.join(", ");
            }
            None => {
                keys.push(key);
                backends.push(backend);
            }
        }
    }
    if let (Some((dialect, url)), Some(_)) = (&replacement, url)
        && !backends.iter().any(|b| b.dialect == *dialect)
    {
        return Err(VerifyError::UrlMatchesNoDatabase {
            shown: redact_url(url),
            dialect: *dialect,
            databases: selected.iter().map(|db| db.name.to_string()).collect(),
        }
        .into());
    }
    Ok(backends)
}

/// `--url` and its dialect; SQLite has no server to name.
fn server_override(url: &str) -> Result<(Dialect, String), Error> {
    let dialect = braid_config::url_dialect(url)?;
    if dialect == Dialect::Sqlite {
        return Err(VerifyError::UrlWithoutServer {
            shown: redact_url(url),
        }
        .into());
    }
    Ok((dialect, url.to_string()))
}

fn backend_of(project: &Project, config: &Config, db: &Database<'_>) -> Result<Backend, Error> {
    let dialect = crate::drivers::dialect_of(config, &db.config)?;
    let shown = match dialect {
        Dialect::Sqlite => "(a temporary file)".to_string(),
        _ => db.config.redacted_url(),
    };
    Ok(Backend {
        name: db.name.to_string(),
        databases: vec![db.name.to_string()],
        dir: project.dir_of(db),
        dialect,
        source: config.driver_source(&db.config)?,
        server: db.config.connection_url(),
        shown,
        branches: db.config.branches.clone().unwrap_or_default(),
        version_table: db.config.version_table.clone(),
    })
}

fn key_of(backend: &Backend, database: &str) -> Key {
    let server = match (&backend.server, backend.dialect) {
        (_, Dialect::Sqlite) => String::new(),
        // Any fixed name: URLs that differ only by their database name reach one server.
        (Ok(url), _) => braid_driver::with_database(url, "braid_verify").unwrap_or(url.clone()),
        // A URL that cannot be built stays a backend of its own, to fail on its own.
        (Err(_), _) => format!("\0{database}"),
    };
    Key {
        dir: backend.dir.clone(),
        dialect: backend.dialect,
        branches: backend.branches.clone(),
        server,
    }
}
