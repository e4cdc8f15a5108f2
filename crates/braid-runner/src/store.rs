//! The version store: one row per applied revision, plus `<table>_meta` (the store's own schema
//! version) and `<table>_log` (an audit trail of accepts, stamps and runs).
//!
//! Reading never creates anything, so `current` and `check` leave a fresh database untouched.

use braid_driver::{Dialect, Driver, DriverError, Value};

use crate::RunError;
use crate::dialect::{ROW_COLUMNS, STORE_SCHEMA_VERSION, StoreNames, StoreSql};
use crate::report::{AppliedRow, Progress};

/// The version store of one database, with its statements rendered once.
#[derive(Debug, Clone)]
pub struct Store {
    pub sql: StoreSql,
    database: String,
    /// The lock the writes are guarded by ([`Store::guarded`]).
    lock_key: Option<String>,
}

impl Store {
    pub fn new(database: &str, sql: StoreSql) -> Self {
        Store {
            sql,
            database: database.to_string(),
            lock_key: None,
        }
    }

    /// This store with its migration writes conditional on holding the lock `key`, when the
    /// driver offers a condition for it ([`braid_driver::Driver::lock_guard`]): each write then
    /// checks the lock itself, and one that finds it gone fails with
    /// [`braid_driver::ErrorKind::LockLost`].
    pub fn guarded(&self, driver: &dyn Driver, key: &str) -> Store {
        match driver.lock_guard(key) {
            Some(guard) => Store {
                sql: self.sql.guarded(&guard),
                database: self.database.clone(),
                lock_key: Some(key.to_string()),
            },
            None => self.clone(),
        }
    }

    /// Whether the writes check the lock themselves.
    pub fn is_guarded(&self) -> bool {
        self.lock_key.is_some()
    }

    /// A write that must touch exactly one row of `revision`.
    async fn one(
        &self,
        driver: &mut dyn Driver,
        sql: &str,
        params: &[Value],
        revision: &str,
    ) -> Result<(), StoreWrite> {
        self.counted(driver, sql, params, revision, |n| n == 1)
            .await
    }

