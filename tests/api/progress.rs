//! Progress: events are committed once, merge monotonically, complete lessons by their rules,
//! and belong to their learner only. Quiz attempts, streaks, the home page and certificates.

use homeward::domain::learner::POLICY_VERSION;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::enrollment::{count, make_code, spawn};
use crate::fixture::{self, WEEK1, WEEK2, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

pub struct Learner {
    pub id: i64,
    pub token: String,
}

pub async fn enroll(app: &TestApp, code: &str, ip: &str) -> Learner {
    let _ = ip;
    let joined: Value = app
        .client
        .post(app.url("/api/v1/enrollments"))
        .json(&json!({"token": code, "audience": "parents", "accept_policy": POLICY_VERSION, "nickname": "阿明"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Learner {
        id: joined["learner_id"].as_i64().unwrap(),
        token: joined["session_token"].as_str().unwrap().to_owned(),
    }
}

fn event(lesson: &str, kind: &str, extra: Value) -> Value {
    let mut e = json!({"id": Uuid::new_v4(), "series": "family", "lesson": lesson, "kind": kind, "client_time": "2030-01-21T13:00:00Z"});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    e
}

pub async fn send(app: &TestApp, learner: &Learner, events: &[Value]) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/api/v1/progress/events"))
        .bearer_auth(&learner.token)
        .json(&json!({"events": events}))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn progress_of(app: &TestApp, learner: &Learner) -> Value {
    app.client
        .get(app.url("/api/v1/me/progress"))
        .bearer_auth(&learner.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn lesson<'a>(overview: &'a Value, slug: &str) -> &'a Value {
    overview["series"][0]["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["slug"] == slug)
        .unwrap()
}

async fn quiz(app: &TestApp, learner: &Learner, slug: &str, answers: Value) -> Value {
    app.client
        .post(app.url(&format!("/api/v1/series/family/lessons/{slug}/quiz")))
        .bearer_auth(&learner.token)
        .json(&json!({"answers": answers}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

const PASS: fn() -> Value = || json!({"q1": ["b"], "q2": ["a", "c"]});
const FAIL: fn() -> Value = || json!({"q1": ["a"]});

async fn setup() -> (tempfile::TempDir, TestDatabase, TestApp, Learner) {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.1").await;
    (content, db, app, learner)
}

#[tokio::test]
async fn a_resend_changes_nothing_and_a_changed_resend_is_a_conflict() {
    let (_content, _db, app, learner) = setup().await;
    let first = event("first-comic", "panel_viewed", json!({"panel": 0}));
    let (status, body) = send(&app, &learner, std::slice::from_ref(&first)).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["status"], "accepted");
    let (_, body) = send(&app, &learner, std::slice::from_ref(&first)).await;
    assert_eq!(
        (
            body["results"][0]["status"].as_str(),
            body["results"][0]["code"].as_u64()
        ),
        (Some("duplicate"), Some(200))
    );
    let mut changed = first.clone();
    changed["panel"] = json!(1);
    let (_, body) = send(&app, &learner, &[changed]).await;
    assert_eq!(
        (
            body["results"][0]["status"].as_str(),
            body["results"][0]["code"].as_u64()
        ),
        (Some("conflict"), Some(409))
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM progress_event").await, 1);
    assert_eq!(
        lesson(&progress_of(&app, &learner).await, "first-comic")["furthest_panel"],
        0,
        "the conflicting event changed progress"
    );
    // The same id twice in one batch: the first counts.
    let twin = event("first-comic", "opened", json!({}));
    let mut other = twin.clone();
    other["kind"] = json!("completed");
    let (_, body) = send(&app, &learner, &[twin.clone(), twin, other]).await;
    let statuses: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["accepted", "duplicate", "conflict"]);
}

#[tokio::test]
async fn events_for_unknown_draft_or_unreleased_lessons_are_stored_nowhere() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK2, content.path())).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.2").await;
    let (status, body) = send(
        &app,
        &learner,
        &[
            event("third-article", "opened", json!({})),
            event("fourth-draft", "opened", json!({})),
            event("no-such-lesson", "opened", json!({})),
            event("first-comic", "panel_viewed", json!({"panel": 7})),
            event("first-comic", "teleported", json!({})),
            event("first-comic", "opened", json!({})),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let codes: Vec<u64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_u64().unwrap())
        .collect();
    assert_eq!(codes, [404, 404, 404, 422, 422, 200]);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM progress_event").await, 1);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM lesson_progress").await, 1);
    // Too many at once, or no session: nothing.
    let many: Vec<Value> = (0..101)
        .map(|_| event("first-comic", "opened", json!({})))
        .collect();
    assert_eq!(send(&app, &learner, &many).await.0, 422);
    let anonymous = app
        .client
        .post(app.url("/api/v1/progress/events"))
        .json(&json!({"events": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    // Week 3 comes out: now it counts.
    app.clock.set(WEEK3.parse().unwrap());
    let (_, body) = send(
        &app,
        &learner,
        &[event("third-article", "opened", json!({}))],
    )
    .await;
    assert_eq!(body["results"][0]["status"], "accepted");
}

#[tokio::test]
async fn events_in_any_order_give_the_same_progress() {
    let (_content, _db, app, learner) = setup().await;
    let events = [
        event(
            "second-video",
            "video_position",
            json!({"seconds": 30.0, "duration": 42.0}),
        ),
        event(
            "second-video",
            "video_position",
            json!({"seconds": 10.0, "duration": 42.0}),
        ),
        event("first-comic", "panel_viewed", json!({"panel": 1})),
        event("first-comic", "panel_viewed", json!({"panel": 0})),
        event("third-article", "article_read", json!({"percent": 80})),
        event("third-article", "article_read", json!({"percent": 40})),
    ];
    // One at a time, newest first, for this learner …
    for e in events.iter().rev() {
        send(&app, &learner, std::slice::from_ref(e)).await;
    }
    let one_by_one = progress_of(&app, &learner).await;
    // … and all together, oldest first, for another.
    let code = make_code(&app, None, None).await;
    let other = enroll(&app, &code.token, "10.0.0.3").await;
    let renamed: Vec<Value> = events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e["id"] = json!(Uuid::new_v4());
            e
        })
        .collect();
    send(&app, &other, &renamed).await;
    let batched = progress_of(&app, &other).await;
    for slug in ["first-comic", "second-video", "third-article"] {
        for field in [
            "furthest_panel",
            "video_seconds",
            "article_percent",
            "completed_at",
        ] {
            assert_eq!(
                lesson(&one_by_one, slug)[field],
                lesson(&batched, slug)[field],
                "{slug}.{field}"
            );
        }
    }
    assert_eq!(lesson(&batched, "second-video")["video_seconds"], 30.0);
    assert_eq!(lesson(&batched, "third-article")["article_percent"], 80);
    assert_eq!(lesson(&batched, "first-comic")["furthest_panel"], 1);
}

#[tokio::test]
async fn a_hundred_concurrent_writers_on_one_learner_lose_nothing() {
    let (_content, _db, app, learner) = setup().await;
    let app = std::sync::Arc::new(app);
    let learner = std::sync::Arc::new(learner);
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let (app, learner) = (app.clone(), learner.clone());
            tokio::spawn(async move {
                let events = vec![
                    event(
                        "second-video",
                        "video_position",
                        json!({"seconds": f64::from(i % 42), "duration": 42.0}),
                    ),
                    event("third-article", "article_read", json!({"percent": i})),
                    event("first-comic", "opened", json!({})),
                ];
                let (status, body) = send(&app, &learner, &events).await;
                assert_eq!(status, 200, "{body}");
                assert_eq!(body["accepted"], 3, "{body}");
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM progress_event WHERE learner_id = {}",
                learner.id
            )
        )
        .await,
        300
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM lesson_progress").await, 3);
    let overview = progress_of(&app, &learner).await;
    assert_eq!(lesson(&overview, "third-article")["article_percent"], 99);
    assert_eq!(lesson(&overview, "second-video")["video_seconds"], 41.0);
}

#[tokio::test]
async fn each_kind_of_lesson_completes_by_its_own_rule_and_its_quiz() {
    let (_content, _db, app, learner) = setup().await;
    // Comic: every panel seen, then the quiz passed.
    send(
        &app,
        &learner,
        &[event("first-comic", "panel_viewed", json!({"panel": 0}))],
    )
    .await;
    assert!(lesson(&progress_of(&app, &learner).await, "first-comic")["completed_at"].is_null());
    send(
        &app,
        &learner,
        &[event("first-comic", "panel_viewed", json!({"panel": 1}))],
    )
    .await;
    assert!(
        lesson(&progress_of(&app, &learner).await, "first-comic")["completed_at"].is_null(),
        "the quiz is still to pass"
    );
    let failed = quiz(&app, &learner, "first-comic", FAIL()).await;
    assert_eq!(
        (failed["passed"].as_bool(), failed["recorded"].as_bool()),
        (Some(false), Some(true))
    );
    assert!(lesson(&progress_of(&app, &learner).await, "first-comic")["completed_at"].is_null());
    let passed = quiz(&app, &learner, "first-comic", PASS()).await;
    assert_eq!(passed["passed"], true);
    let comic = lesson(&progress_of(&app, &learner).await, "first-comic").clone();
    assert!(comic["completed_at"].is_string());
    assert_eq!(
        (
            comic["quiz_first_score"].as_i64(),
            comic["quiz_best_score"].as_i64(),
            comic["quiz_attempts"].as_i64()
        ),
        (Some(0), Some(2), Some(2))
    );
    // Completion is recorded once and never moves.
    app.clock.advance(chrono::Duration::hours(1));
    quiz(&app, &learner, "first-comic", PASS()).await;
    assert_eq!(
        lesson(&progress_of(&app, &learner).await, "first-comic")["completed_at"],
        comic["completed_at"]
    );

    // Video: 90 % of its 42 s.
    quiz(&app, &learner, "second-video", PASS()).await;
    send(
        &app,
        &learner,
        &[
            event(
                "second-video",
                "video_position",
                json!({"seconds": 37.0, "duration": 42.0}),
            ),
            event("second-video", "completed", json!({})),
        ],
    )
    .await;
    assert!(
        lesson(&progress_of(&app, &learner).await, "second-video")["completed_at"].is_null(),
        "37 of 42 s is under 90 %"
    );
    send(
        &app,
        &learner,
        &[event(
            "second-video",
            "video_position",
            json!({"seconds": 38.0, "duration": 42.0}),
        )],
    )
    .await;
    assert!(lesson(&progress_of(&app, &learner).await, "second-video")["completed_at"].is_string());

    // Article: read to the end.
    quiz(&app, &learner, "third-article", PASS()).await;
    send(
        &app,
        &learner,
        &[event(
            "third-article",
            "article_read",
            json!({"percent": 90}),
        )],
    )
    .await;
    assert!(lesson(&progress_of(&app, &learner).await, "third-article")["completed_at"].is_null());
    send(
        &app,
        &learner,
        &[event(
            "third-article",
            "article_read",
            json!({"percent": 100}),
        )],
    )
    .await;
    assert!(
        lesson(&progress_of(&app, &learner).await, "third-article")["completed_at"].is_string()
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM quiz_attempt").await, 5);
}

#[tokio::test]
async fn anonymous_quizzes_are_graded_but_not_stored() {
    let (_content, _db, app, _learner) = setup().await;
    let result: Value = app
        .client
        .post(app.url("/api/v1/series/family/lessons/first-comic/quiz"))
        .json(&json!({"answers": PASS()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (result["passed"].as_bool(), result["recorded"].as_bool()),
        (Some(true), Some(false))
    );
    let page = app
        .client
        .post(app.url("/s/family/first-comic/quiz"))
        .form(&[("q.q1", "b")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("请扫工厂里的二维码加入"),
        "the page invites them to join"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM quiz_attempt").await, 0);
}

#[tokio::test]
async fn streaks_count_release_weeks_with_a_completion() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK1, content.path())).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.4").await;
    send(
        &app,
        &learner,
        &[event("first-comic", "completed", json!({}))],
    )
    .await;
    quiz(&app, &learner, "first-comic", PASS()).await;
    let streak = |v: &Value| v["series"][0]["streak"].as_u64().unwrap();
    assert_eq!(streak(&progress_of(&app, &learner).await), 1);
    // Week 2: nothing yet this week, the streak stands; then a completion makes it 2.
    app.clock.set(WEEK2.parse().unwrap());
    assert_eq!(streak(&progress_of(&app, &learner).await), 1);
    send(
        &app,
        &learner,
        &[event(
            "second-video",
            "video_position",
            json!({"seconds": 42.0, "duration": 42.0}),
        )],
    )
    .await;
    quiz(&app, &learner, "second-video", PASS()).await;
    assert_eq!(streak(&progress_of(&app, &learner).await), 2);
    // Week 3 passes without a completion; in week 4 the streak is broken.
    app.clock.set("2030-01-28T12:00:00Z".parse().unwrap());
    assert_eq!(streak(&progress_of(&app, &learner).await), 0);
    let overview = progress_of(&app, &learner).await;
    let badges: Vec<&str> = overview["badges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert!(
        badges.contains(&"first_lesson") && badges.contains(&"first_quiz_passed"),
        "{badges:?}"
    );
}

#[tokio::test]
async fn learners_never_see_or_touch_each_others_progress() {
    let (_content, _db, app, alice) = setup().await;
    let code = make_code(&app, None, None).await;
    let bob = enroll(&app, &code.token, "10.0.0.5").await;
    send(
        &app,
        &alice,
        &[event(
            "third-article",
            "article_read",
            json!({"percent": 70}),
        )],
    )
    .await;
    let bobs = progress_of(&app, &bob).await;
    assert_eq!(lesson(&bobs, "third-article")["article_percent"], 0);
    // Bob sending Alice's event id stores it for Bob, not Alice.
    let shared = event("first-comic", "opened", json!({}));
    send(&app, &alice, std::slice::from_ref(&shared)).await;
    let (_, body) = send(&app, &bob, &[shared]).await;
    assert_eq!(body["results"][0]["status"], "accepted");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM lesson_progress WHERE learner_id = {}",
                alice.id
            )
        )
        .await,
        2
    );
    // Nothing takes a learner id from the client; a stranger's token is refused.
    let stranger = app
        .client
        .get(app.url("/api/v1/me/progress"))
        .bearer_auth("x".repeat(43))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401);
    // A cookie session must carry the CSRF token to write.
    let forged = app
        .client
        .post(app.url("/api/v1/progress/events"))
        .header("cookie", format!("hw_session={}", alice.token))
        .json(&json!({"events": [event("first-comic", "completed", json!({}))]}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let forged_form = app
        .client
        .post(app.url("/s/family/first-comic/done"))
        .header("cookie", format!("hw_session={}", alice.token))
        .form(&[("csrf", "guess")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged_form.status(), 400);
    assert!(lesson(&progress_of(&app, &alice).await, "first-comic")["completed_at"].is_null());
}

#[tokio::test]
async fn without_javascript_opening_and_done_record_progress_and_a_certificate_follows() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    // After week 4's draft date: every published lesson is out.
    let app = TestApp::spawn(&db, Options::new("2030-02-01T00:00:00Z", content.path())).await;
    let code = make_code(&app, None, None).await;
    let phone = crate::enrollment::phone();
    let joined = crate::enrollment::join_by_form(
        &app,
        &phone,
        &code.token,
        &[
            ("accept_policy", POLICY_VERSION),
            ("audience", "parents"),
            ("nickname", "小芳"),
        ],
    )
    .await;
    assert_eq!(joined.status(), 303);
    for slug in ["first-comic", "second-video", "third-article"] {
        let page = phone
            .get(app.url(&format!("/s/family/{slug}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(r#"id="hw-state""#),
            "the script gets its state"
        );
        let csrf = {
            let marker = r#"name="csrf" value=""#;
            let start = page.find(marker).expect("csrf in the page") + marker.len();
            page[start..start + page[start..].find('"').unwrap()].to_owned()
        };
        if slug != "second-video" {
            assert!(page.contains("我看完了"));
            let done = phone
                .post(app.url(&format!("/s/family/{slug}/done")))
                .form(&[("csrf", csrf.as_str())])
                .send()
                .await
                .unwrap();
            assert_eq!(done.status(), 303);
        }
        let result = phone
            .post(app.url(&format!("/s/family/{slug}/quiz")))
            .form(&[
                ("csrf", csrf.as_str()),
                ("q.q1", "b"),
                ("q.q2", "a"),
                ("q.q2", "c"),
            ])
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(result.contains("您的成绩已保存"));
    }
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM lesson_progress WHERE first_opened_at IS NOT NULL"
        )
        .await,
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM lesson_progress WHERE completed_at IS NOT NULL"
        )
        .await,
        2,
        "the video needs watching"
    );
    assert_eq!(
        phone
            .get(app.url("/s/family/certificate"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let home = phone
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("已完成 2 / 3 课") && home.contains("你好，小芳"),
        "{home}"
    );
    // The site's name once in the title; a streak of one week in the singular.
    assert!(
        home.contains("<title>每周一课，陪孩子一起长大 · 归家课堂</title>"),
        "{home}"
    );
    let home_en = phone
        .get(app.url("/?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home_en.contains("Hello, 小芳") && home_en.contains("1 week in a row"),
        "{home_en}"
    );

    // Watching the video through the API finishes the series.
    let token = {
        let marker = r#"name="csrf" value=""#;
        let page = phone
            .get(app.url("/s/family/second-video"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = page.find(marker).unwrap() + marker.len();
        page[start..start + page[start..].find('"').unwrap()].to_owned()
    };
    let watched = phone
        .post(app.url("/api/v1/progress/events"))
        .header("x-csrf-token", token)
        .json(&json!({"events": [event("second-video", "video_position", json!({"seconds": 42.0, "duration": 42.0}))]}))
        .send()
        .await
        .unwrap();
    assert_eq!(watched.status(), 200);
    let home = phone
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
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
    let certificate = certificate.text().await.unwrap();
    assert!(
        certificate.contains("小芳")
            && certificate.contains("家庭课堂")
            && certificate.contains("Family lessons")
            && certificate.contains("2030")
    );
    // Chinese dates are not zero-padded.
    assert!(certificate.contains("2030年2月1日"), "{certificate}");
}
