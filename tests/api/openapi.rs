//! The public API surface is snapshot-tested: any change to it is a visible diff. The contract
//! it states holds: nullable fields, strict strings, 415, 405 with `Allow`, 401 before 422.

use homeward::clock::Clock;
use homeward::services::staff::{self, Role};
use serde_json::{Value, json};

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

#[test]
fn openapi_document_matches_the_snapshot() {
    let mut settings = homeward::settings::Settings::with_database("sqlite::memory:");
    settings.public_url = Some("https://homeward.example".into());
    let spec: serde_json::Value =
        serde_json::from_str(&homeward::api::spec_json(&settings)).unwrap();
    insta::assert_json_snapshot!("openapi", spec);
}

async fn spawn() -> (TestDatabase, tempfile::TempDir, TestApp) {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    (db, content, app)
}

/// A personal API token (`hwk_…`) of a new staff member with `role`.
async fn api_token(app: &TestApp, email: &str, role: Role) -> String {
    let session = crate::staff::sign_in(app, email, role, None).await;
    let now = app.clock.now();
    let who = staff::authenticate_session(&app.state.db, &session, now)
        .await
        .unwrap()
        .expect("a staff session");
    staff::create_token(&app.state.db, &who, "contract", now)
        .await
        .unwrap()
        .1
}

/// Every property a client may meet as `null`: not required and without a default.
fn optional_properties(spec: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (name, schema) in spec["components"]["schemas"].as_object().unwrap() {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if !required.contains(&field.as_str()) && property.get("default").is_none() {
                found.push((name.clone(), field.clone(), property.clone()));
            }
        }
    }
    found
}

#[tokio::test]
async fn every_field_that_can_be_null_is_declared_nullable() {
    let (_db, _content, app) = spawn().await;
    let spec = app.json("/api/openapi.json").await;
    for (schema, field) in [
        ("Me", "nickname"),
        ("LessonProgressDto", "furthest_panel"),
        ("LessonProgressDto", "quiz_best_score"),
        ("LessonProgressDto", "quiz_first_score"),
        ("LessonProgressDto", "completed_at"),
        ("SeriesProgressDto", "finished_at"),
        ("AuditEntry", "before"),
        ("AuditEntry", "after"),
        ("EnrollmentInfo", "line"),
        ("FigureDto", "value"),
        ("CodeDto", "line_id"),
        ("CodeDto", "expires_at"),
        ("CodeDto", "max_joins"),
    ] {
        assert_eq!(
            spec["components"]["schemas"][schema]["properties"][field]["nullable"], true,
            "{schema}.{field}"
        );
    }
    let undeclared: Vec<_> = optional_properties(&spec)
        .into_iter()
        .filter(|(_, _, property)| property["nullable"] != true)
        .map(|(schema, field, _)| format!("{schema}.{field}"))
        .collect();
    assert!(
        undeclared.is_empty(),
        "null but not nullable: {undeclared:?}"
    );
}

#[tokio::test]
async fn strings_are_strings_never_coerced_from_booleans_or_numbers() {
    let (_db, _content, app) = spawn().await;
    let admin = api_token(&app, "admin@example.org", Role::Admin).await;
    let factories = || app.count("SELECT COUNT(*) FROM factory");
    let before = factories().await;
    for (path, body) in [
        ("/api/v1/admin/factories", json!({"name_zh": false})),
        ("/api/v1/admin/factories", json!({"name_zh": 42})),
        (
            "/api/v1/admin/factories",
            json!({"name_zh": "厂", "city": true}),
        ),
        ("/api/v1/staff/tokens", json!({"name": 7})),
        (
            "/api/v1/enrollments",
            json!({"token": 1, "audience": "parents"}),
        ),
    ] {
        let response = app
            .client
            .post(app.url(path))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{path} {body}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().contains("string"),
            "{problem}"
        );
    }
    assert_eq!(factories().await, before, "nothing was made");
    let made = app
        .client
        .post(app.url("/api/v1/admin/factories"))
        .bearer_auth(&admin)
        .json(&json!({"name_zh": "一厂", "city": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(made.status(), 200);
}

#[tokio::test]
async fn bodies_document_415_and_answer_it_as_a_problem() {
    let (_db, _content, app) = spawn().await;
    let spec = app.json("/api/openapi.json").await;
    let mut with_body = 0;
    for (path, operations) in spec["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            if operation.get("requestBody").is_some() {
                with_body += 1;
                assert_eq!(
                    operation["responses"]["415"]["content"]["application/problem+json"]["schema"]
                        ["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path}"
                );
            }
        }
    }
    assert!(with_body >= 10, "{with_body}");
    let response = app
        .client
        .post(app.url("/api/v1/series/family/lessons/first-comic/quiz"))
        .header("content-type", "text/plain")
        .body(r#"{"answers": {}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow() {
    let (_db, _content, app) = spawn().await;
    for (method, path, allowed) in [
        ("PUT", "/api/v1/me", vec!["DELETE", "GET", "HEAD", "PATCH"]),
        (
            "GET",
            "/api/v1/series/family/lessons/first-comic/quiz",
            vec!["POST"],
        ),
        ("DELETE", "/api/v1/series", vec!["GET", "HEAD"]),
    ] {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 405, "{method} {path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let mut allow: Vec<&str> = response.headers()["allow"]
            .to_str()
            .unwrap()
            .split(", ")
            .collect();
        allow.sort_unstable();
        assert_eq!(allow, allowed, "{method} {path}");
    }
}

#[tokio::test]
async fn anonymous_changes_are_401_before_their_body_is_judged() {
    let (_db, _content, app) = spawn().await;
    for (path, body) in [
        (
            "/api/v1/studio/series/family/lessons/first-comic/reschedule",
            json!({"date": "someday", "time": "soon"}),
        ),
        (
            "/api/v1/studio/series/family/cadence",
            json!({"first_release": "x", "weekday": "x", "time": "x"}),
        ),
        ("/api/v1/admin/factories", json!({"name_zh": ""})),
        ("/api/v1/staff/tokens", json!({"name": ""})),
    ] {
        let response = app
            .client
            .post(app.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{path}");
    }
}
