//! Learners inactive for a long time are told, then deleted. The periodic job
//! (`retention.inactive`) gives every learner with no activity for
//! `HOMEWARD_RETAIN_INACTIVE_DAYS` one notice, deletes those whose notice is older than
//! `HOMEWARD_INACTIVE_GRACE_DAYS` and who did not come back (as `homeward learner delete` does,
//! audited), and drops the notice of anyone who came back. The worker sends the notices through
//! the push's channel (WeChat, to a bound follower), within the shared rate, outside quiet hours,
//! within the weekly limit and never to a learner who stopped messages.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, QueryResult, Statement, Value};
use serde_json::{Map, json};

use super::Context;
use super::accounts;
use super::push::{MessageChannel, MessageKind, OutgoingMessage, SendOutcome, quota};
use super::staff::audit;
use crate::domain::Lang;
use crate::domain::push::{Shift, next_slot, weekly_room};

/// The job kind of the periodic check.
pub const JOB_KIND: &str = "retention.inactive";

/// Tries of a notice WeChat refuses for now (45009, 5xx) before it is given up.
const MAX_TRIES: i32 = 5;
/// Notices looked at per worker tick.
const BATCH: u32 = 50;

async fn exec(ctx: &Context, sql: &str, values: Vec<Value>) -> anyhow::Result<u64> {
    Ok(ctx
        .db
        .execute_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            sql,
            values,
        ))
        .await?
        .rows_affected())
}

async fn query(ctx: &Context, sql: &str, values: Vec<Value>) -> anyhow::Result<Vec<QueryResult>> {
    Ok(ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            sql,
            values,
        ))
        .await?)
}

/// SQL: the learner `learner` did something after `since` — a visit (a session seen, or their
/// last visit kept on the learner), lesson progress, a quiz attempt or a change to their profile.
fn active_after(learner: &str, since: &str) -> String {
    format!(
        "(EXISTS (SELECT 1 FROM learner_session s WHERE s.learner_id = {learner} AND s.last_seen_at > {since}) \
         OR EXISTS (SELECT 1 FROM lesson_progress p WHERE p.learner_id = {learner} AND p.updated_at > {since}) \
         OR EXISTS (SELECT 1 FROM quiz_attempt q WHERE q.learner_id = {learner} AND q.created_at > {since}) \
         OR EXISTS (SELECT 1 FROM learner a WHERE a.id = {learner} \
                    AND (a.updated_at > {since} OR a.last_active_at > {since})))"
    )
}

/// What one run did, by what.
pub type InactiveCounts = Map<String, serde_json::Value>;

/// Tells the learners inactive for the period, deletes those told longer ago than the grace
/// period who did not come back, and forgets the notices of those who did; audits the counts
/// (even when all are 0). Nothing when `HOMEWARD_RETAIN_INACTIVE_DAYS` is 0. Idempotent.
pub async fn run(ctx: &Context) -> anyhow::Result<InactiveCounts> {
    let mut counts = InactiveCounts::new();
    let days = ctx.settings.retain_inactive_days;
    if days == 0 {
        return Ok(counts);
    }
    let now = ctx.clock.now();
    let came_back = exec(
        ctx,
        &format!(
            "DELETE FROM inactivity_notice WHERE {}",
            active_after(
                "inactivity_notice.learner_id",
                "inactivity_notice.created_at"
            )
        ),
        vec![],
    )
    .await?;

    let due = query(
        ctx,
        &format!(
            "SELECT n.learner_id AS learner_id FROM inactivity_notice n \
             WHERE n.delete_after <= $1 AND NOT {} ORDER BY n.learner_id",
            active_after("n.learner_id", "n.created_at")
        ),
        vec![now.into()],
    )
    .await?;
    let mut deleted = 0u64;
    for row in &due {
        let learner_id: i64 = row.try_get("", "learner_id")?;
        if accounts::delete(&ctx.db, learner_id).await? {
            audit(
                &ctx.db,
                None,
                "retention",
                "delete_learner",
                &format!("learner:{learner_id}"),
                None,
                Some(json!({ "reason": "inactive" })),
                now,
            )
            .await?;
            deleted += 1;
        }
    }

    let cutoff = now - Duration::days(i64::from(days));
    let grace = Duration::days(i64::from(ctx.settings.inactive_grace_days));
    let told = exec(
        ctx,
        &format!(
            "INSERT INTO inactivity_notice (learner_id, state, send_at, delete_after, created_at, updated_at) \
             SELECT l.id, 'queued', $1, $2, $1, $1 FROM learner l \
             WHERE l.created_at < $3 AND NOT {} \
               AND NOT EXISTS (SELECT 1 FROM inactivity_notice n WHERE n.learner_id = l.id) \
             ON CONFLICT (learner_id) DO NOTHING",
            active_after("l.id", "$3")
        ),
        vec![now.into(), (now + grace).into(), cutoff.into()],
    )
    .await?;

    counts.insert("inactive_told".into(), json!(told));
    counts.insert("inactive_deleted".into(), json!(deleted));
    counts.insert("inactive_came_back".into(), json!(came_back));
    audit(
        &ctx.db,
        None,
        "retention",
        "inactive_learners",
        "retention",
        None,
        Some(serde_json::Value::Object(counts.clone())),
        now,
    )
    .await?;
    tracing::info!(counts = %serde_json::Value::Object(counts.clone()), "inactive learners");
    Ok(counts)
}

