//! The schema a project's sea-orm entities describe: what `generate --autogenerate` writes a
//! migration towards and what `check --models` compares the migrations with.
//!
//! Entities are Rust types, so they reach Braid the way Rust revisions do: compiled into the
//! binary that runs the command (a workspace's `xtask`), registered with [`Models::entity`].
//! Each entity is rendered per backend exactly as sea-orm itself would create it
//! ([`sea_orm::Schema::create_table_from_entity`] and `create_index_from_entity`), so the
//! schema compared is the one sea-orm users already get from `Schema`, not a second reading of
//! the entity attributes.

use std::sync::Arc;

use sea_orm::sea_query::{
    ForeignKeyAction, IndexCreateStatement, MysqlQueryBuilder, PostgresQueryBuilder,
    SqliteQueryBuilder, TableCreateStatement, extension::postgres::TypeCreateStatement,
};
use sea_orm::{DbBackend, EntityTrait, Schema};

use crate::spell::{self, Spelled};

/// One entity's table as sea-orm creates it on one backend.
#[derive(Debug, Clone)]
pub struct ModelTable {
    pub name: String,
    /// The Postgres enum types its columns use (`DeriveActiveEnum`), created before it.
    pub enums: Vec<TypeCreateStatement>,
    /// `CREATE TABLE`, with its foreign keys and primary key, without its indexes.
    pub create: TableCreateStatement,
    /// The entity's indexes (`#[sea_orm(indexed)]`, `unique_key = "…"`), created after it.
    pub indexes: Vec<IndexCreateStatement>,
}

/// A table's entity renderer: generic over the entity type, stored without it.
type Render = Arc<dyn Fn(DbBackend) -> ModelTable + Send + Sync>;

/// The entities a binary compiled in. Cheap to clone.
#[derive(Clone, Default)]
pub struct Models {
    entities: Vec<Render>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("entities", &self.entities.len())
            .finish()
    }
}

impl Models {
    pub fn new() -> Self {
        Models::default()
    }

    /// Adds an entity (its `Entity` type: `models.entity(users::Entity)`).
    pub fn entity<E: EntityTrait>(mut self, entity: E) -> Self {
        let _ = entity;
        self.entities.push(Arc::new(|backend| {
            let schema = Schema::new(backend);
            ModelTable {
                name: E::default().table_name().to_string(),
                enums: schema.create_enum_from_entity(E::default()),
                create: schema.create_table_from_entity(E::default()),
                indexes: schema.create_index_from_entity(E::default()),
            }
        }));
        self
    }

    pub fn len(&self) -> usize {
        self.entities.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entities.is_empty()
    }

    /// Every entity's table on `backend`, a table after the tables its foreign keys reference
    /// (Postgres and MySQL check a reference when the table is created), otherwise by name.
    pub fn tables(&self, backend: DbBackend) -> Vec<ModelTable> {
        let mut left: Vec<ModelTable> = self.entities.iter().map(|r| r(backend)).collect();
        left.sort_by(|a, b| a.name.cmp(&b.name));
        let mut ordered: Vec<ModelTable> = Vec::with_capacity(left.len());
        while !left.is_empty() {
            let ready = left.iter().position(|t| {
                references(t)
                    .iter()
                    .all(|r| *r == t.name || !left.iter().any(|other| other.name == *r))
            });
            // A cycle of references: the rest by name (the backend says which reference fails).
            ordered.push(left.remove(ready.unwrap_or(0)));
        }
        ordered
    }

    /// The SQL that creates every entity's enum types (Postgres), tables and indexes on
    /// `backend`, in order; an enum two entities share is created once.
    pub fn statements(&self, backend: DbBackend) -> Vec<String> {
        let tables = self.tables(backend);
        let mut enums: Vec<String> = Vec::new();
        for statement in tables.iter().flat_map(|t| &t.enums) {
            let sql = statement.to_string(PostgresQueryBuilder);
            if !enums.contains(&sql) {
                enums.push(sql);
            }
        }
        let creates = tables.iter().map(|t| build_table(&t.create, backend));
        let indexes = tables
            .iter()
            .flat_map(|t| t.indexes.iter().map(move |i| build_index(i, backend)));
        enums.into_iter().chain(creates).chain(indexes).collect()
    }
}

/// The tables `table`'s foreign keys reference.
pub fn references(table: &ModelTable) -> Vec<String> {
    table
        .create
        .get_foreign_key_create_stmts()
        .iter()
        .filter_map(|fk| fk.get_foreign_key().get_ref_table())
        .map(table_name)
        .collect()
}

/// The name of a table reference, without its schema.
pub fn table_name(table: &sea_orm::sea_query::TableRef) -> String {
    use sea_orm::sea_query::{TableName, TableRef};
    match table {
        TableRef::Table(TableName(_, name), _) => name.to_string(),
        other => format!("{other:?}"),
    }
}

fn build_table(table: &TableCreateStatement, backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => table.to_string(PostgresQueryBuilder),
        DbBackend::MySql => table.to_string(MysqlQueryBuilder),
        _ => table.to_string(SqliteQueryBuilder),
    }
}

fn build_index(index: &IndexCreateStatement, backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => index.to_string(PostgresQueryBuilder),
        DbBackend::MySql => index.to_string(MysqlQueryBuilder),
        _ => index.to_string(SqliteQueryBuilder),
    }
}

/// A foreign key action as the variant name the generated code writes
/// (`ForeignKeyAction::Cascade`).
pub fn action_name(action: ForeignKeyAction) -> &'static str {
    match action {
        ForeignKeyAction::Restrict => "Restrict",
        ForeignKeyAction::Cascade => "Cascade",
        ForeignKeyAction::SetNull => "SetNull",
        ForeignKeyAction::NoAction => "NoAction",
        ForeignKeyAction::SetDefault => "SetDefault",
        // sea-query may add actions; the catalogue's default is what an unknown one leaves.
        _ => "NoAction",
    }
}

/// Each column of `table` as builder text, by name.
pub fn columns(table: &ModelTable) -> Vec<(String, Spelled)> {
    table
        .create
        .get_columns()
        .iter()
        .map(|c| (c.get_column_name(), spell::column_def(c)))
        .collect()
}

/// The columns of a primary key declared on the table (a composite key); empty when the key is
/// a column's own (`.primary_key()` in its definition).
pub fn composite_key(table: &ModelTable) -> Vec<String> {
    table
        .create
        .get_indexes()
        .iter()
        .find(|i| i.is_primary_key())
        .map(|i| i.get_index_spec().get_column_names())
        .unwrap_or_default()
}
