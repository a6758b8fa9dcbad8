//! Review what you missed: wrongly answered questions come back on the home's review card after
//! 1, 3, 7 and 21 days (Leitner boxes: right moves a question up, wrong back to the first), under
//! the injected clock. Review answers are the learner's data and never reach managers.

use chrono::{DateTime, Duration, Utc};
use homeward::clock::Clock;

use super::{joined_phone, page};
use crate::enrollment::{count, hidden};
use crate::fixture::{self, WEEK1};
use crate::helpers::{Options, TestApp, TestDatabase};

async fn quiz(app: &TestApp, phone: &reqwest::Client, answers: &[(&str, &str)]) {
    let lesson = page(app, phone, "/s/family/first-comic").await;
    let csrf = hidden(&lesson, "csrf");
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(answers);
    let result = phone
        .post(app.url("/s/family/first-comic/quiz"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(result.status(), 200);
}

/// The questions on the home's review card, by form action.
async fn card(app: &TestApp, phone: &reqwest::Client) -> Vec<String> {
    let home = page(app, phone, "/").await;
    home.split(r#"action="/review/"#)
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

async fn review(app: &TestApp, phone: &reqwest::Client, question: &str, answer: &str) -> String {
    let lesson = page(app, phone, "/s/family/first-comic").await;
    let csrf = hidden(&lesson, "csrf");
    let response = phone
        .post(app.url(&format!("/review/family/first-comic/{question}")))
        .form(&[("csrf", csrf.as_str()), ("a", answer)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

#[tokio::test]
async fn a_missed_question_comes_back_after_one_three_seven_and_twenty_one_days() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK1, content.path())).await;
    let start: DateTime<Utc> = WEEK1.parse().unwrap();
    let at = |days: i64, hours: i64| start + Duration::days(days) + Duration::hours(hours);
    let phone = joined_phone(&app, "小芳", &[]).await;
    // q1 wrong, q2 right.
    quiz(&app, &phone, &[("q.q1", "a"), ("q.q2", "a"), ("q.q2", "c")]).await;
    assert!(card(&app, &phone).await.is_empty(), "not before a day");
    app.clock.set(at(0, 23));
    assert!(card(&app, &phone).await.is_empty());
    app.clock.set(at(1, 0));
    assert_eq!(card(&app, &phone).await, ["family/first-comic/q1"]);
    assert!(page(&app, &phone, "/").await.contains("复习"));

    // Right: box 2, back in 3 days. The same form sent again changes nothing.
    let result = review(&app, &phone, "q1", "b").await;
    assert!(
        result.contains("答对了") && result.contains("3 天后"),
        "{result}"
    );
    let again = review(&app, &phone, "q1", "b").await;
    assert!(again.contains("已经答过了"), "{again}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_attempt").await, 1);
    app.clock.set(at(3, 23));
    assert!(card(&app, &phone).await.is_empty());
    app.clock.set(at(4, 0));
    assert_eq!(card(&app, &phone).await.len(), 1);

    // Wrong: back to the first box, tomorrow again.
    let result = review(&app, &phone, "q1", "a").await;
    assert!(
        result.contains("还不对") && result.contains("1 天后") && result.contains("乙"),
        "{result}"
    );
    app.clock.set(at(5, 0));
    // Then right four times: 3, 7, 21 days, then it is retired.
    for (days_later, next) in [(3, "3 天后"), (7, "7 天后"), (21, "21 天后")] {
        assert_eq!(card(&app, &phone).await.len(), 1);
        let result = review(&app, &phone, "q1", "b").await;
        assert!(result.contains(next), "{result}");
        let now = app.clock.now();
        app.clock
            .set(now + Duration::days(days_later) - Duration::hours(1));
        assert!(card(&app, &phone).await.is_empty(), "not before {next}");
        app.clock.set(now + Duration::days(days_later));
    }
    let result = review(&app, &phone, "q1", "b").await;
    assert!(result.contains("记牢了"), "{result}");
    app.clock.set(at(80, 0));
    assert!(
        page(&app, &phone, "/").await.contains("小芳"),
        "still signed in"
    );
    assert!(card(&app, &phone).await.is_empty(), "retired");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_attempt").await, 6);

    // The review answers are the learner's: in their export.
    let export: serde_json::Value = phone
        .get(app.url("/me/export.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        export["tables"]["review_attempt"].as_array().unwrap().len(),
        6
    );
}

#[tokio::test]
async fn the_card_holds_two_questions_and_only_the_learners_own() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK1, content.path())).await;
    let phone = joined_phone(&app, "小芳", &[]).await;
    let other = joined_phone(&app, "阿强", &[]).await;
    quiz(&app, &phone, &[("q.q1", "a"), ("q.q2", "b")]).await;
    app.clock.set(app.clock.now() + Duration::days(1));
    let questions = card(&app, &phone).await;
    assert_eq!(
        questions,
        ["family/first-comic/q1", "family/first-comic/q2"]
    );
    assert!(card(&app, &other).await.is_empty());
    // Another learner cannot answer it (nothing of theirs to review), nor can a bad choice count.
    let csrf = hidden(&page(&app, &other, "/s/family/first-comic").await, "csrf");
    let refused = other
        .post(app.url("/review/family/first-comic/q1"))
        .form(&[("csrf", csrf.as_str()), ("a", "b")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 404);
    let csrf = hidden(&page(&app, &phone, "/s/family/first-comic").await, "csrf");
    let bad = phone
        .post(app.url("/review/family/first-comic/q1"))
        .form(&[("csrf", csrf.as_str()), ("a", "z")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM review_attempt").await, 0);
}

#[test]
fn review_answers_never_reach_managers_figures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for file in [
        "src/services/reports.rs",
        "src/api/manage.rs",
        "src/web/manage.rs",
    ] {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        assert!(!text.contains("review_"), "{file} reads review data");
    }
}
