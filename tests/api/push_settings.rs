//! A learner's lesson-message settings: shift and preferred time at joining (form and API),
//! shown and changed in /me and the API's /me, and stopping them, which cancels what is queued.

use homeward::domain::learner::POLICY_VERSION;
use serde_json::{Value, json};

use crate::enrollment::{count, join_by_form, make_code, phone, spawn};
use crate::fixture;
use crate::helpers::{TestApp, TestDatabase};

async fn enroll(app: &TestApp, token: &str, extra: Value) -> reqwest::Response {
    let mut body = json!({"token": token, "audience": "parents", "accept_policy": POLICY_VERSION});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.client
        .post(app.url("/api/v1/enrollments"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).unwrap() + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[tokio::test]
async fn the_api_takes_shift_and_time_at_joining_and_changes_them_in_me() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;

    // A time in the shift's quiet hours is refused and nobody is created.
    let refused = enroll(
        &app,
        &code.token,
        json!({"shift": "night", "preferred_time": "23:00"}),
    )
    .await;
    assert_eq!(refused.status(), 422);
    let problem: Value = refused.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("16:00"),
        "{problem}"
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 0);
    let bad_shift = enroll(&app, &code.token, json!({"shift": "weekend"})).await;
    assert_eq!(bad_shift.status(), 422);

    let joined: Value = enroll(
        &app,
        &code.token,
        json!({"shift": "night", "preferred_time": "17:30"}),
    )
    .await
    .json()
    .await
    .unwrap();
    let token = joined["session_token"].as_str().unwrap().to_owned();
    let me = |change: Option<Value>| {
        let app = &app;
        let token = token.clone();
        async move {
            let request = match change {
                Some(body) => app.client.patch(app.url("/api/v1/me")).json(&body),
                None => app.client.get(app.url("/api/v1/me")),
            };
            let response = request.bearer_auth(token).send().await.unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (_, shown) = me(None).await;
    assert_eq!(
        shown["messages"],
        json!({"shift": "night", "preferred_time": "17:30", "stopped": false})
    );
    // A new shift that the kept time does not suit is refused, and nothing changes.
    let (status, _) = me(Some(json!({"shift": "day", "nickname": "改了"}))).await;
    assert_eq!(status, 200, "17:30 suits the day shift too");
    let (status, _) = me(Some(json!({"shift": "rotating", "nickname": "又改"}))).await;
    assert_eq!(status, 422);
    let (_, shown) = me(None).await;
    assert_eq!(shown["nickname"], "改了");
    assert_eq!(shown["messages"]["shift"], "day");
    let (status, shown) = me(Some(
        json!({"preferred_time": "", "messages_stopped": true}),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        shown["messages"],
        json!({"shift": "day", "preferred_time": null, "stopped": true})
    );
}

#[tokio::test]
async fn the_join_form_and_me_show_and_change_the_message_settings() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let join_page = app.text(&format!("/join/{}", code.token)).await;
    assert!(join_page.contains("课程消息") && join_page.contains(r#"name="shift" value="night""#));

    let phone = phone();
    let joined = join_by_form(
        &app,
        &phone,
        &code.token,
        &[
            ("accept_policy", POLICY_VERSION),
            ("audience", "parents"),
            ("shift", "rotating"),
            ("preferred_time", "19:00"),
        ],
    )
    .await;
    assert_eq!(joined.status(), 303);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM push_preference WHERE shift = 'rotating' AND preferred_time = '19:00' AND muted_at IS NULL"
        )
        .await,
        1
    );
    let me = phone
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(me.contains("课程消息 · 正在接收"), "{me}");
    assert!(me.contains(r#"value="rotating" checked"#) && me.contains(r#"value="19:00""#));
    let csrf = csrf_of(&me);

    // Without the CSRF token nothing changes.
    let forged = phone
        .post(app.url("/me/messages"))
        .form(&[("shift", "day"), ("stop", "yes")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    // A time in quiet hours: a clear message in the page's language, nothing saved.
    let refused = phone
        .post(app.url("/me/messages?lang=en"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("shift", "day"),
            ("preferred_time", "06:00"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let page = refused.text().await.unwrap();
    assert!(page.contains("between 08:00 and 22:00"), "{page}");
    // Stopping (the same as replying 退订 in the chat).
    let stopped = phone
        .post(app.url("/me/messages"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("shift", "day"),
            ("preferred_time", ""),
            ("stop", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stopped.status(), 200);
    let page = stopped.text().await.unwrap();
    assert!(
        page.contains("消息设置已保存") && page.contains("课程消息 · 已停止"),
        "{page}"
    );
    let muted_at = "SELECT COUNT(*) FROM push_preference WHERE shift = 'day' AND preferred_time IS NULL AND muted_at IS NOT NULL";
    assert_eq!(count(&app, muted_at).await, 1);
    let en = phone
        .get(app.url("/me?lang=en"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("Lesson messages · Stopped"));
}
