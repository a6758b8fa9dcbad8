//! Request bodies have a size limit everywhere (poem has none by default): 413 beyond it,
//! whether or not the body declares its length.

use poem::http::header;
use poem::{Endpoint, IntoResponse, Request, Response};

use super::error::AppError;

/// Largest request body accepted anywhere (quiz answers are tiny).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest media upload in the studio (a video of up to 20 MB, with room for the form).
pub const MAX_UPLOAD_BYTES: usize = 21 * 1024 * 1024;

/// Refuses bodies over `MAX_BODY_BYTES` with 413, whether or not they declare their length.
pub async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let too_large = || AppError::TooLarge;
    // Editors upload media (videos up to 20 MB); everything else is small.
    let path = req.uri().path();
    let limit = if path.starts_with("/studio/") && path.ends_with("/media") {
        MAX_UPLOAD_BYTES
    } else {
        MAX_BODY_BYTES
    };
    let declared = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(length) if length > limit => return Err(too_large().into()),
        Some(_) => {}
        None if req.method() == poem::http::Method::GET
            || req.method() == poem::http::Method::HEAD => {}
        None => {
            let body = req
                .take_body()
                .into_bytes_limit(limit)
                .await
                .map_err(|_| too_large())?;
            req.set_body(body);
        }
    }
    next.call(req).await.map(IntoResponse::into_response)
}
