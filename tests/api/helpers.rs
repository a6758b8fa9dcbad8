//! Spawns the real app on a free port, on its own database, with a clock the test controls.
//!
//! By default each test gets a fresh SQLite file and the in-process cache. With
//! `HOMEWARD_TEST_DATABASE_URL` (a PostgreSQL server URL) each test creates and later drops its
//! own database; with `HOMEWARD_TEST_REDIS_URL` it uses Redis under its own key prefix. A
//! configured service that cannot be reached fails the test.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use homeward::clock::{Clock, ManualClock};
use homeward::settings::Settings;
use homeward::startup::{self, AppState};
use sea_orm::{ConnectionTrait, Database};

pub fn test_database_server() -> Option<String> {
    std::env::var("HOMEWARD_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

pub fn test_redis_url() -> Option<String> {
    std::env::var("HOMEWARD_TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// A database for one test; a PostgreSQL one is dropped when this is dropped.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        match test_database_server() {
            Some(server) => {
                let server = server.trim_end_matches('/').to_owned();
                let name = format!("hw_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(format!("{server}/postgres"))
                    .await
                    .expect("HOMEWARD_TEST_DATABASE_URL is set but PostgreSQL cannot be reached");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                TestDatabase {
                    url: format!("{server}/{name}"),
                    postgres: Some((server, name)),
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                TestDatabase {
                    url: format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
                    postgres: None,
                    _dir: Some(dir),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(admin) = Database::connect(format!("{server}/postgres")).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                        admin.close().await.ok();
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    pub content_dir: PathBuf,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

pub struct Options {
    pub now: DateTime<Utc>,
    pub content_dir: PathBuf,
    /// `None`: the configured test Redis, if any. `Some(url)`: this Redis URL.
    pub redis_url: Option<String>,
    /// Keys prefix in the cache; instances that must share a cache use the same.
    pub cache_prefix: Option<String>,
}

impl Options {
    pub fn new(now: &str, content_dir: &Path) -> Options {
        Options {
            now: now
                .parse()
                .expect("a UTC time such as 2030-01-07T00:00:00Z"),
            content_dir: content_dir.to_path_buf(),
            redis_url: None,
            cache_prefix: None,
        }
    }
}

impl TestApp {
    /// Spawns an app on `db`, migrates it and imports the content folder.
    pub async fn spawn(db: &TestDatabase, options: Options) -> TestApp {
        let app = TestApp::spawn_empty(db, options).await;
        app.import().await;
        app
    }

    /// Spawns an app on `db` and migrates it, importing nothing.
    pub async fn spawn_empty(db: &TestDatabase, options: Options) -> TestApp {
        let mut settings = Settings::with_database(db.url.clone());
        settings.redis_url = options.redis_url.or_else(test_redis_url);
        settings.content_dir = options.content_dir.clone();
        settings.public_url = Some("http://homeward.test".into());
        let clock = Arc::new(ManualClock::new(options.now));
        let prefix = options
            .cache_prefix
            .unwrap_or_else(|| format!("hwtest:{}:", uuid::Uuid::new_v4().simple()));
        let state = AppState::connect(settings, clock.clone(), &prefix)
            .await
            .expect("connect the app");
        homeward::store::migrate_up(&state.db)
            .await
            .expect("migrate");
        if test_redis_url().is_some() && state.settings.redis_url() == test_redis_url().as_deref() {
            assert!(
                state.cache.ping().await,
                "HOMEWARD_TEST_REDIS_URL is set but Redis cannot be reached"
            );
        }
        let (acceptor, local) = startup::bind("127.0.0.1:0").await.expect("bind");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server_state = state.clone();
        let server = tokio::spawn(async move {
            startup::serve(server_state, acceptor, async {
                let _ = rx.await;
            })
            .await
            .expect("server");
        });
        TestApp {
            address: format!("http://{local}"),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            clock,
            state,
            content_dir: options.content_dir,
            shutdown: Some(tx),
            server: Some(server),
        }
    }

    /// Loads and imports the content folder as `homeward content import` does.
    pub async fn import(&self) -> homeward::store::content::ImportCounts {
        let series = homeward::content::load_dir(&self.content_dir)
            .unwrap_or_else(|problems| panic!("fixture content is invalid: {problems:#?}"));
        let counts = homeward::content::import::import_all(
            &self.state.db,
            &series,
            self.clock.now(),
            |_| {},
        )
        .await
        .expect("import");
        if counts.changed_anything() {
            homeward::services::lessons::content_changed(&self.state).await;
        }
        counts
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn status(&self, path: &str) -> u16 {
        self.get(path).await.status().as_u16()
    }

    pub async fn text(&self, path: &str) -> String {
        self.get(path).await.text().await.expect("body")
    }

    pub async fn json(&self, path: &str) -> serde_json::Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
