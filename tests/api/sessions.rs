//! Learner sessions end (issue 11, item 12): after an idle period, on sign-out (here or
//! everywhere) and when the account is recovered on another phone. Recovery codes are kept as
//! hashes, shown once and renewable. Staff sign-in limits count failures per address
//! (item 13).

use std::sync::Arc;

use homeward::domain::learner::POLICY_VERSION;
use homeward::services::staff::Role;
use sea_orm::{ConnectionTrait, FromQueryResult, Statement};
use serde_json::{Value, json};

use crate::enrollment::{count, hidden, join_by_form, make_code, phone_with, spawn};
use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::staff::{PASSWORD, cookie, csrf, sign_in};

async fn join(app: &TestApp, token: &str) -> Value {
    let response = app
        .client
        .post(app.url("/api/v1/enrollments"))
        .json(&json!({"token": token, "audience": "parents", "accept_policy": POLICY_VERSION}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    response.json().await.unwrap()
}

async fn me_status(app: &TestApp, session: &str) -> u16 {
    app.client
        .get(app.url("/api/v1/me"))
        .bearer_auth(session)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn recover(app: &TestApp, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/sessions/recover"))
        .json(&json!({"recovery_code": code}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn learner_sessions_end_when_idle_on_sign_out_and_on_recovery() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;

    // Idle: a session used within the period lives on; one unused for longer has ended.
    let idle = join(&app, &code.token).await;
    let idle_session = idle["session_token"].as_str().unwrap();
    app.clock.advance(chrono::Duration::days(89));
    assert_eq!(me_status(&app, idle_session).await, 200);
    app.clock.advance(chrono::Duration::days(91));
    assert_eq!(me_status(&app, idle_session).await, 401, "idle for 91 days");

    // Recovery on a new phone signs the old phone out.
    let learner = join(&app, &code.token).await;
    let old_phone = learner["session_token"].as_str().unwrap().to_owned();
    let recovered = recover(&app, learner["recovery_code"].as_str().unwrap()).await;
    assert_eq!(recovered.status(), 201);
    let new_phone = recovered.json::<Value>().await.unwrap()["session_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(me_status(&app, &old_phone).await, 401, "the old phone");
    assert_eq!(me_status(&app, &new_phone).await, 200);

    // Signing out ends this session only; signing out everywhere ends them all.
    let id = learner["learner_id"].as_i64().unwrap();
    let other_phone = app.new_learner_session(id).await;
    let signed_out = app
        .client
        .delete(app.url("/api/v1/sessions/current"))
        .bearer_auth(&new_phone)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), 204);
    assert_eq!(me_status(&app, &new_phone).await, 401);
    assert_eq!(me_status(&app, &other_phone).await, 200);
    let third_phone = app.new_learner_session(id).await;
    let everywhere = app
        .client
        .delete(app.url("/api/v1/sessions"))
        .bearer_auth(&third_phone)
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), 204);
    for session in [&other_phone, &third_phone] {
        assert_eq!(me_status(&app, session).await, 401);
    }
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM learner_session WHERE learner_id = {id}")
        )
        .await,
        0
    );
}

#[tokio::test]
async fn signing_out_on_a_page_ends_the_session_and_forgets_the_phone() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let phone = phone_with(jar);
    let fields = [("accept_policy", POLICY_VERSION), ("audience", "parents")];
    assert_eq!(
        join_by_form(&app, &phone, &code.token, &fields)
            .await
            .status(),
        303
    );
    let me = phone.get(app.url("/me")).send().await.unwrap();
    let page = me.text().await.unwrap();
    let token = hidden(&page, "csrf");
    let out = phone
        .post(app.url("/me/sign-out"))
        .form(&[("csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner_session").await, 0);
    let me = phone
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!me.contains("name=\"csrf\""), "still signed in: {me}");
    // Joining again from that phone makes a new learner instead of signing the old one in.
    let again = join_by_form(&app, &phone, &code.token, &fields).await;
    assert_eq!(again.status(), 303);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 2);
}

