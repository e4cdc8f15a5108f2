//! Scratch databases: made for one backend's checks and dropped after them.
//!
//! On a server (Postgres, MySQL/MariaDB) a scratch database is `braid_verify_<unique>`,
//! created with `CREATE DATABASE` over a connection opened with the configured URL (which only
//! ever runs that statement and the final `DROP DATABASE`: the configured database is never
//! changed), and reached with the same URL, its database name replaced. For SQLite it is a
//! file in a new temporary directory, removed with the directory (and the lock files next to
//! the database).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use braid_config::DriverSource;
use braid_driver::{DatabaseUrlError, Dialect, Driver, DriverError, Value};
use braid_runner::dialect::quote_ident;
use braid_runner::{Panicked, Worker};

use super::backends::Backend;
use super::report::{BackendError, Cleanup};
use crate::drivers::Access;

/// Why a scratch database could not be created or dropped. Servers are shown redacted.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    /// The configured URL cannot name another database on its server.
    #[error(transparent)]
    Url(#[from] DatabaseUrlError),
    #[error("cannot connect to {server} to {action} the scratch database `{database}`: {source}")]
    Connect {
        server: String,
        database: String,
        /// `create` or `drop`.
        action: &'static str,
        #[source]
        source: Box<DriverError>,
    },
    #[error("cannot create the scratch database `{database}` on {server}: {source}")]
    Create {
        server: String,
        database: String,
        #[source]
        source: Box<DriverError>,
    },
    #[error(
        "cannot drop the scratch database `{database}` on {server}: {source}; it is still there: \
         drop it by hand"
    )]
    Drop {
        server: String,
        database: String,
        #[source]
        source: Box<DriverError>,
    },
    #[error("cannot create the scratch directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot remove the scratch directory {}: {source}; remove it by hand", path.display())]
    RemoveDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Dropping panicked (in a driver): whether the scratch database is gone is unknown.
    #[error("dropping the scratch database `{database}`: {source}; check that it is gone")]
    Panicked {
        database: String,
        #[source]
        source: Panicked,
    },
}

/// Where a backend's scratch database is, and how it was made.
struct Scratch {
    place: Place,
    /// The URL that opens it. Holds the server's password: never shown.
    url: String,
}

enum Place {
    Server {
        dialect: Dialect,
        source: DriverSource,
        /// The URL the scratch database was created through (holds the password).
        admin: String,
        /// The server, redacted.
        shown: String,
        database: String,
    },
    File {
        dir: PathBuf,
    },
}

/// Where to create a scratch database: the backend's driver and server.
struct Site<'a> {
    pub dialect: Dialect,
    pub source: &'a DriverSource,
    /// The server's URL (holds the password); unused for SQLite.
    pub server: &'a str,
    /// The server, redacted.
    pub shown: &'a str,
    /// The project root: the base of relative SQLite paths.
    pub root: &'a Path,
}

impl Scratch {
    /// Creates a scratch database at `site`.
    pub async fn create(site: &Site<'_>) -> Result<Scratch, ScratchError> {
        let database = unique_name();
        if site.dialect == Dialect::Sqlite {
            return create_file(database);
        }
        let url = braid_driver::with_database(site.server, &database)?;
        create_database(site, &database)
            .await
            .map_err(|e| match e {
                Admin::Connect(source) => ScratchError::Connect {
                    server: site.shown.to_string(),
                    database: database.clone(),
                    action: "create",
                    source,
                },
                Admin::Run(source) => ScratchError::Create {
                    server: site.shown.to_string(),
                    database: database.clone(),
                    source,
                },
            })?;
        Ok(Scratch {
            place: Place::Server {
                dialect: site.dialect,
                source: site.source.clone(),
                admin: site.server.to_string(),
                shown: site.shown.to_string(),
                database,
            },
            url,
        })
    }

    /// The URL that opens the scratch database (holds the password: never shown).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How the report names it: the database, or the SQLite file.
    pub fn name(&self) -> String {
        match &self.place {
            Place::Server { database, .. } => database.clone(),
            Place::File { dir } => database_file(dir).display().to_string(),
        }
    }

    /// Drops the scratch database (every connection to it must be closed first).
    pub async fn remove(self, root: &Path) -> Result<(), ScratchError> {
        match self.place {
            Place::File { dir } => std::fs::remove_dir_all(&dir)
                .map_err(|source| ScratchError::RemoveDir { path: dir, source }),
            Place::Server {
                dialect,
                source,
                admin,
                shown,
                database,
            } => drop_database(dialect, &source, &admin, root, &database)
                .await
                .map_err(|e| match e {
                    Admin::Connect(source) => ScratchError::Connect {
                        server: shown,
                        database,
                        action: "drop",
                        source,
                    },
                    Admin::Run(source) => ScratchError::Drop {
                        server: shown,
                        database,
                        source,
                    },
                }),
        }
    }
}

