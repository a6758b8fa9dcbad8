//! Learner pages: home, a series, a lesson with its quiz, the quiz result, the language switch.

use askama::Template;
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Html, Path, Query};
use poem::{IntoResponse, Response, handler};
use serde::Deserialize;

use super::i18n::{audience_label, format_moment, kind_label, ui};
use super::narration::{NarrationView, PartKind, article_sections, narration};
use super::views::*;
use crate::domain::catalog::{LessonEntry, SeriesEntry};
use crate::domain::quiz::Answers;
use crate::domain::{Lang, LessonBody};
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::http::lang::LANG_COOKIE;
use crate::http::redirect::safe_local_path;
use crate::services::lessons;

type PageResult = Result<Response, AppError>;

pub(crate) fn chrome(state: &AppState, lang: Lang, title: &str, path: &str) -> Chrome {
    Chrome {
        lang,
        t: ui(lang),
        title: title.to_owned(),
        css: state.assets.url("app.css").to_owned(),
        js: state.assets.url("app.js").to_owned(),
        icon: state.assets.url("icon.svg").to_owned(),
        switch_href: format!("/lang/{}?next={}", lang.other().code(), encode_path(path)),
    }
}

/// Percent-encodes the few characters a local path may hold that would break a query value.
fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('&', "%26")
        .replace('?', "%3F")
        .replace('#', "%23")
}

fn no_cache(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        poem::http::HeaderValue::from_static("no-cache"),
    );
    response
}

pub fn html(body: String) -> Response {
    Html(body)
        .with_header(header::CACHE_CONTROL, "no-cache")
        .into_response()
}

/// The signed-in learner behind a form that changes something, or `None` when nobody is
/// signed in. A form without its session's CSRF token has expired (400).
pub(crate) async fn learner_for_form(
    state: &AppState,
    req: &poem::Request,
    csrf: Option<&str>,
) -> Result<Option<i64>, AppError> {
    use crate::http::auth::{LearnerRefusal, learner_for_change};
    match learner_for_change(state, req, csrf).await {
        Ok(id) => Ok(Some(id)),
        Err(LearnerRefusal::SignedOut) => Ok(None),
        Err(LearnerRefusal::NoCsrf) => Err(AppError::BadRequest(
            "the form has expired; please reload the page".into(),
        )),
        Err(LearnerRefusal::Failed(error)) => Err(error),
    }
}

pub(crate) fn render(template: &impl Template) -> Result<String, AppError> {
    template
        .render()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("template: {e}")))
}

fn lesson_link(series: &SeriesEntry, lesson: &LessonEntry, lang: Lang) -> LessonLink {
    LessonLink {
        href: format!("/s/{}/{}", series.slug, lesson.slug),
        title: lesson.title.get(lang).to_owned(),
        summary: lesson.summary.get(lang).to_owned(),
        week_label: ui(lang).week_label(lesson.week),
        kind_label: kind_label(lesson.kind, lang),
        age_label: None,
    }
}

#[handler]
pub async fn home_page(state: Data<&AppState>, lang: Lang, req: &poem::Request) -> PageResult {
    let learner = crate::http::auth::current_learner(&state, req)
        .await
        .map_err(from_db)?;
    if let Some(learner_id) = learner
        && let Some(page) = super::progress::learner_home(
            &state,
            lang,
            learner_id,
            &crate::http::auth::page_csrf_token(&state, req),
        )
        .await?
    {
        return Ok(html(page));
    }
    let catalog = lessons::catalog(&state).await.map_err(from_db)?;
    let now = state.clock.now();
    let series = catalog
        .series
        .iter()
        .filter(|s| !s.released(now).is_empty() || s.next_release(now).is_some())
        .map(|s| SeriesCard {
            href: format!("/s/{}", s.slug),
            title: s.title.get(lang).to_owned(),
            summary: s.summary.get(lang).to_owned(),
            audience: audience_label(s.audience, lang),
            current: s.current(now).map(|l| lesson_link(s, l, lang)),
            released: s.released(now).len(),
            next: s
                .next_release(now)
                .map(|t| format_moment(t, s.timezone(), lang)),
        })
        .collect();
    let page = HomePage {
        page: chrome(&state, lang, ui(lang).tagline, "/"),
        series,
    };
    Ok(html(render(&page)?))
}

