//! Braid's configuration: a TOML file with profiles, overridden by `BRAID_*` environment
//! variables, read with figment.
//!
//! # Sources
//!
//! 1. **The config file** (default [`DEFAULT_CONFIG_FILE`], `--config PATH` replaces it). Its
//!    top-level tables are *profiles*: `[default]` is always used; a selected profile such as
//!    `[ci]` is layered over it (tables merge key by key, so a profile can add a database or
//!    change one key of an existing one).
//! 2. **Environment variables** `BRAID_<KEY>`, with `__` between nested keys:
//!    `BRAID_MIGRATIONS=db/migrations`, `BRAID_JOBS=8`,
//!    `BRAID_DATABASES__APP__URL=postgres://…`. They override the file whatever the profile, so
//!    CI can inject a URL without editing the file. Only variables whose first key is a config
//!    key are read (`BRAID_PROFILE`, `BRAID_LOG`, … are not configuration).
//! 3. **The profile** is chosen by the caller (the CLI's `--profile`), else `BRAID_PROFILE`, else
//!    `default`. A profile that the file does not define is an error listing those it does.
//!
//! ```toml
//! [default]
//! migrations = "migrations"       # relative to the project root
//! lock_timeout_secs = 60
//! ddl_lock_timeout_ms = 5000      # optional: bound each migration's wait for a table lock
//! ddl_lock_retries = 3            # Postgres: tries after the first that timed out (default 3)
//! jobs = 4
//!
//! [default.databases.app]
//! url = "sqlite://.braid/app.db"
//! version_table = "braid_version" # optional
//! # schema = "app"               # Postgres only: the version table's schema (default: where
//!                                 # the search_path finds it, else current_schema())
//! branches = ["audit"]            # optional: branch labels this database receives; all if absent
//! migrations = "services/billing/migrations"  # optional: this database's own migration set
//!
//! [default.tenants.shops]         # a tenant set: one entry, many databases (see `tenants`)
//! url = "postgres://app@db/shop"
//! schema = "{tenant}"
//! tenants = { like = "shop\\_%" }
//! ```
//!
//! `max_connections` (top level) bounds the connections Braid opens to one server at once.
//!
//! # Paths
//!
//! Every relative path in the config — `migrations` (top level and per database), relative
//! SQLite URLs (`sqlite://.braid/app.db`) and plugin libraries — means "relative to the project
//! root", never to the directory a command happens to run in. [`Config::resolve_paths`] makes
//! the paths absolute once the root is known (the facade finds it: the Cargo workspace around
//! the current directory, or `--root`), so a library caller needs no `chdir`. URLs stay as
//! written: the facade opens a relative SQLite file against the root (the SQLite driver owns
//! its URL syntax).
//!
//! # Credentials
//!
//! A password need not be written in the file:
//!
//! * `url = "${DATABASE_URL}"` — `${NAME}` in a `url` is replaced by the environment variable
//!   `NAME` (`$$` stands for a `$`). An unset variable fails the database that uses it, when it
//!   is used, naming the variable; commands that need no database still work.
//! * `password_env = "APP_DB_PASSWORD"` or `password_file = "/run/secrets/app-db"` (relative to
//!   the project root; the file's text without its final line break) gives the password of a
//!   URL that has none (it is percent-encoded into the URL). One source of password per
//!   database: the URL's own, `password_env` or `password_file`.
//! * The Postgres driver then takes what the URL still leaves out from libpq's environment
//!   (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `PGSSLMODE`, `PGSSLROOTCERT`) and
//!   the password file `~/.pgpass`.
//!
//! Unknown keys are errors naming the file, so a typo never silently falls back to a default.
//! Passwords never reach a message: every URL shown goes through [`braid_driver::redact_url`].

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use braid_driver::{Dialect, redact_url};
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

pub mod tenants;

pub use tenants::{TenantSetConfig, TenantSetError};

/// Where the config file is, relative to the project root, unless `--config` says otherwise.
pub const DEFAULT_CONFIG_FILE: &str = "config/braid.toml";
/// The profile used when neither the caller nor `BRAID_PROFILE` chooses one.
pub const DEFAULT_PROFILE: &str = "default";
/// The environment variable that selects the profile when the caller does not.
pub const PROFILE_ENV: &str = "BRAID_PROFILE";
/// The prefix of configuration environment variables.
pub const ENV_PREFIX: &str = "BRAID_";

