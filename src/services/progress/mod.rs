//! Recording progress: event batches grouped into one transaction, quiz attempts, and the
//! completion they lead to. Acknowledged means committed; a resend changes nothing. (Batches as
//! phones send them are `batch`; reading progress back is `read`.)

pub mod batch;
pub mod earned;
mod read;

pub use read::{LessonRecord, Overview, SeriesProgress, overview, record, records};

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, Statement, TransactionTrait, Value,
};
use sha2::{Digest, Sha256};

use crate::domain::LessonBody;
use crate::domain::catalog::LessonEntry;
use crate::domain::lesson::LessonContent;
use crate::domain::progress::{Event, LessonShape, Progress};
use crate::domain::quiz::{Answers, Grade};
use crate::services::Context;
use crate::services::lessons;

/// Largest batch accepted in one request.
pub const MAX_BATCH: usize = 100;

/// An event as a phone sends it.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub client_id: uuid::Uuid,
    pub series: String,
    pub lesson: String,
    pub event: Event,
    pub client_time: Option<DateTime<Utc>>,
}

/// What became of one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    Accepted,
    /// Stored before with the same content: nothing changed.
    Duplicate,
    /// The same id was stored before with different content (409).
    Conflict,
    /// No such lesson, or not released: stored nowhere (404).
    NotFound,
    /// Its numbers make no sense for the lesson (422).
    Invalid(String),
}

pub fn shape(lesson: &LessonEntry, content: &LessonContent) -> LessonShape {
    let (panels, video_seconds) = match &content.body {
        LessonBody::Comic { panels } => (panels.len() as u32, 0.0),
        LessonBody::Video(video) => (0, f64::from(video.duration_seconds)),
        LessonBody::Article { .. } => (0, 0.0),
    };
    LessonShape {
        kind: lesson.kind,
        panels,
        video_seconds,
        has_quiz: content.quiz.is_some(),
    }
}

fn canonical(
    lesson_id: i64,
    event: &Event,
    client_time: Option<DateTime<Utc>>,
) -> (String, String) {
    let payload =
        serde_json::json!({"lesson_id": lesson_id, "event": event, "client_time": client_time})
            .to_string();
    let hash = hex::encode(Sha256::digest(payload.as_bytes()));
    (payload, hash)
}

fn greatest(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "GREATEST",
        _ => "MAX",
    }
}

/// `$1, $2, …` placeholders for `count` values starting after `offset`.
fn placeholders(offset: usize, count: usize) -> String {
    (offset + 1..=offset + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct Checked {
    index: usize,
    lesson_id: i64,
    payload: String,
    hash: String,
}

/// Records a batch for one learner in one transaction and reports each event's outcome.
pub async fn record_events(
    state: &Context,
    learner_id: i64,
    batch: Vec<Incoming>,
) -> anyhow::Result<Vec<Outcome>> {
    let now = state.clock.now();
    let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.len()];
    let mut shapes: HashMap<i64, (LessonShape, LessonEntry)> = HashMap::new();
    let mut checked: Vec<Checked> = Vec::new();
    let mut seen: HashMap<uuid::Uuid, (usize, String)> = HashMap::new();
    // One look at the catalog for the whole batch.
    let catalog = lessons::catalog(state).await?;
    for (index, incoming) in batch.iter().enumerate() {
        let Some(lesson) = catalog
            .series(&incoming.series)
            .and_then(|s| s.visible_lesson(&incoming.lesson, now))
        else {
            outcomes[index] = Some(Outcome::NotFound);
            continue;
        };
        let lesson = lesson.clone();
        if let std::collections::hash_map::Entry::Vacant(slot) = shapes.entry(lesson.id) {
            let content = lessons::lesson_content(state, &lesson).await?;
            slot.insert((shape(&lesson, &content), lesson.clone()));
        }
        let (lesson_shape, _) = &shapes[&lesson.id];
        if let Err(message) = lesson_shape.check(&incoming.event) {
            outcomes[index] = Some(Outcome::Invalid(message));
            continue;
        }
        // Hash what the phone sent: a clock that runs ahead must not make a resend look changed.
        let (payload, hash) = canonical(lesson.id, &incoming.event, incoming.client_time);
        // The same id twice in one batch: the first counts.
        if let Some((_, first_hash)) = seen.get(&incoming.client_id) {
            outcomes[index] = Some(if *first_hash == hash {
                Outcome::Duplicate
            } else {
                Outcome::Conflict
            });
            continue;
        }
        seen.insert(incoming.client_id, (index, hash.clone()));
        checked.push(Checked {
            index,
            lesson_id: lesson.id,
            payload,
            hash,
        });
    }

    let mut completed = false;
    if !checked.is_empty() {
        // Rows are locked in client-id order, so two batches holding the same ids in another
        // order wait for each other instead of deadlocking; a lost race is run again.
        checked.sort_by_key(|c| batch[c.index].client_id);
        let (stored, done) = crate::store::fault::retry_transaction(|| {
            store_checked(state, learner_id, &batch, &checked, &shapes, now)
        })
        .await?;
        completed = done;
        for (index, outcome) in stored {
            outcomes[index] = Some(outcome);
        }
    }
    if completed {
        keep_earned(state, learner_id).await;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::NotFound))
        .collect())
}

