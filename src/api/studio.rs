//! Editors through the API: a series' release calendar, rescheduling, publishing and
//! unpublishing, the cadence, and a lesson's statistics.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::lessons::LocalizedText;
use super::problem::ApiError;
use super::staff::{ApiTags, Done, staff};
use super::strict_string::StrictString;
use crate::http::AppState;
use crate::http::error::from_db;
use crate::services::staff::Staff;
use crate::services::{lessons, studio};

#[derive(Debug, Clone, Object)]
pub struct Cadence {
    /// Week 1's local date, YYYY-MM-DD.
    pub first_release: StrictString,
    /// mon, tue, wed, thu, fri, sat or sun.
    pub weekday: StrictString,
    /// Local time, HH:MM.
    pub time: StrictString,
}

#[derive(Debug, Clone, Object)]
pub struct QuestionStatsDto {
    pub id: String,
    pub answered: u64,
    pub correct: u64,
    #[oai(nullable)]
    pub top_wrong_choice: Option<String>,
    #[oai(nullable)]
    pub top_wrong_count: Option<u64>,
}

#[derive(Debug, Clone, Object)]
pub struct LessonStatsDto {
    pub opened: u64,
    pub completed: u64,
    #[oai(nullable)]
    pub median_video_seconds: Option<f64>,
    pub quiz_takers: u64,
    pub quiz_passed: u64,
    pub questions: Vec<QuestionStatsDto>,
}

#[derive(Debug, Clone, Object)]
pub struct CalendarEntry {
    pub week: u32,
    pub slug: String,
    pub title: LocalizedText,
    /// `released`, `scheduled` or `draft`.
    pub state: String,
    pub release_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object)]
pub struct Reschedule {
    /// Local date in the series' timezone, YYYY-MM-DD.
    pub date: StrictString,
    /// Local time, HH:MM.
    pub time: StrictString,
}

pub struct StudioApi;

enum Action {
    Reschedule(NaiveDate, NaiveTime),
    Publish,
    Unpublish,
}

impl StudioApi {
    async fn act(
        &self,
        state: &AppState,
        series: &str,
        lesson: &str,
        who: Staff,
        action: Action,
    ) -> Result<Done, ApiError> {
        let catalog = lessons::catalog(state).await.map_err(from_db)?;
        let entry = catalog
            .series(series)
            .ok_or_else(|| ApiError::not_found("no such series"))?;
        let found = entry
            .lessons
            .iter()
            .find(|l| l.slug == lesson)
            .ok_or_else(|| ApiError::not_found("no such lesson"))?;
        match action {
            Action::Reschedule(date, time) => {
                studio::reschedule(state, &who, entry, found, date, time).await
            }
            Action::Publish => studio::publish_now(state, &who, entry, found).await,
            Action::Unpublish => studio::unpublish(state, &who, entry, found).await,
        }
        .map_err(from_db)?;
        Ok(Done::NoContent)
    }
}

