//! The learner's own account: recovery, changes, export and deletion, and that export and
//! deletion cover every table that holds a learner id.

use homeward::domain::learner::POLICY_VERSION;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

use crate::enrollment::{count, join_by_form, make_code, phone, spawn};
use crate::fixture;
use crate::helpers::{TestApp, TestDatabase};

async fn join_api(app: &TestApp, token: &str) -> serde_json::Value {
    app.client
        .post(app.url("/api/v1/enrollments"))
        .json(&json!({"token": token, "audience": "parents", "accept_policy": POLICY_VERSION, "nickname": "阿芳", "child_age_bands": ["3-5"], "children_consent": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Every table with a `learner_id` column, read from the database itself.
async fn tables_with_learner_id(app: &TestApp) -> Vec<String> {
    let db = &app.state.db;
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT table_name AS name FROM information_schema.columns WHERE column_name = 'learner_id' AND table_schema = 'public'".to_owned(),
        _ => "SELECT m.name AS name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND p.name = 'learner_id'".to_owned(),
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    let mut names: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String>("", "name").unwrap())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn export_and_deletion_cover_every_table_with_a_learner_id() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let other = join_api(&app, &code.token).await;
    let joined = join_api(&app, &code.token).await;
    let id = joined["learner_id"].as_i64().unwrap();
    let token = joined["session_token"].as_str().unwrap().to_owned();

    let tables = tables_with_learner_id(&app).await;
    assert!(!tables.is_empty());
    let mut covered: Vec<String> = homeward::services::accounts::LEARNER_TABLES
        .iter()
        .map(|t| t.to_string())
        .collect();
    covered.sort();
    assert_eq!(
        tables, covered,
        "a table holding learner ids is not covered by export and deletion"
    );

    let export: serde_json::Value = app
        .client
        .get(app.url("/api/v1/me/export"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["learner"]["id"], id);
    assert_eq!(export["learner"]["nickname"], "阿芳");
    for table in &tables {
        let rows = export["tables"][table]
            .as_array()
            .unwrap_or_else(|| panic!("{table} missing from export"));
        let held = count(
            &app,
            &format!("SELECT COUNT(*) FROM {table} WHERE learner_id = {id}"),
        )
        .await;
        assert_eq!(
            rows.len() as i64,
            held,
            "{table}: export must hold every row"
        );
        assert!(rows.iter().all(|r| r["learner_id"] == id));
    }
    let text = export.to_string();
    assert!(!text.contains("token_hash") && !text.contains(&token));

    // Cookie sessions need the CSRF header to delete; Bearer does not.
    let by_cookie = app
        .client
        .delete(app.url("/api/v1/me"))
        .header("cookie", format!("hw_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), 403);
    let deleted = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM learner WHERE id = {id}")
        )
        .await,
        0
    );
    for table in &tables {
        assert_eq!(
            count(
                &app,
                &format!("SELECT COUNT(*) FROM {table} WHERE learner_id = {id}")
            )
            .await,
            0,
            "{table}"
        );
    }
    assert_eq!(
        app.client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    // The other learner is untouched; factory totals count only who is left.
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM learner WHERE factory_id = {}",
                code.factory_id
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT COUNT(*) FROM consent WHERE learner_id = {}",
                other["learner_id"]
            )
        )
        .await,
        2
    );
}

#[tokio::test]
async fn the_account_page_changes_exports_and_deletes_with_csrf() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let phone = phone();
    let joined = join_by_form(
        &app,
        &phone,
        &code.token,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    assert_eq!(joined.status(), 303);
    let me = phone
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = {
        let marker = r#"name="csrf" value=""#;
        let start = me.find(marker).unwrap() + marker.len();
        me[start..start + me[start..].find('"').unwrap()].to_owned()
    };
    let forged = phone
        .post(app.url("/me"))
        .form(&[("nickname", "hacked"), ("audience", "parents")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let changed = phone
        .post(app.url("/me"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("nickname", "老李"),
            ("audience", "line-managers"),
            ("lang", "en"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let page = changed.text().await.unwrap();
    assert!(page.contains("Saved.") && page.contains("老李"));
    let bad = phone
        .post(app.url("/me"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("nickname", "x"),
            ("child_age_bands", "3-5"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400, "age bands without their consent");
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM learner WHERE nickname = 'x'").await,
        0,
        "an invalid change saves nothing"
    );

    let export = phone.get(app.url("/me/export.json")).send().await.unwrap();
    assert!(
        export.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment")
    );
    let export: serde_json::Value = export.json().await.unwrap();
    assert_eq!(export["learner"]["nickname"], "老李");

    let unconfirmed = phone
        .post(app.url("/me/delete"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(unconfirmed.status(), 400);
    let deleted = phone
        .post(app.url("/me/delete"))
        .form(&[("csrf", csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 0);
    assert!(
        phone
            .get(app.url("/me"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("You have not joined yet")
    );
}

#[tokio::test]
async fn a_recovery_code_restores_the_account_on_a_new_phone() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let joined = join_api(&app, &code.token).await;
    let recovery = joined["recovery_code"].as_str().unwrap().to_lowercase();

    let restored = app
        .client
        .post(app.url("/api/v1/sessions/recover"))
        .json(&json!({"recovery_code": recovery}))
        .send()
        .await
        .unwrap();
    assert_eq!(restored.status(), 201);
    let restored: serde_json::Value = restored.json().await.unwrap();
    assert_eq!(restored["learner_id"], joined["learner_id"]);
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(restored["session_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // And by form, on a new phone.
    let new_phone = phone();
    let page = new_phone
        .get(app.url("/recover"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = r#"name="csrf" value=""#;
    let start = page.find(marker).unwrap() + marker.len();
    let csrf = page[start..start + page[start..].find('"').unwrap()].to_owned();
    let wrong = new_phone
        .post(app.url("/recover"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("recovery_code", "0000-0000-0000-0000"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 422);
    let right = new_phone
        .post(app.url("/recover"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("recovery_code", recovery.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    assert!(
        new_phone
            .get(app.url("/me"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("阿芳")
    );
}

#[tokio::test]
async fn the_operator_commands_manage_factories_lines_and_codes() {
    let db = TestDatabase::create().await;
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
            .args(args)
            .env("DATABASE_URL", &db.url)
            .env("HOMEWARD_PUBLIC_URL", "https://hw.example")
            .env_remove("REDIS_URL")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    if crate::helpers::test_database_server().is_some() {
        run(&["migrate", "up"]);
    }
    let last = |out: String| out.lines().last().unwrap().to_owned();
    let factory = last(run(&[
        "factory",
        "add",
        "深圳制衣厂",
        "--name-en",
        "Shenzhen Garments",
        "--city",
        "深圳",
    ]));
    let line = last(run(&["line", "add", "--factory", &factory, "Cutting"]));
    let url = last(run(&[
        "code",
        "create",
        "--factory",
        &factory,
        "--line",
        &line,
        "--label",
        "gate",
        "--expires",
        "2099-12-31",
        "--max-joins",
        "50",
    ]));
    let token = url
        .strip_prefix("https://hw.example/join/")
        .expect("join URL as the last line");
    assert_eq!(token.len(), 24);
    let list = run(&["code", "list"]);
    assert!(list.contains(token) && list.contains("active"));
    run(&["code", "revoke", token]);
    assert!(run(&["code", "list"]).contains("revoked"));
}
