//! The cache: one interface, two stores (in-process, Redis). Redis only ever caches: on any error
//! the caller computes from the database instead. A request waits for Redis 250 ms at most in
//! all (one budget shared by its calls), and a breaker shared by the instance's requests sends
//! them straight to the database after a failure, one probe at a time finding out when Redis is
//! back.
//!
//! Cross-instance invalidation uses a generation counter kept in the cache store: every key
//! that holds content includes the generation, and a change (import, publish, unpublish) bumps
//! it after its transaction commits, so all instances sharing the Redis miss at once.

use std::cell::Cell;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use redis::AsyncCommands;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// How long the Redis calls of one request (or one call outside a request) may wait in all
/// before the database is used instead.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// After a Redis failure, how long every request goes straight to the database before one of
/// them probes Redis again.
const REDIS_BACKOFF: Duration = Duration::from_millis(1000);

tokio::task_local! {
    /// The Redis calls of the request being served (see `within_request`).
    static REQUEST_REDIS: RequestRedis;
}

/// What one request's Redis calls have cost it so far.
#[derive(Default)]
struct RequestRedis {
    /// When the request's Redis budget runs out (set by its first call).
    deadline: Cell<Option<Instant>>,
    /// How long its failed calls waited in all.
    waited: Cell<Duration>,
    /// Whether it has been counted as waiting, and as waiting more than one budget.
    counted: Cell<(bool, bool)>,
}

/// Runs `request` with one Redis budget for all its calls (`REDIS_TIMEOUT` in all). Requests
/// that wait for Redis to fail, and for longer than one budget, are counted
/// (`cache_requests_waiting_for_redis_total`, `cache_requests_over_redis_budget_total`).
pub async fn within_request<F: Future>(request: F) -> F::Output {
    REQUEST_REDIS.scope(RequestRedis::default(), request).await
}

/// How long the next Redis call may wait: what is left of the request's budget (`None`: spent),
/// or `REDIS_TIMEOUT` outside a request.
fn budget_left() -> Option<Duration> {
    REQUEST_REDIS
        .try_with(|r| {
            let now = Instant::now();
            let deadline = r.deadline.get().unwrap_or_else(|| {
                r.deadline.set(Some(now + REDIS_TIMEOUT));
                now + REDIS_TIMEOUT
            });
            Some(deadline.saturating_duration_since(now)).filter(|left| !left.is_zero())
        })
        .unwrap_or(Some(REDIS_TIMEOUT))
}

/// The instance's breaker: closed (Redis is used), open (nobody waits for Redis until `until`),
/// or probing (one call finds out whether Redis is back; the others do not wait).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Breaker {
    Closed,
    Open { until: Instant },
    Probing,
}

/// A call let through the breaker. A probe dropped unfinished (its request cancelled) lets the
/// next call probe.
struct Admitted<'a> {
    breaker: &'a Mutex<Breaker>,
    probe: bool,
    settled: bool,
}

impl Admitted<'_> {
    fn settle(mut self, ok: bool) {
        self.settled = true;
        let mut breaker = self.breaker.lock().expect("redis breaker lock");
        match (ok, *breaker) {
            (true, _) => *breaker = Breaker::Closed,
            (false, Breaker::Closed) | (false, Breaker::Probing) => {
                *breaker = Breaker::Open {
                    until: Instant::now() + REDIS_BACKOFF,
                }
            }
            // Opened meanwhile by another call: its back-off stands.
            (false, Breaker::Open { .. }) => {}
        }
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if self.probe && !self.settled {
            let mut breaker = self.breaker.lock().expect("redis breaker lock");
            if *breaker == Breaker::Probing {
                *breaker = Breaker::Open {
                    until: Instant::now(),
                };
            }
        }
    }
}

/// Adds a failed call's wait to the current request's; says whether the request now counts as
/// waiting for Redis (a failure that took more than a moment), and as waiting for more than one
/// budget (half a budget more, for the timers' slack).
fn count_request_wait(waited: Duration) -> (bool, bool) {
    if waited < Duration::from_millis(50) {
        return (false, false);
    }
    REQUEST_REDIS
        .try_with(|r| {
            r.waited.set(r.waited.get() + waited);
            let (was_waiting, was_over) = r.counted.get();
            let over = r.waited.get() > REDIS_TIMEOUT * 3 / 2;
            r.counted.set((true, over));
            (!was_waiting, over && !was_over)
        })
        .unwrap_or((false, false))
}

