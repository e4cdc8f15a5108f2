//! Tenant sets: one config entry that stands for many databases on the same migrations — a
//! Postgres schema per tenant, a database per tenant on a server, or a SQLite file per tenant.
//!
//! ```toml
//! # A schema per tenant: the version table and the search_path are the tenant's schema.
//! [default.tenants.shops]
//! url = "postgres://app@db.internal/shop"
//! schema = "{tenant}"
//! tenants = { like = "shop\\_%" }                  # the schemas whose names match
//!
//! # A database per tenant, listed by a query on a control database.
//! [default.tenants.customers]
//! url = "mysql://app@db.internal/{tenant}"
//! tenants = { query = "SELECT db_name FROM tenants WHERE active", url = "mysql://app@db.internal/control" }
//!
//! # A SQLite file per tenant: the files that exist.
//! [default.tenants.devices]
//! url = "sqlite://data/tenants/{tenant}.db"
//! tenants = { like = "%" }
//! ```
//!
//! `{tenant}` is replaced by each tenant's name in `url` and `schema`. The names come from
//! `tenants`: a list (`["acme", "globex"]`), a file (`{ file = "tenants.txt" }`, one name per
//! line, `#` comments), a query returning one column (`{ query = "…" }`), or an SQL `LIKE`
//! pattern (`{ like = "…" }`) matched against the schemas (when `schema` holds `{tenant}`), the
//! databases on the server (when `url` does) or the files (SQLite). A query or pattern runs on
//! `url` of `tenants` when given, else on the set's own URL — which must then name no tenant
//! (a schema-per-tenant set). Listing on servers is the facade's work (it needs a driver); this
//! module holds the rules that need none: names, templates, validation.
//!
//! A tenant is called `SET:TENANT` wherever a database name is (`--db shops:acme`); the set's
//! name alone selects every tenant. Tenant names are restricted to letters, digits, `_` and
//! `-` (at most 63), because they are spliced into URLs, schema names and file names.

use std::fmt;
use std::path::PathBuf;

use braid_driver::{Dialect, redact_url};
use serde::Deserialize;

use crate::{ConfigError, DatabaseConfig, DriverChoice, default_version_table};

/// What `{tenant}` stands for in a tenant set's `url` and `schema`.
pub const TENANT_PLACEHOLDER: &str = "{tenant}";
/// Between a tenant set's name and a tenant's: `shops:acme`.
pub const TENANT_SEPARATOR: char = ':';

/// One tenant set. `Debug` hides the URLs' passwords. Its per-database keys repeat
/// [`DatabaseConfig`]'s rather than flattening it in: serde cannot refuse unknown keys through a
/// flattened struct, and a mistyped key must be an error. [`TenantSetConfig::tenant`] is where
/// the two meet.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantSetConfig {
    /// Each tenant's URL; `{tenant}` for a database (or SQLite file) per tenant.
    pub url: String,
    /// Each tenant's schema (Postgres): `"{tenant}"`, or a pattern like `"t_{tenant}"`.
    #[serde(default)]
    pub schema: Option<String>,
    /// Where the tenants' names come from.
    pub tenants: TenantSource,
    #[serde(default = "default_version_table")]
    pub version_table: String,
    #[serde(default)]
    pub branches: Option<Vec<String>>,
    #[serde(default)]
    pub driver: Option<DriverChoice>,
    #[serde(default)]
    pub migrations: Option<PathBuf>,
    #[serde(default)]
    pub password_env: Option<String>,
    #[serde(default)]
    pub password_file: Option<PathBuf>,
}

/// Where a tenant set's names come from.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum TenantSource {
    /// `tenants = ["acme", "globex"]`.
    Names(Vec<String>),
    /// `tenants = { file = … }`, `{ query = …, url = … }` or `{ like = …, url = … }`.
    From(TenantQuery),
}

/// The table form of [`TenantSource`]; exactly one of `file`, `query` and `like`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantQuery {
    /// A file of names, one per line (relative to the project root).
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// A query whose first column is the names.
    #[serde(default)]
    pub query: Option<String>,
    /// An SQL `LIKE` pattern over schemas, databases or files.
    #[serde(default)]
    pub like: Option<String>,
    /// The database the query or pattern runs on, when not the set's own URL.
    #[serde(default)]
    pub url: Option<String>,
}

