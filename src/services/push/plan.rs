//! Planning the push: which learner gets which lesson when. A release scan turns each newly
//! released lesson of a calendar-paced series into one job (unique per lesson and release time)
//! that writes one message row per learner; learners paced from joining get the lesson of their
//! own week; reminders follow unopened lessons. Every row is unique per learner, lesson and
//! kind, so planning twice (two instances, a retry, a lesson moved back and forth) plans once.

use std::collections::{BTreeMap, HashSet};
use std::sync::Mutex;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, QueryResult, Statement, Value};
use serde_json::json;

use super::{MessageKind, RELEASE_JOB, enabled};
use crate::domain::ages::{children_first, split_bands};
use crate::domain::push::{REMIND_AFTER, Shift, next_slot, paced_index};
use crate::services::Context;
use crate::services::jobs::{self, NewJob};

/// Rows written per statement.
const CHUNK: usize = 500;
/// Releases older than this are not pushed any more (a server that was down catches up on
/// the week's lesson, not on the whole back catalogue).
const CATCH_UP: Duration = Duration::days(7);

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

/// A learner and when their message may go.
type Planned = (i64, DateTime<Utc>);

/// A learner as planning sees them.
struct Recipient {
    id: i64,
    joined: DateTime<Utc>,
    shift: Shift,
    preferred: Option<NaiveTime>,
    /// The children's age bands: empty without the children's consent.
    children: Vec<String>,
}

fn recipient(row: &QueryResult) -> Option<Recipient> {
    let shift: Option<String> = row.try_get("", "shift").ok()?;
    let preferred: Option<String> = row.try_get("", "preferred_time").ok()?;
    let children: Option<String> = row.try_get("", "child_age_bands").unwrap_or(None);
    Some(Recipient {
        children: children.as_deref().map(split_bands).unwrap_or_default(),
        id: row.try_get("", "id").ok()?,
        joined: row.try_get("", "created_at").ok()?,
        shift: shift.as_deref().and_then(Shift::parse).unwrap_or_default(),
        preferred: preferred.and_then(|t| NaiveTime::parse_from_str(&t, "%H:%M").ok()),
    })
}

/// Learners of `audience` who have not muted the push, `CHUNK` at a time after `after`.
async fn recipients(ctx: &Context, audience: &str, after: i64) -> anyhow::Result<Vec<Recipient>> {
    let rows = query(
        ctx,
        &format!(
            "SELECT l.id AS id, l.created_at AS created_at, p.shift AS shift, p.preferred_time AS preferred_time, \
                    CASE WHEN EXISTS (SELECT 1 FROM consent c WHERE c.learner_id = l.id AND c.kind = 'children') \
                         THEN l.child_age_bands END AS child_age_bands \
             FROM learner l LEFT JOIN push_preference p ON p.learner_id = l.id \
             WHERE l.audience = $1 AND l.id > $2 AND p.muted_at IS NULL ORDER BY l.id LIMIT {CHUNK}"
        ),
        vec![audience.into(), after.into()],
    )
    .await?;
    Ok(rows.iter().filter_map(recipient).collect())
}

/// Writes message rows `(learner, send_at)` for one lesson. A row cancelled earlier (the
/// lesson was unpublished or moved later) is planned again; a sent one never is.
async fn write(
    ctx: &Context,
    lesson_id: i64,
    kind: MessageKind,
    rows: &[Planned],
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let mut sorted = rows.to_vec();
    // Concurrent writers lock rows in one order, so they never deadlock.
    sorted.sort_by_key(|(learner, _)| *learner);
    let mut values: Vec<Value> = vec![lesson_id.into(), kind.as_str().into(), now.into()];
    let mut tuples = Vec::with_capacity(sorted.len());
    for (learner, send_at) in &sorted {
        let n = values.len();
        tuples.push(format!(
            "(${}, $1, $2, 'queued', ${}, $3, $3)",
            n + 1,
            n + 2
        ));
        values.push((*learner).into());
        values.push((*send_at).into());
    }
    let sql = format!(
        "INSERT INTO push_message (learner_id, lesson_id, kind, state, send_at, created_at, updated_at) \
         VALUES {} ON CONFLICT (learner_id, lesson_id, kind) DO UPDATE \
         SET state = 'queued', send_at = excluded.send_at, last_error = NULL, updated_at = excluded.updated_at \
         WHERE push_message.state = 'cancelled' AND push_message.last_error = 'not released'",
        tuples.join(", ")
    );
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

/// A lesson with what planning needs.
struct Released {
    id: i64,
    week: i32,
    release_at: DateTime<Utc>,
    audience: String,
    timezone: Tz,
    age_bands: Vec<String>,
}

fn released(row: &QueryResult) -> Option<Released> {
    let timezone: String = row.try_get("", "timezone").ok()?;
    let age_bands: String = row.try_get("", "age_bands").ok()?;
    Some(Released {
        age_bands: split_bands(&age_bands),
        id: row.try_get("", "id").ok()?,
        week: row.try_get("", "week").ok()?,
        release_at: row.try_get("", "release_at").ok()?,
        audience: row.try_get("", "audience").ok()?,
        timezone: timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai),
    })
}

