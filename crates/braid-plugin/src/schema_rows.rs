//! How an introspected [`Schema`] crosses the ABI: as an ordinary result set of a fixed shape,
//! so it reuses the tagged-value machinery instead of adding JSON (or a second set of
//! `#[repr(C)]` structs that would have to be versioned separately).
//!
//! The columns are [`COLUMNS`]: `kind, table, ord, name, a, b, c, flag1, flag2`. Rows come in
//! schema order (tables, then each table's items in their order; then views, triggers,
//! sequences and routines); what each kind uses:
//!
//! | `kind`              | `table` | `ord`        | `name`        | `a`              | `b`                | `c`             | `flag1`      | `flag2`     |
//! |---------------------|---------|--------------|---------------|------------------|--------------------|-----------------|--------------|-------------|
//! | `table`             | table   |              |               |                  |                    |                 |              |             |
//! | `column`            | table   |              | column        | data type        | default (or NULL)  |                 | nullable     | primary key |
//! | `index`             | table   |              | index         |                  |                    |                 | unique       |             |
//! | `index_column`      | table   |              | index         | column           |                    |                 |              |             |
//! | `fk`                | table   | fk number    | name/NULL     | referenced table | on delete/NULL     | on update/NULL  |              |             |
//! | `fk_column`         | table   | fk number    |               | column           | referenced column  |                 |              |             |
//! | `column_extra`      | table   |              | column        | identity/NULL    | on update/NULL     | collation/NULL  |              |             |
//! | `column_generated`  | table   |              | column        | expression       |                    |                 | stored       |             |
//! | `index_extra`       | table   |              | index         | predicate/NULL   | method/NULL        |                 | constraint   |             |
//! | `index_include`     | table   |              | index         | column           |                    |                 |              |             |
//! | `primary_key`       | table   |              | name/NULL     |                  |                    |                 |              |             |
//! | `primary_key_column`| table   |              |               | column           |                    |                 |              |             |
//! | `check`             | table   |              | name/NULL     | expression       |                    |                 |              |             |
//! | `view`              |         |              | view          | definition       |                    |                 | materialized |             |
//! | `trigger`           | table   |              | trigger       | timing           | event              | definition      |              |             |
//! | `sequence`          | owner/NULL |           | sequence      | data type        |                    |                 | cycle        |             |
//! | `sequence_value`    |         | value        | sequence      | option           |                    |                 |              |             |
//! | `routine`           |         |              | routine       | kind             | arguments          | definition      |              |             |
//!
//! Unused cells are NULL. `ord` numbers a table's foreign keys from 0; flags are 0 or 1. A
//! `sequence_value` row carries one number of the sequence before it, its option being
//! `start`, `increment`, `minimum`, `maximum` or `cache`; a `sequence` row's `table` is the table
//! that owns the sequence (a `serial` column's), NULL for none (and from older plugins). A `*_extra`, `*_generated`,
//! `*_include` or `primary_key*` row follows the row of the table (and column or index) it adds
//! to.
//!
//! The six kinds of the first version come first; the others were appended later, as the
//! versioning rule allows: a plugin built before them sends none, and its schema decodes with
//! those fields empty. This decoder skips kinds it does not know, so a kind appended later
//! reaches it as a schema without that field rather than as an error. (Hosts built before the
//! appended kinds refuse them as unknown: a plugin that sends them needs a host at least as new
//! for `introspect`.)

use braid_driver::{
    Check, Column, ForeignKey, Generated, Index, PrimaryKey, Routine, Rows, Schema, Sequence,
    Table, Trigger, Value, View,
};

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
    table: Value,
    ord: Value,
    name: Value,
    a: Value,
    b: Value,
    c: Value,
    flag1: Value,
    flag2: Value,
}

impl Row {
    /// A row of a table's item.
    fn new(kind: &'static str, table: &str) -> Row {
        Row {
            table: text(table),
            ..Row::schema(kind)
        }
    }

