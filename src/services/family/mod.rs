//! Passing a lesson on to the family at home: its family card (a PNG to save or forward in
//! WeChat, drawn off the async runtime and kept per content generation), the family page's
//! address, and the news item the chat forwards. Only ever for a lesson visible right now.
//! (The drawing is `draw`; the font and line breaking are `fonts`.)

pub mod draw;
mod fonts;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::domain::catalog::LessonEntry;
use crate::domain::lesson::{LessonBody, LessonContent};
use crate::domain::{Lang, Text};
use crate::services::Context;
use crate::services::lessons::{self, Visible};
use crate::settings::Settings;
use draw::{Card, Picture};

/// Drawn cards, and the font they are drawn with, for this instance.
#[derive(Default)]
pub struct CardMemo {
    cards: Mutex<HashMap<CardKey, Arc<Vec<u8>>>>,
    fonts: Mutex<Option<Arc<fontdb::Database>>>,
    /// One drawing at a time per instance: a burst of requests for a new card draws it once
    /// and never takes every core.
    drawing: tokio::sync::Mutex<()>,
}

/// A card is the same while the content generation, the lesson's last change and the
/// language are (the generation is `None` with the cache down; the lesson's `updated_at`
/// still tells a changed lesson apart then).
type CardKey = (Option<i64>, i64, DateTime<Utc>, Lang);

const MEMO_CARDS: usize = 200;

/// Why there is no card.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    /// This server cannot draw cards (its font is missing); said once in the log.
    #[error("{0}")]
    NoFont(String),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

/// The family page of a lesson: what the card's QR code opens.
pub fn family_url(settings: &Settings, series: &str, lesson: &str) -> String {
    format!("{}/f/{series}/{lesson}", settings.public_url())
}

pub fn card_path(series: &str, lesson: &str) -> String {
    format!("/s/{series}/{lesson}/card.png")
}

/// The words printed on a card.
struct CardWords {
    band: &'static str,
    scan: &'static str,
    hotlines: &'static str,
}

fn words(lang: Lang) -> CardWords {
    match lang {
        Lang::Zh => CardWords {
            band: "归家课堂 · 给家里人的话",
            scan: "扫一扫，听这一课",
            hotlines: "遇到危险打 110，孩子需要帮助打 12355。",
        },
        Lang::En => CardWords {
            band: "Homeward · For the family at home",
            scan: "Scan to hear this lesson",
            hotlines: "In danger, call 110. For a child who needs help, call 12355.",
        },
    }
}

fn title_line(title: &str, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("出自《{title}》"),
        Lang::En => format!("From the lesson \"{title}\""),
    }
}

/// The lesson's key message in `lang` (its summary for a lesson made before there was one).
pub fn message(lesson: &LessonEntry, content: &LessonContent, lang: Lang) -> String {
    content.family.or_summary(&lesson.summary, lang)
}

/// The picture a card shows: the first panel of a comic, the poster of a video. Articles have
/// none (the card draws a home instead).
async fn picture(
    state: &Context,
    lesson: &LessonEntry,
    content: &LessonContent,
) -> anyhow::Result<Option<Picture>> {
    let (name, width, height) = match &content.body {
        LessonBody::Comic { panels } => match panels.first() {
            Some(panel) => (panel.image.as_str(), panel.width, panel.height),
            None => return Ok(None),
        },
        LessonBody::Video(video) => (video.poster.as_str(), 640, 360),
        LessonBody::Article { .. } => return Ok(None),
    };
    let Some(meta) = lesson.media(name) else {
        return Ok(None);
    };
    let bytes = lessons::media_bytes(state, lesson, name, &meta.sha256).await?;
    Ok(bytes.map(|bytes| Picture {
        bytes,
        content_type: meta.content_type.clone(),
        width,
        height,
    }))
}

/// The font, loaded on first use (off the async runtime); a failure is tried again next time,
/// so installing the font needs no restart.
async fn card_font(state: &Context) -> Result<Arc<fontdb::Database>, CardError> {
    if let Some(fonts) = state.family.fonts.lock().expect("font lock").clone() {
        return Ok(fonts);
    }
    let dir = state.settings.card_fonts.clone();
    let loaded = tokio::task::spawn_blocking(move || fonts::load(&dir))
        .await
        .map_err(anyhow::Error::from)?
        .map_err(|e| CardError::NoFont(format!("{e:#}")))?;
    *state.family.fonts.lock().expect("font lock") = Some(loaded.clone());
    Ok(loaded)
}

/// The family card of a visible lesson, as PNG, from memory or drawn on a blocking thread.
pub async fn card_png(
    state: &Context,
    visible: &Visible,
    content: &LessonContent,
    lang: Lang,
) -> Result<Arc<Vec<u8>>, CardError> {
    let (series, lesson) = (visible.series(), visible.lesson());
    let key: CardKey = (visible.generation, lesson.id, lesson.updated_at, lang);
    let cached = || {
        state
            .family
            .cards
            .lock()
            .expect("card memo lock")
            .get(&key)
            .cloned()
    };
    if let Some(png) = cached() {
        return Ok(png);
    }
    let _turn = state.family.drawing.lock().await;
    if let Some(png) = cached() {
        return Ok(png);
    }
    let fonts = card_font(state).await?;
    let words = words(lang);
    let card = Card {
        lang,
        band: words.band.to_owned(),
        message: message(lesson, content, lang),
        title: title_line(lesson.title.get(lang), lang),
        picture: picture(state, lesson, content).await?,
        qr_url: family_url(&state.settings, &series.slug, &lesson.slug),
        scan: words.scan.to_owned(),
        hotlines: words.hotlines.to_owned(),
    };
    let png = Arc::new(
        tokio::task::spawn_blocking(move || draw::png(&card, &fonts))
            .await
            .map_err(anyhow::Error::from)??,
    );
    let mut cards = state.family.cards.lock().expect("card memo lock");
    if cards.len() >= MEMO_CARDS {
        cards.clear();
    }
    cards.insert(key, png.clone());
    Ok(png)
}

/// A chat news item that passes a lesson on: the card as its picture, the family page as its
/// link. For the WeChat chat's "转给家里人" (forward to the family).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewsItem {
    pub title: String,
    pub description: String,
    pub picture_url: String,
    pub url: String,
}

/// The news item of a lesson, or `None` unless it is visible right now.
pub async fn news_item(
    state: &Context,
    series: &str,
    lesson: &str,
    lang: Lang,
) -> anyhow::Result<Option<NewsItem>> {
    let Some(visible) = lessons::visible_lesson(state, series, lesson).await? else {
        return Ok(None);
    };
    let content = lessons::lesson_content(state, visible.lesson()).await?;
    let entry = visible.lesson();
    let title = Text::new(
        format!("转给家里人：{}", entry.title.zh),
        format!("For the family: {}", entry.title.en),
    );
    Ok(Some(NewsItem {
        title: title.get(lang).to_owned(),
        description: message(entry, &content, lang),
        picture_url: format!(
            "{}{}?lang={}",
            state.settings.public_url(),
            card_path(series, lesson),
            lang.code()
        ),
        url: format!(
            "{}?lang={}",
            family_url(&state.settings, series, lesson),
            lang.code()
        ),
    }))
}
