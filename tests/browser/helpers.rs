//! Spawns the real app on a free port, on its own database, with a clock the test controls.
//! (A trimmed copy of `tests/api/helpers.rs`: the browser tests are a separate test binary.)
//!
//! By default each test gets a fresh SQLite file and the in-process cache. With
//! `HOMEWARD_TEST_DATABASE_URL` (a PostgreSQL server URL) each test creates and later drops its
//! own database; with `HOMEWARD_TEST_REDIS_URL` it uses Redis under its own key prefix. A
//! configured service that cannot be reached fails the test.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use homeward::clock::{Clock, ManualClock};
use homeward::services::enrollment::{self, NewCode};
use homeward::services::staff::{self, Role};
use homeward::settings::Settings;
use homeward::startup::{self, AppState};
use sea_orm::{ConnectionTrait, Database};

/// The public URL the app is configured with; QR codes and posters point there.
pub const PUBLIC_URL: &str = "http://homeward.test";

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn test_database_server() -> Option<String> {
    env("HOMEWARD_TEST_DATABASE_URL")
}

pub fn test_redis_url() -> Option<String> {
    env("HOMEWARD_TEST_REDIS_URL")
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
    pub clock: Arc<ManualClock>,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
}

impl TestApp {
    /// Spawns an app on `db` with its clock at `now`, migrates it and imports `content_dir`.
    pub async fn spawn(db: &TestDatabase, now: &str, content_dir: &Path) -> TestApp {
        let now: DateTime<Utc> = now
            .parse()
            .expect("a UTC time such as 2030-01-07T00:00:00Z");
        let mut settings = Settings::with_database(db.url.clone());
        settings.redis_url = test_redis_url();
        settings.content_dir = content_dir.to_path_buf();
        settings.public_url = Some(PUBLIC_URL.into());
        let clock = Arc::new(ManualClock::new(now));
        let prefix = format!("hwtest:{}:", uuid::Uuid::new_v4().simple());
        let state = AppState::connect(settings, clock.clone(), &prefix)
            .await
            .expect("connect the app");
        homeward::store::migrate_up(&state.db)
            .await
            .expect("migrate");
        if test_redis_url().is_some() {
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
        let app = TestApp {
            address: format!("http://{local}"),
            clock,
            state,
            shutdown: Some(tx),
            server: Some(server),
        };
        app.import(content_dir).await;
        app
    }

    /// Loads and imports a content folder as `homeward content import` does.
    async fn import(&self, content_dir: &Path) {
        let series = homeward::content::load_dir(content_dir)
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
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

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

    /// Creates a factory, one of its lines and an open enrollment code for that line; returns
    /// the code's token.
    pub async fn make_code(&self) -> String {
        let db = &self.state.db;
        let now = self.clock.now();
        let (factory_id, line_id) = self.make_factory().await;
        let (_, token) = enrollment::create_code(
            db,
            NewCode {
                factory_id,
                line_id: Some(line_id),
                label: "canteen poster".into(),
                expires_at: None,
                max_joins: None,
            },
            now,
        )
        .await
        .expect("create code");
        token
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