/// How often this instance's requests waited for Redis to time out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RedisWaits {
    /// Requests that waited for Redis to fail.
    pub requests: u64,
    /// Requests that waited for it for more than one budget (250 ms, with 125 ms of slack).
    pub over_budget: u64,
}

#[derive(Debug, thiserror::Error)]
#[error("cache unavailable: {0}")]
pub struct CacheError(String);

/// A key-value store with expiry and a counter.
#[async_trait]
pub trait CacheStore: Send + Sync {
    fn kind(&self) -> &'static str;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError>;
    async fn incr(&self, key: &str) -> Result<i64, CacheError>;
    /// Counts a hit in a fixed window starting at the first hit: (hits so far, seconds left).
    async fn incr_window(&self, key: &str, window: Duration) -> Result<(i64, u64), CacheError>;
    /// The hits counted so far by `incr_window` and the seconds left, without counting one.
    async fn peek_window(&self, key: &str) -> Result<Option<(i64, u64)>, CacheError>;
    async fn ping(&self) -> Result<(), CacheError>;
    /// How often requests served by this instance waited for the store to fail.
    fn waits(&self) -> RedisWaits {
        RedisWaits::default()
    }
}

/// The in-process store used when `REDIS_URL` is unset. Bounded: it empties when full.
/// A cached value and when it expires.
type Entry = (Arc<Vec<u8>>, Instant);

#[derive(Default)]
pub struct InProcessStore {
    entries: Mutex<HashMap<String, Entry>>,
    bytes: Mutex<usize>,
}

const IN_PROCESS_MAX_BYTES: usize = 64 * 1024 * 1024;

#[async_trait]
impl CacheStore for InProcessStore {
    fn kind(&self) -> &'static str {
        "in-process"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let entries = self.entries.lock().expect("cache lock");
        Ok(entries
            .get(key)
            .filter(|(_, expires)| *expires > Instant::now())
            .map(|(value, _)| value.as_ref().clone()))
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let mut entries = self.entries.lock().expect("cache lock");
        let mut bytes = self.bytes.lock().expect("cache lock");
        if *bytes + value.len() > IN_PROCESS_MAX_BYTES {
            entries.retain(|k, _| k.ends_with(":gen"));
            *bytes = 0;
        }
        *bytes += value.len();
        entries.insert(key.to_owned(), (Arc::new(value), Instant::now() + ttl));
        Ok(())
    }

    async fn incr(&self, key: &str) -> Result<i64, CacheError> {
        let mut entries = self.entries.lock().expect("cache lock");
        let current = entries
            .get(key)
            .and_then(|(v, _)| std::str::from_utf8(v).ok()?.parse::<i64>().ok())
            .unwrap_or(0);
        let next = current + 1;
        let forever = Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600);
        entries.insert(
            key.to_owned(),
            (Arc::new(next.to_string().into_bytes()), forever),
        );
        Ok(next)
    }

    async fn incr_window(&self, key: &str, window: Duration) -> Result<(i64, u64), CacheError> {
        let mut entries = self.entries.lock().expect("cache lock");
        let now = Instant::now();
        if entries.len() > 100_000 {
            entries.retain(|_, (_, expires)| *expires > now);
        }
        let (count, expires) = match entries.get(key).filter(|(_, expires)| *expires > now) {
            Some((value, expires)) => {
                let count = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0);
                (count + 1, *expires)
            }
            None => (1, now + window),
        };
        entries.insert(
            key.to_owned(),
            (Arc::new(count.to_string().into_bytes()), expires),
        );
        Ok((
            count,
            expires.saturating_duration_since(now).as_secs().max(1),
        ))
    }

    async fn peek_window(&self, key: &str) -> Result<Option<(i64, u64)>, CacheError> {
        let entries = self.entries.lock().expect("cache lock");
        let now = Instant::now();
        Ok(entries
            .get(key)
            .filter(|(_, expires)| *expires > now)
            .map(|(value, expires)| {
                let count = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<i64>().ok())
                    .unwrap_or(0);
                (
                    count,
                    expires.saturating_duration_since(now).as_secs().max(1),
                )
            }))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }
}

