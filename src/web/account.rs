//! `/me`: everything held about the learner, changing it, downloading it, deleting it.

use poem::http::{StatusCode, header};
use poem::web::{Data, Form};
use poem::{IntoResponse, Request, Response, handler};

use super::i18n::{audience_label, format_moment};
use super::i18n_account::account_ui;
use super::i18n_push::{PushView, messages_ui};
use super::pages::{chrome, html, learner_for_form, render};
use super::views::{MePage, NoticePage, RecoveryCodePage};
use crate::domain::Lang;
use crate::domain::learner::{AGE_BANDS, children_consent_text, policy_text};
use crate::http::AppState;
use crate::http::auth;
use crate::http::cookies::{SESSION_COOKIE, YEAR, set_cookie};
use crate::http::error::{AppError, from_db};
use crate::http::headers::shows_secret;
use crate::services::accounts::{self, ProfileChange};
use crate::services::push::prefs;
use crate::store::entity::consent;

fn not_joined(state: &AppState, lang: Lang) -> Result<Response, AppError> {
    let a = account_ui(lang);
    let page = NoticePage {
        page: chrome(state, lang, a.me_title, "/me"),
        paragraphs: vec![a.not_joined.into()],
        link: Some(("/recover".into(), a.recover_title.into())),
    };
    Ok(html(render(&page)?))
}

async fn me_page(
    state: &AppState,
    lang: Lang,
    learner_id: i64,
    csrf: &str,
    saved: Saved,
    error: Option<String>,
) -> Result<Option<String>, AppError> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    let Some(account) = accounts::account(&state.db, learner_id)
        .await
        .map_err(from_db)?
    else {
        return Ok(None);
    };
    let consents = consent::Entity::find()
        .filter(consent::Column::LearnerId.eq(learner_id))
        .order_by_asc(consent::Column::Id)
        .all(&state.db)
        .await
        .map_err(|e| from_db(e.into()))?;
    let messages = prefs::get(state, learner_id).await.map_err(from_db)?;
    let wechat_openid = crate::services::wechat::followers::of_learner(state, learner_id)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map(|f| f.openid);
    let a = account_ui(lang);
    let tz = chrono_tz::Asia::Shanghai;
    let page = MePage {
        m: messages_ui(lang),
        push: PushView::of(&messages),
        messages_saved: saved == Saved::Messages,
        page: chrome(state, lang, a.me_title, "/me"),
        a,
        csrf: csrf.to_owned(),
        saved: saved == Saved::Profile,
        error,
        nickname: account.learner.nickname.clone(),
        audience: account.audience().as_str().to_owned(),
        audience_label: audience_label(account.audience(), lang),
        lang: account.lang().code().to_owned(),
        band_choices: AGE_BANDS
            .iter()
            .map(|b| (*b, account.age_bands().iter().any(|x| x == b)))
            .collect(),
        bands: account.age_bands(),
        factory: account.factory.as_ref().map(|f| {
            if lang == Lang::Zh {
                f.name_zh.clone()
            } else {
                f.name_en.clone()
            }
        }),
        line: account.line.as_ref().map(|l| l.name.clone()),
        joined_at: format_moment(account.learner.created_at, tz, lang),
        sign_out_hint: a
            .sign_out_hint
            .replace("{days}", &state.settings.learner_idle_days.to_string()),
        wechat_openid,
        consents: consents
            .into_iter()
            .map(|c| {
                let kind = match (c.kind.as_str(), lang) {
                    ("children", Lang::Zh) => "孩子年龄段",
                    ("children", Lang::En) => "Children's age bands",
                    (_, Lang::Zh) => "隐私说明",
                    (_, Lang::En) => "Privacy notice",
                };
                let when = format_moment(c.agreed_at, tz, lang);
                (
                    format!("{kind} · {} · {when}", c.policy_version),
                    agreed_text_in(&c.agreed_to, lang),
                )
            })
            .collect(),
    };
    Ok(Some(render(&page)?))
}

/// A consent's text in the page's language when it is one of today's texts, which are kept in
/// both languages at once; any other text exactly as it was agreed to.
fn agreed_text_in(agreed_to: &str, lang: Lang) -> String {
    [policy_text(), children_consent_text()]
        .into_iter()
        .find(|text| agreed_to == format!("{}\n\n{}", text.zh, text.en))
        .map_or_else(|| agreed_to.to_owned(), |text| text.get(lang).to_owned())
}

/// Which form of /me was just saved.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Saved {
    Nothing,
    Profile,
    Messages,
}

#[handler]
pub async fn me(state: Data<&AppState>, lang: Lang, req: &Request) -> Result<Response, AppError> {
    let Some(learner_id) = auth::current_learner(&state, req).await.map_err(from_db)? else {
        return not_joined(&state, lang);
    };
    let csrf = auth::page_csrf_token(&state, req);
    match me_page(&state, lang, learner_id, &csrf, Saved::Nothing, None).await? {
        Some(page) => {
            // Everything held about the learner: never kept by a cache.
            shows_secret(req);
            Ok(html(page))
        }
        None => not_joined(&state, lang),
    }
}

