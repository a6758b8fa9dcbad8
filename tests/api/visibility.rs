//! DESIGN.md rule 1: nothing is visible before its release, on any path, even with warm caches.

use serde_json::json;

use crate::fixture::{self, WEEK1, WEEK2};
use crate::helpers::{Options, TestApp, TestDatabase};

/// Every learner path that touches the week-2 video lesson.
async fn week2_statuses(app: &TestApp) -> Vec<(String, u16)> {
    let mut statuses = Vec::new();
    for path in [
        "/s/family/second-video",
        "/s/family/second-video?lang=en",
        "/api/v1/series/family/lessons/second-video",
        "/media/family/second-video/clip.mp4",
        "/media/family/second-video/poster.svg",
        "/media/family/second-video/cap.zh.vtt",
    ] {
        statuses.push((path.to_owned(), app.status(path).await));
    }
    let form = app
        .client
        .post(app.url("/s/family/second-video/quiz"))
        .form(&[("q.q1", "b")])
        .send()
        .await
        .unwrap();
    statuses.push(("POST quiz form".into(), form.status().as_u16()));
    let api = app
        .client
        .post(app.url("/api/v1/series/family/lessons/second-video/quiz"))
        .json(&json!({"answers": {"q1": ["b"]}}))
        .send()
        .await
        .unwrap();
    statuses.push(("POST quiz api".into(), api.status().as_u16()));
    statuses
}

#[tokio::test]
async fn a_lesson_appears_exactly_at_its_release_on_every_path() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    // One second before week 2 comes out.
    let before: chrono::DateTime<chrono::Utc> = WEEK2.parse().unwrap();
    let before = before - chrono::Duration::seconds(1);
    let app = TestApp::spawn(&db, Options::new(&before.to_rfc3339(), content.path())).await;

    // Warm every cache with what is visible.
    for path in [
        "/",
        "/s/family",
        "/s/family/first-comic",
        "/api/v1/series",
        "/api/v1/series/family",
    ] {
        assert_eq!(app.status(path).await, 200, "{path}");
    }
    for (path, status) in week2_statuses(&app).await {
        assert_eq!(status, 404, "{path} must be 404 before the release");
    }
    let series = app.json("/api/v1/series/family").await;
    assert_eq!(series["released_count"], 1);
    assert_eq!(series["lessons"].as_array().unwrap().len(), 1);
    assert_eq!(series["current_lesson"]["slug"], "first-comic");
    let list = app.text("/s/family?lang=en").await;
    assert!(!list.contains("second-video") && !list.contains("Video second-video"));
    // The series page says when, never what.
    assert!(list.contains("Mon 14 Jan 2030, 20:00"), "{list}");
    let home = app.text("/?lang=en").await;
    assert!(!home.contains("second-video"));

    app.clock.advance(chrono::Duration::seconds(1));
    for (path, status) in week2_statuses(&app).await {
        assert!(
            status == 200 || status == 206,
            "{path} must be visible after the release, got {status}"
        );
    }
    let series = app.json("/api/v1/series/family").await;
    assert_eq!(series["released_count"], 2);
    assert_eq!(series["current_lesson"]["slug"], "second-video");
    assert!(app.text("/?lang=en").await.contains("Video second-video"));
}

#[tokio::test]
async fn drafts_are_never_visible() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new("2031-06-01T00:00:00Z", content.path())).await;
    for path in [
        "/s/family/fourth-draft",
        "/api/v1/series/family/lessons/fourth-draft",
        "/media/family/fourth-draft/a.en.md",
    ] {
        assert_eq!(app.status(path).await, 404, "{path}");
    }
    let series = app.json("/api/v1/series/family").await;
    assert_eq!(series["released_count"], 3);
    assert!(
        series["next_release_at"].is_null(),
        "a draft must not be announced"
    );
    assert!(!app.text("/s/family?lang=en").await.contains("fourth-draft"));
}

#[tokio::test]
async fn before_the_first_release_a_series_shows_only_when_it_starts() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let before: chrono::DateTime<chrono::Utc> = WEEK1.parse().unwrap();
    let app = TestApp::spawn(
        &db,
        Options::new(
            &(before - chrono::Duration::days(2)).to_rfc3339(),
            content.path(),
        ),
    )
    .await;
    let series = app.json("/api/v1/series/family").await;
    assert_eq!(series["released_count"], 0);
    assert_eq!(series["lessons"], json!([]));
    let next: chrono::DateTime<chrono::Utc> =
        series["next_release_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(next, before);
    assert_eq!(app.status("/s/family/first-comic").await, 404);
    let page = app.text("/s/family").await;
    assert!(page.contains("第一课还没有发布"), "{page}");
}
