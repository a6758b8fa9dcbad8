//! The TOML shapes of `series.toml` and `lesson.toml`, and their checks: the series here, one
//! lesson in `lesson`, its quiz in `quiz`.

mod lesson;
mod media;
mod quiz;

use lesson::load_lesson;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use chrono::{NaiveDate, NaiveTime};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::files::{self, MediaFile, MediaRole};
use super::{FirstRelease, LoadOptions, LoadedLesson, LoadedSeries, Problem, ReleaseOverride};
use crate::domain::lesson::{LessonContent, Panel, Video};
use crate::domain::quiz::{Choice, Question, QuestionKind, Quiz};
use crate::domain::schedule::{Pacing, parse_weekday};
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
    pacing: Option<String>,
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
    article: Option<RawArticle>,
    quiz: Option<RawQuiz>,
    family_message: Option<RawFamilyMessage>,
    #[serde(default)]
    age_bands: Vec<String>,
}

/// `[family_message]`: the lesson's key message for the family at home, and optionally its
/// audio.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFamilyMessage {
    #[serde(default)]
    zh: String,
    #[serde(default)]
    en: String,
    audio: Option<media::RawAudio>,
}

/// `[article]`: the Markdown file per language, and optionally each section read aloud.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawArticle {
    #[serde(default)]
    zh: String,
    #[serde(default)]
    en: String,
    audio: Option<media::RawArticleAudio>,
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
    audio: Option<media::RawAudio>,
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
    audio: Option<media::RawAudio>,
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

pub(super) fn load_series(
    dir: &Path,
    options: LoadOptions,
    problems: &mut Vec<Problem>,
) -> Option<LoadedSeries> {
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
    let pacing = match raw.pacing.as_deref() {
        None => Some(Pacing::FOR_NEW_SERIES),
        Some(value) => Pacing::parse(value).or_else(|| {
            report.add(
                "pacing",
                format!("'{value}' is not one of calendar, from-join"),
            );
            None
        }),
    };
    report.text("title", &raw.title);
    report.text("summary", &raw.summary);

    let lessons = load_lessons(dir, timezone, options, problems);
    let series_ok = problems.len() == before;
    let (slug, audience, timezone, first_release, weekday, time, pacing) = (
        slug?,
        audience?,
        timezone?,
        first_release?,
        weekday?,
        time?,
        pacing?,
    );
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
        pacing,
        title: raw.title,
        summary: raw.summary,
        source_hash: files::sha256_hex(&bytes),
        lessons: lessons?,
    })
}

fn load_lessons(
    dir: &Path,
    timezone: Option<chrono_tz::Tz>,
    options: LoadOptions,
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
        if let Some(lesson) = load_lesson(&lesson_dir, timezone, options, &mut weeks, problems) {
            lessons.push(lesson);
        }
    }
    lessons.sort_by_key(|lesson| lesson.week);
    (problems.len() == before).then_some(lessons)
}
