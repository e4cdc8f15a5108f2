//! Reading the schema of the current database back from `information_schema` (see the crate
//! docs for what is reported and in which order).
//!
//! One query per kind of object, whatever the number of tables (tables, indexes, columns,
//! foreign keys, checks, views, triggers, routines and their parameters, and on MariaDB one
//! more for all sequences), grouped in Rust: a schema with hundreds of tables introspects in a
//! dozen round trips.
//!
//! A snapshot limited to a [`Scope`] ([`introspect_within`]) runs the same queries, each with
//! one more condition ([`Narrow`]), leaves out those with nothing to find, and reads the rows
//! with the same code.

use std::collections::{BTreeMap, BTreeSet};

use braid_driver::{
    Check, Column, DriverError, ForeignKey, Generated, Index, PrimaryKey, Routine, Schema, Scope,
    Sequence, Table, Trigger, View, is_version_store,
};
use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::{Conn, Error};

use crate::error::map_err;

/// ER_BAD_FIELD_ERROR: a column `information_schema` of this server version does not have.
const ER_BAD_FIELD: u16 = 1054;
/// ER_UNKNOWN_TABLE: an `information_schema` table this server version does not have.
const ER_UNKNOWN_TABLE: u16 = 1109;

/// Base tables (MariaDB's system-versioned ones too), MariaDB's sequences and the views'
/// names (their definitions come from `VIEWS`, asked only when there is a view).
const TABLES: &str = "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() \
       AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE', 'VIEW')";

/// Index parts in order. `COLLATION` `D` is a descending part; `SUB_PART` a prefix length.
/// MySQL 8.0.13+ reports a functional key part in `EXPRESSION` (MariaDB has none).
const INDEXES_MYSQL: &str = "SELECT TABLE_NAME, INDEX_NAME, \
     COALESCE(COLUMN_NAME, EXPRESSION), NON_UNIQUE, SUB_PART, COLLATION, \
     INDEX_TYPE FROM information_schema.STATISTICS \
     WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";
const INDEXES: &str = "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE, SUB_PART, \
     COLLATION, INDEX_TYPE FROM information_schema.STATISTICS \
     WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";

const COLUMNS: &str = "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, \
     COLUMN_DEFAULT, EXTRA, GENERATION_EXPRESSION, COLLATION_NAME \
     FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
     ORDER BY TABLE_NAME, ORDINAL_POSITION";

/// Foreign key column pairs in key order; their rules come from [`FOREIGN_KEY_RULES`]. Two
/// queries, not a join: MariaDB fills each `information_schema` table of a query from the
/// conditions on that table alone, and in a join the optimizer rewrites the second table's
/// conditions into the join's equalities, leaving it none: it then opens every table of the
/// database for it, or of the server when the join compares the schemas (10 ms more for a
/// hundred tables, measured on MariaDB 10.11).
const FOREIGN_KEY_COLUMNS: &str = "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, \
     REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE \
     WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL \
     ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION";
const FOREIGN_KEY_RULES: &str = "SELECT TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE \
     FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";

/// Check constraints (MySQL 8.0.16+, MariaDB 10.2+). MySQL names them per database, MariaDB
/// per table (a column's check is named after the column), so MariaDB joins on the table too.
const CHECKS_MYSQL: &str = "SELECT t.TABLE_NAME, t.CONSTRAINT_NAME, c.CHECK_CLAUSE \
     FROM information_schema.TABLE_CONSTRAINTS t \
     JOIN information_schema.CHECK_CONSTRAINTS c \
       ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME \
     WHERE t.TABLE_SCHEMA = DATABASE() AND t.CONSTRAINT_TYPE = 'CHECK'";
const CHECKS_MARIADB: &str = "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE \
     FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";

const VIEWS: &str = "SELECT TABLE_SCHEMA, TABLE_NAME, VIEW_DEFINITION, CHECK_OPTION \
     FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()";