/// Redis through a reconnecting connection manager, created lazily so the server starts
/// without Redis.
pub struct RedisStore {
    manager: redis::aio::ConnectionManager,
    breaker: Mutex<Breaker>,
    /// Requests that waited for Redis to fail, and for longer than one budget.
    waited: [std::sync::atomic::AtomicU64; 2],
}

impl RedisStore {
    pub fn new(url: &str) -> anyhow::Result<RedisStore> {
        let client = redis::Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(200));
        let manager = redis::aio::ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RedisStore {
            manager,
            breaker: Mutex::new(Breaker::Closed),
            waited: Default::default(),
        })
    }

    /// Lets a call through when the breaker is closed, or as the one probe once its back-off
    /// has passed.
    fn admit(&self) -> Option<Admitted<'_>> {
        let mut breaker = self.breaker.lock().expect("redis breaker lock");
        let probe = match *breaker {
            Breaker::Closed => false,
            Breaker::Open { until } if Instant::now() >= until => {
                *breaker = Breaker::Probing;
                true
            }
            Breaker::Open { .. } | Breaker::Probing => return None,
        };
        Some(Admitted {
            breaker: &self.breaker,
            probe,
            settled: false,
        })
    }

    async fn call<T, F, Fut>(&self, op: F) -> Result<T, CacheError>
    where
        F: FnOnce(redis::aio::ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        let Some(admitted) = self.admit() else {
            return Err(CacheError("redis recently failed".into()));
        };
        // A request whose budget is spent does not wait, and does not probe for the others.
        let Some(wait) = budget_left() else {
            return Err(CacheError("this request's redis budget is spent".into()));
        };
        let started = Instant::now();
        let result = tokio::time::timeout(wait, op(self.manager.clone())).await;
        let outcome = match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(CacheError(error.to_string())),
            Err(_) => Err(CacheError("redis timed out".into())),
        };
        if outcome.is_err() {
            let (waiting, over_budget) = count_request_wait(started.elapsed());
            for (counted, index, name) in [
                (waiting, 0, "cache_requests_waiting_for_redis_total"),
                (over_budget, 1, "cache_requests_over_redis_budget_total"),
            ] {
                if counted {
                    self.waited[index].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    metrics::counter!(name).increment(1);
                }
            }
        }
        if let Err(error) = &outcome {
            let was_closed = *self.breaker.lock().expect("redis breaker lock") == Breaker::Closed;
            if was_closed {
                tracing::warn!(%error, "redis unavailable; serving from the database");
            }
        }
        admitted.settle(outcome.is_ok());
        outcome
    }
}