const RELEASED: &str = "SELECT l.id AS id, l.week AS week, l.release_at AS release_at, s.audience AS audience, \
     s.timezone AS timezone, s.id AS series_id, l.age_bands AS age_bands FROM lesson l JOIN series s ON s.id = l.series_id \
     WHERE l.status = 'published' AND l.release_at <= $1";

/// The release scan, at every worker tick (about once a second): one release job per lesson of
/// a calendar-paced series released in the last week, unique per lesson and release time, so
/// each release is planned once however many workers scan. Returns the jobs it added.
/// `known` holds the keys this worker already enqueued, so a tick that finds nothing new
/// writes nothing.
pub async fn scan(ctx: &Context, known: &Mutex<HashSet<String>>) -> anyhow::Result<u32> {
    if !enabled(ctx) {
        return Ok(0);
    }
    let now = ctx.clock.now();
    let rows = query(
        ctx,
        &format!("{RELEASED} AND l.release_at > $2 AND s.pacing = 'calendar'"),
        vec![now.into(), (now - CATCH_UP).into()],
    )
    .await?;
    let mut added = 0;
    for lesson in rows.iter().filter_map(released) {
        let key = format!(
            "{RELEASE_JOB}:{}:{}",
            lesson.id,
            lesson.release_at.timestamp()
        );
        if known.lock().expect("scan keys").contains(&key) {
            continue;
        }
        let job =
            NewJob::new(RELEASE_JOB, json!({ "lesson_id": lesson.id }), now).unique(key.clone());
        if jobs::enqueue(&ctx.db, job, now).await?.is_some() {
            added += 1;
        }
        known.lock().expect("scan keys").insert(key);
    }
    Ok(added)
}

/// Plans one released lesson for every learner of its series' audience who joined before it
/// came out and has not muted the push, each at their next allowed slot. Returns rows written.
pub async fn release(ctx: &Context, lesson_id: i64) -> anyhow::Result<u64> {
    let now = ctx.clock.now();
    let Some(lesson) = query(
        ctx,
        &format!("{RELEASED} AND l.id = $2"),
        vec![now.into(), lesson_id.into()],
    )
    .await?
    .iter()
    .find_map(released) else {
        // Unpublished or moved later since the scan: nothing to send.
        return Ok(0);
    };
    let due = lesson.release_at.max(now - Duration::minutes(5));
    let mut written = 0;
    let mut after = 0;
    loop {
        let batch = recipients(ctx, &lesson.audience, after).await?;
        let Some(last) = batch.last() else { break };
        after = last.id;
        let rows: Vec<Planned> = batch
            .iter()
            .filter(|r| r.joined <= lesson.release_at)
            .map(|r| (r.id, next_slot(due, lesson.timezone, r.shift, r.preferred)))
            .collect();
        written += write(ctx, lesson.id, MessageKind::Release, &rows, now).await?;
    }
    tracing::info!(
        lesson = lesson.id,
        week = lesson.week,
        written,
        "release planned"
    );
    Ok(written)
}

