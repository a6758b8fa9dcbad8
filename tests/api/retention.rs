//! Retention: a purge leaves nothing older than its period, keeps what is newer and the merged
//! progress, and writes its counts to the audit log.

use chrono::Duration;
use homeward::clock::Clock;
use homeward::services::jobs::{self, NewJob};
use homeward::services::retention;
use sea_orm::ConnectionTrait;
use serde_json::json;

use crate::fixture;
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::progress::{enroll, send};

fn opened(lesson: &str) -> serde_json::Value {
    json!({"id": uuid::Uuid::new_v4(), "series": "family", "lesson": lesson, "kind": "opened"})
}

#[tokio::test]
async fn a_purge_leaves_nothing_older_than_its_period_and_audits_the_counts() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let app = TestApp::spawn(&db, Options::new(fixture::WEEK3, content.path())).await;
    let code = app.make_code(None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.1").await;
    let old_device = crate::helpers::phone();
    assert_eq!(
        old_device
            .get(app.url(&format!("/join/{}", code.token)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(send(&app, &learner, &[opened("first-comic")]).await.0, 200);
    let old_job = jobs::enqueue(
        &app.state.db,
        NewJob::new("test.old", json!({}), app.clock.now()),
        app.clock.now(),
    )
    .await
    .unwrap()
    .unwrap();
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE job SET state = 'dead' WHERE id = {old_job}"
        ))
        .await
        .unwrap();

    // Past every period: the events (180 days), sessions (180), scans (365), jobs (30).
    app.clock.advance(Duration::days(366));
    let newer = enroll(&app, &code.token, "10.0.0.2").await;
    assert_eq!(send(&app, &newer, &[opened("second-video")]).await.0, 200);

    let counts = retention::purge(&app.state).await.unwrap();
    assert_eq!(counts["progress_events"], 1);
    assert_eq!(counts["learner_sessions"], 1);
    assert_eq!(counts["code_scans"], 1);
    assert_eq!(counts["jobs"], 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM progress_event").await,
        1,
        "the newer event stays"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM learner_session").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM lesson_progress").await,
        2,
        "merged progress stays"
    );
    let cutoff = app.clock.now() - Duration::days(180);
    let older = app
        .count(&format!(
            "SELECT COUNT(*) FROM progress_event WHERE received_at < '{}'",
            cutoff.format("%Y-%m-%d")
        ))
        .await;
    assert_eq!(older, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE actor = 'retention' AND after_json LIKE '%\"progress_events\":1%'")
            .await,
        1
    );
    // A second purge finds nothing more.
    let again = retention::purge(&app.state).await.unwrap();
    assert!(again.values().all(|n| n == 0), "{again:?}");
}

/// Learners inactive for `HOMEWARD_RETAIN_INACTIVE_DAYS` are told once through the push's
/// channel (not when they stopped messages), deleted with everything about them after the grace
/// period unless they came back, and each run is audited with its counts.
#[tokio::test]
async fn inactive_learners_are_told_then_deleted_unless_they_come_back() {
    use homeward::services::push::prefs;

    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let options = Options::new(fixture::WEEK3, content.path()).with_settings(|settings| {
        settings.retain_inactive_days = 365;
        settings.inactive_grace_days = 30;
    });
    let app = TestApp::spawn(&db, options).await;
    let code = app.make_code(None, None).await;
    let idle = enroll(&app, &code.token, "10.0.0.1").await;
    let returner = enroll(&app, &code.token, "10.0.0.2").await;
    let active = enroll(&app, &code.token, "10.0.0.3").await;
    let muted = enroll(&app, &code.token, "10.0.0.4").await;
    assert_eq!(send(&app, &idle, &[opened("first-comic")]).await.0, 200);
    let stop = prefs::PushPrefs {
        muted: true,
        ..prefs::PushPrefs::default()
    };
    prefs::set(&app.state.db, muted.id, &stop, app.clock.now())
        .await
        .unwrap();
    let channel = crate::helpers::push::RecordingChannel::new();
    let worker = app.push_worker(channel.clone(), 1000);
    let start = app.clock.now();

    // 200 days on, one of them reads a lesson.
    app.clock.set(start + Duration::days(200));
    let again = crate::progress::Learner {
        id: active.id,
        token: app.new_learner_session(active.id).await,
    };
    assert_eq!(send(&app, &again, &[opened("second-video")]).await.0, 200);

    // A year after joining (20:00 in Shanghai, outside quiet hours): three are inactive; the two
    // who did not stop messages are told, once.
    app.clock.set(start + Duration::days(366));
    worker.run_due_jobs().await.unwrap();
    worker.run_due_jobs().await.unwrap();
    let mut told = channel.recipients();
    told.dedup();
    assert_eq!(channel.recipients(), told, "each told once");
    assert_eq!(told, vec![idle.id, returner.id]);
    let notice = &channel.sent()[0];
    assert_eq!(notice.url, "http://homeward.test/me");
    assert_eq!(notice.series_title, "30天后将删除您的数据");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM inactivity_notice WHERE state = 'muted'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE actor = 'retention' AND action = 'inactive_learners' AND after_json LIKE '%\"inactive_told\":3%'")
            .await,
        1
    );

    // One comes back within the grace period.
    app.clock.set(start + Duration::days(380));
    let back = app.new_learner_session(returner.id).await;
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me/progress"))
            .bearer_auth(&back)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Past the grace period: the others are deleted with everything about them.
    app.clock.set(start + Duration::days(397));
    worker.run_due_jobs().await.unwrap();
    // Past the grace period: the others are deleted with everything about them.
    app.clock.set(start + Duration::days(397));
    worker.run_due_jobs().await.unwrap();
    for row in app.state.db.query_all_raw(sea_orm::Statement::from_string(app.state.db.get_database_backend(), "SELECT CAST(learner_id AS TEXT) AS a, CAST(created_at AS TEXT) AS b FROM inactivity_notice UNION ALL SELECT CAST(learner_id AS TEXT), CAST(last_seen_at AS TEXT) FROM learner_session UNION ALL SELECT target, after_json FROM audit_log WHERE actor = 'retention'")).await.unwrap() {
        let a: String = row.try_get("", "a").unwrap();
        let b: String = row.try_get("", "b").unwrap();
        eprintln!("DEBUG {a} {b}");
    }
    for gone in [idle.id, muted.id] {
        for table in [
            "learner WHERE id",
            "lesson_progress WHERE learner_id",
            "consent WHERE learner_id",
            "inactivity_notice WHERE learner_id",
        ] {
            assert_eq!(
                app.count(&format!("SELECT COUNT(*) FROM {table} = {gone}"))
                    .await,
                0,
                "{table} {gone}"
            );
        }
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM audit_log WHERE actor = 'retention' AND action = 'delete_learner' AND target = 'learner:{gone}'"))
                .await,
            1
        );
    }
    for kept in [returner.id, active.id] {
        assert_eq!(
            app.count(&format!("SELECT COUNT(*) FROM learner WHERE id = {kept}"))
                .await,
            1
        );
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM inactivity_notice").await,
        0,
        "the notice of the one who came back is gone"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'inactive_learners' AND after_json LIKE '%\"inactive_deleted\":2%' AND after_json LIKE '%\"inactive_came_back\":1%'")
            .await,
        1
    );
    assert_eq!(channel.sent().len(), 2, "nothing more was sent");
}
