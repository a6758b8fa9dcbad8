//! What a learner earned stays earned: a missed week does not take the three-week badge away, and
//! one more lesson published does not take away a finished series' badge and certificate. Under
//! the injected clock.

use serde_json::Value;

use super::{joined_phone, page, pass_quiz, press_done};
use crate::enrollment::count;
use crate::fixture::{self, WEEK1, WEEK2, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

async fn my_progress(app: &TestApp, phone: &reqwest::Client) -> Value {
    let response = phone
        .get(app.url("/api/v1/me/progress"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn badges(progress: &Value) -> Vec<String> {
    progress["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_missed_week_and_a_new_lesson_take_nothing_earned_away() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK1, content.path())).await;
    let phone = joined_phone(&app, "小芳", &[]).await;
    for (week, slug) in [
        (WEEK1, "first-comic"),
        (WEEK2, "second-video"),
        (WEEK3, "third-article"),
    ] {
        app.clock.set(week.parse().unwrap());
        press_done(&app, &phone, slug).await;
        pass_quiz(&app, &phone, slug).await;
    }
    let progress = my_progress(&app, &phone).await;
    let family = &progress["series"][0];
    assert_eq!(family["streak"], 3);
    assert_eq!(family["best_streak"], 3);
    assert!(family["finished_at"].is_string(), "{progress}");
    let earned = badges(&progress);
    for badge in [
        "first_lesson",
        "three_lessons",
        "first_quiz_passed",
        "three_week_streak",
        "series_complete",
    ] {
        assert!(earned.contains(&badge.to_owned()), "{badge}: {earned:?}");
    }
    assert_eq!(
        progress["badges_earned"][0]["earned_at"], "2030-01-07T12:00:00+00:00",
        "each badge keeps the day it was earned: {progress}"
    );

    // One more lesson comes out in week 4, and the learner misses weeks 4 and 5.
    fixture::article(content.path(), "family", "fourth-draft", 4, "published");
    app.import().await;
    app.clock.set("2030-02-05T12:00:00Z".parse().unwrap());
    let progress = my_progress(&app, &phone).await;
    let family = &progress["series"][0];
    assert_eq!(family["released"], 4);
    assert_eq!(family["completed"], 3);
    assert_eq!(family["streak"], 0, "the streak broke");
    assert_eq!(family["best_streak"], 3, "the best streak is kept");
    assert!(
        family["finished_at"].is_string(),
        "the certificate stays: {progress}"
    );
    assert_eq!(badges(&progress), earned, "no badge is taken away");

    let home = page(&app, &phone, "/").await;
    assert!(
        home.contains("已完成 3 / 4 课") && home.contains("最长连续 3 周"),
        "{home}"
    );
    assert!(home.contains("🔥 连续3周") && home.contains("🎓 学完一整套课程"));
    assert!(home.contains("/s/family/certificate"), "{home}");
    let certificate = phone
        .get(app.url("/s/family/certificate"))
        .send()
        .await
        .unwrap();
    assert_eq!(certificate.status(), 200);
    let certificate = certificate.text().await.unwrap();
    assert!(certificate.contains("2030年1月21日"), "{certificate}");

    // What was earned is the learner's data: in their export, gone with their account.
    let export: Value = phone
        .get(app.url("/me/export.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let awards = export["tables"]["learner_award"].as_array().unwrap();
    assert!(
        awards
            .iter()
            .any(|a| a["kind"] == "certificate" && a["subject"] == "family" && a["amount"] == 3),
        "{export}"
    );
    assert!(
        awards
            .iter()
            .any(|a| a["kind"] == "best_streak" && a["amount"] == 3)
    );
    let me = page(&app, &phone, "/me").await;
    let csrf = crate::enrollment::hidden(&me, "csrf");
    let deleted = phone
        .post(app.url("/me/delete"))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success() || deleted.status().is_redirection());
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner_award").await, 0);
}

#[tokio::test]
async fn without_a_completion_nothing_is_earned_or_stored() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let phone = joined_phone(&app, "阿强", &[]).await;
    let progress = my_progress(&app, &phone).await;
    assert!(badges(&progress).is_empty());
    assert_eq!(progress["series"][0]["best_streak"], 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner_award").await, 0);
}
