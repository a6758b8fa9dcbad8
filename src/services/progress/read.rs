//! Reading a learner's progress back: their record per lesson, and per series the released
//! lessons, completion, streak, current and "continue" lesson, and badges. Reading it also keeps
//! whatever was newly earned (`earned`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use super::earned::{self, Certificate, Reached};
use crate::domain::catalog::LessonEntry;
use crate::services::{Context, lessons};

/// A learner's stored progress on one lesson, as read back.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LessonRecord {
    pub first_opened_at: Option<DateTime<Utc>>,
    pub max_panel: i64,
    pub video_seconds: f64,
    pub article_percent: i32,
    pub quiz_first_score: Option<i32>,
    pub quiz_best_score: Option<i32>,
    pub quiz_attempts: i32,
    pub quiz_passed_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    /// When the learner said they watched the video (the player did not see it through).
    pub self_reported_at: Option<DateTime<Utc>>,
}

/// Every lesson record of a learner, by lesson id.
pub async fn records(
    state: &Context,
    learner_id: i64,
) -> anyhow::Result<HashMap<i64, LessonRecord>> {
    read(state, learner_id, None).await
}

/// A learner's record on one lesson (one statement), if they have one.
pub async fn record(
    state: &Context,
    learner_id: i64,
    lesson_id: i64,
) -> anyhow::Result<Option<LessonRecord>> {
    Ok(read(state, learner_id, Some(lesson_id))
        .await?
        .remove(&lesson_id))
}

async fn read(
    state: &Context,
    learner_id: i64,
    lesson_id: Option<i64>,
) -> anyhow::Result<HashMap<i64, LessonRecord>> {
    const COLUMNS: &str = "SELECT lesson_id, first_opened_at, max_panel, video_seconds, article_percent, quiz_first_score, \
        quiz_best_score, quiz_attempts, quiz_passed_at, completed_at, updated_at, self_reported_at FROM lesson_progress WHERE learner_id = $1";
    let statement = match lesson_id {
        Some(lesson_id) => Statement::from_sql_and_values(
            state.db.get_database_backend(),
            format!("{COLUMNS} AND lesson_id = $2"),
            [learner_id.into(), lesson_id.into()],
        ),
        None => Statement::from_sql_and_values(
            state.db.get_database_backend(),
            COLUMNS,
            [learner_id.into()],
        ),
    };
    let rows = state.db.query_all_raw(statement).await?;
    let mut map = HashMap::new();
    for row in rows {
        let int = |name: &str| -> anyhow::Result<i64> {
            Ok(row
                .try_get::<i64>("", name)
                .or_else(|_| row.try_get::<i32>("", name).map(i64::from))?)
        };
        let opt_int = |name: &str| -> anyhow::Result<Option<i32>> {
            Ok(row
                .try_get::<Option<i64>>("", name)
                .map(|v| v.map(|v| v as i32))
                .or_else(|_| row.try_get::<Option<i32>>("", name))?)
        };
        map.insert(
            int("lesson_id")?,
            LessonRecord {
                first_opened_at: row.try_get("", "first_opened_at")?,
                max_panel: int("max_panel")?,
                video_seconds: row.try_get("", "video_seconds")?,
                article_percent: int("article_percent")? as i32,
                quiz_first_score: opt_int("quiz_first_score")?,
                quiz_best_score: opt_int("quiz_best_score")?,
                quiz_attempts: int("quiz_attempts")? as i32,
                quiz_passed_at: row.try_get("", "quiz_passed_at")?,
                completed_at: row.try_get("", "completed_at")?,
                updated_at: row.try_get("", "updated_at")?,
                self_reported_at: row.try_get("", "self_reported_at")?,
            },
        );
    }
    Ok(map)
}

