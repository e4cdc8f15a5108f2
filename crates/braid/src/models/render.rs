//! The changes as a Rust migration: sea-orm-migration `SchemaManager` calls, one body for every
//! backend, each change undone in `down` in reverse order.
//!
//! What a change adds is written from the entity (the column definition sea-orm would use);
//! what it removes is written back, in `down`, from the snapshot of the migrations' schema
//! ([`braid_seaorm::spell::snapshot_column`]). A change that only some backends need (a type
//! SQLite does not distinguish) runs behind `if matches!(backend, …)`.

use braid_driver::{Column, Dialect, Index, Schema, Table};
use braid_seaorm::models::{self, ModelTable};
use braid_seaorm::sea_orm::sea_query;
use braid_seaorm::spell::{self, Spelled};

use super::compare::{self, Change};
use super::{Rename, Renames, Step};

/// Where the text of a change comes from.
pub(super) struct Sources<'a> {
    /// The entities' tables, rendered for a backend that keeps every portable type (MySQL:
    /// sea-orm makes a Postgres enum a custom type).
    pub model: &'a [ModelTable],
    /// What the migrations produce, per backend compared.
    pub current: &'a [(Dialect, Schema)],
    /// What the entities produce, per backend compared.
    pub desired: &'a [(Dialect, Schema)],
    pub renames: &'a [Rename],
}

impl<'a> Sources<'a> {
    /// The migrations' name of the table the entities call `table`.
    fn old_table<'t>(&self, table: &'t str) -> &'t str
    where
        'a: 't,
    {
        Renames(self.renames).old_table(table).unwrap_or(table)
    }

    /// The migrations' name of the column the entities call `table.column`.
    fn old_column<'t>(&self, table: &str, column: &'t str) -> &'t str
    where
        'a: 't,
    {
        Renames(self.renames)
            .old_column(table, column)
            .unwrap_or(column)
    }

    /// The migrations' table the entities call `table`, from the most telling backend in `on`.
    fn current_table(&self, on: &[Dialect], table: &str) -> Option<(Dialect, &Table)> {
        snapshot_table(self.current, on, self.old_table(table))
    }

    /// The migrations' column the entities call `table.column`, as builder text.
    fn current_column(
        &self,
        on: &[Dialect],
        table: &str,
        column: &str,
    ) -> Option<(Spelled, &Column)> {
        let (dialect, have) = self.current_table(on, table)?;
        let old = self.old_column(table, column);
        let found = have.columns.iter().find(|c| c.name == old)?;
        // Spelled under the entities' name: `down` undoes a change before a rename is undone.
        let renamed = Column {
            name: column.to_string(),
            ..found.clone()
        };
        Some((spell::snapshot_column(dialect, &renamed), found))
    }

    /// The entities' column `table.column` as their backend reads it.
    fn desired_column(&self, on: &[Dialect], table: &str, column: &str) -> Option<&Column> {
        let (_, want) = snapshot_table(self.desired, on, table)?;
        want.columns.iter().find(|c| c.name == column)
    }
}

/// A change's statements: what `up` runs, what `down` runs, what could not be said.
#[derive(Debug, Clone, Default)]
pub(super) struct Text {
    /// Comment lines written above the step in `up` (what `lint` will say of it).
    pub comments: Vec<String>,
    pub up: Vec<String>,
    pub down: Vec<String>,
    pub notes: Vec<String>,
}

fn q(s: &str) -> String {
    format!("{s:?}")
}

