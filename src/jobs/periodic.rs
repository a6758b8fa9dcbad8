//! Periodic work (the release scan, reminders, retention), scheduled so that two instances never
//! both do it: each period of each kind is one job row with a unique key, so whichever instance
//! enqueues it first wins and the others' inserts do nothing.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::{JobError, Registry};
use crate::services::jobs::{self, NewJob};
use crate::services::{Context, inactivity, push, retention};

/// Work that comes back every `every`.
#[derive(Clone, Copy, Debug)]
pub struct Periodic {
    pub kind: &'static str,
    pub every: Duration,
}

/// Every periodic kind, and how often it runs.
pub const PERIODIC: &[Periodic] = &[
    Periodic {
        kind: push::PACE_JOB,
        every: Duration::hours(1),
    },
    Periodic {
        kind: push::REMIND_JOB,
        every: Duration::hours(1),
    },
    Periodic {
        kind: retention::JOB_KIND,
        every: Duration::hours(6),
    },
    Periodic {
        kind: inactivity::JOB_KIND,
        every: Duration::hours(6),
    },
];

/// The start of the period `now` falls in (periods are counted from the Unix epoch).
pub fn period_start(now: DateTime<Utc>, every: Duration) -> DateTime<Utc> {
    let step = every.num_seconds().max(1);
    let start = now.timestamp().div_euclid(step) * step;
    DateTime::from_timestamp(start, 0).unwrap_or(now)
}

/// Enqueues this period's job of every periodic kind, once across all instances; returns how
/// many this call added.
pub async fn schedule(ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<u32> {
    let mut added = 0;
    for periodic in PERIODIC {
        let start = period_start(now, periodic.every);
        let key = format!("periodic:{}:{}", periodic.kind, start.timestamp());
        let job = NewJob::new(periodic.kind, json!({ "period_start": start }), now)
            .unique(key)
            .at(start);
        if jobs::enqueue(&ctx.db, job, now).await?.is_some() {
            added += 1;
        }
    }
    Ok(added)
}

pub(super) fn register(registry: &mut Registry) {
    registry.register(push::RELEASE_JOB, |ctx: Context, payload| async move {
        let lesson = payload["lesson_id"]
            .as_i64()
            .ok_or_else(|| JobError::Permanent(anyhow::anyhow!("no lesson_id in {payload}")))?;
        push::plan::release(&ctx, lesson)
            .await
            .map_err(JobError::Retry)?;
        Ok(())
    });
    registry.register(push::PACE_JOB, |ctx: Context, _payload| async move {
        push::plan::pace(&ctx).await.map_err(JobError::Retry)?;
        Ok(())
    });
    registry.register(push::REMIND_JOB, |ctx: Context, _payload| async move {
        push::plan::remind(&ctx).await.map_err(JobError::Retry)?;
        Ok(())
    });
    registry.register(retention::JOB_KIND, |ctx: Context, _payload| async move {
        retention::purge(&ctx).await.map_err(JobError::Retry)?;
        Ok(())
    });
    registry.register(inactivity::JOB_KIND, |ctx: Context, _payload| async move {
        inactivity::run(&ctx).await.map_err(JobError::Retry)?;
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_on_their_boundary() {
        let now: DateTime<Utc> = "2030-01-07T10:17:05Z".parse().unwrap();
        assert_eq!(
            period_start(now, Duration::hours(6)),
            "2030-01-07T06:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            period_start(now, Duration::minutes(1)),
            "2030-01-07T10:17:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