/// A scratch SQLite database in a new temporary directory.
fn create_file(name: String) -> Result<Scratch, ScratchError> {
    let dir = std::env::temp_dir().join(name);
    std::fs::create_dir(&dir).map_err(|source| ScratchError::CreateDir {
        path: dir.clone(),
        source,
    })?;
    let url = format!("sqlite://{}", database_file(&dir).display());
    Ok(Scratch {
        place: Place::File { dir },
        url,
    })
}

fn database_file(dir: &Path) -> PathBuf {
    dir.join("scratch.db")
}

/// Why an administrative statement failed.
enum Admin {
    Connect(Box<DriverError>),
    Run(Box<DriverError>),
}

/// Runs `sql` on its own connection to `url`.
async fn admin_script(
    source: &DriverSource,
    url: &str,
    root: &Path,
    sql: &str,
) -> Result<(), Admin> {
    let mut admin = crate::drivers::open(source, url, Access::ReadWrite, root)
        .await
        .map_err(|e| Admin::Connect(Box::new(e)))?;
    let result = admin
        .execute_script(sql)
        .await
        .map_err(|e| Admin::Run(Box::new(e)));
    // The statement's outcome is what matters; a failing close changes nothing of it.
    let _ = admin.close().await;
    result
}

/// `CREATE DATABASE`, over a connection to the configured database. On MySQL/MariaDB the new
/// database takes the configured one's character set and collation (the server's default may
/// differ, and every table created without its own takes them): what the migrations create
/// in the scratch database is then what they create in the configured one.
async fn create_database(site: &Site<'_>, database: &str) -> Result<(), Admin> {
    let mut admin = crate::drivers::open(site.source, site.server, Access::ReadWrite, site.root)
        .await
        .map_err(|e| Admin::Connect(Box::new(e)))?;
    let mut sql = format!("CREATE DATABASE {}", quote_ident(site.dialect, database));
    if site.dialect == Dialect::Mysql {
        sql.push_str(&mysql_charset(admin.as_mut()).await);
    }
    let result = admin
        .execute_script(&sql)
        .await
        .map_err(|e| Admin::Run(Box::new(e)));
    // The statement's outcome is what matters; a failing close changes nothing of it.
    let _ = admin.close().await;
    result
}

/// ` CHARACTER SET cs COLLATE co` of the connection's current database, or nothing when it
/// cannot be read (the server's default then applies).
async fn mysql_charset(admin: &mut dyn Driver) -> String {
    let Ok(rows) = admin
        .query("SELECT @@character_set_database, @@collation_database", &[])
        .await
    else {
        return String::new();
    };
    let name = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .map(str::to_string)
    };
    let row = rows.rows.first();
    match (
        name(row.and_then(|r| r.first())),
        name(row.and_then(|r| r.get(1))),
    ) {
        (Some(charset), Some(collation)) => {
            format!(" CHARACTER SET {charset} COLLATE {collation}")
        }
        _ => String::new(),
    }
}

/// `DROP DATABASE`; on Postgres `WITH (FORCE)` first (13 and later), so a connection the
/// server has not finished closing does not keep the database, then without it for older
/// servers, which reject the syntax (42601).
async fn drop_database(
    dialect: Dialect,
    source: &DriverSource,
    url: &str,
    root: &Path,
    database: &str,
) -> Result<(), Admin> {
    let plain = format!("DROP DATABASE IF EXISTS {}", quote_ident(dialect, database));
    if dialect != Dialect::Postgres {
        return admin_script(source, url, root, &plain).await;
    }
    match admin_script(source, url, root, &format!("{plain} WITH (FORCE)")).await {
        Err(Admin::Run(e)) if e.code.as_deref() == Some("42601") => {
            admin_script(source, url, root, &plain).await
        }
        other => other,
    }
}

/// `braid_verify_<pid>_<time>_<n>`: unique across concurrent runs and processes, lowercase
/// ASCII (a valid unquoted identifier and file name everywhere), under 63 characters.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("braid_verify_{}_{nanos:x}_{n}", std::process::id())
}

/// What `work` did on a scratch database ([`with_scratch`]), and what became of the database.
pub(crate) struct Used<T> {
    /// The scratch database as a report names it; `None` when none could be made.
    pub name: Option<String>,
    /// The work's result: an error also when the database could not be made or opened, or the
    /// work panicked.
    pub result: Result<T, BackendError>,
    pub cleanup: Cleanup,
}

