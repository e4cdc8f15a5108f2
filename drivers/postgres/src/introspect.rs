//! Reading the schema back from the catalogue (see the crate docs for what is reported and in
//! which order).
//!
//! Everything comes from `pg_catalog` rather than `information_schema`: the latter hides
//! objects the current role does not own-or-have-privileges-on, and is slower. The queries go
//! to the server together, as one script over the simple protocol (one round trip, text
//! results that need no decoding), whatever the number of tables.

use std::collections::BTreeMap;

use braid_driver::{
    Check, Column, DriverError, ForeignKey, Generated, Index, Kinds, PrimaryKey, Routine, Schema,
    Scope, Sequence, Table, Trigger, View, is_version_store,
};
use tokio_postgres::{Client, SimpleQueryMessage};

use crate::error::map_err;

/// Ordinary and partitioned tables of the current schema (the first on the `search_path` that
/// exists).
const TABLES: &str = "\
SELECT c.relname FROM /*picked c*/ WHERE c.relkind IN ('r', 'p')";

/// Columns in declaration order. `format_type` gives the declared type with its modifiers
/// (`character varying(200)`); a generated column's expression is in `pg_attrdef` like a
/// default. The collation only when it is not the type's own (declared with `COLLATE`).
const COLUMNS: &str = "\
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN a.attnotnull THEN 'f' ELSE 't' END,
       pg_get_expr(d.adbin, d.adrelid),
       CASE WHEN EXISTS (SELECT 1 FROM pg_constraint p
                         WHERE p.conrelid = c.oid AND p.contype = 'p'
                           AND a.attnum = ANY (p.conkey)) THEN 't' ELSE 'f' END,
       a.attidentity, a.attgenerated,
       CASE WHEN a.attcollation <> ty.typcollation THEN co.collname END
FROM /*picked c*/
JOIN pg_attribute a ON a.attrelid = c.oid
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY c.relname, a.attnum";

/// Index parts in order, key parts then `INCLUDE` columns: a column by name, an expression as
/// `pg_get_indexdef` prints it; `indoption` bit 0 is DESC, bit 1 NULLS FIRST; the operator
/// class only when it is not the default. Primary key indexes are excluded (the table's primary
/// key reports them).
const INDEXES: &str = "\
SELECT t.relname, i.relname, CASE WHEN x.indisunique THEN 't' ELSE 'f' END,
       CASE WHEN k.ord <= x.indnkeyatts THEN 't' ELSE 'f' END,
       coalesce(a.attname, pg_get_indexdef(x.indexrelid, k.ord::int, true)),
       x.indoption[k.ord - 1],
       CASE WHEN NOT oc.opcdefault THEN oc.opcname END,
       pg_get_expr(x.indpred, x.indrelid, true),
       CASE WHEN am.amname <> 'btree' THEN am.amname END,
       CASE WHEN EXISTS (SELECT 1 FROM pg_constraint p
                         WHERE p.conindid = x.indexrelid AND p.conrelid = x.indrelid
                           AND p.contype IN ('u', 'x')) THEN 't' ELSE 'f' END
FROM /*picked t*/
JOIN pg_index x ON x.indrelid = t.oid
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_am am ON am.oid = i.relam
CROSS JOIN LATERAL generate_series(1, x.indnatts::int) AS k(ord)
LEFT JOIN pg_attribute a
       ON a.attrelid = t.oid AND a.attnum = x.indkey[k.ord - 1] AND x.indkey[k.ord - 1] > 0
LEFT JOIN pg_opclass oc ON k.ord <= x.indnkeyatts AND oc.oid = x.indclass[k.ord - 1]
WHERE t.relkind IN ('r', 'p') AND NOT x.indisprimary
ORDER BY t.relname, i.relname, k.ord";

/// Foreign key column pairs in key order. A referenced table in another schema is qualified.
const FOREIGN_KEYS: &str = "\
SELECT t.relname, f.conname,
       CASE WHEN rn.oid = /*schema*/ THEN r.relname
            ELSE rn.nspname || '.' || r.relname END,
       a.attname, ra.attname,
       CASE f.confdeltype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END,
       CASE f.confupdtype WHEN 'a' THEN 'NO ACTION' WHEN 'r' THEN 'RESTRICT'
            WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'd' THEN 'SET DEFAULT' END
