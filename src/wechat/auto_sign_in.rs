//! WeChat's in-app browser forgets cookies. A learner page opened there without a session goes
//! through WeChat's silent sign-in first (once a day at most, so someone who has not joined is
//! not sent round again), and comes back signed in by their openid.

use poem::http::{Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::http::cookies::{cookie, set_cookie};
use crate::http::{AppState, auth, pending_openid};

/// Set when a phone went through sign-in (sent here or by a link), so it is not sent again
/// today.
pub const TRIED_COOKIE: &str = "hw_wx_tried";
const TRIED_SECONDS: i64 = 24 * 3600;

/// The learner pages worth signing in for.
fn is_learner_page(path: &str) -> bool {
    path == "/"
        || path == "/me"
        || path.starts_with("/join/")
        || (path.starts_with("/s/") && !path.ends_with("/certificate"))
}

fn in_wechat(req: &Request) -> bool {
    req.header(header::USER_AGENT)
        .is_some_and(|agent| agent.contains("MicroMessenger"))
}

pub async fn auto_sign_in<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let candidate = matches!(*req.method(), Method::GET | Method::HEAD)
        && in_wechat(&req)
        && is_learner_page(req.uri().path())
        && cookie(&req, TRIED_COOKIE).is_none()
        && cookie(&req, pending_openid::PENDING_COOKIE).is_none()
        && req.header(header::AUTHORIZATION).is_none();
    if candidate
        && let Some(state) = req.data::<AppState>()
        && state.wechat.is_some()
        && matches!(auth::current_learner(state, &req).await, Ok(None))
    {
        let target = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned();
        let location = format!("/wechat/oauth?next={}", encode(&target));
        return Ok(Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, location)
            .header(header::CACHE_CONTROL, "no-store")
            .header(
                header::SET_COOKIE,
                set_cookie(state, TRIED_COOKIE, "1", TRIED_SECONDS),
            )
            .finish());
    }
    next.call(req).await.map(IntoResponse::into_response)
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
