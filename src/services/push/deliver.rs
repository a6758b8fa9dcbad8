//! Delivering planned messages: claim due rows (SKIP LOCKED on PostgreSQL, so instances share
//! the work without overlap), check each again (still released, not muted, not over the weekly
//! limit, not in quiet hours now), send within the shared rate, and record the outcome. A row
//! is marked `sending` before the channel is called and is never sent again from there: a
//! worker that dies mid-send leaves a row whose outcome is unknown, which is failed, not
//! retried — a learner may miss a message, but never gets one twice.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use futures::StreamExt;
use sea_orm::{ConnectionTrait, DbBackend, QueryResult, Statement, Value};

use super::channel::{MessageChannel, MessageKind, OutgoingMessage, SendOutcome};
use super::quota;
use crate::domain::push::{Shift, next_slot, weekly_room};
use crate::domain::schedule::is_visible;
use crate::domain::{Lang, LessonStatus, ages};
use crate::services::Context;
use crate::services::jobs::backoff;

/// How long a worker holds the rows it is sending.
pub const LEASE: Duration = Duration::minutes(2);
/// Tries of a message WeChat refused for a passing reason (45009, 5xx) before it is failed.
pub const MAX_TRIES: i32 = 5;
/// Rows claimed per round, and sends in flight at once.
const BATCH: u32 = 100;
const IN_FLIGHT: usize = 32;

/// What one `deliver_due` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    pub sent: u32,
    pub failed: u32,
    /// Put back for later: quiet hours now, the weekly limit, WeChat busy.
    pub postponed: u32,
    pub cancelled: u32,
    /// Rows of a worker that stopped mid-send, failed as of unknown outcome.
    pub abandoned: u64,
    /// Stopped because this second's allowance was spent (or WeChat said 45009): more may be due.
    pub throttled: bool,
}

fn statement(backend: DbBackend, sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(backend, sql, values)
}

async fn exec(ctx: &Context, sql: &str, values: Vec<Value>) -> anyhow::Result<u64> {
    Ok(ctx
        .db
        .execute_raw(statement(ctx.db.get_database_backend(), sql, values))
        .await?
        .rows_affected())
}

async fn query(ctx: &Context, sql: &str, values: Vec<Value>) -> anyhow::Result<Vec<QueryResult>> {
    Ok(ctx
        .db
        .query_all_raw(statement(ctx.db.get_database_backend(), sql, values))
        .await?)
}

/// A claimed row with everything needed to decide and to send.
struct Due {
    id: i64,
    learner_id: i64,
    kind: MessageKind,
    attempts: i32,
    lang: Lang,
    muted: bool,
    shift: Shift,
    preferred: Option<NaiveTime>,
    status: Option<LessonStatus>,
    release_at: DateTime<Utc>,
    opened: bool,
    series_slug: String,
    lesson_slug: String,
    series_title: (String, String),
    lesson_title: (String, String),
    timezone: Tz,
    /// The age bands the lesson is for.
    lesson_bands: Vec<String>,
    /// The learner's children's age bands: empty without the children's consent.
    children: Vec<String>,
}

impl Due {
    /// A lesson for the learner's children's ages (never without the children's consent).
    fn for_children(&self) -> bool {
        ages::suits(&self.lesson_bands, &self.children)
    }
}

