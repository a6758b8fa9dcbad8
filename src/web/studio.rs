//! `/studio`: editors plan releases week by week, reschedule, publish or unpublish, change a
//! series' cadence, preview any lesson exactly as learners will see it, and read statistics.

use askama::Template;
use chrono::{NaiveDate, NaiveTime};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

use super::i18n::{format_moment, kind_label};
use super::i18n_push::{PushFiguresUi, push_figures_ui};
use super::i18n_staff::{StaffUi, staff_ui};
use super::pages::{chrome, html, render};
use super::staff::field;
use super::views::Chrome;
use crate::domain::catalog::{Catalog, LessonEntry, SeriesEntry};
use crate::domain::schedule::parse_weekday;
use crate::domain::suppress::Shown;
use crate::domain::{Lang, LessonStatus};
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::http::staff_auth::{check_csrf, csrf_token, require};
use crate::services::lessons::{self, Visible};
use crate::services::push::figures;
use crate::services::staff::Staff;
use crate::services::studio;

async fn editor(state: &AppState, req: &Request) -> Result<Staff, AppError> {
    require(state, req, Staff::can_edit).await
}

async fn find(
    state: &AppState,
    series: &str,
    lesson: Option<&str>,
) -> Result<(std::sync::Arc<Catalog>, usize, Option<usize>), AppError> {
    let catalog = lessons::catalog(state).await.map_err(from_db)?;
    let si = catalog
        .series
        .iter()
        .position(|s| s.slug == series)
        .ok_or(AppError::NotFound)?;
    let li = match lesson {
        Some(slug) => Some(
            catalog.series[si]
                .lessons
                .iter()
                .position(|l| l.slug == slug)
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    Ok((catalog, si, li))
}

#[derive(Template)]
#[template(path = "studio_index.html")]
struct IndexPage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    series: Vec<(String, String, usize)>,
}

#[handler]
pub async fn index(
    state: Data<&AppState>,
    lang: Lang,
    req: &Request,
) -> Result<Response, AppError> {
    let who = editor(&state, req).await?;
    let catalog = lessons::catalog(&state).await.map_err(from_db)?;
    let s = staff_ui(lang);
    let page = IndexPage {
        page: chrome(&state, lang, s.studio, "/studio"),
        s,
        csrf: csrf_token(&state, &who),
        series: catalog
            .series
            .iter()
            .map(|x| {
                (
                    x.slug.clone(),
                    x.title.get(lang).to_owned(),
                    x.lessons.len(),
                )
            })
            .collect(),
    };
    Ok(html(render(&page)?))
}

struct Row {
    week: u32,
    slug: String,
    title: String,
    kind: &'static str,
    state: &'static str,
    released: bool,
    release: String,
    date: String,
    time: String,
}

#[derive(Template)]
#[template(path = "studio_series.html")]
struct SeriesPage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    slug: String,
    title: String,
    timezone: String,
    first_release: String,
    weekday: String,
    weekday_choices: Vec<(&'static str, &'static str)>,
    time: String,
    rows: Vec<Row>,
}

fn row(
    series: &SeriesEntry,
    lesson: &LessonEntry,
    lang: Lang,
    s: &StaffUi,
    now: chrono::DateTime<chrono::Utc>,
) -> Row {
    let local = lesson.release_at.with_timezone(&series.timezone());
    let (state, released) = match (lesson.status, lesson.release_at <= now) {
        (LessonStatus::Draft, _) => (s.draft, false),
        (LessonStatus::Published, true) => (s.released, true),
        (LessonStatus::Published, false) => (s.scheduled, false),
    };
    Row {
        week: lesson.week,
        slug: lesson.slug.clone(),
        title: lesson.title.get(lang).to_owned(),
        kind: kind_label(lesson.kind, lang),
        state,
        released,
        release: format_moment(lesson.release_at, series.timezone(), lang),
        date: local.format("%Y-%m-%d").to_string(),
        time: local.format("%H:%M").to_string(),
    }
}