/// Top-level keys, the only ones read from the environment.
const CONFIG_KEYS: &[&str] = &[
    "migrations",
    "lock_timeout_secs",
    "ddl_lock_timeout_ms",
    "ddl_lock_retries",
    "jobs",
    "databases",
    "tenants",
    "max_connections",
    "plugins",
];

/// The configuration of one project for one profile.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The migrations directory. Relative paths are relative to the project root; see
    /// [`Config::resolve_paths`].
    #[serde(default = "default_migrations")]
    pub migrations: PathBuf,
    /// How long to wait for another process's migration lock.
    #[serde(default = "default_lock_timeout")]
    pub lock_timeout_secs: u64,
    /// Postgres and MySQL/MariaDB: the longest a migration's statement waits for a lock on a
    /// table (Postgres `lock_timeout`, MySQL `lock_wait_timeout`), in milliseconds. A migration
    /// queued behind a long query blocks every query behind it; a bound turns that outage into
    /// a failed attempt. `None` or `0`: the server's own setting (wait indefinitely), as 0 means
    /// to Postgres.
    #[serde(default)]
    pub ddl_lock_timeout_ms: Option<u64>,
    /// Postgres: how many more times a migration in a transaction that ran out of
    /// `ddl_lock_timeout_ms` is rolled back and tried again, after a growing pause, before the
    /// run fails.
    #[serde(default = "default_ddl_lock_retries")]
    pub ddl_lock_retries: u32,
    /// How many databases to migrate at once.
    #[serde(default = "default_jobs")]
    pub jobs: usize,
    /// Databases by name.
    #[serde(default)]
    pub databases: BTreeMap<String, DatabaseConfig>,
    /// Tenant sets by name: each stands for many databases (see [`tenants`]).
    #[serde(default)]
    pub tenants: BTreeMap<String, TenantSetConfig>,
    /// The most connections Braid opens to one server at once, whatever `jobs` is (a database
    /// being migrated holds two: its work and its lock connection); `None` = no bound but
    /// `jobs`.
    #[serde(default)]
    pub max_connections: Option<usize>,
    /// Driver plugins by name: shared libraries a database can name as its `driver`.
    #[serde(default)]
    pub plugins: BTreeMap<String, PathBuf>,
    /// The profile this configuration was read for.
    #[serde(skip)]
    pub profile: String,
    /// The config file it was read from.
    #[serde(skip)]
    pub file: PathBuf,
}

fn default_migrations() -> PathBuf {
    PathBuf::from("migrations")
}
fn default_lock_timeout() -> u64 {
    60
}
fn default_ddl_lock_retries() -> u32 {
    3
}
fn default_jobs() -> usize {
    4
}
pub(crate) fn default_version_table() -> String {
    "braid_version".to_string()
}

/// One database. `Debug` hides the URL's password.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path`, `postgres://…`/`postgresql://…`, `mysql://…`/`mariadb://…`. May hold a
    /// password: show it only through [`DatabaseConfig::redacted_url`].
    pub url: String,
    /// The table recording applied revisions.
    #[serde(default = "default_version_table")]
    pub version_table: String,
    /// The schema holding the version table (Postgres); `None` = the connection's default.
    #[serde(default)]
    pub schema: Option<String>,
    /// Branch labels whose revisions this database receives; `None` = every branch.
    #[serde(default)]
    pub branches: Option<Vec<String>>,
    /// Which driver opens it: by default the built-in one for the URL's scheme.
    #[serde(default)]
    pub driver: Option<DriverChoice>,
    /// This database's own migrations directory (its own graph, a "migration set"); `None` =
    /// the config's top-level `migrations`. Lets one monorepo config drive services that each
    /// keep their migrations next to their code.
    #[serde(default)]
    pub migrations: Option<PathBuf>,
    /// The environment variable holding the password of a URL that has none.
    #[serde(default)]
    pub password_env: Option<String>,
    /// The file holding the password of a URL that has none (relative to the project root).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// A database's `driver`: `driver = "name"` (a built-in driver — `sqlite`, `postgres`, `mysql` —
