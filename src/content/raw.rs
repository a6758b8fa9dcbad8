//! The TOML shapes of `series.toml` and `lesson.toml`, and their checks.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::files::{self, MediaFile, MediaRole};
use super::{FirstRelease, LoadedLesson, LoadedSeries, Problem, ReleaseOverride};
use crate::domain::lesson::{LessonContent, Panel, Video};
use crate::domain::quiz::{Choice, Question, QuestionKind, Quiz};
use crate::domain::schedule::parse_weekday;
use crate::domain::{Audience, LessonBody, LessonKind, LessonStatus, Slug, Text};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSeries {
    audience: Option<String>,
    timezone: Option<String>,
    first_release: Option<toml::value::Datetime>,
    first_release_weeks_ago: Option<u32>,
    release_weekday: Option<String>,
    release_time: Option<String>,
    order: Option<i32>,
    #[serde(default)]
    title: Text,
    #[serde(default)]
    summary: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLesson {
    week: Option<i64>,
    kind: Option<String>,
    status: Option<String>,
    release_at: Option<toml::value::Datetime>,
    #[serde(default)]
    title: Text,
    #[serde(default)]
    summary: Text,
    #[serde(default)]
    panels: Vec<RawPanel>,
    video: Option<RawVideo>,
    article: Option<Text>,
    quiz: Option<RawQuiz>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPanel {
    image: String,
    width: Option<u32>,
    height: Option<u32>,
    #[serde(default)]
    caption: Text,
    #[serde(default)]
    alt: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVideo {
    file: String,
    poster: String,
    duration_seconds: u32,
    #[serde(default)]
    captions: Text,
    #[serde(default)]
    transcript: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuiz {
    pass_mark: u32,
    #[serde(default)]
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: String,
    kind: String,
    #[serde(default)]
    prompt: Text,
    #[serde(default)]
    answer: Vec<String>,
    #[serde(default)]
    explanation: Text,
    #[serde(default)]
    choices: Vec<RawChoice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    id: String,
    #[serde(default)]
    zh: String,
    #[serde(default)]
    en: String,
}

/// Collects problems about one file.
struct Report<'a> {
    path: &'a Path,
    problems: &'a mut Vec<Problem>,
}

impl Report<'_> {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: self.path.to_path_buf(),
            field: field.into(),
            message: message.into(),
        });
    }

    fn text(&mut self, field: &str, text: &Text) {
        for lang in text.missing() {
            self.add(
                format!("{field}.{}", lang.code()),
                "translation is missing or empty",
            );
        }
    }

    fn count(&self) -> usize {
        self.problems.len()
    }
}

/// Parses a TOML file, turning a parse error (unknown field, wrong type, bad syntax) into a problem.
fn parse_toml<T: for<'de> Deserialize<'de>>(
    path: &Path,
    problems: &mut Vec<Problem>,
) -> Option<(T, Vec<u8>)> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(_) => {
            problems.push(Problem {
                path: path.to_path_buf(),
                field: "(file)".into(),
                message: "file is missing or unreadable".into(),
            });
            return None;
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    match toml::from_str::<T>(&text) {
        Ok(value) => Some((value, bytes)),
        Err(error) => {
            let message = error.message().to_owned();
            let field = message
                .split('`')
                .nth(1)
                .filter(|_| {
                    message.starts_with("unknown field") || message.starts_with("missing field")
                })
                .map(str::to_owned)
                .unwrap_or_else(|| {
                    let line = error
                        .span()
                        .map(|span| text[..span.start.min(text.len())].lines().count().max(1))
                        .unwrap_or(1);
                    format!("line {line}")
                });
            problems.push(Problem {
                path: path.to_path_buf(),
                field,
                message: message.trim().to_owned(),
            });
            None
        }
    }
}

fn folder_slug(dir: &Path, report: &mut Report<'_>) -> Option<Slug> {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Slug::parse(&name)
        .map_err(|message| report.add("(folder name)", message))
        .ok()
}

