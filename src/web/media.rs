//! Lesson media (panels, posters, videos, captions): only for visible lessons, with ETag and
//! Last-Modified revalidation and byte ranges so phones can seek in a video.

use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Request, Response, handler};

use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::services::lessons;

/// Media are shown inside pages, never as documents: an SVG must not run script. Every answer
/// about a media file carries this, revalidations and refused ranges included.
pub const MEDIA_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

#[handler]
pub async fn media(
    state: Data<&AppState>,
    Path((series, lesson, name)): Path<(String, String, String)>,
    req: &Request,
) -> Result<Response, AppError> {
    let visible = super::pages::find_visible(&state, &series, &lesson).await?;
    let meta = visible
        .lesson()
        .media(&name)
        .ok_or(AppError::NotFound)?
        .clone();
    let etag = format!("\"{}\"", &meta.sha256[..32.min(meta.sha256.len())]);
    let last_modified = meta
        .updated_at
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let headers = req.headers();
    if not_modified(headers, &etag, meta.updated_at) {
        return Ok(Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(header::CONTENT_SECURITY_POLICY, MEDIA_CSP)
            .header(header::ETAG, etag)
            .header(header::LAST_MODIFIED, last_modified)
            .finish());
    }
    let bytes = lessons::media_bytes(&state, visible.lesson(), &name, &meta.sha256)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    let total = bytes.len() as u64;
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, meta.content_type.as_str())
        .header(header::ETAG, etag.as_str())
        .header(header::LAST_MODIFIED, last_modified)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .header(header::CONTENT_SECURITY_POLICY, MEDIA_CSP);
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .filter(|_| if_range_matches(headers, &etag));
    match range.map(|r| parse_range(r, total)) {
        None => Ok(builder.body(bytes.as_ref().clone())),
        Some(Some((start, end))) => Ok(builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{total}"),
            )
            .body(bytes[start as usize..=end as usize].to_vec())),
        Some(None) => Ok(Response::builder()
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_SECURITY_POLICY, MEDIA_CSP)
            .header(header::CONTENT_RANGE, format!("bytes */{total}"))
            .finish()),
    }
}

fn not_modified(headers: &HeaderMap, etag: &str, updated: chrono::DateTime<chrono::Utc>) -> bool {
    if let Some(value) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return value.split(',').any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| chrono::DateTime::parse_from_rfc2822(v).ok())
        .is_some_and(|since| updated.timestamp() <= since.timestamp())
}

fn if_range_matches(headers: &HeaderMap, etag: &str) -> bool {
    match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(value) => value.trim() == etag,
    }
}

/// One `bytes=` range, resolved against the length; `None` when it cannot be satisfied.
/// Several ranges are answered with the first only.
pub fn parse_range(value: &str, total: u64) -> Option<(u64, u64)> {
    let spec = value
        .trim()
        .strip_prefix("bytes=")?
        .split(',')
        .next()?
        .trim();
    let (start, end) = spec.split_once('-')?;
    if total == 0 {
        return None;
    }
    let (start, end) = match (start.trim(), end.trim()) {
        ("", suffix) => {
            let len: u64 = suffix.parse().ok()?;
            if len == 0 {
                return None;
            }
            (total.saturating_sub(len), total - 1)
        }
        (start, "") => (start.parse().ok()?, total - 1),
        (start, end) => (start.parse().ok()?, end.parse::<u64>().ok()?.min(total - 1)),
    };
    (start <= end && start < total).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn parses_byte_ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(parse_range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=-100", 1000), Some((900, 999)));
        assert_eq!(parse_range("bytes=990-2000", 1000), Some((990, 999)));
        assert_eq!(parse_range("bytes=1000-", 1000), None);
        assert_eq!(parse_range("bytes=5-1", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=abc", 1000), None);
    }
}
