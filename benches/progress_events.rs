//! Load generator for `POST /api/v1/progress/events` (driven by `scripts/bench-events.sh`).
//!
//! Many learners at once, each sending batches of fresh events as fast as its previous batch is
//! answered, for a fixed time. Every event id the server answered `accepted` (in a 200) is
//! counted as acknowledged and, with `--acked-file`, written out as `learner_id,client_id` so the
//! caller can check in the database that none is missing.
//!
//! ```sh
//! cargo bench --bench progress_events -- --url http://127.0.0.1:8080 --tokens-file tokens.txt \
//!     --learners 64 --seconds 15 --batch 50 --series parents --acked-file acked.csv
//! ```
//!
//! The tokens file has one learner a line: `SESSION_TOKEN`, or `LEARNER_ID,SESSION_TOKEN` (the
//! learner id only goes into the acknowledged file). Lessons default to every lesson of
//! `--series` that is released; their kind (and panel count or video length) is read from
//! `GET /api/v1/series/{series}/lessons/{slug}` so every event sent is valid for its lesson.
//!
//! The last line printed is machine-readable: `RESULT key=value ...`.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde::{Deserialize, Serialize};

#[derive(Debug, Parser)]
#[command(
    name = "progress_events",
    about = "Load generator for POST /api/v1/progress/events"
)]
struct Args {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// Concurrent learners (one connection and one request in flight each).
    #[arg(long, default_value_t = 64)]
    learners: usize,
    /// How long to send, in seconds (requests in flight at the end are waited for and counted).
    #[arg(long, default_value_t = 15)]
    seconds: u64,
    /// Events per request (the server takes up to 100).
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// One learner a line: `SESSION_TOKEN` or `LEARNER_ID,SESSION_TOKEN`.
    #[arg(long)]
    tokens_file: PathBuf,
    /// Series of the lessons.
    #[arg(long, default_value = "parents")]
    series: String,
    /// Comma-separated released lesson slugs (default: every released lesson of the series).
    #[arg(long, value_delimiter = ',')]
    lessons: Vec<String>,
    /// Distinct lessons the events of one batch are about (a phone reading a lesson or two).
    #[arg(long, default_value_t = 2)]
    lessons_per_batch: usize,
    /// Where to write the acknowledged events, `learner_id,client_id` a line (CSV).
    #[arg(long)]
    acked_file: Option<PathBuf>,
    /// Runtime worker threads of the generator (1 = a single-threaded runtime, the lightest).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print a progress line to stderr this often, in seconds (0: never).
    #[arg(long, default_value_t = 5)]
    report_every: u64,
    /// Per-request timeout, in seconds.
    #[arg(long, default_value_t = 60)]
    timeout: u64,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.batch == 0 || args.batch > 100 {
        bail!("--batch must be 1 to 100 (the server takes at most 100 events a request)");
    }
    if args.learners == 0 {
        bail!("--learners must be at least 1");
    }
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(run(args))
}

/// What events a lesson can take.
#[derive(Clone, Debug)]
enum Shape {
    Comic {
        panels: u32,
    },
    Video {
        duration: f64,
    },
    Article,
    /// Unknown kind: only `opened` and `completed`.
    Other,
}

#[derive(Clone, Debug)]
struct Lesson {
    slug: String,
    shape: Shape,
}

#[derive(Clone, Debug)]
struct Learner {
    id: Option<i64>,
    token: String,
}

#[derive(Serialize)]
struct EventOut<'a> {
    id: uuid::Uuid,
    series: &'a str,
    lesson: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    panel: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    percent: Option<u32>,
    client_time: &'a str,
}

#[derive(Serialize)]
struct BatchOut<'a> {
    events: Vec<EventOut<'a>>,
}

#[derive(Deserialize)]
struct BatchIn {
    accepted: u64,
    results: Vec<ResultIn>,
}

#[derive(Deserialize)]
struct ResultIn {
    id: uuid::Uuid,
    status: String,
}

