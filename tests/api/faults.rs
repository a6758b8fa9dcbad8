//! Faults: what a learner's phone and an operator see when clocks disagree, batches race,
//! PostgreSQL or Redis fail, or clients are slow. Each test drives the fault itself (a proxy it
//! controls, a clock it moves) through the real server.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::enrollment::{make_code, spawn};
use crate::fixture::{self, WEEK3};
use crate::helpers::proxy::{Proxy, eventually};
use crate::helpers::{Options, TestApp, TestDatabase, test_database_server};
use crate::progress::{enroll, send};

fn panel_event(id: Uuid, panel: u32, client_time: &str) -> Value {
    json!({"id": id, "series": "family", "lesson": "first-comic", "kind": "panel_viewed",
           "panel": panel, "client_time": client_time})
}

#[tokio::test]
async fn an_identical_resend_from_a_phone_whose_clock_is_ahead_is_a_duplicate() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.1").await;
    // The server's clock says 12:00; the phone's says 13:00.
    let sent = panel_event(Uuid::new_v4(), 0, "2030-01-21T13:00:00Z");
    let (status, body) = send(&app, &learner, std::slice::from_ref(&sent)).await;
    assert_eq!(
        (status, body["results"][0]["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    app.clock.advance(chrono::Duration::minutes(1));
    let (status, body) = send(&app, &learner, std::slice::from_ref(&sent)).await;
    assert_eq!(
        (
            status,
            body["results"][0]["status"].as_str(),
            body["results"][0]["code"].as_u64()
        ),
        (200, Some("duplicate"), Some(200)),
        "the same event sent again is a duplicate, whatever the phone's clock says: {body}"
    );
}

/// The `host:port` of a PostgreSQL URL.
fn host_port(url: &str) -> String {
    let rest = url.split_once("://").unwrap().1;
    let authority = rest.split('/').next().unwrap();
    authority.rsplit('@').next().unwrap().to_owned()
}

/// Answers to `path` for a signed-in learner: (status, Retry-After).
async fn answer(app: &TestApp, token: &str, path: &str) -> (u16, Option<String>) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), retry_after)
}

#[tokio::test]
async fn database_connections_cut_by_a_restart_or_refused_are_503_with_retry_after() {
    if test_database_server().is_none() {
        // PostgreSQL's connection faults: part of the PostgreSQL run.
        return;
    }
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let proxy = Proxy::start(&host_port(&db.url)).await;
    let mut options = Options::new(WEEK3, content.path());
    options.database_url = Some(proxy.url_through(&db.url));
    let app = TestApp::spawn(&db, options).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.1").await;
    let paths = [
        "/api/v1/me/progress",
        "/api/v1/me",
        &format!("/join/{}", code.token),
    ];
    for path in paths {
        assert_eq!(answer(&app, &learner.token, path).await.0, 200, "{path}");
    }

    // The server ends every connection, as a restart or an administrator does.
    let admin = sea_orm::Database::connect(db.url.clone()).await.unwrap();
    admin
        .execute_unprepared(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut unavailable = 0;
    for _ in 0..3 {
        for path in paths {
            let (status, retry_after) = answer(&app, &learner.token, path).await;
            assert!(
                status == 200 || status == 503,
                "{path} after the connections were terminated: {status}"
            );
            if status == 503 {
                unavailable += 1;
                assert!(retry_after.is_some(), "{path}: 503 without Retry-After");
            }
        }
    }
    assert!(unavailable > 0, "terminated connections went unnoticed");

    // Connections reset, then the server refuses new ones (it is down).
    proxy.refuse().await;
    for path in paths {
        let (status, retry_after) = answer(&app, &learner.token, path).await;
        assert_eq!(
            (status, retry_after.as_deref()),
            (503, Some("5")),
            "{path} with the database down"
        );
    }

    // Back up: the pool recovers by itself.
    proxy.forward().await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            answer(&app, &learner.token, "/api/v1/me/progress").await.0 == 200
        })
        .await,
        "the server did not recover when the database came back"
    );
}

#[tokio::test]
async fn concurrent_batches_holding_the_same_events_in_another_order_all_succeed() {
    // On SQLite writers take turns; on PostgreSQL these batches used to deadlock.
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = Arc::new(spawn(&db, &content).await);
    let code = make_code(&app, None, None).await;
    let learner = Arc::new(enroll(&app, &code.token, "10.0.0.1").await);
    let mut total = 0;
    for _round in 0..3 {
        let mut tasks = Vec::new();
        for _pair in 0..8 {
            let events: Vec<Value> = (0..100)
                .map(|panel| panel_event(Uuid::new_v4(), panel % 2, "2030-01-21T11:00:00Z"))
                .collect();
            total += events.len();
            let reversed: Vec<Value> = events.iter().rev().cloned().collect();
            for batch in [events, reversed] {
                let (app, learner) = (app.clone(), learner.clone());
                tasks.push(tokio::spawn(
                    async move { send(&app, &learner, &batch).await },
                ));
            }
        }
        for task in tasks {
            let (status, body) = task.await.unwrap();
            assert_eq!(status, 200, "{body}");
            let statuses: Vec<&str> = body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["status"].as_str().unwrap())
                .collect();
            assert!(
                statuses
                    .iter()
                    .all(|s| *s == "accepted" || *s == "duplicate"),
                "{statuses:?}"
            );
        }
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM progress_event").await,
        total as i64
    );
}
