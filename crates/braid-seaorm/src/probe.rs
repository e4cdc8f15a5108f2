//! `table_exists` / `column_exists` / `index_exists` without sqlx.
//!
//! sea-orm-migration's own `SchemaManager::has_*` are compiled only with a `sqlx-*` feature and
//! otherwise return `BackendNotSupported`. These build the same sea-schema probe statements for
//! the connection's backend and run them through any connection (so through Braid's driver),
//! reading the single `COUNT(*) > 0` column leniently: a boolean on Postgres, an integer on
//! MySQL and SQLite. (They are not named `has_*`: inherent methods would win over a trait's.)

use sea_orm::sea_query::SelectStatement;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult};
use sea_orm_migration::SchemaManager;
use sea_schema::probe::SchemaProbe;

/// Schema questions a migration can ask on any backend, in Braid builds (no sqlx).
#[async_trait::async_trait]
pub trait SchemaManagerExt {
    /// Whether a table named `table` exists (in the current schema on Postgres, the current
    /// database on MySQL).
    async fn table_exists(&self, table: &str) -> Result<bool, DbErr>;
    /// Whether `table` has a column named `column`.
    async fn column_exists(&self, table: &str, column: &str) -> Result<bool, DbErr>;
    /// Whether `table` has an index named `index`.
    async fn index_exists(&self, table: &str, index: &str) -> Result<bool, DbErr>;
}

fn probe(backend: DbBackend, f: impl Fn(&dyn Probe) -> SelectStatement) -> SelectStatement {
    match backend {
        DbBackend::Postgres => f(&sea_schema::postgres::Postgres),
        DbBackend::MySql => f(&sea_schema::mysql::MySql),
        DbBackend::Sqlite => f(&sea_schema::sqlite::Sqlite),
        // DbBackend is not exhaustive in every sea-orm version.
        #[allow(unreachable_patterns)]
        _ => f(&sea_schema::postgres::Postgres),
    }
}

/// Object-safe view of `SchemaProbe`'s three builders.
trait Probe {
    fn table(&self, table: &str) -> SelectStatement;
    fn column(&self, table: &str, column: &str) -> SelectStatement;
    fn index(&self, table: &str, index: &str) -> SelectStatement;
}

impl<P: SchemaProbe> Probe for P {
    fn table(&self, table: &str) -> SelectStatement {
        self.has_table(table)
    }
    fn column(&self, table: &str, column: &str) -> SelectStatement {
        self.has_column(table, column)
    }
    fn index(&self, table: &str, index: &str) -> SelectStatement {
        self.has_index(table, index)
    }
}

/// Reads the one column of a probe: bool, integer or numeric text.
fn truthy(row: Option<QueryResult>, what: &str) -> Result<bool, DbErr> {
    let Some(row) = row else {
        return Ok(false);
    };
    if let Ok(b) = row.try_get_by_index::<bool>(0) {
        return Ok(b);
    }
    if let Ok(i) = row.try_get_by_index::<i64>(0) {
        return Ok(i != 0);
    }
    if let Ok(i) = row.try_get_by_index::<i32>(0) {
        return Ok(i != 0);
    }
    if let Ok(s) = row.try_get_by_index::<String>(0) {
        return Ok(matches!(s.as_str(), "1" | "t" | "true" | "TRUE"));
    }
    Err(DbErr::Custom(format!(
        "{what}: the probe returned a value that is neither a boolean nor an integer"
    )))
}

#[async_trait::async_trait]
impl SchemaManagerExt for SchemaManager<'_> {
    async fn table_exists(&self, table: &str) -> Result<bool, DbErr> {
        let conn = self.get_connection();
        let stmt = probe(conn.get_database_backend(), |p| p.table(table));
        truthy(conn.query_one(&stmt).await?, "table_exists")
    }

    async fn column_exists(&self, table: &str, column: &str) -> Result<bool, DbErr> {
        let conn = self.get_connection();
        let stmt = probe(conn.get_database_backend(), |p| p.column(table, column));
        truthy(conn.query_one(&stmt).await?, "column_exists")
    }

    async fn index_exists(&self, table: &str, index: &str) -> Result<bool, DbErr> {
        let conn = self.get_connection();
        let stmt = probe(conn.get_database_backend(), |p| p.index(table, index));
        truthy(conn.query_one(&stmt).await?, "index_exists")
    }
}