#[handler]
pub async fn calendar(
    state: Data<&AppState>,
    lang: Lang,
    Path(series): Path<String>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = editor(&state, req).await?;
    let (catalog, si, _) = find(&state, &series, None).await?;
    let entry = &catalog.series[si];
    let s = staff_ui(lang);
    let now = state.clock.now();
    let page = SeriesPage {
        page: chrome(&state, lang, s.calendar, &format!("/studio/s/{series}")),
        s,
        csrf: csrf_token(&state, &who),
        slug: entry.slug.clone(),
        title: entry.title.get(lang).to_owned(),
        timezone: entry.timezone.clone(),
        first_release: entry.first_release.to_string(),
        weekday: entry.release_weekday.clone(),
        weekday_choices: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            .into_iter()
            .zip(s.weekdays)
            .collect(),
        time: entry.release_time.clone(),
        rows: entry
            .lessons
            .iter()
            .map(|l| row(entry, l, lang, s, now))
            .collect(),
    };
    Ok(html(render(&page)?))
}

fn back(series: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, format!("/studio/s/{series}"))
        .finish()
}

#[handler]
pub async fn lesson_action(
    state: Data<&AppState>,
    Path((series, lesson, action)): Path<(String, String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = editor(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let (catalog, si, li) = find(&state, &series, Some(&lesson)).await?;
    let entry = &catalog.series[si];
    let lesson_entry = &entry.lessons[li.unwrap_or_default()];
    match action.as_str() {
        "reschedule" => {
            let date = field(&fields, "date")
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or_else(|| AppError::BadRequest("date: use YYYY-MM-DD".into()))?;
            let time = field(&fields, "time")
                .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
                .ok_or_else(|| AppError::BadRequest("time: use HH:MM".into()))?;
            studio::reschedule(&state, &who, entry, lesson_entry, date, time)
                .await
                .map_err(from_db)?;
        }
        "publish" => studio::publish_now(&state, &who, entry, lesson_entry)
            .await
            .map_err(from_db)?,
        "unpublish" => studio::unpublish(&state, &who, entry, lesson_entry)
            .await
            .map_err(from_db)?,
        _ => return Err(AppError::NotFound),
    }
    Ok(back(&series))
}

#[handler]
pub async fn cadence(
    state: Data<&AppState>,
    Path(series): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = editor(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let (catalog, si, _) = find(&state, &series, None).await?;
    let first = field(&fields, "first_release")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| AppError::BadRequest("first_release: use YYYY-MM-DD".into()))?;
    let weekday = field(&fields, "weekday")
        .and_then(parse_weekday)
        .ok_or_else(|| AppError::BadRequest("weekday: mon … sun".into()))?;
    let time = field(&fields, "time")
        .and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok())
        .ok_or_else(|| AppError::BadRequest("time: use HH:MM".into()))?;
    studio::set_cadence(&state, &who, &catalog.series[si], first, weekday, time)
        .await
        .map_err(from_db)?;
    Ok(back(&series))
}

/// A lesson exactly as learners will see it, released or not, under a preview banner. Rendered
/// fresh every time and never stored in a cache learners read.
#[handler]
pub async fn preview(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson)): Path<(String, String)>,
    req: &Request,
) -> Result<Response, AppError> {
    editor(&state, req).await?;
    let (catalog, si, li) = find(&state, &series, Some(&lesson)).await?;
    let visible = Visible {
        generation: None,
        catalog,
        series_index: si,
        lesson_index: li.unwrap_or_default(),
    };
    let content = crate::store::content::lesson_content(&state.db, visible.lesson().id)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    let page = super::pages::lesson_view(&state, &visible, &content, lang);
    let banner = format!(
        r#"<p class="preview-banner" role="status">{} · {}</p>"#,
        staff_ui(lang).preview_banner,
        format_moment(
            visible.lesson().release_at,
            visible.series().timezone(),
            lang
        )
    );
    let body = render(&page)?
        .replacen("<!--hw:banner-->", &banner, 1)
        .replace("\"/media/", "\"/studio/media/");
    let mut response = html(body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("header"));
    Ok(response)
}