    /// A write whose count of rows touched must satisfy `ok`; a guarded write that touched none
    /// asks whether the lock is gone.
    async fn counted(
        &self,
        driver: &mut dyn Driver,
        sql: &str,
        params: &[Value],
        revision: &str,
        ok: impl Fn(u64) -> bool,
    ) -> Result<(), StoreWrite> {
        match (write(driver, sql, params).await?, &self.lock_key) {
            (n, _) if ok(n) => Ok(()),
            (0, Some(key)) if !driver.lock_held(key).await.unwrap_or(false) => Err(StoreWrite {
                sql: sql.to_string(),
                source: DriverError::new(
                    braid_driver::ErrorKind::LockLost,
                    format!("the migration lock `{key}` is no longer held"),
                ),
            }),
            (n, _) => Err(StoreWrite {
                sql: sql.to_string(),
                source: DriverError::new(
                    braid_driver::ErrorKind::Internal,
                    format!("unexpected count of version rows written for `{revision}`: {n}"),
                ),
            }),
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
        let existed = self.exists(driver, self.sql.names.table()).await?;
        if existed
            && self.exists(driver, self.sql.meta_table()).await?
            && let Some(version) = self.check_schema_version(driver).await?
        {
            return self.upgrade(driver, version).await;
        }
        let tx = driver.dialect().transactional_ddl();
        let create = async |driver: &mut dyn Driver| -> Result<(), RunError> {
            for stmt in &self.sql.create {
                driver
                    .execute(stmt, &[])
                    .await
                    .map_err(|e| self.err("creating the version store", e))?;
            }
            if existed {
                // A store whose creation stopped before its schema version was recorded (MySQL
                // commits each CREATE): its version table may be of an older schema.
                self.apply_upgrades(driver, 1)
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

    /// Brings a store of schema `from` up to date, under the lock, in one transaction where
    /// DDL is transactional. Each added column is looked for first, so an upgrade stopped
    /// half-way (MySQL commits each `ALTER`) is finished by the next run.
    async fn upgrade(&self, driver: &mut dyn Driver, from: i64) -> Result<(), RunError> {
        let steps = self.sql.upgrades(from);
        if steps.is_empty() {
            return Ok(());
        }
        let context = format!(
            "upgrading the version store `{}` from schema {from} to {STORE_SCHEMA_VERSION}",
            self.sql.names.table()
        );
        let tx = driver.dialect().transactional_ddl();
        if tx {
            driver.begin().await.map_err(|e| self.err(&context, e))?;
        }
        let result = self.apply_upgrades(driver, from).await;
        match (result, tx) {
            (Ok(()), true) => driver.commit().await.map_err(|e| self.err(&context, e)),
            (Ok(()), false) => Ok(()),
            (Err(e), _) => {
                if tx {
                    let _ = driver.rollback().await;
                }
                Err(self.err(&context, e))
            }
        }
    }

    /// Runs [`StoreSql::upgrades`] from schema `from`, each added column looked for first.
    async fn apply_upgrades(&self, driver: &mut dyn Driver, from: i64) -> Result<(), DriverError> {
        for (column, sql) in self.sql.upgrades(from) {
            if let Some(column) = column {
                let params = self.sql.column_params(column);
                let found = driver.query(&self.sql.column_exists, &params).await?;
                if !found.rows.is_empty() {
                    continue;
                }
            }
            driver.execute(&sql, &[]).await?;
        }
        Ok(())
    }

    /// Every row, or nothing when the store does not exist yet. Never creates or upgrades the
    /// store.
    pub async fn read(&self, driver: &mut dyn Driver) -> Result<Vec<AppliedRow>, RunError> {
        if !self.exists(driver, self.sql.names.table()).await? {
            return Ok(Vec::new());
        }
        let version = match self.exists(driver, self.sql.meta_table()).await? {
            true => self.check_schema_version(driver).await?,
            false => None,
        };
        let rows = self.rows(driver).await?;
        match version {
            Some(v) if v >= 2 => self.with_started(driver, rows).await,
            _ => Ok(rows),
        }
    }

    /// Every row of a store known to exist and to be of the current schema (after
    /// [`Store::ensure`]).
    pub async fn read_rows(&self, driver: &mut dyn Driver) -> Result<Vec<AppliedRow>, RunError> {
        let rows = self.rows(driver).await?;
        self.with_started(driver, rows).await
    }

    async fn rows(&self, driver: &mut dyn Driver) -> Result<Vec<AppliedRow>, RunError> {
        let rows = driver
            .query(&self.sql.select_rows, &[])
            .await
            .map_err(|e| self.err("reading the version store", e))?;
        Ok(parse_rows(rows.rows))
    }

    /// Adds each partial row's started statement and session (schema 2); one more read, and
    /// only when some migration stopped part-way.
    async fn with_started(
        &self,
        driver: &mut dyn Driver,
        mut rows: Vec<AppliedRow>,
    ) -> Result<Vec<AppliedRow>, RunError> {
        if rows.iter().all(|r| r.partial.is_none()) {
            return Ok(rows);
        }
        let started = driver
            .query(&self.sql.select_started, &[])
            .await
            .map_err(|e| self.err("reading the version store", e))?;
        for r in started.rows {
            let revision = r.first().map(text_of).unwrap_or_default();
            let row = rows.iter_mut().find(|row| row.revision == revision);
            if let Some(p) = row.and_then(|row| row.partial.as_mut()) {
                p.statement_started = r.get(1).and_then(int_of);
                p.session = r.get(2).and_then(|v| v.as_str().map(str::to_string));
            }
        }
        Ok(rows)
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
        let params = [
            now().into(),
            by.into(),
            action.into(),
            revision.into(),
            detail.into(),
        ];
        write(driver, &self.sql.insert_log, &params)
            .await
            .map_err(|e| self.err("writing the version store's log", e.source))?;
        Ok(())
    }

    /// Records `revision` as applied (a complete row).
    pub async fn insert_applied(
        &self,
        driver: &mut dyn Driver,
        row: &RowWrite<'_>,
    ) -> Result<(), StoreWrite> {
        let params = [
            row.revision.into(),
            row.checksum.into(),
            now().into(),
            Value::Int(row.ms),
            row.by.into(),
        ];
        self.one(driver, &self.sql.insert_row, &params, row.revision)
            .await
    }

    /// Removes the row of `revision`, which must exist (a downgrade).
    pub async fn remove(&self, driver: &mut dyn Driver, revision: &str) -> Result<(), StoreWrite> {
        self.one(driver, &self.sql.delete_row, &[revision.into()], revision)
            .await
    }

    /// Removes the row of `revision` if there is one (a stamp).
    pub async fn remove_if_present(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
    ) -> Result<(), StoreWrite> {
        write(driver, &self.sql.delete_row, &[revision.into()])
            .await
            .map(drop)
    }

    /// Empties the version table (`stamp --purge`).
    pub async fn remove_all(&self, driver: &mut dyn Driver) -> Result<(), StoreWrite> {
        write(driver, &self.sql.delete_all, &[]).await.map(drop)
    }

    /// Records how far a migration run statement by statement got, writing its row as `how`
    /// says.
    pub async fn record_progress(
        &self,
        driver: &mut dyn Driver,
        progress: &ProgressWrite<'_>,
        how: ProgressRow,
    ) -> Result<(), StoreWrite> {
        let started = match progress.started {
            Some(s) => Value::Int(s as i64),
            None => Value::Null,
        };
        let counts = [
            Value::Int(progress.done as i64),
            Value::Int(progress.total as i64),
            progress.hashes.into(),
            started,
            progress.session.into(),
        ];
        if how == ProgressRow::Advance {
            let [done, _, _, started, session] = counts;
            let params = [done, started, session, progress.revision.into()];
            return self
                .one(
                    driver,
                    &self.sql.advance_progress,
                    &params,
                    progress.revision,
                )
                .await;
        }
        if how == ProgressRow::Insert {
            let [done, total, hashes, started, session] = counts;
            let params = [
                progress.revision.into(),
                progress.checksum.into(),
                now().into(),
                Value::Int(0),
                progress.by.into(),
                done,
                total,
                hashes,
                started,
                session,
            ];
            self.one(
                driver,
                &self.sql.insert_progress,
                &params,
                progress.revision,
            )
            .await
        } else {
            let mut params = counts.to_vec();
            params.push(progress.revision.into());
            self.one(
                driver,
                &self.sql.update_progress,
                &params,
                progress.revision,
            )
            .await
        }
    }

    /// Marks a migration whose statements have all run as applied: its progress cleared, its
    /// checksum and duration set.
    pub async fn complete(
        &self,
        driver: &mut dyn Driver,
        row: &RowWrite<'_>,
    ) -> Result<(), StoreWrite> {
        let params = [
            row.checksum.into(),
            now().into(),
            Value::Int(row.ms),
            row.revision.into(),
        ];
        self.one(driver, &self.sql.complete_row, &params, row.revision)
            .await
    }

    /// Completes `row` and records `next`'s first progress in one statement
    /// ([`StoreSql::complete_and_mark`]; only where it exists).
    pub async fn complete_and_mark(
        &self,
        driver: &mut dyn Driver,
        row: &RowWrite<'_>,
        next: &ProgressWrite<'_>,
    ) -> Result<(), StoreWrite> {
        let Some(sql) = &self.sql.complete_and_mark else {
            return Err(StoreWrite {
                sql: String::new(),
                source: DriverError::new(
                    braid_driver::ErrorKind::Unsupported,
                    "this dialect has no combined completion",
                ),
            });
        };
        let at = now();
        let started = next.started.map_or(Value::Null, |s| Value::Int(s as i64));
        let params = [
            row.revision.into(),
            row.checksum.into(),
            at.as_str().into(),
            Value::Int(row.ms),
            row.by.into(),
            next.revision.into(),
            next.checksum.into(),
            at.as_str().into(),
            Value::Int(0),
            next.by.into(),
            Value::Int(next.done as i64),
            Value::Int(next.total as i64),
            next.hashes.into(),
            started,
            next.session.into(),
        ];
        // MySQL counts an updated row twice: the completed row (2, or 0 if unchanged) and the
        // new one (1).
        self.counted(driver, sql, &params, row.revision, |n| n >= 1)
            .await
    }

    /// Clears a revision's progress, keeping its row (see [`StoreSql::clear_progress`]).
    pub async fn clear_progress(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
    ) -> Result<(), StoreWrite> {
        self.one(
            driver,
            &self.sql.clear_progress,
            &[revision.into()],
            revision,
        )
        .await
    }

    /// Stores a new checksum for an applied revision (`accept`).
    pub async fn set_checksum(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
        checksum: &str,
    ) -> Result<(), StoreWrite> {
        self.one(
            driver,
            &self.sql.update_checksum,
            &[checksum.into(), revision.into()],
            revision,
        )
        .await
    }
}

/// `names` with the schema resolved on the server ([`StoreSql::resolve_schema`]) where the
/// backend has schemas and none is configured: what every locked operation's statements and
/// lock key are built from. `database` names the database in errors.
pub async fn resolve_names(
    database: &str,
    names: &StoreNames,
    driver: &mut dyn Driver,
) -> Result<StoreNames, RunError> {
    let dialect = driver.dialect();
    if names.schema().is_some() && dialect != Dialect::Postgres {
        return Err(RunError::Config(format!(
            "database `{database}`: `schema` applies to Postgres only; {dialect} has no schemas \
             inside a database: remove the setting"
        )));
    }
    let query = StoreSql::resolve_schema(dialect, names.table());
    let (Some((sql, params)), None) = (query, names.schema()) else {
        return Ok(names.clone());
    };
    let rows = driver
        .query(&sql, &params)
        .await
        .map_err(|e| RunError::driver(database, "finding the version store's schema", e))?;
    let schema = rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            RunError::Config(format!(
                "database `{database}`: {}",
                match dialect {
                    Dialect::Mysql =>
                        "the connection has no database selected: name one in the \
                                       URL (mysql://host/DATABASE)",
                    _ =>
                        "no schema on the connection's search_path exists: create one, or set \
                          `schema` for this database",
                }
            ))
        })?;
    Ok(names.in_schema(schema.to_string()))
}

/// A complete version row to write.
#[derive(Debug, Clone, Copy)]
pub struct RowWrite<'a> {
    pub revision: &'a str,
    pub checksum: &'a str,
    /// How long the migration took.
    pub ms: i64,
    /// Who ran it (`user@host`).
    pub by: &'a str,
}

/// The progress of a migration run statement by statement.
#[derive(Debug, Clone, Copy)]
pub struct ProgressWrite<'a> {
    pub revision: &'a str,
    pub checksum: &'a str,
    pub by: &'a str,
    pub done: usize,
    pub total: usize,
    /// The statements' hashes, encoded with the direction as a step's progress records them.
    pub hashes: &'a str,
    /// The statement (1-based) about to run, when it cannot share a transaction with this
    /// write; `None` once it finished.
    pub started: Option<usize>,
    /// The session running it.
    pub session: Option<&'a str>,
}

/// How [`Store::record_progress`] writes: the row's first progress, a rewrite of all of it (the
/// first write of a run resuming a row: the statements after the recorded ones may have
/// changed), or just the counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressRow {
    Insert,
    Rewrite,
    Advance,
}

/// A failed version-store write: the statement and the driver's error.
#[derive(Debug, Clone)]
pub struct StoreWrite {
    pub sql: String,
    pub source: DriverError,
}

async fn write(driver: &mut dyn Driver, sql: &str, params: &[Value]) -> Result<u64, StoreWrite> {
    driver
        .execute(sql, params)
        .await
        .map_err(|source| StoreWrite {
            sql: sql.to_string(),
            source,
        })
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
                statement_started: None,
                session: None,
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
