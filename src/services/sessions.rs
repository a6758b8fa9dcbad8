//! Learner sessions this instance found valid a moment ago, so a page view does not ask the
//! database who the learner is. Revocation (signing out, on every phone, recovery, deletion)
//! still ends a session within seconds everywhere:
//! - on the instance that revoked it, at once (`forget_learner`, `forget_token`);
//! - on every instance sharing the cache, within `REVOCATION_CHECK` (a shared counter that
//!   revocations bump; an instance that sees it move forgets every session it remembers);
//! - in any case, within `SESSION_MEMO_TTL`, after which the database is asked again.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::cache::Cache;

/// How long a session found valid is believed without asking the database.
pub const SESSION_MEMO_TTL: Duration = Duration::from_secs(2);
/// How often an instance looks at the shared revocation counter.
pub const REVOCATION_CHECK: Duration = Duration::from_millis(250);
/// The shared counter revocations bump.
const REVOCATIONS: &str = "sessions:revoked";
/// Sessions remembered at most; past this the memo starts again empty.
const MAX_SESSIONS: usize = 100_000;

/// A session's last use is written at most this often (see `accounts::authenticate`); a
/// remembered session older than this on the app's clock is checked with the database again.
pub const TOUCH_INTERVAL: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// A remembered session: its learner, until when it is believed, and its last use as stored.
#[derive(Clone, Copy)]
struct Remembered {
    learner_id: i64,
    until: Instant,
    last_seen_at: DateTime<Utc>,
}

pub struct SessionMemo {
    by_token_hash: Mutex<HashMap<String, Remembered>>,
    /// Moves on every forgetting, so a lookup that raced a revocation does not remember.
    epoch: AtomicU64,
    /// The revocation counter last seen, and when it was last read.
    revocations: Mutex<(Option<i64>, Option<Instant>)>,
}

impl Default for SessionMemo {
    fn default() -> SessionMemo {
        SessionMemo {
            by_token_hash: Mutex::new(HashMap::new()),
            epoch: AtomicU64::new(0),
            revocations: Mutex::new((None, None)),
        }
    }
}

impl SessionMemo {
    /// The learner of a session remembered as valid, if any, at `now` on the app's clock (a
    /// session due for its last-use update is not answered here). Reads the shared
    /// revocation counter at most once per `REVOCATION_CHECK`.
    pub async fn learner(
        &self,
        cache: &Cache,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Option<i64> {
        self.follow_revocations(cache).await;
        let mut sessions = self.by_token_hash.lock().expect("session memo lock");
        match sessions.get(token_hash) {
            Some(found)
                if found.until > Instant::now() && now - found.last_seen_at <= TOUCH_INTERVAL =>
            {
                Some(found.learner_id)
            }
            Some(_) => {
                sessions.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// Where forgetting stands now; pass it to `remember` after asking the database.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Remembers a session the database just found valid, unless something was forgotten
    /// since `epoch` (the session may be the one revoked).
    pub fn remember(
        &self,
        token_hash: String,
        learner_id: i64,
        last_seen_at: DateTime<Utc>,
        epoch: u64,
    ) {
        let mut sessions = self.by_token_hash.lock().expect("session memo lock");
        if self.epoch.load(Ordering::SeqCst) != epoch {
            return;
        }
        if sessions.len() >= MAX_SESSIONS {
            sessions.clear();
        }
        sessions.insert(
            token_hash,
            Remembered {
                learner_id,
                until: Instant::now() + SESSION_MEMO_TTL,
                last_seen_at,
            },
        );
    }

    /// Forgets one session here and tells the other instances.
    pub async fn forget_token(&self, cache: &Cache, token_hash: &str) {
        {
            let mut sessions = self.by_token_hash.lock().expect("session memo lock");
            self.epoch.fetch_add(1, Ordering::SeqCst);
            sessions.remove(token_hash);
        }
        cache.bump_shared_counter(REVOCATIONS).await;
    }

    /// Forgets every session of a learner here and tells the other instances.
    pub async fn forget_learner(&self, cache: &Cache, learner_id: i64) {
        {
            let mut sessions = self.by_token_hash.lock().expect("session memo lock");
            self.epoch.fetch_add(1, Ordering::SeqCst);
            sessions.retain(|_, s| s.learner_id != learner_id);
        }
        cache.bump_shared_counter(REVOCATIONS).await;
    }

    fn forget_all(&self) {
        let mut sessions = self.by_token_hash.lock().expect("session memo lock");
        self.epoch.fetch_add(1, Ordering::SeqCst);
        sessions.clear();
    }

    async fn follow_revocations(&self, cache: &Cache) {
        {
            let mut seen = self.revocations.lock().expect("session memo lock");
            if seen.1.is_some_and(|at| at.elapsed() < REVOCATION_CHECK) {
                return;
            }
            // Claim this check so concurrent requests do not all ask.
            seen.1 = Some(Instant::now());
        }
        let now_seen = cache.shared_counter(REVOCATIONS).await;
        let mut seen = self.revocations.lock().expect("session memo lock");
        if now_seen.is_none() || now_seen != seen.0 {
            // Moved, or unknown (the cache is down): believe nothing remembered.
            seen.0 = now_seen;
            drop(seen);
            self.forget_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::InProcessStore;
    use std::sync::Arc;

    #[tokio::test]
    async fn a_revocation_elsewhere_forgets_everything_remembered() {
        let store = Arc::new(InProcessStore::default());
        let here = Cache::new(store.clone(), "t:");
        let elsewhere = Cache::new(store, "t:");
        let memo = SessionMemo::default();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        assert_eq!(memo.learner(&here, "h", now).await, None);
        memo.remember("h".into(), 7, now, memo.epoch());
        assert_eq!(memo.learner(&here, "h", now).await, Some(7));
        SessionMemo::default().forget_learner(&elsewhere, 7).await;
        memo.revocations.lock().unwrap().1 = None;
        assert_eq!(memo.learner(&here, "h", now).await, None);
    }

    #[tokio::test]
    async fn a_lookup_that_raced_a_revocation_is_not_remembered() {
        let cache = Cache::new(Arc::new(InProcessStore::default()), "t:");
        let memo = SessionMemo::default();
        let now = DateTime::<Utc>::UNIX_EPOCH;
        let epoch = memo.epoch();
        memo.forget_learner(&cache, 7).await;
        memo.remember("h".into(), 7, now, epoch);
        assert_eq!(memo.learner(&cache, "h", now).await, None);
    }
}