FROM /*picked t*/
JOIN pg_constraint f ON f.conrelid = t.oid
JOIN pg_class r ON r.oid = f.confrelid
JOIN pg_namespace rn ON rn.oid = r.relnamespace
CROSS JOIN LATERAL unnest(f.conkey, f.confkey) WITH ORDINALITY AS k(att, ratt, ord)
JOIN pg_attribute a ON a.attrelid = f.conrelid AND a.attnum = k.att
JOIN pg_attribute ra ON ra.attrelid = f.confrelid AND ra.attnum = k.ratt
WHERE f.contype = 'f'
ORDER BY t.relname, f.conname, k.ord";

/// Primary keys (`p`: one row per column, in key order) and checks (`c`: the condition as
/// `pg_get_expr` prints it).
const CONSTRAINTS: &str = "\
SELECT t.relname, 'p', c.conname, a.attname, k.ord
FROM /*picked t*/
JOIN pg_constraint c ON c.conrelid = t.oid
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(att, ord)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att
WHERE c.contype = 'p'
UNION ALL
SELECT t.relname, 'c', c.conname, pg_get_expr(c.conbin, c.conrelid, true), 0
FROM /*picked t*/
JOIN pg_constraint c ON c.conrelid = t.oid
WHERE c.contype = 'c'
ORDER BY 1, 2, 3, 5";

/// Whether the `pg_class` row `c` belongs to an extension: such objects come and go with
/// their extension, which is not a schema object Braid reports.
const NOT_EXTENSION_RELATION: &str = "NOT EXISTS (SELECT 1 FROM pg_depend d \
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')";

/// Views and materialized views, with the query as `pg_get_viewdef` prints it.
fn views_sql() -> String {
    format!(
        "SELECT c.relname, pg_get_viewdef(c.oid, true), \
                CASE WHEN c.relkind = 'm' THEN 't' ELSE 'f' END \
         FROM pg_class c \
         WHERE c.relnamespace = /*schema*/ AND c.relkind IN ('v', 'm') \
           AND {NOT_EXTENSION_RELATION} /*named c.relname*/"
    )
}

/// User triggers (not the internal ones behind foreign keys) on tables and views.
const TRIGGERS: &str = "\
SELECT g.tgname, c.relname, g.tgtype, pg_get_triggerdef(g.oid, true)
FROM pg_trigger g
JOIN pg_class c ON c.oid = g.tgrelid
WHERE c.relnamespace = /*schema*/ AND NOT g.tgisinternal /*named g.tgname c.relname*/";

/// Sequences, but not an identity column's own (`deptype` `i`), with the table whose column
/// owns one (`deptype` `a`: a `serial` column's, or `OWNED BY`), by whose name it is picked too.
fn sequences_sql() -> String {
    format!(
        "SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, \
                s.seqmin, s.seqmax, s.seqcache, CASE WHEN s.seqcycle THEN 't' ELSE 'f' END, \
                t.relname \
         FROM pg_sequence s \
         JOIN pg_class c ON c.oid = s.seqrelid \
         LEFT JOIN pg_depend o ON o.classid = 'pg_class'::regclass AND o.objid = c.oid \
           AND o.refclassid = 'pg_class'::regclass AND o.deptype = 'a' \
         LEFT JOIN pg_class t ON t.oid = o.refobjid \
         WHERE c.relnamespace = /*schema*/ AND {NOT_EXTENSION_RELATION} \
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass \
                           AND d.objid = c.oid AND d.deptype = 'i') /*named c.relname t.relname*/"
    )
}

/// Functions and procedures (not aggregates or window functions, which `pg_get_functiondef`
/// cannot print), not an extension's.
const ROUTINES: &str = "\
SELECT p.proname, CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
       pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid)
FROM pg_proc p
WHERE p.pronamespace = /*schema*/ AND p.prokind IN ('f', 'p')
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                  AND d.objid = p.oid AND d.deptype = 'e') /*named p.proname*/";

