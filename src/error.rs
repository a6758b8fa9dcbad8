//! One error type at the HTML edge. Client mistakes become 4xx with a friendly bilingual page;
//! anything else is logged with its cause chain and shown as an opaque 500.
//! (The JSON API describes its errors as problem+json in `api::problem`.)

use askama::Template;
use poem::error::ResponseError;
use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};

use crate::web::i18n::error_text;
use crate::web::views::ErrorPage;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    /// Staff pages without a staff session: go and sign in, then come back to this path.
    #[error("sign in first")]
    SignIn(String),
    #[error("not allowed")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
    #[error("too many attempts; try again in {0} seconds")]
    TooManyRequests(u64),
    #[error("the request body is larger than 64 KB")]
    TooLarge,
    #[error("service unavailable")]
    Unavailable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ResponseError for AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::SignIn(_) => StatusCode::SEE_OTHER,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn as_response(&self) -> Response {
        if let AppError::Internal(error) = self {
            tracing::error!(error = format!("{error:#}"), "request failed");
        }
        if let AppError::SignIn(next) = self {
            let location = format!(
                "/staff/login?next={}",
                next.replace('&', "%26").replace('?', "%3F")
            );
            return poem::Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, location)
                .finish();
        }
        let mut response = error_page(self.status());
        if let AppError::TooManyRequests(seconds) = self {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, poem::http::HeaderValue::from(*seconds));
        }
        response
    }
}

/// The CSS URL error pages use; set once at start so error pages need no state.
pub static ERROR_CSS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A friendly page in both languages for any error status.
pub fn error_page(status: StatusCode) -> Response {
    let (zh_title, zh_body, en_title, en_body) = error_text(status.as_u16());
    let page = ErrorPage {
        css: ERROR_CSS.get().cloned().unwrap_or_default(),
        status: status.as_u16(),
        zh_title,
        zh_body,
        en_title,
        en_body,
    };
    let html = page
        .render()
        .unwrap_or_else(|_| format!("{} {zh_title} / {en_title}", status.as_u16()));
    poem::web::Html(html)
        .with_status(status)
        .with_header(header::CACHE_CONTROL, "no-cache")
        .into_response()
}

/// Turns a database error into the right kind of failure: pool exhaustion is 503.
pub fn from_db(error: anyhow::Error) -> AppError {
    let text = format!("{error:#}");
    if text.contains("pool timed out") || text.contains("PoolTimedOut") {
        AppError::Unavailable
    } else {
        AppError::Internal(error)
    }
}
