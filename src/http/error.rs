//! One error type at the edge and how errors become answers: client mistakes are 4xx with a
//! friendly bilingual page (problem+json under `/api`); anything else is logged with its cause
//! chain and shown as an opaque 500. (The API lists its errors in the OpenAPI document through
//! `api::problem`.)

use askama::Template;
use poem::error::ResponseError;
use poem::http::{StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

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
    Internal(anyhow::Error),
}

/// How long a client is asked to wait (`Retry-After`) before trying again after a 503.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Errors from services and the store: the database being unavailable is a 503, anything else
/// a 500.
impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> AppError {
        from_db(error)
    }
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
            tracing::error!(
                error = crate::store::fault::describe(error),
                "request failed"
            );
        }
        if let AppError::SignIn(next) = self {
            let location = format!("/staff/login?next={}", super::redirect::query_value(next));
            return poem::Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, location)
                .finish();
        }
        let mut response = error_page(self.status());
        let retry_after = match self {
            AppError::TooManyRequests(seconds) => Some(*seconds),
            AppError::Unavailable => Some(RETRY_AFTER_SECONDS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, poem::http::HeaderValue::from(seconds));
        }
        response
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    css: String,
    status: u16,
    zh_title: &'static str,
    zh_body: &'static str,
    en_title: &'static str,
    en_body: &'static str,
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

impl From<crate::services::ActionError> for AppError {
    fn from(error: crate::services::ActionError) -> AppError {
        use crate::services::ActionError;
        match error {
            ActionError::Invalid(message) => AppError::BadRequest(message),
            ActionError::NotFound => AppError::NotFound,
            ActionError::Failed(error) => from_db(error),
        }
    }
}

/// Turns a database error into the right kind of failure: the database unreachable, restarting,
/// out of connections or out of time is 503 (logged here, once, as a warning with its cause);
/// anything else is a 500.
pub fn from_db(error: anyhow::Error) -> AppError {
    match crate::store::fault::classify(&error) {
        crate::store::fault::Fault::Unavailable => {
            tracing::warn!(
                error = crate::store::fault::describe(&error),
                "database unavailable; answered 503"
            );
            AppError::Unavailable
        }
        _ => AppError::Internal(error),
    }
}

/// Friendly error texts, shown in both languages at once.
fn error_text(status: u16) -> (&'static str, &'static str, &'static str, &'static str) {
    match status {
        404 => (
            "找不到这个页面",
            "这个页面不存在，或者还没有发布。",
            "Page not found",
            "This page does not exist, or it is not out yet.",
        ),
        400 | 422 => (
            "请求有误",
            "提交的内容不对，请返回重试。",
            "Something in the request was wrong",
            "What was sent could not be used. Please go back and try again.",
        ),
        405 => (
            "不支持这样访问",
            "请从页面上的链接或按钮进入。",
            "Not allowed",
            "Please use the links and buttons on the page.",
        ),
        403 => (
            "没有权限",
            "您的账号不能访问这个页面。",
            "Not allowed",
            "Your account cannot open this page.",
        ),
        413 => (
            "内容太大",
            "提交的内容太大了。",
            "Too large",
            "What was sent is too large.",
        ),
        429 => (
            "操作太频繁",
            "请稍等一会儿再试。",
            "Too many requests",
            "Please wait a moment and try again.",
        ),
        503 => (
            "服务暂时不可用",
            "请过几分钟再试。",
            "Temporarily unavailable",
            "Please try again in a few minutes.",
        ),
        s if s < 500 => (
            "请求有误",
            "请返回重试。",
            "Request not accepted",
            "Please go back and try again.",
        ),
        _ => (
            "出错了",
            "服务器出了点问题，请稍后再试。",
            "Something went wrong",
            "The server had a problem. Please try again later.",
        ),
    }
}

/// A problem+json response for errors raised outside the API's own operations (unknown paths,
/// unreadable bodies), so every `/api` answer has the same shape.
pub fn problem_response(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(body.to_string())
}

/// Every error becomes a proper answer: problem+json under `/api`, a bilingual page elsewhere.
pub async fn answer_errors<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let is_api = req.uri().path().starts_with("/api/");
    let mut response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => {
            let status = err.status();
            // Homeward's own errors were logged where they were made (500 at ERROR, 503 at
            // WARN with its cause); what poem raised by itself is logged here, once.
            let ours = err.is::<AppError>() || !err.has_source();
            if status.is_server_error() && !ours {
                tracing::error!(error = %err, "request failed");
            }
            if is_api {
                let detail = if status == StatusCode::SERVICE_UNAVAILABLE {
                    "the database is busy or unreachable; please try again shortly".to_owned()
                } else if status.is_server_error() {
                    "an unexpected error happened; it has been logged".to_owned()
                } else if status == StatusCode::NOT_FOUND {
                    "there is nothing at this address; see /api/openapi.json".to_owned()
                } else {
                    err.to_string()
                };
                // The API's own errors arrive as finished problem+json responses: keep them.
                let ready_made = (!err.has_source()).then(|| err.into_response());
                match ready_made {
                    Some(response) if is_problem(&response) => response,
                    _ => problem_response(status, &detail),
                }
            } else if err.is::<AppError>() {
                err.into_response()
            } else {
                error_page(status)
            }
        }
    };
    if response.status() == StatusCode::SERVICE_UNAVAILABLE
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, RETRY_AFTER_SECONDS.into());
    }
    Ok(response)
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}