/// or a plugin named in `[plugins]`), or `driver = { plugin = "path/to/libbraid_x.so" }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum DriverChoice {
    Named(String),
    Plugin { plugin: PathBuf },
}

/// How a database is opened, once the config's names are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DriverSource {
    /// A driver linked into the binary.
    BuiltIn(Dialect),
    /// A plugin library; its dialect comes from the library itself.
    Plugin { name: Option<String>, path: PathBuf },
}

/// The built-in drivers' names, as `driver = "…"` accepts them.
pub const BUILT_IN_DRIVERS: [&str; 3] = ["sqlite", "postgres", "mysql"];

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.redacted_url())
            .field("version_table", &self.version_table)
            .field("schema", &self.schema)
            .field("branches", &self.branches)
            .field("driver", &self.driver)
            .field("migrations", &self.migrations)
            .field("password_env", &self.password_env)
            .field("password_file", &self.password_file)
            .finish()
    }
}

impl DatabaseConfig {
    /// A config with the defaults for everything but the URL.
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseConfig {
            url: url.into(),
            version_table: default_version_table(),
            schema: None,
            branches: None,
            driver: None,
            migrations: None,
            password_env: None,
            password_file: None,
        }
    }

    /// The URL with its password replaced by `***`: the only form to print or log.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.resolved_url().unwrap_or_else(|_| self.url.clone()))
    }

    /// The dialect the URL's scheme names.
    pub fn dialect(&self) -> Result<Dialect, ConfigError> {
        url_dialect(&self.resolved_url()?)
    }

    /// The URL with every `${NAME}` replaced from the environment.
    pub fn resolved_url(&self) -> Result<String, ConfigError> {
        interpolate(&self.url)
    }

    /// The URL to connect with: [`DatabaseConfig::resolved_url`] with the password of
    /// `password_env` or `password_file` set. Holds the password: never print it.
    pub fn connection_url(&self) -> Result<String, ConfigError> {
        let url = self.resolved_url()?;
        let Some(password) = self.password()? else {
            return Ok(url);
        };
        if braid_driver::options::has_password(&url) {
            return Err(ConfigError::TwoPasswords);
        }
        braid_driver::options::with_password(&url, &password).ok_or(ConfigError::NoUserForPassword)
    }

    /// The password `password_env` or `password_file` names, if either is set.
    fn password(&self) -> Result<Option<String>, ConfigError> {
        match (&self.password_env, &self.password_file) {
            (Some(_), Some(_)) => Err(ConfigError::TwoPasswordSources),
            (Some(variable), None) => match std::env::var(variable) {
                Ok(password) => Ok(Some(password)),
                Err(_) => Err(ConfigError::UnsetVariable {
                    variable: variable.clone(),
                }),
            },
            (None, Some(path)) => match std::fs::read_to_string(path) {
                Ok(text) => {
                    let password = text.strip_suffix('\n').unwrap_or(&text);
                    Ok(Some(
                        password.strip_suffix('\r').unwrap_or(password).to_string(),
                    ))
                }
                Err(e) => Err(ConfigError::PasswordFile {
                    path: path.clone(),
                    reason: e.to_string(),
                }),
            },
            (None, None) => Ok(None),
        }
    }
}

/// `text` with every `${NAME}` replaced by the environment variable `NAME`, and `$$` by `$`.
/// Never echoes `text` (it may hold a password) in its errors.
pub fn interpolate(text: &str) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(tail) = after.strip_prefix('{') {
            let Some(end) = tail.find('}') else {
                return Err(ConfigError::BadInterpolation {
                    reason: "`${` without a closing `}`".into(),
                });
            };
            let variable = &tail[..end];
            if variable.is_empty()
                || !variable
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                return Err(ConfigError::BadInterpolation {
                    reason: "a variable name is letters, digits and `_`, as in `${DATABASE_URL}`"
                        .into(),
                });
            }
            match std::env::var(variable) {
                Ok(value) => out.push_str(&value),
                Err(_) => {
                    return Err(ConfigError::UnsetVariable {
                        variable: variable.to_string(),
                    });
                }
            }
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The dialect of a database URL, from its scheme.
pub fn url_dialect(url: &str) -> Result<Dialect, ConfigError> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(Dialect::Sqlite),
        Some("postgres" | "postgresql") => Ok(Dialect::Postgres),
        Some("mysql" | "mariadb") => Ok(Dialect::Mysql),
        _ => Err(ConfigError::BadUrl {
            url: redact_url(url),
            reason: "unknown scheme: use sqlite://, postgres:// (or postgresql://), \
                     mysql:// (or mariadb://)"
                .to_string(),
        }),
    }
}

