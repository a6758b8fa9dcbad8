//! The parts of a lesson that can be heard — comic panels, article sections, quiz questions —
//! with what a narrator reads for each, the audio each already has, and which lack Mandarin.

use std::path::Path;

use crate::content::markdown::plain_sections;
use crate::content::{LoadedSeries, Problem};
use crate::domain::lesson::{LessonBody, LessonContent};
use crate::domain::narration::Audio;
use crate::domain::{Lang, Text};

/// Where a part sits in `lesson.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The key message for the family at home.
    Family,
    Panel(usize),
    /// A section of the article (sections start at each `##` heading).
    Section(usize),
    /// A quiz question, by position, with its id.
    Question(usize, String),
}

impl Slot {
    /// The field of its audio, as `content check` names it.
    pub fn field(&self) -> String {
        match self {
            Slot::Family => "family_message.audio".into(),
            Slot::Panel(i) => format!("panels[{}].audio", i + 1),
            Slot::Section(i) => format!("article.audio[{}]", i + 1),
            Slot::Question(i, _) => format!("quiz.questions[{}].audio", i + 1),
        }
    }

    /// The file name `content narrate` gives a new recording.
    pub fn file_name(&self, lang: Lang) -> String {
        let code = lang.code();
        match self {
            Slot::Family => format!("family.{code}.mp3"),
            Slot::Panel(i) => format!("panel-{}.{code}.mp3", i + 1),
            Slot::Section(i) => format!("article-{}.{code}.mp3", i + 1),
            Slot::Question(_, id) => format!("quiz-{id}.{code}.mp3"),
        }
    }
}

/// One part that can be heard.
#[derive(Clone, Debug)]
pub struct Part {
    pub slot: Slot,
    /// What is read aloud, per language.
    pub script: Text,
    pub audio: Audio,
}

/// Every part of a lesson that can be heard: the family message, then the body in reading
/// order, then the quiz. A video speaks for itself; its quiz can still be heard.
pub fn parts(content: &LessonContent) -> Vec<Part> {
    let mut parts = vec![Part {
        slot: Slot::Family,
        script: content.family.text.clone(),
        audio: content.family.audio.clone(),
    }];
    match &content.body {
        LessonBody::Comic { panels } => {
            for (i, panel) in panels.iter().enumerate() {
                parts.push(Part {
                    slot: Slot::Panel(i),
                    script: panel.caption.clone(),
                    audio: panel.audio.clone(),
                });
            }
        }
        LessonBody::Article {
            markdown, audio, ..
        } => {
            let zh = plain_sections(&markdown.zh);
            let en = plain_sections(&markdown.en);
            for i in 0..zh.len().max(en.len()) {
                parts.push(Part {
                    slot: Slot::Section(i),
                    script: Text::new(
                        zh.get(i).cloned().unwrap_or_default(),
                        en.get(i).cloned().unwrap_or_default(),
                    ),
                    audio: audio.section(i),
                });
            }
        }
        LessonBody::Video(_) => {}
    }
    if let Some(quiz) = &content.quiz {
        for (i, question) in quiz.questions.iter().enumerate() {
            let mut script = Text::default();
            for lang in Lang::ALL {
                let mut lines = vec![question.prompt.get(lang).trim().to_owned()];
                for (n, choice) in question.choices.iter().enumerate() {
                    lines.push(choice_line(n, choice.text.get(lang), lang));
                }
                let text = lines.join("\n");
                match lang {
                    Lang::Zh => script.zh = text,
                    Lang::En => script.en = text,
                }
            }
            parts.push(Part {
                slot: Slot::Question(i, question.id.clone()),
                script,
                audio: question.audio.clone(),
            });
        }
    }
    parts
}

/// A choice read with its place, so a listener who cannot read knows which box to tick.
fn choice_line(n: usize, text: &str, lang: Lang) -> String {
    const ZH: [&str; 10] = [
        "第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十",
    ];
    const EN: [&str; 10] = [
        "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    ];
    let text = text.trim();
    let ends = text.ends_with(['。', '？', '！', '.', '?', '!']);
    match lang {
        Lang::Zh => format!(
            "{}，{text}{}",
            ZH.get(n).copied().unwrap_or("还有"),
            if ends { "" } else { "。" }
        ),
        Lang::En => format!(
            "{}: {text}{}",
            EN.get(n).copied().unwrap_or("And"),
            if ends { "" } else { "." }
        ),
    }
}

/// Every part of every lesson that has no Mandarin audio, as `path: field: message`.
pub fn missing_audio(dir: &Path, series: &[LoadedSeries]) -> Vec<Problem> {
    let mut missing = Vec::new();
    for s in series {
        for lesson in &s.lessons {
            let path = dir
                .join(s.slug.as_str())
                .join(lesson.slug.as_str())
                .join("lesson.toml");
            for part in parts(&lesson.content) {
                if part.audio.zh.is_none() && !part.script.zh.trim().is_empty() {
                    missing.push(Problem {
                        path: path.clone(),
                        field: format!("{}.zh", part.slot.field()),
                        message: "MISSING audio: no Mandarin recording yet (run `homeward content narrate`)".into(),
                    });
                }
            }
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_read_with_their_place() {
        assert_eq!(choice_line(0, "想起来就打", Lang::Zh), "第一，想起来就打。");
        assert_eq!(
            choice_line(1, "今天午饭吃了什么？", Lang::Zh),
            "第二，今天午饭吃了什么？"
        );
        assert_eq!(choice_line(2, "Hang up", Lang::En), "Three: Hang up.");
    }
}