/// `change`'s statements, on the backends in `on` (the snapshot read back is that of the most
/// telling backend among them).
pub(super) fn text(change: &Change, on: &[Dialect], src: &Sources<'_>) -> Text {
    match change {
        Change::CreateTable { table } => match src.model.iter().find(|t| t.name == *table) {
            Some(model) => {
                let (create, notes) = create_from_model(model);
                Text {
                    up: vec![format!("manager.create_table({create}).await?;")],
                    down: vec![drop_table(table)],
                    notes,
                    ..Text::default()
                }
            }
            None => Text::default(),
        },
        Change::DropTable { table } => {
            let mut notes = Vec::new();
            let down = per_backend(on, |d| {
                let Some((dialect, have)) = src.current_table(d, table) else {
                    return Vec::new();
                };
                let (create, more) = create_from_snapshot(dialect, have);
                notes.extend(more);
                let mut down = vec![format!("manager.create_table({create}).await?;")];
                down.extend(
                    separate_indexes(dialect, have)
                        .map(|i| create_index(&i.name, table, &i.columns, i.unique)),
                );
                down
            });
            Text {
                up: vec![drop_table(table)],
                down,
                notes,
                ..Text::default()
            }
        }
        Change::RenameTable { from, to } => Text {
            up: vec![rename_table(from, to)],
            down: vec![rename_table(to, from)],
            ..Text::default()
        },
        Change::AddColumn { table, column } => {
            let Some(def) = model_column(src.model, table, column) else {
                return Text::default();
            };
            let mut notes = def.notes.clone();
            if def.rust.contains(".not_null()") && !def.rust.contains(".default(") {
                notes.push(format!(
                    "`{table}.{column}` is NOT NULL without a default: adding it fails on a table \
                     that has rows; give it a default, or add it nullable, backfill, then \
                     tighten it"
                ));
            }
            Text {
                // A unique column's index is a step of its own (every backend can add one).
                up: vec![alter(
                    table,
                    &format!("add_column({})", without_keys(&def.rust)),
                )],
                down: vec![alter(table, &format!("drop_column({})", q(column)))],
                notes,
                ..Text::default()
            }
        }
        Change::DropColumn { table, column } => {
            let mut notes = Vec::new();
            let down = per_backend(on, |d| {
                let Some((old, _)) = src.current_column(d, table, column) else {
                    return Vec::new();
                };
                notes.extend(old.notes);
                vec![alter(table, &format!("add_column({})", old.rust))]
            });
            let last = src
                .current_table(on, table)
                .and_then(|(_, t)| t.columns.last())
                .is_some_and(|c| c.name == src.old_column(table, column));
            if !last {
                notes.push(format!(
                    "`down` adds `{table}.{column}` back as the table's last column, where it \
                     was not: `verify` reports the order of the columns"
                ));
            }
            Text {
                up: vec![alter(table, &format!("drop_column({})", q(column)))],
                down,
                notes,
                ..Text::default()
            }
        }
        Change::RenameColumn { table, from, to } => Text {
            up: vec![alter(
                table,
                &format!("rename_column({}, {})", q(from), q(to)),
            )],
            down: vec![alter(
                table,
                &format!("rename_column({}, {})", q(to), q(from)),
            )],
            ..Text::default()
        },
        Change::AlterColumn { table, column, .. } => alter_column(src, on, table, column),
        Change::AddIndex {
            table,
            columns,
            unique,
        } => {
            let name = model_index_name(src.model, table, columns, *unique)
                .unwrap_or_else(|| index_name(table, columns, *unique));
            Text {
                up: vec![create_index(&name, table, columns, *unique)],
                down: vec![drop_index(&name, table)],
                ..Text::default()
            }
        }
        Change::DropIndex {
            table,
            name,
            columns,
            unique,
            constraint,
            ..
        } => {
            // A Postgres UNIQUE constraint is dropped and made as a constraint (MySQL's is an
            // index; SQLite's cannot be dropped in place and never reaches here).
            let (mut up, mut down) = (
                drop_index(name, table),
                create_index(name, table, columns, *unique),
            );
            if *constraint && on.contains(&Dialect::Postgres) {
                let cols: Vec<String> = columns.iter().map(|c| pg_ident(c)).collect();
                let (pg_up, pg_down) = (
                    raw(&format!(
                        "ALTER TABLE {} DROP CONSTRAINT {}",
                        pg_ident(table),
                        pg_ident(name)
                    )),
                    raw(&format!(
                        "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({})",
                        pg_ident(table),
                        pg_ident(name),
                        cols.join(", ")
                    )),
                );
                (up, down) = match on {
                    [Dialect::Postgres] => (pg_up, pg_down),
                    // The same name on MySQL, where a UNIQUE constraint is an index.
                    _ => (
                        format!("if backend == DbBackend::Postgres {{ {pg_up} }} else {{ {up} }}"),
                        format!(
                            "if backend == DbBackend::Postgres {{ {pg_down} }} else {{ {down} }}"
                        ),
                    ),
                };
            }
            Text {
                up: vec![up],
                down: vec![down],
                ..Text::default()
            }
        }
        Change::AddForeignKey { table, columns, .. } => {
            let desired = snapshot_table(src.desired, on, table);
            let Some(fk) =
                desired.and_then(|(_, t)| t.foreign_keys.iter().find(|f| f.columns == *columns))
            else {
                return Text::default();
            };
            let fk = Fk::of_snapshot(table, fk);
            Text {
                up: vec![format!(
                    "manager.create_foreign_key({}.to_owned()).await?;",
                    fk.text()
                )],
                down: vec![drop_foreign_key(&fk.name, table)],
                ..Text::default()
            }
        }
        Change::DropForeignKey {
            table,
            name,
            columns,
            ..
        } => {
            // By its name: its columns may be renamed in the same migration.
            let have = src.current_table(on, table).and_then(|(_, t)| {
                t.foreign_keys
                    .iter()
                    .find(|f| name.is_some() && f.name == *name)
                    .or_else(|| t.foreign_keys.iter().find(|f| f.columns == *columns))
            });
            let (Some(name), Some(fk)) = (name, have) else {
                return Text {
                    notes: vec![format!(
                        "the foreign key on `{table}` ({}) has no name to drop it by: drop it by hand",
                        columns.join(", ")
                    )],
                    ..Text::default()
                };
            };
            Text {
                up: vec![drop_foreign_key(name, table)],
                down: vec![format!(
                    "manager.create_foreign_key({}.to_owned()).await?;",
                    Fk::of_snapshot(table, fk).text()
                )],
                ..Text::default()
            }
        }
        Change::PrimaryKey { .. } => Text::default(),
    }
}

