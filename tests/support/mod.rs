//! What every test suite (API and browser) shares: spawning the real app on a free port, on its
//! own database, with a clock the test controls; the content fixture; and the factories, codes,
//! staff and phones the tests build their world from.
//!
//! By default each test gets a fresh SQLite file and the in-process cache. With
//! `HOMEWARD_TEST_DATABASE_URL` (a PostgreSQL server URL) each test creates and later drops its
//! own database; with `HOMEWARD_TEST_REDIS_URL` it uses Redis under its own key prefix. A
//! configured service that cannot be reached fails the test.

#![allow(dead_code)]

pub mod fixture;
pub mod proxy;
pub mod push;
pub mod wechat_standin;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use homeward::clock::{Clock, ManualClock};
use homeward::http::AppState;
use homeward::services::enrollment::{self, NewCode};
use homeward::services::staff::{self, Role};
use homeward::settings::Settings;
use homeward::startup;
use sea_orm::{ConnectionTrait, Database, Statement};

/// The public URL every test app is configured with; QR codes and posters point there.
pub const PUBLIC_URL: &str = "http://homeward.test";

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

/// A change to an app's settings, applied before it starts.
pub type SettingsChange = Arc<dyn Fn(&mut Settings) + Send + Sync>;

pub struct Options {
    pub now: DateTime<Utc>,
    pub content_dir: PathBuf,
    /// `None`: the configured test Redis, if any. `Some(url)`: this Redis URL.
    pub redis_url: Option<String>,
    /// Keys prefix in the cache; instances that must share a cache use the same.
    pub cache_prefix: Option<String>,
    /// `None`: the family cards' default font folder.
    pub card_fonts: Option<PathBuf>,
    /// Changes to the app's settings (timeouts, limits, …) made before it starts.
    pub settings: Option<SettingsChange>,
    /// The app's own address is its public URL (instead of [`PUBLIC_URL`]), so that a browser
    /// can follow the absolute links it sends elsewhere (WeChat's sign-in comes back to it).
    pub own_public_url: bool,
    /// `None`: the test database's URL. `Some(url)`: connect there instead (e.g. through a
    /// proxy the test controls).
    pub database_url: Option<String>,
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
            card_fonts: None,
            settings: None,
            own_public_url: false,
            database_url: None,
        }
    }

    /// The same options, with `change` applied to the app's settings before it starts.
    pub fn with_settings(
        mut self,
        change: impl Fn(&mut Settings) + Send + Sync + 'static,
    ) -> Options {
        self.settings = Some(Arc::new(change));
        self
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
        let (acceptor, local) = startup::bind("127.0.0.1:0").await.expect("bind");
        let mut settings =
            Settings::with_database(options.database_url.clone().unwrap_or(db.url.clone()));
        settings.redis_url = options.redis_url.or_else(test_redis_url);
        settings.content_dir = options.content_dir.clone();
        settings.public_url = Some(if options.own_public_url {
            format!("http://{local}")
        } else {
            PUBLIC_URL.into()
        });
        if let Some(fonts) = options.card_fonts {
            settings.card_fonts = fonts;
        }
        if let Some(change) = &options.settings {
            change(&mut settings);
        }
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
        let counts = homeward::services::import::import_all(
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

/// An enrollment code made by `make_code`, with its factory and line.
pub struct Code {
    pub factory_id: i64,
    pub line_id: i64,
    pub token: String,
}

impl TestApp {
    /// Creates the factory 东莞电子厂 (Dongguan Electronics) with one line, `A3线`, and no
    /// codes; returns (factory id, line id).
    pub async fn make_factory(&self) -> (i64, i64) {
        let db = &self.state.db;
        let now = self.clock.now();
        let factory_id =
            enrollment::add_factory(db, "东莞电子厂", "Dongguan Electronics", Some("东莞"), now)
                .await
                .expect("add factory");
        let line_id = enrollment::add_line(db, factory_id, "A3线", now)
            .await
            .expect("add line");
        (factory_id, line_id)
    }

    /// Creates a factory, one of its lines and an enrollment code for that line.
    pub async fn make_code(&self, expires_in_days: Option<i64>, max_joins: Option<i32>) -> Code {
        let now = self.clock.now();
        let (factory_id, line_id) = self.make_factory().await;
        let (_, token) = enrollment::create_code(
            &self.state.db,
            NewCode {
                factory_id,
                line_id: Some(line_id),
                label: "canteen poster".into(),
                expires_at: expires_in_days.map(|d| now + chrono::Duration::days(d)),
                max_joins,
            },
            now,
        )
        .await
        .expect("create code");
        Code {
            factory_id,
            line_id,
            token,
        }
    }

    /// Creates a staff account and sets its password through its set-password link, as the
    /// new staff member would; returns its id.
    pub async fn add_staff(
        &self,
        email: &str,
        role: Role,
        factory_id: Option<i64>,
        password: &str,
    ) -> i64 {
        let now = self.clock.now();
        let (id, invite) = staff::add(&self.state.db, email, role, factory_id, None, now)
            .await
            .unwrap_or_else(|e| panic!("add staff {email}: {e:#}"));
        staff::set_password(&self.state.db, &invite, password, now)
            .await
            .unwrap_or_else(|e| panic!("set the password of {email}: {e}"));
        id
    }

    /// A new session for a learner, as if they had signed in on another phone; returns its token.
    pub async fn new_learner_session(&self, learner_id: i64) -> String {
        use homeward::domain::token::SessionToken;
        let token = SessionToken::generate().0;
        let now = self.clock.now();
        self.state
            .db
            .execute_raw(Statement::from_sql_and_values(
                self.state.db.get_database_backend(),
                "INSERT INTO learner_session (learner_id, token_hash, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
                [learner_id.into(), SessionToken::hash(&token).into(), now.into()],
            ))
            .await
            .expect("insert a learner session");
        token
    }

    /// The first column of the first row of `sql`, as a number.
    pub async fn count(&self, sql: &str) -> i64 {
        let row = self
            .state
            .db
            .query_one_raw(Statement::from_string(
                self.state.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }
}

/// A phone: a client that keeps its cookies.
pub fn phone() -> reqwest::Client {
    phone_with(Arc::new(reqwest::cookie::Jar::default()))
}

pub fn phone_with(jar: Arc<reqwest::cookie::Jar>) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_provider(jar)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The text of the one QR code in a greyscale picture; it must use error correction M or
/// better.
pub fn decode_qr(width: usize, height: usize, pixel: impl FnMut(usize, usize) -> u8) -> String {
    let mut prepared = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "expected one QR code");
    let (meta, content) = grids[0].decode().unwrap();
    assert!(
        meta.ecc_level <= 1,
        "error correction must be M or better (rqrr levels: 0=M, 1=L? got {})",
        meta.ecc_level
    );
    content
}