/// A notice that is due, as delivery sees it.
struct DueNotice {
    id: i64,
    learner_id: i64,
    attempts: i32,
    delete_after: DateTime<Utc>,
    lang: Lang,
    shift: Shift,
    muted: bool,
}

fn due_notice(row: &QueryResult) -> Option<DueNotice> {
    let lang: String = row.try_get("", "lang").ok()?;
    let shift: Option<String> = row.try_get("", "shift").ok()?;
    let muted: Option<DateTime<Utc>> = row.try_get("", "muted_at").ok()?;
    Some(DueNotice {
        id: row.try_get("", "id").ok()?,
        learner_id: row.try_get("", "learner_id").ok()?,
        attempts: row.try_get("", "attempts").ok()?,
        delete_after: row.try_get("", "delete_after").ok()?,
        lang: Lang::parse(&lang).unwrap_or_default(),
        shift: shift.as_deref().and_then(Shift::parse).unwrap_or_default(),
        muted: muted.is_some(),
    })
}

/// The notice in the learner's language: WeChat's template takes 20 characters a field.
fn message(ctx: &Context, notice: &DueNotice, now: DateTime<Utc>) -> OutgoingMessage {
    let days = (notice.delete_after - now).num_days().max(1);
    let (title, detail) = match notice.lang {
        Lang::Zh => (
            "您很久没来学习了".to_owned(),
            format!("{days}天后将删除您的数据"),
        ),
        Lang::En => (
            "We have not seen you".to_owned(),
            format!("Deleting in {days} days"),
        ),
    };
    OutgoingMessage {
        id: notice.id,
        learner_id: notice.learner_id,
        kind: MessageKind::Notice,
        lang: notice.lang,
        series_title: detail,
        lesson_title: title,
        url: format!("{}/me", ctx.settings.public_url()),
        released_at: now,
        for_ages: None,
    }
}

