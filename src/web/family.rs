//! Passing a lesson on: its family card (`/s/{series}/{lesson}/card.png`) and its family page
//! (`/f/{series}/{lesson}`) — no sign-in, very large type, the key message read aloud, the
//! lesson's audio and the hotlines. Both are 404 unless the lesson is visible right now.

use askama::Template;
use poem::http::header;
use poem::web::{Data, Path};
use poem::{Response, handler};

use super::i18n::ui;
use super::i18n_reach::{ReachUi, reach_ui};
use super::narration::{
    ListenView, NarrationView, PartKind, listen, narration, numbered_body_parts,
};
use super::pages::{find_visible, html};
use crate::domain::{Lang, LessonBody};
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::services::family::{self, CardError};
use crate::services::lessons;

/// The card as PNG, in the request's language.
#[handler]
pub async fn card(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let visible = find_visible(&state, &series, &lesson).await?;
    let content = lessons::lesson_content(&state, visible.lesson())
        .await
        .map_err(from_db)?;
    let png = family::card_png(&state, &visible, &content, lang)
        .await
        .map_err(|error| match error {
            CardError::NoFont(message) => {
                tracing::error!(error = %message, "cannot draw family cards");
                AppError::Unavailable
            }
            CardError::Failed(error) => from_db(error),
        })?;
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "image/png")
        // Like lesson media: kept a while by phones, checked again after.
        .header(header::CACHE_CONTROL, "public, max-age=3600")
        .body(png.as_ref().clone()))
}

struct Picture {
    src: String,
    width: u32,
    height: u32,
    alt: String,
}

#[derive(Template)]
#[template(path = "family.html")]
struct FamilyPage {
    lang: Lang,
    site_name: &'static str,
    r: &'static ReachUi,
    title: String,
    css: String,
    js: String,
    icon: String,
    switch_to: &'static str,
    switch_href: String,
    message: String,
    message_audio: Option<NarrationView>,
    picture: Option<Picture>,
    listen: Option<ListenView>,
    parts: Vec<NarrationView>,
    lesson_heading: String,
    lesson_href: String,
}

#[handler]
pub async fn page(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let visible = find_visible(&state, &series, &lesson).await?;
    let key = format!("family:{}:{}", visible.lesson().id, lang.code());
    let page = lessons::cached_page(&state, &visible, &key, || async {
        let content = lessons::lesson_content(&state, visible.lesson()).await?;
        let entry = visible.lesson();
        let media = |name: &str| format!("/media/{series}/{lesson}/{name}");
        let picture = match &content.body {
            LessonBody::Comic { panels } => panels.first().map(|p| Picture {
                src: media(&p.image),
                width: p.width,
                height: p.height,
                alt: p.alt.get(lang).to_owned(),
            }),
            LessonBody::Video(video) => Some(Picture {
                src: media(&video.poster),
                width: 640,
                height: 360,
                alt: entry.title.get(lang).to_owned(),
            }),
            LessonBody::Article { .. } => None,
        };
        let parts = numbered_body_parts(&content.body, lang, &media);
        let r = reach_ui(lang);
        let path = format!("/f/{series}/{lesson}");
        let view = FamilyPage {
            lang,
            site_name: ui(lang).site_name,
            r,
            title: entry.title.get(lang).to_owned(),
            css: state.assets.url("app.css").to_owned(),
            js: state.assets.url("app.js").to_owned(),
            icon: state.assets.url("icon.svg").to_owned(),
            switch_to: ui(lang).switch_to,
            switch_href: format!("/lang/{}?next={path}", lang.other().code()),
            message: family::message(entry, &content, lang),
            message_audio: narration(&content.family.audio, lang, PartKind::Family, &media),
            picture,
            listen: listen(
                &parts.iter().map(Some).collect::<Vec<_>>(),
                lang,
                r.family_listen_all,
            ),
            parts,
            lesson_heading: r.family_lesson.replace("{title}", entry.title.get(lang)),
            lesson_href: format!("/s/{series}/{lesson}"),
        };
        view.render().map_err(|e| anyhow::anyhow!("template: {e}"))
    })
    .await
    .map_err(from_db)?;
    Ok(html(page))
}
