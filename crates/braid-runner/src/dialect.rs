//! Braid's own SQL, per dialect, in one place.
//!
//! Drivers are transport only; everything Braid itself says to a database (the version store's
//! DDL and DML, the existence checks that let `current` read without creating anything) is
//! rendered here from a [`Dialect`] so a plugin driver gets it for free by declaring its dialect.
//!
//! Every statement is rendered once per run ([`StoreSql::new`]) so the hot loop only binds
//! parameters.

use std::time::Duration;

use braid_driver::{Dialect, Value};

use crate::RunError;

/// The version store's schema version this binary writes and understands. A store with a higher
/// number was written by a newer Braid; we refuse it rather than guess. A lower one is brought
/// up to date under the lock ([`StoreSql::upgrades`]).
///
/// 1. The version, `_meta` and `_log` tables.
/// 2. `statement_started` and `session` (a statement that cannot share a transaction with its
///    bookkeeping is recorded as started, with the session running it, before it runs);
///    MySQL's `statement_hashes` becomes `LONGTEXT` (`TEXT` held ~3 800 statements).
pub const STORE_SCHEMA_VERSION: i64 = 2;

/// The query for the schema a session's unqualified names (and introspection) use: Postgres
/// `current_schema()`, MySQL `DATABASE()`; `None` for SQLite.
pub fn current_schema_query(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::Postgres => Some("SELECT current_schema()::text"),
        Dialect::Mysql => Some("SELECT DATABASE()"),
        Dialect::Sqlite => None,
    }
}

/// The default version table name.
pub const DEFAULT_VERSION_TABLE: &str = "braid_version";

/// Longest identifier every supported backend accepts (Postgres truncates at 63 bytes).
const MAX_IDENT: usize = 63;
/// The longest suffix Braid appends to the version table name (`_meta`), so companions fit too.
const LONGEST_SUFFIX: usize = "_meta".len();

/// Quotes an identifier for `dialect`, doubling any quote inside it: configured names are
/// validated, but a schema resolved from the server (a MySQL database called `my-app`) may hold
/// anything. Quoting also matters because `key`, `value` and `by` are reserved words.
/// How a migration's wait for a table lock is bounded ([`crate::DdlLock`]) on a dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockWaitSql {
    /// Postgres: `SET LOCAL lock_timeout` after each migration's `BEGIN`, so it ends with the
    /// transaction. Only migrations in a transaction are bounded: outside one, a
    /// `CREATE INDEX CONCURRENTLY` also waits for older snapshots, and a timeout there leaves
    /// an invalid index behind that the next run trips over.
    Transaction(String),
    /// MySQL/MariaDB: `lock_wait_timeout` (metadata locks, whole seconds, at least one) for the
    /// session, and the statement that puts the server's default back.
    Session { set: String, reset: &'static str },
}

/// [`LockWaitSql`] for `dialect`; `None` on SQLite, whose one writer waits through the
/// driver's busy timeout.
pub fn lock_wait_sql(dialect: Dialect, timeout: Duration) -> Option<LockWaitSql> {
    match dialect {
        Dialect::Postgres => Some(LockWaitSql::Transaction(format!(
            "SET LOCAL lock_timeout = '{}ms'",
            timeout.as_millis().max(1)
        ))),
        Dialect::Mysql => Some(LockWaitSql::Session {
            set: format!(
                "SET SESSION lock_wait_timeout = {}",
                timeout.as_millis().div_ceil(1000).max(1)
            ),
            reset: "SET SESSION lock_wait_timeout = DEFAULT",
        }),
        Dialect::Sqlite => None,
    }
}

/// Whether `e` is a statement that gave up waiting for a lock under [`lock_wait_sql`]'s bound:
/// Postgres `lock_not_available` (55P03), MySQL/MariaDB `ER_LOCK_WAIT_TIMEOUT` (1205).
pub fn is_lock_wait_timeout(dialect: Dialect, e: &braid_driver::DriverError) -> bool {
    let code = e.code.as_deref();
    match dialect {
        Dialect::Postgres => code == Some("55P03"),
        Dialect::Mysql => code == Some("1205"),
        Dialect::Sqlite => false,
    }
}

