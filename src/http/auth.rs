//! Who a learner request comes from, decided in one place for the pages and the API: the
//! session (cookie or `Authorization: Bearer`), whether it must prove itself with a CSRF token,
//! and the device id used to count scans and avoid double joins.
//!
//! The rule: a request that changes something on a learner's behalf with the session cookie
//! must carry that session's CSRF token, unless a valid Bearer token authenticated it instead.
//! The token is bound to the session (an HMAC of the session with the server's secret), so one
//! learner's token is worthless with another's session. Forms shown before anyone is signed in
//! (joining, recovery, staff sign-in) use the `hw_csrf` cookie's value instead.

use hmac::{Hmac, Mac};
use poem::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::cookies::{CSRF_COOKIE, CSRF_HEADER, DEVICE_COOKIE, SESSION_COOKIE, cookie, new_secret};
use super::error::{AppError, from_db};
use crate::domain::token::SessionToken;
use crate::services::accounts;

/// How a request says which learner it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// `Authorization: Bearer <session token>`: nothing a browser sends by itself.
    Bearer(&'a str),
    /// The `hw_session` cookie: a browser sends it with any request, so changes need CSRF.
    Cookie(&'a str),
    None,
}

impl<'a> Credentials<'a> {
    pub fn token(self) -> Option<&'a str> {
        match self {
            Credentials::Bearer(token) | Credentials::Cookie(token) => Some(token),
            Credentials::None => None,
        }
    }
}

/// The learner credentials a request carries: a Bearer token first, then the cookie. Another
/// `Authorization` scheme (Basic, say) authenticates nothing, so the cookie still counts — and
/// still needs its CSRF token.
pub fn credentials(req: &Request) -> Credentials<'_> {
    let bearer = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match (bearer, cookie(req, SESSION_COOKIE)) {
        (Some(token), _) => Credentials::Bearer(token),
        (None, Some(token)) => Credentials::Cookie(token),
        (None, None) => Credentials::None,
    }
}

/// The session token a request carries: a Bearer token first, then the cookie.
pub fn session_token(req: &Request) -> Option<&str> {
    credentials(req).token()
}

/// The signed-in learner, if any.
pub async fn current_learner(state: &AppState, req: &Request) -> anyhow::Result<Option<i64>> {
    match session_token(req) {
        Some(token) => accounts::authenticate(state, token, state.clock.now()).await,
        None => Ok(None),
    }
}

/// The device id from its cookie, or a new one (returned with `true` when it must be set).
pub fn device_id(req: &Request) -> (String, bool) {
    match cookie(req, DEVICE_COOKIE).filter(|v| SessionToken::looks_valid(v)) {
        Some(id) => (id.to_owned(), false),
        None => (new_secret(), true),
    }
}

pub fn device_hash(device_id: &str) -> String {
    hex::encode(Sha256::digest(format!("device:{device_id}").as_bytes()))
}

/// The CSRF token for a form shown before sign-in: the cookie's, or a new one (with `true` when
/// it must be set).
pub fn csrf_token(req: &Request) -> (String, bool) {
    match cookie(req, CSRF_COOKIE).filter(|v| SessionToken::looks_valid(v)) {
        Some(token) => (token.to_owned(), false),
        None => (new_secret(), true),
    }
}

/// A form shown before sign-in is genuine when the token it submits (form field or header)
/// matches its CSRF cookie.
pub fn csrf_ok(req: &Request, submitted: Option<&str>) -> bool {
    let submitted = submitted.or_else(|| req.header(CSRF_HEADER));
    match (cookie(req, CSRF_COOKIE), submitted) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    }
}

/// The CSRF token of a learner session: an HMAC of the session with the server's secret.
pub fn session_csrf_token(state: &AppState, session_token: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&state.secret).expect("hmac accepts any key");
    mac.update(b"learner-csrf:");
    mac.update(SessionToken::hash(session_token).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The CSRF token for the pages of the request's session (empty without a session).
pub fn page_csrf_token(state: &AppState, req: &Request) -> String {
    session_token(req)
        .map(|token| session_csrf_token(state, token))
        .unwrap_or_default()
}

fn session_csrf_ok(state: &AppState, session: &str, given: Option<&str>) -> bool {
    let expected = session_csrf_token(state, session);
    given.is_some_and(|given| bool::from(expected.as_bytes().ct_eq(given.as_bytes())))
}

/// Why a learner request was refused.
#[derive(Debug)]
pub enum LearnerRefusal {
    /// No session, or one that has ended.
    SignedOut,
    /// A cookie session changing something without its CSRF token.
    NoCsrf,
    /// The database could not say.
    Failed(AppError),
}

/// The signed-in learner, or why not.
pub async fn signed_in_learner(state: &AppState, req: &Request) -> Result<i64, LearnerRefusal> {
    current_learner(state, req)
        .await
        .map_err(|e| LearnerRefusal::Failed(from_db(e)))?
        .ok_or(LearnerRefusal::SignedOut)
}

/// The signed-in learner, for a request that changes something: a cookie session must prove
/// the request is genuine with its session's CSRF token (`submitted` from a form or body, or
/// the `X-CSRF-Token` header); a Bearer token needs none.
pub async fn learner_for_change(
    state: &AppState,
    req: &Request,
    submitted: Option<&str>,
) -> Result<i64, LearnerRefusal> {
    if let Credentials::Cookie(session) = credentials(req) {
        let given = submitted.or_else(|| req.header(CSRF_HEADER));
        if !session_csrf_ok(state, session, given) {
            return Err(LearnerRefusal::NoCsrf);
        }
    }
    signed_in_learner(state, req).await
}