    /// A row of an object of the schema (its `table` cell NULL).
    fn schema(kind: &'static str) -> Row {
        Row {
            kind,
            table: Value::Null,
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
            self.table,
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
        encode_columns(t, &mut rows);
        encode_indexes(t, &mut rows);
        encode_foreign_keys(t, &mut rows);
        encode_keys_and_checks(t, &mut rows);
    }
    encode_objects(schema, &mut rows);
    Rows {
        columns: COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: rows.into_iter().map(Row::into_values).collect(),
    }
}

fn encode_columns(t: &Table, rows: &mut Vec<Row>) {
    for c in &t.columns {
        let mut r = Row::new("column", &t.name);
        r.name = text(&c.name);
        r.a = text(&c.data_type);
        r.b = opt(&c.default);
        r.flag1 = flag(c.nullable);
        r.flag2 = flag(c.primary_key);
        rows.push(r);
        if c.identity.is_some() || c.on_update.is_some() || c.collation.is_some() {
            let mut r = Row::new("column_extra", &t.name);
            r.name = text(&c.name);
            r.a = opt(&c.identity);
            r.b = opt(&c.on_update);
            r.c = opt(&c.collation);
            rows.push(r);
        }
        if let Some(g) = &c.generated {
            let mut r = Row::new("column_generated", &t.name);
            r.name = text(&c.name);
            r.a = text(&g.expression);
            r.flag1 = flag(g.stored);
            rows.push(r);
        }
    }
}

fn encode_indexes(t: &Table, rows: &mut Vec<Row>) {
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
        if i.predicate.is_some() || i.method.is_some() || i.constraint {
            let mut r = Row::new("index_extra", &t.name);
            r.name = text(&i.name);
            r.a = opt(&i.predicate);
            r.b = opt(&i.method);
            r.flag1 = flag(i.constraint);
            rows.push(r);
        }
        for c in &i.include {
            let mut r = Row::new("index_include", &t.name);
            r.name = text(&i.name);
            r.a = text(c);
            rows.push(r);
        }
    }
}

fn encode_foreign_keys(t: &Table, rows: &mut Vec<Row>) {
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

fn encode_keys_and_checks(t: &Table, rows: &mut Vec<Row>) {
    if let Some(pk) = &t.primary_key {
        let mut r = Row::new("primary_key", &t.name);
        r.name = opt(&pk.name);
        rows.push(r);
        for c in &pk.columns {
            let mut r = Row::new("primary_key_column", &t.name);
            r.a = text(c);
            rows.push(r);
        }
    }
    for c in &t.checks {
        let mut r = Row::new("check", &t.name);
        r.name = opt(&c.name);
        r.a = text(&c.expression);
        rows.push(r);
    }
}

fn encode_objects(schema: &Schema, rows: &mut Vec<Row>) {
    for v in &schema.views {
        let mut r = Row::schema("view");
        r.name = text(&v.name);
        r.a = text(&v.definition);
        r.flag1 = flag(v.materialized);
        rows.push(r);
    }
    for t in &schema.triggers {
        let mut r = Row::new("trigger", &t.table);
        r.name = text(&t.name);
        r.a = text(&t.timing);
        r.b = text(&t.event);
        r.c = text(&t.definition);
        rows.push(r);
    }
    for s in &schema.sequences {
        let mut r = match &s.owned_by {
            Some(table) => Row::new("sequence", table),
            None => Row::schema("sequence"),
        };
        r.name = text(&s.name);
        r.a = text(&s.data_type);
        r.flag1 = flag(s.cycle);
        rows.push(r);
        for (option, value) in sequence_values(s) {
            let mut r = Row::schema("sequence_value");
            r.name = text(&s.name);
            r.a = text(option);
            r.ord = Value::Int(value);
            rows.push(r);
        }
    }
    for routine in &schema.routines {
        let mut r = Row::schema("routine");
        r.name = text(&routine.name);
        r.a = text(&routine.kind);
        r.b = text(&routine.arguments);
        r.c = text(&routine.definition);
        rows.push(r);
    }
}

fn sequence_values(s: &Sequence) -> [(&'static str, i64); 5] {
    [
        ("start", s.start),
        ("increment", s.increment),
        ("minimum", s.minimum),
        ("maximum", s.maximum),
        ("cache", s.cache),
    ]
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

fn want_int(v: &Value, what: &str, n: usize) -> Result<i64, String> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(format!("row {n}: {what} must be an integer, got {other:?}")),
    }
}

/// One row's cells, by name, with its position for errors.
struct Cells<'a> {
    n: usize,
    kind: &'a str,
    table: &'a Value,
    ord: &'a Value,
    name: &'a Value,
    a: &'a Value,
    b: &'a Value,
    c: &'a Value,
    flag1: &'a Value,
    flag2: &'a Value,
}