#[handler]
pub async fn series_page(
    state: Data<&AppState>,
    lang: Lang,
    Path(slug): Path<String>,
) -> PageResult {
    let catalog = lessons::catalog(&state).await.map_err(from_db)?;
    let now = state.clock.now();
    let series = catalog.series(&slug).ok_or(AppError::NotFound)?;
    let released = series.released(now);
    if released.is_empty() && series.next_release(now).is_none() {
        return Err(AppError::NotFound);
    }
    let page = SeriesPage {
        page: chrome(&state, lang, series.title.get(lang), &format!("/s/{slug}")),
        title: series.title.get(lang).to_owned(),
        summary: series.summary.get(lang).to_owned(),
        lessons: released
            .iter()
            .map(|l| lesson_link(series, l, lang))
            .collect(),
        next: series
            .next_release(now)
            .map(|t| format_moment(t, series.timezone(), lang)),
    };
    Ok(html(render(&page)?))
}

pub(crate) async fn find_visible(
    state: &AppState,
    series: &str,
    lesson: &str,
) -> Result<lessons::Visible, AppError> {
    lessons::visible_lesson(state, series, lesson)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)
}

#[handler]
pub async fn lesson_page(
    state: Data<&AppState>,
    lang: Lang,
    Path((series_slug, lesson_slug)): Path<(String, String)>,
    req: &poem::Request,
) -> PageResult {
    let visible = find_visible(&state, &series_slug, &lesson_slug).await?;
    let key = format!("lesson:{}:{}", visible.lesson().id, lang.code());
    let learner = crate::http::auth::current_learner(&state, req)
        .await
        .map_err(from_db)?;
    // The page as anyone sees it is kept here compressed, per generation: no secret in it.
    let kept = visible
        .generation
        .map(|generation| format!("page:{generation}:{key}"));
    if learner.is_none()
        && let Some(kept) = &kept
        && let Some(encoded) = state.encoded.get(kept)
    {
        return Ok(no_cache(encoded.respond(req)));
    }
    let page = lessons::cached_page(&state, &visible, &key, || async {
        let content = lessons::lesson_content(&state, visible.lesson()).await?;
        let view = lesson_view(&state, &visible, &content, lang);
        view.render().map_err(|e| anyhow::anyhow!("template: {e}"))
    })
    .await
    .map_err(from_db)?;
    // The page is shared by everyone; what belongs to this learner is put in afterwards.
    let Some(learner_id) = learner else {
        return Ok(match kept {
            Some(kept) => no_cache(
                state
                    .encoded
                    .get_or_compress(&kept, "text/html; charset=utf-8", page.into_bytes())
                    .await
                    .respond(req),
            ),
            None => html(page),
        });
    };
    // The learner's progress is read once; an "opened" already recorded costs no write.
    let record = crate::services::progress::record(&state, learner_id, visible.lesson().id)
        .await
        .map_err(from_db)?;
    if record.as_ref().is_none_or(|r| r.first_opened_at.is_none()) {
        let content = lessons::lesson_content(&state, visible.lesson())
            .await
            .map_err(from_db)?;
        crate::services::progress::record_open(&state, learner_id, visible.lesson(), &content)
            .await
            .map_err(from_db)?;
    }
    let csrf = crate::http::auth::page_csrf_token(&state, req);
    let mut page =
        super::progress::personalise(&page, record.as_ref(), visible.lesson(), &csrf, lang)?;
    let mut cookies = Vec::new();
    if let Some(code) = crate::http::cookies::cookie(req, crate::http::cookies::FLASH_COOKIE)
        .and_then(|flash| flash.strip_prefix("joined."))
        && let Some(banner) = welcome_banner(&state, learner_id, code, lang).await?
    {
        page = page.replacen("<!--hw:banner-->", &banner, 1);
        crate::http::headers::shows_secret(req);
        cookies.push(crate::http::cookies::set_cookie(
            &state,
            crate::http::cookies::FLASH_COOKIE,
            "",
            0,
        ));
    }
    let mut response = html(page);
    for cookie in cookies {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookie.parse().expect("cookie"));
    }
    Ok(response)
}