/// Media of any lesson, for previews.
#[handler]
pub async fn preview_media(
    state: Data<&AppState>,
    Path((series, lesson, name)): Path<(String, String, String)>,
    req: &Request,
) -> Result<Response, AppError> {
    editor(&state, req).await?;
    let (catalog, si, li) = find(&state, &series, Some(&lesson)).await?;
    let entry = &catalog.series[si].lessons[li.unwrap_or_default()];
    let meta = entry.media(&name).ok_or(AppError::NotFound)?;
    let bytes = crate::store::content::media_bytes(&state.db, entry.id, &name)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, meta.content_type.as_str())
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::CONTENT_SECURITY_POLICY, super::media::MEDIA_CSP)
        .body(bytes))
}

#[derive(Template)]
#[template(path = "studio_stats.html")]
struct StatsPage {
    page: Chrome,
    s: &'static StaffUi,
    series: String,
    title: String,
    opened: u64,
    completed: u64,
    completion_rate: String,
    median_video: Option<String>,
    pass_rate: String,
    questions: Vec<(String, u64, String, String)>,
    p: &'static PushFiguresUi,
    /// The release messages' figures: (label, value).
    push: Vec<(&'static str, String)>,
    /// Per children's age band: (band, opened, completed), suppressed under 5.
    bands: Vec<(&'static str, String, String)>,
}

fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "–".into()
    } else {
        format!("{:.0}%", part as f64 * 100.0 / whole as f64)
    }
}

#[handler]
pub async fn stats(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson)): Path<(String, String)>,
    req: &Request,
) -> Result<Response, AppError> {
    editor(&state, req).await?;
    let (catalog, si, li) = find(&state, &series, Some(&lesson)).await?;
    let entry = &catalog.series[si].lessons[li.unwrap_or_default()];
    let content = crate::store::content::lesson_content(&state.db, entry.id)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    let figures = studio::lesson_stats(&state, entry, &content)
        .await
        .map_err(from_db)?;
    let s = staff_ui(lang);
    let p = push_figures_ui(lang);
    let release = figures::release_figures(&state, entry.id)
        .await
        .map_err(from_db)?;
    let show = |n: Shown| match n {
        Shown::Count(n) => n.to_string(),
        Shown::Hidden => s.fewer_than_5.to_owned(),
    };
    let push = vec![
        (p.queued, show(release.queued)),
        (p.sent, show(release.sent)),
        (p.failed, show(release.failed)),
        (p.opened_7, show(release.opened_within_7_days)),
    ];
    let bands = crate::services::ages::lesson_band_figures(&state.db, entry.id)
        .await
        .map_err(from_db)?
        .into_iter()
        .map(|b| (b.band, show(b.opened), show(b.completed)))
        .collect();
    let questions = content
        .quiz
        .iter()
        .flat_map(|q| q.questions.iter())
        .zip(&figures.questions)
        .map(|(question, q)| {
            let wrong = q
                .top_wrong
                .as_ref()
                .map(|(id, n)| {
                    let text = question
                        .choices
                        .iter()
                        .find(|c| &c.id == id)
                        .map(|c| c.text.get(lang))
                        .unwrap_or(id);
                    format!("{text} ({n})")
                })
                .unwrap_or_else(|| "–".into());
            (
                question.prompt.get(lang).to_owned(),
                q.answered,
                percent(q.correct, q.answered),
                wrong,
            )
        })
        .collect();
    let page = StatsPage {
        page: chrome(
            &state,
            lang,
            s.stats,
            &format!("/studio/s/{series}/{lesson}/stats"),
        ),
        s,
        series: series.clone(),
        title: entry.title.get(lang).to_owned(),
        opened: figures.opened,
        completed: figures.completed,
        completion_rate: percent(figures.completed, figures.opened),
        median_video: figures.median_video_seconds.map(|s| format!("{s:.0} s")),
        pass_rate: percent(figures.quiz_passed, figures.quiz_takers),
        questions,
        p,
        push,
        bands,
    };
    Ok(html(render(&page)?))
}

#[derive(Template)]
#[template(path = "studio_edit.html")]
struct EditPage {
    page: Chrome,
    s: &'static StaffUi,
    csrf: String,
    series: String,
    lesson: String,
    title: String,
    fields: Vec<(String, String, String)>,
    /// The children's age bands the lesson is for, comma separated.
    age_bands: String,
    media: Vec<String>,
    error: Option<String>,
    saved: bool,
}

