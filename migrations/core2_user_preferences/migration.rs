//! Revision core2_user_preferences: add user preferences.
//!
//! A foreign key to `users` with `ON DELETE CASCADE`, and an index on it. MySQL/MariaDB is the
//! backend that needs something special: it indexes a foreign key column by itself under its own
//! name unless an index already exists, so there the index is declared inside `CREATE TABLE`;
//! Postgres and SQLite get a separate `CREATE INDEX`.

use braid::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "core2_user_preferences"
    }
}

const INDEX: &str = "ix_user_preferences_user_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mysql = manager.get_database_backend() == DbBackend::MySql;
        let mut table = Table::create();
        table
            .table("user_preferences")
            .col(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new("user_id").big_integer().not_null())
            // `name` rather than `key`: KEY is a reserved word in MySQL.
            .col(ColumnDef::new("name").string_len(100).not_null())
            .col(ColumnDef::new("value").string_len(1000).not_null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_user_preferences_user_id")
                    .from("user_preferences", "user_id")
                    .to("users", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        if mysql {
            table.index(Index::create().name(INDEX).col("user_id"));
        }
        manager.create_table(table.to_owned()).await?;
        if !mysql {
            manager
                .create_index(
                    Index::create()
                        .name(INDEX)
                        .table("user_preferences")
                        .col("user_id")
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table drops its index and foreign key too, on every dialect.
        manager
            .drop_table(Table::drop().table("user_preferences").to_owned())
            .await
    }
}