pub fn quote_ident(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// The `n`-th (1-based) positional parameter: `$n` on Postgres, `?` elsewhere.
pub fn placeholder(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Postgres => format!("${n}"),
        Dialect::Mysql | Dialect::Sqlite => "?".to_string(),
    }
}

/// Renders a value as an SQL literal for offline scripts: strings single-quoted with quotes
/// doubled (and, on MySQL, backslashes doubled, because MySQL treats `\` as an escape by default).
pub fn literal(dialect: Dialect, value: &Value) -> String {
    match value {
        Value::Null => "NULL".to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => format!("{f:?}"),
        Value::Float(_) => "NULL".to_string(),
        Value::Text(s) => quote_string(dialect, s),
        Value::Bytes(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            match dialect {
                Dialect::Postgres => format!("'\\x{hex}'::bytea"),
                Dialect::Mysql | Dialect::Sqlite => format!("X'{hex}'"),
            }
        }
    }
}

fn quote_string(dialect: Dialect, s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' if dialect == Dialect::Mysql => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Checks a name used as an SQL identifier: `[A-Za-z_][A-Za-z0-9_]*`. Validating instead of
/// escaping keeps the same name usable unquoted in every backend's tooling.
pub fn validate_ident(what: &str, name: &str, max: usize) -> Result<(), RunError> {
    let mut chars = name.chars();
    let ok_first = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !ok_first || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(RunError::Config(format!(
            "{what} `{name}` is not a valid name: use letters, digits and `_`, not starting with a digit"
        )));
    }
    if name.len() > max {
        return Err(RunError::Config(format!(
            "{what} `{name}` is {} characters long; the limit is {max}",
            name.len()
        )));
    }
    Ok(())
}

/// Whether `name` is one of the tables of the version store `version_table`: the table itself,
/// its `_meta` and `_log` companions, and the backfills' cursor table. A schema snapshot
/// compared with another (verify, autogenerate, merges) leaves them out.
pub fn is_store_table(version_table: &str, name: &str) -> bool {
    name == version_table
        || ["_meta", "_log"]
            .iter()
            .any(|suffix| name.strip_suffix(suffix) == Some(version_table))
        || name == crate::backfill::cursor_name(version_table)
}

/// The validated names of a version store: the table, its `_meta` and `_log` companions and the
/// optional schema (Postgres) they live in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreNames {
    table: String,
    schema: Option<String>,
}

