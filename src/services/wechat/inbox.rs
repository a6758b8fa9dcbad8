//! What the callback has already seen, so each message acts once: request nonces (a timestamp
//! and nonce reused with a different body is a replay) and messages by WeChat's retry key (a
//! retry gets an answer again but changes nothing again). Old entries are purged as new come.

use sea_orm::{ConnectionTrait, Statement};
use sha2::{Digest, Sha256};

use super::{WechatError, millis};
use crate::services::Context;

/// How long entries are kept: far beyond WeChat's 5-minute window and its three retries.
const KEEP_MS: i64 = 24 * 3600 * 1000;

/// A request's (timestamp, nonce) was seen before with another body.
#[derive(Debug, PartialEq, Eq)]
pub struct Replayed;

fn hash(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

/// Records a signed request's timestamp and nonce with its body. The same pair with the same
/// body is WeChat retrying (fine); with another body it is a replay.
pub async fn note_request(
    ctx: &Context,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Result<Result<(), Replayed>, WechatError> {
    let nonce_hash = hash(&[timestamp, nonce]);
    let body_hash = hex::encode(Sha256::digest(body));
    let now = millis(ctx.clock.now());
    let backend = ctx.db.get_database_backend();
    let inserted = ctx
        .db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO wechat_request (nonce_hash, body_hash, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (nonce_hash) DO NOTHING",
            [
                nonce_hash.clone().into(),
                body_hash.clone().into(),
                now.into(),
            ],
        ))
        .await?;
    if inserted.rows_affected() == 1 {
        purge(ctx, "wechat_request", now).await?;
        return Ok(Ok(()));
    }
    let seen = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT body_hash FROM wechat_request WHERE nonce_hash = $1",
            [nonce_hash.into()],
        ))
        .await?;
    let seen_body: Option<String> = match seen {
        Some(row) => row.try_get("", "body_hash")?,
        None => None,
    };
    Ok(if seen_body.as_deref() == Some(body_hash.as_str()) {
        Ok(())
    } else {
        Err(Replayed)
    })
}

/// Claims a message by its retry key: `true` the first time, `false` for WeChat's retries.
pub async fn claim_message(ctx: &Context, retry_key: &str) -> Result<bool, WechatError> {
    let now = millis(ctx.clock.now());
    let inserted = ctx
        .db
        .execute_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            "INSERT INTO wechat_message (retry_key, seen_at) VALUES ($1, $2) \
             ON CONFLICT (retry_key) DO NOTHING",
            [retry_key.into(), now.into()],
        ))
        .await?;
    let first = inserted.rows_affected() == 1;
    if first {
        purge(ctx, "wechat_message", now).await?;
    }
    Ok(first)
}

/// Forgets a claimed message whose handling failed, so WeChat's retry handles it.
pub async fn release_message(ctx: &Context, retry_key: &str) -> Result<(), WechatError> {
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            "DELETE FROM wechat_message WHERE retry_key = $1",
            [retry_key.into()],
        ))
        .await?;
    Ok(())
}

/// Deletes entries older than a day, about once in 64 inserts.
async fn purge(ctx: &Context, table: &'static str, now: i64) -> Result<(), WechatError> {
    let mut dice = [0u8; 1];
    getrandom::fill(&mut dice).expect("the operating system's random source");
    if dice[0] % 64 != 0 {
        return Ok(());
    }
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            format!("DELETE FROM {table} WHERE seen_at < $1"),
            [(now - KEEP_MS).into()],
        ))
        .await?;
    Ok(())
}
