//! The job queue: background work as database rows that any instance may claim. Enqueueing is
//! here (any use case may ask for background work); running the work is `crate::jobs`.
//!
//! A job is `queued` until its `run_at`, `running` while a worker holds its lease
//! (`locked_by`, `locked_until`), then `done`, or `failed` (to be retried after a backoff), or
//! `dead` after `max_attempts` tries. A worker that dies leaves its lease to expire; the next
//! worker puts the job back in the queue. A `unique_key` makes a job exist once, whoever asks.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};
use serde_json::Value as Json;

use super::staff::{Staff, audit};
use super::{ActionError, Context};

/// How many times a job is tried before it is dead, unless it says otherwise.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 5;
/// How long a worker holds a job before another may take it over.
pub const LEASE: Duration = Duration::minutes(5);
/// Waits between tries: 30 s, 1 min, 2 min, … up to an hour.
pub const BACKOFF_BASE: Duration = Duration::seconds(30);
pub const BACKOFF_CAP: Duration = Duration::hours(1);

/// The states a job row goes through.
pub const STATES: [&str; 5] = ["queued", "running", "failed", "dead", "done"];

/// Work to do later.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub kind: String,
    pub payload: Json,
    /// A job with a key exists once: enqueueing it again is a no-op.
    pub unique_key: Option<String>,
    pub run_at: DateTime<Utc>,
    pub max_attempts: i32,
}

impl NewJob {
    /// A job of `kind` to run as soon as a worker is free.
    pub fn new(kind: &str, payload: Json, now: DateTime<Utc>) -> NewJob {
        NewJob {
            kind: kind.to_owned(),
            payload,
            unique_key: None,
            run_at: now,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn unique(mut self, key: impl Into<String>) -> NewJob {
        self.unique_key = Some(key.into());
        self
    }

    pub fn at(mut self, run_at: DateTime<Utc>) -> NewJob {
        self.run_at = run_at;
        self
    }

    pub fn attempts(mut self, max_attempts: i32) -> NewJob {
        self.max_attempts = max_attempts.max(1);
        self
    }
}

/// A job a worker has claimed.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: Json,
    /// This try's number, from 1.
    pub attempt: i32,
    pub max_attempts: i32,
}

/// A row as the admin page and the API show it.
#[derive(Clone, Debug)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// Counts for metrics and the admin page.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobStats {
    /// Queued and due (or waiting for a retry).
    pub queued: i64,
    pub running: i64,
    /// Failed at least once and waiting for a retry.
    pub failed: i64,
    pub dead: i64,
    /// Age of the oldest job that is due but not yet claimed.
    pub oldest_queued_age_seconds: f64,
}

fn statement(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(db.get_database_backend(), sql, values)
}

/// Adds a job; returns its id, or `None` when a job with the same unique key already exists.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    job: NewJob,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    let row = db
        .query_one_raw(statement(
            db,
            "INSERT INTO job (kind, payload, unique_key, state, attempts, max_attempts, run_at, created_at, updated_at) \
             VALUES ($1, $2, $3, 'queued', 0, $4, $5, $6, $6) \
             ON CONFLICT (unique_key) DO NOTHING RETURNING id",
            vec![
                job.kind.into(),
                job.payload.to_string().into(),
                job.unique_key.into(),
                job.max_attempts.into(),
                job.run_at.into(),
                now.into(),
            ],
        ))
        .await?;
    Ok(row.and_then(|r| r.try_get::<i64>("", "id").ok()))
}

