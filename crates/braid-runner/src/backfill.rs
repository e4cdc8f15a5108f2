//! Batched backfills: filling a column of a large table from old data, the second step of an
//! expand/contract deploy, without one long transaction.
//!
//! One `UPDATE plans SET price_minor = price_cents` over fifty million rows is one transaction:
//! it holds its row locks (and, on MySQL, its undo log; on Postgres, its dead tuples) until the
//! very end, blocks the application's writes to every row it touched, and a kill after an hour
//! throws the hour away. A backfill runs the same `UPDATE` instead in **batches by key range**:
//!
//! * **Why key ranges.** Each batch is `WHERE key > last AND key <= hi`, where `hi` is the key
//!   `batch` rows further on in key order (`ORDER BY key LIMIT 1 OFFSET batch-1`, a walk of
//!   `batch` index entries). A range of an indexed key is found without scanning the table
//!   (unlike `LIMIT n` on the `UPDATE`'s own filter, which rescans the rows already done each
//!   time), a row keeps its place however many are inserted or deleted around it, and the only
//!   state is the last key. The key must therefore be an **integer column**, normally the integer
//!   primary key; rows whose key is `NULL` are never visited. When fewer than `batch` rows are
//!   left, the final batch is open-ended (`key > last`), so rows inserted meanwhile with higher
//!   keys are filled too.
//! * **Why each batch commits.** A batch is one short transaction: its `UPDATE` and the write
//!   of its progress commit together. Locks are held for one batch only, the application keeps
//!   writing in between, and a stop loses at most the batch in flight. The migration lock is
//!   checked before each `COMMIT`, as before any commit Braid makes. A throttle
//!   ([`Backfill::pause`]) sleeps between batches to leave the server room (replicas catching
//!   up, the application's own load).
//! * **Why a cursor table.** The progress lives in the database, next to the version store:
//!   [`CursorTable`] (`<version table>_backfill`, e.g. `braid_version_backfill`, in the store's
//!   schema) has one row per revision and table being filled, with the last key committed. It is
//!   written in each batch's transaction, so it is exactly as far as the data: a run that is
//!   killed or fails resumes after the last committed batch, and a row already done is never
//!   updated again (which matters for a `SET` that is not idempotent, such as `n = n + 1`). The
//!   final batch marks the row finished in its own transaction; the runner deletes it in the
//!   transaction that records the revision as applied, so a stop between the two runs nothing
//!   twice either.
//!
//! The cursor row also holds a fingerprint of the key, `SET` and `WHERE`: resuming a backfill
//! whose statement changed since it stopped is refused, since the rows already done got the
//! old one.
//!
//! It works the same on Postgres, MySQL/MariaDB and SQLite. SQLite is a single-writer file: a
//! batch still takes the write lock, briefly, and other writers wait for it (their busy
//! timeout) rather than run alongside; batches keep those waits short.
//!
//! Two forms use the one engine ([`run`]):
//!
//! * **SQL**: the up (or down) script of a `transaction = false` revision whose first line is
//!   the directive `-- braid:backfill key=id batch=500 [pause_ms=0]`, followed by exactly one
//!   `UPDATE table SET … [WHERE …]` ([`from_script`]). An offline script shows that `UPDATE`
//!   as one statement, with a comment ([`offline_note`]).
//! * **Rust**: a Rust migration calls `backfill(manager, Backfill::new("plans", "id")…)` from
//!   the prelude; the sea-orm bridge runs this engine on the runner's connection.
//!
//! Table, key, `SET` and `WHERE` are SQL written by the migration's author and are used as
//! written, as any migration's SQL is; keys read from the table are formatted into the
//! statements as integer literals (nothing else is ever formatted in), and the cursor table's
//! values are bound as parameters.

use std::sync::Mutex;
use std::time::Duration;

use braid_driver::{Dialect, Driver, DriverError, ErrorKind, ScriptPosition, Value};
use sqlparser::ast::{Statement, TableFactor, Update};

use crate::bodies::{BodyError, Script};
use crate::dialect::{StoreNames, placeholder, quote_ident, validate_ident};
use crate::report::{Event, EventSink};
use crate::store::StoreWrite;

/// The batch size of a [`Backfill::new`] that does not say.
pub const DEFAULT_BATCH: u64 = 1000;

/// The directive that makes an SQL script a backfill, after `--` on the script's first line.
pub const DIRECTIVE: &str = "braid:backfill";

/// What the cursor table's name adds to the version table's.
pub const CURSOR_SUFFIX: &str = "_backfill";

/// Longest identifier every supported backend accepts (Postgres truncates at 63 bytes).
const MAX_IDENT: usize = 63;

/// One backfill: `UPDATE table SET set WHERE filter`, run in batches of `batch` rows by ranges
/// of `key`, sleeping `pause` between batches. See the [module docs](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backfill {
    /// The table, as SQL (it may be schema-qualified, quoted, or carry an alias).
    pub table: String,
    /// The column batches are ranges of: an **integer** column, normally the integer primary
    /// key (indexed, unique, never `NULL`). A plain name: letters, digits and `_`.
    pub key: String,
    /// The assignments, as after `SET` (`a = b, c = d`).
    pub set: String,
    /// Only rows matching this condition are updated (as after `WHERE`).
    pub filter: Option<String>,
    /// Rows per batch (per transaction), at least 1.
    pub batch: u64,
    /// The throttle: how long to sleep between batches.
    pub pause: Duration,
}

impl Backfill {
    /// A backfill of `table` by ranges of `key` (an integer column, such as the integer primary
    /// key), in batches of [`DEFAULT_BATCH`] rows without a pause; say what to set with
    /// [`Backfill::set`].
    pub fn new(table: impl Into<String>, key: impl Into<String>) -> Self {
        Backfill {
            table: table.into(),
            key: key.into(),
            set: String::new(),
            filter: None,
            batch: DEFAULT_BATCH,
            pause: Duration::ZERO,
        }
    }

