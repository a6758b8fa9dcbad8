//! The staff areas through the API, under the same rules as the pages: a personal API token
//! (`Authorization: Bearer hwk_…`) or the staff session cookie with the `X-CSRF-Token` header.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::lessons::LocalizedText;
use super::problem::ApiError;
use crate::domain::suppress::Shown;
use crate::error::{AppError, from_db};
use crate::services::enrollment::{self, NewCode};
use crate::services::reports;
use crate::services::staff::{Role, Staff, audit};
use crate::services::{lessons, studio};
use crate::startup::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Editors: the release plan of each series.
    Studio,
    /// Managers: a factory's codes and group totals.
    Manage,
}

/// The staff member, if `allowed`; for changes, a cookie session must also send its CSRF token.
async fn staff(
    state: &AppState,
    req: &Request,
    allowed: impl Fn(&Staff) -> bool,
    changes: bool,
) -> Result<Staff, ApiError> {
    let who = crate::web::staff::current_staff(state, req)
        .await?
        .ok_or_else(|| ApiError::from(AppError::SignIn(String::new())))?;
    if !allowed(&who) {
        return Err(AppError::Forbidden.into());
    }
    if changes && crate::web::staff::check_csrf(state, req, &who, None).is_err() {
        return Err(AppError::Forbidden.into());
    }
    Ok(who)
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
    pub date: String,
    /// Local time, HH:MM.
    pub time: String,
}