pub(super) fn load_series(dir: &Path, problems: &mut Vec<Problem>) -> Option<LoadedSeries> {
    let path = dir.join("series.toml");
    let parsed = parse_toml::<RawSeries>(&path, problems);
    let mut report = Report {
        path: &path,
        problems,
    };
    let slug = folder_slug(dir, &mut report);
    let (raw, bytes) = parsed?;
    let before = report.count();

    let audience = match raw.audience.as_deref() {
        None => {
            report.add(
                "audience",
                "is required: parents, line-managers or young-workers",
            );
            None
        }
        Some(value) => Audience::parse(value).or_else(|| {
            report.add(
                "audience",
                format!("'{value}' is not one of parents, line-managers, young-workers"),
            );
            None
        }),
    };
    let timezone_name = raw.timezone.unwrap_or_else(|| "Asia/Shanghai".into());
    let timezone = timezone_name.parse::<chrono_tz::Tz>().ok().or_else(|| {
        report.add(
            "timezone",
            format!("'{timezone_name}' is not a known IANA timezone, e.g. Asia/Shanghai"),
        );
        None
    });
    let first_release = match (raw.first_release, raw.first_release_weeks_ago) {
        (Some(_), Some(_)) => {
            report.add(
                "first_release",
                "give first_release or first_release_weeks_ago, not both",
            );
            None
        }
        (None, None) => {
            report.add("first_release", "is required (a date such as 2026-09-07)");
            None
        }
        (None, Some(weeks)) => Some(FirstRelease::WeeksAgo(weeks)),
        (Some(value), None) => match (value.date, value.time) {
            (Some(date), None) => {
                NaiveDate::from_ymd_opt(i32::from(date.year), date.month.into(), date.day.into())
                    .map(FirstRelease::Date)
                    .or_else(|| {
                        report.add("first_release", format!("'{value}' is not a real date"));
                        None
                    })
            }
            _ => {
                report.add(
                    "first_release",
                    format!("'{value}' must be a date without a time, e.g. 2026-09-07"),
                );
                None
            }
        },
    };
    let weekday = match raw.release_weekday.as_deref() {
        None => {
            report.add(
                "release_weekday",
                "is required: mon, tue, wed, thu, fri, sat or sun",
            );
            None
        }
        Some(value) => parse_weekday(value).or_else(|| {
            report.add(
                "release_weekday",
                format!("'{value}' is not one of mon tue wed thu fri sat sun"),
            );
            None
        }),
    };
    let time = match raw.release_time.as_deref() {
        None => {
            report.add("release_time", "is required, as HH:MM (24 hours)");
            None
        }
        Some(value) => NaiveTime::parse_from_str(value, "%H:%M").ok().or_else(|| {
            report.add(
                "release_time",
                format!("'{value}' is not a time as HH:MM (24 hours)"),
            );
            None
        }),
    };
    report.text("title", &raw.title);
    report.text("summary", &raw.summary);

    let lessons = load_lessons(dir, timezone, problems);
    let series_ok = problems.len() == before;
    let (slug, audience, timezone, first_release, weekday, time) =
        (slug?, audience?, timezone?, first_release?, weekday?, time?);
    if !series_ok {
        return None;
    }
    Some(LoadedSeries {
        slug,
        audience,
        timezone,
        first_release,
        weekday,
        time,
        order: raw.order.unwrap_or(0),
        title: raw.title,
        summary: raw.summary,
        source_hash: files::sha256_hex(&bytes),
        lessons: lessons?,
    })
}

