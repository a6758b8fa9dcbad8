//! Cookies, the current learner's session (cookie or `Authorization: Bearer`), the device id
//! used to count scans and avoid double joins, CSRF tokens, and the client's address.

use poem::Request;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::domain::token::SessionToken;
use crate::services::accounts;
use crate::startup::AppState;

pub const SESSION_COOKIE: &str = "hw_session";
pub const DEVICE_COOKIE: &str = "hw_device";
pub const CSRF_COOKIE: &str = "hw_csrf";
pub const FLASH_COOKIE: &str = "hw_flash";
pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn cookie<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.header("cookie")?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, and Secure when served over https.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> String {
    let secure = if state.settings.is_https() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}")
}

pub const YEAR: i64 = 365 * 24 * 3600;

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

pub fn new_secret() -> String {
    SessionToken::generate().0
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

/// The client's address, for rate limits.
pub fn client_ip(state: &AppState, req: &Request) -> String {
    let forwarded = req
        .header("x-forwarded-for")
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    if let Some(forwarded) = forwarded.filter(|_| state.settings.trust_proxy) {
        return forwarded.to_owned();
    }
    match req.remote_addr().as_socket_addr() {
        Some(addr) => addr.ip().to_string(),
        None => "unknown".into(),
    }
}
