//! Faults: what a learner's phone and an operator see when clocks disagree, batches race,
//! PostgreSQL or Redis fail, or clients are slow. Each test drives the fault itself (a proxy it
//! controls, a clock it moves) through the real server.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, TransactionTrait};
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

/// A request that will be answered 503 when it runs out of time, and a phone that waits longer.
fn patient_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(9))
        .build()
        .unwrap()
}

#[tokio::test]
async fn readyz_stays_ready_while_every_pooled_connection_is_busy() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let max = match app.state.db.get_database_backend() {
        sea_orm::DbBackend::Postgres => app
            .state
            .db
            .get_postgres_connection_pool()
            .options()
            .get_max_connections(),
        _ => app
            .state
            .db
            .get_sqlite_connection_pool()
            .options()
            .get_max_connections(),
    };
    // A load spike: every connection of the pool is taken.
    let mut held = Vec::new();
    for _ in 0..max {
        held.push(
            app.state
                .db
                .begin()
                .await
                .expect("take a pooled connection"),
        );
    }
    let response = app.get("/readyz").await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        (status, body["database"]["status"].as_str()),
        (200, Some("busy")),
        "a busy pool is not a database down: {body}"
    );
    drop(held);
    assert_eq!(app.json("/readyz").await["database"]["status"], "up");
}

#[tokio::test]
async fn a_request_behind_a_lock_held_elsewhere_gives_up_in_time_with_503() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let options = Options::new(WEEK3, content.path()).with_settings(|s| s.request_timeout = 3);
    let app = TestApp::spawn(&db, options).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.1").await;
    // Another program holds the lock a progress event needs (PostgreSQL: the table; SQLite: the
    // file's write lock).
    let other = homeward::store::connect(&db.url).await.unwrap();
    let txn = other.begin().await.unwrap();
    let lock = match txn.get_database_backend() {
        sea_orm::DbBackend::Postgres => "LOCK TABLE progress_event IN ACCESS EXCLUSIVE MODE",
        _ => "DELETE FROM progress_event WHERE 1 = 0",
    };
    txn.execute_unprepared(lock).await.unwrap();
    let response = patient_client()
        .post(app.url("/api/v1/progress/events"))
        .bearer_auth(&learner.token)
        .json(&json!({"events": [panel_event(Uuid::new_v4(), 0, "2030-01-21T11:00:00Z")]}))
        .send()
        .await
        .expect("an answer before the phone gives up");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    txn.rollback().await.unwrap();
    let (status, body) = send(
        &app,
        &learner,
        &[panel_event(Uuid::new_v4(), 0, "2030-01-21T11:00:00Z")],
    )
    .await;
    assert_eq!(
        (status, body["accepted"].as_u64()),
        (200, Some(1)),
        "{body}"
    );
}

#[tokio::test]
async fn a_request_over_a_silent_database_link_gives_up_in_time_with_503() {
    if test_database_server().is_none() {
        // A silent network link to PostgreSQL: part of the PostgreSQL run.
        return;
    }
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let proxy = Proxy::start(&host_port(&db.url)).await;
    let mut options = Options::new(WEEK3, content.path()).with_settings(|s| s.request_timeout = 3);
    options.database_url = Some(proxy.url_through(&db.url));
    let app = TestApp::spawn(&db, options).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.1").await;
    proxy.pause();
    let response = patient_client()
        .get(app.url("/api/v1/me/progress"))
        .bearer_auth(&learner.token)
        .send()
        .await
        .expect("an answer before the phone gives up");
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
    proxy.forward().await;
    assert!(
        eventually(Duration::from_secs(15), || async {
            answer(&app, &learner.token, "/api/v1/me/progress").await.0 == 200
        })
        .await,
        "the server did not recover when the link came back"
    );
}

#[tokio::test]
async fn logs_written_to_a_pipe_have_no_colour_codes() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/h.db?mode=rwc", dir.path().display()),
        )
        .env("HOMEWARD_BIND", "127.0.0.1:0")
        .env("HOMEWARD_WORKER", "false")
        .env(
            "HOMEWARD_CONTENT_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/content"),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut log = String::new();
    let started = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            log.push_str(&line);
            log.push('\n');
            if line.contains("listening") {
                return true;
            }
        }
        false
    })
    .await;
    child.kill().await.unwrap();
    assert_eq!(started, Ok(true), "the server did not start: {log}");
    assert!(
        !log.contains('\u{1b}'),
        "colour codes in a piped log: {log:?}"
    );
}

