//! The signed-in learner for the API's operations: `http::auth` decides who it is and whether a
//! cookie session needs its CSRF token; this turns a refusal into the API's problem answers.

use poem::Request;
use poem::http::StatusCode;
use poem_openapi::payload::Json;

use super::problem::{ApiError, Problem};
use crate::http::AppState;
use crate::http::auth::{self, LearnerRefusal};

impl From<LearnerRefusal> for ApiError {
    fn from(refusal: LearnerRefusal) -> ApiError {
        match refusal {
            LearnerRefusal::SignedOut => ApiError::Unauthorized(Json(Problem::new(
                StatusCode::UNAUTHORIZED,
                "sign in: send Authorization: Bearer <session_token>",
            ))),
            LearnerRefusal::NoCsrf => ApiError::Forbidden(Json(Problem::new(
                StatusCode::FORBIDDEN,
                "with a session cookie, send the hw_csrf cookie's value in the X-CSRF-Token header",
            ))),
            LearnerRefusal::Failed(error) => error.into(),
        }
    }
}

/// The learner a request's session belongs to, or 401.
pub async fn signed_in(state: &AppState, req: &Request) -> Result<i64, ApiError> {
    Ok(auth::signed_in_learner(state, req).await?)
}

/// The signed-in learner, for a request that changes something: a cookie session must prove
/// the request is genuine with its CSRF token (header, or `submitted` from the body).
pub async fn signed_in_to_change(
    state: &AppState,
    req: &Request,
    submitted: Option<&str>,
) -> Result<i64, ApiError> {
    Ok(auth::learner_for_change(state, req, submitted).await?)
}
