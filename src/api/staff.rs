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
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::services::enrollment::{self, NewCode};
use crate::services::reports;
use crate::services::staff::{Role, Staff, audit};
use crate::services::{lessons, studio};

#[derive(Tags)]
enum ApiTags {
    /// Editors: the release plan of each series.
    Studio,
    /// Managers: a factory's codes and group totals.
    Manage,
    /// Admins: factories, lines, staff, the audit log, learners' data requests.
    Admin,
    /// Any staff member: personal API tokens.
    Staff,
}

#[derive(Debug, Clone, Object)]
pub struct Cadence {
    /// Week 1's local date, YYYY-MM-DD.
    pub first_release: String,
    /// mon, tue, wed, thu, fri, sat or sun.
    pub weekday: String,
    /// Local time, HH:MM.
    pub time: String,
}

#[derive(Debug, Clone, Object)]
pub struct QuestionStatsDto {
    pub id: String,
    pub answered: u64,
    pub correct: u64,
    pub top_wrong_choice: Option<String>,
    pub top_wrong_count: Option<u64>,
}

#[derive(Debug, Clone, Object)]
pub struct LessonStatsDto {
    pub opened: u64,
    pub completed: u64,
    pub median_video_seconds: Option<f64>,
    pub quiz_takers: u64,
    pub quiz_passed: u64,
    pub questions: Vec<QuestionStatsDto>,
}

#[derive(Debug, Clone, Object)]
pub struct Created {
    pub id: i64,
}

#[derive(Debug, Clone, Object)]
pub struct NewFactory {
    pub name_zh: String,
    pub name_en: Option<String>,
    pub city: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct NewLine {
    pub name: String,
}

#[derive(Debug, Clone, Object)]
pub struct NewStaff {
    pub email: String,
    /// admin, editor or manager.
    pub role: String,
    pub factory_id: Option<i64>,
    pub line_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Object)]
pub struct Invited {
    pub id: i64,
    /// One-time link (7 days) to set the password.
    pub setup_url: String,
}

#[derive(Debug, Clone, Object)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object)]
pub struct LearnerRequest {
    pub recovery_code: String,
}

#[derive(Debug, Clone, Object)]
pub struct NewToken {
    pub name: String,
}

#[derive(Debug, Clone, Object)]
pub struct TokenCreated {
    pub id: i64,
    /// Shown only this once.
    pub token: String,
}

