//! Runs SQL written with placeholders for the few types SQLite and PostgreSQL name differently.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

/// Replaces `{id}`, `{ts}` and `{blob}` with the backend's types, then runs each `;`-separated
/// statement in order.
pub async fn run(manager: &SchemaManager<'_>, script: &str) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let (id, ts, blob) = match backend {
        DbBackend::Postgres => ("BIGSERIAL PRIMARY KEY", "TIMESTAMPTZ", "BYTEA"),
        _ => ("INTEGER PRIMARY KEY AUTOINCREMENT", "TEXT", "BLOB"),
    };
    let script = script
        .replace("{id}", id)
        .replace("{ts}", ts)
        .replace("{blob}", blob);
    let conn = manager.get_connection();
    for statement in script.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        conn.execute_unprepared(statement).await?;
    }
    Ok(())
}