/// Shown once after joining: a welcome and the recovery code to keep. The code travels from
/// the join form in a short-lived cookie (only its hash is stored), and is shown only if it
/// is this learner's.
async fn welcome_banner(
    state: &AppState,
    learner_id: i64,
    code: &str,
    lang: Lang,
) -> Result<Option<String>, AppError> {
    let Some(account) = crate::services::accounts::account(&state.db, learner_id)
        .await
        .map_err(from_db)?
    else {
        return Ok(None);
    };
    if !crate::services::accounts::is_recovery_code_of(&account, code) {
        return Ok(None);
    }
    let a = super::i18n_account::account_ui(lang);
    let view = super::views::WelcomeBanner {
        welcome: a.welcome,
        explain: a.recovery_explain,
        code: code.to_owned(),
    };
    Ok(Some(render(&view)?))
}

pub(crate) fn lesson_view(
    state: &AppState,
    visible: &lessons::Visible,
    content: &crate::domain::lesson::LessonContent,
    lang: Lang,
) -> LessonPage {
    let (series, lesson) = (visible.series(), visible.lesson());
    let base = format!("/s/{}/{}", series.slug, lesson.slug);
    let media = |name: &str| format!("/media/{}/{}/{}", series.slug, lesson.slug, name);
    let body = match &content.body {
        LessonBody::Comic { panels } => BodyView::Comic(
            panels
                .iter()
                .enumerate()
                .map(|(i, p)| PanelView {
                    src: media(&p.image),
                    width: p.width,
                    height: p.height,
                    caption: p.caption.get(lang).to_owned(),
                    alt: p.alt.get(lang).to_owned(),
                    eager: i == 0,
                    audio: narration(&p.audio, lang, PartKind::Panel, &media),
                })
                .collect(),
        ),
        LessonBody::Video(video) => BodyView::Video(VideoView {
            src: media(&video.file),
            poster: media(&video.poster),
            captions_zh: media(&video.captions.zh),
            captions_en: media(&video.captions.en),
            transcript: video.transcript.get(lang).to_owned(),
            minutes: ui(lang).video_length.replace(
                "{}",
                &format!(
                    "{}:{:02}",
                    video.duration_seconds / 60,
                    video.duration_seconds % 60
                ),
            ),
        }),
        LessonBody::Article {
            html,
            markdown,
            audio,
        } => BodyView::Article(article_sections(
            html.get(lang),
            markdown.get(lang),
            audio,
            lang,
            &media,
        )),
    };
    let listen = {
        let parts: Vec<Option<&NarrationView>> = match &body {
            BodyView::Comic(panels) => panels.iter().map(|p| p.audio.as_ref()).collect(),
            BodyView::Article(sections) => sections.iter().map(|s| s.audio.as_ref()).collect(),
            BodyView::Video(_) => Vec::new(),
        };
        super::narration::listen(&parts, lang, super::i18n_reach::reach_ui(lang).listen_all)
    };
    let quiz = content.quiz.as_ref().map(|quiz| {
        quiz.questions
            .iter()
            .map(|q| QuestionView {
                field: format!("q.{}", q.id),
                prompt: q.prompt.get(lang).to_owned(),
                multiple: q.kind == crate::domain::quiz::QuestionKind::Multiple,
                audio: narration(&q.audio, lang, PartKind::Question, &media),
                choices: q
                    .choices
                    .iter()
                    .map(|c| ChoiceView {
                        id: c.id.clone(),
                        text: c.text.get(lang).to_owned(),
                    })
                    .collect(),
            })
            .collect()
    });
    LessonPage {
        page: chrome(state, lang, lesson.title.get(lang), &base),
        series_slug: series.slug.clone(),
        lesson_slug: lesson.slug.clone(),
        kind: lesson.kind.as_str(),
        series_href: format!("/s/{}", series.slug),
        series_title: series.title.get(lang).to_owned(),
        week_label: ui(lang).week_label(lesson.week),
        kind_label: kind_label(lesson.kind, lang),
        released: format_moment(lesson.release_at, series.timezone(), lang),
        summary: lesson.summary.get(lang).to_owned(),
        body,
        quiz,
        quiz_action: format!("{base}/quiz"),
        listen,
        r: super::i18n_reach::reach_ui(lang),
        card_href: crate::services::family::card_path(&series.slug, &lesson.slug),
    }
}

