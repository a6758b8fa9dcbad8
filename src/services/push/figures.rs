//! What editors see of a release's push: messages queued, sent and failed, and how many of the
//! learners messaged opened the lesson within 7 days of their message. Each figure about fewer
//! than 5 learners is hidden.

use chrono::Duration;
use sea_orm::{ConnectionTrait, Statement};

use crate::domain::suppress::{MIN_GROUP, Shown};
use crate::services::Context;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseFigures {
    /// Planned and not yet sent (waiting for the learner's slot, or being sent).
    pub queued: Shown,
    pub sent: Shown,
    pub failed: Shown,
    /// Learners messaged who opened the lesson within 7 days of the message.
    pub opened_within_7_days: Shown,
}

fn shown(n: i64) -> Shown {
    let n = n.max(0) as u64;
    if n < MIN_GROUP {
        Shown::Hidden
    } else {
        Shown::Count(n)
    }
}

/// The push figures of one lesson's release messages.
pub async fn release_figures(ctx: &Context, lesson_id: i64) -> anyhow::Result<ReleaseFigures> {
    let backend = ctx.db.get_database_backend();
    let week = match backend {
        sea_orm::DbBackend::Postgres => "m.sent_at + INTERVAL '7 days'".to_owned(),
        _ => format!(
            "strftime('%Y-%m-%dT%H:%M:%S', m.sent_at, '+{} seconds')",
            Duration::days(7).num_seconds()
        ),
    };
    let opened_in_time = match backend {
        sea_orm::DbBackend::Postgres => format!("o.first_opened_at <= {week}"),
        _ => format!("strftime('%Y-%m-%dT%H:%M:%S', o.first_opened_at) <= {week}"),
    };
    let row = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT \
                   COALESCE(SUM(CASE WHEN m.state IN ('queued', 'sending') THEN 1 ELSE 0 END), 0) AS queued, \
                   COALESCE(SUM(CASE WHEN m.state = 'sent' THEN 1 ELSE 0 END), 0) AS sent, \
                   COALESCE(SUM(CASE WHEN m.state = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
                   COALESCE(SUM(CASE WHEN m.state = 'sent' AND o.first_opened_at IS NOT NULL \
                                     AND {opened_in_time} THEN 1 ELSE 0 END), 0) AS opened \
                 FROM push_message m LEFT JOIN lesson_progress o \
                   ON o.learner_id = m.learner_id AND o.lesson_id = m.lesson_id \
                 WHERE m.lesson_id = $1 AND m.kind = 'release'"
            ),
            [lesson_id.into()],
        ))
        .await?;
    let get = |name: &str| -> i64 {
        row.as_ref()
            .and_then(|r| r.try_get::<i64>("", name).ok())
            .unwrap_or(0)
    };
    Ok(ReleaseFigures {
        queued: shown(get("queued")),
        sent: shown(get("sent")),
        failed: shown(get("failed")),
        opened_within_7_days: shown(get("opened")),
    })
}
