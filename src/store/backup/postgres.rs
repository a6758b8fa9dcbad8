//! PostgreSQL: `pg_dump` and `pg_restore` driven with the configured URL (the password handed
//! over in the environment, never on a command line), a snapshot shared by the dump and the
//! checksums, and scratch databases for verifying.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, IsolationLevel,
    Statement, TransactionTrait,
};

use super::{
    MIGRATIONS_TABLE, Replaced, TableSummary, ident, list_tables, not_empty, tables_with_rows,
};
use crate::store::redact;

/// Query parameters libpq understands; others (sqlx's own) are left out of the tools' URL.
const LIBPQ_PARAMETERS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "connect_timeout",
    "options",
    "application_name",
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "sslpassword",
    "target_session_attrs",
];

/// Finds one of PostgreSQL's client programs on PATH, or says how to get it.
fn tool(name: &str) -> anyhow::Result<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    });
    found.with_context(|| {
        format!(
            "{name} was not found on PATH: backups of PostgreSQL use its own {name}. Install \
             PostgreSQL's client programs, of the server's major version or newer (Debian and \
             Ubuntu: `apt-get install postgresql-client`; for a newer server, \
             postgresql-client-NN from apt.postgresql.org), or put their folder on PATH"
        )
    })
}

/// The URL for libpq without its password, and the password (percent-decoded) on its own.
fn libpq_target(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url)
        .with_context(|| format!("DATABASE_URL {} is not a valid URL", redact(url)))?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    parsed
        .set_password(None)
        .map_err(|()| anyhow::anyhow!("DATABASE_URL {} has no host", redact(url)))?;
    let kept: Vec<(String, String)> = parsed
        .query_pairs()
        .filter(|(key, _)| LIBPQ_PARAMETERS.contains(&key.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        parsed.set_query(None);
    } else {
        parsed.query_pairs_mut().clear().extend_pairs(kept);
    }
    Ok((parsed.to_string(), password))
}

/// Runs a PostgreSQL tool against `url`; its error output becomes the error.
async fn run(program: &Path, url: &str, args: &[&str]) -> anyhow::Result<String> {
    let (uri, password) = libpq_target(url)?;
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .arg(format!("--dbname={uri}"))
        .arg("--no-password")
        .env("PGCONNECT_TIMEOUT", "10")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(password) = password {
        command.env("PGPASSWORD", password);
    }
    let output = command
        .output()
        .await
        .with_context(|| format!("cannot run {}", program.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("server version mismatch") {
            "; install the client programs of the server's version or newer"
        } else {
            ""
        };
        bail!(
            "{} failed ({}): {}{hint}",
            program.file_name().unwrap_or_default().to_string_lossy(),
            output.status,
            stderr.trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn version(program: &Path) -> anyhow::Result<String> {
    let output = tokio::process::Command::new(program)
        .arg("--version")
        .output()
        .await
        .with_context(|| format!("cannot run {}", program.display()))?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// One connection, for work that must not share a pool (exported snapshots, DROP DATABASE).
async fn connect_one(url: &str) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(1)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    Database::connect(options)
        .await
        .with_context(|| format!("cannot connect to the database at {}", redact(url)))
}

/// `pg_dump --format=custom` into `dest` and the tables' checksums, both in one exported
/// snapshot: the dump holds exactly what was counted, and everything committed before it began.
pub async fn dump(
    url: &str,
    dest: &Path,
) -> anyhow::Result<(String, Vec<String>, Vec<TableSummary>)> {
    let pg_dump = tool("pg_dump")?;
    let tool_version = version(&pg_dump).await?;
    let db = connect_one(url).await?;
    let txn = db
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    let snapshot = txn
        .query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            "SELECT pg_export_snapshot() AS id",
        ))
        .await?
        .context("no snapshot")?
        .try_get::<String>("", "id")?;
    let dest_arg = format!("--file={}", dest.display());
    let snapshot_arg = format!("--snapshot={snapshot}");
    let args = [
        "--format=custom",
        "--lock-wait-timeout=60000",
        &snapshot_arg,
        &dest_arg,
    ];
    let dumping = run(&pg_dump, url, &args);
    // The first failure stops both: a refused pg_dump does not wait for the checksums.
    let done = tokio::try_join!(dumping, summarize(&txn));
    txn.rollback().await.ok();
    db.close().await.ok();
    let (_, (migrations, tables)) = done?;
    Ok((tool_version, migrations, tables))
}

/// Per table, the number of rows and a checksum: the sum (as a decimal) of the first 64 bits of
/// the MD5 of each row's text, with the text settings pinned so that the same rows always give
/// the same figure. Runs inside `txn`, which must be a transaction.
async fn summarize(txn: &impl ConnectionTrait) -> anyhow::Result<(Vec<String>, Vec<TableSummary>)> {
    txn.execute_unprepared(
        "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; \
         SET LOCAL IntervalStyle = 'postgres'; SET LOCAL extra_float_digits = 3; \
         SET LOCAL bytea_output = 'hex'",
    )
    .await?;
    let backend = txn.get_database_backend();
    let names = list_tables(txn).await?;
    let mut tables = Vec::with_capacity(names.len());
    for name in &names {
        let sql = format!(
            "SELECT count(*)::bigint AS n_rows, \
             coalesce(sum(('x' || substr(md5(hw_row::text), 1, 16))::bit(64)::bigint::numeric), 0)::text AS checksum \
             FROM {} AS hw_row",
            ident(name)
        );
        let row = txn
            .query_one_raw(Statement::from_string(backend, sql))
            .await
            .with_context(|| format!("reading table {name}"))?
            .context("no row")?;
        tables.push(TableSummary {
            name: name.clone(),
            rows: u64::try_from(row.try_get::<i64>("", "n_rows")?).unwrap_or_default(),
            checksum: row.try_get::<String>("", "checksum")?,
        });
    }
    let mut migrations = Vec::new();
    if names.iter().any(|n| n == MIGRATIONS_TABLE) {
        let sql = format!("SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version");
        for row in txn
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
        {
            migrations.push(row.try_get::<String>("", "version")?);
        }
    }
    Ok((migrations, tables))
}

/// The tables of the database at `url`, summarized in one snapshot.
pub async fn summarize_url(url: &str) -> anyhow::Result<(Vec<String>, Vec<TableSummary>)> {
    let db = connect_one(url).await?;
    let txn = db
        .begin_with_config(
            Some(IsolationLevel::RepeatableRead),
            Some(AccessMode::ReadOnly),
        )
        .await?;
    let summary = summarize(&txn).await;
    txn.rollback().await.ok();
    db.close().await.ok();
    summary
}

/// Restores a checked payload into the database at `url` in one transaction. A database
/// holding data is replaced only with `force` (its tables dropped first, and only when nobody
/// else is connected); tables without data (a migrated, empty database) are dropped first.
pub async fn restore(url: &str, payload: &Path, force: bool) -> anyhow::Result<Replaced> {
    let pg_restore = tool("pg_restore")?;
    // Reading the archive's table of contents proves pg_restore can read it, before anything
    // is dropped.
    let list = tokio::process::Command::new(&pg_restore)
        .arg("--list")
        .arg(payload)
        .output()
        .await
        .with_context(|| format!("cannot run {}", pg_restore.display()))?;
    if !list.status.success() {
        bail!(
            "pg_restore cannot read the backup: {}",
            String::from_utf8_lossy(&list.stderr).trim()
        );
    }
    let db = connect_one(url).await?;
    let prepared = prepare_target(&db, url, force).await;
    db.close().await.ok();
    let replaced = prepared?;
    let payload_arg = payload.display().to_string();
    run(
        &pg_restore,
        url,
        &[
            "--single-transaction",
            "--exit-on-error",
            "--no-owner",
            "--no-acl",
            &payload_arg,
        ],
    )
    .await?;
    Ok(replaced)
}

async fn prepare_target(
    db: &DatabaseConnection,
    url: &str,
    force: bool,
) -> anyhow::Result<Replaced> {
    let filled = tables_with_rows(db).await?;
    if !filled.is_empty() && !force {
        return Err(not_empty(
            url,
            &filled,
            "every table in it is dropped first",
        ));
    }
    let backend = db.get_database_backend();
    if !filled.is_empty() {
        let others = db
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT count(*)::bigint AS n FROM pg_stat_activity \
                 WHERE datname = current_database() AND pid <> pg_backend_pid() \
                 AND backend_type = 'client backend'",
            ))
            .await?
            .context("no row")?
            .try_get::<i64>("", "n")?;
        if others > 0 {
            bail!(
                "{others} other connection(s) to the database at {} are open: stop every \
                 `homeward serve` using it before restoring over its data",
                redact(url)
            );
        }
    }
    let tables = list_tables(db).await?;
    if !tables.is_empty() {
        let list = tables
            .iter()
            .map(|t| ident(t))
            .collect::<Vec<_>>()
            .join(", ");
        db.execute_unprepared(&format!("DROP TABLE {list} CASCADE"))
            .await
            .context("dropping the tables of the database restored into")?;
    }
    Ok(if filled.is_empty() {
        Replaced::Nothing
    } else {
        Replaced::PostgresTablesDropped(filled)
    })
}

