//! Security headers on every response, error pages included; `no-cache` on HTML (WeChat's
//! browser caches pages hard) and `no-store` on anything that shows a secret.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use poem::http::{HeaderValue, header};
use poem::{Endpoint, IntoResponse, Request, Response};

/// Set by a handler whose answer shows a secret (a recovery code, a session or API token, a
/// set-password link, a learner's data); the answer is then never stored by any cache.
#[derive(Clone, Default)]
struct ShowsSecret(Arc<AtomicBool>);

/// Marks the answer to `req` as showing a secret: it goes out with `Cache-Control: no-store`,
/// whatever else the handler or an error path sets.
pub fn shows_secret(req: &Request) {
    if let Some(flag) = req.extensions().get::<ShowsSecret>() {
        flag.0.store(true, Ordering::Relaxed);
    }
}

/// Security headers on every response, error pages included; `no-cache` on HTML; `no-store`
/// where `shows_secret` was called.
pub async fn harden<E: Endpoint>(next: E, mut req: Request, https: bool) -> poem::Result<Response> {
    let is_docs = req.uri().path().starts_with("/docs");
    let secret = ShowsSecret::default();
    req.extensions_mut().insert(secret.clone());
    let mut response = next.call(req).await?.into_response();
    let headers = response.headers_mut();
    if secret.0.load(Ordering::Relaxed) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let csp = if is_docs {
        // The embedded API docs page needs inline script and style.
        "default-src 'self' 'unsafe-inline' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    } else {
        "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; script-src 'self'; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    };
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(csp));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    let is_html = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    Ok(response)
}
