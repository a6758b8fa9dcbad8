//! Logs and metrics: tracing output (text or JSON) and the Prometheus recorder. (The middleware
//! that gives every request an id, a log line and its counts is `http::observe`.)

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::settings::LogFormat;

/// What is logged when `RUST_LOG` is unset: info, with SQL statements off.
pub const DEFAULT_LOG_FILTER: &str = "info,sqlx=warn,sea_orm=warn";

/// The filter `RUST_LOG` asks for (unset or empty: the default); a value that is not a filter
/// is an error, never silently replaced by the default.
pub fn log_filter(rust_log: Option<&str>) -> anyhow::Result<tracing_subscriber::EnvFilter> {
    let value = rust_log.map(str::trim).filter(|v| !v.is_empty());
    tracing_subscriber::EnvFilter::builder()
        .parse(value.unwrap_or(DEFAULT_LOG_FILTER))
        .map_err(|error| {
            anyhow::anyhow!(
                "RUST_LOG '{}' is not a log filter ({error}); use a level such as info or debug, or directives such as info,homeward=debug",
                value.unwrap_or_default()
            )
        })
}

/// Sets up logging once. `RUST_LOG` filters (default: info, with SQL statements off); an
/// invalid `RUST_LOG` is an error.
pub fn init_logging(format: LogFormat) -> anyhow::Result<()> {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = log_filter(rust_log.as_deref())?;
    // Colours only for a person at a terminal, never in files or log collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
    Ok(())
}

/// The counters without labels, shown from the start at 0 (so a scrape before the first cache
/// error still lists `cache_errors_total`). Counters with labels appear with their first value;
/// the gauges are set at every scrape.
pub const COUNTERS: [&str; 7] = [
    "cache_hits_total",
    "cache_misses_total",
    "cache_errors_total",
    "cache_requests_waiting_for_redis_total",
    "cache_requests_over_redis_budget_total",
    "wechat_callback_refused_total",
    "wechat_safeguarding_replies_total",
];

fn register_counters() {
    for name in COUNTERS {
        metrics::counter!(name).increment(0);
    }
}

/// The process-wide Prometheus recorder (installed on first use).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    &[
                        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    ],
                )
                .expect("valid buckets");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may exist in tests that build several apps; keep ours readable.
            let _ = metrics::set_global_recorder(recorder);
            register_counters();
            handle
        })
        .clone()
}
