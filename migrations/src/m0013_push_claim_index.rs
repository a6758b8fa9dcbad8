//! The push claims its next messages `ORDER BY send_at, id`: an index on `(state, send_at)` alone
//! made every claim of a release sort every queued message of it (53 ms and a spill to disk per
//! claim of 100 at 100,000 followers, 170 M buffer hits for one release); `(state, send_at, id)`
//! reads the first 100 in order and stops.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(
            manager,
            "CREATE INDEX push_message_claim_idx ON push_message (state, send_at, id); \
             DROP INDEX push_message_due_idx",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(
            manager,
            "CREATE INDEX push_message_due_idx ON push_message (state, send_at); \
             DROP INDEX push_message_claim_idx",
        )
        .await
    }
}