/// Stores the checked events of a batch and merges them into progress, in one transaction;
/// returns the outcome of each (by its index in the batch).
async fn store_checked(
    state: &Context,
    learner_id: i64,
    batch: &[Incoming],
    checked: &[Checked],
    shapes: &HashMap<i64, (LessonShape, LessonEntry)>,
    now: DateTime<Utc>,
) -> anyhow::Result<(HashMap<usize, Outcome>, bool)> {
    let mut outcomes: HashMap<usize, Outcome> = HashMap::new();
    let mut completed = false;
    let txn = state.db.begin().await?;
    let backend = txn.get_database_backend();
    // 1. Store the events; those already stored come back missing.
    let mut values: Vec<Value> = Vec::with_capacity(checked.len() * 8);
    let mut rows = Vec::with_capacity(checked.len());
    for item in checked {
        let incoming = &batch[item.index];
        rows.push(format!("({})", placeholders(values.len(), 8)));
        values.extend([
            learner_id.into(),
            incoming.client_id.to_string().into(),
            item.lesson_id.into(),
            event_kind(&incoming.event).into(),
            item.hash.clone().into(),
            item.payload.clone().into(),
            incoming.client_time.map(|t| t.min(now)).into(),
            now.into(),
        ]);
    }
    let sql = format!(
        "INSERT INTO progress_event (learner_id, client_id, lesson_id, kind, payload_hash, payload, client_time, received_at) \
         VALUES {} ON CONFLICT (learner_id, client_id) DO NOTHING RETURNING client_id",
        rows.join(", ")
    );
    let inserted: Vec<String> = txn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?
        .iter()
        .filter_map(|row| row.try_get::<String>("", "client_id").ok())
        .collect();
    // 2. The rest were stored before: the same content is a duplicate, other content a conflict.
    let earlier: Vec<&Checked> = checked
        .iter()
        .filter(|c| !inserted.contains(&batch[c.index].client_id.to_string()))
        .collect();
    if !earlier.is_empty() {
        let ids: Vec<Value> = earlier
            .iter()
            .map(|c| batch[c.index].client_id.to_string().into())
            .collect();
        let sql = format!(
            "SELECT client_id, payload_hash FROM progress_event WHERE learner_id = $1 AND client_id IN ({})",
            placeholders(1, ids.len())
        );
        let mut params = vec![learner_id.into()];
        params.extend(ids);
        let stored: HashMap<String, String> = txn
            .query_all_raw(Statement::from_sql_and_values(backend, sql, params))
            .await?
            .iter()
            .filter_map(|row| {
                Some((
                    row.try_get::<String>("", "client_id").ok()?,
                    row.try_get::<String>("", "payload_hash").ok()?,
                ))
            })
            .collect();
        for item in earlier {
            let same = stored.get(&batch[item.index].client_id.to_string()) == Some(&item.hash);
            outcomes.insert(
                item.index,
                if same {
                    Outcome::Duplicate
                } else {
                    Outcome::Conflict
                },
            );
        }
    }
    // 3. Merge the new events into each lesson's progress.
    let mut deltas: BTreeMap<i64, Progress> = BTreeMap::new();
    for item in checked {
        if outcomes.contains_key(&item.index) {
            continue;
        }
        deltas
            .entry(item.lesson_id)
            .or_default()
            .merge(&batch[item.index].event);
        outcomes.insert(item.index, Outcome::Accepted);
    }
    for (lesson_id, delta) in deltas {
        let merged = upsert_progress(&txn, learner_id, lesson_id, &delta, None, now).await?;
        completed |= complete_if_done(
            &txn,
            learner_id,
            lesson_id,
            &shapes[&lesson_id].0,
            &merged,
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok((outcomes, completed))
}

fn event_kind(event: &Event) -> &'static str {
    match event {
        Event::Opened => "opened",
        Event::PanelViewed { .. } => "panel_viewed",
        Event::VideoPosition { .. } => "video_position",
        Event::ArticleRead { .. } => "article_read",
        Event::Completed => "completed",
    }
}

/// A quiz result to fold into progress.
struct QuizDelta {
    score: i32,
    passed: bool,
}

/// Merges `delta` into the learner's progress on a lesson and returns the merged state.
async fn upsert_progress(
    txn: &DatabaseTransaction,
    learner_id: i64,
    lesson_id: i64,
    delta: &Progress,
    quiz: Option<QuizDelta>,
    now: DateTime<Utc>,
) -> anyhow::Result<(Progress, bool)> {
    let backend = txn.get_database_backend();
    let max = greatest(backend);
    let opened: Option<DateTime<Utc>> = delta.opened.then_some(now);
    let self_reported: Option<DateTime<Utc>> = delta.self_reported.then_some(now);
    let (attempts, score, passed_at): (i32, Option<i32>, Option<DateTime<Utc>>) = match &quiz {
        Some(q) => (1, Some(q.score), q.passed.then_some(now)),
        None => (0, None, None),
    };
    let sql = format!(
        "INSERT INTO lesson_progress (learner_id, lesson_id, first_opened_at, max_panel, video_seconds, article_percent, \
           done_pressed, quiz_first_score, quiz_best_score, quiz_attempts, quiz_passed_at, updated_at, self_reported_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11, $12) \
         ON CONFLICT (learner_id, lesson_id) DO UPDATE SET \
           first_opened_at = COALESCE(lesson_progress.first_opened_at, excluded.first_opened_at), \
           max_panel = {max}(lesson_progress.max_panel, excluded.max_panel), \
           video_seconds = {max}(lesson_progress.video_seconds, excluded.video_seconds), \
           article_percent = {max}(lesson_progress.article_percent, excluded.article_percent), \
           done_pressed = (lesson_progress.done_pressed OR excluded.done_pressed), \
           quiz_first_score = COALESCE(lesson_progress.quiz_first_score, excluded.quiz_first_score), \
           quiz_best_score = CASE WHEN excluded.quiz_best_score IS NULL THEN lesson_progress.quiz_best_score \
                                  WHEN lesson_progress.quiz_best_score IS NULL THEN excluded.quiz_best_score \
                                  ELSE {max}(lesson_progress.quiz_best_score, excluded.quiz_best_score) END, \
           quiz_attempts = lesson_progress.quiz_attempts + excluded.quiz_attempts, \
           quiz_passed_at = COALESCE(lesson_progress.quiz_passed_at, excluded.quiz_passed_at), \
           updated_at = excluded.updated_at, \
           self_reported_at = COALESCE(lesson_progress.self_reported_at, excluded.self_reported_at) \
         RETURNING first_opened_at, max_panel, video_seconds, article_percent, done_pressed, quiz_passed_at, completed_at, \
           self_reported_at"
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [
                learner_id.into(),
                lesson_id.into(),
                opened.into(),
                delta.max_panel.into(),
                delta.video_seconds.into(),
                (delta.article_percent as i32).into(),
                delta.done_pressed.into(),
                score.into(),
                attempts.into(),
                passed_at.into(),
                now.into(),
                self_reported.into(),
            ],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("upsert returned nothing"))?;
    let merged = Progress {
        opened: row
            .try_get::<Option<DateTime<Utc>>>("", "first_opened_at")?
            .is_some(),
        max_panel: row
            .try_get::<i64>("", "max_panel")
            .or_else(|_| row.try_get::<i32>("", "max_panel").map(i64::from))?,
        video_seconds: row.try_get::<f64>("", "video_seconds")?,
        article_percent: row.try_get::<i32>("", "article_percent")?.max(0) as u32,
        done_pressed: row.try_get::<bool>("", "done_pressed")?,
        quiz_passed: row
            .try_get::<Option<DateTime<Utc>>>("", "quiz_passed_at")?
            .is_some(),
        self_reported: row
            .try_get::<Option<DateTime<Utc>>>("", "self_reported_at")?
            .is_some(),
    };
    let completed = row
        .try_get::<Option<DateTime<Utc>>>("", "completed_at")?
        .is_some();
    Ok((merged, completed))
}

/// Sets `completed_at` once, the first time the lesson is complete; true when it did now.
async fn complete_if_done(
    txn: &DatabaseTransaction,
    learner_id: i64,
    lesson_id: i64,
    shape: &LessonShape,
    (merged, already): &(Progress, bool),
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    if *already || !shape.is_complete(merged) {
        return Ok(false);
    }
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "UPDATE lesson_progress SET completed_at = $1 WHERE learner_id = $2 AND lesson_id = $3 AND completed_at IS NULL",
        [now.into(), learner_id.into(), lesson_id.into()],
    ))
    .await?;
    Ok(true)
}

