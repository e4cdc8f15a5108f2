//! Reading the schema back from the catalogue (see the crate docs for what is reported and in
//! which order).
//!
//! Everything comes from `pg_catalog` rather than `information_schema`: the latter hides
//! objects the current role does not own-or-have-privileges-on, and is slower. All queries run
//! through the simple protocol, whose text results need no decoding.

use std::collections::BTreeMap;

use braid_driver::{Column, DriverError, ForeignKey, Index, Schema, Table};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::map_err;

/// Ordinary and partitioned tables of the current schema (the first on the `search_path` that
/// exists).
const TABLES: &str = "\
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')";

/// Columns in declaration order. `format_type` gives the declared type with its modifiers
/// (`character varying(200)`); a generated column's expression is reported as its default.
const COLUMNS: &str = "\
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attnotnull THEN 'f' ELSE 't' END,
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN EXISTS (SELECT 1 FROM pg_constraint p
                         WHERE p.conrelid = c.oid AND p.contype = 'p'
                           AND a.attnum = ANY (p.conkey)) THEN 't' ELSE 'f' END
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum";

/// Index key columns in order (`INCLUDE` columns left out; an expression is `<expression>`),
/// primary key indexes excluded.
const INDEXES: &str = "\
SELECT t.relname, i.relname, CASE WHEN x.indisunique THEN 't' ELSE 'f' END,
       coalesce(a.attname, '<expression>')
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum AND k.attnum > 0
WHERE n.nspname = current_schema() AND t.relkind IN ('r', 'p')
  AND NOT x.indisprimary AND k.ord <= x.indnkeyatts
ORDER BY t.relname, i.relname, k.ord";

/// Foreign key column pairs in key order. A referenced table in another schema is qualified.
const FOREIGN_KEYS: &str = "\
SELECT t.relname, f.conname,
       CASE WHEN rn.nspname = current_schema() THEN r.relname
            ELSE rn.nspname || '.' || r.relname END,
       a.attname, ra.attname,
       CASE f.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END,
       CASE f.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END
FROM pg_constraint f
JOIN pg_class t ON t.oid = f.conrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_class r ON r.oid = f.confrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
CROSS JOIN LATERAL unnest(f.conkey, f.confkey) WITH ORDINALITY AS k(att, ratt, ord)
JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.att
JOIN pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = k.ratt
WHERE n.nspname = current_schema() AND f.contype = 'f'
ORDER BY t.relname, f.conname, k.ord";

type Row = Vec<Option<String>>;

async fn rows(client: &Client, sql: &str) -> Result<Vec<Row>, DriverError> {
    let messages = client.simple_query(sql).await.map_err(map_err)?;
    Ok(messages
        .iter()
        .filter_map(|m| match m {
            SimpleQueryMessage::Row(r) => {
                Some((0..r.len()).map(|i| r.get(i).map(String::from)).collect())
            }
            _ => None,
        })
        .collect())
}

fn text(row: &Row, i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

fn flag(row: &Row, i: usize) -> bool {
    text(row, i) == "t"
}

pub(crate) async fn introspect(client: &Client) -> Result<Schema, DriverError> {
    // Keyed by name: a BTreeMap gives byte order (what `ORDER BY` on `name` gives too) whatever
    // the database's collation.
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for row in rows(client, TABLES).await? {
        let name = text(&row, 0);
        tables.insert(
            name.clone(),
            Table {
                name,
                ..Table::default()
            },
        );
    }
    for row in rows(client, COLUMNS).await? {
        if let Some(t) = tables.get_mut(&text(&row, 0)) {
            t.columns.push(Column {
                name: text(&row, 1),
                data_type: text(&row, 2),
                nullable: flag(&row, 3),
                default: row.get(4).cloned().flatten(),
                primary_key: flag(&row, 5),
            });
        }
    }
    for row in rows(client, INDEXES).await? {
        let Some(t) = tables.get_mut(&text(&row, 0)) else {
            continue;
        };
        let name = text(&row, 1);
        if t.indexes.last().is_none_or(|i| i.name != name) {
            t.indexes.push(Index {
                name,
                columns: Vec::new(),
                unique: flag(&row, 2),
            });
        }
        if let Some(index) = t.indexes.last_mut() {
            index.columns.push(text(&row, 3));
        }
    }
    for row in rows(client, FOREIGN_KEYS).await? {
        let Some(t) = tables.get_mut(&text(&row, 0)) else {
            continue;
        };
        let name = text(&row, 1);
        if t.foreign_keys
            .last()
            .is_none_or(|f| f.name.as_deref() != Some(&name))
        {
            t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns: Vec::new(),
                referenced_table: text(&row, 2),
                referenced_columns: Vec::new(),
                on_delete: row.get(5).cloned().flatten(),
                on_update: row.get(6).cloned().flatten(),
            });
        }
        if let Some(fk) = t.foreign_keys.last_mut() {
            fk.columns.push(text(&row, 3));
            fk.referenced_columns.push(text(&row, 4));
        }
    }
    for t in tables.values_mut() {
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
    }
    Ok(Schema {
        tables: tables.into_values().collect(),
    })
}