#[derive(ApiResponse)]
pub enum Done {
    /// Done; learners see the change at once on every instance.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, Clone, Object)]
pub struct FigureDto {
    /// Absent when the figure is about fewer than 5 learners (or would reveal such a figure).
    pub value: Option<u64>,
    pub suppressed: bool,
}

impl From<Shown> for FigureDto {
    fn from(shown: Shown) -> Self {
        FigureDto {
            value: shown.value(),
            suppressed: shown.value().is_none(),
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct LineFiguresDto {
    pub line_id: Option<i64>,
    pub name: String,
    pub learners: FigureDto,
    pub active_7_days: FigureDto,
    pub active_30_days: FigureDto,
    pub average_quiz_score: Option<f64>,
}

#[derive(Debug, Clone, Object)]
pub struct WeekJoins {
    pub week_starting: NaiveDate,
    pub joins: FigureDto,
}

#[derive(Debug, Clone, Object)]
pub struct LessonFiguresDto {
    pub series: String,
    pub title: LocalizedText,
    pub opened: FigureDto,
    pub completed: FigureDto,
    pub completion_rate: Option<f64>,
    pub average_quiz_score: Option<f64>,
}

#[derive(Debug, Clone, Object)]
pub struct DashboardDto {
    pub factory_id: i64,
    pub lines: Vec<LineFiguresDto>,
    pub whole_factory: Option<LineFiguresDto>,
    pub joins_per_week: Vec<WeekJoins>,
    pub lessons: Vec<LessonFiguresDto>,
}

#[derive(Debug, Clone, Object)]
pub struct CodeDto {
    pub id: i64,
    pub token: String,
    pub label: String,
    pub line_id: Option<i64>,
    pub joins: i32,
    pub max_joins: Option<i32>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub join_url: String,
}

#[derive(Debug, Clone, Object)]
pub struct NewCodeDto {
    #[oai(default)]
    pub label: String,
    pub line_id: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_joins: Option<i32>,
}

fn line_dto(l: &reports::LineFigures) -> LineFiguresDto {
    LineFiguresDto {
        line_id: l.line_id,
        name: l.name.clone(),
        learners: l.learners.into(),
        active_7_days: l.active_7.into(),
        active_30_days: l.active_30.into(),
        average_quiz_score: l.average_score,
    }
}

pub struct StaffApi;

enum Action {
    Reschedule(NaiveDate, NaiveTime),
    Publish,
    Unpublish,
}

impl StaffApi {
    async fn act(
        &self,
        state: &AppState,
        series: &str,
        lesson: &str,
        req: &Request,
        action: Action,
    ) -> Result<Done, ApiError> {
        let who = staff(state, req, Staff::can_edit, true).await?;
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
impl StaffApi {
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
        let date = NaiveDate::parse_from_str(&body.date, "%Y-%m-%d")
            .map_err(|_| ApiError::invalid("date: use YYYY-MM-DD"))?;
        let time = NaiveTime::parse_from_str(&body.time, "%H:%M")
            .map_err(|_| ApiError::invalid("time: use HH:MM"))?;
        self.act(
            &state,
            &series,
            &lesson,
            req,
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
        self.act(&state, &series, &lesson, req, Action::Publish)
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
        self.act(&state, &series, &lesson, req, Action::Unpublish)
            .await
    }

    /// A factory's group totals (its manager or an admin; another factory is a 404).
    #[oai(
        path = "/manage/factories/:factory/dashboard",
        method = "get",
        operation_id = "manage_dashboard",
        tag = "ApiTags::Manage"
    )]
    async fn dashboard(
        &self,
        state: Data<&AppState>,
        factory: Path<i64>,
        req: &Request,
    ) -> Result<Json<DashboardDto>, ApiError> {
        let who = staff(
            &state,
            req,
            |s| matches!(s.role, Role::Admin | Role::Manager),
            false,
        )
        .await?;
        if !who.manages(*factory) {
            return Err(ApiError::not_found("no such factory"));
        }
        let board = reports::dashboard(&state, &who, *factory, state.clock.now())
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("no such factory"))?;
        Ok(Json(DashboardDto {
            factory_id: board.factory_id,
            lines: board.lines.iter().map(line_dto).collect(),
            whole_factory: board.total.as_ref().map(line_dto),
            joins_per_week: board
                .joins_per_week
                .iter()
                .map(|(week, n)| WeekJoins {
                    week_starting: *week,
                    joins: (*n).into(),
                })
                .collect(),
            lessons: board
                .lessons
                .iter()
                .map(|l| LessonFiguresDto {
                    series: l.series.clone(),
                    title: (&l.title).into(),
                    opened: l.opened.into(),
                    completed: l.completed.into(),
                    completion_rate: l.completion_rate,
                    average_quiz_score: l.average_score,
                })
                .collect(),
        }))
    }

    /// Creates an enrollment code for the factory (its manager or an admin).
    #[oai(
        path = "/manage/factories/:factory/codes",
        method = "post",
        operation_id = "manage_create_code",
        tag = "ApiTags::Manage"
    )]
    async fn create_code(
        &self,
        state: Data<&AppState>,
        factory: Path<i64>,
        body: Json<NewCodeDto>,
        req: &Request,
    ) -> Result<Json<CodeDto>, ApiError> {
        let who = staff(
            &state,
            req,
            |s| matches!(s.role, Role::Admin | Role::Manager),
            true,
        )
        .await?;
        if !who.manages(*factory) {
            return Err(ApiError::not_found("no such factory"));
        }
        if who
            .line_ids
            .as_ref()
            .is_some_and(|ids| body.line_id.is_none_or(|l| !ids.contains(&l)))
        {
            return Err(ApiError::invalid("line_id: pick one of your lines"));
        }
        let now = state.clock.now();
        let new = NewCode {
            factory_id: *factory,
            line_id: body.line_id,
            label: body.label.chars().take(80).collect(),
            expires_at: body.expires_at,
            max_joins: body.max_joins,
        };
        let (id, token) = enrollment::create_code(&state.db, new, now)
            .await
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "create_code",
            &format!("code:{id}"),
            None,
            Some(serde_json::json!({"factory_id": *factory, "line_id": body.line_id})),
            now,
        )
        .await
        .map_err(from_db)?;
        Ok(Json(CodeDto {
            id,
            join_url: crate::web::qr::join_url(&state, &token),
            token,
            label: body.label.clone(),
            line_id: body.line_id,
            joins: 0,
            max_joins: body.max_joins,
            expires_at: body.expires_at,
            revoked: false,
        }))
    }
}
