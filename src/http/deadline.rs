//! Every request gives up in time: one answered after `HOMEWARD_REQUEST_TIMEOUT` is answered 503
//! instead (the database link silent, a row locked by someone else), so no request holds a
//! connection, a pool slot or a phone for longer.

use std::time::Duration;

use poem::{Endpoint, IntoResponse, Request, Response};

use super::error::AppError;

/// Runs the request within `limit`; past it, 503 with `Retry-After`. Media uploads in the studio
/// are left alone: their bodies take as long as the editor's link needs.
pub async fn within<E: Endpoint>(next: E, req: Request, limit: Duration) -> poem::Result<Response> {
    let path = req.uri().path();
    if path.starts_with("/studio/") && path.ends_with("/media") {
        return next.call(req).await.map(IntoResponse::into_response);
    }
    let method = req.method().clone();
    match tokio::time::timeout(limit, next.call(req)).await {
        Ok(result) => result.map(IntoResponse::into_response),
        Err(_) => {
            tracing::warn!(
                %method,
                limit_ms = limit.as_millis() as u64,
                "request out of time (HOMEWARD_REQUEST_TIMEOUT); answered 503"
            );
            Err(AppError::Unavailable.into())
        }
    }
}
