//! Cookies: reading one from a request, and `Set-Cookie` values with the right attributes.

use poem::Request;

use super::AppState;
use crate::domain::token::SessionToken;

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

/// A fresh random value for a cookie (device id, CSRF token).
pub fn new_secret() -> String {
    SessionToken::generate().0
}
