//! The job runner under the test's clock: jobs run once across two instances, retries back off
//! and end in the dead letters, expired leases are taken over, periodic work is scheduled once
//! per period, a stopping worker drains, and admins see and retry jobs (page, API, metrics).

use std::sync::{Arc, Mutex};

use chrono::Duration;
use homeward::clock::Clock;
use homeward::jobs::{JobError, Registry, Worker, WorkerOptions};
use homeward::services::jobs::{self, NewJob};
use homeward::services::staff::Role;
use serde_json::json;

use crate::fixture;
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::staff::{cookie, csrf, sign_in};

async fn app(db: &TestDatabase) -> TestApp {
    let content = fixture::standard();
    TestApp::spawn_empty(db, Options::new(fixture::WEEK1, content.path())).await
}

/// A registry whose `test.record` jobs note their payload's `n`, and whose `test.fail` jobs
/// always fail.
fn recording(seen: Arc<Mutex<Vec<i64>>>) -> Registry {
    let mut registry = Registry::standard();
    registry.register("test.record", move |_ctx, payload| {
        let seen = seen.clone();
        async move {
            seen.lock().unwrap().push(payload["n"].as_i64().unwrap());
            Ok(())
        }
    });
    registry.register("test.fail", |_ctx, _payload| async {
        Err(JobError::Retry(anyhow::anyhow!("the stand-in said 503")))
    });
    registry
}

fn worker(app: &TestApp, registry: Registry) -> Worker {
    Worker::new(app.state.ctx.clone(), registry, WorkerOptions::default())
}

async fn enqueue(app: &TestApp, job: NewJob) -> Option<i64> {
    jobs::enqueue(&app.state.db, job, app.clock.now())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_job_runs_once_when_due_and_a_unique_key_makes_it_exist_once() {
    let db = TestDatabase::create().await;
    let app = app(&db).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let worker = worker(&app, recording(seen.clone()));
    let now = app.clock.now();

    let later = NewJob::new("test.record", json!({"n": 1}), now)
        .unique("only-once")
        .at(now + Duration::hours(1));
    assert!(enqueue(&app, later.clone()).await.is_some());
    assert_eq!(
        enqueue(&app, later).await,
        None,
        "the same key again is a no-op"
    );

    worker.run_due_jobs().await.unwrap();
    assert!(seen.lock().unwrap().is_empty(), "not due yet");

    app.clock.advance(Duration::hours(1));
    worker.run_due_jobs().await.unwrap();
    worker.run_due_jobs().await.unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![1]);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job WHERE kind = 'test.record' AND state = 'done'")
            .await,
        1
    );
}

#[tokio::test]
async fn failures_back_off_exponentially_then_go_to_the_dead_letters() {
    let db = TestDatabase::create().await;
    let app = app(&db).await;
    let worker = worker(&app, recording(Arc::default()));
    let id = enqueue(
        &app,
        NewJob::new("test.fail", json!({}), app.clock.now()).attempts(3),
    )
    .await
    .unwrap();
    let state = |sql: &'static str| {
        let app = &app;
        async move { app.count(sql).await }
    };

    assert_eq!(worker.run_due_jobs().await.unwrap().failed, 1);
    // Retried after 30 s, then 60 s: not a moment before.
    app.clock.advance(Duration::seconds(29));
    assert_eq!(worker.run_due_jobs().await.unwrap().failed, 0);
    app.clock.advance(Duration::seconds(1));
    assert_eq!(worker.run_due_jobs().await.unwrap().failed, 1);
    app.clock.advance(Duration::seconds(59));
    assert_eq!(worker.run_due_jobs().await.unwrap().dead, 0);
    app.clock.advance(Duration::seconds(1));
    assert_eq!(worker.run_due_jobs().await.unwrap().dead, 1);
    assert_eq!(
        state("SELECT COUNT(*) FROM job WHERE state = 'dead' AND attempts = 3 AND last_error LIKE '%503%'").await,
        1
    );
    app.clock.advance(Duration::days(1));
    let report = worker.run_due_jobs().await.unwrap();
    assert_eq!((report.failed, report.dead), (0, 0), "dead jobs stay dead");

    // A job of a kind nobody handles is dead at once.
    enqueue(
        &app,
        NewJob::new("no.such.kind", json!({}), app.clock.now()),
    )
    .await;
    assert_eq!(worker.run_due_jobs().await.unwrap().dead, 1);
    let rows = jobs::list(&app.state, &["dead"], 10).await.unwrap();
    assert!(rows.iter().any(|r| r.id == id));
    assert!(
        rows.iter()
            .any(|r| r.last_error.as_deref() == Some("no handler for job kind 'no.such.kind'"))
    );
}

