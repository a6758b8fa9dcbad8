//! The `homeward` command line: serve, migrate, content, operators' records, backups.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::http::AppState;
use crate::settings::Settings;
use crate::startup;
use crate::{content, jobs, services, store};

mod backup;
mod operators;
mod wechat;

#[derive(Debug, Parser)]
#[command(
    name = "homeward",
    version,
    about = "Weekly parenting lessons for migrant workers"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default). On embedded SQLite it also migrates and imports content.
    Serve,
    /// Run only the background job worker (release pushes, reminders, retention) until
    /// Ctrl-C / SIGTERM; for operators who run it apart from `serve` (HOMEWARD_WORKER=false).
    Worker,
    /// Database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Lesson content files.
    Content {
        #[command(subcommand)]
        action: ContentAction,
    },
    /// Factories that enroll their workers.
    Factory {
        #[command(subcommand)]
        action: FactoryAction,
    },
    /// Production lines within a factory.
    Line {
        #[command(subcommand)]
        action: LineAction,
    },
    /// Staff accounts (admins, editors, factory managers).
    Staff {
        #[command(subcommand)]
        action: StaffAction,
    },
    /// Enrollment codes (the QR codes on posters).
    Code {
        #[command(subcommand)]
        action: CodeAction,
    },
    /// Learners' data requests.
    Learner {
        #[command(subcommand)]
        action: LearnerAction,
    },
    /// Back up the whole database to a file while the server runs, or (--verify) prove that a
    /// backup restores to what was backed up.
    Backup(backup::BackupArgs),
    /// Restore a backup into an empty database (--force: over data), then migrate it.
    Restore(backup::RestoreArgs),
    /// The WeChat Official Account (needs the HOMEWARD_WECHAT_* settings).
    Wechat {
        #[command(subcommand)]
        action: WechatAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum WechatAction {
    /// Create the WeChat QR code of every enrollment code that is not revoked and has none.
    Qr,
    /// Set the account's custom menu: 本周课程 · 我的进度 · 求助.
    Menu,
}

#[derive(Debug, Subcommand)]
pub enum FactoryAction {
    /// Add a factory; prints its id as the last line.
    Add {
        /// The factory's name in Chinese.
        name: String,
        /// The name in English (default: the Chinese name).
        #[arg(long)]
        name_en: Option<String>,
        #[arg(long)]
        city: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum LineAction {
    /// Add a line to a factory; prints its id as the last line.
    Add {
        #[arg(long)]
        factory: i64,
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum LearnerAction {
    /// Delete learners and everything held about them (audited), e.g. to apply again, after
    /// restoring a backup, the deletions logged since it was taken.
    Delete {
        /// Learner ids, as in the `learner deleted` log lines and the admin pages.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StaffAction {
    /// Add a staff account; prints a one-time link to set its password as the last line.
    Add {
        /// admin, editor or manager.
        #[arg(long)]
        role: String,
        #[arg(long)]
        email: String,
        /// The factory a manager manages.
        #[arg(long)]
        factory: Option<i64>,
        /// Limit a manager to these lines (comma-separated ids).
        #[arg(long, value_delimiter = ',')]
        lines: Option<Vec<i64>>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CodeAction {
    /// Create an enrollment code; prints its id, then the join URL as the last line.
    Create {
        #[arg(long)]
        factory: i64,
        #[arg(long)]
        line: Option<i64>,
        #[arg(long, default_value = "")]
        label: String,
        /// Last day the code works (YYYY-MM-DD, Asia/Shanghai); it stops at the end of that day.
        #[arg(long)]
        expires: Option<chrono::NaiveDate>,
        #[arg(long)]
        max_joins: Option<i32>,
    },
    /// List every code with its factory, line, joins and state.
    List,
    /// Revoke a code: its QR code and join page stop working.
    Revoke {
        /// Tokens may start with '-'.
        #[arg(allow_hyphen_values = true)]
        token: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration.
    Up,
    /// Roll back the most recent migrations.
    Down {
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List applied and pending migrations.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum ContentAction {
    /// Validate a content folder; prints every problem as `path: field: message`, exit 1 on any.
    /// Parts without Mandarin audio are listed as MISSING audio too (exit 1 only with
    /// `--require-audio`).
    Check {
        /// Defaults to HOMEWARD_CONTENT_DIR.
        dir: Option<PathBuf>,
        /// Count a part without Mandarin audio as a problem.
        #[arg(long)]
        require_audio: bool,
    },
    /// Make the missing audio of every lesson offline (espeak-ng and lame), keeping each
    /// lesson's audio under 300 KB; recordings already in place are never replaced.
    Narrate {
        /// Defaults to HOMEWARD_CONTENT_DIR.
        dir: Option<PathBuf>,
        /// Make English audio too (Mandarin is always made).
        #[arg(long)]
        english: bool,
    },
    /// Validate, then import a content folder into the database (idempotent).
    Import {
        /// Defaults to HOMEWARD_CONTENT_DIR.
        dir: Option<PathBuf>,
    },
    /// Write the database's series and lessons (studio edits included) to a folder in the
    /// content format; afterwards the database and those files count as in sync.
    Export { dir: PathBuf },
}

/// Runs the command; the returned code is the process exit code.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await.map(|_| 0),
        Command::Worker => worker(settings).await.map(|_| 0),
        Command::Migrate { action } => migrate(settings, action).await.map(|_| 0),
        Command::Content {
            action: ContentAction::Check { dir, require_audio },
        } => {
            let dir = dir.unwrap_or_else(|| settings.content_dir.clone());
            Ok(check(&dir, require_audio))
        }
        Command::Content {
            action: ContentAction::Narrate { dir, english },
        } => {
            let dir = dir.unwrap_or_else(|| settings.content_dir.clone());
            narrate(&dir, english)
        }
        Command::Content {
            action: ContentAction::Import { dir },
        } => {
            let dir = dir.unwrap_or_else(|| settings.content_dir.clone());
            import(settings, &dir).await
        }
        Command::Content {
            action: ContentAction::Export { dir },
        } => export(settings, &dir).await,
        Command::Factory { action } => operators::factory(settings, action).await.map(|_| 0),
        Command::Line { action } => operators::line(settings, action).await.map(|_| 0),
        Command::Code { action } => operators::code(settings, action).await,
        Command::Staff { action } => operators::staff(settings, action).await.map(|_| 0),
        Command::Learner { action } => operators::learner(settings, action).await.map(|_| 0),
        Command::Backup(args) => backup::backup(settings, args).await,
        Command::Restore(args) => backup::restore(settings, args).await,
        Command::Wechat { action } => wechat::run(settings, action).await,
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    settings.validate_for_serving()?;
    if settings.secret_key.is_none() {
        tracing::warn!("HOMEWARD_SECRET_KEY is not set: using a random key for this run");
    }
    let bind = settings.bind.clone();
    let state = AppState::connect(settings, Arc::new(SystemClock), "hw:").await?;
    startup::prepare(&state).await?;
    let (acceptor, local) = startup::bind(&bind).await?;
    tracing::info!(address = %local, public_url = %state.settings.public_url(), "homeward is listening");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let worker = state.settings.worker.then(|| {
        let worker = with_wechat_channel(jobs::Worker::new(
            state.ctx.clone(),
            jobs::Registry::standard(),
            jobs::WorkerOptions::default(),
        ));
        tokio::spawn(jobs::run_until_stopped(worker, stopped.clone()))
    });
    let mut server_stop = stopped;
    startup::serve(state, acceptor, async move {
        let _ = server_stop.wait_for(|stopped| *stopped).await;
    })
    .await?;
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    tracing::info!("homeward stopped");
    Ok(())
}

/// `homeward worker`: the job worker alone, stopped (and drained) by Ctrl-C / SIGTERM.
async fn worker(settings: Settings) -> anyhow::Result<()> {
    settings.validate()?;
    let ctx = services::Context::connect(settings, Arc::new(SystemClock), "hw:").await?;
    let pending = store::pending_migrations(&ctx.db).await?;
    anyhow::ensure!(
        pending.is_empty(),
        "the database has {} pending migration(s); run `homeward migrate up` first",
        pending.len()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });
    let worker = with_wechat_channel(jobs::Worker::new(
        ctx,
        jobs::Registry::standard(),
        jobs::WorkerOptions::default(),
    ));
    jobs::run_until_stopped(worker, stopped).await;
    Ok(())
}

/// The push delivers through WeChat when WeChat and a template are configured.
fn with_wechat_channel(worker: jobs::Worker) -> jobs::Worker {
    let ctx = worker.context();
    match services::wechat::channel::WechatChannel::for_context(ctx) {
        Some(channel) => worker.with_channel(Arc::new(channel)),
        None => {
            if ctx.settings.wechat_template_id().is_some() {
                tracing::warn!(
                    "HOMEWARD_WECHAT_TEMPLATE_ID is set but WeChat is not configured: the push plans messages and sends none"
                );
            }
            worker
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests and jobs in flight");
}

async fn migrate(settings: Settings, action: MigrateAction) -> anyhow::Result<()> {
    settings.validate()?;
    let db = store::connect(settings.database_url()).await?;
    match action {
        MigrateAction::Up => {
            let pending = store::pending_migrations(&db).await?;
            store::migrate_up(&db).await?;
            println!("applied {} migration(s)", pending.len());
        }
        MigrateAction::Down { steps } => {
            let before = store::applied_migrations(&db).await?;
            store::migrate_down(&db, steps).await?;
            let after = store::applied_migrations(&db).await?;
            let rolled_back = before.len().saturating_sub(after.len());
            println!("rolled back {rolled_back} migration(s)");
            if (rolled_back as u64) < u64::from(steps) {
                println!("asked for {steps}: only {} were applied", before.len());
            }
        }
        MigrateAction::Status => {
            for name in store::applied_migrations(&db).await? {
                println!("applied  {name}");
            }
            for name in store::pending_migrations(&db).await? {
                println!("pending  {name}");
            }
        }
    }
    Ok(())
}

fn check(dir: &std::path::Path, require_audio: bool) -> i32 {
    let chat = content::wechat::load(dir);
    let chat_problems = match &chat {
        Some(Err(problems)) => problems.clone(),
        _ => Vec::new(),
    };
    match content::load_dir(dir) {
        Ok(series) if chat_problems.is_empty() => {
            let lessons: usize = series.iter().map(|s| s.lessons.len()).sum();
            let missing = content::narrate::missing_audio(dir, &series);
            for problem in &missing {
                println!("{problem}");
            }
            if require_audio && !missing.is_empty() {
                eprintln!("{} part(s) without Mandarin audio", missing.len());
                return 1;
            }
            let chat = match chat {
                Some(Ok(chat)) => format!(
                    ", WeChat chat: {} keyword groups, {} safeguarding categories",
                    chat.keywords.len(),
                    chat.categories.len()
                ),
                _ => String::new(),
            };
            println!(
                "ok: {} series, {lessons} lessons{chat} in {}{}",
                series.len(),
                dir.display(),
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} part(s) without audio (run `homeward content narrate`)",
                        missing.len()
                    )
                }
            );
            0
        }
        result => {
            let mut problems = result.err().unwrap_or_default();
            problems.extend(chat_problems);
            for problem in &problems {
                println!("{problem}");
            }
            eprintln!("{} problem(s) found", problems.len());
            1
        }
    }
}

fn narrate(dir: &std::path::Path, english: bool) -> anyhow::Result<i32> {
    let summary = content::narrate::narrate_dir(dir, english, |lesson| {
        let made = match lesson.encoding {
            Some(encoding) => format!(
                "{} made at {} kbps{}",
                lesson.made,
                encoding.kbps,
                if encoding.average { " (average)" } else { "" }
            ),
            None => "nothing to make".to_owned(),
        };
        let kept = if lesson.adopted > 0 {
            format!(", {} recording(s) in place named", lesson.adopted)
        } else {
            String::new()
        };
        println!(
            "{}: {made}{kept}; audio {} KB",
            lesson.name,
            lesson.audio_bytes.div_ceil(1024)
        );
    })?;
    for problem in &summary.problems {
        println!("{problem}");
    }
    let made: usize = summary.lessons.iter().map(|l| l.made).sum();
    println!(
        "narrated {} lessons: {made} recording(s) made",
        summary.lessons.len()
    );
    Ok(if summary.problems.is_empty() { 0 } else { 1 })
}

async fn import(settings: Settings, dir: &std::path::Path) -> anyhow::Result<i32> {
    let series = match content::load_dir(dir) {
        Ok(series) => series,
        Err(problems) => {
            for problem in &problems {
                println!("{problem}");
            }
            eprintln!("{} problem(s) found; nothing imported", problems.len());
            return Ok(1);
        }
    };
    let state = AppState::connect(settings, Arc::new(SystemClock), "hw:").await?;
    if store::is_sqlite(&state.db) {
        store::migrate_up(&state.db).await?;
    } else if !store::pending_migrations(&state.db).await?.is_empty() {
        anyhow::bail!("the database has pending migrations; run `homeward migrate up` first");
    }
    let total: u64 = series.iter().map(|s| s.lessons.len() as u64).sum();
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .context("progress style")?,
    );
    let counts = services::import::import_all(&state.db, &series, state.clock.now(), |name| {
        bar.set_message(name.to_owned());
        bar.inc(1);
    })
    .await?;
    bar.finish_and_clear();
    if counts.changed_anything() {
        services::lessons::content_changed(&state).await;
    }
    println!(
        "imported {} series: {} lessons created, {} updated, {} unchanged, {} unpublished",
        series.len(),
        counts.lessons_created,
        counts.lessons_updated,
        counts.lessons_unchanged,
        counts.lessons_unpublished
    );
    if counts.lessons_kept_studio_edits > 0 {
        println!(
            "{} changed lesson(s) were edited in the studio and were kept as they are; run `homeward content export DIR` to write the studio's version to files",
            counts.lessons_kept_studio_edits
        );
    }
    Ok(0)
}

async fn export(settings: Settings, dir: &std::path::Path) -> anyhow::Result<i32> {
    settings.validate()?;
    let db = store::connect(settings.database_url()).await?;
    if !store::pending_migrations(&db).await?.is_empty() {
        anyhow::bail!("the database has pending migrations; run `homeward migrate up` first");
    }
    let written = services::export::export_all(&db, dir).await?;
    // What was written must load cleanly; then it is the record the database agrees with.
    let series = match content::load_dir(dir) {
        Ok(series) => series,
        Err(problems) => {
            for problem in &problems {
                println!("{problem}");
            }
            anyhow::bail!("the exported files do not pass `content check`");
        }
    };
    let now = crate::clock::Clock::now(&SystemClock);
    for loaded in &series {
        let (cadence, plans) = services::import::plan(loaded, now);
        store::content::mark_in_sync(&db, loaded, cadence.first_release, &plans).await?;
    }
    println!("exported {written} lessons to {}", dir.display());
    Ok(0)
}
