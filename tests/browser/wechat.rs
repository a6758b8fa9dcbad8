//! WeChat in the browser: a worker who followed the account by scanning a factory's poster
//! opens a lesson in WeChat's in-app browser, is sent through WeChat's silent sign-in (the
//! stand-in's page) to the join page, joins, and is signed in again by their openid after the
//! browser has forgotten every cookie.

use homeward::clock::Clock;
use homeward::wechat::protocol::signature::callback_signature;

use crate::driver::{Browser, Device};
use crate::support::fixture::{self, WEEK3};
use crate::support::wechat_standin::WechatStandin;
use crate::support::{Options, TestApp, TestDatabase};

/// The callback token the app is configured with.
const TOKEN: &str = "hwBrowserToken7";
/// The account's own id in WeChat's messages.
const ACCOUNT: &str = "gh_homeward0001";
/// The parents' lesson released in the week of `WEEK3` in the standard fixture.
const THIS_WEEKS_LESSON: &str = "/s/family/third-article";
/// The stand-in's name for the phone the browser plays (it has no other way to tell).
const PHONE: &str = "browser-phone";

/// Tells the app, as WeChat would, that `openid` followed the account by scanning the WeChat QR
/// of the enrollment code `token`; returns the reply's text.
async fn follow_by_scanning(app: &TestApp, openid: &str, token: &str) -> String {
    let timestamp = app.clock.now().timestamp().to_string();
    let nonce = "browser01";
    let signature = callback_signature(TOKEN, &timestamp, nonce);
    let xml = format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[event]]></MsgType>\
         <Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_join:{token}]]></EventKey></xml>"
    );
    let answer = app
        .client
        .post(app.url(&format!(
            "/wechat/callback?signature={signature}&timestamp={timestamp}&nonce={nonce}"
        )))
        .header("content-type", "text/xml")
        .body(xml)
        .send()
        .await
        .expect("the callback answers");
    assert_eq!(answer.status(), 200, "the follow is accepted");
    answer.text().await.expect("the reply")
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn a_phone_in_wechat_is_signed_in_by_its_openid_and_again_after_losing_its_cookies() {
    let _turn = crate::ONE_AT_A_TIME.lock().await;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let standin = WechatStandin::start().await;
    standin.set_default_phone(PHONE);
    let (url, appid, secret) = (standin.url(), standin.appid(), standin.secret());
    let mut options = Options::new(WEEK3, content.path()).with_settings(move |settings| {
        settings.wechat.appid = Some(appid.clone());
        settings.wechat.secret = Some(secret.clone());
        settings.wechat.token = Some(TOKEN.into());
        settings.wechat.api_url = url.clone();
        settings.wechat.open_url = url.clone();
    });
    // WeChat's sign-in sends the browser back to the public URL: it must be this app.
    options.own_public_url = true;
    let app = TestApp::spawn(&db, options).await;
    let code = app.make_code(None, None).await;
    let openid = standin.openid_for_phone(PHONE);

    // She scanned the poster's WeChat QR in the canteen and followed the account.
    let welcome = follow_by_scanning(&app, &openid, &code.token).await;
    assert!(welcome.contains("东莞电子厂"), "the welcome: {welcome}");

    let phone = Browser::launch(Device::Phone).await;
    let agent = phone.execute("return navigator.userAgent;").await;
    assert!(
        agent
            .as_str()
            .unwrap_or_default()
            .contains("MicroMessenger"),
        "the phone browses as WeChat: {agent}"
    );

    // Later she opens this week's lesson (the menu's 本周课程): WeChat signs her in silently,
    // and as she has not joined yet she lands on the join page of the code she scanned.
    phone.goto(&app.url(THIS_WEEKS_LESSON)).await;
    let join_path = format!("/join/{}", code.token);
    phone.wait_for_path(&join_path).await;
    assert_eq!(
        standin.count("/connect/oauth2/authorize"),
        1,
        "she went through WeChat's sign-in page"
    );
    assert_eq!(phone.text("main h1").await, "加入归家课堂");
    let via = phone.text("main p.card").await;
    assert!(
        via.contains("东莞电子厂") && via.contains("A3线"),
        "the join page says which factory and line: {via}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM learner").await,
        0,
        "nothing is kept about her before she agrees"
    );
    phone.screenshot("wechat-1-join").await;

    // She agrees and joins: she lands on the lesson, welcomed and signed in.
    phone.tap("input[name=accept_policy]").await;
    phone
        .find("input[name=nickname]")
        .await
        .send_keys("小王")
        .await;
    phone.tap("form button[type=submit]").await;
    phone.wait_for_path(THIS_WEEKS_LESSON).await;
    let banner = phone.text("section.banner").await;
    assert!(banner.contains("欢迎加入"), "welcome banner: {banner}");
    assert_eq!(phone.text("main h1").await, "第3课");
    assert_eq!(
        phone.text("form.done button").await,
        "我看完了",
        "signed in: the lesson offers to mark it finished"
    );
    phone.screenshot("wechat-2-joined").await;

    // "Me" shows her nickname and the WeChat account she is signed in with.
    phone.goto(&app.url("/me")).await;
    assert_eq!(phone.path().await, "/me");
    let facts = phone.text("dl.facts").await;
    assert!(
        facts.contains("小王") && facts.contains(&openid),
        "/me shows her nickname and her WeChat account: {facts}"
    );

    // WeChat's browser forgets everything; she opens the lesson again. She is signed in by
    // her openid on the way, with no join form, and lands on the lesson itself.
    phone.delete_cookies().await;
    phone.goto(&app.url(THIS_WEEKS_LESSON)).await;
    phone.wait_for_path(THIS_WEEKS_LESSON).await;
    assert_eq!(
        standin.count("/connect/oauth2/authorize"),
        2,
        "she went through WeChat's sign-in page again"
    );
    assert!(
        phone.find_all("input[name=accept_policy]").await.is_empty(),
        "no join form"
    );
    assert!(
        phone.find_all("section.banner").await.is_empty(),
        "the welcome showed once"
    );
    assert_eq!(phone.text("main h1").await, "第3课");
    assert_eq!(
        phone.text("form.done button").await,
        "我看完了",
        "signed in again"
    );
    phone.screenshot("wechat-3-signed-in-again").await;
    phone.goto(&app.url("/me")).await;
    assert_eq!(phone.path().await, "/me");
    assert!(phone.text("dl.facts").await.contains("小王"));
    assert_eq!(app.count("SELECT COUNT(*) FROM learner").await, 1);

    phone.close().await;
    app.stop().await;
}
