//! The changes as a Rust migration: sea-orm-migration `SchemaManager` calls, one body for every
//! backend, each change undone in `down` in reverse order.
//!
//! What a change adds is written from the entity (the column definition sea-orm would use);
//! what it removes is written back, in `down`, from the snapshot of the migrations' schema
//! ([`braid_seaorm::spell::snapshot_column`]). A change that only some backends need (a type
//! SQLite does not distinguish) runs behind `if matches!(backend, …)`.

use braid_driver::{Dialect, Schema, Table};
use braid_seaorm::models::{self, ModelTable};
use braid_seaorm::spell::{self, Spelled};

use super::Step;
use super::compare::Change;

/// Where the text of a change comes from.
pub(super) struct Sources<'a> {
    /// The entities' tables, rendered for the first backend compared.
    pub model: &'a [ModelTable],
    /// What the migrations produce, per backend compared.
    pub current: &'a [(Dialect, Schema)],
    /// What the entities produce, per backend compared.
    pub desired: &'a [(Dialect, Schema)],
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

impl Text {
    fn note(mut self, notes: Vec<String>) -> Self {
        self.notes.extend(notes);
        self
    }
}

fn q(s: &str) -> String {
    format!("{s:?}")
}

/// `change`'s statements, on the backends in `on` (the first one's snapshot is read back).
pub(super) fn text(change: &Change, on: &[Dialect], src: &Sources<'_>) -> Text {
    let current = |table: &str| snapshot_table(src.current, on, table);
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
            let (dialect, have) = match current(table) {
                Some(found) => found,
                None => return Text::default(),
            };
            let (create, notes) = create_from_snapshot(dialect, have);
            let mut down = vec![format!("manager.create_table({create}).await?;")];
            down.extend(
                have.indexes
                    .iter()
                    .filter(|i| !i.constraint && !implicit_index(dialect, have, &i.name))
                    .filter(|i| have.primary_key.as_ref().map(|k| &k.columns) != Some(&i.columns))
                    .map(|i| create_index(&i.name, table, &i.columns, i.unique)),
            );
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
                up: vec![alter(table, &format!("add_column({})", def.rust))],
                down: vec![alter(table, &format!("drop_column({})", q(column)))],
                notes,
                ..Text::default()
            }
        }
        Change::DropColumn { table, column } => {
            let old = current(table).and_then(|(d, t)| {
                t.columns
                    .iter()
                    .find(|c| c.name == *column)
                    .map(|c| spell::snapshot_column(d, c))
            });
            let Some(old) = old else {
                return Text::default();
            };
            Text {
                up: vec![alter(table, &format!("drop_column({})", q(column)))],
                down: vec![alter(table, &format!("add_column({})", old.rust))],
                notes: old.notes,
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
        Change::AlterColumn { table, column, .. } => {
            let new = model_column(src.model, table, column);
            let old = current(table).and_then(|(d, t)| {
                t.columns
                    .iter()
                    .find(|c| c.name == *column)
                    .map(|c| spell::snapshot_column(d, c))
            });
            let (Some(new), Some(old)) = (new, old) else {
                return Text::default();
            };
            Text {
                up: vec![alter(
                    table,
                    &format!("modify_column({})", without_keys(&new.rust)),
                )],
                down: vec![alter(table, &format!("modify_column({})", old.rust))],
                ..Text::default()
            }
            .note(new.notes)
            .note(old.notes)
        }
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
        } => Text {
            up: vec![drop_index(name, table)],
            down: vec![create_index(name, table, columns, *unique)],
            ..Text::default()
        },
        Change::AddForeignKey { table, columns, .. } => {
            let desired = snapshot_table(src.desired, on, table);
            let fk =
                desired.and_then(|(_, t)| t.foreign_keys.iter().find(|f| f.columns == *columns));
            let Some(fk) = fk else {
                return Text::default();
            };
            let name = fk
                .name
                .clone()
                .unwrap_or_else(|| format!("fk_{table}_{}", columns.join("_")));
            Text {
                up: vec![format!(
                    "manager.create_foreign_key({}.to_owned()).await?;",
                    foreign_key(&name, table, fk)
                )],
                down: vec![drop_foreign_key(&name, table)],
                ..Text::default()
            }
        }
        Change::DropForeignKey {
            table,
            name,
            columns,
            ..
        } => {
            let have = current(table)
                .and_then(|(_, t)| t.foreign_keys.iter().find(|f| f.columns == *columns));
            let (Some(name), Some(fk)) = (name, have) else {
                return Text::default().note(vec![format!(
                    "the foreign key on `{table}` ({}) has no name to drop it by: drop it by hand",
                    columns.join(", ")
                )]);
            };
            Text {
                up: vec![drop_foreign_key(name, table)],
                down: vec![format!(
                    "manager.create_foreign_key({}.to_owned()).await?;",
                    foreign_key(name, table, fk)
                )],
                ..Text::default()
            }
        }
        Change::PrimaryKey { .. } => Text::default(),
    }
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

