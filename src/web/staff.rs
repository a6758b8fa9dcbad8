//! Staff sign-in: sessions (cookie) and personal API tokens (Bearer), CSRF tokens signed with
//! the server's secret, and the pages to sign in, sign out, set a password and manage tokens.

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::i18n_staff::{StaffUi, staff_ui};
use super::pages::{chrome, html, render};
use super::views::Chrome;
use crate::domain::Lang;
use crate::http::AppState;
use crate::http::auth;
use crate::http::error::{AppError, from_db};
use crate::http::headers::shows_secret;
use crate::http::redirect::safe_local_path;
use crate::http::staff_auth::{STAFF_COOKIE, check_csrf, csrf_token, require, staff_cookie};
use crate::services::staff::{self, Role, Staff};

pub fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

pub fn home_for(staff: &Staff) -> String {
    match staff.role {
        Role::Admin => "/admin".into(),
        Role::Editor => "/studio".into(),
        Role::Manager => format!("/manage/f/{}", staff.factory_id.unwrap_or_default()),
    }
}

#[derive(Template)]
#[template(path = "staff_login.html")]
struct LoginPage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    next: String,
    failed: bool,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Where to go after signing in: a path on this site, or nowhere in particular.
fn local_path(next: Option<&str>) -> String {
    next.and_then(safe_local_path).unwrap_or_default()
}

#[handler]
pub async fn login_page(
    state: Data<&AppState>,
    lang: Lang,
    Query(query): Query<NextQuery>,
    req: &Request,
) -> Result<Response, AppError> {
    let (csrf, new) = auth::csrf_token(req);
    let s = staff_ui(lang);
    let page = LoginPage {
        page: chrome(&state, lang, s.sign_in, "/staff/login"),
        s,
        csrf: csrf.clone(),
        next: local_path(query.next.as_deref()),
        failed: false,
    };
    let mut response = html(render(&page)?);
    if new {
        response.headers_mut().append(
            header::SET_COOKIE,
            crate::http::cookies::set_cookie(
                &state,
                crate::http::cookies::CSRF_COOKIE,
                &csrf,
                crate::http::cookies::YEAR,
            )
            .parse()
            .expect("cookie"),
        );
    }
    Ok(response)
}

/// Failed sign-ins allowed per client address, and per account from one address, per window.
pub const LOGIN_FAILURES_PER_ADDRESS: i64 = 30;
pub const LOGIN_FAILURES_PER_ACCOUNT: i64 = 10;
pub const LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(900);

#[handler]
pub async fn login_submit(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    if !auth::csrf_ok(req, field(&fields, "csrf")) {
        return Err(AppError::BadRequest(
            "the form has expired; please reload the page".into(),
        ));
    }
    let email = field(&fields, "email")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let password = field(&fields, "password").unwrap_or_default();
    // Only failures count, per address and per account *from that address*: wrong passwords
    // sent from one place never lock the account's owner out elsewhere, and signing in
    // successfully uses up nothing.
    let ip = crate::http::client::client_ip(&state, req);
    let failure_keys = [
        (format!("login-fail-ip:{ip}"), LOGIN_FAILURES_PER_ADDRESS),
        (
            format!("login-fail-account:{ip}:{email}"),
            LOGIN_FAILURES_PER_ACCOUNT,
        ),
    ];
    for (key, max) in &failure_keys {
        state
            .cache
            .failures_exceeded(key, *max)
            .await
            .map_err(AppError::TooManyRequests)?;
    }
    let next = local_path(field(&fields, "next"));
    match staff::login(&state.db, &email, password, state.clock.now())
        .await
        .map_err(from_db)?
    {
        Some(token) => {
            let who = staff::authenticate_session(&state.db, &token, state.clock.now())
                .await
                .map_err(from_db)?;
            let target = if next.is_empty() {
                who.as_ref().map(home_for).unwrap_or_else(|| "/".into())
            } else {
                next
            };
            tracing::info!(staff_id = who.as_ref().map(|s| s.id), "staff signed in");
            Ok(Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, target)
                .header(header::SET_COOKIE, staff_cookie(&state, &token, false))
                .finish())
        }
        None => {
            for (key, _) in &failure_keys {
                state.cache.count_failure(key, LOGIN_WINDOW).await;
            }
            let s = staff_ui(lang);
            let page = LoginPage {
                page: chrome(&state, lang, s.sign_in, "/staff/login"),
                s,
                csrf: field(&fields, "csrf").unwrap_or_default().to_owned(),
                next,
                failed: true,
            };
            Ok(html(render(&page)?)
                .with_status(StatusCode::UNAUTHORIZED)
                .into_response())
        }
    }
}

#[handler]
pub async fn logout(
    state: Data<&AppState>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = require(&state, req, |_| true).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    if let Some(token) = crate::http::cookies::cookie(req, STAFF_COOKIE) {
        staff::logout(&state.db, token).await.map_err(from_db)?;
    }
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/staff/login")
        .header(header::SET_COOKIE, staff_cookie(&state, "", true))
        .finish())
}