impl StoreNames {
    /// Validates the table and schema names. The table may be at most 58 characters so that
    /// `<table>_meta` still fits the 63-character identifier limit.
    pub fn new(table: &str, schema: Option<&str>) -> Result<Self, RunError> {
        validate_ident("version table", table, MAX_IDENT - LONGEST_SUFFIX)?;
        if let Some(s) = schema {
            validate_ident("schema", s, MAX_IDENT)?;
        }
        Ok(StoreNames {
            table: table.to_string(),
            schema: schema.map(str::to_string),
        })
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// These names in `schema`, as resolved on the server ([`StoreSql::resolve_schema`]): not
    /// validated (it exists already, and is quoted wherever it is used).
    pub fn in_schema(&self, schema: String) -> StoreNames {
        StoreNames {
            table: self.table.clone(),
            schema: Some(schema),
        }
    }

    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The migration lock's key: one per version store, so two stores in one database (two apps,
    /// two schemas) do not serialise each other (sqlx #1698, Atlas #3476). Taken from resolved
    /// names, so runners configured with `schema = "public"` and with no schema, which use the
    /// same table, use the same key.
    pub fn lock_key(&self) -> String {
        match &self.schema {
            Some(s) => format!("braid:{s}.{}", self.table),
            None => format!("braid:{}", self.table),
        }
    }
}

impl Default for StoreNames {
    fn default() -> Self {
        StoreNames {
            table: DEFAULT_VERSION_TABLE.to_string(),
            schema: None,
        }
    }
}

/// Every statement the version store needs, rendered for one dialect and one set of names.
#[derive(Debug, Clone)]
pub struct StoreSql {
    pub dialect: Dialect,
    pub names: StoreNames,
    /// `CREATE TABLE IF NOT EXISTS` for the version, meta and log tables, in that order.
    pub create: Vec<String>,
    /// Checks whether a table exists; bind [`StoreSql::exists_params`].
    pub table_exists: String,
    pub select_schema_version: String,
    pub insert_schema_version: String,
    pub select_rows: String,
    /// [`StoreSql::select_rows`] with the store's schema version as a ninth column on every
    /// row: the up-to-date check reads rows and version in one round trip.
    pub select_rows_with_version: String,
    /// Params: revision, checksum, applied_at, duration_ms, applied_by.
    pub insert_row: String,
    /// Params: revision.
    pub delete_row: String,
    pub delete_all: String,
    /// Params: checksum, revision.
    pub update_checksum: String,
    /// A revision's first recorded progress. Params: revision, checksum, applied_at,
    /// duration_ms, applied_by, statements_done, statements_total, statement_hashes,
    /// statement_started, session.
    pub insert_progress: String,
    /// Params: statements_done, statements_total, statement_hashes, statement_started, session,
    /// revision.
    pub update_progress: String,
    /// [`StoreSql::update_progress`] without the hashes, which do not change during a run: a
    /// migration of thousands of statements writes a few bytes per statement, not all its
    /// hashes. Params: statements_done, statement_started, session, revision.
    pub advance_progress: String,
    /// Clears the progress of a revision whose statements have all run.
    /// Params: checksum, applied_at, duration_ms, revision.
    pub complete_row: String,
    /// Clears a revision's progress and leaves the rest of its row (a downgrade that stopped
    /// before its first statement took effect). Params: revision.
    pub clear_progress: String,
    /// `revision, statement_started, session` of rows with a started statement (schema 2).
    pub select_started: String,
    /// Whether a column exists; bind [`StoreSql::column_params`].
    pub column_exists: String,
    /// Sets the store's schema version to [`STORE_SCHEMA_VERSION`].
    pub update_schema_version: String,
    /// The lock condition the writes carry ([`StoreSql::guarded`]), if any.
    pub guard: Option<String>,
    /// MySQL only: one statement that completes a row whose statements have all run (the first
    /// five params: revision, checksum, applied_at, duration_ms, applied_by) and inserts the
    /// next revision's first progress (ten params, as [`StoreSql::insert_progress`]). One
    /// autocommit write instead of two: on MySQL, where every migration runs statement by
    /// statement, that is one durable commit per migration fewer.
    pub complete_and_mark: Option<String>,
    /// Params: at, by, action, revision, detail.
    pub insert_log: String,
    table_q: String,
    meta_name: String,
    log_name: String,
}

/// The columns schema 2 added, with their types: they are added to an older store one by one.
pub const V2_COLUMNS: [(&str, &str); 2] = [
    ("statement_started", "INTEGER NULL"),
    ("session", "VARCHAR(128) NULL"),
];

/// The version table's columns, in the order [`StoreSql::select_rows`] returns them. (Schema 2's
/// columns are read apart, only for rows with a started statement, so a store is read the same
/// way before and after its upgrade.)
pub const ROW_COLUMNS: [&str; 8] = [
    "revision",
    "checksum",
    "applied_at",
    "duration_ms",
    "applied_by",
    "statements_done",
    "statements_total",
    "statement_hashes",
];

impl StoreSql {
    pub fn new(dialect: Dialect, names: StoreNames) -> Self {
        let q = |n: &str| quote_ident(dialect, n);
        let qualify = |n: &str| match names.schema() {
            Some(s) => format!("{}.{}", q(s), q(n)),
            None => q(n),
        };
        let meta_name = format!("{}_meta", names.table());
        let log_name = format!("{}_log", names.table());
        let table_q = qualify(names.table());
        let meta_q = qualify(&meta_name);
        let log_q = qualify(&log_name);
        let p = |n| placeholder(dialect, n);
        let log_id = match dialect {
            Dialect::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            Dialect::Mysql => "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY",
            Dialect::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        // One hash per statement: MySQL's TEXT (64 KB) holds ~3 800; the others' TEXT is unbounded.
        let hashes_type = match dialect {
            Dialect::Mysql => "LONGTEXT",
            Dialect::Postgres | Dialect::Sqlite => "TEXT",
        };
        // Revision ids are ASCII and case-sensitive; MySQL's default collation is neither.
        let id_type = match dialect {
            Dialect::Mysql => "VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin",
            Dialect::Postgres | Dialect::Sqlite => "VARCHAR(64)",
        };
        let create = vec![
            format!(
                "CREATE TABLE IF NOT EXISTS {table_q} (\n    {} {id_type} NOT NULL PRIMARY KEY,\n    {} VARCHAR(80) NOT NULL,\n    {} VARCHAR(40) NOT NULL,\n    {} BIGINT NOT NULL,\n    {} VARCHAR(255) NOT NULL,\n    {} INTEGER NULL,\n    {} INTEGER NULL,\n    {} {hashes_type} NULL,\n    {} {},\n    {} {}\n)",
                q("revision"),
                q("checksum"),
                q("applied_at"),
                q("duration_ms"),
                q("applied_by"),
                q("statements_done"),
                q("statements_total"),
                q("statement_hashes"),
                q(V2_COLUMNS[0].0),
                V2_COLUMNS[0].1,
                q(V2_COLUMNS[1].0),
                V2_COLUMNS[1].1,
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {meta_q} (\n    {} VARCHAR(64) NOT NULL PRIMARY KEY,\n    {} VARCHAR(255) NOT NULL\n)",
                q("key"),
                q("value"),
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {log_q} (\n    {} {log_id},\n    {} VARCHAR(40) NOT NULL,\n    {} VARCHAR(255) NOT NULL,\n    {} VARCHAR(32) NOT NULL,\n    {} VARCHAR(64) NULL,\n    {} TEXT NULL\n)",
                q("id"),
                q("at"),
                q("by"),
                q("action"),
                q("revision"),
                q("detail"),
            ),
        ];
        // Where the store lives: the resolved schema (a parameter) once resolved; the session's
        // own only for names not resolved (offline scripts).
        let schema_is = match (dialect, names.schema()) {
            (Dialect::Sqlite, _) => "",
            (_, Some(_)) => "table_schema = {p} AND ",
            (Dialect::Postgres, None) => "table_schema = current_schema() AND ",
            (Dialect::Mysql, None) => "table_schema = DATABASE() AND ",
        };
        let in_schema = |first: usize| schema_is.replace("{p}", &p(first));
        let after = usize::from(dialect != Dialect::Sqlite && names.schema().is_some());
        let table_exists = match dialect {
            Dialect::Sqlite => {
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?".to_string()
            }
            _ => format!(
                "SELECT 1 FROM information_schema.tables WHERE {}table_name = {}",
                in_schema(1),
                p(1 + after)
            ),
        };
        let column_exists = match dialect {
            Dialect::Sqlite => "SELECT 1 FROM pragma_table_info(?) WHERE name = ?".to_string(),
            _ => format!(
                "SELECT 1 FROM information_schema.columns WHERE {}table_name = {} AND column_name = {}",
                in_schema(1),
                p(1 + after),
                p(2 + after)
            ),
        };
        let cols: Vec<String> = ROW_COLUMNS.iter().map(|c| q(c)).collect();
        let progress_cols: Vec<String> = cols
            .iter()
            .cloned()
            .chain(V2_COLUMNS.iter().map(|(c, _)| q(c)))
            .collect();
        let placeholders = |n: usize| (1..=n).map(p).collect::<Vec<_>>().join(", ");
        StoreSql {
            dialect,
            create,
            table_exists,
            select_schema_version: format!(
                "SELECT {} FROM {meta_q} WHERE {} = 'schema_version'",
                q("value"),
                q("key")
            ),
            insert_schema_version: format!(
                "INSERT INTO {meta_q} ({}, {}) VALUES ('schema_version', '{STORE_SCHEMA_VERSION}')",
                q("key"),
                q("value")
            ),
            select_rows: format!(
                "SELECT {} FROM {table_q} ORDER BY {}, {}",
                cols.join(", "),
                q("applied_at"),
                q("revision")
            ),
            select_rows_with_version: format!(
                "SELECT {}, (SELECT {} FROM {meta_q} WHERE {} = 'schema_version') FROM {table_q} ORDER BY {}, {}",
                cols.join(", "),
                q("value"),
                q("key"),
                q("applied_at"),
                q("revision")
            ),
            insert_row: format!(
                "INSERT INTO {table_q} ({}) VALUES ({}, {}, {}, {}, {})",
                cols[..5].join(", "),
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            insert_progress: format!(
                "INSERT INTO {table_q} ({}) VALUES ({})",
                progress_cols.join(", "),
                placeholders(progress_cols.len())
            ),
            update_progress: format!(
                "UPDATE {table_q} SET {} WHERE {} = {}",
                progress_cols[5..]
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c} = {}", p(i + 1)))
                    .collect::<Vec<_>>()
                    .join(", "),
                q("revision"),
                p(progress_cols.len() - 4)
            ),
            advance_progress: format!(
                "UPDATE {table_q} SET {} = {}, {} = {}, {} = {} WHERE {} = {}",
                q("statements_done"),
                p(1),
                q("statement_started"),
                p(2),
                q("session"),
                p(3),
                q("revision"),
                p(4)
            ),
            complete_row: format!(
                "UPDATE {table_q} SET {} = {}, {} = {}, {} = {}, {} WHERE {} = {}",
                q("checksum"),
                p(1),
                q("applied_at"),
                p(2),
                q("duration_ms"),
                p(3),
                null_progress(&progress_cols),
                q("revision"),
                p(4)
            ),
            clear_progress: format!(
                "UPDATE {table_q} SET {} WHERE {} = {}",
                null_progress(&progress_cols),
                q("revision"),
                p(1)
            ),
            select_started: format!(
                "SELECT {}, {}, {} FROM {table_q} WHERE {} IS NOT NULL",
                q("revision"),
                q("statement_started"),
                q("session"),
                q("statement_started")
            ),
            column_exists,
            guard: None,
            complete_and_mark: (dialect == Dialect::Mysql).then(|| {
                // Updated on the existing row: everything but the key and who first ran it.
                format!(
                    "INSERT INTO {table_q} ({}) VALUES ({}, {}, {}, {}, {}, NULL, NULL, NULL, NULL, NULL), ({}) \
                     ON DUPLICATE KEY UPDATE {}",
                    progress_cols.join(", "),
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    (6..=15).map(p).collect::<Vec<_>>().join(", "),
                    progress_cols
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| *i != 0 && *i != 4)
                        .map(|(_, c)| format!("{c} = VALUES({c})"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }),
            update_schema_version: format!(
                "UPDATE {meta_q} SET {} = '{STORE_SCHEMA_VERSION}' WHERE {} = 'schema_version'",
                q("value"),
                q("key")
            ),
            delete_row: format!("DELETE FROM {table_q} WHERE {} = {}", q("revision"), p(1)),
            delete_all: format!("DELETE FROM {table_q}"),
            update_checksum: format!(
                "UPDATE {table_q} SET {} = {} WHERE {} = {}",
                q("checksum"),
                p(1),
                q("revision"),
                p(2)
            ),
            insert_log: format!(
                "INSERT INTO {log_q} ({}, {}, {}, {}, {}) VALUES ({}, {}, {}, {}, {})",
                q("at"),
                q("by"),
                q("action"),
                q("revision"),
                q("detail"),
                p(1),
                p(2),
                p(3),
                p(4),
                p(5)
            ),
            table_q,
            meta_name,
            log_name,
            names,
        }
    }

    /// These statements with every write of a migration's bookkeeping made conditional on
    /// `guard` ([`braid_driver::Driver::lock_guard`]): an `UPDATE`/`DELETE` gets `AND guard`, an
    /// `INSERT … VALUES (…)` becomes `INSERT … SELECT … FROM DUAL WHERE guard` (MySQL, the one
    /// backend with a guard). A guarded write that touches no row found the lock gone.
    pub fn guarded(&self, guard: &str) -> StoreSql {
        let and = |sql: &String| format!("{sql} AND {guard}");
        let select = |sql: &String| {
            let (head, rows) = sql.split_once(" VALUES ").unwrap_or((sql, ""));
            let (rows, tail) = match rows.split_once(" ON DUPLICATE KEY UPDATE ") {
                Some((rows, tail)) => (rows, format!(" ON DUPLICATE KEY UPDATE {tail}")),
                None => (rows, String::new()),
            };
            let selects: Vec<String> = split_rows(rows)
                .into_iter()
                .map(|r| format!("SELECT {r} FROM DUAL WHERE {guard}"))
                .collect();
            format!("{head} {}{tail}", selects.join(" UNION ALL "))
        };
        StoreSql {
            insert_row: select(&self.insert_row),
            insert_progress: select(&self.insert_progress),
            complete_and_mark: self.complete_and_mark.as_ref().map(select),
            update_progress: and(&self.update_progress),
            advance_progress: and(&self.advance_progress),
            complete_row: and(&self.complete_row),
            clear_progress: and(&self.clear_progress),
            delete_row: and(&self.delete_row),
            guard: Some(guard.to_string()),
            ..self.clone()
        }
    }

    /// Parameters for [`StoreSql::table_exists`] checking the table called `name`.
    pub fn exists_params(&self, name: &str) -> Vec<Value> {
        match (self.dialect, self.names.schema()) {
            (Dialect::Postgres | Dialect::Mysql, Some(s)) => vec![s.into(), name.into()],
            _ => vec![name.into()],
        }
    }

    /// Parameters for [`StoreSql::column_exists`] checking the version table's `column`.
    pub fn column_params(&self, column: &str) -> Vec<Value> {
        let mut params = self.exists_params(self.names.table());
        params.push(column.into());
        params
    }

    /// The query finding the schema a store lives in, where the backend has schemas, with its
    /// parameters; `None` for SQLite. Postgres: the schema of the table the unqualified name
    /// resolves to through `search_path` (as every earlier run saw it), else `current_schema()`
    /// (where it would be created) — so a schema created later that comes first in the path
    /// (one named after the role, for `"$user"`) does not hide the existing store. MySQL: the
    /// connection's database.
    pub fn resolve_schema(dialect: Dialect, table: &str) -> Option<(String, Vec<Value>)> {
        match dialect {
            Dialect::Postgres => Some((
                "SELECT COALESCE((SELECT n.nspname::text FROM pg_catalog.pg_class c \
                 JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.oid = pg_catalog.to_regclass($1)), pg_catalog.current_schema()::text)"
                    .to_string(),
                vec![quote_ident(dialect, table).into()],
            )),
            Dialect::Mysql => Some(("SELECT DATABASE()".to_string(), Vec::new())),
            Dialect::Sqlite => None,
        }
    }

    /// The statements bringing a store of schema `from` to [`STORE_SCHEMA_VERSION`], each with
    /// the column it adds (skip the statement when the column exists: on MySQL a DDL statement
    /// commits at once, so an upgrade stopped half-way is finished by the next run), then the
    /// schema version's update.
    pub fn upgrades(&self, from: i64) -> Vec<(Option<&'static str>, String)> {
        let mut out = Vec::new();
        if from < 2 {
            if self.dialect == Dialect::Mysql {
                out.push((
                    None,
                    format!(
                        "ALTER TABLE {} MODIFY {} LONGTEXT NULL",
                        self.table_q,
                        quote_ident(self.dialect, "statement_hashes")
                    ),
                ));
            }
            for (column, ty) in V2_COLUMNS {
                out.push((
                    Some(column),
                    format!(
                        "ALTER TABLE {} ADD COLUMN {} {ty}",
                        self.table_q,
                        quote_ident(self.dialect, column)
                    ),
                ));
            }
            // Schema 1 recorded progress after each statement, so a run killed in between
            // left it one statement behind: the statement after the last recorded one may have
            // run. Marking it started makes the next run judge it from the schema instead of
            // running it blindly (no session was recorded, so there is none to wait for).
            let q = |c| quote_ident(self.dialect, c);
            out.push((
                None,
                format!(
                    "UPDATE {table} SET {started} = {done} + 1 WHERE {done} IS NOT NULL \
                     AND {started} IS NULL AND ({total} IS NULL OR {done} < {total})",
                    table = self.table_q,
                    started = q("statement_started"),
                    done = q("statements_done"),
                    total = q("statements_total"),
                ),
            ));
        }
        if !out.is_empty() {
            out.push((None, self.update_schema_version.clone()));
        }
        out
    }

    pub fn meta_table(&self) -> &str {
        &self.meta_name
    }

    pub fn log_table(&self) -> &str {
        &self.log_name
    }

    /// An expression for "now, UTC, RFC 3339" evaluated by the server: offline scripts record
    /// when they are applied, not when they were rendered.
    pub fn now_expr(&self) -> &'static str {
        match self.dialect {
            Dialect::Postgres => {
                "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
            }
            // `%f` is microseconds; cut to milliseconds like the other dialects and the runner.
            Dialect::Mysql => {
                "CONCAT(SUBSTRING(DATE_FORMAT(UTC_TIMESTAMP(3), '%Y-%m-%dT%H:%i:%s.%f'), 1, 23), 'Z')"
            }
            Dialect::Sqlite => "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
        }
    }

    /// The version-row INSERT with literal values, for offline scripts.
    pub fn insert_row_literal(&self, revision: &str, checksum: &str, applied_by: &str) -> String {
        let l = |s: &str| literal(self.dialect, &Value::Text(s.to_string()));
        let q = |n: &str| quote_ident(self.dialect, n);
        format!(
            "INSERT INTO {} ({}, {}, {}, {}, {}) VALUES ({}, {}, {}, 0, {});",
            self.table_q,
            q("revision"),
            q("checksum"),
            q("applied_at"),
            q("duration_ms"),
            q("applied_by"),
            l(revision),
            l(checksum),
            self.now_expr(),
            l(applied_by)
        )
    }

    /// The version-row DELETE with a literal value, for offline scripts.
    pub fn delete_row_literal(&self, revision: &str) -> String {
        format!(
            "DELETE FROM {} WHERE {} = {};",
            self.table_q,
            quote_ident(self.dialect, "revision"),
            literal(self.dialect, &Value::Text(revision.to_string()))
        )
    }

    /// The whole store DDL as a script (each statement terminated), for offline scripts.
    pub fn create_script(&self) -> String {
        let mut out = String::new();
        for stmt in &self.create {
            out.push_str(stmt);
            out.push_str(";\n");
        }
        // Offline scripts may be applied to a store that already has the row; only MySQL and
        // SQLite have a terse "insert if absent", Postgres gets ON CONFLICT.
        let insert = match self.dialect {
            Dialect::Postgres => format!("{} ON CONFLICT DO NOTHING", self.insert_schema_version),
            Dialect::Mysql => self
                .insert_schema_version
                .replacen("INSERT", "INSERT IGNORE", 1),
            Dialect::Sqlite => self
                .insert_schema_version
                .replacen("INSERT", "INSERT OR IGNORE", 1),
        };
        out.push_str(&insert);
        out.push_str(";\n");
        out
    }
}

/// The rows of `(a, b), (c, d)` without their parentheses: `["a, b", "c, d"]`. (Only Braid's
/// own rendered statements get here: placeholders, `NULL`s, no parentheses inside.)
fn split_rows(rows: &str) -> Vec<&str> {
    rows.split("), (")
        .map(|r| r.trim().trim_start_matches('(').trim_end_matches(')'))
        .collect()
}

/// `col = NULL` for each progress column (after the five a complete row keeps).
fn null_progress(progress_cols: &[String]) -> String {
    progress_cols[5..]
        .iter()
        .map(|c| format!("{c} = NULL"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(StoreNames::new("braid_version", None).is_ok());
        assert!(StoreNames::new("_x1", Some("app")).is_ok());
        for bad in ["", "1abc", "a-b", "a b", "x\"y", "t;drop"] {
            assert!(StoreNames::new(bad, None).is_err(), "{bad}");
        }
        assert!(StoreNames::new(&"a".repeat(58), None).is_ok());
        assert!(StoreNames::new(&"a".repeat(59), None).is_err());
        assert!(StoreNames::new("t", Some("bad-schema")).is_err());
    }

    #[test]
    fn quoting_and_placeholders() {
        let pg = StoreSql::new(
            Dialect::Postgres,
            StoreNames::new("v", Some("app")).unwrap(),
        );
        assert!(pg.create[0].starts_with("CREATE TABLE IF NOT EXISTS \"app\".\"v\" ("));
        assert!(pg.insert_row.ends_with("VALUES ($1, $2, $3, $4, $5)"));
        assert_eq!(
            pg.delete_row,
            "DELETE FROM \"app\".\"v\" WHERE \"revision\" = $1"
        );
        let my = StoreSql::new(Dialect::Mysql, StoreNames::default());
        assert!(my.create[1].contains("`braid_version_meta`"));
        assert!(my.create[2].contains("AUTO_INCREMENT"));
        assert!(my.insert_row.ends_with("VALUES (?, ?, ?, ?, ?)"));
        let lite = StoreSql::new(Dialect::Sqlite, StoreNames::default());
        assert_eq!(
            lite.update_checksum,
            "UPDATE \"braid_version\" SET \"checksum\" = ? WHERE \"revision\" = ?"
        );
    }

    #[test]
    fn literals() {
        let t = |s: &str| Value::Text(s.into());
        assert_eq!(literal(Dialect::Postgres, &t("it's")), "'it''s'");
        assert_eq!(literal(Dialect::Mysql, &t("a\\b'")), "'a\\\\b'''");
        assert_eq!(literal(Dialect::Sqlite, &t("a\\b")), "'a\\b'");
        assert_eq!(literal(Dialect::Sqlite, &Value::Null), "NULL");
        assert_eq!(literal(Dialect::Sqlite, &Value::Int(-3)), "-3");
        assert_eq!(
            literal(Dialect::Sqlite, &Value::Bytes(vec![1, 255])),
            "X'01ff'"
        );
    }

    #[test]
    #[ignore]
    fn print_ddl() {
        for d in Dialect::ALL {
            let sql = StoreSql::new(d, StoreNames::default());
            println!("-- {d}\n{}", sql.create_script());
        }
    }

    #[test]
    fn guarded_writes_carry_the_condition() {
        let my = StoreSql::new(
            Dialect::Mysql,
            StoreNames::default().in_schema("app".into()),
        );
        let g = my.guarded("IS_USED_LOCK('braid:00') = 7");
        let guard = "FROM DUAL WHERE IS_USED_LOCK('braid:00') = 7";
        assert!(
            g.insert_row
                .ends_with(&format!("SELECT ?, ?, ?, ?, ? {guard}")),
            "{}",
            g.insert_row
        );
        assert!(
            g.insert_progress
                .contains(&format!("?, ?, ?, ?, ?, ?, ?, ?, ?, ? {guard}"))
        );
        let merged = g.complete_and_mark.unwrap();
        assert_eq!(merged.matches(guard).count(), 2, "{merged}");
        assert!(merged.contains(" UNION ALL SELECT "), "{merged}");
        assert!(merged.contains("ON DUPLICATE KEY UPDATE"), "{merged}");
        for sql in [
            &g.update_progress,
            &g.advance_progress,
            &g.complete_row,
            &g.clear_progress,
            &g.delete_row,
        ] {
            assert!(sql.ends_with("AND IS_USED_LOCK('braid:00') = 7"), "{sql}");
        }
        // Reads, the log and stamp's statements are left as they are.
        assert_eq!(g.select_rows, my.select_rows);
        assert_eq!(g.insert_log, my.insert_log);
    }

    #[test]
    fn lock_key_depends_on_store() {
        assert_eq!(StoreNames::default().lock_key(), "braid:braid_version");
        assert_eq!(
            StoreNames::new("v", Some("s")).unwrap().lock_key(),
            "braid:s.v"
        );
    }
}