/// Keeps what a learner has just earned (a badge, a certificate, a longer streak) the moment a
/// lesson is completed or a quiz passed, so a later change cannot take it away before they look.
/// The progress is committed already: a failure here is logged, and the next view keeps it.
async fn keep_earned(state: &Context, learner_id: i64) {
    let kept = async {
        if let Some(account) = crate::services::accounts::account(&state.db, learner_id).await? {
            overview(state, &account).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Err(error) = kept {
        tracing::warn!(learner_id, error = %error, "could not keep what the learner earned");
    }
}

/// Folds `delta` (and a quiz result) into a learner's progress on a lesson and records the
/// completion if it is now due, inside `txn`.
async fn fold(
    txn: &DatabaseTransaction,
    learner_id: i64,
    lesson: &LessonEntry,
    content: &LessonContent,
    delta: &Progress,
    quiz: Option<QuizDelta>,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let merged = upsert_progress(txn, learner_id, lesson.id, delta, quiz, now).await?;
    complete_if_done(
        txn,
        learner_id,
        lesson.id,
        &shape(lesson, content),
        &merged,
        now,
    )
    .await
}

/// Records one event from a page (opening it, or "done" at its end) in its own transaction.
async fn record_one(
    state: &Context,
    learner_id: i64,
    lesson: &LessonEntry,
    content: &LessonContent,
    delta: Progress,
) -> anyhow::Result<()> {
    let txn = state.db.begin().await?;
    let completed = fold(
        &txn,
        learner_id,
        lesson,
        content,
        &delta,
        None,
        state.clock.now(),
    )
    .await?;
    txn.commit().await?;
    if completed {
        keep_earned(state, learner_id).await;
    }
    Ok(())
}

/// Records that an enrolled learner opened a lesson page (works without JavaScript).
pub async fn record_open(
    state: &Context,
    learner_id: i64,
    lesson: &LessonEntry,
    content: &LessonContent,
) -> anyhow::Result<()> {
    let mut delta = Progress::new();
    delta.merge(&Event::Opened);
    record_one(state, learner_id, lesson, content, delta).await
}

/// Records "done" pressed at the end of a lesson (the form without JavaScript). For a video the
/// player did not see through, the learner's word counts, kept as self-reported.
pub async fn record_done(
    state: &Context,
    learner_id: i64,
    lesson: &LessonEntry,
    content: &LessonContent,
) -> anyhow::Result<()> {
    let mut delta = Progress::new();
    delta.merge(&Event::Completed);
    if let LessonBody::Comic { panels } = &content.body {
        // Reaching the button means scrolling past every panel.
        delta.merge(&Event::PanelViewed {
            panel: panels.len().saturating_sub(1) as u32,
        });
    }
    if matches!(content.body, LessonBody::Video(_)) {
        let records = records(state, learner_id).await?;
        let watched = records.get(&lesson.id).is_some_and(|r| {
            let mut seen = Progress::new();
            seen.video_seconds = r.video_seconds;
            shape(lesson, content).body_done(&seen)
        });
        delta.self_reported = !watched;
    }
    record_one(state, learner_id, lesson, content, delta).await
}

/// Stores a graded quiz attempt and folds it into progress: first and best score both kept.
pub async fn record_attempt(
    state: &Context,
    learner_id: i64,
    lesson: &LessonEntry,
    content: &LessonContent,
    answers: &Answers,
    grade: &Grade,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    txn.execute_raw(Statement::from_sql_and_values(
        txn.get_database_backend(),
        "INSERT INTO quiz_attempt (learner_id, lesson_id, answers, score, total, passed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            learner_id.into(),
            lesson.id.into(),
            serde_json::to_string(answers)?.into(),
            (grade.score as i32).into(),
            (grade.total as i32).into(),
            grade.passed.into(),
            now.into(),
        ],
    ))
    .await?;
    crate::services::review::schedule_missed(&txn, learner_id, lesson.id, grade, now).await?;
    let mut delta = Progress::new();
    delta.merge(&Event::Opened);
    let quiz = QuizDelta {
        score: grade.score as i32,
        passed: grade.passed,
    };
    let completed = fold(&txn, learner_id, lesson, content, &delta, Some(quiz), now).await?;
    txn.commit().await?;
    if completed || grade.passed {
        keep_earned(state, learner_id).await;
    }
    Ok(())
}
