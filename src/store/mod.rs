//! The database: connecting (SQLite or PostgreSQL), migrations, and queries returning domain types.

pub mod backup;
pub mod content;
pub mod entity;
pub mod fault;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context;
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};

/// Opens a pool. SQLite files are created when missing, in WAL mode with a busy timeout;
/// every pool has connect and acquire timeouts and checks idle connections before use, so it
/// recovers after a database restart.
pub async fn connect(url: &str) -> anyhow::Result<DatabaseConnection> {
    connect_with(url, None, None).await
}

/// Statements this instance sent to the database, counted as they run: for the
/// `db_statements_total` metric, and for tests that prove a page costs what it should.
#[derive(Debug, Default)]
pub struct StatementCounts {
    reads: AtomicU64,
    writes: AtomicU64,
}

impl StatementCounts {
    /// (reads, writes) so far.
    pub fn get(&self) -> (u64, u64) {
        (
            self.reads.load(Ordering::Relaxed),
            self.writes.load(Ordering::Relaxed),
        )
    }

    fn count(&self, sql: &str) {
        let verb = sql
            .trim_start()
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or_default();
        let write = [
            "INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER",
        ]
        .iter()
        .any(|w| verb.eq_ignore_ascii_case(w));
        let (counter, kind) = if write {
            (&self.writes, "write")
        } else {
            (&self.reads, "read")
        };
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("db_statements_total", "kind" => kind).increment(1);
    }
}

/// Opens a pool as `connect` does; on PostgreSQL every statement then stops after
/// `statement_timeout` (a lock waited on included), with an error that is a 503; with
/// `counts`, every statement it runs is counted there.
pub async fn connect_with(
    url: &str,
    statement_timeout: Option<Duration>,
    counts: Option<Arc<StatementCounts>>,
) -> anyhow::Result<DatabaseConnection> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        ensure_sqlite_folder(url)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if is_sqlite { 8 } else { 20 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .idle_timeout(Duration::from_secs(300))
        .test_before_acquire_if_idle_for(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(move |opts| match statement_timeout {
            Some(limit) => opts.options([("statement_timeout", format!("{}", limit.as_millis()))]),
            None => opts,
        })
        .map_sqlx_sqlite_opts(|opts| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    let mut db = Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))?;
    if let Some(counts) = counts {
        db.set_metric_callback(move |info| counts.count(&info.statement.sql));
    }
    Ok(db)
}

/// The file of a `sqlite:` URL; `None` for an in-memory database.
pub fn sqlite_path(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(std::path::PathBuf::from(path))
}

fn ensure_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let Some(path) = sqlite_path(url) else {
        return Ok(());
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    }
    Ok(())
}

/// A database URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

pub fn is_sqlite(db: &DatabaseConnection) -> bool {
    db.get_database_backend() == DbBackend::Sqlite
}

pub async fn migrate_up(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None)
        .await
        .context("migrating the database")
}

pub async fn migrate_down(db: &DatabaseConnection, steps: u32) -> anyhow::Result<()> {
    Migrator::down(db, Some(steps))
        .await
        .context("rolling back the database")
}

/// Names of migrations not yet applied.
pub async fn pending_migrations(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let pending = Migrator::get_pending_migrations(db).await?;
    Ok(pending.iter().map(|m| m.name().to_owned()).collect())
}

/// Names of migrations applied so far.
pub async fn applied_migrations(db: &DatabaseConnection) -> anyhow::Result<Vec<String>> {
    let applied = Migrator::get_applied_migrations(db).await?;
    Ok(applied.iter().map(|m| m.name().to_owned()).collect())
}

/// A cheap round trip, for readiness checks.
pub async fn ping(db: &DatabaseConnection) -> bool {
    tokio::time::timeout(Duration::from_secs(2), db.execute_unprepared("SELECT 1"))
        .await
        .is_ok_and(|r| r.is_ok())
}

/// What a readiness check found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Health {
    /// A pooled connection answered.
    Up,
    /// No pooled connection came free in time, but the server answers a connection of its
    /// own: the instance is saturated, not cut off from its database.
    Busy,
    /// The database does not answer (or the pool is closed).
    Down,
}

/// A cheap round trip, for readiness checks. A pool whose connections are all in use is busy,
/// not down: then a connection outside the pool tells whether the server answers.
pub async fn health(db: &DatabaseConnection) -> Health {
    match tokio::time::timeout(Duration::from_secs(2), db.execute_unprepared("SELECT 1")).await {
        Ok(Ok(_)) => Health::Up,
        Ok(Err(sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)))
        | Err(_) => {
            if ping_outside_pool(db).await {
                Health::Busy
            } else {
                Health::Down
            }
        }
        Ok(Err(_)) => Health::Down,
    }
}

/// Opens one connection outside the pool, pings and closes it, within 2 s.
async fn ping_outside_pool(db: &DatabaseConnection) -> bool {
    use sea_orm::sqlx::{ConnectOptions as _, Connection as _};
    let probe = async {
        match db.get_database_backend() {
            DbBackend::Postgres => {
                let options = db.get_postgres_connection_pool().connect_options();
                let mut connection = options.connect().await?;
                connection.ping().await?;
                connection.close().await?;
            }
            _ => {
                let options = db.get_sqlite_connection_pool().connect_options();
                let mut connection = options.connect().await?;
                connection.ping().await?;
                connection.close().await?;
            }
        }
        Ok::<(), sea_orm::sqlx::Error>(())
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), probe).await,
        Ok(Ok(()))
    )
}

/// Pool size and idle connections, for metrics.
pub fn pool_stats(db: &DatabaseConnection) -> (u32, usize) {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact("postgres://app:secret@db:5432/homeward"),
            "postgres://app:***@db:5432/homeward"
        );
        assert_eq!(
            super::redact("sqlite://./data/x.db?mode=rwc"),
            "sqlite://./data/x.db?mode=rwc"
        );
    }
}
