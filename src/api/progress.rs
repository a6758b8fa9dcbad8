//! Progress events from phones, and a learner's progress read back.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::problem::ApiError;
use super::strict_string::StrictString;
use crate::http::AppState;
use crate::http::error::from_db;
use crate::services::accounts;
use crate::services::progress;
use crate::services::progress::batch::{self, BatchError, EventInput};

#[derive(Tags)]
enum ApiTags {
    /// What learners read, watched and answered.
    Progress,
}

/// One thing a phone saw happen.
#[derive(Debug, Clone, Object)]
pub struct EventDto {
    /// A UUID made by the phone; sending it again changes nothing.
    pub id: uuid::Uuid,
    pub series: StrictString,
    pub lesson: StrictString,
    /// `opened`, `panel_viewed` (with `panel`), `video_position` (with `seconds`, `duration`),
    /// `article_read` (with `percent`) or `completed`.
    pub kind: StrictString,
    #[oai(nullable)]
    pub panel: Option<u32>,
    #[oai(nullable)]
    pub seconds: Option<f64>,
    #[oai(nullable)]
    pub duration: Option<f64>,
    #[oai(nullable)]
    pub percent: Option<u32>,
    /// The phone's clock when it happened.
    #[oai(nullable)]
    pub client_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Object)]
pub struct EventBatch {
    /// For cookie sessions without the X-CSRF-Token header (e.g. `navigator.sendBeacon`).
    #[oai(nullable)]
    pub csrf: Option<StrictString>,
    /// Up to 100 events.
    pub events: Vec<EventDto>,
}

#[derive(Debug, Clone, Object)]
pub struct EventResult {
    pub id: uuid::Uuid,
    /// `accepted`, `duplicate`, `conflict`, `not_found` or `invalid`.
    pub status: String,
    /// The HTTP status this event would have alone: 200, 409, 404 or 422.
    pub code: u16,
    #[oai(nullable)]
    pub detail: Option<String>,
}

/// Every event's outcome. A 200 means every accepted event is committed.
#[derive(Debug, Clone, Object)]
pub struct BatchResult {
    pub accepted: u32,
    pub results: Vec<EventResult>,
}

impl From<&EventDto> for EventInput {
    fn from(dto: &EventDto) -> EventInput {
        EventInput {
            id: dto.id,
            series: dto.series.to_string(),
            lesson: dto.lesson.to_string(),
            kind: dto.kind.to_string(),
            panel: dto.panel,
            seconds: dto.seconds,
            duration: dto.duration,
            percent: dto.percent,
            client_time: dto.client_time,
        }
    }
}

/// Records a batch for the signed-in learner.
async fn record_batch(
    state: &AppState,
    learner_id: i64,
    batch: &EventBatch,
) -> Result<BatchResult, ApiError> {
    let events: Vec<EventInput> = batch.events.iter().map(EventInput::from).collect();
    let results = batch::record_batch(state, learner_id, &events)
        .await
        .map_err(|error| match error {
            BatchError::TooMany => ApiError::invalid(error.to_string()),
            BatchError::Failed(error) => from_db(error).into(),
        })?;
    let results: Vec<EventResult> = results
        .into_iter()
        .map(|r| EventResult {
            id: r.id,
            status: r.status.into(),
            code: r.code,
            detail: r.detail,
        })
        .collect();
    Ok(BatchResult {
        accepted: results.iter().filter(|r| r.status == "accepted").count() as u32,
        results,
    })
}

#[derive(Debug, Clone, Object)]
pub struct LessonProgressDto {
    pub slug: String,
    pub week: u32,
    pub title: super::lessons::LocalizedText,
    pub opened: bool,
    #[oai(nullable)]
    pub completed_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
    pub furthest_panel: Option<u32>,
    pub video_seconds: f64,
    pub article_percent: u32,
    #[oai(nullable)]
    pub quiz_first_score: Option<i32>,
    #[oai(nullable)]
    pub quiz_best_score: Option<i32>,
    pub quiz_attempts: u32,
    pub quiz_passed: bool,
    /// The learner said they watched this video (the "done" button without JavaScript); the
    /// player did not see it through.
    pub self_reported: bool,
}

