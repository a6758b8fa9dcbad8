//! The send rate, shared by every instance: WeChat's quota is the account's, so the push takes
//! its allowance from one counter per second in the database (`HOMEWARD_PUSH_RATE`).

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};

use crate::services::Context;

async fn exec(ctx: &Context, sql: &str, values: Vec<Value>) -> anyhow::Result<u64> {
    Ok(ctx
        .db
        .execute_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            sql,
            values,
        ))
        .await?
        .rows_affected())
}

/// Takes up to `wanted` sends from this second's allowance; returns how many were granted
/// (0 when the second's allowance is spent).
pub async fn take(ctx: &Context, wanted: u32, now: DateTime<Utc>) -> anyhow::Result<u32> {
    let rate = ctx.settings.push_rate.max(1);
    let second = now.timestamp();
    exec(
        ctx,
        "INSERT INTO push_quota (window_start, used) VALUES ($1, 0) ON CONFLICT (window_start) DO NOTHING",
        vec![second.into()],
    )
    .await?;
    // Halve the request until it fits: a few round trips at most, and never over the rate.
    let mut ask = wanted.min(rate);
    while ask > 0 {
        let granted = exec(
            ctx,
            "UPDATE push_quota SET used = used + $1 WHERE window_start = $2 AND used + $1 <= $3",
            vec![ask.into(), second.into(), rate.into()],
        )
        .await?;
        if granted == 1 {
            if second % 60 == 0 {
                exec(
                    ctx,
                    "DELETE FROM push_quota WHERE window_start < $1",
                    vec![(second - 60).into()],
                )
                .await?;
            }
            return Ok(ask);
        }
        ask /= 2;
    }
    Ok(0)
}

/// Gives back sends taken but not used (fewer messages were due than granted).
pub async fn give_back(ctx: &Context, unused: u32, now: DateTime<Utc>) -> anyhow::Result<()> {
    if unused > 0 {
        exec(
            ctx,
            "UPDATE push_quota SET used = CASE WHEN used >= $1 THEN used - $1 ELSE 0 END WHERE window_start = $2",
            vec![unused.into(), now.timestamp().into()],
        )
        .await?;
    }
    Ok(())
}
