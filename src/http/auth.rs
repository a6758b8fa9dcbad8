//! Who a learner request comes from, decided in one place for the pages and the API: the
//! session (cookie or `Authorization: Bearer`), whether it must prove itself with a CSRF token,
//! and the device id used to count scans and avoid double joins.

use poem::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use super::cookies::{CSRF_COOKIE, CSRF_HEADER, DEVICE_COOKIE, SESSION_COOKIE, cookie, new_secret};
use super::error::{AppError, from_db};
use crate::domain::token::SessionToken;
use crate::services::accounts;

/// The session token a request carries: a Bearer token first, then the cookie.
pub fn session_token(req: &Request) -> Option<&str> {
    req.header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .or_else(|| cookie(req, SESSION_COOKIE))
}

/// Whether the request authenticated by cookie (and so needs CSRF protection when it changes
/// something) rather than by Bearer token.
pub fn uses_cookie_session(req: &Request) -> bool {
    req.header("authorization").is_none() && cookie(req, SESSION_COOKIE).is_some()
}

/// The signed-in learner, if any.
pub async fn current_learner(state: &AppState, req: &Request) -> anyhow::Result<Option<i64>> {
    match session_token(req) {
        Some(token) => accounts::authenticate(&state.db, token, state.clock.now()).await,
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

/// The CSRF token for a form: the cookie's, or a new one (with `true` when it must be set).
pub fn csrf_token(req: &Request) -> (String, bool) {
    match cookie(req, CSRF_COOKIE).filter(|v| SessionToken::looks_valid(v)) {
        Some(token) => (token.to_owned(), false),
        None => (new_secret(), true),
    }
}

/// A state-changing request is genuine when the token it submits (form field or header)
/// matches its CSRF cookie.
pub fn csrf_ok(req: &Request, submitted: Option<&str>) -> bool {
    let submitted = submitted.or_else(|| req.header(CSRF_HEADER));
    match (cookie(req, CSRF_COOKIE), submitted) {
        (Some(expected), Some(given)) => bool::from(expected.as_bytes().ct_eq(given.as_bytes())),
        _ => false,
    }
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
/// the request is genuine with its CSRF token (header, or `submitted` from the body).
pub async fn learner_for_change(
    state: &AppState,
    req: &Request,
    submitted: Option<&str>,
) -> Result<i64, LearnerRefusal> {
    if uses_cookie_session(req) && !csrf_ok(req, submitted) {
        return Err(LearnerRefusal::NoCsrf);
    }
    signed_in_learner(state, req).await
}