#[tokio::test]
async fn a_request_cut_off_at_the_shutdown_deadline_is_logged_and_an_error() {
    use homeward::http::observe::ShutdownWatch;
    use tokio::io::AsyncWriteExt;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let options = Options::new(WEEK3, content.path()).with_settings(|s| {
        s.request_timeout = 60;
        s.shutdown_timeout = 1;
    });
    let app = TestApp::spawn(&db, options).await;
    let (acceptor, local) = homeward::startup::bind("127.0.0.1:0").await.unwrap();
    let watch = Arc::new(ShutdownWatch::default());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(homeward::startup::serve_watched(
        app.state.clone(),
        acceptor,
        async move {
            let _ = stopped.await;
        },
        watch.clone(),
    ));
    // A request whose body never finishes, still running when the server is told to stop.
    let mut stream = tokio::net::TcpStream::connect(local).await.unwrap();
    stream
        .write_all(b"POST /api/v1/progress/events HTTP/1.1\r\nHost: homeward.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"events\":")
        .await
        .unwrap();
    assert!(
        eventually(Duration::from_secs(10), || async { watch.running() == 1 }).await,
        "the request never started"
    );
    stop.send(()).unwrap();
    let result = tokio::time::timeout(Duration::from_secs(20), server)
        .await
        .expect("the server stops at its deadline")
        .unwrap();
    let error = result.expect_err("a request was cut off, so stopping is an error");
    assert!(
        error.to_string().contains("1 request(s) cut off"),
        "{error}"
    );
    assert_eq!(watch.cut_off(), 1);
    drop(stream);
}

/// Issue 11, item 8, end to end: the real binary, its database refusing connections; each
/// failed request is one WARN line ("database unavailable; answered 503") with its cause, in
/// the request's span, and no ERROR line.
#[tokio::test]
async fn each_503_is_logged_once_at_warn_with_its_cause() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    if test_database_server().is_none() {
        // A database that refuses connections: part of the PostgreSQL run.
        return;
    }
    let db = TestDatabase::create().await;
    let migrate = sea_orm::Database::connect(&db.url).await.unwrap();
    homeward::store::migrate_up(&migrate).await.unwrap();
    migrate.close().await.unwrap();
    let proxy = Proxy::start(&host_port(&db.url)).await;
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATABASE_URL", proxy.url_through(&db.url))
        .env(
            "HOMEWARD_SECRET_KEY",
            "a-test-secret-key-of-at-least-32-characters",
        )
        .env("HOMEWARD_BIND", "127.0.0.1:0")
        .env("HOMEWARD_WORKER", "false")
        .env("LOG_FORMAT", "json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (address_tx, address_rx) = tokio::sync::oneshot::channel::<String>();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let reader = {
        let log = log.clone();
        tokio::spawn(async move {
            let mut address_tx = Some(address_tx);
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("homeward is listening") {
                    let parsed: Value = serde_json::from_str(&line).unwrap_or_default();
                    if let (Some(tx), Some(address)) =
                        (address_tx.take(), parsed["address"].as_str())
                    {
                        let _ = tx.send(address.to_owned());
                    }
                }
                log.lock().unwrap().push(line);
            }
        })
    };
    let address = tokio::time::timeout(Duration::from_secs(60), address_rx)
        .await
        .unwrap_or_else(|_| panic!("the server did not start: {:?}", log.lock().unwrap()))
        .unwrap();

    proxy.refuse().await;
    let client = patient_client();
    let ids: Vec<String> = (0..3)
        .map(|i| format!("refused-{i}-{}", Uuid::new_v4()))
        .collect();
    let answers = futures::future::join_all(ids.iter().map(|id| {
        client
            .get(format!("http://{address}/api/v1/series/family"))
            .header("x-request-id", id)
            .send()
    }))
    .await;
    for answer in answers {
        let answer = answer.expect("an answer");
        assert_eq!(answer.status(), 503);
        assert!(answer.headers().contains_key("retry-after"));
    }
    // The request's lines are written before its answer; give the pipe a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    child.kill().await.unwrap();
    reader.await.unwrap();
    let log = log.lock().unwrap();
    for id in &ids {
        let lines: Vec<Value> = log
            .iter()
            .filter(|l| l.contains(id.as_str()))
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let at =
            |level: &str| -> Vec<&Value> { lines.iter().filter(|l| l["level"] == level).collect() };
        assert!(at("ERROR").is_empty(), "a 503 logged at ERROR: {lines:#?}");
        let warnings = at("WARN");
        assert_eq!(warnings.len(), 1, "one WARN line per 503: {lines:#?}");
        // JSON lines are flat: the event's fields beside its level, the request's span below.
        let warning = warnings[0];
        assert_eq!(warning["message"], "database unavailable; answered 503");
        let cause = warning["error"].as_str().unwrap_or_default();
        assert!(
            cause.to_lowercase().contains("connection"),
            "the cause is named: {warning}"
        );
        assert_eq!(
            at("INFO").len(),
            1,
            "and the request's own line: {lines:#?}"
        );
    }
}
