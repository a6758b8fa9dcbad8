//! Benchmark of the weekly push (driven by `scripts/bench-push.sh`): one release to many
//! followers, sent by two worker processes sharing one PostgreSQL database, through a WeChat
//! stand-in that answers each template message after a fixed delay and counts duplicates.
//!
//! ```sh
//! scripts/bench-push.sh   # or, by hand:
//! cargo bench --bench push -- run --pg postgres://postgres@127.0.0.1:5432 \
//!     --followers 100000 --rate 2000 --instances 2 --standin-ms 5
//! ```
//!
//! `run` creates a database, migrates it, adds the followers and one lesson released a few
//! seconds later, starts the stand-in, then `--instances` copies of itself as `worker` (each a
//! Homeward job worker on its own connection pool, as `homeward worker` runs), waits for the
//! last message, prints the figures and drops the database. The last line is machine-readable:
//! `RESULT key=value ...`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use homeward::clock::{Clock, SystemClock};
use homeward::jobs::{Registry, Worker, WorkerOptions, run_until_stopped};
use homeward::services::Context;
use homeward::services::push::{MessageChannel, OutgoingMessage, SendOutcome};
use homeward::settings::Settings;
use sea_orm::{ConnectionTrait, Database};

#[derive(Debug, Parser)]
#[command(name = "push", about = "Benchmark of the weekly push")]
struct Args {
    #[command(subcommand)]
    mode: Mode,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true, global = true)]
    bench: bool,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Set up, run the workers, measure, clean up.
    Run {
        /// PostgreSQL server URL without a database name.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432")]
        pg: String,
        #[arg(long, default_value_t = 100_000)]
        followers: u64,
        /// HOMEWARD_PUSH_RATE for the workers (messages per second, all instances).
        #[arg(long, default_value_t = 2000)]
        rate: u32,
        #[arg(long, default_value_t = 2)]
        instances: u32,
        /// How long the stand-in takes to answer each message.
        #[arg(long, default_value_t = 5)]
        standin_ms: u64,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 900)]
        timeout: u64,
    },
    /// One worker process (started by `run`).
    Worker {
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        standin: String,
        #[arg(long)]
        rate: u32,
    },
}

/// Sends each message to the stand-in as WeChat's template API would receive it.
struct StandinChannel {
    client: reqwest::Client,
    url: String,
}

#[async_trait::async_trait]
impl MessageChannel for StandinChannel {
    async fn send(&self, _ctx: &Context, message: &OutgoingMessage) -> SendOutcome {
        let body = serde_json::json!({
            "touser": format!("openid-{}", message.learner_id),
            "template_id": "TEMPLATE-weekly-lesson",
            "url": message.url,
            "data": {"thing1": {"value": message.lesson_title}},
        });
        match self.client.post(&self.url).json(&body).send().await {
            Ok(response) if response.status().is_success() => SendOutcome::Sent,
            Ok(response) => SendOutcome::Unavailable(format!("HTTP {}", response.status())),
            Err(error) if error.is_connect() => SendOutcome::Unavailable(error.to_string()),
            Err(error) => SendOutcome::Uncertain(error.to_string()),
        }
    }
}

/// What the stand-in has seen.
#[derive(Default)]
struct Seen {
    per_follower: std::sync::Mutex<HashMap<String, u32>>,
    total: AtomicU64,
    first: std::sync::Mutex<Option<Instant>>,
    last: std::sync::Mutex<Option<Instant>>,
}

async fn standin(seen: Arc<Seen>, delay: Duration) -> anyhow::Result<String> {
    use poem::web::{Data, Json};
    use poem::{EndpointExt, Route, handler, post};

    #[handler]
    async fn send(
        seen: Data<&Arc<Seen>>,
        delay: Data<&Duration>,
        Json(body): Json<serde_json::Value>,
    ) -> Json<serde_json::Value> {
        tokio::time::sleep(**delay).await;
        let touser = body["touser"].as_str().unwrap_or_default().to_owned();
        *seen.per_follower.lock().unwrap().entry(touser).or_default() += 1;
        let n = seen.total.fetch_add(1, Ordering::SeqCst) + 1;
        let now = Instant::now();
        seen.first.lock().unwrap().get_or_insert(now);
        *seen.last.lock().unwrap() = Some(now);
        Json(serde_json::json!({"errcode": 0, "errmsg": "ok", "msgid": n}))
    }

    let (acceptor, local) = homeward::startup::bind("127.0.0.1:0").await?;
    let app = Route::new()
        .at("/cgi-bin/message/template/send", post(send))
        .data(seen)
        .data(delay);
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor).run(app).await;
    });
    Ok(format!("http://{local}/cgi-bin/message/template/send"))
}

