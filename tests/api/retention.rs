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
