//! Reading the schema back from SQLite's catalogue and pragmas (see the crate docs for what is
//! reported and in which order).
//!
//! Five queries in all, whatever the number of tables: the pragmas are table-valued functions,
//! joined to `sqlite_schema` for every table at once. What the pragmas do not report (checks,
//! generated expressions, `AUTOINCREMENT`, collations, index expressions and predicates,
//! trigger events) is read from the stored `CREATE` statements ([`ddl`]).

mod ddl;

use std::collections::BTreeMap;

use braid_driver::{
    Check, Column, DriverError, ForeignKey, Generated, Index, PrimaryKey, Schema, Table, Trigger,
    View, is_version_store,
};
use rusqlite::{Connection, Params, Row};

use crate::error::map_err;

/// Every object but SQLite's own (`sqlite_sequence`, `sqlite_stat1`, the `sqlite_autoindex_…`
/// indexes, which the index pragmas report).
const OBJECTS: &str = "\
SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema
WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND type IN ('table', 'view', 'index', 'trigger')";

/// Columns of every table, hidden ones included: `table_info` leaves out generated columns
/// (`hidden` 2 virtual, 3 stored); 1 marks a virtual table's hidden column, skipped.
const COLUMNS: &str = "\
SELECT m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden
FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND p.hidden <> 1
ORDER BY m.name, p.cid";

/// Key parts of every index (`cid` -2 marks an expression), the primary key's own left out:
/// it is reported as the table's primary key.
const INDEXES: &str = "\
SELECT m.name, l.name, l.\"unique\", l.origin, x.name, x.\"desc\", x.coll
FROM sqlite_schema m JOIN pragma_index_list(m.name) l JOIN pragma_index_xinfo(l.name) x
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
  AND l.origin <> 'pk' AND x.key = 1
ORDER BY m.name, l.name, x.seqno";

const FOREIGN_KEYS: &str = "\
SELECT m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete
FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'
ORDER BY m.name, f.id, f.seq";

/// The catalogue's objects: tables with what their `CREATE TABLE` declares, indexes with their
/// `CREATE INDEX` text (empty for SQLite's own), views and triggers.
#[derive(Default)]
struct Objects {
    tables: BTreeMap<String, ddl::TableDdl>,
    indexes: BTreeMap<String, String>,
    views: Vec<View>,
    triggers: Vec<Trigger>,
}

pub(crate) fn introspect(conn: &Connection) -> Result<Schema, DriverError> {
    let objects = objects(conn)?;
    // Keyed by name: a BTreeMap gives byte order, what SQLite's BINARY collation gives too.
    let mut tables: BTreeMap<String, Table> = objects
        .tables
        .iter()
        .map(|(name, declared)| (name.clone(), table(name, declared)))
        .collect();
    add_columns(conn, &objects, &mut tables)?;
    add_indexes(conn, &objects, &mut tables)?;
    add_foreign_keys(conn, &mut tables)?;
    let schema = Schema {
        tables: tables.into_values().collect(),
        views: objects.views,
        triggers: objects.triggers,
        ..Schema::default()
    };
    Ok(schema.without_tables(is_version_store))
}

/// Runs `sql` and maps each row with `f`.
fn query<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, DriverError> {
    let mut stmt = conn.prepare(sql).map_err(map_err)?;
    stmt.query_map(params, f)
        .map_err(map_err)?
        .collect::<Result<_, _>>()
        .map_err(map_err)
}

fn objects(conn: &Connection) -> Result<Objects, DriverError> {
    let rows: Vec<(String, String, String, String)> = query(conn, OBJECTS, [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Objects::default();
    for (kind, name, table, sql) in rows {
        match kind.as_str() {
            "table" => {
                out.tables.insert(name, ddl::table(&sql));
            }
            "index" => {
                out.indexes.insert(name, sql);
            }
            "view" => out.views.push(View {
                name,
                definition: sql,
                materialized: false,
            }),
            _ => {
                let (timing, event) = ddl::trigger(&sql);
                out.triggers.push(Trigger {
                    name,
                    table,
                    timing,
                    event,
                    definition: sql,
                });
            }
        }
    }
    out.views.sort_by(|a, b| a.name.cmp(&b.name));
    out.triggers
        .sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    Ok(out)
}

/// A table with the checks its `CREATE TABLE` declares, sorted by name (unnamed ones by
/// expression, after the named).
fn table(name: &str, declared: &ddl::TableDdl) -> Table {
    let mut checks: Vec<Check> = declared
        .checks
        .iter()
        .map(|c| Check {
            name: c.name.clone(),
            expression: c.expression.clone(),
        })
        .collect();
    checks.sort_by(|a, b| {
        (a.name.is_none(), &a.name, &a.expression).cmp(&(b.name.is_none(), &b.name, &b.expression))
    });
    Table {
        name: name.to_string(),
        checks,
        ..Table::default()
    }
}

type ColumnRow = (String, String, String, bool, Option<String>, i64, i64);

fn add_columns(
    conn: &Connection,
    objects: &Objects,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let rows: Vec<ColumnRow> = query(conn, COLUMNS, [], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })?;
    let mut by_table: BTreeMap<String, Vec<ColumnRow>> = BTreeMap::new();
    for row in rows {
        by_table.entry(row.0.clone()).or_default().push(row);
    }
    for (name, rows) in by_table {
        if let (Some(t), Some(declared)) = (tables.get_mut(&name), objects.tables.get(&name)) {
            fill_columns(t, &declared.columns, rows);
        }
    }
    Ok(())
}

/// The columns and primary key of table `t`, whose column definitions are `declared`.
fn fill_columns(t: &mut Table, declared: &[ddl::ColumnDdl], rows: Vec<ColumnRow>) {
    let pk_count = rows.iter().filter(|c| c.5 > 0).count();
    let mut pk: Vec<(i64, String)> = Vec::new();
    for (_, name, data_type, notnull, default, pk_pos, hidden) in rows {
        let ddl = declared
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&name))
            .cloned()
            .unwrap_or_default();
        // A lone `INTEGER PRIMARY KEY` is the rowid and can never be NULL, though SQLite does
        // not flag it NOT NULL. (Other primary key columns of rowid tables do accept NULL.)
        let rowid_alias = pk_pos > 0 && pk_count == 1 && data_type.eq_ignore_ascii_case("INTEGER");
        if pk_pos > 0 {
            pk.push((pk_pos, name.clone()));
        }
        let generated = (hidden == 2 || hidden == 3).then(|| Generated {
            expression: ddl.generated.clone().unwrap_or_default(),
            stored: hidden == 3,
        });
        t.columns.push(Column {
            name,
            data_type,
            nullable: !notnull && !rowid_alias,
            default,
            primary_key: pk_pos > 0,
            identity: ddl.autoincrement.then(|| "AUTOINCREMENT".to_string()),
            generated,
            on_update: None,
            collation: ddl.collation,
        });
    }
    pk.sort();
    if !pk.is_empty() {
        t.primary_key = Some(PrimaryKey {
            name: None,
            columns: pk.into_iter().map(|(_, c)| c).collect(),
        });
    }
}