/// A changed column: `modify_column` to the entity's definition, and back to the migrations'.
/// Nullability is always written (sea-query's Postgres `modify_column` changes only what it is
/// told); a default that goes away is dropped on Postgres (`modify_column` cannot), as MySQL's
/// `MODIFY` does by itself.
fn alter_column(src: &Sources<'_>, on: &[Dialect], table: &str, column: &str) -> Text {
    let new = model_column(src.model, table, column);
    let old = src.current_column(on, table, column);
    let want = src.desired_column(on, table, column);
    let (Some(new), Some((_, have)), Some(want)) = (new, old, want) else {
        return Text::default();
    };
    let mut notes = new.notes;
    let down = per_backend(on, |d| match src.current_column(d, table, column) {
        Some((old, _)) => {
            notes.extend(old.notes);
            vec![alter(table, &format!("modify_column({})", old.rust))]
        }
        None => Vec::new(),
    });
    let mut text = Text {
        up: vec![alter(
            table,
            &format!(
                "modify_column({})",
                with_nullability(&without_keys(&new.rust), want.nullable)
            ),
        )],
        down,
        notes,
        ..Text::default()
    };
    // A Postgres `serial` column's default is its numbering, not a value to drop.
    let given = |c: &Column| c.default.is_some() && !compare::serial(c);
    if on.contains(&Dialect::Postgres) {
        let drop_default = format!(
            "if backend == DbBackend::Postgres {{ {} }}",
            raw(&format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT",
                pg_ident(table),
                pg_ident(column)
            ))
        );
        if given(have) && !given(want) {
            text.up.push(drop_default.clone());
        }
        if given(want) && !given(have) {
            text.down.push(drop_default);
        }
    }
    if compare::numbered(have) != compare::numbered(want) {
        text.notes.push(format!(
            "`{table}.{column}` {} numbered by the backend (identity, auto-increment): \
             `modify_column` does not change that on every backend; check the result with \
             `verify`",
            if compare::numbered(want) {
                "becomes"
            } else {
                "stops being"
            }
        ));
    }
    text
}

