//! Start-up and the one app builder that both the binary and every test serve.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::middleware::CatchPanic;
use poem::{Endpoint, EndpointExt, Route, Server, get};

use crate::http::observe::ShutdownWatch;
use crate::http::{self, AppState};
use crate::{api, content, ops, services, store, web, wechat};

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
                        services::import::import_all(&state.db, &series, state.clock.now(), |_| {})
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
        } else {
            // A missing folder is a typo or a forgotten copy: with nothing in the database either,
            // starting would only serve an empty site.
            let lessons = store::content::lesson_count(&state.db).await?;
            if lessons == 0 {
                bail!(
                    "the content folder {} does not exist and the database has no lessons: set HOMEWARD_CONTENT_DIR to the folder of lesson series (see content/README.md)",
                    dir.display()
                );
            }
            tracing::warn!(
                dir = %dir.display(),
                lessons,
                "the content folder does not exist: serving the lessons already in the database and importing nothing"
            );
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

pub fn build_app(state: AppState) -> impl Endpoint + 'static {
    let settings = state.settings.clone();
    let https = settings.is_https();
    let request_timeout = settings.request_timeout();
    api::routes(wechat::routes(web::routes(Route::new())), &settings)
        .at("/livez", get(ops::livez))
        .at("/readyz", get(ops::readyz))
        .at("/metrics", get(ops::metrics))
        .around(wechat::auto_sign_in::auto_sign_in)
        .around(http::body::limit_body)
        .around(move |next, req| http::deadline::within(next, req, request_timeout))
        .data(state)
        .around(http::error::answer_errors)
        .with(
            CatchPanic::new()
                .with_handler(|_| http::error::error_page(StatusCode::INTERNAL_SERVER_ERROR)),
        )
        .around(move |next, req| http::headers::harden(next, req, https))
        .around(http::observe::observe)
}

/// Serves until `shutdown` resolves, then stops accepting and lets in-flight requests finish
/// within `HOMEWARD_SHUTDOWN_TIMEOUT`. Requests still running then are cut off and logged, and
/// the result is an error (so the process exits non-zero). Clients slower than
/// `HOMEWARD_HEADER_TIMEOUT` / `HOMEWARD_BODY_TIMEOUT` to send a request are disconnected.
pub async fn serve<A: Acceptor + 'static>(
    state: AppState,
    acceptor: A,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_watched(
        state,
        acceptor,
        shutdown,
        Arc::new(ShutdownWatch::default()),
    )
    .await
}

/// `serve`, reporting its requests to `watch`.
pub async fn serve_watched<A: Acceptor + 'static>(
    state: AppState,
    acceptor: A,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    watch: Arc<ShutdownWatch>,
) -> std::io::Result<()> {
    let grace = state.settings.shutdown_timeout();
    let read_limits = http::read_deadline::ReadLimits::of(&state.settings);
    let signal = {
        let watch = watch.clone();
        async move {
            shutdown.await;
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                watch.deadline_passed();
            });
        }
    };
    // Boxed: one more layer on the app's type would pass the compiler's depth limit.
    let app = http::observe::WatchShutdown {
        inner: build_app(state).map_to_response().boxed(),
        watch: watch.clone(),
    };
    // poem cuts connections off a moment after the deadline is marked, so each request still
    // running is counted.
    Server::new_with_acceptor(http::read_deadline::ReadDeadlines::new(
        acceptor,
        read_limits,
    ))
    .run_with_graceful_shutdown(app, signal, Some(grace + Duration::from_millis(200)))
    .await?;
    match watch.cut_off() {
        0 => Ok(()),
        cut => Err(std::io::Error::other(format!(
            "{cut} request(s) cut off at the shutdown deadline (HOMEWARD_SHUTDOWN_TIMEOUT)"
        ))),
    }
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