    /// Adds an assignment (`price_minor = price_cents`); several are all made.
    pub fn set(mut self, assignment: impl Into<String>) -> Self {
        let assignment = assignment.into();
        if self.set.trim().is_empty() {
            self.set = assignment;
        } else {
            self.set = format!("{}, {assignment}", self.set);
        }
        self
    }

    /// Updates only rows matching `condition`; several conditions must all hold.
    pub fn filter(mut self, condition: impl Into<String>) -> Self {
        let condition = condition.into();
        self.filter = Some(match self.filter.take() {
            Some(earlier) => format!("({earlier}) AND ({condition})"),
            None => condition,
        });
        self
    }

    /// Rows per batch, each batch one transaction (at least 1).
    pub fn batch(mut self, rows: u64) -> Self {
        self.batch = rows;
        self
    }

    /// Sleeps this long between batches (the throttle).
    pub fn pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// The whole `UPDATE` as one statement, as an offline script shows it.
    pub fn update_sql(&self) -> String {
        let mut sql = format!("UPDATE {} SET {}", self.table, self.set);
        if let Some(filter) = &self.filter {
            sql.push_str(&format!(" WHERE {filter}"));
        }
        sql
    }

    /// Why this backfill cannot run, if it cannot.
    pub fn check(&self) -> Result<(), BackfillError> {
        if self.table.trim().is_empty() {
            return Err(BackfillError::Invalid("no table to backfill".into()));
        }
        validate_ident("backfill key", &self.key, MAX_IDENT)
            .map_err(|e| BackfillError::Invalid(format!("{e}; {KEY_RULE}")))?;
        if self.set.trim().is_empty() {
            return Err(BackfillError::Invalid(format!(
                "the backfill of `{}` sets nothing (say what with `set`)",
                self.table
            )));
        }
        if self.batch == 0 || i64::try_from(self.batch).is_err() {
            return Err(BackfillError::Invalid(format!(
                "a batch of {} rows is not possible: at least 1, at most {}",
                self.batch,
                i64::MAX
            )));
        }
        Ok(())
    }

    /// What a resumed run must find unchanged: key, `SET` and `WHERE` (not the batch size or
    /// the pause, which may change between runs).
    fn fingerprint(&self) -> String {
        let filter = self.filter.as_deref().unwrap_or("");
        crate::progress::statement_hash(&format!(
            "{}\n{}\n{}\n{filter}",
            self.key, self.set, self.table
        ))
    }

    /// `key > last` (or, before the first batch, `key IS NOT NULL`), and `key <= hi` for a
    /// bounded batch.
    fn range(&self, dialect: Dialect, last: Option<i64>, hi: Option<i64>) -> String {
        let key = self.quoted_key(dialect);
        let mut range = match last {
            Some(last) => format!("{key} > {last}"),
            None => format!("{key} IS NOT NULL"),
        };
        if let Some(hi) = hi {
            range.push_str(&format!(" AND {key} <= {hi}"));
        }
        range
    }

    /// The key column, quoted for `dialect`: a key named like a keyword (`order`) works, and
    /// its name is matched exactly as written.
    fn quoted_key(&self, dialect: Dialect) -> String {
        crate::dialect::quote_ident(dialect, &self.key)
    }

    /// The key `batch` rows after `last`, if there are that many.
    fn upper_key_sql(&self, dialect: Dialect, last: Option<i64>) -> String {
        format!(
            "SELECT {key} FROM {table} WHERE {range} ORDER BY {key} LIMIT 1 OFFSET {offset}",
            key = self.quoted_key(dialect),
            table = self.table,
            range = self.range(dialect, last, None),
            offset = self.batch.saturating_sub(1),
        )
    }

    /// The highest key after `last`, if any.
    fn max_key_sql(&self, dialect: Dialect, last: Option<i64>) -> String {
        format!(
            "SELECT MAX({}) FROM {} WHERE {}",
            self.quoted_key(dialect),
            self.table,
            self.range(dialect, last, None)
        )
    }

    /// One batch's `UPDATE`: keys after `last`, up to `hi` (none: open-ended).
    fn batch_sql(&self, dialect: Dialect, last: Option<i64>, hi: Option<i64>) -> String {
        let mut sql = format!(
            "UPDATE {} SET {} WHERE {}",
            self.table,
            self.set,
            self.range(dialect, last, hi)
        );
        if let Some(filter) = &self.filter {
            sql.push_str(&format!(" AND ({filter})"));
        }
        sql
    }
}

/// Said wherever a key is refused.
const KEY_RULE: &str = "a backfill's key must be an integer column, such as the integer primary \
                        key, named plainly";

/// The comment an offline script puts before a backfill's `UPDATE`.
pub fn offline_note(spec: &Backfill) -> String {
    format!(
        "-- (an online run batches this UPDATE: {} rows per transaction by ranges of `{}`, \
         resumable; this script runs it as one statement)",
        spec.batch, spec.key
    )
}

/// Why a backfill directive, or a backfill, is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackfillError {
    #[error("the `-- {DIRECTIVE}` directive must be the script's first line (found on line {0})")]
    Misplaced(usize),
    #[error(
        "the `-- {DIRECTIVE}` directive: {0} (expected `-- {DIRECTIVE} key=<column> batch=<rows> [pause_ms=<ms>]`)"
    )]
    Malformed(String),
    #[error(
        "a backfill runs each batch in its own transaction, so its revision must say \
         `transaction = false` in revision.toml"
    )]
    Transactional,
    #[error("a backfill script holds exactly one UPDATE statement; this one holds {0} statements")]
    Statements(usize),
    #[error("a backfill script's statement must be an UPDATE, not {0}")]
    NotUpdate(String),
    #[error("the backfill's UPDATE could not be parsed: {0}")]
    Unparsable(String),
    #[error("a backfill's UPDATE must be `UPDATE table SET … [WHERE …]`: {0} is not possible")]
    Unsupported(String),
    #[error("{0}")]
    Invalid(String),
}

