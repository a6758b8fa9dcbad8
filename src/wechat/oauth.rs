//! `GET /wechat/oauth?next=/path` sends the phone to WeChat's silent sign-in; WeChat sends it
//! back to `GET /wechat/oauth/callback?code&state`. The state is single-use and bound to the
//! browser by a cookie; the code is exchanged for the openid, which signs in its learner (on
//! any phone), is bound to the learner signed in by cookie, or waits for the join page.

use poem::http::{StatusCode, header};
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::http::cookies::{SESSION_COOKIE, YEAR, cookie, set_cookie};
use crate::http::error::{AppError, from_db};
use crate::http::{AppState, auth, client, limits, pending_openid};
use crate::services::wechat::oauth::{self, SignIn, safe_next};
use crate::services::wechat::{Wechat, WechatError};
use crate::wechat::auto_sign_in::TRIED_COOKIE;
use crate::wechat::protocol::ApiError;

/// Binds a sign-in's state to the browser that started it.
pub const STATE_COOKIE: &str = "hw_wx_state";
const STATE_SECONDS: i64 = 600;
/// Sign-ins started per client address per window.
const STARTS_PER_ADDRESS: i64 = 60;

fn configured(state: &AppState) -> Result<&Wechat, AppError> {
    state.wechat.as_deref().ok_or(AppError::NotFound)
}

fn failed(error: WechatError) -> AppError {
    match error {
        WechatError::Api(ApiError::WeChat { .. } | ApiError::TokenInvalid { .. }) => {
            AppError::BadRequest(
                "WeChat did not accept the sign-in; please open the link again".into(),
            )
        }
        WechatError::Api(_) | WechatError::Busy => AppError::Unavailable,
        WechatError::Off => AppError::NotFound,
        WechatError::Failed(error) => from_db(error),
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

#[handler]
pub async fn start(
    state: Data<&AppState>,
    Query(query): Query<StartQuery>,
    req: &Request,
) -> Result<Response, AppError> {
    let wechat = configured(&state)?;
    limits::limit(
        &state,
        &format!("wechat-oauth:{}", client::client_ip(&state, req)),
        STARTS_PER_ADDRESS,
    )
    .await?;
    let next = safe_next(query.next.as_deref());
    let (sign_in_state, url) = oauth::start(&state, wechat, &next).await.map_err(failed)?;
    Ok(Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, url)
        .header(header::CACHE_CONTROL, "no-store")
        .header(
            header::SET_COOKIE,
            set_cookie(&state, STATE_COOKIE, &sign_in_state, STATE_SECONDS),
        )
        .finish())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
}

#[handler]
pub async fn finish(
    state: Data<&AppState>,
    Query(query): Query<CallbackQuery>,
    req: &Request,
) -> Result<Response, AppError> {
    let wechat = configured(&state)?;
    let expired = || {
        AppError::BadRequest("the WeChat sign-in has expired; please open the link again".into())
    };
    let given = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(expired)?;
    let code = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty() && c.len() <= 256)
        .ok_or_else(expired)?;
    let ours = cookie(req, STATE_COOKIE).ok_or_else(expired)?;
    let same_browser =
        ours.len() == given.len() && bool::from(ours.as_bytes().ct_eq(given.as_bytes()));
    if !same_browser {
        return Err(expired());
    }
    let next = oauth::finish(&state, given)
        .await
        .map_err(failed)?
        .ok_or_else(expired)?;
    let openid = wechat
        .api
        .oauth_openid(code)
        .await
        .map_err(|e| failed(e.into()))?;
    let current = auth::current_learner(&state, req).await.map_err(from_db)?;
    let outcome = oauth::sign_in(&state, &openid, current)
        .await
        .map_err(failed)?;
    // Someone who followed by scanning a factory's code but has not joined yet goes to that
    // code's join page first, whichever learner page they opened.
    let next = match &outcome {
        SignIn::NotJoined {
            join_token: Some(token),
        } if !next.starts_with("/join/") => format!("/join/{token}"),
        _ => next,
    };
    let mut response = Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, next)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::SET_COOKIE, set_cookie(&state, STATE_COOKIE, "", 0))
        .header(
            header::SET_COOKIE,
            set_cookie(&state, TRIED_COOKIE, "1", 24 * 3600),
        )
        .finish();
    let cookie = match outcome {
        SignIn::Learner {
            session_token: Some(token),
            ..
        } => Some(set_cookie(&state, SESSION_COOKIE, &token, YEAR)),
        SignIn::Learner { .. } => None,
        SignIn::NotJoined { .. } => Some(pending_openid::set_pending(&state, &openid)),
    };
    if let Some(cookie) = cookie {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.parse().expect("cookie"));
    }
    Ok(response)
}
