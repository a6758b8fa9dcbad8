//! What every request handler sees: the services' context plus what only the edge needs (the
//! embedded assets, the metrics recorder, the key that signs staff CSRF tokens).

use std::ops::Deref;
use std::sync::Arc;

use super::assets::Assets;
use crate::clock::Clock;
use crate::services::Context;
use crate::settings::Settings;
use crate::telemetry;

#[derive(Clone)]
pub struct AppState {
    pub ctx: Context,
    pub assets: Arc<Assets>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
    /// Signs staff CSRF tokens.
    pub secret: Arc<Vec<u8>>,
    /// Bodies compressed once and kept (lesson pages as anyone sees them).
    pub encoded: Arc<super::encoded::EncodedMemo>,
}

/// Handlers hand `&state` straight to the services, which take a `&Context`.
impl Deref for AppState {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.ctx
    }
}

impl AppState {
    /// The edge around a connected context.
    pub fn new(ctx: Context) -> AppState {
        let assets = Assets::load();
        let _ = super::error::ERROR_CSS.set(assets.url("app.css").to_owned());
        let secret = ctx.settings.secret();
        AppState {
            ctx,
            assets: Arc::new(assets),
            metrics: telemetry::metrics_handle(),
            secret: Arc::new(secret),
            encoded: Arc::default(),
        }
    }

    /// Connects to the database and the cache (see `Context::connect`) and builds the edge.
    pub async fn connect(
        settings: Settings,
        clock: Arc<dyn Clock>,
        cache_prefix: &str,
    ) -> anyhow::Result<AppState> {
        Ok(AppState::new(
            Context::connect(settings, clock, cache_prefix).await?,
        ))
    }
}