async fn edit_page(
    state: &AppState,
    lang: Lang,
    who: &Staff,
    series: &str,
    lesson: &str,
    error: Option<String>,
    saved: bool,
) -> Result<Response, AppError> {
    let (catalog, si, li) = find(state, series, Some(lesson)).await?;
    let entry = &catalog.series[si].lessons[li.unwrap_or_default()];
    let content = crate::store::content::lesson_content(&state.db, entry.id)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    let s = staff_ui(lang);
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = EditPage {
        page: chrome(
            state,
            lang,
            s.studio,
            &format!("/studio/s/{series}/{lesson}/edit"),
        ),
        s,
        csrf: csrf_token(state, who),
        series: series.to_owned(),
        lesson: lesson.to_owned(),
        title: entry.title.get(lang).to_owned(),
        fields: studio::text_fields(entry, &content),
        age_bands: entry.age_bands.join(", "),
        media: entry
            .media
            .iter()
            .filter(|m| !m.content_type.starts_with("text/markdown"))
            .map(|m| m.name.clone())
            .collect(),
        error,
        saved,
    };
    Ok(poem::IntoResponse::into_response(
        poem::IntoResponse::with_status(html(render(&page)?), status),
    ))
}

#[handler]
pub async fn edit(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson)): Path<(String, String)>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = editor(&state, req).await?;
    edit_page(&state, lang, &who, &series, &lesson, None, false).await
}

#[handler]
pub async fn edit_submit(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let who = editor(&state, req).await?;
    check_csrf(&state, req, &who, field(&fields, "csrf"))?;
    let (catalog, si, li) = find(&state, &series, Some(&lesson)).await?;
    let entry = &catalog.series[si].lessons[li.unwrap_or_default()];
    let content = crate::store::content::lesson_content(&state.db, entry.id)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    let form: std::collections::HashMap<String, String> = fields.into_iter().collect();
    match studio::update_texts(&state, &who, &catalog.series[si], entry, content, &form).await {
        Ok(()) => edit_page(&state, lang, &who, &series, &lesson, None, true).await,
        Err(message) => edit_page(&state, lang, &who, &series, &lesson, Some(message), false).await,
    }
}

/// Replaces a media file with an upload (multipart fields `csrf`, `name`, `file`).
#[handler]
pub async fn upload(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson)): Path<(String, String)>,
    body: poem::Body,
    req: &Request,
) -> Result<Response, AppError> {
    // Who is asking is settled before the upload is read.
    let who = editor(&state, req).await?;
    let mut body = poem::RequestBody::new(body);
    let mut multipart = <poem::web::Multipart as poem::FromRequest>::from_request(req, &mut body)
        .await
        .map_err(|_| AppError::BadRequest("send the file as multipart/form-data".into()))?;
    let (mut csrf, mut name, mut bytes) = (None, None, None);
    while let Some(part) = multipart
        .next_field()
        .await
        .map_err(|_| AppError::BadRequest("the upload could not be read".into()))?
    {
        match part.name() {
            Some("csrf") => csrf = part.text().await.ok(),
            Some("name") => name = part.text().await.ok(),
            Some("file") => bytes = Some(part.bytes().await.map_err(|_| AppError::TooLarge)?),
            _ => {}
        }
    }
    check_csrf(&state, req, &who, csrf.as_deref())?;
    let (name, bytes) = name.zip(bytes).ok_or_else(|| {
        AppError::BadRequest("choose the file to replace and the new file".into())
    })?;
    let (catalog, si, li) = find(&state, &series, Some(&lesson)).await?;
    let entry = &catalog.series[si].lessons[li.unwrap_or_default()];
    let content = crate::store::content::lesson_content(&state.db, entry.id)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    match studio::replace_media(
        &state,
        &who,
        &catalog.series[si],
        entry,
        &content,
        &name,
        bytes,
    )
    .await
    {
        Ok(()) => edit_page(&state, lang, &who, &series, &lesson, None, true).await,
        Err(message) => edit_page(&state, lang, &who, &series, &lesson, Some(message), false).await,
    }
}
