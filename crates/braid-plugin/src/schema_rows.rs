//! How an introspected [`Schema`] crosses the ABI: as an ordinary result set of a fixed shape,
//! so it reuses the tagged-value machinery instead of adding JSON (or a second set of
//! `#[repr(C)]` structs that would have to be versioned separately).
//!
//! The columns are [`COLUMNS`]: `kind, table, ord, name, a, b, c, flag1, flag2`. Rows come in
//! schema order (tables, then each table's items in their order); what each kind uses:
//!
//! | `kind`        | `table` | `ord`       | `name`     | `a`              | `b`                | `c`       | `flag1`  | `flag2`     |
//! |---------------|---------|-------------|------------|------------------|--------------------|-----------|----------|-------------|
//! | `table`       | table   |             |            |                  |                    |           |          |             |
//! | `column`      | table   |             | column     | data type        | default (or NULL)  |           | nullable | primary key |
//! | `index`       | table   |             | index      |                  |                    |           | unique   |             |
//! | `index_column`| table   |             | index      | column           |                    |           |          |             |
//! | `fk`          | table   | fk number   | name/NULL  | referenced table | on delete/NULL     | on update/NULL |     |             |
//! | `fk_column`   | table   | fk number   |            | column           | referenced column  |           |          |             |
//!
//! Unused cells are NULL. `ord` numbers a table's foreign keys from 0; flags are 0 or 1.

use braid_driver::{Column, ForeignKey, Index, Rows, Schema, Table, Value};

/// The column names of the introspection result set.
pub const COLUMNS: [&str; 9] = [
    "kind", "table", "ord", "name", "a", "b", "c", "flag1", "flag2",
];

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn opt(s: &Option<String>) -> Value {
    s.as_deref().map_or(Value::Null, text)
}

fn flag(b: bool) -> Value {
    Value::Int(i64::from(b))
}

struct Row {
    kind: &'static str,
    table: String,
    ord: Value,
    name: Value,
    a: Value,
    b: Value,
    c: Value,
    flag1: Value,
    flag2: Value,
}

impl Row {
    fn new(kind: &'static str, table: &str) -> Row {
        Row {
            kind,
            table: table.to_string(),
            ord: Value::Null,
            name: Value::Null,
            a: Value::Null,
            b: Value::Null,
            c: Value::Null,
            flag1: Value::Null,
            flag2: Value::Null,
        }
    }

    fn into_values(self) -> Vec<Value> {
        vec![
            text(self.kind),
            Value::Text(self.table),
            self.ord,
            self.name,
            self.a,
            self.b,
            self.c,
            self.flag1,
            self.flag2,
        ]
    }
}

/// The schema as rows of the fixed shape.
pub fn encode(schema: &Schema) -> Rows {
    let mut rows = Vec::new();
    for t in &schema.tables {
        rows.push(Row::new("table", &t.name));
        for c in &t.columns {
            let mut r = Row::new("column", &t.name);
            r.name = text(&c.name);
            r.a = text(&c.data_type);
            r.b = opt(&c.default);
            r.flag1 = flag(c.nullable);
            r.flag2 = flag(c.primary_key);
            rows.push(r);
        }
        for i in &t.indexes {
            let mut r = Row::new("index", &t.name);
            r.name = text(&i.name);
            r.flag1 = flag(i.unique);
            rows.push(r);
            for c in &i.columns {
                let mut r = Row::new("index_column", &t.name);
                r.name = text(&i.name);
                r.a = text(c);
                rows.push(r);
            }
        }
        for (n, fk) in t.foreign_keys.iter().enumerate() {
            let ord = Value::Int(n as i64);
            let mut r = Row::new("fk", &t.name);
            r.ord = ord.clone();
            r.name = opt(&fk.name);
            r.a = text(&fk.referenced_table);
            r.b = opt(&fk.on_delete);
            r.c = opt(&fk.on_update);
            rows.push(r);
            for (col, refcol) in fk.columns.iter().zip(&fk.referenced_columns) {
                let mut r = Row::new("fk_column", &t.name);
                r.ord = ord.clone();
                r.a = text(col);
                r.b = text(refcol);
                rows.push(r);
            }
            // Unequal lengths would be a driver bug, but keep every name rather than drop some.
            for col in fk.columns.iter().skip(fk.referenced_columns.len()) {
                let mut r = Row::new("fk_column", &t.name);
                r.ord = ord.clone();
                r.a = text(col);
                rows.push(r);
            }
            for refcol in fk.referenced_columns.iter().skip(fk.columns.len()) {
                let mut r = Row::new("fk_column", &t.name);
                r.ord = ord.clone();
                r.b = text(refcol);
                rows.push(r);
            }
        }
    }
    Rows {
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: rows.into_iter().map(Row::into_values).collect(),
    }
}

fn want_text(v: &Value, what: &str, n: usize) -> Result<String, String> {
    match v {
        Value::Text(s) => Ok(s.clone()),
        other => Err(format!("row {n}: {what} must be text, got {other:?}")),
    }
}

fn want_opt(v: &Value, what: &str, n: usize) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        other => want_text(other, what, n).map(Some),
    }
}

fn want_flag(v: &Value, what: &str, n: usize) -> Result<bool, String> {
    match v {
        Value::Int(i) => Ok(*i != 0),
        other => Err(format!("row {n}: {what} must be 0 or 1, got {other:?}")),
    }
}

