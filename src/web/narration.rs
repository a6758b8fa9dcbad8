//! What a page needs to play a lesson's audio: one player per part (plain `<audio controls
//! preload="none">` without JavaScript, a large button with it) and the "listen" button that
//! plays the parts in order. Nothing is downloaded until a learner presses play.

use super::i18n_reach::reach_ui;
use crate::content::markdown::render_sections;
use crate::domain::Lang;
use crate::domain::LessonBody;
use crate::domain::narration::{ArticleAudio, Audio};

/// Which kind of part a player reads, for its button's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartKind {
    Family,
    Panel,
    Section,
    Question,
    /// Part `n` of the lesson, away from its picture or text (on the family page).
    Numbered(usize),
}

/// One part's player.
pub struct NarrationView {
    pub src: String,
    /// The `lang` of the recording (Mandarin on an English page without English audio).
    pub lang: &'static str,
    pub play: String,
    pub pause: &'static str,
    /// `body` for the parts the "listen" button plays in order; `alone` for the rest.
    pub sequence: &'static str,
}

/// The "listen" button at the top of a page.
pub struct ListenView {
    pub play: String,
    pub pause: &'static str,
}

/// The player of a part with audio, for a page in `lang`; `media` turns a file name into its URL.
pub fn narration(
    audio: &Audio,
    lang: Lang,
    kind: PartKind,
    media: &dyn Fn(&str) -> String,
) -> Option<NarrationView> {
    let (name, spoken) = audio.for_page(lang)?;
    let t = reach_ui(lang);
    let label = match kind {
        PartKind::Family => t.play_family.to_owned(),
        PartKind::Panel => t.play_panel.to_owned(),
        PartKind::Section => t.play_section.to_owned(),
        PartKind::Question => t.play_question.to_owned(),
        PartKind::Numbered(n) => t.play_part.replace("{n}", &n.to_string()),
    };
    Some(NarrationView {
        src: media(name),
        lang: spoken.html_lang(),
        play: format!("{label}{}", mandarin_note(lang, spoken)),
        pause: t.pause,
        sequence: match kind {
            PartKind::Question | PartKind::Family => "alone",
            _ => "body",
        },
    })
}

fn mandarin_note(page: Lang, spoken: Lang) -> &'static str {
    if page != spoken {
        reach_ui(page).in_mandarin
    } else {
        ""
    }
}

/// The "listen" button, when some part the page plays in order has audio.
pub fn listen(parts: &[Option<&NarrationView>], lang: Lang, label: &str) -> Option<ListenView> {
    let first = parts
        .iter()
        .flatten()
        .find(|view| view.sequence == "body")?;
    let t = reach_ui(lang);
    let spoken = if first.lang == lang.html_lang() {
        lang
    } else {
        Lang::Zh
    };
    Some(ListenView {
        play: format!("{label}{}", mandarin_note(lang, spoken)),
        pause: t.pause,
    })
}

/// The players of a lesson's body (panels or article sections), numbered, for a page that
/// plays them away from their pictures and text.
pub fn numbered_body_parts(
    body: &LessonBody,
    lang: Lang,
    media: &dyn Fn(&str) -> String,
) -> Vec<NarrationView> {
    let parts: Vec<Audio> = match body {
        LessonBody::Comic { panels } => panels.iter().map(|p| p.audio.clone()).collect(),
        LessonBody::Article { audio, .. } => {
            let names = if audio.get(lang).is_empty() {
                &audio.zh
            } else {
                audio.get(lang)
            };
            (0..names.len()).map(|i| audio.section(i)).collect()
        }
        LessonBody::Video(_) => Vec::new(),
    };
    parts
        .iter()
        .filter(|audio| audio.for_page(lang).is_some())
        .enumerate()
        .filter_map(|(i, audio)| narration(audio, lang, PartKind::Numbered(i + 1), media))
        .collect()
}

/// One section of an article with its player.
pub struct SectionView {
    /// Sanitised at import (pulldown-cmark + ammonia); never raw editor HTML.
    pub html: String,
    pub audio: Option<NarrationView>,
}

/// An article as sections (each starts at a `##` heading), each with its audio. Without the
/// Markdown (lessons stored before it was kept) the whole article is one section.
pub fn article_sections(
    html: &str,
    markdown: &str,
    audio: &ArticleAudio,
    lang: Lang,
    media: &dyn Fn(&str) -> String,
) -> Vec<SectionView> {
    let sections = if markdown.trim().is_empty() {
        vec![html.to_owned()]
    } else {
        render_sections(markdown)
    };
    // Recordings follow the sections of their own language's text. An English page without
    // English audio plays the Mandarin recordings only when both texts have as many sections.
    let own = !audio.get(lang).is_empty();
    let aligned = own || audio.zh.len() == sections.len();
    sections
        .into_iter()
        .enumerate()
        .map(|(i, html)| {
            let part = if aligned {
                audio.section(i)
            } else {
                Audio::default()
            };
            SectionView {
                html,
                audio: narration(&part, lang, PartKind::Section, media),
            }
        })
        .collect()
}