/// The backfill an SQL script asks for: `None` for a script without the directive (or a code
/// body), the parsed `UPDATE` for one with it, or why it cannot run — decided before anything
/// runs, the message naming the file.
pub fn from_script(
    script: &Script,
    transactional: bool,
    dialect: Dialect,
) -> Result<Option<Backfill>, BodyError> {
    if script.code.is_some() {
        return Ok(None);
    }
    parse_script(&script.text, transactional, dialect).map_err(|e| BodyError {
        message: format!("{}: {e}", script.origin),
    })
}

/// [`from_script`] on the script's text.
fn parse_script(
    text: &str,
    transactional: bool,
    dialect: Dialect,
) -> Result<Option<Backfill>, BackfillError> {
    let Some(options) = directive(text)? else {
        return Ok(None);
    };
    let options = Options::parse(options)?;
    if transactional {
        return Err(BackfillError::Transactional);
    }
    let statements = braid_driver::split_statements(text, dialect);
    let [statement] = statements.as_slice() else {
        return Err(BackfillError::Statements(statements.len()));
    };
    let (table, set, filter) = update_parts(&statement.text, dialect)?;
    let spec = Backfill {
        table,
        key: options.key,
        set,
        filter,
        batch: options.batch,
        pause: options.pause,
    };
    spec.check()?;
    Ok(Some(spec))
}

/// The directive's options (the text after [`DIRECTIVE`]) when the first non-blank line is
/// the directive; a directive on any later line is an error (it would otherwise be ignored).
fn directive(text: &str) -> Result<Option<&str>, BackfillError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    if let Some((_, first)) = lines.next()
        && let Some(options) = directive_line(first)
    {
        return Ok(Some(options));
    }
    match lines.find(|(_, l)| directive_line(l).is_some()) {
        Some((i, _)) => Err(BackfillError::Misplaced(i + 1)),
        None => Ok(None),
    }
}

/// The options of a `-- braid:backfill …` line.
fn directive_line(line: &str) -> Option<&str> {
    let comment = line.trim().strip_prefix("--")?.trim_start();
    let options = comment.strip_prefix(DIRECTIVE)?;
    // `-- braid:backfilled` is not the directive.
    match options.chars().next() {
        None => Some(""),
        Some(c) if c.is_whitespace() => Some(options),
        Some(_) => None,
    }
}

/// The directive's options.
struct Options {
    key: String,
    batch: u64,
    pause: Duration,
}

impl Options {
    fn parse(text: &str) -> Result<Options, BackfillError> {
        let malformed = |m: String| BackfillError::Malformed(m);
        let (mut key, mut batch, mut pause) = (None, None, None);
        for word in text.split_whitespace() {
            let Some((name, value)) = word.split_once('=') else {
                return Err(malformed(format!("`{word}` is not `name=value`")));
            };
            let slot_taken = match name {
                "key" => key.replace(value.to_string()).is_some(),
                "batch" => batch.replace(number(name, value)?).is_some(),
                "pause_ms" => pause.replace(number(name, value)?).is_some(),
                other => {
                    return Err(malformed(format!(
                        "unknown option `{other}` (the options are key, batch and pause_ms)"
                    )));
                }
            };
            if slot_taken {
                return Err(malformed(format!("`{name}` is given twice")));
            }
        }
        let key = key.ok_or_else(|| malformed("`key=<column>` is missing".into()))?;
        let batch = batch.ok_or_else(|| malformed("`batch=<rows>` is missing".into()))?;
        Ok(Options {
            key,
            batch,
            pause: Duration::from_millis(pause.unwrap_or(0)),
        })
    }
}

/// A directive option's whole number.
fn number(name: &str, value: &str) -> Result<u64, BackfillError> {
    value
        .parse()
        .map_err(|_| BackfillError::Malformed(format!("`{name}={value}` is not a whole number")))
}

/// The table (with its alias, if any), the assignments and the condition of a single-table
/// `UPDATE`, parsed with the dialect's parser and written back as SQL.
fn update_parts(
    statement: &str,
    dialect: Dialect,
) -> Result<(String, String, Option<String>), BackfillError> {
    let parsed = crate::effect::parse(statement, dialect)
        .map_err(|e| BackfillError::Unparsable(e.to_string()))?;
    let update = match parsed.as_slice() {
        [Statement::Update(update)] => update,
        [other] => return Err(BackfillError::NotUpdate(leading_words(&other.to_string()))),
        many => return Err(BackfillError::Statements(many.len())),
    };
    refuse_clauses(update)?;
    let set: Vec<String> = update.assignments.iter().map(|a| a.to_string()).collect();
    Ok((
        update.table.relation.to_string(),
        set.join(", "),
        update.selection.as_ref().map(|s| s.to_string()),
    ))
}

