//! Admins through the API: the background job queue and retrying a failed or dead job.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::problem::ApiError;
use super::staff::{ApiTags, Done, staff};
use crate::http::AppState;
use crate::http::error::from_db;
use crate::services::jobs;
use crate::services::staff::Role;

#[derive(Debug, Clone, Object)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    /// queued, running, failed (will be retried), dead or done.
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    #[oai(nullable)]
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object)]
pub struct JobQueue {
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    pub dead: i64,
    pub oldest_queued_age_seconds: f64,
    /// The latest 100 jobs that are not done, most recently changed first.
    pub jobs: Vec<Job>,
}

pub struct JobsApi;

#[OpenApi]
impl JobsApi {
    /// The background job queue: counts, and the jobs not yet done with their last error (admins).
    #[oai(
        path = "/admin/jobs",
        method = "get",
        operation_id = "admin_jobs",
        tag = "ApiTags::Admin"
    )]
    async fn queue(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<JobQueue>, ApiError> {
        staff(&state, req, |s| s.role == Role::Admin, false).await?;
        let stats = jobs::stats(&state.db, state.clock.now())
            .await
            .map_err(from_db)?;
        let rows = jobs::list(&state, &["failed", "dead", "running", "queued"], 100)
            .await
            .map_err(from_db)?;
        Ok(Json(JobQueue {
            queued: stats.queued,
            running: stats.running,
            failed: stats.failed,
            dead: stats.dead,
            oldest_queued_age_seconds: stats.oldest_queued_age_seconds,
            jobs: rows
                .into_iter()
                .map(|r| Job {
                    id: r.id,
                    kind: r.kind,
                    state: r.state,
                    attempts: r.attempts,
                    max_attempts: r.max_attempts,
                    run_at: r.run_at,
                    last_error: r.last_error,
                    updated_at: r.updated_at,
                })
                .collect(),
        }))
    }

    /// Queues a failed or dead job again, its tries counted afresh (admins; audited).
    #[oai(
        path = "/admin/jobs/:id/retry",
        method = "post",
        operation_id = "admin_job_retry",
        tag = "ApiTags::Admin"
    )]
    async fn retry(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        jobs::retry(&state, &who, *id)
            .await
            .map_err(|e| ApiError::from_action(e, "no failed or dead job with that id"))?;
        Ok(Done::NoContent)
    }
}
