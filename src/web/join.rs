//! Joining through a QR code, and restoring an account with a recovery code.

use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::i18n_account::account_ui;
use super::i18n_push::{PushView, messages_ui};
use super::pages::{chrome, html, render};
use super::views::{JoinFilled, JoinPage, NoticePage, RecoverPage};
use crate::domain::learner::{AGE_BANDS, POLICY_VERSION, children_consent_text, policy_text};
use crate::domain::{Audience, Lang};
use crate::http::AppState;
use crate::http::cookies::{FLASH_COOKIE, SESSION_COOKIE, YEAR, set_cookie};
use crate::http::error::{AppError, from_db};
use crate::http::{auth, limits, pending_openid};
use crate::services;
use crate::services::enrollment::{self, CodeInfo, CodeStatus, JoinError, JoinRequest};
use crate::services::push::prefs::PushPrefs;
use crate::services::{accounts, lessons};

/// Where a learner of `audience` who joined at `joined` should land: their lesson of their
/// series (this week's, or lesson 1 for a series paced from joining).
pub(crate) async fn landing(
    state: &AppState,
    audience: Audience,
    joined: chrono::DateTime<chrono::Utc>,
) -> String {
    let Ok(catalog) = lessons::catalog(state).await else {
        return "/".into();
    };
    let now = state.clock.now();
    catalog
        .series
        .iter()
        .find(|s| s.audience == audience)
        .map(|s| match s.current_for(Some(joined), now) {
            Some(lesson) => format!("/s/{}/{}", s.slug, lesson.slug),
            None => format!("/s/{}", s.slug),
        })
        .unwrap_or_else(|| "/".into())
}

fn closed_message(status: CodeStatus, lang: Lang) -> &'static str {
    let a = account_ui(lang);
    match status {
        CodeStatus::Expired => a.closed_expired,
        CodeStatus::Revoked => a.closed_revoked,
        _ => a.closed_full,
    }
}

fn notice(
    state: &AppState,
    lang: Lang,
    title: &str,
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let page = NoticePage {
        page: chrome(state, lang, title, "/"),
        paragraphs,
        link,
    };
    Ok(html(render(&page)?).with_status(status).into_response())
}

fn closed_page(state: &AppState, lang: Lang, status: CodeStatus) -> Result<Response, AppError> {
    let a = account_ui(lang);
    notice(
        state,
        lang,
        a.join_title,
        vec![closed_message(status, lang).into(), a.closed_help.into()],
        Some(("/".into(), super::i18n::ui(lang).home.into())),
        StatusCode::GONE,
    )
}

fn join_form(
    state: &AppState,
    lang: Lang,
    code: &CodeInfo,
    csrf: &str,
    error: Option<String>,
    filled: JoinFilled,
    push: PushView,
) -> Result<String, AppError> {
    let a = account_ui(lang);
    let policy = policy_text();
    let page = JoinPage {
        page: chrome(state, lang, a.join_title, &format!("/join/{}", code.token)),
        a,
        action: format!("/join/{}", code.token),
        csrf: csrf.to_owned(),
        factory: code.factory_name.get(lang).to_owned(),
        line: code.line_name.clone(),
        policy: policy.get(lang).lines().map(str::to_owned).collect(),
        policy_version: POLICY_VERSION,
        bands: AGE_BANDS,
        children_consent_text: children_consent_text().get(lang).to_owned(),
        error,
        m: messages_ui(lang),
        push,
        filled,
    };
    render(&page)
}

async fn find_code(state: &AppState, req: &Request, token: &str) -> Result<CodeInfo, AppError> {
    limits::limit(
        state,
        &format!("lookup:{}", crate::http::client::client_ip(state, req)),
        limits::LOOKUP_PER_ADDRESS,
    )
    .await?;
    enrollment::find_code(&state.db, token)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)
}