/// A tenant set's source of names, validated: what the facade lists. (`Debug` by hand: the
/// URLs may hold a password.)
#[derive(Clone, PartialEq, Eq)]
pub enum Listing<'a> {
    Names(&'a [String]),
    File(&'a std::path::Path),
    /// A query's first column, on `url`.
    Query {
        sql: &'a str,
        url: &'a str,
    },
    /// Postgres schemas matching `pattern`, on `url`.
    Schemas {
        pattern: &'a str,
        url: &'a str,
    },
    /// Databases on the server of `url` matching `pattern`.
    Databases {
        pattern: &'a str,
        url: &'a str,
    },
    /// SQLite files: the set's URL with `{tenant}` matching `pattern`.
    Files {
        pattern: &'a str,
    },
}

impl fmt::Debug for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listing::Names(names) => f.debug_tuple("Names").field(&names.len()).finish(),
            Listing::File(path) => f.debug_tuple("File").field(path).finish(),
            Listing::Query { sql, url } => f
                .debug_struct("Query")
                .field("sql", sql)
                .field("url", &redact_url(url))
                .finish(),
            Listing::Schemas { pattern, url } => f
                .debug_struct("Schemas")
                .field("pattern", pattern)
                .field("url", &redact_url(url))
                .finish(),
            Listing::Databases { pattern, url } => f
                .debug_struct("Databases")
                .field("pattern", pattern)
                .field("url", &redact_url(url))
                .finish(),
            Listing::Files { pattern } => {
                f.debug_struct("Files").field("pattern", pattern).finish()
            }
        }
    }
}

impl fmt::Debug for TenantSetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TenantSetConfig")
            .field("url", &redact_url(&self.url))
            .field("schema", &self.schema)
            .field("tenants", &self.tenants)
            .field("version_table", &self.version_table)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for TenantSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TenantSource::Names(names) => f.debug_tuple("Names").field(&names.len()).finish(),
            TenantSource::From(q) => f
                .debug_struct("From")
                .field("file", &q.file)
                .field("query", &q.query)
                .field("like", &q.like)
                .field("url", &q.url.as_deref().map(redact_url))
                .finish(),
        }
    }
}

/// A tenant set whose settings cannot work together.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TenantSetError {
    #[error(
        "neither `url` nor `schema` holds `{{tenant}}`: every tenant would be the same database \
         (write e.g. url = \"postgres://…/{{tenant}}\" or schema = \"{{tenant}}\")"
    )]
    NoPlaceholder,
    #[error(
        "both `url` and `schema` hold `{{tenant}}`: a tenant is a database or a schema — keep \
         one"
    )]
    BothPlaceholders,
    #[error(
        "`tenants` needs exactly one of `file`, `query` and `like` (or a list of names, \
         tenants = [\"acme\", \"globex\"])"
    )]
    Source,
    #[error(
        "`tenants` {what} runs on a database, and the set's URL names a database per tenant: \
         say which with `url` in `tenants` (e.g. a control database)"
    )]
    NeedsUrl { what: &'static str },
    #[error("`tenants = {{ file = … }}` reads no database: remove `url`")]
    UrlWithFile,
    #[error(
        "`{{tenant}}` in a SQLite URL must be in the file's name, not a directory (e.g. \
         sqlite://data/tenants/{{tenant}}.db)"
    )]
    PlaceholderInDirectory,
    #[error(
        "the URL sets `options`, and a schema-per-tenant set sets it itself (the tenant's \
         search_path): remove it"
    )]
    Options,
    #[error(
        "tenant `{name}` is not a valid tenant name: use letters, digits, `_` and `-`, at most \
         63 characters"
    )]
    BadName { name: String },
    #[error(
        "`like` reads names around `{{tenant}}`, and `{part}` beside it holds characters a name \
         cannot (letters, digits, `_`, `-` and `.` only)"
    )]
    BadTemplate { part: String },
    #[error(
        "`like = \"{pattern}\"`: a pattern is letters, digits, `_`, `-`, `%` and `\\` \
         escapes (tenant names can hold nothing else)"
    )]
    BadPattern { pattern: String },
}

impl TenantSetConfig {
    /// The database settings of `tenant`: `{tenant}` replaced in the URL and the schema and,
    /// for a schema per tenant on Postgres, the schema set as the connection's `search_path`
    /// (through libpq's `options`) so that the tenant's migrations create their objects there.
    pub fn tenant(&self, tenant: &str) -> DatabaseConfig {
        let mut url = self.url.replace(TENANT_PLACEHOLDER, tenant);
        let schema = self
            .schema
            .as_deref()
            .map(|s| s.replace(TENANT_PLACEHOLDER, tenant));
        if let Some(schema) = schema.as_deref().filter(|_| self.schema_per_tenant()) {
            let separator = if url.contains('?') { '&' } else { '?' };
            // `-c search_path="name"`, percent-encoded; the name is an identifier (validated).
            url = format!("{url}{separator}options=-c%20search_path%3D%22{schema}%22");
        }
        DatabaseConfig {
            url,
            version_table: self.version_table.clone(),
            schema,
            branches: self.branches.clone(),
            driver: self.driver.clone(),
            migrations: self.migrations.clone(),
            password_env: self.password_env.clone(),
            password_file: self.password_file.clone(),
        }
    }

