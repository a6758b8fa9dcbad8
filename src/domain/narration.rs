//! Narration: the spoken audio of a lesson's parts (comic panels, article sections, quiz
//! questions), one media file per language, and the budget that keeps a lesson's audio small.

use serde::{Deserialize, Serialize};

use super::Lang;
use super::lesson::{LessonBody, LessonContent};

/// A lesson's audio files together may not pass this, so a whole lesson costs little data.
pub const LESSON_AUDIO_BUDGET: usize = 300 * 1024;

/// The audio of one part: a media file name per language. Mandarin is required when a part has
/// any audio at all; English is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audio {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Audio {
    pub fn get(&self, lang: Lang) -> Option<&str> {
        match lang {
            Lang::Zh => self.zh.as_deref(),
            Lang::En => self.en.as_deref(),
        }
    }

    pub fn set(&mut self, lang: Lang, name: String) {
        match lang {
            Lang::Zh => self.zh = Some(name),
            Lang::En => self.en = Some(name),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.zh.is_none() && self.en.is_none()
    }

    /// What a page in `lang` plays, and in which language: the page's own language if there is
    /// a recording in it, otherwise Mandarin.
    pub fn for_page(&self, lang: Lang) -> Option<(&str, Lang)> {
        self.get(lang)
            .map(|name| (name, lang))
            .or_else(|| self.zh.as_deref().map(|name| (name, Lang::Zh)))
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.zh.iter().chain(self.en.iter()).map(String::as_str)
    }
}

/// An article's audio: one file per section (sections start at each `##` heading), per language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleAudio {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zh: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub en: Vec<String>,
}

impl ArticleAudio {
    pub fn get(&self, lang: Lang) -> &[String] {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }

    pub fn get_mut(&mut self, lang: Lang) -> &mut Vec<String> {
        match lang {
            Lang::Zh => &mut self.zh,
            Lang::En => &mut self.en,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.zh.is_empty() && self.en.is_empty()
    }

    /// Section `index`'s audio as a per-language pair.
    pub fn section(&self, index: usize) -> Audio {
        Audio {
            zh: self.zh.get(index).cloned(),
            en: self.en.get(index).cloned(),
        }
    }
}

/// Every audio file a lesson names, each once.
pub fn audio_files(content: &LessonContent) -> Vec<&str> {
    let mut names: Vec<&str> = content.family.audio.names().collect();
    match &content.body {
        LessonBody::Comic { panels } => names.extend(panels.iter().flat_map(|p| p.audio.names())),
        LessonBody::Article { audio, .. } => {
            names.extend(audio.zh.iter().chain(audio.en.iter()).map(String::as_str))
        }
        LessonBody::Video(_) => {}
    }
    if let Some(quiz) = &content.quiz {
        names.extend(quiz.questions.iter().flat_map(|q| q.audio.names()));
    }
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|name| seen.insert(*name));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_plays_its_own_language_or_else_mandarin() {
        let both = Audio {
            zh: Some("p.zh.mp3".into()),
            en: Some("p.en.mp3".into()),
        };
        assert_eq!(both.for_page(Lang::En), Some(("p.en.mp3", Lang::En)));
        let zh_only = Audio {
            zh: Some("p.zh.mp3".into()),
            en: None,
        };
        assert_eq!(zh_only.for_page(Lang::En), Some(("p.zh.mp3", Lang::Zh)));
        assert_eq!(Audio::default().for_page(Lang::Zh), None);
    }
}
