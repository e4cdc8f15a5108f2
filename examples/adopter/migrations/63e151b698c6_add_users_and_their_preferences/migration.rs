//! Revision 63e151b698c6: add users and their preferences
//!
//! Written by `generate --autogenerate` from the sea-orm entities: review it before it
//! ships (renames, data to carry, defaults for rows that exist).
//!
//! + table users
//! + table user_preferences
//! + index on user_preferences (user_id)

use braid::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "63e151b698c6"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("users")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new("email")
                            .string_len(255)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new("display_name").string_len(100).not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("user_preferences")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("user_id").big_integer().not_null())
                    .col(ColumnDef::new("name").string_len(100).not_null())
                    .col(ColumnDef::new("value").string_len(1000).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk-user_preferences-user_id")
                            .from("user_preferences", "user_id")
                            .to("users", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx-user_preferences-user_id")
                    .table("user_preferences")
                    .col("user_id")
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("user_preferences").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("users").to_owned())
            .await?;
        Ok(())
    }
}
