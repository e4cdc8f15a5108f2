//! Reading the schema back from SQLite's catalogue and pragmas (see the crate docs for what is
//! reported and in which order).

use braid_driver::{Column, DriverError, ForeignKey, Index, Schema, Table};
use rusqlite::Connection;

use crate::error::map_err;

pub(crate) fn introspect(conn: &Connection) -> Result<Schema, DriverError> {
    let names: Vec<String> = {
        let mut stmt = conn
            .prepare(
                "SELECT name FROM sqlite_schema \
                 WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                 ORDER BY name",
            )
            .map_err(map_err)?;
        stmt.query_map([], |r| r.get(0))
            .map_err(map_err)?
            .collect::<Result<_, _>>()
            .map_err(map_err)?
    };
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let columns = columns(conn, &name)?;
        let indexes = indexes(conn, &name)?;
        let foreign_keys = foreign_keys(conn, &name)?;
        tables.push(Table {
            name,
            columns,
            indexes,
            foreign_keys,
        });
    }
    Ok(Schema { tables })
}

fn columns(conn: &Connection, table: &str) -> Result<Vec<Column>, DriverError> {
    let mut stmt = conn
        .prepare(
            "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1) ORDER BY cid",
        )
        .map_err(map_err)?;
    let raw: Vec<(String, String, bool, Option<String>, i64)> = stmt
        .query_map([table], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(map_err)?
        .collect::<Result<_, _>>()
        .map_err(map_err)?;
    let pk_count = raw.iter().filter(|c| c.4 > 0).count();
    Ok(raw
        .into_iter()
        .map(|(name, data_type, notnull, default, pk)| {
            // A lone `INTEGER PRIMARY KEY` is the rowid and can never be NULL, though SQLite does
            // not flag it NOT NULL. (Other primary key columns of rowid tables do accept NULL.)
            let rowid_alias = pk > 0 && pk_count == 1 && data_type.eq_ignore_ascii_case("INTEGER");
            Column {
                name,
                data_type,
                nullable: !notnull && !rowid_alias,
                default,
                primary_key: pk > 0,
            }
        })
        .collect())
}

fn indexes(conn: &Connection, table: &str) -> Result<Vec<Index>, DriverError> {
    let list: Vec<(String, bool)> = {
        let mut stmt = conn
            .prepare(
                "SELECT name, \"unique\" FROM pragma_index_list(?1) \
                 WHERE origin <> 'pk' ORDER BY name",
            )
            .map_err(map_err)?;
        stmt.query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(map_err)?
            .collect::<Result<_, _>>()
            .map_err(map_err)?
    };
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
        .map_err(map_err)?;
    let mut out = Vec::with_capacity(list.len());
    for (name, unique) in list {
        let columns = stmt
            .query_map([&name], |r| r.get::<_, Option<String>>(0))
            .map_err(map_err)?
            .map(|c| c.map(|c| c.unwrap_or_else(|| "<expression>".to_string())))
            .collect::<Result<_, _>>()
            .map_err(map_err)?;
        out.push(Index {
            name,
            columns,
            unique,
        });
    }
    Ok(out)
}

fn foreign_keys(conn: &Connection, table: &str) -> Result<Vec<ForeignKey>, DriverError> {
    type Row = (i64, String, String, Option<String>, String, String);
    let rows: Vec<Row> = {
        let mut stmt = conn
            .prepare(
                "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete \
                 FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
            )
            .map_err(map_err)?;
        stmt.query_map([table], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .map_err(map_err)?
        .collect::<Result<_, _>>()
        .map_err(map_err)?
    };
    let mut out: Vec<(i64, ForeignKey, bool)> = Vec::new();
    for (id, parent, from, to, on_update, on_delete) in rows {
        if out.last().is_none_or(|(last, _, _)| *last != id) {
            out.push((
                id,
                ForeignKey {
                    name: None,
                    columns: Vec::new(),
                    referenced_table: parent,
                    referenced_columns: Vec::new(),
                    on_delete: Some(on_delete),
                    on_update: Some(on_update),
                },
                false,
            ));
        }
        if let Some((_, fk, implicit)) = out.last_mut() {
            fk.columns.push(from);
            match to {
                Some(to) => fk.referenced_columns.push(to),
                None => *implicit = true,
            }
        }
    }
    let mut fks = Vec::with_capacity(out.len());
    for (_, mut fk, implicit) in out {
        if implicit {
            // `REFERENCES parent` without columns means the parent's primary key.
            fk.referenced_columns = primary_key(conn, &fk.referenced_table)?;
        }
        fks.push(fk);
    }
    // SQLite numbers foreign keys in reverse declaration order; sort for a stable report.
    fks.sort_by(|a, b| {
        (&a.columns, &a.referenced_table, &a.referenced_columns).cmp(&(
            &b.columns,
            &b.referenced_table,
            &b.referenced_columns,
        ))
    });
    Ok(fks)
}

fn primary_key(conn: &Connection, table: &str) -> Result<Vec<String>, DriverError> {
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info(?1) WHERE pk > 0 ORDER BY pk")
        .map_err(map_err)?;
    stmt.query_map([table], |r| r.get(0))
        .map_err(map_err)?
        .collect::<Result<_, _>>()
        .map_err(map_err)
}