/// Every query above marks where a [`Scope::Named`] narrows it: `/*picked ALIAS*/` is a
/// `FROM` item, the `pg_class` rows of the tables the scope picks ([`pick`]; by their name, or
/// an index's or a constraint's, as [`Schema::within`] picks them) under `ALIAS`;
/// `/*named COLUMN…*/` keeps the rows where one of the columns is a scope name. `/*schema*/`
/// stands for the current schema's oid ([`schema`]).
///
/// The names come from the setting `braid.scope` (an array of lowercase names; empty for the
/// whole schema), set in the same script the statements run in: a prepared statement without
/// parameters is planned once, at its first run, whereas one with a parameter is planned
/// again at each of its first five runs.
fn parameterised(query: &str) -> String {
    let mut out = String::new();
    let mut rest = query;
    while let (Some(start), Some(end)) = (rest.find("/*"), rest.find("*/")) {
        out.push_str(&rest[..start]);
        out.push_str(&expand(&rest[start + 2..end]));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// What a marker's words (`schema`, `picked ALIAS`, `named COLUMN…`) stand for.
fn expand(marker: &str) -> String {
    let mut words = marker.split_whitespace();
    match words.next() {
        Some("schema") => schema(),
        Some("picked") => {
            let alias = words.next().unwrap_or("c");
            format!(
                "unnest({PICKED}) AS picked(oid) CROSS JOIN LATERAL (SELECT oid, relname, \
                 relkind FROM pg_class WHERE oid = picked.oid OFFSET 0) {alias}"
            )
        }
        _ => {
            let columns: Vec<String> = words.map(named).collect();
            format!("AND ({WHOLE} OR {})", columns.join(" OR "))
        }
    }
}

/// Whether the name in `column` is one of the scope's. Catalogue names have the "C" collation,
/// where `lower` folds ASCII letters only; a name with another letter is always a candidate.
/// A candidate too many is trimmed by the caller's `within`.
fn named(column: &str) -> String {
    format!("(lower({column}) = ANY({NAMES}) OR octet_length({column}) > length({column}))")
}

/// The scope's names, as [`parameterised`] reads them: a subquery, evaluated once per query
/// rather than once per catalogue row.
const NAMES: &str = "(SELECT nullif(current_setting('braid.scope'), '')::text[])::text[]";
/// The current schema (the first on the `search_path` that exists), evaluated once per query.
/// Compared with the namespace column of the catalogue a query scans, it is the cheapest test
/// there: the planner runs it before the name tests, on every row of the catalogue, where a join
/// on `pg_namespace` by name came after them.
///
/// With no schema on the `search_path` (a migration from `pg_dump` empties it with
/// `set_config('search_path', '', false)` and names every object with its schema), it is the
/// schema the session started with ([`STARTING_SCHEMA`]): the objects stay where they were, and
/// a snapshot that read nothing would find every later migration correct.
fn schema() -> String {
    format!(
        "(SELECT oid FROM pg_namespace WHERE nspname = coalesce(current_schema(), \
         (SELECT nspname FROM {STARTING_SCHEMA})))"
    )
}
/// The first schema that exists on the session's starting `search_path` (its value before any
/// `SET`: `reset_val`), `$user` standing for the current role as Postgres reads it. Quoted
/// names are unquoted; a name with a comma or a doubled quote inside is not read.
const STARTING_SCHEMA: &str = "\
unnest(string_to_array((SELECT reset_val FROM pg_settings WHERE name = 'search_path'), ','))
  WITH ORDINALITY AS path(entry, position)
CROSS JOIN LATERAL (SELECT btrim(btrim(path.entry), '\"') AS name) entry
JOIN pg_namespace ON nspname = CASE WHEN entry.name = '$user' THEN current_user::text
                                    ELSE entry.name END
ORDER BY path.position LIMIT 1";
/// No scope: the whole schema.
const WHOLE: &str = "(SELECT current_setting('braid.scope') = '')";
/// The tables the scope picks, as [`pick`] found them.
const PICKED: &str = "(SELECT current_setting('braid.tables')::oid[])::oid[]";

/// Finds the tables the scope picks (by their name, an index's or a constraint's; every table
/// of the schema for the whole schema) once per snapshot, for the five queries that read
/// tables: each starts from them (`/*picked ALIAS*/`), one `pg_class` row at a time by its
/// oid. Left to itself, the planner of these generic plans scanned all of `pg_class` in each
/// query, and all of `pg_attribute` when it expected many tables: a cost that grew with the
/// database, however little a snapshot read. (`OFFSET 0` keeps the lookup a subquery of its
/// own, which the planner does not turn back into a scan.)
fn pick() -> String {
    let (relname, index, constraint) = (named("relname"), named("i.relname"), named("conname"));
    let schema = schema();
    format!(
        "SELECT set_config('braid.tables', coalesce((SELECT array_agg(oid)::text FROM (\
           SELECT oid FROM pg_class WHERE relnamespace = {schema} \
             AND ({WHOLE} AND relkind IN ('r', 'p') OR {relname}) \
           UNION SELECT x.indrelid FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid \
             WHERE i.relnamespace = {schema} AND {index} \
           UNION SELECT conrelid FROM pg_constraint \
             WHERE connamespace = {schema} AND {constraint}) picked), \
         '{{}}'), false)"
    )
}

/// Sets `braid.scope` to `scope`'s names (see [`parameterised`]).
fn set_scope(scope: &Scope) -> String {
    let names = scope.name_list().map_or(String::new(), |names| {
        let elements: Vec<String> = names
            .iter()
            .map(|n| format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        format!("{{{}}}", elements.join(","))
    });
    format!(
        "SELECT set_config('braid.scope', {}, false)",
        literal(&names)
    )
}

/// Where the queries of one kind of object stand among the prepared statements (0 is the pick,
/// then [`queries`] in order): [`wanted`] leaves them out for a scope that does not pick the
/// kind.
const VIEWS_QUERY: usize = 6;
const ROUTINES_QUERY: usize = 9;

/// The queries, in the order [`introspect`] reads their results.
fn queries() -> [String; 9] {
    [
        TABLES.to_string(),
        COLUMNS.to_string(),
        INDEXES.to_string(),
        FOREIGN_KEYS.to_string(),
        CONSTRAINTS.to_string(),
        views_sql(),
        TRIGGERS.to_string(),
        sequences_sql(),
        ROUTINES.to_string(),
    ]
    .map(|query| parameterised(&query))
}

/// The introspection queries as prepared statements of one connection. Planning these
/// catalogue joins costs ten times running them (about 13 ms against 1 ms for a scoped
/// snapshot), and `verify` takes three snapshots per revision; a prepared statement is planned
/// once. SQL-level `PREPARE`/`EXECUTE` over the simple protocol keeps what the unprepared
/// queries had: every query in one round trip, results as text.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// The generation of the names last prepared (or tried) on this connection; `None` before
    /// the first snapshot.
    generation: Option<u32>,
}

impl Prepared {
    fn name(generation: u32, query: usize) -> String {
        format!("braid_introspect_{generation}_{query}")
    }

    /// Prepares the statements under a new generation's names: a migration may have run
    /// `DEALLOCATE`, and names of a generation are never reused.
    async fn prepare(&mut self, client: &Client) -> Result<u32, DriverError> {
        let generation = self.generation.map_or(0, |g| g + 1);
        // The settings must exist when the statements are planned.
        let set_picked = "SELECT set_config('braid.tables', '{}', false)".to_string();
        let script: Vec<String> = [set_scope(&Scope::Whole), set_picked]
            .into_iter()
            .chain(
                std::iter::once(pick())
                    .chain(queries())
                    .enumerate()
                    .map(|(i, query)| {
                        let name = Self::name(generation, i);
                        format!("PREPARE {name} AS {query}")
                    }),
            )
            .collect();
        // Taken before the script runs: statements prepared by a script that then failed may
        // outlive it, and their names must not be asked for again.
        self.generation = Some(generation);
        client
            .simple_query(&script.join(";\n"))
            .await
            .map_err(map_err)?;
        Ok(generation)
    }

    /// The result sets of every query for `scope` (empty for a kind of object the scope does
    /// not pick: see [`wanted`]); prepares first when needed, and once again when the server
    /// no longer knows the statements (SQLSTATE 26000).
    async fn run(&mut self, client: &Client, scope: &Scope) -> Result<Vec<Vec<Row>>, DriverError> {
        let kinds = scope.kinds();
        let script = |generation: u32| {
            std::iter::once(set_scope(scope))
                .chain(
                    (0..=9)
                        .filter(|&i| wanted(i, kinds))
                        .map(|i| format!("EXECUTE {}", Self::name(generation, i))),
                )
                .collect::<Vec<_>>()
        };
        let generation = match self.generation {
            Some(generation) => generation,
            None => self.prepare(client).await?,
        };
        let sets = match result_sets(client, &script(generation)).await {
            Err(e) if e.code.as_deref() == Some("26000") => {
                let generation = self.prepare(client).await?;
                result_sets(client, &script(generation)).await
            }
            result => result,
        };
        // The first two result sets are the settings' (the scope's, and the pick's).
        let mut sets = sets?.into_iter().skip(2);
        Ok((1..=9)
            .map(|i| match wanted(i, kinds) {
                true => sets.next().unwrap_or_default(),
                false => Vec::new(),
            })
            .collect())
    }
}

/// Whether query `i` of [`Prepared`] (0 the pick, then [`queries`] in order) reads a kind of
/// object `kinds` picks: views and routines are read only when it does (triggers are read for
/// the picked tables in any case, and sequences for the tables that own them).
fn wanted(i: usize, kinds: Kinds) -> bool {
    match i {
        VIEWS_QUERY => kinds.views,
        ROUTINES_QUERY => kinds.routines,
        _ => true,
    }
}

/// `text` as an escape string literal: `E'…'` reads backslashes the same way whatever
/// `standard_conforming_strings` says, and a doubled quote whatever `backslash_quote` says.
fn literal(text: &str) -> String {
    format!("E'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

type Row = Vec<Option<String>>;

/// The result sets of `queries`, run as one script in one round trip.
async fn result_sets(client: &Client, queries: &[String]) -> Result<Vec<Vec<Row>>, DriverError> {
    let messages = client
        .simple_query(&queries.join(";\n"))
        .await
        .map_err(map_err)?;
    let mut sets = vec![Vec::new()];
    for m in &messages {
        match m {
            SimpleQueryMessage::Row(r) => {
                if let Some(set) = sets.last_mut() {
                    set.push((0..r.len()).map(|i| r.get(i).map(String::from)).collect());
                }
            }
            SimpleQueryMessage::CommandComplete(_) => sets.push(Vec::new()),
            _ => {}
        }
    }
    sets.truncate(queries.len());
    sets.resize_with(queries.len(), Vec::new);
    Ok(sets)
}

fn text(row: &Row, i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

/// A cell that may be NULL (or, for `"char"` flags, empty).
fn opt(row: &Row, i: usize) -> Option<String> {
    row.get(i).cloned().flatten().filter(|s| !s.is_empty())
}

fn flag(row: &Row, i: usize) -> bool {
    text(row, i) == "t"
}

fn int(row: &Row, i: usize) -> i64 {
    text(row, i).parse().unwrap_or_default()
}

/// The schema as [`Scope`] limits it (see [`parameterised`]): an empty scope reads nothing.
pub(crate) async fn introspect(
    client: &Client,
    prepared: &mut Prepared,
    scope: &Scope,
) -> Result<Schema, DriverError> {
    if scope.name_list().is_some_and(|names| names.is_empty()) {
        return Ok(Schema::default());
    }
    let [
        tables,
        columns,
        indexes,
        fks,
        constraints,
        views,
        triggers,
        sequences,
        routines,
    ] = <[Vec<Row>; 9]>::try_from(prepared.run(client, scope).await?)
        .unwrap_or_else(|_| Default::default());
    // Keyed by name: a BTreeMap gives byte order (what `ORDER BY` on `name` gives too) whatever
    // the database's collation.
    let mut by_name: BTreeMap<String, Table> = tables
        .iter()
        .map(|row| {
            let name = text(row, 0);
            let table = Table {
                name: name.clone(),
                ..Table::default()
            };
            (name, table)
        })
        .collect();
    add_columns(&mut by_name, &columns);
    add_indexes(&mut by_name, &indexes);
    add_foreign_keys(&mut by_name, &fks);
    add_constraints(&mut by_name, &constraints);
    // The query reads sequences by their own names and by their owners'; a scope that picks
    // no sequence by name keeps those of the tables it names.
    let mut sequences = read_sequences(&sequences);
    if !scope.kinds().sequences {
        sequences.retain(|s| s.owned_by.as_deref().is_some_and(|t| scope.names(t)));
    }
    let schema = Schema {
        tables: by_name.into_values().collect(),
        views: read_views(&views),
        triggers: read_triggers(&triggers),
        sequences,
        routines: read_routines(&routines),
    };
    Ok(schema.without_tables(is_version_store))
}

fn add_columns(tables: &mut BTreeMap<String, Table>, rows: &[Row]) {
    for row in rows {
        let Some(t) = tables.get_mut(&text(row, 0)) else {
            continue;
        };
        let expression = opt(row, 4);
        let generated = opt(row, 7).map(|kind| Generated {
            expression: expression.clone().unwrap_or_default(),
            stored: kind == "s",
        });
        let identity = opt(row, 6).map(|kind| {
            let how = if kind == "a" { "ALWAYS" } else { "BY DEFAULT" };
            format!("GENERATED {how} AS IDENTITY")
        });
        t.columns.push(Column {
            name: text(row, 1),
            data_type: text(row, 2),
            nullable: flag(row, 3),
            default: if generated.is_some() {
                None
            } else {
                expression
            },
            primary_key: flag(row, 5),
            identity,
            generated,
            on_update: None,
            collation: opt(row, 8),
        });
    }
}

fn add_indexes(tables: &mut BTreeMap<String, Table>, rows: &[Row]) {
    for row in rows {
        let Some(t) = tables.get_mut(&text(row, 0)) else {
            continue;
        };
        let name = text(row, 1);
        if t.indexes.last().is_none_or(|i| i.name != name) {
            t.indexes.push(Index {
                name,
                unique: flag(row, 2),
                predicate: opt(row, 7),
                method: opt(row, 8),
                constraint: flag(row, 9),
                ..Index::default()
            });
        }
        let Some(index) = t.indexes.last_mut() else {
            continue;
        };
        if flag(row, 3) {
            index.columns.push(key_part(row));
        } else {
            index.include.push(text(row, 4));
        }
    }
    for t in tables.values_mut() {
        t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

/// A key part: the column or expression, its operator class when not the default, and its
/// order when not `ASC NULLS LAST`.
fn key_part(row: &Row) -> String {
    let mut part = text(row, 4);
    if let Some(opclass) = opt(row, 6) {
        part = format!("{part} {opclass}");
    }
    let option = int(row, 5);
    let (desc, nulls_first) = (option & 1 != 0, option & 2 != 0);
    match (desc, nulls_first) {
        (true, true) => part.push_str(" DESC"),
        (true, false) => part.push_str(" DESC NULLS LAST"),
        (false, true) => part.push_str(" NULLS FIRST"),
        (false, false) => {}
    }
    part
}

fn add_foreign_keys(tables: &mut BTreeMap<String, Table>, rows: &[Row]) {
    for row in rows {
        let Some(t) = tables.get_mut(&text(row, 0)) else {
            continue;
        };
        let name = text(row, 1);
        if t.foreign_keys
            .last()
            .is_none_or(|f| f.name.as_deref() != Some(&name))
        {
            t.foreign_keys.push(ForeignKey {
                name: Some(name),
                columns: Vec::new(),
                referenced_table: text(row, 2),
                referenced_columns: Vec::new(),
                on_delete: opt(row, 5),
                on_update: opt(row, 6),
            });
        }
        if let Some(fk) = t.foreign_keys.last_mut() {
            fk.columns.push(text(row, 3));
            fk.referenced_columns.push(text(row, 4));
        }
    }
    for t in tables.values_mut() {
        t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

fn add_constraints(tables: &mut BTreeMap<String, Table>, rows: &[Row]) {
    for row in rows {
        let Some(t) = tables.get_mut(&text(row, 0)) else {
            continue;
        };
        if text(row, 1) == "c" {
            t.checks.push(Check {
                name: Some(text(row, 2)),
                expression: text(row, 3),
            });
            continue;
        }
        t.primary_key
            .get_or_insert_with(|| PrimaryKey {
                name: Some(text(row, 2)),
                columns: Vec::new(),
            })
            .columns
            .push(text(row, 3));
    }
    for t in tables.values_mut() {
        t.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }
}

fn read_views(rows: &[Row]) -> Vec<View> {
    let mut views: Vec<View> = rows
        .iter()
        .map(|row| View {
            name: text(row, 0),
            definition: text(row, 1).trim().to_string(),
            materialized: flag(row, 2),
        })
        .collect();
    views.sort_by(|a, b| (&a.name, a.materialized).cmp(&(&b.name, b.materialized)));
    views
}

/// `tgtype` bits (`pg_trigger.h`): 2 BEFORE, 64 INSTEAD (neither: AFTER); 4 INSERT,
/// 8 DELETE, 16 UPDATE, 32 TRUNCATE, named in the order `pg_get_triggerdef` prints them.
fn trigger_timing_and_event(tgtype: i64) -> (String, String) {
    let timing = match (tgtype & 2 != 0, tgtype & 64 != 0) {
        (true, _) => "BEFORE",
        (_, true) => "INSTEAD OF",
        _ => "AFTER",
    };
    let events: Vec<&str> = [
        (4, "INSERT"),
        (8, "DELETE"),
        (16, "UPDATE"),
        (32, "TRUNCATE"),
    ]
    .into_iter()
    .filter(|(bit, _)| tgtype & bit != 0)
    .map(|(_, name)| name)
    .collect();
    (timing.to_string(), events.join(" OR "))
}

fn read_triggers(rows: &[Row]) -> Vec<Trigger> {
    let mut triggers: Vec<Trigger> = rows
        .iter()
        .map(|row| {
            let (timing, event) = trigger_timing_and_event(int(row, 2));
            Trigger {
                name: text(row, 0),
                table: text(row, 1),
                timing,
                event,
                definition: text(row, 3),
            }
        })
        .collect();
    triggers.sort_by(|a, b| (&a.table, &a.name).cmp(&(&b.table, &b.name)));
    triggers
}

fn read_sequences(rows: &[Row]) -> Vec<Sequence> {
    let mut sequences: Vec<Sequence> = rows
        .iter()
        .map(|row| Sequence {
            name: text(row, 0),
            data_type: text(row, 1),
            start: int(row, 2),
            increment: int(row, 3),
            minimum: int(row, 4),
            maximum: int(row, 5),
            cache: int(row, 6),
            cycle: flag(row, 7),
            owned_by: opt(row, 8),
        })
        .collect();
    sequences.sort_by(|a, b| a.name.cmp(&b.name));
    sequences
}

fn read_routines(rows: &[Row]) -> Vec<Routine> {
    let mut routines: Vec<Routine> = rows
        .iter()
        .map(|row| Routine {
            name: text(row, 0),
            kind: text(row, 1),
            arguments: text(row, 2),
            definition: text(row, 3),
        })
        .collect();
    routines
        .sort_by(|a, b| (&a.name, &a.kind, &a.arguments).cmp(&(&b.name, &b.kind, &b.arguments)));
    routines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_types() {
        let t = |n| trigger_timing_and_event(n);
        assert_eq!(t(23), ("BEFORE".into(), "INSERT OR UPDATE".into()));
        assert_eq!(t(8), ("AFTER".into(), "DELETE".into()));
        assert_eq!(t(64 + 1 + 4), ("INSTEAD OF".into(), "INSERT".into()));
        assert_eq!(t(32 + 16), ("AFTER".into(), "UPDATE OR TRUNCATE".into()));
    }
}
