//! What an attacker tried (issue 11, items 9–11, 14 and 15): redirects off the site, CSRF
//! without the session's token, formulas in the managers' CSV, secrets kept by caches, media
//! answers without their sandbox, markup in staff email addresses and inline styles the
//! policy blocks.

use std::sync::Arc;

use homeward::domain::learner::POLICY_VERSION;
use homeward::services::staff::Role;
use serde_json::{Value, json};

use crate::enrollment::{count, hidden, join_by_form, make_code, phone_with, spawn};
use crate::fixture;
use crate::helpers::TestDatabase;
use crate::staff::{cookie, csrf, sign_in};

/// Paths that lead off the site once a browser has read them (tabs and newlines dropped, `\`
/// read as `/`), as sent in a query (so once percent-encoded).
const OFF_SITE: &[&str] = &[
    "/%09/evil.example/",
    "/%0a/x",
    "/%0d%0a/evil.example",
    "//evil.example",
    "/%5Cevil.example",
    "/%5C%5Cevil.example",
    "https://evil.example/",
    "/%2F/evil.example",
    "/%252F%252Fevil.example",
    "/%2509/evil.example",
];

#[tokio::test]
async fn the_language_switch_and_staff_sign_in_never_redirect_off_the_site() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    for next in OFF_SITE {
        let response = app.get(&format!("/lang/en?next={next}")).await;
        assert_eq!(response.status(), 303, "{next}");
        assert_eq!(
            response
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap()),
            Some("/"),
            "/lang/en?next={next}"
        );
    }
    let response = app.get("/lang/en?next=/s/family/first-comic").await;
    assert_eq!(response.headers()["location"], "/s/family/first-comic");

    // The staff sign-in carries `next` through its form and goes there afterwards.
    sign_in(&app, "admin@example.org", Role::Admin, None).await;
    for next in OFF_SITE.iter().copied().chain(["/studio"]) {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let browser = phone_with(jar);
        let page = browser
            .get(app.url(&format!("/staff/login?next={next}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let carried = hidden(&page, "next");
        let form_csrf = hidden(&page, "csrf");
        let signed_in = browser
            .post(app.url("/staff/login"))
            .form(&[
                ("csrf", form_csrf.as_str()),
                ("email", "admin@example.org"),
                ("password", crate::staff::PASSWORD),
                ("next", &percent_decoded(next)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 303, "{next}");
        let location = signed_in.headers()["location"].to_str().unwrap().to_owned();
        if next == "/studio" {
            assert_eq!(
                (carried.as_str(), location.as_str()),
                ("/studio", "/studio")
            );
        } else {
            assert_eq!(carried, "", "next={next} must not be carried");
            assert_eq!(location, "/admin", "next={next}");
        }
    }
}

/// What a form field holds after the browser decoded the query once.
fn percent_decoded(value: &str) -> String {
    percent_encoding::percent_decode_str(value)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

/// Joins on a phone (cookie session) and opens this week's lesson; returns the phone's cookie
/// header value parts: session token and the page's CSRF token.
async fn cookie_learner(app: &crate::helpers::TestApp, token: &str) -> (String, String) {
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let phone = phone_with(jar.clone());
    let joined = join_by_form(
        app,
        &phone,
        token,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    assert_eq!(joined.status(), 303);
    let session = joined
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.strip_prefix("hw_session="))
        .map(|v| v.split(';').next().unwrap().to_owned())
        .next()
        .expect("a session cookie");
    let page = phone
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    (session, hidden(&page, "csrf"))
}

#[tokio::test]
async fn a_cookie_session_needs_its_own_csrf_token_whatever_else_is_sent() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let (victim, victim_csrf) = cookie_learner(&app, &code.token).await;
    let (_, attacker_csrf) = cookie_learner(&app, &code.token).await;
    let events = json!({"events": [{"id": uuid::Uuid::new_v4(), "series": "family", "lesson": "first-comic", "kind": "opened"}]});
    let attempt = |method: &str, path: &str, cookies: String, extra: Option<(&str, String)>| {
        let mut request = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .header("cookie", cookies);
        if let Some((name, value)) = extra {
            request = request.header(name, value);
        }
        match path {
            "/api/v1/me" if method == "PATCH" => request.json(&json!({"nickname": "被改了"})),
            "/api/v1/progress/events" => request.json(&events),
            _ => request,
        }
    };
    let operations = [
        ("PATCH", "/api/v1/me"),
        ("POST", "/api/v1/progress/events"),
        ("DELETE", "/api/v1/me"),
    ];
    for (method, path) in operations {
        // A non-Bearer Authorization header authenticates nothing and skips nothing.
        let basic = attempt(
            method,
            path,
            format!("hw_session={victim}"),
            Some(("authorization", "Basic dXNlcjpwYXNz".into())),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(basic.status(), 403, "{method} {path} with Basic");
        // Another learner's token, even with a matching hw_csrf cookie planted beside it.
        let planted = attempt(
            method,
            path,
            format!("hw_session={victim}; hw_csrf={attacker_csrf}"),
            Some(("x-csrf-token", attacker_csrf.clone())),
        )
        .send()
        .await
        .unwrap();
        assert_eq!(
            planted.status(),
            403,
            "{method} {path} with another's token"
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM progress_event").await, 0);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM learner WHERE nickname IS NOT NULL"
        )
        .await,
        0
    );
    // The victim's own page token works.
    let own = attempt(
        "PATCH",
        "/api/v1/me",
        format!("hw_session={victim}"),
        Some(("x-csrf-token", victim_csrf)),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(own.status(), 200);
}

#[tokio::test]
async fn the_dashboard_csv_writes_names_as_text_never_as_formulas() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let (factory, _) = app.make_factory().await;
    let admin = sign_in(&app, "admin@example.org", Role::Admin, None).await;
    let token = csrf(&app, &admin, "/admin").await;
    let formulas = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "+1+1", "-2+3"];
    for name in formulas {
        let added = app
            .client
            .post(app.url(&format!("/admin/factories/{factory}/lines")))
            .header("cookie", cookie(&admin))
            .form(&[("csrf", token.as_str()), ("name", name)])
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 303, "{name}");
    }
    let csv = app
        .client
        .get(app.url(&format!("/manage/f/{factory}/dashboard.csv")))
        .header("cookie", cookie(&admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for name in formulas {
        let quoted = format!("\"'{}\"", name.replace('"', "\"\""));
        assert!(
            csv.lines()
                .any(|l| l.starts_with(&format!("line,{quoted},"))),
            "{name} must be written as text: {csv}"
        );
    }
    for line in csv.lines() {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a formula cell: {line}"
            );
        }
    }
}

/// Whether a response may be stored by a cache.
fn stored(response: &reqwest::Response) -> Option<String> {
    let value = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (value != "no-store").then_some(value)
}

#[tokio::test]
async fn answers_that_show_a_secret_are_never_stored() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let mut checked: Vec<(String, Option<String>)> = Vec::new();

    // Joining by form: the lesson page with the welcome shows the recovery code.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let phone = phone_with(jar);
    let joined = join_by_form(
        &app,
        &phone,
        &code.token,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    let lesson = joined.headers()["location"].to_str().unwrap().to_owned();
    let welcome = phone.get(app.url(&lesson)).send().await.unwrap();
    checked.push((format!("GET {lesson} after joining"), stored(&welcome)));
    assert!(welcome.text().await.unwrap().contains("class=\"banner\""));
    for path in ["/me", "/me/export.json"] {
        let response = phone.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        checked.push((format!("GET {path}"), stored(&response)));
    }

    // The API: joining, recovery, the account and its export, a new recovery code.
    let enrolled = app
        .client
        .post(app.url("/api/v1/enrollments"))
        .json(&json!({"token": code.token, "audience": "parents", "accept_policy": POLICY_VERSION}))
        .send()
        .await
        .unwrap();
    checked.push(("POST /api/v1/enrollments".into(), stored(&enrolled)));
    let enrolled: Value = enrolled.json().await.unwrap();
    let session = enrolled["session_token"].as_str().unwrap().to_owned();
    for path in ["/api/v1/me", "/api/v1/me/export"] {
        let response = app
            .client
            .get(app.url(path))
            .bearer_auth(&session)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        checked.push((format!("GET {path}"), stored(&response)));
    }
    let renewed = app
        .client
        .post(app.url("/api/v1/me/recovery-code"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(renewed.status(), 201);
    checked.push(("POST /api/v1/me/recovery-code".into(), stored(&renewed)));
    let renewed: Value = renewed.json().await.unwrap();
    let recovered = app
        .client
        .post(app.url("/api/v1/sessions/recover"))
        .json(&json!({"recovery_code": renewed["recovery_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(recovered.status(), 201);
    checked.push(("POST /api/v1/sessions/recover".into(), stored(&recovered)));

    // Staff: API tokens, set-password links, a learner's data.
    let admin = sign_in(&app, "admin@example.org", Role::Admin, None).await;
    for path in ["/staff/tokens", "/admin"] {
        let response = app
            .client
            .get(app.url(path))
            .header("cookie", cookie(&admin))
            .send()
            .await
            .unwrap();
        checked.push((format!("GET {path}"), stored(&response)));
    }
    let token = csrf(&app, &admin, "/admin").await;
    for (path, form) in [
        ("/staff/tokens", vec![("name", "laptop")]),
        (
            "/admin/staff",
            vec![("email", "editor@example.org"), ("role", "editor")],
        ),
    ] {
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend(form);
        let response = app
            .client
            .post(app.url(path))
            .header("cookie", cookie(&admin))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "POST {path}");
        checked.push((format!("POST {path}"), stored(&response)));
    }
    let learner = enrolled["learner_id"].as_i64().unwrap();
    let export = app
        .client
        .get(app.url(&format!("/admin/learners/{learner}/export.json")))
        .header("cookie", cookie(&admin))
        .send()
        .await
        .unwrap();
    checked.push((
        "GET /admin/learners/{id}/export.json".into(),
        stored(&export),
    ));
    for (path, body) in [
        ("/api/v1/staff/tokens", json!({"name": "ci"})),
        (
            "/api/v1/admin/staff",
            json!({"email": "second@example.org", "role": "editor"}),
        ),
    ] {
        let response = app
            .client
            .post(app.url(path))
            .header("cookie", cookie(&admin))
            .header("x-csrf-token", &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "POST {path}");
        checked.push((format!("POST {path}"), stored(&response)));
    }

    let kept: Vec<_> = checked.iter().filter(|(_, c)| c.is_some()).collect();
    assert!(kept.is_empty(), "answers a cache may keep: {kept:?}");
    assert!(checked.len() >= 15, "{checked:?}");
}

#[tokio::test]
async fn media_revalidations_and_refused_ranges_keep_the_sandbox() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let path = "/media/family/first-comic/p1.svg";
    let first = app.get(path).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let sandboxed = |response: &reqwest::Response| {
        response
            .headers()
            .get("content-security-policy")
            .is_some_and(|v| v.to_str().unwrap().contains("sandbox"))
    };
    assert!(sandboxed(&first));
    let revalidated = app
        .client
        .get(app.url(path))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert!(sandboxed(&revalidated), "304 without the media CSP");
    let refused = app
        .client
        .get(app.url(path))
        .header("range", "bytes=99999999-")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 416);
    assert!(sandboxed(&refused), "416 without the media CSP");
}

#[tokio::test]
async fn staff_email_addresses_with_markup_are_refused() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let admin = sign_in(&app, "admin@example.org", Role::Admin, None).await;
    let token = csrf(&app, &admin, "/admin").await;
    let staff_before = count(&app, "SELECT COUNT(*) FROM staff").await;
    for email in [
        "\"><img src=x onerror=alert(1)>@example.com",
        "Li Wei <li@example.com>",
        "li@example",
    ] {
        let api = app
            .client
            .post(app.url("/api/v1/admin/staff"))
            .header("cookie", cookie(&admin))
            .header("x-csrf-token", &token)
            .json(&json!({"email": email, "role": "editor"}))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 422, "{email}");
        let page = app
            .client
            .post(app.url("/admin/staff"))
            .header("cookie", cookie(&admin))
            .form(&[
                ("csrf", token.as_str()),
                ("email", email),
                ("role", "editor"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 400, "{email}");
    }
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM staff").await,
        staff_before
    );
}

#[tokio::test]
async fn staff_pages_have_no_inline_styles_the_policy_would_block() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let admin = sign_in(&app, "admin@example.org", Role::Admin, None).await;
    let editor = sign_in(&app, "editor@example.org", Role::Editor, None).await;
    let manager = sign_in(
        &app,
        "manager@example.org",
        Role::Manager,
        Some(code.factory_id),
    )
    .await;
    let dashboard = format!("/manage/f/{}", code.factory_id);
    let pages = [
        (&admin, "/admin"),
        (&admin, "/admin/jobs"),
        (&admin, "/staff/tokens"),
        (&editor, "/studio"),
        (&editor, "/studio/safeguarding"),
        (&manager, dashboard.as_str()),
    ];
    for (session, path) in pages {
        let response = app
            .client
            .get(app.url(path))
            .header("cookie", cookie(session))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        let policy = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        let page = response.text().await.unwrap();
        for inline in [" style=", "<style"] {
            assert!(!page.contains(inline), "{path} has {inline}");
        }
    }
}