/// Rebuilds the schema from rows of the fixed shape; an error names the first bad row.
pub fn decode(rows: &Rows) -> Result<Schema, String> {
    if rows.columns != COLUMNS {
        return Err(format!(
            "introspection columns must be {COLUMNS:?}, got {:?}",
            rows.columns
        ));
    }
    let mut schema = Schema::default();
    for (n, row) in rows.rows.iter().enumerate() {
        let [kind, table, ord, name, a, b, c, flag1, flag2] = row.as_slice() else {
            return Err(format!("row {n}: expected 9 values, got {}", row.len()));
        };
        let kind = want_text(kind, "kind", n)?;
        let cells = Cells {
            n,
            kind: &kind,
            table,
            ord,
            name,
            a,
            b,
            c,
            flag1,
            flag2,
        };
        if !decode_object(&cells, &mut schema)? {
            decode_table_item(&cells, &mut schema.tables)?;
        }
    }
    Ok(schema)
}

/// Decodes a row of a schema-level object; `false` if the row is not one.
fn decode_object(r: &Cells<'_>, schema: &mut Schema) -> Result<bool, String> {
    let n = r.n;
    match r.kind {
        "view" => schema.views.push(View {
            name: want_text(r.name, "name", n)?,
            definition: want_text(r.a, "definition", n)?,
            materialized: want_flag(r.flag1, "materialized", n)?,
        }),
        "trigger" => schema.triggers.push(Trigger {
            name: want_text(r.name, "name", n)?,
            table: want_text(r.table, "table", n)?,
            timing: want_text(r.a, "timing", n)?,
            event: want_text(r.b, "event", n)?,
            definition: want_text(r.c, "definition", n)?,
        }),
        "sequence" => schema.sequences.push(Sequence {
            name: want_text(r.name, "name", n)?,
            data_type: want_text(r.a, "data type", n)?,
            cycle: want_flag(r.flag1, "cycle", n)?,
            owned_by: r.table.as_str().map(str::to_string),
            ..Sequence::default()
        }),
        "sequence_value" => decode_sequence_value(r, &mut schema.sequences)?,
        "routine" => schema.routines.push(Routine {
            name: want_text(r.name, "name", n)?,
            kind: want_text(r.a, "kind", n)?,
            arguments: want_text(r.b, "arguments", n)?,
            definition: want_text(r.c, "definition", n)?,
        }),
        _ => return Ok(false),
    }
    Ok(true)
}

fn decode_sequence_value(r: &Cells<'_>, sequences: &mut [Sequence]) -> Result<(), String> {
    let n = r.n;
    let name = want_text(r.name, "name", n)?;
    let s = match sequences.last_mut() {
        Some(s) if s.name == name => s,
        _ => {
            return Err(format!(
                "row {n}: value of sequence {name} does not follow that sequence's row"
            ));
        }
    };
    let value = want_int(r.ord, "value", n)?;
    match want_text(r.a, "option", n)?.as_str() {
        "start" => s.start = value,
        "increment" => s.increment = value,
        "minimum" => s.minimum = value,
        "maximum" => s.maximum = value,
        "cache" => s.cache = value,
        _ => {} // an option appended later
    }
    Ok(())
}

/// The kinds [`decode_table_item`] knows.
const TABLE_KINDS: [&str; 13] = [
    "table",
    "column",
    "index",
    "index_column",
    "fk",
    "fk_column",
    "column_extra",
    "column_generated",
    "index_extra",
    "index_include",
    "primary_key",
    "primary_key_column",
    "check",
];