/// Puts back jobs whose worker stopped without finishing (their lease ran out): into the
/// queue, or to the dead letters when that was their last try. Returns how many.
pub async fn reclaim_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> anyhow::Result<u64> {
    let result = db
        .execute_raw(statement(
            db,
            "UPDATE job SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END, \
             locked_by = NULL, locked_until = NULL, run_at = $1, updated_at = $1, \
             last_error = 'the worker stopped before finishing (lease expired)' \
             WHERE state = 'running' AND locked_until < $1",
            vec![now.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}

/// Claims up to `limit` due jobs for `worker`, oldest first. On PostgreSQL concurrent workers
/// skip each other's rows (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at a time, so the
/// single conditional UPDATE is already exclusive.
pub async fn claim(
    db: &impl ConnectionTrait,
    worker: &str,
    limit: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<ClaimedJob>> {
    let lock = match db.get_database_backend() {
        DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let sql = format!(
        "UPDATE job SET state = 'running', attempts = attempts + 1, locked_by = $1, \
         locked_until = $2, updated_at = $3 \
         WHERE id IN (SELECT id FROM job WHERE state IN ('queued', 'failed') AND run_at <= $3 \
                      ORDER BY run_at, id LIMIT {limit} {lock}) \
         AND state IN ('queued', 'failed') \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    let rows = db
        .query_all_raw(statement(
            db,
            &sql,
            vec![worker.into(), (now + LEASE).into(), now.into()],
        ))
        .await?;
    let mut jobs: Vec<ClaimedJob> = rows.iter().filter_map(claimed).collect();
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

fn claimed(row: &QueryResult) -> Option<ClaimedJob> {
    let payload: String = row.try_get("", "payload").ok()?;
    Some(ClaimedJob {
        id: row.try_get("", "id").ok()?,
        kind: row.try_get("", "kind").ok()?,
        payload: serde_json::from_str(&payload).unwrap_or(Json::Null),
        attempt: row.try_get("", "attempts").ok()?,
        max_attempts: row.try_get("", "max_attempts").ok()?,
    })
}

/// Marks a claimed job done (only while `worker` still holds it).
pub async fn complete(
    db: &impl ConnectionTrait,
    job: &ClaimedJob,
    worker: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    db.execute_raw(statement(
        db,
        "UPDATE job SET state = 'done', locked_by = NULL, locked_until = NULL, finished_at = $1, \
         updated_at = $1, last_error = NULL WHERE id = $2 AND locked_by = $3 AND state = 'running'",
        vec![now.into(), job.id.into(), worker.into()],
    ))
    .await?;
    Ok(())
}

/// The wait before try `attempt + 1`: doubling from `BACKOFF_BASE`, never over `BACKOFF_CAP`.
pub fn backoff(attempt: i32) -> Duration {
    let doublings = (attempt.max(1) - 1).min(20) as u32;
    let wait = BACKOFF_BASE * 2_i32.pow(doublings);
    wait.min(BACKOFF_CAP)
}

/// Records a failed try: retried after `backoff`, or dead after its last try (or at once when
/// `permanent`). Returns the new state.
pub async fn fail(
    db: &impl ConnectionTrait,
    job: &ClaimedJob,
    worker: &str,
    error: &str,
    permanent: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<&'static str> {
    let state = if permanent || job.attempt >= job.max_attempts {
        "dead"
    } else {
        "failed"
    };
    let error: String = error.chars().take(2000).collect();
    db.execute_raw(statement(
        db,
        "UPDATE job SET state = $1, locked_by = NULL, locked_until = NULL, run_at = $2, \
         last_error = $3, updated_at = $4, finished_at = CASE WHEN $1 = 'dead' THEN $4 ELSE NULL END \
         WHERE id = $5 AND locked_by = $6 AND state = 'running'",
        vec![
            state.into(),
            (now + backoff(job.attempt)).into(),
            error.into(),
            now.into(),
            job.id.into(),
            worker.into(),
        ],
    ))
    .await?;
    Ok(state)
}

/// An admin's retry of a failed or dead job: queued now, with its tries counted afresh, and
/// audited. `NotFound` when there is no failed or dead job with that id.
pub async fn retry(ctx: &Context, who: &Staff, id: i64) -> Result<(), ActionError> {
    let now = ctx.clock.now();
    let result = ctx
        .db
        .execute_raw(statement(
            &ctx.db,
            "UPDATE job SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, \
             finished_at = NULL WHERE id = $2 AND state IN ('failed', 'dead')",
            vec![now.into(), id.into()],
        ))
        .await
        .map_err(anyhow::Error::from)?;
    if result.rows_affected() != 1 {
        return Err(ActionError::NotFound);
    }
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "retry_job",
        &format!("job:{id}"),
        None,
        None,
        now,
    )
    .await?;
    Ok(())
}

/// Jobs in `states`, the most recently changed first.
pub async fn list(ctx: &Context, states: &[&str], limit: u32) -> anyhow::Result<Vec<JobRow>> {
    let wanted: Vec<&str> = states
        .iter()
        .copied()
        .filter(|s| STATES.contains(s))
        .collect();
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=wanted.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, kind, state, attempts, max_attempts, run_at, last_error, updated_at FROM job \
         WHERE state IN ({}) ORDER BY updated_at DESC, id DESC LIMIT {limit}",
        placeholders.join(", ")
    );
    let values = wanted.into_iter().map(Value::from).collect();
    let rows = ctx
        .db
        .query_all_raw(statement(&ctx.db, &sql, values))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(JobRow {
                id: r.try_get("", "id").ok()?,
                kind: r.try_get("", "kind").ok()?,
                state: r.try_get("", "state").ok()?,
                attempts: r.try_get("", "attempts").ok()?,
                max_attempts: r.try_get("", "max_attempts").ok()?,
                run_at: r.try_get("", "run_at").ok()?,
                last_error: r.try_get("", "last_error").ok()?,
                updated_at: r.try_get("", "updated_at").ok()?,
            })
        })
        .collect())
}

/// How many jobs wait, run, failed and died, and how long the oldest due one has waited.
pub async fn stats(db: &impl ConnectionTrait, now: DateTime<Utc>) -> anyhow::Result<JobStats> {
    let rows = db
        .query_all_raw(statement(
            db,
            "SELECT state, COUNT(*) AS n FROM job WHERE state IN ('queued', 'running', 'failed', 'dead') \
             GROUP BY state",
            vec![],
        ))
        .await?;
    let mut stats = JobStats::default();
    for row in rows {
        let state: String = row.try_get("", "state")?;
        let n: i64 = row.try_get("", "n")?;
        match state.as_str() {
            "queued" => stats.queued = n,
            "running" => stats.running = n,
            "failed" => stats.failed = n,
            _ => stats.dead = n,
        }
    }
    let oldest = db
        .query_one_raw(statement(
            db,
            "SELECT run_at FROM job WHERE state IN ('queued', 'failed') AND run_at <= $1 \
             ORDER BY run_at LIMIT 1",
            vec![now.into()],
        ))
        .await?;
    if let Some(row) = oldest {
        let run_at: DateTime<Utc> = row.try_get("", "run_at")?;
        stats.oldest_queued_age_seconds = (now - run_at).num_milliseconds().max(0) as f64 / 1000.0;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(3), Duration::seconds(120));
        assert_eq!(backoff(8), Duration::hours(1));
        assert_eq!(backoff(1000), Duration::hours(1));
    }
}