/// Refuses what a batched `UPDATE` cannot keep: joins, `FROM`, `RETURNING`, `ORDER BY`,
/// `LIMIT`, conflict clauses, hints, anything but a plain table.
fn refuse_clauses(update: &Update) -> Result<(), BackfillError> {
    let unsupported = |what: &str| Err(BackfillError::Unsupported(what.to_string()));
    let plain_table = matches!(
        &update.table.relation,
        TableFactor::Table { args: None, .. }
    ) && update.table.joins.is_empty();
    if !plain_table {
        return unsupported("anything but one plain table (a join, a subquery, a function)");
    }
    if update.from.is_some() {
        return unsupported("a FROM clause");
    }
    if update.returning.is_some() || update.output.is_some() {
        return unsupported("RETURNING");
    }
    if !update.order_by.is_empty() || update.limit.is_some() {
        return unsupported("ORDER BY or LIMIT (batches are key ranges)");
    }
    if update.or.is_some() {
        return unsupported("UPDATE OR …");
    }
    if !update.optimizer_hints.is_empty() || update.on_cluster.is_some() {
        return unsupported("optimizer hints or ON CLUSTER");
    }
    if update.settings.is_some() || update.assignments.is_empty() {
        return unsupported("an UPDATE without a plain SET");
    }
    Ok(())
}

/// The first two words of a statement, for saying what it is.
fn leading_words(statement: &str) -> String {
    let words: Vec<&str> = statement.split_whitespace().take(2).collect();
    format!("`{} …`", words.join(" "))
}

/// Where backfill progress is kept: `<version table>_backfill`, in the version store's schema,
/// one row per revision and table being filled. Columns: `revision`, `table_name`,
/// `fingerprint` (of key, `SET` and `WHERE`), `last_key` (the last key committed), `batches`,
/// `rows_done` (totals over every run), `finished` (1 once the final batch committed) and
/// `updated_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorTable {
    dialect: Dialect,
    name: String,
    /// Quoted and, where the store has a schema, qualified with it.
    qualified: String,
}

/// The cursor table's name for the version table `version_table`.
pub fn cursor_name(version_table: &str) -> String {
    let room = MAX_IDENT - CURSOR_SUFFIX.len();
    let base: String = version_table.chars().take(room).collect();
    format!("{base}{CURSOR_SUFFIX}")
}

impl CursorTable {
    /// The cursor table of the version store named `names`, for `dialect`. A version table name
    /// too long for the suffix is shortened so the name stays within 63 characters.
    pub fn for_store(names: &StoreNames, dialect: Dialect) -> Self {
        let name = cursor_name(names.table());
        let quoted = quote_ident(dialect, &name);
        let qualified = match names.schema() {
            Some(schema) => format!("{}.{quoted}", quote_ident(dialect, schema)),
            None => quoted,
        };
        CursorTable {
            dialect,
            name,
            qualified,
        }
    }

    /// The table's name (unqualified, unquoted).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn q(&self, column: &str) -> String {
        quote_ident(self.dialect, column)
    }

    fn p(&self, n: usize) -> String {
        placeholder(self.dialect, n)
    }

    fn create_sql(&self) -> String {
        // Revision ids are ASCII and case-sensitive; MySQL's default collation is neither.
        let (id_type, text_type) = match self.dialect {
            Dialect::Mysql => (
                "VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin",
                "VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            ),
            Dialect::Postgres | Dialect::Sqlite => ("VARCHAR(64)", "VARCHAR(255)"),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {} (\n    {} {id_type} NOT NULL,\n    {} {text_type} NOT NULL,\n    {} VARCHAR(32) NOT NULL,\n    {} BIGINT NULL,\n    {} BIGINT NOT NULL,\n    {} BIGINT NOT NULL,\n    {} INTEGER NOT NULL,\n    {} VARCHAR(40) NOT NULL,\n    PRIMARY KEY ({}, {})\n)",
            self.qualified,
            self.q("revision"),
            self.q("table_name"),
            self.q("fingerprint"),
            self.q("last_key"),
            self.q("batches"),
            self.q("rows_done"),
            self.q("finished"),
            self.q("updated_at"),
            self.q("revision"),
            self.q("table_name"),
        )
    }

    /// Params: revision, table.
    fn select_sql(&self) -> String {
        format!(
            "SELECT {}, {}, {}, {}, {} FROM {} WHERE {} = {} AND {} = {}",
            self.q("fingerprint"),
            self.q("last_key"),
            self.q("batches"),
            self.q("rows_done"),
            self.q("finished"),
            self.qualified,
            self.q("revision"),
            self.p(1),
            self.q("table_name"),
            self.p(2),
        )
    }

    /// Params: revision, table, fingerprint, last_key, batches, rows_done, finished, updated_at.
    fn insert_sql(&self) -> String {
        let columns = [
            "revision",
            "table_name",
            "fingerprint",
            "last_key",
            "batches",
            "rows_done",
            "finished",
            "updated_at",
        ];
        let names: Vec<String> = columns.iter().map(|c| self.q(c)).collect();
        let params: Vec<String> = (1..=columns.len()).map(|n| self.p(n)).collect();
        format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.qualified,
            names.join(", "),
            params.join(", ")
        )
    }

    /// Params: last_key, batches, rows_done, finished, updated_at, revision, table.
    fn update_sql(&self) -> String {
        let set: Vec<String> = ["last_key", "batches", "rows_done", "finished", "updated_at"]
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} = {}", self.q(c), self.p(i + 1)))
            .collect();
        format!(
            "UPDATE {} SET {} WHERE {} = {} AND {} = {}",
            self.qualified,
            set.join(", "),
            self.q("revision"),
            self.p(6),
            self.q("table_name"),
            self.p(7),
        )
    }

    /// Params: revision.
    fn delete_sql(&self) -> String {
        format!(
            "DELETE FROM {} WHERE {} = {}",
            self.qualified,
            self.q("revision"),
            self.p(1)
        )
    }

    /// Deletes the rows of `revisions`, when the table exists: the progress of backfills that
    /// stopped part-way and that a change of the applied set has made meaningless — a
    /// downgrade below them (the column they filled may be gone and come back empty), or a
    /// stamp that records or removes them without running them. Their next run starts over.
    pub(crate) async fn forget_stale(
        &self,
        driver: &mut dyn Driver,
        store: &crate::StoreSql,
        revisions: &[String],
    ) -> Result<(), StoreWrite> {
        if revisions.is_empty() {
            return Ok(());
        }
        let exists = &store.table_exists;
        let found = driver
            .query(exists, &store.exists_params(&self.name))
            .await
            .map_err(|source| StoreWrite {
                sql: exists.clone(),
                source,
            })?;
        if found.rows.is_empty() {
            return Ok(());
        }
        for revision in revisions {
            self.forget(driver, revision).await?;
        }
        Ok(())
    }

    /// Deletes the rows of `revision` (its backfills are done): the runner does it in the
    /// transaction that records the revision as applied (or undone). The table exists: a
    /// backfill created it.
    pub(crate) async fn forget(
        &self,
        driver: &mut dyn Driver,
        revision: &str,
    ) -> Result<(), StoreWrite> {
        let sql = self.delete_sql();
        match driver.execute(&sql, &[revision.into()]).await {
            Ok(_) => Ok(()),
            Err(source) => Err(StoreWrite { sql, source }),
        }
    }
}

