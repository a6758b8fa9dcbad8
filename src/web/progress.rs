//! The learner's side of progress in HTML: their parts of a lesson page, the "done" button,
//! the beacon endpoint, their home page and certificates.

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{IntoResponse, Request, Response, handler};

use super::i18n::{kind_label, ui};
use super::i18n_account::{PROGRESS_EN, PROGRESS_ZH, badge_label, progress_ui};
use super::pages::{chrome, find_visible, html, learner_for_form, render};
use super::views::{CertificatePage, LearnerHomePage, LessonLink, SeriesProgressView};
use crate::domain::Lang;
use crate::domain::catalog::{LessonEntry, SeriesEntry};
use crate::http::AppState;
use crate::http::auth;
use crate::http::error::{AppError, from_db};
use crate::services::progress::batch::{BatchError, EventInput};
use crate::services::{accounts, ages, lessons, progress};

#[derive(Template)]
#[template(
    source = r#"<form class="card done" method="post" action="{{ action }}"><input type="hidden" name="csrf" value="{{ csrf }}">{% if completed %}<p>{{ completed_note }}</p>{% else %}{% if let Some(hint) = hint %}<p class="note">{{ hint }}</p>{% endif %}<button class="button" type="submit">{{ button }}</button>{% endif %}</form>"#,
    ext = "html"
)]
struct DoneForm<'a> {
    action: String,
    csrf: &'a str,
    completed: bool,
    completed_note: &'a str,
    /// For a video: pressing "done" is taken at the learner's word, and says so.
    hint: Option<&'a str>,
    button: &'a str,
}

/// Puts the learner's own parts into a shared lesson page: the script's state (with the CSRF
/// token), the quiz form's token, and the "done" button or the completed mark.
pub fn personalise(
    page: &str,
    record: Option<&progress::LessonRecord>,
    lesson: &LessonEntry,
    csrf: &str,
    lang: Lang,
) -> Result<String, AppError> {
    let completed = record.is_some_and(|r| r.completed_at.is_some());
    let self_reported = record.is_some_and(|r| r.self_reported_at.is_some());
    let p = progress_ui(lang);
    let video = lesson.kind == crate::domain::LessonKind::Video;
    let series = page
        .split("data-series=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default();
    let done_form = DoneForm {
        action: format!("/s/{series}/{}/done", lesson.slug),
        csrf,
        completed,
        completed_note: if self_reported {
            p.self_reported_note
        } else {
            p.completed_note
        },
        hint: video.then_some(p.self_report_hint),
        button: p.done_button,
    }
    .render()
    .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))?;
    // The token is URL-safe base64, so it needs no escaping in HTML or JSON.
    let state_json =
        format!(r#"<script type="application/json" id="hw-state">{{"csrf":"{csrf}"}}</script>"#);
    Ok(page
        .replacen("<!--hw:learner-->", &state_json, 1)
        .replacen(
            "<!--hw:csrf-->",
            &format!(r#"<input type="hidden" name="csrf" value="{csrf}">"#),
            1,
        )
        .replacen("<!--hw:done-->", &done_form, 1))
}

/// "Done" pressed at the end of a lesson, without JavaScript.
#[handler]
pub async fn mark_done(
    state: Data<&AppState>,
    Path((series, lesson)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    let visible = find_visible(&state, &series, &lesson).await?;
    let learner_id = learner_for_form(&state, req, csrf)
        .await?
        .ok_or(AppError::NotFound)?;
    let content = lessons::lesson_content(&state, visible.lesson())
        .await
        .map_err(from_db)?;
    progress::record_done(&state, learner_id, visible.lesson(), &content)
        .await
        .map_err(from_db)?;
    let target = if content.quiz.is_some() {
        format!("/s/{series}/{lesson}#quiz")
    } else {
        "/".to_owned()
    };
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, target)
        .finish())
}

/// `navigator.sendBeacon` cannot set headers or a JSON type: the same batch as the API, sent as
/// text with the CSRF token inside.
/// What `navigator.sendBeacon` posts: the API's event batch, with the CSRF token inside.
#[derive(serde::Deserialize)]
struct BeaconBatch {
    csrf: Option<String>,
    events: Vec<EventInput>,
}