#[tokio::test]
async fn two_instances_run_each_job_exactly_once() {
    let db = TestDatabase::create().await;
    let first = app(&db).await;
    let second = app(&db).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let now = first.clock.now();
    for n in 0..60 {
        enqueue(&first, NewJob::new("test.record", json!({"n": n}), now)).await;
    }
    let a = worker(&first, recording(seen.clone()));
    let b = worker(&second, recording(seen.clone()));
    let (ra, rb) = tokio::join!(a.run_due_jobs(), b.run_due_jobs());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let periodic = homeward::jobs::PERIODIC.len() as u32;
    assert_eq!(ra.done + rb.done, 60 + periodic, "{ra:?} {rb:?}");
    let mut seen = seen.lock().unwrap().clone();
    seen.sort();
    assert_eq!(seen, (0..60).collect::<Vec<_>>(), "each job ran once");
}

#[tokio::test]
async fn a_crashed_workers_job_is_taken_over_when_its_lease_expires() {
    let db = TestDatabase::create().await;
    let app = app(&db).await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    enqueue(
        &app,
        NewJob::new("test.record", json!({"n": 7}), app.clock.now()),
    )
    .await;
    // A worker claims it and dies without finishing.
    let claimed = jobs::claim(&app.state.db, "crashed-worker", 10, app.clock.now())
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);

    let survivor = worker(&app, recording(seen.clone()));
    survivor.run_due_jobs().await.unwrap();
    assert!(seen.lock().unwrap().is_empty(), "still leased");
    app.clock.advance(jobs::LEASE + Duration::seconds(1));
    let report = survivor.run_due_jobs().await.unwrap();
    assert_eq!(report.reclaimed, 1);
    assert_eq!(*seen.lock().unwrap(), vec![7]);

    // The dead worker's late answer changes nothing.
    jobs::complete(
        &app.state.db,
        &claimed[0],
        "crashed-worker",
        app.clock.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job WHERE state = 'done' AND attempts = 2")
            .await,
        1
    );
}

#[tokio::test]
async fn periodic_work_is_scheduled_once_per_period_across_instances() {
    let db = TestDatabase::create().await;
    let first = app(&db).await;
    let second = app(&db).await;
    let a = worker(&first, Registry::standard());
    let b = worker(&second, Registry::standard());
    let (ra, rb) = tokio::join!(a.run_due_jobs(), b.run_due_jobs());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let periodic = homeward::jobs::PERIODIC.len() as u32;
    assert_eq!(ra.scheduled + rb.scheduled, periodic);
    let purges = "SELECT COUNT(*) FROM audit_log WHERE actor = 'retention' AND action = 'purge'";
    assert_eq!(first.count(purges).await, 1);
    a.run_due_jobs().await.unwrap();
    b.run_due_jobs().await.unwrap();
    assert_eq!(first.count(purges).await, 1, "once per period");
    first.clock.advance(Duration::hours(6));
    a.run_due_jobs().await.unwrap();
    b.run_due_jobs().await.unwrap();
    assert_eq!(first.count(purges).await, 2, "again in the next period");
}

