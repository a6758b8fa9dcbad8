//! Without JavaScript a video lesson can be finished: "done" counts, recorded and shown as
//! self-reported, so the whole series and its certificate are within reach.

use super::{joined_phone, page, pass_quiz, press_done};
use crate::enrollment::count;
use crate::fixture;
use crate::helpers::{Options, TestApp, TestDatabase};

#[tokio::test]
async fn without_javascript_a_video_counts_as_self_reported_and_the_series_and_certificate_follow()
{
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    // Every published lesson is out.
    let app = TestApp::spawn(&db, Options::new("2030-02-01T00:00:00Z", content.path())).await;
    let phone = joined_phone(&app, "小芳", &[]).await;

    let video = page(&app, &phone, "/s/family/second-video").await;
    assert!(
        video.contains("我看完了") && video.contains("自己确认看完"),
        "the video page offers done and says how it counts: {video}"
    );
    for slug in ["first-comic", "second-video", "third-article"] {
        press_done(&app, &phone, slug).await;
        pass_quiz(&app, &phone, slug).await;
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM lesson_progress WHERE completed_at IS NOT NULL"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM lesson_progress WHERE self_reported_at IS NOT NULL"
        )
        .await,
        1,
        "only the video is the learner's word"
    );
    let video = page(&app, &phone, "/s/family/second-video").await;
    assert!(
        video.contains("视频是您自己确认看完的"),
        "shown honestly: {video}"
    );
    let comic = page(&app, &phone, "/s/family/first-comic").await;
    assert!(comic.contains("这一课您已完成") && !comic.contains("自己确认看完"));
    let home = page(&app, &phone, "/").await;
    assert!(
        home.contains("已完成 3 / 3 课") && home.contains("结业证书"),
        "{home}"
    );
    let certificate = phone
        .get(app.url("/s/family/certificate"))
        .send()
        .await
        .unwrap();
    assert_eq!(certificate.status(), 200);

    // The learner's export says which completion was self-reported.
    let export: serde_json::Value = phone
        .get(app.url("/me/export.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rows = export["tables"]["lesson_progress"]
        .as_array()
        .expect("progress rows");
    assert_eq!(
        rows.iter()
            .filter(|r| !r["self_reported_at"].is_null())
            .count(),
        1,
        "{export}"
    );
}

#[tokio::test]
async fn done_after_watching_the_video_is_not_self_reported() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new("2030-02-01T00:00:00Z", content.path())).await;
    let phone = joined_phone(&app, "阿强", &[]).await;
    let lesson = page(&app, &phone, "/s/family/second-video").await;
    let csrf = crate::enrollment::hidden(&lesson, "csrf");
    let watched = phone
        .post(app.url("/api/v1/progress/events"))
        .header("x-csrf-token", csrf)
        .json(&serde_json::json!({"events": [{"id": uuid::Uuid::new_v4(), "series": "family", "lesson": "second-video", "kind": "video_position", "seconds": 42.0, "duration": 42.0}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(watched.status(), 200);
    press_done(&app, &phone, "second-video").await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM lesson_progress WHERE self_reported_at IS NOT NULL"
        )
        .await,
        0
    );
}