/// Rebuilds the schema from rows of the fixed shape; an error names the first bad row.
pub fn decode(rows: &Rows) -> Result<Schema, String> {
    if rows.columns != COLUMNS {
        return Err(format!(
            "introspection columns must be {COLUMNS:?}, got {:?}",
            rows.columns
        ));
    }
    let mut tables: Vec<Table> = Vec::new();
    for (n, row) in rows.rows.iter().enumerate() {
        let [kind, table, ord, name, a, b, c, flag1, flag2] = row.as_slice() else {
            return Err(format!("row {n}: expected 9 values, got {}", row.len()));
        };
        let kind = want_text(kind, "kind", n)?;
        let table_name = want_text(table, "table", n)?;
        if kind == "table" {
            tables.push(Table {
                name: table_name,
                ..Table::default()
            });
            continue;
        }
        let t = match tables.last_mut() {
            Some(t) if t.name == table_name => t,
            _ => {
                return Err(format!(
                    "row {n}: {kind} of table {table_name} does not follow that table's row"
                ));
            }
        };
        match kind.as_str() {
            "column" => t.columns.push(Column {
                name: want_text(name, "name", n)?,
                data_type: want_text(a, "data type", n)?,
                nullable: want_flag(flag1, "nullable", n)?,
                default: want_opt(b, "default", n)?,
                primary_key: want_flag(flag2, "primary key", n)?,
            }),
            "index" => t.indexes.push(Index {
                name: want_text(name, "name", n)?,
                columns: Vec::new(),
                unique: want_flag(flag1, "unique", n)?,
            }),
            "index_column" => {
                let index = want_text(name, "name", n)?;
                let i = t
                    .indexes
                    .iter_mut()
                    .rev()
                    .find(|i| i.name == index)
                    .ok_or_else(|| format!("row {n}: column of unknown index {index}"))?;
                i.columns.push(want_text(a, "column", n)?);
            }
            "fk" => {
                let expected = t.foreign_keys.len() as i64;
                if ord.as_i64() != Some(expected) {
                    return Err(format!(
                        "row {n}: foreign key number {ord:?}, expected {expected}"
                    ));
                }
                t.foreign_keys.push(ForeignKey {
                    name: want_opt(name, "name", n)?,
                    columns: Vec::new(),
                    referenced_table: want_text(a, "referenced table", n)?,
                    referenced_columns: Vec::new(),
                    on_delete: want_opt(b, "on delete", n)?,
                    on_update: want_opt(c, "on update", n)?,
                });
            }
            "fk_column" => {
                let fk = ord
                    .as_i64()
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| t.foreign_keys.get_mut(i))
                    .ok_or_else(|| format!("row {n}: column of unknown foreign key {ord:?}"))?;
                if let Some(col) = want_opt(a, "column", n)? {
                    fk.columns.push(col);
                }
                if let Some(col) = want_opt(b, "referenced column", n)? {
                    fk.referenced_columns.push(col);
                }
            }
            other => return Err(format!("row {n}: unknown kind {other:?}")),
        }
    }
    Ok(Schema { tables })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let schema = Schema {
            tables: vec![
                Table {
                    name: "a".into(),
                    columns: vec![Column {
                        name: "id".into(),
                        data_type: "INTEGER".into(),
                        nullable: false,
                        default: None,
                        primary_key: true,
                    }],
                    indexes: vec![],
                    foreign_keys: vec![],
                },
                Table {
                    name: "b".into(),
                    columns: vec![
                        Column {
                            name: "x".into(),
                            data_type: "TEXT".into(),
                            nullable: true,
                            default: Some("'q'".into()),
                            primary_key: false,
                        },
                        Column {
                            name: "y".into(),
                            data_type: "INT".into(),
                            nullable: true,
                            default: None,
                            primary_key: false,
                        },
                    ],
                    indexes: vec![Index {
                        name: "b_xy".into(),
                        columns: vec!["x".into(), "y".into()],
                        unique: true,
                    }],
                    foreign_keys: vec![
                        ForeignKey {
                            name: None,
                            columns: vec!["y".into()],
                            referenced_table: "a".into(),
                            referenced_columns: vec!["id".into()],
                            on_delete: Some("CASCADE".into()),
                            on_update: None,
                        },
                        ForeignKey {
                            name: Some("fk2".into()),
                            columns: vec!["x".into(), "y".into()],
                            referenced_table: "c".into(),
                            referenced_columns: vec!["p".into(), "q".into()],
                            on_delete: None,
                            on_update: Some("NO ACTION".into()),
                        },
                    ],
                },
            ],
        };
        assert_eq!(decode(&encode(&schema)).unwrap(), schema);
        assert_eq!(
            decode(&encode(&Schema::default())).unwrap(),
            Schema::default()
        );
    }

    #[test]
    fn rejects_bad_shapes() {
        let mut rows = encode(&Schema::default());
        rows.rows
            .push(vec![text("column"), text("t"), Value::Null, Value::Null]);
        assert!(decode(&rows).unwrap_err().contains("row 0"));
        rows.columns.pop();
        assert!(decode(&rows).unwrap_err().contains("columns"));
    }
}
