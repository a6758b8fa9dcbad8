//! Import is idempotent and keyed by slugs; removed lessons are unpublished, never deleted.

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

#[tokio::test]
async fn importing_twice_writes_nothing_the_second_time() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn_empty(&db, Options::new(WEEK3, content.path())).await;
    let first = app.import().await;
    assert_eq!((first.series_written, first.lessons_created), (1, 4));
    let second = app.import().await;
    assert!(!second.changed_anything(), "{second:?}");
    assert_eq!(second.lessons_unchanged, 4);
}

#[tokio::test]
async fn a_changed_lesson_is_updated_and_shows_at_once() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let page = app.text("/s/family/third-article?lang=en").await;
    assert!(page.contains("Listen to your child."));

    fixture::write(
        content.path(),
        "family/third-article/a.en.md",
        "Call every Sunday.\n",
    );
    let counts = app.import().await;
    assert_eq!((counts.lessons_updated, counts.lessons_created), (1, 0));
    let page = app.text("/s/family/third-article?lang=en").await;
    assert!(
        page.contains("Call every Sunday."),
        "the cached page was not refreshed"
    );
}

#[tokio::test]
async fn a_removed_lesson_is_unpublished_not_deleted() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    assert_eq!(app.status("/s/family/first-comic").await, 200);

    std::fs::remove_dir_all(content.path().join("family/first-comic")).unwrap();
    let counts = app.import().await;
    assert_eq!(counts.lessons_unpublished, 1);
    assert_eq!(app.status("/s/family/first-comic").await, 404);
    assert_eq!(app.status("/media/family/first-comic/p1.svg").await, 404);
    // The row is still there, as a draft, so progress attached to it is kept.
    let catalog = homeward::store::content::catalog(&app.state.db)
        .await
        .unwrap();
    let lesson = catalog
        .series("family")
        .unwrap()
        .lessons
        .iter()
        .find(|l| l.slug == "first-comic")
        .unwrap();
    assert_eq!(lesson.status, homeward::domain::LessonStatus::Draft);

    // Putting it back publishes it again.
    fixture::comic(content.path(), "family", "first-comic", 1, "published");
    app.import().await;
    assert_eq!(app.status("/s/family/first-comic").await, 200);
}

#[tokio::test]
async fn release_times_follow_the_series_timezone() {
    let content = tempfile::tempdir().unwrap();
    let root = content.path();
    // New York, Sundays 09:00, across the end of daylight saving time on 2030-11-03.
    fixture::write(
        root,
        "ny/series.toml",
        fixture::series_toml("America/New_York", "2030-10-27", "sun", "09:00"),
    );
    fixture::article(root, "ny", "one", 1, "published");
    fixture::article(root, "ny", "two", 2, "published");
    // An explicit local release time overrides the cadence.
    fixture::article(root, "ny", "three", 3, "published");
    let lesson = root.join("ny/three/lesson.toml");
    let text = std::fs::read_to_string(&lesson)
        .unwrap()
        .replace("week = 3", "week = 3\nrelease_at = 2030-11-05T18:30:00");
    std::fs::write(&lesson, text).unwrap();
    // Shanghai, for contrast: Monday 07:00 local is Sunday 23:00 UTC.
    fixture::write(
        root,
        "sh/series.toml",
        fixture::series_toml("Asia/Shanghai", "2030-10-28", "mon", "07:00"),
    );
    fixture::article(root, "sh", "one", 1, "published");

    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new("2031-01-01T00:00:00Z", root)).await;
    let release = |json: &serde_json::Value, slug: &str| {
        json["lessons"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["slug"] == slug)
            .unwrap()["release_at"]
            .as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    let ny = app.json("/api/v1/series/ny").await;
    assert_eq!(
        release(&ny, "one"),
        "2030-10-27T13:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(
        release(&ny, "two"),
        "2030-11-03T14:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    assert_eq!(
        release(&ny, "three"),
        "2030-11-05T23:30:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
    let sh = app.json("/api/v1/series/sh").await;
    assert_eq!(
        release(&sh, "one"),
        "2030-10-27T23:00:00Z"
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    );
}
