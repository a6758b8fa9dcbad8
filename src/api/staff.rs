//! What the staff API's operations share: who the staff member is (a personal API token,
//! `Authorization: Bearer hwk_…`, or the staff session cookie with the `X-CSRF-Token` header,
//! under the same rules as the pages), their tags, and the plain answers.

use poem::Request;
use poem_openapi::{ApiResponse, Object, Tags};

use super::problem::ApiError;
use crate::http::AppState;
use crate::http::error::AppError;
use crate::services::staff::Staff;

#[derive(Tags)]
pub enum ApiTags {
    /// Editors: the release plan of each series.
    Studio,
    /// Managers: a factory's codes and group totals.
    Manage,
    /// Admins: factories, lines, staff, the audit log, learners' data requests.
    Admin,
    /// Any staff member: personal API tokens.
    Staff,
}

#[derive(Debug, Clone, Object)]
pub struct Created {
    pub id: i64,
}

#[derive(ApiResponse)]
pub enum Done {
    /// Done; learners see the change at once on every instance.
    #[oai(status = 204)]
    NoContent,
}

/// The staff member, if `allowed`; for changes, a cookie session must also send its CSRF token.
pub async fn staff(
    state: &AppState,
    req: &Request,
    allowed: impl Fn(&Staff) -> bool,
    changes: bool,
) -> Result<Staff, ApiError> {
    let who = crate::http::staff_auth::current_staff(state, req)
        .await?
        .ok_or_else(|| ApiError::from(AppError::SignIn(String::new())))?;
    if !allowed(&who) {
        return Err(AppError::Forbidden.into());
    }
    if changes && crate::http::staff_auth::check_csrf(state, req, &who, None).is_err() {
        return Err(AppError::Forbidden.into());
    }
    Ok(who)
}