/// Triggers, by their table's database (a trigger lives in it): MariaDB looks a database up
/// by `EVENT_OBJECT_SCHEMA`, and reads every database's triggers for `TRIGGER_SCHEMA`.
const TRIGGERS: &str = "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, \
     EVENT_MANIPULATION, ACTION_STATEMENT FROM information_schema.TRIGGERS \
     WHERE EVENT_OBJECT_SCHEMA = DATABASE()";

/// The body (`ROUTINE_DEFINITION`, NULL to a user without the privilege to see it), the return
/// type and the characteristics that change what a routine does.
const ROUTINES: &str = "SELECT ROUTINE_NAME, ROUTINE_TYPE, DTD_IDENTIFIER, IS_DETERMINISTIC, \
     SQL_DATA_ACCESS, SECURITY_TYPE, ROUTINE_DEFINITION FROM information_schema.ROUTINES \
     WHERE ROUTINE_SCHEMA = DATABASE()";

/// Parameters in order; position 0 is a function's return value, already in `ROUTINES`.
const PARAMETERS: &str = "SELECT SPECIFIC_NAME, ROUTINE_TYPE, PARAMETER_MODE, PARAMETER_NAME, \
     DTD_IDENTIFIER FROM information_schema.PARAMETERS \
     WHERE SPECIFIC_SCHEMA = DATABASE() AND ORDINAL_POSITION > 0 \
     ORDER BY SPECIFIC_NAME, ROUTINE_TYPE, ORDINAL_POSITION";

/// Runs `sql`; `None` on a server error with one of the codes `missing` (this server version
/// lacks what the query reads).
async fn rows_if_known<T: FromRow + Send + 'static>(
    conn: &mut Conn,
    sql: &str,
    missing: &[u16],
) -> Result<Option<Vec<T>>, DriverError> {
    match conn.query(sql).await {
        Ok(rows) => Ok(Some(rows)),
        Err(Error::Server(e)) if missing.contains(&e.code) => Ok(None),
        Err(e) => Err(map_err(e)),
    }
}

async fn rows<T: FromRow + Send + 'static>(
    conn: &mut Conn,
    sql: &str,
) -> Result<Vec<T>, DriverError> {
    conn.query(sql).await.map_err(map_err)
}

/// How a snapshot's queries are narrowed: not at all for [`Scope::Whole`]; for a
/// [`Scope::Named`], first by the scope's names, then by the exact names of what they found.
///
/// `information_schema` is slow on MariaDB because it opens every table it reports, and the
/// server skips a table before opening it only by its name: a condition on `TABLE_NAME` is
/// tested on each name of the database's listing, and an equality `TABLE_NAME = '…'` (an
/// `IN` of one value becomes one) is a lookup that opens that table's files alone, without
/// listing the database. A lookup is by exact name, though: with `lower_case_table_names=0`
/// (Linux) the scope's `users` misses a table `Users`. So:
/// - The scope's names are compared as `LOWER(column) IN (…)`. The function keeps the server
///   from taking the names for a lookup, and MySQL 8, which compares table names byte for byte
///   on Linux, needs it anyway. (MariaDB compares with `utf8mb3_general_ci`, which may pick a
///   name or two more, accents aside; more is allowed, the caller's `within` trims.)
/// - That is done once, on `TABLES`, which lists the database without opening a table. Its
///   answer (tables, sequences, views) is what the other queries look up, by `column IN (…)`
///   of the exact names: one name is a lookup; several are tested on the listing, and only
///   their tables are opened. A query with nothing to look up does not run.
/// - Triggers and routines are named in no listing: they come by the scope's names (a
///   trigger by its own or its table's; `DROP TRIGGER tg` names no table), which reads each
///   table's trigger file but opens no table. A scope that picks no trigger by its own name
///   ([`braid_driver::Kinds`]) reads the triggers of the tables found alone, by their exact
///   names; one that picks no view or routine reads none.
///
/// Tables come by their own name only. [`Schema::within`] also picks a table by the name of
/// one of its indexes or constraints, but the server has no list of those cheaper than opening
/// every table, and MySQL needs none: every statement that creates, alters or drops an index
/// or a constraint names its table (`CREATE INDEX ix ON t`, `DROP INDEX ix ON t`,
/// `ALTER TABLE t DROP CONSTRAINT c`), so the scope of a script names the table too.
struct Narrow {
    /// The names as literals, comma-separated; `None` for the whole schema.
    names: Option<String>,
    /// Whether the names are as the server spells them, not the scope's lowercase ones.
    exact: bool,
}

