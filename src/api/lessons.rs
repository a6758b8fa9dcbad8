//! Series, lessons and quiz checking. Only released, published lessons exist here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use super::problem::ApiError;
use super::strict_string::StrictString;
use crate::domain::catalog::{LessonEntry, SeriesEntry};
use crate::domain::narration::Audio;
use crate::domain::quiz::QuestionKind;
use crate::domain::{Lang, LessonBody, Text};
use crate::http::AppState;
use crate::http::error::from_db;
use crate::services::lessons;

#[derive(Tags)]
enum ApiTags {
    /// Weekly series and their released lessons.
    Lessons,
}

/// A text in Simplified Chinese and English.
#[derive(Debug, Clone, Object)]
pub struct LocalizedText {
    pub zh: String,
    pub en: String,
}

impl From<&Text> for LocalizedText {
    fn from(text: &Text) -> Self {
        LocalizedText {
            zh: text.zh.clone(),
            en: text.en.clone(),
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct LessonSummary {
    pub slug: String,
    pub week: u32,
    /// `comic`, `video` or `article`.
    pub kind: String,
    pub release_at: DateTime<Utc>,
    pub title: LocalizedText,
    pub summary: LocalizedText,
    pub has_quiz: bool,
    /// The lesson page for people.
    pub url: String,
}

#[derive(Debug, Clone, Object)]
pub struct SeriesSummary {
    pub slug: String,
    /// `parents`, `line-managers` or `young-workers`.
    pub audience: String,
    pub timezone: String,
    pub title: LocalizedText,
    pub summary: LocalizedText,
    pub released_count: u32,
    /// The most recently released lesson.
    #[oai(nullable)]
    pub current_lesson: Option<LessonSummary>,
    /// When the next lesson comes out (what it is stays secret until then).
    #[oai(nullable)]
    pub next_release_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Object)]
pub struct SeriesDetail {
    #[oai(flatten)]
    pub series: SeriesSummary,
    /// Released lessons in order of week.
    pub lessons: Vec<LessonSummary>,
}

/// A part read aloud: an MP3 (or M4A) per language; Mandarin whenever there is any audio.
#[derive(Debug, Clone, Object)]
pub struct AudioDto {
    #[oai(nullable)]
    pub zh_url: Option<String>,
    #[oai(nullable)]
    pub en_url: Option<String>,
}

/// An article read aloud, one recording per section (a section starts at each `##` heading).
#[derive(Debug, Clone, Object)]
pub struct ArticleAudioDto {
    pub zh_urls: Vec<String>,
    pub en_urls: Vec<String>,
}

fn audio_dto(audio: &Audio, media: &dyn Fn(&str) -> String) -> Option<AudioDto> {
    (!audio.is_empty()).then(|| AudioDto {
        zh_url: audio.zh.as_deref().map(media),
        en_url: audio.en.as_deref().map(media),
    })
}

#[derive(Debug, Clone, Object)]
pub struct PanelDto {
    pub image_url: String,
    pub width: u32,
    pub height: u32,
    pub caption: LocalizedText,
    pub alt: LocalizedText,
    #[oai(nullable)]
    pub audio: Option<AudioDto>,
}

#[derive(Debug, Clone, Object)]
pub struct VideoDto {
    pub video_url: String,
    pub poster_url: String,
    pub duration_seconds: u32,
    pub captions_zh_url: String,
    pub captions_en_url: String,
    pub transcript: LocalizedText,
}

#[derive(Debug, Clone, Object)]
pub struct ChoiceDto {
    pub id: String,
    pub text: LocalizedText,
}

#[derive(Debug, Clone, Object)]
pub struct QuestionDto {
    pub id: String,
    /// `single` (exactly one answer) or `multiple` (one or more).
    pub kind: String,
    pub prompt: LocalizedText,
    pub choices: Vec<ChoiceDto>,
    /// The prompt and its choices read aloud.
    #[oai(nullable)]
    pub audio: Option<AudioDto>,
}

/// A quiz without its answers: they are only revealed by checking.
#[derive(Debug, Clone, Object)]
pub struct QuizDto {
    pub pass_mark: u32,
    pub questions: Vec<QuestionDto>,
}

#[derive(Debug, Clone, Object)]
pub struct LessonDetail {
    #[oai(flatten)]
    pub lesson: LessonSummary,
    pub series_slug: String,
    /// For comics: the panels in reading order.
    #[oai(nullable)]
    pub panels: Option<Vec<PanelDto>>,
    /// For videos.
    #[oai(nullable)]
    pub video: Option<VideoDto>,
    /// For articles: sanitised HTML.
    #[oai(nullable)]
    pub article_html: Option<LocalizedText>,
    /// For articles with audio.
    #[oai(nullable)]
    pub article_audio: Option<ArticleAudioDto>,
    #[oai(nullable)]
    pub quiz: Option<QuizDto>,
    /// The lesson's one key message for the family at home.
    pub family_message: LocalizedText,
    #[oai(nullable)]
    pub family_audio: Option<AudioDto>,
}

#[derive(Debug, Clone, Object)]
pub struct QuizAnswers {
    /// Question id to the ids of the chosen choices.
    pub answers: BTreeMap<String, Vec<StrictString>>,
}

#[derive(Debug, Clone, Object)]
pub struct QuestionResultDto {
    pub question_id: String,
    pub chosen: Vec<String>,
    pub correct_answer: Vec<String>,
    pub correct: bool,
    pub explanation: LocalizedText,
}

#[derive(Debug, Clone, Object)]
pub struct QuizResult {
    /// True when the attempt was stored for the signed-in learner.
    pub recorded: bool,
    pub score: u32,
    pub total: u32,
    pub pass_mark: u32,
    pub passed: bool,
    pub questions: Vec<QuestionResultDto>,
}

fn lesson_summary(series: &SeriesEntry, lesson: &LessonEntry) -> LessonSummary {
    LessonSummary {
        slug: lesson.slug.clone(),
        week: lesson.week,
        kind: lesson.kind.as_str().to_owned(),
        release_at: lesson.release_at,
        title: (&lesson.title).into(),
        summary: (&lesson.summary).into(),
        has_quiz: lesson.has_quiz,
        url: format!("/s/{}/{}", series.slug, lesson.slug),
    }
}

fn series_summary(series: &SeriesEntry, now: DateTime<Utc>) -> SeriesSummary {
    SeriesSummary {
        slug: series.slug.clone(),
        audience: series.audience.as_str().to_owned(),
        timezone: series.timezone.clone(),
        title: (&series.title).into(),
        summary: (&series.summary).into(),
        released_count: series.released(now).len() as u32,
        current_lesson: series.current(now).map(|l| lesson_summary(series, l)),
        next_release_at: series.next_release(now),
    }
}

fn is_listed(series: &SeriesEntry, now: DateTime<Utc>) -> bool {
    !series.released(now).is_empty() || series.next_release(now).is_some()
}

pub struct LessonsApi;

#[OpenApi(tag = "ApiTags::Lessons")]
impl LessonsApi {
    /// Every series with its current lesson.
    #[oai(path = "/series", method = "get", operation_id = "list_series")]
    async fn list_series(
        &self,
        state: Data<&AppState>,
    ) -> Result<Json<Vec<SeriesSummary>>, ApiError> {
        let catalog = lessons::catalog(&state).await.map_err(from_db)?;
        let now = state.clock.now();
        Ok(Json(
            catalog
                .series
                .iter()
                .filter(|s| is_listed(s, now))
                .map(|s| series_summary(s, now))
                .collect(),
        ))
    }

    /// A series with its released lessons.
    #[oai(path = "/series/:series", method = "get", operation_id = "get_series")]
    async fn get_series(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
    ) -> Result<Json<SeriesDetail>, ApiError> {
        let catalog = lessons::catalog(&state).await.map_err(from_db)?;
        let now = state.clock.now();
        let entry = catalog
            .series(&series)
            .filter(|s| is_listed(s, now))
            .ok_or_else(|| ApiError::not_found(format!("there is no series '{}'", series.0)))?;
        Ok(Json(SeriesDetail {
            series: series_summary(entry, now),
            lessons: entry
                .released(now)
                .into_iter()
                .map(|l| lesson_summary(entry, l))
                .collect(),
        }))
    }

    /// A released lesson with its full content; the quiz comes without answers.
    #[oai(
        path = "/series/:series/lessons/:lesson",
        method = "get",
        operation_id = "get_lesson"
    )]
    async fn get_lesson(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        lesson: Path<String>,
    ) -> Result<Json<LessonDetail>, ApiError> {
        let visible = find(&state, &series, &lesson).await?;
        let content = lessons::lesson_content(&state, visible.lesson())
            .await
            .map_err(from_db)?;
        Ok(Json(lesson_detail(
            visible.series(),
            visible.lesson(),
            &content,
        )))
    }