/// Decodes a table or an item of the table whose row came last. A kind appended later is
/// skipped: what it adds is not known here.
fn decode_table_item(r: &Cells<'_>, tables: &mut Vec<Table>) -> Result<(), String> {
    let n = r.n;
    if !TABLE_KINDS.contains(&r.kind) {
        return Ok(());
    }
    let table_name = want_text(r.table, "table", n)?;
    if r.kind == "table" {
        tables.push(Table {
            name: table_name,
            ..Table::default()
        });
        return Ok(());
    }
    let t = match tables.last_mut() {
        Some(t) if t.name == table_name => t,
        _ => {
            return Err(format!(
                "row {n}: {} of table {table_name} does not follow that table's row",
                r.kind
            ));
        }
    };
    match r.kind {
        "column" => t.columns.push(Column {
            name: want_text(r.name, "name", n)?,
            data_type: want_text(r.a, "data type", n)?,
            nullable: want_flag(r.flag1, "nullable", n)?,
            default: want_opt(r.b, "default", n)?,
            primary_key: want_flag(r.flag2, "primary key", n)?,
            ..Column::default()
        }),
        "column_extra" => {
            let c = column(r, t)?;
            c.identity = want_opt(r.a, "identity", n)?;
            c.on_update = want_opt(r.b, "on update", n)?;
            c.collation = want_opt(r.c, "collation", n)?;
        }
        "column_generated" => {
            let expression = want_text(r.a, "expression", n)?;
            let stored = want_flag(r.flag1, "stored", n)?;
            column(r, t)?.generated = Some(Generated { expression, stored });
        }
        "index" => t.indexes.push(Index {
            name: want_text(r.name, "name", n)?,
            unique: want_flag(r.flag1, "unique", n)?,
            ..Index::default()
        }),
        "index_column" => {
            let part = want_text(r.a, "column", n)?;
            index(r, t)?.columns.push(part);
        }
        "index_extra" => {
            let predicate = want_opt(r.a, "predicate", n)?;
            let method = want_opt(r.b, "method", n)?;
            let constraint = want_flag(r.flag1, "constraint", n)?;
            let i = index(r, t)?;
            (i.predicate, i.method, i.constraint) = (predicate, method, constraint);
        }
        "index_include" => {
            let col = want_text(r.a, "column", n)?;
            index(r, t)?.include.push(col);
        }
        "fk" => decode_fk(r, t)?,
        "fk_column" => decode_fk_column(r, t)?,
        "primary_key" => {
            t.primary_key = Some(PrimaryKey {
                name: want_opt(r.name, "name", n)?,
                columns: Vec::new(),
            });
        }
        "primary_key_column" => {
            let col = want_text(r.a, "column", n)?;
            t.primary_key
                .as_mut()
                .ok_or_else(|| format!("row {n}: primary key column before the primary key"))?
                .columns
                .push(col);
        }
        "check" => t.checks.push(Check {
            name: want_opt(r.name, "name", n)?,
            expression: want_text(r.a, "expression", n)?,
        }),
        _ => {}
    }
    Ok(())
}

/// The column of `t` named in row `r`.
fn column<'t>(r: &Cells<'_>, t: &'t mut Table) -> Result<&'t mut Column, String> {
    let name = want_text(r.name, "name", r.n)?;
    t.columns
        .iter_mut()
        .rev()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("row {}: {} of unknown column {name}", r.n, r.kind))
}

/// The index of `t` named in row `r`.
fn index<'t>(r: &Cells<'_>, t: &'t mut Table) -> Result<&'t mut Index, String> {
    let name = want_text(r.name, "name", r.n)?;
    t.indexes
        .iter_mut()
        .rev()
        .find(|i| i.name == name)
        .ok_or_else(|| format!("row {}: {} of unknown index {name}", r.n, r.kind))
}

fn decode_fk(r: &Cells<'_>, t: &mut Table) -> Result<(), String> {
    let n = r.n;
    let expected = t.foreign_keys.len() as i64;
    if r.ord.as_i64() != Some(expected) {
        return Err(format!(
            "row {n}: foreign key number {:?}, expected {expected}",
            r.ord
        ));
    }
    t.foreign_keys.push(ForeignKey {
        name: want_opt(r.name, "name", n)?,
        columns: Vec::new(),
        referenced_table: want_text(r.a, "referenced table", n)?,
        referenced_columns: Vec::new(),
        on_delete: want_opt(r.b, "on delete", n)?,
        on_update: want_opt(r.c, "on update", n)?,
    });
    Ok(())
}