/// Who runs a backfill, and where its progress goes.
pub struct BackfillContext<'a> {
    /// The database's name, for events and messages.
    pub database: &'a str,
    /// The revision running the backfill: its cursor rows are keyed by it.
    pub revision: &'a str,
    /// Where [`Event::Backfill`] (one per committed batch) and notices go.
    pub events: EventSink<'a>,
    /// Where progress is kept.
    pub cursor: CursorTable,
    /// The migration lock, checked before each batch's `COMMIT` (`None`: not checked).
    pub lock_key: Option<&'a str>,
    /// Whether the caller has a transaction open on the connection: a backfill then refuses
    /// to run (it commits each batch).
    pub in_transaction: bool,
    /// The tables backfilled with this context: the runner deletes the revision's cursor rows
    /// when there are any, and a table is backfilled once per revision (its cursor row is keyed
    /// by both).
    tables: Mutex<Vec<String>>,
}

impl<'a> BackfillContext<'a> {
    /// A context outside any transaction, not checking a lock.
    pub fn new(
        database: &'a str,
        revision: &'a str,
        events: EventSink<'a>,
        cursor: CursorTable,
    ) -> Self {
        BackfillContext {
            database,
            revision,
            events,
            cursor,
            lock_key: None,
            in_transaction: false,
            tables: Mutex::new(Vec::new()),
        }
    }

    /// Checks the migration lock `key` before each batch's `COMMIT`.
    pub fn with_lock(mut self, key: &'a str) -> Self {
        self.lock_key = Some(key);
        self
    }

    /// Says whether a transaction is open on the connection.
    pub fn in_transaction(mut self, open: bool) -> Self {
        self.in_transaction = open;
        self
    }

    /// Whether a backfill ran with this context (and may have written to the cursor table).
    pub fn cursor_used(&self) -> bool {
        !self.tables().is_empty()
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A panic elsewhere cannot leave the list half-written: use it as it is.
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records that `table` is backfilled by this revision, refusing a second backfill of it:
    /// the second would find the first one's finished cursor row and do nothing.
    fn claim(&self, table: &str) -> Result<(), DriverError> {
        let mut tables = self.tables();
        if tables.iter().any(|t| t == table) {
            return Err(DriverError::new(
                ErrorKind::Unsupported,
                format!(
                    "revision `{}` backfills `{table}` twice: a revision backfills a table once \
                     (make one backfill with several `set` calls, or use two revisions)",
                    self.revision
                ),
            ));
        }
        tables.push(table.to_string());
        Ok(())
    }

    fn emit(&self, event: Event) {
        (self.events)(&event);
    }

    fn notice(&self, message: String) {
        self.emit(Event::Notice {
            database: self.database.to_string(),
            message,
        });
    }
}

impl std::fmt::Debug for BackfillContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackfillContext")
            .field("database", &self.database)
            .field("revision", &self.revision)
            .field("cursor", &self.cursor)
            .field("lock_key", &self.lock_key)
            .field("in_transaction", &self.in_transaction)
            .finish_non_exhaustive()
    }
}

/// What one run of a backfill did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    /// The table filled.
    pub table: String,
    /// Batches committed by this run.
    pub batches: u64,
    /// Rows this run's batches changed, as the database counts them (MySQL counts rows whose
    /// value changed; Postgres and SQLite, rows matched).
    pub rows: u64,
    /// The last key committed (by this run or an earlier one); `None` when no row was reached.
    pub last_key: Option<i64>,
    /// The run went on from progress an earlier run recorded (or found it finished).
    pub resumed: bool,
}

/// The cursor row of a backfill, as read or as about to be written.
#[derive(Debug, Clone)]
struct Progress {
    /// A row exists in the cursor table.
    stored: bool,
    last_key: Option<i64>,
    batches: u64,
    rows: u64,
    finished: bool,
}

