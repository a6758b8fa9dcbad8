//! What a database failure means for the caller: the database being unreachable, restarting or
//! out of time (unavailable: try again later), a transaction that lost a race with another
//! (deadlock or serialization failure: run it again), or anything else (a bug). Also the bounded
//! retry of such transactions.

use std::future::Future;
use std::time::Duration;

use sea_orm::sqlx;
use sea_orm::{DbErr, RuntimeErr};

/// The kind of a database failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The database cannot serve now: the connection was refused, reset or closed by the
    /// server (restart, shutdown, crash), no connection came free in time, or a statement ran
    /// out of its time. The request may succeed later.
    Unavailable,
    /// The transaction lost a race (deadlock detected, serialization failure); running it again
    /// will do.
    Retry,
    /// Anything else.
    Other,
}

/// SQLSTATE codes (PostgreSQL) meaning the server cannot serve now.
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") // connection exception
        || code.starts_with("57P") // admin/crash shutdown, cannot connect now
        || code == "53300" // too many connections
        || code == "57014" // query canceled: statement_timeout
        || code == "55P03" // lock not available: lock_timeout
}

fn classify_sqlx(error: &sqlx::Error) -> Fault {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Fault::Unavailable,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            if code == "40P01" || code == "40001" {
                Fault::Retry
            } else if unavailable_code(&code) {
                Fault::Unavailable
            } else if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                && code.parse::<u32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6))
            {
                // SQLITE_BUSY / SQLITE_LOCKED: another writer held on past the busy timeout.
                Fault::Unavailable
            } else {
                Fault::Other
            }
        }
        _ => Fault::Other,
    }
}

/// The kind of a sea-orm error.
pub fn classify_db(error: &DbErr) -> Fault {
    match error {
        DbErr::ConnectionAcquire(_) => Fault::Unavailable,
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e)) => classify_sqlx(e),
        DbErr::Conn(_) => Fault::Unavailable,
        _ => Fault::Other,
    }
}

/// The kind of an error from a store or service call: the first database error in its chain
/// decides.
pub fn classify(error: &anyhow::Error) -> Fault {
    for cause in error.chain() {
        if let Some(db) = cause.downcast_ref::<DbErr>() {
            return classify_db(db);
        }
        if let Some(sqlx) = cause.downcast_ref::<sqlx::Error>() {
            return classify_sqlx(sqlx);
        }
        if cause
            .downcast_ref::<tokio::time::error::Elapsed>()
            .is_some()
        {
            return Fault::Unavailable;
        }
    }
    Fault::Other
}

/// An error and its causes on one line, each text once: database errors repeat their cause in
/// their own message ("Execution Error: deadlock detected: deadlock detected"), so a cause whose
/// text the line already holds is left out. A pool timeout says what it may mean.
pub fn describe(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        // A pool timeout's own sources only restate it ("Connection pool timed out"), which
        // would blame the pool when the server may be refusing connections: stop there.
        let acquire = matches!(
            cause.downcast_ref::<DbErr>(),
            Some(DbErr::ConnectionAcquire(_))
        );
        let text = if acquire {
            "no database connection in time (every pooled connection busy, or the server not accepting connections; /readyz tells which)".to_owned()
        } else {
            cause.to_string()
        };
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
        if acquire {
            break;
        }
    }
    line
}

/// How many times a transaction that lost a race is run in all.
pub const MAX_ATTEMPTS: u32 = 4;

/// Runs `attempt` (a whole transaction) again when it failed with a deadlock or serialization
/// failure, up to `MAX_ATTEMPTS` times in all, with a short growing pause between attempts.
/// Any other outcome is returned as it is.
pub async fn retry_transaction<T, F, Fut>(mut attempt: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(error) if tries < MAX_ATTEMPTS && classify(&error) == Fault::Retry => {
                tracing::info!(
                    attempt = tries,
                    error = describe(&error),
                    "transaction lost a race; running it again"
                );
                tokio::time::sleep(Duration::from_millis(10 << tries)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_repeated_in_its_message_is_told_once() {
        let runtime = RuntimeErr::Internal("deadlock detected at line 1147".into());
        let error = anyhow::Error::new(DbErr::Exec(runtime)).context("recording progress");
        assert_eq!(
            describe(&error),
            "recording progress: Execution Error: deadlock detected at line 1147"
        );
    }

    #[test]
    fn a_pool_timeout_does_not_claim_the_pool_is_the_cause() {
        let error = anyhow::Error::new(DbErr::ConnectionAcquire(
            sea_orm::error::ConnAcquireErr::Timeout,
        ));
        assert_eq!(classify(&error), Fault::Unavailable);
        assert!(
            !describe(&error).contains("pool timed out"),
            "{}",
            describe(&error)
        );
    }
}
