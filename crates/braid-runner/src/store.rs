//! The version store: one row per applied revision, plus `<table>_meta` (the store's own schema
//! version) and `<table>_log` (an audit trail of accepts, stamps and runs).
//!
//! Reading never creates anything, so `current` and `check` leave a fresh database untouched.

use braid_driver::{Driver, DriverError, Value};

use crate::RunError;
use crate::dialect::{ROW_COLUMNS, STORE_SCHEMA_VERSION, StoreSql};
use crate::report::{AppliedRow, Progress};

/// The version store of one database, with its statements rendered once.
#[derive(Debug, Clone)]
pub struct Store {
    pub sql: StoreSql,
    database: String,
}

impl Store {
    pub fn new(database: &str, sql: StoreSql) -> Self {
        Store {
            sql,
            database: database.to_string(),
        }
    }

    fn err(&self, context: &str, e: DriverError) -> RunError {
        RunError::driver(&self.database, context, e)
    }

    async fn exists(&self, driver: &mut dyn Driver, table: &str) -> Result<bool, RunError> {
        let rows = driver
            .query(&self.sql.table_exists, &self.sql.exists_params(table))
            .await
            .map_err(|e| self.err(&format!("checking whether `{table}` exists"), e))?;
        Ok(!rows.rows.is_empty())
    }

    /// Refuses a store written by a newer Braid.
    async fn check_schema_version(&self, driver: &mut dyn Driver) -> Result<Option<i64>, RunError> {
        let rows = driver
            .query(&self.sql.select_schema_version, &[])
            .await
            .map_err(|e| self.err("reading the version store's schema version", e))?;
        let Some(v) = rows.rows.first().and_then(|r| r.first()) else {
            return Ok(None);
        };
        let found = int_of(v).ok_or_else(|| {
            RunError::Config(format!(
                "database `{}`: the version store `{}` has an unreadable schema_version ({v:?})",
                self.database,
                self.sql.meta_table()
            ))
        })?;
        if found > STORE_SCHEMA_VERSION {
            return Err(RunError::NewerStore {
                database: self.database.clone(),
                table: self.sql.names.table().to_string(),
                found,
                supported: STORE_SCHEMA_VERSION,
            });
        }
        Ok(Some(found))
    }

    /// Creates the store if needed and checks its schema version. Called under the lock.
    ///
    /// An existing store costs two reads and no write (so no commit, no fsync); a new one is
    /// created in one transaction where DDL is transactional.
    pub async fn ensure(&self, driver: &mut dyn Driver) -> Result<(), RunError> {
        if self.exists(driver, self.sql.names.table()).await?
            && self.exists(driver, self.sql.meta_table()).await?
            && self.check_schema_version(driver).await?.is_some()
        {
            return Ok(());
        }
        let tx = driver.dialect().transactional_ddl();
        let create = async |driver: &mut dyn Driver| -> Result<(), RunError> {
            for stmt in &self.sql.create {
                driver
                    .execute(stmt, &[])
                    .await
                    .map_err(|e| self.err("creating the version store", e))?;
            }
            if self.check_schema_version(driver).await?.is_none() {
                driver
                    .execute(&self.sql.insert_schema_version, &[])
                    .await
                    .map_err(|e| self.err("recording the version store's schema version", e))?;
            }
            Ok(())
        };
        if !tx {
            return create(driver).await;
        }
        driver
            .begin()
            .await
            .map_err(|e| self.err("creating the version store", e))?;
        match create(driver).await {
            Ok(()) => driver
                .commit()
                .await
                .map_err(|e| self.err("creating the version store", e)),
            Err(e) => {
                let _ = driver.rollback().await;
                Err(e)
            }
        }
    }

    /// Every row, or nothing when the store does not exist yet. Never creates the store.
    pub async fn read(&self, driver: &mut dyn Driver) -> Result<Vec<AppliedRow>, RunError> {
        if !self.exists(driver, self.sql.names.table()).await? {
            return Ok(Vec::new());
        }
        if self.exists(driver, self.sql.meta_table()).await? {
            self.check_schema_version(driver).await?;
        }
        self.read_rows(driver).await
    }

    /// Every row of a store known to exist.
    pub async fn read_rows(&self, driver: &mut dyn Driver) -> Result<Vec<AppliedRow>, RunError> {
        let rows = driver
            .query(&self.sql.select_rows, &[])
            .await
            .map_err(|e| self.err("reading the version store", e))?;
        Ok(parse_rows(rows.rows))
    }

    /// Every row in one round trip, if the store exists, has rows and is of exactly the schema
    /// version this Braid writes; `None` otherwise (no store, a missing or other schema version,
    /// any error), for the caller to take the path that checks and reports.
    pub async fn read_current_rows(&self, driver: &mut dyn Driver) -> Option<Vec<AppliedRow>> {
        let rows = driver
            .query(&self.sql.select_rows_with_version, &[])
            .await
            .ok()?;
        let current = !rows.rows.is_empty()
            && rows
                .rows
                .iter()
                .all(|r| r.get(ROW_COLUMNS.len()).and_then(int_of) == Some(STORE_SCHEMA_VERSION));
        current.then(|| parse_rows(rows.rows))
    }

    /// Appends an audit entry. Not on the per-step hot path.
    pub async fn log(
        &self,
        driver: &mut dyn Driver,
        by: &str,
        action: &str,
        revision: Option<&str>,
        detail: Option<&str>,
    ) -> Result<(), RunError> {
        driver
            .execute(
                &self.sql.insert_log,
                &[
                    now().into(),
                    by.into(),
                    action.into(),
                    revision.into(),
                    detail.into(),
                ],
            )
            .await
            .map_err(|e| self.err("writing the version store's log", e))?;
        Ok(())
    }
}

/// Version-table rows, in [`ROW_COLUMNS`] order, as [`AppliedRow`]s.
fn parse_rows(rows: Vec<Vec<Value>>) -> Vec<AppliedRow> {
    rows.into_iter()
        .map(|r| {
            let text = |i: usize| r.get(i).map(text_of).unwrap_or_default();
            let int = |i: usize| r.get(i).and_then(int_of);
            let partial = int(5).map(|done| Progress {
                statements_done: done,
                statements_total: int(6),
                statement_hashes: r.get(7).and_then(|v| v.as_str().map(str::to_string)),
            });
            AppliedRow {
                revision: text(0),
                checksum: text(1),
                applied_at: text(2),
                duration_ms: int(3).unwrap_or(0),
                applied_by: text(4),
                partial,
            }
        })
        .collect()
}

/// Now, UTC, RFC 3339 with milliseconds (fixed width, so the text sorts in time order).
pub fn now() -> String {
    format!("{:.3}", jiff::Timestamp::now())
}

/// `user@host`, from the environment (no extra crates): who ran a migration, for the audit trail.
pub fn applied_by() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_string());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    let mut by = format!("{user}@{host}");
    // The column is VARCHAR(255).
    while by.len() > 255 {
        by.pop();
    }
    by
}

fn text_of(v: &Value) -> String {
    match v {
        Value::Text(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        Value::Null => String::new(),
    }
}

/// Backends differ in how they return integers (MySQL may send text); be lenient.
fn int_of(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        Value::Text(s) => s.trim().parse().ok(),
        Value::Float(f) => Some(*f as i64),
        Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
        Value::Null => None,
    }
}
