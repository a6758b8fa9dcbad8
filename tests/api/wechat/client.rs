//! The API client against the stand-in: each call's request as WeChat documents it, and each
//! kind of failure (errcodes, HTTP 5xx, timeouts) as its own error.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use homeward::wechat::protocol::client::{Menu, MenuButton, TemplateMessage};
use homeward::wechat::protocol::{
    ApiClient, ApiConfig, ApiError, AppSecret, Article, OpenId, SceneStr,
};

use crate::support::wechat_standin::{Failure, WechatStandin};

fn client_for(standin: &WechatStandin, timeout: Duration) -> ApiClient {
    ApiClient::new(ApiConfig {
        api_url: standin.url(),
        open_url: standin.url(),
        appid: standin.appid(),
        secret: AppSecret::new(standin.secret()),
        timeout,
    })
    .unwrap()
}

#[tokio::test]
async fn stable_tokens_are_shared_until_forced_and_the_old_call_replaces_them() {
    let standin = WechatStandin::start().await;
    let client = client_for(&standin, Duration::from_secs(2));
    let first = client.stable_token(false).await.unwrap();
    assert!(first.expires_in > Duration::from_secs(7000));
    let again = client.stable_token(false).await.unwrap();
    assert_eq!(first.access_token, again.access_token);
    let forced = client.stable_token(true).await.unwrap();
    assert_ne!(forced.access_token, first.access_token);
    assert_eq!(
        standin.valid_tokens(),
        vec![forced.access_token.expose().to_owned()]
    );

    let calls = standin.calls_to("/cgi-bin/stable_token");
    assert_eq!(calls.len(), 3);
    let body = calls[2].body.as_ref().unwrap();
    assert_eq!(body["grant_type"], "client_credential");
    assert_eq!(body["appid"], standin.appid());
    assert_eq!(body["secret"], standin.secret());
    assert_eq!(body["force_refresh"], true);

    let old_style = client.token().await.unwrap();
    assert_eq!(
        standin.valid_tokens(),
        vec![old_style.access_token.expose().to_owned()]
    );
    let query = &standin.calls_to("/cgi-bin/token")[0].query;
    assert_eq!(query["grant_type"], "client_credential");
}

#[tokio::test]
async fn a_wrong_secret_is_wechats_errcode() {
    let standin = WechatStandin::start().await;
    let client = ApiClient::new(ApiConfig {
        api_url: standin.url(),
        open_url: standin.url(),
        appid: standin.appid(),
        secret: AppSecret::new("wrong"),
        timeout: Duration::from_secs(2),
    })
    .unwrap();
    let error = client.stable_token(false).await.unwrap_err();
    assert_eq!(error.errcode(), Some(40125));
    assert!(!error.to_string().contains("wrong"));
}

