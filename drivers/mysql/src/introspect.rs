//! Reading the schema of the current database back from `information_schema` (see the crate
//! docs for what is reported and in which order).
//!
//! Four queries in all, whatever the number of tables, grouped in Rust: a schema with hundreds
//! of tables introspects in a few round trips.

use std::collections::{BTreeMap, BTreeSet};

use braid_driver::{Column, DriverError, ForeignKey, Index, Schema, Table};
use mysql_async::Conn;
use mysql_async::prelude::Queryable;

use crate::error::map_err;

pub(crate) async fn introspect(conn: &mut Conn, mariadb: bool) -> Result<Schema, DriverError> {
    let names: Vec<String> = conn
        .query(
            "SELECT TABLE_NAME FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
        )
        .await
        .map_err(map_err)?;
    // Sorted here, by bytes: `information_schema` sorts case-insensitively, by collation.
    let mut tables: BTreeMap<String, Table> = names
        .into_iter()
        .map(|name| {
            let table = Table {
                name: name.clone(),
                ..Table::default()
            };
            (name, table)
        })
        .collect();

    // The primary key, from its index: `COLUMN_KEY = 'PRI'` also marks a UNIQUE NOT NULL column
    // of a table without a primary key (which InnoDB then uses as its clustered key), and that
    // is not a declared primary key.
    type IndexRow = (String, String, Option<String>, i64);
    let index_rows: Vec<IndexRow> = conn
        .query(
            "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
        )
        .await
        .map_err(map_err)?;
    let mut primary: BTreeSet<(String, String)> = BTreeSet::new();
    let mut indexes: BTreeMap<(String, String), Index> = BTreeMap::new();
    for (table, index, column, non_unique) in index_rows {
        let column = column.unwrap_or_else(|| "<expression>".to_string());
        if index == "PRIMARY" {
            primary.insert((table, column));
            continue;
        }
        indexes
            .entry((table, index.clone()))
            .or_insert_with(|| Index {
                name: index,
                columns: Vec::new(),
                unique: non_unique == 0,
            })
            .columns
            .push(column);
    }
    for ((table, _), index) in indexes {
        if let Some(t) = tables.get_mut(&table) {
            t.indexes.push(index);
        }
    }

    type ColumnRow = (String, String, String, String, Option<String>);
    let column_rows: Vec<ColumnRow> = conn
        .query(
            "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, ORDINAL_POSITION",
        )
        .await
        .map_err(map_err)?;
    for (table, name, data_type, nullable, default) in column_rows {
        let Some(t) = tables.get_mut(&table) else {
            continue; // a view's column
        };
        // MariaDB reports defaults as SQL expressions (string literals quoted), so its bare
        // `NULL` means "no default"; MySQL reports a missing default as SQL NULL already.
        let default = default.filter(|d| !(mariadb && d == "NULL"));
        let primary_key = primary.contains(&(table, name.clone()));
        t.columns.push(Column {
            name,
            data_type,
            nullable: nullable == "YES",
            default,
            primary_key,
        });
    }

    type FkRow = (String, String, String, String, String, String, String);
    let fk_rows: Vec<FkRow> = conn
        .query(
            "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME, \
                    k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE \
             FROM information_schema.KEY_COLUMN_USAGE k \
             JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA \
              AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
              AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
        )
        .await
        .map_err(map_err)?;
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

    Ok(Schema {
        tables: tables.into_values().collect(),
    })
}