#[derive(Default)]
struct Stats {
    requests: u64,
    statuses: BTreeMap<u16, u64>,
    transport_errors: u64,
    /// 200s whose body could not be read as a batch result.
    bad_bodies: u64,
    /// 200s whose `accepted` count disagrees with the results, or that name ids not sent.
    inconsistent: u64,
    events_sent: u64,
    outcomes: BTreeMap<String, u64>,
    latencies_us: Vec<u32>,
    acked: Vec<uuid::Uuid>,
    samples: Vec<String>,
}

impl Stats {
    fn sample(&mut self, text: String) {
        if self.samples.len() < 3 {
            self.samples.push(text);
        }
    }

    fn absorb(&mut self, other: Stats) {
        self.requests += other.requests;
        for (k, v) in other.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.transport_errors += other.transport_errors;
        self.bad_bodies += other.bad_bodies;
        self.inconsistent += other.inconsistent;
        self.events_sent += other.events_sent;
        for (k, v) in other.outcomes {
            *self.outcomes.entry(k).or_default() += v;
        }
        self.latencies_us.extend(other.latencies_us);
        for s in other.samples {
            self.sample(s);
        }
    }
}

/// A small, fast generator (xorshift64*) so picking event kinds costs nothing.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
}

fn read_tokens(path: &PathBuf) -> anyhow::Result<Vec<Learner>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut learners = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split([',', ' ', '\t'])
            .filter(|f| !f.is_empty())
            .collect();
        match fields.as_slice() {
            [token] => learners.push(Learner {
                id: None,
                token: (*token).to_owned(),
            }),
            [id, token] => learners.push(Learner {
                id: Some(id.parse().with_context(|| {
                    format!(
                        "{}:{}: learner id '{id}' is not a number",
                        path.display(),
                        n + 1
                    )
                })?),
                token: (*token).to_owned(),
            }),
            _ => bail!(
                "{}:{}: expected `TOKEN` or `LEARNER_ID,TOKEN`",
                path.display(),
                n + 1
            ),
        }
    }
    Ok(learners)
}

async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<serde_json::Value> {
    let response = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .with_context(|| format!("GET {url}: reading the body"))?;
    if !status.is_success() {
        bail!(
            "GET {url} answered {status}: {}",
            body.chars().take(300).collect::<String>()
        );
    }
    serde_json::from_str(&body).with_context(|| format!("GET {url}: not JSON"))
}

/// The lessons to send events about, with what each can take.
async fn load_lessons(
    client: &reqwest::Client,
    base: &str,
    series: &str,
    wanted: &[String],
) -> anyhow::Result<Vec<Lesson>> {
    let detail = get_json(client, &format!("{base}/api/v1/series/{series}")).await?;
    let released: Vec<String> = detail["lessons"]
        .as_array()
        .context("series answer has no `lessons` list")?
        .iter()
        .filter_map(|l| l["slug"].as_str().map(str::to_owned))
        .collect();
    let slugs: Vec<String> = if wanted.is_empty() {
        released.clone()
    } else {
        for slug in wanted {
            if !released.contains(slug) {
                bail!(
                    "lesson '{slug}' is not a released lesson of '{series}' (released: {})",
                    released.join(", ")
                );
            }
        }
        wanted.to_vec()
    };
    if slugs.is_empty() {
        bail!("series '{series}' has no released lesson");
    }
    let mut lessons = Vec::new();
    for slug in slugs {
        let lesson = get_json(
            client,
            &format!("{base}/api/v1/series/{series}/lessons/{slug}"),
        )
        .await?;
        let shape = match lesson["kind"].as_str() {
            Some("comic") => match lesson["panels"].as_array().map(|p| p.len() as u32) {
                Some(panels) if panels > 0 => Shape::Comic { panels },
                _ => Shape::Other,
            },
            Some("video") => match lesson["video"]["duration_seconds"].as_f64() {
                Some(duration) if duration > 0.0 => Shape::Video { duration },
                _ => Shape::Other,
            },
            Some("article") => Shape::Article,
            _ => Shape::Other,
        };
        lessons.push(Lesson { slug, shape });
    }
    Ok(lessons)
}