impl Narrow {
    /// By the names of `scope`; `None` for an empty scope, which picks nothing.
    fn scope(scope: &Scope) -> Option<Narrow> {
        let names = match scope.name_list().map(identifiers) {
            None => None,
            Some(names) if names.is_empty() => return None,
            Some(names) => Some(literals(names)),
        };
        Some(Narrow {
            names,
            exact: false,
        })
    }

    /// By `found`, the exact names of what this narrowing found (the whole schema stays
    /// whole); `None` when it found nothing, and a query would find nothing either.
    fn to<'a>(&self, found: impl IntoIterator<Item = &'a String>) -> Option<Narrow> {
        let found: Vec<&String> = found.into_iter().collect();
        if found.is_empty() {
            return None;
        }
        Some(Narrow {
            names: self.names.as_ref().map(|_| literals(found)),
            exact: true,
        })
    }

    /// `sql` keeping only the rows where one of `columns` is a name: `AND (…)` at the end of
    /// its `WHERE`, before its `ORDER BY`.
    fn narrow(&self, sql: &str, columns: &[&str]) -> String {
        let Some(names) = &self.names else {
            return sql.to_string();
        };
        let any: Vec<String> = columns
            .iter()
            .map(|column| {
                if self.exact {
                    format!("{column} IN ({names})")
                } else {
                    format!("LOWER({column}) IN ({names})")
                }
            })
            .collect();
        let condition = format!(" AND ({})", any.join(" OR "));
        let end = sql.rfind(" ORDER BY").unwrap_or(sql.len());
        format!("{}{condition}{}", &sql[..end], &sql[end..])
    }
}

/// The names that can be identifiers: MySQL allows none with a character outside the Basic
/// Multilingual Plane, and `information_schema`'s utf8mb3 columns refuse to be compared with
/// one ("Illegal mix of collations"). A scope takes every string of a script as a name, so a
/// seeded emoji would otherwise fail the snapshot.
fn identifiers(names: Vec<&str>) -> Vec<&str> {
    names
        .into_iter()
        .filter(|n| n.chars().all(|c| u32::from(c) <= 0xFFFF))
        .collect()
}

/// `names` as string literals, comma-separated. Each is a hex literal with a character set
/// introducer: no character of a name can end it, and it reads the same whatever `sql_mode`
/// says about backslashes (`NO_BACKSLASH_ESCAPES`, which a migration may have set on this
/// connection).
fn literals<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    let literal = |name: S| {
        let hex: String = name.as_ref().bytes().map(|b| format!("{b:02X}")).collect();
        format!("_utf8mb4 X'{hex}'")
    };
    names
        .into_iter()
        .map(literal)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn introspect(conn: &mut Conn, mariadb: bool) -> Result<Schema, DriverError> {
    introspect_within(conn, mariadb, &Scope::Whole).await
}