    /// Checks quiz answers: the score, the right answers and the explanations. Unanswered
    /// questions count as wrong; unknown questions or choices are a 422. For a signed-in learner
    /// the attempt is stored (first and best scores are kept; retries are unlimited).
    #[oai(
        path = "/series/:series/lessons/:lesson/quiz",
        method = "post",
        operation_id = "check_quiz"
    )]
    async fn check_quiz(
        &self,
        state: Data<&AppState>,
        series: Path<String>,
        lesson: Path<String>,
        body: Json<QuizAnswers>,
        req: &poem::Request,
    ) -> Result<Json<QuizResult>, ApiError> {
        // Staff API tokens are not learners: for them the quiz is checked, not stored.
        let learner = match crate::http::auth::session_token(req) {
            Some(token) if !token.starts_with("hwk_") => {
                Some(super::learner::signed_in_to_change(&state, req, None).await?)
            }
            _ => None,
        };
        let visible = find(&state, &series, &lesson).await?;
        let content = lessons::lesson_content(&state, visible.lesson())
            .await
            .map_err(from_db)?;
        let quiz = content
            .quiz
            .clone()
            .ok_or_else(|| ApiError::not_found("this lesson has no quiz"))?;
        let answers: BTreeMap<String, Vec<String>> = body
            .0
            .answers
            .into_iter()
            .map(|(question, choices)| (question, choices.into_iter().map(String::from).collect()))
            .collect();
        let grade = quiz
            .grade(&answers)
            .map_err(|e| ApiError::invalid(e.to_string()))?;
        if let Some(learner_id) = learner {
            crate::services::progress::record_attempt(
                &state,
                learner_id,
                visible.lesson(),
                &content,
                &answers,
                &grade,
            )
            .await
            .map_err(from_db)?;
        }
        Ok(Json(QuizResult {
            recorded: learner.is_some(),
            score: grade.score,
            total: grade.total,
            pass_mark: grade.pass_mark,
            passed: grade.passed,
            questions: grade
                .questions
                .into_iter()
                .zip(&quiz.questions)
                .map(|(result, question)| QuestionResultDto {
                    question_id: result.question_id,
                    chosen: result.chosen,
                    correct_answer: result.correct_answer,
                    correct: result.correct,
                    explanation: (&question.explanation).into(),
                })
                .collect(),
        }))
    }
}

