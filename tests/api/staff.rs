//! Staff areas: a role × route matrix built from the app's own route list, sessions and their
//! timeouts, CSRF, small-group suppression, previews that never leak, and changes that reach
//! learners on every instance.

use homeward::clock::Clock;
use homeward::domain::learner::POLICY_VERSION;
use homeward::services::staff::{self, Role};
use serde_json::Value;

use crate::enrollment::{count, make_code};
use crate::fixture::{self, WEEK2, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::progress::{enroll, send};

pub const PASSWORD: &str = "correct horse battery";

/// A signed-in staff member: their session token (the `hw_staff` cookie).
pub async fn sign_in(app: &TestApp, email: &str, role: Role, factory: Option<i64>) -> String {
    let now = app.clock.now();
    let (_, invite) = staff::add(&app.state.db, email, role, factory, None, now)
        .await
        .unwrap();
    staff::set_password(&app.state.db, &invite, PASSWORD, now)
        .await
        .unwrap();
    staff::login(&app.state.db, email, PASSWORD, now)
        .await
        .unwrap()
        .expect("signed in")
}

pub fn cookie(token: &str) -> String {
    format!("hw_staff={token}")
}

/// The CSRF token a staff page carries in its forms.
pub async fn csrf(app: &TestApp, token: &str, page: &str) -> String {
    let html = app
        .client
        .get(app.url(page))
        .header("cookie", cookie(token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = r#"name="csrf" value=""#;
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no csrf on {page}: {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Access {
    /// Anyone.
    Public,
    /// Enrolled learners (anonymous visitors get a page telling them how to join, or 401/404).
    Learner,
    /// Signed-in staff of any role.
    AnyStaff,
    /// Managers (of any factory) and admins.
    Managers,
    Editors,
    Admins,
    /// The factory's own manager, or an admin.
    Factory,
}

/// Who may use each route. A route missing here fails the test: every new route must say.
fn access(method: &str, path: &str) -> Access {
    use Access::*;
    match (method, path) {
        (
            "GET",
            "/"
            | "/s/:series"
            | "/s/:series/:lesson"
            | "/s/:series/:lesson/card.png"
            | "/f/:series/:lesson"
            | "/lang/:code"
            | "/media/:series/:lesson/:name"
            | "/static/:name",
        )
        | ("POST", "/s/:series/:lesson/quiz")
        | ("GET" | "POST", "/join/:token" | "/recover")
        | ("GET", "/qr/:file" | "/qr/:token/poster" | "/help")
        | ("GET" | "POST", "/staff/login")
        | ("GET" | "POST", "/staff/setup/:token") => Public,
        ("GET" | "POST", "/me")
        | ("GET", "/me/export.json" | "/s/:series/certificate")
        | (
            "POST",
            "/me/delete"
            | "/me/messages"
            | "/me/recovery-code"
            | "/me/sign-out"
            | "/s/:series/:lesson/done"
            | "/review/:series/:lesson/:question"
            | "/progress/beacon",
        ) => Learner,
        ("POST", "/staff/logout")
        | ("GET" | "POST", "/staff/tokens")
        | ("POST", "/staff/tokens/:id/revoke") => AnyStaff,
        ("GET", "/manage") => Managers,
        (
            "GET",
            "/studio"
            | "/studio/safeguarding"
            | "/studio/s/:series"
            | "/studio/s/:series/:lesson/stats"
            | "/studio/preview/:series/:lesson"
            | "/studio/media/:series/:lesson/:name",
        )
        | ("GET" | "POST", "/studio/s/:series/:lesson/edit")
        | (
            "POST",
            "/studio/s/:series/cadence"
            | "/studio/s/:series/:lesson/:action"
            | "/studio/s/:series/:lesson/media",
        ) => Editors,
        ("GET", "/admin" | "/admin/learners/:id/export.json" | "/admin/jobs")
        | (
            "POST",
            "/admin/jobs/:id/retry"
            | "/admin/factories"
            | "/admin/factories/:factory/lines"
            | "/admin/staff"
            | "/admin/learner-request"
            | "/admin/learners/:id/delete",
        ) => Admins,
        ("GET", "/manage/f/:factory" | "/manage/f/:factory/dashboard.csv")
        | ("POST", "/manage/f/:factory/codes" | "/manage/f/:factory/codes/:code/revoke") => Factory,
        _ => panic!("no access entry for {method} {path}: add one to tests/api/staff.rs"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    Learner,
    Editor,
    OwnManager,
    OtherManager,
    Admin,
}

#[tokio::test]
async fn every_route_answers_every_role_as_it_should() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let own = make_code(&app, None, None).await;
    let other = make_code(&app, None, None).await;
    let learner = enroll(&app, &own.token, "").await;
    let editor = sign_in(&app, "editor@example.org", Role::Editor, None).await;
    let own_manager = sign_in(&app, "own@example.org", Role::Manager, Some(own.factory_id)).await;
    let other_manager = sign_in(
        &app,
        "other@example.org",
        Role::Manager,
        Some(other.factory_id),
    )
    .await;
    let admin = sign_in(&app, "admin@example.org", Role::Admin, None).await;

    let fill = |path: &str| {
        path.replace(":series", "family")
            .replace(":lesson", "first-comic")
            .replace(":name", "p1.svg")
            .replace(":code", "1")
            .replace(":factory", &own.factory_id.to_string())
            .replace(":token", &own.token)
            .replace(":file", &format!("{}.png", own.token))
            .replace(":id", "1")
            .replace(":action", "publish")
    };
    let mut routes: Vec<(String, String)> = homeward::web::route_list()
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_owned()))
        .collect();
    assert!(routes.len() > 40, "the route list looks incomplete");
    routes.sort();
    let mut checked = 0;
    for (method, pattern) in &routes {
        let rule = access(method, pattern);
        let url = app.url(&fill(pattern));
        for who in [
            Who::Anonymous,
            Who::Learner,
            Who::Editor,
            Who::OwnManager,
            Who::OtherManager,
            Who::Admin,
        ] {
            let mut request = match method.as_str() {
                "GET" => app.client.get(&url),
                _ => app
                    .client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body("x=1"),
            };
            request = match who {
                Who::Anonymous => request,
                Who::Learner => request.header("cookie", format!("hw_session={}", learner.token)),
                Who::Editor => request.header("cookie", cookie(&editor)),
                Who::OwnManager => request.header("cookie", cookie(&own_manager)),
                Who::OtherManager => request.header("cookie", cookie(&other_manager)),
                Who::Admin => request.header("cookie", cookie(&admin)),
            };
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let to_login = status == 303
                && response.headers()["location"]
                    .to_str()
                    .unwrap()
                    .starts_with("/staff/login");
            let is_staff = matches!(
                who,
                Who::Editor | Who::OwnManager | Who::OtherManager | Who::Admin
            );
            let allowed = match rule {
                Access::Public => true,
                Access::Learner => who == Who::Learner,
                Access::AnyStaff => is_staff,
                Access::Managers => matches!(who, Who::OwnManager | Who::OtherManager | Who::Admin),
                Access::Editors => matches!(who, Who::Editor | Who::Admin),
                Access::Admins => who == Who::Admin,
                Access::Factory => matches!(who, Who::OwnManager | Who::Admin),
            };
            let context = format!("{method} {pattern} as {who:?}: {status}");
            assert!(status < 500, "{context}");
            if allowed {
                assert!(
                    !to_login && status != 401 && status != 403,
                    "{context} should be allowed"
                );
                continue;
            }
            match (rule, who) {
                (Access::Learner, _) => assert!(
                    matches!(status, 200 | 400 | 404),
                    "{context}: a page saying to join, or nothing"
                ),
                (_, Who::Anonymous | Who::Learner) => {
                    assert!(to_login, "{context} should send to sign-in")
                }
                (Access::Factory, Who::OtherManager) => {
                    assert_eq!(status, 404, "{context}: another factory is not found")
                }
                _ => assert_eq!(status, 403, "{context}"),
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} refusals checked");
    // The learner-only pages do not leak anything to anonymous visitors.
    assert_eq!(app.status("/me/export.json").await, 404);
}

#[tokio::test]
async fn sessions_renew_end_and_time_out() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let now = app.clock.now();
    let (_, invite) = staff::add(
        &app.state.db,
        "ed@example.org",
        Role::Editor,
        None,
        None,
        now,
    )
    .await
    .unwrap();

    // The one-time link sets a password once.
    let setup = format!("/staff/setup/{invite}");
    let page = app.client.get(app.url(&setup)).send().await.unwrap();
    let csrf_cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let html = page.text().await.unwrap();
    assert!(html.contains("ed@example.org"));
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker).unwrap() + marker.len();
    let form_csrf = html[start..start + html[start..].find('"').unwrap()].to_owned();
    let short = app
        .client
        .post(app.url(&setup))
        .header("cookie", &csrf_cookie)
        .form(&[("csrf", form_csrf.as_str()), ("password", "short")])
        .send()
        .await
        .unwrap();
    assert_eq!(short.status(), 400);
    let set = app
        .client
        .post(app.url(&setup))
        .header("cookie", &csrf_cookie)
        .form(&[("csrf", form_csrf.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 303);
    assert_eq!(
        app.client
            .get(app.url(&setup))
            .send()
            .await
            .unwrap()
            .status(),
        410,
        "links work once"
    );

    // Sign in through the form: each login is a new session, with a strict cookie.
    let login = |password: &'static str| {
        let app = &app;
        let csrf_cookie = csrf_cookie.clone();
        let form_csrf = form_csrf.clone();
        async move {
            app.client
                .post(app.url("/staff/login"))
                .header("cookie", csrf_cookie)
                .form(&[
                    ("csrf", form_csrf.as_str()),
                    ("email", "ED@example.org"),
                    ("password", password),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(login("wrong password!").await.status(), 401);
    let first = login(PASSWORD).await;
    assert_eq!(first.status(), 303);
    assert_eq!(first.headers()["location"], "/studio");
    let set_cookie = first.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"),
        "{set_cookie}"
    );
    let token_of = |set_cookie: &str| {
        set_cookie
            .split(';')
            .next()
            .unwrap()
            .trim_start_matches("hw_staff=")
            .to_owned()
    };
    let token = token_of(&set_cookie);
    let second = token_of(
        login(PASSWORD).await.headers()["set-cookie"]
            .to_str()
            .unwrap(),
    );
    assert_ne!(token, second, "login renews the session");

    let studio = |token: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/studio"))
                .header("cookie", cookie(&token))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(studio(token.clone()).await, 200);
    // Idle for 29 minutes: still in. 31 more: out.
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(studio(token.clone()).await, 200);
    app.clock.advance(chrono::Duration::minutes(31));
    assert_eq!(studio(token.clone()).await, 303);
    // Busy all day: out after 12 hours all the same.
    let busy = staff::login(&app.state.db, "ed@example.org", PASSWORD, app.clock.now())
        .await
        .unwrap()
        .unwrap();
    let logged_in = app.clock.now();
    loop {
        app.clock.advance(chrono::Duration::minutes(29));
        if app.clock.now() - logged_in > chrono::Duration::hours(12) {
            break;
        }
        assert_eq!(
            studio(busy.clone()).await,
            200,
            "an active session lasts up to 12 hours"
        );
    }
    assert_eq!(
        studio(busy).await,
        303,
        "the absolute timeout ends even an active session"
    );

    // Logout ends the session; without the CSRF token it is refused.
    let fresh = staff::login(&app.state.db, "ed@example.org", PASSWORD, app.clock.now())
        .await
        .unwrap()
        .unwrap();
    let refused = app
        .client
        .post(app.url("/staff/logout"))
        .header("cookie", cookie(&fresh))
        .form(&[("csrf", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let csrf = csrf(&app, &fresh, "/studio").await;
    let out = app
        .client
        .post(app.url("/staff/logout"))
        .header("cookie", cookie(&fresh))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(studio(fresh).await, 303);
}

#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    sign_in(&app, "target@example.org", Role::Admin, None).await;
    let page = app
        .client
        .get(app.url("/staff/login"))
        .send()
        .await
        .unwrap();
    let csrf_cookie = page.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = csrf_cookie.trim_start_matches("hw_csrf=").to_owned();
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let response = app
            .client
            .post(app.url("/staff/login"))
            .header("cookie", &csrf_cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", "target@example.org"),
                ("password", "guess guess guess"),
            ])
            .send()
            .await
            .unwrap();
        if response.status() == 429 {
            assert!(response.headers().contains_key("retry-after"));
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[401; 10]);
    assert_eq!(statuses[10], 429);
}

#[tokio::test]
async fn security_headers_are_on_error_pages_too() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), 404);
    // A database that has gone away makes a 503 page; it carries the headers too.
    app.state.db.clone().close().await.unwrap();
    let broken = app.get("/s/family").await;
    assert_eq!(broken.status(), 503);
    for response in [missing, broken] {
        let headers = response.headers();
        let csp = headers["content-security-policy"].to_str().unwrap();
        for directive in [
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{csp}");
        }
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.contains_key("referrer-policy"));
        assert!(response.text().await.unwrap().contains("Homeward"));
    }
}

#[tokio::test]
async fn a_preview_never_reaches_learners_even_with_a_warm_cache() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK2, content.path())).await;
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    for _ in 0..2 {
        let preview = app
            .client
            .get(app.url("/studio/preview/family/third-article?lang=en"))
            .header("cookie", cookie(&editor))
            .send()
            .await
            .unwrap();
        assert_eq!(preview.status(), 200);
        let html = preview.text().await.unwrap();
        assert!(
            html.contains("Preview: learners cannot see this lesson now")
                && html.contains("Listen to your child.")
        );
        let draft = app
            .client
            .get(app.url("/studio/preview/family/fourth-draft"))
            .header("cookie", cookie(&editor))
            .send()
            .await
            .unwrap();
        assert_eq!(draft.status(), 200);
    }
    let poster = app
        .client
        .get(app.url("/studio/media/family/second-video/poster.svg"))
        .header("cookie", cookie(&editor))
        .send()
        .await
        .unwrap();
    assert_eq!(poster.status(), 200);
    for path in [
        "/s/family/third-article",
        "/s/family/third-article?lang=en",
        "/api/v1/series/family/lessons/third-article",
        "/s/family/fourth-draft",
    ] {
        assert_eq!(app.status(path).await, 404, "{path}");
    }
}

async fn studio_action(
    app: &TestApp,
    editor: &str,
    lesson: &str,
    action: &str,
    extra: &[(&str, &str)],
) -> u16 {
    let csrf = csrf(app, editor, "/studio/s/family").await;
    let mut form = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(extra);
    app.client
        .post(app.url(&format!("/studio/s/family/{lesson}/{action}")))
        .header("cookie", cookie(editor))
        .form(&form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn editors_reschedule_publish_and_unpublish_and_learners_see_it_at_once() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK2, content.path())).await;
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    // Warm the caches.
    assert_eq!(app.status("/s/family/second-video").await, 200);
    assert_eq!(app.status("/s/family/third-article").await, 404);

    // Week 3 moved to tomorrow 08:00 Beijing time: still hidden today, out tomorrow.
    let tomorrow = (app.clock.now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .to_string();
    assert_eq!(
        studio_action(
            &app,
            &editor,
            "third-article",
            "reschedule",
            &[("date", tomorrow.as_str()), ("time", "08:00")]
        )
        .await,
        303
    );
    assert_eq!(app.status("/s/family/third-article").await, 404);
    let calendar = app
        .client
        .get(app.url("/studio/s/family"))
        .header("cookie", cookie(&editor))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(calendar.contains("08:00"));
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(app.status("/s/family/third-article").await, 200);

    // A day later the editor signs in again (sessions end after 30 idle minutes).
    let editor = staff::login(&app.state.db, "ed@example.org", PASSWORD, app.clock.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        studio_action(&app, &editor, "second-video", "unpublish", &[]).await,
        303
    );
    assert_eq!(app.status("/s/family/second-video").await, 404);
    assert_eq!(app.status("/media/family/second-video/clip.mp4").await, 404);
    assert_eq!(
        studio_action(&app, &editor, "fourth-draft", "publish", &[]).await,
        303
    );
    assert_eq!(app.status("/s/family/fourth-draft").await, 200);
    // Bad input changes nothing.
    assert_eq!(
        studio_action(
            &app,
            &editor,
            "third-article",
            "reschedule",
            &[("date", "someday"), ("time", "08:00")]
        )
        .await,
        400
    );
    assert_eq!(
        studio_action(&app, &editor, "third-article", "teleport", &[]).await,
        404
    );
    // Every change is in the audit log with before and after.
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_log WHERE action IN ('reschedule', 'publish', 'unpublish') AND before_json IS NOT NULL AND after_json IS NOT NULL").await, 3);

    // The import does not silently undo the studio: a changed file leaves the edited lesson alone.
    fixture::write(
        content.path(),
        "family/second-video/lesson.toml",
        std::fs::read_to_string(content.path().join("family/second-video/lesson.toml"))
            .unwrap()
            .replace("Video second-video", "Renamed"),
    );
    let counts = app.import().await;
    assert_eq!(counts.lessons_kept_studio_edits, 1);
    assert_eq!(
        app.status("/s/family/second-video").await,
        404,
        "still unpublished as the editor decided"
    );
}

#[tokio::test]
async fn a_change_on_one_instance_reaches_learners_on_another_within_a_second() {
    if crate::helpers::test_redis_url().is_none() {
        // Instances share changes through Redis; the embedded setup is a single instance.
        return;
    }
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let prefix = format!("hwtest:{}:", uuid::Uuid::new_v4().simple());
    let mut options = Options::new(WEEK2, content.path());
    options.cache_prefix = Some(prefix.clone());
    let a = TestApp::spawn(&db, options).await;
    let mut options = Options::new(WEEK2, content.path());
    options.cache_prefix = Some(prefix);
    let b = TestApp::spawn_empty(&db, options).await;
    let editor = sign_in(&a, "ed@example.org", Role::Editor, None).await;
    assert_eq!(b.status("/s/family/second-video").await, 200);
    assert_eq!(b.status("/s/family/third-article").await, 404);

    studio_action(&a, &editor, "second-video", "unpublish", &[]).await;
    studio_action(&a, &editor, "third-article", "publish", &[]).await;
    let started = std::time::Instant::now();
    loop {
        let (video, article) = (
            b.status("/s/family/second-video").await,
            b.status("/s/family/third-article").await,
        );
        if (video, article) == (404, 200) {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(1),
            "instance B still shows the old plan"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let tomorrow = (a.clock.now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .to_string();
    studio_action(
        &a,
        &editor,
        "third-article",
        "reschedule",
        &[("date", tomorrow.as_str()), ("time", "09:00")],
    )
    .await;
    assert_eq!(b.status("/s/family/third-article").await, 404);
}

#[tokio::test]
async fn managers_see_only_groups_of_five_or_more() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let code = make_code(&app, None, None).await;
    // A second line with 3 learners; the first line has 7.
    let line_b = homeward::services::enrollment::add_line(
        &app.state.db,
        code.factory_id,
        "B线",
        app.clock.now(),
    )
    .await
    .unwrap();
    let (_, token_b) = homeward::services::enrollment::create_code(
        &app.state.db,
        homeward::services::enrollment::NewCode {
            factory_id: code.factory_id,
            line_id: Some(line_b),
            label: "b".into(),
            expires_at: None,
            max_joins: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    let mut learners = Vec::new();
    for i in 0..10 {
        let token = if i < 7 { &code.token } else { &token_b };
        learners.push(enroll(&app, token, "").await);
    }
    for learner in &learners[..6] {
        send(&app, learner, &[serde_json::json!({"id": uuid::Uuid::new_v4(), "series": "family", "lesson": "first-comic", "kind": "opened"})]).await;
    }
    let manager = sign_in(
        &app,
        "boss@example.org",
        Role::Manager,
        Some(code.factory_id),
    )
    .await;
    let page = app
        .client
        .get(app.url(&format!("/manage/f/{}?lang=en", code.factory_id)))
        .header("cookie", cookie(&manager))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("fewer than 5"));
    assert!(
        !html.contains("阿明"),
        "no learner's nickname reaches a manager"
    );
    let csv = app
        .client
        .get(app.url(&format!("/manage/f/{}/dashboard.csv", code.factory_id)))
        .header("cookie", cookie(&manager))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let line = |name: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("line,\"{name}\"")))
            .unwrap_or_else(|| panic!("{name} in {csv}"))
            .to_owned()
    };
    // Lines of 7 and 3 with the factory total of 10 shown: hiding only the 3 would let
    // 10 − 7 reveal it, so the 7 is hidden too.
    assert!(line("B线").contains(",<5,"), "{csv}");
    assert!(line("A3线").starts_with("line,\"A3线\",<5,"), "{csv}");
    assert!(
        line("whole factory").starts_with("line,\"whole factory\",10,"),
        "{csv}"
    );
    // 6 opened the first comic: shown; nobody completed it: hidden, and no rate.
    let comic = csv.lines().find(|l| l.contains("第1课")).unwrap();
    assert!(
        comic.starts_with("lesson,family,\"第1课\",6,<5,"),
        "{comic}"
    );
    let values: Vec<&str> = csv.lines().flat_map(|l| l.split(',')).collect();
    for n in ["1", "2", "3", "4"] {
        assert!(!values.contains(&n), "a figure under 5 is visible: {csv}");
    }
}

#[tokio::test]
async fn editors_see_per_question_statistics() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let code = make_code(&app, None, None).await;
    for answer in ["a", "a", "b"] {
        let learner = enroll(&app, &code.token, "").await;
        let result: Value = app
            .client
            .post(app.url("/api/v1/series/family/lessons/first-comic/quiz"))
            .bearer_auth(&learner.token)
            .json(&serde_json::json!({"answers": {"q1": [answer], "q2": ["a", "c"]}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(result["recorded"], true);
    }
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    let stats = app
        .client
        .get(app.url("/studio/s/family/first-comic/stats?lang=en"))
        .header("cookie", cookie(&editor))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // q1: 1 of 3 right (33%), the wrong answer "A" chosen twice; q2: all right.
    assert!(stats.contains("<td>33%</td><td>A (2)</td>"), "{stats}");
    assert!(stats.contains("<td>100%</td><td>–</td>"), "{stats}");
}

/// Who may call each API operation; an operation missing here fails the test.
fn api_access(method: &str, path: &str) -> Access {
    use Access::*;
    match (method, path) {
        ("GET", "/series" | "/series/{series}" | "/series/{series}/lessons/{lesson}")
        | ("POST", "/series/{series}/lessons/{lesson}/quiz")
        | ("GET", "/enrollments/{token}")
        | ("POST", "/enrollments" | "/sessions/recover") => Public,
        ("GET" | "PATCH" | "DELETE", "/me")
        | ("GET", "/me/export" | "/me/progress")
        | ("POST", "/progress/events" | "/me/recovery-code")
        | ("DELETE", "/sessions" | "/sessions/current") => Learner,
        (
            "GET",
            "/studio/series/{series}/calendar" | "/studio/series/{series}/lessons/{lesson}/stats",
        )
        | (
            "POST",
            "/studio/series/{series}/lessons/{lesson}/reschedule"
            | "/studio/series/{series}/lessons/{lesson}/publish"
            | "/studio/series/{series}/lessons/{lesson}/unpublish"
            | "/studio/series/{series}/cadence",
        ) => Editors,
        ("GET", "/manage/factories/{factory}/dashboard")
        | (
            "POST",
            "/manage/factories/{factory}/codes" | "/manage/factories/{factory}/codes/{code}/revoke",
        ) => Factory,
        (
            "POST",
            "/admin/factories"
            | "/admin/factories/{factory}/lines"
            | "/admin/staff"
            | "/admin/learner-requests"
            | "/admin/jobs/{id}/retry",
        )
        | ("GET", "/admin/audit" | "/admin/learners/{id}/export" | "/admin/jobs")
        | ("DELETE", "/admin/learners/{id}") => Admins,
        ("POST", "/staff/tokens") | ("DELETE", "/staff/tokens/{id}") => AnyStaff,
        _ => panic!("no access entry for API {method} {path}: add one to tests/api/staff.rs"),
    }
}

#[tokio::test]
async fn every_api_operation_answers_every_role_as_it_should() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let own = make_code(&app, None, None).await;
    let other = make_code(&app, None, None).await;
    let learner = enroll(&app, &own.token, "").await;
    let now = app.clock.now();
    let mut tokens = std::collections::HashMap::new();
    for (who, email, role, factory) in [
        (Who::Editor, "e@example.org", Role::Editor, None),
        (
            Who::OwnManager,
            "m@example.org",
            Role::Manager,
            Some(own.factory_id),
        ),
        (
            Who::OtherManager,
            "o@example.org",
            Role::Manager,
            Some(other.factory_id),
        ),
        (Who::Admin, "a@example.org", Role::Admin, None),
    ] {
        let (id, _) = staff::add(&app.state.db, email, role, factory, None, now)
            .await
            .unwrap();
        let member = staff::Staff {
            id,
            email: email.into(),
            role,
            factory_id: factory,
            line_ids: None,
            session_hash: String::new(),
        };
        let (_, token) = staff::create_token(&app.state.db, &member, "test", now)
            .await
            .unwrap();
        tokens.insert(format!("{who:?}"), token);
    }
    let spec = app.json("/api/openapi.json").await;
    let mut operations = Vec::new();
    for (path, methods) in spec["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            operations.push((method.to_uppercase(), path.clone()));
        }
    }
    assert!(operations.len() >= 30, "{operations:?}");
    // Deleting the learner's account goes last, so the other operations still have a learner.
    operations.sort_by_key(|(method, path)| {
        (
            method == "DELETE" && path == "/me",
            method == "DELETE",
            path.clone(),
        )
    });
    for (method, pattern) in &operations {
        let rule = api_access(method, pattern);
        let path = pattern
            .replace("{series}", "family")
            .replace("{lesson}", "first-comic")
            .replace("{token}", &own.token)
            .replace("{factory}", &own.factory_id.to_string())
            .replace("{code}", "999999")
            .replace("{id}", "999999");
        let url = app.url(&format!("/api/v1{path}"));
        for who in [
            Who::Anonymous,
            Who::Learner,
            Who::Editor,
            Who::OwnManager,
            Who::OtherManager,
            Who::Admin,
        ] {
            // A well-formed body, so that only who is asking decides the answer.
            let body = match pattern.as_str() {
                "/progress/events" => r#"{"events": []}"#,
                "/studio/series/{series}/lessons/{lesson}/reschedule" => {
                    r#"{"date": "2030-01-30", "time": "09:00"}"#
                }
                "/manage/factories/{factory}/codes" => r#"{"label": "matrix"}"#,
                "/series/{series}/lessons/{lesson}/quiz" => r#"{"answers": {}}"#,
                "/sessions/recover" | "/admin/learner-requests" => {
                    r#"{"recovery_code": "0000-0000-0000-0000"}"#
                }
                "/studio/series/{series}/cadence" => {
                    r#"{"first_release": "2030-01-07", "weekday": "mon", "time": "20:00"}"#
                }
                "/admin/factories" => r#"{"name_zh": "新厂"}"#,
                "/admin/factories/{factory}/lines" | "/staff/tokens" => r#"{"name": "matrix"}"#,
                "/admin/staff" => r#"{"email": "matrix@example.org", "role": "editor"}"#,
                _ => "{}",
            };
            let mut request = app
                .client
                .request(method.parse().unwrap(), &url)
                .header("content-type", "application/json")
                .body(body);
            // Signing out ends sessions: each sign-out (and the deletion) gets a session of its own.
            let ends_sessions =
                method == "DELETE" && (pattern.starts_with("/sessions") || pattern == "/me");
            request = match who {
                Who::Anonymous => request,
                Who::Learner if ends_sessions => {
                    request.bearer_auth(app.new_learner_session(learner.id).await)
                }
                Who::Learner => request.bearer_auth(&learner.token),
                _ => request.bearer_auth(&tokens[&format!("{who:?}")]),
            };
            let status = request.send().await.unwrap().status().as_u16();
            let context = format!("API {method} {pattern} as {who:?}: {status}");
            assert!(status < 500, "{context}");
            let allowed = match rule {
                Access::Public => true,
                Access::Learner => who == Who::Learner,
                Access::Editors => matches!(who, Who::Editor | Who::Admin),
                Access::Factory => matches!(who, Who::OwnManager | Who::Admin),
                Access::Admins => who == Who::Admin,
                Access::AnyStaff => !matches!(who, Who::Anonymous | Who::Learner),
                Access::Managers => unreachable!(),
            };
            if allowed {
                assert!(
                    status != 401 && status != 403,
                    "{context} should be allowed"
                );
            } else if rule == Access::Factory && who == Who::OtherManager {
                assert_eq!(status, 404, "{context}: another factory is not found");
            } else if who == Who::Anonymous || (rule == Access::Learner) || who == Who::Learner {
                assert_eq!(status, 401, "{context}");
            } else {
                assert_eq!(status, 403, "{context}");
            }
        }
    }
}

#[tokio::test]
async fn content_export_writes_the_studio_edits_back_to_files() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK2, content.path())).await;
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    assert_eq!(
        studio_action(
            &app,
            &editor,
            "third-article",
            "reschedule",
            &[("date", "2030-01-16"), ("time", "07:30")]
        )
        .await,
        303
    );
    assert_eq!(
        studio_action(&app, &editor, "first-comic", "unpublish", &[]).await,
        303
    );

    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(["content", "export"])
        .arg(out.path())
        .env("DATABASE_URL", &db.url)
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lesson =
        std::fs::read_to_string(out.path().join("family/third-article/lesson.toml")).unwrap();
    assert!(
        lesson.contains("release_at = 2030-01-16T07:30:00"),
        "{lesson}"
    );
    let comic = std::fs::read_to_string(out.path().join("family/first-comic/lesson.toml")).unwrap();
    assert!(comic.contains("status = \"draft\""), "{comic}");
    assert!(
        !out.path().join("family/third-article/a.en.md").exists(),
        "articles are written under their own names"
    );
    assert!(
        std::fs::read_to_string(out.path().join("family/third-article/article.en.md"))
            .unwrap()
            .contains("Listen to your child.")
    );
    assert_eq!(
        std::fs::read(out.path().join("family/second-video/clip.mp4")).unwrap(),
        fixture::mp4()
    );

    // The files are now the record: importing them changes nothing and clears no edit by surprise.
    let series = homeward::content::load_dir(out.path()).expect("the export passes content check");
    let counts =
        homeward::services::import::import_all(&app.state.db, &series, app.clock.now(), |_| {})
            .await
            .unwrap();
    assert!(!counts.changed_anything(), "{counts:?}");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM lesson WHERE studio_edited_at IS NOT NULL"
        )
        .await,
        0
    );
    // A fresh server on the exported files shows the same plan.
    let fresh_db = TestDatabase::create().await;
    let fresh = TestApp::spawn(&fresh_db, Options::new("2030-01-16T00:00:00Z", out.path())).await;
    assert_eq!(fresh.status("/s/family/third-article").await, 200);
    assert_eq!(fresh.status("/s/family/first-comic").await, 404);
}