fn load_lessons(
    dir: &Path,
    timezone: Option<chrono_tz::Tz>,
    problems: &mut Vec<Problem>,
) -> Option<Vec<LoadedLesson>> {
    let before = problems.len();
    let mut lessons: Vec<LoadedLesson> = Vec::new();
    let lesson_dirs = match files::sorted_subdirs(dir) {
        Ok(dirs) => dirs,
        Err(message) => {
            problems.push(Problem {
                path: dir.to_path_buf(),
                field: "(folder)".into(),
                message,
            });
            return None;
        }
    };
    let mut weeks: HashMap<u32, String> = HashMap::new();
    for lesson_dir in lesson_dirs {
        if let Some(lesson) = load_lesson(&lesson_dir, timezone, &mut weeks, problems) {
            lessons.push(lesson);
        }
    }
    lessons.sort_by_key(|lesson| lesson.week);
    (problems.len() == before).then_some(lessons)
}

/// Loads one lesson; `weeks` collects the week numbers seen so far in the series, so a
/// duplicate is reported even when either lesson has other problems.
fn load_lesson(
    dir: &Path,
    timezone: Option<chrono_tz::Tz>,
    weeks: &mut HashMap<u32, String>,
    problems: &mut Vec<Problem>,
) -> Option<LoadedLesson> {
    let path = dir.join("lesson.toml");
    let parsed = parse_toml::<RawLesson>(&path, problems);
    let mut report = Report {
        path: &path,
        problems,
    };
    let slug = folder_slug(dir, &mut report);
    let (raw, bytes) = parsed?;
    let before = report.count();
    let mut media: Vec<MediaFile> = Vec::new();
    let mut hasher = Sha256::new();
    hasher.update(&bytes);

    let folder = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let week = match raw.week {
        Some(week @ 1..=520) => {
            let week = week as u32;
            if let Some(other) = weeks.insert(week, folder) {
                report.add(
                    "week",
                    format!("week {week} is already used by lesson '{other}' in this series"),
                );
            }
            Some(week)
        }
        Some(other) => {
            report.add(
                "week",
                format!("{other} is not a week number from 1 to 520"),
            );
            None
        }
        None => {
            report.add("week", "is required (1, 2, 3 …)");
            None
        }
    };
    let status = match raw.status.as_deref() {
        None => {
            report.add("status", "is required: published or draft");
            None
        }
        Some(value) => LessonStatus::parse(value).or_else(|| {
            report.add(
                "status",
                format!("'{value}' is not one of published, draft"),
            );
            None
        }),
    };
    let release_override = raw
        .release_at
        .and_then(|value| parse_release_at(&value, timezone, &mut report));
    report.text("title", &raw.title);
    report.text("summary", &raw.summary);

    let mut add_media = |report: &mut Report<'_>, field: &str, name: &str, role: MediaRole| {
        if media.iter().any(|m| m.name == name) {
            return;
        }
        match files::read_media(dir, name, role) {
            Ok(file) => media.push(file),
            Err(message) => report.add(field, message),
        }
    };

    let kind = match raw.kind.as_deref() {
        None => {
            report.add("kind", "is required: comic, video or article");
            None
        }
        Some(value) => LessonKind::parse(value).or_else(|| {
            report.add(
                "kind",
                format!("'{value}' is not one of comic, video, article"),
            );
            None
        }),
    };
    let unused = |report: &mut Report<'_>, present: bool, field: &str, kind: LessonKind| {
        if present {
            report.add(
                field,
                format!("is not used by a {} lesson; remove it", kind.as_str()),
            );
        }
    };
    let body = match kind {
        None => None,
        Some(LessonKind::Comic) => {
            unused(&mut report, raw.video.is_some(), "video", LessonKind::Comic);
            unused(
                &mut report,
                raw.article.is_some(),
                "article",
                LessonKind::Comic,
            );
            if raw.panels.is_empty() {
                report.add("panels", "a comic needs at least one [[panels]] entry");
            }
            let mut panels = Vec::new();
            for (i, panel) in raw.panels.into_iter().enumerate() {
                let field = format!("panels[{}]", i + 1);
                add_media(
                    &mut report,
                    &format!("{field}.image"),
                    &panel.image,
                    MediaRole::Image,
                );
                report.text(&format!("{field}.caption"), &panel.caption);
                report.text(&format!("{field}.alt"), &panel.alt);
                panels.push(Panel {
                    image: panel.image,
                    width: panel.width.unwrap_or(750),
                    height: panel.height.unwrap_or(600),
                    caption: panel.caption,
                    alt: panel.alt,
                });
            }
            Some(LessonBody::Comic { panels })
        }
        Some(LessonKind::Video) => {
            unused(
                &mut report,
                !raw.panels.is_empty(),
                "panels",
                LessonKind::Video,
            );
            unused(
                &mut report,
                raw.article.is_some(),
                "article",
                LessonKind::Video,
            );
            match raw.video {
                None => {
                    report.add("video", "a video lesson needs a [video] table");
                    None
                }
                Some(video) => {
                    add_media(&mut report, "video.file", &video.file, MediaRole::Video);
                    add_media(&mut report, "video.poster", &video.poster, MediaRole::Image);
                    report.text("video.captions", &video.captions);
                    report.text("video.transcript", &video.transcript);
                    for lang in crate::domain::Lang::ALL {
                        let name = video.captions.get(lang);
                        if !name.trim().is_empty() {
                            add_media(
                                &mut report,
                                &format!("video.captions.{}", lang.code()),
                                name,
                                MediaRole::Captions,
                            );
                        }
                    }
                    if video.duration_seconds == 0 {
                        report.add("video.duration_seconds", "must be more than 0");
                    }
                    Some(LessonBody::Video(Video {
                        file: video.file,
                        poster: video.poster,
                        duration_seconds: video.duration_seconds,
                        captions: video.captions,
                        transcript: video.transcript,
                    }))
                }
            }
        }
        Some(LessonKind::Article) => {
            unused(
                &mut report,
                !raw.panels.is_empty(),
                "panels",
                LessonKind::Article,
            );
            unused(
                &mut report,
                raw.video.is_some(),
                "video",
                LessonKind::Article,
            );
            match raw.article {
                None => {
                    report.add("article", "an article lesson needs an [article] table naming zh and en Markdown files");
                    None
                }
                Some(files_by_lang) => {
                    report.text("article", &files_by_lang);
                    let mut html = Text::default();
                    let mut markdown = Text::default();
                    for lang in crate::domain::Lang::ALL {
                        let name = files_by_lang.get(lang);
                        if name.trim().is_empty() {
                            continue;
                        }
                        match files::read_media(dir, name, MediaRole::Markdown) {
                            Ok(file) => {
                                hasher.update(&file.bytes);
                                let source = String::from_utf8_lossy(&file.bytes).into_owned();
                                let rendered = render_markdown(&source);
                                match lang {
                                    crate::domain::Lang::Zh => {
                                        html.zh = rendered;
                                        markdown.zh = source;
                                    }
                                    crate::domain::Lang::En => {
                                        html.en = rendered;
                                        markdown.en = source;
                                    }
                                }
                            }
                            Err(message) => report.add(format!("article.{}", lang.code()), message),
                        }
                    }
                    Some(LessonBody::Article { html, markdown })
                }
            }
        }
    };
    let quiz = raw.quiz.map(|quiz| check_quiz(quiz, &mut report));

    let lesson_ok = report.count() == before;
    let (slug, week, status, body) = (slug?, week?, status?, body?);
    if !lesson_ok {
        return None;
    }
    media.sort_by(|a, b| a.name.cmp(&b.name));
    for file in &media {
        hasher.update(file.name.as_bytes());
        hasher.update(file.sha256.as_bytes());
    }
    Some(LoadedLesson {
        slug,
        week,
        status,
        release_override,
        title: raw.title,
        summary: raw.summary,
        content: LessonContent {
            body,
            quiz: quiz.flatten(),
        },
        media,
        source_hash: hex::encode(hasher.finalize()),
    })
}

