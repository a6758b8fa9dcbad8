//! Operations endpoints and the server's lifecycle.

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

#[tokio::test]
async fn liveness_readiness_and_metrics() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    assert_eq!(app.text("/livez").await, "ok");
    let ready = app.json("/readyz").await;
    assert_eq!(ready["status"], "ok");
    assert_eq!(ready["database"]["status"], "up");
    assert_eq!(ready["cache"]["status"], "up");
    app.get("/s/family/first-comic").await;
    app.get("/s/family/first-comic").await;
    let metrics = app.text("/metrics").await;
    for name in [
        "http_requests_total{route=\"/s/{series}/{lesson}\",status=\"200\"}",
        "http_request_duration_seconds_bucket",
        "cache_hits_total",
        "cache_misses_total",
        "db_pool_connections",
    ] {
        assert!(metrics.contains(name), "missing {name} in\n{metrics}");
    }
}

#[tokio::test]
async fn request_ids_are_kept_or_made() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let kept = app
        .client
        .get(app.url("/livez"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "abc-123");
    let made = app.get("/livez").await;
    assert_eq!(made.headers()["x-request-id"].len(), 36);
}

#[tokio::test]
async fn readiness_is_503_when_the_database_is_gone() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    app.state.db.clone().close().await.unwrap();
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["database"]["status"], "down");
}

#[tokio::test]
async fn postgres_serve_refuses_pending_migrations() {
    let Some(server) = crate::helpers::test_database_server() else {
        // On SQLite `serve` migrates by itself; this rule is about PostgreSQL.
        return;
    };
    let db = TestDatabase::create().await;
    assert!(db.url.starts_with(server.trim_end_matches('/')));
    let state = homeward::http::AppState::connect(
        homeward::settings::Settings::with_database(db.url.clone()),
        std::sync::Arc::new(homeward::clock::SystemClock),
        "hwtest:",
    )
    .await
    .unwrap();
    let error = homeward::startup::prepare(&state)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("homeward migrate up"), "{error}");
}

#[tokio::test]
async fn shutdown_stops_accepting_connections() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let url = app.url("/livez");
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    app.stop().await;
    assert!(
        reqwest::get(&url).await.is_err(),
        "still answering after shutdown"
    );
}
