//! SQLite: an online snapshot with `VACUUM INTO`, integrity, row counts and checksums read from
//! a database file, and a restored file put in place of the database's.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use sea_orm::ConnectionTrait;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode};
use sea_orm::sqlx::{self, AssertSqlSafe, Connection};
use sha2::{Digest, Sha256};

use super::{MIGRATIONS_TABLE, Replaced, TableSummary, ident, not_empty, tables_with_rows};

pub fn database_path(url: &str) -> anyhow::Result<PathBuf> {
    crate::store::sqlite_path(url)
        .context("an in-memory SQLite database cannot be backed up or restored")
}

/// Copies the live database to `dest` with `VACUUM INTO` (one read transaction: consistent while
/// the server keeps writing), then reads the copy's tables. Returns the tool, the migrations and
/// the tables.
pub async fn snapshot(
    url: &str,
    dest: &Path,
) -> anyhow::Result<(String, Vec<String>, Vec<super::TableSummary>)> {
    let path = database_path(url)?;
    if !path.is_file() {
        bail!("there is no SQLite database at {}", path.display());
    }
    let dest_text = dest
        .to_str()
        .context("the backup folder's path is not valid UTF-8")?;
    let db = crate::store::connect(url).await?;
    let version = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT sqlite_version() AS version",
        ))
        .await?
        .context("no SQLite version")?
        .try_get::<String>("", "version")?;
    db.execute_unprepared(&format!("VACUUM INTO '{}'", dest_text.replace('\'', "''")))
        .await
        .with_context(|| format!("copying {} (VACUUM INTO)", path.display()))?;
    db.close().await.ok();
    let (migrations, tables) = summarize(dest).await?;
    Ok((
        format!("SQLite {version} (VACUUM INTO)"),
        migrations,
        tables,
    ))
}

/// Opens a database file that nobody else uses (a copy), as a single file without a WAL.
async fn open(path: &Path) -> anyhow::Result<SqliteConnection> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(false)
        .journal_mode(SqliteJournalMode::Delete);
    SqliteConnection::connect_with(&options)
        .await
        .with_context(|| format!("{} is not a readable SQLite database", path.display()))
}

async fn check_integrity(conn: &mut SqliteConnection, path: &Path) -> anyhow::Result<()> {
    let problems: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("checking {}", path.display()))?;
    if problems != ["ok"] {
        bail!(
            "{} is damaged (SQLite integrity check: {})",
            path.display(),
            problems.join("; ")
        );
    }
    Ok(())
}

/// Checks a copy's integrity, then reads its applied migrations and, per table, the number of
/// rows and a checksum: the wrapping sum of the first 8 bytes of the SHA-256 of each row, the row
/// written as SQLite's `quote()` of every column joined by commas (so the order of rows does not
/// matter, and any changed value, missing or extra row changes it).
pub async fn summarize(path: &Path) -> anyhow::Result<(Vec<String>, Vec<TableSummary>)> {
    let mut conn = open(path).await?;
    check_integrity(&mut conn, path).await?;
    let mut names: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
    )
    .fetch_all(&mut conn)
    .await?;
    names.sort();
    let mut tables = Vec::with_capacity(names.len());
    for name in &names {
        let columns: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{}') ORDER BY cid",
            name.replace('\'', "''")
        )))
        .fetch_all(&mut conn)
        .await?;
        let row_text = columns
            .iter()
            .map(|c| format!("quote({})", ident(c)))
            .collect::<Vec<_>>()
            .join(" || ',' || ");
        let sql = format!("SELECT {row_text} FROM {}", ident(name));
        let mut rows = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql)).fetch(&mut conn);
        let (mut count, mut sum) = (0u64, 0u64);
        while let Some(row) = rows.try_next().await? {
            let digest = Sha256::digest(row.as_bytes());
            let mut first = [0u8; 8];
            first.copy_from_slice(&digest[..8]);
            sum = sum.wrapping_add(u64::from_be_bytes(first));
            count += 1;
        }
        drop(rows);
        tables.push(TableSummary {
            name: name.clone(),
            rows: count,
            checksum: format!("{sum:016x}"),
        });
    }
    let migrations = if names.iter().any(|n| n == MIGRATIONS_TABLE) {
        sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version"
        )))
        .fetch_all(&mut conn)
        .await?
    } else {
        Vec::new()
    };
    conn.close().await.ok();
    Ok((migrations, tables))
}

/// Puts the checked payload file in place of the database file. A database holding data is
/// replaced only with `force`, and then kept beside it as `NAME.replaced-YYYYMMDDTHHMMSSZ`
/// (with its WAL); one without data is removed.
pub async fn restore(
    url: &str,
    payload: &Path,
    force: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Replaced> {
    let target = database_path(url)?;
    {
        let mut conn = open(payload).await?;
        check_integrity(&mut conn, payload).await?;
        conn.close().await.ok();
    }
    let mut replaced = Replaced::Nothing;
    if target.exists() {
        let db = crate::store::connect(url).await?;
        let filled = tables_with_rows(&db).await;
        db.close().await.ok();
        let filled = filled?;
        let companions = |base: &Path| {
            ["", "-wal", "-shm"].map(|suffix| {
                let mut name = base.as_os_str().to_owned();
                name.push(suffix);
                PathBuf::from(name)
            })
        };
        if filled.is_empty() {
            for file in companions(&target) {
                remove_if_present(&file)?;
            }
        } else if !force {
            return Err(not_empty(
                url,
                &filled,
                "the old file is kept beside it, renamed",
            ));
        } else {
            let mut kept = target.as_os_str().to_owned();
            kept.push(format!(".replaced-{}", now.format("%Y%m%dT%H%M%SZ")));
            let kept = PathBuf::from(kept);
            for (from, to) in companions(&target).into_iter().zip(companions(&kept)) {
                if from.exists() {
                    std::fs::rename(&from, &to).with_context(|| {
                        format!("cannot move {} to {}", from.display(), to.display())
                    })?;
                }
            }
            replaced = Replaced::SqliteFileKeptAt(kept);
        }
    }
    std::fs::rename(payload, &target)
        .or_else(|_| std::fs::copy(payload, &target).map(|_| ()))
        .with_context(|| format!("cannot write {}", target.display()))?;
    Ok(replaced)
}

fn remove_if_present(file: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", file.display()))
        }
        _ => Ok(()),
    }
}
