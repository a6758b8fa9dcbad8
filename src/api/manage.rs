//! Managers through the API: a factory's dashboard of group totals, and its enrollment codes.

use chrono::{DateTime, NaiveDate, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::lessons::LocalizedText;
use super::problem::ApiError;
use super::staff::{ApiTags, Done, staff};
use super::strict_string::StrictString;
use crate::domain::suppress::Shown;
use crate::http::AppState;
use crate::http::error::from_db;
use crate::services::codes::{self, CodeRequest};
use crate::services::reports;
use crate::services::staff::Role;

#[derive(Debug, Clone, Object)]
pub struct FigureDto {
    /// Absent when the figure is about fewer than 5 learners (or would reveal such a figure).
    #[oai(nullable)]
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
    #[oai(nullable)]
    pub line_id: Option<i64>,
    pub name: String,
    pub learners: FigureDto,
    pub active_7_days: FigureDto,
    pub active_30_days: FigureDto,
    #[oai(nullable)]
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
    #[oai(nullable)]
    pub completion_rate: Option<f64>,
    #[oai(nullable)]
    pub average_quiz_score: Option<f64>,
}

#[derive(Debug, Clone, Object)]
pub struct DashboardDto {
    pub factory_id: i64,
    pub lines: Vec<LineFiguresDto>,
    #[oai(nullable)]
    pub whole_factory: Option<LineFiguresDto>,
    pub joins_per_week: Vec<WeekJoins>,
    pub lessons: Vec<LessonFiguresDto>,
}

#[derive(Debug, Clone, Object)]
pub struct CodeDto {
    pub id: i64,
    pub token: String,
    pub label: String,
    #[oai(nullable)]
    pub line_id: Option<i64>,
    pub joins: i32,
    #[oai(nullable)]
    pub max_joins: Option<i32>,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub join_url: String,
}

#[derive(Debug, Clone, Object)]
pub struct NewCodeDto {
    #[oai(default)]
    pub label: StrictString,
    #[oai(nullable)]
    pub line_id: Option<i64>,
    #[oai(nullable)]
    pub expires_at: Option<DateTime<Utc>>,
    #[oai(nullable)]
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

pub struct ManageApi;

#[OpenApi]
impl ManageApi {
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
        let (id, token) = codes::create(
            &state,
            &who,
            *factory,
            CodeRequest {
                label: body.label.to_string(),
                line_id: body.line_id,
                expires_at: body.expires_at,
                max_joins: body.max_joins,
            },
        )
        .await
        .map_err(|e| ApiError::from_action(e, "no such factory"))?;
        Ok(Json(CodeDto {
            id,
            join_url: crate::services::qr::join_url(&state.settings, &token),
            token,
            label: body.label.to_string(),
            line_id: body.line_id,
            joins: 0,
            max_joins: body.max_joins,
            expires_at: body.expires_at,
            revoked: false,
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
        codes::revoke(&state, &who, *factory, *code)
            .await
            .map_err(|e| ApiError::from_action(e, "no such code"))?;
        Ok(Done::NoContent)
    }
}
