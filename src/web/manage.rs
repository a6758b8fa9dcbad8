//! `/manage`: a factory's manager gets their codes and posters and sees how their teams are
//! doing — as group totals only.

use askama::Template;
use chrono::{Duration, NaiveDate, NaiveTime};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::i18n_staff::{StaffUi, staff_ui};
use super::pages::{chrome, html, render};
use super::staff::field;
use super::views::Chrome;
use crate::domain::Lang;
use crate::domain::schedule::local_to_utc;
use crate::domain::suppress::Shown;
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::http::staff_auth::{check_csrf, csrf_token, require};
use crate::services::enrollment::{self, NewCode};
use crate::services::reports::{self, Dashboard};
use crate::services::staff::{Role, Staff, audit};
use crate::store::entity::{enrollment_code, line};

/// The manager of `factory` (or an admin); another factory's id is a 404, as if it did not exist.
async fn manager(state: &AppState, req: &Request, factory: i64) -> Result<Staff, AppError> {
    let who = require(state, req, |s| {
        matches!(s.role, Role::Admin | Role::Manager)
    })
    .await?;
    if who.manages(factory) {
        Ok(who)
    } else {
        Err(AppError::NotFound)
    }
}

#[handler]
pub async fn home(state: Data<&AppState>, req: &Request) -> Result<Response, AppError> {
    let who = require(&state, req, |s| {
        matches!(s.role, Role::Admin | Role::Manager)
    })
    .await?;
    let target = match (who.role, who.factory_id) {
        (Role::Manager, Some(id)) => format!("/manage/f/{id}"),
        _ => "/admin".into(),
    };
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, target)
        .finish())
}

struct CodeRow {
    id: i64,
    token: String,
    label: String,
    line: String,
    joins: i32,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    factory_id: i64,
    factory: String,
    lines: Vec<(i64, String)>,
    figures: Vec<(String, String, String, String, String)>,
    chart: Vec<(String, u32, String)>,
    lessons: Vec<(String, String, String, String, String)>,
    codes: Vec<CodeRow>,
}

fn shown(s: Shown, ui: &StaffUi) -> String {
    s.value()
        .map(|n| n.to_string())
        .unwrap_or_else(|| ui.fewer_than_5.to_owned())
}

fn pct(v: Option<f64>, ui: &StaffUi) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| ui.fewer_than_5.to_owned())
}

async fn scoped_codes(
    state: &AppState,
    who: &Staff,
    factory: i64,
) -> Result<Vec<enrollment_code::Model>, AppError> {
    let codes = enrollment_code::Entity::find()
        .filter(enrollment_code::Column::FactoryId.eq(factory))
        .order_by_desc(enrollment_code::Column::Id)
        .all(&state.db)
        .await
        .map_err(|e| from_db(e.into()))?;
    Ok(codes
        .into_iter()
        .filter(|c| {
            who.line_ids
                .as_ref()
                .is_none_or(|ids| c.line_id.is_some_and(|l| ids.contains(&l)))
        })
        .collect())
}

async fn scoped_lines(
    state: &AppState,
    who: &Staff,
    factory: i64,
) -> Result<Vec<line::Model>, AppError> {
    let lines = line::Entity::find()
        .filter(line::Column::FactoryId.eq(factory))
        .order_by_asc(line::Column::Id)
        .all(&state.db)
        .await
        .map_err(|e| from_db(e.into()))?;
    Ok(lines
        .into_iter()
        .filter(|l| who.line_ids.as_ref().is_none_or(|ids| ids.contains(&l.id)))
        .collect())
}

async fn load(state: &AppState, who: &Staff, factory: i64) -> Result<Dashboard, AppError> {
    reports::dashboard(state, who, factory, state.clock.now())
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)
}