async fn worker(database_url: String, standin: String, rate: u32) -> anyhow::Result<()> {
    let mut settings = Settings::with_database(database_url);
    settings.wechat_template_id = Some("TEMPLATE-weekly-lesson".into());
    settings.push_rate = rate;
    settings.public_url = Some("https://homeward.example".into());
    let ctx = Context::connect(settings, Arc::new(SystemClock), "bench:").await?;
    let channel = Arc::new(StandinChannel {
        client: reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()?,
        url: standin,
    });
    let options = WorkerOptions {
        poll: Duration::from_millis(200),
        ..WorkerOptions::default()
    };
    let worker = Worker::new(ctx, Registry::standard(), options).with_channel(channel);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    });
    // Stopped by the parent closing our standard input.
    let (stdin_closed_tx, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        let _ = stdin_closed_tx.send(());
    });
    let (stop2, stopped2) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _ = stdin_closed.await;
        let _ = stop2.send(true);
    });
    let mut either = stopped.clone();
    let merged = {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut other = stopped2;
        tokio::spawn(async move {
            tokio::select! {
                _ = either.wait_for(|s| *s) => {}
                _ = other.wait_for(|s| *s) => {}
            }
            let _ = tx.send(true);
        });
        rx
    };
    run_until_stopped(worker, merged).await;
    Ok(())
}

struct PgCounters {
    commits: i64,
    inserted: i64,
    updated: i64,
    blocks_hit: i64,
    blocks_read: i64,
}

async fn counters(admin: &sea_orm::DatabaseConnection, name: &str) -> anyhow::Result<PgCounters> {
    let row = admin
        .query_one_raw(sea_orm::Statement::from_string(
            admin.get_database_backend(),
            format!(
                "SELECT xact_commit::bigint AS c, tup_inserted::bigint AS i, tup_updated::bigint AS u, \
                 blks_hit::bigint AS h, blks_read::bigint AS r FROM pg_stat_database WHERE datname = '{name}'"
            ),
        ))
        .await?
        .context("no statistics for the bench database")?;
    Ok(PgCounters {
        commits: row.try_get("", "c")?,
        inserted: row.try_get("", "i")?,
        updated: row.try_get("", "u")?,
        blocks_hit: row.try_get("", "h")?,
        blocks_read: row.try_get("", "r")?,
    })
}

#[allow(clippy::too_many_arguments)]
async fn run(
    pg: String,
    followers: u64,
    rate: u32,
    instances: u32,
    standin_ms: u64,
    timeout: u64,
) -> anyhow::Result<()> {
    let pg = pg.trim_end_matches('/').to_owned();
    let name = format!("hw_bench_push_{}", std::process::id());
    let admin = Database::connect(format!("{pg}/postgres")).await?;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let url = format!("{pg}/{name}");
    let result = measure(
        &admin, &name, &url, followers, rate, instances, standin_ms, timeout,
    )
    .await;
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await?;
    result
}

