//! `/manage`: a factory's manager gets their codes and posters and sees how their teams are
//! doing — as group totals only.

use askama::Template;
use chrono::{Duration, NaiveDate, NaiveTime};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

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
use crate::services::codes::{self, CodeRequest};
use crate::services::reports::{self, Dashboard};
use crate::services::staff::{Role, Staff};

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
    /// Learners still enrolled through the code, hidden under 5 like every figure.
    joins: String,
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
    let lines = codes::scoped_lines(&state, &who, factory)
        .await
        .map_err(from_db)?;
    let line_name = |id: Option<i64>| {
        id.and_then(|id| lines.iter().find(|l| l.id == id))
            .map(|l| l.name.clone())
            .unwrap_or_else(|| "—".into())
    };
    let codes = codes::scoped_codes(&state, &who, factory)
        .await
        .map_err(from_db)?
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
            joins: shown(
                board
                    .code_joins
                    .get(&c.id)
                    .copied()
                    .unwrap_or(Shown::Hidden),
                s,
            ),
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
    codes::create(
        &state,
        &who,
        factory,
        CodeRequest {
            label: field(&fields, "label").unwrap_or_default().to_owned(),
            line_id,
            expires_at,
            max_joins,
        },
    )
    .await?;
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
    codes::revoke(&state, &who, factory, code).await?;
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, format!("/manage/f/{factory}"))
        .finish())
}
