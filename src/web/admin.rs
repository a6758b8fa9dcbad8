//! `/admin`: factories and lines, staff accounts, the audit log, and learners' data requests.

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use sea_orm::{ConnectionTrait, Statement};

use super::i18n_staff::{StaffUi, staff_ui};
use super::pages::{chrome, html, render};
use super::staff::field;
use super::views::Chrome;
use crate::domain::Lang;
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::http::headers::shows_secret;
use crate::http::staff_auth::{check_csrf, csrf_token, require};
use crate::services::admin;
use crate::services::staff::{Role, Staff};

async fn admin(state: &AppState, req: &Request) -> Result<Staff, AppError> {
    require(state, req, |s| s.role == Role::Admin).await
}

/// A factory: id, names in zh and en, and its lines (id, name).
type FactoryRow = (i64, String, String, Vec<(i64, String)>);

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    factories: Vec<FactoryRow>,
    staff: Vec<(i64, String, String, String)>,
    audit: Vec<(String, String, String, String, String)>,
    invite: Option<String>,
    learner: Option<(i64, String)>,
    message: Option<String>,
}

async fn query(state: &AppState, sql: &str) -> Result<Vec<sea_orm::QueryResult>, AppError> {
    state
        .db
        .query_all_raw(Statement::from_string(
            state.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .map_err(|e| from_db(e.into()))
}

async fn page(
    state: &AppState,
    lang: Lang,
    who: &Staff,
    invite: Option<String>,
    learner: Option<(i64, String)>,
    message: Option<String>,
) -> Result<Response, AppError> {
    let lines = query(state, "SELECT id, factory_id, name FROM line ORDER BY id").await?;
    let factories = query(
        state,
        "SELECT id, name_zh, name_en FROM factory ORDER BY id",
    )
    .await?
    .iter()
    .filter_map(|r| {
        let id: i64 = r.try_get("", "id").ok()?;
        let lines_of = lines
            .iter()
            .filter(|l| l.try_get::<i64>("", "factory_id").ok() == Some(id))
            .filter_map(|l| Some((l.try_get("", "id").ok()?, l.try_get("", "name").ok()?)))
            .collect();
        Some((
            id,
            r.try_get("", "name_zh").ok()?,
            r.try_get("", "name_en").ok()?,
            lines_of,
        ))
    })
    .collect();
    let staff = query(
        state,
        "SELECT id, email, role, factory_id FROM staff ORDER BY id",
    )
    .await?
    .iter()
    .filter_map(|r| {
        let factory: Option<i64> = r.try_get("", "factory_id").ok()?;
        Some((
            r.try_get("", "id").ok()?,
            r.try_get("", "email").ok()?,
            r.try_get("", "role").ok()?,
            factory.map(|f| f.to_string()).unwrap_or_default(),
        ))
    })
    .collect();
    let audit_rows = admin::audit_log(state, 100)
        .await
        .map_err(from_db)?
        .into_iter()
        .map(|r| {
            (
                r.at.format("%Y-%m-%d %H:%M UTC").to_string(),
                r.actor,
                format!("{} {}", r.action, r.target),
                r.before.unwrap_or_default(),
                r.after.unwrap_or_default(),
            )
        })
        .collect();
    let s = staff_ui(lang);
    let view = AdminPage {
        page: chrome(state, lang, s.admin, "/admin"),
        s,
        csrf: csrf_token(state, who),
        factories,
        staff,
        audit: audit_rows,
        invite,
        learner,
        message,
    };
    Ok(html(render(&view)?))
}

#[handler]
pub async fn index(
    state: Data<&AppState>,
    lang: Lang,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    shows_secret(req);
    page(&state, lang, &who, None, None, None).await
}

fn back() -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/admin")
        .finish()
}

#[handler]
pub async fn add_factory(
    state: Data<&AppState>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    admin::add_factory(
        &state,
        &who,
        field(&fields, "name_zh").unwrap_or_default(),
        field(&fields, "name_en"),
        field(&fields, "city"),
    )
    .await?;
    Ok(back())
}

#[handler]
pub async fn add_line(
    state: Data<&AppState>,
    Path(factory): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    admin::add_line(
        &state,
        &who,
        factory,
        field(&fields, "name").unwrap_or_default(),
    )
    .await?;
    Ok(back())
}

#[handler]
pub async fn add_staff(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let factory = match field(&fields, "factory").filter(|v| !v.is_empty()) {
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest("factory: a factory id".into()))?,
        ),
        None => None,
    };
    let invited = admin::add_staff(
        &state,
        &who,
        field(&fields, "email").unwrap_or_default(),
        field(&fields, "role").unwrap_or_default(),
        factory,
        None,
    )
    .await?;
    shows_secret(req);
    page(&state, lang, &who, Some(invited.setup_url), None, None).await
}

/// A learner's request to see or delete their data, found by their recovery code.
#[handler]
pub async fn learner_request(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let found = admin::learner_by_recovery_code(
        &state,
        field(&fields, "recovery_code").unwrap_or_default(),
    )
    .await
    .map_err(from_db)?
    .map(|(id, nickname)| (id, nickname.unwrap_or_default()));
    let message = found
        .is_none()
        .then(|| "no learner has that recovery code".to_owned());
    shows_secret(req);
    page(&state, lang, &who, None, found, message).await
}

#[handler]
pub async fn learner_export(
    state: Data<&AppState>,
    Path(id): Path<i64>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    let export = admin::export_learner(&state, &who, id).await?;
    shows_secret(req);
    Ok(Response::builder()
        .content_type("application/json")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"learner-{id}.json\""),
        )
        .body(serde_json::to_string_pretty(&export).unwrap_or_default()))
}

#[handler]
pub async fn learner_delete(
    state: Data<&AppState>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    admin::delete_learner(&state, &who, id).await?;
    Ok(back())
}
