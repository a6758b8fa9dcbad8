//! Operations endpoints: liveness, readiness (database and cache), Prometheus metrics.

use poem::http::StatusCode;
use poem::web::{Data, Json};
use poem::{IntoResponse, Response, handler};
use serde_json::json;

use crate::http::AppState;
use crate::store;

#[handler]
pub fn livez() -> &'static str {
    "ok"
}

/// 200 while the database answers (cache down is `degraded`, still 200); 503 without database.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    let database_up = store::ping(&state.db).await;
    let cache_up = state.cache.ping().await;
    let status = match (database_up, cache_up) {
        (false, _) => "unavailable",
        (true, false) => "degraded",
        (true, true) => "ok",
    };
    let body = json!({
        "status": status,
        "database": { "status": if database_up { "up" } else { "down" },
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

#[handler]
pub fn metrics(state: Data<&AppState>) -> Response {
    let (size, idle) = store::pool_stats(&state.db);
    ::metrics::gauge!("db_pool_connections").set(size as f64);
    ::metrics::gauge!("db_pool_idle_connections").set(idle as f64);
    Response::builder()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(state.metrics.render())
}
