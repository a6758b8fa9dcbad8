//! Operations endpoints: liveness, readiness (database and cache), Prometheus metrics.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use crate::http::AppState;
use crate::services::jobs;
use crate::store;

#[handler]
pub fn livez() -> &'static str {
    "ok"
}

/// 200 while the database answers (cache down or every pooled connection busy is `degraded`,
/// still 200); 503 only when the database does not answer.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    let database = store::health(&state.db).await;
    let database_up = database != store::Health::Down;
    let cache_up = state.cache.ping().await;
    let status = match (database, cache_up) {
        (store::Health::Down, _) => "unavailable",
        (store::Health::Busy, _) | (_, false) => "degraded",
        (store::Health::Up, true) => "ok",
    };
    let database_status = match database {
        store::Health::Up => "up",
        store::Health::Busy => "busy",
        store::Health::Down => "down",
    };
    let body = json!({
        "status": status,
        "database": { "status": database_status,
                      "backend": if store::is_sqlite(&state.db) { "sqlite" } else { "postgres" } },
        "cache": { "status": if cache_up { "up" } else { "down" }, "backend": state.cache.kind() },
    });
    let code = if database_up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    Json(body)
        .with_status(code)
        .with_header("cache-control", "no-store")
        .into_response()
}

/// Prometheus text: the process's recorder, then the job queue's gauges, read from the
/// database at each scrape (so every instance reports the same queue, and the gauges are
/// there before the first job).
#[handler]
pub async fn metrics(state: Data<&AppState>) -> Response {
    let (size, idle) = store::pool_stats(&state.db);
    ::metrics::gauge!("db_pool_connections").set(size as f64);
    ::metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    let mut body = state.metrics.render();
    match jobs::stats(&state.db, state.clock.now()).await {
        Ok(stats) => body.push_str(&job_gauges(&stats)),
        Err(error) => tracing::warn!(error = %format!("{error:#}"), "job metrics unavailable"),
    }
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body)
}

fn job_gauges(stats: &jobs::JobStats) -> String {
    let gauges: [(&str, &str, f64); 5] = [
        (
            "jobs_queued",
            "Jobs waiting to run (due or not).",
            stats.queued as f64,
        ),
        (
            "jobs_running",
            "Jobs a worker holds right now.",
            stats.running as f64,
        ),
        (
            "jobs_failed",
            "Jobs whose last try failed: waiting for a retry, or dead.",
            (stats.failed + stats.dead) as f64,
        ),
        (
            "jobs_dead",
            "Jobs given up after their last try.",
            stats.dead as f64,
        ),
        (
            "jobs_oldest_queued_age_seconds",
            "How long the oldest due job has waited to be claimed.",
            stats.oldest_queued_age_seconds,
        ),
    ];
    let mut text = String::new();
    for (name, help, value) in gauges {
        text.push_str(&format!(
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}\n"
        ));
    }
    text
}