/// A database a command acts on: a configured one, borrowed from the config, or a tenant of a
/// tenant set, made from the set's template (`name` is then `SET:TENANT`, which
/// [`tenants::split_tenant`] reads back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Database<'a> {
    pub name: Cow<'a, str>,
    pub config: Cow<'a, DatabaseConfig>,
}

/// A configuration that cannot be used. Messages name the file or variable to fix; URLs in them
/// are redacted.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "config file {} not found: create it (see the README's Configuration section) or pass \
         --config PATH",
        file.display()
    )]
    MissingFile { file: PathBuf },

    /// The file cannot be read or is not TOML; the message has the line and column.
    #[error("{}: {message}", file.display())]
    Parse { file: PathBuf, message: String },

    /// A top-level key that is not a profile table, e.g. `migrations = …` outside `[default]`.
    #[error(
        "{}: top-level key `{key}` is not a table; settings go inside a profile table such as \
         [default] (e.g. `[default]` then `{key} = …`)",
        file.display()
    )]
    NotAProfile { file: PathBuf, key: String },

    #[error(
        "profile `{profile}` is not defined in {}; profiles there: {}",
        file.display(),
        if available.is_empty() { "none".to_string() } else { available.join(", ") }
    )]
    UnknownProfile {
        profile: String,
        file: PathBuf,
        available: Vec<String>,
    },

    /// Wrong type, unknown key or missing key, from the file or the environment (figment's
    /// message says which, and names the key).
    #[error("invalid configuration (profile `{profile}`): {message}")]
    Invalid { profile: String, message: String },

    #[error(
        "no database configured for profile `{profile}` in {}: add one, e.g.\n  \
         [default.databases.app]\n  url = \"sqlite://.braid/app.db\"",
        file.display()
    )]
    NoDatabases { profile: String, file: PathBuf },

    /// A database name, version table or schema that is not a plain identifier.
    #[error(
        "{what} `{value}` is not a valid identifier: use letters, digits and _, not starting \
         with a digit, at most 63 characters"
    )]
    BadIdentifier { what: String, value: String },

    /// `schema` on a backend without schemas inside a database.
    #[error(
        "`schema` applies to Postgres only; {dialect} has no schemas inside a database (the \
         database in the URL is where the version table lives): remove the setting"
    )]
    SchemaUnsupported { dialect: Dialect },

    /// An unusable URL. `url` is already redacted.
    #[error("database URL `{url}`: {reason}")]
    BadUrl { url: String, reason: String },

    /// A problem with one database's settings, from `file` or the environment.
    #[error("{}: database `{database}`: {source}", file.display())]
    Database {
        file: PathBuf,
        database: String,
        #[source]
        source: Box<ConfigError>,
    },

    #[error(
        "no driver named `{name}`: use a built-in driver or a plugin from [plugins] ({}), or \
         `driver = {{ plugin = \"path/to/library\" }}`",
        available.join(", ")
    )]
    UnknownDriver {
        name: String,
        available: Vec<String>,
    },

    /// `${NAME}` names an environment variable that is not set (or `password_env` does).
    #[error("environment variable `{variable}` is not set (the config refers to it)")]
    UnsetVariable { variable: String },

    #[error("cannot read the `${{…}}` in a URL: {reason}")]
    BadInterpolation { reason: String },

    #[error("password_file {}: {reason}", path.display())]
    PasswordFile { path: PathBuf, reason: String },

    #[error("`password_env` and `password_file` are both set: keep one")]
    TwoPasswordSources,

    #[error("the URL has a password and `password_env` or `password_file` gives another: keep one")]
    TwoPasswords,

    #[error(
        "`password_env` / `password_file` give a password, but the URL names no user to give it \
         to (write it as scheme://user@host/…)"
    )]
    NoUserForPassword,

    #[error(
        "no database or tenant set named `{name}`; configured: {}",
        if available.is_empty() { "none".to_string() } else { available.join(", ") }
    )]
    UnknownDatabase {
        name: String,
        available: Vec<String>,
    },

    /// A tenant set's settings that cannot work together, or a bad tenant name.
    #[error(transparent)]
    TenantSet(#[from] TenantSetError),

    /// A problem with one tenant set's settings.
    #[error("{}: tenant set `{set}`: {source}", file.display())]
    InTenantSet {
        file: PathBuf,
        set: String,
        #[source]
        source: Box<ConfigError>,
    },

    #[error(
        "`{name}` names both a database and a tenant set in {}: rename one",
        file.display()
    )]
    NameTaken { name: String, file: PathBuf },

    #[error(
        "max_connections must be at least 2: a database being migrated holds two connections \
         to its server (its work and its lock connection)"
    )]
    NoConnections,

    #[error("jobs must be at least 1")]
    NoJobs,

    #[error("max_failures must be at least 1 (one failure stops the run: --fail-fast)")]
    NoFailures,
}