/// A column definition fit for `modify_column`: a key it already has is not added again.
fn without_keys(def: &str) -> String {
    def.replace(".unique_key()", "")
        .replace(".primary_key()", "")
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
    let cols: String = columns.iter().map(|c| format!(".col({})", q(c))).collect();
    let unique = if unique { ".unique()" } else { "" };
    format!(
        "manager.create_index(Index::create().name({}).table({}){cols}{unique}.to_owned()).await?;",
        q(name),
        q(table)
    )
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

/// A foreign key of a snapshot as a `ForeignKey::create()` chain (without `.to_owned()`).
fn foreign_key(name: &str, table: &str, fk: &braid_driver::ForeignKey) -> String {
    let mut s = format!("ForeignKey::create().name({})", q(name));
    if let ([from], [to]) = (&fk.columns[..], &fk.referenced_columns[..]) {
        s.push_str(&format!(
            ".from({}, {}).to({}, {})",
            q(table),
            q(from),
            q(&fk.referenced_table),
            q(to)
        ));
    } else {
        s.push_str(&format!(".from_tbl({})", q(table)));
        for c in &fk.columns {
            s.push_str(&format!(".from_col({})", q(c)));
        }
        s.push_str(&format!(".to_tbl({})", q(&fk.referenced_table)));
        for c in &fk.referenced_columns {
            s.push_str(&format!(".to_col({})", q(c)));
        }
    }
    for (method, action) in [("on_delete", &fk.on_delete), ("on_update", &fk.on_update)] {
        if let Some(variant) = action.as_deref().and_then(action_variant) {
            s.push_str(&format!(".{method}(ForeignKeyAction::{variant})"));
        }
    }
    s
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
        let cols: String = key.iter().map(|c| format!(".col({})", q(c))).collect();
        s.push_str(&format!(".primary_key(Index::create(){cols})"));
    }
    for fk in model.create.get_foreign_key_create_stmts() {
        let fk = fk.get_foreign_key();
        let target = fk
            .get_ref_table()
            .map(models::table_name)
            .unwrap_or_default();
        let snapshot = braid_driver::ForeignKey {
            name: fk.get_name().map(str::to_string),
            columns: fk.get_columns(),
            referenced_table: target,
            referenced_columns: fk.get_ref_columns(),
            on_delete: fk
                .get_on_delete()
                .map(|a| sql_action(models::action_name(a))),
            on_update: fk
                .get_on_update()
                .map(|a| sql_action(models::action_name(a))),
        };
        let name = snapshot
            .name
            .clone()
            .unwrap_or_else(|| format!("fk_{}_{}", model.name, snapshot.columns.join("_")));
        s.push_str(&format!(
            ".foreign_key({})",
            foreign_key(&name, &model.name, &snapshot)
        ));
    }
    s.push_str(".to_owned()");
    (s, notes)
}

/// sea-query's variant name as the SQL words a catalogue prints (`SetNull` → `SET NULL`).
fn sql_action(variant: &str) -> String {
    match variant {
        "SetNull" => "SET NULL".into(),
        "SetDefault" => "SET DEFAULT".into(),
        "NoAction" => "NO ACTION".into(),
        other => other.to_ascii_uppercase(),
    }
}

/// `Table::create()…` recreating a table of the migrations' schema (the down of dropping it).
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
        let cols: String = key.iter().map(|c| format!(".col({})", q(c))).collect();
        s.push_str(&format!(".primary_key(Index::create(){cols})"));
    }
    for fk in &table.foreign_keys {
        let name = fk
            .name
            .clone()
            .unwrap_or_else(|| format!("fk_{}_{}", table.name, fk.columns.join("_")));
        s.push_str(&format!(
            ".foreign_key({})",
            foreign_key(&name, &table.name, fk)
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
    let needs_backend = steps.iter().any(|s| s.backends.len() != all.len());
    let backend = if needs_backend {
        "let backend = manager.get_database_backend();\n"
    } else {
        ""
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
    let header: String = header
        .iter()
        .map(|line| {
            if line.is_empty() {
                "//!\n".to_string()
            } else {
                format!("//! {line}\n")
            }
        })
        .collect();
    format!(
        r#"//! Revision {id}: {message}
//!
{header}
use braid::prelude::*;

pub struct Migration;

impl MigrationName for Migration {{
    fn name(&self) -> &str {{
        "{id}"
    }}
}}

#[async_trait::async_trait]
impl MigrationTrait for Migration {{
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
{backend}{up}Ok(())
    }}

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {{
{backend}{down}Ok(())
    }}
}}
"#,
        message = message.split_whitespace().collect::<Vec<_>>().join(" "),
    )
}

fn backend_variant(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => "Postgres",
        Dialect::Mysql => "MySql",
        Dialect::Sqlite => "Sqlite",
    }
}