/// Runs `spec` on `driver`, batch by batch, resuming from the cursor row an earlier run left
/// (see the [module docs](self)). Refused inside a transaction. A failure rolls back the batch
/// in flight only: earlier batches stay committed and recorded, and the next run goes on after
/// them; the error says so.
pub async fn run(
    driver: &mut dyn Driver,
    spec: &Backfill,
    cx: &BackfillContext<'_>,
) -> Result<BackfillReport, DriverError> {
    spec.check()
        .map_err(|e| DriverError::new(ErrorKind::Unsupported, e.to_string()))?;
    if cx.in_transaction {
        return Err(DriverError::new(
            ErrorKind::Unsupported,
            format!(
                "revision `{}` backfills `{}` inside a transaction: {}",
                cx.revision,
                spec.table,
                BackfillError::Transactional
            ),
        ));
    }
    let create = cx.cursor.create_sql();
    driver
        .execute(&create, &[])
        .await
        .map_err(|e| bookkeeping(e, &create, "creating the backfill cursor table"))?;
    cx.claim(&spec.table)?;
    let mut progress = read_progress(driver, spec, cx).await?;
    let resumed = progress.stored;
    let mut report = BackfillReport {
        table: spec.table.clone(),
        batches: 0,
        rows: 0,
        last_key: progress.last_key,
        resumed,
    };
    if resumed {
        cx.notice(resume_notice(spec, cx, &progress));
    }
    while !progress.finished {
        let Some((hi, open)) = next_batch(driver, spec, progress.last_key).await? else {
            finish_empty(driver, spec, cx, &mut progress).await?;
            break;
        };
        if report.batches > 0 && !spec.pause.is_zero() {
            tokio::time::sleep(spec.pause).await;
        }
        let rows = one_batch(driver, spec, cx, &mut progress, hi, open).await?;
        report.batches += 1;
        report.rows += rows;
        report.last_key = Some(hi);
        cx.emit(Event::Backfill {
            database: cx.database.to_string(),
            revision: cx.revision.to_string(),
            table: spec.table.clone(),
            batches: report.batches,
            rows: report.rows,
            last_key: hi,
            resumed,
        });
    }
    Ok(report)
}

/// The cursor row of this backfill, or a fresh start; refuses a row left by a different
/// statement.
async fn read_progress(
    driver: &mut dyn Driver,
    spec: &Backfill,
    cx: &BackfillContext<'_>,
) -> Result<Progress, DriverError> {
    let sql = cx.cursor.select_sql();
    let rows = driver
        .query(&sql, &[cx.revision.into(), spec.table.as_str().into()])
        .await
        .map_err(|e| bookkeeping(e, &sql, "reading the backfill's progress"))?;
    let Some(row) = rows.rows.first() else {
        return Ok(Progress {
            stored: false,
            last_key: None,
            batches: 0,
            rows: 0,
            finished: false,
        });
    };
    let int = |i: usize| row.get(i).and_then(Value::as_i64);
    let count = |i: usize| int(i).and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
    let progress = Progress {
        stored: true,
        last_key: int(1),
        batches: count(2),
        rows: count(3),
        finished: int(4).unwrap_or(0) != 0,
    };
    let recorded = row.first().and_then(Value::as_str).unwrap_or("");
    if recorded != spec.fingerprint() {
        return Err(DriverError::new(
            ErrorKind::Unsupported,
            format!(
                "cannot resume: revision `{}` backfilled `{}` up to key {} with a different \
                 statement (its key, SET or WHERE changed since), and the rows done got the old \
                 one. Restore the statement to resume, or fix those rows by hand and delete the \
                 progress to start over: DELETE FROM {} WHERE revision = '{}'",
                cx.revision,
                spec.table,
                shown(progress.last_key),
                cx.cursor.name(),
                cx.revision.replace('\'', "''"),
            ),
        ));
    }
    Ok(progress)
}

/// A key for messages (`none` before the first batch).
fn shown(key: Option<i64>) -> String {
    key.map_or_else(|| "none".to_string(), |k| k.to_string())
}

fn resume_notice(spec: &Backfill, cx: &BackfillContext<'_>, p: &Progress) -> String {
    if p.finished {
        return format!(
            "revision `{}`: the backfill of `{}` finished in an earlier run ({} batches, {} \
             rows); nothing left to do",
            cx.revision, spec.table, p.batches, p.rows
        );
    }
    format!(
        "revision `{}`: resuming the backfill of `{}` after key {} ({} batches, {} rows \
         committed by an earlier run)",
        cx.revision,
        spec.table,
        shown(p.last_key),
        p.batches,
        p.rows
    )
}

/// The next batch after `last`: its upper key and whether it is the final, open-ended one;
/// `None` when no row is left.
async fn next_batch(
    driver: &mut dyn Driver,
    spec: &Backfill,
    last: Option<i64>,
) -> Result<Option<(i64, bool)>, DriverError> {
    let dialect = driver.dialect();
    if let Some(hi) = key_query(driver, spec, &spec.upper_key_sql(dialect, last)).await? {
        return Ok(Some((hi, false)));
    }
    // Fewer than `batch` rows left: the final batch, up to the current end and beyond.
    let max = key_query(driver, spec, &spec.max_key_sql(dialect, last)).await?;
    Ok(max.map(|hi| (hi, true)))
}

/// The one key a query answers (`None` for no row or `NULL`); a key that is not an integer is
/// an error saying the key must be an integer column.
async fn key_query(
    driver: &mut dyn Driver,
    spec: &Backfill,
    sql: &str,
) -> Result<Option<i64>, DriverError> {
    let rows = driver.query(sql, &[]).await.map_err(|e| {
        on_statement(
            e,
            sql,
            format!("finding the next batch of `{}`", spec.table),
        )
    })?;
    match rows.rows.first().and_then(|r| r.first()) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Int(k)) => Ok(Some(*k)),
        Some(other) => Err(DriverError::new(
            ErrorKind::Unsupported,
            format!(
                "the backfill key `{}` of `{}` is not an integer column (it holds {other:?}): \
                 {KEY_RULE}",
                spec.key, spec.table
            ),
        )),
    }
}