/// The staff member, if `allowed`; for changes, a cookie session must also send its CSRF token.
async fn staff(
    state: &AppState,
    req: &Request,
    allowed: impl Fn(&Staff) -> bool,
    changes: bool,
) -> Result<Staff, ApiError> {
    let who = crate::http::staff_auth::current_staff(state, req)
        .await?
        .ok_or_else(|| ApiError::from(AppError::SignIn(String::new())))?;
    if !allowed(&who) {
        return Err(AppError::Forbidden.into());
    }
    if changes && crate::http::staff_auth::check_csrf(state, req, &who, None).is_err() {
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
            join_url: crate::services::qr::join_url(&state.settings, &token),
            token,
            label: body.label.clone(),
            line_id: body.line_id,
            joins: 0,
            max_joins: body.max_joins,
            expires_at: body.expires_at,
            revoked: false,
        }))
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

    /// Revokes one of the factory's codes.
    #[oai(
        path = "/manage/factories/:factory/codes/:code/revoke",
        method = "post",
        operation_id = "manage_revoke_code",
        tag = "ApiTags::Manage"
    )]
    async fn revoke_code(
        &self,
        state: Data<&AppState>,
        factory: Path<i64>,
        code: Path<i64>,
        req: &Request,
    ) -> Result<Done, ApiError> {
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
        let found = enrollment::list_codes(&state.db)
            .await
            .map_err(from_db)?
            .into_iter()
            .find(|c| c.id == *code && c.factory_id == *factory)
            .filter(|c| {
                who.line_ids
                    .as_ref()
                    .is_none_or(|ids| c.line_id.is_some_and(|l| ids.contains(&l)))
            })
            .ok_or_else(|| ApiError::not_found("no such code"))?;
        let now = state.clock.now();
        enrollment::revoke_code(&state.db, &found.token, now)
            .await
            .map_err(from_db)?;
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "revoke_code",
            &format!("code:{}", found.id),
            None,
            Some(serde_json::json!({"revoked_at": now})),
            now,
        )
        .await
        .map_err(from_db)?;
        Ok(Done::NoContent)
    }

    /// Adds a factory (admins).
    #[oai(
        path = "/admin/factories",
        method = "post",
        operation_id = "admin_add_factory",
        tag = "ApiTags::Admin"
    )]
    async fn add_factory(
        &self,
        state: Data<&AppState>,
        body: Json<NewFactory>,
        req: &Request,
    ) -> Result<Json<Created>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        let zh = body.name_zh.trim();
        if zh.is_empty() {
            return Err(ApiError::invalid("name_zh: the factory needs a name"));
        }
        let en = body
            .name_en
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(zh);
        let now = state.clock.now();
        let id = enrollment::add_factory(&state.db, zh, en, body.city.as_deref(), now)
            .await
            .map_err(from_db)?;
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "add_factory",
            &format!("factory:{id}"),
            None,
            Some(serde_json::json!({"name_zh": zh, "name_en": en})),
            now,
        )
        .await
        .map_err(from_db)?;
        Ok(Json(Created { id }))
    }

    /// Adds a line to a factory (admins).
    #[oai(
        path = "/admin/factories/:factory/lines",
        method = "post",
        operation_id = "admin_add_line",
        tag = "ApiTags::Admin"
    )]
    async fn add_line(
        &self,
        state: Data<&AppState>,
        factory: Path<i64>,
        body: Json<NewLine>,
        req: &Request,
    ) -> Result<Json<Created>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        if body.name.trim().is_empty() {
            return Err(ApiError::invalid("name: the line needs a name"));
        }
        let now = state.clock.now();
        let id = enrollment::add_line(&state.db, *factory, &body.name, now)
            .await
            .map_err(|_| ApiError::not_found("no such factory"))?;
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "add_line",
            &format!("line:{id}"),
            None,
            Some(serde_json::json!({"factory_id": *factory, "name": body.name})),
            now,
        )
        .await
        .map_err(from_db)?;
        Ok(Json(Created { id }))
    }

    /// Adds a staff account and returns its one-time set-password link (admins).
    #[oai(
        path = "/admin/staff",
        method = "post",
        operation_id = "admin_add_staff",
        tag = "ApiTags::Admin"
    )]
    async fn add_staff(
        &self,
        state: Data<&AppState>,
        body: Json<NewStaff>,
        req: &Request,
    ) -> Result<Json<Invited>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        let role = Role::parse(&body.role)
            .ok_or_else(|| ApiError::invalid("role: admin, editor or manager"))?;
        let now = state.clock.now();
        let (id, token) = crate::services::staff::add(
            &state.db,
            &body.email,
            role,
            body.factory_id,
            body.line_ids.clone(),
            now,
        )
        .await
        .map_err(|e| ApiError::invalid(e.to_string()))?;
        audit(&state.db, Some(who.id), &who.email, "add_staff", &format!("staff:{id}"), None, Some(serde_json::json!({"email": body.email.trim().to_lowercase(), "role": role.as_str(), "factory_id": body.factory_id})), now)
            .await
            .map_err(from_db)?;
        Ok(Json(Invited {
            id,
            setup_url: format!("{}/staff/setup/{token}", state.settings.public_url()),
        }))
    }

    /// The latest 200 entries of the audit log (admins).
    #[oai(
        path = "/admin/audit",
        method = "get",
        operation_id = "admin_audit",
        tag = "ApiTags::Admin"
    )]
    async fn audit_log(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<Vec<AuditEntry>>, ApiError> {
        use sea_orm::{ConnectionTrait, Statement};
        staff(&state, req, |s| s.role == Role::Admin, false).await?;
        let rows = state
            .db
            .query_all_raw(Statement::from_string(
                state.db.get_database_backend(),
                "SELECT actor, action, target, before_json, after_json, created_at FROM audit_log ORDER BY id DESC LIMIT 200",
            ))
            .await
            .map_err(|e| from_db(e.into()))?;
        Ok(Json(
            rows.iter()
                .filter_map(|r| {
                    Some(AuditEntry {
                        actor: r.try_get("", "actor").ok()?,
                        action: r.try_get("", "action").ok()?,
                        target: r.try_get("", "target").ok()?,
                        before: r.try_get("", "before_json").ok()?,
                        after: r.try_get("", "after_json").ok()?,
                        at: r.try_get("", "created_at").ok()?,
                    })
                })
                .collect(),
        ))
    }

    /// Finds the learner a recovery code belongs to, for their data request (admins).
    #[oai(
        path = "/admin/learner-requests",
        method = "post",
        operation_id = "admin_learner_request",
        tag = "ApiTags::Admin"
    )]
    async fn learner_request(
        &self,
        state: Data<&AppState>,
        body: Json<LearnerRequest>,
        req: &Request,
    ) -> Result<Json<Created>, ApiError> {
        use sea_orm::{ConnectionTrait, Statement};
        staff(&state, req, |s| s.role == Role::Admin, true).await?;
        let code = crate::domain::token::RecoveryCode::parse(&body.recovery_code)
            .ok_or_else(|| ApiError::not_found("no learner has that recovery code"))?;
        let row = state
            .db
            .query_one_raw(Statement::from_sql_and_values(
                state.db.get_database_backend(),
                "SELECT id FROM learner WHERE recovery_code = $1",
                [code.as_str().into()],
            ))
            .await
            .map_err(|e| from_db(e.into()))?
            .ok_or_else(|| ApiError::not_found("no learner has that recovery code"))?;
        Ok(Json(Created {
            id: row.try_get("", "id").map_err(|e| from_db(e.into()))?,
        }))
    }

    /// Everything held about a learner, for their data request (admins; audited).
    #[oai(
        path = "/admin/learners/:id/export",
        method = "get",
        operation_id = "admin_learner_export",
        tag = "ApiTags::Admin"
    )]
    async fn learner_export(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        req: &Request,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, false).await?;
        let now = state.clock.now();
        let export = crate::services::accounts::export(&state.db, *id, now)
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("no such learner"))?;
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "export_learner",
            &format!("learner:{}", *id),
            None,
            None,
            now,
        )
        .await
        .map_err(from_db)?;
        Ok(Json(export))
    }

    /// Deletes a learner and everything about them, for their data request (admins; audited).
    #[oai(
        path = "/admin/learners/:id",
        method = "delete",
        operation_id = "admin_learner_delete",
        tag = "ApiTags::Admin"
    )]
    async fn learner_delete(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        if !crate::services::accounts::delete(&state.db, *id)
            .await
            .map_err(from_db)?
        {
            return Err(ApiError::not_found("no such learner"));
        }
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "delete_learner",
            &format!("learner:{}", *id),
            None,
            None,
            state.clock.now(),
        )
        .await
        .map_err(from_db)?;
        Ok(Done::NoContent)
    }

    /// Creates a personal API token for the signed-in staff member (shown once).
    #[oai(
        path = "/staff/tokens",
        method = "post",
        operation_id = "staff_create_token",
        tag = "ApiTags::Staff"
    )]
    async fn create_token(
        &self,
        state: Data<&AppState>,
        body: Json<NewToken>,
        req: &Request,
    ) -> Result<Json<TokenCreated>, ApiError> {
        let who = staff(&state, req, |_| true, true).await?;
        let (id, token) =
            crate::services::staff::create_token(&state.db, &who, &body.name, state.clock.now())
                .await
                .map_err(from_db)?;
        Ok(Json(TokenCreated { id, token }))
    }

    /// Revokes one of the signed-in staff member's tokens.
    #[oai(
        path = "/staff/tokens/:id",
        method = "delete",
        operation_id = "staff_revoke_token",
        tag = "ApiTags::Staff"
    )]
    async fn revoke_token(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, |_| true, true).await?;
        if crate::services::staff::revoke_token(&state.db, &who, *id, state.clock.now())
            .await
            .map_err(from_db)?
        {
            Ok(Done::NoContent)
        } else {
            Err(ApiError::not_found("no such token of yours"))
        }
    }
}
