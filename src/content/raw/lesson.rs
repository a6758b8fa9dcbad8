//! One `lesson.toml`: its fields, body (panels, video or article), media and release time.

use super::media::LessonMedia;
use crate::domain::lesson::FamilyMessage;

use super::quiz::check_quiz;
use super::*;
use crate::content::markdown::render_markdown;

/// Loads one lesson; `weeks` collects the week numbers seen so far in the series, so a
/// duplicate is reported even when either lesson has other problems.
pub(super) fn load_lesson(
    dir: &Path,
    timezone: Option<chrono_tz::Tz>,
    options: LoadOptions,
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
    let mut media = LessonMedia::new(dir, options.audio_may_be_missing);
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
                media.add(
                    &mut report,
                    &format!("{field}.image"),
                    &panel.image,
                    MediaRole::Image,
                );
                report.text(&format!("{field}.caption"), &panel.caption);
                report.text(&format!("{field}.alt"), &panel.alt);
                let audio = media.audio(&mut report, &format!("{field}.audio"), panel.audio);
                panels.push(Panel {
                    image: panel.image,
                    width: panel.width.unwrap_or(750),
                    height: panel.height.unwrap_or(600),
                    caption: panel.caption,
                    alt: panel.alt,
                    audio,
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
                    media.add(&mut report, "video.file", &video.file, MediaRole::Video);
                    media.add(&mut report, "video.poster", &video.poster, MediaRole::Image);
                    report.text("video.captions", &video.captions);
                    report.text("video.transcript", &video.transcript);
                    for lang in crate::domain::Lang::ALL {
                        let name = video.captions.get(lang);
                        if !name.trim().is_empty() {
                            media.add(
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
                Some(article) => {
                    let files_by_lang = Text::new(article.zh, article.en);
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
                    let audio = media.article_audio(&mut report, article.audio, &markdown);
                    Some(LessonBody::Article {
                        html,
                        markdown,
                        audio,
                    })
                }
            }
        }
    };
    let quiz = raw
        .quiz
        .map(|quiz| check_quiz(quiz, &mut report, &mut media));
    let family = match raw.family_message {
        None => {
            report.add(
                "family_message",
                "is required: the lesson's one key message for the family at home, as a [family_message] table with zh and en",
            );
            FamilyMessage::default()
        }
        Some(family) => {
            let text = Text::new(family.zh, family.en);
            report.text("family_message", &text);
            for lang in crate::domain::Lang::ALL {
                let max = FamilyMessage::max_chars(lang);
                if text.get(lang).chars().count() > max {
                    report.add(
                        format!("family_message.{}", lang.code()),
                        format!("at most {max} characters, so that it fits the family card in large type"),
                    );
                }
            }
            let audio = media.audio(&mut report, "family_message.audio", family.audio);
            FamilyMessage { text, audio }
        }
    };
    media.check_audio_budget(&mut report);
    let mut media = media.files;
    let age_bands = crate::domain::ages::parse_bands(raw.age_bands.iter().map(String::as_str))
        .unwrap_or_else(|message| {
            report.add("age_bands", message);
            Vec::new()
        });

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
        age_bands,
        content: LessonContent {
            body,
            quiz: quiz.flatten(),
            family,
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