#[allow(clippy::too_many_arguments)]
async fn measure(
    admin: &sea_orm::DatabaseConnection,
    name: &str,
    url: &str,
    followers: u64,
    rate: u32,
    instances: u32,
    standin_ms: u64,
    timeout: u64,
) -> anyhow::Result<()> {
    let db = homeward::store::connect(url).await?;
    homeward::store::migrate_up(&db).await?;
    let release = SystemClock.now() + chrono::Duration::seconds(8);
    let setup = Instant::now();
    db.execute_unprepared(&format!(
        "INSERT INTO series (slug, audience, timezone, first_release, release_weekday, release_time, \
           title_zh, title_en, summary_zh, summary_en, content_hash, updated_at) \
         VALUES ('parents', 'parents', 'UTC', '2030-01-07', 'mon', '12:00', '家庭课堂', 'Family lessons', \
           '每周一课', 'A lesson a week', 'bench', now()); \
         INSERT INTO lesson (series_id, slug, week, kind, status, release_at, title_zh, title_en, summary_zh, \
           summary_en, body_json, content_hash, updated_at) \
         VALUES (1, 'praise', 1, 'article', 'published', '{release}', '夸孩子', 'Praise', '夸', 'Praise', '{{}}', 'bench', now()); \
         INSERT INTO learner (audience, lang, recovery_hash, created_at, updated_at) \
         SELECT 'parents', 'zh', 'bench-' || n, now() - interval '1 day', now() - interval '1 day' \
         FROM generate_series(1, {followers}) AS n"
    ))
    .await?;
    db.execute_unprepared("ANALYZE").await?;
    println!(
        "setup: {followers} followers in {:.1} s; release at {release}",
        setup.elapsed().as_secs_f64()
    );

    let seen = Arc::new(Seen::default());
    let standin_url = standin(seen.clone(), Duration::from_millis(standin_ms)).await?;
    let before = counters(admin, name).await?;
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for _ in 0..instances {
        children.push(
            tokio::process::Command::new(&exe)
                .args(["worker", "--database-url", url, "--standin", &standin_url])
                .args(["--rate", &rate.to_string()])
                .env("RUST_LOG", "warn")
                .stdin(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()?,
        );
    }
    let wait_release = (release - SystemClock.now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait_release).await;
    let released = Instant::now();
    let deadline = released + Duration::from_secs(timeout);
    let sent_rows =
        "SELECT COUNT(*) AS n FROM push_message WHERE state IN ('sent', 'failed', 'cancelled')";
    loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                sent_rows.to_owned(),
            ))
            .await?
            .context("count")?;
        let done: i64 = row.try_get("", "n")?;
        if done as u64 >= followers || Instant::now() > deadline {
            break;
        }
    }
    // A moment for anything still in flight (there should be nothing).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for child in &mut children {
        drop(child.stdin.take());
    }
    for child in &mut children {
        let _ = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
    }
    let after = counters(admin, name).await?;

    let total = seen.total.load(Ordering::SeqCst);
    let distinct = seen.per_follower.lock().unwrap().len() as u64;
    let first = seen.first.lock().unwrap().context("nothing was sent")?;
    let last = seen.last.lock().unwrap().context("nothing was sent")?;
    let early = first < released;
    let to_first = first.saturating_duration_since(released).as_secs_f64();
    let to_last = last.saturating_duration_since(released).as_secs_f64();
    let sending = last
        .saturating_duration_since(first)
        .as_secs_f64()
        .max(0.001);
    let per_second = distinct as f64 / sending;
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FILTER (WHERE state = 'sent') AS sent, COUNT(*) FILTER (WHERE state <> 'sent') AS other FROM push_message".to_owned(),
        ))
        .await?
        .context("count")?;
    let sent_in_db: i64 = row.try_get("", "sent")?;
    let not_sent: i64 = row.try_get("", "other")?;
    let commits = after.commits - before.commits;
    println!("followers:              {followers}");
    println!("instances:              {instances} worker processes on one PostgreSQL database");
    println!("HOMEWARD_PUSH_RATE:     {rate} messages/s (all instances)");
    println!("stand-in answers in:    {standin_ms} ms");
    println!("messages received:      {total} ({distinct} distinct followers)");
    println!("duplicates:             {}", total - distinct);
    println!(
        "sent before release:    {}",
        if early { "YES" } else { "none" }
    );
    println!("rows sent / not sent:   {sent_in_db} / {not_sent}");
    println!("first message after:    {to_first:.2} s");
    println!("last message after:     {to_last:.2} s");
    println!("messages per second:    {per_second:.0} (first to last message)");
    println!(
        "database: {commits} transactions ({:.0}/s), {} rows inserted, {} updated, {} blocks hit, {} read",
        commits as f64 / to_last.max(0.001),
        after.inserted - before.inserted,
        after.updated - before.updated,
        after.blocks_hit - before.blocks_hit,
        after.blocks_read - before.blocks_read
    );
    println!(
        "RESULT followers={followers} instances={instances} rate={rate} received={total} distinct={distinct} duplicates={} early={early} to_first_s={to_first:.2} to_last_s={to_last:.2} per_second={per_second:.0} transactions={commits}",
        total - distinct
    );
    db.close().await.ok();
    anyhow::ensure!(total == distinct, "duplicates were sent");
    anyhow::ensure!(!early, "a message went before the release");
    anyhow::ensure!(distinct == followers, "not every follower got the message");
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match args.mode {
        Mode::Run {
            pg,
            followers,
            rate,
            instances,
            standin_ms,
            timeout,
        } => run(pg, followers, rate, instances, standin_ms, timeout).await,
        Mode::Worker {
            database_url,
            standin,
            rate,
        } => worker(database_url, standin, rate).await,
    }
}