/// The schema, reading only what `scope` names (see [`Narrow`]).
pub(crate) async fn introspect_within(
    conn: &mut Conn,
    mariadb: bool,
    scope: &Scope,
) -> Result<Schema, DriverError> {
    let kinds = scope.kinds();
    let Some(scope) = Narrow::scope(scope) else {
        return Ok(Schema::default());
    };
    let names: Vec<(String, String)> = rows(conn, &scope.narrow(TABLES, &["TABLE_NAME"])).await?;
    // Sorted here, by bytes: `information_schema` sorts case-insensitively, by collation.
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut sequences: Vec<String> = Vec::new();
    let mut view_names: Vec<String> = Vec::new();
    for (name, kind) in names {
        match kind.as_str() {
            "SEQUENCE" => sequences.push(name),
            "VIEW" => view_names.push(name),
            _ => {
                let table = Table {
                    name: name.clone(),
                    ..Table::default()
                };
                tables.insert(name, table);
            }
        }
    }
    if !kinds.sequences {
        sequences.clear();
    }
    let mut sequence_types = BTreeMap::new();
    // Sequences too: a sequence's value type is read from its columns.
    if let Some(found) = scope.to(tables.keys().chain(&sequences)) {
        let primary = add_indexes(conn, mariadb, &found, &mut tables).await?;
        sequence_types = add_columns(conn, mariadb, &found, &primary, &mut tables).await?;
        add_foreign_keys(conn, &found, &mut tables).await?;
        add_checks(conn, mariadb, &found, &mut tables).await?;
    }
    let views = match scope.to(&view_names).filter(|_| kinds.views) {
        Some(found) => read_views(conn, &found).await?,
        None => Vec::new(),
    };
    // Triggers named on their own come by the scope's names, read from every table's trigger
    // file; those of the tables found alone by the tables' exact names, a lookup.
    let triggers = match kinds.triggers {
        true => triggers(conn, &scope, &["TRIGGER_NAME", "EVENT_OBJECT_TABLE"]).await?,
        false => match scope.to(tables.keys()) {
            Some(found) => triggers(conn, &found, &["EVENT_OBJECT_TABLE"]).await?,
            None => Vec::new(),
        },
    };
    let routines = match kinds.routines {
        true => routines(conn, &scope).await?,
        false => Vec::new(),
    };
    let schema = Schema {
        tables: tables.into_values().collect(),
        views,
        triggers,
        sequences: read_sequences(conn, &sequences, &sequence_types).await?,
        routines,
    };
    Ok(schema.without_tables(is_version_store))
}

type IndexRow = (
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
    String,
);

/// Indexes, and primary keys from the `PRIMARY` index: `COLUMN_KEY = 'PRI'` also marks a
/// UNIQUE NOT NULL column of a table without a primary key (which InnoDB then uses as its
/// clustered key), and that is not a declared primary key. Returns the primary key columns.
async fn add_indexes(
    conn: &mut Conn,
    mariadb: bool,
    found: &Narrow,
    tables: &mut BTreeMap<String, Table>,
) -> Result<BTreeSet<(String, String)>, DriverError> {
    let indexes = found.narrow(INDEXES, &["TABLE_NAME"]);
    let index_rows: Vec<IndexRow> = if mariadb {
        rows(conn, &indexes).await?
    } else {
        let indexes_mysql = found.narrow(INDEXES_MYSQL, &["TABLE_NAME"]);
        match rows_if_known(conn, &indexes_mysql, &[ER_BAD_FIELD]).await? {
            Some(r) => r,
            None => rows(conn, &indexes).await?,
        }
    };
    let mut primary: BTreeSet<(String, String)> = BTreeSet::new();
    let mut indexes: BTreeMap<(String, String), Index> = BTreeMap::new();
    for (table, index, column, non_unique, sub_part, collation, method) in index_rows {
        let column = column.unwrap_or_else(|| "<expression>".to_string());
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        if index == "PRIMARY" {
            t.primary_key
                .get_or_insert_with(PrimaryKey::default)
                .columns
                .push(column.clone());
            primary.insert((table, column));
            continue;
        }
        indexes
            .entry((table, index.clone()))
            .or_insert_with(|| Index {
                name: index,
                unique: non_unique == 0,
                method: (method != "BTREE").then_some(method),
                ..Index::default()
            })
            .columns
            .push(key_part(column, sub_part, collation.as_deref()));
    }
    for ((table, _), index) in indexes {
        if let Some(t) = tables.get_mut(&table) {
            t.indexes.push(index);
        }
    }
    Ok(primary)
}

/// A key part: the column with its prefix length (`name(10)`) and ` DESC` when descending.
fn key_part(column: String, sub_part: Option<i64>, collation: Option<&str>) -> String {
    let mut part = match sub_part {
        Some(n) => format!("{column}({n})"),
        None => column,
    };
    if collation == Some("D") {
        part.push_str(" DESC");
    }
    part
}

type ColumnRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// Columns of the tables; returns each sequence's value type (its `minimum_value` column's).
async fn add_columns(
    conn: &mut Conn,
    mariadb: bool,
    found: &Narrow,
    primary: &BTreeSet<(String, String)>,
    tables: &mut BTreeMap<String, Table>,
) -> Result<BTreeMap<String, String>, DriverError> {
    let column_rows: Vec<ColumnRow> = rows(conn, &found.narrow(COLUMNS, &["TABLE_NAME"])).await?;
    let mut sequence_types = BTreeMap::new();
    for (table, name, data_type, nullable, default, extra, expression, collation) in column_rows {
        let Some(t) = tables.get_mut(&table) else {
            if name == "minimum_value" {
                sequence_types.insert(table, data_type);
            }
            continue; // a view's or a sequence's column
        };
        // MariaDB reports defaults as SQL expressions (string literals quoted), so its bare
        // `NULL` means "no default"; MySQL reports a missing default as SQL NULL already.
        let default = default.filter(|d| !(mariadb && d == "NULL"));
        let primary_key = primary.contains(&(table, name.clone()));
        let extra = Extra::read(&extra);
        t.columns.push(Column {
            name,
            data_type,
            nullable: nullable == "YES",
            default,
            primary_key,
            identity: extra.auto_increment.then(|| "AUTO_INCREMENT".to_string()),
            generated: extra.generated.map(|stored| Generated {
                expression: expression.unwrap_or_default(),
                stored,
            }),
            on_update: extra.on_update,
            collation,
        });
    }
    Ok(sequence_types)
}

/// What `COLUMNS.EXTRA` says: `auto_increment`, `on update current_timestamp()`,
/// `STORED GENERATED` / `VIRTUAL GENERATED` (MySQL 8 and MariaDB 10.2+; older MariaDB
/// `PERSISTENT` / `VIRTUAL`), and MySQL 8's `DEFAULT_GENERATED` (an expression default, not a
/// generated column).
#[derive(Debug, Default, PartialEq, Eq)]
struct Extra {
    auto_increment: bool,
    /// `Some(stored)` for a generated column.
    generated: Option<bool>,
    on_update: Option<String>,
}

impl Extra {
    fn read(extra: &str) -> Extra {
        let lower = extra.to_ascii_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        let stored = words.contains(&"stored") || words.contains(&"persistent");
        let generated =
            words.contains(&"generated") || words == ["persistent"] || words == ["virtual"];
        let on_update = lower
            .find("on update ")
            .map(|at| extra[at + "on update ".len()..].trim().to_string());
        Extra {
            auto_increment: words.contains(&"auto_increment"),
            generated: generated.then_some(stored),
            on_update,
        }
    }
}

type FkRow = (String, String, String, String, String);

async fn add_foreign_keys(
    conn: &mut Conn,
    found: &Narrow,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let fk_rows: Vec<FkRow> =
        rows(conn, &found.narrow(FOREIGN_KEY_COLUMNS, &["TABLE_NAME"])).await?;
    if fk_rows.is_empty() {
        return Ok(());
    }
    let rule_rows: Vec<(String, String, String, String)> =
        rows(conn, &found.narrow(FOREIGN_KEY_RULES, &["TABLE_NAME"])).await?;
    let rules: BTreeMap<(String, String), (String, String)> = rule_rows
        .into_iter()
        .map(|(table, name, on_delete, on_update)| ((table, name), (on_delete, on_update)))
        .collect();
    let mut fks: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for (table, name, column, ref_table, ref_column) in fk_rows {
        let Some((on_delete, on_update)) = rules.get(&(table.clone(), name.clone())) else {
            continue; // gone between the two queries
        };
        let fk = fks
            .entry((table, name.clone()))
            .or_insert_with(|| ForeignKey {
                name: Some(name),
                columns: Vec::new(),
                referenced_table: ref_table,
                referenced_columns: Vec::new(),
                on_delete: Some(on_delete.clone()),
                on_update: Some(on_update.clone()),
            });
        fk.columns.push(column);
        fk.referenced_columns.push(ref_column);
    }
    for ((table, _), fk) in fks {
        if let Some(t) = tables.get_mut(&table) {
            t.foreign_keys.push(fk);
        }
    }
    Ok(())
}

