//! Scan → follow → sign in → join → lesson, through the real server and the stand-in's sign-in
//! page; signing in again by openid on another phone; the state's checks; the openid in /me,
//! the export and deletion; QR codes for enrollment codes and the menu.

use std::sync::Arc;

use homeward::clock::Clock;
use homeward::domain::learner::POLICY_VERSION;

use super::{WechatApp, scan_xml, spawn, wechat_agent};
use crate::helpers::{PUBLIC_URL, phone_with};

/// A phone in WeChat: its own cookies, and the user agent that names it to the stand-in.
struct Phone {
    client: reqwest::Client,
    agent: String,
}

impl Phone {
    fn new(name: &str) -> Phone {
        Phone {
            client: phone_with(Arc::new(reqwest::cookie::Jar::default())),
            agent: wechat_agent(name),
        }
    }

    async fn get(&self, url: &str) -> reqwest::Response {
        self.client
            .get(url)
            .header("user-agent", &self.agent)
            .send()
            .await
            .unwrap()
    }

    /// Opens `url` and follows redirects between the app and the stand-in, as WeChat's browser
    /// would; returns the last answer and the path it came from.
    async fn open(&self, w: &WechatApp, url: &str) -> (reqwest::Response, String) {
        let mut url = url.replace(PUBLIC_URL, &w.app.address);
        for _ in 0..10 {
            let response = self.get(&url).await;
            if !response.status().is_redirection() {
                let path = url.replace(&w.app.address, "");
                return (response, path);
            }
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            url = if location.starts_with('/') {
                format!("{}{location}", w.app.address)
            } else {
                location.replace(PUBLIC_URL, &w.app.address)
            };
        }
        panic!("too many redirects from {url}");
    }
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker).expect("hidden field") + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

