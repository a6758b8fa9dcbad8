//! The callback's checks, through the real server in both modes: every bad request of the
//! issue gets a 4xx and changes nothing; WeChat's retries act once; answers come fast.

use std::time::Instant;

use homeward::wechat::protocol::signature::callback_signature;

use super::{TOKEN, WechatApp, event_xml, scan_xml, spawn, text_xml, wechatpy};
use crate::helpers::{Options, TestApp, TestDatabase};

const OPENID: &str = "oStandinCallbackTest0000001";

/// Rows any accepted message could have written.
async fn side_effects(w: &WechatApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in [
        "wechat_follower",
        "wechat_message",
        "wechat_request",
        "code_scan",
        "safeguarding_count",
    ] {
        counts.push(w.app.count(&format!("SELECT COUNT(*) FROM {table}")).await);
    }
    counts
}

#[tokio::test]
async fn the_url_check_echoes_only_for_the_right_signature() {
    let w = spawn(false).await;
    let now = w.now().to_string();
    let good = callback_signature(TOKEN, &now, "n1");
    let client = w.app.client.clone();
    let base = w.app.url("/wechat/callback");
    let get = |query: String| {
        let request = client.get(format!("{base}?{query}"));
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(
        get(format!(
            "signature={good}&timestamp={now}&nonce=n1&echostr=1616140317555161061"
        ))
        .await,
        (200, "1616140317555161061".to_owned())
    );
    let (status, _) = get(format!(
        "signature={good}&timestamp={now}&nonce=n2&echostr=1"
    ))
    .await;
    assert_eq!(status, 403);
    let (status, body) = get(format!("timestamp={now}&nonce=n1&echostr=1")).await;
    assert_eq!(
        (status, body.as_str()),
        (400, "the query parameter signature is required")
    );
    let old = (w.now() - 301).to_string();
    let stale = callback_signature(TOKEN, &old, "n1");
    let (status, _) = get(format!(
        "signature={stale}&timestamp={old}&nonce=n1&echostr=1"
    ))
    .await;
    assert_eq!(status, 400);
    let (status, _) = get(format!("signature={good}&timestamp={now}&nonce=n1")).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn without_wechat_settings_the_callback_and_sign_in_do_not_exist() {
    let db = TestDatabase::create().await;
    let content = crate::fixture::standard();
    let app = TestApp::spawn(&db, Options::new(crate::fixture::WEEK3, content.path())).await;
    assert_eq!(
        app.status("/wechat/callback?signature=x&timestamp=1&nonce=n&echostr=e")
            .await,
        404
    );
    assert_eq!(app.status("/wechat/oauth?next=/").await, 404);
    let posted = app
        .client
        .post(app.url("/wechat/callback?signature=x&timestamp=1&nonce=n"))
        .body("<xml/>")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 404);
}

async fn bad_requests_are_refused_without_side_effects(safe_mode: bool) {
    let w = spawn(safe_mode).await;
    let code = w.app.make_code(None, None).await;
    let now = w.now();
    let scan = scan_xml(OPENID, now, &code.token, true);
    let before = side_effects(&w).await;

    // A wrong signature.
    let (query, body) = w.signed(&scan, &now.to_string(), "nonce-a");
    let forged = query.replacen("signature=", "signature=0", 1);
    let answer = w.post(&forged, body.clone()).await;
    assert_eq!(answer.status, 403, "{}", answer.body);
    // A timestamp more than five minutes off, correctly signed.
    let old = (now - 301).to_string();
    let (query, stale_body) = w.signed(&scan, &old, "nonce-b");
    assert_eq!(w.post(&query, stale_body).await.status, 400);
    let future = (now + 301).to_string();
    let (query, future_body) = w.signed(&scan, &future, "nonce-b2");
    assert_eq!(w.post(&query, future_body).await.status, 400);
    // XML with a DOCTYPE and entities.
    let doctype = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        text_xml(OPENID, now, "&e;", 1)
    );
    let answer = w.send_ours(&doctype).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("DOCTYPE"), "{}", answer.body);
    // A body over 64 KB.
    let huge = text_xml(OPENID, now, &"长".repeat(22_000), 2);
    let (query, huge_body) = w.signed(&huge, &now.to_string(), "nonce-c");
    assert!(huge_body.len() > 64 * 1024);
    assert_eq!(w.post(&query, huge_body).await.status, 413);
    // Not XML at all, and XML that is not a message.
    assert_eq!(w.send_ours("hello").await.status, 400);
    assert_eq!(
        w.send_ours("<xml><MsgType>text</MsgType></xml>")
            .await
            .status,
        400
    );
    if safe_mode {
        // Encrypted for another account.
        let args = [
            "encrypt",
            "--token",
            TOKEN,
            "--aes-key",
            super::AES_KEY,
            "--appid",
            "wx0other000000000",
            "--nonce",
            "nonce-d",
            "--timestamp",
            &now.to_string(),
        ];
        let sent = wechatpy::call(&args, &scan);
        let q = &sent["query"];
        let query = format!(
            "signature={}&timestamp={now}&nonce=nonce-d&encrypt_type=aes&msg_signature={}",
            q["signature"].as_str().unwrap(),
            q["msg_signature"].as_str().unwrap()
        );
        let answer = w
            .post(&query, sent["body"].as_str().unwrap().to_owned())
            .await;
        assert_eq!(answer.status, 400);
        assert!(answer.body.contains("appid"), "{}", answer.body);
        // A wrong msg_signature, and none.
        let (query, body) = w.signed(&scan, &now.to_string(), "nonce-e");
        let wrong = query.replacen("msg_signature=", "msg_signature=1", 1);
        assert_eq!(w.post(&wrong, body.clone()).await.status, 403);
        let missing = query.split("&msg_signature").next().unwrap().to_owned();
        assert_eq!(w.post(&missing, body).await.status, 400);
    } else {
        // Safe mode asked of a server without an EncodingAESKey.
        let (query, body) = w.signed(&scan, &now.to_string(), "nonce-f");
        let answer = w
            .post(&format!("{query}&encrypt_type=aes&msg_signature=x"), body)
            .await;
        assert_eq!(answer.status, 400);
    }
    assert_eq!(
        side_effects(&w).await,
        before,
        "a refused request changed something"
    );

    // The same timestamp and nonce again with another body is a replay.
    let first = w.send_with(&scan, &now.to_string(), "nonce-g").await;
    assert_eq!(first.status, 200);
    let after_first = side_effects(&w).await;
    let other = text_xml(OPENID, now, "1", 77);
    let replay = w.send_with(&other, &now.to_string(), "nonce-g").await;
    assert_eq!(replay.status, 409, "{}", replay.body);
    assert_eq!(side_effects(&w).await, after_first);
}

