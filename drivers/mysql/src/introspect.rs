//! Reading the schema of the current database back from `information_schema` (see the crate
//! docs for what is reported and in which order).
//!
//! One query per kind of object, whatever the number of tables (tables, indexes, columns,
//! foreign keys, checks, views, triggers, routines and their parameters, and on MariaDB one
//! more for all sequences), grouped in Rust: a schema with hundreds of tables introspects in a
//! dozen round trips.

use std::collections::{BTreeMap, BTreeSet};

use braid_driver::{
    Check, Column, DriverError, ForeignKey, Generated, Index, PrimaryKey, Routine, Schema,
    Sequence, Table, Trigger, View, is_version_store,
};
use mysql_async::prelude::{FromRow, Queryable};
use mysql_async::{Conn, Error};

use crate::error::map_err;

/// ER_BAD_FIELD_ERROR: a column `information_schema` of this server version does not have.
const ER_BAD_FIELD: u16 = 1054;
/// ER_UNKNOWN_TABLE: an `information_schema` table this server version does not have.
const ER_UNKNOWN_TABLE: u16 = 1109;

/// Base tables (MariaDB's system-versioned ones too) and MariaDB's sequences; views come from
/// `VIEWS`.
const TABLES: &str = "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() \
       AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'SEQUENCE')";

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

const FOREIGN_KEYS: &str = "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, \
     k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE \
     FROM information_schema.KEY_COLUMN_USAGE k \
     JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
       ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA \
      AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
      AND r.TABLE_NAME = k.TABLE_NAME \
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
     ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION";

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

const TRIGGERS: &str = "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, \
     EVENT_MANIPULATION, ACTION_STATEMENT FROM information_schema.TRIGGERS \
     WHERE TRIGGER_SCHEMA = DATABASE()";

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

pub(crate) async fn introspect(conn: &mut Conn, mariadb: bool) -> Result<Schema, DriverError> {
    let names: Vec<(String, String)> = rows(conn, TABLES).await?;
    // Sorted here, by bytes: `information_schema` sorts case-insensitively, by collation.
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut sequences: Vec<String> = Vec::new();
    for (name, kind) in names {
        if kind == "SEQUENCE" {
            sequences.push(name);
        } else {
            let table = Table {
                name: name.clone(),
                ..Table::default()
            };
            tables.insert(name, table);
        }
    }
    let primary = add_indexes(conn, mariadb, &mut tables).await?;
    let sequence_types = add_columns(conn, mariadb, &primary, &mut tables).await?;
    add_foreign_keys(conn, &mut tables).await?;
    add_checks(conn, mariadb, &mut tables).await?;
    let schema = Schema {
        tables: tables.into_values().collect(),
        views: views(conn).await?,
        triggers: triggers(conn).await?,
        sequences: read_sequences(conn, &sequences, &sequence_types).await?,
        routines: routines(conn).await?,
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
    tables: &mut BTreeMap<String, Table>,
) -> Result<BTreeSet<(String, String)>, DriverError> {
    let index_rows: Vec<IndexRow> = if mariadb {
        rows(conn, INDEXES).await?
    } else {
        match rows_if_known(conn, INDEXES_MYSQL, &[ER_BAD_FIELD]).await? {
            Some(r) => r,
            None => rows(conn, INDEXES).await?,
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
    primary: &BTreeSet<(String, String)>,
    tables: &mut BTreeMap<String, Table>,
) -> Result<BTreeMap<String, String>, DriverError> {
    let column_rows: Vec<ColumnRow> = rows(conn, COLUMNS).await?;
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

type FkRow = (String, String, String, String, String, String, String);

async fn add_foreign_keys(
    conn: &mut Conn,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let fk_rows: Vec<FkRow> = rows(conn, FOREIGN_KEYS).await?;
    let mut fks: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
    for (table, name, column, ref_table, ref_column, on_delete, on_update) in fk_rows {
        let fk = fks
            .entry((table, name.clone()))
            .or_insert_with(|| ForeignKey {
                name: Some(name),
                columns: Vec::new(),
                referenced_table: ref_table,
                referenced_columns: Vec::new(),
                on_delete: Some(on_delete),
                on_update: Some(on_update),
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
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let sql = if mariadb {
        CHECKS_MARIADB
    } else {
        CHECKS_MYSQL
    };
    let check_rows: Vec<(String, String, String)> = rows_if_known(conn, sql, &[ER_UNKNOWN_TABLE])
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
async fn views(conn: &mut Conn) -> Result<Vec<View>, DriverError> {
    let view_rows: Vec<(String, String, Option<String>, String)> = rows(conn, VIEWS).await?;
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

async fn triggers(conn: &mut Conn) -> Result<Vec<Trigger>, DriverError> {
    let trigger_rows: Vec<(String, String, String, String, String)> = rows(conn, TRIGGERS).await?;
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

async fn routines(conn: &mut Conn) -> Result<Vec<Routine>, DriverError> {
    let routine_rows: Vec<RoutineRow> = rows(conn, ROUTINES).await?;
    let parameter_rows: Vec<ParameterRow> = rows(conn, PARAMETERS).await?;
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
