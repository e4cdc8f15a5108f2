//! Tenant sets as databases: listing a set's tenants (from the config, a file, the files on
//! disk, or a query on a server) and choosing the databases a command acts on — names, tenant
//! sets, `SET:TENANT`, and a `--shard I/N` of them.
//!
//! The rules that need no database (templates, names, validation) are braid-config's
//! ([`braid_config::tenants`]); this module does what needs a driver or the file system.
//!
//! # Shards
//!
//! `--shard I/N` keeps the databases whose stable hash of the name (FNV-1a, 64 bits) is `I`
//! modulo `N`, so N machines — a CI matrix, a Kubernetes indexed Job — each take their own part
//! of a tenant set, and every database falls in exactly one shard whatever the machine. The
//! hash is of the name only: a tenant stays in its shard while tenants are added or removed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use braid_config::tenants::{self, Listing};
use braid_config::{ConfigError, Database, TenantSetConfig};
use braid_driver::{Dialect, DriverError, ErrorKind, redact_url};

use crate::drivers::Access;
use crate::{Error, Project};

/// One shard of N: `--shard I/N`, `I` from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// `I/N` with `0 <= I < N` (a Kubernetes indexed Job's `$JOB_COMPLETION_INDEX/N`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a shard: write I/N with 0 <= I < N, e.g. 0/4");
        let (index, count) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = index.trim().parse().map_err(|_| bad())?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// Whether the database `name` falls in this shard.
    pub fn holds(&self, name: &str) -> bool {
        (fnv1a(name.as_bytes()) % u64::from(self.count)) == u64::from(self.index)
    }
}

/// The `LIKE` pattern over whole names: `pattern` (over the tenant part) between the set's
/// text around `{tenant}`, escaped (braid-config checked both hold only safe characters).
fn like_around(set: &TenantSetConfig, pattern: &str) -> String {
    let escape = |s: &str| s.replace('_', "\\_");
    let (before, after) = set.name_around();
    format!("{}{pattern}{}", escape(&before), escape(&after))
}

/// The tenant parts of whole names (schemas, databases, files): the text between the set's
/// text around `{tenant}`; names of another shape, or whose part is no tenant name, are not
/// tenants.
fn tenant_parts(set: &TenantSetConfig, names: impl IntoIterator<Item = String>) -> Vec<String> {
    let (before, after) = set.name_around();
    names
        .into_iter()
        .filter_map(|name| {
            let part = name.strip_prefix(&before)?.strip_suffix(&after)?;
            tenants::check_tenant_name(part).ok()?;
            Some(part.to_string())
        })
        .collect()
}

/// Where a listing looked, for messages (no URL: it may hold a password).
fn describe(listing: &Listing<'_>) -> String {
    match listing {
        Listing::Names(_) => "an empty list".to_string(),
        Listing::File(path) => format!("file {}", path.display()),
        Listing::Query { sql, .. } => format!("query `{sql}`"),
        Listing::Schemas { pattern, .. } => format!("no schema is like '{pattern}'"),
        Listing::Databases { pattern, .. } => format!("no database is like '{pattern}'"),
        Listing::Files { pattern } => format!("no file's tenant part is like '{pattern}'"),
    }
}

/// FNV-1a, 64 bits: tiny, fast and the same on every machine and release.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Why a tenant set's tenants could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum TenantsError {
    #[error("tenant set `{set}`: {source}")]
    Config {
        set: String,
        #[source]
        source: ConfigError,
    },
    #[error("tenant set `{set}`: cannot read the tenants file {}: {source}", path.display())]
    File {
        set: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("tenant set `{set}`: cannot list the tenants on {shown}: {source}")]
    Query {
        set: String,
        /// The URL listed on, redacted.
        shown: String,
        #[source]
        source: DriverError,
    },
    /// A listed name that cannot be a tenant's.
    #[error("tenant set `{set}`: {source} (fix the list, or exclude it from the query or pattern)")]
    Name {
        set: String,
        #[source]
        source: braid_config::TenantSetError,
    },
    /// A set whose listing found nobody: a typo in a pattern must not pass for a deploy.
    #[error(
        "tenant set `{set}` lists no tenants ({source_text}): check it, or comment the set out \
         while it has none"
    )]
    Empty { set: String, source_text: String },
    #[error(
        "tenant set `{set}` has no tenant `{tenant}` ({count} listed){}",
        if *count == 0 { ": the list is empty" } else { "" }
    )]
    NoSuchTenant {
        set: String,
        tenant: String,
        count: usize,
    },
}

impl From<TenantsError> for Error {
    fn from(e: TenantsError) -> Self {
        Error::Tenants(Box::new(e))
    }
}