/// The bounds of a run that make sense: at least one job; room on a server for one database
/// (two connections); at least one failure before stopping. The config's and the command
/// line's values both pass here.
pub fn check_limits(
    jobs: usize,
    max_connections: Option<usize>,
    max_failures: Option<usize>,
) -> Result<(), ConfigError> {
    if jobs == 0 {
        return Err(ConfigError::NoJobs);
    }
    if max_connections.is_some_and(|n| n < 2) {
        return Err(ConfigError::NoConnections);
    }
    if max_failures == Some(0) {
        return Err(ConfigError::NoFailures);
    }
    Ok(())
}

impl Config {
    /// Reads `file`, then the `BRAID_*` environment, for `profile` (else `BRAID_PROFILE`, else
    /// `default`), and validates the result. `migrations` is kept as written; see
    /// [`Config::resolve_paths`].
    pub fn load(file: &Path, profile: Option<&str>) -> Result<Config, ConfigError> {
        let profile = match profile {
            Some(p) => p.to_string(),
            None => std::env::var(PROFILE_ENV)
                .ok()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_PROFILE.to_string()),
        };
        let available = file_profiles(file)?;
        if !profile.eq_ignore_ascii_case(DEFAULT_PROFILE)
            && !available.iter().any(|p| p.eq_ignore_ascii_case(&profile))
        {
            return Err(ConfigError::UnknownProfile {
                profile,
                file: file.to_path_buf(),
                available,
            });
        }
        let figment = Figment::from(Toml::file_exact(file).nested())
            .merge(
                Env::prefixed(ENV_PREFIX)
                    .split("__")
                    .filter(|key| {
                        // Depending on figment's mapping order the key reads `a__b` or `a.b`.
                        let key = key.as_str().replace("__", ".");
                        let first = key.split('.').next().unwrap_or("");
                        CONFIG_KEYS.iter().any(|k| first.eq_ignore_ascii_case(k))
                    })
                    .global(),
            )
            .select(profile.as_str());
        let mut config: Config = figment.extract().map_err(|e| ConfigError::Invalid {
            profile: profile.clone(),
            message: redact_all(&e.to_string()),
        })?;
        config.profile = profile;
        config.file = file.to_path_buf();
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: at least one database, identifiers, URL schemes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.databases.is_empty() && self.tenants.is_empty() {
            return Err(ConfigError::NoDatabases {
                profile: self.profile.clone(),
                file: self.file.clone(),
            });
        }
        for (name, db) in &self.databases {
            let wrap = |e: ConfigError| ConfigError::Database {
                file: self.file.clone(),
                database: name.clone(),
                source: Box::new(e),
            };
            check_identifier("database name", name).map_err(wrap)?;
            check_identifier("version_table", &db.version_table).map_err(wrap)?;
            if let Some(schema) = &db.schema {
                check_identifier("schema", schema).map_err(wrap)?;
            }
            if db.password_env.is_some() && db.password_file.is_some() {
                return Err(wrap(ConfigError::TwoPasswordSources));
            }
            // A URL naming an unset variable fails its database when it is used, not the
            // commands that need no database.
            match db.resolved_url() {
                Err(ConfigError::UnsetVariable { .. }) => continue,
                Err(e) => return Err(wrap(e)),
                Ok(_) => {}
            }
            // A plugin speaks whatever URL its backend uses; a built-in driver needs its scheme.
            if let DriverSource::BuiltIn(dialect) = self.driver_source(db).map_err(wrap)? {
                db.dialect().map_err(wrap)?;
                // Only Postgres has schemas inside a database; elsewhere the setting would be
                // silently ignored (MySQL's "schema" is the database itself, named in the URL).
                if db.schema.is_some() && dialect != Dialect::Postgres {
                    return Err(wrap(ConfigError::SchemaUnsupported { dialect }));
                }
            }
        }
        check_limits(self.jobs, self.max_connections, None)?;
        for (name, set) in &self.tenants {
            if self.databases.contains_key(name) {
                return Err(ConfigError::NameTaken {
                    name: name.clone(),
                    file: self.file.clone(),
                });
            }
            let wrap = |e: ConfigError| ConfigError::InTenantSet {
                file: self.file.clone(),
                set: name.clone(),
                source: Box::new(e),
            };
            check_identifier("tenant set name", name).map_err(wrap)?;
            set.validate().map_err(wrap)?;
            match self.driver_source(&set.tenant("t")) {
                Err(ConfigError::UnsetVariable { .. }) | Ok(_) => {}
                Err(e) => return Err(wrap(e)),
            }
        }
        Ok(())
    }

    /// How `db` is opened: its `driver` setting resolved against the built-in drivers and
    /// `[plugins]`, or the built-in driver for its URL's scheme.
    pub fn driver_source(&self, db: &DatabaseConfig) -> Result<DriverSource, ConfigError> {
        match &db.driver {
            None => Ok(DriverSource::BuiltIn(db.dialect()?)),
            Some(DriverChoice::Plugin { plugin }) => Ok(DriverSource::Plugin {
                name: None,
                path: plugin.clone(),
            }),
            Some(DriverChoice::Named(name)) => {
                if let Some(path) = self.plugins.get(name) {
                    return Ok(DriverSource::Plugin {
                        name: Some(name.clone()),
                        path: path.clone(),
                    });
                }
                match name.parse::<Dialect>() {
                    Ok(dialect) => Ok(DriverSource::BuiltIn(dialect)),
                    Err(_) => Err(ConfigError::UnknownDriver {
                        name: name.clone(),
                        available: BUILT_IN_DRIVERS
                            .iter()
                            .map(|s| s.to_string())
                            .chain(self.plugins.keys().cloned())
                            .collect(),
                    }),
                }
            }
        }
    }

    /// Databases configured by name, in name order (tenant sets are listed by the facade).
    pub fn databases(&self) -> impl Iterator<Item = Database<'_>> + '_ {
        self.databases.iter().map(|(name, config)| Database {
            name: Cow::Borrowed(name.as_str()),
            config: Cow::Borrowed(config),
        })
    }

    /// The database called `name`; an unknown name lists the configured databases and tenant
    /// sets.
    pub fn database(&self, name: &str) -> Result<Database<'_>, ConfigError> {
        match self.databases.get_key_value(name) {
            Some((name, config)) => Ok(Database {
                name: Cow::Borrowed(name.as_str()),
                config: Cow::Borrowed(config),
            }),
            None => Err(self.unknown(name)),
        }
    }

    /// The tenant set called `name` (with the name as the config spells it).
    pub fn tenant_set(&self, name: &str) -> Result<(&str, &TenantSetConfig), ConfigError> {
        self.tenants
            .get_key_value(name)
            .map(|(name, set)| (name.as_str(), set))
            .ok_or_else(|| self.unknown(name))
    }

    /// Tenant `tenant` of the set `set`, as a database called `SET:TENANT`. Whether the set
    /// lists it is the caller's question (listing may need a database).
    pub fn tenant<'a>(&'a self, set: &str, tenant: &str) -> Result<Database<'a>, ConfigError> {
        let (set, config) = self.tenant_set(set)?;
        tenants::check_tenant_name(tenant)?;
        Ok(Database {
            name: Cow::Owned(format!("{set}{}{tenant}", tenants::TENANT_SEPARATOR)),
            config: Cow::Owned(config.tenant(tenant)),
        })
    }

    fn unknown(&self, name: &str) -> ConfigError {
        ConfigError::UnknownDatabase {
            name: name.to_string(),
            available: self
                .databases
                .keys()
                .chain(self.tenants.keys())
                .cloned()
                .collect(),
        }
    }

    pub fn lock_timeout(&self) -> Duration {
        Duration::from_secs(self.lock_timeout_secs)
    }

    /// How long a migration's statement may wait for a table lock, and how often a timed-out
    /// migration is retried; `None` when `ddl_lock_timeout_ms` is not set (or 0).
    pub fn ddl_lock_wait(&self) -> Option<(Duration, u32)> {
        self.ddl_lock_timeout_ms
            .filter(|&ms| ms > 0)
            .map(|ms| (Duration::from_millis(ms), self.ddl_lock_retries))
    }

    /// Makes every relative path absolute against `root` (the project root): the migrations
    /// directories and plugin libraries. URLs are left as written (see the module docs).
    pub fn resolve_paths(&mut self, root: &Path) {
        let absolute = |path: &mut PathBuf| {
            if path.is_relative() {
                *path = root.join(&*path);
            }
        };
        absolute(&mut self.migrations);
        self.plugins.values_mut().for_each(absolute);
        for db in self.databases.values_mut() {
            if let Some(dir) = &mut db.migrations {
                absolute(dir);
            }
            if let Some(DriverChoice::Plugin { plugin }) = &mut db.driver {
                absolute(plugin);
            }
            if let Some(file) = &mut db.password_file {
                absolute(file);
            }
        }
        for set in self.tenants.values_mut() {
            if let Some(dir) = &mut set.migrations {
                absolute(dir);
            }
            if let Some(DriverChoice::Plugin { plugin }) = &mut set.driver {
                absolute(plugin);
            }
            if let Some(file) = &mut set.password_file {
                absolute(file);
            }
            if let tenants::TenantSource::From(tenants::TenantQuery {
                file: Some(file), ..
            }) = &mut set.tenants
            {
                absolute(file);
            }
        }
    }

    /// The migrations directory of `db`: its own, else the config's.
    pub fn migrations_of<'a>(&'a self, db: &'a DatabaseConfig) -> &'a Path {
        db.migrations.as_deref().unwrap_or(&self.migrations)
    }
}

