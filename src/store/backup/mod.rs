//! Backups of the whole database (content and media, learners, progress, consent ledger, staff,
//! audit log) as one file; restoring such a file into an empty database; and proving that a
//! file restores to exactly what was backed up.
//!
//! A backup is a tar archive of two entries: `manifest.json` (when, from which backend, the
//! migrations applied, and per table its row count and a checksum, read in the same snapshot as
//! the data) and the database itself, either `homeward.sqlite` (SQLite's `VACUUM INTO`: an online,
//! consistent copy) or `homeward.pgdump` (`pg_dump --format=custom` inside the snapshot). After
//! `tar xf` either opens with the standard tools.

pub mod archive;
mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};

/// What `manifest.json` says a file is.
pub const FORMAT: &str = "homeward-backup";
/// The newest manifest layout this build reads and the one it writes.
pub const FORMAT_VERSION: u32 = 1;
/// Migrations' own bookkeeping: present in every migrated database, and not "data".
const MIGRATIONS_TABLE: &str = "seaql_migrations";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> anyhow::Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            bail!("the database URL must start with sqlite: or postgres://")
        }
    }

    /// The archive entry holding the database.
    pub fn payload_name(self) -> &'static str {
        match self {
            Backend::Sqlite => "homeward.sqlite",
            Backend::Postgres => "homeward.pgdump",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// One table as read in the backup's snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    pub name: String,
    pub rows: u64,
    /// Order-independent: the sum of a hash of every row (see `sqlite.rs` and `postgres.rs`).
    pub checksum: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub format_version: u32,
    pub created_at: DateTime<Utc>,
    pub homeward_version: String,
    pub backend: Backend,
    /// The database it was taken from, password removed.
    pub source: String,
    /// The program that made the payload (`pg_dump (PostgreSQL) 15.4`, `SQLite 3.46.0`).
    pub tool: String,
    pub migrations: Vec<String>,
    pub tables: Vec<TableSummary>,
    pub payload: Payload,
}

impl Manifest {
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|t| t.rows).sum()
    }
}

/// What a restore did to what was there before.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replaced {
    /// The target was new, or held no data (an empty schema is dropped first).
    Nothing,
    /// `--force` on SQLite: the old file (and its WAL) kept under this name.
    SqliteFileKeptAt(PathBuf),
    /// `--force` on PostgreSQL: these tables, holding data, were dropped.
    PostgresTablesDropped(Vec<String>),
}

#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    pub replaced: Replaced,
    /// Migrations newer than the backup, applied after restoring it.
    pub migrations_applied: Vec<String>,
}

/// One table of the manifest next to the same table in the scratch restore.
#[derive(Debug)]
pub struct TableCheck {
    pub name: String,
    pub expected: Option<TableSummary>,
    pub found: Option<TableSummary>,
}

impl TableCheck {
    pub fn matches(&self) -> bool {
        self.expected.is_some() && self.expected == self.found
    }
}

#[derive(Debug)]
pub struct VerifyReport {
    pub manifest: Manifest,
    pub tables: Vec<TableCheck>,
    /// Migrations applied to the scratch copy after the comparison; `Err` says why that failed.
    pub migrations: Result<Vec<String>, String>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.tables.iter().all(TableCheck::matches) && self.migrations.is_ok()
    }
}