/// Progress through one series, as the home page and the API show it.
#[derive(Clone, Debug)]
pub struct SeriesProgress {
    pub series: crate::domain::catalog::SeriesEntry,
    pub released: Vec<(LessonEntry, Option<LessonRecord>)>,
    pub completed: usize,
    pub streak: u32,
    pub current: Option<LessonEntry>,
    /// The lesson to go back to: the last one touched and not finished, else the first not done.
    pub continue_with: Option<LessonEntry>,
    /// Every published lesson of the series is complete (today).
    pub finished_at: Option<DateTime<Utc>>,
    /// The longest streak the learner ever had in this series, kept when it breaks.
    pub best_streak: u32,
    /// The certificate, once earned: kept even when more lessons come out later.
    pub certificate: Option<Certificate>,
}

#[derive(Clone, Debug)]
pub struct Overview {
    pub series: Vec<SeriesProgress>,
    /// Every badge ever earned, with when.
    pub badges: Vec<(crate::domain::progress::Badge, DateTime<Utc>)>,
}

/// The learner's progress in every series that has lessons out, their own audience's first.
pub async fn overview(
    state: &Context,
    account: &crate::services::accounts::Account,
) -> anyhow::Result<Overview> {
    use crate::domain::LessonStatus;
    let (learner_id, audience) = (account.learner.id, account.audience());
    let catalog = lessons::catalog(state).await?;
    let records = records(state, learner_id).await?;
    let now = state.clock.now();
    let mut series: Vec<SeriesProgress> = Vec::new();
    let mut reached = Reached::default();
    let (mut completed_total, mut quizzes_passed, mut best_streak, mut any_finished) =
        (0u32, 0u32, 0u32, false);
    for entry in &catalog.series {
        let released: Vec<(LessonEntry, Option<LessonRecord>)> = entry
            .released(now)
            .into_iter()
            .map(|l| (l.clone(), records.get(&l.id).cloned()))
            .collect();
        if released.is_empty() {
            continue;
        }
        let completions: Vec<DateTime<Utc>> = released
            .iter()
            .filter_map(|(_, r)| r.as_ref()?.completed_at)
            .collect();
        let streak = crate::domain::progress::streak(&entry.week_starts(now), &completions, now);
        let published: Vec<&LessonEntry> = entry
            .lessons
            .iter()
            .filter(|l| l.status == LessonStatus::Published)
            .collect();
        let finished_at = if !published.is_empty()
            && published.iter().all(|l| {
                l.is_visible(now) && records.get(&l.id).is_some_and(|r| r.completed_at.is_some())
            }) {
            completions.iter().max().copied()
        } else {
            None
        };
        let continue_with = released
            .iter()
            .filter(|(_, r)| r.as_ref().is_some_and(|r| r.completed_at.is_none()))
            .max_by_key(|(_, r)| r.as_ref().and_then(|r| r.updated_at))
            .or_else(|| {
                released
                    .iter()
                    .find(|(_, r)| r.as_ref().is_none_or(|r| r.completed_at.is_none()))
            })
            .map(|(l, _)| l.clone());
        completed_total += completions.len() as u32;
        quizzes_passed += released
            .iter()
            .filter(|(_, r)| r.as_ref().is_some_and(|r| r.quiz_passed_at.is_some()))
            .count() as u32;
        best_streak = best_streak.max(streak);
        any_finished |= finished_at.is_some();
        if let Some(at) = finished_at {
            reached
                .certificates
                .push((entry.slug.clone(), published.len() as u32, at));
        }
        reached.streaks.push((entry.slug.clone(), streak));
        series.push(SeriesProgress {
            completed: completions.len(),
            current: entry
                .current_for(Some(account.learner.created_at), now)
                .cloned(),
            series: entry.clone(),
            released,
            streak,
            continue_with,
            finished_at,
            best_streak: streak,
            certificate: None,
        });
    }
    series.sort_by_key(|s| (s.series.audience != audience, s.series.order));
    reached.badges =
        crate::domain::progress::badges(completed_total, quizzes_passed, best_streak, any_finished);
    let earned = earned::keep(&state.db, learner_id, &reached, now).await?;
    for s in &mut series {
        let kept = earned.best_streaks.get(&s.series.slug).copied();
        s.best_streak = s.best_streak.max(kept.unwrap_or(0));
        s.certificate = earned.certificates.get(&s.series.slug).copied();
    }
    Ok(Overview {
        series,
        badges: earned.badges,
    })
}