/// A database created for one verification, dropped afterwards.
pub struct Scratch {
    pub url: String,
    server: String,
    name: String,
}

impl Scratch {
    /// Creates an empty database on the server of `server_url`.
    pub async fn create(server_url: &str) -> anyhow::Result<Scratch> {
        let name = format!("homeward_verify_{}", uuid::Uuid::new_v4().simple());
        let db = connect_one(server_url).await?;
        let created = db
            .execute_unprepared(&format!("CREATE DATABASE {}", ident(&name)))
            .await;
        db.close().await.ok();
        created.with_context(|| {
            format!(
                "cannot create a scratch database to restore into on {} (the role needs the \
                 CREATEDB privilege; or pass --scratch-server with a server where it has it)",
                redact(server_url)
            )
        })?;
        let mut url = url::Url::parse(server_url).context("the server URL")?;
        url.set_path(&format!("/{name}"));
        Ok(Scratch {
            url: url.to_string(),
            server: server_url.to_owned(),
            name,
        })
    }

    /// Drops the scratch database; a failure is reported, not fatal.
    pub async fn remove(self) {
        let dropped = async {
            let db = connect_one(&self.server).await?;
            let result = db
                .execute_unprepared(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    ident(&self.name)
                ))
                .await;
            db.close().await.ok();
            anyhow::Ok(result?)
        };
        if let Err(error) = dropped.await {
            tracing::warn!(database = %self.name, error = %format!("{error:#}"), "could not drop the scratch database");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::libpq_target;

    #[test]
    fn the_password_leaves_the_url_for_the_environment() {
        let (uri, password) =
            libpq_target("postgres://app:s%40cret@db.internal:5433/homeward?sslmode=require&statement-cache-capacity=10").unwrap();
        assert_eq!(
            uri,
            "postgres://app@db.internal:5433/homeward?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("s@cret"));
        let (uri, password) = libpq_target("postgres://postgres@127.0.0.1:5432/x").unwrap();
        assert_eq!(uri, "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(password, None);
    }
}
