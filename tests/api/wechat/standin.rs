//! Web sign-in through the stand-in: the authorize page sends each phone back with a code,
//! and a code gives that phone's openid once, for five minutes.

use std::time::Duration;

use homeward::wechat::protocol::{ApiClient, ApiConfig, ApiError, AppSecret};

use crate::support::wechat_standin::WechatStandin;

fn client_for(standin: &WechatStandin) -> ApiClient {
    ApiClient::new(ApiConfig {
        api_url: standin.url(),
        open_url: standin.url(),
        appid: standin.appid(),
        secret: AppSecret::new(standin.secret()),
        timeout: Duration::from_secs(2),
    })
    .unwrap()
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Follows the authorize URL like a phone; returns where WeChat sends it back.
async fn authorize(url: &str, phone: Option<&str>, agent: &str) -> reqwest::Response {
    let mut request = browser().get(url).header("user-agent", agent);
    if let Some(phone) = phone {
        request = request.header("x-standin-phone", phone);
    }
    request.send().await.unwrap()
}

fn code_and_state(location: &str) -> (String, String) {
    let url = reqwest::Url::parse(location).unwrap();
    let get = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    (get("code"), get("state"))
}

#[tokio::test]
async fn each_phone_signs_in_as_its_own_openid_with_a_single_use_code() {
    let standin = WechatStandin::start().await;
    let client = client_for(&standin);
    let url = client.authorize_url(
        "http://homeward.test/wechat/oauth/callback?next=%2Fme",
        "st4te",
    );

    let answer = authorize(&url, Some("ana"), "Mozilla/5.0 MicroMessenger/8.0.50").await;
    assert_eq!(answer.status(), 302);
    let location = answer.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("http://homeward.test/wechat/oauth/callback?next=%2Fme&code="));
    let (code, state) = code_and_state(&location);
    assert_eq!(state, "st4te");
    let openid = client.oauth_openid(&code).await.unwrap();
    assert_eq!(openid.as_str(), standin.openid_for_phone("ana"));
    assert_eq!(openid.as_str().len(), 28);

    let again = client.oauth_openid(&code).await.unwrap_err();
    assert_eq!(again.errcode(), Some(40163));
    assert!(matches!(
        client.oauth_openid("made-up").await,
        Err(ApiError::WeChat { errcode: 40029, .. })
    ));

    // The user agent names the phone when no header does; a phone keeps its openid.
    let by_agent = authorize(
        &url,
        None,
        "Mozilla/5.0 MicroMessenger/8.0.50 StandinPhone/bo",
    )
    .await;
    let (code, _) = code_and_state(by_agent.headers()["location"].to_str().unwrap());
    let bo = client.oauth_openid(&code).await.unwrap();
    assert_eq!(bo.as_str(), standin.openid_for_phone("bo"));
    assert_ne!(bo, openid);

    standin.set_default_phone("cy");
    let default = authorize(&url, None, "curl").await;
    let (code, _) = code_and_state(default.headers()["location"].to_str().unwrap());
    assert_eq!(
        client.oauth_openid(&code).await.unwrap().as_str(),
        standin.openid_for_phone("cy")
    );

    let calls = standin.calls_to("/sns/oauth2/access_token");
    assert_eq!(calls[0].query["grant_type"], "authorization_code");
    assert_eq!(calls[0].query["secret"], standin.secret());
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let standin = WechatStandin::start().await;
    let client = client_for(&standin);
    standin.set_code_lifetime(Duration::from_millis(50));
    let url = client.authorize_url("http://homeward.test/cb", "s");
    let answer = authorize(&url, Some("ana"), "x").await;
    let (code, _) = code_and_state(answer.headers()["location"].to_str().unwrap());
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(
        client.oauth_openid(&code).await.unwrap_err().errcode(),
        Some(40029)
    );
}

#[tokio::test]
async fn the_authorize_page_refuses_a_wrong_appid_or_redirect() {
    let standin = WechatStandin::start().await;
    let base = standin.url();
    for query in [
        "appid=wxother&redirect_uri=http%3A%2F%2Fh%2F&response_type=code&scope=snsapi_base&state=s",
        "appid=APPID&redirect_uri=javascript%3Aalert(1)&response_type=code&scope=snsapi_base&state=s",
        "appid=APPID&redirect_uri=http%3A%2F%2Fh%2F&response_type=token&scope=snsapi_base&state=s",
    ] {
        let url = format!(
            "{base}/connect/oauth2/authorize?{}",
            query.replace("APPID", &standin.appid())
        );
        assert_eq!(authorize(&url, None, "x").await.status(), 400, "{query}");
    }
}
