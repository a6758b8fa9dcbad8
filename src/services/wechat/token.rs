//! The account's access token, shared by every instance: read from the cache (Redis when
//! present), else from the database, and refreshed a few minutes before it expires. One instance
//! refreshes at a time — it takes a short lease on the database row — while the others wait for
//! its token. A call WeChat answers with 40001/42001 refreshes the token and is retried once.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};
use serde::{Deserialize, Serialize};

use super::{Wechat, WechatError, millis};
use crate::services::Context;
use crate::wechat::protocol::{AccessToken, ApiError};

const ROW: &str = "access_token";
const CACHE_KEY: &str = "wechat:access_token";
/// A token with less than this left is refreshed before use.
pub const MARGIN: Duration = Duration::from_secs(300);
/// How long a refresh may hold the lease before another instance may take over.
const LEASE: Duration = Duration::from_secs(15);
/// How often, and how many times, an instance waiting for another's refresh looks again.
const WAIT_STEP: Duration = Duration::from_millis(100);
const WAIT_STEPS: u32 = 50;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Stored {
    token: String,
    /// Unix milliseconds.
    expires_at: i64,
}

impl Stored {
    fn usable(&self, now: DateTime<Utc>, rejected: Option<&AccessToken>) -> bool {
        let margin = i64::try_from(MARGIN.as_millis()).unwrap_or(i64::MAX);
        self.expires_at - millis(now) > margin
            && rejected.is_none_or(|old| old.expose() != self.token)
    }
}

async fn read_row(ctx: &Context) -> Result<Option<Stored>, WechatError> {
    let row = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            "SELECT token, expires_at FROM wechat_token WHERE name = $1",
            [ROW.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let token: Option<String> = row.try_get("", "token")?;
    let expires_at: Option<i64> = row.try_get("", "expires_at")?;
    Ok(token
        .zip(expires_at)
        .map(|(token, expires_at)| Stored { token, expires_at }))
}

async fn remember(ctx: &Context, stored: &Stored) {
    let left = stored.expires_at
        - millis(ctx.clock.now())
        - i64::try_from(MARGIN.as_millis()).unwrap_or(0);
    if let Ok(left) = u64::try_from(left)
        && left > 0
    {
        ctx.cache
            .set_json(CACHE_KEY, stored, Duration::from_millis(left))
            .await;
    }
}

/// Takes the refresh lease if nobody holds it (or their lease ran out).
async fn take_lease(ctx: &Context, wechat: &Wechat) -> Result<bool, WechatError> {
    let now = millis(ctx.clock.now());
    let backend = ctx.db.get_database_backend();
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO wechat_token (name, updated_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            [ROW.into(), now.into()],
        ))
        .await?;
    let lease_until = now + i64::try_from(LEASE.as_millis()).unwrap_or(15_000);
    let taken = ctx
        .db
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE wechat_token SET lease_owner = $1, lease_until = $2, updated_at = $3 \
             WHERE name = $4 AND (lease_until IS NULL OR lease_until < $3)",
            [
                wechat.instance.clone().into(),
                lease_until.into(),
                now.into(),
                ROW.into(),
            ],
        ))
        .await?;
    Ok(taken.rows_affected() == 1)
}

async fn release(
    ctx: &Context,
    wechat: &Wechat,
    fresh: Option<&Stored>,
) -> Result<(), WechatError> {
    let now = millis(ctx.clock.now());
    let backend = ctx.db.get_database_backend();
    let statement = match fresh {
        Some(stored) => Statement::from_sql_and_values(
            backend,
            "UPDATE wechat_token SET token = $1, expires_at = $2, lease_owner = NULL, \
             lease_until = NULL, updated_at = $3 WHERE name = $4 AND lease_owner = $5",
            [
                stored.token.clone().into(),
                stored.expires_at.into(),
                now.into(),
                ROW.into(),
                wechat.instance.clone().into(),
            ],
        ),
        None => Statement::from_sql_and_values(
            backend,
            "UPDATE wechat_token SET lease_owner = NULL, lease_until = NULL, updated_at = $1 \
             WHERE name = $2 AND lease_owner = $3",
            [now.into(), ROW.into(), wechat.instance.clone().into()],
        ),
    };
    ctx.db.execute_raw(statement).await?;
    Ok(())
}