#[handler]
pub async fn join_page(
    state: Data<&AppState>,
    lang: Lang,
    Path(token): Path<String>,
    req: &Request,
) -> Result<Response, AppError> {
    let code = find_code(&state, req, &token).await?;
    let now = state.clock.now();
    let (device, new_device) = auth::device_id(req);
    enrollment::record_scan(&state.db, code.id, &auth::device_hash(&device), now)
        .await
        .map_err(from_db)?;
    let account = match auth::current_learner(&state, req).await.map_err(from_db)? {
        Some(id) => accounts::account(&state.db, id).await.map_err(from_db)?,
        None => None,
    };
    let mut response = if let Some(account) = account {
        let a = account_ui(lang);
        let target = landing(&state, account.audience(), account.learner.created_at).await;
        notice(
            &state,
            lang,
            a.join_title,
            vec![a.already_joined.into()],
            Some((target, a.go_to_lesson.into())),
            StatusCode::OK,
        )?
    } else {
        match code.status(now) {
            CodeStatus::Usable => {
                let (csrf, new_csrf) = auth::csrf_token(req);
                let mut response = html(join_form(
                    &state,
                    lang,
                    &code,
                    &csrf,
                    None,
                    JoinFilled::fresh(lang),
                    PushView::of(&PushPrefs::default()),
                )?);
                if new_csrf {
                    response.headers_mut().append(
                        header::SET_COOKIE,
                        set_cookie(&state, crate::http::cookies::CSRF_COOKIE, &csrf, YEAR)
                            .parse()
                            .expect("cookie"),
                    );
                }
                response
            }
            closed => closed_page(&state, lang, closed)?,
        }
    };
    if new_device {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                &state,
                crate::http::cookies::DEVICE_COOKIE,
                &device,
                5 * YEAR,
            )
            .parse()
            .expect("cookie"),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
struct JoinForm {
    csrf: Option<String>,
    accept_policy: Option<String>,
    audience: Option<String>,
    nickname: Option<String>,
    lang: Option<String>,
    children_consent: Option<String>,
}

#[handler]
pub async fn join_submit(
    state: Data<&AppState>,
    lang: Lang,
    Path(token): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let pick = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let form = JoinForm {
        csrf: pick("csrf"),
        accept_policy: pick("accept_policy"),
        audience: pick("audience"),
        nickname: pick("nickname"),
        lang: pick("lang"),
        children_consent: pick("children_consent"),
    };
    let bands: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "child_age_bands")
        .map(|(_, v)| v.clone())
        .collect();
    if !auth::csrf_ok(req, form.csrf.as_deref()) {
        return Err(AppError::BadRequest(
            "the form has expired; please open the join link again".into(),
        ));
    }
    let ip = crate::http::client::client_ip(&state, req);
    limits::limit(&state, &format!("join-ip:{ip}"), limits::JOIN_PER_ADDRESS).await?;
    let code = find_code(&state, req, &token).await?;
    limits::limit(
        &state,
        &format!("join-code:{}", code.id),
        limits::JOIN_PER_CODE,
    )
    .await?;
    let (device, new_device) = auth::device_id(req);
    let request = JoinRequest {
        token: token.clone(),
        accept_policy: form.accept_policy,
        audience: form.audience,
        nickname: form.nickname,
        lang: form.lang,
        child_age_bands: bands,
        children_consent: form.children_consent.as_deref() == Some("yes"),
        device_hash: Some(auth::device_hash(&device)),
        shift: pick("shift"),
        preferred_time: pick("preferred_time"),
    };
    let joined = match enrollment::join(&state.db, &request, state.clock.now()).await {
        Ok(joined) => joined,
        Err(JoinError::NotFound) => return Err(AppError::NotFound),
        Err(JoinError::Closed(status)) => return closed_page(&state, lang, status),
        Err(JoinError::Invalid(message)) => {
            let csrf = form.csrf.unwrap_or_default();
            let friendly = friendly_join_error(&message, lang);
            // The form comes back as it was sent (consent to the policy is asked again).
            let filled = JoinFilled {
                nickname: request.nickname.clone().unwrap_or_default(),
                audience: request
                    .audience
                    .clone()
                    .unwrap_or_else(|| JoinFilled::fresh(lang).audience),
                bands: request.child_age_bands.clone(),
                children_consent: request.children_consent,
                lang: request
                    .lang
                    .as_deref()
                    .and_then(Lang::parse)
                    .unwrap_or(lang)
                    .code()
                    .into(),
            };
            let push =
                sent_push_choices(request.shift.as_deref(), request.preferred_time.as_deref());
            return Ok(html(join_form(
                &state,
                lang,
                &code,
                &csrf,
                Some(friendly),
                filled,
                push,
            )?)
            .with_status(StatusCode::BAD_REQUEST)
            .into_response());
        }
        Err(JoinError::Internal(error)) => return Err(from_db(error)),
    };
    let chosen_lang = request
        .lang
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(lang);
    let target = landing(&state, joined.audience, state.clock.now()).await;
    let mut response = Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, target)
        .header(
            header::SET_COOKIE,
            set_cookie(&state, SESSION_COOKIE, &joined.session_token, YEAR),
        )
        .header(
            header::SET_COOKIE,
            set_cookie(
                &state,
                crate::http::lang::LANG_COOKIE,
                chosen_lang.code(),
                YEAR,
            ),
        )
        .finish();
    if let Some(code) = &joined.recovery_code {
        // The lesson page shows the code once, then clears this.
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, FLASH_COOKIE, &format!("joined.{code}"), 600)
                .parse()
                .expect("cookie"),
        );
    }
    if new_device {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                &state,
                crate::http::cookies::DEVICE_COOKIE,
                &device,
                5 * YEAR,
            )
            .parse()
            .expect("cookie"),
        );
    }
    // Signed in through WeChat before joining: the openid now belongs to this learner.
    if let Some(openid) = pending_openid::pending(&state, req) {
        services::wechat::followers::bind(&state, &openid, joined.learner_id, state.clock.now())
            .await
            .map_err(|e| AppError::Internal(e.into()))?;
        response.headers_mut().append(
            header::SET_COOKIE,
            pending_openid::clear_pending(&state)
                .parse()
                .expect("cookie"),
        );
    }
    tracing::info!(
        code_id = code.id,
        factory_id = code.factory_id,
        returning = joined.returning,
        "learner joined"
    );
    Ok(response)
}

