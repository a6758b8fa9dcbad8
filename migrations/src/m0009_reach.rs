//! Reach: each lesson's key message for the family at home (with its audio), kept as JSON.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(
            manager,
            "ALTER TABLE lesson ADD COLUMN family_json TEXT NOT NULL DEFAULT '{}'",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, "ALTER TABLE lesson DROP COLUMN family_json").await
    }
}
