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
use crate::domain::token::RecoveryCode;
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::http::staff_auth::{check_csrf, csrf_token, require};
use crate::services::staff::{self, Role, Staff, audit};
use crate::services::{accounts, enrollment};

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
    let audit_rows = query(state, "SELECT actor, action, target, before_json, after_json, created_at FROM audit_log ORDER BY id DESC LIMIT 100")
        .await?
        .iter()
        .filter_map(|r| {
            let at: chrono::DateTime<chrono::Utc> = r.try_get("", "created_at").ok()?;
            let before: Option<String> = r.try_get("", "before_json").ok()?;
            let after: Option<String> = r.try_get("", "after_json").ok()?;
            Some((
                at.format("%Y-%m-%d %H:%M UTC").to_string(),
                r.try_get("", "actor").ok()?,
                format!("{} {}", r.try_get::<String>("", "action").ok()?, r.try_get::<String>("", "target").ok()?),
                before.unwrap_or_default(),
                after.unwrap_or_default(),
            ))
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
    let zh = field(&fields, "name_zh")
        .unwrap_or_default()
        .trim()
        .to_owned();
    if zh.is_empty() {
        return Err(AppError::BadRequest(
            "name_zh: the factory needs a name".into(),
        ));
    }
    let en = field(&fields, "name_en")
        .filter(|v| !v.trim().is_empty())
        .unwrap_or(&zh)
        .to_owned();
    let now = state.clock.now();
    let id = enrollment::add_factory(&state.db, &zh, &en, field(&fields, "city"), now)
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
    let name = field(&fields, "name").unwrap_or_default().trim().to_owned();
    if name.is_empty() {
        return Err(AppError::BadRequest("name: the line needs a name".into()));
    }
    let now = state.clock.now();
    let id = enrollment::add_line(&state.db, factory, &name, now)
        .await
        .map_err(|_| AppError::NotFound)?;
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "add_line",
        &format!("line:{id}"),
        None,
        Some(serde_json::json!({"factory_id": factory, "name": name})),
        now,
    )
    .await
    .map_err(from_db)?;
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
    let role = field(&fields, "role")
        .and_then(Role::parse)
        .ok_or_else(|| AppError::BadRequest("role: admin, editor or manager".into()))?;
    let factory = match field(&fields, "factory").filter(|v| !v.is_empty()) {
        Some(raw) => Some(
            raw.parse::<i64>()
                .map_err(|_| AppError::BadRequest("factory: a factory id".into()))?,
        ),
        None => None,
    };
    let email = field(&fields, "email").unwrap_or_default();
    let now = state.clock.now();
    let (id, token) = staff::add(&state.db, email, role, factory, None, now)
        .await
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    audit(&state.db, Some(who.id), &who.email, "add_staff", &format!("staff:{id}"), None, Some(serde_json::json!({"email": email.trim().to_lowercase(), "role": role.as_str(), "factory_id": factory})), now)
        .await
        .map_err(from_db)?;
    let link = format!("{}/staff/setup/{token}", state.settings.public_url());
    page(&state, lang, &who, Some(link), None, None).await
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
    let code = field(&fields, "recovery_code").and_then(RecoveryCode::parse);
    let found = match code {
        Some(code) => state
            .db
            .query_one_raw(Statement::from_sql_and_values(
                state.db.get_database_backend(),
                "SELECT id, nickname FROM learner WHERE recovery_code = $1",
                [code.as_str().into()],
            ))
            .await
            .map_err(|e| from_db(e.into()))?
            .and_then(|r| {
                Some((
                    r.try_get::<i64>("", "id").ok()?,
                    r.try_get::<Option<String>>("", "nickname")
                        .ok()?
                        .unwrap_or_default(),
                ))
            }),
        None => None,
    };
    let message = found
        .is_none()
        .then(|| "no learner has that recovery code".to_owned());
    page(&state, lang, &who, None, found, message).await
}

#[handler]
pub async fn learner_export(
    state: Data<&AppState>,
    Path(id): Path<i64>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = admin(&state, req).await?;
    let now = state.clock.now();
    let export = accounts::export(&state.db, id, now)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "export_learner",
        &format!("learner:{id}"),
        None,
        None,
        now,
    )
    .await
    .map_err(from_db)?;
    Ok(Response::builder()
        .content_type("application/json")
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"learner-{id}.json\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
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
    if !accounts::delete(&state.db, id).await.map_err(from_db)? {
        return Err(AppError::NotFound);
    }
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "delete_learner",
        &format!("learner:{id}"),
        None,
        None,
        state.clock.now(),
    )
    .await
    .map_err(from_db)?;
    Ok(back())
}