/// Runs one batch and its progress in one transaction; the number of rows it changed.
async fn one_batch(
    driver: &mut dyn Driver,
    spec: &Backfill,
    cx: &BackfillContext<'_>,
    progress: &mut Progress,
    hi: i64,
    open: bool,
) -> Result<u64, DriverError> {
    let number = progress.batches + 1;
    let dialect = driver.dialect();
    let sql = spec.batch_sql(dialect, progress.last_key, (!open).then_some(hi));
    let mut after = progress.clone();
    after.last_key = Some(hi);
    after.batches = number;
    after.finished = open;
    let batch = format!(
        "batch {number} ({})",
        spec.range(dialect, progress.last_key, (!open).then_some(hi))
    );
    let what = |e: DriverError| batch_failed(e, spec, cx, progress, &batch);
    driver.begin().await.map_err(&what)?;
    let done = async {
        let rows = driver
            .execute(&sql, &[])
            .await
            .map_err(|e| on_statement(e, &sql, "updating".to_string()))?;
        after.rows = progress.rows.saturating_add(rows);
        write_progress(driver, spec, cx, &after).await?;
        check_lock(driver, cx).await?;
        Ok::<u64, DriverError>(rows)
    }
    .await;
    let rows = match done {
        Ok(rows) => rows,
        Err(e) => {
            // The rollback's own failure would only hide the real error.
            let _ = driver.rollback().await;
            return Err(what(e));
        }
    };
    if let Err(e) = driver.commit().await {
        if e.kind == ErrorKind::Connect {
            return Err(commit_lost(e, spec, cx, &batch));
        }
        let _ = driver.rollback().await;
        return Err(what(e));
    }
    after.stored = true;
    *progress = after;
    Ok(rows)
}

/// No row left after the last batch (or none at all): the cursor row is marked finished, on
/// its own.
async fn finish_empty(
    driver: &mut dyn Driver,
    spec: &Backfill,
    cx: &BackfillContext<'_>,
    progress: &mut Progress,
) -> Result<(), DriverError> {
    let mut after = progress.clone();
    after.finished = true;
    write_progress(driver, spec, cx, &after).await?;
    after.stored = true;
    *progress = after;
    Ok(())
}

/// Writes the cursor row as `p` says (inserted the first time).
async fn write_progress(
    driver: &mut dyn Driver,
    spec: &Backfill,
    cx: &BackfillContext<'_>,
    p: &Progress,
) -> Result<(), DriverError> {
    let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let state = [
        p.last_key.into(),
        int(p.batches),
        int(p.rows),
        Value::Int(i64::from(p.finished)),
        crate::store::now().into(),
    ];
    let key = [cx.revision.into(), spec.table.as_str().into()];
    let (sql, params): (String, Vec<Value>) = match p.stored {
        true => (cx.cursor.update_sql(), [&state[..], &key[..]].concat()),
        false => {
            let mut params = key.to_vec();
            params.push(spec.fingerprint().into());
            params.extend(state);
            (cx.cursor.insert_sql(), params)
        }
    };
    match driver.execute(&sql, &params).await {
        Ok(1) => Ok(()),
        Ok(n) => Err(DriverError::new(
            ErrorKind::Internal,
            format!(
                "unexpected count of backfill progress rows written for `{}`: {n}",
                cx.revision
            ),
        )),
        Err(e) => Err(bookkeeping(e, &sql, "recording the backfill's progress")),
    }
}

/// Fails with [`ErrorKind::LockLost`] unless the migration lock is still held.
async fn check_lock(driver: &mut dyn Driver, cx: &BackfillContext<'_>) -> Result<(), DriverError> {
    let Some(key) = cx.lock_key else {
        return Ok(());
    };
    match driver.lock_held(key).await? {
        true => Ok(()),
        false => Err(DriverError::new(
            ErrorKind::LockLost,
            format!("lost the migration lock `{key}` before committing"),
        )),
    }
}

/// A failed statement of the table's own, with the statement as its position.
fn on_statement(e: DriverError, sql: &str, doing: String) -> DriverError {
    let position = ScriptPosition {
        index: 1,
        total: Some(1),
        statement: sql.to_string(),
    };
    DriverError {
        message: format!("{doing}: {}", e.message),
        ..e
    }
    .with_position(position)
}

/// A failed write or read of the cursor table.
fn bookkeeping(e: DriverError, sql: &str, doing: &str) -> DriverError {
    on_statement(e, sql, doing.to_string())
}

/// A batch's `COMMIT` was sent and its answer lost: whether it committed is not known here, but
/// the cursor row committed (or not) with it, so the next run goes on from the right key.
fn commit_lost(
    e: DriverError,
    spec: &Backfill,
    cx: &BackfillContext<'_>,
    batch: &str,
) -> DriverError {
    DriverError {
        message: format!(
            "backfill of `{}` (revision `{}`), {batch}: the answer to COMMIT was lost ({}); the \
             batch committed with its progress or not at all, and the next run resumes after \
             the last batch recorded in `{}`",
            spec.table,
            cx.revision,
            e.message,
            cx.cursor.name()
        ),
        ..e
    }
}

