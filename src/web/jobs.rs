//! `/admin/jobs`: the background job queue for admins (queued, running, failed and dead jobs with
//! their last error) and a retry button for failed and dead ones.

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};

use super::i18n_push::{JobsUi, jobs_ui};
use super::i18n_staff::{StaffUi, staff_ui};
use super::pages::{chrome, html, render};
use super::staff::field;
use super::views::Chrome;
use crate::domain::Lang;
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::http::staff_auth::{check_csrf, csrf_token, require};
use crate::services::ActionError;
use crate::services::jobs::{self, JobRow, JobStats};
use crate::services::staff::Role;

/// How many jobs of each state the page lists.
const PER_SECTION: u32 = 50;

struct JobView {
    id: i64,
    kind: String,
    state: String,
    attempts: i32,
    max_attempts: i32,
    run_at: String,
    last_error: Option<String>,
}

struct Section {
    title: &'static str,
    retryable: bool,
    jobs: Vec<JobView>,
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    page: Chrome,
    s: &'static StaffUi,
    j: &'static JobsUi,
    csrf: String,
    message: Option<&'static str>,
    stats: JobStats,
    oldest_wait: String,
    sections: Vec<Section>,
}

fn view(row: JobRow) -> JobView {
    JobView {
        id: row.id,
        kind: row.kind,
        state: row.state,
        attempts: row.attempts,
        max_attempts: row.max_attempts,
        run_at: row.run_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        last_error: row.last_error,
    }
}

#[derive(serde::Deserialize)]
pub struct Notice {
    done: Option<String>,
}

#[handler]
pub async fn jobs_page(
    state: Data<&AppState>,
    lang: Lang,
    Query(notice): Query<Notice>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = require(&state, req, |s| s.role == Role::Admin).await?;
    let j = jobs_ui(lang);
    let now = state.clock.now();
    let stats = jobs::stats(&state.db, now).await.map_err(from_db)?;
    let mut sections = Vec::new();
    for (title, states, retryable) in [
        (j.failed, &["failed"][..], true),
        (j.dead, &["dead"][..], true),
        (j.running, &["running"][..], false),
        (j.queued, &["queued"][..], false),
    ] {
        let rows = jobs::list(&state, states, PER_SECTION)
            .await
            .map_err(from_db)?;
        sections.push(Section {
            title,
            retryable,
            jobs: rows.into_iter().map(view).collect(),
        });
    }
    let message = match notice.done.as_deref() {
        Some("retried") => Some(j.retried),
        Some("missing") => Some(j.not_retryable),
        _ => None,
    };
    let page = JobsPage {
        page: chrome(&state, lang, j.title, "/admin/jobs"),
        s: staff_ui(lang),
        j,
        csrf: csrf_token(&state, &who),
        message,
        oldest_wait: format!("{:.0} {}", stats.oldest_queued_age_seconds, j.seconds),
        stats,
        sections,
    };
    Ok(html(render(&page)?))
}

/// Queues a failed or dead job again (audited), then back to the list.
#[handler]
pub async fn retry_job(
    state: Data<&AppState>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = require(&state, req, |s| s.role == Role::Admin).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let retried = match jobs::retry(&state, &who, id).await {
        Ok(()) => true,
        Err(ActionError::NotFound) => false,
        Err(error) => return Err(error.into()),
    };
    let done = if retried { "retried" } else { "missing" };
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, format!("/admin/jobs?done={done}"))
        .finish())
}
