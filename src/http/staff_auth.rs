//! Who a staff request comes from, decided in one place for the pages and the API: a session
//! cookie or a personal API token (`Authorization: Bearer hwk_…`), the role check, and CSRF
//! tokens signed with the server's secret.

use hmac::{Hmac, Mac};
use poem::Request;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::AppState;
use super::cookies::{CSRF_HEADER, cookie};
use super::error::{AppError, from_db};
use crate::services::staff::{self, Staff};

pub const STAFF_COOKIE: &str = "hw_staff";

/// The staff member behind a request: a session cookie, or `Authorization: Bearer hwk_…`.
pub async fn current_staff(state: &AppState, req: &Request) -> Result<Option<Staff>, AppError> {
    let now = state.clock.now();
    if let Some(token) = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return staff::authenticate_token(&state.db, token.trim(), now)
            .await
            .map_err(from_db);
    }
    match cookie(req, STAFF_COOKIE) {
        Some(token) => staff::authenticate_session(&state.db, token, now)
            .await
            .map_err(from_db),
        None => Ok(None),
    }
}

/// The staff member, if their role allows `allowed`: otherwise sign in (303) or 403.
pub async fn require(
    state: &AppState,
    req: &Request,
    allowed: impl Fn(&Staff) -> bool,
) -> Result<Staff, AppError> {
    let staff = current_staff(state, req)
        .await?
        .ok_or_else(|| AppError::SignIn(req.uri().path().to_owned()))?;
    if allowed(&staff) {
        Ok(staff)
    } else {
        Err(AppError::Forbidden)
    }
}

/// The CSRF token of a staff session: an HMAC of the session with the server's secret.
pub fn csrf_token(state: &AppState, staff: &Staff) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(&state.secret).expect("hmac accepts any key");
    mac.update(b"csrf:");
    mac.update(staff.session_hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A state-changing staff request is genuine: API tokens carry no cookie to forge; sessions
/// must send their CSRF token (form field or `X-CSRF-Token`).
pub fn check_csrf(
    state: &AppState,
    req: &Request,
    staff: &Staff,
    submitted: Option<&str>,
) -> Result<(), AppError> {
    if staff.session_hash.is_empty() {
        return Ok(());
    }
    let given = submitted
        .or_else(|| req.header(CSRF_HEADER))
        .unwrap_or_default();
    if bool::from(csrf_token(state, staff).as_bytes().ct_eq(given.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "the form has expired; please reload the page".into(),
        ))
    }
}

/// The `Set-Cookie` value of a staff session (SameSite=Strict); `clear` ends it.
pub fn staff_cookie(state: &AppState, value: &str, clear: bool) -> String {
    let secure = if state.settings.is_https() {
        "; Secure"
    } else {
        ""
    };
    let max_age = if clear { "; Max-Age=0" } else { "" };
    format!("{STAFF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict{secure}{max_age}")
}