/// Statements read back from each backend's own snapshot (a dropped table's or column's
/// `down`): one block when every backend in `on` gives the same text, else a block per backend
/// (a UNIQUE column is `users_email_key` on Postgres and `email` on MySQL).
fn per_backend(on: &[Dialect], mut each: impl FnMut(&[Dialect]) -> Vec<String>) -> Vec<String> {
    let texts: Vec<(Dialect, Vec<String>)> = on
        .iter()
        .map(|d| (*d, each(std::slice::from_ref(d))))
        .collect();
    if texts.windows(2).all(|w| w[0].1 == w[1].1) {
        return texts.into_iter().next().map(|(_, t)| t).unwrap_or_default();
    }
    texts
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(d, t)| {
            format!(
                "if backend == DbBackend::{} {{\n{}\n}}",
                backend_variant(d),
                t.join("\n")
            )
        })
        .collect()
}

/// A statement sea-query has no builder for, run as written.
fn raw(sql: &str) -> String {
    format!(
        "manager.get_connection().execute_unprepared({}).await?;",
        q(sql)
    )
}

/// A Postgres identifier, quoted (the runner's rule).
fn pg_ident(name: &str) -> String {
    braid_runner::dialect::quote_ident(Dialect::Postgres, name)
}

/// The indexes of a table of the migrations' schema that `CREATE TABLE` does not make by
/// itself: not its primary key, not a constraint's, not MySQL's own for a foreign key.
fn separate_indexes(dialect: Dialect, table: &Table) -> impl Iterator<Item = &Index> {
    let key = table.primary_key.as_ref().map(|k| &k.columns);
    table.indexes.iter().filter(move |i| {
        !i.constraint && !implicit_index(dialect, table, &i.name) && Some(&i.columns) != key
    })
}

/// `table` in the snapshot of the backend in `on` whose catalogue says the most: Postgres
/// (exact types, named foreign keys), then MySQL, then SQLite (declared types, unnamed
/// foreign keys).
fn snapshot_table<'s>(
    schemas: &'s [(Dialect, Schema)],
    on: &[Dialect],
    table: &str,
) -> Option<(Dialect, &'s Table)> {
    [Dialect::Postgres, Dialect::Mysql, Dialect::Sqlite]
        .into_iter()
        .filter(|d| on.contains(d))
        .find_map(|d| {
            let (_, schema) = schemas.iter().find(|(s, _)| *s == d)?;
            schema
                .tables
                .iter()
                .find(|t| t.name == table)
                .map(|t| (d, t))
        })
}

fn model_column(model: &[ModelTable], table: &str, column: &str) -> Option<Spelled> {
    let table = model.iter().find(|t| t.name == table)?;
    models::columns(table)
        .into_iter()
        .find(|(name, _)| name == column)
        .map(|(_, spelled)| spelled)
}

fn model_index_name(
    model: &[ModelTable],
    table: &str,
    columns: &[String],
    unique: bool,
) -> Option<String> {
    let table = model.iter().find(|t| t.name == table)?;
    table
        .indexes
        .iter()
        .find(|i| i.get_index_spec().get_column_names() == columns && i.is_unique_key() == unique)
        .and_then(|i| i.get_index_spec().get_name().map(str::to_string))
}

/// A name for an index the entities imply without naming (a `unique` column added later).
fn index_name(table: &str, columns: &[String], unique: bool) -> String {
    let prefix = if unique { "ux" } else { "ix" };
    format!("{prefix}_{table}_{}", columns.join("_"))
}

/// MySQL names the index it adds for a foreign key after the key; recreating the key recreates
/// it.
fn implicit_index(dialect: Dialect, table: &Table, name: &str) -> bool {
    dialect == Dialect::Mysql
        && table
            .foreign_keys
            .iter()
            .any(|fk| fk.name.as_deref() == Some(name))
}

/// A column definition fit for `modify_column` and `add_column`: a key is a step of its own.
fn without_keys(def: &str) -> String {
    def.replace(".unique_key()", "")
        .replace(".primary_key()", "")
}

/// `def` with its nullability said: `.null()` or `.not_null()`, never left to the backend.
fn with_nullability(def: &str, nullable: bool) -> String {
    let bare = def.replace(".not_null()", "").replace(".null()", "");
    let (name_and_type, rest) = match bare.find(".default(") {
        Some(i) => bare.split_at(i),
        None => (bare.as_str(), ""),
    };
    let null = if nullable { ".null()" } else { ".not_null()" };
    format!("{name_and_type}{null}{rest}")
}