/// The profiles the file defines (its top-level tables), sorted. Also where a missing file or
/// a TOML syntax error is reported, naming the file.
fn file_profiles(file: &Path) -> Result<Vec<String>, ConfigError> {
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ConfigError::MissingFile {
                file: file.to_path_buf(),
            });
        }
        Err(e) => {
            return Err(ConfigError::Parse {
                file: file.to_path_buf(),
                message: e.to_string(),
            });
        }
    };
    let dict: figment::value::Dict = Toml::from_str(&text).map_err(|e| ConfigError::Parse {
        file: file.to_path_buf(),
        message: redact_all(e.to_string().trim_end()),
    })?;
    let mut profiles = Vec::new();
    for (key, value) in dict {
        if value.as_dict().is_none() {
            return Err(ConfigError::NotAProfile {
                file: file.to_path_buf(),
                key,
            });
        }
        profiles.push(key);
    }
    profiles.sort();
    Ok(profiles)
}

pub(crate) fn check_identifier(what: &str, value: &str) -> Result<(), ConfigError> {
    let mut bytes = value.bytes();
    let ok = value.len() <= 63
        && bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::BadIdentifier {
            what: what.to_string(),
            value: value.to_string(),
        })
    }
}

/// Redacts every URL (and `password=…` fragment) in a free-form message (figment quotes values
/// in its errors, e.g. "found string \"postgres://u:pw@h/db\"", and TOML errors quote the line):
/// see [`braid_driver::redact_text`].
pub fn redact_all(message: &str) -> String {
    braid_driver::redact_text(message)
}