impl Project {
    /// The tenants of the set `set`, sorted and without repeats. A list or a file is read as
    /// it is; a pattern or a query is run on its server (read-only); SQLite files are those
    /// that exist.
    pub fn tenants(&self, set: &str) -> Result<Vec<String>, Error> {
        let config = self.config()?;
        let (name, tenant_set) = config.tenant_set(set)?;
        let wrap = |source: ConfigError| TenantsError::Config {
            set: name.to_string(),
            source,
        };
        let listing = tenant_set.listing().map_err(wrap)?;
        let mut names = match listing {
            Listing::Names(names) => names.to_vec(),
            Listing::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| TenantsError::File {
                    set: name.to_string(),
                    path: path.to_path_buf(),
                    source,
                })?;
                tenants::names_in_file(&text)
            }
            Listing::Files { pattern } => self.tenant_files(name, tenant_set, pattern)?,
            Listing::Query { sql, url } => self.list_on(name, tenant_set, url, |_| sql.into())?,
            Listing::Schemas { pattern, url } => {
                let like = like_around(tenant_set, pattern);
                let listed = self.list_on(name, tenant_set, url, |_| {
                    format!(
                        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE '{like}' \
                         AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' \
                         ORDER BY 1"
                    )
                })?;
                tenant_parts(tenant_set, listed)
            }
            Listing::Databases { pattern, url } => {
                let like = like_around(tenant_set, pattern);
                let listed = self.list_on(name, tenant_set, url, |dialect| match dialect {
                    Dialect::Postgres => format!(
                        "SELECT datname::text FROM pg_database WHERE datname LIKE '{like}' \
                         AND NOT datistemplate AND datname <> 'postgres' ORDER BY 1"
                    ),
                    _ => format!(
                        "SELECT schema_name FROM information_schema.schemata WHERE schema_name \
                         LIKE '{like}' AND schema_name NOT IN ('mysql', 'sys', \
                         'performance_schema', 'information_schema') ORDER BY 1"
                    ),
                })?;
                tenant_parts(tenant_set, listed)
            }
        };
        if tenant_set.schema_per_tenant() {
            // Each tenant's schema must be a name the version store accepts.
            for tenant in &names {
                if let Some(schema) = tenant_set.tenant(tenant).schema {
                    braid_runner::StoreNames::new("braid_version", Some(&schema)).map_err(
                        |_| TenantsError::Name {
                            set: name.to_string(),
                            source: braid_config::TenantSetError::BadName {
                                name: schema.clone(),
                            },
                        },
                    )?;
                }
            }
        }
        for tenant in &names {
            tenants::check_tenant_name(tenant).map_err(|source| TenantsError::Name {
                set: name.to_string(),
                source,
            })?;
        }
        names.sort();
        names.dedup();
        if names.is_empty() {
            return Err(TenantsError::Empty {
                set: name.to_string(),
                source_text: describe(&listing),
            }
            .into());
        }
        Ok(names)
    }

    /// The tenants of a SQLite set: the files in the directory of the URL's path whose names
    /// fit around `{tenant}`, with what stands there matching `pattern`.
    fn tenant_files(
        &self,
        set: &str,
        tenant_set: &TenantSetConfig,
        pattern: &str,
    ) -> Result<Vec<String>, Error> {
        let url = &tenant_set.url;
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        let path = self.root().join(path.split('?').next().unwrap_or(path));
        let dir = path.parent().unwrap_or(self.root());
        let entries = std::fs::read_dir(dir).map_err(|source| TenantsError::File {
            set: set.to_string(),
            path: dir.to_path_buf(),
            source,
        })?;
        let files = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.file_name().to_string_lossy().into_owned());
        Ok(tenant_parts(tenant_set, files)
            .into_iter()
            .filter(|tenant| tenants::like(pattern, tenant))
            .collect())
    }

    /// The first column of `sql(dialect)` run on `url`, with the set's driver and password.
    fn list_on(
        &self,
        set: &str,
        tenant_set: &TenantSetConfig,
        url: &str,
        sql: impl Fn(Dialect) -> String + Send,
    ) -> Result<Vec<String>, Error> {
        let config = self.config()?;
        let mut on = tenant_set.representative();
        on.url = url.to_string();
        let shown = redact_url(&on.resolved_url().unwrap_or_else(|_| url.to_string()));
        let failed = |source: DriverError| TenantsError::Query {
            set: set.to_string(),
            shown: shown.clone(),
            source,
        };
        let url_error = |e: ConfigError| failed(DriverError::new(ErrorKind::Url, e.to_string()));
        let url = on.connection_url().map_err(url_error)?;
        let source = config.driver_source(&on).map_err(url_error)?;
        let root = self.root().to_path_buf();
        let work = async move {
            let mut driver = crate::drivers::open(&source, &url, Access::ReadOnly, &root).await?;
            let rows = driver.query(&sql(driver.dialect()), &[]).await;
            let _ = driver.close().await;
            rows
        };
        let internal = |message: String| failed(DriverError::new(ErrorKind::Internal, message));
        let rows = braid_runner::on_a_worker(work)
            .map_err(|e| internal(e.to_string()))?
            .map_err(failed)?;
        Ok(rows
            .rows
            .into_iter()
            .filter_map(|row| row.into_iter().next())
            .filter_map(|value| match value {
                braid_driver::Value::Text(text) => Some(text),
                braid_driver::Value::Int(n) => Some(n.to_string()),
                _ => None,
            })
            .collect())
    }

    /// The databases `names` selects, in config order (every database and every tenant when
    /// empty): a database's name, a tenant set's name (all its tenants) or `SET:TENANT`.
    /// A database named twice (`--db shops --db shops:acme`) is selected once, where first
    /// named; each set is listed once per call.
    pub fn selected(&self, names: &[String]) -> Result<Vec<Database<'_>>, Error> {
        let config = self.config()?;
        let mut lists: HashMap<String, Vec<String>> = HashMap::new();
        let mut selected: Vec<Database<'_>> = Vec::new();
        if names.is_empty() {
            selected.extend(config.databases());
            for set in config.tenants.keys() {
                for tenant in self.listed(&mut lists, set)? {
                    selected.push(config.tenant(set, tenant)?);
                }
            }
            return Ok(selected);
        }
        let mut seen: HashSet<String> = HashSet::new();
        for name in names {
            let found: Vec<Database<'_>> = if let Some((set, tenant)) = tenants::split_tenant(name)
            {
                let listed = self.listed(&mut lists, set)?;
                if listed.binary_search_by(|t| t.as_str().cmp(tenant)).is_err() {
                    return Err(TenantsError::NoSuchTenant {
                        set: set.to_string(),
                        tenant: tenant.to_string(),
                        count: listed.len(),
                    }
                    .into());
                }
                vec![config.tenant(set, tenant)?]
            } else if config.tenants.contains_key(name.as_str()) {
                let listed = self.listed(&mut lists, name)?;
                listed
                    .iter()
                    .map(|tenant| config.tenant(name, tenant))
                    .collect::<Result<_, _>>()?
            } else {
                vec![config.database(name)?]
            };
            selected.extend(
                found
                    .into_iter()
                    .filter(|db| seen.insert(db.name.to_string())),
            );
        }
        Ok(selected)
    }

    /// The tenants of `set`, listed once per `lists`.
    fn listed<'l>(
        &self,
        lists: &'l mut HashMap<String, Vec<String>>,
        set: &str,
    ) -> Result<&'l [String], Error> {
        if !lists.contains_key(set) {
            let found = self.tenants(set)?;
            lists.insert(set.to_string(), found);
        }
        Ok(lists.get(set).map(Vec::as_slice).unwrap_or_default())
    }

    /// Like [`Project::selected`], but a tenant set (or any of its tenants) stands once for
    /// all its tenants, named by the set, with [`TenantSetConfig::representative`]'s settings,
    /// and nothing is listed: for the commands that need each set's dialect, migrations and
    /// branches, not its tenants (`verify`, `lint`).
    pub(crate) fn representatives(&self, names: &[String]) -> Result<Vec<Database<'_>>, Error> {
        let config = self.config()?;
        let wanted: Vec<&str> = match names.is_empty() {
            true => config
                .databases
                .keys()
                .chain(config.tenants.keys())
                .map(String::as_str)
                .collect(),
            false => names.iter().map(String::as_str).collect(),
        };
        let mut chosen: Vec<Database<'_>> = Vec::new();
        for name in wanted {
            let set = tenants::split_tenant(name).map_or(name, |(set, _)| set);
            let db = match config.tenant_set(set) {
                Ok((set, tenant_set)) => Database {
                    name: Cow::Borrowed(set),
                    config: Cow::Owned(tenant_set.representative()),
                },
                Err(_) => config.database(name)?,
            };
            if !chosen.iter().any(|c| c.name == db.name) {
                chosen.push(db);
            }
        }
        Ok(chosen)
    }

    /// The migrations directory of the database or tenant set `name` (`SET:TENANT` too), from
    /// the config alone: graph commands need no tenant listed.
    pub(crate) fn dir_of_name(&self, name: &str) -> Result<PathBuf, Error> {
        let found = self.representatives(&[name.to_string()])?;
        Ok(found
            .first()
            .map_or_else(|| self.default_dir(), |db| self.dir_of(db)))
    }
}