/// The `i`-th of `n` events about one lesson: opened first, completed last, the lesson's own
/// kind of event in between (a mix of kinds for lessons whose shape is unknown).
fn event<'a>(
    rng: &mut Rng,
    series: &'a str,
    lesson: &'a Lesson,
    i: usize,
    n: usize,
    client_time: &'a str,
) -> EventOut<'a> {
    let mut out = EventOut {
        id: uuid::Uuid::new_v4(),
        series,
        lesson: &lesson.slug,
        kind: "opened",
        panel: None,
        seconds: None,
        duration: None,
        percent: None,
        client_time,
    };
    if i == 0 {
        return out;
    }
    if i + 1 == n {
        out.kind = "completed";
        return out;
    }
    match lesson.shape {
        Shape::Comic { panels } => {
            out.kind = "panel_viewed";
            out.panel = Some(rng.below(u64::from(panels)) as u32);
        }
        Shape::Video { duration } => {
            out.kind = "video_position";
            out.seconds = Some((rng.below(duration as u64 * 10 + 1) as f64 / 10.0).min(duration));
            out.duration = Some(duration);
        }
        Shape::Article => {
            out.kind = "article_read";
            out.percent = Some(rng.below(101) as u32);
        }
        Shape::Other => {
            out.kind = if rng.below(2) == 0 {
                "opened"
            } else {
                "completed"
            }
        }
    }
    out
}

struct Shared {
    client: reqwest::Client,
    endpoint: String,
    series: String,
    lessons: Vec<Lesson>,
    batch: usize,
    lessons_per_batch: usize,
    deadline: Instant,
    live_requests: AtomicU64,
    live_acked: AtomicU64,
}