#[tokio::test]
async fn permanent_qr_codes_template_and_customer_messages_and_the_menu() {
    let standin = WechatStandin::start().await;
    let client = client_for(&standin, Duration::from_secs(2));
    let token = client.stable_token(false).await.unwrap().access_token;

    let scene = SceneStr::parse("hw:AbCd1234").unwrap();
    let qr = client.create_permanent_qr(&token, &scene).await.unwrap();
    assert_eq!(
        standin.scene_for_qr_url(&qr.url).as_deref(),
        Some("hw:AbCd1234")
    );
    let call = &standin.calls_to("/cgi-bin/qrcode/create")[0];
    assert_eq!(call.query["access_token"], token.expose());
    let body = call.body.as_ref().unwrap();
    assert_eq!(body["action_name"], "QR_LIMIT_STR_SCENE");
    assert_eq!(body["action_info"]["scene"]["scene_str"], "hw:AbCd1234");

    let to = OpenId::parse(&standin.openid_for_phone("ana")).unwrap();
    let message = TemplateMessage {
        to: to.clone(),
        template_id: "TPL-weekly".into(),
        url: Some("https://homeward.example/lessons/3".into()),
        data: BTreeMap::from([("thing1".to_owned(), "电话里的陪伴".to_owned())]),
    };
    let msgid = client.send_template(&token, &message).await.unwrap();
    assert!(msgid > 0);
    let body = standin.calls_to("/cgi-bin/message/template/send")[0]
        .body
        .clone()
        .unwrap();
    assert_eq!(body["touser"], to.as_str());
    assert_eq!(body["data"]["thing1"]["value"], "电话里的陪伴");
    assert_eq!(body["url"], "https://homeward.example/lessons/3");

    let article = Article {
        title: "本周课程".into(),
        description: "五分钟".into(),
        pic_url: "https://homeward.example/c.jpg".into(),
        url: "https://homeward.example/l/3".into(),
    };
    client
        .send_custom_news(&token, &to, &article)
        .await
        .unwrap();
    let body = standin.calls_to("/cgi-bin/message/custom/send")[0]
        .body
        .clone()
        .unwrap();
    assert_eq!(body["msgtype"], "news");
    assert_eq!(
        body["news"]["articles"][0]["picurl"],
        "https://homeward.example/c.jpg"
    );

    standin.set_following(to.as_str(), false);
    assert_eq!(
        client.send_template(&token, &message).await,
        Err(ApiError::NotFollowing)
    );

    let menu = Menu {
        buttons: vec![
            MenuButton::View {
                name: "本周课程".into(),
                url: "https://homeward.example/".into(),
            },
            MenuButton::Click {
                name: "我的进度".into(),
                key: "PROGRESS".into(),
            },
        ],
    };
    client.create_menu(&token, &menu).await.unwrap();
    assert_eq!(standin.menu().unwrap()["button"][1]["key"], "PROGRESS");
}

#[tokio::test]
async fn each_failure_is_its_own_kind_and_then_calls_work_again() {
    let standin = WechatStandin::start().await;
    let client = client_for(&standin, Duration::from_millis(400));
    let token = client.stable_token(false).await.unwrap().access_token;
    let scene = SceneStr::parse("s1").unwrap();
    let path = "/cgi-bin/qrcode/create";

    standin.fail_next(path, 1, Failure::ErrCode(40001));
    standin.fail_next(path, 1, Failure::ErrCode(42001));
    standin.fail_next(path, 1, Failure::ErrCode(45009));
    standin.fail_next(path, 1, Failure::ErrCode(-1));
    standin.fail_next(path, 1, Failure::Status(502));
    standin.fail_next(path, 1, Failure::Delay(Duration::from_secs(2)));
    let mut errors = Vec::new();
    for _ in 0..6 {
        errors.push(
            client
                .create_permanent_qr(&token, &scene)
                .await
                .unwrap_err(),
        );
    }
    assert_eq!(errors[0], ApiError::TokenInvalid { errcode: 40001 });
    assert_eq!(errors[1], ApiError::TokenInvalid { errcode: 42001 });
    assert_eq!(errors[2], ApiError::RateLimited);
    assert!(errors[3].is_transient() && errors[3].errcode() == Some(-1));
    assert_eq!(errors[4], ApiError::Http { status: 502 });
    assert_eq!(errors[5], ApiError::Timeout(Duration::from_millis(400)));
    for error in &errors {
        assert!(!error.to_string().contains(token.expose()), "{error}");
    }
    client.create_permanent_qr(&token, &scene).await.unwrap();
    assert_eq!(standin.count(path), 7);
}

#[tokio::test]
async fn a_token_someone_else_replaced_is_refused_with_40001() {
    let standin = WechatStandin::start().await;
    let client = client_for(&standin, Duration::from_secs(2));
    let token = client.stable_token(false).await.unwrap().access_token;
    standin.invalidate_tokens();
    let error = client
        .create_permanent_qr(&token, &SceneStr::parse("s").unwrap())
        .await
        .unwrap_err();
    assert!(error.is_token_invalid(), "{error:?}");
}

#[tokio::test]
async fn latency_is_added_to_every_answer() {
    let standin = WechatStandin::start().await;
    let client = client_for(&standin, Duration::from_secs(2));
    standin.set_latency(Duration::from_millis(60));
    let started = Instant::now();
    client.stable_token(false).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(60));
}
