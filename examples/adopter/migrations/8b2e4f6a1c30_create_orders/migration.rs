//! Revision 8b2e4f6a1c30: create orders
//!
//! One body for every backend: Braid renders these `SchemaManager` calls as Postgres,
//! MySQL/MariaDB or SQLite DDL and runs them in its own transaction.

use braid::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "8b2e4f6a1c30"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("orders")
                    .col(ColumnDef::new("id").big_integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new("account_id").big_integer().not_null())
                    .col(ColumnDef::new("total_cents").big_integer().not_null().default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_orders_account")
                            .from("orders", "account_id")
                            .to("accounts", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table("orders").to_owned()).await
    }
}