    /// The settings that stand for the whole set where no tenant is meant — a scratch
    /// database of `verify`, `lint`'s dialect: a tenant's, without the tenant's schema (a
    /// scratch database has none).
    pub fn representative(&self) -> DatabaseConfig {
        let mut config = self.tenant("tenant");
        if self.schema_per_tenant() {
            config.url = self.url.clone();
            config.schema = None;
        }
        config
    }

    /// For a schema per tenant, the statement that makes a session the tenant's: its
    /// `search_path` set to the tenant's schema (on a connection reused from another tenant,
    /// once the driver has reset it; at the top of the tenant's offline script). `None` when
    /// tenants do not share a database.
    pub fn search_path_sql(&self, tenant: &str) -> Option<String> {
        if !self.schema_per_tenant() {
            return None;
        }
        let schema = self.schema.as_deref()?.replace(TENANT_PLACEHOLDER, tenant);
        Some(format!("SET search_path TO \"{schema}\";\n"))
    }

    /// The text before and after `{tenant}` in the name a `like` listing reads: the schema
    /// (a schema per tenant), else the database in the URL, or the SQLite file's name — so
    /// `schema = "t_{tenant}"` lists schema `t_acme` as tenant `acme`.
    pub fn name_around(&self) -> (String, String) {
        let name = match (self.schema_per_tenant(), self.schema.as_deref()) {
            (true, Some(schema)) => schema,
            _ => {
                let path = self.url.split('?').next().unwrap_or(&self.url);
                path.rsplit('/').next().unwrap_or(path)
            }
        };
        match name.split_once(TENANT_PLACEHOLDER) {
            Some((before, after)) => (before.to_string(), after.to_string()),
            None => (String::new(), String::new()),
        }
    }

    /// Whether tenants share one database, each in its own schema.
    pub fn schema_per_tenant(&self) -> bool {
        self.schema
            .as_deref()
            .is_some_and(|s| s.contains(TENANT_PLACEHOLDER))
            && !self.url.contains(TENANT_PLACEHOLDER)
    }

    /// The dialect of the set's URL (the template's scheme, `${…}` resolved).
    pub fn dialect(&self) -> Result<Dialect, ConfigError> {
        crate::url_dialect(&crate::interpolate(&self.url)?)
    }

    /// Where the names come from, validated against the set's URL and dialect.
    pub fn listing(&self) -> Result<Listing<'_>, ConfigError> {
        let q = match &self.tenants {
            TenantSource::Names(names) => return Ok(Listing::Names(names)),
            TenantSource::From(q) => q,
        };
        let per_database = self.url.contains(TENANT_PLACEHOLDER);
        let on = |what: &'static str| match (&q.url, per_database) {
            (Some(url), _) => Ok(url.as_str()),
            (None, false) => Ok(self.url.as_str()),
            (None, true) => Err(ConfigError::from(TenantSetError::NeedsUrl { what })),
        };
        match (&q.file, &q.query, &q.like) {
            (Some(file), None, None) if q.url.is_none() => Ok(Listing::File(file)),
            (Some(_), None, None) => Err(TenantSetError::UrlWithFile.into()),
            (None, Some(sql), None) => Ok(Listing::Query {
                sql,
                url: on("`query`")?,
            }),
            (None, None, Some(pattern)) => {
                check_pattern(pattern)?;
                let (before, after) = self.name_around();
                for part in [before, after] {
                    check_pattern(&part.replace('.', ""))
                        .map_err(|_| TenantSetError::BadTemplate { part })?;
                }
                if self.dialect()? == Dialect::Sqlite && per_database {
                    return Ok(Listing::Files { pattern });
                }
                if per_database {
                    Ok(Listing::Databases {
                        pattern,
                        url: on("`like`")?,
                    })
                } else {
                    Ok(Listing::Schemas {
                        pattern,
                        url: on("`like`")?,
                    })
                }
            }
            _ => Err(TenantSetError::Source.into()),
        }
    }

    /// Checks what serde cannot; the caller names the set in the error.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let in_url = self.url.contains(TENANT_PLACEHOLDER);
        let in_schema = self
            .schema
            .as_deref()
            .is_some_and(|s| s.contains(TENANT_PLACEHOLDER));
        if !in_url && !in_schema {
            return Err(TenantSetError::NoPlaceholder.into());
        }
        if in_url && in_schema {
            return Err(TenantSetError::BothPlaceholders.into());
        }
        let probe = self.tenant("t");
        crate::check_identifier("version_table", &probe.version_table)?;
        if let Some(schema) = &probe.schema {
            crate::check_identifier("schema", schema)?;
        }
        if probe.password_env.is_some() && probe.password_file.is_some() {
            return Err(ConfigError::TwoPasswordSources);
        }
        // A URL naming an unset variable fails the set when it is used, not the commands
        // that need no database (as for a database).
        let dialect = match self.dialect() {
            Err(ConfigError::UnsetVariable { .. }) => return Ok(()),
            other => other?,
        };
        if self.schema.is_some() && dialect != Dialect::Postgres {
            return Err(ConfigError::SchemaUnsupported { dialect });
        }
        if self.schema_per_tenant() && self.url.contains("options=") {
            return Err(TenantSetError::Options.into());
        }
        if dialect == Dialect::Sqlite && in_url {
            let (directory, _) = self.url.rsplit_once('/').unwrap_or(("", &self.url));
            if directory.contains(TENANT_PLACEHOLDER) {
                return Err(TenantSetError::PlaceholderInDirectory.into());
            }
        }
        self.listing().map(|_| ())
    }
}