fn alter(table: &str, action: &str) -> String {
    format!(
        "manager.alter_table(Table::alter().table({}).{action}.to_owned()).await?;",
        q(table)
    )
}

fn drop_table(table: &str) -> String {
    format!(
        "manager.drop_table(Table::drop().table({}).to_owned()).await?;",
        q(table)
    )
}

fn rename_table(from: &str, to: &str) -> String {
    format!(
        "manager.rename_table(Table::rename().table({}, {}).to_owned()).await?;",
        q(from),
        q(to)
    )
}

fn create_index(name: &str, table: &str, columns: &[String], unique: bool) -> String {
    format!(
        "manager.create_index(Index::create().name({}).table({}){}.to_owned()).await?;",
        q(name),
        q(table),
        index_parts(columns, unique)
    )
}

/// `.col("a").col("b")` and `.unique()` when it is.
fn index_parts(columns: &[String], unique: bool) -> String {
    let cols: String = columns.iter().map(|c| format!(".col({})", q(c))).collect();
    format!("{cols}{}", if unique { ".unique()" } else { "" })
}

fn drop_index(name: &str, table: &str) -> String {
    format!(
        "manager.drop_index(Index::drop().name({}).table({}).to_owned()).await?;",
        q(name),
        q(table)
    )
}

fn drop_foreign_key(name: &str, table: &str) -> String {
    format!(
        "manager.drop_foreign_key(ForeignKey::drop().name({}).table({}).to_owned()).await?;",
        q(name),
        q(table)
    )
}

/// A foreign key to write, from an entity or from a snapshot.
struct Fk {
    name: String,
    table: String,
    columns: Vec<String>,
    to_table: String,
    to_columns: Vec<String>,
    /// sea-query's variant names (`Cascade`); the default (no action) is not written.
    on_delete: Option<&'static str>,
    on_update: Option<&'static str>,
}

impl Fk {
    /// A key of the migrations' schema (or of the entities', as their backend reads it).
    fn of_snapshot(table: &str, fk: &braid_driver::ForeignKey) -> Fk {
        Fk {
            name: fk_name(table, &fk.columns, fk.name.as_deref()),
            table: table.to_string(),
            columns: fk.columns.clone(),
            to_table: fk.referenced_table.clone(),
            to_columns: fk.referenced_columns.clone(),
            on_delete: fk.on_delete.as_deref().and_then(action_variant),
            on_update: fk.on_update.as_deref().and_then(action_variant),
        }
    }

    /// A key an entity declares (sea-orm's `belongs_to`).
    fn of_model(table: &str, fk: &sea_query::TableForeignKey) -> Fk {
        let columns = fk.get_columns();
        let variant = |a| Some(models::action_name(a)).filter(|v| *v != "NoAction");
        Fk {
            name: fk_name(table, &columns, fk.get_name()),
            table: table.to_string(),
            to_table: fk
                .get_ref_table()
                .map(models::table_name)
                .unwrap_or_default(),
            to_columns: fk.get_ref_columns(),
            columns,
            on_delete: fk.get_on_delete().and_then(variant),
            on_update: fk.get_on_update().and_then(variant),
        }
    }

    /// `ForeignKey::create()…` (without `.to_owned()`).
    fn text(&self) -> String {
        let mut s = format!("ForeignKey::create().name({})", q(&self.name));
        if let ([from], [to]) = (&self.columns[..], &self.to_columns[..]) {
            s.push_str(&format!(
                ".from({}, {}).to({}, {})",
                q(&self.table),
                q(from),
                q(&self.to_table),
                q(to)
            ));
        } else {
            s.push_str(&format!(".from_tbl({})", q(&self.table)));
            for c in &self.columns {
                s.push_str(&format!(".from_col({})", q(c)));
            }
            s.push_str(&format!(".to_tbl({})", q(&self.to_table)));
            for c in &self.to_columns {
                s.push_str(&format!(".to_col({})", q(c)));
            }
        }
        for (method, action) in [("on_delete", self.on_delete), ("on_update", self.on_update)] {
            if let Some(variant) = action {
                s.push_str(&format!(".{method}(ForeignKeyAction::{variant})"));
            }
        }
        s
    }
}