#[derive(Debug, Clone, Object)]
pub struct SeriesProgressDto {
    pub slug: String,
    pub title: super::lessons::LocalizedText,
    pub released: u32,
    pub completed: u32,
    /// Consecutive release weeks with a completed lesson.
    pub streak: u32,
    #[oai(nullable)]
    pub current_lesson: Option<String>,
    #[oai(nullable)]
    pub continue_lesson: Option<String>,
    /// When the learner first finished every lesson; the certificate is at
    /// `/s/{slug}/certificate`. Once earned it stays, even when more lessons come out.
    #[oai(nullable)]
    pub finished_at: Option<DateTime<Utc>>,
    /// The longest streak ever reached in this series (kept when a streak breaks).
    pub best_streak: u32,
    pub lessons: Vec<LessonProgressDto>,
}

#[derive(Debug, Clone, Object)]
pub struct ProgressOverview {
    pub series: Vec<SeriesProgressDto>,
    /// `first_lesson`, `three_lessons`, `ten_lessons`, `first_quiz_passed`, `three_week_streak`,
    /// `series_complete`.
    pub badges: Vec<String>,
    /// The same badges with when each was earned; a badge once earned is never taken away.
    pub badges_earned: Vec<EarnedBadge>,
}

#[derive(Debug, Clone, Object)]
pub struct EarnedBadge {
    pub badge: String,
    pub earned_at: DateTime<Utc>,
}

pub struct ProgressApi;

#[OpenApi(tag = "ApiTags::Progress")]
impl ProgressApi {
    /// Records up to 100 events. Each gets its own outcome: a resent event changes nothing,
    /// the same id with other content is a 409 for that event, events for unknown or unreleased
    /// lessons are 404 and stored nowhere. A 200 means the accepted ones are committed.
    #[oai(
        path = "/progress/events",
        method = "post",
        operation_id = "record_events"
    )]
    async fn record_events(
        &self,
        state: Data<&AppState>,
        body: Json<EventBatch>,
        req: &Request,
    ) -> Result<Json<BatchResult>, ApiError> {
        let learner_id =
            super::learner::signed_in_to_change(&state, req, body.0.csrf.as_deref()).await?;
        Ok(Json(record_batch(&state, learner_id, &body.0).await?))
    }

    /// The signed-in learner's progress: per series and lesson, streaks and badges.
    #[oai(path = "/me/progress", method = "get", operation_id = "my_progress")]
    async fn my_progress(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<ProgressOverview>, ApiError> {
        let learner_id = super::learner::signed_in(&state, req).await?;
        let account = accounts::account(&state.db, learner_id)
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("no such learner"))?;
        let overview = progress::overview(&state, &account)
            .await
            .map_err(from_db)?;
        Ok(Json(ProgressOverview {
            badges: overview
                .badges
                .iter()
                .map(|(b, _)| b.key().to_owned())
                .collect(),
            badges_earned: overview
                .badges
                .iter()
                .map(|(b, at)| EarnedBadge {
                    badge: b.key().to_owned(),
                    earned_at: *at,
                })
                .collect(),
            series: overview
                .series
                .iter()
                .map(|s| SeriesProgressDto {
                    slug: s.series.slug.clone(),
                    title: (&s.series.title).into(),
                    released: s.released.len() as u32,
                    completed: s.completed as u32,
                    streak: s.streak,
                    current_lesson: s.current.as_ref().map(|l| l.slug.clone()),
                    continue_lesson: s.continue_with.as_ref().map(|l| l.slug.clone()),
                    finished_at: s.certificate.map(|c| c.earned_at),
                    best_streak: s.best_streak,
                    lessons: s
                        .released
                        .iter()
                        .map(|(l, r)| {
                            let r = r.clone().unwrap_or(progress::LessonRecord {
                                max_panel: -1,
                                ..Default::default()
                            });
                            LessonProgressDto {
                                slug: l.slug.clone(),
                                week: l.week,
                                title: (&l.title).into(),
                                opened: r.first_opened_at.is_some(),
                                completed_at: r.completed_at,
                                furthest_panel: (r.max_panel >= 0).then_some(r.max_panel as u32),
                                video_seconds: r.video_seconds,
                                article_percent: r.article_percent.max(0) as u32,
                                quiz_first_score: r.quiz_first_score,
                                quiz_best_score: r.quiz_best_score,
                                quiz_attempts: r.quiz_attempts.max(0) as u32,
                                quiz_passed: r.quiz_passed_at.is_some(),
                                self_reported: r.self_reported_at.is_some(),
                            }
                        })
                        .collect(),
                })
                .collect(),
        }))
    }
}
