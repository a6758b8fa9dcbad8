//! AppState and the one app builder that both the binary and every test serve.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use poem::http::{HeaderValue, StatusCode, header};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, IntoResponse, Request, Response, Route, Server, get};
use sea_orm::DatabaseConnection;

use crate::cache::{Cache, CacheStore, InProcessStore, RedisStore};
use crate::clock::Clock;
use crate::services::lessons::Memo;
use crate::settings::Settings;
use crate::web::assets::Assets;
use crate::{api, content, error, ops, store, telemetry, web};

/// Largest request body accepted anywhere (quiz answers are tiny).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest media upload in the studio (a video of up to 20 MB, with room for the form).
pub const MAX_UPLOAD_BYTES: usize = 21 * 1024 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub cache: Arc<Cache>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub assets: Arc<Assets>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    pub memo: Arc<Memo>,
    pub qr: Arc<crate::services::qr::QrMemo>,
    /// Signs staff CSRF tokens.
    pub secret: Arc<Vec<u8>>,
}

impl AppState {
    /// Connects to the database and the cache. Redis being down does not stop this.
    pub async fn connect(
        settings: Settings,
        clock: Arc<dyn Clock>,
        cache_prefix: &str,
    ) -> anyhow::Result<AppState> {
        settings.validate()?;
        let db = store::connect(settings.database_url()).await?;
        let cache_store: Arc<dyn CacheStore> = match settings.redis_url() {
            Some(url) => {
                Arc::new(RedisStore::new(url).context("REDIS_URL is not a valid Redis URL")?)
            }
            None => Arc::new(InProcessStore::default()),
        };
        let assets = Assets::load();
        let _ = error::ERROR_CSS.set(assets.url("app.css").to_owned());
        let secret = settings.secret();
        Ok(AppState {
            db,
            cache: Arc::new(Cache::new(cache_store, cache_prefix)),
            clock,
            settings: Arc::new(settings),
            assets: Arc::new(assets),
            metrics: telemetry::metrics_handle(),
            memo: Arc::new(Memo::default()),
            qr: Arc::new(Default::default()),
            secret: Arc::new(secret),
        })
    }
}

/// What `serve` does before listening. On the embedded SQLite default it migrates and imports
/// `content/` itself, so `cargo run` works on a bare machine; on PostgreSQL, migrations are a
/// deploy step and pending ones stop the start.
pub async fn prepare(state: &AppState) -> anyhow::Result<()> {
    if store::is_sqlite(&state.db) {
        store::migrate_up(&state.db).await?;
        let dir = &state.settings.content_dir;
        if dir.join(".").is_dir() {
            match content::load_dir(dir) {
                Ok(series) => {
                    let counts =
                        content::import::import_all(&state.db, &series, state.clock.now(), |_| {})
                            .await?;
                    if counts.changed_anything() {
                        crate::services::lessons::content_changed(state).await;
                    }
                    tracing::info!(?counts, dir = %dir.display(), "content imported");
                }
                Err(problems) => {
                    for problem in &problems {
                        tracing::warn!(%problem, "content problem");
                    }
                    tracing::warn!(
                        count = problems.len(),
                        "content not imported; run `homeward content check`"
                    );
                }
            }
        }
    } else {
        let pending = store::pending_migrations(&state.db).await?;
        if !pending.is_empty() {
            bail!(
                "the database has {} pending migration(s) ({}); run `homeward migrate up` first",
                pending.len(),
                pending.join(", ")
            );
        }
    }
    Ok(())
}

/// Refuses bodies over `MAX_BODY_BYTES` with 413, whether or not they declare their length.
async fn limit_body<E: Endpoint>(next: E, mut req: Request) -> poem::Result<Response> {
    let too_large = || error::AppError::TooLarge;
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

/// Security headers on every response, error pages included; `no-cache` on HTML.
async fn harden<E: Endpoint>(next: E, req: Request, https: bool) -> poem::Result<Response> {
    let is_docs = req.uri().path().starts_with("/docs");
    let mut response = next.call(req).await?.into_response();
    let headers = response.headers_mut();
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

/// Every error becomes a proper answer: problem+json under `/api`, a bilingual page elsewhere.
async fn answer_errors<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let is_api = req.uri().path().starts_with("/api/");
    let response = match next.call(req).await {
        Ok(response) => response.into_response(),
        Err(err) => {
            let status = err.status();
            if is_api {
                if status.is_server_error() {
                    tracing::error!(error = %err, "api request failed");
                }
                let detail = if status.is_server_error() {
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
                    _ => api::problem::problem_response(status, &detail),
                }
            } else if err.is::<error::AppError>() {
                err.into_response()
            } else {
                if status.is_server_error() {
                    tracing::error!(error = %err, "request failed");
                }
                error::error_page(status)
            }
        }
    };
    Ok(response)
}

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"))
}

pub fn build_app(state: AppState) -> impl Endpoint + 'static {
    let settings = state.settings.clone();
    let https = settings.is_https();
    api::routes(web::routes(Route::new()), &settings)
        .at("/livez", get(ops::livez))
        .at("/readyz", get(ops::readyz))
        .at("/metrics", get(ops::metrics))
        .around(limit_body)
        .data(state)
        .around(answer_errors)
        .with(
            CatchPanic::new()
                .with_handler(|_| error::error_page(StatusCode::INTERNAL_SERVER_ERROR)),
        )
        .around(move |next, req| harden(next, req, https))
        .around(telemetry::observe)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish.
pub async fn serve<A: Acceptor + 'static>(
    state: AppState,
    acceptor: A,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(build_app(state), shutdown, Some(Duration::from_secs(30)))
        .await
}

/// Binds `addr` and returns the acceptor and the address actually bound (port 0 picks one).
pub async fn bind(addr: &str) -> anyhow::Result<(impl Acceptor + 'static, std::net::SocketAddr)> {
    let acceptor = TcpListener::bind(addr.to_owned())
        .into_acceptor()
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("no local address")?;
    Ok((acceptor, local))
}
