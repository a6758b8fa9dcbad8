//! What editors see of a release's push: messages queued, sent and failed, and how many of the
//! learners messaged opened the lesson within 7 days of their message. The four are shown together,
//! so they are suppressed as one set (DESIGN.md rule 4): no figure under 5 is shown, and none can
//! be worked out from the others (6 sent and 5 opened would reveal the 1 who did not open).

use chrono::Duration;
use sea_orm::{ConnectionTrait, Statement};

use crate::domain::suppress::{Figures, Shown};
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

/// The release's counts, suppressed as a whole: opened is part of sent, and sent, queued and
/// failed make up every message of the release.
fn suppress(queued: u64, sent: u64, failed: u64, opened: u64) -> ReleaseFigures {
    let mut set = Figures::new();
    let all = set.unshown(queued + sent + failed);
    let [queued, sent, failed] = [queued, sent, failed].map(|n| set.figure(n));
    let opened = set.figure(opened);
    set.sum(all, &[queued, sent, failed]);
    set.within(sent, opened);
    let solved = set.solve();
    ReleaseFigures {
        queued: solved.get(queued),
        sent: solved.get(sent),
        failed: solved.get(failed),
        opened_within_7_days: solved.get(opened),
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
    let get = |name: &str| -> u64 {
        row.as_ref()
            .and_then(|r| r.try_get::<i64>("", name).ok())
            .unwrap_or(0)
            .max(0) as u64
    };
    Ok(suppress(
        get("queued"),
        get("sent"),
        get("failed"),
        get("opened"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::suppress::MIN_GROUP;

    /// Every combination up to 12 of each: nothing shown is under 5, and no group of 1 to 4
    /// (those who did not open, or a hidden figure) follows from the shown ones.
    #[test]
    fn no_small_group_can_be_worked_out_from_the_shown_figures() {
        for queued in 0..12 {
            for sent in 0..12 {
                for failed in 0..12 {
                    for opened in 0..=sent {
                        let shown = suppress(queued, sent, failed, opened);
                        let all = [
                            shown.queued,
                            shown.sent,
                            shown.failed,
                            shown.opened_within_7_days,
                        ];
                        assert!(all.iter().all(|f| f.value().is_none_or(|n| n >= MIN_GROUP)));
                        if let (Some(s), Some(o)) =
                            (shown.sent.value(), shown.opened_within_7_days.value())
                        {
                            assert!(s == o || s - o >= MIN_GROUP, "{s} sent, {o} opened");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn six_sent_five_opened_hides_the_five() {
        let shown = suppress(0, 6, 1, 5);
        assert_eq!(shown.sent, Shown::Count(6));
        assert_eq!(shown.opened_within_7_days, Shown::Hidden);
        assert_eq!(shown.failed, Shown::Hidden);
        let shown = suppress(0, 10, 0, 5);
        assert_eq!(shown.opened_within_7_days, Shown::Count(5));
    }
}
