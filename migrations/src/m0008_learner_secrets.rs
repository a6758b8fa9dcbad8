//! Recovery codes are kept only as hashes: the column becomes `recovery_hash`, and every code
//! stored before is replaced by its hash (SHA-256 of `recovery:` and the normalised code, as the
//! app computes it). Going down cannot bring the old codes back: each learner gets a new random
//! code instead.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use sha2::{Digest, Sha256};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The hash the app stores for a normalised recovery code (`XXXX-XXXX-XXXX-XXXX`).
fn recovery_hash(code: &str) -> String {
    hex::encode(Sha256::digest(format!("recovery:{code}").as_bytes()))
}

/// A fresh recovery code in the app's format (Crockford's base32, 80 random bits).
fn new_code() -> Result<String, DbErr> {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| DbErr::Migration(format!("random: {e}")))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    let groups: Vec<String> = chars.chunks(4).map(|c| c.iter().collect()).collect();
    Ok(groups.join("-"))
}

/// Rewrites the secret column of every learner with `rewrite(old value)`.
async fn rewrite_all(
    manager: &SchemaManager<'_>,
    column: &str,
    rewrite: impl Fn(&str) -> Result<String, DbErr>,
) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let backend = manager.get_database_backend();
    let rows = conn
        .query_all_raw(Statement::from_string(
            backend,
            format!("SELECT id, {column} AS secret FROM learner"),
        ))
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let old: String = row.try_get("", "secret")?;
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            format!("UPDATE learner SET {column} = $1 WHERE id = $2"),
            [rewrite(&old)?.into(), id.into()],
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        conn.execute_unprepared("ALTER TABLE learner RENAME COLUMN recovery_code TO recovery_hash")
            .await?;
        match manager.get_database_backend() {
            // One statement on PostgreSQL, which hashes by itself.
            DbBackend::Postgres => {
                conn.execute_unprepared(
                    "UPDATE learner SET recovery_hash = \
                     encode(sha256(convert_to('recovery:' || recovery_hash, 'UTF8')), 'hex')",
                )
                .await?;
                Ok(())
            }
            _ => rewrite_all(manager, "recovery_hash", |code| Ok(recovery_hash(code))).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("ALTER TABLE learner RENAME COLUMN recovery_hash TO recovery_code")
            .await?;
        rewrite_all(manager, "recovery_code", |_| new_code()).await
    }
}