fn parse_release_at(
    value: &toml::value::Datetime,
    timezone: Option<chrono_tz::Tz>,
    report: &mut Report<'_>,
) -> Option<ReleaseOverride> {
    let text = value.to_string();
    if value.date.is_none() || value.time.is_none() {
        report.add(
            "release_at",
            format!("'{text}' must be a date and time, e.g. 2026-09-10T20:00:00"),
        );
        return None;
    }
    if value.offset.is_some() {
        return chrono::DateTime::parse_from_rfc3339(&text)
            .map(|moment| ReleaseOverride::Exact(moment.with_timezone(&chrono::Utc)))
            .map_err(|_| {
                report.add(
                    "release_at",
                    format!("'{text}' is not a real date and time"),
                )
            })
            .ok();
    }
    timezone?;
    chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M"))
        .map(ReleaseOverride::Local)
        .map_err(|_| {
            report.add(
                "release_at",
                format!("'{text}' is not a real date and time"),
            )
        })
        .ok()
}

fn check_quiz(raw: RawQuiz, report: &mut Report<'_>) -> Option<Quiz> {
    let before = report.count();
    if raw.questions.is_empty() {
        report.add("quiz.questions", "a quiz needs at least one question");
    }
    if raw.pass_mark == 0 || raw.pass_mark as usize > raw.questions.len().max(1) {
        report.add(
            "quiz.pass_mark",
            format!(
                "{} must be between 1 and the number of questions ({})",
                raw.pass_mark,
                raw.questions.len()
            ),
        );
    }
    let mut ids = BTreeSet::new();
    let mut questions = Vec::new();
    for (i, question) in raw.questions.into_iter().enumerate() {
        let field = format!("quiz.questions[{}]", i + 1);
        if Slug::parse(&question.id).is_err() {
            report.add(
                format!("{field}.id"),
                format!("'{}' must be a slug such as q1", question.id),
            );
        }
        if !ids.insert(question.id.clone()) {
            report.add(
                format!("{field}.id"),
                format!("'{}' is used by another question", question.id),
            );
        }
        let kind = match question.kind.as_str() {
            "single" => QuestionKind::Single,
            "multiple" => QuestionKind::Multiple,
            other => {
                report.add(
                    format!("{field}.kind"),
                    format!("'{other}' is not one of single, multiple"),
                );
                QuestionKind::Multiple
            }
        };
        report.text(&format!("{field}.prompt"), &question.prompt);
        report.text(&format!("{field}.explanation"), &question.explanation);
        if question.choices.len() < 2 {
            report.add(format!("{field}.choices"), "needs at least two choices");
        }
        let mut choice_ids = BTreeSet::new();
        let mut choices = Vec::new();
        for (j, choice) in question.choices.into_iter().enumerate() {
            let choice_field = format!("{field}.choices[{}]", j + 1);
            if choice.id.trim().is_empty() || !choice_ids.insert(choice.id.clone()) {
                report.add(
                    format!("{choice_field}.id"),
                    format!("'{}' is empty or used twice", choice.id),
                );
            }
            let text = Text::new(choice.zh, choice.en);
            report.text(&choice_field, &text);
            choices.push(Choice {
                id: choice.id,
                text,
            });
        }
        if question.answer.is_empty() {
            report.add(format!("{field}.answer"), "names no correct choice");
        }
        for answer in &question.answer {
            if !choice_ids.contains(answer) {
                report.add(
                    format!("{field}.answer"),
                    format!("'{answer}' names no choice of this question"),
                );
            }
        }
        if kind == QuestionKind::Single && question.answer.len() > 1 {
            report.add(
                format!("{field}.answer"),
                "a single-choice question has exactly one answer",
            );
        }
        questions.push(Question {
            id: question.id,
            kind,
            prompt: question.prompt,
            choices,
            answer: question.answer,
            explanation: question.explanation,
        });
    }
    (report.count() == before).then_some(Quiz {
        pass_mark: raw.pass_mark,
        questions,
    })
}

/// Markdown to sanitised HTML: raw HTML in the source is removed, not trusted.
pub(crate) fn render_markdown(source: &str) -> String {
    let parser = pulldown_cmark::Parser::new(source);
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::clean(&html)
}