/// Moves a queued notice to `send_at` (quiet hours, the weekly limit, a refusal for now).
async fn postpone(ctx: &Context, id: i64, send_at: DateTime<Utc>, why: &str) -> anyhow::Result<()> {
    exec(
        ctx,
        "UPDATE inactivity_notice SET send_at = $1, last_error = $2, updated_at = $3 WHERE id = $4",
        vec![
            send_at.into(),
            why.into(),
            ctx.clock.now().into(),
            id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Ends a notice held for sending in `state`.
async fn settle(ctx: &Context, id: i64, state: &str, why: Option<&str>) -> anyhow::Result<()> {
    let now = ctx.clock.now();
    exec(
        ctx,
        "UPDATE inactivity_notice SET state = $1, last_error = $2, updated_at = $3, \
         sent_at = CASE WHEN $1 = 'sent' THEN $3 ELSE sent_at END WHERE id = $4",
        vec![
            state.into(),
            why.map(str::to_owned).into(),
            now.into(),
            id.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Sends the notices that are due through `channel`; returns how many were sent. Each is
/// claimed (queued → sending) before it is sent, so several workers never send one twice; a
/// worker that stops while sending leaves it `sending`, never sent again.
pub async fn deliver_due(ctx: &Context, channel: &dyn MessageChannel) -> anyhow::Result<u32> {
    let now = ctx.clock.now();
    let rows = query(
        ctx,
        &format!(
            "SELECT n.id AS id, n.learner_id AS learner_id, n.attempts AS attempts, \
                    n.delete_after AS delete_after, l.lang AS lang, p.shift AS shift, p.muted_at AS muted_at \
             FROM inactivity_notice n JOIN learner l ON l.id = n.learner_id \
             LEFT JOIN push_preference p ON p.learner_id = n.learner_id \
             WHERE n.state = 'queued' AND n.send_at <= $1 ORDER BY n.send_at, n.id LIMIT {BATCH}"
        ),
        vec![now.into()],
    )
    .await?;
    let timezone = chrono_tz::Asia::Shanghai;
    let mut sent = 0;
    for notice in rows.iter().filter_map(due_notice) {
        if notice.muted {
            exec(
                ctx,
                "UPDATE inactivity_notice SET state = 'muted', updated_at = $1 WHERE id = $2 AND state = 'queued'",
                vec![now.into(), notice.id.into()],
            )
            .await?;
            continue;
        }
        if !notice.shift.allows(now.with_timezone(&timezone).time()) {
            let slot = next_slot(now, timezone, notice.shift, None);
            postpone(ctx, notice.id, slot, "quiet hours").await?;
            continue;
        }
        let history: Vec<DateTime<Utc>> = query(
            ctx,
            "SELECT sent_at FROM push_message WHERE learner_id = $1 AND state = 'sent' AND sent_at > $2",
            vec![notice.learner_id.into(), (now - Duration::days(7)).into()],
        )
        .await?
        .iter()
        .filter_map(|row| row.try_get("", "sent_at").ok())
        .collect();
        if let Err(room_at) = weekly_room(&history, now) {
            let slot = next_slot(room_at, timezone, notice.shift, None);
            postpone(ctx, notice.id, slot, "weekly limit").await?;
            continue;
        }
        if quota::take(ctx, 1, now).await? == 0 {
            break;
        }
        let claimed = exec(
            ctx,
            "UPDATE inactivity_notice SET state = 'sending', attempts = attempts + 1, updated_at = $1 \
             WHERE id = $2 AND state = 'queued'",
            vec![now.into(), notice.id.into()],
        )
        .await?;
        if claimed != 1 {
            quota::give_back(ctx, 1, now).await?;
            continue;
        }
        match channel.send(ctx, &message(ctx, &notice, now)).await {
            SendOutcome::Sent => {
                settle(ctx, notice.id, "sent", None).await?;
                sent += 1;
            }
            SendOutcome::NotFollowing => {
                settle(ctx, notice.id, "unreachable", Some("43004: not following")).await?;
            }
            SendOutcome::RateLimited | SendOutcome::Unavailable(_)
                if notice.attempts + 1 < MAX_TRIES =>
            {
                exec(
                    ctx,
                    "UPDATE inactivity_notice SET state = 'queued', send_at = $1, updated_at = $2 \
                     WHERE id = $3 AND state = 'sending'",
                    vec![
                        (now + Duration::minutes(1i64 << notice.attempts.clamp(0, 6))).into(),
                        now.into(),
                        notice.id.into(),
                    ],
                )
                .await?;
            }
            SendOutcome::RateLimited => settle(ctx, notice.id, "failed", Some("45009")).await?,
            SendOutcome::Unavailable(why)
            | SendOutcome::Uncertain(why)
            | SendOutcome::Rejected(why) => settle(ctx, notice.id, "failed", Some(&why)).await?,
        }
    }
    Ok(sent)
}