#[tokio::test]
async fn bad_requests_are_refused_without_side_effects_in_plain_mode() {
    bad_requests_are_refused_without_side_effects(false).await;
}

#[tokio::test]
async fn bad_requests_are_refused_without_side_effects_in_safe_mode() {
    bad_requests_are_refused_without_side_effects(true).await;
}

#[tokio::test]
async fn wechats_retries_are_answered_but_act_once() {
    let w = spawn(true).await;
    let code = w.app.make_code(None, None).await;
    let now = w.now();
    let scan = scan_xml(OPENID, now, &code.token, true);
    // WeChat's retry: the same request again, byte for byte…
    let (query, body) = w.signed(&scan, &now.to_string(), "retry-1");
    let first = w.post(&query, body.clone()).await;
    let again = w.post(&query, body).await;
    // …or the same message signed anew.
    let resigned = w.send_with(&scan, &(now + 5).to_string(), "retry-2").await;
    for answer in [&first, &again, &resigned] {
        assert!(w.reply_text(answer).contains("/wechat/oauth?next=/join/"));
    }
    assert_eq!(w.app.count("SELECT COUNT(*) FROM code_scan").await, 1);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM wechat_follower").await, 1);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM wechat_message").await, 1);

    let worry = text_xml(OPENID, now, "我想死", 900_001);
    for nonce in ["s-1", "s-2", "s-3"] {
        let answer = w.send_with(&worry, &now.to_string(), nonce).await;
        assert!(w.reply_text(&answer).contains("12356"));
    }
    assert_eq!(
        w.app
            .count("SELECT CAST(COALESCE(SUM(matches), 0) AS BIGINT) FROM safeguarding_count")
            .await,
        1
    );
}

#[tokio::test]
async fn answers_come_well_within_five_seconds() {
    let w = spawn(true).await;
    let code = w.app.make_code(None, None).await;
    // Encrypt first, so only the server's time is measured.
    let now = w.now();
    let mut requests = Vec::new();
    for i in 0..10u64 {
        let xml = if i % 2 == 0 {
            text_xml(OPENID, now, "本周课程", 500 + i)
        } else {
            scan_xml(OPENID, now + i as i64, &code.token, i == 1)
        };
        requests.push(w.signed(&xml, &now.to_string(), &format!("fast-{i}")));
    }
    let mut slowest = std::time::Duration::ZERO;
    for (query, body) in requests {
        let started = Instant::now();
        let answer = w.post(&query, body).await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    assert!(
        slowest.as_millis() < 1000,
        "slowest answer took {slowest:?}"
    );
}

#[tokio::test]
async fn unfollowing_stops_being_a_follower_and_keeps_nothing_of_non_learners() {
    let w = spawn(false).await;
    let now = w.now();
    w.reply_text(&w.send(&event_xml(OPENID, now, "subscribe", "")).await);
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM wechat_follower WHERE following")
            .await,
        1
    );
    let answer = w.send(&event_xml(OPENID, now + 1, "unsubscribe", "")).await;
    assert_eq!((answer.status, answer.body.as_str()), (200, "success"));
    assert_eq!(w.app.count("SELECT COUNT(*) FROM wechat_follower").await, 0);
}