/// Reads quiz form fields `q.{question}` (repeated for several choices) into answers.
pub(crate) fn answers_from_form(fields: &[(String, String)]) -> Result<Answers, AppError> {
    let mut answers = Answers::new();
    for (name, value) in fields {
        if name == "lang" {
            continue;
        }
        let question = name
            .strip_prefix("q.")
            .ok_or_else(|| AppError::BadRequest(format!("unexpected form field '{name}'")))?;
        answers
            .entry(question.to_owned())
            .or_default()
            .push(value.clone());
    }
    Ok(answers)
}

#[handler]
pub async fn quiz_answer(
    state: Data<&AppState>,
    lang: Lang,
    Path((series_slug, lesson_slug)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &poem::Request,
) -> PageResult {
    let visible = find_visible(&state, &series_slug, &lesson_slug).await?;
    let content = lessons::lesson_content(&state, visible.lesson())
        .await
        .map_err(from_db)?;
    let quiz = content.quiz.clone().ok_or(AppError::NotFound)?;
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.clone());
    let fields: Vec<(String, String)> = fields.into_iter().filter(|(k, _)| k != "csrf").collect();
    let answers = answers_from_form(&fields)?;
    let grade = quiz
        .grade(&answers)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let learner = learner_for_form(&state, req, csrf.as_deref()).await?;
    let note = match learner {
        Some(learner_id) => {
            crate::services::progress::record_attempt(
                &state,
                learner_id,
                visible.lesson(),
                &content,
                &answers,
                &grade,
            )
            .await
            .map_err(from_db)?;
            super::i18n_account::progress_ui(lang).recorded_note
        }
        None => super::i18n_account::progress_ui(lang).join_invite,
    };
    let (series, lesson) = (visible.series(), visible.lesson());
    let choice_texts = |question: &crate::domain::quiz::Question, ids: &[String]| {
        let texts: Vec<&str> = ids
            .iter()
            .filter_map(|id| question.choices.iter().find(|c| &c.id == id))
            .map(|c| c.text.get(lang))
            .collect();
        if texts.is_empty() {
            ui(lang).no_answer.to_owned()
        } else {
            texts.join(ui(lang).list_separator)
        }
    };
    let results = quiz
        .questions
        .iter()
        .zip(&grade.questions)
        .map(|(question, result)| ResultView {
            prompt: question.prompt.get(lang).to_owned(),
            correct: result.correct,
            chosen: choice_texts(question, &result.chosen),
            right: choice_texts(question, &result.correct_answer),
            explanation: question.explanation.get(lang).to_owned(),
        })
        .collect();
    let lesson_href = format!("/s/{}/{}", series.slug, lesson.slug);
    let page = QuizResultPage {
        page: chrome(&state, lang, lesson.title.get(lang), &lesson_href),
        series_href: format!("/s/{}", series.slug),
        lesson_href,
        score: grade.score,
        total: grade.total,
        passed: grade.passed,
        note,
        results,
    };
    Ok(html(render(&page)?))
}

#[derive(Deserialize)]
pub struct NextPath {
    next: Option<String>,
}

/// Remembers the chosen language in a cookie and goes back to the page the learner was on.
#[handler]
pub fn switch_language(
    Path(code): Path<String>,
    Query(query): Query<NextPath>,
    state: Data<&AppState>,
) -> PageResult {
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    // Only local paths: never an open redirect.
    let next = query
        .next
        .as_deref()
        .and_then(safe_local_path)
        .unwrap_or_else(|| "/".to_owned());
    let secure = if state.settings.is_https() {
        "; Secure"
    } else {
        ""
    };
    Ok(Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, next)
        .header(
            header::SET_COOKIE,
            format!(
                "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly{secure}",
                lang.code()
            ),
        )
        .finish())
}

pub use crate::http::lang::request_lang;
