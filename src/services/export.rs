//! `homeward content export DIR`: writes the database's series and lessons back in the
//! `content/` format, so that edits made in the studio become files again.

use std::path::Path;

use anyhow::Context;
use chrono::{Datelike, Timelike};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::domain::Text;
use crate::domain::lesson::{FamilyMessage, LessonBody};
use crate::domain::narration::{ArticleAudio, Audio};
use crate::domain::quiz::{QuestionKind, Quiz};
use crate::store::entity::{lesson, media, series};

#[derive(Serialize)]
struct SeriesFile {
    audience: String,
    timezone: String,
    first_release: toml::value::Datetime,
    release_weekday: String,
    release_time: String,
    order: i32,
    pacing: String,
    title: Text,
    summary: Text,
}

#[derive(Serialize)]
struct PanelFile {
    image: String,
    width: u32,
    height: u32,
    caption: Text,
    alt: Text,
    #[serde(skip_serializing_if = "Audio::is_empty")]
    audio: Audio,
}

#[derive(Serialize)]
struct VideoFile {
    file: String,
    poster: String,
    duration_seconds: u32,
    captions: Text,
    transcript: Text,
}

#[derive(Serialize)]
struct ChoiceFile {
    id: String,
    zh: String,
    en: String,
}

#[derive(Serialize)]
struct QuestionFile {
    id: String,
    kind: &'static str,
    prompt: Text,
    answer: Vec<String>,
    explanation: Text,
    choices: Vec<ChoiceFile>,
    #[serde(skip_serializing_if = "Audio::is_empty")]
    audio: Audio,
}

#[derive(Serialize)]
struct ArticleFile {
    zh: &'static str,
    en: &'static str,
    #[serde(skip_serializing_if = "ArticleAudio::is_empty")]
    audio: ArticleAudio,
}

#[derive(Serialize)]
struct QuizFile {
    pass_mark: u32,
    questions: Vec<QuestionFile>,
}

#[derive(Serialize)]
struct LessonFile {
    week: i32,
    kind: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    release_at: Option<toml::value::Datetime>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    age_bands: Vec<String>,
    title: Text,
    summary: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    panels: Vec<PanelFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    video: Option<VideoFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    article: Option<ArticleFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quiz: Option<QuizFile>,
    family_message: FamilyMessageFile,
}

#[derive(Serialize)]
struct FamilyMessageFile {
    zh: String,
    en: String,
    #[serde(skip_serializing_if = "Audio::is_empty")]
    audio: Audio,
}

fn date(d: chrono::NaiveDate) -> toml::value::Datetime {
    toml::value::Datetime {
        date: Some(toml::value::Date {
            year: d.year() as u16,
            month: d.month() as u8,
            day: d.day() as u8,
        }),
        time: None,
        offset: None,
    }
}

fn local(dt: chrono::NaiveDateTime) -> toml::value::Datetime {
    toml::value::Datetime {
        date: date(dt.date()).date,
        time: Some(toml::value::Time {
            hour: dt.hour() as u8,
            minute: dt.minute() as u8,
            second: dt.second() as u8,
            nanosecond: 0,
        }),
        offset: None,
    }
}

