//! Rate limits shared by the pages and the API (429 with `Retry-After` beyond them), counted in
//! the cache so that every instance sharing Redis counts together.

use std::time::Duration;

use super::AppState;
use super::error::AppError;

/// Joins per client address per window.
pub const JOIN_PER_ADDRESS: i64 = 20;
/// Joins per enrollment code per window.
pub const JOIN_PER_CODE: i64 = 300;
/// Code look-ups (join pages, QR images, posters, the API's enrollment info) per address.
pub const LOOKUP_PER_ADDRESS: i64 = 120;
/// Recovery attempts per address.
pub const RECOVER_PER_ADDRESS: i64 = 10;
/// The window the limits above count in.
pub const WINDOW: Duration = Duration::from_secs(600);

/// Counts an attempt against `max` per `WINDOW`; over it, a 429 with Retry-After.
pub async fn limit(state: &AppState, key: &str, max: i64) -> Result<(), AppError> {
    limit_within(state, key, max, WINDOW).await
}

/// Counts an attempt against `max` per `window`.
pub async fn limit_within(
    state: &AppState,
    key: &str,
    max: i64,
    window: Duration,
) -> Result<(), AppError> {
    state
        .cache
        .rate_limit(key, max, window)
        .await
        .map_err(AppError::TooManyRequests)
}