fn link_in(text: &str) -> String {
    let start = text.find("http://").expect("a link in the reply");
    text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn scan_follow_sign_in_join_and_read_then_sign_in_again_on_another_phone() {
    let w = spawn(true).await;
    let code = w.app.make_code(None, None).await;
    let openid = w.standin.openid_for_phone("ana");

    // Ana scans the factory's poster in WeChat: she follows, and the scan is attributed.
    let reply = w.reply_text(&w.send(&scan_xml(&openid, w.now(), &code.token, true)).await);
    assert!(reply.contains("东莞电子厂"), "{reply}");
    assert_eq!(
        w.app.count(&format!("SELECT COUNT(*) FROM wechat_follower WHERE code_id IS NOT NULL AND openid = '{openid}'")).await,
        1
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM code_scan").await, 1);

    // She taps the link: WeChat signs her in silently and she lands on the code's join page.
    let phone = Phone::new("ana");
    let (page, path) = phone.open(&w, &link_in(&reply)).await;
    assert_eq!(path, format!("/join/{}", code.token));
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM learner").await,
        0,
        "no learner before consent"
    );

    // She agrees and joins: the learner exists, with her openid bound.
    let csrf = hidden(&page, "csrf");
    let joined = phone
        .client
        .post(w.app.url(&format!("/join/{}", code.token)))
        .header("user-agent", &phone.agent)
        .form(&[
            ("csrf", csrf.as_str()),
            ("accept_policy", POLICY_VERSION),
            ("audience", "parents"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 303);
    let learner_id = w
        .app
        .count(&format!(
            "SELECT learner_id FROM wechat_follower WHERE openid = '{openid}'"
        ))
        .await;
    assert_eq!(w.app.count("SELECT id FROM learner").await, learner_id);
    assert_eq!(
        w.app
            .count(&format!(
                "SELECT code_id FROM learner WHERE id = {learner_id}"
            ))
            .await,
        w.app
            .count(&format!(
                "SELECT id FROM enrollment_code WHERE token = '{}'",
                code.token
            ))
            .await
    );

    // She reads this week's lesson.
    let (lesson, _) = phone
        .open(&w, &format!("{}/s/family/third-article", w.app.address))
        .await;
    assert_eq!(lesson.status(), 200);

    // A new phone (or WeChat's browser having forgotten everything): the lesson sends it
    // through sign-in, and it comes back signed in as Ana.
    let again = Phone::new("ana");
    let (lesson, path) = again
        .open(&w, &format!("{}/s/family/third-article", w.app.address))
        .await;
    assert_eq!(
        (lesson.status().as_u16(), path.as_str()),
        (200, "/s/family/third-article")
    );
    let (me, _) = again.open(&w, &format!("{}/me", w.app.address)).await;
    let me = me.text().await.unwrap();
    assert!(me.contains(&openid), "the openid is shown on /me");
    assert_eq!(w.app.count("SELECT COUNT(*) FROM learner").await, 1);

    // Her export holds the openid; deleting her data removes it.
    let export = again
        .client
        .get(w.app.url("/me/export.json"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(export.contains(&openid), "{export}");
    let delete_csrf = hidden(&me, "csrf");
    let deleted = again
        .client
        .post(w.app.url("/me/delete"))
        .form(&[("csrf", delete_csrf.as_str()), ("confirm", "yes")])
        .send()
        .await
        .unwrap();
    assert!(deleted.status().is_success() || deleted.status().is_redirection());
    assert_eq!(w.app.count("SELECT COUNT(*) FROM wechat_follower").await, 0);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM learner").await, 0);

    // The chat's next reply to her is for someone who has not joined.
    let reply = w.reply_text(&w.send(&super::text_xml(&openid, w.now(), "2", 42)).await);
    assert!(reply.contains("还没有加入"), "{reply}");
}

#[tokio::test]
async fn a_learner_signed_in_by_cookie_gets_their_openid_bound() {
    let w = spawn(false).await;
    let code = w.app.make_code(None, None).await;
    let phone = Phone::new("bo");
    let joined = crate::enrollment::join_by_form(
        &w.app,
        &phone.client,
        &code.token,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    assert_eq!(joined.status(), 303);
    // Signed in by cookie, so no automatic sign-in; a link from the chat still binds.
    let (_, path) = phone
        .open(&w, &format!("{}/wechat/oauth?next=%2Fme", w.app.address))
        .await;
    assert_eq!(path, "/me");
    let openid = w.standin.openid_for_phone("bo");
    assert_eq!(
        w.app.count(&format!("SELECT COUNT(*) FROM wechat_follower WHERE openid = '{openid}' AND learner_id IS NOT NULL")).await,
        1
    );
}

#[tokio::test]
async fn sign_in_states_are_single_use_and_bound_to_the_browser() {
    let w = spawn(false).await;
    let phone = Phone::new("cy");
    let start = phone.get(&w.app.url("/wechat/oauth?next=%2F")).await;
    assert_eq!(start.status(), 302);
    let authorize = start.headers()["location"].to_str().unwrap().to_owned();
    assert!(authorize.starts_with(&format!(
        "{}/connect/oauth2/authorize?appid=",
        w.standin.url()
    )));
    assert!(authorize.ends_with("#wechat_redirect"));
    let back = phone.get(&authorize).await;
    let callback = back.headers()["location"]
        .to_str()
        .unwrap()
        .replace(PUBLIC_URL, &w.app.address);

    // Another browser cannot use it.
    let thief = Phone::new("cy");
    assert_eq!(thief.get(&callback).await.status(), 400);
    // The right browser can, once.
    assert_eq!(phone.get(&callback).await.status(), 302);
    assert_eq!(phone.get(&callback).await.status(), 400);
    // A made-up state, a missing code, and an unsafe next are refused or ignored.
    assert_eq!(
        phone
            .get(&w.app.url("/wechat/oauth/callback?code=x&state=nope"))
            .await
            .status(),
        400
    );
    assert_eq!(
        phone
            .get(&w.app.url("/wechat/oauth/callback?state=nope"))
            .await
            .status(),
        400
    );
    let (_, path) = Phone::new("dee")
        .open(
            &w,
            &format!(
                "{}/wechat/oauth?next=https%3A%2F%2Fevil.example%2F",
                w.app.address
            ),
        )
        .await;
    assert_eq!(path, "/");
    // No openid ever appears in a URL of ours.
    for call in w.standin.calls() {
        let redirect = call.query.get("redirect_uri").cloned().unwrap_or_default();
        assert!(!redirect.contains(&w.standin.openid_for_phone("cy")));
    }
}

#[tokio::test]
async fn revoked_codes_answer_politely_and_attribute_nothing() {
    let w = spawn(false).await;
    let code = w.app.make_code(None, None).await;
    homeward::services::enrollment::revoke_code(&w.app.state.db, &code.token, w.app.clock.now())
        .await
        .unwrap();
    let openid = w.standin.openid_for_phone("eve");
    let reply = w.reply_text(&w.send(&scan_xml(&openid, w.now(), &code.token, true)).await);
    assert!(reply.contains("停用"), "{reply}");
    assert!(!reply.contains("/join/"), "{reply}");
    assert_eq!(w.app.count("SELECT COUNT(*) FROM code_scan").await, 0);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM wechat_follower WHERE code_id IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn every_new_code_gets_a_wechat_qr_which_its_images_encode() {
    let w = spawn(false).await;
    let code = w.app.make_code(None, None).await;
    // A code made before WeChat knew of it gets its QR from `homeward wechat qr`.
    let summary = homeward::services::wechat::qr::ensure_all(&w.app.state)
        .await
        .unwrap();
    assert_eq!(
        (summary.created, summary.existing, summary.failed.len()),
        (1, 0, 0)
    );
    let call = &w.standin.calls_to("/cgi-bin/qrcode/create")[0];
    let scene = call.body.as_ref().unwrap()["action_info"]["scene"]["scene_str"].clone();
    assert_eq!(scene, format!("join:{}", code.token));

    let png = w
        .app
        .get(&format!("/qr/{}.png", code.token))
        .await
        .bytes()
        .await
        .unwrap();
    let image = image::load_from_memory(&png).unwrap().to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let (_, decoded) = prepared.detect_grids()[0].decode().unwrap();
    assert_eq!(
        w.standin.scene_for_qr_url(&decoded).as_deref(),
        Some(format!("join:{}", code.token).as_str()),
        "the printed code is the WeChat QR of this enrollment code"
    );
    let again = homeward::services::wechat::qr::ensure_all(&w.app.state)
        .await
        .unwrap();
    assert_eq!((again.created, again.existing), (0, 1));

    // A manager's new code gets its QR at once.
    let (id, token) = homeward::services::enrollment::create_code(
        &w.app.state.db,
        homeward::services::enrollment::NewCode {
            factory_id: code.factory_id,
            line_id: None,
            label: "gate".into(),
            expires_at: None,
            max_joins: None,
        },
        w.app.clock.now(),
    )
    .await
    .unwrap();
    homeward::services::wechat::qr::after_code_created(&w.app.state, id, &token).await;
    assert_eq!(w.standin.count("/cgi-bin/qrcode/create"), 2);
}

#[tokio::test]
async fn the_menu_leads_to_this_weeks_lesson_progress_and_help() {
    let w = spawn(false).await;
    let menu = homeward::services::wechat::menu::set_menu(&w.app.state)
        .await
        .unwrap();
    assert_eq!(menu.buttons.len(), 3);
    let set = w.standin.menu().unwrap();
    let names: Vec<&str> = set["button"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["本周课程", "我的进度", "求助"]);
    assert_eq!(set["button"][1]["url"], "http://homeward.test/me");
    let help = w.reply_text(
        &w.send(&super::event_xml(
            "oMenuUser000000000000000001",
            w.now(),
            "CLICK",
            "HELP",
        ))
        .await,
    );
    assert!(help.contains("12356"), "{help}");
}

#[tokio::test]
async fn a_follower_who_scanned_but_has_not_joined_is_sent_from_a_lesson_to_the_join_page() {
    let w = spawn(false).await;
    let code = w.app.make_code(None, None).await;
    let openid = w.standin.openid_for_phone("fay");
    w.reply_text(&w.send(&scan_xml(&openid, w.now(), &code.token, true)).await);

    // The menu's lesson link, opened before joining: sign-in, then the scanned code's join page.
    let phone = Phone::new("fay");
    let (page, path) = phone
        .open(&w, &format!("{}/s/family/third-article", w.app.address))
        .await;
    assert_eq!(path, format!("/join/{}", code.token));
    assert_eq!(page.status(), 200);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM learner").await, 0);

    // Someone who followed without a code (or whose code closed) stays on the lesson.
    homeward::services::enrollment::revoke_code(&w.app.state.db, &code.token, w.app.clock.now())
        .await
        .unwrap();
    let (page, path) = Phone::new("fay")
        .open(&w, &format!("{}/s/family/third-article", w.app.address))
        .await;
    assert_eq!(
        (page.status().as_u16(), path.as_str()),
        (200, "/s/family/third-article")
    );
}

#[tokio::test]
async fn a_plain_follow_is_welcomed_a_later_scan_attributed_and_closed_codes_attribute_nothing() {
    use homeward::services::enrollment::{NewCode, create_code};
    let w = spawn(false).await;
    let code = w.app.make_code(None, None).await;
    let attributed = |openid: &str| {
        format!(
            "SELECT COUNT(*) FROM wechat_follower WHERE code_id IS NOT NULL AND openid = '{openid}'"
        )
    };

    // A plain follow (no scene) gets the general welcome and is attributed to nothing.
    let gus = w.standin.openid_for_phone("gus");
    let welcome = w.reply_text(
        &w.send(&super::event_xml(&gus, w.now(), "subscribe", ""))
            .await,
    );
    assert!(welcome.starts_with("欢迎关注归家课堂"), "{welcome}");
    assert_eq!(w.app.count("SELECT COUNT(*) FROM code_scan").await, 0);

    // Scanning a poster later, as a follower (`SCAN`): attributed, with the code's join link.
    let reply = w.reply_text(&w.send(&scan_xml(&gus, w.now(), &code.token, false)).await);
    assert!(reply.contains("东莞电子厂"), "{reply}");
    assert!(
        reply.contains(&format!("/wechat/oauth?next=/join/{}", code.token)),
        "{reply}"
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM code_scan").await, 1);
    assert_eq!(w.app.count(&attributed(&gus)).await, 1);

    // A follower who chose English is welcomed in English, with the factory's English name.
    let jo = w.standin.openid_for_phone("jo");
    w.reply_text(
        &w.send(&super::event_xml(&jo, w.now(), "subscribe", ""))
            .await,
    );
    w.reply_text(&w.send(&super::text_xml(&jo, w.now(), "EN", 901)).await);
    let english = w.reply_text(&w.send(&scan_xml(&jo, w.now(), &code.token, false)).await);
    assert!(
        english.starts_with("Welcome, colleague from Dongguan Electronics!"),
        "{english}"
    );

    // An expired code and a full one answer politely and attribute nothing.
    let now = w.app.clock.now();
    let new_code = |expires_at, max_joins| NewCode {
        factory_id: code.factory_id,
        line_id: Some(code.line_id),
        label: "old poster".into(),
        expires_at,
        max_joins,
    };
    let (_, expiring) = create_code(
        &w.app.state.db,
        new_code(Some(now + chrono::Duration::hours(1)), None),
        now,
    )
    .await
    .unwrap();
    let (_, small) = create_code(&w.app.state.db, new_code(None, Some(1)), now)
        .await
        .unwrap();
    let joined = crate::enrollment::join_by_form(
        &w.app,
        &crate::helpers::phone(),
        &small,
        &[("accept_policy", POLICY_VERSION), ("audience", "parents")],
    )
    .await;
    assert_eq!(joined.status(), 303);
    w.app.clock.advance(chrono::Duration::hours(2));
    let scans = w.app.count("SELECT COUNT(*) FROM code_scan").await;
    for (phone, token) in [("hal", &expiring), ("ivy", &small)] {
        let openid = w.standin.openid_for_phone(phone);
        let reply = w.reply_text(&w.send(&scan_xml(&openid, w.now(), token, true)).await);
        assert!(reply.contains("停用"), "{phone}: {reply}");
        assert!(!reply.contains("/join/"), "{phone}: {reply}");
        assert_eq!(w.app.count(&attributed(&openid)).await, 0, "{phone}");
    }
    assert_eq!(w.app.count("SELECT COUNT(*) FROM code_scan").await, scans);
}