fn due(row: &QueryResult) -> Option<Due> {
    let kind: String = row.try_get("", "kind").ok()?;
    let lang: String = row.try_get("", "lang").ok()?;
    let shift: Option<String> = row.try_get("", "shift").ok()?;
    let preferred: Option<String> = row.try_get("", "preferred_time").ok()?;
    let muted: Option<DateTime<Utc>> = row.try_get("", "muted_at").ok()?;
    let status: String = row.try_get("", "status").ok()?;
    let opened: Option<DateTime<Utc>> = row.try_get("", "first_opened_at").ok()?;
    let timezone: String = row.try_get("", "timezone").ok()?;
    let lesson_bands: String = row.try_get("", "age_bands").ok()?;
    let children: Option<String> = row.try_get("", "child_age_bands").ok()?;
    Some(Due {
        id: row.try_get("", "id").ok()?,
        learner_id: row.try_get("", "learner_id").ok()?,
        kind: MessageKind::parse(&kind)?,
        attempts: row.try_get("", "attempts").ok()?,
        lang: if lang == "en" { Lang::En } else { Lang::Zh },
        muted: muted.is_some(),
        shift: shift.as_deref().and_then(Shift::parse).unwrap_or_default(),
        preferred: preferred.and_then(|t| NaiveTime::parse_from_str(&t, "%H:%M").ok()),
        status: LessonStatus::parse(&status),
        release_at: row.try_get("", "release_at").ok()?,
        opened: opened.is_some(),
        series_slug: row.try_get("", "series_slug").ok()?,
        lesson_slug: row.try_get("", "lesson_slug").ok()?,
        series_title: (
            row.try_get("", "series_title_zh").ok()?,
            row.try_get("", "series_title_en").ok()?,
        ),
        lesson_title: (
            row.try_get("", "title_zh").ok()?,
            row.try_get("", "title_en").ok()?,
        ),
        timezone: timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
        lesson_bands: ages::split_bands(&lesson_bands),
        children: children
            .as_deref()
            .map(ages::split_bands)
            .unwrap_or_default(),
    })
}

/// Claims up to `limit` due rows for `worker`; returns their ids.
async fn claim(
    ctx: &Context,
    worker: &str,
    limit: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<i64>> {
    let lock = match ctx.db.get_database_backend() {
        DbBackend::Postgres => "FOR UPDATE SKIP LOCKED",
        _ => "",
    };
    let rows = query(
        ctx,
        &format!(
            "UPDATE push_message SET state = 'sending', attempts = attempts + 1, locked_by = $1, \
             locked_until = $2, updated_at = $3 \
             WHERE id IN (SELECT id FROM push_message WHERE state = 'queued' AND send_at <= $3 \
                          ORDER BY send_at, id LIMIT {limit} {lock}) AND state = 'queued' \
             RETURNING id"
        ),
        vec![worker.into(), (now + LEASE).into(), now.into()],
    )
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get("", "id").ok())
        .collect())
}

async fn load(ctx: &Context, ids: &[i64]) -> anyhow::Result<Vec<Due>> {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let rows = query(
        ctx,
        &format!(
            "SELECT m.id AS id, m.learner_id AS learner_id, m.kind AS kind, m.attempts AS attempts, \
                    l.lang AS lang, p.shift AS shift, p.preferred_time AS preferred_time, p.muted_at AS muted_at, \
                    x.status AS status, x.release_at AS release_at, x.slug AS lesson_slug, \
                    x.title_zh AS title_zh, x.title_en AS title_en, s.slug AS series_slug, \
                    s.title_zh AS series_title_zh, s.title_en AS series_title_en, s.timezone AS timezone, \
                    o.first_opened_at AS first_opened_at, x.age_bands AS age_bands, \
                    CASE WHEN EXISTS (SELECT 1 FROM consent c WHERE c.learner_id = l.id AND c.kind = 'children') \
                         THEN l.child_age_bands END AS child_age_bands \
             FROM push_message m JOIN learner l ON l.id = m.learner_id \
             JOIN lesson x ON x.id = m.lesson_id JOIN series s ON s.id = x.series_id \
             LEFT JOIN push_preference p ON p.learner_id = m.learner_id \
             LEFT JOIN lesson_progress o ON o.learner_id = m.learner_id AND o.lesson_id = m.lesson_id \
             WHERE m.id IN ({list}) ORDER BY m.id"
        ),
        vec![],
    )
    .await?;
    Ok(rows.iter().filter_map(due).collect())
}