#[async_trait]
impl CacheStore for RedisStore {
    fn kind(&self) -> &'static str {
        "redis"
    }

    fn waits(&self) -> RedisWaits {
        let [requests, over_budget] = &self.waited;
        RedisWaits {
            requests: requests.load(std::sync::atomic::Ordering::Relaxed),
            over_budget: over_budget.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = key.to_owned();
        self.call(|mut c| async move { c.get(key).await }).await
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let key = key.to_owned();
        let seconds = ttl.as_secs().max(1);
        self.call(|mut c| async move { c.set_ex(key, value, seconds).await })
            .await
    }

    async fn incr(&self, key: &str) -> Result<i64, CacheError> {
        let key = key.to_owned();
        self.call(|mut c| async move { c.incr(key, 1).await }).await
    }

    async fn incr_window(&self, key: &str, window: Duration) -> Result<(i64, u64), CacheError> {
        let key = key.to_owned();
        let seconds = window.as_secs().max(1);
        let (count, ttl): (i64, i64) = self
            .call(|mut c| async move {
                redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(seconds)
                    .arg("NX")
                    .ignore()
                    .ttl(&key)
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Ok((count, ttl.max(1) as u64))
    }

    async fn peek_window(&self, key: &str) -> Result<Option<(i64, u64)>, CacheError> {
        let key = key.to_owned();
        let (count, ttl): (Option<i64>, i64) = self
            .call(
                |mut c| async move { redis::pipe().get(&key).ttl(&key).query_async(&mut c).await },
            )
            .await?;
        Ok(count.map(|count| (count, ttl.max(1) as u64)))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        // Readiness always asks Redis itself, even during the back-off.
        let result = tokio::time::timeout(REDIS_TIMEOUT, async {
            let mut c = self.manager.clone();
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await;
        match result {
            Ok(Ok(_)) => {
                *self.breaker.lock().expect("redis breaker lock") = Breaker::Closed;
                Ok(())
            }
            Ok(Err(error)) => Err(CacheError(error.to_string())),
            Err(_) => Err(CacheError("redis timed out".into())),
        }
    }
}

/// The cache the services use: namespaced keys, generations, single-flight computation.
pub struct Cache {
    store: Arc<dyn CacheStore>,
    prefix: String,
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// A bump that failed while the store was down; retried before the generation is next read,
    /// so content changed during an outage is not hidden behind stale keys afterwards.
    bump_pending: std::sync::atomic::AtomicBool,
    /// Rate-limit counters for when the shared store is unreachable.
    fallback_limits: InProcessStore,
}

impl Cache {
    pub fn new(store: Arc<dyn CacheStore>, prefix: impl Into<String>) -> Cache {
        Cache {
            store,
            prefix: prefix.into(),
            inflight: Mutex::new(HashMap::new()),
            bump_pending: std::sync::atomic::AtomicBool::new(false),
            fallback_limits: InProcessStore::default(),
        }
    }

    pub fn kind(&self) -> &'static str {
        self.store.kind()
    }

    /// How often requests waited for Redis to fail (see `within_request`).
    pub fn redis_waits(&self) -> RedisWaits {
        self.store.waits()
    }

    pub async fn ping(&self) -> bool {
        self.store.ping().await.is_ok()
    }

    fn key(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    /// The current content generation, or `None` when the cache is unreachable.
    pub async fn generation(&self) -> Option<i64> {
        use std::sync::atomic::Ordering;
        if self.bump_pending.load(Ordering::SeqCst) {
            self.store.incr(&self.key("gen")).await.ok()?;
            self.bump_pending.store(false, Ordering::SeqCst);
        }
        match self.store.get(&self.key("gen")).await {
            Ok(Some(raw)) => std::str::from_utf8(&raw).ok()?.parse().ok(),
            Ok(None) => Some(0),
            Err(_) => None,
        }
    }

    /// Invalidates every content key on every instance sharing this cache.
    pub async fn bump_generation(&self) {
        if let Err(error) = self.store.incr(&self.key("gen")).await {
            tracing::warn!(%error, "could not bump the cache generation; will retry");
            self.bump_pending
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// A counter every instance sharing this cache reads (`None` when the cache is unreachable):
    /// instances compare it with the value they saw last to learn that something changed.
    pub async fn shared_counter(&self, name: &str) -> Option<i64> {
        match self.store.get(&self.key(name)).await {
            Ok(Some(raw)) => std::str::from_utf8(&raw).ok()?.parse().ok(),
            Ok(None) => Some(0),
            Err(_) => None,
        }
    }

    /// Tells every instance sharing this cache that something changed (see `shared_counter`).
    pub async fn bump_shared_counter(&self, name: &str) {
        if self.store.incr(&self.key(name)).await.is_err() {
            metrics::counter!("cache_errors_total").increment(1);
        }
    }

    /// Returns the cached value for `key`, or computes, stores and returns it. Concurrent misses
    /// for one key on this instance compute once. When the store fails, computes without caching.
    pub async fn get_or_compute<T, F, Fut>(
        &self,
        key: &str,
        ttl: Duration,
        compute: F,
    ) -> anyhow::Result<T>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = anyhow::Result<T>>,
    {
        let key = self.key(key);
        match self.lookup::<T>(&key).await {
            Ok(Some(value)) => return Ok(value),
            Ok(None) => {}
            Err(_) => {
                metrics::counter!("cache_errors_total").increment(1);
                return compute().await;
            }
        }
        let gate = {
            let mut inflight = self.inflight.lock().expect("inflight lock");
            inflight.entry(key.clone()).or_default().clone()
        };
        let _turn = gate.lock().await;
        let result = async {
            if let Ok(Some(value)) = self.lookup::<T>(&key).await {
                return Ok(value);
            }
            metrics::counter!("cache_misses_total").increment(1);
            let value = compute().await?;
            if let Ok(bytes) = serde_json::to_vec(&value) {
                let _ = self.store.set(&key, bytes, ttl).await;
            }
            Ok(value)
        }
        .await;
        self.inflight.lock().expect("inflight lock").remove(&key);
        result
    }

    /// Counts a hit against a limit of `limit` per `window` for `key`. Over the limit, returns
    /// the seconds until the window ends. With the shared store down, counts in this process.
    pub async fn rate_limit(&self, key: &str, limit: i64, window: Duration) -> Result<(), u64> {
        let key = self.key(&format!("rl:{key}"));
        let (count, retry_after) = match self.store.incr_window(&key, window).await {
            Ok(counted) => counted,
            Err(_) => self
                .fallback_limits
                .incr_window(&key, window)
                .await
                .unwrap_or((0, 0)),
        };
        if count > limit {
            Err(retry_after)
        } else {
            Ok(())
        }
    }

    /// Whether `key` has already counted `limit` failures in its window (counted with
    /// `count_failure`): then the seconds until the window ends. Checking counts nothing, so
    /// only failures use up a limit.
    pub async fn failures_exceeded(&self, key: &str, limit: i64) -> Result<(), u64> {
        let key = self.key(&format!("rl:{key}"));
        let counted = match self.store.peek_window(&key).await {
            Ok(counted) => counted,
            Err(_) => self.fallback_limits.peek_window(&key).await.unwrap_or(None),
        };
        match counted {
            Some((count, retry_after)) if count >= limit => Err(retry_after),
            _ => Ok(()),
        }
    }

    /// Counts one failure against `key` in a window of `window`.
    pub async fn count_failure(&self, key: &str, window: Duration) {
        let key = self.key(&format!("rl:{key}"));
        if self.store.incr_window(&key, window).await.is_err() {
            let _ = self.fallback_limits.incr_window(&key, window).await;
        }
    }

    /// The value stored under `key`, or `None` when missing, unreadable or the store is down.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.lookup(&self.key(key)).await.ok().flatten()
    }

    /// Stores a value for `ttl`; a store that is down is ignored (the caller has the database).
    pub async fn set_json<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) {
        if let Ok(bytes) = serde_json::to_vec(value)
            && self.store.set(&self.key(key), bytes, ttl).await.is_err()
        {
            metrics::counter!("cache_errors_total").increment(1);
        }
    }

    async fn lookup<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let Some(bytes) = self.store.get(key).await? else {
            return Ok(None);
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => {
                metrics::counter!("cache_hits_total").increment(1);
                Ok(Some(value))
            }
            Err(_) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn concurrent_misses_compute_once() {
        let cache = Arc::new(Cache::new(Arc::new(InProcessStore::default()), "t:"));
        let computed = Arc::new(AtomicU32::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let cache = cache.clone();
                let computed = computed.clone();
                tokio::spawn(async move {
                    cache
                        .get_or_compute("k", Duration::from_secs(60), || async {
                            computed.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok(42u32)
                        })
                        .await
                        .unwrap()
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), 42);
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn generation_counts_up() {
        let cache = Cache::new(Arc::new(InProcessStore::default()), "t:");
        assert_eq!(cache.generation().await, Some(0));
        cache.bump_generation().await;
        assert_eq!(cache.generation().await, Some(1));
    }

    #[tokio::test]
    async fn unreachable_redis_falls_back_to_computing() {
        let store = RedisStore::new("redis://127.0.0.1:1/").unwrap();
        let cache = Cache::new(Arc::new(store), "t:");
        assert_eq!(cache.generation().await, None);
        let value = cache
            .get_or_compute("k", Duration::from_secs(1), || async { Ok(7u8) })
            .await
            .unwrap();
        assert_eq!(value, 7);
        assert!(!cache.ping().await);
    }
}
