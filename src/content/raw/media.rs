//! The media files a lesson names, each read and checked once; and its narration: audio per
//! part with Mandarin required whenever a part has any, article audio matching the sections,
//! and the lesson's audio budget.

use super::*;
use crate::content::markdown::section_count;
use crate::domain::Lang;
use crate::domain::narration::{ArticleAudio, Audio, LESSON_AUDIO_BUDGET};

/// `audio = { zh = "panel-1.zh.mp3", en = "panel-1.en.mp3" }` on a panel or a question.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudio {
    zh: Option<String>,
    en: Option<String>,
}

/// `audio = { zh = ["article-1.zh.mp3", …], en = […] }` in `[article]`: one file per section.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawArticleAudio {
    #[serde(default)]
    zh: Vec<String>,
    #[serde(default)]
    en: Vec<String>,
}

/// The media read for one lesson so far.
pub(super) struct LessonMedia<'a> {
    dir: &'a Path,
    pub files: Vec<MediaFile>,
    /// For `content narrate`: a named audio file that does not exist yet is one to make.
    audio_may_be_missing: bool,
}

impl<'a> LessonMedia<'a> {
    pub fn new(dir: &'a Path, audio_may_be_missing: bool) -> Self {
        LessonMedia {
            dir,
            files: Vec::new(),
            audio_may_be_missing,
        }
    }

    /// Reads and checks a file named in field `field`, once however often it is named.
    pub fn add(&mut self, report: &mut Report<'_>, field: &str, name: &str, role: MediaRole) {
        if let Some(known) = self.files.iter().find(|m| m.name == name) {
            if role == MediaRole::Audio && !known.content_type.starts_with("audio/") {
                report.add(
                    field,
                    format!("'{name}' has a file type not allowed here (Audio: MP3 or M4A)"),
                );
            }
            return;
        }
        if role == MediaRole::Audio
            && self.audio_may_be_missing
            && files::check_name(name).is_ok()
            && !self.dir.join(name).exists()
        {
            return;
        }
        match files::read_media(self.dir, name, role) {
            Ok(file) => self.files.push(file),
            Err(message) => report.add(field, message),
        }
    }

    /// One part's audio. A part with audio must have it in Mandarin; English is optional.
    pub fn audio(&mut self, report: &mut Report<'_>, field: &str, raw: Option<RawAudio>) -> Audio {
        let Some(raw) = raw else {
            return Audio::default();
        };
        if raw.zh.is_none() {
            report.add(
                format!("{field}.zh"),
                "a part with audio needs it in Mandarin (zh); English (en) is optional",
            );
        }
        let audio = Audio {
            zh: raw.zh,
            en: raw.en,
        };
        for lang in Lang::ALL {
            if let Some(name) = audio.get(lang) {
                self.add(
                    report,
                    &format!("{field}.{}", lang.code()),
                    name,
                    MediaRole::Audio,
                );
            }
        }
        audio
    }

    /// An article's audio: per language, none or exactly one file per section.
    pub fn article_audio(
        &mut self,
        report: &mut Report<'_>,
        raw: Option<RawArticleAudio>,
        markdown: &Text,
    ) -> ArticleAudio {
        let Some(raw) = raw else {
            return ArticleAudio::default();
        };
        let audio = ArticleAudio {
            zh: raw.zh,
            en: raw.en,
        };
        if audio.zh.is_empty() {
            report.add(
                "article.audio.zh",
                "an article with audio needs it in Mandarin (zh); English (en) is optional",
            );
        }
        for lang in Lang::ALL {
            let names = audio.get(lang);
            let sections = section_count(markdown.get(lang));
            let field = format!("article.audio.{}", lang.code());
            if !names.is_empty() && names.len() != sections {
                report.add(
                    &field,
                    format!(
                        "{} file(s) for {sections} section(s); give one per section (a section starts at each `##` heading)",
                        names.len()
                    ),
                );
            }
            for (i, name) in names.iter().enumerate() {
                self.add(
                    report,
                    &format!("{field}[{}]", i + 1),
                    name,
                    MediaRole::Audio,
                );
            }
        }
        audio
    }

    /// A whole lesson's audio must stay small enough to hear on a cheap data plan.
    pub fn check_audio_budget(&self, report: &mut Report<'_>) {
        let total: usize = self
            .files
            .iter()
            .filter(|f| f.content_type.starts_with("audio/"))
            .map(|f| f.bytes.len())
            .sum();
        if total > LESSON_AUDIO_BUDGET {
            report.add(
                "audio",
                format!(
                    "the lesson's audio files add up to {} KB; the limit is {} KB",
                    total / 1024,
                    LESSON_AUDIO_BUDGET / 1024
                ),
            );
        }
    }
}