#[handler]
pub async fn me_update(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let pick = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let Some(learner_id) = learner_for_form(&state, req, pick("csrf").as_deref()).await? else {
        return not_joined(&state, lang);
    };
    shows_secret(req);
    let change = ProfileChange {
        nickname: Some(pick("nickname").unwrap_or_default()),
        audience: pick("audience"),
        lang: pick("lang"),
        child_age_bands: Some(
            fields
                .iter()
                .filter(|(k, _)| k == "child_age_bands")
                .map(|(_, v)| v.clone())
                .collect(),
        ),
        children_consent: pick("children_consent").as_deref() == Some("yes"),
    };
    let result = accounts::update_profile(&state.db, learner_id, change, state.clock.now()).await;
    let lang = pick("lang")
        .as_deref()
        .and_then(Lang::parse)
        .filter(|_| result.is_ok())
        .unwrap_or(lang);
    let csrf = pick("csrf").unwrap_or_default();
    let error = result
        .as_ref()
        .err()
        .map(|m| super::join::friendly_join_error(m, lang));
    let saved = if result.is_ok() {
        Saved::Profile
    } else {
        Saved::Nothing
    };
    let page = me_page(&state, lang, learner_id, &csrf, saved, error)
        .await?
        .ok_or(AppError::NotFound)?;
    let status = if result.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let mut response = html(page).with_status(status).into_response();
    if result.is_ok() {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, crate::http::lang::LANG_COOKIE, lang.code(), YEAR)
                .parse()
                .expect("cookie"),
        );
    }
    Ok(response)
}

/// The lesson messages' form in /me: shift, preferred time, and stop (退订).
#[handler]
pub async fn me_messages(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let pick = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(learner_id) = learner_for_form(&state, req, pick("csrf")).await? else {
        return not_joined(&state, lang);
    };
    shows_secret(req);
    let current = prefs::get(&state, learner_id).await.map_err(from_db)?;
    let wanted = prefs::resolve(
        &current,
        pick("shift"),
        Some(pick("preferred_time").unwrap_or_default()),
        Some(pick("stop") == Some("yes")),
    );
    let csrf = pick("csrf").unwrap_or_default();
    let (saved, error, status) = match wanted {
        Ok(wanted) => {
            prefs::set(&state.db, learner_id, &wanted, state.clock.now())
                .await
                .map_err(from_db)?;
            (Saved::Messages, None, StatusCode::OK)
        }
        Err(invalid) => (
            Saved::Nothing,
            Some(invalid.message(lang).to_owned()),
            StatusCode::BAD_REQUEST,
        ),
    };
    let page = me_page(&state, lang, learner_id, csrf, saved, error)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(html(page).with_status(status).into_response())
}

#[handler]
pub async fn me_export(state: Data<&AppState>, req: &Request) -> Result<Response, AppError> {
    let learner_id = auth::current_learner(&state, req)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    shows_secret(req);
    let export = accounts::export(&state.db, learner_id, state.clock.now())
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    Ok(Response::builder()
        .content_type("application/json")
        .header(
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"homeward-my-data.json\"",
        )
        .body(serde_json::to_string_pretty(&export).unwrap_or_default()))
}

#[handler]
pub async fn me_delete(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let pick = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let learner_id = learner_for_form(&state, req, pick("csrf").as_deref())
        .await?
        .ok_or(AppError::NotFound)?;
    if pick("confirm").as_deref() != Some("yes") {
        return Err(AppError::BadRequest(
            "tick the box to confirm the deletion".into(),
        ));
    }
    accounts::delete_and_sign_out(&state, learner_id)
        .await
        .map_err(from_db)?;
    tracing::info!("learner deleted their account");
    let a = account_ui(lang);
    let page = NoticePage {
        page: chrome(&state, lang, a.delete_heading, "/"),
        paragraphs: vec![a.deleted.into()],
        link: Some(("/".into(), super::i18n::ui(lang).home.into())),
    };
    let mut response = html(render(&page)?);
    for name in [SESSION_COOKIE, crate::http::cookies::DEVICE_COOKIE] {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, name, "", 0).parse().expect("cookie"),
        );
    }
    Ok(response.into_response())
}

/// A new recovery code, shown once; the old one stops working.
#[handler]
pub async fn new_recovery_code(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    let learner_id = learner_for_form(&state, req, csrf)
        .await?
        .ok_or(AppError::NotFound)?;
    let code = accounts::new_recovery_code(&state.db, learner_id, state.clock.now())
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    tracing::info!("learner made a new recovery code");
    shows_secret(req);
    let a = account_ui(lang);
    let page = RecoveryCodePage {
        page: chrome(&state, lang, a.new_recovery_title, "/me"),
        explain: a.new_recovery_explain,
        code,
        back: ("/me".into(), a.me_title.into()),
    };
    Ok(html(render(&page)?))
}

/// Signs out on this phone, or (`everywhere=yes`) on every phone.
#[handler]
pub async fn sign_out(
    state: Data<&AppState>,
    lang: Lang,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let pick = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let learner_id = learner_for_form(&state, req, pick("csrf"))
        .await?
        .ok_or(AppError::NotFound)?;
    if pick("everywhere") == Some("yes") {
        accounts::sign_out_everywhere(&state, learner_id)
            .await
            .map_err(from_db)?;
    } else if let Some(token) = auth::session_token(req) {
        accounts::sign_out(&state, token).await.map_err(from_db)?;
    }
    let a = account_ui(lang);
    let page = NoticePage {
        page: chrome(&state, lang, a.sign_out_heading, "/"),
        paragraphs: vec![a.signed_out.into()],
        link: Some(("/recover".into(), a.recover_title.into())),
    };
    let mut response = html(render(&page)?);
    for name in [SESSION_COOKIE, crate::http::cookies::DEVICE_COOKIE] {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, name, "", 0).parse().expect("cookie"),
        );
    }
    Ok(response)
}
