//! What the use cases work with, and nothing of the web app: the database, the cache, the
//! clock, the settings and this instance's memory. `startup` builds it once; the HTTP layers,
//! the WeChat handlers, background jobs and the CLI all hand it to `services`.

use std::sync::Arc;

use anyhow::Context as _;
use sea_orm::DatabaseConnection;

use crate::cache::{Cache, CacheStore, InProcessStore, RedisStore};
use crate::clock::Clock;
use crate::services::family::CardMemo;
use crate::services::lessons::Memo;
use crate::services::qr::QrMemo;
use crate::services::sessions::SessionMemo;
use crate::services::wechat::Wechat;
use crate::settings::Settings;
use crate::store;

#[derive(Clone)]
pub struct Context {
    pub db: DatabaseConnection,
    pub cache: Arc<Cache>,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    /// This instance's copy of the catalog and of media bytes.
    pub memo: Arc<Memo>,
    /// Rendered QR codes.
    pub qr: Arc<QrMemo>,
    /// Drawn family cards and their font.
    pub family: Arc<CardMemo>,
    /// The WeChat Official Account, when configured.
    pub wechat: Option<Arc<Wechat>>,
    /// Statements sent to the database by this instance.
    pub statements: Arc<store::StatementCounts>,
    /// Learner sessions recently found valid, so a page view need not ask the database.
    pub sessions: Arc<SessionMemo>,
}

impl Context {
    /// Connects to the database and the cache (keys under `cache_prefix`). Redis being down
    /// does not stop this: the cache falls back to the database.
    pub async fn connect(
        settings: Settings,
        clock: Arc<dyn Clock>,
        cache_prefix: &str,
    ) -> anyhow::Result<Context> {
        settings.validate()?;
        let wechat = Wechat::from_settings(&settings)?.map(Arc::new);
        let statements = Arc::new(store::StatementCounts::default());
        let db = store::connect_with(
            settings.database_url(),
            Some(settings.request_timeout()),
            Some(statements.clone()),
        )
        .await?;
        let cache_store: Arc<dyn CacheStore> = match settings.redis_url() {
            Some(url) => {
                Arc::new(RedisStore::new(url).context("REDIS_URL is not a valid Redis URL")?)
            }
            None => Arc::new(InProcessStore::default()),
        };
        Ok(Context {
            db,
            cache: Arc::new(Cache::new(cache_store, cache_prefix)),
            clock,
            settings: Arc::new(settings),
            memo: Arc::new(Memo::default()),
            qr: Arc::new(QrMemo::default()),
            family: Arc::new(CardMemo::default()),
            wechat,
            statements,
            sessions: Arc::new(SessionMemo::default()),
        })
    }
}