#[handler]
pub async fn beacon(
    state: Data<&AppState>,
    body: String,
    req: &Request,
) -> Result<Response, AppError> {
    let value: serde_json::Value =
        serde_json::from_str(&body).map_err(|_| AppError::BadRequest("not JSON".into()))?;
    let batch: BeaconBatch = serde_json::from_value(value)
        .map_err(|_| AppError::BadRequest("not an event batch".into()))?;
    let learner_id = learner_for_form(&state, req, batch.csrf.as_deref())
        .await?
        .ok_or(AppError::NotFound)?;
    progress::batch::record_batch(&state, learner_id, &batch.events)
        .await
        .map_err(|error| match error {
            BatchError::TooMany => AppError::BadRequest("the batch was not accepted".into()),
            BatchError::Failed(error) => from_db(error),
        })?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A link to a lesson, marked when it is for the learner's children (`children` is empty
/// without their consent).
fn link(series: &SeriesEntry, lesson: &LessonEntry, lang: Lang, children: &[String]) -> LessonLink {
    LessonLink {
        age_label: crate::domain::ages::suits(&lesson.age_bands, children)
            .then(|| crate::domain::ages::label(&lesson.age_bands, lang))
            .flatten(),
        href: format!("/s/{}/{}", series.slug, lesson.slug),
        title: lesson.title.get(lang).to_owned(),
        summary: lesson.summary.get(lang).to_owned(),
        week_label: ui(lang).week_label(lesson.week),
        kind_label: kind_label(lesson.kind, lang),
    }
}

/// The home page of an enrolled learner; `None` if the session's learner is gone.
pub async fn learner_home(
    state: &AppState,
    lang: Lang,
    learner_id: i64,
    csrf: &str,
) -> Result<Option<String>, AppError> {
    let Some(account) = accounts::account(&state.db, learner_id)
        .await
        .map_err(from_db)?
    else {
        return Ok(None);
    };
    let overview = progress::overview(state, &account).await.map_err(from_db)?;
    let children = ages::consented_bands(&state.db, learner_id)
        .await
        .map_err(from_db)?;
    let p = progress_ui(lang);
    let mut for_children: Vec<(LessonEntry, LessonLink)> = overview
        .series
        .iter()
        .filter(|s| s.series.audience == account.audience())
        .flat_map(|s| {
            s.released
                .iter()
                .filter(|(l, r)| {
                    crate::domain::ages::suits(&l.age_bands, &children)
                        && r.as_ref().is_none_or(|r| r.completed_at.is_none())
                })
                .map(|(l, _)| (l.clone(), link(&s.series, l, lang, &children)))
        })
        .collect();
    for_children.sort_by_key(|l| std::cmp::Reverse(l.0.release_at));
    for_children.truncate(3);
    let views: Vec<(bool, SeriesProgressView)> = overview
        .series
        .iter()
        .map(|s| {
            let mine = s.series.audience == account.audience();
            let view = SeriesProgressView {
                title: s.series.title.get(lang).to_owned(),
                href: format!("/s/{}", s.series.slug),
                current: s
                    .current
                    .as_ref()
                    .map(|l| link(&s.series, l, lang, &children)),
                continue_with: s
                    .continue_with
                    .as_ref()
                    .filter(|l| s.current.as_ref().is_none_or(|c| c.id != l.id))
                    .map(|l| link(&s.series, l, lang, &children)),
                released: s.released.len(),
                completed: s.completed,
                progress_label: p
                    .done_of_released
                    .replace("{done}", &s.completed.to_string())
                    .replace("{released}", &s.released.len().to_string()),
                streak_label: if s.streak == 1 {
                    p.streak_one.to_owned()
                } else if s.streak > 0 {
                    p.streak.replace("{n}", &s.streak.to_string())
                } else {
                    p.streak_none.to_owned()
                },
                best_streak_label: (s.best_streak > s.streak)
                    .then(|| p.best_streak.replace("{n}", &s.best_streak.to_string())),
                certificate: s
                    .certificate
                    .map(|_| format!("/s/{}/certificate", s.series.slug)),
            };
            (mine, view)
        })
        .collect();
    let (mine, others): (Vec<_>, Vec<_>) = views.into_iter().partition(|(mine, _)| *mine);
    let page = LearnerHomePage {
        page: chrome(state, lang, ui(lang).tagline, "/"),
        p,
        nickname: account.learner.nickname.clone(),
        mine: mine.into_iter().map(|(_, v)| v).collect(),
        others: others.into_iter().map(|(_, v)| v).collect(),
        badges: overview
            .badges
            .iter()
            .map(|(b, _)| badge_label(*b, lang))
            .collect(),
        for_children: for_children.into_iter().map(|(_, l)| l).collect(),
        review: super::review::card(state, learner_id, lang).await?,
        csrf: csrf.to_owned(),
    };
    Ok(Some(render(&page)?))
}

/// A printable, bilingual certificate once every lesson of a series is complete; once earned it
/// stays, with the date and number of lessons of that day.
#[handler]
pub async fn certificate(
    state: Data<&AppState>,
    Path(series): Path<String>,
    req: &Request,
) -> Result<Response, AppError> {
    let learner_id = auth::current_learner(&state, req)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    let account = accounts::account(&state.db, learner_id)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    let overview = progress::overview(&state, &account)
        .await
        .map_err(from_db)?;
    let finished = overview
        .series
        .iter()
        .find(|s| s.series.slug == series)
        .ok_or(AppError::NotFound)?;
    let earned = finished.certificate.ok_or(AppError::NotFound)?;
    let finished_at = earned.earned_at;
    let tz = finished.series.timezone();
    let local = finished_at.with_timezone(&tz);
    let page = CertificatePage {
        css: state.assets.url("app.css").to_owned(),
        zh: &PROGRESS_ZH,
        en: &PROGRESS_EN,
        name: account
            .learner
            .nickname
            .clone()
            .unwrap_or_else(|| format!("{} / {}", PROGRESS_ZH.learner, PROGRESS_EN.learner)),
        series_zh: finished.series.title.zh.clone(),
        series_en: finished.series.title.en.clone(),
        lessons: earned.lessons as usize,
        date_zh: local.format("%Y年%-m月%-d日").to_string(),
        date_en: local.format("%-d %B %Y").to_string(),
    };
    Ok(html(render(&page)?))
}