/// The databases of `selected` in `shard` (all of them without one).
pub(crate) fn in_shard<'a>(selected: Vec<Database<'a>>, shard: Option<Shard>) -> Vec<Database<'a>> {
    match shard {
        None => selected,
        Some(shard) => selected
            .into_iter()
            .filter(|db| shard.holds(&db.name))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_split_every_name_once() {
        let names: Vec<String> = (0..1000).map(|i| format!("shops:t{i}")).collect();
        let shards: Vec<Shard> = (0..4).map(|i| format!("{i}/4").parse().unwrap()).collect();
        let mut sizes = [0usize; 4];
        for name in &names {
            let holding: Vec<usize> = (0..4).filter(|&i| shards[i].holds(name)).collect();
            assert_eq!(holding.len(), 1, "{name}");
            sizes[holding[0]] += 1;
        }
        // Spread, not all in one: each shard within 20% of a quarter.
        assert!(sizes.iter().all(|&n| (200..=300).contains(&n)), "{sizes:?}");
    }

    #[test]
    fn the_hash_is_stable() {
        // FNV-1a's published value for "a": a shard never moves between releases.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }

    #[test]
    fn shards_parse_strictly() {
        assert_eq!("1/3".parse::<Shard>(), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "0/0", "1", "a/2", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