/// A batch failed: the driver's error (kind, code, statement), saying what is committed and
/// where the next run goes on.
fn batch_failed(
    e: DriverError,
    spec: &Backfill,
    cx: &BackfillContext<'_>,
    before: &Progress,
    batch: &str,
) -> DriverError {
    let kept = match before.last_key {
        Some(k) => format!(
            "{} earlier batches ({} rows, keys up to {k}) are committed, and the next run \
             resumes after key {k}",
            before.batches, before.rows
        ),
        None => "no batch was committed; the next run starts from the beginning".to_string(),
    };
    DriverError {
        message: format!(
            "backfill of `{}` (revision `{}`), {batch}: {}; {kept}",
            spec.table, cx.revision, e.message
        ),
        ..e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<Backfill>, BackfillError> {
        parse_script(text, false, Dialect::Postgres)
    }

    #[test]
    fn a_script_without_the_directive_is_ordinary() {
        assert_eq!(parse("UPDATE t SET a = b;").unwrap(), None);
        assert_eq!(
            parse("-- braid:backfilled\nUPDATE t SET a = b;").unwrap(),
            None
        );
    }

    #[test]
    fn the_directive_and_its_update() {
        let spec = parse(
            "-- braid:backfill key=id batch=500 pause_ms=20\n\
             UPDATE plans SET price_minor = price_cents * 100, touched = touched + 1\n\
             WHERE price_minor IS NULL;\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(spec.table, "plans");
        assert_eq!(spec.key, "id");
        assert_eq!(
            spec.set,
            "price_minor = price_cents * 100, touched = touched + 1"
        );
        assert_eq!(spec.filter.as_deref(), Some("price_minor IS NULL"));
        assert_eq!(spec.batch, 500);
        assert_eq!(spec.pause, Duration::from_millis(20));
    }

    #[test]
    fn directive_errors() {
        let err = |text: &str| parse(text).unwrap_err();
        assert!(matches!(
            err("-- braid:backfill batch=5\nUPDATE t SET a = 1;"),
            BackfillError::Malformed(m) if m.contains("key")
        ));
        assert!(matches!(
            err("-- braid:backfill key=id\nUPDATE t SET a = 1;"),
            BackfillError::Malformed(m) if m.contains("batch")
        ));
        assert!(matches!(
            err("-- braid:backfill key=id batch=x\nUPDATE t SET a = 1;"),
            BackfillError::Malformed(_)
        ));
        assert!(matches!(
            err("-- braid:backfill key=id batch=5 size=3\nUPDATE t SET a = 1;"),
            BackfillError::Malformed(m) if m.contains("size")
        ));
        assert!(matches!(
            err("-- braid:backfill key=id key=x batch=5\nUPDATE t SET a = 1;"),
            BackfillError::Malformed(m) if m.contains("twice")
        ));
        assert_eq!(
            err("-- braid:backfill key=id batch=5\nUPDATE t SET a = 1;\nUPDATE t SET b = 1;"),
            BackfillError::Statements(2)
        );
        assert!(matches!(
            err("-- braid:backfill key=id batch=5\nDELETE FROM t;"),
            BackfillError::NotUpdate(_)
        ));
        assert!(matches!(
            err("-- braid:backfill key=id batch=0\nUPDATE t SET a = 1;"),
            BackfillError::Invalid(_)
        ));
        assert!(matches!(
            err("-- braid:backfill key=a.b batch=5\nUPDATE t SET a = 1;"),
            BackfillError::Invalid(m) if m.contains("integer column")
        ));
        assert_eq!(
            err("UPDATE t SET a = 1;\n-- braid:backfill key=id batch=5\n"),
            BackfillError::Misplaced(2)
        );
        assert_eq!(
            parse_script(
                "-- braid:backfill key=id batch=5\nUPDATE t SET a = 1;",
                true,
                Dialect::Sqlite
            )
            .unwrap_err(),
            BackfillError::Transactional
        );
    }

    #[test]
    fn clauses_a_batch_cannot_keep_are_refused() {
        for sql in [
            "UPDATE t SET a = 1 RETURNING id",
            "UPDATE t SET a = u.b FROM u WHERE u.id = t.id",
        ] {
            let text = format!("-- braid:backfill key=id batch=5\n{sql};");
            assert!(
                matches!(parse(&text), Err(BackfillError::Unsupported(_))),
                "{sql}"
            );
        }
        let mysql = "-- braid:backfill key=id batch=5\nUPDATE t SET a = 1 ORDER BY id LIMIT 5;";
        assert!(matches!(
            parse_script(mysql, false, Dialect::Mysql),
            Err(BackfillError::Unsupported(_))
        ));
    }

    #[test]
    fn batch_statements() {
        let spec = Backfill::new("plans", "id")
            .set("a = b")
            .filter("a <> b")
            .filter("c")
            .batch(10);
        assert_eq!(
            spec.upper_key_sql(Dialect::Postgres, None),
            "SELECT \"id\" FROM plans WHERE \"id\" IS NOT NULL ORDER BY \"id\" LIMIT 1 OFFSET 9"
        );
        assert_eq!(
            spec.batch_sql(Dialect::Postgres, Some(-3), Some(7)),
            "UPDATE plans SET a = b WHERE \"id\" > -3 AND \"id\" <= 7 AND ((a <> b) AND (c))"
        );
        assert_eq!(
            spec.batch_sql(Dialect::Mysql, Some(7), None),
            "UPDATE plans SET a = b WHERE `id` > 7 AND ((a <> b) AND (c))"
        );
        assert_eq!(
            spec.update_sql(),
            "UPDATE plans SET a = b WHERE (a <> b) AND (c)"
        );
    }

    #[test]
    fn cursor_table_names() {
        let names = StoreNames::new("braid_version", None).unwrap();
        let c = CursorTable::for_store(&names, Dialect::Postgres);
        assert_eq!(c.name(), "braid_version_backfill");
        assert_eq!(c.qualified, "\"braid_version_backfill\"");
        let names = names.in_schema("app".into());
        let c = CursorTable::for_store(&names, Dialect::Mysql);
        assert_eq!(c.qualified, "`app`.`braid_version_backfill`");
        let long = "v".repeat(58);
        let c = CursorTable::for_store(&StoreNames::new(&long, None).unwrap(), Dialect::Sqlite);
        assert_eq!(c.name().len(), 63);
        assert!(c.name().ends_with(CURSOR_SUFFIX));
    }
}
