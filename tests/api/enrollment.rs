//! Enrollment by QR code: codes and their QR images, posters, joining by form and by API,
//! closed codes, duplicate joins and rate limits.

use std::sync::Arc;

use homeward::clock::Clock;
use homeward::domain::learner::POLICY_VERSION;
use homeward::services::enrollment;
use reqwest::cookie::CookieStore;
use serde_json::json;

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

pub use crate::helpers::{Code, phone, phone_with};

pub async fn make_code(
    app: &TestApp,
    expires_in_days: Option<i64>,
    max_joins: Option<i32>,
) -> Code {
    app.make_code(expires_in_days, max_joins).await
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// Opens the join page on `phone` and submits the form with `fields` (plus its CSRF token).
pub async fn join_by_form(
    app: &TestApp,
    phone: &reqwest::Client,
    token: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let page = phone
        .get(app.url(&format!("/join/{token}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "csrf");
    let mut form: Vec<(&str, &str)> = vec![("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    phone
        .post(app.url(&format!("/join/{token}")))
        .form(&form)
        .send()
        .await
        .unwrap()
}

pub async fn spawn(db: &TestDatabase, content: &tempfile::TempDir) -> TestApp {
    TestApp::spawn(db, Options::new(WEEK3, content.path())).await
}

#[tokio::test]
async fn joining_by_form_creates_an_attributed_learner_with_consent() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let phone = phone_with(jar.clone());

    let page = phone
        .get(app.url(&format!("/join/{}", code.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("东莞电子厂") && page.contains("A3线"));
    assert!(
        page.contains("5人以上的汇总数字"),
        "the page says who sees what"
    );
    assert!(
        page.contains(&format!(
            r#"name="accept_policy" value="{POLICY_VERSION}" required>"#
        )),
        "consent must not be pre-ticked"
    );

    // Without consent nothing is created.
    let refused = join_by_form(&app, &phone, &code.token, &[("audience", "parents")]).await;
    assert_eq!(refused.status(), 400);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("请先勾选同意隐私说明")
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 0);

    let joined = join_by_form(
        &app,
        &phone,
        &code.token,
        &[
            ("accept_policy", POLICY_VERSION),
            ("audience", "parents"),
            ("nickname", "小王"),
            ("lang", "zh"),
            ("child_age_bands", "6-11"),
            ("children_consent", "yes"),
        ],
    )
    .await;
    assert_eq!(joined.status(), 303);
    assert_eq!(joined.headers()["location"], "/s/family/third-article");
    let cookies: Vec<String> = joined
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("hw_session="))
        .expect("session cookie");
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && session.contains("Max-Age=31536000")
    );

    // Lands on the lesson with a one-time welcome and the recovery code.
    let lesson = phone
        .get(app.url("/s/family/third-article"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(lesson.contains("欢迎加入") && lesson.contains("找回码"));
    let again = phone
        .get(app.url("/s/family/third-article"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!again.contains("欢迎加入"), "the welcome shows once");

    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 1);
    assert_eq!(
        count(&app, &format!("SELECT COUNT(*) FROM learner WHERE factory_id = {} AND line_id = {} AND code_id IS NOT NULL", code.factory_id, code.line_id)).await,
        1
    );
    assert_eq!(
        count(
            &app,
            &format!("SELECT COUNT(*) FROM consent WHERE kind = 'privacy' AND policy_version = '{POLICY_VERSION}'")
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM consent WHERE kind = 'children'").await,
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
    assert!(me.contains("小王") && me.contains("6-11") && me.contains("东莞电子厂"));

    // The same phone joining again does not make a second learner, even without its session.
    let phone_page = phone
        .get(app.url(&format!("/join/{}", code.token)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(phone_page.contains("已经加入过了"));
    let url: reqwest::Url = app.url("/").parse().unwrap();
    let cookies = jar.cookies(&url).unwrap();
    let device = cookies
        .to_str()
        .unwrap()
        .split("; ")
        .find(|c| c.starts_with("hw_device="))
        .expect("the join page gives the phone a device id")
        .to_owned();
    let same_device = Arc::new(reqwest::cookie::Jar::default());
    same_device.add_cookie_str(&device, &url);
    let without_session = phone_with(same_device);
    let rejoin = join_by_form(
        &app,
        &without_session,
        &code.token,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    assert_eq!(rejoin.status(), 303);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM learner").await,
        1,
        "a second learner was created"
    );
}

#[tokio::test]
async fn scans_are_counted_once_per_device_per_day_and_only_for_real_codes() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let (one, two) = (phone(), phone());
    for client in [&one, &one, &two] {
        assert_eq!(
            client
                .get(app.url(&format!("/join/{}", code.token)))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM code_scan").await, 2);
    app.clock.advance(chrono::Duration::days(1));
    one.get(app.url(&format!("/join/{}", code.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(count(&app, "SELECT COUNT(*) FROM code_scan").await, 3);
    // Guessing tokens gets a 404 and writes nothing.
    for guess in ["AAAAAAAAAAAAAAAAAAAAAAAA", "short", "../../etc/passwd"] {
        let status = one
            .get(app.url(&format!("/join/{guess}")))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 404, "{guess}");
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM code_scan").await, 3);
}

#[tokio::test]
async fn joining_by_api_needs_the_current_policy_and_returns_a_session() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;

    let info = app
        .json(&format!("/api/v1/enrollments/{}", code.token))
        .await;
    assert_eq!(info["factory"]["name"]["en"], "Dongguan Electronics");
    assert_eq!(info["line"]["name"], "A3线");
    let version = info["policy_version"].as_str().unwrap().to_owned();
    assert!(
        info["policy_text"]["zh"]
            .as_str()
            .unwrap()
            .contains("5人以上")
    );

    let url = app.url("/api/v1/enrollments");
    for bad in [
        json!({"token": code.token, "audience": "parents"}),
        json!({"token": code.token, "audience": "parents", "accept_policy": "2020-01"}),
        json!({"token": code.token, "audience": "bosses", "accept_policy": version}),
        json!({"token": code.token, "audience": "parents", "accept_policy": version, "child_age_bands": ["6-11"]}),
        json!({"token": code.token, "audience": "parents", "accept_policy": version, "child_age_bands": ["99"], "children_consent": true}),
    ] {
        let response = app.client.post(&url).json(&bad).send().await.unwrap();
        assert_eq!(response.status(), 422, "{bad}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM consent").await, 0);

    let response = app
        .client
        .post(&url)
        .json(&json!({"token": code.token, "audience": "young-workers", "accept_policy": version, "nickname": "Ming", "lang": "en"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert!(
        response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("hw_session=")
    );
    let joined: serde_json::Value = response.json().await.unwrap();
    let token = joined["session_token"].as_str().unwrap();
    assert!(joined["recovery_code"].as_str().unwrap().len() == 19);
    let me: serde_json::Value = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["learner_id"], joined["learner_id"]);
    assert_eq!(
        (
            me["nickname"].as_str(),
            me["audience"].as_str(),
            me["lang"].as_str()
        ),
        (Some("Ming"), Some("young-workers"), Some("en"))
    );
    assert_eq!(me["factory"]["id"], code.factory_id);
    assert_eq!(app.status("/api/v1/me").await, 401);
    assert_eq!(
        app.status("/api/v1/enrollments/AAAAAAAAAAAAAAAAAAAAAAAA")
            .await,
        404
    );
}

#[tokio::test]
async fn expired_revoked_and_full_codes_get_a_clear_answer() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let expiring = make_code(&app, Some(1), None).await;
    let full = make_code(&app, None, Some(1)).await;
    let revoked = make_code(&app, None, None).await;
    enrollment::revoke_code(&app.state.db, &revoked.token, app.clock.now())
        .await
        .unwrap();

    // The last place on the full code goes to the first person.
    let first = join_by_form(
        &app,
        &phone(),
        &full.token,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    assert_eq!(first.status(), 303);
    app.clock.advance(chrono::Duration::days(2));

    for (code, zh, en) in [
        (&expiring.token, "已经过期", "has expired"),
        (&full.token, "人数已满", "reached its number of joins"),
        (&revoked.token, "已经停用", "no longer in use"),
    ] {
        let page = phone()
            .get(app.url(&format!("/join/{code}")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 410);
        assert!(page.text().await.unwrap().contains(zh));
        let english = phone()
            .get(app.url(&format!("/join/{code}?lang=en")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(english.contains(en), "{english}");
        let api = app
            .client
            .post(app.url("/api/v1/enrollments"))
            .json(&json!({"token": code, "audience": "parents", "accept_policy": POLICY_VERSION}))
            .send()
            .await
            .unwrap();
        assert_eq!(api.status(), 410);
    }
    assert_eq!(count(&app, "SELECT COUNT(*) FROM learner").await, 1);
}

#[tokio::test]
async fn qr_codes_scan_to_the_join_url() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let expected = format!("http://homeward.test/join/{}", code.token);

    let png = app.get(&format!("/qr/{}.png", code.token)).await;
    assert_eq!(png.status(), 200);
    assert_eq!(png.headers()["content-type"], "image/png");
    let image = image::load_from_memory(&png.bytes().await.unwrap())
        .unwrap()
        .to_luma8();
    assert!(image.width() >= 512);
    assert_eq!(
        crate::helpers::decode_qr(image.width() as usize, image.height() as usize, |x, y| {
            image.get_pixel(x as u32, y as u32).0[0]
        }),
        expected
    );
    // A quiet zone: the border is white.
    assert!((0..image.width()).all(|x| image.get_pixel(x, 0).0[0] == 255));

    let small = app
        .get(&format!("/qr/{}.png?size=128", code.token))
        .await
        .bytes()
        .await
        .unwrap();
    let small = image::load_from_memory(&small).unwrap().to_luma8();
    assert!(small.width() >= 128 && small.width() < 512);

    let svg = app.get(&format!("/qr/{}.svg", code.token)).await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let svg = svg.bytes().await.unwrap();
    let tree = resvg::usvg::Tree::from_data(&svg, &resvg::usvg::Options::default()).unwrap();
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width() * 2, size.height() * 2).unwrap();
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::from_scale(2.0, 2.0),
        &mut pixmap.as_mut(),
    );
    let width = pixmap.width() as usize;
    assert_eq!(
        crate::helpers::decode_qr(width, pixmap.height() as usize, |x, y| pixmap.pixels()
            [y * width + x]
            .red()),
        expected
    );

    for bad in ["?size=127", "?size=2049", "?size=big", "?size=-1"] {
        assert_eq!(
            app.status(&format!("/qr/{}.png{bad}", code.token)).await,
            400,
            "{bad}"
        );
    }
    assert_eq!(app.status(&format!("/qr/{}.gif", code.token)).await, 404);
    assert_eq!(app.status("/qr/AAAAAAAAAAAAAAAAAAAAAAAA.png").await, 404);
    enrollment::revoke_code(&app.state.db, &code.token, app.clock.now())
        .await
        .unwrap();
    assert_eq!(app.status(&format!("/qr/{}.png", code.token)).await, 404);
    assert_eq!(app.status(&format!("/qr/{}/poster", code.token)).await, 404);
}

#[tokio::test]
async fn the_poster_is_a_printable_bilingual_page() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let poster = app.get(&format!("/qr/{}/poster", code.token)).await;
    assert_eq!(poster.status(), 200);
    let page = poster.text().await.unwrap();
    for needle in [
        "归家课堂",
        "Homeward",
        "东莞电子厂",
        "Dongguan Electronics",
        "A3线",
        "用微信扫一扫上面的二维码",
        "Scan the code above with WeChat",
        "同意并加入",
        &format!(r#"src="/qr/{}.svg""#, code.token),
        &format!("http://homeward.test/join/{}", code.token),
    ] {
        assert!(page.contains(needle), "poster lacks {needle}");
    }
    let css_href = {
        let start = page.find("/static/app.").unwrap();
        page[start..start + page[start..].find('"').unwrap()].to_owned()
    };
    assert!(app.text(&css_href).await.contains("@page{size:A4"));
}

#[tokio::test]
async fn joins_are_rate_limited_per_address() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    rate_limits(&app).await;
}

#[tokio::test]
async fn rate_limits_hold_with_redis_down() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let mut options = Options::new(WEEK3, content.path());
    options.redis_url = Some("redis://127.0.0.1:1/".into());
    let app = TestApp::spawn(&db, options).await;
    rate_limits(&app).await;
}

async fn rate_limits(app: &TestApp) {
    let code = make_code(app, None, None).await;
    let url = app.url("/api/v1/enrollments");
    let mut statuses = Vec::new();
    for _ in 0..22 {
        let response = app
            .client
            .post(&url)
            .json(&json!({"token": code.token, "audience": "parents"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
        if response.status() == 429 {
            let retry: u64 = response.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!(retry > 0 && retry <= 600);
        }
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 422).count(),
        20,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        2,
        "{statuses:?}"
    );
    // The HTML form shares the limit.
    let form = join_by_form(
        app,
        &phone(),
        &code.token,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    assert_eq!(form.status(), 429);
    assert!(form.headers().contains_key("retry-after"));
    assert_eq!(count(app, "SELECT COUNT(*) FROM learner").await, 0);

    // Recovery codes cannot be guessed quickly either.
    let mut statuses = Vec::new();
    for _ in 0..12 {
        let response = app
            .client
            .post(app.url("/api/v1/sessions/recover"))
            .json(&json!({"recovery_code": "AAAA-BBBB-CCCC-DDDD"}))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[422; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
}

#[tokio::test]
async fn the_join_form_asks_for_the_childrens_consent_once_and_keeps_a_refused_forms_choices() {
    use homeward::domain::learner::children_consent_text;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let phone = phone_with(Arc::new(reqwest::cookie::Jar::default()));

    let page = app.text(&format!("/join/{}", code.token)).await;
    let consent = children_consent_text();
    assert_eq!(page.matches(consent.zh.as_str()).count(), 1, "{page}");
    assert!(
        !page.contains("我同意保存孩子的年龄段（不保存孩子的姓名）"),
        "the children's consent is asked in one sentence, once: {page}"
    );

    // Consent to the policy not ticked: the form comes back as it was filled.
    let refused = join_by_form(
        &app,
        &phone,
        &code.token,
        &[
            ("audience", "young-workers"),
            ("nickname", "小王"),
            ("lang", "en"),
            ("child_age_bands", "3-5"),
            ("child_age_bands", "12-17"),
            ("children_consent", "yes"),
            ("shift", "night"),
            ("preferred_time", "07:30"),
        ],
    )
    .await;
    assert_eq!(refused.status(), 400);
    let page = refused.text().await.unwrap();
    assert!(page.contains("请先勾选同意隐私说明"), "{page}");
    for kept in [
        r#"name="nickname" maxlength="30" autocomplete="nickname" aria-label="昵称（可不填）" value="小王""#,
        r#"value="young-workers" checked"#,
        r#"value="3-5" checked"#,
        r#"value="12-17" checked"#,
        r#"name="children_consent" value="yes" checked"#,
        r#"value="night" checked"#,
        r#"value="07:30""#,
        r#"value="en" checked"#,
    ] {
        assert!(page.contains(kept), "the refused form lost {kept}: {page}");
    }
    for not_kept in [
        r#"value="parents" checked"#,
        r#"value="6-11" checked"#,
        r#"value="zh" checked"#,
    ] {
        assert!(!page.contains(not_kept), "{not_kept}: {page}");
    }
    assert!(
        page.contains(&format!(
            r#"name="accept_policy" value="{POLICY_VERSION}" required>"#
        )),
        "consent to the policy is asked again, not ticked for them"
    );
}
