//! The JSON API: series, lessons (quiz without answers), quiz checking, problem+json errors.

use serde_json::json;

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

#[tokio::test]
async fn lists_series_and_lessons_with_both_languages() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let list = app.json("/api/v1/series").await;
    let family = &list[0];
    assert_eq!(family["slug"], "family");
    assert_eq!(family["audience"], "parents");
    assert_eq!(
        family["title"],
        json!({"zh": "家庭课堂", "en": "Family lessons"})
    );
    assert_eq!(family["released_count"], 3);
    assert_eq!(family["current_lesson"]["slug"], "third-article");

    let lesson = app.json("/api/v1/series/family/lessons/first-comic").await;
    assert_eq!(lesson["kind"], "comic");
    assert_eq!(
        lesson["panels"][1]["image_url"],
        "/media/family/first-comic/p2.png"
    );
    assert_eq!(lesson["panels"][0]["caption"]["en"], "First panel");
    let question = &lesson["quiz"]["questions"][0];
    assert_eq!(question["choices"][1]["text"]["zh"], "乙");
    let text = lesson.to_string();
    assert!(
        !text.contains("answer") && !text.contains("Because B"),
        "answers leaked: {text}"
    );

    let video = app.json("/api/v1/series/family/lessons/second-video").await;
    assert_eq!(video["video"]["duration_seconds"], 42);
    let article = app
        .json("/api/v1/series/family/lessons/third-article")
        .await;
    assert!(
        article["article_html"]["en"]
            .as_str()
            .unwrap()
            .contains("Listen to your child.")
    );
}

#[tokio::test]
async fn checks_quiz_answers() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let url = app.url("/api/v1/series/family/lessons/first-comic/quiz");
    let result: serde_json::Value = app
        .client
        .post(&url)
        .json(&json!({"answers": {"q1": ["b"], "q2": ["c", "a"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (result["score"].as_u64(), result["passed"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(result["questions"][1]["correct_answer"], json!(["a", "c"]));
    assert_eq!(
        result["questions"][0]["explanation"]["en"],
        "Because B is right."
    );

    let partial: serde_json::Value = app
        .client
        .post(&url)
        .json(&json!({"answers": {"q2": ["a"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (partial["score"].as_u64(), partial["passed"].as_bool()),
        (Some(0), Some(false))
    );
}

#[tokio::test]
async fn bad_requests_get_problem_details() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let url = app.url("/api/v1/series/family/lessons/first-comic/quiz");
    let cases: Vec<(reqwest::RequestBuilder, u16, &str)> = vec![
        (
            app.client
                .post(&url)
                .json(&json!({"answers": {"q1": ["z"]}})),
            422,
            "no choice 'z'",
        ),
        (
            app.client
                .post(&url)
                .json(&json!({"answers": {"q9": ["a"]}})),
            422,
            "no question 'q9'",
        ),
        (
            app.client
                .post(&url)
                .json(&json!({"answers": {"q1": ["a", "b"]}})),
            422,
            "exactly one",
        ),
        (
            app.client
                .post(&url)
                .json(&json!({"answers": "everything"})),
            400,
            "",
        ),
        (
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body("{not json"),
            400,
            "",
        ),
        (
            app.client
                .post(&url)
                .header("content-type", "application/json")
                .body(vec![b' '; 100 * 1024]),
            413,
            "",
        ),
        (
            app.client.get(app.url("/api/v1/series/nope")),
            404,
            "no series 'nope'",
        ),
        (
            app.client
                .get(app.url("/api/v1/series/family/lessons/nope")),
            404,
            "no released lesson",
        ),
        (app.client.get(app.url("/api/v1/nothing-here")), 404, ""),
    ];
    for (request, status, detail) in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), status);
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["status"], status);
        assert!(body["detail"].as_str().unwrap().contains(detail), "{body}");
    }
}

#[tokio::test]
async fn the_openapi_document_and_docs_page_are_served() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let spec = app.json("/api/openapi.json").await;
    assert!(spec["paths"]["/series/{series}/lessons/{lesson}/quiz"]["post"].is_object());
    assert_eq!(app.status("/docs").await, 200);
}