async fn find(state: &AppState, series: &str, lesson: &str) -> Result<lessons::Visible, ApiError> {
    lessons::visible_lesson(state, series, lesson)
        .await
        .map_err(from_db)?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "there is no released lesson '{lesson}' in series '{series}'"
            ))
        })
}

fn lesson_detail(
    series: &SeriesEntry,
    lesson: &LessonEntry,
    content: &crate::domain::lesson::LessonContent,
) -> LessonDetail {
    let media = |name: &str| format!("/media/{}/{}/{}", series.slug, lesson.slug, name);
    let mut detail = LessonDetail {
        lesson: lesson_summary(series, lesson),
        series_slug: series.slug.clone(),
        panels: None,
        video: None,
        article_html: None,
        article_audio: None,
        family_message: LocalizedText {
            zh: content.family.or_summary(&lesson.summary, Lang::Zh),
            en: content.family.or_summary(&lesson.summary, Lang::En),
        },
        family_audio: audio_dto(&content.family.audio, &media),
        quiz: content.quiz.as_ref().map(|quiz| QuizDto {
            pass_mark: quiz.pass_mark,
            questions: quiz
                .questions
                .iter()
                .map(|q| QuestionDto {
                    id: q.id.clone(),
                    kind: match q.kind {
                        QuestionKind::Single => "single".into(),
                        QuestionKind::Multiple => "multiple".into(),
                    },
                    prompt: (&q.prompt).into(),
                    choices: q
                        .choices
                        .iter()
                        .map(|c| ChoiceDto {
                            id: c.id.clone(),
                            text: (&c.text).into(),
                        })
                        .collect(),
                    audio: audio_dto(&q.audio, &media),
                })
                .collect(),
        }),
    };
    match &content.body {
        LessonBody::Comic { panels } => {
            detail.panels = Some(
                panels
                    .iter()
                    .map(|p| PanelDto {
                        image_url: media(&p.image),
                        width: p.width,
                        height: p.height,
                        caption: (&p.caption).into(),
                        alt: (&p.alt).into(),
                        audio: audio_dto(&p.audio, &media),
                    })
                    .collect(),
            )
        }
        LessonBody::Video(v) => {
            detail.video = Some(VideoDto {
                video_url: media(&v.file),
                poster_url: media(&v.poster),
                duration_seconds: v.duration_seconds,
                captions_zh_url: media(&v.captions.zh),
                captions_en_url: media(&v.captions.en),
                transcript: (&v.transcript).into(),
            })
        }
        LessonBody::Article { html, audio, .. } => {
            detail.article_html = Some(html.into());
            detail.article_audio = (!audio.is_empty()).then(|| ArticleAudioDto {
                zh_urls: audio.zh.iter().map(|name| media(name)).collect(),
                en_urls: audio.en.iter().map(|name| media(name)).collect(),
            });
        }
    }
    detail
}
