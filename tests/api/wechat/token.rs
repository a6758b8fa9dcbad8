//! The shared access token: fetched once and reused, refreshed before it expires, refreshed and
//! retried once when WeChat says it is invalid, and refreshed by one instance at a time.

use std::time::Duration;

use homeward::services::wechat::WechatError;
use homeward::services::wechat::qr;
use homeward::wechat::protocol::ApiError;

use super::{app_for, spawn};
use crate::fixture;
use crate::helpers::TestDatabase;
use crate::support::wechat_standin::{Failure, WechatStandin};

const TOKEN_PATH: &str = "/cgi-bin/stable_token";
const QR_PATH: &str = "/cgi-bin/qrcode/create";

async fn code_id(w: &super::WechatApp, token: &str) -> i64 {
    w.app
        .count(&format!(
            "SELECT id FROM enrollment_code WHERE token = '{token}'"
        ))
        .await
}

#[tokio::test]
async fn the_token_is_reused_until_close_to_expiry() {
    let w = spawn(false).await;
    for _ in 0..3 {
        let code = w.app.make_code(None, None).await;
        qr::after_code_created(&w.app.state, code_id(&w, &code.token).await, &code.token).await;
    }
    assert_eq!(w.standin.count(TOKEN_PATH), 1);
    assert_eq!(w.standin.count(QR_PATH), 3);
    // Two hours later, minus the margin: a new one is fetched before it runs out.
    w.app.clock.advance(chrono::Duration::seconds(7200 - 200));
    let code = w.app.make_code(None, None).await;
    qr::after_code_created(&w.app.state, code_id(&w, &code.token).await, &code.token).await;
    assert_eq!(w.standin.count(TOKEN_PATH), 2);
}

#[tokio::test]
async fn an_invalid_token_is_refreshed_and_the_call_retried_once() {
    let w = spawn(false).await;
    let code = w.app.make_code(None, None).await;
    let wechat = w.app.state.wechat.clone().unwrap();
    homeward::services::wechat::token::access_token(&w.app.state, &wechat)
        .await
        .unwrap();
    // Another server forced a new token: ours is now refused with 40001.
    w.standin.invalidate_tokens();
    let first_id = code_id(&w, &code.token).await;
    let created = qr::ensure(&w.app.state, &wechat, first_id, &code.token)
        .await
        .unwrap();
    assert!(created.url.starts_with("http://weixin.qq.com/q/"));
    let qr_calls = w.standin.calls_to(QR_PATH);
    assert_eq!(qr_calls.len(), 2, "one refused call, one retry");
    assert_ne!(
        qr_calls[0].query["access_token"],
        qr_calls[1].query["access_token"]
    );
    assert_eq!(w.standin.count(TOKEN_PATH), 2);

    // 42001 the same; but a second refusal in a row is not retried again.
    let other = w.app.make_code(None, None).await;
    let other_id = code_id(&w, &other.token).await;
    w.standin.fail_next(QR_PATH, 2, Failure::ErrCode(42001));
    let error = qr::ensure(&w.app.state, &wechat, other_id, &other.token)
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            WechatError::Api(ApiError::TokenInvalid { errcode: 42001 })
        ),
        "{error:?}"
    );
    assert_eq!(w.standin.count(QR_PATH), 4);
    // Rate limits and outages are reported as such, not retried.
    w.standin.fail_next(QR_PATH, 1, Failure::ErrCode(45009));
    let error = qr::ensure(&w.app.state, &wechat, other_id, &other.token)
        .await
        .unwrap_err();
    assert!(
        matches!(error, WechatError::Api(ApiError::RateLimited)),
        "{error:?}"
    );
    w.standin.fail_next(TOKEN_PATH, 1, Failure::Status(503));
    w.standin.invalidate_tokens();
    let error = qr::ensure(&w.app.state, &wechat, other_id, &other.token)
        .await
        .unwrap_err();
    assert!(
        matches!(error, WechatError::Api(ApiError::Http { status: 503 })),
        "{error:?}"
    );
    // And afterwards it works.
    qr::ensure(&w.app.state, &wechat, other_id, &other.token)
        .await
        .unwrap();
}

#[tokio::test]
async fn one_instance_refreshes_while_the_others_wait_for_its_token() {
    let db = TestDatabase::create().await;
    let standin = WechatStandin::start().await;
    let content = fixture::standard();
    let prefix = format!("hwtest:{}:", uuid::Uuid::new_v4().simple());
    let a = app_for(&db, &standin, content.path(), false, Some(prefix.clone())).await;
    let b = app_for(&db, &standin, content.path(), false, Some(prefix)).await;
    // WeChat is slow today: a refresh takes 300 ms, plenty of time for a stampede.
    standin.set_latency(Duration::from_millis(300));
    let mut tasks = Vec::new();
    for app in [&a, &b, &a, &b, &a, &b] {
        let state = app.state.clone();
        tasks.push(tokio::spawn(async move {
            let wechat = state.wechat.clone().unwrap();
            homeward::services::wechat::token::access_token(&state, &wechat)
                .await
                .map(|t| t.expose().to_owned())
        }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.unwrap().unwrap());
    }
    assert_eq!(
        standin.count(TOKEN_PATH),
        1,
        "exactly one refresh for both instances"
    );
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "everyone got the same token");
}
