//! Retention: what Homeward keeps only for a while (raw progress events, unused sessions, QR
//! scans, finished jobs), purged by a periodic job with the counts written to the audit log.
//! The periods are settings, documented in the README and named in the privacy notice.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};
use serde_json::{Map, json};

use super::Context;
use super::staff::{self, audit};

/// The job kind of the periodic purge.
pub const JOB_KIND: &str = "retention.purge";

/// What one purge removed, by what.
pub type PurgeCounts = Map<String, serde_json::Value>;

async fn delete(ctx: &Context, sql: &str, before: DateTime<Utc>) -> anyhow::Result<u64> {
    let result = ctx
        .db
        .execute_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            sql,
            vec![Value::from(before)],
        ))
        .await?;
    Ok(result.rows_affected())
}

fn days(n: u32) -> Duration {
    Duration::days(i64::from(n))
}

/// Deletes everything older than its period and audits the counts (even when all are 0, so
/// the log shows the purge ran). Idempotent: a second run finds nothing more.
pub async fn purge(ctx: &Context) -> anyhow::Result<PurgeCounts> {
    let now = ctx.clock.now();
    let settings = &ctx.settings;
    let rules: [(&str, &str, DateTime<Utc>); 5] = [
        (
            "progress_events",
            "DELETE FROM progress_event WHERE received_at < $1",
            now - days(settings.retain_events_days),
        ),
        (
            "learner_sessions",
            "DELETE FROM learner_session WHERE last_seen_at < $1",
            now - days(settings.retain_sessions_days),
        ),
        (
            "staff_sessions",
            "DELETE FROM staff_session WHERE created_at < $1",
            now - Duration::seconds(staff::ABSOLUTE_TIMEOUT),
        ),
        (
            "code_scans",
            "DELETE FROM code_scan WHERE created_at < $1",
            now - days(settings.retain_scans_days),
        ),
        (
            "jobs",
            "DELETE FROM job WHERE state IN ('done', 'dead') AND updated_at < $1",
            now - days(settings.retain_jobs_days),
        ),
    ];
    let mut counts = PurgeCounts::new();
    for (what, sql, before) in rules {
        counts.insert(what.into(), json!(delete(ctx, sql, before).await?));
    }
    audit(
        &ctx.db,
        None,
        "retention",
        "purge",
        "retention",
        None,
        Some(serde_json::Value::Object(counts.clone())),
        now,
    )
    .await?;
    tracing::info!(counts = %serde_json::Value::Object(counts.clone()), "retention purge");
    Ok(counts)
}