#[tokio::test]
async fn editors_edit_texts_and_replace_media_and_learners_see_it_at_once() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    assert!(
        app.text("/s/family/first-comic?lang=en")
            .await
            .contains("First panel")
    );
    let csrf = csrf(&app, &editor, "/studio/s/family/first-comic/edit").await;
    let edit = |fields: Vec<(&'static str, String)>| {
        let app = &app;
        let editor = editor.clone();
        let csrf = csrf.clone();
        async move {
            let mut form: Vec<(&str, String)> = vec![("csrf", csrf)];
            form.extend(fields);
            app.client
                .post(app.url("/studio/s/family/first-comic/edit"))
                .header("cookie", cookie(&editor))
                .form(&form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(
        edit(vec![
            ("panel.0.caption.en", "The first picture".into()),
            ("q.q1.explanation.en", "B, clearly.".into())
        ])
        .await,
        200
    );
    let page = app.text("/s/family/first-comic?lang=en").await;
    assert!(
        page.contains("The first picture") && !page.contains("First panel"),
        "learners see the edit at once"
    );
    let api = app.json("/api/v1/series/family/lessons/first-comic").await;
    assert_eq!(api["panels"][0]["caption"]["en"], "The first picture");
    // A translation left empty is refused and nothing changes.
    assert_eq!(
        edit(vec![
            ("title.en", "Renamed".into()),
            ("title.zh", " ".into())
        ])
        .await,
        400
    );
    assert!(
        !app.text("/s/family/first-comic?lang=en")
            .await
            .contains("Renamed")
    );

    let upload = |name: &'static str, file_name: &'static str, bytes: Vec<u8>| {
        let app = &app;
        let editor = editor.clone();
        let csrf = csrf.clone();
        async move {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("name", name)
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(file_name),
                );
            app.client
                .post(app.url("/studio/s/family/first-comic/media"))
                .header("cookie", cookie(&editor))
                .multipart(form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let new_svg = br#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>"#.to_vec();
    assert_eq!(upload("p1.svg", "new.svg", new_svg.clone()).await, 200);
    assert_eq!(
        app.get("/media/family/first-comic/p1.svg")
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        new_svg.as_slice()
    );
    assert_eq!(
        upload("p1.svg", "x.svg", b"not an image".to_vec()).await,
        400
    );
    assert_eq!(upload("nope.png", "x.png", fixture::png()).await, 400);
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('edit_texts', 'replace_media')"
        )
        .await,
        2
    );
}

#[tokio::test]
async fn admins_work_through_the_api_with_a_personal_token() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let session = sign_in(&app, "root@example.org", Role::Admin, None).await;
    // A token is made with the session (and its CSRF token), then used on its own.
    let csrf = csrf(&app, &session, "/admin").await;
    let made: Value = app
        .client
        .post(app.url("/api/v1/staff/tokens"))
        .header("cookie", cookie(&session))
        .header("x-csrf-token", &csrf)
        .json(&serde_json::json!({"name": "script"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = made["token"].as_str().unwrap().to_owned();
    let post = |path: &str, body: Value| {
        app.client
            .post(app.url(path))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let factory: Value = post(
        "/api/v1/admin/factories",
        serde_json::json!({"name_zh": "苏州厂", "name_en": "Suzhou"}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let factory_id = factory["id"].as_i64().unwrap();
    let line = post(
        &format!("/api/v1/admin/factories/{factory_id}/lines"),
        serde_json::json!({"name": "B2"}),
    )
    .await
    .unwrap();
    assert_eq!(line.status(), 200);
    let invited: Value = post("/api/v1/admin/staff", serde_json::json!({"email": "Boss@Example.org", "role": "manager", "factory_id": factory_id})).await.unwrap().json().await.unwrap();
    assert!(
        invited["setup_url"]
            .as_str()
            .unwrap()
            .starts_with("http://homeward.test/staff/setup/")
    );
    let duplicate = post("/api/v1/admin/staff", serde_json::json!({"email": "boss@example.org", "role": "manager", "factory_id": factory_id})).await.unwrap();
    assert_eq!(duplicate.status(), 422);

    // A learner's data request, found by recovery code: export, then delete.
    let code = make_code(&app, None, None).await;
    let joined: Value = app
        .client
        .post(app.url("/api/v1/enrollments"))
        .json(&serde_json::json!({"token": code.token, "audience": "parents", "accept_policy": POLICY_VERSION}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let found: Value = post(
        "/api/v1/admin/learner-requests",
        serde_json::json!({"recovery_code": joined["recovery_code"]}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(found["id"], joined["learner_id"]);
    let export: Value = app
        .client
        .get(app.url(&format!("/api/v1/admin/learners/{}/export", found["id"])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(export["learner"]["id"], joined["learner_id"]);
    let deleted = app
        .client
        .delete(app.url(&format!("/api/v1/admin/learners/{}", found["id"])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 0);

    let audit: Value = app
        .client
        .get(app.url("/api/v1/admin/audit"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for action in [
        "create_api_token",
        "add_factory",
        "add_line",
        "add_staff",
        "export_learner",
        "delete_learner",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    // Revoked, the token stops working.
    let revoked = app
        .client
        .delete(app.url(&format!("/api/v1/staff/tokens/{}", made["id"])))
        .header("cookie", cookie(&session))
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    assert_eq!(
        app.client
            .get(app.url("/api/v1/admin/audit"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