#[derive(Template)]
#[template(path = "staff_setup.html")]
struct SetupPage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    email: Option<String>,
    error: Option<String>,
    action: String,
}

#[handler]
pub async fn setup_page(
    state: Data<&AppState>,
    lang: Lang,
    Path(token): Path<String>,
    req: &Request,
) -> Result<Response, AppError> {
    let email = staff::invite_email(&state.db, &token, state.clock.now())
        .await
        .map_err(from_db)?;
    let (csrf, new) = auth::csrf_token(req);
    // The link itself is the secret: a page at it is never stored.
    shows_secret(req);
    let s = staff_ui(lang);
    let status = if email.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let page = SetupPage {
        page: chrome(&state, lang, s.set_password, "/staff/setup"),
        s,
        csrf: csrf.clone(),
        email,
        error: None,
        action: format!("/staff/setup/{token}"),
    };
    let mut response = html(render(&page)?).with_status(status).into_response();
    if new {
        response.headers_mut().append(
            header::SET_COOKIE,
            crate::http::cookies::set_cookie(
                &state,
                crate::http::cookies::CSRF_COOKIE,
                &csrf,
                crate::http::cookies::YEAR,
            )
            .parse()
            .expect("cookie"),
        );
    }
    Ok(response)
}

#[handler]
pub async fn setup_submit(
    state: Data<&AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    if !auth::csrf_ok(req, field(&fields, "csrf")) {
        return Err(AppError::BadRequest(
            "the form has expired; please reload the page".into(),
        ));
    }
    let password = field(&fields, "password").unwrap_or_default();
    match staff::set_password(&state.db, &token, password, state.clock.now()).await {
        Ok(_) => Ok(Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/staff/login")
            .finish()),
        Err(message) => {
            let s = staff_ui(lang);
            let email = staff::invite_email(&state.db, &token, state.clock.now())
                .await
                .map_err(from_db)?;
            let page = SetupPage {
                page: chrome(&state, lang, s.set_password, "/staff/setup"),
                s,
                csrf: field(&fields, "csrf").unwrap_or_default().to_owned(),
                email,
                error: Some(message),
                action: format!("/staff/setup/{token}"),
            };
            Ok(html(render(&page)?)
                .with_status(StatusCode::BAD_REQUEST)
                .into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "staff_tokens.html")]
struct TokensPage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    tokens: Vec<(i64, String, String, bool)>,
    created: Option<String>,
}

async fn tokens_page(
    state: &AppState,
    lang: Lang,
    who: &Staff,
    created: Option<String>,
) -> Result<Response, AppError> {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            state.db.get_database_backend(),
            "SELECT id, name, created_at, revoked_at FROM api_token WHERE staff_id = $1 ORDER BY id",
            [who.id.into()],
        ))
        .await
        .map_err(|e| from_db(e.into()))?;
    let list: Vec<(i64, String, String, bool)> = rows
        .iter()
        .filter_map(|r| {
            let created: chrono::DateTime<chrono::Utc> = r.try_get("", "created_at").ok()?;
            let revoked: Option<chrono::DateTime<chrono::Utc>> =
                r.try_get("", "revoked_at").ok()?;
            Some((
                r.try_get("", "id").ok()?,
                r.try_get("", "name").ok()?,
                created.format("%Y-%m-%d").to_string(),
                revoked.is_some(),
            ))
        })
        .collect();
    let s = staff_ui(lang);
    let page = TokensPage {
        page: chrome(state, lang, s.tokens, "/staff/tokens"),
        s,
        csrf: csrf_token(state, who),
        tokens: list,
        created,
    };
    Ok(html(render(&page)?))
}

#[handler]
pub async fn tokens_list(
    state: Data<&AppState>,
    lang: Lang,
    req: &Request,
) -> Result<Response, AppError> {
    let who = require(&state, req, |_| true).await?;
    shows_secret(req);
    tokens_page(&state, lang, &who, None).await
}

#[handler]
pub async fn token_create(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = require(&state, req, |_| true).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let name = field(&fields, "name").unwrap_or("token").trim().to_owned();
    let (_, token) = staff::create_token(
        &state.db,
        &who,
        if name.is_empty() { "token" } else { &name },
        state.clock.now(),
    )
    .await
    .map_err(from_db)?;
    shows_secret(req);
    tokens_page(&state, lang, &who, Some(token)).await
}

#[handler]
pub async fn token_revoke(
    state: Data<&AppState>,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = require(&state, req, |_| true).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    if !staff::revoke_token(&state.db, &who, id, state.clock.now())
        .await
        .map_err(from_db)?
    {
        return Err(AppError::NotFound);
    }
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/staff/tokens")
        .finish())
}