#[OpenApi]
impl StudioApi {
    /// A series' release calendar, week by week (editors and admins).
    #[oai(
        path = "/studio/series/:series/calendar",
        method = "get",
        operation_id = "studio_calendar",
        tag = "ApiTags::Studio"
    )]
    async fn calendar(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        req: &Request,
    ) -> Result<Json<Vec<CalendarEntry>>, ApiError> {
        staff(&state, req, Staff::can_edit, false).await?;
        let catalog = lessons::catalog(&state).await.map_err(from_db)?;
        let entry = catalog
            .series(&series)
            .ok_or_else(|| ApiError::not_found("no such series"))?;
        let now = state.clock.now();
        Ok(Json(
            entry
                .lessons
                .iter()
                .map(|l| CalendarEntry {
                    week: l.week,
                    slug: l.slug.clone(),
                    title: (&l.title).into(),
                    state: match (l.status, l.release_at <= now) {
                        (crate::domain::LessonStatus::Draft, _) => "draft",
                        (_, true) => "released",
                        (_, false) => "scheduled",
                    }
                    .into(),
                    release_at: l.release_at,
                })
                .collect(),
        ))
    }

    /// Moves a lesson to a local date and time in its series' timezone. Audited; learners see
    /// it at once.
    #[oai(
        path = "/studio/series/:series/lessons/:lesson/reschedule",
        method = "post",
        operation_id = "studio_reschedule",
        tag = "ApiTags::Studio"
    )]
    async fn reschedule(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        lesson: Path<String>,
        body: Json<Reschedule>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        // Who is asking comes first: an anonymous caller learns nothing about the body's rules.
        let who = staff(&state, req, Staff::can_edit, true).await?;
        let date = NaiveDate::parse_from_str(&body.date, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid("date: use YYYY-MM-DD"))?;
        let time = NaiveTime::parse_from_str(&body.time, "%H:%M")
            .map_err(|_| ApiError::invalid("time: use HH:MM"))?;
        self.act(
            &state,
            &series,
            &lesson,
            who,
            Action::Reschedule(date, time),
        )
        .await
    }

    /// Publishes a lesson now. Audited; learners see it at once.
    #[oai(
        path = "/studio/series/:series/lessons/:lesson/publish",
        method = "post",
        operation_id = "studio_publish",
        tag = "ApiTags::Studio"
    )]
    async fn publish(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        lesson: Path<String>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, Staff::can_edit, true).await?;
        self.act(&state, &series, &lesson, who, Action::Publish)
            .await
    }

    /// Takes a lesson back to draft. Audited; learners stop seeing it at once.
    #[oai(
        path = "/studio/series/:series/lessons/:lesson/unpublish",
        method = "post",
        operation_id = "studio_unpublish",
        tag = "ApiTags::Studio"
    )]
    async fn unpublish(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        lesson: Path<String>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, Staff::can_edit, true).await?;
        self.act(&state, &series, &lesson, who, Action::Unpublish)
            .await
    }

    /// Changes a series' cadence; lessons without their own release time follow it.
    #[oai(
        path = "/studio/series/:series/cadence",
        method = "post",
        operation_id = "studio_cadence",
        tag = "ApiTags::Studio"
    )]
    async fn cadence(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        body: Json<Cadence>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, Staff::can_edit, true).await?;
        let first = NaiveDate::parse_from_str(&body.first_release, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid("first_release: use YYYY-MM-DD"))?;
        let weekday = crate::domain::schedule::parse_weekday(&body.weekday)
            .ok_or_else(|| ApiError::invalid("weekday: mon … sun"))?;
        let time = NaiveTime::parse_from_str(&body.time, "%H:%M")
            .map_err(|_| ApiError::invalid("time: use HH:MM"))?;
        let catalog = lessons::catalog(&state).await.map_err(from_db)?;
        let entry = catalog
            .series(&series)
            .ok_or_else(|| ApiError::not_found("no such series"))?;
        studio::set_cadence(&state, &who, entry, first, weekday, time)
            .await
            .map_err(from_db)?;
        Ok(Done::NoContent)
    }

    /// A lesson's statistics: opened, completed, median video watched, quiz pass rate, and per
    /// question the learners' first answers.
    #[oai(
        path = "/studio/series/:series/lessons/:lesson/stats",
        method = "get",
        operation_id = "studio_stats",
        tag = "ApiTags::Studio"
    )]
    async fn stats(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        lesson: Path<String>,
        req: &Request,
    ) -> Result<Json<LessonStatsDto>, ApiError> {
        staff(&state, req, Staff::can_edit, false).await?;
        let catalog = lessons::catalog(&state).await.map_err(from_db)?;
        let entry = catalog
            .series(&series)
            .and_then(|s| s.lessons.iter().find(|l| l.slug == *lesson))
            .ok_or_else(|| ApiError::not_found("no such lesson"))?;
        let content = crate::store::content::lesson_content(&state.db, entry.id)
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("no such lesson"))?;
        let figures = studio::lesson_stats(&state, entry, &content)
            .await
            .map_err(from_db)?;
        Ok(Json(LessonStatsDto {
            opened: figures.opened,
            completed: figures.completed,
            median_video_seconds: figures.median_video_seconds,
            quiz_takers: figures.quiz_takers,
            quiz_passed: figures.quiz_passed,
            questions: figures
                .questions
                .into_iter()
                .map(|q| QuestionStatsDto {
                    id: q.id,
                    answered: q.answered,
                    correct: q.correct,
                    top_wrong_count: q.top_wrong.as_ref().map(|(_, n)| *n),
                    top_wrong_choice: q.top_wrong.map(|(c, _)| c),
                })
                .collect(),
        }))
    }
}
