//! Reads and checks `content/wechat/`: `chat.toml` (the chat's replies and keywords) and
//! `safeguarding.toml` (the words that get the hotline reply, by category). The copies in this
//! repository are compiled in, so a server without a content folder still answers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Problem;
use crate::domain::chat::{
    Chat, ChatTexts, HOTLINES, Intent, Keyword, SafeguardingCategory, normalize, placeholders,
};
use crate::domain::{Lang, Text};

/// The folder, under the content folder, that holds the chat's files.
pub const FOLDER: &str = "wechat";
const CHAT_FILE: &str = "chat.toml";
const SAFEGUARDING_FILE: &str = "safeguarding.toml";
const EMBEDDED_CHAT: &str = include_str!("../../content/wechat/chat.toml");
const EMBEDDED_SAFEGUARDING: &str = include_str!("../../content/wechat/safeguarding.toml");
/// Room left in a 2048-byte reply for the links and names filled in.
const MAX_TEXT_BYTES: usize = 1600;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChat {
    texts: BTreeMap<String, Text>,
    #[serde(default)]
    keywords: Vec<RawKeyword>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeyword {
    intent: String,
    words: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSafeguarding {
    reply: Text,
    #[serde(default)]
    categories: Vec<RawCategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    name: String,
    label: Text,
    words: Vec<String>,
}

/// Each text of `chat.toml`: its name, the placeholders it must use, and those it may.
const TEXTS: &[(&str, &[&str], &[&str])] = &[
    ("welcome", &["link"], &[]),
    ("welcome_code", &["link"], &["factory"]),
    ("code_closed", &["link"], &[]),
    ("welcome_back", &["link"], &[]),
    ("this_week", &[], &["week"]),
    ("nothing_yet", &[], &[]),
    ("progress", &["link"], &["done", "total", "streak"]),
    ("join_first", &["link"], &[]),
    ("help", &["help"], &[]),
    ("menu", &[], &["help"]),
    ("language_set", &[], &[]),
    ("review_card", &["questions"], &["example"]),
    ("review_multiple", &[], &[]),
    ("review_right", &[], &["number"]),
    ("review_wrong", &["answer"], &["number"]),
    ("review_next", &["date"], &[]),
    ("review_retired", &[], &[]),
    ("review_answered", &[], &["number"]),
    ("review_later", &["date"], &[]),
    ("review_none", &[], &[]),
    ("review_unclear", &[], &["example"]),
];

struct Checker {
    path: PathBuf,
    problems: Vec<Problem>,
}

impl Checker {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: self.path.clone(),
            field: field.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, field: &str, text: &Text, required: &[&str], allowed: &[&str]) {
        for lang in text.missing() {
            self.add(format!("{field}.{}", lang.code()), "is required");
        }
        for lang in Lang::ALL {
            let value = text.get(lang);
            let used = placeholders(value);
            for name in required {
                if !value.trim().is_empty() && !used.iter().any(|u| u == name) {
                    self.add(
                        format!("{field}.{}", lang.code()),
                        format!("must contain {{{name}}}"),
                    );
                }
            }
            for name in &used {
                if !required.contains(&name.as_str()) && !allowed.contains(&name.as_str()) {
                    self.add(
                        format!("{field}.{}", lang.code()),
                        format!("{{{name}}} is not a placeholder this text can use"),
                    );
                }
            }
            if value.len() > MAX_TEXT_BYTES {
                self.add(
                    format!("{field}.{}", lang.code()),
                    format!("is {} bytes; at most {MAX_TEXT_BYTES}", value.len()),
                );
            }
        }
    }

    fn words(&mut self, field: &str, raw: &[String]) -> Vec<String> {
        if raw.is_empty() {
            self.add(field, "needs at least one word");
        }
        let mut words = Vec::new();
        for word in raw {
            let normalized = normalize(word);
            if normalized.is_empty() {
                self.add(field, format!("'{word}' has no letters or digits"));
            } else if !words.contains(&normalized) {
                words.push(normalized);
            }
        }
        words
    }
}

fn parse<T: for<'de> Deserialize<'de>>(
    path: &Path,
    source: &str,
    checker: &mut Checker,
) -> Option<T> {
    checker.path = path.to_path_buf();
    match toml::from_str::<T>(source) {
        Ok(value) => Some(value),
        Err(error) => {
            checker.add("(file)", error.message().to_owned());
            None
        }
    }
}

fn check_chat(raw: RawChat, c: &mut Checker) -> Option<(ChatTexts, Vec<Keyword>)> {
    let before = c.problems.len();
    for name in raw.texts.keys() {
        if !TEXTS.iter().any(|(known, _, _)| known == name) {
            c.add(format!("texts.{name}"), "is not a text the chat uses");
        }
    }
    let mut get = |name: &str| -> Text {
        let (_, required, allowed) = TEXTS
            .iter()
            .find(|(known, _, _)| *known == name)
            .expect("a known text");
        match raw.texts.get(name) {
            Some(text) => {
                c.text(&format!("texts.{name}"), text, required, allowed);
                text.clone()
            }
            None => {
                c.add(format!("texts.{name}"), "is required");
                Text::default()
            }
        }
    };
    let texts = ChatTexts {
        welcome: get("welcome"),
        welcome_code: get("welcome_code"),
        code_closed: get("code_closed"),
        welcome_back: get("welcome_back"),
        this_week: get("this_week"),
        nothing_yet: get("nothing_yet"),
        progress: get("progress"),
        join_first: get("join_first"),
        help: get("help"),
        menu: get("menu"),
        language_set: get("language_set"),
        review_card: get("review_card"),
        review_multiple: get("review_multiple"),
        review_right: get("review_right"),
        review_wrong: get("review_wrong"),
        review_next: get("review_next"),
        review_retired: get("review_retired"),
        review_answered: get("review_answered"),
        review_later: get("review_later"),
        review_none: get("review_none"),
        review_unclear: get("review_unclear"),
    };
    let mut keywords: Vec<Keyword> = Vec::new();
    for (i, raw_keyword) in raw.keywords.iter().enumerate() {
        let field = format!("keywords[{i}]");
        let Some(intent) = Intent::parse(&raw_keyword.intent) else {
            let names: Vec<&str> = Intent::ALL.iter().map(|i| i.name()).collect();
            c.add(
                format!("{field}.intent"),
                format!(
                    "'{}' is not one of {}",
                    raw_keyword.intent,
                    names.join(", ")
                ),
            );
            continue;
        };
        let words = c.words(&format!("{field}.words"), &raw_keyword.words);
        for word in &words {
            if let Some(other) = keywords.iter().find(|k| k.words.contains(word)) {
                c.add(
                    format!("{field}.words"),
                    format!("'{word}' is also a keyword of {}", other.intent.name()),
                );
            }
        }
        keywords.push(Keyword { intent, words });
    }
    for intent in [
        Intent::ThisWeek,
        Intent::Progress,
        Intent::Help,
        Intent::Review,
    ] {
        if !keywords.iter().any(|k| k.intent == intent) {
            c.add("keywords", format!("no keyword leads to {}", intent.name()));
        }
    }
    (c.problems.len() == before).then_some((texts, keywords))
}

fn check_safeguarding(
    raw: RawSafeguarding,
    c: &mut Checker,
) -> Option<(Text, Vec<SafeguardingCategory>)> {
    let before = c.problems.len();
    c.text("reply", &raw.reply, &["help"], &[]);
    for lang in Lang::ALL {
        for number in HOTLINES {
            if !raw.reply.get(lang).contains(number) {
                c.add(
                    format!("reply.{}", lang.code()),
                    format!("must give the hotline {number}"),
                );
            }
        }
    }
    if raw.categories.is_empty() {
        c.add("categories", "needs at least one category");
    }
    let mut categories: Vec<SafeguardingCategory> = Vec::new();
    for (i, category) in raw.categories.iter().enumerate() {
        let field = format!("categories[{i}]");
        let name_ok = !category.name.is_empty()
            && category.name.len() <= 40
            && category
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_');
        if !name_ok {
            c.add(
                format!("{field}.name"),
                "must be 1–40 lower-case letters or _",
            );
        }
        if categories.iter().any(|known| known.name == category.name) {
            c.add(
                format!("{field}.name"),
                format!("'{}' is used twice", category.name),
            );
        }
        for lang in category.label.missing() {
            c.add(format!("{field}.label.{}", lang.code()), "is required");
        }
        let words = c.words(&format!("{field}.words"), &category.words);
        categories.push(SafeguardingCategory {
            name: category.name.clone(),
            label: category.label.clone(),
            words,
        });
    }
    (c.problems.len() == before).then_some((raw.reply, categories))
}

fn from_sources(
    chat_path: &Path,
    chat_source: &str,
    safeguarding_path: &Path,
    safeguarding_source: &str,
) -> Result<Chat, Vec<Problem>> {
    let mut checker = Checker {
        path: chat_path.to_path_buf(),
        problems: Vec::new(),
    };
    let chat = parse::<RawChat>(chat_path, chat_source, &mut checker)
        .and_then(|raw| check_chat(raw, &mut checker));
    let safeguarding =
        parse::<RawSafeguarding>(safeguarding_path, safeguarding_source, &mut checker)
            .and_then(|raw| check_safeguarding(raw, &mut checker));
    match (chat, safeguarding) {
        (Some((texts, keywords)), Some((safeguarding_reply, categories)))
            if checker.problems.is_empty() =>
        {
            Ok(Chat {
                texts,
                keywords,
                safeguarding_reply,
                categories,
            })
        }
        _ => Err(checker.problems),
    }
}

/// Loads `DIR/wechat/`; `None` when the content folder has no such folder.
pub fn load(content_dir: &Path) -> Option<Result<Chat, Vec<Problem>>> {
    let dir = content_dir.join(FOLDER);
    if !dir.is_dir() {
        return None;
    }
    let read = |name: &str| -> Result<(PathBuf, String), Problem> {
        let path = dir.join(name);
        std::fs::read_to_string(&path)
            .map(|source| (path.clone(), source))
            .map_err(|e| Problem {
                path,
                field: "(file)".into(),
                message: format!("cannot read: {e}"),
            })
    };
    Some(match (read(CHAT_FILE), read(SAFEGUARDING_FILE)) {
        (Ok((chat_path, chat)), Ok((safe_path, safe))) => {
            from_sources(&chat_path, &chat, &safe_path, &safe)
        }
        (chat, safe) => Err([chat.err(), safe.err()].into_iter().flatten().collect()),
    })
}

/// The chat compiled into the binary (this repository's `content/wechat/`).
pub fn embedded() -> Chat {
    from_sources(
        Path::new("content/wechat/chat.toml"),
        EMBEDDED_CHAT,
        Path::new("content/wechat/safeguarding.toml"),
        EMBEDDED_SAFEGUARDING,
    )
    .expect("the compiled-in chat content is valid (checked by a test)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(chat: &str, safeguarding: &str) -> Vec<String> {
        from_sources(
            Path::new("chat.toml"),
            chat,
            Path::new("safeguarding.toml"),
            safeguarding,
        )
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect()
    }

    #[test]
    fn the_compiled_in_content_is_valid_and_matches_the_issues_words() {
        let chat = embedded();
        for word in [
            "打孩子",
            "被打",
            "性侵",
            "拐",
            "想死",
            "自杀",
            "bei da",
            "xiang si",
        ] {
            assert!(chat.safeguarding_match(word).is_some(), "{word}");
        }
        assert_eq!(chat.intent("本周课程"), Some(Intent::ThisWeek));
        assert_eq!(chat.intent("我的进度"), Some(Intent::Progress));
        assert_eq!(chat.intent("求助"), Some(Intent::Help));
    }

    #[test]
    fn every_mistake_is_reported_with_its_field() {
        let chat = r#"
[texts.welcome]
zh = "欢迎"
en = "Welcome {link} {nope}"
[texts.extra]
zh = "x"
en = "x"
[[keywords]]
intent = "dance"
words = ["x"]
[[keywords]]
intent = "help"
words = ["!!", "help"]
[[keywords]]
intent = "progress"
words = ["Help"]
"#;
        let safeguarding = r#"
[reply]
zh = "请拨打 110 或 12355。{help}"
en = "Call 110, 12355, 12338 or 12356."
[[categories]]
name = "Child Harm"
label = { zh = "孩子", en = "" }
words = []
"#;
        let found = problems(chat, safeguarding);
        let expect = [
            "chat.toml: texts.extra: is not a text the chat uses",
            "chat.toml: texts.welcome.zh: must contain {link}",
            "chat.toml: texts.welcome.en: {nope} is not a placeholder this text can use",
            "chat.toml: texts.help: is required",
            "chat.toml: keywords[0].intent: 'dance' is not one of this_week, progress, help, review, english, chinese",
            "chat.toml: keywords[1].words: '!!' has no letters or digits",
            "chat.toml: keywords[2].words: 'help' is also a keyword of help",
            "chat.toml: keywords: no keyword leads to this_week",
            "safeguarding.toml: reply.en: must contain {help}",
            "safeguarding.toml: reply.zh: must give the hotline 12338",
            "safeguarding.toml: reply.zh: must give the hotline 12356",
            "safeguarding.toml: categories[0].name: must be 1–40 lower-case letters or _",
            "safeguarding.toml: categories[0].label.en: is required",
            "safeguarding.toml: categories[0].words: needs at least one word",
        ];
        for line in expect {
            assert!(
                found.iter().any(|f| f == line),
                "missing {line:?} in {found:#?}"
            );
        }
        assert!(problems("not toml [", "")[0].starts_with("chat.toml: (file): "));
    }
}