#[handler]
pub async fn dashboard(
    state: Data<&AppState>,
    lang: Lang,
    Path(factory): Path<i64>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = manager(&state, req, factory).await?;
    let board = load(&state, &who, factory).await?;
    let s = staff_ui(lang);
    let now = state.clock.now();
    let lines = scoped_lines(&state, &who, factory).await?;
    let line_name = |id: Option<i64>| {
        id.and_then(|id| lines.iter().find(|l| l.id == id))
            .map(|l| l.name.clone())
            .unwrap_or_else(|| "—".into())
    };
    let codes = scoped_codes(&state, &who, factory)
        .await?
        .into_iter()
        .map(|c| CodeRow {
            state: if c.revoked_at.is_some() {
                "✖"
            } else if c.expires_at.is_some_and(|e| e <= now)
                || c.max_joins.is_some_and(|m| c.joins >= m)
            {
                "⏸"
            } else {
                "✔"
            },
            id: c.id,
            line: line_name(c.line_id),
            token: c.token,
            label: c.label,
            joins: c.joins,
        })
        .collect();
    let max = board
        .joins_per_week
        .iter()
        .filter_map(|(_, n)| n.value())
        .max()
        .unwrap_or(1)
        .max(1);
    let chart = board
        .joins_per_week
        .iter()
        .map(|(week, n)| {
            (
                week.format("%m-%d").to_string(),
                n.value().map(|v| (v * 100 / max) as u32).unwrap_or(0),
                shown(*n, s),
            )
        })
        .collect();
    let figures = board
        .lines
        .iter()
        .chain(board.total.iter())
        .map(|l| {
            let name = if l.name.is_empty() {
                s.whole_factory.to_owned()
            } else {
                l.name.clone()
            };
            (
                name,
                shown(l.learners, s),
                shown(l.active_7, s),
                shown(l.active_30, s),
                pct(l.average_score, s),
            )
        })
        .collect();
    let lessons = board
        .lessons
        .iter()
        .map(|l| {
            (
                l.title.get(lang).to_owned(),
                shown(l.opened, s),
                shown(l.completed, s),
                pct(l.completion_rate, s),
                pct(l.average_score, s),
            )
        })
        .collect();
    let page = ManagePage {
        page: chrome(&state, lang, s.dashboard, &format!("/manage/f/{factory}")),
        s,
        csrf: csrf_token(&state, &who),
        factory_id: factory,
        factory: board.factory_name.get(lang).to_owned(),
        lines: lines.iter().map(|l| (l.id, l.name.clone())).collect(),
        figures,
        chart,
        lessons,
        codes,
    };
    Ok(html(render(&page)?))
}

#[handler]
pub async fn dashboard_csv(
    state: Data<&AppState>,
    Path(factory): Path<i64>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = manager(&state, req, factory).await?;
    let board = load(&state, &who, factory).await?;
    Ok(Response::builder()
        .content_type("text/csv; charset=utf-8")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"homeward-factory-{factory}.csv\""),
        )
        .body(reports::csv(&board)))
}

#[handler]
pub async fn create_code(
    state: Data<&AppState>,
    Path(factory): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = manager(&state, req, factory).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let line_id = match field(&fields, "line").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest("line: pick one of your lines".into()))?,
        ),
    };
    let allowed_lines = scoped_lines(&state, &who, factory).await?;
    if line_id.is_some_and(|id| !allowed_lines.iter().any(|l| l.id == id))
        || (line_id.is_none() && who.line_ids.is_some())
    {
        return Err(AppError::BadRequest("line: pick one of your lines".into()));
    }
    let expires_at = match field(&fields, "expires").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => {
            let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| AppError::BadRequest("expires: use YYYY-MM-DD".into()))?;
            Some(local_to_utc(
                chrono_tz::Asia::Shanghai,
                (day + Duration::days(1)).and_time(NaiveTime::MIN),
            ))
        }
    };
    let max_joins = match field(&fields, "max_joins").filter(|v| !v.is_empty()) {
        None => None,
        Some(raw) => Some(
            raw.parse::<i32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| AppError::BadRequest("max_joins: a number from 1".into()))?,
        ),
    };
    let label = field(&fields, "label")
        .unwrap_or_default()
        .chars()
        .take(80)
        .collect::<String>();
    let now = state.clock.now();
    let (id, _) = enrollment::create_code(
        &state.db,
        NewCode {
            factory_id: factory,
            line_id,
            label: label.clone(),
            expires_at,
            max_joins,
        },
        now,
    )
    .await
    .map_err(|e| AppError::BadRequest(e.to_string()))?;
    audit(&state.db, Some(who.id), &who.email, "create_code", &format!("code:{id}"), None, Some(serde_json::json!({"factory_id": factory, "line_id": line_id, "label": label, "expires_at": expires_at, "max_joins": max_joins})), now)
        .await
        .map_err(from_db)?;
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, format!("/manage/f/{factory}"))
        .finish())
}

#[handler]
pub async fn revoke_code(
    state: Data<&AppState>,
    Path((factory, code)): Path<(i64, i64)>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = manager(&state, req, factory).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let found = scoped_codes(&state, &who, factory)
        .await?
        .into_iter()
        .find(|c| c.id == code)
        .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    enrollment::revoke_code(&state.db, &found.token, now)
        .await
        .map_err(from_db)?;
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "revoke_code",
        &format!("code:{code}"),
        Some(serde_json::json!({"revoked_at": found.revoked_at})),
        Some(serde_json::json!({"revoked_at": now})),
        now,
    )
    .await
    .map_err(from_db)?;
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, format!("/manage/f/{factory}"))
        .finish())
}
