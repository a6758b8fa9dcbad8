//! The WeChat chat's words and answers, as editors write them in `content/wechat/`: which
//! keywords lead to which reply, which words are safeguarding matches (and of which category),
//! and the texts of every reply. Matching is forgiving: case, spaces, punctuation and
//! full-width forms do not matter, so `Bei Da`, `beida` and `bei-da` are one word.

use super::{Lang, Text};

/// What a keyword (or a menu click) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    ThisWeek,
    Progress,
    Help,
    /// The review card: questions the learner missed, due again.
    Review,
    /// Answer in English from now on.
    English,
    /// Answer in Chinese from now on.
    Chinese,
}

impl Intent {
    pub const ALL: [Intent; 6] = [
        Intent::ThisWeek,
        Intent::Progress,
        Intent::Help,
        Intent::Review,
        Intent::English,
        Intent::Chinese,
    ];

    /// The name used in `chat.toml` and as the key of a menu button.
    pub fn name(self) -> &'static str {
        match self {
            Intent::ThisWeek => "this_week",
            Intent::Progress => "progress",
            Intent::Help => "help",
            Intent::Review => "review",
            Intent::English => "english",
            Intent::Chinese => "chinese",
        }
    }

    pub fn parse(name: &str) -> Option<Intent> {
        Intent::ALL
            .into_iter()
            .find(|intent| intent.name().eq_ignore_ascii_case(name.trim()))
    }
}

/// Keywords that lead to one intent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyword {
    pub intent: Intent,
    /// Normalized (see [`normalize`]).
    pub words: Vec<String>,
}

/// A kind of harm the safeguarding reply is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafeguardingCategory {
    /// A short identifier (`child_harm`), counted per week.
    pub name: String,
    pub label: Text,
    /// Normalized (see [`normalize`]).
    pub words: Vec<String>,
}

/// Every text the chat answers with, in both languages. Placeholders in braces are filled in
/// when replying; `content check` makes sure each text has the ones it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatTexts {
    /// A plain follow. `{link}`: this week's lesson.
    pub welcome: Text,
    /// A follow or scan of a factory's code. `{factory}`, `{link}`: the join page.
    pub welcome_code: Text,
    /// A scan of a revoked, expired or full code. `{link}`: this week's lesson.
    pub code_closed: Text,
    /// A follower who is already a learner scanned a code. `{link}`: their lesson.
    pub welcome_back: Text,
    /// The news card of this week's lesson: its description. `{week}`.
    pub this_week: Text,
    /// No lesson is out yet.
    pub nothing_yet: Text,
    /// `{done}`, `{total}`, `{streak}`, `{link}`: the learner's progress.
    pub progress: Text,
    /// Progress asked by someone who has not joined. `{link}`: how to join.
    pub join_first: Text,
    /// The help answer. `{help}`: the help page.
    pub help: Text,
    /// Unknown text: a short menu of what to send.
    pub menu: Text,
    /// Confirms the language change.
    pub language_set: Text,
    /// The review card. `{questions}`: the due questions with lettered choices; `{example}`:
    /// a reply that would answer them.
    pub review_card: Text,
    /// Put after a question that takes several answers.
    pub review_multiple: Text,
    /// A right review answer. `{number}`: the question's number on the card.
    pub review_right: Text,
    /// A wrong one. `{number}`, `{answer}`: the right choices.
    pub review_wrong: Text,
    /// When the question comes back. `{date}`.
    pub review_next: Text,
    /// A question answered right in its last box: it will not come back.
    pub review_retired: Text,
    /// A question answered already (on the home, or a second reply).
    pub review_answered: Text,
    /// Nothing due now. `{date}`: the next review.
    pub review_later: Text,
    /// Nothing to review at all.
    pub review_none: Text,
    /// Letters the card cannot take. `{example}`: a reply that would.
    pub review_unclear: Text,
}

/// Everything the chat needs from the content files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chat {
    pub texts: ChatTexts,
    pub keywords: Vec<Keyword>,
    /// The reply to a safeguarding match. `{help}`: the help page with tap-to-call numbers.
    pub safeguarding_reply: Text,
    pub categories: Vec<SafeguardingCategory>,
}

/// The hotlines every safeguarding reply and the help page must give.
pub const HOTLINES: [&str; 4] = ["110", "12355", "12338", "12356"];

