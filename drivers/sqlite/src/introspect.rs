//! Reading the schema back from SQLite's catalogue and pragmas (see the crate docs for what is
//! reported and in which order).
//!
//! Four queries in all, whatever the number of tables: the pragmas are table-valued functions,
//! joined to the list of tables read (plus one per parent a scoped snapshot did not read of a
//! foreign key written without referenced columns). What the pragmas do not report (checks,
//! generated expressions, `AUTOINCREMENT`, collations, index expressions and predicates, trigger
//! events) is read from the stored `CREATE` statements ([`ddl`]).
//!
//! A [`Scope`] narrows one thing: which `sqlite_schema` rows [`objects`] reads. Everything after
//! (the pragmas, the `CREATE` text) follows the tables read, so each object a scoped snapshot
//! reports is built by the same code as in the whole snapshot, and the snapshot costs the
//! pragmas of the tables picked plus two scans of `sqlite_schema` (a few percent of the whole
//! snapshot's cost, which is a pragma round per table).

mod ddl;

use std::collections::{BTreeMap, BTreeSet};

use braid_driver::{
    Check, Column, DriverError, ForeignKey, Generated, Index, PrimaryKey, Schema, Scope, Table,
    Trigger, View, is_version_store,
};
use rusqlite::{Connection, Params, Row};

use crate::error::map_err;

/// The catalogue rows to read. `?1` is NULL for the whole schema; for a [`Scope::Named`] it is
/// the JSON array of its names, and the rows are its candidates, a superset of what it picks
/// that [`Objects::retain_within`] trims: the triggers named, and every row of a table (the
/// table or view, its indexes and triggers) that may be picked. That is a table named or owning
/// an index named, and two kinds the query cannot judge: SQLite folds the case of ASCII letters
/// only, so a table with an object of another name (its own, an index's or a trigger's) is
/// always one; and a check's name is only in its table's text, so a table declaring
/// `CONSTRAINT … CHECK` is one too.
///
/// SQLite's own tables (`sqlite_sequence`, `sqlite_stat1`) are left out, not the
/// `sqlite_autoindex_…` indexes: a scope may pick a table by one of them.
const OBJECTS: &str = "\
WITH names(name) AS (SELECT value FROM json_each(?1)),
owners(name) AS (
  SELECT name FROM names
  UNION ALL
  SELECT tbl_name FROM sqlite_schema
  WHERE type = 'index' AND name COLLATE NOCASE IN names
     OR octet_length(name) > length(name)
     OR type = 'table' AND sql LIKE '%constraint%' AND sql LIKE '%check%')
SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_schema
WHERE (?1 IS NULL
       OR tbl_name COLLATE NOCASE IN owners
       OR type = 'trigger' AND name COLLATE NOCASE IN names)
  AND type IN ('table', 'view', 'index', 'trigger')
  AND (type = 'index' OR name NOT LIKE 'sqlite\\_%' ESCAPE '\\')";

/// Columns of the tables in the JSON array `?1`, hidden ones included: `table_info` leaves out
/// generated columns (`hidden` 2 virtual, 3 stored); 1 marks a virtual table's hidden column,
/// skipped.
const COLUMNS: &str = "\
SELECT t.value, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden
FROM json_each(?1) t JOIN pragma_table_xinfo(t.value) p
WHERE p.hidden <> 1
ORDER BY t.value, p.cid";

/// Key parts of the indexes of the tables in `?1` (`cid` -2 marks an expression), the primary
/// key's own left out: it is reported as the table's primary key.
const INDEXES: &str = "\
SELECT t.value, l.name, l.\"unique\", l.origin, x.name, x.\"desc\", x.coll
FROM json_each(?1) t JOIN pragma_index_list(t.value) l JOIN pragma_index_xinfo(l.name) x
WHERE l.origin <> 'pk' AND x.key = 1
ORDER BY t.value, l.name, x.seqno";

/// Foreign keys of the tables in `?1`.
const FOREIGN_KEYS: &str = "\
SELECT t.value, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete
FROM json_each(?1) t JOIN pragma_foreign_key_list(t.value) f
ORDER BY t.value, f.id, f.seq";

/// The primary key columns of table `?1`, in key order.
const PRIMARY_KEY: &str = "SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk";

/// The catalogue's objects: tables with what their `CREATE TABLE` declares, indexes with their
/// table and `CREATE INDEX` text (empty for SQLite's own), views and triggers.
#[derive(Default)]
struct Objects {
    tables: BTreeMap<String, ddl::TableDdl>,
    indexes: BTreeMap<String, (String, String)>,
    views: Vec<View>,
    triggers: Vec<Trigger>,
}

/// The whole schema.
pub(crate) fn introspect(conn: &Connection) -> Result<Schema, DriverError> {
    introspect_within(conn, &Scope::Whole)
}