/// Checks a tenant's name: letters, digits, `_` and `-`, 1 to 63 characters.
pub fn check_tenant_name(name: &str) -> Result<(), TenantSetError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(TenantSetError::BadName {
            name: name.chars().take(80).collect(),
        })
    }
}

/// A `LIKE` pattern may hold what a tenant name holds, plus `%` and escapes: it is then safe
/// as an SQL string literal in every dialect.
fn check_pattern(pattern: &str) -> Result<(), TenantSetError> {
    let ok = pattern
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_-%\\".contains(&b))
        && !pattern.ends_with('\\')
        && !pattern.contains("\\\\");
    if ok {
        Ok(())
    } else {
        Err(TenantSetError::BadPattern {
            pattern: pattern.chars().take(80).collect(),
        })
    }
}

/// `SET:TENANT` split in two; `None` for a plain database name.
pub fn split_tenant(name: &str) -> Option<(&str, &str)> {
    name.split_once(TENANT_SEPARATOR)
}

/// The names a tenants file lists: one per line, blank lines and `#` comments skipped.
pub fn names_in_file(text: &str) -> Vec<String> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or("").trim())
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether `name` matches the SQL `LIKE` pattern `pattern` (`%` any run, `_` one character,
/// `\` escapes), as the servers match it for the other listings.
pub fn like(pattern: &str, name: &str) -> bool {
    fn matches(p: &[char], s: &[char]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some(('%', rest)) => (0..=s.len()).any(|i| matches(rest, &s[i..])),
            Some(('_', rest)) => !s.is_empty() && matches(rest, &s[1..]),
            Some(('\\', rest)) if !rest.is_empty() => {
                s.first() == Some(&rest[0]) && matches(&rest[1..], &s[1..])
            }
            Some((c, rest)) => s.first() == Some(c) && matches(rest, &s[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    matches(&p, &s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(url: &str, schema: Option<&str>, tenants: TenantSource) -> TenantSetConfig {
        TenantSetConfig {
            url: url.into(),
            schema: schema.map(str::to_string),
            tenants,
            version_table: default_version_table(),
            branches: None,
            driver: None,
            migrations: None,
            password_env: None,
            password_file: None,
        }
    }

    fn query(
        file: Option<&str>,
        sql: Option<&str>,
        like: Option<&str>,
        url: Option<&str>,
    ) -> TenantSource {
        TenantSource::From(TenantQuery {
            file: file.map(PathBuf::from),
            query: sql.map(str::to_string),
            like: like.map(str::to_string),
            url: url.map(str::to_string),
        })
    }

    #[test]
    fn a_schema_per_tenant_sets_the_search_path() {
        let s = set(
            "postgres://u@h/db?sslmode=disable",
            Some("t_{tenant}"),
            TenantSource::Names(vec![]),
        );
        let db = s.tenant("acme");
        assert_eq!(db.schema.as_deref(), Some("t_acme"));
        assert_eq!(
            db.url,
            "postgres://u@h/db?sslmode=disable&options=-c%20search_path%3D%22t_acme%22"
        );
        assert!(s.validate().is_ok());
    }

    #[test]
    fn a_database_per_tenant_replaces_the_placeholder() {
        let s = set("mysql://root@h/{tenant}", None, TenantSource::Names(vec![]));
        assert_eq!(s.tenant("acme").url, "mysql://root@h/acme");
        assert_eq!(s.tenant("acme").schema, None);
    }

    #[test]
    fn listings_follow_the_set() {
        let pg = set(
            "postgres://h/db",
            Some("{tenant}"),
            query(None, None, Some("t%"), None),
        );
        assert_eq!(
            pg.listing().unwrap(),
            Listing::Schemas {
                pattern: "t%",
                url: "postgres://h/db"
            }
        );
        let dbs = set(
            "postgres://h/{tenant}",
            None,
            query(None, None, Some("t%"), Some("postgres://h/postgres")),
        );
        assert_eq!(
            dbs.listing().unwrap(),
            Listing::Databases {
                pattern: "t%",
                url: "postgres://h/postgres"
            }
        );
        let files = set(
            "sqlite://data/{tenant}.db",
            None,
            query(None, None, Some("%"), None),
        );
        assert_eq!(files.listing().unwrap(), Listing::Files { pattern: "%" });
        let no_url = set(
            "mysql://h/{tenant}",
            None,
            query(None, Some("SELECT 1"), None, None),
        );
        assert!(matches!(
            no_url.listing(),
            Err(ConfigError::TenantSet(TenantSetError::NeedsUrl { .. }))
        ));
        let two = set(
            "mysql://h/{tenant}",
            None,
            query(Some("f"), Some("q"), None, None),
        );
        assert!(matches!(
            two.listing(),
            Err(ConfigError::TenantSet(TenantSetError::Source))
        ));
    }

    #[test]
    fn a_like_listing_reads_the_name_around_the_placeholder() {
        let schema = set(
            "postgres://h/db",
            Some("t_{tenant}"),
            TenantSource::Names(vec![]),
        );
        assert_eq!(schema.name_around(), ("t_".to_string(), String::new()));
        let db = set(
            "mysql://h/app_{tenant}_db?x=1",
            None,
            TenantSource::Names(vec![]),
        );
        assert_eq!(db.name_around(), ("app_".to_string(), "_db".to_string()));
        let file = set(
            "sqlite://data/{tenant}.db",
            None,
            TenantSource::Names(vec![]),
        );
        assert_eq!(file.name_around(), (String::new(), ".db".to_string()));
    }

    #[test]
    fn validation_refuses_what_cannot_work() {
        let both = set(
            "postgres://h/{tenant}",
            Some("{tenant}"),
            TenantSource::Names(vec![]),
        );
        assert!(matches!(
            both.validate(),
            Err(ConfigError::TenantSet(TenantSetError::BothPlaceholders))
        ));
        let none = set("postgres://h/db", None, TenantSource::Names(vec![]));
        assert!(matches!(
            none.validate(),
            Err(ConfigError::TenantSet(TenantSetError::NoPlaceholder))
        ));
        let dir = set(
            "sqlite://{tenant}/app.db",
            None,
            TenantSource::Names(vec![]),
        );
        assert!(matches!(
            dir.validate(),
            Err(ConfigError::TenantSet(
                TenantSetError::PlaceholderInDirectory
            ))
        ));
        let schema_mysql = set(
            "mysql://h/db",
            Some("{tenant}"),
            TenantSource::Names(vec![]),
        );
        assert!(matches!(
            schema_mysql.validate(),
            Err(ConfigError::SchemaUnsupported { .. })
        ));
        let options = set(
            "postgres://h/db?options=-c%20x%3D1",
            Some("{tenant}"),
            TenantSource::Names(vec![]),
        );
        assert!(matches!(
            options.validate(),
            Err(ConfigError::TenantSet(TenantSetError::Options))
        ));
    }

    #[test]
    fn patterns_are_safe_literals() {
        assert!(check_pattern("shop\\_%").is_ok());
        for bad in ["a'b", "a\\", "a\\\\b", "a b"] {
            assert!(check_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tenant_names_are_plain() {
        assert!(check_tenant_name("acme-1_b").is_ok());
        for bad in ["", "a b", "a/b", "a'b", "a:b", &"x".repeat(64)] {
            assert!(check_tenant_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn like_matches_as_sql_does() {
        assert!(like("t%", "tenant"));
        assert!(like("t_n%", "tenant"));
        assert!(!like("t_n", "tenant"));
        assert!(like("%", ""));
        assert!(like("a\\_b", "a_b"));
        assert!(!like("a\\_b", "axb"));
    }

    #[test]
    fn a_names_file_skips_comments_and_blanks() {
        assert_eq!(names_in_file("a\n\n# x\n b # c\n"), ["a", "b"]);
    }
}