async fn learner_loop(shared: Arc<Shared>, index: usize, token: String) -> Stats {
    let mut stats = Stats::default();
    let mut rng =
        Rng(0x9E37_79B9_7F4A_7C15 ^ ((index as u64 + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9)));
    let auth = format!("Bearer {token}");
    let lessons = &shared.lessons;
    let per_batch = shared.lessons_per_batch.clamp(1, lessons.len());
    let mut next_lesson = index % lessons.len();
    let mut sent: HashSet<uuid::Uuid> = HashSet::with_capacity(shared.batch);
    while Instant::now() < shared.deadline {
        // Events of this batch, spread over `per_batch` consecutive lessons.
        let client_time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let mut events = Vec::with_capacity(shared.batch);
        for part in 0..per_batch {
            let lesson = &lessons[(next_lesson + part) % lessons.len()];
            let n = shared.batch / per_batch + usize::from(part < shared.batch % per_batch);
            for i in 0..n {
                events.push(event(&mut rng, &shared.series, lesson, i, n, &client_time));
            }
        }
        next_lesson = (next_lesson + 1) % lessons.len();
        sent.clear();
        sent.extend(events.iter().map(|e| e.id));
        let body = match serde_json::to_vec(&BatchOut { events }) {
            Ok(body) => body,
            Err(error) => {
                stats.sample(format!("serialising a batch: {error}"));
                break;
            }
        };
        stats.requests += 1;
        stats.events_sent += sent.len() as u64;
        let started = Instant::now();
        let result = shared
            .client
            .post(&shared.endpoint)
            .header(reqwest::header::AUTHORIZATION, &auth)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await;
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                stats.transport_errors += 1;
                stats.sample(format!("learner {index}: request failed: {error}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let status = response.status().as_u16();
        let bytes = response.bytes().await;
        stats
            .latencies_us
            .push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        shared.live_requests.fetch_add(1, Ordering::Relaxed);
        *stats.statuses.entry(status).or_default() += 1;
        let bytes = match bytes {
            Ok(bytes) => bytes,
            Err(error) => {
                stats.transport_errors += 1;
                stats.sample(format!(
                    "learner {index}: reading a {status} answer failed: {error}"
                ));
                continue;
            }
        };
        if status != 200 {
            stats.sample(format!(
                "learner {index}: HTTP {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            ));
            if status == 401 {
                // A bad token stays bad: stop this learner rather than spin.
                break;
            }
            continue;
        }
        let parsed: BatchIn = match serde_json::from_slice(&bytes) {
            Ok(parsed) => parsed,
            Err(error) => {
                stats.bad_bodies += 1;
                stats.sample(format!(
                    "learner {index}: unreadable 200 body ({error}): {}",
                    String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
                ));
                continue;
            }
        };
        let mut accepted = 0u64;
        let mut consistent = parsed.results.len() == sent.len();
        for result in parsed.results {
            if !sent.contains(&result.id) {
                consistent = false;
                continue;
            }
            if result.status == "accepted" {
                accepted += 1;
                stats.acked.push(result.id);
            }
            match stats.outcomes.get_mut(result.status.as_str()) {
                Some(count) => *count += 1,
                None => {
                    stats.outcomes.insert(result.status, 1);
                }
            }
        }
        if !consistent || accepted != parsed.accepted {
            stats.inconsistent += 1;
            stats.sample(format!(
                "learner {index}: 200 whose results do not match the batch (accepted field {}, counted {accepted})",
                parsed.accepted
            ));
        }
        shared.live_acked.fetch_add(accepted, Ordering::Relaxed);
    }
    stats
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

/// CPU seconds (user + system) this process has used, from /proc (Linux); 0 elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15.
    let Some(rest) = stat.rfind(')').map(|i| &stat[i + 2..]) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

async fn run(args: Args) -> anyhow::Result<()> {
    let base = args.url.trim_end_matches('/').to_owned();
    let learners = read_tokens(&args.tokens_file)?;
    if learners.len() < args.learners {
        bail!(
            "--learners {} but {} has only {} tokens",
            args.learners,
            args.tokens_file.display(),
            learners.len()
        );
    }
    let learners: Vec<Learner> = learners.into_iter().take(args.learners).collect();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.learners)
        .timeout(Duration::from_secs(args.timeout))
        .tcp_nodelay(true)
        .build()?;
    let lessons = load_lessons(&client, &base, &args.series, &args.lessons).await?;
    let describe: Vec<String> = lessons
        .iter()
        .map(|l| match l.shape {
            Shape::Comic { panels } => format!("{} (comic, {panels} panels)", l.slug),
            Shape::Video { duration } => format!("{} (video, {duration} s)", l.slug),
            Shape::Article => format!("{} (article)", l.slug),
            Shape::Other => format!("{} (opened/completed only)", l.slug),
        })
        .collect();
    let per_batch = args.lessons_per_batch.clamp(1, lessons.len());
    println!(
        "progress_events: {} learners, {} s, {} events a request over {per_batch} lesson(s), {} runtime thread(s), {base}",
        args.learners,
        args.seconds,
        args.batch,
        args.threads.max(1)
    );
    println!("lessons of '{}': {}", args.series, describe.join(", "));

    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let shared = Arc::new(Shared {
        client,
        endpoint: format!("{base}/api/v1/progress/events"),
        series: args.series.clone(),
        lessons,
        batch: args.batch,
        lessons_per_batch: args.lessons_per_batch,
        deadline: start + Duration::from_secs(args.seconds),
        live_requests: AtomicU64::new(0),
        live_acked: AtomicU64::new(0),
    });
    let reporter = (args.report_every > 0).then(|| {
        let shared = shared.clone();
        let every = Duration::from_secs(args.report_every);
        tokio::spawn(async move {
            let (mut last_req, mut last_ack, mut last_at) = (0u64, 0u64, Instant::now());
            loop {
                tokio::time::sleep(every).await;
                let (req, ack, at) = (
                    shared.live_requests.load(Ordering::Relaxed),
                    shared.live_acked.load(Ordering::Relaxed),
                    Instant::now(),
                );
                let dt = (at - last_at).as_secs_f64();
                eprintln!(
                    "  t={:>5.1}s  {:>8.1} req/s  {:>9.1} acknowledged events/s  (total {ack})",
                    (at - start).as_secs_f64(),
                    (req - last_req) as f64 / dt,
                    (ack - last_ack) as f64 / dt
                );
                (last_req, last_ack, last_at) = (req, ack, at);
            }
        })
    });
    let tasks: Vec<_> = learners
        .iter()
        .enumerate()
        .map(|(index, learner)| {
            tokio::spawn(learner_loop(shared.clone(), index, learner.token.clone()))
        })
        .collect();
    let mut total = Stats::default();
    let mut acked: Vec<(Option<i64>, Vec<uuid::Uuid>)> = Vec::with_capacity(tasks.len());
    for (task, learner) in tasks.into_iter().zip(&learners) {
        let mut stats = task.await.context("a learner task panicked")?;
        acked.push((learner.id, std::mem::take(&mut stats.acked)));
        total.absorb(stats);
    }
    let elapsed = start.elapsed().as_secs_f64();
    if let Some(reporter) = reporter {
        reporter.abort();
    }
    let cpu = cpu_seconds() - cpu0;

    let acked_count: usize = acked.iter().map(|(_, ids)| ids.len()).sum();
    if let Some(path) = &args.acked_file {
        use std::io::Write;
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut out = std::io::BufWriter::new(file);
        for (id, ids) in &acked {
            let id = id.map(|i| i.to_string()).unwrap_or_default();
            for client_id in ids {
                writeln!(out, "{id},{client_id}")?;
            }
        }
        out.flush()?;
    }

    total.latencies_us.sort_unstable();
    let ok = total.statuses.get(&200).copied().unwrap_or(0);
    let non200: u64 = total
        .statuses
        .iter()
        .filter(|(s, _)| **s != 200)
        .map(|(_, n)| n)
        .sum();
    let errors = non200 + total.transport_errors + total.bad_bodies + total.inconsistent;
    let outcome = |name: &str| total.outcomes.get(name).copied().unwrap_or(0);
    let (p50, p90, p99) = (
        percentile(&total.latencies_us, 50.0),
        percentile(&total.latencies_us, 90.0),
        percentile(&total.latencies_us, 99.0),
    );
    let max = total
        .latencies_us
        .last()
        .map_or(f64::NAN, |v| f64::from(*v) / 1000.0);
    let rps = total.requests as f64 / elapsed;
    let eps = acked_count as f64 / elapsed;
    let statuses: Vec<String> = total
        .statuses
        .iter()
        .map(|(s, n)| format!("{s}: {n}"))
        .collect();
    println!(
        "elapsed: {elapsed:.2} s (sending stopped at {} s; requests in flight were waited for)",
        args.seconds
    );
    println!(
        "requests: {} ({rps:.1}/s); statuses {{{}}}; transport errors {}; unreadable 200s {}; inconsistent 200s {}",
        total.requests,
        statuses.join(", "),
        total.transport_errors,
        total.bad_bodies,
        total.inconsistent
    );
    println!(
        "events: sent {}, acknowledged {acked_count} ({eps:.1}/s); duplicate {}, conflict {}, not_found {}, invalid {}",
        total.events_sent,
        outcome("duplicate"),
        outcome("conflict"),
        outcome("not_found"),
        outcome("invalid")
    );
    println!("request latency: p50 {p50:.1} ms, p90 {p90:.1} ms, p99 {p99:.1} ms, max {max:.1} ms");
    println!(
        "generator CPU: {cpu:.2} s ({:.0}% of one core)",
        100.0 * cpu / elapsed
    );
    for sample in &total.samples {
        println!("error sample: {sample}");
    }
    if let Some(path) = &args.acked_file {
        println!("acknowledged ids written to {}", path.display());
    }
    println!(
        "RESULT learners={} seconds={} batch={} elapsed={elapsed:.3} requests={} ok={ok} requests_per_s={rps:.1} events_sent={} acked={acked_count} events_per_s={eps:.1} p50_ms={p50:.2} p90_ms={p90:.2} p99_ms={p99:.2} max_ms={max:.2} non200={non200} transport_errors={} errors={errors} duplicate={} conflict={} not_found={} invalid={} cpu_s={cpu:.2}",
        args.learners,
        args.seconds,
        args.batch,
        total.requests,
        total.events_sent,
        total.transport_errors,
        outcome("duplicate"),
        outcome("conflict"),
        outcome("not_found"),
        outcome("invalid"),
    );
    Ok(())
}