/// A foreign key's name, or one made from its table and columns when the catalogue has none
/// (SQLite's keys are unnamed).
fn fk_name(table: &str, columns: &[String], name: Option<&str>) -> String {
    name.map_or_else(
        || format!("fk_{table}_{}", columns.join("_")),
        str::to_string,
    )
}

/// A catalogue's action as sea-query's variant; the default (`NO ACTION`) is not written.
fn action_variant(action: &str) -> Option<&'static str> {
    match action.to_ascii_uppercase().as_str() {
        "CASCADE" => Some("Cascade"),
        "SET NULL" => Some("SetNull"),
        "SET DEFAULT" => Some("SetDefault"),
        "RESTRICT" => Some("Restrict"),
        _ => None,
    }
}

/// `Table::create()…` for an entity's table: its columns, composite key and foreign keys.
fn create_from_model(model: &ModelTable) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut s = format!("Table::create().table({})", q(&model.name));
    for (_, spelled) in models::columns(model) {
        s.push_str(&format!(".col({})", spelled.rust));
        notes.extend(spelled.notes);
    }
    let key = models::composite_key(model);
    if !key.is_empty() {
        s.push_str(&format!(
            ".primary_key(Index::create(){})",
            index_parts(&key, false)
        ));
    }
    for fk in model.create.get_foreign_key_create_stmts() {
        let fk = Fk::of_model(&model.name, fk.get_foreign_key());
        s.push_str(&format!(".foreign_key({})", fk.text()));
    }
    s.push_str(".to_owned()");
    (s, notes)
}

/// `Table::create()…` recreating a table of the migrations' schema (the down of dropping it):
/// columns, primary key, unique constraints, foreign keys.
fn create_from_snapshot(dialect: Dialect, table: &Table) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let mut s = format!("Table::create().table({})", q(&table.name));
    let key = table
        .primary_key
        .as_ref()
        .map(|k| k.columns.clone())
        .unwrap_or_default();
    for column in &table.columns {
        let spelled = spell::snapshot_column(dialect, column);
        let own_key = key.len() == 1 && key[0] == column.name;
        s.push_str(&format!(
            ".col({}{})",
            spelled.rust,
            if own_key { ".primary_key()" } else { "" }
        ));
        notes.extend(spelled.notes);
    }
    if key.len() > 1 {
        s.push_str(&format!(
            ".primary_key(Index::create(){})",
            index_parts(&key, false)
        ));
    }
    for unique in table
        .indexes
        .iter()
        .filter(|i| i.constraint && i.unique && Some(&i.columns) != Some(&key))
    {
        s.push_str(&format!(
            ".index(Index::create().name({}){})",
            q(&unique.name),
            index_parts(&unique.columns, true)
        ));
    }
    for fk in &table.foreign_keys {
        s.push_str(&format!(
            ".foreign_key({})",
            Fk::of_snapshot(&table.name, fk).text()
        ));
    }
    s.push_str(".to_owned()");
    (s, notes)
}

/// The whole `migration.rs`.
pub(super) fn migration(
    id: &str,
    message: &str,
    steps: &[Step],
    all: &[Dialect],
    header: &[String],
) -> String {
    let guarded = |s: &Step, comments: &[String], statements: &[String]| -> String {
        if statements.is_empty() {
            return String::new();
        }
        let body: String = comments
            .iter()
            .chain(statements)
            .map(|s| format!("{s}\n"))
            .collect();
        if s.backends.len() == all.len() {
            return body;
        }
        let names: Vec<&str> = s.backends.iter().map(|d| backend_variant(*d)).collect();
        format!(
            "// Only where the schemas differ (not on {}).\nif matches!(backend, {}) {{\n{body}}}\n",
            all.iter()
                .filter(|d| !s.backends.contains(d))
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            names
                .iter()
                .map(|n| format!("DbBackend::{n}"))
                .collect::<Vec<_>>()
                .join(" | ")
        )
    };
    let up: String = steps
        .iter()
        .map(|s| guarded(s, &s.text.comments, &s.text.up))
        .collect();
    let down: String = steps
        .iter()
        .rev()
        .map(|s| guarded(s, &[], &s.text.down))
        .collect();
    // The backend is asked only by a body that branches on it.
    let backend = |body: &str| {
        if body.contains("matches!(backend,") || body.contains("if backend ==") {
            "let backend = manager.get_database_backend();\n"
        } else {
            ""
        }
    };
    let (up_backend, down_backend) = (backend(&up), backend(&down));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    braid_source::rust_migration(&braid_source::RustMigration {
        id,
        message,
        doc: &header,
        up: &format!("{up_backend}{up}Ok(())\n"),
        down: &format!("{down_backend}{down}Ok(())\n"),
    })
}

