//! Pacing per series: `pacing` in `series.toml` (calendar or from-join, from-join when left
//! out), kept through import and export; and in a series paced from joining, each learner's home
//! page and progress show *their* lesson — a worker who joins in week 3 starts at lesson 1 and
//! gets one released lesson a week — while every released lesson stays reachable.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::fixture::{self, write};
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::progress::{Learner, enroll};

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

/// The learner's current lesson of the series, as the API's progress gives it.
async fn api_current(app: &TestApp, learner: &Learner) -> String {
    let progress: Value = app
        .client
        .get(app.url("/api/v1/me/progress"))
        .bearer_auth(&learner.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    progress["series"][0]["current_lesson"]
        .as_str()
        .unwrap_or_else(|| panic!("no current lesson in {progress}"))
        .to_owned()
}

/// The lesson the learner's home page puts first ("this week").
async fn home_current(app: &TestApp, learner: &Learner) -> String {
    let page = app
        .client
        .get(app.url("/"))
        .header("cookie", format!("hw_session={}", learner.token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "lesson-link current big\" href=\"/s/family/";
    let start = page.find(marker).unwrap_or_else(|| panic!("{page}")) + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

async fn both(app: &TestApp, learner: &Learner) -> (String, String) {
    (
        home_current(app, learner).await,
        api_current(app, learner).await,
    )
}

fn pair(slug: &str) -> (String, String) {
    (slug.to_owned(), slug.to_owned())
}

#[tokio::test]
async fn a_worker_who_joins_late_starts_at_lesson_one_and_gets_one_lesson_a_week() {
    let content = fixture::paced_from_join();
    let db = TestDatabase::create().await;
    // Monday of week 1, an hour after lesson 1 came out: the first worker joins.
    let app = TestApp::spawn(&db, Options::new("2030-01-07T13:00:00Z", content.path())).await;
    let code = app.make_code(None, None).await;
    let early = enroll(&app, &code.token, "10.0.0.1").await;
    // Wednesday of week 3 (lessons 1–3 are out): the second worker joins.
    app.clock.set(at("2030-01-23T04:00:00Z"));
    let late = enroll(&app, &code.token, "10.0.0.2").await;

    assert_eq!(both(&app, &early).await, pair("third-article"));
    assert_eq!(both(&app, &late).await, pair("first-comic"));
    // The rest stay reachable for the late worker: the series lists all three, each opens.
    for slug in ["second-video", "third-article"] {
        let page = app
            .client
            .get(app.url(&format!("/s/family/{slug}")))
            .header("cookie", format!("hw_session={}", late.token))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200, "{slug}");
    }
    let series = app.json("/api/v1/series/family").await;
    assert_eq!(series["lessons"].as_array().unwrap().len(), 3, "{series}");
    // Someone who has not joined sees the series' newest lesson.
    assert!(
        app.text("/")
            .await
            .contains("href=\"/s/family/third-article\"")
    );

    // One week after joining: lesson 2, then lesson 3.
    app.clock.set(at("2030-01-30T03:59:59Z"));
    assert_eq!(both(&app, &late).await, pair("first-comic"));
    app.clock.set(at("2030-01-30T04:00:00Z"));
    assert_eq!(both(&app, &late).await, pair("second-video"));
    app.clock.set(at("2030-02-06T04:00:00Z"));
    assert_eq!(both(&app, &late).await, pair("third-article"));
    // Caught up (lesson 4 is a draft): the newest released lesson, never an unreleased one.
    app.clock.set(at("2030-02-13T04:00:00Z"));
    assert_eq!(both(&app, &late).await, pair("third-article"));
    assert_eq!(both(&app, &early).await, pair("third-article"));
}

#[tokio::test]
async fn a_calendar_series_shows_everyone_the_weeks_lesson() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new("2030-01-23T04:00:00Z", content.path())).await;
    let code = app.make_code(None, None).await;
    let late = enroll(&app, &code.token, "10.0.0.2").await;
    assert_eq!(both(&app, &late).await, pair("third-article"));
}

fn export(db: &TestDatabase, dir: &std::path::Path) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(["content", "export"])
        .arg(dir)
        .env("DATABASE_URL", &db.url)
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn pacing_is_imported_exported_and_from_join_when_left_out() {
    let content = fixture::paced_from_join();
    // A second series that does not say: paced from joining, as every new series.
    let unsaid = fixture::series_toml("Asia/Shanghai", "2030-01-07", "mon", "20:00")
        .replace("pacing = \"calendar\"\n", "");
    assert!(!unsaid.contains("pacing"));
    write(content.path(), "unsaid/series.toml", unsaid);
    fixture::comic(content.path(), "unsaid", "first-comic", 1, "published");
    // A third that says calendar.
    write(
        content.path(),
        "weekly/series.toml",
        fixture::series_toml("Asia/Shanghai", "2030-01-07", "mon", "20:00"),
    );
    fixture::comic(content.path(), "weekly", "first-comic", 1, "published");
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new("2030-01-23T04:00:00Z", content.path())).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM series WHERE pacing = 'from-join'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM series WHERE pacing = 'from-join' AND slug IN ('family', 'unsaid')")
            .await,
        2
    );

    let out = tempfile::tempdir().unwrap();
    export(&db, out.path());
    let file = |slug: &str| std::fs::read_to_string(out.path().join(slug).join("series.toml"));
    assert!(file("family").unwrap().contains("pacing = \"from-join\""));
    assert!(file("unsaid").unwrap().contains("pacing = \"from-join\""));
    assert!(file("weekly").unwrap().contains("pacing = \"calendar\""));
    // The exported files import as they were: nothing changes.
    let series = homeward::content::load_dir(out.path()).expect("the export passes content check");
    let paced: Vec<(String, &str)> = series
        .iter()
        .map(|s| (s.slug.to_string(), s.pacing.as_str()))
        .collect();
    assert_eq!(
        paced,
        vec![
            ("family".to_owned(), "from-join"),
            ("unsaid".to_owned(), "from-join"),
            ("weekly".to_owned(), "calendar"),
        ]
    );
}