fn quiz_file(quiz: &Quiz) -> QuizFile {
    QuizFile {
        pass_mark: quiz.pass_mark,
        questions: quiz
            .questions
            .iter()
            .map(|q| QuestionFile {
                id: q.id.clone(),
                kind: match q.kind {
                    QuestionKind::Single => "single",
                    QuestionKind::Multiple => "multiple",
                },
                prompt: q.prompt.clone(),
                answer: q.answer.clone(),
                explanation: q.explanation.clone(),
                audio: q.audio.clone(),
                choices: q
                    .choices
                    .iter()
                    .map(|c| ChoiceFile {
                        id: c.id.clone(),
                        zh: c.text.zh.clone(),
                        en: c.text.en.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Writes every series into `dir`; returns how many lessons were written.
pub async fn export_all(db: &DatabaseConnection, dir: &Path) -> anyhow::Result<usize> {
    let mut written = 0;
    for s in series::Entity::find()
        .order_by_asc(series::Column::Id)
        .all(db)
        .await?
    {
        let series_dir = dir.join(&s.slug);
        std::fs::create_dir_all(&series_dir)
            .with_context(|| format!("creating {}", series_dir.display()))?;
        let tz: chrono_tz::Tz = s.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai);
        let file = SeriesFile {
            audience: s.audience.clone(),
            timezone: s.timezone.clone(),
            first_release: date(s.first_release.parse().context("stored first_release")?),
            release_weekday: s.release_weekday.clone(),
            release_time: s.release_time.clone(),
            order: s.sort_order,
            // Always written, so a series stored as calendar-paced stays so when imported again.
            pacing: s.pacing.clone(),
            title: Text::new(&s.title_zh, &s.title_en),
            summary: Text::new(&s.summary_zh, &s.summary_en),
        };
        std::fs::write(series_dir.join("series.toml"), toml::to_string(&file)?)?;
        for l in lesson::Entity::find()
            .filter(lesson::Column::SeriesId.eq(s.id))
            .order_by_asc(lesson::Column::Week)
            .all(db)
            .await?
        {
            let lesson_dir = series_dir.join(&l.slug);
            std::fs::create_dir_all(&lesson_dir)?;
            let body: LessonBody = serde_json::from_str(&l.body_json)?;
            let quiz: Option<Quiz> = l
                .quiz_json
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?;
            let mut file = LessonFile {
                week: l.week,
                kind: l.kind.clone(),
                status: l.status.clone(),
                release_at: l
                    .release_override
                    .map(|at| local(at.with_timezone(&tz).naive_local())),
                age_bands: crate::domain::ages::split_bands(&l.age_bands),
                title: Text::new(&l.title_zh, &l.title_en),
                summary: Text::new(&l.summary_zh, &l.summary_en),
                panels: Vec::new(),
                video: None,
                article: None,
                quiz: quiz.as_ref().map(quiz_file),
                family_message: {
                    let family: FamilyMessage = serde_json::from_str(&l.family_json)?;
                    // A lesson made before the family message existed gets its summary.
                    let summary = Text::new(&l.summary_zh, &l.summary_en);
                    FamilyMessageFile {
                        zh: family.or_summary(&summary, crate::domain::Lang::Zh),
                        en: family.or_summary(&summary, crate::domain::Lang::En),
                        audio: family.audio,
                    }
                },
            };
            match body {
                LessonBody::Comic { panels } => {
                    file.panels = panels
                        .into_iter()
                        .map(|p| PanelFile {
                            image: p.image,
                            width: p.width,
                            height: p.height,
                            caption: p.caption,
                            alt: p.alt,
                            audio: p.audio,
                        })
                        .collect();
                }
                LessonBody::Video(v) => {
                    file.video = Some(VideoFile {
                        file: v.file,
                        poster: v.poster,
                        duration_seconds: v.duration_seconds,
                        captions: v.captions,
                        transcript: v.transcript,
                    });
                }
                LessonBody::Article {
                    markdown, audio, ..
                } => {
                    std::fs::write(lesson_dir.join("article.zh.md"), &markdown.zh)?;
                    std::fs::write(lesson_dir.join("article.en.md"), &markdown.en)?;
                    file.article = Some(ArticleFile {
                        zh: "article.zh.md",
                        en: "article.en.md",
                        audio,
                    });
                }
            }
            std::fs::write(lesson_dir.join("lesson.toml"), toml::to_string(&file)?)?;
            for m in media::Entity::find()
                .filter(media::Column::LessonId.eq(l.id))
                .all(db)
                .await?
            {
                std::fs::write(lesson_dir.join(&m.name), &m.bytes)?;
            }
            written += 1;
        }
    }
    Ok(written)
}
