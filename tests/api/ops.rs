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

/// The README's metrics table: each metric without labels, and whether it is a counter.
fn readme_metrics_without_labels() -> Vec<(String, bool)> {
    let readme = include_str!("../../README.md");
    let table = readme
        .split("| metric | type | labels |")
        .nth(1)
        .expect("the README has a metrics table");
    let mut found = Vec::new();
    for row in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let (names, kind, labels) = (cells[1], cells[2], cells[3]);
        if labels != "—" {
            continue;
        }
        for (i, name) in names.split('`').enumerate() {
            if i % 2 == 1 {
                found.push((name.to_owned(), kind.contains("counter")));
            }
        }
    }
    found
}

/// A fresh `homeward serve` lists every metric of the README's table that has no labels in its
/// very first scrape, error counters at 0: an operator's alert on `cache_errors_total` works before
/// the first error.
#[tokio::test]
async fn every_metric_is_listed_from_the_start() {
    let metrics_listed = readme_metrics_without_labels();
    assert!(
        metrics_listed
            .iter()
            .any(|(name, _)| name == "cache_errors_total"),
        "{metrics_listed:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let _server = tokio::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .arg("serve")
        .current_dir(dir.path())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", dir.path().join("hw.db").display()),
        )
        .env_remove("REDIS_URL")
        .env("HOMEWARD_BIND", format!("127.0.0.1:{port}"))
        .env("HOMEWARD_CONTENT_DIR", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start homeward serve");
    let base = format!("http://127.0.0.1:{port}");
    let mut tries = 0;
    while reqwest::get(format!("{base}/livez")).await.is_err() {
        tries += 1;
        assert!(tries < 600, "homeward serve did not answer");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let scrape = reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for (name, counter) in metrics_listed {
        let line = scrape
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name.as_str()));
        let Some(line) = line else {
            panic!("{name} is not in the first scrape:\n{scrape}");
        };
        let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
        assert!(value >= 0.0, "{line}");
        if counter && (name.ends_with("errors_total") || name.ends_with("refused_total")) {
            assert_eq!(value, 0.0, "nothing has failed yet: {line}");
        }
    }
}