/// The one life of a scratch database, for `verify` and autogenerate alike: made on
/// `backend`'s server, opened, asked that the connection reached it ([`connected_elsewhere`]),
/// handed to `work`, closed and dropped — whatever `work` did, a panic included.
pub(crate) fn with_scratch<T>(
    worker: &Worker,
    backend: &Backend,
    root: &Path,
    work: impl AsyncFnOnce(&mut dyn Driver) -> Result<T, BackendError>,
) -> Used<T> {
    let not_created = |error| Used {
        name: None,
        result: Err(error),
        cleanup: Cleanup::NotCreated,
    };
    let server = match &backend.server {
        Ok(server) => server,
        Err(e) => return not_created(BackendError::Config(e.clone())),
    };
    let site = Site {
        dialect: backend.dialect,
        source: &backend.source,
        server,
        shown: &backend.shown,
        root,
    };
    let scratch = match worker.block_on(Scratch::create(&site)) {
        Ok(Ok(scratch)) => scratch,
        Ok(Err(e)) => return not_created(BackendError::Scratch(e)),
        Err(panicked) => return not_created(BackendError::Panicked(panicked)),
    };
    let name = scratch.name();
    let worked = worker.block_on(async {
        let mut driver =
            crate::drivers::open(&backend.source, scratch.url(), Access::ReadWrite, root)
                .await
                .map_err(|source| BackendError::Open {
                    scratch: scratch.name(),
                    source,
                })?;
        let result = match connected_elsewhere(driver.as_mut(), &scratch).await {
            Some(error) => Err(error),
            None => {
                throwaway(driver.as_mut()).await;
                work(driver.as_mut()).await
            }
        };
        // The database is dropped next: a failing close changes nothing of the result.
        let _ = driver.close().await;
        result
    });
    let result = match worked {
        Ok(result) => result,
        Err(panicked) => Err(BackendError::Panicked(panicked)),
    };
    let cleanup = match worker.block_on(scratch.remove(root)) {
        Ok(Ok(())) => Cleanup::Dropped,
        Ok(Err(error)) => Cleanup::Failed { error },
        Err(source) => Cleanup::Failed {
            error: ScratchError::Panicked {
                database: name.clone(),
                source,
            },
        },
    };
    Used {
        name: Some(name),
        result,
        cleanup,
    }
}

/// A scratch database is thrown away, so its commits need not wait for the disk: the session
/// says so where the backend lets a session choose (Postgres's `synchronous_commit`, SQLite's
/// `synchronous`; MySQL/MariaDB decide it server-wide only). What the migrations do and see is
/// unchanged — a commit is as atomic and as visible as before, only not flushed — and the
/// steps of a walk then cost what the migrations' own work costs. Only speed depends on it: a
/// server that refuses the setting (a plugin's Postgres-compatible one) keeps flushing, and
/// the work goes on.
async fn throwaway(driver: &mut dyn Driver) {
    let sql = match driver.dialect() {
        Dialect::Postgres => "SET synchronous_commit = off",
        Dialect::Sqlite => "PRAGMA synchronous = OFF",
        Dialect::Mysql => return,
    };
    let _ = driver.execute_script(sql).await;
}

/// The last line of defence for "never the configured database": the server is asked which
/// database the scratch connection reached, before anything runs. A URL parameter that names
/// the database (`?dbname=app`, percent-encoded or behind an `@`) could otherwise send the
/// work to the configured one. SQLite's scratch database is a file Braid named: nothing to ask.
async fn connected_elsewhere(driver: &mut dyn Driver, scratch: &Scratch) -> Option<BackendError> {
    let sql = match driver.dialect() {
        Dialect::Postgres => "SELECT current_database()::text",
        Dialect::Mysql => "SELECT DATABASE()",
        Dialect::Sqlite => return None,
    };
    let expected = scratch.name();
    let found = match driver.query(sql, &[]).await {
        Ok(rows) => rows
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(|v| v.as_str())
            .map(str::to_string),
        Err(source) => {
            return Some(BackendError::Open {
                scratch: expected,
                source,
            });
        }
    };
    (found.as_deref() != Some(expected.as_str())).then(|| BackendError::NotScratch {
        scratch: expected,
        connected: found.unwrap_or_else(|| "none".to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_identifiers() {
        let (a, b) = (unique_name(), unique_name());
        assert_ne!(a, b);
        assert!(a.len() < 63, "{a}");
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_'),
            "{a}"
        );
    }
}