fn decode_fk_column(r: &Cells<'_>, t: &mut Table) -> Result<(), String> {
    let n = r.n;
    let fk = r
        .ord
        .as_i64()
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| t.foreign_keys.get_mut(i))
        .ok_or_else(|| format!("row {n}: column of unknown foreign key {:?}", r.ord))?;
    if let Some(col) = want_opt(r.a, "column", n)? {
        fk.columns.push(col);
    }
    if let Some(col) = want_opt(r.b, "referenced column", n)? {
        fk.referenced_columns.push(col);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A schema using every field of the first version of the rows.
    fn first_version_schema() -> Schema {
        Schema {
            tables: vec![
                Table {
                    name: "a".into(),
                    columns: vec![Column {
                        name: "id".into(),
                        data_type: "INTEGER".into(),
                        nullable: false,
                        default: None,
                        primary_key: true,
                        ..Column::default()
                    }],
                    ..Table::default()
                },
                Table {
                    name: "b".into(),
                    columns: vec![
                        Column {
                            name: "x".into(),
                            data_type: "TEXT".into(),
                            nullable: true,
                            default: Some("'q'".into()),
                            ..Column::default()
                        },
                        Column {
                            name: "y".into(),
                            data_type: "INT".into(),
                            nullable: true,
                            ..Column::default()
                        },
                    ],
                    indexes: vec![Index {
                        name: "b_xy".into(),
                        columns: vec!["x".into(), "y".into()],
                        unique: true,
                        ..Index::default()
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
                    ..Table::default()
                },
            ],
            ..Schema::default()
        }
    }

    /// The first version's schema with every field appended since.
    fn full_schema() -> Schema {
        let mut s = first_version_schema();
        let a = &mut s.tables[0];
        a.primary_key = Some(PrimaryKey {
            name: Some("a_pkey".into()),
            columns: vec!["id".into()],
        });
        a.columns[0].identity = Some("GENERATED ALWAYS AS IDENTITY".into());
        a.checks = vec![
            Check {
                name: Some("ck".into()),
                expression: "id > 0".into(),
            },
            Check {
                name: None,
                expression: "id < 10".into(),
            },
        ];
        let b = &mut s.tables[1];
        b.columns[0].collation = Some("C".into());
        b.columns[0].on_update = Some("now()".into());
        b.columns[1].generated = Some(Generated {
            expression: "x || 'y'".into(),
            stored: true,
        });
        b.indexes[0].predicate = Some("x <> ''".into());
        b.indexes[0].method = Some("gin".into());
        b.indexes[0].constraint = true;
        b.indexes[0].include = vec!["z".into()];
        s.views = vec![View {
            name: "v".into(),
            definition: "SELECT 1".into(),
            materialized: true,
        }];
        s.triggers = vec![Trigger {
            name: "t".into(),
            table: "v".into(),
            timing: "INSTEAD OF".into(),
            event: "INSERT".into(),
            definition: "CREATE TRIGGER t …".into(),
        }];
        s.sequences = vec![
            Sequence {
                name: "s".into(),
                data_type: "bigint".into(),
                start: 5,
                increment: -2,
                minimum: i64::MIN,
                maximum: i64::MAX,
                cache: 20,
                cycle: true,
                owned_by: None,
            },
            Sequence {
                name: "t_id_seq".into(),
                data_type: "integer".into(),
                owned_by: Some("t".into()),
                ..Sequence::default()
            },
        ];
        s.routines = vec![Routine {
            name: "f".into(),
            kind: "FUNCTION".into(),
            arguments: "x integer".into(),
            definition: "CREATE FUNCTION f …".into(),
        }];
        s
    }

    #[test]
    fn round_trip() {
        for schema in [first_version_schema(), full_schema(), Schema::default()] {
            assert_eq!(decode(&encode(&schema)).unwrap(), schema);
        }
    }

    #[test]
    fn rows_of_the_first_version_stay_as_they_were() {
        // What a plugin built before the appended kinds sends: exactly these rows.
        let rows = encode(&first_version_schema());
        let kinds: Vec<&str> = rows.rows.iter().filter_map(|r| r[0].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "table",
                "column",
                "table",
                "column",
                "column",
                "index",
                "index_column",
                "index_column",
                "fk",
                "fk_column",
                "fk",
                "fk_column",
                "fk_column",
            ]
        );
        assert_eq!(decode(&rows).unwrap(), first_version_schema());
    }

    #[test]
    fn kinds_appended_later_are_skipped() {
        let mut rows = encode(&full_schema());
        let mut future = vec![Value::Null; COLUMNS.len()];
        future[0] = text("partition");
        future[1] = text("b");
        rows.rows.insert(3, future.clone());
        future[1] = Value::Null;
        rows.rows.insert(3, future);
        assert_eq!(decode(&rows).unwrap(), full_schema());
    }

    #[test]
    fn rejects_bad_shapes() {
        let mut rows = encode(&Schema::default());
        rows.rows
            .push(vec![text("column"), text("t"), Value::Null, Value::Null]);
        assert!(decode(&rows).unwrap_err().contains("row 0"));
        rows.columns.pop();
        assert!(decode(&rows).unwrap_err().contains("columns"));
        let mut orphan = encode(&Schema::default());
        let mut row = vec![Value::Null; COLUMNS.len()];
        row[0] = text("column_extra");
        row[1] = text("t");
        row[3] = text("c");
        orphan.rows.push(row);
        assert!(decode(&orphan).unwrap_err().contains("does not follow"));
    }
}
