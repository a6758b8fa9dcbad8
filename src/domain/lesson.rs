//! What a lesson is: its kind, status, body and quiz, as stored and as shown.

use serde::{Deserialize, Serialize};

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

/// A lesson's full content, as the loader builds it and the store keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonContent {
    pub body: LessonBody,
    pub quiz: Option<Quiz>,
}