#[tokio::test]
async fn recovery_codes_are_stored_as_hashes_shown_once_and_renewable() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let joined = join(&app, &code.token).await;
    let session = joined["session_token"].as_str().unwrap().to_owned();
    let first = joined["recovery_code"].as_str().unwrap().to_owned();
    let id = joined["learner_id"].as_i64().unwrap();

    // Nothing stored or shown holds the code itself.
    let row = app
        .state
        .db
        .query_one_raw(Statement::from_string(
            app.state.db.get_database_backend(),
            format!("SELECT * FROM learner WHERE id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: Value = sea_orm::JsonValue::from_query_result(&row, "").unwrap();
    assert!(!stored.to_string().contains(&first), "{stored}");
    let me: Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(me.get("recovery_code").is_none(), "{me}");
    let page = app
        .client
        .get(app.url("/me"))
        .header("cookie", format!("hw_session={session}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains(&first), "/me shows the recovery code");
    let export = app
        .client
        .get(app.url("/api/v1/me/export"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!export.contains("recovery"), "{export}");

    // A new code replaces the old one.
    let renewed: Value = app
        .client
        .post(app.url("/api/v1/me/recovery-code"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let second = renewed["recovery_code"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert_eq!(recover(&app, &first).await.status(), 422);
    // Admins still find the learner by the code they are told, case and dashes aside.
    let admin = sign_in(&app, "admin@example.org", Role::Admin, None).await;
    let token = csrf(&app, &admin, "/admin").await;
    let found: Value = app
        .client
        .post(app.url("/api/v1/admin/learner-requests"))
        .header("cookie", cookie(&admin))
        .header("x-csrf-token", &token)
        .json(&json!({"recovery_code": second.to_lowercase().replace('-', " ")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["id"], id);
    assert_eq!(recover(&app, &second).await.status(), 201);
}

#[tokio::test]
async fn recovery_codes_stored_before_they_were_hashed_still_work() {
    use migrations::MigratorTrait;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let conn = homeward::store::connect(&db.url).await.unwrap();
    // Every migration before m0008 (which hashes the codes), then a learner as they were kept.
    let before = migrations::Migrator::migrations()
        .iter()
        .position(|m| m.name().starts_with("m0008"))
        .unwrap() as u32;
    migrations::Migrator::up(&conn, Some(before)).await.unwrap();
    let now = chrono::Utc::now();
    conn.execute_raw(Statement::from_sql_and_values(
        conn.get_database_backend(),
        "INSERT INTO learner (audience, lang, recovery_code, created_at, updated_at) VALUES ('parents', 'zh', $1, $2, $2)",
        ["ABCD-EFGH-JKMN-PQRS".into(), now.into()],
    ))
    .await
    .unwrap();
    conn.close().await.unwrap();
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM learner WHERE recovery_hash = 'ABCD-EFGH-JKMN-PQRS'"
        )
        .await,
        0
    );
    assert_eq!(recover(&app, "abcd efgh jkmn pqrs").await.status(), 201);
}

/// Submits the staff sign-in form from `address` (the app trusts `X-Forwarded-For` here).
async fn sign_in_from(app: &TestApp, address: &str, password: &str) -> u16 {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let browser = phone_with(jar);
    let page = browser
        .get(app.url("/staff/login"))
        .header("x-forwarded-for", address)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden(&page, "csrf");
    browser
        .post(app.url("/staff/login"))
        .header("x-forwarded-for", address)
        .form(&[
            ("csrf", token.as_str()),
            ("email", "admin@example.org"),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn wrong_passwords_from_one_address_never_lock_the_owner_out_elsewhere() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let options = Options::new(WEEK3, content.path()).with_settings(|s| s.trust_proxy = true);
    let app = TestApp::spawn(&db, options).await;
    sign_in(&app, "admin@example.org", Role::Admin, None).await;
    let mut attacker = Vec::new();
    for _ in 0..11 {
        attacker.push(sign_in_from(&app, "203.0.113.9", "guess guess guess").await);
    }
    assert_eq!(&attacker[..10], &[401; 10]);
    assert_eq!(attacker[10], 429, "the attacking address is stopped");
    assert_eq!(
        sign_in_from(&app, "198.51.100.7", PASSWORD).await,
        303,
        "the owner signs in from elsewhere"
    );
    // Signing in successfully uses up nothing, however often.
    for _ in 0..15 {
        assert_eq!(sign_in_from(&app, "198.51.100.7", PASSWORD).await, 303);
    }
}