/// The message choices a refused join form was sent with, to show again.
fn sent_push_choices(shift: Option<&str>, preferred_time: Option<&str>) -> PushView {
    let mut view = PushView::of(&PushPrefs::default());
    if let Some(shift) = ["day", "night", "rotating"]
        .into_iter()
        .find(|known| Some(*known) == shift)
    {
        view.shift = shift;
    }
    if let Some(time) = preferred_time.filter(|t| t.len() <= 5) {
        view.preferred = time.to_owned();
    }
    view
}

/// Join errors in the learner's language: the field named first in the message decides.
pub(crate) fn friendly_join_error(message: &str, lang: Lang) -> String {
    let field = message.split(':').next().unwrap_or_default();
    let (zh, en) = match field {
        "accept_policy" => (
            "请先勾选同意隐私说明，才能加入。",
            "Please tick the box to agree to the privacy notice first.",
        ),
        "audience" => (
            "请选择适合您的课程。",
            "Please choose which lessons fit you.",
        ),
        "nickname" => (
            "昵称最多30个字，不能有特殊字符。",
            "The nickname can be at most 30 characters, without special characters.",
        ),
        "children_consent" => (
            "要保存孩子的年龄段，请勾选单独的同意。",
            "To keep your children's age bands, please tick their separate consent.",
        ),
        "child_age_bands" => (
            "孩子的年龄段选得不对。",
            "That children's age band is not one we know.",
        ),
        "shift" | "preferred_time" => {
            let m = |lang| messages_ui(lang).bad_time;
            (m(Lang::Zh), m(Lang::En))
        }
        _ => (
            "填写的内容有误，请检查后再提交。",
            "Something in the form is not right; please check it.",
        ),
    };
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

#[handler]
pub async fn recover_page(
    state: Data<&AppState>,
    lang: Lang,
    req: &Request,
) -> Result<Response, AppError> {
    let (csrf, new_csrf) = auth::csrf_token(req);
    let a = account_ui(lang);
    let page = RecoverPage {
        page: chrome(&state, lang, a.recover_title, "/recover"),
        a,
        csrf: csrf.clone(),
        failed: false,
    };
    let mut response = html(render(&page)?);
    if new_csrf {
        response.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(&state, crate::http::cookies::CSRF_COOKIE, &csrf, YEAR)
                .parse()
                .expect("cookie"),
        );
    }
    Ok(response)
}

#[derive(Deserialize)]
pub struct RecoverForm {
    csrf: Option<String>,
    recovery_code: Option<String>,
}

#[handler]
pub async fn recover_submit(
    state: Data<&AppState>,
    lang: Lang,
    Form(form): Form<RecoverForm>,
    req: &Request,
) -> Result<Response, AppError> {
    if !auth::csrf_ok(req, form.csrf.as_deref()) {
        return Err(AppError::BadRequest(
            "the form has expired; please open it again".into(),
        ));
    }
    limits::limit(
        &state,
        &format!("recover-ip:{}", crate::http::client::client_ip(&state, req)),
        limits::RECOVER_PER_ADDRESS,
    )
    .await?;
    let found = accounts::recover(
        &state,
        form.recovery_code.as_deref().unwrap_or_default(),
        state.clock.now(),
    )
    .await
    .map_err(from_db)?;
    match found {
        Some((_, token)) => Ok(Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/me")
            .header(
                header::SET_COOKIE,
                set_cookie(&state, SESSION_COOKIE, &token, YEAR),
            )
            .finish()),
        None => {
            let a = account_ui(lang);
            let page = RecoverPage {
                page: chrome(&state, lang, a.recover_title, "/recover"),
                a,
                csrf: form.csrf.unwrap_or_default(),
                failed: true,
            };
            Ok(html(render(&page)?)
                .with_status(StatusCode::UNPROCESSABLE_ENTITY)
                .into_response())
        }
    }
}