/// Takes a consistent backup of the database at `database_url` into `file`, which must not
/// exist yet; the server may keep serving and writing meanwhile. `file` appears only when the
/// backup is complete.
pub async fn backup(
    database_url: &str,
    file: &Path,
    now: DateTime<Utc>,
) -> anyhow::Result<Manifest> {
    let backend = Backend::of_url(database_url)?;
    if file.exists() {
        bail!(
            "{} already exists: backups are never overwritten; choose a new file name",
            file.display()
        );
    }
    let folder = parent_folder(file);
    if !folder.is_dir() {
        bail!("the folder {} does not exist", folder.display());
    }
    // Work beside the file, so that the finished archive is renamed into place.
    let work = tempfile::Builder::new()
        .prefix(".homeward-backup-")
        .tempdir_in(&folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let payload = work.path().join(backend.payload_name());
    let (tool, migrations, tables) = match backend {
        Backend::Sqlite => sqlite::snapshot(database_url, &payload).await?,
        Backend::Postgres => postgres::dump(database_url, &payload).await?,
    };
    let hashed = payload.clone();
    let (bytes, sha256) = tokio::task::spawn_blocking(move || archive::hash_file(&hashed))
        .await
        .context("hashing the backup")??;
    let manifest = Manifest {
        format: FORMAT.into(),
        format_version: FORMAT_VERSION,
        created_at: now,
        homeward_version: env!("CARGO_PKG_VERSION").into(),
        backend,
        source: super::redact(database_url),
        tool,
        migrations,
        tables,
        payload: Payload {
            name: backend.payload_name().into(),
            bytes,
            sha256,
        },
    };
    let (written, file, work_dir) = (manifest.clone(), file.to_path_buf(), work.path().to_owned());
    tokio::task::spawn_blocking(move || archive::write(&file, &work_dir, &written, &payload))
        .await
        .context("writing the backup")??;
    Ok(manifest)
}

/// Restores `file` into the database at `database_url`, which must hold no data unless `force`,
/// then applies the migrations newer than the backup. Stop every server using that database
/// first.
pub async fn restore(
    database_url: &str,
    file: &Path,
    force: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<RestoreReport> {
    let manifest = archive::read_manifest_blocking(file).await?;
    if let Some(unknown) = unknown_migrations(&manifest).first() {
        bail!(
            "{} was made by a newer Homeward (its database has migration {unknown}, which this \
             program does not know): restore it with Homeward {} or newer",
            file.display(),
            manifest.homeward_version
        );
    }
    let replaced = restore_data(database_url, file, &manifest, force, now).await?;
    let db = super::connect(database_url).await?;
    let migrations_applied = super::pending_migrations(&db).await?;
    super::migrate_up(&db).await?;
    db.close().await.ok();
    Ok(RestoreReport {
        manifest,
        replaced,
        migrations_applied,
    })
}

/// Restores `file` into a scratch database (a temporary SQLite file, or a new database on the
/// PostgreSQL server of `scratch_server`), compares every table's row count and checksum with
/// the manifest, migrates the copy, and removes it.
pub async fn verify(file: &Path, scratch_server: Option<&str>) -> anyhow::Result<VerifyReport> {
    let manifest = archive::read_manifest_blocking(file).await?;
    let work = tempfile::Builder::new()
        .prefix("homeward-verify-")
        .tempdir()
        .context("cannot make a temporary folder")?;
    match manifest.backend {
        Backend::Sqlite => {
            let url = format!(
                "sqlite://{}?mode=rwc",
                work.path().join("scratch.db").display()
            );
            restore_data(&url, file, &manifest, false, manifest.created_at).await?;
            let (_, found) = sqlite::summarize(&work.path().join("scratch.db")).await?;
            let migrations = migrate_scratch(&manifest, &url).await;
            Ok(compare(manifest, found, migrations))
        }
        Backend::Postgres => {
            let server = scratch_server.context(
                "this is a PostgreSQL backup: verifying it needs a PostgreSQL server to restore \
                 into (DATABASE_URL, or --scratch-server postgres://…)",
            )?;
            if Backend::of_url(server)? != Backend::Postgres {
                bail!(
                    "this is a PostgreSQL backup: verifying it needs a PostgreSQL server, but \
                     DATABASE_URL is SQLite; pass --scratch-server postgres://…"
                );
            }
            let scratch = postgres::Scratch::create(server).await?;
            let outcome = async {
                restore_data(&scratch.url, file, &manifest, false, manifest.created_at).await?;
                let (_, found) = postgres::summarize_url(&scratch.url).await?;
                let migrations = migrate_scratch(&manifest, &scratch.url).await;
                anyhow::Ok((found, migrations))
            }
            .await;
            scratch.remove().await;
            let (found, migrations) = outcome?;
            Ok(compare(manifest, found, migrations))
        }
    }
}

/// Puts the payload of `file` into the database at `database_url`, migrating nothing.
async fn restore_data(
    database_url: &str,
    file: &Path,
    manifest: &Manifest,
    force: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<Replaced> {
    let target = Backend::of_url(database_url)?;
    if manifest.backend != target {
        bail!(
            "{} is a {} backup, but the database to restore into is {}: restore it into a {} \
             database",
            file.display(),
            manifest.backend.label(),
            target.label(),
            manifest.backend.label()
        );
    }
    match target {
        Backend::Sqlite => {
            let path = sqlite::database_path(database_url)?;
            let folder = parent_folder(&path);
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("cannot create the folder {}", folder.display()))?;
            // Beside the database, so that the restored file is renamed into place.
            let work = tempfile::Builder::new()
                .prefix(".homeward-restore-")
                .tempdir_in(&folder)
                .with_context(|| format!("cannot write in {}", folder.display()))?;
            let payload = archive::extract_payload_blocking(file, manifest, work.path()).await?;
            sqlite::restore(database_url, &payload, force, now).await
        }
        Backend::Postgres => {
            let work = tempfile::Builder::new()
                .prefix("homeward-restore-")
                .tempdir()
                .context("cannot make a temporary folder")?;
            let payload = archive::extract_payload_blocking(file, manifest, work.path()).await?;
            postgres::restore(database_url, &payload, force).await
        }
    }
}

async fn migrate_scratch(manifest: &Manifest, url: &str) -> Result<Vec<String>, String> {
    if let Some(unknown) = unknown_migrations(manifest).first() {
        return Err(format!(
            "not migrated: the backup has migration {unknown}, unknown to this Homeward"
        ));
    }
    let migrate = async {
        let db = super::connect(url).await?;
        let pending = super::pending_migrations(&db).await?;
        super::migrate_up(&db).await?;
        db.close().await.ok();
        anyhow::Ok(pending)
    };
    migrate.await.map_err(|e| format!("{e:#}"))
}

fn compare(
    manifest: Manifest,
    found: Vec<TableSummary>,
    migrations: Result<Vec<String>, String>,
) -> VerifyReport {
    let mut names: Vec<String> = manifest
        .tables
        .iter()
        .chain(found.iter())
        .map(|t| t.name.clone())
        .collect();
    names.sort();
    names.dedup();
    let pick = |list: &[TableSummary], name: &str| list.iter().find(|t| t.name == name).cloned();
    let tables = names
        .into_iter()
        .map(|name| TableCheck {
            expected: pick(&manifest.tables, &name),
            found: pick(&found, &name),
            name,
        })
        .collect();
    VerifyReport {
        manifest,
        tables,
        migrations,
    }
}

/// Migrations recorded in the backup that this build does not have.
fn unknown_migrations(manifest: &Manifest) -> Vec<String> {
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    manifest
        .migrations
        .iter()
        .filter(|name| !known.contains(name))
        .cloned()
        .collect()
}

fn parent_folder(file: &Path) -> PathBuf {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `name` as an SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Every table of the database (the current schema on PostgreSQL), sorted by name.
async fn list_tables(db: &impl ConnectionTrait) -> anyhow::Result<Vec<String>> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = current_schema()"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'",
    };
    let rows = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .context("listing the tables")?;
    let mut names = rows
        .iter()
        .map(|row| row.try_get::<String>("", "name"))
        .collect::<Result<Vec<_>, _>>()?;
    names.sort();
    Ok(names)
}

/// Tables holding at least one row, migrations' bookkeeping aside: a database where this is
/// empty holds no data, even if it was migrated.
async fn tables_with_rows(db: &impl ConnectionTrait) -> anyhow::Result<Vec<String>> {
    let backend = db.get_database_backend();
    let mut filled = Vec::new();
    for table in list_tables(db).await? {
        if table == MIGRATIONS_TABLE {
            continue;
        }
        let sql = format!("SELECT 1 AS one FROM {} LIMIT 1", ident(&table));
        if db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?
            .is_some()
        {
            filled.push(table);
        }
    }
    Ok(filled)
}

/// The message refusing to restore over data.
fn not_empty(url: &str, filled: &[String], what_force_does: &str) -> anyhow::Error {
    let shown = filled
        .iter()
        .take(4)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    let more = match filled.len() {
        n if n > 4 => format!(" and {} more", n - 4),
        _ => String::new(),
    };
    anyhow::anyhow!(
        "the database at {} already holds data (in {shown}{more}): restore refuses to replace \
         it; pass --force to replace it ({what_force_does})",
        super::redact(url)
    )
}