/// When each of these learners' messages of the last seven days went.
async fn recently_sent(
    ctx: &Context,
    learners: &[i64],
    now: DateTime<Utc>,
) -> anyhow::Result<HashMap<i64, Vec<DateTime<Utc>>>> {
    let list = learners
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let rows = query(
        ctx,
        &format!(
            "SELECT learner_id, sent_at FROM push_message WHERE learner_id IN ({list}) \
             AND state = 'sent' AND sent_at > $1"
        ),
        vec![(now - Duration::days(7)).into()],
    )
    .await?;
    let mut sent: HashMap<i64, Vec<DateTime<Utc>>> = HashMap::new();
    for row in rows {
        sent.entry(row.try_get("", "learner_id")?)
            .or_default()
            .push(row.try_get("", "sent_at")?);
    }
    Ok(sent)
}

/// What happens to one claimed row.
enum Decision {
    Send(OutgoingMessage),
    Cancel(&'static str),
    Postpone(DateTime<Utc>, &'static str),
}

fn decide(ctx: &Context, row: &Due, sent: &[DateTime<Utc>], now: DateTime<Utc>) -> Decision {
    let released = row
        .status
        .is_some_and(|status| is_visible(status, row.release_at, now));
    if !released {
        return Decision::Cancel("not released");
    }
    if row.muted {
        return Decision::Cancel("muted");
    }
    if row.kind == MessageKind::Reminder && row.opened {
        return Decision::Cancel("already opened");
    }
    if let Err(room_at) = weekly_room(sent, now) {
        return match row.kind {
            MessageKind::Reminder | MessageKind::Notice => Decision::Cancel("weekly limit"),
            MessageKind::Release => Decision::Postpone(
                next_slot(room_at, row.timezone, row.shift, row.preferred),
                "weekly limit",
            ),
        };
    }
    let local = now.with_timezone(&row.timezone).time();
    if !row.shift.allows(local) {
        return Decision::Postpone(
            next_slot(now, row.timezone, row.shift, row.preferred),
            "quiet hours",
        );
    }
    let pick = |(zh, en): &(String, String)| match row.lang {
        Lang::Zh => zh.clone(),
        Lang::En => en.clone(),
    };
    Decision::Send(OutgoingMessage {
        id: row.id,
        learner_id: row.learner_id,
        kind: row.kind,
        lang: row.lang,
        series_title: pick(&row.series_title),
        lesson_title: pick(&row.lesson_title),
        url: format!(
            "{}/s/{}/{}",
            ctx.settings.public_url(),
            row.series_slug,
            row.lesson_slug
        ),
        released_at: row.release_at,
        for_ages: row
            .for_children()
            .then(|| ages::label(&row.lesson_bands, row.lang))
            .flatten(),
    })
}

/// Ends a row held by `worker` in `state` (`failed` or `cancelled`), saying why.
async fn finish(
    ctx: &Context,
    id: i64,
    worker: &str,
    state: &str,
    why: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    exec(
        ctx,
        "UPDATE push_message SET state = $1, last_error = $2, locked_by = NULL, locked_until = NULL, \
         updated_at = $3 WHERE id = $4 AND locked_by = $5 AND state = 'sending'",
        vec![state.into(), why.into(), now.into(), id.into(), worker.into()],
    )
    .await?;
    Ok(())
}

/// Puts a row held by `worker` back in the queue for `send_at`. A postponement (quiet hours,
/// the weekly limit) does not count as a try; a refusal by WeChat does.
async fn requeue(
    ctx: &Context,
    id: i64,
    worker: &str,
    send_at: DateTime<Utc>,
    why: &str,
    counts_as_try: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    exec(
        ctx,
        "UPDATE push_message SET state = 'queued', send_at = $1, attempts = attempts - $2, \
         last_error = $3, locked_by = NULL, locked_until = NULL, updated_at = $4 \
         WHERE id = $5 AND locked_by = $6 AND state = 'sending'",
        vec![
            send_at.into(),
            i32::from(!counts_as_try).into(),
            why.into(),
            now.into(),
            id.into(),
            worker.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Rows left `sending` by a worker that stopped: their outcome is unknown, so they fail.
async fn abandon_expired(ctx: &Context, now: DateTime<Utc>) -> anyhow::Result<u64> {
    exec(
        ctx,
        "UPDATE push_message SET state = 'failed', locked_by = NULL, locked_until = NULL, updated_at = $1, \
         last_error = 'outcome unknown: the worker stopped while sending' \
         WHERE state = 'sending' AND locked_until < $1",
        vec![now.into()],
    )
    .await
}

/// Sends every message due on the clock, within the shared rate, until none is due or this
/// second's allowance is spent (then `throttled`). Several workers may run it at once.
pub async fn deliver_due(
    ctx: &Context,
    channel: &dyn MessageChannel,
    worker: &str,
) -> anyhow::Result<Delivery> {
    let mut report = Delivery {
        abandoned: abandon_expired(ctx, ctx.clock.now()).await?,
        ..Delivery::default()
    };
    loop {
        let now = ctx.clock.now();
        let granted = quota::take(ctx, BATCH, now).await?;
        if granted == 0 {
            report.throttled = true;
            return Ok(report);
        }
        let ids = claim(ctx, worker, granted, now).await?;
        quota::give_back(ctx, granted - ids.len() as u32, now).await?;
        if ids.is_empty() {
            return Ok(report);
        }
        let mut rows = load(ctx, &ids).await?;
        // When several lessons wait for one learner, those for their children's ages take the
        // week's room first (the weekly limit postpones the others); otherwise by row.
        rows.sort_by_key(|row| !row.for_children());
        let mut learners: Vec<i64> = rows.iter().map(|r| r.learner_id).collect();
        learners.sort_unstable();
        learners.dedup();
        let mut sent = recently_sent(ctx, &learners, now).await?;
        let mut sends = Vec::new();
        for row in &rows {
            let history = sent.entry(row.learner_id).or_default();
            match decide(ctx, row, history, now) {
                Decision::Send(message) => {
                    // Counts against the weekly limit of the rest of this batch.
                    history.push(now);
                    sends.push((row.attempts, message));
                }
                Decision::Cancel(why) => {
                    finish(ctx, row.id, worker, "cancelled", why, now).await?;
                    report.cancelled += 1;
                }
                Decision::Postpone(at, why) => {
                    requeue(ctx, row.id, worker, at, why, false, now).await?;
                    report.postponed += 1;
                }
            }
        }
        let outcomes: Vec<(i32, i64, SendOutcome)> = futures::stream::iter(sends)
            .map(|(attempts, message)| async move {
                (attempts, message.id, channel.send(ctx, &message).await)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let now = ctx.clock.now();
        let mut delivered = Vec::new();
        for (attempts, id, outcome) in outcomes {
            match outcome {
                SendOutcome::Sent => delivered.push(id),
                SendOutcome::RateLimited | SendOutcome::Unavailable(_) if attempts < MAX_TRIES => {
                    let why = match &outcome {
                        SendOutcome::RateLimited => "45009: WeChat's quota is used up".to_owned(),
                        SendOutcome::Unavailable(why) => why.clone(),
                        _ => String::new(),
                    };
                    report.throttled |= outcome == SendOutcome::RateLimited;
                    let at = now + backoff(attempts);
                    requeue(ctx, id, worker, at, &why, true, now).await?;
                    report.postponed += 1;
                }
                other => {
                    let why = match other {
                        SendOutcome::NotFollowing => "43004: not following".to_owned(),
                        SendOutcome::RateLimited => "45009: WeChat's quota is used up".to_owned(),
                        SendOutcome::Unavailable(why)
                        | SendOutcome::Uncertain(why)
                        | SendOutcome::Rejected(why) => why,
                        SendOutcome::Sent => unreachable!("handled above"),
                    };
                    finish(ctx, id, worker, "failed", &why, now).await?;
                    report.failed += 1;
                }
            }
        }
        if !delivered.is_empty() {
            let list = delivered
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            exec(
                ctx,
                &format!(
                    "UPDATE push_message SET state = 'sent', sent_at = $1, updated_at = $1, last_error = NULL, \
                     locked_by = NULL, locked_until = NULL \
                     WHERE id IN ({list}) AND locked_by = $2 AND state = 'sending'"
                ),
                vec![now.into(), worker.into()],
            )
            .await?;
            report.sent += delivered.len() as u32;
        }
        if report.throttled {
            return Ok(report);
        }
    }
}