type IndexRow = (String, String, bool, String, Option<String>, bool, String);

fn add_indexes(
    conn: &Connection,
    objects: &Objects,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let rows: Vec<IndexRow> = query(conn, INDEXES, [], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })?;
    // Rows come sorted by table and index, so an index's parts are consecutive.
    let mut expressions: Vec<String> = Vec::new();
    for (table, name, unique, origin, column, desc, coll) in rows {
        let Some(t) = tables.get_mut(&table) else {
            continue;
        };
        if t.indexes.last().is_none_or(|i| i.name != name) {
            let sql = objects.indexes.get(&name).map_or("", String::as_str);
            let parsed = ddl::index(sql);
            expressions = parsed.parts;
            t.indexes.push(Index {
                name,
                unique,
                predicate: parsed.predicate,
                constraint: origin == "u",
                ..Index::default()
            });
        }
        if let Some(index) = t.indexes.last_mut() {
            let part = key_part(&expressions, index.columns.len(), column, desc, &coll);
            index.columns.push(part);
        }
    }
    Ok(())
}

/// Key part `n`: the column, or the expression from the index's text, with its order and
/// collation when not the default.
fn key_part(
    expressions: &[String],
    n: usize,
    column: Option<String>,
    desc: bool,
    coll: &str,
) -> String {
    let mut part = column
        .or_else(|| expressions.get(n).cloned())
        .unwrap_or_else(|| "<expression>".to_string());
    if !coll.eq_ignore_ascii_case("BINARY") {
        part = format!("{part} COLLATE {coll}");
    }
    if desc {
        part.push_str(" DESC");
    }
    part
}

type FkRow = (String, i64, String, String, Option<String>, String, String);

fn add_foreign_keys(
    conn: &Connection,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let rows: Vec<FkRow> = query(conn, FOREIGN_KEYS, [], |r| {
        Ok((
            r.get(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
            r.get(5)?,
            r.get(6)?,
        ))
    })?;
    let mut keys: BTreeMap<(String, i64), (ForeignKey, bool)> = BTreeMap::new();
    for (table, id, parent, from, to, on_update, on_delete) in rows {
        let (fk, implicit) = keys.entry((table, id)).or_insert_with(|| {
            let fk = ForeignKey {
                name: None,
                columns: Vec::new(),
                referenced_table: parent,
                referenced_columns: Vec::new(),
                on_delete: Some(on_delete),
                on_update: Some(on_update),
            };
            (fk, false)
        });
        fk.columns.push(from);
        match to {
            Some(to) => fk.referenced_columns.push(to),
            None => *implicit = true,
        }
    }
    for ((table, _), (mut fk, implicit)) in keys {
        if implicit {
            // `REFERENCES parent` without columns means the parent's primary key.
            fk.referenced_columns = primary_key_of(tables, &fk.referenced_table);
        }
        if let Some(t) = tables.get_mut(&table) {
            t.foreign_keys.push(fk);
        }
    }
    // SQLite numbers foreign keys in reverse declaration order; sort for a stable report.
    for t in tables.values_mut() {
        t.foreign_keys.sort_by(|a, b| {
            (&a.columns, &a.referenced_table, &a.referenced_columns).cmp(&(
                &b.columns,
                &b.referenced_table,
                &b.referenced_columns,
            ))
        });
    }
    Ok(())
}

fn primary_key_of(tables: &BTreeMap<String, Table>, table: &str) -> Vec<String> {
    tables
        .get(table)
        .or_else(|| {
            // SQLite matches table names case-insensitively.
            tables.values().find(|t| t.name.eq_ignore_ascii_case(table))
        })
        .and_then(|t| t.primary_key.as_ref())
        .map(|pk| pk.columns.clone())
        .unwrap_or_default()
}