fn backend_variant(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "Postgres",
        Dialect::Mysql => "MySql",
        Dialect::Sqlite => "Sqlite",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nullability_is_always_said() {
        assert_eq!(
            with_nullability(r#"ColumnDef::new("a").string()"#, true),
            r#"ColumnDef::new("a").string().null()"#
        );
        assert_eq!(
            with_nullability(r#"ColumnDef::new("a").string().null().default("x")"#, false),
            r#"ColumnDef::new("a").string().not_null().default("x")"#
        );
        assert_eq!(
            with_nullability(r#"ColumnDef::new("a").big_integer().not_null()"#, true),
            r#"ColumnDef::new("a").big_integer().null()"#
        );
    }

    fn step(change: Change, backends: Vec<Dialect>, up: &str, down: &str) -> Step {
        Step {
            change,
            backends,
            text: Text {
                up: vec![up.to_string()],
                down: vec![down.to_string()],
                ..Text::default()
            },
        }
    }

    use braid_seaorm::sea_orm::sea_query::{ColumnDef, Table as Create};

    fn users(columns: Vec<Column>) -> Schema {
        Schema {
            tables: vec![Table {
                name: "users".into(),
                columns,
                ..Table::default()
            }],
            ..Schema::default()
        }
    }

    fn column(name: &str, data_type: &str, nullable: bool, default: Option<&str>) -> Column {
        Column {
            name: name.into(),
            data_type: data_type.into(),
            nullable,
            default: default.map(str::to_string),
            ..Column::default()
        }
    }

    /// The entities' `users`: `name varchar(200)`, nullable (sea-orm says nothing of it).
    fn model() -> Vec<ModelTable> {
        vec![ModelTable {
            name: "users".into(),
            enums: Vec::new(),
            create: Create::create()
                .table("users")
                .col(ColumnDef::new("name").string_len(200))
                .to_owned(),
            indexes: Vec::new(),
        }]
    }

    #[test]
    fn a_changed_column_says_its_nullability_and_drops_a_default_on_postgres() {
        let current = [(
            Dialect::Postgres,
            users(vec![column(
                "name",
                "character varying(100)",
                false,
                Some("'x'::character varying"),
            )]),
        )];
        let desired = [(
            Dialect::Postgres,
            users(vec![column("name", "character varying(200)", true, None)]),
        )];
        let model = model();
        let src = Sources {
            model: &model,
            current: &current,
            desired: &desired,
            renames: &[],
        };
        let change = Change::AlterColumn {
            table: "users".into(),
            column: "name".into(),
            from: String::new(),
            to: String::new(),
        };
        let text = text(&change, &[Dialect::Postgres], &src);
        assert!(
            text.up[0].contains(r#"modify_column(ColumnDef::new("name").string_len(200).null())"#),
            "{:?}",
            text.up
        );
        assert!(text.up[1].contains("DROP DEFAULT"), "{:?}", text.up);
        assert!(
            text.down[0].contains(r#".not_null().default("x")"#),
            "{:?}",
            text.down
        );
    }

    #[test]
    fn a_renamed_column_is_changed_back_under_its_new_name() {
        let current = [(
            Dialect::Mysql,
            users(vec![column("nickname", "varchar(100)", true, None)]),
        )];
        let desired = [(
            Dialect::Mysql,
            users(vec![column("name", "varchar(200)", true, None)]),
        )];
        let model = model();
        let renames = ["users.nickname=name".parse::<Rename>().unwrap()];
        let src = Sources {
            model: &model,
            current: &current,
            desired: &desired,
            renames: &renames,
        };
        let change = Change::AlterColumn {
            table: "users".into(),
            column: "name".into(),
            from: String::new(),
            to: String::new(),
        };
        let text = text(&change, &[Dialect::Mysql], &src);
        // `down` changes it back before the rename is undone, so under its new name.
        assert!(
            text.down[0].contains(r#"ColumnDef::new("name").string_len(100)"#),
            "{:?}",
            text.down
        );
    }

    #[test]
    fn a_dropped_column_comes_back_as_each_backend_had_it() {
        let current = [
            (
                Dialect::Mysql,
                users(vec![column("code", "varchar(10)", true, None)]),
            ),
            (
                Dialect::Postgres,
                users(vec![column("code", "uuid", true, None)]),
            ),
        ];
        let model = model();
        let src = Sources {
            model: &model,
            current: &current,
            desired: &[],
            renames: &[],
        };
        let change = Change::DropColumn {
            table: "users".into(),
            column: "code".into(),
        };
        let text = text(&change, &[Dialect::Mysql, Dialect::Postgres], &src);
        assert_eq!(text.down.len(), 2, "{:?}", text.down);
        assert!(
            text.down[0].starts_with("if backend == DbBackend::MySql {"),
            "{:?}",
            text.down
        );
        assert!(
            text.down[1].starts_with("if backend == DbBackend::Postgres {"),
            "{:?}",
            text.down
        );
        assert!(text.down[1].contains(".uuid()"), "{:?}", text.down);
    }

    #[test]
    fn a_unique_constraint_is_dropped_as_one_on_postgres() {
        let model = model();
        let src = Sources {
            model: &model,
            current: &[],
            desired: &[],
            renames: &[],
        };
        let change = Change::DropIndex {
            table: "users".into(),
            name: "uq_email".into(),
            columns: vec!["email".into()],
            unique: true,
            constraint: true,
            expressible: true,
        };
        let pg = text(&change, &[Dialect::Postgres], &src);
        assert!(
            pg.up[0].contains(r#"ALTER TABLE \"users\" DROP CONSTRAINT \"uq_email\""#),
            "{:?}",
            pg.up
        );
        assert!(pg.down[0].contains("ADD CONSTRAINT"), "{:?}", pg.down);
        let both = text(&change, &[Dialect::Mysql, Dialect::Postgres], &src);
        assert!(
            both.up[0].starts_with("if backend == DbBackend::Postgres {"),
            "{:?}",
            both.up
        );
        assert!(
            both.up[0].contains("} else { manager.drop_index("),
            "{:?}",
            both.up
        );
    }

    #[test]
    fn a_change_some_backends_need_is_guarded_and_undone_in_reverse() {
        let all = [Dialect::Mysql, Dialect::Postgres, Dialect::Sqlite];
        let steps = [
            step(
                Change::AddColumn {
                    table: "t".into(),
                    column: "a".into(),
                },
                all.to_vec(),
                "first_up();",
                "first_down();",
            ),
            step(
                Change::AlterColumn {
                    table: "t".into(),
                    column: "b".into(),
                    from: "x".into(),
                    to: "y".into(),
                },
                vec![Dialect::Mysql, Dialect::Postgres],
                "second_up();",
                "second_down();",
            ),
        ];
        let text = migration("abc", "m", &steps, &all, &[]);
        let up = &text[text.find("async fn up").unwrap()..text.find("async fn down").unwrap()];
        let down = &text[text.find("async fn down").unwrap()..];
        assert!(
            up.contains("let backend = manager.get_database_backend();"),
            "{up}"
        );
        assert!(
            up.contains(
                "if matches!(backend, DbBackend::MySql | DbBackend::Postgres) {\nsecond_up();"
            ),
            "{up}"
        );
        assert!(up.find("first_up").unwrap() < up.find("second_up").unwrap());
        assert!(down.find("second_down").unwrap() < down.find("first_down").unwrap());
        // A body that does not branch does not ask.
        let plain = migration("abc", "m", &steps[..1], &all, &[]);
        assert!(!plain.contains("get_database_backend"), "{plain}");
    }
}
