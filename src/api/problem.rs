//! API errors as RFC 9457 problem details, every one listed in the OpenAPI document.

use poem::http::StatusCode;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object};

/// What went wrong, in words a person can act on.
#[derive(Debug, Clone, Object)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` for plain HTTP statuses).
    #[oai(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            problem_type: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
        }
    }
}

#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request could not be read (bad JSON, wrong types, too large).
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Not signed in: send `Authorization: Bearer <session_token>` (or the session cookie).
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// Signed in by cookie without the CSRF header.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// No such series or lesson, or it is not released yet.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The enrollment code has expired, was revoked or is full.
    #[oai(status = 410, content_type = "application/problem+json")]
    Gone(Json<Problem>),
    /// The request was understood but its content is not valid (e.g. an unknown quiz choice).
    #[oai(status = 422, content_type = "application/problem+json")]
    Invalid(Json<Problem>),
    /// Too many attempts from this address or for this code; wait as long as Retry-After says.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// The database is unreachable or overloaded; try again shortly.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// An unexpected server error; it has been logged.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
}

impl ApiError {
    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::NotFound(Json(Problem::new(StatusCode::NOT_FOUND, detail)))
    }

    pub fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::Invalid(Json(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)))
    }
}

impl From<crate::http::error::AppError> for Box<ApiError> {
    fn from(error: crate::http::error::AppError) -> Self {
        Box::new(error.into())
    }
}

impl From<crate::http::error::AppError> for ApiError {
    fn from(error: crate::http::error::AppError) -> ApiError {
        use crate::http::error::AppError;
        match error {
            AppError::NotFound => ApiError::not_found("not found"),
            AppError::SignIn(_) => ApiError::Unauthorized(Json(Problem::new(
                StatusCode::UNAUTHORIZED,
                "sign in: send Authorization: Bearer <token>",
            ))),
            AppError::Forbidden => ApiError::Forbidden(Json(Problem::new(
                StatusCode::FORBIDDEN,
                "your account's role does not allow this",
            ))),
            AppError::BadRequest(detail) => {
                ApiError::Invalid(Json(Problem::new(StatusCode::UNPROCESSABLE_ENTITY, detail)))
            }
            AppError::TooManyRequests(seconds) => ApiError::TooManyRequests(
                Json(Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("too many attempts; try again in {seconds} seconds"),
                )),
                seconds,
            ),
            AppError::TooLarge => ApiError::BadRequest(Json(Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is larger than 64 KB",
            ))),
            AppError::Unavailable => ApiError::Unavailable(
                Json(Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the database is busy or unreachable; please try again shortly",
                )),
                crate::http::error::RETRY_AFTER_SECONDS,
            ),
            AppError::Internal(error) => {
                tracing::error!(
                    error = crate::store::fault::describe(&error),
                    "api request failed"
                );
                ApiError::Internal(Json(Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "an unexpected error happened; it has been logged",
                )))
            }
        }
    }
}

impl ApiError {
    /// A staff action's refusal, with what to call the missing thing in a 404.
    pub fn from_action(error: crate::services::ActionError, missing: &str) -> ApiError {
        match error {
            crate::services::ActionError::NotFound => ApiError::not_found(missing),
            other => crate::http::error::AppError::from(other).into(),
        }
    }
}