async fn add_checks(
    conn: &mut Conn,
    mariadb: bool,
    found: &Narrow,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let sql = if mariadb {
        found.narrow(CHECKS_MARIADB, &["TABLE_NAME"])
    } else {
        found.narrow(CHECKS_MYSQL, &["t.TABLE_NAME"])
    };
    let check_rows: Vec<(String, String, String)> = rows_if_known(conn, &sql, &[ER_UNKNOWN_TABLE])
        .await?
        .unwrap_or_default();
    for (table, name, expression) in check_rows {
        if let Some(t) = tables.get_mut(&table) {
            t.checks.push(Check {
                name: Some(name),
                expression,
            });
        }
    }
    for t in tables.values_mut() {
        t.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(())
}

/// Views, their definitions without the current database's qualifier (the server writes
/// `` `db`.`t` `` for every table): the same view in another database then compares equal.
async fn read_views(conn: &mut Conn, found: &Narrow) -> Result<Vec<View>, DriverError> {
    let view_rows: Vec<(String, String, Option<String>, String)> =
        rows(conn, &found.narrow(VIEWS, &["TABLE_NAME"])).await?;
    let mut views: Vec<View> = view_rows
        .into_iter()
        .map(|(schema, name, definition, check_option)| {
            let qualifier = format!("`{}`.", schema.replace('`', "``"));
            let mut definition = definition.unwrap_or_default().replace(&qualifier, "");
            if check_option != "NONE" {
                definition = format!("{definition} WITH {check_option} CHECK OPTION");
            }
            View {
                name,
                definition,
                materialized: false,
            }
        })
        .collect();
    views.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(views)
}

/// The triggers whose name or table (`columns`) `scope` names.
async fn triggers(
    conn: &mut Conn,
    scope: &Narrow,
    columns: &[&str],
) -> Result<Vec<Trigger>, DriverError> {
    let sql = scope.narrow(TRIGGERS, columns);
    let trigger_rows: Vec<(String, String, String, String, String)> = rows(conn, &sql).await?;
    let mut triggers: Vec<Trigger> = trigger_rows
        .into_iter()
        .map(|(name, table, timing, event, definition)| Trigger {
            name,
            table,
            timing,
            event,
            definition,
        })
        .collect();
    triggers.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    Ok(triggers)
}

type RoutineRow = (
    String,
    String,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
);

type ParameterRow = (String, String, Option<String>, Option<String>, String);

/// Routines, and the parameters of those found (`PARAMETERS` costs a millisecond on MariaDB
/// even when it finds nothing).
async fn routines(conn: &mut Conn, scope: &Narrow) -> Result<Vec<Routine>, DriverError> {
    let routine_rows: Vec<RoutineRow> =
        rows(conn, &scope.narrow(ROUTINES, &["ROUTINE_NAME"])).await?;
    let parameter_rows: Vec<ParameterRow> = match scope.to(routine_rows.iter().map(|r| &r.0)) {
        Some(found) => rows(conn, &found.narrow(PARAMETERS, &["SPECIFIC_NAME"])).await?,
        None => Vec::new(),
    };
    let mut arguments: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (name, kind, mode, parameter, data_type) in parameter_rows {
        let declared = [mode, parameter, Some(data_type)]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        arguments.entry((name, kind)).or_default().push(declared);
    }
    let mut routines: Vec<Routine> = routine_rows
        .into_iter()
        .map(|row| {
            let key = (row.0.clone(), row.1.clone());
            let args = arguments.get(&key).map(|a| a.join(", "));
            routine(row, args.unwrap_or_default())
        })
        .collect();
    routines.sort_by(|a, b| (&a.name, &a.kind).cmp(&(&b.name, &b.kind)));
    Ok(routines)
}

/// A routine's definition: what `SHOW CREATE` would put between the arguments and the body
/// (the return type, determinism, data access, security; not the definer), then the body.
fn routine(row: RoutineRow, arguments: String) -> Routine {
    let (name, kind, returns, deterministic, access, security, body) = row;
    let returns = returns.map(|r| format!("RETURNS {r} ")).unwrap_or_default();
    let deterministic = if deterministic == "YES" {
        "DETERMINISTIC"
    } else {
        "NOT DETERMINISTIC"
    };
    let definition = format!(
        "{returns}{deterministic} {access} SQL SECURITY {security}\n{}",
        body.unwrap_or_default()
    );
    Routine {
        name,
        kind,
        arguments,
        definition,
    }
}

type SequenceRow = (usize, i64, i64, i64, i64, i64, i64);

/// MariaDB's sequences, read from the sequences themselves (a sequence is a one-row table),
/// all in one `UNION ALL` query.
async fn read_sequences(
    conn: &mut Conn,
    names: &[String],
    types: &BTreeMap<String, String>,
) -> Result<Vec<Sequence>, DriverError> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sql = names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            format!(
                "SELECT {n}, start_value, increment, minimum_value, maximum_value, cache_size, \
                 cycle_option FROM `{}`",
                name.replace('`', "``")
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let sequence_rows: Vec<SequenceRow> = rows(conn, &sql).await?;
    let mut sequences: Vec<Sequence> = sequence_rows
        .into_iter()
        .filter_map(|(n, start, increment, minimum, maximum, cache, cycle)| {
            let name = names.get(n)?.clone();
            Some(Sequence {
                data_type: types.get(&name).cloned().unwrap_or_default(),
                name,
                start,
                increment,
                minimum,
                maximum,
                cache,
                cycle: cycle != 0,
                owned_by: None,
            })
        })
        .collect();
    sequences.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(sequences)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_adds_one_condition_before_the_order() {
        let whole = Narrow::scope(&Scope::Whole).unwrap();
        assert_eq!(whole.narrow(COLUMNS, &["TABLE_NAME"]), COLUMNS);
        let found = whole.to(&["Users".to_string()]).unwrap();
        assert_eq!(found.narrow(COLUMNS, &["TABLE_NAME"]), COLUMNS);
        assert!(Narrow::scope(&Scope::named(Vec::<&str>::new())).is_none());

        let named = Narrow::scope(&Scope::named(["Users", "it's\\"])).unwrap();
        assert_eq!(
            named.narrow("SELECT a FROM t WHERE x = 1 ORDER BY a", &["a", "b"]),
            "SELECT a FROM t WHERE x = 1 AND (LOWER(a) IN (_utf8mb4 X'697427735C', \
             _utf8mb4 X'7573657273') OR LOWER(b) IN (_utf8mb4 X'697427735C', \
             _utf8mb4 X'7573657273')) ORDER BY a"
        );
        let found = named.to(&["Users".to_string()]).unwrap();
        assert_eq!(
            found.narrow(VIEWS, &["TABLE_NAME"]),
            format!("{VIEWS} AND (TABLE_NAME IN (_utf8mb4 X'5573657273'))")
        );
        assert!(named.to(&[]).is_none());
    }

    #[test]
    fn extra_column_flags() {
        assert!(Extra::read("auto_increment").auto_increment);
        assert_eq!(Extra::read("STORED GENERATED").generated, Some(true));
        assert_eq!(Extra::read("VIRTUAL GENERATED").generated, Some(false));
        assert_eq!(Extra::read("PERSISTENT").generated, Some(true));
        assert_eq!(Extra::read("DEFAULT_GENERATED").generated, None);
        assert_eq!(
            Extra::read("DEFAULT_GENERATED on update CURRENT_TIMESTAMP").on_update,
            Some("CURRENT_TIMESTAMP".into())
        );
        assert_eq!(
            Extra::read("on update current_timestamp()").on_update,
            Some("current_timestamp()".into())
        );
        assert_eq!(Extra::read(""), Extra::default());
    }
}