#[tokio::test]
async fn a_stopping_worker_lets_its_running_job_finish_and_claims_nothing_more() {
    let db = TestDatabase::create().await;
    let app = app(&db).await;
    let started = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let mut registry = Registry::standard();
    {
        let (started, release) = (started.clone(), release.clone());
        registry.register("test.slow", move |_ctx, _payload| {
            let (started, release) = (started.clone(), release.clone());
            async move {
                started.notify_one();
                release.notified().await;
                Ok(())
            }
        });
    }
    let options = WorkerOptions {
        poll: std::time::Duration::from_millis(5),
        ..WorkerOptions::default()
    };
    let worker = Worker::new(app.state.ctx.clone(), registry, options);
    enqueue(&app, NewJob::new("test.slow", json!({}), app.clock.now())).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(homeward::jobs::run_until_stopped(worker, stopped));
    started.notified().await;
    stop.send(true).unwrap();
    enqueue(
        &app,
        NewJob::new("test.slow", json!({"late": true}), app.clock.now()),
    )
    .await;
    release.notify_one();
    running.await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job WHERE kind = 'test.slow' AND state = 'done'")
            .await,
        1,
        "the running job finished"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job WHERE kind = 'test.slow' AND state = 'queued'")
            .await,
        1,
        "nothing claimed after the stop"
    );
}

#[tokio::test]
async fn admins_see_failed_jobs_with_their_error_and_retry_them() {
    let db = TestDatabase::create().await;
    let app = app(&db).await;
    let metrics = app.text("/metrics").await;
    for gauge in [
        "jobs_queued",
        "jobs_running",
        "jobs_failed",
        "jobs_oldest_queued_age_seconds",
    ] {
        assert!(
            metrics.contains(gauge),
            "{gauge} missing before any job: {metrics}"
        );
    }
    let worker = worker(&app, recording(Arc::default()));
    let id = enqueue(
        &app,
        NewJob::new("test.fail", json!({}), app.clock.now()).attempts(1),
    )
    .await
    .unwrap();
    worker.run_due_jobs().await.unwrap();

    let admin = sign_in(&app, "admin@example.org", Role::Admin, None).await;
    let editor = sign_in(&app, "editor@example.org", Role::Editor, None).await;
    let page = |token: String, lang: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&format!("/admin/jobs?lang={lang}")))
                .header("cookie", cookie(&token))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(page(editor.clone(), "zh").await.status(), 403);
    let zh = page(admin.clone(), "zh").await.text().await.unwrap();
    assert!(
        zh.contains("后台任务") && zh.contains("已放弃") && zh.contains("重试"),
        "{zh}"
    );
    assert!(zh.contains("the stand-in said 503"));
    assert!(zh.contains(&format!("/admin/jobs/{id}/retry")));
    let en = page(admin.clone(), "en").await.text().await.unwrap();
    assert!(en.contains("Background jobs") && en.contains("Dead") && en.contains("Retry"));

    // Without the CSRF token nothing changes.
    let forged = app
        .client
        .post(app.url(&format!("/admin/jobs/{id}/retry")))
        .header("cookie", cookie(&admin))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM job WHERE state = 'dead'")
            .await,
        1
    );

    let token = csrf(&app, &admin, "/admin/jobs").await;
    let retried = app
        .client
        .post(app.url(&format!("/admin/jobs/{id}/retry")))
        .header("cookie", cookie(&admin))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 303);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM job WHERE id = {id} AND state = 'queued' AND attempts = 0"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'retry_job'")
            .await,
        1
    );
    let metrics = app.text("/metrics").await;
    assert!(metrics.lines().any(|l| l == "jobs_queued 1"), "{metrics}");

    // The API shows the same queue, to admins only.
    let api = app
        .client
        .get(app.url("/api/v1/admin/jobs"))
        .header("cookie", cookie(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 200);
    let body: serde_json::Value = api.json().await.unwrap();
    assert_eq!(body["queued"], 1);
    assert_eq!(body["jobs"][0]["kind"], "test.fail");
    let denied = app
        .client
        .get(app.url("/api/v1/admin/jobs"))
        .header("cookie", cookie(&editor))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
}
