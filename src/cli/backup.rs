//! `homeward backup FILE`, `homeward backup --verify FILE` and `homeward restore FILE [--force]`:
//! the operator's side of `store::backup` (arguments, what is printed, exit codes).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crate::clock::{Clock, SystemClock};
use crate::services;
use crate::settings::Settings;
use crate::store::backup::{self, Manifest, Replaced, VerifyReport};
use crate::store::redact;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The backup file to write (it must not exist yet); with --verify, the backup to check.
    pub file: PathBuf,
    /// Do not back up: restore FILE into a scratch database, compare every table's row count
    /// and checksum with the backup's manifest, then remove the scratch database. Exit 1 when
    /// anything differs.
    #[arg(long)]
    pub verify: bool,
    /// With --verify of a PostgreSQL backup: a database URL on the server where the scratch
    /// database is created (default: DATABASE_URL). The role needs CREATEDB.
    #[arg(long, requires = "verify")]
    pub scratch_server: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A file made by `homeward backup`.
    pub file: PathBuf,
    /// Replace a database that already holds data (on SQLite the old file is kept beside it;
    /// on PostgreSQL its tables are dropped).
    #[arg(long)]
    pub force: bool,
}

pub async fn backup(settings: Settings, args: BackupArgs) -> anyhow::Result<i32> {
    settings.validate()?;
    if args.verify {
        let server = args
            .scratch_server
            .clone()
            .or_else(|| (!settings.is_embedded()).then(|| settings.database_url().to_owned()));
        return verify(args, server.as_deref()).await;
    }
    let started = Instant::now();
    let manifest = backup::backup(settings.database_url(), &args.file, SystemClock.now()).await?;
    describe(&manifest);
    println!(
        "backed up {} in {:.1} s to {}",
        human_bytes(manifest.payload.bytes),
        started.elapsed().as_secs_f64(),
        args.file.display()
    );
    Ok(0)
}

async fn verify(args: BackupArgs, scratch_server: Option<&str>) -> anyhow::Result<i32> {
    let started = Instant::now();
    let report = backup::verify(&args.file, scratch_server).await?;
    describe(&report.manifest);
    print_tables(&report);
    let elapsed = started.elapsed().as_secs_f64();
    let differing = report.tables.iter().filter(|t| !t.matches()).count();
    match (&report.migrations, report.is_ok()) {
        (Ok(applied), true) => {
            println!(
                "ok: {} restores; all {} tables ({} rows) match the backup; {} migration(s) \
                 applied after it ({elapsed:.1} s)",
                args.file.display(),
                report.tables.len(),
                report.manifest.total_rows(),
                applied.len()
            );
            Ok(0)
        }
        (migrated, _) => {
            if differing > 0 {
                println!(
                    "FAILED: {differing} table(s) of {} differ from the backup",
                    args.file.display()
                );
            }
            if let Err(problem) = migrated {
                println!("FAILED: migrating the restored copy: {problem}");
            }
            Ok(1)
        }
    }
}

pub async fn restore(settings: Settings, args: RestoreArgs) -> anyhow::Result<i32> {
    settings.validate()?;
    let started = Instant::now();
    let url = settings.database_url().to_owned();
    let report = backup::restore(&url, &args.file, args.force, SystemClock.now()).await?;
    describe(&report.manifest);
    match &report.replaced {
        Replaced::Nothing => {}
        Replaced::SqliteFileKeptAt(kept) => {
            println!("the database it replaced is kept as {}", kept.display())
        }
        Replaced::PostgresTablesDropped(tables) => println!(
            "replaced the data that was there (in {})",
            tables.join(", ")
        ),
    }
    // Every instance sharing Redis must forget what it cached of the old content.
    let context = services::Context::connect(settings, Arc::new(SystemClock), "hw:").await?;
    services::lessons::content_changed(&context).await;
    println!(
        "restored {} rows into {} in {:.1} s; applied {} migration(s) newer than the backup",
        report.manifest.total_rows(),
        redact(&url),
        started.elapsed().as_secs_f64(),
        report.migrations_applied.len()
    );
    println!(
        "this is the database as it was at {}: learners who joined since are not in it, and \
         anyone who deleted their data since is back in it: delete them again (README, Backups)",
        report.manifest.created_at.format("%Y-%m-%d %H:%M UTC")
    );
    Ok(0)
}

fn describe(manifest: &Manifest) {
    println!(
        "backup of {} taken {} by Homeward {} with {}: {} tables, {} rows, {} migration(s)",
        manifest.source,
        manifest.created_at.format("%Y-%m-%d %H:%M:%S UTC"),
        manifest.homeward_version,
        manifest.tool,
        manifest.tables.len(),
        manifest.total_rows(),
        manifest.migrations.len()
    );
}

fn print_tables(report: &VerifyReport) {
    println!("{:<24} {:>12}  scratch restore", "table", "rows");
    for table in &report.tables {
        let rows = table
            .expected
            .as_ref()
            .map(|t| t.rows.to_string())
            .unwrap_or_else(|| "-".into());
        let outcome = match (&table.expected, &table.found) {
            (Some(_), Some(_)) if table.matches() => "same rows, same checksum".to_owned(),
            (Some(e), Some(f)) if e.rows != f.rows => format!("DIFFERS: {} rows", f.rows),
            (Some(_), Some(_)) => "DIFFERS: same number of rows, other contents".to_owned(),
            (Some(_), None) => "MISSING".to_owned(),
            (None, _) => "EXTRA: not in the backup".to_owned(),
        };
        println!("{:<24} {rows:>12}  {outcome}", table.name);
    }
}

fn human_bytes(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}