/// Lower-case, half-width, without spaces or punctuation: the form words are compared in.
pub fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            // Full-width ASCII forms (Ａ, １, ！) → ASCII.
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Chat {
    /// The safeguarding category the message matches, if any (the first in the file wins).
    pub fn safeguarding_match(&self, message: &str) -> Option<&SafeguardingCategory> {
        let message = normalize(message);
        if message.is_empty() {
            return None;
        }
        self.categories
            .iter()
            .find(|category| category.words.iter().any(|w| message.contains(w.as_str())))
    }

    /// The intent a message asks for: a keyword equal to the whole message wins over one it
    /// contains. Only longer words count when contained (two or more Chinese characters, or
    /// four or more letters), so "1" and "en" are keywords without "10" or "went" being ones.
    pub fn intent(&self, message: &str) -> Option<Intent> {
        let message = normalize(message);
        if message.is_empty() {
            return None;
        }
        let exact = self.keywords.iter().find(|k| k.words.contains(&message));
        let within = || {
            self.keywords.iter().find(|k| {
                k.words
                    .iter()
                    .any(|w| long_enough(w) && message.contains(w.as_str()))
            })
        };
        exact.or_else(within).map(|k| k.intent)
    }
}

fn long_enough(word: &str) -> bool {
    if word.is_ascii() {
        word.len() >= 4
    } else {
        word.chars().count() >= 2
    }
}

/// Fills `{name}` placeholders; unknown ones stay as written (content check refuses them).
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

/// The placeholders a template uses.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    found.push(name.to_owned());
                }
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    found
}

/// A text in the language, or Chinese when the translation is empty.
pub fn text_in(text: &Text, lang: Lang) -> &str {
    let chosen = text.get(lang);
    if chosen.trim().is_empty() {
        &text.zh
    } else {
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat() -> Chat {
        let t = Text::new("x", "x");
        Chat {
            texts: ChatTexts {
                welcome: t.clone(),
                welcome_code: t.clone(),
                code_closed: t.clone(),
                welcome_back: t.clone(),
                this_week: t.clone(),
                nothing_yet: t.clone(),
                progress: t.clone(),
                join_first: t.clone(),
                help: t.clone(),
                menu: t.clone(),
                language_set: t.clone(),
                review_card: t.clone(),
                review_multiple: t.clone(),
                review_right: t.clone(),
                review_wrong: t.clone(),
                review_next: t.clone(),
                review_retired: t.clone(),
                review_answered: t.clone(),
                review_later: t.clone(),
                review_none: t.clone(),
                review_unclear: t.clone(),
            },
            keywords: vec![
                Keyword {
                    intent: Intent::ThisWeek,
                    words: vec!["1".into(), normalize("本周课程"), "lesson".into()],
                },
                Keyword {
                    intent: Intent::English,
                    words: vec!["en".into(), "english".into()],
                },
            ],
            safeguarding_reply: t,
            categories: vec![
                SafeguardingCategory {
                    name: "self_harm".into(),
                    label: Text::new("自伤", "Self-harm"),
                    words: vec![normalize("想死"), normalize("xiang si")],
                },
                SafeguardingCategory {
                    name: "child_harm".into(),
                    label: Text::new("孩子受伤害", "Harm to a child"),
                    words: vec![normalize("打孩子"), normalize("bei da")],
                },
            ],
        }
    }

    #[test]
    fn normalizing_ignores_case_width_spaces_and_punctuation() {
        assert_eq!(normalize(" Bei-Da！"), "beida");
        assert_eq!(normalize("ＢＥＩ　ＤＡ"), "beida");
        assert_eq!(normalize("我 想 死。"), "我想死");
    }

    #[test]
    fn safeguarding_words_match_in_characters_pinyin_and_variants() {
        let chat = chat();
        for message in [
            "我真的想死了",
            "XIANG SI",
            "他经常打孩子怎么办",
            "我被打了 bei-da",
        ] {
            assert!(chat.safeguarding_match(message).is_some(), "{message}");
        }
        assert_eq!(chat.safeguarding_match("想死").unwrap().name, "self_harm");
        assert!(chat.safeguarding_match("本周课程").is_none());
        assert!(chat.safeguarding_match("   ").is_none());
    }

    #[test]
    fn keywords_match_whole_messages_or_longer_words_within() {
        let chat = chat();
        assert_eq!(chat.intent("1"), Some(Intent::ThisWeek));
        assert_eq!(chat.intent("10"), None);
        assert_eq!(chat.intent("我想看本周课程！"), Some(Intent::ThisWeek));
        assert_eq!(chat.intent("Lesson"), Some(Intent::ThisWeek));
        assert_eq!(chat.intent("EN"), Some(Intent::English));
        assert_eq!(chat.intent("went"), None);
        assert_eq!(chat.intent("你好"), None);
    }

    #[test]
    fn placeholders_are_found_and_filled() {
        assert_eq!(
            placeholders("{factory}的工友，点 {link}。{ok"),
            vec!["factory", "link"]
        );
        assert_eq!(
            fill("到 {link} 看", &[("link", "https://h/")]),
            "到 https://h/ 看"
        );
        assert_eq!(Intent::parse("This_Week"), Some(Intent::ThisWeek));
        assert_eq!(text_in(&Text::new("中", ""), Lang::En), "中");
    }
}
