//! Gives every request an id (kept from a sane `X-Request-Id`), one log line when it ends, and
//! its counts by route and status.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use poem::http::HeaderValue;
use poem::{Endpoint, IntoResponse, Request, Response};
use tracing::Instrument;

/// A low-cardinality name for the route a path hit, for metric labels.
pub fn route_label(path: &str) -> &'static str {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        [""] => "/",
        ["s", _] => "/s/{series}",
        ["s", _, "certificate"] => "/s/{series}/certificate",
        ["s", _, _] => "/s/{series}/{lesson}",
        ["s", _, _, "quiz"] => "/s/{series}/{lesson}/quiz",
        ["s", _, _, "done"] => "/s/{series}/{lesson}/done",
        ["s", _, _, "card.png"] => "/s/{series}/{lesson}/card.png",
        ["f", _, _] => "/f/{series}/{lesson}",
        ["progress", "beacon"] => "/progress/beacon",
        ["media", ..] => "/media/{series}/{lesson}/{name}",
        ["static", ..] => "/static/{name}",
        ["lang", _] => "/lang/{code}",
        ["join", _] => "/join/{token}",
        ["qr", _] => "/qr/{file}",
        ["qr", _, "poster"] => "/qr/{token}/poster",
        ["recover"] => "/recover",
        ["help"] => "/help",
        ["wechat", "callback"] => "/wechat/callback",
        ["wechat", "oauth"] => "/wechat/oauth",
        ["wechat", "oauth", "callback"] => "/wechat/oauth/callback",
        ["me"] => "/me",
        ["me", "export.json"] => "/me/export.json",
        ["me", "delete"] => "/me/delete",
        ["me", "recovery-code"] => "/me/recovery-code",
        ["me", "sign-out"] => "/me/sign-out",
        ["studio", ..] => "/studio/*",
        ["manage", ..] => "/manage/*",
        ["admin", ..] => "/admin/*",
        ["staff", ..] => "/staff/*",
        ["livez"] => "/livez",
        ["readyz"] => "/readyz",
        ["metrics"] => "/metrics",
        ["api", "openapi.json"] => "/api/openapi.json",
        ["docs", ..] => "/docs",
        ["api", "v1", "series"] => "/api/v1/series",
        ["api", "v1", "series", _] => "/api/v1/series/{series}",
        ["api", "v1", "series", _, "lessons", _] => "/api/v1/series/{series}/lessons/{lesson}",
        ["api", "v1", "series", _, "lessons", _, "quiz"] => {
            "/api/v1/series/{series}/lessons/{lesson}/quiz"
        }
        ["api", "v1", "enrollments"] => "/api/v1/enrollments",
        ["api", "v1", "enrollments", _] => "/api/v1/enrollments/{token}",
        ["api", "v1", "sessions", "recover"] => "/api/v1/sessions/recover",
        ["api", "v1", "sessions"] => "/api/v1/sessions",
        ["api", "v1", "sessions", "current"] => "/api/v1/sessions/current",
        ["api", "v1", "me", "recovery-code"] => "/api/v1/me/recovery-code",
        ["api", "v1", "me"] => "/api/v1/me",
        ["api", "v1", "me", "export"] => "/api/v1/me/export",
        ["api", "v1", "me", "progress"] => "/api/v1/me/progress",
        ["api", "v1", "progress", "events"] => "/api/v1/progress/events",
        ["api", "v1", "studio", ..] => "/api/v1/studio/*",
        ["api", "v1", "manage", ..] => "/api/v1/manage/*",
        ["api", ..] => "/api/other",
        _ => "other",
    }
}

/// Gives each request an id (kept from `X-Request-Id` when the client sent a sane one), logs
/// one line when it ends, and counts it by route and status. Its Redis calls share one budget.
pub async fn observe<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let request_id = req
        .header("x-request-id")
        .filter(|id| id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        req.headers_mut().insert("x-request-id", value);
    }
    let route = route_label(req.uri().path());
    let method = req.method().to_string();
    let span = tracing::info_span!("request", request_id = %request_id, %method, route);
    let started = Instant::now();
    // The request's Redis calls share one budget (see `cache::within_request`).
    let result = crate::cache::within_request(next.call(req).instrument(span.clone())).await;
    let mut response = match result {
        Ok(response) => response.into_response(),
        Err(error) => error.into_response(),
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    metrics::counter!("http_requests_total", "route" => route, "status" => status.to_string())
        .increment(1);
    metrics::histogram!("http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
    span.in_scope(|| {
        tracing::info!(
            status,
            elapsed_ms = elapsed.as_millis() as u64,
            "request finished"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    Ok(response)
}

/// What a stopping server knows about its requests: how many are running, whether the
/// shutdown deadline has passed, and how many it cut off.
#[derive(Default)]
pub struct ShutdownWatch {
    running: AtomicUsize,
    deadline_passed: AtomicBool,
    cut_off: AtomicUsize,
}

impl ShutdownWatch {
    /// Requests being answered now.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    /// From now on a request that ends unanswered was cut off by the shutdown.
    pub fn deadline_passed(&self) {
        self.deadline_passed.store(true, Ordering::SeqCst);
    }

    /// Requests cut off at the shutdown deadline.
    pub fn cut_off(&self) -> usize {
        self.cut_off.load(Ordering::SeqCst)
    }
}

/// One request being answered; dropped unanswered after the deadline, it was cut off.
struct Running {
    watch: Arc<ShutdownWatch>,
    method: String,
    route: &'static str,
    answered: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.watch.running.fetch_sub(1, Ordering::SeqCst);
        if !self.answered && self.watch.deadline_passed.load(Ordering::SeqCst) {
            self.watch.cut_off.fetch_add(1, Ordering::SeqCst);
            tracing::error!(
                method = %self.method,
                route = self.route,
                "request cut off at the shutdown deadline"
            );
        }
    }
}

/// An app whose requests count as running until answered (see `ShutdownWatch`).
pub struct WatchShutdown<E> {
    pub inner: E,
    pub watch: Arc<ShutdownWatch>,
}

impl<E: Endpoint> Endpoint for WatchShutdown<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        self.watch.running.fetch_add(1, Ordering::SeqCst);
        let mut running = Running {
            watch: self.watch.clone(),
            method: req.method().to_string(),
            route: route_label(req.uri().path()),
            answered: false,
        };
        let result = self.inner.call(req).await.map(IntoResponse::into_response);
        running.answered = true;
        result
    }
}