/// Learners of series paced from joining: in their week *k* (1 = the week they joined, whose
/// lesson they see on joining) they get the series' *k*-th released lesson, or, when they have
/// caught up, each new lesson as it comes out. With the children's consent, the lessons after
/// the first are taken in their order for the children's ages first (those lessons first, each
/// group in week order), so the lessons for their ages come in their first weeks.
pub async fn pace(ctx: &Context) -> anyhow::Result<u64> {
    if !enabled(ctx) {
        return Ok(0);
    }
    let now = ctx.clock.now();
    let lessons: Vec<(i64, Released)> = query(
        ctx,
        &format!("{RELEASED} AND s.pacing = 'from-join' ORDER BY s.id, l.week"),
        vec![now.into()],
    )
    .await?
    .iter()
    .filter_map(|r| Some((r.try_get("", "series_id").ok()?, released(r)?)))
    .collect();
    let mut written = 0;
    let mut series_ids: Vec<i64> = lessons.iter().map(|(s, _)| *s).collect();
    series_ids.dedup();
    for series in series_ids {
        let of_series: Vec<&Released> = lessons
            .iter()
            .filter(|(s, _)| *s == series)
            .map(|(_, l)| l)
            .collect();
        let audience = of_series[0].audience.clone();
        let mut after = 0;
        loop {
            let batch = recipients(ctx, &audience, after).await?;
            let Some(last) = batch.last() else { break };
            after = last.id;
            let mut by_lesson: BTreeMap<i64, Vec<Planned>> = BTreeMap::new();
            for learner in &batch {
                // Week 1's lesson is shown on joining, not sent.
                let Some(index) =
                    paced_index(learner.joined, now, of_series.len()).filter(|index| *index > 0)
                else {
                    continue;
                };
                let lesson = if learner.children.is_empty() {
                    of_series[index]
                } else {
                    let mut order: Vec<&Released> = of_series[1..].to_vec();
                    children_first(&mut order, &learner.children, |l| &l.age_bands);
                    order[index - 1]
                };
                let week_start = learner.joined + Duration::weeks(index as i64);
                let due = week_start
                    .max(lesson.release_at)
                    .max(now - Duration::hours(2));
                let slot = next_slot(due, lesson.timezone, learner.shift, learner.preferred);
                by_lesson
                    .entry(lesson.id)
                    .or_default()
                    .push((learner.id, slot));
            }
            for (lesson_id, rows) in by_lesson {
                written += write(ctx, lesson_id, MessageKind::Release, &rows, now).await?;
            }
        }
    }
    Ok(written)
}

/// One gentle reminder: a release message sent at least three days ago (and within the week)
/// whose lesson the learner has not opened, for a learner who had no reminder in the last
/// seven days.
pub async fn remind(ctx: &Context) -> anyhow::Result<u64> {
    if !enabled(ctx) {
        return Ok(0);
    }
    let now = ctx.clock.now();
    let rows = query(
        ctx,
        "SELECT m.learner_id AS id, m.lesson_id AS lesson_id, l.created_at AS created_at, p.shift AS shift, \
                p.preferred_time AS preferred_time, s.timezone AS timezone \
         FROM push_message m JOIN learner l ON l.id = m.learner_id \
         JOIN lesson x ON x.id = m.lesson_id JOIN series s ON s.id = x.series_id \
         LEFT JOIN push_preference p ON p.learner_id = m.learner_id \
         WHERE m.kind = 'release' AND m.state = 'sent' AND m.sent_at <= $1 AND m.sent_at > $2 \
           AND p.muted_at IS NULL \
           AND NOT EXISTS (SELECT 1 FROM lesson_progress o WHERE o.learner_id = m.learner_id \
                           AND o.lesson_id = m.lesson_id AND o.first_opened_at IS NOT NULL) \
           AND NOT EXISTS (SELECT 1 FROM push_message r WHERE r.learner_id = m.learner_id \
                           AND r.kind = 'reminder' AND r.created_at > $2) \
         ORDER BY m.learner_id, m.sent_at",
        vec![(now - REMIND_AFTER).into(), (now - Duration::days(7)).into()],
    )
    .await?;
    let mut written = 0;
    let mut last_learner = None;
    for row in &rows {
        let Some(learner) = recipient(row) else {
            continue;
        };
        // One reminder per learner per run, even when several lessons wait.
        if last_learner == Some(learner.id) {
            continue;
        }
        last_learner = Some(learner.id);
        let lesson_id: i64 = row.try_get("", "lesson_id")?;
        let timezone: String = row.try_get("", "timezone")?;
        let timezone: Tz = timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let slot = next_slot(now, timezone, learner.shift, learner.preferred);
        written += write(
            ctx,
            lesson_id,
            MessageKind::Reminder,
            &[(learner.id, slot)],
            now,
        )
        .await?;
    }
    Ok(written)
}
