//! What a lesson is: its kind, status, body and quiz, as stored and as shown.

use serde::{Deserialize, Serialize};

use super::narration::{ArticleAudio, Audio};
use super::quiz::Quiz;
use super::text::Text;

/// Who a series is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Audience {
    Parents,
    LineManagers,
    YoungWorkers,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Parents => "parents",
            Audience::LineManagers => "line-managers",
            Audience::YoungWorkers => "young-workers",
        }
    }

    pub fn parse(raw: &str) -> Option<Audience> {
        match raw {
            "parents" => Some(Audience::Parents),
            "line-managers" => Some(Audience::LineManagers),
            "young-workers" => Some(Audience::YoungWorkers),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LessonKind {
    Comic,
    Video,
    Article,
}

impl LessonKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LessonKind::Comic => "comic",
            LessonKind::Video => "video",
            LessonKind::Article => "article",
        }
    }

    pub fn parse(raw: &str) -> Option<LessonKind> {
        match raw {
            "comic" => Some(LessonKind::Comic),
            "video" => Some(LessonKind::Video),
            "article" => Some(LessonKind::Article),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LessonStatus {
    Draft,
    Published,
}

impl LessonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LessonStatus::Draft => "draft",
            LessonStatus::Published => "published",
        }
    }

    pub fn parse(raw: &str) -> Option<LessonStatus> {
        match raw {
            "draft" => Some(LessonStatus::Draft),
            "published" => Some(LessonStatus::Published),
            _ => None,
        }
    }
}

/// One comic panel. `image` names a media file of the lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Panel {
    pub image: String,
    pub width: u32,
    pub height: u32,
    pub caption: Text,
    pub alt: Text,
    /// The caption read aloud.
    #[serde(default, skip_serializing_if = "Audio::is_empty")]
    pub audio: Audio,
}

/// A video with its poster, captions and transcript; file fields name media files of the lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Video {
    pub file: String,
    pub poster: String,
    pub duration_seconds: u32,
    pub captions: Text,
    pub transcript: Text,
}

/// The part of a lesson that depends on its kind. Article HTML is already sanitised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum LessonBody {
    Comic {
        panels: Vec<Panel>,
    },
    Video(Video),
    /// `html` is rendered from `markdown` and sanitised; the Markdown is kept for export.
    Article {
        html: Text,
        #[serde(default)]
        markdown: Text,
        /// Each section read aloud.
        #[serde(default, skip_serializing_if = "ArticleAudio::is_empty")]
        audio: ArticleAudio,
    },
}

impl LessonBody {
    pub fn kind(&self) -> LessonKind {
        match self {
            LessonBody::Comic { .. } => LessonKind::Comic,
            LessonBody::Video(_) => LessonKind::Video,
            LessonBody::Article { .. } => LessonKind::Article,
        }
    }
}

/// The one thing a lesson wants the family at home (often the grandparents raising the child)
/// to know: printed on its family card, in huge type on its family page, and read aloud there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FamilyMessage {
    #[serde(default)]
    pub text: Text,
    #[serde(default, skip_serializing_if = "Audio::is_empty")]
    pub audio: Audio,
}

impl FamilyMessage {
    /// Printed in very large type on a 750 px card: at most this many characters.
    pub fn max_chars(lang: super::Lang) -> usize {
        match lang {
            super::Lang::Zh => 60,
            super::Lang::En => 180,
        }
    }

    /// The message in `lang`, or for a lesson without one, the start of its summary.
    pub fn or_summary(&self, summary: &Text, lang: super::Lang) -> String {
        match self.text.get(lang).trim() {
            "" => summary
                .get(lang)
                .chars()
                .take(Self::max_chars(lang))
                .collect(),
            text => text.to_owned(),
        }
    }
}

/// A lesson's full content, as the loader builds it and the store keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonContent {
    pub body: LessonBody,
    pub quiz: Option<Quiz>,
    /// Empty only for lessons made before it existed; pages then use the summary.
    #[serde(default)]
    pub family: FamilyMessage,
}