/// Asks WeChat for a token; if it hands back the one just rejected, forces a new one.
async fn fetch(
    wechat: &Wechat,
    rejected: Option<&AccessToken>,
) -> Result<(AccessToken, Duration), ApiError> {
    let grant = wechat.api.stable_token(false).await?;
    if rejected.is_some_and(|old| *old == grant.access_token) {
        let forced = wechat.api.stable_token(true).await?;
        return Ok((forced.access_token, forced.expires_in));
    }
    Ok((grant.access_token, grant.expires_in))
}

/// A fresh token: this instance refreshes it under the lease, or waits for the instance that is.
async fn refresh(
    ctx: &Context,
    wechat: &Wechat,
    rejected: Option<&AccessToken>,
) -> Result<AccessToken, WechatError> {
    for _ in 0..WAIT_STEPS {
        if take_lease(ctx, wechat).await? {
            // Someone may have refreshed between our read and the lease.
            if let Some(stored) = read_row(ctx).await?
                && stored.usable(ctx.clock.now(), rejected)
            {
                release(ctx, wechat, None).await?;
                remember(ctx, &stored).await;
                return Ok(AccessToken::new(stored.token));
            }
            let fetched = fetch(wechat, rejected).await;
            let (token, lifetime) = match fetched {
                Ok(fetched) => fetched,
                Err(error) => {
                    release(ctx, wechat, None).await?;
                    return Err(error.into());
                }
            };
            let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(7_200_000);
            let stored = Stored {
                token: token.expose().to_owned(),
                expires_at: millis(ctx.clock.now()) + lifetime_ms,
            };
            release(ctx, wechat, Some(&stored)).await?;
            remember(ctx, &stored).await;
            tracing::info!(
                expires_in_s = lifetime.as_secs(),
                "WeChat access token refreshed"
            );
            return Ok(token);
        }
        tokio::time::sleep(WAIT_STEP).await;
        if let Some(stored) = read_row(ctx).await?
            && stored.usable(ctx.clock.now(), rejected)
        {
            remember(ctx, &stored).await;
            return Ok(AccessToken::new(stored.token));
        }
    }
    Err(WechatError::Busy)
}

/// The current access token, refreshed first if it is missing or about to expire.
pub async fn access_token(ctx: &Context, wechat: &Wechat) -> Result<AccessToken, WechatError> {
    let now = ctx.clock.now();
    if let Some(stored) = ctx.cache.get_json::<Stored>(CACHE_KEY).await
        && stored.usable(now, None)
    {
        return Ok(AccessToken::new(stored.token));
    }
    if let Some(stored) = read_row(ctx).await?
        && stored.usable(now, None)
    {
        remember(ctx, &stored).await;
        return Ok(AccessToken::new(stored.token));
    }
    refresh(ctx, wechat, None).await
}

/// Runs an API call with the access token; when WeChat says the token is invalid or expired
/// (40001/42001), refreshes it and runs the call once more.
pub async fn with_token<T, F, Fut>(
    ctx: &Context,
    wechat: &Wechat,
    call: F,
) -> Result<T, WechatError>
where
    F: Fn(AccessToken) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let token = access_token(ctx, wechat).await?;
    match call(token.clone()).await {
        Err(error) if error.is_token_invalid() => {
            tracing::info!(
                errcode = error.errcode(),
                "WeChat refused the access token; refreshing"
            );
            let fresh = refresh(ctx, wechat, Some(&token)).await?;
            Ok(call(fresh).await?)
        }
        other => Ok(other?),
    }
}