/// The schema as `scope` limits it: what [`Schema::within`] keeps of the whole one (see
/// [`OBJECTS`] for how the rows are picked), and the table of a primary key's own
/// `sqlite_autoindex_…` the scope names, an index the whole one leaves out. An empty scope reads
/// nothing.
pub(crate) fn introspect_within(conn: &Connection, scope: &Scope) -> Result<Schema, DriverError> {
    if scope.name_list().is_some_and(|names| names.is_empty()) {
        return Ok(Schema::default());
    }
    let objects = objects(conn, scope)?;
    // The pragmas read these tables only.
    let read = json_array(objects.tables.keys().map(String::as_str));
    // Keyed by name: a BTreeMap gives byte order, what SQLite's BINARY collation gives too.
    let mut tables: BTreeMap<String, Table> = objects
        .tables
        .iter()
        .map(|(name, declared)| (name.clone(), table(name, declared)))
        .collect();
    add_columns(conn, &read, &objects, &mut tables)?;
    add_indexes(conn, &read, &objects, &mut tables)?;
    add_foreign_keys(conn, &read, &mut tables)?;
    let schema = Schema {
        tables: tables.into_values().collect(),
        views: objects.views,
        triggers: objects.triggers,
        ..Schema::default()
    };
    Ok(schema.without_tables(is_version_store))
}

/// Runs `sql` and maps each row with `f`. Statements are cached: the queries are the same text
/// at every snapshot (the scope is a parameter), and `verify` takes three per revision.
fn query<T>(
    conn: &Connection,
    sql: &str,
    params: impl Params,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, DriverError> {
    let mut stmt = conn.prepare_cached(sql).map_err(map_err)?;
    stmt.query_map(params, f)
        .map_err(map_err)?
        .collect::<Result<_, _>>()
        .map_err(map_err)
}

/// `names` as a JSON array: how a list goes into a query as one parameter (`json_each`).
fn json_array<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_string())
}

/// The objects `scope` picks, read from `sqlite_schema`.
fn objects(conn: &Connection, scope: &Scope) -> Result<Objects, DriverError> {
    let names = scope.name_list().map(json_array);
    let rows: Vec<(String, String, String, String)> = query(conn, OBJECTS, [names], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
    let mut out = Objects::default();
    for (kind, name, table, sql) in rows {
        out.add(&kind, name, table, sql);
    }
    out.retain_within(scope);
    out.views.sort_by(|a, b| a.name.cmp(&b.name));
    out.triggers
        .sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    Ok(out)
}

impl Objects {
    /// Adds the `sqlite_schema` row of object `name` of type `kind` on table `table`.
    fn add(&mut self, kind: &str, name: String, table: String, sql: String) {
        match kind {
            "table" => {
                self.tables.insert(name, ddl::table(&sql));
            }
            "index" => {
                self.indexes.insert(name, (table, sql));
            }
            "view" => self.views.push(View {
                name,
                definition: sql,
                materialized: false,
            }),
            _ => {
                let (timing, event) = ddl::trigger(&sql);
                self.triggers.push(Trigger {
                    name,
                    table,
                    timing,
                    event,
                    definition: sql,
                });
            }
        }
    }

    /// Keeps what `scope` picks of the candidates [`OBJECTS`] read, by the rule of
    /// [`Schema::within`] itself applied to their outline: the query can neither fold every
    /// letter as Rust does nor read a check's name, and each table kept costs its pragmas.
    fn retain_within(&mut self, scope: &Scope) {
        if matches!(scope, Scope::Whole) {
            return;
        }
        let kept = self.outline().within(scope);
        let tables: BTreeSet<String> = kept.tables.into_iter().map(|t| t.name).collect();
        self.tables.retain(|name, _| tables.contains(name));
        self.views = kept.views;
        self.triggers = kept.triggers;
    }

    /// The objects with what picks them: each table with its indexes' names and its checks.
    fn outline(&self) -> Schema {
        // SQLite compares names without regard to ASCII case.
        let mut tables: BTreeMap<String, Table> = self
            .tables
            .iter()
            .map(|(name, declared)| (name.to_ascii_lowercase(), table(name, declared)))
            .collect();
        for (name, (table, _)) in &self.indexes {
            if let Some(t) = tables.get_mut(&table.to_ascii_lowercase()) {
                t.indexes.push(Index {
                    name: name.clone(),
                    ..Index::default()
                });
            }
        }
        Schema {
            tables: tables.into_values().collect(),
            views: self.views.clone(),
            triggers: self.triggers.clone(),
            ..Schema::default()
        }
    }
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
    read: &str,
    objects: &Objects,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let rows: Vec<ColumnRow> = query(conn, COLUMNS, [read], |r| {
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
    read: &str,
    objects: &Objects,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let rows: Vec<IndexRow> = query(conn, INDEXES, [read], |r| {
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
            let sql = objects
                .indexes
                .get(&name)
                .map_or("", |(_, sql)| sql.as_str());
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
    read: &str,
    tables: &mut BTreeMap<String, Table>,
) -> Result<(), DriverError> {
    let rows: Vec<FkRow> = query(conn, FOREIGN_KEYS, [read], |r| {
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
            fk.referenced_columns = primary_key_of(conn, tables, &fk.referenced_table)?;
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

/// The primary key columns of `table`: from the tables read, or from SQLite for a parent a
/// scoped snapshot did not read.
fn primary_key_of(
    conn: &Connection,
    tables: &BTreeMap<String, Table>,
    table: &str,
) -> Result<Vec<String>, DriverError> {
    let read = tables.get(table).or_else(|| {
        // SQLite matches table names case-insensitively.
        tables.values().find(|t| t.name.eq_ignore_ascii_case(table))
    });
    match read {
        Some(t) => Ok(t
            .primary_key
            .as_ref()
            .map(|pk| pk.columns.clone())
            .unwrap_or_default()),
        None => query(conn, PRIMARY_KEY, [table], |r| r.get(0)),
    }
}
